"""Tests for the sentence layers: GRUSentenceEncoder (raw strings in) and ConditionalGRUDecoder."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers.decoders.conditional_gru_decoder import ConditionalGRUDecoder
from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder, count_token_frequencies

VOCABULARY = ["the", "cat", "sat", "on", "mat", "dog", "ran"]


def _round_trip(layer, *inputs):
    """Build + call, serialize, deserialize, copy weights: the copy gives the same outputs."""
    outputs = layer(*inputs)
    clone = type(layer).from_config(layer.get_config())
    clone(*inputs)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(*inputs), outputs, atol=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer)
    return outputs


def test_encoder_takes_raw_strings_and_round_trips():
    encoder = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=5)
    sentences = tf.constant(["The cat sat on the mat.", "A dog ran", ""])
    z = _round_trip(encoder, sentences)
    assert z.shape == (3, 6)
    ids = encoder.tokenize(sentences).numpy()
    assert ids.shape == (3, 5)
    assert ids[0].tolist() == [2, 3, 4, 5, 2]  # truncated at max_length, lower-cased, punctuation stripped
    assert ids[1].tolist() == [1, 7, 8, 0, 0]  # "a" is out of vocabulary
    assert encoder.vocabulary_size == len(VOCABULARY) + 2
    np.testing.assert_allclose(z[2], 0.0)  # an empty sentence is the zero state


def test_encoder_ignores_padding():
    encoder = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=8)
    alone = encoder(tf.constant(["the cat"]))
    beside_longer = encoder(tf.constant(["the cat", "the dog ran on the mat"]))[:1]
    np.testing.assert_allclose(alone, beside_longer, atol=1e-6)
    assert encoder.get_config()["vocabulary"] == VOCABULARY


def test_decoder_is_causal_and_conditioned():
    decoder = ConditionalGRUDecoder(vocabulary_size=9, hidden_dim=8, word_dim=4, output_dim=5)
    targets = tf.constant([[2, 3, 4, 0], [5, 6, 0, 0]])
    inputs = decoder.teacher_forcing_inputs(targets)
    assert inputs.numpy().tolist() == [[9, 2, 3, 4], [9, 5, 6, 0]]
    condition = tf.random.normal([2, 6], seed=1)
    logits = _round_trip(decoder, inputs, condition)
    assert logits.shape == (2, 4, 9)
    changed_late = decoder(tf.concat([inputs[:, :2], tf.constant([[7, 7], [7, 7]])], axis=1), condition)
    np.testing.assert_allclose(changed_late[:, :2], logits[:, :2], atol=1e-6)
    other_condition = decoder(inputs, condition + 1.0)
    assert not np.allclose(other_condition[:, 0], logits[:, 0])


def test_pooled_encoders_ignore_padding_and_empty_sentences():
    for pooling in ("max", "mean"):
        encoder = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=8, pooling=pooling)
        z = _round_trip(encoder, tf.constant(["the cat", "the dog ran on the mat", ""]))
        np.testing.assert_allclose(encoder(tf.constant(["the cat"])), z[:1], atol=1e-6)
        np.testing.assert_allclose(z[2], 0.0)
    with np.testing.assert_raises(ValueError):
        GRUSentenceEncoder(VOCABULARY, pooling="attention")


def test_bidirectional_encoder_reads_both_ways_and_ignores_padding():
    for pooling in ("last", "mean"):
        encoder = GRUSentenceEncoder(
            VOCABULARY, embedding_dim=6, word_dim=4, max_length=8, pooling=pooling, bidirectional=True
        )
        z = _round_trip(encoder, tf.constant(["the cat ran", "the dog ran on the mat", ""]))
        assert z.shape == (3, 6)
        np.testing.assert_allclose(z[2], 0.0)
        # More padding (a longer max_length) changes nothing: the backward GRU starts at the last word.
        longer = GRUSentenceEncoder(
            VOCABULARY, embedding_dim=6, word_dim=4, max_length=12, pooling=pooling, bidirectional=True
        )
        longer(tf.constant(["the"]))
        longer.set_weights(encoder.get_weights())
        np.testing.assert_allclose(longer(tf.constant(["the cat ran"])), z[:1], atol=1e-6)
        # The last word reaches the backward half of a "last" embedding: the backward GRU starts there.
        changed_last = encoder(tf.constant(["the cat sat"]))
        assert not np.allclose(changed_last[0, 3:], z[0, 3:])
    with np.testing.assert_raises(ValueError):
        GRUSentenceEncoder(VOCABULARY, embedding_dim=5, bidirectional=True)


def test_decoder_reads_word_vectors_when_the_caller_embeds():
    decoder = ConditionalGRUDecoder(vocabulary_size=9, hidden_dim=8, word_dim=4, embed_inputs=False)
    words = tf.random.normal([2, 3, 4], seed=2)
    logits = _round_trip(decoder, words, tf.zeros([2, 5]))
    assert logits.shape == (2, 3, 9) and decoder.word_embedding is None


def _outputs_and_gradients(layer, *inputs):
    with tf.GradientTape() as tape:
        outputs = layer(*inputs)
        loss = tf.reduce_sum(tf.square(outputs))
    return outputs, [tf.convert_to_tensor(g) for g in tape.gradient(loss, layer.trainable_variables)]


def test_unrolled_encoders_equal_the_keras_gru_with_its_mask():
    """unroll=True (the hoisted, unrolled loop with its written-out gradient) gives Keras' masked GRU's embedding and
    gradients, for every pooling, both directions, empty and truncated sentences, from strings or token ids."""
    sentences = tf.constant(["The cat sat on the mat.", "", "dog", "the dog ran on the mat the cat sat on"])
    for bidirectional in (False, True):
        for pooling in ("last", "mean", "max"):
            keras_gru = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=7, pooling=pooling,
                                           bidirectional=bidirectional)
            unrolled = GRUSentenceEncoder.from_config({**keras_gru.get_config(), "unroll": True})
            keras_gru(sentences), unrolled(sentences)
            unrolled.set_weights(keras_gru.get_weights())
            assert unrolled._unrolls(7) and not keras_gru._unrolls(7)
            expected, expected_gradients = _outputs_and_gradients(keras_gru, sentences)
            z, gradients = _outputs_and_gradients(unrolled, sentences)
            np.testing.assert_allclose(z, expected, atol=1e-6)
            for gradient, expected_gradient in zip(gradients, expected_gradients):
                np.testing.assert_allclose(gradient, expected_gradient, atol=1e-5)
            np.testing.assert_allclose(unrolled(unrolled.tokenize(sentences)), z, atol=1e-7)


def test_length_buckets_give_the_same_embeddings_and_gradients():
    """bucket_width groups a batch by length and runs each group over its bucket only: the embeddings and gradients
    of the whole-length encoder, for every pooling, both directions, the unrolled loop and Keras' GRU, with token
    dropout's draws unchanged; a sentence's embedding does not depend on its batch's padding."""
    sentences = tf.constant(["The cat sat on the mat.", "", "dog", "the dog ran on the mat the cat sat on",
                             "cat sat", "the mat the cat", "on the mat the dog ran"])
    for unroll in (True, False):
        for bidirectional in (False, True):
            for pooling in ("last", "mean", "max"):
                whole = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=9, pooling=pooling,
                                           bidirectional=bidirectional, unroll=unroll, token_dropout=0.3, seed=3)
                bucketed = GRUSentenceEncoder.from_config({**whole.get_config(), "bucket_width": 2})
                whole(sentences), bucketed(sentences)
                bucketed.set_weights(whole.get_weights())
                np.testing.assert_allclose(bucketed(sentences), whole(sentences), atol=1e-6)
                for training in (False, True):  # the same seed: the same token dropout draws
                    with tf.GradientTape(persistent=True) as tape:
                        expected = whole(sentences, training=training)
                        z = bucketed(sentences, training=training)
                        losses = [tf.reduce_sum(tf.square(value)) for value in (expected, z)]
                    np.testing.assert_allclose(z, expected, atol=1e-6)
                    gradients = [tape.gradient(loss, layer.trainable_variables)
                                 for loss, layer in zip(losses, (whole, bucketed))]
                    for expected_gradient, gradient in zip(*gradients):
                        np.testing.assert_allclose(tf.convert_to_tensor(gradient),
                                                   tf.convert_to_tensor(expected_gradient), atol=1e-5)
                if unroll and bidirectional:  # the default path; eager single-sentence calls are slow
                    for index in range(len(sentences)):
                        np.testing.assert_allclose(bucketed(sentences[index : index + 1])[0],
                                                   bucketed(sentences)[index], atol=1e-5)
    assert bucketed.get_config()["bucket_width"] == 2
    lengths, encode = [], bucketed._encode  # the GRU ran on groups cut to 2, 4, 6, 8 and 9 tokens
    bucketed._encode = lambda ids, training: lengths.append(ids.shape[1]) or encode(ids, training)
    bucketed(sentences)
    assert lengths == [2, 4, 6, 8, 9]
    with pytest.raises(ValueError, match="positive number of tokens"):
        GRUSentenceEncoder(VOCABULARY, bucket_width=-1)


def test_packed_sequences_give_the_same_embeddings_and_gradients():
    """packed runs the unrolled GRU once over the batch's real tokens (a shrinking batch per step): the embeddings
    and gradients of the whole-length encoder, for every pooling, both directions, with token dropout's draws, a
    word skip and a projection; a sentence's embedding does not depend on its batch."""
    sentences = tf.constant(["The cat sat on the mat.", "", "dog", "the dog ran on the mat the cat sat on",
                             "cat sat", "the mat the cat", "on the mat the dog ran"])
    for bidirectional, pooling in ((False, "mean"), (True, "last"), (True, "max")):
        whole = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=9, pooling=pooling,
                                   bidirectional=bidirectional, unroll=True, token_dropout=0.3, seed=3,
                                   word_skip=pooling == "mean", hidden_dim=8 if pooling == "max" else None)
        packed = GRUSentenceEncoder.from_config({**whole.get_config(), "packed": True})
        expected = whole(sentences)
        packed(sentences)
        packed.set_weights(whole.get_weights())
        np.testing.assert_allclose(packed(sentences), expected, atol=1e-6)
        with tf.GradientTape(persistent=True) as tape:  # in training: the same seed, the same token dropout draws
            expected = whole(sentences, training=True)
            z = packed(sentences, training=True)
            losses = [tf.reduce_sum(tf.square(value)) for value in (expected, z)]
        np.testing.assert_allclose(z, expected, atol=1e-6)
        gradients = [tape.gradient(loss, layer.trainable_variables) for loss, layer in zip(losses, (whole, packed))]
        for expected_gradient, gradient in zip(*gradients):
            np.testing.assert_allclose(tf.convert_to_tensor(gradient), tf.convert_to_tensor(expected_gradient),
                                       atol=1e-5)
    np.testing.assert_allclose(packed(sentences[3:4])[0], packed(sentences)[3], atol=1e-5)
    np.testing.assert_allclose(packed(sentences[1:2]), np.zeros([1, 6]), atol=1e-7)  # empty: zeros, as whole-length
    assert packed.get_config()["packed"] is True
    with pytest.raises(ValueError, match="packed=True.*unroll=True and no bucket_width"):
        GRUSentenceEncoder(VOCABULARY, packed=True, bucket_width=8, unroll=True)


def test_bfloat16_products_stay_close_to_float32():
    """product_dtype="bfloat16" computes the products over all tokens in bfloat16 (8-bit mantissa): embeddings and
    gradients within bfloat16's rounding of float32's, and not equal to them (the products did run in bfloat16)."""
    sentences = tf.constant(["The cat sat on the mat.", "", "dog", "the dog ran on the mat the cat sat on"])
    exact = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=7, pooling="mean", unroll=True)
    rounded = GRUSentenceEncoder.from_config({**exact.get_config(), "product_dtype": "bfloat16"})
    exact(sentences), rounded(sentences)
    rounded.set_weights(exact.get_weights())
    expected, expected_gradients = _outputs_and_gradients(exact, sentences)
    z, gradients = _outputs_and_gradients(rounded, sentences)
    np.testing.assert_allclose(z, expected, atol=2e-2)
    assert not np.allclose(z, expected, atol=1e-6)
    for gradient, expected_gradient in zip(gradients, expected_gradients):
        np.testing.assert_allclose(gradient, expected_gradient, atol=3e-2 * float(tf.reduce_max(tf.abs(expected_gradient))))
    assert rounded.get_config()["product_dtype"] == "bfloat16"


def test_unrolled_decoder_equals_the_keras_gru():
    decoder = ConditionalGRUDecoder(vocabulary_size=9, hidden_dim=8, word_dim=4, output_dim=5)
    unrolled = ConditionalGRUDecoder.from_config({**decoder.get_config(), "unroll": True})
    inputs = decoder.teacher_forcing_inputs(tf.constant([[2, 3, 4, 0], [5, 6, 0, 0]]))
    condition = tf.random.normal([2, 6], seed=2)
    decoder(inputs, condition), unrolled(inputs, condition)
    unrolled.set_weights(decoder.get_weights())
    expected, expected_gradients = _outputs_and_gradients(decoder, inputs, condition)
    logits, gradients = _outputs_and_gradients(unrolled, inputs, condition)
    np.testing.assert_allclose(logits, expected, atol=1e-5)
    for gradient, expected_gradient in zip(gradients, expected_gradients):
        np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-4, atol=1e-5)


def test_wider_gru_is_projected_to_the_embedding_size():
    """hidden_dim != embedding_dim: the GRU has hidden_dim units, its pooled states are projected to embedding_dim,
    the unrolled loop still equals Keras' masked GRU, and the layer round-trips with its projection."""
    sentences = tf.constant(["The cat sat on the mat.", "", "dog ran"])
    for bidirectional in (False, True):
        wide = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=7, pooling="mean",
                                  bidirectional=bidirectional, hidden_dim=10)
        z = _round_trip(wide, sentences)
        assert z.shape == (3, 6)
        assert wide.projection is not None and wide.projection.kernel.shape == (10, 6)
        states, _ = wide.token_states(wide.tokenize(sentences))
        assert states.shape == (3, 7, 10)
        np.testing.assert_allclose(z[1], wide.projection.bias.numpy(), atol=1e-6)  # empty sentence: zero states
        unrolled = GRUSentenceEncoder.from_config({**wide.get_config(), "unroll": True})
        unrolled(sentences)
        unrolled.set_weights(wide.get_weights())
        np.testing.assert_allclose(unrolled(sentences), z, atol=1e-6)
    assert GRUSentenceEncoder(VOCABULARY, embedding_dim=6, hidden_dim=6).projection is None
    with np.testing.assert_raises(ValueError):
        GRUSentenceEncoder(VOCABULARY, embedding_dim=6, hidden_dim=5, bidirectional=True)


def test_word_skip_adds_the_mapped_mean_word_embedding():
    """word_skip: the output is the plain encoder's plus word_skip(mean of the sentence's word embeddings), the
    unrolled loop agrees, an empty sentence adds nothing, and the layer round-trips with the skip."""
    sentences = tf.constant(["The cat sat on the mat.", "", "dog ran"])
    skip = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=7, pooling="mean", word_skip=True)
    z = _round_trip(skip, sentences)
    plain = GRUSentenceEncoder.from_config({**skip.get_config(), "word_skip": False})
    plain(sentences)
    plain.set_weights([w.numpy() for w in skip.weights if w is not skip.word_skip_map.kernel])
    token_ids = skip.tokenize(sentences)
    mask = tf.cast(token_ids != 0, tf.float32)[:, :, None]
    mean_words = tf.reduce_sum(skip.word_embedding(token_ids) * mask, 1) / tf.maximum(tf.reduce_sum(mask, 1), 1.0)
    np.testing.assert_allclose(z, plain(sentences) + mean_words @ skip.word_skip_map.kernel, atol=1e-5)
    np.testing.assert_allclose(z[1], np.zeros(6), atol=1e-6)
    unrolled = GRUSentenceEncoder.from_config({**skip.get_config(), "unroll": True})
    unrolled(sentences)
    unrolled.set_weights(skip.get_weights())
    np.testing.assert_allclose(unrolled(sentences), z, atol=1e-5)


def test_token_dropout_hides_tokens_in_training_only():
    """token_dropout: in training about that share of a sentence's tokens (never padding) becomes the OOV id 1, a
    fresh draw per call; inference reads every token; the rate round-trips and is checked."""
    encoder = GRUSentenceEncoder(VOCABULARY, embedding_dim=6, word_dim=4, max_length=7, pooling="mean",
                                 token_dropout=0.5, seed=3)
    sentences = tf.constant(["The cat sat on the mat.", "dog ran", ""] * 200)
    _round_trip(encoder, sentences)
    token_ids = encoder.tokenize(sentences)
    dropped = encoder.drop_tokens(token_ids)
    real = token_ids.numpy() != 0
    assert np.all(dropped.numpy()[~real] == 0)  # padding stays padding
    changed = dropped.numpy() != token_ids.numpy()
    assert np.all(dropped.numpy()[changed] == 1)
    assert 0.45 < changed[real].mean() < 0.55
    assert not np.array_equal(encoder.drop_tokens(token_ids), dropped)  # a fresh draw each time
    np.testing.assert_allclose(encoder(sentences), encoder(sentences))  # inference: no dropout
    assert not np.allclose(encoder(sentences, training=True), encoder(sentences))
    plain = GRUSentenceEncoder.from_config({**encoder.get_config(), "token_dropout": 0.0})
    plain(sentences)
    plain.set_weights(encoder.get_weights())
    np.testing.assert_allclose(plain(sentences, training=True), encoder(sentences), atol=1e-6)
    assert plain.seed_generator is None  # no generator (no state) without token dropout
    for rate in (-0.1, 1.0):
        with pytest.raises(ValueError, match="token_dropout"):
            GRUSentenceEncoder(VOCABULARY, token_dropout=rate)


def _masked_mean_of_lookups(encoder, token_ids):
    """The mean of each sentence's word-embedding lookups over its real tokens (zeros when it has none), in numpy."""
    lookups, real = encoder.word_embedding(token_ids).numpy(), token_ids.numpy() != 0
    return np.stack([lookups[i][real[i]].mean(0) if real[i].any() else np.zeros(lookups.shape[-1])
                     for i in range(len(lookups))])


def test_readout_puts_the_mean_word_embedding_beside_or_instead_of_the_states():
    """readout="words" is the masked mean of the word embeddings of a padded batch (no GRU weights); "states+words"
    is the "states" encoder of the rest of the size (same weights) with that mean beside it; packed and unpacked
    runs agree, an empty sentence is zeros, both round-trip, and sizes the split cannot take are refused."""
    sentences = tf.constant(["The cat sat on the mat.", "", "dog ran", "the the cat"])
    bag = GRUSentenceEncoder(VOCABULARY, embedding_dim=4, word_dim=4, max_length=7, readout="words")
    z = _round_trip(bag, sentences)
    token_ids = bag.tokenize(sentences)
    np.testing.assert_allclose(z, _masked_mean_of_lookups(bag, token_ids), atol=1e-6)
    assert len(bag.weights) == 1 and bag.gru is None
    both = GRUSentenceEncoder(VOCABULARY, embedding_dim=7, word_dim=4, max_length=7, pooling="mean",
                              readout="states+words")
    z = _round_trip(both, sentences)
    assert both.gru.units == 3 and z.shape == (4, 7)
    states = GRUSentenceEncoder.from_config({**both.get_config(), "readout": "states", "embedding_dim": 3})
    states(sentences)
    states.set_weights(both.get_weights())
    np.testing.assert_allclose(z[:, :3], states(sentences), atol=1e-6)
    np.testing.assert_allclose(z[:, 3:], _masked_mean_of_lookups(both, token_ids), atol=1e-6)
    np.testing.assert_allclose(z[1], np.zeros(7), atol=1e-6)
    for layer in (bag, both):
        packed = GRUSentenceEncoder.from_config({**layer.get_config(), "unroll": True, "packed": True})
        packed(sentences)
        packed.set_weights(layer.get_weights())
        np.testing.assert_allclose(packed(token_ids), layer(sentences), atol=1e-5)
    for bad, message in [(dict(embedding_dim=6, word_dim=4, readout="words"), "word_dim=6"),
                         (dict(embedding_dim=4, word_dim=4, readout="states+words"), "word_dim=2"),
                         (dict(embedding_dim=4, word_dim=4, readout="words", bidirectional=True), "no GRU"),
                         (dict(readout="bag"), "Unknown readout")]:
        with pytest.raises(ValueError, match=message):
            GRUSentenceEncoder(VOCABULARY, **bad)
    with pytest.raises(ValueError, match="token_states needs a GRU"):
        bag.token_states(token_ids)


def test_sif_weighting_weighs_each_word_by_a_over_a_plus_its_frequency():
    """word_weighting="sif": `count_token_frequencies` is each token's share of the text (padding not counted); with
    one-hot word embeddings the bag shows each token's weight, `a / (a + p) / |s|` (Arora et al.'s formula), so a
    frequent word moves the mean less than a rare one; before the frequencies are set it is the plain mean; packed
    equals padded; "states+words" weighs its word half only; the frequencies travel with the weights."""
    corpus = tf.constant(["the cat sat on the mat", "the dog ran", "the the cat"])
    size, a = len(VOCABULARY) + 2, 0.1
    bag = GRUSentenceEncoder(VOCABULARY, embedding_dim=size, word_dim=size, max_length=7, readout="words",
                             word_weighting="sif", sif_a=a)
    frequencies = count_token_frequencies([bag.tokenize(corpus).numpy(), np.zeros((2, 7), "int64")], size)
    expected = np.array([0, 0, 5, 2, 1, 1, 1, 1, 1]) / 12  # padding, OOV, the cat sat on mat dog ran
    np.testing.assert_allclose(frequencies, expected)
    sentence = tf.constant(["the ran cat"])
    bag(sentence)
    bag.word_embedding.set_weights([np.eye(size)])  # each word's embedding is its one-hot id: the bag is its weights
    np.testing.assert_allclose(bag(sentence)[0, 2:], [1 / 3, 1 / 3, 0, 0, 0, 0, 1 / 3], atol=1e-6)  # not yet set
    bag.set_token_frequencies(frequencies)
    weights = a / (a + expected)
    np.testing.assert_allclose(bag.token_weights(tf.range(size)), weights, rtol=1e-5)
    z = _round_trip(bag, sentence).numpy()[0]
    np.testing.assert_allclose(z, np.array([0, 0, weights[2], weights[3], 0, 0, 0, 0, weights[8]]) / 3, rtol=1e-5)
    assert z[2] < z[3] < z[8]  # "the" (5 of 12 tokens) < "cat" (2) < "ran" (1)
    both = GRUSentenceEncoder(VOCABULARY, embedding_dim=size + 3, word_dim=size, max_length=7, pooling="mean",
                              readout="states+words", word_weighting="sif", sif_a=a)
    both(sentence)
    both.word_embedding.set_weights([np.eye(size)])
    both.set_token_frequencies(frequencies)
    uniform = GRUSentenceEncoder.from_config({**both.get_config(), "word_weighting": "uniform"})
    uniform(sentence)
    uniform.set_weights([w for w in both.get_weights() if w.shape != (size,)])
    np.testing.assert_allclose(both(sentence)[:, :3], uniform(sentence)[:, :3], atol=1e-6)  # the GRU reads unweighted
    np.testing.assert_allclose(both(sentence)[0, 3:], z, rtol=1e-5)
    for layer in (bag, both):
        packed = GRUSentenceEncoder.from_config({**layer.get_config(), "unroll": True, "packed": True})
        packed(corpus)
        packed.set_weights(layer.get_weights())
        np.testing.assert_allclose(packed(layer.tokenize(corpus)), layer(corpus), atol=1e-6)
    for bad, message in [(dict(word_weighting="tfidf"), "Unknown word_weighting"),
                         (dict(word_weighting="sif"), "readout='states' does not use"),
                         (dict(readout="words", embedding_dim=4, word_dim=4, word_weighting="sif", sif_a=0),
                          "sif_a must be positive")]:
        with pytest.raises(ValueError, match=message):
            GRUSentenceEncoder(VOCABULARY, **bad)
    with pytest.raises(ValueError, match="one value in"):
        bag.set_token_frequencies(frequencies[:-1])
    with pytest.raises(ValueError, match="word_weighting is 'uniform'"):
        uniform.set_token_frequencies(frequencies)
    with pytest.raises(ValueError, match="only padding"):
        count_token_frequencies([np.zeros((2, 3), "int64")], size)
