"""wdlib.experiments: sweep profiles as blocks, loading or computing results, the norms run, and --rerun."""

import json
import math
import os
import subprocess
import sys

import pandas as pd
import pytest

from wdlib import cli, experiments, runs, sweep
from wdlib.experiments import SWEEPS, SweepSpec

from .test_sweep import ROOT, _fmnist


def _cli(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "wdlib.sweep", *args], cwd=ROOT, env=env, capture_output=True, check=False,
                          text=True, timeout=300)

SPEC = SweepSpec("toy", "tests.test_sweep:toy", "a toy", {
    "one": ({"a": 1.0, "b": 2}, sweep.grid(a=[1.0, 2.0]), [0, 1]),
    "blocks": [({"a": 1.0, "b": 2}, sweep.grid(a=[1.0, 2.0]), [0]),
               ({"a": 1.0, "b": 2}, sweep.grid(a=[2.0, 3.0]), [0, 1])],
})


def test_profile_blocks_are_expanded_in_order_each_configuration_once():
    configs = SPEC.configs("blocks")
    assert [(c["a"], c["seed"]) for c in configs] == [(1.0, 0), (2.0, 0), (2.0, 1), (3.0, 0), (3.0, 1)]
    assert len({sweep.run_key(c) for c in configs}) == len(configs)
    assert len(SPEC.configs("one")) == 4


def test_seed_offset_and_overrides_change_the_configurations():
    shifted = SPEC.configs("one", seed=10)
    assert sorted({c["seed"] for c in shifted}) == [10, 11]
    over = SPEC.configs("one", overrides={"b": 5, "a": 9.0})
    assert {c["b"] for c in over} == {5} and {c["a"] for c in over} == {1.0, 2.0}  # points keep their values


@pytest.mark.parametrize("kwargs, match", [
    ({"overrides": {"n_trian": 5}}, r"no setting \['n_trian'\] to override"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"seed": 1.5}, "seed must be an integer >= 0"),
])
def test_bad_seed_or_override_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SPEC.configs("one", **kwargs)


def test_unknown_profile_and_sweep_are_refused():
    with pytest.raises(ValueError, match="no profile 'huge'; choose one of one, blocks"):
        SPEC.configs("huge")
    with pytest.raises(ValueError, match="unknown sweep 'fmnist-lamda'"):
        experiments.load_results("fmnist-lamda", "smoke")


def test_chapter_sweeps_have_every_profile_and_a_results_folder():
    for chapter, names in experiments.CHAPTER_SWEEPS.items():
        for name in names:
            spec = SWEEPS[name]
            assert set(spec.profiles) == {"smoke", "quick", "full"}
            assert spec.results.startswith(f"{chapter}/")
            assert spec.command() == f"python -m wdlib.sweep {name} --profile full"
            # the quick profile is a small version: fewer runs than the full one
            assert len(spec.configs("smoke")) <= len(spec.configs("quick")) < len(spec.configs("full"))


def test_every_profile_of_every_sweep_is_a_valid_configuration_of_its_run_function():
    """A misspelled key in a sweep fails here, not forty minutes into its full profile."""
    from dataclasses import asdict

    from wdlib.config import RUN_CONFIGS

    for spec in SWEEPS.values():
        fn = spec.fn.split(":")[1]
        for profile in spec.profiles:
            for config in spec.configs(profile):
                completed = asdict(RUN_CONFIGS[fn].from_mapping(config))
                assert completed == {**RUN_CONFIGS[fn].defaults(), **config}  # the completed row: defaults filled
    with pytest.raises(ValueError, match=r"unknown text_run keys \['embed_dims'\]"):
        RUN_CONFIGS["text_run"].from_mapping({"seed": 0, "embed_dims": 64})


@pytest.mark.slow
def test_text_regularizers_smoke_profile_records_norms_by_frequency_for_each_variant():
    _text_data()
    runs, hist = experiments.load_results("text-regularizers", "smoke")
    assert len(runs) == len(SWEEPS["text-regularizers"].configs("smoke")) == 6
    assert set(hist.columns) >= {"key", "count_low", "words", "init_norm", "norm"}
    assert set(hist["key"]) == set(runs["key"])
    conf = [json.loads(c) for c in runs["config"]]
    spared = [c for c in conf if c.get("decay_embeddings") is False]
    assert sorted(c["optimizer"] for c in spared) == ["adam", "adamw"]
    # Kim's max-norm run differs from the unconstrained one only through the constraint
    assert {(c["optimizer"], c["weight_decay"], c["max_norm"]) for c in conf} >= {("adam", 0.0, 0), ("adam", 0.0, 3.0)}


def test_full_profile_without_committed_results_says_how_to_make_them(tmp_path):
    (tmp_path / "data" / "results").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"python -m wdlib.sweep fmnist-bn --profile full.*"
                       ) as err:
        experiments.load_results("fmnist-bn", "full", root=tmp_path)
    assert "recompute=True" in str(err.value) and "holds 0 runs" in str(err.value)


def test_project_root_is_found_from_a_subfolder(tmp_path):
    (tmp_path / "data" / "results").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    deep = tmp_path / "_build" / "staging" / "chapters"
    deep.mkdir(parents=True)
    assert experiments.project_root(deep) == tmp_path


@pytest.mark.slow
def test_smoke_profile_is_computed_in_a_fresh_folder_or_resumed_in_a_given_one(tmp_path):
    _fmnist()
    runs, hist = experiments.load_results("fmnist-bn", "smoke", root=tmp_path)
    assert len(runs) == len(SWEEPS["fmnist-bn"].configs("smoke"))
    assert not (tmp_path / "runs").exists()  # a temporary folder, gone
    assert set(hist["key"]) == set(runs["key"])
    st = tmp_path / "store"
    a, _ = experiments.load_results("fmnist-size", "smoke", store=st)
    b, _ = experiments.load_results("fmnist-size", "smoke", store=st)  # resumed: nothing recomputed
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a.drop(columns=list(sweep.PROVENANCE)),
                                  experiments.load_results("fmnist-size", "smoke")[0]
                                  .drop(columns=list(sweep.PROVENANCE)), check_exact=True)


def test_vision_norms_run_tracks_the_scale_invariant_weights_every_step():
    _fmnist()
    config = {"seed": 0, "batchnorm": True, "n_train": 100, "n_test": 50, "epochs": 2, "batch_size": 25,
              "weight_decay": 1e-2, "lr": 0.05}
    metrics, track = runs.vision_norms_run(config)
    assert set(track["name"]) == {"conv1.weight", "conv2.weight", "fc1.weight"}
    assert sorted(set(track["step"])) == list(range(9))  # step 0, then 2 epochs × 4 batches
    assert track.loc[track["step"] == 0, "angular_update"].isna().all()
    assert (track.loc[track["step"] > 0, "angular_update"] > 0).all()
    assert metrics["test_acc"] == runs.vision_run({k: v for k, v in config.items()})[0]["test_acc"]
    with pytest.raises(ValueError, match=r"unknown vision_norms_run keys \['track_evry'\]"):
        runs.vision_norms_run({**config, "track_evry": 2})


@pytest.mark.slow
def test_rerun_reports_identical_and_catches_a_changed_number(tmp_path):
    _fmnist()
    store = tmp_path / "bn"
    assert _cli("fmnist-bn", "--profile", "smoke", "--store", str(store)).returncode == 0
    runs = pd.read_csv(store / "runs.csv")
    key = runs["key"].iloc[0]
    out = _cli("fmnist-bn", "--profile", "smoke", "--store", str(store), "--rerun", key)
    assert out.returncode == 0 and f"PASS: run {key}" in out.stdout and "identical, bit for bit" in out.stdout
    assert "this machine matches the row's numerics" in out.stdout
    runs.loc[0, "test_acc"] += 1e-12
    runs.to_csv(store / "runs.csv", index=False)
    out = _cli("fmnist-bn", "--profile", "smoke", "--store", str(store), "--rerun", key)
    assert out.returncode == 1 and f"FAIL: run {key}" in out.stdout and "in test_acc" in out.stdout
    # the stored history's first epoch, re-run alone, against a tolerance measured here
    out = _cli("fmnist-bn", "--profile", "smoke", "--store", str(store), "--rerun", key, "--prefix", "1",
               "--rtol", "auto")
    assert out.returncode == 0 and "rounding sensitivity here: threads" in out.stdout, out.stdout + out.stderr
    assert f"PASS: the first 1 epochs/steps of run {key}" in out.stdout
    out = _cli("fmnist-bn", "--profile", "smoke", "--store", str(store), "--rerun", "nosuchkey")
    assert out.returncode != 0 and "no run 'nosuchkey'" in out.stderr


def test_chapter_metadata_records_every_invocation(tmp_path):
    rec = {"command": "python -m wdlib.sweep 05_vision --profile full", "sweeps": {"x": {"runs": 3}},
           "wall_seconds": 10.0}
    cli._write_chapter_metadata(tmp_path, rec)
    cli._write_chapter_metadata(tmp_path, {**rec, "wall_seconds": 5.5})
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["wall_seconds_total"] == 15.5 and len(meta["sessions"]) == 2
    assert meta["command"] == rec["command"]
    # one sweep of the chapter run on its own: its session is kept, the chapter's command and other counts stay
    one = {"command": "python -m wdlib.sweep y --profile full", "sweeps": {"y": {"runs": 2}}, "wall_seconds": 1.0}
    cli._write_chapter_metadata(tmp_path, one, command=rec["command"])
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["command"] == rec["command"] and meta["sweeps"] == {"x": {"runs": 3}, "y": {"runs": 2}}
    assert meta["sessions"][-1]["command"] == one["command"] and meta["wall_seconds_total"] == 16.5


def _text_data():
    from wdlib import data

    try:
        data.locate("mr", "rt-polarity.pos")
        data.locate("sst2", "test.tsv")
        data.locate("tinyshakespeare", "input.txt")
    except data.DataNotFoundError as exc:
        pytest.skip(f"text datasets not available ({exc})")


TINY_TEXT = {"seed": 0, "n_train": 200, "embed_dim": 16, "maps": 8, "epochs": 2}


def test_text_run_is_kims_protocol_on_one_mr_fold_and_repeatable():
    _text_data()
    metrics, hist = runs.text_run(TINY_TEXT)
    assert hist["epoch"].tolist() == [1, 2] and {"dev_acc", "test_acc"} <= set(hist.columns)
    best = hist["dev_acc"].to_numpy().argmax()
    assert metrics["test_acc"] == hist["test_acc"].iloc[best] and metrics["best_epoch"] == best + 1
    assert 0 <= metrics["test_acc"] <= 1 and metrics["dev_acc"] == hist["dev_acc"].max()
    again, _ = runs.text_run(TINY_TEXT)
    assert again == metrics  # same seed, same bits
    other, _ = runs.text_run({**TINY_TEXT, "fold": 3})
    assert other != metrics


def test_text_folds_partition_mr_and_the_dev_set_comes_from_the_training_folds():
    _text_data()
    sizes = []
    for fold in range(10):
        *_, encoded = runs._text_setup({"seed": 0, "fold": fold, "embed_dim": 4, "maps": 2}, "text_run")
        sizes.append({k: len(v[1]) for k, v in encoded.items()})
    assert sum(s["test"] for s in sizes) == 10662  # the test folds cover MR once
    assert all(s["train"] + s["dev"] + s["test"] == 10662 for s in sizes)
    assert all(abs(s["dev"] - 0.1 * (s["train"] + s["dev"])) <= 1 for s in sizes)


def test_embedding_run_groups_words_by_training_frequency():
    _text_data()
    _, table = runs.text_embedding_run({**TINY_TEXT, "weight_decay": 1e-2, "decay_embeddings": True})
    assert table["count_low"].tolist() == sorted(table["count_low"]) and table["count_low"].iloc[0] == 1
    assert all((table["count_low"] & (table["count_low"] - 1)) == 0)  # powers of two
    assert (table["words"] > 0).all() and (table["init_norm"] > 0).all()


def test_lm_run_follows_nanogpts_split_and_decay_rule():
    _text_data()
    config = {"seed": 0, "steps": 6, "eval_every": 3, "warmup": 2, "n_layer": 1, "n_embd": 32, "n_head": 2,
              "eval_batches": 2}
    metrics, hist = runs.lm_run(config)
    assert hist["step"].tolist() == [3, 6] and metrics["val_loss"] == hist["val_loss"].iloc[-1]
    vocab, train_tokens, val_tokens = runs._shakespeare()
    assert vocab == 65 and len(train_tokens) == 1003854 and len(train_tokens) + len(val_tokens) == 1115394
    assert runs.lm_run(config)[0] == metrics
    assert runs.lm_run({**config, "decay": "all"})[0] != metrics


def test_lm_run_new_keys_default_to_the_old_behaviour_and_fixed_windows_are_shared_by_every_seed():
    """eval_set and track_norms came after runs were committed: their defaults leave every committed run's key and
    numbers as they were; the study's fixed windows give every seed the same yardstick."""
    _text_data()
    config = {"seed": 0, "steps": 4, "eval_every": 2, "warmup": 1, "n_layer": 1, "n_embd": 32, "n_head": 2,
              "eval_batches": 2}
    old, old_hist = runs.lm_run(config)
    same, same_hist = runs.lm_run({**config, "eval_set": "seeded", "track_norms": False})
    assert same == old and same_hist.columns.tolist() == old_hist.columns.tolist() == ["step", "lr", "train_loss",
                                                                                        "val_loss"]
    for spec in (SWEEPS["lm-decay"], SWEEPS["text-kim"], SWEEPS["text-regularizers"]):  # committed rows still load
        keys = {sweep.run_key(c) for c in spec.configs("full")}
        committed = pd.read_csv(experiments.results_folder(spec.name) / "runs.csv")
        assert keys == set(committed["key"])
    fixed = {**config, "eval_set": "fixed", "track_norms": True}
    metrics, hist = runs.lm_run(fixed)
    assert metrics["val_loss"] != old["val_loss"]
    norms = [c for c in hist.columns if c.startswith("norm:")]
    assert norms == ["norm:tok.weight", "norm:pos.weight", "norm:blocks.0.qkv.weight", "norm:blocks.0.proj.weight",
                     "norm:blocks.0.fc.weight", "norm:blocks.0.out.weight"]  # every matrix, the head tied to tok
    assert hist["step"].tolist() == [2, 4] and hist[norms].notna().all().all()
    # the final matrices' norms, recomputed from the weights: sqrt of the sum of the squared matrix norms
    assert math.sqrt((hist[norms].iloc[-1] ** 2).sum()) == pytest.approx(metrics["weight_norm"], rel=1e-12)
    from wdlib import train

    _, _, val_tokens = runs._shakespeare()
    starts = train.lm_eval_starts(len(val_tokens), 64)
    assert len(starts) == (len(val_tokens) - 1) // 64 == 1742  # the whole validation split, in consecutive windows


@pytest.mark.parametrize("fn, config, match", [
    (runs.text_run, {"seed": 0, "dataset": "imdb"}, "unknown text dataset 'imdb'"),
    (runs.text_run, {"seed": 0, "fold": 10}, r"fold must be an integer in \[0, 10\)"),
    (runs.text_run, {"seed": 0, "max_nrom": 3}, r"unknown text_run keys \['max_nrom'\]"),
    (runs.text_run, {"fold": 0}, "needs a 'seed'"),
    (runs.lm_run, {"seed": 0, "decay": "biases"}, "unknown decay rule 'biases'"),
    (runs.lm_run, {"seed": 0, "wd": 0.1}, r"unknown lm_run keys \['wd'\]"),
])
def test_bad_text_and_lm_configurations_are_refused(fn, config, match):
    _text_data()
    with pytest.raises(ValueError, match=match):
        fn(config)


@pytest.mark.parametrize("fn, config, error, match", [
    ("vision_run", {"lr": "0.1"}, TypeError, r"vision_run: config\['lr'\] = '0.1' is of type str; want a number > 0"),
    ("vision_run", {"batchnorm": "yes"}, TypeError, r"config\['batchnorm'\] = 'yes' is of type str; want True or False"),
    ("vision_run", {"momentum": 1.5}, ValueError, r"config\['momentum'\] = 1.5 is out of range; want a number in \[0, 1\)"),
    ("vision_run", {"momentum": 1}, ValueError, r"want a number in \[0, 1\)"),
    ("vision_run", {"weight_decay": -1e-4}, ValueError, r"config\['weight_decay'\] = -0.0001 is out of range; want a number >= 0"),
    ("vision_run", {"epochs": 2.0}, TypeError, r"config\['epochs'\] = 2.0 is of type float; want an integer >= 1"),
    ("vision_run", {"lr": True}, TypeError, r"config\['lr'\] = True is of type bool"),
    ("vision_run", {"lr": float("nan")}, ValueError, r"config\['lr'\] = nan is out of range"),
    ("vision_run", {"optimizer": "lion"}, ValueError, r"unknown optimizer 'lion'.*choose one of 'sgd'"),
    ("vision_norms_run", {"track_every": 0}, ValueError, r"config\['track_every'\] = 0 is out of range"),
    ("text_run", {"dropout": 1.0}, ValueError, r"text_run: config\['dropout'\] = 1.0 is out of range"),
    ("text_run", {"decay_embeddings": 1}, TypeError, r"config\['decay_embeddings'\] = 1 is of type int; want True or False"),
    ("text_run", {"dev_fraction": 0}, ValueError, r"want a number in \(0, 1\)"),
    ("lm_run", {"lr": "1e-3"}, TypeError, r"lm_run: config\['lr'\] = '1e-3' is of type str; want a number > 0"),
    ("lm_run", {"schedule": "linear"}, ValueError, r"unknown lm schedule 'linear'"),
    ("lm_run", {"warmup": -1}, ValueError, r"config\['warmup'\] = -1 is out of range; want an integer >= 0"),
    ("lm_run", {"eval_set": "all"}, ValueError, r"unknown lm evaluation set 'all'"),
    ("lm_run", {"track_norms": 1}, TypeError, r"config\['track_norms'\] = 1 is of type int; want True or False"),
])
def test_a_bad_value_is_refused_before_any_data_is_loaded(fn, config, error, match, monkeypatch):
    """Wrong types and out-of-range values name the key and what it wants; nothing is loaded or trained."""
    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded before the configuration was checked")

    for loader in ("_fashion_mnist", "_tokenized", "_shakespeare"):
        monkeypatch.setattr(runs, loader, no_data)
    with pytest.raises(error, match=match):
        getattr(runs, fn)({"seed": 0, **config})


def test_the_torch_free_tables_name_what_train_holds():
    from wdlib import config, train

    assert config.OPTIMIZER_NAMES == tuple(train.OPTIMIZERS) and config.SCHEDULE_NAMES == train.SCHEDULES
    assert config.PRECISION_NAMES == train.PRECISIONS and config.MEMORY_FORMAT_NAMES == train.MEMORY_FORMATS
    assert config.DECAY_RULES == tuple(runs._DECAY_RULES)
    assert config.LM_EVAL_SETS == train.EVAL_SETS
    assert runs.VISION_DEFAULTS is config.VISION_DEFAULTS  # one table, re-exported


def test_results_note_and_completed_tables_replace_the_chapters_bookkeeping(tmp_path):
    note = experiments.results_note("05_vision")
    assert note.text.startswith("command: python -m wdlib.sweep 05_vision --profile full") and note.wall_minutes > 0
    empty = experiments.results_note("06_text", root=tmp_path)
    assert empty.text == "no committed results yet" and empty.wall_minutes != empty.wall_minutes  # NaN
    with pytest.raises(ValueError, match="unknown chapter '09_x'"):
        experiments.results_note("09_x")
    plain, _ = experiments.load_results("fmnist-bn")
    full, _ = experiments.load_results("fmnist-bn", complete=True)
    assert list(full["key"]) == list(plain["key"]) and full.columns[0] == "key"
    assert (full["optimizer"] == "sgd").all() and (full["momentum"] == runs.VISION_DEFAULTS["momentum"]).all()
    shared = [c for c in plain.columns if c in full.columns]
    pd.testing.assert_frame_equal(full[shared], plain[shared], check_dtype=False)


def test_validation_split_is_held_out_fixed_and_stratified():
    _fmnist()
    x, y = runs._fashion_mnist("train")
    cfg = runs.VisionConfig.from_mapping
    small_idx, val = runs._vision_indices(cfg({"seed": 0, "n_train": 1000, "n_val": 5000}), y)
    big_idx, val_again = runs._vision_indices(cfg({"seed": 3, "n_train": 20000, "n_val": 5000}), y)
    assert set(val.tolist()) == set(val_again.tolist())  # the same validation images whatever n_train and seed
    assert not set(val.tolist()) & set(big_idx.tolist()) and not set(val.tolist()) & set(small_idx.tolist())
    assert (y[val].bincount(minlength=10) == 500).all() and (y[small_idx].bincount(minlength=10) == 100).all()
    old, none = runs._vision_indices(cfg({"seed": 0, "n_train": 1000}), y)  # no split: the subset as before
    assert none is None and old.tolist() == runs.data.subset_indices(60000, 1000, 0, labels=y).tolist()
    with pytest.raises(ValueError, match="lower n_train to at most 55000"):
        runs._vision_indices(cfg({"seed": 0, "n_train": 56000, "n_val": 5000}), y)


def test_vision_run_with_validation_reports_val_metrics_and_calibration():
    _fmnist()
    config = {"seed": 0, "n_train": 200, "n_val": 300, "n_test": 300, "epochs": 2, "batch_size": 50, "eval_every": 1,
              "model": "resnet", "width": 4, "batchnorm": True, "augment": "crop_flip", "warmup_epochs": 1,
              "schedule": "cosine", "weight_decay": 1e-3, "decay_start": 1}
    metrics, history = runs.vision_run(config)
    assert {"val_acc", "val_loss", "val_ece", "test_ece", "best_val_epoch", "test_acc_at_best_val"} <= set(metrics)
    assert "best_test_acc" not in metrics  # no maximum over test evaluations when a validation split exists
    assert 0 <= metrics["val_ece"] <= 1 and metrics["best_val_epoch"] in (1, 2)
    assert history["val_acc"].notna().all() and history["lr"].iloc[-1] == 0.0  # cosine to zero
    with pytest.raises(ValueError, match="depth must be 6n \\+ 2"):
        runs.vision_run({**config, "depth": 10})
    with pytest.raises(ValueError, match="decay_stop"):
        runs.vision_run({**config, "decay_start": 2, "decay_stop": 1})


def test_the_resnet_sweeps_second_stage_uses_the_lambda_chosen_on_validation_from_its_committed_grid():
    """The confirmation seeds run the λ that the protocol's rule picks from the first stage's committed rows."""
    from wdlib import study

    runs = pd.read_csv(experiments.results_folder("fmnist-resnet") / "runs.csv")
    grid_keys = {sweep.run_key(c) for c in SWEEPS["fmnist-resnet"].configs("full") if c["seed"] in (0, 1)}
    first = runs[runs["key"].isin(grid_keys)].assign(val_err=lambda d: 1 - d["val_acc"])
    assert len(first) == len(grid_keys) == 12
    chosen = study.select(first, "weight_decay", metric="val_err", maximize=False).iloc[0]
    assert chosen["weight_decay"] == experiments._RESNET_CHOSEN and not chosen["censored"]


def _completed(name, profile):
    from wdlib.config import RUN_CONFIGS

    cls = RUN_CONFIGS[SWEEPS[name].fn.split(":")[1]]
    return pd.DataFrame([{**cls.defaults(), **c} for c in SWEEPS[name].configs(profile)])


def test_chapter_6_study_sweeps_follow_the_protocol_before_any_run():
    """Issue 21's design, checked on the configurations rather than after hours of runs."""
    from wdlib.train import lr_factor

    kim = _completed("text-kim-study", "full")
    assert (kim.loc[kim["precision"] == "bfloat16", "epochs"] == 25).all()  # Kim's 25 epochs, dev early stopping
    recipe = kim[["embed_dim", "maps", "optimizer", "lr", "dropout", "max_norm", "batch_size", "n_train"]]
    assert recipe.drop_duplicates().values.tolist() == [[300, 100, "adadelta", 1.0, 0.5, 3.0, 50, 0]]  # CNN-rand
    mr = kim[(kim["dataset"] == "mr") & (kim["precision"] == "bfloat16")]
    assert sorted(mr["fold"]) == list(range(10))
    assert kim.loc[kim["dataset"] == "sst2", "seed"].nunique() >= 3
    assert (kim.loc[kim["dataset"] == "sst2", "patience"] >= 5).all()  # early stopping, never a cap below 5 epochs
    assert (kim.loc[kim["dataset"] == "mr", "patience"] == 0).all()  # MR: Kim's 25 epochs, every one
    float32 = kim[kim["precision"] == "float32"]
    assert len(float32) >= 3 and set(float32["fold"]) <= set(mr["fold"])  # paired by fold with the bf16 runs
    assert (kim["optimizer"] == "adadelta").all()  # a constant rate: a shorter float32 run is a full run's start

    reg = _completed("text-reg-study", "full")
    folds = sorted(reg["fold"].unique())
    assert len(folds) >= 5 and set(reg["dropout"]) == {0.0, 0.5}
    arm = ["dropout", "optimizer", "max_norm", "decay_embeddings", "weight_decay"]
    assert (reg.groupby(arm)["fold"].apply(sorted).map(tuple) == tuple(folds)).all()  # every arm on every fold
    none = reg[(reg["weight_decay"] == 0) & (reg["max_norm"] == 0)]
    assert sorted(none["dropout"].unique()) == [0.0, 0.5] and (reg["max_norm"] == 3.0).any()
    for (opt, _, _), part in reg[reg["weight_decay"] > 0].groupby(["optimizer", "dropout", "decay_embeddings"]):
        wds = sorted(part["weight_decay"].unique())
        assert len(wds) >= 5 and max(b / a for a, b in zip(wds, wds[1:])) <= 10 / 3 * 1.001  # half decades (1, 3, 10)
        if opt == "adamw":
            assert wds[-1] >= 10
    assert set(map(tuple, reg.loc[reg["weight_decay"] > 0, ["optimizer", "decay_embeddings"]].drop_duplicates()
                   .values.tolist())) == {("adam", True), ("adam", False), ("adamw", True), ("adamw", False)}

    lm = _completed("lm-study", "full")
    assert (lm["eval_set"] == "fixed").all() and lm["track_norms"].all()
    configs = lm.drop(columns="seed").astype(str).agg("|".join, axis=1)
    assert (lm.groupby(configs)["seed"].nunique() >= 3).all()  # ≥ 3 seeds for every configuration
    cosine = lm[(lm["schedule"] == "cosine") & (lm["decay"] == "matrices")]
    assert {0.0, 0.1, 0.3, 1.0} <= set(cosine["weight_decay"])
    assert (cosine.groupby("weight_decay")["seed"].nunique() >= 5).all()  # the headline comparison: ≥ 5 seeds
    assert {0.1, 1.0} <= set(lm.loc[lm["decay"] == "all", "weight_decay"]) <= set(cosine["weight_decay"]) - {0.0}
    constant = lm[lm["schedule"] == "constant"]
    assert {0.0, 1.0} <= set(constant["weight_decay"]) and (constant["decay"] == "matrices").all()
    for _, c in cosine.drop_duplicates("weight_decay").iterrows():  # the last tenth of the run near zero lr
        assert lr_factor("cosine", int(0.9 * c["steps"]), c["steps"], warmup=c["warmup"],
                         final=c["final_lr"] / c["lr"]) < 0.05
        assert c["final_lr"] / c["lr"] <= 0.01


def test_chapter_6_study_quick_profiles_are_small_and_shaped_like_the_full_ones():
    """CI builds the chapter on the quick profiles (measured: about 18 s of runs on a quiet core before the
    transformer's quick grid grew to the full one's λ, 100-step runs of a 2-layer model)."""
    names = ("text-kim-study", "text-reg-study", "lm-study")
    assert sum(len(SWEEPS[n].configs("quick")) for n in names) <= 48
    kim, reg, lm = (_completed(n, "quick") for n in names)
    assert kim.loc[kim["dataset"] == "sst2", "seed"].nunique() >= 2 and (kim["precision"] == "float32").sum() >= 2
    assert reg["fold"].nunique() >= 2 and set(reg["decay_embeddings"]) == {True, False}
    assert lm.groupby(["weight_decay", "decay", "schedule"])["seed"].nunique().min() >= 2
    assert set(lm["decay"]) == {"matrices", "all"} and set(lm["schedule"]) == {"cosine", "constant"}


@pytest.mark.slow
def test_chapter_6_study_smoke_profiles_run_and_record_what_the_chapter_reads():
    _text_data()
    kim, _ = experiments.load_results("text-kim-study", "smoke", threads=1)
    assert {"test_acc", "dev_acc", "best_epoch"} <= set(kim.columns) and len(kim) == 2
    reg, table = experiments.load_results("text-reg-study", "smoke", complete=True, threads=1)
    assert set(table["key"]) == set(reg["key"]) and {"count_low", "norm"} <= set(table.columns)
    lm, hist = experiments.load_results("lm-study", "smoke", complete=True, threads=1)
    assert len(lm) == 4 and {"norm:tok.weight", "norm:blocks.1.out.weight"} <= set(hist.columns)
    assert hist.groupby("key")["step"].apply(list).map(lambda s: s == [10, 20]).all()
