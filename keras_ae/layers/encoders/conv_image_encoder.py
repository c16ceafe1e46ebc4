"""Convolutional image encoder that returns both its last feature map and the embedding."""

import math

import keras


@keras.saving.register_keras_serializable(package="keras_ae")
class ConvImageEncoder(keras.layers.Layer):
    """Strided convolutions, then a dense head: `images -> (feature_map, embedding)`.

    The feature map (e.g. 7x7x64 for 28x28 inputs) is what Deep InfoMax's local objective pairs with the
    embedding; models that only need the embedding take the second output.

    Args:
        embedding_dim: size of the embedding.
        filters: channels of each stride-2 convolution block.
        hidden_dim: width of the dense layer between the feature map and the embedding.

    Example:
        encoder = ConvImageEncoder(embedding_dim=64)
        feature_map, z = encoder(tf.zeros([8, 28, 28, 1]))   # [8, 7, 7, 64], [8, 64]
    """

    def __init__(self, embedding_dim=64, filters=(32, 64), hidden_dim=256, **kwargs):
        super().__init__(**kwargs)
        # Layers
        self.blocks = []
        for index, width in enumerate(filters):
            self.blocks.append(keras.layers.Conv2D(width, 3, strides=2, padding="same", name=f"conv_{index}"))
            # Synchronized: batch statistics over the global batch, so N replicas train like one device.
            self.blocks.append(keras.layers.BatchNormalization(synchronized=True, name=f"norm_{index}"))
            self.blocks.append(keras.layers.ReLU(name=f"relu_{index}"))
        self.flatten = keras.layers.Flatten()
        self.hidden = keras.layers.Dense(hidden_dim, activation="relu", name="hidden")
        self.to_embedding = keras.layers.Dense(embedding_dim, name="embedding")
        # Config
        self.embedding_dim = embedding_dim
        self.filters = tuple(filters)
        self.hidden_dim = hidden_dim

    def build(self, input_shape):
        shape = tuple(input_shape)
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.flatten.build(shape)
        self.hidden.build((shape[0], math.prod(shape[1:])))
        self.to_embedding.build((shape[0], self.hidden_dim))

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for block in self.blocks:
            shape = block.compute_output_shape(shape)
        return shape, (input_shape[0], self.embedding_dim)

    def call(self, images, training=None):
        features = images
        for block in self.blocks:
            features = block(features, training=training)
        embedding = self.to_embedding(self.hidden(self.flatten(features)))
        return features, embedding

    def get_config(self):
        config = super().get_config()
        config.update({"embedding_dim": self.embedding_dim, "filters": list(self.filters), "hidden_dim": self.hidden_dim})
        return config
