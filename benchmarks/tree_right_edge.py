"""Sentence F1 of finished compound-PCFG runs re-parsed with right association in decoding (`right_edge_bonus`):
the MBR tree over each run's span marginals plus a bonus b for every span that ends at the sentence's last word.

    python benchmarks/tree_right_edge.py runs/base_s{0..8}                       # b = 0, 0.25, 0.5, 0.75, 1
    python benchmarks/tree_right_edge.py runs/base_s{0..8} --bonus 0.5

Nothing is trained: each run's kept checkpoint is rebuilt from its flags (`rebuild_run`), its unlabelled span
marginals under the posterior mean z are read once (`tree_ensemble.unlabelled_marginals`), and the tree for every b
is the MBR tree over marginals + b * [span ends at the last word], as `CompoundPCFG(right_edge_bonus=b).parse`
reads it. Per run and b: sentence F1, its paired per-sentence difference to the run's own trees (b = 0) and to
right-branching trees with standard errors, the share of sentences whose tree is the right-branching one, the
difference to right-branching on the other sentences (where the prior let the grammar depart from it) and the
two parts of the difference to right-branching (`tree_errors.py`: right-edge gold spans lost, interior ones won);
then the mean over runs and how many runs are above right-branching. b > 1 gives the right-branching tree.
"""

import argparse
from pathlib import Path

import numpy as np
import tensorflow as tf

from benchmarks.tree_ensemble import mbr_spans, unlabelled_marginals
from benchmarks.tree_errors import f1_parts
from keras_ae.evaluation.trees import right_branching_spans, sentence_f1_values, standard_error, tree_spans
from keras_ae.layers.judges.grammar import right_edge_spans
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import rebuild_run


def bonus_rows(folder, bonuses):
    """`({b: (per-sentence F1, whether each tree is the right-branching one, (lost, won))}, right-branching's
    per-sentence F1)` of one run's kept checkpoint on its gold test trees; `(lost, won)` are the mean parts of F1
    minus right-branching's made by right-edge gold spans lost and interior ones won (`tree_errors.f1_parts`)."""
    _, data, model = rebuild_run(folder, epoch="selected")
    if data.test_trees is None:
        raise ValueError(f"{folder}: the run's data has no gold trees to score against.")
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
    return rows, sentence_f1_values(right_spans, gold)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="tree_latent run folders with gold test trees")
    parser.add_argument("--bonus", type=float, nargs="*", default=[0.0, 0.25, 0.5, 0.75, 1.0],
                        help="right-edge bonuses b to decode with (0: the run's own MBR trees)")
    args = parser.parse_args(argv)
    if any(not b >= 0 for b in args.bonus):
        parser.error(f"--bonus values must be >= 0; got {args.bonus}.")
    bonuses = sorted(set(args.bonus) | {0.0})
    table, means = {}, {b: [] for b in bonuses}
    for folder in args.runs:
        rows, right = bonus_rows(folder, bonuses)
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
