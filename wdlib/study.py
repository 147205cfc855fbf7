"""The study's protocol in code: choose on validation, compare paired by seed, report with intervals.

``../shared/STUDY.md`` (the book's protocol) asks that every choice be made on
validation by a rule written down before the results, that arms be compared
paired by seed with a 95 % interval, and that an optimum at the edge of its grid
be called censored.  These functions apply those rules to a run table (one row
per run: configuration columns, ``seed`` and metric columns, as
:func:`wdlib.experiments.load_results` returns it); they need pandas and numpy
only.

- :func:`select` — the rule "lowest mean validation error over seeds; ties go
  to the larger λ" (or any metric, direction and tie-break), per group, with the
  grid's edges flagged (``censored``).
- :func:`paired` — the mean paired difference of two arms over the seeds they
  share, its t-interval, and the smallest difference the design could detect.
- :func:`optimum_slope` — the orientation of a learning-rate × λ valley: the
  slope of log λ* against log learning rate, with a bootstrap interval over seeds.
- :func:`reproduction` — our runs' mean against a published number, with an
  interval that counts the run-to-run noise of both.
- :func:`calibration_error` — the expected calibration error of predicted
  probabilities (equal-width confidence bins).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["Comparison", "calibration_error", "comparison_table", "flatness", "optimum_slope", "paired",
           "reproduction", "select", "t_quantile"]


def _columns(runs: pd.DataFrame, names: Sequence[str], what: str) -> None:
    if not isinstance(runs, pd.DataFrame):
        raise TypeError(f"{what}: runs must be a pandas DataFrame (a run table); got {type(runs).__name__}")
    missing = [n for n in names if n not in runs.columns]
    if missing:
        raise ValueError(f"{what}: the run table has no column(s) {missing}; it has {list(runs.columns)}")


def t_quantile(q: float, df: int) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom.

    Parameters
    ----------
    q : float
        In (0, 1).
    df : int
        Degrees of freedom, >= 1.

    >>> round(t_quantile(0.975, 4), 3)
    2.776
    """
    from scipy import stats

    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    if not isinstance(df, (int, np.integer)) or df < 1:
        raise ValueError(f"df must be an integer >= 1, got {df!r}")
    return float(stats.t.ppf(q, df))


def select(runs: pd.DataFrame, over: str | Sequence[str] = "weight_decay", *, metric: str = "val_acc",
           by: Sequence[str] = (), maximize: bool = True, ties: str = "larger") -> pd.DataFrame:  # fmt: skip
    """For each group of ``by``, the value of ``over`` whose runs have the best mean ``metric`` over seeds.

    The rule, written before any result: average ``metric`` over the runs
    (seeds) at each value of ``over``; take the best mean (highest if
    ``maximize``); among values within 1e-12 of it, ``ties="larger"`` takes
    the largest value of ``over`` (the more regularized λ), ``"smaller"`` the
    smallest.  A choice at either end of the values tried in its group is
    ``censored`` (the optimum may lie beyond the grid).  ``over`` may name
    several columns (a learning rate × λ grid): the choice is then the best
    cell, ties broken on the columns in order, and it is censored when any of
    its coordinates lies at an end of that column's values.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run with the columns ``over``, ``metric`` and ``by``.
    over : str or sequence of str, default "weight_decay"
        The column(s) to choose a value of.
    metric : str, default "val_acc"
        The validation column to choose by (never a test column: see STUDY.md).
    by : sequence of str
        Columns that define the groups (one choice per group), e.g. ``["optimizer", "lr"]``.
    maximize : bool, default True
        Whether larger ``metric`` is better (accuracy) or smaller (loss, error).
    ties : {"larger", "smaller"}, default "larger"
        Which of equally good values to take.

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns, the ``over`` column(s) (the choice), ``metric`` (its mean),
        ``seeds`` (runs averaged), ``censored`` and ``edge`` (``"low"``/``"high"`` of a single ``over``
        column, or the names of the columns at an edge), and for a single column ``grid_low``/``grid_high``.

    Examples
    --------
    >>> runs = pd.DataFrame({"weight_decay": [0, 0, 1e-3, 1e-3, 1e-2, 1e-2], "seed": [0, 1] * 3,
    ...                      "val_acc": [0.80, 0.82, 0.84, 0.86, 0.83, 0.83]})
    >>> row = select(runs).iloc[0]
    >>> float(row["weight_decay"]), round(float(row["val_acc"]), 3), bool(row["censored"])
    (0.001, 0.85, False)
    """
    by = list(by)
    cols = [over] if isinstance(over, str) else list(over)
    if not cols or set(cols) & set(by):
        raise ValueError(f"select: over={over!r} must name one or more columns that are not in by={by}")
    _columns(runs, [*cols, metric, *by], "select")
    if ties not in ("larger", "smaller"):
        raise ValueError(f"select: ties must be 'larger' or 'smaller', got {ties!r}")
    if runs[metric].isna().any():
        bad = runs.loc[runs[metric].isna(), [*by, *cols]].drop_duplicates().to_dict("records")
        raise ValueError(f"select: {metric} is missing (NaN) for {bad[:3]}: choose on a column every run has")
    rows = []
    groups = runs.groupby(by, sort=True, dropna=False) if by else [((), runs)]
    for key, part in groups:
        means = part.groupby(cols)[metric].agg(["mean", "size"]).sort_index()
        best = means["mean"].max() if maximize else means["mean"].min()
        tied = means.index[(means["mean"] - best).abs() <= 1e-12]
        choice = tied.max() if ties == "larger" else tied.min()
        coords = choice if isinstance(choice, tuple) else (choice,)
        edges = []
        for col, value in zip(cols, coords):
            values = part[col].unique()
            if len(values) > 1 and value in (values.min(), values.max()):
                edges.append(("low" if value == values.min() else "high") if len(cols) == 1 else col)
        key = key if isinstance(key, tuple) else (key,)
        row = {**dict(zip(by, key)), **dict(zip(cols, coords)), metric: float(means.loc[choice, "mean"]),
               "seeds": int(means.loc[choice, "size"]), "censored": bool(edges), "edge": ", ".join(edges)}
        if len(cols) == 1:
            row.update(grid_low=part[cols[0]].min(), grid_high=part[cols[0]].max())
        rows.append(row)
    return pd.DataFrame(rows)


class Comparison(dict):
    """The result of :func:`paired`: a dict (``mean``, ``low``, ``high``, ``sd``, ``n``, ``detectable``,
    ``wins``: the seeds where B is higher, ``differences``) with a one-line ``str``."""

    def __str__(self) -> str:
        return (f"{self['mean']:+.4f} [{self['low']:+.4f}, {self['high']:+.4f}] over {self['n']} paired seeds "
                f"(B higher in {self['wins']}/{self['n']}; detectable ≈ {self['detectable']:.4f})")

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies entirely on one side of 0."""
        return bool(self["low"] > 0 or self["high"] < 0)


def paired(runs: pd.DataFrame, a: Mapping, b: Mapping, metric: str, *, pair_on: str = "seed",
           confidence: float = 0.95, power: float = 0.8) -> Comparison:  # fmt: skip
    """Arm ``b`` minus arm ``a`` on ``metric``, paired by ``pair_on``, with a t-interval.

    Each arm is a mapping of column → value that selects its runs (e.g.
    ``{"weight_decay": 0.0}``); the arms are compared on the seeds both have
    (each seed once per arm).  The difference of means equals the mean of the
    paired differences; its interval is the t-interval over those differences.
    ``detectable`` is the true difference this design would find with
    probability ``power`` at this confidence (two-sided), given the observed
    spread: ``(t_{1−α/2} + t_{power}) · sd / √n``.

    Parameters
    ----------
    runs : pandas.DataFrame
        The run table.
    a, b : mapping
        Column values that select each arm's runs.
    metric : str
        The column to compare.
    pair_on : str, default "seed"
        The column that pairs runs across arms.
    confidence : float, default 0.95
        Of the two-sided interval.
    power : float, default 0.8
        For the detectable difference.

    Examples
    --------
    >>> runs = pd.DataFrame({"wd": [0] * 5 + [1] * 5, "seed": list(range(5)) * 2,
    ...                      "acc": [0.80, 0.81, 0.79, 0.80, 0.82, 0.82, 0.83, 0.80, 0.82, 0.85]})
    >>> c = paired(runs, {"wd": 0}, {"wd": 1}, "acc")
    >>> round(c["mean"], 3), c["n"], c["wins"], c.excludes_zero
    (0.02, 5, 5, True)
    """
    _columns(runs, [metric, pair_on, *a, *b], "paired")
    if not 0 < confidence < 1 or not 0 < power < 1:
        raise ValueError(f"paired: confidence and power must be in (0, 1), got {confidence!r}, {power!r}")
    arms = []
    for name, arm in (("a", a), ("b", b)):
        if not isinstance(arm, Mapping) or not arm:
            raise TypeError(f"paired: arm {name} must be a non-empty mapping column -> value; got {arm!r}")
        mask = np.ones(len(runs), dtype=bool)
        for col, value in arm.items():
            mask &= (runs[col] == value).to_numpy()
        part = runs.loc[mask, [pair_on, metric]]
        if part[pair_on].duplicated().any():
            raise ValueError(f"paired: arm {name} {dict(arm)} has several runs per {pair_on}; add the columns "
                             "that tell them apart to the arm")
        arms.append(part.set_index(pair_on)[metric])
    common = arms[0].index.intersection(arms[1].index)
    if len(common) < 2:
        raise ValueError(f"paired: the arms share {len(common)} value(s) of {pair_on}; a paired interval needs >= 2")
    diff = (arms[1].loc[common] - arms[0].loc[common]).astype(float).sort_index()
    n = len(diff)
    mean, sd = float(diff.mean()), float(diff.std(ddof=1))
    half = t_quantile(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    detectable = (t_quantile(0.5 + confidence / 2, n - 1) + t_quantile(power, n - 1)) * sd / math.sqrt(n)
    return Comparison(mean=mean, low=mean - half, high=mean + half, sd=sd, n=n, detectable=detectable,
                      wins=int((diff > 0).sum()), differences=diff.to_dict())  # fmt: skip


def optimum_slope(runs: pd.DataFrame, *, x: str = "lr", over: str = "weight_decay", metric: str = "val_acc",
                  maximize: bool = True, seed: str = "seed", boot: int = 2000, random_state: int = 0,
                  confidence: float = 0.95) -> dict:  # fmt: skip
    """The valley's orientation: slope of log λ* (the best ``over`` per ``x``) against log ``x``.

    λ*(x) is :func:`select`'s choice at each ``x`` from the seeds' mean
    ``metric``; the slope is the least-squares line through the points
    (log10 x, log10 λ*).  The interval is a percentile bootstrap over seeds
    (``boot`` resamples of the seeds with replacement, each re-selecting the
    optima): 0 means the optimal λ does not move with ``x`` (a separable
    basin, as Loshchilov & Hutter claim for decoupled decay in their
    parameterization); −1 means that the product ``x``·λ is what matters.
    Values of ``over`` must be > 0 (drop λ = 0 first).

    With few seeds the bootstrap has few distinct resamples (``C(2s−1, s)``
    for ``s`` seeds: 3 for two seeds), and its interval only says how the
    seeds disagree.  ``fit_low``/``fit_high`` give the other uncertainty: the
    t-interval of the least-squares slope through the optima (``n − 2``
    degrees of freedom for ``n`` values of ``x``; NaN below three), which
    grows with the optima's scatter about the line, selection noise and grid
    steps included.  ``wide_low``/``wide_high`` span both (the bootstrap's
    alone where the line has no interval): the interval to base a verdict on.

    Parameters
    ----------
    runs : pandas.DataFrame
        One optimizer's grid: columns ``x``, ``over``, ``metric``, ``seed``.
    x, over : str
        The grid's axes (learning rate, λ).
    metric : str, default "val_acc"
        The validation column.
    maximize : bool, default True
        Whether larger ``metric`` is better.
    seed : str, default "seed"
        The column the bootstrap resamples.
    boot : int, default 2000
        Bootstrap resamples.
    random_state : int, default 0
        Seeds the bootstrap.
    confidence : float, default 0.95
        Of the percentile interval.

    Returns
    -------
    dict
        ``slope``, ``low``, ``high`` (bootstrap), ``fit_low``, ``fit_high`` (the line's t-interval), ``wide_low``,
        ``wide_high`` (their union), ``optima``
        (DataFrame of :func:`select` per ``x``), ``censored`` (how many of the per-``x`` optima lie at an edge of
        their grid), ``seeds``, ``resamples`` (distinct bootstrap resamples of the seeds).
    """
    _columns(runs, [x, over, metric, seed], "optimum_slope")
    if (runs[over] <= 0).any() or (runs[x] <= 0).any():
        raise ValueError(f"optimum_slope: {x} and {over} must be > 0 (a log-log fit); drop the zero rows first")
    if runs[x].nunique() < 2:
        raise ValueError(f"optimum_slope: needs >= 2 values of {x}, got {runs[x].nunique()}")

    def fit(table):
        opt = select(table, over, metric=metric, by=[x], maximize=maximize)
        return float(np.polyfit(np.log10(opt[x].astype(float)), np.log10(opt[over].astype(float)), 1)[0]), opt

    slope, optima = fit(runs)
    # the bootstrap re-applies select's rule on arrays: sums[s, i, j] of seed s at x_i, over_j (NaN: not run)
    seeds = np.sort(runs[seed].unique())
    cube = runs.pivot_table(index=seed, columns=[x, over], values=metric, aggfunc=["sum", "count"])
    xs = np.sort(runs[x].unique())
    overs = np.sort(runs[over].unique())
    full = pd.MultiIndex.from_product([xs, overs])
    sums = cube["sum"].reindex(index=seeds, columns=full).fillna(0).to_numpy().reshape(len(seeds), len(xs), -1)
    counts = cube["count"].reindex(index=seeds, columns=full).fillna(0).to_numpy().reshape(len(seeds), len(xs), -1)
    log_x, log_over = np.log10(xs.astype(float)), np.log10(overs.astype(float))
    rng = np.random.default_rng(random_state)
    draws = []
    for _ in range(int(boot)):
        weights = np.bincount(rng.integers(0, len(seeds), len(seeds)), minlength=len(seeds))
        n = np.tensordot(weights, counts, axes=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.tensordot(weights, sums, axes=1) / n
        mean = np.where(n > 0, mean if maximize else -mean, -np.inf)
        best = mean.max(axis=1, keepdims=True)
        tied = np.abs(mean - best) <= 1e-12
        j = len(overs) - 1 - np.argmax(tied[:, ::-1], axis=1)  # ties go to the larger value, as in select
        keep = np.isfinite(best[:, 0])
        draws.append(float(np.polyfit(log_x[keep], log_over[j[keep]], 1)[0]))
    low, high = np.quantile(draws, [(1 - confidence) / 2, (1 + confidence) / 2])
    fit_low = fit_high = math.nan
    points = len(optima)
    if points >= 3:
        u, v = np.log10(optima[x].astype(float).to_numpy()), np.log10(optima[over].astype(float).to_numpy())
        resid = v - np.polyval(np.polyfit(u, v, 1), u)
        se = math.sqrt(float(resid @ resid) / (points - 2) / float(((u - u.mean()) ** 2).sum()))
        half = t_quantile((1 + confidence) / 2, points - 2) * se
        fit_low, fit_high = slope - half, slope + half
    return {"slope": slope, "low": float(low), "high": float(high), "fit_low": fit_low, "fit_high": fit_high,
            "wide_low": float(np.nanmin([low, fit_low])), "wide_high": float(np.nanmax([high, fit_high])),
            "optima": optima, "censored": int(optima["censored"].sum()), "seeds": len(seeds),
            "resamples": math.comb(2 * len(seeds) - 1, len(seeds))}  # fmt: skip


@functools.lru_cache(maxsize=64)
def _studentized_range_quantile(q: float, k: int, df: int) -> float:
    from scipy.stats import studentized_range  # slow to evaluate (numerical integration): cached

    return float(studentized_range.ppf(q, k, df))


def flatness(runs: pd.DataFrame, over: str = "weight_decay", *, metric: str = "val_acc", by: Sequence[str] = (),
             seed: str = "seed", confidence: float = 0.95, blocked: bool = False) -> pd.DataFrame:
    """Whether a curve of ``metric`` against ``over`` is flatter than its seeds' noise: is there an optimum to find?

    For each group of ``by``: the ``spread`` (largest minus smallest mean
    ``metric`` over the ``k`` values of ``over``), the standard error ``se``
    of one mean (the within-value variance over seeds, pooled, divided by
    the number of seeds ``s``) and ``z = spread / se``.  Were the curve flat,
    ``z`` would follow the studentized range of ``k`` means with
    ``k(s − 1)`` degrees of freedom (Tukey's HSD); ``noise_high`` is its
    ``confidence`` quantile and ``flat`` is ``z <= noise_high``: the values
    of ``over`` differ by no more than the seeds alone make them differ, so an
    argmax over them picks noise.

    ``blocked=True`` treats each ``seed`` as a block shared by every value of
    ``over`` (the folds of a cross-validation, whose dev sets differ: a fold
    shifts every λ's accuracy alike): the variance is then that of the
    residuals of the additive model value + block, with ``(k − 1)(s − 1)``
    degrees of freedom (Tukey's test in a randomized block design), so that
    differences between blocks no longer count as noise.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run: columns ``over``, ``metric``, ``seed`` and ``by``; the same number of seeds at every value.
    over : str, default "weight_decay"
        The swept column.
    metric : str, default "val_acc"
        The column compared.
    by : sequence of str
        Columns that define the curves, e.g. ``["n_train"]``.
    seed : str, default "seed"
        The column that tells repeats apart.
    confidence : float, default 0.95
        Quantile of the studentized range for ``noise_high``.
    blocked : bool, default False
        Seeds as blocks (every seed at every value of ``over``), as above.

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns, ``values`` (k), ``seeds`` (s), ``spread``, ``se``, ``df``, ``z``,
        ``noise_high`` and ``flat``.
    """
    by = list(by)
    _columns(runs, [over, metric, seed, *by], "flatness")
    rows = []
    for key, group in (runs.groupby(by) if by else [((), runs)]):
        cells = group.groupby(over)[metric]
        n = cells.size()
        if n.min() < 2 or n.nunique() != 1:
            raise ValueError(f"flatness: needs the same number (>= 2) of {seed}s at every {over}; got {n.to_dict()}")
        k, s = len(n), int(n.iloc[0])
        means = cells.mean()
        if blocked:
            table = group.pivot_table(index=seed, columns=over, values=metric, aggfunc="mean")
            if table.shape != (s, k) or table.isna().any().any():
                raise ValueError(f"flatness: blocked=True needs every {seed} once at every {over}")
            resid = table.sub(table.mean(axis=1), axis=0).sub(table.mean(axis=0), axis=1) + table.to_numpy().mean()
            df = (k - 1) * (s - 1)
            se = math.sqrt(float((resid.to_numpy() ** 2).sum()) / df / s)
        else:
            df = k * (s - 1)
            se = math.sqrt(float(cells.var().mean()) / s)
        spread = float(means.max() - means.min())
        z = spread / se if se > 0 else math.inf
        high = _studentized_range_quantile(confidence, k, df)
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))), "values": k, "seeds": s,
                     "spread": spread, "se": se, "df": df, "z": z, "noise_high": high, "flat": bool(z <= high)})
    return pd.DataFrame(rows)


def calibration_error(probs, labels, *, bins: int = 15) -> float:
    """Expected calibration error: ``Σ_b (n_b / n) · |accuracy_b − confidence_b|`` over equal-width confidence bins.

    ``probs`` is an ``(n, classes)`` array of predicted probabilities (rows
    summing to 1), ``labels`` the ``n`` true classes; the confidence of a
    prediction is its largest probability (Guo et al. 2017, 15 bins).

    Parameters
    ----------
    probs : array-like, shape (n, classes)
        Predicted probabilities.
    labels : array-like, shape (n,)
        True classes.
    bins : int, default 15
        Equal-width bins of (0, 1].

    Examples
    --------
    >>> calibration_error([[0.9, 0.1], [0.9, 0.1]], [0, 1])  # 90 % confident, 50 % right
    0.4
    """
    p = np.asarray(probs, dtype=float)
    y = np.asarray(labels)
    if p.ndim != 2 or y.shape != (len(p),):
        raise ValueError(f"probs must be (n, classes) and labels (n,); got {p.shape} and {y.shape}")
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(float)
    which = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() / len(p) * abs(correct[mask].mean() - conf[mask].mean())
    return round(float(total), 12)


def comparison_table(rows: Sequence[Mapping], *, confidence: float = 0.95) -> pd.DataFrame:
    """The chapter's headline table: one :func:`paired` comparison per row, on validation and on test.

    Each row is a mapping with ``label``, ``runs`` (a run table), ``a`` and
    ``b`` (the arms, as in :func:`paired`), and ``metrics``: a pair of
    columns ``(validation, test)``, e.g. ``("val_acc", "test_acc")``; a row
    whose metrics are better when lower (losses, errors) sets
    ``"lower_is_better": True``, and a row whose arms are paired by another
    column than ``seed`` (the folds of a cross-validation) names it as
    ``"pair_on"``.

    Parameters
    ----------
    rows : sequence of mappings
        The comparisons, in the order the table lists them.
    confidence : float, default 0.95
        Of the intervals.

    Returns
    -------
    pandas.DataFrame
        ``comparison``, ``seeds`` (the pairs: seeds or folds), then for validation and test: ``val_diff``,
        ``val_low``, ``val_high`` and
        ``test_diff``, ``test_low``, ``test_high`` (B − A), ``test_detectable``, and ``verdict``: "B better",
        "A better" or "no difference detected" from the test interval.
    """
    out = []
    for row in rows:
        missing = {"label", "runs", "a", "b", "metrics"} - set(row)
        if missing:
            raise ValueError(f"comparison_table: row {row.get('label', '?')!r} lacks {sorted(missing)}")
        val_metric, test_metric = row["metrics"]
        pair_on = row.get("pair_on", "seed")
        val = paired(row["runs"], row["a"], row["b"], val_metric, pair_on=pair_on, confidence=confidence)
        test = paired(row["runs"], row["a"], row["b"], test_metric, pair_on=pair_on, confidence=confidence)
        sign = -1 if row.get("lower_is_better", False) else 1
        if test.excludes_zero:
            verdict = "B better" if sign * test["mean"] > 0 else "A better"
        else:
            verdict = "no difference detected"
        out.append({"comparison": row["label"], "seeds": test["n"], "val_diff": val["mean"], "val_low": val["low"],
                    "val_high": val["high"], "test_diff": test["mean"], "test_low": test["low"],
                    "test_high": test["high"], "test_detectable": test["detectable"], "verdict": verdict})  # fmt: skip
    return pd.DataFrame(out)


def reproduction(values, reported: float, *, reported_runs: int = 1, tolerance: float = 0.01,
                 confidence: float = 0.95) -> dict:  # fmt: skip
    """Is a published number reproduced?  Our runs' mean minus ``reported``, with an interval that counts both
    sides' run-to-run noise.

    ``values`` are our runs' results (seeds, or the folds of a cross-validation);
    ``reported`` is the published number, itself the mean of ``reported_runs``
    runs of the same kind (1: a single run).  Assuming the published runs vary
    as ours do, the gap's variance is ``s² (1/k + 1/reported_runs)`` with ``s``
    our runs' standard deviation and ``k`` their number, and its interval uses
    Student's t with ``k − 1`` degrees of freedom (only our runs estimate
    ``s``).  Examples: a ten-fold cross-validation mean reported from the
    author's own ten folds is ``reported_runs=10``; one run on the same test set
    as ours is ``reported_runs=1`` (the test sentences' sampling noise is then
    shared and cancels; what remains is the run-to-run spread ``s``).

    The verdict reads the interval: ``"within"`` if it lies inside
    ``±tolerance``, ``"different"`` if it excludes zero, else ``"unresolved"``
    (consistent with the published number, not to within the tolerance).

    Parameters
    ----------
    values : array-like of float
        Our runs' results, at least two.
    reported : float
        The published number, on the same scale as ``values``.
    reported_runs : int, default 1
        How many runs the published number averages.
    tolerance : float, default 0.01
        The half-width of "the same" (0.01: one point of accuracy).
    confidence : float, default 0.95
        Of the two-sided interval.

    Returns
    -------
    dict
        ``mean``, ``sd``, ``n``, ``gap`` (mean − reported), ``low``, ``high``, ``verdict``.

    Examples
    --------
    >>> runs = [0.80, 0.81, 0.79, 0.80, 0.82]
    >>> r = reproduction(runs, 0.805, reported_runs=5)
    >>> round(r["gap"], 4), round(r["low"], 4), round(r["high"], 4), r["verdict"]
    (-0.001, -0.021, 0.019, 'unresolved')
    >>> reproduction(runs, 0.805, reported_runs=5, tolerance=0.03)["verdict"]
    'within'
    >>> reproduction(runs, 0.761, reported_runs=5)["verdict"]
    'different'
    """
    x = np.asarray(values, dtype=float).ravel()
    if x.size < 2 or not np.isfinite(x).all():
        raise ValueError(f"reproduction: values must be at least two finite numbers; got {x.size} "
                         f"({int((~np.isfinite(x)).sum())} not finite)")
    if not isinstance(reported_runs, (int, np.integer)) or reported_runs < 1:
        raise ValueError(f"reproduction: reported_runs must be a positive integer (1 for a single run); "
                         f"got {reported_runs!r}")
    if not 0 < confidence < 1 or not tolerance >= 0:
        raise ValueError(f"reproduction: confidence must be in (0, 1) and tolerance >= 0; got {confidence!r}, "
                         f"{tolerance!r}")
    k, mean, sd = x.size, float(x.mean()), float(x.std(ddof=1))
    half = t_quantile(0.5 + confidence / 2, k - 1) * sd * math.sqrt(1 / k + 1 / reported_runs)
    gap = mean - float(reported)
    low, high = gap - half, gap + half
    verdict = ("within" if -tolerance <= low and high <= tolerance
               else "different" if low > 0 or high < 0 else "unresolved")  # fmt: skip
    return {"mean": mean, "sd": sd, "n": k, "gap": gap, "low": low, "high": high, "verdict": verdict}
