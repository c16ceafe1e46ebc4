"""Building blocks by role, one public idea per module: encoders, decoders, bottlenecks, judges."""

from keras_ae.layers.bottlenecks.binary_quantizer import BinaryQuantizer
from keras_ae.layers.bottlenecks.gaussian import GaussianBottleneck
from keras_ae.layers.bottlenecks.gumbel_softmax import GumbelSoftmax
from keras_ae.layers.bottlenecks.vector_quantizer import VectorQuantizer
from keras_ae.layers.decoders.attention_copy_decoder import AttentionCopyDecoder
from keras_ae.layers.decoders.conditional_gru_decoder import ConditionalGRUDecoder
from keras_ae.layers.decoders.conv_image_decoder import ConvImageDecoder
from keras_ae.layers.encoders.conv_image_encoder import ConvImageEncoder
from keras_ae.layers.encoders.gru_sentence_encoder import GRUSentenceEncoder
from keras_ae.layers.encoders.waveform_encoder import WaveformEncoder
from keras_ae.layers.encoders.word_sequence_encoder import WordSequenceEncoder
from keras_ae.layers.judges.classifier_adversary import ClassifierAdversary
from keras_ae.layers.judges.content_consistency_judge import ContentConsistencyJudge
from keras_ae.layers.judges.dynamics_match_judge import DynamicsMatchJudge
from keras_ae.layers.judges.frame_discriminator import FrameDiscriminator
from keras_ae.layers.judges.future_predictor import FuturePredictor
from keras_ae.layers.judges.grammar import CompoundPCFG
from keras_ae.layers.judges.neighbour_classifier import NeighbourClassifier
from keras_ae.layers.judges.neighbour_decoder import NeighbourDecoder
from keras_ae.layers.judges.pair_discriminator import PairDiscriminator
from keras_ae.layers.judges.real_text_discriminator import RealTextDiscriminator
from keras_ae.layers.judges.transition_discriminator import TransitionDiscriminator
from keras_ae.layers.judges.reconstruction_judge import ReconstructionJudge
from keras_ae.layers.random_shift import RandomShift
from keras_ae.layers.relative_noise import RelativeNoise
from keras_ae.layers.audio.griffin_lim_vocoder import GriffinLimVocoder
from keras_ae.layers.audio.log_mel import LogMelSpectrogram
from keras_ae.layers.audio.vocal_tract_warp import VocalTractLengthWarp
from keras_ae.layers.bottlenecks.unit_noise import UnitNoiseBottleneck
from keras_ae.layers.conditioning.adaptive_instance_normalization import AdaptiveInstanceNormalization
from keras_ae.layers.conditioning.instance_normalization import InstanceNormalization
from keras_ae.layers.conditioning.reference_attention import ReferenceAttention
from keras_ae.layers.conditioning.speaker_code_push import SpeakerCodePush
from keras_ae.layers.decoders.speech_decoder import SpeechDecoder
from keras_ae.layers.encoders.content_encoder import ContentEncoder
from keras_ae.layers.encoders.log_mel_encoder import LogMelEncoder
from keras_ae.layers.encoders.speaker_content_encoder import SpeakerContentEncoder
from keras_ae.layers.encoders.speaker_encoder import SpeakerEncoder
from keras_ae.layers.judges.speech_reconstruction_judge import SpeechReconstructionJudge

__all__ = [
    "AttentionCopyDecoder",
    "BinaryQuantizer",
    "ClassifierAdversary",
    "CompoundPCFG",
    "ContentConsistencyJudge",
    "DynamicsMatchJudge",
    "FrameDiscriminator",
    "ConditionalGRUDecoder",
    "ConvImageDecoder",
    "ConvImageEncoder",
    "FuturePredictor",
    "GRUSentenceEncoder",
    "GaussianBottleneck",
    "GumbelSoftmax",
    "NeighbourClassifier",
    "NeighbourDecoder",
    "PairDiscriminator",
    "RandomShift",
    "RelativeNoise",
    "RealTextDiscriminator",
    "TransitionDiscriminator",
    "ReconstructionJudge",
    "VectorQuantizer",
    "WaveformEncoder",
    "WordSequenceEncoder",
    "GriffinLimVocoder",
    "LogMelSpectrogram",
    "VocalTractLengthWarp",
    "UnitNoiseBottleneck",
    "AdaptiveInstanceNormalization",
    "InstanceNormalization",
    "ReferenceAttention",
    "LogMelEncoder",
    "SpeechDecoder",
    "ContentEncoder",
    "SpeakerContentEncoder",
    "SpeakerCodePush",
    "SpeakerEncoder",
    "SpeechReconstructionJudge",
]
