"""Deep InfoMax: an encoder trained with pair discriminators instead of a decoder."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.layers.encoders.conv_image_encoder import ConvImageEncoder
from keras_ae.layers.judges.pair_discriminator import PairDiscriminator
from keras_ae.layers.random_shift import random_shift


@keras.saving.register_keras_serializable(package="keras_ae")
class InfoMax(JudgedEncoder):
    """Deep InfoMax (Hjelm et al., 2019, "Learning deep representations by mutual information estimation and
    maximization"): a global discriminator judges (image, embedding) pairs, a local one judges (feature-map
    location, embedding) pairs; mismatched pairs come from the global batch. Encoder and discriminators jointly
    minimise `global_weight * L_global + local_weight * L_local`.

    Args:
        image_shape: `(height, width, channels)` of the images (float32 in [0, 1]).
        embedding_dim: size of the embedding.
        encoder: a layer returning `(feature_map, embedding)`; default `ConvImageEncoder(embedding_dim)`.
        objective: `"bce"` (the discriminator's binary cross-entropy) or `"infonce"`.
        global_weight: weight of the global (whole image) objective; 0 drops the global discriminator.
        local_weight: weight of the local (feature-map location) objective; 0 drops the local discriminator.
        max_shift: 0 pairs each image with its own embedding (Deep InfoMax). A positive value pairs the features
            of one randomly shifted view with the embedding of another shifted view (up to `max_shift` pixels), as
            in Bachman et al., 2019, "Learning Representations by Maximizing Mutual Information Across Views":
            the matched pair must then survive small translations, which rules out pixel-level shortcuts.

    Example:
        model = InfoMax(image_shape=(28, 28, 1), embedding_dim=64)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(train_images, epochs=5)
        z = model.encode(test_images)
    """

    def __init__(
        self,
        image_shape=(28, 28, 1),
        embedding_dim=64,
        encoder=None,
        objective="bce",
        global_weight=0.5,
        local_weight=1.0,
        max_shift=0,
        **kwargs,
    ):
        weighted = [(view, weight) for view, weight in (("global", global_weight), ("local", local_weight)) if weight]
        if not weighted:
            raise ValueError("InfoMax needs a positive global_weight or local_weight.")
        if max_shift < 0:
            raise ValueError(f"max_shift must be >= 0 pixels; got {max_shift}.")
        super().__init__(
            encoder=encoder or ConvImageEncoder(embedding_dim=embedding_dim, name="encoder"),
            judges=[PairDiscriminator(view=view, objective=objective, name=f"{view}_discriminator") for view, _ in weighted],
            judge_weights=[weight for _, weight in weighted],
            input_shape=image_shape,
            **kwargs,
        )
        # Config
        self.image_shape = tuple(image_shape)
        self.embedding_dim = embedding_dim
        self.objective = objective
        self.global_weight = global_weight
        self.local_weight = local_weight
        self.max_shift = max_shift

    input_name = "images"

    def forward(self, batch, training=False):
        """The code `(feature_map, embedding)`; in training with `max_shift`, the feature map of one shifted view
        and the embedding of another."""
        if not (training and self.max_shift):
            return super().forward(batch, training=training)
        step = tf.cast(self.optimizer.iterations, tf.int32)
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group if tf.distribute.has_strategy() else 0
        views = [random_shift(batch, self.max_shift, tf.stack([step, 2 * replica + view])) for view in (0, 1)]
        features, _ = self.encoder(views[0], training=training)
        _, embedding = self.encoder(views[1], training=training)
        return (features, embedding), {}, {}

    def score(self, images, embedding):
        """Weighted discriminator score that `embedding[i]` belongs to `images[i]` (higher: more likely)."""
        features, _ = self.encoder(images, training=False)
        scores = [judge.score(images, (features, embedding)) for judge in self.judges]
        return tf.add_n([weight * score for weight, score in zip(self.judge_weights, scores)])

    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`): `encode` and `score`."""
        image_spec = tf.TensorSpec([None, *self.image_shape], tf.float32, name="images")
        embedding_spec = tf.TensorSpec([None, self.embedding_dim], tf.float32, name="embeddings")
        return {"encode": (self.encode, [image_spec]), "score": (self.score, [image_spec, embedding_spec])}

    def get_config(self):
        config = without_parts(super().get_config())
        config.update(
            {
                "image_shape": list(self.image_shape),
                "embedding_dim": self.embedding_dim,
                "objective": self.objective,
                "global_weight": self.global_weight,
                "local_weight": self.local_weight,
                "max_shift": self.max_shift,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder",)))
