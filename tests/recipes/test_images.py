"""End-to-end runs of the image recipes on small data (scikit-learn's 8x8 digits), through their `main`."""

import csv
import json

import keras
import numpy as np
import pytest

from keras_ae.recipes import autoencoder, infomax, tune
from keras_ae.recipes.common import RunFolder
from tests.helpers import reload_and_call
from tests.tensorboard_helpers import read_projector, summary_plugins, summary_steps

SMALL = ["--data", "digits", "--epochs", "2", "--batch-size", "32", "--embedding-dim", "16", "--limit", "400"]


def test_infomax_recipe_writes_run_folder_and_export(tmp_path):
    run_dir, export_dir = tmp_path / "run", tmp_path / "export"
    metrics = infomax.main([*SMALL, "--run-dir", str(run_dir), "--export-dir", str(export_dir)])
    names = {p.name for p in run_dir.iterdir()}
    assert {"config.json", "metrics.json", "history.csv", "tensorboard", "history.png", "embedding_map.png"} <= names
    assert not (tmp_path / "run.partial").exists()
    table = json.loads((run_dir / "metrics.json").read_text())["probe_table"]
    assert set(table) == {"raw pixels", "random-init encoder", "InfoMax"}
    assert table["InfoMax"]["linear_probe"] > 0.3  # 10 classes: chance is 0.1
    assert metrics["probe_table"] == table
    embedding, metadata, rows = read_projector(run_dir / "tensorboard")
    assert len(rows) + 1 == len(metadata) == embedding.tensor_shape[0] + 1 > 1 and embedding.tensor_shape[1] == 16
    assert metadata[:2] == ["label\tclass", f"{metadata[1].split()[0]}\tdigit {metadata[1].split()[0]}"]
    assert list(embedding.sprite.single_image_dim) == [8, 8]
    assert (export_dir / "README.md").read_text().startswith("# InfoMax, exported by keras_ae")
    images = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).astype("float32")
    (encoded,), _ = reload_and_call(export_dir, "encode", [images])
    assert encoded.shape == (3, 16)


class _StopAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt("simulated kill after epoch 1")


def test_killed_run_resumes_from_last_finished_epoch(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    argv = [*SMALL, "--epochs", "3", "--run-dir", str(run_dir), "--no-export"]
    original = RunFolder.callbacks
    monkeypatch.setattr(RunFolder, "callbacks", lambda self, **kw: [*original(self, **kw), _StopAfterFirstEpoch()])
    with pytest.raises(KeyboardInterrupt):
        autoencoder.main(argv)
    assert (tmp_path / "run.partial" / "checkpoint").exists() and not run_dir.exists()
    monkeypatch.setattr(RunFolder, "callbacks", original)
    autoencoder.main([*argv, "--resume"])
    with open(run_dir / "history.csv") as file:
        epochs = [int(row["epoch"]) for row in csv.DictReader(file)]
    assert epochs == [0, 1, 2]
    assert not (tmp_path / "run.partial").exists()
    reconstructions = "reconstructions (top: test images, bottom: reconstructed)"
    assert summary_plugins(run_dir / "tensorboard" / "samples") == {reconstructions: "images"}
    assert summary_steps(run_dir / "tensorboard" / "samples")[reconstructions][-1] == 3


def test_config_file_values_and_errors(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('epochs = 1\nreconstruction_loss = "bce"\nlimit = 200\n')
    args = autoencoder.build_parser()
    from keras_ae.recipes.common import parse_flags

    parsed = parse_flags(args, ["--config", str(config), "--epochs", "4"])
    assert (parsed.epochs, parsed.reconstruction_loss, parsed.limit) == (4, "bce", 200)  # flags win over the file
    config.write_text("epochz = 1\n")
    with pytest.raises(ValueError, match="unknown option.*epochz"):
        autoencoder.main(["--config", str(config), "--run-dir", str(tmp_path / "run")])
    with pytest.raises(SystemExit):
        autoencoder.main(["--strategy", "tpu"])
    with pytest.raises(FileNotFoundError, match="No image data"):
        autoencoder.main(["--data", str(tmp_path / "missing"), "--export-dir", str(tmp_path / "export")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.toml"]


@pytest.mark.slow  # about a minute: two trials, then a retrain
def test_tune_recipe_writes_trials_and_exports_best(tmp_path):
    trials = tune.main(
        [
            "--model", "autoencoder", "--data", "digits", "--quick", "--limit", "300", "--max-dim", "16",
            "--run-dir", str(tmp_path / "tune"), "--export-dir", str(tmp_path / "best"),
        ]
    )  # fmt: skip
    assert len(trials) == 2 and all(0 <= row["val_probe_accuracy"] <= 1 for row in trials)
    assert trials[0]["val_probe_accuracy"] >= trials[1]["val_probe_accuracy"]
    names = {p.name for p in (tmp_path / "tune").iterdir()}
    assert {"trials.csv", "objective_vs_embedding_dim.png", "metrics.json", "best"} <= names
    manifest = json.loads((tmp_path / "best" / "keras_ae.json").read_text())
    assert manifest["config"]["embedding_dim"] == trials[0]["embedding_dim"]
    board = tmp_path / "tune" / "tensorboard"
    assert "_hparams_/experiment" in summary_plugins(board)
    for row in trials:  # keras-tuner's hyperparameters and keras_ae's objective, in each trial's folder
        trial = board / row["trial"] / "execution0"
        assert summary_plugins(trial)["_hparams_/session_start_info"] == "hparams"
        assert summary_steps(trial)["val_probe_accuracy"] == [0]
