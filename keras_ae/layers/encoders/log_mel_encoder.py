"""Frame encoder on a fixed log-mel front end: one embedding per 10 ms from the waveform's mel spectrum alone."""

import keras
import tensorflow as tf

from keras_ae.data.speech.constants import FRAME_SAMPLES
from keras_ae.layers.audio.log_mel import LogMelSpectrogram
from keras_ae.layers.encoders.waveform_encoder import build_normalized_stack


@keras.saving.register_keras_serializable(package="keras_ae")
class LogMelEncoder(keras.layers.Layer):
    """Raw audio `[batch, samples]` -> frame embeddings `[batch, samples // 160, embedding_dim]`, through a fixed
    spectral front end (`LogMelSpectrogram`: 25 ms windows every 10 ms, `num_mel_bins` log-mel bands) and a
    per-frame network (`depth` dense layers, each with layer normalisation and a ReLU, then a linear projection).

    A drop-in for `WaveformEncoder` in `CPC`. What it can learn from is limited to the short-time mel power
    spectrum: the waveform's fine structure (phase, the exact pulse shape of a synthesizer's voice source), which a
    learned filterbank on raw samples can pick up and which changes from one voice engine to another, never reaches
    it. Each frame is seen alone (no window over neighbouring frames), so the context network does all the temporal
    modelling and the future frames stay unseen. With `normalization="global"` (the default) the bands are
    standardised with training-set statistics, weights of the front end set by `front_end.adapt(waveforms)` and
    exported with the model; `"utterance"` standardises every band over the utterance (cepstral mean and variance
    normalisation), which also removes the voice's average spectrum: on our corpus that costs phone and speaker
    probe accuracy, in domain and on a held-out voice engine (docs/results/images_and_speech.md, "Speech, CPC on a
    held-out synthesizer").

    Papers: Chung, Hsu, Tang & Glass, 2019, "An Unsupervised Autoregressive Model for Speech Representation
    Learning" (a predictive model on log-mel frames); van den Oord, Li & Vinyals, 2018 (CPC).

    Args:
        embedding_dim: size of each frame embedding.
        units: width of the per-frame dense layers.
        depth: number of per-frame dense layers before the projection.
        num_mel_bins: mel bands of the front end.
        normalization: the front end's `"global"` or `"utterance"` normalisation (see `LogMelSpectrogram`).

    Example:
        encoder = LogMelEncoder(embedding_dim=64, units=32)
        encoder.front_end.adapt([np.random.default_rng(0).normal(size=16000).astype("float32")])  # training speech
        frames = encoder(tf.zeros([2, 16000]))   # [2, 100, 64]: one embedding per 10 ms
    """

    def __init__(self, embedding_dim=128, units=256, depth=3, num_mel_bins=80, normalization="global",
                 **kwargs):
        super().__init__(**kwargs)
        # Layers
        self.front_end = LogMelSpectrogram(num_mel_bins, normalization=normalization, name="front_end")
        self.hidden = [keras.layers.Dense(units, name=f"dense_{index}") for index in range(depth)]
        self.norms = [keras.layers.LayerNormalization(name=f"norm_{index}") for index in range(depth)]
        self.projection = keras.layers.Dense(embedding_dim, name="projection")
        # Config
        self.embedding_dim = embedding_dim
        self.units = units
        self.depth = depth
        self.num_mel_bins = num_mel_bins
        self.normalization = normalization

    @property
    def hop(self):
        """Samples per output frame."""
        return FRAME_SAMPLES

    def num_frames(self, num_samples):
        """Frames the encoder returns for `num_samples` samples."""
        return num_samples // FRAME_SAMPLES

    def build(self, input_shape):
        build_normalized_stack(self.hidden, self.norms, self.projection, (input_shape[0], None, self.num_mel_bins))

    def compute_output_shape(self, input_shape):
        length = input_shape[1]
        return (input_shape[0], None if length is None else self.num_frames(length), self.embedding_dim)

    def call(self, waveforms):
        features = tf.cast(self.front_end(tf.cast(waveforms, tf.float32)), self.compute_dtype)
        for dense, norm in zip(self.hidden, self.norms):
            features = tf.nn.relu(norm(dense(features)))
        return self.projection(features)

    def get_config(self):
        config = super().get_config()
        config.update({"embedding_dim": self.embedding_dim, "units": self.units, "depth": self.depth,
                       "num_mel_bins": self.num_mel_bins, "normalization": self.normalization})
        return config
