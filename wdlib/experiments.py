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
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import data
from .decay import _check_int
from .models import build_model
from .sweep import Store, expand, grid, run_key, run_sweep
from .tracking import NormTracker
from .train import fit, make_optimizer

__all__ = ["CHAPTER_SWEEPS", "SWEEPS", "VISION_DEFAULTS", "SweepSpec", "load_results", "project_root", "results_folder", "vision_norms_run",
           "vision_run"]


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


def _vision_setup(config: Mapping, who: str, extra: Mapping | None = None):
    """Validate a vision configuration; return it completed, the model, its optimizer and the data."""
    known = {**VISION_DEFAULTS, **(extra or {})}
    unknown = set(config) - set(known) - {"seed"}
    if unknown:
        raise ValueError(f"unknown {who} keys {sorted(unknown)}; known: seed, {', '.join(known)}")
    if "seed" not in config:
        raise ValueError(f"a {who} configuration needs a 'seed'")
    c = {**known, **config}
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
    return c, model, opt, (x, y), (xt, yt)


def _weight_norm(model) -> float:
    # numpy's pairwise sum, not torch's: torch splits reductions by thread count, and Dask workers run 1 thread
    return math.sqrt(sum(float(np.sum(p.detach().double().numpy() ** 2)) for p in model.parameters()
                         if p.dim() >= 2))  # fmt: skip


def _fit(c, model, opt, train, test, hooks=()) -> pd.DataFrame:
    return fit(model, opt, train, epochs=c["epochs"], batch_size=c["batch_size"], seed=c["seed"],
               evals={"train_eval": train, "test": test}, schedule=c["schedule"], eval_every=c["eval_every"],
               hooks=hooks, progress=False)  # fmt: skip


def _final_metrics(history: pd.DataFrame, model) -> dict:
    last = history.iloc[-1]
    return {"train_loss": float(last["train_eval_loss"]), "train_acc": float(last["train_eval_acc"]),
            "test_loss": float(last["test_loss"]), "test_acc": float(last["test_acc"]),
            "gap_acc": float(last["train_eval_acc"] - last["test_acc"]),
            "best_test_acc": float(history["test_acc"].max()), "weight_norm": _weight_norm(model)}  # fmt: skip


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
    c, model, opt, train, test = _vision_setup(config, "vision_run")
    history = _fit(c, model, opt, train, test)
    return _final_metrics(history, model), history


def vision_norms_run(config: Mapping) -> tuple[dict, pd.DataFrame]:
    """:func:`vision_run` that also follows the weights' norms and angular updates step by step.

    The extra key ``track_every`` (default 1) sets how often a
    :class:`~wdlib.tracking.NormTracker` records the model's scale-invariant
    weights (``model.scale_invariant``; with ``batchnorm=False``, every weight
    matrix and kernel).  The metrics are :func:`vision_run`'s; the history is
    the tracker's table (``step``, ``name``, ``norm``, ``angular_update``,
    ``lr``, ``effective_lr``) with ``epoch`` rows of the test accuracy left
    out: read them from the metrics.
    """
    c, model, opt, train, test = _vision_setup(config, "vision_norms_run", {"track_every": 1})
    names = model.scale_invariant or [n for n, p in model.named_parameters() if p.dim() >= 2]
    tracker = NormTracker(model, names, optimizer=opt, every=_check_int(c["track_every"], "track_every"))
    tracker.record(0)
    history = _fit(c, model, opt, train, test, hooks=[tracker])
    return _final_metrics(history, model), tracker.to_frame()


@dataclass(frozen=True)
class SweepSpec:
    """A named sweep: a run function (``"module:function"``) and its profiles.

    Each profile is one ``(base, points, seeds)`` block or a list of them (a
    dense grid on one seed plus a few rows on more seeds, say); its
    configurations are the blocks' :func:`~wdlib.sweep.expand`, in order, each
    configuration once.  ``results`` is the folder under ``data/results/`` that
    holds the committed ``full`` profile (the command line's default store for it).
    """

    name: str
    fn: str
    description: str
    profiles: Mapping[str, tuple | Sequence[tuple]] = field(default_factory=dict)
    results: str | None = None

    def command(self, profile: str = "full") -> str:
        """The shell command that (re)computes this profile into its results folder."""
        return f"python -m wdlib.sweep {self.name} --profile {profile}"

    def configs(self, profile: str, *, seed: int = 0, overrides: Mapping | None = None) -> list[dict]:
        """The profile's configurations; ``seed`` is added to every run's seed, and ``overrides`` replace
        the values of keys that a block's base sets (a key its points vary keeps the points' values)."""
        if profile not in self.profiles:
            raise ValueError(f"no profile {profile!r}; choose one of {', '.join(self.profiles)}")
        seed = _check_int(seed, "seed", low=0)
        overrides = dict(overrides or {})
        parts = self.profiles[profile]
        if isinstance(parts, tuple) and len(parts) == 3 and isinstance(parts[0], Mapping):
            parts = [parts]
        unused = set(overrides) - {k for base, _, _ in parts for k in base}
        if unused:
            raise ValueError(f"sweep profile {profile!r} has no setting {sorted(unused)} to override; it sets "
                             f"{sorted({k for base, _, _ in parts for k in base})}")
        out, seen = [], set()
        for base, points, seeds in parts:
            base = {**base, **{k: v for k, v in overrides.items() if k in base}}
            for config in expand(base, points, [s + seed for s in seeds]):
                key = run_key(config)
                if key not in seen:
                    seen.add(key)
                    out.append(config)
        return out


_VISION = "wdlib.experiments:vision_run"
_NORMS = "wdlib.experiments:vision_norms_run"
_OVERFIT = {"n_train": 1000, "n_test": 10000, "batch_size": 64, "epochs": 30, "eval_every": 30}
_QUICK = {"n_train": 500, "n_test": 2000, "batch_size": 64, "epochs": 10, "eval_every": 10}
_SMOKE = {"n_train": 200, "n_test": 200, "batch_size": 50, "epochs": 1, "eval_every": 1}
_WD_GRID = [0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
_LR = {"sgd": [0.01, 0.03, 0.1], "adam": [3e-4, 1e-3, 3e-3]}  # the middle one is the "matched" learning rate
_FAMILY = {"sgd": "sgd", "sgdw": "sgd", "adam": "adam", "adamw": "adam"}


def _landscape(base, lrs, wds, seeds, matched_seeds, matched_wds, extra_sgd_wds=()):
    """Blocks of the optimizer sweep: the lr × λ grid of each optimizer on ``seeds``, its matched-lr row
    (the middle learning rate) on ``matched_seeds``, and extra λ values of SGD + L2 there."""
    parts = []
    for opt, family in _FAMILY.items():
        grid_lrs = lrs[family]
        parts.append(({**base, "optimizer": opt}, grid(lr=grid_lrs, weight_decay=wds), seeds))
        matched = {**base, "optimizer": opt, "lr": grid_lrs[len(grid_lrs) // 2]}
        parts.append((matched, grid(weight_decay=matched_wds), matched_seeds))
    if extra_sgd_wds:
        parts.append(({**base, "optimizer": "sgd", "lr": lrs["sgd"][len(lrs["sgd"]) // 2]},
                      grid(weight_decay=list(extra_sgd_wds)), matched_seeds))  # fmt: skip
    return parts


def _sizes(base, sizes, images, wds, seeds):
    """Training-set sizes at a fixed budget of ``images`` training images (≈ equal step counts)."""
    points = [{"n_train": n, "epochs": max(1, round(images / n)), "weight_decay": wd} for n in sizes for wd in wds]
    return (base, points, seeds)


_BN_FULL = {**_OVERFIT, "epochs": 40, "eval_every": 40, "lr": 0.05, "track_every": 1}
_BN_QUICK = {**_QUICK, "lr": 0.05, "track_every": 1}
_SIZE_BASE = {"n_test": 10000, "batch_size": 64, "lr": 0.03, "eval_every": 1000}
_SIZE_QUICK = {"n_test": 2000, "batch_size": 64, "lr": 0.03, "eval_every": 1000}


def _bn_parts(base, wds, seeds):
    """BatchNorm on and off, decaying the weights only or every parameter (biases, BN gains and shifts)."""
    return [({**base, "batchnorm": True}, [{"weight_decay": 0.0, "decay": "matrices"}]
             + grid(weight_decay=wds, decay=["matrices", "all"]), seeds),
            ({**base, "batchnorm": False}, grid(weight_decay=wds, decay=["matrices", "all"]), seeds)]  # fmt: skip


_SWEEP_LIST = [
    SweepSpec(
        "fmnist-lambda", _VISION,
        "small CNN, SGD with momentum + L2, on a Fashion-MNIST subset: test accuracy against λ",
        {
            "smoke": ({"n_train": 200, "n_test": 200, "epochs": 1, "batch_size": 50},
                      grid(weight_decay=[0.0, 1e-2]), [0, 1]),
            "quick": ({"n_train": 2000, "n_test": 2000, "epochs": 5},
                      grid(weight_decay=[0.0, 1e-3, 1e-2]), [0, 1]),
            "full": ({"n_train": 10000, "n_test": 10000, "epochs": 20, "eval_every": 5},
                     grid(weight_decay=[0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]), [0, 1, 2]),
        },
    ),
    SweepSpec(
        "fmnist-optimizers", _VISION,
        "chapter 5: SGD + L2, SGDW, Adam + L2 and AdamW on 1,000 Fashion-MNIST images (30 epochs): "
        "lr × λ landscapes on one seed, the middle learning rate on three",
        {
            "smoke": _landscape(_SMOKE, {"sgd": [0.03], "adam": [1e-3]}, [0.0, 1e-2], [0], [1], [1e-2]),
            "quick": _landscape(_QUICK, {"sgd": [0.01, 0.03], "adam": [3e-4, 1e-3]}, [0.0, 1e-3, 1e-1], [0], [1],
                                [0.0, 1e-3, 1e-1]),
            "full": _landscape(_OVERFIT, _LR, _WD_GRID, [0], [0, 1, 2], [0.0, 1e-3, 1e-2, 1e-1],
                               extra_sgd_wds=[3e-4, 3e-3, 3e-2]),
        },
        results="05_vision/fmnist-optimizers",
    ),
    SweepSpec(
        "fmnist-bn", _NORMS,
        "chapter 5: BatchNorm on and off, SGD with momentum + L2, weights only or every parameter decayed; "
        "norms, angular updates and effective learning rates step by step",
        {
            "smoke": _bn_parts({**_SMOKE, "lr": 0.05, "track_every": 1}, [1e-2], [0]),
            "quick": _bn_parts(_BN_QUICK, [1e-2], [0]),
            "full": _bn_parts(_BN_FULL, [1e-3, 1e-2], [0, 1]),
        },
        results="05_vision/fmnist-bn",
    ),
    SweepSpec(
        "fmnist-size", _VISION,
        "chapter 5: training-set size against λ at a fixed budget of training images, and the whole training "
        "set for a few epochs",
        {
            "smoke": _sizes({**_SMOKE, "eval_every": 1000}, [100, 200], 200, [0.0, 1e-2], [0]),
            "quick": _sizes(_SIZE_QUICK, [250, 1000], 5000, [0.0, 3e-3], [0]),
            "full": [_sizes(_SIZE_BASE, [500, 2000, 8000], 64000, [0.0, 3e-3, 1e-2], [0, 1]),
                     ({**_SIZE_BASE, "n_train": 60000, "epochs": 6}, grid(weight_decay=[0.0, 3e-3]), [0])],
        },
        results="05_vision/fmnist-size",
    ),
]  # fmt: skip

#: name -> :class:`SweepSpec`: the sweeps that ``python -m wdlib.sweep NAME`` and the chapters run.
SWEEPS: dict[str, SweepSpec] = {s.name: s for s in _SWEEP_LIST}

#: chapter -> the sweeps whose ``full`` profile it publishes from ``data/results/<chapter>/``.
CHAPTER_SWEEPS: dict[str, list[str]] = {"05_vision": ["fmnist-optimizers", "fmnist-bn", "fmnist-size"]}


def project_root(start: str | Path | None = None) -> Path:
    """The repository root (the folder holding ``data/results`` and ``pyproject.toml``).

    Searched upwards from ``start`` (default: the working directory, where
    papermill runs a chapter), then from this package's folder; the working
    directory if neither finds one.
    """
    for origin in (Path(start or Path.cwd()).resolve(), Path(__file__).resolve().parent):
        for folder in (origin, *origin.parents):
            if (folder / "data" / "results").is_dir() and (folder / "pyproject.toml").is_file():
                return folder
    return Path.cwd()


def results_folder(name: str, root: str | Path | None = None) -> Path:
    """``<root>/data/results/<folder>``: where sweep ``name``'s committed full profile lives."""
    spec = _spec(name)
    if spec.results is None:
        raise ValueError(f"sweep {name!r} has no committed results folder")
    return Path(root or project_root()) / "data" / "results" / spec.results


def _spec(name: str) -> SweepSpec:
    if name not in SWEEPS:
        raise ValueError(f"unknown sweep {name!r}; choose one of {', '.join(SWEEPS)}")
    return SWEEPS[name]


def load_results(name: str, profile: str = "full", *, seed: int = 0, overrides: Mapping | None = None,
                 recompute: bool = False, root: str | Path | None = None, store: str | Path | None = None,
                 executor=None, threads: int | None = None, progress: bool | None = False,
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The run table and histories of a named sweep's profile, loaded or computed.

    The ``full`` profile is read from its committed folder (:func:`results_folder`)
    unless ``recompute``.  ``full`` with ``recompute=True`` runs (resumably) into
    ``store``, by default ``<root>/runs/<name>-full``, so a recomputation never
    touches the committed files; every other profile runs into ``store`` or, by
    default, a fresh temporary folder, so that it always exercises the code.
    ``seed`` and ``overrides`` change the configurations as
    :meth:`SweepSpec.configs` says; committed results exist for ``seed=0`` and
    no overrides only.

    Returns ``(runs, history)``: one row per configuration in the profile's
    order, and those runs' histories.
    """
    spec = _spec(name)
    configs = spec.configs(profile, seed=seed, overrides=overrides)
    keys = [run_key(c) for c in configs]
    sweep_name = f"{name}:{profile}"
    root = Path(root) if root is not None else project_root()
    with tempfile.TemporaryDirectory(prefix=f"wdlib-{name}-") as tmp:
        if profile == "full" and not recompute and store is None:
            folder = results_folder(name, root)
            st = Store(folder, sweep=sweep_name)
            missing = len(set(keys) - st.finished())
            if missing:
                raise FileNotFoundError(
                    f"{folder} holds {len(st.finished())} runs of sweep {name!r} but not {missing} of the "
                    f"{len(keys)} that these settings need (committed results cover seed=0 and the default sizes "
                    f"only). Pass recompute=True to compute them into runs/, or regenerate the folder with "
                    f"`{spec.command()}`.")
        else:
            default = root / "runs" / f"{name}-{profile}" if profile == "full" else Path(tmp)
            st = Store(Path(store) if store is not None else default, sweep=sweep_name)
            run_sweep(spec.fn, configs, st, executor=executor, threads=threads, progress=progress)
        runs = st.runs().set_index("key").loc[keys].reset_index()
        hist = st.history()
    return runs, hist[hist["key"].isin(set(keys))].reset_index(drop=True)
