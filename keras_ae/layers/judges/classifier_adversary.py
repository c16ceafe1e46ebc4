"""An adversary that tries to read a label (e.g. the speaker) from a code the encoder wants free of it."""

import keras
import tensorflow as tf

from keras_ae.core.validation import integer_at_least
from keras_ae.core.judged_encoder import code_embedding

FOOLING = ("uniform", "negative_crossentropy")


@keras.saving.register_keras_serializable(package="keras_ae")
class ClassifierAdversary(keras.layers.Layer):
    """A classifier of `batch[label_key]` from the code, trained against the encoder (Chou et al., 2018,
    "Multi-target voice conversion without parallel data by adversarially learning disentangled audio
    representations"; Ganin et al., 2016, "Domain-adversarial training of neural networks").

    The adversary minimises its cross-entropy; the encoder minimises `encoder_loss`, so that the code stops
    carrying the label. A code `[batch, dim]` is classified as a whole; a code of frames `[batch, time, dim]` is
    classified frame by frame (every frame must be free of the label) and its losses averaged over time.

    Args:
        num_classes: number of label values (labels are int ids in `[0, num_classes)`).
        label_key: the batch entry holding the labels `[batch]`.
        hidden_dim: width of the classifier's hidden layers.
        hidden_layers: number of hidden layers.
        fooling: what the encoder minimises: `"uniform"`, the cross-entropy of the classifier's prediction against
            the uniform distribution (pushes it to chance; bounded and stable), or `"negative_crossentropy"`, minus
            the adversary's own loss (the minimax game of the papers; unbounded, so it needs a small ramped weight).

    Example:
        adversary = ClassifierAdversary(num_classes=12, label_key="speakers", name="speaker_adversary")
        model = JudgedEncoder(encoder, judges=[reconstruction], adversaries=[adversary], adversary_steps=5)
        model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-3), "adversary": keras.optimizers.Adam(1e-3)})
    """

    def __init__(self, num_classes, label_key="labels", hidden_dim=128, hidden_layers=1, fooling="uniform", **kwargs):
        super().__init__(**kwargs)
        num_classes = integer_at_least("ClassifierAdversary num_classes", num_classes, 2)
        if fooling not in FOOLING:
            raise ValueError(f"Unknown fooling {fooling!r}: choose one of {', '.join(FOOLING)}.")
        # Layers
        self.classifier = keras.Sequential(
            [keras.layers.Dense(hidden_dim, activation="relu") for _ in range(hidden_layers)]
            + [keras.layers.Dense(num_classes)],
            name="classifier",
        )
        # Config
        self.num_classes = num_classes
        self.label_key = label_key
        self.hidden_dim = hidden_dim
        self.hidden_layers = hidden_layers
        self.fooling = fooling
        self.metric_names = (f"{self.name}_accuracy",)

    def build(self, code_shape):
        embedding_shape = code_shape[-1] if code_shape and isinstance(code_shape[0], (tuple, list)) else code_shape
        self.classifier.build(tuple(embedding_shape))
        self.built = True

    def _logits_and_labels(self, batch, code, training):
        if not isinstance(batch, dict) or self.label_key not in batch:
            raise ValueError(
                f"{self.name} reads labels from batch[{self.label_key!r}]; feed dict batches with that key."
            )
        logits = tf.cast(self.classifier(code_embedding(code), training=training), "float32")
        labels = tf.cast(tf.reshape(batch[self.label_key], [-1]), "int32")
        if logits.shape.rank == 3:  # frames: one prediction per frame, each must miss the label
            labels = tf.broadcast_to(labels[:, None], tf.shape(logits)[:2])
        return logits, labels

    def _per_example(self, values):
        return tf.reduce_mean(values, axis=1) if values.shape.rank == 2 else values

    def adversary_loss(self, batch, code, training=False):
        """The classifier's cross-entropy `[batch]` and its accuracy."""
        logits, labels = self._logits_and_labels(batch, code, training)
        crossentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        correct = tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels), "float32")
        return self._per_example(crossentropy), {self.metric_names[0]: tf.reduce_mean(correct)}

    def encoder_loss(self, batch, code, training=False):
        """What the encoder minimises against the classifier, `[batch]` (see `fooling`)."""
        logits, labels = self._logits_and_labels(batch, code, training)
        if self.fooling == "uniform":
            losses = -tf.reduce_mean(tf.nn.log_softmax(logits, axis=-1), axis=-1)
        else:
            losses = -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        return self._per_example(losses)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "label_key": self.label_key,
                "hidden_dim": self.hidden_dim,
                "hidden_layers": self.hidden_layers,
                "fooling": self.fooling,
            }
        )
        return config
