"""The model card beside every export, and the TensorFlow tools a serving user would point at it."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keras_ae.export import export_model
from keras_ae.layers import ConvImageDecoder, ConvImageEncoder
from keras_ae.model_card import CARD_NAME
from keras_ae.models import AutoEncoder
from tests.helpers import bar_images

SAVED_MODEL_CLI = Path(sys.executable).with_name("saved_model_cli")
METRICS = {
    "data": "bars",
    "epochs": 1,
    "probe_table": {"raw pixels": {"dim": 64, "linear_probe": 0.5}, "AutoEncoder": {"dim": 8, "linear_probe": 0.75}},
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = AutoEncoder(
        image_shape=(8, 8, 1),
        embedding_dim=8,
        encoder=ConvImageEncoder(embedding_dim=8, filters=(8, 16), hidden_dim=32),
        decoder=ConvImageDecoder(image_shape=(8, 8, 1), filters=(16, 8), hidden_dim=32),
    )
    destination = tmp_path_factory.mktemp("export") / "autoencoder"
    export_model(model, destination, metrics=METRICS, flags={"data": "bars", "embedding_dim": 8, "limit": None})
    return model, destination


def _code_block(card, heading, language):
    section = card.split(f"## {heading}", 1)[1]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def test_card_describes_method_data_metrics_and_signatures(exported):
    _, destination = exported
    card = (destination / CARD_NAME).read_text()
    assert card.startswith("# AutoEncoder, exported by keras_ae")
    assert "Hinton & Salakhutdinov, 2006" in card  # the paper, from the class docstring
    assert "| `--embedding-dim` | `8` |" in card and "--limit" not in card  # flags that were set
    assert "| AutoEncoder | 8 | 0.75 |" in card  # the metrics table of the run
    assert "| input | `images` | `[None, 8, 8, 1]` | `float32` |" in card
    assert "| output | `output_0` | `[None, 8]` | `float32` |" in card  # read back from the SavedModel
    assert "### `decode`" in card and "| input | `embeddings` | `[None, 8]` | `float32` |" in card
    assert f"tf.saved_model.load(\"{destination}\")" in card  # the final folder, not the staging one
    assert "tensorflow/serving" in card and "/v1/models/keras_ae:predict" in card


def test_card_tensorflow_example_runs_with_tensorflow_alone(exported):
    _, destination = exported
    snippet = _code_block((destination / CARD_NAME).read_text(), "Use it with TensorFlow", "python")
    script = snippet + "\nimport sys\nassert 'keras_ae' not in sys.modules\nprint(outputs['output_0'].shape)\n"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                               cwd=destination.parent)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().splitlines()[-1] == "(2, 8, 8, 1)"  # the last call: decode


def test_saved_model_cli_lists_signatures_and_runs_encode(exported, tmp_path):
    model, destination = exported
    shown = subprocess.run([str(SAVED_MODEL_CLI), "show", "--dir", str(destination), "--all"], capture_output=True,
                           text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-3000:]
    for name in ("encode", "decode", "serving_default"):
        assert f"signature_def['{name}']" in shown.stdout
    assert "dtype: DT_FLOAT\n        shape: (-1, 8, 8, 1)\n        name: encode_images:0" in shown.stdout

    images, _ = bar_images(4)
    np.save(tmp_path / "images.npy", images)
    ran = subprocess.run(
        [str(SAVED_MODEL_CLI), "run", "--dir", str(destination), "--tag_set", "serve", "--signature_def", "encode",
         "--inputs", f"images={tmp_path / 'images.npy'}", "--outdir", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    np.testing.assert_allclose(np.load(tmp_path / "out" / "output_0.npy"), model.encode(images), atol=1e-5)


@pytest.mark.slow  # default-suite budget: saved_model_cli is run by the test above
def test_card_saved_model_cli_commands_run(exported, tmp_path):
    model, destination = exported
    block = _code_block((destination / CARD_NAME).read_text(), "Inspect and run it", "bash")
    script = block.replace("\\\n", " ").replace("saved_model_cli", str(SAVED_MODEL_CLI))
    script = script.replace("python -c", f"{sys.executable} -c")
    ran = subprocess.run(f"set -e\n{script.strip()} --outdir out", shell=True, capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-3000:]
    zeros = np.zeros((2, 8, 8, 1), "float32")
    np.testing.assert_allclose(np.load(tmp_path / "out" / "output_0.npy"), model.encode(zeros), atol=1e-5)
