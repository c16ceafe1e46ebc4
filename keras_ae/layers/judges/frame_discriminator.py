"""A discriminator of real against decoded log-mel frames: the adversarial remedy for over-smoothed speech."""

import keras
import tensorflow as tf

LOSSES = ("lsgan", "hinge")


def generated_frames(code):
    """The decoded frames a speech code carries for a `FrameDiscriminator`: `[rebuilt, converted]` from the
    `generated` dict of a code `(frames, speaker, generated, content)` (`DisentanglingAutoEncoder.forward` with
    a frame adversary)."""
    if not isinstance(code, (tuple, list)) or len(code) != 4 or not isinstance(code[2], dict):
        raise ValueError("A FrameDiscriminator reads a code (frames, speaker, {'rebuilt': ..., 'converted': ...}, "
                         "content): use it through DisentanglingAutoEncoder(frame_adversary_weight=...).")
    return [tf.cast(code[2][key], "float32") for key in ("rebuilt", "converted")]


@keras.saving.register_keras_serializable(package="keras_ae")
class FrameDiscriminator(keras.layers.Layer):
    """Tells real log-mel frames from the decoder's, patch by patch; an adversary of the `JudgedEncoder` loop.

    A decoder trained on L1 alone returns the average of the frames a code could stand for, so its output varies
    less over time than speech does (over-smoothing; Toda & Tokuda, 2007). A global-variance loss matches one
    statistic; a discriminator matches whatever it can tell apart. This one is a small stack of 1-D convolutions
    over time (the mel bins are its channels), strided so that each score covers a patch of frames, as in
    MelGAN's and HiFi-GAN's discriminators (Kumar et al., 2019; Kong et al., 2020) and the post-filter GAN of
    Kaneko et al. (2017, "Generative adversarial network-based postfilter for statistical parametric speech
    synthesis"). It sees two kinds of fake: the frames rebuilt from an utterance's own codes, and *converted*
    frames (the content of one utterance of the batch with the speaker code of another), which have no target
    to be compared with frame by frame, so this is the only judge of how they move over time.

    Losses (per example, mean over patches): `"lsgan"` (Mao et al., 2017): the discriminator minimises
    `(D(real) - 1)^2 + D(fake)^2`, the decoder `(D(fake) - 1)^2`; `"hinge"`: `relu(1 - D(real)) + relu(1 + D(fake))`
    and `-D(fake)`. The decoder's loss adds `feature_matching_weight` times the L1 distance between the
    discriminator's hidden features of the real and of the rebuilt frames (Larsen et al., 2016; MelGAN), which
    steadies training. The fakes' two losses are averaged.

    Args:
        filters: channels of the hidden convolutions.
        blocks: hidden convolutions (every one after the first halves the time axis).
        kernel_size: kernel width in frames.
        loss: `"lsgan"` or `"hinge"`.
        feature_matching_weight: weight of the feature-matching term in the decoder's loss.

    Example:
        discriminator = FrameDiscriminator(filters=64, name="frame_discriminator")
        code = (frames, speaker, {"rebuilt": rebuilt, "converted": converted}, content)
        losses, metrics = discriminator.adversary_loss({}, code)     # [batch], {...}
        decoder_losses = discriminator.encoder_loss({}, code)         # [batch]
    """

    def __init__(self, filters=64, blocks=3, kernel_size=5, loss="lsgan", feature_matching_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        if loss not in LOSSES:
            raise ValueError(f"Unknown FrameDiscriminator loss {loss!r}: choose one of {', '.join(LOSSES)}.")
        if not feature_matching_weight >= 0:
            raise ValueError(f"feature_matching_weight must be 0 or more; got {feature_matching_weight}.")
        # Layers
        self.convolutions = [keras.layers.Conv1D(filters, kernel_size, strides=1 if i == 0 else 2, padding="same",
                                                 name=f"conv_{i}") for i in range(blocks)]
        self.score = keras.layers.Conv1D(1, 3, padding="same", name="score")
        # Config
        self.filters = filters
        self.blocks = blocks
        self.kernel_size = kernel_size
        self.loss = loss
        self.feature_matching_weight = float(feature_matching_weight)
        self.metric_names = (f"{self.name}_real", f"{self.name}_fake")

    def build(self, input_shape):
        """`input_shape`: of frames `[batch, time, bins]`, or of a whole speech code whose first part is the frames."""
        bins = (input_shape[0] if isinstance(input_shape[0], (tuple, list)) else input_shape)[-1]
        for index, convolution in enumerate(self.convolutions):
            convolution.build((None, None, bins if index == 0 else self.filters))
        self.score.build((None, None, self.filters))
        self.built = True

    def features(self, frames):
        """`(scores [batch, patches], [hidden features])` of frames `[batch, time, bins]`."""
        hidden, features = tf.cast(frames, self.compute_dtype), []
        for convolution in self.convolutions:
            hidden = tf.nn.leaky_relu(convolution(hidden), 0.2)
            features.append(hidden)
        return tf.cast(self.score(hidden)[..., 0], "float32"), features

    def call(self, frames):
        """Patch scores `[batch, patches]` (high: real)."""
        return self.features(frames)[0]

    def adversary_loss(self, batch, code, training=False):
        """The discriminator's loss `[batch]` and its mean score on real and on fake frames."""
        real = self(tf.cast(code[0], "float32"))
        fakes = [self(fake) for fake in generated_frames(code)]
        if self.loss == "lsgan":
            real_loss = tf.reduce_mean(tf.square(real - 1.0), axis=1)
            fake_loss = tf.add_n([tf.reduce_mean(tf.square(fake), axis=1) for fake in fakes]) / len(fakes)
        else:
            real_loss = tf.reduce_mean(tf.nn.relu(1.0 - real), axis=1)
            fake_loss = tf.add_n([tf.reduce_mean(tf.nn.relu(1.0 + fake), axis=1) for fake in fakes]) / len(fakes)
        fake_score = tf.add_n([tf.reduce_mean(fake) for fake in fakes]) / len(fakes)
        return real_loss + fake_loss, {self.metric_names[0]: tf.reduce_mean(real), self.metric_names[1]: fake_score}

    def encoder_loss(self, batch, code, training=False):
        """What the decoder minimises against the discriminator `[batch]`: its adversarial loss on both fakes plus
        `feature_matching_weight` times the feature-matching L1 of the rebuilt frames against the real ones."""
        rebuilt, converted = generated_frames(code)
        losses = []
        for fake in (rebuilt, converted):
            scores = self(fake)
            losses.append(tf.reduce_mean(tf.square(scores - 1.0) if self.loss == "lsgan" else -scores, axis=1))
        loss = 0.5 * (losses[0] + losses[1])
        if self.feature_matching_weight:
            _, real_features = self.features(tf.stop_gradient(tf.cast(code[0], "float32")))
            _, fake_features = self.features(rebuilt)
            matching = tf.add_n([tf.reduce_mean(tf.abs(tf.cast(f - tf.stop_gradient(r), "float32")), axis=[1, 2])
                                 for r, f in zip(real_features, fake_features)]) / len(real_features)
            loss = loss + self.feature_matching_weight * matching
        return loss

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "blocks": self.blocks, "kernel_size": self.kernel_size,
                       "loss": self.loss, "feature_matching_weight": self.feature_matching_weight})
        return config
