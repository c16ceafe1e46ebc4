"""Fault injection: kill a quick recipe with SIGKILL at seeded random instants, resume it, count what was lost.

    python benchmarks/fault_injection.py [--kills 20] [--seed 0] [--workdir DIR]

Each kill runs the autoencoder recipe on scikit-learn's digits (3 epochs) in a fresh process whose hooks start a
timer at an event of a phase (data preparation, a random batch of a random epoch, the checkpoint save of a random
epoch, evaluation, export) and SIGKILL the process after a seeded random delay, so the kill lands at a random
instant in or after that phase. The run is then resumed with `--resume` to the end. While both processes run, a
reader polls the export destination (which holds an earlier export, so the swap replaces one). Printed:

    kills, runs that resumed (finished with every epoch exactly once and a whole export), finished epochs lost
    (epochs whose checkpoint was written before the kill but were trained again), duplicate history rows, partial
    exports ever seen by the reader, user files deleted (files beside the run and export), stranded temp folders.

Target: every kill resumed and zeros everywhere else.
"""

import argparse
import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PHASES = ("data", "mid_epoch", "checkpoint", "evaluation", "export")
EPOCHS = 3
RECIPE = ["--data", "digits", "--epochs", str(EPOCHS), "--batch-size", "32", "--embedding-dim", "8", "--limit", "300"]
WHOLE_EXPORT = ("keras_ae.json", "saved_model.pb", "variables")


def _child(phase, parameter, delay, events, argv):
    """Runs the recipe with the kill hook of `phase` armed (this process is the one killed)."""
    import keras

    from keras_ae import export
    from keras_ae.recipes import autoencoder, image_recipe
    from keras_ae.runs import RunFolder, _Checkpoint

    def arm():
        if delay <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
        timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL))
        timer.daemon = True  # a delay longer than the rest of the run: no kill (counted as such)
        timer.start()

    def at_start(function):
        def wrapped(*args, **kwargs):
            arm()
            return function(*args, **kwargs)

        return wrapped

    class Events(keras.callbacks.Callback):
        """Logs each finished epoch (it runs after the checkpoint callback) and arms the mid-epoch kill."""

        def on_train_batch_begin(self, batch, logs=None):
            if phase == "mid_epoch" and (self.epoch, batch) == parameter:
                arm()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            with open(events, "a") as file:
                file.write(f"epoch_done {epoch + 1}\n")
                file.flush()
                os.fsync(file.fileno())

    callbacks = RunFolder.callbacks
    RunFolder.callbacks = lambda self: [*callbacks(self), Events()]  # last: logs an epoch after its checkpoint
    save = _Checkpoint.on_epoch_end
    if phase == "checkpoint":
        def saving(self, epoch, logs=None):
            if epoch == parameter:
                arm()
            return save(self, epoch, logs)

        _Checkpoint.on_epoch_end = saving
    if phase == "data":
        image_recipe.load_images = at_start(image_recipe.load_images)
    if phase == "evaluation":
        image_recipe.image_probe_table = at_start(image_recipe.image_probe_table)
    if phase == "export":
        export._write_export = at_start(export._write_export)
    autoencoder.main(argv)


def _events(path):
    if not path.exists():
        return 0
    return max([int(line.split()[1]) for line in path.read_text().splitlines() if line.startswith("epoch_done")] or [0])


def _snapshot_user_files(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and "user" in p.parts}


class Reader(threading.Thread):
    """Polls an export destination; counts the times it is missing or not whole (a partial export)."""

    def __init__(self, destination):
        super().__init__(daemon=True)
        self.destination, self.partial, self.polls, self.stopping = destination, 0, 0, threading.Event()

    def run(self):
        while not self.stopping.is_set():
            names = set(os.listdir(self.destination)) if self.destination.exists() else set()
            self.polls += 1
            if not set(WHOLE_EXPORT) <= names or ".keras_ae-staging" in names:
                self.partial += 1
            time.sleep(0.002)


def _run(argv, env, timeout=900):
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def trial(index, phase, rng, workdir, env, template_export):
    folder = workdir / f"trial-{index:02d}"
    (folder / "user").mkdir(parents=True)
    (folder / "user" / "notes.txt").write_text(f"the user's notes {index}")
    (folder / "user" / "data.csv").write_text("a,b\n1,2\n")
    run_dir, export_dir, events = folder / "run", folder / "export", folder / "events.log"
    subprocess.run(["cp", "-a", str(template_export), str(export_dir)], check=True)
    parameter, delay = {
        "data": (None, rng.uniform(0.0, 1.0)),
        "mid_epoch": ((rng.randrange(EPOCHS), rng.randrange(8)), rng.uniform(0.0, 0.05)),
        "checkpoint": (rng.randrange(EPOCHS), rng.uniform(0.0, 0.03)),
        "evaluation": (None, rng.uniform(0.0, 1.0)),
        "export": (None, rng.uniform(0.0, 2.0)),
    }[phase]
    user_files = _snapshot_user_files(folder)
    argv = [*RECIPE, "--run-dir", str(run_dir), "--export-dir", str(export_dir)]
    reader = Reader(export_dir)
    reader.start()
    killed = _run([sys.executable, __file__, "--child", json.dumps([phase, parameter, delay, str(events)]), *argv], env)
    finished = _events(events)
    resumed = _run([sys.executable, "-m", "keras_ae.recipes.autoencoder", *argv, "--resume"], env)
    reader.stopping.set()
    reader.join()
    match = re.search(r"after epoch (\d+)", resumed.stdout)
    restored = int(match.group(1)) if match else 0
    epochs = []
    if (run_dir / "history.csv").exists():
        with open(run_dir / "history.csv") as file:
            epochs = [int(row["epoch"]) for row in csv.DictReader(file)]
    marker = json.loads((run_dir / "keras_ae_run.json").read_text()) if (run_dir / "keras_ae_run.json").exists() else {}
    whole = export_dir.is_dir() and set(WHOLE_EXPORT) <= set(os.listdir(export_dir))
    stranded = [p.name for p in folder.iterdir() if re.search(r"\.(tmp|old)-|\.partial$", p.name)]
    deleted = sum(1 for path, data in user_files.items() if not path.exists() or path.read_bytes() != data)
    return {
        "phase": phase,
        "delay": delay,
        "killed": killed.returncode == -signal.SIGKILL,
        "resumed": resumed.returncode == 0 and marker.get("state") == "finished" and epochs == list(range(EPOCHS))
        and whole,
        "lost": max(0, finished - restored),
        "duplicates": len(epochs) - len(set(epochs)),
        "partial_exports": reader.partial,
        "polls": reader.polls,
        "deleted": deleted,
        "stranded": len(stranded),
        "log": resumed.stderr[-2000:] if resumed.returncode else "",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--phases", default=",".join(PHASES), help="comma-separated phases to kill in")
    parser.add_argument("--workdir", help="where the trials run (default: a temporary folder)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="keras_ae-faults-"))
    workdir.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    template = workdir / "template"
    clean = _run([sys.executable, "-m", "keras_ae.recipes.autoencoder", *RECIPE, "--epochs", "1",
                  "--run-dir", str(template / "run"), "--export-dir", str(template / "export")], env)
    if clean.returncode != 0:
        raise SystemExit(f"The clean run failed:\n{clean.stderr[-3000:]}")
    rng = random.Random(args.seed)
    phases = args.phases.split(",")
    results = []
    for index in range(args.kills):
        result = trial(index, phases[index % len(phases)], rng, workdir, env, template / "export")
        results.append(result)
        print(f"kill {index + 1:2d} {result['phase']:<10} after {result['delay']:.3f} s: killed={result['killed']} "
              f"resumed={result['resumed']} lost={result['lost']} duplicates={result['duplicates']} "
              f"partial_exports={result['partial_exports']}/{result['polls']} deleted={result['deleted']} "
              f"stranded={result['stranded']}", flush=True)
        if result["log"]:
            print(result["log"])
    rows = {
        "kills (SIGKILL delivered)": sum(r["killed"] for r in results),
        "runs that resumed to the end": sum(r["resumed"] for r in results),
        "finished epochs lost": sum(r["lost"] for r in results),
        "duplicate history rows": sum(r["duplicates"] for r in results),
        "partial exports seen by the reader": sum(r["partial_exports"] for r in results),
        "user files deleted or changed": sum(r["deleted"] for r in results),
        "stranded .tmp-/.old-/.partial folders": sum(r["stranded"] for r in results),
    }
    print(f"\nFault injection: {args.kills} kills (seed {args.seed}) over {', '.join(phases)}; "
          f"autoencoder recipe, digits, {EPOCHS} epochs; reader polls: {sum(r['polls'] for r in results)}")
    width = max(map(len, rows))
    for name, value in rows.items():
        print(f"  {name:<{width}}  {value}")
    return results, rows


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        phase, parameter, delay, events = json.loads(sys.argv[2])
        _child(phase, tuple(parameter) if isinstance(parameter, list) else parameter, delay, Path(events), sys.argv[3:])
    else:
        main()
