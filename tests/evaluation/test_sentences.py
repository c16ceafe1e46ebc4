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


def test_retrieval_ranks_every_encoder_by_cosine_and_a_model_scorer_apart():
    split = _split()
    index = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(tf.constant(split.sentences), tf.range(len(split), dtype=tf.int64)), -1
    )
    candidate_encode = lambda s: tf.one_hot(index.lookup(s), len(split))  # noqa: E731
    query_encode = lambda s: tf.one_hot(index.lookup(s) + 1, len(split))  # noqa: E731  f(s) . g(s + 1) = 1
    # The embedding's own cosine finds nothing (orthogonal rows tie at 0, ties count against); the scorer is perfect.
    embeddings = evaluation.embed(candidate_encode, split.sentences)
    result = evaluation.retrieval_results(embeddings, split, query_encode, candidate_encode, num_candidates=20)
    assert result["retrieval_top1"] == 0.0 and result["retrieval_mean_rank"] == 20.0
    assert result["scorer_top1"] == 1.0 and result["scorer_mean_rank"] == 1.0
    assert set(evaluation.retrieval_results(embeddings, split, num_candidates=20)) == {
        "retrieval_top1", "retrieval_mean_rank"}


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


def _corpus_with_sources(count=600):
    """Four sources (the last one package descriptions of 2 topics); each source and topic has its own words."""
    rng = np.random.default_rng(0)
    vocab = {0: "lady ball", 1: "whale sea", 2: "lord thee", 3: "package library"}
    topic_words = ["network socket", "font glyph"]
    parts, topics = {}, []
    for split, offset in (("train", 0), ("test", 10000)):
        sentences, labels, segments, sources = [], [], [], []
        for i in range(count):
            source = i * 4 // count
            document = (i // 3) if source == 3 else source * 2 + (i % 2)
            topic = (i // 3) % 2
            extra = topic_words[topic] if source == 3 else rng.choice(["a", "b"])
            sentences.append(f"{vocab[source]} {extra} word{rng.integers(50)} {i + offset}")
            labels.append(document + offset if source == 3 else document)
            segments.append(i // 6 + offset)
            sources.append(source)
        parts[split] = SentenceSplit(sentences, *(np.asarray(v, "int64") for v in (labels, segments, sources)))
    topics = {}
    for split in ("train", "test"):
        for label, sentence in zip(parts[split].labels, parts[split].sentences):
            if sentence.startswith("package"):
                topics[int(label)] = "net" if "network" in sentence else "fonts"
    names = [f"doc{i}" for i in range(max(topics) + 1)]
    topic_list = [topics.get(i) for i in range(len(names))]
    return TextSplits("fake", parts["train"], parts["test"], parts["test"], names,
                      source_names=["austen", "novels", "bible", "packages"], topics=topic_list)


def test_transfer_probes_are_held_out_and_beat_chance_with_tfidf():
    corpus = _corpus_with_sources()
    data = evaluation.transfer_probe_data(corpus, max_train=200, seed=0)
    train_items, train_labels, test_items, test_labels = data["genre"]
    assert set(train_labels) == set(test_labels) == {0, 1, 2, 3}
    assert not {s for (s,) in train_items} & {s for (s,) in test_items}
    topic_train, topic_labels, topic_test, _ = data["topic"]
    assert len(topic_train) == len(topic_labels) and all(1 <= len(item) <= 3 for item in topic_train)
    assert set(np.unique(data["book"][1])) <= {0, 1, 2, 3} and len(data["retrieval"]) == 300  # novels only
    result = evaluation.evaluate_transfer_tfidf(data, seed=0, num_candidates=20)
    assert result["genre_probe"] > 0.9 and result["topic_probe"] > 0.9  # chance 0.25 and 0.5
    assert result["retrieval_mean_rank"] >= 1.0
    random = np.random.default_rng(1).normal(size=(64, 8)).astype("float32")
    lookup = lambda s: tf.gather(random, tf.strings.to_hash_bucket_fast(s, 64))  # noqa: E731
    mean = evaluation.evaluate_transfer(lookup, data, seed=0, num_candidates=20)
    assert 0.0 <= mean["genre_probe"] < result["genre_probe"]  # a hash of the whole sentence knows no genre


def test_topic_validation_probe_shares_the_training_items_and_leaves_the_test_draws_alone():
    """topic_validation tests the topic probe's own training items on the validation split's descriptions, drawn
    apart: without validation descriptions the other probes' items are the same and the probe is absent."""
    import dataclasses

    corpus = _corpus_with_sources()
    data = evaluation.transfer_probe_data(corpus, max_train=200, seed=0)
    topic_train, topic_labels, topic_test, _ = data["topic"]
    train, labels, validation, validation_labels = data["topic_validation"]
    assert train is topic_train and np.array_equal(labels, topic_labels)
    assert len(validation) == len(validation_labels) > 0 and set(validation) <= set(topic_test)  # here validation = test
    without = dataclasses.replace(corpus, validation=evaluation._subsplit(corpus.validation,
                                                                           corpus.validation.sources != 3))
    alone = evaluation.transfer_probe_data(without, max_train=200, seed=0)
    assert "topic_validation" not in alone
    for probe in ("book", "genre", "topic"):
        for ours, theirs in zip(data[probe], alone[probe]):
            assert np.array_equal(np.asarray(ours, dtype=object), np.asarray(theirs, dtype=object))
    lookup = lambda s: tf.one_hot(tf.strings.to_hash_bucket_fast(s, 8), 8)  # noqa: E731
    result = evaluation.evaluate_transfer(lookup, data, seed=0, num_candidates=20)
    assert 0.0 <= result["topic_validation_probe"] <= 1.0


def test_validation_probes_test_the_probes_training_items_on_the_validation_split():
    """transfer_probe_data's "validation": book and genre (their own training items) tested on validation sentences,
    topic = topic_validation, retrieval among the validation novels; evaluate_transfer and the LSA baseline (with
    standard errors) run on it as on the test probes."""
    import dataclasses

    corpus = _corpus_with_sources()
    validation = evaluation._subsplit(corpus.test, np.arange(len(corpus.test)) % 2 == 0)  # a split apart from test
    corpus = dataclasses.replace(corpus, validation=validation)
    data = evaluation.transfer_probe_data(corpus, max_train=200, seed=0)
    held_out = data["validation"]
    assert set(held_out) == {"book", "genre", "topic", "retrieval"} and held_out["topic"] is data["topic_validation"]
    for probe in ("book", "genre"):
        assert held_out[probe][0] is data[probe][0] and np.array_equal(held_out[probe][1], data[probe][1])
        assert {s for (s,) in held_out[probe][2]} <= set(validation.sentences)
    assert set(held_out["genre"][3]) == {0, 1, 2, 3}
    assert set(held_out["retrieval"].sentences) <= set(validation.sentences)
    assert set(held_out["retrieval"].sources) <= {0, 1}  # the novels
    lsa = evaluation.evaluate_transfer_tfidf(held_out, 8, seed=0, num_candidates=20, standard_errors=True)
    p, n = lsa["genre_probe"], len(held_out["genre"][3])
    assert lsa["genre_probe_se"] == pytest.approx(np.sqrt(p * (1 - p) / n))
    assert lsa["retrieval_mean_rank_se"] > 0 and "genre_probe_se" not in evaluation.evaluate_transfer_tfidf(
        held_out, 8, seed=0, num_candidates=20)
    lookup = lambda s: tf.one_hot(tf.strings.to_hash_bucket_fast(s, 8), 8)  # noqa: E731
    assert 0.0 <= evaluation.evaluate_transfer(lookup, held_out, seed=0, num_candidates=20)["book_probe"] <= 1.0


def test_margins_over_are_in_standard_errors_and_the_worst_probe_decides():
    reference = {"book_probe": 0.4, "book_probe_se": 0.01, "topic_probe": 0.6, "topic_probe_se": 0.02,
                 "retrieval_top1": 0.08, "retrieval_top1_se": 0.01, "retrieval_mean_rank": 33.0,
                 "retrieval_mean_rank_se": 1.0}
    above = {"book_probe": 0.42, "topic_probe": 0.61, "retrieval_top1": 0.09, "retrieval_mean_rank": 30.0}
    margins = evaluation.margins_over(above, reference)
    assert margins["book_probe_margin"] == pytest.approx(2.0) and margins["retrieval_mean_rank_margin"] == 3.0
    assert margins["worst_margin"] == pytest.approx(0.5)  # topic: +0.01 in 0.02
    assert margins["probes_above"] == 4 and margins["selection"] == pytest.approx(4 + 0.5 / 1.5)
    below = {**above, "retrieval_mean_rank": 34.0}  # a higher mean rank is worse
    assert evaluation.margins_over(below, reference)["worst_margin"] == pytest.approx(-1.0)
    # A checkpoint with one probe far below ranks under one with two probes a little below: no probe is traded.
    one_far = evaluation.margins_over({**above, "topic_probe": 0.50}, reference)  # topic -5 SE, three above
    two_near = evaluation.margins_over({**above, "topic_probe": 0.59, "book_probe": 0.39}, reference)  # -0.5, -1
    assert one_far["worst_margin"] < two_near["worst_margin"] and one_far["selection"] > two_near["selection"]


def test_diagnostics_count_tokens_truncation_and_oov_per_tokenizer():
    from benchmarks.sentence_probe_diagnostics import token_counts
    from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder

    sentences = ["The cat sat on the mat.", "A dog", "cats"]
    words = GRUSentenceEncoder(["the", "cat", "sat", "on", "mat", "dog"], max_length=3)
    mean, truncated, unknown = token_counts(words, sentences)
    assert mean == 9 / 3 and truncated == 1 / 3 and unknown == 2 / 9  # "a" and "cats" are unknown words
    pieces = GRUSentenceEncoder(["the", "cat", "sat", "on", "mat", "a", "dog", "##s"], max_length=3,
                                tokenizer="wordpiece")
    mean, truncated, unknown = token_counts(pieces, sentences + ["xyz"])
    assert mean == 11 / 4 and truncated == 1 / 4 and unknown == 1 / 11  # "cats" is cat ##s, "xyz" is [UNK]


def test_diagnostics_share_words_kept_whole_split_or_lost_per_tokenizer():
    from benchmarks.sentence_probe_diagnostics import word_splits
    from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder

    sentences = ["The cats sat.", "xyz dog", "A cat"]  # 7 words; truncation does not count (max_length 2)
    pieces = GRUSentenceEncoder(["the", "cat", "sat", "a", "dog", "##s"], max_length=2, tokenizer="wordpiece")
    whole, split, lost = word_splits(pieces, sentences)
    assert (whole, split, lost) == pytest.approx((5 / 7, 1 / 7, 1 / 7))  # "cats" is cat ##s, "xyz" is [UNK]
    words = GRUSentenceEncoder(["the", "cat", "sat", "dog"], max_length=2)
    assert word_splits(words, sentences) == pytest.approx((4 / 7, 0.0, 3 / 7))  # a word vocabulary never splits


def test_diagnostics_refuse_a_missing_or_doubled_source_and_weight_groups_without_a_run():
    from benchmarks.sentence_probe_diagnostics import parse_args

    for argv in ([], ["runs/qt", "--vocabulary-size", "8000"]):
        with pytest.raises(SystemExit):
            parse_args(argv)
    with pytest.raises(SystemExit):
        parse_args(["--vocabulary-size", "8000", "--only", "model"])  # needs trained weights
    for flag in ("--vocabulary-size", "--min-piece-count", "--vocabulary-sentences"):
        with pytest.raises(SystemExit):
            parse_args(["--vocabulary-size", "8000", flag, "0"])
    args = parse_args(["--vocabulary-size", "16000", "--split", "validation"])
    assert args.only == ["lexical", "tokens", "protocol", "names"] and args.split == "validation"
    assert parse_args(["runs/qt"]).only is None
