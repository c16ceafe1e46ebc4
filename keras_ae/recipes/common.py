"""What every recipe shares: common flags and TOML configs, the run folder, callbacks, and the end of a run.

A recipe module only says what is special about its method; this module does the rest the same way everywhere:

    parser = recipe_parser("infomax", "Deep InfoMax on images.", defaults={"data": "mnist", "epochs": 5})
    args = parse_flags(parser, argv, quick={"epochs": 1, "limit": 2000})
    with RunFolder(args.run_dir, resume=args.resume) as run:
        model.fit(train, epochs=args.epochs, callbacks=run.callbacks())
        run.write_json("metrics.json", metrics)
    export_run(model, args.export_dir, metrics)
"""

import argparse
import json
import os
import shutil
import tempfile
import tomllib
from pathlib import Path

import keras

from keras_ae.distribute import STRATEGIES, is_chief
from keras_ae.export import export_model
from keras_ae.tensorboard import EpochSummaries

COMMON_DEFAULTS = {
    "data": None,
    "epochs": 5,
    "batch_size": 128,
    "embedding_dim": 64,
    "learning_rate": 1e-3,
    "strategy": "default",
    "seed": 0,
    "limit": None,
    "jit_compile": False,
}


def recipe_parser(recipe, description, defaults=None):
    """An argument parser with the common flags of DESIGN.md; `defaults` override the common defaults."""
    values = {**COMMON_DEFAULTS, **(defaults or {})}
    parser = argparse.ArgumentParser(prog=f"python -m keras_ae.recipes.{recipe}", description=description)
    parser.add_argument("--data", default=values["data"], help="data source: a named offline set or a path")
    parser.add_argument("--epochs", type=int, default=values["epochs"], help="training epochs")
    parser.add_argument("--batch-size", type=int, default=values["batch_size"], help="global batch size")
    parser.add_argument("--embedding-dim", type=int, default=values["embedding_dim"], help="embedding size")
    parser.add_argument("--learning-rate", type=float, default=values["learning_rate"], help="Adam learning rate")
    parser.add_argument("--strategy", choices=STRATEGIES, default=values["strategy"], help="tf.distribute strategy")
    parser.add_argument("--config", help="TOML file of flag values (flag names with underscores); flags win")
    parser.add_argument("--run-dir", default=f"runs/{recipe}", help="run folder (config, metrics, figures, logs)")
    parser.add_argument("--export-dir", default=f"saved_models/{recipe}", help="where the SavedModel goes")
    parser.add_argument("--no-export", dest="export", action="store_false", help="skip the SavedModel export")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run from its last epoch")
    parser.add_argument("--seed", type=int, default=values["seed"], help="random seed")
    parser.add_argument("--limit", type=int, default=values["limit"], help="use at most this many training examples")
    parser.add_argument("--jit-compile", action="store_true", default=values["jit_compile"], help="XLA-compile steps")
    parser.add_argument("--quick", action="store_true", help="a tiny run for smoke tests")
    return parser


def parse_flags(parser, argv=None, quick=None):
    """Parses `argv`, with values from `--config` and (with `--quick`) the `quick` overrides under explicit flags."""
    args = parser.parse_args(argv)
    overrides = {}
    if args.quick:
        overrides.update(quick or {})
    if args.config:
        overrides.update(load_config(args.config, parser))
    if overrides:
        parser.set_defaults(**overrides)
        args = parser.parse_args(argv)
    return args


def load_config(path, parser):
    """Reads a recipe config (TOML): keys are flag names with underscores, optionally under a `[flags]` table."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Config file {path} does not exist; the recipes/ folder has examples.")
    with path.open("rb") as file:
        config = tomllib.load(file)
    config = config.get("flags", config)
    known = {action.dest for action in parser._actions} - {"help", "config"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"{path}: unknown option(s) {', '.join(unknown)}; known options: {', '.join(sorted(known))}.")
    return config


class RunFolder:
    """A run folder that is built at `<run_dir>.partial` and moved into place only when the run finishes.

    An interrupted run leaves its `.partial` folder (with its checkpoint) behind, which `resume=True` continues;
    without `resume` a stale partial folder is cleared. Workers other than the chief write to a temporary folder.
    """

    def __init__(self, run_dir, resume=False):
        self.final_path = Path(run_dir).resolve()
        self.chief = is_chief()
        if self.chief:
            self.path = self.final_path.with_name(self.final_path.name + ".partial")
        else:
            self.path = Path(tempfile.mkdtemp(prefix="keras_ae-worker-run-"))
        self.resuming = resume and (self.path / "checkpoint").exists()
        if resume and not self.resuming:
            print(f"Nothing to resume at {self.path}: starting a new run.")
        if not self.resuming and self.path.exists():
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is not None:
            if self.chief:
                print(f"Run stopped; its partial folder is {self.path} (continue it with --resume).")
            return False
        if not self.chief:
            shutil.rmtree(self.path, ignore_errors=True)
            return False
        if self.final_path.exists():
            retired = Path(tempfile.mkdtemp(prefix=f"{self.final_path.name}.old-", dir=self.final_path.parent))
            os.replace(self.final_path, retired / self.final_path.name)
            shutil.rmtree(retired, ignore_errors=True)
        os.replace(self.path, self.final_path)
        self.path = self.final_path
        return False

    def file(self, name):
        """Path of a file inside the run folder."""
        return self.path / name

    def write_json(self, name, value):
        """Writes `value` as JSON to `name` atomically."""
        target = self.file(name)
        staging = target.with_name(target.name + ".tmp")
        staging.write_text(json.dumps(value, indent=2, default=_json_default))
        os.replace(staging, target)

    def callbacks(self, samples=None):
        """TensorBoard logs, `history.csv`, and the checkpoint that `--resume` continues from; with `samples` (a
        writer of `keras_ae.tensorboard`, e.g. `image_samples(test_images)`) also TensorBoard samples every epoch."""
        callbacks = [
            keras.callbacks.TensorBoard(log_dir=str(self.file("tensorboard"))),
            keras.callbacks.CSVLogger(str(self.file("history.csv")), append=self.resuming),
            keras.callbacks.BackupAndRestore(backup_dir=str(self.file("checkpoint")), delete_checkpoint=False),
        ]
        if samples is not None:
            callbacks.append(EpochSummaries(self.file("tensorboard"), samples))
        return callbacks


def export_run(model, export_dir, metrics, flags=None):
    """Exports the model with its model card (the chief writes `export_dir`; other workers a temporary copy they
    delete); `flags` (e.g. `vars(args)`) go into the card and the manifest."""
    if is_chief():
        return export_model(model, export_dir, metrics=metrics, flags=flags)
    scratch = Path(tempfile.mkdtemp(prefix="keras_ae-worker-export-"))
    export_model(model, scratch / "model", metrics=metrics, flags=flags)
    shutil.rmtree(scratch, ignore_errors=True)
    return None


def print_summary(run, export_path, table=None):
    """Tells the user where everything went (and the result table, if any)."""
    if not is_chief():
        return
    if table:
        print(table)
    print(f"Run folder:   {run.path}")
    for name in sorted(p.name for p in run.path.iterdir()):
        print(f"  {name}")
    print(f"TensorBoard:  tensorboard --logdir {run.file('tensorboard')}")
    if export_path:
        print(f"SavedModel:   {export_path} (tf.saved_model.load; signatures in keras_ae.json)")


def format_table(rows, columns):
    """A plain-text table of `rows` (a dict from row name to a dict of column values)."""
    header = ["", *columns]
    lines = [[name, *[_format(values.get(column)) for column in columns]] for name, values in rows.items()]
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    render = lambda row: "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths))  # noqa: E731
    return "\n".join([render(header), render(["-" * w for w in widths]), *map(render, lines)])


def _format(value):
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    return str(value)
