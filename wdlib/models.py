"""The models of the experiments: a small CNN, a CIFAR-style ResNet, Kim's TextCNN and a tiny character transformer.

Each is a plain ``nn.Module`` that returns logits.  :func:`build_model` makes
one by name from a seed (the seed fixes the initialization and nothing else),
so a sweep's configuration is enough to rebuild a model exactly.

``scale_invariant`` on a model lists the weights whose scale the loss does not
see (each feeds a normalization layer): the weights whose effective learning
rate η/‖w‖² weight decay controls (see :mod:`wdlib.tracking`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from . import _checks

_check_int = _checks.integer

__all__ = ["MODELS", "CharTransformer", "ResNet", "SmallCNN", "TextCNN", "build_model"]


class SmallCNN(nn.Module):
    """conv(3×3, c₁)–pool–conv(3×3, c₂)–pool–fc(h)–fc(classes) for ``in_channels × size × size`` images.

    With ``batchnorm=True`` each conv and the hidden fc layer is followed by
    BatchNorm (and has no bias): their weights are then scale-invariant.

    >>> SmallCNN()(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> SmallCNN(batchnorm=True).scale_invariant
    ['conv1.weight', 'conv2.weight', 'fc1.weight']
    """

    def __init__(self, *, batchnorm: bool = False, channels: tuple[int, int] = (32, 64), hidden: int = 128,
                 num_classes: int = 10, in_channels: int = 1, image_size: int = 28, dropout: float = 0.0):  # fmt: skip
        super().__init__()
        c1, c2 = (_check_int(c, "channels") for c in channels)
        hidden, num_classes = _check_int(hidden, "hidden"), _check_int(num_classes, "num_classes")
        in_channels, image_size = _check_int(in_channels, "in_channels"), _check_int(image_size, "image_size")
        if image_size % 4:
            raise ValueError(f"image_size must be a multiple of 4 (two 2×2 poolings), got {image_size}")
        bias = not batchnorm
        self.conv1 = nn.Conv2d(in_channels, c1, 3, padding=1, bias=bias)
        self.bn1 = nn.BatchNorm2d(c1) if batchnorm else nn.Identity()
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, bias=bias)
        self.bn2 = nn.BatchNorm2d(c2) if batchnorm else nn.Identity()
        self.fc1 = nn.Linear(c2 * (image_size // 4) ** 2, hidden, bias=bias)
        self.bn3 = nn.BatchNorm1d(hidden) if batchnorm else nn.Identity()
        self.drop = nn.Dropout(_checks.probability(dropout, "dropout"))
        self.fc2 = nn.Linear(hidden, num_classes)
        self.scale_invariant = ["conv1.weight", "conv2.weight", "fc1.weight"] if batchnorm else []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.fc1(x.flatten(1))))
        return self.fc2(self.drop(x))


class _BasicBlock(nn.Module):
    """Two 3×3 convolutions with a residual connection; a 1×1 projection when the shape changes (option B)."""

    def __init__(self, c_in: int, c_out: int, stride: int, batchnorm: bool):
        super().__init__()
        norm = (lambda c: nn.BatchNorm2d(c)) if batchnorm else (lambda c: nn.Identity())
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=not batchnorm)
        self.bn1 = norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=not batchnorm)
        self.bn2 = norm(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=not batchnorm), norm(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """He et al.'s (2016, §4.2) CIFAR ResNet: depth 6n + 2, three stages of widths w, 2w, 4w, global pooling.

    ``depth=8`` (n = 1) and ``depth=20`` (n = 3) at ``width=16`` are the
    ResNet-8 and ResNet-20 of the CIFAR experiments; inputs are
    ``in_channels × size × size`` (Fashion-MNIST: 1 × 28 × 28).  With
    ``batchnorm=True`` (default) every convolution is followed by BatchNorm, so
    every convolution kernel is scale-invariant (``scale_invariant``); the
    final linear layer is not.

    Parameters
    ----------
    depth : int, default 20
        6n + 2 weighted layers (n blocks of two convolutions per stage, the
        first convolution and the linear layer).
    width : int, default 16
        Channels of the first stage (doubled at each of the two others).
    num_classes, in_channels : int
        Outputs, and channels of the input images.
    batchnorm : bool, default True
        BatchNorm after every convolution (the convolutions then have no bias).

    Examples
    --------
    >>> m = ResNet(depth=8, width=4)
    >>> m(torch.zeros(2, 1, 28, 28)).shape, len(m.scale_invariant)
    (torch.Size([2, 10]), 9)
    """

    def __init__(self, *, depth: int = 20, width: int = 16, num_classes: int = 10, in_channels: int = 1,
                 batchnorm: bool = True):  # fmt: skip
        super().__init__()
        depth, width = _check_int(depth, "depth"), _check_int(width, "width")
        num_classes, in_channels = _check_int(num_classes, "num_classes"), _check_int(in_channels, "in_channels")
        if (depth - 2) % 6 or depth < 8:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, …), got {depth}")
        blocks = (depth - 2) // 6
        self.conv = nn.Conv2d(in_channels, width, 3, padding=1, bias=not batchnorm)
        self.bn = nn.BatchNorm2d(width) if batchnorm else nn.Identity()
        layers, c_in = [], width
        for stage, c_out in enumerate((width, 2 * width, 4 * width)):
            for b in range(blocks):
                layers.append(_BasicBlock(c_in, c_out, 2 if stage and not b else 1, batchnorm))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        self.scale_invariant = ([n for n, p in self.named_parameters() if p.dim() == 4] if batchnorm else [])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(F.relu(self.bn(self.conv(x))))
        return self.fc(x.mean(dim=(2, 3)))


class TextCNN(nn.Module):
    """Kim's (2014) CNN for sentence classification, CNN-rand: random embeddings learned from scratch.

    Embedding (``vocab_size × embed_dim``, uniform in ±0.25 as Kim's code,
    padding row 0 kept at zero) → one convolution per filter width with
    ``maps`` feature maps and ReLU → max over time → dropout → linear.
    Kim's max-norm constraint (s = 3 on ``fc.weight`` rows) is applied by the
    training loop (``wdlib.train.fit(max_norm={"fc.weight": 3.0})``).

    >>> m = TextCNN(100)
    >>> m(torch.randint(0, 100, (4, 20))).shape
    torch.Size([4, 2])
    """

    def __init__(self, vocab_size: int, *, num_classes: int = 2, embed_dim: int = 300,
                 widths: tuple[int, ...] = (3, 4, 5), maps: int = 100, dropout: float = 0.5,
                 padding_idx: int | None = 0):  # fmt: skip
        super().__init__()
        vocab_size, embed_dim = _check_int(vocab_size, "vocab_size"), _check_int(embed_dim, "embed_dim")
        maps, num_classes = _check_int(maps, "maps"), _check_int(num_classes, "num_classes")
        if not widths:
            raise ValueError("widths must name at least one filter width")
        self.widths = tuple(_check_int(w, "filter width") for w in widths)
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=padding_idx)
        with torch.no_grad():
            self.embedding.weight.uniform_(-0.25, 0.25)
            if padding_idx is not None:
                self.embedding.weight[padding_idx].zero_()
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, maps, w) for w in self.widths)
        self.drop = nn.Dropout(_checks.probability(dropout, "dropout"))
        self.fc = nn.Linear(maps * len(self.widths), num_classes)
        self.scale_invariant: list[str] = []

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.shape[1] < max(self.widths):
            raise ValueError(f"sequences of length {tokens.shape[1]} are shorter than the widest filter "
                             f"({max(self.widths)}); pad them (wdlib.data.pad_sequences)")
        if self.embedding.padding_idx is not None:
            # Columns after the last real token, beyond the widest filter, hold only all-padding windows, whose
            # outputs equal those of the all-padding windows kept: dropping them leaves the max over time (and its
            # gradient) unchanged and saves the convolutions over them (a batch's longest sentence, not the corpus').
            used = (tokens != self.embedding.padding_idx).any(dim=0).nonzero()
            keep = int(used[-1]) + 1 + max(self.widths) if len(used) else max(self.widths)
            if keep < tokens.shape[1]:
                tokens = tokens[:, :keep]
        x = self.embedding(tokens).transpose(1, 2)  # (N, embed_dim, L)
        pooled = [F.relu(conv(x)).amax(dim=2) for conv in self.convs]
        return self.fc(self.drop(torch.cat(pooled, dim=1)))


class _Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int, dropout: float):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.fc = nn.Linear(n_embd, 4 * n_embd)
        self.out = nn.Linear(4 * n_embd, n_embd)
        self.n_head, self.dropout = n_head, dropout
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.n_head, c // self.n_head).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, t, c)))
        return x + self.drop(self.out(F.gelu(self.fc(self.ln2(x)))))


class CharTransformer(nn.Module):
    """A tiny GPT (pre-LayerNorm, causal attention, GELU MLP) over characters, after nanoGPT.

    Token and position embeddings, ``n_layer`` blocks, a final LayerNorm and a
    head tied to the token embedding (``tie_weights``; nanoGPT's default).
    Weights start at N(0, 0.02²), residual projections at N(0, 0.02²/(2·n_layer)).
    ``forward(idx)`` returns logits ``(B, T, vocab_size)``.

    >>> m = CharTransformer(65, block_size=16, n_layer=1, n_head=2, n_embd=32)
    >>> m(torch.zeros(3, 16, dtype=torch.long)).shape
    torch.Size([3, 16, 65])
    """

    def __init__(self, vocab_size: int, *, block_size: int = 64, n_layer: int = 4, n_head: int = 4,
                 n_embd: int = 128, dropout: float = 0.0, tie_weights: bool = True):  # fmt: skip
        super().__init__()
        vocab_size, block_size = _check_int(vocab_size, "vocab_size"), _check_int(block_size, "block_size")
        n_layer, n_head, n_embd = (_check_int(v, k) for k, v in
                                   (("n_layer", n_layer), ("n_head", n_head), ("n_embd", n_embd)))  # fmt: skip
        if n_embd % n_head:
            raise ValueError(f"n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        dropout = _checks.probability(dropout, "dropout")
        self.block_size = block_size
        self.tok = nn.Embedding(vocab_size, n_embd)
        self.pos = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(_Block(n_embd, n_head, dropout) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        if tie_weights:
            self.head.weight = self.tok.weight
        for name, p in self.named_parameters():
            if name.endswith(("proj.weight", "out.weight")):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * n_layer))
            elif p.dim() >= 2:
                nn.init.normal_(p, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
        self.scale_invariant: list[str] = []

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        t = idx.shape[1]
        if t > self.block_size:
            raise ValueError(f"sequence length {t} exceeds block_size {self.block_size}")
        x = self.drop(self.tok(idx) + self.pos(torch.arange(t, device=idx.device)))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


#: name -> model class, for :func:`build_model` and sweep configurations.
MODELS = {"small_cnn": SmallCNN, "resnet": ResNet, "textcnn": TextCNN, "char_transformer": CharTransformer}


def build_model(name: str, *, seed: int | None = None, **kwargs) -> nn.Module:
    """``MODELS[name](**kwargs)``, initialized from ``seed`` without touching the global RNG.

    >>> a, b = build_model("small_cnn", seed=3), build_model("small_cnn", seed=3)
    >>> torch.equal(a.conv1.weight, b.conv1.weight)
    True
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(map(repr, MODELS))}")
    if seed is None:
        return MODELS[name](**kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name](**kwargs)
