"""Contrastive Predictive Coding on raw audio: the judge is a bilinear scorer that must pick the true future frame."""

import keras
import tensorflow as tf

from keras_ae.config import deserialize_sublayers
from keras_ae.core.judged_encoder import JudgedEncoder, without_parts
from keras_ae.layers.encoders.waveform_encoder import WaveformEncoder
from keras_ae.layers.judges.future_predictor import NEGATIVES, FuturePredictor


@keras.saving.register_keras_serializable(package="keras_ae")
class CPC(JudgedEncoder):
    """Contrastive Predictive Coding (van den Oord, Li & Vinyals, 2018, "Representation Learning with Contrastive
    Predictive Coding").

    A strided convolutional encoder turns the waveform into one embedding `z_t` per 10 ms; a GRU summarises
    `z_1..z_t` into a context `c_t`; for every future step `k = 1..K` a linear predictor `W_k` scores candidates
    `z` by `z . W_k c_t`, and InfoNCE asks it to pick the true `z_{t+k}`. The loss is the mean over `k` and `t`.
The judge is `FuturePredictor`; its predictors start at zero (see there).

    Negatives (`negatives`), drawn from the **global** batch (gathered across replicas):
        - `"batch"`: `z_{t+k}` of every other sequence of the global batch (same time step);
        - `"same_speaker"`: the same, restricted to sequences of the same speaker (the batch must carry speaker
          ids as labels, `(waveforms, speakers)`; a sequence alone with its speaker falls back to all of them);
        - `"same_sequence"`: every other time step of the same sequence;
        - `"batch_and_sequence"`: both the `"batch"` and the `"same_sequence"` candidates. Batch negatives alone can
          often be told apart by voice; the sequence's own other frames can only be told apart by what is said, so
          the context learns more phonetic content (the default: a better phone probe on our corpus).

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

    def __init__(self, encoder=None, embedding_dim=128, context_dim=128, prediction_steps=12, negatives="batch_and_sequence",
                 temperature=None, crop_samples=20480, **kwargs):
        # Layers
        encoder = encoder or WaveformEncoder(embedding_dim=embedding_dim, name="encoder")
        judge = FuturePredictor(encoder.embedding_dim, prediction_steps, negatives, temperature, name="future")
        super().__init__(encoder=encoder, judges=[judge], **kwargs)
        self.context_network = keras.layers.GRU(context_dim, return_sequences=True, name="context")
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
    def predictors(self):
        return self.judges[0].predictors

    def build(self, input_shape):
        if not self.encoder.built:
            self.encoder.build(input_shape)
        frames_shape = self.encoder.compute_output_shape(input_shape)
        if not self.context_network.built:
            self.context_network.build(frames_shape)
        if not self.judges[0].built:
            self.judges[0].build((None, None, self.context_dim))
        self.built = True

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

    def unpack_batch(self, data):
        """`{"waveforms", "speakers"}` from a batch `waveforms` or `(waveforms, speakers)`."""
        waveforms, speakers, _ = keras.utils.unpack_x_y_sample_weight(data)
        return {"waveforms": waveforms, "speakers": speakers}

    def forward(self, batch, training=False):
        """The code `(frames z, context c)` of a batch's waveforms."""
        frames = self.encoder(batch["waveforms"], training=training)
        return (frames, self.context_network(frames, training=training)), {}, {}

    def contrastive_losses(self, waveforms, speakers=None, training=False):
        """Per-example loss `[batch]` (mean over steps and time) and the prediction accuracy per step, `K x [batch]`."""
        per_judge, _, metrics = self.judge_losses({"waveforms": waveforms, "speakers": speakers}, training=training)
        return per_judge[0], [metrics[name] for name in self.judges[0].metric_names]

    # ----------------------------------------------------------------------------------------------------------
    # Training
    # ----------------------------------------------------------------------------------------------------------

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
        config = without_parts(super().get_config())
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
