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
