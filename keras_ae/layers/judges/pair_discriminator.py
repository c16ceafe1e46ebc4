"""Pair discriminator: judges whether an (input, embedding) pair belongs together (Deep InfoMax)."""

import keras
import tensorflow as tf

from keras_ae.distribute import gather_global_batch
from keras_ae.losses import pair_objective

VIEWS = ("global", "local")


@keras.saving.register_keras_serializable(package="keras_ae")
class PairDiscriminator(keras.layers.Layer):
    """Scores every (input, embedding) pair of the global batch; matched pairs should win.

    The score of input i and embedding j is a dot product of two learned projections, `phi(x_i) . psi(z_j)`
    (the separable "encoder-and-dot" critic of Hjelm et al., 2019, "Learning deep representations by mutual
    information estimation and maximization"), so the whole `[local_batch, global_batch]` score matrix costs one
    matrix product. Mismatched pairs are every other embedding of the global batch, gathered across replicas.

    Args:
        view: `"global"` scores the whole feature map against the embedding; `"local"` scores every location of
            the feature map against it and averages the losses over locations.
        objective: `"bce"` (binary cross-entropy L_D, matched = 1, mismatched = 0) or `"infonce"`.
        projection_dim: size of the space in which inputs and embeddings meet.
        hidden_dim: width of the hidden layer of both projections.

    Example:
        judge = PairDiscriminator(view="local")
        loss = judge.judge_loss(images, (feature_map, z))   # one loss per example, [batch]
    """

    def __init__(self, view="global", objective="bce", projection_dim=128, hidden_dim=256, **kwargs):
        super().__init__(**kwargs)
        if view not in VIEWS:
            raise ValueError(f"Unknown discriminator view {view!r}: choose one of {', '.join(VIEWS)}.")
        self.objective_fn = pair_objective(objective)
        # Layers
        if view == "global":
            self.input_projection = keras.Sequential(
                [
                    keras.layers.Flatten(),
                    keras.layers.Dense(hidden_dim, activation="relu"),
                    keras.layers.Dense(projection_dim),
                ],
                name="input_projection",
            )
        else:
            self.input_projection = keras.Sequential(
                [
                    keras.layers.Conv2D(hidden_dim, 1, activation="relu"),
                    keras.layers.Conv2D(projection_dim, 1),
                    keras.layers.Reshape((-1, projection_dim)),
                ],
                name="input_projection",
            )
        self.embedding_projection = keras.Sequential(
            [keras.layers.Dense(hidden_dim, activation="relu"), keras.layers.Dense(projection_dim)],
            name="embedding_projection",
        )
        # Config
        self.view = view
        self.objective = objective
        self.projection_dim = projection_dim
        self.hidden_dim = hidden_dim
        self.temperature_scale = projection_dim**-0.5  # keeps initial logits near unit scale

    def build(self, code_shape):
        features_shape, embedding_shape = code_shape
        self.input_projection.build(features_shape)
        self.embedding_projection.build(embedding_shape)

    def score_matrix(self, features, embedding):
        """Scores of this replica's inputs against the global batch's embeddings, and the positives' indices.

        Returns `(scores, positive_index)`: scores are `[batch, global_batch]` (global view) or
        `[batch, locations, global_batch]` (local view).
        """
        queries = self.input_projection(features)
        keys, offset = gather_global_batch(self.embedding_projection(embedding))
        scores = tf.einsum("b...d,gd->b...g", queries, keys) * self.temperature_scale
        positive_index = offset + tf.range(tf.shape(queries)[0])
        return scores, positive_index

    def judge_loss(self, inputs, code, training=False):
        """Per-example discriminator loss L_D for a code `(feature_map, embedding)` (encoder and discriminator
        both minimise it)."""
        features, embedding = code
        scores, positive_index = self.score_matrix(features, embedding)
        return self.objective_fn(scores, positive_index)

    def score(self, inputs, code):
        """Matched-pair score: the logit that `embedding[i]` belongs to `inputs[i]` (averaged over locations), for a
        code `(feature_map, embedding)`."""
        features, embedding = code
        queries = self.input_projection(features)
        keys = self.embedding_projection(embedding)
        scores = tf.einsum("b...d,bd->b...", queries, keys) * self.temperature_scale
        return tf.reshape(tf.reduce_mean(tf.reshape(scores, [tf.shape(scores)[0], -1]), axis=-1), [-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "view": self.view,
                "objective": self.objective,
                "projection_dim": self.projection_dim,
                "hidden_dim": self.hidden_dim,
            }
        )
        return config
