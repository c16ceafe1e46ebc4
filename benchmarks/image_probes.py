"""The "beyond reconstruction" table: linear-probe and kNN accuracy on the test split for raw pixels, a
random-init encoder, AutoEncoder and InfoMax, at the same embedding size and training budget.

    .venv/bin/python benchmarks/image_probes.py --data mnist [--epochs 5] [--embedding-dim 64]
    .venv/bin/python benchmarks/image_probes.py --data fashion_mnist

Each model is trained by its recipe (run folders under `--runs`, default `runs/benchmarks/<data>-<model>`);
the table is also written to `<runs>/<data>-probe-table.json`.
"""

import argparse
import json
from pathlib import Path

from keras_ae.recipes import autoencoder, infomax
from keras_ae.recipes.common import format_table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--embedding-dim", type=int, default=64)
    parser.add_argument("--runs", default="runs/benchmarks")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="flags passed to both recipes")
    args = parser.parse_args()
    rows = {}
    for name, recipe in (("autoencoder", autoencoder), ("infomax", infomax)):
        run_dir = Path(args.runs) / f"{args.data}-{name}"
        argv = ["--data", args.data, "--epochs", str(args.epochs), "--embedding-dim", str(args.embedding_dim)]
        metrics = recipe.main([*argv, "--run-dir", str(run_dir), "--no-export", *args.extra])
        for row, values in metrics["probe_table"].items():
            trained = row not in ("raw pixels", "random-init encoder")
            rows.setdefault(row, {**values, "train_seconds": metrics["training_seconds"] if trained else None})
    table = format_table(rows, ["dim", "linear_probe", "knn", "train_seconds"])
    Path(args.runs, f"{args.data}-probe-table.json").write_text(json.dumps(rows, indent=2))
    print(f"\n{args.data} test split, embedding {args.embedding_dim}, {args.epochs} epochs each")
    print(table)


if __name__ == "__main__":
    main()
