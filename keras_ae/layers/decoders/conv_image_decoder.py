"""Transposed-convolution image decoder, the mirror of `ConvImageEncoder`."""

import keras


@keras.saving.register_keras_serializable(package="keras_ae")
class ConvImageDecoder(keras.layers.Layer):
    """`embedding -> image` with values in [0, 1] (sigmoid output).

    Args:
        image_shape: `(height, width, channels)` of the images to produce; height and width must be divisible by
            `2 ** len(filters)`.
        filters: channels of each stride-2 transposed convolution, coarsest first.
        hidden_dim: width of the dense layer before the first feature map.

    Example:
        decoder = ConvImageDecoder(image_shape=(28, 28, 1))
        images = decoder(tf.zeros([8, 64]))   # [8, 28, 28, 1]
    """

    def __init__(self, image_shape=(28, 28, 1), filters=(64, 32), hidden_dim=256, **kwargs):
        super().__init__(**kwargs)
        height, width, channels = image_shape
        scale = 2 ** len(filters)
        if height % scale or width % scale:
            raise ValueError(
                f"ConvImageDecoder cannot produce {height}x{width} images with {len(filters)} stride-2 blocks: "
                f"height and width must be divisible by {scale}. Pad or resize the images, or pass fewer filters."
            )
        # Layers
        self.hidden = keras.layers.Dense(hidden_dim, activation="relu", name="hidden")
        self.to_grid = keras.layers.Dense((height // scale) * (width // scale) * filters[0], activation="relu")
        self.reshape = keras.layers.Reshape((height // scale, width // scale, filters[0]))
        self.blocks = []
        for index, width_ in enumerate(filters):
            self.blocks.append(
                keras.layers.Conv2DTranspose(width_, 3, strides=2, padding="same", activation="relu", name=f"up_{index}")
            )
        self.to_image = keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="image")
        # Config
        self.image_shape = tuple(image_shape)
        self.filters = tuple(filters)
        self.hidden_dim = hidden_dim

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.to_grid.build((input_shape[0], self.hidden_dim))
        shape = self.reshape.compute_output_shape(self.to_grid.compute_output_shape((input_shape[0], self.hidden_dim)))
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.to_image.build(shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    def call(self, embedding):
        features = self.reshape(self.to_grid(self.hidden(embedding)))
        for block in self.blocks:
            features = block(features)
        return self.to_image(features)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"image_shape": list(self.image_shape), "filters": list(self.filters), "hidden_dim": self.hidden_dim}
        )
        return config
