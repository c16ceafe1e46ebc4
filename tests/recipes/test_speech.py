import json
import shutil
import wave

import numpy as np
import pytest

from keras_ae.recipes import cpc
from tests.helpers import reload_and_call
from tests.tensorboard_helpers import read_projector, summary_plugins


def _write_wav(path, samples, rate=16000):
    with wave.open(str(path), "wb") as file:
        file.setnchannels(1)
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(np.clip(samples * 32767, -32768, 32767).astype("<i2").tobytes())


def test_cpc_quick_run_on_synthesized_speech(tmp_path, monkeypatch):
    """The smoke test: tiny synthesized corpus, one step, the probe table and the run folder (no baselines, no
    export, to stay fast; the slow test below runs the whole recipe)."""
    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path / "home"))
    metrics = cpc.main(["--quick", "--run-dir", str(tmp_path / "run"), "--no-export", "--no-baselines"])
    assert set(metrics["probe_table"]) == {"CPC (context)", "chance"}
    assert 0.0 <= metrics["phone_probe"] <= 1.0 and 0.0 <= metrics["speaker_probe"] <= 1.0
    assert (tmp_path / "run" / "accuracy_vs_k.png").exists() and (tmp_path / "home" / "speech").is_dir()


@pytest.mark.slow
def test_cpc_full_quick_run_with_baselines_and_export(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path / "home"))
    run_dir, export_dir = tmp_path / "run", tmp_path / "export"
    metrics = cpc.main(["--quick", "--run-dir", str(run_dir), "--export-dir", str(export_dir)])

    table = metrics["probe_table"]
    assert set(table) == {"MFCC", "MFCC + deltas", "random-init CPC", "CPC (context)", "chance"}
    for row in table.values():
        assert 0.0 <= row["phone"] <= 1.0 and 0.0 <= row["speaker"] <= 1.0
    assert len(metrics["held_out_step_accuracy"]) == 4
    assert metrics["training_audio_seconds_per_second"] > 0
    for name in ("config.json", "metrics.json", "history.csv", "accuracy_vs_k.png", "history.png", "tensorboard"):
        assert (run_dir / name).exists(), name
    assert json.loads((run_dir / "metrics.json").read_text())["probe_table"] == json.loads(json.dumps(table))
    assert (tmp_path / "home" / "speech").is_dir()  # the corpus was cached under KERAS_AE_HOME
    _, metadata, rows = read_projector(run_dir / "tensorboard", "held-out utterances (mean over frames)")
    assert metadata[0] == "speaker\ttext" and len(rows) == metrics["utterances"]["probe_test"]
    _, metadata, rows = read_projector(run_dir / "tensorboard", "held-out frames")
    assert metadata[0] == "phone\tspeaker\ttime (s)" and len(rows) == len(metadata) - 1 > 0
    plugins = summary_plugins(run_dir / "tensorboard" / "samples")
    assert plugins["utterance 0: input"] == "audio"
    assert plugins["utterance 1: spectrogram and model views"] == "images"

    waveform = np.random.default_rng(0).normal(scale=0.1, size=(1, 3200)).astype("float32")
    (outputs,), signatures = reload_and_call(export_dir, "encode", [waveform])
    assert outputs.shape == (1, 20, 16) and "encode_frames" in signatures


def _user_folder(tmp_path):
    rng = np.random.default_rng(0)
    for speaker, base in (("low", 140.0), ("high", 260.0)):
        (tmp_path / "audio" / speaker).mkdir(parents=True)
        for index in range(10):
            time = np.arange(8000) / 16000
            tone = np.sin(2 * np.pi * base * (1 + 0.1 * index) * time) + 0.5 * np.sin(2 * np.pi * 3 * base * time)
            _write_wav(tmp_path / "audio" / speaker / f"{index}.wav", 0.2 * tone + 0.01 * rng.normal(size=8000))
    (tmp_path / "audio" / "high" / "broken.wav").write_bytes(b"")
    return ["--quick", "--data", str(tmp_path / "audio"), "--run-dir", str(tmp_path / "run"), "--no-export",
            "--no-baselines"]


def test_cpc_recipe_names_a_bad_user_file_before_training(tmp_path):
    with pytest.raises(ValueError, match="broken.wav"):
        cpc.main(_user_folder(tmp_path))
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_cpc_quick_run_on_a_user_folder_skipping_a_bad_file(tmp_path):
    metrics = cpc.main(_user_folder(tmp_path) + ["--skip-bad"])
    assert metrics["skipped_files"] == 1
    assert metrics["phone_probe"] is None and 0.0 <= metrics["speaker_probe"] <= 1.0


@pytest.mark.slow
def test_cpc_quick_run_streaming_a_user_folder(tmp_path):
    metrics = cpc.main(_user_folder(tmp_path) + ["--skip-bad", "--stream"])
    assert metrics["phone_probe"] is None and 0.0 <= metrics["speaker_probe"] <= 1.0
    assert metrics["training_audio_seconds_per_second"] > 0


needs_engines = pytest.mark.skipif(not (shutil.which("festival") and shutil.which("flite")),
                                   reason="festival and flite are installed by scripts/install.sh")


@pytest.mark.slow
@needs_engines
def test_cpc_quick_run_augmented_varied_and_held_out_engine(tmp_path, monkeypatch):
    """--augment, --corpus varied (wide eSpeak speakers and Flite voices at the default corpus's steps per epoch)
    and the held-out-engine probe table, end to end on a tiny corpus."""
    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path / "home"))
    metrics = cpc.main(["--quick", "--run-dir", str(tmp_path / "run"), "--no-export", "--augment", "default",
                        "--corpus", "varied", "--extra-speakers", "2", "--held-out-engine", "festival"])
    assert metrics["augment"] == "default"
    assert metrics["extra_training_speakers"] == {"espeak": 2, "flite": True}
    held_out = metrics["held_out_engine"]
    assert len(held_out["voices"]) == 2 and all(v.startswith("festival ") for v in held_out["voices"])
    assert set(held_out["probe_table"]) == {"MFCC", "MFCC + deltas", "random-init CPC", "CPC (context)", "chance"}
    for row in held_out["probe_table"].values():
        assert 0.0 <= row["phone"] <= 1.0 and 0.0 <= row["speaker"] <= 1.0
    assert held_out["probe_table"]["MFCC"]["phone"] > held_out["probe_table"]["chance"]["phone"]


def test_cpc_recipe_refuses_a_varied_corpus_on_user_audio(tmp_path):
    with pytest.raises(ValueError, match="drop them with --data"):
        cpc.main(_user_folder(tmp_path) + ["--corpus", "varied"])
