"""Sentence-embedding protocols: a book probe, next-sentence retrieval, nearest neighbours, and TF-IDF baselines.

Protocols (fixed, never tuned on test):
- **Probe**: which document (book) a sentence comes from. Embed the training split (or an even spread of
  `max_train` of its sentences; the recipes use 10,000) and the held-out test chapters,
  then `keras_ae.evaluation.probes.linear_probe_accuracy` (standardised, multinomial logistic regression) and
  `knn_accuracy` (k=10, cosine).
- **Next-sentence retrieval** on the held-out test chapters: for up to `max_queries` sentences that have a next
  sentence in the same chapter (an even spread, fixed seed), rank the true next sentence among `num_candidates`
  candidates (itself plus `num_candidates - 1` other held-out sentences drawn at random, never the query). The score
  is the cosine similarity of the embeddings `encode` gives, for every encoder and baseline alike (one rule, so
  rows compare as embeddings of the same size). A model with its own scorer (Quick-thought: `f(s) . g(c)`) is
  also ranked by it, reported apart (`scorer_top1`, `scorer_mean_rank`). Ties count against the true sentence.
  Report top-1 accuracy (chance: 1 / num_candidates) and the mean rank (1 is best; chance: (num_candidates + 1) / 2).
- **TF-IDF baselines**: sublinear TF-IDF of words fitted on the training sentences; the full sparse vectors for a
  probe and retrieval, and their LSA projection (`TruncatedSVD`) to the models' embedding size for a comparison at
  equal size.

Example:
    z_train, z_test = embed(model.encode, splits.train.sentences), embed(model.encode, splits.test.sentences)
    probe = linear_probe_accuracy(z_train, splits.train.labels, z_test, splits.test.labels)
    retrieval = next_sentence_retrieval(z_test, z_test, splits.test)   # {"top1": ..., "mean_rank": ...}
"""

import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.evaluation.probes import embed as _embed
from keras_ae.evaluation.probes import knn_accuracy, linear_probe_accuracy

NUM_CANDIDATES = 100
MAX_QUERIES = 1000
DEFAULT_QUERIES = (
    "It is a truth universally acknowledged.",
    "She was very much in love with him.",
    "The weather was fine and they walked to the village.",
    "I cannot marry a man without money.",
    "He wrote a letter to his sister.",
)


def embed(encode, sentences, batch_size=512):
    """Embeds a list of strings with `encode` (`tf.string [batch] -> [batch, d]`), compiled once as a `tf.function`
    for any batch size; returns a float32 numpy array."""
    compiled = tf.function(encode, input_signature=[tf.TensorSpec([None], tf.string)])
    return _embed(lambda batch: compiled(tf.constant(list(batch), tf.string)), list(sentences), batch_size=batch_size)


def probe_training_set(splits, max_train=None):
    """The probe's training sentences and labels: the training split, or an even spread of `max_train` of them."""
    if not max_train or max_train >= len(splits.train):
        return list(splits.train.sentences), splits.train.labels
    index = np.linspace(0, len(splits.train) - 1, max_train).round().astype(int)
    return [splits.train.sentences[i] for i in index], splits.train.labels[index]


def retrieval_candidates(split, num_candidates=NUM_CANDIDATES, max_queries=MAX_QUERIES, seed=0):
    """The fixed retrieval protocol on `split`: `(queries [q], candidates [q, num_candidates])` sentence indices;
    column 0 of `candidates` is the true next sentence `query + 1`."""
    pairs = split.next_pairs()
    if len(pairs) == 0:
        raise ValueError("No held-out sentence has a next sentence in the same chapter; cannot score retrieval.")
    if len(split) < num_candidates + 1:
        raise ValueError(
            f"Next-sentence retrieval among {num_candidates} candidates needs at least {num_candidates + 1} held-out "
            f"sentences; the split has {len(split)}. Give a longer corpus or lower num_candidates."
        )
    if len(pairs) > max_queries:
        pairs = pairs[np.linspace(0, len(pairs) - 1, max_queries).round().astype(int)]
    rng = np.random.default_rng(seed)
    candidates = np.empty((len(pairs), num_candidates), dtype="int64")
    for row, query in enumerate(pairs):
        pool = rng.choice(len(split) - 2, size=num_candidates - 1, replace=False)
        pool = pool + 2 * (pool >= query)  # skip the query and its true next sentence
        candidates[row, 0] = query + 1
        candidates[row, 1:] = pool
    return pairs, candidates


def next_sentence_retrieval(
    query_embeddings, candidate_embeddings, split, num_candidates=NUM_CANDIDATES, max_queries=MAX_QUERIES, seed=0,
    similarity="cosine",
):
    """Top-1 accuracy and mean rank of the true next sentence (see the module docstring).

    Args:
        query_embeddings: `[n, d]` embeddings of `split.sentences` as queries.
        candidate_embeddings: `[n, d]` embeddings of the same sentences as candidates (often the same array).
        split: a `keras_ae.data.text.SentenceSplit` (its segments say which sentences are neighbours).
        similarity: `"cosine"` or `"dot"` (a model's own scorer, e.g. Quick-thought's `f(s) . g(c)`).
    """
    queries, candidates = retrieval_candidates(split, num_candidates, max_queries, seed)
    query = _as_rows(query_embeddings)[queries]
    pool = _as_rows(candidate_embeddings)
    if similarity == "cosine":
        query, pool = _normalise(query), _normalise(pool)
    elif similarity != "dot":
        raise ValueError(f"similarity must be 'cosine' or 'dot'; got {similarity!r}.")
    if _is_sparse(pool):
        scores = _sparse_scores(query, pool, candidates)
    else:
        scores = np.einsum("qd,qcd->qc", query, pool[candidates])
    ranks = 1 + np.sum(scores[:, 1:] >= scores[:, :1], axis=1)
    return {"top1": float(np.mean(ranks == 1)), "mean_rank": float(np.mean(ranks)), "queries": int(len(queries)),
            "rank_sd": float(np.std(ranks))}


def nearest_neighbours(query_embeddings, embeddings, sentences, k=5):
    """For each query row, the `k` most cosine-similar `sentences` as `[(sentence, similarity), ...]`."""
    scores = _normalise(np.asarray(query_embeddings, "float32")) @ _normalise(np.asarray(embeddings, "float32")).T
    top = np.argsort(-scores, axis=1)[:, :k]
    return [[(sentences[j], float(scores[i, j])) for j in row] for i, row in enumerate(top)]


def write_neighbours(path, encode, splits, queries=None, k=5, max_pool=20000):
    """Writes the nearest training sentences of a few query sentences (default: some written queries and the first
    held-out test sentences) to `path` as JSON; returns the list written."""
    pool = splits.train.sentences[:max_pool]
    queries = list(queries or (*DEFAULT_QUERIES, *splits.test.sentences[:5]))
    neighbours = nearest_neighbours(embed(encode, queries), embed(encode, pool), pool, k=k)
    result = [
        {"query": query, "neighbours": [{"sentence": s, "cosine": round(c, 4)} for s, c in rows]}
        for query, rows in zip(queries, neighbours)
    ]
    Path(path).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result


def evaluate_sentence_encoder(
    encode, splits, query_encode=None, candidate_encode=None, seed=0, max_train=None, num_candidates=NUM_CANDIDATES
):
    """The book probe (linear and kNN) and next-sentence retrieval for an encoder `strings -> [n, d]`.

    Retrieval uses the cosine of `encode`'s embeddings; when `query_encode` and `candidate_encode` are given, also a
    model's own scorer `query_encode(s) . candidate_encode(c)` (Quick-thought's f and g; `retrieval_results`).
    """
    train, train_labels = probe_training_set(splits, max_train)
    train_z, test_z = embed(encode, train), embed(encode, splits.test.sentences)
    result = {
        "probe_accuracy": linear_probe_accuracy(train_z, train_labels, test_z, splits.test.labels, seed=seed),
        "knn_accuracy": knn_accuracy(train_z, train_labels, test_z, splits.test.labels),
    }
    result.update(retrieval_results(test_z, splits.test, query_encode, candidate_encode, seed=seed,
                                    num_candidates=num_candidates))
    return result


def retrieval_results(embeddings, split, query_encode=None, candidate_encode=None, seed=0,
                      num_candidates=NUM_CANDIDATES):
    """`{"retrieval_top1", "retrieval_mean_rank"}` by the cosine of `embeddings` (`[n, d]`, `split.sentences`
    embedded by the encoder's `encode`), plus `{"scorer_top1", "scorer_mean_rank"}` by the model's own scorer
    `query_encode(s) . candidate_encode(c)` when both are given (on the same queries and candidates)."""
    cosine = next_sentence_retrieval(embeddings, embeddings, split, num_candidates=num_candidates, seed=seed)
    result = {"retrieval_top1": cosine["top1"], "retrieval_mean_rank": cosine["mean_rank"]}
    if query_encode is not None and candidate_encode is not None:
        scorer = next_sentence_retrieval(embed(query_encode, split.sentences), embed(candidate_encode, split.sentences),
                                         split, num_candidates=num_candidates, seed=seed, similarity="dot")
        result.update({"scorer_top1": scorer["top1"], "scorer_mean_rank": scorer["mean_rank"]})
    return result


def tfidf_vectorizer(train_sentences, max_features=50000):
    """Sublinear word TF-IDF fitted on the training sentences."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, max_features=max_features).fit(train_sentences)


def evaluate_tfidf(splits, embedding_dim=None, seed=0, max_train=None, num_candidates=NUM_CANDIDATES):
    """The same protocols on TF-IDF features: full sparse vectors, or their LSA projection to `embedding_dim`."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.linear_model import LogisticRegression

    train, train_labels = probe_training_set(splits, max_train)
    vectorizer = tfidf_vectorizer(train)
    train_x, test_x = vectorizer.transform(train), vectorizer.transform(splits.test.sentences)
    if embedding_dim:
        svd = TruncatedSVD(n_components=min(embedding_dim, train_x.shape[1] - 1), random_state=seed).fit(train_x)
        train_z, test_z = svd.transform(train_x).astype("float32"), svd.transform(test_x).astype("float32")
        probe = linear_probe_accuracy(train_z, train_labels, test_z, splits.test.labels, seed=seed)
        knn = knn_accuracy(train_z, train_labels, test_z, splits.test.labels)
        retrieval = next_sentence_retrieval(test_z, test_z, splits.test, num_candidates=num_candidates, seed=seed)
    else:
        classifier = LogisticRegression(max_iter=1000, random_state=seed).fit(train_x, train_labels)
        probe = float(classifier.score(test_x, splits.test.labels))
        knn = _sparse_knn_accuracy(train_x, train_labels, test_x, splits.test.labels)
        retrieval = next_sentence_retrieval(test_x, test_x, splits.test, num_candidates=num_candidates, seed=seed)
    return {
        "probe_accuracy": probe,
        "knn_accuracy": knn,
        "retrieval_top1": retrieval["top1"],
        "retrieval_mean_rank": retrieval["mean_rank"],
    }


def _sparse_knn_accuracy(train_x, train_labels, test_x, test_labels, k=10):
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute")
    return float(knn.fit(train_x, np.asarray(train_labels)).score(test_x, np.asarray(test_labels)))


def _is_sparse(matrix):
    return hasattr(matrix, "tocsr")


def _as_rows(matrix):
    return matrix.tocsr() if _is_sparse(matrix) else np.asarray(matrix, dtype="float32")


def _normalise(matrix):
    if _is_sparse(matrix):
        from sklearn.preprocessing import normalize

        return normalize(matrix)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _sparse_scores(query, pool, candidates):
    scores = np.empty(candidates.shape, dtype="float32")
    for row in range(len(candidates)):
        scores[row] = (pool[candidates[row]] @ query[row].T).toarray().ravel()
    return scores


# ----------------------------------------------------------------------------------------------------------------
# Transfer probes on the large corpus (keras_ae.data.corpus), the same for every training corpus

TRANSFER_PROBES = ("book", "genre", "topic", "topic_validation")
NOVEL_SOURCES = ("austen", "novels")
GENRE_PER_SOURCE = {"train": 2500, "test": 1000}
TOPICS, TOPIC_SENTENCES = 12, 3
TOPIC_ITEMS = {"train": 6000, "test": 2000, "validation": 2000}


def transfer_probe_data(corpus, max_train=10000, seed=0):
    """The fixed transfer probes on the held-out data of `corpus` (`keras_ae.data.corpus.load_corpus("all")`).

    Returns `{"book" | "genre" | "topic": (train_items, train_labels, test_items, test_labels), "retrieval": split}`;
    an item is a tuple of sentences (one sentence, or a package description's first `TOPIC_SENTENCES`):
    - book: which of the novels (Austen's six and the other four) a sentence comes from; probe trained on an even
      spread of `max_train` training sentences, tested on all held-out ones;
    - genre: the source corpus (novels, Austen, the Bible, package descriptions) of a sentence, `GENRE_PER_SOURCE`
      sentences of each source drawn with `seed` (chance 1 / 4);
    - topic: the Debian section of a package description, among the `TOPICS` most frequent sections of the training
      descriptions, for descriptions of source packages never seen in training (`split_by_source`);
    - topic_validation: the same probe (the same training items) tested on the descriptions of the validation split's
      source packages instead of the test split's, for choosing a setting without the test items (drawn with a
      generator of its own, so the other probes' draws are as without it; absent when the validation split has none);
    - retrieval: the held-out novels as a `SentenceSplit`, for `next_sentence_retrieval`;
    - validation: the same probes on the validation split, a dict shaped like this one (`"book"`, `"genre"`,
      `"topic"` when `topic_validation` exists, `"retrieval"`: the validation novels), for `evaluate_transfer` and
      `evaluate_transfer_tfidf`: choosing a checkpoint or setting without the test items (`margins_over`).
    """
    rng = np.random.default_rng(seed)
    names = corpus.source_names
    novel_ids = [names.index(source) for source in NOVEL_SOURCES if source in names]
    data = {}
    book = {split: _subsplit(getattr(corpus, split), np.isin(getattr(corpus, split).sources, novel_ids))
            for split in ("train", "test")}
    train = book["train"]
    spread = np.linspace(0, len(train) - 1, min(max_train, len(train))).round().astype(int)
    data["book"] = ([(train.sentences[i],) for i in spread], train.labels[spread],
                    [(s,) for s in book["test"].sentences], book["test"].labels)
    genre = []
    for split in ("train", "test"):
        part = getattr(corpus, split)
        chosen = np.concatenate([
            rng.permutation(np.nonzero(part.sources == source)[0])[: GENRE_PER_SOURCE[split]]
            for source in range(len(names))
        ])
        genre += [[(part.sentences[i],) for i in chosen], part.sources[chosen]]
    data["genre"] = tuple(genre)
    validation = _validation_probes(corpus, data, novel_ids, np.random.default_rng([seed, 2]))
    if "packages" in names:
        topic = _topic_items(corpus, names.index("packages"), {"train": rng, "test": rng,
                                                               "validation": np.random.default_rng([seed, 1])})
        data["topic"] = topic["train"] + topic["test"]
        if len(topic["validation"][0]):
            data["topic_validation"] = topic["train"] + topic["validation"]
            validation["topic"] = data["topic_validation"]
    data["retrieval"] = book["test"]
    data["validation"] = validation
    return data


def _validation_probes(corpus, data, novel_ids, rng):
    """The book and genre probes (their training items) tested on the validation split instead, and retrieval on
    its novels: `transfer_probe_data`'s `"validation"`, drawn with `rng` of its own (the test draws are unchanged)."""
    part = corpus.validation
    novels = _subsplit(part, np.isin(part.sources, novel_ids))
    chosen = np.concatenate([rng.permutation(np.nonzero(part.sources == source)[0])[: GENRE_PER_SOURCE["test"]]
                             for source in range(len(corpus.source_names))])
    return {
        "book": data["book"][:2] + ([(s,) for s in novels.sentences], novels.labels),
        "genre": data["genre"][:2] + ([(part.sentences[i],) for i in chosen], part.sources[chosen]),
        "retrieval": novels,
    }


def _subsplit(split, keep):
    from keras_ae.data.text import SentenceSplit

    index = np.nonzero(keep)[0]
    return SentenceSplit([split.sentences[i] for i in index], split.labels[index], split.segments[index],
                         split.sources[index])


def _topic_items(corpus, source, generators):
    """`{split: (items, labels)}` of the topic probe for the train, test and validation splits, each split's items
    drawn with `generators[split]` (train first, then test: the draws of the probe as it was before validation)."""
    items = {}
    for split in ("train", "test", "validation"):
        part = getattr(corpus, split)
        by_document = {}
        for i in np.nonzero(part.sources == source)[0]:
            sentences = by_document.setdefault(int(part.labels[i]), [])
            if len(sentences) < TOPIC_SENTENCES:
                sentences.append(part.sentences[i])
        items[split] = [(tuple(sentences), corpus.topics[document]) for document, sentences in by_document.items()]
    counts = {}
    for _, topic in items["train"]:
        counts[topic] = counts.get(topic, 0) + 1
    topics = sorted(counts, key=lambda topic: (-counts[topic], topic))[:TOPICS]
    result = {}
    for split in ("train", "test", "validation"):
        kept = [(sentences, topics.index(topic)) for sentences, topic in items[split] if topic in topics]
        kept = [kept[i] for i in np.sort(generators[split].permutation(len(kept))[: TOPIC_ITEMS[split]])]
        result[split] = ([sentences for sentences, _ in kept], np.asarray([label for _, label in kept], "int64"))
    return result


def embed_items(encode, items):
    """The mean embedding of each item's sentences (`items`: a list of tuples of strings)."""
    flat = [sentence for item in items for sentence in item]
    owners = np.repeat(np.arange(len(items)), [len(item) for item in items])
    z = embed(encode, flat)
    sums = np.zeros((len(items), z.shape[1]), "float32")
    np.add.at(sums, owners, z)
    return sums / np.bincount(owners, minlength=len(items))[:, None]


def transfer_probe(encode, data, probe, seed=0, features=None):
    """Linear-probe accuracy of an encoder `strings -> [n, d]` on one transfer probe of `data` (`"book"`, `"genre"`,
    `"topic"` or `"topic_validation"`, see `transfer_probe_data`). `features`: a dict that keeps each item list's
    embeddings across calls (the two topic probes share their training items)."""
    features = {} if features is None else features

    def embedded(items):
        if id(items) not in features:
            features[id(items)] = embed_items(encode, items)
        return features[id(items)]

    train_items, train_labels, test_items, test_labels = data[probe]
    return linear_probe_accuracy(embedded(train_items), train_labels, embedded(test_items), test_labels, seed=seed)


def evaluate_transfer(encode, data, query_encode=None, candidate_encode=None, seed=0,
                      num_candidates=NUM_CANDIDATES):
    """Linear-probe accuracy on each transfer probe of `data` (`transfer_probe_data`) and next-sentence retrieval
    (top-1, mean rank) for an encoder `strings -> [n, d]`: by the cosine of `encode`, and also by the model's own
    scorer when `query_encode` and `candidate_encode` are given (`retrieval_results`)."""
    features = {}  # the two topic probes embed their shared training items once
    result = {f"{probe}_probe": transfer_probe(encode, data, probe, seed=seed, features=features)
              for probe in TRANSFER_PROBES if probe in data}
    split = data["retrieval"]
    result.update(retrieval_results(embed(encode, split.sentences), split, query_encode, candidate_encode, seed=seed,
                                    num_candidates=num_candidates))
    return result


def evaluate_transfer_tfidf(data, embedding_dim=None, seed=0, num_candidates=NUM_CANDIDATES, standard_errors=False):
    """`evaluate_transfer` on TF-IDF features (fitted on each probe's training items): the full sparse vectors
    (logistic regression on them) or their LSA projection to `embedding_dim` (standardised linear probe).
    `standard_errors`: each score's standard error too, as `<score>_se` (binomial for the accuracies and top-1, the
    ranks' standard deviation over the square root of the queries for the mean rank), for `margins_over`."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.linear_model import LogisticRegression

    def features(train_texts, *others):
        vectorizer = tfidf_vectorizer(train_texts)
        matrices = [vectorizer.transform(texts) for texts in (train_texts, *others)]
        if not embedding_dim:
            return matrices
        svd = TruncatedSVD(n_components=min(embedding_dim, matrices[0].shape[1] - 1), random_state=seed)
        svd.fit(matrices[0])
        return [svd.transform(matrix).astype("float32") for matrix in matrices]

    result = {}
    for probe in TRANSFER_PROBES:
        if probe in data:
            train_items, train_labels, test_items, test_labels = data[probe]
            train_x, test_x = features([" ".join(item) for item in train_items], [" ".join(i) for i in test_items])
            if embedding_dim:
                accuracy = linear_probe_accuracy(train_x, train_labels, test_x, test_labels, seed=seed)
            else:
                classifier = LogisticRegression(max_iter=1000, random_state=seed).fit(train_x, train_labels)
                accuracy = float(classifier.score(test_x, test_labels))
            result[f"{probe}_probe"] = accuracy
            if standard_errors:
                result[f"{probe}_probe_se"] = _binomial_se(accuracy, len(test_labels))
    split = data["retrieval"]
    (z,) = features(split.sentences)
    retrieval = next_sentence_retrieval(z, z, split, num_candidates=num_candidates, seed=seed)
    result.update({"retrieval_top1": retrieval["top1"], "retrieval_mean_rank": retrieval["mean_rank"]})
    if standard_errors:
        result["retrieval_top1_se"] = _binomial_se(retrieval["top1"], retrieval["queries"])
        result["retrieval_mean_rank_se"] = retrieval["rank_sd"] / np.sqrt(retrieval["queries"])
    return result


def _binomial_se(accuracy, count):
    return float(np.sqrt(accuracy * (1.0 - accuracy) / count))


# +1: higher is better; -1: lower is better
MARGIN_SCORES = {"book_probe": 1, "genre_probe": 1, "topic_probe": 1, "retrieval_top1": 1, "retrieval_mean_rank": -1}


def margins_over(scores, reference):
    """How far `scores` (an `evaluate_transfer` result) are above `reference` (`evaluate_transfer_tfidf(...,
    standard_errors=True)` on the same probes, e.g. TF-IDF + LSA at the same size) on each score of `MARGIN_SCORES`
    it has, in the reference's standard errors: `{"<score>_margin": ..., "worst_margin": the smallest,
    "probes_above": how many margins are 0 or more, "selection": probes_above + worst / (1 + |worst|)}`.
    `selection` ranks checkpoints by the probes they have at or above the reference first, then by the worst margin
    (which moves it by less than one probe), so choosing by it never trades a probe below the reference for a
    better worst probe; above `len(margins) - 1` it is above the reference on every probe.

    Example:
        reference = evaluate_transfer_tfidf(data["validation"], 128, standard_errors=True)
        margins_over(evaluate_transfer(model.encode, data["validation"]), reference)["selection"]  # 3 - 0.76
    """
    margins = {f"{score}_margin": sign * (scores[score] - reference[score]) / max(reference[f"{score}_se"], 1e-9)
               for score, sign in MARGIN_SCORES.items() if score in reference}
    worst = min(margins.values())
    above = sum(margin >= 0 for margin in margins.values())
    return {**margins, "worst_margin": worst, "probes_above": above, "selection": above + worst / (1 + abs(worst))}


HELD_OUT_PER_SOURCE = 2000


def held_out_sample(split, per_source=HELD_OUT_PER_SOURCE):
    """The first `per_source` sentences (reading order) of each source of a held-out `split` (one source when it has
    no `sources`), as one split whose `sources` are set."""
    from keras_ae.data.text import SentenceSplit

    if split.sources is None:
        split = SentenceSplit(split.sentences, split.labels, split.segments, np.zeros(len(split), "int64"))
    keep = np.zeros(len(split), bool)
    for source in np.unique(split.sources):
        keep[np.nonzero(split.sources == source)[0][:per_source]] = True
    return _subsplit(split, keep)


def neighbour_picks_by_source(model, batches, sources, source_names):
    """Quick-thought's judge on held-out text, source by source: `{"<source>_loss": softmax cross-entropy per true
    neighbour, "<source>_accuracy": share of true neighbours picked right}` (`neighbour_classification_losses`).

    `batches`: a list of `model.prepare_batch` batches (with `documents`) of held-out sentences, e.g. of
    `make_contiguous_dataset(held_out_sample(split), ..., chunk_size=20)`, mixed like the training batches, so each
    pick has the training's kind of negatives; `sources[d]`: the source index of document `d`. Without labels, this
    tells whether the judge's own task still generalises to unseen documents of each source (an overfitting signal
    per source, e.g. package descriptions of unseen source packages).
    """
    from keras_ae.layers.judges.neighbour_classifier import neighbour_classification_losses

    window = model.context_window

    @tf.function
    def picks(batch):
        (query, context), _, _ = model.forward(batch, training=False)
        losses, count, right = neighbour_classification_losses(query, context, batch["positions"], window)
        return losses * float(window), count, right

    sums = np.zeros((3, len(source_names)))
    for batch in batches:
        loss, count, right = (value.numpy() for value in picks(batch))
        owner = sources[batch["documents"].numpy()]
        for row, value in enumerate((loss, count, right)):
            np.add.at(sums[row], owner, value)
    result = {}
    for index, name in enumerate(source_names):
        picked = max(sums[1, index], 1.0)
        result[f"{name}_loss"] = float(sums[0, index] / picked)
        result[f"{name}_accuracy"] = float(sums[2, index] / picked)
    return result
