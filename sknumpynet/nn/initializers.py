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


def _scaled_normal(scale_of_fan_in):
    def init(W, rng):
        # Generator.standard_normal draws straight into float32 or float64,
        # so the weights never pass through another dtype.
        rng.standard_normal(dtype=W.dtype, out=W)
        W *= scale_of_fan_in(W.shape[0])
        return W

    return init


INITIALIZERS = {
    "random": _scaled_normal(lambda fan_in: 0.01),
    "xavier": _scaled_normal(lambda fan_in: np.sqrt(1.0 / fan_in)),
    "he": _scaled_normal(lambda fan_in: np.sqrt(2.0 / fan_in)),
}
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
