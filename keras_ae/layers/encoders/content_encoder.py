"""A content encoder for speech: spectral frames -> one content vector per frame."""

import keras
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.layers.conditioning.instance_normalization import InstanceNormalization


@keras.saving.register_keras_serializable(package="keras_ae")
class ContentEncoder(keras.layers.Layer):
    """Frames `[batch, time, bins]` -> content codes `[batch, ceil(time / downsample), code_dim]`: an input
    convolution, `blocks` residual 1-D convolution blocks and a linear projection to `code_dim` floats per step (the
    bottleneck whose size decides how much besides the content can pass; Qian et al., 2019, "AutoVC").

    With `downsample > 1` the last block's output is averaged over non-overlapping windows of `downsample` frames
    before the projection, so one code step covers `downsample` 10 ms frames: a narrower code in time, which AdaIN-VC
    uses (8x in its official configuration) to leave less room for the speaker. `SpeechDecoder(upsample=...)`
    undoes it.

    With `instance_norm`, the input projection and every block's residual sum are instance-normalised without
    affine parameters (Chou, Yeh & Lee, 2019, AdaIN-VC), so no path to the code keeps an utterance's channel means
    and scales: much of the speaker.

    Args:
        code_dim: floats per frame of the content code.
        filters: channels of the convolutions.
        blocks: residual blocks.
        kernel_size: kernel width in frames.
        instance_norm: instance normalisation after every block and on the code.
        downsample: frames per code step (1: one code per frame).

    Example:
        encoder = ContentEncoder(code_dim=16, instance_norm=True)
        content = encoder(frames)                       # frames [b, t, 80] -> [b, t, 16]
        coarse = ContentEncoder(code_dim=16, downsample=4)(frames)   # [b, ceil(t / 4), 16]
    """

    def __init__(self, code_dim, filters=128, blocks=3, kernel_size=5, instance_norm=True, downsample=1, **kwargs):
        super().__init__(**kwargs)
        code_dim = integer_at_least("ContentEncoder code_dim", code_dim, 1)
        blocks = integer_at_least("ContentEncoder blocks", blocks, 1)
        downsample = integer_at_least("ContentEncoder downsample", downsample, 1)
        # Layers
        self.project_in = keras.layers.Conv1D(filters, 1, name="project_in")
        self.convolutions = [keras.layers.Conv1D(filters, kernel_size, padding="same", name=f"block_{i}")
                             for i in range(blocks)]
        self.norms = [InstanceNormalization(name=f"norm_{i}") for i in range(blocks + 1)] if instance_norm else []
        self.project_out = keras.layers.Dense(code_dim, name="project_out")
        # Config
        self.code_dim = code_dim
        self.filters = filters
        self.blocks = blocks
        self.kernel_size = kernel_size
        self.instance_norm = bool(instance_norm)
        self.downsample = downsample

    def build(self, frames_shape):
        self.project_in.build(frames_shape)
        for convolution in self.convolutions:
            convolution.build((None, None, self.filters))
        self.project_out.build((None, None, self.filters))
        self.built = True

    def call(self, frames, mask=None, training=False):
        normalize = (lambda x, i: self.norms[i](x, mask=mask)) if self.instance_norm else (lambda x, i: x)
        hidden = normalize(self.project_in(frames), 0)
        for index, convolution in enumerate(self.convolutions):
            hidden = normalize(hidden + convolution(tf.nn.gelu(hidden)), index + 1)
        if self.downsample > 1:
            hidden = tf.nn.avg_pool1d(hidden, self.downsample, self.downsample, padding="SAME")
        return self.project_out(tf.nn.gelu(hidden))

    def compute_output_shape(self, frames_shape):
        steps = frames_shape[1]
        if steps is not None:
            steps = -(-steps // self.downsample)
        return (frames_shape[0], steps, self.code_dim)

    def get_config(self):
        config = super().get_config()
        config.update({"code_dim": self.code_dim, "filters": self.filters, "blocks": self.blocks,
                       "kernel_size": self.kernel_size, "instance_norm": self.instance_norm,
                       "downsample": self.downsample})
        return config
