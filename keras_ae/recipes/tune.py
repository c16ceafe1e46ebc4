"""Search the embedding size with keras-tuner: `python -m keras_ae.recipes.tune --model infomax --tuner random`.

Each trial trains for `--epochs` and is scored by the linear-probe accuracy of its embedding on the validation
split. The run folder gets the trial table (`trials.csv`, `metrics.json`) and a plot of the objective against the
embedding size; then the best setting is retrained for `--final-epochs` with the model's own recipe (test-split
probe table, figures) and exported.
"""

import csv
import dataclasses
import importlib

from keras_ae import plots
from keras_ae.data.images import load_images, make_dataset
from keras_ae.recipes.common import RunFolder, format_table, parse_flags, recipe_parser
from keras_ae.tuning import OBJECTIVE, TUNERS, AutoEncoderHyperModel, InfoMaxHyperModel, make_tuner, trial_table
from keras_ae.tuning import VQVAEHyperModel  # noqa: E402

PROBE_EXAMPLES = 10000


@dataclasses.dataclass
class TuningTask:
    """What a search needs: the HyperModel, its training and validation data, and the recipe that retrains."""

    hypermodel: object
    train: object
    validation: object
    recipe: str


def image_task(hypermodel_class, recipe):
    def prepare(args):
        splits = load_images(args.data or "mnist", limit=args.limit)
        probe_data = (
            splits.train.images[:PROBE_EXAMPLES],
            splits.train.labels[:PROBE_EXAMPLES],
            splits.validation.images,
            splits.validation.labels,
        )
        hypermodel = hypermodel_class(
            splits.image_shape, probe_data, min_dim=args.min_dim, max_dim=args.max_dim, learning_rate=args.learning_rate
        )
        return TuningTask(
            hypermodel,
            make_dataset(splits.train.images, args.batch_size, shuffle=True, seed=args.seed),
            make_dataset(splits.validation.images, args.batch_size),
            recipe,
        )

    return prepare


TASKS = {
    "infomax": image_task(InfoMaxHyperModel, "infomax"),
    "autoencoder": image_task(AutoEncoderHyperModel, "autoencoder"),
}
from keras_ae.recipes.quick_thought import tuning_task as _quick_thought_task  # noqa: E402
TASKS["quick_thought"] = _quick_thought_task  # embedding size of Quick-thought, book probe on validation chapters
TASKS["vqvae"] = image_task(VQVAEHyperModel, "vqvae")  # searches the codebook size (--min-dim/--max-dim)
from keras_ae.recipes.cpc import tuning_task as _cpc_task  # noqa: E402
TASKS["cpc"] = _cpc_task  # embedding size of CPC, phone probe on validation utterances
from keras_ae.recipes.tree_latent import tuning_task as _tree_latent_task  # noqa: E402
TASKS["tree_latent"] = _tree_latent_task  # size of z and number of nonterminals, F1 on validation gold trees


def build_parser():
    parser = recipe_parser("tune", __doc__.splitlines()[0], defaults={"epochs": 2, "limit": 20000})
    parser.add_argument("--model", required=True, choices=sorted(TASKS), help="which model to tune")
    parser.add_argument("--tuner", choices=sorted(TUNERS), default="random", help="search algorithm")
    parser.add_argument("--max-trials", type=int, default=4, help="trials (random and bayesian)")
    parser.add_argument("--min-dim", type=int, default=8, help="smallest embedding size searched")
    parser.add_argument("--max-dim", type=int, default=256, help="largest embedding size searched")
    parser.add_argument("--final-epochs", type=int, default=5, help="epochs to retrain the best setting")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parse_flags(parser, argv, quick={"epochs": 1, "limit": 1000, "max_trials": 2, "final_epochs": 1, "batch_size": 64})
    if "--run-dir" not in " ".join(argv or []) and args.run_dir == "runs/tune":
        args.run_dir = f"runs/tune-{args.model}"
    if args.export_dir == "saved_models/tune":
        args.export_dir = f"saved_models/{args.model}-tuned"
    task = TASKS[args.model](args)
    with RunFolder(args.run_dir, resume=False) as run:
        run.write_json("config.json", {"flags": vars(args)})
        tuner = make_tuner(args.tuner, task.hypermodel, run.file("tuner"), args.max_trials, args.epochs, args.seed)
        tuner.search(task.train, validation_data=task.validation, epochs=args.epochs, verbose=1, shuffle=False)
        trials = trial_table(tuner)
        _write_trials(trials, run)
        best = trials[0]
        retrained = _retrain(args, task.recipe, best, run)
        run.write_json("metrics.json", {"objective": OBJECTIVE, "trials": trials, "best": best, "retrained": retrained})
    columns = [key for key in trials[0] if key != "trial"]
    print(format_table({f"trial {row['trial']}": row for row in trials}, columns))
    print(f"Best: {best}. Run folder: {run.path}")
    if args.export:
        print(f"SavedModel of the retrained best: {args.export_dir}")
    return trials


def _write_trials(trials, run):
    keys = sorted({key for row in trials for key in row}, key=lambda k: (k != "trial", k))
    with open(run.file("trials.csv"), "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=keys)
        writer.writeheader()
        writer.writerows(trials)
    size = "embedding_dim" if "embedding_dim" in trials[0] else "codebook_size"
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
