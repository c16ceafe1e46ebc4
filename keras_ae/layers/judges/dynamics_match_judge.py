"""A statistic match for voice conversion: decoded frames get the per-coefficient cepstral spread of their speaker."""

import keras
import tensorflow as tf

from keras_ae.layers.audio.deltas import with_deltas

COEFFICIENTS = 13  # c0-c12 of the log-mel frames, as the speaker judge's MFCCs


def cepstral_spreads(log_mel):
    """`[batch, 3 * 13 - 1]`: the standard deviation over time of c0-c12 of unnormalised log-mel frames
    `[batch, time, bins]`, with their regression deltas and delta-deltas (`with_deltas`), all but c0's own (the
    level's spread).

    Example:
        cepstral_spreads(tf.random.normal([2, 50, 80])).shape    # [2, 38]
    """
    cepstra = tf.signal.mfccs_from_log_mel_spectrograms(tf.cast(log_mel, "float32"))[..., :COEFFICIENTS]
    return tf.math.reduce_std(with_deltas(cepstra), axis=1)[:, 1:]


def spread_log_error(frames, reference, epsilon=1e-3):
    """`[batch]`: mean over the coefficients of |log spread of `frames` - log spread of `reference`|
    (`cepstral_spreads`; both unnormalised log-mel `[batch, time, bins]`, any lengths)."""
    log_spread = lambda x: tf.math.log(cepstral_spreads(x) + epsilon)  # noqa: E731
    return tf.reduce_mean(tf.abs(log_spread(frames) - log_spread(reference)), axis=-1)


@keras.saving.register_keras_serializable(package="keras_ae")
class DynamicsMatchJudge(keras.layers.Layer):
    """Asks the decoder for the speaker's pattern of dynamics: per utterance, the standard deviation over time of
    each cepstral coefficient c1-c12 and of the deltas and delta-deltas of c0-c12 (the spreads an MFCC speaker
    classifier reads) of the decoded frames must match those of a real utterance of the speaker whose code made
    them, in mean |log ratio| (`spread_log_error`). A speaker's pattern is stable across sentences (README, voice
    conversion, session 15: another sentence's spreads identify the target as well as the same sentence's), so
    this holds for *converted* frames too, which have no frame-by-frame target: the content of one utterance with
    the speaker code of another is compared with that other utterance's spreads. Global variance (Toda & Tokuda,
    2007) matches one spread per bin against the same utterance; this matches the speaker's per-coefficient
    pattern across utterances.

    Reads `code[2]["dynamics"]`, a list of `(decoded, reference)` pairs of unnormalised log-mel frames `[batch,
    time, bins]` (any lengths), made by `DisentanglingAutoEncoder(dynamics_weight=...)`: the rebuilt frames against
    the utterances that gave their speaker codes, and the converted ones against theirs (last). It returns `[batch]`
    losses (the mean over the pairs) and the last pair's error as `dynamics_error`.

    Example:
        judge = DynamicsMatchJudge(name="dynamics")
        code = (frames, speaker, {"dynamics": [(rebuilt, frames), (converted, other)]}, content)
        losses, metrics = judge.judge_loss({}, code)                     # [batch], {"dynamics_error": ...}
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metric_names = ("dynamics_error",)

    def build(self, code_shape):
        self.built = True

    def judge_loss(self, batch, code, training=False):
        if not isinstance(code, (tuple, list)) or len(code) != 4 or "dynamics" not in code[2]:
            raise ValueError("A DynamicsMatchJudge reads a code (frames, speaker, {'dynamics': [(decoded, reference), "
                             "...]}, content): use it through DisentanglingAutoEncoder(dynamics_weight=...).")
        errors = [spread_log_error(decoded, reference) for decoded, reference in code[2]["dynamics"]]
        return tf.add_n(errors) / len(errors), {"dynamics_error": tf.reduce_mean(errors[-1])}
