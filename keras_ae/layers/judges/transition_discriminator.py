"""A Wasserstein critic of word sequences that judges every transition: a recurrent score of each prefix, averaged."""

import keras
import tensorflow as tf

from keras_ae.layers.judges.real_text_discriminator import TextCritic


@keras.saving.register_keras_serializable(package="keras_ae")
class TransitionDiscriminator(TextCritic):
    """Scores word sequences `[batch, length, V]` (one-hot or soft) by how much every step reads like a real summary.

    A GRU reads the words left to right; after each word (the first end symbol included: ending there is a step too)
    a linear score of its state judges the prefix so far, and the sequence's score is the mean of those per-step
    scores over the steps up to its end, `D(w) = sum_t m_t s(w_1..w_t) / sum_t m_t`. So every transition counts
    and none can be bought by one telling phrase elsewhere, as in the per-step discriminator of Wang & Lee's released
    code ("Learning to Encode Text as Human-Readable Summaries using Generative Adversarial Networks", EMNLP 2018)
    and as an n-gram model's perplexity averages over every word. `m_t = prod_{s<t} (1 - p_end(w_s))` is one until the
    first end symbol (itself included) and zero after it for one-hot words, and a soft "not ended yet" for the
    gradient penalty's interpolates, so steps after the end change nothing. Trained as `RealTextDiscriminator`
    (WGAN-GP; the generator minimises `-D(fake)`, its gradient reaching every word it wrote).

    Args:
        vocabulary_size: number of tokens (the last axis of the sequences; id 0 is the end symbol).
        word_dim: size of the critic's word vectors.
        hidden_dim: size of the GRU's state.
        penalty_weight: weight of the gradient penalty.
        real_key: the batch entry with the real summaries' token ids.
        seed: seed of the penalty's interpolation.

    Example:
        critic = TransitionDiscriminator(vocabulary_size=100, name="discriminator")
        scores, steps = critic.step_scores(one_hot_words)   # [batch, length] each: per-step score, 1 until the end
        losses, metrics = critic.adversary_loss({"summary_ids": real_ids}, one_hot_words)   # [batch], {...}
    """

    def __init__(self, vocabulary_size, word_dim=64, hidden_dim=64, penalty_weight=10.0, real_key="summary_ids",
                 seed=None, **kwargs):
        super().__init__(vocabulary_size, word_dim=word_dim, penalty_weight=penalty_weight, real_key=real_key,
                         seed=seed, **kwargs)
        # Layers (unrolled: summaries are a few words, and the gradient penalty differentiates the critic twice)
        self.recurrent = keras.layers.GRU(hidden_dim, return_sequences=True, unroll=True, name="recurrent")
        self.score = keras.layers.Dense(1, name="score")
        # Config
        self.hidden_dim = hidden_dim

    def build(self, code_shape=None):
        self.words.build((None, None, self.vocabulary_size))
        self.recurrent.build((None, None, self.word_dim))
        self.score.build((None, None, self.hidden_dim))
        self.built = True

    def step_scores(self, sequences):
        """`(scores, steps)`, both `[batch, length]`: the score of every prefix and its weight `m_t` (1 up to the
        first end symbol, that one included, 0 after it for one-hot words)."""
        sequences = tf.cast(sequences, "float32")
        scores = tf.cast(self.score(self.recurrent(self.words(sequences)))[:, :, 0], "float32")
        not_ended = tf.math.cumprod(1.0 - sequences[:, :, 0], axis=1, exclusive=True)
        return scores, not_ended

    def call(self, sequences):
        """Critic scores `[batch]`: the mean per-step score up to the end."""
        scores, steps = self.step_scores(sequences)
        return tf.reduce_sum(scores * steps, axis=1) / tf.reduce_sum(steps, axis=1)  # m_1 = 1: never 0

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_dim": self.hidden_dim})
        return config
