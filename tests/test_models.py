"""wdlib.models: shapes, Kim's and nanoGPT's details, scale invariance, seeds, bad sizes."""

import pytest
import torch

from wdlib import models


def test_small_cnn_with_batchnorm_is_scale_invariant_in_its_listed_weights():
    m = models.build_model("small_cnn", seed=0, batchnorm=True).train()
    x = torch.randn(16, 1, 28, 28)
    ref = m(x)
    with torch.no_grad():
        for name in m.scale_invariant:
            m.get_parameter(name).mul_(7.0)
    # BatchNorm in training mode divides by the batch std: scaling the weight before it changes nothing (up to eps)
    assert torch.allclose(m(x), ref, atol=1e-4)
    assert m.conv1.bias is None and m.fc2.bias is not None


def test_textcnn_matches_kims_architecture():
    m = models.TextCNN(1000)
    assert [c.kernel_size[0] for c in m.convs] == [3, 4, 5] and all(c.out_channels == 100 for c in m.convs)
    assert m.drop.p == 0.5 and m.fc.in_features == 300 and m.embedding.weight.shape == (1000, 300)
    emb = m.embedding.weight.detach()
    assert float(emb.abs().max()) <= 0.25 and float(emb[0].abs().max()) == 0.0
    with pytest.raises(ValueError, match="shorter than the widest filter"):
        m(torch.zeros(2, 4, dtype=torch.long))


def _textcnn_over_every_column(m, tokens):
    """Kim's forward with no trimming: every window of the padded length."""
    x = m.embedding(tokens).transpose(1, 2)
    return m.fc(m.drop(torch.cat([torch.relu(c(x)).amax(dim=2) for c in m.convs], dim=1)))


@pytest.mark.parametrize("pad_row", ["zero", "learned"])
def test_textcnn_skips_trailing_padding_without_changing_outputs_or_gradients(pad_row):
    m = models.build_model("textcnn", seed=0, vocab_size=50, embed_dim=8, maps=6, dropout=0.0)
    if pad_row == "learned":  # even a non-zero padding vector: all-padding windows share one output
        with torch.no_grad():
            m.embedding.weight[0].uniform_(-1, 1)
    g = torch.Generator().manual_seed(0)
    tokens = torch.zeros(7, 40, dtype=torch.long)
    for i, n in enumerate([3, 9, 1, 12, 5, 2, 8]):  # 4 leading pads, then n tokens, then padding to 40
        tokens[i, 4:4 + n] = torch.randint(1, 50, (n,), generator=g)
    fast = m(tokens)
    grads = torch.autograd.grad(fast.square().sum(), [m.convs[2].weight, m.convs[0].bias, m.embedding.weight])
    slow = _textcnn_over_every_column(m, tokens)
    ref = torch.autograd.grad(slow.square().sum(), [m.convs[2].weight, m.convs[0].bias, m.embedding.weight])
    assert torch.allclose(fast, slow, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(grads, ref, strict=True))
    assert torch.equal(m(tokens[:, :21]), fast)  # 4 + 12 + 5: nothing left to trim changes nothing either


def test_char_transformer_is_causal_and_tied():
    m = models.build_model("char_transformer", seed=0, vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    m.eval()
    a = torch.randint(0, 11, (1, 8))
    b = a.clone()
    b[0, 5:] = (b[0, 5:] + 1) % 11
    assert torch.equal(m(a)[0, :5], m(b)[0, :5])  # changing later tokens leaves earlier outputs alone
    assert m.head.weight is m.tok.weight
    with pytest.raises(ValueError, match="exceeds block_size 8"):
        m(torch.zeros(1, 9, dtype=torch.long))


def test_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b = models.build_model("textcnn", seed=5, vocab_size=50), models.build_model("textcnn", seed=5, vocab_size=50)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("name, kwargs, message", [
    ("resnet50", {}, "unknown model 'resnet50'; choose one of 'small_cnn', 'resnet', 'textcnn', 'char_transformer'"),
    ("resnet", {"depth": 10}, r"depth must be 6n \+ 2 with n >= 1"),
    ("small_cnn", {"hidden": 0}, "hidden must be an integer >= 1"),
    ("small_cnn", {"image_size": 30}, "image_size must be a multiple of 4"),
    ("small_cnn", {"dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
    ("textcnn", {"vocab_size": 10, "widths": ()}, "widths must name at least one filter width"),
    ("char_transformer", {"vocab_size": 10, "n_embd": 30, "n_head": 4}, "must be divisible by n_head"),
])
def test_bad_model_arguments(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.build_model(name, **kwargs)


def test_resnet_depths_and_scale_invariant_kernels():
    """ResNet-8/20 have 6n + 2 weighted layers; every kernel feeds a BatchNorm, so scaling it leaves the
    training-mode output unchanged (the fc layer is not scale-invariant)."""
    for depth, blocks in ((8, 3), (20, 9)):
        m = models.build_model("resnet", seed=0, depth=depth, width=4)
        convs = [n for n, p in m.named_parameters() if p.dim() == 4 and "shortcut" not in n]
        assert len(convs) + 1 == depth and len(m.layers) == blocks  # + the fc layer
    m = models.build_model("resnet", seed=0, depth=8, width=4)
    x = torch.randn(8, 1, 28, 28)
    before = m(x)
    with torch.no_grad():
        for name in m.scale_invariant:
            dict(m.named_parameters())[name].mul_(3.0)
    torch.testing.assert_close(m(x), before, rtol=1e-4, atol=1e-4)
    assert "fc.weight" not in m.scale_invariant and not models.ResNet(depth=8, batchnorm=False).scale_invariant
