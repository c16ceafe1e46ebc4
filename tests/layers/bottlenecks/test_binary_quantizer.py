import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import BinaryQuantizer
from tests.helpers import global_policy


def test_deterministic_bits_and_straight_through_gradient():
    logits = tf.constant([[-2.0, 0.5, 3.0, -0.1]])
    quantizer = BinaryQuantizer()
    with tf.GradientTape() as tape:
        tape.watch(logits)
        bits = quantizer(logits, training=True)
        loss = tf.reduce_sum(bits * tf.constant([[1.0, 2.0, 3.0, 4.0]]))
    np.testing.assert_array_equal(bits.numpy(), [[0, 1, 1, 0]])
    sigmoid = tf.sigmoid(logits).numpy()
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), [[1, 2, 3, 4]] * sigmoid * (1 - sigmoid), rtol=1e-5)
    np.testing.assert_array_equal(quantizer.bits(logits).numpy(), [[0, 1, 1, 0]])
    assert quantizer.bits(logits).dtype == tf.int32


def test_stochastic_bits_follow_the_probabilities_in_training_only():
    quantizer = BinaryQuantizer(mode="stochastic", seed=1)
    logits = tf.fill([20000], float(np.log(0.3 / 0.7)))   # P(bit = 1) = 0.3
    samples = quantizer(logits, training=True).numpy()
    assert set(np.unique(samples)) <= {0.0, 1.0}
    assert abs(samples.mean() - 0.3) < 0.02
    np.testing.assert_array_equal(quantizer(logits, training=False).numpy(), np.zeros(20000))


def test_config_round_trip_and_bad_mode():
    quantizer = BinaryQuantizer(mode="stochastic", seed=3)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(quantizer))
    assert clone.get_config() == quantizer.get_config()
    with pytest.raises(ValueError, match="deterministic, stochastic"):
        BinaryQuantizer(mode="sign")


@pytest.mark.parametrize("mode", ["deterministic", "stochastic"])
def test_mixed_float16(mode):
    """Under the "mixed_float16" policy the layer computes in float16: bits stay exact 0/1, gradients reach float32
    inputs, and the previous global policy is restored afterwards."""
    with global_policy("mixed_float16"):
        quantizer = BinaryQuantizer(mode=mode, seed=0)
        assert quantizer.compute_dtype == "float16"
        logits = tf.random.normal([64, 16], seed=1)
        with tf.GradientTape() as tape:
            tape.watch(logits)
            bits = quantizer(logits, training=True)
            loss = tf.reduce_sum(tf.cast(bits, "float32") * tf.range(16, dtype="float32"))
        assert bits.dtype == tf.float16
        values = bits.numpy()
        assert np.isfinite(values).all() and set(np.unique(values)) <= {0.0, 1.0}
        gradient = tape.gradient(loss, logits)
        assert gradient is not None and gradient.dtype == tf.float32
        assert np.isfinite(gradient.numpy()).all() and np.abs(gradient.numpy()).sum() > 0
        np.testing.assert_array_equal(quantizer(logits).numpy(), (logits.numpy() > 0).astype("float16"))
        assert quantizer.bits(logits).dtype == tf.int32
    assert keras.mixed_precision.global_policy().name == "float32"
