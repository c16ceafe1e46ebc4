"""GRU sentence encoder that takes raw strings (or their token ids): tokenization and vocabulary live inside the
layer."""

import keras
import numpy as np
import tensorflow as tf

from keras_ae.distribute import replica_uniform
from keras_ae.layers.length_buckets import bucket_bounds, by_length, pack_by_length
from keras_ae.layers.unrolled_gru import can_unroll, packed_gru, unrolled_gru

POOLINGS = ("last", "max", "mean")
READOUTS = ("states", "states+words", "words")
WORD_WEIGHTINGS = ("uniform", "sif", "idf")
TOKENIZERS = ("word", "wordpiece")
# The punctuation `TextVectorization`'s "lower_and_strip_punctuation" removes, removed before WordPiece too.
STRIP_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


def standardize_text(sentences):
    """Lower case, punctuation stripped (as `TextVectorization`'s default): what both tokenizers split."""
    return tf.strings.regex_replace(tf.strings.lower(sentences), STRIP_PUNCTUATION, "")


def token_ids(encoder, sentences):
    """`encoder.tokenize(sentences)` for raw `tf.string` sentences; integer token ids (already tokenised, e.g. by a
    training pipeline) pass through."""
    sentences = tf.convert_to_tensor(sentences)
    return sentences if sentences.dtype.is_integer else encoder.tokenize(sentences)


def _reverse(sequences, mask):
    """`sequences [batch, length, ...]` with each sentence's own tokens (`mask`) in reverse order, padding kept last."""
    return tf.reverse_sequence(sequences, tf.reduce_sum(tf.cast(mask, tf.int32), axis=1), seq_axis=1, batch_axis=0)


TOKENIZATION = ("tokenizer", "vocabulary", "max_length", "standardize")


def _mean(values, mask):
    """Mean of `values [batch, length, dim]` over the positions of `mask`; zeros for an empty sentence."""
    weights = tf.cast(mask, values.dtype)[:, :, None]
    return tf.reduce_sum(values * weights, axis=1) / tf.maximum(tf.reduce_sum(weights, axis=1), 1.0)


def _packed_mean(values, sentences, lengths, batch):
    """Per-sentence mean `[batch, dim]` of packed `values [tokens, dim]` (`sentences [tokens]` their rows)."""
    total = tf.math.unsorted_segment_sum(values, sentences, batch)
    return total / tf.maximum(tf.cast(lengths, values.dtype), 1.0)[:, None]


def _state_dim(readout, embedding_dim, word_dim, hidden_dim, bidirectional, word_skip):
    """How many of the embedding's `embedding_dim` floats the pooled GRU states fill under `readout` (0 for
    `"words"`), after clear errors for sizes and options the readout cannot take."""
    if readout not in READOUTS:
        raise ValueError(f"Unknown readout {readout!r}: choose one of {', '.join(READOUTS)}.")
    if readout == "states":
        return embedding_dim
    if word_skip:
        raise ValueError(f"readout={readout!r} already puts the mean word embedding in the output: drop word_skip.")
    if readout == "words":
        if embedding_dim != word_dim:
            raise ValueError(f"readout='words' outputs the mean word embedding, so embedding_dim ({embedding_dim}) "
                             f"must equal word_dim ({word_dim}): set word_dim={embedding_dim}.")
        if hidden_dim is not None or bidirectional:
            raise ValueError("readout='words' has no GRU: drop hidden_dim and bidirectional.")
        return 0
    if word_dim >= embedding_dim:
        raise ValueError(f"readout='states+words' splits embedding_dim ({embedding_dim}) between the pooled GRU "
                         f"states and the mean word embedding (word_dim {word_dim}), so word_dim must be smaller: "
                         f"e.g. word_dim={embedding_dim // 2} (states and words {embedding_dim - embedding_dim // 2} "
                         f"and {embedding_dim // 2}).")
    return embedding_dim - word_dim


def _check_word_weighting(word_weighting, sif_a, readout, word_skip):
    """Clear errors for a word weighting the encoder cannot apply."""
    if word_weighting not in WORD_WEIGHTINGS:
        raise ValueError(f"Unknown word_weighting {word_weighting!r}: choose one of {', '.join(WORD_WEIGHTINGS)}.")
    if word_weighting != "uniform" and readout == "states" and not word_skip:
        raise ValueError(f"word_weighting={word_weighting!r} weighs the mean word embedding, which readout='states' "
                         "does not use: "
                         "use readout='words' or 'states+words' (or word_skip), or drop word_weighting.")
    if not sif_a > 0:
        raise ValueError(f"sif_a must be positive (the paper's 1e-3); got {sif_a}.")


def count_token_frequencies(token_ids, vocabulary_size):
    """The relative frequency `p` of each token id `[vocabulary_size]` (float64, summing to 1) in `token_ids`, an
    iterable of integer arrays (e.g. batches of `GRUSentenceEncoder.tokenize`); padding (0) is not counted. What
    `GRUSentenceEncoder.set_token_frequencies` takes.

    Example:
        batches = (encoder.tokenize(tf.constant(sentences[i:i + 4096])).numpy() for i in range(0, len(sentences), 4096))
        encoder.set_token_frequencies(count_token_frequencies(batches, encoder.vocabulary_size))
    """
    counts = np.zeros(vocabulary_size)
    for ids in token_ids:
        ids = np.asarray(ids).ravel()
        if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
            raise ValueError(f"count_token_frequencies: token ids must be in [0, {vocabulary_size}); got "
                             f"{ids.min()}..{ids.max()}.")
        counts += np.bincount(ids[ids > 0], minlength=vocabulary_size)
    if counts.sum() == 0:
        raise ValueError("count_token_frequencies counts tokens, but the token ids hold none (only padding): give "
                         "the training sentences' token ids.")
    return counts / counts.sum()


def same_tokens(first, second):
    """True when two encoders split text into the same token ids (so one tokenisation serves both)."""
    return all(getattr(first, key, None) == getattr(second, key, None) for key in TOKENIZATION)


@keras.saving.register_keras_serializable(package="keras_ae")
class GRUSentenceEncoder(keras.layers.Layer):
    """`strings [batch] -> embedding [batch, embedding_dim]`: `TextVectorization`, word embeddings, a GRU, and a
    pooling of its states (padding masked) as the sentence embedding. It also takes the token ids of `tokenize`
    (`[batch, max_length]` integers), so a training pipeline can tokenise in `tf.data`, off the training step. `pooling="last"` is Skip-thought's uni-skip
    encoder (Kiros et al., 2015, "Skip-Thought Vectors"); `"max"` (max over time, as in InferSent, Conneau et al.,
    2017) keeps more word-level information, which helps when training time is short.

    Because the vocabulary is inside the layer, a model exported with it takes raw `tf.string` sentences.
    Token ids: 0 is padding, 1 is out-of-vocabulary, `2 + i` is `vocabulary[i]`; `vocabulary_size` counts all of them.

    With `tokenizer="wordpiece"` the vocabulary holds WordPiece subwords (continuations start with `##`, see
    `keras_ae.data.text.build_wordpiece_vocabulary`) and TensorFlow Text's `FastWordpieceTokenizer` splits every
    lower-cased word without punctuation into its longest known pieces (Wu et al., 2016, "Google's Neural Machine
    Translation System"), so a word never seen in training becomes pieces instead of the OOV id. An export of such a
    model loads with `import tensorflow_text` before `tf.saved_model.load` (its op lives there).

    Args:
        vocabulary: list of tokens (most frequent first, without padding and OOV tokens), e.g. from
            `keras_ae.data.text.build_vocabulary`.
        embedding_dim: size of the sentence embedding (the GRU's state, unless `hidden_dim` differs).
        word_dim: size of the word embeddings.
        max_length: sentences are truncated to their first `max_length` tokens.
        standardize: `TextVectorization`'s standardization (`"lower_and_strip_punctuation"`, `"lower"`, ...).
        pooling: `"last"` (the GRU's last state), `"max"` or `"mean"` over the states of the sentence's tokens. An empty
            sentence embeds to zeros.
        bidirectional: two GRUs of half the GRU size (`hidden_dim`, else `embedding_dim`) read the sentence forwards
            and backwards and their states are concatenated (Skip-thought's bi-skip encoder); at the same embedding
            size this is about half the recurrent cost of one GRU.
        tokenizer: `"word"` (`TextVectorization` of whole words) or `"wordpiece"` (subwords; `standardize` must
            then be `"lower_and_strip_punctuation"`).
        unroll: run the GRU's weights as a loop unrolled over the `max_length` tokens, with the input projection of
            all tokens hoisted out of it and no mask carried (`keras_ae.layers.unrolled_gru`): the same embedding (to
            float rounding), faster training steps on CPU (with token ids in and the decoders unrolled too:
            Quick-thought 1.2x, Skip-thought 1.55x, `benchmarks/sentence_twin.py --before`), a longer first trace.
            False: Keras' masked `GRU` loop.
        hidden_dim: the GRU's state size (default `embedding_dim`, or its share under `readout`). When it differs,
            the pooled states are projected linearly (`Dense`, with bias) to that size, so a wider (or narrower) GRU
            keeps the embedding's size.
            `token_states` then returns states of `hidden_dim`.
        word_skip: add a linear map of the mean of the sentence's word embeddings to the pooled (and projected)
            states, a skip from the words to the sentence vector (the bag of words beside the GRU, as the
            bag-of-words features beside an RNN's in Kiros et al.'s and Conneau et al.'s evaluations), so the words'
            topical content need not pass through the recurrence.
        token_dropout: in training, each of a sentence's tokens is replaced by the out-of-vocabulary id (1) with this
            probability, a fresh draw every step (word dropout on the encoder's input, Iyyer et al., 2015, "Deep
            Unordered Composition Rivals Syntactic Methods for Text Classification"; Bowman et al., 2016, did it on
            the decoder's), so the encoder cannot lean on any one word; 0 (default): off. Inference never drops.
        seed: seed of the token dropout's draws (None: from Keras' global seed).
        bucket_width: when positive, a batch of token ids is encoded in groups of sentences of similar length, each
            group cut to the next multiple of `bucket_width` tokens (`keras_ae.layers.length_buckets.by_length`), so
            the GRU does not run over the padding: the same embeddings (to float rounding), fewer products when the
            sentences are shorter than `max_length`; 0 (default): every sentence runs over all `max_length`
            positions.
        packed: with `unroll`, a batch of token ids runs through the GRU as packed sequences
            (`keras_ae.layers.unrolled_gru.packed_gru`): one loop over the longest sentence's tokens whose batch
            shrinks as sentences end, so no product runs on padding and the loop is traced once (buckets trace one
            loop per bucket); the same embeddings (to float rounding). Not with `bucket_width`. False (default): off.
        product_dtype: with `unroll`, the dtype of the GRU's products over all tokens at once (the input projection,
            its gradients, the recurrent kernel's gradient), e.g. `"bfloat16"`: about a third of float32's CPU time
            per product on CPUs with AMX or AVX512-BF16, at bfloat16's 8-bit mantissa
            (`keras_ae.layers.unrolled_gru`); None (default): float32 throughout.
        readout: what the embedding is read from. `"states"` (default): the pooled GRU states. `"states+words"`: the
            pooled states (`embedding_dim - word_dim` floats; the GRU's size unless `hidden_dim`) concatenated with
            the mean of the sentence's word embeddings (`word_dim` floats), so the bag of words reaches the embedding
            unchanged at the same embedding size. `"words"`: the mean of the word embeddings alone (a bag of words,
            Iyyer et al., 2015), no GRU at all (`embedding_dim` must equal `word_dim`; the GRU options do nothing).
            The means are over the sentence's real tokens; an empty sentence gives zeros.
        word_weighting: how the mean word embedding of the readout (and of `word_skip`) weighs its tokens.
            `"uniform"` (default): the plain mean. `"sif"`: smooth inverse frequency, each word embedding times
            `sif_a / (sif_a + p(token))` before the mean over the sentence's tokens (Arora, Liang & Ma, 2017, "A
            Simple but Tough-to-Beat Baseline for Sentence Embeddings", their `(1/|s|) sum_w a/(a+p(w)) v_w`), so
            frequent tokens count little and rare ones about fully, as TF-IDF weighs words. `p`, the tokens'
            relative frequencies in the training text, is a non-trainable weight (`token_frequencies`, saved and
            exported with the model) set by `set_token_frequencies` (e.g. `count_token_frequencies` of the training
            sentences); until then it is 0 and the weights are 1. The GRU reads unweighted embeddings. The paper's
            removal of the common component is not applied. `"idf"`: each word embedding times a fixed weight of its
            token, a non-trainable weight (`token_idf`, saved and exported) set by `set_token_idf`, e.g. the inverse
            document frequencies of an LSA fit (`keras_ae.data.word_vectors.lsa_fit`): with that fit's directions as
            the table, the weighted mean starts as LSA, and the idf part of it stays whatever training does to the
            table; until set, the weights are 1.
        sif_a: `a` of `word_weighting="sif"` (the paper: 1e-3 to 1e-4).
        freeze_word_embeddings: the word embeddings are not trained (Logeswaran & Lee, 2018's variant with fixed
            pretrained vectors): set them first with `set_word_embeddings` (e.g. `keras_ae.data.word_vectors`'
            `lsa_word_vectors`); the GRU (and projection) train on top. Not with `readout="words"`, which would leave
            nothing to train. False (default): trained with the rest.

    Example:
        encoder = GRUSentenceEncoder(["the", "cat", "sat"], embedding_dim=32)
        z = encoder(tf.constant(["The cat sat.", "A dog"]))      # [2, 32]
        ids = encoder.tokenize(tf.constant(["The cat sat."]))   # [[2, 3, 4, 0, ...]]
        same = encoder(ids)                                       # [1, 32], the embedding of "The cat sat."
        bag = GRUSentenceEncoder(["the", "cat", "sat"], embedding_dim=16, word_dim=16, readout="words")
        bag(tf.constant(["The cat sat."]))                        # [1, 16], the mean of 3 word embeddings
        sif = GRUSentenceEncoder(["the", "cat", "sat"], embedding_dim=16, word_dim=16, readout="words",
                                 word_weighting="sif")
        sif.set_token_frequencies(count_token_frequencies([sif.tokenize(tf.constant(["The cat sat on the mat."]))],
                                                          sif.vocabulary_size))
        sif(tf.constant(["The cat sat."]))                        # [1, 16], "the" weighs a/(a + 1/3)
        bag.set_word_embeddings(np.random.default_rng(0).normal(size=(bag.vocabulary_size, 16)))  # e.g. LSA vectors
    """

    def __init__(
        self,
        vocabulary,
        embedding_dim=256,
        word_dim=128,
        max_length=30,
        standardize="lower_and_strip_punctuation",
        pooling="last",
        bidirectional=False,
        tokenizer="word",
        unroll=False,
        hidden_dim=None,
        word_skip=False,
        token_dropout=0.0,
        seed=None,
        bucket_width=0,
        packed=False,
        product_dtype=None,
        readout="states",
        word_weighting="uniform",
        sif_a=1e-3,
        freeze_word_embeddings=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        token_dropout = float(token_dropout)
        if not 0.0 <= token_dropout < 1.0:
            raise ValueError(f"token_dropout is a probability in [0, 1); got {token_dropout}.")
        if tokenizer not in TOKENIZERS:
            raise ValueError(f"Unknown tokenizer {tokenizer!r}: choose one of {', '.join(TOKENIZERS)}.")
        if tokenizer == "wordpiece" and standardize != "lower_and_strip_punctuation":
            raise ValueError("tokenizer='wordpiece' standardizes with 'lower_and_strip_punctuation'; drop standardize.")
        if pooling not in POOLINGS:
            raise ValueError(f"Unknown pooling {pooling!r}: choose one of {', '.join(POOLINGS)}.")
        vocabulary = [str(token) for token in vocabulary]
        if not vocabulary:
            raise ValueError(
                "GRUSentenceEncoder needs a non-empty vocabulary (see keras_ae.data.text.build_vocabulary)."
            )
        if max_length < 1:
            raise ValueError(f"max_length must be positive; got {max_length}.")
        if hidden_dim is not None and hidden_dim < 1:
            raise ValueError(f"hidden_dim must be positive; got {hidden_dim}.")
        if bucket_width:
            bucket_bounds(max_length, bucket_width)  # a clear error for a width below 1
        if packed and (bucket_width or not unroll):
            raise ValueError("packed=True runs the unrolled GRU over packed sequences: it needs unroll=True and no "
                             f"bucket_width (got unroll={unroll}, bucket_width={bucket_width}); drop one of them.")
        state_dim = _state_dim(readout, embedding_dim, word_dim, hidden_dim, bidirectional, word_skip)
        sif_a = float(sif_a)
        _check_word_weighting(word_weighting, sif_a, readout, word_skip)
        if freeze_word_embeddings and readout == "words":
            raise ValueError("freeze_word_embeddings with readout='words' leaves nothing to train (the embedding is "
                             "the mean of the frozen word embeddings): train them, or use readout='states' or "
                             "'states+words'.")
        units = hidden_dim or state_dim
        if bidirectional and units % 2:
            raise ValueError(
                f"A bidirectional encoder needs an even GRU size (hidden_dim, else embedding_dim); got {units}."
            )
        # Layers
        if tokenizer == "word":
            self.vectorizer = keras.layers.TextVectorization(
                vocabulary=vocabulary, standardize=standardize, output_sequence_length=max_length, name="vectorizer"
            )
        else:
            import tensorflow_text

            self.wordpiece = tensorflow_text.FastWordpieceTokenizer(
                ["[PAD]", "[UNK]", *vocabulary], token_out_type=tf.int64, unknown_token="[UNK]",
                support_detokenization=False,
            )
        self.word_embedding = keras.layers.Embedding(len(vocabulary) + 2, word_dim, mask_zero=True, name="words")
        self.word_embedding.trainable = not freeze_word_embeddings
        if readout == "words":
            self.gru = None
        elif bidirectional:
            self.gru = keras.layers.Bidirectional(
                keras.layers.GRU(units // 2, return_sequences=pooling != "last"), name="gru"
            )
        else:
            self.gru = keras.layers.GRU(units, return_sequences=pooling != "last", name="gru")
        self.projection = keras.layers.Dense(state_dim, name="projection") if units != state_dim else None
        self.word_skip_map = keras.layers.Dense(embedding_dim, use_bias=False, name="word_skip") if word_skip else None
        self.seed_generator = None  # token dropout's, made in `build` (see there)
        self.token_frequencies = None  # word_weighting="sif"'s p, a weight made in `build`
        self.token_idf = None  # word_weighting="idf"'s weights, a weight made in `build`
        # Config
        self.vocabulary = vocabulary
        self.embedding_dim = embedding_dim
        self.word_dim = word_dim
        self.max_length = max_length
        self.standardize = standardize
        self.pooling = pooling
        self.bidirectional = bidirectional
        self.tokenizer = tokenizer
        self.unroll = unroll
        self.hidden_dim = hidden_dim
        self.word_skip = bool(word_skip)
        self.token_dropout = token_dropout
        self.seed = seed
        self.bucket_width = bucket_width
        self.packed = bool(packed)
        self.product_dtype = product_dtype
        self.readout = readout
        self.word_weighting = word_weighting
        self.sif_a = sif_a
        self.freeze_word_embeddings = bool(freeze_word_embeddings)
        self.units = units
        self.vocabulary_size = len(vocabulary) + 2

    def build(self, input_shape=None):
        if not self.word_embedding.built:
            self.word_embedding.build((None, self.max_length))
        if self.gru is not None and not self.gru.built:
            self.gru.build((None, self.max_length, self.word_dim))
        if self.projection is not None and not self.projection.built:
            self.projection.build((None, self.units))
        if self.word_skip_map is not None and not self.word_skip_map.built:
            self.word_skip_map.build((None, self.word_dim))
        # Only with token dropout, and after the weights: drawing its seed here leaves every weight's initial value
        # (which draws from the same global seed) as it is without token dropout.
        if self.token_dropout and self.seed_generator is None:
            self.seed_generator = keras.random.SeedGenerator(self.seed)
        if self.word_weighting == "sif" and self.token_frequencies is None:
            self.token_frequencies = self.add_weight(
                shape=(self.vocabulary_size,), initializer="zeros", trainable=False, name="token_frequencies"
            )
        if self.word_weighting == "idf" and self.token_idf is None:
            self.token_idf = self.add_weight(
                shape=(self.vocabulary_size,), initializer="ones", trainable=False, name="token_idf"
            )
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.embedding_dim)

    def set_token_frequencies(self, frequencies):
        """Sets `word_weighting="sif"`'s `p`: the relative frequency of each token id (`vocabulary_size` values in
        [0, 1], e.g. `count_token_frequencies` of the training sentences' token ids)."""
        if self.word_weighting != "sif":
            raise ValueError(f"set_token_frequencies sets word_weighting='sif''s p; this encoder's word_weighting is "
                             f"{self.word_weighting!r}.")
        frequencies = np.asarray(frequencies, "float64")
        if frequencies.shape != (self.vocabulary_size,) or frequencies.min() < 0 or frequencies.max() > 1:
            raise ValueError(f"token frequencies: one value in [0, 1] per token id ({self.vocabulary_size}: padding, "
                             f"out-of-vocabulary and the vocabulary); got shape {frequencies.shape}.")
        if not self.built:
            self.build()
        self.token_frequencies.assign(frequencies.astype("float32"))

    def set_token_idf(self, weights):
        """Sets `word_weighting="idf"`'s fixed weight of each token id (`vocabulary_size` finite values at least 0,
        e.g. `lsa_fit`'s idf)."""
        if self.word_weighting != "idf":
            raise ValueError(f"set_token_idf sets word_weighting='idf''s weights; this encoder's word_weighting is "
                             f"{self.word_weighting!r}.")
        weights = np.asarray(weights, "float64")
        if weights.shape != (self.vocabulary_size,) or not np.all(np.isfinite(weights)) or weights.min() < 0:
            raise ValueError(f"token idf: one finite value at least 0 per token id ({self.vocabulary_size}: padding, "
                             f"out-of-vocabulary and the vocabulary); got shape {weights.shape}.")
        if not self.built:
            self.build()
        self.token_idf.assign(weights.astype("float32"))

    def set_word_embeddings(self, vectors, norm=None):
        """Sets the word embeddings to `vectors` (`[vocabulary_size, word_dim]`, e.g. `lsa_word_vectors`) times one
        scale, so that the mean norm of their nonzero rows is `norm` (default: the current table's, i.e. the
        initialiser's scale); all-zero rows (padding, tokens the vectors do not know) stay zero. With
        `word_weighting="idf"` the rows as the bag weighs them (times `token_idf`, set first) get that mean norm, so
        `set_token_idf(idf)` then `set_word_embeddings(directions)` gives the bag that `set_word_embeddings(idf *
        directions)` gives an unweighted one."""
        vectors = np.asarray(vectors, "float64")
        if vectors.shape != (self.vocabulary_size, self.word_dim) or not np.all(np.isfinite(vectors)):
            raise ValueError(f"word embeddings: finite values of shape (vocabulary_size, word_dim) = "
                             f"({self.vocabulary_size}, {self.word_dim}); got shape {vectors.shape}.")
        if not self.built:
            self.build()
        lengths = np.linalg.norm(vectors, axis=1)
        if self.word_weighting == "idf":
            lengths = lengths * keras.ops.convert_to_numpy(self.token_idf)
        if not lengths.any():
            raise ValueError("word embeddings: every row is zero, so there is nothing to set.")
        if norm is None:
            norm = float(np.linalg.norm(keras.ops.convert_to_numpy(self.word_embedding.embeddings), axis=1).mean())
        if not norm > 0:
            raise ValueError(f"word embeddings: the target mean row norm must be positive; got {norm}.")
        scaled = vectors * (norm / lengths[lengths > 0].mean())
        self.word_embedding.embeddings.assign(scaled.astype(self.word_embedding.embeddings.dtype))

    def token_weights(self, token_ids):
        """The weight of each token of `token_ids` in the mean word embedding: `sif_a / (sif_a + p(token))` with
        `word_weighting="sif"`, its `token_idf` with `"idf"`, None with `"uniform"`."""
        if self.word_weighting == "uniform":
            return None
        if self.word_weighting == "idf":
            return tf.gather(tf.convert_to_tensor(self.token_idf), token_ids)
        frequencies = tf.gather(tf.convert_to_tensor(self.token_frequencies), token_ids)
        return self.sif_a / (self.sif_a + frequencies)

    def _weighted(self, words, token_ids):
        """Word embeddings `words [..., word_dim]` of `token_ids [...]`, each times its `token_weights` (unchanged
        with `word_weighting="uniform"`): what the mean word embedding averages."""
        weights = self.token_weights(token_ids)
        return words if weights is None else words * tf.cast(weights, words.dtype)[..., None]

    def tokenize(self, sentences):
        """Token ids `[batch, max_length]` (int64, 0-padded) of a `tf.string` tensor `[batch]`."""
        if self.tokenizer == "word":
            return self.vectorizer(sentences)
        pieces = self.wordpiece.tokenize(standardize_text(sentences))[:, : self.max_length]
        return pieces.to_tensor(default_value=0, shape=[None, self.max_length])

    def words(self, sentences):
        """The standardised words `[batch, max_length]` (`tf.string`, "" as padding) that `tokenize` maps to ids,
        position by position (the vectorizer's own standardisation and split), e.g. to spell out-of-vocabulary ids."""
        words = self.vectorizer._preprocess(tf.convert_to_tensor(sentences, tf.string))
        return words.to_tensor(default_value="", shape=[None, self.max_length])

    def token_states(self, token_ids, training=None):
        """`(states [batch, max_length, units], mask [batch, max_length])` (`units`: `hidden_dim`, else
        `embedding_dim`): the GRU's state at every token (what an attention decoder reads); needs a pooling other than
        `"last"`, whose GRU returns its last state only."""
        if self.gru is None:
            raise ValueError("token_states needs a GRU: build the encoder with readout='states' or 'states+words'.")
        if self.pooling == "last":
            raise ValueError("token_states needs the GRU's state at every token: build the encoder with pooling='max' "
                             "or 'mean'.")
        mask = tf.not_equal(token_ids, 0)
        return self.gru(self.word_embedding(token_ids), mask=mask, training=training), mask

    def drop_tokens(self, token_ids):
        """`token_ids` with each token (not the padding) replaced by the out-of-vocabulary id with probability
        `token_dropout`, drawn per replica."""
        keep = replica_uniform(tf.shape(token_ids), self.seed_generator) >= self.token_dropout
        return tf.where(keep | tf.equal(token_ids, 0), token_ids, tf.ones_like(token_ids))

    def encode_tokens(self, token_ids, training=None):
        """Embeddings `[batch, embedding_dim]` of token ids from `tokenize` (with `token_dropout` in training; by
        length groups with `bucket_width`)."""
        if training and self.token_dropout:
            token_ids = self.drop_tokens(token_ids)
        if self.gru is None:  # readout="words"
            return self.word_mean(token_ids)
        if self.packed and self._unrolls(token_ids.shape[1]):
            return self._encode_packed(token_ids)
        if self.bucket_width and token_ids.shape[1] is not None:
            return by_length(lambda ids: self._encode(ids, training), token_ids, self.bucket_width)
        return self._encode(token_ids, training)

    def word_mean(self, token_ids, table=None):
        """The mean word embedding `[batch, word_dim]` of `token_ids` (weighted by `token_weights`; zeros for an
        empty sentence): the embedding of `readout="words"`, read from `table` `[vocabulary_size, word_dim]`
        instead of the trained word embeddings when given (e.g. their start, to compare the bag before and after
        training on the same sentences)."""
        words = self.word_embedding(token_ids) if table is None else tf.gather(table, token_ids)
        return _mean(self._weighted(words, token_ids), tf.not_equal(token_ids, 0))

    def _encode(self, token_ids, training):
        words = self.word_embedding(token_ids)
        mask = tf.not_equal(token_ids, 0)
        if self._unrolls(token_ids.shape[1]):
            pooled = self._pool_unrolled(self._unrolled_states(words, mask), mask)
        else:
            states = self.gru(words, mask=mask, training=training)
            pooled = states if self.pooling == "last" else self._pool(states, mask)
        return self._sentence(pooled, lambda: _mean(self._weighted(words, token_ids), mask))

    def _sentence(self, pooled, mean_words):
        """The embedding from the pooled states: projected (`hidden_dim`), plus the word skip of `mean_words()`, then
        `mean_words()` beside it with `readout="states+words"`."""
        sentence = pooled if self.projection is None else self.projection(pooled)
        if self.word_skip_map is not None:
            sentence = sentence + self.word_skip_map(mean_words())
        if self.readout == "states+words":
            sentence = tf.concat([sentence, tf.cast(mean_words(), sentence.dtype)], axis=-1)
        return sentence

    def _encode_packed(self, token_ids):
        """`_encode` with the GRU over packed sequences (see `packed`)."""
        mask = tf.not_equal(token_ids, 0)
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        index, counts = pack_by_length(lengths, token_ids.shape[1])
        packed_ids = tf.gather_nd(token_ids, index)
        words = self.word_embedding(packed_ids)  # [tokens, word_dim]
        dtype = self.product_dtype
        if self.bidirectional:  # the backward GRU reads each sentence reversed: the same lengths, the same packing
            backward = self.word_embedding(tf.gather_nd(_reverse(token_ids, mask), index))
            states = tf.concat([packed_gru(self.gru.forward_layer, words, counts, dtype),
                                packed_gru(self.gru.backward_layer, backward, counts, dtype)], axis=-1)
        else:
            states = packed_gru(self.gru, words, counts, dtype)
        sentences, batch = index[:, 0], tf.shape(token_ids)[0]
        if self.pooling == "mean":
            pooled = _packed_mean(states, sentences, lengths, batch)
        elif self.pooling == "max":
            pooled = tf.math.unsorted_segment_max(states, sentences, batch)
            pooled = tf.where((lengths > 0)[:, None], pooled, tf.zeros_like(pooled))
        else:  # the state after each sentence's last step (forwards; backwards, after its first token)
            last = tf.equal(index[:, 1], tf.gather(lengths, sentences) - 1)
            pooled = tf.math.unsorted_segment_sum(tf.boolean_mask(states, last), tf.boolean_mask(sentences, last), batch)
        return self._sentence(pooled,
                              lambda: _packed_mean(self._weighted(words, packed_ids), sentences, lengths, batch))

    def _pool(self, states, mask):
        """Mean or max of `states [batch, length, dim]` over the positions of `mask`; zeros for an empty sentence."""
        if self.pooling == "mean":
            return _mean(states, mask)
        pooled = tf.reduce_max(tf.where(mask[:, :, None], states, tf.cast(-1e4, states.dtype)), axis=1)
        return tf.where(tf.reduce_any(mask, axis=1, keepdims=True), pooled, tf.zeros_like(pooled))

    def _unrolls(self, length):
        if not self.unroll or self.gru is None:
            return False
        if self.bidirectional:
            return can_unroll(self.gru.forward_layer, length) and can_unroll(self.gru.backward_layer, length, True)
        return can_unroll(self.gru, length)

    def _unrolled_states(self, words, mask):
        """The GRU's states at every position `[batch, length, units]`, unrolled (see `unroll`); the
        backward GRU of a bidirectional encoder reads each sentence's own tokens from its last to its first."""
        dtype = self.product_dtype
        if not self.bidirectional:
            return unrolled_gru(self.gru, words, product_dtype=dtype)
        backward = _reverse(unrolled_gru(self.gru.backward_layer, _reverse(words, mask), product_dtype=dtype), mask)
        return tf.concat([unrolled_gru(self.gru.forward_layer, words, product_dtype=dtype), backward], axis=-1)

    def _pool_unrolled(self, states, mask):
        if self.pooling != "last":
            return self._pool(states, mask)
        # The state after the last token (forwards) and, for the backward half, after the first.
        lengths = tf.reduce_sum(tf.cast(mask, tf.int32), axis=1)
        last = tf.gather(states, tf.maximum(lengths - 1, 0), axis=1, batch_dims=1)
        if self.bidirectional:
            half = self.units // 2
            last = tf.concat([last[:, :half], states[:, 0, half:]], axis=-1)
        return tf.where((lengths > 0)[:, None], last, tf.zeros_like(last))

    def call(self, sentences, training=None):
        """Embeddings of raw `tf.string` sentences `[batch]`, or of their token ids `[batch, max_length]`."""
        return self.encode_tokens(token_ids(self, sentences), training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "embedding_dim": self.embedding_dim,
                "word_dim": self.word_dim,
                "max_length": self.max_length,
                "standardize": self.standardize,
                "pooling": self.pooling,
                "bidirectional": self.bidirectional,
                "tokenizer": self.tokenizer,
                "unroll": self.unroll,
                "hidden_dim": self.hidden_dim,
                "word_skip": self.word_skip,
                "token_dropout": self.token_dropout,
                "seed": self.seed,
                "bucket_width": self.bucket_width,
                "packed": self.packed,
                "product_dtype": self.product_dtype,
                "readout": self.readout,
                "word_weighting": self.word_weighting,
                "sif_a": self.sif_a,
                "freeze_word_embeddings": self.freeze_word_embeddings,
            }
        )
        return config
