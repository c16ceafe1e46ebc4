"""Global rhythm conversion: estimate how fast an utterance is spoken, without labels, and stretch a code in time.

A frame-by-frame voice conversion keeps the source's timing, but speakers differ in speaking rate (the eSpeak
speakers of the default corpus speak at 150 to 195 words per minute, and real speakers differ as much). The global
remedy (one ratio per utterance, as in the rhythm step of prosody-converting VC systems) is to measure the rate of
source and reference and resample the source's content code in time by their ratio before decoding.

The rate needs no labels: it is the mean change of the speaker-independent content code from one step to the next
over the speech steps of the utterance (a code that changes once per phone changes more often per second when the
phones are shorter). Silence is left out, so leading and trailing pauses do not count as slow speech.
"""

import tensorflow as tf

SPEECH_RANGE = 6.9  # a step counts as speech within this many nats of log power (30 dB) of the loudest frame


def speech_mask(log_power, step=1):
    """`[batch, ceil(time / step)]` float mask of the code steps whose frame is speech: the frame's loudest mel bin
    (`log_power`, unnormalised log-mel `[batch, time, bins]`) within `SPEECH_RANGE` of the utterance's loudest.

    Example:
        mask = speech_mask(front_end.log_mel(waveforms), step=model.downsample)
    """
    energy = tf.reduce_max(log_power, axis=-1)[:, ::step]
    return tf.cast(energy > tf.reduce_max(energy, axis=1, keepdims=True) - SPEECH_RANGE, tf.float32)


def code_change_rate(codes, mask):
    """`[batch]`: the mean Euclidean change of `codes` `[batch, steps, dim]` between neighbouring steps that are both
    speech (`mask` `[batch, steps]`, e.g. `speech_mask`); an utterance with under two speech steps gets the mean
    change over all of its steps.

    Example:
        rate = code_change_rate(content, speech_mask(log_mel))   # faster speech: larger
    """
    codes = tf.cast(codes, tf.float32)
    changes = tf.norm(codes[:, 1:] - codes[:, :-1], axis=-1)
    both = mask[:, 1:] * mask[:, :-1]
    counted = tf.reduce_sum(both, axis=1)
    speech = tf.reduce_sum(changes * both, axis=1) / tf.maximum(counted, 1.0)
    return tf.where(counted > 0, speech, tf.reduce_mean(changes, axis=1))


def stretch_in_time(sequence, length):
    """`sequence` `[batch, steps, dim]` resampled to `length` steps by linear interpolation (both ends kept).

    Example:
        stretch_in_time(tf.reshape(tf.range(3.0), [1, 3, 1]), 5)[0, :, 0]   # [0, 0.5, 1, 1.5, 2]
    """
    sequence = tf.convert_to_tensor(sequence)
    steps = tf.shape(sequence)[1]
    length = tf.maximum(tf.cast(length, tf.int32), 1)
    scale = tf.cast(steps - 1, tf.float32) / tf.cast(tf.maximum(length - 1, 1), tf.float32)
    positions = tf.cast(tf.range(length), tf.float32) * scale
    lower = tf.minimum(tf.cast(tf.floor(positions), tf.int32), steps - 1)
    upper = tf.minimum(lower + 1, steps - 1)
    weight = tf.cast(positions - tf.cast(lower, tf.float32), sequence.dtype)[None, :, None]
    return (1 - weight) * tf.gather(sequence, lower, axis=1) + weight * tf.gather(sequence, upper, axis=1)
