"""The two Keras conventions in wdlib.decay, checked against Keras 3 itself (torch backend)."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before the first keras import

import keras  # pinned in requirements.lock
import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge

from wdlib import decay

LR = 0.05  # Keras computes parts of a step in float32 (its lr and decay are float32 variables): rtol 1e-6, and
ATOL = 1e-7  # an absolute 1e-7 for weights near zero (5 steps of lr·float32 eps ≈ 1.5e-8 each, with margin)


@pytest.fixture(autouse=True)
def float64():
    if keras.backend.backend() != "torch":
        pytest.fail(f"these tests need KERAS_BACKEND=torch, not {keras.backend.backend()!r}")
    old = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(old)


def data(seed=0, n=40, p=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    return X, X @ rng.normal(size=(p, 1)) + 0.3 + rng.normal(size=(n, 1))


def dense(optimizer, **layer_kw):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(
        1, bias_initializer="ones", kernel_initializer=keras.initializers.GlorotUniform(seed=0), **layer_kw)])
    model.compile(optimizer=optimizer, loss="mse")
    return model, model.layers[0]


def test_keras_l2_one_step_is_x_times_sum_of_squares_next_to_the_mean_loss():
    X, y = data()
    x = 0.1
    model, layer = dense(keras.optimizers.SGD(LR), kernel_regularizer=keras.regularizers.l2(x))
    W0, b0 = layer.kernel.numpy().copy(), layer.bias.numpy().copy()
    model.train_on_batch(X, y)
    r = X @ W0 + b0 - y
    np.testing.assert_allclose(layer.kernel.numpy(), W0 - LR * (2 * X.T @ r / len(X) + 2 * x * W0), rtol=1e-6)
    np.testing.assert_allclose(layer.bias.numpy(), b0 - LR * 2 * r.mean(0), rtol=1e-6)  # kernel only
    assert float(keras.ops.convert_to_numpy(model.losses[0])) == pytest.approx(x * (layer.kernel.numpy() ** 2).sum(), rel=1e-12)


def test_keras_l2_at_the_converted_ridge_solution_does_not_move():
    """Keras' own training step is stationary at Ridge(alpha = n·λ) for l2(from_canonical(λ, "keras_l2"))."""
    X, y = data(1)
    lam = 0.05
    ref = Ridge(alpha=decay.from_canonical(lam, "sklearn_ridge", n_samples=len(X))).fit(X, y.ravel())
    for x, moves in ((decay.from_canonical(lam, "keras_l2"), False), (lam / 2, True)):  # λ/2 is the "(λ/2)‖w‖²" slip
        model, layer = dense(keras.optimizers.SGD(1.0), kernel_regularizer=keras.regularizers.l2(x))
        layer.set_weights([ref.coef_[:, None], np.array([ref.intercept_])])
        model.train_on_batch(X, y)
        step = np.abs(layer.kernel.numpy().ravel() - ref.coef_).max()
        assert (step > 1e-3) if moves else (step < 1e-7), (x, step)


@pytest.mark.parametrize("exclude_bias", [False, True])
def test_keras_optimizer_weight_decay_one_step(exclude_bias):
    """Keras 3: w ← w − lr·d·w before the gradient step, on *every* variable unless excluded."""
    X, y = data(2)
    d = 0.125
    opt = keras.optimizers.SGD(LR, weight_decay=d)
    if exclude_bias:
        opt.exclude_from_weight_decay(var_names=["bias"])
    model, layer = dense(opt)
    W0, b0 = layer.kernel.numpy().copy(), layer.bias.numpy().copy()
    model.train_on_batch(X, y)
    r = X @ W0 + b0 - y
    shrink = 1 - LR * decay.to_canonical(d, "keras_weight_decay")
    np.testing.assert_allclose(layer.kernel.numpy(), shrink * W0 - LR * 2 * X.T @ r / len(X), rtol=1e-6)
    b_shrink = 1.0 if exclude_bias else shrink
    np.testing.assert_allclose(layer.bias.numpy(), b_shrink * b0 - LR * 2 * r.mean(0), rtol=1e-6)


def test_keras_adamw_equals_torch_adamw_through_the_canonical_rate():
    X, y = data(3)
    d = 0.25
    model, layer = dense(keras.optimizers.AdamW(LR, weight_decay=d, epsilon=1e-12))
    lin = torch.nn.Linear(3, 1).double()
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(layer.kernel.numpy().T))
        lin.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    wd = decay.from_canonical(decay.to_canonical(d, "keras_weight_decay"), "torch_adamw")
    opt = torch.optim.AdamW(lin.parameters(), lr=LR, weight_decay=wd, eps=1e-12)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(5):
        model.train_on_batch(X, y)
        opt.zero_grad()
        torch.nn.functional.mse_loss(lin(Xt), yt).backward()
        opt.step()
    np.testing.assert_allclose(lin.weight.detach().numpy().T, layer.kernel.numpy(), rtol=1e-6, atol=ATOL)
    np.testing.assert_allclose(lin.bias.detach().numpy(), layer.bias.numpy(), rtol=1e-6, atol=ATOL)
