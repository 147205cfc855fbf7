"""wdlib.quadratic: closed forms against linear solves and torch's own optimizers."""

import re

import numpy as np
import pytest
import torch

from wdlib import decay
from wdlib.optim import SGDW
from wdlib.quadratic import Quadratic

Q3 = Quadratic(np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 1.0]]), np.array([1.0, -2.0, 0.5]))


def test_ridge_is_the_penalized_minimizer_and_shrinks_each_eigen_direction():
    for alpha in (0.0, 0.3, 7.0):
        w = Q3.ridge(alpha)
        np.testing.assert_allclose(Q3.grad(w) + alpha * w, 0, atol=1e-13)
        lam, Q = Q3.eigen
        np.testing.assert_allclose(Q.T @ w, lam / (lam + alpha) * (Q.T @ Q3.w_star), atol=1e-13)
    assert Q3.ridge([0.1, 1.0, 10.0]).shape == (3, 3)


def test_gd_closed_form_equals_torch_sgd():
    w0 = np.array([0.5, 0.5, -1.0])
    traj = Q3.trajectory(torch.optim.SGD, w0=w0, steps=50, lr=0.2)
    np.testing.assert_allclose(Q3.gd(0.2, np.arange(51), w0), traj, atol=1e-13)
    np.testing.assert_allclose(Q3.gd(0.2, 50, w0), traj[-1], atol=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize(("optimizer", "kw"), [(torch.optim.SGD, {"lr": 0.1, "weight_decay": 0.5}),
                                               (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.5}),
                                               (torch.optim.Adam, {"lr": 1e-3, "weight_decay": 0.5})])
def test_coupled_l2_converges_to_the_ridge_point(optimizer, kw):
    end = Q3.trajectory(optimizer, w0=np.zeros(3), steps=20_000, **kw)[-1]
    np.testing.assert_allclose(end, Q3.ridge(0.5), atol=1e-6)


def test_sgdw_with_momentum_stops_at_ridge_of_one_minus_mu_times_lambda():
    end = Q3.trajectory(SGDW, w0=np.zeros(3), steps=5000, lr=0.05, momentum=0.9, weight_decay=0.5)[-1]
    np.testing.assert_allclose(end, Q3.ridge(0.1 * 0.5), atol=1e-10)
    assert np.abs(end - Q3.ridge(0.5)).max() > 0.1  # not the coupled fixed point


def test_projected_gd_with_max_norm_reaches_the_matching_ridge_point():
    q = Quadratic.from_eigen([10.0, 1.0], w_star=[2.0, 1.0], angle=0.4)
    c = 1.0
    end = q.trajectory(torch.optim.SGD, w0=[0.0, 0.0], steps=3000, lr=0.05,
                       after_step=lambda w: decay.max_norm_(w, c, dim=None))[-1]
    assert np.linalg.norm(end) == pytest.approx(c)
    alpha = (q.grad(end) @ end) / -(end @ end)  # stationarity: ∇f + αw = 0 along w
    np.testing.assert_allclose(end, q.ridge(alpha), atol=1e-10)


def test_loss_broadcasts_over_a_grid():
    q = Quadratic.from_eigen([2.0, 1.0], w_star=[1.0, 0.0])
    grid = np.zeros((4, 5, 2))
    assert q.loss(grid).shape == (4, 5) and q.loss(grid)[0, 0] == pytest.approx(1.0)


BAD = [
    ("not square", lambda: Quadratic(np.ones((2, 3)), np.ones(2)), "H must be (d, d)"),
    ("not positive definite", lambda: Quadratic(np.diag([1.0, -1.0]), np.ones(2)), "positive definite"),
    ("negative eigenvalue", lambda: Quadratic.from_eigen([1.0, 0.0], [1, 1]), "positive numbers"),
    ("angle in 3-D", lambda: Quadratic.from_eigen([1.0, 2.0, 3.0], [1, 1, 1], angle=0.1), "2-D only"),
    ("negative alpha", lambda: Q3.ridge(-1.0), "alpha must be finite and >= 0"),
    ("zero lr", lambda: Q3.gd(0.0, 3), "lr must be > 0"),
    ("fractional steps", lambda: Q3.gd(0.1, 2.5), "non-negative integers"),
    ("w0 shape", lambda: Q3.trajectory(torch.optim.SGD, w0=[0.0], steps=1, lr=0.1), "w0 must have shape (3,)"),
]


@pytest.mark.parametrize(("case", "call", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input(case, call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
