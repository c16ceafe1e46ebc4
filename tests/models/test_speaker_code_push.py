"""The conversion-time speaker-code push: `SpeakerCodePush`, the models' `convert(..., push=...)`, the centroids'
save/load and export, `python -m keras_ae.convert --push` and the benchmark's choice rule."""

import json
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from benchmarks.voice_conversion_push import chosen_push
from keras_ae import convert as convert_cli
from keras_ae.data.speech import write_wav
from keras_ae.export import export_model
from keras_ae.layers import SpeakerCodePush
from keras_ae.models.adain_vc import AdaINVC
from keras_ae.recipes.voice_conversion import centroid_utterances
from tests.helpers import reload_and_call_many
from tests.test_contract import SPEECH, SPEECH_BATCHES, TINY_VC

SOURCE, REFERENCE = SPEECH[0][:1], SPEECH[0][1:2]


@pytest.fixture(scope="module")
def adapted():
    """A tiny AdaIN-VC after a few steps, with its two voices' centroids (the tests only read it)."""
    keras.utils.set_random_seed(0)
    model = AdaINVC(kl_weight=0.0, speaker_centroids=2, **TINY_VC)
    model.adapt(list(SPEECH[0][:8]))
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(SPEECH_BATCHES.take(3), epochs=1, verbose=0)  # AdaIN starts as the identity: a few steps to read codes
    model.adapt_speaker_centroids(SPEECH[0][:16], SPEECH[1][:16])
    return model


def test_the_push_moves_a_code_from_its_nearest_centroid_and_one_is_the_code_itself():
    layer = SpeakerCodePush(num_centroids=3, dim=2)
    layer.adapt(np.array([[0.0, 0], [0, 2], [10, 0], [10, 2], [0, 10], [2, 10]]), np.array([5, 5, 7, 7, 9, 9]))
    np.testing.assert_allclose(layer.centroids, [[0, 1], [10, 1], [1, 10]])
    codes = np.array([[1.0, 1.5], [9.0, 1.0], [1.0, 8.0]], "float32")  # nearest: rows 0, 1 and 2
    np.testing.assert_allclose(layer(codes, push=2.0), [[2, 2], [8, 1], [1, 6]], atol=1e-6)
    np.testing.assert_allclose(layer(codes, push=0.5), [[0.5, 1.25], [9.5, 1], [1, 9]], atol=1e-6)
    assert np.array_equal(layer(codes, push=1.0), codes)
    clone = SpeakerCodePush.from_config(layer.get_config())
    assert (clone.num_centroids, clone.dim) == (3, 2)
    with pytest.raises(ValueError, match="2 speakers for 3 centroids"):
        layer.adapt(np.zeros((4, 2)), np.array([0, 0, 1, 1]))
    with pytest.raises(ValueError, match=r"codes \[n, 2\]"):
        layer.adapt(np.zeros((4, 3)), np.array([0, 1, 2, 2]))


def test_an_unadapted_table_refuses_a_push_other_than_one():
    layer = SpeakerCodePush(num_centroids=2, dim=2)
    codes = np.ones((1, 2), "float32")
    assert np.array_equal(layer(codes, push=1.0), codes)
    with pytest.raises(tf.errors.InvalidArgumentError, match="never set"):
        layer(codes, push=2.0)


def test_push_one_converts_bit_for_bit_as_before_and_other_pushes_change_the_voice(adapted):
    model = adapted
    before = model.decoder(model.encode(SOURCE), model.encode_speaker(REFERENCE), length=SOURCE.shape[1] // 160,
                           training=False)  # the conversion of earlier sessions, spelled out
    assert np.array_equal(model.convert_frames(SOURCE, REFERENCE), before)
    assert np.array_equal(model.convert_frames(SOURCE, REFERENCE, push=1.0), before)
    assert np.array_equal(model.speaker_code(REFERENCE, tf.constant(1.0)), model.encode_speaker(REFERENCE))
    plain = AdaINVC(kl_weight=0.0, **TINY_VC)  # no table: the same weights convert the same
    plain.set_weights([np.asarray(v) for v in model.weights if not v.path.startswith("speaker_push/")])
    assert np.array_equal(plain.convert(SOURCE, REFERENCE), model.convert(SOURCE, REFERENCE, push=1.0))
    code, pushed = model.encode_speaker(REFERENCE), model.speaker_code(REFERENCE, 2.0)
    nearest = model.speaker_push.nearest(code)
    np.testing.assert_allclose(pushed, nearest + 2.0 * (code - nearest), atol=1e-6)
    assert not np.allclose(pushed, code, atol=1e-4)
    assert not np.allclose(model.convert_frames(SOURCE, REFERENCE, push=2.0), before, atol=1e-3)
    np.testing.assert_allclose(model.convert_frames(SOURCE, REFERENCE, push=2.0), model.decoder(
        model.encode(SOURCE), pushed, length=SOURCE.shape[1] // 160, training=False), atol=1e-6)
    stored = AdaINVC(kl_weight=0.0, speaker_centroids=2, speaker_code_push=2.0, **TINY_VC)
    stored.set_weights(model.get_weights())
    assert np.array_equal(stored.convert_frames(SOURCE, REFERENCE), model.convert_frames(SOURCE, REFERENCE, push=2.0))


def test_bad_pushes_are_refused(adapted):
    model = adapted
    for bad in (0.0, -1.0, float("nan"), float("inf"), "two"):
        with pytest.raises(ValueError, match="push must be"):
            model.convert(SOURCE, REFERENCE, push=bad)
    for bad in (0.0, float("nan")):  # the graph's own check (the export's path)
        with pytest.raises(tf.errors.InvalidArgumentError, match="push must be"):
            model.speaker_code(REFERENCE, tf.constant(bad))
    with pytest.raises(ValueError, match="push must be"):
        AdaINVC(speaker_centroids=2, speaker_code_push=float("nan"), **TINY_VC)
    with pytest.raises(ValueError, match="give speaker_centroids > 0"):
        AdaINVC(speaker_code_push=2.0, **TINY_VC)
    plain = AdaINVC(kl_weight=0.0, **TINY_VC)
    plain.adapt(list(SPEECH[0][:8]))
    with pytest.raises(ValueError, match="needs the trained voices' centroids"):
        plain.convert(SOURCE, REFERENCE, push=2.0)
    with pytest.raises(ValueError, match="speaker_centroids > 0"):
        plain.adapt_speaker_centroids(SPEECH[0][:4], SPEECH[1][:4])


def test_the_centroids_survive_save_and_load(adapted, tmp_path):
    model = adapted
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    clone = AdaINVC.from_config(model.get_config())
    assert clone.speaker_centroids == 2 and not np.any(np.asarray(clone.speaker_push.centroids))
    clone.load_weights(path)
    np.testing.assert_array_equal(clone.speaker_push.centroids, model.speaker_push.centroids)
    np.testing.assert_array_equal(clone.convert(SOURCE, REFERENCE, push=2.5),
                                  model.convert(SOURCE, REFERENCE, push=2.5))


def test_centroid_utterances_takes_at_most_a_count_of_every_speaker():
    corpus = types.SimpleNamespace(speakers=np.array([0, 1, 0, 0, 2, 1, 0]), subset=lambda indices: indices)
    chosen = centroid_utterances(corpus, 2, seed=0)
    assert list(np.bincount(corpus.speakers[chosen])) == [2, 2, 1] and list(chosen) == sorted(chosen)


def test_the_choice_rule_takes_the_best_mean_of_seen_and_unseen_shares_and_the_smaller_push_on_ties():
    rows = {push: {"seen targets": {"target_share": seen}, "unseen targets": {"target_share": unseen},
                   "held-out engine targets": {"target_share": 1.0}}
            for push, seen, unseen in [(1.0, 0.8, 0.2), (1.5, 0.7, 0.5), (2.0, 0.6, 0.6), (3.0, 0.9, 0.1)]}
    assert chosen_push(rows) == 1.5


@pytest.fixture(scope="module")
def pushed_export(adapted, tmp_path_factory):
    return adapted, export_model(adapted, tmp_path_factory.mktemp("vc_push") / "export")


@pytest.mark.slow  # an export and a fresh TensorFlow process
def test_the_export_pushes_as_the_model_does_and_refuses_bad_pushes(pushed_export):
    model, folder = pushed_export
    push = lambda t: np.asarray(t, "float32")  # noqa: E731
    outputs, signatures = reload_and_call_many(folder, {
        "default": ("convert", [SOURCE, REFERENCE]),
        "one": ("convert_with_push", [SOURCE, REFERENCE, push(1.0)]),
        "two": ("convert_with_push", [SOURCE, REFERENCE, push(2.0)]),
        "ten": ("convert_with_push", [SOURCE, REFERENCE, push(10.0)]),
        "zero": ("convert_with_push", [SOURCE, REFERENCE, push(0.0)]),
        "nan": ("convert_with_push", [SOURCE, REFERENCE, push(np.nan)]),
    })
    assert {"convert", "convert_with_push"} <= set(signatures)
    np.testing.assert_allclose(outputs["two"][0], model.convert(SOURCE, REFERENCE, push=2.0), atol=1e-5)
    np.testing.assert_allclose(outputs["ten"][0], model.convert(SOURCE, REFERENCE, push=10.0), atol=1e-5)
    np.testing.assert_allclose(outputs["one"][0], model.convert(SOURCE, REFERENCE), atol=1e-5)
    np.testing.assert_array_equal(outputs["default"][0], outputs["one"][0])  # the signature of earlier sessions
    assert not np.allclose(outputs["ten"][0], outputs["one"][0], atol=1e-4)
    assert "push must be" in outputs["zero"] and "push must be" in outputs["nan"]
    inputs = json.loads((folder / "keras_ae.json").read_text())["signatures"]
    assert [spec["name"] for spec in inputs["convert"]["inputs"]] == ["source", "reference"]
    assert [spec["name"] for spec in inputs["convert_with_push"]["inputs"]] == ["source", "reference", "push"]


@pytest.mark.slow
def test_the_convert_command_passes_its_push_and_refuses_a_bad_one(pushed_export, tmp_path, capsys):
    model, folder = pushed_export
    source, reference = tmp_path / "source.wav", tmp_path / "reference.wav"
    write_wav(source, np.tile(SPEECH[0][0], 3))
    write_wav(reference, np.tile(SPEECH[0][1], 3))
    for name, push in (("one.wav", None), ("far.wav", "30")):
        convert_cli.main(["--model", str(folder), "--source", str(source), "--reference", str(reference),
                          "--output", str(tmp_path / name), *(["--push", push] if push else [])])
    from keras_ae.data.speech import load_audio

    one, far = load_audio(tmp_path / "one.wav"), load_audio(tmp_path / "far.wav")
    assert one.shape == far.shape and not np.allclose(one, far, atol=5e-4)
    for bad in ("0", "nan", "-2"):
        with pytest.raises(SystemExit):
            convert_cli.main(["--model", str(folder), "--source", str(source), "--reference", str(reference),
                              "--output", str(tmp_path / "never.wav"), "--push", bad])
        assert "push must be" in capsys.readouterr().err
    assert not (tmp_path / "never.wav").exists()


def test_the_convert_command_refuses_a_push_for_an_export_without_centroids(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "keras_ae.json").write_text(json.dumps({"signatures": {"convert": {}}}))  # an earlier session's
    with pytest.raises(ValueError, match="keeps no training voices' centroids"):
        convert_cli.check_model(folder, 2.0)
    assert convert_cli.check_model(folder, 1.0) == (folder, None) == convert_cli.check_model(folder)
    with pytest.raises(ValueError, match="push must be"):
        convert_cli.check_model(folder, float("nan"))
    (folder / "keras_ae.json").write_text(json.dumps({"config": {"speaker_code_push": 1.5}, "signatures": {
        "convert": {}, "convert_with_push": {}}}))
    assert convert_cli.check_model(folder) == (folder, None)  # the export's own push, 1.5
    assert convert_cli.check_model(folder, 3) == (folder, 3.0)
