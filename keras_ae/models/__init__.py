"""One thin class per method, each a `JudgedEncoder` (the one training loop) with parts of its own."""

from keras_ae.core.judged_encoder import JudgedEncoder
from keras_ae.models.autoencoder import AutoEncoder
from keras_ae.models.cpc import CPC
from keras_ae.models.discrete import DiscreteAutoEncoder
from keras_ae.models.infomax import InfoMax
from keras_ae.models.quick_thought import QuickThought
from keras_ae.models.skip_thought import SkipThought
from keras_ae.models.text_latent import TextLatent
from keras_ae.models.tree_latent import TreeLatent
from keras_ae.models.vqvae import VQVAE
from keras_ae.models.adain_vc import AdaINVC
from keras_ae.models.adversarial_disentangling_autoencoder import AdversarialDisentanglingAutoEncoder
from keras_ae.models.disentangling_autoencoder import DisentanglingAutoEncoder

__all__ = [
    "AutoEncoder",
    "CPC",
    "DiscreteAutoEncoder",
    "InfoMax",
    "JudgedEncoder",
    "QuickThought",
    "SkipThought",
    "TextLatent",
    "TreeLatent",
    "VQVAE",
    "AdaINVC",
    "AdversarialDisentanglingAutoEncoder",
    "DisentanglingAutoEncoder",
]
