"""Weight initialisations.

Each initializer fills a weight matrix ``W`` of shape ``(fan_in, fan_out)`` in
place with draws from the given :class:`numpy.random.Generator`:

=======  ===================================
name     ``W`` drawn as
=======  ===================================
random   ``N(0, 1) * 0.01``
xavier   ``N(0, 1) * sqrt(1 / fan_in)``
he       ``N(0, 1) * sqrt(2 / fan_in)``
=======  ===================================

``"auto"`` is not an entry: it resolves per layer to the ``default_init`` of
the activation that follows the layer (``he`` for the relu family, ``xavier``
otherwise), see :func:`resolve_init`.  Biases always start at zero.
"""

import numpy as np


def _standard_normal(W, rng, scale):
    # Generator.standard_normal draws straight into float32 or float64, so the
    # weights never pass through another dtype.
    rng.standard_normal(dtype=W.dtype, out=W)
    W *= scale
    return W


def random(W, rng):
    """Fill ``W`` of shape (fan_in, fan_out) with ``N(0, 1) * 0.01``."""
    return _standard_normal(W, rng, 0.01)


def xavier(W, rng):
    """Fill ``W`` of shape (fan_in, fan_out) with ``N(0, 1) * sqrt(1 / fan_in)``."""
    return _standard_normal(W, rng, float(np.sqrt(1.0 / W.shape[0])))


def he(W, rng):
    """Fill ``W`` of shape (fan_in, fan_out) with ``N(0, 1) * sqrt(2 / fan_in)``."""
    return _standard_normal(W, rng, float(np.sqrt(2.0 / W.shape[0])))


INITIALIZERS = {"random": random, "xavier": xavier, "he": he}
"""Registry of weight initializers by name: ``init(W, rng)`` fills ``W``."""

INIT_OPTIONS = ("auto", *INITIALIZERS)
"""Accepted values of the ``init`` hyperparameter."""


def resolve_init(init, activation):
    """Name of the initializer for a layer followed by ``activation``.

    Parameters
    ----------
    init : str
        One of :data:`INIT_OPTIONS`.
    activation : class
        Entry of :data:`~sknumpynet.nn.activations.ACTIVATIONS` (or a head)
        with a ``default_init`` attribute.

    Returns
    -------
    str
        A key of :data:`INITIALIZERS`.
    """
    return activation.default_init if init == "auto" else init
