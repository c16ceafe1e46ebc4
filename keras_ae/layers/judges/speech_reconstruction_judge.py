"""The judge of the disentangling speech auto-encoders: rebuild the frames from content and speaker codes."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers

LOSSES = ("l1", "l2")


def batch_waveforms(batch):
    """The waveforms of a speech batch: `batch["waveforms"]`, or the batch itself."""
    return batch["waveforms"] if isinstance(batch, dict) else batch


@keras.saving.register_keras_serializable(package="keras_ae")
class SpeechReconstructionJudge(keras.layers.Layer):
    """Judges a code `(frames, speaker, content)` (`SpeakerContentEncoder`'s output) by how well the decoder rebuilds
    the frames from the content codes and the speaker embedding: the mean absolute (`loss="l1"`) or squared
    (`"l2"`) error per utterance, the decoder's output cropped to the frames' length. It also trains the vocoder's
    post-net on the same real frames (`GriffinLimVocoder.postnet_loss`, the frames held fixed), so the vocoder
    always matches the features it is given.

    Args:
        decoder: `(content, speaker) -> frames`, e.g. `SpeechDecoder`.
        vocoder: frames -> waveforms with a `postnet_loss(frames, waveforms)`, e.g. `GriffinLimVocoder`.
        postnet_weight: weight of the post-net's loss.
        loss: `"l1"` (mean absolute error, as in AdaIN-VC) or `"l2"` (mean squared error) on the frames.

    Example:
        judge = SpeechReconstructionJudge(SpeechDecoder(80), GriffinLimVocoder(80), name="reconstruction")
        losses, metrics = judge.judge_loss({"waveforms": waveforms}, encoder(waveforms))
    """

    def __init__(self, decoder, vocoder, postnet_weight=1.0, loss="l1", **kwargs):
        super().__init__(**kwargs)
        if loss not in LOSSES:
            raise ValueError(f"Unknown reconstruction loss {loss!r}: choose one of {', '.join(LOSSES)}.")
        # Layers
        self.decoder = decoder
        self.vocoder = vocoder
        # Config
        self.postnet_weight = float(postnet_weight)
        self.loss = loss
        self.metric_names = ("frame_l1", "postnet_l1")

    def build(self, code_shape):
        frames_shape, speaker_shape, content_shape = code_shape
        if not self.decoder.built:
            self.decoder.build(content_shape, speaker_shape)
        if not self.vocoder.built:
            self.vocoder.build(frames_shape)
        self.built = True

    def judge_loss(self, batch, code, training=False):
        frames, speaker, content = code
        frames = tf.stop_gradient(frames)
        rebuilt = self.decoder(content, speaker, length=tf.shape(frames)[1], training=training)
        error = tf.cast(rebuilt, "float32") - frames
        frame_l1 = tf.reduce_mean(tf.abs(error), axis=[1, 2])
        frame_loss = frame_l1 if self.loss == "l1" else tf.reduce_mean(tf.square(error), axis=[1, 2])
        postnet_l1 = tf.cast(self.vocoder.postnet_loss(frames, batch_waveforms(batch), training=training), "float32")
        metrics = {"frame_l1": tf.reduce_mean(frame_l1), "postnet_l1": tf.reduce_mean(postnet_l1)}
        return frame_loss + self.postnet_weight * postnet_l1, metrics

    def get_config(self):
        config = super().get_config()
        config.update({"decoder": keras.saving.serialize_keras_object(self.decoder),
                       "vocoder": keras.saving.serialize_keras_object(self.vocoder),
                       "postnet_weight": self.postnet_weight, "loss": self.loss})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("decoder", "vocoder")))
