"""ScratchMLPClassifier: the scikit-learn adapter over :mod:`sknumpynet.nn`.

This module does validation, label encoding, wiring and prediction; every
piece of math lives in :mod:`sknumpynet.nn`.
"""

import math
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import label_binarize
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._sklearn_compat import check_sample_weight
from ._validation import FLOATS, checking_input, validate_hyperparameters
from ._version import __version__
from .exceptions import DivergenceWarning, InconsistentVersionWarning, TrainingInterruptedWarning
from .nn import (
    HEADS,
    MLP,
    OPTIMIZERS,
    Diverged,
    Trainer,
    deferred_interrupt,
    forward_logits,
    probe_objective,
)

# A batch loss this many times the loss at the starting weights (or of a
# uniform prediction, if larger) counts as divergence: sound training stays
# near or below both, an exploding learning rate passes it within a few steps.
_DIVERGENCE_FACTOR = 1e3
# Rows on which the starting loss is measured (at most one batch).
_PROBE_ROWS = 256


def _check_weighted_classes(y, sw, what):
    """Raise unless samples of at least 2 classes have a positive weight."""
    kept = unique_labels(y[sw > 0]) if sw.any() else np.array([])
    if len(kept) < 2:
        found = f"only one class ({kept.tolist()[0]!r})" if len(kept) else "no class"
        raise ValueError(
            f"{what} {found} with positive sample_weight; at least 2 classes are needed."
        )


class ScratchMLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier written from scratch in NumPy.

    A dense network of any depth trained by backpropagation with one of six
    optimizers, a sigmoid or softmax output head and an L2 penalty.  Inputs
    in float32 are trained and predicted in float32; any other numeric input
    in float64.

    Parameters
    ----------
    hidden_layer_sizes : int or sequence of int, default=(100,)
        Units of each hidden layer; ``()`` gives a linear model.
    activation : str or list of str, default="relu"
        Hidden activation: one of ``"relu"``, ``"leaky_relu"`` (slope 0.01),
        ``"tanh"``, ``"sigmoid"``, ``"identity"`` for every hidden layer, or a
        list with one name per hidden layer.
    head : {"auto", "sigmoid", "softmax"}, default="auto"
        Output layer and loss. ``"sigmoid"``: binary cross-entropy on one unit
        (binary), one unit per label (multilabel) or one-vs-rest units
        (multiclass). ``"softmax"``: categorical cross-entropy.  ``"auto"``
        is softmax for multiclass targets and sigmoid otherwise.
    init : {"auto", "random", "xavier", "he"}, default="auto"
        Weight initialisation: ``N(0, 1)`` times 0.01, ``sqrt(1/fan_in)`` or
        ``sqrt(2/fan_in)``; ``"auto"`` is he before relu-family activations and
        xavier otherwise. Biases start at zero.
    optimizer : {"gd", "sgd", "momentum", "nesterov", "rmsprop", "adam"}, \
default="adam"
        Update rule. ``"gd"`` takes one full-batch step per epoch and ignores
        ``batch_size``; the others step once per mini-batch.
    learning_rate_init : float, default=0.001
        Step size, > 0.
    momentum : float, default=0.9
        ``b`` of momentum and nesterov, in [0, 1).
    rho : float, default=0.9
        Decay of rmsprop's squared-gradient average, in [0, 1).
    beta_1, beta_2 : float, default=0.9, 0.999
        Adam's moment decays, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator of rmsprop and adam, > 0.
    alpha : float, default=1e-4
        L2 penalty on the weights, >= 0.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum epochs per ``fit``.
    tol : float, default=1e-4
        Improvement of the loss (or validation score) below which an epoch
        counts as no improvement.
    n_iter_no_change : int, default=10
        Training stops after more than this many epochs without improvement.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified), stop on its
        accuracy, and keep the weights of the best validation epoch.
    validation_fraction : float, default=0.1
        Share of the data held out when ``early_stopping``, in (0, 1).
    shuffle : bool, default=True
        Visit the samples in a new order each epoch (mini-batch optimizers).
    random_state : int, RandomState, Generator or None, default=None
        Seeds the one generator of a fit (initialisation, shuffling, split).
    warm_start : bool, default=False
        Continue from the previous fit's weights.
    verbose : int, default=0
        ``>= 1`` prints one line per epoch: loss, validation score, elapsed
        time and an estimate of the time left.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for multilabel targets).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` had string column names.
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape ``(n_units_i, n_units_{i+1})``.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` of shape ``(n_units_{i+1},)``.
    hidden_activations_ : list of str
        The activation of each hidden layer.
    n_iter_ : int
        Epochs run.
    t_ : int
        Training samples seen.
    loss_ : float
        Loss of the last epoch.
    best_loss_ : float or None
        Lowest epoch loss (None with ``early_stopping``).
    loss_curve_ : list of float
        Loss of each epoch.
    validation_scores_ : list of float or None
        Validation accuracy of each epoch (None without ``early_stopping``).
    best_validation_score_ : float or None
    n_layers_ : int
        Layers including input and output.
    n_outputs_ : int
        Output units.
    out_activation_ : str
        The head: ``"sigmoid"`` or ``"softmax"``.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sknumpynet import ScratchMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ScratchMLPClassifier(max_iter=30, random_state=0).fit(X / 16, y)
    >>> clf.score(X / 16, y) > 0.95
    True
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        head="auto",
        init="auto",
        optimizer="adam",
        learning_rate_init=0.001,
        momentum=0.9,
        rho=0.9,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.head = head
        self.init = init
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.rho = rho
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _make_rng(self, samples_seen):
        """The one generator of this call, derived from ``random_state``.

        ``samples_seen`` (0 for a fresh fit) gives each later partial_fit or
        warm-started call a stream of its own.
        """
        if isinstance(self.random_state, np.random.Generator):
            return self.random_state
        if self.random_state is None:  # fresh entropy, not numpy's global state
            return np.random.default_rng()
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return np.random.default_rng([seed, samples_seen])

    def _validate_targets(self, y, classes, first_call, incremental):
        """Return ``(y, multilabel)``; set ``classes_`` on the first call."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                "y must be 1-D class labels or a 0/1 multilabel indicator matrix; "
                f"got a {kind} target."
            )
        multilabel = kind == "multilabel-indicator"
        if first_call:
            # A multilabel target names every label by its columns already.
            if incremental and classes is None and not multilabel:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            if multilabel:
                self.classes_ = np.arange(y.shape[1])
            else:
                self.classes_ = unique_labels(y if classes is None else classes)
                if len(self.classes_) < 2:
                    raise ValueError(
                        f"{type(self).__name__} needs samples of at least 2 classes; "
                        f"the data contains only one class: {self.classes_.tolist()[0]!r}."
                    )
        elif multilabel != self._multilabel:
            kind = "multilabel" if self._multilabel else "single-label"
            raise ValueError(f"y must be {kind} like the targets of the previous fit.")
        if not multilabel and not (first_call and classes is None):
            # Also on a first partial_fit: labels outside `classes` would be
            # encoded as all-zero rows and silently trained on as no class.
            unseen = np.setdiff1d(unique_labels(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y contains labels not in classes_ {self.classes_.tolist()}: "
                    f"{unseen.tolist()}."
                )
        if multilabel and len(self.classes_) != y.shape[1]:
            raise ValueError(
                f"y has {y.shape[1]} label columns; the model was fitted with {len(self.classes_)}."
            )
        return y, multilabel

    # ---- fitting ---------------------------------------------------------

    def fit(self, X, y, sample_weight=None):
        """Train on ``(X, y)`` for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each sample's loss is weighted by it.

        Returns
        -------
        self : ScratchMLPClassifier
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch on ``(X, y)``, keeping weights and optimizer state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        classes : array-like of shape (n_classes,), default=None
            Every class label; required on the first call (not for multilabel).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : ScratchMLPClassifier
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _fit(self, X, y, sample_weight, incremental, classes=None):
        # A call that raises leaves the estimator as it was: no half-set
        # classes_ or fresh random weights that would look fitted.
        saved = self.__dict__.copy()
        try:
            return self._fit_or_raise(X, y, sample_weight, incremental, classes)
        except Exception:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit_or_raise(self, X, y, sample_weight, incremental, classes):
        hidden, activations = validate_hyperparameters(self)
        fitted = hasattr(self, "coefs_")
        first_call = not fitted or not (incremental or self.warm_start)
        if incremental and classes is not None and fitted and first_call is False:
            if not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError(
                    f"classes {np.asarray(classes).tolist()} differ from classes_ "
                    f"{self.classes_.tolist()} "
                    "of the previous partial_fit call."
                )
        with checking_input("X"):
            X, y = validate_data(self, X, y, reset=first_call, dtype=FLOATS, multi_output=True)
        y, multilabel = self._validate_targets(y, classes, first_call, incremental)
        if not first_call:
            X = self._as_model_dtype(X, training=True)
        if sample_weight is not None:
            with checking_input("sample_weight"):
                sw = check_sample_weight(sample_weight, X)
        else:
            sw = None
        if sw is not None and not multilabel and not incremental:
            _check_weighted_classes(y, sw, "sample_weight leaves")
        head_name = self.head
        if head_name == "auto":
            head_name = "softmax" if len(self.classes_) > 2 and not multilabel else "sigmoid"
        head = HEADS[head_name]
        if multilabel and not head.supports_multilabel:
            raise ValueError(f"head={self.head!r} cannot fit multilabel targets; use 'sigmoid'.")
        Y = label_binarize(y, classes=self.classes_) if not multilabel else y
        Y = head.encode(np.asarray(Y, dtype=X.dtype))
        sizes = [X.shape[1], *hidden, head.n_outputs(Y.shape[1])]
        rng = self._make_rng(0 if first_call else self.t_)
        net = MLP(sizes, activations, head_name, dtype=X.dtype)
        if first_call:
            net.initialize(self.init, rng)
            self._initialize_state(net, head_name, activations, multilabel)
        else:
            self._check_architecture(net, head_name, activations)
            net.set_params(self.coefs_, self.intercepts_)
        self.coefs_, self.intercepts_ = net.coefs, net.intercepts
        optimizer = OPTIMIZERS[self.optimizer](
            self.learning_rate_init,
            **{name: getattr(self, name) for name in OPTIMIZERS[self.optimizer].hyperparameters},
        )
        state = getattr(self, "_optimizer_state", None)
        if not incremental or state is None or state.get("name") != self.optimizer:
            state = {"name": self.optimizer, **optimizer.init_state(net.params)}
        self._optimizer_state = state
        # Batches are gathered row by row: from a column-major X (a DataFrame's
        # values, say) that is ~10x slower than one row-major copy per fit.
        X = np.ascontiguousarray(X)
        self._train(net, optimizer, X, y, Y, sw, rng, incremental, multilabel)
        return self

    def _initialize_state(self, net, head_name, activations, multilabel):
        self._multilabel = multilabel
        self.hidden_activations_ = activations
        self.out_activation_ = head_name
        self.n_layers_ = len(net.layer_sizes)
        self.n_outputs_ = net.layer_sizes[-1]
        self.n_iter_ = 0
        self.t_ = 0
        self._loss_reference = None
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self.best_loss_ = None if self.early_stopping else np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None

    def _check_architecture(self, net, head_name, activations):
        fitted = [self.coefs_[0].shape[0], *(b.shape[0] for b in self.intercepts_)]
        if (
            fitted != net.layer_sizes
            or head_name != self.out_activation_
            or activations != self.hidden_activations_
        ):
            raise ValueError(
                "warm_start/partial_fit needs the architecture of the previous fit "
                f"(layers {fitted}, activations {self.hidden_activations_}, head "
                f"{self.out_activation_!r}); got layers {net.layer_sizes}, activations "
                f"{activations}, head {head_name!r}. Set warm_start=False to start anew."
            )

    def _train(self, net, optimizer, X, y, Y, sw, rng, incremental, multilabel):
        n = X.shape[0]
        batch_size = min(200, n) if self.batch_size == "auto" else self.batch_size
        if batch_size > n and not optimizer.full_batch:
            warnings.warn(
                f"batch_size={batch_size} is larger than the {n} samples; using {n}.",
                UserWarning,
                stacklevel=4,
            )
        train_idx = val_idx = sw_val = None
        early = self.early_stopping and not incremental
        if not incremental:  # each fit gets its full n_iter_no_change patience
            self._no_improvement_count = 0
        # A call that stops on the other criterion than the records were set up
        # for (partial_fit after early stopping, or warm_start toggling
        # early_stopping) starts that criterion's records afresh.
        if early and self.validation_scores_ is None:
            self.validation_scores_, self.best_validation_score_ = [], -np.inf
            self._no_improvement_count = 0
        elif not early and self.best_loss_ is None:
            self.best_loss_ = min(self.loss_curve_, default=np.inf)
            self._no_improvement_count = 0
        if early:
            stratify = None if multilabel else y
            try:
                train_idx, val_idx = train_test_split(
                    np.arange(n),
                    test_size=self.validation_fraction,
                    stratify=stratify,
                    random_state=int(rng.integers(np.iinfo(np.int32).max)),
                )
            except ValueError as exc:
                raise ValueError(
                    f"early_stopping=True cannot hold out a stratified "
                    f"validation_fraction={self.validation_fraction} of {n} samples "
                    f"({exc}). Pass more samples per class, change validation_fraction "
                    "or set early_stopping=False."
                ) from exc
            train_idx.sort()
            X_val, y_val = X[val_idx], y[val_idx]
            if sw is not None:
                sw_val = sw[val_idx]
                if not multilabel:
                    _check_weighted_classes(
                        y[train_idx], sw[train_idx], "early_stopping: the training split leaves"
                    )
                elif not sw[train_idx].any():
                    raise ValueError(
                        "early_stopping: every sample with positive sample_weight fell in the "
                        "validation split; lower validation_fraction."
                    )
        n_train = n if train_idx is None else len(train_idx)
        rows = np.arange(n) if train_idx is None else train_idx
        batch_rows = n_train if optimizer.full_batch else min(batch_size, n_train)
        # Up to one batch of evenly spaced rows on which whole weight vectors are
        # scored: the starting weights, and those after every epoch.
        probe = rows[np.linspace(0, n_train - 1, min(batch_rows, _PROBE_ROWS)).astype(np.intp)]
        best_params = net.params.copy()
        epochs = 1 if incremental else self.max_iter
        start = time.perf_counter()
        stopped = validated = False
        interrupted = None
        # Overflow and NaN are expected once a learning rate explodes; they are
        # caught from the loss and the weights below instead of reported by numpy.
        with deferred_interrupt() as interrupt, np.errstate(all="ignore"):
            limit = _DIVERGENCE_FACTOR * self._reference_loss(net, X, Y, sw, probe)
            trainer = Trainer(
                net,
                optimizer,
                self._optimizer_state,
                batch_size=batch_size,
                alpha=self.alpha,
                shuffle=self.shuffle,
                rng=rng,
                interrupt=interrupt,
                max_loss=limit,
                probe=probe,
            )
            for epoch in range(epochs):
                try:
                    loss = trainer.epoch(X, Y, sw, train_idx)
                except Diverged as exc:
                    net.params[...] = best_params
                    # The optimizer's moments hold the exploded gradients.
                    self._optimizer_state.update(optimizer.init_state(net.params))
                    warnings.warn(
                        f"Training diverged in epoch {self.n_iter_ + 1} ({exc}): "
                        f"learning_rate_init={self.learning_rate_init} is too high for "
                        f"optimizer={self.optimizer!r} (or the features are on too large a "
                        "scale); lower it or standardize X. The best finite weights seen "
                        "so far are kept.",
                        DivergenceWarning,
                        stacklevel=4,
                    )
                    stopped = True
                    break
                except KeyboardInterrupt:
                    interrupted = f"in epoch {self.n_iter_ + 1}"
                    stopped = True
                    break
                self.n_iter_ += 1
                self.t_ += n_train
                self.loss_ = loss
                self.loss_curve_.append(loss)
                score = None
                if early:
                    score = accuracy_score(
                        y_val, self._predict_from(net, X_val), sample_weight=sw_val
                    )
                    validated = True
                improved = self._record_progress(loss, score)
                if improved:
                    best_params[...] = net.params
                if self.verbose:
                    self._print_progress(epoch, epochs, loss, score, start)
                if interrupt.requested:
                    # Ctrl-C after the epoch's last step, e.g. while validating.
                    interrupted = f"after epoch {self.n_iter_}"
                    stopped = True
                    break
                if self._no_improvement_count > self.n_iter_no_change:
                    stopped = True
                    if self.verbose:
                        what = "Validation score" if early else "Training loss"
                        print(
                            f"{what} did not improve more than tol={self.tol} for "
                            f"{self.n_iter_no_change} consecutive epochs. Stopping."
                        )
                    break
        if early and validated:
            net.params[...] = best_params
        if interrupted:
            kept = (
                "of the best validation epoch"
                if early and validated
                else "after the last completed mini-batch"
            )
            warnings.warn(
                f"Training interrupted {interrupted}; the weights {kept} are kept.",
                TrainingInterruptedWarning,
                stacklevel=4,
            )
        if not stopped and not incremental:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _reference_loss(self, net, X, Y, sw, probe):
        """The scale of a sound training loss, for the divergence limit.

        The larger of a uniform prediction's loss and the loss at the starting
        weights of the first fit; later partial_fit and warm-started calls
        reuse it, so weights that drift upwards never raise their own limit.
        """
        if getattr(self, "_loss_reference", None) is None:
            start_loss = probe_objective(net, X, Y, sw, probe, self.alpha)
            if not np.isfinite(start_loss):
                raise ValueError(
                    "The loss at the starting weights is not finite: X (largest magnitude "
                    f"{np.abs(X).max():.3g}) is too large for {X.dtype} arithmetic in this "
                    "network. Scale the features, e.g. with sklearn.preprocessing.StandardScaler."
                )
            zeros = np.zeros((1, Y.shape[1]), dtype=X.dtype)
            uniform = float(net.head.forward_loss(zeros, Y[:1], zeros.copy())[0])
            self._loss_reference = max(start_loss, uniform)
        return self._loss_reference

    def _record_progress(self, loss, score):
        """Update the no-improvement count; return True on a new best."""
        if score is None:
            self._no_improvement_count = (
                self._no_improvement_count + 1 if loss > self.best_loss_ - self.tol else 0
            )
            improved = loss < self.best_loss_
            if improved:
                self.best_loss_ = loss
            return improved
        self.validation_scores_.append(score)
        best = self.best_validation_score_
        self._no_improvement_count = (
            self._no_improvement_count + 1 if score < best + self.tol else 0
        )
        if score > best:
            self.best_validation_score_ = score
            return True
        return False

    def _print_progress(self, epoch, epochs, loss, score, start):
        elapsed = time.perf_counter() - start
        eta = elapsed / (epoch + 1) * (epochs - epoch - 1)
        val = "" if score is None else f", validation score = {score:.4f}"
        print(
            f"Iteration {self.n_iter_}, loss = {loss:.6f}{val}, "
            f"elapsed {elapsed:.1f}s, ETA {eta:.1f}s",
            flush=True,
        )

    # ---- prediction ------------------------------------------------------

    def _logits(self, X, net=None):
        coefs, intercepts = (
            (self.coefs_, self.intercepts_) if net is None else (net.coefs, net.intercepts)
        )
        # Inputs far outside the training range can overflow to inf/NaN here;
        # the head's log_proba maps those logits back into the finite range.
        with np.errstate(all="ignore"):
            return forward_logits(X, coefs, intercepts, self.hidden_activations_)

    def _as_model_dtype(self, X, training=False):
        """``X`` in the dtype of the fitted weights (a float32 model stays float32).

        float64 values beyond float32's range become inf in the cast: training
        refuses them; prediction passes them on to the finite-logit clipping.
        """
        dtype = self.coefs_[0].dtype
        if X.dtype == dtype:
            return X
        with np.errstate(over="ignore"):
            X = X.astype(dtype)
        if training and not np.isfinite(X).all():
            raise ValueError(
                f"X has values beyond the range of {dtype}, the dtype this model was "
                "first fitted with; scale the features, e.g. with "
                "sklearn.preprocessing.StandardScaler."
            )
        return X

    def _validated_X(self, X):
        check_is_fitted(self)
        with checking_input("X"):
            X = validate_data(self, X, reset=False, dtype=FLOATS)
        return self._as_model_dtype(X)

    def _log_proba_from_logits(self, Z):
        return HEADS[self.out_activation_].log_proba(Z, self._multilabel)

    def _labels_from_log_proba(self, L):
        if self._multilabel:
            return (L > math.log(0.5)).astype(int)
        return self.classes_[np.argmax(L, axis=1)]

    def _predict_from(self, net, X):
        """Predict with a network under training (for the validation score)."""
        L = self._log_proba_from_logits(self._logits(X, net))
        return self._labels_from_log_proba(L)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably from the logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._log_proba_from_logits(self._logits(self._validated_X(X)))

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Rows sum to 1 (binary targets give two columns even with one
            sigmoid unit). For multilabel targets, column ``k`` is the
            probability of label ``k`` on its own.
        """
        log_proba = self.predict_log_proba(X)
        with np.errstate(under="ignore"):
            return np.exp(log_proba)

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_``; a 0/1 indicator matrix for multilabel.
        """
        return self._labels_from_log_proba(self.predict_log_proba(X))

    def __getstate__(self):
        # A copy: BaseEstimator may hand back the instance's own __dict__.
        return dict(super().__getstate__(), _sknumpynet_version=__version__)

    def __setstate__(self, state):
        state = dict(state)
        version = state.pop("_sknumpynet_version", "unknown")
        if version != __version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=__version__,
                    original_version=version,
                ),
                stacklevel=2,
            )
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags
