"""GRU language-model decoder conditioned on a vector (a Skip-thought "thought")."""

import keras
import tensorflow as tf

from keras_ae.distribute import replica_uniform
from keras_ae.layers.unrolled_gru import can_unroll, unrolled_gru


def word_dropout(token_ids, rate, seed_generator):
    """Replaces a `rate` share of the words (not the padding, id 0) by the out-of-vocabulary id 1: a decoder's
    teacher-forcing inputs with words dropped, so that it must lean on its condition (Bowman et al., 2016,
    "Generating Sentences from a Continuous Space"). Draws differ between replicas (`replica_uniform`)."""
    if not rate:
        return token_ids
    draws = replica_uniform(tf.shape(token_ids), seed_generator)
    dropped = tf.logical_and(draws < rate, tf.not_equal(token_ids, 0))
    return tf.where(dropped, tf.ones_like(token_ids), token_ids)


@keras.saving.register_keras_serializable(package="keras_ae")
class ConditionalGRUDecoder(keras.layers.Layer):
    """Predicts a sentence word by word given a condition vector: `(input_ids [batch, length], condition [batch, c])
    -> logits [batch, length, vocabulary_size]`.

    The condition sets the GRU's initial state (through a tanh projection) and is fed again at every step, beside the
    previous word, as Skip-thought's decoders see the encoder's thought vector at every step (Kiros et al., 2015,
    "Skip-Thought Vectors"). Training uses teacher forcing: `input_ids` is the target shifted right behind
    `start_id` (see `teacher_forcing_inputs`). Target id 0 (padding) doubles as the end-of-sentence symbol: the
    decoder learns to emit 0 once the sentence is over.

    Args:
        vocabulary_size: number of output tokens (padding / end at 0 and OOV at 1 included).
        hidden_dim: size of the GRU state.
        word_dim: size of the input word embeddings.
        output_dim: size of the projection before the softmax (smaller than `hidden_dim` makes the large output layer
            cheaper); None: no projection.
        embed_inputs: True: the inputs are token ids, embedded by the decoder's own table (with one extra row, the
            start symbol `vocabulary_size`). False: the inputs are word vectors `[batch, length, word_dim]` embedded by
            the caller, e.g. with the encoder's table, as Skip-thought shares its word embeddings.
        unroll: run the GRU's weights as a loop unrolled over the (static) input length, projecting the words of all
            steps at once and the condition once instead of at every step (`keras_ae.layers.unrolled_gru`): the same
            logits (to float rounding), faster on CPU, a longer first trace. False (or an input length unknown when
            traced): Keras' `GRU` loop.

    Example:
        decoder = ConditionalGRUDecoder(vocabulary_size=100, hidden_dim=64)
        targets = tf.constant([[5, 6, 7, 0]])
        logits = decoder(decoder.teacher_forcing_inputs(targets), tf.zeros([1, 32]))   # [1, 4, 100]
    """

    def __init__(self, vocabulary_size, hidden_dim=256, word_dim=128, output_dim=None, embed_inputs=True, unroll=False,
                 **kwargs):
        super().__init__(**kwargs)
        # Layers: the input embedding has one extra row, the start symbol `vocabulary_size`.
        self.word_embedding = (
            keras.layers.Embedding(vocabulary_size + 1, word_dim, name="words") if embed_inputs else None
        )
        self.initial_state = keras.layers.Dense(hidden_dim, activation="tanh", name="initial_state")
        self.gru = keras.layers.GRU(hidden_dim, return_sequences=True, name="gru")
        self.projection = keras.layers.Dense(output_dim, name="projection") if output_dim else None
        self.to_logits = keras.layers.Dense(vocabulary_size, name="logits")
        # Config
        self.vocabulary_size = vocabulary_size
        self.hidden_dim = hidden_dim
        self.word_dim = word_dim
        self.output_dim = output_dim
        self.embed_inputs = embed_inputs
        self.unroll = unroll
        self.start_id = vocabulary_size

    def build(self, input_ids_shape, condition_shape=None):
        condition_dim = condition_shape[-1] if condition_shape is not None else self.hidden_dim
        if self.word_embedding is not None:
            self.word_embedding.build(input_ids_shape[:2])
        self.initial_state.build((None, condition_dim))
        self.gru.build((None, None, self.word_dim + condition_dim))
        width = self.hidden_dim
        if self.projection is not None:
            self.projection.build((None, None, width))
            width = self.output_dim
        self.to_logits.build((None, None, width))
        self.built = True

    def teacher_forcing_inputs(self, target_ids):
        """The decoder inputs for targets `[batch, length]`: the start symbol, then the targets shifted right."""
        target_ids = tf.convert_to_tensor(target_ids)
        start = tf.fill([tf.shape(target_ids)[0], 1], tf.constant(self.start_id, target_ids.dtype))
        return tf.concat([start, target_ids[:, :-1]], axis=1)

    def call(self, input_ids, condition, training=None):
        return self.to_logits(self.output_features(input_ids, condition, training=training))

    def output_features(self, input_ids, condition, training=None):
        """What the vocabulary layer `to_logits` reads, `[batch, length, output_dim or hidden_dim]`: the logits are
        `to_logits(output_features(...))`, so a loss can run `to_logits` at the positions it scores only
        (`keras_ae.losses.scored_token_crossentropy`)."""
        words = self.word_embedding(input_ids) if self.word_embedding is not None else input_ids
        if self.unroll and can_unroll(self.gru, words.shape[1]):
            states = unrolled_gru(self.gru, words, self.initial_state(condition), steady_inputs=condition)
        else:
            steps = tf.shape(words)[1]
            repeated = tf.tile(tf.expand_dims(tf.cast(condition, words.dtype), 1), tf.stack([1, steps, 1]))
            states = self.gru(
                tf.concat([words, repeated], axis=-1), initial_state=self.initial_state(condition), training=training
            )
        if self.projection is not None:
            states = self.projection(states)
        return states

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "hidden_dim": self.hidden_dim,
                "word_dim": self.word_dim,
                "output_dim": self.output_dim,
                "embed_inputs": self.embed_inputs,
                "unroll": self.unroll,
            }
        )
        return config
