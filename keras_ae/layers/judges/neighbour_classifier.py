"""Quick-thought's judge: a classifier that picks a sentence's true neighbours among the global batch."""

import keras
import tensorflow as tf

from keras_ae.distribute import gather_global_batch
from keras_ae.losses import info_nce


def neighbour_classification_losses(query, context, positions):
    """Per-sentence loss `[batch]` and the number of true neighbours each sentence has `[batch]`.

    `query` (f(s)) and `context` (g(c)) are this replica's `[batch, dim]` encodings of a stretch of contiguous
    sentences, `positions` their running positions (`SentenceSplit.positions`: neighbours differ by exactly 1).
    Candidates are the sentences of the global batch, gathered across replicas, except the sentence itself; the
    score of a candidate is `f(s) . g(c)`; softmax cross-entropy picks the true previous and the true next sentence
    (each when it is in the global batch and in the same chapter).
    """
    global_context, offset = gather_global_batch(context)
    global_positions, _ = gather_global_batch(positions)
    scores = tf.matmul(tf.cast(query, tf.float32), tf.cast(global_context, tf.float32), transpose_b=True)
    local = tf.shape(query)[0]
    candidates = tf.shape(global_context)[0]
    own = tf.range(local) + offset
    scores = tf.where(tf.equal(own[:, None], tf.range(candidates)[None, :]), -1e9, scores)
    total = tf.zeros([local], tf.float32)
    count = tf.zeros([local], tf.float32)
    for step in (-1, 1):
        target = own + step
        inside = (target >= 0) & (target < candidates)
        safe = tf.clip_by_value(target, 0, candidates - 1)
        is_neighbour = inside & tf.equal(tf.gather(global_positions, safe), positions + step)
        weight = tf.cast(is_neighbour, tf.float32)
        total += weight * info_nce(scores, safe)
        count += weight
    return total, count


@keras.saving.register_keras_serializable(package="keras_ae")
class NeighbourClassifier(keras.layers.Layer):
    """Judges a code `(f(s), g(s))` of contiguous sentences by how well `f(s) . g(c)` picks each sentence's true
    previous and next sentence among the global batch (Logeswaran & Lee, 2018, "An efficient framework for learning
    sentence representations"). It has no weights: the two encoders are what it trains.

    Example:
        judge = NeighbourClassifier(name="neighbour")
        losses = judge.judge_loss({"positions": positions}, (query, context))   # [batch]
    """

    def build(self, code_shape=None):
        self.built = True

    def judge_loss(self, batch, code, training=False):
        """Per-sentence loss `[batch]` for a batch `{"sentences", "positions"}` and its code `(query, context)`."""
        query, context = code
        return neighbour_classification_losses(query, context, tf.cast(batch["positions"], tf.int64))[0]
