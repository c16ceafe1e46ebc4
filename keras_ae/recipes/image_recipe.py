"""The flow both image recipes share: data, strategy, model, training, probe table, figures, export.

`keras_ae.recipes.autoencoder` and `keras_ae.recipes.infomax` differ only in the model they build.
"""

import time

import keras
import numpy as np

from keras_ae import plots
from keras_ae.data.images import load_images, make_dataset
from keras_ae.distribute import get_strategy
from keras_ae.evaluation.images import image_probe_table
from keras_ae.recipes.common import RunFolder, export_run, format_table, parse_flags, print_summary
from keras_ae.tensorboard import MAX_PROJECTOR_POINTS, EpochSummaries, image_samples, write_projector

QUICK = {"epochs": 1, "limit": 2000, "batch_size": 64}
SAMPLE_IMAGES = 8  # test images shown with their reconstructions in TensorBoard every epoch


def prepare_image_training(parser, build_model, argv=None, check_data=None, needs_labels=False):
    """Parses flags, checks the run and export folders, loads and checks the images, and builds and compiles the
    model inside the strategy's scope.

    `check_data(args, splits)` may raise a clear error before anything is built; `needs_labels`: the evaluation
    probes labels, so unlabelled data fails now rather than after training. Returns
    `(args, run, strategy, splits, train_dataset, validation_dataset, model)`; `run` is entered by the caller.
    """
    args = parse_flags(parser, argv, quick=QUICK)
    run = RunFolder.for_flags(args)
    keras.utils.set_random_seed(args.seed)
    strategy = get_strategy(args.strategy)
    splits = load_images(args.data, limit=args.limit)
    if needs_labels:
        check_probe_labels(splits)
    if check_data:
        check_data(args, splits)
    print(
        f"{splits.name}: {len(splits.train.images)} train, {len(splits.validation.images)} validation, "
        f"{len(splits.test.images)} test images of shape {splits.image_shape}; "
        f"{strategy.num_replicas_in_sync} replica(s)"
    )
    train = make_dataset(splits.train.images, args.batch_size, shuffle=True, seed=args.seed)
    validation = make_dataset(splits.validation.images, args.batch_size)
    with strategy.scope():
        model = build_model(args, splits.image_shape)
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate), jit_compile=args.jit_compile)
    return args, run, strategy, splits, train, validation, model


def check_probe_labels(splits):
    """The probe table fits on labelled training images and scores labelled test images of two classes or more."""
    for name in ("train", "test"):
        labels = getattr(splits, name).labels
        if labels is None:
            raise ValueError(
                f"{splits.name}: the {name} split has no labels, and the probe table after training needs them. "
                "Give labels (y_train / y_test in an .npz, class sub-folders), or use a recipe without a probe "
                "(e.g. discrete, vqvae)."
            )
    if len(np.unique(splits.train.labels)) < 2:
        raise ValueError(f"{splits.name}: the training labels hold a single class; a probe needs two or more.")


def fit_in_run_folder(model, run, args, train, validation, splits):
    """Writes `config.json`, trains with the run folder's callbacks and TensorBoard samples of a few test images;
    returns `(history, training_seconds)` (`history.history` holds every epoch of the run, also those before a
    `--resume`)."""
    run.write_config(model)
    samples = EpochSummaries(run.file("tensorboard"), image_samples(splits.test.images[:SAMPLE_IMAGES]))
    started = time.perf_counter()
    history = run.fit(model, train, validation_data=validation, epochs=args.epochs, shuffle=False, callbacks=[samples])
    return history, time.perf_counter() - started


def run_image_recipe(parser, build_model, argv=None):
    """Runs an image recipe; `build_model(args, image_shape)` returns an uncompiled model (called in scope)."""
    args, run, _, splits, train, validation, model = prepare_image_training(parser, build_model, argv,
                                                                             needs_labels=True)
    with run:
        history, training_seconds = fit_in_run_folder(model, run, args, train, validation, splits)
        rows = image_probe_table(model, splits)
        metrics = {
            "data": splits.name,
            "embedding_dim": args.embedding_dim,
            "epochs": args.epochs,
            "training_seconds": training_seconds,
            "final_losses": {name: values[-1] for name, values in history.history.items()},
            "probe_table": rows,
        }
        run.write_json("metrics.json", metrics)
        _figures(model, splits, history.history, run, rows)
        export_path = export_run(model, args.export_dir, metrics, flags=vars(args)) if args.export else None
    print_summary(run, export_path, format_table(rows, ["dim", "linear_probe", "knn"]))
    return metrics


def _figures(model, splits, history, run, rows):
    test = splits.test
    if history:
        plots.history_curves(history, run.file("history.png"), title=type(model).__name__)
    if hasattr(model, "decode"):
        originals = test.images[:10]
        plots.image_grid(
            [originals, np.asarray(model.decode(model.encode(originals)))],
            run.file("reconstructions.png"),
            row_titles=["test images", "reconstructions"],
        )
    write_image_projector(model, splits, run)
    if test.labels is not None:
        embeddings = np.asarray(model.encode(test.images[:2000]))
        scores = ", ".join(f"{row}: linear probe {values['linear_probe']:.3f}, kNN {values['knn']:.3f}"
                           for row, values in rows.items())
        plots.embedding_map(
            embeddings, test.labels[:2000], run.file("embedding_map.png"),
            title=f"{type(model).__name__} embeddings of {splits.name} test images (t-SNE)",
            label_names=splits.class_names, colour_by="class", note=f"Test split. {scores}.",
        )


def write_image_projector(model, splits, run):
    """The test images' embeddings for TensorBoard's projector: label and class name as metadata, an image sprite."""
    images = splits.test.images[:MAX_PROJECTOR_POINTS]
    metadata = {}
    if splits.test.labels is not None:
        labels = splits.test.labels[:MAX_PROJECTOR_POINTS]
        metadata["label"] = labels.tolist()
        if splits.class_names:
            metadata["class"] = [splits.class_names[label] for label in labels]
    else:
        metadata["index"] = list(range(len(images)))
    embeddings = np.concatenate([np.asarray(model.encode(images[i : i + 500])).reshape(len(images[i : i + 500]), -1)
                                 for i in range(0, len(images), 500)])
    write_projector(run.file("tensorboard"), embeddings, metadata, sprite_images=images)
