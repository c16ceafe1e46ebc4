"""Adaptive instance normalisation: instance-normalised frames, scaled and shifted by a conditioning vector."""

import keras
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.layers.conditioning.instance_normalization import InstanceNormalization


@keras.saving.register_keras_serializable(package="keras_ae")
class AdaptiveInstanceNormalization(keras.layers.Layer):
    """`(1 + gamma(c)) * IN(x) + beta(c)`: frames `x` `[batch, time, channels]` normalised per utterance and channel,
    then given the scale and shift that a dense layer reads from the conditioning vector `c` `[batch, dim]` (Huang
    & Belongie, 2017, "Arbitrary style transfer in real-time with adaptive instance normalization"; in a speech
    decoder, `c` is a speaker embedding: Chou, Yeh & Lee, 2019). `gamma` starts near 0, so the layer starts as
    plain instance normalisation.

    Args:
        channels: channels of `x`.
        epsilon: added to the variance.

    Example:
        adain = AdaptiveInstanceNormalization(channels=128)
        styled = adain(frames, speaker_embedding)           # frames [b, t, 128], speaker_embedding [b, 64]
    """

    def __init__(self, channels, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        channels = integer_at_least("AdaptiveInstanceNormalization channels", channels, 1)
        # Layers
        self.normalize = InstanceNormalization(epsilon=epsilon, name="instance_normalization")
        self.affine = keras.layers.Dense(2 * channels, kernel_initializer="zeros", name="affine")
        # Config
        self.channels = channels
        self.epsilon = float(epsilon)

    def build(self, frames_shape, condition_shape=None):
        self.affine.build((None, condition_shape[-1] if condition_shape else None))
        self.built = True

    def call(self, frames, condition, mask=None):
        gamma, beta = tf.split(self.affine(condition)[:, None, :], 2, axis=-1)
        return (1.0 + gamma) * self.normalize(frames, mask=mask) + beta

    def compute_output_shape(self, frames_shape, condition_shape=None):
        return frames_shape

    def get_config(self):
        config = super().get_config()
        config.update({"channels": self.channels, "epsilon": self.epsilon})
        return config
