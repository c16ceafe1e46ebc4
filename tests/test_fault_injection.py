"""Real SIGKILLs: the fast part of benchmarks/fault_injection.py (the full table: python benchmarks/fault_injection.py)."""

import csv
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from keras_ae.models.autoencoder import AutoEncoder
from keras_ae.runs import RunFolder, checkpoints

ROOT = Path(__file__).parents[1]
TRAIN = textwrap.dedent(
    """
    import os, signal, sys, threading
    import numpy as np
    from keras_ae.models.autoencoder import AutoEncoder
    from keras_ae.runs import RunFolder, _Checkpoint

    run_dir, kill_epoch, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    save = _Checkpoint.on_epoch_end

    def saving(self, epoch, logs=None):  # SIGKILL `delay` seconds into the save of epoch `kill_epoch`
        if epoch == kill_epoch:
            threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
        save(self, epoch, logs)
        if epoch == kill_epoch:
            threading.Event().wait()  # the kill always lands: during the save or right after it

    _Checkpoint.on_epoch_end = saving
    images = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    model = AutoEncoder(image_shape=(8, 8, 1), embedding_dim=4)
    model.compile(optimizer="adam")
    with RunFolder(run_dir, flags={"epochs": 4}) as run:
        run.write_config(model)
        run.fit(model, images, batch_size=16, epochs=4, verbose=0)
    """
)


@pytest.mark.parametrize("delay", [
    pytest.param(0.0, marks=pytest.mark.slow, id="at-save-start"),
    pytest.param(0.004, id="mid-save"),
    pytest.param(0.03, marks=pytest.mark.slow, id="late"),
])
def test_sigkill_during_a_checkpoint_save_resumes_with_every_epoch_once(tmp_path, delay):
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    killed = subprocess.run([sys.executable, "-c", TRAIN, str(run_dir), "2", str(delay)], env=env,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    saved = [epoch for epoch, _ in checkpoints(tmp_path / "run.partial" / "checkpoint")]
    assert saved[0] in (2, 3) and saved == sorted(saved, reverse=True)  # epoch 2 done; epoch 3 maybe
    images = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    model = AutoEncoder(image_shape=(8, 8, 1), embedding_dim=4)
    model.compile(optimizer="adam")
    with RunFolder(run_dir, resume=True, flags={"epochs": 4}) as run:
        run.write_config(model)
        history = run.fit(model, images, batch_size=16, epochs=4, verbose=0)
    assert run.restored_epoch == saved[0]
    with open(run_dir / "history.csv") as file:
        assert [int(row["epoch"]) for row in csv.DictReader(file)] == [0, 1, 2, 3]
    assert len(history.history["loss"]) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.slow  # several minutes: 2 kills, each resumed, with a clean run first
def test_fault_injection_benchmark_loses_nothing(tmp_path):
    sys.path.insert(0, str(ROOT))
    from benchmarks.fault_injection import main

    _, rows = main(["--kills", "2", "--phases", "data,export", "--workdir", str(tmp_path)])
    assert rows["runs that resumed to the end"] == 2
    assert all(value == 0 for name, value in rows.items() if name.split()[0] not in ("kills", "runs"))
