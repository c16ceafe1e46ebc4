"""Voice conversion from the command line, with an exported model and nothing else of keras_ae at run time.

    python -m keras_ae.convert --model saved_models/voice_conversion --source a.wav --reference b.wav \\
        --output out.wav

The source's words in the reference speaker's voice. Audio files may have any sample rate (8 kHz or more) and one
or two channels (mixed down and resampled to 16 kHz, `keras_ae.data.speech.load_audio`); a missing, empty, corrupt,
silent or too short file is refused with its name before anything runs, and the output is written atomically
(an existing file is replaced only with `--overwrite`). The model is any export with a `convert(source,
reference)` signature (`keras_ae.recipes.voice_conversion`), which converts at the export's own speaker-code push
(`speaker_code_push`, 1 unless the model was built otherwise). `--push T` moves the reference's speaker code T times
as far from its nearest training voice instead (`keras_ae.layers.SpeakerCodePush`), with the export's
`convert_with_push(source, reference, push)` signature (exports that keep the training voices' centroids).
"""

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from keras_ae.core.files import EXPORT_MARKER
from keras_ae.data.speech import SAMPLE_RATE, AudioError, load_audio, write_wav
from keras_ae.layers.conditioning.speaker_code_push import checked_push

MIN_SECONDS = 0.25


def read_input(path, what):
    """A waveform at 16 kHz of at least `MIN_SECONDS`, or an `AudioError` naming `what` and the file."""
    try:
        waveform = load_audio(path)
    except AudioError as error:
        raise AudioError(f"--{what}: {error}") from None
    if len(waveform) < MIN_SECONDS * SAMPLE_RATE:
        raise AudioError(f"--{what}: {path} lasts {len(waveform) / SAMPLE_RATE:.3f} s; give at least "
                         f"{MIN_SECONDS} s of speech.")
    return waveform


def check_model(folder, push=None):
    """`(folder, push)`: the export folder and the checked push (None: convert at the export's own push), or a clear
    error when it is missing, has no `convert` signature, or cannot take `push` (not None)."""
    folder = Path(folder)
    manifest = folder / EXPORT_MARKER
    if not manifest.is_file():
        raise FileNotFoundError(f"--model {folder}: not a keras_ae export (no {EXPORT_MARKER}); train one with "
                                "python -m keras_ae.recipes.voice_conversion.")
    description = json.loads(manifest.read_text())
    signatures = description.get("signatures", {})
    if "convert" not in signatures:
        raise ValueError(f"--model {folder}: the export has no convert signature (it has {', '.join(signatures)}); "
                         "use a voice conversion export.")
    if push is None:
        return folder, None
    push = checked_push(push)
    if "convert_with_push" not in signatures:
        if push == description.get("config", {}).get("speaker_code_push", 1.0):
            return folder, None  # the export's own convert does exactly that
        raise ValueError(f"--model {folder}: this export keeps no training voices' centroids (no convert_with_push "
                         "signature), so it converts at its own push only; export a model trained with session 28's "
                         "recipe or later.")
    return folder, push


def check_output(path, overwrite):
    path = Path(path)
    if path.suffix.lower() != ".wav":
        raise ValueError(f"--output {path}: the output is written as WAV; give a .wav path.")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"--output {path}: the folder {path.parent} does not exist.")
    if path.exists() and (not overwrite or path.is_dir()):
        raise FileExistsError(f"--output {path} exists; pass --overwrite to replace it (or choose another name).")
    return path


def convert_files(model, source, reference, output, overwrite=False, push=None):
    """Converts `source` to the voice of `reference` with the export at `model`, writes `output`; returns the
    number of samples written. `push` (None: the export's default) moves the reference's speaker code away from its
    nearest training voice (`keras_ae.layers.SpeakerCodePush`). Every input is checked before the model loads."""
    model, push = check_model(model, push)
    output = check_output(output, overwrite)
    source_waveform = read_input(source, "source")
    reference_waveform = read_input(reference, "reference")
    import tensorflow as tf

    loaded = tf.saved_model.load(str(model))  # kept alive while its function runs (it owns the variables)
    inputs = {"source": tf.constant(source_waveform[None]), "reference": tf.constant(reference_waveform[None])}
    if push is None:
        converted = loaded.convert(**inputs)
    else:
        converted = loaded.convert_with_push(**inputs, push=tf.constant(push, tf.float32))
    converted = np.asarray(converted)[0]
    peak = float(np.max(np.abs(converted))) if converted.size else 0.0
    if not np.all(np.isfinite(converted)) or peak == 0.0:
        raise RuntimeError("The model returned silence or non-finite samples; the export looks broken.")
    converted = 0.9 * converted / peak if peak > 0.9 else converted
    descriptor, staging = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(descriptor)
    try:
        write_wav(staging, converted)
        os.replace(staging, output)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return len(converted)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m keras_ae.convert",
                                     description="Say the source's words in the reference's voice.")
    parser.add_argument("--model", default="saved_models/voice_conversion", help="a voice conversion export")
    parser.add_argument("--source", required=True, help="audio file whose words are kept")
    parser.add_argument("--reference", required=True, help="audio file of the target voice (any speaker)")
    parser.add_argument("--output", required=True, help="the WAV file to write (16 kHz mono)")
    parser.add_argument("--overwrite", action="store_true", help="replace --output if it exists")
    parser.add_argument("--push", "--speaker-code-push", type=float, default=None,
                        help="move the reference's speaker code this many times as far from its nearest training "
                             "voice (1: the code itself; default: the export's own setting)")
    args = parser.parse_args(argv)
    try:
        samples = convert_files(args.model, args.source, args.reference, args.output, args.overwrite, args.push)
    except (AudioError, FileNotFoundError, FileExistsError, ValueError) as error:
        parser.exit(2, f"error: {error}\n")
    print(f"Wrote {args.output} ({samples / SAMPLE_RATE:.2f} s at {SAMPLE_RATE} Hz)")


if __name__ == "__main__":
    main()
