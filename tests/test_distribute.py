import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.distribute import get_strategy, per_replica_mean, replica_uniform
from keras_ae.layers import ConvImageEncoder
from keras_ae.models import InfoMax
from tests.helpers import two_replica_strategy


def _small_infomax(objective="bce"):
    return InfoMax(
        image_shape=(8, 8, 1),
        embedding_dim=8,
        encoder=ConvImageEncoder(embedding_dim=8, filters=(8, 16), hidden_dim=32),
        objective=objective,
        max_shift=0,  # shifted views are drawn per replica by design; equality needs the plain pairs
    )


def test_strategy_flag():
    assert get_strategy("default").num_replicas_in_sync == 1
    assert get_strategy("mirrored").num_replicas_in_sync == 2  # conftest splits the CPU in two
    with pytest.raises(ValueError, match="default, mirrored, multi_worker"):
        get_strategy("tpu")


def test_multi_worker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        get_strategy("multi_worker")


@pytest.mark.parametrize("objective", ["bce", "infonce"])
def test_two_replicas_give_the_one_device_loss_and_step(objective):
    """Negatives come from the global batch, batch norm is synchronized, and gradients are scaled right: one
    training step on 2 replicas equals one step on 1 device for the same global batch."""
    images = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype("float32")
    mirrored = two_replica_strategy()
    keras.utils.set_random_seed(0)
    single = _small_infomax(objective)
    with mirrored.scope():
        replicated = _small_infomax(objective)
    replicated.set_weights(single.get_weights())

    def global_loss(model, batch):
        return per_replica_mean(model.total_loss(*model.judge_losses(batch, training=True)[:2]))

    single_loss = float(global_loss(single, images))
    batches = mirrored.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(images).batch(16))
    batch = next(iter(batches))
    per_replica = mirrored.run(tf.function(lambda b: global_loss(replicated, b)), args=(batch,))
    replicated_loss = float(mirrored.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None))
    assert single_loss > 0.1
    np.testing.assert_allclose(replicated_loss, single_loss, rtol=1e-5)

    for model in (single, replicated):
        model.compile(optimizer=keras.optimizers.SGD(0.1))
        model.fit(tf.data.Dataset.from_tensor_slices(images).batch(16), epochs=1, verbose=0, shuffle=False)
    moved = max(float(np.abs(a - b).max()) for a, b in zip(single.get_weights(), replicated.get_weights()))
    assert moved < 1e-5


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_worker_processes_end_with_identical_weights(tmp_path):
    script = Path(__file__).with_name("multi_worker_train.py")
    ports = [str(_free_port()), str(_free_port())]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), "TF_CPP_MIN_LOG_LEVEL": "2"}
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(index), *ports, str(tmp_path / f"worker{index}.npz")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index in range(2)
    ]
    try:
        outputs = [worker.communicate(timeout=240)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    assert all(worker.returncode == 0 for worker in workers), "\n".join(o[-2000:] for o in outputs)
    first, second = (np.load(tmp_path / f"worker{index}.npz") for index in range(2))
    weights = sorted(name for name in first.files if name.startswith("arr_"))
    assert float(first["changed"]) > 1e-4
    assert bool(first["chief"]) and not bool(second["chief"])
    for name in weights:
        np.testing.assert_array_equal(first[name], second[name])


def test_replica_uniform_differs_between_replicas_and_keeps_one_generator_state():
    strategy = two_replica_strategy()
    with strategy.scope():
        generator = keras.random.SeedGenerator(7)

    @tf.function
    def draw():
        return strategy.run(lambda: replica_uniform([1000], generator))

    first, second = strategy.experimental_local_results(draw())
    assert not np.allclose(first, second)  # each replica draws its own noise
    assert 0.45 < float(np.mean(first)) < 0.55 and 0.45 < float(np.mean(second)) < 0.55
    states = [np.asarray(value) for value in strategy.experimental_local_results(generator.state.value)]
    np.testing.assert_array_equal(states[0], states[1])
    again = strategy.experimental_local_results(draw())[0]
    assert not np.allclose(again, first)  # the generator moved on
    # Outside a strategy: replica 0, reproducible from the seed.
    np.testing.assert_array_equal(
        replica_uniform([5], keras.random.SeedGenerator(3)), replica_uniform([5], keras.random.SeedGenerator(3))
    )


def _workers(tmp_path, run_dir, epochs, *options, timeout=300):
    """Runs the two workers of tests/multi_worker_run.py; returns their `(return code, output)`."""
    script = Path(__file__).with_name("multi_worker_run.py")
    ports = [str(_free_port()), str(_free_port())]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), "TF_CPP_MIN_LOG_LEVEL": "2"}
    workers = [
        subprocess.Popen(
            [sys.executable, str(script), str(index), *ports, str(run_dir), str(tmp_path / f"worker{index}.npz"),
             str(epochs), *options],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for index in range(2)
    ]
    try:
        outputs = [worker.communicate(timeout=timeout)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    return [(worker.returncode, output) for worker, output in zip(workers, outputs)]


@pytest.mark.slow  # default-suite budget: two workers x two runs; killed
# single-process runs resume in tests/test_runs.py and tests/test_fault_injection.py
def test_killed_two_worker_run_resumes_with_identical_weights_and_each_epoch_once(tmp_path):
    run_dir = tmp_path / "run"
    first = _workers(tmp_path, run_dir, 3, "stop:1")  # both workers die right after epoch 1's checkpoint
    assert [code for code, _ in first] == [3, 3], "\n".join(output[-2000:] for _, output in first)
    resumed = _workers(tmp_path, run_dir, 3, "resume")
    assert [code for code, _ in resumed] == [0, 0], "\n".join(output[-2000:] for _, output in resumed)
    chief, other = (np.load(tmp_path / f"worker{index}.npz") for index in range(2))
    assert int(chief["restored"]) == int(other["restored"]) == 1
    assert bool(chief["chief"]) and not bool(other["chief"])
    for name in (name for name in chief.files if name.startswith("arr_")):
        np.testing.assert_array_equal(chief[name], other[name])
    epochs = [line.split(",")[0] for line in (run_dir / "history.csv").read_text().splitlines()[1:]]
    assert epochs == ["0", "1", "2"]


@pytest.mark.slow  # about two minutes: TensorFlow's heartbeat notices the dead peer
def test_a_dead_worker_makes_the_other_fail_with_a_message(tmp_path):
    (code, output), (dead, _) = _workers(tmp_path, tmp_path / "run", 1000, "die:1", timeout=400)
    assert dead == -9 and code == 1
    assert "WorkerLostError: Another worker of the cluster stopped" in output
    assert "Restart every worker with --resume" in output
