"""Would an unsupervised score pick the better parsers? Reads finished tree_latent runs (trained on the same data with
gold test trees) and ranks them by their validation loss (the negative ELBO of the kept epoch, the score
`--restarts` selects by), test perplexity and KL against their sentence F1.

    python benchmarks/tree_selection.py RUN_DIR...            # one row per run, then the rank correlations
    python benchmarks/tree_selection.py RUN_DIR... --groups 3 # also: best of each 3 runs (in order) by each score

Spearman's correlation with F1 is negative when a lower score goes with a better parse (what selection needs).
"""

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from keras_ae.recipes.common import format_table

SCORES = {"validation loss": "val_loss", "test perplexity": "perplexity", "KL": "kl"}


def run_scores(folder):
    """`{"sentence F1", "validation loss", "test perplexity", "KL", "epoch"}` of one finished run (its kept epoch)."""
    metrics = json.loads((Path(folder) / "metrics.json").read_text())
    if "compared_to_right_branching" not in metrics:
        raise ValueError(f"{folder}: the run had no gold trees; nothing to rank against.")
    return {"sentence F1": metrics["sentence_f1"], "validation loss": metrics["final_losses"]["val_loss"],
            "test perplexity": metrics["perplexity"], "KL": metrics["kl"],
            "epoch": metrics.get("selected_epoch", "last")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="tree_latent run folders with gold test trees")
    parser.add_argument("--groups", type=int, default=0, help="also pick the best of each consecutive group of this "
                        "many runs by each score (the lowest), as restarts would")
    args = parser.parse_args(argv)
    rows = {Path(folder).name: run_scores(folder) for folder in args.runs}
    print(format_table({name: {k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in row.items()}
                        for name, row in rows.items()}, list(next(iter(rows.values())))))
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


if __name__ == "__main__":
    main()
