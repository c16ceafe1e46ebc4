"""The `keras-ae` command: help without TensorFlow, dispatch to the recipes' `main`, clear errors."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from keras_ae import cli
from keras_ae.recipes import skip_thought, tune

ROOT = Path(__file__).resolve().parents[1]


def test_entry_point_is_declared():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts["keras-ae"].split(":")
    assert module == "keras_ae.cli" and callable(getattr(cli, function))


def test_help_lists_commands_and_recipes_without_importing_tensorflow():
    script = "import sys\nfrom keras_ae.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n" \
             "print('tensorflow' in sys.modules)"
    for argv, expected in ((["--help"], ["train", "tune", "export", "convert", "tensorboard", "recipes"]),
                           (["train", "--help"], ["skip_thought", "Skip-thought sentence embeddings", "vqvae", "cpc"])):
        completed = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, timeout=120,
                                   cwd=ROOT)
        assert completed.returncode == 0, completed.stderr
        for word in expected:
            assert word in completed.stdout
        assert completed.stdout.strip().splitlines()[-1] == "False"


def test_python_dash_m_keras_ae_is_the_same_command():
    completed = subprocess.run([sys.executable, "-m", "keras_ae", "recipes"], capture_output=True, text=True,
                               timeout=120, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr
    assert set(line.split()[0] for line in completed.stdout.splitlines()) == {
        "autoencoder", "cpc", "discrete", "infomax", "quick_thought", "skip_thought", "tree_latent", "vqvae",
        "text_summary", "voice_conversion"}
    summary_columns = {len(line) - len(line.split("  ", 1)[1].lstrip()) for line in completed.stdout.splitlines()}
    assert len(summary_columns) == 1, f"the summaries do not line up: {completed.stdout}"


def test_train_and_tune_pass_every_flag_to_the_recipe(monkeypatch):
    calls = []
    monkeypatch.setattr(skip_thought, "main", lambda argv: calls.append(("skip_thought", argv)) or "metrics")
    monkeypatch.setattr(tune, "main", lambda argv: calls.append(("tune", argv)))
    assert cli.main(["train", "skip_thought", "--quick", "--epochs", "2", "--help"]) == "metrics"
    cli.main(["tune", "--model", "infomax", "--quick", "--help"])
    assert calls == [("skip_thought", ["--quick", "--epochs", "2", "--help"]),
                     ("tune", ["--model", "infomax", "--quick", "--help"])]


def test_recipe_help_comes_from_the_recipe(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "skip_thought", "--help"])
    assert exit_info.value.code == 0
    assert "--word-dropout" in capsys.readouterr().out


def test_unknown_recipe_is_named(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "skipthought"])
    assert "invalid choice: 'skipthought'" in capsys.readouterr().err


def test_export_is_python_dash_m_keras_ae_export(monkeypatch, capsys):
    import keras_ae.export

    calls = []
    monkeypatch.setattr(keras_ae.export, "main", lambda argv: calls.append(argv))
    cli.main(["export", "runs/x", "--export-dir", "saved_models/x"])
    assert calls == [["runs/x", "--export-dir", "saved_models/x"]]


def test_convert_is_python_dash_m_keras_ae_convert(monkeypatch):
    import keras_ae.convert

    calls = []
    monkeypatch.setattr(keras_ae.convert, "main", lambda argv: calls.append(argv))
    cli.main(["convert", "--model", "m", "--source", "a.wav", "--reference", "b.wav", "--output", "o.wav"])
    assert calls == [["--model", "m", "--source", "a.wav", "--reference", "b.wav", "--output", "o.wav"]]


def test_tensorboard_refuses_a_missing_folder(tmp_path):
    with pytest.raises(SystemExit, match="is not a folder"):
        cli.main(["tensorboard", str(tmp_path / "missing")])
