"""Discrete auto-encoder: an image code of bits (binary) or of one-hot groups (Gumbel-softmax)."""

import math

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.validation import integer_at_least
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.layers.bottlenecks.binary_quantizer import BinaryQuantizer
from keras_ae.layers.decoders.conv_image_decoder import ConvImageDecoder
from keras_ae.layers.encoders.conv_image_encoder import ConvImageEncoder
from keras_ae.layers.bottlenecks.gumbel_softmax import GumbelSoftmax
from keras_ae.layers.bottlenecks.vector_quantizer import check_num_codes
from keras_ae.layers.judges.reconstruction_judge import ReconstructionJudge

CODES = ("binary", "onehot")


@keras.saving.register_keras_serializable(package="keras_ae")
class DiscreteAutoEncoder(JudgedEncoder):
    """An auto-encoder whose decoder sees only a discrete code: `code_length` symbols of `num_categories` values.

    - `code="binary"`: `code_length` bits (`BinaryQuantizer`, straight-through; Salakhutdinov & Hinton, 2009,
      "Semantic hashing"). A binary code is compact and can combine bits for unseen cases.
    - `code="onehot"`: `code_length` groups, each a one-hot vector over `num_categories` categories
      (`GumbelSoftmax`, hard straight-through with an annealed temperature; Jang et al., 2017, "Categorical
      Reparameterization with Gumbel-Softmax"). A single group (`code_length=1`) is a clustering.

    Either way the code carries `code_length * log2(num_categories)` bits (`code_bits`), so the two kinds can be
    compared at equal bits. The encoder outputs logits (the continuous embedding before quantisation).

    Args:
        image_shape: `(height, width, channels)` of the images (float32 in [0, 1]).
        code: `"binary"` or `"onehot"`.
        code_length: number of bits (binary) or of one-hot groups (onehot).
        num_categories: categories per one-hot group (16 by default); must be 2 (the default) for binary codes.
        binary_mode: `"deterministic"` or `"stochastic"` bits in training (see `BinaryQuantizer`).
        initial_temperature, min_temperature, anneal_rate: the Gumbel-softmax temperature schedule.
        encoder: a layer returning `(feature_map, logits)` with `code_length * num_categories` logits (binary: one
            per bit); default `ConvImageEncoder`.
        decoder: a layer mapping the flat code to images; default `ConvImageDecoder(image_shape)`.
        reconstruction_loss: `"mse"`, `"mae"` or `"bce"`.
        normalize_logits: batch-normalise the logits (no scale, no offset) before quantising, so every bit is on
            for about half of the images and every category starts in use. Without it, on MNIST, the logits
            drift to one sign for all images within the first epoch (the decoder first learns the mean image,
            whose gradient pushes every bit the same way), the sigmoid's gradient vanishes and the code collapses
            to a single constant code.
        seed: seed of the quantiser's noise.

    Example:
        model = DiscreteAutoEncoder(code="binary", code_length=32)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(train_images, batch_size=128, epochs=3)
        bits = model.codes(test_images)            # int32 [n, 32] of 0/1
        images = model.decode_codes(bits)          # [n, 28, 28, 1]
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        code="binary",
        code_length=64,
        num_categories=None,
        binary_mode="deterministic",
        initial_temperature=1.0,
        min_temperature=0.5,
        anneal_rate=1e-4,
        encoder=None,
        decoder=None,
        reconstruction_loss="mse",
        normalize_logits=True,
        seed=None,
        **kwargs,
    ):
        if code not in CODES:
            raise ValueError(f"Unknown code {code!r}: choose one of {', '.join(CODES)}.")
        check_num_codes(code_length, what="code length")
        if num_categories is None:
            num_categories = 2 if code == "binary" else 16
        if code == "binary" and num_categories != 2:
            raise ValueError(f"A binary code has 2 categories per symbol; got num_categories={num_categories}.")
        num_categories = integer_at_least("num_categories", num_categories, 2, " (categories of a one-hot group)")
        logits_dim = code_length if code == "binary" else code_length * num_categories
        # Layers
        encoder = encoder or ConvImageEncoder(embedding_dim=logits_dim, name="encoder")
        judge = ReconstructionJudge(
            decoder or ConvImageDecoder(image_shape=image_shape, name="decoder"),
            loss=reconstruction_loss,
            name="reconstruction",
        )
        super().__init__(encoder=encoder, judges=[judge], **kwargs)
        self.logit_norm = (
            keras.layers.BatchNormalization(center=False, scale=False, synchronized=True, name="logit_norm") if normalize_logits else None
        )
        if code == "binary":
            self.quantizer = BinaryQuantizer(mode=binary_mode, seed=seed, name="quantizer")
        else:
            self.quantizer = GumbelSoftmax(
                initial_temperature=initial_temperature,
                min_temperature=min_temperature,
                anneal_rate=anneal_rate,
                hard=True,
                seed=seed,
                name="quantizer",
            )
        # Config
        self.image_shape = tuple(image_shape)
        self.code = code
        self.code_length = code_length
        self.num_categories = num_categories
        self.binary_mode = binary_mode
        self.initial_temperature = initial_temperature
        self.min_temperature = min_temperature
        self.anneal_rate = anneal_rate
        self.reconstruction_loss = judge.loss
        self.normalize_logits = bool(normalize_logits)
        self.seed = seed
        self.logits_dim = logits_dim
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None, *self.image_shape))

    @property
    def code_bits(self):
        """Bits the code carries: `code_length * log2(num_categories)`."""
        return self.code_length * math.log2(self.num_categories)

    @property
    def code_values(self):
        """How many values one code symbol takes: 2 for bits, `num_categories` for one-hot groups."""
        return self.num_categories

    @property
    def decoder(self):
        return self.judges[0].decoder

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        logits_shape = self.encoder.compute_output_shape(input_shape)[1]
        if logits_shape[-1] != self.logits_dim:
            raise ValueError(f"The encoder outputs {logits_shape[-1]} logits; this code needs {self.logits_dim}.")
        if self.logit_norm is not None and not self.logit_norm.built:
            self.logit_norm.build((None, self.logits_dim))
        if not self.decoder.built:
            self.decoder.build((None, self.logits_dim))
        self.judges[0].built = True
        self.built = True

    # ------------------------------------------------------------------ the user's API
    def call(self, images, training=False):
        logits = self.encoder(images, training=training)[1]
        if self.logit_norm is not None:
            logits = self.logit_norm(logits, training=training)
        if self.code == "onehot":
            logits = tf.reshape(logits, [-1, self.code_length, self.num_categories])
        return logits

    def encode(self, images):
        """Logits before quantisation: `[batch, code_length]` (binary) or `[batch, code_length, num_categories]`."""
        return self(images, training=False)

    def codes(self, images):
        """int32 codes `[batch, code_length]`: bits (0/1) or category indices; exported as `quantize`."""
        logits = self.encode(images)
        if self.code == "binary":
            return self.quantizer.bits(logits)
        return tf.argmax(logits, axis=-1, output_type=tf.int32)

    def decode_codes(self, codes):
        """Reconstructions from int codes `[batch, code_length]`; values outside `[0, num_categories)` raise
        `InvalidArgumentError`."""
        codes = tf.cast(codes, tf.int32)
        message = f"codes must lie in [0, {self.num_categories})"
        checks = [
            tf.debugging.assert_non_negative(codes, message=message),
            tf.debugging.assert_less(codes, tf.constant(self.num_categories, tf.int32), message=message),
            tf.debugging.assert_equal(tf.shape(codes)[-1], self.code_length, message=f"need {self.code_length} codes"),
        ]
        with tf.control_dependencies(checks):
            codes = tf.identity(codes)
        return self.decoder(self._flat_code(codes))

    def reconstruct(self, images):
        """Reconstructions of `images` through the (deterministic) discrete code."""
        return self.decode_codes(self.codes(images))

    def _flat_code(self, codes):
        if self.code == "binary":
            return tf.cast(codes, "float32")
        return tf.reshape(tf.one_hot(codes, self.num_categories), [-1, self.logits_dim])

    # ------------------------------------------------------------------ the one loop's parts
    def forward(self, images, training=False):
        """The flat quantised code `[batch, logits_dim]` the decoder reconstructs from."""
        code = self.quantizer(self(images, training=training), training=training)
        return tf.reshape(code, [-1, self.logits_dim]), {}, {}

    def reconstruction_errors(self, images, training=False):
        """Per-example reconstruction error `[batch]` through the quantised code."""
        return self.judge_losses(images, training=training)[0][0]

    # ------------------------------------------------------------------ export and config
    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`): `encode`, `quantize`, `decode_codes`."""
        image_spec = tf.TensorSpec([None, *self.image_shape], tf.float32, name="images")
        code_spec = tf.TensorSpec([None, self.code_length], tf.int32, name="codes")
        return {
            "encode": (self.encode, [image_spec]),
            "quantize": (self.codes, [image_spec]),
            "decode_codes": (self.decode_codes, [code_spec]),
        }

    def get_config(self):
        config = without_parts(super().get_config())
        config.update(
            {
                "image_shape": list(self.image_shape),
                "code": self.code,
                "code_length": self.code_length,
                "num_categories": self.num_categories,
                "binary_mode": self.binary_mode,
                "initial_temperature": self.initial_temperature,
                "min_temperature": self.min_temperature,
                "anneal_rate": self.anneal_rate,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "reconstruction_loss": self.reconstruction_loss,
                "normalize_logits": self.normalize_logits,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder", "decoder")))
