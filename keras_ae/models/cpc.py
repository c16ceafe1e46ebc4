"""Contrastive Predictive Coding on raw audio: the judge is a bilinear scorer that must pick the true future frame."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.distribute import gather_global_batch
from keras_ae.layers.waveform_encoder import WaveformEncoder
from keras_ae.losses import info_nce
from keras_ae.models.training import metric_results, minimize

NEGATIVES = ("batch", "same_speaker", "same_sequence", "batch_and_sequence")
_MASKED = -1e9


@keras.saving.register_keras_serializable(package="keras_ae")
class CPC(keras.Model):
    """Contrastive Predictive Coding (van den Oord, Li & Vinyals, 2018, "Representation Learning with Contrastive
    Predictive Coding").

    A strided convolutional encoder turns the waveform into one embedding `z_t` per 10 ms; a GRU summarises
    `z_1..z_t` into a context `c_t`; for every future step `k = 1..K` a linear predictor `W_k` scores candidates
    `z` by `z . W_k c_t`, and InfoNCE asks it to pick the true `z_{t+k}`. The loss is the mean over `k` and `t`.
The predictors start at zero (every candidate equally likely, loss `log(candidates)`): from a random start the
encoder first collapses towards a constant to silence the noisy scores and sits on that plateau for many steps.

    Negatives (`negatives`), drawn from the **global** batch (gathered across replicas):
        - `"batch"`: `z_{t+k}` of every other sequence of the global batch (same time step);
        - `"same_speaker"`: the same, restricted to sequences of the same speaker (the batch must carry speaker
          ids as labels, `(waveforms, speakers)`; a sequence alone with its speaker falls back to all of them);
        - `"same_sequence"`: every other time step of the same sequence;
        - `"batch_and_sequence"`: both the `"batch"` and the `"same_sequence"` candidates. Batch negatives alone can
          often be told apart by voice; the sequence's own other frames can only be told apart by what is said, so
          the context learns more phonetic content (the recipe's default: a better phone probe on our corpus).

    Args:
        encoder: a layer mapping `[batch, samples]` to `[batch, frames, embedding_dim]`; default `WaveformEncoder`.
        embedding_dim: size of the frame embeddings `z` (for the default encoder).
        context_dim: size of the GRU context `c` (what `encode` returns).
        prediction_steps: `K`, the number of future steps predicted.
        negatives: one of `NEGATIVES`.
        temperature: None scores with the plain bilinear product `z . W_k c_t` (the paper); a float scores with the
            cosine between `z` and `W_k c_t` divided by `temperature` (as in wav2vec 2.0), which leaves the
            uniform-guess plateau of early training much sooner.
        crop_samples: length of the training crops; used to build the model and for export documentation only.

    Example:
        model = CPC(embedding_dim=64, context_dim=64, prediction_steps=8)
        model.compile(optimizer=keras.optimizers.Adam(2e-4))
        model.fit(make_crop_dataset(corpus, crop_samples=20480, batch_size=32), epochs=5)
        context = model.encode(waveforms)      # [batch, samples // 160, context_dim]
    """

    def __init__(self, encoder=None, embedding_dim=128, context_dim=128, prediction_steps=12, negatives="batch",
                 temperature=None, crop_samples=20480, **kwargs):
        super().__init__(**kwargs)
        if negatives not in NEGATIVES:
            raise ValueError(f"Unknown negatives {negatives!r}: choose one of {', '.join(NEGATIVES)}.")
        if prediction_steps < 1:
            raise ValueError(f"prediction_steps must be at least 1; got {prediction_steps}.")
        # Layers
        self.encoder = encoder or WaveformEncoder(embedding_dim=embedding_dim, name="encoder")
        self.context_network = keras.layers.GRU(context_dim, return_sequences=True, name="context")
        self.predictors = [
            keras.layers.Dense(self.encoder.embedding_dim, use_bias=False, kernel_initializer="zeros",
                               name=f"predictor_{k}")
            for k in range(1, prediction_steps + 1)
        ]
        # Metrics
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_trackers = [keras.metrics.Mean(name=f"accuracy_{k}") for k in range(1, prediction_steps + 1)]
        # Config
        self.embedding_dim = self.encoder.embedding_dim
        self.context_dim = context_dim
        self.prediction_steps = prediction_steps
        self.negatives = negatives
        self.temperature = None if temperature is None else float(temperature)
        self.crop_samples = crop_samples
        # Build now, so that every variable exists before training is traced (and inside the strategy scope).
        self.build((None, crop_samples))

    @property
    def metrics(self):
        return [self.loss_tracker, *self.accuracy_trackers]

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        frames_shape = self.encoder.compute_output_shape(input_shape)
        if not self.context_network.built:
            self.context_network.build(frames_shape)
        for predictor in self.predictors:
            if not predictor.built:
                predictor.build((None, None, self.context_dim))

    def call(self, waveforms, training=False):
        return self.context_network(self.encoder(waveforms, training=training), training=training)

    def encode(self, waveforms):
        """Context features `[batch, frames, context_dim]` (one per 10 ms) of float32 waveforms at 16 kHz."""
        return self(waveforms, training=False)

    def encode_frames(self, waveforms):
        """Encoder embeddings `z` `[batch, frames, embedding_dim]`, before the context network."""
        return self.encoder(waveforms, training=False)

    # ----------------------------------------------------------------------------------------------------------
    # The judge: per-step InfoNCE over candidates from the global batch
    # ----------------------------------------------------------------------------------------------------------

    def contrastive_losses(self, waveforms, speakers=None, training=False):
        """Per-example loss `[batch]` (mean over steps and time) and the prediction accuracy per step, `K x [batch]`."""
        frames = self.encoder(waveforms, training=training)
        context = self.context_network(frames, training=training)
        num_frames = frames.shape[1] if frames.shape[1] is not None else tf.shape(frames)[1]
        if isinstance(num_frames, int) and num_frames <= self.prediction_steps:
            raise ValueError(f"A crop of {num_frames} frames is too short to predict {self.prediction_steps} steps "
                             "ahead; use longer crops or fewer prediction_steps.")
        if self.temperature is not None:
            frames = tf.math.l2_normalize(frames, axis=-1)
        global_frames, offset = gather_global_batch(frames)
        local_size = tf.shape(frames)[0]
        positives = offset + tf.range(local_size)
        same_speaker = None
        if self.negatives == "same_speaker":
            if speakers is None:
                raise ValueError("negatives='same_speaker' needs speaker ids: feed (waveforms, speakers) batches.")
            speakers = tf.cast(tf.reshape(speakers, [-1]), tf.int64)
            global_speakers, _ = gather_global_batch(speakers)
            same_speaker = tf.equal(speakers[:, None], global_speakers[None, :])  # [batch, global]
            alone = tf.reduce_sum(tf.cast(same_speaker, tf.int32), axis=1, keepdims=True) <= 1
            same_speaker = tf.logical_or(same_speaker, alone)
        losses, accuracies = [], []
        for k, predictor in enumerate(self.predictors, start=1):
            predictions = tf.cast(predictor(context[:, :-k]), tf.float32)  # [batch, T-k, D]
            if self.temperature is not None:
                predictions = tf.math.l2_normalize(predictions, axis=-1) / self.temperature
            loss, correct = self._step_loss(predictions, frames, global_frames, positives, same_speaker, k)
            losses.append(loss)
            accuracies.append(correct)
        return tf.add_n(losses) / float(len(losses)), accuracies

    def _step_loss(self, predictions, frames, global_frames, positives, same_speaker, k):
        steps = tf.shape(predictions)[1]
        scores, positive_index = [], None
        if self.negatives != "same_sequence":
            targets = tf.cast(global_frames[:, k:], tf.float32)  # [global, T-k, D]
            batch_scores = tf.einsum("btd,gtd->btg", predictions, targets)
            if same_speaker is not None:
                batch_scores = tf.where(same_speaker[:, None, :], batch_scores, _MASKED)
            scores.append(batch_scores)
            positive_index = tf.broadcast_to(positives[:, None], tf.shape(batch_scores)[:2])
        if self.negatives in ("same_sequence", "batch_and_sequence"):
            own = tf.cast(frames[:, k:], tf.float32)  # [batch, T-k, D]
            sequence_scores = tf.einsum("btd,bsd->bts", predictions, own)  # candidate s = time step s + k
            diagonal = tf.eye(steps, dtype=tf.bool)[None]
            if positive_index is None:
                positive_index = tf.broadcast_to(tf.range(steps)[None, :], tf.shape(sequence_scores)[:2])
            else:  # the positive is already among the batch candidates: drop its duplicate
                sequence_scores = tf.where(diagonal, _MASKED, sequence_scores)
            scores.append(sequence_scores)
        scores = tf.concat(scores, axis=-1) if len(scores) > 1 else scores[0]
        num_candidates = tf.shape(scores)[-1]
        flat_scores = tf.reshape(scores, [-1, num_candidates])
        flat_positive = tf.reshape(positive_index, [-1])
        loss = tf.reshape(info_nce(flat_scores, flat_positive), tf.shape(scores)[:2])
        correct = tf.cast(tf.equal(tf.argmax(flat_scores, axis=-1, output_type=tf.int32), flat_positive), tf.float32)
        correct = tf.reshape(correct, tf.shape(scores)[:2])
        return tf.reduce_mean(loss, axis=1), tf.reduce_mean(correct, axis=1)

    # ----------------------------------------------------------------------------------------------------------
    # Training
    # ----------------------------------------------------------------------------------------------------------

    def train_step(self, data):
        waveforms, speakers, _ = keras.utils.unpack_x_y_sample_weight(data)

        def compute_loss():
            return self.contrastive_losses(waveforms, speakers, training=True)

        loss, accuracies = minimize(compute_loss, self.trainable_variables, self.optimizer)
        return self._report(loss, accuracies)

    def test_step(self, data):
        waveforms, speakers, _ = keras.utils.unpack_x_y_sample_weight(data)
        loss, accuracies = self.contrastive_losses(waveforms, speakers, training=False)
        return self._report(tf.reduce_mean(loss), accuracies)

    def _report(self, loss, accuracies):
        self.loss_tracker.update_state(loss)
        for tracker, correct in zip(self.accuracy_trackers, accuracies):
            tracker.update_state(tf.reduce_mean(correct))
        return metric_results(self)

    def step_accuracies(self, results):
        """`[accuracy_1, ..., accuracy_K]` from a `fit` / `evaluate(return_dict=True)` result dict."""
        return [float(results[f"accuracy_{k}"]) for k in range(1, self.prediction_steps + 1)]

    # ----------------------------------------------------------------------------------------------------------
    # Export and config
    # ----------------------------------------------------------------------------------------------------------

    def export_signatures(self):
        """Named SavedModel signatures (see `keras_ae.export`)."""
        waveform_spec = tf.TensorSpec([None, None], tf.float32, name="waveforms")
        return {"encode": (self.encode, [waveform_spec]), "encode_frames": (self.encode_frames, [waveform_spec])}

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "embedding_dim": self.embedding_dim,
                "context_dim": self.context_dim,
                "prediction_steps": self.prediction_steps,
                "negatives": self.negatives,
                "temperature": self.temperature,
                "crop_samples": self.crop_samples,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_sublayers(config, ("encoder",)))
