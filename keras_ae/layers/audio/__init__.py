"""Audio in the graph: spectral front end and vocoder."""
