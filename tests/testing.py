"""The two checks every keras_ae building block goes through (in the spirit of Keras' `run_layer_test`).

    run_layer_test(lambda: BinaryQuantizer(), np.zeros((4, 8), "float32"))
    run_model_test(lambda: AutoEncoder(image_shape=(8, 8, 1), embedding_dim=8), images, export_inputs=[images[:3]])
"""

import keras
import numpy as np
import tensorflow as tf

from tests.helpers import assert_two_replicas_step_like_one, reload_and_call_many


def _config_round_trip(obj):
    clone = type(obj).from_config(obj.get_config())
    assert clone.get_config() == obj.get_config(), f"{type(obj).__name__} config does not round-trip"
    serialized = keras.saving.serialize_keras_object(obj)
    restored = keras.saving.deserialize_keras_object(serialized)
    assert type(restored) is type(obj) and restored.get_config() == obj.get_config()
    return clone


def run_layer_test(make_layer, inputs, call=None, expected_shape=None, trainable=True):
    """Builds and calls a layer, round-trips its config through `from_config` and Keras serialization, and (when
    `trainable`) takes a gradient of its mean output: every trainable weight gets a finite gradient.

    `call(layer, inputs)` gives the output to check (default `layer(inputs, training=True)`); the gradient is of
    the sum of the means of its float tensors, and `expected_shape` is the first one's. Returns the layer.
    """
    call = call or (lambda layer, x: layer(x, training=True))
    layer = make_layer()
    with tf.GradientTape() as tape:
        output = call(layer, inputs)
        tensors = [t for t in tf.nest.flatten(output) if t.dtype.is_floating]
        first = tensors[0]
        objective = tf.add_n([tf.reduce_mean(tf.cast(t, "float32")) for t in tensors])
    if expected_shape is not None:
        assert tuple(first.shape) == tuple(expected_shape), (first.shape, expected_shape)
    assert np.all(np.isfinite(np.asarray(first))), "the layer's output is not finite"
    _config_round_trip(layer)
    if trainable and layer.trainable_variables:
        gradients = tape.gradient(objective, layer.trainable_variables)
        assert all(g is not None for g in gradients), "a trainable weight gets no gradient"
        assert all(np.all(np.isfinite(np.asarray(tf.convert_to_tensor(g)))) for g in gradients)
    return layer


def run_model_test(make_model, data, epochs=4, learning_rate=3e-3, export_dir=None, export_inputs=None,
                   replica_batch=None, fall=0.98, fit_kwargs=None):
    """The contract of a keras_ae model: `fit` through the one loop lowers the loss (last epoch below `fall` times
    the first), the config round-trips, the export reloads in a process that imports only TensorFlow and its
    `encode` matches the model to 1e-5, and (with `replica_batch`) one step on 2 replicas equals one on 1 device.
    Returns the trained model.
    """
    keras.utils.set_random_seed(0)
    model = make_model()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    history = model.fit(data, epochs=epochs, verbose=0, **(fit_kwargs or {})).history["loss"]
    assert np.all(np.isfinite(history)), history
    assert history[-1] < fall * history[0], f"{type(model).__name__} loss did not fall: {history}"
    clone = _config_round_trip(model)
    assert len(clone.get_weights()) == len(model.get_weights())
    if export_dir is not None:
        from keras_ae.export import export_model

        destination = export_model(model, export_dir)
        outputs, signatures = reload_and_call_many(destination, {"encode": ("encode", export_inputs)})
        assert "encode" in signatures
        expected = model.encode(*export_inputs)
        np.testing.assert_allclose(outputs["encode"][0], np.asarray(expected), atol=1e-5)
    if replica_batch is not None:
        keras.utils.set_random_seed(1)
        assert_two_replicas_step_like_one(make_model, replica_batch)
    return model
