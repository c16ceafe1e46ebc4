"""`--minutes`: TimeBudget stops a run once its wall-clock budget is spent, also across a kill and `--resume`."""

import csv
import json
import time

import keras
import numpy as np
import pytest

from keras_ae.runs import RunFolder, TimeBudget

BUDGET_MINUTES = 0.05  # 3 s: the first epoch (tracing) may take 1 s on a busy machine
STEP_SECONDS = 0.1


class _SlowSteps(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(STEP_SECONDS)


class _KillAfter(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt("simulated kill after the second epoch's checkpoint")


def _fit(run_dir, resume=False, extra=()):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 3), "float32")
    with RunFolder(run_dir, resume=resume, flags={"minutes": BUDGET_MINUTES}) as run:
        budget = TimeBudget(run, BUDGET_MINUTES)
        run.fit(model, x, y=x[:, :1], batch_size=2, epochs=100, callbacks=[_SlowSteps(), budget, *extra], verbose=0)
    return budget


def _epochs(run_dir):
    with open(run_dir / "history.csv") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def test_budget_stops_training_and_a_resume_counts_the_time_already_spent(tmp_path):
    started = time.perf_counter()
    budget = _fit(tmp_path / "fresh")
    assert 60 * BUDGET_MINUTES <= budget.spent < time.perf_counter() - started
    epochs = _epochs(tmp_path / "fresh")
    assert 1 <= len(epochs) < 100  # 4 steps of 0.1 s an epoch: about 6 epochs, far from --epochs
    saved = json.loads((tmp_path / "fresh" / "budget.json").read_text())
    assert len(saved["seconds"]) == len(saved["cpu_seconds"]) == len(saved["load"]) == len(epochs)
    # the steps sleep: an epoch costs far less CPU than wall-clock
    assert 0 < budget.cpu_spent < budget.spent and all(load >= 0 for load in saved["load"])

    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "killed", extra=[_KillAfter()])
    before = json.loads((tmp_path / "killed.partial" / "budget.json").read_text())["seconds"]
    resumed = _fit(tmp_path / "killed", resume=True)
    assert resumed.seconds[:2] == before[:2]  # the two epochs before the kill count against the budget
    before_cpu = json.loads((tmp_path / "killed" / "budget.json").read_text())["cpu_seconds"]
    assert len(resumed.cpu_seconds) == len(resumed.seconds) and before_cpu == resumed.cpu_seconds
    assert len(resumed.seconds) == len(_epochs(tmp_path / "killed")) and resumed.spent >= 60 * BUDGET_MINUTES


@pytest.mark.parametrize("step_seconds, steps", [(0.3, 17), (0.2, 25), (0.35, 15)])
def test_budget_ends_at_the_first_step_whose_end_is_past_the_wall_clock_not_at_an_estimated_step_count(
        tmp_path, monkeypatch, step_seconds, steps):
    """The budget reads the clock after every step (finished epochs' seconds plus the current epoch's), so a run
    ends mid-epoch at the first step past it, and its step count follows the clock alone (session 28: two 5-minute
    runs that both ended after 28 steps of their 12th epoch had 3.5 s and 2.2 s left at its start). On a fake clock
    (`FakeClock`), 5 s of budget, epochs of 4 steps: 0.3 s a step ends 1 step into epoch 5 (4 x 1.2 s = 4.8 s),
    0.2 s 1 step into epoch 7 (6 x 0.8 s), 0.35 s 3 steps into epoch 4 (3 x 1.4 s = 4.2 s, then 4.55, 4.9, 5.25)."""
    from keras_ae import runs
    from tests.helpers import FakeClock

    clock = FakeClock().install(monkeypatch, runs)

    class Steps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.advance(step_seconds)

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((8, 3), "float32")
    with RunFolder(tmp_path / "run", flags={}) as run:
        budget = TimeBudget(run, 5 / 60)
        run.fit(model, x, y=x[:, :1], batch_size=2, epochs=100, callbacks=[Steps(), budget], verbose=0)
    assert int(model.optimizer.iterations.numpy()) == steps and steps % 4  # ended inside an epoch
    assert budget.spent == pytest.approx(steps * step_seconds) and budget.spent >= 5.0
