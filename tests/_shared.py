"""Settings that several test modules share (imported as ``from _shared import ...``)."""

import tracemalloc

import pytest

from sknumpynet.nn import OPTIMIZERS

STEP_OPTIMIZERS = sorted(name for name, cls in OPTIMIZERS.items() if cls.incremental)
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
# gd takes one full-batch step per epoch, so it needs a larger step and more
# epochs; lbfgs has no learning rate and converges in fewer than 50 iterations.
# A new optimizer needs an entry here.
CLASSIFIER_LEARNS = {
    "gd": {"learning_rate_init": 0.5, "max_iter": 150},
    "sgd": {"learning_rate_init": 0.1, "max_iter": 15},
    "momentum": {"learning_rate_init": 0.1, "max_iter": 15},
    "nesterov": {"learning_rate_init": 0.1, "max_iter": 15},
    "rmsprop": {"learning_rate_init": 0.003, "max_iter": 15},
    "adam": {"learning_rate_init": 0.01, "max_iter": 15},
    "lbfgs": {"max_iter": 50},
}


def traced_peak(call):
    """``(call(), peak)``: the peak of the memory tracemalloc traced during the call."""
    tracemalloc.start()
    try:
        return call(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
