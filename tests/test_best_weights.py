"""`--patience`: BestWeights stops after `patience` epochs without a lower validation loss and puts back the best
epoch's weights, also when `--epochs` or the budget ends training first, and across a kill and `--resume`."""

import keras
import numpy as np
import pytest

from keras_ae.runs import BEST_WEIGHTS, BestWeights, RunFolder

STEPS_PER_EPOCH = 4
VALIDATION_LOSSES = [3.0, 1.0, 2.0, 4.0, 5.0, 6.0]  # the best epoch is the second


class _ScriptedValidation(keras.callbacks.Callback):
    """Sets each epoch's val_loss from a script (before BestWeights reads the logs) and keeps every epoch's weights."""

    def __init__(self, kill_after=None):
        super().__init__()
        self.kill_after, self.weights = kill_after, {}

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = VALIDATION_LOSSES[epoch]
        self.weights[epoch + 1] = self.model.get_weights()
        if epoch + 1 == self.kill_after:
            raise KeyboardInterrupt(f"simulated kill after epoch {epoch + 1}'s checkpoint")


def _fit(run_dir, patience, epochs=len(VALIDATION_LOSSES), resume=False, script=None):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    script = script or _ScriptedValidation()
    with RunFolder(run_dir, resume=resume, flags={"patience": patience}) as run:
        best = BestWeights(run, patience)
        run.fit(model, x, y=x[:, :2], batch_size=2, epochs=epochs, callbacks=[script, best], verbose=0)
    return model, best, script


def _same(first, second):
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def test_patience_stops_and_restores_the_best_epoch(tmp_path):
    model, best, script = _fit(tmp_path / "run", patience=2)
    assert sorted(script.weights) == [1, 2, 3, 4]  # epochs 3 and 4 did not improve on epoch 2: stopped after 4
    assert (best.best_epoch + 1, best.best_step, best.best) == (2, 2 * STEPS_PER_EPOCH, 1.0)
    assert _same(model.get_weights(), script.weights[2]) and not _same(script.weights[2], script.weights[4])


def test_the_best_weights_come_back_when_the_epochs_end_first(tmp_path):
    model, best, script = _fit(tmp_path / "run", patience=10, epochs=4)
    assert best.stopped_epoch == 0 and sorted(script.weights) == [1, 2, 3, 4]
    assert _same(model.get_weights(), script.weights[2])


def test_a_resume_keeps_the_best_epoch_from_before_the_kill(tmp_path):
    killed = _ScriptedValidation(kill_after=3)
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "run", patience=2, script=killed)
    assert (tmp_path / "run.partial" / BEST_WEIGHTS).is_file()
    model, best, script = _fit(tmp_path / "run", patience=2, resume=True)
    assert sorted(script.weights) == [4]  # epoch 3 had waited one epoch: epoch 4 is the second, then it stops
    assert (best.best_epoch + 1, best.best_step, best.best) == (2, 2 * STEPS_PER_EPOCH, 1.0)
    assert _same(model.get_weights(), killed.weights[2]) and not _same(killed.weights[2], script.weights[4])


def test_a_score_a_callback_adds_is_kept_at_its_highest_with_mode_max(tmp_path):
    """--select-on-probes: ProbeMarks puts each epoch's validation scores into the logs (`val_` prefix) before
    BestWeights, which keeps the epoch with the highest `val_worst_margin` and never stops with patience >= epochs."""
    from keras_ae.recipes.text_recipe import ProbeMarks

    margins = iter([-3.0, -1.0, -2.0, 0.5, -4.0])  # any score a callback logs
    scores = ProbeMarks(lambda: {"worst_margin": next(margins)}, None, tag="validation", logs_prefix="val_")
    script = _ScriptedValidation()  # keeps every epoch's weights; its val_loss is lowest at epoch 2
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    with RunFolder(tmp_path / "run", flags={}) as run:
        best = BestWeights(run, 5, monitor="val_worst_margin", mode="max")
        run.fit(model, x, y=x[:, :2], batch_size=2, epochs=5, callbacks=[script, scores, best], verbose=0)
    assert [point["worst_margin"] for point in scores.curve] == [-3.0, -1.0, -2.0, 0.5, -4.0]
    assert (best.best_epoch + 1, best.best_step, best.best) == (4, 4 * STEPS_PER_EPOCH, 0.5)
    assert best.stopped_epoch == 0 and _same(model.get_weights(), script.weights[4])
