"""Do several compound-PCFG runs parse better together than alone? Minimum-Bayes-risk trees over the average of K
finished runs' span marginals, scored on gold test trees beside the single runs, right-branching trees and trivial
ensembles of the runs' own trees; then how far the runs' errors are shared.

    python benchmarks/tree_ensemble.py runs/base_s{0..8}                   # K = 1, 3, 5 and all runs
    python benchmarks/tree_ensemble.py runs/base_s{0..8} --sizes 3 --labels NP VP PP S
    python benchmarks/tree_ensemble.py runs/base_s{0..8} --sizes 1 3 --bonus 0.5 \
        --test-trees benchmarks/data/other_sources_gold_trees.mrg

Averaging unsupervised parsers' span scores and reading the tree with the most expected correct spans is the tree
averaging of Shayegh et al. (ICLR 2024, "Ensemble Distillation for Unsupervised Constituency Parsing"). Nothing is
trained: each run's kept checkpoint is rebuilt from its flags (`rebuild_run`) and parses the first run's test
sentences (runs of the synthetic treebank with other seeds were trained on other samples: the output says how many
of those test sentences each saw in training). For every subset of K runs, rows (mean, min and max over the subsets,
and the share of subsets above right-branching):

- `marginals`: the MBR tree over the mean of the K runs' unlabelled span marginals (each under its posterior mean z);
- `span vote`: the MBR tree over the share of the K runs' own (MBR) trees that hold each span (votes, not
  posteriors: the trivial ensemble);
- `medoid`: per sentence, the run tree with the largest F1 summed against the other K - 1 trees;
- `oracle`: per sentence, the run tree with the best F1 against the gold tree (an upper bound no unsupervised
  choice reaches);
- `runs`: the mean F1 of the K single runs;
- `marginals + RB`: as `marginals`, with the right-branching tree as one more voter of a run's weight (a hand-set
  prior for English, applied in decoding only; with K = 1 it is the right-branching tree, which one run's marginals
  can at most tie);
- `random + RB`: its control, K random binary trees (one draw per subset) in place of the runs;
- with `--bonus b`, `marginals + b`: as `marginals`, with right association in decoding as one run's
  `--right-edge-bonus b` (`tree_right_edge.py`): b added to every span that ends at the last word.

`--test-trees FILE` parses and scores the sentences of another gold set (e.g.
`benchmarks/data/other_sources_gold_trees.mrg`) instead of the first run's test trees.

Where the errors are: each gold constituent by how many runs find it (and whether right-branching trees do), the
recall by gold label of the single runs, the all-runs ensemble and right-branching trees, the share of first splits
later than gold's, and the mean correlation over pairs of runs of their per-sentence F1. Last, whether the runs'
agreement (no gold trees needed) tells where the all-runs ensemble beats right-branching: the sentences in thirds by
the mean averaged marginal of the ensemble tree's spans, with both parsers' F1 in each third.
"""

import argparse
import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.data.trees import read_test_trees, tree_words
from keras_ae.evaluation.trees import (
    labelled_spans,
    random_spans,
    recall_by_label,
    right_branching_spans,
    sentence_f1,
    sentence_f1_values,
    spans_to_tree,
    tree_shape,
    tree_spans,
)
from keras_ae.layers.judges.grammar import right_edge_spans
from keras_ae.layers.judges.inside import span_cky, span_marginals
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import load_run_data, rebuild_run, run_flags


def unlabelled_marginals(model, sentences, width=None, batch_size=128):
    """`[sentences, width, width]` float32: `[b, w, i]` is the posterior probability, under the sentence's posterior
    mean z, that some constituent covers words `i .. i+w` (zero for single words and outside the sentence).
    `width` (default: the longest sentence) pads every batch to one size.

    Example:
        unlabelled_marginals(model, ["the cat sat", "a dog barked loudly"]).shape   # (2, 4, 4)
    """
    width = width or max(2, max(len(sentence.split()) for sentence in sentences))
    chunks = []
    for start in range(0, len(sentences), batch_size):
        batch = tf.constant(list(sentences[start : start + batch_size]))
        root, rules, preterminals, _, lengths = model.grammar.sentence_scores(batch, model.encode(batch))
        spans, _ = span_marginals(root, rules, preterminals, tf.maximum(lengths, 2))
        spans = tf.reduce_sum(spans, axis=-1).numpy()
        pad = width - spans.shape[1]
        chunks.append(np.pad(spans, [(0, 0), (0, pad), (0, pad)]))
    return np.concatenate(chunks)


def mbr_spans(scores, lengths):
    """The non-trivial spans `{(start, end)}` of each sentence's binary tree with the largest sum of `scores`
    `[sentences, width, width]` (as `unlabelled_marginals`; `span_cky`, ties to the more right-branching tree)."""
    chosen = span_cky(tf.constant(scores, tf.float32), tf.constant(lengths, tf.int32)).numpy()
    return [{(start, start + w + 1) for w in range(1, n - 1) for start in range(n - w) if tree[w, start] > 0.5}
            for tree, n in zip(chosen, lengths)]


def span_indicators(span_sets, width):
    """`[sentences, width, width]` with 1 at `[b, end - start - 1, start]` for every span of sentence b."""
    indicators = np.zeros((len(span_sets), width, width), "float32")
    for b, spans in enumerate(span_sets):
        for start, end in spans:
            indicators[b, end - start - 1, start] = 1.0
    return indicators


def medoid_spans(trees_by_run):
    """Per sentence, the tree (span set) of the run that agrees most with the others (largest summed F1)."""
    chosen = []
    for trees in zip(*trees_by_run):
        agreement = [sum(sentence_f1(tree, other) for other in trees) for tree in trees]
        chosen.append(trees[int(np.argmax(agreement))])
    return chosen


def ensemble_scores(marginals, own_trees, lengths, gold_spans, members, rng=None, bonus=None):
    """`{ensemble: sentence F1}` (percent; the module docstring's rows, `marginals + b` with a right-edge `bonus`) of
    the runs `members` (indices into `marginals [runs, ...]` and `own_trees [runs][sentences]`); `rng` draws the
    control's random trees."""
    return subset_scores(marginals, own_trees, lengths, gold_spans, [members], rng, bonus)[0]


def subset_scores(marginals, own_trees, lengths, gold_spans, subsets, rng=None, bonus=None):
    """`ensemble_scores` of every member list in `subsets`, in order, with the same random trees as calling it on
    each in turn with one `rng`; the trees of each kind of ensemble are read for all subsets in one `span_cky` call
    (220 triples of 12 runs: seconds, where one call per subset and kind took about half an hour under load)."""
    width = marginals.shape[-1]
    rng = rng or np.random.default_rng(0)
    right = span_indicators([right_branching_spans(n) for n in lengths], width)
    right_edge = None if bonus is None else right_edge_spans(tf.constant(lengths), width).numpy()
    scores = {"marginals": [], "span vote": [], "marginals + RB": [], "random + RB": []}
    if bonus is not None:
        scores[f"marginals + {bonus:g}"] = []
    votes = [span_indicators(trees, width) for trees in own_trees]
    for members in map(list, subsets):
        randoms = [span_indicators([random_spans(n, rng) for n in lengths], width) for _ in members]
        scores["marginals"].append(marginals[members].mean(axis=0))
        scores["span vote"].append(np.mean([votes[r] for r in members], axis=0))
        scores["marginals + RB"].append((marginals[members].sum(axis=0) + right) / (len(members) + 1))
        scores["random + RB"].append((np.sum(randoms, axis=0) + right) / (len(members) + 1))
        if bonus is not None:
            scores[f"marginals + {bonus:g}"].append(marginals[members].mean(axis=0) + bonus * right_edge)
    count = len(lengths)
    decoded = {name: mbr_spans(np.concatenate(values), np.tile(lengths, len(values)))
               for name, values in scores.items()}
    f1 = lambda spans: float(np.mean(sentence_f1_values(spans, gold_spans)))  # noqa: E731
    rows = []
    for index, members in enumerate(map(list, subsets)):
        per_run = np.stack([sentence_f1_values(own_trees[r], gold_spans) for r in members])
        ensembles = {name: f1(trees[index * count : (index + 1) * count]) for name, trees in decoded.items()}
        rows.append({
            "marginals": ensembles["marginals"], "span vote": ensembles["span vote"],
            "medoid": f1(medoid_spans([own_trees[r] for r in members])), "oracle": float(per_run.max(axis=0).mean()),
            "runs": float(per_run.mean()), "marginals + RB": ensembles["marginals + RB"],
            "random + RB": ensembles["random + RB"],
            **({f"marginals + {bonus:g}": ensembles[f"marginals + {bonus:g}"]} if bonus is not None else {}),
        })
    return rows


def subset_table(marginals, own_trees, lengths, gold_spans, sizes, right, bonus=None):
    """`{f"K={k}: {ensemble}": columns}` over every subset of k runs for each k in `sizes`."""
    rows = {}
    for size in sizes:
        subsets = list(itertools.combinations(range(len(own_trees)), size))
        scores = subset_scores(marginals, own_trees, lengths, gold_spans, subsets, np.random.default_rng(size), bonus)
        for name in scores[0]:
            values = np.array([score[name] for score in scores])
            rows[f"K={size}: {name}"] = {"subsets": len(subsets), "mean F1": f"{values.mean():.1f}",
                                         "min": f"{values.min():.1f}", "max": f"{values.max():.1f}",
                                         "above RB": f"{100 * np.mean(values > right):.0f}%"}
    return rows


def shared_errors(own_trees, gold_spans, gold_trees, lengths):
    """`{f"found by {c} of R": columns}`: the gold constituents by how many runs' trees hold them, with the share of
    each group that right-branching trees hold and its commonest gold labels; the row of constituents no run finds
    also has the share expected if the runs erred independently (the product of one minus each run's recall)."""
    runs = len(own_trees)
    groups = {count: [] for count in range(runs + 1)}
    for b, (spans, tree) in enumerate(zip(gold_spans, gold_trees)):
        labels = labelled_spans(tree)
        right = right_branching_spans(int(lengths[b]))
        for span in spans:
            found = sum(span in own_trees[r][b] for r in range(runs))
            groups[found].append((labels.get(span, "?"), span in right))
    total = sum(len(group) for group in groups.values())
    recalls = [sum(len(spans & own_trees[r][b]) for b, spans in enumerate(gold_spans)) / total for r in range(runs)]
    rows = {}
    for count, group in groups.items():
        common = Counter(label for label, _ in group).most_common(3)
        rows[f"found by {count} of {runs}"] = {
            "gold spans": len(group), "share": f"{100 * len(group) / total:.1f}%",
            "held by RB": f"{100 * np.mean([held for _, held in group]):.0f}%" if group else "-",
            "labels": ", ".join(f"{label} {n}" for label, n in common),
        }
    rows[f"found by 0 of {runs}"]["if independent"] = f"{100 * np.prod([1 - r for r in recalls]):.1f}%"
    return rows


def agreement_thirds(scores, spans, lengths, gold_spans):
    """`{third: columns}`: the sentences in three equal groups by `agreement` (the mean of `scores [b, w, i]` over the
    ensemble tree's `spans`; 1 for sentences of two words), each with its length and the F1 of the ensemble's trees
    and of right-branching trees."""
    agreement = np.array([np.mean([scores[b, end - start - 1, start] for start, end in tree]) if tree else 1.0
                          for b, tree in enumerate(spans)])
    ensemble = sentence_f1_values(spans, gold_spans)
    right = sentence_f1_values([right_branching_spans(n) for n in lengths], gold_spans)
    rows = {}
    for index, part in enumerate(np.array_split(np.argsort(agreement, kind="stable"), 3)):
        rows[f"third {index + 1}"] = {
            "agreement": f"{agreement[part].min():.2f}..{agreement[part].max():.2f}", "sentences": len(part),
            "words": f"{np.mean(np.asarray(lengths)[part]):.1f}", "ensemble F1": f"{ensemble[part].mean():.1f}",
            "RB F1": f"{right[part].mean():.1f}", "difference": f"{np.mean(ensemble[part] - right[part]):+.1f}",
        }
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="tree_latent run folders with gold test trees (the first run's test "
                        "sentences are parsed by every run)")
    parser.add_argument("--sizes", type=int, nargs="*", help="ensemble sizes K (default: 1, 3, 5 and all runs)")
    parser.add_argument("--labels", nargs="*", default=["NP", "VP", "PP", "S", "SBAR"], help="gold labels whose "
                        "recall to show")
    parser.add_argument("--bonus", type=float, help="also decode the averaged marginals with this right-edge bonus b "
                        "(`marginals + b`; 0.5: the value fixed for one run's --right-edge-bonus)")
    parser.add_argument("--test-trees", help="a Penn Treebank bracket file to parse and score instead of the first "
                        "run's test trees")
    args = parser.parse_args(argv)
    if args.bonus is not None and not args.bonus >= 0:
        parser.error(f"--bonus must be >= 0; got {args.bonus}.")
    sizes = args.sizes or sorted({1, 3, 5, len(args.runs)} & set(range(1, len(args.runs) + 1)))
    if any(not 1 <= size <= len(args.runs) for size in sizes):
        parser.error(f"--sizes must be between 1 and the number of runs ({len(args.runs)}); got {sizes}.")
    names = [Path(folder).name for folder in args.runs]
    flags = run_flags(args.runs[0])
    if args.test_trees is not None:
        gold_trees = read_test_trees(args.test_trees, flags.test_max_length or flags.max_length)
    else:
        gold_trees = load_run_data(flags).test_trees
        if gold_trees is None:
            parser.error(f"{args.runs[0]}: its data has no gold test trees to score against; give --test-trees.")
    sentences = [tree_words(tree) for tree in gold_trees]
    lengths = np.array([len(sentence.split()) for sentence in sentences])
    width = max(2, int(lengths.max()))
    marginals, own_trees = [], []
    for folder in args.runs:
        _, run_data, model = rebuild_run(folder, "selected")
        if run_data.test != sentences:
            seen = len(set(sentences) & set(run_data.train + run_data.validation))
            print(f"{Path(folder).name}: tested on other sentences; {seen} of the {len(sentences)} parsed here are "
                  "among its training or validation sentences")
        marginals.append(unlabelled_marginals(model, sentences, width))
        own_trees.append(mbr_spans(marginals[-1], lengths))
    marginals = np.stack(marginals)
    gold_spans = [tree_spans(tree)[0] for tree in gold_trees]
    right_trees = [right_branching_spans(n) for n in lengths]
    right = float(np.mean(sentence_f1_values(right_trees, gold_spans)))
    singles = [float(np.mean(sentence_f1_values(trees, gold_spans))) for trees in own_trees]
    print(f"{len(sentences)} test sentences; right-branching {right:.1f}; single runs: "
          + ", ".join(f"{name} {f1:.1f}" for name, f1 in zip(names, singles)))
    print("\nsentence F1 of ensembles over every subset of K runs:")
    print(format_table(subset_table(marginals, own_trees, lengths, gold_spans, sizes, right, args.bonus),
                       ["subsets", "mean F1", "min", "max", "above RB"]))

    print("\nthe gold constituents by how many runs find them:")
    print(format_table(shared_errors(own_trees, gold_spans, gold_trees, lengths),
                       ["gold spans", "share", "if independent", "held by RB", "labels"]))
    together = mbr_spans(marginals.mean(axis=0), lengths)
    with_right = mbr_spans((marginals.sum(axis=0) + span_indicators(right_trees, width)) / (len(names) + 1), lengths)
    parsers = {**dict(zip(names, own_trees)), f"ensemble of {len(names)}": together,
               f"ensemble of {len(names)} + RB": with_right, "right-branching": right_trees}
    rows = {}
    for name, spans in parsers.items():
        recall = recall_by_label(spans, gold_trees)
        trees = [spans_to_tree(s, sentence.split()) for s, sentence in zip(spans, sentences)]
        rows[name] = {"sentence F1": f"{np.mean(sentence_f1_values(spans, gold_spans)):.1f}",
                      **{label: f"{recall[label]['recall']:.1f}" if label in recall else "-" for label in args.labels},
                      "top split later": f"{tree_shape(trees, gold_trees)['top_split']['later']:.1f}"}
    print("\nrecall by gold label, and the share of first splits later than gold's:")
    print(format_table(rows, list(next(iter(rows.values())))))
    per_sentence = np.stack([sentence_f1_values(trees, gold_spans) for trees in own_trees])
    pairs = [np.corrcoef(per_sentence[a], per_sentence[b])[0, 1]
             for a, b in itertools.combinations(range(len(names)), 2)]
    print(f"\nper-sentence F1, correlation between two runs: mean {np.mean(pairs):+.2f} "
          f"(min {np.min(pairs):+.2f}, max {np.max(pairs):+.2f}, {len(pairs)} pairs)")
    thirds = agreement_thirds(marginals.mean(axis=0), together, lengths, gold_spans)
    print(f"\nthe ensemble of {len(names)} against right-branching, sentences in thirds by the runs' agreement:")
    print(format_table(thirds, list(thirds["third 1"])))


if __name__ == "__main__":
    main()
