"""Decoders: map a code back to the input space."""
