"""wdlib: weight decay and L2 regularization, executed.

The library behind the book *Weight Decay, Executed*.  One module per concept:

``wdlib.ridge``
    Ridge regression from one SVD: closed form, regularization path, shrinkage,
    degrees of freedom, exact leave-one-out and GCV, bias–variance (numpy only).
``wdlib.decay``, ``wdlib.optim`` (PyTorch; imported on demand)
    Parameter groups with a stated decay rule and checks torch does not make,
    the coupled L2 penalty and the decoupled step, conversions between the
    frameworks' weight-decay conventions; ``SGDW``.
``wdlib.tuning``
    Choosing λ: K-fold cross-validation with the one-standard-error rule, the
    evidence (empirical Bayes) for ridge, seed 001's gradient "estimate" of λ,
    normalized weight decay and AdamW's timescale (numpy only).
``wdlib.tracking`` (PyTorch)
    Weight norms, angular updates and effective learning rates during training.
``wdlib.quadratic``
    A quadratic objective with closed-form minimizers, and optimizer trajectories on it.
``wdlib.plotting``
    Figures shared by the chapters (``ax=None`` in, Axes out).
``wdlib.linreg``
    Linear regression with the canonical λ, fitted by gradient descent, with
    gradient checks and the step-size bound (numpy only).
``wdlib.data``
    Dataset files found on a search path and checked against their sha256.
``wdlib.seeds``
    The seed posts' code, verbatim, and a runner that reports their errors.
``wdlib.benchmarks``
    Benchmarks that print tables of ratios (``python -m wdlib.benchmarks ridge``).
``wdlib.book``
    Execute the chapters with papermill and build the book (``python -m wdlib.book``).

The canonical λ (``weight_decay``) minimizes ``‖y − Xw − b‖²/(2n) + (λ/2)‖w‖²``;
scikit-learn's ``Ridge`` uses ``alpha = n·λ``.
"""

from ._optional import install_torch_hint

#: The package's version, written only here (pyproject.toml and CITATION.cff read or are checked against it).
__version__ = "0.3.0"

install_torch_hint()  # `import wdlib.models` without torch says: pip install 'wdlib[torch]'

from . import data, linreg, ridge, seeds  # noqa: E402  (after the hint, which covers them too)

__all__ = ["__version__", "data", "linreg", "ridge", "seeds"]
