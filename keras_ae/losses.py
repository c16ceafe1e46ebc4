"""Per-example objectives shared by the models.

Every function returns one loss per example (shape `[batch]`); models turn it into a replica's share of the
global mean with `keras_ae.distribute.per_replica_mean`, so the same code is right on one device and on many.

Example:
    scores = tf.matmul(queries, keys, transpose_b=True)      # [batch, global_batch]
    loss = info_nce(scores, positive_index=tf.range(batch))
"""

import tensorflow as tf


def info_nce(scores, positive_index):
    """InfoNCE (van den Oord et al., 2018, "Representation Learning with Contrastive Predictive Coding").

    `scores[i, j]` rates candidate `j` for example `i`; `positive_index[i]` is the true candidate. Extra leading
    axes after the first (e.g. locations) are allowed on `scores` as `[batch, ..., candidates]`.
    """
    scores = tf.convert_to_tensor(scores)
    labels = tf.broadcast_to(
        tf.reshape(tf.cast(positive_index, tf.int32), [-1] + [1] * (scores.shape.rank - 2)), tf.shape(scores)[:-1]
    )
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=scores)
    return _mean_over_inner_axes(loss)


def pair_binary_crossentropy(scores, positive_index):
    """The pair discriminator's loss L_D: binary cross-entropy, matched pairs labelled 1, mismatched 0.

    Positives and negatives get equal weight (the mean over the negatives of a row counts as much as its
    positive), as in Deep InfoMax's Jensen-Shannon estimator (Hjelm et al., 2019).
    """
    scores = tf.convert_to_tensor(scores)
    num_candidates = tf.shape(scores)[-1]
    is_positive = tf.one_hot(tf.cast(positive_index, tf.int32), num_candidates, dtype=scores.dtype)
    is_positive = tf.reshape(is_positive, [-1] + [1] * (scores.shape.rank - 2) + [num_candidates])
    is_positive = tf.broadcast_to(is_positive, tf.shape(scores))
    bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=is_positive, logits=scores)
    positive_term = tf.reduce_sum(bce * is_positive, axis=-1)
    negative_term = tf.reduce_sum(bce * (1.0 - is_positive), axis=-1) / tf.cast(num_candidates - 1, scores.dtype)
    return _mean_over_inner_axes(positive_term + negative_term)


PAIR_OBJECTIVES = {"bce": pair_binary_crossentropy, "infonce": info_nce}


def pair_objective(name):
    """Looks up a pair objective by name (`"bce"` or `"infonce"`)."""
    if name not in PAIR_OBJECTIVES:
        raise ValueError(f"Unknown pair objective {name!r}: choose one of {', '.join(PAIR_OBJECTIVES)}.")
    return PAIR_OBJECTIVES[name]


RECONSTRUCTION_LOSSES = ("mse", "mae", "bce")


def check_reconstruction_loss(kind):
    """Raises a clear error for an unknown reconstruction loss name."""
    if kind not in RECONSTRUCTION_LOSSES:
        raise ValueError(f"Unknown reconstruction loss {kind!r}: choose one of {', '.join(RECONSTRUCTION_LOSSES)}.")
    return kind


def reconstruction_error(targets, reconstructions, kind="mse"):
    """Per-example reconstruction error, summed over features and averaged over them (`"mse"`, `"mae"`) or a
    Bernoulli negative log-likelihood per feature (`"bce"`, for data in [0, 1]; `reconstructions` are probabilities).
    """
    targets = tf.cast(targets, reconstructions.dtype)
    axes = list(range(1, reconstructions.shape.rank))
    if kind == "mse":
        return tf.reduce_mean(tf.square(targets - reconstructions), axis=axes)
    if kind == "mae":
        return tf.reduce_mean(tf.abs(targets - reconstructions), axis=axes)
    if kind == "bce":
        eps = 1e-6
        clipped = tf.clip_by_value(reconstructions, eps, 1.0 - eps)
        nll = -(targets * tf.math.log(clipped) + (1.0 - targets) * tf.math.log(1.0 - clipped))
        return tf.reduce_mean(nll, axis=axes)
    check_reconstruction_loss(kind)


def _mean_over_inner_axes(loss):
    if loss.shape.rank > 1:
        return tf.reduce_mean(loss, axis=list(range(1, loss.shape.rank)))
    return loss


def _scored_mask(target_ids):
    """`[batch, length]` float mask of the scored positions of int32 targets: the words and the end symbol after
    them (the rest of the padding is out; a sentence that fills all positions has no end symbol)."""
    length = tf.shape(target_ids)[1]
    words = tf.reduce_sum(tf.cast(tf.not_equal(target_ids, 0), tf.int32), axis=1)
    return tf.sequence_mask(tf.minimum(words + 1, length), length, dtype=tf.float32)


def _mean_over_scored(token_loss, mask):
    return tf.reduce_sum(token_loss * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)


def masked_token_crossentropy(target_ids, logits):
    """Per-sentence mean cross-entropy `[batch]` of the target tokens and the end symbol (id 0) after them.

    Positions after the end symbol (the rest of the padding) are masked out; a sentence that fills all positions
    has no end symbol.
    """
    target_ids = tf.cast(target_ids, tf.int32)
    token_loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target_ids, logits=tf.cast(logits, tf.float32))
    return _mean_over_scored(token_loss, _scored_mask(target_ids))


def softmax_crossentropy(labels, logits, tiny=1e-30):
    """`tf.nn.sparse_softmax_cross_entropy_with_logits(labels [n], logits [n, classes])`, faster on CPU: the loss is
    `-log softmax(logits)[label]` from one softmax (whose kernel costs a sixth of the fused op's on this machine:
    fused op and the products around it 76 ms, softmax 40 ms, the products alone 34 ms for [1,460 x 6,406] logits,
    forward and backward), with the exact `logsumexp - logit` for the whole batch when any label's probability
    is below `tiny` (where the log of the rounded probability loses precision); its gradient is the fused op's,
    `softmax - one_hot(label)`, per unit of the upstream gradient. The same loss and gradients to float rounding."""
    index = tf.stack([tf.range(tf.shape(labels)[0], dtype=labels.dtype), labels], axis=1)

    @tf.custom_gradient
    def crossentropy(logits):
        probabilities = tf.nn.softmax(logits)
        picked = tf.gather_nd(probabilities, index)
        loss = tf.cond(
            tf.reduce_all(picked > tiny),
            lambda: -tf.math.log(picked),
            lambda: tf.reduce_logsumexp(logits, axis=1) - tf.gather_nd(logits, index),
        )

        def gradient(upstream):
            return tf.tensor_scatter_nd_sub(probabilities * upstream[:, None], index, upstream)

        return loss, gradient

    return crossentropy(logits)


def scored_token_crossentropy(target_ids, features, to_logits):
    """`masked_token_crossentropy(target_ids, to_logits(features))` with the output layer and the softmax run at the
    scored positions only: `features [batch, length, dim]` of those positions are gathered into `[tokens, dim]`
    before `to_logits` (e.g. a decoder's vocabulary `Dense`), so the padding after the end symbol costs no
    vocabulary-sized product, and the cross-entropy is `softmax_crossentropy`'s. The same loss (to float rounding) and
    gradients, less work.
    """
    target_ids = tf.cast(target_ids, tf.int32)
    mask = _scored_mask(target_ids)
    positions = tf.where(mask > 0)  # [tokens, 2]: (sentence, position)
    logits = to_logits(tf.gather_nd(features, positions))
    token_loss = softmax_crossentropy(tf.gather_nd(target_ids, positions), tf.cast(logits, tf.float32))
    token_loss = tf.scatter_nd(positions, token_loss, tf.shape(target_ids, out_type=tf.int64))
    return _mean_over_scored(token_loss, mask)
