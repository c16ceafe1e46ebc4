"""Text as the latent: an auto-encoder whose code is a short word sequence, read back into the document and judged
by a discriminator of real summaries, so that the code becomes a readable summary."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.layers.bottlenecks.gumbel_softmax import GumbelSoftmax
from keras_ae.layers.decoders.attention_copy_decoder import AttentionCopyDecoder
from keras_ae.layers.decoders.conditional_gru_decoder import ConditionalGRUDecoder, word_dropout
from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder
from keras_ae.layers.encoders.word_sequence_encoder import WordSequenceEncoder
from keras_ae.layers.judges.neighbour_decoder import NeighbourDecoder
from keras_ae.layers.judges.real_text_discriminator import RealTextDiscriminator

OBJECTIVES = ("paired", "reconstruction", "unpaired")
GRADIENTS = ("straight_through", "self_critical")
SUBLAYERS = ("encoder", "generator", "reader", "document_decoder", "discriminator")


@keras.saving.register_keras_serializable(package="keras_ae")
class TextLatent(JudgedEncoder):
    """A seq2seq2seq auto-encoder with a human-readable code (Wang & Lee, 2018, "Learning to Encode Text as
    Human-Readable Summaries using Generative Adversarial Networks").

    Generator: a bidirectional GRU encoder of the document (`GRUSentenceEncoder`, raw strings in, vocabulary inside)
    and an `AttentionCopyDecoder` that writes `summary_length` words. Reconstructor: a `WordSequenceEncoder` reads
    the words and a `ConditionalGRUDecoder` rebuilds the document's first `reconstruct_length` tokens from them
    (teacher forcing with word dropout, so it must use the code). Discriminator: a `RealTextDiscriminator`
    (WGAN-GP critic) that sees real summaries, never paired with the batch's documents, and the generated words.

    Gradient path (`gradient`): "straight_through": the generated words are hard straight-through Gumbel-softmax
    samples (`GumbelSoftmax`), so the reconstructor and the critic see discrete one-hot words, the same format as real
    summaries (a critic of soft distributions against one-hot real words could tell them apart by their entropy
    alone), and both losses reach the generator through the relaxed samples, without REINFORCE's variance.
    "self_critical": REINFORCE with the greedy summary as baseline (Rennie et al., 2017, as in Wang & Lee's code):
    the reward of sampled words `w` is `r(w) = -reconstruction_loss(w) + adversary_weight * D(w)` and the generator
    minimises `-(r(sample) - r(greedy)) * log p(sample)`; the reconstructor and the critic train on the samples.

    Pseudo pairs in the unpaired stages (`pseudo_weight > 0`): the pretraining objective stays on as an auxiliary
    loss (`pseudo_weight` times the generator's loss on `batch["target"]` given `batch["noisy"]`), so the
    reconstruction reward cannot pull the generator far from what pretraining taught; batches then carry the pseudo
    pairs (`make_unpaired_dataset(..., pseudo=pseudo_pairs(documents, n))`).

    `objective` chooses what trains (the layers, and so the weights, are the same for all three; see
    `with_objective`):
        "paired": the generator, teacher-forced on `batch["target"]` (pseudo pairs for pretraining, or real pairs
            for the supervised ceiling), and the reconstructor, rebuilding the document from the target words.
        "reconstruction": generator and reconstructor on the reconstruction loss (no discriminator).
        "unpaired": the same plus the discriminator, an adversary of the core loop with its own optimizer
            (`compile(optimizers={"encoder": ..., "adversary": ...})`); `batch["summary"]` holds real summaries.

    Args:
        vocabulary: list of tokens (see `keras_ae.data.text.build_vocabulary`); one vocabulary for documents and
            summaries.
        objective: see above.
        summary_length: words the generator writes (the code's length).
        document_length: documents are truncated to this many tokens.
        reconstruct_length: the reconstructor rebuilds the document's first this many tokens.
        embedding_dim: size of the document embedding (`encode`) and of the encoder's states.
        word_dim: size of the word vectors everywhere.
        hidden_dim: size of the generator's and the reconstructor's GRU states.
        adversary_weight: weight of the generator's `-D(fake)` beside the reconstruction loss.
        penalty_weight: the critic's gradient-penalty weight.
        adversary_steps, adversary_ramp_steps: see `JudgedEncoder`.
        gradient: "straight_through" or "self_critical" (see above).
        pseudo_weight: weight of the pseudo-pair loss in the reconstruction and unpaired objectives (0: none).
        decoder_word_dropout: share of the reconstructor's input words replaced by the OOV id in training.
        initial_temperature, min_temperature, anneal_rate: the Gumbel-softmax schedule (see `GumbelSoftmax`).
        seed: seed of the Gumbel noise, the word dropout and the critic's penalty.
        encoder, generator, reader, document_decoder, discriminator: the parts (default built from the arguments).

    Example:
        model = TextLatent(vocabulary, objective="paired")
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(make_pair_dataset(*pseudo_pairs(documents, length=6), batch_size=64, shuffle=True), epochs=2)
        model = model.with_objective("unpaired")
        model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-3), "adversary": keras.optimizers.Adam(1e-4)})
        model.fit(make_unpaired_dataset(documents, real_summaries, batch_size=64, shuffle=True), epochs=2)
        model.summarize(tf.constant(["PyYAML is a YAML parser and emitter for Python."]))
    """

    def __init__(
        self,
        vocabulary,
        objective="unpaired",
        summary_length=10,
        document_length=60,
        reconstruct_length=30,
        embedding_dim=128,
        word_dim=64,
        hidden_dim=128,
        adversary_weight=1.0,
        penalty_weight=10.0,
        adversary_steps=1,
        adversary_ramp_steps=0,
        gradient="straight_through",
        pseudo_weight=0.0,
        decoder_word_dropout=0.5,
        initial_temperature=1.0,
        min_temperature=0.5,
        anneal_rate=1e-4,
        seed=None,
        encoder=None,
        generator=None,
        reader=None,
        document_decoder=None,
        discriminator=None,
        **kwargs,
    ):
        if objective not in OBJECTIVES:
            raise ValueError(f"Unknown objective {objective!r}: choose one of {', '.join(OBJECTIVES)}.")
        if gradient not in GRADIENTS:
            raise ValueError(f"Unknown gradient {gradient!r}: choose one of {', '.join(GRADIENTS)}.")
        if pseudo_weight < 0:
            raise ValueError(f"pseudo_weight must be at least 0; got {pseudo_weight}.")
        if not 0.0 <= decoder_word_dropout < 1.0:
            raise ValueError(f"decoder_word_dropout must be in [0, 1); got {decoder_word_dropout}.")
        reconstruct_length = min(reconstruct_length, document_length)
        # Layers
        encoder = encoder or GRUSentenceEncoder(
            vocabulary, embedding_dim=embedding_dim, word_dim=word_dim, max_length=document_length, pooling="max",
            bidirectional=True, name="encoder",
        )
        size = encoder.vocabulary_size
        generator = generator or AttentionCopyDecoder(
            size, length=summary_length, hidden_dim=hidden_dim, word_dim=word_dim, name="generator"
        )
        reader = reader or WordSequenceEncoder(size, embedding_dim=hidden_dim, word_dim=word_dim, name="reader")
        document_decoder = document_decoder or ConditionalGRUDecoder(
            size, hidden_dim=hidden_dim, word_dim=word_dim, output_dim=word_dim, name="document_decoder"
        )
        discriminator = discriminator or RealTextDiscriminator(
            size, word_dim=word_dim, penalty_weight=penalty_weight, seed=seed, name="discriminator"
        )
        judges = [NeighbourDecoder(document_decoder, name="reconstruction")]
        judge_weights = [1.0]
        if objective == "paired" or pseudo_weight > 0:
            judges.insert(0, NeighbourDecoder(generator, name="summary"))
            judge_weights.insert(0, 1.0 if objective == "paired" else float(pseudo_weight))
        adversaries = [discriminator] if objective == "unpaired" else []
        super().__init__(
            encoder=encoder, judges=judges, judge_weights=judge_weights, adversaries=adversaries,
            adversary_weights=[adversary_weight] * len(
                adversaries), adversary_steps=adversary_steps, adversary_ramp_steps=adversary_ramp_steps, **kwargs,
        )
        if gradient == "self_critical" and objective != "paired":
            for name in ("advantage", "greedy_reconstruction"):  # the reward's advantage, the baseline's loss
                self.trackers[name] = keras.metrics.Mean(name=name)
        self.generator = generator
        self.reader = reader
        self.document_decoder = document_decoder
        self.discriminator = discriminator
        self.sampler = GumbelSoftmax(initial_temperature, min_temperature, anneal_rate, hard=True, seed=seed,
                                     name="sampler")
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Config
        self.vocabulary = list(vocabulary)
        self.objective = objective
        self.summary_length = summary_length
        self.document_length = document_length
        self.reconstruct_length = reconstruct_length
        self.embedding_dim = embedding_dim
        self.word_dim = word_dim
        self.hidden_dim = hidden_dim
        self.adversary_weight = float(adversary_weight)
        self.penalty_weight = float(penalty_weight)
        self.gradient = gradient
        self.pseudo_weight = float(pseudo_weight)
        self.decoder_word_dropout = decoder_word_dropout
        self.initial_temperature = initial_temperature
        self.min_temperature = min_temperature
        self.anneal_rate = anneal_rate
        self.seed = seed
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None,))

    def build(self, input_shape=None):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        memory_shape = ((None, self.document_length, self.embedding_dim),)
        if not self.generator.built:
            self.generator.build((None, self.summary_length), memory_shape)
        if not self.reader.built:
            self.reader.build()
        if not self.document_decoder.built:
            self.document_decoder.build((None, self.reconstruct_length), (None, self.hidden_dim))
        if not self.discriminator.built:
            self.discriminator.build()
        for judge in self.judges:
            judge.built = True
        self.built = True

    # ------------------------------------------------------------------ the parts
    def memory(self, documents, training=False):
        """What the generator reads: `(states, mask, token_ids, pooled, spellings)` of a `tf.string` batch of
        documents; `spellings [batch, T]` is, for every token, the position of its word's first occurrence in the
        document, so that the generator never spells one out-of-vocabulary word twice."""
        words = self.encoder.words(documents)
        spellings = tf.argmax(tf.cast(tf.equal(words[:, :, None], words[:, None, :]), tf.int32), axis=-1,
                              output_type=tf.int32)
        return (*self._states(documents, training), spellings)

    def _states(self, documents, training=False):
        """`(states, mask, token_ids, pooled)`: the encoder's state at every token and their max over the tokens."""
        token_ids = self.encoder.tokenize(documents)
        states, mask = self.encoder.token_states(token_ids, training=training)
        pooled = tf.reduce_max(tf.where(mask[:, :, None], states, tf.cast(-1e4, states.dtype)), axis=1)
        pooled = tf.where(tf.reduce_any(mask, axis=1, keepdims=True), pooled, tf.zeros_like(pooled))
        return states, mask, token_ids, pooled

    def call(self, documents, training=False):
        return self._states(documents, training=training)[3]

    def encode(self, documents):
        """Document embeddings `[batch, embedding_dim]` (float32) of a `tf.string` tensor `[batch]`."""
        return tf.cast(self(tf.convert_to_tensor(documents, tf.string), training=False), tf.float32)

    def summary_ids(self, documents):
        """Greedy summaries as token ids `[batch, summary_length]` (0 after the end) and the words they spell
        (`tf.string` `[batch, summary_length]`; an out-of-vocabulary id spells the out-of-vocabulary document word
        it attends to most among those not spelled yet: no OOV word is spelled twice)."""
        documents = tf.convert_to_tensor(documents, tf.string)
        words, _, pointers = self.generator.generate(self.memory(documents), training=False, return_pointers=True)
        ids = tf.argmax(words, axis=-1, output_type=tf.int32)
        table = tf.constant(["", "[UNK]", *self.vocabulary])
        spelled = tf.gather(table, ids)
        copied = tf.gather(self.encoder.words(documents), pointers, batch_dims=1)
        return ids, tf.where(tf.equal(ids, 1), copied, spelled)

    def summarize(self, documents):
        """Summaries `tf.string [batch]` of documents `tf.string [batch]` (greedy decoding, in the graph)."""
        _, words = self.summary_ids(documents)
        joined = tf.strings.reduce_join(words, axis=1, separator=" ")
        return tf.strings.strip(tf.strings.regex_replace(joined, " +", " "))

    # ------------------------------------------------------------------ the loop's hooks
    def unpack_batch(self, data):
        batch = dict(super().unpack_batch(data))
        if "summary" in batch:  # the discriminator's real summaries, as token ids
            batch["summary_ids"] = self.encoder.tokenize(batch["summary"])[:, : self.summary_length]
        return batch

    def forward(self, batch, training=False):
        """The paired objective's code is the generator's memory; the others' the generated one-hot words (with
        `gradient="self_critical"` in training: `(sampled words, their log-probability [batch], greedy words)`, the
        words without gradient; the critic reads the first)."""
        memory = self.memory(batch["document"], training=training)
        if self.objective == "paired":
            return memory, {}, {}
        if self.gradient == "self_critical" and training:
            sampled = self.generator.write(memory, sampler=self.sampler, training=True)
            greedy = self.generator.write(memory, training=False)["words"]
            log_prob = tf.reduce_sum(sampled["log_probs"], axis=1)
            return (tf.stop_gradient(sampled["words"]), log_prob, tf.stop_gradient(greedy)), {}, {}
        words, _ = self.generator.generate(memory, sampler=self.sampler, training=training)
        return words, {}, {}

    def judge_code(self, batch, code, training=False):
        """Paired: the generator's loss on the target words and the reconstructor's loss from them (so that the
        reconstructor already reads words when the unpaired training starts); otherwise the reconstructor's loss
        from the generated words `code` (self-critical: plus the REINFORCE term), after the pseudo-pair loss when
        `pseudo_weight > 0`."""
        if self.objective == "paired":
            words = tf.one_hot(tf.cast(self._targets(batch), tf.int32), self.encoder.vocabulary_size)  # pad: end
            return [self._summary_loss(batch, code, training), self._reconstruction_loss(batch, words, training)], {}
        metrics = {}
        if isinstance(code, (tuple, list)):  # self-critical
            sampled, log_prob, greedy = code
            input_ids = self._reconstruction_inputs(batch, training)  # one word dropout for sample and baseline
            loss = self._reconstruction_loss(batch, sampled, training, input_ids)
            baseline = self._reconstruction_loss(batch, greedy, training, input_ids)
            advantage = baseline - loss  # the reward r = -loss, minus the greedy baseline's
            if self.objective == "unpaired":
                advantage += self.adversary_weight * (self.discriminator(sampled) - self.discriminator(greedy))
            advantage = tf.stop_gradient(advantage)
            loss += -advantage * log_prob
            metrics.update({"advantage": tf.reduce_mean(advantage), "greedy_reconstruction": tf.reduce_mean(baseline)})
        else:
            loss = self._reconstruction_loss(batch, code, training)
        losses = [loss]
        if self.pseudo_weight > 0:
            memory = self.memory(batch["noisy"], training=training)
            losses.insert(0, self._summary_loss(batch, memory, training))
        return losses, metrics

    def _targets(self, batch):
        """`batch["target"]` as token ids `[batch, summary_length]` (0-padded)."""
        targets = self.encoder.tokenize(batch["target"])[:, : self.summary_length]
        return tf.pad(targets, [[0, 0], [0, self.summary_length - tf.shape(targets)[1]]])

    def _summary_loss(self, batch, memory, training):
        """The generator's teacher-forced loss `[batch]` on `batch["target"]`, reading `memory`."""
        targets = self._targets(batch)
        inputs = {"inputs": self.generator.teacher_forcing_inputs(targets), "targets": targets}
        return self.judges[0].judge_loss(inputs, memory, training=training)

    def _reconstruction_inputs(self, batch, training):
        """The reconstructor's input ids: the document's first tokens, with word dropout in training."""
        targets = self.encoder.tokenize(batch["document"])[:, : self.reconstruct_length]
        return word_dropout(targets, self.decoder_word_dropout, self.seed_generator) if training else targets

    def _reconstruction_loss(self, batch, words, training, input_ids=None):
        """The reconstructor's per-document loss `[batch]` for word sequences `[batch, summary_length, V]` (its input
        ids from `_reconstruction_inputs` unless given)."""
        targets = self.encoder.tokenize(batch["document"])[:, : self.reconstruct_length]
        if input_ids is None:
            input_ids = self._reconstruction_inputs(batch, training)
        inputs = {"inputs": self.document_decoder.teacher_forcing_inputs(input_ids), "targets": targets}
        return self.judges[-1].judge_loss(inputs, self.reader(words, training=training), training=training)

    def reconstruction_losses(self, batch, words):
        """The reconstructor's loss `[batch]` (nats per token, no word dropout) of `batch["document"]` from word
        sequences `words [batch, summary_length, V]` (one-hot or soft): e.g. `evaluation.summaries.code_dependence`."""
        return self._reconstruction_loss(batch, words, training=False)

    def with_objective(self, objective, **changes):
        """A copy of this model (same config but `changes`, same weights) that trains `objective`; create it in the
        strategy's scope. Pretraining, the reconstruction-only ablation and the full model are one model at three
        stages."""
        clone = type(self).from_config({**self.get_config(), **changes, "objective": objective})
        for name in (*SUBLAYERS, "sampler"):
            getattr(clone, name).set_weights(getattr(self, name).get_weights())
        return clone

    def export_signatures(self):
        """`encode` (document embeddings) and `summarize` (summaries), both of `tf.string` documents."""
        documents = tf.TensorSpec([None], tf.string, name="documents")
        return {"encode": (self.encode, [documents]), "summarize": (self.summarize, [documents])}

    def get_config(self):
        config = without_parts(super().get_config(), keep=("adversary_steps", "adversary_ramp_steps"))
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "objective": self.objective,
                "summary_length": self.summary_length,
                "document_length": self.document_length,
                "reconstruct_length": self.reconstruct_length,
                "embedding_dim": self.embedding_dim,
                "word_dim": self.word_dim,
                "hidden_dim": self.hidden_dim,
                "adversary_weight": self.adversary_weight,
                "penalty_weight": self.penalty_weight,
                "gradient": self.gradient,
                "pseudo_weight": self.pseudo_weight,
                "decoder_word_dropout": self.decoder_word_dropout,
                "initial_temperature": self.initial_temperature,
                "min_temperature": self.min_temperature,
                "anneal_rate": self.anneal_rate,
                "seed": self.seed,
                **{name: keras.saving.serialize_keras_object(getattr(self, name)) for name in SUBLAYERS},
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, SUBLAYERS))
