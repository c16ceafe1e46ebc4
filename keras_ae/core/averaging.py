"""An exponential moving average of a model's weights, kept beside training and used for evaluation and export.

Averaging the generator's weights over the last steps is a standard stabiliser of adversarial training: the
iterates of a GAN circle around an equilibrium instead of settling, and their average lies nearer to it than any
single iterate (Yazici et al., 2019, "The Unusual Effectiveness of Averaging in GAN Training"; Karras et al., 2018,
"Progressive Growing of GANs", evaluate the averaged generator). The average follows TensorFlow's
`ExponentialMovingAverage` with `num_updates`: at update `t` its decay is `min(decay, (1 + t) / (10 + t))`, so the
first updates are not dominated by the weights training started from.

Only the model's own trainable variables are averaged, not an adversary's (`JudgedEncoder.encoder_variables`): the
critic is never exported and keeps training on the raw iterates.

Example:
    average = WeightAverage(decay=0.99, swap_on_epoch=True)
    model.fit(dataset, epochs=2, callbacks=[average, RougeCurve(documents, references)])
    # RougeCurve and the checkpoints saw the averaged weights after every epoch; after fit the model holds them.
    with average.raw():            # the last iterate, e.g. to compare it with the average
        summarize(model, documents)
"""

import contextlib

import keras
import tensorflow as tf


class WeightAverage(keras.callbacks.Callback):
    """Keeps an exponential moving average of the model's trainable (non-adversary) weights during `fit`.

    Args:
        decay: the average's decay per training step (0.99 averages over about the last 100 steps).
        swap_on_epoch: put the averaged weights into the model at every epoch's end (so that the callbacks after this
            one, e.g. a validation curve and the checkpoints, see them) and the training weights back at the next
            epoch's start; after the last epoch the model keeps the averaged weights. When False the model keeps its
            training weights; `averaged()` swaps the average in for a `with` block and `apply()` copies it into the
            model.

    Example:
        average = WeightAverage(decay=0.99)
        model.fit(dataset, epochs=2, callbacks=[average])
        with average.averaged():
            scores = evaluate(model)
        average.apply()     # keep the average
    """

    def __init__(self, decay=0.99, swap_on_epoch=True):
        super().__init__()
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1); got {decay}.")
        self.decay = float(decay)
        self.swap_on_epoch = bool(swap_on_epoch)
        self.averages = None
        self.variables = None
        self.swapped = False  # True while the model holds the averaged weights and `averages` the training ones
        self.updates = None

    def _model_variables(self):
        variables = getattr(self.model, "encoder_variables", None)
        return list(variables if variables is not None else self.model.trainable_variables)

    def on_train_begin(self, logs=None):
        if self.swapped:  # a second fit: continue from the training weights
            self._swap()
        self.variables = self._model_variables()
        if self.averages is None or len(self.averages) != len(self.variables):
            strategy = getattr(self.model, "distribute_strategy", None) or tf.distribute.get_strategy()
            with strategy.scope():
                self.averages = [tf.Variable(variable, trainable=False, name="average") for variable in self.variables]
                self.updates = tf.Variable(0.0, trainable=False, name="average_updates")
            self._update = tf.function(self._update_averages)

    def _update_averages(self):
        decay = tf.minimum(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        for variable, average in zip(self.variables, self.averages):
            average.assign(decay * average + (1.0 - decay) * tf.cast(variable, average.dtype))
        self.updates.assign_add(1.0)

    def on_train_batch_end(self, batch, logs=None):
        self._update()

    def on_epoch_begin(self, epoch, logs=None):
        if self.swapped:
            self._swap()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self.swapped:
            self._swap()

    def _swap(self):
        for variable, average in zip(self.variables, self.averages):
            value = tf.identity(variable)
            variable.assign(average)
            average.assign(value)
        self.swapped = not self.swapped

    @contextlib.contextmanager
    def averaged(self):
        """A `with` block in which the model holds the averaged weights (as it did before, after it)."""
        was = self.swapped
        if not was:
            self._swap()
        try:
            yield self.model
        finally:
            if not was:
                self._swap()

    @contextlib.contextmanager
    def raw(self):
        """A `with` block in which the model holds the last training weights (as it did before, after it)."""
        was = self.swapped
        if was:
            self._swap()
        try:
            yield self.model
        finally:
            if was:
                self._swap()

    def apply(self):
        """Leaves the averaged weights in the model for good (the training weights are dropped)."""
        if not self.swapped:
            self._swap()
        for variable, average in zip(self.variables, self.averages):
            average.assign(variable)
