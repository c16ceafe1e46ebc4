"""Tests for TreeLatent (compound and neural PCFG): loss falls, config round trip, 1 vs 2 replicas, export reload."""

import keras
import nltk
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.data.trees import build_vocabulary, load_tree_data, make_sentence_dataset
from keras_ae.export import export_model
from keras_ae.models.tree_latent import TreeLatent
from tests.helpers import assert_two_replicas_step_like_one, reload_and_call_many

SIZES = dict(num_nonterminals=4, num_preterminals=6, symbol_dim=16, encoder_dim=8, word_dim=8)


@pytest.fixture(scope="module")
def data():
    return load_tree_data("synthetic", max_length=8, synthetic_size=160)


def _model(data, code_dim=4, **kwargs):
    return TreeLatent(build_vocabulary(data.train), code_dim=code_dim, seed=0, **{**SIZES, **kwargs})


@pytest.fixture(scope="module")
def trained(data):
    keras.utils.set_random_seed(0)
    model = _model(data)
    model.compile(optimizer=keras.optimizers.Adam(1e-2, beta_1=0.75, global_clipnorm=3.0))
    history = model.fit(make_sentence_dataset(data.train, 32, shuffle=True), epochs=3, verbose=0)
    return model, history.history


def test_loss_falls(trained):
    _, history = trained
    assert set(history) == {"loss", "grammar_loss", "kl_loss", "kl"}
    assert history["loss"][-1] < history["loss"][0] - 0.5
    assert all(np.isfinite(history["loss"]))


def test_parse_and_encode(trained, data):
    model, _ = trained
    sentences = tf.constant(data.test[:3] + ["The Zebra (sat)"])
    trees = [nltk.Tree.fromstring(tree.decode()) for tree in model.parse(sentences).numpy()]
    assert [tree.leaves() for tree in trees[:3]] == [sentence.split() for sentence in data.test[:3]]
    assert trees[3].leaves() == ["The", "Zebra", "-LRB-sat-RRB-"]
    assert all(isinstance(node.label(), str) and node.label() for tree in trees for node in tree.subtrees())
    assert model.encode(sentences).shape == (4, 4)
    elbo, kl = model.elbo(sentences)
    assert np.all(elbo.numpy() < 0) and np.all(kl.numpy() >= 0)


def test_config_round_trip(trained, data):
    model, _ = trained
    clone = TreeLatent.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    sentences = tf.constant(data.test[:4])
    np.testing.assert_allclose(clone.encode(sentences), model.encode(sentences), atol=1e-6)
    np.testing.assert_allclose(clone.elbo(sentences, samples=1)[1], model.elbo(sentences, samples=1)[1], atol=1e-6)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert type(restored) is TreeLatent and restored.code_dim == 4
    # decoding is part of the config: a Viterbi clone parses as the model does when asked for Viterbi trees.
    viterbi = TreeLatent.from_config({**model.get_config(), "grammar": None, "decoding": "viterbi"})
    viterbi.set_weights(model.get_weights())
    assert viterbi.grammar.decoding == "viterbi" and model.grammar.decoding == "mbr"
    np.testing.assert_array_equal(viterbi.parse(sentences), model.parse(sentences, decoding="viterbi"))


def test_neural_pcfg_has_no_code_and_trains(data):
    keras.utils.set_random_seed(0)
    model = _model(data, code_dim=0)
    assert model.bottleneck is None and not model.encoder.weights
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(make_sentence_dataset(data.train, 32, shuffle=True), epochs=2, verbose=0).history
    assert set(history) == {"loss"} and history["loss"][-1] < history["loss"][0]
    assert model.encode(tf.constant(data.test[:2])).shape == (2, 0)
    elbo, _ = model.elbo(tf.constant(data.test[:2]))
    np.testing.assert_allclose(elbo, -model.grammar.judge_loss(tf.constant(data.test[:2]), tf.zeros([2, 0])))


@pytest.mark.slow  # default-suite budget: the contract test trains and exports TreeLatent
def test_two_replicas_give_the_one_replica_step(data, code_dim=4):
    batch = tf.constant(data.train[:8])

    def make():
        keras.utils.set_random_seed(1)
        model = _model(data, code_dim=code_dim)
        if code_dim:  # z's noise differs per replica by design: make it negligible (std e^-10) for the comparison
            model.bottleneck.log_variance_layer.bias.assign(tf.fill([code_dim], -20.0))
        return model

    assert_two_replicas_step_like_one(make, batch, learning_rate=0.1)


@pytest.fixture(scope="module")
def right_edge(trained):
    """The trained model decoding with right association (`right_edge_bonus` 0.5)."""
    model, history = trained
    clone = TreeLatent.from_config({**model.get_config(), "grammar": None, "right_edge_bonus": 0.5})
    clone.set_weights(model.get_weights())
    return clone, history


@pytest.mark.slow  # default-suite budget: the contract test exports `encode` to 1e-5
@pytest.mark.parametrize("fixture", ["trained", "low_rank", "right_edge"])  # + TN-PCFG, right association
def test_export_reloads_with_plain_tensorflow(fixture, request, tmp_path):
    model, _ = request.getfixturevalue(fixture)
    destination = export_model(model, tmp_path / "tree_latent", metrics={"sentence_f1": 1.0})
    sentences = np.array(["the dog saw a cat", "Zebras (quietly) ran home today", "she", ""])
    outputs, signatures = reload_and_call_many(
        destination, {"encode": ("encode", [sentences]), "parse": ("parse", [sentences])}
    )
    assert {"encode", "parse"} <= set(signatures)
    np.testing.assert_allclose(outputs["encode"][0], model.encode(tf.constant(sentences)), atol=1e-5)
    trees = outputs["parse"][0]
    np.testing.assert_array_equal(trees, model.parse(tf.constant(sentences)).numpy())
    parsed = nltk.Tree.fromstring(trees[1].decode())
    assert parsed.leaves() == ["Zebras", "-LRB-quietly-RRB-", "ran", "home", "today"]
    assert trees[3] == b""


@pytest.fixture(scope="module")
def with_affixes(data):
    keras.utils.set_random_seed(0)
    model = _model(data, suffix_length=3, prefix_length=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-2, beta_1=0.75, global_clipnorm=3.0))
    history = model.fit(make_sentence_dataset(data.train[:64], 32, shuffle=True), epochs=3, verbose=0).history
    return model, history


AFFIX_SENTENCES = np.array(["the dog saw a cat", "Zebras (quietly) walked home today", "she", ""])
AFFIX_LEAVES = [["the", "dog", "saw", "a", "cat"], ["Zebras", "-LRB-quietly-RRB-", "walked", "home", "today"]]


def test_affix_features_train_and_round_trip(with_affixes):
    """Word-form features (suffix_length, prefix_length): the loss falls, the affix embeddings learn, the config
    round trip keeps them, and parses keep the input's tokens as leaves, unknown words included."""
    model, history = with_affixes
    assert model.grammar.suffix_length == 3 and model.grammar.affix_embeddings.shape[0] == len(model.grammar.affixes)
    assert history["loss"][-1] < history["loss"][0] and np.abs(model.grammar.affix_embeddings.numpy()).max() > 0
    clone = TreeLatent.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    assert (clone.suffix_length, clone.prefix_length) == (3, 2)
    trees = clone.parse(tf.constant(AFFIX_SENTENCES)).numpy()
    np.testing.assert_array_equal(trees, model.parse(tf.constant(AFFIX_SENTENCES)).numpy())
    assert [nltk.Tree.fromstring(tree.decode()).leaves() for tree in trees[:2]] == AFFIX_LEAVES


@pytest.mark.slow  # default-suite budget: exporting takes about a minute
def test_affix_model_exports_parses_with_the_input_tokens(with_affixes, tmp_path):
    model, _ = with_affixes
    destination = export_model(model, tmp_path / "tree_latent", metrics={"sentence_f1": 1.0})
    outputs, _ = reload_and_call_many(destination, {"parse": ("parse", [AFFIX_SENTENCES])})
    trees = outputs["parse"][0]
    np.testing.assert_array_equal(trees, model.parse(tf.constant(AFFIX_SENTENCES)).numpy())
    assert [nltk.Tree.fromstring(tree.decode()).leaves() for tree in trees[:2]] == AFFIX_LEAVES


@pytest.fixture(scope="module")
def low_rank(data):
    """A compound TN-PCFG (low-rank rules, more symbols than the full-rule models above)."""
    keras.utils.set_random_seed(0)
    model = _model(data, num_nonterminals=12, num_preterminals=18, rule_rank=8)
    model.compile(optimizer=keras.optimizers.Adam(1e-2, beta_1=0.75, global_clipnorm=3.0))
    history = model.fit(make_sentence_dataset(data.train, 32, shuffle=True), epochs=3, verbose=0).history
    return model, history


def test_low_rank_rules_train_round_trip_and_parse(low_rank, data):
    model, history = low_rank
    assert model.grammar.rule_rank == model.get_config()["rule_rank"] == 8 and model.grammar.decodings == ("mbr",)
    assert history["loss"][-1] < history["loss"][0] - 0.5 and all(np.isfinite(history["loss"]))
    clone = TreeLatent.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    sentences = tf.constant(data.test[:3] + ["The Zebra (sat)"])
    trees = clone.parse(sentences).numpy()
    np.testing.assert_array_equal(trees, model.parse(sentences).numpy())
    leaves = [nltk.Tree.fromstring(tree.decode()).leaves() for tree in trees]
    assert leaves == [sentence.split() for sentence in data.test[:3]] + [["The", "Zebra", "-LRB-sat-RRB-"]]
    with pytest.raises(ValueError, match="viterbi"):
        model.parse(sentences, decoding="viterbi")


def test_hypermodel_scores_f1_on_validation_trees(data):
    import keras_tuner as kt

    from keras_ae.tuning import OBJECTIVE, TreeLatentHyperModel

    hypermodel = TreeLatentHyperModel(
        build_vocabulary(data.train), (data.validation, data.validation_trees), nonterminals=(3,), min_dim=2, max_dim=2,
        right_edge_prior=0.05,
    )
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    assert model.code_dim == 2 and model.num_nonterminals == 3 and model.grammar.right_edge_prior == 0.05
    result = hypermodel.fit(hp, model, make_sentence_dataset(data.train, 32, shuffle=True), epochs=1, verbose=0)
    assert 0 <= result[OBJECTIVE] <= 1
    assert result["val_sentence_f1"] == pytest.approx(100 * result[OBJECTIVE])
    assert result["val_perplexity"] > 1
