"""Deep InfoMax: an encoder trained with pair discriminators instead of a decoder."""

import keras

from keras_ae.layers.conv_image_encoder import ConvImageEncoder
from keras_ae.layers.pair_discriminator import PairDiscriminator
from keras_ae.models.judged_encoder import JudgedEncoder


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
        **kwargs,
    ):
        for key in ("judges", "judge_weights"):
            kwargs.pop(key, None)
        weighted = [(view, weight) for view, weight in (("global", global_weight), ("local", local_weight)) if weight]
        if not weighted:
            raise ValueError("InfoMax needs a positive global_weight or local_weight.")
        super().__init__(
            encoder=encoder or ConvImageEncoder(embedding_dim=embedding_dim, name="encoder"),
            judges=[PairDiscriminator(view=view, objective=objective, name=f"{view}_discriminator") for view, _ in weighted],
            judge_weights=[weight for _, weight in weighted],
            image_shape=image_shape,
            **kwargs,
        )
        # Config
        self.embedding_dim = embedding_dim
        self.objective = objective
        self.global_weight = global_weight
        self.local_weight = local_weight

    def get_config(self):
        config = super().get_config()
        del config["judges"], config["judge_weights"]
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "objective": self.objective,
                "global_weight": self.global_weight,
                "local_weight": self.local_weight,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)
