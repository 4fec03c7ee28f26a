"""The one place where sknumpynet touches private scikit-learn API.

``_check_sample_weight`` has no public equivalent; it is tested against the
newest scikit-learn release by the test suite (``tests/test_compat.py``).
The callback API (scikit-learn >= 1.9) keeps an estimator's callbacks and the
context a meta-estimator hands down in two private attributes, named here;
``tests/test_callbacks.py`` fails if scikit-learn renames them.
"""

from sklearn.utils.validation import _check_sample_weight

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
