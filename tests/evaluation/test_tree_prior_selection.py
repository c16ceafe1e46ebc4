"""benchmarks/tree_prior_selection.py: R is chosen on the dev half of the gold trees, over the seeds every R has, and
reported on the test half."""

import json

import pytest

from benchmarks.tree_prior_selection import main

# two sentences of each half (keras_ae.data.trees.gold_half): "the cat saw a dog" and "we saw the red car" are test,
# "a dog saw the cat" and "the old man ate fish" dev; WRONG shares no span with GOLD (sentence F1 0)
SENTENCES = ["the cat saw a dog", "a dog saw the cat", "the old man ate fish", "we saw the red car"]
GOLD = ["(S (NP the cat) (VP saw (NP a dog)))", "(S (NP a dog) (VP saw (NP the cat)))",
        "(S (NP the old man) (VP ate fish))", "(S (NP we) (VP saw (NP the red car)))"]
WRONG = ["(X the (X (X (X cat saw) a) dog))", "(X a (X (X (X dog saw) the) cat))",
         "(X the (X (X (X old man) ate) fish))", "(X (X (X (X we saw) the) red) car)"]


def _run(folder, gold, prior, seed, trees):
    folder.mkdir(parents=True)
    flags = {"data": "synthetic", "test_trees": str(gold), "max_length": 10, "right_edge_prior": prior, "seed": seed}
    (folder / "config.json").write_text(json.dumps({"flags": flags}))
    (folder / "metrics.json").write_text("{}")
    (folder / "test_trees.json").write_text(json.dumps({"sentences": SENTENCES, "compound PCFG": trees}))


def test_prior_is_chosen_on_the_dev_half_over_shared_seeds_with_ties_to_the_smaller_prior(tmp_path, capsys):
    gold = tmp_path / "gold.mrg"
    gold.write_text("\n".join(GOLD) + "\n")
    runs = tmp_path / "runs"
    _run(runs / "r0_s0", gold, 0.0, 0, WRONG)
    _run(runs / "r0_s1", gold, 0.0, 1, GOLD)  # perfect, but seed 1 was not run with R = 0.2: not chosen by
    _run(runs / "r1_s0", gold, 0.1, 0, GOLD)
    _run(runs / "r1_s1", gold, 0.1, 1, WRONG)
    _run(runs / "r2_s0", gold, 0.2, 0, GOLD[:2] + WRONG[2:])  # dev half: one sentence right, one wrong
    result = main([str(runs), "--held-out-trees"])
    assert result["seeds"] == [0]
    assert result["dev_means"] == {0.0: 0.0, 0.1: 100.0, 0.2: 50.0} and result["chosen"] == 0.1
    row = result["rows"]["R = 0.1"]
    assert row["runs (seeds)"] == "2 (0 1)" and row["test F1"] == "50.0 (0.0..100.0)" and row["test > RB"] == "1 of 2"
    assert "chosen on the dev half: R = 0.1" in capsys.readouterr().out
    _run(runs / "r3_s0", gold, 0.3, 0, GOLD)
    _run(runs / "r1_s0" / "nested_r3_s0", gold, 0.3, 1, GOLD)  # only folders and their direct children are read
    assert main([str(runs), "--held-out-trees"])["chosen"] == 0.1  # 0.3 ties 0.1 at 100 on seed 0: the smaller


def test_no_seed_shared_by_every_prior_and_runs_of_other_gold_sets_are_refused(tmp_path):
    gold = tmp_path / "gold.mrg"
    gold.write_text("\n".join(GOLD) + "\n")
    _run(tmp_path / "a", gold, 0.0, 0, GOLD)
    _run(tmp_path / "b", gold, 0.1, 1, GOLD)
    with pytest.raises(ValueError, match="No seed was run with every R"):
        main([str(tmp_path / "a"), str(tmp_path / "b"), "--held-out-trees"])
    other = tmp_path / "other.mrg"
    other.write_text("\n".join(GOLD[:3]) + "\n")
    _run(tmp_path / "c", other, 0.1, 0, GOLD)
    with pytest.raises(ValueError, match="parsed sentences differ"):
        main([str(tmp_path / "c"), "--held-out-trees"])
