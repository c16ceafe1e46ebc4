"""Strided convolutional encoder on raw waveforms: one embedding per hop (160 samples = 10 ms at 16 kHz)."""

import math

import keras
import tensorflow as tf


def build_normalized_stack(layers, norms, projection, shape):
    """Builds `layer -> norm` pairs in order, then `projection`, from the input `shape` (a frame encoder's stack)."""
    for layer, norm in zip(layers, norms):
        if not layer.built:
            layer.build(shape)
        shape = layer.compute_output_shape(shape)
        if not norm.built:
            norm.build(shape)
    if not projection.built:
        projection.build(shape)


@keras.saving.register_keras_serializable(package="keras_ae")
class WaveformEncoder(keras.layers.Layer):
    """Raw audio `[batch, samples]` -> frame embeddings `[batch, ceil(samples / hop), embedding_dim]`.

    A stack of strided 1-D convolutions (CPC's kernels 10, 8, 4, 4, 4 with strides 5, 4, 2, 2, 2: a hop of 160
    samples and a receptive field of 465 samples), each followed by a per-frame channel normalisation (as in
    Riviere et al., 2020, "Unsupervised pretraining transfers well across languages") and a ReLU, then a 1x1
    projection to the embedding. With `normalize_input`, each waveform is first scaled to zero mean and unit
    variance, so recordings of different loudness give the same embeddings.

    Paper: van den Oord, Li & Vinyals, 2018, "Representation Learning with Contrastive Predictive Coding".

    Args:
        embedding_dim: size of each frame embedding.
        filters: channels of every convolution (an int for all, or one per layer).
        kernel_sizes: kernel width of each convolution.
        strides: stride of each convolution; their product is the hop.
        normalize_input: standardise each waveform before the convolutions.

    Example:
        encoder = WaveformEncoder(embedding_dim=64, filters=32)
        frames = encoder(tf.zeros([2, 16000]))   # [2, 100, 64]: one embedding per 10 ms
    """

    def __init__(self, embedding_dim=128, filters=64, kernel_sizes=(10, 8, 4, 4, 4), strides=(5, 4, 2, 2, 2),
                 normalize_input=True, **kwargs):
        super().__init__(**kwargs)
        filters = [filters] * len(kernel_sizes) if isinstance(filters, int) else list(filters)
        if not len(filters) == len(kernel_sizes) == len(strides):
            raise ValueError(f"Give one filters, kernel size and stride per layer; got {len(filters)}, "
                             f"{len(kernel_sizes)} and {len(strides)}.")
        # Layers
        self.convolutions, self.norms = [], []
        for index, (width, kernel, stride) in enumerate(zip(filters, kernel_sizes, strides)):
            self.convolutions.append(
                keras.layers.Conv1D(width, kernel, strides=stride, padding="same", name=f"conv_{index}")
            )
            self.norms.append(keras.layers.LayerNormalization(name=f"norm_{index}"))
        self.projection = keras.layers.Dense(embedding_dim, name="projection")
        # Config
        self.embedding_dim = embedding_dim
        self.filters = tuple(filters)
        self.kernel_sizes = tuple(kernel_sizes)
        self.strides = tuple(strides)
        self.normalize_input = normalize_input

    @property
    def hop(self):
        """Samples per output frame."""
        return math.prod(self.strides)

    def build(self, input_shape):
        build_normalized_stack(self.convolutions, self.norms, self.projection, (input_shape[0], input_shape[1], 1))

    def num_frames(self, num_samples):
        """Frames the encoder returns for `num_samples` samples."""
        for stride in self.strides:
            num_samples = -(-num_samples // stride)
        return num_samples

    def compute_output_shape(self, input_shape):
        length = input_shape[1]
        return (input_shape[0], None if length is None else self.num_frames(length), self.embedding_dim)

    def call(self, waveforms):
        features = tf.cast(waveforms, self.compute_dtype)
        if self.normalize_input:
            mean, variance = tf.nn.moments(features, axes=[1], keepdims=True)
            features = (features - mean) * tf.math.rsqrt(variance + 1e-5)
        features = features[..., None]
        for convolution, norm in zip(self.convolutions, self.norms):
            features = tf.nn.relu(norm(convolution(features)))
        return self.projection(features)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "filters": list(self.filters),
                "kernel_sizes": list(self.kernel_sizes),
                "strides": list(self.strides),
                "normalize_input": self.normalize_input,
            }
        )
        return config
