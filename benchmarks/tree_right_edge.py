"""Sentence F1 of finished compound-PCFG runs re-parsed with right association in decoding (`right_edge_bonus`):
the MBR tree over each run's span marginals plus a bonus b for every span that ends at the sentence's last word.

    python benchmarks/tree_right_edge.py runs/base_s{0..8}                       # b = 0, 0.25, 0.5, 0.75, 1
    python benchmarks/tree_right_edge.py runs/base_s{0..8} --bonus 0.5
    python benchmarks/tree_right_edge.py runs/base_s{0..8} --test-trees benchmarks/data/other_sources_gold_trees.mrg

Nothing is trained: each run's kept checkpoint is rebuilt from its flags (`rebuild_run`), its unlabelled span
marginals under the posterior mean z are read once (`tree_ensemble.unlabelled_marginals`), and the tree for every b
is the MBR tree over marginals + b * [span ends at the last word], as `CompoundPCFG(right_edge_bonus=b).parse`
reads it. Per run and b: sentence F1, its paired per-sentence difference to the run's own trees (b = 0) and to
right-branching trees with standard errors, the share of sentences whose tree is the right-branching one, the
difference to right-branching on the other sentences (where the prior let the grammar depart from it) and the
two parts of the difference to right-branching (`tree_errors.py`: right-edge gold spans lost, interior ones won);
then the mean over runs and how many runs are above right-branching. b > 1 gives the right-branching tree.
`--test-trees FILE` scores the same weights on another gold set instead of the runs' own test trees (the runs keep
their training data and vocabulary); the trivial parsers' F1 on the gold set scored is printed first.
"""

import argparse
from pathlib import Path

import numpy as np
import tensorflow as tf

from benchmarks.tree_ensemble import mbr_spans, unlabelled_marginals
from benchmarks.tree_errors import f1_parts
from keras_ae.data.trees import read_test_trees, tree_words
from keras_ae.evaluation.trees import (
    baseline_f1,
    right_branching_spans,
    sentence_f1_values,
    standard_error,
    tree_spans,
)
from keras_ae.layers.judges.grammar import right_edge_spans
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import rebuild_run


def bonus_rows(folder, bonuses, test_trees=None):
    """`({b: (per-sentence F1, whether each tree is the right-branching one, (lost, won))}, right-branching's
    per-sentence F1, the gold trees)` of one run's kept checkpoint on its gold test trees (or on the trees of the
    file `test_trees`); `(lost, won)` are the mean parts of F1 minus right-branching's made by right-edge gold spans
    lost and interior ones won (`tree_errors.f1_parts`)."""
    args, data, model = rebuild_run(folder, epoch="selected")
    if test_trees is not None:
        data.test_trees = read_test_trees(test_trees, args.test_max_length or args.max_length)
        data.test = [tree_words(tree) for tree in data.test_trees]
        seen = set(data.train + data.validation) & set(data.test)
        if seen:
            print(f"{Path(folder).name}: {len(seen)} of the {len(data.test)} sentences of {test_trees} are among its "
                  "training or validation sentences")
    if data.test_trees is None:
        raise ValueError(f"{folder}: the run's data has no gold trees to score against; give --test-trees.")
    lengths = [len(sentence.split()) for sentence in data.test]
    gold = [tree_spans(tree)[0] for tree in data.test_trees]
    marginals = unlabelled_marginals(model, data.test)
    right_spans = [right_branching_spans(n) for n in lengths]
    right = right_edge_spans(tf.constant(lengths), marginals.shape[-1]).numpy()
    rows = {}
    for bonus in bonuses:
        spans = mbr_spans(marginals + bonus * right, lengths)
        parts = np.mean([f1_parts(tree, g, n) for tree, g, n in zip(spans, gold, lengths)], axis=0)
        rows[bonus] = (sentence_f1_values(spans, gold), np.array([s == r for s, r in zip(spans, right_spans)]), parts)
    return rows, sentence_f1_values(right_spans, gold), data.test_trees


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="tree_latent run folders with gold test trees")
    parser.add_argument("--bonus", type=float, nargs="*", default=[0.0, 0.25, 0.5, 0.75, 1.0],
                        help="right-edge bonuses b to decode with (0: the run's own MBR trees)")
    parser.add_argument("--test-trees", help="a Penn Treebank bracket file to score on instead of the runs' own gold "
                        "test trees (e.g. benchmarks/data/other_sources_gold_trees.mrg)")
    args = parser.parse_args(argv)
    if any(not b >= 0 for b in args.bonus):
        parser.error(f"--bonus values must be >= 0; got {args.bonus}.")
    bonuses = sorted(set(args.bonus) | {0.0})
    table, means = {}, {b: [] for b in bonuses}
    for index, folder in enumerate(args.runs):
        rows, right, gold_trees = bonus_rows(folder, bonuses, args.test_trees)
        if index == 0:
            baselines = baseline_f1(gold_trees)
            print(f"{len(gold_trees)} gold trees; sentence F1 of right-branching "
                  f"{baselines['right_branching']['sentence_f1']:.1f}, left-branching "
                  f"{baselines['left_branching']['sentence_f1']:.1f}, random {baselines['random']['sentence_f1']:.1f} "
                  f"(+- {baselines['random']['sentence_f1_std']:.1f} over 5 draws)")
        for bonus, (values, share, (lost, won)) in rows.items():
            own, difference = values - rows[0.0][0], values - right
            departs = difference[~share]  # the sentences whose tree is not the right-branching one
            means[bonus].append((values.mean(), own.mean(), difference.mean()))
            table[f"{Path(folder).name}, b={bonus:g}"] = {
                "sentence F1": f"{values.mean():.1f}", "minus b=0": f"{own.mean():+.1f} +- {standard_error(own):.1f}",
                "minus RB": f"{difference.mean():+.1f} +- {standard_error(difference):.1f}",
                "RB trees": f"{100 * share.mean():.0f}%",
                "minus RB where not RB": f"{departs.mean():+.1f} +- {standard_error(departs):.1f}" if len(departs) > 1
                else "-",
                "lost right-edge": f"{lost:.1f}", "won interior": f"{won:+.1f}",
            }
    print(format_table(table, list(next(iter(table.values())))))
    summary = {}
    for bonus, values in means.items():
        f1, own, difference = np.array(values).T
        summary[f"b={bonus:g}"] = {
            "mean F1": f"{f1.mean():.1f}", "SE across runs": f"{standard_error(f1):.1f}",
            "minus b=0 (mean)": f"{own.mean():+.1f}", "better than b=0": f"{np.sum(own > 0)} of {len(own)}",
            "minus RB (mean)": f"{difference.mean():+.1f}", "above RB": f"{np.sum(difference > 0)} of {len(f1)}",
        }
    print(f"\nOver {len(args.runs)} runs:")
    print(format_table(summary, list(next(iter(summary.values())))))


if __name__ == "__main__":
    main()
