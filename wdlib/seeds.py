"""The two seed blog posts the book corrects: their code, verbatim, and a safe runner.

The posts (in Chinese) are kept in the project's shared folder; the code they
show is copied here character for character so that the chapters can run it
*as written* and then fix one thing at a time.
"""

from __future__ import annotations

import ast
import builtins
import traceback
from dataclasses import dataclass, field

__all__ = ["SEED_000_LINREG", "SEED_001_KERAS", "SnippetRun", "run_snippet", "undefined_names"]

#: The code of seed post 000 (section 4, 具体代码实例), a linear regression with "weight decay".
SEED_000_LINREG = """\
import numpy as np

# 生成数据
np.random.seed(0)
X = np.random.rand(100, 1)
y = 2 * X + 1 + np.random.randn(100, 1) * 0.5

# 初始化参数
theta = np.random.randn(1, 1)
alpha = 0.01
lambda_ = 0.01

# 训练模型
for i in range(1000):
    y_pred = X.dot(theta)
    loss = (1 / 2) * np.sum((y - y_pred) ** 2) + (lambda_ / 2) * np.sum(theta ** 2)
    gradient = (X.T.dot(y_pred - y) + lambda_ * np.sum(theta)) / m
    theta -= alpha * gradient

# 预测
X_test = np.array([[0.5], [0.8], [1.0]])
y_pred = X_test.dot(theta)
"""

#: The code of seed post 001 (section 4, 具体代码实例), a Keras network with ``kernel_regularizer=l2(0.01)``.
SEED_001_KERAS = """\
import tensorflow as tf

# 定义模型
model = tf.keras.Sequential([
    tf.keras.layers.Dense(10, activation='relu', kernel_regularizer=tf.keras.regularizers.l2(0.01)),
    tf.keras.layers.Dense(10, activation='relu', kernel_regularizer=tf.keras.regularizers.l2(0.01)),
    tf.keras.layers.Dense(1, activation='sigmoid')
])

# 编译模型
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])

# 训练模型
model.fit(x_train, y_train, epochs=10, batch_size=32, validation_data=(x_test, y_test))
"""


def undefined_names(source: str) -> list[str]:
    """Names that ``source`` reads but never defines (assigns, imports, or binds), builtins excepted.

    A static check, so it needs none of the snippet's imports installed: it
    finds seed 000's ``m`` and seed 001's ``x_train`` without running either.
    One flat scope (enough for a snippet without functions that shadow names).

    Parameters
    ----------
    source : str
        Python source.

    Examples
    --------
    >>> undefined_names("import numpy as np\\nfor i in range(3):\\n    y = np.ones(i) / m")
    ['m']
    """
    defined, read = set(dir(builtins)), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else defined).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    return sorted(read - defined)


@dataclass
class SnippetRun:
    """What happened when a snippet ran.

    Attributes
    ----------
    namespace : dict
        Variables the snippet defined (up to the failing line).
    error : BaseException or None
    message : str
        ``"ok"`` or ``"<ExceptionType>: <message> (line N: <source line>)"``.
    """

    namespace: dict = field(repr=False)
    error: BaseException | None
    message: str

    @property
    def ok(self) -> bool:
        return self.error is None


def run_snippet(source: str, namespace: dict | None = None, *, name: str = "<seed>") -> SnippetRun:
    """Execute ``source`` and report an exception as data instead of raising it.

    A chapter can show that the seed's code fails, and how, without an error
    output in the executed notebook (which the book pipeline rejects).

    Parameters
    ----------
    source : str
        Python source to execute.
    namespace : dict, optional
        Globals to run it in (a fresh dict by default); updated in place.
    name : str, default "<seed>"
        File name shown in tracebacks.

    Examples
    --------
    >>> run_snippet("a = 1\\nb = a + c").message
    "NameError: name 'c' is not defined (line 2: b = a + c)"
    >>> run_snippet("a = 1").namespace["a"]
    1
    """
    ns = {} if namespace is None else namespace
    try:
        exec(compile(source, name, "exec"), ns)
    except Exception as exc:  # the point is to report any failure of the seed code
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == name]
        where = ""
        if frames:
            lineno = frames[-1].lineno
            where = f" (line {lineno}: {source.splitlines()[lineno - 1].strip()})"
        return SnippetRun(ns, exc, f"{type(exc).__name__}: {exc}{where}")
    return SnippetRun(ns, None, "ok")
