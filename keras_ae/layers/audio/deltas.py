"""Regression deltas of frame features (HTK's), for features computed inside a graph or a loss."""

import tensorflow as tf


def with_deltas(features):
    """`[batch, frames, dim]` features with their regression deltas and delta-deltas appended (HTK's, +-2
    frames): `[batch, frames, 3 dim]`.

    Example:
        assert with_deltas(tf.zeros([1, 10, 13])).shape == (1, 10, 39)
    """
    features = tf.convert_to_tensor(features, tf.float32)
    delta = _delta(features)
    return tf.concat([features, delta, _delta(delta)], axis=-1)


def _delta(features, width=2):
    """Regression deltas over +-`width` frames (edges repeated), as in HTK."""
    padded = tf.concat([tf.repeat(features[:, :1], width, axis=1), features,
                        tf.repeat(features[:, -1:], width, axis=1)], axis=1)
    length = tf.shape(features)[1]
    numerator = tf.add_n([n * (padded[:, width + n : width + n + length] - padded[:, width - n : width - n + length])
                          for n in range(1, width + 1)])
    return numerator / (2.0 * sum(n * n for n in range(1, width + 1)))
