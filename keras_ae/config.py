"""Config helpers shared by every layer and model that holds sub-layers."""

import inspect

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


def constructor_default(cls, name):
    """The default of constructor argument `name` of `cls`: the one home of a hyperparameter, which recipes and
    HyperModels read instead of repeating it.

    Example:
        parser.add_argument("--max-shift", type=int, default=constructor_default(InfoMax, "max_shift"))
    """
    parameter = inspect.signature(cls.__init__).parameters.get(name)
    if parameter is None or parameter.default is inspect.Parameter.empty:
        raise ValueError(f"{cls.__name__}.__init__ has no argument {name!r} with a default.")
    return parameter.default
