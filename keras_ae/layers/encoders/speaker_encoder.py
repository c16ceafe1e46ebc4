"""A speaker encoder: an utterance of any length -> one speaker vector."""

import keras
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.distribute import replica_uniform
from keras_ae.layers.conditioning.instance_normalization import masked_moments


@keras.saving.register_keras_serializable(package="keras_ae")
class SpeakerEncoder(keras.layers.Layer):
    """Frames `[batch, time, bins]` -> a speaker embedding `[batch, embedding_dim]`: 1-D convolutions, then the
    mean and standard deviation of their output over time (masked for padded frames), then a dense layer. Pooling
    over time makes it take references of any length (Chou, Yeh & Lee, 2019; Snyder et al., 2018, x-vectors, for
    the statistics pooling).

    Args:
        embedding_dim: size of the speaker embedding.
        filters: channels of the convolutions.
        blocks: convolution layers.
        kernel_size: kernel width in frames.
        training_window: in training only, each utterance is pooled over one random window of this many consecutive
            frames (the whole utterance when it is shorter), so one speaker's codes vary from window to window and
            spread around the speaker instead of collapsing to a point; 0: the whole utterance. Inference always
            pools over the whole utterance.
        seed: seed of the windows' positions.

    Example:
        encoder = SpeakerEncoder(embedding_dim=64)
        speaker = encoder(frames)                       # frames [b, t, 80] -> [b, 64]
        windowed = SpeakerEncoder(embedding_dim=64, training_window=32, seed=0)
        speaker = windowed(frames, training=True)       # each utterance pooled over 32 random consecutive frames
    """

    def __init__(self, embedding_dim, filters=128, blocks=3, kernel_size=5, training_window=0, seed=None, **kwargs):
        super().__init__(**kwargs)
        embedding_dim = integer_at_least("SpeakerEncoder embedding_dim", embedding_dim, 1)
        blocks = integer_at_least("SpeakerEncoder blocks", blocks, 1)
        training_window = integer_at_least("SpeakerEncoder training_window", training_window, 0)
        # Layers
        self.convolutions = [keras.layers.Conv1D(filters, kernel_size, padding="same", activation="gelu",
                                                 name=f"conv_{i}") for i in range(blocks)]
        self.project = keras.layers.Dense(embedding_dim, name="project")
        # Randomness (only with windows, so checkpoints without them keep their variables)
        self.seed_generator = keras.random.SeedGenerator(seed) if training_window else None
        # Config
        self.embedding_dim = embedding_dim
        self.filters = filters
        self.blocks = blocks
        self.kernel_size = kernel_size
        self.training_window = training_window
        self.seed = seed

    def build(self, frames_shape):
        shape = tuple(frames_shape)
        for convolution in self.convolutions:
            convolution.build(shape)
            shape = (None, None, self.filters)
        self.project.build((None, 2 * self.filters))
        self.built = True

    def call(self, frames, mask=None, training=False):
        if training and self.training_window:
            frames, mask = self._random_window(frames, mask)
        hidden = frames
        for convolution in self.convolutions:
            hidden = convolution(hidden)
        mean, variance = masked_moments(hidden, mask)
        pooled = tf.concat([mean[:, 0], tf.sqrt(variance[:, 0] + 1e-5)], axis=-1)
        return self.project(pooled)

    def _random_window(self, frames, mask):
        """`training_window` consecutive frames (and their mask) of each utterance, from a uniform random start."""
        batch, time = tf.shape(frames)[0], tf.shape(frames)[1]
        window = tf.minimum(self.training_window, time)
        starts = tf.cast(replica_uniform([batch], self.seed_generator) * tf.cast(time - window + 1, "float32"), "int32")
        indices = tf.minimum(starts, time - window)[:, None] + tf.range(window)[None]
        mask = None if mask is None else tf.gather(mask, indices, batch_dims=1)
        return tf.gather(frames, indices, batch_dims=1), mask

    def compute_output_shape(self, frames_shape):
        return (frames_shape[0], self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update({"embedding_dim": self.embedding_dim, "filters": self.filters, "blocks": self.blocks,
                       "kernel_size": self.kernel_size, "training_window": self.training_window, "seed": self.seed})
        return config
