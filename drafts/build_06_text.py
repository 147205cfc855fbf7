"""Builds a SKELETON of chapters/06_text.ipynb for issue 21 from the study sweeps; run from the repository root.

    python drafts/build_06_text.py /tmp/06_draft.ipynb
    PYTHONPATH=$PWD python -m papermill /tmp/06_draft.ipynb /tmp/06_out.ipynb -p profile quick -k python3

It loads ``text-kim-study``, ``text-reg-study`` and ``lm-study`` and computes the tables the issue asks for
(Kim's table with the test-set standard error, the regularizer table with paired intervals against "none",
the LM table and its "lower final training loss" test, the norms against AdamW's equilibrium prediction).
The prose is placeholder text: the full results do not exist yet.  Not the chapter: CHAPTER_SWEEPS["06_text"]
still names the old sweeps.
"""

import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

cells = []


def md(text):
    cells.append(new_markdown_cell(text.strip("\n")))


def code(text, tags=("hide-input",)):
    cells.append(new_code_cell(text.strip("\n"), metadata={"tags": list(tags)} if tags else {}))


md(r"""
# Weight decay on text (DRAFT skeleton for issue 21)

Placeholder prose. Kim's CNN-rand reproduced with his 25 epochs, the regularizers compared at one
budget with λ chosen on the dev set, and a character transformer on fixed evaluation windows.
""")

code(r"""
# Parameters (papermill): `papermill chapters/06_text.ipynb out.ipynb -p profile quick`
seed: int = 0  # added to every run's seed; the committed results use 0
profile: str = "full"  # "full": the committed results of data/results/06_text/; "quick" (CI): a small version trained live
recompute: bool = False  # with profile "full": recompute the full sweeps into runs/ instead of loading them
""", tags=("parameters",))

code(r"""
import math

import numpy as np
import pandas as pd

from wdlib import config, data, experiments, study, tracking
from wdlib.models import build_model
from wdlib.pages import glue_all

config.check_profile(profile)


def load(name):
    return experiments.load_results(name, profile, seed=seed, recompute=recompute, complete=True)


kim, kim_hist = load("text-kim-study")
reg, emb_table = load("text-reg-study")
lm, lm_hist = load("lm-study")
glue_all({"n_runs": len(kim) + len(reg) + len(lm)})
print(f"{profile} profile: text-kim-study {len(kim)}, text-reg-study {len(reg)}, lm-study {len(lm)} runs")
""")

md(r"""
## 1. Kim's CNN-rand, reproduced

Kim's Table 2 (CNN-rand): MR 76.1, SST-2 82.7. MR: 10-fold cross-validation, each fold's dev set
(10 % of its training folds) chooses the epoch; SST-2: GLUE train, dev chooses the epoch, the labelled
test sentences report. The standard error of an accuracy $p$ on $n$ test sentences is
$\sqrt{p(1-p)/n}$: every MR sentence is tested once over the ten folds.
""")

code(r"""
KIM_TABLE2 = {"mr": 0.761, "sst2": 0.827}
N_TEST = {"mr": len(data.load_mr()[1]), "sst2": len(data.load_sst2("test")[1])}
bf16 = kim[kim["precision"] == "bfloat16"]
rows = []
for dataset, part in bf16.groupby("dataset"):
    acc = part["test_acc"]
    n = N_TEST[dataset] * (part["fold"].nunique() / part["folds"].iloc[0] if dataset == "mr" else 1)
    rows.append({"dataset": dataset, "runs": len(part), "over": "folds" if dataset == "mr" else "seeds",
                 "epochs": int(part["epochs"].iloc[0]), "test_acc": acc.mean(), "sd": acc.std(ddof=1),
                 "test_se": math.sqrt(acc.mean() * (1 - acc.mean()) / n), "kim": KIM_TABLE2[dataset],
                 "gap": acc.mean() - KIM_TABLE2[dataset],
                 "best_epoch_last": int((part["best_epoch"] == part["epochs"]).sum())})
kim_table = pd.DataFrame(rows)
kim_table["within_1pt"] = kim_table["gap"].abs() <= 0.01
precision_check = study.paired(kim, {"dataset": "mr", "precision": "float32"},
                               {"dataset": "mr", "precision": "bfloat16"}, "test_acc", pair_on="fold")
print(f"bfloat16 − float32 on MR folds: {precision_check}")
kim_table.round(4)
""", tags=())

md(r"""
## 2. The regularizers at one budget, λ chosen on dev

Rule, written before the results: for each form (Adam + L2, AdamW), dropout rate and treatment of the
embedding matrix, the λ with the highest mean dev accuracy over the folds, ties to the larger λ
({func}`wdlib.study.select`); a choice at an end of its grid is censored. Each chosen configuration is
then compared with "none" (same dropout) paired by fold ({func}`wdlib.study.comparison_table`).
""")

code(r"""
decayed = reg[reg["weight_decay"] > 0]
chosen = study.select(decayed, "weight_decay", metric="dev_acc", by=["optimizer", "dropout", "decay_embeddings"])
NAMES = {"adam": "Adam + L2", "adamw": "AdamW"}


def arm(opt, dropout, wd, embeddings=None, max_norm=0):
    out = {"optimizer": opt, "dropout": dropout, "weight_decay": wd, "max_norm": max_norm}
    return out if embeddings is None else {**out, "decay_embeddings": embeddings}


rows = []
for dropout in sorted(reg["dropout"].unique()):
    none = arm("adam", dropout, 0.0)
    rows.append({"label": f"max-norm 3 (dropout {dropout:g})", "a": none, "b": arm("adam", dropout, 0.0, max_norm=3.0)})
    for _, c in chosen[chosen["dropout"] == dropout].iterrows():
        where = "embeddings decayed" if c["decay_embeddings"] else "embeddings spared"
        rows.append({"label": f"{NAMES[c['optimizer']]} λ = {c['weight_decay']:g}{' (censored)' if c['censored'] else ''}, "
                              f"{where} (dropout {dropout:g})",
                     "a": none, "b": arm(c["optimizer"], dropout, c["weight_decay"], bool(c["decay_embeddings"]))})
reg_table = study.comparison_table([{**r, "runs": reg, "metrics": ("dev_acc", "test_acc"), "pair_on": "fold"}
                                    for r in rows])
last_epoch = float((reg["best_epoch"] == reg["epochs"]).mean())
glue_all({"reg_folds": int(reg["fold"].nunique()), "reg_last_epoch_share": last_epoch,
          "reg_censored": int(chosen["censored"].sum())})
display(chosen[["optimizer", "dropout", "decay_embeddings", "weight_decay", "dev_acc", "censored", "edge"]])
reg_table.round(4)
""", tags=())

md(r"""
## 3. Embedding-row norms against word frequency, at each form's chosen λ
""")

code(r"""
picked = []
for _, c in chosen[chosen["dropout"] == reg["dropout"].max()].iterrows():
    a = arm(c["optimizer"], c["dropout"], c["weight_decay"], bool(c["decay_embeddings"]))
    keys = reg.loc[np.logical_and.reduce([reg[k] == v for k, v in a.items()]), "key"]
    part = emb_table[emb_table["key"].isin(keys)]
    label = f"{NAMES[c['optimizer']]} λ={c['weight_decay']:g} {'decayed' if c['decay_embeddings'] else 'spared'}"
    picked.append(part.groupby("count_low")["norm"].mean().rename(label))
pd.concat(picked, axis=1).round(3)
""", tags=())

md(r"""
## 4. The character transformer: does weight decay lower the final training loss?

Andriushchenko et al.'s signature: with a learning rate decayed to near zero, weight decay ends with a
*lower training loss*. Losses are measured on fixed windows (the whole validation split and as many
evenly spaced training windows), the same for every run; three seeds per configuration.
""")

code(r"""
group = ["schedule", "decay", "weight_decay"]
lm_table = (lm.groupby(group)[["train_loss", "val_loss", "weight_norm"]].agg(["mean", "std"])
            .round(4))
signature = []
for schedule in sorted(lm["schedule"].unique()):
    base = {"schedule": schedule, "decay": "matrices", "weight_decay": 0.0}
    for _, c in lm[(lm["schedule"] == schedule) & (lm["weight_decay"] > 0)].drop_duplicates(group).iterrows():
        b = {"schedule": schedule, "decay": c["decay"], "weight_decay": c["weight_decay"]}
        if not ((lm["schedule"] == schedule) & (lm["weight_decay"] == 0)).any():
            continue
        for metric in ("train_loss", "val_loss"):
            d = study.paired(lm, base, b, metric)
            signature.append({**b, "metric": metric, "diff": d["mean"], "low": d["low"], "high": d["high"],
                              "seeds": d["n"], "lower": d["high"] < 0})
signature = pd.DataFrame(signature)
display(lm_table)
signature.round(4)
""", tags=())

md(r"""
The same difference along the run (history, paired by seed at each evaluation): weight decay's training
loss above the undecayed one while the learning rate is high, below it once it has decayed, would be
the signature.
""")

code(r"""
hist = lm_hist.merge(lm[["key", "seed", *group]], on="key")
cos = hist[(hist["schedule"] == "cosine") & (hist["decay"] == "matrices")]
wide = cos.pivot_table(index=["seed", "step"], columns="weight_decay", values="train_loss")
along = wide.sub(wide[0.0], axis=0).drop(columns=0.0).groupby("step").agg(["mean", "std"])
along.round(4)
""", tags=())

md(r"""
## 5. Weight norms against AdamW's equilibrium prediction

With a constant learning rate η and decay λ, the random-walk model predicts each matrix settles at
$\lVert W\rVert \approx \sqrt{\eta C/(2\lambda)}$ ($C$ entries; {func}`wdlib.tracking.adamw_equilibrium`).
No weight of this pre-LayerNorm transformer is exactly scale-invariant (LayerNorm precedes the
matrices, it does not follow them), so the prediction is a reference, not a theorem, here.
""")

code(r"""
const = lm[(lm["schedule"] == "constant") & (lm["weight_decay"] > 0)]
first = lm.iloc[0]
model = build_model("char_transformer", vocab_size=65, block_size=int(first["block_size"]),
                    n_layer=int(first["n_layer"]), n_head=int(first["n_head"]), n_embd=int(first["n_embd"]))
numel = {n: p.numel() for n, p in model.named_parameters() if p.dim() >= 2}
last = lm_hist[lm_hist["key"].isin(const["key"])].sort_values("step").groupby("key").tail(1)
rows = []
for _, run in const.iterrows():
    h = last[last["key"] == run["key"]].iloc[0]
    for name, c in numel.items():
        pred = tracking.adamw_equilibrium(float(run["lr"]), float(run["weight_decay"]), c)["norm"]
        rows.append({"weight_decay": run["weight_decay"], "seed": run["seed"], "name": name,
                     "norm": h[f"norm:{name}"], "predicted": pred, "ratio": h[f"norm:{name}"] / pred,
                     "steps_x_eta_lambda": run["steps"] * run["lr"] * run["weight_decay"]})
equilibrium = pd.DataFrame(rows).groupby(["weight_decay", "name"])[["norm", "predicted", "ratio",
                                                                    "steps_x_eta_lambda"]].mean()
equilibrium.round(3)
""", tags=())

md(r"""
## Reproducing

The full profiles, resumable (each into `data/results/06_text/<name>/`):

```bash
python -m wdlib.sweep text-kim-study --profile full --executor processes:2 --threads 1
python -m wdlib.sweep text-reg-study --profile full --executor processes:2 --threads 1
python -m wdlib.sweep lm-study --profile full --executor processes:2 --threads 1
```
""")

code(r"""
wall = {name: float(t["wall_seconds"].sum()) for name, t in (("text-kim-study", kim), ("text-reg-study", reg),
                                                             ("lm-study", lm))}
glue_all({"total_core_hours": sum(wall.values()) / 3600})
pd.Series(wall).div(60).round(1).rename("core-minutes")
""", tags=())


def main(path):
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    nbformat.write(nb, path)


if __name__ == "__main__":
    main(sys.argv[1])
