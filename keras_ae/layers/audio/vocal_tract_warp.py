"""Pseudo-speakers for training: a random vocal-tract-length warp of log-mel frames (Jaitly & Hinton, 2013,
"Vocal Tract Length Perturbation (VTLP) improves speech recognition").

A talker's vocal tract length scales the frequencies of its formants (and a higher voice moves its harmonics up
too), so stretching the frequency axis of an utterance by a factor `alpha` makes it sound like another talker
saying the same words: a shorter tract for `alpha > 1`, a longer one below 1. `VocalTractLengthWarp` applies VTLP's
piecewise-linear warp to the mel axis of log-mel frames `[batch, time, bins]`, with one `alpha` per utterance:
frequencies below the boundary `boundary_hertz * min(alpha, 1)` scale by `alpha`, those above it move linearly so
that `upper_hertz` stays in place (no band leaves the filter bank). Each warped band takes the value of the
original spectrum at the frequency the warp sends to it, interpolated between the two nearest mel bands. The warp
moves harmonics and formants together (a pitch and formant shift in one, like a tape played faster with its tempo
kept); it acts on each frame alone, so the time axis, and frames whose bands all hold one value (padding), are
kept. At `alpha = 1` it is the identity.

Randomness: in training, `call` draws `alpha` uniform in `alpha_range` per utterance from the layer's
`keras.random.SeedGenerator` (built from `seed`; the replica id folded in, so replicas of a strategy draw apart).
`draw(batch_size)` and `call(frames, alphas=...)` let a caller give two inputs the same warp (an utterance and its
speaker reference). Outside training, and without `alphas`, the layer is the identity.

Example:
    warp = VocalTractLengthWarp(alpha_range=(0.85, 1.15), seed=0)
    frames = tf.random.normal([2, 100, 80])
    warped = warp(frames, training=True)                     # [2, 100, 80], a new pseudo-speaker per utterance
    same = warp(frames, alphas=tf.constant([1.0, 1.1]))     # the first utterance unchanged
"""

import keras
import tensorflow as tf

from keras_ae.distribute import replica_uniform

_MEL_BREAK_HERTZ = 700.0  # the mel scale of tf.signal.linear_to_mel_weight_matrix (and so of LogMelSpectrogram)
_MEL_Q = 1127.0


def _mel(hertz):
    return _MEL_Q * tf.math.log1p(hertz / _MEL_BREAK_HERTZ)


def _hertz(mel):
    return _MEL_BREAK_HERTZ * tf.math.expm1(mel / _MEL_Q)


def checked_alpha_range(alpha_range):
    """`alpha_range` as a pair of floats `(low, high)` with `0.5 <= low <= high <= 2`, else a ValueError."""
    alpha_range = tuple(float(value) for value in alpha_range)
    if len(alpha_range) != 2 or not 0.5 <= alpha_range[0] <= alpha_range[1] <= 2.0:
        raise ValueError(f"The warp range (alpha_range, --warp-range) must be (low, high) with 0.5 <= low <= high "
                         f"<= 2; got {alpha_range}.")
    return alpha_range


@keras.saving.register_keras_serializable(package="keras_ae")
class VocalTractLengthWarp(keras.layers.Layer):
    """A random frequency warp per utterance of log-mel frames: a new pseudo-speaker (see the module doc).

    Args:
        alpha_range: `(low, high)` of the uniform warp factor (`alpha > 1`: formants and harmonics move up).
        boundary_hertz: VTLP's `F_hi`: below `boundary_hertz * min(alpha, 1)` every frequency scales by `alpha`.
        lower_hertz, upper_hertz: the band edges of the frames' mel filter bank (`LogMelSpectrogram`'s); the warp
            keeps `upper_hertz` in place.
        seed: seed of the layer's generator (None: one from Keras's global seed).
    """

    def __init__(self, alpha_range=(0.85, 1.15), boundary_hertz=4800.0, lower_hertz=20.0, upper_hertz=7600.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        alpha_range = checked_alpha_range(alpha_range)
        if not 0 <= lower_hertz < boundary_hertz * min(alpha_range[0], 1.0) <= boundary_hertz < upper_hertz:
            raise ValueError(f"VocalTractLengthWarp needs lower_hertz < boundary_hertz * min(low alpha, 1) and "
                             f"boundary_hertz < upper_hertz; got {lower_hertz}, {boundary_hertz}, {upper_hertz} "
                             f"with alpha_range {alpha_range}.")
        # Config
        self.alpha_range = alpha_range
        self.boundary_hertz = float(boundary_hertz)
        self.lower_hertz = float(lower_hertz)
        self.upper_hertz = float(upper_hertz)
        self.seed = seed
        # Randomness
        self.seed_generator = keras.random.SeedGenerator(seed)

    def draw(self, batch_size):
        """Warp factors `[batch_size]`, uniform in `alpha_range`."""
        return replica_uniform([batch_size], self.seed_generator, *self.alpha_range)

    def source_hertz(self, hertz, alphas):
        """The frequency `[batch, n]` of the original spectrum that the warp by `alphas` `[batch]` sends to each of
        `hertz` `[n]` (the inverse of VTLP's piecewise-linear warp)."""
        alphas = tf.convert_to_tensor(alphas, tf.float32)[:, None]
        hertz = tf.convert_to_tensor(hertz, tf.float32)[None]
        knee = self.boundary_hertz * tf.minimum(alphas, 1.0)  # where the warped axis leaves the line f' = alpha f
        knee_source = knee / alphas
        top = self.upper_hertz
        above = top - (top - hertz) * (top - knee_source) / (top - knee)
        return tf.where(hertz <= knee, hertz / alphas, above)

    def warp(self, frames, alphas):
        """`frames` `[batch, time, bins]` warped by `alphas` `[batch]`."""
        frames = tf.convert_to_tensor(frames)
        bins = frames.shape[-1]
        if bins is None:
            raise ValueError("VocalTractLengthWarp needs frames with a known number of mel bins (the last axis).")
        low, high = _mel(tf.constant(self.lower_hertz)), _mel(tf.constant(self.upper_hertz))
        step = (high - low) / (bins + 1)
        centres = low + step * tf.range(1, bins + 1, dtype=tf.float32)  # the filter bank's band centres, in mel
        position = (_mel(self.source_hertz(_hertz(centres), alphas)) - low) / step - 1.0  # fractional band index
        position = tf.clip_by_value(position, 0.0, bins - 1.0)
        below = tf.minimum(tf.cast(tf.floor(position), tf.int32), bins - 2)
        fraction = tf.cast(position - tf.cast(below, tf.float32), frames.dtype)[:, None]
        lower = tf.gather(frames, below, axis=2, batch_dims=1)
        upper = tf.gather(frames, below + 1, axis=2, batch_dims=1)
        return lower + fraction * (upper - lower)

    def call(self, frames, training=None, alphas=None):
        if alphas is None:
            if not training:
                return frames
            alphas = self.draw(tf.shape(frames)[0])
        return self.warp(frames, alphas)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"alpha_range": list(self.alpha_range), "boundary_hertz": self.boundary_hertz,
                       "lower_hertz": self.lower_hertz, "upper_hertz": self.upper_hertz, "seed": self.seed})
        return config
