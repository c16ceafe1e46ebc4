"""Export a trained model as a TensorFlow SavedModel with named signatures, written atomically.

Every keras_ae model lists its signatures in `export_signatures()`: a dict from name to
`(function, [tf.TensorSpec, ...])`, `encode` first (it also becomes `serving_default`). The SavedModel loads
with plain TensorFlow, no keras_ae needed:

    export_model(model, "saved_models/infomax", metrics={"probe_accuracy": 0.97})
    reloaded = tf.saved_model.load("saved_models/infomax")
    embeddings = reloaded.encode(images)

Beside the SavedModel, `keras_ae.json` records the model class, its config, the signatures with shapes and dtypes,
the run's metrics and flags and the library versions; `README.md` beside it is the model card
(`keras_ae.model_card`). `keras_ae.json` is also the export's marker: a destination is replaced only when it
holds one (a file or a foreign folder is refused before anything is written), the destination is locked while it
is written, and the new export is swapped in atomically (a reader sees the old export or the new one, never
neither). Leftovers of a killed export (`<name>.tmp-*`) are removed by the next export to the same place.

A run's checkpoint can be exported later, e.g. after changing the export folder or after an interrupted run:

    python -m keras_ae.export runs/infomax [--export-dir saved_models/infomax-epoch3]
"""

import argparse
import json
import platform
import shutil

import keras
import numpy as np
import tensorflow as tf

from keras_ae.core.files import (
    EXPORT_MARKER,
    check_replaceable,
    check_writable,
    hold_lock,
    make_staging,
    remove_stale,
    swap_in,
)

from keras_ae.model_card import write_model_card

MANIFEST_NAME = EXPORT_MARKER


def check_export_destination(destination):
    """Raises `UnsafePathError` unless `destination` may receive an export (see the module docstring)."""
    check_replaceable(destination, MANIFEST_NAME, "--export-dir", "export folder")
    return check_writable(destination, "--export-dir")


def export_model(model, destination, metrics=None, flags=None):
    """Writes `model` as a SavedModel at `destination` (replacing an older export only once the new one is whole),
    with `keras_ae.json` and the model card `README.md`, which lists `flags` (the run's flags) with the metrics."""
    signatures = model.export_signatures()
    if not signatures or next(iter(signatures)) != "encode":
        raise ValueError(f"{type(model).__name__}.export_signatures() must list 'encode' first.")
    destination = check_export_destination(destination)
    with hold_lock(destination, "export destination"):
        remove_stale(destination, [MANIFEST_NAME])
        staging = make_staging(destination)
        _write_export(model, signatures, staging, destination, metrics, flags)
    return destination


def _write_export(model, signatures, staging, destination, metrics, flags):
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
            # Modules a loader imports before tf.saved_model.load (their custom ops, e.g. tensorflow_text).
            "imports": list(getattr(model, "export_imports", ())),
            "versions": {
                "keras_ae": _keras_ae_version(),
                "keras": keras.__version__,
                "tensorflow": tf.__version__,
                "python": platform.python_version(),
            },
        }
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, default=str))
        write_model_card(staging, model, manifest, flags=flags, shown_path=destination)
        swap_in(staging, destination, grace=1.0)  # a reader that opened the old export just before keeps it a second
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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


def main(argv=None):
    """`python -m keras_ae.export RUN_DIR [--export-dir D]`: exports the newest loadable checkpoint of a run."""
    from keras_ae.runs import export_run_folder

    parser = argparse.ArgumentParser(prog="python -m keras_ae.export", description=main.__doc__.split(": ", 1)[1])
    parser.add_argument("run_dir", help="a run folder (or an interrupted run's --run-dir: its .partial is used)")
    parser.add_argument("--export-dir", help="where the SavedModel goes (default: the run's --export-dir)")
    args = parser.parse_args(argv)
    destination = export_run_folder(args.run_dir, args.export_dir)
    print(f"SavedModel:   {destination} (tf.saved_model.load; signatures in {MANIFEST_NAME})")
    return destination


if __name__ == "__main__":
    main()
