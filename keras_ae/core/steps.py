"""The pieces of a training step every keras_ae model shares: right under tf.distribute and mixed precision."""

import keras
import tensorflow as tf

from keras_ae.distribute import per_replica_mean


def minimize(compute_loss, variables, optimizer):
    """Takes one optimizer step on the global-batch mean of the per-example loss that `compute_loss()` returns.

    `compute_loss` returns `(per_example_loss, extras)`. The mean is divided by the number of replicas (gradients
    are summed across them) and scaled by the optimizer for mixed precision before differentiating. Returns
    `(mean_loss, extras)`: this replica's unscaled mean loss, for reporting, and the extras.

    Example:
        loss, _ = minimize(lambda: (model.judge_losses(batch)[0][0], None), model.trainable_variables, optimizer)
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


def gradient_penalty(score_fn, real, fake, seed):
    """Per-example WGAN-GP penalty `(||grad_x score_fn(x)|| - 1)^2` at random interpolates of `real` and `fake`
    (Gulrajani et al., 2017, "Improved Training of Wasserstein GANs"); add `weight * penalty` to an adversary's loss.

    `seed` is a stateless seed `[2]` int32 (e.g. from `replica_uniform`'s generator), so replicas differ.

    Example:
        penalty = gradient_penalty(critic, real_summaries, soft_summaries, seed=tf.constant([1, 2]))
    """
    real = tf.cast(real, "float32")
    fake = tf.cast(fake, "float32")
    shape = tf.concat([tf.shape(real)[:1], tf.ones([tf.rank(real) - 1], tf.int32)], axis=0)
    mix = tf.random.stateless_uniform(shape, seed)
    interpolates = mix * real + (1.0 - mix) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        scores = tf.cast(score_fn(interpolates), "float32")
    gradients = tape.gradient(scores, interpolates)
    norms = tf.sqrt(tf.reduce_sum(tf.reshape(tf.square(gradients), [tf.shape(real)[0], -1]), axis=1) + 1e-12)
    return tf.square(norms - 1.0)
