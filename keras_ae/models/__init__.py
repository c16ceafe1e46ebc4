"""One model per method, each a `keras.Model` with a custom `train_step` and `export_signatures()`."""

from keras_ae.models.autoencoder import AutoEncoder
from keras_ae.models.infomax import InfoMax
from keras_ae.core.judged_encoder import JudgedEncoder

__all__ = ["AutoEncoder", "InfoMax", "JudgedEncoder"]

from keras_ae.models.cpc import CPC  # noqa: E402

__all__ += ["CPC"]

from keras_ae.models.quick_thought import QuickThought  # noqa: E402
from keras_ae.models.skip_thought import SkipThought  # noqa: E402

__all__ += ["QuickThought", "SkipThought"]

from keras_ae.models.discrete import DiscreteAutoEncoder  # noqa: E402
from keras_ae.models.vqvae import VQVAE  # noqa: E402

__all__ += ["DiscreteAutoEncoder", "VQVAE"]
