"""wdlib.decay against torch's own optimizers, scikit-learn, and its stated rules."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
import torch
from sklearn.linear_model import Ridge
from torch import nn

from wdlib import decay
from wdlib.optim import SGDW


class RMSNorm(nn.Module):
    """A custom normalization layer: torch does not know its class; its gain is 1-D."""

    def __init__(self, d):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return self.scale * x / x.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embed = nn.Embedding(10, 4)
        self.conv = nn.Conv1d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm1d(4)
        self.norm = RMSNorm(4)
        self.frozen = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)
        self.frozen.requires_grad_(False)

    def forward(self, idx):
        x = self.bn(self.conv(self.token_embed(idx).transpose(1, 2))).transpose(1, 2)
        return self.head(self.norm(self.frozen(x))).mean(1)


def names(groups, wd):
    return sorted(n for g in groups if g["weight_decay"] == wd for n in g["param_names"])


def test_default_rule_decays_matrices_only_and_skips_frozen():
    model = Net()
    groups = decay.param_groups(model, 0.1)
    assert names(groups, 0.1) == ["conv.weight", "head.weight", "token_embed.weight"]
    assert names(groups, 0.0) == ["bn.bias", "bn.weight", "conv.bias", "head.bias", "norm.scale"]
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    listed = [n for g in groups for n in g["param_names"]]
    assert sorted(listed) == sorted(trainable) and len(listed) == len(set(listed))  # each exactly once
    decay.check_param_groups(model, groups)


def test_embedding_and_name_options():
    model = Net()
    groups = decay.param_groups(model, 0.1, decay_embeddings=False, no_decay=["head.*"], decay=["norm.scale"])
    assert names(groups, 0.1) == ["conv.weight", "norm.scale"]
    assert "token_embed.weight" in names(groups, 0.0) and "head.weight" in names(groups, 0.0)


@pytest.mark.parametrize("opt", [torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, SGDW])
def test_every_optimizer_takes_the_groups(opt):
    model = Net()
    optimizer = opt(decay.param_groups(model, 0.1), lr=0.01)
    model(torch.randint(0, 10, (3, 5))).sum().backward()
    optimizer.step()
    decay.check_param_groups(model, optimizer)
    report = decay.decay_report(model, optimizer)
    assert report.set_index("name").loc["norm.scale", "weight_decay"] == 0.0
    assert report.set_index("name").loc["frozen.weight", "reason"] == "frozen"


def test_report_without_groups_states_the_reasons():
    report = decay.decay_report(Net()).set_index("name")
    assert report.loc["conv.weight", "reason"] == "3-D weight"
    assert report.loc["conv.bias", "reason"] == "bias"
    assert report.loc["token_embed.weight", "reason"] == "embedding"


def test_torch_silently_accepts_a_misspelled_key_and_check_catches_it():
    model = nn.Linear(3, 1)
    groups = [{"params": [model.weight], "weight_deacy": 0.5}, {"params": [model.bias]}]
    opt = torch.optim.SGD(groups, lr=0.1)  # torch: no error, no decay
    assert opt.param_groups[0]["weight_decay"] == 0
    for arg in (groups, opt):
        with pytest.raises(ValueError, match="'weight_deacy'.*did you mean 'weight_decay'"):
            decay.check_param_groups(model, arg)


# --------------------------------------------------------------------------- #
# one-step equivalences with torch's own optimizers
# --------------------------------------------------------------------------- #
def problem(seed=0):
    g = torch.Generator().manual_seed(seed)
    X, y = torch.randn(32, 5, generator=g, dtype=torch.float64), torch.randn(32, 1, generator=g, dtype=torch.float64)
    model = nn.Linear(5, 1).double()
    with torch.no_grad():
        model.weight.copy_(torch.randn(1, 5, generator=g))
        model.bias.copy_(torch.randn(1, generator=g))
    return X, y, model


def clone(model):
    other = nn.Linear(5, 1).double()
    other.load_state_dict(model.state_dict())
    return other


def test_torch_sgd_weight_decay_equals_the_manual_l2_step():
    X, y, model = problem()
    manual = clone(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.3)
    nn.functional.mse_loss(model(X), y).backward()
    opt.step()
    loss = nn.functional.mse_loss(manual(X), y) + decay.l2_penalty(manual.parameters(), 0.3)
    loss.backward()
    with torch.no_grad():
        for p in manual.parameters():
            p -= 0.1 * p.grad
    for a, b in zip(model.parameters(), manual.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-15)


def test_l2_penalty_with_groups_uses_each_groups_rate():
    _, _, model = problem()
    groups = decay.param_groups(model, 0.4)
    expected = 0.2 * model.weight.pow(2).sum()
    torch.testing.assert_close(decay.l2_penalty(groups), expected)


def test_adamw_equals_adam_plus_decoupled_decay_over_several_steps():
    X, y, model = problem()
    manual = clone(model)
    adamw = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=0.2)
    adam = torch.optim.Adam(manual.parameters(), lr=0.05, weight_decay=0.0)
    for _ in range(5):
        for m, opt in ((model, adamw), (manual, adam)):
            opt.zero_grad()
            nn.functional.mse_loss(m(X), y).backward()
        adamw.step()
        decay.decoupled_decay_(manual.parameters(), lr=0.05, weight_decay=0.2)
        adam.step()
    for a, b in zip(model.parameters(), manual.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-14)


# --------------------------------------------------------------------------- #
# conventions
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("convention", list(decay.CONVENTIONS))
@pytest.mark.parametrize("loss", ["mse", "half_mse", "mean"])
def test_round_trips_are_exact(convention, loss):
    kw = {"n_samples": 97, "loss": loss, "y_scale": 0.5, "lr": 0.25}
    for v in (Fraction(1, 3), Fraction(0), Fraction(7, 100)):
        assert decay.from_canonical(decay.to_canonical(v, convention, **kw), convention, **kw) == v
        assert decay.to_canonical(decay.from_canonical(v, convention, **kw), convention, **kw) == v
    if convention not in ("sklearn_ridge", "sklearn_logistic"):  # a power-of-two factor: floats are exact too
        for v in (0.1, 3e-4, 12.5):
            assert decay.from_canonical(decay.to_canonical(v, convention, **kw), convention, **kw) == v


def stationarity(model, X, y, extra):
    model.zero_grad()
    (nn.functional.mse_loss(model(X), y) + extra(model)).backward()
    return max(p.grad.abs().max().item() for p in model.parameters())


def ridge_model(X, y, alpha):
    ref = Ridge(alpha=alpha).fit(X.numpy(), y.numpy().ravel())
    model = nn.Linear(X.shape[1], 1).double()
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(ref.coef_[None, :]))
        model.bias.fill_(float(ref.intercept_))
    return model


def test_torch_sgd_and_keras_l2_conversions_give_the_ridge_solution():
    """At Ridge(alpha = n·λ) the torch objective for the converted number is stationary."""
    X, y, _ = problem(1)
    n, lam = X.shape[0], 0.05
    model = ridge_model(X, y, decay.from_canonical(lam, "sklearn_ridge", n_samples=n))
    d = decay.from_canonical(lam, "torch_sgd")  # coupled: MSELoss gradient + d·w
    assert stationarity(model, X, y, lambda m: d / 2 * m.weight.pow(2).sum()) < 1e-12
    x = decay.from_canonical(lam, "keras_l2")  # Keras: mean-squared-error loss + x·Σw²
    assert stationarity(model, X, y, lambda m: x * m.weight.pow(2).sum()) < 1e-12
    wrong = stationarity(model, X, y, lambda m: lam / 2 * m.weight.pow(2).sum())  # λ passed as if canonical
    assert wrong > 1e-3


def test_torch_sgd_converges_to_the_converted_ridge_solution():
    X, y, model = problem(2)
    n, lam = X.shape[0], 0.1
    opt = torch.optim.SGD(decay.param_groups(model, decay.from_canonical(lam, "torch_sgd")), lr=0.2)
    for _ in range(3000):
        opt.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        opt.step()
    ref = Ridge(alpha=decay.from_canonical(lam, "sklearn_ridge", n_samples=n)).fit(X.numpy(), y.numpy().ravel())
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), ref.coef_, rtol=1e-9)
    np.testing.assert_allclose(model.bias.item(), ref.intercept_, rtol=1e-9)


def test_sgdw_with_mse_loss_lands_on_ridge_at_half_its_decay():
    """A decoupled rate is not a penalty: SGDW(d) descending MSELoss converges to the canonical ridge for d/2."""
    X, y, model = problem(3)
    n, d = X.shape[0], 0.05
    opt = SGDW(decay.param_groups(model, d), lr=0.2)
    for _ in range(4000):
        opt.zero_grad()
        nn.functional.mse_loss(model(X), y).backward()
        opt.step()
    lam = decay.penalty_equivalent(d, "torch_adamw")
    assert lam == d / 2 and decay.to_canonical(d, "torch_adamw") == d  # shrink per unit lr, not the penalty
    ref = Ridge(alpha=decay.from_canonical(lam, "sklearn_ridge", n_samples=n)).fit(X.numpy(), y.numpy().ravel())
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), ref.coef_, rtol=1e-9)
    wrong = Ridge(alpha=decay.from_canonical(d, "sklearn_ridge", n_samples=n)).fit(X.numpy(), y.numpy().ravel())
    assert np.abs(model.weight.detach().numpy().ravel() - wrong.coef_).max() > 1e-3
    assert decay.penalty_equivalent(d, "keras_weight_decay", loss="mean") == d  # next to a cross-entropy: λ = d


def test_sklearn_logistic_c_is_one_over_n_lambda():
    from sklearn.linear_model import LogisticRegression

    from wdlib import tuning

    g = np.random.default_rng(4)
    X = g.normal(size=(80, 3))
    y = (X @ [1.0, -2.0, 0.5] + g.normal(size=80) > 0).astype(float)
    lam = 0.05
    C = decay.from_canonical(lam, "sklearn_logistic", n_samples=len(y))
    assert C == pytest.approx(1 / (len(y) * lam), rel=1e-15)
    sk = LogisticRegression(C=C, fit_intercept=False, tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(sk.coef_.ravel(), tuning.fit_logistic(X, y, weight_decay=lam), atol=1e-7)
    assert decay.to_canonical(C, "sklearn_logistic", n_samples=len(y)) == pytest.approx(lam, rel=1e-15)


def test_per_step_decoupled_equals_adamw_with_decay_over_lr_under_a_schedule():
    """Loshchilov & Hutter / MosaicML: w ← (1 − d·η_t/η₀)·w, then Adam's step; torch AdamW with λ = d/η₀."""
    X, y, model = problem(5)
    other = clone(model)
    lr0, d = 0.01, 1e-4
    mosaic = torch.optim.Adam(model.parameters(), lr=lr0)
    adamw = torch.optim.AdamW(other.parameters(), lr=lr0,
                              weight_decay=decay.to_canonical(d, "per_step_decoupled", lr=lr0))
    for step in range(20):
        lr = lr0 * (1 + np.cos(np.pi * step / 20)) / 2 + 1e-4  # a cosine schedule
        for opt in (mosaic, adamw):
            opt.param_groups[0]["lr"] = lr
        for m, opt in ((model, mosaic), (other, adamw)):
            opt.zero_grad()
            nn.functional.mse_loss(m(X), y).backward()
        with torch.no_grad():  # the per-step decay, by hand, before Adam's step (as MosaicML's DecoupledAdamW)
            for p in model.parameters():
                p.mul_(1 - d * lr / lr0)
        mosaic.step()
        adamw.step()
    for a, b in zip(model.parameters(), other.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-14)


def test_param_groups_like_nanogpt_and_mingpt():
    from wdlib import models

    m = models.build_model("char_transformer", seed=0, vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    names = {r: [g["param_names"] for g in decay.param_groups_like(m, 0.1, r)] for r in ("nanogpt", "mingpt")}
    assert names["nanogpt"] == [g["param_names"] for g in decay.param_groups(m, 0.1)]
    assert names["mingpt"] == [g["param_names"] for g in decay.param_groups(m, 0.1, decay_embeddings=False)]
    assert "tok.weight" in names["nanogpt"][0] and "tok.weight" not in names["mingpt"][0]  # tied to the head
    assert all(p.ndim >= 2 for g in decay.param_groups_like(m, 0.1, "nanogpt")[:1] for p in g["params"])
    with pytest.raises(ValueError, match="leaves \\['0.weight'\\] in neither set"):  # a Conv weight
        decay.param_groups_like(nn.Sequential(nn.Conv1d(2, 2, 3)), 0.1, "mingpt")
    with pytest.raises(ValueError, match="recipe must be one of"):
        decay.param_groups_like(m, 0.1, "timm")


# --------------------------------------------------------------------------- #
# bad input, table-driven
# --------------------------------------------------------------------------- #
M = nn.Linear(2, 1)
BAD = [
    ("negative weight decay", lambda: decay.param_groups(M, -0.1), "Invalid weight_decay value: -0.1"),
    ("NaN weight decay", lambda: decay.param_groups(M, float("nan")), "Invalid weight_decay value: nan"),
    ("text weight decay", lambda: decay.param_groups(M, "big"), "Invalid weight_decay value: 'big'"),
    ("pattern as string", lambda: decay.param_groups(M, 0.1, no_decay="bias"), "not a string; use ['bias']"),
    ("pattern matching nothing", lambda: decay.param_groups(M, 0.1, no_decay=["weigth"]), "did you mean weight"),
    ("parameter in no group", lambda: decay.check_param_groups(M, [{"params": [M.weight]}]), "['bias'] are in no param group"),
    ("parameter in two groups", lambda: decay.check_param_groups(M, [{"params": [M.weight, M.bias]}, {"params": [M.bias]}]),
     "'bias' is in param groups 0 and 1"),
    ("foreign tensor", lambda: decay.check_param_groups(M, [{"params": [torch.zeros(3)]}]), "not a parameter of the model"),
    ("unknown convention", lambda: decay.to_canonical(0.1, "torch_adamw2"), "did you mean 'torch_adamw'"),
    ("ridge without n", lambda: decay.to_canonical(1.0, "sklearn_ridge"), "needs n_samples"),
    ("glmnet without y scale", lambda: decay.to_canonical(1.0, "glmnet"), "needs y_scale"),
    ("glmnet with zero y scale", lambda: decay.from_canonical(1.0, "glmnet", y_scale=0.0), "needs y_scale"),
    ("bad loss name", lambda: decay.to_canonical(1.0, "torch_sgd", loss="sum"), "loss must be one of"),
    ("per-step decay without lr", lambda: decay.to_canonical(1e-4, "per_step_decoupled"), "needs lr"),
    ("logistic C without n", lambda: decay.from_canonical(0.1, "sklearn_logistic"), "needs n_samples"),
    ("negative logistic C", lambda: decay.to_canonical(-1.0, "sklearn_logistic", n_samples=3), "Invalid value value"),
    ("negative conversion", lambda: decay.from_canonical(-1.0, "keras_l2"), "Invalid weight_decay value: -1.0"),
    ("zero lr in decoupled step", lambda: decay.decoupled_decay_([torch.ones(1)], lr=0.0, weight_decay=0.1), "Invalid lr value: 0"),
    ("negative lr in decoupled step", lambda: decay.decoupled_decay_([torch.ones(1)], lr=-1, weight_decay=0.1), "Invalid lr value: -1"),
    ("l2 without rate", lambda: decay.l2_penalty([torch.ones(1)]), "weight_decay is required"),
    ("zero max norm", lambda: decay.max_norm_(torch.ones(2, 2), 0.0), "Invalid max_norm value: 0.0"),
    ("max norm dim out of range", lambda: decay.max_norm_(torch.ones(2, 2), 1.0, dim=2), "use dim=None"),
]


@pytest.mark.parametrize(("case", "call", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input(case, call, message):
    with pytest.raises(ValueError if "string" not in case else TypeError, match=re.escape(message)):
        call()


def test_ridge_module_and_decay_state_the_same_conversion():
    from wdlib import ridge

    for a, n in ((5.0, 100), (0.3, 97), (1e4, 3)):
        assert ridge.weight_decay_from_alpha(a, n) == decay.to_canonical(a, "sklearn_ridge", n_samples=n)


def test_statsmodels_convention_against_statsmodels_itself():
    """OLS.fit_regularized(alpha=a, L1_wt=0) minimizes RSS/(2n) + (a/2)‖w‖²: λ = a."""
    import statsmodels.api as sm  # pinned in requirements.lock
    X, y, _ = problem(3)
    Xc, yc = (X - X.mean(0)).numpy(), (y - y.mean()).numpy().ravel()
    lam = 0.3
    fit = sm.OLS(yc, Xc).fit_regularized(method="elastic_net", alpha=decay.from_canonical(lam, "statsmodels"), L1_wt=0.0)
    ref = Ridge(alpha=decay.from_canonical(lam, "sklearn_ridge", n_samples=len(yc)), fit_intercept=False).fit(Xc, yc)
    np.testing.assert_allclose(fit.params, ref.coef_, rtol=1e-10)


def test_max_norm_rescales_only_the_rows_that_are_too_long():
    w = torch.tensor([[3.0, 4.0], [0.6, 0.8], [0.0, 0.1]])
    decay.max_norm_(w, 1.0)
    torch.testing.assert_close(w.norm(dim=1), torch.tensor([1.0, 1.0, 0.1]))
    torch.testing.assert_close(w[0], torch.tensor([0.6, 0.8]))  # direction kept
    conv = torch.randn(8, 3, 5, 5) * 10
    decay.max_norm_(conv, 2.0, dim=0)  # each output filter
    assert torch.allclose(conv.flatten(1).norm(dim=1), torch.full((8,), 2.0))
    v = torch.tensor([3.0, 4.0])
    assert decay.max_norm_(v.clone(), 1.0, dim=None).norm().item() == pytest.approx(1.0)
    torch.testing.assert_close(decay.max_norm_(v.clone(), 1.0, dim=0), torch.tensor([1.0, 1.0]))  # each entry


# --------------------------------------------------------------------------- #
# which tensors are decayed, on real architectures (built without weights)
# --------------------------------------------------------------------------- #
def _decayed(model, **kw):
    return {n for g in decay.param_groups(model, 0.1, **kw) if g["weight_decay"] > 0 for n in g["param_names"]}


_TIMM = {  # small configurations of timm's own architectures
    "vit": ("vit_tiny_patch16_224", {"img_size": 32, "depth": 2}),
    "deit-distilled": ("deit_tiny_distilled_patch16_224", {"img_size": 32, "depth": 1}),
    "swin": ("swin_tiny_patch4_window7_224", {"img_size": 32, "window_size": 2, "depths": (1, 1), "num_heads": (1, 1),
                                              "embed_dim": 8}),
    "convnext": ("convnext_atto", {}),
    "resnet": ("resnet18", {}),
}


@pytest.mark.parametrize("arch", ["vit", "deit-distilled", "swin", "convnext", "resnet"])
def test_the_default_rule_decays_what_timm_decays(arch):
    """Oracle: timm's param_groups_weight_decay with the model's own no_weight_decay() list."""
    from timm.optim import param_groups_weight_decay

    timm = pytest.importorskip("timm")
    name, kwargs = _TIMM[arch]
    model = timm.create_model(name, pretrained=False, **kwargs)
    skip = model.no_weight_decay() if hasattr(model, "no_weight_decay") else ()
    groups = param_groups_weight_decay(model, 0.1, no_weight_decay_list=skip)
    ids = {id(p) for g in groups if g["weight_decay"] > 0 for p in g["params"]}
    theirs = {n for n, p in model.named_parameters() if id(p) in ids}
    assert _decayed(model) == theirs


def test_torchvision_transformers_spare_their_tokens_and_bias_tables():
    """torchvision's reference recipe treats class_token, pos_embedding and relative_position_bias_table apart
    (--transformer-embedding-decay); nn.MultiheadAttention's add_bias_kv biases are biases."""
    from torchvision.models import VisionTransformer
    from torchvision.models.swin_transformer import SwinTransformer

    vit = VisionTransformer(image_size=32, patch_size=16, num_layers=1, num_heads=2, hidden_dim=8, mlp_dim=16)
    swin = SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[1, 1], num_heads=[1, 1], window_size=[2, 2])
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=True)
    for model, spared in ((vit, {"class_token", "encoder.pos_embedding"}),
                          (swin, {"features.1.0.attn.relative_position_bias_table",
                                  "features.3.0.attn.relative_position_bias_table"}),
                          (mha, {"bias_k", "bias_v"})):
        names = dict(model.named_parameters())
        assert spared <= set(names) and not (spared & _decayed(model))
        report = decay.decay_report(model).set_index("name")
        assert set(report.loc[sorted(spared), "reason"]) == {"bias table or learned token (timm and torchvision spare it)"}
        # every other tensor of two or more dimensions is a weight, and decayed
        assert _decayed(model) == {n for n, p in names.items() if p.ndim >= 2 and n not in spared}


class _Tied(nn.Module):
    """A language model whose output layer shares the embedding matrix, registered in either order."""

    def __init__(self, head_first: bool):
        super().__init__()
        if head_first:
            self.head = nn.Linear(4, 10, bias=False)
            self.tok_embed = nn.Embedding(10, 4)
        else:
            self.tok_embed = nn.Embedding(10, 4)
            self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.tok_embed.weight
        self.embed_norm = nn.LayerNorm(4)  # named like an embedding, but a norm: its gain and shift are spared
        self.patch_embed = nn.Conv2d(1, 4, 2)  # a conv named like an embedding: its bias stays a bias


@pytest.mark.parametrize("decay_embeddings", [True, False])
def test_a_tied_weight_is_judged_the_same_whatever_the_registration_order(decay_embeddings):
    a, b = (_decayed(_Tied(order), decay_embeddings=decay_embeddings) for order in (False, True))
    tied = {"tok_embed.weight", "head.weight"}
    assert bool(a & tied) == bool(b & tied) == decay_embeddings
    for model in (_Tied(False), _Tied(True)):
        spared = {n for g in decay.param_groups(model, 0.1, decay_embeddings=decay_embeddings)
                  if g["weight_decay"] == 0 for n in g["param_names"]}
        assert {"embed_norm.weight", "embed_norm.bias", "patch_embed.bias"} <= spared
        decay.check_param_groups(model, decay.param_groups(model, 0.1, decay_embeddings=decay_embeddings))


def test_numpy_scalars_are_accepted_and_text_is_refused_naming_the_argument():
    model = nn.Linear(3, 2)
    groups = decay.param_groups(model, np.float32(0.5))
    assert groups[0]["weight_decay"] == 0.5 and type(groups[0]["weight_decay"]) is float
    w = torch.ones(2)
    decay.decoupled_decay_([w], lr=np.float64(0.1), weight_decay=np.float32(0.5))
    torch.testing.assert_close(w, torch.full((2,), 0.95))
    with pytest.raises(ValueError, match=r"Invalid weight_decay value: '0.5' \(want a number, not a str\)"):
        decay.param_groups(model, "0.5")


def test_decay_alone_shrinks_adamw_exponentially_and_adam_whatever_lambda():
    """The untouched-row effect: AdamW's shrinkage is exp(−ηλT); Adam + L2 rescales λw by its own running size, so
    a hundredfold λ changes its shrinkage hardly at all."""
    row = torch.full((8,), 0.2)
    lr, steps = 1e-3, 200
    assert decay.decay_only_shrinkage(torch.optim.AdamW, row, lr=lr, weight_decay=1.0, steps=steps) == pytest.approx(
        (1 - lr) ** steps, rel=1e-5)
    small, big = (decay.decay_only_shrinkage(torch.optim.Adam, row, lr=lr, weight_decay=lam, steps=steps)
                  for lam in (1e-4, 1e-2))
    assert small < 0.5 and abs(small - big) < 0.01
    with pytest.raises(ValueError, match="init is all zeros"):
        decay.decay_only_shrinkage(torch.optim.AdamW, torch.zeros(3), lr=lr, weight_decay=1.0, steps=1)


def test_a_pattern_may_name_a_tied_weight_by_any_of_its_names():
    for head_first in (False, True):
        model = _Tied(head_first)
        for pattern in ("head.weight", "tok_embed.weight"):
            assert not ({"head.weight", "tok_embed.weight"} & _decayed(model, no_decay=[pattern]))


def test_decay_window_decays_only_inside_its_steps():
    from wdlib.decay import DecayWindow

    def run(window):
        w = torch.nn.Parameter(torch.ones(3))
        opt = torch.optim.SGD([w], lr=0.1, weight_decay=0.5)
        hook = DecayWindow(opt, *window) if window else None
        for step in range(6):
            opt.zero_grad()
            (0 * w.sum()).backward()  # zero loss gradient: only decay moves w
            opt.step()
            if hook:
                hook(step + 1, None, opt)
        return float(w[0])

    assert run(None) == pytest.approx(0.95**6)
    assert run((0, 2)) == pytest.approx(0.95**2)  # steps 0 and 1
    assert run((4, None)) == pytest.approx(0.95**2)  # steps 4 and 5
    assert run((1, 4)) == pytest.approx(0.95**3)
    with pytest.raises(ValueError, match="stop"):
        DecayWindow(torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1), 3, 2)
