"""Discrete codes on MNIST test: codebook usage, perplexity and reconstruction MSE of VQ-VAE with and without EMA and
dead-code restart, against a continuous AutoEncoder with the same latent size, and binary vs one-hot at equal bits.

    .venv/bin/python benchmarks/discrete_codes.py --epochs 3            # prints a table (about 30 min on 2 CPUs)
    .venv/bin/python benchmarks/discrete_codes.py --only vqvae --epochs 1

Every model trains on the 55k MNIST training images with the same optimiser and budget; numbers are on the 10k
test images (never used for any choice).
"""

import argparse
import json
import time

import keras
import numpy as np

from keras_ae.data.images import load_images, make_dataset
from keras_ae.evaluation.codes import batched, bit_usage, code_usage, equal_bits_onehot, reconstruction_mse
from keras_ae.models.autoencoder import AutoEncoder
from keras_ae.models.discrete import DiscreteAutoEncoder
from keras_ae.layers.decoders.grid_decoders import image_grid_decoder
from keras_ae.layers.encoders.grid_encoders import image_grid_encoder
from keras_ae.models.vqvae import VQVAE

VQ_VARIANTS = {
    "vqvae ema+restart": {"ema": True, "restart_dead_codes": True},
    "vqvae ema": {"ema": True, "restart_dead_codes": False},
    "vqvae restart": {"ema": False, "restart_dead_codes": True},
    "vqvae plain": {"ema": False, "restart_dead_codes": False},
    "vqvae plain, no k-means": {"ema": False, "restart_dead_codes": False, "kmeans_init": False},
}


class _GridAsEmbedding(keras.layers.Layer):
    """Wraps a grid encoder in the `(feature_map, embedding)` contract of `AutoEncoder`."""

    def __init__(self, grid_encoder, **kwargs):
        super().__init__(**kwargs)
        self.grid_encoder = grid_encoder

    def build(self, input_shape):
        self.grid_encoder.build(input_shape)

    def compute_output_shape(self, input_shape):
        grid = self.grid_encoder.compute_output_shape(input_shape)
        return grid, grid

    def call(self, images, training=None):
        grid = self.grid_encoder(images, training=training)
        return grid, grid


def train(model, images, args):
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    start = time.time()
    model.fit(make_dataset(images, args.batch_size, shuffle=True, seed=args.seed), epochs=args.epochs, verbose=0)
    return time.time() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--codebook-size", type=int, default=512)
    parser.add_argument("--code-dim", type=int, default=32)
    parser.add_argument("--bits", type=int, default=64, help="bit budget of the binary vs one-hot comparison")
    parser.add_argument("--categories", type=int, default=16, help="categories per one-hot group")
    parser.add_argument("--only", choices=["vqvae", "continuous", "twin", "discrete"], action="append")
    parser.add_argument("--variants", nargs="*", default=list(VQ_VARIANTS), help="VQ-VAE variants to run")
    parser.add_argument("--limit", type=int, default=None, help="use only this many training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(args.seed)
    splits = load_images("mnist")
    train_images = splits.train.images[: args.limit] if args.limit else splits.train.images
    test_images = splits.test.images
    only = set(args.only or ["vqvae", "continuous", "twin", "discrete"])
    rows = []

    def report(row):
        rows.append(row)
        print(json.dumps(row), flush=True)

    grid_positions = None
    if "vqvae" in only:
        for name in args.variants:
            model = VQVAE(num_codes=args.codebook_size, code_dim=args.code_dim, seed=args.seed, **VQ_VARIANTS[name])
            seconds = train(model, train_images, args)
            codes = batched(model.codes, test_images)
            grid_positions = int(np.prod(codes.shape[1:]))
            usage = code_usage(codes, args.codebook_size)
            report(
                {
                    "model": name,
                    "codes_used": round(usage["codes_used"], 4),
                    "perplexity": round(usage["perplexity"], 1),
                    "test_mse": round(reconstruction_mse(model.reconstruct, test_images), 5),
                    "latent": f"{codes.shape[1]}x{codes.shape[2]} codes of {args.codebook_size}",
                    "bits": round(grid_positions * np.log2(args.codebook_size), 1),
                    "seconds": round(seconds),
                }
            )
    if "continuous" in only:
        latent = grid_positions or 49
        model = AutoEncoder(embedding_dim=latent)
        seconds = train(model, train_images, args)
        report(
            {
                "model": f"continuous AutoEncoder, embedding_dim={latent}",
                "test_mse": round(reconstruction_mse(lambda x: model.decode(model.encode(x)), test_images), 5),
                "latent": f"{latent} floats",
                "seconds": round(seconds),
            }
        )
    if "twin" in only:
        # The VQ-VAE's own encoder and decoder with nothing in between: the 7x7 grid of code_dim floats.
        model = AutoEncoder(encoder=_GridAsEmbedding(image_grid_encoder(args.code_dim)), decoder=image_grid_decoder(1))
        seconds = train(model, train_images, args)
        report(
            {
                "model": f"unquantised VQ-VAE twin (7x7x{args.code_dim} floats)",
                "test_mse": round(reconstruction_mse(lambda x: model.decode(model.encode(x)), test_images), 5),
                "seconds": round(seconds),
            }
        )
    if "discrete" in only:
        groups = equal_bits_onehot(args.bits, args.categories)
        for code, length in (("binary", args.bits), ("onehot", groups)):
            model = DiscreteAutoEncoder(code=code, code_length=length, num_categories=None if code == "binary" else args.categories, seed=args.seed)
            seconds = train(model, train_images, args)
            codes = batched(model.codes, test_images)
            row = {
                "model": f"{code} code, {length} x {model.num_categories}",
                "bits": model.code_bits,
                "test_mse": round(reconstruction_mse(model.reconstruct, test_images), 5),
                "seconds": round(seconds),
            }
            if code == "binary":
                row.update(bit_usage(codes))
            else:
                usage = code_usage(codes, args.categories)
                row.update({"categories_used": usage["codes_used"], "group_perplexity": round(usage["perplexity"], 2)})
                row["distinct_codes"] = int(len(np.unique(codes, axis=0)))
            report(row)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=2)
    print()
    keys = ["model", "codes_used", "perplexity", "test_mse", "bits", "seconds"]
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row.get(key, "")) for key in keys))
    return rows


if __name__ == "__main__":
    main()
