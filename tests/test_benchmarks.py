"""The benchmarks run and report what they claim (tiny sizes; no timing is asserted)."""

import pytest

from wdlib.benchmarks import __main__ as bench_cli
from wdlib.benchmarks import ridge as ridge_bench


@pytest.mark.slow
def test_ridge_benchmark_table_has_every_method_and_ratio_one_for_wdlib():
    df = ridge_bench.run([(40, 5), (10, 30)], n_alphas=5, repeat=1)
    assert set(df["method"]) == {"wdlib", "Ridge loop", "RidgeCV svd", "RidgeCV eigen", "bare SVD"}
    assert len(df) == 10 and (df["seconds"] > 0).all() and (df["peak_mib"] >= 0).all()
    assert (df.loc[df.method == "wdlib", "ratio"] == 1.0).all()


@pytest.mark.slow
def test_ridge_benchmark_cli_prints_table_and_writes_csv(tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert bench_cli.main(["ridge", "--sizes", "30x4", "--n-alphas", "3", "--repeat", "1", "--csv", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "RidgeCV eigen" in printed and "ratio" in printed and out.is_file()


@pytest.mark.parametrize("argv", [["ridge", "--sizes", "30by4"], ["ridge", "--n-alphas", "0"]])
def test_ridge_benchmark_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as info:
        bench_cli.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "sizes must look like" in err or "must be >= 1" in err


def test_unknown_benchmark_prints_usage(capsys):
    assert bench_cli.main(["nope"]) == 2
    assert "usage: python -m wdlib.benchmarks {ridge,throughput,recheck}" in capsys.readouterr().err


@pytest.mark.slow
def test_throughput_benchmark_measures_every_method_against_baselines_of_the_same_run():
    from wdlib import data
    from wdlib.benchmarks import throughput

    try:
        data.locate("fashion-mnist", "train-images-idx3-ubyte.gz")
    except data.DataNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST not installed ({exc})")
    df = throughput.run_vision(images=256, batch_size=64, repeat=1, stack=2)
    assert set(df["method"]) == {"bare loop", "wdlib.fit", "DataLoader", "stacked ×2", "batches only: wdlib",
                                 "batches only: DataLoader"}
    assert (df.loc[df.method == "bare loop", "vs_bare"] == 1.0).all()
    assert (df.loc[df.method == "DataLoader", "vs_DataLoader"] == 1.0).all()
    assert (df["images_per_s"] > 0).all() and set(df["model"]) == {"small CNN", "small CNN + BN"}


def test_throughput_cli_rejects_bad_sizes(capsys):
    with pytest.raises(SystemExit) as info:
        bench_cli.main(["throughput", "--images", "0"])
    assert info.value.code == 2 and "--images must be >= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_recheck_benchmark_puts_rounding_below_the_tolerance_and_real_changes_above_it():
    """On a committed vision row: the stored row and this machine's rounding perturbations sit below the tolerance,
    a 0.1 % change of the learning rate or of λ above it."""
    from wdlib.data import DataNotFoundError, locate

    try:
        locate("fashion-mnist", "t10k-labels-idx1-ubyte.gz")
    except DataNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST not installed ({exc})")
    from wdlib.benchmarks import recheck

    table = recheck.run("fmnist-optimizers")
    ratio = table["÷ tolerance"]
    assert list(ratio.index[:3]) == ["stored row vs here", "here, threads 2", "here, kernels capped at avx2"] or \
        list(ratio.index[:2]) == ["stored row vs here", "here, threads 2"]
    rounding = ratio[[i for i in ratio.index if i.startswith(("stored", "here"))]]
    assert (rounding <= 0.1).all()  # the tolerance is ten times the largest of them (or the floor)
    assert ratio["lr × (1 + 1e-3)"] > 1 and ratio["weight_decay × (1 + 1e-3)"] > 1
