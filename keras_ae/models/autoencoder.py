"""The classic auto-encoder: the one loop with a single judge, a decoder that scores reconstruction error."""

import keras

from keras_ae.config import deserialize_sublayers
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.layers.decoders.conv_image_decoder import ConvImageDecoder
from keras_ae.layers.encoders.conv_image_encoder import ConvImageEncoder
from keras_ae.layers.judges.reconstruction_judge import ReconstructionJudge


@keras.saving.register_keras_serializable(package="keras_ae")
class AutoEncoder(JudgedEncoder):
    """Encoder and decoder trained to minimise the reconstruction error (Hinton & Salakhutdinov, 2006,
    "Reducing the dimensionality of data with neural networks").

    It is nothing but `JudgedEncoder` with one `ReconstructionJudge`: the discriminator view of representation
    learning whose judge sees matched pairs only.

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

    input_name = "images"

    def __init__(
        self, image_shape=(28, 28, 1), embedding_dim=64, encoder=None, decoder=None, reconstruction_loss="mse", **kwargs
    ):
        encoder = encoder or ConvImageEncoder(embedding_dim=embedding_dim, name="encoder")
        judge = ReconstructionJudge(
            decoder or ConvImageDecoder(image_shape=image_shape, name="decoder"),
            loss=reconstruction_loss,
            name="reconstruction",
        )
        super().__init__(
            encoder=encoder,
            judges=[judge],
            input_shape=image_shape,
            **kwargs,
        )
        # Config
        self.image_shape = tuple(image_shape)
        self.embedding_dim = embedding_dim
        self.reconstruction_loss = judge.loss

    @property
    def decoder(self):
        return self.judges[0].decoder

    def decode(self, embedding):
        """Reconstructed images from embeddings."""
        return self.decoder(embedding)

    def reconstruction_errors(self, images, training=False):
        """Per-example reconstruction error `[batch]`."""
        return self.judge_losses(images, training=training)[0][0]

    def get_config(self):
        config = without_parts(super().get_config())
        config.update(
            {
                "image_shape": list(self.image_shape),
                "embedding_dim": self.embedding_dim,
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "reconstruction_loss": self.reconstruction_loss,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder", "decoder")))
