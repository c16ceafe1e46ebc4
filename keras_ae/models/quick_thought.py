"""Quick-thought: two sentence encoders judged by a classifier that picks the true neighbours among candidates."""

import keras
import numpy as np
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.core.start_point import row_length_spread, row_turn, start_point_distance
from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder, same_tokens, token_ids
from keras_ae.layers.judges.document_classifier import DocumentClassifier
from keras_ae.layers.judges.neighbour_classifier import NeighbourClassifier


WORD_ANCHOR_SCALES = ("fixed", "free")
DIRECTION_ANCHOR_BAND = (0.01, 0.1)  # below the top 1% of pieces by frequency, within the top 10%


@keras.saving.register_keras_serializable(package="keras_ae")
class QuickThought(JudgedEncoder):
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
        pooling: how the encoder pools its GRU states: `"mean"` (what the recipes train and docs/results/sentences.md
            measures), `"last"` (the papers' choice) or `"max"` (see `GRUSentenceEncoder`).
        bidirectional: each encoder reads the sentence with a forward and a backward GRU, each half its size.
        hidden_dim: each encoder's GRU size (default: `embedding_dim / 2`, no projection); when it differs, each
            encoder's pooled states are projected linearly to `embedding_dim / 2`, so the embedding keeps its size
            (`GRUSentenceEncoder(hidden_dim)`).
        word_skip: each encoder adds a linear map of its mean word embedding to its pooled states
            (`GRUSentenceEncoder(word_skip)`).
        tokenizer: `"word"` (whole words) or `"wordpiece"` (subwords; `vocabulary` from
            `keras_ae.data.text.build_wordpiece_vocabulary`), see `GRUSentenceEncoder`.
        context_window: how many sentences on each side of a sentence are true neighbours for the judge to pick
            out (1: the previous and the next, as in the paper; `NeighbourClassifier(context_window)`).
        document_weight: weight of a second judge aimed at the document (`DocumentClassifier`): each sentence's
            f(s) must pick out its own document (the mean g of its document's other sentences in the batch) among
            the batch's other documents; batches need `documents` (`contiguous_batches`). 0 (default): the
            neighbour judge alone, the paper's objective.
        token_dropout: in training, each encoder reads each token as out-of-vocabulary with this probability
            (`GRUSentenceEncoder(token_dropout)`), against learning the training text's exact wording; 0 (default):
            off.
        max_length: sentences are truncated to this many tokens (40: with 2,870 word pieces a sentence of
            `--corpus all` is 28.2 tokens on average and 25 cut 43% of them).
        bucket_width: with `packed=False`, each encoder runs its GRU on groups of the batch's sentences of similar
            length, each group cut to the next multiple of this many tokens (`GRUSentenceEncoder(bucket_width)`): the
            same embeddings and the same batches (to float rounding), about a third less CPU per encoder on
            `--corpus all`, where 47% of the 40 positions are padding (8: session 15's default); 0 (default): no
            buckets.
        packed: each encoder runs its GRU once over the batch's real tokens, as packed sequences whose batch shrinks
            as sentences end (`GRUSentenceEncoder(packed)`): the same embeddings (to float rounding), no product on
            padding, one traced loop of `max_length` steps instead of one per bucket; 19-20% less CPU per training
            step than buckets of 8 (`benchmarks/sentence_twin.py --also=--no-packed`, two runs). Needs
            `bucket_width=0`. True (default).
        product_dtype: the dtype of each encoder's products over all tokens at once, e.g. `"bfloat16"`
            (`GRUSentenceEncoder(product_dtype)`); None (default): float32.
        readout: what each encoder's half of the embedding is read from (`GRUSentenceEncoder(readout)`):
            `"states"` (default) its pooled GRU states; `"states+words"` its pooled states (`embedding_dim / 2 -
            word_dim` floats) beside the mean of its word embeddings (`word_dim` floats), so `word_dim` must be
            below `embedding_dim / 2`; `"words"` the mean of its word embeddings alone, no GRU (`word_dim` must be
            `embedding_dim / 2`). The embedding keeps its size either way.
        word_weighting: how each encoder's mean word embedding weighs its tokens (`GRUSentenceEncoder(word_weighting)`):
            `"uniform"` (default), `"sif"`, smooth inverse frequency `sif_a / (sif_a + p(token))` (Arora et al.,
            2017), `p` set by `set_token_frequencies` from the training text, or `"idf"`, fixed weights set by
            `set_token_idf`. Needs readout `"words"` or `"states+words"`.
        sif_a: `a` of `word_weighting="sif"` (1e-3, as in the paper).
        freeze_word_embeddings: both encoders' word embeddings stay as set by `set_word_embeddings` (the paper's
            variant with fixed pretrained word vectors; `GRUSentenceEncoder(freeze_word_embeddings)`); not with
            `readout="words"`. False (default): trained.
        word_anchor_weight: weight of an L2-SP penalty (Li, Grandvalet & Davoine, 2018, "Explicit inductive bias for
            transfer learning with convolutional networks") that pulls both encoders' word tables towards their
            start: `word_anchor_weight * (||W_f - W_f0||^2 + ||W_g - W_g0||^2)`, added to every example's loss in the
            one loop (metric `word_anchor_distance`, unweighted; the judge's own loss is then reported as
            `neighbour_loss`). The start is each table as built, or as `set_word_embeddings` last set it (e.g. LSA
            vectors), kept in non-trainable weights (`word_starts`), so checkpoints and `--resume` keep it. 0
            (default): no penalty.
        word_anchor_scale: `"fixed"` (default): the distance to the start itself, as in the paper; `"free"`: to the
            nearest multiple of it (`keras_ae.core.start_point.start_point_distance(free_scale=True)`), so the
            tables may grow as a whole (the judge's softmax needs larger scores than an LSA start at the
            initialiser's scale gives) and only a change of their direction costs.
        similarity_anchor_weight: weight of a similarity-preserving term on the embeddings, not the weights
            (Tung & Mori, 2019, "Similarity-preserving knowledge distillation"; the teacher is the model's own
            start): for each batch, the cosine similarities between its sentences' embeddings `[f(s), g(s)]` under
            the current word tables and under their start (`word_starts`, as for `word_anchor_weight`), each
            example's loss plus `similarity_anchor_weight` times the mean squared difference of its row (metric
            `similarity_anchor_gap`, unweighted). The tables may move anywhere that keeps which sentences the start
            found alike. Needs `readout="words"` (the start's embedding is the bag of the start's rows). 0
            (default): off.
        length_anchor_weight: weight of a penalty that keeps the rows of both word tables at their start's lengths
            relative to each other, while their directions and the tables' overall scale train freely:
            `length_anchor_weight * (row_length_spread(W_f, W_f0) + row_length_spread(W_g, W_g0))`
            (`keras_ae.core.start_point.row_length_spread`: the variance over rows of the log of each row's length
            over its start's), added to every example's loss (metric `word_length_spread`, unweighted; starts in
            `word_starts`, as for `word_anchor_weight`). A bag of word rows weighs each word by its row's length, so
            this keeps the start's weighting of the words (e.g. the LSA start's idf), which the neighbour objective
            otherwise rewrites, lengthening the rare pieces' rows most (docs/results/sentences.md, "Session 31").
            Not with `freeze_word_embeddings`. 0 (default): off.
        direction_anchor_weight: weight of a penalty that keeps the rows of a band of pieces pointing where they
            started, while their lengths and every other row train freely: `direction_anchor_weight * (row_turn(W_f,
            W_f0, band) + row_turn(W_g, W_g0, band))` (`keras_ae.core.start_point.row_turn`: the band's mean `1 -
            cos(row, start row)`), added to every example's loss (metric `word_turn`, unweighted; starts in
            `word_starts`). The band is `direction_anchor_band` of the pieces ranked by frequency, set by
            `set_direction_anchor_pieces` from the training text's frequencies (kept in a non-trainable weight, so
            checkpoints and `--resume` keep it). Against the neighbour objective turning the rows of the frequent
            content pieces that carry a description's topic (docs/results/sentences.md, "Session 31"). Not with
            `freeze_word_embeddings`. 0 (default): off.
        direction_anchor_band: `(first, last)`, fractions of the vocabulary ranked by frequency, most frequent first:
            the pieces from rank `first * vocabulary_size` up to `last * vocabulary_size` are held by
            `direction_anchor_weight` ((0.01, 0.1): below the top 1% of pieces, within the top 10%).
        query_encoder, context_encoder: f and g, `GRUSentenceEncoder`-like layers; default built from the arguments,
            with `unroll=True` (their GRUs run as loops unrolled over `max_length`, with token ids from `prepare_batch`
            about 1.2x faster steps on CPU, `benchmarks/sentence_twin.py`).

    Training batches may hold raw sentences or, from `prepare_batch` in a `tf.data` pipeline, their token ids, which
    takes the string work off the training step; `encode` and the export take raw sentences.

    Example:
        model = QuickThought(vocabulary, embedding_dim=256)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        batches = make_contiguous_dataset(splits.train, batch_size=400, shuffle=True)
        model.fit(batches.map(model.prepare_batch), epochs=3)   # token ids made in tf.data (raw batches work too)
        z = model.encode(tf.constant(["It is a truth universally acknowledged."]))   # [1, 256]
    """

    def __init__(
        self,
        vocabulary,
        embedding_dim=128,
        word_dim=64,
        max_length=40,
        pooling="mean",
        bidirectional=False,
        tokenizer="word",
        hidden_dim=None,
        word_skip=False,
        context_window=1,
        document_weight=0.0,
        token_dropout=0.0,
        bucket_width=0,
        packed=True,
        product_dtype=None,
        readout="states",
        word_weighting="uniform",
        sif_a=1e-3,
        freeze_word_embeddings=False,
        word_anchor_weight=0.0,
        word_anchor_scale="fixed",
        similarity_anchor_weight=0.0,
        length_anchor_weight=0.0,
        direction_anchor_weight=0.0,
        direction_anchor_band=DIRECTION_ANCHOR_BAND,
        query_encoder=None,
        context_encoder=None,
        **kwargs,
    ):
        if embedding_dim % 2:
            raise ValueError(
                f"QuickThought's embedding_dim is split between f and g, so it must be even; got {embedding_dim}."
            )
        if bidirectional and hidden_dim is None and embedding_dim % 4:
            raise ValueError(
                "A bidirectional QuickThought splits embedding_dim between f and g and each half between two "
                f"directions, so it must be a multiple of 4; got {embedding_dim}."
            )
        document_weight = float(document_weight)
        if not document_weight >= 0:
            raise ValueError(f"QuickThought's document_weight must be at least 0; got {document_weight}.")
        word_anchor_weight = float(word_anchor_weight)
        if not word_anchor_weight >= 0:
            raise ValueError(f"QuickThought's word_anchor_weight must be at least 0 (0: no penalty); got "
                             f"{word_anchor_weight}.")
        if word_anchor_scale not in WORD_ANCHOR_SCALES:
            raise ValueError(f"Unknown word_anchor_scale {word_anchor_scale!r}: choose one of "
                             f"{', '.join(WORD_ANCHOR_SCALES)}.")
        if word_anchor_scale != "fixed" and not word_anchor_weight:
            raise ValueError(f"word_anchor_scale={word_anchor_scale!r} sets how word_anchor_weight's penalty measures "
                             "the distance, but word_anchor_weight is 0: give it a weight, or drop word_anchor_scale.")
        similarity_anchor_weight = float(similarity_anchor_weight)
        if not similarity_anchor_weight >= 0:
            raise ValueError(f"QuickThought's similarity_anchor_weight must be at least 0 (0: off); got "
                             f"{similarity_anchor_weight}.")
        if similarity_anchor_weight and readout != "words":
            raise ValueError(f"similarity_anchor_weight compares the embeddings with those of the word tables' start, "
                             f"which only the bag of word embeddings is made of; readout={readout!r} has GRUs: use "
                             f"readout='words', or drop similarity_anchor_weight.")
        length_anchor_weight = float(length_anchor_weight)
        if not length_anchor_weight >= 0:
            raise ValueError(f"QuickThought's length_anchor_weight must be at least 0 (0: off); got "
                             f"{length_anchor_weight}.")
        if length_anchor_weight and freeze_word_embeddings:
            raise ValueError("length_anchor_weight keeps trained word rows at their start's lengths, but "
                             "freeze_word_embeddings keeps the whole tables there already: drop one of them.")
        direction_anchor_weight = float(direction_anchor_weight)
        if not direction_anchor_weight >= 0:
            raise ValueError(f"QuickThought's direction_anchor_weight must be at least 0 (0: off); got "
                             f"{direction_anchor_weight}.")
        direction_anchor_band = tuple(float(x) for x in direction_anchor_band)
        if len(direction_anchor_band) != 2 or not 0 <= direction_anchor_band[0] < direction_anchor_band[1] <= 1:
            raise ValueError(f"direction_anchor_band is (first, last), fractions of the vocabulary ranked by "
                             f"frequency with 0 <= first < last <= 1; got {direction_anchor_band}.")
        if direction_anchor_band != DIRECTION_ANCHOR_BAND and not direction_anchor_weight:
            raise ValueError(f"direction_anchor_band={direction_anchor_band} chooses the pieces direction_anchor_weight "
                             "holds, but direction_anchor_weight is 0: give it a weight, or drop direction_anchor_band.")
        if direction_anchor_weight and freeze_word_embeddings:
            raise ValueError("direction_anchor_weight keeps trained word rows pointing where they started, but "
                             "freeze_word_embeddings keeps the whole tables there already: drop one of them.")
        if word_anchor_weight and freeze_word_embeddings:
            raise ValueError("word_anchor_weight pulls trained word tables towards their start, but "
                             "freeze_word_embeddings keeps them there already: drop one of them.")
        # Layers
        encoder_args = dict(
            vocabulary=vocabulary, embedding_dim=embedding_dim // 2, word_dim=word_dim, max_length=max_length,
            pooling=pooling, bidirectional=bidirectional, tokenizer=tokenizer, unroll=True, hidden_dim=hidden_dim,
            word_skip=word_skip, token_dropout=token_dropout, bucket_width=bucket_width, packed=packed,
            product_dtype=product_dtype, readout=readout, word_weighting=word_weighting, sif_a=sif_a,
            freeze_word_embeddings=freeze_word_embeddings,
        )
        try:
            query_encoder = query_encoder or GRUSentenceEncoder(**encoder_args, name="query_encoder")
        except ValueError as error:
            raise ValueError(f"{error} (QuickThought gives each of its two encoders half of embedding_dim, "
                             f"{embedding_dim // 2}.)") from None
        judges, judge_weights = [NeighbourClassifier(context_window, name="neighbour")], [1.0]
        if document_weight > 0:
            judges.append(DocumentClassifier(name="document"))
            judge_weights.append(document_weight)
        super().__init__(encoder=query_encoder, judges=judges, judge_weights=judge_weights, **kwargs)
        self.context_encoder = context_encoder or GRUSentenceEncoder(**encoder_args, name="context_encoder")
        self.word_starts = None  # the word tables' starting points, made in `build` when anchored
        self.direction_anchored = None  # 0/1 per piece: the band direction_anchor_weight holds, made in `build`
        if word_anchor_weight or similarity_anchor_weight or length_anchor_weight or direction_anchor_weight:
            for name in (f"{judge.name}_loss" for judge in self.judges):
                self.trackers.setdefault(name, keras.metrics.Mean(name=name))
        if word_anchor_weight:
            self.trackers["word_anchor_distance"] = keras.metrics.Mean(name="word_anchor_distance")
        if similarity_anchor_weight:
            self.trackers["similarity_anchor_gap"] = keras.metrics.Mean(name="similarity_anchor_gap")
        if length_anchor_weight:
            self.trackers["word_length_spread"] = keras.metrics.Mean(name="word_length_spread")
        if direction_anchor_weight:
            self.trackers["word_turn"] = keras.metrics.Mean(name="word_turn")
        # Config
        self.vocabulary = list(vocabulary)
        self.embedding_dim = embedding_dim
        self.word_dim = word_dim
        self.max_length = max_length
        self.pooling = pooling
        self.bidirectional = bidirectional
        self.tokenizer = tokenizer
        self.hidden_dim = hidden_dim
        self.word_skip = word_skip
        self.context_window = self.judges[0].context_window
        self.document_weight = document_weight
        self.token_dropout = float(token_dropout)
        self.bucket_width = bucket_width
        self.packed = packed
        self.product_dtype = product_dtype
        self.readout = readout
        self.word_weighting = word_weighting
        self.sif_a = float(sif_a)
        self.freeze_word_embeddings = bool(freeze_word_embeddings)
        self.word_anchor_weight = word_anchor_weight
        self.word_anchor_scale = word_anchor_scale
        self.similarity_anchor_weight = similarity_anchor_weight
        self.length_anchor_weight = length_anchor_weight
        self.direction_anchor_weight = direction_anchor_weight
        self.direction_anchor_band = direction_anchor_band
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None,))

    def set_token_frequencies(self, frequencies):
        """Sets both encoders' token frequencies `p` for `word_weighting="sif"` (one value per token id, e.g.
        `keras_ae.layers.encoders.gru_sentence_encoder.count_token_frequencies` of the training sentences)."""
        for encoder in (self.query_encoder, self.context_encoder):
            encoder.set_token_frequencies(frequencies)

    def set_token_idf(self, weights):
        """Sets both encoders' fixed token weights for `word_weighting="idf"` (one value per token id, e.g.
        `keras_ae.data.word_vectors.lsa_fit`'s idf)."""
        for encoder in (self.query_encoder, self.context_encoder):
            encoder.set_token_idf(weights)

    def set_word_embeddings(self, vectors, context_vectors=None, norm=None):
        """Sets f's word embeddings to `vectors` and g's to `context_vectors` (default: the same), each
        `[vocabulary_size, word_dim]` (e.g. `keras_ae.data.word_vectors.lsa_word_vectors`), scaled to the mean row
        norm `norm` (default: the initialiser's; `GRUSentenceEncoder.set_word_embeddings`)."""
        self.query_encoder.set_word_embeddings(vectors, norm)
        self.context_encoder.set_word_embeddings(vectors if context_vectors is None else context_vectors, norm)
        self.reset_word_starts()

    def reset_word_starts(self):
        """Sets the starting points of the terms against the word tables' start (`word_anchor_weight`,
        `similarity_anchor_weight`, `length_anchor_weight`, `direction_anchor_weight`) to both tables as they are now
        (nothing without them)."""
        for start, encoder in zip(self.word_starts or (), (self.query_encoder, self.context_encoder)):
            start.assign(encoder.word_embedding.embeddings)

    @property
    def query_encoder(self):
        """f: the encoder of the sentence whose neighbours are sought."""
        return self.encoder

    def build(self, input_shape=None):
        for encoder in (self.query_encoder, self.context_encoder):
            if not encoder.built:
                encoder.build(input_shape)
        for judge in self.judges:
            judge.build()
        anchored = (self.word_anchor_weight, self.similarity_anchor_weight, self.length_anchor_weight,
                    self.direction_anchor_weight)
        if self.direction_anchor_weight and self.direction_anchored is None:
            self.direction_anchored = self.add_weight(
                shape=(self.query_encoder.vocabulary_size,), initializer="zeros", trainable=False,
                name="direction_anchored")
        if any(anchored) and self.word_starts is None:
            self.word_starts = [
                self.add_weight(shape=encoder.word_embedding.embeddings.shape, initializer="zeros", trainable=False,
                                name=f"{encoder.name}_word_start")
                for encoder in (self.query_encoder, self.context_encoder)
            ]
            self.reset_word_starts()
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

    def prepare_batch(self, batch):
        """A batch `{"sentences", "positions"}` with the sentences as the encoders' token ids (plus
        `"context_sentences"` when g splits text differently from f): for `tf.data.Dataset.map`."""
        prepared = {**batch, "sentences": self.query_encoder.tokenize(batch["sentences"])}
        if not same_tokens(self.query_encoder, self.context_encoder):
            prepared["context_sentences"] = self.context_encoder.tokenize(batch["sentences"])
        return prepared

    def forward(self, batch, training=False):
        """The code `(f(s), g(s))` of a batch `{"sentences", "positions"}` of contiguous sentences (raw, or token
        ids from `prepare_batch`)."""
        sentences = batch["sentences"]
        context = batch.get("context_sentences", sentences)
        if sentences.dtype.is_integer and "context_sentences" not in batch and not same_tokens(
            self.query_encoder, self.context_encoder
        ):
            raise ValueError("f and g split text differently: batch token ids with QuickThought.prepare_batch.")
        if self.similarity_anchor_weight:  # tokenised once: the encoders and the start's bag read the same ids
            sentences, context = token_ids(self.query_encoder, sentences), token_ids(self.context_encoder, context)
        code = (self.query_encoder(sentences, training=training), self.context_encoder(context, training=training))
        losses, metrics = {}, {}
        table_terms = (  # penalties on the word tables against their start: (loss, weight, metric, measure)
            ("word_anchor", self.word_anchor_weight, "word_anchor_distance", self.word_anchor_distance),
            ("direction_anchor", self.direction_anchor_weight, "word_turn", self.word_turn),
            ("length_anchor", self.length_anchor_weight, "word_length_spread", self.word_length_spread),
        )
        for loss, weight, metric, measure in table_terms:
            if weight:
                metrics[metric] = measure()
                losses[loss] = tf.fill(tf.shape(code[0])[:1], weight * metrics[metric])  # the same for every example
        if self.similarity_anchor_weight:
            gap = self.similarity_anchor_gap(code, (sentences, context))
            losses["similarity_anchor"] = self.similarity_anchor_weight * gap
            metrics["similarity_anchor_gap"] = gap
        return code, losses, metrics

    def similarity_anchor_gap(self, code, ids):
        """`similarity_anchor_weight`'s term, unweighted, per example `[batch]`: the mean squared difference between
        its row of cosine similarities among the batch's embeddings `code` (`(f(s), g(s))`) and the same row under
        the word tables' start (`word_starts`), reading the token ids `ids` (`(f's, g's)`). The start's side is a
        constant."""
        start = tf.stop_gradient(tf.concat([
            encoder.word_mean(encoder_ids, table) for encoder, encoder_ids, table
            in zip((self.query_encoder, self.context_encoder), ids, self.word_starts)
        ], axis=-1))
        now = tf.cast(tf.concat(code, axis=-1), tf.float32)

        def similarities(embeddings):
            unit = tf.math.l2_normalize(tf.cast(embeddings, tf.float32), axis=-1)
            return tf.matmul(unit, unit, transpose_b=True)

        return tf.reduce_mean(tf.square(similarities(now) - similarities(start)), axis=-1)

    def _over_both_tables(self, measure):
        """`measure(table, start)` summed over f's and g's word tables and their starts (`word_starts`)."""
        return tf.add_n([
            measure(encoder.word_embedding.embeddings, start)
            for start, encoder in zip(self.word_starts, (self.query_encoder, self.context_encoder))
        ])

    def word_anchor_distance(self):
        """`word_anchor_weight`'s distance of both word tables to their starts (a float32 scalar, unweighted)."""
        free_scale = self.word_anchor_scale == "free"
        return self._over_both_tables(lambda table, start: start_point_distance(table, start, free_scale=free_scale))

    def word_length_spread(self):
        """`length_anchor_weight`'s spread of both word tables' row lengths about their starts' (a float32 scalar,
        unweighted; `row_length_spread`)."""
        return self._over_both_tables(row_length_spread)

    def set_direction_anchor_pieces(self, frequencies):
        """Chooses the pieces `direction_anchor_weight` holds: those ranked in `direction_anchor_band` by
        `frequencies` (one count or share per token id, e.g. `count_token_frequencies` of the training sentences;
        padding and out-of-vocabulary ids are never held). Returns their token ids."""
        if not self.direction_anchor_weight:
            raise ValueError("set_direction_anchor_pieces chooses the pieces direction_anchor_weight holds; this "
                             "model's direction_anchor_weight is 0.")
        frequencies = np.asarray(frequencies, "float64")
        size = self.query_encoder.vocabulary_size
        if frequencies.shape != (size,) or not np.all(np.isfinite(frequencies)) or frequencies.min() < 0:
            raise ValueError(f"direction anchor: one finite frequency at least 0 per token id ({size}); got shape "
                             f"{frequencies.shape}.")
        pieces = np.arange(2, size)  # 0 padding, 1 out-of-vocabulary
        ranked = pieces[np.argsort(-frequencies[2:], kind="stable")]
        first, last = (int(round(fraction * len(pieces))) for fraction in self.direction_anchor_band)
        chosen = np.sort(ranked[first:last])
        mask = np.zeros(size, "float32")
        mask[chosen] = 1.0
        self.direction_anchored.assign(mask)
        return chosen

    def word_turn(self):
        """`direction_anchor_weight`'s turn of both word tables' held rows from their starts (a float32 scalar,
        unweighted; `row_turn`)."""
        return self._over_both_tables(lambda table, start: row_turn(table, start, self.direction_anchored))

    @property
    def export_imports(self):
        """Modules to import before loading the export: TensorFlow Text's ops for WordPiece."""
        return ["tensorflow_text"] if self.tokenizer == "wordpiece" else []

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
                "hidden_dim": self.hidden_dim,
                "word_skip": self.word_skip,
                "context_window": self.context_window,
                "document_weight": self.document_weight,
                "token_dropout": self.token_dropout,
                "bucket_width": self.bucket_width,
                "packed": self.packed,
                "product_dtype": self.product_dtype,
                "readout": self.readout,
                "word_weighting": self.word_weighting,
                "sif_a": self.sif_a,
                "freeze_word_embeddings": self.freeze_word_embeddings,
                "word_anchor_weight": self.word_anchor_weight,
                "word_anchor_scale": self.word_anchor_scale,
                "similarity_anchor_weight": self.similarity_anchor_weight,
                "length_anchor_weight": self.length_anchor_weight,
                "direction_anchor_weight": self.direction_anchor_weight,
                "direction_anchor_band": list(self.direction_anchor_band),
                "query_encoder": config.pop("encoder"),
                "context_encoder": keras.saving.serialize_keras_object(self.context_encoder),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("query_encoder", "context_encoder")))
