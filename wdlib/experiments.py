"""The experiments' run functions and the named sweeps that call them.

A run function is a pure function of one flat configuration (see
:mod:`wdlib.sweep`): it loads its data, builds its model from the seed, trains
and returns ``(metrics, history)``.  :data:`SWEEPS` names the sweeps that the
command line (``python -m wdlib.sweep NAME --profile P``) and the chapters run;
each has profiles from ``smoke`` (seconds, for tests) to ``full`` (the
committed results).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import data
from .models import build_model
from .sweep import expand, grid
from .train import fit, make_optimizer

__all__ = ["SWEEPS", "VISION_DEFAULTS", "SweepSpec", "vision_run"]


@functools.lru_cache(maxsize=2)
def _fashion_mnist(split: str):
    return data.load_fashion_mnist(split)


#: Every key a :func:`vision_run` configuration may hold, with its default.
VISION_DEFAULTS = {
    "model": "small_cnn", "batchnorm": False, "n_train": 60000, "n_test": 10000, "data_seed": 0,
    "optimizer": "sgd", "lr": 0.05, "weight_decay": 0.0, "momentum": 0.9, "decay": "matrices",
    "epochs": 10, "batch_size": 128, "schedule": "constant", "eval_every": 1,
}  # fmt: skip
_DECAY_RULES = {"matrices": {}, "all": {"decay": ["*"]}}


def vision_run(config: Mapping) -> tuple[dict, pd.DataFrame]:
    """Train a small CNN on a stratified Fashion-MNIST subset; one sweep run.

    ``config`` holds ``seed`` (initialization, batch order) and any of
    :data:`VISION_DEFAULTS`: ``n_train`` images drawn from ``data_seed``
    (stratified), the first ``n_test`` test images, ``decay`` = ``"matrices"``
    (weights only; biases and BatchNorm parameters spared) or ``"all"``.

    Returns the final epoch's metrics (``train_loss``/``train_acc`` measured in
    eval mode on the training subset, ``test_loss``/``test_acc``,
    ``gap_acc`` = train − test accuracy, ``best_test_acc`` over the evaluated
    epochs, ``weight_norm``: the norm of all weight matrices and kernels) and the history.
    """
    unknown = set(config) - set(VISION_DEFAULTS) - {"seed"}
    if unknown:
        raise ValueError(f"unknown vision_run keys {sorted(unknown)}; known: seed, {', '.join(VISION_DEFAULTS)}")
    if "seed" not in config:
        raise ValueError("a vision_run configuration needs a 'seed'")
    c = {**VISION_DEFAULTS, **config}
    if c["decay"] not in _DECAY_RULES:
        raise ValueError(f"unknown decay rule {c['decay']!r}; choose one of {', '.join(map(repr, _DECAY_RULES))}")
    x, y = _fashion_mnist("train")
    xt, yt = _fashion_mnist("test")
    if not isinstance(c["n_test"], int) or not 1 <= c["n_test"] <= len(xt):
        raise ValueError(f"n_test must be an integer in [1, {len(xt)}], got {c['n_test']!r}")
    idx = data.subset_indices(len(x), c["n_train"], c["data_seed"], labels=y)
    x, y, xt, yt = x[idx], y[idx], xt[: c["n_test"]], yt[: c["n_test"]]
    model = build_model(c["model"], seed=c["seed"], batchnorm=c["batchnorm"])
    opt = make_optimizer(model, c["optimizer"], lr=c["lr"], weight_decay=c["weight_decay"], momentum=c["momentum"],
                         **_DECAY_RULES[c["decay"]])  # fmt: skip
    history = fit(model, opt, (x, y), epochs=c["epochs"], batch_size=c["batch_size"], seed=c["seed"],
                  evals={"train_eval": (x, y), "test": (xt, yt)}, schedule=c["schedule"],
                  eval_every=c["eval_every"], progress=False)  # fmt: skip
    last = history.iloc[-1]
    # numpy's pairwise sum, not torch's: torch splits reductions by thread count, and Dask workers run 1 thread
    weight_norm = math.sqrt(sum(float(np.sum(p.detach().double().numpy() ** 2)) for p in model.parameters()
                                if p.dim() >= 2))  # fmt: skip
    metrics = {"train_loss": float(last["train_eval_loss"]), "train_acc": float(last["train_eval_acc"]),
               "test_loss": float(last["test_loss"]), "test_acc": float(last["test_acc"]),
               "gap_acc": float(last["train_eval_acc"] - last["test_acc"]),
               "best_test_acc": float(history["test_acc"].max()), "weight_norm": weight_norm}  # fmt: skip
    return metrics, history


@dataclass(frozen=True)
class SweepSpec:
    """A named sweep: a run function (``"module:function"``) and, per profile, a base, grid points and seeds."""

    fn: str
    description: str
    profiles: Mapping[str, tuple[Mapping, Sequence[Mapping], Sequence[int]]] = field(default_factory=dict)

    def configs(self, profile: str) -> list[dict]:
        if profile not in self.profiles:
            raise ValueError(f"no profile {profile!r}; choose one of {', '.join(self.profiles)}")
        base, points, seeds = self.profiles[profile]
        return expand(base, points, seeds)


_LAMBDAS = [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]

#: name -> :class:`SweepSpec`.
SWEEPS: dict[str, SweepSpec] = {
    "fmnist-lambda": SweepSpec(
        "wdlib.experiments:vision_run",
        "small CNN, SGD with momentum + L2, on a Fashion-MNIST subset: test accuracy against λ",
        {
            "smoke": ({"n_train": 200, "n_test": 200, "epochs": 1, "batch_size": 50},
                      grid(weight_decay=[0.0, 1e-2]), [0, 1]),
            "quick": ({"n_train": 2000, "n_test": 2000, "epochs": 5},
                      grid(weight_decay=[0.0, 1e-3, 1e-2]), [0, 1]),
            "full": ({"n_train": 10000, "n_test": 10000, "epochs": 20, "eval_every": 5},
                     grid(weight_decay=_LAMBDAS), [0, 1, 2]),
        },
    ),
}  # fmt: skip
