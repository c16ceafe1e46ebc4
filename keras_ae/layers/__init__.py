"""Building blocks, one public idea per module."""

from keras_ae.layers.conv_image_decoder import ConvImageDecoder
from keras_ae.layers.conv_image_encoder import ConvImageEncoder
from keras_ae.layers.pair_discriminator import PairDiscriminator
from keras_ae.layers.random_shift import RandomShift
from keras_ae.layers.reconstruction_judge import ReconstructionJudge

__all__ = ["ConvImageDecoder", "ConvImageEncoder", "PairDiscriminator", "RandomShift", "ReconstructionJudge"]

from keras_ae.layers.binary_quantizer import BinaryQuantizer  # noqa: E402
from keras_ae.layers.gumbel_softmax import GumbelSoftmax  # noqa: E402
from keras_ae.layers.vector_quantizer import VectorQuantizer  # noqa: E402

__all__ += ["BinaryQuantizer", "GumbelSoftmax", "VectorQuantizer"]

from keras_ae.layers.waveform_encoder import WaveformEncoder  # noqa: E402

__all__ += ["WaveformEncoder"]

from keras_ae.layers.conditional_gru_decoder import ConditionalGRUDecoder  # noqa: E402
from keras_ae.layers.gru_sentence_encoder import GRUSentenceEncoder  # noqa: E402

__all__ += ["ConditionalGRUDecoder", "GRUSentenceEncoder"]
