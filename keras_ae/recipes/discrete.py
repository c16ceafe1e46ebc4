"""Discrete auto-encoder on images: `python -m keras_ae.recipes.discrete --code binary|onehot [--data mnist] ...`.

Trains an auto-encoder whose decoder sees only a binary code (`--code-length` bits) or one-hot groups
(`--code-length` groups of `--categories`, Gumbel-softmax), then reports on the test split the reconstruction
error beside a continuous `AutoEncoder` with the same latent size and budget, and the code usage; writes the run
folder (reconstructions, code-usage histogram, code maps) and exports `encode`, `quantize`, `decode_codes`.

The flow (`run_code_recipe`) is shared with `keras_ae.recipes.vqvae`.
"""

import math

import keras
import numpy as np

from keras_ae import plots
from keras_ae.config import constructor_default
from keras_ae.data.images import make_dataset
from keras_ae.evaluation.codes import batched, bit_usage, code_usage, compare_reconstruction, reconstruction_mse
from keras_ae.layers.bottlenecks.vector_quantizer import check_codebook_fits
from keras_ae.models.autoencoder import AutoEncoder
from keras_ae.models.discrete import CODES, DiscreteAutoEncoder
from keras_ae.core.validation import at_least_two_int, positive_int
from keras_ae.recipes.common import export_run, format_table, print_summary, recipe_parser
from keras_ae.recipes.image_recipe import fit_in_run_folder, prepare_image_training, write_image_projector

def build_parser():
    parser = recipe_parser("discrete", __doc__.splitlines()[0], defaults={"data": "mnist", "epochs": 5})
    default = lambda name: constructor_default(DiscreteAutoEncoder, name)  # noqa: E731
    parser.add_argument("--code", choices=CODES, default=default("code"), help="binary bits or one-hot groups")
    parser.add_argument("--code-length", type=positive_int, default=default("code_length"),
                        help="bits (binary) or one-hot groups (onehot)")
    parser.add_argument("--categories", type=at_least_two_int, default=16, help="categories per one-hot group")
    parser.add_argument("--binary-mode", choices=["deterministic", "stochastic"], default=default("binary_mode"))
    parser.add_argument("--no-compare", dest="compare", action="store_false",
                        help="skip training the continuous AutoEncoder of the same latent size")
    return parser


def build_model(args, image_shape):
    return DiscreteAutoEncoder(
        image_shape=image_shape,
        code=args.code,
        code_length=args.code_length,
        num_categories=None if args.code == "binary" else args.categories,
        binary_mode=args.binary_mode,
        seed=args.seed,
    )


def check_data_size(args, splits):
    """A one-hot group with more categories than training images cannot use them all."""
    if args.code == "onehot":
        check_codebook_fits(
            args.categories, len(splits.train.images), what="training images (one category per image at most)"
        )


def run_code_recipe(parser, build_model, check_data_size, argv=None):
    """Trains a discrete-code model on images and evaluates, plots and exports it.

    `build_model(args, image_shape)` returns an uncompiled model with `codes`, `decode_codes`, `reconstruct`;
    `check_data_size(args, splits)` raises a clear error for a code the data cannot fill.
    """
    args, run, strategy, splits, train, validation, model = prepare_image_training(
        parser, build_model, argv, check_data=check_data_size
    )
    test_images = splits.test.images
    with run:
        history, training_seconds = fit_in_run_folder(model, run, args, train, validation, splits)

        codes = batched(model.codes, test_images)
        name = type(model).__name__
        row = {"test_mse": reconstruction_mse(model.reconstruct, test_images), "latent": _latent(model, codes)}
        usage = _usage(model, codes)
        row.update({key: value for key, value in usage.items() if key != "histogram"})
        rows = {name: row}
        if args.compare:
            latent_size = int(np.prod(codes.shape[1:]))
            rows[f"continuous AutoEncoder ({latent_size} floats)"] = _continuous_baseline(
                args, strategy, splits, latent_size
            )
            row.update(
                compare_reconstruction(row["test_mse"], rows[f"continuous AutoEncoder ({latent_size} floats)"]["test_mse"])
            )
        metrics = {
            "data": splits.name,
            "epochs": args.epochs,
            "training_seconds": training_seconds,
            "final_losses": {key: values[-1] for key, values in history.history.items()},
            "table": rows,
        }
        run.write_json("metrics.json", metrics)
        _figures(model, test_images, codes, usage, history.history, run)
        write_image_projector(model, splits, run)
        export_path = export_run(model, args.export_dir, metrics, flags=vars(args)) if args.export else None
    columns = ["test_mse", "ratio", "codes_used", "perplexity", "bits_used", "bit_entropy", "latent"]
    print_summary(run, export_path, format_table(rows, [c for c in columns if any(c in r for r in rows.values())]))
    return metrics


def _latent(model, codes):
    bits = np.prod(codes.shape[1:]) * np.log2(model.code_values)
    return f"{'x'.join(map(str, codes.shape[1:]))} codes of {model.code_values} ({bits:g} bits)"


def _usage(model, codes):
    if model.code_values == 2:
        usage = bit_usage(codes)
        usage["histogram"] = np.asarray(codes).reshape(len(codes), -1).mean(axis=0)
        return usage
    return code_usage(codes, model.code_values)


def _continuous_baseline(args, strategy, splits, latent_size):
    """The same training budget for a continuous `AutoEncoder` whose embedding has one float per code position."""
    with strategy.scope():
        baseline = AutoEncoder(image_shape=splits.image_shape, embedding_dim=latent_size)
        baseline.compile(optimizer=keras.optimizers.Adam(args.learning_rate), jit_compile=args.jit_compile)
    train = make_dataset(splits.train.images, args.batch_size, shuffle=True, seed=args.seed)
    baseline.fit(train, epochs=args.epochs, verbose=0)
    return {
        "test_mse": reconstruction_mse(lambda x: baseline.decode(baseline.encode(x)), splits.test.images),
        "latent": f"{latent_size} floats",
    }


def _figures(model, test_images, codes, usage, history, run):
    if history:
        plots.history_curves(history, run.file("history.png"), title=type(model).__name__)
    originals = test_images[:10]
    plots.image_grid(
        [originals, np.asarray(model.reconstruct(originals))],
        run.file("reconstructions.png"),
        row_titles=["test images", "reconstructions from the codes"],
    )
    histogram = np.asarray(usage["histogram"])
    if model.code_values == 2:  # bits: the share of images with each bit set
        plots.bar_chart(histogram, run.file("code_usage.png"), "Share of test images with each bit set", "bit", "share")
    else:
        plots.bar_chart(
            np.sort(histogram)[::-1], run.file("code_usage.png"),
            f"Test code usage ({usage['num_codes_used']} of {usage['num_codes']} codes used)", "code (by rank)", "count",
        )
    # Code maps: each test image's code drawn as a small image (grid codes scaled to [0, 1]).
    code_maps = np.asarray(codes[:10], dtype="float32")
    top = float(model.code_values - 1)
    if code_maps.ndim == 2:
        side = math.ceil(math.sqrt(code_maps.shape[1]))
        padded = np.zeros([len(code_maps), side * side], "float32")
        padded[:, : code_maps.shape[1]] = code_maps
        code_maps = padded.reshape(len(code_maps), side, side)
    plots.image_grid(
        [originals, code_maps[..., None] / top], run.file("code_maps.png"), row_titles=["test images", "their codes"]
    )


def main(argv=None):
    return run_code_recipe(build_parser(), build_model, check_data_size, argv)


if __name__ == "__main__":
    main()
