"""The NumPy core of sknumpynet: layers, heads, optimizers and training.

Nothing in this package imports scikit-learn; the estimator in
:mod:`sknumpynet` is a thin adapter over it.
"""

from .activations import ACTIVATIONS
from .gradcheck import check_gradients, numerical_gradient
from .heads import HEADS, REGRESSION_LOSSES
from .initializers import INIT_OPTIONS, INITIALIZERS
from .lbfgs import LBFGS
from .network import MLP, forward_logits
from .optimizers import OPTIMIZERS, Optimizer
from .training import Diverged, Trainer, deferred_interrupt, probe_objective

__all__ = [
    "ACTIVATIONS",
    "HEADS",
    "INITIALIZERS",
    "INIT_OPTIONS",
    "LBFGS",
    "MLP",
    "OPTIMIZERS",
    "REGRESSION_LOSSES",
    "Diverged",
    "Optimizer",
    "Trainer",
    "check_gradients",
    "deferred_interrupt",
    "forward_logits",
    "numerical_gradient",
    "probe_objective",
]
