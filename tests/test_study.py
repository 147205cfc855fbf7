"""wdlib.study: the protocol's selection rule, paired intervals, valley orientation and calibration."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from wdlib import study


def _grid(values, seeds=(0, 1, 2)):
    rows = [{"weight_decay": wd, "seed": s, "val_acc": acc + 0.001 * s} for wd, acc in values.items() for s in seeds]
    return pd.DataFrame(rows)


def test_select_takes_the_best_mean_and_flags_edges():
    runs = _grid({0.0: 0.80, 1e-3: 0.85, 1e-2: 0.83})
    row = study.select(runs).iloc[0]
    assert row["weight_decay"] == 1e-3 and not row["censored"] and row["seeds"] == 3
    edge = study.select(_grid({0.0: 0.80, 1e-3: 0.82, 1e-2: 0.85})).iloc[0]
    assert edge["weight_decay"] == 1e-2 and edge["censored"] and edge["edge"] == "high"
    low = study.select(_grid({0.0: 0.80, 1e-3: 0.85}), metric="val_acc", maximize=False).iloc[0]
    assert low["weight_decay"] == 0.0 and low["edge"] == "low"


def test_select_breaks_ties_towards_the_larger_lambda_and_groups():
    runs = _grid({1e-4: 0.85, 1e-3: 0.85, 1e-2: 0.80})
    assert study.select(runs).iloc[0]["weight_decay"] == 1e-3
    assert study.select(runs, ties="smaller").iloc[0]["weight_decay"] == 1e-4
    both = pd.concat([runs.assign(lr=0.1), _grid({1e-4: 0.9, 1e-3: 0.8, 1e-2: 0.7}).assign(lr=0.01)])
    chosen = study.select(both, by=["lr"]).set_index("lr")["weight_decay"]
    assert chosen.to_dict() == {0.01: 1e-4, 0.1: 1e-3}


def test_select_refuses_missing_columns_and_nan():
    with pytest.raises(ValueError, match="no column"):
        study.select(_grid({0.0: 0.8}), metric="val_loss")
    runs = _grid({0.0: 0.8, 1e-3: 0.9})
    runs.loc[0, "val_acc"] = np.nan
    with pytest.raises(ValueError, match="missing"):
        study.select(runs)


def test_paired_matches_scipys_paired_t_test():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.8, 0.01, 7), rng.normal(0.81, 0.01, 7)
    runs = pd.DataFrame({"arm": ["a"] * 7 + ["b"] * 7, "seed": list(range(7)) * 2, "acc": np.r_[a, b]})
    c = study.paired(runs, {"arm": "a"}, {"arm": "b"}, "acc")
    ci = stats.ttest_rel(b, a).confidence_interval(0.95)
    assert c["mean"] == pytest.approx(np.mean(b - a)) and c["n"] == 7
    assert (c["low"], c["high"]) == pytest.approx((ci.low, ci.high))
    assert c["wins"] == int(np.sum(b > a))
    # the detectable difference: where a one-sample t-test of the differences has 80 % power (noncentral t)
    d, sd = c["detectable"], np.std(b - a, ddof=1)
    nc = d / (sd / np.sqrt(7))
    crit = stats.t.ppf(0.975, 6)
    power = 1 - stats.nct.cdf(crit, 6, nc) + stats.nct.cdf(-crit, 6, nc)
    assert 0.75 < power < 0.85


def test_paired_uses_only_shared_seeds_and_refuses_ambiguous_arms():
    runs = pd.DataFrame({"wd": [0, 0, 0, 1, 1], "seed": [0, 1, 2, 1, 2], "acc": [0.1, 0.2, 0.3, 0.5, 0.5]})
    c = study.paired(runs, {"wd": 0}, {"wd": 1}, "acc")
    assert c["n"] == 2 and c["mean"] == pytest.approx(0.25)
    dup = pd.concat([runs, runs.iloc[[0]]])
    with pytest.raises(ValueError, match="several runs per seed"):
        study.paired(dup, {"wd": 0}, {"wd": 1}, "acc")
    with pytest.raises(ValueError, match="share 1"):
        study.paired(runs.iloc[[0, 1, 3]], {"wd": 0}, {"wd": 1}, "acc")


def _valley(slope, seeds=range(4), noise=0.0):
    """Accuracy peaked at log10 λ* = c + slope·log10 lr, on a grid that holds every optimum inside."""
    rng = np.random.default_rng(1)
    rows = []
    for lr in [1e-3, 1e-2, 1e-1]:
        best = -3 + slope * (np.log10(lr) + 2)
        for wd in 10.0 ** np.arange(-6, 0.01, 0.5):
            for s in seeds:
                acc = 0.9 - 0.02 * (np.log10(wd) - best) ** 2 + noise * rng.normal()
                rows.append({"lr": lr, "weight_decay": wd, "seed": s, "val_acc": acc})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("slope", [0.0, -1.0])
def test_optimum_slope_recovers_the_valleys_orientation(slope):
    out = study.optimum_slope(_valley(slope), boot=200)
    assert out["slope"] == pytest.approx(slope, abs=1e-9) and out["censored"] == 0
    assert out["low"] - 1e-9 <= slope <= out["high"] + 1e-9
    noisy = study.optimum_slope(_valley(slope, seeds=range(5), noise=0.01), boot=300)
    assert noisy["low"] <= noisy["slope"] <= noisy["high"] and noisy["high"] - noisy["low"] > 0


def test_optimum_slope_fit_interval_is_statsmodels_ols_interval():
    """The line's t-interval through the per-lr optima equals statsmodels' OLS confidence interval of the slope."""
    sm = pytest.importorskip("statsmodels.api")
    out = study.optimum_slope(_valley(-0.5, seeds=range(3), noise=0.02), boot=50)
    opt = out["optima"]
    ols = sm.OLS(np.log10(opt["weight_decay"].astype(float)),
                 sm.add_constant(np.log10(opt["lr"].astype(float)))).fit()
    low, high = ols.conf_int(0.05).iloc[1]
    assert (out["fit_low"], out["fit_high"]) == pytest.approx((low, high), rel=1e-9, abs=1e-12)
    assert out["resamples"] == 10  # C(5, 3) distinct resamples of three seeds
    assert (out["wide_low"], out["wide_high"]) == pytest.approx((min(out["low"], low), max(out["high"], high)))
    two = study.optimum_slope(_valley(-0.5, seeds=range(2)).query("lr in [0.01, 0.1]"), boot=10)
    assert math.isnan(two["fit_low"]) and two["resamples"] == 3  # two points: no residual, two seeds
    assert (two["wide_low"], two["wide_high"]) == (two["low"], two["high"])


def test_optimum_slope_refuses_zero_lambda():
    with pytest.raises(ValueError, match="drop the zero rows"):
        study.optimum_slope(_valley(0.0).assign(weight_decay=0.0))


def test_calibration_error_against_a_direct_computation():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(500, 4)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 4, 500)
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0, 1, 16)
    expected = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            expected += m.mean() * abs((pred[m] == labels[m]).mean() - conf[m].mean())
    assert study.calibration_error(probs, labels) == pytest.approx(expected, abs=1e-12)
    perfect = np.eye(3)[[0, 1, 2]]
    assert study.calibration_error(perfect, [0, 1, 2]) == 0.0


def test_comparison_table_gives_each_row_its_paired_intervals_and_verdict():
    runs = pd.DataFrame({"wd": [0] * 5 + [1] * 5, "seed": list(range(5)) * 2,
                         "val_acc": [0.80, 0.81, 0.79, 0.80, 0.82, 0.82, 0.83, 0.80, 0.82, 0.85],
                         "test_acc": [0.80, 0.81, 0.79, 0.80, 0.82, 0.80, 0.82, 0.78, 0.81, 0.81]})
    table = study.comparison_table([{"label": "decay", "runs": runs, "a": {"wd": 0}, "b": {"wd": 1},
                                     "metrics": ("val_acc", "test_acc")}])
    row = table.iloc[0]
    assert row["val_diff"] == pytest.approx(0.02) and row["val_low"] > 0
    assert row["test_diff"] == pytest.approx(0.0) and row["verdict"] == "no difference detected"
    with pytest.raises(ValueError, match="lacks"):
        study.comparison_table([{"label": "x"}])


def test_select_over_a_grid_takes_the_best_cell_and_names_the_edges():
    runs = _valley(-1.0)  # optimum λ* = 10^(-3 - (log10 lr + 2))
    runs = runs[(runs["weight_decay"] >= 1e-5) & (runs["weight_decay"] <= 1e-2)]
    runs = runs.assign(val_acc=runs["val_acc"] + 0.01 * np.log10(runs["lr"]))  # the largest lr is best
    cell = study.select(runs, ["lr", "weight_decay"]).iloc[0]
    assert cell["lr"] == 0.1 and cell["weight_decay"] == pytest.approx(1e-4)
    assert cell["censored"] and cell["edge"] == "lr"


def test_optimum_slope_bootstrap_equals_reselecting_on_each_resample():
    """The vectorized bootstrap applies select's rule: the same draws as re-running select on each resample."""
    runs = _valley(-0.5, seeds=range(4), noise=0.01)
    runs = runs[~((runs["lr"] == 0.1) & (runs["seed"] == 3) & (runs["weight_decay"] > 1e-2))]  # a missing cell
    out = study.optimum_slope(runs, boot=200, random_state=7)
    rng = np.random.default_rng(7)
    seeds = np.sort(runs["seed"].unique())
    draws = []
    for _ in range(200):
        pick = seeds[rng.integers(0, len(seeds), len(seeds))]
        table = pd.concat([runs[runs["seed"] == s] for s in pick])
        opt = study.select(table, "weight_decay", by=["lr"])
        draws.append(np.polyfit(np.log10(opt["lr"]), np.log10(opt["weight_decay"]), 1)[0])
    assert (out["low"], out["high"]) == pytest.approx(tuple(np.quantile(draws, [0.025, 0.975])), abs=1e-12)


def test_comparison_table_reads_lower_as_better_for_losses():
    runs = pd.DataFrame({"wd": [0] * 4 + [1] * 4, "seed": list(range(4)) * 2,
                         "val_loss": [0.50, 0.52, 0.51, 0.53, 0.40, 0.43, 0.41, 0.42],
                         "test_loss": [0.50, 0.52, 0.51, 0.53, 0.40, 0.43, 0.41, 0.42]})
    row = {"label": "decay", "runs": runs, "a": {"wd": 0}, "b": {"wd": 1}, "metrics": ("val_loss", "test_loss")}
    assert study.comparison_table([row]).iloc[0]["verdict"] == "A better"
    assert study.comparison_table([{**row, "lower_is_better": True}]).iloc[0]["verdict"] == "B better"


def test_comparison_table_pairs_on_folds_when_a_row_says_so():
    """Cross-validation folds pair the arms of a text comparison (every run has seed 0)."""
    runs = pd.DataFrame({"reg": ["none"] * 5 + ["l2"] * 5, "fold": list(range(5)) * 2, "seed": 0,
                         "dev_acc": [0.70, 0.72, 0.71, 0.69, 0.73, 0.72, 0.74, 0.72, 0.70, 0.76],
                         "test_acc": [0.70, 0.72, 0.71, 0.69, 0.73, 0.72, 0.74, 0.72, 0.70, 0.76]})
    row = {"label": "L2", "runs": runs, "a": {"reg": "none"}, "b": {"reg": "l2"}, "metrics": ("dev_acc", "test_acc")}
    with pytest.raises(ValueError, match="several runs per seed"):
        study.comparison_table([row])  # paired by seed: one pair only
    out = study.comparison_table([{**row, "pair_on": "fold"}]).iloc[0]
    d = np.array([0.02, 0.02, 0.01, 0.01, 0.03])
    half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / np.sqrt(5)  # scipy's t-interval as the oracle
    assert out["seeds"] == 5 and out["test_diff"] == pytest.approx(d.mean())
    assert (out["test_low"], out["test_high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert out["verdict"] == "B better"


def test_flatness_knows_a_flat_curve_from_a_peaked_one():
    """Tukey's studentized range (statsmodels' qsturng as the oracle); pure-noise curves come out flat in about
    95 % of draws, a peaked curve does not."""
    from statsmodels.stats.libqsturng import qsturng

    rng = np.random.default_rng(3)
    wds = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
    rows = [{"size": size, "weight_decay": wd, "seed": s, "val_acc": 0.9 + 0.01 * rng.normal()
             - (0.05 * (np.log10(wd) + 2) ** 2 if size == "peaked" else 0.0)}
            for size in ["flat", "peaked"] for wd in wds for s in range(3)]
    out = study.flatness(pd.DataFrame(rows), by=["size"]).set_index("size")
    assert out.loc["flat", "noise_high"] == pytest.approx(qsturng(0.95, 7, 14), rel=1e-3)
    assert bool(out.loc["flat", "flat"]) and not bool(out.loc["peaked", "flat"])
    cells = pd.DataFrame(rows).query("size == 'flat'").groupby("weight_decay")["val_acc"]
    assert out.loc["flat", "se"] == pytest.approx(np.sqrt(cells.var().mean() / 3))
    share = np.mean([bool(study.flatness(pd.DataFrame({
        "weight_decay": np.repeat(wds, 2), "seed": np.tile([0, 1], 7),
        "val_acc": np.random.default_rng(i).normal(size=14)}))["flat"].iloc[0]) for i in range(400)])
    assert 0.91 < share < 0.99  # pure noise: flat in about 95 % of draws
    with pytest.raises(ValueError, match="same number"):
        study.flatness(pd.DataFrame(rows).iloc[1:])


def test_blocked_flatness_removes_the_blocks_and_matches_a_two_way_anova():
    """Folds as blocks: the residual variance of value + block (statsmodels' OLS as the oracle), Tukey's quantile
    at (k − 1)(s − 1) degrees of freedom; pure noise on top of large block shifts is flat in about 95 % of draws,
    and a peak smaller than the block shifts is found blocked but not unblocked."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.libqsturng import qsturng

    wds = [1e-3, 1e-2, 1e-1, 1.0, 10.0]

    def draw(i, peak=0.0):
        rng = np.random.default_rng(i)
        shift = rng.normal(scale=0.05, size=5)  # one dev set per fold: every λ moves together
        return pd.DataFrame([{"weight_decay": wd, "fold": f, "dev_acc": 0.8 + shift[f] + 0.005 * rng.normal()
                              + (peak if wd == 0.1 else 0.0)} for wd in wds for f in range(5)])

    runs = draw(0)
    out = study.flatness(runs, metric="dev_acc", seed="fold", blocked=True).iloc[0]
    fit = smf.ols("dev_acc ~ C(weight_decay) + C(fold)", data=runs).fit()
    assert out["df"] == fit.df_resid == 16 and out["se"] == pytest.approx(np.sqrt(fit.mse_resid / 5), rel=1e-10)
    assert out["noise_high"] == pytest.approx(qsturng(0.95, 5, 16), rel=1e-3)
    share = np.mean([bool(study.flatness(draw(i), metric="dev_acc", seed="fold", blocked=True)["flat"].iloc[0])
                     for i in range(1, 401)])
    assert 0.91 < share < 0.99
    peaked = draw(7, peak=0.02)
    assert not study.flatness(peaked, metric="dev_acc", seed="fold", blocked=True)["flat"].iloc[0]
    assert study.flatness(peaked, metric="dev_acc", seed="fold")["flat"].iloc[0]  # the block shifts hide it
    with pytest.raises(ValueError, match="every fold once at every weight_decay"):
        study.flatness(runs.assign(fold=runs["fold"].where(runs.index != 0, 1)), metric="dev_acc", seed="fold",
                       blocked=True)  # fold 1 twice at λ = 0.001, fold 0 never


def test_reproduction_interval_is_the_two_sample_formula_with_our_runs_variance():
    x = np.array([0.752, 0.761, 0.770, 0.748, 0.759, 0.766, 0.755, 0.771, 0.744, 0.763])
    for m in (1, 10):
        r = study.reproduction(x, 0.761, reported_runs=m)
        half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) * math.sqrt(1 / len(x) + 1 / m)
        assert r["gap"] == pytest.approx(x.mean() - 0.761)
        assert (r["low"], r["high"]) == pytest.approx((r["gap"] - half, r["gap"] + half), rel=1e-12)
        assert r["n"] == 10 and r["sd"] == pytest.approx(x.std(ddof=1))
    assert study.reproduction(x, 0.759, reported_runs=10)["verdict"] == "within"  # gap -0.01 pts ± 0.92
    assert study.reproduction(x, 0.759, reported_runs=1)["verdict"] == "unresolved"  # ± 2.2 points: not within 1
    assert study.reproduction(x, 0.80, reported_runs=10)["verdict"] == "different"


@pytest.mark.parametrize("k, m", [(10, 10), (3, 1)])
def test_reproduction_interval_covers_a_true_reproduction_at_its_confidence(k, m):
    """Simulation: our k runs and the author's mean of m runs drawn from the same distribution; the 95 % interval
    of the gap should hold 0 in about 95 % of draws (binomial 99.9 % band over 4,000 draws: ±1.1 points)."""
    rng = np.random.default_rng(0)
    draws = 4000
    ours = rng.normal(0.76, 0.012, size=(draws, k))
    theirs = rng.normal(0.76, 0.012, size=(draws, m)).mean(axis=1)
    held = np.mean([(r := study.reproduction(o, t, reported_runs=m))["low"] <= 0 <= r["high"]
                    for o, t in zip(ours, theirs)])
    assert abs(held - 0.95) < 3.3 * math.sqrt(0.95 * 0.05 / draws), held
    # without the published side's noise (the usual "is the paper's number in our interval?") it under-covers
    naive = np.mean([abs(o.mean() - t) <= stats.t.ppf(0.975, k - 1) * o.std(ddof=1) / math.sqrt(k)
                     for o, t in zip(ours, theirs)])
    assert naive < 0.90


def test_reproduction_refuses_bad_input_naming_the_argument():
    with pytest.raises(ValueError, match="values must be at least two"):
        study.reproduction([0.76], 0.761)
    with pytest.raises(ValueError, match="values must be at least two"):
        study.reproduction([0.76, float("nan")], 0.761)
    with pytest.raises(ValueError, match="reported_runs must be a positive integer"):
        study.reproduction([0.76, 0.77], 0.761, reported_runs=0)
    with pytest.raises(ValueError, match="confidence"):
        study.reproduction([0.76, 0.77], 0.761, confidence=95)
