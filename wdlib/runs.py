"""The experiments' run functions: each trains one configuration and returns ``(metrics, history)``.

A run function is a pure function of one flat configuration (see
:mod:`wdlib.sweep`): it refuses unknown keys and values of the wrong type or
range before loading anything, completing it into its frozen config class
(:mod:`wdlib.config`), loads its data, builds its model from the seed, trains
and returns ``(metrics, history)``.  A run computes in the configuration's
``precision`` (and ``memory_format``), on :func:`wdlib.train.default_device`
(``$WDLIB_DEVICE``; the CPU unless set): the model and the run's tensors are
moved there once, and the history's ``attrs`` record where it ran.  The run functions whose history is a
record per epoch or step take ``stop_after`` to stop early with a prefix of it
(:func:`wdlib.recheck.recheck`).  The named sweeps that call them are in
:mod:`wdlib.experiments`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from . import data
from .config import (
    DECAY_RULES,
    LM_DEFAULTS,
    LM_PARAMS,
    TEXT_DEFAULTS,
    TEXT_PARAMS,
    VISION_DEFAULTS,
    VISION_PARAMS,
    LMConfig,
    TextConfig,
    VisionConfig,
    VisionNormsConfig,
)
from .decay import DecayWindow
from .models import build_model
from .study import calibration_error
from .tracking import NormTracker
from .train import RandomCropFlip, best_epoch, default_device, fit, fit_lm, make_optimizer, predict

__all__ = ["LM_DEFAULTS", "LM_PARAMS", "TEXT_DEFAULTS", "TEXT_PARAMS", "VISION_DEFAULTS", "VISION_PARAMS", "lm_run",
           "text_embedding_run", "text_run", "text_steps_per_epoch", "vision_norms_run", "vision_run"]


@functools.lru_cache(maxsize=2)
def _fashion_mnist(split: str):
    return data.load_fashion_mnist(split)


_DECAY_RULES = {"matrices": {}, "all": {"decay": ["*"]}}
assert tuple(_DECAY_RULES) == DECAY_RULES


def _vision_indices(c: VisionConfig, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The training subset and (with ``n_val``) the validation images, both stratified and drawn from ``data_seed``.

    Without a validation split the subset is what it always was; with one, the
    validation images are drawn first (the same for every run with this
    ``n_val`` and ``data_seed``, whatever its ``n_train``) and the training
    subset from the rest.
    """
    n = len(labels)
    if c.n_val == 0:
        if c.n_train > n:
            raise ValueError(f"n_train must be an integer in [1, {n}], got {c.n_train!r}")
        return data.subset_indices(n, c.n_train, c.data_seed, labels=labels), None
    if c.n_val + c.n_train > n:
        raise ValueError(f"n_train + n_val must be at most the {n} training images, got {c.n_train} + {c.n_val}: "
                         f"lower n_train to at most {n - c.n_val}")
    val = data.subset_indices(n, c.n_val, c.data_seed, labels=labels)
    rest = torch.ones(n, dtype=torch.bool)
    rest[val] = False
    rest = torch.nonzero(rest).flatten()
    train = rest[data.subset_indices(len(rest), c.n_train, c.data_seed, labels=labels[rest])]
    return train, val


def _vision_setup(config: Mapping, cls: type[VisionConfig]):
    """Validate a vision configuration; return it completed, the model, its optimizer and the data splits."""
    c = cls.from_mapping(config)
    x, y = _fashion_mnist("train")
    xt, yt = _fashion_mnist("test")
    if c.n_test > len(xt):  # type and lower bound checked by VisionConfig
        raise ValueError(f"n_test must be an integer in [1, {len(xt)}], got {c.n_test!r}")
    idx, val = _vision_indices(c, y)
    device = default_device()
    splits = {"train": (x[idx], y[idx]), "test": (xt[: c.n_test], yt[: c.n_test])}
    if val is not None:
        splits["val"] = (x[val], y[val])
    splits = {k: (a.to(device), b.to(device)) for k, (a, b) in splits.items()}
    size = {"depth": c.depth, "width": c.width} if c.model == "resnet" else {}
    model = build_model(c.model, seed=c.seed, batchnorm=c.batchnorm, **size).to(device)
    opt = make_optimizer(model, c.optimizer, lr=c.lr, weight_decay=c.weight_decay, momentum=c.momentum,
                         **_DECAY_RULES[c.decay])  # fmt: skip
    return c, model, opt, splits


def _weight_norm(model) -> float:
    # numpy's pairwise sum, not torch's: torch splits reductions by thread count, and Dask workers run 1 thread
    return math.sqrt(sum(float(np.sum(p.detach().double().cpu().numpy() ** 2)) for p in model.parameters()
                         if p.dim() >= 2))  # fmt: skip


#: Training images evaluated in eval mode for ``train_loss``/``train_acc`` when a run has a validation split.
_TRAIN_EVAL = 10000


def _evals(splits) -> dict:
    train = splits["train"]
    if "val" not in splits:
        return {"train_eval": train, "test": splits["test"]}
    return {"train_eval": tuple(t[:_TRAIN_EVAL] for t in train), "val": splits["val"], "test": splits["test"]}


def _fit(c, model, opt, splits, hooks=(), stop_after=None) -> pd.DataFrame:
    per_epoch = math.ceil(len(splits["train"][0]) / c.batch_size)
    hooks = list(hooks)
    if c.decay_start or c.decay_stop:
        if c.decay_stop and c.decay_stop <= c.decay_start:
            raise ValueError(f"decay_stop ({c.decay_stop}) must be 0 (the end) or > decay_start ({c.decay_start})")
        hooks.insert(0, DecayWindow(opt, c.decay_start * per_epoch, c.decay_stop * per_epoch or None))
    augment = None if c.augment == "none" else RandomCropFlip(pad=2, flip=c.augment == "crop_flip")
    return fit(model, opt, splits["train"], epochs=c.epochs, batch_size=c.batch_size, seed=c.seed,
               evals=_evals(splits), schedule=c.schedule, warmup=c.warmup_epochs * per_epoch,
               eval_every=c.eval_every, hooks=hooks, stop_after=stop_after, precision=c.precision,
               memory_format=c.memory_format, augment=augment)  # fmt: skip


def _final_metrics(history: pd.DataFrame, model, c, splits) -> dict:
    last = history.iloc[-1]
    metrics = {"train_loss": float(last["train_eval_loss"]), "train_acc": float(last["train_eval_acc"]),
               "test_loss": float(last["test_loss"]), "test_acc": float(last["test_acc"]),
               "gap_acc": float(last["train_eval_acc"] - last["test_acc"]),
               "best_test_acc": float(history["test_acc"].max()), "weight_norm": _weight_norm(model)}  # fmt: skip
    if "val" not in splits:
        return metrics
    del metrics["best_test_acc"]  # a maximum over test evaluations is a choice made on the test set
    evaluated = history.dropna(subset=["val_acc"])
    best = evaluated.iloc[int(evaluated["val_acc"].to_numpy().argmax())]  # the first epoch with the best val acc
    metrics.update(val_loss=float(last["val_loss"]), val_acc=float(last["val_acc"]),
                   best_val_acc=float(best["val_acc"]), best_val_epoch=int(best["epoch"]),
                   test_acc_at_best_val=float(best["test_acc"]))  # fmt: skip
    for name in ("val", "test"):
        x, y = splits[name]
        logits = predict(model, x, precision=c.precision, memory_format=c.memory_format)
        probs = torch.softmax(logits.double(), dim=1).cpu().numpy()
        metrics[f"{name}_ece"] = calibration_error(probs, y.cpu().numpy())
    return metrics


def vision_run(config: Mapping, *, stop_after: int | None = None) -> tuple[dict, pd.DataFrame]:
    """Train a small CNN or a ResNet on a stratified Fashion-MNIST subset; one sweep run.

    ``config`` holds ``seed`` (initialization, batch order, augmentation) and
    any of :data:`VISION_DEFAULTS`: ``n_train`` images drawn from
    ``data_seed`` (stratified), the first ``n_test`` test images, ``decay`` =
    ``"matrices"`` (weights only; biases and BatchNorm parameters spared) or
    ``"all"``.  With ``n_val`` > 0, that many training images (stratified,
    fixed by ``data_seed``) are held out for validation first and the
    subset is drawn from the rest (see :class:`~wdlib.config.VisionConfig` for
    the augmentation, warm-up and decay-window keys).

    Returns the final epoch's metrics (``train_loss``/``train_acc`` measured in
    eval mode on the training subset — its first 10,000 images when there is
    a validation split —, ``test_loss``/``test_acc``, ``gap_acc`` = train −
    test accuracy, ``weight_norm``: the norm of all weight matrices and
    kernels; without a validation split ``best_test_acc`` over the evaluated
    epochs; with one, ``val_loss``/``val_acc``, ``best_val_acc`` and its
    ``best_val_epoch`` with ``test_acc_at_best_val``, and the expected
    calibration errors ``val_ece``/``test_ece``) and the history.
    ``stop_after`` ends the run after that many epochs (a prefix of the
    history, for :func:`wdlib.recheck.recheck`; the metrics are then partial).
    """
    c, model, opt, splits = _vision_setup(config, VisionConfig)
    history = _fit(c, model, opt, splits, stop_after=stop_after)
    return _final_metrics(history, model, c, splits), history


def vision_norms_run(config: Mapping, *, stop_after: int | None = None) -> tuple[dict, pd.DataFrame]:
    """:func:`vision_run` that also follows the weights' norms and angular updates step by step.

    The extra key ``track_every`` (default 1) sets how often a
    :class:`~wdlib.tracking.NormTracker` records (the angle is always that of
    one step, the one before each record) the model's scale-invariant
    weights (``model.scale_invariant``; with ``batchnorm=False``, every weight
    matrix and kernel).  The metrics are :func:`vision_run`'s; the history is
    the tracker's table (``step``, ``name``, ``norm``, ``angular_update``,
    ``lr``, ``effective_lr``) with ``epoch`` rows of the test accuracy left
    out: read them from the metrics.  ``stop_after``: as in :func:`vision_run`.
    """
    c, model, opt, splits = _vision_setup(config, VisionNormsConfig)
    names = model.scale_invariant or [n for n, p in model.named_parameters() if p.dim() >= 2]
    tracker = NormTracker(model, names, optimizer=opt, every=c.track_every, per_step=True)
    tracker.record(0)
    history = _fit(c, model, opt, splits, hooks=[tracker], stop_after=stop_after)
    table = tracker.to_frame()
    table.attrs.update(history.attrs)
    return _final_metrics(history, model, c, splits), table


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




def _text_splits(c: TextConfig) -> dict:
    """The train, dev and test texts and labels of a completed text configuration."""
    if c.dataset == "mr":
        tokens, labels = _tokenized("mr")
        folds = c.folds
        if c.fold >= folds:  # types and lower bounds checked by TextConfig
            raise ValueError(f"fold must be an integer in [0, {folds}), got {c.fold!r}")
        train_idx, test_idx = data.kfold_indices(len(tokens), folds, c.data_seed)[c.fold]
        n_dev = max(1, round(c.dev_fraction * len(train_idx)))  # Kim: 10% of the training folds for early stopping
        perm = train_idx[torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(c.data_seed))]
        dev_idx, train_idx = perm[:n_dev], perm[n_dev:]
        splits = {name: ([tokens[i] for i in idx.tolist()], labels[idx])
                  for name, idx in (("train", train_idx), ("dev", dev_idx), ("test", test_idx))}  # fmt: skip
    else:
        splits = {name: _tokenized("sst2", name) for name in ("train", "dev", "test")}
    if c.n_train:
        keep = data.subset_indices(len(splits["train"][0]), c.n_train, c.data_seed,
                                   labels=splits["train"][1])  # fmt: skip
        splits["train"] = ([splits["train"][0][i] for i in keep.tolist()], splits["train"][1][keep])
    return splits


def _text_setup(config: Mapping, who: str):
    """Validate a text configuration; return it completed, the vocabulary, model, optimizer and the splits."""
    c = TextConfig.from_mapping(config, who)
    splits = _text_splits(c)
    vocab = data.Vocab.build(splits["train"][0])
    length = max(len(t) for toks, _ in splits.values() for t in toks)
    device = default_device()
    encoded = {name: (data.pad_sequences([vocab.encode(t) for t in toks], length, pad_left=4).to(device), y.to(device))
               for name, (toks, y) in splits.items()}  # fmt: skip
    model = build_model("textcnn", seed=c.seed, vocab_size=len(vocab), embed_dim=c.embed_dim, maps=c.maps,
                        dropout=c.dropout).to(device)  # fmt: skip
    opt = make_optimizer(model, c.optimizer, lr=c.lr, weight_decay=c.weight_decay,
                         decay_embeddings=bool(c.decay_embeddings))  # fmt: skip
    return c, vocab, model, opt, encoded


def _text_fit(c, model, opt, encoded, stop_after=None) -> tuple[dict, pd.DataFrame]:
    max_norm = {"fc.weight": float(c.max_norm)} if c.max_norm else None
    history = fit(model, opt, encoded["train"], epochs=c.epochs, batch_size=c.batch_size, seed=c.seed,
                  evals={"dev": encoded["dev"], "test": encoded["test"]}, max_norm=max_norm,
                  stop_after=stop_after, precision=c.precision, memory_format="contiguous",
                  patience=c.patience or None, monitor="dev_acc")  # fmt: skip
    best = best_epoch(history["dev_acc"])  # the first epoch with the best dev accuracy
    metrics = {"test_acc": float(history["test_acc"].iloc[best]), "dev_acc": float(history["dev_acc"].iloc[best]),
               "best_epoch": int(history["epoch"].iloc[best]), "final_test_acc": float(history["test_acc"].iloc[-1]),
               "train_acc": float(history["train_acc"].iloc[-1]), "test_loss": float(history["test_loss"].iloc[best]),
               "weight_norm": _weight_norm(model)}  # fmt: skip
    return metrics, history


def text_steps_per_epoch(config: Mapping) -> int:
    """Optimizer steps per epoch of :func:`text_run` for ``config`` (its training split in batches), without training."""
    c = TextConfig.from_mapping(config, "text_steps_per_epoch")
    return math.ceil(len(_text_splits(c)["train"][0]) / c.batch_size)


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
    init = model.embedding.weight.detach().double().norm(dim=1).cpu().numpy()
    metrics, history = _text_fit(c, model, opt, encoded)
    final = model.embedding.weight.detach().double().norm(dim=1).cpu().numpy()
    freq = vocab.frequency().numpy()
    words = freq > 0
    low = 2 ** np.floor(np.log2(freq[words])).astype(int)
    table = (pd.DataFrame({"count_low": low, "init_norm": init[words], "norm": final[words]})
             .groupby("count_low").agg(words=("norm", "size"), init_norm=("init_norm", "mean"), norm=("norm", "mean"))
             .reset_index())  # fmt: skip
    table.attrs.update(history.attrs)
    return metrics, table


class _MatrixNorms:
    """A :func:`wdlib.train.fit_lm` hook: the norm of each weight matrix at the steps the history records."""

    def __init__(self, model, every: int, steps: int):
        self.params = {n: p for n, p in model.named_parameters() if p.dim() >= 2}
        self.every, self.steps, self.rows = every, steps, []

    def __call__(self, step: int, model=None, optimizer=None) -> None:
        if step % self.every == 0 or step == self.steps:
            # numpy's pairwise sum, as _weight_norm: the same bits whatever the thread count
            norms = {f"norm:{n}": math.sqrt(float(np.sum(p.detach().double().cpu().numpy() ** 2)))
                     for n, p in self.params.items()}  # fmt: skip
            self.rows.append({"step": step, **norms})


@functools.lru_cache(maxsize=1)
def _shakespeare():
    text = data.load_tinyshakespeare()
    chars = sorted(set(text))
    lookup = {ch: i for i, ch in enumerate(chars)}
    tokens = torch.tensor([lookup[ch] for ch in text], dtype=torch.long)
    n = int(0.9 * len(tokens))  # nanoGPT's shakespeare_char split
    return len(chars), tokens[:n], tokens[n:]




def lm_run(config: Mapping, *, stop_after: int | None = None) -> tuple[dict, pd.DataFrame]:
    """A character transformer on Tiny Shakespeare with AdamW (betas 0.9, 0.99); one sweep run.

    ``decay`` = ``"matrices"`` decays tensors with two or more dimensions only
    (nanoGPT's rule: weight matrices and embeddings; biases and LayerNorm
    spared), ``"all"`` every parameter.  ``schedule`` = ``"cosine"`` (from
    ``lr`` to ``final_lr`` after ``warmup`` steps) or ``"constant"`` (after
    the same warm-up).  Returns the final and best ``val_loss``, the final
    ``train_loss`` (both measured on fixed evaluation windows) and the
    ``weight_norm``, and the history every ``eval_every`` steps.  ``eval_set``
    chooses the evaluation windows (:func:`wdlib.train.fit_lm`: ``"fixed"``
    measures every run on the same windows, the whole validation split); with
    ``track_norms`` the history also holds ``norm:<name>``, the norm of each
    weight matrix (the tied token embedding and head, the position embedding,
    each block's ``qkv``, ``proj``, ``fc`` and ``out``) at each evaluation.
    ``stop_after`` ends the run after that many steps (see :func:`vision_run`).
    """
    c = LMConfig.from_mapping(config)
    vocab_size, train_tokens, val_tokens = _shakespeare()
    device = default_device()
    train_tokens, val_tokens = train_tokens.to(device), val_tokens.to(device)
    model = build_model("char_transformer", seed=c.seed, vocab_size=vocab_size, block_size=c.block_size,
                        n_layer=c.n_layer, n_head=c.n_head, n_embd=c.n_embd, dropout=c.dropout).to(device)  # fmt: skip
    opt = make_optimizer(model, "adamw", lr=c.lr, weight_decay=c.weight_decay, betas=(0.9, 0.99),
                         **_DECAY_RULES[c.decay])  # fmt: skip
    final = c.final_lr / c.lr if c.schedule == "cosine" else 1.0
    norms = _MatrixNorms(model, c.eval_every, c.steps) if c.track_norms else None
    history = fit_lm(model, opt, train_tokens, val_tokens, steps=c.steps, batch_size=c.batch_size,
                     block_size=c.block_size, seed=c.seed, eval_every=c.eval_every,
                     eval_batches=c.eval_batches, schedule=c.schedule, warmup=c.warmup, final_lr=final,
                     grad_clip=c.grad_clip or None, stop_after=stop_after, precision=c.precision,
                     eval_set=c.eval_set, hooks=[norms] if norms else ())  # fmt: skip
    if norms is not None and len(history):
        attrs = dict(history.attrs)
        history = history.merge(pd.DataFrame(norms.rows), on="step", how="left", validate="one_to_one")
        history.attrs.update(attrs)
    last = history.iloc[-1] if len(history) else {"val_loss": math.nan, "train_loss": math.nan}  # stopped early
    metrics = {"val_loss": float(last["val_loss"]), "train_loss": float(last["train_loss"]),
               "best_val_loss": float(history["val_loss"].min()) if len(history) else math.nan,
               "weight_norm": _weight_norm(model)}  # fmt: skip
    return metrics, history
