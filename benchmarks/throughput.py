"""Training throughput of the image models, with and without XLA, and the input pipeline's own rate.

    .venv/bin/python benchmarks/throughput.py [--images 8192] [--batch-size 128] [--data mnist]

Prints a table of images per second (after one warm-up epoch) and how many times `train_step` was traced during
the timed epochs: 0 means it was compiled in the warm-up and never retraced.
"""

import argparse
import time

import keras

from keras_ae.data.images import load_images, make_dataset
from keras_ae.models import AutoEncoder, InfoMax
from keras_ae.recipes.common import format_table


def traced_step_counter(model):
    """Wraps `model.train_step` so that each trace (not each call) increments the returned counter."""
    counter = {"traces": 0}
    original = model.train_step

    def counting_train_step(data):
        counter["traces"] += 1  # Python side effect: runs only while tf.function traces the step
        return original(data)

    model.train_step = counting_train_step
    return counter


def measure_model(model_class, images, batch_size, jit_compile, epochs=2):
    keras.utils.set_random_seed(0)
    model = model_class(image_shape=images.shape[1:], embedding_dim=64)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=jit_compile)
    counter = traced_step_counter(model)
    dataset = make_dataset(images, batch_size, shuffle=True)
    model.fit(dataset, epochs=1, verbose=0, shuffle=False)  # warm-up: tracing, compilation, cache fill
    traced_in_warm_up = counter["traces"]
    started = time.perf_counter()
    model.fit(dataset, epochs=epochs, verbose=0, shuffle=False)
    seconds = time.perf_counter() - started
    steps = epochs * (len(images) // batch_size)
    return {
        "images_per_second": steps * batch_size / seconds,
        "traces_in_warm_up": traced_in_warm_up,
        "retraces_after_warm_up": counter["traces"] - traced_in_warm_up,
    }


def measure_pipeline(images, batch_size, epochs=3):
    dataset = make_dataset(images, batch_size, shuffle=True)
    for _ in dataset:
        pass
    started = time.perf_counter()
    count = sum(int(batch.shape[0]) for _ in range(epochs) for batch in dataset)
    return {"images_per_second": count / (time.perf_counter() - started)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist")
    parser.add_argument("--images", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    images = load_images(args.data, limit=args.images).train.images
    rows = {"input pipeline alone": measure_pipeline(images, args.batch_size)}
    for model_class in (AutoEncoder, InfoMax):
        for jit_compile in (False, True):
            label = f"{model_class.__name__} ({'XLA' if jit_compile else 'no XLA'})"
            rows[label] = measure_model(model_class, images, args.batch_size, jit_compile)
    print(f"{len(images)} {args.data} images, global batch {args.batch_size}, {keras.backend.backend()} backend")
    print(format_table(rows, ["images_per_second", "traces_in_warm_up", "retraces_after_warm_up"]))


if __name__ == "__main__":
    main()
