"""wdlib.train: determinism, schedules, max-norm, hooks, optimizers, bad input."""

import math

import pandas as pd
import pytest
import torch

from wdlib import train
from wdlib.models import build_model
from wdlib.tracking import NormTracker


def _data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _run(seed=0, dropout=0.3, **kw):
    x, y = _data()
    model = build_model("small_cnn", seed=seed, dropout=dropout, channels=(4, 8), hidden=16)
    opt = train.make_optimizer(model, kw.pop("optimizer", "sgd"), lr=0.05, weight_decay=1e-3)
    return model, train.fit(model, opt, (x, y), epochs=3, batch_size=20, seed=seed, evals={"val": _data(40, 1)},
                            progress=False, **kw)  # fmt: skip


@pytest.mark.slow
def test_same_seed_gives_bitwise_identical_history_and_weights():
    (m1, h1), (m2, h2) = _run(), _run()
    pd.testing.assert_frame_equal(h1, h2, check_exact=True)
    assert all(torch.equal(p, q) for p, q in zip(m1.parameters(), m2.parameters()))
    _, h3 = _run(seed=1)
    assert not h1.equals(h3)


@pytest.mark.slow
def test_fit_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    state = torch.random.get_rng_state()
    _run()
    assert torch.equal(torch.random.get_rng_state(), state)


def test_history_columns_steps_and_eval_every():
    _, h = _run(eval_every=2)
    assert h.columns.tolist() == ["epoch", "step", "lr", "train_loss", "train_acc", "val_loss", "val_acc"]
    assert h["step"].tolist() == [5, 10, 15]  # 96 examples, batches of 20 -> 5 per epoch
    assert math.isnan(h["val_loss"][0]) and not h["val_loss"][1:].isna().any()
    assert h.attrs["seconds"] > 0


def test_fit_matches_a_hand_written_loop():
    x, y = _data()
    model = build_model("small_cnn", seed=0, channels=(4, 8), hidden=16)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    train.fit(model, opt, (x, y), epochs=1, batch_size=32, seed=7, progress=False, precision="float32",
              memory_format="contiguous")  # fmt: skip
    ref = build_model("small_cnn", seed=0, channels=(4, 8), hidden=16)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    perm = torch.randperm(96, generator=torch.Generator().manual_seed(7))
    for i in range(0, 96, 32):
        ref_opt.zero_grad()
        torch.nn.functional.cross_entropy(ref(x[perm[i:i + 32]]), y[perm[i:i + 32]]).backward()
        ref_opt.step()
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), ref.parameters()))


def test_cosine_schedule_with_warmup_reaches_final_lr():
    assert [train.lr_factor("linear", s, 6, warmup=2) for s in range(6)] == pytest.approx([0.5, 1, 1, 2 / 3, 1 / 3, 0])
    _, h = _run(schedule="cosine", warmup=2, final_lr=0.1)
    assert h["lr"].iloc[-1] == pytest.approx(0.05 * 0.1)


def test_max_norm_holds_after_every_step():
    norms = []
    hook = lambda step, model, opt: norms.append(float(model.fc2.weight.detach().norm(dim=1).max()))
    _run(max_norm={"fc2.weight": 0.3}, hooks=[hook])
    assert len(norms) == 15 and max(norms) <= 0.3 + 1e-6


def test_norm_tracker_as_hook_records_every_k_steps():
    x, y = _data()
    model = build_model("small_cnn", seed=0, batchnorm=True, channels=(4, 8), hidden=16)
    opt = train.make_optimizer(model, "sgdw", lr=0.1, weight_decay=0.1)
    tracker = NormTracker(model, model.scale_invariant, optimizer=opt, every=5)
    train.fit(model, opt, (x, y), epochs=2, batch_size=16, seed=0, hooks=[tracker], progress=False)
    df = tracker.to_frame()
    assert sorted(df["step"].unique()) == [5, 10] and set(df["name"]) == set(model.scale_invariant)
    assert (df["effective_lr"] == df["lr"] / df["norm"] ** 2).all()


@pytest.mark.parametrize("name", list(train.OPTIMIZERS))
def test_each_optimizer_uses_canonical_lambda_on_one_step(name):
    """From w with zero gradient, one step with λ moves w to (1 − ηλ)w, coupled or decoupled."""
    layer = torch.nn.Linear(3, 1, bias=False)
    opt = train.make_optimizer(layer, name, lr=0.1, weight_decay=0.5)
    w0 = layer.weight.detach().clone()
    layer.weight.grad = torch.zeros_like(w0)
    opt.step()
    if name in ("sgd", "sgdw", "adamw"):
        assert torch.allclose(layer.weight, w0 * (1 - 0.1 * 0.5))
    elif name == "adadelta":  # Zeiler's first step on g = λw with rho 0.95, eps 1e-6 (Kim's settings)
        g = 0.5 * w0
        assert torch.allclose(layer.weight, w0 - 0.1 * (1e-6**0.5 / (0.05 * g**2 + 1e-6) ** 0.5) * g)
    else:  # Adam rescales the L2 gradient λw itself: the first step is -lr·sign(λw)
        assert torch.allclose(layer.weight, w0 - 0.1 * torch.sign(w0), atol=1e-6)


def test_fit_lm_is_deterministic_and_learns():
    text = torch.arange(2000) % 7  # a cycle: the next token is fully predictable
    kw = {"steps": 60, "batch_size": 8, "block_size": 16, "seed": 0, "eval_every": 30, "eval_batches": 2,
          "progress": False}

    def run():
        m = build_model("char_transformer", seed=0, vocab_size=7, block_size=16, n_layer=1, n_head=2, n_embd=16)
        return train.fit_lm(m, train.make_optimizer(m, "adamw", lr=3e-3, weight_decay=0.1), text[:1500],
                            text[1500:], **kw)

    h1, h2 = run(), run()
    pd.testing.assert_frame_equal(h1, h2, check_exact=True)
    assert h1["step"].tolist() == [30, 60] and h1["val_loss"].iloc[-1] < 0.5 * math.log(7)


def test_lm_eval_starts_cover_the_split_once_or_spread_evenly():
    starts = train.lm_eval_starts(1000, 16)
    assert starts.tolist() == list(range(0, 1000 - 16, 16))  # consecutive, non-overlapping
    assert int(starts[-1]) + 16 < 1000  # the last window's targets stay inside the split
    spread = train.lm_eval_starts(1000, 16, count=5)
    assert spread.tolist() == [0, 246, 492, 737, 983] and spread[-1] + 16 == 999
    with pytest.raises(ValueError, match="has no window"):
        train.lm_eval_starts(16, 16)


def test_fit_lm_fixed_evaluation_is_the_whole_split_and_does_not_depend_on_the_seed():
    text = torch.arange(3000) % 11
    text[::7] = 3  # not fully predictable
    tr, va = text[:2000], text[2000:]

    def run(seed, eval_set):
        m = build_model("char_transformer", seed=0, vocab_size=11, block_size=16, n_layer=1, n_head=2, n_embd=16)
        opt = torch.optim.SGD(m.parameters(), lr=0.0)  # the model never moves: only the evaluation windows differ
        return m, train.fit_lm(m, opt, tr, va, steps=2, batch_size=4, block_size=16, seed=seed, eval_every=2,
                               eval_batches=2, grad_clip=None, progress=False, eval_set=eval_set)

    m, a = run(0, "fixed")
    _, b = run(5, "fixed")
    assert a["val_loss"].iloc[0] == b["val_loss"].iloc[0] and a["train_loss"].iloc[0] == b["train_loss"].iloc[0]
    seeded = [run(s, "seeded")[1]["val_loss"].iloc[0] for s in (0, 5)]
    assert seeded[0] != seeded[1]  # the old yardstick moves with the seed
    # oracle: the mean cross-entropy over every consecutive window of the validation split, one window at a time
    m.eval()
    with torch.no_grad():
        losses = [torch.nn.functional.cross_entropy(m(va[s:s + 16][None])[0], va[s + 1:s + 17], reduction="sum")
                  for s in range(0, len(va) - 16, 16)]
    assert a["val_loss"].iloc[0] == pytest.approx(float(sum(losses)) / (len(losses) * 16), rel=1e-6)
    with pytest.raises(ValueError, match="unknown eval_set 'all'"):
        run(0, "all")


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "epochs must be an integer >= 1"),
    ({"batch_size": 2.5}, "batch_size must be an integer >= 1"),
    ({"schedule": "exp"}, "unknown schedule 'exp'"),
    ({"warmup": 999}, r"warmup must be an integer in \[0, 15\]"),
    ({"max_norm": {"fc9.weight": 3.0}}, r"max_norm names unknown parameters \['fc9.weight'\]"),
    ({"max_norm": {"fc2.weight": 0}}, "Invalid max_norm"),
    ({"evals": {"val": (torch.zeros(3, 1, 28, 28), torch.zeros(2))}}, "same length"),
])  # fmt: skip
def test_fit_rejects_bad_input(kwargs, message):
    x, y = _data()
    model = build_model("small_cnn", seed=0, channels=(4, 8), hidden=16)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    args = {"epochs": 3, "batch_size": 20, "seed": 0, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=message):
        train.fit(model, opt, (x, y), **args)


def test_unknown_optimizer_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'; choose one of 'sgd', 'sgdw', 'adam', 'adamw', 'adadelta'"):
        train.make_optimizer(torch.nn.Linear(2, 2), "rmsprop", lr=0.1)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": "0.1"}, r"Invalid lr value: '0.1' \(want a number, not a str\)"),
    ({"lr": True}, r"Invalid lr value: True \(want a number, not a bool\)"),
    ({"lr": 0.1, "momentum": 1.5}, r"Invalid momentum value: 1.5 \(want a finite number >= 0 and < 1\)"),
    ({"lr": 0.1, "weight_decay": "1e-4"}, r"Invalid weight_decay value: '1e-4'"),
    ({"lr": 0.1, "stop_after": 0}, None),
])  # fmt: skip
def test_make_optimizer_refuses_text_flags_and_out_of_range_momentum(kwargs, message):
    if message is None:  # stop_after is fit's, not make_optimizer's: checked there
        x, y = _data()
        model = build_model("small_cnn", seed=0, channels=(4, 8), hidden=16)
        with pytest.raises(ValueError, match="stop_after must be an integer >= 1"):
            train.fit(model, train.make_optimizer(model, "sgd", lr=0.1), (x, y), epochs=2, batch_size=20, seed=0,
                      stop_after=0, progress=False)  # fmt: skip
        return
    with pytest.raises(ValueError, match=message):
        train.make_optimizer(torch.nn.Linear(2, 2), "sgd", **kwargs)


def test_stop_after_gives_the_first_epochs_of_the_full_run_bit_for_bit():
    x, y = _data()

    def run(**kw):
        model = build_model("small_cnn", seed=0, channels=(4, 8), hidden=16)
        opt = train.make_optimizer(model, "sgd", lr=0.1, weight_decay=1e-3)
        return train.fit(model, opt, (x, y), epochs=4, batch_size=20, seed=0, schedule="cosine", progress=False, **kw)

    full, prefix = run(), run(stop_after=2)
    pd.testing.assert_frame_equal(prefix, full.iloc[:2], check_exact=True)  # the schedule still spans 4 epochs
    assert prefix.attrs["device"] == "cpu"
    assert prefix.attrs["precision"] == ("bfloat16" if train.bf16_native() else "float32")  # "auto"


def test_patience_stops_after_that_many_epochs_without_a_better_monitor_and_keeps_the_prefix():
    x, y = _data()
    dev = (x[:40], y[:40])

    def run(**kw):
        model = build_model("small_cnn", seed=0, channels=(4, 8), hidden=16)
        opt = train.make_optimizer(model, "sgd", lr=0.1)
        return train.fit(model, opt, (x, y), epochs=12, batch_size=20, seed=0, evals={"dev": dev},
                         schedule="cosine", progress=False, **kw)  # fmt: skip

    full = run()
    for patience, monitor in [(1, "dev_loss"), (2, "dev_acc"), (3, "dev_loss")]:
        h = run(patience=patience, monitor=monitor)
        pd.testing.assert_frame_equal(h, full.iloc[:len(h)], check_exact=True)  # a prefix, bit for bit
        # oracle: the first epoch that ends `patience` epochs after the running best, from the full history
        values = full[monitor].to_numpy() * (-1 if monitor.endswith("acc") else 1)  # lower is better
        best, waited, stop = float("inf"), 0, len(full)
        for i, v in enumerate(values):
            best, waited = (v, 0) if v < best else (best, waited + 1)
            if waited >= patience:
                stop = i + 1
                break
        assert len(h) == stop
    assert len(run(patience=1, monitor="dev_loss")) < len(full)  # the oracle's early stop happened at least once
    model = build_model("small_cnn", seed=0, channels=(4, 8), hidden=16)
    with pytest.raises(ValueError, match=r"monitor must name an eval set's accuracy or loss \(dev_acc, dev_loss\); "
                                         "got 'val_acc'"):
        train.fit(model, torch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2, batch_size=20, seed=0,
                  evals={"dev": dev}, patience=1, monitor="val_acc", progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="patience must be an integer >= 1"):
        train.fit(model, torch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2, batch_size=20, seed=0,
                  evals={"dev": dev}, patience=0, progress=False)  # fmt: skip


def test_random_crop_flip_matches_torchvisions_crop_of_the_padded_image():
    from torchvision.transforms import functional as TF

    x = torch.rand(64, 1, 28, 28)
    out = train.RandomCropFlip(pad=2, flip=True)(x, torch.Generator().manual_seed(0))
    padded = TF.pad(x, [2])
    flips = 0
    for img, src in zip(out, padded):
        crops = [TF.crop(src, top, left, 28, 28) for top in range(5) for left in range(5)]
        plain = any(torch.equal(img, c) for c in crops)
        mirrored = any(torch.equal(img, TF.hflip(c)) for c in crops)
        assert plain or mirrored
        flips += mirrored and not plain
    assert 16 < flips < 48  # about half mirrored
    again = train.RandomCropFlip(pad=2, flip=True)(x, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert torch.equal(train.RandomCropFlip(pad=0, flip=False)(x, torch.Generator()), x)
    with pytest.raises(ValueError, match="image batches"):
        train.RandomCropFlip()(torch.rand(3, 28), torch.Generator())


def test_fit_augments_training_batches_only_and_reproducibly():
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    seen = []

    def spy(xb, generator):
        seen.append(xb.clone())
        return train.RandomCropFlip()(xb, generator)

    def run(augment):
        model = build_model("small_cnn", seed=0)
        h = train.fit(model, train.make_optimizer(model, "sgd", lr=0.05), (x, y), epochs=2, batch_size=32, seed=3,
                evals={"test": (x, y)}, progress=False, precision="float32", augment=augment)
        return h, model

    h1, _ = run(spy)
    assert len(seen) == 4 and all(s.shape == (32, 1, 28, 28) for s in seen)  # 2 epochs × 2 batches, no evals
    h2, _ = run(train.RandomCropFlip())
    h0, _ = run(None)
    pd.testing.assert_frame_equal(h1, h2)
    assert not h0["train_loss"].equals(h1["train_loss"])
    with pytest.raises(TypeError, match="augment must be a callable"):
        run("crop")
