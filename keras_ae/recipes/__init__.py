"""Runnable recipes: `python -m keras_ae.recipes.<name> --help`."""
