"""Export a trained model as a TensorFlow SavedModel with named signatures, written atomically.

Every keras_ae model lists its signatures in `export_signatures()`: a dict from name to
`(function, [tf.TensorSpec, ...])`, `encode` first (it also becomes `serving_default`). The SavedModel loads
with plain TensorFlow, no keras_ae needed:

    export_model(model, "saved_models/infomax", metrics={"probe_accuracy": 0.97})
    reloaded = tf.saved_model.load("saved_models/infomax")
    embeddings = reloaded.encode(images)

Beside the SavedModel, `keras_ae.json` records the model class, its config, the signatures with shapes and dtypes,
the run's metrics and flags and the library versions, and `README.md` is its model card (`keras_ae.model_card`).
"""

import json
import os
import platform
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_ae.model_card import write_model_card

MANIFEST_NAME = "keras_ae.json"


def export_model(model, destination, metrics=None, flags=None):
    """Writes `model` as a SavedModel at `destination` (replacing an older export only once the new one is whole).

    Beside it go `keras_ae.json` and the model card `README.md` (`keras_ae.model_card`), which lists `flags`
    (the run's flags, a dict) with the metrics.
    """
    destination = Path(destination)
    signatures = model.export_signatures()
    if not signatures or next(iter(signatures)) != "encode":
        raise ValueError(f"{type(model).__name__}.export_signatures() must list 'encode' first.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{destination.name}.tmp-", dir=destination.parent))
    try:
        archive = keras.export.ExportArchive()
        archive.track(model)
        for name, (function, input_signature) in signatures.items():
            archive.add_endpoint(name, function, input_signature=input_signature)
        archive.write_out(str(staging), verbose=False)
        manifest = {
            "class": f"{type(model).__module__}.{type(model).__name__}",
            "config": model.get_config(),
            "signatures": {
                name: {"inputs": [_describe(spec) for spec in specs]} for name, (_, specs) in signatures.items()
            },
            "metrics": _jsonable(metrics or {}),
            "flags": _jsonable(flags or {}),
            "versions": {
                "keras_ae": _keras_ae_version(),
                "keras": keras.__version__,
                "tensorflow": tf.__version__,
                "python": platform.python_version(),
            },
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, default=str))
        write_model_card(staging, model, manifest, flags=flags, shown_path=destination)
        _replace_directory(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return destination


def _replace_directory(source, destination):
    if destination.exists():
        retired = Path(tempfile.mkdtemp(prefix=f"{destination.name}.old-", dir=destination.parent))
        os.replace(destination, retired / destination.name)
        os.replace(source, destination)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(source, destination)


def _describe(spec):
    return {"name": spec.name, "shape": spec.shape.as_list(), "dtype": spec.dtype.name}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.generic,)):
        return value.item()
    return value


def _keras_ae_version():
    from keras_ae import __version__

    return __version__
