"""wdlib.recheck: a stored run executed again, bit for bit where the numerics match, within tolerances elsewhere."""

import json
import math

import pandas as pd
import pytest

from wdlib import recheck as rc
from wdlib import sweep


def stepped(config, *, stop_after=None):
    """A toy run with a per-epoch history that can stop early (importable as tests.test_recheck:stepped)."""
    epochs = config["epochs"] if stop_after is None else min(stop_after, config["epochs"])
    loss = [config["a"] / (e + 1) + config.get("noise", 0.0) * e for e in range(epochs)]
    history = pd.DataFrame({"epoch": range(1, epochs + 1), "loss": loss, "acc": [0.5] * epochs})
    return {"loss": loss[-1], "weight_norm": config["a"] * 2}, history


FN = "tests.test_recheck:stepped"


@pytest.fixture
def store(tmp_path):
    s = sweep.Store(tmp_path / "s", sweep="stepped")
    sweep.run_sweep(FN, sweep.expand({"epochs": 5}, sweep.grid(a=[1.0, 3.0]), seeds=[0, 1]), s)
    return s


def _edit(store, **values):
    runs = store.runs()
    for k, v in values.items():
        runs[k] = v
    runs.to_csv(store.runs_path, index=False)
    return sweep.Store(store.path, sweep=store.sweep)


def test_a_run_on_the_same_machine_is_identical_and_bits_are_expected(store):
    key = store.runs()["key"].iloc[0]
    check = rc.recheck(FN, store, key)
    assert check.bits_expected and check.identical and check.passed() and check.status() == "PASS"
    assert check.summary().startswith(f"PASS: run {key} (2 metrics)")
    assert "equal bits expected" in check.why()
    prefix = rc.recheck(FN, store, key, prefix=2)
    assert prefix.identical and len(prefix.compared) == 2 and set(prefix.history["column"]) == {"loss", "acc"}


def test_a_row_from_another_machine_is_compared_within_a_tolerance(store):
    key = store.runs()["key"].iloc[0]
    other = _edit(store, cpu="Some Other CPU (GenuineIntel, cpu family 6 model 143 stepping 8)")
    check = rc.recheck(FN, other, key)
    assert not check.bits_expected and list(check.differ) == ["cpu"]
    assert "cpu: Some Other CPU" in check.why() and check.identical
    old = _edit(store, cpu=float("nan"), onednn=float("nan"))  # a row written before wdlib 0.2
    assert "the row does not record cpu, onednn (written before wdlib 0.2)" in rc.recheck(FN, old, key).why()


def test_a_changed_number_fails_where_bits_are_expected_and_is_judged_by_rtol_elsewhere(store):
    runs = store.runs()
    key = runs["key"].iloc[0]
    runs.loc[0, "loss"] *= 1 + 1e-9
    runs.to_csv(store.runs_path, index=False)
    check = rc.recheck(FN, sweep.Store(store.path, sweep="stepped"), key)
    assert not check.identical and check.status() == "FAIL" and check.status(rtol=1.0) == "FAIL"
    assert 0.9e-9 < check.max_rel_diff < 1.1e-9 and "in loss" in check.summary()
    other = _edit(sweep.Store(store.path, sweep="stepped"), cpu="elsewhere")
    check = rc.recheck(FN, other, key)
    assert check.status() == "REPORT" and check.status(rtol=1e-8) == "PASS" and check.status(rtol=1e-10) == "FAIL"


def test_a_prefix_compares_the_histories_first_rows_but_not_their_accuracies(store):
    key = store.runs()["key"].iloc[0]
    hist = pd.read_csv(store.history_path)
    rows = hist.index[hist["key"] == key]
    hist.loc[rows[0], "acc"] = 0.6  # a flipped prediction: reported, not held to the tolerance
    hist.loc[rows[3], "loss"] += 1.0  # beyond the prefix: not compared
    hist.to_csv(store.history_path, index=False)
    check = rc.recheck(FN, sweep.Store(store.path, sweep="stepped"), key, prefix=2)
    assert check.identical and check.history["rel_diff"].max() > 0.1
    hist.loc[rows[1], "loss"] *= 1 + 1e-6
    hist.to_csv(store.history_path, index=False)
    check = rc.recheck(FN, sweep.Store(store.path, sweep="stepped"), key, prefix=2)
    assert "loss at row 1" in check.summary() and 0.9e-6 < check.max_rel_diff < 1.1e-6


@pytest.mark.parametrize("kwargs, match", [
    ({"key": "nosuchkey"}, "no run 'nosuchkey'"),
    ({"prefix": 0}, "prefix must be an integer >= 1"),
])
def test_bad_recheck_requests_are_refused(store, kwargs, match):
    kwargs = {"key": store.runs()["key"].iloc[0], **kwargs}
    with pytest.raises(ValueError, match=match):
        rc.recheck(FN, store, kwargs.pop("key"), **kwargs)


def test_a_history_that_does_not_line_up_is_refused(store):
    key = store.runs()["key"].iloc[0]
    hist = pd.read_csv(store.history_path)
    hist[hist["key"] != key].to_csv(store.history_path, index=False)
    with pytest.raises(ValueError, match=r"the re-run's history \(2 rows.*is not a prefix of the stored one \(0 rows"):
        rc.recheck(FN, sweep.Store(store.path, sweep="stepped"), key, prefix=2)
    hist["epoch"] = hist["epoch"] + 1
    hist.to_csv(store.history_path, index=False)
    with pytest.raises(ValueError, match=r"rows \(\['epoch'\]\) do not line up"):
        rc.recheck(FN, sweep.Store(store.path, sweep="stepped"), key, prefix=2)


def test_seed_tolerance_pools_the_spread_of_configurations_with_several_seeds():
    runs = pd.DataFrame({"lr": [1, 1, 1, 2, 2, 3], "seed": [0, 1, 2, 0, 1, 0], "acc": [0.80, 0.82, 0.81, 0.7, 0.74, 0.5]})
    pooled = math.sqrt((0.0002 + 0.0008) / 3)  # sums of squares 0.0002 (2 df) and 0.0008 (1 df)
    assert rc.seed_tolerance(runs, "acc", ["lr"]) == pytest.approx(3 * math.sqrt(2) * pooled)
    with pytest.raises(ValueError, match="no configuration of"):
        rc.seed_tolerance(runs[runs["lr"] == 3], "acc", ["lr"])


def test_numerics_differ_names_each_field_that_sets_the_bits():
    here = {**sweep.provenance(), "threads": 2}
    row = dict(here)
    assert sweep.numerics_differ(row, here) == {}
    row.update(cpu_capability="AVX2", threads=1)
    assert sweep.numerics_differ(row, here) == {"cpu_capability": ("AVX2", here["cpu_capability"]), "threads": (1, 2)}
    assert set(sweep.numerics_differ({}, here)) == set(sweep.NUMERICS)
    assert json.dumps(here)  # JSON scalars, one table cell each


# --------------------------------------------------------------------------- #
# the committed results, re-checked on this machine (slow: real training)
# --------------------------------------------------------------------------- #
def _committed(name):
    from wdlib.data import DataNotFoundError, locate
    from wdlib.experiments import SWEEPS, results_folder

    try:  # the data every committed sweep below trains on
        locate("fashion-mnist", "t10k-labels-idx1-ubyte.gz") if name.startswith("fmnist") else None
        locate("mr", "rt-polarity.neg") if name.startswith("text") else None
        locate("tinyshakespeare", "input.txt") if name.startswith("lm") else None
    except DataNotFoundError as exc:
        pytest.skip(f"data for {name} not installed ({exc})")
    spec = SWEEPS[name]
    return spec, sweep.Store(results_folder(name), sweep=f"{name}:full")


#: sweep -> the prefix a cross-machine re-check runs (epochs; steps for the language model: one evaluation)
PREFIX = {"fmnist-optimizers": 1, "fmnist-bn": 1, "text-kim": 1, "lm-decay": 250}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PREFIX))
def test_a_committed_row_rechecks_on_this_machine(name, report):
    """The sweep's cheapest committed row: bit for bit where its numerics match this machine; elsewhere its
    first epoch (or evaluation) within ten times the run's own rounding sensitivity, measured here."""
    spec, store = _committed(name)
    runs = store.runs()
    key = runs.sort_values("wall_seconds")["key"].iloc[0]
    row = runs.set_index("key").loc[key]
    if not sweep.numerics_differ(row.to_dict()):
        check = rc.recheck(spec.fn, store, key)
        report(f"{name}: bitwise, full re-run: {check.summary()}")
        assert check.identical, check.summary()
        return
    sens = rc.rounding_sensitivity(spec.fn, json.loads(row["config"]), prefix=PREFIX[name], threads=int(row["threads"]))
    rtol = rc.prefix_tolerance(sens)
    check = rc.recheck(spec.fn, store, key, prefix=PREFIX[name])
    measured = ", ".join(f"{k} {v:.1e}" for k, v in sens.items())
    report(f"{name}: prefix, tolerance {rtol:.1e} = max({rc.PREFIX_FACTOR:g} × rounding sensitivity here "
           f"[{measured}], {rc.PREFIX_FLOOR:g}): {check.summary(rtol)}")
    assert check.passed(rtol), check.summary(rtol)


def _arm(config: str) -> str:
    return json.dumps({k: v for k, v in json.loads(config).items() if k != "seed"}, sort_keys=True)


@pytest.mark.slow
@pytest.mark.parametrize("name, where", [
    # AdamW at lr 1e-3: pooled seed sd of test accuracy 0.6 points, the lowest of the four optimizers
    ("fmnist-optimizers", {"optimizer": "adamw"}),
    # the character transformer: λ ∈ {0, 0.1, 1} on two seeds each
    ("lm-decay", {}),
])
def test_a_low_variance_committed_row_reruns_within_the_seed_spread(name, where, report):
    """A whole committed run, re-run: every metric within z·√2·(pooled seed sd) of the stored value (any machine)."""
    spec, store = _committed(name)
    runs = store.runs()
    runs["arm"] = runs["config"].map(_arm)
    for k, v in where.items():
        runs = runs[runs[k] == v]
    seeded = runs[runs.groupby("arm")["seed"].transform("size") >= 2]
    key = seeded.sort_values("wall_seconds")["key"].iloc[0]
    check = rc.recheck(spec.fn, store, key)
    lines = []
    for metric, r in check.metrics.iterrows():
        tol = rc.seed_tolerance(seeded, metric, ["arm"])
        lines.append(f"{metric} {abs(r['now'] - r['stored']):.2g} <= {tol:.2g}")
        assert abs(r["now"] - r["stored"]) <= tol, f"{metric}: stored {r['stored']}, now {r['now']}, tolerance {tol}"
    report(f"{name}: full re-run of {key} within 3·√2·seed sd ({len(seeded)} runs, {seeded['arm'].nunique()} "
           f"configurations): {'; '.join(lines)}; {check.why()}")


def test_seed_tolerance_leaves_missing_values_out_and_tolerances_must_be_finite():
    runs = pd.DataFrame({"lr": [1, 1, 2, 2, 2], "acc": [0.80, float("nan"), 0.70, 0.74, 0.72]})
    assert rc.seed_tolerance(runs, "acc", ["lr"]) == pytest.approx(3 * math.sqrt(2) * 0.02)  # only lr=2 has 2 values
    with pytest.raises(ValueError, match="not finite"):
        rc.prefix_tolerance({"threads 2": float("inf")})


def flat(config):
    """A run function without stop_after (importable as tests.test_recheck:flat)."""
    return {"loss": config["a"]}, pd.DataFrame({"count_low": [1, 2], "norm": [config["a"], 2.0]})


def test_a_prefix_of_a_run_without_stop_after_or_with_nothing_to_compare_is_refused(tmp_path):
    s = sweep.Store(tmp_path / "flat", sweep="flat")
    sweep.run_sweep("tests.test_recheck:flat", sweep.expand({}, sweep.grid(a=[1.0]), seeds=[0]), s)
    key = s.runs()["key"].iloc[0]
    with pytest.raises(ValueError, match="takes no stop_after"):
        rc.recheck("tests.test_recheck:flat", s, key, prefix=1)
    runs = s.runs().rename(columns={"loss": "other"})
    runs.to_csv(s.runs_path, index=False)
    with pytest.raises(ValueError, match="nothing to compare"):
        rc.recheck("tests.test_recheck:flat", sweep.Store(s.path, sweep="flat"), key)
