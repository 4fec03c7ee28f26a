"""Settings that several test modules share (imported as ``from _shared import ...``)."""

import tracemalloc

import numpy as np
import pytest

from sknumpynet.nn import OPTIMIZERS

STEP_OPTIMIZERS = sorted(name for name, cls in OPTIMIZERS.items() if cls.stepwise)
"""Every optimizer that steps once per mini-batch (all but lbfgs)."""

# Each filter names a class and the start of one message only: DivergenceWarning
# (a ConvergenceWarning) fails the test. A filter string splits at ":", so "."
# stands for the colon in the message.
TRAINING_WARNINGS = [
    pytest.mark.filterwarnings("error::sknumpynet.exceptions.DivergenceWarning"),
    pytest.mark.filterwarnings(
        "ignore:Stochastic Optimizer. Maximum iterations:sklearn.exceptions.ConvergenceWarning"
    ),
    pytest.mark.filterwarnings("ignore:L-BFGS stopped after:sklearn.exceptions.ConvergenceWarning"),
]


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


def traced_peak(call):
    """``(call(), peak)``: the peak of the memory tracemalloc traced during the call."""
    tracemalloc.start()
    try:
        return call(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
