"""Tree as the latent: an auto-encoder whose code is a parse tree and a vector z (compound PCFG)."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.layers.bottlenecks.gaussian import GaussianBottleneck, kl_divergence
from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder
from keras_ae.layers.judges.grammar import CompoundPCFG


@keras.saving.register_keras_serializable(package="keras_ae")
class TreeLatent(JudgedEncoder):
    """Compound PCFG (Kim, Dyer & Rush, 2019, "Compound Probabilistic Context-Free Grammars for Grammar Induction").

    A bidirectional GRU reads the sentence (max-pooled states, as the paper's inference network); a
    `GaussianBottleneck` turns that into q(z|x) with its KL to N(0, I); the judge is a `CompoundPCFG` whose rule
    probabilities depend on z and which scores `-log p(sentence | z)` exactly with the inside algorithm. The loss is
    the negative ELBO. The tree is the other half of the code: `parse` gives each sentence's tree under the grammar of
    its posterior mean z, by default the minimum-Bayes-risk tree over span marginals (`decoding="viterbi"`: the most
    probable labelled tree, as the paper decodes). With `code_dim=0` the model
    is the paper's neural PCFG: no encoder, no z, one grammar for all sentences.

    Args:
        vocabulary: the known words, lower case (`keras_ae.data.trees.build_vocabulary`).
        num_nonterminals, num_preterminals: NT and T of the grammar (the paper: 30 and 60).
        symbol_dim: size of the symbol embeddings and the grammar's MLPs (the paper: 256).
        code_dim: size of z (the paper: 64); 0 for the neural PCFG.
        encoder_dim: size of the sentence encoding that q(z|x) reads (forward and backward GRUs of half the size).
        word_dim: size of the encoder's word embeddings.
        max_length: the encoder reads the first `max_length` words (the grammar always generates all of them).
        kl_weight: weight of the KL term (1: the ELBO).
        seed: seed of z's sampling noise.
        decoding: how `parse` reads a tree (`CompoundPCFG`): `"mbr"`, the minimum-Bayes-risk tree over span
            marginals, or `"viterbi"`, the most probable labelled tree (the paper's); a given `grammar` keeps its own.
        suffix_length, prefix_length: word-form features of the emissions (`CompoundPCFG`): a word's output
            embedding adds those of its suffixes of 1 to `suffix_length` characters and prefixes of 1 to
            `prefix_length`; 0 (the default): none.
        late_split_penalty: weight of a structural prior for English in the training loss (`CompoundPCFG`): the
            posterior of a root whose left child covers more than half the sentence is penalised; 0 (the default):
            off. Training only: `parse`, `elbo` and the export read the grammar unmasked.
        rule_rank: r of low-rank binary rules (`CompoundPCFG`; TN-PCFG, Yang, Zhao & Tu, 2021), which make grammars
            of hundreds of symbols affordable (MBR decoding only); 0 (the default): the full rule tensor.
        right_edge_bonus: right association in MBR decoding (`CompoundPCFG`), a prior for English: each tree span
            that ends at the sentence's last word adds this much to the tree's score; 0 (the default): off.
            Parsing only: training, `elbo` and perplexity do not see it.
        right_edge_prior: right association in the training loss (`CompoundPCFG`), a prior for English: each
            tree's probability is weighted by `exp(right_edge_prior * k)`, k its constituents that end at the
            sentence's last word (the whole sentence aside); 0 (the default): off. Training only: `parse`, `elbo`
            and the export read the grammar alone.
        encoder, grammar: layers to use instead of the defaults built from the arguments above.

    Example:
        data = load_tree_data("synthetic", max_length=10)
        model = TreeLatent(build_vocabulary(data.train), num_nonterminals=10, num_preterminals=20, symbol_dim=128,
                           code_dim=16)
        model.compile(optimizer=keras.optimizers.Adam(2e-3, beta_1=0.75, global_clipnorm=3.0))
        model.fit(make_sentence_dataset(data.train, batch_size=32, shuffle=True), epochs=3)
        model.parse(tf.constant(["the dog saw a cat"]))   # [b"(NT4 (NT2 (T17 the) (T18 dog)) (NT7 ...))"]
    """

    input_name = "sentences"

    def __init__(
        self,
        vocabulary,
        num_nonterminals=10,
        num_preterminals=20,
        symbol_dim=128,
        code_dim=16,
        encoder_dim=64,
        word_dim=64,
        max_length=40,
        kl_weight=1.0,
        seed=None,
        decoding="mbr",
        suffix_length=0,
        prefix_length=0,
        late_split_penalty=0.0,
        rule_rank=0,
        right_edge_bonus=0.0,
        right_edge_prior=0.0,
        encoder=None,
        grammar=None,
        **kwargs,
    ):
        vocabulary = [str(word) for word in vocabulary]
        if code_dim:
            encoder = encoder or GRUSentenceEncoder(
                vocabulary, embedding_dim=encoder_dim, word_dim=word_dim, max_length=max_length, standardize="lower",
                pooling="max", bidirectional=True, name="encoder",
            )
            bottleneck = GaussianBottleneck(code_dim, beta=kl_weight, seed=seed, name="posterior")
        else:  # the neural PCFG reads nothing: its code is empty
            encoder = encoder or keras.layers.Identity(name="encoder")
            bottleneck = None
        grammar = grammar or CompoundPCFG(
            vocabulary, num_nonterminals=num_nonterminals, num_preterminals=num_preterminals, symbol_dim=symbol_dim,
            code_dim=code_dim, decoding=decoding, suffix_length=suffix_length,
            prefix_length=prefix_length, late_split_penalty=late_split_penalty, rule_rank=rule_rank,
            right_edge_bonus=right_edge_bonus, right_edge_prior=right_edge_prior, name="grammar",
        )
        super().__init__(encoder=encoder, judges=[grammar], bottleneck=bottleneck, **kwargs)
        # Config
        self.vocabulary = vocabulary
        self.num_nonterminals = num_nonterminals
        self.num_preterminals = num_preterminals
        self.symbol_dim = symbol_dim
        self.code_dim = code_dim
        self.encoder_dim = encoder_dim
        self.word_dim = word_dim
        self.max_length = max_length
        self.kl_weight = float(kl_weight)
        self.seed = seed
        self.decoding = grammar.decoding
        self.suffix_length = grammar.suffix_length
        self.prefix_length = grammar.prefix_length
        self.late_split_penalty = grammar.late_split_penalty
        self.rule_rank = grammar.rule_rank
        self.right_edge_bonus = grammar.right_edge_bonus
        self.right_edge_prior = grammar.right_edge_prior
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None,))

    @property
    def grammar(self):
        return self.judges[0]

    def build(self, input_shape=None):
        if self.code_dim:
            if not self.encoder.built:
                self.encoder.build(input_shape)
            if not self.bottleneck.built:
                self.bottleneck.build((None, self.encoder.embedding_dim))
        if not self.grammar.built:
            self.grammar.build()
        self.built = True

    def forward(self, batch, training=False):
        """`(z [batch, code_dim], {"kl_loss": [batch]}, {"kl": scalar})`; the neural PCFG's z is empty."""
        if not self.code_dim:
            return tf.zeros([tf.shape(batch)[0], 0]), {}, {}
        return super().forward(batch, training=training)

    def call(self, sentences, training=False):
        return self.forward(sentences, training=training)[0]

    def encode(self, sentences):
        """The posterior mean of z `[batch, code_dim]` (float32) of a `tf.string` tensor `[batch]` of sentences."""
        return tf.cast(self(tf.convert_to_tensor(sentences, tf.string), training=False), tf.float32)

    def parse(self, sentences, decoding=None):
        """Bracketed trees `tf.string [batch]` with a label on every constituent, e.g.
        `(NT3 (NT1 (T5 the) (T2 cat)) (T7 sat))`; the leaves are the sentence's whitespace-separated tokens
        verbatim (`(` and `)` written `-LRB-`, `-RRB-`), out-of-vocabulary words too. Readable by
        `nltk.Tree.fromstring`. `decoding` (`"mbr"` or `"viterbi"`) overrides the grammar's for this call."""
        sentences = tf.convert_to_tensor(sentences, tf.string)
        return self.grammar.parse(sentences, self.encode(sentences), decoding=decoding)

    def elbo(self, sentences, samples=4):
        """`(elbo [batch], kl [batch])`: `E_q[log p(x|z)] - KL(q(z|x) || p(z))` estimated with `samples` draws of z
        (for the neural PCFG, exactly `log p(x)`); the KL is unweighted."""
        sentences = tf.convert_to_tensor(sentences, tf.string)
        if not self.code_dim:
            return self.grammar.log_likelihood(sentences, self.encode(sentences)), tf.zeros_like(sentences, tf.float32)
        encoding = self.encoder(sentences, training=False)
        draws = []
        for _ in range(samples):
            z, _, _ = self.bottleneck(encoding, training=True)
            draws.append(self.grammar.log_likelihood(sentences, z))
        kl = kl_divergence(*self.bottleneck.posterior(encoding))
        return tf.add_n(draws) / float(samples) - kl, kl

    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`): `encode` (z) and `parse` (bracketed trees)."""
        sentences = tf.TensorSpec([None], tf.string, name="sentences")
        return {"encode": (self.encode, [sentences]), "parse": (self.parse, [sentences])}

    def get_config(self):
        config = without_parts(super().get_config())
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "num_nonterminals": self.num_nonterminals,
                "num_preterminals": self.num_preterminals,
                "symbol_dim": self.symbol_dim,
                "code_dim": self.code_dim,
                "encoder_dim": self.encoder_dim,
                "word_dim": self.word_dim,
                "max_length": self.max_length,
                "kl_weight": self.kl_weight,
                "seed": self.seed,
                "decoding": self.decoding,
                "suffix_length": self.suffix_length,
                "prefix_length": self.prefix_length,
                "late_split_penalty": self.late_split_penalty,
                "rule_rank": self.rule_rank,
                "right_edge_bonus": self.right_edge_bonus,
                "right_edge_prior": self.right_edge_prior,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "grammar": keras.saving.serialize_keras_object(self.grammar),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder", "grammar")))
