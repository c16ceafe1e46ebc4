"""Checks the project's parsing F1 against the conventions of the compound-PCFG paper's evaluation script.

    python benchmarks/tree_paper_scorer.py benchmarks/data/austen_gold_trees.mrg RUN_DIR...

Kim, Dyer & Rush (2019) score sentence-level F1 with their `eval.py`, which differs from
`keras_ae.evaluation.trees` in two places: (1) it drops only the LAST span of the gold tree (the root), so where a
unary chain repeats the whole sentence under the root (`(S (VP ...))`), the whole-sentence span stays in the gold
set and no binary parse can recall it; (2) a sentence whose gold or predicted span set is empty is left out of the
average instead of scoring 1 (both empty) or 0. This prints both scores for right-branching trees and for the
parses in each run folder's `test_trees.json` (runs made with `--test-trees` on the same file, so its trees are the
gold standard in order), and how many gold trees each difference touches.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from keras_ae.data.trees import clean_tree, read_treebank
from keras_ae.evaluation.trees import constituents_in_order, right_branching_spans, sentence_f1, tree_spans
from keras_ae.recipes.common import format_table


def script_gold_spans(tree):
    """The gold span set as the paper's script builds it: every constituent of two words or more, in post-order,
    without the last one (the root); a span repeated by a unary chain at the top stays."""
    spans = [(start, end) for start, end, _ in constituents_in_order(tree)[0]]
    return set(spans[:-1])


def script_sentence_f1(predicted, gold):
    """Mean sentence F1 (percent) over the sentences whose predicted and gold span sets are both non-empty, and
    how many those are."""
    values = []
    for spans, reference in zip(predicted, gold):
        if spans and reference:
            overlap = len(spans & reference)
            values.append(0.0 if not overlap else 2 * overlap / (len(spans) + len(reference)))
    return 100.0 * float(np.mean(values)), len(values)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", help="the Penn Treebank bracket file the runs were scored on (--test-trees)")
    parser.add_argument("runs", nargs="*", help="tree_latent run folders with test_trees.json")
    args = parser.parse_args(argv)
    gold_trees = [clean_tree(tree) for tree, _ in read_treebank(args.trees)]
    ours_gold = [tree_spans(tree)[0] for tree in gold_trees]
    script_gold = [script_gold_spans(tree) for tree in gold_trees]
    parsers = {"right-branching": [right_branching_spans(len(tree.leaves())) for tree in gold_trees]}
    for folder in args.runs:
        parses = json.loads((Path(folder) / "test_trees.json").read_text())
        if len(parses["sentences"]) != len(gold_trees):
            raise ValueError(f"{folder}: {len(parses['sentences'])} test sentences for {len(gold_trees)} gold trees.")
        for name, trees in parses.items():
            if name != "sentences":
                parsers[f"{Path(folder).name}: {name}"] = [tree_spans(tree)[0] for tree in trees]
    rows = {}
    for name, spans in parsers.items():
        script, scored = script_sentence_f1(spans, script_gold)
        rows[name] = {"ours": f"{100.0 * np.mean([sentence_f1(p, g) for p, g in zip(spans, ours_gold)]):.1f}",
                      "paper's script": f"{script:.1f}", "sentences scored": scored}
    print(format_table(rows, ["ours", "paper's script", "sentences scored"]))
    repeated = sum((0, len(tree.leaves())) in spans for tree, spans in zip(gold_trees, script_gold))
    print(f"{len(gold_trees)} gold trees; {repeated} repeat the whole sentence under the root (unrecallable in the "
          f"script); {sum(not spans for spans in ours_gold)} have no non-trivial span.")


if __name__ == "__main__":
    main()
