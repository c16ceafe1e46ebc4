"""How far do two people agree on the gold trees, and does the parsers' ranking depend on who bracketed them?

    python benchmarks/tree_agreement.py
    python benchmarks/tree_agreement.py --runs austen runs/base_s{0..11} --runs all runs/all_s{0..5}

A second annotator bracketed, without seeing the gold files, a seeded sample of sentences of both hand-bracketed
gold sets (`benchmarks/data/second_annotator_sample.mrg`; its index `second_annotator_sample.tsv` names each
sentence's gold file and line; provenance in `benchmarks/data/README.md`). Printed per gold set and for the whole
sample: the annotators' agreement (`keras_ae.evaluation.trees.agreement_f1`: unlabelled sentence F1 with the
project's conventions, symmetric in the two annotators, with its standard error over sentences; corpus F1; the
share of sentences bracketed alike; the share whose top constituent has the same label), then the sentence F1 of
right-branching, left-branching and random trees against each annotator and, for each `--runs NAME RUN...` group of
finished tree_latent runs, the mean F1 of their kept weights' MBR trees (`--bonus`: with right association in
decoding, as `tree_right_edge.py`) against each annotator, their mean paired difference to right-branching and how
many runs are above it. Nothing is trained.
"""

import argparse
import csv
from pathlib import Path

import numpy as np
import tensorflow as tf

from benchmarks.tree_ensemble import mbr_spans, unlabelled_marginals
from keras_ae.data.trees import clean_tree, read_treebank, tree_words
from keras_ae.evaluation.trees import (
    agreement_f1,
    left_branching_spans,
    random_spans,
    right_branching_spans,
    sentence_f1_values,
    standard_error,
    tree_spans,
)
from keras_ae.layers.judges.grammar import right_edge_spans
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import rebuild_run

DATA = Path(__file__).parent / "data"
SAMPLE, INDEX = DATA / "second_annotator_sample.mrg", DATA / "second_annotator_sample.tsv"


def read_sample(sample=SAMPLE, index=INDEX):
    """`(gold file names, first annotator's trees, second annotator's trees)` of the sample, in its order: the gold
    trees are looked up by the index's file name (beside the index) and line. Raises an error naming the index line
    whose gold tree is missing or whose words differ from the index's sentence or the second annotator's tree."""
    second = [clean_tree(tree) for tree, _ in read_treebank(sample)]
    with open(index, encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if len(rows) != len(second):
        raise ValueError(f"{index} lists {len(rows)} sentences, {sample} holds {len(second)} trees; one each.")
    gold_files, first = {}, []
    for number, (name, line, sentence) in enumerate(rows, start=1):
        if name not in gold_files:
            gold_files[name] = {found: clean_tree(tree) for tree, found in read_treebank(Path(index).parent / name)}
        tree = gold_files[name].get(int(line))
        if tree is None:
            raise ValueError(f"{index}, line {number}: no tree starts on line {line} of {name}.")
        if tree_words(tree) != sentence or tree_words(second[number - 1]) != sentence:
            raise ValueError(f"{index}, line {number}: {sentence!r} is not the words of line {line} of {name} "
                             f"({tree_words(tree)!r}) and of tree {number} of {sample} "
                             f"({tree_words(second[number - 1])!r}).")
        first.append(tree)
    return [row[0] for row in rows], first, second


def agreement_row(first, second):
    """The annotators' agreement on some sentences, formatted."""
    scores = agreement_f1(first, second)
    values = scores["sentences"]
    same_top = np.mean([a.label() == b.label() for a, b in zip(first, second)])
    return {"sentences": str(len(first)), "sentence F1": f"{scores['sentence_f1']:.1f} +- {standard_error(values):.1f}",
            "corpus F1": f"{scores['corpus_f1']:.1f}", "bracketed alike": f"{100 * np.mean(values == 100):.0f}%",
            "same top label": f"{100 * same_top:.0f}%"}


def run_spans(folders, sentences, bonuses):
    """`{b: [per-run list of span sets]}`: each run's MBR trees of `sentences` with right-edge bonus b."""
    lengths = [len(sentence.split()) for sentence in sentences]
    found = {bonus: [] for bonus in bonuses}
    for folder in folders:
        _, data, model = rebuild_run(folder, epoch="selected")
        seen = {sentence.lower() for sentence in data.train + data.validation} & {s.lower() for s in sentences}
        if seen:
            print(f"{Path(folder).name}: {len(seen)} of the sample's sentences are among its training or validation "
                  "sentences")
        marginals = unlabelled_marginals(model, sentences)
        right = right_edge_spans(tf.constant(lengths), marginals.shape[-1]).numpy()
        for bonus in bonuses:
            found[bonus].append(mbr_spans(marginals + bonus * right, lengths))
    return found


def parser_rows(parsers, annotators, subsets):
    """`{parser: {column: text}}`: each parser's sentence F1 against each annotator on each subset; for groups of
    runs the mean over runs, its paired difference to right-branching and the runs above right-branching."""
    rows = {}
    for name, runs in parsers.items():
        row = {}
        for subset, members in subsets.items():
            for annotator, gold in annotators.items():
                gold_spans = [gold[i] for i in members]
                right = sentence_f1_values([parsers["right-branching"][0][i] for i in members], gold_spans).mean()
                scores = np.array([sentence_f1_values([spans[i] for i in members], gold_spans).mean()
                                   for spans in runs])
                text = f"{scores.mean():.1f}"
                if len(runs) > 1:
                    text += f" ({scores.mean() - right:+.1f}; {np.sum(scores > right)}/{len(runs)} > RB)"
                row[f"{subset}, {annotator}"] = text
        rows[name] = row
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default=str(SAMPLE), help="the second annotator's trees, one per sentence")
    parser.add_argument("--index", default=str(INDEX), help="tab-separated gold file, line and words of each sentence")
    parser.add_argument("--runs", nargs="+", action="append", default=[], metavar="NAME RUN",
                        help="a name, then finished tree_latent run folders (repeat for more groups)")
    parser.add_argument("--bonus", type=float, nargs="+", default=[0.0, 0.5],
                        help="right-edge bonuses b to decode the runs with (0: their own MBR trees)")
    args = parser.parse_args(argv)
    if any(len(group) < 2 for group in args.runs):
        parser.error("--runs takes a name and at least one run folder: --runs austen runs/base_s0 runs/base_s1")
    if any(not b >= 0 for b in args.bonus):
        parser.error(f"--bonus values must be >= 0; got {args.bonus}.")
    sources, first, second = read_sample(args.sample, args.index)
    subsets = {name: [i for i, source in enumerate(sources) if source == name] for name in dict.fromkeys(sources)}
    subsets["all"] = list(range(len(sources)))
    print("Agreement of the two annotators (unlabelled, trivial spans discarded):")
    print(format_table({name: agreement_row([first[i] for i in members], [second[i] for i in members])
                        for name, members in subsets.items()}, ["sentences", "sentence F1", "corpus F1",
                                                               "bracketed alike", "same top label"]))
    sentences = [tree_words(tree) for tree in first]
    lengths = [len(sentence.split()) for sentence in sentences]
    rng = np.random.default_rng(0)
    parsers = {"right-branching": [[right_branching_spans(n) for n in lengths]],
               "left-branching": [[left_branching_spans(n) for n in lengths]],
               "random (5 draws)": [[random_spans(n, rng) for n in lengths] for _ in range(5)]}
    for name, *folders in args.runs:
        for bonus, spans in run_spans(folders, sentences, args.bonus).items():
            parsers[f"{name}, b={bonus:g}"] = spans
    annotators = {"first": [tree_spans(tree)[0] for tree in first], "second": [tree_spans(tree)[0] for tree in second]}
    print("\nSentence F1 against each annotator (runs: mean over runs, minus right-branching, runs above it):")
    table = parser_rows(parsers, annotators, subsets)
    print(format_table(table, list(next(iter(table.values())))))


if __name__ == "__main__":
    main()
