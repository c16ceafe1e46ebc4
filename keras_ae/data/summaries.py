"""Documents and summaries for text as the latent: training documents, a disjoint pool of real summaries for the
discriminator, and validation / test pairs used for evaluation only.

Example:
    data = load_summary_data(source)         # "debian" (the default), or a .jsonl file (and summaries="FILE.txt")
    vocabulary = build_vocabulary(data.train_documents + data.real_summaries, size=6000)
    unpaired = make_unpaired_dataset(data.train_documents, data.real_summaries, batch_size=64, shuffle=True)
    pseudo_documents, pseudo_targets = pseudo_pairs(data.train_documents, length=6, seed=0)

Protocol (fixed, never tuned on test):
- Debian (default): Debian's English package descriptions (`keras_ae.data.debian_packages`), split by source
  package into train / validation / test (80 / 10 / 10, seed 0). The training source packages are split again, by
  source, into two halves: the long descriptions of one half are the training documents, the synopses of the other
  half are the real summaries the discriminator sees. So training never pairs a document with its own summary, and
  no summary of the pool belongs to a package whose description is trained on. `train_summaries` (the documents'
  own synopses) are used by the supervised ceiling only.
- A user JSONL file: records `{"document": ..., "summary": ...}` (summary optional). Records are assigned to splits
  by a seeded permutation (80 / 10 / 10); records with a summary fill validation and test first, up to a tenth of the
  records each (without any summary, a tenth of all records each, for readability only). The training records are
  halved as above unless `summaries` (a text file of real summaries, one a
  line, unpaired) is given, which then is the pool and every training record's document is trained on.
- Documents are whitespace-normalised; documents longer than `max_words` words keep their first `max_words` (the
  count is in `SummaryData.truncated`).
"""

import collections
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import tensorflow as tf
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from keras_ae.data.text import build_vocabulary  # noqa: F401  (the summary models' vocabulary comes from here)

MIN_SUMMARIES = 50  # fewer real summaries cannot train a discriminator
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


@dataclasses.dataclass
class SummaryData:
    """Training documents (and their own summaries, for the supervised ceiling only), the unpaired pool of real
    summaries, and validation / test pairs `(documents, summaries)` (`(documents, None)` when no record has a
    summary: those documents are then scored for readability only)."""

    name: str
    train_documents: list
    train_summaries: list
    real_summaries: list
    validation: tuple
    test: tuple
    truncated: int = 0

    @property
    def has_pairs(self):
        """Whether the test documents come with reference summaries (otherwise `test` is `(documents, None)`)."""
        return self.test[1] is not None


def normalize(text):
    """Collapses whitespace (paragraph breaks included) to single spaces."""
    return re.sub(r"\s+", " ", str(text)).strip()


def truncate_words(texts, max_words):
    """`(texts, count)`: every text cut to its first `max_words` words, and how many were longer."""
    out, count = [], 0
    for text in texts:
        words = text.split(" ")
        if len(words) > max_words:
            count += 1
            text = " ".join(words[:max_words])
        out.append(text)
    return out, count


# ----------------------------------------------------------------------------------------------------------------
# Loading


def load_summary_data(source="debian", summaries=None, max_words=60, seed=0, limit=None):
    """Documents, real summaries and evaluation pairs (see the module doc) from `"debian"` or a `.jsonl` file, with
    an optional `summaries` text file of real summaries. Raises a `ValueError` naming the problem and the fix for an
    empty file, bytes that are not UTF-8, a record without `document`, or too few real summaries."""
    if max_words < 1:
        raise ValueError(f"max_words must be positive; got {max_words}.")
    pool = read_summaries(summaries) if summaries is not None else None
    if source == "debian":
        if pool is not None:
            raise ValueError("--summaries replaces the pool of a --data FILE.jsonl; the Debian default has its own "
                             "pool of synopses. Give --data FILE.jsonl with it, or drop --summaries.")
        data = _debian(seed, limit)
    else:
        data = _user_data(Path(source), pool, seed, limit)
    data.train_documents, truncated = truncate_words(data.train_documents, max_words)
    for split in ("validation", "test"):
        documents, references = getattr(data, split)
        documents, count = truncate_words(documents, max_words)
        truncated += count
        setattr(data, split, (documents, references))
    data.truncated = truncated
    if len(data.real_summaries) < MIN_SUMMARIES:
        raise ValueError(
            f"{data.name}: only {len(data.real_summaries)} real summaries for the discriminator; it needs at least "
            f"{MIN_SUMMARIES}. Give more records with a 'summary' or a --summaries FILE.txt of real summaries."
        )
    if not data.train_documents:
        raise ValueError(f"{data.name}: no training documents; give more records.")
    return data


def _debian(seed, limit):
    from keras_ae.data.debian_packages import package_descriptions, split_by_source

    records = [r for r in package_descriptions() if normalize(r.description) and normalize(r.synopsis)]
    splits = split_by_source(records, fractions=SPLIT_FRACTIONS, seed=seed)
    train = splits["train"]
    sources = sorted({record.source for record in train})
    rng = np.random.default_rng(seed + 1)
    pool_sources = set(rng.permutation(sources)[: len(sources) // 2].tolist())
    documents = [r for r in train if r.source not in pool_sources]
    pool = [normalize(r.synopsis) for r in train if r.source in pool_sources]
    if limit:
        documents = documents[:limit]
    pairs = lambda rs: ([normalize(r.description) for r in rs], [normalize(r.synopsis) for r in rs])  # noqa: E731
    return SummaryData(
        name="debian", train_documents=pairs(documents)[0], train_summaries=pairs(documents)[1],
        real_summaries=pool, validation=pairs(splits["validation"]), test=pairs(splits["test"]),
    )


def read_summaries(path):
    """Real summaries, one a non-empty line, from a UTF-8 text file."""
    lines = _read_lines(Path(path), "--summaries")
    summaries = [normalize(line) for line in lines if line.strip()]
    if not summaries:
        raise ValueError(f"{path}: no summaries (every line is blank); give one real summary a line.")
    return summaries


def read_records(path):
    """`[(document, summary or None)]` from a JSONL file of `{"document": ..., "summary": ...}` records."""
    records = []
    for number, line in enumerate(_read_lines(path, "--data"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: not a JSON record ({error.msg}); write one JSON object a line.") from None
        if not isinstance(record, dict) or not isinstance(record.get("document"), str):
            raise ValueError(
                f'{path}:{number}: a record needs a "document" string, e.g. {{"document": "...", "summary": "..."}}.'
            )
        summary = record.get("summary")
        if summary is not None and not isinstance(summary, str):
            raise ValueError(f'{path}:{number}: "summary" must be a string (or left out).')
        document = normalize(record["document"])
        if not document:
            raise ValueError(f'{path}:{number}: the "document" is empty; drop the record or fill it in.')
        records.append((document, normalize(summary) if summary and summary.strip() else None))
    if not records:
        raise ValueError(f"{path}: no records (the file is blank); write one JSON record a line.")
    return records


def _read_lines(path, flag):
    if not path.is_file():
        raise FileNotFoundError(f"{flag} {path}: no such file.")
    data = path.read_bytes()
    if not data.strip():
        raise ValueError(f"{flag} {path}: the file is empty; give a file with content.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ValueError(f"{flag} {path}:{line}: bytes that are not UTF-8; re-encode the file as UTF-8 (e.g. with "
                         "iconv).") from None
    return text.splitlines()


def _user_data(path, pool, seed, limit):
    if path.suffix != ".jsonl":
        raise ValueError(f"--data {path}: expected 'debian' or a .jsonl file of {{\"document\", \"summary\"}} records.")
    records = read_records(path)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(records))
    paired = [i for i in order if records[i][1] is not None]
    held = max(1, len(records) // 10)
    candidates = paired if paired else list(order)  # without summaries, held-out documents are scored for readability
    validation, test = candidates[:held], candidates[held : 2 * held]
    used = set(validation) | set(test)
    train = [i for i in order if i not in used]
    if pool is None:  # halve the training records: documents of one half, summaries of the other
        with_summary = [i for i in train if records[i][1] is not None]
        pool_index = set(with_summary[: len(with_summary) // 2])
        pool = [records[i][1] for i in sorted(pool_index)]
        train = [i for i in train if i not in pool_index]
    if limit:
        train = train[:limit]
    def pairs(index):
        summaries = [records[i][1] for i in index]
        return [records[i][0] for i in index], summaries if all(s is not None for s in summaries) else None

    return SummaryData(
        name=path.name, train_documents=pairs(train)[0], train_summaries=pairs(train)[1] or [], real_summaries=pool,
        validation=pairs(validation), test=pairs(test),
    )


# ----------------------------------------------------------------------------------------------------------------
# Pseudo pairs for pretraining, and tf.data pipelines


PSEUDO_TARGETS = ("content", "connective")
# The stop words that join phrases in Debian's synopses ("library for X", "X and Y", "tool to manage X"): each is in
# 1.7% to 41% of the pool's synopses ("for": 41%); the other stop words (articles, pronouns, auxiliaries) in at most
# 9% ("the"), mostly under 1%.
CONNECTIVES = frozenset({"for", "and", "to", "of", "in", "with", "from", "on"})


def content_words(text):
    """The words of `text` (lower-cased, punctuation stripped) that are not English stop words."""
    return [word for word in _words(text) if word not in ENGLISH_STOP_WORDS]


def _words(text):
    return re.findall(r"[\w+\-.]*\w", text.lower())


def content_lead(document, length, skip=frozenset()):
    """The first `length` content words of `document` (stop words dropped, order kept) that are not in `skip`: the
    pseudo pairs' target `"content"` (the default until session 22), and an extractive baseline of its own (e.g. "This
    is the parser for the YAML files.", 3: "parser yaml files")."""
    return " ".join([word for word in content_words(document) if word not in skip][:length])


def connective_lead(document, length, skip=frozenset()):
    """The first `length` words of `document` with its stop words dropped except the `CONNECTIVES` that follow a
    content word (one in a row), the words in `skip` dropped too, and without connectives at the end: a compressed
    lead that keeps "for", "and", "to", ... where the document has them (e.g. "This is the parser for the YAML
    files.", 3: "parser for yaml"; with `skip={"parser"}`: "yaml files")."""
    kept = []
    for word in _words(document):
        if word in skip:
            continue
        if word in ENGLISH_STOP_WORDS and not (word in CONNECTIVES and kept and kept[-1] not in CONNECTIVES):
            continue
        kept.append(word)
        if len(kept) == length:
            break
    while kept and kept[-1] in CONNECTIVES:
        kept.pop()
    return " ".join(kept)


def lead_only_words(documents, summaries, length, ratio=0.5, min_count=20):
    """The words that open `documents` but that real `summaries` rarely use, which a pseudo target should skip.

    A word is lead-only when it is among the documents' leads (`connective_lead` of `3 * length` words) at least
    `min_count` times and the summaries use it at under `ratio` times its rate there ("provides", "contains",
    "package", "allows" in Debian's descriptions against their synopses). Reads no pair: `summaries` is the
    discriminator's unpaired pool. Add-one smoothing on both counts.

    Example:
        skip = lead_only_words(data.train_documents, data.real_summaries, 7)
        pseudo_pairs(data.train_documents, 7, skip=skip)
    """
    if not ratio > 0:
        raise ValueError(f"ratio must be positive; got {ratio}.")
    if not documents or not summaries:
        raise ValueError("lead_only_words needs documents and real summaries to compare their words.")
    leads = collections.Counter(
        word for document in documents for word in connective_lead(document, 3 * length).split())
    used = collections.Counter(word for summary in summaries for word in _words(summary))
    lead_total, used_total = sum(leads.values()) + 1, sum(used.values()) + 1
    return frozenset(word for word, count in leads.items()
                     if count >= min_count and (used[word] + 1) / used_total < ratio * (count + 1) / lead_total)


def pseudo_target(document, length, target="connective", skip=frozenset()):
    """The pretraining target of `document`: its compressed lead with connectives (`"connective"`, `connective_lead`,
    the default) or its first `length` content words (`"content"`, `content_lead`), without the words in `skip`
    (e.g. `lead_only_words`)."""
    if target not in PSEUDO_TARGETS:
        raise ValueError(f"target must be one of {PSEUDO_TARGETS}; got {target!r}.")
    return (content_lead if target == "content" else connective_lead)(document, length, skip)


def pseudo_pairs(documents, length, seed=0, drop=0.1, phrase=3, target="connective", skip=frozenset()):
    """`(noisy_documents, targets)` for pretraining the generator without real pairs: the target is the document's
    `pseudo_target` of `length` words (`target="connective"`, the default since session 23: its first words with the
    stop words dropped except those that join phrases, "parser for yaml", a compressed lead; `"content"`: its first
    `length` content words, every stop word dropped, order kept), both without the words in `skip` (e.g.
    `lead_only_words`: "provides", "contains", words that open documents but not summaries); the input is the
    document with a `drop` share of its words removed and, within each window of `3 * phrase` words, its phrases of
    `phrase` words shuffled (Wang & Lee's noise, meant to make the generator select and order words rather than copy the
    first ones; `phrase=0`: no shuffling; `drop=0`: no word dropped). The defaults keep that noise. On Debian's
    descriptions the clean document (`drop=0, phrase=0`) gives the better pretrained generator (within 1.1 ROUGE-1
    of its own target on validation, seeds 0 to 2), but the worse start for the unpaired stage: the full model beats
    Lead-N by +7.8 / +1.2 / +4.1 ROUGE-1 from the noisy start against +3.6 / +2.6 / +1.5 from the clean one (test
    pairs, seeds 0 / 1 / 2; docs/results/text_summary.md).

    Example:
        pseudo_pairs(["This is the parser for the YAML files."], 3, drop=0.0, phrase=0)
        # (["This is the parser for the YAML files."], ["parser for yaml"])
        pseudo_pairs(["This is the parser for the YAML files."], 3, drop=0.0, phrase=0, target="content")[1]
        # ["parser yaml files"]
    """
    if not 0.0 <= drop < 1.0:
        raise ValueError(f"drop must be in [0, 1); got {drop}.")
    if phrase < 0:
        raise ValueError(f"phrase must be at least 0 (0: no shuffling); got {phrase}.")
    if target not in PSEUDO_TARGETS:
        raise ValueError(f"target must be one of {PSEUDO_TARGETS}; got {target!r}.")
    rng = np.random.default_rng(seed)
    noisy, targets = [], []
    for document in documents:
        words = document.split(" ")
        targets.append(pseudo_target(document, length, target, skip))
        kept = [word for word in words if rng.uniform() >= drop] or words[:1]
        if not phrase:
            noisy.append(" ".join(kept))
            continue
        phrases = [kept[i : i + phrase] for i in range(0, len(kept), phrase)]
        shuffled = []
        for start in range(0, len(phrases), 3):
            window = phrases[start : start + 3]
            shuffled += [window[i] for i in rng.permutation(len(window))]
        noisy.append(" ".join(word for chunk in shuffled for word in chunk))
    return noisy, targets


def make_pair_dataset(documents, targets, batch_size, shuffle=False, seed=0):
    """Batches `{"document": [batch] strings, "target": [batch] strings}` (pseudo or real pairs)."""
    dataset = tf.data.Dataset.from_tensor_slices({"document": list(documents), "target": list(targets)})
    if shuffle:
        dataset = dataset.shuffle(len(documents), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=shuffle).prefetch(tf.data.AUTOTUNE)


def make_unpaired_dataset(documents, summaries, batch_size, shuffle=False, seed=0, pseudo=None):
    """Batches `{"document", "summary"}` where every summary is drawn from the real pool, never the document's own:
    the documents in (shuffled) order, beside the pool shuffled independently and repeated as needed. `pseudo`:
    the documents' `pseudo_pairs` `(noisy, targets)`, added as `"noisy"` and `"target"` (for `pseudo_weight`)."""
    rng = np.random.default_rng(seed)
    repeats = -(-len(documents) // len(summaries))
    pool = np.concatenate([rng.permutation(np.array(summaries, dtype=object)) for _ in range(repeats)])
    pool = [str(s) for s in pool[: len(documents)]]
    records = {"document": list(documents), "summary": pool}
    if pseudo is not None:
        records.update(noisy=list(pseudo[0]), target=list(pseudo[1]))
    dataset = tf.data.Dataset.from_tensor_slices(records)
    if shuffle:
        dataset = dataset.shuffle(len(documents), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=shuffle).prefetch(tf.data.AUTOTUNE)
