"""Tests for benchmarks/tree_ensemble.py: MBR trees over averaged span marginals of several compound PCFGs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.tree_ensemble import (
    agreement_thirds,
    ensemble_scores,
    mbr_spans,
    medoid_spans,
    shared_errors,
    span_indicators,
    subset_scores,
    unlabelled_marginals,
)
from keras_ae.data.trees import build_vocabulary, load_tree_data
from keras_ae.evaluation.trees import right_branching_spans, sentence_f1_values, tree_spans
from keras_ae.models.tree_latent import TreeLatent

SIZES = dict(num_nonterminals=4, num_preterminals=6, symbol_dim=16, encoder_dim=8, word_dim=8, code_dim=4)


@pytest.fixture(scope="module")
def runs():
    """Three untrained compound PCFGs of different seeds (different grammars) and the synthetic test data."""
    data = load_tree_data("synthetic", max_length=8, synthetic_size=120)
    models = []
    for seed in range(3):
        keras.utils.set_random_seed(seed)
        models.append(TreeLatent(build_vocabulary(data.train), seed=seed, **SIZES))
    return models, data.test[:12], data.test_trees[:12]


def _is_binary_tree(spans, length):
    """A binary tree over `length` words has `length - 2` non-trivial spans, any two nested or disjoint."""
    nested = all(a[1] <= b[0] or b[1] <= a[0] or (b[0] <= a[0] and a[1] <= b[1]) or (a[0] <= b[0] and b[1] <= a[1])
                 for a in spans for b in spans)
    return len(spans) == max(length - 2, 0) and nested


def test_ensemble_of_one_is_the_model_own_tree(runs):
    models, sentences, _ = runs
    lengths = [len(sentence.split()) for sentence in sentences]
    marginals = unlabelled_marginals(models[0], sentences, batch_size=5)  # three batches padded to one width
    assert marginals.shape == (len(sentences), max(lengths), max(lengths))
    own = [tree_spans(tree.decode())[0] for tree in models[0].parse(tf.constant(sentences)).numpy()]
    assert mbr_spans(marginals, lengths) == own
    # the marginals of width >= 2 inside the sentence are probabilities; single words and padding are zero
    assert np.all(marginals[:, 0] == 0) and np.all(marginals >= 0) and np.all(marginals <= 1 + 1e-5)
    assert np.all(marginals[np.array(lengths) < max(lengths), -1] == 0)


def test_averaged_marginals_give_binary_trees_and_scores(runs):
    models, sentences, gold = runs
    lengths = [len(sentence.split()) for sentence in sentences]
    width = max(lengths)
    marginals = np.stack([unlabelled_marginals(model, sentences, width) for model in models])
    together = mbr_spans(marginals.mean(axis=0), lengths)
    assert all(_is_binary_tree(spans, n) for spans, n in zip(together, lengths))
    own = [mbr_spans(m, lengths) for m in marginals]
    assert own[0] != own[1]  # the seeds' grammars differ, so the ensemble has something to average
    gold_spans = [tree_spans(tree)[0] for tree in gold]
    scores = ensemble_scores(marginals, own, lengths, gold_spans, [0, 1, 2])
    assert scores["oracle"] >= max(scores["runs"], scores["medoid"]) and 0 <= scores["runs"] <= 100
    alone = ensemble_scores(marginals, own, lengths, gold_spans, [1])
    assert len({alone[name] for name in ("marginals", "span vote", "medoid", "oracle", "runs")}) == 1  # that run
    right = np.mean(sentence_f1_values([right_branching_spans(n) for n in lengths], gold_spans))
    assert alone["marginals + RB"] == pytest.approx(right)  # one run's marginals cannot outvote RB
    # right association on the averaged marginals: b = 0 is the plain ensemble, b > 1 the right-branching tree
    biased = {b: ensemble_scores(marginals, own, lengths, gold_spans, [0, 1, 2], bonus=b) for b in (0.0, 1.5)}
    assert biased[0.0]["marginals + 0"] == scores["marginals"]
    assert biased[1.5]["marginals + 1.5"] == pytest.approx(right) and "marginals + 1.5" not in scores
    # every subset's trees read in one batched call: the same scores (random trees too) as one subset at a time
    subsets, rng = [[0, 2], [0, 1, 2]], np.random.default_rng(7)
    one_by_one = [ensemble_scores(marginals, own, lengths, gold_spans, members, rng, 0.5) for members in subsets]
    assert subset_scores(marginals, own, lengths, gold_spans, subsets, np.random.default_rng(7), 0.5) == one_by_one
    # the whole table of gold spans by how many runs find them counts every gold span once
    rows = shared_errors(own, gold_spans, gold, np.array(lengths))
    assert sum(row["gold spans"] for row in rows.values()) == sum(len(spans) for spans in gold_spans)
    thirds = agreement_thirds(marginals.mean(axis=0), together, lengths, gold_spans)
    assert sum(row["sentences"] for row in thirds.values()) == len(sentences)
    low, high = (float(thirds[name]["agreement"].split("..")[i]) for name, i in (("third 1", 1), ("third 3", 0)))
    assert low <= high


def test_span_vote_and_medoid_follow_the_majority():
    right = {(1, 5), (2, 5), (3, 5)}  # (w0 (w1 (w2 (w3 w4))))
    left = {(0, 2), (0, 3), (0, 4)}
    votes = np.mean([span_indicators([tree], 5) for tree in (right, right, left)], axis=0)  # [1, 5, 5]
    assert votes[0, 3, 1] == pytest.approx(2 / 3) and votes[0, 1, 0] == pytest.approx(1 / 3)
    assert mbr_spans(votes, [5]) == [right]
    assert medoid_spans([[right], [left], [right]]) == [right]


def test_sizes_outside_the_runs_are_refused_before_any_work(capsys):
    from benchmarks.tree_ensemble import main

    with pytest.raises(SystemExit):
        main(["no/such/run_a", "no/such/run_b", "--sizes", "3"])
    assert "--sizes must be between 1 and the number of runs (2)" in capsys.readouterr().err
