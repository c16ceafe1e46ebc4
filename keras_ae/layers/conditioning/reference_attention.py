"""Frame-level speaker conditioning: decoder frames attend to the frames of a reference utterance."""

import keras
import tensorflow as tf

from keras_ae.core.validation import integer_at_least


@keras.saving.register_keras_serializable(package="keras_ae")
class ReferenceAttention(keras.layers.Layer):
    """Queries `[batch, time, channels]` (a decoder's hidden frames, made from the content code) attend to the
    frames of a reference utterance `[batch, reference_time, bins]` (its log-mel frames, any length) and get back
    `[batch, time, channels]`: for each frame, a mix of the reference frames whose keys match it.

    Keys and values come from a small stack of 1-D convolutions over the reference frames without instance
    normalisation, so they keep the reference's per-frame spectral detail that a time-averaged speaker vector
    (and AdaIN's one scale and shift per channel) cannot carry. This is the fragment idea of FragmentVC (Lin et
    al., 2021, "FragmentVC: Any-to-any voice conversion by end-to-end extracting and fusing fine-grained voice
    fragments with attention") and of attention-based one-shot conversion. There is no position encoding: the
    reference is a bag of frames, so any reference length works. Train it with references that are other
    utterances of the speaker (`DisentanglingAutoEncoder(speaker_reference="other")`): with the utterance's own
    frames the queries would find and copy its content.

    `reference_mask` (`[batch, reference_time]`, True for real frames) hides padded reference frames: they are
    zeroed before every convolution (as the convolutions' own zero padding) and never attended to.

    Args:
        channels: channels of the queries and of the output.
        heads: attention heads (`channels // heads` per head for keys and values).
        filters: channels of the reference convolutions.
        blocks: reference convolutions.
        kernel_size: their width in frames.

    Example:
        attention = ReferenceAttention(channels=128)
        mixed = attention(hidden, reference_frames)      # [b, t, 128], [b, r, 80] -> [b, t, 128]
    """

    def __init__(self, channels, heads=4, filters=128, blocks=2, kernel_size=5, **kwargs):
        super().__init__(**kwargs)
        channels = integer_at_least("ReferenceAttention channels", channels, 1)
        heads = integer_at_least("ReferenceAttention heads", heads, 1)
        blocks = integer_at_least("ReferenceAttention blocks", blocks, 1)
        if channels % heads:
            raise ValueError(f"ReferenceAttention channels ({channels}) must be a multiple of heads ({heads}).")
        # Layers
        self.convolutions = [keras.layers.Conv1D(filters, kernel_size, padding="same", activation="gelu",
                                                 name=f"reference_{i}") for i in range(blocks)]
        self.attention = keras.layers.MultiHeadAttention(heads, channels // heads, name="attention")
        # Config
        self.channels = channels
        self.heads = heads
        self.filters = filters
        self.blocks = blocks
        self.kernel_size = kernel_size

    def build(self, queries_shape, reference_shape=None):
        shape = (None, None, reference_shape[-1])
        for convolution in self.convolutions:
            convolution.build(shape)
            shape = (None, None, self.filters)
        self.attention.build((None, None, self.channels), shape, shape)
        self.built = True

    def encode_reference(self, reference, reference_mask=None):
        """Keys and values `[batch, reference_time, filters]` of the reference frames."""
        hidden = reference
        for convolution in self.convolutions:
            if reference_mask is not None:
                hidden = hidden * tf.cast(reference_mask, hidden.dtype)[:, :, None]
            hidden = convolution(hidden)
        return hidden

    def call(self, queries, reference, reference_mask=None, training=False):
        memory = self.encode_reference(reference, reference_mask)
        attention_mask = None
        if reference_mask is not None:
            attention_mask = tf.broadcast_to(tf.cast(reference_mask, "bool")[:, None, :],
                                             [tf.shape(queries)[0], tf.shape(queries)[1], tf.shape(memory)[1]])
        return self.attention(queries, memory, memory, attention_mask=attention_mask, training=training)

    def compute_output_shape(self, queries_shape, reference_shape=None):
        return tuple(queries_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"channels": self.channels, "heads": self.heads, "filters": self.filters,
                       "blocks": self.blocks, "kernel_size": self.kernel_size})
        return config
