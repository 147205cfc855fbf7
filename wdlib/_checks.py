"""Validation at wdlib's boundary, in one place: messages name the argument and say what it wants.

Numbers: Python or numpy scalars (and 0-d arrays or tensors, through ``float``
and ``operator.index``); never strings or bools, which in a configuration are
typos, not numbers.  No third-party imports, so every module may use it.
"""

from __future__ import annotations

import math
import numbers
import operator

__all__ = ["integer", "is_integer", "number", "probability"]


def number(value, name: str, *, low: float = 0.0, low_ok: bool = True, high: float | None = None) -> float:
    """``float(value)`` if finite and in ``[low, high)`` (``(low, high)`` unless ``low_ok``), else a ValueError.

    The message follows torch.optim's: ``Invalid lr value: -1 (want a finite number > 0)``.

    >>> import numpy as np
    >>> number(np.float32(0.5), "lr")
    0.5
    >>> number("0.1", "lr")
    Traceback (most recent call last):
    ...
    ValueError: Invalid lr value: '0.1' (want a number, not a str)
    """
    if isinstance(value, (str, bytes, bool)) or type(value).__name__ in ("bool", "bool_"):  # numpy 2's is "bool"
        raise ValueError(f"Invalid {name} value: {value!r} (want a number, not a {type(value).__name__})")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Invalid {name} value: {value!r} (want a number)") from None
    if not math.isfinite(v) or v < low or (v == low and not low_ok) or (high is not None and v >= high):
        bound = f"{'>=' if low_ok else '>'} {low:g}" + (f" and < {high:g}" if high is not None else "")
        raise ValueError(f"Invalid {name} value: {value!r} (want a finite number {bound})")
    return v


def is_integer(value) -> bool:
    """Whether ``value`` is an integer, Python or numpy, and not a bool."""
    return isinstance(value, numbers.Integral) and type(value).__name__ not in ("bool", "bool_")


def integer(value, name: str, low: int = 1, *, what: str = "") -> int:
    """``int(value)`` if it is an integer (Python or numpy; not a bool) ``>= low``, else a ValueError naming it.

    >>> import numpy as np
    >>> integer(np.int64(3), "epochs")
    3
    >>> integer(2.0, "epochs")
    Traceback (most recent call last):
    ...
    ValueError: epochs must be an integer >= 1, got 2.0
    """
    if not is_integer(value) or operator.index(value) < low:
        raise ValueError(f"{name} must be an integer >= {low}{what}, got {value!r}")
    return operator.index(value)


def probability(value, name: str) -> float:
    """``float(value)`` if it is a number in ``[0, 1)`` (a dropout rate, a momentum), else a ValueError naming it."""
    if isinstance(value, (str, bytes, bool)) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)
