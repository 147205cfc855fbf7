"""Every public function that takes a Python number takes a numpy scalar too (what indexing an array gives)."""

import numpy as np
import pytest
import torch

from wdlib import data, decay, linreg, models, ridge, tracking, train, tuning

I, F = np.int64, np.float64
X = np.random.default_rng(0).standard_normal((30, 3))
Y = X[:, 0]

CASES = {
    "linreg.fit_gd": lambda: linreg.fit_gd(X, Y, lr=F(0.5), weight_decay=F(0.1), n_steps=I(5000)),
    "ridge.fit_ridge": lambda: ridge.fit_ridge(X, Y, alpha=F(1.0)),
    "ridge.weight_decay_from_alpha": lambda: ridge.weight_decay_from_alpha(F(1.0), I(30)),
    "tuning.kfold_cv": lambda: tuning.kfold_cv(X, Y, [1.0], k=I(3), seed=I(0)),
    "tuning.adamw_timescale": lambda: tuning.adamw_timescale(F(1e-3), F(0.1), steps_per_epoch=I(10)),
    "tuning.fit_logistic": lambda: tuning.fit_logistic(X, (Y > 0).astype(float), weight_decay=F(0.1)),
    "data.subset_indices": lambda: data.subset_indices(I(100), I(10), I(0)),
    "data.kfold_indices": lambda: data.kfold_indices(I(10), I(2), I(0)),
    "data.pad_sequences": lambda: data.pad_sequences([[1, 2]], I(4), pad_left=I(1)),
    "models.build_model": lambda: models.build_model("small_cnn", seed=I(0), hidden=I(8), channels=(I(2), I(4))),
    "train.make_optimizer": lambda: train.make_optimizer(torch.nn.Linear(2, 2), "sgd", lr=F(0.1), momentum=F(0.9)),
    "train.fit": lambda: train.fit(torch.nn.Linear(4, 2), torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1),
                                   (torch.randn(8, 4), torch.randint(0, 2, (8,))), epochs=I(2), batch_size=I(4),
                                   seed=I(0), eval_every=I(1), stop_after=I(1), progress=False),
    "decay.param_groups": lambda: decay.param_groups(torch.nn.Linear(2, 2), F(0.1)),
    "decay.decoupled_decay_": lambda: decay.decoupled_decay_([torch.ones(2)], lr=F(0.1), weight_decay=F(0.1)),
    "decay.max_norm_": lambda: decay.max_norm_(torch.ones(2, 2), F(1.0)),
    "tracking.equilibrium_angular_update": lambda: tracking.equilibrium_angular_update(F(0.1), F(0.01)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_numpy_scalars_are_accepted(name):
    CASES[name]()


@pytest.mark.parametrize("value", [np.True_, True, "0.1"])
def test_numpy_bools_strings_and_bools_are_not_numbers(value):
    from wdlib import _checks

    with pytest.raises(ValueError, match="Invalid lr value"):
        _checks.number(value, "lr")
    with pytest.raises(ValueError, match="epochs must be an integer"):
        _checks.integer(value, "epochs")
