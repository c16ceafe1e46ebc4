"""The model card of an export: a `README.md` beside `keras_ae.json` that a person reads.

It says what the model is (the method and its paper, from the model class's docstring), the data and flags it was
trained with, the metrics table of its run, each signature with the shapes and dtypes of its inputs and outputs
(read back from the SavedModel itself), and copy-paste examples for plain TensorFlow, `saved_model_cli` and
TensorFlow Serving. `keras_ae.export.export_model` writes it; by hand:

    write_model_card("saved_models/infomax", model, manifest, flags={"data": "mnist", "epochs": 5})
"""

import inspect
from pathlib import Path

import tensorflow as tf

CARD_NAME = "README.md"
EXAMPLE_SENTENCES = ["It is a truth universally acknowledged.", "She was not at home."]
# Example lengths for axes of unknown size after the batch: one second of 16 kHz audio, 100 frames of 10 ms.
EXAMPLE_LENGTHS = {"waveforms": 16000}
DEFAULT_EXAMPLE_LENGTH = 100


def write_model_card(export_dir, model, manifest, flags=None, shown_path=None):
    """Writes `export_dir/README.md` for the SavedModel in `export_dir` (already written), returns its path.

    `shown_path` is the folder named in the card's examples (default `export_dir`): the final destination when
    the card is written into a staging folder that is renamed afterwards.
    """
    export_dir = Path(export_dir)
    loaded = tf.saved_model.load(str(export_dir))
    signatures = {name: _signature_io(loaded.signatures[name]) for name in manifest["signatures"]}
    name = type(model).__name__
    sections = [
        f"# {name}, exported by keras_ae\n\n{_description(model)}",
        _training_section(manifest.get("metrics", {}), flags),
        _metrics_section(manifest.get("metrics", {})),
        _signatures_section(signatures),
        _tensorflow_section(signatures),
        _saved_model_cli_section(signatures),
        _serving_section(signatures),
        _versions_section(manifest.get("versions", {})),
    ]
    text = "\n\n".join(section for section in sections if section) + "\n"
    path = export_dir / CARD_NAME
    path.write_text(text.replace("EXPORT_DIR", str(shown_path or export_dir)))
    return path


def _description(model):
    doc = inspect.getdoc(type(model)) or ""
    first_paragraph = " ".join(doc.split("\n\n")[0].split())
    return (
        f"{first_paragraph}\n\nClass `{type(model).__module__}.{type(model).__name__}`; its full config is in "
        "`keras_ae.json`. The SavedModel loads with TensorFlow alone (no keras_ae needed)."
    )


def _training_section(metrics, flags):
    lines = ["## Training"]
    if "data" in metrics:
        lines.append(f"Data: `{metrics['data']}`.")
    for key, label in (("epochs", "epochs"), ("training_seconds", "seconds of training")):
        if isinstance(metrics.get(key), (int, float)):
            lines.append(f"{label.capitalize()}: {_number(metrics[key])}.")
    if flags:
        lines.append("\nFlags of the run (`--config` accepts them as TOML):\n")
        lines.append("| flag | value |\n|---|---|")
        lines += [f"| `--{key.replace('_', '-')}` | `{value}` |" for key, value in flags.items() if value is not None]
    return "\n".join(lines) if len(lines) > 1 else ""


def _metrics_section(metrics):
    table = metrics.get("probe_table") or metrics.get("table")
    shown = ("data", "epochs", "training_seconds")  # in the training section
    scalars = {key: value for key, value in _flatten(metrics).items()
               if key not in shown and not key.startswith(("table.", "probe_table."))}
    if not table and not scalars:
        return ""
    lines = ["## Metrics of the run (test split)"]
    if table:
        columns = list(dict.fromkeys(column for row in table.values() for column in row))
        lines.append("| | " + " | ".join(columns) + " |")
        lines.append("|---" * (len(columns) + 1) + "|")
        for row_name, row in table.items():
            lines.append(f"| {row_name} | " + " | ".join(_number(row.get(column)) for column in columns) + " |")
    if scalars:
        lines.append("")
        lines += [f"- `{key}`: {_number(value)}" for key, value in scalars.items()]
    return "\n".join(lines)


def _flatten(metrics, prefix=""):
    """Numbers and strings of `metrics`, nested keys joined with dots (lists and very long strings left out)."""
    flat = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) < 300):
            flat[f"{prefix}{key}"] = value
    return flat


def _signatures_section(signatures):
    lines = ["## Signatures", "`encode` is also `serving_default`. Shapes: `None` is any size."]
    for name, (inputs, outputs) in signatures.items():
        lines.append(f"\n### `{name}`\n\n| | name | shape | dtype |\n|---|---|---|---|")
        lines += [f"| input | `{key}` | `{_shape(spec)}` | `{spec.dtype.name}` |" for key, spec in inputs.items()]
        lines += [f"| output | `{key}` | `{_shape(spec)}` | `{spec.dtype.name}` |" for key, spec in outputs.items()]
    return "\n".join(lines)


def _tensorflow_section(signatures):
    lines = ["## Use it with TensorFlow", "```python", "import numpy as np", "import tensorflow as tf", "",
             'model = tf.saved_model.load("EXPORT_DIR")  # this folder']
    for name, (inputs, _) in signatures.items():
        arguments = ", ".join(f"{key}={_python_example(spec, key)}" for key, spec in inputs.items())
        lines.append(f'outputs = model.signatures["{name}"]({arguments})  # a dict of tensors')
    lines.append("```")
    return "\n".join(lines)


def _saved_model_cli_section(signatures):
    name, (inputs, _) = next(iter(signatures.items()))
    arrays = {key: spec for key, spec in inputs.items() if spec.dtype != tf.string}
    texts = {key: spec for key, spec in inputs.items() if spec.dtype == tf.string}
    lines = ["## Inspect and run it with `saved_model_cli` (shipped with TensorFlow)", "```bash",
             "saved_model_cli show --dir EXPORT_DIR --all"]
    if arrays:  # --input_exprs takes Python literals only: arrays go through .npy files
        saves = "; ".join(f"np.save('{key}.npy', {_python_example(spec, key, numpy_only=True)})"
                          for key, spec in arrays.items())
        lines.append(f'python -c "import numpy as np; {saves}"')
    options = []
    if arrays:
        options.append("--inputs '" + ";".join(f"{key}={key}.npy" for key in arrays) + "'")
    if texts:
        options.append("--input_exprs '" + ";".join(f"{key}={EXAMPLE_SENTENCES!r}" for key in texts) + "'")
    lines += [f"saved_model_cli run --dir EXPORT_DIR --tag_set serve --signature_def {name} \\",
              f"    {' '.join(options)}", "```"]
    return "\n".join(lines)


def _serving_section(signatures):
    name, (inputs, _) = next(iter(signatures.items()))
    body = ", ".join(f'"{key}": {_json_example(spec, key)}' for key, spec in inputs.items())
    return "\n".join([
        "## Serve it with TensorFlow Serving",
        "TensorFlow Serving loads numbered versions of a model: mount this folder as version 1.",
        "```bash",
        'docker run --rm -p 8501:8501 -e MODEL_NAME=keras_ae \\',
        '    --mount type=bind,source="$(realpath EXPORT_DIR)",target=/models/keras_ae/1 tensorflow/serving',
        "```",
        "Then call any signature by name over REST (columnar `inputs`, one list per input):",
        "```python",
        "import json, urllib.request",
        "",
        f'body = {{"signature_name": "{name}", "inputs": {{{body}}}}}',
        'request = urllib.request.Request("http://localhost:8501/v1/models/keras_ae:predict", '
        'data=json.dumps(body).encode(),',
        '                                 headers={"Content-Type": "application/json"})',
        'outputs = json.load(urllib.request.urlopen(request))["outputs"]',
        "```",
    ])


def _versions_section(versions):
    if not versions:
        return ""
    return "## Versions\n" + ", ".join(f"{key} {value}" for key, value in versions.items()) + "."


def _signature_io(function):
    """`(inputs, outputs)`: dicts from name to `tf.TensorSpec` of a loaded signature."""
    _, inputs = function.structured_input_signature
    return dict(sorted(inputs.items())), dict(sorted(function.structured_outputs.items()))


def _example_shape(spec, key):
    shape = spec.shape.as_list()
    return [2 if axis == 0 and size is None else size or EXAMPLE_LENGTHS.get(key, DEFAULT_EXAMPLE_LENGTH)
            for axis, size in enumerate(shape)]


def _python_example(spec, key, numpy_only=False):
    if spec.dtype == tf.string:
        return repr(EXAMPLE_SENTENCES) if numpy_only else f"tf.constant({EXAMPLE_SENTENCES!r})"
    array = f"np.zeros({tuple(_example_shape(spec, key))}, np.{spec.dtype.name})"
    return array if numpy_only else f"tf.constant({array})"


def _json_example(spec, key):
    if spec.dtype == tf.string:
        return repr(EXAMPLE_SENTENCES).replace("'", '"')
    # Zeros in the example shape, as a Python expression of list arithmetic (compact, and valid JSON once built).
    shape = _example_shape(spec, key)
    zero = "0" if spec.dtype.is_integer else "0.0"
    expression = f"[{zero}] * {shape[-1]}"
    for size in reversed(shape[:-1]):
        expression = f"[{expression}] * {size}"
    return expression


def _shape(spec):
    return "[" + ", ".join("None" if size is None else str(size) for size in spec.shape.as_list()) + "]"


def _number(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
