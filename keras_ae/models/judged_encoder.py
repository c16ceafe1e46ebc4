"""One training loop for "encoder + judge + objective": the discriminator view of representation learning."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.models.training import metric_results, minimize, unpack_inputs


@keras.saving.register_keras_serializable(package="keras_ae")
class JudgedEncoder(keras.Model):
    """An encoder trained jointly with judges that say whether an (input, embedding) pair belongs together.

    Encoder (theta) and judges (phi) minimise the same weighted sum of judge losses,
    `theta* = argmin_theta min_phi L_D`. With `PairDiscriminator` judges this is Deep InfoMax (`InfoMax`); with a
    single `ReconstructionJudge` it is exactly the classic auto-encoder.

    Args:
        encoder: a layer mapping inputs to `(feature_map, embedding)`, e.g. `ConvImageEncoder`.
        judges: layers with `judge_loss(inputs, features, embedding) -> [batch]` and `score(...) -> [batch]`.
        judge_weights: one weight per judge (default: all 1).
        image_shape: `(height, width, channels)` of the inputs, used for export signatures.

    Example:
        model = JudgedEncoder(
            ConvImageEncoder(embedding_dim=64),
            judges=[ReconstructionJudge(ConvImageDecoder(image_shape=(28, 28, 1)))],
            image_shape=(28, 28, 1),
        )
        model.compile(optimizer="adam")
        model.fit(images, epochs=5)
        z = model.encode(images)
    """

    def __init__(self, encoder, judges, judge_weights=None, image_shape=(28, 28, 1), **kwargs):
        super().__init__(**kwargs)
        judge_weights = [1.0] * len(judges) if judge_weights is None else [float(w) for w in judge_weights]
        if len(judge_weights) != len(judges):
            raise ValueError(f"Got {len(judges)} judges but {len(judge_weights)} judge weights; give one per judge.")
        # Layers
        self.encoder = encoder
        self.judges = list(judges)
        # Metrics
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.judge_trackers = [keras.metrics.Mean(name=f"{judge.name}_loss") for judge in self.judges]
        # Config
        self.judge_weights = judge_weights
        self.image_shape = tuple(image_shape)
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None, *self.image_shape))

    @property
    def metrics(self):
        return [self.loss_tracker, *self.judge_trackers]

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        features_shape, embedding_shape = self.encoder.compute_output_shape(input_shape)
        for judge in self.judges:
            if not judge.built:
                judge.build(features_shape, embedding_shape)

    def call(self, images, training=False):
        return self.encoder(images, training=training)[1]

    def encode(self, images):
        """Embeddings `[batch, embedding_dim]` of float32 images in [0, 1]."""
        return self(images, training=False)

    def judge_losses(self, images, training=False):
        """Per-example loss of every judge, `[batch]` each, for the pairs (images, encoder(images))."""
        features, embedding = self.encoder(images, training=training)
        return [judge.judge_loss(images, features, embedding) for judge in self.judges]

    def _total(self, per_judge):
        return tf.add_n([weight * loss for weight, loss in zip(self.judge_weights, per_judge)])

    def train_step(self, data):
        images = unpack_inputs(data)

        def compute_loss():
            per_judge = self.judge_losses(images, training=True)
            return self._total(per_judge), per_judge

        loss, per_judge = minimize(compute_loss, self.trainable_variables, self.optimizer)
        return self._report(loss, per_judge)

    def test_step(self, data):
        per_judge = self.judge_losses(unpack_inputs(data), training=False)
        return self._report(tf.reduce_mean(self._total(per_judge)), per_judge)

    def _report(self, loss, per_judge):
        self.loss_tracker.update_state(loss)
        for tracker, judge_loss in zip(self.judge_trackers, per_judge):
            tracker.update_state(tf.reduce_mean(judge_loss))
        return metric_results(self)

    def score(self, images, embedding):
        """Weighted judge score that `embedding[i]` belongs to `images[i]` (higher: more likely)."""
        features, _ = self.encoder(images, training=False)
        scores = [judge.score(images, features, embedding) for judge in self.judges]
        return tf.add_n([weight * s for weight, s in zip(self.judge_weights, scores)])

    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`)."""
        image_spec = tf.TensorSpec([None, *self.image_shape], tf.float32, name="images")
        embedding_spec = tf.TensorSpec([None, self.encoder.embedding_dim], tf.float32, name="embeddings")
        signatures = {"encode": (self.encode, [image_spec]), "score": (self.score, [image_spec, embedding_spec])}
        decoders = [judge for judge in self.judges if hasattr(judge, "decode")]
        if decoders:
            signatures["decode"] = (decoders[0].decode, [embedding_spec])
        return signatures

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "judges": [keras.saving.serialize_keras_object(judge) for judge in self.judges],
                "judge_weights": self.judge_weights,
                "image_shape": list(self.image_shape),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder", "judges")))
