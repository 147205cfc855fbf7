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
from dataclasses import dataclass, fields
from typing import ClassVar

__all__ = ["DECAY_RULES", "LM_DEFAULTS", "LM_EVAL_SETS", "LM_PARAMS", "AUGMENTATIONS", "MEMORY_FORMAT_NAMES", "OPTIMIZER_NAMES", "PRECISION_NAMES", "RUN_CONFIGS", "RUN_DEFAULTS", "SCHEDULE_NAMES",
           "TEXT_DEFAULTS", "TEXT_PARAMS", "VISION_DEFAULTS", "VISION_PARAMS", "LMConfig", "Param", "RunConfig",
           "TextConfig", "VISION_MODELS", "VisionConfig", "VisionNormsConfig", "check_config", "check_profile"]


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


def check_profile(profile, profiles=("quick", "full")) -> str:
    """A chapter's ``profile`` parameter, if it is one of ``profiles`` (a chapter's table of sizes, say).

    >>> check_profile("quick")
    'quick'
    >>> check_profile("huge", {"quick": 1, "full": 2})
    Traceback (most recent call last):
    ...
    ValueError: profile must be one of ['full', 'quick']; got 'huge'
    """
    if not isinstance(profile, str) or profile not in profiles:
        raise ValueError(f"profile must be one of {sorted(profiles)}; got {profile!r}")
    return profile


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


# --------------------------------------------------------------------------- #
# the tables of wdlib.runs' run functions (here, torch-free, so that the catalogue and readers of results use them)
# --------------------------------------------------------------------------- #
#: The names that :data:`wdlib.train.OPTIMIZERS` and :data:`wdlib.train.SCHEDULES` hold (a test keeps them equal).
OPTIMIZER_NAMES = ("sgd", "sgdw", "adam", "adamw", "adadelta")
SCHEDULE_NAMES = ("constant", "cosine", "linear")
#: ``decay`` of a run: weights only (``"matrices"``: biases and norm parameters spared) or every parameter.
DECAY_RULES = ("matrices", "all")
#: ``eval_set`` of :func:`wdlib.runs.lm_run`, the values :data:`wdlib.train.EVAL_SETS` holds (a test keeps them equal).
LM_EVAL_SETS = ("seeded", "fixed")

# Types and ranges of the run functions' keys: a bad value is refused before any data is loaded.
_SEED = Param(int, low=0)
_COUNT = Param(int, low=1)
_RATE = Param(float, low=0, low_open=True)
_NONNEG = Param(float, low=0)
_PROBABILITY = Param(float, low=0, high=1)  # dropout and momentum: [0, 1)
_DECAY_RULE = Param(str, choices=DECAY_RULES, label="decay rule")
_OPTIMIZER = Param(str, choices=OPTIMIZER_NAMES, label="optimizer")
#: The values :data:`wdlib.train.PRECISIONS` and :data:`wdlib.train.MEMORY_FORMATS` hold (a test keeps them equal).
#: A run's configuration names them explicitly ("auto" would resolve differently on different machines).
PRECISION_NAMES = ("float32", "bfloat16")
MEMORY_FORMAT_NAMES = ("contiguous", "channels_last")
_PRECISION = Param(str, choices=PRECISION_NAMES, label="precision")
#: Vision models of :func:`wdlib.runs.vision_run` and its augmentations (:class:`wdlib.train.RandomCropFlip`,
#: 2 pixels of padding; ``"crop_flip"`` also mirrors half of the images).
VISION_MODELS = ("small_cnn", "resnet")
AUGMENTATIONS = ("none", "crop", "crop_flip")


@dataclass(frozen=True)
class RunConfig:
    """A run function's configuration: typed fields with the paper's defaults, built from a flat mapping.

    A sweep stores and hashes the flat mapping as it was written (its run key
    does not change when a default is added, so a default is never changed:
    the rows already stored under a key were computed with it — which is why
    ``precision`` defaults to ``"float32"``, the precision of every run
    committed before wdlib 0.3, though bfloat16 is faster where the CPU has
    it; new sweeps name it); the run function turns it into
    its config class with :meth:`from_mapping`, which refuses unknown keys, a
    missing seed, and a value of the wrong type or out of range, naming the
    key.  ``dataclasses.asdict`` of the result is the completed configuration:
    the columns of :func:`wdlib.experiments.load_results` with ``complete=True``.
    """

    seed: int
    PARAMS: ClassVar[dict[str, Param]] = {}
    WHO: ClassVar[str] = "run"

    @classmethod
    def defaults(cls) -> dict:
        """Every key but ``seed``, with its default, in field order."""
        return {f.name: f.default for f in fields(cls) if f.name != "seed"}

    @classmethod
    def from_mapping(cls, config: Mapping, who: str | None = None):
        """The configuration ``config`` (a flat mapping) completed with the defaults, after checking it."""
        who = who or cls.WHO
        if not isinstance(config, Mapping):
            raise TypeError(f"a {who} configuration must be a mapping; got {type(config).__name__}")
        defaults = cls.defaults()
        unknown = set(config) - set(defaults) - {"seed"}
        if unknown:
            raise ValueError(f"unknown {who} keys {sorted(unknown)}; known: seed, {', '.join(defaults)}")
        if "seed" not in config:
            raise ValueError(f"a {who} configuration needs a 'seed'")
        return cls(**check_config({**defaults, **config}, cls.PARAMS, who))


@dataclass(frozen=True)
class VisionConfig(RunConfig):
    """:func:`wdlib.runs.vision_run`: a small CNN or a ResNet on a stratified Fashion-MNIST subset.

    The keys after ``memory_format`` came with the study protocol (wdlib 0.4);
    their defaults are what runs did before: ``depth`` and ``width`` of the
    ``"resnet"`` model (ignored by ``"small_cnn"``), ``n_val`` validation
    images carved from the training set (0: none), ``augment``,
    ``warmup_epochs`` of linear warm-up, and weight decay applied only from
    epoch ``decay_start`` to ``decay_stop`` (0: the end).
    """

    model: str = "small_cnn"
    batchnorm: bool = False
    n_train: int = 60000
    n_test: int = 10000
    data_seed: int = 0
    optimizer: str = "sgd"
    lr: float = 0.05
    weight_decay: float = 0.0
    momentum: float = 0.9
    decay: str = "matrices"
    epochs: int = 10
    batch_size: int = 128
    schedule: str = "constant"
    eval_every: int = 1
    precision: str = "float32"
    memory_format: str = "contiguous"
    depth: int = 8
    width: int = 16
    n_val: int = 0
    augment: str = "none"
    warmup_epochs: int = 0
    decay_start: int = 0
    decay_stop: int = 0
    PARAMS: ClassVar[dict[str, Param]] = {
        "seed": _SEED, "model": Param(str, choices=VISION_MODELS, label="vision model"), "batchnorm": Param(bool),
        "n_train": _COUNT, "n_test": _COUNT, "data_seed": _SEED, "optimizer": _OPTIMIZER, "lr": _RATE,
        "weight_decay": _NONNEG, "momentum": _PROBABILITY, "decay": _DECAY_RULE, "epochs": _COUNT,
        "batch_size": _COUNT, "schedule": Param(str, choices=SCHEDULE_NAMES, label="schedule"), "eval_every": _COUNT,
        "track_every": _COUNT, "precision": _PRECISION,
        "memory_format": Param(str, choices=MEMORY_FORMAT_NAMES, label="memory format"),
        "depth": Param(int, low=8), "width": _COUNT, "n_val": Param(int, low=0),
        "augment": Param(str, choices=AUGMENTATIONS, label="augmentation"), "warmup_epochs": Param(int, low=0),
        "decay_start": Param(int, low=0), "decay_stop": Param(int, low=0),
    }  # fmt: skip
    WHO: ClassVar[str] = "vision_run"


@dataclass(frozen=True)
class VisionNormsConfig(VisionConfig):
    """:func:`wdlib.runs.vision_norms_run`: :class:`VisionConfig` and how often the norms are recorded."""

    track_every: int = 1
    WHO: ClassVar[str] = "vision_norms_run"


@dataclass(frozen=True)
class TextConfig(RunConfig):
    """:func:`wdlib.runs.text_run`: Kim's (2014) CNN-rand on an MR fold or SST-2, with Kim's settings.

    ``patience`` (wdlib 0.4; 0, the default, as before: every epoch) ends a
    run after that many epochs without a better dev accuracy.
    """

    dataset: str = "mr"
    folds: int = 10
    fold: int = 0
    data_seed: int = 0
    dev_fraction: float = 0.1
    n_train: int = 0
    embed_dim: int = 300
    maps: int = 100
    dropout: float = 0.5
    max_norm: float = 3.0
    optimizer: str = "adadelta"
    lr: float = 1.0
    weight_decay: float = 0.0
    decay_embeddings: bool = False
    epochs: int = 25
    batch_size: int = 50
    precision: str = "float32"
    patience: int = 0
    PARAMS: ClassVar[dict[str, Param]] = {
        "seed": _SEED, "dataset": Param(str, choices=("mr", "sst2"), label="text dataset"),
        "folds": Param(int, low=2), "fold": Param(int, low=0), "data_seed": _SEED,
        "dev_fraction": Param(float, low=0, high=1, low_open=True), "n_train": Param(int, low=0), "embed_dim": _COUNT,
        "maps": _COUNT, "dropout": _PROBABILITY, "max_norm": _NONNEG, "optimizer": _OPTIMIZER, "lr": _RATE,
        "weight_decay": _NONNEG, "decay_embeddings": Param(bool), "epochs": _COUNT, "batch_size": _COUNT,
        "precision": _PRECISION, "patience": Param(int, low=0),
    }  # fmt: skip
    WHO: ClassVar[str] = "text_run"


@dataclass(frozen=True)
class LMConfig(RunConfig):
    """:func:`wdlib.runs.lm_run`: nanoGPT's shakespeare_char CPU recipe.

    The keys after ``precision`` came with chapter 6's study (wdlib 0.4); their
    defaults are what runs did before: ``eval_set`` = ``"seeded"`` measures
    the losses on windows drawn from the run's seed (``"fixed"``: the whole
    validation split and as many evenly spaced training windows, the same for
    every run), and ``track_norms`` adds the norm of every weight matrix to
    the history.
    """

    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 64
    dropout: float = 0.0
    batch_size: int = 12
    steps: int = 2000
    lr: float = 1e-3
    weight_decay: float = 0.1
    decay: str = "matrices"
    schedule: str = "cosine"
    warmup: int = 100
    final_lr: float = 1e-4
    eval_every: int = 250
    eval_batches: int = 20
    grad_clip: float = 1.0
    precision: str = "float32"
    eval_set: str = "seeded"
    track_norms: bool = False
    PARAMS: ClassVar[dict[str, Param]] = {
        "seed": _SEED, "n_layer": _COUNT, "n_head": _COUNT, "n_embd": _COUNT, "block_size": _COUNT,
        "dropout": _PROBABILITY, "batch_size": _COUNT, "steps": _COUNT, "lr": _RATE, "weight_decay": _NONNEG,
        "decay": _DECAY_RULE, "schedule": Param(str, choices=("cosine", "constant"), label="lm schedule"),
        "warmup": Param(int, low=0), "final_lr": _NONNEG, "eval_every": _COUNT, "eval_batches": _COUNT,
        "grad_clip": _NONNEG, "precision": _PRECISION,
        "eval_set": Param(str, choices=LM_EVAL_SETS, label="lm evaluation set"), "track_norms": Param(bool),
    }  # fmt: skip
    WHO: ClassVar[str] = "lm_run"


#: Every key a configuration may hold but ``seed``, with its default (the config classes' fields), and their types.
VISION_DEFAULTS, VISION_PARAMS = VisionConfig.defaults(), VisionConfig.PARAMS
TEXT_DEFAULTS, TEXT_PARAMS = TextConfig.defaults(), TextConfig.PARAMS
LM_DEFAULTS, LM_PARAMS = LMConfig.defaults(), LMConfig.PARAMS

#: run function name -> its configuration class.
RUN_CONFIGS: dict[str, type[RunConfig]] = {"vision_run": VisionConfig, "vision_norms_run": VisionNormsConfig,
                                           "text_run": TextConfig, "text_embedding_run": TextConfig,
                                           "lm_run": LMConfig}  # fmt: skip
#: run function name -> every key its configuration may hold, with its default.
RUN_DEFAULTS = {name: cls.defaults() for name, cls in RUN_CONFIGS.items()}
