"""Weight initialisations.

Each initializer fills the weights ``W`` of shape ``(fan_in, fan_out)`` of one
layer, and possibly its biases ``b`` of shape ``(fan_out,)``, in place with
draws from the given :class:`numpy.random.Generator`:

==============  ===========================================================
name            drawn as
==============  ===========================================================
random          ``W ~ N(0, 1) * 0.01``
xavier          ``W ~ N(0, 1) * sqrt(1 / fan_in)`` (LeCun scaling, the name
                from-scratch texts give it)
he              ``W ~ N(0, 1) * sqrt(2 / fan_in)``
glorot_uniform  ``W, b ~ U(-r, r)`` with ``r = sqrt(k / (fan_in + fan_out))``,
                ``k = 2`` for a layer next to a logistic unit, 6 otherwise
                (scikit-learn's ``MLPClassifier`` scheme)
==============  ===========================================================

Only ``glorot_uniform`` draws biases; the others leave them at zero.  Draws
are made in float64 and then cast, so the same generator gives the same
network in float32 and float64 (up to float32 rounding).

``"auto"`` (the estimators' default) is not an entry: it resolves per layer to
the ``default_init`` of the activation (or head) that follows the layer, see
:func:`resolve_init`.  Every activation and head names ``glorot_uniform``, so
``"auto"`` draws the network scikit-learn's MLPs draw.  Until version 0.3 it
drew ``he`` before relu layers and ``xavier`` elsewhere, with zero biases.  He's
variance ``2 / fan_in`` keeps the signal's scale through a deep stack of relu
layers, but in the first layer of a wide network on a few features it is
``(fan_in + fan_out) / fan_in`` times Glorot's (26 times for 4 features and 100
units).  Adam moves every weight by about the learning rate per step whatever
its scale, so in the same epochs those larger weights change by a smaller
fraction of themselves: on small tabular data, in scikit-learn's default 200
epochs, the He network stayed less trained and scored up to 0.09 below
``MLPClassifier`` / ``MLPRegressor`` (see the benchmarks page).  ``he`` stays
available for deep relu stacks.
"""

import math

from .registry import Names


def _normal(W, rng, scale):
    # Scaled in float64, then cast once: float32 weights are the float64 ones rounded.
    W[...] = rng.standard_normal(W.shape) * scale
    return W


def random(W, b, rng, logistic=False):
    """Fill ``W`` of shape (fan_in, fan_out) with ``N(0, 1) * 0.01``; ``b`` stays."""
    return _normal(W, rng, 0.01)


def xavier(W, b, rng, logistic=False):
    """Fill ``W`` of shape (fan_in, fan_out) with ``N(0, 1) * sqrt(1 / fan_in)``."""
    return _normal(W, rng, math.sqrt(1.0 / W.shape[0]))


def he(W, b, rng, logistic=False):
    """Fill ``W`` of shape (fan_in, fan_out) with ``N(0, 1) * sqrt(2 / fan_in)``."""
    return _normal(W, rng, math.sqrt(2.0 / W.shape[0]))


def glorot_uniform(W, b, rng, logistic=False):
    """Fill ``W`` (fan_in, fan_out), then ``b`` (fan_out,), with ``U(-r, r)``.

    ``r = sqrt(k / (fan_in + fan_out))`` with ``k = 2`` when ``logistic`` (the
    layer's input or output passes through a logistic unit) and 6 otherwise:
    for a network with one hidden activation throughout, the draws of
    scikit-learn's ``MLPClassifier``.
    """
    bound = math.sqrt((2.0 if logistic else 6.0) / sum(W.shape))
    W[...] = rng.uniform(-bound, bound, W.shape)
    b[...] = rng.uniform(-bound, bound, b.shape)
    return W


INITIALIZERS = {"random": random, "xavier": xavier, "he": he, "glorot_uniform": glorot_uniform}
"""Registry of initializers by name: ``init(W, b, rng, logistic)`` fills ``W`` (and ``b``)."""

INIT_OPTIONS = Names(lambda: ("auto", *INITIALIZERS))
"""Accepted values of the ``init`` hyperparameter: ``"auto"`` and every key of
:data:`INITIALIZERS`, an initializer registered later included."""


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
