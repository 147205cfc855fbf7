"""wdlib.sweep: resumable, atomic, executor-agnostic; a real SIGKILL mid-sweep and a Dask LocalCluster."""

import concurrent.futures as cf
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from wdlib import sweep
from wdlib.experiments import SWEEPS

ROOT = Path(__file__).resolve().parents[1]
SMOKE = SWEEPS["fmnist-lambda"].configs("smoke")
FN = SWEEPS["fmnist-lambda"].fn


def _fmnist():
    from wdlib import data

    try:
        data.locate("fashion-mnist", "t10k-labels-idx1-ubyte.gz")
    except data.DataNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST not installed ({exc})")


def toy(config):
    """A cheap pure run function (importable as tests.test_sweep:toy)."""
    x = config["a"] * (config["seed"] + 1)
    return {"y": x / 3, "nan_ok": float("nan")}, pd.DataFrame({"step": [1, 2], "value": [x, x / 7]})


TOY = "tests.test_sweep:toy"
TOY_CONFIGS = sweep.expand({}, sweep.grid(a=[0.1, 1 / 3, 2.0]), seeds=[0, 1])


def _content(store):
    """What must agree between runs: everything but provenance, ordered by key."""
    runs = store.runs().drop(columns=list(sweep.PROVENANCE)).sort_values("key").reset_index(drop=True)
    hist = store.history().sort_values(["key", "step"]).reset_index(drop=True)
    return runs, hist


def _same(a, b):
    for x, y in zip(_content(a), _content(b)):
        pd.testing.assert_frame_equal(x, y, check_exact=True)


def test_serial_sweep_writes_every_run_with_provenance_and_round_trips_floats(tmp_path):
    store = sweep.Store(tmp_path / "s", sweep="toy")
    runs = sweep.run_sweep(TOY, TOY_CONFIGS, store)
    assert len(runs) == 6 and runs["key"].tolist() == [sweep.run_key(c) for c in TOY_CONFIGS]
    fresh = sweep.Store(tmp_path / "s", sweep="toy").runs().set_index("key")
    for c in TOY_CONFIGS:  # bit-for-bit through CSV
        assert fresh.loc[sweep.run_key(c), "y"] == toy(c)[0]["y"]
        assert json.loads(fresh.loc[sweep.run_key(c), "config"]) == c
    assert fresh["git_commit"].str.len().min() >= 7 and fresh["torch_version"].notna().all()
    assert (fresh["wall_seconds"] > 0).all() and fresh["machine"].str.contains("CPUs").all()
    assert len(sweep.Store(tmp_path / "s", sweep="toy").history()) == 12


def test_rerun_skips_finished_runs(tmp_path):
    store = sweep.Store(tmp_path / "s", sweep="toy")
    sweep.run_sweep(TOY, TOY_CONFIGS[:4], store)
    before = store.runs()
    mtime = store.runs_path.stat().st_mtime_ns
    sweep.run_sweep(TOY, TOY_CONFIGS[:4], sweep.Store(tmp_path / "s", sweep="toy"))
    assert store.runs_path.stat().st_mtime_ns == mtime  # nothing rewritten
    after = sweep.run_sweep(TOY, TOY_CONFIGS, sweep.Store(tmp_path / "s", sweep="toy"))
    assert len(after) == 6
    pd.testing.assert_frame_equal(after.iloc[:4].reset_index(drop=True), before)  # old rows kept as they were


def test_orphan_history_of_a_killed_run_is_ignored_then_replaced(tmp_path):
    """Killed between writing the history and the run table: no duplicate rows after the resume."""
    store = sweep.Store(tmp_path / "s", sweep="toy")
    sweep.run_sweep(TOY, TOY_CONFIGS[:1], store)
    orphan_key = sweep.run_key(TOY_CONFIGS[1])
    hist = pd.concat([pd.read_csv(store.history_path), pd.DataFrame({"key": [orphan_key] * 3, "step": [9, 9, 9],
                                                                     "value": [0.0] * 3})])  # fmt: skip
    hist.to_csv(store.history_path, index=False)
    assert orphan_key not in set(sweep.Store(tmp_path / "s", sweep="toy").history()["key"])
    sweep.run_sweep(TOY, TOY_CONFIGS, sweep.Store(tmp_path / "s", sweep="toy"))
    ref = sweep.Store(tmp_path / "ref", sweep="toy")
    sweep.run_sweep(TOY, TOY_CONFIGS, ref)
    _same(sweep.Store(tmp_path / "s", sweep="toy"), ref)
    assert len(pd.read_csv(store.history_path)) == 12


def test_process_pool_equals_serial(tmp_path):
    serial, pooled = sweep.Store(tmp_path / "a", sweep="toy"), sweep.Store(tmp_path / "b", sweep="toy")
    sweep.run_sweep(TOY, TOY_CONFIGS, serial)
    with cf.ProcessPoolExecutor(2) as ex:
        sweep.run_sweep(TOY, TOY_CONFIGS, pooled, executor=ex)
    _same(serial, pooled)


class _Minimal:
    """The least an executor needs: submit(fn, *args) -> object with .result()."""

    class _Done:
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

        def cancel(self):
            return False

    def submit(self, fn, *args):
        return self._Done(fn(*args))


def test_any_submit_result_executor_works(tmp_path):
    a, b = sweep.Store(tmp_path / "a", sweep="toy"), sweep.Store(tmp_path / "b", sweep="toy")
    sweep.run_sweep(TOY, TOY_CONFIGS, a)
    sweep.run_sweep(TOY, TOY_CONFIGS, b, executor=_Minimal())
    _same(a, b)


def test_parquet_store(tmp_path):
    pytest.importorskip("pyarrow")
    a, b = sweep.Store(tmp_path / "a", sweep="toy"), sweep.Store(tmp_path / "b", sweep="toy", fmt="parquet")
    sweep.run_sweep(TOY, TOY_CONFIGS, a)
    sweep.run_sweep(TOY, TOY_CONFIGS, b)
    assert b.runs_path.name == "runs.parquet"
    _same(a, sweep.Store(tmp_path / "b", sweep="toy", fmt="parquet"))


def test_incompatible_or_foreign_store_is_refused_and_left_untouched(tmp_path):
    store = sweep.Store(tmp_path / "s", sweep="toy")
    sweep.run_sweep(TOY, TOY_CONFIGS[:2], store)
    meta = json.loads(store.meta_path.read_text())
    store.meta_path.write_text(json.dumps({**meta, "version": 99}))
    snapshot = {p.name: p.read_bytes() for p in store.path.iterdir()}
    with pytest.raises(sweep.IncompatibleStoreError, match="version 99; this wdlib reads 'wdlib.sweep' version 1"):
        sweep.run_sweep(TOY, TOY_CONFIGS, sweep.Store(tmp_path / "s", sweep="toy"))
    assert {p.name: p.read_bytes() for p in store.path.iterdir()} == snapshot
    store.meta_path.write_text(json.dumps(meta))
    with pytest.raises(sweep.IncompatibleStoreError, match="belongs to sweep 'toy', not 'other'"):
        sweep.Store(tmp_path / "s", sweep="other")
    with pytest.raises(sweep.IncompatibleStoreError, match="open it with fmt='csv'"):
        sweep.Store(tmp_path / "s", sweep="toy", fmt="parquet")
    (tmp_path / "bare").mkdir()
    (tmp_path / "bare" / "runs.csv").write_text("a\n1\n")
    with pytest.raises(sweep.IncompatibleStoreError, match="no meta.json"):
        sweep.Store(tmp_path / "bare", sweep="toy")


@pytest.mark.parametrize("call, error, message", [
    (lambda: sweep.expand({}, [{"a": [1, 2]}], [0]), TypeError, "must be a JSON scalar"),
    (lambda: sweep.expand({}, [{"a": float("inf")}], [0]), ValueError, "finite numbers only"),
    (lambda: sweep.expand({}, [{"a": 1}, {"a": 1}], [0]), ValueError, "the same configuration twice"),
    (lambda: sweep.expand({}, [{"a": 1}], []), ValueError, "seeds must be a non-empty list"),
    (lambda: sweep.grid(a=[]), ValueError, "grid axis 'a' is empty"),
    (lambda: sweep.grid(a="abc"), TypeError, "must be a list of values"),
    (lambda: sweep.Store("x", sweep="t", fmt="hdf5"), ValueError, "unknown store format 'hdf5'"),
    (lambda: sweep.run_sweep("nowhere:fn", [{"a": 1, "seed": 0}], sweep.Store("/nonexistent/x", sweep="t")),
     ValueError, "cannot import run function 'nowhere:fn'"),
])  # fmt: skip
def test_bad_sweep_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_failing_run_keeps_the_finished_ones(tmp_path):
    store = sweep.Store(tmp_path / "s", sweep="toy")
    bad = [*TOY_CONFIGS[:2], {"a": "text", "seed": 0}]
    with pytest.raises(TypeError):
        sweep.run_sweep(TOY, bad, store)
    assert len(sweep.Store(tmp_path / "s", sweep="toy").runs()) == 2


def test_vision_run_rejects_unknown_keys_and_names():
    from wdlib.experiments import vision_run

    with pytest.raises(ValueError, match=r"unknown vision_run keys \['weight_deacy'\]"):
        vision_run({"seed": 0, "weight_deacy": 0.1})
    _fmnist()
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        vision_run({"seed": 0, "optimizer": "lion", "n_train": 100, "n_test": 10})
    with pytest.raises(ValueError, match="unknown decay rule 'biases'"):
        vision_run({"seed": 0, "decay": "biases", "n_train": 100, "n_test": 10})


def _cli(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "wdlib.sweep", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)  # fmt: skip


def _rows(path):
    try:
        return len(pd.read_csv(path))
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return 0


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume_equals_an_uninterrupted_run(tmp_path):
    """A real process is SIGKILLed twice mid-sweep; after the restarts the store equals a clean run's."""
    _fmnist()
    killed_store = tmp_path / "killed"
    for target in (1, 2):  # kill as soon as `target` runs are in the table
        proc = _cli("fmnist-lambda", "--profile", "smoke", "--store", str(killed_store))
        while _rows(killed_store / "runs.csv") < target and proc.poll() is None:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, "the sweep finished before it could be killed"
        assert _rows(killed_store / "runs.csv") < len(SMOKE)
    out, err = _cli("fmnist-lambda", "--profile", "smoke", "--store", str(killed_store)).communicate(timeout=300)
    assert "4 runs" in out and "already there" in out, err
    clean = tmp_path / "clean"
    assert _cli("fmnist-lambda", "--profile", "smoke", "--store", str(clean)).wait(timeout=300) == 0
    a, b = sweep.Store(killed_store, sweep="fmnist-lambda:smoke"), sweep.Store(clean, sweep="fmnist-lambda:smoke")
    assert len(a.runs()) == len(SMOKE) and a.runs()["key"].is_unique
    assert len(pd.read_csv(a.history_path)) == len(pd.read_csv(b.history_path))
    _same(a, b)


@pytest.mark.slow
def test_dask_local_cluster_equals_serial(tmp_path):
    _fmnist()
    distributed = pytest.importorskip("distributed")
    serial = sweep.Store(tmp_path / "serial", sweep="smoke")
    sweep.run_sweep(FN, SMOKE, serial)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:  # fmt: skip
        runs = sweep.run_sweep(FN, SMOKE, sweep.Store(tmp_path / "dask", sweep="smoke"), executor=client.get_executor())
    assert len(runs) == len(SMOKE)
    _same(serial, sweep.Store(tmp_path / "dask", sweep="smoke"))


@pytest.mark.parametrize("args, message", [
    (["nope"], "unknown sweep 'nope'; choose one of fmnist-lambda"),
    (["fmnist-lambda", "--profile", "huge"], "has no profile 'huge'; choose one of smoke, quick, full"),
    (["fmnist-lambda", "--executor", "gpu:4"], "unknown executor 'gpu:4'"),
])  # fmt: skip
def test_cli_rejects_bad_arguments(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        sweep.main(args)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_a_thread_pool_is_refused_before_anything_runs(tmp_path):
    store = sweep.Store(tmp_path / "s", sweep="toy")
    with cf.ThreadPoolExecutor(2) as ex, pytest.raises(TypeError, match="ThreadPoolExecutor cannot run a sweep"):
        sweep.run_sweep(TOY, TOY_CONFIGS, store, executor=ex)
    assert not (tmp_path / "s").exists()
