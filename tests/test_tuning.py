"""wdlib.tuning: K-fold CV (k = n is exact LOO), the one-SE rule, the evidence against the Gaussian marginal,
seed 001's gradient "estimate" of λ, and the rules of thumb for networks."""

import math

import numpy as np
import pytest
import torch

from wdlib import ridge, tuning


def _data(n=80, p=6, noise=1.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 3.0, size=p)
    beta = rng.normal(size=p)
    return X, X @ beta + 2.0 + noise * rng.normal(size=n)


def test_kfold_cv_with_one_point_per_fold_is_exact_leave_one_out():
    # (without standardize: the closed-form LOO keeps the full data's column scales, k-fold refits them per fold)
    X, y = _data()
    alphas = [0.01, 1.0, 30.0, 1e3]
    cv = tuning.kfold_cv(X, y, alphas, k=len(y))
    loo = ridge.decompose(X, y).loo_mse(alphas)
    np.testing.assert_allclose(cv["mse"], loo, rtol=1e-9)
    np.testing.assert_allclose(cv["df"], ridge.decompose(X, y).df(alphas))


def test_kfold_cv_matches_refitting_each_fold_by_hand():
    X, y = _data(n=53)
    cv = tuning.kfold_cv(X, y, [2.0], k=4, seed=3)
    folds = np.array_split(np.random.default_rng(3).permutation(len(y)), 4)
    errs = []
    for test in folds:
        train = np.setdiff1d(np.arange(len(y)), test)
        Xc, yc = X[train] - X[train].mean(0), y[train] - y[train].mean()
        w = np.linalg.solve(Xc.T @ Xc + 2.0 * np.eye(X.shape[1]), Xc.T @ yc)
        b = y[train].mean() - X[train].mean(0) @ w
        errs.append(np.mean((y[test] - X[test] @ w - b) ** 2))
    assert cv["mse"].item() == pytest.approx(np.mean(errs), rel=1e-10)
    assert cv["se"].item() == pytest.approx(np.std(errs, ddof=1) / 2, rel=1e-10)


def test_one_standard_error_rule_picks_the_most_regularized_alpha_within_one_se():
    X, y = _data(n=60, noise=2.0)
    cv = tuning.kfold_cv(X, y, np.logspace(-2, 4, 25), k=10)
    chosen = tuning.one_standard_error(cv)
    best = cv.loc[cv["mse"].idxmin()]
    row = cv[cv["alpha"] == chosen].iloc[0]
    assert chosen >= best["alpha"] and row["mse"] <= best["mse"] + best["se"]
    assert (cv[cv["alpha"] > chosen]["mse"] > best["mse"] + best["se"]).all()
    with pytest.raises(ValueError, match="missing \\['se'\\]"):
        tuning.one_standard_error(cv.drop(columns="se"))


def test_log_evidence_equals_the_gaussian_marginal_likelihood_with_the_noise_profiled():
    X, y = _data(n=40, p=5)
    for alpha in (0.1, 3.0, 100.0):
        # y ~ N(0, σ²(I + XXᵀ/α)) without intercept; maximize over σ² in closed form
        M = np.eye(len(y)) + X @ X.T / alpha
        s2 = y @ np.linalg.solve(M, y) / len(y)
        direct = -0.5 * (np.linalg.slogdet(2 * math.pi * s2 * M)[1] + len(y))
        assert tuning.log_evidence(X, y, [alpha], fit_intercept=False)[0] == pytest.approx(direct, rel=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_evidence_fixed_point_is_the_maximum_of_the_log_evidence(fit_intercept):
    X, y = _data(n=120, p=8, noise=1.5)
    fit = tuning.evidence_fit(X, y, fit_intercept=fit_intercept)
    a = fit.alpha
    h = 1e-4 * a
    ev = lambda t: tuning.log_evidence(X, y, [t], fit_intercept=fit_intercept)[0]
    assert (ev(a + h) - ev(a - h)) / (2 * h) == pytest.approx(0.0, abs=1e-6)  # stationary ...
    grid = tuning.log_evidence(X, y, a * np.logspace(-2, 2, 41), fit_intercept=fit_intercept)
    assert fit.log_evidence >= grid.max() - 1e-9  # ... and the maximum
    assert fit.weight_decay == pytest.approx(a / len(y))
    assert 0 < fit.gamma < X.shape[1]
    if fit_intercept:  # without one, the data's offset of 2 is part of the "noise"
        assert fit.noise_std == pytest.approx(1.5, rel=0.25)


def test_evidence_refuses_what_it_cannot_do():
    X, y = _data(n=20, p=3)
    with pytest.raises(ValueError, match="alpha > 0 only"):
        tuning.log_evidence(X, y, [0.0, 1.0])
    with pytest.raises(ValueError, match="1-D y"):
        tuning.evidence_fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match="no finite maximum"):
        tuning.evidence_fit(X, np.zeros(20) + 1.0)  # y constant: the centred y is 0, so w = 0
    with pytest.raises(ValueError, match="k = 30 folds need at least 30 samples"):
        tuning.kfold_cv(X, y, [1.0], k=30)


@pytest.mark.parametrize("lam", [0.003, 0.1])
def test_gradient_estimate_of_seed_001_returns_the_lambda_that_was_used(lam):
    """At a minimizer of CE(w) + (λ/2)‖w‖², ∇CE(ŵ) = −λŵ: the 'estimate' is λ, whatever λ was."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 5, generator=g, dtype=torch.float64)
    y = (X @ torch.tensor([1.0, -2.0, 0.5, 0.0, 1.0], dtype=torch.float64) + torch.randn(200, generator=g,
                                                                                           dtype=torch.float64) > 0)
    w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=1, max_iter=500, tolerance_grad=1e-14, tolerance_change=1e-16,
                            line_search_fn="strong_wolfe")

    def ce():
        return torch.nn.functional.binary_cross_entropy_with_logits(X @ w, y.double())

    def closure():
        opt.zero_grad()
        loss = ce() + lam / 2 * w.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    (grad,) = torch.autograd.grad(ce(), w)
    assert tuning.implied_weight_decay(grad, w) == pytest.approx(lam, rel=1e-6)
    assert tuning.implied_weight_decay([grad], [w]) == pytest.approx(lam, rel=1e-6)
    with pytest.raises(ValueError, match="must match"):
        tuning.implied_weight_decay(grad[:3], w)


def test_rules_of_thumb_round_trip_and_refuse_bad_input():
    assert tuning.adamw_timescale(1e-3, 0.1) == pytest.approx(1e4)
    lam = tuning.weight_decay_for_timescale(3e-4, 15.0, steps_per_epoch=390)
    assert tuning.adamw_timescale(3e-4, lam, steps_per_epoch=390) == pytest.approx(15.0)
    # four times the data at the same batch and epochs: √(1/4) of the raw λ
    a = tuning.normalized_weight_decay(0.05, batch_size=128, n_train=10000, epochs=30)
    b = tuning.normalized_weight_decay(0.05, batch_size=128, n_train=40000, epochs=30)
    assert b == pytest.approx(a / 2)
    with pytest.raises(ValueError, match="weight_decay must be finite and > 0"):
        tuning.adamw_timescale(1e-3, 0.0)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        tuning.normalized_weight_decay(0.05, batch_size=0, n_train=10, epochs=1)
    with pytest.raises(TypeError, match="lr must be a number"):
        tuning.adamw_timescale("1e-3", 0.1)


def test_fit_logistic_matches_scikit_learn_and_zeroes_the_penalized_gradient():
    """Oracle: LogisticRegression(C = 1/(n·λ), no intercept) minimizes n·(mean BCE + (λ/2)‖w‖²)·C."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = (rng.random(200) < 1 / (1 + np.exp(-X @ np.array([2.0, -1.0, 0.5, 0.0, 3.0])))).astype(float)
    for lam in (1e-4, 1e-2, 1.0):
        w = tuning.fit_logistic(X, y, weight_decay=lam)
        sk = LogisticRegression(C=1 / (len(y) * lam), fit_intercept=False, tol=1e-12, max_iter=10_000).fit(X, y)
        np.testing.assert_allclose(w, sk.coef_[0], rtol=1e-5, atol=1e-8)
        grad = tuning.logistic_loss(X, y, w)[1]
        assert np.linalg.norm(grad + lam * w) < 1e-12
        assert tuning.implied_weight_decay(grad, w) == pytest.approx(lam, rel=1e-8)  # seed 001's circular recipe
    with pytest.raises(ValueError, match="weight_decay must be finite and > 0"):
        tuning.fit_logistic(X, y, weight_decay=0.0)


# --------------------------------------------------------------------------- #
# hypergradients
# --------------------------------------------------------------------------- #
def _sk_val_mse(X, y, Xv, yv, alpha, fit_intercept=True):
    from sklearn.linear_model import Ridge

    model = Ridge(alpha=alpha, fit_intercept=fit_intercept, solver="svd").fit(X, y)
    return np.mean((yv - model.predict(Xv)) ** 2)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", [(40, 6), (15, 30)])  # tall, and wide (p > n: the minimum-norm side)
def test_ridge_hypergradient_matches_finite_differences_of_scikit_learn(fit_intercept, shape):
    n, p = shape
    X, y = _data(n=n + 20, p=p, seed=4)
    Xt, yt, Xv, yv = X[:n], y[:n], X[n:], y[n:]
    alphas = np.array([0.05, 1.0, 20.0, 500.0])
    h = tuning.ridge_hypergradient(Xt, yt, Xv, yv, alphas, fit_intercept=fit_intercept)
    for a, mse, grad in zip(alphas, h["mse"], h["grad"]):
        step = 1e-5 * a
        fd = (_sk_val_mse(Xt, yt, Xv, yv, a + step, fit_intercept)
              - _sk_val_mse(Xt, yt, Xv, yv, a - step, fit_intercept)) / (2 * step)
        assert mse == pytest.approx(_sk_val_mse(Xt, yt, Xv, yv, a, fit_intercept), rel=1e-9)
        assert grad == pytest.approx(fd, rel=1e-5, abs=1e-10)
    np.testing.assert_allclose(h["grad_log_alpha"], alphas * h["grad"])


def test_ridge_hypergradient_with_standardize_matches_finite_differences():
    X, y = _data(n=60, p=5, seed=6)
    a = np.array([0.3, 3.0, 30.0])
    h = tuning.ridge_hypergradient(X[:45], y[:45], X[45:], y[45:], a, standardize=True)
    up = tuning.ridge_hypergradient(X[:45], y[:45], X[45:], y[45:], a * (1 + 1e-6), standardize=True)
    down = tuning.ridge_hypergradient(X[:45], y[:45], X[45:], y[45:], a * (1 - 1e-6), standardize=True)
    np.testing.assert_allclose(h["grad"], (up["mse"] - down["mse"]) / (2e-6 * a), rtol=1e-5)


def test_kfold_hypergradient_is_the_derivative_of_kfold_cv():
    X, y = _data(n=57, p=5, seed=2)
    a = np.array([0.1, 2.0, 40.0])
    h = tuning.kfold_hypergradient(X, y, a, k=6, seed=5, standardize=True)
    cv = tuning.kfold_cv(X, y, a, k=6, seed=5, standardize=True)
    np.testing.assert_allclose(h["mse"], cv["mse"], rtol=1e-12)
    up = tuning.kfold_cv(X, y, a * (1 + 1e-6), k=6, seed=5, standardize=True)["mse"]
    down = tuning.kfold_cv(X, y, a * (1 - 1e-6), k=6, seed=5, standardize=True)["mse"]
    np.testing.assert_allclose(h["grad"], (up - down) / (2e-6 * a), rtol=1e-5)


@pytest.mark.parametrize("held_out", [True, False])
def test_hypergradient_descent_finds_the_minimum_of_a_fine_grid(held_out):
    # the oracle: the validation error on a grid of 4001 α (scikit-learn fits for the held-out case)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(90, 10))
    y = X @ (0.3 * rng.normal(size=10)) + rng.normal(size=90)
    grid = np.logspace(-2, 4, 4001)
    if held_out:
        fit = tuning.hypergradient_descent(X[:60], y[:60], X_val=X[60:], y_val=y[60:], alpha0=0.1)
        errors = np.array([_sk_val_mse(X[:60], y[:60], X[60:], y[60:], a) for a in grid[::20]])
        best = grid[::20][np.argmin(errors)]
        finer = tuning.ridge_hypergradient(X[:60], y[:60], X[60:], y[60:], grid)["mse"].to_numpy()
    else:
        fit = tuning.hypergradient_descent(X, y, k=5, seed=1, alpha0=1e3)
        finer = tuning.kfold_cv(X, y, grid, k=5, seed=1)["mse"].to_numpy()
        best = grid[np.argmin(finer)]
    assert fit.converged and 0 < fit.steps < 500
    assert abs(math.log(fit.alpha / best)) < math.log(10) * 6 / 200  # within the coarse grid's spacing
    assert fit.mse <= finer.min() + 1e-12  # and at least as low as the fine grid's best
    assert (np.diff(fit.history["mse"]) < 0).all()  # every accepted step lowers the error


def test_hypergradient_descent_rejects_half_a_validation_set():
    X, y = _data()
    with pytest.raises(ValueError, match="both X_val and y_val"):
        tuning.hypergradient_descent(X, y, X_val=X)
    with pytest.raises(ValueError, match="X_val must have shape"):
        tuning.ridge_hypergradient(X, y, X[:, :2], y, [1.0])


def test_kfold_cv_pooled_standard_error_is_over_the_held_out_squared_errors():
    X, y = _data(n=53)
    cv = tuning.kfold_cv(X, y, [2.0], k=4, seed=3, se="pooled")
    errs = np.empty(len(y))
    for test in np.array_split(np.random.default_rng(3).permutation(len(y)), 4):
        train = np.setdiff1d(np.arange(len(y)), test)
        errs[test] = (y[test] - ridge.fit_ridge(X[train], y[train], alpha=2.0).predict(X[test])) ** 2
    assert cv["se"].item() == pytest.approx(errs.std(ddof=1) / math.sqrt(len(y)), rel=1e-10)
    with pytest.raises(ValueError, match="se must be"):
        tuning.kfold_cv(X, y, [2.0], se="sd")


def test_fold_choices_repeats_kfold_cv_and_the_one_se_rule_per_seed():
    X, y = _data(n=60, noise=2.0)
    grid = np.logspace(-2, 4, 25)
    picks = tuning.fold_choices(X, y, grid, seeds=[0, 3], k=5, se="pooled")
    for _, row in picks.iterrows():
        cv = tuning.kfold_cv(X, y, grid, k=5, seed=int(row["seed"]), se="pooled")
        assert row["min"] == cv.loc[cv["mse"].idxmin(), "alpha"]
        assert row["one_se"] == tuning.one_standard_error(cv)
