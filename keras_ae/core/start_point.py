"""L2-SP: how far weights have moved from their starting point, as a penalty that keeps what the start knew.

Li, Grandvalet & Davoine (2018, "Explicit inductive bias for transfer learning with convolutional networks") fine-tune
with `alpha / 2 * ||w - w0||^2` instead of weight decay towards 0, so training keeps what the pretrained weights `w0`
hold unless the new task pays for the change. A sentence model's word table started at LSA vectors
(`keras_ae.data.word_vectors`) is such a start.

A word table's rows may also keep their start's *lengths* while their directions train: `row_length_spread` is
how far the rows' lengths have left the start's profile, up to one scale for the whole table; or some rows may keep
their start's *directions* while their lengths train: `row_turn`.

Example:
    start = tf.constant(lsa_vectors)                                        # [vocabulary_size, word_dim]
    penalty = weight * start_point_distance(encoder.word_embedding.embeddings, start)
    lengths = weight * row_length_spread(encoder.word_embedding.embeddings, start)
    turns = weight * row_turn(encoder.word_embedding.embeddings, start, rows)   # rows: a 0/1 mask of the rows held
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


def row_length_spread(weights, start):
    """The variance over rows of `log(||weights[t]|| / ||start[t]||)` (a scalar, float32), counting the rows whose
    start is not zero: 0 when every row's length is its start's times one common factor (the whole table may grow or
    shrink, and every row may turn), more the further the rows' lengths, relative to each other, have left the
    start's. A bag of word rows weighs each word by its row's length, so this is how far training has rewritten the
    start's weighting of the words (e.g. LSA's idf)."""
    weights = tf.cast(weights, tf.float32)
    start = tf.cast(start, tf.float32)
    start_lengths = tf.norm(start, axis=-1)
    kept = start_lengths > 0
    ratios = tf.math.log(tf.boolean_mask(tf.norm(weights, axis=-1), kept) + 1e-12) - tf.math.log(
        tf.boolean_mask(start_lengths, kept))
    return tf.math.reduce_variance(ratios) if ratios.shape[0] != 0 else tf.constant(0.0)


def row_turn(weights, start, rows):
    """The mean over the rows chosen by the 0/1 mask `rows` `[rows]` of `1 - cos(weights[t], start[t])` (a scalar,
    float32): 0 when each chosen row points where its start did, whatever its length; 2 at the most. Rows whose start
    or weights are zero count 1 (no direction to keep); no row chosen: 0."""
    weights = tf.cast(weights, tf.float32)
    start = tf.cast(start, tf.float32)
    rows = tf.cast(rows, tf.float32)
    cosine = tf.reduce_sum(tf.math.l2_normalize(weights, axis=-1) * tf.math.l2_normalize(start, axis=-1), axis=-1)
    return tf.math.divide_no_nan(tf.reduce_sum(rows * (1.0 - cosine)), tf.reduce_sum(rows))
