"""End-to-end runs of the discrete-code recipes on small data (scikit-learn's 8x8 digits), through their `main`."""

import json

import numpy as np
import pytest

from keras_ae.recipes import discrete, vqvae
from tests.helpers import reload_and_call
from tests.tensorboard_helpers import read_projector, summary_plugins

SMALL = ["--data", "digits", "--epochs", "1", "--batch-size", "32", "--limit", "300"]


def test_vqvae_recipe_quick(tmp_path):
    run_dir = tmp_path / "run"
    metrics = vqvae.main(["--quick", "--data", "digits", "--codebook-size", "32", "--code-dim", "8", "--no-compare",
                          "--no-export", "--run-dir", str(run_dir)])
    assert {"reconstructions.png", "code_usage.png", "code_maps.png"} <= {p.name for p in run_dir.iterdir()}
    assert 0 < metrics["table"]["VQVAE"]["codes_used"] <= 1
    assert summary_plugins(run_dir / "tensorboard" / "samples") == {
        "reconstructions (top: test images, bottom: reconstructed)": "images", "code usage": "images",
        "code ids of test images": "histograms"}
    embedding, _, _ = read_projector(run_dir / "tensorboard")
    assert embedding.tensor_shape[1] == 2 * 2 * 8  # the 2x2 grid of 8-dimensional encoder outputs, flattened


@pytest.mark.slow
def test_vqvae_recipe_writes_run_folder_and_export(tmp_path):
    run_dir, export_dir = tmp_path / "run", tmp_path / "export"
    metrics = vqvae.main(
        [*SMALL, "--codebook-size", "32", "--code-dim", "8", "--run-dir", str(run_dir), "--export-dir", str(export_dir)]
    )
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "metrics.json", "history.csv", "reconstructions.png", "code_usage.png", "code_maps.png"} <= names
    table = json.loads((run_dir / "metrics.json").read_text())["table"]
    assert table["VQVAE"]["num_codes"] == 32 and 0 < table["VQVAE"]["codes_used"] <= 1
    assert "ratio" in table["VQVAE"] and len(table) == 2
    assert metrics["table"] == table
    images = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).astype("float32")
    (codes,), signatures = reload_and_call(export_dir, "quantize", [images])
    assert codes.shape == (3, 2, 2) and codes.max() < 32


@pytest.mark.parametrize("code", ["binary", "onehot"])
def test_discrete_recipe_quick(tmp_path, code):
    run_dir = tmp_path / "run"
    metrics = discrete.main(
        ["--quick", "--data", "digits", "--code", code, "--code-length", "4", "--categories", "4", "--no-compare",
         "--run-dir", str(run_dir), "--no-export"]
    )
    assert {"reconstructions.png", "code_usage.png", "code_maps.png"} <= {p.name for p in run_dir.iterdir()}
    assert metrics["table"]["DiscreteAutoEncoder"]["test_mse"] > 0


def test_codebook_larger_than_the_data_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"cannot be fitted on \d+ encoder outputs"):
        vqvae.main(["--data", "digits", "--limit", "10", "--codebook-size", "512", "--run-dir", str(tmp_path / "r")])
    with pytest.raises(SystemExit):  # refused by the flag's own range check, before any data is read
        vqvae.main(["--data", "digits", "--codebook-size", "0", "--run-dir", str(tmp_path / "r")])
    assert "--codebook-size: must be an integer of at least 2, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [  # the default flags in the default suite, the variants with -m slow
    [],
    pytest.param(["--no-speaker-conditioning", "--feature-norm", "global"], marks=pytest.mark.slow),
    pytest.param(["--augment", "default"], marks=pytest.mark.slow),
])
def test_vqvae_recipe_on_synthesized_speech(tmp_path, monkeypatch, flags):
    """Tiny synthesized corpus (3 speakers, 8 sentences): phone purity beside k-means on MFCC, speaker probe; the
    decoder is speaker-conditioned unless --no-speaker-conditioning."""
    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path / "home"))
    run_dir = tmp_path / "run"
    metrics = vqvae.main(["--data", "speech", "--quick", "--run-dir", str(run_dir), "--no-export", *flags])
    table = metrics["table"]
    assert set(table) == {"VQ-VAE codes", "k-means on MFCC (K=32)", "k-means on the VQ-VAE input (K=32)",
                          "phone labels (oracle)", "majority phone / chance"}
    for row in table.values():
        assert 0.0 <= row["phone_purity"] <= 1.0
    for name in ("VQ-VAE codes", "k-means on MFCC (K=32)", "phone labels (oracle)"):
        assert 0.0 <= table[name]["speaker_probe_accuracy"] <= 1.0
        assert 0.0 <= table[name]["speaker_info"] <= 1.0 + 1e-9
    assert table["VQ-VAE codes"]["phone_purity"] >= table["majority phone / chance"]["phone_purity"]
    conditioned = "--no-speaker-conditioning" not in flags
    assert metrics["speaker_conditioning"] is conditioned
    assert json.loads((run_dir / "config.json").read_text())["model"]["num_speakers"] == (3 if conditioned else None)
    assert {"code_usage.png", "code_maps.png", "metrics.json"} <= {p.name for p in run_dir.iterdir()}
    plugins = summary_plugins(run_dir / "tensorboard" / "samples")
    assert plugins["utterance 0: input"] == "audio" and plugins["utterance 0: spectrogram and model views"] == "images"
    assert plugins["utterance 1: reconstruction from the codes, vocoded"] == "audio"
    _, metadata, _ = read_projector(run_dir / "tensorboard", "held-out utterances (mean over frames)")
    assert metadata[0] == "speaker\ttext"
    _, metadata, _ = read_projector(run_dir / "tensorboard", "held-out frames")
    assert metadata[0] == "phone\tspeaker\ttime (s)"
    augmented = "--augment" in flags
    assert metrics["augment"] == ("default" if augmented else "none")


@pytest.mark.slow  # default-suite budget: the flags' checks run in the test below
def test_vqvae_speech_time_stride(tmp_path, monkeypatch):
    """--time-stride 2: one code per 20 ms, scored against the 10 ms labels; crops must be divisible by the stride."""
    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path / "home"))
    run_dir = tmp_path / "run"
    metrics = vqvae.main(
        ["--data", "speech", "--quick", "--run-dir", str(run_dir), "--no-export", "--time-stride", "2"]
    )
    assert metrics["time_stride"] == 2
    assert json.loads((run_dir / "config.json").read_text())["model"]["time_stride"] == 2
    row = metrics["table"]["VQ-VAE codes"]
    assert 0.0 <= row["phone_purity"] <= 1.0 and 0.0 <= row["speaker_info"] <= 1.0 + 1e-9
    assert np.isfinite(row["test_mse"])


def test_vqvae_speech_time_stride_flags_are_checked(tmp_path):
    with pytest.raises(ValueError, match="divisible by --time-stride"):
        vqvae.main(["--data", "speech", "--quick", "--crop-frames", "30", "--time-stride", "4",
                    "--run-dir", str(tmp_path / "bad")])
    with pytest.raises(ValueError, match="--data speech only"):
        vqvae.main(["--quick", "--data", "digits", "--time-stride", "2", "--run-dir", str(tmp_path / "img")])


@pytest.mark.slow
def test_tune_searches_the_codebook_size(tmp_path):
    from keras_ae.recipes import tune

    trials = tune.main(
        ["--model", "vqvae", "--quick", "--data", "digits", "--min-dim", "8", "--max-dim", "64",
         "--run-dir", str(tmp_path / "tune"), "--no-export"]
    )
    assert trials and all(8 <= row["codebook_size"] <= 64 for row in trials)
    assert {"val_probe_accuracy", "loss"} <= set(trials[0])
    assert (tmp_path / "tune" / "objective_vs_codebook_size.png").exists()
