"""Tests for keras_ae.data.word_vectors: LSA word vectors make a bag of word embeddings an LSA projection."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ae.data.word_vectors import lsa_fit, lsa_word_vectors, split_idf, token_count_matrix
from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder

VOCABULARY = ["the", "cat", "sat", "on", "mat", "dog", "ran", "in", "park", "bird", "sang", "never"]
CORPUS = ["the cat sat on the mat", "the dog ran in the park", "a bird sang in the park", "the cat ran",
          "dog and cat sat", "the bird sat on the dog", "mat on mat", "cat cat cat sang"]


def _cosines(features):
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    return unit @ unit.T


def test_bag_of_lsa_word_vectors_is_the_lsa_projection_up_to_each_sentences_scale():
    """With `lsa_word_vectors` as its word embeddings, the untrained `words` bag of each sentence is the sentence's
    LSA projection (scikit-learn's TfidfVectorizer + TruncatedSVD on the same text and tokens, fitted on its own)
    times a positive scale: the sentences' cosine similarities are the same. With unit rows (no idf) they are not.
    Padding and tokens absent from the corpus ("never") get zero vectors; the table is scaled to the initialiser's
    mean norm."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    bag = GRUSentenceEncoder(VOCABULARY, embedding_dim=3, word_dim=3, max_length=8, readout="words")
    ids = bag.tokenize(tf.constant(CORPUS)).numpy()
    bag.build()
    initial_norm = np.linalg.norm(bag.word_embedding.get_weights()[0], axis=1).mean()
    vectors = lsa_word_vectors([ids[:5], ids[5:]], bag.vocabulary_size, dim=3)
    assert vectors.shape == (bag.vocabulary_size, 3)
    assert not vectors[0].any() and not vectors[2 + VOCABULARY.index("never")].any()
    bag.set_word_embeddings(vectors)
    table = bag.word_embedding.get_weights()[0]
    assert np.linalg.norm(table[np.linalg.norm(table, axis=1) > 0], axis=1).mean() == pytest.approx(initial_norm)

    # the same TF-IDF (raw counts, smoothed idf, l2 rows) from the text, "a" and "and" as the out-of-vocabulary token
    tokens = [" ".join(w if w in VOCABULARY else "oov" for w in sentence.split()) for sentence in CORPUS]
    tfidf = TfidfVectorizer(token_pattern=r"\S+", norm="l2", smooth_idf=True).fit_transform(tokens)
    lsa = TruncatedSVD(3, random_state=0).fit_transform(tfidf)
    z = bag(tf.constant(CORPUS)).numpy()
    np.testing.assert_allclose(_cosines(z), _cosines(lsa), atol=1e-5)
    unit_rows = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)  # each token weighs 1
    bag.set_word_embeddings(unit_rows)
    assert not np.allclose(_cosines(bag(tf.constant(CORPUS)).numpy()), _cosines(lsa), atol=1e-2)

    # the idf as the bag's fixed token weights and the directions as its table: the same LSA projection
    directions, idf = lsa_fit([ids[:5], ids[5:]], bag.vocabulary_size, dim=3)
    np.testing.assert_allclose(idf[:, None] * directions, vectors, rtol=1e-6)
    weighted = GRUSentenceEncoder(VOCABULARY, embedding_dim=3, word_dim=3, max_length=8, readout="words",
                                  word_weighting="idf")
    weighted.set_token_idf(idf)
    weighted.set_word_embeddings(directions)
    np.testing.assert_allclose(_cosines(weighted(tf.constant(CORPUS)).numpy()), _cosines(lsa), atol=1e-5)


def test_split_idf_fixes_a_power_of_the_idf_and_starts_the_table_at_the_rest_so_the_bag_starts_as_lsa():
    """`split_idf(exponent=p)`: fixed weights idf^p scaled to mean 1 over the tokens the fit saw (unseen tokens 0),
    and a table idf^(1-p) x the directions, so the untrained `idf` bag is the same LSA embedding for every p (exponent
    1: the idf / its mean and the directions themselves, the split the recipes made before the exponent existed).
    Raising only the weights, with the directions as the table, would not be: the test can tell them apart."""
    bag = GRUSentenceEncoder(VOCABULARY, embedding_dim=3, word_dim=3, max_length=8, readout="words")
    ids = bag.tokenize(tf.constant(CORPUS)).numpy()
    directions, idf = lsa_fit([ids], bag.vocabulary_size, dim=3)
    seen = idf > 0
    assert not seen[0] and not seen[2 + VOCABULARY.index("never")] and seen.sum() > 5

    weights, table = split_idf(directions, idf, exponent=1.0)
    np.testing.assert_allclose(weights, idf / idf[seen].mean())
    np.testing.assert_allclose(table, directions)
    weights, table = split_idf(directions, idf, exponent=0.5)
    np.testing.assert_allclose(weights[seen], np.sqrt(idf[seen]) / np.sqrt(idf[seen]).mean())
    assert weights.mean(where=seen) == pytest.approx(1.0) and not weights[~seen].any() and not table[~seen].any()
    np.testing.assert_allclose(table, np.sqrt(idf)[:, None] * directions)
    weights_15, table_15 = split_idf(directions, idf, exponent=1.5)  # above 1: the table starts at idf^-0.5
    np.testing.assert_allclose(weights_15[:, None] * table_15, idf[:, None] * directions / (idf[seen] ** 1.5).mean())
    assert np.all(np.isfinite(table_15))

    def untrained(exponent, tables=None):
        encoder = GRUSentenceEncoder(VOCABULARY, embedding_dim=3, word_dim=3, max_length=8, readout="words",
                                     word_weighting="idf")
        token_weights, start = split_idf(directions, idf, exponent)
        encoder.set_token_idf(token_weights)
        encoder.set_word_embeddings(start if tables is None else tables, norm=1.0)
        return encoder(tf.constant(CORPUS)).numpy()

    lsa = untrained(1.0)
    np.testing.assert_allclose(untrained(0.5), lsa, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(untrained(1.5), lsa, rtol=1e-5, atol=1e-6)
    assert not np.allclose(untrained(0.5, tables=directions), lsa, rtol=1e-2, atol=1e-3)
    for exponent in (0.0, -1.0):
        with pytest.raises(ValueError, match="exponent must be positive"):
            split_idf(directions, idf, exponent)
    with pytest.raises(ValueError, match="some token seen"):
        split_idf(directions, np.zeros_like(idf))
    with pytest.raises(ValueError, match="shapes"):
        split_idf(directions[1:], idf)


def test_units_sum_their_sentences_counts_into_one_row_whatever_the_batches():
    """`units` (one per sentence across the batches): sentences of one unit are one TF-IDF row, the counts of their
    text read together; an empty sentence adds nothing to its unit, a unit of empty sentences is dropped."""
    bag = GRUSentenceEncoder(VOCABULARY, embedding_dim=3, word_dim=3, max_length=16, readout="words")
    ids = bag.tokenize(tf.constant(CORPUS + ["a"])).numpy()  # "a": out of vocabulary, id 1, counted like any token
    ids[-1] = 0  # an empty sentence
    units = np.array([0, 0, 1, 2, 2, 2, 3, 3, 4])  # the last unit: only the empty sentence
    counts = token_count_matrix([ids[:4], ids[4:]], bag.vocabulary_size, units=units)
    joined = bag.tokenize(tf.constant([" ".join(CORPUS[0:2]), CORPUS[2], " ".join(CORPUS[3:6]),
                                       " ".join(CORPUS[6:8])])).numpy()
    np.testing.assert_array_equal(counts.toarray(), token_count_matrix([joined], bag.vocabulary_size).toarray())
    directions, idf = lsa_fit([ids], bag.vocabulary_size, dim=3, units=units)
    np.testing.assert_allclose(idf, lsa_fit([joined], bag.vocabulary_size, dim=3)[1])
    assert not np.allclose(idf, lsa_fit([ids], bag.vocabulary_size, dim=3)[1])
    with pytest.raises(ValueError, match="one unit per sentence"):
        token_count_matrix([ids], bag.vocabulary_size, units=units[:-1])


def test_bad_token_ids_and_sizes_are_refused():
    with pytest.raises(ValueError, match=r"in \[0, 5\)"):
        token_count_matrix([np.array([[1, 7]])], 5)
    with pytest.raises(ValueError, match="at least 2 non-empty sentences"):
        token_count_matrix([np.array([[2, 3, 0]]), np.zeros((3, 3), "int64")], 5)
    with pytest.raises(ValueError, match=r"\[sentences, length\]"):
        token_count_matrix([np.array([2, 3])], 5)
    with pytest.raises(ValueError, match="more than 4 distinct tokens"):
        lsa_word_vectors([np.array([[2, 3], [4, 5]])], 9, dim=4)
    bag = GRUSentenceEncoder(VOCABULARY, embedding_dim=3, word_dim=3, readout="words")
    with pytest.raises(ValueError, match="shape"):
        bag.set_word_embeddings(np.ones((bag.vocabulary_size, 4)))
    with pytest.raises(ValueError, match="every row is zero"):
        bag.set_word_embeddings(np.zeros((bag.vocabulary_size, 3)))
