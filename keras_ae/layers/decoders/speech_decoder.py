"""A speech decoder: content frames and a speaker vector -> spectral frames."""

import keras
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.layers.conditioning.adaptive_instance_normalization import AdaptiveInstanceNormalization
from keras_ae.layers.conditioning.reference_attention import ReferenceAttention

CONDITIONING = ("adain", "concat")


@keras.saving.register_keras_serializable(package="keras_ae")
class SpeechDecoder(keras.layers.Layer):
    """Content codes `[batch, steps, code_dim]` and a speaker embedding `[batch, speaker_dim]` -> frames
    `[batch, steps * upsample, num_mel_bins]` (or `[batch, length, num_mel_bins]`), through `blocks` residual 1-D
    convolution blocks.

    With `upsample > 1` each code step is repeated `upsample` times before the first convolution, which undoes
    `ContentEncoder(downsample=upsample)`; `call(..., length=frames)` crops the output to the frame count of the
    input, since the encoder rounds up.

    The speaker enters every block: `"adain"` gives each block's output the scale and shift an
    `AdaptiveInstanceNormalization` reads from the speaker embedding (Chou, Yeh & Lee, 2019, AdaIN-VC);
    `"concat"` concatenates the embedding to every frame before each block (Chou et al., 2018).

    With `dilation > 1` block `i` dilates its convolution by `dilation ** i` (WaveNet's doubling: van den Oord et
    al., 2016), so the blocks see `1 + (kernel_size - 1) * (dilation ** blocks - 1) / (dilation - 1)` frames
    instead of `1 + (kernel_size - 1) * blocks` at the same cost: a narrow content code needs the context of its
    neighbours to name the spectrum of a frame.

    With `reference_attention`, the speaker also enters frame by frame: after the input projection, each frame
    attends to the frames of a reference utterance of the speaker (`ReferenceAttention`, FragmentVC's idea;
    `call(..., reference=frames, reference_mask=...)`, any reference length) and adds what it finds, on top of the
    speaker embedding's conditioning.

    Args:
        num_mel_bins: bins of the output frames.
        filters: channels of the convolutions.
        blocks: residual blocks.
        kernel_size: kernel width in frames.
        conditioning: `"adain"` or `"concat"`.
        upsample: frames per content step.
        dilation: growth of the convolutions' dilation from block to block (1: none).
        norm_first: with AdaIN, normalise each block's input instead of its output.
        reference_attention: attend to a reference utterance's `num_mel_bins` log-mel frames (`call`'s
            `reference`, then required).
        attention_heads: heads of that attention.

    Example:
        decoder = SpeechDecoder(num_mel_bins=80, conditioning="adain")
        frames = decoder(content, speaker)              # [b, t, 16], [b, 64] -> [b, t, 80]
        frames = SpeechDecoder(80, upsample=4)(coarse, speaker, length=t)   # [b, ceil(t / 4), 16] -> [b, t, 80]
        wide = SpeechDecoder(80, blocks=6, dilation=2)   # sees 253 frames (2.5 s) around each frame
        fragments = SpeechDecoder(80, reference_attention=True)
        frames = fragments(content, speaker, reference=reference_frames)   # reference_frames [b, r, 80]
    """

    def __init__(self, num_mel_bins=80, filters=128, blocks=3, kernel_size=5, conditioning="adain", upsample=1,
                 dilation=1, norm_first=False, reference_attention=False, attention_heads=4, **kwargs):
        super().__init__(**kwargs)
        num_mel_bins = integer_at_least("SpeechDecoder num_mel_bins", num_mel_bins, 1)
        blocks = integer_at_least("SpeechDecoder blocks", blocks, 1)
        upsample = integer_at_least("SpeechDecoder upsample", upsample, 1)
        dilation = integer_at_least("SpeechDecoder dilation", dilation, 1)
        if conditioning not in CONDITIONING:
            raise ValueError(f"Unknown conditioning {conditioning!r}: choose one of {', '.join(CONDITIONING)}.")
        # Layers
        self.project_in = keras.layers.Conv1D(filters, 1, name="project_in")
        self.convolutions = [keras.layers.Conv1D(filters, kernel_size, padding="same", dilation_rate=dilation ** i,
                                                 name=f"block_{i}") for i in range(blocks)]
        self.adains = ([AdaptiveInstanceNormalization(filters, name=f"adain_{i}") for i in range(blocks)]
                       if conditioning == "adain" else [])
        self.attention = (ReferenceAttention(filters, heads=attention_heads, filters=filters, kernel_size=kernel_size,
                                             name="reference_attention") if reference_attention else None)
        self.project_out = keras.layers.Dense(num_mel_bins, name="project_out")
        # Config
        self.num_mel_bins = num_mel_bins
        self.filters = filters
        self.blocks = blocks
        self.kernel_size = kernel_size
        self.conditioning = conditioning
        self.upsample = upsample
        self.dilation = dilation
        self.norm_first = bool(norm_first)
        self.reference_attention = bool(reference_attention)
        self.attention_heads = attention_heads

    def build(self, content_shape, speaker_shape=None):
        speaker_dim = speaker_shape[-1]
        self.project_in.build((None, None, content_shape[-1]))
        if self.attention is not None:
            self.attention.build((None, None, self.filters), (None, None, self.num_mel_bins))
        extra = speaker_dim if self.conditioning == "concat" else 0
        for index, convolution in enumerate(self.convolutions):
            convolution.build((None, None, self.filters + extra))
            if self.adains:
                self.adains[index].build((None, None, self.filters), (None, speaker_dim))
        self.project_out.build((None, None, self.filters))
        self.built = True

    def call(self, content, speaker, length=None, reference=None, reference_mask=None, training=False):
        if self.upsample > 1:
            content = tf.repeat(content, self.upsample, axis=1)
        if length is not None:
            content = content[:, :length]
        hidden = self.project_in(content)
        if self.attention is not None:
            if reference is None:
                raise ValueError("SpeechDecoder(reference_attention=True) needs the reference utterance's frames: "
                                 "call(content, speaker, reference=frames).")
            hidden = hidden + self.attention(hidden, reference, reference_mask=reference_mask, training=training)
        for index, convolution in enumerate(self.convolutions):
            if self.adains and self.norm_first:
                hidden_in = self.adains[index](hidden, speaker)
                hidden = hidden + convolution(tf.nn.gelu(hidden_in))
                continue
            inputs = tf.nn.gelu(hidden)
            if self.conditioning == "concat":
                tiled = tf.broadcast_to(speaker[:, None, :], [tf.shape(inputs)[0], tf.shape(inputs)[1],
                                                              tf.shape(speaker)[-1]])
                inputs = tf.concat([inputs, tiled], axis=-1)
            update = convolution(inputs)
            if self.adains:
                update = self.adains[index](update, speaker)
            hidden = hidden + update
        return self.project_out(tf.nn.gelu(hidden))

    def compute_output_shape(self, content_shape, speaker_shape=None):
        steps = content_shape[1] * self.upsample if content_shape[1] is not None else None
        return (content_shape[0], steps, self.num_mel_bins)

    def get_config(self):
        config = super().get_config()
        config.update({"num_mel_bins": self.num_mel_bins, "filters": self.filters, "blocks": self.blocks,
                       "kernel_size": self.kernel_size, "conditioning": self.conditioning,
                       "upsample": self.upsample, "dilation": self.dilation, "norm_first": self.norm_first,
                       "reference_attention": self.reference_attention, "attention_heads": self.attention_heads})
        return config
