"""Quick-thought: two sentence encoders judged by a classifier that picks the true neighbours among candidates."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.distribute import gather_global_batch
from keras_ae.layers.gru_sentence_encoder import GRUSentenceEncoder
from keras_ae.losses import info_nce
from keras_ae.models.training import StringInputModel, metric_results, minimize, unpack_inputs


def quick_thought_losses(query, context, positions):
    """Per-sentence Quick-thought loss `[batch]` and the number of true neighbours each sentence has `[batch]`.

    `query` (f(s)) and `context` (g(c)) are this replica's `[batch, dim]` encodings of a stretch of contiguous
    sentences, `positions` their running positions (`SentenceSplit.positions`: neighbours differ by exactly 1).
    Candidates are the sentences of the global batch, gathered across replicas, except the sentence itself; the
    score of a candidate is `f(s) . g(c)`; softmax cross-entropy picks the true previous and the true next sentence
    (each when it is in the global batch and in the same chapter).
    """
    global_context, offset = gather_global_batch(context)
    global_positions, _ = gather_global_batch(positions)
    scores = tf.matmul(tf.cast(query, tf.float32), tf.cast(global_context, tf.float32), transpose_b=True)
    local = tf.shape(query)[0]
    candidates = tf.shape(global_context)[0]
    own = tf.range(local) + offset
    scores = tf.where(tf.equal(own[:, None], tf.range(candidates)[None, :]), -1e9, scores)
    total = tf.zeros([local], tf.float32)
    count = tf.zeros([local], tf.float32)
    for step in (-1, 1):
        target = own + step
        inside = (target >= 0) & (target < candidates)
        safe = tf.clip_by_value(target, 0, candidates - 1)
        is_neighbour = inside & tf.equal(tf.gather(global_positions, safe), positions + step)
        weight = tf.cast(is_neighbour, tf.float32)
        total += weight * info_nce(scores, safe)
        count += weight
    return total, count


@keras.saving.register_keras_serializable(package="keras_ae")
class QuickThought(StringInputModel):
    """Quick-thought vectors (Logeswaran & Lee, 2018, "An efficient framework for learning sentence
    representations").

    Two encoders, f for the sentence and g for its candidates; the judge is a classifier that, for each sentence of
    a batch of contiguous sentences, picks its true previous and next sentences among all the sentences of the global
    batch (gathered across replicas) by the inner product `f(s) . g(c)`. No decoder: the judge only compares
    embeddings, which is why it trains much faster than Skip-thought. The embedding is `[f(s), g(s)]`.

    Args:
        vocabulary: list of tokens (see `keras_ae.data.text.build_vocabulary`).
        embedding_dim: size of the final embedding `[f(s), g(s)]`; each encoder gives half (must be even), so the
            model compares with others at the same embedding size.
        word_dim: size of the word embeddings.
        pooling: how the encoder pools its GRU states: `"last"` (the papers' choice), `"max"` or `"mean"` (see
            `GRUSentenceEncoder`).
        bidirectional: each encoder reads the sentence with a forward and a backward GRU, each half its size.
        max_length: sentences are truncated to this many tokens.
        query_encoder, context_encoder: f and g, `GRUSentenceEncoder`-like layers; default built from the arguments.

    Example:
        model = QuickThought(vocabulary, embedding_dim=256)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(make_contiguous_dataset(splits.train, batch_size=400, shuffle=True), epochs=3)
        z = model.encode(tf.constant(["It is a truth universally acknowledged."]))   # [1, 256]
    """

    def __init__(
        self,
        vocabulary,
        embedding_dim=256,
        word_dim=128,
        max_length=30,
        pooling="last",
        bidirectional=False,
        query_encoder=None,
        context_encoder=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if embedding_dim % 2:
            raise ValueError(
                f"QuickThought's embedding_dim is split between f and g, so it must be even; got {embedding_dim}."
            )
        if bidirectional and embedding_dim % 4:
            raise ValueError(
                "A bidirectional QuickThought splits embedding_dim between f and g and each half between two "
                f"directions, so it must be a multiple of 4; got {embedding_dim}."
            )
        # Layers
        half = embedding_dim // 2
        self.query_encoder = query_encoder or GRUSentenceEncoder(
            vocabulary, embedding_dim=half, word_dim=word_dim, max_length=max_length,
            pooling=pooling, bidirectional=bidirectional, name="query_encoder"
        )
        self.context_encoder = context_encoder or GRUSentenceEncoder(
            vocabulary, embedding_dim=half, word_dim=word_dim, max_length=max_length,
            pooling=pooling, bidirectional=bidirectional, name="context_encoder"
        )
        # Metrics
        self.loss_tracker = keras.metrics.Mean(name="loss")
        # Config
        self.vocabulary = list(vocabulary)
        self.embedding_dim = embedding_dim
        self.word_dim = word_dim
        self.max_length = max_length
        self.pooling = pooling
        self.bidirectional = bidirectional
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None,))

    @property
    def metrics(self):
        return [self.loss_tracker]

    def build(self, input_shape=None):
        for encoder in (self.query_encoder, self.context_encoder):
            if not encoder.built:
                encoder.build(input_shape)
        self.built = True

    def call(self, sentences, training=False):
        return tf.concat(
            [self.query_encoder(sentences, training=training), self.context_encoder(sentences, training=training)],
            axis=-1,
        )

    def encode(self, sentences):
        """Embeddings `[f(s), g(s)]`, `[batch, embedding_dim]` float32, of a `tf.string` tensor `[batch]`."""
        return tf.cast(self(tf.convert_to_tensor(sentences, tf.string), training=False), tf.float32)

    def encode_query(self, sentences):
        """f(s): the half of the embedding that scores candidates."""
        return tf.cast(self.query_encoder(tf.convert_to_tensor(sentences, tf.string), training=False), tf.float32)

    def encode_context(self, sentences):
        """g(c): the half of the embedding that candidates are scored by."""
        return tf.cast(self.context_encoder(tf.convert_to_tensor(sentences, tf.string), training=False), tf.float32)

    def score(self, sentences, candidates):
        """Scores `[batch, candidates]`: `f(sentence) . g(candidate)` (higher: more likely a neighbour)."""
        return tf.matmul(self.encode_query(sentences), self.encode_context(candidates), transpose_b=True)

    def neighbour_losses(self, data, training=False):
        """Per-sentence loss `[batch]` and neighbour counts for a batch `{"sentences", "positions"}`."""
        query = self.query_encoder(data["sentences"], training=training)
        context = self.context_encoder(data["sentences"], training=training)
        return quick_thought_losses(query, context, tf.cast(data["positions"], tf.int64))

    def train_step(self, data):
        data = unpack_inputs(data)
        loss, _ = minimize(lambda: self.neighbour_losses(data, training=True), self.trainable_variables, self.optimizer)
        return self._report(loss)

    def test_step(self, data):
        loss, _ = self.neighbour_losses(unpack_inputs(data), training=False)
        return self._report(tf.reduce_mean(loss))

    def _report(self, loss):
        self.loss_tracker.update_state(loss)
        return metric_results(self)

    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`)."""
        sentences = tf.TensorSpec([None], tf.string, name="sentences")
        candidates = tf.TensorSpec([None], tf.string, name="candidates")
        return {
            "encode": (self.encode, [sentences]),
            "encode_query": (self.encode_query, [sentences]),
            "encode_context": (self.encode_context, [sentences]),
            "score": (self.score, [sentences, candidates]),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "embedding_dim": self.embedding_dim,
                "word_dim": self.word_dim,
                "max_length": self.max_length,
                "pooling": self.pooling,
                "bidirectional": self.bidirectional,
                "query_encoder": keras.saving.serialize_keras_object(self.query_encoder),
                "context_encoder": keras.saving.serialize_keras_object(self.context_encoder),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("query_encoder", "context_encoder")))
