"""Tests for benchmarks/tree_bonus_transfer.py: the right-edge bonus chosen on one gold set, scored on another."""

import numpy as np

from benchmarks.tree_bonus_transfer import GOLD_SETS, GoldSet, chosen_bonus, f1_by_bonus, transfer_rows
from benchmarks.tree_ensemble import span_indicators


def test_sure_marginals_keep_their_trees_under_a_small_bonus_and_give_way_to_right_branching_under_a_large_one():
    gold_set = GoldSet(GOLD_SETS[1], max_length=10)
    sure = span_indicators(gold_set.gold, gold_set.width)  # a "run" sure of every gold span and of nothing else
    scores = f1_by_bonus(np.stack([sure, sure * 0.5]), gold_set, [(0,), (1,), (0, 1)], [0.0, 0.2, 1.5])
    assert scores.shape == (3, 3)  # [bonuses, subsets]
    assert np.allclose(scores[0], scores[0, 0]) and scores[0, 0] > gold_set.right_f1 + 20  # scale: same trees
    assert np.isclose(scores[1, 0], scores[0, 0])  # 0.2 at the right edge outweighs no sure gold span
    assert np.allclose(scores[2], gold_set.right_f1)  # above every marginal: right-branching trees
    assert chosen_bonus(scores, [0.0, 0.2, 1.5]) == 0.0  # ties go to the smaller bonus


def test_the_bonus_is_chosen_on_one_set_and_scored_on_the_other():
    sets = [GoldSet(path, max_length=10) for path in GOLD_SETS]
    bonuses = [0.0, 0.5, 0.75]
    tune = np.array([[50.0, 52.0], [60.0, 62.0], [58.0, 59.0]])  # [bonuses, runs]: best at 0.5
    test = np.array([[40.0, 44.0], [56.0, 58.0], [58.0, 60.0]])  # best at 0.75; right-branching 55.2
    rows = transfer_rows([tune, test], sets, bonuses, size=1)
    forward = rows["K=1: chosen on austen_gold_trees, scored on other_sources_gold_trees"]
    assert forward["b chosen"] == "0.5" and forward["F1 at it (above RB)"] == "57.0 (2 of 2)"
    assert forward["own best b: F1"] == "0.75: 59.0" and forward["chosen minus best"] == "-2.0"
    assert forward["b chosen per run"] == "57.0"  # each run's own best on the tuning set is 0.5 too
    backward = rows["K=1: chosen on other_sources_gold_trees, scored on austen_gold_trees"]
    assert backward["b chosen"] == "0.75" and backward["F1 at it (above RB)"].startswith("58.5 (0 of 2)")
