"""Small data the tests make themselves, and a reload-in-a-clean-process check for exports."""

import atexit
import json
import select
import subprocess
import sys
import tempfile
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


RELOAD_SERVER = textwrap.dedent(
    """
    import gc, json, sys, traceback
    import numpy as np
    import tensorflow as tf
    for module in json.loads(sys.argv[1]):  # the export's declared custom ops (tensorflow_text), nothing else
        __import__(module)
    assert not any(name.startswith("keras_ae") for name in sys.modules)  # TF itself loads parts of keras
    for request in sys.stdin:
        export_dir, calls = json.loads(request)
        try:
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
                    outputs[f"{label}.{i}"] = array.astype(bytes) if array.dtype == object else array  # tf.string
            np.savez(export_dir + ".outputs.npz", **outputs)
            assert not any(name.startswith("keras_ae") for name in sys.modules), "keras_ae was imported"
            reply = {"signatures": sorted(loaded.signatures.keys())}
            del loaded
            gc.collect()
        except Exception:
            reply = {"error": traceback.format_exc()}
        print("RELOADED " + json.dumps(reply), flush=True)
    """
)


class _CleanTensorFlow:
    """A Python process that has imported only TensorFlow, numpy and one export's declared custom-op modules, and
    loads exports on request: the `tf.saved_model.load` check of a process that never imports keras_ae, with one
    TensorFlow start-up for all the exports of a test run that declare the same modules (a start-up is about 3 s;
    an export that declares other modules gets a process of its own, so no export borrows another's imports)."""

    _processes = {}

    @classmethod
    def call(cls, export_dir, spec, timeout=300):
        with open(f"{export_dir}/keras_ae.json") as file:
            imports = tuple(sorted(json.load(file).get("imports", [])))
        process = cls._processes.get(imports)
        if process is None or process.poll() is not None:
            log = tempfile.TemporaryFile()
            process = subprocess.Popen(
                [sys.executable, "-c", RELOAD_SERVER, json.dumps(imports)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log, bufsize=0,
            )
            process.log = log
            cls._processes[imports] = process
        process.stdin.write((json.dumps([str(export_dir), spec]) + "\n").encode())
        deadline = time.monotonic() + timeout
        line = b""
        while not line.startswith(b"RELOADED "):
            line = b""
            while not line.endswith(b"\n"):
                ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
                chunk = process.stdout.read(1) if ready else b""
                if not chunk:
                    process.kill()
                    process.log.seek(0)
                    stderr = process.log.read().decode(errors="replace")
                    raise AssertionError(f"loading {export_dir} in a clean process failed:\n{stderr[-3000:]}")
                line += chunk
        reply = json.loads(line[len(b"RELOADED "):])
        assert "error" not in reply, reply.get("error")
        return reply["signatures"]

    @classmethod
    def close(cls):
        for process in cls._processes.values():
            if process.poll() is None:
                process.stdin.close()
                process.wait(timeout=60)
        cls._processes.clear()


atexit.register(_CleanTensorFlow.close)


def reload_and_call_many(export_dir, calls):
    """Loads `export_dir` in a Python process that imports only TensorFlow, numpy and the export's declared custom-op
    modules (never keras_ae; see `_CleanTensorFlow`) and makes every call in `calls`,
    `{label: (signature, [numpy inputs])}`.

    Returns `(outputs, signatures)`: `outputs[label]` is the list of output arrays, or the error message (a str)
    when the call raised `InvalidArgumentError` (for checking that bad input fails clearly); `signatures` lists the
    export's signature names.
    """
    for label, (_, inputs) in calls.items():
        for index, array in enumerate(inputs):
            np.save(f"{export_dir}.{label}.{index}.npy", array)
    spec = {label: [signature, len(inputs)] for label, (signature, inputs) in calls.items()}
    signatures = _CleanTensorFlow.call(export_dir, spec)
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
