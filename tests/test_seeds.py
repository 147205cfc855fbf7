import numpy as np

from wdlib import seeds


def test_seed_000_fails_as_written_with_undefined_m():
    run = seeds.run_snippet(seeds.SEED_000_LINREG)
    assert not run.ok
    assert isinstance(run.error, NameError)
    assert run.message.startswith("NameError: name 'm' is not defined (line 17:")


def test_seed_000_with_m_defined_fits_through_the_origin():
    fixed = seeds.SEED_000_LINREG.replace("# 训练模型\n", "# 训练模型\nm = len(X)\n")
    run = seeds.run_snippet(fixed)
    assert run.ok
    theta = run.namespace["theta"][0, 0]
    assert 3.0 < theta < 4.0  # not the true slope 2: no intercept


def test_run_snippet_keeps_namespace_up_to_failure():
    run = seeds.run_snippet("a = np.ones(2)\nraise RuntimeError('boom')", {"np": np})
    assert run.namespace["a"].tolist() == [1.0, 1.0]
    assert run.message == "RuntimeError: boom (line 2: raise RuntimeError('boom'))"


def test_undefined_names_finds_what_the_seed_snippets_never_define():
    assert seeds.undefined_names(seeds.SEED_000_LINREG) == ["m"]
    assert seeds.undefined_names(seeds.SEED_001_KERAS) == ["x_test", "x_train", "y_test", "y_train"]
    # bound by imports, loops, functions and their arguments; builtins are defined
    src = "import os.path\nfrom a import b as c\ndef f(u):\n    return u + c + len(os.path.sep)\nfor k in []:\n    f(k)"
    assert seeds.undefined_names(src) == []


def test_seed_001_snippet_is_the_post_verbatim():
    # the code block as it appears in the post (seed 001, section 4)
    assert "kernel_regularizer=tf.keras.regularizers.l2(0.01)" in seeds.SEED_001_KERAS
    assert seeds.SEED_001_KERAS.count("Dense(") == 3
    assert seeds.SEED_001_KERAS.rstrip().endswith("validation_data=(x_test, y_test))")
