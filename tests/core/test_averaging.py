import keras
import numpy as np
import pytest

from keras_ae.core.averaging import WeightAverage


class Record(keras.callbacks.Callback):
    """The kernel after every training step (it runs after WeightAverage's update, before any swap)."""

    def __init__(self):
        super().__init__()
        self.kernels = []

    def on_train_batch_end(self, batch, logs=None):
        self.kernels.append(keras.ops.convert_to_numpy(self.model.layers[0].kernel).copy())


def _model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def test_the_model_ends_with_the_moving_average_and_raw_gives_the_last_iterate():
    model = _model()
    start = keras.ops.convert_to_numpy(model.layers[0].kernel).copy()
    x, y = np.random.default_rng(0).normal(size=(40, 3)), np.random.default_rng(1).normal(size=(40, 2))
    average, record = WeightAverage(decay=0.9), Record()
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, callbacks=[average, record], verbose=0)
    expected = start
    for step, kernel in enumerate(record.kernels):
        decay = min(0.9, (1 + step) / (10 + step))
        expected = decay * expected + (1 - decay) * kernel
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.layers[0].kernel), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(expected, record.kernels[-1])
    with average.raw():
        np.testing.assert_allclose(keras.ops.convert_to_numpy(model.layers[0].kernel), record.kernels[-1], rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.layers[0].kernel), expected, rtol=1e-5, atol=1e-6)


def test_without_swapping_the_model_keeps_its_training_weights_until_applied():
    model = _model()
    x, y = np.ones((16, 3)), np.zeros((16, 2))
    average, record = WeightAverage(decay=0.5, swap_on_epoch=False), Record()
    model.fit(x, y, batch_size=8, epochs=2, callbacks=[average, record], verbose=0)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.layers[0].kernel), record.kernels[-1], rtol=1e-6)
    with average.averaged():
        inside = keras.ops.convert_to_numpy(model.layers[0].kernel).copy()
    assert not np.allclose(inside, record.kernels[-1])
    average.apply()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.layers[0].kernel), inside, rtol=1e-6)


def test_decay_out_of_range_is_refused():
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(decay=1.0)
