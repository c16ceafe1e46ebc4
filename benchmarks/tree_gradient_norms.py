"""How often gradient clipping acts in finished tree_latent runs: the global norm of the training gradient on
training batches, with freshly initialised weights and with each checkpoint the run kept, against its --clip-norm.

    python benchmarks/tree_gradient_norms.py RUN_DIR... [--batches 40]

Each run folder's `config.json` gives the flags: the data, vocabulary, model sizes, batch size and seed are rebuilt
from them as the recipe builds them, and the checkpoints in `RUN_DIR/checkpoint` are loaded into that model. The
gradient is the one the optimiser sees before clipping: of the batch mean of the negative ELBO over all trainable
weights (`keras.optimizers.Adam(global_clipnorm=...)` clips this norm). Nothing is trained. Columns: the median and
90th percentile of the norm over the batches, and the share of batches whose norm is above the clip norm (those
steps are shortened by clipping).
"""

import argparse
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.data.trees import make_sentence_dataset
from keras_ae.recipes.common import format_table
from keras_ae.recipes.tree_latent import rebuild_run
from keras_ae.runs import CHECKPOINT_FOLDER, checkpoints


def gradient_norms(model, batches):
    """The global gradient norm of the training loss on each batch, as a NumPy array."""

    @tf.function(reduce_retracing=True)
    def norm(batch):
        with tf.GradientTape() as tape:
            per_judge, extra_losses, _ = model.judge_losses(batch, training=True)
            loss = tf.reduce_mean(model.total_loss(per_judge, extra_losses))
        gradients = tape.gradient(loss, model.trainable_variables)
        return tf.linalg.global_norm([g for g in gradients if g is not None])

    return np.array([float(norm(batch)) for batch in batches])


def run_rows(folder, count):
    """`{row name: columns}` of one run: its initial weights and each kept checkpoint."""
    args, data, model = rebuild_run(folder)  # the run's data and initial weights
    batches = list(make_sentence_dataset(data.train, args.batch_size, shuffle=True, seed=args.seed,
                                         by_length=args.length_batches).take(count))
    states = [("initial weights", None)] + [
        (f"after epoch {epoch}", path) for epoch, path in sorted(checkpoints(Path(folder) / CHECKPOINT_FOLDER))
    ]
    rows = {}
    for name, path in states:
        if path is not None:
            model.load_weights(path)
        norms = gradient_norms(model, batches)
        clip = args.clip_norm or float("inf")
        rows[f"{Path(folder).name}, {name}"] = {
            "median norm": f"{np.median(norms):.2f}",
            "90th percentile": f"{np.percentile(norms, 90):.2f}",
            "clip norm": f"{args.clip_norm:g}",
            "share clipped": f"{np.mean(norms > clip):.2f}",
        }
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="tree_latent run folders")
    parser.add_argument("--batches", type=int, default=40, help="training batches per state")
    args = parser.parse_args(argv)
    if args.batches < 1:
        parser.error(f"--batches must be 1 or more; got {args.batches}.")
    rows = {}
    for folder in args.runs:
        rows.update(run_rows(folder, args.batches))
    print(format_table(rows, ["median norm", "90th percentile", "clip norm", "share clipped"]))
    return rows


if __name__ == "__main__":
    main()
