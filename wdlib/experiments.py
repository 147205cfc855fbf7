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
import torch

from . import data
from .config import Param, check_config
from .decay import _check_int
from .models import build_model
from .sweep import Store, expand, grid, run_key, run_sweep
from .tracking import NormTracker
from .train import OPTIMIZERS, SCHEDULES, fit, fit_lm, make_optimizer, numerics

__all__ = ["CHAPTER_SWEEPS", "LM_DEFAULTS", "LM_PARAMS", "SWEEPS", "TEXT_DEFAULTS", "TEXT_PARAMS", "VISION_DEFAULTS",
           "VISION_PARAMS", "SweepSpec", "lm_run", "load_results",
           "project_root", "results_folder", "text_embedding_run", "text_run", "text_steps_per_epoch", "vision_norms_run", "vision_run"]


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

# Types and ranges of the run functions' keys (wdlib.config): a bad value is refused before any data is loaded.
_SEED = Param(int, low=0)
_COUNT = Param(int, low=1)
_RATE = Param(float, low=0, low_open=True)
_NONNEG = Param(float, low=0)
_PROBABILITY = Param(float, low=0, high=1)  # dropout and momentum: [0, 1)
_DECAY_RULE = Param(str, choices=tuple(_DECAY_RULES), label="decay rule")
_OPTIMIZER = Param(str, choices=tuple(OPTIMIZERS), label="optimizer")
VISION_PARAMS = {
    "seed": _SEED, "model": Param(str, choices=("small_cnn",), label="vision model"), "batchnorm": Param(bool),
    "n_train": _COUNT, "n_test": _COUNT, "data_seed": _SEED, "optimizer": _OPTIMIZER, "lr": _RATE,
    "weight_decay": _NONNEG, "momentum": _PROBABILITY, "decay": _DECAY_RULE, "epochs": _COUNT,
    "batch_size": _COUNT, "schedule": Param(str, choices=SCHEDULES, label="schedule"), "eval_every": _COUNT,
    "track_every": _COUNT,
}  # fmt: skip


def _complete(config: Mapping, defaults: Mapping, who: str, params: Mapping[str, Param]) -> dict:
    """``config`` over ``defaults``, after refusing unknown keys, a missing seed, and a value of the wrong type
    or out of range (``params``)."""
    unknown = set(config) - set(defaults) - {"seed"}
    if unknown:
        raise ValueError(f"unknown {who} keys {sorted(unknown)}; known: seed, {', '.join(defaults)}")
    if "seed" not in config:
        raise ValueError(f"a {who} configuration needs a 'seed'")
    assert set(defaults) <= set(params), f"{who}: keys without a type: {set(defaults) - set(params)}"
    return check_config({**defaults, **config}, params, who)


def _vision_setup(config: Mapping, who: str, extra: Mapping | None = None):
    """Validate a vision configuration; return it completed, the model, its optimizer and the data."""
    c = _complete(config, {**VISION_DEFAULTS, **(extra or {})}, who, VISION_PARAMS)
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


def _fit(c, model, opt, train, test, hooks=(), stop_after=None) -> pd.DataFrame:
    return fit(model, opt, train, epochs=c["epochs"], batch_size=c["batch_size"], seed=c["seed"],
               evals={"train_eval": train, "test": test}, schedule=c["schedule"], eval_every=c["eval_every"],
               hooks=hooks, progress=False, stop_after=stop_after)  # fmt: skip


def _final_metrics(history: pd.DataFrame, model) -> dict:
    last = history.iloc[-1]
    return {"train_loss": float(last["train_eval_loss"]), "train_acc": float(last["train_eval_acc"]),
            "test_loss": float(last["test_loss"]), "test_acc": float(last["test_acc"]),
            "gap_acc": float(last["train_eval_acc"] - last["test_acc"]),
            "best_test_acc": float(history["test_acc"].max()), "weight_norm": _weight_norm(model)}  # fmt: skip


def vision_run(config: Mapping, *, stop_after: int | None = None) -> tuple[dict, pd.DataFrame]:
    """Train a small CNN on a stratified Fashion-MNIST subset; one sweep run.

    ``config`` holds ``seed`` (initialization, batch order) and any of
    :data:`VISION_DEFAULTS`: ``n_train`` images drawn from ``data_seed``
    (stratified), the first ``n_test`` test images, ``decay`` = ``"matrices"``
    (weights only; biases and BatchNorm parameters spared) or ``"all"``.

    Returns the final epoch's metrics (``train_loss``/``train_acc`` measured in
    eval mode on the training subset, ``test_loss``/``test_acc``,
    ``gap_acc`` = train − test accuracy, ``best_test_acc`` over the evaluated
    epochs, ``weight_norm``: the norm of all weight matrices and kernels) and the history.
    ``stop_after`` ends the run after that many epochs (a prefix of the
    history, for :func:`wdlib.recheck.recheck`; the metrics are then partial).
    """
    c, model, opt, train, test = _vision_setup(config, "vision_run")
    history = _fit(c, model, opt, train, test, stop_after=stop_after)
    return _final_metrics(history, model), history


def vision_norms_run(config: Mapping, *, stop_after: int | None = None) -> tuple[dict, pd.DataFrame]:
    """:func:`vision_run` that also follows the weights' norms and angular updates step by step.

    The extra key ``track_every`` (default 1) sets how often a
    :class:`~wdlib.tracking.NormTracker` records the model's scale-invariant
    weights (``model.scale_invariant``; with ``batchnorm=False``, every weight
    matrix and kernel).  The metrics are :func:`vision_run`'s; the history is
    the tracker's table (``step``, ``name``, ``norm``, ``angular_update``,
    ``lr``, ``effective_lr``) with ``epoch`` rows of the test accuracy left
    out: read them from the metrics.  ``stop_after``: as in :func:`vision_run`.
    """
    c, model, opt, train, test = _vision_setup(config, "vision_norms_run", {"track_every": 1})
    names = model.scale_invariant or [n for n, p in model.named_parameters() if p.dim() >= 2]
    tracker = NormTracker(model, names, optimizer=opt, every=_check_int(c["track_every"], "track_every"))
    tracker.record(0)
    history = _fit(c, model, opt, train, test, hooks=[tracker], stop_after=stop_after)
    table = tracker.to_frame()
    table.attrs.update(history.attrs)
    return _final_metrics(history, model), table


# --------------------------------------------------------------------------- #
# text: Kim's CNN on MR and SST-2, and a character transformer
# --------------------------------------------------------------------------- #
@functools.lru_cache(maxsize=4)
def _tokenized(dataset: str, split: str = "train"):
    if dataset == "mr":
        texts, labels = data.load_mr()
    else:
        texts, labels = data.load_sst2(split)
    return [data.tokenize(t) for t in texts], labels


#: Every key a :func:`text_run` configuration may hold, with its default (Kim 2014, CNN-rand).
TEXT_DEFAULTS = {
    "dataset": "mr", "folds": 10, "fold": 0, "data_seed": 0, "dev_fraction": 0.1, "n_train": 0,
    "embed_dim": 300, "maps": 100, "dropout": 0.5, "max_norm": 3.0, "optimizer": "adadelta", "lr": 1.0,
    "weight_decay": 0.0, "decay_embeddings": False, "epochs": 25, "batch_size": 50,
}  # fmt: skip
TEXT_PARAMS = {
    "seed": _SEED, "dataset": Param(str, choices=("mr", "sst2"), label="text dataset"), "folds": Param(int, low=2),
    "fold": Param(int, low=0), "data_seed": _SEED, "dev_fraction": Param(float, low=0, high=1, low_open=True),
    "n_train": Param(int, low=0), "embed_dim": _COUNT, "maps": _COUNT, "dropout": _PROBABILITY, "max_norm": _NONNEG,
    "optimizer": _OPTIMIZER, "lr": _RATE, "weight_decay": _NONNEG, "decay_embeddings": Param(bool),
    "epochs": _COUNT, "batch_size": _COUNT,
}  # fmt: skip


def _text_splits(c: Mapping) -> dict:
    """The train, dev and test texts and labels of a completed text configuration."""
    if c["dataset"] == "mr":
        tokens, labels = _tokenized("mr")
        folds = _check_int(c["folds"], "folds", low=2)
        if not isinstance(c["fold"], int) or not 0 <= c["fold"] < folds:
            raise ValueError(f"fold must be an integer in [0, {folds}), got {c['fold']!r}")
        train_idx, test_idx = data.kfold_indices(len(tokens), folds, c["data_seed"])[c["fold"]]
        n_dev = max(1, round(c["dev_fraction"] * len(train_idx)))  # Kim: 10% of the training folds for early stopping
        perm = train_idx[torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(c["data_seed"]))]
        dev_idx, train_idx = perm[:n_dev], perm[n_dev:]
        splits = {name: ([tokens[i] for i in idx.tolist()], labels[idx])
                  for name, idx in (("train", train_idx), ("dev", dev_idx), ("test", test_idx))}  # fmt: skip
    else:
        splits = {name: _tokenized("sst2", name) for name in ("train", "dev", "test")}
    if c["n_train"]:
        keep = data.subset_indices(len(splits["train"][0]), _check_int(c["n_train"], "n_train"), c["data_seed"],
                                   labels=splits["train"][1])  # fmt: skip
        splits["train"] = ([splits["train"][0][i] for i in keep.tolist()], splits["train"][1][keep])
    return splits


def _text_setup(config: Mapping, who: str):
    """Validate a text configuration; return it completed, the vocabulary, model, optimizer and the splits."""
    c = _complete(config, TEXT_DEFAULTS, who, TEXT_PARAMS)
    splits = _text_splits(c)
    vocab = data.Vocab.build(splits["train"][0])
    length = max(len(t) for toks, _ in splits.values() for t in toks)
    encoded = {name: (data.pad_sequences([vocab.encode(t) for t in toks], length, pad_left=4), y)
               for name, (toks, y) in splits.items()}  # fmt: skip
    model = build_model("textcnn", seed=c["seed"], vocab_size=len(vocab), embed_dim=c["embed_dim"], maps=c["maps"],
                        dropout=c["dropout"])  # fmt: skip
    opt = make_optimizer(model, c["optimizer"], lr=c["lr"], weight_decay=c["weight_decay"],
                         decay_embeddings=bool(c["decay_embeddings"]))  # fmt: skip
    return c, vocab, model, opt, encoded


def _text_fit(c, model, opt, encoded, stop_after=None) -> tuple[dict, pd.DataFrame]:
    max_norm = {"fc.weight": float(c["max_norm"])} if c["max_norm"] else None
    history = fit(model, opt, encoded["train"], epochs=c["epochs"], batch_size=c["batch_size"], seed=c["seed"],
                  evals={"dev": encoded["dev"], "test": encoded["test"]}, max_norm=max_norm, progress=False,
                  stop_after=stop_after)  # fmt: skip
    best = int(history["dev_acc"].to_numpy().argmax())  # the first epoch with the best dev accuracy
    metrics = {"test_acc": float(history["test_acc"].iloc[best]), "dev_acc": float(history["dev_acc"].iloc[best]),
               "best_epoch": int(history["epoch"].iloc[best]), "final_test_acc": float(history["test_acc"].iloc[-1]),
               "train_acc": float(history["train_acc"].iloc[-1]), "test_loss": float(history["test_loss"].iloc[best]),
               "weight_norm": _weight_norm(model)}  # fmt: skip
    return metrics, history


def text_steps_per_epoch(config: Mapping) -> int:
    """Optimizer steps per epoch of :func:`text_run` for ``config`` (its training split in batches), without training."""
    c = _complete(config, TEXT_DEFAULTS, "text_steps_per_epoch", TEXT_PARAMS)
    return math.ceil(len(_text_splits(c)["train"][0]) / _check_int(c["batch_size"], "batch_size"))


def text_run(config: Mapping, *, stop_after: int | None = None) -> tuple[dict, pd.DataFrame]:
    """Kim's (2014) CNN-rand on MR (one fold of ``folds``-fold CV) or SST-2; one sweep run.

    ``config`` holds ``seed`` and any of :data:`TEXT_DEFAULTS`.  MR: the
    ``fold``-th fold of :func:`wdlib.data.kfold_indices` is the test set and
    ``dev_fraction`` of the rest the dev set; SST-2: GLUE's train phrases, dev
    and the labelled test sentences.  The vocabulary is built from the training
    texts; sentences are padded to the longest with Kim's 4 leading pads.
    ``max_norm`` = 0 turns Kim's constraint off; ``n_train`` > 0 trains on a
    stratified subset.

    Returns the metrics at the epoch with the best dev accuracy (Kim's early
    stopping: ``test_acc``, ``dev_acc``, ``best_epoch``, ``test_loss``), the
    last epoch's ``final_test_acc`` and ``train_acc``, the ``weight_norm``, and
    the per-epoch history.  ``stop_after``: as in :func:`vision_run`.
    """
    c, _, model, opt, encoded = _text_setup(config, "text_run")
    return _text_fit(c, model, opt, encoded, stop_after=stop_after)


def text_embedding_run(config: Mapping) -> tuple[dict, pd.DataFrame]:
    """:func:`text_run` whose history is the embedding-row norms against training frequency.

    Words are grouped by training count in powers of two (``count_low`` = 1,
    2, 4, …: counts in ``[count_low, 2·count_low)``); each row gives the
    number of words and the mean row norm of their embeddings at
    initialization and after training.
    """
    c, vocab, model, opt, encoded = _text_setup(config, "text_embedding_run")
    init = model.embedding.weight.detach().double().norm(dim=1).numpy()
    metrics, _ = _text_fit(c, model, opt, encoded)
    final = model.embedding.weight.detach().double().norm(dim=1).numpy()
    freq = vocab.frequency().numpy()
    words = freq > 0
    low = 2 ** np.floor(np.log2(freq[words])).astype(int)
    table = (pd.DataFrame({"count_low": low, "init_norm": init[words], "norm": final[words]})
             .groupby("count_low").agg(words=("norm", "size"), init_norm=("init_norm", "mean"), norm=("norm", "mean"))
             .reset_index())  # fmt: skip
    table.attrs.update(numerics(model))
    return metrics, table


@functools.lru_cache(maxsize=1)
def _shakespeare():
    text = data.load_tinyshakespeare()
    chars = sorted(set(text))
    lookup = {ch: i for i, ch in enumerate(chars)}
    tokens = torch.tensor([lookup[ch] for ch in text], dtype=torch.long)
    n = int(0.9 * len(tokens))  # nanoGPT's shakespeare_char split
    return len(chars), tokens[:n], tokens[n:]


#: Every key an :func:`lm_run` configuration may hold, with its default: nanoGPT's shakespeare_char CPU recipe.
LM_DEFAULTS = {
    "n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 64, "dropout": 0.0, "batch_size": 12, "steps": 2000,
    "lr": 1e-3, "weight_decay": 0.1, "decay": "matrices", "schedule": "cosine", "warmup": 100, "final_lr": 1e-4,
    "eval_every": 250, "eval_batches": 20, "grad_clip": 1.0,
}  # fmt: skip
LM_PARAMS = {
    "seed": _SEED, "n_layer": _COUNT, "n_head": _COUNT, "n_embd": _COUNT, "block_size": _COUNT,
    "dropout": _PROBABILITY, "batch_size": _COUNT, "steps": _COUNT, "lr": _RATE, "weight_decay": _NONNEG,
    "decay": _DECAY_RULE, "schedule": Param(str, choices=("cosine", "constant"), label="lm schedule"),
    "warmup": Param(int, low=0), "final_lr": _NONNEG, "eval_every": _COUNT, "eval_batches": _COUNT,
    "grad_clip": _NONNEG,
}  # fmt: skip


def lm_run(config: Mapping, *, stop_after: int | None = None) -> tuple[dict, pd.DataFrame]:
    """A character transformer on Tiny Shakespeare with AdamW (betas 0.9, 0.99); one sweep run.

    ``decay`` = ``"matrices"`` decays tensors with two or more dimensions only
    (nanoGPT's rule: weight matrices and embeddings; biases and LayerNorm
    spared), ``"all"`` every parameter.  ``schedule`` = ``"cosine"`` (from
    ``lr`` to ``final_lr`` after ``warmup`` steps) or ``"constant"`` (after
    the same warm-up).  Returns the final and best ``val_loss``, the final
    ``train_loss`` (both measured on fixed evaluation windows) and the
    ``weight_norm``, and the history every ``eval_every`` steps.  ``stop_after``
    ends the run after that many steps (see :func:`vision_run`).
    """
    c = _complete(config, LM_DEFAULTS, "lm_run", LM_PARAMS)
    vocab_size, train_tokens, val_tokens = _shakespeare()
    model = build_model("char_transformer", seed=c["seed"], vocab_size=vocab_size, block_size=c["block_size"],
                        n_layer=c["n_layer"], n_head=c["n_head"], n_embd=c["n_embd"], dropout=c["dropout"])  # fmt: skip
    opt = make_optimizer(model, "adamw", lr=c["lr"], weight_decay=c["weight_decay"], betas=(0.9, 0.99),
                         **_DECAY_RULES[c["decay"]])  # fmt: skip
    final = c["final_lr"] / c["lr"] if c["schedule"] == "cosine" else 1.0
    history = fit_lm(model, opt, train_tokens, val_tokens, steps=c["steps"], batch_size=c["batch_size"],
                     block_size=c["block_size"], seed=c["seed"], eval_every=c["eval_every"],
                     eval_batches=c["eval_batches"], schedule=c["schedule"], warmup=c["warmup"], final_lr=final,
                     grad_clip=c["grad_clip"] or None, progress=False, stop_after=stop_after)  # fmt: skip
    last = history.iloc[-1] if len(history) else {"val_loss": math.nan, "train_loss": math.nan}  # stopped early
    metrics = {"val_loss": float(last["val_loss"]), "train_loss": float(last["train_loss"]),
               "best_val_loss": float(history["val_loss"].min()) if len(history) else math.nan,
               "weight_norm": _weight_norm(model)}  # fmt: skip
    return metrics, history


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


_TEXT = "wdlib.experiments:text_run"
_TEXT_EMB = "wdlib.experiments:text_embedding_run"
_LM = "wdlib.experiments:lm_run"
#: the small MR setting of chapter 6's regularizer comparison: Kim's network at 64 dimensions, Adam, 4 epochs
_MR_SMALL = {"dataset": "mr", "embed_dim": 64, "optimizer": "adam", "lr": 1e-3, "epochs": 4, "max_norm": 0,
             "dropout": 0.5, "decay_embeddings": True}  # fmt: skip
_MR_SMOKE = {**_MR_SMALL, "embed_dim": 16, "maps": 8, "epochs": 1, "n_train": 300}
_MR_QUICK = {**_MR_SMALL, "n_train": 2000, "epochs": 3}
_LM_QUICK = {"n_layer": 2, "n_head": 2, "n_embd": 64, "block_size": 32, "batch_size": 8, "steps": 150, "warmup": 15,
             "eval_every": 50, "eval_batches": 4}  # fmt: skip


def _decay_points(l2, decoupled):
    """Adam + L2 over the λ grid ``l2``, then AdamW over ``decoupled``."""
    return grid(optimizer=["adam"], weight_decay=l2) + grid(optimizer=["adamw"], weight_decay=decoupled)


def _regularizers(base, folds, dropouts, l2, decoupled):
    """Chapter 6's comparison at one budget: nothing, Kim's max-norm (s = 3), Adam + L2 and AdamW over λ grids,
    every weight matrix decayed (embeddings too), with each dropout rate, on each MR fold."""
    regs = [{"optimizer": "adam", "weight_decay": 0.0, "max_norm": 0},
            {"optimizer": "adam", "weight_decay": 0.0, "max_norm": 3.0}] + _decay_points(l2, decoupled)  # fmt: skip
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
]  # fmt: skip

#: name -> :class:`SweepSpec`: the sweeps that ``python -m wdlib.sweep NAME`` and the chapters run.
SWEEPS: dict[str, SweepSpec] = {s.name: s for s in _SWEEP_LIST}

#: chapter -> the sweeps whose ``full`` profile it publishes from ``data/results/<chapter>/``.
CHAPTER_SWEEPS: dict[str, list[str]] = {"05_vision": ["fmnist-optimizers", "fmnist-bn", "fmnist-size"],
                                         "06_text": ["text-kim", "lm-decay", "text-regularizers"]}


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
