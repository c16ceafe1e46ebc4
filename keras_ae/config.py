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


def keyword_defaults(function):
    """`{argument: default}` of every argument of `function` (a class: its constructor) that has a default: the one
    home of a hyperparameter, which recipes read instead of repeating it.

    Example:
        keyword_defaults(lambda size, dim=64: None)   # {"dim": 64}
    """
    return {name: parameter.default for name, parameter in inspect.signature(function).parameters.items()
            if parameter.default is not inspect.Parameter.empty}


def constructor_default(cls, name):
    """The default of constructor argument `name` of `cls`: the one home of a hyperparameter, which recipes and
    HyperModels read instead of repeating it.

    Example:
        parser.add_argument("--max-shift", type=int, default=constructor_default(InfoMax, "max_shift"))
    """
    defaults = keyword_defaults(cls.__init__)
    if name not in defaults:
        raise ValueError(f"{cls.__name__}.__init__ has no argument {name!r} with a default.")
    return defaults[name]
