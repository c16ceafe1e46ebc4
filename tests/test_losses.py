import numpy as np
import pytest
import tensorflow as tf

from keras_ae.losses import (
    info_nce,
    pair_binary_crossentropy,
    pair_objective,
    reconstruction_error,
    softmax_crossentropy,
)


def test_info_nce_matches_softmax_cross_entropy_by_hand():
    scores = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], "float32")
    positives = np.array([0, 2])
    expected = [-np.log(np.exp(s[p]) / np.exp(s).sum()) for s, p in zip(scores, positives)]
    np.testing.assert_allclose(info_nce(scores, positives).numpy(), expected, rtol=1e-5)


def test_info_nce_averages_over_locations():
    scores = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    positives = np.array([1, 3])
    per_location = [info_nce(scores[:, i, :], positives).numpy() for i in range(5)]
    np.testing.assert_allclose(info_nce(scores, positives).numpy(), np.mean(per_location, axis=0), rtol=1e-5)


def test_pair_bce_weights_positive_and_mean_negative_equally():
    scores = np.array([[3.0, -1.0, -2.0]], "float32")
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    expected = softplus(-3.0) + (softplus(-1.0) + softplus(-2.0)) / 2
    np.testing.assert_allclose(pair_binary_crossentropy(scores, [0]).numpy(), [expected], rtol=1e-5)


def test_pair_bce_is_lower_when_matched_pairs_score_higher():
    good = pair_binary_crossentropy(tf.constant([[5.0, -5.0], [-5.0, 5.0]]), [0, 1])
    bad = pair_binary_crossentropy(tf.constant([[-5.0, 5.0], [5.0, -5.0]]), [0, 1])
    assert float(tf.reduce_max(good)) < 0.1 < float(tf.reduce_min(bad))


def test_reconstruction_error_kinds():
    targets = tf.constant([[[0.0, 1.0]]])
    outputs = tf.constant([[[0.5, 0.5]]])
    np.testing.assert_allclose(reconstruction_error(targets, outputs, "mse").numpy(), [0.25])
    np.testing.assert_allclose(reconstruction_error(targets, outputs, "mae").numpy(), [0.5])
    np.testing.assert_allclose(reconstruction_error(targets, outputs, "bce").numpy(), [np.log(2)], rtol=1e-4)


def test_unknown_names_are_rejected_with_the_choices():
    with pytest.raises(ValueError, match="bce, infonce"):
        pair_objective("hinge")
    with pytest.raises(ValueError, match="mse, mae, bce"):
        reconstruction_error(tf.zeros([1, 2]), tf.zeros([1, 2]), "huber")


@pytest.mark.parametrize("spread", [3.0, 200.0])  # 200: some labels' probabilities underflow, the exact fallback
def test_softmax_crossentropy_matches_the_fused_op_and_its_gradient(spread):
    labels = tf.constant([0, 4, 2, 2, 6])
    logits = tf.constant(spread * np.random.default_rng(0).normal(size=[5, 7]), tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        upstream = tf.constant([1.0, -2.0, 0.5, 3.0, 1.5])
        fast = softmax_crossentropy(labels, logits)
        fused = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        fast_total, fused_total = tf.reduce_sum(fast * upstream), tf.reduce_sum(fused * upstream)
    assert np.isfinite(fast.numpy()).all()
    np.testing.assert_allclose(fast, fused, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(tape.gradient(fast_total, logits), tape.gradient(fused_total, logits), atol=1e-6)
