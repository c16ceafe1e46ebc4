"""Search the embedding size with keras-tuner: `python -m keras_ae.recipes.tune --model infomax --tuner random`.

Each trial trains for `--epochs` and is scored by the linear-probe accuracy of its embedding on the validation
split. The run folder gets the trial table (`trials.csv`, `metrics.json`) and a plot of the objective against the
embedding size; then the best setting is retrained for `--final-epochs` with the model's own recipe (test-split
probe table, figures) and exported.
"""

import csv
import importlib

import keras

from keras_ae import plots
from keras_ae.core.validation import positive_int
from keras_ae.recipes import cpc, quick_thought, text_summary, tree_latent, voice_conversion
from keras_ae.recipes.common import RunFolder, format_table, parse_flags, recipe_parser
from keras_ae.tensorboard import write_trial_objectives
from keras_ae.tuning import (
    OBJECTIVE,
    TUNERS,
    AutoEncoderHyperModel,
    InfoMaxHyperModel,
    VQVAEHyperModel,
    image_task,
    make_tuner,
    trial_table,
)

TASKS = {
    "infomax": image_task(InfoMaxHyperModel, "infomax"),
    "autoencoder": image_task(AutoEncoderHyperModel, "autoencoder"),
    "vqvae": image_task(VQVAEHyperModel, "vqvae"),  # searches the codebook size (--min-dim/--max-dim)
    "quick_thought": quick_thought.tuning_task,  # embedding size, book probe on validation chapters
    "cpc": cpc.tuning_task,  # embedding size, phone probe on validation utterances
    "tree_latent": tree_latent.tuning_task,  # size of z and number of nonterminals, F1 on validation gold trees
    "text_summary": text_summary.tuning_task,  # generator's embedding size, ROUGE-1 on validation pairs
    "voice_conversion": voice_conversion.tuning_task,  # content code size, phone minus speaker probe on it
}


def build_parser():
    # batch_size None: each model's own recipe default (128 for images)
    parser = recipe_parser("tune", __doc__.splitlines()[0], defaults={"epochs": 2, "limit": 20000, "batch_size": None})
    parser.set_defaults(run_dir=None, export_dir=None)  # runs/tune-MODEL and saved_models/MODEL-tuned
    parser.add_argument("--model", required=True, choices=sorted(TASKS), help="which model to tune")
    parser.add_argument("--tuner", choices=sorted(TUNERS), default="random", help="search algorithm")
    parser.add_argument("--max-trials", type=positive_int, default=4, help="trials (random and bayesian)")
    parser.add_argument("--min-dim", type=positive_int, default=8, help="smallest embedding size searched")
    parser.add_argument("--max-dim", type=positive_int, default=256, help="largest embedding size searched")
    parser.add_argument("--final-epochs", type=positive_int, default=5, help="epochs to retrain the best setting")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parse_flags(parser, argv, quick={"epochs": 1, "limit": 1000, "max_trials": 2, "final_epochs": 1, "batch_size": 64})
    args.run_dir = args.run_dir or f"runs/tune-{args.model}"
    args.export_dir = args.export_dir or f"saved_models/{args.model}-tuned"
    if args.min_dim > args.max_dim:
        parser.error(f"--min-dim {args.min_dim} is larger than --max-dim {args.max_dim}; swap them.")
    if args.resume:
        parser.error("--resume does not apply to tune (a search starts over); drop it.")
    run = RunFolder(args.run_dir, flags=vars(args), export_dir=args.export_dir if args.export else None)
    task = TASKS[args.model](args)
    with run:
        run.write_json("config.json", {"flags": vars(args)})
        tuner = make_tuner(args.tuner, task.hypermodel, run.file("tuner"), args.max_trials, args.epochs, args.seed)
        # keras-tuner gives each trial its own TensorBoard folder with its hyperparameters (HParams dashboard).
        board = keras.callbacks.TensorBoard(log_dir=str(run.file("tensorboard")))
        tuner.search(task.train, validation_data=task.validation, epochs=args.epochs, verbose=1, shuffle=False,
                     callbacks=[board])
        trials = trial_table(tuner)
        write_trial_objectives(run.file("tensorboard"), trials, OBJECTIVE)
        _write_trials(trials, run)
        best = trials[0]
        retrained = _retrain(args, task.recipe, best, run)
        run.write_json("metrics.json", {"objective": OBJECTIVE, "trials": trials, "best": best, "retrained": retrained})
    columns = [key for key in trials[0] if key != "trial"]
    print(format_table({f"trial {row['trial']}": row for row in trials}, columns))
    print(f"Best: {best}. Run folder: {run.path}")
    # The retrained best was built inside this run's .partial folder, so the paths it printed moved with it.
    print(f"Retrained best setting: {run.path / 'best'}; TensorBoard (trials and the retrained run): "
          f"tensorboard --logdir {run.path}")
    if args.export:
        print(f"SavedModel of the retrained best: {args.export_dir}")
    return trials


def _write_trials(trials, run):
    keys = sorted({key for row in trials for key in row}, key=lambda k: (k != "trial", k))
    with open(run.file("trials.csv"), "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=keys)
        writer.writeheader()
        writer.writerows(trials)
    size = next((key for key in ("embedding_dim", "content_dim") if key in trials[0]), "codebook_size")
    finished = sorted((row[size], row[OBJECTIVE]) for row in trials if row[OBJECTIVE] is not None)
    plots.line_plot(
        [dim for dim, _ in finished],
        {OBJECTIVE: [value for _, value in finished]},
        run.file(f"objective_vs_{size}.png"),
        title=f"Validation probe accuracy by {size.replace('_', ' ')}",
        xlabel=size,
        ylabel=OBJECTIVE,
        log_x=True,
    )


def _retrain(args, recipe, best, run):
    module = importlib.import_module(f"keras_ae.recipes.{recipe}")
    known = {action.dest for action in module.build_parser()._actions}
    argv = ["--epochs", str(args.final_epochs), "--run-dir", str(run.file("best")), "--export-dir", args.export_dir]
    for name in ("data", "batch_size", "learning_rate", "strategy", "seed", "limit"):
        if getattr(args, name) is not None:
            argv += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    for name, value in best.items():
        if name in known and name not in ("trial",):
            argv += [f"--{name.replace('_', '-')}", str(value)]
    if not args.export:
        argv.append("--no-export")
    return module.main(argv)


if __name__ == "__main__":
    main()
