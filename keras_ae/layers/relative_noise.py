"""Training noise on a code, scaled by the batch's own spread of each dimension, so the encoder cannot outgrow it."""

import keras
import tensorflow as tf

from keras_ae.distribute import replica_normal


@keras.saving.register_keras_serializable(package="keras_ae")
class RelativeNoise(keras.layers.Layer):
    """`code [batch, dim] -> code + scale * std * N(0, I)` in training, the identity otherwise.

    `std` is each dimension's standard deviation over the batch, held fixed (no gradient), so the noise keeps its
    size relative to the codes however the encoder scales them: unlike fixed-size noise (e.g. a Gaussian
    bottleneck without its KL term) it cannot be escaped by growing the code. On a speaker code it gives the decoder
    a cloud of codes around every training voice instead of one point per voice, so that a new voice's code falls
    where the decoder has been trained (the smoothing argument of noise injection: Bishop, 1995, "Training with
    noise is equivalent to Tikhonov regularization"; the denoising view: Vincent et al., 2008). The noise is drawn
    per replica (`replica_normal`); under a strategy `std` is the replica's share of the batch.

    Args:
        scale: the noise's standard deviation as a share of each dimension's spread over the batch (0: none).
        seed: seed of the noise.

    Example:
        noise = RelativeNoise(scale=0.3, seed=0)
        noisy = noise(tf.random.normal([16, 64]), training=True)   # [16, 64], noise 0.3x each column's spread
        same = noise(tf.random.normal([16, 64]))                   # unchanged outside training
    """

    def __init__(self, scale=0.3, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not scale >= 0:
            raise ValueError(f"RelativeNoise scale must be 0 or more; got {scale}.")
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Config
        self.scale = float(scale)
        self.seed = seed

    def build(self, code_shape):
        self.built = True

    def call(self, code, training=False):
        if not (training and self.scale):
            return code
        spread = tf.stop_gradient(tf.math.reduce_std(tf.cast(code, "float32"), axis=0, keepdims=True))
        return code + tf.cast(self.scale * spread * replica_normal(tf.shape(code), self.seed_generator), code.dtype)

    def compute_output_shape(self, code_shape):
        return code_shape

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "seed": self.seed})
        return config
