"""The `keras-ae` command: one entry point for the recipes and tools (`python -m keras_ae` does the same).

    keras-ae --help
    keras-ae recipes                                  # what each recipe trains
    keras-ae train skip_thought --quick               # = python -m keras_ae.recipes.skip_thought --quick
    keras-ae train vqvae --help                       # every flag of a recipe
    keras-ae tune --model infomax --max-trials 4      # = python -m keras_ae.recipes.tune ...
    keras-ae export runs/infomax                      # = python -m keras_ae.export runs/infomax
    keras-ae convert --model saved_models/voice_conversion --source a.wav --reference b.wav --output out.wav
    keras-ae tensorboard runs/infomax                 # TensorBoard on a run folder's logs

The recipe modules keep their `python -m` forms; this command only dispatches to their `main(argv)`, so both take
the same flags. `--help` lists the recipes without importing TensorFlow.
"""

import argparse
import ast
import importlib
import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import keras_ae.recipes

# Tools whose flags (and --help) go untouched to their own `main(argv)`.
TOOLS = {"tune": "keras_ae.recipes.tune", "export": "keras_ae.export", "convert": "keras_ae.convert"}
# Modules of keras_ae.recipes that are shared flows or tools, not recipes of their own.
NOT_RECIPES = ("common", "image_recipe", "speech_recipe", "text_recipe", "tune")


def recipes():
    """`{name: first line of its docstring}` for every recipe module, read without importing it."""
    found = {}
    for module in pkgutil.iter_modules(keras_ae.recipes.__path__):
        if module.name in NOT_RECIPES or module.name.startswith("_"):
            continue
        source = Path(module.module_finder.path, f"{module.name}.py").read_text()
        docstring = ast.get_docstring(ast.parse(source)) or ""
        found[module.name] = docstring.split(":")[0].split("\n")[0].strip().rstrip(".")
    return found


def recipe_listing(indent=""):
    """One line per recipe, names padded to the longest so the summaries line up."""
    found = recipes()
    width = max(map(len, found))
    return "\n".join(f"{indent}{name:{width}s}  {summary}" for name, summary in found.items())


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-ae",
        description="Auto-encoders beyond reconstruction: train, tune, export and inspect keras_ae models.",
        epilog="Each recipe also runs as `python -m keras_ae.recipes.NAME`; `keras-ae train NAME --help` lists its "
        "flags.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    listing = recipe_listing(indent="  ")
    train = commands.add_parser(
        "train", help="train a recipe (keras-ae train NAME [flags])", description=f"Recipes:\n{listing}",
        epilog="Flags after NAME go to the recipe: keras-ae train NAME --help lists them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("recipe", metavar="NAME", choices=sorted(recipes()), help="the recipe to run")
    train.add_argument("flags", nargs=argparse.REMAINDER, help="the recipe's flags")
    tune = commands.add_parser("tune", help="keras-tuner search, then retrain and export the best (keras-ae tune "
                               "--help)", add_help=False)
    tune.add_argument("flags", nargs=argparse.REMAINDER, help="flags of python -m keras_ae.recipes.tune")
    export = commands.add_parser("export", help="export a finished run folder as a SavedModel with its model card",
                                 add_help=False)
    export.add_argument("flags", nargs=argparse.REMAINDER, help="RUN_DIR and the flags of python -m keras_ae.export")
    convert = commands.add_parser("convert", help="one-shot voice conversion with an exported voice_conversion "
                                  "model (keras-ae convert --help)", add_help=False)
    convert.add_argument("flags", nargs=argparse.REMAINDER, help="flags of python -m keras_ae.convert")
    board = commands.add_parser("tensorboard", help="TensorBoard on a run folder (projector, images, audio, HParams)")
    board.add_argument("run_dir", help="a run folder (its tensorboard/ logs are shown) or any TensorBoard log folder")
    board.add_argument("--port", type=int, default=6006, help="port of the TensorBoard server")
    commands.add_parser("recipes", help="list the recipes and what each trains")
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in TOOLS:  # every flag (and --help) goes untouched to the tool's own parser
        build_parser().parse_args(argv[:1])
        return importlib.import_module(TOOLS[argv[0]]).main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "recipes":
        print(recipe_listing())
        return None
    if args.command == "train":
        return importlib.import_module(f"keras_ae.recipes.{args.recipe}").main(args.flags)
    return _tensorboard(args.run_dir, args.port)


def _tensorboard(run_dir, port):
    run_dir = Path(run_dir)
    log_dir = run_dir / "tensorboard" if (run_dir / "tensorboard").is_dir() else run_dir
    if not log_dir.is_dir():
        sys.exit(f"keras-ae tensorboard: {run_dir} is not a folder; give a run folder such as runs/infomax.")
    if importlib.util.find_spec("tensorboard") is None:
        sys.exit("keras-ae tensorboard: TensorBoard is not installed; pip install tensorboard.")
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(log_dir), "--port", str(port)]
    print(" ".join(command))
    return subprocess.call(command)


if __name__ == "__main__":
    main()
