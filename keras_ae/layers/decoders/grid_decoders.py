"""Decoders from a grid of code vectors back to images or feature frames: the mirrors of `grid_encoders`.

Example:
    decoder = image_grid_decoder(channels=1)       # [batch, 7, 7, 32] -> [batch, 28, 28, 1]
    decoder = frame_decoder(features=80)           # [batch, time, 32] -> [batch, time, 80]
"""

import keras

from keras_ae.core.validation import integer_at_least


def image_grid_decoder(channels, filters=(64, 32), name="decoder"):
    """The mirror of `image_grid_encoder`: a grid of codes to images in [0, 1] (sigmoid output)."""
    layers = [keras.layers.Conv2D(filters[0], 3, padding="same", activation="relu")]
    layers += [
        keras.layers.Conv2DTranspose(width, 3, strides=2, padding="same", activation="relu") for width in filters
    ]
    layers.append(keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid"))
    return keras.Sequential(layers, name=name)


def frame_decoder(features, hidden_dim=128, time_stride=1, name="decoder"):
    """One code per frame (or per `time_stride` frames) back to feature frames `[batch, time, features]` (linear
    output); with `time_stride` s > 1 a transposed convolution (stride s, kernel 2s) upsamples to the frame rate."""
    time_stride = integer_at_least("time_stride", time_stride, 1)
    layers = [keras.layers.Conv1D(hidden_dim, 3, padding="same", activation="relu")]
    if time_stride == 1:
        layers.append(keras.layers.Conv1D(hidden_dim, 3, padding="same", activation="relu"))
    else:
        layers.append(keras.layers.Conv1DTranspose(hidden_dim, 2 * time_stride, strides=time_stride, padding="same",
                                                   activation="relu"))
    layers.append(keras.layers.Conv1D(features, 1))
    return keras.Sequential(layers, name=name)
