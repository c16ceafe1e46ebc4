"""The classic auto-encoder's judge: a decoder that scores a pair by its reconstruction error."""

import keras

from keras_ae.config import deserialize_sublayers
from keras_ae.losses import check_reconstruction_loss, reconstruction_error


@keras.saving.register_keras_serializable(package="keras_ae")
class ReconstructionJudge(keras.layers.Layer):
    """Judges an (input, embedding) pair by how well a decoder rebuilds the input from the embedding.

    It plugs into the same pair-training loop as `PairDiscriminator` (`JudgedEncoder`), but sees matched pairs
    only: its loss is the reconstruction error and its score the negative error. With it, `JudgedEncoder` trains
    exactly like the classic `AutoEncoder` (same loss, same gradients) - the special case of the discriminator
    view of representation learning.

    Args:
        decoder: a layer mapping embeddings to reconstructions, e.g. `ConvImageDecoder`.
        loss: `"mse"`, `"mae"` or `"bce"` (see `keras_ae.losses.reconstruction_error`).

    Example:
        judge = ReconstructionJudge(ConvImageDecoder(image_shape=(28, 28, 1)))
        model = JudgedEncoder(ConvImageEncoder(64), judges=[judge], image_shape=(28, 28, 1))
    """

    def __init__(self, decoder, loss="mse", **kwargs):
        super().__init__(**kwargs)
        # Layers
        self.decoder = decoder
        # Config
        self.loss = check_reconstruction_loss(loss)

    def build(self, features_shape, embedding_shape):
        self.decoder.build(embedding_shape)

    def decode(self, embedding):
        return self.decoder(embedding)

    def judge_loss(self, inputs, features, embedding):
        """Per-example reconstruction error of `inputs` from `embedding`."""
        return reconstruction_error(inputs, self.decoder(embedding), kind=self.loss)

    def score(self, inputs, features, embedding):
        """Negative reconstruction error: higher means the pair belongs together."""
        return -self.judge_loss(inputs, features, embedding)

    def get_config(self):
        config = super().get_config()
        config.update({"decoder": keras.saving.serialize_keras_object(self.decoder), "loss": self.loss})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("decoder",)))
