"""The large sentence corpus (keras_ae.data.corpus) on tiny sources the tests make: cache, dedup, streaming."""

import numpy as np
import pytest

from keras_ae.data import corpus
from keras_ae.data.text import Document, split_documents

BIBLE_LINES = [
    "", "Genesis 1", "", "  1 In the beginning God created the heaven and the earth.",
    "  2 And the earth was without form. And darkness was upon the deep.", "", "Genesis 2", "",
    "  1 Thus the heavens were finished.", "", "1 Samuel 1", "", "  1 Now there was a certain man.",
]


def _novel(name, words):
    chapters = [[f"{name} {word} {chapter} {i}." for i in range(8)] for chapter, word in enumerate(words * 6)]
    return Document(name, chapters)


def _fake_sources(monkeypatch, tmp_path, calls):
    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path))

    def documents(source):
        calls.append(source)
        if source == "austen":
            return [_novel("emma", ["walks", "talks"]), _novel("anne", ["sails", "waits"])], None, None
        pages = [Document(f"pkg{i}", [[f"Tool {i} does thing {i}.", f"It runs on {i} machines."]]) for i in range(30)]
        pages.append(Document("copy", [[f"Tool {0} does thing {0}.", f"It runs on {0} machines."]]))  # a duplicate
        held_out = ["train"] * 20 + ["validation"] * 5 + ["test"] * 5 + ["train"]
        return pages, held_out, ["net" if i % 2 else "libs" for i in range(31)]

    monkeypatch.setattr(corpus, "source_documents", documents)
    monkeypatch.setitem(corpus.CORPORA, "tiny", ("austen", "packages"))
    monkeypatch.setattr(corpus, "SHARD_SENTENCES", 50)


def test_bible_output_becomes_books_of_chapters_of_sentences():
    books = corpus.bible_documents(BIBLE_LINES)
    assert [book.name for book in books] == ["Genesis", "1 Samuel"]
    assert books[0].chapters[0] == [
        "In the beginning God created the heaven and the earth.", "And the earth was without form.",
        "And darkness was upon the deep.",
    ]
    assert books[0].chapters[1] == ["Thus the heavens were finished."] and len(books[1].chapters) == 1


def test_deduplicate_drops_documents_seen_before_whatever_their_spacing():
    first, copy, other = Document("a", [["One  two.", "Three."]]), Document("b", [["one two.", "three."]]), \
        Document("c", [["Four."]])
    kept, labels = corpus.deduplicate([first, copy, other], ["x", "y", "z"])
    assert [d.name for d in kept] == ["a", "c"] and labels == ["x", "z"]
    assert corpus.deduplicate([other], seen=set())[0] == [other]


def test_corpus_is_built_once_streamed_by_source_and_rebuilt_when_damaged(monkeypatch, tmp_path):
    calls = []
    _fake_sources(monkeypatch, tmp_path, calls)
    splits = corpus.load_corpus("tiny", progress=False)
    assert calls == ["austen", "packages"]
    assert splits.source_names == ["austen", "packages"] and "copy" not in splits.document_names
    assert set(np.unique(splits.train.sources)) == {0, 1}
    packages_test = {splits.document_names[d] for d in splits.test.labels[splits.test.sources == 1]}
    assert packages_test == {f"pkg{i}" for i in range(25, 30)}  # held out as whole documents
    assert splits.topics[splits.document_names.index("pkg3")] == "net"
    assert len(splits.train.shards.files) > 2  # several shards per source

    again = corpus.load_corpus("tiny", progress=False)
    assert calls == ["austen", "packages"] and again.train.sentences == splits.train.sentences
    (tmp_path / "text" / corpus.CACHE_VERSION / "austen" / "train-00000.tfrecord").unlink()
    corpus.load_corpus("tiny", progress=False)
    assert calls == ["austen", "packages", "austen"]

    # Skip-thought triples are neighbours in one segment; Quick-thought positions differ by 1 only between them.
    by_sentence = {s: i for i, s in enumerate(splits.train.sentences)}
    batch = next(iter(corpus.triple_batches(splits.train.shards, batch_size=16, chunk_size=8)))
    for previous, middle, following in zip(*(batch[key].numpy() for key in ("previous", "sentence", "next"))):
        i = by_sentence[middle.decode()]
        assert by_sentence[previous.decode()] == i - 1 and by_sentence[following.decode()] == i + 1
        assert splits.train.segments[i - 1] == splits.train.segments[i] == splits.train.segments[i + 1]
    batch = next(iter(corpus.contiguous_batches(splits.train.shards, batch_size=16, chunk_size=4)))
    sentences, positions = batch["sentences"].numpy(), batch["positions"].numpy()
    for sentence, document in zip(sentences, batch["documents"].numpy()):  # the document judge's ids
        assert splits.train.labels[by_sentence[sentence.decode()]] == document
    for a in range(16):
        for b in range(16):
            if abs(positions[a] - positions[b]) == 1:
                i, j = by_sentence[sentences[a].decode()], by_sentence[sentences[b].decode()]
                assert abs(i - j) == 1 and splits.train.segments[i] == splits.train.segments[j]


def _training_stream(splits):
    records = corpus._records(splits.train.shards.files, splits.train.shards.offsets).as_numpy_iterator()
    return [(r["sentence"].decode(), int(r["document"]), int(r["position"]), int(r["source"])) for r in records]


def test_shuffled_package_order_moves_whole_training_descriptions_and_nothing_else(monkeypatch, tmp_path):
    calls = []
    _fake_sources(monkeypatch, tmp_path, calls)
    by_name = corpus.load_corpus("tiny", progress=False)
    shuffled = corpus.load_corpus("tiny", progress=False, package_order="shuffled")
    assert calls == ["austen", "packages", "packages"]  # one austen cache; each package order its own
    assert (tmp_path / "text" / corpus.CACHE_VERSION / "packages").is_dir()  # the name-order cache is kept

    # What the probes, the vocabulary and the validation batches read is the same: splits, ids, topics.
    assert shuffled.document_names == by_name.document_names and shuffled.topics == by_name.topics
    for split in corpus.SPLITS:
        a, b = getattr(by_name, split), getattr(shuffled, split)
        assert a.sentences == b.sentences
        assert all(np.array_equal(getattr(a, key), getattr(b, key)) for key in ("labels", "segments", "sources"))
    for split in ("validation", "test"):  # the held-out shards are the same bytes
        for old, new in zip(getattr(by_name, split).shards.files, getattr(shuffled, split).shards.files):
            assert open(old, "rb").read() == open(new, "rb").read()

    # The training stream: the same sentences of the same documents, each description whole and in its order, the
    # descriptions in another order than reading order, and no neighbour across two descriptions.
    before, after = _training_stream(by_name), _training_stream(shuffled)
    assert sorted(row[:2] for row in before) == sorted(row[:2] for row in after)
    assert [row for row in before if row[3] == 0] == [row for row in after if row[3] == 0]  # austen untouched
    packages = [row for row in after if row[3] == 1]
    runs = [document for i, (_, document, _, _) in enumerate(packages) if i == 0 or packages[i - 1][1] != document]
    assert len(runs) == len(set(runs)) == 20  # each description in one piece
    reading = [document for i, (_, document, _, _) in enumerate(before)
               if before[i][3] == 1 and (i == 0 or before[i - 1][1] != document)]
    assert runs != reading and sorted(runs) == sorted(reading)
    for document in runs:
        assert [row[0] for row in packages if row[1] == document] == [row[0] for row in before if row[1] == document]
    for (_, d1, p1, _), (_, d2, p2, _) in zip(packages, packages[1:]):
        assert (p2 - p1 == 1) == (d1 == d2)

    with pytest.raises(ValueError, match="package order"):
        corpus.load_corpus("tiny", progress=False, package_order="random")


def test_whole_document_split_must_leave_test_and_validation():
    documents = [Document(f"d{i}", [["A b.", "C d."]]) for i in range(3)]
    with pytest.raises(ValueError, match="validation"):
        split_documents("x", documents, held_out=["train", "test", "test"])


def test_source_shares_set_the_training_mixture_of_both_models_batches(monkeypatch, tmp_path):
    """--source-shares: the named source gets its share, the others the rest in their own proportions; the stretches
    keep their contiguity, and about that share of sentences comes from the source."""
    assert np.allclose(corpus.source_shares([100, 300, 600], {2: 0.9}), [0.025, 0.075, 0.9])
    assert np.allclose(corpus.source_shares([100, 300], {0: 0.25, 1: 0.75}), [0.25, 0.75])
    for wrong in ({0: 0.7, 1: 0.6}, {0: 0.5, 1: 0.2}):  # over 1; under 1 with no source left to take the rest
        with pytest.raises(ValueError, match="sum to at most 1"):
            corpus.source_shares([100, 300], wrong)
    calls = []
    _fake_sources(monkeypatch, tmp_path, calls)
    splits = corpus.load_corpus("tiny", progress=False)
    natural = np.mean(splits.train.sources == 1)
    for share in (0.0, 0.9):  # the natural share is about 0.2
        shares = corpus.source_shares(np.bincount(splits.train.sources), {1: share})
        batches = corpus.contiguous_batches(splits.train.shards, batch_size=16, chunk_size=4, shares=shares,
                                            shuffle_chunks=40)  # a small buffer: each source repeats on its own
        sources = [splits.train.sources[splits.train.sentences.index(s.decode())]
                   for batch in batches.take(40) for s in batch["sentences"].numpy()]
        assert abs(np.mean(np.equal(sources, 1)) - share) < 0.08 and abs(natural - share) > 0.15
        triples = corpus.triple_batches(splits.train.shards, batch_size=16, chunk_size=8, shares=shares,
                                        shuffle_triples=40)
        assert next(iter(triples))["sentence"].shape == (16,)
    with pytest.raises(ValueError, match="held-out batches"):
        corpus.contiguous_batches(splits.train.shards, 16, chunk_size=4, shuffle=False, shares=shares)
