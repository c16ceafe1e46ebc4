"""Run folders that survive kill -9 at any instant and never replace what keras_ae did not make.

A run folder is built at `<run_dir>.partial` and moved into place when the run finishes:

    run = RunFolder.for_flags(args)         # before any work: refuses unsafe folders and changed flags, locks
    ...                                     # load and check data, build the model
    with run:                               # creates (or continues) <run_dir>.partial
        run.write_config(model)
        history = run.fit(model, train, epochs=args.epochs, validation_data=validation)
        run.write_json("metrics.json", metrics)
        export_run(model, args.export_dir, metrics)   # inside: a kill during the export is resumed like any other
    # here <run_dir> is the finished run; history.history holds every epoch, also those before a --resume

Guarantees:
- Only folders carrying `keras_ae_run.json` are ever replaced or deleted (see `keras_ae.core.files`).
- Each epoch ends with a checkpoint written to a temporary file and renamed into place (the last two are kept),
  so a kill at any instant leaves the last finished epoch loadable. `--resume` restores the newest checkpoint
  that loads (a corrupt one is named, set aside as `*.corrupt` and the previous one used) and cuts
  `history.csv` and the TensorBoard logs back to the restored epoch, so every epoch appears exactly once.
- `--resume` refuses flags that differ from the run's `config.json` (they would change the model or its data),
  except those in `MAY_CHANGE`, which it records. On a finished run it says so; a larger `--epochs` continues it.
- The run folder (and the export destination) are locked while the run lives; a second process is told the PID.
- Multi-worker: only the chief writes the run folder; every worker restores the chief's checkpoint (they check
  that they restored the same epoch), and a dead peer makes the others raise `WorkerLostError`.
"""

import csv
import io
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from keras_ae.core.files import (
    EXPORT_MARKER,
    RUN_MARKER,
    STAGING_MARKER,
    UnsafePathError,
    absolute,
    acquire_lock,
    atomic_write_bytes,
    atomic_write_text,
    check_not_nested,
    check_replaceable,
    check_writable,
    commit_file,
    make_staging,
    release_lock,
    remove_stale,
    remove_tree,
)
from keras_ae.distribute import is_chief, will_be_chief

# Flags that may differ on --resume: how long to train, where and whether to export, how to run, what to report.
MAY_CHANGE = frozenset({
    "epochs", "resume", "config", "quick", "export", "export_dir", "run_dir", "strategy", "jit_compile",
    "baselines", "compare", "patience", "minutes",
})
CHECKPOINT_FOLDER = "checkpoint"
KEEP_CHECKPOINTS = 2
_CHECKPOINT = re.compile(r"^epoch-(\d+)\.weights\.h5$")


class ResumeError(ValueError):
    """`--resume` cannot continue this run; the message says why and what to do."""


class CheckpointError(RuntimeError):
    """No checkpoint of the run can be loaded."""


class WorkerLostError(RuntimeError):
    """Another worker of a multi-worker run died; this one stops too instead of waiting forever."""


def _lost_worker(error):
    """Whether `error` is TensorFlow aborting the collectives because a peer worker stopped answering."""
    import tensorflow as tf

    text = str(error)
    return isinstance(error, tf.errors.OpError) and (
        isinstance(error, (tf.errors.UnavailableError, tf.errors.DeadlineExceededError))
        or "heartbeat timeout" in text or "Collective ops is aborted" in text
    )


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _read_json(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def checkpoints(folder):
    """`[(epoch, path), ...]` of the finished checkpoints in `folder`, newest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _CHECKPOINT.match(p.name))]
    return sorted(found, reverse=True)


def read_history(path):
    """`{metric: [value per epoch]}` from a `history.csv` (rows in epoch order, a torn last line dropped)."""
    path = Path(path)
    if not path.is_file():
        return {}
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    history = {}
    for row in rows:
        if None in row or any(value is None for value in row.values()):
            continue
        for key, value in row.items():
            if key != "epoch":
                history.setdefault(key, []).append(_float(value))
    return history


def _float(text):
    try:
        return float(text)
    except ValueError:  # CSVLogger writes "NA" for a metric an epoch did not report
        return float("nan")


def cut_history(path, epochs):
    """Keeps the header and the rows of epochs `< epochs` of a `history.csv` (and drops a torn last line)."""
    path = Path(path)
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines:
        return
    header = next(csv.reader([lines[0]]))
    kept = [lines[0]]
    for line in lines[1:]:
        fields = next(csv.reader([line]), [])
        if not line.endswith("\n") or len(fields) != len(header):
            continue
        try:
            epoch = int(fields[header.index("epoch")])
        except ValueError:
            continue
        if epoch < epochs:
            kept.append(line)
    if kept != lines:
        atomic_write_text(path, "".join(kept))


def cut_tensorboard(folder, epochs):
    """Drops the summaries of epochs `>= epochs` (and a record torn by a kill) from the event files in `folder`."""
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    for path in sorted(Path(folder).rglob("events.out.tfevents.*")):
        kept, changed = [], False
        try:
            for record in tf.data.TFRecordDataset(str(path)):
                data = record.numpy()
                event = event_pb2.Event.FromString(data)
                if event.HasField("summary") and event.step >= epochs:
                    changed = True
                    continue
                kept.append(data)
        except tf.errors.DataLossError:
            changed = True
        if changed:
            staging = path.with_name(".keras_ae-cut.tmp")  # no "tfevents" in the name: TensorBoard skips it
            with tf.io.TFRecordWriter(str(staging)) as writer:
                for data in kept:
                    writer.write(data)
            commit_file(staging, path)


class _Restore(keras.callbacks.Callback):
    """First callback of a resumed run: loads the newest checkpoint that loads, cuts the logs back to it."""

    def __init__(self, run):
        super().__init__()
        self.run = run

    def on_train_begin(self, logs=None):
        folder = self.run.restore_folder
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        failures = []
        for epoch, path in checkpoints(folder):
            try:
                self.model.load_weights(path)
            except Exception as error:  # h5py / Keras raise several types for a damaged file
                reason = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
                failures.append(f"{path} ({reason})")
                print(f"Checkpoint {path} is corrupt ({reason}); falling back to the previous one.")
                if self.run.chief:
                    os.replace(path, path.with_name(path.name + ".corrupt"))
                continue
            _check_workers_agree(self.model.distribute_strategy, epoch, folder)
            self.model._initial_epoch = epoch
            self.run.restored_epoch = epoch
            if self.run.chief:
                cut_history(self.run.file("history.csv"), epoch)
                cut_tensorboard(self.run.file("tensorboard"), epoch)
            print(f"Resuming {self.run.final_path} after epoch {epoch} (checkpoint {path.name}).")
            return
        raise CheckpointError(
            f"No loadable checkpoint in {folder}: {'; '.join(failures) or 'none was written'}. Start the run again "
            "without --resume (the partial folder is then replaced)."
        )


def _check_workers_agree(strategy, epoch, folder):
    """Under MultiWorkerMirroredStrategy, raises unless every worker restored the same epoch (one all-reduce of the
    epoch and its square: their spread is 0 only when all agree, and every worker sees the same verdict)."""
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    local = tf.constant([float(epoch), float(epoch) ** 2], tf.float64)
    mean, square = strategy.reduce(
        tf.distribute.ReduceOp.MEAN, strategy.run(lambda: tf.identity(local)), axis=None
    ).numpy()
    if square - mean * mean > 1e-6:
        raise CheckpointError(
            f"The workers restored different checkpoints (this one epoch {epoch} from {folder}, the cluster's mean "
            f"{mean:g}): every worker must read the chief's checkpoint folder. Put the run folder on storage all "
            "workers share, then restart every worker with --resume."
        )


class _Checkpoint(keras.callbacks.Callback):
    """Last callback of every run: after each epoch, weights and optimizer state to a temporary file, renamed."""

    def __init__(self, folder, keep=KEEP_CHECKPOINTS):
        super().__init__()
        self.folder, self.keep = Path(folder), keep

    def on_epoch_end(self, epoch, logs=None):
        self.folder.mkdir(exist_ok=True)
        name = f"epoch-{epoch + 1:04d}.weights.h5"
        staging = self.folder / f".tmp-{name}"
        try:
            self.model.save_weights(str(staging), overwrite=True)
            commit_file(staging, self.folder / name)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise
        for _, old in checkpoints(self.folder)[self.keep :]:
            old.unlink()


class TimeBudget(keras.callbacks.Callback):
    """Stops `run.fit` once `minutes` of wall-clock training (validation included, summed over the run's
    `--resume`s) are spent. The epoch in progress ends at that step, so its checkpoint is written like any other.
    Each epoch's wall-clock seconds, the process's CPU seconds (all threads: what the epoch cost, whatever the
    machine's load) and the 1-minute load average at its end go to the run's `budget.json`, which a resume cuts
    back to the restored epoch.

    Example:
        budget = TimeBudget(run, minutes=10)
        run.fit(model, train, epochs=1000, steps_per_epoch=200, callbacks=[budget])
        budget.spent, budget.cpu_spent, budget.load  # 600.3 s, 1043.9 CPU-s, [9.8, 10.4, ...]
    """

    def __init__(self, run, minutes):
        super().__init__()
        self.run, self.minutes = run, minutes
        self.seconds, self.cpu_seconds, self.load = [], [], []

    @property
    def spent(self):
        """Training seconds of the run so far (finished epochs)."""
        return float(sum(self.seconds))

    @property
    def cpu_spent(self):
        """The process's CPU seconds in the run's training so far (finished epochs)."""
        return float(sum(self.cpu_seconds))

    def on_train_begin(self, logs=None):
        saved = (_read_json(self.run.file("budget.json")) or {}) if self.run.resuming else {}
        restored = self.run.restored_epoch

        def cut(values):
            # An epoch whose checkpoint was written but not its seconds (a kill in between) counts as an average one.
            fill = float(np.mean(values)) if values else 0.0
            return (list(values) + [fill] * restored)[:restored]

        self.seconds = cut(saved.get("seconds", []))
        self.cpu_seconds = cut(saved.get("cpu_seconds", []))  # budgets written before it was recorded: 0 each
        self.load = list(saved.get("load", []))[:restored]

    def on_epoch_begin(self, epoch, logs=None):
        self.started, self.started_cpu = time.perf_counter(), time.process_time()

    def on_train_batch_end(self, batch, logs=None):
        if self.spent + time.perf_counter() - self.started >= 60.0 * self.minutes:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)
        self.cpu_seconds.append(time.process_time() - self.started_cpu)
        self.load.append(round(os.getloadavg()[0], 2))
        if self.run.chief:
            self.run.write_json("budget.json", {"minutes": self.minutes, "seconds": self.seconds,
                                                "cpu_seconds": self.cpu_seconds, "load": self.load})
        if self.spent >= 60.0 * self.minutes:
            self.model.stop_training = True


BEST_WEIGHTS = "best.weights.npz"


class BestWeights(keras.callbacks.EarlyStopping):
    """Keras' `EarlyStopping(restore_best_weights=True)` for a run folder: stops after `patience` epochs without a
    lower `monitor` (the validation loss, measured at every epoch end; `mode="max"`: a higher one, e.g. a score a
    callback before this one adds to the epoch's logs), and when training ends, also by the
    `TimeBudget` or `--epochs`, puts back the weights of the best epoch. The best weights are also kept in the run
    folder (`best.weights.npz`, written atomically), so a `--resume` continues the comparison with the best epoch of
    the whole run, not only of its resumed part. `best_step` is the training step whose weights were kept.

    Example:
        best = BestWeights(run, patience=3)
        run.fit(model, train, validation_data=validation, epochs=100, steps_per_epoch=200, callbacks=[best])
        best.best_epoch + 1, best.best_step, best.best  # 4, 800, 2.31 (the epoch, step and val_loss kept)
    """

    def __init__(self, run, patience, monitor="val_loss", mode="min"):
        super().__init__(monitor=monitor, patience=patience, mode=mode, restore_best_weights=True)
        self.run = run
        self.best_step = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best_step = None
        saved = self.run.file(BEST_WEIGHTS)
        if not self.run.resuming or not saved.is_file():
            return
        with np.load(saved) as data:
            epoch = int(data["epoch"])
            if epoch > self.run.restored_epoch:  # a later epoch than the checkpoint restored (a corrupt newest one)
                return
            self.best_weights = [data[f"weight_{i}"] for i in range(int(data["count"]))]
            self.best, self.best_step = float(data["value"]), int(data["step"])
        self.best_epoch, self.wait = epoch - 1, self.run.restored_epoch - epoch

    def on_epoch_end(self, epoch, logs=None):
        previous = self.best_epoch if self.best_weights is not None else None
        super().on_epoch_end(epoch, logs)
        if self.best_weights is None or self.best_epoch == previous:
            return
        self.best_step = int(self.model.optimizer.iterations.numpy())
        if self.run.chief:
            saved = io.BytesIO()
            np.savez(saved, epoch=epoch + 1, step=self.best_step, value=self.best, count=len(self.best_weights),
                     **{f"weight_{i}": weight for i, weight in enumerate(self.best_weights)})
            atomic_write_bytes(self.run.file(BEST_WEIGHTS), saved.getvalue())


class RunFolder:
    """A run folder built at `<run_dir>.partial` and moved into place when the run finishes (see module doc).

    Args:
        run_dir: the finished run's folder.
        resume: continue the interrupted (or, with a larger `epochs` flag, the finished) run.
        flags: the run's flags (`vars(args)`), recorded in `config.json` and compared on `resume`.
        export_dir: where the run will export (checked and locked now, so training never starts for nothing).
    """

    def __init__(self, run_dir, resume=False, flags=None, export_dir=None, flag="--run-dir", chief=None):
        self._locks = []
        self.final_path = absolute(run_dir)
        self.partial_path = self.final_path.with_name(self.final_path.name + ".partial")
        self.flags = _jsonable(dict(flags or {}))
        self.export_path = None if export_dir is None else absolute(export_dir)
        self.chief = is_chief() if chief is None else chief
        self.resuming = False
        self.restored_epoch = 0
        self._continue_finished = False
        self._previous_config = None
        self._changes = {}
        check_replaceable(self.final_path, RUN_MARKER, flag, "run folder")
        check_replaceable(self.partial_path, RUN_MARKER, f"The partial folder of {flag}", "run folder",
                          fix=f"Move it away yourself (keras_ae builds the run there), or give a new or empty "
                              f"{flag}.")
        check_writable(self.final_path.parent, flag)
        if self.export_path is not None:
            check_replaceable(self.export_path, EXPORT_MARKER, "--export-dir", "export folder")
            check_writable(self.export_path, "--export-dir")
            check_not_nested(self.final_path, self.export_path, flag, "--export-dir")
            check_not_nested(self.partial_path, self.export_path, f"{flag} (its partial folder)", "--export-dir")
        try:
            if self.chief:
                self._lock(self.final_path, "run folder")
                if self.export_path is not None:
                    self._lock(self.export_path, "export destination")
                self._recover()
            if resume:
                self._prepare_resume()
        except BaseException:
            self._unlock()
            raise
        self.path = self.partial_path if self.chief else None
        self.restore_folder = self._restore_source()

    @classmethod
    def for_flags(cls, args):
        """The run folder of a recipe's parsed flags (`--run-dir`, `--resume`, `--export-dir` unless `--no-export`)."""
        export = getattr(args, "export", False)
        return cls(args.run_dir, resume=args.resume, flags=vars(args), export_dir=args.export_dir if export else None,
                   chief=will_be_chief(getattr(args, "strategy", "default")))

    # ------------------------------------------------------------------------------------------------------------
    # Before any work

    def _lock(self, path, what):
        acquire_lock(path, what)
        self._locks.append(path)

    def _unlock(self):
        while self._locks:
            release_lock(self._locks.pop())

    def __del__(self):  # a run abandoned before `with` (e.g. its data failed the checks) frees its folders
        self._unlock()

    def _recover(self):
        """Finishes what a killed process left half-done: publishes a finished partial folder, removes leftovers."""
        marker = _read_json(self.partial_path / RUN_MARKER)
        if marker and marker.get("state") == "finished":
            print(f"Publishing the finished run left at {self.partial_path}.")
            self._publish()
        remove_stale(self.final_path, [RUN_MARKER])
        remove_stale(self.partial_path, [RUN_MARKER])
        if self.export_path is not None:
            remove_stale(self.export_path, [EXPORT_MARKER])

    def _prepare_resume(self):
        partial_epochs = checkpoints(self.partial_path / CHECKPOINT_FOLDER)
        if partial_epochs:
            self._check_flags(self.partial_path / "config.json")
            self.resuming = True
            return
        final_epochs = checkpoints(self.final_path / CHECKPOINT_FOLDER)
        marker = _read_json(self.final_path / RUN_MARKER) or {}
        if marker.get("state") == "finished" and final_epochs:
            done = final_epochs[0][0]
            self._check_flags(self.final_path / "config.json")
            requested = self.flags.get("epochs")
            if not isinstance(requested, int) or requested <= done:
                raise ResumeError(
                    f"--resume: {self.final_path} is a finished run ({done} epochs); there is nothing to resume. To "
                    f"train it further, pass --epochs larger than {done} with --resume; to start over, drop --resume "
                    "(the finished run is then replaced when the new one finishes) or give another --run-dir."
                )
            self._continue_finished = True
            self.resuming = True
            return
        print(f"Nothing to resume at {self.partial_path}: starting a new run.")

    def _check_flags(self, config_path):
        previous = _read_json(config_path)
        if not previous or "flags" not in previous:
            return
        old, new = previous["flags"], self.flags
        keys = sorted(set(old) | set(new))
        changed = [key for key in keys if key not in MAY_CHANGE and old.get(key) != new.get(key)]
        if changed:
            listed = ", ".join(f"--{key.replace('_', '-')} {old.get(key)!r} -> {new.get(key)!r}" for key in changed)
            raise ResumeError(
                f"--resume: flags differ from the run being resumed ({config_path}): {listed}. A changed flag would "
                "change the model or its data, so the checkpoint cannot continue it. Pass the run's values again, "
                "or start a new run (drop --resume, or give another --run-dir). Flags that may change on --resume: "
                + ", ".join(f"--{key.replace('_', '-')}" for key in sorted(MAY_CHANGE - {"run_dir", "resume"}))
                + "."
            )
        self._previous_config = previous
        self._changes = {key: [old.get(key), new.get(key)] for key in keys if old.get(key) != new.get(key)}

    def _restore_source(self):
        if not self.resuming:
            return None
        if self.chief or checkpoints(self.partial_path / CHECKPOINT_FOLDER):
            return self.partial_path / CHECKPOINT_FOLDER
        return self.final_path / CHECKPOINT_FOLDER

    # ------------------------------------------------------------------------------------------------------------
    # The run

    def __enter__(self):
        if not self.chief:  # other workers write their logs to a scratch folder, read the chief's checkpoint
            self.path = Path(tempfile.mkdtemp(prefix="keras_ae-worker-run-"))
            return self
        if self._continue_finished or not self.resuming:
            if self.partial_path.exists():
                if not self._continue_finished:
                    print(f"Discarding the interrupted run at {self.partial_path} (pass --resume to continue one).")
                remove_tree(self.partial_path)
            # Built aside and renamed into place, so a kill never leaves a partial folder without its marker.
            staging = make_staging(self.partial_path)
            if self._continue_finished:
                shutil.copytree(self.final_path, staging, dirs_exist_ok=True)
                print(f"Continuing the finished run {self.final_path} up to epoch {self.flags.get('epochs')}.")
            self._write_marker(staging, "running", atomic=False)
            (staging / STAGING_MARKER).unlink()
            os.replace(staging, self.partial_path)
        return self

    def __exit__(self, exc_type, exc, traceback):
        try:
            if not self.chief:
                shutil.rmtree(self.path, ignore_errors=True)
            elif exc_type is not None:
                print(f"Run stopped; its partial folder is {self.partial_path} (continue it with --resume).")
            else:
                self._write_marker(self.partial_path, "finished")
                self._publish()
                self.path = self.final_path
        finally:
            self._unlock()
        if exc_type is not None and _lost_worker(exc):
            reason = str(exc).strip().splitlines()[0][:300]
            raise WorkerLostError(
                f"Another worker of the cluster stopped ({reason}). This worker stops too rather than wait forever. "
                f"Restart every worker with --resume: all of them continue from the chief's last checkpoint in "
                f"{self.partial_path / CHECKPOINT_FOLDER}."
            ) from exc
        return False

    def _write_marker(self, folder, state, atomic=True):
        """The marker (its presence makes the folder ours; `state` is "running" or "finished"). In a staging folder
        it is written in place: even a torn marker file still marks the folder as ours."""
        marker = {"keras_ae": _version(), "state": state, "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                  "pid": os.getpid()}
        text = json.dumps(marker, indent=2)
        if atomic:
            atomic_write_text(Path(folder) / RUN_MARKER, text)
        else:
            (Path(folder) / RUN_MARKER).write_text(text)

    def _publish(self):
        """Moves the finished partial folder to the run folder: two renames, recoverable after a kill in between
        (the partial folder is marked finished, so the next run publishes it)."""
        check_replaceable(self.final_path, RUN_MARKER, "--run-dir", "run folder")
        if self.final_path.exists():
            retired = make_staging(self.final_path, kind="old")
            os.replace(self.final_path, retired / self.final_path.name)
            os.replace(self.partial_path, self.final_path)
            remove_tree(retired)
        else:
            os.replace(self.partial_path, self.final_path)

    def file(self, name):
        """Path of a file inside the run folder."""
        return self.path / name

    def write_json(self, name, value):
        """Writes `value` as JSON to `name` atomically."""
        atomic_write_text(self.file(name), json.dumps(value, indent=2, default=_json_default))

    def write_config(self, model=None, **extra):
        """Writes `config.json`: the flags, the model's class and config, and what changed at each `--resume`."""
        config = {"flags": self.flags}
        if model is not None:
            config["model_class"] = f"{type(model).__module__}.{type(model).__name__}"
            config["model"] = model.get_config()
        config.update(extra)
        resumes = list((self._previous_config or {}).get("resumes", []))
        if self._previous_config is not None:
            resumes.append({"changed": self._changes, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        if resumes:
            config["resumes"] = resumes
        self.write_json("config.json", config)

    def callbacks(self):
        """Restore (on resume), TensorBoard logs, `history.csv`, and the per-epoch checkpoint, in that order."""
        checkpoint_folder = self.file(CHECKPOINT_FOLDER) if self.chief else self.path / CHECKPOINT_FOLDER
        callbacks = [
            keras.callbacks.TensorBoard(log_dir=str(self.file("tensorboard"))),
            keras.callbacks.CSVLogger(str(self.file("history.csv")), append=self.resuming),
        ]
        if self.resuming:
            callbacks.insert(0, _Restore(self))
        if self.chief:
            callbacks.append(_Checkpoint(checkpoint_folder))
        return callbacks

    def fit(self, model, x=None, callbacks=(), metric_callbacks=(), **kwargs):
        """`model.fit` with the run's callbacks, then `callbacks` (they see each epoch checkpointed).
        `metric_callbacks` add metrics to an epoch's logs: they run before the run's TensorBoard, history.csv and
        checkpoint callbacks, so what they add is logged. `history.history` holds every epoch of the run, also
        those trained before a `--resume` (`history.epochs_run`: the epochs this call trained)."""
        own = self.callbacks()
        first = [callback for callback in own if isinstance(callback, _Restore)]
        logging = [callback for callback in own if not isinstance(callback, _Restore)]
        history = model.fit(x, callbacks=[*first, *metric_callbacks, *logging, *callbacks], **kwargs)
        history.epochs_run = list(history.epoch)  # the epochs this call trained
        complete = self.history()
        if complete:
            history.history = complete
            history.epoch = list(range(len(next(iter(complete.values())))))
        return history

    def history(self):
        """`{metric: [value per epoch]}` of every epoch of the run so far (from `history.csv`)."""
        return read_history(self.file("history.csv"))


def export_run_folder(run_dir, export_dir=None):
    """Exports the newest loadable checkpoint of a run folder (finished, or the partial folder of an interrupted
    run) as a SavedModel; `export_dir` defaults to the run's `--export-dir`. Returns the export path."""
    from keras_ae.export import export_model

    given = absolute(run_dir)
    folder = given if (given / RUN_MARKER).is_file() else given.with_name(given.name + ".partial")
    if not (folder / RUN_MARKER).is_file():
        raise UnsafePathError(f"{given} is not a keras_ae run folder (no {RUN_MARKER}); give the --run-dir of a run.")
    config = _read_json(folder / "config.json") or {}
    if "model_class" not in config:
        raise ValueError(f"{folder / 'config.json'} does not name the model class; the run is too old or was stopped "
                         "before training started. Train it again.")
    destination = export_dir or config["flags"].get("export_dir")
    if not destination:
        raise ValueError(f"{folder} records no export folder; pass --export-dir.")
    check_not_nested(folder, destination, "RUN_DIR", "--export-dir")
    module_name, class_name = config["model_class"].rsplit(".", 1)
    import importlib

    model = getattr(importlib.import_module(module_name), class_name).from_config(config["model"])
    failures = []
    for epoch, path in checkpoints(folder / CHECKPOINT_FOLDER):
        try:
            model.load_weights(path, skip_mismatch=False)
        except Exception as error:
            failures.append(f"{path} ({type(error).__name__})")
            continue
        metrics = _read_json(folder / "metrics.json") or {}
        print(f"Exporting {folder} at epoch {epoch} to {destination}.")
        return export_model(model, destination, metrics=metrics, flags=config["flags"])
    raise CheckpointError(f"No loadable checkpoint in {folder / CHECKPOINT_FOLDER}: {'; '.join(failures) or 'none'}.")


def _version():
    from keras_ae import __version__

    return __version__


def _json_default(value):
    if hasattr(value, "item"):
        return value.item()
    return str(value)
