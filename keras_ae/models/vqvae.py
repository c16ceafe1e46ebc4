"""VQ-VAE: an encoder, a vector quantiser and a decoder that only sees codebook entries."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.validation import integer_at_least
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.layers.bottlenecks.vector_quantizer import VectorQuantizer, check_num_codes
from keras_ae.layers.decoders.grid_decoders import frame_decoder, image_grid_decoder
from keras_ae.layers.encoders.grid_encoders import frame_encoder, image_grid_encoder
from keras_ae.layers.judges.reconstruction_judge import ReconstructionJudge
from keras_ae.losses import check_reconstruction_loss, reconstruction_error

MODALITIES = ("image", "frames")


def _positive_integer(name, value, hint=""):
    """`value` as an int, or a clear ValueError unless it is a positive integer (numpy integers included)."""
    return integer_at_least(f"VQVAE {name}", value, 1, hint)


def _check_speaker_options(num_speakers, speaker_dim):
    """Raises a clear error unless `num_speakers` is None (no conditioning) or both are positive integers."""
    if num_speakers is not None:
        for name, value in (("num_speakers", num_speakers), ("speaker_dim", speaker_dim)):
            _positive_integer(name, value, hint=" (or num_speakers=None)")


@keras.saving.register_keras_serializable(package="keras_ae")
class VQVAE(JudgedEncoder):
    """Vector-quantised auto-encoder (van den Oord, Vinyals & Kavukcuoglu, 2017, "Neural Discrete Representation
    Learning"): the encoder's output vectors are replaced by their nearest codebook entries and the decoder
    rebuilds the input from those codes only.

    On images the code is a grid (one code per cell, 7x7 for MNIST); on speech it is one code per frame of a
    spectrogram (or of any frame encoder you pass, e.g. a waveform encoder with a matching decoder). With a
    `front_end` (such as `LogMelSpectrogram`) the model takes raw waveforms `[batch, samples]`, in training and in
    its export, and the decoder rebuilds the front end's frames; `features` gives those frames. The loss per
    example is the reconstruction error plus the mean VQ loss over code positions (`VectorQuantizer`: commitment
    with weight `beta`, plus the codebook loss unless `ema`). The codebook is initialised by k-means on the first
    batches and dead codes are restarted from recent encoder outputs (both switchable), so it does not collapse;
    under `MirroredStrategy` every replica holds the same codebook.

    With `num_speakers`, the decoder is conditioned on who speaks, as in the paper's speech experiments: a learned
    speaker embedding (`speaker_dim` floats) is broadcast over every code position and concatenated to the quantised
    codes before the decoder, so the codes need not spend capacity on the speaker. Training batches are then dicts
    `{"frames": inputs, "speakers": int ids [batch]}` (or tuples `(inputs, speaker_ids)` as `x`), and
    `decode_codes` / `reconstruct` take the speaker ids as their second argument; `encode` and `codes` do not
    (the encoder never sees the speaker id).

    Args:
        data_shape: shape of one example: `(height, width, channels)` for images (float32 in [0, 1]) or
            `(time, features)` for frames (`time` may be None).
        modality: `"image"` or `"frames"`; picks the default encoder and decoder and the code layout.
        num_codes: codebook size K (512 by default).
        code_dim: size of each code vector.
        beta: commitment weight.
        ema: update the codebook by exponential moving averages (decay `decay`) instead of the codebook loss.
        decay: EMA decay.
        kmeans_init: k-means initialisation of the codebook from the first training batches.
        restart_dead_codes: restart codes that fall out of use from recent encoder outputs.
        dead_code_threshold: share of the mean cluster size below which a code counts as dead.
        encoder: layer mapping inputs to vectors `[..., code_dim]` (default `image_grid_encoder` / `frame_encoder`).
        decoder: layer mapping quantised vectors back to inputs (default `image_grid_decoder` / `frame_decoder`).
        reconstruction_loss: `"mse"`, `"mae"` or `"bce"`.
        num_speakers: None (no conditioning) or the number of speaker ids the decoder is conditioned on (ids in
            `[0, num_speakers)`); any modality, though meant for frames.
        speaker_dim: size of the learned speaker embedding (only with `num_speakers`).
        time_stride: frames only: one code per `time_stride` frames (default 1: one per frame); the default frame
            encoder downsamples time by a strided convolution and the default decoder upsamples back, so inputs
            need a number of frames divisible by `time_stride` (others raise a clear error).
        seed: seed of the quantiser's random draws.
        front_end: frames only: a layer from float32 waveforms `[batch, samples]` to frames `[batch, time,
            data_shape[-1]]` inside the model (None: the model takes frames).
        quantizer_options: the `VectorQuantizer`'s other arguments (`epsilon`, `kmeans_samples`,
            `kmeans_iterations`, `usage_decay`, `restart_every`, `buffer_size`), defaults there.

    Example:
        model = VQVAE(data_shape=(28, 28, 1), num_codes=512, code_dim=32)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(train_images, batch_size=128, epochs=3)
        codes = model.codes(test_images)               # int32 [n, 7, 7]
        images = model.decode_codes(codes)              # [n, 28, 28, 1]

        # Speech frames, decoder conditioned on 16 speakers:
        model = VQVAE(data_shape=(None, 40), modality="frames", num_codes=256, num_speakers=16, speaker_dim=16)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit({"frames": chunks, "speakers": chunk_speaker_ids}, batch_size=32, epochs=8)
        codes = model.codes(frames)                     # int32 [n, time]
        frames = model.decode_codes(codes, speaker_ids) # [n, time, 40], voiced by speakers `speaker_ids` [n]

        # Waveforms in, through a spectral front end inside the model (and its export):
        front_end = LogMelSpectrogram(40, normalization="utterance", dct=True)
        model = VQVAE(data_shape=(None, 40), modality="frames", front_end=front_end)
        codes = model.codes(waveforms)                  # float32 [n, samples] -> int32 [n, samples // 160]
    """

    def __init__(
        self,
        data_shape=(28, 28, 1),
        modality="image",
        num_codes=512,
        code_dim=32,
        beta=0.25,
        ema=True,
        decay=0.99,
        kmeans_init=True,
        restart_dead_codes=True,
        dead_code_threshold=0.03,
        encoder=None,
        decoder=None,
        reconstruction_loss="mse",
        num_speakers=None,
        speaker_dim=16,
        seed=None,
        time_stride=1,
        front_end=None,
        quantizer_options=None,
        **kwargs,
    ):
        if modality not in MODALITIES:
            raise ValueError(f"Unknown modality {modality!r}: choose one of {', '.join(MODALITIES)}.")
        expected_rank = 3 if modality == "image" else 2
        if len(data_shape) != expected_rank:
            raise ValueError(
                f"VQVAE(modality={modality!r}) needs data_shape with {expected_rank} axes "
                f"({'(height, width, channels)' if modality == 'image' else '(time, features)'}); got {data_shape}."
            )
        check_num_codes(num_codes)
        _check_speaker_options(num_speakers, speaker_dim)
        quantizer_options = dict(quantizer_options or {})
        named = {"num_codes", "code_dim", "beta", "ema", "decay", "kmeans_init", "restart_dead_codes",
                 "dead_code_threshold", "seed", "name"} & set(quantizer_options)
        if named:
            raise ValueError(f"VQVAE quantizer_options repeats {sorted(named)}: pass them as VQVAE arguments.")
        time_stride = _positive_integer("time_stride", time_stride)
        if time_stride != 1 and modality != "frames":
            raise ValueError(
                f"VQVAE time_stride applies to modality='frames' only; got {time_stride} for {modality!r}."
            )
        if time_stride != 1 and data_shape[0] is not None and data_shape[0] % time_stride:
            raise ValueError(
                f"VQVAE needs a number of frames divisible by time_stride={time_stride}; "
                f"data_shape has {data_shape[0]}."
            )
        if front_end is not None:
            if modality != "frames":
                raise ValueError(f"VQVAE front_end applies to modality='frames' only; got {modality!r}.")
            front_end_bins = front_end.compute_output_shape((None, None))[-1]
            if front_end_bins != data_shape[-1]:
                raise ValueError(f"The front end gives frames of {front_end_bins} features, but data_shape is "
                                 f"{tuple(data_shape)}: make data_shape[-1] = {front_end_bins}.")
        # Layers
        if modality == "image":
            encoder = encoder or image_grid_encoder(code_dim)
            decoder = decoder or image_grid_decoder(data_shape[-1])
        else:
            encoder = encoder or frame_encoder(code_dim, time_stride=time_stride)
            decoder = decoder or frame_decoder(data_shape[-1], time_stride=time_stride)
        quantizer = VectorQuantizer(
            num_codes=num_codes,
            code_dim=code_dim,
            beta=beta,
            ema=ema,
            decay=decay,
            kmeans_init=kmeans_init,
            restart_dead_codes=restart_dead_codes,
            dead_code_threshold=dead_code_threshold,
            seed=seed,
            name="quantizer",
            **quantizer_options,
        )
        judge = ReconstructionJudge(decoder, loss=reconstruction_loss, name="reconstruction")
        super().__init__(encoder=encoder, judges=[judge], bottleneck=quantizer, **kwargs)
        self.front_end = front_end
        self.speaker_embedding = None
        if num_speakers is not None:
            self.speaker_embedding = keras.layers.Embedding(num_speakers, speaker_dim, name="speaker_embedding")
        # Config
        self.data_shape = tuple(data_shape)
        self.modality = modality
        self.num_codes = num_codes
        self.code_dim = code_dim
        self.beta = beta
        self.ema = ema
        self.decay = decay
        self.kmeans_init = kmeans_init
        self.restart_dead_codes = restart_dead_codes
        self.dead_code_threshold = dead_code_threshold
        self.reconstruction_loss = check_reconstruction_loss(reconstruction_loss)
        self.num_speakers = None if num_speakers is None else int(num_speakers)
        self.speaker_dim = speaker_dim if num_speakers is None else int(speaker_dim)
        self.seed = seed
        self.time_stride = time_stride
        self.quantizer_options = quantizer_options
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None, *self.data_shape) if front_end is None else (None, None))

    @property
    def code_values(self):
        """How many values one code symbol takes: the codebook size."""
        return self.num_codes

    @property
    def quantizer(self):
        return self.bottleneck

    @property
    def decoder(self):
        return self.judges[0].decoder

    def build(self, input_shape):
        """Builds every part for inputs of `input_shape`: frames, or with a front end waveforms `(batch, samples)`."""
        if self.front_end is not None:
            if not self.front_end.built:
                self.front_end.build(input_shape)
            input_shape = self.front_end.compute_output_shape(input_shape)
        if not self.encoder.built:
            self.encoder.build(input_shape)
        code_shape = self.encoder.compute_output_shape(input_shape)
        if code_shape[-1] != self.code_dim:
            raise ValueError(f"The encoder outputs vectors of size {code_shape[-1]}, but code_dim={self.code_dim}.")
        if not self.quantizer.built:
            self.quantizer.build(code_shape)
        decoder_shape = tuple(code_shape)
        if self.speaker_embedding is not None:
            if not self.speaker_embedding.built:
                self.speaker_embedding.build((None,))
            decoder_shape = (*decoder_shape[:-1], self.code_dim + self.speaker_dim)
        if not self.decoder.built:
            self.decoder.build(decoder_shape)
        self.judges[0].built = True
        self.built = True
        self.code_shape = tuple(code_shape[1:-1])

    # ------------------------------------------------------------------ the user's API
    def call(self, inputs, training=False):
        return self.encoder(self._check_length(self.features(inputs)), training=training)

    def features(self, inputs):
        """What the encoder reads and the decoder rebuilds: the front end's frames of raw `inputs`, or the inputs."""
        return inputs if self.front_end is None else self.front_end(inputs)

    def adapt(self, waveforms):
        """Sets the front end's normalisation statistics from a list of float32 `[samples]` training waveforms."""
        if self.front_end is None:
            raise ValueError("This VQVAE has no front end to adapt; it takes its frames as they are.")
        self.front_end.adapt(waveforms)

    def _check_length(self, inputs):
        """Inputs with a number of frames not divisible by `time_stride` raise a clear error (a ValueError when the
        length is static, else InvalidArgumentError when run)."""
        if self.time_stride == 1:
            return inputs
        message = f"VQVAE(time_stride={self.time_stride}) needs a number of frames divisible by {self.time_stride}"
        length = inputs.shape[1]
        if length is not None:
            if length % self.time_stride:
                raise ValueError(f"{message}; got {length} frames (crop or pad them).")
            return inputs
        inputs = tf.convert_to_tensor(inputs)
        check = tf.debugging.assert_equal(tf.shape(inputs)[1] % self.time_stride, 0, message=message)
        with tf.control_dependencies([check]):
            return tf.identity(inputs)

    def encode(self, inputs):
        """Continuous encoder outputs before quantisation, `[batch, *code_shape, code_dim]`."""
        return self(inputs, training=False)

    def codes(self, inputs):
        """int32 code indices `[batch, *code_shape]` (a grid for images, one per frame for speech); exported as the
        `quantize` signature (`keras.Model.quantize` is Keras' own weight quantisation, hence the name)."""
        return self.quantizer.nearest(self.encode(inputs))

    def decode_codes(self, codes, speakers=None):
        """Reconstructions from int code indices (and, for a speaker-conditioned model, int speaker ids `[batch]`);
        indices or speaker ids out of range raise `InvalidArgumentError`."""
        return self._decode(self.quantizer.lookup(codes), speakers, training=False)

    def reconstruct(self, inputs, speakers=None):
        """Reconstructions of `inputs` through the quantised code (voiced by `speakers` when conditioned)."""
        out = self.quantizer(self.encode(inputs), training=False)
        return self._decode(out["quantized"], speakers, training=False)

    def _decode(self, quantized, speakers, training):
        """The decoder on quantised vectors, with the speaker embedding concatenated at every position if
        conditioned."""
        if self.speaker_embedding is None:
            if speakers is not None:
                raise ValueError("This VQVAE is not speaker-conditioned (num_speakers=None); do not pass speaker ids.")
            return self.decoder(quantized, training=training)
        if speakers is None:
            raise ValueError(
                f"This VQVAE's decoder is conditioned on the speaker (num_speakers={self.num_speakers}): pass int "
                "speaker ids [batch] (decode_codes(codes, speakers), or training data {'frames': x, 'speakers': ids})."
            )
        speakers = tf.cast(tf.reshape(speakers, [-1]), tf.int32)
        message = f"speaker ids must lie in [0, {self.num_speakers})"
        checks = [
            tf.debugging.assert_non_negative(speakers, message=message),
            tf.debugging.assert_less(speakers, tf.constant(self.num_speakers, tf.int32), message=message),
            tf.debugging.assert_equal(
                tf.shape(speakers)[0], tf.shape(quantized)[0], message="need one speaker id per example"
            ),
        ]
        with tf.control_dependencies(checks):
            speakers = tf.identity(speakers)
        embedding = tf.cast(self.speaker_embedding(speakers), quantized.dtype)  # [batch, speaker_dim]
        # Broadcast over every code position (time for frames, the grid for images).
        positions = tf.rank(quantized) - 2
        embedding = tf.reshape(
            embedding, tf.concat([[tf.shape(embedding)[0]], tf.ones([positions], tf.int32), [self.speaker_dim]], 0)
        )
        embedding = tf.broadcast_to(embedding, tf.concat([tf.shape(quantized)[:-1], [self.speaker_dim]], 0))
        return self.decoder(tf.concat([quantized, embedding], axis=-1), training=training)

    def _split_batch(self, inputs):
        """`(data, speaker ids or None)` from a training batch: a tensor, a dict with "frames" (or "inputs") and
        "speakers", or a tuple `(data, speakers)`."""
        if isinstance(inputs, dict):
            unknown = set(inputs) - {"frames", "inputs", "speakers"}
            if unknown or not ({"frames", "inputs"} & set(inputs)):
                raise ValueError(
                    f"VQVAE batches as dicts need keys 'frames' (or 'inputs') and 'speakers'; got {sorted(inputs)}."
                )
            return inputs.get("frames", inputs.get("inputs")), inputs.get("speakers")
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 2:
                raise ValueError(f"VQVAE batches as tuples must be (inputs, speaker_ids); got {len(inputs)} parts.")
            return inputs[0], inputs[1]
        return inputs, None

    # ------------------------------------------------------------------ the one loop's parts
    def unpack_batch(self, data):
        """The step's batch, with raw inputs replaced by the front end's frames (computed once per step)."""
        batch = super().unpack_batch(data)
        if self.front_end is None:
            return batch
        inputs, speakers = self._split_batch(batch)
        frames = self.front_end(inputs)
        return frames if speakers is None else {"frames": frames, "speakers": speakers}

    def encoder_inputs(self, batch):
        return self._check_length(self._split_batch(batch)[0])

    def judge_code(self, batch, code, training=False):
        """The reconstruction error `[batch]` of the batch's inputs from the quantised code, through the
        (speaker-conditioned) decoder, in float32 also under a mixed-precision policy."""
        inputs, speakers = self._split_batch(batch)
        reconstructions = self._decode(code, speakers, training=training)
        errors = reconstruction_error(
            tf.cast(inputs, "float32"), tf.cast(reconstructions, "float32"), kind=self.reconstruction_loss
        )
        return [errors], {}

    # ------------------------------------------------------------------ export and config
    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`): `encode`, `quantize`, `decode_codes` (which takes
        `(codes, speakers)`, int32 `[batch]` speaker ids, when the decoder is speaker-conditioned), and with a front
        end `features`; with a front end, `encode`, `quantize` and `features` take float32 waveforms
        `[batch, samples]`."""
        if self.front_end is None:
            data_spec = tf.TensorSpec([None, *self.data_shape], tf.float32, name="inputs")
        else:
            data_spec = tf.TensorSpec([None, None], tf.float32, name="waveforms")
        code_spec = tf.TensorSpec([None, *self.code_shape], tf.int32, name="codes")
        decode_specs = [code_spec]
        if self.speaker_embedding is not None:
            decode_specs.append(tf.TensorSpec([None], tf.int32, name="speakers"))
        signatures = {
            "encode": (self.encode, [data_spec]),
            "quantize": (self.codes, [data_spec]),
            "decode_codes": (self.decode_codes, decode_specs),
        }
        if self.front_end is not None:
            signatures["features"] = (self.features, [data_spec])
        return signatures

    def get_config(self):
        config = without_parts(super().get_config())
        config.update(
            {
                "data_shape": list(self.data_shape),
                "modality": self.modality,
                "num_codes": self.num_codes,
                "code_dim": self.code_dim,
                "beta": self.beta,
                "ema": self.ema,
                "decay": self.decay,
                "kmeans_init": self.kmeans_init,
                "restart_dead_codes": self.restart_dead_codes,
                "dead_code_threshold": self.dead_code_threshold,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "reconstruction_loss": self.reconstruction_loss,
                "num_speakers": self.num_speakers,
                "speaker_dim": self.speaker_dim,
                "seed": self.seed,
                "time_stride": self.time_stride,
                "front_end": keras.saving.serialize_keras_object(self.front_end),
                "quantizer_options": self.quantizer_options,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder", "decoder", "front_end")))
