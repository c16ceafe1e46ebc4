"""Instance normalisation over time, masked for padded frames."""

import keras
import tensorflow as tf


def masked_moments(frames, mask=None):
    """Per-example, per-channel mean and variance over time of `frames` `[batch, time, channels]`, counting only the
    frames where `mask` `[batch, time]` is true (all frames without a mask): two `[batch, 1, channels]` tensors."""
    frames = tf.convert_to_tensor(frames)
    if mask is None:
        return tf.nn.moments(frames, axes=[1], keepdims=True)
    weights = tf.cast(mask, frames.dtype)[..., None]
    count = tf.maximum(tf.reduce_sum(weights, axis=1, keepdims=True), 1.0)
    mean = tf.reduce_sum(frames * weights, axis=1, keepdims=True) / count
    variance = tf.reduce_sum(tf.square(frames - mean) * weights, axis=1, keepdims=True) / count
    return mean, variance


@keras.saving.register_keras_serializable(package="keras_ae")
class InstanceNormalization(keras.layers.Layer):
    """Standardises every channel of every utterance over time, without affine parameters: `(x - mean) / std`
    per example and channel (Ulyanov, Vedaldi & Lempitsky, 2016). In a content encoder it removes per-utterance
    statistics, which carry much of the speaker (Chou, Yeh & Lee, 2019, "One-shot voice conversion by separating
    speaker and content representations with instance normalization").

    With `mask` `[batch, time]` (true for real frames), the statistics come from the real frames only, so padding
    does not change an utterance's code; padded frames come out as zeros.

    Args:
        epsilon: added to the variance.

    Example:
        normalise = InstanceNormalization()
        codes = normalise(frames, mask=tf.sequence_mask(lengths, tf.shape(frames)[1]))
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        # Config
        self.epsilon = float(epsilon)

    def call(self, frames, mask=None):
        mean, variance = masked_moments(frames, mask)
        normalised = (frames - mean) * tf.math.rsqrt(variance + self.epsilon)
        if mask is not None:
            normalised *= tf.cast(mask, normalised.dtype)[..., None]
        return normalised

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
