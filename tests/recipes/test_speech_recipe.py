"""The speech recipes' shared flags and corpus choices (keras_ae.recipes.speech_recipe)."""

import argparse

import pytest

from keras_ae.recipes import speech_recipe


def _args(**flags):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="espeak")
    parser.add_argument("--seed", type=int, default=0)
    speech_recipe.add_waveform_flags(parser, held_out_engine_help="probe on Festival voices")
    argv = [item for key, value in flags.items() for item in (f"--{key.replace('_', '-')}", str(value))]
    return parser.parse_args(argv)


def test_crop_length_is_a_whole_number_of_frames():
    assert speech_recipe.crop_length(_args(crop_seconds=1.28)) == 20480
    assert speech_recipe.crop_length(_args(crop_seconds=0.4031)) == 6400


def test_held_out_engine_is_skipped_for_user_data_and_none(monkeypatch):
    monkeypatch.setattr(speech_recipe, "load_engine_corpus", lambda *a, **k: pytest.fail("must not render"))
    assert speech_recipe.held_out_engine_corpus(_args(held_out_engine="none"), ["kal"], 4) is None
    assert speech_recipe.held_out_engine_corpus(_args(data="/my/audio", held_out_engine="festival"), ["kal"], 4) is None


def test_missing_festival_is_skipped_on_auto_and_refused_when_asked_for(monkeypatch, capsys):
    monkeypatch.setattr(speech_recipe.shutil, "which", lambda name: None)
    assert speech_recipe.held_out_engine_corpus(_args(), ["kal"], 4) is None
    assert "apt-get install festival" in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="apt-get install festival"):
        speech_recipe.held_out_engine_corpus(_args(held_out_engine="festival"), ["kal"], 4)


def test_renders_the_first_training_sentences_and_every_test_sentence(monkeypatch):
    calls = []
    monkeypatch.setattr(speech_recipe.shutil, "which", lambda name: "/usr/bin/festival")
    monkeypatch.setattr(speech_recipe, "load_engine_corpus",
                        lambda voices, sentences, sentence_ids, seed: calls.append((voices, sentence_ids)) or "corpus")
    args = _args(sentences=40)
    assert speech_recipe.held_out_engine_corpus(args, ["kal", "slt"], train_sentences=3) == "corpus"
    split = speech_recipe.sentence_splits(40, seed=0)
    voices, ids = calls[0]
    assert voices == ["kal", "slt"]
    assert list(split[ids[:3]]) == ["train"] * 3 and set(split[ids[3:]]) == {"test"}
    assert len(ids) == 3 + int((split == "test").sum())


def test_the_held_out_split_reaches_the_corpus_only_where_a_recipe_has_the_flag(monkeypatch):
    calls = []
    monkeypatch.setattr(speech_recipe, "load_speech_corpus", lambda **options: calls.append(options))
    speech_recipe.load_corpus(_args())  # a recipe without --held-out-split (CPC): the corpus default
    args = _args()
    args.held_out_split = "variant"
    speech_recipe.load_corpus(args)
    assert "held_out_split" not in calls[0] and calls[1]["held_out_split"] == "variant"
