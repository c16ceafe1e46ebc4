"""AdaIN-VC: instance normalisation in the content encoder, adaptive instance normalisation in the decoder."""

import keras
from keras_ae.layers.bottlenecks.unit_noise import UnitNoiseBottleneck
from keras_ae.models.disentangling_autoencoder import DisentanglingAutoEncoder


@keras.saving.register_keras_serializable(package="keras_ae")
class AdaINVC(DisentanglingAutoEncoder):
    """One-shot voice conversion by design (Chou, Yeh & Lee, 2019, "One-shot voice conversion by separating speaker
    and content representations with instance normalization"): the content encoder instance-normalises without
    affine parameters, which strips each utterance's channel statistics (much of the speaker) from the content
    code; the decoder's `AdaptiveInstanceNormalization` layers take their scale and shift from the speaker code,
    so the speaker can only come back through it, from any reference utterance, seen or not.

    With `kl_weight > 0` the content code is the mean of a unit-variance Gaussian, as in the paper
    (`UnitNoiseBottleneck`): training adds unit noise to it and `kl_weight` times its KL divergence to N(0, I) to
    the loss, reported as `content_kl`. `encode` and `convert` use the mean. The defaults (no KL, 4 floats per
    frame) are docs/results/voice_conversion.md's measured choice on the eSpeak corpus: the narrow code removes about as
    much of the speaker as the noise did, and the decoder learns much faster without the noise
    (docs/results/voice_conversion.md).

    Args:
        kl_weight: weight of the KL term on the content code (0: a plain code, no noise).
        content_dim: floats per step of the content code.
        seed: seed of the training noise (and of `DisentanglingAutoEncoder`'s speaker windows and noise).
        **kwargs: `DisentanglingAutoEncoder`'s arguments (`instance_norm` and `conditioning` are set here).

    Example:
        model = AdaINVC(content_dim=4, kl_weight=0.0)
        model.adapt(corpus.waveforms)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(make_crop_dataset(corpus, 20480, batch_size=16), epochs=5)
        speech = model.convert(source[None], unseen_speaker_reference[None])
    """

    conditioning_default = "adain"

    def __init__(self, kl_weight=0.0, content_dim=4, seed=0, **kwargs):
        kwargs.setdefault("instance_norm", True)
        if kl_weight < 0:
            raise ValueError(f"AdaINVC kl_weight must be 0 or more; got {kl_weight}.")
        bottleneck = UnitNoiseBottleneck(kl_weight, seed=seed, name="content_noise") if kl_weight else None
        super().__init__(content_dim=content_dim, bottleneck=bottleneck, seed=seed, **kwargs)
        # Config
        self.kl_weight = float(kl_weight)

    def get_config(self):
        config = super().get_config()
        config.update({"kl_weight": self.kl_weight})
        return config
