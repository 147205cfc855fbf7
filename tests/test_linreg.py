"""wdlib.linreg against oracles: closed forms, scikit-learn, finite differences."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from wdlib import linreg

SHAPES = [(50, 3), (200, 20), (15, 40)]  # tall, taller, wide (p > n)


@pytest.fixture(params=SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def problem(request):
    n, p = request.param
    rng = np.random.default_rng(n * 1000 + p)
    X = rng.normal(size=(n, p)) * rng.uniform(0.5, 2.0, size=p) + rng.normal(size=p)
    y = X @ rng.normal(size=p) + 3.0 + 0.1 * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("lam", [1e-3, 0.1, 2.0])
def test_closed_form_matches_sklearn_ridge(problem, lam):
    X, y = problem
    w, b = linreg.fit_closed_form(X, y, weight_decay=lam)
    sk = Ridge(alpha=len(y) * lam, solver="svd").fit(X, y)
    np.testing.assert_allclose(w, sk.coef_, rtol=1e-8, atol=1e-10)
    assert b == pytest.approx(sk.intercept_, rel=1e-8, abs=1e-10)


def test_closed_form_zeroes_gradient(problem):
    X, y = problem
    w, b = linreg.fit_closed_form(X, y, weight_decay=0.3)
    gw, gb = linreg.gradient(X, y, w, b, weight_decay=0.3)
    assert np.abs(gw).max() < 1e-10 and abs(gb) < 1e-10


def test_gradient_matches_finite_differences(problem):
    X, y = problem
    w = np.random.default_rng(1).normal(size=X.shape[1])
    assert linreg.check_gradient(X, y, w, -0.7, weight_decay=0.25) < 1e-7


def test_check_gradient_detects_the_seed_bug():
    """λ·Σw instead of λ·w is caught by the finite-difference check."""
    rng = np.random.default_rng(0)
    X, y, w, lam = rng.normal(size=(30, 3)), rng.normal(size=30), np.array([1.0, -2.0, 0.5]), 0.5
    f = lambda t: linreg.loss(X, y, t, weight_decay=lam)
    g_fd = linreg.numerical_gradient(f, w)
    g_seed = linreg.gradient(X, y, w, weight_decay=0.0)[0] + lam * np.sum(w)
    assert np.linalg.norm(g_seed - g_fd) / np.linalg.norm(g_fd) > 1e-2


@pytest.mark.parametrize("lam", [0.0, 0.1, 1.0])
def test_gd_converges_to_closed_form(problem, lam):
    X, y = problem
    X = (X - X.mean(0)) / X.std(0)
    if lam == 0.0 and X.shape[1] > X.shape[0]:
        pytest.skip("p > n without a penalty: GD from zero reaches the min-norm solution; covered below")
    lr = 1 / linreg.hessian_max_eigenvalue(X, weight_decay=lam)
    res = linreg.fit_gd(X, y, lr=lr, weight_decay=lam, n_steps=200_000, tol=1e-11, record_every=1000)
    w, b = linreg.fit_closed_form(X, y, weight_decay=lam)
    assert res.converged
    np.testing.assert_allclose(res.w, w, atol=1e-6)
    assert res.b == pytest.approx(b, abs=1e-6)


def test_gd_from_zero_reaches_min_norm_interpolant_when_p_exceeds_n():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(10, 30)), rng.normal(size=10)
    res = linreg.fit_gd(X, y, lr=1 / linreg.hessian_max_eigenvalue(X, weight_decay=0, fit_intercept=False),
                        weight_decay=0.0, n_steps=100_000, fit_intercept=False, tol=1e-12)
    np.testing.assert_allclose(res.w, np.linalg.pinv(X) @ y, atol=1e-8)


def test_step_size_bound_is_sharp():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(40, 2)) * [1.0, 3.0], rng.normal(size=40)
    bound = linreg.max_stable_lr(X, weight_decay=0.1)
    res = linreg.fit_gd(X, y, lr=0.99 * bound, weight_decay=0.1, n_steps=50_000, tol=1e-9, record_every=1000)
    assert res.converged
    with pytest.raises(linreg.DivergenceError, match=r"lr < 2/L = "):
        linreg.fit_gd(X, y, lr=1.01 * bound, weight_decay=0.1, n_steps=50_000)


def test_hessian_eigenvalue_matches_numerical_hessian():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(25, 3)), rng.normal(size=25)
    lam, p = 0.4, 3
    grad = lambda t: np.append(*linreg.gradient(X, y, t[:p], t[p], weight_decay=lam))
    H = np.column_stack([linreg.numerical_gradient(lambda t, i=i: grad(t)[i], np.zeros(p + 1)) for i in range(p + 1)])
    assert linreg.hessian_max_eigenvalue(X, weight_decay=lam) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-6)


def test_minibatch_gd_is_repeatable_and_seed_dependent():
    X, y = linreg.make_linear_data(40, 5, coef=1.0, noise=0.1, seed=0)
    kw = dict(lr=0.05, weight_decay=0.1, n_steps=200, batch_size=8, warn=False)
    a, b = linreg.fit_gd(X, y, seed=1, **kw), linreg.fit_gd(X, y, seed=1, **kw)
    c = linreg.fit_gd(X, y, seed=2, **kw)
    np.testing.assert_array_equal(a.w, b.w)
    assert not np.array_equal(a.w, c.w)


def test_unpenalized_intercept_is_shift_equivariant():
    X, y = linreg.make_linear_data(30, 2, coef=[1.0, 2.0], intercept=1.0, noise=0.3, seed=1)
    w0, b0 = linreg.fit_closed_form(X, y, weight_decay=0.5)
    w1, b1 = linreg.fit_closed_form(X, y + 10.0, weight_decay=0.5)
    np.testing.assert_allclose(w0, w1, atol=1e-12)
    assert b1 - b0 == pytest.approx(10.0)


def test_one_feature_shrink_factor():
    X, y = linreg.make_linear_data(100, 1, coef=2.0, intercept=1.0, noise=0.5, seed=2, x_dist="uniform")
    w_ols, _ = linreg.fit_closed_form(X, y, weight_decay=0.0)
    for lam in (0.01, 0.1, 1.0):
        w, _ = linreg.fit_closed_form(X, y, weight_decay=lam)
        assert w[0] / w_ols[0] == pytest.approx(X.var() / (X.var() + lam), rel=1e-10)


def test_decay_only_shrinks_null_space():
    """With p > n, GD moves w only in the row space; decay multiplies the null part by (1-ηλ)^t."""
    X, y = linreg.make_linear_data(5, 12, coef=0.1, noise=0.0, seed=np.random.SeedSequence(0))
    w0 = np.random.default_rng(9).normal(size=12)
    null0 = linreg.split_null_space(X, w0)[1]
    for lam in (0.0, 0.5):
        res = linreg.fit_gd(X, y, lr=0.01, weight_decay=lam, n_steps=300, w0=w0, warn=False)
        np.testing.assert_allclose(linreg.split_null_space(X, res.w)[1], null0 * (1 - 0.01 * lam) ** 300, atol=1e-10)


def test_gd_warns_when_not_converged():
    X, y = linreg.make_linear_data(20, 2, coef=1.0, seed=0)
    with pytest.warns(linreg.ConvergenceWarning, match="raise n_steps"):
        linreg.fit_gd(X, y, lr=1e-4, weight_decay=0.0, n_steps=5)


# --------------------------------------------------------------------------- #
# bad input: a table of (call, expected error, message fragment)
# --------------------------------------------------------------------------- #
X_OK, Y_OK = np.ones((4, 2)) * np.arange(4)[:, None], np.arange(4.0)
BAD = [
    ("nan in X", lambda: linreg.fit_gd(np.array([[np.nan], [1.0]]), [1.0, 2.0], lr=0.1, weight_decay=0, n_steps=1), "X contains NaN or inf"),
    ("inf in y", lambda: linreg.fit_gd(X_OK, [1.0, np.inf, 0, 0], lr=0.1, weight_decay=0, n_steps=1), "y contains NaN or inf"),
    ("1-D X", lambda: linreg.fit_gd(np.arange(4.0), Y_OK, lr=0.1, weight_decay=0, n_steps=1), "reshape(-1, 1)"),
    ("rows mismatch", lambda: linreg.fit_gd(X_OK, Y_OK[:3], lr=0.1, weight_decay=0, n_steps=1), "X has 4 rows, y has 3"),
    ("negative λ", lambda: linreg.fit_gd(X_OK, Y_OK, lr=0.1, weight_decay=-1.0, n_steps=1), "Invalid weight_decay value: -1.0"),
    ("nan λ", lambda: linreg.loss(X_OK, Y_OK, [0, 0], weight_decay=np.nan), "Invalid weight_decay value"),
    ("zero lr", lambda: linreg.fit_gd(X_OK, Y_OK, lr=0.0, weight_decay=0.1, n_steps=1), "converges for lr <"),
    ("negative lr", lambda: linreg.fit_gd(X_OK, Y_OK, lr=-0.5, weight_decay=0.1, n_steps=1), "Invalid lr value: -0.5"),
    ("n_steps 0", lambda: linreg.fit_gd(X_OK, Y_OK, lr=0.1, weight_decay=0.1, n_steps=0), "n_steps must be a positive integer"),
    ("w shape", lambda: linreg.gradient(X_OK, Y_OK, [1.0, 2.0, 3.0], weight_decay=0.1), "w must have shape (2,)"),
    ("batch without seed", lambda: linreg.fit_gd(X_OK, Y_OK, lr=0.1, weight_decay=0, n_steps=1, batch_size=2), "pass seed="),
    ("batch too large", lambda: linreg.fit_gd(X_OK, Y_OK, lr=0.1, weight_decay=0, n_steps=1, batch_size=9, seed=0), "batch_size must be an integer in [1, 4]"),
    ("empty X", lambda: linreg.fit_closed_form(np.ones((0, 2)), [], weight_decay=0.1), "at least one sample"),
    ("x_dist", lambda: linreg.make_linear_data(3, 1, coef=1.0, seed=0, x_dist="gamma"), "'normal' or 'uniform'"),
    ("negative noise", lambda: linreg.make_linear_data(3, 1, coef=1.0, seed=0, noise=-1), "noise is a standard deviation"),
]


@pytest.mark.parametrize("call, message", [(c, m) for _, c, m in BAD], ids=[b[0] for b in BAD])
def test_bad_input_raises_value_error_that_says_what_to_change(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


def test_divergence_is_reported_with_the_bound():
    X, y = linreg.make_linear_data(50, 1, coef=2.0, intercept=1.0, seed=0, x_dist="uniform")
    bound = linreg.max_stable_lr(X, weight_decay=0.1)
    with pytest.raises(linreg.DivergenceError) as info:
        linreg.fit_gd(X, y, lr=3 * bound, weight_decay=0.1, n_steps=10_000)
    assert f"{bound:.4g}" in str(info.value) and "standardize" in str(info.value)
