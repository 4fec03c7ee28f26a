"""sknumpynet: scikit-learn compatible multi-layer perceptrons written in NumPy.

The estimators are imported on first use, so ``import sknumpynet.nn`` (the
NumPy core) needs neither scikit-learn nor anything else but NumPy and SciPy.
"""

import importlib

from ._version import __version__

_LAZY = {
    "ScratchMLPClassifier": "classifier",
    "ScratchMLPRegressor": "regressor",
    "LossCurveDisplay": "plotting",
}

__all__ = ["LossCurveDisplay", "ScratchMLPClassifier", "ScratchMLPRegressor", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})
