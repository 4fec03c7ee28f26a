"""The one place where sknumpynet touches private scikit-learn API, or works
around a difference between the scikit-learn versions it supports.

``_check_sample_weight`` has no public equivalent; it is tested against the
newest scikit-learn release by the test suite (``tests/test_compat.py``).
``compute_class_weight`` counts weighted rows since scikit-learn 1.7;
:func:`balanced_class_weight` does so on 1.6 too.
Invalid hyperparameters raise scikit-learn's ``InvalidParameterError`` (a
``ValueError`` and a ``TypeError``), which only its private
``sklearn.utils._param_validation`` defines.
The callback API (scikit-learn >= 1.9) keeps an estimator's callbacks and the
context a meta-estimator hands down in two private attributes, named here;
``tests/test_callbacks.py`` fails if scikit-learn renames them.
"""

import inspect

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import _check_sample_weight

try:
    from sklearn.utils._param_validation import InvalidParameterError
except ImportError:  # pragma: no cover - present in every supported release

    class InvalidParameterError(ValueError, TypeError):
        """A hyperparameter of the wrong type or value (scikit-learn's class)."""


# scikit-learn 1.7 added compute_class_weight's sample_weight.
_WEIGHTED_CLASS_COUNTS = "sample_weight" in inspect.signature(compute_class_weight).parameters

CALLBACK_ATTRIBUTES = ("_skl_callbacks", "_parent_callback_ctx")
"""Attributes in which scikit-learn's callback API keeps an estimator's callbacks
and the callback context handed down by a meta-estimator."""


def check_sample_weight(sample_weight, X):
    """Validate ``sample_weight`` for ``X``: shape ``(n_samples,)``, finite, >= 0.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), scalar or None
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_samples,) and dtype ``X.dtype``

    Raises
    ------
    ValueError
        If the shape is wrong, a weight is negative, NaN or infinite, or all
        weights are zero.
    """
    try:
        sw = _check_sample_weight(sample_weight, X, dtype=X.dtype, ensure_non_negative=True)
    except (TypeError, ValueError) as exc:
        # Some of scikit-learn's messages ("Sample weights must be 1D ...",
        # "could not convert string to float") do not name the argument.
        if "sample_weight" in str(exc):
            raise
        raise type(exc)(f"sample_weight: {exc}") from exc
    if not sw.any():
        raise ValueError("sample_weight: all weights are zero; at least one must be > 0.")
    return sw


def balanced_class_weight(classes, y, sample_weight):
    """``compute_class_weight("balanced", classes=classes, y=y, sample_weight=sample_weight)``.

    The weight of class ``k`` is ``S / (K * S_k)``: ``S`` the total weight,
    ``S_k`` that of the rows of class ``k``, ``K`` the number of classes.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The sorted labels of ``y``, each with a positive total weight.
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,)

    Returns
    -------
    ndarray of shape (n_classes,)
    """
    if _WEIGHTED_CLASS_COUNTS:
        return compute_class_weight("balanced", classes=classes, y=y, sample_weight=sample_weight)
    # scikit-learn 1.6 counts rows whatever their weights: its formula, on weights.
    totals = np.bincount(np.searchsorted(classes, y), weights=sample_weight, minlength=len(classes))
    return totals.sum() / (len(classes) * totals)
