import json

import numpy as np
import pytest

from keras_ae.export import MANIFEST_NAME, export_model
from keras_ae.layers import ConvImageDecoder, ConvImageEncoder
from keras_ae.models import AutoEncoder, InfoMax
from tests.helpers import bar_images, reload_and_call


def _models():
    encoder = lambda: ConvImageEncoder(embedding_dim=8, filters=(8, 16), hidden_dim=32)  # noqa: E731
    return {
        "autoencoder": AutoEncoder(
            image_shape=(8, 8, 1),
            embedding_dim=8,
            encoder=encoder(),
            decoder=ConvImageDecoder(image_shape=(8, 8, 1), filters=(16, 8), hidden_dim=32),
        ),
        "infomax": InfoMax(image_shape=(8, 8, 1), embedding_dim=8, encoder=encoder()),
    }


@pytest.mark.parametrize("name", ["autoencoder", pytest.param("infomax", marks=pytest.mark.slow)])
def test_export_reloads_without_keras_ae_and_matches(tmp_path, name):
    model = _models()[name]
    images, _ = bar_images(5)
    destination = export_model(model, tmp_path / name, metrics={"probe": np.float32(0.5)})

    (encoded,), signatures = reload_and_call(destination, "encode", [images])
    np.testing.assert_allclose(encoded, model.encode(images), atol=1e-5)
    assert encoded.dtype == np.float32 and encoded.shape == (5, 8)
    embeddings = np.asarray(model.encode(images))
    if name == "autoencoder":
        assert signatures == ["decode", "encode", "serving_default"]
        (decoded,), _ = reload_and_call(destination, "decode", [embeddings])
        np.testing.assert_allclose(decoded, model.decode(embeddings), atol=1e-5)
    else:
        assert signatures == ["encode", "score", "serving_default"]
        (scores,), _ = reload_and_call(destination, "score", [images, embeddings])
        np.testing.assert_allclose(scores, model.score(images, embeddings), atol=1e-5)

    manifest = json.loads((destination / MANIFEST_NAME).read_text())
    assert manifest["class"].endswith(type(model).__name__)
    assert manifest["signatures"]["encode"]["inputs"][0] == {"name": "images", "shape": [None, 8, 8, 1], "dtype": "float32"}
    assert manifest["metrics"] == {"probe": 0.5}
    assert manifest["config"] == json.loads(json.dumps(model.get_config()))


def test_failed_export_leaves_nothing_behind_and_keeps_the_old_one(tmp_path):
    model = _models()["autoencoder"]
    destination = export_model(model, tmp_path / "model")
    before = sorted(p.name for p in destination.iterdir())

    image_specs = model.export_signatures()["encode"][1]

    def fail(images):
        raise RuntimeError("boom")

    model.export_signatures = lambda: {"encode": (fail, image_specs)}
    with pytest.raises(RuntimeError, match="boom"):
        export_model(model, destination)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert sorted(p.name for p in destination.iterdir()) == before


def test_export_requires_encode_first(tmp_path):
    model = _models()["autoencoder"]
    signatures = model.export_signatures()
    model.export_signatures = lambda: {"decode": signatures["decode"], "encode": signatures["encode"]}
    with pytest.raises(ValueError, match="'encode' first"):
        export_model(model, tmp_path / "model")
    assert not any(tmp_path.iterdir())
