"""Why a trained sentence encoder loses the transfer probes to TF-IDF + LSA: cheap diagnostics on a finished run.

    python benchmarks/sentence_probe_diagnostics.py runs/quick_thought          # a run of --corpus all
    python benchmarks/sentence_probe_diagnostics.py runs/skip_thought --only model
    python benchmarks/sentence_probe_diagnostics.py --vocabulary-size 16000 --only tokens --only lexical \
        --split validation       # no run: what a vocabulary of this size keeps (the recipe's learner)

Loads the newest checkpoint of the run folder (finished or `.partial`) and prints the probe table of
`keras_ae.evaluation.sentences.evaluate_transfer` (book, genre, topic, retrieval by cosine) for:
- **model**: what `encode` returns (Quick-thought: `[f(s), g(s)]`, the paper's embedding), each half alone
  (Quick-thought), the encoder reading `--long` tokens instead of the trained `max_length` (the same weights; shows
  what truncation costs), and the mean of the model's own word-piece embeddings (no GRU: how much of a probe a bag of
  its pieces already carries);
- **lexical** baselines: TF-IDF of words, full and LSA to 64 / 128 / 256, and TF-IDF of the model's word pieces
  (its vocabulary), all pieces or only the first `max_length` (what the encoder sees), full and LSA to 128;
- **regularisation**: the probe's inverse regularisation C chosen by 3-fold cross-validation on the probe's
  training items (C in 0.01 .. 10) instead of the default C = 1, for `encode` and LSA 128;
- **tokens**: what the encoder's tokenizer makes of the probes' held-out text (novels of the retrieval probe, the
  genre probe's test items, the topic probe's package descriptions): tokens per sentence before truncation, the
  share of sentences longer than `max_length`, and the share of tokens that are out of vocabulary (whole words the
  vocabulary lacks, or `[UNK]` pieces), and the share of its words kept as one token, split into pieces or lost
  (`[UNK]`, or out of a word vocabulary), on the same text, also on the topic probe's training descriptions;
- **names**: full TF-IDF of only the capitalised words of each text (names, places, sentence starts) and of the
  rest: how topical (lexical) each probe's classes are;
- **protocol**: TF-IDF + LSA 128 under the encoders' own conditions, one condition at a time. The baseline rows fit
  TF-IDF and LSA on each probe's own training items (for topic: 6,000 package descriptions, so all 128 directions
  are spent on them) and read a description as one text; an encoder is trained on the whole corpus (four sources)
  and a description is the mean of its sentences' embeddings. Rows: the probe-fitted LSA reading the mean of the
  sentence vectors; LSA fitted on `--fit-sentences` training sentences of the corpus (no labels, the encoders'
  data), joined and as the mean; and that last one on the model's own pieces cut at its `max_length` (the encoder's
  view of the text exactly);
- **weighting**: each token weighted by `a / (a + p(token))` (p: its frequency in `--fit-sentences` training
  sentences; Arora et al., 2017, "A Simple but Tough-to-Beat Baseline for Sentence Embeddings", without their
  first-component removal), as TF-IDF weights rare words, applied after training to the mean of the model's own piece
  embeddings and to the mean of its GRU states (`encode` with weighted instead of plain mean pooling): whether the
  encoder's vectors hold the topic and its plain mean dilutes it with frequent tokens.
The probes, seeds and data are the recipes' (`transfer_probe_data(load_corpus("all"), seed)`); `--split validation`
reads every probe on the validation split instead (`transfer_probe_data(...)["validation"]`, the probes
`--select-on-probes` chooses on: the same training items, validation sentences and packages), for choosing a setting
without the test items. Without a run folder, `--vocabulary-size N` builds the WordPiece vocabulary the recipes would
(`build_wordpiece_vocabulary` of the corpus's training sentences) and an untrained encoder reading it, for the
groups that need only the tokenizer (lexical, tokens, protocol): what a larger vocabulary would keep, before
training with it.
"""

import argparse
import importlib
import json
import re
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.config import constructor_default
from keras_ae.core.validation import positive_int
from keras_ae.data.corpus import load_corpus
from keras_ae.data.text import build_wordpiece_vocabulary
from keras_ae.evaluation.sentences import (
    TRANSFER_PROBES,
    embed_items,
    evaluate_transfer,
    evaluate_transfer_tfidf,
    transfer_probe_data,
)
from keras_ae.layers.encoders.gru_sentence_encoder import (
    GRUSentenceEncoder,
    count_token_frequencies,
    standardize_text,
)
from keras_ae.models.quick_thought import QuickThought
from keras_ae.recipes.text_recipe import MIN_PIECE_COUNT, VOCABULARY_SENTENCES
from keras_ae.runs import CHECKPOINT_FOLDER, checkpoints

C_GRID = (0.01, 0.1, 1.0, 10.0)
COLUMNS = ("book_probe", "genre_probe", "topic_probe", "retrieval_top1", "retrieval_mean_rank")
GROUPS = ("model", "lexical", "regularisation", "names", "tokens", "protocol", "weighting")
TOKENIZER_GROUPS = ("lexical", "tokens", "protocol", "names")  # need no trained weights (names: no model at all)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", help="a sentence recipe's run folder (--corpus all)")
    parser.add_argument("--vocabulary-size", type=positive_int,
                        help="instead of a run: the recipes' WordPiece vocabulary of this size, learned from the "
                        "corpus's training sentences, read by an untrained encoder (groups lexical, tokens, "
                        "protocol, names only)")
    parser.add_argument("--min-piece-count", type=positive_int, default=MIN_PIECE_COUNT,
                        help="with --vocabulary-size: the learner's lowest count (the recipes' --min-piece-count)")
    parser.add_argument("--vocabulary-sentences", type=positive_int, default=VOCABULARY_SENTENCES,
                        help="with --vocabulary-size: the learner's sample (the recipes' --vocabulary-sentences)")
    parser.add_argument("--max-length", type=positive_int, default=constructor_default(QuickThought, "max_length"),
                        help="with --vocabulary-size: the encoder's max_length (default: Quick-thought's)")
    parser.add_argument("--split", choices=["test", "validation"], default="test",
                        help="the probes' held-out split: test (the tables') or validation (for choosing a setting)")
    parser.add_argument("--only", choices=GROUPS, action="append", help="only these groups of rows (default: all)")
    parser.add_argument("--long", type=int, default=60, help="tokens the encoder reads in the long-input row")
    parser.add_argument("--seed", type=int, default=0, help="the probes' seed (the recipe's --seed)")
    parser.add_argument("--fit-sentences", type=int, default=50000,
                        help="training sentences of the corpus (an even spread) the protocol rows' LSA is fitted on")
    parser.add_argument("--output", help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    if (args.run_dir is None) == (args.vocabulary_size is None):
        parser.error("give a run folder or --vocabulary-size N (a vocabulary without a run), one of them.")
    if args.vocabulary_size is not None:
        needs_weights = [group for group in args.only or GROUPS if group not in TOKENIZER_GROUPS]
        if args.only is None:
            args.only = list(TOKENIZER_GROUPS)
        elif needs_weights:
            parser.error(f"--only {' / '.join(needs_weights)} reads a trained model's weights: give a run folder, or "
                         f"only {', '.join(TOKENIZER_GROUPS)} with --vocabulary-size.")
    return args


def load_run_model(run_dir):
    """The model of a run folder at its newest checkpoint, and the run's flags."""
    folder = Path(run_dir)
    if not (folder / "config.json").is_file():
        folder = folder.with_name(folder.name + ".partial")
    config = json.loads((folder / "config.json").read_text())
    module_name, class_name = config["model_class"].rsplit(".", 1)
    model = getattr(importlib.import_module(module_name), class_name).from_config(config["model"])
    epoch, path = checkpoints(folder / CHECKPOINT_FOLDER)[0]
    model.load_weights(path)
    print(f"{folder}: {class_name} at epoch {epoch}")
    return model, config["flags"]


def vocabulary_encoder(corpus, size, max_length, min_count, sentences):
    """`{"encoder": GRUSentenceEncoder}` (untrained) reading the WordPiece vocabulary the recipes would learn from
    `corpus`'s training sentences with `--vocabulary-size size --min-piece-count min_count --vocabulary-sentences
    sentences`."""
    started = time.perf_counter()
    vocabulary = build_wordpiece_vocabulary(corpus.train.sentences, size=size, max_sentences=sentences,
                                            min_count=min_count)
    print(f"WordPiece vocabulary of {size} requested pieces: {len(vocabulary)} learned in "
          f"{time.perf_counter() - started:.0f} s")
    return {"encoder": GRUSentenceEncoder(vocabulary, tokenizer="wordpiece", max_length=max_length)}


def probes_in(data):
    """The transfer probes `data` holds (the validation split has no `topic_validation`)."""
    return [probe for probe in TRANSFER_PROBES if probe in data]


def encoders(model):
    """`{name: GRUSentenceEncoder}` of a model: Quick-thought's f and g, or Skip-thought's one encoder."""
    if hasattr(model, "query_encoder"):
        return {"f": model.query_encoder, "g": model.context_encoder}
    return {"encoder": model.encoder}


def long_tokens(encoder, sentences, length):
    pieces = encoder.wordpiece.tokenize(standardize_text(sentences))[:, :length]
    return pieces.to_tensor(default_value=0, shape=[None, length])


def model_rows(model, data, args):
    parts = encoders(model)
    rows = {"encode (as exported)": model.encode}
    if len(parts) > 1:
        rows.update({f"{name} only": part for name, part in parts.items()})
    wordpiece = all(part.tokenizer == "wordpiece" for part in parts.values())
    if wordpiece:
        rows[f"encode reading {args.long} tokens"] = lambda s: tf.concat(
            [part.encode_tokens(long_tokens(part, s, args.long)) for part in parts.values()], axis=-1)

    def bag_of_pieces(sentences):
        halves = []
        for part in parts.values():
            ids = part.tokenize(sentences)
            mask = tf.cast(ids > 0, tf.float32)[:, :, None]
            halves.append(tf.reduce_sum(part.word_embedding(ids) * mask, 1) / tf.maximum(tf.reduce_sum(mask, 1), 1.0))
        return tf.concat(halves, axis=-1)

    rows["mean of its piece embeddings (no GRU)"] = bag_of_pieces
    return {name: evaluate_transfer(encode, data, seed=args.seed) for name, encode in rows.items()}, parts


def piece_texts(encoder, texts, length=None):
    """Each text as the space-joined word pieces the encoder's tokenizer gives it (the first `length` only)."""
    out = []
    for start in range(0, len(texts), 2048):
        ids = encoder.wordpiece.tokenize(standardize_text(tf.constant(texts[start:start + 2048])))
        if length:
            ids = ids[:, :length]
        out += [" ".join(f"p{i}" for i in row) for row in ids.to_list()]
    return out


def lexical_rows(data, parts, args):
    rows = {"TF-IDF words, full": evaluate_transfer_tfidf(data, seed=args.seed)}
    for dim in (64, 128, 256):
        rows[f"TF-IDF words, LSA {dim}"] = evaluate_transfer_tfidf(data, dim, seed=args.seed)
    encoder = next(iter(parts.values()))
    if encoder.tokenizer != "wordpiece":
        return rows
    for length, what in ((None, "all pieces"), (encoder.max_length, f"first {encoder.max_length} pieces")):
        pieces = {}
        for probe in probes_in(data):
            train_items, train_labels, test_items, test_labels = data[probe]
            # each sentence of an item truncated on its own, so a topic item keeps its 3 truncated sentences
            pieces[probe] = (_item_pieces(encoder, train_items, length), train_labels,
                             _item_pieces(encoder, test_items, length), test_labels)
        split = data["retrieval"]
        pieces["retrieval"] = split.__class__(piece_texts(encoder, list(split.sentences), length), split.labels,
                                              split.segments, split.sources)
        rows[f"TF-IDF of its {what}, full"] = evaluate_transfer_tfidf(pieces, seed=args.seed)
        rows[f"TF-IDF of its {what}, LSA 128"] = evaluate_transfer_tfidf(pieces, 128, seed=args.seed)
    return rows


def _item_pieces(encoder, items, length):
    flat = piece_texts(encoder, [sentence for item in items for sentence in item], length)
    out, start = [], 0
    for item in items:
        out.append(tuple(flat[start:start + len(item)]))
        start += len(item)
    return out


def chosen_c_probe(train_x, train_y, test_x, test_y, seed):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def probe(c):
        return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000, random_state=seed))

    scores = {c: cross_val_score(probe(c), train_x, train_y, cv=3).mean() for c in C_GRID}
    best = max(scores, key=scores.get)
    return float(probe(best).fit(train_x, train_y).score(test_x, test_y)), best


def regularisation_rows(model, data, args):
    from sklearn.decomposition import TruncatedSVD

    from keras_ae.evaluation.sentences import tfidf_vectorizer

    rows = {}
    for name in ("encode (as exported)", "TF-IDF words, LSA 128"):
        row = {}
        for probe in probes_in(data):
            train_items, train_labels, test_items, test_labels = data[probe]
            if name.startswith("encode"):
                train_x, test_x = embed_items(model.encode, train_items), embed_items(model.encode, test_items)
            else:
                texts = [" ".join(item) for item in train_items]
                vectorizer = tfidf_vectorizer(texts)
                svd = TruncatedSVD(128, random_state=args.seed).fit(vectorizer.transform(texts))
                train_x = svd.transform(vectorizer.transform(texts))
                test_x = svd.transform(vectorizer.transform([" ".join(item) for item in test_items]))
            accuracy, c = chosen_c_probe(train_x, train_labels, test_x, test_labels, args.seed)
            row[f"{probe}_probe"], row[f"{probe}_C"] = accuracy, c
        rows[f"{name}, C by 3-fold CV"] = row
    return rows


CAPITALISED = re.compile(r"\b[A-Z]\w*")


def _keep_words(text, capitalised):
    words = text.split()
    return " ".join(w for w in words if bool(CAPITALISED.match(w)) == capitalised) or "_"


def name_rows(data, args):
    rows = {}
    for capitalised, what in ((True, "only capitalised words"), (False, "without capitalised words")):
        kept = {probe: ([tuple(_keep_words(s, capitalised) for s in item) for item in data[probe][0]], data[probe][1],
                        [tuple(_keep_words(s, capitalised) for s in item) for item in data[probe][2]], data[probe][3])
                for probe in probes_in(data)}
        split = data["retrieval"]
        kept["retrieval"] = split.__class__([_keep_words(s, capitalised) for s in split.sentences], split.labels,
                                            split.segments, split.sources)
        rows[f"TF-IDF words, {what}, full"] = evaluate_transfer_tfidf(kept, seed=args.seed)
    return rows


def lsa_features(texts, dim=128, seed=0):
    """`texts -> [n, dim]`: sublinear TF-IDF and LSA fitted (no labels) on `texts`."""
    from sklearn.decomposition import TruncatedSVD

    from keras_ae.evaluation.sentences import tfidf_vectorizer

    vectorizer = tfidf_vectorizer(texts)
    svd = TruncatedSVD(dim, random_state=seed).fit(vectorizer.transform(texts))
    return lambda batch: svd.transform(vectorizer.transform(batch)).astype("float32")


def featurizer_scores(featurize, data, joined, seed, probes=None):
    """The transfer table for a numpy `featurize(texts) -> [n, d]`: a multi-sentence item is featurized as one
    joined text (`joined`) or as the mean of its sentences' vectors (what `embed_items` does for an encoder)."""
    from keras_ae.evaluation.probes import linear_probe_accuracy
    from keras_ae.evaluation.sentences import next_sentence_retrieval

    def items(texts):
        if joined:
            return featurize([" ".join(item) for item in texts])
        flat = featurize([sentence for item in texts for sentence in item])
        owners = np.repeat(np.arange(len(texts)), [len(item) for item in texts])
        sums = np.zeros((len(texts), flat.shape[1]), "float32")
        np.add.at(sums, owners, flat)
        return sums / np.bincount(owners, minlength=len(texts))[:, None]

    row = {}
    for probe in probes or probes_in(data):
        train_items, train_labels, test_items, test_labels = data[probe]
        row[f"{probe}_probe"] = linear_probe_accuracy(items(train_items), train_labels, items(test_items),
                                                      test_labels, seed=seed)
    if "retrieval" not in data:
        return row
    split = data["retrieval"]
    z = featurize(list(split.sentences))
    retrieval = next_sentence_retrieval(z, z, split, seed=seed)
    return {**row, "retrieval_top1": retrieval["top1"], "retrieval_mean_rank": retrieval["mean_rank"]}


def protocol_rows(data, parts, corpus, args):
    encoder = next(iter(parts.values()))
    row = {}
    for probe in probes_in(data):  # fitted on each probe's own training items, like the baseline rows
        featurize = lsa_features([" ".join(item) for item in data[probe][0]], seed=args.seed)
        row.update(featurizer_scores(featurize, {probe: data[probe]}, False, args.seed, probes=(probe,)))
    rows = {"TF-IDF words, LSA 128 fitted on each probe's items, mean of sentences": row}
    train = corpus.train.sentences
    spread = np.linspace(0, len(train) - 1, min(args.fit_sentences, len(train))).round().astype(int)
    sample = [train[i] for i in spread]
    words = lsa_features(sample, seed=args.seed)
    for joined, what in ((True, "joined"), (False, "mean of sentences")):
        rows[f"TF-IDF words, LSA 128 fitted on {len(sample)} corpus sentences, {what}"] = featurizer_scores(
            words, data, joined, args.seed)
    if encoder.tokenizer == "wordpiece":
        length = encoder.max_length
        pieces = lsa_features(piece_texts(encoder, sample, length), seed=args.seed)
        rows[f"TF-IDF of its first {length} pieces, LSA 128 fitted on the corpus sentences, mean of sentences"] = (
            featurizer_scores(lambda texts: pieces(piece_texts(encoder, list(texts), length)), data, False,
                              args.seed))
    return rows


SIF_A = 1e-3  # the weighting rows' a; they divide by the weights' sum (`word_weighting="sif"`: by the length)


def weighting_rows(data, parts, corpus, args):
    """The `weighting` rows (see the module docstring)."""
    train = corpus.train.sentences
    spread = np.linspace(0, len(train) - 1, min(args.fit_sentences, len(train))).round().astype(int)
    rows = {}
    weights = {}
    for name, part in parts.items():
        ids = (part.tokenize(tf.constant([train[i] for i in spread[start:start + 2048]])).numpy()
               for start in range(0, len(spread), 2048))
        frequencies = count_token_frequencies(ids, part.vocabulary_size)
        weights[name] = tf.constant(SIF_A / (SIF_A + frequencies), tf.float32)

    def pooled(of_states, weighted=True):
        def encode(sentences):
            halves = []
            for name, part in parts.items():
                ids = part.tokenize(sentences)
                w = tf.gather(weights[name], ids) * tf.cast(ids > 0, tf.float32) if weighted else tf.cast(ids > 0,
                                                                                                        tf.float32)
                w = w[:, :, None]
                if of_states:
                    values, _ = part.token_states(ids)
                else:
                    values = part.word_embedding(ids)
                halves.append(tf.reduce_sum(values * w, 1) / tf.maximum(tf.reduce_sum(w, 1), 1e-9))
            return tf.concat(halves, axis=-1)
        return encode

    if all(part.readout == "states" and part.pooling == "mean" and part.projection is None and not part.word_skip
           for part in parts.values()):
        for weighted in (False, True):  # unweighted: `encode` itself, recomputed the same way
            rows[f"its GRU states' mean{', weighted a/(a+p)' if weighted else ''}"] = evaluate_transfer(
                pooled(True, weighted), data, seed=args.seed)
    for weighted in (False, True):
        rows[f"its piece embeddings' mean{', weighted a/(a+p)' if weighted else ''} (no GRU)"] = evaluate_transfer(
            pooled(False, weighted), data, seed=args.seed)
    return rows


def token_counts(encoder, sentences):
    """`(tokens per sentence, share longer than max_length, share of tokens out of vocabulary)` of `sentences` as
    `encoder` splits them before truncation."""
    lengths, unknown = [], 0
    known = set(encoder.vocabulary)
    for start in range(0, len(sentences), 2048):
        batch = standardize_text(tf.constant(sentences[start:start + 2048]))
        if encoder.tokenizer == "wordpiece":
            rows = encoder.wordpiece.tokenize(batch).to_list()
            unknown += sum(token == 1 for row in rows for token in row)
        else:
            rows = [[word.decode() for word in row] for row in tf.strings.split(batch).to_list()]
            unknown += sum(word not in known for row in rows for word in row)
        lengths += [len(row) for row in rows]
    lengths = np.asarray(lengths)
    return float(lengths.mean()), float((lengths > encoder.max_length).mean()), unknown / max(int(lengths.sum()), 1)


def word_splits(encoder, sentences):
    """`(whole, split, lost)`: the shares of the words of `sentences` (standardised, split at spaces, before
    truncation) that `encoder`'s tokenizer keeps as one token, splits into two or more pieces, or loses (a word with an
    `[UNK]` piece, or a word a word-level vocabulary lacks)."""
    whole = split = lost = 0
    known = set(encoder.vocabulary)
    for start in range(0, len(sentences), 2048):
        words = tf.strings.split(standardize_text(tf.constant(sentences[start:start + 2048]))).flat_values
        if encoder.tokenizer == "wordpiece":
            pieces = encoder.wordpiece.tokenize(words)
            unknown = tf.reduce_any(tf.equal(pieces, 1), axis=1).numpy()
            many = pieces.row_lengths().numpy() > 1
        else:
            unknown = np.asarray([word.decode() not in known for word in words.numpy()], bool)
            many = np.zeros_like(unknown)
        lost += int(unknown.sum())
        split += int((many & ~unknown).sum())
        whole += int((~many & ~unknown).sum())
    total = max(whole + split + lost, 1)
    return whole / total, split / total, lost / total


def token_rows(data, parts):
    encoder = next(iter(parts.values()))
    texts = {
        "novels (retrieval)": list(data["retrieval"].sentences),
        "genre held-out items": [sentence for item in data["genre"][2] for sentence in item],
        "package descriptions (topic held-out)": [sentence for item in data["topic"][2] for sentence in item],
        "package descriptions (topic training)": [sentence for item in data["topic"][0] for sentence in item],
    }
    print(f"\n{encoder.tokenizer} vocabulary {len(encoder.vocabulary)}, max_length {encoder.max_length}:")
    print(f"{'text':38s} {'sentences':>10s} {'tokens/sentence':>16s} {'truncated':>10s} {'OOV tokens':>11s} "
          f"{'words whole':>12s} {'split':>7s} {'lost':>7s}")
    for name, sentences in texts.items():
        mean, truncated, unknown = token_counts(encoder, sentences)
        whole, split, lost = word_splits(encoder, sentences)
        print(f"{name:38s} {len(sentences):10d} {mean:16.1f} {truncated:10.3f} {unknown:11.3f} {whole:12.3f} "
              f"{split:7.3f} {lost:7.3f}")


def main(argv=None):
    args = parse_args(argv)
    groups = args.only or GROUPS
    corpus = load_corpus("all", progress=False)
    if args.run_dir:
        model, flags = load_run_model(args.run_dir)
        parts = encoders(model)
    else:
        model, flags = None, {"tokens": "wordpiece", "max_length": args.max_length}
        parts = vocabulary_encoder(corpus, args.vocabulary_size, args.max_length, args.min_piece_count,
                                   args.vocabulary_sentences)
    data = transfer_probe_data(corpus, seed=args.seed)
    if args.split == "validation":
        data = data["validation"]
    rows = {}
    started = time.perf_counter()
    if "model" in groups:
        found, parts = model_rows(model, data, args)
        rows.update(found)
    if "lexical" in groups:
        rows.update(lexical_rows(data, parts, args))
    if "regularisation" in groups:
        rows.update(regularisation_rows(model, data, args))
    if "names" in groups:
        rows.update(name_rows(data, args))
    if "tokens" in groups:
        token_rows(data, parts)
    if "protocol" in groups:
        rows.update(protocol_rows(data, parts, corpus, args))
    if "weighting" in groups:
        rows.update(weighting_rows(data, parts, corpus, args))
    source = args.run_dir or f"vocabulary of {args.vocabulary_size} requested pieces"
    print(f"\n{source} ({flags.get('tokens')}, max_length {flags.get('max_length')}, seed {args.seed}, "
          f"{args.split} split); {time.perf_counter() - started:.0f} s")
    extra = sorted({key for row in rows.values() for key in row if key.endswith("_C")})
    columns = [*COLUMNS, *extra]
    print(f"{'row':52s} " + " ".join(f"{c.replace('_probe', ''):>10s}" for c in columns))
    for name, row in rows.items():
        print(f"{name:52s} " + " ".join(f"{row[c]:10.3f}" if c in row else f"{'-':>10s}" for c in columns))
    if args.output:
        Path(args.output).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
