"""Bad input fails before any work: each case asserts the error type, that the message names the problem and the fix,
and that nothing under the test folder (run folders, `.partial`, exports, the user's own files) was created or
changed."""

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from keras_ae.core.files import RUN_MARKER, LockedError, UnsafePathError
from keras_ae.data.speech import AudioError, write_wav
from keras_ae.recipes import autoencoder, cpc, discrete, infomax, skip_thought, text_summary, voice_conversion, vqvae
from keras_ae.runs import ResumeError

SMALL = ["--data", "digits", "--epochs", "1", "--batch-size", "32", "--embedding-dim", "8", "--limit", "200"]


@dataclasses.dataclass
class Case:
    """`make(folder)` writes what the case needs into `folder` and returns `(main, argv)`."""

    name: str
    make: object
    error: type
    problem: str  # regular expressions the message must match
    fix: str


def _runs(folder, *extra):
    return ["--run-dir", str(folder / "run"), "--export-dir", str(folder / "export"), *extra]


def flags(name, argv, problem, fix, main=autoencoder.main):
    return Case(name, lambda folder: (main, [*SMALL, *_runs(folder), *argv]), SystemExit, problem, fix)


def toml(name, text, problem, fix, main=autoencoder.main, argv=()):
    def make(folder):
        (folder / "run.toml").write_text(textwrap.dedent(text))
        return main, [*SMALL, *_runs(folder), "--config", str(folder / "run.toml"), *argv]

    return Case(name, make, ValueError, problem, fix)


def npz(name, problem, fix, main=autoencoder.main, error=ValueError, **arrays):
    def make(folder):
        np.savez(folder / "data.npz", **arrays)
        return main, [*SMALL, "--data", str(folder / "data.npz"), *_runs(folder)]

    return Case(name, make, error, problem, fix)


def _images(count=40, size=8):
    return np.random.default_rng(0).uniform(size=(count, size, size)).astype("float32")


def _labels(count=40):
    return np.arange(count) % 4


def _with_nan():
    images = _images()
    images[3, 2, 2] = np.nan
    return images


def _with_inf():
    images = _images()
    images[5, 1, 1] = np.inf
    return images


def _finished_run(folder, argv, epochs_done, partial=False, recipe=autoencoder):
    """A run folder as keras_ae leaves it (marker, config.json with the flags argv gives, checkpoint files)."""
    args = recipe.build_parser().parse_args(argv)
    run = folder / ("run.partial" if partial else "run")
    (run / "checkpoint").mkdir(parents=True)
    (run / RUN_MARKER).write_text(json.dumps({"state": "running" if partial else "finished"}))
    (run / "config.json").write_text(json.dumps({"flags": json.loads(json.dumps(vars(args), default=str))}))
    for epoch in range(1, epochs_done + 1):
        (run / "checkpoint" / f"epoch-{epoch:04d}.weights.h5").write_bytes(b"weights")


def resume_finished(folder):
    argv = [*SMALL, *_runs(folder), "--epochs", "2"]
    _finished_run(folder, argv, epochs_done=2)
    return autoencoder.main, [*argv, "--resume"]


def resume_changed(folder):
    argv = [*SMALL, *_runs(folder), "--epochs", "3"]
    _finished_run(folder, argv, epochs_done=1, partial=True)
    return autoencoder.main, [*argv, "--embedding-dim", "16", "--resume"]


_HOLDER = None


def run_in_use(folder):
    """Another process holds the run folder's lock."""
    global _HOLDER
    script = "import sys, time; from keras_ae.core.files import acquire_lock; acquire_lock(sys.argv[1]); " \
             "print('locked', flush=True); time.sleep(120)"
    _HOLDER = subprocess.Popen([sys.executable, "-c", script, str(folder / "run")], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert _HOLDER.stdout.readline().strip() == "locked"
    return autoencoder.main, [*SMALL, *_runs(folder)]


def cwd_run(folder):
    (folder / "work").mkdir()
    (folder / "work" / "notes.txt").write_text("mine")
    os.chdir(folder / "work")
    return autoencoder.main, [*SMALL, "--run-dir", ".", "--export-dir", str(folder / "export")]


def home_run(folder):
    (folder / "home").mkdir()
    (folder / "home" / "thesis.tex").write_text("mine")
    os.environ["HOME"] = str(folder / "home")
    return autoencoder.main, [*SMALL, "--run-dir", "~", "--export-dir", str(folder / "export")]


def parent_of_runs(folder):
    for name in ("first", "second"):
        (folder / "runs" / name).mkdir(parents=True)
        (folder / "runs" / name / RUN_MARKER).write_text("{}")
    return autoencoder.main, [*SMALL, "--run-dir", str(folder / "runs"), "--export-dir", str(folder / "export")]


def file_as(flag):
    def make(folder):
        (folder / "results.csv").write_text("a,b\n1,2\n")
        paths = {"--run-dir": str(folder / "run"), "--export-dir": str(folder / "export"), flag: str(folder / "results.csv")}
        return autoencoder.main, [*SMALL, *[item for pair in paths.items() for item in pair]]

    return make


def foreign_as(flag, name):
    def make(folder):
        (folder / name).mkdir()
        (folder / name / "paper.pdf").write_bytes(b"%PDF")
        paths = {"--run-dir": str(folder / "run"), "--export-dir": str(folder / "export")}
        paths[flag] = str(folder / name)
        if name == "run.partial":
            paths[flag] = str(folder / "run")
        return autoencoder.main, [*SMALL, *[item for pair in paths.items() for item in pair]]

    return make


def export_paths(run, export):
    return lambda folder: (autoencoder.main, [*SMALL, "--run-dir", str(folder / run), "--export-dir", str(folder / export)])


def under_file(folder):
    (folder / "notes.txt").write_text("mine")
    return autoencoder.main, [*SMALL, *_runs(folder)[:2], "--export-dir", str(folder / "notes.txt" / "model")]


def idx_truncated(folder):
    import struct

    data = folder / "idx"
    data.mkdir()
    for prefix, count in (("train", 50), ("t10k", 10)):
        images = struct.pack(">4BIII", 0, 0, 8, 3, count, 8, 8) + bytes(count * 64)
        labels = struct.pack(">4BI", 0, 0, 8, 1, count) + bytes(count)
        (data / f"{prefix}-images-idx3-ubyte").write_bytes(images[:-100] if prefix == "train" else images)
        (data / f"{prefix}-labels-idx1-ubyte").write_bytes(labels)
    return autoencoder.main, [*SMALL, "--data", str(data), *_runs(folder)]


def mixed_sizes(folder):
    from PIL import Image

    for label in ("a", "b"):
        (folder / "images" / label).mkdir(parents=True)
        for index in range(6):
            size = 9 if (label, index) == ("b", 4) else 8
            Image.fromarray(np.full((size, size), 128, np.uint8)).save(folder / "images" / label / f"{index}.png")
    return autoencoder.main, [*SMALL, "--data", str(folder / "images"), *_runs(folder)]


def text_file(content, main=skip_thought.main):
    def make(folder):
        (folder / "book.txt").write_bytes(content)
        return main, ["--quick", "--data", str(folder / "book.txt"), *_runs(folder)]

    return make


def one_document(folder):
    lines = []
    for chapter in range(12):
        lines += [f"CHAPTER {chapter + 1}", ""] + [f"Anna walked to the garden number {i}." for i in range(12)] + [""]
    (folder / "book.txt").write_text("\n".join(lines))
    return skip_thought.main, ["--quick", "--data", str(folder / "book.txt"), *_runs(folder)]


def manifest(lines, write_audio=True):
    def make(folder):
        if write_audio:
            write_wav(folder / "a.wav", 0.1 * np.sin(np.arange(16000) / 5.0))
        (folder / "audio.jsonl").write_text("\n".join(lines) + "\n")
        return cpc.main, ["--quick", "--data", str(folder / "audio.jsonl"), *_runs(folder)]

    return make


def tf_config(value, strategy="multi_worker"):
    def make(folder):
        if value is None:
            os.environ.pop("TF_CONFIG", None)
        else:
            os.environ["TF_CONFIG"] = value
        return autoencoder.main, [*SMALL, *_runs(folder), "--strategy", strategy]

    return make


CASES = [
    # Flags: argparse types with range checks (exit status 2, the message on stderr).
    flags("epochs_negative", ["--epochs", "-3"], r"--epochs.*-3", r"positive integer"),
    flags("epochs_zero", ["--epochs", "0"], r"--epochs.*got 0", r"positive integer"),
    flags("epochs_not_a_number", ["--epochs", "two"], r"--epochs.*'two'", r"expected an integer"),
    flags("limit_zero", ["--limit", "0"], r"--limit.*got 0", r"positive integer"),
    flags("limit_negative", ["--limit", "-100"], r"--limit.*-100", r"positive integer"),
    flags("embedding_dim_zero", ["--embedding-dim", "0"], r"--embedding-dim", r"positive integer"),
    flags("batch_size_zero", ["--batch-size", "0"], r"--batch-size", r"positive integer"),
    flags("learning_rate_negative", ["--learning-rate", "-0.1"], r"--learning-rate.*-0.1", r"finite number above 0"),
    flags("learning_rate_nan", ["--learning-rate", "nan"], r"--learning-rate.*nan", r"finite number above 0"),
    flags("seed_negative", ["--seed", "-1"], r"--seed.*-1", r"0 or a positive integer"),
    flags("strategy_unknown", ["--strategy", "tpu"], r"--strategy.*'tpu'", r"choose from"),
    flags("word_dropout_one", ["--word-dropout", "1"], r"--word-dropout.*1", r"up to \(not including\) 1",
          main=skip_thought.main),
    flags("codebook_size_one", ["--codebook-size", "1"], r"--codebook-size.*1", r"at least 2", main=vqvae.main),
    flags("categories_one", ["--code", "onehot", "--categories", "1"], r"--categories", r"at least 2",
          main=discrete.main),
    flags("code_length_zero", ["--code-length", "0"], r"--code-length", r"positive integer", main=discrete.main),
    flags("crop_seconds_zero", ["--crop-seconds", "0"], r"--crop-seconds", r"above 0", main=cpc.main),
    flags("max_shift_negative", ["--max-shift", "-2"], r"--max-shift.*-2", r"0 or a positive", main=infomax.main),
    flags("rhythm_limit_below_one", ["--rhythm-limit", "0.5"], r"--rhythm-limit.*0\.5", r"1 or more",
          main=voice_conversion.main),
    flags("pseudo_drop_one", ["--pseudo-drop", "1"], r"--pseudo-drop.*1", r"up to \(not including\) 1",
          main=text_summary.main),
    # TOML configs: the same types, choices and ranges, and errors that name the file and key.
    toml("toml_float_epochs", "epochs = 2.5\n", r"run\.toml: epochs = 2\.5", r"whole number.*epochs = 2"),
    toml("toml_string_for_int", 'epochs = "3"\n', r"epochs = '3'", r"without quotes"),
    toml("toml_choice_case", 'feature_norm = "Global"\n', r"feature_norm = 'Global'", r"one of 'global', 'utterance'",
         main=vqvae.main),
    toml("toml_limit_zero", "limit = 0\n", r"limit = 0", r"positive integer"),
    toml("toml_epochs_negative", "epochs = -3\n", r"epochs = -3", r"positive integer"),
    toml("toml_switch_not_bool", 'quick = "yes"\n', r"quick = 'yes'", r"true or false"),
    toml("toml_key_outside_flags", "limit = 100\n[flags]\nepochs = 1\n", r"limit would be ignored", r"under \[flags\]"),
    toml("toml_syntax_error", "epochs = \n", r"run\.toml: not valid TOML", r"fix the syntax"),
    toml("toml_unknown_key", "epochz = 1\n", r"unknown option.*epochz", r"known options: .*epochs"),
    # Run folders: never replaced unless keras_ae made them.
    Case("run_dir_is_cwd", cwd_run, UnsafePathError, r"is the current folder", r"new folder inside it"),
    Case("run_dir_is_home", home_run, UnsafePathError, r"is your home folder", r"new folder inside it"),
    Case("run_dir_is_parent_of_runs", parent_of_runs, UnsafePathError, r"holds other keras_ae folders \(first, second",
         r"folder inside it"),
    Case("run_dir_is_a_file", file_as("--run-dir"), UnsafePathError, r"results\.csv is a file", r"new folder"),
    Case("run_dir_is_foreign", foreign_as("--run-dir", "mine"), UnsafePathError, r"did not create.*paper\.pdf",
         r"new or empty folder"),
    Case("partial_is_foreign", foreign_as("--run-dir", "run.partial"), UnsafePathError,
         r"partial folder.*did not create", r"Move it away yourself"),
    Case("resume_finished_run", resume_finished, ResumeError, r"is a finished run \(2 epochs\)",
         r"--epochs larger than 2"),
    Case("resume_changed_flag", resume_changed, ResumeError, r"flags differ.*--embedding-dim 8 -> 16", r"Pass the run's values"),
    Case("run_dir_in_use", run_in_use, LockedError, r"in use by PID \d+", r"Wait for it|another path"),
    # Exports.
    Case("export_is_run_dir", export_paths("run", "run"), UnsafePathError, r"the same folder as", r"two separate"),
    Case("export_inside_run", export_paths("run", "run/model"), UnsafePathError, r"nested with", r"two separate"),
    Case("run_inside_export", export_paths("export/run", "export"), UnsafePathError, r"nested with", r"two separate"),
    Case("export_is_a_file", file_as("--export-dir"), UnsafePathError, r"results\.csv is a file", r"new folder"),
    Case("export_is_foreign", foreign_as("--export-dir", "models"), UnsafePathError, r"did not create.*paper\.pdf",
         r"new or empty folder"),
    Case("export_under_a_file", under_file, UnsafePathError, r"notes\.txt is a file", r"parents are folders"),
    Case("export_unwritable", lambda folder: (autoencoder.main, [*SMALL, *_runs(folder)[:2], "--export-dir",
         "/proc/keras_ae/model"]), UnsafePathError, r"cannot write in /proc", r"folder you can write to"),
    # Images.
    npz("images_nan", r"training split: 1 value\(s\) are NaN or infinite", r"remove or repair",
        x_train=_with_nan(), y_train=_labels(), x_test=_images(10), y_test=_labels(10)),
    npz("images_inf", r"training split: 1 value\(s\) are NaN or infinite", r"remove or repair",
        x_train=_with_inf(), y_train=_labels(), x_test=_images(10), y_test=_labels(10)),
    npz("images_split_shapes", r"different shapes \(train \(8, 8, 1\), test \(9, 9, 1\)\)", r"resize",
        x_train=_images(), y_train=_labels(), x_test=_images(10, 9), y_test=_labels(10)),
    npz("images_no_labels", r"train split has no labels", r"Give labels \(y_train", main=infomax.main,
        x_train=_images(), x_test=_images(10)),
    npz("images_out_of_range", r"float images must lie in \[0, 1\]", r"Divide by 255",
        x_train=_images() * 255, y_train=_labels(), x_test=_images(10), y_test=_labels(10)),
    npz("images_fewer_than_a_batch", r"Only \d+ images for a batch size of 32", r"lower --batch-size",
        x_train=_images(20), y_train=_labels(20), x_test=_images(10), y_test=_labels(10)),
    Case("idx_truncated", idx_truncated, ValueError, r"train-images-idx3-ubyte is truncated", r"download or extract"),
    Case("image_folder_mixed_sizes", mixed_sizes, ValueError, r"4\.png is \(9, 9\)", r"Resize"),
    # Text.
    Case("text_not_utf8", text_file(b"CHAPTER 1\n\nCaf\xe9 au lait.\n"), ValueError, r"book\.txt, line 3.*not UTF-8",
         r"iconv|--text-errors replace"),
    Case("text_empty", text_file(b""), ValueError, r"the corpus is empty", r"give ordered text"),
    Case("text_one_document", one_document, ValueError, r"from 1 document", r"more \.txt files"),
    # Audio.
    Case("manifest_bad_json_line", manifest(['{"path": "a.wav"}', '{"path": "b.wav",']), AudioError,
         r"audio\.jsonl, line 2: not valid JSON", r"each line must be an object"),
    Case("manifest_missing_file", manifest(['{"path": "a.wav"}', '{"path": "gone.wav"}']), AudioError,
         r"gone\.wav: no such audio file", r"fix the paths"),
    Case("manifest_row_without_path", manifest(['{"path": "a.wav"}', '{"speaker": "s1"}']), AudioError,
         r"line 2: the manifest row has no 'path'", r"give every row the path"),
    Case("speech_too_few_sentences", lambda folder: (vqvae.main, ["--data", "speech", "--quick", "--sentences", "4",
         *_runs(folder)]), ValueError, r"4 sentences hold out no validation sentence", r"--sentences 10"),
    Case("speech_all_speakers_held_out", lambda folder: (cpc.main, ["--quick", "--speakers", "2",
         "--held-out-speakers", "2", *_runs(folder)]), ValueError, r"held_out_speakers must be in \[0, 1\]",
         r"Hold out fewer speakers \(--held-out-speakers\)"),
    # Codes.
    Case("codebook_larger_than_data", lambda folder: (vqvae.main, [*SMALL, "--limit", "20", "--codebook-size", "4096",
         *_runs(folder)]), ValueError, r"4096 codes cannot be fitted", r"smaller codebook size or more data"),
    # Cluster configuration.
    Case("multi_worker_without_tf_config", tf_config(None), ValueError, r"needs the TF_CONFIG", r"index 1 on the second"),
    Case("tf_config_bad_index", tf_config('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", '
         '"index": 3}}'), ValueError, r"task index 3 is outside the 1 worker", r"give 0 to 0"),
    Case("tf_config_not_json", tf_config("{cluster"), ValueError, r"TF_CONFIG is not valid JSON", r"give e\.g\."),
]


def _snapshot(folder):
    state = {}
    for path in sorted(folder.rglob("*")):
        stat = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        state[str(path.relative_to(folder))] = (digest, stat.st_mtime_ns)
    return state


def test_there_are_enough_cases():
    assert len(CASES) >= 35 and len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_fails_before_any_work(case, tmp_path, tmp_path_factory, monkeypatch, capsys):
    global _HOLDER
    monkeypatch.setenv("KERAS_AE_HOME", str(tmp_path_factory.mktemp("home")))
    for name in ("HOME", "TF_CONFIG"):
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])  # restored after the case
        else:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "case"
    folder.mkdir()
    try:
        main, argv = case.make(folder)
        before = _snapshot(folder)
        with pytest.raises(case.error) as raised:
            main(argv)
    finally:
        if _HOLDER is not None:
            _HOLDER.kill()
            _HOLDER.wait()
            _HOLDER = None
    message = capsys.readouterr().err if case.error is SystemExit else str(raised.value)
    if case.error is SystemExit:
        assert raised.value.code == 2
    assert re.search(case.problem, message, re.S), message
    assert re.search(case.fix, message, re.S), message
    assert _snapshot(folder) == before  # nothing created, changed or deleted (run, .partial, export, user files)
