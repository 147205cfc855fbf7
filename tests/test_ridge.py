"""wdlib.ridge against scikit-learn, brute-force refits and its own formulas."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV

from wdlib import data, ridge

RTOL = 1e-8
ALPHAS = np.logspace(-2, 3, 6)


def make_problem(n, p, k=1, *, seed=0, collinear=False):
    """Random design with uneven column scales and offsets, so centring and conditioning matter."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * rng.uniform(0.1, 10.0, size=p) + rng.normal(scale=3.0, size=p)
    if collinear:
        X[:, -1] = X[:, 0] - 2.0 * X[:, 1]  # exactly dependent column
    Y = X @ rng.normal(size=(p, k)) + rng.normal(size=(n, k)) + 5.0
    return X, (Y[:, 0] if k == 1 else Y)


SHAPES = {
    "tall": dict(n=50, p=5),
    "wide": dict(n=30, p=80),
    "square": dict(n=20, p=20),
    "multi-target": dict(n=60, p=10, k=3),
    "collinear": dict(n=40, p=6, collinear=True),
    "wide-multi": dict(n=15, p=40, k=2),
}


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["auto", "svd"])
def test_coef_and_intercept_match_sklearn_ridge(shape, fit_intercept, solver):
    X, y = make_problem(**SHAPES[shape])
    path = ridge.ridge_path(X, y, alphas=ALPHAS, fit_intercept=fit_intercept)
    for i, a in enumerate(ALPHAS):
        ref = Ridge(alpha=a, fit_intercept=fit_intercept, solver=solver).fit(X, y)
        assert rel(path.coef[i], ref.coef_) < RTOL, (shape, a)
        assert rel(path.intercept[i], ref.intercept_) < RTOL or not fit_intercept, (shape, a)
        one = ridge.fit_ridge(X, y, alpha=a, fit_intercept=fit_intercept)
        np.testing.assert_allclose(one.coef, path.coef[i], rtol=1e-12, atol=0)
        np.testing.assert_allclose(one.predict(X), ref.predict(X), rtol=RTOL, atol=RTOL * np.abs(y).max())


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
@pytest.mark.parametrize("gcv_mode", ["svd", "eigen"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loo_errors_match_ridgecv_cv_results(shape, gcv_mode, fit_intercept):
    X, y = make_problem(**SHAPES[shape])
    cv = RidgeCV(alphas=ALPHAS, gcv_mode=gcv_mode, store_cv_results=True, fit_intercept=fit_intercept).fit(X, y)
    dec = ridge.decompose(X, y, fit_intercept=fit_intercept)
    loo = dec.loo_errors(ALPHAS)
    assert loo.shape == cv.cv_results_.shape
    assert rel(loo, cv.cv_results_) < RTOL
    path = ridge.ridge_path(X, y, alphas=ALPHAS, fit_intercept=fit_intercept)
    assert path.best_alpha("loo") == cv.alpha_


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", ["tall", "wide", "collinear"])
def test_loo_equals_brute_force_refits_even_near_interpolation(shape, fit_intercept):
    X, y = make_problem(**SHAPES[shape], seed=3)
    alphas = np.array([1e-3, 1.0, 100.0])
    loo = ridge.decompose(X, y, fit_intercept=fit_intercept).loo_errors(alphas)
    brute = np.empty_like(loo)
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        for j, a in enumerate(alphas):
            fit = ridge.fit_ridge(X[keep], y[keep], alpha=a, fit_intercept=fit_intercept)
            brute[i, j] = (y[i] - fit.predict(X[i : i + 1])[0]) ** 2
    assert rel(loo, brute) < 1e-7


def explicit_hat(X, a, fit_intercept):
    Z = X - X.mean(axis=0) if fit_intercept else X
    H = Z @ np.linalg.solve(Z.T @ Z + a * np.eye(X.shape[1]), Z.T)
    return H + 1.0 / len(X) if fit_intercept else H


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", ["tall", "wide", "multi-target"])
def test_df_hat_rss_and_gcv_equal_their_formulas(shape, fit_intercept):
    X, y = make_problem(**SHAPES[shape], seed=1)
    dec = ridge.decompose(X, y, fit_intercept=fit_intercept)
    Y = y.reshape(len(y), -1)
    for a, df, gcv, rss, h in zip(ALPHAS, dec.df(ALPHAS), dec.gcv(ALPHAS), np.atleast_2d(dec.residual_sum_of_squares(ALPHAS).T).T,
                                  dec.hat_diagonal(ALPHAS).T, strict=True):
        H = explicit_hat(X, a, fit_intercept)
        n, trH = len(X), np.trace(H)
        assert df == pytest.approx(trH - fit_intercept, rel=1e-10)
        np.testing.assert_allclose(h, np.diag(H), rtol=1e-9)
        R = Y - H @ (Y - Y.mean(axis=0) * fit_intercept) - Y.mean(axis=0) * fit_intercept
        np.testing.assert_allclose(rss, (R**2).sum(axis=0), rtol=1e-9)
        expected = np.mean(n * (R**2).sum(axis=0) / (n - trH) ** 2)  # Golub, Heath & Wahba, averaged over targets
        assert gcv == pytest.approx(expected, rel=1e-9)


def test_shrinkage_factors_are_d2_over_d2_plus_alpha():
    X, y = make_problem(30, 4)
    d = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    np.testing.assert_allclose(ridge.decompose(X, y).shrinkage([0.5, 7.0]), [d**2 / (d**2 + 0.5), d**2 / (d**2 + 7.0)])


# --------------------------------------------------------------------------- #
# invariances
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("shape", ["tall", "wide"])
def test_duplicated_columns(shape):
    X, y = make_problem(**SHAPES[shape])
    base = ridge.ridge_path(X, y, alphas=ALPHAS)
    # [X, X]/2 with alpha/2: w' = [w, w] fits the same and costs the same penalty
    half = ridge.ridge_path(np.hstack([X, X]) / 2, y, alphas=ALPHAS / 2)
    p = X.shape[1]
    np.testing.assert_allclose(half.coef[:, :p], base.coef, rtol=1e-9)
    np.testing.assert_allclose(half.coef[:, p:], base.coef, rtol=1e-9)
    np.testing.assert_allclose(half.intercept, base.intercept, rtol=1e-9)
    np.testing.assert_allclose(half.loo_mse, base.loo_mse, rtol=1e-9)
    np.testing.assert_allclose(half.df, base.df, rtol=1e-9)
    # [X, X] with 2·alpha: w' = [w/2, w/2]
    dup = ridge.ridge_path(np.hstack([X, X]), y, alphas=2 * ALPHAS)
    np.testing.assert_allclose(dup.coef[:, :p] * 2, base.coef, rtol=1e-9)


@pytest.mark.parametrize("c", [1e-3, -2.5, 1e4])
def test_rescaled_targets(c):
    X, y = make_problem(25, 8)
    base, scaled = ridge.ridge_path(X, y, alphas=ALPHAS), ridge.ridge_path(X, c * y, alphas=ALPHAS)
    np.testing.assert_allclose(scaled.coef, c * base.coef, rtol=1e-9)
    np.testing.assert_allclose(scaled.intercept, c * base.intercept, rtol=1e-9)
    np.testing.assert_allclose(scaled.loo_mse, c**2 * base.loo_mse, rtol=1e-9)
    np.testing.assert_allclose(scaled.gcv, c**2 * base.gcv, rtol=1e-9)
    assert scaled.best_alpha("gcv") == base.best_alpha("gcv")
    np.testing.assert_allclose(scaled.df, base.df)


def test_standardize_equals_fitting_standardized_columns():
    X, y = make_problem(40, 5)
    Xs, _, scale = ridge.standardize(X)
    ref = Ridge(alpha=3.0).fit(Xs, y)
    fit = ridge.fit_ridge(X, y, alpha=3.0, standardize=True)
    np.testing.assert_allclose(fit.coef * scale, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(fit.predict(X), ref.predict(Xs), rtol=1e-10)
    np.testing.assert_allclose(Xs.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Xs.std(axis=0), 1, rtol=1e-12)


def test_alpha_zero_rank_deficient_warns_and_returns_minimum_norm():
    X, y = make_problem(**SHAPES["collinear"])
    with pytest.warns(ridge.RankDeficientWarning, match="minimum-norm"):
        fit = ridge.fit_ridge(X, y, alpha=0.0)
    Xc = X - X.mean(axis=0)
    expected = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(fit.coef, expected, rtol=1e-8)
    # and it is the limit of ridge as alpha -> 0
    np.testing.assert_allclose(ridge.fit_ridge(X, y, alpha=1e-9).coef, expected, rtol=1e-5)


def test_alpha_zero_full_rank_does_not_warn_and_is_least_squares():
    X, y = make_problem(50, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = ridge.fit_ridge(X, y, alpha=0.0)
    np.testing.assert_allclose(fit.coef, np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)[0], rtol=1e-9)


def test_loo_is_inf_where_a_point_is_interpolated():
    X, y = make_problem(10, 30)
    with pytest.warns(ridge.RankDeficientWarning):
        loo = ridge.decompose(X, y).loo_errors([0.0, 1.0])
    assert np.isinf(loo[:, 0]).all() and np.isfinite(loo[:, 1]).all()


# --------------------------------------------------------------------------- #
# conversions and df
# --------------------------------------------------------------------------- #
def test_alpha_weight_decay_round_trip_and_same_minimizer():
    from wdlib import linreg

    X, y = make_problem(64, 3)
    lam = 0.37
    alpha = ridge.alpha_from_weight_decay(lam, len(y))
    assert ridge.weight_decay_from_alpha(alpha, len(y)) == lam
    np.testing.assert_array_equal(ridge.weight_decay_from_alpha(ridge.alpha_from_weight_decay(ALPHAS, 7), 7), ALPHAS)
    w, _ = linreg.fit_closed_form(X, y, weight_decay=lam)
    np.testing.assert_allclose(ridge.fit_ridge(X, y, alpha=alpha).coef, w, rtol=1e-10)


def test_alpha_for_df_inverts_df():
    X, y = make_problem(30, 6)
    dec = ridge.decompose(X, y)
    targets = np.array([0.5, 2.0, 5.0, 5.999, 6.0])
    a = ridge.alpha_for_df(dec, targets)
    np.testing.assert_allclose(dec.df(a), targets, rtol=1e-9)
    assert a[-1] == 0.0 and np.all(np.diff(a) < 0)


# --------------------------------------------------------------------------- #
# bias–variance, Hoerl–Kennard, optimal ridge
# --------------------------------------------------------------------------- #
def test_bias_variance_matches_monte_carlo():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 8))
    beta = rng.normal(size=8)
    alphas = [0.0, 1.0, 10.0, 100.0]
    exact = ridge.bias_variance(X, beta, alphas=alphas, noise=2.0)
    mc = ridge.simulate_bias_variance(X, beta, alphas=alphas, noise=2.0, n_draws=20000, seed=1)
    np.testing.assert_allclose(mc["variance"], exact["variance"], rtol=0.03)
    np.testing.assert_allclose(mc["bias2"], exact["bias2"], rtol=0.1, atol=0.01 * exact["variance"].max())
    assert exact.loc[0, "bias2"] == pytest.approx(0.0, abs=1e-20)  # least squares is unbiased
    C = X.T @ X / 40
    assert exact.loc[0, "variance"] == pytest.approx(4.0 * np.trace(C @ np.linalg.inv(X.T @ X)))  # σ² p / n


def test_some_positive_alpha_beats_least_squares():
    """Hoerl & Kennard (1970): d MSE/dα < 0 at α = 0, for any β and full-rank X."""
    rng = np.random.default_rng(5)
    for _ in range(20):
        X, beta = rng.normal(size=(30, 5)), rng.normal(size=5) * rng.uniform(0.1, 10)
        bv = ridge.bias_variance(X, beta, alphas=[0.0, 1e-4], noise=rng.uniform(0.1, 3), cov=np.eye(5))
        assert bv["error"][1] < bv["error"][0]


def test_coefficient_mse_equals_the_dense_mean_and_covariance():
    """Hoerl–Kennard's principal-coordinate sums against E ŵ and Cov ŵ built with dense solves (no SVD)."""
    rng = np.random.default_rng(7)
    X, beta, sigma = rng.normal(size=(25, 6)) * rng.uniform(0.2, 5, size=6), rng.normal(size=6), 1.7
    alphas = [0.0, 0.3, 4.0, 250.0]
    got = ridge.coefficient_mse(X, beta, alphas=alphas, noise=sigma)
    G = X.T @ X
    for a, row in zip(alphas, got.itertuples()):
        A_inv = np.linalg.inv(G + a * np.eye(6))
        bias = A_inv @ G @ beta - beta
        cov = sigma**2 * A_inv @ G @ A_inv
        assert row.bias2 == pytest.approx(bias @ bias, rel=1e-9, abs=1e-14)
        assert row.variance == pytest.approx(np.trace(cov), rel=1e-9)
    assert got["mse"].iloc[0] == pytest.approx(sigma**2 * np.trace(np.linalg.inv(G)), rel=1e-9)
    bv = ridge.bias_variance(X, beta, alphas=alphas, noise=sigma, cov=np.eye(6))
    np.testing.assert_allclose(got["mse"], bv["error"] - sigma**2, rtol=1e-9)


def test_hoerl_kennard_alpha_is_the_optimum_in_one_dimension_and_safe_in_many():
    from scipy.optimize import minimize_scalar

    X, beta, sigma = np.array([[2.0], [1.0], [-0.5]]), np.array([0.8]), 1.3
    bound = ridge.hoerl_kennard_alpha(X, beta, noise=sigma)
    assert bound == pytest.approx(sigma**2 / 0.8**2)
    best = minimize_scalar(lambda a: ridge.coefficient_mse(X, beta, alphas=[a], noise=sigma)["mse"][0],
                           bounds=(0, 50), method="bounded", options={"xatol": 1e-10})
    assert best.x == pytest.approx(bound, rel=1e-6)  # p = 1: d MSE/dα = 0 exactly at σ²/θ²
    rng = np.random.default_rng(3)
    for _ in range(20):
        X, beta = rng.normal(size=(30, 5)), rng.normal(size=5) * rng.uniform(0.1, 10)
        sigma = rng.uniform(0.1, 3)
        bound = ridge.hoerl_kennard_alpha(X, beta, noise=sigma)
        mse = ridge.coefficient_mse(X, beta, alphas=np.linspace(0, bound, 30), noise=sigma)["mse"]
        assert np.all(np.diff(mse) < 0)  # falls all the way to the bound


def test_noisy_input_loss_is_the_monte_carlo_mean_and_its_minimizer_is_ridge():
    from scipy.optimize import minimize

    rng = np.random.default_rng(11)
    n, p, sigma = 30, 4, 0.7
    X, y, w = rng.normal(size=(n, p)), rng.normal(size=n), rng.normal(size=p)
    draws = X[None] + sigma * rng.standard_normal((40_000, n, p))
    mc = np.mean((y - draws @ w) ** 2)  # mean over draws and samples
    assert ridge.noisy_input_loss(X, y, w, noise=sigma) == pytest.approx(mc, rel=0.01)
    w_min = minimize(lambda v: ridge.noisy_input_loss(X, y, v, noise=sigma), np.zeros(p), method="BFGS",
                     options={"gtol": 1e-12}).x
    sk = Ridge(alpha=n * sigma**2, fit_intercept=False).fit(X, y).coef_
    np.testing.assert_allclose(w_min, sk, rtol=1e-6, atol=1e-8)


def test_isotropic_min_norm_peaks_at_n_equals_d_and_optimal_ridge_does_not():
    d, sigma = 20, 0.5
    a_star = ridge.optimal_alpha_isotropic(d, noise=sigma, beta_norm=1.0)
    risk = ridge.isotropic_risk([10, 20, 40], n_features=d, noise=sigma, alphas=[0.0, a_star], n_trials=30, seed=0)
    mean = risk.groupby(["alpha", "n_samples"])["error"].mean().unstack()
    assert mean.loc[0.0].idxmax() == 20
    assert (mean.loc[a_star] < mean.loc[0.0]).all()
    assert mean.loc[a_star].is_monotonic_decreasing


# --------------------------------------------------------------------------- #
# ESL Table 3.3 on the prostate data
# --------------------------------------------------------------------------- #
ESL_TABLE_3_3 = ridge.ESL_TABLE_3_3_PUBLISHED


@pytest.fixture(scope="module")
def prostate():
    try:
        return data.load_prostate()
    except data.DataNotFoundError as exc:
        pytest.skip(f"prostate data not on the search path: {exc}")


def test_esl_table_3_3_reproduced(prostate):
    table = ridge.esl_table_3_3(prostate)
    diff = (table - ESL_TABLE_3_3).abs()
    # The book's ridge intercept (2.452) is the training mean of lpsa: it reports the
    # intercept of training-centred inputs, while every other entry (and its LS column)
    # uses inputs standardized with all 97 rows.  Checked separately below.
    ok = diff.drop(index="Intercept", columns=[]).le(0.005)
    assert ok.all().all(), diff
    assert diff.loc["Intercept", "LS"] <= 0.005
    assert prostate.loc[prostate.train, "lpsa"].mean() == pytest.approx(ESL_TABLE_3_3.loc["Intercept", "Ridge"], abs=5e-4)


# --------------------------------------------------------------------------- #
# bad input, table-driven
# --------------------------------------------------------------------------- #
X0, y0 = make_problem(10, 3)
BAD = [
    ("negative alpha", lambda: ridge.fit_ridge(X0, y0, alpha=-1.0), ValueError, "finite and >= 0; got -1.0"),
    ("NaN alpha", lambda: ridge.ridge_path(X0, y0, alphas=[1.0, np.nan]), ValueError, "at position 1"),
    ("inf alpha", lambda: ridge.fit_ridge(X0, y0, alpha=np.inf), ValueError, "finite and >= 0"),
    ("empty alphas", lambda: ridge.ridge_path(X0, y0, alphas=[]), ValueError, "alphas is empty"),
    ("2-D alphas", lambda: ridge.ridge_path(X0, y0, alphas=[[1.0]]), ValueError, "1-D sequence"),
    ("text alpha", lambda: ridge.fit_ridge(X0, y0, alpha="big"), ValueError, "must be a number"),
    ("several alphas to fit_ridge", lambda: ridge.fit_ridge(X0, y0, alpha=[1.0, 2.0]), ValueError, "Use ridge_path"),
    ("NaN in X", lambda: ridge.fit_ridge(np.where(np.eye(10, 3) > 0, np.nan, X0), y0), ValueError,
     "X contains NaN or infinity (first at row 0, column 0"),
    ("inf in y", lambda: ridge.fit_ridge(X0, np.r_[y0[:-1], np.inf]), ValueError, "y contains NaN or infinity (first at row 9"),
    ("mismatched rows", lambda: ridge.fit_ridge(X0, y0[:-1]), ValueError, "X has 10 rows but y has 9"),
    ("1-D X", lambda: ridge.fit_ridge(X0[:, 0], y0), ValueError, "X.reshape(-1, 1)"),
    ("3-D y", lambda: ridge.fit_ridge(X0, y0[:, None, None]), ValueError, "y must be 1-D"),
    ("collinear design for MSE(k)", lambda: ridge.coefficient_mse(np.c_[X0, X0[:, :1]], np.ones(4), alphas=[1.0],
                                                                   noise=1.0), ValueError, "full column rank"),
    ("wide design for MSE(k)", lambda: ridge.hoerl_kennard_alpha(X0[:2], np.ones(3), noise=1.0), ValueError,
     "full column rank"),
    ("zero beta for the bound", lambda: ridge.hoerl_kennard_alpha(X0, np.zeros(3), noise=1.0), ValueError,
     "beta is zero"),
    ("negative input noise", lambda: ridge.noisy_input_loss(X0, y0, np.ones(3), noise=-0.1), ValueError,
     "finite and >= 0"),
    ("w of the wrong size", lambda: ridge.noisy_input_loss(X0, y0, np.ones(2), noise=0.1), ValueError,
     "w must have shape (3,)"),
    ("no samples", lambda: ridge.fit_ridge(np.empty((0, 3)), np.empty(0)), ValueError, "X is empty"),
    ("no features", lambda: ridge.fit_ridge(np.empty((5, 0)), np.zeros(5)), ValueError, "X is empty"),
    ("no targets", lambda: ridge.fit_ridge(X0, np.empty((10, 0))), ValueError, "y has no targets"),
    ("constant column, standardize", lambda: ridge.fit_ridge(np.c_[X0, np.ones(10)], y0, standardize=True),
     ValueError, "column(s) [3] of X are constant"),
    ("bad criterion", lambda: ridge.ridge_path(X0, y0, alphas=[1.0]).best_alpha("aic"), ValueError, "'loo' or 'gcv'"),
    ("df out of range", lambda: ridge.alpha_for_df(ridge.decompose(X0, y0), 4.0), ValueError, "df must lie in (0, 3]"),
    ("negative noise", lambda: ridge.bias_variance(X0, np.ones(3), alphas=[1.0], noise=-1.0), ValueError, "noise"),
    ("beta wrong length", lambda: ridge.bias_variance(X0, np.ones(4), alphas=[1.0], noise=1.0), ValueError, "beta (n_features,)"),
    ("n_samples zero", lambda: ridge.weight_decay_from_alpha(1.0, 0), ValueError, "n_samples must be a positive integer"),
    ("negative weight decay", lambda: ridge.alpha_from_weight_decay(-0.1, 10), ValueError, "weight_decay must be finite and >= 0"),
    ("predict wrong width", lambda: ridge.fit_ridge(X0, y0).predict(X0[:, :2]), ValueError, "shape (n_samples, 3)"),
]


@pytest.mark.parametrize(("case", "call", "exc", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input(case, call, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        call()


# --------------------------------------------------------------------------- #
# LOO and GCV as alpha → 0: wide designs and tiny n, against brute force and the definition
# --------------------------------------------------------------------------- #
def _brute_loo(X, y, alpha):
    """Leave each row out, refit ridge with its own intercept (SVD; pseudo-inverse at alpha = 0), predict it."""
    errs = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        xo, yo = X[keep].mean(axis=0), y[keep].mean()
        U, s, Vt = np.linalg.svd(X[keep] - xo, full_matrices=False)
        big = s > s[0] * max(X.shape) * np.finfo(float).eps
        U, s, Vt = U[:, big], s[big], Vt[big]
        w = Vt.T @ ((s / (s**2 + alpha)) * (U.T @ (y[keep] - yo)))
        errs.append((y[i] - yo - (X[i] - xo) @ w) ** 2)
    return float(np.mean(errs))


def _gcv_definition(X, y, alpha):
    """n·RSS / (n − tr H)² with the hat matrix written out: H = 11ᵀ/n + Xc (XcᵀXc + αI)⁻¹ Xcᵀ."""
    n, p = X.shape
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    H = np.full((n, n), 1 / n) + Xc @ np.linalg.solve(Xc.T @ Xc + alpha * np.eye(p), Xc.T)
    return n * float(np.sum((yc - (H - 1 / n) @ yc) ** 2)) / (n - np.trace(H)) ** 2


LOO_SHAPES = [(20, 50), (4, 10), (3, 2), (6, 3), (30, 5)]  # wide, tiny and wide, tiny, small tall, tall


@pytest.mark.parametrize("n, p", LOO_SHAPES)
def test_loo_stays_exact_as_alpha_goes_to_zero(n, p):
    rng = np.random.default_rng(n * 100 + p)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    alphas = np.array([1e-14, 1e-10, 1e-6, 1e-2, 1.0, 1e3])
    loo = ridge.ridge_path(X, y, alphas=alphas).loo_mse
    assert np.all(np.isfinite(loo))
    np.testing.assert_allclose(loo, [_brute_loo(X, y, a) for a in alphas], rtol=1e-7)
    if n > 2:  # the limit: leave-one-out of the minimum-norm least-squares fit
        np.testing.assert_allclose(loo[0], _brute_loo(X, y, 0.0), rtol=1e-7)


@pytest.mark.parametrize("n, p", LOO_SHAPES)
def test_gcv_stays_finite_and_continuous_as_alpha_goes_to_zero(n, p):
    rng = np.random.default_rng(n * 100 + p)
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    gcv = ridge.ridge_path(X, y, alphas=np.array([1e-14, 1e-11, 1e-2, 1.0, 1e3])).gcv
    assert np.all(np.isfinite(gcv)) and gcv[0] == pytest.approx(gcv[1], rel=1e-6)
    # where the written-out hat matrix is well conditioned, the definition itself
    np.testing.assert_allclose(gcv[2:], [_gcv_definition(X, y, a) for a in (1e-2, 1.0, 1e3)], rtol=1e-8)


def test_an_ill_conditioned_wide_design_matches_the_exact_solution_as_closely_as_sklearn():
    """Columns nearly collinear (singular values down to ~1e-9 of the largest), p > n: fit_ridge's error against
    the solution computed in 50-digit arithmetic (mpmath) is within a few times scikit-learn's (solver='svd')."""
    import mpmath as mp
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(3)
    base = rng.standard_normal((15, 5))
    X = np.hstack([base, base @ rng.standard_normal((5, 35)) + 1e-9 * rng.standard_normal((15, 35))])
    y = base @ rng.standard_normal(5) + 0.1 * rng.standard_normal(15)
    with mp.workdps(50):
        Xc = mp.matrix((X - X.mean(axis=0)).tolist())  # centring in float64 is exact enough: the same for both
        yc = mp.matrix((y - y.mean()).tolist())
        for alpha in (1e-6, 1e-3, 1.0):
            exact = np.array([float(v) for v in Xc.T * mp.lu_solve(Xc * Xc.T + alpha * mp.eye(15), yc)])
            err = lambda w: np.linalg.norm(w - exact) / np.linalg.norm(exact)  # noqa: B023
            ours, theirs = ridge.fit_ridge(X, y, alpha=alpha).coef, Ridge(alpha=alpha, solver="svd").fit(X, y).coef_
            assert err(ours) <= 10 * max(err(theirs), 1e-15), (alpha, err(ours), err(theirs))
