"""GRU encoder of word sequences given as one-hot or soft word distributions (a generated word-sequence code)."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_ae")
class WordSequenceEncoder(keras.layers.Layer):
    """`words [batch, length, V] -> embedding [batch, embedding_dim]`: word vectors as the distributions times a word
    table (so gradients reach the distributions, e.g. through straight-through Gumbel-softmax samples), a GRU, its
    last state. Positions whose word is the end symbol (id 0, also the padding) are masked out. Wang & Lee's (2018)
    reconstructor reads the generated summary this way before it rebuilds the document.

    Args:
        vocabulary_size: number of tokens (the last axis of the input).
        embedding_dim: size of the embedding (the GRU's state).
        word_dim: size of the word vectors.

    Example:
        encoder = WordSequenceEncoder(vocabulary_size=100, embedding_dim=32)
        z = encoder(tf.one_hot([[5, 7, 0]], 100))    # [1, 32]
    """

    def __init__(self, vocabulary_size, embedding_dim=128, word_dim=64, **kwargs):
        super().__init__(**kwargs)
        # Layers
        self.words = keras.layers.Dense(word_dim, use_bias=False, name="words")
        self.gru = keras.layers.GRU(embedding_dim, name="gru")
        # Config
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.word_dim = word_dim

    def build(self, input_shape=None):
        self.words.build((None, None, self.vocabulary_size))
        self.gru.build((None, None, self.word_dim))
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.embedding_dim)

    def call(self, words, training=None):
        mask = tf.stop_gradient(words[:, :, 0]) < 0.5
        return self.gru(self.words(words), mask=mask, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"vocabulary_size": self.vocabulary_size, "embedding_dim": self.embedding_dim, "word_dim": self.word_dim}
        )
        return config
