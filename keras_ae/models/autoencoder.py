"""The classic auto-encoder: encoder, decoder, reconstruction error."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.layers.conv_image_decoder import ConvImageDecoder
from keras_ae.layers.conv_image_encoder import ConvImageEncoder
from keras_ae.losses import check_reconstruction_loss, reconstruction_error
from keras_ae.models.training import ReconstructionSteps


@keras.saving.register_keras_serializable(package="keras_ae")
class AutoEncoder(ReconstructionSteps, keras.Model):
    """Encoder and decoder trained to minimise the reconstruction error (Hinton & Salakhutdinov, 2006,
    "Reducing the dimensionality of data with neural networks").

    It is the special case of `JudgedEncoder` whose only judge is a `ReconstructionJudge`; the tests check that
    both give the same loss and gradients for the same weights.

    Args:
        image_shape: `(height, width, channels)` of the images (float32 in [0, 1]).
        embedding_dim: size of the embedding.
        encoder: a layer returning `(feature_map, embedding)`; default `ConvImageEncoder(embedding_dim)`.
        decoder: a layer mapping embeddings to images; default `ConvImageDecoder(image_shape)`.
        reconstruction_loss: `"mse"`, `"mae"` or `"bce"`.

    Example:
        model = AutoEncoder(image_shape=(28, 28, 1), embedding_dim=64)
        model.compile(optimizer="adam")
        model.fit(train_images, epochs=5)
        reconstructions = model.decode(model.encode(test_images))
    """

    def __init__(
        self, image_shape=(28, 28, 1), embedding_dim=64, encoder=None, decoder=None, reconstruction_loss="mse", **kwargs
    ):
        super().__init__(**kwargs)
        # Layers
        self.encoder = encoder or ConvImageEncoder(embedding_dim=embedding_dim, name="encoder")
        self.decoder = decoder or ConvImageDecoder(image_shape=image_shape, name="decoder")
        # Metrics
        self.loss_tracker = keras.metrics.Mean(name="loss")
        # Config
        self.image_shape = tuple(image_shape)
        self.embedding_dim = embedding_dim
        self.reconstruction_loss = check_reconstruction_loss(reconstruction_loss)
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None, *self.image_shape))

    @property
    def metrics(self):
        return [self.loss_tracker]

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        if not self.decoder.built:
            self.decoder.build(self.encoder.compute_output_shape(input_shape)[1])

    def call(self, images, training=False):
        return self.encoder(images, training=training)[1]

    def encode(self, images):
        """Embeddings `[batch, embedding_dim]` of float32 images in [0, 1]."""
        return self(images, training=False)

    def decode(self, embedding):
        """Reconstructed images from embeddings."""
        return self.decoder(embedding)

    def reconstruction_errors(self, images, training=False):
        """Per-example reconstruction error `[batch]`."""
        embedding = self(images, training=training)
        return reconstruction_error(images, self.decoder(embedding), kind=self.reconstruction_loss)

    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`)."""
        image_spec = tf.TensorSpec([None, *self.image_shape], tf.float32, name="images")
        embedding_spec = tf.TensorSpec([None, self.embedding_dim], tf.float32, name="embeddings")
        return {"encode": (self.encode, [image_spec]), "decode": (self.decode, [embedding_spec])}

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": list(self.image_shape),
                "embedding_dim": self.embedding_dim,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "reconstruction_loss": self.reconstruction_loss,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder", "decoder")))
