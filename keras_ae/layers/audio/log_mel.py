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


def padded_stft(waveforms):
    """The complex STFT `[batch, samples // 160, 257]` (25 ms Hann windows every 10 ms, 512-point FFT) of float32
    `[batch, samples]`, computed on the waveform padded by `LEFT_PAD` samples in front (see `GriffinLimVocoder`)."""
    waveforms = tf.convert_to_tensor(waveforms, tf.float32)
    padded = tf.pad(waveforms, [[0, 0], [LEFT_PAD, FRAME_LENGTH]])
    stft = tf.signal.stft(padded, frame_length=FRAME_LENGTH, frame_step=FRAME_SAMPLES, fft_length=FFT_LENGTH)
    return stft[:, : tf.shape(waveforms)[1] // FRAME_SAMPLES]


def log_magnitude(waveforms):
    """`log(|STFT| + 1e-5)`, `[batch, samples // 160, 257]`: what the vocoder's post-net learns to predict."""
    return tf.math.log(tf.abs(padded_stft(waveforms)) + MAGNITUDE_FLOOR)


@keras.saving.register_keras_serializable(package="keras_ae")
class LogMelSpectrogram(keras.layers.Layer):
    """Waveforms `[batch, samples]` (float32, 16 kHz) -> standardised log-mel frames `[batch, samples // 160, bins]`.

    Frame `i` covers the 25 ms around sample `160 i + 80`, so it lines up with the corpus' 10 ms phone labels. The
    per-bin mean and standard deviation are weights of the layer (set by `adapt` on training speech, saved and
    exported with the model), so no statistics file can go missing. Davis & Mermelstein (1980) for the mel scale.

    Args:
        num_mel_bins: mel bands between `lower_hertz` and `upper_hertz`.
        lower_hertz, upper_hertz: the band edges of the mel filters.

    Example:
        front_end = LogMelSpectrogram(num_mel_bins=80)
        front_end.adapt(training_waveforms)              # a list of float32 [samples] arrays
        frames = front_end(np.zeros([2, 16000], "float32"))   # [2, 100, 80]
    """

    def __init__(self, num_mel_bins=80, lower_hertz=20.0, upper_hertz=7600.0, **kwargs):
        super().__init__(**kwargs)
        num_mel_bins = integer_at_least("LogMelSpectrogram num_mel_bins", num_mel_bins, 2)
        if not 0 <= lower_hertz < upper_hertz <= SAMPLE_RATE / 2:
            raise ValueError(f"Need 0 <= lower_hertz < upper_hertz <= {SAMPLE_RATE // 2}; got {lower_hertz} and "
                             f"{upper_hertz}.")
        # Config
        self.num_mel_bins = num_mel_bins
        self.lower_hertz = float(lower_hertz)
        self.upper_hertz = float(upper_hertz)
        # Weights (the normalisation statistics)
        self.mean = self.add_weight(name="mean", shape=(num_mel_bins,), initializer="zeros", trainable=False)
        self.std = self.add_weight(name="std", shape=(num_mel_bins,), initializer="ones", trainable=False)

    def mel_matrix(self):
        return tf.signal.linear_to_mel_weight_matrix(self.num_mel_bins, LINEAR_BINS, SAMPLE_RATE, self.lower_hertz,
                                                     self.upper_hertz)

    def log_mel(self, waveforms):
        """Log-mel frames before normalisation."""
        power = tf.square(tf.abs(padded_stft(waveforms)))
        return tf.math.log(tf.tensordot(power, self.mel_matrix(), 1) + 1e-6)

    def call(self, waveforms):
        return (self.log_mel(waveforms) - self.mean) / self.std

    def denormalize(self, frames):
        """Standardised frames back to log-mel."""
        return frames * self.std + self.mean

    def adapt(self, waveforms):
        """Sets the normalisation statistics from a list of float32 `[samples]` waveforms (at least one frame)."""
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
                       "upper_hertz": self.upper_hertz})
        return config
