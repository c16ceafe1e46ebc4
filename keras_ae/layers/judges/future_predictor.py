"""CPC's judge: per future step, a linear predictor that must pick the true future frame among candidates."""

import keras
import tensorflow as tf

from keras_ae.distribute import gather_global_batch
from keras_ae.losses import info_nce

NEGATIVES = ("batch", "same_speaker", "same_sequence", "batch_and_sequence")
_MASKED = -1e9


@keras.saving.register_keras_serializable(package="keras_ae")
class FuturePredictor(keras.layers.Layer):
    """Judges a code `(frames z, context c)` by InfoNCE: for every future step `k = 1..K` a linear predictor
    `W_k` scores candidates `z` by `z . W_k c_t` and must pick the true `z_{t+k}` (van den Oord, Li & Vinyals,
    2018, "Representation Learning with Contrastive Predictive Coding"). The loss is the mean over `k` and `t`; the
    metrics `accuracy_k` are the share of steps where the true frame wins.

    The predictors start at zero (every candidate equally likely, loss `log(candidates)`): from a random start the
    encoder first collapses towards a constant to silence the noisy scores and sits on that plateau for many steps.

    Args:
        embedding_dim: size of the frame embeddings `z`.
        prediction_steps: `K`, the number of future steps predicted.
        negatives: one of `NEGATIVES` (see `CPC`); drawn from the global batch, gathered across replicas.
        temperature: None scores with the plain bilinear product (the paper); a float scores with the cosine divided
            by `temperature` (as in wav2vec 2.0).

    Example:
        judge = FuturePredictor(embedding_dim=64, prediction_steps=8, name="future")
        losses, metrics = judge.judge_loss({"speakers": None}, (frames, context))
    """

    def __init__(self, embedding_dim, prediction_steps=12, negatives="batch", temperature=None, **kwargs):
        super().__init__(**kwargs)
        if negatives not in NEGATIVES:
            raise ValueError(f"Unknown negatives {negatives!r}: choose one of {', '.join(NEGATIVES)}.")
        if prediction_steps < 1:
            raise ValueError(f"prediction_steps must be at least 1; got {prediction_steps}.")
        # Layers
        self.predictors = [
            keras.layers.Dense(embedding_dim, use_bias=False, kernel_initializer="zeros", name=f"predictor_{k}")
            for k in range(1, prediction_steps + 1)
        ]
        # Config
        self.embedding_dim = embedding_dim
        self.prediction_steps = prediction_steps
        self.negatives = negatives
        self.temperature = None if temperature is None else float(temperature)
        self.metric_names = tuple(f"accuracy_{k}" for k in range(1, prediction_steps + 1))

    def build(self, context_shape):
        for predictor in self.predictors:
            if not predictor.built:
                predictor.build(context_shape)
        self.built = True

    def judge_loss(self, batch, code, training=False):
        """Per-example loss `[batch]` (mean over steps and time) and `{"accuracy_k": share}` for a code
        `(frames, context)`; `batch["speakers"]` (or None) is needed for `negatives="same_speaker"`."""
        frames, context = code
        speakers = batch.get("speakers") if isinstance(batch, dict) else None
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
        losses, metrics = [], {}
        for k, predictor in enumerate(self.predictors, start=1):
            predictions = tf.cast(predictor(context[:, :-k]), tf.float32)  # [batch, T-k, D]
            if self.temperature is not None:
                predictions = tf.math.l2_normalize(predictions, axis=-1) / self.temperature
            loss, correct = self._step_loss(predictions, frames, global_frames, positives, same_speaker, k)
            losses.append(loss)
            metrics[f"accuracy_{k}"] = correct
        return tf.add_n(losses) / float(len(losses)), metrics

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

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "prediction_steps": self.prediction_steps,
                "negatives": self.negatives,
                "temperature": self.temperature,
            }
        )
        return config
