"""Skip-thought sentence embeddings: `python -m keras_ae.recipes.skip_thought [--corpus all|books|austen|PATH] ...`.

Trains a GRU sentence encoder with two GRU decoders of the previous and next sentences on ordered text (default:
the `all` corpus of `keras_ae.data.corpus`, WordPiece subwords, a 5-minute budget), then prints the comparison
table (TF-IDF, TF-IDF + LSA, a random-init encoder of the same shape, the trained model: the transfer probes book,
genre and topic, and next-sentence retrieval among 100 held-out candidates), writes the run folder (nearest
neighbours of a few queries, figures, history, TensorBoard, checkpoint) and exports a SavedModel whose `encode`
signature takes raw `tf.string` sentences (load it after `import tensorflow_text` when it uses WordPiece).
"""

from keras_ae.config import constructor_default
from keras_ae.core.validation import positive_int, probability
from keras_ae.data.corpus import triple_batches
from keras_ae.data.text import make_triple_dataset
from keras_ae.models.skip_thought import SkipThought
from keras_ae.recipes.common import recipe_parser
from keras_ae.recipes.text_recipe import TEXT_DEFAULTS, add_text_flags, run_text_recipe, training_shares


def build_parser():
    parser = recipe_parser(
        "skip_thought", __doc__.splitlines()[0], defaults={**TEXT_DEFAULTS, "epochs": 100, "learning_rate": 1e-2}
    )
    add_text_flags(parser, SkipThought)
    parser.add_argument("--decoder-dim", type=positive_int, default=None, help="decoder GRU size (default: embedding dim)")
    parser.add_argument(
        "--decoder-length", type=positive_int, default=constructor_default(SkipThought, "decoder_length"),
        help="the decoders predict this many first words of the neighbours"
    )
    parser.add_argument(
        "--word-dropout",
        type=probability,
        default=constructor_default(SkipThought, "decoder_word_dropout"),
        help="share of the decoders' input words hidden during training, so they lean on the thought vector",
    )
    return parser


def build_model(args, vocabulary):
    return SkipThought(
        vocabulary,
        embedding_dim=args.embedding_dim,
        word_dim=args.word_dim,
        max_length=args.max_length,
        decoder_dim=args.decoder_dim,
        decoder_length=args.decoder_length,
        decoder_word_dropout=args.word_dropout,
        seed=args.seed,
        pooling=args.pooling,
        bidirectional=args.bidirectional,
        tokenizer=args.tokens,
        bucket_width=args.bucket_width,
        readout=args.readout,
        word_weighting=args.word_weighting,
        sif_a=args.sif_a,
        freeze_word_embeddings=args.freeze_word_embeddings,
    )


def make_dataset(args, split, shuffle=False):
    if shuffle and split.shards is not None:
        return triple_batches(split.shards, args.batch_size, seed=args.seed, shares=training_shares(args, split))
    return make_triple_dataset(split, args.batch_size, shuffle=shuffle, seed=args.seed)


def main(argv=None):
    return run_text_recipe(build_parser(), build_model, make_dataset, argv=argv)


if __name__ == "__main__":
    main()
