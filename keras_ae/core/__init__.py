"""The one training loop every keras_ae model shares (encoder, bottleneck, judges, adversaries), and its helpers."""

from keras_ae.core.judged_encoder import JudgedEncoder, code_embedding, code_embedding_shape
from keras_ae.core.steps import gradient_penalty, metric_results, minimize, unpack_inputs

__all__ = ["JudgedEncoder", "code_embedding", "code_embedding_shape", "gradient_penalty", "metric_results", "minimize", "unpack_inputs"]
