"""wdlib.tracking: angles, the equilibrium formula and the tracker's records."""

import math
import re

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from wdlib.tracking import (
    NormTracker,
    angle,
    equilibrium_angular_update,
    first_within,
    norm_settling_step,
    steady_state,
    unit_angles,
)


def test_angle_is_accurate_for_tiny_angles():
    a = torch.tensor([1.0, 0.0], dtype=torch.float64)
    for theta in (1e-9, 1e-4, 0.5, 3.0):
        b = torch.tensor([math.cos(theta), math.sin(theta)], dtype=torch.float64) * 7
        assert angle(a, b) == pytest.approx(theta, rel=1e-9)


def test_equilibrium_formula():
    assert equilibrium_angular_update(0.1, 5e-3) == pytest.approx(math.sqrt(1e-3))
    assert equilibrium_angular_update(0.1, 5e-3, momentum=0.9) == pytest.approx(math.sqrt(1e-3 / 1.9))


def test_tracker_records_norm_angle_and_effective_lr():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    opt = torch.optim.SGD([{"params": [model[0].weight], "lr": 0.5}, {"params": list(model[0:1].parameters())[1:] + list(model[1].parameters())}], lr=0.1)
    tracker = NormTracker(model, ["0.weight", "1.*"], optimizer=opt)
    w_before = model[0].weight.detach().clone()
    tracker.record(0)
    model(torch.randn(8, 3)).sum().backward()
    opt.step()
    tracker.record(1)
    df = tracker.to_frame()
    assert sorted(df.name.unique()) == ["0.weight", "1.bias", "1.weight"]
    row = df[(df.step == 1) & (df.name == "0.weight")].iloc[0]
    assert row.norm == pytest.approx(model[0].weight.norm().item())
    assert row.angular_update == pytest.approx(angle(w_before, model[0].weight))
    assert row.lr == 0.5 and row.effective_lr == pytest.approx(0.5 / row.norm**2)
    assert np.isnan(df[df.step == 0].angular_update).all()
    assert (df[df.name == "1.weight"].lr == 0.1).all()


def test_unit_angles_are_the_angles_of_the_rows():
    rng = np.random.default_rng(0)
    a, b = torch.from_numpy(rng.normal(size=(5, 7))), torch.from_numpy(rng.normal(size=(5, 7)))
    b[2] = 3 * a[2]  # same direction: angle 0
    got = unit_angles(a, b)
    assert got.shape == (5,)
    for i in range(5):
        cos = float(a[i] @ b[i] / (a[i].norm() * b[i].norm()))
        assert got[i].item() == pytest.approx(angle(a[i], b[i]), abs=1e-12)
        assert got[i].item() == pytest.approx(math.acos(min(1.0, cos)), abs=1e-7)
    conv = torch.from_numpy(rng.normal(size=(3, 2, 2, 2)))  # conv weights: one angle per output channel
    assert unit_angles(conv, conv.flip(1))[0].item() == pytest.approx(angle(conv[0], conv[0].flip(0)))


def test_per_unit_tracker_records_each_row():
    torch.manual_seed(1)
    model = nn.Linear(3, 4, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    tracker = NormTracker(model, ["weight"], optimizer=opt, per_unit=True)
    tracker.record(0)
    before = model.weight.detach().clone()
    model(torch.randn(8, 3)).pow(2).sum().backward()
    opt.step()
    tracker.record(1)
    df = tracker.to_frame()
    assert list(df.columns) == ["step", "name", "unit", "norm", "angular_update", "lr", "effective_lr"]
    last = df[df.step == 1].sort_values("unit")
    np.testing.assert_allclose(last.norm, model.weight.detach().norm(dim=1).double().numpy(), rtol=1e-6)
    np.testing.assert_allclose(last.angular_update, unit_angles(before, model.weight).numpy())
    np.testing.assert_allclose(last.effective_lr, 0.2 / last.norm**2)
    assert len(df) == 8 and df[df.step == 0].angular_update.isna().all()


def test_first_within():
    assert first_within([5.0, 3.0, 2.09, 1.99, 2.0], 2.0, rtol=0.05) == 2
    assert first_within([5.0, 3.0], 2.0, rtol=0.05) is None


@pytest.mark.parametrize(("norm0", "rtol"), [(3.0, 0.05), (2.0, 0.02), (0.3, 0.05)])
def test_norm_settling_step_matches_the_discrete_recursion(norm0, rtol):
    """Iterate ‖w‖² ← (1−ηλ)²‖w‖² + η²G/‖w‖² with G set so that ‖w‖∞ = 1; the first step within rtol."""
    lr, wd, neq = 0.1, 5e-3, 1.0
    G = neq**4 * (1 - (1 - lr * wd) ** 2) / lr**2  # the discrete fixed point
    n2, norms = norm0**2, [norm0]
    for _ in range(20_000):
        n2 = (1 - lr * wd) ** 2 * n2 + lr**2 * G / n2
        norms.append(math.sqrt(n2))
    measured = first_within(norms, neq, rtol=rtol)
    assert measured == pytest.approx(norm_settling_step(norm0, neq, lr=lr, weight_decay=wd, rtol=rtol), rel=0.01)


BAD = [
    ("pattern matches nothing", lambda: NormTracker(nn.Linear(2, 1), ["conv.*"]), "matches no parameter"),
    ("negative decay", lambda: equilibrium_angular_update(0.1, -1.0), "Invalid weight_decay value"),
    ("zero lr", lambda: equilibrium_angular_update(0.0, 1.0), "Invalid lr value"),
    ("shapes differ", lambda: unit_angles(torch.ones(2, 3), torch.ones(3, 2)), "need the same shape"),
    ("zero target", lambda: first_within([1.0], 0.0, rtol=0.1), "target must be finite and non-zero"),
    ("no decay, no equilibrium", lambda: norm_settling_step(2.0, 1.0, lr=0.1, weight_decay=0.0),
     "Invalid weight_decay value"),
]


@pytest.mark.parametrize(("case", "call", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input(case, call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_patterns_as_a_string_is_a_type_error():
    with pytest.raises(TypeError, match=re.escape("use ['weight']")):
        NormTracker(nn.Linear(2, 1), "weight")


def test_parameter_outside_the_optimizer_is_reported():
    m = nn.Linear(2, 1)
    tracker = NormTracker(m, ["weight"], optimizer=torch.optim.SGD([m.bias], lr=0.1))
    with pytest.raises(ValueError, match="none of the optimizer's param groups"):
        tracker.record(0)


def test_steady_state_averages_the_last_part_of_each_group():
    t = pd.DataFrame({"step": [0, 1, 2, 3, 0, 1, 2, 3], "name": ["a"] * 4 + ["b"] * 4,
                      "norm": [1.0, 2, 3, 5, 1, 1, 1, 1], "angular_update": [np.nan, 1, 2, 4, np.nan, 0, 0, 2],
                      "lr": 0.1, "effective_lr": [0.1, 0.2, 0.3, 0.5, 0, 0, 0, 0]})
    s = steady_state(t, tail=0.5).set_index("name")
    assert s.loc["a", "angle"] == 3 and s.loc["a", "norm"] == 4 and s.loc["b", "angle"] == 1
    assert steady_state(t, tail=1.0).set_index("name").loc["a", "angle"] == pytest.approx(7 / 3)  # step 0's NaN skipped
    with pytest.raises(ValueError, match="tail"):
        steady_state(t, tail=0.0)


def test_per_step_tracker_measures_the_last_steps_angle_at_each_record():
    from wdlib import train
    from wdlib.models import build_model

    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    tables = {}
    for every, per_step in ((1, False), (4, True), (4, False)):
        model = build_model("small_cnn", seed=0, batchnorm=True)
        opt = train.make_optimizer(model, "sgd", lr=0.1, weight_decay=1e-2)
        tracker = NormTracker(model, ["conv1.weight"], optimizer=opt, every=every, per_step=per_step)
        tracker.record(0)
        train.fit(model, opt, (x, y), epochs=3, batch_size=8, seed=0, hooks=[tracker], progress=False,
                  precision="float32")
        tables[every, per_step] = tracker.to_frame().set_index("step")
    dense, sparse, span = tables[1, False], tables[4, True], tables[4, False]
    steps = [s for s in sparse.index if s > 0]
    assert steps == list(range(4, 25, 4))
    assert sparse.loc[steps, "angular_update"].tolist() == dense.loc[steps, "angular_update"].tolist()
    assert (span.loc[steps, "angular_update"] > 1.5 * sparse.loc[steps, "angular_update"]).all()


def test_adamw_equilibrium_matches_a_simulated_random_walk():
    """torch's AdamW on a scale-invariant weight driven by random gradients orthogonal to it."""
    from wdlib.tracking import adamw_equilibrium

    gen = torch.Generator().manual_seed(0)
    numel, lr, wd = 400, 1e-2, 0.5
    w = torch.nn.Parameter(torch.randn(numel, generator=gen, dtype=torch.float64))
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=wd)
    norms, angles = [], []
    for step in range(6000):  # 30 timescales 1/(ηλ)
        g = torch.randn(numel, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            g -= (g @ w) / (w @ w) * w  # the gradient of a scale-invariant loss is orthogonal to w
            g /= w.norm()  # ... and scales as 1/‖w‖
        before = w.detach().clone()
        w.grad = g
        opt.step()
        if step >= 3000:
            norms.append(float(w.detach().norm()))
            angles.append(angle(before, w))
    pred = adamw_equilibrium(lr, wd, numel)
    assert sum(norms) / len(norms) == pytest.approx(pred["norm"], rel=0.05)
    assert sum(angles) / len(angles) == pytest.approx(pred["angle"], rel=0.05)
