"""Write chapters/06_text.ipynb (kept out of the repository; ids are stable across rewrites)."""

import hashlib

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = []


def md(text):
    cells.append(new_markdown_cell(text.strip("\n")))


def code(text, tags=None):
    c = new_code_cell(text.strip("\n"))
    if tags:
        c.metadata["tags"] = tags
    cells.append(c)


md(r"""
# Weight decay in text models: TextCNN on MR and SST-2, and a character transformer

Chapter 5 measured weight decay on images. This chapter does it on text, with the two
models that a reader is most likely to have trained: Kim's convolutional sentence
classifier {cite}`kim2014convolutional` and a small GPT-style character model trained with
AdamW, as in nanoGPT {cite}`karpathy2022nanogpt`. Four questions:

1. Does `wdlib`'s TextCNN reproduce Kim's CNN-rand numbers (his Table 2: MR 76.1, SST-2 82.7)?
2. At one training budget, how do the usual regularizers of this network compare: none, Kim's
   max-norm constraint, an L2 penalty (Adam + L2), decoupled weight decay (AdamW), each with
   dropout on and off?
3. Should the embedding matrix be decayed? Coupled L2 and decoupled decay treat the rows of
   rare words very differently, and the row norms against word frequency show it.
4. In a character-level transformer, what do λ, the choice of decayed tensors and the
   learning-rate schedule do to the validation *and* the training loss? Andriushchenko et
   al. {cite}`andriushchenko2023why` argue that in language models weight decay mainly helps
   optimization, not generalization.

The data are the movie-review snippets of Pang and Lee {cite}`pang2005seeing` (MR: 10,662
sentences, no official split, so ten-fold cross-validation as in Kim's paper), the binary
Stanford Sentiment Treebank {cite}`socher2013recursive` (SST-2: GLUE's 67,349 training
phrases, 872 dev and 1,821 test sentences) and Tiny Shakespeare (1,115,394 characters).
`wdlib.data` reads them from the folders named by `WDLIB_DATA_PATH` or downloads them and
checks their sha256.

**Where the numbers come from.** With `profile="full"` (the default) the chapter loads the
results committed in `data/results/06_text/`, computed on a 2-core CPU by one command (the
last section gives it with its wall time); `recompute=True` recomputes them. With
`profile="quick"`, which the book's CI uses, it trains a much smaller version live (64-d
embeddings, a few epochs, a two-layer transformer for 150 steps), so the figures and numbers
of a quick build are that version's, and the comments, written for the full results, need
not hold for them.
""")

code(r'''
# Parameters (papermill): `papermill chapters/06_text.ipynb out.ipynb -p profile quick`
seed: int = 0  # added to every run's seed (initialization, dropout, batch order); the committed results use 0
profile: str = "full"  # "full": the committed results of data/results/06_text/; "quick" (CI): a small version trained live
recompute: bool = False  # with profile "full": recompute the full sweeps (about 40 min here) into runs/ instead of loading them
''', tags=["parameters"])

code(r'''
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from myst_nb import glue

from wdlib import data, experiments, plotting

if profile not in ("quick", "full"):
    raise ValueError(f"profile must be 'quick' or 'full'; got {profile!r}")


def load(name, defaults):
    """A sweep's runs with every configuration key filled in (defaults included), and its histories."""
    runs, hist = experiments.load_results(name, profile, seed=seed, recompute=recompute)
    conf = pd.DataFrame([{**defaults, **json.loads(c)} for c in runs["config"]], index=runs.index)
    return conf.join(runs.drop(columns=[c for c in conf.columns if c in runs.columns])), hist


kim, kim_hist = load("text-kim", experiments.TEXT_DEFAULTS)
reg, emb = load("text-regularizers", experiments.TEXT_DEFAULTS)
lm, lm_hist = load("lm-decay", experiments.LM_DEFAULTS)
plotting.use_style()
glue("n_runs", int(len(kim) + len(reg) + len(lm)), display=False)
print(f"{profile} profile: {len(kim)} + {len(reg)} + {len(lm)} runs")
''')

md(r"""
## 1. Kim's CNN-rand, reproduced

Kim's network embeds each word in 300 dimensions (random uniform in ±0.25, learned), runs 100
filters each of widths 3, 4 and 5 over the sentence, max-pools each over time, and classifies
the 300 pooled features with dropout 0.5 and a linear layer whose class weight vectors are
rescaled to norm 3 whenever they grow beyond it. Training is Adadelta
{cite}`zeiler2012adadelta` (ρ = 0.95, ε = 10⁻⁶) on mini-batches of 50, and the reported
accuracy is the test accuracy at the epoch with the best accuracy on a dev set (10% of the
training folds for MR, the official dev set for SST-2). The vocabulary is that of the
training texts. On MR each of the ten folds is the test set once; the table gives the mean
over folds, the band of the figure its spread.
""")

code(r'''
mr_all = kim[kim["dataset"] == "mr"].sort_values("fold")
main_epochs = int(mr_all["epochs"].mode().iloc[0])
mr, long_runs = mr_all[mr_all["epochs"] == main_epochs], mr_all[mr_all["epochs"] > main_epochs]
sst = kim[kim["dataset"] == "sst2"]
KIM_TABLE2 = {"mr": 0.761, "sst2": 0.827}  # Kim (2014), Table 2, CNN-rand
hist = kim_hist.merge(kim[["key", "dataset", "fold", "epochs"]], on="key")
hist = hist[(hist["dataset"] == "sst2") | (hist["epochs"] == main_epochs)]

fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.6))
for ax, ds, title in [(axes[0], "mr", "MR, mean over folds"), (axes[1], "sst2", "SST-2")]:
    h = hist[hist["dataset"] == ds].groupby("epoch")[["train_acc", "dev_acc", "test_acc"]].mean()
    for col, label in [("train_acc", "train"), ("dev_acc", "dev"), ("test_acc", "test")]:
        ax.plot(h.index, h[col], marker="o", ms=3, label=label)
    ax.axhline(KIM_TABLE2[ds], color="k", ls=":", lw=1, label="Kim, Table 2")
    ax.set(xlabel="epoch", ylabel="accuracy", title=title)
axes[0].legend()
plt.show()

mr_mean, mr_sd = float(mr["test_acc"].mean()), float(mr["test_acc"].std())
mr_sem = mr_sd / math.sqrt(len(mr))
sst_acc = float(sst["test_acc"].iloc[0])
glue("mr_folds", int(len(mr)), display=False)
glue("mr_acc", mr_mean, display=False)
glue("mr_sd", mr_sd, display=False)
glue("mr_sem", mr_sem, display=False)
glue("mr_min", float(mr["test_acc"].min()), display=False)
glue("mr_max", float(mr["test_acc"].max()), display=False)
glue("mr_diff_pts", 100 * (mr_mean - KIM_TABLE2["mr"]), display=False)
glue("mr_epochs", int(mr["epochs"].iloc[0]), display=False)
glue("mr_best_epoch_mean", float(mr["best_epoch"].mean()), display=False)
glue("mr_final_acc", float(mr["final_test_acc"].mean()), display=False)
glue("sst_acc", sst_acc, display=False)
glue("sst_diff_pts", 100 * (sst_acc - KIM_TABLE2["sst2"]), display=False)
glue("sst_epochs", int(sst["epochs"].iloc[0]), display=False)
glue("sst_best_epoch", int(sst["best_epoch"].iloc[0]), display=False)
glue("kim_minutes", float(kim["wall_seconds"].sum() / 60), display=False)
# Kim trained for 25 epochs; the full profile has that on fold 0 too: what do epochs 11-25 add there?
if len(long_runs):
    lr0 = long_runs.iloc[0]
    same_fold = mr[mr["fold"] == lr0["fold"]].iloc[0]
    glue("long_epochs", int(lr0["epochs"]), display=False)
    glue("long_fold", int(lr0["fold"]), display=False)
    glue("long_acc", float(lr0["test_acc"]), display=False)
    glue("long_best_epoch", int(lr0["best_epoch"]), display=False)
    glue("short_acc_same_fold", float(same_fold["test_acc"]), display=False)
    glue("long_gain_pts", 100 * float(lr0["test_acc"] - same_fold["test_acc"]), display=False)
else:
    for name in ("long_epochs", "long_fold", "long_acc", "long_best_epoch", "short_acc_same_fold", "long_gain_pts"):
        glue(name, math.nan, display=False)
# choosing the epoch by *test* accuracy instead of dev accuracy: what that leak would add on MR
oracle = float(hist[hist["dataset"] == "mr"].groupby("fold")["test_acc"].max().mean())
glue("oracle_gain_pts", 100 * (oracle - mr_mean), display=False)
pd.DataFrame({
    "ours": [mr_mean, sst_acc], "± sd over folds": [mr_sd, math.nan],
    "Kim (2014)": [KIM_TABLE2["mr"], KIM_TABLE2["sst2"]], "difference (points)": [100 * (mr_mean - KIM_TABLE2["mr"]), 100 * (sst_acc - KIM_TABLE2["sst2"])],
    "epochs": [int(mr["epochs"].iloc[0]), int(sst["epochs"].iloc[0])], "runs": [len(mr), len(sst)],
}, index=["MR (10-fold CV)", "SST-2 (test)"]).round(4)
''')

md(r"""
On MR the ten folds give {glue:text}`mr_acc:.4f` ± {glue:text}`mr_sd:.4f` (standard deviation
over folds; from {glue:text}`mr_min:.3f` to {glue:text}`mr_max:.3f`), {glue:text}`mr_diff_pts:+.1f`
points from Kim's 76.1, after {glue:text}`mr_epochs` epochs (the best dev epoch was on
average {glue:text}`mr_best_epoch_mean:.1f`). On SST-2, {glue:text}`sst_epochs` epochs over
the 67,349 training phrases give {glue:text}`sst_acc:.4f` on the 1,821 test sentences,
{glue:text}`sst_diff_pts:+.1f` points from Kim's 82.7. Both are within the 1.5 points that
separate a reproduction from a different result; a single fold's accuracy varies by more than
that, which is why Kim, and this chapter, report ten folds.

Two details matter and are easy to get wrong. The max-norm constraint is on each *class's*
weight vector of the output layer (two vectors of 300 weights), not on the whole matrix
and not on the filters. And the accuracy is the test accuracy at the best *dev* epoch:
choosing the epoch on the test set would add {glue:text}`oracle_gain_pts:.1f` points on MR, a leak of the kind chapter 8
finds in the seed post's Keras example.

## 2. Regularizers compared at one budget

Is weight decay the right regularizer for this network? The comparison trains every variant
for the same number of steps (4 epochs of batch 50) with the same optimizer (Adam, learning
rate 10⁻³), on three MR folds, with dropout 0 and 0.5. The embeddings have 64 dimensions
instead of 300 to fit the budget. The variants:

* **none**: Adam alone;
* **max-norm**: Kim's constraint, each class weight vector rescaled to norm ≤ 3 after each step;
* **Adam + L2**: $\tfrac\lambda2\lVert\theta\rVert^2$ added to the loss (PyTorch's `Adam(weight_decay=λ)`), every weight matrix, embeddings included;
* **AdamW**: decoupled decay, each step multiplying the same weights by $1-\eta\lambda$ {cite}`loshchilov2019decoupled`.

The λ grids differ because the same λ means very different things to the two (chapter 4):
AdamW's per-step shrinkage is $\eta\lambda$, Adam + L2's is divided by $\sqrt{\hat v}$. Each
point is the mean over the three folds of the test accuracy at the best dev epoch; the band
is the range over folds, the horizontal lines the two variants without a λ.
""")

code(r'''
def variant(r):
    if r["weight_decay"] == 0:
        return "max-norm" if r["max_norm"] else "none"
    return "Adam + L2" if r["optimizer"] == "adam" else "AdamW"


reg["variant"] = reg.apply(variant, axis=1)
decayed = reg[reg["decay_embeddings"] | (reg["weight_decay"] == 0)]
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
for ax, p in zip(axes, sorted(decayed["dropout"].unique())):
    d = decayed[decayed["dropout"] == p]
    for v, color in [("Adam + L2", "C0"), ("AdamW", "C1")]:
        plotting.lambda_curve(d[d["variant"] == v], "test_acc", ax=ax, label=v, band="range")
    for v, color, ls in [("none", "k", "--"), ("max-norm", "C2", ":")]:
        ax.axhline(d.loc[d["variant"] == v, "test_acc"].mean(), color=color, ls=ls, lw=1.2, label=v)
    ax.set(title=f"dropout {p:g}", ylabel="test accuracy (best dev epoch)")
axes[0].legend(loc="lower left")
plt.show()

summary = decayed.groupby(["dropout", "variant", "weight_decay"])["test_acc"].agg(["mean", "std", "count"]).reset_index()
best = summary.loc[summary.groupby(["dropout", "variant"])["mean"].idxmax()].set_index(["dropout", "variant"])
folds_per_point = int(summary["count"].min())
glue("reg_folds", folds_per_point, display=False)
glue("reg_epochs", int(reg["epochs"].iloc[0]), display=False)
base = {p: decayed[(decayed["dropout"] == p) & (decayed["variant"] == "none")].set_index("fold")["test_acc"] for p in (0.0, 0.5)}


def paired_gain(p, v, wd):
    """Per-fold accuracy of a variant minus that of "none" on the same fold: (mean, sem) over folds."""
    d = decayed[(decayed["dropout"] == p) & (decayed["variant"] == v) & (decayed["weight_decay"] == wd)]
    diff = d.set_index("fold")["test_acc"] - base[p]
    return float(diff.mean()), float(diff.std() / math.sqrt(len(diff)))


rows = []
for (p, v), r in best.iterrows():
    gain, sem = paired_gain(p, v, r["weight_decay"])
    rows.append({"dropout": p, "variant": v, "best λ": r["weight_decay"], "test acc": r["mean"],
                 "gain over none (paired)": gain, "± sem": sem})
table = pd.DataFrame(rows).set_index(["dropout", "variant"])
for p in (0.0, 0.5):
    tag = "d0" if p == 0 else "d5"
    glue(f"none_{tag}", float(best.loc[(p, "none"), "mean"]), display=False)
    for v, short in [("Adam + L2", "l2"), ("AdamW", "w"), ("max-norm", "mn")]:
        glue(f"{short}_{tag}", float(best.loc[(p, v), "mean"]), display=False)
        glue(f"{short}_gain_{tag}", float(table.loc[(p, v), "gain over none (paired)"]) * 100, display=False)
        glue(f"{short}_gain_sem_{tag}", float(table.loc[(p, v), "± sem"]) * 100, display=False)
        glue(f"{short}_wd_{tag}", float(best.loc[(p, v), "weight_decay"]), display=False)
# Kim's constraint binds only if a class vector's norm reaches 3: when it never does, the runs are the same bits
mn = decayed[decayed["variant"].isin(["none", "max-norm"])].pivot_table(index=["dropout", "fold"], columns="variant", values="test_acc")
glue("maxnorm_identical", bool((mn["none"] == mn["max-norm"]).all()), display=False)
glue("dropout_gain", 100 * float(base[0.5].mean() - base[0.0].mean()), display=False)
l2_max = decayed[decayed["variant"] == "Adam + L2"]["weight_decay"].max()
glue("l2_collapse_wd", float(l2_max), display=False)
glue("l2_collapse_acc", float(summary[(summary["variant"] == "Adam + L2") & (summary["weight_decay"] == l2_max)]["mean"].min()), display=False)
w_max = decayed[decayed["variant"] == "AdamW"]["weight_decay"].max()
glue("w_big_wd", float(w_max), display=False)
glue("w_big_acc", float(summary[(summary["variant"] == "AdamW") & (summary["weight_decay"] == w_max)]["mean"].min()), display=False)
table.round(4)
''')

md(r"""
PLACEHOLDER-REGULARIZERS
""")

md(r"""
## 3. The embedding matrix: decay it or spare it?

Most of this network's weights are in the embedding matrix (one row per word of the training
vocabulary), and most of its rows belong to rare words: half of the MR vocabulary occurs
once in a training split. A row receives a data gradient only in the steps whose batch holds
its word, so for rare words the decay term acts almost alone, and there the two kinds of
decay part ways:

* **AdamW** multiplies every decayed row by $1-\eta\lambda$ per step, whatever its gradient:
  after $T$ steps a row that the data never touch has shrunk to $(1-\eta\lambda)^T \approx e^{-\eta\lambda T}$ of its norm.
* **Adam + L2** puts $\lambda w$ into the gradient, and Adam divides the gradient by its own
  running RMS. For a row the data do not touch, the gradient *is* $\lambda w$, so the update
  is about $\eta\,\mathrm{sign}(w)$ per coordinate: each weight walks to zero by $\eta$ per
  step, at a speed that does not depend on λ at all, and sits there.

The cell below checks both predictions on one untouched 64-dimensional row, initialized as
TextCNN's, for as many steps as a training run of section 2 takes.
""")

code(r'''
conf = json.loads(reg["config"].iloc[0])
cfg = {**experiments.TEXT_DEFAULTS, **conf}
folds = data.kfold_indices(10662, cfg["folds"], cfg["data_seed"])  # MR: 5,331 + 5,331 sentences
n_rest = len(folds[0][0])
n_fit = cfg["n_train"] or n_rest - round(cfg["dev_fraction"] * n_rest)
steps = cfg["epochs"] * math.ceil(n_fit / cfg["batch_size"])
lr = cfg["lr"]
lam_l2 = 1e-4 if 1e-4 in set(reg["weight_decay"]) else float(reg.loc[reg["optimizer"] == "adam", "weight_decay"].max())
lam_w = 1.0


def untouched_row(opt_name, lam):
    """Norm ratio of one embedding row whose only gradient is the decay term, after ``steps`` steps."""
    w = torch.nn.Parameter(torch.empty(cfg["embed_dim"]).uniform_(-0.25, 0.25, generator=torch.Generator().manual_seed(0)))
    start = float(w.detach().norm())
    opt = (torch.optim.Adam if opt_name == "adam" else torch.optim.AdamW)([w], lr=lr, weight_decay=lam)
    for _ in range(steps):
        opt.zero_grad()
        w.grad = torch.zeros_like(w)  # no data gradient; Adam adds λw to it, AdamW shrinks w by (1 - ηλ)
        opt.step()
    return float(w.detach().norm()) / start


sim = {"Adam + L2": untouched_row("adam", lam_l2), "AdamW": untouched_row("adamw", lam_w)}
glue("sim_steps", int(steps), display=False)
glue("sim_l2", sim["Adam + L2"], display=False)
glue("sim_w", sim["AdamW"], display=False)
glue("sim_w_theory", math.exp(-lr * lam_w * steps), display=False)
glue("sim_l2_lam", float(lam_l2), display=False)
print(f"{steps} steps at lr {lr:g}: Adam + L2 (λ = {lam_l2:g}) leaves {sim['Adam + L2']:.3f} of the norm; "
      f"AdamW (λ = {lam_w:g}) {sim['AdamW']:.3f} (exp(-ηλT) = {math.exp(-lr * lam_w * steps):.3f})")
''')

md(r"""
Now the trained networks. The runs of section 2 with dropout 0.5 (embeddings decayed) were
repeated with the embedding matrix spared, and every run recorded the norms of its embedding
rows at initialization and at the end, grouped by how often the word occurs in the training
split (bins of powers of two). The figure plots the final norm over the initial one, averaged
over the three folds, for Adam + L2 at λ = {glue:text}`sim_l2_lam:g` and AdamW at λ = 1.
""")

code(r'''
e = emb.merge(reg[["key", "variant", "weight_decay", "decay_embeddings", "dropout", "fold"]], on="key")
e = e[e["dropout"] == 0.5]
e["ratio"] = e["norm"] / e["init_norm"]
pick = {"none": (e["variant"] == "none"),
        "Adam + L2, embeddings decayed": (e["variant"] == "Adam + L2") & (e["weight_decay"] == lam_l2) & e["decay_embeddings"],
        "Adam + L2, embeddings spared": (e["variant"] == "Adam + L2") & (e["weight_decay"] == lam_l2) & ~e["decay_embeddings"],
        "AdamW, embeddings decayed": (e["variant"] == "AdamW") & (e["weight_decay"] == lam_w) & e["decay_embeddings"],
        "AdamW, embeddings spared": (e["variant"] == "AdamW") & (e["weight_decay"] == lam_w) & ~e["decay_embeddings"]}
styles = {"none": ("k", "-"), "Adam + L2, embeddings decayed": ("C0", "-"), "Adam + L2, embeddings spared": ("C0", ":"),
          "AdamW, embeddings decayed": ("C1", "-"), "AdamW, embeddings spared": ("C1", ":")}
fig, ax = plt.subplots(figsize=(7.5, 4))
curves = {}
for name, mask in pick.items():
    c = e[mask].groupby("count_low")["ratio"].mean()
    curves[name] = c
    color, ls = styles[name]
    ax.plot(c.index, c.values, color=color, ls=ls, marker="o", ms=3, label=name)
ax.axhline(sim["AdamW"], color="C1", lw=0.8, alpha=0.6)
ax.axhline(sim["Adam + L2"], color="C0", lw=0.8, alpha=0.6)
ax.set(xscale="log", xlabel="occurrences of the word in the training split (bin start)", ylabel="final / initial row norm",
       title="embedding-row norms against word frequency (thin lines: the untouched-row prediction)")
ax.set_xscale("log", base=2)
ax.legend(fontsize=8)
plt.show()

vocab = e[pick["none"]].groupby("count_low")["words"].mean()
glue("once_share", float(vocab.iloc[0] / vocab.sum()), display=False)
for name, short in [("none", "none"), ("Adam + L2, embeddings decayed", "l2d"), ("Adam + L2, embeddings spared", "l2s"),
                    ("AdamW, embeddings decayed", "wd"), ("AdamW, embeddings spared", "ws")]:
    glue(f"rare_{short}", float(curves[name].iloc[0]), display=False)
    glue(f"freq_{short}", float(curves[name].iloc[-1]), display=False)
glue("freq_top_bin", int(curves["none"].index[-1]), display=False)

spare = reg[(reg["dropout"] == 0.5) & (reg["weight_decay"] > 0)]
acc = spare.pivot_table(index=["variant", "weight_decay"], columns="decay_embeddings", values="test_acc", aggfunc="mean")
acc = acc.dropna().rename(columns={True: "embeddings decayed", False: "embeddings spared"})
acc["spared − decayed (points)"] = 100 * (acc["embeddings spared"] - acc["embeddings decayed"])
glue("spare_gain_l2", float(acc.loc[("Adam + L2", lam_l2), "spared − decayed (points)"]), display=False)
glue("spare_gain_w", float(acc.loc[("AdamW", lam_w), "spared − decayed (points)"]), display=False)
glue("spare_gain_min", float(acc["spared − decayed (points)"].min()), display=False)
glue("spare_gain_max", float(acc["spared − decayed (points)"].max()), display=False)
acc.round(4)
''')

md(r"""
PLACEHOLDER-EMBEDDINGS
""")

md(r"""
## 4. A character-level transformer on Tiny Shakespeare

The model is nanoGPT's CPU configuration {cite}`karpathy2022nanogpt`: 4 layers, 4 heads,
128-dimensional embeddings, context 64, batch 12, 2,000 steps of AdamW (β = (0.9, 0.99)),
learning rate 10⁻³ warmed up over 100 steps and cosine-decayed to 10⁻⁴, gradients clipped at
norm 1, no dropout, the input embedding tied to the output layer (about 0.8 M parameters). By
nanoGPT's rule only tensors with two or more dimensions are decayed (weight matrices and the
embeddings; biases and LayerNorm parameters are not). The training and validation losses
are measured on the same 20 fixed batches at every evaluation. The variants: λ = 0, 0.1 (nanoGPT's
default) and 1 on two seeds; decaying every tensor; a constant learning rate after the
warm-up.
""")

code(r'''
lm["label"] = lm.apply(lambda r: f"λ={r['weight_decay']:g}, {r['decay']}, {r['schedule']}", axis=1)
lm["gap"] = lm["val_loss"] - lm["train_loss"]
first = int(lm["seed"].min())  # the seed every configuration ran on: cross-configuration comparisons are paired on it
# the evaluation windows are drawn from the run's seed, so two seeds differ in their data *and* their yardstick:
# compare configurations on the same seed, and average over seeds only the paired differences
tab = lm[lm["seed"] == first].set_index(["schedule", "decay", "weight_decay"])[
    ["val_loss", "train_loss", "gap", "best_val_loss", "weight_norm"]].sort_index()
h = lm_hist.merge(lm[["key", "weight_decay", "decay", "schedule", "seed"]], on="key")
late = h[h["step"] >= h["step"].max() / 4]
fig, axes = plt.subplots(1, 3, figsize=(15, 4), gridspec_kw={"width_ratios": [1, 1, 1.1]})
for ax, sched in zip(axes[:2], ["cosine", "constant"]):
    for i, wd in enumerate(sorted(lm["weight_decay"].unique())):
        d = h[(h["schedule"] == sched) & (h["decay"] == "matrices") & (h["weight_decay"] == wd)]
        if d.empty:
            continue
        m = d.groupby("step")[["train_loss", "val_loss"]].mean()
        ax.plot(m.index, m["val_loss"], color=f"C{i}", label=f"λ = {wd:g}, validation")
        ax.plot(m.index, m["train_loss"], color=f"C{i}", ls=":", label=f"λ = {wd:g}, training")
    ax.set(xlabel="step", ylabel="cross-entropy (nats per character)", title=f"{sched} learning rate, decay: matrices",
           ylim=(0.98 * late[["train_loss", "val_loss"]].min().min(), late[["train_loss", "val_loss"]].max().max()))
axes[0].legend(fontsize=8)
order = lm.sort_values(["schedule", "decay", "weight_decay"], ascending=[False, False, True])["label"].unique()
ypos = {label: i for i, label in enumerate(order)}
for _, r in lm.iterrows():
    y = ypos[r["label"]] + 0.12 * (r["seed"] - seed - 0.5 * (lm["seed"].nunique() - 1))
    axes[2].plot(r["val_loss"], y, "o", color="C3", ms=5)
    axes[2].plot(r["train_loss"], y, "o", mfc="none", color="C0", ms=5)
axes[2].plot([], [], "o", color="C3", label="validation")
axes[2].plot([], [], "o", mfc="none", color="C0", label="training")
axes[2].set_yticks(range(len(order)), order)
axes[2].invert_yaxis()
axes[2].set(xlabel="final loss (each seed a dot)", title="every configuration")
axes[2].legend(fontsize=8)
plt.show()


def t(wd):
    return f"{wd:g}".replace(".", "p")


for (sched, decay, wd), r in tab.iterrows():
    name = f"{sched}_{t(wd)}" if decay == "matrices" else f"all_{t(wd)}"
    for col in ("val_loss", "train_loss", "gap", "weight_norm"):
        glue(f"lm_{col.split('_')[0]}_{name}", float(r[col]), display=False)
cos = lm[(lm["schedule"] == "cosine") & (lm["decay"] == "matrices")].set_index(["seed", "weight_decay"])[
    ["val_loss", "train_loss"]]
for wd in sorted(lm["weight_decay"].unique()):
    if wd > 0:  # λ against λ = 0 on the same seed, averaged over the seeds
        diff = (cos.xs(wd, level="weight_decay") - cos.xs(0.0, level="weight_decay"))
        glue(f"lm_dval_{t(wd)}", float(diff["val_loss"].mean()), display=False)
        glue(f"lm_dtrain_{t(wd)}", float(diff["train_loss"].mean()), display=False)
seeds_val = cos["val_loss"].unstack("seed")
glue("lm_seeds", int(seeds_val.shape[1]), display=False)
glue("lm_seed_spread", float((seeds_val.max(axis=1) - seeds_val.min(axis=1)).max()), display=False)
glue("lm_nanogpt_mean", float(seeds_val.loc[0.1].mean()), display=False)
glue("lm_nanogpt_min", float(seeds_val.loc[0.1].min()), display=False)
glue("lm_nanogpt_max", float(seeds_val.loc[0.1].max()), display=False)
glue("lm_steps", int(lm["steps"].iloc[0]), display=False)
glue("lm_minutes", float(lm["wall_seconds"].mean() / 60), display=False)
tab.round(4)
''')

md(r"""
PLACEHOLDER-LM
""")

md(r"""
## Reproducing the results

Every row of `data/results/06_text/<sweep>/runs.csv` holds its configuration (the `config`
column), its metrics and its provenance (`wdlib`, torch and Python versions, git commit,
machine, torch threads, wall seconds); `history.csv` holds the per-epoch accuracies (Kim's
runs), the embedding-row norms by frequency (section 2 and 3's runs) or the loss curves (the
transformer). `metadata.json` records the command that produced the folder and its wall time:
""")

code(r'''
meta_path = experiments.project_root() / "data" / "results" / "06_text" / "metadata.json"
if meta_path.is_file():
    meta = json.loads(meta_path.read_text())
    wall = sum(s["wall_seconds"] for s in meta["sessions"])
    glue("full_wall_min", wall / 60, display=False)
    print(f"command: {meta['command']}\nwall time: {wall / 60:.1f} min over {len(meta['sessions'])} invocation(s) "
          f"on {meta['sessions'][-1]['machine']}\nruns: " + ", ".join(f"{k} {v['runs']}" for k, v in meta["sweeps"].items()))
else:
    glue("full_wall_min", math.nan, display=False)
    print("no committed results yet")
''')

md(r"""
The full profile took {glue:text}`full_wall_min:.1f` minutes on the 2-core CPU with the
command printed above, run from the repository root (`make results-06` runs it; it resumes
where a killed run stopped, without redoing finished runs). One row re-runs on its own and is
compared with the stored metrics bit for bit:

```bash
python -m wdlib.sweep lm-decay --profile full --rerun <key>    # prints "identical" or the metrics that differ
```

## What this chapter found

PLACEHOLDER-FOUND
""")

nb = new_notebook(cells=cells)
nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
               "language_info": {"name": "python"}}
for i, c in enumerate(nb.cells):
    c["id"] = hashlib.sha1(f"06_text-{i}".encode()).hexdigest()[:8]
nbformat.write(nb, "chapters/06_text.ipynb")
print(len(nb.cells), "cells")
