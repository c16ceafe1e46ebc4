"""Tests for the parsing metrics on hand-made trees."""

import math

import numpy as np
import pytest
import tensorflow as tf

from keras_ae.evaluation.trees import (
    agreement_f1,
    baseline_f1,
    clause_groupings,
    labelled_spans,
    left_branching_spans,
    parsing_f1,
    perplexity,
    random_spans,
    recall_by_label,
    right_branching_spans,
    sentence_f1,
    sentence_f1_values,
    spans_to_tree,
    standard_error,
    transitive_clauses,
    tree_spans,
)

GOLD = "(S (NP (DT the) (NN cat)) (VP (VBD sat) (PP (IN on) (NP (DT the) (NN mat)))))"


def test_tree_spans_drop_trivial_spans_and_repeats():
    spans, length = tree_spans(GOLD)
    assert length == 6
    assert spans == {(0, 2), (2, 6), (3, 6), (4, 6)}  # no single words, no whole sentence
    unary, _ = tree_spans("(S (NP (NP (DT a) (NN b))) (VP (V c)))")
    assert unary == {(0, 2)}


def test_sentence_and_corpus_f1_by_hand():
    predicted = "(X (X (X the) (X cat)) (X (X sat) (X (X on) (X (X the) (X mat)))))"
    assert parsing_f1([predicted], [GOLD]) == {"sentence_f1": 100.0, "corpus_f1": 100.0}
    right = "(X the (X cat (X sat (X on (X the mat)))))"  # spans (1,6) (2,6) (3,6) (4,6): 3 of 4 right
    scores = parsing_f1([right, predicted], [GOLD, GOLD])
    assert scores["sentence_f1"] == pytest.approx(100 * (0.75 + 1.0) / 2)
    assert scores["corpus_f1"] == pytest.approx(100 * 7 / 8)  # tp 7, fp 1, fn 1
    # Empty gold and empty prediction (two words): F1 1; empty gold, some prediction: recall 1, precision 0.
    assert sentence_f1(set(), set()) == 1.0
    assert sentence_f1({(0, 2)}, set()) == 0.0
    with pytest.raises(ValueError, match="Sentence 0"):
        parsing_f1(["(X a b)"], [GOLD])
    with pytest.raises(ValueError, match="one each"):
        parsing_f1([GOLD, GOLD], [GOLD])


def test_baselines():
    assert right_branching_spans(5) == {(1, 5), (2, 5), (3, 5)}
    assert left_branching_spans(5) == {(0, 2), (0, 3), (0, 4)}
    rng = np.random.default_rng(0)
    for _ in range(20):
        spans = random_spans(7, rng)
        assert len(spans) == 5  # a binary tree over 7 words has 6 spans of 2+ words, one the whole sentence
        assert all(0 <= s < e <= 7 and e - s >= 2 for s, e in spans)
    rows = baseline_f1([GOLD] * 3)
    assert rows["right_branching"]["sentence_f1"] == pytest.approx(75.0)
    assert rows["left_branching"]["sentence_f1"] == pytest.approx(100 * 2 * 0.25 * 0.25 / 0.5)
    assert 0 <= rows["random"]["sentence_f1"] <= 100


def test_spans_to_tree_and_perplexity():
    tree = spans_to_tree({(0, 2), (2, 4)}, ["a", "b", "c", "d"])
    assert tree == "(X (X a b) (X c d))"
    assert tree_spans(tree)[0] == {(0, 2), (2, 4)}
    assert perplexity([math.log(0.5) * 3], [2]) == pytest.approx(2.0)


def test_lstm_language_model_is_seeded_without_reseeding_the_caller():
    import keras

    from keras_ae.evaluation.trees import lstm_language_model_perplexity

    sentences = ["the dog saw a cat", "a cat saw the dog", "the cat ran", "a dog ran", "the dog saw the cat"] * 8
    vocabulary = sorted({word for sentence in sentences for word in sentence.split()})
    keras.utils.set_random_seed(7)
    expected_draw = np.random.random()  # the caller's global stream, which the probe must not reseed
    keras.utils.set_random_seed(7)
    first, parameters = lstm_language_model_perplexity(sentences, sentences[:5], vocabulary, hidden_dim=16,
                                                       word_dim=8, epochs=3, seed=3)
    second, _ = lstm_language_model_perplexity(sentences, sentences[:5], vocabulary, hidden_dim=16, word_dim=8,
                                               epochs=3, seed=3)
    assert abs(first - second) < 1e-4 and parameters > 0
    assert first < len(vocabulary) + 2  # it learned something: better than a uniform guess over the vocabulary
    assert np.random.random() == expected_draw


def test_recall_by_label_and_standard_errors():
    assert labelled_spans("(S (NP (NP (DT a) (NN b))) (VP (V c)))") == {(0, 2): "NP"}
    assert labelled_spans("(S (S (VP (V go) (ADVP (RB now)))) (NP (PRP he)) (VP (VBD said)))") == {(0, 2): "S"}
    right = right_branching_spans(6)  # finds the VP, the PP and the object NP of GOLD, not the subject NP (0, 2)
    recall = recall_by_label([right, right], [GOLD, GOLD])
    assert list(recall) == ["NP", "PP", "VP"]  # the most frequent label first
    assert recall["NP"] == {"recall": 50.0, "count": 4} and recall["VP"] == {"recall": 100.0, "count": 2}
    values = sentence_f1_values([right, tree_spans(GOLD)[0]], [tree_spans(GOLD)[0]] * 2)
    assert values.tolist() == [75.0, 100.0] and standard_error(values) == pytest.approx(12.5)
    assert math.isnan(standard_error([1.0]))


def test_clause_groupings_tell_the_two_optima_apart():
    gold = ["(S (NP (DT the) (NN cat)) (VP (VBD saw) (NP (DT a) (NN dog)) (PP (IN in) (NP (NNP bath)))))",
            "(S (NP (PRP she)) (VP (VBD slept)))"]  # one transitive clause: subject 0..2, verb 2, VP 2..7
    assert transitive_clauses(gold[0]) == [(0, 2, 7)] and transitive_clauses(gold[1]) == []
    modified = "(S (NP (PRP she)) (VP (VP (VBD saw) (NP (PRP it))) (PP (IN in) (NP (NNP bath)))))"
    assert transitive_clauses(modified) == [(0, 1, 3)]  # the inner verb phrase "saw it"
    good = [tree_spans("(X (X the cat) (X (X saw (X a dog)) (X in bath)))")[0], set()]
    bad = [tree_spans("(X (X (X (X the cat) saw) (X a dog)) (X in bath))")[0], set()]
    assert clause_groupings(good, gold) == {"clauses": 1, "verb_object": 100.0, "subject_verb": 0.0}
    assert clause_groupings(bad, gold) == {"clauses": 1, "verb_object": 0.0, "subject_verb": 100.0}


def test_paper_script_convention_keeps_a_unary_root_copy_and_skips_empty_sentences():
    import nltk

    from benchmarks.tree_paper_scorer import script_gold_spans, script_sentence_f1

    imperative = nltk.Tree.fromstring("(S (VP (VB go) (NP (DT the) (NN way)) (ADVP home)))")
    assert script_gold_spans(imperative) == {(1, 3), (0, 4)}  # the VP's copy of the whole sentence stays
    assert tree_spans(imperative)[0] == {(1, 3)}
    # a sentence with an empty gold set is left out of the mean (ours would score it 0 against a binary parse)
    assert script_sentence_f1([{(1, 3)}, {(0, 2)}], [{(1, 3)}, set()]) == (100.0, 1)


def test_gradient_norm_benchmark_measures_the_norm_that_clipping_sees():
    from benchmarks.tree_gradient_norms import gradient_norms
    from keras_ae.data.trees import build_vocabulary, load_tree_data
    from keras_ae.models.tree_latent import TreeLatent

    data = load_tree_data("synthetic", max_length=6, synthetic_size=40)
    model = TreeLatent(build_vocabulary(data.train), num_nonterminals=3, num_preterminals=4, symbol_dim=8, code_dim=0,
                       seed=0)  # the neural PCFG: no sampled z, so the loss is deterministic
    batch = tf.constant(data.train[:8])
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(model.grammar.log_likelihood(batch, tf.zeros([8, 0])))
    expected = float(tf.linalg.global_norm(tape.gradient(loss, model.trainable_variables)))
    norms = gradient_norms(model, [batch, tf.constant(data.train[8:12])])
    assert norms.shape == (2,) and norms[0] == pytest.approx(expected, rel=1e-4) and norms[1] != norms[0]


def test_tree_shape_tells_the_branching_directions_apart():
    from keras_ae.evaluation.trees import tree_shape

    right = tree_shape(["(X a (X b (X c (X d e))))"])
    assert right == {"depth": 4.0, "right_heavy": 100.0, "like_right": 100.0, "like_left": 0.0}
    left = tree_shape(["(X (X (X (X a b) c) d) e)"])
    assert left["right_heavy"] == 0.0 and left["like_left"] == 100.0 and left["depth"] == 4.0
    # a gold tree: the unary chain S -> VP repeats the whole sentence, which counts once in the depth
    gold = tree_shape(["(S (VP (VB go) (NP (DT the) (NN way)) (ADVP home)))", "(S (NP the cat) (VP sat))"])
    assert gold["depth"] == 2.0  # "the": NP and VP (= S); "the" of the second: NP and S
    assert gold["right_heavy"] == 0.0  # the VP's first child (1 word) and last (1 word) tie; the S's NP is wider
    assert gold["like_right"] == 0.0 and gold["like_left"] == 50.0
    # by gold label: ((the dog) saw) (a cat) is left-heavy at the sentence and on a span that is no gold constituent
    shape = tree_shape(["(X (X (X the dog) saw) (X a cat))"], ["(S (NP the dog) (VP saw (NP a cat)))"])
    assert shape["right_heavy_by_label"] == {"sentence": {"count": 1, "right_heavy": 0.0},
                                             "not gold": {"count": 1, "right_heavy": 0.0}}
    shape = tree_shape(["(X (X the dog) (X saw (X a cat)))"], ["(S (NP the dog) (VP saw (NP a cat)))"])
    assert shape["right_heavy_by_label"] == {"VP": {"count": 1, "right_heavy": 100.0},
                                             "sentence": {"count": 1, "right_heavy": 100.0}}  # 2 words, then 3
    # the first split: ((she saw him) (at home)) splits later than the gold (she (saw him at home)); unary chains
    # at the top (S -> S) are looked through
    gold = ["(S (S (NP she) (VP saw (NP him) (PP at home))))", "(S (NP she) (VP saw (NP him)))"]
    shape = tree_shape(["(X (X she (X saw him)) (X at home))", "(X she (X saw him))"], gold)
    assert shape["top_split"] == {"same": 50.0, "later": 50.0}


def test_preterminal_tags_many_to_one():
    from keras_ae.evaluation.trees import preterminal_tags

    gold = ["(S (NP (PRP she)) (VP (VBD walked) (ADVP (RB slowly))))", "(S (NP (PRP he)) (VP (VBD ran) home))"]
    # T1 sits on pronouns, T2 on verbs: every tagged word right ("home" has no tag of its own: skipped)
    found = preterminal_tags(["(NT0 (T1 she) (NT1 (T2 walked) (T3 slowly)))", "(NT0 (T1 he) (NT1 (T2 ran) (T3 home)))"],
                             gold)
    assert found == {"many_to_one": 100.0, "verbs": 100.0, "words": 5}
    # one symbol for most pronouns and verbs: it maps to the pronouns, so only the one verb under T2 counts as a verb
    gold.append("(S (NP (PRP it)) (VP (VBD ran)))")
    merged = preterminal_tags([b"(NT0 (T1 she) (NT1 (T1 walked) (T3 slowly)))",
                               "(NT0 (T1 he) (NT1 (T1 ran) (T3 home)))", "(NT0 (T1 it) (T2 ran))"], gold)
    assert merged == {"many_to_one": pytest.approx(100 * 5 / 7), "verbs": pytest.approx(100 / 3), "words": 7}


def test_agreement_is_symmetric_and_checks_the_words():
    flat = "(S (NP (DT the) (NN cat)) (VBD sat) (IN on) (NP (DT the) (NN mat)))"  # GOLD without VP and PP
    one, other = agreement_f1([GOLD, GOLD], [flat, GOLD]), agreement_f1([flat, GOLD], [GOLD, GOLD])
    assert one["sentences"].tolist() == other["sentences"].tolist() == [2 * 2 / (4 + 2) * 100, 100.0]
    assert one["sentence_f1"] == other["sentence_f1"] and one["corpus_f1"] == other["corpus_f1"]
    with pytest.raises(ValueError, match="Sentence 1: the annotators' trees have different words"):
        agreement_f1([GOLD, GOLD], [GOLD, GOLD.replace("mat", "rug")])
    with pytest.raises(ValueError, match="2 trees of the first annotator for 1"):
        agreement_f1([GOLD, GOLD], [GOLD])
