"""Encoders to a grid of code vectors: strided convolutions over images (a 2-D grid) or over feature frames (one
vector per frame or per `time_stride` frames), as the VQ-VAE quantises them.

Example:
    encoder = image_grid_encoder(code_dim=32)     # [batch, 28, 28, 1] -> [batch, 7, 7, 32]
    encoder = frame_encoder(code_dim=32)          # [batch, time, 80] -> [batch, time, 32]
"""

import keras

from keras_ae.core.validation import integer_at_least


def image_grid_encoder(code_dim, filters=(32, 64), name="encoder"):
    """Strided convolution blocks (convolution, batch normalisation, ReLU: the blocks of `ConvImageEncoder`) from
    images `[batch, h, w, c]` to a grid of vectors `[batch, h / 2**len(filters), w / 2**len(filters), code_dim]`,
    one code per grid cell. Without the normalisation the decoder's ReLUs die within the first epoch on MNIST."""
    layers = []
    for width in filters:
        layers += [
            keras.layers.Conv2D(width, 3, strides=2, padding="same"),
            keras.layers.BatchNormalization(synchronized=True),  # N replicas train like one device
            keras.layers.ReLU(),
        ]
    layers.append(keras.layers.Conv2D(code_dim, 1))
    return keras.Sequential(layers, name=name)


def frame_encoder(code_dim, hidden_dim=128, time_stride=1, name="encoder"):
    """1-D convolutions over time from feature frames `[batch, time, features]` (e.g. a log-mel spectrogram) to one
    vector per frame `[batch, time, code_dim]`, or with `time_stride` s > 1 one vector per s frames
    `[batch, time / s, code_dim]` (the second convolution is strided, kernel 2s, so each code sees its window and
    half of each neighbour's)."""
    time_stride = integer_at_least("time_stride", time_stride, 1)
    # Layers are created in order: their initialisers draw seeds when created, so stride 1 keeps today's weights.
    layers = [keras.layers.Conv1D(hidden_dim, 3, padding="same", activation="relu")]
    if time_stride == 1:
        layers.append(keras.layers.Conv1D(hidden_dim, 3, padding="same", activation="relu"))
    else:
        layers.append(keras.layers.Conv1D(hidden_dim, 2 * time_stride, strides=time_stride, padding="same",
                                          activation="relu"))
    layers.append(keras.layers.Conv1D(code_dim, 1))
    return keras.Sequential(layers, name=name)
