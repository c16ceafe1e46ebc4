"""Tests for keras_ae.evaluation.sentences: the retrieval protocol, neighbours, TF-IDF baselines, probe subsets."""

import json

import numpy as np
import pytest
import tensorflow as tf

from keras_ae.data.text import SentenceSplit, TextSplits
from keras_ae.evaluation import sentences as evaluation


def _split(count=300, segment_every=50, offset=0):
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    sentences = [f"{words[(i // 100) % 6]} sentence {i + offset} {words[i % 6]}" for i in range(count)]
    labels = np.arange(count) // 100
    return SentenceSplit(sentences, labels.astype("int64"), (np.arange(count) // segment_every).astype("int64"))


def test_retrieval_protocol_is_fixed_and_fair():
    split = _split()
    queries, candidates = evaluation.retrieval_candidates(split, num_candidates=20, max_queries=50, seed=3)
    assert len(queries) == 50 and candidates.shape == (50, 20)
    assert np.all(candidates[:, 0] == queries + 1)
    for query, row in zip(queries, candidates):
        assert split.segments[query] == split.segments[query + 1]
        assert query not in row and len(set(row)) == 20 and query + 1 not in row[1:]
    again = evaluation.retrieval_candidates(split, num_candidates=20, max_queries=50, seed=3)
    assert np.array_equal(again[1], candidates)


def test_retrieval_scores_perfect_and_useless_embeddings():
    split = _split()
    # Query i embeds like candidate i + 1 only: perfect retrieval.
    candidate = np.eye(len(split), dtype="float32")
    query = np.roll(candidate, -1, axis=0)
    perfect = evaluation.next_sentence_retrieval(query, candidate, split, num_candidates=20, similarity="dot")
    assert perfect["top1"] == 1.0 and perfect["mean_rank"] == 1.0
    # Identical embeddings tie everywhere; ties count against the true sentence.
    useless = evaluation.next_sentence_retrieval(np.ones((300, 4)), np.ones((300, 4)), split, num_candidates=20)
    assert useless["top1"] == 0.0 and useless["mean_rank"] == 20.0
    with pytest.raises(ValueError, match="at least 101"):
        evaluation.retrieval_candidates(_split(count=60))


def test_nearest_neighbours_and_probe_subset(tmp_path):
    embeddings = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]])
    rows = evaluation.nearest_neighbours(np.array([[1.0, 0.1]]), embeddings, ["a", "b", "c"], k=2)
    assert [sentence for sentence, _ in rows[0]] == ["a", "c"]
    train = _split()
    splits = TextSplits("toy", train, _split(120, offset=1000), _split(300, offset=2000), ["a", "b", "c"])
    sentences, labels = evaluation.probe_training_set(splits, max_train=30)
    assert len(sentences) == 30 and set(labels) == {0, 1, 2}  # an even spread over the books, not the first 30
    written = evaluation.write_neighbours(
        tmp_path / "n.json", lambda s: tf.one_hot(tf.strings.length(s) % 4, 4), splits,
        queries=["alpha"], k=3,
    )
    assert json.loads((tmp_path / "n.json").read_text()) == written and len(written[0]["neighbours"]) == 3


def test_tfidf_baselines():
    splits = TextSplits("toy", _split(), _split(120, offset=1000), _split(300, offset=2000), ["a", "b", "c"])
    full = evaluation.evaluate_tfidf(splits, num_candidates=20)
    reduced = evaluation.evaluate_tfidf(splits, embedding_dim=4, num_candidates=20)
    assert full["probe_accuracy"] > 0.6  # chance is 1/3: the book's word is in every sentence
    for result in (full, reduced):
        assert set(result) == {"probe_accuracy", "knn_accuracy", "retrieval_top1", "retrieval_mean_rank"}
        assert 1.0 <= result["retrieval_mean_rank"] <= 20.0
