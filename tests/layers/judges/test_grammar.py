"""Tests for the grammar judge and its inside algorithm: exact log partition, span CKY, masking, Gaussian bottleneck."""

import itertools

import keras
import nltk
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.evaluation.trees import constituents_in_order
from keras_ae.layers.bottlenecks.gaussian import GaussianBottleneck
from keras_ae.layers.judges.grammar import (
    CompoundPCFG,
    inner_right_edge_spans,
    right_edge_spans,
    shared_affixes,
    whitespace_tokens,
)
from keras_ae.layers.judges.inside import LowRankRules, inside, span_cky, span_marginals, viterbi, viterbi_spans

NT, T = 2, 3


def _log_normalize(scores, axis=-1):
    return scores - np.log(np.exp(scores).sum(axis=axis, keepdims=True))


def _tiny_grammar(batch=3, length=5, seed=0):
    rng = np.random.default_rng(seed)
    symbols = NT + T
    root = _log_normalize(rng.normal(size=(batch, NT)))
    rules = _log_normalize(rng.normal(size=(batch, NT, symbols * symbols))).reshape(batch, NT, symbols, symbols)
    preterminals = rng.normal(size=(batch, length, T)) - 1.0
    return root.astype("float32"), rules.astype("float32"), preterminals.astype("float32")


def _labelled_trees(start, end, symbol):
    """Every labelled tree of `symbol` over words `start .. end - 1`, as `(rules used, preterminal uses)` with rules
    `(A, B, C)` and uses `(position, T)`."""
    if symbol >= NT:  # a preterminal covers exactly one word
        return [((), ((start, symbol - NT),))] if end == start + 1 else []
    trees = []
    for split in range(start + 1, end):
        for left, right in itertools.product(range(NT + T), repeat=2):
            for left_tree in _labelled_trees(start, split, left):
                for right_tree in _labelled_trees(split, end, right):
                    trees.append(
                        (((symbol, left, right),) + left_tree[0] + right_tree[0], left_tree[1] + right_tree[1])
                    )
    return trees


def _brute_force(root, rules, preterminals, length):
    """log sum over every labelled tree, by enumeration."""
    scores = []
    for top in range(NT):
        for used_rules, uses in _labelled_trees(0, length, top):
            score = root[top] + sum(rules[a, b, c] for a, b, c in used_rules)
            scores.append(score + sum(preterminals[i, t] for i, t in uses))
    return np.logaddexp.reduce(scores)


def _train(grammar, sentences, code, steps, learning_rate=1e-2):
    """`steps` Adam steps on the grammar's training loss (`judge_loss(..., training=True)`, priors included)."""
    optimizer = keras.optimizers.Adam(learning_rate)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(grammar.judge_loss(sentences, code, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, grammar.trainable_weights), grammar.trainable_weights))


def test_inside_equals_enumeration_of_all_trees():
    root, rules, preterminals = _tiny_grammar(batch=3, length=5)
    lengths = np.array([5, 4, 2])
    log_z = inside(root, rules, preterminals, lengths).numpy()
    expected = [_brute_force(root[b], rules[b], preterminals[b], lengths[b]) for b in range(3)]
    np.testing.assert_allclose(log_z, expected, rtol=1e-5)


def _labelled_spans(used_rules, uses, top):
    """`({(start, end, A)}, {(position, T)})` of a derivation from `_labelled_trees` (its rules in pre-order)."""
    rules, spans = list(used_rules), set()

    def walk(symbol, start):
        if symbol >= NT:
            return start + 1
        parent, left, right = rules.pop(0)
        assert parent == symbol
        end = walk(right, walk(left, start))
        spans.add((start, end, symbol))
        return end

    walk(top, 0)
    return spans, set(uses)


def test_viterbi_finds_the_most_probable_labelled_tree():
    """Against enumeration of every labelled tree: the Viterbi score is the best tree's, and `viterbi_spans` marks
    exactly that tree's labelled spans and preterminals (padding and a shorter sentence included)."""
    root, rules, preterminals = _tiny_grammar(batch=3, length=5, seed=4)
    lengths = np.array([5, 4, 2])
    scores = viterbi(root, rules, preterminals, lengths).numpy()
    spans, words = (x.numpy() for x in viterbi_spans(tf.constant(root), tf.constant(rules), preterminals, lengths))
    for b, n in enumerate(lengths):
        candidates = []
        for top in range(NT):
            for used_rules, uses in _labelled_trees(0, n, top):
                score = root[b, top] + sum(rules[b, a, l, r] for a, l, r in used_rules)
                candidates.append((score + sum(preterminals[b, i, t] for i, t in uses), top, used_rules, uses))
        best_score, top, used_rules, uses = max(candidates, key=lambda candidate: candidate[0])
        assert sorted(c[0] for c in candidates)[-2] < best_score - 1e-3  # one clear best tree on these draws
        np.testing.assert_allclose(scores[b], best_score, rtol=1e-5)
        expected_spans, expected_words = _labelled_spans(used_rules, uses, top)
        found = {(i, i + w + 1, a) for w, i, a in zip(*np.nonzero(spans[b]))}
        assert found == expected_spans
        assert {(i, t) for i, t in zip(*np.nonzero(words[b]))} == expected_words
    assert set(np.unique(spans)) <= {0.0, 1.0} and set(np.unique(words)) <= {0.0, 1.0}


def test_padding_does_not_change_a_sentence():
    root, rules, preterminals = _tiny_grammar(batch=2, length=6)
    together = inside(root, rules, preterminals, np.array([3, 6])).numpy()
    alone = inside(root[:1], rules[:1], preterminals[:1, :3], np.array([3])).numpy()
    garbage = preterminals.copy()
    garbage[0, 3:] = 50.0  # whatever sits in the padding
    padded = inside(root, rules, garbage, np.array([3, 6])).numpy()
    np.testing.assert_allclose(together[0], alone[0], rtol=1e-6)
    np.testing.assert_allclose(padded, together, rtol=1e-6)


def test_span_marginals_are_probabilities():
    root, rules, preterminals = _tiny_grammar(batch=2, length=5)
    lengths = np.array([5, 3])
    spans, words = span_marginals(tf.constant(root), tf.constant(rules), preterminals, lengths)
    np.testing.assert_allclose(words.numpy().sum(-1)[0], 1.0, atol=1e-5)  # every word has one preterminal
    np.testing.assert_allclose(words.numpy().sum(-1)[1], [1, 1, 1, 0, 0], atol=1e-5)
    unlabelled = spans.numpy().sum(-1)
    np.testing.assert_allclose(unlabelled[0, 4, 0], 1.0, atol=1e-5)  # the whole sentence
    np.testing.assert_allclose(unlabelled[1, 2, 0], 1.0, atol=1e-5)
    # A binary tree over n words has n - 1 spans of two words or more.
    np.testing.assert_allclose(unlabelled[0, 1:].sum(), 4.0, atol=1e-4)
    assert np.all(unlabelled[1, 1:, 3:] < 1e-6) and np.all(unlabelled[1, 3:] < 1e-6)


def _binary_trees(start, end):
    if end - start == 1:
        return [frozenset()]
    trees = []
    for split in range(start + 1, end):
        for left in _binary_trees(start, split):
            for right in _binary_trees(split, end):
                trees.append(left | right | {(start, end)})
    return trees


def test_span_cky_finds_the_best_tree():
    rng = np.random.default_rng(3)
    length = 6
    scores = rng.normal(size=(4, length, length)).astype("float32")
    lengths = np.array([6, 5, 3, 1])
    chosen = span_cky(scores, lengths).numpy()
    for b, n in enumerate(lengths):
        total = lambda tree: sum(scores[b, e - s - 1, s] for s, e in tree)  # noqa: E731
        best = max(_binary_trees(0, n), key=total)
        found = {(s, s + w + 1) for w, s in zip(*np.nonzero(chosen[b])) if w >= 1}
        assert found == set(best)
        np.testing.assert_array_equal(chosen[b, 0], [1] * n + [0] * (length - n))  # every word, no padding


def test_parse_is_the_most_probable_tree_of_a_peaked_grammar():
    """When one tree has almost all the probability, the parse is that tree (the argmax), with its labels."""
    grammar = CompoundPCFG(["a", "b", "c"], num_nonterminals=2, num_preterminals=3, symbol_dim=4, code_dim=0)
    grammar.build()
    big = 30.0
    # S -> NT0; NT0 -> T0 NT1; NT1 -> T1 T2; T0 -> a, T1 -> b, T2 -> c: the tree (NT0 (T0 a) (NT1 (T1 b) (T2 c))).
    grammar.root_out.bias.assign([big, 0.0])
    rule_logits = np.zeros((2, 5, 5), "float32")
    rule_logits[0, 2, 1] = big
    rule_logits[1, 3, 4] = big
    grammar.nonterminal_embeddings.assign(np.eye(2, 4, dtype="float32"))  # each parent's rules via its embedding
    kernel = np.zeros_like(grammar.rule_out.kernel.numpy())
    kernel[:2] = rule_logits.reshape(2, 25)
    grammar.rule_out.kernel.assign(kernel)
    grammar.rule_out.bias.assign(np.zeros(25, "float32"))
    grammar.preterminal_embeddings.assign(np.eye(3, 4, dtype="float32"))
    for layer in grammar.word_blocks:  # the residual blocks add relu(0) = 0
        layer.kernel.assign(np.zeros_like(layer.kernel.numpy()))
        layer.bias.assign(np.zeros_like(layer.bias.numpy()))
    grammar.word_in.kernel.assign(np.eye(4, dtype="float32"))
    grammar.word_in.bias.assign(np.zeros(4, "float32"))
    emission = np.full((4, 4), -big, "float32")  # word ids: 0 is out of vocabulary, then a, b, c
    emission[0, 1], emission[1, 2], emission[2, 3] = big, big, big
    grammar.word_out.kernel.assign(emission)
    grammar.word_out.bias.assign(np.zeros(4, "float32"))
    tree = grammar.parse(tf.constant(["a b c"]), tf.zeros([1, 0])).numpy()[0].decode()
    assert tree == "(NT0 (T0 a) (NT1 (T1 b) (T2 c)))"
    best = grammar.parse(tf.constant(["a b c"]), tf.zeros([1, 0]), decoding="viterbi").numpy()[0].decode()
    assert best == tree


def test_grammar_round_trip_parse_strings_and_masking():
    vocabulary = ["the", "cat", "sat", "on", "mat"]
    grammar = CompoundPCFG(vocabulary, num_nonterminals=3, num_preterminals=4, symbol_dim=8, code_dim=2)
    grammar.build()
    sentences = tf.constant(["The cat sat", "the zebra sat on (the) mat", "cat", ""])
    code = tf.random.normal([4, 2], seed=1)
    nll = grammar.judge_loss(sentences, code).numpy()
    assert nll.shape == (4,) and np.all(nll[:2] > 0) and np.all(nll[2:] == 0)
    alone = grammar.judge_loss(sentences[:1], code[:1]).numpy()
    np.testing.assert_allclose(alone, nll[:1], rtol=1e-5)
    trees = [tree.decode() for tree in grammar.parse(sentences, code).numpy()]
    assert nltk.Tree.fromstring(trees[0]).leaves() == ["The", "cat", "sat"]
    assert nltk.Tree.fromstring(trees[1]).leaves() == "the zebra sat on -LRB-the-RRB- mat".split()
    parsed = nltk.Tree.fromstring(trees[1])
    assert all(len(node) in (1, 2) for node in parsed.subtrees())  # binary, with preterminals over words
    assert trees[2].startswith("(T") and trees[3] == ""
    best = [tree.decode() for tree in grammar.parse(sentences, code, decoding="viterbi").numpy()]
    assert [nltk.Tree.fromstring(tree).leaves() for tree in best[:2]] == [nltk.Tree.fromstring(tree).leaves()
                                                                          for tree in trees[:2]]
    assert all(len(node) in (1, 2) for node in nltk.Tree.fromstring(best[1]).subtrees())
    assert best[2].startswith("(T") and best[3] == ""
    with pytest.raises(ValueError, match="decoding"):
        CompoundPCFG(vocabulary, decoding="argmax")
    clone = CompoundPCFG.from_config({**grammar.get_config(), "decoding": "viterbi"})
    clone.build()
    clone.set_weights(grammar.get_weights())
    assert [tree.decode() for tree in clone.parse(sentences, code).numpy()] == best
    clone = CompoundPCFG.from_config(grammar.get_config())
    clone.build()
    clone.set_weights(grammar.get_weights())
    np.testing.assert_allclose(clone.judge_loss(sentences, code), nll, rtol=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(grammar))
    assert type(restored) is CompoundPCFG and restored.vocabulary == vocabulary


def test_shared_affixes():
    affixes, ids = shared_affixes(["walked", "talked", "walks", "a"], 3, 3)
    assert affixes == ["-d", "-ed", "-ked", "w-", "wa-", "wal-"]  # "ta-", "-s", ... belong to one word only
    none = len(affixes)
    assert ids.tolist() == [[none] * 6, [0, 1, 2, 3, 4, 5], [0, 1, 2] + [none] * 3, [3, 4, 5] + [none] * 3,
                            [none] * 6]  # out of vocabulary, walked, talked, walks, a
    affixes, ids = shared_affixes(["Walked", "talked"], 0)
    assert affixes == [] and ids.tolist() == [[0], [0], [0]]
    assert shared_affixes(["walked", "talked", "walks"], 3)[0] == ["-d", "-ed", "-ked"]  # suffixes alone


def test_affix_features_start_neutral_share_by_form_and_learn():
    vocabulary = ["she", "he", "walked", "talked", "slowly", "quickly", "the", "dog"]
    sentences = tf.constant(["she walked slowly", "he talked quickly", "the dog walked", "she talked"])
    sizes = dict(num_nonterminals=3, num_preterminals=4, symbol_dim=8, code_dim=2)
    code = tf.random.normal([4, 2], seed=3)
    grammars = {}
    for length in (0, 3):
        keras.utils.set_random_seed(0)
        grammars[length] = CompoundPCFG(vocabulary, suffix_length=length, prefix_length=length, **sizes)
        grammars[length].build()
    plain, by_form = grammars[0], grammars[3]
    assert by_form.affixes == ["-d", "-e", "-ed", "-he", "-ked", "-ly", "-y", "s-", "t-"]
    # Zero affix embeddings created last: the same weights and scores as without them.
    np.testing.assert_allclose(by_form.judge_loss(sentences, code), plain.judge_loss(sentences, code), rtol=1e-6)
    _, _, emissions = by_form.rule_scores(code)
    assert emissions.shape == (4, 4, len(vocabulary) + 1)
    np.testing.assert_allclose(tf.reduce_sum(tf.exp(emissions), axis=-1), 1.0, rtol=1e-5)
    # The affixes carry the word form into the likelihood: a step on their embeddings alone makes "she walked"
    # more probable.
    she_walked = tf.constant(["she walked"])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(by_form.judge_loss(she_walked, code[:1]))
    gradient = tf.convert_to_tensor(tape.gradient(loss, by_form.affix_embeddings))
    assert np.abs(gradient.numpy()[by_form.affixes.index("-ed")]).sum() > 0
    by_form.affix_embeddings.assign_sub(0.1 * gradient)
    assert float(tf.reduce_sum(by_form.judge_loss(she_walked, code[:1]))) < float(loss) - 1e-3
    # Trained on a tiny corpus, the loss falls and the affix embeddings move; the config round trip keeps them.
    optimizer = keras.optimizers.Adam(1e-2)
    losses = []
    for _ in range(30):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(by_form.judge_loss(sentences, code))
        optimizer.apply_gradients(zip(tape.gradient(loss, by_form.trainable_weights), by_form.trainable_weights))
        losses.append(float(loss))
    assert losses[-1] < losses[0] - 1.0 and np.abs(by_form.affix_embeddings.numpy()).max() > 0
    clone = CompoundPCFG.from_config(by_form.get_config())
    clone.build()
    clone.set_weights(by_form.get_weights())
    assert (clone.suffix_length, clone.prefix_length) == (3, 3) and clone.affixes == by_form.affixes
    np.testing.assert_allclose(clone.judge_loss(sentences, code), by_form.judge_loss(sentences, code), rtol=1e-5)
    trees = [tree.decode() for tree in clone.parse(tf.constant(["She walked (very) slowly"]), code[:1]).numpy()]
    assert nltk.Tree.fromstring(trees[0]).leaves() == ["She", "walked", "-LRB-very-RRB-", "slowly"]


def test_neural_pcfg_ignores_the_code_and_compound_does_not():
    sentences = tf.constant(["the cat sat", "the cat sat"])
    neural = CompoundPCFG(["the", "cat", "sat"], num_nonterminals=3, num_preterminals=3, symbol_dim=8, code_dim=0)
    neural.build()
    nll = neural.judge_loss(sentences, tf.zeros([2, 0])).numpy()
    np.testing.assert_allclose(nll[0], nll[1], rtol=1e-6)
    compound = CompoundPCFG(["the", "cat", "sat"], num_nonterminals=3, num_preterminals=3, symbol_dim=8, code_dim=2)
    compound.build()
    nll = compound.judge_loss(sentences, tf.constant([[0.0, 0.0], [3.0, -3.0]])).numpy()
    assert abs(nll[0] - nll[1]) > 1e-3


def test_probabilities_sum_to_one_over_short_sentences():
    """The neural PCFG is a distribution over sentences: over all 2-word sentences of a 2-word vocabulary and the
    OOV word, p(length 2) = sum p(sentence), which must be at most 1."""
    grammar = CompoundPCFG(["a", "b"], num_nonterminals=2, num_preterminals=2, symbol_dim=4, code_dim=0)
    grammar.build()
    words = ["a", "b", "zzz"]
    sentences = tf.constant([" ".join(pair) for pair in itertools.product(words, repeat=2)])
    total = np.exp(-grammar.judge_loss(sentences, tf.zeros([9, 0])).numpy()).sum()
    assert 0.0 < total <= 1.0 + 1e-5


def test_whitespace_tokens_escape_brackets_and_pad():
    tokens, lengths = whitespace_tokens(tf.constant(["a (b) c", "x"]))
    assert tokens.numpy().tolist() == [[b"a", b"-LRB-b-RRB-", b"c"], [b"x", b"", b""]]
    assert lengths.numpy().tolist() == [3, 1]
    tokens, lengths = whitespace_tokens(tf.constant(["x", ""]))
    assert tokens.numpy().tolist() == [[b"x", b""], [b"", b""]] and lengths.numpy().tolist() == [1, 0]


def test_batches_of_one_word_or_empty_sentences():
    grammar = CompoundPCFG(["a"], num_nonterminals=2, num_preterminals=2, symbol_dim=4, code_dim=0)
    grammar.build()
    sentences = tf.constant(["a", ""])
    assert grammar.parse(sentences, tf.zeros([2, 0])).numpy().tolist()[1] == b""
    assert grammar.parse(sentences, tf.zeros([2, 0])).numpy().tolist()[0].startswith(b"(T")
    np.testing.assert_array_equal(grammar.judge_loss(sentences, tf.zeros([2, 0])), [0.0, 0.0])


def test_gaussian_bottleneck():
    bottleneck = GaussianBottleneck(code_dim=3, seed=0)
    encoding = tf.random.normal([5, 4], seed=2)
    z, losses, metrics = bottleneck(encoding, training=False)
    mean, log_variance = bottleneck.posterior(encoding)
    np.testing.assert_allclose(z, mean)
    expected = 0.5 * np.sum(mean**2 + np.exp(log_variance) - 1 - log_variance, axis=-1)
    np.testing.assert_allclose(losses["kl_loss"], expected, rtol=1e-5)
    sampled, _, _ = bottleneck(encoding, training=True)
    assert not np.allclose(sampled, mean)
    clone = GaussianBottleneck.from_config(bottleneck.get_config())
    clone.build(encoding.shape)
    clone.set_weights(bottleneck.get_weights())
    np.testing.assert_allclose(clone(encoding)[0], z, rtol=1e-6)
    with pytest.raises(ValueError, match="code_dim"):
        GaussianBottleneck(code_dim=0)


def test_late_split_penalty_is_the_posterior_of_a_late_first_split_and_training_lowers_it():
    vocabulary = ["she", "walked", "home", "very", "slowly", "the", "dog"]
    sentences = tf.constant(["she walked home slowly", "the dog walked home very", "she walked", "dog"])
    sizes = dict(num_nonterminals=3, num_preterminals=4, symbol_dim=8, code_dim=0)
    keras.utils.set_random_seed(0)
    grammar = CompoundPCFG(vocabulary, late_split_penalty=1.0, **sizes)
    grammar.build()
    code = tf.zeros([4, 0])
    plain = grammar.judge_loss(sentences, code).numpy()
    np.testing.assert_allclose(plain, -grammar.log_likelihood(sentences, code).numpy())  # outside training: the NLL

    def late_marginal():  # posterior of the one late first split of 4 and 5 words: a left child of n - 1 words
        root, rules, preterminals, _, lengths = grammar.sentence_scores(sentences, code)
        spans, _ = span_marginals(root, rules, preterminals, tf.maximum(lengths, 2))
        spans = tf.reduce_sum(spans, axis=-1).numpy()
        return np.array([spans[0, 2, 0], spans[1, 3, 0]])  # spans [0, 3) and [0, 4): index width - 1, start 0

    penalty = grammar.judge_loss(sentences, code, training=True).numpy() - plain
    np.testing.assert_allclose(penalty[:2], -np.log1p(-late_marginal()), rtol=1e-4)
    np.testing.assert_allclose(penalty[2:], 0.0, atol=1e-5)  # two words: nothing is late; one word: no tree
    before = late_marginal()
    _train(grammar, sentences, code, 30)
    assert (late_marginal() < before).all() and late_marginal().max() < 0.05
    assert CompoundPCFG.from_config(grammar.get_config()).late_split_penalty == 1.0
    for bad in (-1.0, float("nan"), "1"):
        with pytest.raises(ValueError, match="late_split_penalty"):
            CompoundPCFG(vocabulary, late_split_penalty=bad, **sizes)


def test_right_edge_prior_weights_each_tree_by_its_right_edge_constituents_and_training_moves_toward_them():
    """The training loss is -log sum_t p(t, x) exp(r k(t)), k(t) the constituents of two words or more short of
    the whole sentence that end at the last word: checked against enumerating every tree of a tiny grammar."""
    root, rules, preterminals = _tiny_grammar(batch=2, length=4)
    lengths = np.array([4, 3])
    prior = 0.7
    weights = prior * inner_right_edge_spans(tf.constant(lengths), 4, NT)
    got = inside(root, rules, preterminals, lengths, span_scores=weights).numpy()
    for b, length in enumerate(lengths):
        scores = []
        for top in range(NT):
            for used_rules, uses in _labelled_trees(0, length, top):
                spans, _ = _labelled_spans(used_rules, uses, top)
                score = root[b, top] + sum(rules[b, a, c, d] for a, c, d in used_rules)
                score += sum(preterminals[b, i, t] for i, t in uses)
                score += prior * sum(1 for start, end, _ in spans if end == length and start > 0)
                scores.append(score)
        np.testing.assert_allclose(got[b], np.logaddexp.reduce(scores), rtol=1e-5)
    vocabulary = ["she", "walked", "home", "very", "slowly", "the", "dog"]
    sentences = tf.constant(["she walked home slowly", "the dog walked home very", "she walked", "dog"])
    sizes = dict(num_nonterminals=3, num_preterminals=4, symbol_dim=8, code_dim=0)
    keras.utils.set_random_seed(0)
    grammar = CompoundPCFG(vocabulary, right_edge_prior=1.0, **sizes)
    code = tf.zeros([4, 0])
    plain = -grammar.log_likelihood(sentences, code).numpy()
    np.testing.assert_allclose(grammar.judge_loss(sentences, code).numpy(), plain)  # outside training: the NLL
    gain = plain - grammar.judge_loss(sentences, code, training=True).numpy()
    assert (gain[:2] > 0).all() and (gain[:2] < [2.0, 3.0]).all()  # at most r times the n - 2 inner spans
    np.testing.assert_allclose(gain[2:], 0.0, atol=1e-5)  # two words: no inner span; one word: no tree

    def right_spine():  # expected right-edge constituents short of the whole sentence, from the span marginals
        root, rules, preterminals, _, lengths = grammar.sentence_scores(sentences, code)
        spans, _ = span_marginals(root, rules, preterminals, tf.maximum(lengths, 2))
        inner = inner_right_edge_spans(tf.maximum(lengths, 2), tf.shape(spans)[1], 1)[..., 0]
        return tf.reduce_sum(tf.reduce_sum(spans, -1) * inner, axis=[1, 2]).numpy()[:2]

    before = right_spine()
    _train(grammar, sentences, code, 6, learning_rate=3e-2)
    assert (right_spine() > before + 0.3).all()
    assert CompoundPCFG.from_config(grammar.get_config()).right_edge_prior == 1.0
    for bad in (-1.0, float("nan"), "1"):
        with pytest.raises(ValueError, match="right_edge_prior"):
            CompoundPCFG(vocabulary, right_edge_prior=bad, **sizes)


def test_right_edge_bonus_moves_mbr_trees_toward_right_branching_and_never_away():
    """Each tree's score is its spans' marginals plus b per span that ends at the last word, so a larger b never
    shortens the right spine, and b > 1 (a span's marginal is at most 1) gives the right-branching tree."""
    vocabulary = ["she", "walked", "home", "very", "slowly", "the", "dog"]
    sentences = tf.constant(["she walked home very slowly", "the dog walked home", "the dog walked", "dog"])
    sizes = dict(num_nonterminals=3, num_preterminals=4, symbol_dim=8, code_dim=2)
    np.testing.assert_array_equal(right_edge_spans(tf.constant([3, 2]), 3)[:, :, :],
                                  [[[0, 0, 1], [0, 1, 0], [1, 0, 0]], [[0, 1, 0], [1, 0, 0], [0, 0, 0]]])
    code = tf.random.normal([4, 2], seed=3)
    keras.utils.set_random_seed(0)
    grammar = CompoundPCFG(vocabulary, **sizes)
    grammar.build()
    assert grammar.right_edge_bonus == 0.0  # off by default: the plain MBR trees
    spines = []
    for bonus in (0.0, 0.3, 1.5):  # the same weights, decoded with each bonus
        grammar.right_edge_bonus = bonus
        trees = grammar.parse(sentences, code).numpy()
        found = [constituents_in_order(tree) for tree in trees]
        spines.append([sum(end == length for _, end, _ in spans) for spans, length in found])
    assert (np.diff(spines, axis=0) >= 0).all() and spines[0] != spines[-1]  # the spine only grows, and does grow
    assert spines[-1] == [4, 3, 2, 0]  # right-branching: every constituent of two words or more ends at the end
    grammar = CompoundPCFG(vocabulary, right_edge_bonus=0.5, **sizes)
    assert CompoundPCFG.from_config(grammar.get_config()).right_edge_bonus == 0.5
    assert grammar.decodings == ("mbr",)
    with pytest.raises(ValueError, match="right_edge_bonus.*decoding='mbr'"):
        grammar.parse(sentences, code, decoding="viterbi")
    for bad in (-0.5, float("inf"), "1"):
        with pytest.raises(ValueError, match="right_edge_bonus must be"):
            CompoundPCFG(vocabulary, right_edge_bonus=bad, **sizes)


LOW_RANK_SENTENCES = tf.constant(["she walked home slowly", "the dog walked home very slowly", "she walked", "dog"])
LOW_RANK_VOCABULARY = ["she", "walked", "home", "very", "slowly", "the", "dog"]


def _low_rank_grammar(code_dim=3, **kwargs):
    keras.utils.set_random_seed(0)
    sizes = dict(num_nonterminals=5, num_preterminals=7, symbol_dim=8, code_dim=code_dim, rule_rank=6)
    return CompoundPCFG(LOW_RANK_VOCABULARY, **{**sizes, **kwargs})


def _full_rules(low_rank):
    """The `[batch, NT, NT+T, NT+T]` log rule tensor that `LowRankRules` stands for."""
    head, left, right = (np.exp(part.numpy().astype("float64")) for part in low_rank)
    return np.log(np.einsum("bar,bcr,bdr->bacd", head, left, right))


def test_low_rank_rules_are_normalised_for_every_parent_and_code():
    grammar = _low_rank_grammar()
    code = tf.random.normal([4, 3], seed=1)
    root, rules, emissions = grammar.rule_scores(code)
    assert isinstance(rules, LowRankRules) and rules.head.shape == (4, 5, 6) and rules.left.shape == (4, 12, 6)
    full = _full_rules(rules)
    np.testing.assert_allclose(np.exp(full).sum(axis=(2, 3)), 1.0, rtol=1e-5)
    assert np.ptp(full[:, 0, 0, 0]) > 1e-4  # the code changes the rules (compound)
    np.testing.assert_allclose(np.exp(root.numpy()).sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(np.exp(emissions.numpy()).sum(-1), 1.0, rtol=1e-5)


def test_low_rank_inside_equals_the_full_tensor_inside_of_the_same_rules():
    """The rank-space pass and the full-tensor pass of the same grammar (U, V, W of a compound low-rank grammar,
    multiplied out) give the same log partition and span marginals, padding included."""
    grammar = _low_rank_grammar()
    root, rules, preterminals, _, lengths = grammar.sentence_scores(LOW_RANK_SENTENCES, tf.random.normal([4, 3]))
    full = tf.constant(_full_rules(rules), tf.float32)
    lengths = tf.maximum(lengths, 2)
    np.testing.assert_allclose(
        inside(root, rules, preterminals, lengths), inside(root, full, preterminals, lengths), atol=1e-5, rtol=1e-6
    )
    low_spans, low_words = span_marginals(root, rules, preterminals, lengths)
    full_spans, full_words = span_marginals(root, full, preterminals, lengths)
    np.testing.assert_allclose(low_spans, full_spans, atol=1e-5)
    np.testing.assert_allclose(low_words, full_words, atol=1e-5)
    np.testing.assert_allclose(
        grammar.log_likelihood(LOW_RANK_SENTENCES, tf.zeros([4, 3]))[:3],
        inside(*grammar.sentence_scores(LOW_RANK_SENTENCES, tf.zeros([4, 3]))[:3], lengths)[:3], rtol=1e-6,
    )


def test_low_rank_grammar_learns_parses_and_refuses_viterbi():
    grammar = _low_rank_grammar(code_dim=0, late_split_penalty=0.5)
    code = tf.zeros([4, 0])
    before = grammar.judge_loss(LOW_RANK_SENTENCES, code).numpy()
    _train(grammar, LOW_RANK_SENTENCES, code, 20)
    after = grammar.judge_loss(LOW_RANK_SENTENCES, code).numpy()
    assert after[:3].sum() < before[:3].sum() - 1.0 and after[3] == 0.0
    trees = [nltk.Tree.fromstring(tree.decode()) for tree in grammar.parse(LOW_RANK_SENTENCES, code).numpy()]
    assert [tree.leaves() for tree in trees] == [sentence.decode().split() for sentence in LOW_RANK_SENTENCES.numpy()]
    assert grammar.decodings == ("mbr",) and CompoundPCFG.from_config(grammar.get_config()).rule_rank == 6
    assert not hasattr(grammar, "rule_out") and not hasattr(grammar, "nonterminal_embeddings")
    with pytest.raises(ValueError, match="viterbi.*rule_rank is 6"):
        grammar.parse(LOW_RANK_SENTENCES, code, decoding="viterbi")
    with pytest.raises(ValueError, match="viterbi.*rule_rank"):
        _low_rank_grammar(decoding="viterbi")
    with pytest.raises(ValueError, match="rule_rank"):
        _low_rank_grammar(rule_rank=-1)
