"""Text as the latent: an auto-encoder whose code is a short word sequence, read back into the document and judged
by a discriminator of real summaries, so that the code becomes a readable summary."""

import keras
import numpy as np
import tensorflow as tf
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from keras_ae.config import deserialize_sublayers
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.core.steps import minimize
from keras_ae.layers.bottlenecks.gumbel_softmax import GumbelSoftmax
from keras_ae.layers.decoders.attention_copy_decoder import AttentionCopyDecoder
from keras_ae.layers.decoders.conditional_gru_decoder import ConditionalGRUDecoder, word_dropout
from keras_ae.layers.encoders.gru_sentence_encoder import STRIP_PUNCTUATION, GRUSentenceEncoder, standardize_text
from keras_ae.layers.encoders.word_sequence_encoder import WordSequenceEncoder
from keras_ae.layers.judges.neighbour_decoder import NeighbourDecoder
from keras_ae.layers.judges.real_text_discriminator import RealTextDiscriminator
from keras_ae.layers.judges.transition_discriminator import TransitionDiscriminator
from keras_ae.losses import masked_token_crossentropy

OBJECTIVES = ("paired", "reconstruction", "unpaired")
GRADIENTS = ("straight_through", "self_critical")
SUBLAYERS = ("encoder", "generator", "reader", "document_decoder", "discriminator")
CRITICS = ("convolution", "transition")
CRITIC_ARGUMENTS = ("critic", "penalty_weight", "critic_pooling", "seed")  # the default critic is built from these


def document_spellings(documents, words):
    """`words` (`tf.string [batch, L]`, standardised as the encoder's vocabulary: lower case, punctuation stripped)
    spelled as `documents` (`tf.string [batch]`) write them: each word equal to a document token's standardised form
    becomes that token (its first such one), lower-cased, with the punctuation around it stripped and the punctuation
    inside kept; other words, and "", stay as they are.

    Example:
        document_spellings(tf.constant(["Rust crate fd-lock (source)."]), tf.constant([["fdlock", "source", "x"]]))
        # [[b"fd-lock", b"source", b"x"]]
    """
    tokens = tf.strings.split(tf.strings.lower(documents))  # ragged [batch, tokens]
    dense = lambda ragged: tf.pad(ragged.to_tensor(default_value=""), [[0, 0], [0, 1]])  # noqa: E731 (never empty)
    standardized = dense(tf.ragged.map_flat_values(standardize_text, tokens))
    trimmed = dense(tf.ragged.map_flat_values(
        tf.strings.regex_replace, tokens, f"^{STRIP_PUNCTUATION}+|{STRIP_PUNCTUATION}+$", ""
    ))
    equal = tf.equal(words[:, :, None], standardized[:, None, :]) & tf.not_equal(words, "")[:, :, None]
    first = tf.argmax(tf.cast(equal, tf.int32), axis=-1, output_type=tf.int32)
    return tf.where(tf.reduce_any(equal, axis=-1), tf.gather(trimmed, first, batch_dims=1), words)


def make_critic(critic, vocabulary_size, word_dim=64, penalty_weight=10.0, pooling="max", seed=None,
                name="discriminator"):
    """A fresh critic of kind `critic` ("convolution": `RealTextDiscriminator` with `pooling`; "transition":
    `TransitionDiscriminator` with a state of `word_dim`), as `TextLatent` builds its discriminator.

    Example:
        critic = make_critic("transition", vocabulary_size=100, seed=0)
    """
    if critic == "transition":
        return TransitionDiscriminator(vocabulary_size, word_dim=word_dim, hidden_dim=word_dim,
                                       penalty_weight=penalty_weight, seed=seed, name=name)
    if critic == "convolution":
        return RealTextDiscriminator(vocabulary_size, word_dim=word_dim, penalty_weight=penalty_weight,
                                     pooling=pooling, seed=seed, name=name)
    raise ValueError(f"Unknown critic {critic!r}: choose one of {', '.join(CRITICS)}.")


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

    Length (`match_length`, `output_length`): real summaries vary in length (Debian synopses: median 7 words) while a
    generator rewarded by reconstruction alone writes as many words as it may, so a critic could tell real from
    generated by length alone. With `match_length=True`, in the reconstruction and unpaired objectives every
    generated summary in training has the length of the batch's real summary at its position (drawn from the real
    pool, never the document's own): the end symbol is blocked before that length and forced after it, so the
    critic sees the same lengths real and generated, the reconstruction reward cannot buy words by writing longer,
    and no summary can collapse to one word or none (which straight-through Gumbel cannot learn its way out of: the
    gradient of writing the end symbol does not see the words it erases). Greedy summaries (`summarize`, `encode`'s
    export beside it) then have `output_length` words (e.g. the median real length, N of Lead-N); None: the
    generator ends them itself, at most `summary_length` words.

    Last word (`block_final_stop_words`): the generator does not know where its summary will be cut (the length is
    a real summary's in training, `output_length` in `summarize`), so a word that joins phrases ("for", "and") lands
    in the last position as often as anywhere: "yaml parser for". With `block_final_stop_words=True` the last word
    of every generated summary, in training and in `summarize`, is never an English stop word (scikit-learn's list,
    the one the stop-word shares are measured with): the word is blocked there as `block_repeats` blocks a repeat
    (a decoding constraint, `AttentionCopyDecoder.generate(final_blocked=...)`), so the critic never sees a summary
    cut after a stop word and the scored summaries never end on one (Debian's synopses: 2%).

    Critic (`critic_pooling`): with "max" (the default) the critic's score rests on the summary's most telling
    n-grams, so the generator is rewarded for one synopsis-like phrase ("python bindings", "library for") wherever
    it lands, while the transitions around it go unjudged; with "mean" the score averages one score per position, so
    every transition counts, as it does in an n-gram model's perplexity. Both are convolutional critics
    (`critic="convolution"`, `RealTextDiscriminator`); with `critic="transition"` a recurrent critic
    (`TransitionDiscriminator`, as Wang & Lee's released per-step discriminator) scores every prefix of the summary
    and averages those scores up to its end, so each word is judged given all the words before it, not a window.

    Spelling (`document_spelling`): the vocabulary is of standardised words (lower case, punctuation stripped), so
    the generator writes "fdlock" for the document's "fd-lock" and "python3yaml" for "python3-yaml". With
    `document_spelling=True` a greedy summary's word that the document holds is spelled as the document writes it
    (lower case, punctuation kept inside the word, stripped around it), as a pointer-generator copies the source's
    token (See et al., 2017); words the document does not hold stay as the vocabulary spells them. Only the
    strings of `summarize` change: the ids, the code the reconstructor and the critic read, and training do not.

    Pseudo pairs in the unpaired stages (`pseudo_weight > 0`): the pretraining objective stays on as an auxiliary
    loss (`pseudo_weight` times the generator's loss on `batch["target"]` given `batch["noisy"]`), so the
    reconstruction reward cannot pull the generator far from what pretraining taught; batches then carry the pseudo
    pairs (`make_unpaired_dataset(..., pseudo=pseudo_pairs(documents, n))`).

    Anchor in the unpaired stages (`anchor_weight > 0`): a trust region around the model the stage starts from, as in
    KL-regularised policy optimisation (Jaques et al., 2017, "Sequence Tutor"; Ziegler et al., 2019): the loss gains
    `anchor_weight * sum_t KL(p(. | w_<t, x) || p_anchor(. | w_<t, x))`, the KL between the generator's word
    distribution and that of a frozen copy of the starting encoder and generator (`anchor_encoder`,
    `anchor_generator`) at every step of the generated summary `w` (its written words, the same prefix for both), in
    nats per summary (metric `anchor_kl`, unweighted). Unlike `pseudo_weight` it holds the generator near what
    pretraining taught it, not near the pseudo targets. The anchor is the model as built; `with_objective` sets it to
    the weights of the model it is called on (the stage's start), `reset_anchor` to the current weights; the paired
    objective has no anchor.

    Language-model judge of real summaries in the unpaired stages (`lm_prior_weight > 0`): the second half of the judge
    of real summaries beside the critic. A word language model fitted on the critic's unpaired pool of real summaries,
    and on nothing else, judges each written word by its likelihood under real summaries given the words before it: a
    discriminator of real text that scores every token (Yang, Hu, Dyer, Xing & Berg-Kirkpatrick, NeurIPS 2018,
    "Unsupervised Text Style Transfer using Language Models as Discriminators"), where the WGAN critic estimates how
    real summaries differ from this generator's, not how likely they are. So the model "without its discriminator" drops
    both (`without_real_summary_judge`: reconstruction only, no critic and no language model); reconstruction with the
    language model alone (`with_objective("reconstruction")` keeping `lm_prior_weight`) removes the critic only. The
    term is SEQ^3's prior (Baziotis et al., NAACL 2019, "SEQ^3: Differentiable Sequence-to-Sequence-to-Sequence
    Autoencoder for Unsupervised Abstractive Sentence Compression"): the loss gains `lm_prior_weight * sum_t KL(p(. |
    w_<t, x) || p_LM(. | w_<t))` over the written words of `w`, with `p_LM` a frozen word language model of real
    summaries (`language_model`, an unconditional `ConditionalGRUDecoder` over the same vocabulary; train it with
    `fit_language_model` on the unpaired pool of real summaries before the stage, never on the summaries readability is
    scored on); metric `lm_prior_kl`, nats per summary, unweighted. The KL over the whole distribution rather than the
    cross-entropy of the written words `-log p_LM(w_t)`: the written words are hard straight-through samples, so the
    latter's gradient would reach the generator only through one sampled word's relaxation, while the KL's is exact
    given the prefix; and the KL is the expected cross-entropy minus the generator's entropy, which keeps it from
    collapsing onto the LM's most frequent words. `with_objective` carries the language model's weights over when both
    models have one.

    `objective` chooses what trains (the layers, and so the weights, are the same for all three; see
    `with_objective`):
        "paired": the generator, teacher-forced on `batch["target"]` (pseudo pairs for pretraining, or real pairs
            for the supervised ceiling), and the reconstructor, rebuilding the document from the target words.
        "reconstruction": generator and reconstructor on the reconstruction loss (no critic; the language model
            only with `lm_prior_weight > 0`: `without_real_summary_judge` drops both).
        "unpaired": the same plus the discriminator, an adversary of the core loop with its own optimizer
            (`compile(optimizers={"encoder": ..., "adversary": ...})`); `batch["summary"]` holds real summaries.

    Args:
        vocabulary: list of tokens (see `keras_ae.data.text.build_vocabulary`); one vocabulary for documents and
            summaries.
        objective: see above.
        summary_length: words the generator writes at most (the code's length).
        match_length: in training, give each generated summary the length of a real one (see above).
        output_length: words of the greedy summaries (see above); None: as many as the generator writes.
        document_length: documents are truncated to this many tokens.
        reconstruct_length: the reconstructor rebuilds the document's first this many tokens.
        embedding_dim: size of the document embedding (`encode`) and of the encoder's states.
        word_dim: size of the word vectors everywhere.
        hidden_dim: size of the generator's and the reconstructor's GRU states.
        adversary_weight: weight of the generator's `-D(fake)` beside the reconstruction loss.
        penalty_weight: the critic's gradient-penalty weight.
        critic: "convolution" (`RealTextDiscriminator`) or "transition" (`TransitionDiscriminator`; see below).
        critic_pooling: how the convolutional critic pools its n-gram features over the summary
            (`RealTextDiscriminator`'s `pooling`): "max", its most telling n-grams, or "mean", every position alike.
        adversary_steps, adversary_ramp_steps: see `JudgedEncoder`.
        gradient: "straight_through" or "self_critical" (see above).
        pseudo_weight: weight of the pseudo-pair loss in the reconstruction and unpaired objectives (0: none).
        anchor_weight: weight of the KL to the stage's starting generator in those objectives (0: none; see above;
            0.01, the default since session 23, was 0 before).
        lm_prior_weight: weight of the KL to the language model of real summaries in those objectives (0: none; see
            above); with a weight above 0, `fit` needs the language model fitted first (`fit_language_model`), so
            the model's default stays 0 and the recipe's (`--lm-prior-weight`, which fits it) is 0.001.
        decoder_word_dropout: share of the reconstructor's input words replaced by the OOV id in training.
        document_spelling: spell the summaries' words as the document writes them (see above).
        block_final_stop_words: no generated summary ends on a stop word (see above).
        initial_temperature, min_temperature, anneal_rate: the Gumbel-softmax schedule (see `GumbelSoftmax`).
        seed: seed of the Gumbel noise, the word dropout and the critic's penalty.
        encoder, generator, reader, document_decoder, discriminator: the parts (default built from the arguments).
        language_model: the prior's language model (with `lm_prior_weight > 0`; default built from the arguments).

    Example:
        model = TextLatent(vocabulary, objective="paired", output_length=6)   # summaries of 6 words
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(make_pair_dataset(*pseudo_pairs(documents, length=6), batch_size=64, shuffle=True), epochs=2)
        model = model.with_objective("unpaired")
        model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-3), "adversary": keras.optimizers.Adam(1e-4)})
        model.fit(make_unpaired_dataset(documents, real_summaries, batch_size=64, shuffle=True), epochs=2)
        model.summarize(tf.constant(["PyYAML is a YAML parser and emitter for Python."]))
        prior = model.with_objective("unpaired", lm_prior_weight=0.1)   # a language-model prior on the summaries
        prior.fit_language_model(real_summaries, epochs=3)               # the unpaired pool, before the stage
    """

    def __init__(
        self,
        vocabulary,
        objective="unpaired",
        summary_length=10,
        match_length=True,
        output_length=None,
        document_length=60,
        reconstruct_length=30,
        embedding_dim=128,
        word_dim=64,
        hidden_dim=128,
        adversary_weight=1.0,
        penalty_weight=10.0,
        critic="convolution",
        critic_pooling="max",
        adversary_steps=1,
        adversary_ramp_steps=0,
        gradient="straight_through",
        pseudo_weight=0.0,
        anchor_weight=0.01,
        lm_prior_weight=0.0,
        decoder_word_dropout=0.5,
        document_spelling=True,
        block_final_stop_words=False,
        initial_temperature=1.0,
        min_temperature=0.5,
        anneal_rate=1e-4,
        seed=None,
        encoder=None,
        generator=None,
        reader=None,
        document_decoder=None,
        discriminator=None,
        language_model=None,
        **kwargs,
    ):
        if objective not in OBJECTIVES:
            raise ValueError(f"Unknown objective {objective!r}: choose one of {', '.join(OBJECTIVES)}.")
        if critic not in CRITICS:
            raise ValueError(f"Unknown critic {critic!r}: choose one of {', '.join(CRITICS)}.")
        if gradient not in GRADIENTS:
            raise ValueError(f"Unknown gradient {gradient!r}: choose one of {', '.join(GRADIENTS)}.")
        if output_length is not None and not 1 <= output_length <= summary_length:
            raise ValueError(f"output_length must be between 1 and summary_length ({summary_length}); got "
                             f"{output_length}.")
        if pseudo_weight < 0:
            raise ValueError(f"pseudo_weight must be at least 0; got {pseudo_weight}.")
        if anchor_weight < 0:
            raise ValueError(f"anchor_weight must be at least 0 (0: no anchor); got {anchor_weight}.")
        if lm_prior_weight < 0:
            raise ValueError(f"lm_prior_weight must be at least 0 (0: no language-model prior); got {lm_prior_weight}.")
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
        discriminator = discriminator or make_critic(critic, size, word_dim, penalty_weight, critic_pooling, seed)
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
        self.anchored = anchor_weight > 0 and objective != "paired"
        if self.anchored:  # frozen copies of the generating parts, set by `with_objective` to the stage's start
            self.anchor_encoder = type(encoder).from_config({**encoder.get_config(), "name": "anchor_encoder"})
            self.anchor_generator = type(generator).from_config({**generator.get_config(), "name": "anchor_generator"})
            self.anchor_encoder.trainable = self.anchor_generator.trainable = False
            self.trackers["anchor_kl"] = keras.metrics.Mean(name="anchor_kl")
        self.prior = lm_prior_weight > 0 and objective != "paired"
        self.language_model = None
        if self.prior:  # an unconditional word LM: a ConditionalGRUDecoder given a constant (zero) condition
            self.language_model = language_model or ConditionalGRUDecoder(
                size, hidden_dim=hidden_dim, word_dim=word_dim, output_dim=word_dim, name="language_model"
            )
            self.trackers["lm_prior_kl"] = keras.metrics.Mean(name="lm_prior_kl")
        self.language_model_fitted = False  # `fit` refuses to train the prior's stage until it is
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
        self.match_length = bool(match_length)
        self.output_length = None if output_length is None else int(output_length)
        self.document_length = document_length
        self.reconstruct_length = reconstruct_length
        self.embedding_dim = embedding_dim
        self.word_dim = word_dim
        self.hidden_dim = hidden_dim
        self.adversary_weight = float(adversary_weight)
        self.penalty_weight = float(penalty_weight)
        self.critic = critic
        self.critic_pooling = critic_pooling
        self.gradient = gradient
        self.pseudo_weight = float(pseudo_weight)
        self.anchor_weight = float(anchor_weight)
        self.lm_prior_weight = float(lm_prior_weight)
        self.decoder_word_dropout = decoder_word_dropout
        self.document_spelling = bool(document_spelling)
        self.block_final_stop_words = bool(block_final_stop_words)
        stop_ids = [index + 2 for index, word in enumerate(self.vocabulary) if word in ENGLISH_STOP_WORDS]
        self.final_blocked = (  # ids 0 (end) and 1 (OOV) come before the vocabulary's words
            tf.constant(np.isin(np.arange(size), stop_ids), tf.float32) if block_final_stop_words else None)
        self.initial_temperature = initial_temperature
        self.min_temperature = min_temperature
        self.anneal_rate = anneal_rate
        self.seed = seed
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None,))
        if self.prior:  # frozen; a layer deserialized frozen keeps trainable sublayers until its flag changes
            self.language_model.trainable = True
            self.language_model.trainable = False
        if self.anchored:
            self.reset_anchor()

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
        if self.anchored and not self.anchor_generator.built:
            self.anchor_encoder.build(input_shape)
            self.anchor_generator.build((None, self.summary_length), memory_shape)
        if self.prior and not self.language_model.built:
            self.language_model.build((None, self.summary_length), (None, 1))
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

    def _states(self, documents, training=False, encoder=None):
        """`(states, mask, token_ids, pooled)`: the encoder's (or `encoder`'s) state at every token and their max over
        the tokens."""
        encoder = encoder or self.encoder
        token_ids = encoder.tokenize(documents)
        states, mask = encoder.token_states(token_ids, training=training)
        pooled = tf.reduce_max(tf.where(mask[:, :, None], states, tf.cast(-1e4, states.dtype)), axis=1)
        pooled = tf.where(tf.reduce_any(mask, axis=1, keepdims=True), pooled, tf.zeros_like(pooled))
        return states, mask, token_ids, pooled

    def call(self, documents, training=False):
        return self._states(documents, training=training)[3]

    def encode(self, documents):
        """Document embeddings `[batch, embedding_dim]` (float32) of a `tf.string` tensor `[batch]`."""
        return tf.cast(self(tf.convert_to_tensor(documents, tf.string), training=False), tf.float32)

    def output_lengths(self, documents):
        """The number of words of every greedy summary of `documents` (`[batch]` int32), or None when the generator
        ends them itself (`output_length` None)."""
        if self.output_length is None:
            return None
        return tf.fill([tf.shape(documents)[0]], tf.constant(self.output_length, tf.int32))

    def training_lengths(self, batch):
        """With `match_length`: the lengths `[batch]` of the batch's real summaries (`batch["summary_ids"]`, at least
        one word), which the generated summaries take in training; otherwise (or without real summaries in the
        batch) the greedy summaries' `output_lengths`."""
        if self.match_length and "summary_ids" in batch:
            lengths = tf.math.count_nonzero(batch["summary_ids"], axis=1, dtype=tf.int32)
            return tf.clip_by_value(lengths, 1, self.summary_length)
        return self.output_lengths(batch["document"])

    def greedy_words(self, documents):
        """Greedy summaries as one-hot words `[batch, summary_length, V]` (the end symbol after the last word)."""
        documents = tf.convert_to_tensor(documents, tf.string)
        return self.generator.generate(self.memory(documents), lengths=self.output_lengths(documents),
                                       final_blocked=self.final_blocked)[0]

    def summary_ids(self, documents):
        """Greedy summaries as token ids `[batch, summary_length]` (0 after the end) and the words they spell
        (`tf.string` `[batch, summary_length]`; an out-of-vocabulary id spells the out-of-vocabulary document word
        it attends to most among those not spelled yet: no OOV word is spelled twice; with `document_spelling`, as
        the document writes it)."""
        documents = tf.convert_to_tensor(documents, tf.string)
        words, _, pointers = self.generator.generate(self.memory(documents), training=False, return_pointers=True,
                                                     lengths=self.output_lengths(documents),
                                                     final_blocked=self.final_blocked)
        ids = tf.argmax(words, axis=-1, output_type=tf.int32)
        table = tf.constant(["", "[UNK]", *self.vocabulary])
        spelled = tf.gather(table, ids)
        copied = tf.gather(self.encoder.words(documents), pointers, batch_dims=1)
        spelled = tf.where(tf.equal(ids, 1), copied, spelled)
        return ids, document_spellings(documents, spelled) if self.document_spelling else spelled

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
        lengths = self.training_lengths(batch) if training else self.output_lengths(batch["document"])
        if self.gradient == "self_critical" and training:
            sampled = self.generator.write(memory, sampler=self.sampler, training=True, lengths=lengths,
                                           final_blocked=self.final_blocked)
            greedy = self.generator.write(memory, training=False, lengths=lengths, final_blocked=self.final_blocked)[
                "words"]
            log_prob = tf.reduce_sum(sampled["log_probs"], axis=1)
            code, words = (tf.stop_gradient(sampled["words"]), log_prob, tf.stop_gradient(greedy)), sampled["words"]
        else:
            words, _ = self.generator.generate(memory, sampler=self.sampler, training=training, lengths=lengths,
                                               final_blocked=self.final_blocked)
            code = words
        if not (self.anchored or self.prior):
            return code, {}, {}
        return (code, *self.kl_terms(batch["document"], memory, words, training))

    def kl_terms(self, documents, memory, words, training=False):
        """`(losses, metrics)` of the anchor and the language-model prior for the written words of `words [batch, L,
        V]` (one-hot), the generator reading `memory` (of `documents`): `[batch]` KLs summed over the written words,
        `sum_t KL(p(. | w_<t, x) || q(. | w_<t))`, with `q` the frozen anchor reading its own encoding of the documents
        (`anchor_kl`) and the frozen language model (`lm_prior_kl`); gradients reach the generator and the encoder
        through `p`, not through the words."""
        ids = tf.argmax(tf.stop_gradient(words), axis=-1, output_type=tf.int32)
        inputs = self.generator.teacher_forcing_inputs(ids)
        log_p = self.generator(inputs, memory[:4], training=training)
        written = tf.cast(ids > 0, log_p.dtype)
        kl = lambda log_q: tf.reduce_sum(  # noqa: E731
            tf.reduce_sum(tf.exp(log_p) * (log_p - tf.stop_gradient(tf.cast(log_q, log_p.dtype))), axis=-1) * written,
            axis=1)
        losses, metrics = {}, {}
        if self.anchored:
            log_q = self.anchor_generator(inputs, self._states(documents, encoder=self.anchor_encoder), training=False)
            metrics["anchor_kl"] = kl(log_q)
            losses["anchor"] = self.anchor_weight * metrics["anchor_kl"]
        if self.prior:
            metrics["lm_prior_kl"] = kl(self.language_model_log_probs(ids))
            losses["lm_prior"] = self.lm_prior_weight * metrics["lm_prior_kl"]
        return losses, metrics

    def language_model_log_probs(self, ids):
        """The language model's log-probabilities `[batch, L, V]` of the next word after the start symbol and each of
        `ids [batch, L]` but the last (teacher forcing)."""
        inputs = self.language_model.teacher_forcing_inputs(ids)
        condition = tf.zeros([tf.shape(ids)[0], 1], self.language_model.compute_dtype)
        return tf.nn.log_softmax(tf.cast(self.language_model(inputs, condition, training=False), "float32"))

    def language_model_loss(self, summaries):
        """The language model's cross-entropy `[batch]` (nats per token, the end symbol included) of `summaries`
        (`tf.string [batch]`)."""
        return self._language_model_token_loss(self._summary_ids(summaries))

    def _language_model_token_loss(self, ids):
        """`language_model_loss` of summaries given as token ids `[batch, summary_length]`."""
        return masked_token_crossentropy(ids, self.language_model_log_probs(ids))

    def fit_language_model(self, summaries, epochs=3, batch_size=64, learning_rate=1e-3):
        """Train the prior's language model on real `summaries` (a list of strings: the unpaired pool, never the
        summaries readability is scored on), then freeze it again; returns the mean training loss of every epoch
        (nats per token). Only the language model's weights change.

        Example:
            model = TextLatent(vocabulary, lm_prior_weight=0.1)
            model.fit_language_model(real_summaries, epochs=3)           # [5.1, 4.3, 4.0]
        """
        if not self.prior:
            raise ValueError("fit_language_model needs a language-model prior: build the model with lm_prior_weight > "
                             "0 and an objective other than 'paired'.")
        if len(summaries) == 0:
            raise ValueError("fit_language_model needs some real summaries; got none.")
        strategy = self.distribute_strategy  # the strategy the model was built under (its replicas share the batch)
        self.language_model.trainable = True
        variables = self.language_model.trainable_variables
        with strategy.scope():
            optimizer = keras.optimizers.Adam(learning_rate, global_clipnorm=5.0)
            optimizer.build(variables)  # its slots exist before the step is traced, on every replica

        def replica_step(ids):
            loss, _ = minimize(lambda: (self._language_model_token_loss(ids), None), variables, optimizer)
            return loss

        @tf.function
        def step(ids):
            return strategy.reduce("MEAN", strategy.run(replica_step, args=(ids,)), axis=None)

        dataset = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensor_slices(list(summaries)).shuffle(
            len(summaries), seed=self.seed, reshuffle_each_iteration=True).batch(batch_size).map(self._summary_ids))
        losses = []
        try:
            for _ in range(epochs):
                losses.append(float(np.mean([step(ids).numpy() for ids in dataset])))
        finally:
            self.language_model.trainable = False
        self.language_model_fitted = True
        return losses

    def set_language_model_weights(self, weights):
        """Give the prior's language model `weights` already fitted on real summaries (`fit_language_model`'s, e.g.
        of another stage of the same run), which `fit` then accepts."""
        self.language_model.set_weights(weights)
        self.language_model_fitted = True

    def fit(self, *args, **kwargs):
        """`keras.Model.fit`, refused before any step when the model has a language-model judge whose language model
        was never fitted (it would pull the summaries toward an untrained model's words)."""
        if self.prior and not self.language_model_fitted:
            raise ValueError(
                f"This TextLatent judges its summaries with a language model (lm_prior_weight={self.lm_prior_weight}) "
                "that has not been fitted: call fit_language_model(real_summaries) with the unpaired pool of real "
                "summaries first (or set_language_model_weights(weights) with fitted weights), or build it with "
                "lm_prior_weight=0.")
        return super().fit(*args, **kwargs)

    def _summary_ids(self, summaries):
        """Token ids `[batch, summary_length]` (0-padded) of `tf.string` summaries."""
        ids = self.encoder.tokenize(tf.convert_to_tensor(summaries, tf.string))[:, : self.summary_length]
        return tf.pad(ids, [[0, 0], [0, self.summary_length - tf.shape(ids)[1]]])

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
        return self._summary_ids(batch["target"])

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
        stages. A change of an argument the critic is built from (`CRITIC_ARGUMENTS`) builds it anew from them; a
        critic of another kind (`critic`) starts from its own initial weights."""
        config = {**self.get_config(), **changes, "objective": objective}
        if any(name in changes for name in CRITIC_ARGUMENTS):
            config["discriminator"] = None  # built again from the changed arguments (same weight shapes)
        clone = type(self).from_config(config)
        kept = SUBLAYERS if clone.critic == self.critic else tuple(name for name in SUBLAYERS if name != "discriminator")
        for name in (*kept, "sampler"):
            getattr(clone, name).set_weights(getattr(self, name).get_weights())
        if clone.prior and self.language_model is not None:
            clone.language_model.set_weights(self.language_model.get_weights())
            clone.language_model_fitted = self.language_model_fitted
        if clone.anchored:
            clone.reset_anchor()  # the anchor is this model: the stage's start
        return clone

    def without_real_summary_judge(self, **changes):
        """The ablation "without its discriminator": a copy that trains reconstruction only, with neither half of the
        judge of real summaries (no critic: the reconstruction objective; no language model: `lm_prior_weight` 0), the
        rest as this model (the anchor included) but `changes`; create it in the strategy's scope.

        Example:
            ablation = full.without_real_summary_judge()   # full: critic + language model; ablation: neither
        """
        return self.with_objective("reconstruction", **{"lm_prior_weight": 0.0, **changes})

    def reset_anchor(self):
        """Set the anchor (`anchor_weight > 0`) to the model's encoder and generator as they are now."""
        self.anchor_encoder.set_weights(self.encoder.get_weights())
        self.anchor_generator.set_weights(self.generator.get_weights())

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
                "match_length": self.match_length,
                "output_length": self.output_length,
                "document_length": self.document_length,
                "reconstruct_length": self.reconstruct_length,
                "embedding_dim": self.embedding_dim,
                "word_dim": self.word_dim,
                "hidden_dim": self.hidden_dim,
                "adversary_weight": self.adversary_weight,
                "penalty_weight": self.penalty_weight,
                "critic": self.critic,
                "critic_pooling": self.critic_pooling,
                "gradient": self.gradient,
                "pseudo_weight": self.pseudo_weight,
                "anchor_weight": self.anchor_weight,
                "lm_prior_weight": self.lm_prior_weight,
                "decoder_word_dropout": self.decoder_word_dropout,
                "document_spelling": self.document_spelling,
                "block_final_stop_words": self.block_final_stop_words,
                "initial_temperature": self.initial_temperature,
                "min_temperature": self.min_temperature,
                "anneal_rate": self.anneal_rate,
                "seed": self.seed,
                **{name: keras.saving.serialize_keras_object(getattr(self, name)) for name in SUBLAYERS},
            }
        )
        if self.language_model is not None:
            config["language_model"] = keras.saving.serialize_keras_object(self.language_model)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, (*SUBLAYERS, "language_model")))
