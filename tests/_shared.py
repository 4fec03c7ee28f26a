"""Settings that several test modules share (imported as ``from _shared import ...``)."""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sknumpynet.nn import OPTIMIZERS

STEP_OPTIMIZERS = sorted(name for name, cls in OPTIMIZERS.items() if cls.stepwise)
"""Every optimizer that steps once per mini-batch (all but lbfgs)."""

# Each filter names a class and the start of one message only: DivergenceWarning
# (a ConvergenceWarning) fails the test. A filter string splits at ":", so "."
# stands for the colon in the message. conftest.py makes these global.
TRAINING_FILTERS = (
    "error::sknumpynet.exceptions.DivergenceWarning",
    "ignore:Stochastic Optimizer. Maximum iterations:sklearn.exceptions.ConvergenceWarning",
    "ignore:L-BFGS stopped after:sklearn.exceptions.ConvergenceWarning",
)
TRAINING_WARNINGS = [pytest.mark.filterwarnings(arg) for arg in TRAINING_FILTERS]
"""The global filters as marks, for a test whose module marks override them."""

# The starts of the two messages of a fit stopped by its cap (regular expressions,
# for ``warnings.filterwarnings(..., category=ConvergenceWarning)``).
CAPPED_MESSAGES = ("Stochastic Optimizer: Maximum iterations", "L-BFGS stopped after")


def ignore_capped_fits():
    """In a ``warnings.catch_warnings()`` block: ignore exactly the capped-fit warnings."""
    for message in CAPPED_MESSAGES:
        warnings.filterwarnings("ignore", message=message, category=ConvergenceWarning)


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
