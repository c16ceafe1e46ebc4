"""A content-consistency loss for voice conversion: converted frames must re-encode to their source's content code."""

import keras
import tensorflow as tf

from keras_ae.layers.conditioning.instance_normalization import InstanceNormalization


@keras.saving.register_keras_serializable(package="keras_ae")
class ContentConsistencyJudge(keras.layers.Layer):
    """Asks the decoder to keep the words when it swaps the voice: the content of one utterance decoded with the
    speaker code of another (the converted frames, which have no frame-by-frame target) is encoded again by the
    content encoder, and that code must match the source's own content code, mean absolute difference per code float
    and step. Both codes are first standardised over the utterance per float (`InstanceNormalization`), so what must
    match is the code's pattern in time (the words), not its utterance-level means and scales, which hold most of
    what a content code keeps of the speaker (a speaker probe on the code reads them). The source's code is the
    target (gradient stopped), so the loss never moves the code it is compared with. The content-code loss of AutoVC
    (Qian et al., 2019, "AutoVC: zero-shot voice style transfer with only autoencoder loss"), there on
    self-reconstructions, here on conversions, where the swap loses phones (docs/results/voice_conversion.md, session
    21). No phone labels are read.

    Reads `code[2]["content_consistency"]`, a pair `(reencoded, content)` of content codes `[batch, steps, dim]`,
    made by `DisentanglingAutoEncoder(content_consistency_weight=...)`: the code of frames converted from codes held
    fixed, by the content encoder with its weights held fixed (so only the decoder learns from the loss), and the
    source's. Returns `[batch]` losses and their mean as `content_consistency_error`.

    Example:
        judge = ContentConsistencyJudge(name="content_consistency")
        code = (frames, speaker, {"content_consistency": (reencoded, content)}, content)
        losses, metrics = judge.judge_loss({}, code)      # [batch], {"content_consistency_error": ...}
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Layers
        self.standardize = InstanceNormalization(name="standardize")
        self.metric_names = ("content_consistency_error",)

    def build(self, code_shape):
        self.built = True

    def judge_loss(self, batch, code, training=False):
        if not isinstance(code, (tuple, list)) or len(code) != 4 or "content_consistency" not in code[2]:
            raise ValueError("A ContentConsistencyJudge reads a code (frames, speaker, {'content_consistency': "
                             "(reencoded, content)}, content): use it through "
                             "DisentanglingAutoEncoder(content_consistency_weight=...).")
        reencoded, content = code[2]["content_consistency"]
        target = self.standardize(tf.stop_gradient(tf.cast(content, "float32")))
        error = tf.abs(self.standardize(tf.cast(reencoded, "float32")) - target)
        losses = tf.reduce_mean(error, axis=[1, 2])
        return losses, {"content_consistency_error": tf.reduce_mean(losses)}
