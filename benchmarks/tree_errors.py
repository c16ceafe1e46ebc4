"""Where a parser wins and loses its F1 against right-branching trees, constituent by constituent.

    python benchmarks/tree_errors.py runs/base_s{0..5}
    python benchmarks/tree_errors.py runs/base_s{0..5} --labels NP VP PP S SBAR ADJP ADVP

Right-branching trees hold exactly the gold constituents that end at the sentence's last word ("right-edge"), and
every binary tree of n words has n - 2 non-trivial spans, so a parser's per-sentence F1 differs from
right-branching's only by how many gold spans it holds: it can lose right-edge ones and win the others
("interior"). The first table counts both, by gold label and by width, summed over the runs' test sentences (per
run on average); the second splits each run's F1 minus right-branching's into the two parts. The last two say
what the parser built instead of the right-edge constituents it lost: the smallest of its constituents that holds
the gold one also reaches the sentence end and is split inside the gold span, so the gold span's first words go
to the left with what precedes it and its rest trails on its own (`((subject verb) object)`, `((clause)
(trailing PP))`): counts by how many words went left, and by the gold label of the trailing part. Nothing is
trained: the runs' parses (`test_trees.json`, the first parser) are read against the gold trees their flags load.
"""

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from keras_ae.evaluation.trees import labelled_spans, tree_spans
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import load_run_data, run_flags


def smallest_cover(spans, span, length):
    """`(start, end, split)`: the smallest span of the binary tree `spans` (non-trivial spans; the whole sentence
    added) that holds `span` and is not `span`, and where it splits (the start of its right child)."""
    tree = set(spans) | {(0, length)}
    start, end = min(((a, b) for a, b in tree if a <= span[0] and span[1] <= b and (a, b) != span),
                     key=lambda s: s[1] - s[0])
    inside = [b for a, b in tree if a == start and b < end] + [start + 1]  # the left child ends at the split
    return start, end, max(inside)


def f1_parts(spans, gold_spans, length):
    """`(lost, won)`: the parts of a sentence's F1 minus right-branching's (percent points) made by the right-edge
    gold spans missing from `spans` (<= 0) and by the interior gold spans in it (>= 0); F1 is `2 hits / (n - 2 +
    gold spans)` for any binary tree of n words, so they add up to the whole difference."""
    if not gold_spans:
        return 0.0, 0.0
    scale = 200.0 / (length - 2 + len(gold_spans))
    lost = sum(end == length and (start, end) not in spans for start, end in gold_spans)
    won = sum(end != length and (start, end) in spans for start, end in gold_spans)
    return -scale * lost, scale * won


def constituent_label(labels, span):
    """The gold label of `span`, or `-` when the gold tree has no such constituent (single words: `word`)."""
    if span[1] - span[0] == 1:
        return "word"
    return labels.get(span, "-")


def error_rows(parses, gold_trees, labels):
    """`(by_label, lost_to, f1_parts)` for one parser's trees (bracket strings) on `gold_trees`: per gold label (and
    per width, `"2 words"` .. `"5+ words"`), counts of right-edge and interior gold spans and how many of each the
    parser holds; the lost right-edge spans by (lost label, trailing label, words moved left); and the mean
    per-sentence parts of the F1 difference to right-branching made by the lost right-edge spans and by the won
    interior ones (`f1_parts`; they add up to the whole difference)."""
    by_label, lost_to = {}, Counter()
    lost_f1, won_f1 = [], []
    for tree, gold in zip(parses, gold_trees):
        spans, length = tree_spans(tree)
        gold_labels = labelled_spans(gold)
        gold_spans = set(gold_labels)
        lost, won = f1_parts(spans, gold_spans, length)
        lost_f1.append(lost)
        won_f1.append(won)
        for span, label in gold_labels.items():
            name = label if label in labels else "other"
            edge = "right-edge" if span[1] == length else "interior"
            for key in (name, f"{min(span[1] - span[0], 5)}{'+' if span[1] - span[0] >= 5 else ''} words"):
                row = by_label.setdefault(key, Counter())
                row[edge] += 1
                row[f"{edge} held"] += span in spans
            if edge == "right-edge" and span not in spans:
                _, _, split = smallest_cover(spans, span, length)
                trailing = constituent_label(gold_labels, (split, length))
                moved = split - span[0]
                lost_to[(name, trailing if trailing in (*labels, "-", "word") else "other",
                         "1 word" if moved == 1 else f"{min(moved, 3)}{'+' if moved >= 3 else ''} words")] += 1
    return by_label, lost_to, (float(np.mean(lost_f1)), float(np.mean(won_f1)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="tree_latent run folders with gold test trees")
    parser.add_argument("--labels", nargs="*", default=["NP", "VP", "PP", "S", "SBAR", "ADJP", "ADVP"],
                        help="gold labels to show (the rest are `other`)")
    parser.add_argument("--top", type=int, default=8, help="rows of each lost-constituent table")
    args = parser.parse_args(argv)
    totals, lost_total, shares = {}, Counter(), []
    for folder in args.runs:
        data = load_run_data(run_flags(folder))
        if data.test_trees is None:
            parser.error(f"{folder}: its data has no gold test trees to score against.")
        parses = json.loads((Path(folder) / "test_trees.json").read_text())
        main_parser = next(name for name in parses if name != "sentences")
        by_label, lost_to, f1 = error_rows(parses[main_parser], data.test_trees, args.labels)
        shares.append((Path(folder).name, f1))
        for label, counts in by_label.items():
            totals.setdefault(label, Counter()).update(counts)
        lost_total.update(lost_to)
    runs = len(args.runs)
    rows = {}
    widths = sorted(label for label in totals if label.endswith(" words"))
    order = sorted((label for label in totals if label not in widths),
                   key=lambda label: -(totals[label]["right-edge"] + totals[label]["interior"])) + widths
    for label in order:
        counts = totals[label]
        edge, interior = counts["right-edge"] / runs, counts["interior"] / runs
        lost, won = edge - counts["right-edge held"] / runs, counts["interior held"] / runs
        rows[label] = {
            "right-edge (RB holds all)": f"{edge:.0f}", "held": f"{100 * (edge - lost) / max(edge, 1):.0f}%",
            "interior (RB holds none)": f"{interior:.0f}", "held by parser": f"{100 * won / max(interior, 1):.0f}%",
            "lost": f"{lost:.1f}", "won": f"{won:.1f}", "won - lost": f"{won - lost:+.1f}",
        }
    print(f"Gold constituents per run (mean over {runs} runs), by label, then by width:")
    print(format_table(rows, list(next(iter(rows.values())))))
    print("\nSentence F1 minus right-branching, split into the right-edge spans lost and the interior spans won:")
    print(format_table({name: {"lost right-edge": f"{lost:.1f}", "won interior": f"{won:+.1f}",
                               "difference": f"{lost + won:+.1f}"} for name, (lost, won) in shares},
                       ["lost right-edge", "won interior", "difference"]))
    total = sum(lost_total.values())
    for position, title in ((2, "how many of the span's first words went left"), (1, "what trails")):
        counts = Counter()
        for key, count in lost_total.items():
            counts[(key[0], key[position])] += count
        print(f"\nLost right-edge constituents by {title} (mean per run; share of all lost):")
        print(format_table({f"{lost} lost, {value}{' trails' if position == 1 else ' left'}": {
            "per run": f"{count / runs:.1f}", "share": f"{100 * count / total:.0f}%"}
            for (lost, value), count in counts.most_common(args.top)}, ["per run", "share"]))


if __name__ == "__main__":
    main()
