"""The larger ordered-prose corpus: Austen, more novels, the King James Bible and Debian's package descriptions,
each document labelled with its source, deduplicated, held out by chapters or whole documents, cached once as
sharded TFRecord files and streamed by `tf.data`.

Sources (all offline, from Debian packages; see ../shared/DATA.md):
- `austen`: Jane Austen's six novels (`r-cran-janeaustenr`, `keras_ae.data.text.austen_novels`).
- `novels`: the novels of `r-cran-tidytext` (`extdata/books.rda`: Great Expectations, The War of the Worlds,
  Twenty Thousand Leagues under the Sea; its Pride and Prejudice is Austen's and is dropped as a duplicate) and
  Moby-Dick from `r-cran-tokenizers` (Project Gutenberg header and licence cut off).
- `bible`: the King James Bible (`bible-kjv` + `bible-kjv-text`, printed by its `bible` program), one document per
  book, its chapters as chapters, each verse split into sentences.
- `packages`: the long descriptions of Debian packages (`keras_ae.data.debian_packages`), one document per
  distinct description, held out by whole documents (`split_by_source`: a source package's binaries stay in one
  split); their Debian section is the topic label of `keras_ae.evaluation.sentences.topic_probe`.

Named corpora (`--corpus`): `austen` (the six novels), `books` (austen + novels), `prose` (books + bible: English
prose without the package descriptions' boilerplate), `all` (every source). A path
(a `.txt` file or a folder of them) is read by `keras_ae.data.text.load_text` instead.

Protocol: the other sources hold out chapters (or blocks) as `keras_ae.data.text` does. A document whose
normalised text equals an earlier one's is dropped (`deduplicate`). Each source is cached at
`$KERAS_AE_HOME/text/corpus-v1/<source>/` as `<split>-NNNNN.tfrecord` shards of `SHARD_SENTENCES` sentences in
reading order (fields: `sentence`, `document`, `segment`, `position`) and a `meta.json`, built under a lock in a
staging folder that is swapped into place (`keras_ae.data.cache.cached_folder`), so a killed build leaves no
half-written cache.

Package order (`load_corpus(package_order=...)`, recipe flag `--package-order`): Debian lists packages by name, so
in reading order a stretch of contiguous package sentences holds name neighbours (`libfoo-perl`, `libfoo-xs-perl`,
...) that mostly share their Debian section. `"name"` (the default) streams the training descriptions in that
order; `"shuffled"` streams them in an order drawn once with `PACKAGE_ORDER_SEED` (each description's sentences
stay together and in order; cached apart, at `corpus-v1/packages-shuffled/`). Only the order of the training
shards changes: documents, ids, segments, held-out splits and the in-memory `TextSplits` (reading order, which the
probes, the vocabulary and the validation batches read) are the same whatever the order.

Example:
    corpus = load_corpus(args.corpus)              # "all", "books" or "austen": TextSplits with sources, cached
    triples = triple_batches(corpus.train.shards, batch_size=128, seed=0)      # Skip-thought, streamed
    contiguous = contiguous_batches(corpus.train.shards, batch_size=400, chunk_size=20, seed=0)  # Quick-thought
"""

import dataclasses
import hashlib
import json
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.data import keras_ae_home
from keras_ae.data.cache import DamagedCache, cached_folder
from keras_ae.data.text import (
    Document, _download_deb, austen_novels, document_from_lines, read_rdb_object, split_documents,
)

SOURCES = ("austen", "novels", "bible", "packages")
CORPORA = {"austen": ("austen",), "books": ("austen", "novels"), "prose": ("austen", "novels", "bible"), "all": SOURCES}
SHARD_SENTENCES = 10000
CACHE_VERSION = "corpus-v1"
SPLITS = ("train", "validation", "test")
PACKAGE_ORDERS = ("name", "shuffled")
PACKAGE_ORDER_SEED = 0  # the fixed order of package_order="shuffled"
TIDYTEXT_PACKAGE, TIDYTEXT_BOOKS = "r-cran-tidytext", "usr/lib/R/site-library/tidytext/extdata/books.rda"
TOKENIZERS_PACKAGE, TOKENIZERS_RDB = "r-cran-tokenizers", "usr/lib/R/site-library/tokenizers/data/Rdata"
BIBLE_PACKAGES = ("bible-kjv", "bible-kjv-text")
_BIBLE_HEADING = re.compile(r"^(\S.*) (\d+)$")
_BIBLE_VERSE = re.compile(r"^\s+(\d+) (.*)$")


@dataclasses.dataclass
class SourceCache:
    """One source's cache: its shard files per split, document names, topics (packages) and sizes."""

    source: str
    folder: Path
    meta: dict

    def files(self, split):
        return [str(self.folder / name) for name in self.meta["shards"][split]]


# ----------------------------------------------------------------------------------------------------------------
# Reading the sources


def source_documents(source):
    """`(documents, held_out, topics)` of one source: `Document`s in reading order, the split of each document for
    sources held out by whole documents (else None), and a topic per document (else None)."""
    if source == "austen":
        return [document_from_lines(title, lines) for title, lines in austen_novels().items()], None, None
    if source == "novels":
        return _novels(), None, None
    if source == "bible":
        return _bible(), None, None
    if source == "packages":
        return _packages()
    raise ValueError(f"Unknown source {source!r}: choose from {', '.join(SOURCES)}.")


def _unpacked(package, workdir, member):
    """The path of `member` of Debian `package`: installed, or from its `.deb` unpacked into `workdir`."""
    installed = Path("/") / member
    if installed.exists() or installed.with_suffix(".rdb").exists():
        return installed
    deb = _download_deb(Path(workdir), package=package)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(workdir) / "root")], check=True, capture_output=True)
    return Path(workdir) / "root" / member


def _rdata():
    try:
        import rdata
    except ModuleNotFoundError:
        raise ModuleNotFoundError("Reading Debian's R data packages needs rdata: pip install 'rdata>=0.11'") from None
    return rdata


def _novels():
    import warnings

    rdata = _rdata()
    documents = []
    with tempfile.TemporaryDirectory(prefix="keras_ae-novels-") as workdir:
        with warnings.catch_warnings():  # "Missing constructor for R class tbl_df": read as a data frame
            warnings.simplefilter("ignore")
            books = rdata.read_rda(str(_unpacked(TIDYTEXT_PACKAGE, workdir, TIDYTEXT_BOOKS)))["books"]
        for title in dict.fromkeys(books["title"]):
            lines = ["" if line is None or line != line else str(line) for line in books["text"][books["title"] == title]]
            documents.append(document_from_lines(str(title), lines))
        base = _unpacked(TOKENIZERS_PACKAGE, workdir, TOKENIZERS_RDB)
        text = str(read_rdb_object(base, "mobydick", TOKENIZERS_PACKAGE)[0])
    documents.append(document_from_lines("Moby-Dick", _gutenberg_body(text).splitlines()))
    return documents


def _gutenberg_body(text):
    """The text between Project Gutenberg's `*** START OF ...` and `*** END OF ...` lines (all of it if absent)."""
    start = re.search(r"^\*\*\* ?START OF.*$", text, re.MULTILINE)
    end = re.search(r"^\*\*\* ?END OF.*$", text, re.MULTILINE)
    return text[start.end() if start else 0 : end.start() if end else len(text)]


def _bible():
    with tempfile.TemporaryDirectory(prefix="keras_ae-kjv-") as workdir:
        program = Path("/usr/bin/bible")
        data = Path("/usr/lib/bible.data")
        if not (program.exists() and data.exists()):
            for package in BIBLE_PACKAGES:
                deb = _download_deb(Path(workdir), package=package)
                subprocess.run(["dpkg-deb", "-x", str(deb), str(Path(workdir) / "root")], check=True,
                               capture_output=True)
            program, data = Path(workdir) / "root/usr/bin/bible", Path(workdir) / "root/usr/lib/bible.data"
        result = subprocess.run(
            [str(program), "-p", str(data.parent), "-l1000", "gen1:1-rev22:21"], capture_output=True, text=True,
            check=True,
        )
    return bible_documents(result.stdout.splitlines())


def bible_documents(lines):
    """`Document`s (one per book, its chapters as chapters) of the `bible` program's output (`Book N` headings,
    then `  verse text` lines); each verse is split into sentences."""
    from keras_ae.data.text import split_sentences

    documents, chapter = [], None
    for line in lines:
        verse = _BIBLE_VERSE.match(line)
        if verse and chapter is not None:
            chapter.extend(split_sentences(verse.group(2)))
            continue
        heading = _BIBLE_HEADING.match(line.strip())
        if heading and not line.startswith(" "):
            book = heading.group(1)
            if not documents or documents[-1].name != book:
                documents.append(Document(book, []))
            chapter = []
            documents[-1].chapters.append(chapter)
    return [document for document in documents if any(document.chapters)]


def _packages():
    from keras_ae.data.debian_packages import package_descriptions, split_by_source
    from keras_ae.data.text import paragraphs_from_lines, split_sentences

    records = package_descriptions(progress=True)
    split_of = {}
    for split, members in split_by_source(records).items():
        for record in members:
            split_of[id(record)] = split
    documents, held_out, topics = [], [], []
    for record in records:
        sentences = [s for p in paragraphs_from_lines(record.description.splitlines()) for s in split_sentences(p)]
        if sentences:
            documents.append(Document(record.package, [sentences]))
            held_out.append(split_of[id(record)])
            topics.append(section_topic(record.section))
    return documents, held_out, topics


def section_topic(section):
    """The topic of a Debian section: without its archive area (`contrib/net` -> `net`)."""
    return str(section or "unknown").rsplit("/", 1)[-1]


def deduplicate(documents, *per_document, seen=None):
    """Drops documents whose normalised text (lower case, whitespace collapsed) was seen before (in `seen`, a set
    of digests updated in place, or earlier in `documents`); `per_document` lists are filtered alike."""
    seen = set() if seen is None else seen
    keep = []
    for index, document in enumerate(documents):
        text = " ".join(s for chapter in document.chapters for s in chapter)
        digest = hashlib.sha1(re.sub(r"\s+", " ", text.lower()).strip().encode()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            keep.append(index)
    return ([documents[i] for i in keep], *([values[i] for i in keep] if values is not None else None
                                            for values in per_document))


# ----------------------------------------------------------------------------------------------------------------
# The cache


def source_cache(source, package_order, progress=True):
    """The cache of `source`, built once (`keras_ae.data.cache.cached_folder`: locked, checked, atomic); the
    packages' training shards in `package_order` (`load_corpus`), each order in its own folder."""
    if package_order not in PACKAGE_ORDERS:
        raise ValueError(f"Unknown package order {package_order!r}: choose from {', '.join(PACKAGE_ORDERS)}.")
    shuffled = source == "packages" and package_order == "shuffled"
    folder = keras_ae_home() / "text" / CACHE_VERSION / (f"{source}-shuffled" if shuffled else source)
    meta = cached_folder(folder, f"{folder.name} corpus cache", lambda staging: _build(source, staging, progress,
                                                                                         shuffled), _read_meta)
    return SourceCache(source, folder, meta)


def _read_meta(folder):
    try:
        meta = json.loads((folder / "meta.json").read_text())
        missing = [name for split in SPLITS for name in meta["shards"][split] if not (folder / name).exists()]
    except (OSError, ValueError, KeyError) as error:
        raise DamagedCache(f"meta.json: {type(error).__name__}") from None
    if missing:
        raise DamagedCache(f"missing shards {', '.join(missing[:3])}")
    return meta


def _build(source, staging, progress, shuffled=False):
    from tqdm.auto import tqdm

    print(f"Building the {source}{' (shuffled)' if shuffled else ''} corpus cache (once).")
    documents, held_out, topics = source_documents(source)
    seen = set()
    if source == "novels":  # Pride and Prejudice is in Austen's six too
        deduplicate([document_from_lines(t, lines) for t, lines in austen_novels().items()], seen=seen)
    documents, held_out, topics = deduplicate(documents, held_out, topics, seen=seen)
    splits = split_documents(source, documents, held_out=held_out)
    if shuffled:
        splits.train = shuffled_documents(splits.train, PACKAGE_ORDER_SEED)
    shards = {}
    total = sum(len(getattr(splits, split)) for split in SPLITS)
    with tqdm(total=total, desc=f"{source} corpus shards", unit="sentence", disable=not progress) as bar:
        for split in SPLITS:
            shards[split] = _write_shards(staging, split, getattr(splits, split), bar)
    meta = {
        "source": source, "documents": splits.document_names, "topics": topics, "shards": shards,
        "sentences": {split: len(getattr(splits, split)) for split in SPLITS},
        "segments": int(max(getattr(splits, split).segments.max() for split in SPLITS)) + 1,
        "train_order": f"shuffled, seed {PACKAGE_ORDER_SEED}" if shuffled else "reading",
    }
    (staging / "meta.json").write_text(json.dumps(meta))  # last: a folder without it is damaged


def shuffled_documents(split, seed):
    """`split` (a `SentenceSplit`) with its documents in a random order drawn with `seed`: each document's sentences
    stay together and in their order, and keep their ids and segments (`positions()` then still separates them)."""
    from keras_ae.data.text import SentenceSplit

    starts = np.concatenate([[0], np.nonzero(split.labels[1:] != split.labels[:-1])[0] + 1])
    if len(np.unique(split.labels)) != len(starts):
        raise ValueError("shuffled_documents needs each document's sentences to be contiguous.")
    ends = np.append(starts[1:], len(split))
    order = np.concatenate([np.arange(starts[i], ends[i]) for i in np.random.default_rng(seed).permutation(len(starts))])
    return SentenceSplit([split.sentences[i] for i in order], split.labels[order], split.segments[order],
                         None if split.sources is None else split.sources[order])


def _write_shards(folder, split, sentences, bar):
    names, positions = [], sentences.positions()
    for start in range(0, len(sentences), SHARD_SENTENCES):
        name = f"{split}-{len(names):05d}.tfrecord"
        with tf.io.TFRecordWriter(str(folder / name)) as writer:
            for i in range(start, min(start + SHARD_SENTENCES, len(sentences))):
                writer.write(_example(sentences.sentences[i], sentences.labels[i], sentences.segments[i], positions[i]))
        bar.update(min(SHARD_SENTENCES, len(sentences) - start))
        names.append(name)
    return names


def _example(sentence, document, segment, position):
    ints = lambda value: tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))  # noqa: E731
    feature = {
        "sentence": tf.train.Feature(bytes_list=tf.train.BytesList(value=[sentence.encode("utf-8")])),
        "document": ints(document), "segment": ints(segment), "position": ints(position),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


_FEATURES = {
    "sentence": tf.io.FixedLenFeature([], tf.string),
    **{key: tf.io.FixedLenFeature([], tf.int64) for key in ("document", "segment", "position")},
}


# ----------------------------------------------------------------------------------------------------------------
# Loading and streaming


@dataclasses.dataclass
class Shards:
    """The shard files of one split of a corpus with the offsets that make ids unique across its sources."""

    files: list  # records in reading order, but the packages' training ones in `load_corpus(package_order)`
    offsets: np.ndarray  # [files, 4]: document, segment, position offsets and the source index of each file
    sentences: int


def load_corpus(name="all", progress=True, package_order="name"):
    """`TextSplits` of a named corpus (`CORPORA`) with `sources`, `source_names`, `topics` (one per document, None
    outside `packages`) and each split's `shards` (for `triple_batches` / `contiguous_batches`).

    Args:
        package_order: the order in which the training shards hold the package descriptions (`PACKAGE_ORDERS`):
            `"name"`, Debian's (reading order), or `"shuffled"` with `PACKAGE_ORDER_SEED` (module docstring). The
            returned splits themselves are in reading order and the same for either.
    """
    if name not in CORPORA:
        raise ValueError(f"Unknown corpus {name!r}: choose from {', '.join(CORPORA)}, or give a path to .txt files.")
    caches = [source_cache(source, package_order, progress=progress) for source in CORPORA[name]]
    documents, topics, offsets = [], [], np.zeros(3, "int64")
    shards = {split: ([], []) for split in SPLITS}
    for index, cache in enumerate(caches):
        for split in SPLITS:
            for file in cache.files(split):
                shards[split][0].append(file)
                shards[split][1].append([*offsets, index])
        documents += cache.meta["documents"]
        topics += cache.meta["topics"] or [None] * len(cache.meta["documents"])
        # Positions: at most sentences + segments per source; a gap of 2 keeps sources apart.
        sizes = sum(cache.meta["sentences"].values())
        offsets = offsets + [len(cache.meta["documents"]), cache.meta["segments"], sizes + cache.meta["segments"] + 2]
    from keras_ae.data.text import SentenceSplit, TextSplits

    parts = {}
    for split in SPLITS:
        files, table = shards[split][0], np.asarray(shards[split][1], "int64").reshape(-1, 4)
        sentences, columns = [], []
        for record in _records(files, table).batch(4096).as_numpy_iterator():
            sentences += [s.decode("utf-8") for s in record["sentence"]]
            columns.append(np.stack([record["document"], record["segment"], record["source"]], axis=1))
        columns = np.concatenate(columns) if columns else np.zeros((0, 3), "int64")
        # Segments grow in reading order (across sources too, by their offsets): sorting by them undoes a shuffled
        # package order, and is the identity otherwise.
        order = np.argsort(columns[:, 1], kind="stable")
        columns = columns[order]
        parts[split] = SentenceSplit([sentences[i] for i in order], columns[:, 0], columns[:, 1], columns[:, 2],
                                     shards=Shards(files, table, len(sentences)))
    return TextSplits(name=name, document_names=documents, source_names=list(CORPORA[name]), topics=topics, **parts)


def _records(files, offsets, shuffle=False, seed=0, cycle_length=1, chunk_size=None):
    """Records `{"sentence", "document", "segment", "position", "source"}` of the shard `files` with their offsets,
    in reading order (or, with `shuffle`, the files in a random order, `cycle_length` read at a time, as chunks of
    `chunk_size` contiguous records)."""
    table = tf.data.Dataset.from_tensor_slices((list(files), offsets))
    if shuffle:
        table = table.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)

    def read(file, offset):
        records = tf.data.TFRecordDataset(file).map(
            lambda data: _with_offsets(tf.io.parse_single_example(data, _FEATURES), offset)
        )
        return records.batch(chunk_size, drop_remainder=True) if chunk_size else records

    return table.interleave(read, cycle_length=cycle_length, block_length=1)


def _with_offsets(record, offset):
    return {
        "sentence": record["sentence"],
        "document": record["document"] + offset[0],
        "segment": record["segment"] + offset[1],
        "position": record["position"] + offset[2],
        "source": offset[3],
    }


def source_shares(sizes, shares):
    """The share of the training stream each source gets: `shares` (`{source index: share}`, e.g. `{3: 0.9}`) for
    the sources it names, what is left for the others in proportion to `sizes` (their training sentences, e.g.
    `np.bincount(corpus.train.sources)`).

    Example:
        source_shares([25039, 22114, 26982, 162162], {3: 0.9})  # [0.034, 0.030, 0.036, 0.9] on --corpus all
    """
    sizes = np.asarray(sizes, "float64")
    result = np.zeros(len(sizes))
    given = np.zeros(len(sizes), bool)
    for index, share in shares.items():
        result[index], given[index] = share, True
    rest = 1.0 - result.sum()
    if rest < -1e-9 or (rest > 1e-9 and not sizes[~given].sum()):
        raise ValueError(f"Source shares {shares} must sum to at most 1, and to 1 when they name every source.")
    if rest > 1e-9:
        result[~given] = rest * sizes[~given] / sizes[~given].sum()
    return result


def _chunks(shards, chunk_size, seed, shuffle, shares=None):
    """Stretches of `chunk_size` contiguous records of `shards`: from files read four at a time in a random order,
    or, with `shares` (one per source index, summing to 1), from each source's files apart, drawn source by source
    with those probabilities (each source repeating on its own)."""
    if shares is None:
        return _records(shards.files, shards.offsets, shuffle=shuffle, seed=seed, cycle_length=4,
                        chunk_size=chunk_size)
    sources = shards.offsets[:, 3]
    streams, weights = [], []
    for index, share in enumerate(shares):
        if share > 0:
            files = [file for file, source in zip(shards.files, sources) if source == index]
            streams.append(_records(files, shards.offsets[sources == index], shuffle=True, seed=seed,
                                    cycle_length=min(4, len(files)), chunk_size=chunk_size).repeat())
            weights.append(float(share))
    return tf.data.Dataset.sample_from_datasets(streams, weights=weights, seed=seed)


def contiguous_batches(shards, batch_size, chunk_size=20, seed=0, shuffle=True, shuffle_chunks=2000, shares=None):
    """Quick-thought batches `{"sentences", "positions", "documents"}` streamed from `shards`: `batch_size /
    chunk_size` stretches of `chunk_size` contiguous sentences, from files read four at a time in a random order and
    shuffled in a buffer of `shuffle_chunks` stretches (never the whole corpus in memory); endless when `shuffle`.
    `documents` is each sentence's document id, unique across the sources (a novel, a book of the Bible, one package
    description; `QuickThought(document_weight)` reads it). `shares` (training only; `source_shares`): each
    source's share of the stretches, instead of its share of the corpus."""
    if batch_size < 2 or chunk_size < 2 or batch_size % chunk_size:
        raise ValueError(f"chunk_size ({chunk_size}) must be at least 2 and divide batch_size ({batch_size}).")
    if shards.sentences < batch_size:
        raise ValueError(f"Only {shards.sentences} sentences for a batch size of {batch_size}: lower --batch-size.")
    if shares is not None and not shuffle:
        raise ValueError("Source shares mix the training stream; the held-out batches keep the corpus' own mixture.")
    chunks = _chunks(shards, chunk_size, seed, shuffle, shares)
    if shuffle:
        chunks = chunks.shuffle(shuffle_chunks, seed=seed, reshuffle_each_iteration=True).repeat()
    batches = chunks.unbatch().batch(batch_size, drop_remainder=shuffle)
    return batches.map(
        lambda r: {"sentences": r["sentence"], "positions": r["position"], "documents": r["document"]}
    ).prefetch(tf.data.AUTOTUNE)


def triple_batches(shards, batch_size, seed=0, shuffle=True, chunk_size=64, shuffle_triples=20000, shares=None):
    """Skip-thought batches `{"previous", "sentence", "next"}` streamed from `shards`: the triples of neighbouring
    sentences (same segment) inside chunks of `chunk_size` contiguous sentences (the 2 triples that would straddle
    two chunks are skipped), shuffled in a buffer of `shuffle_triples`; endless when `shuffle`. `shares`: as in
    `contiguous_batches`."""
    if shards.sentences < batch_size:
        raise ValueError(f"Only {shards.sentences} sentences for a batch size of {batch_size}: lower --batch-size.")
    if shares is not None and not shuffle:
        raise ValueError("Source shares mix the training stream; the held-out batches keep the corpus' own mixture.")
    chunks = _chunks(shards, chunk_size, seed, shuffle, shares)

    def triples(chunk):
        segment = chunk["segment"]
        keep = tf.logical_and(tf.equal(segment[:-2], segment[1:-1]), tf.equal(segment[1:-1], segment[2:]))
        sentence = chunk["sentence"]
        return tf.data.Dataset.from_tensor_slices({
            "previous": tf.boolean_mask(sentence[:-2], keep),
            "sentence": tf.boolean_mask(sentence[1:-1], keep),
            "next": tf.boolean_mask(sentence[2:], keep),
        })

    dataset = chunks.flat_map(triples)
    if shuffle:
        dataset = dataset.shuffle(shuffle_triples, seed=seed, reshuffle_each_iteration=True).repeat()
    return dataset.batch(batch_size, drop_remainder=shuffle).prefetch(tf.data.AUTOTUNE)
