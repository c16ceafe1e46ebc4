"""Evaluation protocols on frozen embeddings (see ../shared/DESIGN.md)."""

from keras_ae.evaluation.probes import chance_accuracy, embed, knn_accuracy, linear_probe_accuracy

__all__ = ["chance_accuracy", "embed", "knn_accuracy", "linear_probe_accuracy"]
