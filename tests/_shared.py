"""Settings that several test modules share (imported as ``from _shared import ...``)."""

import tracemalloc

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

# Settings under which each optimizer learns small classification problems
# (digits, breast_cancer, a 95/5 make_classification) in a fraction of a second:
# ten times its default learning rate (the registry's), for 15 epochs, or 150
# for full-batch gd, which takes one step per epoch; lbfgs has no learning rate
# and converges in fewer than 50 iterations.
CLASSIFIER_LEARNS = {
    name: {"max_iter": 50}
    if not cls.stepwise
    else {
        "learning_rate_init": 10 * cls.default_learning_rate,
        "max_iter": 150 if cls.full_batch else 15,
    }
    for name, cls in OPTIMIZERS.items()
}


def traced_peak(call):
    """``(call(), peak)``: the peak of the memory tracemalloc traced during the call."""
    tracemalloc.start()
    try:
        return call(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
