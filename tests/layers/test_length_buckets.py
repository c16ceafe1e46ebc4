"""Tests for by_length: a per-sentence function on length groups gives what it gives on the whole padded batch."""

import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers.length_buckets import bucket_bounds, by_length


def test_bucket_bounds_end_at_the_max_length():
    assert bucket_bounds(40, 8) == [8, 16, 24, 32, 40]
    assert bucket_bounds(25, 8) == [8, 16, 24, 25]
    assert bucket_bounds(4, 8) == [4]
    with pytest.raises(ValueError, match="positive number of tokens"):
        bucket_bounds(40, 0)


def test_groups_are_cut_to_their_bucket_and_rows_keep_their_order():
    seen = []

    def function(ids):  # a per-row function blind to trailing padding: the sum and the length of the row
        seen.append(ids.shape[1])
        return tf.stack([tf.reduce_sum(ids, axis=1), tf.reduce_sum(tf.cast(ids > 0, ids.dtype), axis=1)], axis=1)

    ids = tf.constant([[5, 6, 7, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7],
                       [3, 0, 4, 0, 0, 0, 0]])  # the last row has an id 0 inside: its length runs to its last id
    grouped = by_length(function, ids, width=3)
    np.testing.assert_array_equal(grouped, function(ids))
    assert seen[:3] == [3, 6, 7]  # buckets 1-3, 4-6 and 7 tokens (the empty row goes to the first)
    with pytest.raises(ValueError, match="static length"):
        tf.function(lambda ids: by_length(function, ids, 3), input_signature=[tf.TensorSpec([None, None], tf.int32)])(
            ids
        )
