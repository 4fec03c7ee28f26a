"""The NumPy core of sknumpynet: layers, heads, optimizers and training.

Nothing in this package imports scikit-learn; the estimator in
:mod:`sknumpynet` is a thin adapter over it.
"""

from .activations import ACTIVATIONS
from .gradcheck import check_gradients, numerical_gradient
from .heads import CLASSIFICATION_HEADS, HEADS, REGRESSION_LOSSES
from .initializers import INIT_OPTIONS, INITIALIZERS
from .lbfgs import LBFGS
from .network import MLP, forward_logits, weighted_total
from .optimizers import OPTIMIZERS, Optimizer
from .stops import Diverged, DivergenceGuard, NotFiniteAtStart, deferred_interrupt
from .training import Buffers, Trainer, full_batch_loss_grad, probe_objective

__all__ = [
    "ACTIVATIONS",
    "Buffers",
    "DivergenceGuard",
    "CLASSIFICATION_HEADS",
    "HEADS",
    "INITIALIZERS",
    "INIT_OPTIONS",
    "LBFGS",
    "MLP",
    "NotFiniteAtStart",
    "OPTIMIZERS",
    "REGRESSION_LOSSES",
    "Diverged",
    "Optimizer",
    "Trainer",
    "check_gradients",
    "deferred_interrupt",
    "forward_logits",
    "full_batch_loss_grad",
    "numerical_gradient",
    "probe_objective",
    "weighted_total",
]
