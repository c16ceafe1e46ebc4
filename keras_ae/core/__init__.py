"""The one training loop every keras_ae model shares (encoder, bottleneck, judges, adversaries), and its helpers."""
