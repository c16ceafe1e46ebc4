"""Where do the synopses' words sit in their documents, and how far do extractive rules get? No training.

    python benchmarks/text_summary_baselines.py [--seeds 0,1,2] [--split validation|test] [--pairs 0]
        [recipe flags: --data, --limit, --max-words, ...]

For each seed (the recipe's split, data and N of Lead-N): the share of the reference synopses' words (as ROUGE sees
them) that occur in the document, how many of those are stop words, where in the document each such word first
occurs (word position) and whether it is in the first sentence; then one row per extractive rule, scored as the
recipe scores its rows (ROUGE-1/2/L F1, perplexity under the trigram model of the validation synopses, first-word
copies, words): Lead-N, the first clause, and the first N (and 10) content words of the document
(`data.summaries.content_lead`, the target the generator is pretrained on), also spelled as the model's vocabulary
spells words (punctuation stripped: "fdlock" for "fd-lock"; what summaries were before `TextLatent`'s
`document_spelling`). `--split validation` (default) is what
choices may be made on; `--split test` gives the rows of the recipe's table (its first `--evaluate` test pairs).
`--leads 6,7` adds Lead-6 and Lead-7 whatever N is.

Then the pretraining targets (`data.summaries.PSEUDO_TARGETS`, the recipe's `--pseudo-target`) against the real
synopses, on the first 2,000 training documents (no reference read, so choices may be made on it): words, the share
of words that are stop words, the shares of targets that hold a stop word, that hold "for" and that end on a stop
word, the perplexity under the recipe's trigram model of the validation synopses, and first-word copies; beside them
the critic's pool of real synopses (its first 2,000) and Lead-N of the same documents.
"""

import argparse
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # noqa: E402

from keras_ae.data.summaries import PSEUDO_TARGETS, content_lead, pseudo_target  # noqa: E402
from keras_ae.evaluation.summaries import (  # noqa: E402
    SummaryLanguageModel, first_clause, first_words_share, lead, mean_length, summary_row, words,
)
from keras_ae.layers.encoders.gru_sentence_encoder import STRIP_PUNCTUATION  # noqa: E402
from keras_ae.recipes import text_summary  # noqa: E402
from keras_ae.recipes.common import format_table, parse_flags  # noqa: E402

BINS = ((0, 5), (5, 10), (10, 20), (20, 40), (40, None))
TARGET_DOCUMENTS = 2000


def placement(documents, references):
    """Where the references' words sit in their documents: `{"in document": share of reference words found in the
    document, "stop words": share of reference words that are stop words, "in first sentence": share of the found
    words whose document's first sentence has them, "at words A-B": share of the found words first occurring at
    word positions [A, B)}`."""
    found = total = stop = in_first = 0
    positions = []
    for document, reference in zip(documents, references):
        document_words = words(document)
        first = set(words(first_sentence(document)))
        for word in words(reference):
            total += 1
            stop += word in ENGLISH_STOP_WORDS
            if word in document_words:
                found += 1
                positions.append(document_words.index(word))
                in_first += word in first
    positions = np.array(positions)
    row = {"in document": found / max(total, 1), "stop words": stop / max(total, 1),
           "in first sentence": in_first / max(found, 1)}
    for low, high in BINS:
        inside = (positions >= low) & (positions < (high if high is not None else np.inf))
        row[f"at words {low}-{high if high is not None else ''}"] = float(inside.mean()) if len(positions) else 0.0
    return row


def first_sentence(document):
    """The document's first sentence (up to the first `.`, `!` or `?` followed by a space)."""
    return re.split(r"(?<=[.!?])\s", document.strip(), maxsplit=1)[0]


def vocabulary_spelling(text):
    """`text`'s words as the model's vocabulary holds them: punctuation stripped inside each word ("fd-lock" ->
    "fdlock"), words left empty dropped."""
    return " ".join(word for word in (re.sub(STRIP_PUNCTUATION, "", token) for token in text.split()) if word)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--split", choices=("validation", "test"), default="validation")
    parser.add_argument("--pairs", type=int, default=0, help="pairs scored (0: the recipe's --evaluate for test, "
                                                             "all validation pairs)")
    parser.add_argument("--leads", default="", help="comma-separated K: also score Lead-K (e.g. 6,7: how much of a "
                                                    "seed's margin over Lead-N is N)")
    args, recipe_argv = parser.parse_known_args(argv)
    placements, rows, targets = {}, {}, {}
    for seed in (int(s) for s in args.seeds.split(",")):
        flags = parse_flags(text_summary.build_parser(), [*recipe_argv, "--seed", str(seed)])
        data, _, lm_source, n = text_summary.prepare_data(flags)
        documents, references = data.validation if args.split == "validation" else data.test
        if references is None:
            parser.error("the data has no reference summaries")
        count = args.pairs or (flags.evaluate if args.split == "test" else len(documents)) or len(documents)
        documents, references = documents[:count], references[:count]
        placements[f"seed {seed}"] = placement(documents, references)
        lm = SummaryLanguageModel(lm_source)
        for name, predictions in ((f"Lead-{n}", lead(documents, n)), ("first clause", first_clause(documents)),
                                  (f"first N={n} content words", [content_lead(d, n) for d in documents]),
                                  ("first 10 content words", [content_lead(d, 10) for d in documents]),
                                  (f"first N={n} content words, vocabulary spelling",
                                   [vocabulary_spelling(content_lead(d, n)) for d in documents])):
            rows[f"seed {seed}: {name}"] = summary_row(documents, predictions, references, lm)
        for target in PSEUDO_TARGETS[1:]:
            rows[f"seed {seed}: pretraining target {target}"] = summary_row(
                documents, [pseudo_target(d, n, target) for d in documents], references, lm)
        targets.update(target_rows(seed, data, lm, n))
        for k in (int(k) for k in args.leads.split(",") if k):
            rows[f"seed {seed}: Lead-{k}"] = summary_row(documents, lead(documents, k), references, lm)
        print(f"seed {seed}: {len(documents)} {args.split} pairs, Lead-{n}", flush=True)
    print(format_table(placements, list(next(iter(placements.values())))))
    print(format_table(rows, ["rouge1", "rouge2", "rougeL", "perplexity", "first_words", "words"]))
    print(f"the first {TARGET_DOCUMENTS} training documents' pretraining targets (no reference read)")
    print(format_table(targets, ["words", "stop_share", "stop_word", "for", "ends_stop_word", "perplexity",
                                 "first_words"]))
    return placements, rows, targets


def target_rows(seed, data, lm, n):
    """Rows of the pretraining targets of the first `TARGET_DOCUMENTS` training documents, of their Lead-N and of the
    pool's first `TARGET_DOCUMENTS` real synopses: words, stop words (share of words; shares of texts holding one,
    holding "for", ending on one), perplexity under `lm`, first-word copies."""
    documents = data.train_documents[:TARGET_DOCUMENTS]
    texts = {"real synopses (pool)": data.real_summaries[:TARGET_DOCUMENTS], f"Lead-{n}": lead(documents, n),
             **{f"target {target}": [pseudo_target(d, n, target) for d in documents] for target in PSEUDO_TARGETS}}
    rows = {}
    for name, predictions in texts.items():
        tokens = [words(text) for text in predictions]
        flat = [word for text in tokens for word in text]
        rows[f"seed {seed}: {name}"] = {
            "words": mean_length(predictions), "stop_share": float(np.mean([w in ENGLISH_STOP_WORDS for w in flat])),
            "stop_word": float(np.mean([bool(set(t) & ENGLISH_STOP_WORDS) for t in tokens])),
            "for": float(np.mean(["for" in t for t in tokens])),
            "ends_stop_word": float(np.mean([bool(t) and t[-1] in ENGLISH_STOP_WORDS for t in tokens])),
            "perplexity": lm.perplexity(predictions),
            "first_words": None if name.startswith("real") else first_words_share(documents, predictions)}
    return rows


if __name__ == "__main__":
    main()
