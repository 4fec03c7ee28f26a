"""Finite-difference check of the backpropagated gradient.

With dropout the objective is random; ``rng_seed`` fixes it: every evaluation
(the analytic gradient and each finite difference) runs
:meth:`MLP.loss_grad` with a generator freshly seeded with ``rng_seed``, so
all of them draw the same masks and differentiate one thinned network.
"""

import numpy as np


def _objective(network, X, Y, sample_weight, alpha, rng_seed, scratch):
    if rng_seed is None:
        return network.objective(X, Y, sample_weight, alpha)
    rng = np.random.default_rng(rng_seed)
    return network.loss_grad(X, Y, scratch, sample_weight, alpha, rng=rng)


def numerical_gradient(network, X, Y, sample_weight=None, alpha=0.0, eps=1e-6, rng_seed=None):
    """Central differences of the batch objective over every parameter.

    ``g_j = (J(w + eps e_j) - J(w - eps e_j)) / (2 eps)`` for every weight and
    bias ``w_j``; ``network.params`` is restored afterwards.

    Parameters
    ----------
    network : MLP
        Preferably float64: float32 cannot resolve ``eps`` steps.
    X : ndarray of shape (n_samples, n_features)
        Batch inputs.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    sample_weight : ndarray of shape (n_samples,), optional
        Non-negative weights with a positive sum; None means all ones.
    alpha : float, default=0.0
        L2 penalty on the weights.
    eps : float, default=1e-6
        Step of the central differences.
    rng_seed : int, optional
        Evaluate ``J`` with the dropout masks of a generator seeded with it
        (the same masks every time); None means no dropout.

    Returns
    -------
    ndarray of shape (n_params,)
        ``dJ/dparams`` by central differences, laid out like ``params``.
    """
    w = network.params
    numeric = np.empty_like(w)
    scratch = None if rng_seed is None else np.empty_like(w)
    args = (network, X, Y, sample_weight, alpha, rng_seed, scratch)
    for j in range(w.size):
        saved = w[j]
        w[j] = saved + eps
        plus = _objective(*args)
        w[j] = saved - eps
        minus = _objective(*args)
        w[j] = saved
        numeric[j] = (plus - minus) / (2 * eps)
    return numeric


def check_gradients(network, X, Y, sample_weight=None, alpha=0.0, eps=1e-6, rng_seed=None):
    """Compare backpropagation with central differences.

    Parameters
    ----------
    network : MLP
        The network whose gradient at its current weights is checked
        (preferably float64); its ``params`` end as they were.
    X : ndarray of shape (n_samples, n_features)
        Batch inputs.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    sample_weight : ndarray of shape (n_samples,), optional
        Non-negative weights with a positive sum; None means all ones.
    alpha : float, default=0.0
        L2 penalty on the weights.
    eps : float, default=1e-6
        Step of the central differences.
    rng_seed : int, optional
        Check the gradient of the network thinned by the dropout masks that a
        generator seeded with ``rng_seed`` draws (the same for every
        evaluation); None checks without dropout.

    Returns
    -------
    analytic : ndarray of shape (n_params,)
        The gradient from :meth:`MLP.loss_grad`.
    numeric : ndarray of shape (n_params,)
        The gradient from :func:`numerical_gradient`.
    rel_error : float
        ``||analytic - numeric|| / max(||analytic|| + ||numeric||, tiny)``.
    """
    analytic = np.empty_like(network.params)
    if rng_seed is None:
        network.loss_grad(X, Y, analytic, sample_weight, alpha)
    else:
        _objective(network, X, Y, sample_weight, alpha, rng_seed, analytic)
    numeric = numerical_gradient(network, X, Y, sample_weight, alpha, eps, rng_seed)
    denom = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), np.finfo(float).tiny)
    return analytic, numeric, float(np.linalg.norm(analytic - numeric) / denom)
