"""Small data the tests make themselves, and a reload-in-a-clean-process check for exports."""

import json
import subprocess
import sys
import textwrap
import time

import numpy as np


def bar_images(count=256, size=8, seed=0, noise=0.5):
    """Noisy images of one horizontal or vertical bar at a random position, labelled by its orientation and
    position (`2 * size` classes): structure an encoder can learn in a few steps, hidden well enough in the noise
    that a random-init encoder does not already expose it linearly."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, noise, size=(count, size, size, 1)).astype("float32")
    labels = rng.integers(0, 2 * size, size=count)
    for image, label in zip(images, labels):
        position = label % size
        if label < size:
            image[position, :, 0] = np.maximum(image[position, :, 0], 0.6)
        else:
            image[:, position, 0] = np.maximum(image[:, position, 0], 0.6)
    return images, labels


RELOAD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    assert not any(name.startswith("keras_ae") for name in sys.modules)  # TF itself loads parts of keras
    export_dir, calls = sys.argv[1], json.loads(sys.argv[2])
    for module in json.load(open(f"{export_dir}/keras_ae.json")).get("imports", []):  # custom ops (tensorflow_text)
        __import__(module)
    loaded = tf.saved_model.load(export_dir)
    outputs = {}
    for label, (signature, count) in calls.items():
        inputs = [np.load(f"{export_dir}.{label}.{i}.npy", allow_pickle=False) for i in range(count)]
        try:
            result = getattr(loaded, signature)(*inputs)
        except tf.errors.InvalidArgumentError as error:
            outputs[f"{label}.error"] = np.asarray(error.message)
            continue
        for i, array in enumerate(result if isinstance(result, (list, tuple)) else [result]):
            array = np.asarray(array)
            outputs[f"{label}.{i}"] = array.astype(bytes) if array.dtype == object else array  # tf.string outputs
    np.savez(export_dir + ".outputs.npz", **outputs)
    assert not any(name.startswith("keras_ae") for name in sys.modules), "keras_ae was imported"
    print(json.dumps(sorted(loaded.signatures.keys())))
    """
)


def reload_and_call_many(export_dir, calls):
    """Loads `export_dir` in one fresh Python process that imports only TensorFlow and numpy (one TF start-up for
    all calls) and makes every call in `calls`, `{label: (signature, [numpy inputs])}`.

    Returns `(outputs, signatures)`: `outputs[label]` is the list of output arrays, or the error message (a str)
    when the call raised `InvalidArgumentError` (for checking that bad input fails clearly); `signatures` lists the
    export's signature names.
    """
    for label, (_, inputs) in calls.items():
        for index, array in enumerate(inputs):
            np.save(f"{export_dir}.{label}.{index}.npy", array)
    spec = {label: [signature, len(inputs)] for label, (signature, inputs) in calls.items()}
    completed = subprocess.run(
        [sys.executable, "-c", RELOAD_SCRIPT, str(export_dir), json.dumps(spec)], capture_output=True, text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    signatures = json.loads(completed.stdout.strip().splitlines()[-1])
    stored = np.load(f"{export_dir}.outputs.npz")
    outputs = {}
    for label in calls:
        if f"{label}.error" in stored.files:
            outputs[label] = str(stored[f"{label}.error"])
        else:
            count = sum(1 for key in stored.files if key.rsplit(".", 1)[0] == label)
            outputs[label] = [stored[f"{label}.{i}"] for i in range(count)]
    return outputs, signatures


def reload_and_call(export_dir, signature, inputs):
    """Loads `export_dir` in a fresh Python process that imports only TensorFlow and numpy, calls `signature`
    with `inputs` (a list of numpy arrays), and returns `(outputs as numpy arrays, signature names)`."""
    outputs, signatures = reload_and_call_many(export_dir, {"call": (signature, inputs)})
    assert not isinstance(outputs["call"], str), outputs["call"]
    return outputs["call"], signatures


def two_replica_strategy():
    """A MirroredStrategy over the two logical CPUs of tests/conftest.py, with collective keys of its own.

    Every MirroredStrategy of a process starts its collective keys at the same base, so a second strategy whose
    collectives differ from an earlier one's aborts ("Collective instance ... expected type ..."); TensorFlow's own
    tests shift the base for each strategy, and so does this helper.
    """
    import tensorflow as tf

    tf.distribute.MirroredStrategy._collective_key_base += 100000
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


def single_and_mirrored(make_model, learning_rate=0.5):
    """Two copies of `make_model()` with the same weights, compiled with SGD: one on the default device, one on
    `two_replica_strategy()`, for checking that 2 replicas train exactly like 1."""
    import keras

    single = make_model()
    single.compile(optimizer=keras.optimizers.SGD(learning_rate))
    with two_replica_strategy().scope():
        mirrored = make_model()
        mirrored.compile(optimizer=keras.optimizers.SGD(learning_rate))
    mirrored.set_weights(single.get_weights())
    return single, mirrored


def assert_two_replicas_step_like_one(make_model, batch, learning_rate=0.5, rtol=1e-4, atol=1e-4):
    """One SGD step on `batch` with 2 replicas gives the loss and the weights of one step on 1 device (see
    `single_and_mirrored`). Returns `(single, mirrored, loss)` for further checks."""
    import numpy as np
    import tensorflow as tf

    single, mirrored = single_and_mirrored(make_model, learning_rate=learning_rate)
    expected = single.train_on_batch(batch, return_dict=True)["loss"]
    got = mirrored.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0).history["loss"][0]
    np.testing.assert_allclose(got, expected, rtol=rtol)
    for a, b in zip(single.get_weights(), mirrored.get_weights()):
        np.testing.assert_allclose(a, b, atol=atol)
    return single, mirrored, expected


class global_policy:
    """Context manager that sets Keras' global dtype policy (e.g. "mixed_float16") and restores the previous one on
    exit, even when the test fails:

        with global_policy("mixed_float16"):
            layer = VectorQuantizer(...)   # computes in float16, keeps float32 variables
    """

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        import keras

        self.previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy(self.name)
        return keras.mixed_precision.global_policy()

    def __exit__(self, *exc_info):
        import keras

        keras.mixed_precision.set_global_policy(self.previous)
        return False


class FakeClock:
    """`time.perf_counter` and `time.process_time` that move only when a test calls `advance`, installed into the
    modules under test in place of `time`: timing arithmetic checked exactly, whatever the machine's load.

    Example:
        clock = FakeClock().install(monkeypatch, keras_ae.runs)
        clock.advance(0.5, cpu=0.25)  # keras_ae.runs now sees 0.5 s of wall-clock and 0.25 CPU-s pass
    """

    def __init__(self):
        self.wall, self.cpu = 0.0, 0.0

    def install(self, monkeypatch, *modules):
        for module in modules:
            monkeypatch.setattr(module, "time", self)
        return self

    def advance(self, wall, cpu=0.0):
        self.wall += wall
        self.cpu += cpu

    def perf_counter(self):
        return self.wall

    def process_time(self):
        return self.cpu

    def __getattr__(self, name):  # everything else of the time module stays real
        return getattr(time, name)
