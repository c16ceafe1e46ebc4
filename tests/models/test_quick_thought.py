"""Tests for QuickThought: the loss against a numpy reference, loss falls, config and export round-trips, and the
2-replica loss (negatives from the global batch) equals the 1-replica loss."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.data.text import make_contiguous_dataset
from keras_ae.export import export_model
from keras_ae.layers.judges.neighbour_classifier import neighbour_classification_losses as quick_thought_losses
from keras_ae.models.quick_thought import QuickThought
from tests.helpers import reload_and_call
from tests.helpers import assert_two_replicas_step_like_one
from tests.sentence_helpers import CHAIN_WORDS, VOCABULARY, chain_split, cycle_split


def _model(**kwargs):
    return QuickThought(VOCABULARY, embedding_dim=16, word_dim=8, max_length=8, **kwargs)


def _reference_losses(query, context, positions, window=1):
    scores = query @ context.T
    np.fill_diagonal(scores, -np.inf)
    log_softmax = scores - np.log(np.exp(scores - scores.max(1, keepdims=True)).sum(1, keepdims=True)) - scores.max(
        1, keepdims=True
    )
    losses = np.zeros(len(query))
    for i in range(len(query)):
        for direction in (-1, 1):
            for distance in range(1, window + 1):
                j = i + direction * distance
                if not (0 <= j < len(query) and positions[j] == positions[i] + (j - i)):
                    break  # a chapter break or another stretch: nothing further on this side is a neighbour
                losses[i] -= log_softmax[i, j]
    return losses / window


def test_loss_matches_reference_and_respects_segment_breaks():
    rng = np.random.default_rng(0)
    query, context = rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 4)).astype("float32")
    positions = np.array([0, 1, 2, 4, 5, 6])  # a chapter break between rows 2 and 3
    loss, count = quick_thought_losses(tf.constant(query), tf.constant(context), tf.constant(positions))
    np.testing.assert_allclose(loss, _reference_losses(query, context, positions), rtol=1e-5)
    assert count.numpy().tolist() == [1, 2, 1, 1, 2, 1]


def test_wider_context_picks_every_neighbour_within_the_window_of_the_same_stretch():
    rng = np.random.default_rng(1)
    query, context = rng.normal(size=(9, 4)).astype("float32"), rng.normal(size=(9, 4)).astype("float32")
    # A chapter break between rows 2 and 3; rows 7-8 are another stretch, whose row 8 sits exactly 2 after row 6 in
    # positions but is not 2 sentences after it in the batch (row 7 in between is not row 6's neighbour).
    positions = np.array([0, 1, 2, 4, 5, 6, 7, 50, 9])
    loss, count = quick_thought_losses(tf.constant(query), tf.constant(context), tf.constant(positions),
                                       context_window=2)
    assert count.numpy().tolist() == [2, 2, 2, 2, 3, 3, 2, 0, 0]
    np.testing.assert_allclose(loss, _reference_losses(query, context, positions, window=2), rtol=1e-5)
    # The window-1 loss is the default judge's, unchanged.
    one, _ = quick_thought_losses(tf.constant(query), tf.constant(context), tf.constant(positions), context_window=1)
    np.testing.assert_allclose(one, _reference_losses(query, context, positions), rtol=1e-5)
    model = _model(context_window=2)
    assert model.judges[0].context_window == 2
    assert QuickThought.from_config(model.get_config()).judges[0].context_window == 2
    with pytest.raises(ValueError, match="context_window"):
        _model(context_window=0)


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = QuickThought(CHAIN_WORDS, embedding_dim=16, word_dim=8, max_length=4)
    model.compile(optimizer=keras.optimizers.Adam(2e-2))
    dataset = make_contiguous_dataset(chain_split(), batch_size=11, shuffle=True, seed=0)
    history = model.fit(dataset, epochs=12, verbose=0).history["loss"]
    return model, history


def test_loss_falls(trained):
    _, history = trained
    assert history[-1] < 0.7 * history[0]


def test_embedding_is_f_and_g(trained):
    model, _ = trained
    sentences = tf.constant(["w1 w2.", "w2 w3"])
    z = model.encode(sentences)
    assert z.shape == (2, 16)
    np.testing.assert_allclose(z[:, :8], model.encode_query(sentences), atol=1e-6)
    np.testing.assert_allclose(z[:, 8:], model.encode_context(sentences), atol=1e-6)
    np.testing.assert_allclose(model.score(sentences, sentences), z[:, :8] @ tf.transpose(z[:, 8:]), atol=1e-5)


def test_config_round_trip(trained):
    model, _ = trained
    clone = QuickThought.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    sentences = tf.constant(["w1 w2", "nothing known", ""])
    np.testing.assert_allclose(clone.encode(sentences), model.encode(sentences), atol=1e-6)
    assert clone.get_config()["vocabulary"] == CHAIN_WORDS
    with pytest.raises(ValueError, match="even"):
        QuickThought(VOCABULARY, embedding_dim=15)


def test_export_reloads_with_plain_tensorflow(trained, tmp_path):
    model, _ = trained
    destination = export_model(model, tmp_path / "quick_thought")
    sentences = np.array(["w1 w2.", "w7 w8", "zebra"])
    (outputs,), signatures = reload_and_call(destination, "encode", [sentences])
    assert {"encode", "score"} <= set(signatures)
    np.testing.assert_allclose(outputs, model.encode(tf.constant(sentences)), atol=1e-5)


def test_two_replicas_give_the_one_replica_loss():
    """Negatives come from the global batch: each replica gathers the other's candidates, and positives that sit
    across the replica boundary (row 3 -> row 4 of a batch of 8) are found through the replica offset."""
    split = cycle_split(repeats=2)
    batch = next(iter(make_contiguous_dataset(split, batch_size=8)))
    keras.utils.set_random_seed(2)
    single, _, expected = assert_two_replicas_step_like_one(_model, batch, rtol=1e-5, atol=1e-5)
    # A local-only softmax (no gathering) would give a different loss: the check above has teeth.
    query = single.query_encoder(batch["sentences"])
    context = single.context_encoder(batch["sentences"])
    halves = [quick_thought_losses(query[s], context[s], batch["positions"][s])[0] for s in (slice(0, 4), slice(4, 8))]
    assert not np.isclose(float(tf.reduce_mean(tf.concat(halves, 0))), float(expected), rtol=1e-3)


def test_batches_of_token_ids_give_the_raw_batches_loss(trained):
    model, _ = trained
    batch = next(iter(make_contiguous_dataset(chain_split(), batch_size=11)))
    model.reset_metrics()  # test_step reports running means
    raw = float(model.test_step(batch)["loss"])
    prepared = model.prepare_batch(batch)
    assert prepared["sentences"].dtype == tf.int64
    model.reset_metrics()
    np.testing.assert_allclose(model.test_step(prepared)["loss"], raw, rtol=1e-6)


def test_wider_encoders_keep_the_embedding_size():
    model = _model(hidden_dim=12)
    sentences = tf.constant(["w1 w2.", "w2 w3", ""])
    assert model.encode(sentences).shape == (3, 16)
    for encoder in (model.query_encoder, model.context_encoder):
        assert encoder.gru.units == 12 and encoder.projection.kernel.shape == (12, 8)
    clone = QuickThought.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.encode(sentences), model.encode(sentences), atol=1e-6)
