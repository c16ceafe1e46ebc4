"""The two encoders of a disentangling speech auto-encoder, behind one spectral front end."""

import keras

from keras_ae.config import deserialize_sublayers


@keras.saving.register_keras_serializable(package="keras_ae")
class SpeakerContentEncoder(keras.layers.Layer):
    """Waveforms `[batch, samples]` -> `(frames, speaker, content)`: the front end's frames `[batch, time, bins]`
    (the reconstruction target), the speaker encoder's embedding `[batch, speaker_dim]` and the content encoder's
    codes `[batch, time, code_dim]`. The content code comes last, so it is the code's embedding
    (`core.judged_encoder.code_embedding`) that `encode` returns and that an adversary reads.

    Args:
        front_end: waveforms -> frames (e.g. `LogMelSpectrogram`).
        content_encoder: frames -> content codes (e.g. `ContentEncoder`).
        speaker_encoder: frames -> a speaker embedding (e.g. `SpeakerEncoder`).

    Example:
        encoder = SpeakerContentEncoder(LogMelSpectrogram(80), ContentEncoder(16), SpeakerEncoder(64))
        frames, speaker, content = encoder(waveforms)   # [b, t, 80], [b, 64], [b, t, 16]
    """

    def __init__(self, front_end, content_encoder, speaker_encoder, **kwargs):
        super().__init__(**kwargs)
        # Layers
        self.front_end = front_end
        self.content_encoder = content_encoder
        self.speaker_encoder = speaker_encoder

    def build(self, waveforms_shape):
        frames_shape = self.front_end.compute_output_shape(waveforms_shape)
        for layer in (self.content_encoder, self.speaker_encoder):
            if not layer.built:
                layer.build(frames_shape)
        self.built = True

    def encode_speaker(self, waveforms, training=False):
        return self.speaker_encoder(self.front_end(waveforms), training=training)

    def encode_frames(self, frames, training=False):
        """`(frames, speaker, content)` of front-end frames (for frames transformed after the front end)."""
        speaker = self.speaker_encoder(frames, training=training)
        return frames, speaker, self.content_encoder(frames, training=training)

    def call(self, waveforms, training=False):
        return self.encode_frames(self.front_end(waveforms), training=training)

    def compute_output_shape(self, waveforms_shape):
        frames_shape = self.front_end.compute_output_shape(waveforms_shape)
        return (tuple(frames_shape), tuple(self.speaker_encoder.compute_output_shape(frames_shape)),
                tuple(self.content_encoder.compute_output_shape(frames_shape)))

    def get_config(self):
        config = super().get_config()
        config.update({key: keras.saving.serialize_keras_object(getattr(self, key))
                       for key in ("front_end", "content_encoder", "speaker_encoder")})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("front_end", "content_encoder", "speaker_encoder")))
