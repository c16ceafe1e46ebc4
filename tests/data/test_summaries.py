"""Document / summary sets: user files with every bad input, disjoint pools, pseudo pairs, unpaired batches."""

import json

import pytest

from keras_ae.data.summaries import (
    MIN_SUMMARIES, connective_lead, content_lead, lead_only_words, load_summary_data, make_unpaired_dataset,
    pseudo_pairs, pseudo_target, read_records, truncate_words,
)
from tests.summary_helpers import tiny_pairs


def _jsonl(path, records):
    path.write_text("\n".join(json.dumps(record) for record in records) + "\n", encoding="utf-8")
    return path


def test_user_pairs_split_without_pairing_a_training_document_with_its_summary(tmp_path):
    documents, summaries = tiny_pairs(300)
    documents = [f"{d} number{i}" for i, d in enumerate(documents)]  # distinct documents
    path = _jsonl(tmp_path / "pairs.jsonl", [{"document": d, "summary": s} for d, s in zip(documents, summaries)])
    data = load_summary_data(str(path), seed=0)
    own = dict(zip(documents, range(len(documents))))
    trained = {own[d] for d in data.train_documents}
    held = {own[d] for d in data.validation[0] + data.test[0]}
    assert not trained & held and len(data.test[0]) == len(data.validation[0]) == 30
    # the pool holds the summaries of other training records, never those of trained documents
    assert len(data.real_summaries) == (300 - 60) // 2 and len(data.train_documents) == 300 - 60 - 120
    assert data.has_pairs and data.train_summaries == [summaries[own[d]] for d in data.train_documents]


def test_summaries_file_is_the_pool_and_documents_without_summaries_still_load(tmp_path):
    documents, summaries = tiny_pairs(100)
    path = _jsonl(tmp_path / "docs.jsonl", [{"document": d} for d in documents])
    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join(summaries) + "\n\n", encoding="utf-8")
    data = load_summary_data(str(path), summaries=str(pool))
    assert data.real_summaries == summaries and not data.has_pairs
    assert len(data.train_documents) == 80 and len(data.test[0]) == 10 and data.test[1] is None


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "the file is empty"),
        (b'{"document": "caf\xe9"}\n', "not UTF-8"),
        (b'{"summary": "no document"}\n', 'needs a "document"'),
        (b'{"document": 3}\n', 'needs a "document"'),
        (b"not json\n", "not a JSON record"),
        (b'{"document": "  "}\n', "is empty"),
    ],
)
def test_bad_jsonl_fails_with_the_line_and_the_fix(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_records(path)


def test_too_few_summaries_and_bad_paths_fail_before_any_work(tmp_path):
    documents, summaries = tiny_pairs(40)
    path = _jsonl(tmp_path / "few.jsonl", [{"document": d, "summary": s} for d, s in zip(documents, summaries)])
    with pytest.raises(ValueError, match=f"needs at least {MIN_SUMMARIES}"):
        load_summary_data(str(path))
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_summary_data(str(tmp_path / "missing.jsonl"))
    with pytest.raises(ValueError, match="jsonl"):
        load_summary_data(str(tmp_path / "docs.csv"))
    pool = tmp_path / "blank.txt"
    pool.write_text("\n \n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty|no summaries"):
        load_summary_data(str(path), summaries=str(pool))


def test_long_documents_are_truncated_and_counted(tmp_path):
    documents, summaries = tiny_pairs(200)
    documents[0] = " ".join(["word"] * 100)
    path = _jsonl(tmp_path / "long.jsonl", [{"document": d, "summary": s} for d, s in zip(documents, summaries)])
    data = load_summary_data(str(path), max_words=20)
    every = data.train_documents + data.validation[0] + data.test[0]
    assert data.truncated == 1 and max(len(d.split()) for d in every) == 20
    assert truncate_words(["a b c", "a"], 2) == (["a b", "a"], 1)


def test_pseudo_pairs_drop_and_shuffle_the_input_and_target_the_first_words():
    documents = [" ".join(f"w{i}" for i in range(30))]
    noisy, targets = pseudo_pairs(documents, length=4, seed=0, drop=0.2, phrase=3)
    assert targets == ["w0 w1 w2 w3"]
    words = noisy[0].split()
    positions = [int(word[1:]) for word in words]
    assert 15 <= len(words) < 30 and len(set(positions)) == len(positions)
    assert positions != sorted(positions)  # phrases were shuffled
    # the default target keeps the connectives (since session 23); "content" drops every stop word
    assert pseudo_pairs(["This is the parser for the YAML files."], 3)[1] == ["parser for yaml"]
    assert pseudo_pairs(["This is the parser for the YAML files."], 3, target="content")[1] == ["parser yaml files"]
    # phrase=0: words dropped but the order kept; drop=0 and phrase=0: the document itself
    kept = [int(word[1:]) for word in pseudo_pairs(documents, 4, drop=0.2, phrase=0)[0][0].split()]
    assert 15 <= len(kept) < 30 and kept == sorted(kept)
    assert pseudo_pairs(documents, 4, drop=0.0, phrase=0) == (documents, ["w0 w1 w2 w3"])
    # the defaults are Wang & Lee's noise, drop 0.1 and phrases of 3 (the better start for the unpaired stage)
    default = pseudo_pairs(documents, 4)
    assert default == pseudo_pairs(documents, 4, drop=0.1, phrase=3) and default[0] != documents
    with pytest.raises(ValueError, match="drop"):
        pseudo_pairs(documents, 4, drop=1.0)
    with pytest.raises(ValueError, match="phrase"):
        pseudo_pairs(documents, 4, phrase=-1)


def test_the_connective_target_keeps_the_stop_words_that_join_phrases():
    document = "This is the parser for the YAML files and the JSON files of a tool to convert them."
    assert pseudo_target(document, 4, "content") == content_lead(document, 4) == "parser yaml files json"
    # leading stop words and articles dropped, "for" / "and" kept after a content word, never at the end
    assert pseudo_target(document, 4) == pseudo_target(document, 4, "connective") == "parser for yaml files"
    assert connective_lead(document, 5) == "parser for yaml files"  # "... files and" loses its last word
    assert connective_lead(document, 9) == "parser for yaml files and json files of tool"
    assert connective_lead("For and to the tools for to and of data", 4) == "tools for data"  # one in a row
    assert connective_lead("the of and", 3) == ""
    noisy, targets = pseudo_pairs([document], 4, drop=0.0, phrase=0, target="connective")
    assert (noisy, targets) == ([document], ["parser for yaml files"])
    assert pseudo_pairs([document], 4, seed=3)[0] == pseudo_pairs([document], 4, seed=3, target="content")[0]
    for call in (lambda: pseudo_pairs([document], 4, target="lead"), lambda: pseudo_target(document, 4, "lead")):
        with pytest.raises(ValueError, match="target must be one of"):
            call()


def test_lead_only_words_are_the_words_documents_open_with_and_summaries_do_not_use():
    documents = [f"This package provides the {name} parser for {kind} files." for name, kind in
                 (("yaml", "config"), ("json", "data"), ("toml", "config"), ("ini", "settings"))] * 10
    summaries = ["yaml parser for config files", "json parser", "toml files parser", "parser for ini settings"] * 10
    skip = lead_only_words(documents, summaries, 4, min_count=15)
    assert skip == {"package", "provides"}  # "parser", "for", "files" are in the summaries too; "data" is in 10 leads
    assert lead_only_words(documents, summaries, 4, min_count=50) == set()  # 40 leads: no word that often
    assert lead_only_words(documents, summaries, 4, ratio=1e-9, min_count=15) == set()
    assert connective_lead(documents[0], 4) == "package provides yaml parser"
    assert pseudo_target(documents[0], 4, skip=skip) == connective_lead(documents[0], 4, skip) == "yaml parser for config"
    assert pseudo_target(documents[0], 2, "content", skip) == content_lead(documents[0], 2, skip) == "yaml parser"
    assert pseudo_pairs(documents[:1], 4, drop=0.0, phrase=0, skip=skip)[1] == ["yaml parser for config"]
    for bad in (dict(ratio=0.0), dict(ratio=float("nan"))):
        with pytest.raises(ValueError, match="ratio must be positive"):
            lead_only_words(documents, summaries, 4, **bad)
    with pytest.raises(ValueError, match="needs documents and real summaries"):
        lead_only_words(documents, [], 4)


def test_unpaired_batches_draw_summaries_from_the_pool_only():
    documents, _ = tiny_pairs(50)
    pool = [f"summary {i}" for i in range(7)]
    batches = list(make_unpaired_dataset(documents, pool, batch_size=10, shuffle=True).as_numpy_iterator())
    seen = [s.decode() for batch in batches for s in batch["summary"]]
    assert len(seen) == 50 and set(seen) <= set(pool) and len(set(seen)) == 7
    pseudo = pseudo_pairs(documents, length=3)
    batch = next(make_unpaired_dataset(documents, pool, batch_size=10, shuffle=True, pseudo=pseudo).as_numpy_iterator())
    for document, noisy, target in zip(batch["document"], batch["noisy"], batch["target"]):  # aligned after shuffling
        index = documents.index(document.decode())
        assert (noisy.decode(), target.decode()) == (pseudo[0][index], pseudo[1][index])
