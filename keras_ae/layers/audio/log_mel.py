"""The spectral front end of the speech models: 16 kHz waveforms -> normalised log-mel frames at a 10 ms hop."""

import keras
import numpy as np
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.data.speech.constants import FRAME_SAMPLES, SAMPLE_RATE

FRAME_LENGTH = 400  # 25 ms windows
FFT_LENGTH = 512
LEFT_PAD = (FRAME_LENGTH - FRAME_SAMPLES) // 2  # frame i is centred on sample 160 i + 80, like the phone labels
LINEAR_BINS = FFT_LENGTH // 2 + 1
MAGNITUDE_FLOOR = 1e-5
NORMALIZATIONS = ("global", "utterance")


def padded_stft(waveforms):
    """The complex STFT `[batch, samples // 160, 257]` (25 ms Hann windows every 10 ms, 512-point FFT) of float32
    `[batch, samples]`, computed on the waveform padded by `LEFT_PAD` samples in front (see `GriffinLimVocoder`)."""
    waveforms = tf.convert_to_tensor(waveforms, tf.float32)
    padded = tf.pad(waveforms, [[0, 0], [LEFT_PAD, FRAME_LENGTH]])
    stft = tf.signal.stft(padded, frame_length=FRAME_LENGTH, frame_step=FRAME_SAMPLES, fft_length=FFT_LENGTH)
    return stft[:, : tf.shape(waveforms)[1] // FRAME_SAMPLES]


def mel_matrix(num_mel_bins, lower_hertz=20.0, upper_hertz=7600.0):
    """The `[257, num_mel_bins]` mel filter bank of the 512-point STFT at 16 kHz."""
    return tf.signal.linear_to_mel_weight_matrix(num_mel_bins, LINEAR_BINS, SAMPLE_RATE, lower_hertz, upper_hertz)


def log_mel_frames(waveforms, num_mel_bins, lower_hertz=20.0, upper_hertz=7600.0):
    """`log(mel power + 1e-6)`, `[batch, samples // 160, num_mel_bins]`, of float32 waveforms `[batch, samples]`."""
    power = tf.square(tf.abs(padded_stft(waveforms)))
    return tf.math.log(tf.tensordot(power, mel_matrix(num_mel_bins, lower_hertz, upper_hertz), 1) + 1e-6)


def log_magnitude(waveforms):
    """`log(|STFT| + 1e-5)`, `[batch, samples // 160, 257]`: what the vocoder's post-net learns to predict."""
    return tf.math.log(tf.abs(padded_stft(waveforms)) + MAGNITUDE_FLOOR)


@keras.saving.register_keras_serializable(package="keras_ae")
class LogMelSpectrogram(keras.layers.Layer):
    """Waveforms `[batch, samples]` (float32, 16 kHz) -> standardised log-mel frames `[batch, samples // 160, bins]`.

    Frame `i` covers the 25 ms around sample `160 i + 80`, so it lines up with the corpus' 10 ms phone labels.
    With `normalization="global"` the per-bin mean and standard deviation are weights of the layer (set by `adapt`
    on training speech, saved and exported with the model), so no statistics file can go missing; with
    `"utterance"` every example is standardised by its own mean and standard deviation over time, which removes the
    speaker's average spectrum (and the recording channel's). `dct=True` gives the log-mel spectrum in its DCT
    basis (40 bands -> 40 mel-frequency cepstral coefficients, invertible: `evaluation.speech.mfcc_features`
    with `num_coefficients=num_mel_bins, deltas=False`). Davis & Mermelstein (1980) for the mel scale and the
    cepstrum.

    Args:
        num_mel_bins: mel bands between `lower_hertz` and `upper_hertz`.
        lower_hertz, upper_hertz: the band edges of the mel filters.
        normalization: `"global"` (training-set statistics, from `adapt`) or `"utterance"` (each example's own).
        dct: output the DCT of the log-mel frames (cepstral coefficients) instead of the frames themselves.

    Example:
        front_end = LogMelSpectrogram(num_mel_bins=80)
        front_end.adapt([np.random.default_rng(0).normal(size=16000).astype("float32")])
        frames = front_end(np.zeros([2, 16000], "float32"))   # [2, 100, 80]
        cepstra = LogMelSpectrogram(40, normalization="utterance", dct=True)(np.ones([2, 16000], "float32"))
    """

    def __init__(self, num_mel_bins=80, lower_hertz=20.0, upper_hertz=7600.0, normalization="global", dct=False,
                 **kwargs):
        super().__init__(**kwargs)
        num_mel_bins = integer_at_least("LogMelSpectrogram num_mel_bins", num_mel_bins, 2)
        if not 0 <= lower_hertz < upper_hertz <= SAMPLE_RATE / 2:
            raise ValueError(f"Need 0 <= lower_hertz < upper_hertz <= {SAMPLE_RATE // 2}; got {lower_hertz} and "
                             f"{upper_hertz}.")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"LogMelSpectrogram normalization must be one of {', '.join(NORMALIZATIONS)}; "
                             f"got {normalization!r}.")
        # Config
        self.num_mel_bins = num_mel_bins
        self.lower_hertz = float(lower_hertz)
        self.upper_hertz = float(upper_hertz)
        self.normalization = normalization
        self.dct = bool(dct)
        # Weights (the global normalisation statistics)
        self.mean = self.add_weight(name="mean", shape=(num_mel_bins,), initializer="zeros", trainable=False)
        self.std = self.add_weight(name="std", shape=(num_mel_bins,), initializer="ones", trainable=False)

    def log_mel(self, waveforms):
        """The frames before normalisation: log-mel, or its DCT with `dct=True`."""
        frames = log_mel_frames(waveforms, self.num_mel_bins, self.lower_hertz, self.upper_hertz)
        return tf.signal.mfccs_from_log_mel_spectrograms(frames) if self.dct else frames

    def statistics(self, frames):
        """`(mean, std)` that `call` standardises the unnormalised `frames` `[batch, time, bins]` with: the layer's
        weights, or each example's own over time (`[batch, 1, bins]`)."""
        if self.normalization == "global":
            return self.mean, self.std
        mean, variance = tf.nn.moments(frames, axes=[1], keepdims=True)
        return mean, tf.sqrt(variance) + 1e-6

    def standardize(self, frames):
        """Unnormalised frames (`log_mel`'s, or a transform of them) standardised as `call` does."""
        mean, std = self.statistics(frames)
        return (frames - mean) / std

    def call(self, waveforms):
        return self.standardize(self.log_mel(waveforms))

    def denormalize(self, frames):
        """Globally standardised frames back to log-mel (or cepstra)."""
        if self.normalization != "global":
            raise ValueError("Utterance-normalised frames cannot be denormalised without their utterance: use "
                             "statistics(log_mel(waveforms)).")
        return frames * self.std + self.mean

    def adapt(self, waveforms):
        """Sets the global normalisation statistics from a list of float32 `[samples]` waveforms (at least two
        frames in all); a layer with `normalization="utterance"` needs none and is left as it is."""
        if self.normalization != "global":
            return
        frames = [np.asarray(self.log_mel(np.asarray(w, np.float32)[None]))[0] for w in waveforms]
        stacked = np.concatenate([f for f in frames if len(f)]) if frames else np.zeros([0, self.num_mel_bins])
        if len(stacked) < 2:
            raise ValueError("LogMelSpectrogram.adapt needs waveforms with at least two 10 ms frames in total.")
        self.mean.assign(stacked.mean(axis=0).astype("float32"))
        self.std.assign((stacked.std(axis=0) + 1e-3).astype("float32"))

    def compute_output_shape(self, input_shape):
        frames = None if input_shape[1] is None else input_shape[1] // FRAME_SAMPLES
        return (input_shape[0], frames, self.num_mel_bins)

    def get_config(self):
        config = super().get_config()
        config.update({"num_mel_bins": self.num_mel_bins, "lower_hertz": self.lower_hertz,
                       "upper_hertz": self.upper_hertz, "normalization": self.normalization, "dct": self.dct})
        return config
