"""Summaries judged against references that training never paired with their documents: ROUGE-1/2/L F1, beside
extractive baselines; readability as perplexity under an n-gram language model of held-out real summaries; and
the share of outputs that only copy the document's first words.

Example:
    scores = rouge(predictions, references)                     # {"rouge1": 23.1, "rouge2": 7.4, "rougeL": 21.9}
    lm = SummaryLanguageModel(real_summaries)                   # held-out summaries, never trained on
    lm.perplexity(predictions), first_words_share(documents, predictions)
    lm.perplexity_per_word(predictions)     # the same surprisal over the words as written: "fd-lock" is one word
    split_perplexity_gap(bits, tokens, base_bits, base_tokens)   # {"difference", "words", "length"} of a gap
    perplexity_differences(lm, {"ablation": ablation, "full": full})  # the gap with a 5-95% bootstrap interval
    lead(documents, n=6), first_clause(documents)               # baselines
    predictions = summarize(model, documents)                   # a TextLatent's greedy summaries
    graph_function(model, "summarize")       # the tf.function summarize uses: one trace per model and configuration
    summary_row(documents, predictions, references, lm)        # all of the above, one table row
    model.fit(..., callbacks=[RougeCurve(validation_documents, validation_references)])   # val_rouge1 per epoch
    code_dependence(model, documents)       # reconstruction loss from the model's own summary, another's, none
    critic_auc(model, documents, real_summaries)               # P(D(real) > D(generated)), 0.5: no difference
    critic_ranking(model, documents, real_summaries)  # the same, on equal-length pairs only, and by length alone

Protocol (fixed): ROUGE is Google's `rouge-score` (a reimplementation of ROUGE-1.5.5) with Porter stemming, F1
averaged over the test pairs, times 100. The language model is `nltk.lm`'s interpolated Witten-Bell trigram
model over lower-cased words, trained on real summaries that no model trained on; words seen once in it map to
`<UNK>`, so unseen words get the unknown word's probability instead of zero. The perplexity is per scored token
(every n-gram of the padded text, the end symbols included), the usual measure and the one the readability target
reads; `perplexity_per_word` divides the same surprisal by the words as the summary writes them (split at spaces)
instead, so that summaries of equally many written words compare by their surprisal alone. An output copies the
first words when its first `FIRST_WORDS` words (all of them, if it is shorter) equal the document's first words.
"""

import contextlib
import json
import re
import weakref

import keras
import numpy as np
import tensorflow as tf
from nltk.lm import Vocabulary, WittenBellInterpolated
from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline
from nltk.util import ngrams
from rouge_score import rouge_scorer

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")
FIRST_WORDS = 3
_WORD = re.compile(r"[a-z0-9]+")


def words(text):
    """Lower-cased alphanumeric words, as ROUGE and the language model see them."""
    return _WORD.findall(str(text).lower())


def summarize(model, documents, batch_size=256):
    """A summariser's outputs (Python strings) for `documents`, in batches of its graph-mode `summarize` (traced once
    per model and configuration, `graph_function`)."""
    function = graph_function(model, "summarize")
    outputs = []
    for start in range(0, len(documents), batch_size):
        batch = tf.constant(list(documents[start : start + batch_size]))
        outputs += [text.decode("utf-8") for text in function(batch).numpy()]
    return outputs


def graph_function(model, method):
    """`model.<method>` (e.g. "summarize") as a `tf.function` of one `tf.string [batch]` tensor, traced once and
    kept for as long as `model` lives, so that a validation curve or TensorBoard's samples do not trace the greedy
    decoder again at every epoch. Weights are variables, read at every call: training, `load_weights` or a weight
    average swapped in between two calls need no new trace. Python attributes are baked into the trace, so the
    cache is keyed by the model's configuration too (`get_config()`: e.g. `output_length`, `document_spelling`, the
    decoder's length): set one of them and the next call traces anew; set it back and the first trace is reused.

    Example:
        function = graph_function(model, "summarize")       # the same object at every call while nothing changes
        function(tf.constant(["PyYAML is a YAML parser and emitter for Python."]))
    """
    functions = _GRAPH_FUNCTIONS.setdefault(model, {})
    key = (method, _configuration(model))
    if key not in functions:
        owner = weakref.ref(model)  # the cache's values must not keep its keys alive

        def call(documents):
            return getattr(owner(), method)(documents)

        functions[key] = tf.function(call, input_signature=[tf.TensorSpec([None], tf.string, name="documents")])
    return functions[key]


def _configuration(model):
    """A hashable image of the Python state a trace of `model` bakes in (its config as sorted JSON; None without
    `get_config`)."""
    if not hasattr(model, "get_config"):
        return None
    return json.dumps(model.get_config(), sort_keys=True, default=str)


_GRAPH_FUNCTIONS = weakref.WeakKeyDictionary()  # model -> {(method, configuration): tf.function}


def rouge(predictions, references):
    """Mean ROUGE-1, ROUGE-2 and ROUGE-L F1 (x100) of `predictions` against `references` (lists of strings)."""
    if len(predictions) != len(references):
        raise ValueError(f"Got {len(predictions)} predictions for {len(references)} references.")
    if not references:
        raise ValueError("No references to score against.")
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    totals = np.zeros(len(ROUGE_TYPES))
    for prediction, reference in zip(predictions, references):
        scores = scorer.score(reference, prediction)
        totals += [scores[name].fmeasure for name in ROUGE_TYPES]
    return {name: float(100.0 * total / len(references)) for name, total in zip(ROUGE_TYPES, totals)}


def lead(documents, n):
    """The first `n` words of every document (Lead-N)."""
    return [" ".join(document.split()[:n]) for document in documents]


def first_clause(documents):
    """Every document's first sentence, cut at its first clause boundary (`,`, `;`, `:`, ` - ` or `(`)."""
    clauses = []
    for document in documents:
        sentence = re.split(r"(?<=[.!?])\s", document.strip(), maxsplit=1)[0]
        clauses.append(re.split(r"[,;:(]|\s-\s", sentence, maxsplit=1)[0].strip().rstrip("."))
    return clauses


def median_length(summaries):
    """The median number of words of `summaries` (an int, at least 1): N of Lead-N."""
    return max(1, int(np.median([len(summary.split()) for summary in summaries])))


def first_words_share(documents, predictions, count=FIRST_WORDS):
    """Share of predictions whose first `count` words (all, if shorter; empty outputs excluded) are the document's
    first words."""
    copies = total = 0
    for document, prediction in zip(documents, predictions):
        predicted = words(prediction)[:count]
        if not predicted:
            continue
        total += 1
        copies += predicted == words(document)[: len(predicted)]
    return copies / max(total, 1)


def mean_length(predictions):
    """The mean number of words of `predictions` (short outputs can score a low perplexity by length alone)."""
    return float(np.mean([len(words(prediction)) for prediction in predictions])) if predictions else 0.0


def repeated_word_share(predictions):
    """Share of the words of `predictions` that repeat an earlier word of the same output ("the the the")."""
    repeated = total = 0
    for prediction in predictions:
        tokens = words(prediction)
        total += len(tokens)
        repeated += len(tokens) - len(set(tokens))
    return repeated / max(total, 1)


class SummaryLanguageModel:
    """An interpolated Witten-Bell n-gram model of real summaries (`nltk.lm`), to score readability.

    Args:
        summaries: real summaries (strings), held out from every model's training.
        order: n of the n-grams.

    Example:
        lm = SummaryLanguageModel(["Python library for YAML", "command-line tool for JSON"])
        lm.perplexity(["library for JSON"])
    """

    def __init__(self, summaries, order=3):
        sentences = [words(summary) for summary in summaries]
        sentences = [sentence for sentence in sentences if sentence]
        if not sentences:
            raise ValueError("SummaryLanguageModel needs some real summaries with words.")
        vocabulary = Vocabulary((word for sentence in sentences for word in sentence), unk_cutoff=2)
        sentences = [list(vocabulary.lookup(sentence)) for sentence in sentences]
        self.order = order
        self.model = WittenBellInterpolated(order, vocabulary=vocabulary)
        grams, _ = padded_everygram_pipeline(order, sentences)
        self.model.fit(grams)

    def perplexity(self, texts):
        """Perplexity of `texts` (every n-gram of every padded text, the end symbol included); empty texts
        count as the end symbol alone."""
        log2, grams = self.log_scores(texts)
        return float(2.0 ** (-log2.sum() / grams.sum()))

    def perplexity_per_word(self, texts):
        """The perplexity of `texts` per written word: their summed log-probability (as `perplexity`'s) over the
        words as they are written (split at spaces, so "fd-lock" and "python3-yaml" count one word where the model
        scores two tokens each) plus the end symbols. Outputs of equally many written words (a summariser's N words,
        Lead-N) then differ by their surprisal alone, not by how many tokens the scoring splits them into."""
        log2, _ = self.log_scores(texts)
        return float(2.0 ** (-log2.sum() / self.written_counts(texts).sum()))

    def written_counts(self, texts):
        """Per text, its written words (split at spaces) plus the end symbols that its n-grams score (`order - 1`):
        the denominators of `perplexity_per_word`."""
        return np.array([len(str(text).split()) + self.order - 1 for text in texts], dtype=float)

    def log_scores(self, texts):
        """`(log2, grams)`, two arrays [len(texts)]: each text's summed log2 probability over its n-grams and their
        count. The perplexity of any subset of the texts is `2 ** (-log2.sum() / grams.sum())` over it (e.g. for a
        bootstrap over documents)."""
        log2, grams = [], []
        for text in texts:
            padded = pad_both_ends(list(self.model.vocab.lookup(words(text))), self.order)
            scores = [self.model.logscore(gram[-1], gram[:-1]) for gram in ngrams(padded, self.order)]
            log2.append(sum(scores))
            grams.append(len(scores))
        return np.array(log2, dtype=float), np.array(grams, dtype=float)


def split_perplexity_gap(bits, tokens, base_bits, base_tokens):
    """The gap `2 ** (bits / tokens) - 2 ** (base_bits / base_tokens)` between two perplexities (summed surprisal in
    bits over scored tokens) as `{"difference", "words", "length"}`: `words` is the part from the surprisal, `length`
    the part from the token count, each the mean of its change taken first and taken second (a Shapley split), so
    that neither order is preferred and the two sum to `difference`. Numpy arrays broadcast (e.g. bootstrap draws).

    Example:
        split_perplexity_gap(300.0, 100.0, 300.0, 110.0)   # the same surprisal, fewer tokens: all of it "length"
    """
    perplexity = lambda surprisal, count: 2.0 ** (np.asarray(surprisal) / np.asarray(count))  # noqa: E731
    words = 0.5 * (perplexity(bits, base_tokens) - perplexity(base_bits, base_tokens)
                   + perplexity(bits, tokens) - perplexity(base_bits, tokens))
    difference = perplexity(bits, tokens) - perplexity(base_bits, base_tokens)
    return {"difference": difference, "words": words, "length": difference - words}


def perplexity_differences(lm, outputs, samples=1000, seed=0):
    """Each model's perplexity under `lm` minus the first model's on the same documents (`outputs`: a dict from name
    to the summaries of the same documents, the baseline first), as rows `"{name} - {first}"`: per scored token (the
    readability target's measure, `difference`) with its two parts (`split_perplexity_gap`: `words`, from the summed
    surprisal, and `length`, from the number of tokens it is spread over), and per written word (`per_word`:
    `perplexity_per_word`, equal word counts, so the surprisal alone). The values are on all the documents; `mean`,
    `low` and `high` (and `words_low`, ..., `per_word_high`) are the mean, 5% and 95% over `samples` resamplings of
    the documents (with replacement, drawn from `seed`): is a gap more than the choice of documents?

    Example:
        perplexity_differences(lm, {"reconstruction only": ablation, "full": full})["full - reconstruction only"]
        # {"difference": -5.8, "low": -8.5, "high": -3.1, "words": -5.9, "length": 0.1, "per_word": -9.1, ...}
    """
    scores = {name: (*lm.log_scores(summaries), lm.written_counts(summaries)) for name, summaries in outputs.items()}
    first, *others = scores
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(outputs[first]), size=(samples, len(outputs[first])))

    def gaps(name, index):
        (log2, grams, written), (base_log2, base_grams, base_written) = scores[name], scores[first]
        bits, base_bits = -log2[index].sum(-1), -base_log2[index].sum(-1)
        split = split_perplexity_gap(bits, grams[index].sum(-1), base_bits, base_grams[index].sum(-1))
        per_word = split_perplexity_gap(bits, written[index].sum(-1), base_bits, base_written[index].sum(-1))
        return {**split, "per_word": per_word["difference"]}

    rows = {}
    for name in others:
        row = {key: float(value) for key, value in gaps(name, slice(None)).items()}
        resampled = gaps(name, draws)
        row["mean"] = float(resampled["difference"].mean())
        for key, values in resampled.items():
            prefix = "" if key == "difference" else f"{key}_"
            row[f"{prefix}low"], row[f"{prefix}high"] = (float(np.quantile(values, q)) for q in (0.05, 0.95))
        rows[f"{name} - {first}"] = row
    return rows


def summary_row(documents, predictions, references, lm):
    """A table row for `predictions` of `documents`: ROUGE against `references` (skipped when None), perplexity under
    the `SummaryLanguageModel` `lm` per scored token and per written word, the share of copies of the first words and
    of repeated words, and the mean number of words of an output (as the language model scores them)."""
    row = rouge(predictions, references) if references is not None else {}
    row.update({"perplexity": lm.perplexity(predictions), "perplexity_per_word": lm.perplexity_per_word(predictions),
                "first_words": first_words_share(documents, predictions),
                "repeated": repeated_word_share(predictions), "words": mean_length(predictions)})
    return row


def _greedy_words(model, documents):
    return graph_function(model, "greedy_words")(tf.constant(list(documents)))


def code_dependence(model, documents, batch_size=256):
    """Does the reconstruction reward depend on the code? The reconstructor's mean loss (nats per token, no word
    dropout) on `documents` from three codes: each document's own greedy summary (`true`), the summary of another
    document of the batch (`shuffled`, the batch rolled by one) and the empty summary (`empty`). `true` far below
    `shuffled` means the reconstructor reads the code; `shuffled` near `empty` means it ignores it."""
    totals = {"true": 0.0, "shuffled": 0.0, "empty": 0.0}
    for start in range(0, len(documents), batch_size):
        chunk = list(documents[start : start + batch_size])
        batch = {"document": tf.constant(chunk)}
        words = _greedy_words(model, chunk)
        codes = {"true": words, "shuffled": tf.roll(words, 1, axis=0),
                 "empty": tf.one_hot(tf.zeros(tf.shape(words)[:2], tf.int32), tf.shape(words)[-1])}
        for name, code in codes.items():
            totals[name] += float(tf.reduce_sum(model.reconstruction_losses(batch, code)))
    return {name: total / len(documents) for name, total in totals.items()}


def critic_auc(model, documents, real_summaries):
    """The discriminator's ranking of real summaries above the model's greedy summaries of `documents`: the share of
    (real, generated) pairs with `D(real) > D(generated)` (ties count half); 0.5 means it cannot tell them apart."""
    return critic_ranking(model, documents, real_summaries)["critic_auc"]


def critic_ranking(model, documents, real_summaries):
    """Does the discriminator tell real from generated summaries by their length? `critic_auc` (all pairs),
    `critic_auc_same_length`: the same over the (real, generated) pairs of equal length only (NaN without any), and
    `length_auc`: the AUC of the best ranking by length alone, each length scored by how much more often real
    summaries have it than generated ones (`p_real(L) / p_generated(L)`, fitted on these very summaries, so an upper
    bound of what length alone tells). Lengths are counted as the critic sees them: tokens, at most
    `model.summary_length`."""
    words = _greedy_words(model, documents)
    generated = model.discriminator(words).numpy()
    generated_lengths = tf.math.count_nonzero(tf.argmax(words, axis=-1), axis=1).numpy()
    real_ids = model.encoder.tokenize(tf.constant(list(real_summaries)))
    real_words = model.discriminator.real_sequences({"summary_ids": real_ids}, model.summary_length)
    real = model.discriminator(real_words).numpy()
    real_lengths = tf.math.count_nonzero(tf.argmax(real_words, axis=-1), axis=1).numpy()
    same = real_lengths[:, None] == generated_lengths[None, :]
    return {"critic_auc": _auc(real, generated),
            "critic_auc_same_length": _auc(real, generated, same) if same.any() else float("nan"),
            "length_auc": length_auc(real_lengths, generated_lengths)}


def length_auc(real_lengths, generated_lengths):
    """The AUC of ranking real above generated sequences by their length alone, with the best such ranking for
    these samples: each length scored by `p_real(L) / p_generated(L)` (e.g. real lengths [3, 7, 10] against
    generated [10, 10]: 0.83)."""
    real_lengths, generated_lengths = np.asarray(real_lengths, int), np.asarray(generated_lengths, int)
    size = int(max(real_lengths.max(), generated_lengths.max())) + 1
    p = np.bincount(real_lengths, minlength=size) / len(real_lengths)
    q = np.bincount(generated_lengths, minlength=size) / len(generated_lengths)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(q > 0, p / np.where(q > 0, q, 1.0), np.inf)
    return _auc(ratio[real_lengths], ratio[generated_lengths])


def _auc(real, generated, pairs=None):
    """The share of (real, generated) score pairs (those where `pairs [real, generated]` is True, default all) with
    the real score above (ties count half)."""
    above = (real[:, None] > generated[None, :]) + 0.5 * (real[:, None] == generated[None, :])
    return float(above.mean() if pairs is None else above[pairs].mean())


class RougeCurve(keras.callbacks.Callback):
    """After every epoch: ROUGE-1 of the model's summaries of some validation pairs (or, without pairs, the share of
    first-word copies), into the epoch's logs (and so history.csv and TensorBoard). With `diagnostics=True` also the
    validation `code_dependence` (`val_reconstruction_true`, `_shuffled`, `_empty`) and, when `real_summaries` are
    given, `critic_ranking` (`val_critic_auc`, `val_critic_auc_same_length`, `val_length_auc`) of held-out real
    summaries against the generated ones, and `val_words`,
    the mean number of words of an output. With `language_model` (a `SummaryLanguageModel`) also `val_perplexity`,
    the summaries' perplexity under it. `prefix` replaces `val_` in these names; `weights`, a function returning
    a context manager, sets the weights scored (e.g. `WeightAverage.raw`: the last iterate instead of the average)."""

    def __init__(self, documents, references, diagnostics=False, real_summaries=None, prefix="val_", weights=None,
                 language_model=None):
        super().__init__()
        self.documents, self.references = documents, references
        self.diagnostics, self.real_summaries = diagnostics, real_summaries
        self.prefix, self.weights = prefix, weights
        self.language_model = language_model

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        with self.weights() if self.weights is not None else contextlib.nullcontext():
            logs.update({self.prefix + name: value for name, value in self.scores().items()})

    def scores(self):
        """The curve's validation scores of the model as it is, by name without the prefix."""
        predictions = summarize(self.model, self.documents)
        scores = {}
        if self.references is not None:
            scores["rouge1"] = rouge(predictions, self.references)["rouge1"]
        scores["first_words"] = first_words_share(self.documents, predictions)
        scores["repeated"] = repeated_word_share(predictions)
        scores["words"] = mean_length(predictions)
        if self.language_model is not None:
            scores["perplexity"] = self.language_model.perplexity(predictions)
        if self.diagnostics:
            for name, value in code_dependence(self.model, self.documents).items():
                scores[f"reconstruction_{name}"] = value
            if self.real_summaries is not None:
                scores.update(critic_ranking(self.model, self.documents, self.real_summaries))
        return scores
