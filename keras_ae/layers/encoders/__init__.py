"""Encoders: map an input (images, frames, waveforms, sentences) to an encoding."""
