"""best_of_restarts: keeps the warm-up with the lowest validation loss, reproducibly from the seed."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.core.restarts import best_of_restarts, restart_seed


def _data(seed, count=64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(16)


def _builder(built, seeded=True):
    def build(seed):
        if seeded:
            keras.utils.set_random_seed(seed)  # the caller owns each start's randomness
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        built.append((seed, model.get_weights()[0].copy()))
        return model

    return build


def test_keeps_the_restart_with_the_lowest_validation_loss():
    built = []
    model, losses = best_of_restarts(_builder(built), _data(0).repeat(), _data(1), restarts=4, warmup_steps=2,
                                     seed=7)
    assert [seed for seed, _ in built] == [restart_seed(7, i) for i in range(4)] == [7, 1007, 2007, 3007]
    assert len({float(weights.sum()) for _, weights in built}) == 4  # four different initialisations
    assert len(losses) == 4 and len(set(losses)) == 4
    assert model.evaluate(_data(1), verbose=0) == pytest.approx(min(losses), rel=1e-6)


def test_is_reproducible_from_the_seed_and_one_restart_is_the_plain_run():
    first, first_losses = best_of_restarts(_builder([]), _data(0).repeat(), _data(1), 3, 2, seed=3)
    second, second_losses = best_of_restarts(_builder([]), _data(0).repeat(), _data(1), 3, 2, seed=3)
    assert first_losses == second_losses
    np.testing.assert_array_equal(first.get_weights()[0], second.get_weights()[0])
    built = []
    plain, losses = best_of_restarts(_builder(built), _data(0), _data(1), restarts=1, warmup_steps=None, seed=3)
    keras.utils.set_random_seed(3)
    untrained = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    assert losses == [] and [seed for seed, _ in built] == [3]
    np.testing.assert_array_equal(plain.get_weights()[0], untrained.get_weights()[0])


def test_leaves_the_global_random_stream_alone():
    keras.utils.set_random_seed(11)
    expected = np.random.random(3)
    keras.utils.set_random_seed(11)
    best_of_restarts(_builder([], seeded=False), _data(0).repeat(), _data(1), restarts=2, warmup_steps=1, seed=5)
    np.testing.assert_array_equal(np.random.random(3), expected)


@pytest.mark.parametrize("restarts, warmup_steps", [(0, 5), (2.5, 5), (3, 0), (3, None)])
def test_bad_counts_fail_before_training(restarts, warmup_steps):
    built = []
    with pytest.raises(ValueError, match="restarts|warmup_steps"):
        best_of_restarts(_builder(built), _data(0), _data(1), restarts, warmup_steps)
    assert built == []
