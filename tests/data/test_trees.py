"""Tests for the grammar-induction data: synthetic treebank, sentence files, gold trees and their errors."""

import hashlib
from pathlib import Path

import nltk
import pytest

from keras_ae.data.trees import (
    build_vocabulary,
    clause_pieces,
    clean_tree,
    curriculum_lengths,
    gold_half,
    load_tree_data,
    make_curriculum_dataset,
    make_sentence_dataset,
    read_test_trees,
    read_treebank,
    strip_punctuation,
    synthetic_treebank,
    thin_repeats,
    tree_words,
)
from keras_ae.evaluation.trees import transitive_clauses

TREES = """( (S (NP (DT The) (NN cat)) (, ,) (VP (VBD sat) (NP (-NONE- *T*))) (. .)) )
(S (NP (PRP She))
   (VP (VBD smiled)))
"""


def test_synthetic_treebank_is_reproducible_and_within_limits():
    trees = synthetic_treebank(200, max_length=8, seed=1)
    assert trees == synthetic_treebank(200, max_length=8, seed=1)
    lengths = [len(tree.leaves()) for tree in trees]
    assert min(lengths) >= 2 and max(lengths) <= 8 and len(set(lengths)) > 3
    data = load_tree_data("synthetic", max_length=8, synthetic_size=100)
    assert len(data.train) == 100 and len(data.test) == len(data.test_trees) == 10
    assert data.test[0] == " ".join(data.test_trees[0].leaves())
    assert set(data.train).isdisjoint(data.test) or len(set(data.train) & set(data.test)) < 5


def test_synthetic_grammar_1_samples_what_it_sampled_before_grammar_2_existed():
    # the bracketed trees of grammar 1, seed 7, as sampled by the code before grammar 2 was added (session 11)
    trees = synthetic_treebank(300, max_length=10, seed=7, grammar=1)  # no longer the default (3 since session 11)
    flat = "\n".join(tree.pformat(margin=10**6) for tree in trees)
    assert trees[0].pformat(margin=10**6) == "(S (NP (PRP you)) (MD could) (VP (VBD walked)))"
    assert hashlib.sha256(flat.encode()).hexdigest() == (
        "fb0f2a4d80c5c22b754b694eda216ca4471fcba5fbf2a7368f7ef6b8be080764")
    assert not any(tree.label() in ("CC", "TO") for t in trees for tree in t.subtrees())


def test_synthetic_grammar_2_has_vp_coordination_and_infinitives_bracketed_as_the_ptb():
    from benchmarks.tree_constructions import found_by_context, left_attachments, verb_phrase_contexts

    trees = synthetic_treebank(400, max_length=10, seed=0, grammar=2)
    assert all(2 <= len(tree.leaves()) <= 10 for tree in trees)
    coordinated, infinitives = [], []
    for tree in trees:
        for node in tree.subtrees():
            assert "_" not in node.label()  # VP_BASE and VP_TO are labelled VP
            labels = [child.label() for child in node if isinstance(child, nltk.Tree)]
            if node.label() == "VP" and "CC" in labels:
                coordinated.append(tree)
                assert labels == ["VP", "CC", "VP"] and node[1][0] in ("and", "but", "or")
            if node.label() == "TO":
                infinitives.append(tree)
            if node.label() == "VP" and labels[:1] == ["VBC"]:
                to_vp = node[1]  # (VP (VBC wanted) (VP (TO to) (VP (VB read) ...)))
                assert labels == ["VBC", "VP"] and [c.label() for c in to_vp] == ["TO", "VP"] and to_vp[0][0] == "to"
                base = to_vp[1]
                while base[0].label() == "VP":  # (VP (VP read the book) (PP ...)), or a coordination
                    base = base[0]
                assert base[0].label() in ("VB", "VBI")  # base forms after "to"
    assert 0.03 < len(set(map(id, coordinated))) / len(trees) < 0.15
    assert 0.05 < len(set(map(id, infinitives))) / len(trees) < 0.2
    contexts = {context for tree in trees for context, transitive, _ in verb_phrase_contexts(tree) if transitive}
    assert {"subject", "modal", "and", "to"} <= contexts  # (verb object) also without its subject in front
    # the first conjunct of a coordinated clause still counts as a transitive clause in the evaluation
    tree = nltk.Tree.fromstring("(S (NP (DT the) (NN dog)) (VP (VP (VBT saw) (NP (DT a) (NN cat))) (CC and) "
                                "(VP (VBD slept))))")
    assert transitive_clauses(tree) == [(0, 2, 5)]
    assert verb_phrase_contexts(tree) == [("subject", True, (2, 5)), ("and", False, (6, 7))]
    assert found_by_context(["(X (X the dog) (X (X saw (X a cat)) (X and slept)))",
                             "(X (X (X the dog) saw) (X (X a cat) (X and slept)))"], [tree, tree]) == {
        "subject": (2, 50.0)}
    tree = nltk.Tree.fromstring("(S (NP (PRP we)) (VP (VP (VBT saw) (NP (PRP it))) (CC and) (VP (VBT met) (NP (PRP "
                                "her)))))")
    mirrored, gold_like = "(X we (X (X saw (X (X it and) met)) her))", "(X we (X (X saw it) (X and (X met her))))"
    assert left_attachments([mirrored, gold_like], [tree, tree]) == {"(... and verb)": 50.0}
    data = load_tree_data("synthetic", max_length=10, synthetic_size=100, seed=2, synthetic_grammar=2)
    assert data.test == [tree_words(tree) for tree in data.test_trees]
    assert data.validation == [tree_words(tree) for tree in data.validation_trees]
    assert data.test != load_tree_data("synthetic", max_length=10, synthetic_size=100, seed=2, synthetic_grammar=1).test
    with pytest.raises(ValueError, match="versions are \\[1, 2, 3, 4\\]"):
        synthetic_treebank(3, grammar=5)


def test_synthetic_grammars_3_and_4_add_imperatives_a_verb_phrase_with_nothing_in_front():
    from benchmarks.tree_constructions import verb_phrase_contexts

    trees = synthetic_treebank(400, max_length=10, seed=0, grammar=3)
    assert trees == synthetic_treebank(400, max_length=10, seed=0)  # grammar 3 is the default (session 11)
    imperatives = [tree for tree in trees if tree[0].label() == "VP"]
    assert 0.05 < len(imperatives) / len(trees) < 0.15 and all(len(tree) == 1 for tree in imperatives)
    for tree in imperatives:  # (S (VP (VB meet) (NP ...) ...)): base forms
        verb = next(node for node in tree.subtrees() if node.label().startswith("VB"))
        assert verb.label() in ("VB", "VBI")
    assert ("start", True) in {context[:2] for tree in imperatives for context in verb_phrase_contexts(tree)}
    ablation = synthetic_treebank(400, max_length=10, seed=0, grammar=4)  # grammar 1 plus imperatives alone
    assert any(tree[0].label() == "VP" for tree in ablation)
    assert not any(node.label() in ("CC", "TO") for tree in ablation for node in tree.subtrees())


def test_punctuation_conventions():
    assert strip_punctuation('"Mr. Darcy," said she -- smiling.') == "Mr Darcy said she smiling"
    assert strip_punctuation("don't go well-known") == "don't go well-known"
    tree = clean_tree(nltk.Tree.fromstring("(S (NP (DT The) (NN cat)) (, ,) (VP (VBD sat) (NP (-NONE- *T*))))"))
    assert str(tree) == "(S (NP (DT The) (NN cat)) (VP (VBD sat)))"


def test_gold_trees_pair_with_sentences(tmp_path):
    trees = tmp_path / "trees.mrg"
    trees.write_text(TREES * 10)
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("The cat, sat.\nShe smiled\n" * 10)
    data = load_tree_data(str(sentences), gold_trees=str(trees))
    assert data.test == ["She smiled", "She smiled"] and len(data.train) == 16  # lines 4 and 14
    assert [tree.leaves() for tree in data.test_trees] == [["She", "smiled"]] * 2
    assert data.train[0] == "The cat sat" and data.validation_trees[0].leaves() == ["She", "smiled"]
    alone = load_tree_data(None, gold_trees=str(trees))
    assert alone.test == data.test
    assert [(tree.label(), line) for tree, line in read_treebank(trees)][:2] == [("S", 1), ("S", 2)]


def test_bad_input_names_the_line(tmp_path):
    trees = tmp_path / "trees.mrg"
    trees.write_text(TREES * 10)
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("The cat, sat.\nShe smiled\n" * 4 + "The dog sat\nShe smiled\n" + "The cat sat\nShe smiled\n" * 5)
    with pytest.raises(ValueError, match=r"sentences.txt, line 9 and .*trees.mrg, line 13"):
        load_tree_data(str(sentences), gold_trees=str(trees))
    broken = tmp_path / "broken.mrg"
    broken.write_text("(S (NP a))\n(S (NP b)\n")
    with pytest.raises(ValueError, match="line 2: the tree that starts here never closes"):
        read_treebank(broken)
    broken.write_text("(S (NP a))\n(S (NP b)))\n")
    with pytest.raises(ValueError, match="line 2: a '\\)' closes"):
        read_treebank(broken)
    broken.write_text("(S (NP a))\nhello (S b)\n")
    with pytest.raises(ValueError, match="line 2: text 'hello"):
        read_treebank(broken)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match="empty.txt is empty"):
        load_tree_data(str(empty))
    few = tmp_path / "few.txt"
    few.write_text("one two three four five six seven eight nine ten eleven\nhi\n" * 6)
    with pytest.raises(ValueError, match="only 0 sentences"):
        load_tree_data(str(few), max_length=10)


def test_long_and_short_sentences_are_skipped_and_counted(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("a b c\n" * 20 + "one two three four five\n" * 3 + "hi\n" * 2)
    data = load_tree_data(str(path), max_length=4)
    assert data.skipped_long == 3 and data.skipped_short == 2
    assert len(data.train) + len(data.validation) + len(data.test) == 20


def test_vocabulary_and_dataset():
    assert build_vocabulary(["The cat", "the dog the"], size=2) == ["the", "cat"]
    batches = list(make_sentence_dataset(["a b"] * 5, batch_size=2, shuffle=True))
    assert len(batches) == 2 and batches[0].shape == (2,)
    with pytest.raises(ValueError, match="lower it"):
        make_sentence_dataset(["a b"], batch_size=2, shuffle=True)


def test_length_batches_hold_one_length_each_in_a_new_order_every_pass():
    sentences = [" ".join(["w"] * length) for length in range(2, 8) for _ in range(3 * length)]  # 6..21 of each
    dataset = make_sentence_dataset(sentences, batch_size=4, shuffle=True, seed=1, by_length=True)
    passes = [[[len(s.split()) for s in batch.numpy()] for batch in dataset] for _ in range(2)]
    expected = sum(3 * length // 4 for length in range(2, 8))  # leftovers of each length dropped
    assert dataset.cardinality() == expected == len(passes[0]) == len(passes[1])
    assert all(len(batch) == 4 and len(set(batch)) == 1 for batch in passes[0] + passes[1])
    assert [b[0] for b in passes[0]] != sorted(b[0] for b in passes[0])  # lengths mixed, not sorted
    assert passes[0] != passes[1]  # reshuffled each pass
    evaluation = make_sentence_dataset(sentences, batch_size=4, by_length=True)  # nothing dropped
    assert sorted(s.decode() for batch in evaluation for s in batch.numpy()) == sorted(sentences)
    staged, steps = make_curriculum_dataset(sentences, batch_size=4, epochs=2, start_length=4, length_step=9,
                                            by_length=True)  # stage 2: all
    lengths = [[len(s.split()) for s in batch.numpy()] for batch in staged]
    first = 6 // 4 + 9 // 4 + 12 // 4  # stage 1: the sentences of 2, 3 and 4 words
    assert all(len(set(batch)) == 1 for batch in lengths) and max(max(b) for b in lengths[:first]) == 4
    assert len(lengths) == staged.cardinality() == first + expected and steps == (first + expected) // 2


def test_length_curriculum_grows_the_limit_stage_by_stage():
    sentences = [" ".join(["w"] * length) for length in range(2, 11) for _ in range(8)]  # 8 of each 2..10 words
    assert curriculum_lengths(4, 4, 2, 10) == [4, 6, 8, 10] and curriculum_lengths(3, 5, 4, 10) == [5, 9, 10]
    dataset, steps = make_curriculum_dataset(sentences, batch_size=4, epochs=3, start_length=5, length_step=4)
    batches = [[len(s.split()) for s in batch.numpy()] for batch in dataset]
    # stage 1: the 32 sentences of 2..5 words (8 batches), stage 2: 2..9 (16 batches), stage 3: all 72 (18 batches)
    assert len(batches) == 42 == dataset.cardinality() and steps == 14
    assert max(max(b) for b in batches[:8]) == 5 and max(max(b) for b in batches[8:24]) == 9
    assert sorted(n for b in batches[24:] for n in b) == sorted(len(s.split()) for s in sentences)
    plain, none = make_curriculum_dataset(sentences, batch_size=4, epochs=3)  # no curriculum: the plain pipeline
    assert none is None and len(list(plain)) == 18
    with pytest.raises(ValueError, match="stage 0"):
        make_curriculum_dataset(sentences, batch_size=40, epochs=2, start_length=3)
    with pytest.raises(ValueError, match="at least 2 words"):
        curriculum_lengths(2, 1, 1, 10)


def test_test_trees_sentences_never_reach_training(tmp_path):
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("The cat sat\nShe smiled.\nA dog barked\n" * 10)
    trees = tmp_path / "gold.mrg"
    trees.write_text("(S (NP (PRP she)) (VP (VBD smiled)) (. .))\n")
    data = load_tree_data(str(sentences), test_trees=str(trees))
    assert data.test == ["she smiled"] and data.dropped_test_duplicates == 9  # the 10th was in the test slot
    assert "She smiled" not in data.train + data.validation and "The cat sat" in data.train
    # another gold set held out too: its sentences leave training and validation, the test split stays the first's
    other = tmp_path / "other.mrg"
    other.write_text("(S (NP (DT A) (NN dog)) (VP (VBD barked)))\n")
    both = load_tree_data(str(sentences), test_trees=str(trees), held_out_trees=[str(other)])
    assert both.test == ["she smiled"] and both.dropped_test_duplicates == 18  # one "A dog barked" is in test
    assert "A dog barked" not in both.train + both.validation and "The cat sat" in both.train
    alone = load_tree_data(str(sentences), held_out_trees=[str(other)])  # without test trees: the file's own split
    assert alone.test == ["The cat sat", "She smiled", "A dog barked"] and alone.dropped_test_duplicates == 9
    with pytest.raises(FileNotFoundError, match="missing.mrg"):
        load_tree_data(str(sentences), held_out_trees=[str(tmp_path / "missing.mrg")])


def test_test_length_limit_is_apart_from_the_training_limit(tmp_path):
    sentences = tmp_path / "sentences.txt"
    sentences.write_text("the cat sat\n" * 10 + " ".join(["word"] * 12) + "\n" + "a b c d e f g h\n" * 10)
    trees = tmp_path / "gold.mrg"
    lengths = [3, 8, 12]
    trees.write_text("".join("(S " + " ".join(f"(NN w{i})" for i in range(n)) + ")\n" for n in lengths))
    tied = load_tree_data(str(sentences), max_length=10, test_trees=str(trees))  # as before: the same limit
    assert [len(s.split()) for s in tied.test] == [3, 8] and max(len(s.split()) for s in tied.train) == 8
    # train on up to 15 words and score on the same short trees; the trees stay paired with their sentences
    data = load_tree_data(str(sentences), max_length=15, test_trees=str(trees), test_max_length=10)
    assert data.test == tied.test and data.test == [tree_words(tree) for tree in data.test_trees]
    assert max(len(s.split()) for s in data.train + data.validation) == 12
    longer = load_tree_data(str(sentences), max_length=8, test_trees=str(trees), test_max_length=12)
    assert [len(s.split()) for s in longer.test] == lengths and max(len(s.split()) for s in longer.train) == 8
    # without test trees the limit only shortens the loaded test split (its gold trees along)
    synthetic = load_tree_data("synthetic", max_length=10, synthetic_size=100, test_max_length=6)
    assert synthetic.test and max(len(s.split()) for s in synthetic.test) <= 6
    assert synthetic.test == [tree_words(tree) for tree in synthetic.test_trees]
    assert max(len(s.split()) for s in synthetic.train) > 6
    with pytest.raises(ValueError, match="test_max_length 12 is above max_length 10"):
        load_tree_data("synthetic", max_length=10, synthetic_size=100, test_max_length=12)
    with pytest.raises(ValueError, match="test_max_length must be an integer"):
        load_tree_data(str(sentences), max_length=10, test_trees=str(trees), test_max_length=1)
    with pytest.raises(ValueError, match="no tree of 2..2 words; raise --test-max-length"):
        load_tree_data(str(sentences), max_length=10, test_trees=str(trees), test_max_length=2)


def test_the_shipped_gold_sets_are_disjoint_sentences_of_5_to_10_words_as_the_loader_cuts_them():
    folder = Path(__file__).parents[2] / "benchmarks" / "data"
    sets = {name: read_test_trees(folder / name, 10) for name in ("austen_gold_trees.mrg",
                                                                   "other_sources_gold_trees.mrg")}
    assert [len(trees) for trees in sets.values()] == [156, 72]  # every tree read, none cut by the length limit
    words = {name: [tree_words(tree) for tree in trees] for name, trees in sets.items()}
    for sentences in words.values():
        assert all(5 <= len(sentence.split()) <= 10 for sentence in sentences)
        assert all(strip_punctuation(sentence) == sentence for sentence in sentences)  # leaves are loader words
        assert len(set(sentences)) == len(sentences)
    assert not {s.lower() for s in words["austen_gold_trees.mrg"]} & {s.lower() for s in
                                                                     words["other_sources_gold_trees.mrg"]}
    short = read_test_trees(folder / "other_sources_gold_trees.mrg", 6)
    assert 0 < len(short) < 72 and all(len(tree.leaves()) <= 6 for tree in short)


def test_gold_half_depends_on_the_words_alone_and_cuts_the_austen_set_74_82():
    folder = Path(__file__).parents[2] / "benchmarks" / "data"
    sentences = [tree_words(tree) for tree in read_test_trees(folder / "austen_gold_trees.mrg", 10)]
    halves = [gold_half(sentence) for sentence in sentences]
    assert (halves.count("dev"), halves.count("test")) == (74, 82)  # docs/results/tree_latent.md's dev / test halves
    assert gold_half("Your promise makes me easy") == gold_half("your PROMISE makes me easy") == "test"
    assert [gold_half(s) for s in reversed(sentences)] == halves[::-1]  # order (and other sentences) do not matter
    short = read_test_trees(folder / "austen_gold_trees.mrg", 6)
    assert all(gold_half(tree_words(tree)) == halves[sentences.index(tree_words(tree))] for tree in short)


def test_the_second_annotators_sample_pairs_with_the_gold_sets_line_by_line():
    from benchmarks.tree_agreement import read_sample

    sources, first, second = read_sample()
    assert len(first) == len(second) == 60 and sources.count("austen_gold_trees.mrg") == 30
    assert [tree.leaves() for tree in first] == [tree.leaves() for tree in second]
    gold = read_test_trees(Path(__file__).parents[2] / "benchmarks" / "data" / "other_sources_gold_trees.mrg", 10)
    assert first[-1] == gold[-1]  # the index's line 72 of the second set is its last tree


def test_agreement_benchmark_prints_the_annotators_agreement_and_the_trivial_parsers(capsys):
    from benchmarks.tree_agreement import main

    main([])
    out = capsys.readouterr().out
    assert "98.9 +- 0.5" in out and "right-branching" in out and "left-branching" in out  # all 60 sentences
    with pytest.raises(SystemExit):  # a group without run folders is refused before any work
        main(["--runs", "austen"])


def test_clause_pieces_cut_long_training_sentences_at_semicolons_colons_and_dashes(monkeypatch):
    import types

    import keras_ae.data.text

    assert clause_pieces("She rose; and, smiling, walked to the window -- alone.", 10) == [
        "She rose", "and smiling walked to the window"]  # "alone" has one word: no binary tree
    assert clause_pieces("One two three four five six: seven eight\u2014nine ten", 4) == ["seven eight", "nine ten"]
    split = lambda *sentences: types.SimpleNamespace(sentences=list(sentences))  # noqa: E731
    long = "It was a truth universally acknowledged by all of them; but nobody said it: no"
    corpus = types.SimpleNamespace(train=split("The cat sat.", long, "Yes.", "A dog barked."),
                                   validation=split("She smiled.", long), test=split("He went home.", long))
    monkeypatch.setattr(keras_ae.data.text, "load_text", lambda name: corpus)
    plain = load_tree_data("austen", max_length=6)
    assert plain.train == ["The cat sat", "A dog barked"] and plain.clause_pieces == 0
    data = load_tree_data("austen", max_length=6, clause_pieces=True)
    assert data.train == ["The cat sat", "but nobody said it", "A dog barked"]  # where the sentence stood
    assert data.clause_pieces == 1 and data.validation == ["She smiled"] and data.test == ["He went home"]
    assert data.skipped_long == plain.skipped_long == 3 and data.skipped_short == 1
    with pytest.raises(ValueError, match="named text corpus"):
        load_tree_data("synthetic", clause_pieces=True)


def test_length_contexts_heuristic_finds_subjectless_verbs_and_skips_names_and_questions():
    from benchmarks.tree_length_contexts import calibration_rows, find_contexts, verb_lexicons

    text = ["She would go home", "He would go", "They must see it", "We must see", "She said so", "He said no",
            "I saw it", "You saw him", "I could Mr Darcy", "He could Miss Bennet", "She could have it",
            "I could have them"] + ["we could miss them"] * 2
    base, finite = verb_lexicons(text, min_count=2)
    assert base == {"go", "see", "miss", "have"}  # "Mr", "Miss" inside a sentence are names, not verbs
    assert finite == {"said", "would", "must", "could"}  # a modal after a pronoun is a finite verb too
    assert find_contexts("Go and see it to see", base, finite) == [("start", 0), ("and", 2), ("to", 5)]
    assert find_contexts("She said and said so", base, finite) == [("pronoun + verb", 1), ("and", 3)]
    assert find_contexts("Have you and Miss Bennet", base, finite) == []  # a question's auxiliary; a name
    assert find_contexts("See you and have they", base, finite) == [("start", 0)]  # "and have they": a question
    gold = [nltk.Tree.fromstring("(S (VP (VB Go) (CC and) (VP (VB see) (NP (PRP it)))))")]
    rows = calibration_rows(gold, base, finite)
    assert rows["start"]["both"] == rows["and"]["both"] == 1 and rows["to"]["gold"] == rows["to"]["found"] == 0


def test_thin_repeats_drops_copies_and_caps_each_opening_evenly(tmp_path):
    sentences = ["This package provides a", "This package b", "this package provides a", "She ran",
                 "This package c", "This package d", "He sat"]
    kept, repeats, capped = thin_repeats(sentences, max_opening_share=0.4)  # 6 distinct: at most 2 per opening
    assert repeats == 1 and capped == 2
    assert kept == ["This package provides a", "She ran", "This package d", "He sat"]  # first and last of the four
    assert thin_repeats(sentences) == ([s for i, s in enumerate(sentences) if i != 2], 1, 0)
    assert thin_repeats(sentences, drop_repeats=False)[0] == sentences
    with pytest.raises(ValueError, match="--max-opening-share"):
        thin_repeats(sentences, max_opening_share=0)
    # through the loader: training and validation are thinned, the test split is not; a bad share fails first
    lines = tmp_path / "sentences.txt"
    lines.write_text("This package is\n" * 20 + "".join(f"Word {i} here\n" for i in range(20)))
    data = load_tree_data(str(lines), drop_repeats=True, max_opening_share=0.5)
    assert data.train.count("This package is") == 1 and data.repeats_dropped == 16  # 2 copies went to test
    assert data.validation == ["This package is", "Word 7 here", "Word 17 here"] and data.openings_capped == 0
    assert data.test.count("This package is") == 2
    with pytest.raises(ValueError, match="must be in"):
        load_tree_data(str(tmp_path / "missing.txt"), max_opening_share=1.5)


def test_prose_is_a_named_corpus_of_english_prose_without_the_package_descriptions(monkeypatch):
    import types

    from keras_ae.data import corpus

    assert corpus.CORPORA["prose"] == ("austen", "novels", "bible")
    split = lambda *sentences: types.SimpleNamespace(sentences=list(sentences))  # noqa: E731
    loaded = []
    monkeypatch.setattr("keras_ae.data.trees.load_corpus", lambda name, progress: loaded.append(name) or
                        types.SimpleNamespace(train=split("And the lord spake.", "And the lord spake."),
                                              validation=split("He sat down."), test=split("She ran home.")))
    data = load_tree_data("prose", clause_pieces=True, drop_repeats=True)  # the named corpora's options apply
    assert loaded == ["prose"] and data.train == ["And the lord spake"] and data.repeats_dropped == 1
    with pytest.raises(ValueError, match="does not apply to prose"):
        load_tree_data("prose", gold_trees="trees.mrg")
