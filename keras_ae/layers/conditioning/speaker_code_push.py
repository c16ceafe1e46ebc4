"""Conversion-time push of a speaker code away from the nearest trained voice, by a factor."""

import math

import keras
import numpy as np
import tensorflow as tf


def checked_push(push):
    """`push` as a Python float, or a clear error unless it is a finite number above 0."""
    try:
        value = float(push)
    except (TypeError, ValueError):
        raise ValueError(f"the speaker-code push must be a number above 0; got {push!r}.") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"the speaker-code push must be a finite number above 0 (1: no push); got {push!r}.")
    return value


@keras.saving.register_keras_serializable(package="keras_ae")
class SpeakerCodePush(keras.layers.Layer):
    """`(codes [batch, dim], push=[]) -> nearest + push * (codes - nearest)`, `nearest` the stored centroid nearest
    each code (Euclidean): a reference's speaker code moved `push` times as far from its nearest trained voice.

    A one-shot decoder renders only part of a new voice's distance from the voice it knows best (it pulls new codes
    back toward its training voices: docs/results/voice_conversion.md, sessions 27-28), so pushing the code past the
    reference's own point along that line, at conversion time only, asks the decoder for more of the new voice. It
    is extrapolation along a latent direction, as attribute vectors are scaled to exaggerate an attribute
    (White, 2016, "Sampling Generative Networks"), with the direction taken from the nearest training voice. `push = 1`
    returns `codes` unchanged, bit for bit (no centroid is read); with another push the centroids must have been set
    (`adapt`), else the call fails. The centroids are non-trainable weights, so they are saved with the model's
    weights and live in an export. `push` must be above 0 and finite (checked in the graph too).

    Args:
        num_centroids: rows of the centroid table (trained voices).
        dim: size of a speaker code.

    Example:
        layer = SpeakerCodePush(num_centroids=2, dim=3)
        layer.adapt(np.array([[0., 0, 0], [0, 0, 2], [4, 0, 0], [4, 0, 2]]), np.array([0, 0, 1, 1]))
        layer(np.array([[1., 0, 1]]), push=2.0)    # [[2, 0, 1]]: twice as far from the centroid (0, 0, 1)
        layer(np.array([[1., 0, 1]]), push=1.0)    # the code itself
    """

    def __init__(self, num_centroids, dim, **kwargs):
        super().__init__(**kwargs)
        if int(num_centroids) < 1 or int(dim) < 1:
            raise ValueError(f"SpeakerCodePush needs num_centroids >= 1 and dim >= 1; got {num_centroids}, {dim}.")
        self.centroids = self.add_weight(shape=(int(num_centroids), int(dim)), initializer="zeros",
                                         trainable=False, name="centroids")
        self.adapted = self.add_weight(shape=(), initializer="zeros", trainable=False, name="adapted")
        # Config
        self.num_centroids = int(num_centroids)
        self.dim = int(dim)

    def build(self, codes_shape, push_shape=None):
        self.built = True

    def adapt(self, codes, speakers):
        """Sets the centroids to the mean of each speaker's `codes` `[n, dim]`; `speakers` `[n]` labels them and
        must name exactly `num_centroids` speakers (the training voices; any ids, in sorted order)."""
        codes, speakers = np.asarray(codes, np.float64), np.asarray(speakers)
        if codes.ndim != 2 or codes.shape[1] != self.dim or len(speakers) != len(codes):
            raise ValueError(f"SpeakerCodePush.adapt needs codes [n, {self.dim}] and n speaker ids; got codes "
                             f"{list(codes.shape)} and {len(speakers)} ids.")
        names = np.unique(speakers)
        if len(names) != self.num_centroids:
            raise ValueError(f"SpeakerCodePush.adapt got codes of {len(names)} speakers for {self.num_centroids} "
                             "centroids; give every training voice and no other.")
        if not np.all(np.isfinite(codes)):
            raise ValueError("SpeakerCodePush.adapt got non-finite speaker codes.")
        self.centroids.assign(np.stack([codes[speakers == name].mean(axis=0) for name in names]).astype("float32"))
        self.adapted.assign(1.0)

    def nearest(self, codes):
        """`[batch, dim]`: the centroid nearest each code."""
        centroids = tf.convert_to_tensor(self.centroids)
        distances = (tf.reduce_sum(tf.square(codes), axis=1, keepdims=True) - 2.0 * tf.matmul(codes, centroids,
                     transpose_b=True) + tf.reduce_sum(tf.square(centroids), axis=1)[None])
        return tf.gather(centroids, tf.argmin(distances, axis=1))

    def call(self, codes, push=1.0):
        codes = tf.convert_to_tensor(codes, tf.float32)
        push = tf.convert_to_tensor(push, tf.float32)
        identity = tf.equal(push, 1.0)
        checks = [
            tf.debugging.Assert(tf.logical_and(tf.math.is_finite(push), push > 0.0),
                                ["the speaker-code push must be a finite number above 0 (1: no push); got", push]),
            tf.debugging.Assert(tf.logical_or(identity, self.adapted > 0.0),
                                ["a speaker-code push other than 1 reads the trained voices' centroids, which were "
                                 "never set (adapt_speaker_centroids)"]),
        ]
        with tf.control_dependencies(checks):
            return tf.cond(identity, lambda: tf.identity(codes), lambda: self._pushed(codes, push))

    def _pushed(self, codes, push):
        nearest = self.nearest(codes)
        return nearest + push * (codes - nearest)

    def compute_output_shape(self, codes_shape, push_shape=None):
        return codes_shape

    def get_config(self):
        config = super().get_config()
        config.update({"num_centroids": self.num_centroids, "dim": self.dim})
        return config
