"""Tests for SkipThought: loss falls, padding is masked, word dropout, config and export round-trips, 1 vs 2
replicas."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.data.text import make_triple_dataset
from keras_ae.export import export_model
from keras_ae.layers.decoders.conditional_gru_decoder import ConditionalGRUDecoder
from keras_ae.layers.judges.neighbour_decoder import NeighbourDecoder
from keras_ae.losses import masked_token_crossentropy
from keras_ae.models.skip_thought import SkipThought
from tests.helpers import reload_and_call
from tests.helpers import assert_two_replicas_step_like_one
from tests.sentence_helpers import VOCABULARY, cycle_split


def _model(**kwargs):
    return SkipThought(VOCABULARY, embedding_dim=16, word_dim=8, max_length=8, **kwargs)


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = _model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    dataset = make_triple_dataset(cycle_split(), batch_size=16, shuffle=True, seed=0)
    before = model.evaluate(dataset, verbose=0, return_dict=True)["loss"]
    model.fit(dataset, epochs=20, verbose=0)
    after = model.evaluate(dataset, verbose=0, return_dict=True)["loss"]
    return model, (before, after)


def test_loss_falls(trained):
    _, (before, after) = trained  # evaluation losses: training losses are noisy under the default word dropout
    assert after < 0.5 * before


def test_padding_is_masked_out_of_the_loss():
    targets = tf.constant([[3, 4, 0, 0, 0]])
    logits = tf.random.normal([1, 5, 6], seed=0)
    changed = tf.concat([logits[:, :3], logits[:, 3:] + 100.0 * tf.random.normal([1, 2, 6], seed=1)], axis=1)
    np.testing.assert_allclose(masked_token_crossentropy(targets, logits), masked_token_crossentropy(targets, changed))
    # The end symbol (the first padding position) is part of the loss.
    changed_end = logits + 5.0 * tf.one_hot([[0, 0, 1, 0, 0]], 6) * tf.one_hot(0, 6)  # raise P(end) at position 2
    assert not np.allclose(masked_token_crossentropy(targets, logits), masked_token_crossentropy(targets, changed_end))
    expected = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets[:, :3], logits=logits[:, :3]), axis=1
    )
    np.testing.assert_allclose(masked_token_crossentropy(targets, logits), expected, rtol=1e-6)


def test_vocabulary_layer_at_scored_positions_only_gives_the_padded_loss_and_gradients():
    # The judge gathers the words and end symbols before the decoder's vocabulary layer; the loss and every gradient
    # must equal those of the logits at all positions, masked afterwards (ragged lengths, a full and an empty row).
    keras.utils.set_random_seed(0)
    decoder = ConditionalGRUDecoder(vocabulary_size=11, hidden_dim=8, word_dim=4, output_dim=5, unroll=True)
    judge = NeighbourDecoder(decoder)
    targets = tf.constant([[3, 4, 0, 0, 0, 0], [5, 6, 7, 8, 9, 10], [0, 0, 0, 0, 0, 0], [2, 2, 2, 0, 0, 0]])
    batch = {"inputs": decoder.teacher_forcing_inputs(targets), "targets": targets}
    code = tf.random.normal([4, 8], seed=2)
    decoder(batch["inputs"], code)  # build
    with tf.GradientTape(persistent=True) as tape:
        scored = judge.judge_loss(batch, code)
        padded = masked_token_crossentropy(targets, decoder(batch["inputs"], code))
    np.testing.assert_allclose(scored, padded, rtol=1e-5, atol=1e-6)
    for gradient, expected in zip(tape.gradient(scored, decoder.trainable_weights),
                                  tape.gradient(padded, decoder.trainable_weights)):
        np.testing.assert_allclose(tf.convert_to_tensor(gradient), tf.convert_to_tensor(expected), rtol=1e-5,
                                   atol=1e-6)


def test_word_dropout_hides_decoder_input_words_but_not_padding():
    model = _model(decoder_word_dropout=0.5, seed=3)
    ids = tf.constant([[5, 6, 7, 8, 9, 0, 0, 0]] * 200, tf.int64)
    dropped = model._drop_words(ids).numpy()
    words = ids.numpy() != 0
    assert np.all(dropped[~words] == 0)
    assert np.all((dropped[words] == ids.numpy()[words]) | (dropped[words] == 1))
    assert 0.45 < np.mean(dropped[words] == 1) < 0.55


def test_word_dropout_acts_in_training_only():
    batch = next(iter(make_triple_dataset(cycle_split(), batch_size=8)))
    model = _model(decoder_word_dropout=0.5, seed=0)
    evaluation = [np.asarray(loss) for loss in model.judge_losses(batch, training=False)[0]]
    np.testing.assert_allclose(model.judge_losses(batch, training=False)[0], evaluation)
    training = model.judge_losses(batch, training=True)[0]
    assert not np.allclose(training, evaluation)
    assert _model(decoder_word_dropout=0.0).decoder_word_dropout == 0.0
    with pytest.raises(ValueError, match="decoder_word_dropout"):
        _model(decoder_word_dropout=1.0)


def test_config_round_trip(trained):
    model, _ = trained
    clone = SkipThought.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    sentences = tf.constant(["The cat eats in the field.", "an unknown sentence", ""])
    np.testing.assert_allclose(clone.encode(sentences), model.encode(sentences), atol=1e-6)
    assert clone.get_config()["vocabulary"] == VOCABULARY and clone.embedding_dim == 16
    assert clone.decoder_word_dropout == model.decoder_word_dropout


def test_export_reloads_with_plain_tensorflow(trained, tmp_path):
    model, _ = trained
    destination = export_model(model, tmp_path / "skip_thought", metrics={"loss": 1.0})
    sentences = np.array(["The cat eats in the field.", "The dog sleeps in the wood.", "zebra"])
    (outputs,), signatures = reload_and_call(destination, "encode", [sentences])
    assert "encode" in signatures
    assert outputs.dtype == np.float32 and outputs.shape == (3, 16)
    np.testing.assert_allclose(outputs, model.encode(tf.constant(sentences)), atol=1e-5)


def test_two_replicas_give_the_one_replica_loss():
    split = cycle_split(repeats=2)
    batch = next(iter(make_triple_dataset(split, batch_size=8)))
    keras.utils.set_random_seed(1)
    assert_two_replicas_step_like_one(lambda: _model(decoder_word_dropout=0.0), batch, rtol=1e-5, atol=1e-5)


@pytest.mark.slow  # default-suite budget: the 1-vs-2-replica equality test above stays
def test_two_replicas_train_with_word_dropout():
    from tests.helpers import two_replica_strategy

    batch = next(iter(make_triple_dataset(cycle_split(repeats=2), batch_size=8)))
    strategy = two_replica_strategy()
    with strategy.scope():
        model = _model(seed=0)  # the default word dropout, drawn per replica
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = np.asarray(strategy.experimental_local_results(model.seed_generator.state.value)[0])
    losses = model.fit(tf.data.Dataset.from_tensors(batch).repeat(3), epochs=1, verbose=0).history["loss"]
    assert np.isfinite(losses).all()
    states = strategy.experimental_local_results(model.seed_generator.state.value)
    np.testing.assert_array_equal(states[0], states[1])  # one generator state on every replica
    assert not np.array_equal(np.asarray(states[0]), before)  # and it moved: dropout was drawn


def test_batches_of_token_ids_give_the_raw_batches_loss(trained):
    model, _ = trained
    batch = next(iter(make_triple_dataset(cycle_split(), batch_size=16)))
    prepared = model.prepare_batch(batch)
    assert prepared["next"].shape[1] == model.decoder_length
    model.reset_metrics()  # test_step reports running means
    raw = float(model.test_step(batch)["loss"])
    model.reset_metrics()
    np.testing.assert_allclose(model.test_step(prepared)["loss"], raw, rtol=1e-6)
