"""Settings that several test modules share (imported as ``from _shared import ...``)."""

import math
import tracemalloc

import numpy as np

from sknumpynet.nn import OPTIMIZERS

STEP_OPTIMIZERS = sorted(name for name, cls in OPTIMIZERS.items() if cls.stepwise)
"""Every optimizer that steps once per mini-batch (all but lbfgs)."""

# Each filter names a class and the start of one message only: DivergenceWarning
# (a ConvergenceWarning) fails the test. A filter string splits at ":", so "."
# stands for the colon in the message. conftest.py makes these global.
TRAINING_FILTERS = (
    "error::sknumpynet.exceptions.DivergenceWarning",
    "ignore:Stochastic Optimizer. Maximum iterations:sklearn.exceptions.ConvergenceWarning",
    "ignore:lbfgs failed to converge:sklearn.exceptions.ConvergenceWarning",
)


def learning_settings(epochs, full_batch_epochs):
    """Per optimizer, settings under which it learns a small problem quickly.

    Ten times its default learning rate (the registry's), for ``epochs``
    epochs, or ``full_batch_epochs`` for full-batch gd, which takes one step per
    epoch; lbfgs has no learning rate and converges in fewer than 50 iterations.
    """
    return {
        name: {"max_iter": 50}
        if not cls.stepwise
        else {
            "learning_rate_init": 10 * cls.default_learning_rate,
            "max_iter": full_batch_epochs if cls.full_batch else epochs,
        }
        for name, cls in OPTIMIZERS.items()
    }


# Each optimizer learns small classification problems (digits, breast_cancer, a
# 95/5 make_classification) in a fraction of a second under these.
CLASSIFIER_LEARNS = learning_settings(15, 150)


def assert_same_fitted_state(a, b):
    """Equal ``__getstate__`` key by key: fitted attributes, optimizer state, records."""
    sa, sb = a.__getstate__(), b.__getstate__()
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_equal(sa[key], sb[key], err_msg=key)


def weights(est):
    """Copies of a fitted estimator's weight arrays: its ``coefs_``, then its ``intercepts_``."""
    return [w.copy() for w in (*est.coefs_, *est.intercepts_)]


def flat_weights(est):
    """A fitted estimator's weights laid out like the network's flat ``params``."""
    return np.concatenate([w.ravel() for w in (*est.coefs_, *est.intercepts_)])


def assert_identical(a, b, path="state"):
    """Equal bit for bit: arrays (values and dtype), dicts, lists and tuples, scalars."""
    assert type(a) is type(b), path
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype, path
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for key in a:
            assert_identical(a[key], b[key], f"{path}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            assert_identical(u, v, f"{path}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


def assert_same_model(a, b, *, rtol=None, atol=0.0, records=True):
    """Two fitted estimators hold the same weights (and, with ``records``, the same
    ``loss_curve_``).

    Bit for bit, dtypes included, without ``rtol``; within ``rtol`` and
    ``atol`` with it (the loss curve within ``rtol``).
    """
    wa, wb = weights(a), weights(b)
    if rtol is None:
        assert_identical(wa, wb, "weights")
        if records:
            assert a.loss_curve_ == b.loss_curve_
        return
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb, strict=True):
        np.testing.assert_allclose(u, v, rtol=rtol, atol=atol)
    if records:
        np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)


def traced_peak(call):
    """``(call(), peak)``: the peak of the memory tracemalloc traced during the call."""
    tracemalloc.start()
    try:
        return call(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def central_differences(objective, params, eps=1e-6):
    """``(J(w + eps e_j) - J(w - eps e_j)) / (2 eps)`` for every entry ``w_j`` of ``params``.

    The test suite's own finite differences, independent of the package's
    :mod:`sknumpynet.nn.gradcheck`: ``objective()`` is evaluated with
    ``params`` changed in place one entry at a time, and each entry is put
    back afterwards.
    """
    numeric = np.empty(params.shape, dtype=np.float64)
    for j in range(params.size):
        saved = params[j]
        params[j] = saved + eps
        plus = objective()
        params[j] = saved - eps
        minus = objective()
        params[j] = saved
        numeric[j] = (plus - minus) / (2 * eps)
    return numeric


def gradient_check(net, X, Y, sample_weight=None, alpha=0.0, rng_seed=None, eps=1e-6):
    """``(analytic, numeric, rel_error)`` for ``net.loss_grad`` at its current weights.

    ``numeric`` is :func:`central_differences` of the objective that
    ``loss_grad`` returns (with the dropout masks of a generator freshly
    seeded with ``rng_seed`` at every evaluation, so that all of them
    differentiate one thinned network; no dropout where it is None), and
    ``rel_error = ||analytic - numeric|| / (||analytic|| + ||numeric||)``.
    """

    def rng():
        return None if rng_seed is None else np.random.default_rng(rng_seed)

    analytic = np.empty_like(net.params)
    net.loss_grad(X, Y, analytic, sample_weight, alpha, rng=rng())
    scratch = np.empty_like(net.params)
    numeric = central_differences(
        lambda: net.loss_grad(X, Y, scratch, sample_weight, alpha, rng=rng()), net.params, eps
    )
    denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return analytic, numeric, float(np.linalg.norm(analytic - numeric) / denom)
