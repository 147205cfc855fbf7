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
    assert "usage: python -m wdlib.benchmarks {ridge,throughput,recheck,precision}" in capsys.readouterr().err


def test_benchmark_help_needs_no_torch():
    """`python -m wdlib.benchmarks --help` works where torch is not installed (a base `pip install wdlib`)."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['torch'] = None\n"
            "from wdlib.benchmarks.__main__ import main\nraise SystemExit(main(['--help']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and "throughput  training speed" in proc.stdout, proc.stderr


@pytest.mark.slow
def test_throughput_benchmark_measures_every_model_and_method_against_baselines_of_the_same_run():
    from wdlib import data
    from wdlib.benchmarks import throughput

    try:
        data.locate("fashion-mnist", "train-images-idx3-ubyte.gz")
    except data.DataNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST not installed ({exc})")
    df = throughput.run(images=256, batch_size=64, repeat=1, lm_steps=2, stack=2)
    assert set(df["model"]) == {label for label, _ in throughput.MODELS.values()}
    for _model, group in df.groupby("model"):
        assert {"fit float32", "fit auto", "bare float32", "bare bf16"} <= set(group["method"])
        assert (group.loc[group.method == "fit float32", "vs_fit_float32"] == 1.0).all()
        bare = group[group.method.str.startswith("bare")]
        assert bare["vs_best_bare"].max() == 1.0
    assert "stacked ×2" in set(df["method"]) and (df["rate"] > 0).all()
    auto = df[df.method == "fit auto"].set_index("model")["settings"]
    assert auto["char transformer 4×128"] == "float32, contiguous"
    assert auto["small CNN"] == ("bfloat16" if throughput.bf16_native() else "float32") + ", channels_last"


def test_precision_benchmark_pairs_every_seed_in_both_precisions():
    from wdlib.benchmarks import precision

    configs = precision.configs(seeds=2)
    assert len(configs) == 5 * 2 * 2  # five settings × seeds × two precisions
    pairs = {}
    for c in configs:
        key = tuple(sorted((k, v) for k, v in c.items() if k not in ("precision", "memory_format")))
        pairs.setdefault(key, set()).add(c["precision"])
    assert all(v == {"float32", "bfloat16"} for v in pairs.values())
    rows = [{**c, "test_acc": 0.8 + 0.01 * c["seed"] + (0.002 if c["precision"] == "bfloat16" else 0),
             "weight_norm": 10.0 + c["seed"]} for c in configs]  # fmt: skip
    table = precision.summarize(__import__("pandas").DataFrame(rows))
    acc = table[table.metric == "test_acc"]
    assert len(acc) == 5 and (acc["seeds"] == 2).all()
    assert acc["diff_mean"].round(6).eq(0.002).all() and acc["seed_sd_fp32"].round(6).eq(round(0.01 / 2**0.5, 6)).all()


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
