"""wdlib.optim.SGDW: its defining update, torch's SGD where they must agree, and where they must not."""

from __future__ import annotations

import re

import pytest
import torch

from wdlib.optim import SGDW, sgdw


def quadratic(seed=0, d=6):
    """An ill-conditioned quadratic 0.5·wᵀAw − bᵀw and a starting point."""
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    A = Q @ torch.diag(torch.logspace(-2, 1, d, dtype=torch.float64)) @ Q.T
    return A, torch.randn(d, generator=g, dtype=torch.float64), torch.randn(d, generator=g, dtype=torch.float64)


def run(opt_factory, steps=20, seed=0):
    A, b, w0 = quadratic(seed)
    w = torch.nn.Parameter(w0.clone())
    opt = opt_factory([w])
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * w @ A @ w - b @ w).backward()
        opt.step()
    return w.detach()


@pytest.mark.parametrize(("momentum", "dampening", "nesterov"), [(0.0, 0.0, False), (0.9, 0.0, False), (0.9, 0.1, False), (0.8, 0.0, True)])
def test_sgdw_equals_its_defining_update(momentum, dampening, nesterov):
    lr, wd = 0.1, 0.3
    A, b, w = quadratic()
    buf = None
    for _ in range(20):
        g = A @ w - b
        if momentum:
            buf = g.clone() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w * (1 - lr * wd) - lr * g
    got = run(lambda p: SGDW(p, lr=lr, momentum=momentum, dampening=dampening, weight_decay=wd, nesterov=nesterov))
    torch.testing.assert_close(got, w, rtol=0, atol=1e-13)


def test_without_momentum_sgdw_is_torch_sgd_with_weight_decay():
    a = run(lambda p: SGDW(p, lr=0.1, weight_decay=0.3))
    b = run(lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.3))
    torch.testing.assert_close(a, b, rtol=0, atol=1e-14)


def test_with_momentum_sgd_l2_and_sgdw_differ_and_by_how_much():
    """SGD+L2 puts λw into the momentum buffer, so over time its decay is amplified by ≈ 1/(1 − β)."""
    lr, wd, beta = 0.05, 0.2, 0.9
    w_l2 = run(lambda p: torch.optim.SGD(p, lr=lr, momentum=beta, weight_decay=wd), steps=3000)
    w_dw = run(lambda p: SGDW(p, lr=lr, momentum=beta, weight_decay=wd), steps=3000)
    gap = (w_l2 - w_dw).norm() / w_dw.norm()
    assert gap > 0.05, f"relative gap {gap:.3g}"
    # Both converge; their fixed points are known: SGD+L2 solves (A + λI)w = b, and
    # SGDW solves (A + λ(1 − β)I)w = b (the decay is not amplified by the momentum).
    A, b, _ = quadratic()
    eye = torch.eye(len(b), dtype=torch.float64)
    torch.testing.assert_close(w_l2, torch.linalg.solve(A + wd * eye, b), rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(w_dw, torch.linalg.solve(A + wd * (1 - beta) * eye, b), rtol=1e-6, atol=1e-8)


def test_independent_decay_follows_the_schedule_not_the_base_lr():
    w = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = SGDW([w], lr=0.5, weight_decay=0.1, independent_decay=True)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    factors = []
    for _ in range(3):
        before = w.detach().clone()
        w.grad = torch.zeros(3, dtype=torch.float64)
        opt.step()
        sched.step()
        factors.append((w.detach() / before)[0].item())
    assert factors == pytest.approx([1 - 0.1, 1 - 0.05, 1 - 0.025], abs=1e-12)


def test_per_group_hyperparameters_and_maximize():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = SGDW([{"params": [a], "weight_decay": 0.5}, {"params": [b]}], lr=0.1, maximize=True)
    a.grad, b.grad = torch.ones(2), torch.ones(2)
    opt.step()
    torch.testing.assert_close(a.detach(), torch.full((2,), 0.95 + 0.1))
    torch.testing.assert_close(b.detach(), torch.full((2,), 1.1))


BAD = [
    ("zero lr", dict(lr=0.0), "Invalid learning rate value: 0.0 (want a finite number > 0)"),
    ("negative lr", dict(lr=-0.1), "Invalid learning rate value: -0.1"),
    ("NaN lr", dict(lr=float("nan")), "Invalid learning rate value: nan"),
    ("negative weight decay", dict(lr=0.1, weight_decay=-1e-4), "Invalid weight_decay value: -0.0001"),
    ("momentum 1", dict(lr=0.1, momentum=1.0), "Invalid momentum value: 1.0"),
    ("nesterov without momentum", dict(lr=0.1, nesterov=True), "Nesterov momentum requires"),
    ("text lr", dict(lr="fast"), "Invalid learning rate value: 'fast'"),
]


@pytest.mark.parametrize(("case", "kwargs", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_hyperparameters(case, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SGDW([torch.nn.Parameter(torch.ones(1))], **kwargs)


def test_bad_group_value_is_caught():
    with pytest.raises(ValueError, match="Invalid weight_decay value: -1"):
        SGDW([{"params": [torch.nn.Parameter(torch.ones(1))], "weight_decay": -1}], lr=0.1)


@pytest.mark.parametrize("independent", [False, True])
def test_a_group_added_after_construction_is_validated_and_decays_like_the_first(independent):
    """add_param_group (what torch's schedulers and fine-tuning code call) checks the group and sets its initial_lr."""
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = SGDW([a], lr=0.1, momentum=0.9, weight_decay=0.5, independent_decay=independent)
    opt.add_param_group({"params": [b], "lr": 0.2})
    assert opt.param_groups[1]["initial_lr"] == 0.2 and opt.param_groups[1]["independent_decay"] is independent
    for group in opt.param_groups:  # a schedule halves both learning rates
        group["lr"] /= 2
    a.grad, b.grad = torch.zeros(2), torch.zeros(2)
    opt.step()
    # zero gradient: only the decay acts, by 0.5·λ (independent) or lr·λ (torch's convention)
    torch.testing.assert_close(a.detach(), torch.full((2,), 1 - (0.5 if independent else 0.05) * 0.5))
    torch.testing.assert_close(b.detach(), torch.full((2,), 1 - (0.5 if independent else 0.1) * 0.5))
    for bad, message in (({"lr": -1.0}, "Invalid learning rate value: -1.0"),
                         ({"weight_decay": "0.1"}, "Invalid weight_decay value: '0.1'"),
                         ({"momentum": 1.0}, "Invalid momentum value: 1.0")):
        with pytest.raises(ValueError, match=re.escape(message)):
            opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(1))], **bad})


def test_the_functional_core_is_the_optimizer():
    """sgdw() on lists of tensors takes the same steps as SGDW.step, bit for bit."""
    torch.manual_seed(0)
    w0, grads = torch.randn(5), [torch.randn(5) for _ in range(4)]
    p = torch.nn.Parameter(w0.clone())
    opt = SGDW([p], lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True)
    q, buffers = w0.clone(), [None]
    for g in grads:
        p.grad = g
        opt.step()
        sgdw([q], [g], buffers, lr=0.05, weight_decay=0.1, decay_scale=0.05, momentum=0.9, dampening=0.0,
             nesterov=True, maximize=False)
    assert torch.equal(p.detach(), q)


def test_a_refused_group_leaves_the_optimizer_as_it_was():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = SGDW([a], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate value: -1.0"):
        opt.add_param_group({"params": [b], "lr": -1.0})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [b], "lr": 0.2})  # the corrected group is taken
    assert len(opt.param_groups) == 2
