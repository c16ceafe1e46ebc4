"""`python -m keras_ae`: the `keras-ae` command (see `keras_ae.cli`)."""

from keras_ae.cli import main

main()
