import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import GumbelSoftmax


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
