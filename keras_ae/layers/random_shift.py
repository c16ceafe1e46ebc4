"""Random translation of image batches with stateless randomness (safe under tf.distribute)."""

import keras
import tensorflow as tf


def random_shift(images, max_shift, seed):
    """Shifts each image of `images` by its own random whole-pixel offset in [-max_shift, max_shift] (zero fill)."""
    if not max_shift:
        return images
    batch = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images, [[0, 0], [max_shift, max_shift], [max_shift, max_shift], [0, 0]])
    offsets = tf.random.stateless_uniform([batch, 2], seed, minval=0, maxval=2 * max_shift + 1, dtype=tf.int32)
    top, left = tf.cast(offsets[:, 0], tf.float32), tf.cast(offsets[:, 1], tf.float32)
    # Boxes on whole pixels of the padded image: bilinear sampling at integer positions copies pixels exactly.
    padded_height, padded_width = float(height + 2 * max_shift - 1), float(width + 2 * max_shift - 1)
    boxes = tf.stack(
        [top / padded_height, left / padded_width, (top + height - 1) / padded_height, (left + width - 1) / padded_width],
        axis=1,
    )
    return tf.image.crop_and_resize(padded, boxes, tf.range(batch), [height, width])


@keras.saving.register_keras_serializable(package="keras_ae")
class RandomShift(keras.layers.Layer):
    """Shifts every image by its own random offset of up to `max_shift` pixels per axis, filling with zeros.

    Randomness is stateless: the caller passes a `seed` (a `[2]` int tensor, e.g. the optimizer step and the
    replica id), so every replica draws different shifts without any shared random state.

    Args:
        max_shift: largest shift in pixels along height and width.

    Example:
        shift = RandomShift(max_shift=2)
        shifted = shift(images, seed=tf.constant([step, 0]))
    """

    def __init__(self, max_shift=2, **kwargs):
        super().__init__(**kwargs)
        if max_shift < 0:
            raise ValueError(f"max_shift must be >= 0; got {max_shift}.")
        # Config
        self.max_shift = max_shift

    def call(self, images, seed):
        return random_shift(images, self.max_shift, seed)

    def get_config(self):
        config = super().get_config()
        config.update({"max_shift": self.max_shift})
        return config
