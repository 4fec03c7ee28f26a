"""The validation set of a fit: held out from the data, or given by the user.

``early_stopping=True`` holds out ``validation_fraction`` of the training
rows, always the same rows for one estimator: the split is seeded by the int
the estimator draws once per fresh fit from ``random_state``.  For
single-label classification the split is stratified by class where it can be
(every class has at least 2 rows, and each side of the split room for one row
of every class); otherwise, e.g. a class of one row in a cross-validation
fold, it is a plain random split, as ``MLPClassifier``'s always is for more
than two classes.  A validation set passed to ``fit`` as
``X_val, y_val[, sample_weight_val]`` replaces that split, and is scored every
epoch even without early stopping.

Either way the engine receives a scorer, ``validate(network) -> (score,
loss)``: the estimator's validation metric (accuracy, R²) of the network's
predictions and the weighted mean loss of its head (no penalty term).
"""

import re

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import validate_data

from . import _data
from ._sklearn_compat import check_sample_weight
from ._validation import FLOATS, check_weight_range, numeric_targets
from .nn import weighted_total


def scorer(est, X_val, y_val, Y_val, sw_val, named):
    """``validate(network) -> (score, loss)`` on one validation set.

    A score that is not finite (the predictions or the targets beyond the
    model dtype's range) is refused: early stopping could pick no epoch by it,
    and would keep the starting weights.

    Parameters
    ----------
    est : estimator of the family
        Supplies ``_logits``, ``_predict_from_logits`` and ``_validation_metric``.
    X_val : ndarray or sparse matrix of shape (n_val, n_features)
    y_val : ndarray of shape (n_val,) or (n_val, n_outputs)
        Targets as given (labels for the classifier).
    Y_val : ndarray of shape (n_val, n_outputs)
        The same targets encoded for the head.
    sw_val : ndarray of shape (n_val,) or None
    named : str
        The arguments the validation set comes from, for the message.

    Returns
    -------
    callable

    Raises
    ------
    ValueError
        From ``validate``, for a score that is not finite.
    """

    def validate(net):
        Z = est._logits(X_val, net)
        data_loss, total = weighted_total(net.head.forward_loss(Z, Y_val, np.empty_like(Z)), sw_val)
        loss = data_loss / total
        y_pred = est._predict_from_logits(Z)
        score = est._validation_metric(y_val, y_pred, sample_weight=sw_val)
        if not np.isfinite(score):
            raise ValueError(
                f"{named}: the validation score is {score} (and early stopping could judge no "
                "epoch by it): the predictions or the targets of the validation set are too "
                f"large for {Y_val.dtype} arithmetic. Scale them like the training data (e.g. "
                "with the same StandardScaler)."
            )
        return score, loss

    return validate


def hold_out(est, X, y, Y, sw, weights_named=None):
    """Training rows and a scorer for ``early_stopping`` on an internal split.

    ``weights_named`` says what ``sw`` comes from (``"sample_weight"``,
    ``"class_weight"``, both), for the message where they leave nothing to train.

    Returns
    -------
    train_idx : ndarray of int
        Sorted training rows.
    validate : callable
    """
    n = X.shape[0]
    try:
        fraction = float(est.validation_fraction)  # train_test_split refuses np.float32
        train_idx, val_idx = _split(n, fraction, est._stratify(y), est._random_seed)
        if len(val_idx) < 2:
            raise ValueError(f"it would hold out {len(val_idx)} row, fewer than 2")
    except ValueError as exc:
        raise ValueError(
            f"early_stopping=True cannot hold out a validation_fraction="
            f"{est.validation_fraction} of {n} samples ({exc}). Pass more samples, "
            "change validation_fraction, pass X_val and y_val, or set early_stopping=False."
        ) from exc
    train_idx.sort()
    sw_val = None
    if sw is not None:
        sw_val = sw[val_idx]
        est._check_training_weights(
            y[train_idx],
            sw[train_idx],
            f"early_stopping: weighted by {weights_named}, the training split leaves",
        )
        if not sw_val.any():
            raise ValueError(
                "early_stopping=True: every held-out row has sample_weight 0, so the "
                "validation score is undefined; change validation_fraction or "
                "random_state, or set early_stopping=False."
            )
    held_out = "the rows of X and y held out by early_stopping"
    return train_idx, scorer(est, X[val_idx], y[val_idx], Y[val_idx], sw_val, held_out)


def _split(n, fraction, labels, seed):
    """``(train, validation)`` row indices: stratified by ``labels`` where
    scikit-learn can stratify them, else a plain random split."""
    rows = np.arange(n)
    if labels is not None:
        try:
            return train_test_split(rows, test_size=fraction, stratify=labels, random_state=seed)
        except ValueError:
            pass  # a class too small for either side: fall back to a plain split
    return train_test_split(rows, test_size=fraction, random_state=seed)


def given(est, X_val, y_val, sample_weight_val, dtype):
    """A scorer for the validation set passed to ``fit``.

    Parameters
    ----------
    est : estimator of the family
        Fitted far enough to know its features and targets (``n_features_in_``,
        ``classes_`` or ``n_outputs_``).
    X_val : {array-like, sparse matrix} of shape (n_val, n_features)
    y_val : array-like of shape (n_val,) or (n_val, n_outputs)
    sample_weight_val : array-like of shape (n_val,) or None
    dtype : dtype
        The model's dtype (float32 stays float32).

    Returns
    -------
    callable

    Raises
    ------
    ValueError
        If only one of ``X_val`` and ``y_val`` is given, they differ in length,
        have fewer than 2 rows, ``X_val`` has other features than ``X``, or
        ``y_val`` has other labels or outputs than ``y``.
    """
    if (X_val is None) != (y_val is None):
        given_name, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
        raise ValueError(f"{given_name} was passed without {missing}; pass both or neither.")
    if sample_weight_val is not None and X_val is None:
        raise ValueError("sample_weight_val was passed without X_val and y_val.")
    numeric = not hasattr(est, "classes_")
    if numeric:
        y_val = numeric_targets(y_val, "y_val")
    try:
        X_val, y_val = validate_data(
            est,
            X_val,
            y_val,
            reset=False,
            dtype=FLOATS,
            accept_sparse=("csr", "csc"),
            multi_output=True,
            y_numeric=numeric,
        )
    except ValueError as exc:
        raise ValueError(_named_validation_set(str(exc))) from exc
    if X_val.shape[0] < 2:  # as for a held-out split: R² is undefined on one row
        raise ValueError(
            f"X_val, y_val: {X_val.shape[0]} row, fewer than the 2 a validation score needs."
        )
    X_val = _data.as_dtype(X_val, dtype, training=True, name="X_val")
    try:
        y_val, Y_val = est._encode_validation(y_val)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y_val: {exc}") from exc
    Y_val = _data.as_dtype(np.asarray(Y_val), dtype, training=True, name="y_val")
    sw_val = None
    if sample_weight_val is not None:
        try:
            with np.errstate(over="ignore"):  # beyond X_val's float32: refused as infinite
                sw_val = check_sample_weight(sample_weight_val, X_val)
        except (TypeError, ValueError) as exc:
            message = str(exc).removeprefix("sample_weight: ")
            raise type(exc)(f"sample_weight_val: {message}") from exc
        check_weight_range(sw_val, "sample_weight_val")
    return scorer(est, X_val, y_val, Y_val, sw_val, "X_val, y_val")


def _named_validation_set(message):
    """scikit-learn's message about ``X``, ``y`` (e.g. ``"X has 3 features, ..."``,
    ``"Input y contains NaN"``) naming ``X_val``, ``y_val``, the arrays it is about;
    a message that names neither at its start is prefixed by both."""
    named = re.sub(r"^(Input )?([Xy])\b", r"\1\2_val", message)
    return named if named != message else f"X_val, y_val: {message}"
