"""The classic auto-encoder's judge: a decoder that scores a pair by its reconstruction error."""

import keras

from keras_ae.config import deserialize_sublayers
from keras_ae.core.judged_encoder import code_embedding, code_embedding_shape
from keras_ae.losses import check_reconstruction_loss, reconstruction_error


@keras.saving.register_keras_serializable(package="keras_ae")
class ReconstructionJudge(keras.layers.Layer):
    """Judges an (input, embedding) pair by how well a decoder rebuilds the input from the embedding.

    It plugs into the same pair-training loop as `PairDiscriminator` (`JudgedEncoder`), but sees matched pairs
    only: its loss is the reconstruction error and its score the negative error. `JudgedEncoder` with this judge
    alone is the classic `AutoEncoder` - the special case of the discriminator view of representation learning.

    Args:
        decoder: a layer mapping embeddings to reconstructions, e.g. `ConvImageDecoder`.
        loss: `"mse"`, `"mae"` or `"bce"` (see `keras_ae.losses.reconstruction_error`).

    Example:
        judge = ReconstructionJudge(ConvImageDecoder(image_shape=(28, 28, 1)), name="reconstruction")
        model = JudgedEncoder(ConvImageEncoder(64), judges=[judge], input_shape=(28, 28, 1))
    """

    def __init__(self, decoder, loss="mse", **kwargs):
        super().__init__(**kwargs)
        # Layers
        self.decoder = decoder
        # Config
        self.loss = check_reconstruction_loss(loss)

    def build(self, code_shape):
        if not self.decoder.built:
            self.decoder.build(code_embedding_shape(code_shape))
        self.built = True

    def decode(self, embedding):
        """Reconstructions from embeddings."""
        return self.decoder(embedding)

    def judge_loss(self, inputs, code, training=False):
        """Per-example reconstruction error `[batch]` of `inputs` from the code's embedding."""
        reconstructions = self.decoder(code_embedding(code), training=training)
        return reconstruction_error(inputs, reconstructions, kind=self.loss)

    def score(self, inputs, code):
        """Negative reconstruction error: higher means the pair belongs together."""
        return -self.judge_loss(inputs, code)

    def get_config(self):
        config = super().get_config()
        config.update({"decoder": keras.saving.serialize_keras_object(self.decoder), "loss": self.loss})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("decoder",)))
