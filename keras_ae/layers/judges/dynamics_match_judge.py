"""A statistic match for voice conversion: decoded frames get the per-coefficient cepstral spread of their speaker."""

import keras
import numpy as np
import tensorflow as tf

from keras_ae.layers.audio.deltas import with_deltas

COEFFICIENTS = 13  # c0-c12 of the log-mel frames, as the speaker judge's MFCCs
SPREADS = 3 * COEFFICIENTS - 1  # c1-c12, and the deltas and delta-deltas of c0-c12
EPSILON = 1e-3  # added to a spread before its log


def cepstral_spreads(log_mel):
    """`[batch, 3 * 13 - 1]`: the standard deviation over time of c0-c12 of unnormalised log-mel frames
    `[batch, time, bins]`, with their regression deltas and delta-deltas (`with_deltas`), all but c0's own (the
    level's spread).

    Example:
        cepstral_spreads(tf.random.normal([2, 50, 80])).shape    # [2, 38]
    """
    cepstra = tf.signal.mfccs_from_log_mel_spectrograms(tf.cast(log_mel, "float32"))[..., :COEFFICIENTS]
    return tf.math.reduce_std(with_deltas(cepstra), axis=1)[:, 1:]


def log_spreads(log_mel, epsilon=EPSILON):
    """`[batch, 38]`: the log of `cepstral_spreads` (plus `epsilon`), the scale the match compares on."""
    return tf.math.log(cepstral_spreads(log_mel) + epsilon)


def spread_log_error(frames, reference, epsilon=EPSILON):
    """`[batch]`: mean over the coefficients of |log spread of `frames` - log spread of `reference`|
    (`cepstral_spreads`; both unnormalised log-mel `[batch, time, bins]`, any lengths)."""
    return tf.reduce_mean(tf.abs(log_spreads(frames, epsilon) - log_spreads(reference, epsilon)), axis=-1)


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

    With `num_speakers` above 0 the converted frames' target is *speaker-shifted*: the spreads also depend on the
    sentence (its phones and their pace), and another sentence's spreads ask the converted frames for that
    sentence's share too, so in expectation for spreads that ignore their own content. The judge keeps every
    training speaker's mean log spreads `m` (`adapt`), splits a real crop's log spreads into its speaker's mean and
    its sentence's deviation `d = log spreads - m[speaker]`, and asks the converted frames for the reference's log
    spreads with the reference's deviation traded for the source's: `log spreads(reference) + d(source) -
    d(reference)` (without augmentation: `m[reference speaker] + d(source)`, the source's dynamics in the target's
    pattern). This is the additive speaker-plus-sentence model of mean-shift conversion (e.g. the global-variance
    shift of Toda & Tokuda, 2007), on log spreads.

    Reads `code[2]["dynamics"]`, a list of `(decoded, reference)` pairs of unnormalised log-mel frames `[batch,
    time, bins]` (any lengths), made by `DisentanglingAutoEncoder(dynamics_weight=...)`: the rebuilt frames against
    the utterances that gave their speaker codes, and the converted ones against theirs (last). With `num_speakers`
    the last entry is `(decoded, reference, shift)`, `shift` a dict of the real (unwarped) frames `"source"` and
    `"reference_real"` and their int speaker ids `"source_speakers"` and `"reference_speakers"` `[batch]`. It
    returns `[batch]` losses (the mean over the pairs) and the last pair's error as `dynamics_error`.

    Args:
        num_speakers: training speakers of the speaker-shifted target's table (0: the reference's own spreads).

    Example:
        judge = DynamicsMatchJudge(name="dynamics")
        code = (frames, speaker, {"dynamics": [(rebuilt, frames), (converted, other)]}, content)
        losses, metrics = judge.judge_loss({}, code)                     # [batch], {"dynamics_error": ...}
        shifted = DynamicsMatchJudge(num_speakers=12)
        shifted.adapt(log_spreads(log_mel_utterances), speaker_ids)      # every training speaker's mean log spreads
    """

    def __init__(self, num_speakers=0, **kwargs):
        super().__init__(**kwargs)
        if int(num_speakers) != num_speakers or num_speakers < 0:
            raise ValueError(f"num_speakers must be a whole number, 0 or more; got {num_speakers}.")
        self.num_speakers = int(num_speakers)
        self.metric_names = ("dynamics_error",)
        if self.num_speakers:
            self.speaker_log_spreads = self.add_weight(shape=(self.num_speakers, SPREADS), initializer="zeros",
                                                       trainable=False, name="speaker_log_spreads")
            self.speaker_counts = self.add_weight(shape=(self.num_speakers,), initializer="zeros", trainable=False,
                                                  name="speaker_counts")

    def build(self, code_shape):
        self.built = True

    def adapt(self, utterance_log_spreads, speakers):
        """Sets every speaker's mean log spreads from real utterances' `log_spreads` `[utterances, 38]` and their
        int speaker ids (each below `num_speakers`). Speakers without an utterance keep a count of 0, and a
        training batch that converts to or from one of them stops with an error."""
        spreads, speakers = np.asarray(utterance_log_spreads, "float64"), np.asarray(speakers, "int64")
        if not self.num_speakers:
            raise ValueError("adapt sets the speaker-shifted target's table: build the judge with num_speakers > 0.")
        if len(speakers) != len(spreads) or len(speakers) == 0 or spreads.shape[1:] != (SPREADS,):
            raise ValueError(f"adapt needs [utterances, {SPREADS}] log spreads and one speaker id per utterance; got "
                             f"{spreads.shape} and {len(speakers)} ids.")
        if speakers.min() < 0 or speakers.max() >= self.num_speakers:
            raise ValueError(f"speaker ids must lie in [0, {self.num_speakers}); got {speakers.min()} to "
                             f"{speakers.max()}: build the judge with num_speakers above the largest id.")
        sums = np.zeros((self.num_speakers, SPREADS))
        np.add.at(sums, speakers, spreads)
        counts = np.bincount(speakers, minlength=self.num_speakers)
        self.speaker_log_spreads.assign((sums / np.maximum(counts, 1)[:, None]).astype("float32"))
        self.speaker_counts.assign(counts.astype("float32"))

    def shifted_target(self, reference, shift):
        """`[batch, 38]`: the reference's log spreads with its sentence's deviation from its speaker's mean traded
        for the source's (see the class doc)."""
        def deviation(frames, speakers):
            speakers = tf.cast(speakers, "int32")
            check = tf.debugging.assert_positive(
                tf.gather(self.speaker_counts, speakers),
                message="a speaker of this batch has no mean log spreads: call adapt (DisentanglingAutoEncoder."
                        "adapt_speaker_dynamics) on every training speaker's utterances before training")
            with tf.control_dependencies([check]):
                return log_spreads(frames) - tf.gather(self.speaker_log_spreads, speakers)
        return (log_spreads(reference) + deviation(shift["source"], shift["source_speakers"])
                - deviation(shift["reference_real"], shift["reference_speakers"]))

    def judge_loss(self, batch, code, training=False):
        if not isinstance(code, (tuple, list)) or len(code) != 4 or "dynamics" not in code[2]:
            raise ValueError("A DynamicsMatchJudge reads a code (frames, speaker, {'dynamics': [(decoded, reference), "
                             "...]}, content): use it through DisentanglingAutoEncoder(dynamics_weight=...).")
        errors = []
        for pair in code[2]["dynamics"]:
            if len(pair) == 3 and not self.num_speakers:
                raise ValueError("A speaker-shifted pair (decoded, reference, shift) needs the judge's table: "
                                 "DynamicsMatchJudge(num_speakers=...).")
            target = self.shifted_target(*pair[1:]) if len(pair) == 3 else log_spreads(pair[1])
            errors.append(tf.reduce_mean(tf.abs(log_spreads(pair[0]) - target), axis=-1))
        return tf.add_n(errors) / len(errors), {"dynamics_error": tf.reduce_mean(errors[-1])}

    def get_config(self):
        config = super().get_config()
        config.update({"num_speakers": self.num_speakers})
        return config
