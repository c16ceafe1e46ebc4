"""Skip-thought: a sentence encoder judged by decoders of the neighbouring sentences."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.layers.decoders.conditional_gru_decoder import ConditionalGRUDecoder, word_dropout
from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder, token_ids
from keras_ae.layers.judges.neighbour_decoder import NeighbourDecoder


@keras.saving.register_keras_serializable(package="keras_ae")
class SkipThought(JudgedEncoder):
    """Skip-thought vectors (Kiros et al., 2015, "Skip-Thought Vectors").

    A GRU encoder maps a sentence to its thought vector; two conditional GRU decoders, trained with teacher forcing,
    predict the previous and the next sentence from it. The judge is the pair of decoders: the per-sentence loss is
    the sum of their token cross-entropies (padding masked out), each averaged over the sentence's tokens.
    Tokenization lives inside the encoder, so the model and its export take raw strings.

    Args:
        vocabulary: list of tokens (see `keras_ae.data.text.build_vocabulary`).
        embedding_dim: size of the thought vector (the embedding).
        word_dim: size of the word embeddings (encoder and decoders).
        pooling: how the encoder pools its GRU states: `"mean"` (what the recipes train and docs/results/sentences.md
            measures), `"last"` (the papers' choice) or `"max"` (see `GRUSentenceEncoder`).
        bidirectional: forward and backward GRUs of `embedding_dim / 2` units (Skip-thought's bi-skip encoder).
        tokenizer: `"word"` (whole words) or `"wordpiece"` (subwords; `vocabulary` from
            `keras_ae.data.text.build_wordpiece_vocabulary`), see `GRUSentenceEncoder`.
        max_length: sentences (inputs and decoder targets) are truncated to this many tokens.
        decoder_dim: size of the decoders' GRU state (default `embedding_dim`).
        output_dim: projection before the decoders' softmax (default `word_dim`; keeps the output layer cheap).
        decoder_length: the decoders predict the first `decoder_length` tokens of the neighbouring sentences
            (None: `max_length`); shorter is cheaper, since the decoders' softmax is most of the training cost.
        decoder_word_dropout: during training, this share of the decoders' input words (never the targets) is
            replaced by the out-of-vocabulary token, so the decoders cannot predict the neighbours from their own
            previous words alone and must lean on the thought vector (word dropout, Bowman et al., 2016,
            "Generating Sentences from a Continuous Space"). On Austen with a few minutes of training it lifts the
            book probe from 0.33 (no dropout) to 0.42 (0.8).
        bucket_width: the encoder runs its GRU on groups of the batch's sentences of similar length, each group cut to
            the next multiple of this many tokens (`GRUSentenceEncoder(bucket_width)`): the same thought vectors (to
            float rounding); 0 (default): every sentence over all `max_length` positions. Off because it did not
            make the step measurably cheaper (376 vs 369 ms of CPU at 8, `benchmarks/sentence_twin.py`): at 25 tokens
            23% of the encoder's positions are padding, and the decoders, which it leaves as they are, cost most.
        share_embeddings: the decoders read their input words through the encoder's word embeddings (as in the
            paper's code), so the decoders' language-model signal shapes the encoder's words from the first steps;
            the start symbol is the padding row (id 0), which the encoder masks out.
        readout: what the thought vector is read from (`GRUSentenceEncoder(readout)`): `"states"` (default) the
            pooled GRU states; `"states+words"` the pooled states (`embedding_dim - word_dim` floats) beside the
            mean of the sentence's word embeddings (`word_dim` floats); `"words"` that mean alone, no GRU
            (`word_dim` must equal `embedding_dim`).
        word_weighting: how the encoder's mean word embedding weighs its tokens (`GRUSentenceEncoder(word_weighting)`):
            `"uniform"` (default), `"sif"`, smooth inverse frequency `sif_a / (sif_a + p(token))` (Arora et al.,
            2017), `p` set by `set_token_frequencies` from the training text, or `"idf"`, fixed weights set by
            `set_token_idf`. Needs readout `"words"` or `"states+words"`.
        sif_a: `a` of `word_weighting="sif"` (1e-3, as in the paper).
        freeze_word_embeddings: the encoder's word embeddings stay as set by `set_word_embeddings` (fixed word
            vectors; `GRUSentenceEncoder(freeze_word_embeddings)`); not with `readout="words"`. False (default).
        encoder: a `GRUSentenceEncoder`-like layer with `tokenize`, `encode_tokens`, `vocabulary_size`; default
            built from the arguments above, with `unroll=True` (its GRU runs as a loop unrolled over `max_length`).
        previous_decoder, next_decoder: `ConditionalGRUDecoder`-like layers; default built from the arguments, with
            `unroll=True`.

    Training batches may hold raw sentences or, from `prepare_batch` in a `tf.data` pipeline, their token ids, which
    takes the string work off the training step; `encode` and the export take raw sentences.

    Example:
        vocabulary = build_vocabulary(splits.train.sentences, size=5000)
        model = SkipThought(vocabulary, embedding_dim=256)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        batches = make_triple_dataset(splits.train, batch_size=128, shuffle=True)
        model.fit(batches.map(model.prepare_batch), epochs=2)   # token ids made in tf.data (raw batches work too)
        z = model.encode(tf.constant(["It is a truth universally acknowledged."]))
    """

    def __init__(
        self,
        vocabulary,
        embedding_dim=128,
        word_dim=64,
        max_length=25,
        pooling="mean",
        bidirectional=False,
        tokenizer="word",
        decoder_dim=None,
        output_dim=None,
        decoder_length=12,
        decoder_word_dropout=0.8,
        share_embeddings=True,
        seed=None,
        bucket_width=0,
        readout="states",
        word_weighting="uniform",
        sif_a=1e-3,
        freeze_word_embeddings=False,
        encoder=None,
        previous_decoder=None,
        next_decoder=None,
        **kwargs,
    ):
        decoder_dim = decoder_dim or embedding_dim
        output_dim = output_dim or word_dim
        decoder_length = min(decoder_length or max_length, max_length)
        if not 0.0 <= decoder_word_dropout < 1.0:
            raise ValueError(f"decoder_word_dropout must be in [0, 1); got {decoder_word_dropout}.")
        # Layers
        encoder = encoder or GRUSentenceEncoder(
            vocabulary,
            embedding_dim=embedding_dim,
            word_dim=word_dim,
            max_length=max_length,
            pooling=pooling,
            bidirectional=bidirectional,
            tokenizer=tokenizer,
            unroll=True,
            bucket_width=bucket_width,
            readout=readout,
            word_weighting=word_weighting,
            sif_a=sif_a,
            freeze_word_embeddings=freeze_word_embeddings,
            name="encoder",
        )
        size = encoder.vocabulary_size
        decoder_args = dict(
            hidden_dim=decoder_dim, word_dim=word_dim, output_dim=output_dim, embed_inputs=not share_embeddings,
            unroll=True,
        )
        judges = [
            NeighbourDecoder(previous_decoder or ConditionalGRUDecoder(size, name="previous_decoder", **decoder_args),
                             name="previous"),
            NeighbourDecoder(next_decoder or ConditionalGRUDecoder(size, name="next_decoder", **decoder_args),
                             name="next"),
        ]
        super().__init__(encoder=encoder, judges=judges, **kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Config
        self.vocabulary = list(vocabulary)
        self.embedding_dim = embedding_dim
        self.word_dim = word_dim
        self.max_length = max_length
        self.pooling = pooling
        self.bidirectional = bidirectional
        self.tokenizer = tokenizer
        self.decoder_dim = decoder_dim
        self.output_dim = output_dim
        self.decoder_length = decoder_length
        self.decoder_word_dropout = decoder_word_dropout
        self.share_embeddings = share_embeddings
        self.seed = seed
        self.bucket_width = bucket_width
        self.readout = readout
        self.word_weighting = word_weighting
        self.sif_a = float(sif_a)
        self.freeze_word_embeddings = bool(freeze_word_embeddings)
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None,))

    @property
    def previous_decoder(self):
        return self.judges[0].decoder

    @property
    def next_decoder(self):
        return self.judges[1].decoder

    def build(self, input_shape=None):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        inputs_shape = (None, self.decoder_length)
        if self.share_embeddings:
            inputs_shape = (None, self.decoder_length, self.word_dim)
        for judge in self.judges:
            if not judge.decoder.built:
                judge.decoder.build(inputs_shape, (None, self.embedding_dim))
            judge.built = True
        self.built = True

    def call(self, sentences, training=False):
        return self.encoder(sentences, training=training)

    def set_token_frequencies(self, frequencies):
        """Sets the encoder's token frequencies `p` for `word_weighting="sif"` (one value per token id, e.g.
        `keras_ae.layers.encoders.gru_sentence_encoder.count_token_frequencies` of the training sentences)."""
        self.encoder.set_token_frequencies(frequencies)

    def set_token_idf(self, weights):
        """Sets the encoder's fixed token weights for `word_weighting="idf"` (one value per token id, e.g.
        `keras_ae.data.word_vectors.lsa_fit`'s idf)."""
        self.encoder.set_token_idf(weights)

    def set_word_embeddings(self, vectors, norm=None):
        """Sets the encoder's word embeddings to `vectors` `[vocabulary_size, word_dim]` (e.g.
        `keras_ae.data.word_vectors.lsa_word_vectors`), scaled to the mean row norm `norm` (default: the
        initialiser's; `GRUSentenceEncoder.set_word_embeddings`). With `share_embeddings` the decoders' inputs read
        this table too; otherwise their own tables are not set."""
        self.encoder.set_word_embeddings(vectors, norm)

    def encode(self, sentences):
        """Thought vectors `[batch, embedding_dim]` (float32) of a `tf.string` tensor `[batch]` of raw sentences."""
        return tf.cast(self(tf.convert_to_tensor(sentences, tf.string), training=False), tf.float32)

    def prepare_batch(self, batch):
        """A batch `{"previous", "sentence", "next"}` as token ids (the neighbours' first `decoder_length`), for
        `tf.data.Dataset.map`."""
        return {
            "previous": self.encoder.tokenize(batch["previous"])[:, : self.decoder_length],
            "sentence": self.encoder.tokenize(batch["sentence"]),
            "next": self.encoder.tokenize(batch["next"])[:, : self.decoder_length],
        }

    def forward(self, batch, training=False):
        """The thought vectors of a batch `{"previous", "sentence", "next"}`'s middle sentences (raw, or token ids
        from `prepare_batch`)."""
        return self.encoder(batch["sentence"], training=training), {}, {}

    def judge_code(self, batch, code, training=False):
        """The decoders' per-sentence losses `[previous [batch], next [batch]]` for the thought vectors `code`; in
        training the decoders' input words are dropped out."""
        losses = []
        for key, judge in zip(("previous", "next"), self.judges):
            target_ids = token_ids(self.encoder, batch[key])[:, : self.decoder_length]
            input_ids = self._drop_words(target_ids) if training else target_ids
            inputs = {"inputs": self._decoder_inputs(judge.decoder, input_ids), "targets": target_ids}
            losses.append(judge.judge_loss(inputs, code, training=training))
        return losses, {}

    def _drop_words(self, token_ids):
        """Replaces `decoder_word_dropout` of the words (not the padding) by the out-of-vocabulary id 1."""
        return word_dropout(token_ids, self.decoder_word_dropout, self.seed_generator)

    def _decoder_inputs(self, decoder, token_ids):
        if not self.share_embeddings:
            return decoder.teacher_forcing_inputs(token_ids)
        start = tf.zeros_like(token_ids[:, :1])  # the padding row doubles as the start symbol
        # A lookup in the encoder's table, not a call of its Embedding layer: that would attach the padding mask,
        # which the decoders (whose targets include the end symbol 0) must not see.
        shifted = tf.concat([start, token_ids[:, :-1]], axis=1)
        return keras.ops.take(self.encoder.word_embedding.embeddings, shifted, axis=0)

    @property
    def export_imports(self):
        """Modules to import before loading the export: TensorFlow Text's ops for WordPiece."""
        return ["tensorflow_text"] if self.tokenizer == "wordpiece" else []

    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`)."""
        sentences = tf.TensorSpec([None], tf.string, name="sentences")
        return {"encode": (self.encode, [sentences])}

    def get_config(self):
        config = without_parts(super().get_config())
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "embedding_dim": self.embedding_dim,
                "word_dim": self.word_dim,
                "max_length": self.max_length,
                "pooling": self.pooling,
                "bidirectional": self.bidirectional,
                "tokenizer": self.tokenizer,
                "decoder_dim": self.decoder_dim,
                "output_dim": self.output_dim,
                "decoder_length": self.decoder_length,
                "decoder_word_dropout": self.decoder_word_dropout,
                "share_embeddings": self.share_embeddings,
                "seed": self.seed,
                "bucket_width": self.bucket_width,
                "readout": self.readout,
                "word_weighting": self.word_weighting,
                "sif_a": self.sif_a,
                "freeze_word_embeddings": self.freeze_word_embeddings,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "previous_decoder": keras.saving.serialize_keras_object(self.previous_decoder),
                "next_decoder": keras.saving.serialize_keras_object(self.next_decoder),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder", "previous_decoder", "next_decoder")))
