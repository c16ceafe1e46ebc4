"""Run folders, checkpoints, resume and exports under failure: every epoch once, fallbacks, atomic swaps, caches."""

import csv
import json
import os
import threading
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_ae import export as export_module
from keras_ae.core.files import EXPORT_MARKER, RUN_MARKER, STAGING_MARKER
from keras_ae.distribute import will_be_chief
from keras_ae.export import export_model
from keras_ae.models.autoencoder import AutoEncoder
from keras_ae.recipes import autoencoder
from keras_ae.runs import RunFolder, checkpoints, cut_history, read_history
from tests.helpers import reload_and_call

SMALL = ["--data", "digits", "--batch-size", "32", "--embedding-dim", "8", "--limit", "300", "--no-export"]


def _epochs(run_dir):
    with open(run_dir / "history.csv") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def _tensorboard_steps(run_dir):
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    steps = []
    for path in sorted((run_dir / "tensorboard" / "train").glob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = event_pb2.Event.FromString(record.numpy())
            steps += [event.step for value in event.summary.value if value.tag == "epoch_loss"]
    return sorted(steps)


class _Kill(keras.callbacks.Callback):
    """Stands for kill -9 at the end of epoch `epoch` (0-based), at its place in the callback list."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"simulated kill at the end of epoch {epoch}")


def _kill_before_checkpoint(monkeypatch, epoch):
    """The kill lands after history.csv and TensorBoard got the epoch's row, before its checkpoint is written."""
    original = RunFolder.callbacks
    monkeypatch.setattr(RunFolder, "callbacks", lambda self: [*original(self)[:-1], _Kill(epoch), original(self)[-1]])
    return original


def test_kill_between_history_row_and_checkpoint_keeps_every_epoch_once(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    argv = [*SMALL, "--epochs", "3", "--run-dir", str(run_dir)]
    original = _kill_before_checkpoint(monkeypatch, epoch=1)
    with pytest.raises(KeyboardInterrupt):
        autoencoder.main(argv)
    partial = tmp_path / "run.partial"
    assert _epochs(partial) == [0, 1] and [e for e, _ in checkpoints(partial / "checkpoint")] == [1]
    monkeypatch.setattr(RunFolder, "callbacks", original)
    metrics = autoencoder.main([*argv, "--resume"])
    assert _epochs(run_dir) == [0, 1, 2]
    assert _tensorboard_steps(run_dir) == [0, 1, 2]
    assert len(metrics["final_losses"]) and not partial.exists()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model_class"] == "keras_ae.models.autoencoder.AutoEncoder" and len(config["resumes"]) == 1
    assert json.loads((run_dir / RUN_MARKER).read_text())["state"] == "finished"


def test_corrupt_checkpoint_is_named_and_the_previous_one_used(tmp_path, monkeypatch, capsys):
    run_dir = tmp_path / "run"
    argv = [*SMALL, "--epochs", "3", "--run-dir", str(run_dir)]
    original = RunFolder.callbacks
    monkeypatch.setattr(RunFolder, "callbacks", lambda self: [*original(self), _Kill(1)])
    with pytest.raises(KeyboardInterrupt):
        autoencoder.main(argv)
    folder = tmp_path / "run.partial" / "checkpoint"
    newest = folder / "epoch-0002.weights.h5"
    newest.write_bytes(newest.read_bytes()[:1000])  # a disk fault: the newest checkpoint is cut short
    monkeypatch.setattr(RunFolder, "callbacks", original)
    autoencoder.main([*argv, "--resume"])
    out = capsys.readouterr().out
    assert f"Checkpoint {newest} is corrupt" in out and "after epoch 1" in out
    assert (run_dir / "checkpoint" / "epoch-0002.weights.h5.corrupt").exists()
    assert _epochs(run_dir) == [0, 1, 2]


@pytest.mark.slow  # two recipe runs, an export and two reloads: about two minutes on a busy machine
def test_finished_run_continues_with_more_epochs_and_exports_later(tmp_path):
    run_dir, export_dir = tmp_path / "run", tmp_path / "export"
    argv = [*SMALL[:-1], "--epochs", "1", "--run-dir", str(run_dir), "--export-dir", str(export_dir)]
    autoencoder.main(argv)
    (tmp_path / "notes.txt").write_text("the user's")
    autoencoder.main([*argv, "--epochs", "2", "--resume"])
    assert _epochs(run_dir) == [0, 1] and not (tmp_path / "run.partial").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "notes.txt", "run"]  # nothing stranded
    later = export_module.main([str(run_dir), "--export-dir", str(tmp_path / "later")])
    images = np.random.default_rng(0).uniform(size=(4, 8, 8, 1)).astype("float32")
    (first,), _ = reload_and_call(export_dir, "encode", [images])
    (second,), _ = reload_and_call(later, "encode", [images])
    np.testing.assert_allclose(first, second, atol=1e-6)


def test_export_command_exports_the_checkpoint_of_a_run(tmp_path):
    images = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    model = AutoEncoder(image_shape=(8, 8, 1), embedding_dim=4)
    model.compile(optimizer="adam")
    with RunFolder(tmp_path / "run", flags={"export_dir": str(tmp_path / "default")}) as run:
        run.write_config(model)
        run.fit(model, images, batch_size=16, epochs=2, verbose=0)
    export_module.main([str(tmp_path / "run")])
    (encoded,), _ = reload_and_call(tmp_path / "default", "encode", [images[:5]])
    np.testing.assert_allclose(encoded, model.encode(images[:5]), atol=1e-5)
    with pytest.raises(ValueError, match="not a keras_ae run folder"):
        export_module.main([str(tmp_path / "default")])


def test_export_swap_is_atomic_and_only_our_leftovers_are_removed(tmp_path):
    model = AutoEncoder(image_shape=(8, 8, 1), embedding_dim=4)
    destination = tmp_path / "model"
    export_model(model, destination)
    ours = tmp_path / "model.tmp-killed"
    ours.mkdir()
    (ours / STAGING_MARKER).write_text("123")
    (ours / "saved_model.pb").write_bytes(b"half")
    foreign = tmp_path / "model.tmp-mine"
    foreign.mkdir()
    (foreign / "data.txt").write_text("the user's")
    seen, stop = [], threading.Event()

    def poll():
        while not stop.is_set():
            names = set(os.listdir(destination)) if destination.exists() else set()
            seen.append(names >= {EXPORT_MARKER, "saved_model.pb", "variables"} and STAGING_MARKER not in names)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for _ in range(2):
            export_model(model, destination)
    finally:
        stop.set()
        reader.join()
    assert len(seen) > 10 and all(seen)  # never missing, never half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "model.tmp-mine"]
    assert (foreign / "data.txt").read_text() == "the user's"


def test_history_cut_drops_later_epochs_and_a_torn_line(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n0,1.0\n1,0.5\n2,0.25\n3,0.2")
    cut_history(path, 2)
    assert path.read_text() == "epoch,loss\n0,1.0\n1,0.5\n"
    assert read_history(path) == {"loss": [1.0, 0.5]}


def test_tf_config_counts_only_under_multi_worker(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps(
        {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 1}}
    ))
    assert will_be_chief("default") and will_be_chief("mirrored")
    assert not will_be_chief("multi_worker")


def test_damaged_speech_cache_is_found_and_rebuilt(tmp_path, capsys):
    from keras_ae.data.speech import load_speech_corpus

    options = dict(num_speakers=2, num_sentences=3, held_out_speakers=0, validation_sentences=0, test_sentences=0,
                   root=tmp_path, progress=False)
    corpus = load_speech_corpus(**options)
    folder = Path(corpus.root)
    os.remove(corpus.paths[0])
    with open(corpus.paths[1], "r+b") as file:
        file.truncate(2000)
    rebuilt = load_speech_corpus(**options)
    assert len(rebuilt) == len(corpus) and all(len(w) > 16000 for w in rebuilt.waveforms)
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no staging folder left
    capsys.readouterr()
    again = load_speech_corpus(**options)  # the rebuilt cache is whole: reused as it is
    assert "damaged" not in capsys.readouterr().out
    np.testing.assert_array_equal(again.waveforms[1], rebuilt.waveforms[1])


def test_resume_after_the_last_epoch_trains_nothing_and_keeps_the_history(tmp_path):
    images = np.random.default_rng(0).uniform(size=(32, 8, 8, 1)).astype("float32")

    def train(resume, callbacks=()):
        model = AutoEncoder(image_shape=(8, 8, 1), embedding_dim=4)
        model.compile(optimizer="adam")
        with RunFolder(tmp_path / "run", resume=resume, flags={"epochs": 2}) as run:
            run.write_config(model)
            return run, run.fit(model, images, batch_size=16, epochs=2, verbose=0, callbacks=list(callbacks))

    with pytest.raises(KeyboardInterrupt):  # killed after the last epoch's checkpoint, before the run finished
        train(False, [_Kill(1)])
    run, history = train(True)
    assert run.restored_epoch == 2 and history.epochs_run == []
    assert len(history.history["loss"]) == 2 and _epochs(tmp_path / "run") == [0, 1]


class _AddsMetric(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs["val_extra"] = float(epoch)


def test_metric_callbacks_reach_the_history_and_other_callbacks_see_the_checkpoint(tmp_path):
    images = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype("float32")
    model = AutoEncoder(image_shape=(8, 8, 1), embedding_dim=4)
    model.compile(optimizer="adam")
    with RunFolder(tmp_path / "run", flags={"epochs": 2}) as run:
        history = run.fit(model, images, batch_size=16, epochs=2, verbose=0, metric_callbacks=[_AddsMetric()])
    assert history.history["val_extra"] == [0.0, 1.0]
    assert "val_extra" in (tmp_path / "run" / "history.csv").read_text().splitlines()[0]
