"""ScratchMLPRegressor: what a regressor adds to the shared base.

Real-valued targets (one or several outputs), the choice of loss (half squared
error with identity outputs, or half Poisson deviance with exponential
outputs), predictions, R² as the validation score, and the regressor's tags.
Fitting, training and persistence are the base's and the engine's.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import issparse
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import column_or_1d

from ._base import ScratchMLPBase
from ._docstrings import compose
from .nn import HEADS, REGRESSION_LOSSES


@dataclass(eq=False, repr=False, kw_only=True)
class ScratchMLPRegressor(RegressorMixin, ScratchMLPBase):
    __doc__ = compose(
        """
        Multi-layer perceptron regressor written from scratch in NumPy.

        The counterpart of scikit-learn's ``MLPRegressor`` on the same NumPy core
        as :class:`ScratchMLPClassifier`: any depth, every activation,
        initialisation and optimizer, one or several outputs. Dense or sparse
        (CSR/CSC) inputs in float32 are trained and predicted in float32; any
        other numeric input in float64.
        """,
        parameters="""
        loss : {"squared_error", "poisson"}, default="squared_error"
            ``"squared_error"``: half the squared error, summed over the outputs,
            with identity outputs. ``"poisson"``: half the Poisson deviance with a
            log link, so the network predicts ``exp(z)``; ``y`` must be >= 0 with
            a positive sum in every output.
        """,
        attributes="""
        out_activation_ : str
            ``"identity"`` (squared_error) or ``"exp"`` (poisson).
        """,
        examples="""
        >>> from sklearn.datasets import load_diabetes
        >>> from sklearn.preprocessing import scale
        >>> from sknumpynet import ScratchMLPRegressor
        >>> X, y = load_diabetes(return_X_y=True)
        >>> reg = ScratchMLPRegressor(optimizer="lbfgs", max_iter=50, random_state=0)
        >>> reg.fit(scale(X), scale(y)).score(scale(X), scale(y)) > 0.5
        True
        """,
    )

    loss: str = "squared_error"

    _string_options = {"loss": REGRESSION_LOSSES}

    def _targets(self, y, *, fresh, partial, classes=None):
        """Targets as a 2-D float array; return ``(y, Y, head)``."""
        if issparse(y):
            y = y.toarray()  # the targets are trained on dense in any case
        if y.dtype.kind not in "biuf":
            # scikit-learn turns object arrays of numbers into floats; strings stay.
            raise ValueError(f"y must hold numbers for a regressor; got dtype {y.dtype}.")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # MLPRegressor's DataConversionWarning
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if not fresh and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} outputs; the model was fitted with {self.n_outputs_}."
            )
        head_name = REGRESSION_LOSSES[self.loss]
        if getattr(HEADS[head_name], "non_negative_targets", False):
            # In float64: integer counts would wrap, and a float sum may pass the
            # largest float (inf is a positive sum all the same).
            with np.errstate(over="ignore"):
                sums = Y.sum(axis=0, dtype=np.float64)
            if not ((Y >= 0).all() and (partial or (sums > 0).all())):
                raise ValueError(
                    f"loss={self.loss!r} needs y >= 0 with a positive sum in every output; "
                    f"got minimum {Y.min():.4g} and output sums {sums.tolist()}."
                )
        return y, Y, head_name

    def _encode_validation(self, y):
        """``(y, Y)`` for a validation set with the outputs of the fit."""
        y, Y, _ = self._targets(y, fresh=False, partial=True)
        return y, Y

    def _check_training_weights(self, y, sw, what):
        if not sw.any():
            raise ValueError(f"{what} no sample with a positive weight.")

    def _stratify(self, y):
        return None

    def _predict_from_logits(self, Z):
        P = HEADS[self.out_activation_].predict(Z)
        if not np.isfinite(P).all():
            self._refuse_not_a_number(P)
            # Overflow: the largest float of the sign, as the classifier clips its logits.
            big = np.finfo(P.dtype).max
            np.clip(P, -big, big, out=P)
        return P.ravel() if P.shape[1] == 1 else P

    def _refuse_not_a_number(self, P):
        rows = np.flatnonzero(np.isnan(P).any(axis=1))
        if rows.size:
            raise ValueError(
                f"The predictions of {rows.size} rows of X (e.g. rows {rows[:5].tolist()}) are "
                f"not a number: their features are so far outside the training data that "
                f"the network's {P.dtype} arithmetic overflows. Scale X as the training data "
                "was scaled (e.g. with the StandardScaler fitted on it)."
            )

    _validation_metric = staticmethod(r2_score)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        head = HEADS.get(REGRESSION_LOSSES.get(self.loss)) if isinstance(self.loss, str) else None
        tags.target_tags.positive_only = getattr(head, "non_negative_targets", False)
        return tags
