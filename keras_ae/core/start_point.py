"""L2-SP: how far weights have moved from their starting point, as a penalty that keeps what the start knew.

Li, Grandvalet & Davoine (2018, "Explicit inductive bias for transfer learning with convolutional networks") fine-tune
with `alpha / 2 * ||w - w0||^2` instead of weight decay towards 0, so training keeps what the pretrained weights `w0`
hold unless the new task pays for the change. A sentence model's word table started at LSA vectors
(`keras_ae.data.word_vectors`) is such a start.

Example:
    start = tf.constant(lsa_vectors)                                        # [vocabulary_size, word_dim]
    penalty = weight * start_point_distance(encoder.word_embedding.embeddings, start)
"""

import tensorflow as tf


def start_point_distance(weights, start, free_scale=False):
    """`||weights - start||^2` (a scalar, float32), L2-SP's distance; with `free_scale`, the distance to the nearest
    multiple of the start, `||weights - c * start||^2` with `c = <weights, start> / ||start||^2`, so scaling the
    whole start up or down (a sharper or flatter softmax over scores of its vectors) costs nothing and only a change
    of direction does. A zero start has no direction: the distance is then `||weights||^2` either way."""
    weights = tf.cast(weights, tf.float32)
    start = tf.cast(start, tf.float32)
    if free_scale:
        scale = tf.math.divide_no_nan(tf.reduce_sum(weights * start), tf.reduce_sum(tf.square(start)))
        start = scale * start
    return tf.reduce_sum(tf.square(weights - start))
