"""Hidden-layer activations, each beside its derivative.

Every activation ``f`` is applied in place to the pre-activations ``Z`` of shape
``(n_samples, n_units)``.  Its derivative is written from the *output*
``A = f(Z)`` wherever the math allows, so the backward pass never needs ``Z``:

============  =============================  ===========================
name          forward ``A = f(Z)``           ``f'(Z)`` from ``A``
============  =============================  ===========================
identity      ``Z``                          ``1``
relu          ``max(Z, 0)``                  ``1[A > 0]``
leaky_relu    ``max(Z, 0.01 Z)``             ``1[A > 0] + 0.01 1[A <= 0]``
tanh          ``tanh(Z)``                    ``1 - A**2``
sigmoid       ``1 / (1 + exp(-Z))``          ``A (1 - A)``
logistic      the same as sigmoid            (scikit-learn's name)
============  =============================  ===========================

``backprop(A, delta)`` multiplies ``delta`` (same shape as ``A``) in place by
``f'(Z)``; this is the chain rule step from a layer's output to its input.

Each class also names, as ``default_init``, the initializer that
``init="auto"`` uses for the layer feeding it (a key of
:data:`~sknumpynet.nn.initializers.INITIALIZERS`): ``glorot_uniform`` for every
activation here, as in scikit-learn's MLPs (see the initializers module for why
not ``he`` before relu).

To add an activation, subclass :class:`Activation` (whose docstrings give
the shapes and the in-place contract) with its ``forward`` and ``backprop``
(and ``default_init`` if not ``glorot_uniform``) and add one entry to
:data:`ACTIVATIONS`; validation and tests are built from its keys.
"""

import numpy as np

LEAKY_SLOPE = 0.01


class Activation:
    """What every activation provides; the identity ``f(z) = z``.

    Each subclass overrides both methods with its own ``f`` and ``f'`` (in
    their one-line docstrings); the contract is this class's.
    """

    default_init = "glorot_uniform"

    @staticmethod
    def forward(Z):
        """Apply ``f`` to the pre-activations, in place.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_units)
            Pre-activations, overwritten with ``f(Z)``.

        Returns
        -------
        A : ndarray of shape (n_samples, n_units)
            ``Z`` itself, now holding ``f(Z)``.
        """
        return Z

    @staticmethod
    def backprop(A, delta):
        """Multiply ``delta`` in place by ``f'(Z)``, taken from the output ``A``.

        Parameters
        ----------
        A : ndarray of shape (n_samples, n_units)
            The layer's output ``f(Z)``; read only.
        delta : ndarray of shape (n_samples, n_units)
            ``dJ/dA``, overwritten with ``dJ/dZ = delta * f'(Z)``.

        Returns
        -------
        delta : ndarray of shape (n_samples, n_units)
            ``delta`` itself.
        """
        return delta


class Identity(Activation):
    """``f(z) = z``; keeps a layer linear."""


class ReLU(Activation):
    """``f(z) = max(z, 0)``; ``f'(z) = 1`` where the unit is on."""

    @staticmethod
    def forward(Z):
        """``A = max(Z, 0)``, in place (see :meth:`Activation.forward`)."""
        return np.maximum(Z, 0, out=Z)

    @staticmethod
    def backprop(A, delta):
        """``delta *= 1[A > 0]`` (see :meth:`Activation.backprop`)."""
        # A > 0 exactly where Z > 0, so the output alone gives the mask.
        delta *= A > 0
        return delta


class LeakyReLU(Activation):
    """``f(z) = max(z, 0.01 z)``; slope 1 for ``z > 0`` and 0.01 otherwise."""

    slope = LEAKY_SLOPE

    @classmethod
    def forward(cls, Z):
        """``A = max(Z, slope Z)``, in place (see :meth:`Activation.forward`)."""
        # For a slope below 1, max(z, slope*z) is z when z > 0 and slope*z otherwise.
        return np.maximum(Z, cls.slope * Z, out=Z)

    @classmethod
    def backprop(cls, A, delta):
        """``delta *= 1`` where ``A > 0``, ``slope`` elsewhere (see :meth:`Activation.backprop`)."""
        # The sign of A is the sign of Z, so the output selects the slope.
        # 1 + (slope - 1) * 1[A <= 0] by arithmetic: much faster than np.where
        # (or a where= mask), whose per-element selection is not vectorised.
        factor = (A <= 0).astype(delta.dtype)
        factor *= cls.slope - 1
        factor += 1
        delta *= factor
        return delta


class Tanh(Activation):
    """``f(z) = tanh(z)``; ``f'(z) = 1 - tanh(z)**2 = 1 - A**2``."""

    @staticmethod
    def forward(Z):
        """``A = tanh(Z)``, in place (see :meth:`Activation.forward`)."""
        return np.tanh(Z, out=Z)

    @staticmethod
    def backprop(A, delta):
        """``delta *= 1 - A**2`` (see :meth:`Activation.backprop`)."""
        delta *= 1 - A * A
        return delta


class Sigmoid(Activation):
    """``f(z) = 1 / (1 + exp(-z))``; ``f'(z) = A (1 - A)``."""

    logistic = True  # glorot_uniform draws narrower weights next to it

    @staticmethod
    def forward(Z):
        """``A = sigmoid(Z)``, in place, never overflowing (see :func:`sigmoid`)."""
        return sigmoid(Z, out=Z)

    @staticmethod
    def backprop(A, delta):
        """``delta *= A (1 - A)`` (see :meth:`Activation.backprop`)."""
        delta *= A * (1 - A)
        return delta


def sigmoid(Z, out=None):
    """Logistic function without overflow: ``sigmoid(z) = (1 + tanh(z / 2)) / 2``.

    ``exp(-z)`` overflows for ``z < -88`` in float32; ``tanh`` saturates to
    ``-1`` instead, so any finite input gives a value in ``[0, 1]`` silently.

    Parameters
    ----------
    Z : ndarray of any shape
        Logits.
    out : ndarray of the same shape, optional
        Where to write the result (may be ``Z`` itself).

    Returns
    -------
    ndarray of the same shape as ``Z``
    """
    out = np.multiply(Z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


ACTIVATIONS = {
    "identity": Identity,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
}
"""Registry of hidden activations by name (``logistic`` is scikit-learn's name
for ``sigmoid``, so ``MLPClassifier`` grids carry over)."""
