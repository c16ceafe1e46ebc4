"""A unit-variance Gaussian bottleneck on a frame code: the code is the mean, training adds N(0, 1) noise."""

import keras
import tensorflow as tf

from keras_ae.distribute import replica_normal
from keras_ae.layers.bottlenecks.gaussian import kl_divergence


@keras.saving.register_keras_serializable(package="keras_ae")
class UnitNoiseBottleneck(keras.layers.Layer):
    """`(..., code [batch, time, dim]) -> ((..., code + noise), {"content_kl": [batch]}, {})`.

    The last element of a code tuple (e.g. `SpeakerContentEncoder`'s content code) is read as the mean of
    `N(code, I)`: in training it is sampled (noise drawn per replica), otherwise left as it is, and the loss is
    `weight * KL(N(code, I) || N(0, I))` averaged over frames, which is `weight * 0.5 * sum(code^2) / time`
    (Chou, Yeh & Lee, 2019, AdaIN-VC's content encoder; Kingma & Welling, 2014). The other elements pass through.

    Args:
        weight: weight of the KL term.
        seed: seed of the noise.

    Example:
        bottleneck = UnitNoiseBottleneck(weight=0.01)
        (frames, speaker, noisy), losses, _ = bottleneck((frames, speaker, content), training=True)
    """

    loss_names = ("content_kl",)
    metric_names = ()

    def __init__(self, weight=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if weight < 0:
            raise ValueError(f"UnitNoiseBottleneck weight must be 0 or more; got {weight}.")
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Config
        self.weight = float(weight)
        self.seed = seed

    def build(self, code_shape):
        self.built = True

    def call(self, code, training=False):
        *rest, mean = code
        mean = tf.cast(mean, "float32")
        kl = tf.reduce_mean(kl_divergence(mean, tf.zeros_like(mean)), axis=1)
        if training:
            mean = mean + replica_normal(tf.shape(mean), self.seed_generator)
        return (*rest, mean), {"content_kl": self.weight * kl}, {}

    def compute_output_shape(self, code_shape):
        return code_shape

    def get_config(self):
        config = super().get_config()
        config.update({"weight": self.weight, "seed": self.seed})
        return config
