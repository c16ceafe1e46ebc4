"""Offline data sources and tf.data pipelines (see ../shared/DATA.md)."""

import os
from pathlib import Path


def keras_ae_home():
    """Cache folder for fetched or converted data: `$KERAS_AE_HOME`, default `~/.keras_ae`."""
    return Path(os.environ.get("KERAS_AE_HOME", Path.home() / ".keras_ae"))
