"""A Wasserstein critic of word sequences that has only seen real human-written summaries."""

import keras
import tensorflow as tf

from keras_ae.core.steps import gradient_penalty
from keras_ae.distribute import replica_uniform

POOLINGS = ("max", "mean")


class TextCritic(keras.layers.Layer):
    """What every critic of word sequences shares: real summaries read from the batch, the WGAN-GP loss, the
    generator's loss and the metrics. A subclass defines `call` (scores `[batch]` of sequences `[batch, length, V]`)
    and `build`, and adds its own arguments to `get_config`.

    Args:
        vocabulary_size: number of tokens (the last axis of the sequences).
        word_dim: size of the critic's word vectors.
        penalty_weight: weight of the gradient penalty.
        real_key: the batch entry with the real summaries' token ids.
        seed: seed of the penalty's interpolation.

    Example:
        critic = RealTextDiscriminator(vocabulary_size=100)    # a subclass
        losses, metrics = critic.adversary_loss({"summary_ids": real_ids}, generated_one_hots)   # [batch], {...}
    """

    def __init__(self, vocabulary_size, word_dim=64, penalty_weight=10.0, real_key="summary_ids", seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.words = keras.layers.Dense(word_dim, use_bias=False, name="words")
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.vocabulary_size = vocabulary_size
        self.word_dim = word_dim
        self.penalty_weight = float(penalty_weight)
        self.real_key = real_key
        self.seed = seed
        self.metric_names = (f"{self.name}_accuracy", f"{self.name}_distance")

    def real_sequences(self, batch, length):
        if not isinstance(batch, dict) or self.real_key not in batch:
            raise ValueError(f"{self.name} reads real summaries from batch[{self.real_key!r}]; feed dict batches "
                             "with that key (see keras_ae.data.summaries.make_unpaired_dataset).")
        ids = tf.cast(batch[self.real_key], tf.int32)[:, :length]
        ids = tf.pad(ids, [[0, 0], [0, length - tf.shape(ids)[1]]])
        return tf.one_hot(ids, self.vocabulary_size, dtype="float32")

    @staticmethod
    def sequences(code):
        """The generated word sequences of a code: the code itself, or the first element of a tuple code (e.g. a
        REINFORCE code `(sampled words, log-probabilities, baseline words)`)."""
        return tf.cast(code[0] if isinstance(code, (tuple, list)) else code, "float32")

    def adversary_loss(self, batch, code, training=False):
        """The critic's WGAN-GP loss `[batch]`, its accuracy (real scored above the midpoint of the mean real and
        fake scores, fake below) and the estimated Wasserstein distance `mean D(real) - mean D(fake)`."""
        fake = self.sequences(code)
        real = self.real_sequences(batch, fake.shape[1] or tf.shape(fake)[1])
        real_scores, fake_scores = self(real), self(fake)
        seed = tf.cast(replica_uniform([2], self.seed_generator) * 2**30, tf.int32)
        penalty = gradient_penalty(self, real, fake, seed)
        losses = fake_scores - real_scores + self.penalty_weight * penalty
        middle = 0.5 * (tf.reduce_mean(real_scores) + tf.reduce_mean(fake_scores))
        accuracy = 0.5 * (tf.reduce_mean(tf.cast(real_scores > middle, "float32"))
                          + tf.reduce_mean(tf.cast(fake_scores <= middle, "float32")))
        distance = tf.reduce_mean(real_scores) - tf.reduce_mean(fake_scores)
        return losses, {self.metric_names[0]: accuracy, self.metric_names[1]: distance}

    def encoder_loss(self, batch, code, training=False):
        """What the generator minimises, `-D(fake)` `[batch]`."""
        return -self(self.sequences(code))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "word_dim": self.word_dim,
                "penalty_weight": self.penalty_weight,
                "real_key": self.real_key,
                "seed": self.seed,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
class RealTextDiscriminator(TextCritic):
    """Scores word sequences `[batch, length, V]` (one-hot or soft) by how much they read like real summaries; an
    adversary of the `JudgedEncoder` loop whose code is the generated word sequence.

    A convolutional critic (word vectors from a bias-free projection of the word distributions, convolutions of
    several widths, pooled over time) trained as a WGAN-GP: it minimises `D(fake) - D(real) + penalty_weight * GP`, the
    generator minimises `-D(fake)` (Gulrajani et al., 2017; Wang & Lee, 2018, "Learning to Encode Text as
    Human-Readable Summaries using Generative Adversarial Networks", section 3.2). Real summaries come from the
    batch's `real_key` entry as token ids `[batch, length]` (0-padded: padding is the end symbol, as in generated
    sequences), never paired with the batch's documents.

    Args:
        vocabulary_size: number of tokens (the last axis of the sequences).
        word_dim: size of the critic's word vectors.
        filters: feature maps per convolution width.
        widths: convolution widths (in words).
        penalty_weight: weight of the gradient penalty.
        pooling: how the n-gram features become one score. "max": each feature's largest value over the positions
            (Kim, 2014), so the score rests on the sequence's most telling n-grams and the words elsewhere move it
            little. "mean": their mean over the positions (the end symbols included), so the score is an average
            of one score per position, `b + mean_t s(w_t-k..w_t+k)`, and every transition of the sequence is
            judged, as a per-step discriminator judges every word (Wang & Lee's released code) and as an n-gram
            model's perplexity averages over every n-gram.
        real_key: the batch entry with the real summaries' token ids.
        seed: seed of the penalty's interpolation.

    Example:
        critic = RealTextDiscriminator(vocabulary_size=100, name="discriminator")
        per_position = RealTextDiscriminator(vocabulary_size=100, pooling="mean")   # every n-gram counts
        losses, metrics = critic.adversary_loss({"summary_ids": real_ids}, generated_one_hots)   # [batch], {...}
    """

    def __init__(self, vocabulary_size, word_dim=64, filters=64, widths=(2, 3), penalty_weight=10.0, pooling="max",
                 real_key="summary_ids", seed=None, **kwargs):
        if pooling not in POOLINGS:
            raise ValueError(f"Unknown pooling {pooling!r}: choose one of {', '.join(POOLINGS)}.")
        super().__init__(vocabulary_size, word_dim=word_dim, penalty_weight=penalty_weight, real_key=real_key,
                         seed=seed, **kwargs)
        # Layers
        self.convolutions = [
            keras.layers.Conv1D(filters, width, padding="same", activation="relu", name=f"conv{width}")
            for width in widths
        ]
        self.score = keras.layers.Dense(1, name="score")
        # Config
        self.filters = filters
        self.widths = tuple(widths)
        self.pooling = pooling

    def build(self, code_shape=None):
        self.words.build((None, None, self.vocabulary_size))
        for convolution in self.convolutions:
            convolution.build((None, None, self.word_dim))
        self.score.build((None, self.filters * len(self.widths)))
        self.built = True

    def call(self, sequences):
        """Critic scores `[batch]` of word sequences `[batch, length, V]`."""
        vectors = self.words(sequences)
        pool = tf.reduce_max if self.pooling == "max" else tf.reduce_mean
        pooled = [pool(convolution(vectors), axis=1) for convolution in self.convolutions]
        return tf.cast(self.score(tf.concat(pooled, axis=-1))[:, 0], "float32")

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "widths": list(self.widths), "pooling": self.pooling})
        return config
