import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import GumbelSoftmax
from tests.helpers import global_policy


def test_hard_samples_are_one_hot_with_relaxed_gradients():
    layer = GumbelSoftmax(hard=True, seed=0)
    logits = tf.random.normal([16, 3, 5], seed=2)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        samples = layer(logits, training=True)
        loss = tf.reduce_sum(samples * tf.range(5, dtype="float32"))
    values = samples.numpy()
    assert set(np.unique(values)) <= {0.0, 1.0}
    np.testing.assert_array_equal(values.sum(-1), np.ones([16, 3]))
    gradient = tape.gradient(loss, logits).numpy()
    assert np.abs(gradient).sum() > 0


def test_soft_samples_and_argmax_at_inference():
    layer = GumbelSoftmax(hard=False, seed=0)
    logits = tf.random.normal([8, 6], seed=3)
    soft = layer(logits, training=True).numpy()
    np.testing.assert_allclose(soft.sum(-1), np.ones(8), rtol=1e-5)
    assert ((soft > 0) & (soft < 1)).all()
    np.testing.assert_array_equal(layer(logits).numpy(), tf.one_hot(tf.argmax(logits, -1), 6).numpy())


def test_samples_follow_the_softmax_of_the_logits():
    layer = GumbelSoftmax(hard=True, seed=5)
    logits = tf.math.log(tf.tile(tf.constant([[0.6, 0.3, 0.1]]), [20000, 1]))
    frequencies = layer(logits, training=True).numpy().mean(0)
    np.testing.assert_allclose(frequencies, [0.6, 0.3, 0.1], atol=0.02)


def test_temperature_anneals_to_its_floor():
    layer = GumbelSoftmax(initial_temperature=2.0, min_temperature=0.5, anneal_rate=0.5)
    assert float(layer.temperature) == pytest.approx(2.0)
    for _ in range(2):
        layer(tf.zeros([1, 4]), training=True)
    assert float(layer.temperature) == pytest.approx(2.0 * np.exp(-1.0), rel=1e-5)
    assert layer.temperature_at(2) == pytest.approx(2.0 * np.exp(-1.0))
    for _ in range(10):
        layer(tf.zeros([1, 4]), training=True)
    assert float(layer.temperature) == pytest.approx(0.5)


def test_config_round_trip_and_bad_temperatures():
    layer = GumbelSoftmax(initial_temperature=2.0, min_temperature=0.3, anneal_rate=1e-3, hard=False, seed=1)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="min_temperature"):
        GumbelSoftmax(initial_temperature=0.5, min_temperature=1.0)


def test_schedule_step_is_shared_by_two_replicas():
    from tests.helpers import two_replica_strategy

    strategy = two_replica_strategy()
    with strategy.scope():
        layer = GumbelSoftmax(anneal_rate=0.1, seed=0)

    @tf.function
    def step(batch):
        return strategy.run(lambda x: layer(x, training=True), args=(batch,))

    dataset = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(tf.zeros([12, 4])).batch(4))
    for batch in dataset:
        step(batch)
    copies = [int(v.numpy()) for v in strategy.experimental_local_results(layer.steps.value)]
    assert copies == [3, 3]


@pytest.mark.parametrize("hard", [True, False])
def test_mixed_float16(hard):
    """Under "mixed_float16": float16 samples that are (relaxed) one-hot rows, finite gradients into float32 logits,
    the annealing step counter still counts, and the previous global policy comes back."""
    with global_policy("mixed_float16"):
        layer = GumbelSoftmax(hard=hard, initial_temperature=0.5, min_temperature=0.5, seed=0)
        assert layer.compute_dtype == "float16"
        logits = tf.random.normal([32, 4, 8], seed=2) * 20.0  # large logits: float16 overflow would show here
        with tf.GradientTape() as tape:
            tape.watch(logits)
            samples = layer(logits, training=True)
            loss = tf.reduce_sum(tf.cast(samples, "float32") * tf.range(8, dtype="float32"))
        assert samples.dtype == tf.float16
        values = samples.numpy().astype("float32")
        assert np.isfinite(values).all()
        np.testing.assert_allclose(values.sum(-1), np.ones([32, 4]), atol=1e-2)
        gradient = tape.gradient(loss, logits)
        assert gradient.dtype == tf.float32 and np.isfinite(gradient.numpy()).all()
        assert np.abs(gradient.numpy()).sum() > 0
        assert int(layer.steps.numpy()) == 1
        inference = layer(logits).numpy()
        np.testing.assert_array_equal(inference.argmax(-1), logits.numpy().argmax(-1))
    assert keras.mixed_precision.global_policy().name == "float32"
