"""Time-domain waveform augmentation for self-supervised speech (Kharitonov et al., 2021, "Data Augmenting
Contrastive Learning of Speech Representations in the Time Domain").

`WaveformAugmentation` maps a batch of waveforms `[batch, samples]` to a batch of the same shape. Every example gets
its own draw of each transform, applied with the transform's own probability, in this order (a recording chain:
the talker, the room, the microphone and its noise, the level):

    speed         resampling by a factor in `speed_range` (pitch and tempo change together, as in Ko et al., 2015,
                  "Audio augmentation for speech recognition"), anchored at the crop's centre; the few samples read
                  beyond either end are mirrored in, so the length is kept;
    equalization  a random smooth gain curve: `equalization_bands` Gaussian bumps in log-frequency (centres
                  log-uniform in 100 Hz - 7 kHz, widths 0.3 - 1.5 octaves, gains uniform in
                  +-`equalization_gain_db`);
    band_reject   a notch that removes one band: centre log-uniform in `band_reject_hz`, width uniform in
                  `band_reject_octaves`;
    reverb        convolution with a synthetic room impulse response: a direct path plus an exponentially decaying
                  Gaussian tail (`reverb_seconds` long) whose reverberation time RT60 is uniform in `rt60_range` and
                  whose direct-to-reverberant ratio is uniform in `direct_to_reverb_db`; the level is kept;
    noise         additive coloured noise (power spectrum `1 / f^c`, `c` uniform in `noise_color_range`: 0 white,
                  1 pink, 2 brown) at a signal-to-noise ratio uniform in `snr_db_range` (dB);
    gain          a level change uniform in `gain_db_range` (dB).

Randomness: `call(waveforms, training=True, seed=None)` draws from the layer's `keras.random.SeedGenerator`
(built from `seed`), with the replica id folded in, so replicas of a `tf.distribute` strategy augment their shares
differently; passing a `seed` tensor (int32 `[2]`) instead makes the call stateless and reproducible, which is how
`keras_ae.data.augmentation.augment_dataset` runs it as a seeded `tf.data` stage. Outside training (and with no
`seed`) the layer is the identity, so it can sit in front of an encoder that is exported.

`AUGMENT_PRESETS` names the settings the recipes' `--augment` flag offers: `"none"`, `"default"` (every transform,
the probabilities below) and one preset per transform alone (for ablations).

Example:
    augment = WaveformAugmentation(seed=0)
    noisy = augment(tf.random.normal([4, 16000]) * 0.1, training=True)   # [4, 16000], a new draw per call
"""

import math

import keras
import tensorflow as tf

from keras_ae.distribute import replica_uniform

TRANSFORMS = ("speed", "equalization", "band_reject", "reverb", "noise", "gain")
_NO_TRANSFORM = {f"{name}_probability": 0.0 for name in TRANSFORMS}
AUGMENT_PRESETS = {
    "none": None,
    "default": {},
    **{name: {**_NO_TRANSFORM, f"{name}_probability": 0.8} for name in TRANSFORMS},
}
_MIN_HZ = 20.0  # frequencies below this share its value in log-frequency curves and in the noise colour


def _range(name, value, low=-math.inf, high=math.inf):
    value = tuple(float(v) for v in value)
    if len(value) != 2 or not low <= value[0] <= value[1] <= high:
        raise ValueError(f"{name} must be a pair (low, high) with {low:g} <= low <= high <= {high:g}; got {value}.")
    return value


def _uniform(seed, shape, value_range):
    return tf.random.stateless_uniform(shape, seed, minval=value_range[0], maxval=value_range[1])


def _log_uniform(seed, shape, value_range):
    return tf.exp(_uniform(seed, shape, (math.log(value_range[0]), math.log(value_range[1]))))


@keras.saving.register_keras_serializable(package="keras_ae")
class WaveformAugmentation(keras.layers.Layer):
    """Random speed, equalization, band-reject, reverberation, noise and gain, per example (see the module doc).

    Args:
        speed_probability, speed_range: chance of resampling and the factor's range (> 1 is faster and higher).
        equalization_probability, equalization_gain_db, equalization_bands: chance of a random EQ curve, the
            largest gain of a bump in dB, and the number of bumps.
        band_reject_probability, band_reject_hz, band_reject_octaves: chance of a notch, the range of its centre
            (Hz, log-uniform) and of its width (octaves).
        reverb_probability, rt60_range, direct_to_reverb_db, reverb_seconds: chance of reverberation, the RT60
            range (s), the direct-to-reverberant ratio range (dB) and the impulse response length (s).
        noise_probability, snr_db_range, noise_color_range: chance of additive noise, its SNR range (dB) and the
            exponent range of its `1 / f^c` power spectrum.
        gain_probability, gain_db_range: chance of a level change and its range (dB).
        sample_rate: sample rate of the waveforms (Hz).
        seed: seed of the layer's generator (None: a random one).
    """

    def __init__(self, speed_probability=0.5, speed_range=(0.9, 1.1), equalization_probability=0.5,
                 equalization_gain_db=10.0, equalization_bands=4, band_reject_probability=0.3,
                 band_reject_hz=(150.0, 5000.0), band_reject_octaves=(0.1, 0.6), reverb_probability=0.5,
                 rt60_range=(0.2, 0.8), direct_to_reverb_db=(0.0, 12.0), reverb_seconds=0.4, noise_probability=0.5,
                 snr_db_range=(5.0, 30.0), noise_color_range=(0.0, 2.0), gain_probability=0.5,
                 gain_db_range=(-6.0, 6.0), sample_rate=16000, seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("speed", speed_probability), ("equalization", equalization_probability),
                            ("band_reject", band_reject_probability), ("reverb", reverb_probability),
                            ("noise", noise_probability), ("gain", gain_probability)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name}_probability must be in [0, 1]; got {value}.")
        if sample_rate <= 0 or reverb_seconds <= 0 or equalization_bands < 1 or equalization_gain_db < 0:
            raise ValueError("sample_rate, reverb_seconds and equalization_bands must be positive and "
                             f"equalization_gain_db non-negative; got {sample_rate}, {reverb_seconds}, "
                             f"{equalization_bands}, {equalization_gain_db}.")
        # Config
        self.speed_probability = float(speed_probability)
        self.speed_range = _range("speed_range", speed_range, low=0.5, high=2.0)
        self.equalization_probability = float(equalization_probability)
        self.equalization_gain_db = float(equalization_gain_db)
        self.equalization_bands = int(equalization_bands)
        self.band_reject_probability = float(band_reject_probability)
        self.band_reject_hz = _range("band_reject_hz", band_reject_hz, low=_MIN_HZ, high=sample_rate / 2)
        self.band_reject_octaves = _range("band_reject_octaves", band_reject_octaves, low=0.01, high=4.0)
        self.reverb_probability = float(reverb_probability)
        self.rt60_range = _range("rt60_range", rt60_range, low=0.01, high=10.0)
        self.direct_to_reverb_db = _range("direct_to_reverb_db", direct_to_reverb_db)
        self.reverb_seconds = float(reverb_seconds)
        self.noise_probability = float(noise_probability)
        self.snr_db_range = _range("snr_db_range", snr_db_range)
        self.noise_color_range = _range("noise_color_range", noise_color_range, low=0.0, high=3.0)
        self.gain_probability = float(gain_probability)
        self.gain_db_range = _range("gain_db_range", gain_db_range)
        self.sample_rate = int(sample_rate)
        self.seed = seed
        # Randomness
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, waveforms, training=None, seed=None):
        if seed is None:
            if not training:
                return waveforms
            # 48 random bits per call, with the replica id folded in (replica_uniform): float32 holds 2^24 exactly.
            seed = tf.cast(replica_uniform([2], self.seed_generator, 0.0, 2.0**24), tf.int32)
        waveforms = tf.convert_to_tensor(waveforms, tf.float32)
        seeds = tf.unstack(tf.random.experimental.stateless_split(tf.cast(seed, tf.int32), 2 * len(TRANSFORMS)))
        batch = tf.shape(waveforms)[0]
        for index, name in enumerate(TRANSFORMS):
            probability = getattr(self, f"{name}_probability")
            if probability == 0.0:
                continue
            chosen = tf.random.stateless_uniform([batch], seeds[2 * index]) < probability
            transformed = getattr(self, f"_{name}")(waveforms, seeds[2 * index + 1])
            waveforms = tf.where(chosen[:, None], transformed, waveforms)
        return waveforms

    def compute_output_shape(self, input_shape):
        return input_shape

    # ----------------------------------------------------------------------------------------------------------
    # Transforms: `[batch, samples]` -> `[batch, samples]`, a new draw per example
    # ----------------------------------------------------------------------------------------------------------

    def _speed(self, waveforms, seed):
        length = tf.shape(waveforms)[1]
        factor = _uniform(seed, [tf.shape(waveforms)[0], 1], self.speed_range)
        centre = tf.cast(length - 1, tf.float32) / 2.0
        positions = centre + (tf.cast(tf.range(length), tf.float32)[None] - centre) * factor
        period = 2.0 * tf.maximum(tf.cast(length - 1, tf.float32), 1.0)
        positions = tf.abs(tf.math.floormod(positions, period))
        positions = tf.where(positions > period / 2.0, period - positions, positions)  # mirror at both ends
        below = tf.minimum(tf.cast(tf.floor(positions), tf.int32), length - 1)
        above = tf.minimum(below + 1, length - 1)
        fraction = positions - tf.cast(below, tf.float32)
        return ((1.0 - fraction) * tf.gather(waveforms, below, batch_dims=1)
                + fraction * tf.gather(waveforms, above, batch_dims=1))

    def _log_frequencies(self, fft_length):
        hertz = tf.linspace(0.0, self.sample_rate / 2.0, fft_length // 2 + 1)
        return tf.math.log(tf.maximum(hertz, _MIN_HZ)) / math.log(2.0)  # octaves

    def _filter(self, waveforms, gains):
        """Multiplies the spectrum of each waveform by `gains` `[batch, samples // 2 + 1]`."""
        length = tf.shape(waveforms)[1]
        spectrum = tf.signal.rfft(waveforms, [length])
        return tf.signal.irfft(spectrum * tf.cast(gains, tf.complex64), [length])

    def _equalization(self, waveforms, seed):
        batch, length = tf.shape(waveforms)[0], tf.shape(waveforms)[1]
        octaves = self._log_frequencies(length)[None, None]
        centre_seed, width_seed, gain_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
        shape = [batch, self.equalization_bands, 1]
        centres = tf.math.log(_log_uniform(centre_seed, shape, (100.0, 7000.0))) / math.log(2.0)
        widths = _uniform(width_seed, shape, (0.3, 1.5))
        gains_db = _uniform(gain_seed, shape, (-self.equalization_gain_db, self.equalization_gain_db))
        curve_db = tf.reduce_sum(gains_db * tf.exp(-0.5 * tf.square((octaves - centres) / widths)), axis=1)
        return self._filter(waveforms, tf.pow(10.0, curve_db / 20.0))

    def _band_reject(self, waveforms, seed):
        batch, length = tf.shape(waveforms)[0], tf.shape(waveforms)[1]
        octaves = self._log_frequencies(length)[None]
        centre_seed, width_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        centres = tf.math.log(_log_uniform(centre_seed, [batch, 1], self.band_reject_hz)) / math.log(2.0)
        half_widths = _uniform(width_seed, [batch, 1], self.band_reject_octaves) / 2.0
        mask = 1.0 - tf.exp(-tf.pow((octaves - centres) / half_widths, 8.0))  # flat-bottomed notch, 0 at the centre
        return self._filter(waveforms, mask)

    def _reverb(self, waveforms, seed):
        batch, length = tf.shape(waveforms)[0], tf.shape(waveforms)[1]
        taps = max(int(self.reverb_seconds * self.sample_rate), 2)
        tail_seed, rt60_seed, ratio_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
        rt60 = _uniform(rt60_seed, [batch, 1], self.rt60_range)
        time = tf.range(1, taps, dtype=tf.float32)[None] / self.sample_rate
        tail = tf.random.stateless_normal([batch, taps - 1], tail_seed) * tf.exp(-3.0 * math.log(10.0) * time / rt60)
        ratio_db = _uniform(ratio_seed, [batch, 1], self.direct_to_reverb_db)
        tail *= tf.sqrt(tf.pow(10.0, -ratio_db / 10.0) / (tf.reduce_sum(tf.square(tail), 1, keepdims=True) + 1e-12))
        response = tf.concat([tf.ones([batch, 1]), tail], axis=1)
        fft_length = tf.cast(2 ** tf.math.ceil(tf.math.log(tf.cast(length + taps - 1, tf.float32)) / math.log(2.0)),
                             tf.int32)
        wet = tf.signal.irfft(tf.signal.rfft(waveforms, [fft_length]) * tf.signal.rfft(response, [fft_length]),
                              [fft_length])[:, :length]
        return wet * _rms(waveforms) / (_rms(wet) + 1e-8)

    def _noise(self, waveforms, seed):
        batch, length = tf.shape(waveforms)[0], tf.shape(waveforms)[1]
        white_seed, color_seed, snr_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
        color = _uniform(color_seed, [batch, 1], self.noise_color_range)
        hertz = tf.maximum(tf.linspace(0.0, self.sample_rate / 2.0, length // 2 + 1), _MIN_HZ)[None]
        noise = self._filter(tf.random.stateless_normal([batch, length], white_seed),
                             tf.pow(hertz / _MIN_HZ, -color / 2.0))
        snr_db = _uniform(snr_seed, [batch, 1], self.snr_db_range)
        noise *= _rms(waveforms) / (_rms(noise) + 1e-8) * tf.pow(10.0, -snr_db / 20.0)
        return waveforms + noise

    def _gain(self, waveforms, seed):
        gain_db = _uniform(seed, [tf.shape(waveforms)[0], 1], self.gain_db_range)
        return waveforms * tf.pow(10.0, gain_db / 20.0)

    def get_config(self):
        config = super().get_config()
        config.update({
            "speed_probability": self.speed_probability,
            "speed_range": list(self.speed_range),
            "equalization_probability": self.equalization_probability,
            "equalization_gain_db": self.equalization_gain_db,
            "equalization_bands": self.equalization_bands,
            "band_reject_probability": self.band_reject_probability,
            "band_reject_hz": list(self.band_reject_hz),
            "band_reject_octaves": list(self.band_reject_octaves),
            "reverb_probability": self.reverb_probability,
            "rt60_range": list(self.rt60_range),
            "direct_to_reverb_db": list(self.direct_to_reverb_db),
            "reverb_seconds": self.reverb_seconds,
            "noise_probability": self.noise_probability,
            "snr_db_range": list(self.snr_db_range),
            "noise_color_range": list(self.noise_color_range),
            "gain_probability": self.gain_probability,
            "gain_db_range": list(self.gain_db_range),
            "sample_rate": self.sample_rate,
            "seed": self.seed,
        })
        return config


def _rms(waveforms):
    return tf.sqrt(tf.reduce_mean(tf.square(waveforms), axis=1, keepdims=True) + 1e-12)


def augmentation_from_preset(name, seed=None):
    """The `WaveformAugmentation` of preset `name` (one of `AUGMENT_PRESETS`), or None for `"none"`."""
    if name not in AUGMENT_PRESETS:
        raise ValueError(f"Unknown augmentation preset {name!r}: choose one of {', '.join(AUGMENT_PRESETS)}.")
    settings = AUGMENT_PRESETS[name]
    return None if settings is None else WaveformAugmentation(**settings, seed=seed, name=f"augment_{name}")
