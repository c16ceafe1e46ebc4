"""Binary quantiser: logits to bits, with a straight-through gradient."""

import keras
import tensorflow as tf

from keras_ae.distribute import replica_uniform

MODES = ("deterministic", "stochastic")


@keras.saving.register_keras_serializable(package="keras_ae")
class BinaryQuantizer(keras.layers.Layer):
    """Turns logits into bits in {0, 1}: a threshold at 0, or Bernoulli samples of `sigmoid(logits)` in training.

    The forward pass outputs the bits; the backward pass uses the gradient of `sigmoid(logits)` (the
    straight-through estimator of Bengio et al., 2013, "Estimating or propagating gradients through stochastic
    neurons for conditional computation"; binary codes as in Salakhutdinov & Hinton, 2009, "Semantic hashing").
    A code of n bits names one of 2**n cases, so 10 bits cover what a 1024-way one-hot code needs.

    Args:
        mode: `"deterministic"` thresholds the logits at 0; `"stochastic"` samples each bit with probability
            `sigmoid(logit)` while training (a regulariser that pushes logits away from 0), and thresholds at
            inference so that codes are reproducible.
        seed: seed of the Bernoulli samples.

    Example:
        quantizer = BinaryQuantizer(mode="stochastic")
        bits = quantizer(tf.random.normal([8, 16]), training=True)   # float32 0/1, [8, 16]
        ints = quantizer.bits(tf.random.normal([8, 16]))              # int32 0/1, [8, 16]
    """

    def __init__(self, mode="deterministic", seed=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"Unknown BinaryQuantizer mode {mode!r}: choose one of {', '.join(MODES)}.")
        # Randomness
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Config
        self.mode = mode
        self.seed = seed

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def bits(self, logits):
        """Deterministic int32 bits (1 where the logit is positive), the codes a user stores."""
        return tf.cast(logits > 0, tf.int32)

    def call(self, logits, training=False):
        probabilities = tf.sigmoid(logits)
        if training and self.mode == "stochastic":
            draws = replica_uniform(tf.shape(logits), self.seed_generator, dtype=logits.dtype)
            hard = tf.cast(draws < probabilities, logits.dtype)
        else:
            hard = tf.cast(logits > 0, logits.dtype)
        return probabilities + tf.stop_gradient(hard - probabilities)

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode, "seed": self.seed})
        return config
