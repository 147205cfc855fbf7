"""Typed, range-checked run configurations: a flat dict is checked against a table of :class:`Param`.

A sweep's configuration is a flat dict of JSON scalars (it is hashed into the
run's key and written as one row), so a typo in a value — ``lr="0.1"``,
``batchnorm="yes"``, ``momentum=1.5`` — must be refused before any training
starts, with a message that names the key and says what it wants.  ``float``
keys take ints too (``weight_decay=0``), never bools or strings; values are
returned unchanged, so that a run's key is the key of what the user wrote.

>>> params = {"lr": Param(float, low=0, low_open=True), "momentum": Param(float, low=0, high=1)}
>>> check_config({"lr": 0.1, "momentum": 0.9}, params, "demo")
{'lr': 0.1, 'momentum': 0.9}
>>> check_config({"lr": "0.1", "momentum": 0.9}, params, "demo")
Traceback (most recent call last):
...
TypeError: demo: config['lr'] = '0.1' is of type str; want a number > 0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Param", "check_config"]


@dataclass(frozen=True)
class Param:
    """One configuration key: its type and the values it may take.

    ``kind`` is ``float`` (ints accepted), ``int``, ``bool`` or ``str``.
    Numbers must lie in ``[low, high)`` (``low_open``/``high_open`` say which
    ends are excluded); strings must be one of ``choices`` when given, and
    ``label`` names them in the message ("unknown optimizer 'lion'").
    """

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = True
    choices: tuple = ()
    label: str = ""

    def want(self) -> str:
        """What the key wants, in words: ``a number in [0, 1)``, ``True or False``, …"""
        if self.kind is bool:
            return "True or False"
        if self.kind is str:
            return f"one of {', '.join(map(repr, self.choices))}" if self.choices else "a string"
        noun = "an integer" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return f"{noun} in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{noun} {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{noun} {'<' if self.high_open else '<='} {self.high:g}"
        return noun

    def check(self, value, where: str):
        """``value`` unchanged if it is of this kind and in range; else a TypeError or ValueError naming ``where``."""
        if self.kind is bool:
            ok = isinstance(value, bool)
        elif self.kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif self.kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, self.kind)
        if not ok:
            raise TypeError(f"{where} = {value!r} is of type {type(value).__name__}; want {self.want()}")
        if self.kind is str:
            if self.choices and value not in self.choices:
                label = self.label or where
                raise ValueError(f"unknown {label} {value!r} ({where}); choose one of "
                                 f"{', '.join(map(repr, self.choices))}")  # fmt: skip
            return value
        if self.kind is bool:
            return value
        too_low = self.low is not None and (value < self.low or (self.low_open and value == self.low))
        too_high = self.high is not None and (value > self.high or (self.high_open and value == self.high))
        if (isinstance(value, float) and not math.isfinite(value)) or too_low or too_high:
            raise ValueError(f"{where} = {value!r} is out of range; want {self.want()}")
        return value


def check_config(config: Mapping, params: Mapping[str, Param], who: str) -> dict:
    """``config`` as a dict after checking every key it holds against ``params``.

    Unknown keys and missing keys are the caller's business (a run function
    completes a configuration from its defaults first); this checks types and
    ranges, in the order of ``params``, and reports the first bad key.
    """
    for name, param in params.items():
        if name in config:
            param.check(config[name], f"{who}: config[{name!r}]")
    return dict(config)
