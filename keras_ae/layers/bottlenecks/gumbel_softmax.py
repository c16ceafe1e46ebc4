"""Gumbel-softmax: relaxed one-hot samples with an annealed temperature and a hard straight-through mode."""

import math

import keras
import tensorflow as tf

from keras_ae.distribute import replica_uniform


@keras.saving.register_keras_serializable(package="keras_ae")
class GumbelSoftmax(keras.layers.Layer):
    """Samples relaxed one-hot vectors `softmax((logits + g) / temperature)`, `g` ~ Gumbel(0, 1), over the last axis.

    Jang, Gu & Poole, 2017, "Categorical Reparameterization with Gumbel-Softmax" (and Maddison et al., 2017,
    "The Concrete Distribution"). The temperature follows their annealing schedule,
    `max(min_temperature, initial_temperature * exp(-anneal_rate * step))`, where `step` counts training calls.
    At inference the layer returns the exact one-hot of `argmax(logits)` (no noise).

    Args:
        initial_temperature: temperature at step 0 (high: smooth samples, low-variance gradients).
        min_temperature: lowest temperature the schedule reaches.
        anneal_rate: decay rate of the temperature per training step (0 keeps it constant).
        hard: output exact one-hot vectors in the forward pass and the relaxed sample's gradient in the backward
            pass (straight-through Gumbel-softmax); otherwise the relaxed sample itself.
        seed: seed of the Gumbel noise.

    Example:
        layer = GumbelSoftmax(hard=True)
        one_hot = layer(tf.random.normal([8, 4, 16]), training=True)   # [8, 4, 16], one 1 per row of 16
        layer.temperature                                              # current temperature (a scalar tensor)
    """

    def __init__(
        self, initial_temperature=1.0, min_temperature=0.5, anneal_rate=1e-4, hard=True, seed=None, **kwargs
    ):
        super().__init__(**kwargs)
        if not 0 < min_temperature <= initial_temperature:
            raise ValueError(
                f"Need 0 < min_temperature <= initial_temperature; got {min_temperature} and {initial_temperature}."
            )
        if anneal_rate < 0:
            raise ValueError(f"anneal_rate must be non-negative; got {anneal_rate}.")
        # Randomness
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Config
        self.initial_temperature = float(initial_temperature)
        self.min_temperature = float(min_temperature)
        self.anneal_rate = float(anneal_rate)
        self.hard = bool(hard)
        self.seed = seed
        # State: the training step of the schedule (identical on every replica)
        self.steps = self.add_weight(
            name="steps", shape=(), initializer="zeros", dtype="int64", trainable=False,
            aggregation="only_first_replica",
        )

    @property
    def temperature(self):
        """The temperature the next training call uses."""
        steps = tf.cast(tf.convert_to_tensor(self.steps), "float32")
        return tf.maximum(self.min_temperature, self.initial_temperature * tf.exp(-self.anneal_rate * steps))

    def temperature_at(self, step):
        """The schedule's temperature at a given training step (a Python float)."""
        return max(self.min_temperature, self.initial_temperature * math.exp(-self.anneal_rate * step))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, logits, training=False):
        num_categories = tf.shape(logits)[-1]
        if not training:
            return tf.one_hot(tf.argmax(logits, axis=-1), num_categories, dtype=logits.dtype)
        uniform = replica_uniform(tf.shape(logits), self.seed_generator, minval=1e-9, maxval=1.0)
        gumbel = -tf.math.log(-tf.math.log(uniform))
        relaxed = tf.nn.softmax((tf.cast(logits, "float32") + gumbel) / self.temperature, axis=-1)
        self.steps.assign_add(1)
        if self.hard:
            hard = tf.one_hot(tf.argmax(relaxed, axis=-1), num_categories, dtype="float32")
            relaxed = relaxed + tf.stop_gradient(hard - relaxed)
        return tf.cast(relaxed, logits.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "initial_temperature": self.initial_temperature,
                "min_temperature": self.min_temperature,
                "anneal_rate": self.anneal_rate,
                "hard": self.hard,
                "seed": self.seed,
            }
        )
        return config
