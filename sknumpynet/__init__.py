"""sknumpynet: a scikit-learn compatible multi-layer perceptron written in NumPy."""

from ._version import __version__
from .classifier import ScratchMLPClassifier

__all__ = ["ScratchMLPClassifier", "__version__"]
