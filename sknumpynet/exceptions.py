"""Warnings raised by sknumpynet estimators."""

from sklearn.exceptions import ConvergenceWarning


class DivergenceWarning(ConvergenceWarning):
    """Training stopped because the loss became NaN or infinite.

    The estimator keeps the best finite weights seen before the divergence;
    the usual cause is a learning rate that is too high.
    """


class TrainingInterruptedWarning(UserWarning):
    """Training was interrupted (Ctrl-C); the weights of the last completed
    mini-batch are kept and the estimator can predict or resume."""


__all__ = ["ConvergenceWarning", "DivergenceWarning", "TrainingInterruptedWarning"]
