"""An in-graph vocoder: a learned mel-to-linear post-net, then fast Griffin-Lim with momentum."""

import math

import keras
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.data.speech.constants import FRAME_SAMPLES
from keras_ae.layers.audio.log_mel import FFT_LENGTH, FRAME_LENGTH, LEFT_PAD, LINEAR_BINS, log_magnitude


def fast_griffin_lim(magnitude, iterations=32, momentum=0.99):
    """A waveform `[batch, frames * 160]` whose STFT (`log_mel.padded_stft`'s framing) has a magnitude close to
    `magnitude` `[batch, frames, 257]`: fast Griffin-Lim (Perraudin, Balazs & Sondergaard, 2013) from fixed seeded
    phases, in the graph (`tf.signal.inverse_stft`)."""
    window = tf.signal.inverse_stft_window_fn(FRAME_SAMPLES)
    magnitude = tf.cast(magnitude, tf.complex64)

    def istft(spectrum):
        return tf.signal.inverse_stft(spectrum, FRAME_LENGTH, FRAME_SAMPLES, FFT_LENGTH, window_fn=window)

    def project(spectrum):  # the nearest consistent spectrogram, with the frame count kept
        frames = tf.shape(spectrum)[1]
        rebuilt = tf.signal.stft(istft(spectrum), FRAME_LENGTH, FRAME_SAMPLES, FFT_LENGTH)[:, :frames]
        return tf.pad(rebuilt, [[0, 0], [0, frames - tf.shape(rebuilt)[1]], [0, 0]])

    phases = tf.random.stateless_uniform(tf.shape(magnitude), [7, 11], 0.0, 2 * math.pi)
    angles = tf.exp(tf.complex(0.0, phases))
    previous = tf.zeros_like(magnitude)
    for _ in range(iterations):
        current = project(magnitude * angles)
        accelerated = current + tf.cast(momentum, tf.complex64) * (current - previous)
        previous = current
        angles = accelerated / tf.cast(tf.maximum(tf.abs(accelerated), 1e-8), tf.complex64)
    waveform = istft(magnitude * angles)
    num_samples = tf.shape(magnitude)[1] * FRAME_SAMPLES
    waveform = waveform[:, LEFT_PAD : LEFT_PAD + num_samples]
    return tf.pad(waveform, [[0, 0], [0, num_samples - tf.shape(waveform)[1]]])


@keras.saving.register_keras_serializable(package="keras_ae")
class GriffinLimVocoder(keras.layers.Layer):
    """Standardised log-mel frames `[batch, frames, bins]` (`LogMelSpectrogram`'s output) -> waveforms
    `[batch, frames * 160]` at 16 kHz.

    A post-net of 1-D convolutions predicts the log magnitude of the 257-bin linear spectrum from the mel frames
    (Shen et al., 2018, "Natural TTS synthesis by conditioning WaveNet on mel spectrogram predictions"; an 80-bin
    mel pseudo-inverse loses the harmonics), trained by `postnet_loss` on real speech; the phases then come from
    `iterations` rounds of fast Griffin-Lim (Perraudin, Balazs & Sondergaard, 2013): project on consistent
    spectrograms with `tf.signal.stft(tf.signal.inverse_stft(.))`, keep the predicted magnitude, extrapolate with
    `momentum`. The initial phases are a fixed seeded draw, so the same frames always give the same waveform.

    Args:
        num_mel_bins: bins of the input frames.
        hidden_dim: channels of the post-net.
        kernel_size: the post-net's kernel width in frames.
        iterations: Griffin-Lim rounds.
        momentum: the fast Griffin-Lim extrapolation (0: plain Griffin-Lim).

    Example:
        vocoder = GriffinLimVocoder(num_mel_bins=80)
        loss = vocoder.postnet_loss(front_end(waveforms), waveforms)   # [batch], minimise it on real speech
        speech = vocoder(front_end(waveforms))                        # [batch, frames * 160]
    """

    def __init__(self, num_mel_bins=80, hidden_dim=256, kernel_size=5, iterations=32, momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        num_mel_bins = integer_at_least("GriffinLimVocoder num_mel_bins", num_mel_bins, 1)
        iterations = integer_at_least("GriffinLimVocoder iterations", iterations, 1)
        if not 0 <= momentum < 1:
            raise ValueError(f"GriffinLimVocoder momentum must be in [0, 1); got {momentum}.")
        # Layers
        self.postnet = keras.Sequential(
            [keras.layers.Conv1D(hidden_dim, kernel_size, padding="same", activation="gelu"),
             keras.layers.Conv1D(hidden_dim, kernel_size, padding="same", activation="gelu"),
             keras.layers.Dense(LINEAR_BINS)],
            name="postnet",
        )
        # Config
        self.num_mel_bins = num_mel_bins
        self.hidden_dim = hidden_dim
        self.kernel_size = kernel_size
        self.iterations = iterations
        self.momentum = float(momentum)

    def build(self, frames_shape):
        self.postnet.build((None, None, self.num_mel_bins))
        self.built = True

    def linear_log_magnitude(self, frames, training=False):
        """The post-net's `log(|STFT| + 1e-5)`, `[batch, frames, 257]`."""
        return self.postnet(frames, training=training)

    def postnet_loss(self, frames, waveforms, training=False):
        """Mean absolute error `[batch]` of the predicted against the true log magnitude of `waveforms`."""
        predicted = self.linear_log_magnitude(frames, training=training)
        target = log_magnitude(waveforms)[:, : tf.shape(predicted)[1]]
        return tf.reduce_mean(tf.abs(predicted - target), axis=[1, 2])

    def griffin_lim(self, magnitude):
        """A waveform `[batch, frames * 160]` whose STFT magnitude is close to `magnitude` `[batch, frames, 257]`."""
        return fast_griffin_lim(magnitude, self.iterations, self.momentum)

    def call(self, frames, training=False):
        magnitude = tf.exp(self.linear_log_magnitude(frames, training=training))
        return self.griffin_lim(tf.nn.relu(magnitude - 1e-5))

    def compute_output_shape(self, frames_shape):
        samples = None if frames_shape[1] is None else frames_shape[1] * FRAME_SAMPLES
        return (frames_shape[0], samples)

    def get_config(self):
        config = super().get_config()
        config.update({"num_mel_bins": self.num_mel_bins, "hidden_dim": self.hidden_dim,
                       "kernel_size": self.kernel_size, "iterations": self.iterations, "momentum": self.momentum})
        return config
