"""The one place where keras_ae checks values: sizes, ranges and arrays, for flags, TOML configs, data loaders and
the constructor arguments of layers and models (`integer_at_least`).

Each `*_int` / `*_float` function is an argparse `type=` that also converts a value read from a TOML file (as
text), so a flag and a config key go through exactly the same check. A failed check raises
`argparse.ArgumentTypeError` (a `ValueError` is raised by the array checks), whose message says what is wrong and
what to pass instead.

Example:
    parser.add_argument("--epochs", type=positive_int, default=5)
    parser.add_argument("--word-dropout", type=probability, default=0.8)
    check_finite(images, "digits training split")
"""

import argparse
import math
import numbers

import numpy as np


def _number(text, kind):
    if isinstance(text, bool):
        raise argparse.ArgumentTypeError(f"expected {kind}, got the boolean {text!r}")
    try:
        return int(text) if kind == "an integer" else float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None


def positive_int(text):
    """An integer >= 1 (sizes, counts, epochs, `--limit`)."""
    value = _number(text, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (1 or more), got {value}")
    return value


def non_negative_int(text):
    """An integer >= 0 (seeds, shifts, patience, where 0 has a meaning)."""
    value = _number(text, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {value}")
    return value


def at_least_two_int(text):
    """An integer >= 2 (codebook sizes, one-hot categories: one code carries no information)."""
    value = _number(text, "an integer")
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be an integer of at least 2, got {value}")
    return value


def positive_float(text):
    """A finite number > 0 (learning rates, durations)."""
    value = _number(text, "a number")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {value}")
    return value


def non_negative_float(text):
    """A finite number >= 0 (loss weights, thresholds)."""
    value = _number(text, "a number")
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of 0 or more, got {value}")
    return value


def ratio_limit(text):
    """A finite number >= 1 (the largest ratio a conversion may apply; its inverse is the smallest)."""
    value = _number(text, "a number")
    if not math.isfinite(value) or value < 1:
        raise argparse.ArgumentTypeError(f"must be a finite number of 1 or more, got {value}")
    return value


def probability(text):
    """A share in [0, 1) (dropout rates: 1 would hide everything)."""
    value = _number(text, "a number")
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a share from 0 up to (not including) 1, got {value}")
    return value


def share(text):
    """A share in (0, 1] (the largest part of a corpus one kind of item may take)."""
    value = _number(text, "a number")
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a share above 0 and at most 1, got {value}")
    return value


def unit_share(text):
    """A share in [0, 1], both ends included (a mix of two things: 0 is all of one, 1 all of the other)."""
    value = _number(text, "a number")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a share from 0 to 1 (both included), got {value}")
    return value


def check_finite(array, what):
    """Raises a `ValueError` naming `what` and the first bad entry when `array` holds NaN or infinity."""
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.floating):
        return array
    bad = ~np.isfinite(array)
    if bad.any():
        first = np.unravel_index(int(np.argmax(bad)), array.shape)
        raise ValueError(
            f"{what}: {int(bad.sum())} value(s) are NaN or infinite (the first at index {tuple(map(int, first))}: "
            f"{array[first]}); remove or repair those entries before training."
        )
    return array


def check_same_shape(shapes, what):
    """Raises a `ValueError` when the example shapes of the named splits differ: `shapes` maps name -> shape."""
    distinct = {tuple(shape) for shape in shapes.values()}
    if len(distinct) > 1:
        listed = ", ".join(f"{name} {tuple(shape)}" for name, shape in shapes.items())
        raise ValueError(f"{what}: the splits hold examples of different shapes ({listed}); give every split "
                         "images of one shape (resize them first).")


def integer_at_least(name, value, minimum, hint=""):
    """A constructor argument `value` as a Python int, or a ValueError naming `name` (and ending with `hint`),
    unless it is an integer (numpy integers included, booleans and floats not) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise ValueError(f"{name} must be {kind}{hint}; got {value!r}.")
    return int(value)
