"""Config helpers shared by every layer and model that holds sub-layers."""

import keras


def deserialize_sublayers(config, keys):
    """A copy of `config` in which each of `keys` (a serialized layer, a list of them, or None) is rebuilt.

    Example:
        @classmethod
        def from_config(cls, config):
            return cls(**deserialize_sublayers(config, ("encoder", "decoder")))
    """
    config = dict(config)
    for key in keys:
        value = config.get(key)
        if isinstance(value, list):
            config[key] = [keras.saving.deserialize_keras_object(item) for item in value]
        elif value is not None:
            config[key] = keras.saving.deserialize_keras_object(value)
    return config
