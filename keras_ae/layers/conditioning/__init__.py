"""Conditioning layers: instance normalisation and adaptive instance normalisation (AdaIN)."""
