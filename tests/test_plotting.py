"""wdlib.plotting: the sweep figures draw what the table says (means, intervals, best cell)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from wdlib import plotting


@pytest.fixture
def runs():
    rows = [{"lr": lr, "weight_decay": wd, "seed": s, "optimizer": opt,
             "test_acc": 0.8 + 0.01 * s - abs(np.log10(wd + 1e-5) + 3) * 0.01 + (0.02 if opt == "adamw" else 0)}
            for lr in (0.01, 0.1) for wd in (0.0, 1e-4, 1e-3, 1e-2) for s in range(3) for opt in ("adam", "adamw")]
    return pd.DataFrame(rows)


def test_seed_summary_interval_is_a_t_interval(runs):
    s = plotting.seed_summary(runs[runs.optimizer == "adam"], "weight_decay", "test_acc", by="lr")
    row = s[(s.lr == 0.1) & (s.weight_decay == 1e-3)].iloc[0]
    values = runs[(runs.optimizer == "adam") & (runs.lr == 0.1) & (runs.weight_decay == 1e-3)]["test_acc"]
    half = 4.302652729911275 * values.std() / np.sqrt(3)  # t_{0.975, 2}
    assert row["n"] == 3 and row["mean"] == pytest.approx(values.mean())
    assert row["high"] - row["mean"] == pytest.approx(half)


def test_lambda_curve_draws_one_line_per_hue_and_baseline_for_zero(runs):
    ax = plotting.lambda_curve(runs[runs.lr == 0.1], hue="optimizer")
    assert [l.get_label() for l in ax.get_lines() if not l.get_label().startswith("_")] == \
        ["optimizer=adam", "optimizer=adamw"]
    assert ax.get_xscale() == "log" and len(ax.collections) == 2  # two shaded bands
    plt.close("all")


def test_heatmap_annotates_means_and_outlines_the_best(runs):
    ax = plotting.heatmap(runs[runs.optimizer == "adamw"], x="lr", y="weight_decay")
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 8
    best = runs[runs.optimizer == "adamw"].groupby(["weight_decay", "lr"])["test_acc"].mean().max()
    assert f"{best:.3f}" in texts and len(ax.patches) == 1
    plt.close("all")


def test_curves_from_history_and_tracker():
    h = pd.DataFrame({"epoch": [1, 2], "train_loss": [1.0, 0.5], "test_loss": [1.1, np.nan]})
    ax = plotting.training_curves(h)
    assert [l.get_label() for l in ax.get_lines()] == ["train", "test"]
    t = pd.DataFrame({"step": [1, 2, 1, 2], "name": ["a", "a", "b", "b"], "norm": [1, 2, 3, 4]})
    assert len(plotting.norm_trajectories(t).get_lines()) == 2
    plt.close("all")


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match=r"heatmap: columns \['lr'\] are not in the table"):
        plotting.heatmap(pd.DataFrame({"weight_decay": [0.1], "test_acc": [0.5]}))
    with pytest.raises(ValueError, match="no '\\*_acc' column"):
        plotting.training_curves(pd.DataFrame({"epoch": [1], "train_loss": [1.0]}), "acc")


def test_range_band_spans_the_seeds_and_bad_band_is_refused(runs):
    d = runs[(runs.lr == 0.1) & (runs.optimizer == "adam")]
    ax = plotting.lambda_curve(d, band="range")
    verts = ax.collections[0].get_paths()[0].vertices
    s = plotting.seed_summary(d, "weight_decay", "test_acc")
    s = s[s.weight_decay > 0]
    assert np.isclose(verts[:, 1].min(), s["min"].min()) and np.isclose(verts[:, 1].max(), s["max"].max())
    with pytest.raises(ValueError, match="band must be 't' or 'range'"):
        plotting.lambda_curve(d, band="sd")
    plt.close("all")


def test_heatmap_clips_colours_and_picks_readable_ink(runs):
    d = runs[runs.optimizer == "adamw"]
    means = d.groupby(["weight_decay", "lr"])["test_acc"].mean()
    lo, hi = float(means.min()) + 0.001, float(means.max()) - 0.001  # both ends saturate
    ax = plotting.heatmap(d, vmin=lo, vmax=hi, cmap="viridis")
    assert ax.images[0].get_clim() == (lo, hi)
    inks = {t.get_text(): t.get_color() for t in ax.texts}
    assert inks[f"{means.min():.3f}"] == "white" and inks[f"{means.max():.3f}"] == "black"  # dark and light ends
    plt.close("all")


def test_plain_log_ticks_label_a_short_log_axis():
    """An axis within one decade gets 2-and-5 labels; a long one keeps its powers of ten only."""
    import matplotlib.pyplot as plt

    fig, (short, long) = plt.subplots(1, 2)
    short.plot([1, 2], [0.003, 0.02])
    short.set_yscale("log")
    long.plot([1, 2], [1e-4, 1.0])
    long.set_yscale("log")
    plotting.plain_log_ticks(short, "y")
    plotting.plain_log_ticks(long, "y")
    fig.canvas.draw()

    def labels(ax):
        ticks = ax.yaxis.get_majorticklabels() + ax.yaxis.get_minorticklabels()
        return {t.get_text() for t in ticks if t.get_text()}

    assert {"0.005", "0.01", "0.02"} <= labels(short) and "0.003" not in labels(short)
    assert "0.01" in labels(long) and all(float(x) == 10 ** round(np.log10(float(x))) for x in labels(long))
    plt.close(fig)
