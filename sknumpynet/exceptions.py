"""Warnings raised by sknumpynet estimators, and how they are raised."""

import os
import sys
import warnings

import joblib
import sklearn
from sklearn.exceptions import ConvergenceWarning

# Frames in these folders are library code, not the caller's.
_LIBRARY_DIRS = tuple(
    os.path.dirname(module.__file__) + os.sep
    for module in (sys.modules[__package__], sklearn, joblib)
)


def warn_user(message, category):
    """Warn with the warning attributed to the user's line of code.

    The line is the first frame on the stack outside sknumpynet, scikit-learn
    and joblib, so a warning of a fit run by a ``Pipeline`` or a search points
    at the user's ``fit`` call, not inside the library (where a fixed
    ``stacklevel`` would point).

    Parameters
    ----------
    message : str
    category : type of Warning
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame, level = frame.f_back, level + 1
    if frame is None:  # called from library code only (e.g. a worker): the outermost
        level -= 1
    warnings.warn(message, category, stacklevel=level + 1)


class DivergenceWarning(ConvergenceWarning):
    """Training stopped because the loss became NaN, infinite or exploded.

    The estimator keeps the best finite weights seen before the divergence;
    the usual cause is a learning rate that is too high (or features on a
    very large scale).
    """


class TrainingInterruptedWarning(UserWarning):
    """A ``fit`` was interrupted (Ctrl-C); the weights of the last completed
    mini-batch are kept and the estimator can predict or resume.

    ``partial_fit`` raises ``KeyboardInterrupt`` instead, and the call is undone.
    """


class InconsistentVersionWarning(UserWarning):
    """An estimator is unpickled with a sknumpynet version other than the one
    that pickled it.

    Like scikit-learn's warning of the same name, this says the model may
    behave differently or break; refit it, or load it with the version that
    saved it.

    Parameters
    ----------
    estimator_name : str
        Class name of the unpickled estimator.
    current_version : str
        The installed sknumpynet version.
    original_version : str
        The version that pickled the estimator (``"unknown"`` if it did not
        record one).
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from sknumpynet version "
            f"{self.original_version} when using version {self.current_version}. This might "
            "lead to breaking code or invalid results. Use at your own risk."
        )


__all__ = [
    "ConvergenceWarning",
    "DivergenceWarning",
    "InconsistentVersionWarning",
    "TrainingInterruptedWarning",
]
