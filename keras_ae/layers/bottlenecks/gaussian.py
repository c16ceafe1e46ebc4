"""Gaussian bottleneck: an encoding becomes a diagonal Gaussian posterior q(z|x), sampled with the
reparameterisation trick, with its KL divergence to N(0, I) as the bottleneck's loss (Kingma & Welling, 2014,
"Auto-Encoding Variational Bayes")."""

import keras
import tensorflow as tf

from keras_ae.distribute import replica_normal


def kl_divergence(mean, log_variance):
    """`KL(N(mean, exp(log_variance)) || N(0, I))` per example `[batch]`, in nats."""
    return 0.5 * tf.reduce_sum(tf.square(mean) + tf.exp(log_variance) - 1.0 - log_variance, axis=-1)


@keras.saving.register_keras_serializable(package="keras_ae")
class GaussianBottleneck(keras.layers.Layer):
    """`encoding [batch, d] -> (z [batch, code_dim], {"kl_loss": [batch]}, {"kl": scalar})`.

    Two dense layers give the posterior mean and log-variance. In training `z = mean + sigma * eps` with
    `eps ~ N(0, I)` drawn per replica (`keras_ae.distribute.replica_normal`, so replicas draw different noise);
    otherwise `z` is the mean. The loss is `beta * KL(q(z|x) || N(0, I))` per example, in nats; the metric `kl` is
    the batch mean of the unweighted KL.

    Args:
        code_dim: size of z.
        beta: weight of the KL term (1: the ELBO).
        seed: seed of the noise.

    Example:
        bottleneck = GaussianBottleneck(code_dim=8)
        z, losses, metrics = bottleneck(tf.random.normal([4, 16]), training=True)   # z [4, 8], losses["kl_loss"] [4]
    """

    loss_names = ("kl_loss",)
    metric_names = ("kl",)

    def __init__(self, code_dim, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(code_dim, bool) or not isinstance(code_dim, int) or code_dim < 1:
            raise ValueError(f"code_dim must be a positive integer; got {code_dim!r}.")
        if beta < 0:
            raise ValueError(f"beta must be non-negative; got {beta}.")
        # Layers
        self.mean_layer = keras.layers.Dense(code_dim, name="mean", dtype=self.dtype_policy)
        self.log_variance_layer = keras.layers.Dense(
            code_dim, kernel_initializer="zeros", name="log_variance", dtype=self.dtype_policy
        )
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Config
        self.code_dim = code_dim
        self.beta = float(beta)
        self.seed = seed

    def build(self, input_shape):
        for layer in (self.mean_layer, self.log_variance_layer):
            if not layer.built:
                layer.build(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.code_dim)

    def posterior(self, encoding):
        """`(mean, log_variance)`, each `[batch, code_dim]` float32."""
        mean = tf.cast(self.mean_layer(encoding), tf.float32)
        log_variance = tf.clip_by_value(tf.cast(self.log_variance_layer(encoding), tf.float32), -20.0, 10.0)
        return mean, log_variance

    def call(self, encoding, training=False):
        mean, log_variance = self.posterior(encoding)
        kl = kl_divergence(mean, log_variance)
        z = mean
        if training:
            z = mean + tf.exp(0.5 * log_variance) * replica_normal(tf.shape(mean), self.seed_generator)
        return z, {"kl_loss": self.beta * kl}, {"kl": tf.reduce_mean(kl)}

    def get_config(self):
        config = super().get_config()
        config.update({"code_dim": self.code_dim, "beta": self.beta, "seed": self.seed})
        return config
