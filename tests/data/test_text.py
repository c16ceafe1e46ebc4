"""Tests for keras_ae.data.text: sentence splitting, documents, held-out splits, bad input, pipelines.

Every test writes its own small text files; none needs the Austen download.
"""

import subprocess

import numpy as np
import pytest

from keras_ae.data import text


def _story(name, sentences=40, chapters=0):
    """Lines of a small document: `chapters` headed chapters (or none) of numbered sentences."""
    lines = [f"THE STORY OF {name.upper()}", "", "By Somebody", ""]
    per_chapter = sentences // max(chapters, 1)
    count = 0
    for chapter in range(max(chapters, 1)):
        if chapters:
            lines += [f"CHAPTER {chapter + 1}", ""]
        for _ in range(per_chapter):
            if count % 3:
                lines += [f"{name} said sentence number {count}.", ""]
            else:  # a sentence over two lines, with an abbreviation
                lines += [f"Mr. {name} wrote line", f"{count} here.", ""]
            count += 1
    return lines


def _write(folder, name, lines):
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_split_sentences_abbreviations_quotes_and_initials():
    sentences = text.split_sentences(
        'She saw her father--Mr. Woodhouse. He said "Hi." Then J. Smith left St. Paul\'s! '
        '"Is he married?" asked Mrs. Bennet. Dr. Grant came.'
    )
    assert sentences == [
        "She saw her father--Mr. Woodhouse.",
        'He said "Hi."',
        "Then J. Smith left St. Paul's!",
        '"Is he married?" asked Mrs. Bennet.',
        "Dr. Grant came.",
    ]


def test_split_sentences_edge_cases():
    assert text.split_sentences("") == []
    assert text.split_sentences("   \n ") == []
    assert text.split_sentences("no final punctuation") == ["no final punctuation"]
    assert text.split_sentences("Wait... what? Yes!") == ["Wait... what?", "Yes!"]
    assert text.split_sentences("-- . --") == []


def test_paragraphs_join_lines():
    lines = ["It is a truth", "universally acknowledged.", "", "", "Second  paragraph.", ""]
    assert text.paragraphs_from_lines(lines) == ["It is a truth universally acknowledged.", "Second paragraph."]


def test_document_chapters_drop_headings_and_front_matter():
    document = text.document_from_lines("d", _story("Anna", sentences=20, chapters=4))
    assert len(document.chapters) == 4
    flat = [s for chapter in document.chapters for s in chapter]
    assert len(flat) == 20
    assert not any("CHAPTER" in s or "STORY" in s for s in flat)
    assert flat[0] == "Mr. Anna wrote line 0 here."


def test_load_folder_keeps_order_labels_and_holds_out_units(tmp_path):
    _write(tmp_path, "b_second.txt", _story("Bella", sentences=60))
    _write(tmp_path, "a_first.txt", _story("Anna", sentences=60, chapters=12))
    splits = text.load_text(tmp_path)
    assert splits.document_names == ["a_first.txt", "b_second.txt"]
    for split in (splits.train, splits.validation, splits.test):
        assert len(split) == len(split.labels) == len(split.segments) > 0
        assert set(split.labels) == {0, 1}
        for index in split.next_pairs():  # neighbours share a document
            assert split.labels[index] == split.labels[index + 1]
    # Bella has no chapter headings, so her two front-matter lines are kept as sentences.
    assert len(splits.train) + len(splits.validation) + len(splits.test) == 60 + 62
    # Anna has 12 chapters of 5 sentences: chapters 3 (test) and 7 (validation) are held out whole.
    anna_test = [s for s, label in zip(splits.test.sentences, splits.test.labels) if label == 0]
    assert anna_test == [text.split_sentences(s)[0] for s in anna_test] and len(anna_test) == 5
    assert "Anna said sentence number 16." in anna_test
    # Reading order is kept inside a split.
    numbers = [int(s.split()[-2] if "here" in s else s.split()[-1][:-1]) for s in splits.train.sentences[:10]]
    assert numbers == sorted(numbers)
    # Held-out sentences never appear in training.
    assert not set(splits.test.sentences) & set(splits.train.sentences)


def test_segments_never_cross_chapters(tmp_path):
    _write(tmp_path, "a.txt", _story("Anna", sentences=40, chapters=4))
    splits = text.load_text(tmp_path / "a.txt")
    train = splits.train
    chapters = text.document_from_lines("a", _story("Anna", sentences=40, chapters=4)).chapters
    first_of_chapter = {chapter[0] for chapter in chapters}
    for index in train.next_pairs():
        assert train.sentences[index + 1] not in first_of_chapter
    positions = train.positions()
    same = train.segments[1:] == train.segments[:-1]
    assert np.all((np.diff(positions) == 1) == same)


def test_triples_are_consecutive(tmp_path):
    _write(tmp_path, "a.txt", _story("Anna", sentences=60))
    split = text.load_text(tmp_path / "a.txt").train
    previous, sentence, following = split.triples()
    assert len(previous) == len(sentence) == len(following) > 0
    index = split.sentences.index(sentence[0])
    assert previous[0] == split.sentences[index - 1] and following[0] == split.sentences[index + 1]


def test_non_utf8_names_file_and_line_or_replaces(tmp_path):
    path = tmp_path / "bad.txt"
    good = "\n".join(f"Sentence {i} is fine." for i in range(40))
    path.write_bytes(good.encode() + b"\nCaf\xe9 au lait here.\n")
    with pytest.raises(ValueError, match=r"bad\.txt, line 41.*errors='replace'"):
        text.load_text(path)
    splits = text.load_text(path, errors="replace")
    everything = splits.train.sentences + splits.validation.sentences + splits.test.sentences
    assert "Caf\ufffd au lait here." in everything


def test_empty_and_one_sentence_corpora_raise_clear_errors(tmp_path):
    _write(tmp_path, "empty.txt", ["", "   ", ""])
    with pytest.raises(ValueError, match="empty"):
        text.load_text(tmp_path / "empty.txt")
    _write(tmp_path, "one.txt", ["Just one sentence here."])
    with pytest.raises(ValueError, match="only 1 sentence"):
        text.load_text(tmp_path / "one.txt")
    _write(tmp_path, "short.txt", [f"Sentence {i}." for i in range(10)])
    with pytest.raises(ValueError, match="too few"):
        text.load_text(tmp_path / "short.txt")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(ValueError, match="no .txt files"):
        text.load_text(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="No text at"):
        text.load_text(tmp_path / "missing")


def test_max_length_truncates_and_counts(tmp_path):
    lines = [f"Short sentence {i}." for i in range(39)] + [" ".join(["word"] * 5000) + "."]
    _write(tmp_path, "long.txt", lines)
    with pytest.warns(UserWarning, match="truncated 1 sentences"):
        splits = text.load_text(tmp_path / "long.txt", max_length=12)
    assert splits.truncated == 1
    everything = splits.train.sentences + splits.validation.sentences + splits.test.sentences
    assert max(len(s.split()) for s in everything) == 12
    with pytest.raises(ValueError, match="max_length"):
        text.load_text(tmp_path / "long.txt", max_length=0)


def test_limit_keeps_beginning(tmp_path):
    _write(tmp_path, "a.txt", _story("Anna", sentences=90))
    splits = text.load_text(tmp_path / "a.txt", limit=40)
    assert len(splits.train) + len(splits.validation) + len(splits.test) == 40


def test_austen_download_failure_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(text, "AUSTEN_RDB", "nonexistent/janeaustenr/data/Rdata")

    def failing_run(args, **kwargs):
        if args[:2] == ["apt-get", "download"]:
            return subprocess.CompletedProcess(args, 100, "", "E: Unable to locate package r-cran-janeaustenr")
        raise AssertionError(f"unexpected command {args}")

    monkeypatch.setattr(text.subprocess, "run", failing_run)
    monkeypatch.setattr(text.shutil, "which", lambda name: f"/usr/bin/{name}")
    with pytest.raises(RuntimeError, match=r"sudo apt-get update && apt-get download r-cran-janeaustenr"):
        text.load_text("austen")
    assert not (tmp_path / "home" / "text" / "janeausten").exists()


def test_austen_cache_is_used(tmp_path, monkeypatch):
    import gzip
    import json

    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path))
    (tmp_path / "text" / "janeausten").mkdir(parents=True)
    novels = {"Book A": _story("Anna", 60, chapters=10), "Book B": _story("Bella", 60)}
    with gzip.open(tmp_path / "text" / "janeausten" / "novels.json.gz", "wt") as file:
        json.dump(novels, file)
    splits = text.load_text("austen")
    assert splits.document_names == ["Book A", "Book B"]


def test_vocabulary_and_pipelines(tmp_path):
    _write(tmp_path, "a.txt", _story("Anna", sentences=60))
    _write(tmp_path, "b.txt", _story("Bella", sentences=60))
    splits = text.load_text(tmp_path)
    vocabulary = text.build_vocabulary(splits.train.sentences, size=20)
    assert len(vocabulary) <= 20 and "said" in vocabulary and "" not in vocabulary and "[UNK]" not in vocabulary
    batch = next(iter(text.make_triple_dataset(splits.train, batch_size=8, shuffle=True)))
    assert set(batch) == {"previous", "sentence", "next"} and batch["sentence"].shape == (8,)
    batches = list(text.make_contiguous_dataset(splits.train, batch_size=10, shuffle=False))
    assert batches[0]["sentences"].shape == (10,)
    assert batches[0]["sentences"][0].numpy().decode() == splits.train.sentences[0]
    assert np.array_equal(batches[0]["positions"].numpy(), splits.train.positions()[:10])
    with pytest.raises(ValueError, match="lower --batch-size"):
        text.make_contiguous_dataset(splits.train, batch_size=10_000, shuffle=True)


def test_contiguous_batches_of_chunks(tmp_path):
    _write(tmp_path, "a.txt", _story("Anna", sentences=90))
    split = text.load_text(tmp_path / "a.txt").train
    positions = split.positions()
    batches = list(text.make_contiguous_dataset(split, batch_size=12, shuffle=True, chunk_size=4))
    assert len(batches) == len(split) // 12
    for batch in batches:
        chunks = batch["positions"].numpy().reshape(3, 4)
        for chunk in chunks:  # each chunk is a contiguous stretch of the split
            start = int(np.searchsorted(positions, chunk[0]))
            assert np.array_equal(chunk, positions[start : start + 4])
    with pytest.raises(ValueError, match="divide"):
        text.make_contiguous_dataset(split, batch_size=12, chunk_size=5)
