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
