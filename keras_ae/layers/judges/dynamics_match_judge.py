"""A statistic match for voice conversion: decoded frames get the per-coefficient cepstral spread of their speaker."""

import keras
import numpy as np
import tensorflow as tf

from keras_ae.layers.audio.deltas import with_deltas

COEFFICIENTS = 13  # c0-c12 of the log-mel frames, as the speaker judge's MFCCs
SPREADS = 3 * COEFFICIENTS - 1  # c1-c12, and the deltas and delta-deltas of c0-c12
EPSILON = 1e-3  # added to a spread before its log
# The converted frames' targets (see DynamicsMatchJudge): the reference crop's own spreads, or one of the targets that
# read the training speakers' table
TARGETS = ("reference", "speaker-shift", "blend", "source-deviation")
TABLE_TARGETS = TARGETS[1:]


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


def speaker_share(utterance_log_spreads, speakers):
    """`[38]`: for each log spread, the share of its variance over utterances that lies between speakers (the
    intraclass correlation of a one-way analysis of variance): `between / (between + within)`, `within` the mean
    squared deviation of an utterance from its speaker's mean, `between` the variance of the speakers' means less
    `within` over the mean utterances per speaker (its expected excess from finite counts; floored at 0). It is the
    weight that makes `w * x_reference + (1 - w) * x_source` nearest, in mean squared error, to the source's own
    deviation in the reference speaker's voice when each spread is speaker plus an independent rest.

    Example:
        speakers = np.repeat(np.arange(4), 10)
        speaker_share(np.random.normal(size=[40, 38]) + 3 * speakers[:, None], speakers)   # about 0.9 each
    """
    spreads, speakers = np.asarray(utterance_log_spreads, "float64"), np.asarray(speakers)
    names, index, counts = np.unique(speakers, return_inverse=True, return_counts=True)
    if len(names) < 2 or len(speakers) <= len(names):
        raise ValueError(f"speaker_share needs two speakers or more and more utterances than speakers; got "
                         f"{len(names)} speaker(s) and {len(speakers)} utterance(s).")
    means = np.stack([spreads[index == k].mean(axis=0) for k in range(len(names))])
    within = np.sum((spreads - means[index]) ** 2, axis=0) / (len(speakers) - len(names))
    between = np.maximum(means.var(axis=0, ddof=1) - within * np.mean(1.0 / counts), 0.0)
    return between / np.maximum(between + within, 1e-12)


@keras.saving.register_keras_serializable(package="keras_ae")
class DynamicsMatchJudge(keras.layers.Layer):
    """Asks the decoder for the speaker's pattern of dynamics: per utterance, the standard deviation over time of
    each cepstral coefficient c1-c12 and of the deltas and delta-deltas of c0-c12 (the spreads an MFCC speaker
    classifier reads) of the decoded frames must match those of a real utterance of the speaker whose code made them, in
    mean |log ratio| (`spread_log_error`). A speaker's pattern is stable across sentences
    (docs/results/voice_conversion.md, session 15: another sentence's spreads identify the target as well as the same
    sentence's), so this holds for *converted* frames too, which have no frame-by-frame target: the content of one
    utterance with the speaker code of another is compared with that other utterance's spreads. Global variance (Toda &
    Tokuda, 2007) matches one spread per bin against the same utterance; this matches the speaker's per-coefficient
    pattern across utterances.

    `target` says what the converted frames' spreads must match. `"reference"` (the default): the reference crop's
    own spreads. `"speaker-shift"`: they are *speaker-shifted*: the spreads also depend on the sentence (its phones
    and their pace), and another sentence's spreads ask the converted frames for that sentence's share too, so in
    expectation for spreads that ignore their own content. The judge keeps every training speaker's mean log spreads
    `m` (`adapt`, a table of `num_speakers` rows), splits a real crop's log spreads into its speaker's mean and its
    sentence's deviation `d = log spreads - m[speaker]`, and asks the converted frames for the reference's log
    spreads with the reference's deviation traded for the source's: `log spreads(reference) + d(source) -
    d(reference)` (without augmentation: `m[reference speaker] + d(source)`, the source's dynamics in the target's
    pattern). This is the additive speaker-plus-sentence model of mean-shift conversion (e.g. the global-variance
    shift of Toda & Tokuda, 2007), on log spreads.

    That target depends on the reference only through its speaker's row of the table, so the decoder can learn a
    lookup from the code to one of the training speakers' means, and gives a voice far from all of them (a held-out
    engine's) the pattern of a trained one (docs/results/voice_conversion.md, session 18). `target="blend"` follows the
    reference crop instead: `w * log spreads(reference) + (1 - w) * log spreads(source)` per spread, `w` the share
    of that spread's variance that lies between the training speakers (`speaker_share`, set by `adapt` with the
    table): spreads that mostly tell speakers apart come from the reference crop, spreads that mostly follow the
    sentence from the source crop. It is the mean-squared-error best such mix when a spread is speaker plus an
    independent rest. With augmentation the reference's warp is kept whole: `log spreads(reference) + (1 - w) *
    (log spreads(source) - log spreads(reference_real))`.

    The blend's `(1 - w)` part is the source crop's spreads *with its speaker's part*, so for a given pair of
    speakers its mean is `w` of the way from the source's voice to the reference's: it rewards converted frames for
    keeping some of the source's voice (docs/results/voice_conversion.md, session 19). `target="source-deviation"` takes
    the voice from the reference crop whole and the content's share from the source's deviation from its own speaker:
    `log spreads(reference) + d(source)`, `d(source) = log spreads(source) - m[source speaker]`. For a given pair of
    speakers its mean is the shifted target's, `m[reference speaker] + d(source)` (the deviations average to 0 over a
    speaker's utterances), so it asks for the whole speaker difference; but it never reads the reference's row, so
    the part of it that varies with the reference crop (that crop's own deviation from its speaker) must be read off
    the speaker code, as with the `"reference"` target.
    Only the source's row is read, and in training the source is always a training speaker. A warped reference
    keeps its warp whole (its own spreads are used). Speaker ids are read only by `adapt` and for the table's rows.
    `source_share` s in [0, 1] scales the source's part: `log spreads(reference) + s * d(source)`, so s = 0 asks
    for the `"reference"` target's spreads and s = 1 (the default) for the whole deviation: the dose of the source
    crop's dynamics in the target, which lifts phones and the seen share and loses a held-out engine's voices
    (docs/results/voice_conversion.md, sessions 20-21).

    Reads `code[2]["dynamics"]`, a list of `(decoded, reference)` pairs of unnormalised log-mel frames `[batch,
    time, bins]` (any lengths), made by `DisentanglingAutoEncoder(dynamics_weight=...)`: the rebuilt frames against
    the utterances that gave their speaker codes, and the converted ones against theirs (last). With a table target
    the last entry is `(decoded, reference, shift)`, `shift` a dict of the real (unwarped) frames `"source"` and
    `"reference_real"` and their int speaker ids `"source_speakers"` and `"reference_speakers"` `[batch]`. It
    returns `[batch]` losses (the mean over the pairs) and the last pair's error as `dynamics_error`.

    Args:
        num_speakers: rows of the speakers' table (the training speaker ids), for the targets that read it
            (`TABLE_TARGETS`); 0 with `"reference"`.
        target: `"reference"` (no table), `"speaker-shift"` (the table's means), `"blend"` (the table's
            `speaker_share`) or `"source-deviation"` (the source's row of the table).
        source_share: with `"source-deviation"`, the share in [0, 1] of the source's deviation in the target
            (1: all of it); the other targets take only 1.

    Example:
        judge = DynamicsMatchJudge(name="dynamics")                      # target="reference"
        code = (frames, speaker, {"dynamics": [(rebuilt, frames), (converted, other)]}, content)
        losses, metrics = judge.judge_loss({}, code)                     # [batch], {"dynamics_error": ...}
        shifted = DynamicsMatchJudge(num_speakers=12, target="speaker-shift")
        shifted.adapt(log_spreads(log_mel_utterances), speaker_ids)      # every training speaker's mean log spreads
        blended = DynamicsMatchJudge(num_speakers=12, target="blend")   # adapt sets speaker_share too
        deviation = DynamicsMatchJudge(num_speakers=12, target="source-deviation")
        half = DynamicsMatchJudge(num_speakers=12, target="source-deviation", source_share=0.5)
    """

    def __init__(self, num_speakers=0, target="reference", source_share=1.0, **kwargs):
        super().__init__(**kwargs)
        if int(num_speakers) != num_speakers or num_speakers < 0:
            raise ValueError(f"num_speakers must be a whole number, 0 or more; got {num_speakers}.")
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}; got {target!r}.")
        if target in TABLE_TARGETS and not num_speakers:
            raise ValueError(f"target={target!r} reads the speakers' table: give num_speakers > 0 (the training "
                             "speaker ids).")
        if target not in TABLE_TARGETS and num_speakers:
            raise ValueError(f"num_speakers={num_speakers} sizes a speakers' table that target={target!r} never "
                             f"reads: give num_speakers=0, or a target that reads it, one of {TABLE_TARGETS}.")
        if not 0.0 <= source_share <= 1.0:
            raise ValueError(f"source_share must lie in [0, 1] (the share of the source's deviation in the target); "
                             f"got {source_share}.")
        if source_share != 1.0 and target != "source-deviation":
            raise ValueError(f"source_share={source_share} scales the source's deviation of target='source-deviation'; "
                             f"target={target!r} has none: leave source_share at 1.")
        self.num_speakers = int(num_speakers)
        self.target = target
        self.source_share = float(source_share)
        self.metric_names = ("dynamics_error",)
        if self.num_speakers:
            self.speaker_log_spreads = self.add_weight(shape=(self.num_speakers, SPREADS), initializer="zeros",
                                                       trainable=False, name="speaker_log_spreads")
            self.speaker_counts = self.add_weight(shape=(self.num_speakers,), initializer="zeros", trainable=False,
                                                  name="speaker_counts")
        if self.target == "blend":  # only then, so the checkpoints of speaker-shift runs keep their variables
            self.speaker_share = self.add_weight(shape=(SPREADS,), initializer="zeros", trainable=False,
                                                 name="speaker_share")

    def build(self, code_shape):
        self.built = True

    def adapt(self, utterance_log_spreads, speakers):
        """Sets every speaker's mean log spreads from real utterances' `log_spreads` `[utterances, 38]` and their
        int speaker ids (each below `num_speakers`), and with `target="blend"` the `speaker_share` of each spread.
        Speakers without an utterance keep a count of 0, and a training batch that converts to or from one of them
        stops with an error (with "speaker-shift" or "source-deviation")."""
        spreads, speakers = np.asarray(utterance_log_spreads, "float64"), np.asarray(speakers, "int64")
        if not self.num_speakers:
            raise ValueError("adapt sets the speakers' table: build the judge with num_speakers > 0 and a target that "
                             f"reads it, one of {TABLE_TARGETS}.")
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
        if self.target == "blend":
            self.speaker_share.assign(speaker_share(spreads, speakers).astype("float32"))

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if not config.get("num_speakers") and config.get("target", "speaker-shift") == "speaker-shift":
            config["target"] = "reference"  # before session 20 no table meant the reference target, whatever target
        return cls(**config)

    def converted_target(self, reference, shift):
        """`[batch, 38]`: the log spreads the converted frames must have, with a table target (see the class doc):
        the reference's with its sentence's deviation from its speaker's mean traded for the source's
        (`"speaker-shift"`), their mix by `speaker_share` (`"blend"`), or the reference's own plus `source_share`
        of the source's deviation (`"source-deviation"`)."""
        if self.target == "blend":
            check = tf.debugging.assert_positive(
                tf.reduce_sum(self.speaker_counts),
                message="the blend's speaker shares are not set: call adapt (DisentanglingAutoEncoder."
                        "adapt_speaker_dynamics) on the training speakers' utterances before training")
            with tf.control_dependencies([check]):
                difference = log_spreads(shift["source"]) - log_spreads(shift["reference_real"])
            return log_spreads(reference) + (1.0 - self.speaker_share) * difference
        def deviation(frames, speakers):
            speakers = tf.cast(speakers, "int32")
            check = tf.debugging.assert_positive(
                tf.gather(self.speaker_counts, speakers),
                message="a speaker of this batch has no mean log spreads: call adapt (DisentanglingAutoEncoder."
                        "adapt_speaker_dynamics) on every training speaker's utterances before training")
            with tf.control_dependencies([check]):
                return log_spreads(frames) - tf.gather(self.speaker_log_spreads, speakers)
        source = deviation(shift["source"], shift["source_speakers"])
        if self.target == "source-deviation":
            return log_spreads(reference) + self.source_share * source
        return log_spreads(reference) + source - deviation(shift["reference_real"], shift["reference_speakers"])

    def judge_loss(self, batch, code, training=False):
        if not isinstance(code, (tuple, list)) or len(code) != 4 or "dynamics" not in code[2]:
            raise ValueError("A DynamicsMatchJudge reads a code (frames, speaker, {'dynamics': [(decoded, reference), "
                             "...]}, content): use it through DisentanglingAutoEncoder(dynamics_weight=...).")
        errors = []
        for pair in code[2]["dynamics"]:
            if len(pair) == 3 and not self.num_speakers:
                raise ValueError("A pair (decoded, reference, shift) needs a target that reads the speakers' table: "
                                 f"DynamicsMatchJudge(num_speakers=..., target=one of {TABLE_TARGETS}).")
            target = self.converted_target(*pair[1:]) if len(pair) == 3 else log_spreads(pair[1])
            errors.append(tf.reduce_mean(tf.abs(log_spreads(pair[0]) - target), axis=-1))
        return tf.add_n(errors) / len(errors), {"dynamics_error": tf.reduce_mean(errors[-1])}

    def get_config(self):
        config = super().get_config()
        config.update({"num_speakers": self.num_speakers, "target": self.target, "source_share": self.source_share})
        return config
