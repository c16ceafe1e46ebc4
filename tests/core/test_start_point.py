import numpy as np
import tensorflow as tf

from keras_ae.core.start_point import row_length_spread, row_turn, start_point_distance


def test_distance_is_the_squared_distance_to_the_start_or_to_its_nearest_multiple():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(5, 3)).astype("float32")
    moved = start + rng.normal(size=(5, 3)).astype("float32")
    np.testing.assert_allclose(start_point_distance(moved, start).numpy(), np.sum((moved - start) ** 2), rtol=1e-5)
    # free scale: a multiple of the start costs nothing, a change of direction its squared length
    assert start_point_distance(3.0 * start, start, free_scale=True).numpy() < 1e-8
    assert start_point_distance(3.0 * start, start).numpy() > 1.0
    across = rng.normal(size=(5, 3)).astype("float32")
    across -= np.sum(across * start) / np.sum(start ** 2) * start  # orthogonal to the start as a whole
    np.testing.assert_allclose(start_point_distance(2.0 * start + across, start, free_scale=True).numpy(),
                               np.sum(across ** 2), rtol=1e-4)
    # the gradient pulls towards the nearest multiple (the scale's own gradient is zero there)
    weights = tf.Variable(2.0 * start + across)
    with tf.GradientTape() as tape:
        distance = start_point_distance(weights, start, free_scale=True)
    np.testing.assert_allclose(tape.gradient(distance, weights).numpy(), 2.0 * across, atol=1e-4)
    # a zero start has no direction: the distance is the weights' squared norm
    np.testing.assert_allclose(start_point_distance(moved, np.zeros_like(start), free_scale=True).numpy(),
                               np.sum(moved ** 2), rtol=1e-5)


def test_row_length_spread_is_the_variance_of_the_rows_log_length_ratios_and_free_of_scale_and_direction():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(6, 3)).astype("float32")
    start[0] = 0.0  # a row the start has no length for: not counted
    turned = np.roll(start, 1, axis=1)  # every row turned, every length kept
    assert row_length_spread(3.0 * turned, start).numpy() < 1e-8
    factors = np.array([5.0, 1.0, 2.0, 4.0, 0.5, 1.0], "float32")
    moved = start * factors[:, None] + (factors == 5.0)[:, None]  # row 0: anything, it is skipped
    np.testing.assert_allclose(row_length_spread(moved, start).numpy(), np.var(np.log(factors[1:])), rtol=1e-5)
    # its gradient lengthens the rows below the common factor and shortens those above it
    weights = tf.Variable(moved)
    with tf.GradientTape() as tape:
        spread = row_length_spread(weights, start)
    along = np.sum(tape.gradient(spread, weights).numpy() * moved, axis=1)[1:]
    assert np.all(np.sign(along) == np.sign(np.log(factors[1:]) - np.mean(np.log(factors[1:]))))


def test_row_turn_is_the_chosen_rows_mean_one_minus_cosine_and_free_of_their_lengths():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(5, 3)).astype("float32")
    rows = np.array([0, 1, 1, 0, 1], "float32")
    lengths = np.array([[1.0], [3.0], [0.2], [1.0], [7.0]], "float32")
    assert abs(row_turn(start * lengths, start, rows).numpy()) < 1e-6  # only lengths changed
    moved = start.copy()
    moved[0] = -start[0]  # not chosen: free
    moved[2] = -start[2]  # chosen, turned around: 2
    np.testing.assert_allclose(row_turn(moved, start, rows).numpy(), 2.0 / 3.0, rtol=1e-5)
    assert row_turn(moved, start, np.zeros(5, "float32")).numpy() == 0.0
