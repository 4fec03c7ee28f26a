"""ScratchMLPClassifier: what a classifier adds to the shared base.

Targets and their encoding (labels, multilabel indicators), the choice of the
sigmoid or softmax head, probabilities and labels, accuracy as the
validation score, and the classifier's tags.  Fitting, training and
persistence are the base's and the engine's.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix, issparse
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from ._base import ScratchMLPBase
from ._docstrings import compose
from ._sklearn_compat import balanced_class_weight
from ._validation import check_class_weight
from .nn import CLASSIFICATION_HEADS, HEADS
from .nn.heads import finite_logits
from .nn.registry import Names


def _check_weighted_classes(y, sw, what):
    """Raise unless samples of at least 2 classes have a positive weight."""
    kept = unique_labels(y[sw > 0]) if sw.any() else np.array([])
    if len(kept) < 2:
        found = f"only one class ({kept.tolist()[0]!r})" if len(kept) else "no class"
        raise ValueError(f"{what} {found} with a positive weight; at least 2 classes are needed.")


def _check_label_types(labels, name):
    """Raise what sorting the labels cannot say clearly: a NaT, or mixed types.

    NaT compares with nothing, so labels holding one sort in any order (and
    would be encoded to the wrong units); scikit-learn calls an object array
    whose first label is not a string "unknown", a regression target.
    """
    labels = np.asarray(labels)
    if labels.dtype.kind in "mM" and np.isnat(labels).any():
        raise ValueError(f"{name} contains NaT (a missing date or time).")
    if labels.dtype == object and labels.ndim == 1:
        others = {type(label).__name__ for label in labels if not isinstance(label, str)}
        if others and any(isinstance(label, str) for label in labels):
            raise TypeError(
                f"{name} must hold labels of one type (all strings, or all numbers); got "
                f"strings and {sorted(others)}."
            )


def _checked_classes(classes):
    """``unique_labels(classes)``, its errors naming ``classes``."""
    _check_label_types(classes, "classes")  # its own message names classes
    try:
        with np.errstate(invalid="ignore"):  # NaN labels are refused by the check
            return unique_labels(classes)
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            "classes must be an array-like of labels of one type (all strings, or all "
            f"numbers, none missing); {exc}"
        ) from None


def _check_label_columns(classes, columns):
    """Raise unless ``classes`` is None or names a multilabel y's columns."""
    if classes is not None and not np.array_equal(_checked_classes(classes), columns):
        raise ValueError(
            "For a multilabel y, classes must be None or the column indices "
            f"{columns.tolist()}; got {np.asarray(classes).tolist()}."
        )


@dataclass(eq=False, repr=False, kw_only=True)
class ScratchMLPClassifier(ClassifierMixin, ScratchMLPBase):
    __doc__ = compose(
        """
        Multi-layer perceptron classifier written from scratch in NumPy.

        A dense network of any depth trained by backpropagation with one of seven
        optimizers, a sigmoid or softmax output head and an L2 penalty. Dense or
        sparse (CSR/CSC) inputs in float32 are trained and predicted in float32;
        any other numeric input in float64.
        """,
        parameters="""
        head : {"auto", "sigmoid", "softmax"}, default="auto"
            Output layer and loss. ``"sigmoid"``: binary cross-entropy on one unit
            (binary), one unit per label (multilabel) or one-vs-rest units
            (multiclass). ``"softmax"``: categorical cross-entropy. ``"auto"`` is
            softmax for multiclass targets and sigmoid otherwise.
        class_weight : dict, "balanced" or None, default=None
            Weights of the classes, multiplied into ``sample_weight``: a dict
            ``{label: weight}`` (labels left out weigh 1), ``"balanced"``
            (``n_samples / (n_classes * bincount(y))``, with the rows counted by
            their ``sample_weight``, as
            :func:`~sklearn.utils.class_weight.compute_class_weight`) or None.
            ``"balanced"`` is refused by ``partial_fit``, which sees one chunk's
            counts only; not for multilabel targets.
        """,
        attributes="""
        classes_ : ndarray of shape (n_classes,)
            Class labels (``arange(n_labels)`` for multilabel targets).
        multilabel_ : bool
            Whether ``y`` was a multilabel indicator matrix (each sigmoid unit is
            its own label) rather than single labels (one unit for binary targets,
            one-vs-rest sigmoid or softmax units for multiclass ones).
        out_activation_ : str
            The head: ``"sigmoid"`` or ``"softmax"``.
        """,
        examples="""
        >>> from sklearn.datasets import load_digits
        >>> from sknumpynet import ScratchMLPClassifier
        >>> X, y = load_digits(return_X_y=True)
        >>> clf = ScratchMLPClassifier(max_iter=30, random_state=0).fit(X / 16, y)
        >>> clf.score(X / 16, y) > 0.95
        True
        """,
    )

    head: str = "auto"
    class_weight: dict | str | None = None

    _string_options = {"head": Names(lambda: ("auto", *CLASSIFICATION_HEADS))}

    @available_if(ScratchMLPBase._can_partial_fit)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one epoch on ``(X, y)``, keeping weights and optimizer state.

        A call that raises, Ctrl-C (``KeyboardInterrupt``) included, is undone:
        weights, optimizer state and records stay those of the last completed call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data of this call; CSR or CSC matrices are never
            densified. Its columns must be those of the first call.
        y : {array-like, sparse matrix} of shape (n_samples,) or (n_samples, n_labels)
            Class labels, each one of ``classes``, or a multilabel indicator
            matrix of 0s and 1s (dense or sparse).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each sample's loss is weighted by it.
        classes : array-like of shape (n_classes,), default=None
            Every class label; required on the first call. For a multilabel
            ``y``: None or its column indices ``0, ..., n_labels - 1``.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._fit(X, y, sample_weight, partial=True, classes=classes)

    # ---- targets -------------------------------------------------------

    @staticmethod
    def _label_kind(y):
        """``(y, multilabel)``: 1-D labels or a multilabel indicator matrix, else raise.

        A sparse ``y`` must be an indicator matrix; it is returned dense (one
        column per label: no larger than the encoded targets training needs).
        """
        if issparse(y):
            if type_of_target(y, input_name="y") != "multilabel-indicator":
                raise ValueError(
                    "A sparse y must be a multilabel indicator matrix of 0s and 1s; pass "
                    "other targets as a dense array."
                )
            y = y.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        _check_label_types(y, "y")
        try:
            kind = type_of_target(y, input_name="y")
        except TypeError as exc:
            if "not supported between" not in str(exc):
                raise  # scikit-learn's own message, e.g. for bytes labels
            # NumPy cannot sort labels of mixed types.
            raise TypeError(
                f"y must hold labels of one type (all strings, or all numbers); {exc}"
            ) from None
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            check_classification_targets(y)  # scikit-learn's own message for regression targets
            raise ValueError(
                "y must be 1-D class labels or a 0/1 multilabel indicator matrix; "
                f"got a {kind} target."
            )
        if kind == "multilabel-indicator" and not np.isin(y, (0, 1)).all():
            # type_of_target calls any 2-D matrix of two integer values an
            # indicator; its values would be trained on as the targets of
            # sigmoid units (a cross-entropy of -1 or 2 is no loss at all).
            raise ValueError(
                "A 2-D y must be a multilabel indicator matrix of 0s and 1s (one column "
                f"per label); got the values {np.unique(y).tolist()}."
            )
        return y, kind == "multilabel-indicator"

    def _encode(self, y, multilabel, head_name):
        """Indicator targets for the head, as ``label_binarize(y, classes=classes_)``.

        The labels are checked against ``classes_`` (sorted) before, so each
        one's column is its ``searchsorted`` index (two classes give one column,
        for the second). ``label_binarize`` itself re-validates its input, which
        would be most of the overhead of a small ``partial_fit`` call.
        """
        if multilabel:
            Y = y
        else:
            index = np.searchsorted(self.classes_, y)
            columns = np.arange(len(self.classes_)) if len(self.classes_) > 2 else 1
            Y = index[:, None] == columns
        return HEADS[head_name].encode(np.asarray(Y, dtype=float))

    def _targets(self, y, *, fresh, partial, classes):
        """Validate labels, set ``classes_`` on a fresh call; return ``(y, Y, head)``."""
        if fresh:  # predictions take the format of y, as MLPClassifier's do
            self._sparse_targets = issparse(y)
        if not fresh and y.ndim == 1 and not self.multilabel_:
            # Later calls of a single-label model: checking every label against
            # classes_ (below) is the whole validation, without type_of_target's
            # fixed cost, which a stream would pay on every chunk.
            multilabel = False
        else:
            y, multilabel = self._label_kind(y)
        if fresh:
            self._set_classes(y, classes, multilabel, partial)
        else:
            self._check_classes(y, classes, multilabel, every_class=not partial)
        if fresh and classes is not None and not multilabel:
            # Labels outside `classes` would be encoded as all-zero rows and
            # silently trained on as no class.
            self._check_classes(y, None, multilabel, every_class=False)
        head_name = self.head
        if head_name == "auto":
            head_name = "softmax" if len(self.classes_) > 2 and not multilabel else "sigmoid"
        if multilabel and not HEADS[head_name].supports_multilabel:
            raise ValueError(f"head={self.head!r} cannot fit multilabel targets; use 'sigmoid'.")
        return y, self._encode(y, multilabel, head_name), head_name

    def _encode_validation(self, y):
        """``(y, Y)`` for a validation set: the labels of the fit, encoded alike."""
        y, multilabel = self._label_kind(y)
        self._check_classes(y, None, multilabel, every_class=False)
        return y, self._encode(y, multilabel, self.out_activation_)

    def _weigh_samples(self, y, sw, partial, dtype):
        """``sample_weight`` times the weight of each sample's class (``class_weight``)."""
        if self.class_weight is None:
            return sw
        if self.multilabel_:
            raise ValueError("class_weight is not supported for multilabel targets; use None.")
        check_class_weight(self.class_weight, self.classes_, partial)
        if sw is not None and isinstance(self.class_weight, str):  # "balanced"
            # Weighted class counts, so that a row of weight 0 is a row left out
            # (as in LogisticRegression). Such rows are left out of the counts:
            # a class whose rows all weigh 0 would weigh infinitely.
            kept = sw > 0
            classes = np.unique(y[kept])
            # Scaled by the largest: the class weights are the same, and sums of
            # weights near the float range do not overflow.
            weights = balanced_class_weight(classes, y[kept], sw[kept] / sw.max())
            per_sample = np.zeros_like(sw)
            per_sample[kept] = weights[np.searchsorted(classes, y[kept])]
        else:
            if isinstance(self.class_weight, str):  # "balanced", unweighted rows
                weights = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
            else:
                # Each class's value, found as check_class_weight matched the
                # keys: compute_class_weight reads every label with int() first,
                # so the label '2' missed the key '2' and a date failed.
                weights = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_])
            per_sample = weights[np.searchsorted(self.classes_, y)]
        # A weight or product beyond the dtype's range becomes inf here, which
        # the weights' range check names (not numpy's overflow warning).
        with np.errstate(over="ignore"):
            per_sample = per_sample.astype(dtype, copy=False)
            return per_sample if sw is None else sw * per_sample

    def _set_classes(self, y, classes, multilabel, partial):
        # A multilabel target names every label by its columns already.
        if partial and classes is None and not multilabel:
            raise ValueError(
                "classes must be passed on the first call to partial_fit, by keyword "
                "(classes=...): its arguments are (X, y, sample_weight, classes), in "
                "MLPClassifier's order."
            )
        self.multilabel_ = multilabel
        if multilabel:
            self.classes_ = np.arange(y.shape[1])
            _check_label_columns(classes, self.classes_)
            return
        if classes is None:
            self.classes_ = unique_labels(y)
        else:
            self.classes_ = _checked_classes(classes)
        if len(self.classes_) < 2:
            source = "the data contains" if classes is None else "classes holds"
            found = "only one class" if len(self.classes_) else "no class"
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; "
                f"{source} {found}: {self.classes_.tolist()}."
            )

    def _check_classes(self, y, classes, multilabel, *, every_class):
        """Raise unless ``y`` (and ``classes``) fit ``classes_``; with ``every_class``
        (a warm-started fit) ``y`` must hold every class."""
        if multilabel != self.multilabel_:
            kind = "multilabel" if self.multilabel_ else "single-label"
            raise ValueError(f"y must be {kind} like the targets of the previous fit.")
        if multilabel:
            if len(self.classes_) != y.shape[1]:
                raise ValueError(
                    f"y has {y.shape[1]} label columns; the model was fitted with "
                    f"{len(self.classes_)}."
                )
            _check_label_columns(classes, self.classes_)
            return
        if classes is not None and not (
            np.array_equal(classes, self.classes_)  # as passed to every call of a stream
            or np.array_equal(_checked_classes(classes), self.classes_)
        ):
            raise ValueError(
                f"classes {np.asarray(classes).tolist()} differ from classes_ "
                f"{self.classes_.tolist()} of the fitted model."
            )
        # classes_ is sorted, so a known label is where searchsorted puts it
        # (a tenth of the time of setdiff1d, which sorts y: a stream of
        # partial_fit calls checks every chunk).
        try:
            at = np.minimum(np.searchsorted(self.classes_, y), len(self.classes_) - 1)
        except TypeError:  # labels that do not compare with classes_, e.g. a None
            self._label_kind(y)  # scikit-learn's own message for such targets
            raise ValueError(
                f"y contains labels that do not compare with classes_ {self.classes_.tolist()}."
            ) from None
        unseen = y[self.classes_[at] != y]
        if unseen.size:
            raise ValueError(
                f"y contains labels not in classes_ {self.classes_.tolist()}: "
                f"{np.unique(unseen).tolist()}."
            )
        if every_class and len(labels := np.unique(y)) != len(self.classes_):
            raise ValueError(
                "warm_start can only be used where y has the same classes as the "
                f"previous fit: classes_ is {self.classes_.tolist()}, y has "
                f"{labels.tolist()}. Set warm_start=False to start anew."
            )

    def _check_training_weights(self, y, sw, what):
        if not self.multilabel_:
            _check_weighted_classes(y, sw, what)
        elif not sw.any():
            raise ValueError(f"{what} no sample with a positive weight.")

    def _stratify(self, y):
        return None if self.multilabel_ else y

    _validation_metric = staticmethod(accuracy_score)

    # ---- prediction ------------------------------------------------------

    def _log_proba_from_logits(self, Z):
        return HEADS[self.out_activation_].log_proba(Z, self.multilabel_)

    def _predict_from_logits(self, Z):
        # The decision rule itself, on the logits the probabilities come from:
        # p > 1/2 exactly where z > 0, and the largest logit has the largest
        # probability. Rounded probabilities (or log-probabilities) can tie
        # where the logits do not.
        Z = finite_logits(Z)
        if self.multilabel_:
            return (Z > 0).astype(int)
        if Z.shape[1] == 1:  # one sigmoid unit: the second class where z > 0
            return self.classes_[(Z[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(Z, axis=1)]

    def predict(self, X):
        """Predict class labels with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        ndarray or CSR matrix of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_``; for multilabel targets a 0/1 indicator
            matrix of shape (n_samples, n_labels): a CSR matrix when the model
            was fitted on a sparse ``y`` (the ``y`` of ``fit``, or of the first
            ``partial_fit`` call), as ``MLPClassifier`` returns, otherwise an
            ndarray.
        """
        P = super().predict(X)
        return csr_matrix(P) if self.multilabel_ and self._sparse_targets else P

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits.

        Computed as a log-sigmoid or log-softmax of the logits, not as
        ``log(predict_proba(X))``: always finite, and precise where a
        probability is close to 1 (``log(p)`` of a rounded ``p`` is not).
        ``exp`` of it is exactly :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Between ``log(np.finfo(dtype).tiny)`` and the log of the largest
            float below 1 (about ``-708`` and ``-1.1e-16`` in float64).
        """
        L = self._log_proba_from_logits(self._logits(self._validated_X(X)))
        # A finite logit never means a probability of exactly 0 or 1, but exp
        # rounds one closer to 0 than `tiny`, or closer to 1 than the float just
        # below 1, to 0 or 1. Rounded toward the inside instead, predict_proba
        # (exp of this) stays strictly in (0, 1), as scikit-learn's check of
        # multilabel probabilities asks, and log(predict_proba) equals this. The
        # labels are left alone: predict reads the unrounded log-probabilities.
        bounds = np.log([np.finfo(L.dtype).tiny, np.nextafter(L.dtype.type(1), 0)])
        return np.clip(L, *bounds.astype(L.dtype), out=L)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Rows sum to 1 (binary targets give two columns even with one
            sigmoid unit). For multilabel targets, column ``k`` is the
            probability of label ``k`` on its own. Every entry lies strictly
            between 0 and 1: a probability closer to 1 than the largest float
            below 1 is that float, one closer to 0 than the smallest normal
            float (``np.finfo(dtype).tiny``) is that float.
        """
        log_proba = self.predict_log_proba(X)
        with np.errstate(under="ignore"):
            return np.exp(log_proba)

    def __setstate__(self, state):
        # Before 0.3 the flag was private; a model pickled then still predicts.
        state = dict(state)
        if "_multilabel" in state:
            state["multilabel_"] = state.pop("_multilabel")
        state.setdefault("_sparse_targets", False)
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        # Multilabel indicators, not multiclass-multioutput targets (the tag's
        # meaning for a classifier), as MLPClassifier.
        tags.target_tags.multi_output = False
        return tags
