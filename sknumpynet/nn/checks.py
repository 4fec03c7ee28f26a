"""Checks of what the NumPy core is given, each naming the argument at fault.

The core's classes call these where a user's value enters (a constructor, a
public method), so a typo or a wrong shape is named there instead of
surfacing as a bare ``KeyError``, a broadcast that silently gives a wrong
loss, or an index that ``np.take(mode="clip")`` quietly remaps.  What runs on
every training batch compares shapes only (:func:`batch_shape_error` builds
the message once they differ); what costs a pass over the rows runs once per
call (:func:`check_rows`).  The estimators validate their own inputs before
they reach the core, with messages in their own terms.
"""

import math
from numbers import Real

import numpy as np

from .activations import ACTIVATIONS
from .registry import lookup

DTYPES = (np.float32, np.float64)
"""The dtypes a network computes in: the estimators train in these two only;
float16 has too little range for the loss sums and integers cannot hold the
drawn weights."""


def real_number(value, name, allowed="", admits=lambda v: True):
    """``value`` as a float if it is a finite real scalar that ``admits``.

    Any real scalar counts (a NumPy scalar or 0-d array, a ``Decimal``): all
    ``float()`` reads exactly. Bools and strings do not.

    Parameters
    ----------
    value : object
    name : str
        The argument, for the message.
    allowed : str, default=""
        The range in words, e.g. ``" > 0"``.
    admits : callable, default=accepts any
        ``admits(float) -> bool``: whether the number is in range.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Naming ``name`` and ``allowed``.
    """
    number = None
    if not isinstance(value, (bool, np.bool_, str, bytes)) and np.ndim(value) == 0:
        try:
            number = float(value)
        except (TypeError, ValueError):  # complex, or not a number at all
            number = None
    if number is not None and math.isfinite(number) and admits(number):
        return number
    raise ValueError(f"{name} must be a finite real number{allowed}; got {value!r}.")


def _whole(n):
    """Whether ``n`` is a real number with an integral value (3, np.int8(3), 3.0)."""
    return isinstance(n, Real) and not isinstance(n, (bool, np.bool_)) and float(n).is_integer()


def layer_sizes(sizes):
    """``sizes`` as a list of Python ints >= 1, at least two of them.

    Parameters
    ----------
    sizes : sequence of int
        ``(n_features, n_hidden_1, ..., n_outputs)``; whole floats are read as ints.

    Returns
    -------
    list of int

    Raises
    ------
    ValueError
        Naming ``layer_sizes``.
    """
    try:
        values = list(sizes)
    except TypeError:
        values = []
    if len(values) < 2 or not all(_whole(n) and n >= 1 for n in values):
        raise ValueError(
            "layer_sizes must be at least 2 ints >= 1, (n_features, n_hidden_1, ..., "
            f"n_outputs); got {sizes!r}."
        )
    return [int(n) for n in values]


def dropout_rates(dropout, n_hidden):
    """One rate in ``[0, 1)`` per hidden layer.

    Parameters
    ----------
    dropout : float, sequence of float or None
        One rate for every hidden layer (a real scalar), one per hidden layer
        (a sequence of ``n_hidden``), or None (no dropout).
    n_hidden : int

    Returns
    -------
    list of float
        ``n_hidden`` rates.

    Raises
    ------
    ValueError
        Naming ``dropout``: a wrong count, or a rate that is not a real
        number in ``[0, 1)`` (1 drops every unit and divides by ``1 - p = 0``).
    """
    if dropout is None:
        return [0.0] * n_hidden
    scalar = np.ndim(dropout) == 0  # a string too, refused below as not a number
    try:
        rates = [dropout] * n_hidden if scalar else list(dropout)
    except TypeError:
        rates = None
    if rates is None:
        raise ValueError(
            f"dropout must be a number in [0, 1) or a sequence of {n_hidden} of them (one "
            f"per hidden layer); got {dropout!r}."
        )
    if len(rates) != n_hidden:
        raise ValueError(f"dropout needs one rate per hidden layer ({n_hidden}), got {len(rates)}.")
    try:
        return [real_number(p, "dropout", " in [0, 1)", lambda v: 0 <= v < 1) for p in rates]
    except ValueError:
        raise ValueError(
            f"dropout rates must be real numbers in [0, 1); got {dropout!r}."
        ) from None


def hidden_activations(names, n_hidden):
    """The :data:`~sknumpynet.nn.activations.ACTIVATIONS` entries of ``names``.

    Parameters
    ----------
    names : sequence of str
        One activation name per hidden layer.
    n_hidden : int

    Returns
    -------
    list of class

    Raises
    ------
    ValueError
        Naming ``activations``: a wrong count or an unknown name.
    """
    if len(names) != n_hidden:
        raise ValueError(
            f"activations needs one name per hidden layer ({n_hidden}), got {len(names)}."
        )
    return [lookup(ACTIVATIONS, name, "activations") for name in names]


def batch_shape_error(X, Y, sample_weight, n_inputs, n_outputs):
    """The ValueError for a batch whose shapes do not fit the network.

    Parameters
    ----------
    X, Y, sample_weight : objects
        The batch as given; at least one shape is wrong.
    n_inputs, n_outputs : int
        The network's first and last layer sizes.

    Returns
    -------
    ValueError
        Naming the first argument at fault and the shape it needs.
    """
    x_shape = getattr(X, "shape", None)
    y_shape = getattr(Y, "shape", None)
    if x_shape is None or x_shape[1:] != (n_inputs,):
        return ValueError(
            f"X must have shape (n_samples, {n_inputs}), layer_sizes[0] = {n_inputs} columns; "
            f"got {x_shape}."
        )
    m = x_shape[0]
    if not m:
        return ValueError("X has no rows: a batch needs at least one sample.")
    if y_shape != (m, n_outputs):
        hint = " (a 1-D Y needs Y[:, None])" if y_shape == (m,) and n_outputs == 1 else ""
        return ValueError(
            f"Y must have shape (n_samples, n_outputs) = ({m}, {n_outputs}), one row of "
            f"{n_outputs} encoded targets per row of X; got {y_shape}{hint}."
        )
    return ValueError(
        f"sample_weight must have shape (n_samples,) = ({m},), one weight per row of X; "
        f"got {getattr(sample_weight, 'shape', None)}."
    )


def check_weights(sample_weight):
    """Raise unless every weight is >= 0 (NaN fails too); one pass over them.

    Parameters
    ----------
    sample_weight : ndarray of shape (n_samples,) or None
    """
    if sample_weight is not None and sample_weight.size and not sample_weight.min() >= 0:
        raise ValueError("sample_weight must be non-negative and not NaN.")


def check_total(total):
    """Refuse a batch whose weights sum to 0 (or NaN): ``J`` divides by the sum.

    Parameters
    ----------
    total : float
    """
    if not total > 0:
        raise ValueError(
            f"sample_weight must have a positive sum over the batch; got {total}. Give some "
            "row a positive weight."
        )


def check_rows(X, Y, sample_weight, rows, name):
    """Check a call's data once, before its batches; return ``rows`` as an array (or None).

    The batches gather their rows with ``np.take(mode="clip")``, which would
    quietly read row 0 for a negative index and the last row for one past the
    end, and a boolean mask would be read as the row numbers 0 and 1; a ``Y``
    or ``sample_weight`` shorter than ``X`` would be clipped the same way.  So
    everything a batch cannot check in O(1) is checked here: a few passes over
    ``rows`` and the weights, none over ``X``.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    rows : array-like of int or None
        The rows to train on (None: all).
    name : str
        What ``rows`` was given as, for the messages.

    Returns
    -------
    ndarray of int or None

    Raises
    ------
    ValueError
        For shapes that disagree, a negative or NaN weight, no rows.
    IndexError
        For rows that are not integer row numbers of ``X``.
    """
    n = X.shape[0]
    y_shape = getattr(Y, "shape", None)
    if y_shape is None or len(y_shape) != 2 or y_shape[0] != n:
        raise ValueError(
            f"Y must have shape (n_samples, n_outputs), one row per row of X ({n}); got {y_shape}."
        )
    if sample_weight is not None:
        w_shape = getattr(sample_weight, "shape", None)
        if w_shape != (n,):
            raise ValueError(
                f"sample_weight must have shape (n_samples,) = ({n},), one weight per row "
                f"of X; got {w_shape}."
            )
        check_weights(sample_weight)
    if rows is None:
        if not n:
            raise ValueError("X has no rows to train on.")
        return None
    rows = np.asarray(rows)
    if rows.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of row numbers; got shape {rows.shape}.")
    if rows.dtype.kind not in "iu":
        hint = " (for a boolean mask, pass np.flatnonzero(mask))" if rows.dtype.kind == "b" else ""
        raise IndexError(f"{name} must hold integer row numbers; got dtype {rows.dtype}{hint}.")
    if not len(rows):
        raise ValueError(f"{name} is empty: no rows to train on.")
    low, high = rows.min(), rows.max()
    if low < 0 or high >= n:
        raise IndexError(
            f"{name} must be row numbers in [0, {n}), the rows of X; got values from {low} "
            f"to {high}."
        )
    return rows
