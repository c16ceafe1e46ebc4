"""The judge of the disentangling speech auto-encoders: rebuild the frames from content and speaker codes."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.validation import integer_at_least

LOSSES = ("l1", "l2")


def batch_waveforms(batch):
    """The waveforms of a speech batch: `batch["waveforms"]`, or the batch itself."""
    return batch["waveforms"] if isinstance(batch, dict) else batch


def frame_spread_error(rebuilt, frames):
    """Per utterance `[batch]`: the mean over bins of |std over time of `rebuilt` - that of `frames`|, averaged
    with the same for the frame-to-frame differences (the global variance of the frames and of their dynamics).

    Example:
        frame_spread_error(tf.zeros([2, 10, 80]), tf.random.normal([2, 10, 80]))   # about [1.2, 1.2]
    """
    def spread(x):
        return tf.math.reduce_std(x, axis=1)

    static = tf.reduce_mean(tf.abs(spread(rebuilt) - spread(frames)), axis=-1)
    dynamic = tf.reduce_mean(tf.abs(spread(rebuilt[:, 1:] - rebuilt[:, :-1]) - spread(frames[:, 1:] - frames[:, :-1])),
                             axis=-1)
    return 0.5 * (static + dynamic)


def frame_envelope_error(rebuilt, frames, coefficients=20):
    """Per utterance `[batch]`: the mean absolute difference of the first `coefficients` cepstra (orthonormal
    DCT-II over the bins of each frame) of `rebuilt` and of `frames` `[batch, time, bins]`: the error of the
    spectral envelope (formants, tilt) alone, without the fine structure across bins (harmonics).

    Example:
        detail = tf.signal.idct(tf.one_hot([40], 80), type=2, norm="ortho")   # a ripple across bins, cepstrum 40
        frame_envelope_error(tf.zeros([1, 10, 80]) + detail, tf.zeros([1, 10, 80]))   # [0.]: no envelope error
    """
    cepstra = tf.signal.dct(rebuilt - frames, type=2, norm="ortho")[..., :coefficients]
    return tf.reduce_mean(tf.abs(cepstra), axis=[1, 2])


@keras.saving.register_keras_serializable(package="keras_ae")
class SpeechReconstructionJudge(keras.layers.Layer):
    """Judges a code `(frames, speaker, content)` (`SpeakerContentEncoder`'s output; or `(frames, speaker,
    {"rebuilt": ...}, content)` with the decoder's output already made) by how well the decoder rebuilds
    the frames from the content codes and the speaker embedding: the mean absolute (`loss="l1"`) or squared
    (`"l2"`) error per utterance, the decoder's output cropped to the frames' length. It also trains the vocoder's
    post-net on the same real frames (`GriffinLimVocoder.postnet_loss`, the frames held fixed), so the vocoder
    always matches the features it is given; when the judged frames are transformed (pseudo-speakers:
    `DisentanglingAutoEncoder(speaker_augmentation=True)`), the post-net learns from the real frames given as
    `{"vocoder_frames": ...}` beside "rebuilt".

    With `spread_weight > 0` a global-variance term is added: per utterance and mel bin, the absolute difference
    between the standard deviation over time of the rebuilt and of the real frames, and the same for their
    frame-to-frame differences, averaged (reported as `frame_spread`). A decoder trained on L1 or L2 alone
    over-smooths: its frames vary less over time than real speech (Toda & Tokuda, 2007, "A speech parameter
    generation algorithm considering global variance for HMM-based speech synthesis", whose remedy this is, as a
    training loss). docs/results/voice_conversion.md measures that the speaker classifier misses converted speech
    mostly on these statistics.

    With `envelope_weight > 0` an envelope term is added: the mean absolute difference of the first
    `envelope_coefficients` cepstra of the rebuilt and the real frames (`frame_envelope_error`, reported as
    `frame_envelope`). Half of a decoder's frame error lies in the fine structure across bins (harmonics), which the
    content code cannot predict; the phones lie in the envelope (docs/results/voice_conversion.md: the phone
    probe's loss on self-reconstruction is almost all in the envelope), and an L1 on bins gives the envelope only
    the sign of the whole error. The cepstral distance is the one of mel-cepstral distortion (Kubichek, 1993).

    Args:
        decoder: `(content, speaker) -> frames`, e.g. `SpeechDecoder`.
        vocoder: frames -> waveforms with a `postnet_loss(frames, waveforms)`, e.g. `GriffinLimVocoder`.
        postnet_weight: weight of the post-net's loss.
        loss: `"l1"` (mean absolute error, as in AdaIN-VC) or `"l2"` (mean squared error) on the frames.
        spread_weight: weight of the global-variance term (0: none).
        envelope_weight: weight of the envelope term (0: none).
        envelope_coefficients: cepstra the envelope term compares (c0 up to, not including, this one).

    Example:
        judge = SpeechReconstructionJudge(SpeechDecoder(80), GriffinLimVocoder(80), name="reconstruction")
        losses, metrics = judge.judge_loss({"waveforms": waveforms}, encoder(waveforms))
    """

    def __init__(self, decoder, vocoder, postnet_weight=1.0, loss="l1", spread_weight=0.0, envelope_weight=0.0,
                 envelope_coefficients=20, **kwargs):
        super().__init__(**kwargs)
        if loss not in LOSSES:
            raise ValueError(f"Unknown reconstruction loss {loss!r}: choose one of {', '.join(LOSSES)}.")
        if not spread_weight >= 0:
            raise ValueError(f"SpeechReconstructionJudge spread_weight must be 0 or more; got {spread_weight}.")
        if not envelope_weight >= 0:
            raise ValueError(f"SpeechReconstructionJudge envelope_weight must be 0 or more; got {envelope_weight}.")
        envelope_coefficients = integer_at_least("SpeechReconstructionJudge envelope_coefficients",
                                                 envelope_coefficients, 1)
        # Layers
        self.decoder = decoder
        self.vocoder = vocoder
        # Config
        self.postnet_weight = float(postnet_weight)
        self.loss = loss
        self.spread_weight = float(spread_weight)
        self.envelope_weight = float(envelope_weight)
        self.envelope_coefficients = envelope_coefficients
        self.metric_names = (("frame_l1", "postnet_l1") + (("frame_spread",) if self.spread_weight else ())
                             + (("frame_envelope",) if self.envelope_weight else ()))

    def build(self, code_shape):
        frames_shape, speaker_shape, content_shape = code_shape
        if not self.decoder.built:
            self.decoder.build(content_shape, speaker_shape)
        if not self.vocoder.built:
            self.vocoder.build(frames_shape)
        self.built = True

    def judge_loss(self, batch, code, training=False):
        frames, speaker, content = code[0], code[1], code[-1]
        frames = tf.stop_gradient(frames)
        vocoder_frames = frames
        if len(code) == 4:  # (frames, speaker, generated, content): the model decoded already
            rebuilt = code[2]["rebuilt"]
            vocoder_frames = tf.stop_gradient(code[2].get("vocoder_frames", frames))
        else:
            rebuilt = self.decoder(content, speaker, length=tf.shape(frames)[1], training=training)
        error = tf.cast(rebuilt, "float32") - frames
        frame_l1 = tf.reduce_mean(tf.abs(error), axis=[1, 2])
        frame_loss = frame_l1 if self.loss == "l1" else tf.reduce_mean(tf.square(error), axis=[1, 2])
        postnet_l1 = tf.cast(self.vocoder.postnet_loss(vocoder_frames, batch_waveforms(batch), training=training),
                             "float32")
        metrics = {"frame_l1": tf.reduce_mean(frame_l1), "postnet_l1": tf.reduce_mean(postnet_l1)}
        loss = frame_loss + self.postnet_weight * postnet_l1
        if self.spread_weight:
            spread = frame_spread_error(tf.cast(rebuilt, "float32"), frames)
            metrics["frame_spread"] = tf.reduce_mean(spread)
            loss = loss + self.spread_weight * spread
        if self.envelope_weight:
            envelope = frame_envelope_error(tf.cast(rebuilt, "float32"), frames, self.envelope_coefficients)
            metrics["frame_envelope"] = tf.reduce_mean(envelope)
            loss = loss + self.envelope_weight * envelope
        return loss, metrics

    def get_config(self):
        config = super().get_config()
        config.update({"decoder": keras.saving.serialize_keras_object(self.decoder),
                       "vocoder": keras.saving.serialize_keras_object(self.vocoder),
                       "postnet_weight": self.postnet_weight, "loss": self.loss,
                       "spread_weight": self.spread_weight, "envelope_weight": self.envelope_weight,
                       "envelope_coefficients": self.envelope_coefficients})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("decoder", "vocoder")))
