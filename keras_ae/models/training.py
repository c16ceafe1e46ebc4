"""The gradient step every keras_ae model shares: right under tf.distribute and mixed precision."""

import keras
import tensorflow as tf

from keras_ae.distribute import per_replica_mean


def minimize(compute_loss, variables, optimizer):
    """Takes one optimizer step on the global-batch mean of the per-example loss that `compute_loss()` returns.

    `compute_loss` returns `(per_example_loss, extras)`. The mean is divided by the number of replicas (gradients
    are summed across them) and scaled by the optimizer for mixed precision before differentiating. Returns
    `(mean_loss, extras)`: this replica's unscaled mean loss, for reporting, and the extras.
    """
    with tf.GradientTape() as tape:
        per_example_loss, extras = compute_loss()
        scaled_loss = optimizer.scale_loss(per_replica_mean(per_example_loss))
    gradients = tape.gradient(scaled_loss, variables)
    optimizer.apply(gradients, variables)
    return tf.reduce_mean(per_example_loss), extras


def unpack_inputs(data):
    """The inputs of a batch that may carry labels or sample weights (which self-supervised models ignore)."""
    inputs, _, _ = keras.utils.unpack_x_y_sample_weight(data)
    return inputs


def metric_results(model):
    """What `train_step` / `test_step` return: `{name: result}` for every tracker in `model.metrics`.

    Under MultiWorkerMirroredStrategy, Keras reduces step outputs with a mean over axis 0, which fails on scalars;
    there each result is given a leading axis of 1, which that reduction removes again.
    """
    results = {metric.name: metric.result() for metric in model.metrics}
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        results = {name: tf.reshape(value, [1]) for name, value in results.items()}
    return results


class ReconstructionSteps:
    """`train_step` / `test_step` for models trained on their own `reconstruction_errors(inputs, training)`.

    Mix in before `keras.Model` (`class AutoEncoder(ReconstructionSteps, keras.Model)`); the model keeps a
    `loss_tracker` and lists it in `metrics`.
    """

    def train_step(self, data):
        inputs = unpack_inputs(data)
        loss, _ = minimize(
            lambda: (self.reconstruction_errors(inputs, training=True), None), self.trainable_variables, self.optimizer
        )
        self.loss_tracker.update_state(loss)
        return metric_results(self)

    def test_step(self, data):
        self.loss_tracker.update_state(tf.reduce_mean(self.reconstruction_errors(unpack_inputs(data))))
        return metric_results(self)


class StringInputModel(keras.Model):
    """A `keras.Model` whose batches hold `tf.string` tensors, trainable under `tf.distribute` strategies.

    Keras 3 (`TensorFlowTrainer._maybe_symbolic_build`) averages the first distributed batch across replicas to build
    a model symbolically, which fails on strings ("AddN ... string"). These models build every variable in
    `__init__`, so no batch is needed: only the optimizer is still built here, inside the strategy's scope.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if getattr(self, "_distribute_strategy", None) is None:
            return
        with self.distribute_strategy.scope():
            if self.optimizer is not None and not self.optimizer.built:
                self.optimizer.build(self.trainable_variables)
            self._post_build()
