"""Running a search: tuners, the trial table, and the task (HyperModel + data) a search runs on.

Example:
    task = image_task(InfoMaxHyperModel, "infomax")(args)
    tuner = make_tuner("random", task.hypermodel, "runs/tune/tuner", max_trials=4, max_epochs=2)
    tuner.search(task.train, validation_data=task.validation, epochs=2)
    rows = trial_table(tuner)
"""

import dataclasses

import keras_tuner as kt

from keras_ae.data.images import load_images, make_dataset
from keras_ae.tuning.hypermodels import OBJECTIVE

PROBE_EXAMPLES = 10000
IMAGE_BATCH_SIZE = 128


@dataclasses.dataclass
class TuningTask:
    """What a search needs: the HyperModel, its training and validation data, and the recipe that retrains."""

    hypermodel: object
    train: object
    validation: object
    recipe: str


def image_task(hypermodel_class, recipe):
    """A task factory for an image HyperModel: `factory(args)` loads `args.data` (MNIST by default) and probes on
    up to 10,000 training images against the validation split; `args.batch_size` None means 128."""

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
        batch_size = args.batch_size or IMAGE_BATCH_SIZE
        return TuningTask(
            hypermodel,
            make_dataset(splits.train.images, batch_size, shuffle=True, seed=args.seed),
            make_dataset(splits.validation.images, batch_size),
            recipe,
        )

    return prepare


TUNERS = {
    "random": kt.RandomSearch,
    "bayesian": kt.BayesianOptimization,
    "hyperband": kt.Hyperband,
}


def make_tuner(kind, hypermodel, directory, max_trials, max_epochs, seed=0):
    """A keras-tuner tuner of `kind` (`random`, `bayesian`, `hyperband`) maximising `val_probe_accuracy`."""
    if kind not in TUNERS:
        raise ValueError(f"Unknown tuner {kind!r}: choose one of {', '.join(TUNERS)}.")
    common = {
        "hypermodel": hypermodel,
        "objective": kt.Objective(OBJECTIVE, direction="max"),
        "directory": str(directory),
        "project_name": "search",
        "seed": seed,
        "overwrite": True,
    }
    if kind == "hyperband":
        return kt.Hyperband(max_epochs=max_epochs, factor=3, hyperband_iterations=1, **common)
    return TUNERS[kind](max_trials=max_trials, **common)


def trial_table(tuner):
    """Every finished trial as a dict of its hyperparameters, objective and loss, best first."""
    rows = []
    for trial in tuner.oracle.get_best_trials(num_trials=len(tuner.oracle.trials)):
        row = {"trial": trial.trial_id, **trial.hyperparameters.values}
        for name in (OBJECTIVE, "loss"):
            metric = trial.metrics.metrics.get(name)
            row[name] = None if metric is None else float(trial.metrics.get_best_value(name))
        rows.append(row)
    return rows
