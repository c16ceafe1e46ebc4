"""Would an unsupervised score pick the better parsers? Reads finished tree_latent runs (trained on the same data with
gold test trees) and ranks them by their validation loss (the negative ELBO of the kept epoch, the score
`--restarts` selects by), test perplexity and KL against their sentence F1; and, epoch by epoch, whether the
validation loss tells the runs that split the sentence late (docs/results/tree_latent.md's late mode) from the others.

    python benchmarks/tree_selection.py RUN_DIR...             # one row per run, then the rank correlations
    python benchmarks/tree_selection.py RUN_DIR... --groups 3  # also: best of each 3 runs (in order) by each score
    python benchmarks/tree_selection.py RUN_DIR... --subsets 4 # by epoch: best of every 4 runs by validation loss

Spearman's correlation with F1 is negative when a lower score goes with a better parse (what selection needs).
`late split`: the percent of test sentences whose first split comes after the gold tree's
(`keras_ae.evaluation.trees.tree_shape`); a run is in the late mode at `--late-mode` percent or more (default 40:
docs/results/tree_latent.md's early runs are at 8-32%, its late ones at 45-70%). The by-epoch table reads each run's
`history.csv` (the validation loss after every epoch); the best-of-K rows keep, from every K of the runs, the one with
the lowest validation loss after that epoch, as `--restarts K` with a warm-up of that many epochs would, and report the
final F1 and mode of the runs kept (Mann-Whitney U compares the two modes' losses).
"""

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu, spearmanr

from keras_ae.evaluation.trees import tree_shape
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import load_run_data, run_flags
from keras_ae.runs import read_history

SCORES = {"validation loss": "val_loss", "test perplexity": "perplexity", "KL": "kl"}
LATE_MODE = 40.0  # percent of sentences split later than gold from which a run counts as late


def run_scores(folder):
    """`{"sentence F1", "validation loss", "test perplexity", "KL", "epoch", "late split", "validation loss by
    epoch"}` of one finished run (its kept epoch; the last item from `history.csv`, empty without one)."""
    folder = Path(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    if "compared_to_right_branching" not in metrics:
        raise ValueError(f"{folder}: the run had no gold trees; nothing to rank against.")
    parses = json.loads((folder / "test_trees.json").read_text())
    data = load_run_data(run_flags(folder))
    if data.test != parses["sentences"]:
        raise ValueError(f"{folder}: its test sentences differ from the ones its flags give now; cannot re-score.")
    main_parser = next(name for name in parses if name != "sentences")
    by_epoch = read_history(folder / "history.csv").get("val_loss", [])
    return {"sentence F1": metrics["sentence_f1"], "validation loss": metrics["final_losses"]["val_loss"],
            "test perplexity": metrics["perplexity"], "KL": metrics["kl"],
            "epoch": metrics.get("selected_epoch", "last"),
            "late split": tree_shape(parses[main_parser], data.test_trees)["top_split"]["later"],
            "validation loss by epoch": by_epoch}


def by_epoch_rows(rows, subsets, late_mode=LATE_MODE):
    """`{"epoch E": columns}`: for each epoch all runs reached, Spearman's correlation of the validation loss after it
    with the final sentence F1 and late-split share, the mean loss of the early- and late-mode runs with the
    Mann-Whitney p-value, and (`subsets` > 1) the mean final F1 and late share of the best of every `subsets` runs
    by that loss. `rows`: `run_scores` values."""
    epochs = min(len(row["validation loss by epoch"]) for row in rows)
    f1 = [row["sentence F1"] for row in rows]
    late = [row["late split"] for row in rows]
    table = {}
    for epoch in range(epochs):
        loss = [row["validation loss by epoch"][epoch] for row in rows]
        early_loss = [value for value, share in zip(loss, late) if share < late_mode]
        late_loss = [value for value, share in zip(loss, late) if share >= late_mode]
        columns = {"loss ~ F1": f"{spearmanr(loss, f1)[0]:+.2f}", "loss ~ late split": f"{spearmanr(loss, late)[0]:+.2f}",
                   "early runs' loss": f"{np.mean(early_loss):.3f} ({len(early_loss)})" if early_loss else "-",
                   "late runs' loss": f"{np.mean(late_loss):.3f} ({len(late_loss)})" if late_loss else "-",
                   "p": f"{mannwhitneyu(early_loss, late_loss).pvalue:.3f}" if early_loss and late_loss else "-"}
        if subsets > 1:
            kept = [min(group, key=lambda i: loss[i]) for group in itertools.combinations(range(len(rows)), subsets)]
            columns[f"best of {subsets}: F1"] = f"{np.mean([f1[i] for i in kept]):.1f}"
            columns[f"best of {subsets}: late"] = f"{100 * np.mean([late[i] >= late_mode for i in kept]):.0f}%"
        table[f"epoch {epoch + 1}"] = columns
    table["one run"] = {"loss ~ F1": "", "loss ~ late split": "", "early runs' loss": "", "late runs' loss": "",
                        "p": "", **({f"best of {subsets}: F1": f"{np.mean(f1):.1f}",
                                     f"best of {subsets}: late": f"{100 * np.mean(np.array(late) >= late_mode):.0f}%"}
                                    if subsets > 1 else {})}
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="tree_latent run folders with gold test trees")
    parser.add_argument("--groups", type=int, default=0, help="also pick the best of each consecutive group of this "
                        "many runs by each score (the lowest), as restarts would")
    parser.add_argument("--subsets", type=int, default=0, help="by epoch: also keep the best of every this many runs "
                        "by validation loss")
    parser.add_argument("--late-mode", type=float, default=LATE_MODE, help="late-split percent from which a run "
                        "counts as late")
    args = parser.parse_args(argv)
    rows = {Path(folder).name: run_scores(folder) for folder in args.runs}
    shown = {name: {k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in row.items()
                    if k != "validation loss by epoch"} for name, row in rows.items()}
    print(format_table(shown, list(next(iter(shown.values())))))
    f1 = [row["sentence F1"] for row in rows.values()]
    for score in SCORES:
        values = [row[score] for row in rows.values()]
        print(f"{score}: Spearman correlation with sentence F1 {spearmanr(values, f1)[0]:+.2f} over {len(f1)} runs")
    if args.groups:
        names = list(rows)
        groups = [names[i:i + args.groups] for i in range(0, len(names), args.groups)]
        for score in SCORES:
            picked = [min(group, key=lambda name: rows[name][score]) for group in groups]
            print(f"best of {args.groups} by the lowest {score}: {', '.join(picked)}; mean F1 "
                  f"{np.mean([rows[name]['sentence F1'] for name in picked]):.1f} (all runs: {np.mean(f1):.1f})")
    if all(row["validation loss by epoch"] for row in rows.values()):
        table = by_epoch_rows(list(rows.values()), args.subsets, args.late_mode)
        print(f"\nvalidation loss after each epoch (late mode: first split later than gold's in >= {args.late_mode:g}%)")
        print(format_table(table, list(next(iter(table.values())))))


if __name__ == "__main__":
    main()
