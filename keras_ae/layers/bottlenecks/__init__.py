"""Bottlenecks: sit between encoder and judges (`call(encoding, training) -> (code, losses, metrics)`)."""
