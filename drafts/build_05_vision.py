"""Builds chapters/05_vision.ipynb (the study) from cells listed here; run from the repository root."""
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = []


def md(text):
    cells.append(new_markdown_cell(text.strip("\n")))


def code(text, tags=("hide-input",), figure=None, caption=None, alt=None):
    meta = {"tags": list(tags)} if tags else {}
    if figure:
        meta["mystnb"] = {"figure": {"name": figure, "caption": caption}, "image": {"alt": alt}}
    cells.append(new_code_cell(text.strip("\n"), metadata=meta))


md(r"""
# Weight decay on convolutional networks: Fashion-MNIST

The earlier chapters proved what weight decay does to a quadratic. This one measures what it
does to convolutional networks trained on Fashion-MNIST {cite:p}`xiao2017fashion`, and it
holds every measurement to the protocol of a study that others should be able to cite: every
choice is made on validation images, the test images only report, every comparison is paired
by seed and comes with a 95 % interval, and a grid whose optimum lies at its edge is called
censored rather than read as an optimum.

It looks at two regimes, and does not carry a result from one to the other:

* **Small data**: 1,000 training images, a small CNN without normalization, a constant
  learning rate, 30 epochs: the network overfits its training set, which is where a
  regularizer has something to fix.
* **Realistic**: a ResNet with BatchNorm on the whole training split (50,000 images),
  random crops and flips, SGD with momentum, a warm-up and a cosine schedule: the setting in
  which weight decay is used in practice.

and it asks five questions:

1. How much does tuned weight decay buy over none, in each regime, with an interval?
2. Is the learning-rate × λ valley diagonal for coupled L2 and axis-aligned for decoupled
   decay, as Figure 2 of {cite:t}`loshchilov2019decoupled` shows, once it is read in the
   paper's own parameterization?
3. With BatchNorm, do the weights settle in the rotational equilibrium that
   {cite:t}`kosson2024rotational` predict, for SGD and for AdamW?
4. Does it matter *when* weight decay is applied {cite:p}`golatkar2019time`?
5. How does the best λ move with the size of the training set at a matched budget, read as λ
   and as AdamW's timescale $\tau = 1/(\eta\lambda)$ {cite:p}`wang2024how`?

**Where the numbers come from.** With `profile="full"` (the default) the chapter loads the
results committed in `data/results/05_vision/`, computed by the command that
{ref}`sec-vision-reproducing` gives with its compute time; `recompute=True` recomputes
them. With `profile="quick"`, which the book's CI uses, it trains a much smaller version
live through the same code, so the numbers on a quick build are that version's and the
sentences about them need not hold.
""")

code(r"""
# Parameters (papermill): `papermill chapters/05_vision.ipynb out.ipynb -p profile quick`
seed: int = 0  # added to every run's seed (initialization, batch order, augmentation); the committed results use 0
profile: str = "full"  # "full": the committed results of data/results/05_vision/; "quick" (CI): a small version trained live
recompute: bool = False  # with profile "full": recompute the full sweeps into runs/ instead of loading them (hours on 2 cores)
""", tags=("parameters",))

code(r"""
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from wdlib import config, experiments, plotting, study, tracking
from wdlib.models import build_model
from wdlib.pages import glue_all

config.check_profile(profile)
plotting.use_style()
NAMES = {"sgd": "SGD + L2", "sgdw": "SGDW", "adam": "Adam + L2", "adamw": "AdamW"}
DECOUPLED = ("sgdw", "adamw")


def load(name):
    runs, history = experiments.load_results(name, profile, seed=seed, recompute=recompute,
                                              complete=True)
    for split in ("val", "test"):
        runs[f"{split}_err"] = 1 - runs[f"{split}_acc"]
    return runs, history


small, _ = load("fmnist-small")
resnet, _ = load("fmnist-resnet")
basin, _ = load("fmnist-basin")
timing, _ = load("fmnist-timing")
scale, _ = load("fmnist-scale")
equil, equil_track = load("fmnist-equilibrium")
every = [small, resnet, basin, timing, scale, equil]
glue_all({"n_val": int(small["n_val"].iloc[0]), "n_test": int(small["n_test"].iloc[0]),
          "n_runs": sum(len(t) for t in every)})
print(f"{profile} profile: " + ", ".join(f"{n} {len(t)}" for n, t in zip(
    ["small", "resnet", "basin", "timing", "scale", "equilibrium"], every)) + " runs")
""")

md(r"""
(sec-vision-protocol)=
## 1. The protocol

**Three roles for the data.** Fashion-MNIST has 60,000 training and 10,000 test images. A
stratified set of {glue:text}`n_val` of the training images, the same for every run (fixed
by `data_seed` 0), is held out for validation; the training subsets are drawn from the other
50,000. Every choice in this chapter — λ, learning rate, epoch — is made on the validation
images. The {glue:text}`n_test` test images are evaluated only to report the configurations
chosen.

**One rule, written before the results.** {func}`wdlib.study.select` takes, for each
setting, the λ with the lowest mean validation error over seeds, ties going to the larger
λ; a choice at either end of its grid is flagged as censored. **Comparisons are paired by
seed**: two arms with the same seed share the initialization, the batch order and the
augmentation, and {func}`wdlib.study.paired` reports the mean paired difference with its
95 % t-interval and the difference the design could have detected (80 % power). A
difference measured on validation *after* selecting on validation is optimistic by
construction; the test column is the one that reports.

Every run computes in bfloat16 autocast with float32 weights, optimizer state and weight
decay, and with channels-last memory: on this CPU it is several times faster, and paired
bfloat16 and float32 seeds differ by less than their noise (`python -m wdlib.benchmarks
precision`). Here is the rule applied to the small-data regime of the next section:
""")

code(r"""
chosen = study.select(small, "weight_decay", metric="val_err", maximize=False)
chosen[["weight_decay", "val_err", "seeds", "grid_low", "grid_high", "censored"]]
""", tags=())

md(r"""
(sec-vision-small)=
## 2. Small data: 1,000 images, no normalization

SGD with momentum 0.9 and coupled L2 (PyTorch's `SGD(weight_decay=λ)`: $\tfrac\lambda2\lVert
w\rVert^2$ added to the mean cross-entropy, biases spared) trains
`wdlib`'s {class}`~wdlib.models.SmallCNN` (conv 32–pool–conv 64–pool–fc 128–fc 10) on a
stratified subset of {glue:text}`small_n` images for {glue:text}`small_epochs` epochs at a
constant learning rate of {glue:text}`small_lr:g`, for each λ on {glue:text}`small_seeds`
seeds ({numref}`fig-vision-small`).
""")

code(r"""
fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(6.85, 3.2), layout="constrained")
for split in ("val", "test"):
    label = "validation" if split == "val" else "test"
    plotting.lambda_curve(small, f"{split}_acc", ax=ax_acc, label=label)
    plotting.lambda_curve(small, f"{split}_loss", ax=ax_loss, label=label)
ax_acc.set(ylabel="accuracy")
ax_loss.set(ylabel="cross-entropy", yscale="log")
plotting.plain_log_ticks(ax_loss, "y")
for ax in (ax_acc, ax_loss):
    ax.axvline(float(chosen["weight_decay"].iloc[0]), color="0.5", lw=0.8, ls="--")
    ax.get_legend().remove()
fig.legend(*ax_acc.get_legend_handles_labels(), loc="outside lower center", ncol=2);
""", figure="fig-vision-small",
    caption="Small-data regime: accuracy (left) and cross-entropy (right, log scale) on the "
            "validation and test images against λ, seed means with 95 % t-intervals; dotted "
            "lines: λ = 0; dashed: the λ chosen on validation.",
    alt="Two panels against λ on a log axis, each with a validation and a test curve that "
        "nearly coincide. Accuracy is flat over the small values of λ and falls at the largest; "
        "cross-entropy dips at a moderate λ and rises steeply at the largest.")

code(r"""
best_small = float(chosen["weight_decay"].iloc[0])
arms = ({"weight_decay": 0.0}, {"weight_decay": best_small})
small_acc = study.paired(small, *arms, "test_acc")
small_val = study.paired(small, *arms, "val_acc")
small_loss = study.paired(small, *arms, "test_loss")
small_ece = study.paired(small, *arms, "test_ece")
base = small[small["weight_decay"] == 0]


def steps(row):  # optimizer steps of one run
    return int(row["epochs"]) * math.ceil(int(row["n_train"]) / int(row["batch_size"]))


def verdict(c, better="higher"):
    if not c.excludes_zero:
        return "no difference that these seeds can detect"
    up = c["mean"] > 0
    return "an improvement" if up == (better == "higher") else "a deterioration"


# the same rule on validation cross-entropy, for the comparisons of loss and calibration
chosen_loss = study.select(small, "weight_decay", metric="val_loss", maximize=False)
best_loss = float(chosen_loss["weight_decay"].iloc[0])
loss_arms = ({"weight_decay": 0.0}, {"weight_decay": best_loss})
loss_cmp = {m: study.paired(small, *loss_arms, f"test_{m}") for m in ("loss", "ece", "acc")}
first = small.iloc[0]
glue_all({
    "small_n": int(first["n_train"]), "small_epochs": int(first["epochs"]),
    "small_lr": float(first["lr"]), "small_seeds": int(small["seed"].nunique()),
    "small_best_wd": best_small, "small_censored": str(bool(chosen["censored"].iloc[0])),
    "small_acc0": float(base["test_acc"].mean()), "small_train0": float(base["train_acc"].mean()),
    "small_dacc": small_acc["mean"], "small_dacc_lo": small_acc["low"],
    "small_dacc_hi": small_acc["high"], "small_dacc_det": small_acc["detectable"],
    "small_dval": small_val["mean"], "small_dval_lo": small_val["low"],
    "small_dval_hi": small_val["high"],
    "small_dloss": small_loss["mean"], "small_dloss_lo": small_loss["low"],
    "small_dloss_hi": small_loss["high"],
    "small_dece": small_ece["mean"], "small_dece_lo": small_ece["low"],
    "small_dece_hi": small_ece["high"],
    "small_acc_verdict": verdict(small_acc), "small_loss_verdict": verdict(small_loss, "lower"),
    "small_best_wd_loss": best_loss, "small_loss_censored": str(bool(chosen_loss["censored"].iloc[0])),
    **{f"small_l{k}": v for m, c in loss_cmp.items() for k, v in
       ((m, c["mean"]), (f"{m}_lo", c["low"]), (f"{m}_hi", c["high"]))},
    "small_lloss_verdict": verdict(loss_cmp["loss"], "lower"),
    "small_lece_verdict": verdict(loss_cmp["ece"], "lower"),
    "small_lacc_verdict": verdict(loss_cmp["acc"]),
})
""", tags=("remove-cell",))

md(r"""
Without decay the network overfits: training accuracy {glue:text}`small_train0:.3f`, test
accuracy {glue:text}`small_acc0:.4f`.
The rule picks λ = {glue:text}`small_best_wd:g` on validation (censored:
{glue:text}`small_censored`). Against λ = 0, paired by seed, it changes

* the **test accuracy** by {glue:text}`small_dacc:+.4f` [{glue:text}`small_dacc_lo:+.4f`,
  {glue:text}`small_dacc_hi:+.4f`]: {glue:text}`small_acc_verdict` (the design could detect
  about {glue:text}`small_dacc_det:.4f`); on validation, where it was chosen, by
  {glue:text}`small_dval:+.4f` [{glue:text}`small_dval_lo:+.4f`, {glue:text}`small_dval_hi:+.4f`];
* the **test cross-entropy** by {glue:text}`small_dloss:+.3f` [{glue:text}`small_dloss_lo:+.3f`,
  {glue:text}`small_dloss_hi:+.3f`]: {glue:text}`small_loss_verdict`;
* the **expected calibration error** on the test images by {glue:text}`small_dece:+.3f`
  [{glue:text}`small_dece_lo:+.3f`, {glue:text}`small_dece_hi:+.3f`].

Chosen by validation *error*, λ is the one for accuracy. The same rule applied to validation
cross-entropy picks λ = {glue:text}`small_best_wd_loss:g` (censored:
{glue:text}`small_loss_censored`), and against λ = 0 that λ changes the test cross-entropy by
{glue:text}`small_lloss:+.3f` [{glue:text}`small_lloss_lo:+.3f`, {glue:text}`small_lloss_hi:+.3f`]
({glue:text}`small_lloss_verdict`), the calibration error by {glue:text}`small_lece:+.3f`
[{glue:text}`small_lece_lo:+.3f`, {glue:text}`small_lece_hi:+.3f`]
({glue:text}`small_lece_verdict`) and the test accuracy by {glue:text}`small_lacc:+.4f`
[{glue:text}`small_lacc_lo:+.4f`, {glue:text}`small_lacc_hi:+.4f`]
({glue:text}`small_lacc_verdict`). Which λ is "best" depends on what it is chosen for.
""")

md(r"""
(sec-vision-realistic)=
## 3. The realistic regime: a ResNet with BatchNorm on 50,000 images

{class}`~wdlib.models.ResNet`-{glue:text}`rn_depth` ({cite:t}`he2016deep`'s CIFAR
ResNet: three stages of widths {glue:text}`rn_width`, {glue:text}`rn_width2` and
{glue:text}`rn_width4`, BatchNorm after every convolution, {glue:text}`rn_params`
parameters) trains on the {glue:text}`rn_n` training images with random crops (2 pixels of
padding) and horizontal flips, SGD with momentum 0.9 and coupled L2 at a learning rate of
{glue:text}`rn_lr:g`, batches of {glue:text}`rn_batch`, one epoch of linear warm-up and a
cosine schedule to zero over {glue:text}`rn_epochs` epochs. λ is chosen on validation from a
grid on the first seeds; the chosen λ and λ = 0 are then run on more seeds, and the two are
compared paired by seed ({numref}`fig-vision-resnet`).
""")

code(r"""
grid_seeds = resnet.groupby("weight_decay")["seed"].transform("nunique") == resnet.groupby(
    "weight_decay")["seed"].transform("nunique").min()
rn_grid = resnet[resnet["seed"].isin(resnet.loc[grid_seeds, "seed"].unique())]
rn_grid = rn_grid[rn_grid.groupby("seed")["weight_decay"].transform("nunique")
                  == rn_grid["weight_decay"].nunique()]
rn_choice = study.select(rn_grid, "weight_decay", metric="val_err", maximize=False)
best_rn = float(rn_choice["weight_decay"].iloc[0])
rn_arms = ({"weight_decay": 0.0}, {"weight_decay": best_rn})
pairs = resnet[resnet["weight_decay"].isin([0.0, best_rn])]

fig, (ax_grid, ax_pair) = plt.subplots(1, 2, figsize=(6.85, 3.2), layout="constrained")
plotting.lambda_curve(rn_grid, "val_err", ax=ax_grid, band="range", label="validation")
plotting.lambda_curve(rn_grid, "test_err", ax=ax_grid, band="range", label="test")
ax_grid.axvline(best_rn, color="0.5", lw=0.8, ls="--")
ax_grid.set(ylabel="error")
ax_grid.legend(loc="upper left")
wide = pairs.pivot(index="seed", columns="weight_decay", values="test_err")
for s, row in wide.iterrows():
    ax_pair.plot([0, 1], [row[0.0], row[best_rn]], color="0.6", marker="o", ms=3.5)
ax_pair.plot([0, 1], [wide[0.0].mean(), wide[best_rn].mean()], color="C3", lw=2,
             marker="o", label="mean")
ax_pair.set(xticks=[0, 1], xticklabels=["λ = 0", f"λ = {best_rn:g}"], xlim=(-0.3, 1.3),
            ylabel="test error")
ax_pair.legend(loc="upper right");
""", figure="fig-vision-resnet",
    caption="Realistic regime. Left: validation and test error against λ on the grid's seeds "
            "(band: range over seeds; dotted: λ = 0; dashed: the λ chosen on validation). "
            "Right: test error without decay and at the chosen λ, one grey line per seed, "
            "the mean in red.",
    alt="Left: two nearly parallel curves of error against λ on a log axis with a minimum at "
        "an intermediate λ. Right: paired points per seed joined by lines from λ = 0 to the "
        "chosen λ, with the mean drawn thicker.")

code(r"""
rn = resnet.iloc[0]
model = build_model("resnet", seed=0, depth=int(rn["depth"]), width=int(rn["width"]),
                    batchnorm=True)
rn_cmp = {m: study.paired(resnet, *rn_arms, m) for m in
          ("test_acc", "val_acc", "test_loss", "test_ece")}
# the seeds that did not take part in choosing λ
held = resnet[~resnet["seed"].isin(rn_grid["seed"].unique())]
if held["seed"].nunique() >= 2:
    rn_held = {m: study.paired(held, *rn_arms, m) for m in ("test_acc", "test_loss")}
else:  # a profile without held-out seeds (quick): nothing to report
    none = {"mean": math.nan, "low": math.nan, "high": math.nan, "n": 0}
    rn_held = {"test_acc": none, "test_loss": none}
base_rn = resnet[resnet["weight_decay"] == 0.0]
tuned_rn = resnet[resnet["weight_decay"] == best_rn]
glue_all({
    "rn_depth": int(rn["depth"]), "rn_width": int(rn["width"]), "rn_width2": 2 * int(rn["width"]),
    "rn_width4": 4 * int(rn["width"]), "rn_params": f"{sum(p.numel() for p in model.parameters()):,}",
    "rn_n": f"{int(rn['n_train']):,}", "rn_lr": float(rn["lr"]), "rn_batch": int(rn["batch_size"]),
    "rn_epochs": int(rn["epochs"]), "rn_steps": f"{steps(rn):,}", "rn_grid_seeds": int(rn_grid["seed"].nunique()),
    "rn_best_wd": best_rn, "rn_censored": str(bool(rn_choice["censored"].iloc[0])),
    "rn_pair_seeds": rn_cmp["test_acc"]["n"],
    "rn_acc0": float(base_rn["test_acc"].mean()), "rn_acc0_sd": float(base_rn["test_acc"].std()),
    "rn_acc1": float(tuned_rn["test_acc"].mean()), "rn_acc1_sd": float(tuned_rn["test_acc"].std()),
    **{f"rn_d{m}": c["mean"] for m, c in rn_cmp.items()},
    **{f"rn_d{m}_lo": c["low"] for m, c in rn_cmp.items()},
    **{f"rn_d{m}_hi": c["high"] for m, c in rn_cmp.items()},
    "rn_train": float(resnet["train_acc"].mean()),
    "rn_dacc_det": rn_cmp["test_acc"]["detectable"],
    "rn_held_seeds": rn_held["test_acc"]["n"],
    **{f"rn_held_{m}{k}": rn_held[m][c] for m in rn_held for k, c in (("", "mean"), ("_lo", "low"), ("_hi", "high"))},
    "rn_held_acc_verdict": (verdict(rn_held["test_acc"]) if rn_held["test_acc"]["n"]
                            else "not run in this profile"), "rn_wins": int(rn_cmp["test_acc"]["wins"]),
    "rn_acc_verdict": verdict(rn_cmp["test_acc"]), "rn_loss_verdict": verdict(rn_cmp["test_loss"], "lower"),
    "rn_ece_verdict": verdict(rn_cmp["test_ece"], "lower"),
})
""", tags=("remove-cell",))

md(r"""
The rule picks λ = {glue:text}`rn_best_wd:g` (censored: {glue:text}`rn_censored`) from the
grid's {glue:text}`rn_grid_seeds` seeds. On {glue:text}`rn_pair_seeds` paired seeds the test
accuracy is {glue:text}`rn_acc0:.4f` (sd {glue:text}`rn_acc0_sd:.4f`) without decay and
{glue:text}`rn_acc1:.4f` (sd {glue:text}`rn_acc1_sd:.4f`) with it, a paired difference of
{glue:text}`rn_dtest_acc:+.4f` [{glue:text}`rn_dtest_acc_lo:+.4f`, {glue:text}`rn_dtest_acc_hi:+.4f`]:
{glue:text}`rn_acc_verdict` (detectable: about {glue:text}`rn_dacc_det:.4f`). The test
cross-entropy changes by {glue:text}`rn_dtest_loss:+.3f` [{glue:text}`rn_dtest_loss_lo:+.3f`,
{glue:text}`rn_dtest_loss_hi:+.3f`] ({glue:text}`rn_loss_verdict`) and the calibration error
by {glue:text}`rn_dtest_ece:+.4f` [{glue:text}`rn_dtest_ece_lo:+.4f`,
{glue:text}`rn_dtest_ece_hi:+.4f`] ({glue:text}`rn_ece_verdict`).

Two of those seeds also chose λ, and a seed that favours decay on its validation images tends to
favour it on its test images too. On the {glue:text}`rn_held_seeds` seeds that took no part in
the choice alone, the test accuracy changes by {glue:text}`rn_held_test_acc:+.4f`
[{glue:text}`rn_held_test_acc_lo:+.4f`, {glue:text}`rn_held_test_acc_hi:+.4f`]
({glue:text}`rn_held_acc_verdict`) and the test cross-entropy by
{glue:text}`rn_held_test_loss:+.3f` [{glue:text}`rn_held_test_loss_lo:+.3f`,
{glue:text}`rn_held_test_loss_hi:+.3f`]: the same size of effect, measured with less power.

{ref}`The table below <tab-vision-benchmarks>` sets these numbers beside the submissions that the
Fashion-MNIST README lists for networks of this kind. They are not a like-for-like
comparison: those networks are larger (ResNet-18 has about 11 million parameters against
{glue:text}`rn_params` here), train for many more epochs, on all 60,000 training images, and
their numbers come from one run each, unverified by the README's authors.
""")

md(r"""
(tab-vision-benchmarks)=
**Fashion-MNIST test accuracy**: submissions listed in the dataset's README (one run each,
as submitted) and this chapter's ResNet (mean over paired seeds).
""")

code(r"""
readme = pd.read_csv(experiments.project_root() / "data" / "benchmarks" / "fashion-mnist-readme.csv")
ours = pd.DataFrame([{"classifier": f"ResNet-{int(rn['depth'])}, width {int(rn['width'])} (this chapter, λ = 0)",
                      "preprocessing": "random crops (2 px) and horizontal flips",
                      "test_accuracy": round(float(base_rn["test_acc"].mean()), 4)},
                     {"classifier": f"ResNet-{int(rn['depth'])}, width {int(rn['width'])} (this chapter, λ = {best_rn:g})",
                      "preprocessing": "random crops (2 px) and horizontal flips",
                      "test_accuracy": round(float(tuned_rn["test_acc"].mean()), 4)}])
table = pd.concat([readme[["classifier", "preprocessing", "test_accuracy"]], ours])
table["preprocessing"] = table["preprocessing"].fillna("none listed")
(table.sort_values("test_accuracy").rename(columns={"test_accuracy": "test accuracy"})
 .style.format({"test accuracy": "{:.4f}"}).hide(axis="index"))
""", tags=("remove-input",))

md(r"""
(sec-vision-landscapes)=
## 4. Learning rate × λ: Loshchilov and Hutter's Figure 2 at small scale

{cite:t}`loshchilov2019decoupled` show (their Figure 2) that with coupled L2 the good region
of the learning-rate × λ plane is a diagonal — the best λ falls as the learning rate rises —
while with decoupled decay it is closer to axis-aligned, so the two can be tuned separately.
Their decoupled decay per step is $\eta_t\lambda$, where $\eta_t$ is the schedule's
multiplier, independent of the learning rate $\alpha$; PyTorch's `AdamW` and
{class}`wdlib.optim.SGDW` decay by $\alpha\eta_t\lambda_{\text{torch}}$. So
$\lambda_{\text{paper}} = \alpha\,\lambda_{\text{torch}}$, and a basin that is axis-aligned
in the paper's coordinates is a diagonal of slope $-1$ in PyTorch's. For the coupled forms
the coefficient of the L2 term is the same in both.

The grids here are laid out in the paper's parameterization: {glue:text}`basin_n_lr`
learning rates × {glue:text}`basin_n_wd` values of λ per optimizer, half a decade apart, on
{glue:text}`basin_seeds` seeds; the network is the small CNN *with*
BatchNorm on {glue:text}`basin_n` images, {glue:text}`basin_epochs` epochs of a cosine
schedule, without augmentation. {numref}`fig-vision-basin-paper` shows the validation error in
the paper's coordinates, {numref}`fig-vision-basin-torch` the same runs in PyTorch's.
""")

code(r"""
basin["wd_paper"] = np.where(basin["optimizer"].isin(DECOUPLED), basin["lr"] * basin["weight_decay"],
                             basin["weight_decay"]).round(12)
# PyTorch's coordinate of a decoupled run lands between half decades (1e-5/3e-3 = 3.3e-3):
# shown at the nearest half decade
half = np.round(2 * np.log10(basin["weight_decay"].where(basin["weight_decay"] > 0))) / 2
basin["wd_torch"] = [float(f"{10 ** h:.0g}") if np.isfinite(h) else 0.0 for h in half]
decayed = basin[basin["weight_decay"] > 0].assign(val_err_pct=lambda d: 100 * d["val_err"])
lo, hi = decayed["val_err_pct"].quantile([0.0, 0.9])


def basins(column, ylabel):
    fig, axes = plt.subplots(2, 2, figsize=(6.85, 6.4), layout="constrained")
    for ax, opt in zip(axes.flat, NAMES):
        d = decayed[decayed["optimizer"] == opt]
        plotting.heatmap(d, "val_err_pct", x="lr", y=column, ax=ax, fmt="{:.1f}", best="min",
                         cmap="viridis_r", vmin=lo, vmax=hi, colorbar=False)
        ax.set(title=NAMES[opt], xlabel="learning rate", ylabel=ylabel)
    fig.colorbar(axes[0, 0].images[0], ax=axes, shrink=0.6, label="validation error (%)",
                 extend="max")
    return fig


basins("wd_paper", "λ (paper)");
""", figure="fig-vision-basin-paper",
    caption="Validation error (%) over learning rate × λ in Loshchilov & Hutter's "
            "parameterization (for SGDW and AdamW the decay per step, λ_paper = lr · λ_torch; "
            "for the coupled forms the L2 coefficient), seed means; the best cell outlined. "
            "The colour scale is clipped at the 90th percentile.",
    alt="Four heatmaps, one per optimizer, learning rate across and λ up, each cell annotated "
        "with its validation error in per cent, the best cell outlined in red.")

code(r"""
basins("wd_torch", "λ (PyTorch, nearest half decade)");
""", figure="fig-vision-basin-torch",
    caption="The runs of the previous figure in PyTorch's parameterization (λ_torch = "
            "λ_paper / lr for SGDW and AdamW, shown at the nearest half decade; the coupled "
            "panels are unchanged). Blank cells were not run.",
    alt="The same four heatmaps; the decoupled panels' cells now lie on a diagonal band, "
        "the coupled panels are identical to the previous figure's.")

md(r"""
To read the orientation, {func}`wdlib.study.optimum_slope` takes the best λ at each learning
rate (the rule of {ref}`sec-vision-protocol`, on validation error) and fits a line through
$(\log_{10}\alpha, \log_{10}\lambda^*)$. Two intervals go with it: a percentile bootstrap over
seeds, re-selecting the optima in each resample (with {glue:text}`basin_seeds` seeds it has only
{glue:text}`basin_resamples` distinct resamples, so it shows how the seeds disagree and little
more), and the t-interval of the fitted line, which grows with the optima's scatter about it
(grid steps and selection noise included). A verdict below uses the union of the two. A slope
of 0 is an axis-aligned basin, −1 a diagonal along which $\alpha\lambda$ is constant.
""")

code(r"""
rows = []
for opt in NAMES:
    d = basin[(basin["optimizer"] == opt) & (basin["weight_decay"] > 0)]
    for column, view in (("wd_paper", "paper"), ("weight_decay", "PyTorch")):
        fit = study.optimum_slope(d, x="lr", over=column, metric="val_err", maximize=False,
                                  boot=1000)
        rows.append({"optimizer": NAMES[opt], "coordinates": view, "slope": fit["slope"],
                     "low": fit["wide_low"], "high": fit["wide_high"],
                     "bootstrap": f"[{fit['low']:+.2f}, {fit['high']:+.2f}]",
                     "line": f"[{fit['fit_low']:+.2f}, {fit['fit_high']:+.2f}]",
                     "censored optima": f"{fit['censored']} of {len(fit['optima'])}",
                     "resamples": fit["resamples"]})
slopes = pd.DataFrame(rows)
slopes.drop(columns="resamples").rename(columns={"low": "union low", "high": "union high"}).style.format(
    {"slope": "{:+.2f}", "union low": "{:+.2f}", "union high": "{:+.2f}"}).hide(axis="index")
""", tags=("hide-input",))

code(r"""
paper = slopes[slopes["coordinates"] == "paper"].set_index("optimizer")
# the paper's claim, per optimizer: decoupled valleys axis-aligned (the interval holds 0 and
# excludes -1), coupled ones tilted (the interval lies below 0); no verdict from edge optima
low, high = paper["low"], paper["high"]
axis_aligned = {o: low[NAMES[o]] <= 0 <= high[NAMES[o]] and not low[NAMES[o]] <= -1 <= high[NAMES[o]]
                for o in DECOUPLED}
diagonal = {o: high[NAMES[o]] < 0 for o in ("sgd", "adam")}
edges = sum(int(c.split()[0]) for c in paper["censored optima"])
# is there a valley at all? per optimizer and learning rate: λ against seed noise
columns = pd.concat([study.flatness(d, "wd_paper", by=["lr"]).assign(optimizer=o)
                     for o, d in basin[basin["weight_decay"] > 0].groupby("optimizer")])
n_flat, n_columns = int(columns["flat"].sum()), len(columns)
claim = (f"not established: at {n_flat} of {n_columns} learning rates λ makes no difference "
         "beyond seed noise" if 2 * n_flat > n_columns else
         "not established: optima at the edge of their grid" if edges else
         "supported" if all(axis_aligned.values()) and all(diagonal.values()) else
         "not supported")
first = basin.iloc[0]
glue_all({
    "basin_n_lr": int(basin.groupby("optimizer")["lr"].nunique().min()),
    "basin_n_wd": int(decayed.groupby(["optimizer", "lr"])["wd_paper"].nunique().min()),
    "basin_seeds": int(basin["seed"].nunique()), "basin_n": f"{int(first['n_train']):,}",
    "basin_resamples": int(slopes["resamples"].iloc[0]),
    "basin_epochs": int(first["epochs"]),
    **{f"slope_{o}": float(paper.loc[NAMES[o], "slope"]) for o in NAMES},
    **{f"slope_{o}_lo": float(paper.loc[NAMES[o], "low"]) for o in NAMES},
    **{f"slope_{o}_hi": float(paper.loc[NAMES[o], "high"]) for o in NAMES},
    "basin_censored": int(sum(int(c.split()[0]) for c in slopes["censored optima"][::2])),
    "basin_claim": claim, "basin_flat": n_flat, "basin_columns": n_columns,
    "basin_spread_max": 100 * float(columns["spread"].max()),
})
""", tags=("remove-cell",))

md(r"""
In the paper's coordinates the slopes, each with the union of its two intervals, are SGD + L2 {glue:text}`slope_sgd:+.2f`
[{glue:text}`slope_sgd_lo:+.2f`, {glue:text}`slope_sgd_hi:+.2f`], SGDW
{glue:text}`slope_sgdw:+.2f` [{glue:text}`slope_sgdw_lo:+.2f`, {glue:text}`slope_sgdw_hi:+.2f`],
Adam + L2 {glue:text}`slope_adam:+.2f` [{glue:text}`slope_adam_lo:+.2f`,
{glue:text}`slope_adam_hi:+.2f`] and AdamW {glue:text}`slope_adamw:+.2f`
[{glue:text}`slope_adamw_lo:+.2f`, {glue:text}`slope_adamw_hi:+.2f`];
{glue:text}`basin_censored` of the per-learning-rate optima lie at an edge of their λ grid.
Before reading the slopes, is there a valley? At {glue:text}`basin_flat` of the
{glue:text}`basin_columns` learning rates (all four optimizers) the validation accuracy varies
over λ by no more than seed noise ({func}`wdlib.study.flatness`; the largest spread of any
column is {glue:text}`basin_spread_max:.1f` points), so the optimum of that column, and a line
through such optima, is mostly noise. The paper's claim — decoupled slopes consistent with 0
and not with −1, coupled slopes below 0 — is **{glue:text}`basin_claim`** by these runs. In PyTorch's coordinates every decoupled slope is
the paper's minus one, exactly: the same optima, relabelled.
""")

md(r"""
(sec-vision-batchnorm)=
## 5. Mechanisms

### 5.1 BatchNorm and the rotational equilibrium

A convolution followed by BatchNorm is scale-invariant: multiplying its kernel by $c > 0$
changes nothing downstream, the gradient is orthogonal to the kernel and shrinks as
$1/\lVert w\rVert$, and what a step does is *turn* the kernel. Decay shrinks the norm, the
gradient noise grows it, and the two balance in an equilibrium where each step turns the
weight by a fixed angle {cite:p}`vanlaarhoven2017l2,wan2021spherical,kosson2024rotational`:
$\sqrt{2\eta\lambda/(1+\mu)}$ for SGD with momentum $\mu$ and coupled L2, and
$\sqrt{2\eta\lambda\,(1-\beta_1)/(1+\beta_1)}$ for AdamW, whose weights also settle at the norm
$\sqrt{\eta C/(2\lambda)}$ for a kernel of $C$ entries
({func}`wdlib.tracking.adamw_equilibrium`). The runs below train the small CNN with
BatchNorm at a constant learning rate for {glue:text}`eq_steps` steps,
{glue:text}`eq_settle:.1f` times the longest relaxation time of the arms' norms
($(1-\mu)/(4\eta\lambda)$ for $\lVert w\rVert^4$ under SGD with momentum, $1/(2\eta\lambda)$ for
$\lVert w\rVert^2$ under AdamW), and record each kernel's norm and the angle of one step every
{glue:text}`eq_every` steps ({numref}`fig-vision-equilibrium`).
""")

code(r"""
kernels = {n: p.numel() for n, p in build_model("small_cnn", seed=0, batchnorm=True).named_parameters()}
arms_eq = equil[["key", "optimizer", "lr", "weight_decay", "momentum", "seed"]]
track = equil_track.drop(columns="lr").merge(arms_eq, on="key")
steady = tracking.steady_state(equil_track, by=["key", "name"]).drop(columns="lr").merge(arms_eq, on="key")


def predicted(row):
    if row["optimizer"] == "adamw":
        return pd.Series(tracking.adamw_equilibrium(row["lr"], row["weight_decay"], kernels[row["name"]]))
    angle = tracking.equilibrium_angular_update(row["lr"], row["weight_decay"], row["momentum"])
    return pd.Series({"norm": math.nan, "angle": angle})


pred = steady.apply(predicted, axis=1)
steady["angle_ratio"] = steady["angle"] / pred["angle"]
steady["norm_ratio"] = steady["norm"] / pred["norm"]

fig, axes = plt.subplots(1, 2, figsize=(6.85, 3.0), layout="constrained", sharey=True)
one = track[(track["seed"] == track["seed"].min()) & (track["name"] == "conv2.weight")]
for ax, opt in zip(axes, ("sgd", "adamw")):
    for i, (wd, d) in enumerate(one[one["optimizer"] == opt].groupby("weight_decay")):
        smooth = d["angular_update"].rolling(10, min_periods=1).mean()
        ax.plot(d["step"], smooth, color=f"C{i}", lw=1, label=f"λ = {wd:g}")
        row = d.iloc[0]
        target = (tracking.adamw_equilibrium(row["lr"], wd, kernels["conv2.weight"])["angle"]
                  if opt == "adamw" else
                  tracking.equilibrium_angular_update(row["lr"], wd, row["momentum"]))
        ax.axhline(target, color=f"C{i}", ls="--", lw=0.8)
    ax.set(title=NAMES[opt].replace(" + L2", " + L2 (momentum)"), xlabel="step", yscale="log")
    plotting.plain_log_ticks(ax, "y")
    ax.legend(loc="upper right")
axes[0].set(ylabel="angle of one step (rad)");
""", figure="fig-vision-equilibrium",
    caption="The angle turned in one step by the second convolution's kernel (rolling mean of "
            "10 records) under SGD with momentum and coupled L2 (left) and AdamW (right), two "
            "values of λ each, against the equilibrium predictions (dashed).",
    alt="Two panels of angle per step against training step on a log scale; each curve "
        "falls or rises early and then levels off near its dashed prediction line.")

code(r"""
FITTED = 0.01  # a final training loss below this: the network has fitted its training images
per_run = (steady.groupby(["key", "optimizer", "weight_decay", "seed"])
           .agg(angle_ratio=("angle_ratio", "mean"), norm_ratio=("norm_ratio", "mean"))
           .reset_index().merge(equil[["key", "train_loss"]], on="key")
           .sort_values(["optimizer", "weight_decay", "seed"], ascending=[False, False, True]))
per_run["fitted"] = per_run["train_loss"] < FITTED
(per_run.drop(columns=["key", "fitted"]).assign(optimizer=lambda d: d["optimizer"].map(NAMES))
 .rename(columns={"weight_decay": "λ", "angle_ratio": "angle ÷ prediction",
                  "norm_ratio": "norm ÷ prediction", "train_loss": "training loss"})
 .style.format({"λ": "{:g}", "angle ÷ prediction": "{:.3f}", "norm ÷ prediction": "{:.3f}",
                "training loss": "{:.4f}"}, na_rep="—").hide(axis="index"))
""")

code(r"""
first = equil.iloc[0]
fit_runs, rest = per_run[per_run["fitted"]], per_run[~per_run["fitted"]]
rest_kernels = steady[steady["key"].isin(rest["key"]) & steady["norm_ratio"].notna()]
eq_steps = int(first["epochs"] * math.ceil(first["n_train"] / first["batch_size"]))


def relaxation(arm):  # steps for the norm to relax: ‖w‖⁴ under SGD with momentum, ‖w‖² under AdamW
    if arm["optimizer"] == "adamw":
        return 1 / (2 * arm["lr"] * arm["weight_decay"])
    return (1 - arm["momentum"]) / (4 * arm["lr"] * arm["weight_decay"])


glue_all({
    "eq_steps": eq_steps,
    "eq_settle": eq_steps / max(relaxation(a) for _, a in equil.iterrows()),
    "eq_every": int(first["track_every"]),
    "eq_n": len(per_run), "eq_fitted": FITTED,
    "eq_rest_n": len(rest), "eq_rest_lo": float(rest["angle_ratio"].min()),
    "eq_rest_hi": float(rest["angle_ratio"].max()),
    "eq_rest_loss_min": float(rest["train_loss"].min()),
    "eq_rest_norm_lo": float(rest_kernels["norm_ratio"].min()),
    "eq_rest_norm_hi": float(rest_kernels["norm_ratio"].max()),
    "eq_fit_n": len(fit_runs), "eq_fit_lo": float(fit_runs["angle_ratio"].min()),
    "eq_fit_hi": float(fit_runs["angle_ratio"].max()),
    "eq_fit_loss_max": float(fit_runs["train_loss"].max()),
    "eq_split": " and ".join(f"{NAMES[o]} at λ = {wd:g}" for (o, wd), g in
                             per_run.groupby(["optimizer", "weight_decay"]) if g["fitted"].nunique() > 1)
                or "no arm",
})
""", tags=("remove-cell",))

md(r"""
The table gives, for each run, the angle of one step and (for AdamW) the norm over the last
quarter of the steps, each divided by its prediction and averaged over the three kernels, and
the final training loss. {glue:text}`eq_rest_n` of the {glue:text}`eq_n` runs end with a
training loss of at least {glue:text}`eq_rest_loss_min:.2f`; in them the angle is
{glue:text}`eq_rest_lo:.2f`–{glue:text}`eq_rest_hi:.2f` times the prediction, averaged over the kernels. The norm is predicted less well: AdamW's
kernels, one by one, sit at {glue:text}`eq_rest_norm_lo:.2f`–{glue:text}`eq_rest_norm_hi:.2f`
times their predicted norm. In that equilibrium the effective learning rate of a scale-invariant kernel no
longer depends on its initial scale: weight decay has turned into a learning-rate schedule.

The other {glue:text}`eq_fit_n` runs show where the prediction stops holding: they fit their
training images (training loss at most {glue:text}`eq_fit_loss_max:.3f`), the gradients that
balance the decay fade, and the angle falls to {glue:text}`eq_fit_lo:.2f`–{glue:text}`eq_fit_hi:.2f`
times the prediction. The equilibrium is a balance between decay and gradient noise; it needs a
loss that the network has not driven to zero. Which runs get there is not set by the arm alone:
{glue:text}`eq_split` fits its training images on some seeds and not on others.

(sec-vision-timing)=
### 5.2 When weight decay acts

{cite:t}`golatkar2019time` found that weight decay matters mostly early in training: removed
after the first epochs it helps almost as much as when kept throughout, while applied only
late it helps little. Here ResNet-{glue:text}`rn_depth` trains on {glue:text}`tm_n` images
for {glue:text}`tm_epochs` epochs (augmentation, warm-up and cosine schedule as in
{ref}`sec-vision-realistic`) with λ = {glue:text}`tm_wd:g`, fixed before these runs so that λ
times the number of steps matches the realistic regime's choice ({glue:text}`tm_steps` steps
here against {glue:text}`rn_steps` there),
applied throughout, never, only in the first {glue:text}`tm_switch` epochs or only after
them, on {glue:text}`tm_seeds` seeds ({numref}`fig-vision-timing`).
""")

code(r"""
def window(row):
    if row["weight_decay"] == 0:
        return "never"
    if row["decay_start"] == 0 and row["decay_stop"] == 0:
        return "throughout"
    return "early only" if row["decay_start"] == 0 else "late only"


timing["window"] = timing.apply(window, axis=1)
order = [w for w in ("never", "early only", "late only", "throughout") if w in set(timing["window"])]
fig, ax = plt.subplots(figsize=(5.6, 3.0))
wide = timing.pivot(index="seed", columns="window", values="test_err")[order]
for _, row in wide.iterrows():
    ax.plot(range(len(order)), row.values, color="0.7", marker="o", ms=3, lw=0.8)
ax.plot(range(len(order)), wide.mean().values, color="C3", marker="o", lw=2, label="mean")
ax.set(xticks=range(len(order)), xticklabels=order, ylabel="test error")
ax.legend(loc="upper right");
""", figure="fig-vision-timing",
    caption="Test error of ResNet-8 with weight decay never applied, applied only early, only "
            "late or throughout: one grey line per seed (the same initialization and data "
            "order in every arm), the mean in red.",
    alt="Four positions on the horizontal axis; grey lines join each seed's errors across "
        "them and a red line joins the means.")

code(r"""
tm = timing.iloc[0]
ref = {"window": "throughout"}
tm_cmp = {w: study.paired(timing, ref, {"window": w}, "test_acc") for w in order if w != "throughout"}
tm_val = {w: study.paired(timing, ref, {"window": w}, "val_acc") for w in order if w != "throughout"}
tm_loss = study.paired(timing, ref, {"window": "never"}, "test_loss")
switch = int(timing.loc[timing["window"] == "early only", "decay_stop"].iloc[0]) if "early only" in order else 0
glue_all({"tm_n": f"{int(tm['n_train']):,}", "tm_epochs": int(tm["epochs"]), "tm_steps": f"{steps(tm):,}",
          "tm_wd": float(timing.loc[timing["weight_decay"] > 0, "weight_decay"].iloc[0]),
          "tm_switch": switch, "tm_seeds": int(timing["seed"].nunique()),
          **{f"tm_{w.split()[0]}": c["mean"] for w, c in tm_cmp.items()},
          **{f"tm_{w.split()[0]}_lo": c["low"] for w, c in tm_cmp.items()},
          **{f"tm_{w.split()[0]}_hi": c["high"] for w, c in tm_cmp.items()},
          **{f"tm_{w.split()[0]}_verdict": verdict(c) for w, c in tm_cmp.items()},
          "tm_train": float(timing["train_acc"].mean()),
          "tm_never_loss": tm_loss["mean"], "tm_never_loss_lo": tm_loss["low"],
          "tm_never_loss_hi": tm_loss["high"], "tm_never_loss_verdict": verdict(tm_loss, "lower"),
          "tm_conclusion": (
              "The accuracy cannot separate even no decay from decay throughout, so it cannot "
              "say when decay acts" if not tm_cmp["never"].excludes_zero else
              "Decay throughout is more accurate than no decay, so the windows can be read "
              "against it" if tm_cmp["never"]["mean"] < 0 else
              "No decay is more accurate than decay throughout at this λ")})
""", tags=("remove-cell",))

md(r"""
Against decay throughout, paired by seed, the test accuracy changes by
{glue:text}`tm_never:+.4f` [{glue:text}`tm_never_lo:+.4f`, {glue:text}`tm_never_hi:+.4f`]
without any decay ({glue:text}`tm_never_verdict`), by {glue:text}`tm_early:+.4f`
[{glue:text}`tm_early_lo:+.4f`, {glue:text}`tm_early_hi:+.4f`] with decay only early
({glue:text}`tm_early_verdict`) and by {glue:text}`tm_late:+.4f` [{glue:text}`tm_late_lo:+.4f`,
{glue:text}`tm_late_hi:+.4f`] with decay only late ({glue:text}`tm_late_verdict`).
{glue:text}`tm_conclusion`; the test cross-entropy does separate them: without decay it
changes by {glue:text}`tm_never_loss:+.3f` [{glue:text}`tm_never_loss_lo:+.3f`,
{glue:text}`tm_never_loss_hi:+.3f`] ({glue:text}`tm_never_loss_verdict`). These networks end
at a training accuracy of
{glue:text}`tm_train:.3f`: {glue:text}`tm_epochs` epochs of {glue:text}`tm_n` images leave
them far from fitting their training set, unlike the networks trained to convergence in which
{cite:t}`golatkar2019time` observed the effect.

(sec-vision-size)=
### 5.3 The size of the training set, at a matched budget

AdamW (learning rate {glue:text}`sc_lr:g`, cosine schedule) trains the small CNN with
BatchNorm on {glue:text}`sc_sizes` images for the same number of optimizer steps,
{glue:text}`sc_steps` batches of {glue:text}`sc_batch`: the budget held fixed is the number of
steps (and images seen), so the smaller sets are seen for more epochs. For each size, λ is
chosen on validation from a grid of half decades ({numref}`fig-vision-size`). The question is
whether the best λ moves as AdamW's timescale $\tau = 1/(\eta\lambda)$ fixed in epochs
predicts {cite:p}`wang2024how`, and for that there must first be a best λ.
""")

code(r"""
scale["n"] = scale["n_train"]
fig, ax = plt.subplots(figsize=(6.4, 3.2))
for i, (n, d) in enumerate(scale.groupby("n")):
    plotting.lambda_curve(d, "val_err", ax=ax, band="range", label=f"{n:,} images")
ax.set(ylabel="validation error", yscale="log")
plotting.plain_log_ticks(ax, "y")
plotting.legend_outside(ax);
""", figure="fig-vision-size",
    caption="Validation error of AdamW against λ for three training-set sizes at the same "
            "number of optimizer steps; band: range over seeds.",
    alt="Three curves of validation error against λ on log axes, the smallest training set "
        "highest; each curve has a minimum at some λ.")

code(r"""
sc_choice = study.select(scale, "weight_decay", by=["n_train"], metric="val_err", maximize=False)
flat = study.flatness(scale, by=["n_train"])  # is there an optimum to find at each size?
table = flat.merge(sc_choice[["n_train", "weight_decay", "censored"]], on="n_train")
table[["n_train", "weight_decay", "censored", "spread", "z", "noise_high", "flat"]].rename(columns={
    "n_train": "images", "weight_decay": "chosen λ", "spread": "spread of the means",
    "z": "spread ÷ se", "noise_high": "noise, 95 %"}).style.format(
    {"chosen λ": "{:g}", "spread of the means": "{:.4f}", "spread ÷ se": "{:.1f}",
     "noise, 95 %": "{:.1f}"}).hide(axis="index")
""")

code(r"""
first = scale.iloc[0]
flat_loss = study.flatness(scale, by=["n_train"], metric="val_loss")
sc_loss = study.select(scale, "weight_decay", by=["n_train"], metric="val_loss", maximize=False)
loss_slope = study.optimum_slope(scale.assign(n=scale["n_train"]), x="n", metric="val_loss",
                                 maximize=False, boot=1000)
glue_all({"sc_lr": float(first["lr"]), "sc_steps": f"{steps(first):,}",
          "sc_batch": int(first["batch_size"]),
          "sc_sizes": ", ".join(f"{n:,}" for n in sorted(scale["n_train"].unique())),
          "sc_wd_lo": float(scale["weight_decay"].min()), "sc_wd_hi": float(scale["weight_decay"].max()),
          "sc_spread": float(flat["spread"].max()), "sc_z": float(flat["z"].max()),
          "sc_z_high": float(flat["noise_high"].iloc[0]), "sc_all_flat": bool(flat["flat"].all()),
          "sc_chosen": ", ".join(f"{w:g}" for w in sc_choice["weight_decay"]),
          "sc_censored": int(sc_choice["censored"].sum()),
          "sc_loss_not_flat": int((~flat_loss["flat"]).sum()), "sc_loss_z_max": float(flat_loss["z"].max()),
          "sc_chosen_loss": ", ".join(f"{w:g}" for w in sc_loss["weight_decay"]),
          "sc_loss_censored": int(sc_loss["censored"].sum()),
          "sc_loss_slope": loss_slope["slope"], "sc_loss_slope_lo": loss_slope["wide_low"],
          "sc_loss_slope_hi": loss_slope["wide_high"]})
""", tags=("remove-cell",))

md(r"""
In accuracy the curves are flat. At every size the mean validation accuracy moves by at most
{glue:text}`sc_spread:.4f` over the grid, from λ = {glue:text}`sc_wd_lo:g` to
{glue:text}`sc_wd_hi:g`: at most {glue:text}`sc_z:.1f` standard errors of a mean, within the
{glue:text}`sc_z_high:.1f` that seed noise alone reaches 95 % of the time (Tukey's studentized
range, {func}`wdlib.study.flatness`). The rule still picks a λ at each size
({glue:text}`sc_chosen`, {glue:text}`sc_censored` of them at an edge of the grid), but at this
budget the pick is noise: the most accurate λ is not identified. The cross-entropy is another
matter: on validation cross-entropy the spread exceeds seed noise at
{glue:text}`sc_loss_not_flat` of the three sizes (up to {glue:text}`sc_loss_z_max:.0f` standard
errors), and the same rule picks λ =
{glue:text}`sc_chosen_loss` ({glue:text}`sc_loss_censored` at an edge). Three optima on two
seeds still do not fix how λ moves with the size of the training set: the line through them has
a slope of {glue:text}`sc_loss_slope:+.2f` with a 95 % interval of
[{glue:text}`sc_loss_slope_lo:+.1f`, {glue:text}`sc_loss_slope_hi:+.1f`].
[Chapter 7](07_choosing_lambda.ipynb) {ref}`draws the consequence <sec-lambda-networks>` for
the rules that carry λ from one data size to another.
""")

md(r"""
(sec-vision-headline)=
## 6. The comparisons, in one table

Each row compares two arms paired by seed: the mean difference B − A with its 95 % interval
on validation and on test, the difference the design could detect on test (80 % power) and
the verdict the test interval gives. "Tuned" means chosen on validation by the rule of
{ref}`sec-vision-protocol`. Every row has {glue:text}`headline_min_seeds` or more seeds. The
optimizers of {ref}`sec-vision-landscapes` are not compared here: their grids ran on two seeds,
and a paired interval on two seeds is {glue:text}`t_two_seeds:.1f` standard errors wide on
each side.
""")

code(r"""
metrics = ("val_acc", "test_acc")
rows = [
    {"label": "small data: λ tuned on error vs none", "runs": small, "a": arms[0], "b": arms[1],
     "metrics": metrics},
    {"label": "small data: λ tuned on loss vs none (loss)", "runs": small, "a": loss_arms[0],
     "b": loss_arms[1], "metrics": ("val_loss", "test_loss"), "lower_is_better": True},
    {"label": "ResNet: tuned λ vs none", "runs": resnet, "a": rn_arms[0], "b": rn_arms[1], "metrics": metrics},
    *({"label": f"decay {w} vs throughout", "runs": timing, "a": ref, "b": {"window": w},
       "metrics": metrics} for w in order if w != "throughout"),
]
headline = study.comparison_table(rows)
glue_all({"n_comparisons": len(headline), "headline_min_seeds": int(headline["seeds"].min()),
          "t_two_seeds": study.t_quantile(0.975, 1),
          "n_detected": int((headline["verdict"] != "no difference detected").sum())})


def interval(split):  # "+0.0029 [+0.0011, +0.0047]"
    return [f"{d:+.4f} [{lo:+.4f}, {hi:+.4f}]" for d, lo, hi in
            zip(headline[f"{split}_diff"], headline[f"{split}_low"], headline[f"{split}_high"])]


shown = pd.DataFrame({"comparison (B vs A)": headline["comparison"], "seeds": headline["seeds"],
                      "validation": interval("val"), "test": interval("test"),
                      "detectable": headline["test_detectable"].map("{:.4f}".format),
                      "verdict": headline["verdict"]})
shown.style.hide(axis="index")
""")

md(r"""
(sec-vision-findings)=
## 7. What this chapter found

* **Small data.** On 1,000 images without normalization, the λ chosen on validation changes
  the test accuracy by {glue:text}`small_dacc:+.4f` [{glue:text}`small_dacc_lo:+.4f`,
  {glue:text}`small_dacc_hi:+.4f`] against no decay: {glue:text}`small_acc_verdict`, with a
  design that could detect about {glue:text}`small_dacc_det:.3f`.
* **The realistic regime.** With a BatchNorm ResNet on 50,000 images, augmentation and a
  cosine schedule, tuned weight decay changes the test accuracy by
  {glue:text}`rn_dtest_acc:+.4f` [{glue:text}`rn_dtest_acc_lo:+.4f`,
  {glue:text}`rn_dtest_acc_hi:+.4f`] ({glue:text}`rn_acc_verdict`; higher on
  {glue:text}`rn_wins` of {glue:text}`rn_pair_seeds` seeds, two of which chose λ; on the
  {glue:text}`rn_held_seeds` others alone {glue:text}`rn_held_acc_verdict`) and the test cross-entropy by
  {glue:text}`rn_dtest_loss:+.3f` ({glue:text}`rn_loss_verdict`); for calibration,
  {glue:text}`rn_ece_verdict`. Ten epochs on two cores is a short budget: the networks end at a
  training accuracy of {glue:text}`rn_train:.3f` (eval mode, without augmentation), short of
  fitting their training images, and these runs say nothing about longer schedules.
* **Learning rate × λ.** Loshchilov and Hutter's claim — axis-aligned valleys for decoupled
  decay, diagonal ones for coupled L2, in their parameterization — is
  **{glue:text}`basin_claim`** by these grids (slopes in {ref}`sec-vision-landscapes`).
* **Equilibrium.** With BatchNorm, runs whose training loss stays away from zero turn by
  {glue:text}`eq_rest_lo:.2f`–{glue:text}`eq_rest_hi:.2f` times the predicted equilibrium angle
  per step, for SGD and AdamW alike; runs that fit their training images turn far more slowly
  ({glue:text}`eq_fit_lo:.2f`–{glue:text}`eq_fit_hi:.2f` times).
* **Timing.** Against decay throughout, decay only in the first epochs changes the test
  accuracy by {glue:text}`tm_early:+.4f` ({glue:text}`tm_early_verdict`), decay only later
  by {glue:text}`tm_late:+.4f` ({glue:text}`tm_late_verdict`), no decay by
  {glue:text}`tm_never:+.4f` ({glue:text}`tm_never_verdict`). {glue:text}`tm_conclusion`,
  although no decay raises the test cross-entropy by {glue:text}`tm_never_loss:+.3f`
  [{glue:text}`tm_never_loss_lo:+.3f`, {glue:text}`tm_never_loss_hi:+.3f`].
* **Training-set size.** At {glue:text}`sc_steps` AdamW steps, a λ anywhere from
  {glue:text}`sc_wd_lo:g` to {glue:text}`sc_wd_hi:g` makes no difference in validation accuracy
  that the seeds can detect at any of the three sizes; in cross-entropy it does, but three
  optima on two seeds do not say how the best λ moves with the size of the training set.

(sec-vision-reproducing)=
## 8. Reproducing these results
""")

code(r"""
note = experiments.results_note("05_vision")
glue_all({"full_wall_min": note.wall_minutes})
print(note.text)
""")

md(r"""
The full profile took {glue:text}`full_wall_min:.1f` minutes of wall time with the command
printed above, run from the repository root (`make results-05` runs it; it resumes where a
killed run stopped, without redoing finished runs). Each row records the code version, the
library versions and the hardware that determine its bits; one row re-runs on its own and is
compared with the stored one ({mod}`wdlib.recheck`):

```bash
python -m wdlib.sweep fmnist-small --profile full --rerun <key>            # the whole run
python -m wdlib.sweep fmnist-small --profile full --rerun <key> \
    --prefix 1 --rtol auto                                                  # its first epoch
```

Equal bits are expected only where the row's recorded numerics match the machine that re-runs
it; elsewhere bfloat16 and float32 kernels round differently from the first step on.
""")


def main(path):
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    nbformat.write(nb, path)


if __name__ == "__main__":
    main(sys.argv[1])
