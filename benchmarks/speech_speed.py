"""Speed of CPC on this machine: seconds of audio per second in training, and the real-time factor of `encode`.

    python benchmarks/speech_speed.py                       # the recipe's default model
    python benchmarks/speech_speed.py --filters 128 --embedding-dim 256 --batch-size 64 --steps 20

Training: the recipe's default model on random crops (`--crop-seconds`, `--batch-size`) of synthetic audio,
timed over `--steps` steps after a warm-up (tracing) step. Encode: the traced `encode` over `--encode-seconds`
of audio per utterance in batches of `--encode-batch`; the real-time factor is processing time / audio duration
(below 1 is faster than real time). Prints a table; numbers depend on the load of the machine.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_ae.data.speech import SAMPLE_RATE  # noqa: E402
from keras_ae.layers.encoders.waveform_encoder import WaveformEncoder  # noqa: E402
from keras_ae.models.cpc import CPC  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--prediction-steps", type=int, default=12)
    parser.add_argument("--negatives", default="batch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--crop-seconds", type=float, default=1.28)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--encode-seconds", type=float, default=10.0)
    parser.add_argument("--encode-batch", type=int, default=8)
    parser.add_argument("--jit-compile", action="store_true", help="XLA-compile the training step")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    crop = int(args.crop_seconds * SAMPLE_RATE) // 160 * 160
    model = CPC(WaveformEncoder(args.embedding_dim, filters=args.filters), context_dim=args.embedding_dim,
                prediction_steps=args.prediction_steps, negatives=args.negatives, crop_samples=crop)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=args.jit_compile)
    rng = np.random.default_rng(0)
    crops = rng.normal(scale=0.1, size=(args.batch_size * (args.steps + 1), crop)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(crops).batch(args.batch_size).prefetch(2)
    model.fit(dataset.take(1), epochs=1, verbose=0)  # warm-up: tracing
    started = time.perf_counter()
    model.fit(dataset.skip(1), epochs=1, verbose=0)
    train_seconds = time.perf_counter() - started
    train_audio = args.steps * args.batch_size * crop / SAMPLE_RATE

    samples = int(args.encode_seconds * SAMPLE_RATE) // 160 * 160
    encode = tf.function(model.encode, input_signature=[tf.TensorSpec([None, None], tf.float32)])
    batch = tf.constant(rng.normal(scale=0.1, size=(args.encode_batch, samples)).astype("float32"))
    encode(batch)  # warm-up: tracing
    repeats = 3
    started = time.perf_counter()
    for _ in range(repeats):
        encode(batch).numpy()
    encode_seconds = (time.perf_counter() - started) / repeats
    encode_audio = args.encode_batch * samples / SAMPLE_RATE

    rows = [
        ("parameters", f"{model.count_params():,}"),
        ("training batch", f"{args.batch_size} x {crop / SAMPLE_RATE:.2f} s" + (" (XLA)" if args.jit_compile else "")),
        ("training: seconds of audio per second", f"{train_audio / train_seconds:.1f}"),
        ("training: seconds per step", f"{train_seconds / args.steps:.2f}"),
        ("encode: batch", f"{args.encode_batch} x {samples / SAMPLE_RATE:.1f} s"),
        ("encode: real-time factor", f"{encode_seconds / encode_audio:.4f}"),
        ("encode: seconds of audio per second", f"{encode_audio / encode_seconds:.0f}"),
        ("CPU threads (TF inter/intra)", f"{tf.config.threading.get_inter_op_parallelism_threads()}/"
                                         f"{tf.config.threading.get_intra_op_parallelism_threads()} (0 = all), "
                                         f"{os.cpu_count()} cores"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return dict(rows)


if __name__ == "__main__":
    main()
