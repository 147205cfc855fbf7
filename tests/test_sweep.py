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

from wdlib import cli, sweep
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
                                                                     "value": [0.0] * 3})])
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
])
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
    from wdlib.runs import vision_run

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
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


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
            distributed.Client(cl) as client:
        runs = sweep.run_sweep(FN, SMOKE, sweep.Store(tmp_path / "dask", sweep="smoke"), executor=client.get_executor())
    assert len(runs) == len(SMOKE)
    _same(serial, sweep.Store(tmp_path / "dask", sweep="smoke"))


@pytest.mark.parametrize("args, message", [
    (["nope"], "unknown sweep 'nope'; choose one of fmnist-lambda"),
    (["fmnist-lambda", "--profile", "huge"], "has no profile 'huge'; choose one of smoke, quick, full"),
    (["fmnist-lambda", "--executor", "gpu:4"], "unknown executor 'gpu:4'"),
])
def test_cli_rejects_bad_arguments(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_a_thread_pool_is_refused_before_anything_runs(tmp_path):
    store = sweep.Store(tmp_path / "s", sweep="toy")
    with cf.ThreadPoolExecutor(2) as ex, pytest.raises(TypeError, match="ThreadPoolExecutor cannot run a sweep"):
        sweep.run_sweep(TOY, TOY_CONFIGS, store, executor=ex)
    assert not (tmp_path / "s").exists()


# --------------------------------------------------------------------------- #
# several writers, killed parents, orphaned files
# --------------------------------------------------------------------------- #
def slow_toy(config):
    """toy() after ``config['sleep']`` seconds, and once the file ``config['gate']`` exists if given
    (importable as tests.test_sweep:slow_toy)."""
    time.sleep(config.get("sleep", 0))
    gate, deadline = config.get("gate"), time.monotonic() + 120
    while gate and not Path(gate).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return toy({k: v for k, v in config.items() if k not in ("sleep", "gate")})


def _python(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


_ADDER = """
import sys, time
from wdlib import sweep
store = sweep.Store(sys.argv[1] if len(sys.argv) > 1 else {path!r}, sweep="toy")
while time.time() < {start}:  # both writers start together
    time.sleep(0.001)
for i in range({n}):
    config = {{"writer": {writer}, "i": i, "seed": 0}}
    store.add(config, {{"y": float(i)}}, __import__("pandas").DataFrame({{"step": [1], "value": [i]}}),
              sweep.provenance() | {{"threads": 1, "wall_seconds": 0.0, "finished_at": "now"}})
print("done")
"""


@pytest.mark.slow
def test_two_processes_adding_rows_at_once_lose_none(tmp_path):
    """Without the store's lock the last writer wins and the other's rows vanish; with it, every row is kept."""
    n, start = 25, time.time() + 2.0
    procs = [_python(_ADDER.format(path=str(tmp_path / "s"), start=start, n=n, writer=w)) for w in (0, 1)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    runs = sweep.Store(tmp_path / "s", sweep="toy").runs()
    hist = sweep.Store(tmp_path / "s", sweep="toy").history()
    print(f"two concurrent writers: rows expected {2 * n}, found {len(runs)}; history rows {len(hist)}")
    assert len(runs) == 2 * n and runs["key"].is_unique
    assert sorted(zip(runs["writer"], runs["i"])) == [(w, i) for w in (0, 1) for i in range(n)]
    assert len(hist) == 2 * n and set(hist["key"]) == set(runs["key"])


_SWEEPER = """
import sys
from wdlib import sweep
configs = sweep.expand({{"sleep": {sleep}, "gate": {gate!r}}}, sweep.grid(a=[0.1, 1 / 3, 2.0]), seeds=[0])
try:
    store = sweep.Store({path!r}, sweep={name!r})
    runs = sweep.run_sweep("tests.test_sweep:slow_toy", configs, store, wait={wait})
except (sweep.StoreBusyError, sweep.IncompatibleStoreError) as exc:
    print(type(exc).__name__, exc)
    sys.exit(3)
print("rows", len(runs))
"""


@pytest.mark.slow
def test_a_second_sweep_into_a_busy_store_refuses_or_waits_and_meta_keeps_its_sweep(tmp_path):
    path, gate = str(tmp_path / "s"), str(tmp_path / "gate")  # the first sweep's runs wait for the gate file
    first = _python(_SWEEPER.format(path=path, name="toy:quick", sleep=0, wait=0, gate=gate))
    while not (tmp_path / "s" / sweep.Store.WRITER_NAME).exists() and first.poll() is None:
        time.sleep(0.01)
    # the same sweep, started while the first runs: refused at once, naming the writer
    again = _python(_SWEEPER.format(path=path, name="toy:quick", sleep=0, wait=0, gate=gate))
    # another profile of it: refused by meta.json, which the first claimed the folder with
    other = _python(_SWEEPER.format(path=path, name="toy:full", sleep=0, wait=0, gate=gate))
    out, err = again.communicate(timeout=60)
    assert again.returncode == 3, out + err
    assert f"StoreBusyError the results store {path} is being written by process {first.pid}" in out
    assert "sweep 'toy:quick'" in out
    out, err = other.communicate(timeout=60)
    assert other.returncode == 3 and "IncompatibleStoreError" in out and "belongs to sweep 'toy:quick'" in out
    # the same sweep, willing to wait: it waits, then finds every run done
    waiter = _python(_SWEEPER.format(path=path, name="toy:quick", sleep=0, wait=60, gate=gate))
    Path(gate).touch()  # only now may the first sweep's runs finish
    assert first.communicate(timeout=60)[0].strip() == "rows 3"
    assert waiter.communicate(timeout=60)[0].strip() == "rows 3"
    assert json.loads((tmp_path / "s" / "meta.json").read_text())["sweep"] == "toy:quick"
    assert len(sweep.Store(path, sweep="toy:quick").runs()) == 3
    assert not (tmp_path / "s" / sweep.Store.WRITER_NAME).exists()


def test_orphaned_temporary_files_are_removed_on_the_next_open_unless_someone_writes(tmp_path):
    store = sweep.Store(tmp_path / "s", sweep="toy")
    sweep.run_sweep(TOY, TOY_CONFIGS[:2], store)
    orphan = tmp_path / "s" / ".runs.csv.k1ll3d.tmp"
    other = tmp_path / "s" / "notes.tmp"  # not ours: left alone
    other.write_text("x")
    with store.writing():  # while a writer holds the lock, its temporary file is not an orphan
        orphan.write_text("half a table")
        sweep.Store(tmp_path / "s", sweep="toy")
        assert orphan.exists()
    sweep.Store(tmp_path / "s", sweep="toy")
    assert not orphan.exists() and other.exists()
    orphan.write_text("half a table")  # as a writer SIGKILLed mid-write leaves it
    sweep.Store(tmp_path / "s", sweep="toy")
    assert not orphan.exists()
    assert len(sweep.Store(tmp_path / "s", sweep="toy").runs()) == 2


_POOLED = """
import sys
from wdlib import sweep
configs = sweep.expand({{"sleep": 60}}, sweep.grid(a=[0.1, 2.0]), seeds=[0])
sweep.run_sweep("tests.test_sweep:slow_toy", configs, sweep.Store({path!r}, sweep="toy"),
                executor=sweep.process_pool(2), progress=False)
"""


@pytest.mark.slow
def test_killing_the_sweep_ends_its_pool_workers_promptly(tmp_path):
    """SIGKILL the process that drives a process pool: its workers (mid-run, 60 s to go) exit within seconds."""
    psutil = pytest.importorskip("psutil")
    driver = _python(_POOLED.format(path=str(tmp_path / "s")))
    parent = psutil.Process(driver.pid)
    deadline = time.monotonic() + 60
    while len(parent.children()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = parent.children(recursive=True)
    assert len(workers) >= 2, "the pool did not start its workers"
    time.sleep(1.0)  # let both take their 60-second run
    driver.kill()
    driver.wait()
    killed = time.monotonic()

    def running():  # an exited worker stays a zombie until init reaps it: count it as gone
        return [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]

    while running() and time.monotonic() - killed < 10:
        time.sleep(0.01)
    seconds, alive = time.monotonic() - killed, running()
    for p in alive:
        p.kill()
    print(f"parent SIGKILLed: {len(workers) - len(alive)} of {len(workers)} pool workers exited within {seconds:.2f} s")
    assert not alive and seconds < 5


def test_an_empty_sweep_returns_an_empty_table(tmp_path):
    runs = sweep.run_sweep(TOY, [], sweep.Store(tmp_path / "s", sweep="toy"))
    assert runs.empty and runs.attrs["new"] == 0


def test_a_pool_first_used_from_a_short_lived_thread_keeps_its_workers():
    """The workers watch their parent process, not the thread that happened to fork them."""
    import threading

    pool = sweep.process_pool(1)
    try:
        t = threading.Thread(target=lambda: pool.submit(os.getpid).result())
        t.start()
        t.join()
        time.sleep(0.5)
        assert pool.submit(os.getpid).result(timeout=30) != os.getpid()
    finally:
        pool.shutdown()
