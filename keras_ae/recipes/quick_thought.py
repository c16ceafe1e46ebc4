"""Quick-thought sentence embeddings: `python -m keras_ae.recipes.quick_thought [--corpus all|books|austen|PATH] ...`.

Trains two GRU sentence encoders f and g so that f(s) . g(c) picks the true previous and next sentences among all
sentences of the global batch (batches of stretches of contiguous sentences; `--chunk-size 0` for the paper's one
stretch per batch, which learns less about what tells books apart), then prints the same comparison table as the
Skip-thought recipe (retrieval by the cosine of the embedding; by f(s) . g(c) in the `scorer_*` columns), writes the
run folder and exports a SavedModel (`encode`: raw `tf.string` sentences -> [f(s), g(s)]; also `encode_query`,
`encode_context`, `score`).
"""

import argparse

import numpy as np

from keras_ae.config import constructor_default
from keras_ae.core.validation import non_negative_float, non_negative_int, positive_int, probability
from keras_ae.data.corpus import contiguous_batches
from keras_ae.data.text import make_contiguous_dataset
from keras_ae.evaluation.sentences import HELD_OUT_PER_SOURCE, held_out_sample, neighbour_picks_by_source
from keras_ae.models.quick_thought import WORD_ANCHOR_SCALES, QuickThought
from keras_ae.recipes.common import recipe_parser
from keras_ae.recipes.text_recipe import TEXT_DEFAULTS, add_text_flags, run_text_recipe, training_shares


def build_parser():
    parser = recipe_parser(
        "quick_thought",
        __doc__.splitlines()[0],
        defaults={**TEXT_DEFAULTS, "epochs": 100, "batch_size": 400, "learning_rate": 1e-2},
    )
    # 16,000 requested pieces at the learner's lowest count 5 (it keeps 11,046 on --corpus all): better on the
    # validation probes at equal steps on seeds 0 and 1 than 8,000 at count 10 (6,404 pieces), which kept the names and
    # topic words that 3,000 lose (docs/results/sentences.md, "Session 27" and "Sentences that transfer").
    add_text_flags(parser, QuickThought, vocabulary_size=16000, min_piece_count=5)
    parser.add_argument(
        "--chunk-size",
        type=non_negative_int,
        default=20,
        help="a batch is batch-size / chunk-size stretches of chunk-size contiguous sentences from random places "
        "(0: one contiguous stretch per batch, as in the paper)",
    )
    model_flag = lambda flag, **kwargs: parser.add_argument(  # noqa: E731
        flag, default=constructor_default(QuickThought, flag[2:].replace("-", "_")), **kwargs
    )  # a flag whose default has one home: QuickThought's constructor
    model_flag(
        "--hidden-dim", type=positive_int,
        help="each encoder's GRU size (default: half of --embedding-dim); when it differs, the pooled states are "
        "projected to half of --embedding-dim, so the embedding keeps its size",
    )
    model_flag("--word-skip", action="store_true",
               help="each encoder adds a linear map of its mean word embedding to its pooled GRU states")
    model_flag("--context-window", type=positive_int,
               help="how many sentences on each side are true neighbours to pick out (1: the previous and the next)")
    model_flag(
        "--document-weight", type=non_negative_float,
        help="weight of the document judge: each sentence picks out its own document (the mean of its document's "
        "other sentences in the batch) among the batch's other documents (0: off, the paper's objective)",
    )
    model_flag(
        "--token-dropout", type=probability,
        help="in training, each encoder reads each token as out-of-vocabulary with this probability, against "
        "learning the training text's exact wording (0: off)",
    )
    model_flag(
        "--packed", action=argparse.BooleanOptionalAction,
        help="each encoder runs its GRU once over the batch's real tokens (packed sequences, a batch that shrinks as "
        "sentences end) instead of by length buckets; the same embeddings (--bucket-width needs --no-packed)",
    )
    model_flag(
        "--product-dtype", choices=["bfloat16"],
        help="compute each encoder's products over all tokens at once (input projection and gradients) in bfloat16: "
        "about a third of float32's CPU time per product with AMX or AVX512-BF16 (default: float32)",
    )
    model_flag(
        "--word-anchor-weight", type=non_negative_float,
        help="weight of an L2-SP penalty (Li et al., 2018) pulling both word tables towards their start, e.g. "
        "--init-word-embeddings lsa: weight * squared distance of the tables to it, added to the loss (0: off)",
    )
    model_flag(
        "--word-anchor-scale", choices=WORD_ANCHOR_SCALES,
        help="fixed: the distance to the start itself (the paper's); free: to the nearest multiple of the start, so "
        "the tables may grow as a whole and only a change of direction costs (needs --word-anchor-weight)",
    )
    model_flag(
        "--similarity-anchor-weight", type=non_negative_float,
        help="weight of a similarity-preserving term (Tung & Mori, 2019) that keeps the function of the word tables' "
        "start, e.g. --init-word-embeddings lsa, not their values: the mean squared difference between the batch's "
        "cosine similarities of the embeddings now and under the start, added to the loss (needs --readout words; "
        "0: off)",
    )
    model_flag(
        "--length-anchor-weight", type=non_negative_float,
        help="weight of a penalty that keeps the word rows' lengths relative to each other at their start's, e.g. "
        "--init-word-embeddings lsa's idf weighting, while their directions and the tables' scale train: the variance "
        "over rows of log(row length / start's row length), added to the loss (0: off)",
    )
    model_flag(
        "--direction-anchor-weight", type=non_negative_float,
        help="weight of a penalty that keeps the word rows of a band of pieces (--direction-anchor-band, ranked by "
        "their frequency in the training text) pointing where they started, e.g. --init-word-embeddings lsa, while "
        "their lengths and every other row train: the band's mean 1 - cos(row, start row), added to the loss (0: off)",
    )
    model_flag(
        "--direction-anchor-band", type=_band,
        help="FIRST:LAST, fractions of the vocabulary ranked by training frequency, most frequent first: the pieces "
        "--direction-anchor-weight holds (default 0.01:0.1: below the top 1%%, within the top 10%%)",
    )
    parser.add_argument(
        "--held-out-curve",
        action="store_true",
        help="after every epoch, also measure the judge on held-out text, source by source (loss and share of true "
        f"neighbours picked right, on the first {HELD_OUT_PER_SOURCE} validation sentences of each source in "
        "batches mixed like the training's) and the topic probe, into metrics.json's held_out_curve and "
        "TensorBoard's held_out/* (outside the time budget): how the judge's task and the probe generalise as "
        "training goes on",
    )
    return parser


def _band(text):
    """`--direction-anchor-band`'s FIRST:LAST as a pair of floats."""
    try:
        first, last = (float(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"give FIRST:LAST, two fractions such as 0.01:0.1; got {text!r}") from None
    if not 0 <= first < last <= 1:
        raise argparse.ArgumentTypeError(f"FIRST:LAST needs 0 <= FIRST < LAST <= 1; got {text!r}")
    return (first, last)


def build_model(args, vocabulary):
    return QuickThought(
        vocabulary,
        embedding_dim=args.embedding_dim,
        word_dim=args.word_dim,
        max_length=args.max_length,
        pooling=args.pooling,
        bidirectional=args.bidirectional,
        tokenizer=args.tokens,
        bucket_width=args.bucket_width,
        packed=args.packed,
        hidden_dim=args.hidden_dim,
        word_skip=args.word_skip,
        context_window=args.context_window,
        document_weight=args.document_weight,
        token_dropout=args.token_dropout,
        product_dtype=args.product_dtype,
        readout=args.readout,
        word_weighting=args.word_weighting,
        sif_a=args.sif_a,
        freeze_word_embeddings=args.freeze_word_embeddings,
        word_anchor_weight=args.word_anchor_weight,
        word_anchor_scale=args.word_anchor_scale,
        similarity_anchor_weight=args.similarity_anchor_weight,
        length_anchor_weight=args.length_anchor_weight,
        direction_anchor_weight=args.direction_anchor_weight,
        direction_anchor_band=args.direction_anchor_band,
    )


def make_dataset(args, split, shuffle=False):
    if shuffle and split.shards is not None:
        return contiguous_batches(split.shards, args.batch_size, chunk_size=args.chunk_size or args.batch_size,
                                  seed=args.seed, shares=training_shares(args, split))
    return make_contiguous_dataset(split, args.batch_size, shuffle=shuffle, seed=args.seed, chunk_size=args.chunk_size)


def held_out_judge(args, model, splits):
    """`--held-out-curve`'s judge: `neighbour_picks_by_source` on the first validation sentences of each source,
    batched once (seed 0) like the training batches."""
    sample = held_out_sample(splits.validation)
    batches = make_contiguous_dataset(sample, min(args.batch_size, len(sample)), shuffle=True, seed=0,
                                      chunk_size=args.chunk_size or None)
    batches = [model.prepare_batch(batch) for batch in batches]
    sources = np.zeros(len(splits.document_names), "int64")
    sources[sample.labels] = sample.sources
    names = splits.source_names or ["text"]
    return lambda: neighbour_picks_by_source(model, batches, sources, names)


def retrieval_scorer(model):
    return model.encode_query, model.encode_context


def tuning_task(args):
    """The `python -m keras_ae.recipes.tune --model quick_thought` task: a `QuickThoughtHyperModel` searching the
    embedding size, scored by the book probe on the validation chapters (probe trained on an even spread of 10,000
    training sentences). Its models read the recipe's default vocabulary and tokens (`recipe_vocabulary`: 16,000
    WordPiece pieces asked at count 5), so the search tries the encoder the recipe trains."""
    from keras_ae.data.text import load_text
    from keras_ae.evaluation.sentences import probe_training_set
    from keras_ae.recipes.text_recipe import PROBE_TRAIN_SENTENCES, recipe_vocabulary
    from keras_ae.tuning import TuningTask, QuickThoughtHyperModel

    defaults = build_parser().parse_args([])
    splits = load_text(args.data or "austen", max_length=defaults.max_length, limit=args.limit)
    vocabulary = recipe_vocabulary(defaults, splits.train.sentences)
    train_sentences, train_labels = probe_training_set(splits, PROBE_TRAIN_SENTENCES)
    hypermodel = QuickThoughtHyperModel(
        vocabulary,
        (train_sentences, train_labels, splits.validation.sentences, splits.validation.labels),
        model_options=dict(word_dim=defaults.word_dim, max_length=defaults.max_length, tokenizer=defaults.tokens),
        min_dim=max(args.min_dim, 2),
        max_dim=args.max_dim,
        learning_rate=args.learning_rate,
    )
    data_args = argparse.Namespace(
        batch_size=args.batch_size or defaults.batch_size,
        seed=args.seed,
        chunk_size=defaults.chunk_size,
    )
    return TuningTask(
        hypermodel,
        make_dataset(data_args, splits.train, shuffle=True),
        make_dataset(data_args, splits.validation),
        "quick_thought",
    )


def main(argv=None):
    return run_text_recipe(build_parser(), build_model, make_dataset, retrieval_scorer=retrieval_scorer,
                           held_out_judge=held_out_judge, argv=argv)


if __name__ == "__main__":
    main()
