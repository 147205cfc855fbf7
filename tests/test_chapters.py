"""Every chapter executed with papermill through the real pipeline, and the book built (slow)."""

import json
import math
import subprocess
import sys

import nbformat
import pytest

from wdlib import book

from .conftest import ROOT

pytestmark = pytest.mark.slow
CH1 = ROOT / "chapters" / "01_theory.ipynb"
CH2 = ROOT / "chapters" / "02_ridge.ipynb"
CH4 = ROOT / "chapters" / "04_conventions.ipynb"
CH3 = ROOT / "chapters" / "03_linear_regression.ipynb"


def glued(path) -> dict:
    """Values a chapter glued (myst_nb.glue), by name, as text."""
    nb = nbformat.read(path, as_version=4)
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                out[name] = o["data"]["application/papermill.record/text/plain"]
    return out


def numbers(values: dict) -> dict:
    """Glued values as floats; booleans ("True"/"False") and other text kept as their text."""
    def number(x):
        try:
            return x if x in ("True", "False") else float(x)
        except ValueError:
            return x

    return {k: number(x) for k, x in values.items()}


def staged(report, chapter: str):
    """The executed copy of a chapter in the built book's staging folder."""
    return report.html_dir.parents[0] / "staging" / "chapters" / f"{chapter}.ipynb"


def clean_outputs(report, chapter: str, *, min_images: int):
    """The executed chapter: no error output, at least ``min_images`` figures; returns (notebook, glued values)."""
    executed = staged(report, chapter)
    nb = nbformat.read(executed, as_version=4)
    assert book.find_errors(nb) == []
    assert len(images(executed)) >= min_images
    return nb, glued(executed)


def images(path) -> list[str]:
    """The figures of an executed chapter (SVG since plotting.use_style(); PNG for any other image)."""
    nb = nbformat.read(path, as_version=4)
    return [o["data"][kind] for c in nb.cells for o in c.get("outputs", [])
            for kind in ("image/svg+xml", "image/png") if kind in o.get("data", {})]  # fmt: skip


def test_every_toc_chapter_executed_and_timed(built_book):
    chapters = [nb.stem for nb in book.toc_chapters(ROOT)]
    assert [r.chapter for r in built_book.runs] == chapters
    timings = json.loads((built_book.html_dir / "timings.json").read_text())
    assert timings["profile"] == "quick"
    assert [c["chapter"] for c in timings["chapters"]] == chapters
    assert all(c["seconds"] > 0 and c["status"] == "ok" for c in timings["chapters"])
    # what `make book` prints: which chapter is executing, then its time
    n = len(chapters)
    for i, name in enumerate(chapters, 1):
        assert any(line.startswith(f"[{i}/{n}] {name}: executing chapters/{name}.ipynb") for line in built_book.log_lines)
        assert any(line.startswith(f"[{i}/{n}] {name}: done in ") for line in built_book.log_lines)
    print("\n" + built_book.table())


def test_book_has_every_page(built_book):
    html = built_book.html_dir
    for page in ["index.html", "chapters/01_theory.html", "chapters/02_ridge.html", "chapters/03_linear_regression.html", "chapters/04_conventions.html", "chapters/05_vision.html", "chapters/06_text.html", "chapters/07_choosing_lambda.html", "chapters/08_seed_claims.html", "chapters/api.html", "bibliography.html"]:
        assert (html / page).is_file(), page
    # the API reference: one page per module, autodoc ran, [source] links (viewcode)
    api = {name: (html / f"chapters/api/{name}.html").read_text() for name in ("linreg", "book", "ridge")}
    assert "fit_gd" in api["linreg"] and "validate_parameters" in api["book"] and "ridge_path" in api["ridge"]
    assert "_modules/wdlib/ridge.html" in api["ridge"] and (html / "_modules/wdlib/ridge.html").is_file()


def test_chapter_3_output_is_clean_and_has_figures(built_book):
    nb, values = clean_outputs(built_book, "03_linear_regression", min_images=3)
    assert float(values["gd_gap"]) < 1e-6
    assert float(values["fd_error"]) < 1e-7
    v = numbers(values)
    # the seed's loop contracts by exactly 1 − α(Σx² + λ)/m per step: α = λ = 0.01, Σx²/m ≈ E x² = 1/3 for U(0, 1)
    assert 0.995 < v["seed_contraction"] < 0.998
    assert math.isclose(v["seed_remaining"], v["seed_contraction"] ** 1000, rel_tol=1e-6)
    # held-out choice of λ (seed claim A6): at λ = 0.1 the slope shrinks by var/(var + λ) ≈ 0.45, an excess
    # error (0.55·2)²·var(x) ≈ 0.1 against least squares' ≈ 2σ²/n = 0.005: about 20×
    assert v["default_excess_ratio"] > 5 and v["val_excess_ratio"] < v["default_excess_ratio"]
    assert v["validated_test_mse"] <= v["default_test_mse"] and 0 <= v["lam_val"] < v["lam"]
    # centimetres: the shrinkage falls by (10⁴var + λ)/(var + λ), far from 10⁴ when λ ~ var
    var, lam = v["var_x"], v["lam"]
    assert math.isclose(v["shrink_ratio_cm"], (1e4 * var + lam) / (var + lam), rel_tol=1e-6) and v["shrink_ratio_cm"] < 6e3
    # d2l: the null-space part decays exactly as (1 − ηλ)^steps; from zero every run ends near the null model
    # (the 20-dimensional row space holds about n/d = 10 % of the signal)
    assert math.isclose(v["d2l_null_rand3"], v["null_pred"], rel_tol=1e-8)
    assert 0.7 < v["d2l_zero_null_min"] <= v["d2l_zero_null_max"] < 1.1
    assert v["d2l_test_rand0"] > 100 * v["d2l_null_test"] and v["d2l_en_test_rand0"] > 1.5 * v["d2l_en_test_rand3"]
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "hide-cell" in injected[0].metadata["tags"]


def test_chapter_3_parameters_change_the_results(built_book, tmp_path):
    default = staged(built_book, "03_linear_regression")
    changed = tmp_path / "ch3.ipynb"
    book.execute_chapter(CH3, changed, parameters={"lam": 0.5, "seed": 3}, timeout=600)
    a, b = glued(default), glued(changed)
    assert a["var_x"] != b["var_x"]  # new data (seed)
    assert a["lr_bound"] != b["lr_bound"]  # new curvature (λ and data)
    assert a["seed_theta"] == b["seed_theta"]  # the seed's own code fixes its seed
    assert images(default)[0] != images(changed)[0]


def test_chapter_2_output_is_clean_and_reproduces_esl(built_book):
    _, values = clean_outputs(built_book, "02_ridge", min_images=5)
    assert float(values["esl_max_diff"]) <= 0.005  # every ESL Table 3.3 entry but the ridge intercept
    assert values["esl_outside"] == "'Ridge Intercept'"
    assert float(values["bv_mc_rel"]) < 0.05  # Monte Carlo agrees with the exact bias-variance
    assert int(values["dd_peak_n"]) == 50  # min-norm least squares peaks at n = d
    # the excess risk (without σ²): interior optimum below least squares, Monte Carlo within ~4 sd of a variance
    assert float(values["bv_best_excess"]) < float(values["bv_ls_excess"])
    assert float(values["bv_mc_rel_excess"]) < 4 * math.sqrt(2 / float(values["bv_n_draws"]))
    # Hoerl and Kennard: the guaranteed α beats least squares, the best α more so; the slope at 0 matches
    assert float(values["hk_ratio"]) < float(values["hk_safe_ratio"]) < 1
    assert float(values["hk_safe"]) < float(values["hk_best_alpha"])
    assert float(values["hk_slope_rel"]) < 1e-3
    assert int(values["trace_n_flips"]) >= 1 and 0 < float(values["trace_shrink"]) < 1
    # Krogh and Hertz: the best α on a 20-per-decade grid within 0.15 decades of dσ²/‖w*‖², every ratio, both n
    assert float(values["kh_max_log_error"]) < 0.15


def test_chapter_2_parameters_change_the_results(built_book, tmp_path):
    default = staged(built_book, "02_ridge")
    changed = tmp_path / "ch2.ipynb"
    book.execute_chapter(CH2, changed, parameters={"seed": 1, "noise": 0.5, "n_features": 20, "profile": "quick"},
                         timeout=600)
    a, b = glued(default), glued(changed)
    assert int(b["dd_peak_n"]) == 20 and float(b["dd_alpha_star"]) == 20 * 0.5**2
    assert a["bv_best_alpha"] != b["bv_best_alpha"]
    assert a["esl_alpha"] == b["esl_alpha"]  # the prostate data does not depend on the seed


def test_papermill_help_lists_every_parameter_with_type_and_meaning():
    out = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(CH3)],
                         capture_output=True, text=True, check=True).stdout
    for name, info in book.notebook_parameters(CH3).items():
        assert f"{name}: {info['type']} (default {info['default']})" in out
        assert info["help"] in out


def test_chapter_1_output_is_clean_and_every_claim_holds(built_book):
    _, v = clean_outputs(built_book, "01_theory", min_images=4)
    exact = ["sgd_equiv_gap", "raw_decay_gap", "momentum_gap", "maxnorm_gap", "eigen_gap", "es_closed_gap",
             "bn_invariance_gap", "maxnorm_ball_gap", "ema_gap", "bn_gain_renorm"]
    assert max(float(v[k]) for k in exact) < 1e-10, {k: v[k] for k in exact}
    assert float(v["map_gap"]) < 1e-6
    assert float(v["adam_ridge_gap"]) < 0.01  # Adam + L2 stops at the ridge point ...
    assert float(v["adamw_box_gap"]) < 0.05 < float(v["adamw_vs_adam"])  # ... AdamW near the box corner, far from it
    assert float(v["adamw_box_gap"]) < float(v["adamw_box_gap_large"])  # and closer as the learning rate falls
    assert 0.15 < float(v["es_factor_gap"]) < 0.25  # early stopping is close to ridge, not equal
    # ... largest where d/dx of the gap vanishes, e^(−x)(1 + x)² = 1: x = 2.513 (the grid's spacing is 0.7 %)
    assert abs(float(v["es_factor_argmax"]) - 2.513) < 0.02
    assert float(v["bn_eps_gap"]) > 1e-8  # torch's BatchNorm ε breaks exact invariance, measurably
    assert float(v["bn_angle_rel"]) < 0.1  # equilibrium angle √(2ηλ)
    assert float(v["bn_lr_ratio"]) > 2  # decay raises the effective learning rate of BN-fed weights
    assert float(v["momentum_weaker"]) == pytest.approx(1 / (1 - float(v["momentum_mu"])))
    # Adam + L2's gap is shown as "less than" a power of ten (it is exactly 0 at the full profile's lr 1e-3)
    assert float(v["adam_ridge_gap"]) < float(v["adam_ridge_gap_bound"]) <= 0.01
    assert float(v["ema_w0_weight"]) == pytest.approx(math.exp(-1), rel=0.01)  # (1 − ηλ)^τ ≈ 1/e, τ = 1/(ηλ)
    # max-norm per unit: the unit inside its budget is untouched; one ball moves it
    assert float(v["maxnorm_ball_shift"]) > 0.1 and float(v["maxnorm_ball_alpha"]) > float(v["maxnorm_alpha"])
    # early stopping: the flat direction is in the continuous-time limit, the steep one (ηλ = 0.75) is not
    assert abs(float(v["es_gap_flat"]) - float(v["es_factor_gap"])) < 0.01
    assert float(v["es_gap_steep"]) > float(v["es_factor_gap"]) + 0.05
    # BatchNorm: the norm's time constant 1/(4ηλ); the measured step within 30 % of the prediction
    assert float(v["bn_tau"]) == pytest.approx(1 / (4 * float(v["bn_lr"]) * float(v["bn_wd"])))
    assert abs(float(v["bn_norm_settle_step"]) / float(v["bn_norm_pred_step"]) - 1) < 0.3
    assert 0.7 < float(v["bn_rate"]) / float(v["bn_rate_pred"]) < 1.4
    assert float(v["bn_norm_settle_step"]) > float(v["bn_old_tau"])  # the old "settles within 1/(2ηλ)" was wrong
    assert float(v["bn_angle_settle_step"]) > 2 * float(v["bn_tau"])
    # per unit: each unit's effective lr is ~(number of units) times the whole matrix's; the angle holds per unit
    assert 0.5 * float(v["bn_units"]) < float(v["bn_unit_lr_median"]) < 2 * float(v["bn_units"])
    assert abs(float(v["bn_unit_angle_median"]) - 1) < 0.1
    assert int(v["bn_unit_angle_within"]) >= int(v["bn_units"]) // 2
    # a BatchNorm gain is not scale-invariant unless a normalization follows
    assert float(v["bn_gain_change"]) > 1e-3
    # noise injection = ridge with α = nσ²: Monte Carlo error only
    assert float(v["noise_loss_rel"]) < 0.03
    assert float(v["noise_fit_gap"]) < 0.05 * float(v["noise_ls_gap"])


def test_chapter_1_parameters_change_the_results(built_book, tmp_path):
    changed = tmp_path / "ch1.ipynb"
    book.execute_chapter(CH1, changed, parameters={"condition_number": 10.0, "seed": 2, "profile": "quick"}, timeout=600)
    a, b = glued(staged(built_book, "01_theory")), glued(changed)
    assert a["steep_shrink"] != b["steep_shrink"]  # 50/52 against 10/12
    assert float(b["steep_shrink"]) == 10 / 12
    assert a["map_gap"] != b["map_gap"] and a["bn_rms_angle"] != b["bn_rms_angle"]  # new data and network (seed)


def test_chapter_4_verifies_every_convention_and_rebuilds_the_keras_network(built_book):
    _, v = clean_outputs(built_book, "04_conventions", min_images=0)
    assert float(v["conv_max_gap"]) < 1e-10  # every non-Keras row against its library or formula
    assert float(v["conv_keras_gap"]) < 1e-6 < float(v["conv_keras_wrong"])  # Keras keeps float32 lr and decay
    assert float(v["glmnet_naive_gap"]) > 1e-3  # the factor n alone is not glmnet's conversion
    assert float(v["keras_exact_gap"]) < 1e-6 < float(v["keras_eps_gap"]) < float(v["keras_wrong_gap"])
    assert float(v["cmp_adam_grad"]) < 0.5 * float(v["cmp_adamw_grad"])  # Adam + L2 minimizes J, AdamW does not
    assert float(v["cmp_sgd_grad"]) < 0.5 * float(v["cmp_adamw_grad"])
    assert float(v["cmp_adam_norm"]) < float(v["cmp_adamw_norm"]) <= float(v["cmp_nodecay_norm"]) * 1.01
    assert v["typo_caught"] == "True"
    # optax itself (float64), scikit-learn's LogisticRegression, MosaicML's per-step rule, SGDW's ridge
    assert float(v["optax_gap"]) < 1e-12 and float(v["logistic_gap"]) < 1e-6 and float(v["per_step_gap"]) < 1e-14
    assert float(v["sgdw_half_gap"]) < 1e-10 and float(v["sgdw_full_gap"]) > 1e-3  # SGDW(d) + MSELoss is ridge(d/2)
    assert float(v["d2l_concise_vs_twin"]) < 1e-12 and float(v["d2l_concise_vs_scratch"]) > 1e-4
    # both decay the weight by 1 − 0.01·3 per step and the data gradient has no null-space part: the null-space
    # parts agree (to float32 rounding), the difference lies in the row space, where the concise gradient doubles
    assert float(v["d2l_null_gap"]) < 1e-6 * float(v["d2l_row_gap"]) and float(v["d2l_row_gap"]) > 1e-4
    assert (v["keras_adamw_wd"], v["torch_adamw_wd"]) == ("0.004", "0.01")
    assert math.isclose(float(v["norm_wd_torch"]), 1e3 * float(v["norm_wd_paper"]), rel_tol=1e-12)
    # the Keras objective has no minimum (unpenalized output layer, ReLU rescaling); Adam + L2 descends it
    assert float(v["cmp_rescale_change"]) < 1e-12 and float(v["cmp_rescaled_J"]) < float(v["cmp_adam_J"])
    assert float(v["cmp_adam_grad"]) < 0.1 * float(v["cmp_init_grad"])
    assert float(v["cmp_adam_grad"]) < float(v["cmp_nodecay_grad"])
    assert float(v["ln_feeding_change"]) < 1e-3 * float(v["ln_gain_change"])  # a gain is not scale-invariant
    assert v["mingpt_is_no_embeddings"] == v["nanogpt_is_default"] == v["mingpt_spares_embeddings"] == "True"


def test_chapter_4_l2_parameter_reaches_the_keras_network(built_book, tmp_path):
    changed = tmp_path / "ch4.ipynb"
    book.execute_chapter(CH4, changed, parameters={"l2": 0.001, "profile": "quick"}, timeout=600)
    a, b = glued(staged(built_book, "04_conventions")), glued(changed)
    assert float(b["keras_exact_gap"]) < 1e-6  # still exact
    assert float(b["cmp_adam_norm"]) > float(a["cmp_adam_norm"])  # a weaker penalty leaves larger kernels


CH5 = ROOT / "chapters" / "05_vision.ipynb"


def test_chapter_5_quick_profile_trains_live_and_is_clean(built_book):
    from wdlib.experiments import CHAPTER_SWEEPS, SWEEPS

    _, v = clean_outputs(built_book, "05_vision", min_images=7)
    quick = SWEEPS["fmnist-small"].configs("quick")[0]
    assert int(v["n_val"]) == quick["n_val"] == 500 and int(v["n_test"]) == quick["n_test"]  # the quick sizes
    assert int(v["n_runs"]) == sum(len(SWEEPS[n].configs("quick")) for n in CHAPTER_SWEEPS["05_vision"])
    assert 0.1 < float(v["small_acc0"]) <= 1
    _verdicts_follow_intervals(v)


#: glued verdict -> the glued paired difference it reads (keys ``<d>``, ``<d>_lo``, ``<d>_hi``)
VERDICTS = {"small_acc_verdict": "small_dacc", "small_loss_verdict": "small_dloss", "rn_acc_verdict": "rn_dtest_acc",
            "rn_loss_verdict": "rn_dtest_loss", "rn_ece_verdict": "rn_dtest_ece", "tm_never_verdict": "tm_never",
            "tm_early_verdict": "tm_early", "tm_late_verdict": "tm_late"}


def _verdicts_follow_intervals(v):
    """Every verdict in chapter 5's prose says "no difference" exactly when its 95 % interval holds zero."""
    for verdict, d in VERDICTS.items():
        if verdict not in v:
            continue
        lo, hi = float(v[f"{d}_lo"]), float(v[f"{d}_hi"])
        assert lo <= float(v[d]) <= hi
        assert (v[verdict].strip("'") == "no difference that these seeds can detect") == (lo <= 0 <= hi), (verdict, lo, hi)


def test_chapter_5_full_profile_quotes_the_committed_results(tmp_path):
    """The default (full) profile loads data/results/05_vision/ without training, and its glued numbers are the
    committed rows' numbers; the claims its prose makes about them hold."""
    import pandas as pd

    from wdlib import experiments, study
    from wdlib.experiments import CHAPTER_SWEEPS, results_folder

    out = tmp_path / "ch5.ipynb"
    book.execute_chapter(CH5, out, parameters={}, timeout=600)
    v = glued(out)
    runs = {n: pd.read_csv(results_folder(n) / "runs.csv") for n in CHAPTER_SWEEPS["05_vision"]}
    assert int(v["n_runs"]) == sum(len(r) for r in runs.values())
    small = runs["fmnist-small"].assign(val_err=lambda d: 1 - d["val_acc"])
    chosen = study.select(small, "weight_decay", metric="val_err", maximize=False)
    assert float(v["small_best_wd"]) == float(chosen["weight_decay"].iloc[0])
    assert float(v["small_train0"]) - float(v["small_acc0"]) > 0.1  # "the network overfits"
    assert float(v["rn_best_wd"]) == experiments._RESNET_CHOSEN  # stage two ran the λ the rule picks
    assert int(v["rn_pair_seeds"]) >= 5
    assert int(v["headline_min_seeds"]) >= 5  # STUDY.md: five seeds or more for every headline comparison
    assert float(v["rn_train"]) < 0.97  # "short of fitting their training images"
    # 5.1: runs whose training loss stays away from zero sit at the equilibrium; fitted ones turn "far more slowly"
    assert int(v["eq_rest_n"]) >= 4 and int(v["eq_fit_n"]) >= 1
    assert 0.8 < float(v["eq_rest_lo"]) <= float(v["eq_rest_hi"]) < 1.2
    assert 0.3 < float(v["eq_rest_norm_lo"]) <= float(v["eq_rest_norm_hi"]) < 2  # "predicted less well"
    assert v["eq_split"].strip("'") != "no arm"  # an arm that fits its training set on some seeds only
    assert float(v["eq_fit_hi"]) < 0.5 * float(v["eq_rest_lo"])
    assert float(v["eq_fit_loss_max"]) < float(v["eq_fitted"]) <= float(v["eq_rest_loss_min"])
    _verdicts_follow_intervals(v)
    # 5.2: "far from fitting the training set"; the conclusion follows the "never" interval and its sign
    assert float(v["tm_train"]) < 0.95
    never_holds_zero = float(v["tm_never_lo"]) <= 0 <= float(v["tm_never_hi"])
    assert v["tm_conclusion"].strip("'").startswith("The accuracy cannot separate") == never_holds_zero
    # 4: no verdict on the paper's claim from optima at the edge of their grid
    claim = v["basin_claim"].strip("'")
    mostly_flat = 2 * int(v["basin_flat"]) > int(v["basin_columns"])
    assert claim.startswith("not established: at") == mostly_flat
    assert claim.startswith("not established") == (mostly_flat or int(v["basin_censored"]) > 0)
    # 5.3: "the curves are flat ... within what seed noise alone reaches"
    assert v["sc_all_flat"] == "True" and float(v["sc_z"]) <= float(v["sc_z_high"])
    assert int(v["sc_loss_not_flat"]) >= 2 and float(v["sc_loss_z_max"]) > float(v["sc_z_high"])  # loss: not flat
    assert float(v["sc_loss_slope_lo"]) < -1 and float(v["sc_loss_slope_hi"]) > 0  # "do not fix how λ moves"
    assert 0 < float(v["full_wall_min"]) < 360  # the budget: about 4 hours of this machine


CH6 = ROOT / "chapters" / "06_text.ipynb"


def test_chapter_6_quick_profile_trains_live_and_is_clean(built_book):
    from wdlib.experiments import CHAPTER_SWEEPS, SWEEPS

    _, v = clean_outputs(built_book, "06_text", min_images=5)
    v = numbers(v)
    assert v["n_runs"] == sum(len(SWEEPS[n].configs("quick")) for n in CHAPTER_SWEEPS["06_text"])
    assert v["mr_folds"] == 2 and v["lm_steps"] == 100  # the quick profile's own sizes
    assert 0.4 < v["mr_acc"] <= 1 and 0.4 < v["sst_acc"] <= 1
    # an untouched row under AdamW keeps exactly (1 - ηλ)^T of its norm ≈ exp(-ηλT)
    assert abs(v["sim_w"] - v["sim_w_theory"]) < 1e-3


def _interval_verdict(lo, hi):
    """A comparison table's verdict (B − A) from its interval."""
    return "no difference detected" if lo <= 0 <= hi else "B better" if lo > 0 else "A better"


def test_chapter_6_full_profile_quotes_the_committed_results(tmp_path):
    """The default (full) profile loads data/results/06_text/ without training; its glued numbers are recomputed
    here from the committed rows, and every verdict in the prose follows its interval."""
    import pandas as pd

    from wdlib import experiments, study
    from wdlib.experiments import CHAPTER_SWEEPS

    out = tmp_path / "ch6.ipynb"
    book.execute_chapter(CH6, out, parameters={}, timeout=600)
    raw = glued(out)
    v = numbers(raw)
    runs = {n: experiments.load_results(n, "full", complete=True) for n in CHAPTER_SWEEPS["06_text"]}
    assert v["n_runs"] == sum(len(r) for r, _ in runs.values())

    # 1: Kim's table, recomputed: the gap interval counts Kim's run noise (√2 for a ten-fold mean, √(1 + 1/k) for
    # one run on the same test set); the verdict reads it
    kim, kim_hist = runs["text-kim-study"]
    mr = kim[(kim["dataset"] == "mr") & (kim["precision"] == "bfloat16")]
    sst = kim[(kim["dataset"] == "sst2") & (kim["precision"] == "bfloat16")]
    assert len(mr) == v["mr_folds"] == 10 and len(sst) == v["sst_seeds"] >= 3 and (mr["epochs"] == 25).all()
    for tag, part, reported, spread in (("mr", mr, 0.761, math.sqrt(2 / 10)),
                                        ("sst", sst, 0.827, math.sqrt(1 + 1 / len(sst)))):
        acc = part["test_acc"]
        gap = 100 * (acc.mean() - reported)
        half = 100 * study.t_quantile(0.975, len(acc) - 1) * acc.std() * spread
        assert v[f"{tag}_acc"] == pytest.approx(acc.mean(), rel=1e-12)
        assert (v[f"{tag}_gap_lo"], v[f"{tag}_gap_hi"]) == pytest.approx((gap - half, gap + half), rel=1e-9)
        verdict = ("within a point" if -1 <= gap - half and gap + half <= 1 else
                   "different" if gap - half > 0 or gap + half < 0 else "consistent, not resolved to a point")
        assert raw[f"{tag}_verdict"].strip("'") == verdict
    assert 0.35 < v["mr_se_pts"] < 0.5 and 0.8 < v["sst_se_pts"] < 1.0  # √(p(1−p)/n), 10,662 and 1,821 sentences
    epochs_run = kim_hist.groupby("key")["epoch"].max()
    for _, r in sst.iterrows():  # the stopping rule: patience epochs after the best, or all 25
        assert epochs_run[r["key"]] == min(25, r["best_epoch"] + r["patience"])
    mr_hist = kim_hist[kim_hist["key"].isin(mr["key"])]
    assert v["oracle_gain_pts"] == pytest.approx(100 * (mr_hist.groupby("key")["test_acc"].max().mean()
                                                        - mr["test_acc"].mean()), rel=1e-9)
    f32 = kim[(kim["dataset"] == "mr") & (kim["precision"] == "float32")]
    twins = []
    for _, r in f32.iterrows():  # the bfloat16 run of the fold, cut to the float32 run's epochs
        key = mr.loc[mr["fold"] == r["fold"], "key"].item()
        h = mr_hist[(mr_hist["key"] == key) & (mr_hist["epoch"] <= r["epochs"])].reset_index(drop=True)
        twins.append(r["test_acc"] - h.loc[h["dev_acc"].idxmax(), "test_acc"])  # float32 − bfloat16
    assert v["prec_n"] == len(f32) == 3 and v["prec_epochs"] == f32["epochs"].max() < 25
    assert v["prec_diff"] == pytest.approx(sum(twins) / len(twins), rel=1e-9)
    for tag in ("mr", "sst"):  # "fragile": the verdict under Kim's tie rule (the later best dev epoch) is not "different"
        fragile = "fragile" in raw[f"{tag}_verdict_note"]
        assert fragile == (raw[f"{tag}_verdict"].strip("'") == "different"
                           and v[f"{tag}_tie_low"] <= 0 <= v[f"{tag}_tie_high"])
    stop = [v["stop_change_lo"], v["stop_change_hi"]]  # the replay's direction, as the prose words it
    direction = raw["stop_direction"].strip("'")
    assert direction.startswith("only ever lowers") == (stop[1] < 0) or v["stop_same"] == v["mr_folds"]

    # 2: every fold chooses its λ on its own dev set; the counts and the headline follow the intervals
    reg, _ = runs["text-reg-study"]
    assert v["reg_folds"] >= 5 and v["reg_n_arms"] == 8 and v["reg_choices"] == 8 * v["reg_folds"]
    none = reg[(reg["weight_decay"] == 0) & (reg["max_norm"] == 0)]
    assert set(reg["seed"]) == {0}  # one seed: the arms differ only in what they compare, fold by fold
    by = ["optimizer", "dropout", "decay_embeddings"]
    grids = pd.concat([pd.concat([none[none["dropout"] == p].assign(optimizer=o, decay_embeddings=e), part])
                       for (o, p, e), part in reg[reg["weight_decay"] > 0].groupby(by)])
    chosen = study.select(grids, "weight_decay", metric="dev_acc", by=[*by, "fold"])
    assert v["reg_zero_chosen"] == int((chosen["weight_decay"] == 0).sum())
    assert v["reg_censored"] == int((chosen["edge"] == "high").sum())
    tuned = grids.merge(chosen[[*by, "fold", "weight_decay"]], on=[*by, "fold", "weight_decay"])
    arms = pd.concat([none.assign(arm="none"), tuned.assign(arm=tuned[by].astype(str).agg("|".join, axis=1))])
    verdicts, strict, tests = [], [], {}
    for (o, p, e), _ in tuned.groupby(by):
        a, b = {"arm": "none", "dropout": p}, {"arm": f"{o}|{p}|{e}", "dropout": p}
        tests[(o, p, e)] = c = study.paired(arms, a, b, "test_acc", pair_on="fold")
        verdicts.append(_interval_verdict(c["low"], c["high"]))
        c = study.paired(arms, a, b, "test_acc", pair_on="fold", confidence=1 - 0.05 / 8)
        strict.append(_interval_verdict(c["low"], c["high"]))
    assert v["reg_n_better"] == verdicts.count("B better") and v["reg_n_worse"] == verdicts.count("A better")
    assert v["reg_n_better_strict"] == strict.count("B better") and v["reg_n_worse_strict"] == strict.count("A better")
    assert v["reg_gain_max"] == pytest.approx(max(c["mean"] for c in tests.values()), rel=1e-9)
    dev = tuned.groupby([*by])["dev_acc"].mean()  # the best tuned configuration on dev, of all
    o, p, e = dev.idxmax()
    assert raw["best_label"].strip("'").startswith({"adam": "Adam + L2", "adamw": "AdamW"}[o])
    assert v["best_dropout"] == p and v["best_diff"] == pytest.approx(tests[(o, p, e)]["mean"], rel=1e-9)
    assert v["best_lo"] == pytest.approx(tests[(o, p, e)]["low"], rel=1e-9)
    drop = study.paired(none, {"dropout": 0.0}, {"dropout": 0.5}, "test_acc", pair_on="fold")
    assert (v["drop_lo"], v["drop_hi"]) == pytest.approx((drop["low"], drop["high"]), rel=1e-9)
    assert v["reg_last_epoch_share"] == pytest.approx((reg["best_epoch"] == reg["epochs"]).mean())
    assert v["reg_best_epoch_mean"] < v["reg_epochs"] / 2  # "seen less than half of the steps"
    assert v["reg_flat_inner"] >= v["reg_flat"]  # "without each grid's largest λ ... are [flat]"
    words = {"B better": "better than none", "A better": "worse than none",
             "no difference detected": "no difference detected"}
    assert raw["best_verdict"].strip("'") == words[_interval_verdict(v["best_lo"], v["best_hi"])]
    assert v["maxnorm_same"] == v["maxnorm_pairs"] == 2 * v["reg_folds"]  # "never binds": the same numbers everywhere
    drop_words = "no difference detected" if v["drop_lo"] <= 0 <= v["drop_hi"] else (
        "better" if v["drop_diff"] > 0 else "worse")
    assert raw["drop_verdict"].strip("'") == drop_words
    clause = raw["reg_budget_clause"].strip("'")
    assert clause.startswith("so the budget rarely") == (v["reg_last_epoch_share"] <= 0.1)

    # 3: AdamW's rows shrink alike whatever their frequency, near exp(-ηλT); Adam + L2 erases rare rows, keeps
    # frequent ones; spared rows stay where training put them
    assert abs(v["sim_w"] - v["sim_w_theory"]) < 1e-3 and v["sim_l2"] < v["sim_w"]
    assert v["wd_theory_hi"] < 1.25 * v["wd_theory_lo"]  # "a similar factor" for every frequency bin
    assert raw["spare_sentence"].strip("'").startswith("The choice decides which rows carry information; no") == (
        v["spare_detected"] == 0)
    assert v["rare_l2d"] < 0.25 * v["freq_l2d"] and v["freq_bin"] >= 256
    for arm in ("none", "l2s", "ws"):  # spared rows stay where training put them, in every frequency bin
        assert abs(v[f"min_{arm}"] - v["min_none"]) < 0.1 and abs(v[f"max_{arm}"] - v["max_none"]) < 0.1
    assert v["once_share"] > 0.3  # "many of its rows belong to rare words"

    # 4: the signature's verdict follows the Bonferroni intervals of the final training loss
    lm, _ = runs["lm-study"]
    base = {"schedule": "cosine", "decay": "matrices"}
    lams = sorted(lm.loc[(lm["schedule"] == "cosine") & (lm["decay"] == "matrices") & (lm["weight_decay"] > 0),
                         "weight_decay"].unique())
    adjusted = [study.paired(lm, {**base, "weight_decay": 0.0}, {**base, "weight_decay": wd}, "train_loss",
                             confidence=1 - 0.05 / len(lams)) for wd in lams]
    lower = [c for c in adjusted if c["high"] < 0]
    higher = [c for c in adjusted if c["low"] > 0]
    signature = raw["lm_signature"].strip("'")
    assert signature.startswith("is mixed" if lower and higher else "appears" if lower
                                else "does not appear" if higher else "is not detected")
    reading = raw["lm_reading"].strip("'")
    mid_to_end = [v[f"lm_shrink_{t}_hi"] < 0 for t in ("0p1", "0p3", "1")]
    assert ("its sign does not turn" in reading) == (bool(higher) and not lower and all(mid_to_end))
    assert v["lm_main_seeds"] >= 5 and v["lm_side_seeds"] >= 3 and v["lm_steps"] == 4000
    assert v["lm_budget_1"] == pytest.approx(10 * v["lm_budget_0p1"]) and 1 < v["lm_budget_1"] < 4
    assert v["lm_inter_lo"] <= v["lm_inter"] <= v["lm_inter_hi"] and v["lm_inter_n"] >= 3
    assert 0 < v["eq_ratio_min"] <= v["eq_ratio_median"] <= v["eq_ratio_max"]
    assert v["eq_factor"] == pytest.approx(max(v["eq_ratio_max"], 1 / v["eq_ratio_min"]))
    assert v["eq_rms"] == pytest.approx(math.sqrt(1e-3 / 2))  # η = 1e-3, λ = 1: "close to the initialization's 0.02"
    assert v["eq_start_far"] < 0.5 <= 0.8 < v["eq_start_near"] < 1.2  # "most matrices start at ... of it"
    assert v["eq_far_lo"] <= v["eq_far_hi"] and 0 < v["eq_drift_pct"] < 10
    assert 0 < v["full_wall_min"] < 6 * 60  # the budget: about 4 hours of this machine, a little more


def test_chapter_7_chooses_lambda_and_refutes_the_gradient_recipe(built_book):
    _, v = clean_outputs(built_book, "07_choosing_lambda", min_images=4)
    v = numbers(v)
    assert v["df_1se"] < v["df_min"]  # the one-SE rule regularizes more than the CV minimum
    assert v["pick_1se_df_lo"] <= v["df_1se"] <= v["pick_1se_df_hi"] < v["pick_min_df_lo"]
    assert v["pick_1se_df_hi"] < 5  # all 20 one-SE choices below ESL's df ≈ 5 ...
    for key in ("chapter", "esl_std", "pooled", "no_icpt"):  # ... and no candidate moves the median there
        assert v[f"ose_median_{key}"] < 4.5 and v[f"ose_share_{key}"] < 0.1
    for key in ("chapter", "esl_std", "pooled"):
        assert v[f"ose_max_{key}"] < 5
    # a grid at whole df picks whole numbers, so 5 is reached exactly, for a minority of fold assignments
    assert v["ose_max_whole_df"] == pytest.approx(5.0, abs=1e-6) and 0 < v["ose_share_whole_df"] < 0.5
    assert v["ose_max_k5"] > v["ose_max_chapter"]  # five folds: a wider spread
    # no single difference moves the median near 5 (lo/hi over all candidates); 5 only in the upper tail
    assert v["ose_median_lo"] <= v["ose_median_chapter"] <= v["ose_median_hi"] < 4.5
    assert v["ose_max_no_icpt"] > 4.5 and max(v["ose_share_k5"], v["ose_share_whole_df"]) < 0.5
    # the hypergradient descends the K-fold error to its continuous minimum: within the grid's half step
    # (0.05 decades) of the grid minimum, and at least as low (the grid minimum is one point of the curve)
    assert v["hg_converged"] == "True" and v["hg_val_converged"] == "True"
    assert v["hg_log10_gap"] < 0.05 and v["hg_cv_gain"] >= 0
    assert abs(v["df_loo"] - v["df_min"]) < 1.5 and abs(v["df_gcv"] - v["df_loo"]) < 1.0
    assert v["ev_grid_gap"] >= 0 and 0 < v["ev_gamma"] < 8 and v["ev_test"] < v["test_ols"]
    # chapter 5's training-set sizes: the verdict names exactly the rules (slopes 0 and -1) inside the interval
    lo, hi = v["size_slope_lo"], v["size_slope_hi"]
    assert lo <= v["size_slope"] <= hi
    admitted = [r for r, slope in (("normalized", 0), ("fixed τ", -1)) if lo <= slope <= hi]
    assert [r for r in ("normalized", "fixed τ") if r in v["size_admitted"]] == admitted
    # "neither rule is tested": accuracy flat within seed noise at every size, and the cross-entropy optima's line
    # has an interval that "holds both rules" (slopes 0 and -1)
    assert v["size_all_flat"] == "True" and v["size_z"] <= v["size_z_high"]
    assert v["size_loss_lo"] < -1 and v["size_loss_hi"] > 0
    assert v["recipe_max_rel_err"] < 1e-5  # the gradient "estimate" returns the λ that was used ...
    assert v["recipe_ce_hi"] > 1.5 * v["recipe_ce_lo"]  # ... although those λ differ in quality


SEED_ITEMS = [f"a{i}" for i in range(1, 14)] + [f"b{i}" for i in range(1, 8)]  # SEED_CLAIMS.md's A1-A13, B1-B7


def test_chapter_8_checks_every_seed_claim(built_book):
    nb, v = clean_outputs(built_book, "08_seed_claims", min_images=5)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    # all twenty items: a labelled section each, a row of the table linking it, one verdict, a quote per item
    for item in SEED_ITEMS:
        assert f"(sec-seed-{item})=" in text and f"{{ref}}`{item.upper()} <sec-seed-{item}>`" in text
    assert text.count("**Verdict:") == len(SEED_ITEMS) == 20
    assert text.count("> **Seed 000**") == 13 and text.count("> **Seed 001**") == 7
    streams = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream"]
    assert not [o for o in streams if o["name"] == "stderr" or "Warning" in o["text"]]  # no warnings printed
    assert v["seed000_undefined"] == "'m'" and v["seed000_ok"] == "False"  # A1
    assert v["b5_undefined"] == "'x_test, x_train, y_test, y_train'"  # B5
    v = numbers({k: x for k, x in v.items() if k not in ("seed000_undefined", "b5_undefined")})
    assert abs(v["a2_err_seed"] - 1) < 1e-6 and v["a2_err_right"] < 1e-8  # A2: ‖λΣθ·1 − λθ‖ = ‖λθ‖ at θ = (½, −2)
    assert v["a3_gap"] < 1e-10 and v["a3_lam_eff"] == pytest.approx(1e-4)  # A3: the seed's λ is λ/n
    # A4: no intercept: the loop heads to the through-origin slope; ridge with a free b shrinks by var/(var + λ)
    assert 3 < v["a4_theta"] < v["a4_fixed"] and v["a4_factor_err"] < 1e-10
    assert v["a4_w"] < v["a4_w_ols"] and abs(v["a4_b"] - 1) < 0.5 and abs(v["a4_w_ols"] - 2) < 0.5
    assert v["a4_factor"] == pytest.approx(v["a4_var"] / (v["a4_var"] + 0.01))
    # A5: 2/L of the sum loss ∝ 1/n; with x ~ U(0, 1), L/n → the top eigenvalue of [[1/3, 1/2], [1/2, 1]] ≈ 1.27,
    # so lr = 0.01 stops being stable near n = 2/(0.01·1.27) ≈ 158
    assert -1.1 < v["a5_slope"] < -0.9 and 100 < v["a5_n_cross"] < 250 and v["a5_mean_spread"] < 1.3
    assert v["a5_ok_100"] == "True" and v["a5_bad_400"] == "True"  # ... with the gradient of the printed sum loss
    # the seed's own loop divides by m = n: lr 0.01 on the mean loss, far below its 2/L at every n; slow, since
    # the smallest eigenvalue of [[1/3, 1/2], [1/2, 1]] is ≈ 0.066: ln 100/(0.01·0.066) ≈ 7000 steps to 1 %
    assert v["a5_seed_stable"] == "True" and v["a5_n_max"] >= 6400
    assert 4000 < v["a5_seed_steps"] < 30000 and 0.3 < v["a5_seed_left"] < 0.9
    # A6: a validation curve with an interior minimum that beats least squares and the seed's λ on the test set
    assert 1e-4 < v["a6_lam_best"] < 10**1.5 and v["a6_test_best"] < min(v["a6_test_ols"], v["a6_test_seed_lam"])
    assert v["a6_test_best"] > 1  # the noise variance is 1
    assert v["a7_theta_m1"] == pytest.approx(v["a4_fixed"], abs=1e-6) and v["a7_theta_mn"] == v["a4_theta"]  # A7
    assert v["a8_sgd_gap"] < 1e-12 and v["a8_adam_gap"] > 1e-3  # A8: L2 = decay for SGD only
    assert v["zeros_l2"] == 0 and v["l1_first_zero"] < v["l1_half_zero"]  # A9: ridge never zero, lasso sparse
    assert v["var_ratio"] < 0.5  # A9: less variance
    assert v["dropout_rel_err"] < 0.01  # A9: dropout = data-dependent L2 for linear regression
    assert v["decay_share"] < 0.01  # A10
    assert v["imb_pos_rate"] == pytest.approx(150 / 3150)  # A11: a real imbalanced subset ...
    assert v["imb_recall_lo"] < v["imb_recall_hi"] and v["imb_major_lo"] < 1  # ... decay lowers the minority recall
    assert v["bn_out_mean"] < 1e-5 and v["bn_scale_change"] < 1e-4 and v["bn_input_mean"] > 1  # A12
    assert v["a13_gap"] < 1e-12  # A13: momentum is the heavy ball
    assert v["pen_grad_err"] < 1e-12 and v["pen_hess_err"] < 1e-12  # B1
    assert v["lc_monotone"] == "True" and v["lc_last"] < v["lc_first"]  # B2: tuned ridge improves with n ...
    # ... minimum-norm least squares peaks near n = d; the optimally tuned ridge does not (Nakkiran et al.)
    assert v["dd_minnorm_peak"] > v["dd_minnorm_small_n"] and abs(v["dd_peak_n"] - v["dd_d"]) <= 10
    assert v["dd_tuned_monotone"] == "True" and v["dd_tuned_at_peak"] < v["dd_minnorm_peak"] / 2
    # B4: a penalized bias moves the slopes with a shift of y; at logit z the BCE/MSE gradient ratio is 1/(σ(1 − σ))
    s = 1 / (1 + math.exp(6.0))
    assert v["b4_shift_penalized"] > 1e-3 and v["b4_shift_free"] < 1e-10
    assert v["b4_grad_ratio"] == pytest.approx(1 / (s * (1 - s)), rel=1e-4) and v["b4_keras_lambda"] == 0.02
    assert v["b5_n_undefined"] == 4 and v["leak_mean"] > 2 * v["leak_sem"]  # B5: undefined data; the leak
    assert v["b6_max_rel_err"] < 1e-6  # B6: the gradient "estimate" returns the λ used
    assert v["u_too_simple"] > 1.5 * v["u_best"]  # B7: too much decay over-simplifies
