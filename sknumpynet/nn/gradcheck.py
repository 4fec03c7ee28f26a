"""Finite-difference check of the backpropagated gradient."""

import numpy as np


def numerical_gradient(network, X, Y, sample_weight=None, alpha=0.0, eps=1e-6):
    """Central differences of the batch objective over every parameter.

    ``g_j = (J(w + eps e_j) - J(w - eps e_j)) / (2 eps)`` for every weight and
    bias ``w_j``; ``network.params`` is restored afterwards.

    Parameters
    ----------
    network : MLP
        Preferably float64: float32 cannot resolve ``eps`` steps.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    sample_weight : ndarray of shape (n_samples,), optional
    alpha : float, default=0.0
    eps : float, default=1e-6

    Returns
    -------
    ndarray of shape (n_params,)
    """
    w = network.params
    numeric = np.empty_like(w)
    for j in range(w.size):
        saved = w[j]
        w[j] = saved + eps
        plus = network.objective(X, Y, sample_weight, alpha)
        w[j] = saved - eps
        minus = network.objective(X, Y, sample_weight, alpha)
        w[j] = saved
        numeric[j] = (plus - minus) / (2 * eps)
    return numeric


def check_gradients(network, X, Y, sample_weight=None, alpha=0.0, eps=1e-6):
    """Compare backpropagation with central differences.

    Parameters
    ----------
    network : MLP
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets.
    sample_weight : ndarray of shape (n_samples,), optional
    alpha : float, default=0.0
    eps : float, default=1e-6

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
    network.loss_grad(X, Y, analytic, sample_weight, alpha)
    numeric = numerical_gradient(network, X, Y, sample_weight, alpha, eps)
    denom = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), np.finfo(float).tiny)
    return analytic, numeric, float(np.linalg.norm(analytic - numeric) / denom)
