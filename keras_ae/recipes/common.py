"""What every recipe shares: common flags and TOML configs, the run folder, callbacks, and the end of a run.

A recipe module only says what is special about its method; this module does the rest the same way everywhere:

    parser = recipe_parser("infomax", "Deep InfoMax on images.", defaults={"data": "mnist", "epochs": 5})
    args = parse_flags(parser, argv, quick={"epochs": 1, "limit": 2000})
    run = RunFolder.for_flags(args)  # unsafe --run-dir / --export-dir and changed --resume flags fail here
    ...                              # load and check the data, build the model
    with run:
        run.write_config(model)
        history = run.fit(model, train, epochs=args.epochs)
        run.write_json("metrics.json", metrics)
        export_run(model, args.export_dir, metrics)

Every flag has a type that checks its range (`keras_ae.core.validation`), and TOML values go through the same
checks; the run folder itself lives in `keras_ae.runs`.
"""

import argparse
import os
import shutil
import tempfile
import tomllib
from pathlib import Path

from keras_ae.core.validation import non_negative_int, positive_float, positive_int
from keras_ae.distribute import STRATEGIES, is_chief
from keras_ae.export import export_model
from keras_ae.runs import RunFolder  # noqa: F401  (recipes import it from here)

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
    parser.add_argument("--epochs", type=positive_int, default=values["epochs"], help="training epochs")
    parser.add_argument("--batch-size", type=positive_int, default=values["batch_size"], help="global batch size")
    parser.add_argument("--embedding-dim", type=positive_int, default=values["embedding_dim"], help="embedding size")
    parser.add_argument("--learning-rate", type=positive_float, default=values["learning_rate"],
                        help="Adam learning rate")
    parser.add_argument("--strategy", choices=STRATEGIES, default=values["strategy"], help="tf.distribute strategy")
    parser.add_argument("--config", help="TOML file of flag values (flag names with underscores); flags win")
    parser.add_argument("--run-dir", default=f"runs/{recipe}", help="run folder (config, metrics, figures, logs)")
    parser.add_argument("--export-dir", default=f"saved_models/{recipe}", help="where the SavedModel goes")
    parser.add_argument("--no-export", dest="export", action="store_false", help="skip the SavedModel export")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run from its last finished epoch (or a finished one, with a "
                             "larger --epochs)")
    parser.add_argument("--seed", type=non_negative_int, default=values["seed"], help="random seed")
    parser.add_argument("--limit", type=positive_int, default=values["limit"],
                        help="use at most this many training examples")
    parser.add_argument("--jit-compile", action=argparse.BooleanOptionalAction, default=values["jit_compile"],
                        help="XLA-compile steps")
    parser.add_argument("--quick", action="store_true", help="a tiny run for smoke tests")
    return parser


def parse_flags(parser, argv=None, quick=None):
    """Parses `argv`, with values from `--config` and (with `--quick`, a flag or a config value) the `quick`
    overrides under explicit flags. Config values go through the flags' own types, choices and range checks."""
    args = parser.parse_args(argv)
    config = load_config(args.config, parser) if args.config else {}
    overrides = {}
    if args.quick or config.get("quick"):
        overrides.update(quick or {})
    overrides.update(config)
    if overrides:
        parser.set_defaults(**overrides)
        args = parser.parse_args(argv)
    return args


def load_config(path, parser):
    """Reads a recipe config (TOML): keys are flag names with underscores, optionally all under a `[flags]` table.

    Each value is checked like the flag it stands for (type, choices, range); errors name the file and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Config file {path} does not exist; the recipes/ folder has examples.")
    try:
        with path.open("rb") as file:
            config = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: not valid TOML ({error}); fix the syntax (strings in quotes, key = value).") from None
    if "flags" in config:
        outside = sorted(set(config) - {"flags"})
        if outside or not isinstance(config["flags"], dict):
            raise ValueError(
                f"{path}: with a [flags] table every option must be inside it; {', '.join(outside) or 'flags'} "
                "would be ignored. Move them under [flags] (or drop the [flags] line)."
            )
        config = config["flags"]
    actions = {action.dest: action for action in parser._actions if action.dest not in ("help", "config")}
    unknown = sorted(set(config) - set(actions))
    if unknown:
        raise ValueError(
            f"{path}: unknown option(s) {', '.join(unknown)}; known options: {', '.join(sorted(actions))}."
        )
    return {key: _config_value(path, key, value, actions[key]) for key, value in config.items()}


def _config_value(path, key, value, action):
    """`value` of config `key`, converted and checked exactly as its flag would be."""
    flag = f"{path}: {key} = {value!r}"
    if action.nargs == 0 or isinstance(action, argparse.BooleanOptionalAction):  # switches
        if not isinstance(value, bool):
            raise ValueError(f"{flag}: expected true or false (without quotes).")
        return value
    if isinstance(value, (dict, list, bool)):
        raise ValueError(f"{flag}: expected a single {'string' if action.type is None else 'number'}.")
    if action.type is None and not isinstance(value, str):
        raise ValueError(f'{flag}: expected a string in quotes, e.g. {key} = "{value}".')
    if action.type is not None and isinstance(value, str):
        raise ValueError(f"{flag}: expected a number without quotes, e.g. {key} = {value}.")
    if isinstance(value, float) and action.type is not None and getattr(action.type, "__name__", "").endswith("int"):
        raise ValueError(f"{flag}: expected a whole number (an integer), e.g. {key} = {int(value)}.")
    converted = value
    if action.type is not None:
        try:
            converted = action.type(str(value))
        except (argparse.ArgumentTypeError, TypeError, ValueError) as error:
            raise ValueError(f"{flag}: {error}.") from None
    if action.choices is not None and converted not in action.choices:
        raise ValueError(f"{flag}: must be one of {', '.join(map(repr, action.choices))} (exactly, case matters).")
    return converted


def refuse_jit_compile(parser, args):
    """For recipes that tokenize strings inside the training step: `--jit-compile` is a flag error, since XLA
    cannot compile string ops."""
    if args.jit_compile:
        parser.error("--jit-compile does not apply: tokenization (string ops, which XLA cannot compile) runs inside "
                     "the training step. Drop the flag.")


AUTO_CLUSTERING_FLAGS = ("--tf_xla_auto_jit=2", "--tf_xla_cpu_global_jit")  # TF_XLA_FLAGS, CPU included


def auto_cluster_jit_compile(args):
    """For recipes that tokenize strings inside the training step, where XLA cannot compile the whole step:
    `--jit-compile` turns on XLA auto-clustering instead (`TF_XLA_FLAGS`), which compiles the step's numeric ops and
    leaves the string ops to TensorFlow. On CPU it also makes a seed's training repeat bit for bit: without it,
    TensorFlow's executor reorders some float sums after about 100 steps (docs/results/text_summary.md, session 26).
    Call it before TensorFlow configures its devices (before `set_logical_device_configuration` or any op): flags
    set later are not read, and nothing is compiled.

    Example:
        auto_cluster_jit_compile(parser.parse_args(["--jit-compile"]))   # later steps are auto-clustered
    """
    if args.jit_compile:
        present = os.environ.get("TF_XLA_FLAGS", "").split()
        os.environ["TF_XLA_FLAGS"] = " ".join([*present, *(f for f in AUTO_CLUSTERING_FLAGS if f not in present)])


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

