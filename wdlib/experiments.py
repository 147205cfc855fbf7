"""The book's named sweeps and their committed results.

:data:`SWEEPS` names the sweeps that the command line (``python -m
wdlib.sweep NAME --profile P``) and the chapters run: each is a run function
of :mod:`wdlib.runs` (named as ``"module:function"``, so nothing here imports
torch) and its profiles, from ``smoke`` (seconds, for tests) to ``full`` (the
committed results in ``data/results/``).  :func:`load_results` reads a
committed profile or computes another one with :mod:`wdlib.sweep`.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ._checks import integer as _check_int
from .config import RUN_DEFAULTS
from .sweep import Store, expand, grid, run_key, run_sweep

__all__ = ["CHAPTER_SWEEPS", "SWEEPS", "ResultsNote", "SweepSpec", "load_results", "project_root", "results_folder",
           "results_note"]


@dataclass(frozen=True)
class SweepSpec:
    """A named sweep: a run function (``"module:function"``) and its profiles.

    Each profile is one ``(base, points, seeds)`` block or a list of them (a
    dense grid on one seed plus a few rows on more seeds, say); its
    configurations are the blocks' :func:`~wdlib.sweep.expand`, in order, each
    configuration once.  ``results`` is the folder under ``data/results/`` that
    holds the committed ``full`` profile (the command line's default store for it).

    Attributes
    ----------
    name : str
        The sweep's name (its key in :data:`SWEEPS`).
    fn : str
        The run function, ``"module:function"``.
    description : str
        One line on what the sweep measures.
    profiles : mapping of str to tuple or sequence of tuples
        Profile name → ``(base, points, seeds)`` block(s).
    results : str, optional
        Folder under ``data/results/`` with the committed ``full`` profile.
    """

    name: str
    fn: str
    description: str
    profiles: Mapping[str, tuple | Sequence[tuple]] = field(default_factory=dict)
    results: str | None = None

    def datasets(self, profile: str) -> list[str]:
        """The datasets (keys of :func:`wdlib.data.datasets`) the profile's runs train on."""
        fixed = _RUN_DATA.get(self.fn)
        if fixed is not None:
            return [fixed]
        default = RUN_DEFAULTS.get(self.fn.rpartition(":")[2], {}).get("dataset")
        return sorted({c.get("dataset", default) for c in self.configs(profile)} - {None})

    def command(self, profile: str = "full") -> str:
        """The shell command that (re)computes this profile into its results folder."""
        return f"python -m wdlib.sweep {self.name} --profile {profile}"

    def configs(self, profile: str, *, seed: int = 0, overrides: Mapping | None = None) -> list[dict]:
        """The profile's configurations; ``seed`` is added to every run's seed, and ``overrides`` replace
        the values of keys that a block's base sets (a key its points vary keeps the points' values).

        Parameters
        ----------
        profile : str
            A key of :attr:`profiles`.
        seed : int, default 0
            Added to every configuration's ``seed``.
        overrides : mapping, optional
            New values for keys the profile's bases set.
        """
        if profile not in self.profiles:
            raise ValueError(f"no profile {profile!r}; choose one of {', '.join(self.profiles)}")
        seed = _check_int(seed, "seed", low=0)
        overrides = dict(overrides or {})
        parts = self.profiles[profile]
        if isinstance(parts, tuple) and len(parts) == 3 and isinstance(parts[0], Mapping):
            parts = [parts]
        settable = {k for base, _, _ in parts for k in base}
        unused = set(overrides) - settable
        if unused:
            raise ValueError(f"sweep profile {profile!r} has no setting {sorted(unused)} to override; it sets "
                             f"{sorted(settable)}")
        out, seen = [], set()
        for base, points, seeds in parts:
            base = {**base, **{k: v for k, v in overrides.items() if k in base}}
            for config in expand(base, points, [s + seed for s in seeds]):
                key = run_key(config)
                if key not in seen:
                    seen.add(key)
                    out.append(config)
        return out


#: The dataset a run function trains on; the text runs name theirs (``config["dataset"]``).
_RUN_DATA = {"wdlib.runs:vision_run": "fashion-mnist", "wdlib.runs:vision_norms_run": "fashion-mnist",
             "wdlib.runs:lm_run": "tinyshakespeare"}
_VISION = "wdlib.runs:vision_run"
_NORMS = "wdlib.runs:vision_norms_run"
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
                      grid(weight_decay=list(extra_sgd_wds)), matched_seeds))
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
            ({**base, "batchnorm": False}, grid(weight_decay=wds, decay=["matrices", "all"]), seeds)]


# --------------------------------------------------------------------------- #
# chapter 5's study (STUDY.md): a validation split, bfloat16, paired seeds
# --------------------------------------------------------------------------- #
#: Every run of the study: 10,000 validation images held out of the 60,000 (fixed by data_seed 0), the whole
#: test set for reporting, bfloat16 autocast and channels_last (paired bf16-vs-float32 seeds differ by less than
#: their noise: wdlib.benchmarks.precision).
_STUDY = {"n_val": 10000, "n_test": 10000, "precision": "bfloat16", "memory_format": "channels_last"}
_STUDY_QUICK = {**_STUDY, "n_val": 500, "n_test": 500}
_STUDY_SMOKE = {**_STUDY, "n_val": 200, "n_test": 200}
_HALF_DECADES = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0]


def _decades(low: float, high: float) -> list[float]:
    """The half-decade grid values from ``low`` to ``high`` inclusive."""
    return [v for v in _HALF_DECADES if low * (1 - 1e-9) <= v <= high * (1 + 1e-9)]


#: The small-data regime of the old chapter (1,000 images, no BatchNorm, constant lr, 30 epochs), with the protocol.
_SMALL = {**_STUDY, "n_train": 1000, "batch_size": 64, "epochs": 30, "eval_every": 10, "lr": 0.03}
#: The valley regime (Loshchilov & Hutter's Figure 2 at small scale): the small CNN with BatchNorm on 5,000
#: images, 15 epochs of a cosine schedule.
_BASIN = {**_STUDY, "batchnorm": True, "n_train": 5000, "batch_size": 128, "epochs": 15, "eval_every": 15,
          "schedule": "cosine"}
_BASIN_LRS = {"sgd": [0.003, 0.01, 0.03, 0.1, 0.3], "adam": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]}
#: λ of each optimizer in the paper's parameterization: the L2 coefficient for SGD and Adam + L2, the decay per
#: step λ_paper = lr · λ_torch for the decoupled SGDW and AdamW (Loshchilov & Hutter's η_t·λ with η_t = 1 at start).
_BASIN_WDS = {"sgd": _decades(1e-4, 1e-2), "sgdw": _decades(1e-5, 1e-3), "adam": _decades(1e-5, 1e-3),
              "adamw": _decades(1e-5, 1e-3)}


def _basin(base, lrs, wds, seeds):
    """Each optimizer's lr × λ grid (λ in the paper's parameterization, converted to torch's for the decoupled
    ones)."""
    parts = []
    for opt, family in _FAMILY.items():
        decoupled = opt in ("sgdw", "adamw")
        points = [{"lr": lr, "weight_decay": (wd / lr if decoupled else wd)} for lr in lrs[family] for wd in wds[opt]]
        parts.append(({**base, "optimizer": opt}, points, seeds))
    return parts


#: The realistic regime: ResNet-8 with BatchNorm on the whole training split (50,000 images), random crops and
#: flips, SGD with momentum, one warm-up epoch and a cosine schedule.
_RESNET = {**_STUDY, "model": "resnet", "depth": 8, "width": 16, "batchnorm": True, "n_train": 50000,
           "augment": "crop_flip", "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "batch_size": 128, "epochs": 10,
           "warmup_epochs": 1, "schedule": "cosine", "eval_every": 2}
_RESNET_WDS = [0.0, *_decades(1e-4, 1e-2)]
#: Stage two: λ = 0 and the λ that wdlib.study.select (lowest mean validation error, ties to the larger λ) chose
#: from the committed grid on seeds 0 and 1, on three more seeds (tests/test_experiments.py re-selects it).
_RESNET_CHOSEN = 1e-3
#: The timing of weight decay (Golatkar et al. 2019): ResNet-8 on 10,000 images for 10 epochs (790 steps), applied
#: throughout, never, only in the first 3 epochs or only after them.  λ = 5e-3 is fixed before the runs: it keeps
#: λ × steps of the realistic regime's chosen λ (1e-3 × 3,910 steps ≈ 5e-3 × 790).
_TIMING = {**_RESNET, "n_train": 10000, "epochs": 10, "eval_every": 5, "weight_decay": 5e-3}
def _windows(switch: int) -> list[dict]:
    """Decay throughout, only before epoch ``switch``, only from it on, and never."""
    return [{"decay_start": 0, "decay_stop": 0}, {"decay_start": 0, "decay_stop": switch},
            {"decay_start": switch, "decay_stop": 0}, {"weight_decay": 0.0}]


_WINDOWS = _windows(3)
#: Training-set size at a matched budget of optimizer steps (640 of 128 images: 64, 16 and 4 epochs of 1,280, 5,120
#: and 20,480 images, exactly), AdamW: the timescale τ = 1/(ηλ) of Wang & Aitchison, read in epochs.
_SCALE = {**_STUDY, "batchnorm": True, "optimizer": "adamw", "lr": 1e-3, "batch_size": 128, "schedule": "cosine"}
_SCALE_STEPS = 640
_SCALE_SIZES = [1280, 5120, 20480]


def _scale(base, sizes, steps, wds, seeds):
    """λ grids at each training-set size, the epochs set so that every size takes ``steps`` optimizer steps."""
    points = []
    for n in sizes:
        epochs = max(1, round(steps * base["batch_size"] / n))
        points += [{"n_train": n, "epochs": epochs, "eval_every": epochs, "weight_decay": wd} for wd in wds]
    return (base, points, seeds)


#: Rotational equilibrium (Wan et al. 2021; Kosson et al. 2024): the small CNN with BatchNorm, constant learning
#: rate for 1,600 steps: at least three times the slowest arm's norm timescale (1/(2ηλ) = 556 steps for AdamW at
#: λ = 0.3; 1/(4ηλ/(1-μ)) = 250 for SGD at λ = 2e-3); norms and angles every 10 steps.
_EQUILIBRIUM = {**_STUDY, "batchnorm": True, "n_train": 5120, "batch_size": 128, "epochs": 40, "eval_every": 40,
                "track_every": 10}
_EQUILIBRIUM_ARMS = [{"optimizer": "sgd", "lr": 0.05, "weight_decay": 5e-3},
                     {"optimizer": "sgd", "lr": 0.05, "weight_decay": 2e-3},
                     {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 1.0},
                     {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 0.3}]


_TEXT = "wdlib.runs:text_run"
_TEXT_EMB = "wdlib.runs:text_embedding_run"
_LM = "wdlib.runs:lm_run"
#: the small MR setting of chapter 6's regularizer comparison: Kim's network at 64 dimensions, Adam, 4 epochs
_MR_SMALL = {"dataset": "mr", "embed_dim": 64, "optimizer": "adam", "lr": 1e-3, "epochs": 4, "max_norm": 0,
             "dropout": 0.5, "decay_embeddings": True}
_MR_SMOKE = {**_MR_SMALL, "embed_dim": 16, "maps": 8, "epochs": 1, "n_train": 300}
_MR_QUICK = {**_MR_SMALL, "n_train": 2000, "epochs": 3}
_LM_QUICK = {"n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 32, "batch_size": 8, "steps": 150, "warmup": 15,
             "eval_every": 50, "eval_batches": 4}


def _decay_points(l2, decoupled):
    """Adam + L2 over the λ grid ``l2``, then AdamW over ``decoupled``."""
    return grid(optimizer=["adam"], weight_decay=l2) + grid(optimizer=["adamw"], weight_decay=decoupled)


def _regularizers(base, folds, dropouts, l2, decoupled):
    """Chapter 6's comparison at one budget: nothing, Kim's max-norm (s = 3), Adam + L2 and AdamW over λ grids,
    every weight matrix decayed (embeddings too), with each dropout rate, on each MR fold."""
    regs = [{"optimizer": "adam", "weight_decay": 0.0, "max_norm": 0},
            {"optimizer": "adam", "weight_decay": 0.0, "max_norm": 3.0}] + _decay_points(l2, decoupled)
    return (base, [{**r, "dropout": d, "fold": f} for d in dropouts for r in regs for f in folds], [0])


def _spared(base, folds, l2, decoupled):
    """The decay runs again with the embedding matrix spared (dropout 0.5)."""
    points = _decay_points(l2, decoupled)
    return ({**base, "decay_embeddings": False}, [{**p, "fold": f} for p in points for f in folds], [0])


def _lm_parts(base, seeds):
    """AdamW's λ ∈ {0, 0.1, 1} with nanoGPT's rule and cosine schedule on ``seeds``; decaying everything and a
    constant learning rate on the first seed."""
    return [(base, grid(weight_decay=[0.0, 0.1, 1.0]), seeds),
            ({**base, "decay": "all"}, grid(weight_decay=[0.1, 1.0]), seeds[:1]),
            ({**base, "schedule": "constant"}, grid(weight_decay=[0.0, 0.1, 1.0]), seeds[:1])]


# --------------------------------------------------------------------------- #
# chapter 6's study (STUDY.md): Kim's protocol, the regularizers with λ chosen on dev, the LM on fixed windows
# --------------------------------------------------------------------------- #
# Costs per run with `--executor processes:2 --threads 1` on this 2-core VM (both cores busy, which is how the
# sweeps run; a first estimate that halved one-process timings was twice too optimistic):
#   regularizer setting (64-d, Adam, 10 epochs), bfloat16: 40 s (measured over the first 10 runs of text-reg-study)
#   Kim's CNN-rand, MR fold, bfloat16: 17.8 s per epoch (float32: 28.4 s)    → 25 epochs ≈  445 s (float32 710 s)
#   Kim's CNN-rand, SST-2, bfloat16:  108.9 s per epoch (67,349 phrases)     → with patience 5, ≈ 10 epochs ≈ 1,100 s
#   character transformer, bfloat16, 4,000 steps and 8 fixed evaluations: ≈ 450 s (first runs: 541 s with a third
#     process on the cores)
# The full profiles together: text-kim-study ≈ 3 × 1,100 + 10 × 445 + 3 × 140 ≈ 8,200 s, text-reg-study
# 300 × 40 ≈ 12,000 s (measured: 1 h 51 min of wall time), lm-study 32 × 450 ≈ 14,400 s: ≈ 34,600 core-seconds,
# about 4.8 hours of the two cores.  Measured (data/results/06_text/metadata.json): 265 min of wall time in all,
# 8.8 core-hours of runs (text-kim-study 50 min, lm-study 105 min, text-reg-study 110 min).

#: Kim's (2014) CNN-rand as published (TextConfig's defaults: 300-d random embeddings, Adadelta, dropout 0.5,
#: max-norm 3, batches of 50) for Kim's 25 epochs with dev-set early stopping, in bfloat16 autocast (1.6× faster
#: here; three MR folds again in float32 check that it does not move the accuracy).  SST-2's epochs are 6× MR's
#: (67,349 phrases): its runs end after 5 epochs without a better dev accuracy (``patience``).
_KIM = {"epochs": 25, "precision": "bfloat16"}
_KIM_SMALL = {"n_train": 1000, "embed_dim": 32, "maps": 16, "epochs": 2, "precision": "bfloat16"}


def _kim(base, sst2_seeds, mr_folds, float32_folds, sst2_patience=0, float32_epochs=None):
    """SST-2 on ``sst2_seeds`` (the longest runs first), the MR folds, and MR folds again in float32 (for
    ``float32_epochs``: Adadelta's constant rate makes a shorter run the first epochs of the full one)."""
    sst2 = {**base, "dataset": "sst2", **({"patience": sst2_patience} if sst2_patience else {})}
    parts = [(sst2, [{}], sst2_seeds), ({**base, "dataset": "mr"}, grid(fold=mr_folds), [0])]
    if float32_folds:
        short = {"epochs": float32_epochs} if float32_epochs else {}
        parts.append(({**base, "dataset": "mr", "precision": "float32", **short}, grid(fold=float32_folds), [0]))
    return parts


#: The regularizers at one budget: Kim's network at 64 dimensions with Adam (lr 1e-3) for 10 epochs on MR folds,
#: dev-set early stopping, bfloat16.  λ grids in half decades whose ends lie beyond the optima of the earlier 4-epoch
#: runs (Adam + L2 best at 1e-5 to 1e-4, collapsing at 1e-2; AdamW's dev accuracy falling from 0.3 to 10).
_REG = {"dataset": "mr", "embed_dim": 64, "optimizer": "adam", "lr": 1e-3, "epochs": 10, "max_norm": 0,
        "precision": "bfloat16"}
_REG_L2 = [3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3]
_REG_DECOUPLED = [0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
#: With the embeddings spared only the convolutions and the classifier are decayed, and on the first fold the dev
#: accuracy was still at its best at the top of both grids: they go on for two more half decades.
_REG_SPARED_ABOVE = {"adam": [3e-3, 1e-2], "adamw": [30.0, 100.0]}


def _reg_study(base, folds, dropouts, l2, decoupled, spare=(False, True), spared_above=None):
    """Fold by fold (so that a partial store holds whole folds): for each dropout rate, no regularizer, Kim's
    max-norm (s = 3), and Adam + L2 over ``l2`` and AdamW over ``decoupled`` with the embedding matrix decayed
    (``spare`` False) and spared (True); ``spared_above`` (optimizer -> λs) extends the spared grids upwards."""
    points = []
    for d in dropouts:
        points += [{"dropout": d, "weight_decay": 0.0, "max_norm": 0}, {"dropout": d, "weight_decay": 0.0,
                                                                          "max_norm": 3.0}]
        for spared in spare:
            above = (spared_above or {}) if spared else {}
            points += [{"dropout": d, "decay_embeddings": not spared, "optimizer": opt, "weight_decay": wd}
                       for opt, wds in (("adam", l2), ("adamw", decoupled)) for wd in [*wds, *above.get(opt, [])]]
    return (base, [{**p, "fold": f} for f in folds for p in points], [0])


#: The character transformer (nanoGPT's CPU recipe) for 4,000 steps (3.1 passes over the training text), the
#: cosine schedule from 1e-3 down to 1e-5 (1 % of the peak) so that the end of the run sits at a near-zero learning
#: rate, losses on fixed windows (the whole validation split), weight-matrix norms at every evaluation, bfloat16.
_LM_STUDY = {"steps": 4000, "warmup": 100, "final_lr": 1e-5, "eval_every": 500, "eval_set": "fixed",
             "track_norms": True, "precision": "bfloat16"}
_LM_STUDY_QUICK = {**_LM_QUICK, "steps": 100, "warmup": 10, "eval_every": 50, "final_lr": 1e-5, "eval_set": "fixed",
                   "track_norms": True, "precision": "bfloat16"}


def _lm_study(base, wds, all_wds, constant_wds, seeds, main_seeds):
    """AdamW's λ grid with nanoGPT's rule (matrices and embeddings decayed) on ``main_seeds`` (the headline
    comparison), and on ``seeds`` every tensor decayed at ``all_wds`` and a constant learning rate at
    ``constant_wds`` (the equilibrium norms, and the contrast for the end of the schedule)."""
    return [(base, grid(weight_decay=wds), main_seeds),
            ({**base, "decay": "all"}, grid(weight_decay=all_wds), seeds),
            ({**base, "schedule": "constant"}, grid(weight_decay=constant_wds), seeds)]


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
    SweepSpec(
        "fmnist-small", _VISION,
        "chapter 5, small-data regime: the small CNN without BatchNorm on 1,000 images, SGD + L2 at a constant "
        "learning rate; λ chosen on 10,000 validation images, five seeds",
        {
            "smoke": ({**_STUDY_SMOKE, **_SMOKE}, grid(weight_decay=[0.0, 1e-2]), [0, 1]),
            "quick": ({**_STUDY_QUICK, **_QUICK, "epochs": 5, "eval_every": 5}, grid(weight_decay=[0.0, 1e-3, 1e-1]),
                      [0, 1]),
            "full": (_SMALL, grid(weight_decay=[0.0, *_decades(1e-4, 1.0)]), [0, 1, 2, 3, 4]),
        },
        results="05_vision/fmnist-small",
    ),
    SweepSpec(
        "fmnist-basin", _VISION,
        "chapter 5: Loshchilov & Hutter's Figure 2 at small scale: learning rate × λ for SGD + L2, SGDW, Adam + L2 "
        "and AdamW (λ in the paper's parameterization), the small CNN with BatchNorm on 5,000 images, two seeds",
        {
            "smoke": _basin({**_STUDY_SMOKE, **_SMOKE, "batchnorm": True}, {"sgd": [0.03], "adam": [1e-3]},
                            {"sgd": [1e-3], "sgdw": [3e-5], "adam": [1e-4], "adamw": [3e-5]}, [0]),
            "quick": _basin({**_STUDY_QUICK, **_QUICK, "batchnorm": True, "schedule": "cosine", "n_train": 256,
                             "n_val": 256, "n_test": 256, "epochs": 2, "eval_every": 2},
                            {"sgd": [0.01, 0.1], "adam": [3e-4, 3e-3]},
                            {"sgd": [1e-4, 1e-2], "sgdw": [1e-5, 1e-3], "adam": [1e-5, 1e-3], "adamw": [1e-5, 1e-3]},
                            [0, 1]),
            "full": _basin(_BASIN, _BASIN_LRS, _BASIN_WDS, [0, 1]),
        },
        results="05_vision/fmnist-basin",
    ),
    SweepSpec(
        "fmnist-resnet", _VISION,
        "chapter 5, realistic regime: ResNet-8 with BatchNorm on 50,000 images, random crops and flips, SGD with "
        "momentum, warm-up and cosine schedule, 10 epochs; λ chosen on 10,000 validation images",
        {
            "smoke": ({**_RESNET, **_STUDY_SMOKE, **_SMOKE, "width": 4, "warmup_epochs": 0},
                      grid(weight_decay=[0.0, 1e-3]), [0]),
            "quick": ({**_RESNET, **_STUDY_QUICK, "width": 4, "n_train": 1000, "epochs": 2, "eval_every": 1},
                      grid(weight_decay=[0.0, 1e-3]), [0, 1]),
            "full": [(_RESNET, grid(weight_decay=_RESNET_WDS), [0, 1]),
                     (_RESNET, grid(weight_decay=[0.0, _RESNET_CHOSEN]), [2, 3, 4])],
        },
        results="05_vision/fmnist-resnet",
    ),
    SweepSpec(
        "fmnist-timing", _VISION,
        "chapter 5: weight decay throughout, never, only in the first 3 of 10 epochs or only after them "
        "(Golatkar et al. 2019); ResNet-8 on 10,000 images with augmentation, five seeds",
        {
            "smoke": ({**_TIMING, **_STUDY_SMOKE, **_SMOKE, "width": 4, "warmup_epochs": 0, "epochs": 2},
                      _windows(1)[1:3], [0]),
            "quick": ({**_TIMING, **_STUDY_QUICK, "width": 4, "n_train": 500, "epochs": 4, "eval_every": 4},
                      _windows(1), [0, 1]),
            "full": (_TIMING, _WINDOWS, [0, 1, 2, 3, 4]),
        },
        results="05_vision/fmnist-timing",
    ),
    SweepSpec(
        "fmnist-scale", _VISION,
        "chapter 5 and 7: AdamW's λ at 1,280, 5,120 and 20,480 training images at a matched budget of 640 "
        "steps; the optimum read as λ and as the timescale τ = 1/(ηλ) in epochs",
        {
            "smoke": _scale({**_SCALE, **_STUDY_SMOKE}, [100, 200], 4, [0.1, 1.0], [0]),
            "quick": _scale({**_SCALE, **_STUDY_QUICK}, [500, 2000], 32, [0.1, 1.0], [0, 1]),
            "full": _scale(_SCALE, _SCALE_SIZES, _SCALE_STEPS, _decades(1e-2, 10.0), [0, 1]),
        },
        results="05_vision/fmnist-scale",
    ),
    SweepSpec(
        "fmnist-equilibrium", _NORMS,
        "chapter 5: rotational equilibrium of BatchNorm-fed weights under SGD with momentum and AdamW: measured "
        "norms and angular updates against their predictions",
        {
            "smoke": ({**_EQUILIBRIUM, **_STUDY_SMOKE, **_SMOKE, "track_every": 1}, _EQUILIBRIUM_ARMS[::2], [0]),
            "quick": ({**_EQUILIBRIUM, **_STUDY_QUICK, "n_train": 1024, "epochs": 6, "eval_every": 6},
                      _EQUILIBRIUM_ARMS[::2], [0]),
            "full": (_EQUILIBRIUM, _EQUILIBRIUM_ARMS, [0, 1]),
        },
        results="05_vision/fmnist-equilibrium",
    ),
    SweepSpec(
        "text-kim", _TEXT,
        "chapter 6: Kim's (2014) CNN-rand as published (300-d random embeddings, Adadelta, dropout 0.5, max-norm 3): "
        "SST-2 (GLUE train, dev-selected, test) and the ten folds of MR (10 epochs; Kim's 25 on fold 0)",
        {
            "smoke": [({"dataset": "sst2", "n_train": 300, "embed_dim": 16, "maps": 8, "epochs": 1}, [{}], [0]),
                      ({"embed_dim": 16, "maps": 8, "epochs": 1, "n_train": 300}, grid(fold=[0]), [0])],
            "quick": [({"dataset": "sst2", "n_train": 3000, "embed_dim": 64, "epochs": 2}, [{}], [0]),
                      ({"dataset": "mr", "embed_dim": 64, "epochs": 3}, grid(fold=[0, 1]), [0])],
            "full": [({"dataset": "sst2", "epochs": 3}, [{}], [0]),
                     ({"dataset": "mr", "epochs": 10}, grid(fold=list(range(10))), [0]),
                     ({"dataset": "mr", "epochs": 25}, grid(fold=[0]), [0])],  # Kim's 25 epochs, on one fold
        },
        results="06_text/text-kim",
    ),
    SweepSpec(
        "lm-decay", _LM,
        "chapter 6: a character transformer on Tiny Shakespeare with AdamW (nanoGPT's CPU recipe): λ, which "
        "tensors are decayed, cosine against constant learning rate",
        {
            "smoke": ({**_LM_QUICK, "steps": 20, "eval_every": 10, "warmup": 2}, grid(weight_decay=[0.0, 1.0]), [0]),
            "quick": _lm_parts(_LM_QUICK, [0]),
            "full": _lm_parts({}, [0, 1]),
        },
        results="06_text/lm-decay",
    ),
    SweepSpec(
        "text-regularizers", _TEXT_EMB,
        "chapter 6: none, max-norm, Adam + L2 and AdamW (λ grids), dropout on and off, at one budget on MR "
        "folds; embeddings decayed or spared; embedding-row norms against word frequency",
        {
            "smoke": [_regularizers(_MR_SMOKE, [0], [0.5], [1e-4], [1.0]), _spared(_MR_SMOKE, [0], [1e-4], [1.0])],
            "quick": [_regularizers(_MR_QUICK, [0], [0.0, 0.5], [1e-4], [1.0]), _spared(_MR_QUICK, [0], [1e-4], [1.0])],
            "full": [_regularizers(_MR_SMALL, [0, 1, 2], [0.0, 0.5], [1e-5, 1e-4, 1e-3, 1e-2], [0.3, 1.0, 3.0, 10.0]),
                     _spared(_MR_SMALL, [0, 1, 2], [1e-4, 1e-3], [1.0, 3.0])],
        },
        results="06_text/text-regularizers",
    ),
    SweepSpec(
        "text-kim-study", _TEXT,
        "chapter 6, the study: Kim's (2014) CNN-rand as published for his 25 epochs with dev-set early stopping, on "
        "SST-2 (three seeds, stopping after 5 epochs without a better dev accuracy) and the ten folds of MR (three "
        "folds' first 5 epochs again in float32)",
        {
            "smoke": _kim({**_KIM_SMALL, "n_train": 300, "embed_dim": 16, "maps": 8, "epochs": 1}, [0], [0], []),
            "quick": _kim(_KIM_SMALL, [0, 1], [0, 1], [0, 1], sst2_patience=1),
            # ≈ 8,200 s: SST-2 3 × 1,100 s, MR 10 × 445 s, float32 MR 3 × 140 s (5 epochs)
            "full": _kim(_KIM, [0, 1, 2], list(range(10)), [0, 1, 2], sst2_patience=5, float32_epochs=5),
        },
        results="06_text/text-kim-study",
    ),
    SweepSpec(
        "text-reg-study", _TEXT_EMB,
        "chapter 6, the study: none, max-norm, Adam + L2 and AdamW over half-decade λ grids (λ chosen on dev), "
        "dropout on and off, embeddings decayed and spared, at one budget (10 epochs) on five MR folds",
        {
            "smoke": _reg_study({**_REG, "embed_dim": 16, "maps": 8, "epochs": 1, "n_train": 300}, [0], [0.5],
                                [1e-4], [1.0], spare=(False,)),
            "quick": _reg_study({**_REG, "embed_dim": 16, "maps": 8, "epochs": 2, "n_train": 1000}, [0, 1], [0.5],
                                [1e-5, 1e-3], [0.1, 3.0]),
            # ≈ 12,000 s: 5 folds × 60 configurations × 40 s
            "full": _reg_study(_REG, [0, 1, 2, 3, 4], [0.0, 0.5], _REG_L2, _REG_DECOUPLED,
                               spared_above=_REG_SPARED_ABOVE),
        },
        results="06_text/text-reg-study",
    ),
    SweepSpec(
        "lm-study", _LM,
        "chapter 6, the study: the character transformer with AdamW, λ ∈ {0, 0.1, 0.3, 1} (five seeds), nanoGPT's "
        "rule against decaying every tensor and a cosine schedule to near zero against a constant rate (three "
        "seeds), losses on fixed windows and weight norms",
        {
            "smoke": _lm_study({**_LM_STUDY_QUICK, "steps": 20, "warmup": 2, "eval_every": 10}, [0.0, 1.0], [1.0],
                               [1.0], [0], [0]),
            "quick": _lm_study(_LM_STUDY_QUICK, [0.0, 0.1, 0.3, 1.0], [0.1, 1.0], [0.0, 0.3, 1.0], [0, 1], [0, 1]),
            # ≈ 14,400 s: 32 runs × 450 s (the headline λ grid on five seeds, the rest on three)
            "full": _lm_study(_LM_STUDY, [0.0, 0.1, 0.3, 1.0], [0.1, 1.0], [0.0, 1.0], [0, 1, 2], [0, 1, 2, 3, 4]),
        },
        results="06_text/lm-study",
    ),
]

#: name -> :class:`SweepSpec`: the sweeps that ``python -m wdlib.sweep NAME`` and the chapters run.
SWEEPS: dict[str, SweepSpec] = {s.name: s for s in _SWEEP_LIST}

#: chapter -> the sweeps whose ``full`` profile it publishes from ``data/results/<chapter>/``.
CHAPTER_SWEEPS: dict[str, list[str]] = {"05_vision": ["fmnist-small", "fmnist-resnet", "fmnist-basin",
                                                       "fmnist-timing", "fmnist-scale", "fmnist-equilibrium"],
                                         "06_text": ["text-kim-study", "text-reg-study", "lm-study"]}


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
    """``<root>/data/results/<folder>``: where sweep ``name``'s committed full profile lives.

    Parameters
    ----------
    name : str
        A key of :data:`SWEEPS` with committed results.
    root : path, optional
        Repository root; found from the package by default.
    """
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
                 complete: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The run table and histories of a named sweep's profile, loaded or computed.

    The ``full`` profile is read from its committed folder (:func:`results_folder`)
    unless ``recompute``.  ``full`` with ``recompute=True`` runs (resumably) into
    ``store``, by default ``<root>/runs/<name>-full``, so a recomputation never
    touches the committed files; every other profile runs into ``store`` or, by
    default, a fresh temporary folder, so that it always exercises the code.
    ``seed`` and ``overrides`` change the configurations as
    :meth:`SweepSpec.configs` says; committed results exist for ``seed=0`` and
    no overrides only.

    ``complete=True`` fills every configuration column the run function
    knows with its default where a run did not set it
    (:data:`wdlib.config.RUN_DEFAULTS`), so that a table can be filtered on
    any key without knowing the defaults.

    Returns ``(runs, history)``: one row per configuration in the profile's
    order, and those runs' histories.

    Parameters
    ----------
    name : str
        A key of :data:`SWEEPS`.
    profile : str, default "full"
        A profile of that sweep.
    seed : int, default 0
        Added to every run's seed (:meth:`SweepSpec.configs`).
    overrides : mapping, optional
        Configuration values to replace (:meth:`SweepSpec.configs`).
    recompute : bool, default False
        With ``"full"``: run the sweep instead of reading the committed results.
    root : path, optional
        Repository root; found from the package by default.
    store : path, optional
        Results store to run into (see above).
    executor : concurrent.futures.Executor, optional
        Runs the configurations, as in :func:`wdlib.sweep.run_sweep`.
    threads : int, optional
        Torch intra-op threads per run, as in :func:`wdlib.sweep.run_sweep`.
    progress : bool or None, default False
        Show a progress bar (None: :func:`wdlib.progress.show_progress` decides).
    complete : bool, default False
        Fill unset configuration columns with the run function's defaults.
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
    if complete:
        defaults = RUN_DEFAULTS[spec.fn.rpartition(":")[2]]
        conf = pd.DataFrame([{**defaults, **json.loads(c)} for c in runs["config"]], index=runs.index)
        runs = conf.join(runs.drop(columns=[c for c in conf.columns if c in runs.columns]))
        runs.insert(0, "key", runs.pop("key"))
    return runs, hist[hist["key"].isin(set(keys))].reset_index(drop=True)


@dataclass(frozen=True)
class ResultsNote:
    """How a chapter's committed results were made (``metadata.json`` of ``data/results/<chapter>/``)."""

    text: str  #: the command, wall time, machine and run counts, in a few lines (or "no committed results yet")
    wall_minutes: float  #: total wall time of the invocations that made them, in minutes (NaN without results)


def results_note(chapter: str, root: str | Path | None = None) -> ResultsNote:
    """The provenance note a chapter prints under its results: command, wall time, machine, runs per sweep.

    Parameters
    ----------
    chapter : str
        A chapter with committed results (a key of :data:`CHAPTER_SWEEPS`).
    root : path, optional
        Repository root; found from the package by default.
    """
    if chapter not in CHAPTER_SWEEPS:
        raise ValueError(f"unknown chapter {chapter!r}; chapters with committed results: {', '.join(CHAPTER_SWEEPS)}")
    path = Path(root or project_root()) / "data" / "results" / chapter / "metadata.json"
    if not path.is_file():
        return ResultsNote("no committed results yet", math.nan)
    meta = json.loads(path.read_text())
    wall = sum(s["wall_seconds"] for s in meta["sessions"])
    runs = ", ".join(f"{k} {v['runs']}" for k, v in meta["sweeps"].items())
    return ResultsNote(f"command: {meta['command']}\nwall time: {wall / 60:.1f} min over {len(meta['sessions'])} "
                       f"invocation(s) on {meta['sessions'][-1]['machine']}\nruns: {runs}", wall / 60)
