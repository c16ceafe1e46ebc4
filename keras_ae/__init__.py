"""keras_ae: auto-encoders beyond reconstruction, with interpretable embeddings (Keras 3, TensorFlow backend)."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
