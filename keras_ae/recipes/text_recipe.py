"""The flow both sentence recipes share: corpus, vocabulary, strategy, model, training, the comparison table
(TF-IDF, random-init encoder, the trained model), nearest neighbours, figures, export.

Corpora (`--corpus`): `all` (default: Austen, four more novels, the King James Bible and Debian's package
descriptions, `keras_ae.data.corpus`, streamed from its shards), `books`, `austen`, or a path to `.txt` files. On
the named corpora the table holds the transfer probes of `keras_ae.evaluation.sentences.transfer_probe_data`
(book, genre, topic, next-sentence retrieval on the held-out novels), the same whatever the training corpus; on a
path, the book probe and retrieval of that corpus. `--minutes` trains for a wall-clock budget (`TimeBudget`);
`--probe-at 1,3,10` also measures the table after those minutes of training (`ProbeMarks`: the probe curve).

`keras_ae.recipes.skip_thought` and `keras_ae.recipes.quick_thought` differ only in the model and its batches.
"""

import argparse
import os
import time

import keras
import numpy as np
import tensorflow as tf

from keras_ae import plots
from keras_ae.config import constructor_default, keyword_defaults
from keras_ae.core.validation import non_negative_float, non_negative_int, positive_float, positive_int
from keras_ae.data.corpus import CORPORA, PACKAGE_ORDERS, load_corpus, source_shares
from keras_ae.data.text import build_vocabulary, build_wordpiece_vocabulary, load_text
from keras_ae.data.word_vectors import lsa_fit, split_idf
from keras_ae.distribute import get_strategy, is_chief
from keras_ae.evaluation.sentences import (
    DEFAULT_QUERIES,
    held_out_sample,
    NUM_CANDIDATES,
    embed,
    evaluate_sentence_encoder,
    evaluate_tfidf,
    evaluate_transfer,
    evaluate_transfer_tfidf,
    margins_over,
    transfer_probe,
    transfer_probe_data,
    write_neighbours,
)
from keras_ae.layers.encoders.gru_sentence_encoder import READOUTS, WORD_WEIGHTINGS, count_token_frequencies
from keras_ae.recipes.common import RunFolder, export_run, format_table, parse_flags, print_summary
from keras_ae.runs import BestWeights, TimeBudget
from keras_ae.tensorboard import MAX_PROJECTOR_POINTS, EpochSummaries, sentence_samples, write_projector

TEXT_DEFAULTS = {"data": "all", "learning_rate": 3e-3}
QUICK = {
    "data": "austen", "epochs": 1, "limit": 400, "batch_size": 40, "vocabulary_size": 400, "embedding_dim": 32,
    "word_dim": 16, "minutes": None,
}
STREAMED = ("books", "prose", "all")  # named corpora read from their shards (austen and paths are small: read whole)
VALIDATION_SENTENCES = 4000  # each epoch's validation loss: this many held-out sentences, an equal share per source
PROBE_TRAIN_SENTENCES = 10000
PACKAGE_ORDER = keyword_defaults(load_corpus)["package_order"]  # its home: load_corpus
MIN_PIECE_COUNT = keyword_defaults(build_wordpiece_vocabulary)["min_count"]  # its home: build_wordpiece_vocabulary
VOCABULARY_SENTENCES = keyword_defaults(build_wordpiece_vocabulary)["max_sentences"]  # its home: the same
IDF_EXPONENT = keyword_defaults(split_idf)["exponent"]  # its home: split_idf
TOKENIZE_BATCH = 4096  # sentences tokenised at once (--word-weighting sif's counts, --init-word-embeddings lsa)
LSA_FIT_SENTENCES = 50000  # --init-word-embeddings lsa: an even spread of this many training sentences
LEARNING_RATE_SCHEDULES = ("constant", "cosine")
SAMPLE_POOL = 5000  # training sentences searched for the nearest neighbours TensorBoard shows every epoch
COLUMNS = ["dim", "probe_accuracy", "knn_accuracy", "retrieval_top1", "retrieval_mean_rank", "scorer_top1",
           "scorer_mean_rank", "train_seconds", "train_cpu_seconds"]
TRANSFER_COLUMNS = ["dim", "book_probe", "genre_probe", "topic_probe", "topic_validation_probe", "retrieval_top1",
                    "retrieval_mean_rank", "scorer_top1", "scorer_mean_rank", "train_seconds", "train_cpu_seconds"]
TRAINING_TIME = ("training_seconds", "training_cpu_seconds", "training_steps")  # a probe point's x-axes
WORD_INITS = ("random", "lsa", "lsa-split")


def add_text_flags(parser, model_class, vocabulary_size=3000, min_piece_count=MIN_PIECE_COUNT, minutes=5.0):
    """Flags of the sentence recipes, beside the common ones (`--limit` counts sentences per document); the model's
    sizes default to `model_class`'s constructor defaults, the vocabulary's to `vocabulary_size` and
    `min_piece_count` (the recipe's own)."""
    default = lambda name: constructor_default(model_class, name)  # noqa: E731
    parser.set_defaults(embedding_dim=default("embedding_dim"))
    parser.add_argument(
        "--corpus", dest="data", default=argparse.SUPPRESS,
        help=f"{'|'.join(CORPORA)}|PATH (a .txt file or a folder of them); the same as --data",
    )
    parser.add_argument(
        "--package-order", choices=PACKAGE_ORDERS, default=PACKAGE_ORDER,
        help="the order of the package descriptions in the training stream: Debian's, by name (name neighbours "
        "mostly share a section), or shuffled once with a fixed seed (each description kept whole and in order); "
        "the held-out data and the probes are the same for both",
    )
    parser.add_argument(
        "--source-shares", type=_shares_list, default={},
        help="the training stream's mixture, e.g. packages=0.9: each named source's share of the training "
        "stretches (the others share the rest in their own proportions; default: each source's share of the corpus, "
        "on --corpus all about 11%% Austen, 9%% other novels, 11%% Bible, 69%% package descriptions); the held-out "
        "data and the probes are the same whatever the mixture (--corpus books|prose|all)",
    )
    parser.add_argument(
        "--tokens", choices=["wordpiece", "word"], default="wordpiece",
        help="subwords learned from the training corpus (unseen words are split into pieces) or whole words",
    )
    parser.add_argument("--vocabulary-size", type=positive_int, default=vocabulary_size,
                        help="subwords (or most frequent words) in the vocabulary (subwords: at most what "
                        "--min-piece-count leaves; the run prints the learned size)")
    parser.add_argument(
        "--min-piece-count", type=positive_int, default=min_piece_count,
        help="the WordPiece learner's lowest count of a word or piece in its sample (--vocabulary-sentences): it "
        "caps the vocabulary whatever --vocabulary-size asks (10 keeps about 6,400 pieces of --corpus all, 5 about "
        "11,000 of 16,000 asked; lower it for a larger vocabulary)",
    )
    parser.add_argument(
        "--vocabulary-sentences", type=positive_int, default=VOCABULARY_SENTENCES,
        help="training sentences (an even spread) the WordPiece learner counts words in: a larger sample keeps "
        "more rare words whole at the same --min-piece-count",
    )
    parser.add_argument(
        "--minutes", type=non_negative_float, default=minutes,
        help="wall-clock training budget, checkpointed and resumable like epochs; --epochs is then an upper bound "
        "(0: no budget, train --epochs)",
    )
    parser.add_argument(
        "--steps-per-epoch", type=positive_int, default=None,
        help="training steps per epoch (default: one pass over the training sentences; 200 with --minutes)",
    )
    parser.add_argument(
        "--learning-rate-schedule", choices=LEARNING_RATE_SCHEDULES, default="constant",
        help="constant: Adam at --learning-rate throughout; cosine: annealed from --learning-rate to 0 over the "
        "run's --epochs x --steps-per-epoch steps (Loshchilov & Hutter, 2017; needs --minutes 0)",
    )
    parser.add_argument(
        "--max-length",
        type=positive_int,
        default=default("max_length"),
        help="sentences are truncated to their first max-length words (the count is reported)",
    )
    parser.add_argument("--word-dim", type=positive_int, default=default("word_dim"),
                        help="size of the word embeddings")
    parser.add_argument(
        "--bucket-width", type=non_negative_int, default=default("bucket_width"),
        help="the encoders run on groups of each batch's sentences of similar length, each cut to the next multiple "
        "of this many tokens, so the padding is not computed (the same embeddings and batches; 0: every sentence over "
        "all --max-length positions)",
    )
    parser.add_argument(
        "--pooling", choices=["last", "max", "mean"], default=default("pooling"),
        help="how the encoder pools its GRU states"
    )
    parser.add_argument(
        "--readout", choices=READOUTS, default=default("readout"),
        help="what the embedding is read from: the pooled GRU states, the pooled states beside the mean word "
        "embedding (--word-dim of the embedding's floats; e.g. --word-dim 32 for Quick-thought's two 64-float "
        "halves), or the mean word embedding alone, no GRU (--word-dim equal to the encoder's embedding size)",
    )
    parser.add_argument(
        "--word-weighting", choices=WORD_WEIGHTINGS, default=default("word_weighting"),
        help="how the readout's mean word embedding weighs its tokens: uniform, sif (smooth inverse frequency "
        "a / (a + p(token)), Arora et al., 2017, p counted once on every training sentence and saved in the model), "
        "or idf (the idf of --init-word-embeddings lsa's fit, scaled to mean 1, as fixed weights saved in the model; "
        "the table starts at the fit's directions, so the bag starts as the same LSA and the idf part stays; see "
        "--idf-exponent); "
        "needs --readout words or states+words",
    )
    parser.add_argument(
        "--idf-exponent", type=positive_float, default=IDF_EXPONENT,
        help="with --word-weighting idf: the fixed weights are the idf to this power (mean 1), and the table starts at "
        "the rest of the idf times the directions, so the bag still starts as the same LSA (1: the whole idf fixed; "
        "0.5: half of it in the rows' lengths, which training may change)",
    )
    parser.add_argument("--sif-a", type=positive_float, default=default("sif_a"),
                        help="a of --word-weighting sif (the paper's 1e-3)")
    parser.add_argument(
        "--init-word-embeddings", choices=WORD_INITS, default="random",
        help="the word embeddings' starting point: the initialiser's random values, or lsa: each piece's LSA "
        f"vector (idf times its --word-dim TruncatedSVD directions of the TF-IDF matrix of {LSA_FIT_SENTENCES:,} "
        "training sentences, the model's own tokens; fitted in seconds, nothing downloaded), so a mean of word "
        "embeddings starts as LSA fitted on the corpus; Quick-thought's f and g get the same vectors; lsa-split "
        "(Quick-thought): f gets the first --word-dim directions and g the next, so [f, g] of the --readout words bag "
        "starts as LSA to twice --word-dim",
    )
    parser.add_argument(
        "--init-lsa-window", type=positive_int, default=1,
        help="with --init-word-embeddings lsa or lsa-split: the unit of the LSA fit, K consecutive training sentences "
        "of one stretch (a chapter, or one package description: most have at most 3 sentences, so 3 or more fits "
        "them whole, as the topic probe's items are) summed into one TF-IDF row, about as many sentences in all "
        "(1: each sentence its own row, the default; larger units see words co-occur across sentences)",
    )
    parser.add_argument(
        "--init-word-norm", type=positive_float, default=None,
        help="with --init-word-embeddings lsa or lsa-split: the mean norm of the word embeddings it sets (default: the "
        "initialiser's, about 0.05 * sqrt(word-dim / 3))",
    )
    parser.add_argument(
        "--freeze-word-embeddings", action="store_true", default=default("freeze_word_embeddings"),
        help="keep the word embeddings as --init-word-embeddings sets them (the Quick-thought paper's fixed "
        "word vectors); the GRUs train on top (not with --readout words)",
    )
    parser.add_argument(
        "--bidirectional", action="store_true", default=default("bidirectional"),
        help="forward and backward GRUs of half the size (bi-skip encoder)"
    )
    parser.add_argument(
        "--text-errors", choices=["strict", "replace"], default="strict", help="non-UTF-8 bytes: error or replace"
    )
    parser.add_argument(
        "--patience",
        type=non_negative_int,
        default=0,
        help="early stopping on held-out text: stop after this many epochs without a lower validation loss (the "
        "model's own objective on the first sentences of each source of the held-out documents, never probe items, "
        "at every epoch end: every --steps-per-epoch steps) and keep the best epoch's weights, also when the budget "
        "ends training first; the table, neighbours and export use them and metrics.json's early_stopping names "
        "the step (0: off, the default: on Austen both models' book probe keeps rising after their validation loss "
        "bottoms out)",
    )
    parser.add_argument(
        "--select-on-probes", action="store_true",
        help="model selection on validation: at every epoch end (outside the time budget) measure the transfer probes "
        "on the validation split (book and genre on its sentences, topic on its packages' descriptions, retrieval "
        "among its novels; never test items) against TF-IDF + LSA at the same size on them, and keep the epoch with "
        "the most probes at or above LSA, of those the one whose worst margin (in LSA's standard errors) is largest "
        "(`margins_over`' selection: no probe is traded below LSA for another); the table, neighbours and export use "
        "it; with --patience N, stop after N epochs without a better one (named corpora only)",
    )
    parser.add_argument("--no-baselines", dest="baselines", action="store_false", help="skip TF-IDF / random rows")
    parser.add_argument(
        "--probe-at", type=_minutes_list, default=(),
        help="comma-separated minutes of training (e.g. 1,3,10) after which the full probe table is also measured, "
        "at the first epoch end past each mark, into metrics.json's probe_curve and TensorBoard (probe time is not "
        "training time; default: only after training)",
    )
    parser.add_argument(
        "--probe-steps", type=_steps_list, default=(),
        help="comma-separated training steps (e.g. 200,400,800) after which the probe table is also measured, at the "
        "first epoch end past each (instead of --probe-at: runs under different loads probed at equal steps)",
    )
    return parser


def _marks_list(number, unit, example):
    """An argparse type: comma-separated positive marks (`number`: int or float) in `unit`, sorted."""

    def parse(text):
        try:
            values = sorted(number(value) for value in text.split(",") if value.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {unit} such as {example}, got {text!r}") from None
        if any(value <= 0 for value in values):
            raise argparse.ArgumentTypeError(f"probe marks must be positive {unit}, got {text!r}")
        return tuple(values)

    return parse


def _shares_list(text):
    """An argparse type: comma-separated `source=share` (e.g. `packages=0.9`), shares in [0, 1] summing to at most 1."""
    shares = {}
    for part in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = part.partition("=")
        try:
            shares[name.strip()] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected source=share such as packages=0.9, got {part!r}") from None
    if not shares or any(not 0.0 <= share <= 1.0 for share in shares.values()) or sum(shares.values()) > 1.0 + 1e-9:
        raise argparse.ArgumentTypeError(f"source shares must be in [0, 1] and sum to at most 1, got {text!r}")
    return shares


def training_shares(args, split):
    """`--source-shares` as the training batches' `shares` (`keras_ae.data.corpus.source_shares`, one per source of
    `split`), or None: the corpus' own mixture."""
    if not getattr(args, "source_shares", None):  # e.g. the tuner's batches
        return None
    names = CORPORA[args.data]
    sizes = np.bincount(split.sources, minlength=len(names))
    shares = source_shares(sizes, {names.index(name): share for name, share in args.source_shares.items()})
    print("--source-shares: the training stream's mixture " + ", ".join(
        f"{name} {share:.3f} (corpus {size / sizes.sum():.3f})" for name, share, size in zip(names, shares, sizes)))
    return shares


_minutes_list = _marks_list(float, "minutes", "1,3,10")
_steps_list = _marks_list(int, "steps", "200,400")


class ProbeMarks(keras.callbacks.Callback):
    """Measures `evaluate()` (a dict of probe scores) at the first epoch end after each of `marks` minutes of
    training (`unit="steps"`: training steps, so runs under different loads are probed at equal steps; `marks=None`:
    at every epoch end), so a time-budgeted run leaves its probe curve (the issue's "reaching the best probe N times
    sooner").
    Training time is the `TimeBudget`'s (`budget`) when given, otherwise the wall-clock since training began without
    the probes' own time; put this callback after the `TimeBudget` so the probes fall outside its epochs. Each point
    also carries the process's CPU seconds of training (`training_cpu_seconds`), which the machine's load moves far
    less than wall-clock.

    Example:
        marks = ProbeMarks(lambda: {"book_probe": 0.3}, [1, 3, 10], budget=TimeBudget(run, 30), log_dir="tb")
        run.fit(model, train, epochs=1000, steps_per_epoch=200, callbacks=[marks.budget, marks])
        marks.curve  # [{"training_seconds": 61.2, "training_cpu_seconds": 98.7, "training_steps": 340,
                     #   "book_probe": 0.3}, ...]
    """

    def __init__(self, evaluate, marks, budget=None, log_dir=None, tag="probe", unit="minutes", logs_prefix=None):
        super().__init__()
        if unit not in ("minutes", "steps"):
            raise ValueError(f"ProbeMarks counts its marks in 'minutes' or 'steps'; got {unit!r}.")
        self.evaluate, self.budget, self.log_dir, self.tag, self.unit = evaluate, budget, log_dir, tag, unit
        self.logs_prefix = logs_prefix  # not None: each score also goes into the epoch's logs, e.g. for BestWeights
        self.marks = None if marks is None else sorted(marks)
        self.curve, self.probing, self.probing_cpu = [], 0.0, 0.0
        self.alongside = ()  # other ProbeMarks of the same fit: their probing is not training time either

    def on_train_begin(self, logs=None):
        self.started, self.probing = time.perf_counter(), 0.0
        self.started_cpu, self.probing_cpu = time.process_time(), 0.0
        self.pending = None if self.marks is None else list(self.marks)

    def _training_seconds(self):
        if self.budget is not None:
            return self.budget.spent
        return time.perf_counter() - self.started - sum(marks.probing for marks in (self, *self.alongside))

    def _training_cpu_seconds(self):
        if self.budget is not None:
            return self.budget.cpu_spent
        return time.process_time() - self.started_cpu - sum(marks.probing_cpu for marks in (self, *self.alongside))

    def on_epoch_end(self, epoch, logs=None):
        seconds = self._training_seconds()
        steps = int(self.model.optimizer.iterations.numpy())
        if self.pending is not None:
            done = steps if self.unit == "steps" else seconds / 60.0
            if not self.pending or done < self.pending[0]:
                return
            while self.pending and done >= self.pending[0]:
                self.pending.pop(0)
        seconds = round(seconds, 1)  # one value for metrics.json, the log line and the TensorBoard step
        cpu_seconds = round(self._training_cpu_seconds(), 1)
        probe_started, probe_started_cpu = time.perf_counter(), time.process_time()
        point = {"training_seconds": seconds, "training_cpu_seconds": cpu_seconds,
                 "training_steps": steps,
                 **{key: value for key, value in self.evaluate().items() if key != "dim"}}
        self.probing += time.perf_counter() - probe_started
        self.probing_cpu += time.process_time() - probe_started_cpu
        self.curve.append(point)
        if self.logs_prefix is not None and logs is not None:
            logs.update({f"{self.logs_prefix}{key}": value for key, value in point.items() if key not in TRAINING_TIME})
        print(f"{self.tag} after {seconds:.0f} s ({cpu_seconds:.0f} CPU-s) of training: " + ", ".join(
            f"{key} {value:.3f}" for key, value in point.items() if key not in TRAINING_TIME))
        if self.log_dir is not None:
            with tf.summary.create_file_writer(self.log_dir).as_default(step=int(round(seconds))):
                for key, value in point.items():
                    if key not in TRAINING_TIME:
                        tf.summary.scalar(f"{self.tag}/{key}", value)


def training_optimizer(args, steps_per_epoch):
    """Adam at `args.learning_rate` (clipped: the global gradient norm at most 5, which keeps the GRUs stable),
    constant or, with `--learning-rate-schedule cosine`, annealed to 0 over `args.epochs * steps_per_epoch` steps
    (Loshchilov & Hutter, 2017, "SGDR: Stochastic Gradient Descent with Warm Restarts", without restarts).

    Example:
        args = argparse.Namespace(learning_rate=1e-2, learning_rate_schedule="cosine", epochs=4)
        optimizer = training_optimizer(args, steps_per_epoch=400)  # 1e-2 at step 0, 5e-3 at 800, 0 at 1,600
    """
    rate = args.learning_rate
    if args.learning_rate_schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=args.epochs * steps_per_epoch)
    return keras.optimizers.Adam(rate, global_clipnorm=5.0)


def training_dataset(model, dataset):
    """The batches a sentence model trains on: its recipe's batches of raw sentences, tokenised inside `tf.data` by
    the model's own tokenizer (`prepare_batch`), so the training step starts from token ids and the string work
    overlaps with the previous step."""
    return dataset.map(model.prepare_batch, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def recipe_vocabulary(args, sentences):
    """The vocabulary a sentence recipe learns from `sentences` under its flags (`add_text_flags`): with `--tokens
    wordpiece`, `build_wordpiece_vocabulary` at `--vocabulary-size`, `--vocabulary-sentences` and `--min-piece-count`;
    with `--tokens word`, the `--vocabulary-size` most frequent words (`build_vocabulary`). WordPiece: Wu et al.,
    2016, "Google's neural machine translation system". The recipe's run and its tuning task
    (`quick_thought.tuning_task`) both build it here, so a search tries the vocabulary the recipe trains.

    Example:
        args = quick_thought.build_parser().parse_args([])  # 16,000 pieces asked at count 5
        vocabulary = recipe_vocabulary(args, splits.train.sentences)
    """
    if args.tokens == "wordpiece":
        return build_wordpiece_vocabulary(sentences, size=args.vocabulary_size, max_sentences=args.vocabulary_sentences,
                                          min_count=args.min_piece_count)
    return build_vocabulary(sentences, size=args.vocabulary_size)


def run_text_recipe(parser, build_model, make_dataset, retrieval_scorer=None, held_out_judge=None, argv=None):
    """Runs a sentence recipe.

    Args:
        build_model: `(args, vocabulary) -> model` (uncompiled; called inside the strategy's scope).
        make_dataset: `(args, split, shuffle) -> tf.data.Dataset` of the model's batches.
        retrieval_scorer: `model -> (query_encode, candidate_encode)`, the model's own scorer, by which retrieval
            is also ranked (`scorer_top1`, `scorer_mean_rank`; every row's `retrieval_*` is the cosine of `encode`),
            or None.
        held_out_judge: `(args, model, splits) -> (() -> dict)`, the judge's scores on held-out text that
            `--held-out-curve` measures every epoch (beside the topic probe); None: the recipe has no such flag.
    """
    args = parse_flags(parser, argv, quick=QUICK)
    if args.jit_compile:
        parser.error(
            "--jit-compile does not apply to the sentence recipes: on CPU, XLA made the Quick-thought step slower, not "
            "faster (benchmarks/sentence_twin.py); their GRUs are unrolled instead. Drop the flag."
        )
    if args.data in STREAMED and (args.limit or args.quick):
        parser.error(f"--limit and --quick apply to austen and to your own .txt files, not to --corpus {args.data}; "
                     "use --minutes and --steps-per-epoch for a short run on it.")
    if args.package_order != PACKAGE_ORDER and "packages" not in CORPORA.get(args.data, ()):
        parser.error(f"--package-order orders the package descriptions of --corpus all; --corpus {args.data} has "
                     "none. Drop the flag.")
    if getattr(args, "packed", False) and args.bucket_width:
        parser.error(f"--bucket-width {args.bucket_width} groups sentences for the unpacked GRU, but the encoders run "
                     "as packed sequences (the default), which need no buckets. Add --no-packed to use buckets, or "
                     "drop --bucket-width.")
    if args.init_word_embeddings == "random" and args.init_lsa_window != 1:
        parser.error(f"--init-lsa-window {args.init_lsa_window} sets the unit of the LSA fit that "
                     "--init-word-embeddings lsa makes; this run starts at random vectors: add "
                     "--init-word-embeddings lsa, or drop the flag.")
    if args.init_word_embeddings == "random" and (args.freeze_word_embeddings or args.init_word_norm):
        parser.error("--freeze-word-embeddings and --init-word-norm apply to word embeddings set by "
                     "--init-word-embeddings lsa (frozen random vectors would teach nothing): add "
                     "--init-word-embeddings lsa, or drop them.")
    unknown = [name for name in args.source_shares if name not in CORPORA.get(args.data, ())]
    if args.source_shares and (args.data not in STREAMED or unknown):
        parser.error(f"--source-shares mixes the sources of --corpus {' | '.join(STREAMED)}; --corpus {args.data} has "
                     f"no source {', '.join(unknown) or 'to mix'} (its sources: "
                     f"{', '.join(CORPORA.get(args.data, ('one text',)))}). Name its sources, or drop the flag.")
    if args.select_on_probes and (args.data not in CORPORA or args.quick):
        parser.error(f"--select-on-probes chooses the epoch on the validation split's transfer probes, which need a "
                     f"named corpus ({', '.join(CORPORA)}) without --quick; got --corpus {args.data}"
                     f"{' --quick' if args.quick else ''}. Use --patience (the held-out loss) instead, or drop it.")
    if args.probe_at and args.probe_steps:
        parser.error("--probe-at (minutes) and --probe-steps (steps) both set the probe marks; give one of them.")
    if args.learning_rate_schedule == "cosine" and args.minutes:
        parser.error(f"--learning-rate-schedule cosine anneals over --epochs x --steps-per-epoch steps, which a "
                     f"--minutes {args.minutes:g} budget leaves open: add --minutes 0, or drop the schedule.")
    try:
        checked = build_model(args, ["a"])  # the model's own checks of the flags (e.g. --readout's sizes), before data
    except ValueError as error:
        parser.error(str(error))
    if args.word_weighting == "idf" and args.init_word_embeddings == "random":
        parser.error("--word-weighting idf weighs each piece by the idf of the LSA fit that --init-word-embeddings "
                     "lsa makes: add --init-word-embeddings lsa (or lsa-split), or use --word-weighting uniform or sif.")
    if args.idf_exponent != 1 and args.word_weighting != "idf":
        parser.error(f"--idf-exponent {args.idf_exponent:g} raises --word-weighting idf's fixed weights to a power; "
                     f"this run weighs its pieces {args.word_weighting}: add --word-weighting idf, or drop the flag.")
    if args.init_word_embeddings == "lsa-split" and not hasattr(checked, "context_encoder"):
        parser.error(f"--init-word-embeddings lsa-split splits the LSA directions between Quick-thought's two "
                     f"encoders; {type(checked).__name__} has one: use --init-word-embeddings lsa.")
    run = RunFolder.for_flags(args)
    keras.utils.set_random_seed(args.seed)
    strategy = get_strategy(args.strategy)
    if args.data in STREAMED:
        splits = load_corpus(args.data, package_order=args.package_order)
    else:
        splits = load_text(args.data, max_length=args.max_length, errors=args.text_errors, limit=args.limit)
    vocabulary = recipe_vocabulary(args, splits.train.sentences)
    transfer = None
    if args.data in CORPORA and not args.quick:
        transfer = transfer_probe_data(splits if args.data == "all" else load_corpus("all"), seed=args.seed)
    num_candidates = min(NUM_CANDIDATES, len(splits.test) - 1)
    if num_candidates < 1 or len(splits.train) < 10 or len(np.unique(splits.train.labels)) < 2:
        raise ValueError(
            f"{args.data}: the evaluation after training needs at least 2 test sentences (retrieval) and 10 training "
            f"sentences from 2 documents or more (book probe, kNN); got {len(splits.test)} test and "
            f"{len(splits.train)} training sentences from {splits.num_documents} document(s). Give more text, or "
            "more .txt files (one document each)."
        )
    print(
        f"{splits.name}: {splits.num_documents} documents; {len(splits.train)} train, {len(splits.validation)} "
        f"validation, {len(splits.test)} test sentences (held-out chapters); {splits.truncated} truncated to "
        f"{args.max_length} words; {args.tokens} vocabulary {len(vocabulary)}; {strategy.num_replicas_in_sync} "
        "replica(s)"
    )
    steps_per_epoch = args.steps_per_epoch or (200 if args.minutes else max(1, len(splits.train) // args.batch_size))
    with strategy.scope():
        model = build_model(args, vocabulary)
        # No XLA (slower on CPU, see --jit-compile above).
        model.compile(optimizer=training_optimizer(args, steps_per_epoch), jit_compile=False)
    if args.word_weighting == "sif":
        model.set_token_frequencies(training_token_frequencies(model.encoder, splits.train.sentences))
    if args.init_word_embeddings != "random":
        split = args.init_word_embeddings == "lsa-split"
        vectors, idf = initial_word_vectors(model.encoder, splits.train, args.seed, parts=2 if split else 1,
                                           window=args.init_lsa_window)
        if args.word_weighting == "idf":  # idf^p as fixed token weights (mean 1), idf^(1-p) x the directions as table
            weights, vectors = split_idf(vectors, idf, args.idf_exponent)
            model.set_token_idf(weights)
        else:
            vectors = idf[:, None] * vectors
        if split:  # f the first word_dim directions, g the next
            model.set_word_embeddings(*np.split(vectors, 2, axis=1), norm=args.init_word_norm)
        else:
            model.set_word_embeddings(vectors, norm=args.init_word_norm)
    if getattr(model, "direction_anchor_weight", 0):  # the band of pieces it holds, by training frequency
        held = model.set_direction_anchor_pieces(
            training_token_frequencies(model.encoder, splits.train.sentences, flag="--direction-anchor-band"))
        print(f"--direction-anchor-weight: {len(held)} pieces held (ranks {args.direction_anchor_band[0]:g}-"
              f"{args.direction_anchor_band[1]:g} of the vocabulary by training frequency)")
    train = training_dataset(model, make_dataset(args, splits.train, shuffle=True).repeat())
    validation, validation_steps = validation_batches(args, model, make_dataset, splits)

    def evaluate():
        scorer = retrieval_scorer(model) if retrieval_scorer else (None, None)
        if transfer is not None:
            result = evaluate_transfer(model.encode, transfer, query_encode=scorer[0], candidate_encode=scorer[1],
                                       seed=args.seed)
            return {"dim": args.embedding_dim, **result}
        result = evaluate_sentence_encoder(
            model.encode, splits, query_encode=scorer[0], candidate_encode=scorer[1], seed=args.seed,
            num_candidates=num_candidates, max_train=PROBE_TRAIN_SENTENCES,
        )
        return {"dim": args.embedding_dim, **result}

    name = type(model).__name__
    start = "random-init" if args.init_word_embeddings == "random" else f"{args.init_word_embeddings}-init (untrained)"
    with run:
        run.write_config(model)
        rows = {}
        if args.baselines and transfer is not None:
            rows["tfidf (full vocabulary)"] = {"dim": "sparse", **evaluate_transfer_tfidf(transfer, seed=args.seed)}
            rows[f"tfidf + LSA {args.embedding_dim}"] = {
                "dim": args.embedding_dim, **evaluate_transfer_tfidf(transfer, args.embedding_dim, seed=args.seed),
            }
            if not run.resuming:
                rows[f"{start} {name}"] = evaluate()
        elif args.baselines:
            rows["tfidf (full vocabulary)"] = {"dim": "sparse", **evaluate_tfidf(
                splits, seed=args.seed, num_candidates=num_candidates, max_train=PROBE_TRAIN_SENTENCES
            )}
            rows[f"tfidf + LSA {args.embedding_dim}"] = {
                "dim": args.embedding_dim,
                **evaluate_tfidf(
                    splits, embedding_dim=args.embedding_dim, seed=args.seed, num_candidates=num_candidates,
                    max_train=PROBE_TRAIN_SENTENCES,
                ),
            }
            if not run.resuming:
                rows[f"{start} {name}"] = evaluate()
        started, started_cpu = time.perf_counter(), time.process_time()
        steps_before = int(model.optimizer.iterations.numpy())
        queries = [*DEFAULT_QUERIES[:3], *splits.test.sentences[:3]]
        neighbours = sentence_samples(queries, splits.train.sentences[:SAMPLE_POOL])
        callbacks = [EpochSummaries(run.file("tensorboard"), neighbours)]
        budget = TimeBudget(run, args.minutes) if args.minutes else None
        if budget is not None:
            callbacks.append(budget)
        selection = _validation_selection(args, model, transfer, budget, run)
        if selection is not None:
            callbacks.append(selection)  # after the budget (probe time is not training time), before BestWeights
            best = BestWeights(run, args.patience or args.epochs, monitor="val_selection", mode="max")
        else:
            best = BestWeights(run, args.patience) if args.patience else None
        if best is not None:
            callbacks.append(best)  # after the budget, so the epoch it cuts short is still compared
        marks = ProbeMarks(evaluate, args.probe_at or args.probe_steps, budget=budget,
                           log_dir=str(run.file("tensorboard/probes")), unit="steps" if args.probe_steps else "minutes")
        if args.probe_at or args.probe_steps:
            callbacks.append(marks)  # after the budget: probe time is not training time
        curve = ProbeMarks(_held_out_scores(args, model, splits, transfer, held_out_judge), None, budget=budget,
                           log_dir=str(run.file("tensorboard/held_out")), tag="held_out")
        if getattr(args, "held_out_curve", False):
            callbacks.append(curve)
        probes = [marks, curve, *([selection] if selection is not None else [])]
        for probe in probes:
            probe.alongside = [other for other in probes if other is not probe]
        history = run.fit(
            model, train, validation_data=validation, epochs=args.epochs, steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps, callbacks=callbacks, shuffle=False, verbose=2,
        )
        # the --probe-at probes and the --held-out-curve are not training
        training_seconds = time.perf_counter() - started - sum(probe.probing for probe in probes)
        training_cpu_seconds = time.process_time() - started_cpu - sum(probe.probing_cpu for probe in probes)
        steps = int(model.optimizer.iterations.numpy()) - steps_before
        rows[name] = {**evaluate(), "train_seconds": round(training_seconds, 1),
                      "train_cpu_seconds": round(training_cpu_seconds, 1)}
        metrics = {
            "data": splits.name,
            "documents": splits.document_names,
            "sentences": {"train": len(splits.train), "validation": len(splits.validation), "test": len(splits.test)},
            "truncated_sentences": splits.truncated,
            "embedding_dim": args.embedding_dim,
            "epochs": args.epochs,
            "epochs_trained": len(history.epoch),
            # history.history holds every epoch of the run, also those before a --resume.
            "best_epoch": (
                int(np.argmin(history.history["val_loss"])) + 1 if "val_loss" in history.history else None
            ),
            "training_seconds": training_seconds,
            "training_sentences_per_second": steps * args.batch_size / training_seconds,
            # the process's CPU seconds (all threads) in this run's training: unlike wall-clock, barely moved by load
            "training_cpu_seconds": training_cpu_seconds,
            "training_sentences_per_cpu_second": steps * args.batch_size / max(training_cpu_seconds, 1e-9),
            # the 1-minute load average at each epoch end of a --minutes run (what share of the machine it had)
            "load_average": list(budget.load) if budget is not None else None,
            # --patience: the epoch and step whose weights the table, neighbours and export use
            "early_stopping": None if best is None else {
                "monitor": best.monitor, "patience": args.patience, "best_epoch": best.best_epoch + 1,
                "best_step": best.best_step, "best_value": best.best,
                "stopped_at_epoch": best.stopped_epoch + 1 if best.stopped_epoch else None,
            },
            "training_steps": int(model.optimizer.iterations.numpy()),
            "tokens": args.tokens,
            "vocabulary_size": len(vocabulary),
            "minutes": args.minutes,
            "probes": "transfer" if transfer is not None else "corpus",
            "retrieval_candidates": num_candidates,
            "final_losses": {key: values[-1] for key, values in history.history.items()},
            # the probes after --probe-at minutes of training (x-axis: TensorBoard's probe/* in training seconds)
            "probe_curve": marks.curve,
            # --held-out-curve: the judge on held-out text of each source and the topic probe, every epoch
            "held_out_curve": curve.curve,
            # --select-on-probes: the validation probes and their margins over LSA every epoch, and LSA's own
            "validation_curve": None if selection is None else selection.curve,
            "validation_reference": None if selection is None else selection.reference,
            "table": rows,
            **{key: value for key, value in rows[name].items() if key != "dim"},
        }
        run.write_json("metrics.json", metrics)
        if is_chief():
            write_neighbours(run.file("neighbours.json"), model.encode, splits)
            _figures(model, splits, history.history, run, rows)
        export_path = export_run(model, args.export_dir, metrics, flags=vars(args)) if args.export else None
    print_summary(run, export_path, format_table(rows, TRANSFER_COLUMNS if transfer is not None else COLUMNS))
    if budget is not None and budget.load and is_chief():
        print(f"Training: {training_seconds:.0f} s wall-clock, {training_cpu_seconds:.0f} s of CPU, {steps} steps; "
              f"1-minute load average {min(budget.load):.1f}-{max(budget.load):.1f} "
              f"(mean {np.mean(budget.load):.1f}) on {os.cpu_count()} cores")
    return metrics


def token_id_batches(encoder, sentences):
    """`encoder`'s token ids of `sentences`, `TOKENIZE_BATCH` sentences (one `[n, max_length]` array) at a time."""
    for start in range(0, len(sentences), TOKENIZE_BATCH):
        yield encoder.tokenize(tf.constant(sentences[start:start + TOKENIZE_BATCH])).numpy()


def training_token_frequencies(encoder, sentences, flag="--word-weighting sif"):
    """The relative frequency of each of `encoder`'s token ids in `sentences` (every one, tokenised as the encoder
    does, cut at its `max_length`): `--word-weighting sif`'s `p`, or what `--direction-anchor-band` ranks (`flag`
    names the user in the message)."""
    started = time.perf_counter()
    frequencies = count_token_frequencies(token_id_batches(encoder, sentences), encoder.vocabulary_size)
    print(f"{flag}: token frequencies of {len(sentences)} training sentences counted in "
          f"{time.perf_counter() - started:.0f} s")
    return frequencies


def initial_word_vectors(encoder, split, seed, parts=1, window=1):
    """`--init-word-embeddings`' `(directions [vocabulary_size, parts * word_dim], idf [vocabulary_size])`: `lsa_fit`
    of an even spread of about `LSA_FIT_SENTENCES` of `split`'s sentences (a `SentenceSplit`), tokenised as `encoder`
    does (cut at its `max_length`), one TF-IDF row per window of `window` consecutive sentences of one segment
    (`lsa_windows`; 1: each sentence); `idf * directions` are the LSA word vectors (`lsa_word_vectors`)."""
    started = time.perf_counter()
    units = lsa_windows(split.segments, window)
    count = int(units.max()) + 1  # windows; an even spread of them holds about LSA_FIT_SENTENCES sentences
    spread = np.linspace(0, count - 1, min(count, round(LSA_FIT_SENTENCES * count / len(units))))
    chosen = np.nonzero(np.isin(units, spread.round().astype(int)))[0]
    batches = token_id_batches(encoder, [split.sentences[i] for i in chosen])
    fit = lsa_fit(batches, encoder.vocabulary_size, parts * encoder.word_dim, seed=seed,
                  units=units[chosen] if window > 1 else None)  # 1: rows as they come, the same fit to the bit
    unit = "sentences'" if window == 1 else f"sentences' ({len(np.unique(units[chosen]))} windows of up to {window})"
    print(f"--init-word-embeddings: {parts * encoder.word_dim} LSA directions of {len(chosen)} training {unit} "
          f"tokens fitted in {time.perf_counter() - started:.0f} s")
    return fit


def lsa_windows(segments, window):
    """The window of each sentence (`[n]` int64, counting from 0 in reading order) when the sentences of each
    stretch of equal `segments` (consecutive sentences, e.g. a chapter or one package description) are cut into
    windows of `window`, the last one of a stretch shorter.

    Example:
        lsa_windows(np.array([4, 4, 4, 4, 4, 9, 9]), 2)  # [0, 0, 1, 1, 2, 3, 3]
    """
    segments, index = np.asarray(segments), np.arange(len(segments))
    if window < 1:
        raise ValueError(f"an LSA window holds at least 1 sentence; got {window}.")
    starts = np.ones(len(segments), bool)
    starts[1:] = segments[1:] != segments[:-1]
    first = np.maximum.accumulate(np.where(starts, index, 0))  # each sentence's stretch begins here
    return np.cumsum(starts | ((index - first) % window == 0)) - 1


def validation_batches(args, model, make_dataset, splits):
    """`(dataset, steps)`: the batches of every epoch's validation loss (what `--patience` watches). The first
    sentences of each source of the held-out documents (`held_out_sample`, `VALIDATION_SENTENCES` in all; never
    probe items), batched like the training (`make_dataset(shuffle=True)`: stretches from all sources mixed) once,
    so every epoch scores the same batches."""
    sources = len(splits.source_names or ["text"])
    sample = held_out_sample(splits.validation, per_source=max(1, VALIDATION_SENTENCES // sources))
    steps = len(sample) // args.batch_size
    if steps == 0:  # fewer held-out sentences than a batch: one smaller batch, in reading order
        return training_dataset(model, make_dataset(args, sample, shuffle=False)), 1
    batches = list(make_dataset(args, sample, shuffle=True).take(steps))
    stacked = tf.nest.map_structure(lambda *parts: tf.stack(parts), *batches)
    return training_dataset(model, tf.data.Dataset.from_tensor_slices(stacked)), len(batches)


def _validation_selection(args, model, transfer, budget, run):
    """`--select-on-probes`' callback: `ProbeMarks` at every epoch end of the transfer probes on the validation split
    (`transfer["validation"]`) and their `margins_over` TF-IDF + LSA at the embedding's size on the same probes
    (fitted once, here; kept as `.reference`), put into the epoch's logs as `val_<score>` for `BestWeights`
    (`val_selection`)."""
    if not args.select_on_probes:
        return None
    probes = transfer["validation"]
    reference = evaluate_transfer_tfidf(probes, args.embedding_dim, seed=args.seed, standard_errors=True)
    print("--select-on-probes: TF-IDF + LSA on the validation probes: " + ", ".join(
        f"{key} {value:.3f}" for key, value in reference.items()))

    def scores():
        result = evaluate_transfer(model.encode, probes, seed=args.seed)
        return {**result, **margins_over(result, reference)}

    selection = ProbeMarks(scores, None, budget=budget, log_dir=str(run.file("tensorboard/validation")),
                           tag="validation", logs_prefix="val_")
    selection.reference = reference
    return selection


def _held_out_scores(args, model, splits, transfer, held_out_judge):
    """What `--held-out-curve` measures every epoch: the judge on held-out text (`held_out_judge`) and the topic
    probe (when the corpus has package descriptions)."""
    if not getattr(args, "held_out_curve", False):
        return None
    judge = held_out_judge(args, model, splits)

    def scores():
        result = judge()
        if transfer is not None and "topic" in transfer:
            result["topic_probe"] = transfer_probe(model.encode, transfer, "topic", seed=args.seed)
        return result

    return scores


def _figures(model, splits, history, run, rows):
    if history:
        plots.history_curves(history, run.file("history.png"), title=type(model).__name__)
    count = min(MAX_PROJECTOR_POINTS, len(splits.test))
    chosen = np.random.default_rng(0).permutation(len(splits.test))[:count]
    sentences = [splits.test.sentences[i] for i in chosen]
    embeddings = embed(model.encode, sentences)
    write_projector(run.file("tensorboard"), embeddings, {
        "book": [splits.document_names[label] for label in splits.test.labels[chosen]], "sentence": sentences,
    })
    if count < 100:  # too few points for a t-SNE map
        return
    if splits.source_names:  # a corpus of several sources: colour by source (genre)
        labels, names, what = splits.test.sources, splits.source_names, "source"
        scores = "; ".join(f"{row}: genre probe {values['genre_probe']:.2f}" for row, values in rows.items()
                           if "genre_probe" in values)
    else:
        labels, names, what = splits.test.labels, splits.document_names, "book"
        scores = "; ".join(f"{row}: book probe {values['probe_accuracy']:.2f}, kNN {values['knn_accuracy']:.2f}"
                           for row, values in rows.items() if "probe_accuracy" in values)
    majority = np.bincount(labels).max() / len(labels)
    plots.embedding_map(
        embeddings, labels[chosen], run.file("embedding_map.png"), label_names=names,
        title=f"{type(model).__name__}: {count} held-out sentences (unseen chapters), t-SNE", colour_by=what,
        note=f"Majority {what} {majority:.2f}. {scores}. Most sentences carry little of their {what}; names and "
        "rare words do, which TF-IDF's probe relies on.",
    )
