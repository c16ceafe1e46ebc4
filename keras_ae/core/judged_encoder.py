"""The one training loop: an encoder, an optional bottleneck, judges, and optional adversaries.

Every keras_ae model is this loop with parts of its own: the classic auto-encoder is an encoder judged by a
`ReconstructionJudge`, Deep InfoMax the same encoder judged by `PairDiscriminator`s, a VQ-VAE puts a
`VectorQuantizer` bottleneck between encoder and reconstruction judge, and the disentangling models add an
adversary that reads the code and is trained against the encoder.
"""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.validation import integer_at_least
from keras_ae.core.steps import metric_results, minimize, unpack_inputs


def code_embedding(code):
    """The embedding of a code: the code itself, or the last element of an encoder's `(feature_map, embedding)`."""
    return code[-1] if isinstance(code, (tuple, list)) else code


def code_embedding_shape(code_shape):
    """The shape of `code_embedding(code)` for a code of `code_shape` (a shape, or a tuple of shapes)."""
    if code_shape and isinstance(code_shape[0], (tuple, list)):
        return tuple(code_shape[-1])
    return tuple(code_shape)


PART_KEYS = (
    "judges",
    "bottleneck",
    "judge_weights",
    "adversaries",
    "adversary_weights",
    "adversary_steps",
    "adversary_ramp_steps",
    "input_shape",
)


def without_parts(config, keep=()):
    """A method class's config: `JudgedEncoder.get_config()` less the parts that the class chooses itself (all of
    `PART_KEYS` but `keep`)."""
    return {key: value for key, value in config.items() if key not in PART_KEYS or key in keep}


def _losses_and_metrics(result):
    """`(per_example_losses, metrics)` from a judge's result, which may be the losses alone."""
    if isinstance(result, (tuple, list)):
        losses, metrics = result
        return losses, dict(metrics)
    return result, {}


@keras.saving.register_keras_serializable(package="keras_ae")
class JudgedEncoder(keras.Model):
    """An encoder trained jointly with judges that say whether a code represents its input.

    One step: `encoding = encoder(encoder_inputs(batch))`; `code, bottleneck_losses, metrics = bottleneck(encoding)`
    (no bottleneck: the code is the encoding); every judge gives per-example losses `judge.judge_loss(batch, code)`.
    Encoder, bottleneck and judges minimise `sum_j judge_weights[j] * L_j + sum(bottleneck_losses)`:
    `theta* = argmin_theta min_phi L_D` in the discriminator view. With a single `ReconstructionJudge` this *is* the
    classic auto-encoder (`AutoEncoder` is exactly that).

    Adversaries (e.g. a speaker classifier reading a content code) have their own variables and optimizer: each
    step first takes `adversary_steps` updates of the adversaries on `adversary.adversary_loss(batch, code)` with the
    code held fixed, then one update of everything else on the judges' loss plus
    `ramp * sum_a adversary_weights[a] * adversary.encoder_loss(batch, code)`, where `ramp` rises linearly from 0 to
    1 over the first `adversary_ramp_steps` encoder updates (Chou et al., 2018, "Multi-target voice conversion
    without parallel data by adversarially learning disentangled audio representations"). Compile such a model
    with `compile(optimizers={"encoder": ..., "adversary": ...})`.

    Contracts:
        judge: a layer with `judge_loss(batch, code, training=False)` returning per-example losses `[batch]` or
            `(losses, {metric: scalar})`, and a tuple `metric_names` of those metrics (optional).
        bottleneck: a layer whose `call(encoding, training=False)` returns `(code, {loss: [batch]}, {metric: scalar})`
            (or, for a layer whose call has a natural output of its own, such as `VectorQuantizer`'s dict, whose
            `compress(encoding, training=False)` does) and that lists `loss_names` and `metric_names`.
        adversary: a layer with `adversary_loss(batch, code, training=False)` (what it minimises, `[batch]` or
            `(losses, metrics)`), `encoder_loss(batch, code, training=False)` (`[batch]`, what the encoder
            minimises against it) and optional `metric_names`.

    Method classes override `unpack_batch`, `encoder_inputs`, `forward` or `judge_code` where their batches or codes have more
    structure, and `export_signatures`; none writes a training step of its own.

    Args:
        encoder: a layer mapping `encoder_inputs(batch)` to an encoding (a tensor, or `(feature_map, embedding)`).
        judges: judge layers (see above).
        bottleneck: an optional bottleneck layer between encoder and judges.
        judge_weights: one weight per judge (default: all 1).
        adversaries: adversary layers (see above).
        adversary_weights: one weight per adversary (default: all 1).
        adversary_steps: adversary updates per encoder update.
        adversary_ramp_steps: encoder updates over which the adversarial weight ramps from 0 to its value (0: none).
        input_shape: shape of one input without the batch axis; when given, the model is built at once and
            exports `encode` (and `decode`, if a judge can decode) for float32 inputs of that shape.

    Example:
        model = JudgedEncoder(
            ConvImageEncoder(embedding_dim=64),
            judges=[ReconstructionJudge(ConvImageDecoder(image_shape=(28, 28, 1)))],
            input_shape=(28, 28, 1),
        )
        model.compile(optimizer="adam")
        model.fit(images, epochs=5)
        z = model.encode(images)
    """

    input_name = "inputs"  # the name of the input in the default export signatures

    def __init__(
        self,
        encoder,
        judges,
        bottleneck=None,
        judge_weights=None,
        adversaries=(),
        adversary_weights=None,
        adversary_steps=1,
        adversary_ramp_steps=0,
        input_shape=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        judges, adversaries = list(judges), list(adversaries)
        judge_weights = _weights("judge", judges, judge_weights)
        adversary_weights = _weights("adversary", adversaries, adversary_weights)
        adversary_steps = integer_at_least("adversary_steps", adversary_steps, 1)
        adversary_ramp_steps = integer_at_least("adversary_ramp_steps", adversary_ramp_steps, 0)
        # Layers
        self.encoder = encoder
        self.bottleneck = bottleneck
        self.judges = judges
        self.adversaries = adversaries
        self.adversary_optimizer = None
        # Metrics (a lone judge's loss is the loss: it gets no tracker of its own)
        self.reports_judge_losses = len(judges) > 1 or bottleneck is not None or bool(adversaries)
        names = ["loss", *(f"{judge.name}_loss" for judge in judges if self.reports_judge_losses)]
        if bottleneck is not None:
            names += [*bottleneck.loss_names, *bottleneck.metric_names]
        for judge in judges:
            names += list(getattr(judge, "metric_names", ()))
        for adversary in adversaries:
            names += [f"{adversary.name}_loss", *getattr(adversary, "metric_names", ())]
        self._check_unique(names)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}
        # Config
        self.judge_weights = judge_weights
        self.adversary_weights = adversary_weights
        self.adversary_steps = adversary_steps
        self.adversary_ramp_steps = adversary_ramp_steps
        self.input_shape_ = None if input_shape is None else tuple(input_shape)
        if self.input_shape_ is not None:
            self.build((None, *self.input_shape_))

    @staticmethod
    def _check_unique(names):
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"Metric names {repeated} are reported twice; give the judges distinct names.")

    @property
    def metrics(self):
        return list(self.trackers.values())

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        code_shape = self.encoder.compute_output_shape(input_shape)
        if self.bottleneck is not None and not self.bottleneck.built:
            self.bottleneck.build(code_shape)
        for layer in (*self.judges, *self.adversaries):
            if not layer.built:
                layer.build(code_shape)
        self.built = True

    # ------------------------------------------------------------------ the forward pass and the judges
    def call(self, inputs, training=False):
        return code_embedding(self.encoder(inputs, training=training))

    def encode(self, inputs):
        """The embedding a user wants (`[batch, embedding_dim]` for the image encoders)."""
        return self(inputs, training=False)

    def unpack_batch(self, data):
        """The batch the step works on, from what the dataset yields (by default its inputs, without labels)."""
        return unpack_inputs(data)

    def encoder_inputs(self, batch):
        """What the encoder reads from a batch (the batch itself; method classes pick a key of dict batches)."""
        return batch

    def forward(self, batch, training=False):
        """`(code, bottleneck_losses, metrics)` for a batch: the encoder, then the bottleneck if any."""
        return self.bottleneck_code(self.encoder(self.encoder_inputs(batch), training=training), training=training)

    def bottleneck_code(self, encoding, training=False):
        """`(code, bottleneck_losses, metrics)` of an encoding: the bottleneck's, or the encoding itself."""
        if self.bottleneck is None:
            return encoding, {}, {}
        compress = getattr(self.bottleneck, "compress", None) or self.bottleneck
        code, losses, metrics = compress(encoding, training=training)
        return code, dict(losses), dict(metrics)

    def judge_code(self, batch, code, training=False):
        """`(per_judge, metrics)`: every judge's `[batch]` losses for the pairs (batch, code), and its metrics."""
        per_judge, metrics = [], {}
        for judge in self.judges:
            losses, judge_metrics = _losses_and_metrics(judge.judge_loss(batch, code, training=training))
            per_judge.append(losses)
            metrics.update(judge_metrics)
        return per_judge, metrics

    def judge_losses(self, batch, training=False):
        """`(per_judge, extra_losses, metrics)`: a `[batch]` loss per judge, the bottleneck's `[batch]` losses by
        name, and scalar metrics by name."""
        code, extra_losses, metrics = self.forward(batch, training=training)
        per_judge, judge_metrics = self.judge_code(batch, code, training=training)
        return per_judge, extra_losses, {**metrics, **judge_metrics}

    def total_loss(self, per_judge, extra_losses):
        """`sum_j judge_weights[j] * per_judge[j] + sum(extra_losses)`, per example, in float32."""
        terms = [weight * tf.cast(loss, "float32") for weight, loss in zip(self.judge_weights, per_judge)]
        terms += [tf.cast(loss, "float32") for loss in extra_losses.values()]
        return tf.add_n(terms)

    # ------------------------------------------------------------------ adversaries
    @property
    def adversary_variables(self):
        return [variable for adversary in self.adversaries for variable in adversary.trainable_variables]

    @property
    def encoder_variables(self):
        """Every trainable variable that is not an adversary's: encoder, bottleneck, judges."""
        adversarial = {id(variable) for variable in self.adversary_variables}
        return [variable for variable in self.trainable_variables if id(variable) not in adversarial]

    def adversary_ramp(self):
        """The share of the adversarial weights in force at this encoder step, rising linearly from 0 to 1."""
        if not self.adversary_ramp_steps:
            return tf.constant(1.0)
        step = tf.cast(self.optimizer.iterations, "float32")
        return tf.minimum(1.0, step / float(self.adversary_ramp_steps))

    def _adversary_losses(self, batch, code, training):
        per_adversary, metrics = [], {}
        for adversary in self.adversaries:
            losses, adversary_metrics = _losses_and_metrics(adversary.adversary_loss(batch, code, training=training))
            per_adversary.append(tf.cast(losses, "float32"))
            metrics.update(adversary_metrics)
        return per_adversary, metrics

    def _adversary_step(self, batch):
        def compute_loss():
            code, _, _ = self.forward(batch, training=True)
            code = tf.nest.map_structure(tf.stop_gradient, code)
            per_adversary, metrics = self._adversary_losses(batch, code, training=True)
            total = tf.add_n([weight * loss for weight, loss in zip(self.adversary_weights, per_adversary)])
            return total, (per_adversary, metrics)

        _, (per_adversary, metrics) = minimize(compute_loss, self.adversary_variables, self.adversary_optimizer)
        return per_adversary, metrics

    # ------------------------------------------------------------------ the one training step
    def train_step(self, data):
        batch = self.unpack_batch(data)
        adversary_report = ([], {})
        for _ in range(self.adversary_steps if self.adversaries else 0):
            adversary_report = self._adversary_step(batch)

        def compute_loss():
            code, extra_losses, metrics = self.forward(batch, training=True)
            per_judge, judge_metrics = self.judge_code(batch, code, training=True)
            total = self.total_loss(per_judge, extra_losses)
            if self.adversaries:
                total += self.adversary_ramp() * self._fooling_loss(batch, code, training=True)
            return total, (per_judge, extra_losses, {**metrics, **judge_metrics})

        variables = self.encoder_variables if self.adversaries else self.trainable_variables
        loss, (per_judge, extra_losses, metrics) = minimize(compute_loss, variables, self.optimizer)
        return self._report(loss, per_judge, extra_losses, metrics, *adversary_report)

    def test_step(self, data):
        batch = self.unpack_batch(data)
        code, extra_losses, metrics = self.forward(batch, training=False)
        per_judge, judge_metrics = self.judge_code(batch, code, training=False)
        metrics.update(judge_metrics)
        per_adversary, adversary_metrics = [], {}
        if self.adversaries:
            per_adversary, adversary_metrics = self._adversary_losses(batch, code, training=False)
        loss = tf.reduce_mean(self.total_loss(per_judge, extra_losses))
        return self._report(loss, per_judge, extra_losses, metrics, per_adversary, adversary_metrics)

    def _fooling_loss(self, batch, code, training):
        """`sum_a adversary_weights[a] * adversary.encoder_loss(batch, code)`: the encoder's side of the game."""
        terms = [
            weight * tf.cast(adversary.encoder_loss(batch, code, training=training), "float32")
            for weight, adversary in zip(self.adversary_weights, self.adversaries)
        ]
        return tf.add_n(terms)

    def _report(self, loss, per_judge, extra_losses, metrics, per_adversary, adversary_metrics):
        values = {"loss": loss, **extra_losses, **metrics, **adversary_metrics}
        values.update({f"{judge.name}_loss": losses for judge, losses in zip(self.judges, per_judge)})
        values.update({f"{a.name}_loss": losses for a, losses in zip(self.adversaries, per_adversary)})
        for name, value in values.items():
            if name in self.trackers:
                self.trackers[name].update_state(tf.reduce_mean(tf.cast(value, "float32")))
        return metric_results(self)

    # ------------------------------------------------------------------ compile: one optimizer or named ones
    def compile(self, optimizer="rmsprop", optimizers=None, **kwargs):
        """Compiles with one `optimizer`, or with named `optimizers={"encoder": ..., "adversary": ...}` (a model
        with adversaries that gets a single optimizer gives its adversaries a fresh copy of it)."""
        adversary_optimizer = None
        if optimizers is not None:
            unknown = set(optimizers) - {"encoder", "adversary"}
            if unknown or "encoder" not in optimizers:
                raise ValueError(
                    f"optimizers takes the keys 'encoder' (required) and 'adversary'; got {sorted(optimizers)}."
                )
            if "adversary" in optimizers and not self.adversaries:
                raise ValueError("optimizers has an 'adversary' entry but this model has no adversaries.")
            optimizer, adversary_optimizer = optimizers["encoder"], optimizers.get("adversary")
        super().compile(optimizer=optimizer, **kwargs)
        if self.adversaries:
            if adversary_optimizer is None:
                encoder_optimizer = getattr(self.optimizer, "inner_optimizer", self.optimizer)
                adversary_optimizer = type(encoder_optimizer).from_config(encoder_optimizer.get_config())
            adversary_optimizer = keras.optimizers.get(adversary_optimizer)
            if self.dtype_policy.name == "mixed_float16" and not isinstance(
                adversary_optimizer, keras.optimizers.LossScaleOptimizer
            ):
                adversary_optimizer = keras.optimizers.LossScaleOptimizer(adversary_optimizer)
            self.adversary_optimizer = adversary_optimizer

    def get_compile_config(self):
        config = super().get_compile_config()
        if config and self.adversary_optimizer is not None:
            config["adversary_optimizer"] = keras.saving.serialize_keras_object(self.adversary_optimizer)
        return config

    def compile_from_config(self, config):
        config = dict(config)
        adversary = config.pop("adversary_optimizer", None)
        config = keras.saving.deserialize_keras_object(config)
        optimizer = config.pop("optimizer", "rmsprop")
        optimizers = {"encoder": optimizer}
        if adversary is not None:
            optimizers["adversary"] = keras.saving.deserialize_keras_object(adversary)
        self.compile(optimizers=optimizers, **config)
        self._build_optimizers()

    def _build_optimizers(self):
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.encoder_variables if self.adversaries else self.trainable_variables)
        if self.adversary_optimizer is not None and not self.adversary_optimizer.built:
            self.adversary_optimizer.build(self.adversary_variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Every keras_ae model builds its variables in __init__, so no batch is needed to build it. Keras' own
        # symbolic build would average the first distributed batch across replicas, which fails on string
        # batches ("AddN ... string"); only the optimizers are left to build, inside the strategy's scope.
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is None:
            self._build_optimizers()
            return
        with strategy.scope():
            self._build_optimizers()
            self._post_build()

    # ------------------------------------------------------------------ export and config
    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`): `encode`, and `decode` if a judge decodes."""
        if self.input_shape_ is None:
            raise ValueError("A JudgedEncoder without input_shape has no default export signatures.")
        input_spec = tf.TensorSpec([None, *self.input_shape_], tf.float32, name=self.input_name)
        signatures = {"encode": (self.encode, [input_spec])}
        decoders = [judge for judge in self.judges if hasattr(judge, "decode")]
        if decoders:
            embedding_shape = code_embedding_shape(self.encoder.compute_output_shape((None, *self.input_shape_)))
            embedding_spec = tf.TensorSpec(embedding_shape, tf.float32, name="embeddings")
            signatures["decode"] = (decoders[0].decode, [embedding_spec])
        return signatures

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "judges": [keras.saving.serialize_keras_object(judge) for judge in self.judges],
                "bottleneck": keras.saving.serialize_keras_object(self.bottleneck),
                "judge_weights": self.judge_weights,
                "adversaries": [keras.saving.serialize_keras_object(adversary) for adversary in self.adversaries],
                "adversary_weights": self.adversary_weights,
                "adversary_steps": self.adversary_steps,
                "adversary_ramp_steps": self.adversary_ramp_steps,
                "input_shape": None if self.input_shape_ is None else list(self.input_shape_),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder", "judges", "bottleneck", "adversaries")))


def _weights(kind, layers, weights):
    if weights is None:
        return [1.0] * len(layers)
    weights = [float(weight) for weight in weights]
    if len(weights) != len(layers):
        raise ValueError(f"Got {len(layers)} {kind}s but {len(weights)} {kind} weights; give one per {kind}.")
    return weights
