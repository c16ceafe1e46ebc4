"""Quick-thought's judge: a classifier that picks a sentence's true neighbours among the global batch."""

import keras
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.distribute import gather_global_batch
from keras_ae.losses import info_nce


def neighbour_classification_losses(query, context, positions, context_window=1):
    """Per-sentence loss `[batch]` and the number of true neighbours each sentence has `[batch]`.

    `query` (f(s)) and `context` (g(c)) are this replica's `[batch, dim]` encodings of a stretch of contiguous
    sentences, `positions` their running positions (`SentenceSplit.positions`: neighbours differ by exactly 1).
    Candidates are the sentences of the global batch, gathered across replicas, except the sentence itself; the
    score of a candidate is `f(s) . g(c)`; softmax cross-entropy picks each true neighbour within `context_window`
    sentences before and after (1: the previous and the next sentence), each when it is in the global batch and
    every sentence between it and `s` is too, in the same chapter. The other true neighbours stay among the
    candidates of each pick, as in the paper's multi-target softmax. The sum over neighbours is divided by
    `context_window`, so a wider window keeps the loss's scale per offset.
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
    for direction in (-1, 1):
        chained = tf.ones([local], tf.bool)  # every sentence up to this offset is a true neighbour
        for distance in range(1, context_window + 1):
            step = direction * distance
            target = own + step
            inside = (target >= 0) & (target < candidates)
            safe = tf.clip_by_value(target, 0, candidates - 1)
            chained = chained & inside & tf.equal(tf.gather(global_positions, safe), positions + step)
            weight = tf.cast(chained, tf.float32)
            total += weight * info_nce(scores, safe)
            count += weight
    return total / float(context_window), count


@keras.saving.register_keras_serializable(package="keras_ae")
class NeighbourClassifier(keras.layers.Layer):
    """Judges a code `(f(s), g(s))` of contiguous sentences by how well `f(s) . g(c)` picks each sentence's true
    previous and next sentence among the global batch (Logeswaran & Lee, 2018, "An efficient framework for learning
    sentence representations"). It has no weights: the two encoders are what it trains.

    Args:
        context_window: how many sentences on each side are true neighbours to pick out (1: the previous and the
            next, the paper's context of size 3; 2 adds the sentences two away).

    Example:
        judge = NeighbourClassifier(context_window=2, name="neighbour")
        positions = tf.constant([0, 1, 2, 3], tf.int64)
        query, context = tf.random.normal([4, 8]), tf.random.normal([4, 8])
        losses = judge.judge_loss({"positions": positions}, (query, context))   # [4]
    """

    def __init__(self, context_window=1, **kwargs):
        super().__init__(**kwargs)
        self.context_window = integer_at_least("NeighbourClassifier context_window", context_window, 1)

    def build(self, code_shape=None):
        self.built = True

    def judge_loss(self, batch, code, training=False):
        """Per-sentence loss `[batch]` for a batch `{"sentences", "positions"}` and its code `(query, context)`."""
        query, context = code
        return neighbour_classification_losses(
            query, context, tf.cast(batch["positions"], tf.int64), context_window=self.context_window
        )[0]

    def get_config(self):
        return {**super().get_config(), "context_window": self.context_window}
