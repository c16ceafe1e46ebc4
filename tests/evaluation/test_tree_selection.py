"""benchmarks/tree_selection.py: does the validation loss after each epoch tell the late-split runs apart, and
which runs would restarts keep by it."""

from benchmarks.tree_selection import by_epoch_rows


def _run(f1, late, losses):
    return {"sentence F1": f1, "late split": late, "validation loss by epoch": losses}


def test_by_epoch_rows_compare_the_modes_losses_and_keep_the_lowest_loss_of_every_subset():
    # two early runs (good F1) and two late ones; after epoch 1 the losses do not order the modes, after epoch 2 the
    # late runs' are lower, so the best of every 3 runs by the epoch-2 loss is always a late run
    rows = [_run(64.0, 20.0, [38.0, 36.5]), _run(60.0, 30.0, [38.3, 36.4]),
            _run(50.0, 50.0, [38.2, 36.0]), _run(45.0, 60.0, [38.1, 36.1])]
    table = by_epoch_rows(rows, subsets=3)
    assert list(table) == ["epoch 1", "epoch 2", "one run"]
    second = table["epoch 2"]
    assert second["early runs' loss"] == "36.450 (2)" and second["late runs' loss"] == "36.050 (2)"
    assert second["loss ~ F1"] == "+0.80" and second["loss ~ late split"] == "-0.80"
    assert second["best of 3: late"] == "100%" and second["best of 3: F1"] == "48.8"  # kept: 50, 45, 50, 50
    assert table["epoch 1"]["best of 3: late"] == "25%"  # the early 38.0 is the lowest in 3 of the 4 subsets
    assert table["one run"]["best of 3: F1"] == "54.8" and table["one run"]["best of 3: late"] == "50%"


def test_by_epoch_rows_read_only_the_epochs_every_run_reached_and_skip_subsets_when_not_asked():
    rows = [_run(60.0, 10.0, [38.0, 36.0, 35.0]), _run(50.0, 50.0, [38.1, 36.2])]
    table = by_epoch_rows(rows, subsets=0)
    assert list(table) == ["epoch 1", "epoch 2", "one run"]
    assert not any(key.startswith("best of") for key in table["epoch 1"])
