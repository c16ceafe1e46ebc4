"""Quick-thought's judge: a classifier that picks a sentence's true neighbours among the global batch."""

import keras
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.distribute import gather_global_batch
from keras_ae.losses import info_nce


def _true_neighbours(global_positions, positions, own, candidates, context_window):
    """`[(target [batch], is_true [batch])]`: for each offset within `context_window` on each side, the candidate
    index of every sentence's neighbour at that offset and whether it is a true one (in the global batch, with every
    sentence between it and the sentence there too, in the same chapter)."""
    targets = []
    for direction in (-1, 1):
        chained = tf.ones(tf.shape(own), tf.bool)  # every sentence up to this offset is a true neighbour
        for distance in range(1, context_window + 1):
            step = direction * distance
            target = own + step
            inside = (target >= 0) & (target < candidates)
            safe = tf.clip_by_value(target, 0, candidates - 1)
            chained = chained & inside & tf.equal(tf.gather(global_positions, safe), positions + step)
            targets.append((safe, chained))
    return targets


def neighbour_classification_losses(query, context, positions, context_window=1):
    """Per-sentence loss `[batch]`, the number of true neighbours each sentence has `[batch]`, and how many of them
    it picks right `[batch]` (a pick is right when the true neighbour outscores every candidate that is neither the
    sentence nor one of its true neighbours).

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
    targets = _true_neighbours(global_positions, positions, own, candidates, context_window)
    total = tf.zeros([local], tf.float32)
    count = tf.zeros([local], tf.float32)
    others = scores  # the scores of the candidates that are no true neighbour
    for target, is_true in targets:
        weight = tf.cast(is_true, tf.float32)
        total += weight * info_nce(scores, target)
        count += weight
        others = tf.where(is_true[:, None] & tf.equal(target[:, None], tf.range(candidates)[None, :]), -1e9, others)
    best_other = tf.reduce_max(others, axis=1)
    right = tf.add_n([
        tf.cast(is_true & (tf.gather(scores, target, axis=1, batch_dims=1) > best_other), tf.float32)
        for target, is_true in targets
    ])
    return total / float(context_window), count, right


@keras.saving.register_keras_serializable(package="keras_ae")
class NeighbourClassifier(keras.layers.Layer):
    """Judges a code `(f(s), g(s))` of contiguous sentences by how well `f(s) . g(c)` picks each sentence's true
    previous and next sentence among the global batch (Logeswaran & Lee, 2018, "An efficient framework for learning
    sentence representations"). It has no weights: the two encoders are what it trains.

    Args:
        context_window: how many sentences on each side are true neighbours to pick out (1: the previous and the
            next, the paper's context of size 3; 2 adds the sentences two away).

    It reports `neighbour_accuracy`: the share of the batch's true neighbours that outscore every candidate that is
    no true neighbour (the picks it gets right; with `validation_data`, the same on held-out text).

    Example:
        judge = NeighbourClassifier(context_window=2, name="neighbour")
        positions = tf.constant([0, 1, 2, 3], tf.int64)
        query, context = tf.random.normal([4, 8]), tf.random.normal([4, 8])
        losses, metrics = judge.judge_loss({"positions": positions}, (query, context))   # [4], {"neighbour_accuracy"}
    """

    metric_names = ("neighbour_accuracy",)

    def __init__(self, context_window=1, **kwargs):
        super().__init__(**kwargs)
        self.context_window = integer_at_least("NeighbourClassifier context_window", context_window, 1)

    def build(self, code_shape=None):
        self.built = True

    def judge_loss(self, batch, code, training=False):
        """`(losses [batch], {"neighbour_accuracy": share of picks right})` for a batch `{"sentences", "positions"}`
        and its code `(query, context)`."""
        query, context = code
        losses, count, right = neighbour_classification_losses(
            query, context, tf.cast(batch["positions"], tf.int64), context_window=self.context_window
        )
        accuracy = tf.reduce_sum(right) / tf.maximum(tf.reduce_sum(count), 1.0)
        return losses, {"neighbour_accuracy": accuracy}

    def get_config(self):
        return {**super().get_config(), "context_window": self.context_window}
