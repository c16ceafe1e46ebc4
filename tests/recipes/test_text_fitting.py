"""The sentence recipes' fitting paths on the training text: `--word-weighting sif`'s token frequencies and
`--init-word-embeddings`' LSA vectors, tokenised in batches as the encoder does (cut at its `max_length`)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ae.data.text import SentenceSplit
from keras_ae.data.word_vectors import lsa_fit, lsa_word_vectors
from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder
from keras_ae.recipes import text_recipe

VOCABULARY = ["the", "cat", "sat", "on", "mat", "dog", "ran", "in", "park", "bird", "sang", "never"]
SENTENCES = ["the cat sat on the mat", "never never sang", "a bird sang in the park", "the cat ran",
             "dog and cat sat", "the bird sat on the dog", "mat on mat", "cat cat cat sang"]


def _encoder(max_length=4, word_dim=2):
    return GRUSentenceEncoder(VOCABULARY, embedding_dim=word_dim, word_dim=word_dim, max_length=max_length,
                              readout="words")


def test_token_frequencies_count_every_training_sentence_cut_at_max_length_across_batches(monkeypatch):
    monkeypatch.setattr(text_recipe, "TOKENIZE_BATCH", 3)  # 8 sentences: batches of 3, 3 and 2
    encoder = _encoder(max_length=4)
    counts = np.zeros(encoder.vocabulary_size)
    for sentence in SENTENCES:  # by hand: the first 4 words, "a" and "and" out of vocabulary (id 1)
        for word in sentence.split()[:4]:
            counts[VOCABULARY.index(word) + 2 if word in VOCABULARY else 1] += 1
    frequencies = text_recipe.training_token_frequencies(encoder, SENTENCES)
    np.testing.assert_allclose(frequencies, counts / counts.sum())
    assert frequencies[VOCABULARY.index("park") + 2] == 0  # 6th word of its sentence: cut


def _split(sentences, segments):
    return SentenceSplit(list(sentences), np.zeros(len(sentences), "int64"), np.asarray(segments, "int64"))


def test_lsa_start_is_fitted_on_an_even_spread_of_the_training_sentences(monkeypatch):
    monkeypatch.setattr(text_recipe, "LSA_FIT_SENTENCES", 4)  # of 8: sentences 0, 2, 5 and 7
    monkeypatch.setattr(text_recipe, "TOKENIZE_BATCH", 3)
    encoder = _encoder(max_length=8, word_dim=2)
    directions, idf = text_recipe.initial_word_vectors(encoder, _split(SENTENCES, [0] * 8), seed=0, parts=2)
    vectors = idf[:, None] * directions
    assert vectors.shape == (encoder.vocabulary_size, 4)  # `lsa-split`: f's and g's halves in one fit
    spread = encoder.tokenize(tf.constant([SENTENCES[i] for i in (0, 2, 5, 7)])).numpy()
    np.testing.assert_allclose(vectors, lsa_word_vectors([spread], encoder.vocabulary_size, 4, seed=0), atol=1e-6)
    assert not vectors[VOCABULARY.index("never") + 2].any()  # only in sentence 1, outside the spread
    assert vectors[VOCABULARY.index("bird") + 2].any()


def test_lsa_windows_cut_each_stretch_of_consecutive_sentences_and_never_join_two():
    segments = np.array([4, 4, 4, 4, 4, 9, 9, 2])
    np.testing.assert_array_equal(text_recipe.lsa_windows(segments, 2), [0, 0, 1, 1, 2, 3, 3, 4])
    np.testing.assert_array_equal(text_recipe.lsa_windows(segments, 1), np.arange(8))
    np.testing.assert_array_equal(text_recipe.lsa_windows(segments, 100), [0, 0, 0, 0, 0, 1, 1, 2])
    with pytest.raises(ValueError, match="at least 1 sentence"):
        text_recipe.lsa_windows(segments, 0)


def test_lsa_start_on_windows_fits_one_row_per_window_of_an_even_spread_of_windows(monkeypatch):
    """`window=2`: the TF-IDF rows are the windows' summed counts (each sentence cut at the encoder's `max_length`,
    then read as one text), windows stay inside their segment, and the even spread takes about `LSA_FIT_SENTENCES`
    sentences' worth of windows (5 of 8 sentences: 3 of the 5 windows, the first, middle and last). It differs from
    the fit on the same sentences one by one."""
    monkeypatch.setattr(text_recipe, "LSA_FIT_SENTENCES", 5)
    monkeypatch.setattr(text_recipe, "TOKENIZE_BATCH", 3)
    encoder = _encoder(max_length=8, word_dim=2)
    segments = [0, 0, 0, 1, 1, 1, 1, 2]  # windows (0, 1), (2,), (3, 4), (5, 6), (7,)
    directions, idf = text_recipe.initial_word_vectors(encoder, _split(SENTENCES, segments), seed=0, window=2)
    whole = _encoder(max_length=16)  # the same ids, nothing cut: 0 and 1 together have 9 words, each at most 8
    rows = whole.tokenize(tf.constant([SENTENCES[0] + " " + SENTENCES[1], SENTENCES[3] + " " + SENTENCES[4],
                                       SENTENCES[7]])).numpy()
    expected_directions, expected_idf = lsa_fit([rows], encoder.vocabulary_size, 2, seed=0)
    np.testing.assert_allclose(idf, expected_idf)
    np.testing.assert_allclose(directions, expected_directions, atol=1e-6)
    sentences = encoder.tokenize(tf.constant([SENTENCES[i] for i in (0, 1, 3, 4, 7)])).numpy()
    one_by_one = lsa_fit([sentences], encoder.vocabulary_size, 2, seed=0)
    assert not np.allclose(idf, one_by_one[1])
