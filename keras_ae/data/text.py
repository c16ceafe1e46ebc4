"""Ordered English text: Jane Austen's six novels (default), or the user's `.txt` files, as sentences in reading
order with held-out chapters, book labels and `tf.data` pipelines for Skip-thought and Quick-thought.

Example:
    splits = load_text("austen")                       # or a .txt file, or a folder of .txt files
    vocabulary = build_vocabulary(splits.train.sentences, size=5000)
    triples = make_triple_dataset(splits.train, batch_size=128, shuffle=True)        # Skip-thought
    contiguous = make_contiguous_dataset(splits.train, batch_size=400, shuffle=True)  # Quick-thought

Protocol (fixed, never tuned on test):
- A document is a novel or one user file; its label is its index (which book a sentence comes from).
- Lines are joined into paragraphs (blank lines separate paragraphs), paragraphs are split into sentences
  (`split_sentences`: abbreviations such as Mr., Mrs., Dr., St. and initials do not end a sentence; closing quotes
  stay with their sentence). Headings such as "CHAPTER IV" start a new chapter and are dropped, as is the front
  matter before the first chapter heading.
- Held-out units: the chapters of a document when it has at least 10, otherwise 10 contiguous blocks of its
  sentences. Unit `u` of every document goes to the test split when `u % 10 == 3`, to validation when
  `u % 10 == 7`, to training otherwise. Documents of fewer than `MIN_DOCUMENT_SENTENCES` sentences go to training.
- Neighbours (previous / next sentence) never cross a chapter, a held-out unit or a document: every split carries
  `segments`, and two consecutive sentences are neighbours only when their segment ids are equal.
- `max_length`: sentences longer than `max_length` words keep their first `max_length` words (the count is in
  `TextSplits.truncated`); the models also truncate at their own `max_length` tokens.
- Bytes that are not UTF-8 raise an error naming the file and line, unless `errors="replace"` (U+FFFD replaces them).
"""

import dataclasses
import gzip
import json
import re
import shutil
import struct
import subprocess
import tempfile
import warnings
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.data import keras_ae_home
from keras_ae.data.cache import DamagedCache, cached_folder

AUSTEN_PACKAGE = "r-cran-janeaustenr"
AUSTEN_RDB = "usr/lib/R/site-library/janeaustenr/data/Rdata"
AUSTEN_NOVELS = {  # name in the R package -> title, in publication order
    "sensesensibility": "Sense and Sensibility",
    "prideprejudice": "Pride and Prejudice",
    "mansfieldpark": "Mansfield Park",
    "emma": "Emma",
    "northangerabbey": "Northanger Abbey",
    "persuasion": "Persuasion",
}
HELD_OUT_EVERY = 10
TEST_UNIT = 3
VALIDATION_UNIT = 7
MIN_DOCUMENT_SENTENCES = 30

# Words that end with a period without ending the sentence (compared lower-case, without the period).
ABBREVIATIONS = frozenset(
    """mr mrs ms messrs mme mlle dr st sr jr rev revd hon esq capt col gen lt maj sgt adm cmdr gov pres prof
    mt ft ave rd co corp inc ltd bros vol vols ch chap pp fig figs eds vs viz cf al approx dept
    jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e""".split()
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    "eighteen|nineteen|twenty|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last"
)
_HEADING = re.compile(
    rf"^(chapter|volume|book|part)\s+([0-9]+|[ivxlcdm]+|{_NUMBER_WORDS})\s*([.:\-\u2014]\s*.*)?$", re.IGNORECASE
)
# A candidate boundary: sentence-final punctuation, optional closing quotes or brackets, then whitespace.
_BOUNDARY = re.compile(r"""([.!?]+)(["'\u201d\u2019)\]]*)(\s+)""")
_SENTENCE_START = re.compile(r"""["'\u201c\u2018(\[_]*[A-Z0-9]""")


@dataclasses.dataclass
class Document:
    """One document: its name and its chapters, each a list of sentences in reading order."""

    name: str
    chapters: list


@dataclasses.dataclass
class SentenceSplit:
    """Sentences in reading order, the index of their document (`labels`) and their `segments` (see module doc)."""

    sentences: list
    labels: np.ndarray
    segments: np.ndarray
    sources: np.ndarray = None  # index into `TextSplits.source_names` per sentence (None: one source)
    shards: object = None  # `keras_ae.data.corpus.Shards` when the split is cached as shards (streamed batches)

    def __len__(self):
        return len(self.sentences)

    def neighbour_index(self):
        """Indices `i` whose previous (`i - 1`) and next (`i + 1`) sentences are both neighbours of `i`."""
        same = self.segments[1:] == self.segments[:-1]
        middle = np.nonzero(same[:-1] & same[1:])[0] + 1
        return middle

    def next_pairs(self):
        """Indices `i` whose next sentence `i + 1` is a neighbour."""
        return np.nonzero(self.segments[1:] == self.segments[:-1])[0]

    def triples(self):
        """`(previous, sentence, next)` lists of strings for every sentence with both neighbours."""
        middle = self.neighbour_index()
        pick = lambda index: [self.sentences[i] for i in index]  # noqa: E731
        return pick(middle - 1), pick(middle), pick(middle + 1)

    def positions(self):
        """Running positions that grow by exactly 1 between neighbours and by 2 across a segment boundary."""
        breaks = np.concatenate([[0], (self.segments[1:] != self.segments[:-1]).astype("int64")])
        return np.arange(len(self.sentences), dtype="int64") + np.cumsum(breaks)


@dataclasses.dataclass
class TextSplits:
    name: str
    train: SentenceSplit
    validation: SentenceSplit
    test: SentenceSplit
    document_names: list
    truncated: int = 0
    source_names: list = None  # the corpora the documents come from (`keras_ae.data.corpus`), None: one source
    topics: list = None  # a topic per document (a package description's Debian section), None where there is none

    @property
    def num_documents(self):
        return len(self.document_names)


# ----------------------------------------------------------------------------------------------------------------
# Sentences and paragraphs


def paragraphs_from_lines(lines):
    """Joins lines into paragraphs (blank lines separate them); inner whitespace is collapsed."""
    paragraphs, current = [], []
    for line in lines:
        line = str(line).strip()
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return [re.sub(r"\s+", " ", paragraph) for paragraph in paragraphs]


def split_sentences(text):
    """Splits a paragraph into sentences.

    A sentence ends at `.`, `!` or `?` (closing quotes and brackets stay with it) followed by whitespace and a
    capital, a digit or an opening quote; it does not end after an abbreviation (`Mr.`, `Mrs.`, `Dr.`, `St.`,
    `etc.`, ... see `ABBREVIATIONS`) or a single-letter initial (`J. Smith`).

    Example:
        split_sentences('"Is he married?" asked Mrs. Bennet. "Oh! Single, my dear."')
        # ['"Is he married?" asked Mrs. Bennet.', '"Oh!', 'Single, my dear."']
    """
    text = re.sub(r"\s+", " ", str(text)).strip()
    if not text:
        return []
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(text):
        end = match.end(2)
        rest = text[match.end() :]
        if not _SENTENCE_START.match(rest):
            continue
        if match.group(1) == "." and _is_abbreviation(text[start : match.start(1)]):
            continue
        sentences.append(text[start:end].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return [sentence for sentence in sentences if _has_word(sentence)]


def _is_heading(paragraph):
    return len(paragraph) < 80 and _HEADING.match(paragraph) is not None


def _is_abbreviation(before):
    words = re.split(r"[\s\-\u2013\u2014\"'(\u201c\u2018\[_]+", before)
    word = words[-1].lower() if words else ""
    if not word:
        return False
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _has_word(sentence):
    return any(character.isalnum() for character in sentence)


def _clean(paragraph):
    # Underscores mark italics in the Project Gutenberg texts (_may_); drop them.
    return re.sub(r"(?<!\w)_+|_+(?!\w)", "", paragraph)


def document_from_lines(name, lines):
    """A `Document` from lines of text: paragraphs, chapter headings (dropped, front matter too) and sentences."""
    paragraphs = paragraphs_from_lines(lines)
    has_headings = any(_is_heading(paragraph) for paragraph in paragraphs)
    chapters, current, started = [], [], not has_headings
    for paragraph in paragraphs:
        if _is_heading(paragraph):
            if current:
                chapters.append(current)
            current, started = [], True
            continue
        if started:
            current.extend(split_sentences(_clean(paragraph)))
    if current:
        chapters.append(current)
    return Document(name=name, chapters=chapters)


# ----------------------------------------------------------------------------------------------------------------
# Sources


def read_text_file(path, errors="strict"):
    """The lines of a text file decoded as UTF-8 (a BOM is dropped).

    With `errors="strict"` bytes that are not UTF-8 raise a `UnicodeDecodeError`-based `ValueError` naming the file
    and line; with `errors="replace"` they become U+FFFD.
    """
    if errors not in ("strict", "replace"):
        raise ValueError(f"errors must be 'strict' or 'replace'; got {errors!r}.")
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig", errors=errors)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{path}, line {line}: bytes {data[error.start:error.end]!r} are not UTF-8. Convert the file to UTF-8 "
            "(e.g. iconv -f latin1 -t utf-8), or pass errors='replace' (--text-errors replace) to replace them."
        ) from None
    return text.splitlines()


def text_files(source):
    """The `.txt` files of `source` (a file, or a folder searched recursively), in sorted path order."""
    path = Path(source)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".txt")
        if not files:
            raise ValueError(f"{path} holds no .txt files; give a folder of UTF-8 .txt files (one document per file).")
        return files
    raise FileNotFoundError(f"No text at {path}: pass 'austen', a .txt file or a folder of .txt files.")


def read_documents(source="austen", errors="strict"):
    """The documents of `source`: `"austen"` (the six novels) or a `.txt` file / folder (one document per file)."""
    if source == "austen":
        return [document_from_lines(title, lines) for title, lines in austen_novels().items()]
    files = text_files(source)
    root = Path(source) if Path(source).is_dir() else Path(source).parent
    return [document_from_lines(str(f.relative_to(root)), read_text_file(f, errors=errors)) for f in files]


def austen_novels():
    """`{title: lines}` of Jane Austen's six novels, fetched from Debian's `r-cran-janeaustenr` and cached."""

    def build(staging):
        with gzip.open(staging / "novels.json.gz", "wt", encoding="utf-8") as file:
            json.dump(_fetch_austen(), file)

    def read(folder):
        try:
            with gzip.open(folder / "novels.json.gz", "rt", encoding="utf-8") as file:
                novels = json.load(file)
        except FileNotFoundError:
            raise DamagedCache("novels.json.gz is missing") from None
        except (OSError, EOFError, ValueError) as error:
            raise DamagedCache(f"novels.json.gz does not parse: {error}") from None
        if not (isinstance(novels, dict) and novels and all(isinstance(v, list) for v in novels.values())):
            raise DamagedCache("novels.json.gz is not a {title: lines} mapping")
        return novels

    return cached_folder(keras_ae_home() / "text" / "janeausten", "Austen corpus cache", build, read)


def _fetch_austen():
    try:
        import rdata  # noqa: F401  (checked here for a clear message)
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "Reading the Austen novels needs the rdata package. Install it with: pip install 'rdata>=0.11' "
            "(or pip install -e '.[data]')"
        ) from None
    from tqdm.auto import tqdm

    installed = Path("/") / AUSTEN_RDB
    with tempfile.TemporaryDirectory(prefix="keras_ae-austen-") as workdir, tqdm(
        total=2 + len(AUSTEN_NOVELS), desc="Jane Austen novels", unit="step"
    ) as progress:
        if installed.with_suffix(".rdb").exists():
            base = installed
            progress.update(2)
        else:
            deb = _download_deb(Path(workdir))
            progress.update(1)
            subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(workdir) / "root")], check=True, capture_output=True)
            base = Path(workdir) / "root" / AUSTEN_RDB
            progress.update(1)
        novels = {}
        for name, title in AUSTEN_NOVELS.items():
            lines = read_rdb_object(base, name, AUSTEN_PACKAGE)
            novels[title] = ["" if line is None else str(line) for line in lines]
            progress.update(1)
    return novels


def read_rdb_object(base, name, package):
    """Object `name` of an R lazy-load database (`base.rdb` with its index `base.rdx`, see DATA.md), converted by
    `rdata`; a damaged chunk raises an error naming `package`."""
    import rdata

    index = rdata.conversion.convert(
        rdata.parser.parse_data(gzip.decompress(base.with_suffix(".rdx").read_bytes()), extension=".rds")
    )
    offset, length = (int(v) for v in index["variables"][name])
    with open(base.with_suffix(".rdb"), "rb") as file:
        file.seek(offset)
        chunk = file.read(length)
    (size,) = struct.unpack(">I", chunk[:4])
    raw = zlib.decompress(chunk[4:])
    if len(raw) != size:
        raise ValueError(f"{package}: object {name} is damaged ({len(raw)} bytes, expected {size}).")
    return rdata.conversion.convert(rdata.parser.parse_data(raw, extension=".rds"))


def _download_deb(workdir, package=AUSTEN_PACKAGE):
    """The `.deb` of Debian `package`: one the user put in the cache's `text/` folder, or `apt-get download`."""
    cached = sorted((keras_ae_home() / "text").glob(f"{package}_*.deb"))
    if cached:
        return cached[-1]
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise RuntimeError(
            f"This corpus comes from Debian's {package} package, which needs apt-get and dpkg-deb. Download "
            f"{package}_*.deb by hand into {keras_ae_home() / 'text'}, or pass your own .txt files with --data."
        )
    result = subprocess.run(["apt-get", "download", package], cwd=workdir, capture_output=True, text=True)
    debs = sorted(workdir.glob(f"{package}_*.deb"))
    if result.returncode != 0 or not debs:
        raise RuntimeError(
            f"Could not download Debian's {package}: {result.stderr.strip()[-300:]}\n"
            f"Refresh the package lists and retry: sudo apt-get update && apt-get download {package}\n"
            f"(run it in {keras_ae_home() / 'text'} to keep the .deb there), or pass your own .txt files with --data."
        )
    return debs[-1]


# ----------------------------------------------------------------------------------------------------------------
# Splits


def load_text(source="austen", max_length=None, errors="strict", limit=None):
    """Loads `source` as `TextSplits` (see the module docstring for the protocol).

    Args:
        source: `"austen"` (default), a UTF-8 `.txt` file, or a folder of them (one document per file, sorted).
        max_length: truncate sentences to their first `max_length` words (None: keep them whole).
        errors: `"strict"` (non-UTF-8 bytes raise an error naming file and line) or `"replace"`.
        limit: keep at most this many sentences of each document (its beginning), for quick runs.
    """
    return split_documents(str(source), read_documents(source, errors=errors), max_length=max_length, limit=limit)


def split_documents(name, documents, max_length=None, limit=None, sources=None, source_names=None, held_out=None):
    """`TextSplits` of `documents` (a list of `Document`) by the protocol of the module docstring.

    Args:
        sources: the source index of each document (into `source_names`), carried per sentence as `sources`.
        held_out: the split (`"train"`, `"validation"`, `"test"`) of each document, for corpora held out by whole
            documents; None holds out chapters (or blocks) of every document.
    """
    truncated = 0
    if max_length is not None:
        if max_length < 1:
            raise ValueError(f"max_length must be positive; got {max_length}.")
        documents, truncated = _truncate(documents, max_length)
        if truncated:
            warnings.warn(f"{name}: truncated {truncated} sentences to their first {max_length} words.")
    if limit:
        documents = [_head(document, limit) for document in documents]
    total = sum(len(chapter) for document in documents for chapter in document.chapters)
    if total == 0:
        raise ValueError(f"{name}: the corpus is empty (no sentences found); give ordered text with sentences.")
    if total < 3:
        raise ValueError(
            f"{name}: the corpus has only {total} sentence(s); Skip-thought and Quick-thought learn from "
            f"neighbouring sentences and need at least {MIN_DOCUMENT_SENTENCES} in one document."
        )
    parts = {"train": ([], [], [], []), "validation": ([], [], [], []), "test": ([], [], [], [])}
    segment = 0
    for label, document in enumerate(documents):
        units = (
            ((held_out[label], chapter) for chapter in document.chapters) if held_out else _held_out_units(document)
        )
        for split, sentences in units:
            if sentences:
                part = parts[split]
                part[0].extend(sentences)
                part[1].extend([label] * len(sentences))
                part[2].extend([segment] * len(sentences))
                part[3].extend([0 if sources is None else sources[label]] * len(sentences))
                segment += 1
    for split in ("test", "validation"):
        if not parts[split][0]:
            raise ValueError(
                f"{name}: {total} sentences are too few to hold out a {split} split; give at least one document of "
                f"{MIN_DOCUMENT_SENTENCES} sentences or more."
            )
    splits = {
        split: SentenceSplit(
            sentences, *(np.asarray(values, dtype="int64") for values in (labels, segments, origins))
        )
        for split, (sentences, labels, segments, origins) in parts.items()
    }
    return TextSplits(
        name=name, document_names=[document.name for document in documents], truncated=truncated,
        source_names=source_names, **splits,
    )


def _held_out_units(document):
    """Yields `(split, sentences)` per segment of the document: a chapter, or a chapter's part within a block."""
    total = sum(len(chapter) for chapter in document.chapters)
    if total < MIN_DOCUMENT_SENTENCES:
        for chapter in document.chapters:
            yield "train", chapter
        return
    if len(document.chapters) >= HELD_OUT_EVERY:
        for unit, chapter in enumerate(document.chapters):
            yield _unit_split(unit), chapter
        return
    # Fewer than 10 chapters: 10 contiguous blocks of sentences; segments break at block and chapter boundaries.
    bounds = np.linspace(0, total, HELD_OUT_EVERY + 1).round().astype(int)
    position = 0
    for chapter in document.chapters:
        start = 0
        while start < len(chapter):
            unit = int(np.searchsorted(bounds, position + start, side="right")) - 1
            stop = min(len(chapter), bounds[unit + 1] - position)
            yield _unit_split(unit), chapter[start:stop]
            start = stop
        position += len(chapter)


def _unit_split(unit):
    slot = unit % HELD_OUT_EVERY
    return "test" if slot == TEST_UNIT else "validation" if slot == VALIDATION_UNIT else "train"


def _truncate(documents, max_length):
    count, result = 0, []
    for document in documents:
        chapters = []
        for chapter in document.chapters:
            kept = []
            for sentence in chapter:
                words = sentence.split()
                if len(words) > max_length:
                    count += 1
                    sentence = " ".join(words[:max_length])
                kept.append(sentence)
            chapters.append(kept)
        result.append(Document(document.name, chapters))
    return result, count


def _head(document, limit):
    chapters, left = [], limit
    for chapter in document.chapters:
        if left <= 0:
            break
        chapters.append(chapter[:left])
        left -= len(chapters[-1])
    return Document(document.name, chapters)


# ----------------------------------------------------------------------------------------------------------------
# Vocabulary and pipelines


def build_vocabulary(sentences, size=5000, standardize="lower_and_strip_punctuation"):
    """The `size` most frequent tokens of `sentences` (without the padding and OOV tokens), most frequent first,
    as the models' `TextVectorization` layers see them."""
    if size < 1:
        raise ValueError(f"Vocabulary size must be positive; got {size}.")
    import keras

    vectorizer = keras.layers.TextVectorization(max_tokens=size + 2, standardize=standardize)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(list(sentences)).batch(1024))
    vocabulary = [token for token in vectorizer.get_vocabulary()[2:] if token]
    if not vocabulary:
        raise ValueError("The training sentences hold no words; cannot build a vocabulary.")
    return vocabulary


def build_wordpiece_vocabulary(sentences, size=8000, max_sentences=30000, min_count=10):
    """A WordPiece vocabulary of about `size` subwords learned from `sentences` (an even spread of at most
    `max_sentences` of them) by TensorFlow Text's learner (`bert_vocab_from_dataset`), on the text the encoder's
    `tokenizer="wordpiece"` splits (lower case, punctuation stripped); without the padding and OOV tokens.
    `min_count`: the lowest count in the sample of a word or piece the learner keeps (its `lower_thresh`); it caps the
    vocabulary whatever `size` asks (10: about 6,400 pieces of `--corpus all`'s 30,000-sentence sample). A larger
    sample (`max_sentences`) counts every word more times, so it keeps rarer words whole at the same `min_count`.

    Example:
        vocabulary = build_wordpiece_vocabulary(splits.train.sentences, size=8000)  # ["the", ..., "##ing", ...]
        encoder = GRUSentenceEncoder(vocabulary, tokenizer="wordpiece")
    """
    if size < 1:
        raise ValueError(f"Vocabulary size must be positive; got {size}.")
    if min_count < 1:
        raise ValueError(f"The learner's min_count must be at least 1; got {min_count}.")
    if max_sentences < 1:
        raise ValueError(f"The learner's sample must hold at least 1 sentence; got max_sentences={max_sentences}.")
    from tensorflow_text.tools.wordpiece_vocab.bert_vocab_from_dataset import bert_vocab_from_dataset

    from keras_ae.layers.encoders.gru_sentence_encoder import standardize_text

    sentences = list(sentences)
    if len(sentences) > max_sentences:
        sentences = [sentences[i] for i in np.linspace(0, len(sentences) - 1, max_sentences).round().astype(int)]
    dataset = tf.data.Dataset.from_tensor_slices(sentences).batch(1024).map(standardize_text)
    reserved = ["[PAD]", "[UNK]"]
    # The learner is pure Python: its input is cut to the 20,000 most frequent words of at most 20 letters, and a
    # vocabulary within 10% of `size` ends its search for a count threshold early.
    learn = {"max_input_tokens": 20000, "max_token_length": 20, "slack_ratio": 0.1, "lower_thresh": min_count}
    vocabulary = bert_vocab_from_dataset(dataset, vocab_size=size + len(reserved), reserved_tokens=reserved,
                                         bert_tokenizer_params={"lower_case": False}, learn_params=learn)
    vocabulary = [token for token in vocabulary if token not in reserved]
    if not vocabulary:
        raise ValueError("The training sentences hold no words; cannot build a vocabulary.")
    return vocabulary


def make_triple_dataset(split, batch_size, shuffle=False, seed=0, drop_remainder=None):
    """Skip-thought batches: `{"previous", "sentence", "next"}` string tensors `[batch]`.

    Training pipelines (`shuffle=True`) drop the last partial batch so that every replica sees the same batch size.
    """
    previous, sentence, following = split.triples()
    if not sentence:
        raise ValueError("No sentence has both a previous and a next neighbour; give longer documents.")
    dataset = tf.data.Dataset.from_tensor_slices({"previous": previous, "sentence": sentence, "next": following})
    return _batched(dataset, len(sentence), batch_size, shuffle, seed, drop_remainder)


def make_contiguous_dataset(split, batch_size, shuffle=False, seed=0, drop_remainder=None, chunk_size=None):
    """Quick-thought batches of contiguous sentences: `{"sentences": [batch] strings, "positions": [batch] int64,
    "documents": [batch] int64}` (`documents`: the split's `labels`, each sentence's document).

    `positions` grow by 1 between neighbouring sentences (see `SentenceSplit.positions`). With `chunk_size=None` a
    batch is one contiguous stretch of the split (the paper's batches); with a `chunk_size` it is made of
    `batch_size / chunk_size` stretches of `chunk_size` contiguous sentences from random places of the split, so the
    candidates also include sentences from other chapters and books. `shuffle=True` visits the stretches in a random
    order each epoch and drops the last partial batch.
    """
    drop_remainder = shuffle if drop_remainder is None else drop_remainder
    if batch_size < 2:
        raise ValueError(f"Quick-thought batches need at least 2 sentences; got batch_size={batch_size}.")
    if drop_remainder and len(split) < batch_size:
        raise ValueError(f"Only {len(split)} sentences for a batch size of {batch_size}: lower --batch-size.")
    chunk_size = chunk_size or batch_size
    if chunk_size < 2 or batch_size % chunk_size:
        raise ValueError(f"chunk_size must be at least 2 and divide batch_size {batch_size}; got {chunk_size}.")
    dataset = tf.data.Dataset.from_tensor_slices(
        {"sentences": split.sentences, "positions": split.positions(), "documents": np.asarray(split.labels, "int64")}
    )
    dataset = dataset.batch(chunk_size, drop_remainder=drop_remainder).cache()
    if shuffle:
        dataset = dataset.shuffle(max(1, len(split) // chunk_size), seed=seed, reshuffle_each_iteration=True)
    if chunk_size != batch_size:
        dataset = dataset.unbatch().batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _batched(dataset, size, batch_size, shuffle, seed, drop_remainder):
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive; got {batch_size}.")
    drop_remainder = shuffle if drop_remainder is None else drop_remainder
    if drop_remainder and size < batch_size:
        raise ValueError(f"Only {size} training examples for a batch size of {batch_size}: lower --batch-size.")
    dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(min(size, 50000), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)
