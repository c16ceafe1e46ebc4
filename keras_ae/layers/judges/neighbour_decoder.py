"""Skip-thought's judge: a decoder that must predict a neighbouring sentence from a sentence's code."""

import keras

from keras_ae.config import deserialize_sublayers
from keras_ae.losses import masked_token_crossentropy, scored_token_crossentropy


@keras.saving.register_keras_serializable(package="keras_ae")
class NeighbourDecoder(keras.layers.Layer):
    """Judges a sentence's code by how well a conditional decoder, trained with teacher forcing, predicts the
    tokens of a neighbouring sentence from it (Kiros et al., 2015, "Skip-Thought Vectors").

    Args:
        decoder: a `ConditionalGRUDecoder`-like layer, `decoder(inputs, code) -> logits [batch, length, vocabulary]`.
            When it has `output_features(inputs, code)` and `to_logits` (`ConditionalGRUDecoder`), the vocabulary
            layer and the softmax run at the scored positions only (`scored_token_crossentropy`: the padding after
            the end symbol costs nothing; the same loss to float rounding).

    Example:
        judge = NeighbourDecoder(ConditionalGRUDecoder(vocabulary_size=3002), name="next")
        losses = judge.judge_loss({"inputs": input_ids, "targets": target_ids}, thought)   # [batch]
    """

    def __init__(self, decoder, **kwargs):
        super().__init__(**kwargs)
        # Layers
        self.decoder = decoder

    def judge_loss(self, batch, code, training=False):
        """Per-sentence token cross-entropy `[batch]` (padding after the end symbol masked out) of
        `batch["targets"]`, given the decoder's teacher-forcing `batch["inputs"]` and the code."""
        if hasattr(self.decoder, "output_features"):
            features = self.decoder.output_features(batch["inputs"], code, training=training)
            return scored_token_crossentropy(batch["targets"], features, self.decoder.to_logits)
        logits = self.decoder(batch["inputs"], code, training=training)
        return masked_token_crossentropy(batch["targets"], logits)

    def get_config(self):
        config = super().get_config()
        config["decoder"] = keras.saving.serialize_keras_object(self.decoder)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("decoder",)))
