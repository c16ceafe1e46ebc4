"""keras-tuner search of every model's embedding size: HyperModels, tuners, and the tasks a search runs on."""

from keras_ae.tuning.hypermodels import (
    OBJECTIVE,
    AutoEncoderHyperModel,
    CPCHyperModel,
    InfoMaxHyperModel,
    ProbeHyperModel,
    QuickThoughtHyperModel,
    TextSummaryHyperModel,
    TreeLatentHyperModel,
    VQVAEHyperModel,
    VoiceConversionHyperModel,
)
from keras_ae.tuning.search import TUNERS, TuningTask, image_task, make_tuner, trial_table

__all__ = [
    "OBJECTIVE",
    "TUNERS",
    "AutoEncoderHyperModel",
    "CPCHyperModel",
    "InfoMaxHyperModel",
    "ProbeHyperModel",
    "QuickThoughtHyperModel",
    "TextSummaryHyperModel",
    "TreeLatentHyperModel",
    "TuningTask",
    "VQVAEHyperModel",
    "VoiceConversionHyperModel",
    "image_task",
    "make_tuner",
    "trial_table",
]
