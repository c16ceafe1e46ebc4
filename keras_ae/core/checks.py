"""Argument checks shared by layers and models: one rule for what counts as an integer size.

Example:
    num_codes = integer_at_least("VectorQuantizer num_codes", num_codes, 1)   # np.int64(512) -> 512
"""

import numbers


def integer_at_least(name, value, minimum, hint=""):
    """`value` as a Python int, or a ValueError naming `name` (and ending with `hint`), unless it is an integer
    (numpy integers included, booleans not) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise ValueError(f"{name} must be {kind}{hint}; got {value!r}.")
    return int(value)
