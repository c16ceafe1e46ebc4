"""The disentangling speech auto-encoder with a speaker classifier on its content code, trained against it."""

import keras

from keras_ae.core.validation import integer_at_least
from keras_ae.layers.judges.classifier_adversary import ClassifierAdversary
from keras_ae.models.disentangling_autoencoder import DisentanglingAutoEncoder


@keras.saving.register_keras_serializable(package="keras_ae")
class AdversarialDisentanglingAutoEncoder(DisentanglingAutoEncoder):
    """`DisentanglingAutoEncoder` plus a `ClassifierAdversary` that reads the speaker from every frame of the
    content code while the encoders learn to fool it (Chou, Yeh, Lee & Lee, 2018, "Multi-target voice conversion
    without parallel data by adversarially learning disentangled audio representations").

    The core loop's adversarial schedule does the rest: `adversary_steps` classifier updates per encoder update,
    the adversarial weight ramped from 0 to `adversary_weight` over `adversary_ramp_steps` encoder updates (the
    paper's pretraining of the auto-encoder, then of the classifier, is the ramp's start). Compile with
    `optimizers={"encoder": ..., "adversary": ...}`. Batches must carry speaker ids (`(waveforms, speakers)` or
    `{"waveforms": ..., "speakers": ...}`).

    Args:
        num_speakers: speaker ids in training (`[0, num_speakers)`).
        adversary_weight: weight of the fooling loss once ramped up.
        adversary_steps: classifier updates per encoder update.
        adversary_ramp_steps: encoder updates over which the weight ramps up.
        fooling: `ClassifierAdversary`'s fooling loss, `"uniform"` (stable) or `"negative_crossentropy"` (the paper).
        adversary_dim: the classifier's hidden width.
        **kwargs: `DisentanglingAutoEncoder`'s arguments.

    Example:
        model = AdversarialDisentanglingAutoEncoder(num_speakers=12, content_dim=16, adversary_steps=3)
        model.adapt(corpus.waveforms)
        model.compile(optimizers={"encoder": keras.optimizers.Adam(1e-3), "adversary": keras.optimizers.Adam(1e-3)})
        model.fit(make_crop_dataset(corpus, 20480, batch_size=16), epochs=5)
    """

    def __init__(self, num_speakers, adversary_weight=0.1, adversary_steps=3, adversary_ramp_steps=200,
                 fooling="uniform", adversary_dim=128, **kwargs):
        num_speakers = integer_at_least("num_speakers", num_speakers, 2)
        adversary = ClassifierAdversary(num_speakers, label_key="speakers", hidden_dim=adversary_dim,
                                        fooling=fooling, name="speaker_adversary")
        super().__init__(adversaries=[adversary], adversary_weights=[adversary_weight],
                         adversary_steps=adversary_steps, adversary_ramp_steps=adversary_ramp_steps, **kwargs)
        # Config
        self.num_speakers = num_speakers
        self.adversary_weight = float(adversary_weight)
        self.fooling = fooling
        self.adversary_dim = adversary_dim

    def get_config(self):
        config = super().get_config(keep=("adversary_steps", "adversary_ramp_steps"))
        config.update({"num_speakers": self.num_speakers, "adversary_weight": self.adversary_weight,
                       "fooling": self.fooling, "adversary_dim": self.adversary_dim})
        return config
