"""Grammar judge: a (compound) probabilistic context-free grammar that generates the sentence, scored exactly by the
inside algorithm (`keras_ae.layers.judges.inside`)."""

import math

import keras
import numpy as np
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.layers.judges.inside import (
    NEG,
    LowRankRules,
    bracketed_trees,
    inside,
    span_cky,
    span_marginals,
    viterbi_spans,
)

DECODINGS = ("mbr", "viterbi")  # how `CompoundPCFG.parse` reads a tree off the grammar


def whitespace_tokens(sentences):
    """`(tokens [batch, length] strings, lengths [batch] int32)`: the whitespace-separated tokens, padded with ""
    (to at least two positions).

    `(` and `)` inside a token are written `-LRB-` and `-RRB-` (the Penn Treebank's convention), so that a tree
    with these leaves stays readable as brackets.
    """
    sentences = tf.convert_to_tensor(sentences, tf.string)
    sentences = tf.strings.regex_replace(tf.strings.regex_replace(sentences, r"\(", "-LRB-"), r"\)", "-RRB-")
    ragged = tf.strings.split(sentences)
    tokens = ragged.to_tensor(default_value="")
    tokens = tf.pad(tokens, [[0, 0], [0, tf.maximum(0, 2 - tf.shape(tokens)[1])]])  # the chart needs two positions
    return tokens, tf.cast(ragged.row_lengths(), tf.int32)


@keras.saving.register_keras_serializable(package="keras_ae")
class CompoundPCFG(keras.layers.Layer):
    """A PCFG whose rule probabilities are small networks of symbol embeddings and a per-sentence code z; the judge's
    loss is `-log p(sentence | z)`, summed exactly over all binary trees by the inside algorithm.

    Compound PCFG (Kim, Dyer & Rush, 2019, "Compound Probabilistic Context-Free Grammars for Grammar Induction"):
    with `code_dim=0` it is their neural PCFG (one grammar for all sentences); with a code it is the compound PCFG,
    where `z` (from a `GaussianBottleneck` on a sentence encoder) makes the grammar sentence-specific. Scores, as in
    the paper: root `S -> A` from an MLP with two residual blocks on `[root embedding; z]`; binary rules `A -> B C`
    from one linear layer on `[embedding of A; z]`, normalised over all `(NT + T)^2` children; emissions `T -> w` from
    an MLP with two residual blocks on `[embedding of T; z]`, normalised over the vocabulary.

    Word-form features (`suffix_length`, `prefix_length`, off by default; not in the paper): the emission score of a
    word is the MLP's output times the word's output embedding, to which they add the sum of embeddings of the
    word's suffixes of 1 to `suffix_length` characters and prefixes of 1 to `prefix_length` (those shared by two
    vocabulary words or more, shorter than the word). Rare words then share emission statistics with words of the
    same ending (`-ed`, `-ly`, `-ing`), which in English marks the part of speech. The affix embeddings start at zero, so a grammar with them starts
    with the same scores (and, under one seed, the same initial weights) as one without.

    Late-split penalty (`late_split_penalty` B, off by default; not in the paper): a structural prior the user sets,
    in training only. It adds `B * -log P(first split in the first half | sentence, z)` to the loss, the posterior
    of the trees whose root's left child covers at most `ceil(n / 2)` of the n words, from a second inside pass with
    the other trees masked out. With B = 1 the loss is exactly `-log p(sentence, first split in the first half | z)`.
    It encodes that English is right-branching (a short subject, then the predicate): a grammar that splits a
    clause from its trailing phrase, `((Marianne was rejoiced to find her sister) (so easily pleased))`, pays for
    it. For a head-final language (Japanese, Turkish) it is the wrong prior. Parsing, the ELBO and perplexity read
    the grammar alone, unmasked: the prior only steers which grammar training finds.

    Right association in training (`right_edge_prior` r, off by default; not in the paper): a prior the user sets,
    in training only. Each tree's joint probability is weighted by `exp(r * k)`, k the number of its constituents of
    two words or more, short of the whole sentence, that end at the sentence's last word, so the loss is
    `-log sum_trees p(tree, sentence | z) exp(r k) = -log p(sentence | z) - log E_posterior[exp(r k)]`: the
    likelihood plus a soft pull of the posterior toward verb phrases and clauses that run to the end (English's
    right association: Kimball, 1973; Frazier, 1978). Unlike the late-split penalty it prices every span, so a
    grammar cannot trade a late first split for a preposition attached to the word before. One inside pass with
    `r` added to those spans' scores. Parsing, the ELBO and perplexity read the grammar alone.

    Right association in decoding (`right_edge_bonus` b, off by default; not in the paper): a prior the user sets,
    in parsing only. The minimum-Bayes-risk tree maximises the sum of its spans' posterior marginals plus b for
    every span that ends at the sentence's last word, so a departure from attaching trailing material low (the
    right association or late closure of psycholinguistics: Kimball, 1973; Frazier, 1978) must be worth more than
    b expected correct spans. b = 0 is plain MBR; b > 1 gives right-branching trees. English's prior, wrong
    for head-final languages; training, the ELBO and perplexity do not see it. MBR decoding only.

    Low-rank rules (`rule_rank` r, off by default): TN-PCFG (Yang, Zhao & Tu, 2021, "PCFGs Can Do Better: Inducing
    Probabilistic Context-Free Grammars with Many Symbols"). The binary rules are `P(A -> B C) = sum_r U[A, r]
    V[B, r] W[C, r]`: U, V and W come from three MLPs (linear, ReLU, linear) on `[rule embedding of the symbol; z]`,
    U normalised over r for each parent, V and W over the NT + T child symbols for each r, so each parent's rules
    sum to one. The inside pass then runs in rank space (`keras_ae.layers.judges.inside.LowRankRules`) and costs
    `O(n^3 r + n^2 r (NT + T))` rather than `O(n^3 NT (NT + T)^2)`, which allows hundreds of symbols (the paper: NT
    250, T 500, r 500). The rule embeddings (one per symbol, `NT + T`) replace the nonterminal embeddings, and the
    symbol embeddings start from N(0, 1) (the paper's code; see `build`). There is no Viterbi tree (the max does not factor through the sum over r): only `decoding="mbr"`.

    Words are the whitespace-separated tokens of the input (`whitespace_tokens`), looked up lower-cased; words
    outside the vocabulary share one out-of-vocabulary id. The grammar computes in float32 whatever the global dtype
    policy (log-sum-exp over many rules is not safe in float16).

    Args:
        vocabulary: the known words (lower case), e.g. from `keras_ae.data.trees.build_vocabulary`.
        num_nonterminals: NT, the symbols that cover two words or more (the paper: 30).
        num_preterminals: T, the symbols that generate one word (the paper: 60).
        symbol_dim: size of the symbol embeddings and of the MLPs (the paper: 256).
        code_dim: size of z (the paper: 64); 0 for the neural PCFG, which ignores the code.
        decoding: how `parse` reads the tree: `"mbr"`, the minimum-Bayes-risk tree (the binary tree with the largest
            sum of posterior span marginals), or `"viterbi"`, the most probable labelled tree (the paper's decoding).
        suffix_length, prefix_length: longest suffix and prefix (characters) whose embedding is added to a word's
            output embedding; 0 (the default): none.
        late_split_penalty: weight B of the late-split penalty in the training loss (English only); 0: off.
        rule_rank: r of the low-rank binary rules (TN-PCFG); 0 (the default): the full rule tensor.
        right_edge_bonus: b of right association in MBR decoding (English only); 0 (the default): off.
        right_edge_prior: r of right association in the training loss (English only); 0 (the default): off.

    Example:
        grammar = CompoundPCFG(["the", "cat", "sat"], num_nonterminals=4, num_preterminals=4, symbol_dim=16,
                               code_dim=0)
        sentences = tf.constant(["the cat sat", "the dog sat"])
        nll = grammar.judge_loss(sentences, tf.zeros([2, 0]))           # -log p(sentence), [2]
        trees = grammar.parse(sentences, tf.zeros([2, 0]))              # e.g. b"(NT2 (NT0 (T1 the) (T3 cat)) (T0 sat))"
        best = grammar.parse(sentences, tf.zeros([2, 0]), decoding="viterbi")  # the most probable trees
        by_form = CompoundPCFG(["walked", "talked", "slowly"], num_nonterminals=4, num_preterminals=4, symbol_dim=16,
                               code_dim=0, suffix_length=3)          # "walked" and "talked" share "-ed", "-ked"
        english = CompoundPCFG(["the", "cat", "sat"], num_nonterminals=4, num_preterminals=4, symbol_dim=16,
                               code_dim=0, late_split_penalty=1.0)
        english.judge_loss(sentences, tf.zeros([2, 0]), training=True)  # -log p(sentence, early first split)
        rightward = CompoundPCFG(["the", "cat", "sat"], num_nonterminals=4, num_preterminals=4, symbol_dim=16,
                                 code_dim=0, right_edge_prior=0.5)
        rightward.judge_loss(sentences, tf.zeros([2, 0]), training=True)  # -log sum_t p(t, sentence) e^(0.5 k(t))
        many = CompoundPCFG(["the", "cat", "sat"], num_nonterminals=50, num_preterminals=100, symbol_dim=16,
                            code_dim=0, rule_rank=64)                 # TN-PCFG: rules of rank 64
        many.judge_loss(sentences, tf.zeros([2, 0]))
    """

    metric_names = ()

    def __init__(
        self, vocabulary, num_nonterminals=30, num_preterminals=60, symbol_dim=256, code_dim=64, decoding="mbr",
        suffix_length=0, prefix_length=0, late_split_penalty=0.0, rule_rank=0, right_edge_bonus=0.0,
        right_edge_prior=0.0, **kwargs
    ):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        vocabulary = [str(word) for word in vocabulary]
        if not vocabulary:
            raise ValueError("CompoundPCFG needs a non-empty vocabulary (see keras_ae.data.trees.build_vocabulary).")
        integer_at_least("num_nonterminals", num_nonterminals, 1)
        integer_at_least("num_preterminals", num_preterminals, 1)
        integer_at_least("symbol_dim", symbol_dim, 1)
        integer_at_least("code_dim", code_dim, 0)
        integer_at_least("suffix_length", suffix_length, 0)
        integer_at_least("prefix_length", prefix_length, 0)
        integer_at_least("rule_rank", rule_rank, 0)
        _check_decoding(decoding, rule_rank, right_edge_bonus)
        _check_weight("late_split_penalty", late_split_penalty)
        _check_weight("right_edge_prior", right_edge_prior)
        symbols = num_nonterminals + num_preterminals
        dense = lambda units, name, activation=None: keras.layers.Dense(  # noqa: E731
            units, activation=activation, name=name, dtype=self.dtype_policy
        )
        # Layers
        self.lookup = keras.layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1, name="lookup")
        self.root_in = dense(symbol_dim, "root_in")
        self.root_blocks = [dense(symbol_dim, f"root_block{i}", "relu") for i in range(4)]
        self.root_out = dense(num_nonterminals, "root_out")
        if rule_rank:  # TN-PCFG's parent, left and right MLPs (linear, ReLU, linear) onto the rank
            self.rule_mlps = {
                part: [dense(symbol_dim, f"{part}_in", "relu"), dense(rule_rank, f"{part}_out")]
                for part in ("head", "left", "right")
            }
        else:
            self.rule_out = dense(symbols * symbols, "rule_out")
        self.word_in = dense(symbol_dim, "word_in")
        self.word_blocks = [dense(symbol_dim, f"word_block{i}", "relu") for i in range(4)]
        self.word_out = dense(len(vocabulary) + 1, "word_out")
        # Word-form features: which shared affixes each word id (0: out of vocabulary) has; the last index is none.
        self.affixes, self.word_affix_ids = shared_affixes(vocabulary, suffix_length, prefix_length)
        # Config
        self.vocabulary = vocabulary
        self.num_nonterminals = num_nonterminals
        self.num_preterminals = num_preterminals
        self.symbol_dim = symbol_dim
        self.code_dim = code_dim
        self.decoding = decoding
        self.suffix_length = suffix_length
        self.prefix_length = prefix_length
        self.late_split_penalty = float(late_split_penalty)
        self.rule_rank = rule_rank
        self.right_edge_bonus = float(right_edge_bonus)
        self.right_edge_prior = float(right_edge_prior)

    @property
    def decodings(self):
        """The decodings `parse` offers: both, or only `"mbr"` with low-rank rules (which have no Viterbi chart) or a
        right-edge bonus (which biases the MBR tree)."""
        return DECODINGS[:1] if self.rule_rank or self.right_edge_bonus else DECODINGS

    def build(self, input_shape=None, code_shape=None):
        # Low-rank grammars start from N(0, 1) symbol embeddings, as TN-PCFG's code: at Glorot's scale (about 0.08
        # for 750 symbols) every symbol looks alike and training stays at the uniform distribution over trees.
        init = keras.initializers.RandomNormal(stddev=1.0) if self.rule_rank else keras.initializers.GlorotUniform()
        self.root_embedding = self.add_weight(shape=(1, self.symbol_dim), initializer=init, name="root_embedding")
        if self.rule_rank:  # every symbol is a child: one rule embedding each (the first NT are the parents)
            self.rule_embeddings = self.add_weight(
                shape=(self.num_nonterminals + self.num_preterminals, self.symbol_dim), initializer=init,
                name="rule_embeddings",
            )
        else:
            self.nonterminal_embeddings = self.add_weight(
                shape=(self.num_nonterminals, self.symbol_dim), initializer=init, name="nonterminal_embeddings"
            )
        self.preterminal_embeddings = self.add_weight(
            shape=(self.num_preterminals, self.symbol_dim), initializer=init, name="preterminal_embeddings"
        )
        width = self.symbol_dim + self.code_dim
        rule_layers = [mlp[0] for mlp in self.rule_mlps.values()] if self.rule_rank else [self.rule_out]
        for layer in (self.root_in, *rule_layers, self.word_in):
            layer.build((None, None, width))
        if self.rule_rank:
            for _, out in self.rule_mlps.values():
                out.build((None, None, self.symbol_dim))
        for layer in (*self.root_blocks, *self.word_blocks, self.root_out, self.word_out):
            layer.build((None, None, self.symbol_dim))
        # Created last and at zero: the other weights draw the same random numbers as without affixes.
        self.affix_embeddings = self.add_weight(
            shape=(len(self.affixes), self.symbol_dim), initializer="zeros", name="affix_embeddings"
        ) if self.affixes else None
        self.built = True

    # ------------------------------------------------------------------------------------------------------------
    # Grammar

    def _with_code(self, embeddings, code):
        """`[batch, n, symbol_dim + code_dim]` inputs of the score networks (`[1, n, symbol_dim]` without a code)."""
        if not self.code_dim:
            return embeddings[None]
        code = tf.cast(code, tf.float32)
        batch, count = tf.shape(code)[0], tf.shape(embeddings)[0]
        return tf.concat(
            [tf.broadcast_to(embeddings[None], [batch, count, self.symbol_dim]),
             tf.broadcast_to(code[:, None, :], [batch, count, self.code_dim])],
            axis=-1,
        )

    def _residual_mlp(self, inputs, first, blocks, last):
        hidden = first(inputs)
        for one, two in zip(blocks[::2], blocks[1::2]):  # Kim et al.'s ResidualLayer: relu(W2 relu(W1 x)) + x
            hidden = two(one(hidden)) + hidden
        return last(hidden)

    def _word_scores(self, hidden):
        """Emission logits `[b, T, V+1]`: `hidden` times each word's output embedding, plus its affixes' if any."""
        scores = self.word_out(hidden)
        if self.affix_embeddings is None:
            return scores
        table = tf.concat([self.affix_embeddings, tf.zeros([1, self.symbol_dim])], axis=0)  # the last row: none
        by_form = tf.reduce_sum(tf.gather(table, self.word_affix_ids), axis=1)  # [V+1, symbol_dim]
        return scores + tf.einsum("btd,vd->btv", hidden, by_form)

    def _low_rank_rules(self, code):
        """TN-PCFG's rules: `LowRankRules(head [b, NT, r], left [b, NT+T, r], right [b, NT+T, r])`, log probabilities
        normalised over r (head) and over the child symbols (left, right)."""
        inputs = self._with_code(self.rule_embeddings, code)
        first, out = self.rule_mlps["head"]
        head = tf.nn.log_softmax(out(first(inputs[:, : self.num_nonterminals])), axis=-1)
        children = [tf.nn.log_softmax(out(first(inputs)), axis=1)
                    for first, out in (self.rule_mlps["left"], self.rule_mlps["right"])]
        return LowRankRules(head, *children)

    def rule_scores(self, code):
        """Log probabilities `(root [b, NT], rules [b, NT, NT+T, NT+T], emissions [b, T, V+1])`; `b` is 1 without a
        code (the neural PCFG's one grammar). With `rule_rank`, `rules` is `LowRankRules`."""
        if not self.built:  # a grammar used on its own, outside a model (which builds its judges)
            self.build()
        symbols = self.num_nonterminals + self.num_preterminals
        root = self._residual_mlp(
            self._with_code(self.root_embedding, code), self.root_in, self.root_blocks, self.root_out
        )[:, 0]
        emissions = self._residual_mlp(
            self._with_code(self.preterminal_embeddings, code), self.word_in, self.word_blocks, self._word_scores
        )
        if self.rule_rank:
            rules = self._low_rank_rules(code)
        else:
            rules = self.rule_out(self._with_code(self.nonterminal_embeddings, code))
            rules = tf.reshape(tf.nn.log_softmax(rules, axis=-1), [-1, self.num_nonterminals, symbols, symbols])
        return tf.nn.log_softmax(root, axis=-1), rules, tf.nn.log_softmax(emissions, axis=-1)

    def sentence_scores(self, sentences, code):
        """`(root, rules, preterminals [b, length, T], tokens [b, length], lengths [b])` for a batch of sentences (the
        neural PCFG's low-rank rules keep a batch of 1)."""
        tokens, lengths = whitespace_tokens(sentences)
        ids = self.lookup(tf.strings.lower(tokens))
        root, rules, emissions = self.rule_scores(code)
        batch = tf.shape(ids)[0]
        if self.code_dim:
            preterminals = tf.gather(emissions, ids, axis=2, batch_dims=1)  # [b, T, length]
        else:
            preterminals = tf.gather(emissions[0], ids, axis=1)  # [T, b, length]
            preterminals = tf.transpose(preterminals, [1, 0, 2])
            root = tf.broadcast_to(root, [batch, self.num_nonterminals])
            if not self.rule_rank:  # low-rank rules stay one grammar: the rank-space products broadcast it
                rules = tf.broadcast_to(rules, tf.concat([[batch], tf.shape(rules)[1:]], axis=0))
        return root, rules, tf.transpose(preterminals, [0, 2, 1]), tokens, lengths

    # ------------------------------------------------------------------------------------------------------------
    # Judge

    def log_likelihood(self, sentences, code):
        """`log p(sentence | z)` `[batch]` (float32); sentences of fewer than two words (which have no binary tree)
        get 0."""
        root, rules, preterminals, _, lengths = self.sentence_scores(sentences, code)
        log_z = inside(root, rules, preterminals, tf.maximum(lengths, 2))
        return tf.where(lengths >= 2, log_z, 0.0)

    def judge_loss(self, batch, code, training=False):
        """`-log p(sentence | z)` per sentence `[batch]`: the reconstruction term of the ELBO; in training, with the
        right-edge prior's weights on the trees if `right_edge_prior` is set, plus the late-split penalty if
        `late_split_penalty` is."""
        if not (training and (self.late_split_penalty or self.right_edge_prior)):
            return -self.log_likelihood(batch, code)
        root, rules, preterminals, _, lengths = self.sentence_scores(batch, code)
        chart_lengths = tf.maximum(lengths, 2)
        width = tf.shape(preterminals)[1]
        weights = None
        if self.right_edge_prior:
            weights = self.right_edge_prior * inner_right_edge_spans(chart_lengths, width, self.num_nonterminals)
        log_z = inside(root, rules, preterminals, chart_lengths, span_scores=weights)
        loss = -log_z
        if self.late_split_penalty:
            forbidden = late_first_splits(chart_lengths, width, self.num_nonterminals)
            early = inside(root, rules, preterminals, chart_lengths,
                           span_scores=forbidden if weights is None else forbidden + weights)
            loss += self.late_split_penalty * (log_z - early)
        return tf.where(lengths >= 2, loss, 0.0)  # as `log_likelihood`: one-word sentences have no binary tree

    def call(self, sentences, code=None):
        return self.log_likelihood(sentences, code)

    def parse(self, sentences, code, decoding=None):
        """Bracketed trees `[batch]` (`tf.string`), e.g. `(NT3 (NT1 (T5 the) (T2 cat)) (T7 sat))`.

        `decoding` (default: the layer's) chooses the tree. `"mbr"`: the minimum-Bayes-risk parse, the binary tree
        with the largest sum of posterior span marginals (`span_cky`), each span labelled with its most probable
        nonterminal and each word with its most probable preterminal. `"viterbi"`: the most probable labelled tree
        (`viterbi_spans`) with its own labels. Leaves are the input's tokens verbatim (see `whitespace_tokens`); an
        empty sentence gives "".
        """
        decoding = self.decoding if decoding is None else _check_decoding(decoding, self.rule_rank,
                                                                          self.right_edge_bonus)
        root, rules, preterminals, tokens, lengths = self.sentence_scores(sentences, code)
        if decoding == "viterbi":
            spans, words = viterbi_spans(root, rules, preterminals, tf.maximum(lengths, 2))
            width = tf.shape(spans)[2]
            # Every word is a span of its own; sentences of one word have no wider span.
            chosen = tf.reduce_sum(spans[:, 1:], axis=-1) * tf.cast(lengths >= 2, tf.float32)[:, None, None]
            chosen = tf.concat([tf.sequence_mask(lengths, width, tf.float32)[:, None], chosen], axis=1)
        else:
            spans, words = span_marginals(root, rules, preterminals, tf.maximum(lengths, 2))
            chosen = span_cky(tf.reduce_sum(spans, axis=-1) + self.right_edge_bonus * right_edge_spans(lengths,
                                                                                                    tf.shape(spans)[1]),
                              lengths)
        # One-word sentences: their only tree is the word under its best preterminal.
        words = tf.where((lengths == 1)[:, None, None], tf.nn.softmax(preterminals), words)
        span_labels = tf.strings.join(["NT", tf.strings.as_string(tf.argmax(spans, axis=-1))])
        word_labels = tf.strings.join(["T", tf.strings.as_string(tf.argmax(words, axis=-1))])
        labels = tf.concat([word_labels[:, None], span_labels[:, 1:]], axis=1)
        return bracketed_trees(tokens, lengths, chosen, labels)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": list(self.vocabulary),
                "num_nonterminals": self.num_nonterminals,
                "num_preterminals": self.num_preterminals,
                "symbol_dim": self.symbol_dim,
                "code_dim": self.code_dim,
                "decoding": self.decoding,
                "suffix_length": self.suffix_length,
                "prefix_length": self.prefix_length,
                "late_split_penalty": self.late_split_penalty,
                "rule_rank": self.rule_rank,
                "right_edge_bonus": self.right_edge_bonus,
                "right_edge_prior": self.right_edge_prior,
            }
        )
        return config


def late_first_splits(lengths, width, num_nonterminals):
    """Span scores `[batch, width, width, NT]` (for `inside`) that forbid a late first split: `NEG` on the spans
    that start at the first word and cover more than `ceil(n / 2)` but fewer than all n words of a sentence (a
    root whose left child is such a span, or contains one), 0 elsewhere.

    Example:
        late_first_splits(tf.constant([5]), 5, 1)[0, :, 0, 0]  # [0, 0, 0, NEG, 0]: span widths 1..5 from word 0
    """
    span_widths = tf.range(1, width + 1)[None, :]  # [1, width]: index w - 1 holds width w
    lengths = tf.cast(lengths, tf.int32)[:, None]
    late = (span_widths > (lengths + 1) // 2) & (span_widths < lengths)  # [batch, width]
    at_start = tf.one_hot(0, width, on_value=True, off_value=False, dtype=tf.bool)[None, None, :]
    mask = late[:, :, None] & at_start  # [batch, width, start]
    scores = tf.where(mask, tf.constant(NEG, tf.float32), 0.0)
    return tf.broadcast_to(scores[..., None], tf.concat([tf.shape(scores), [num_nonterminals]], axis=0))


def right_edge_spans(lengths, width):
    """`[batch, width, width]` float32 (span scores for `span_cky`): 1 on the spans `[b, w, i]` that end at the
    sentence's last word (`i + w + 1 == length`), 0 elsewhere.

    Example:
        right_edge_spans(tf.constant([3]), 3)[0]  # [[0, 0, 1], [0, 1, 0], [1, 0, 0]]: rows are widths 1..3
    """
    ends = tf.range(width)[None, :, None] + tf.range(width)[None, None, :] + 1  # [1, width, start]: w + i + 1
    return tf.cast(ends == tf.cast(lengths, tf.int32)[:, None, None], tf.float32)


def inner_right_edge_spans(lengths, width, num_nonterminals):
    """Span scores `[batch, width, width, NT]` (for `inside`): 1 on the spans that end at the sentence's last word
    and are shorter than the whole sentence (`right_edge_spans` without the root's span, which every tree has),
    0 elsewhere; times r, they weight each tree by `exp(r * its right-edge constituents)`.

    Example:
        inner_right_edge_spans(tf.constant([3]), 3, 1)[0, :, :, 0]  # [[0, 0, 1], [0, 1, 0], [0, 0, 0]]
    """
    lengths = tf.cast(lengths, tf.int32)
    whole = tf.one_hot(lengths - 1, width)[:, :, None] * tf.one_hot(0, width)[None, None, :]  # [b, width, start]
    inner = right_edge_spans(lengths, width) - whole
    return tf.broadcast_to(inner[..., None], tf.concat([tf.shape(inner), [num_nonterminals]], axis=0))


def shared_affixes(vocabulary, suffix_length, prefix_length=0):
    """`(affixes, word_affix_ids)`: the suffixes (`"-ed"`) of 1 to `suffix_length` characters and the prefixes
    (`"un-"`) of 1 to `prefix_length` that at least two words of `vocabulary` have, each shorter than its word,
    sorted; and for each word id (0: out of vocabulary, then the vocabulary's words) the indices of its affixes in
    that list, padded with `len(affixes)`.

    >>> affixes, ids = shared_affixes(["walked", "talked", "walks"], 2, 2)
    >>> affixes
    ['-d', '-ed', 'w-', 'wa-']
    >>> ids.tolist()
    [[4, 4, 4, 4], [0, 1, 2, 3], [0, 1, 4, 4], [2, 3, 4, 4]]
    """
    words = [str(word).lower() for word in vocabulary]
    pieces = [
        {f"{word[:k]}-" for k in range(1, prefix_length + 1) if k < len(word)}
        | {f"-{word[-k:]}" for k in range(1, suffix_length + 1) if k < len(word)}
        for word in words
    ]
    counts = {}
    for word_pieces in pieces:
        for piece in word_pieces:
            counts[piece] = counts.get(piece, 0) + 1
    affixes = sorted(piece for piece, count in counts.items() if count >= 2)
    index = {piece: i for i, piece in enumerate(affixes)}
    rows = [[]] + [sorted(index[piece] for piece in word_pieces if piece in index) for word_pieces in pieces]
    width = max(1, max(len(row) for row in rows))
    ids = np.full((len(rows), width), len(affixes), dtype="int32")
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return affixes, ids


def _check_weight(name, value):
    """Refuses a prior's weight that is not a finite number >= 0 (0: off)."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a number >= 0 (0: off), got {value!r}.")


def _check_decoding(decoding, rule_rank=0, right_edge_bonus=0.0):
    if decoding not in DECODINGS:
        raise ValueError(f"decoding must be one of {', '.join(DECODINGS)}; got {decoding!r}.")
    if decoding == "viterbi" and rule_rank:
        raise ValueError(f"decoding='viterbi' needs the full rule tensor, but rule_rank is {rule_rank}: low-rank rules "
                         "have no most probable tree to read. Use decoding='mbr' (or rule_rank=0).")
    _check_weight("right_edge_bonus", right_edge_bonus)
    if decoding == "viterbi" and right_edge_bonus:
        raise ValueError(f"right_edge_bonus ({right_edge_bonus}) biases the minimum-Bayes-risk tree; the Viterbi tree "
                         "has no span scores to add it to. Use decoding='mbr' (or right_edge_bonus=0).")
    return decoding
