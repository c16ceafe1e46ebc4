"""WordPiece subwords inside the sentence encoder: learned vocabulary, unseen words split, raw strings exported."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ae.data.text import build_wordpiece_vocabulary
from keras_ae.export import export_model
from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder
from keras_ae.models.quick_thought import QuickThought
from tests.helpers import reload_and_call

SENTENCES = [f"The {a}s were {b}ing near the {c}." for a in ("walker", "talker", "sailor", "singer")
             for b in ("walk", "talk", "sail", "sing") for c in ("house", "harbour", "garden")] * 4


def test_unseen_words_become_known_pieces_instead_of_one_oov_id():
    vocabulary = build_wordpiece_vocabulary(SENTENCES, size=60)
    assert any(token.startswith("##") for token in vocabulary) and "[UNK]" not in vocabulary
    encoder = GRUSentenceEncoder(vocabulary, embedding_dim=8, word_dim=4, max_length=12, tokenizer="wordpiece")
    ids = encoder.tokenize(tf.constant(["The GARDENERS, sang!", "qqq"])).numpy()
    assert ids.shape == (2, 12) and ids[0, 0] == 2 + vocabulary.index("the")
    assert ids[0, 1] == 2 + vocabulary.index("garden")  # an unseen word starts with its longest known piece
    seen = ids[0][ids[0] > 0]
    assert len(seen) > 3 and 1 not in seen  # "gardeners" and "sang" split into known pieces, punctuation gone
    assert list(ids[1][ids[1] > 0]) == [1]  # letters never seen: the OOV id


def test_the_learners_min_count_caps_the_vocabulary_whatever_size_asks():
    # "rare" and "seldom" occur 3 times each, every other word 48 or 96 times
    sentences = SENTENCES + ["A rare word.", "A seldom word."] * 3
    capped = build_wordpiece_vocabulary(sentences, size=500)  # min_count 10: the rare words are not kept
    lowered = build_wordpiece_vocabulary(sentences, size=500, min_count=2)
    assert "rare" not in capped and "seldom" not in capped
    assert {"rare", "seldom"} <= set(lowered) and len(lowered) > len(capped)
    assert build_wordpiece_vocabulary(sentences, size=1000) == capped  # a larger size alone changes nothing
    with pytest.raises(ValueError, match="min_count"):
        build_wordpiece_vocabulary(sentences, min_count=0)


def test_a_larger_sample_keeps_rarer_words_at_the_same_min_count():
    # "rare" occurs 4 times in 196 sentences: twice in an even spread of 98, below the count of 3
    sentences = SENTENCES + ["A rare word."] * 4
    assert "rare" not in build_wordpiece_vocabulary(sentences, size=500, max_sentences=98, min_count=3)
    assert "rare" in build_wordpiece_vocabulary(sentences, size=500, max_sentences=196, min_count=3)
    with pytest.raises(ValueError, match="max_sentences"):
        build_wordpiece_vocabulary(sentences, max_sentences=0)


@pytest.mark.slow  # an export reloaded in a fresh process: about 20 s idle, a minute under load
def test_wordpiece_model_exports_raw_strings_matching_the_model(tmp_path):
    vocabulary = build_wordpiece_vocabulary(SENTENCES, size=60)
    model = QuickThought(vocabulary, embedding_dim=16, word_dim=8, max_length=10, tokenizer="wordpiece")
    model = QuickThought.from_config(model.get_config())
    sentences = np.array(["The walkers were singing.", "A sailor in the garden"])
    destination = export_model(model, tmp_path / "export")
    (outputs,), _ = reload_and_call(destination, "encode", [sentences])
    np.testing.assert_allclose(outputs, model.encode(tf.constant(sentences)).numpy(), atol=1e-5)
