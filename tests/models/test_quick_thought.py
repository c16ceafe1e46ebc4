"""Tests for QuickThought: the loss against a numpy reference, loss falls, config and export round-trips, and the
2-replica loss (negatives from the global batch) equals the 1-replica loss."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.core.start_point import row_length_spread, row_turn, start_point_distance
from keras_ae.data.text import make_contiguous_dataset
from keras_ae.export import export_model
from keras_ae.layers.encoders.gru_sentence_encoder import count_token_frequencies
from keras_ae.layers.judges.document_classifier import document_classification_losses
from keras_ae.layers.judges.neighbour_classifier import neighbour_classification_losses as quick_thought_losses
from keras_ae.models.quick_thought import QuickThought
from tests.helpers import reload_and_call
from tests.helpers import assert_two_replicas_step_like_one
from tests.sentence_helpers import CHAIN_WORDS, VOCABULARY, chain_split, cycle_split


def _model(**kwargs):
    return QuickThought(VOCABULARY, **{"embedding_dim": 16, "word_dim": 8, "max_length": 8, **kwargs})


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


def _reference_right(query, context, positions, window=1):
    """Per sentence: how many of its true neighbours outscore every candidate that is neither it nor a true
    neighbour."""
    scores = query @ context.T
    right = np.zeros(len(query))
    for i in range(len(query)):
        neighbours = []
        for direction in (-1, 1):
            for distance in range(1, window + 1):
                j = i + direction * distance
                if not (0 <= j < len(query) and positions[j] == positions[i] + (j - i)):
                    break
                neighbours.append(j)
        others = [scores[i, k] for k in range(len(query)) if k != i and k not in neighbours]
        right[i] = sum(scores[i, j] > max(others) for j in neighbours)
    return right


def test_accuracy_counts_the_true_neighbours_that_outscore_every_other_candidate():
    """The picks right: a sentence whose neighbours score highest gets all of them right, and a neighbour beaten by
    one non-neighbour is wrong; `judge_loss` reports their share as `neighbour_accuracy`."""
    rng = np.random.default_rng(2)
    query, context = rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 4)).astype("float32")
    positions = np.array([0, 1, 2, 3, 5, 6, 7, 8])  # a chapter break between rows 3 and 4
    _, count, right = quick_thought_losses(tf.constant(query), tf.constant(context), tf.constant(positions))
    np.testing.assert_array_equal(right, _reference_right(query, context, positions))
    # Contexts on a line: each sentence's nearest rows score highest, so with an aligned query every pick is right.
    line = np.stack([np.cos(np.arange(8) * 0.3), np.sin(np.arange(8) * 0.3)], 1).astype("float32")
    _, count, right = quick_thought_losses(tf.constant(line * 10), tf.constant(line), tf.constant(np.arange(8)))
    np.testing.assert_array_equal(right, count)
    losses, metrics = _model().judges[0].judge_loss(
        {"positions": tf.constant(positions, tf.int64)}, (tf.constant(query), tf.constant(context))
    )
    expected = _reference_right(query, context, positions).sum() / 12  # 12 true neighbours (2 per row, 1 at ends)
    np.testing.assert_allclose(metrics["neighbour_accuracy"], expected, rtol=1e-6)
    assert losses.shape == (8,) and "neighbour_accuracy" in _model().trackers  # logged in training and validation


def test_token_dropout_reaches_both_encoders_and_training_only():
    model = _model(token_dropout=0.3)
    assert model.query_encoder.token_dropout == model.context_encoder.token_dropout == 0.3
    clone = QuickThought.from_config(model.get_config())
    assert clone.token_dropout == 0.3 and clone.context_encoder.token_dropout == 0.3
    sentences = tf.constant([" ".join(VOCABULARY[i : i + 6]) for i in range(0, 12, 2)])  # 36 known words
    np.testing.assert_allclose(model(sentences), model(sentences))
    assert not np.allclose(model(sentences, training=True), model(sentences))
    assert _model().query_encoder.token_dropout == 0.0  # off by default


def test_loss_matches_reference_and_respects_segment_breaks():
    rng = np.random.default_rng(0)
    query, context = rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 4)).astype("float32")
    positions = np.array([0, 1, 2, 4, 5, 6])  # a chapter break between rows 2 and 3
    loss, count, _ = quick_thought_losses(tf.constant(query), tf.constant(context), tf.constant(positions))
    np.testing.assert_allclose(loss, _reference_losses(query, context, positions), rtol=1e-5)
    assert count.numpy().tolist() == [1, 2, 1, 1, 2, 1]


def test_wider_context_picks_every_neighbour_within_the_window_of_the_same_stretch():
    rng = np.random.default_rng(1)
    query, context = rng.normal(size=(9, 4)).astype("float32"), rng.normal(size=(9, 4)).astype("float32")
    # A chapter break between rows 2 and 3; rows 7-8 are another stretch, whose row 8 sits exactly 2 after row 6 in
    # positions but is not 2 sentences after it in the batch (row 7 in between is not row 6's neighbour).
    positions = np.array([0, 1, 2, 4, 5, 6, 7, 50, 9])
    loss, count, right = quick_thought_losses(tf.constant(query), tf.constant(context), tf.constant(positions),
                                              context_window=2)
    assert count.numpy().tolist() == [2, 2, 2, 2, 3, 3, 2, 0, 0]
    np.testing.assert_allclose(loss, _reference_losses(query, context, positions, window=2), rtol=1e-5)
    np.testing.assert_array_equal(right, _reference_right(query, context, positions, window=2))
    # The window-1 loss is the default judge's, unchanged.
    one, _, _ = quick_thought_losses(tf.constant(query), tf.constant(context), tf.constant(positions),
                                     context_window=1)
    np.testing.assert_allclose(one, _reference_losses(query, context, positions), rtol=1e-5)
    model = _model(context_window=2)
    assert model.judges[0].context_window == 2
    assert QuickThought.from_config(model.get_config()).judges[0].context_window == 2
    with pytest.raises(ValueError, match="context_window"):
        _model(context_window=0)


def _reference_document_losses(query, context, documents):
    """Per sentence: softmax over the batch's documents of f(s) . (mean g of the document's sentences), the own
    document's mean taken without the sentence itself; no loss for a sentence alone in its document."""
    names = list(dict.fromkeys(documents.tolist()))
    losses, mates = np.zeros(len(query)), np.zeros(len(query))
    for i in range(len(query)):
        means = []
        for name in names:
            members = [j for j in range(len(query)) if documents[j] == name and (name != documents[i] or j != i)]
            means.append(context[members].mean(0) if members else np.zeros(context.shape[1]))
        scores = np.array(means) @ query[i]
        own = names.index(documents[i])
        mates[i] = np.sum(documents == documents[i]) - 1
        log_softmax = scores - scores.max() - np.log(np.exp(scores - scores.max()).sum())
        losses[i] = -log_softmax[own] if mates[i] else 0.0
    return losses, mates


def test_document_loss_matches_reference():
    rng = np.random.default_rng(3)
    query, context = rng.normal(size=(9, 4)).astype("float32"), rng.normal(size=(9, 4)).astype("float32")
    # Two stretches of document 7 (rows 0-2 and 6-7), document 3 (rows 3-4), document 5 alone (row 5), document 1
    # alone (row 8): rows 5 and 8 have no positive but stay candidates for the others.
    documents = np.array([7, 7, 7, 3, 3, 5, 7, 7, 1])
    loss, mates = document_classification_losses(tf.constant(query), tf.constant(context), tf.constant(documents))
    expected, expected_mates = _reference_document_losses(query, context, documents)
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-6)
    assert mates.numpy().tolist() == expected_mates.tolist() == [4, 4, 4, 1, 1, 0, 4, 4, 0]
    assert loss[5] == loss[8] == 0 and np.all(loss.numpy()[[0, 1, 2, 3, 4, 6, 7]] > 0)
    # The leave-one-out mean has teeth: with the sentence left in its own document's mean the loss differs.
    scores = query @ np.stack([context[documents == d].mean(0) for d in (7, 3, 5, 1)]).T
    with_self = -(scores[0, 0] - np.log(np.exp(scores[0]).sum()))
    assert not np.isclose(loss[0], with_self, rtol=1e-3)


def test_document_weight_adds_the_document_judge():
    split = cycle_split(repeats=2, chapters=3)
    batch = next(iter(make_contiguous_dataset(split, batch_size=30, chunk_size=10)))
    assert batch["documents"].numpy().tolist() == split.labels[:30].tolist()
    keras.utils.set_random_seed(4)
    model = _model(document_weight=0.5)
    assert [judge.name for judge in model.judges] == ["neighbour", "document"] and model.judge_weights == [1.0, 0.5]
    clone = QuickThought.from_config(model.get_config())
    assert clone.document_weight == 0.5 and len(clone.judges) == 2
    model.compile(optimizer="sgd")
    result = model.test_step(batch)
    query, context = model.query_encoder(batch["sentences"]), model.context_encoder(batch["sentences"])
    neighbour = quick_thought_losses(query, context, batch["positions"])[0]
    document = document_classification_losses(query, context, batch["documents"])[0]
    np.testing.assert_allclose(result["neighbour_loss"], tf.reduce_mean(neighbour), rtol=1e-5)
    np.testing.assert_allclose(result["document_loss"], tf.reduce_mean(document), rtol=1e-5)
    np.testing.assert_allclose(result["loss"], tf.reduce_mean(neighbour + 0.5 * document), rtol=1e-5)
    assert len(_model().judges) == 1  # the default is the paper's objective alone
    with pytest.raises(ValueError, match="'documents' key"):
        model.test_step({key: batch[key] for key in ("sentences", "positions")})
    with pytest.raises(ValueError, match="document_weight"):
        _model(document_weight=-1)


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


def test_two_replicas_give_the_one_replica_document_loss():
    """The document judge's own rows are found through the replica offset, its documents from the global batch
    (documents 0 and 1 each span both replicas' halves of this batch of 12)."""
    split = cycle_split(repeats=2, chapters=2)  # document 0: rows 0-9, document 1: rows 10-19
    rows = [0, 1, 2, 10, 11, 12, 3, 4, 5, 13, 14, 15]  # four stretches of 3, each replica gets one of each document
    batch = {"sentences": tf.constant([split.sentences[i] for i in rows]),
             "positions": tf.constant(split.positions()[rows]), "documents": tf.constant(split.labels[rows])}
    keras.utils.set_random_seed(5)
    assert_two_replicas_step_like_one(lambda: _model(document_weight=1.0), batch, rtol=1e-5, atol=1e-5)


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


def _assert_same_loss_and_export(skipping, tmp_path):
    """`skipping` (a model whose encoders skip the padding) has the loss of the whole-length model with its weights to
    float rounding, and an export that takes raw sentences of mixed lengths (an empty one too) and gives the
    whole-length model's embeddings."""
    keras.utils.set_random_seed(4)
    whole = _model(bucket_width=0, packed=False)
    skipping.set_weights(whole.get_weights())
    batch = next(iter(make_contiguous_dataset(cycle_split(), batch_size=12)))
    batch["sentences"] = tf.constant(["The cat.", "The dog wakes in the house.", "", "the fox runs in the wood in the "
                                      "field in the river", *batch["sentences"].numpy()[4:]])
    for model in (whole, skipping):
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
    np.testing.assert_allclose(skipping.test_step(skipping.prepare_batch(batch))["loss"],
                               whole.test_step(whole.prepare_batch(batch))["loss"], rtol=1e-6)
    destination = export_model(skipping, tmp_path / "skipping")
    sentences = np.array(["the cat", "The bird sleeps in the river.", "", "the dog the fox the cat the bird in the house"])
    (outputs,), _ = reload_and_call(destination, "encode", [sentences])
    np.testing.assert_allclose(outputs, whole.encode(tf.constant(sentences)), atol=1e-5)


@pytest.mark.slow  # default-suite budget: packed sequences (the default, below) keep the default suite's export check
def test_length_buckets_keep_the_loss_and_the_export(tmp_path):
    """bucket_width runs each encoder on length groups of the batch (the batch itself unchanged)."""
    bucketed = _model(bucket_width=2, packed=False)
    assert bucketed.query_encoder.bucket_width == bucketed.context_encoder.bucket_width == 2
    _assert_same_loss_and_export(bucketed, tmp_path)


def test_packed_sequences_keep_the_loss_and_the_export(tmp_path):
    """packed (the default) runs each encoder's GRU once over the batch's real tokens."""
    packed = _model()
    assert packed.query_encoder.packed and packed.context_encoder.packed and not packed.bucket_width
    _assert_same_loss_and_export(packed, tmp_path)



def _readout_model(readout):
    """A small QuickThought whose encoders read out `readout`, each half of the 16-float embedding filled: the mean of
    8-float word embeddings alone, or 4 states beside the mean of 4-float ones."""
    keras.utils.set_random_seed(6)
    model = _model(readout=readout, word_dim=8 if readout == "words" else 4, max_length=4)
    assert model.query_encoder.readout == model.context_encoder.readout == readout
    return model


READOUT_SENTENCES = np.array(["the cat", "The bird sleeps in the river.", "", "zebra"])


def test_readout_keeps_the_embedding_size_and_the_config():
    """readout reaches both encoders, keeps the embedding's size, survives get_config / from_config, and sizes the
    split cannot take are refused with the size each encoder gets."""
    for readout in ("words", "states+words"):
        model = _readout_model(readout)
        z = model.encode(tf.constant(READOUT_SENTENCES))
        assert z.shape == (4, 16)
        clone = QuickThought.from_config(model.get_config())
        clone.set_weights(model.get_weights())
        np.testing.assert_allclose(clone.encode(tf.constant(READOUT_SENTENCES)), z, atol=1e-6)
        with pytest.raises(ValueError, match="half of embedding_dim, 8"):
            _model(readout=readout, word_dim=8 if readout == "states+words" else 4)


@pytest.mark.parametrize("readout", ["words", pytest.param("states+words", marks=pytest.mark.slow)])
def test_readout_export_takes_raw_strings(readout, tmp_path):
    """The export of a readout model gives `encode`'s embeddings of raw strings to 1e-5 (states+words: slow, its
    packed GRU is what the default suite's packed-sequence export test already covers). The `words` model weighs its
    words with SIF (`_sif_model`), so the export also carries the token frequencies, a weight."""
    model = _sif_model() if readout == "words" else _readout_model(readout)
    (outputs,), _ = reload_and_call(export_model(model, tmp_path / "readout"), "encode", [READOUT_SENTENCES])
    np.testing.assert_allclose(outputs, model.encode(tf.constant(READOUT_SENTENCES)), atol=1e-5)



def _sif_model():
    """A small `words` QuickThought with word_weighting="sif", its token frequencies counted on two sentences."""
    keras.utils.set_random_seed(6)
    model = _model(readout="words", max_length=4, word_weighting="sif")
    model.set_token_frequencies(count_token_frequencies(
        [model.query_encoder.tokenize(tf.constant(["the cat sat on the mat", "the the bird"])).numpy()],
        model.query_encoder.vocabulary_size))
    return model


def test_sif_weighting_reaches_both_encoders_and_the_config():
    """word_weighting="sif": set_token_frequencies reaches f and g and changes the embedding; the frequencies are
    weights, so a clone from the config with the weights copied gives the same embeddings (the export: above)."""
    model = _sif_model()
    assert model.query_encoder.word_weighting == model.context_encoder.word_weighting == "sif"
    sentences = tf.constant(READOUT_SENTENCES)
    z = model.encode(sentences)
    uniform = _model(readout="words", max_length=4)
    uniform.set_weights([w for w in model.get_weights() if w.ndim == 2])  # the word embeddings, not the frequencies
    assert not np.allclose(uniform.encode(sentences), z, atol=1e-4)
    clone = QuickThought.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.encode(sentences), z, atol=1e-6)


@pytest.mark.parametrize("freeze", [True, False])
def test_word_embeddings_set_for_f_and_g_stay_fixed_in_training_when_frozen(freeze):
    """set_word_embeddings gives f and g their own vectors at one scale (the mean row norm asked for);
    freeze_word_embeddings keeps both tables through training steps while the GRUs learn (unfrozen, they move), and
    reaches both encoders and the config; frozen with readout="words" is refused (nothing would train)."""
    keras.utils.set_random_seed(0)
    model = QuickThought(CHAIN_WORDS, embedding_dim=16, word_dim=4, max_length=4, readout="states+words",
                         freeze_word_embeddings=freeze)
    size = model.query_encoder.vocabulary_size
    rng = np.random.default_rng(0)
    f_vectors, g_vectors = rng.normal(size=(size, 4)), rng.normal(size=(size, 4))
    model.set_word_embeddings(f_vectors, g_vectors, norm=0.5)
    tables = [encoder.word_embedding.get_weights()[0] for encoder in (model.query_encoder, model.context_encoder)]
    for table, vectors in zip(tables, (f_vectors, g_vectors)):
        scale = 0.5 / np.linalg.norm(vectors, axis=1).mean()
        np.testing.assert_allclose(table, vectors * scale, rtol=1e-5)
    gru = model.query_encoder.gru.get_weights()[0]
    model.compile(optimizer=keras.optimizers.Adam(2e-2), run_eagerly=True)  # two steps: no trace
    model.fit(make_contiguous_dataset(chain_split(), batch_size=11, shuffle=True, seed=0), epochs=1,
              steps_per_epoch=2, verbose=0)
    assert not np.allclose(model.query_encoder.gru.get_weights()[0], gru)
    for table, encoder in zip(tables, (model.query_encoder, model.context_encoder)):
        assert np.array_equal(encoder.word_embedding.get_weights()[0], table) == freeze
    clone = QuickThought.from_config(model.get_config())
    assert clone.freeze_word_embeddings == freeze
    assert [encoder.word_embedding.trainable for encoder in (clone.query_encoder, clone.context_encoder)] == [
        not freeze] * 2
    with pytest.raises(ValueError, match="leaves nothing to train"):
        _model(readout="words", freeze_word_embeddings=True)


@pytest.mark.parametrize("scale", ["fixed", "free"])
def test_word_anchor_adds_the_weighted_distance_to_the_start_and_keeps_the_tables_near_it(scale):
    """word_anchor_weight (L2-SP) adds weight * the word tables' squared distance to the start set by
    set_word_embeddings to every example's loss; trained with it, the tables stay nearer that start than without."""
    batches = make_contiguous_dataset(chain_split(), batch_size=11, shuffle=True, seed=0)
    size = QuickThought(CHAIN_WORDS, embedding_dim=8, word_dim=4, max_length=4, readout="words").query_encoder
    vectors = np.random.default_rng(0).normal(size=(size.vocabulary_size, 4))
    distances = {}
    for weight in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        model = QuickThought(CHAIN_WORDS, embedding_dim=8, word_dim=4, max_length=4, readout="words",
                             word_anchor_weight=weight, word_anchor_scale=scale if weight else "fixed")
        model.set_word_embeddings(vectors, norm=0.5)
        start = [encoder.word_embedding.get_weights()[0] for encoder in (model.query_encoder, model.context_encoder)]
        if weight:
            for kept, table in zip(model.word_starts, start):
                np.testing.assert_array_equal(kept.numpy(), table)
            batch = next(iter(batches))
            moved = [table + 0.1 for table in start]
            for encoder, table in zip((model.query_encoder, model.context_encoder), moved):
                encoder.word_embedding.embeddings.assign(table)
            per_judge, extra, metrics = model.judge_losses(batch)
            expected = sum(float(start_point_distance(table, kept, free_scale=scale == "free"))
                           for table, kept in zip(moved, start))
            np.testing.assert_allclose(metrics["word_anchor_distance"].numpy(), expected, rtol=1e-4)
            np.testing.assert_allclose(extra["word_anchor"].numpy(), np.full(11, weight * expected), rtol=1e-4)
            for encoder, table in zip((model.query_encoder, model.context_encoder), start):
                encoder.word_embedding.embeddings.assign(table)
        model.compile(optimizer=keras.optimizers.Adam(5e-2), run_eagerly=True)
        history = model.fit(batches, epochs=1, steps_per_epoch=4, verbose=0)
        tables = [encoder.word_embedding.get_weights()[0] for encoder in (model.query_encoder, model.context_encoder)]
        distances[weight] = sum(float(start_point_distance(table, kept, free_scale=scale == "free"))
                                for table, kept in zip(tables, start))
        if weight:
            assert {"neighbour_loss", "word_anchor_distance"} <= set(history.history)
            clone = QuickThought.from_config(model.get_config())
            assert (clone.word_anchor_weight, clone.word_anchor_scale) == (weight, scale)
    assert distances[1.0] < 0.5 * distances[0.0]



def test_word_anchor_on_the_idf_bag_is_zero_at_its_start_grows_with_the_distance_and_reaches_both_tables():
    """The idf bag (word_weighting="idf", the tables started at the LSA directions): the anchor's start is the table
    the bag trains (not idf times it), its penalty is 0 there and grows as the square of a move, and its gradient is
    2 * weight * (table - start) on both f's and g's tables."""
    weight = 0.5
    model = _model(readout="words", max_length=4, word_weighting="idf", word_anchor_weight=weight)
    size = model.query_encoder.vocabulary_size
    rng = np.random.default_rng(1)
    model.set_token_idf(rng.uniform(0.5, 3.0, size=size))
    model.set_word_embeddings(rng.normal(size=(size, 8)), norm=0.5)
    tables = [encoder.word_embedding.embeddings for encoder in (model.query_encoder, model.context_encoder)]
    starts = [table.numpy() for table in tables]
    batch = {"sentences": tf.constant(READOUT_SENTENCES), "positions": tf.range(len(READOUT_SENTENCES))}
    signs = np.sign(rng.normal(size=starts[0].shape)).astype("float32")
    penalties = []
    for step in (0.0, 0.1, 0.2):
        for table, start in zip(tables, starts):
            table.assign(start + step * signs)
        with tf.GradientTape() as tape:
            _, extra, metrics = model.forward(batch)
            penalty = tf.reduce_mean(extra["word_anchor"])
        penalties.append(float(penalty))
        for gradient, table, start in zip(tape.gradient(penalty, tables), tables, starts):
            np.testing.assert_allclose(tf.convert_to_tensor(gradient).numpy(), 2 * weight * (table.numpy() - start),
                                       atol=1e-5)
    assert penalties[0] == 0.0
    moved = 2 * starts[0].size * 0.1**2  # both tables, every entry moved by 0.1
    np.testing.assert_allclose(penalties[1:], [weight * moved, weight * 4 * moved], rtol=1e-4)

def test_word_anchor_refuses_a_negative_weight_a_scale_without_weight_and_frozen_tables():
    with pytest.raises(ValueError, match="at least 0"):
        _model(word_anchor_weight=-1.0)
    with pytest.raises(ValueError, match="word_anchor_weight is 0"):
        _model(word_anchor_scale="free")
    with pytest.raises(ValueError, match="keeps them there already"):
        _model(readout="states+words", word_dim=4, word_anchor_weight=1.0, freeze_word_embeddings=True)
    with pytest.raises(ValueError, match="Unknown word_anchor_scale"):
        _model(word_anchor_weight=1.0, word_anchor_scale="loose")


def test_idf_weighting_with_the_fit_directions_starts_as_the_lsa_vectors_bag_and_keeps_its_weights():
    """word_weighting="idf": set_token_idf then set_word_embeddings(directions) embeds every sentence as the
    unweighted bag started at idf * directions (the LSA vectors) does; the weights are fixed (not trained) and reach
    the config and a clone."""
    keras.utils.set_random_seed(6)
    weighted = _model(readout="words", max_length=4, word_weighting="idf")
    plain = _model(readout="words", max_length=4)
    size = weighted.query_encoder.vocabulary_size
    rng = np.random.default_rng(0)
    directions, idf = rng.normal(size=(size, 8)), rng.uniform(0.5, 3.0, size=size)
    weighted.set_token_idf(idf)
    weighted.set_word_embeddings(directions, norm=0.5)  # the rows as weighted get mean norm 0.5
    plain.set_word_embeddings(idf[:, None] * directions, norm=0.5)
    sentences = tf.constant(READOUT_SENTENCES)
    np.testing.assert_allclose(weighted.encode(sentences), plain.encode(sentences), rtol=1e-4, atol=1e-6)
    assert all(not variable.trainable for variable in weighted.weights if "token_idf" in variable.path)
    clone = QuickThought.from_config(weighted.get_config())
    clone.set_weights(weighted.get_weights())
    np.testing.assert_allclose(clone.encode(sentences), weighted.encode(sentences), atol=1e-6)
    with pytest.raises(ValueError, match="at least 0 per token id"):
        weighted.set_token_idf(-idf)
    with pytest.raises(ValueError, match="word_weighting is 'uniform'"):
        plain.set_token_idf(idf)


def _similarity_gap_reference(now, start):
    """Per-example mean squared difference of the rows of the cosine-similarity matrices of `now` and `start`."""
    def cosines(embeddings):
        unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
        return unit @ unit.T
    return np.mean((cosines(now) - cosines(start)) ** 2, axis=1)


def test_similarity_anchor_costs_nothing_for_moves_that_keep_the_start_s_similarities_and_matches_its_reference():
    """similarity_anchor_weight acts on the function, not the weights: the idf bag at its start, its tables scaled
    up, or both turned by one rotation (every cosine between embeddings kept, far from the start by L2-SP) cost 0;
    a random move costs weight * the mean squared change of each example's row of cosines, against a numpy
    reference; the gradient reaches both tables."""
    weight = 2.0
    model = _model(readout="words", max_length=6, word_weighting="idf", similarity_anchor_weight=weight)
    size = model.query_encoder.vocabulary_size
    rng = np.random.default_rng(3)
    model.set_token_idf(rng.uniform(0.5, 3.0, size=size))
    model.set_word_embeddings(rng.normal(size=(size, 8)), rng.normal(size=(size, 8)), norm=0.5)
    tables = [encoder.word_embedding.embeddings for encoder in (model.query_encoder, model.context_encoder)]
    starts = [table.numpy() for table in tables]
    sentences = ["the cat sleeps", "The bird sleeps in the river.", "zebra", "the river", "a cat and a bird"]
    batch = {"sentences": tf.constant(sentences), "positions": tf.range(len(sentences))}
    start_embedding = model.encode(tf.constant(sentences)).numpy()
    rotation = np.linalg.qr(rng.normal(size=(8, 8)))[0]
    for moved in ([3.0 * start for start in starts], [start @ rotation for start in starts]):
        for table, values in zip(tables, moved):
            table.assign(values)
        _, extra, metrics = model.forward(batch)
        np.testing.assert_allclose(extra["similarity_anchor"].numpy(), 0.0, atol=1e-6)
        assert sum(float(start_point_distance(values, start)) for values, start in zip(moved, starts)) > 1.0
    for table, start in zip(tables, starts):
        table.assign(start + rng.normal(scale=0.3, size=start.shape))
    with tf.GradientTape() as tape:
        _, extra, metrics = model.forward(batch)
        penalty = tf.reduce_mean(extra["similarity_anchor"])
    expected = _similarity_gap_reference(model.encode(tf.constant(sentences)).numpy(), start_embedding)
    assert expected.min() > 1e-3
    np.testing.assert_allclose(metrics["similarity_anchor_gap"].numpy(), expected, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(extra["similarity_anchor"].numpy(), weight * expected, rtol=1e-4, atol=1e-7)
    assert all(np.abs(tf.convert_to_tensor(gradient).numpy()).sum() > 0 for gradient in tape.gradient(penalty, tables))


def _started_bag(vectors, **anchors):
    """A small bag Quick-thought (`readout="words"`) seeded 0, both word tables started at `vectors` (norm 0.5)."""
    keras.utils.set_random_seed(0)
    model = QuickThought(CHAIN_WORDS, embedding_dim=8, word_dim=4, max_length=4, readout="words", **anchors)
    model.set_word_embeddings(vectors, norm=0.5)
    return model


def _fit_briefly(model, batches):
    """Eight training steps (Adam 5e-2); the history."""
    model.compile(optimizer=keras.optimizers.Adam(5e-2), run_eagerly=True)
    return model.fit(batches.repeat(), epochs=1, steps_per_epoch=8, verbose=0)


def _chain_vectors(seed=0):
    """Random word vectors (dimension 4) for the chain vocabulary's bag."""
    size = QuickThought(CHAIN_WORDS, embedding_dim=8, word_dim=4, max_length=4, readout="words").query_encoder
    return np.random.default_rng(seed).normal(size=(size.vocabulary_size, 4))


def test_similarity_anchor_keeps_the_start_s_similarities_in_training_and_its_config():
    """Trained with the term, the bag's cosines between sentences stay nearer those of its start than without it;
    the weight survives get_config / from_config and the term's gap is in the history."""
    batches = make_contiguous_dataset(chain_split(), batch_size=11, shuffle=True, seed=0)
    probe = next(iter(batches))
    vectors = _chain_vectors()
    gaps = {}
    for weight in (0.0, 10.0):
        model = _started_bag(vectors, similarity_anchor_weight=weight)
        start = model.encode(probe["sentences"]).numpy()
        history = _fit_briefly(model, batches)
        gaps[weight] = float(_similarity_gap_reference(model.encode(probe["sentences"]).numpy(), start).mean())
        if weight:
            assert {"neighbour_loss", "similarity_anchor_gap"} <= set(history.history)
            assert QuickThought.from_config(model.get_config()).similarity_anchor_weight == weight
    assert gaps[10.0] < 0.5 * gaps[0.0], gaps


def test_similarity_anchor_refuses_a_negative_weight_and_a_readout_with_grus():
    with pytest.raises(ValueError, match="at least 0"):
        _model(readout="words", similarity_anchor_weight=-1.0)
    with pytest.raises(ValueError, match="use readout='words'"):
        _model(readout="states+words", word_dim=4, similarity_anchor_weight=1.0)
    assert _model().similarity_anchor_weight == 0.0 and _model().word_starts is None


def test_length_anchor_adds_the_weighted_spread_of_both_tables_row_lengths_and_keeps_the_start_s_profile():
    """length_anchor_weight adds weight * the spread of f's and g's row lengths about their starts' to every
    example's loss (0 for the start scaled as a whole); trained with it, the rows' lengths stay nearer the start's
    profile than without; the weight survives get_config / from_config and the spread is in the history."""
    batches = make_contiguous_dataset(chain_split(), batch_size=11, shuffle=True, seed=0)
    vectors = _chain_vectors()
    vectors *= np.random.default_rng(1).uniform(0.2, 3.0, size=(len(vectors), 1))  # an uneven start
    spreads = {}
    for weight in (0.0, 10.0):
        model = _started_bag(vectors, length_anchor_weight=weight)
        tables = [encoder.word_embedding.embeddings for encoder in (model.query_encoder, model.context_encoder)]
        start = [table.numpy() for table in tables]
        if weight:
            batch = next(iter(batches))
            for table, kept in zip(tables, start):
                table.assign(3.0 * kept)
            _, extra, metrics = model.forward(batch)
            assert float(metrics["word_length_spread"]) < 1e-8
            stretch = np.linspace(0.5, 2.0, len(start[0]))[:, None].astype("float32")
            for table, kept in zip(tables, start):
                table.assign(kept * stretch)
            _, extra, metrics = model.forward(batch)
            expected = sum(float(row_length_spread(kept * stretch, kept)) for kept in start)
            np.testing.assert_allclose(metrics["word_length_spread"].numpy(), expected, rtol=1e-4)
            np.testing.assert_allclose(extra["length_anchor"].numpy(), np.full(11, weight * expected), rtol=1e-4)
            for table, kept in zip(tables, start):
                table.assign(kept)
        history = _fit_briefly(model, batches)
        spreads[weight] = sum(float(row_length_spread(table, kept)) for table, kept in zip(tables, start))
        if weight:
            assert {"neighbour_loss", "word_length_spread"} <= set(history.history)
            assert QuickThought.from_config(model.get_config()).length_anchor_weight == weight
    assert spreads[10.0] < 0.5 * spreads[0.0], spreads


def test_length_anchor_refuses_a_negative_weight_and_frozen_tables():
    with pytest.raises(ValueError, match="at least 0"):
        _model(readout="words", length_anchor_weight=-1.0)
    with pytest.raises(ValueError, match="keeps the whole tables there already"):
        _model(readout="states+words", word_dim=4, length_anchor_weight=1.0, freeze_word_embeddings=True)
    assert _model().length_anchor_weight == 0.0


def test_direction_anchor_holds_the_band_s_directions_and_leaves_the_other_rows_free():
    """direction_anchor_weight holds the pieces ranked in direction_anchor_band by frequency: set from frequencies,
    its penalty is weight * the held rows' mean 1 - cos to their start on both tables; trained with it, the held rows
    turn less than without it while their lengths may change; band and weight survive get_config / from_config, and
    the mask is a weight (checkpoints keep it)."""
    batches = make_contiguous_dataset(chain_split(), batch_size=11, shuffle=True, seed=0)
    vectors = _chain_vectors()
    turns = {}
    for weight in (0.0, 10.0):
        model = _started_bag(vectors, direction_anchor_weight=weight,
                             direction_anchor_band=(0.0, 0.5) if weight else (0.01, 0.1))
        size = model.query_encoder.vocabulary_size
        tables = [encoder.word_embedding.embeddings for encoder in (model.query_encoder, model.context_encoder)]
        start = [table.numpy() for table in tables]
        frequencies = np.arange(size, dtype="float64")[::-1].copy()  # id 2 most frequent
        held = np.arange(2, 2 + (size - 2) // 2)
        mask = np.zeros(size, "float32")
        mask[held] = 1.0
        if weight:
            np.testing.assert_array_equal(model.set_direction_anchor_pieces(frequencies), held)
            np.testing.assert_array_equal(model.direction_anchored.numpy(), mask)
            assert any(w is model.direction_anchored for w in model.non_trainable_weights)
            batch = next(iter(batches))
            turned = [np.where(mask[:, None] > 0, -kept, kept) for kept in start]
            for table, values in zip(tables, turned):
                table.assign(values)
            _, extra, metrics = model.forward(batch)
            np.testing.assert_allclose(metrics["word_turn"].numpy(), 4.0, rtol=1e-5)  # 2 per table
            np.testing.assert_allclose(extra["direction_anchor"].numpy(), np.full(11, weight * 4.0), rtol=1e-5)
            for table, kept in zip(tables, start):
                table.assign(kept)
        history = _fit_briefly(model, batches)
        turns[weight] = sum(float(row_turn(table, kept, mask)) for table, kept in zip(tables, start))
        if weight:
            assert {"neighbour_loss", "word_turn"} <= set(history.history)
            clone = QuickThought.from_config(model.get_config())
            assert (clone.direction_anchor_weight, clone.direction_anchor_band) == (weight, (0.0, 0.5))
    assert turns[10.0] < 0.5 * turns[0.0], turns


def test_direction_anchor_refuses_a_negative_weight_a_band_without_weight_bad_bands_and_frozen_tables():
    with pytest.raises(ValueError, match="at least 0"):
        _model(readout="words", direction_anchor_weight=-1.0)
    with pytest.raises(ValueError, match="direction_anchor_weight is 0"):
        _model(readout="words", direction_anchor_band=(0.0, 0.5))
    with pytest.raises(ValueError, match="first < last"):
        _model(readout="words", direction_anchor_weight=1.0, direction_anchor_band=(0.5, 0.2))
    with pytest.raises(ValueError, match="keeps the whole tables there already"):
        _model(readout="states+words", word_dim=4, direction_anchor_weight=1.0, freeze_word_embeddings=True)
    with pytest.raises(ValueError, match="direction_anchor_weight is 0"):
        _model(readout="words").set_direction_anchor_pieces(np.ones(10))
    assert _model().direction_anchor_weight == 0.0 and _model().direction_anchored is None
