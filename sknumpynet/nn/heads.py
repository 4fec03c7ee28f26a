"""Output heads: the last activation fused with its loss.

A head turns the logits ``Z`` of shape ``(n_samples, n_outputs)`` into unit
outputs ``P`` and scores them against a target ``Y`` of the same shape (an
indicator matrix for the classification heads, real values for the
regression heads).  Losses are computed from the logits, never from ``P``, so
no ``log(0)`` can occur for any finite ``Z``:

sigmoid (binary cross-entropy, summed over the units)
    ``loss = sum_k softplus(z_k) - y_k z_k`` with ``softplus = logaddexp(0, .)``.
    One unit for binary targets, one per label for multilabel targets and one
    one-vs-rest unit per class for multiclass targets.

softmax (categorical cross-entropy)
    ``loss = logsumexp(z) - sum_k y_k z_k``, each row shifted by its target
    logit ``sum_k y_k z_k`` before exponentiating (by its maximum instead
    where that shift would overflow; see :meth:`SoftmaxHead.forward_loss`).

identity (half squared error, ``loss="squared_error"``)
    ``P = Z`` and ``loss = sum_k (z_k - y_k)**2 / 2``.

exp (half Poisson deviance, ``loss="poisson"``)
    ``P = exp(Z)`` (log link) and
    ``loss = sum_k exp(z_k) - y_k z_k + y_k log(y_k) - y_k``, which is zero
    where ``exp(z) = y``; ``y`` must be >= 0.

Every head here has the same output delta ``dloss/dZ = P - Y``
(:meth:`Head.output_delta`, which a head may override): each loss is paired
with its canonical link, whose derivative cancels the loss's own
(``sigma' = P(1-P)`` against ``d BCE/dP = (P-Y)/(P(1-P))``; the softmax
Jacobian against ``-Y/P``; ``exp' = P`` against ``1 - Y/P``), so the backward
pass starts from ``P - Y`` without ever dividing by ``P``.

Like an activation, each head names the initializer of the output layer under
``init="auto"`` as ``default_init``: ``glorot_uniform`` for every head.

To add a head, subclass :class:`Head` after the ones here (its loss, unit
outputs and, for a classification head, ``log_proba``; for a regression head,
``predict`` and its ``loss`` name) and add one entry to :data:`HEADS`: the
classifier's ``head`` (a ``classification`` head) or the regressor's ``loss``
(:data:`REGRESSION_LOSSES`, by the head's ``loss``) then accepts it.
"""

import numpy as np
from scipy.special import xlogy

from .activations import sigmoid
from .registry import Names, Table


def _log_sigmoid(Z):
    """``log(sigmoid(Z)) = -softplus(-Z)``, finite for every finite ``Z``."""
    return -np.logaddexp(0, -Z)


def finite_logits(Z):
    """``Z`` itself if finite and within a quarter of the dtype's range, else a copy
    with NaN as 0 and values clipped to that range.

    Logits overflow to inf, and ``inf - inf`` to NaN, only for inputs far
    outside anything a network was trained on.  Clipped logits keep every log
    probability finite and every probability row summing to 1; the quarter of
    the largest float leaves room for the differences and sums of
    :func:`_log_normalize`.  A NaN logit carries no evidence, hence 0.
    """
    bound = np.finfo(Z.dtype).max / 4
    # Fast path for the usual case (a NaN makes the comparison False): nan_to_num
    # is slow on small arrays, which single-row predictions pay on every call.
    if not Z.size or np.abs(Z).max() <= bound:
        return Z
    return np.nan_to_num(np.clip(Z, -bound, bound), copy=False, nan=0.0)


def _log_normalize(L):
    """Subtract ``logsumexp`` of each row: rows of ``exp(L)`` then sum to 1."""
    # Shift first, then subtract the small log of the sum: adding that log to a
    # large shift (and subtracting it back) would round it away, and float32
    # rows of large logits would no longer sum to 1. After the shift a row's
    # sum is 1 + r, r the sum over all but one of its largest entries (each
    # exp(0) = 1): log1p(r) keeps the digits of a probability close to 1 that
    # the log of a sum rounded near 1 loses.
    top = L.argmax(axis=1) + np.arange(0, L.size, L.shape[1])  # flat: cheapest to index
    L = L - L.ravel()[top][:, None]
    E = np.exp(L)
    E.ravel()[top] = 0.0  # E is new and contiguous: ravel() is a view
    L -= np.log1p(E.sum(axis=1, keepdims=True))
    return L


_ROW_SUM_CONSTANTS = {}


def _row_sum_constants(n_outputs, dtype):
    """A vector of ``n_outputs`` ones and the largest shifted logit whose exp,
    summed ``n_outputs`` times, stays finite; cached per size and dtype."""
    key = (n_outputs, np.dtype(dtype))
    if key not in _ROW_SUM_CONSTANTS:
        limit = float(np.log(np.finfo(dtype).max / n_outputs)) - 1.0
        _ROW_SUM_CONSTANTS[key] = (np.ones(n_outputs, dtype=dtype), limit)
    return _ROW_SUM_CONSTANTS[key]


class Head:
    """What every head shares: its output delta.

    A head is a class with static methods: ``forward_loss(Z, Y, P)`` fills
    ``P`` with the unit outputs and returns each sample's loss, computed from
    the logits; ``output_delta(P, Y)`` turns ``P`` into ``dloss/dZ``.  A new
    loss whose link is not canonical overrides ``output_delta``; the network
    calls whatever its head provides.
    """

    @staticmethod
    def output_delta(P, Y):
        """``dloss/dZ``, written into ``P``: ``P - Y`` for a canonical link.

        Parameters
        ----------
        P : ndarray of shape (n_samples, n_outputs)
            Head outputs; overwritten.
        Y : ndarray of shape (n_samples, n_outputs)
            Encoded targets.

        Returns
        -------
        ndarray
            ``P`` holding the delta.
        """
        # Fused head and loss: the link's derivative cancels the loss's own
        # (module docstring), so no division by P is ever needed.
        P -= Y
        return P


class SigmoidHead(Head):
    """Independent logistic units with binary cross-entropy."""

    default_init = "glorot_uniform"
    classification = True
    supports_multilabel = True

    @staticmethod
    def n_outputs(n_columns):
        """Units for an indicator target with ``n_columns`` columns."""
        return n_columns

    @staticmethod
    def encode(Y):
        """Targets for this head from an indicator matrix ``Y``, (n, n_columns)."""
        return Y

    @staticmethod
    def forward_loss(Z, Y, P):
        """Fill ``P`` with unit outputs and return the loss of each sample.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_outputs)
            Logits.
        Y : ndarray of shape (n_samples, n_outputs)
            0/1 targets.
        P : ndarray of shape (n_samples, n_outputs)
            Output buffer for ``sigmoid(Z)``; may be ``Z`` itself.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``sum_k logaddexp(0, z_k) - y_k z_k``.
        """
        loss = np.logaddexp(0, Z)
        loss -= Y * Z
        sigmoid(Z, out=P)
        return loss.sum(axis=1)

    @staticmethod
    def log_proba(Z, multilabel):
        """Log class probabilities from logits.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_outputs)
            Logits.
        multilabel : bool
            If True, each column is its own label and is returned as
            ``log sigmoid(z)``.  Otherwise one unit means a binary problem,
            returned as two columns (``log sigmoid(-z)``, ``log sigmoid(z)``),
            and several units are one-vs-rest scores normalised so each row's
            probabilities sum to 1.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Finite for any ``Z``, even with inf or NaN entries.
        """
        Z = finite_logits(Z)
        with np.errstate(under="ignore"):
            if multilabel:
                return _log_sigmoid(Z)
            if Z.shape[1] == 1:
                return np.hstack([_log_sigmoid(-Z), _log_sigmoid(Z)])
            return _log_normalize(_log_sigmoid(Z))


class SoftmaxHead(Head):
    """Softmax over all units with categorical cross-entropy."""

    default_init = "glorot_uniform"
    classification = True
    supports_multilabel = False

    @staticmethod
    def n_outputs(n_columns):
        """Units for an indicator target with ``n_columns`` columns.

        A binary target arrives as one column and gets two units.
        """
        return max(n_columns, 2)

    @staticmethod
    def encode(Y):
        """Targets for this head: a binary ``Y`` of one column becomes two."""
        return np.hstack([1 - Y, Y]) if Y.shape[1] == 1 else Y

    @staticmethod
    def forward_loss(Z, Y, P):
        """Fill ``P`` with ``softmax(Z)`` and return the loss of each sample.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_outputs)
            Logits.
        Y : ndarray of shape (n_samples, n_outputs)
            One-hot targets (rows of class probabilities work too).
        P : ndarray of shape (n_samples, n_outputs)
            Output buffer for the probabilities; may be ``Z`` itself.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``logsumexp(z) - sum_k y_k z_k``.
        """
        ones, limit = _row_sum_constants(Z.shape[1], Z.dtype)
        # Each row is shifted by its target logit t = y.z (computed first: P may
        # be the buffer of Z): the loss is then log(sum_k exp(z_k - t)), with
        # no cancellation and a sum >= 1 (the target's own term is exp(0)),
        # and neither a row maximum nor its reduction along the rows' short
        # axis is needed; row sums are one matrix-vector product.  Only where
        # a logit exceeds its row's target by so much that exp would overflow
        # (or is NaN) are the rows shifted by their maxima instead.
        target = np.matmul(np.multiply(Y, Z), ones)
        shift = target
        np.subtract(Z, target[:, None], out=P)
        if not P.max() < limit:
            P += target[:, None]  # the logits again, to within a rounding
            shift = np.max(P.T.copy(), axis=0)
            P -= shift[:, None]
        np.exp(P, out=P)
        total = np.matmul(P, ones)
        P /= total[:, None]
        # logsumexp(z) - t = log(total) + shift - t.
        loss = np.log(total, out=total)
        if shift is not target:
            loss += shift - target
        return loss

    @staticmethod
    def log_proba(Z, multilabel=False):
        """Log softmax of the logits.

        Finite for any ``Z``, even with inf or NaN entries.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_outputs)
            Logits.
        multilabel : bool, default=False
            Unused: the softmax head never fits multilabel targets (the
            argument keeps every head's signature alike).

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        with np.errstate(under="ignore"):
            return _log_normalize(finite_logits(Z))


class IdentityHead(Head):
    """Linear outputs with half the squared error (regression)."""

    default_init = "glorot_uniform"
    classification = False
    loss = "squared_error"

    @staticmethod
    def forward_loss(Z, Y, P):
        """Fill ``P`` with ``Z`` and return ``sum_k (z_k - y_k)**2 / 2`` per sample.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_outputs)
            Logits, which are the predictions.
        Y : ndarray of shape (n_samples, n_outputs)
            Targets.
        P : ndarray of shape (n_samples, n_outputs)
            Output buffer; may be ``Z`` itself.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        R = Z - Y
        loss = np.einsum("ij,ij->i", R, R)
        loss *= 0.5
        if P is not Z:
            P[...] = Z
        return loss

    @staticmethod
    def predict(Z):
        """Predictions from logits: ``Z`` itself, shape (n_samples, n_outputs)."""
        return Z


class ExpHead(Head):
    """Exponential outputs (log link) with half the Poisson deviance (regression)."""

    default_init = "glorot_uniform"
    classification = False
    loss = "poisson"
    non_negative_targets = True

    @staticmethod
    def forward_loss(Z, Y, P):
        """Fill ``P`` with ``exp(Z)`` and return the half Poisson deviance per sample.

        Parameters
        ----------
        Z : ndarray of shape (n_samples, n_outputs)
            Logits: the log of the predicted means.
        Y : ndarray of shape (n_samples, n_outputs)
            Non-negative targets.
        P : ndarray of shape (n_samples, n_outputs)
            Output buffer for ``exp(Z)``; may be ``Z`` itself.

        Returns
        -------
        ndarray of shape (n_samples,)
            ``sum_k exp(z_k) - y_k z_k + y_k log(y_k) - y_k`` (``0 log 0 = 0``);
            inf where ``exp(z)`` overflows.
        """
        # -y z before P may overwrite Z; xlogy(y, y) - y is the deviance's
        # constant, which makes a perfect fit score 0 (as scikit-learn reports).
        loss = xlogy(Y, Y)
        loss -= Y
        loss -= Y * Z
        np.exp(Z, out=P)
        loss += P
        return loss.sum(axis=1)

    @staticmethod
    def predict(Z):
        """Predicted means ``exp(Z)``, shape (n_samples, n_outputs).

        Means beyond the largest float are clipped to it and means that
        underflow to 0 to the smallest normal float, so the predictions stay
        finite and positive (as a Poisson mean must be, and as
        :func:`sklearn.metrics.mean_poisson_deviance` requires).
        """
        with np.errstate(over="ignore", under="ignore"):
            P = np.exp(Z)
        info = np.finfo(P.dtype)
        return np.clip(P, info.tiny, info.max, out=P)


HEADS = {
    "sigmoid": SigmoidHead,
    "softmax": SoftmaxHead,
    "identity": IdentityHead,
    "exp": ExpHead,
}
"""Registry of output heads by name; ``classification`` tells which estimator
uses each."""

REGRESSION_LOSSES = Table(
    lambda: {head.loss: name for name, head in HEADS.items() if not head.classification}
)
"""The regression heads by the name of their loss: ``{"squared_error": "identity",
"poisson": "exp"}``, from :data:`HEADS` on every use (a regression head
registered later, with its ``loss`` name, is in it)."""

CLASSIFICATION_HEADS = Names(lambda: [name for name, head in HEADS.items() if head.classification])
"""The classification heads by name: the ``head`` values of the classifier
besides ``"auto"``."""
