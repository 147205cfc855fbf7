"""Training precision, memory format and device: wdlib.train.resolve_numerics, fit's bf16/channels_last path,
CUDA (skipped without a GPU), progress bars."""

import os
import subprocess
import sys
import warnings

import pytest
import torch
import torch.nn.functional as F

from wdlib import progress, train
from wdlib.models import build_model

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _small(batchnorm=True, seed=0):
    return build_model("small_cnn", seed=seed, channels=(4, 8), hidden=16, batchnorm=batchnorm)


@pytest.fixture
def native(monkeypatch):
    """Pretend the CPU has (True) or lacks (False) native bfloat16."""
    def set_native(value: bool):
        monkeypatch.setattr(train, "_cpu_flags", lambda: frozenset({"avx512_bf16"} if value else {"avx2"}))
        monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
        monkeypatch.setattr(train, "_WARNED_EMULATED", set())
    return set_native


def test_auto_picks_bf16_only_where_native_and_channels_last_only_for_conv_nets(native):
    native(True)
    assert train.resolve_numerics(_small()) == ("bfloat16", "channels_last")
    assert train.resolve_numerics(build_model("textcnn", seed=0, vocab_size=50)) == ("bfloat16", "contiguous")
    lm = build_model("char_transformer", seed=0, vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=16)
    assert train.resolve_numerics(lm) == ("float32", "contiguous")  # measured slower in bf16
    native(False)
    assert train.resolve_numerics(_small()) == ("float32", "channels_last")
    assert train.resolve_numerics(_small(), "float32", "contiguous") == ("float32", "contiguous")


def test_a_capped_onednn_isa_counts_as_not_native(native, monkeypatch):
    native(True)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI")
    assert not train.bf16_native("cpu")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    assert train.bf16_native("cpu")


def test_explicit_bf16_without_native_support_runs_with_one_warning(native):
    native(False)
    with pytest.warns(RuntimeWarning, match="no native bfloat16.*slower than float32"):
        assert train.resolve_numerics(_small(), "bfloat16")[0] == "bfloat16"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train.resolve_numerics(_small(), "bfloat16")  # once per device


@pytest.mark.parametrize("kwargs, match", [
    ({"precision": "fp16"}, "precision must be 'auto' or one of 'float32', 'bfloat16'"),
    ({"memory_format": "nhwc"}, "memory_format must be 'auto' or one of"),
])  # fmt: skip
def test_bad_precision_or_memory_format_is_refused_by_name(kwargs, match):
    x, y = _data(8)
    model = _small()
    with pytest.raises(ValueError, match=match):
        train.fit(model, train.make_optimizer(model, "sgd", lr=0.1), (x, y), epochs=1, batch_size=4, seed=0,
                  progress=False, **kwargs)  # fmt: skip


def test_channels_last_needs_a_conv_net_and_images():
    model = build_model("textcnn", seed=0, vocab_size=50)
    tokens, labels = torch.randint(1, 50, (8, 12)), torch.randint(0, 2, (8,))
    with pytest.raises(ValueError, match="channels_last.*conv nets.*TextCNN has none"):
        train.fit(model, train.make_optimizer(model, "adamw", lr=1e-3), (tokens, labels), epochs=1, batch_size=4,
                  seed=0, progress=False, memory_format="channels_last")  # fmt: skip


def test_data_off_the_models_device_is_refused():
    x, y = _data(8)
    model = _small()
    with pytest.raises(ValueError, match=r"train must be on the model's device \(cpu\)"):
        train.fit(model, train.make_optimizer(model, "sgd", lr=0.1), (x.to("meta"), y.to("meta")), epochs=1,
                  batch_size=4, seed=0, progress=False)  # fmt: skip


def _hand_loop(model, opt, x, y, *, seed, batch_size, channels_last, bf16):
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    if channels_last:
        model.to(memory_format=torch.channels_last)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i in range(0, len(x), batch_size):
            xb = x[perm[i: i + batch_size]]
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(xb).float()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(logits, y[perm[i: i + batch_size]]).backward()
            opt.step()


@pytest.mark.parametrize("precision, memory_format", [("bfloat16", "channels_last"), ("float32", "channels_last"),
                                                      ("bfloat16", "contiguous")])  # fmt: skip
def test_fit_is_the_bare_loop_in_every_precision_and_layout(precision, memory_format):
    x, y = _data()
    model, ref = _small(), _small()
    opt = train.make_optimizer(model, "sgd", lr=0.1, weight_decay=5e-4)
    ref_opt = train.make_optimizer(ref, "sgd", lr=0.1, weight_decay=5e-4)
    params = list(model.parameters())
    h = train.fit(model, opt, (x, y), epochs=1, batch_size=32, seed=7, progress=False, precision=precision,
                  memory_format=memory_format)  # fmt: skip
    _hand_loop(ref, ref_opt, x, y, seed=7, batch_size=32, channels_last=memory_format == "channels_last",
               bf16=precision == "bfloat16")  # fmt: skip
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), ref.parameters()))
    # float32 master weights and optimizer state, the optimizer still holding the model's parameters
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(s["momentum_buffer"].dtype == torch.float32 for s in opt.state.values())
    assert [id(p) for p in model.parameters()] == [id(p) for p in params]
    assert (h.attrs["precision"], h.attrs["memory_format"], h.attrs["device"]) == (precision, memory_format, "cpu")


def test_bf16_is_repeatable_and_close_to_float32():
    x, y = _data()
    runs = {}
    for precision in ("bfloat16", "bfloat16", "float32"):
        model = _small()
        h = train.fit(model, train.make_optimizer(model, "sgd", lr=0.05), (x, y), epochs=2, batch_size=32, seed=1,
                      evals={"val": _data(64, 1)}, progress=False, precision=precision)  # fmt: skip
        runs.setdefault(precision, []).append(h)
    a, b = runs["bfloat16"]
    assert a.equals(b)
    assert abs(a["train_loss"].iloc[-1] - runs["float32"][0]["train_loss"].iloc[-1]) < 0.05


def test_fit_lm_in_bf16_records_its_precision():
    model = build_model("char_transformer", seed=0, vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=16)
    text = torch.randint(0, 20, (400,), generator=torch.Generator().manual_seed(0))
    h = train.fit_lm(model, train.make_optimizer(model, "adamw", lr=1e-3), text[:300], text[300:], steps=4,
                     batch_size=4, block_size=8, seed=0, eval_every=2, eval_batches=1, progress=False,
                     precision="bfloat16")  # fmt: skip
    assert (h.attrs["precision"], h.attrs["memory_format"]) == ("bfloat16", "contiguous")
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_default_device_reads_wdlib_device(monkeypatch):
    monkeypatch.delenv("WDLIB_DEVICE", raising=False)
    assert train.default_device() == "cpu"
    monkeypatch.setenv("WDLIB_DEVICE", "auto")
    assert train.default_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("WDLIB_DEVICE", "gpu0")
    with pytest.raises(ValueError, match="WDLIB_DEVICE='gpu0' is not a device; use cpu, cuda, cuda:N or auto"):
        train.default_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("WDLIB_DEVICE", "cuda")
        with pytest.raises(ValueError, match="sees no CUDA GPU"):
            train.default_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given without a GPU")
def test_sweep_cli_refuses_cuda_without_a_gpu(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "wdlib.sweep", "fmnist-lambda", "--device", "cuda", "--store",
                           str(tmp_path / "s")], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2 and "--device 'cuda' but torch" in proc.stderr and "sees no CUDA GPU" in proc.stderr
    assert not (tmp_path / "s").exists()


def test_progress_resolution(monkeypatch):
    monkeypatch.delenv("WDLIB_PROGRESS", raising=False)
    assert progress.show_progress(True) and not progress.show_progress(False)
    monkeypatch.setenv("WDLIB_PROGRESS", "1")
    assert progress.show_progress()
    with progress.progress_default(False):
        assert not progress.show_progress()
        assert progress.show_progress(True)
    monkeypatch.setenv("WDLIB_PROGRESS", "0")
    assert not progress.show_progress()


def test_progress_bar_in_a_notebook_is_text_without_ipywidgets(tmp_path):
    """Executed by papermill with WDLIB_PROGRESS=1: the bar reaches stderr as text, no IProgress warning."""
    nbformat = pytest.importorskip("nbformat")
    papermill = pytest.importorskip("papermill")

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import torch\nfrom wdlib import train\nfrom wdlib.models import build_model\n"
        "m = build_model('small_cnn', seed=0, channels=(2, 2), hidden=4)\n"
        "x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))\n"
        "h = train.fit(m, train.make_optimizer(m, 'sgd', lr=0.1), (x, y), epochs=2, batch_size=4, seed=0)")])
    src, dst = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(nb, src)
    env = {**os.environ, "WDLIB_PROGRESS": "1"}
    old = os.environ.copy()
    os.environ.update(env)
    try:
        papermill.execute_notebook(str(src), str(dst), kernel_name="python3", progress_bar=False, log_output=False)
    finally:
        os.environ.clear()
        os.environ.update(old)
    outputs = nbformat.read(dst, as_version=4).cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs)
    assert "fit:" in text and "8/8" in text
    assert "IProgress" not in text and not any(o.output_type == "display_data" for o in outputs)


# --------------------------------------------------------------------------- #
# CUDA: skipped without a GPU (run on the lent GPU machine)
# --------------------------------------------------------------------------- #
@needs_cuda
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_fit_on_cuda_matches_the_cpu_closely(precision):
    x, y = _data()
    hists = {}
    for device in ("cpu", "cuda"):
        model = _small().to(device)
        hists[device] = train.fit(model, train.make_optimizer(model, "sgd", lr=0.05), (x.to(device), y.to(device)),
                                  epochs=2, batch_size=32, seed=0, progress=False, precision=precision,
                                  evals={"val": tuple(t.to(device) for t in _data(64, 1))})  # fmt: skip
    assert hists["cuda"].attrs["device"].startswith("cuda:")
    tol = 1e-4 if precision == "float32" else 0.05
    assert abs(hists["cuda"]["train_loss"] - hists["cpu"]["train_loss"]).max() < tol


@needs_cuda
def test_a_vision_run_on_cuda_via_wdlib_device(monkeypatch):
    from wdlib.runs import vision_run

    monkeypatch.setenv("WDLIB_DEVICE", "cuda")
    metrics, history = vision_run({"seed": 0, "n_train": 256, "n_test": 256, "epochs": 1, "precision": "bfloat16",
                                   "memory_format": "channels_last", "batchnorm": True})  # fmt: skip
    assert history.attrs["device"].startswith("cuda:") and 0 <= metrics["test_acc"] <= 1


def test_a_sweep_row_records_the_configured_precision(tmp_path):
    from wdlib.sweep import Store, run_sweep

    config = {"seed": 0, "n_train": 64, "n_test": 64, "epochs": 1, "batch_size": 32, "precision": "bfloat16",
              "memory_format": "channels_last"}  # fmt: skip
    runs = run_sweep("wdlib.runs:vision_run", [config], Store(tmp_path / "s", sweep="t"))
    row = runs.iloc[0]
    assert (row["precision"], row["memory_format"], row["device"]) == ("bfloat16", "channels_last", "cpu")


def _ignores_precision(config):
    import pandas as pd

    history = pd.DataFrame({"step": [1]})
    history.attrs.update(device="cpu", precision="float32", memory_format="contiguous")
    return {"loss": 1.0}, history


def test_a_run_that_ignores_its_configured_precision_is_refused(tmp_path):
    from wdlib.sweep import Store, run_sweep

    store = Store(tmp_path / "s", sweep="t")
    with pytest.raises(ValueError, match="computed with precision='float32' but its configuration says 'bfloat16'"):
        run_sweep(_ignores_precision, [{"seed": 0, "precision": "bfloat16"}], store)
    assert store.finished() == set()
