"""Conditioning layers: instance normalisation, adaptive instance normalisation (AdaIN), reference attention and the speaker-code push."""
