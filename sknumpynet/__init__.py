"""sknumpynet: a scikit-learn compatible multi-layer perceptron written in NumPy."""

from ._version import __version__
from .classifier import ScratchMLPClassifier
from .plotting import LossCurveDisplay

__all__ = ["LossCurveDisplay", "ScratchMLPClassifier", "__version__"]
