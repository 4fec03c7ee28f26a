"""What every estimator of the family does, written once.

:class:`ScratchMLPBase` holds the shared hyperparameters (a dataclass, so the
signature scikit-learn introspects is declared once and ``__init__`` stores
each argument verbatim), validates them, orchestrates ``fit`` /
``partial_fit`` / ``warm_start``, makes a failed call leave the estimator as
it was, persists with a version stamp and does the plumbing of prediction.
The training itself runs in :mod:`sknumpynet._engine`; the math in
:mod:`sknumpynet.nn`.

A subclass supplies only what differs between estimators:

``_string_options``
    Its own string hyperparameters and their allowed values.
``_targets(y, first_call, incremental, classes)``
    Validate ``y`` and encode it: returns ``(y, Y, head_name)``.
``_check_training_weights(y, sample_weight, what)``
    Refuse weights that leave nothing to learn.
``_stratify(y)``
    Labels to stratify the early-stopping split by, or None.
``_predict_from_logits(Z)``
    Predictions (labels, or target values) from the output logits.
``_validation_metric``
    ``metric(y_true, y_pred, sample_weight=...)`` scoring held-out rows
    (higher is better): accuracy for the classifier, R² for the regressor.
"""

from dataclasses import KW_ONLY, dataclass

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _callbacks, _data, _engine, _events, _holdout, _seeding
from ._sklearn_compat import check_sample_weight
from ._validation import FLOATS, checking_input, validate_hyperparameters
from ._version import __version__
from .exceptions import InconsistentVersionWarning, warn_user
from .nn import MLP, OPTIMIZERS
from .nn.schedules import SCHEDULES


@dataclass(eq=False, repr=False)
class ScratchMLPBase(_callbacks.CallbackSupport, BaseEstimator):
    """Base class of ScratchMLPClassifier and ScratchMLPRegressor; not for direct use."""

    hidden_layer_sizes: int | tuple = (100,)
    activation: str | list = "relu"
    _: KW_ONLY
    init: str = "auto"
    optimizer: str = "adam"
    learning_rate_init: float = 0.001
    learning_rate: str = "constant"
    power_t: float = 0.5
    momentum: float = 0.9
    rho: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    alpha: float = 1e-4
    dropout: float | list = 0.0
    batch_size: int | str = "auto"
    max_iter: int = 200
    max_fun: int = 15000
    tol: float = 1e-4
    n_iter_no_change: int | float = 10
    early_stopping: bool = False
    validation_fraction: float = 0.1
    shuffle: bool = True
    random_state: object = None
    warm_start: bool = False
    verbose: int = 0

    _string_options = {}

    # ---- fitting ---------------------------------------------------------

    def _check_incremental(self):
        """``available_if`` test of ``partial_fit``, which lbfgs cannot do.

        As scikit-learn's MLPs hide ``partial_fit`` for ``solver="lbfgs"``. An
        invalid optimizer keeps it, so calling it raises the usual ValueError.
        """
        solver = OPTIMIZERS.get(self.optimizer) if isinstance(self.optimizer, str) else None
        if solver is not None and not solver.incremental:
            raise AttributeError(
                f"partial_fit is not available with optimizer={self.optimizer!r}, which "
                "trains on the whole data set at once; use fit, or a step optimizer "
                "such as 'adam' or 'sgd'."
            )
        return True

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Train on ``(X, y)`` for up to ``max_iter`` epochs (L-BFGS iterations).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR or CSC matrices are never densified.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels or a multilabel indicator matrix (classifier); real
            targets, one column per output (regressor).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each sample's loss is weighted by it.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            A validation set, scored after every epoch (``validation_scores_``,
            ``validation_loss_curve_``). With ``early_stopping=True`` it replaces
            the internal ``validation_fraction`` split. In a ``Pipeline``, route
            it with ``transform_input=["X_val"]`` so it is preprocessed like ``X``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``; required with it.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation rows in the score and loss.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validation = (X_val, y_val, sample_weight_val)
        return self._fit(X, y, sample_weight, incremental=False, validation=validation)

    @available_if(_check_incremental)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on ``(X, y)``, keeping weights and optimizer state.

        A call that raises, Ctrl-C (``KeyboardInterrupt``) included, is undone:
        weights, optimizer state and records stay those of the last completed call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    @_callbacks.managed
    def _fit(self, X, y, sample_weight, *, incremental, classes=None, validation=None):
        # A call that raises leaves the estimator exactly as it was: weights,
        # optimizer moments, records and counters alike. Hyperparameters stay
        # the caller's own objects (a random_state object too) and the network
        # cache is only a cache; the per-epoch records only ever grow during a
        # call, so their lengths suffice (copying them would make a long stream
        # of partial_fit calls quadratic); everything else is copied, the arrays
        # into buffers the cache keeps from call to call.
        keep = {*self.__dataclass_fields__, "_cache"}
        cache = self.__dict__.get("_cache")
        backup = {} if cache is None else cache[2].setdefault("backup", {})
        saved, lengths = {}, {}
        for key, value in self.__dict__.items():
            if key in _engine.RECORDS and isinstance(value, list):
                saved[key], lengths[key] = value, len(value)
            else:
                saved[key] = value if key in keep else _data.copy_state(value, backup, (key,))
        try:
            return self._fit_or_raise(X, y, sample_weight, incremental, classes, validation)
        except BaseException:
            for key, length in lengths.items():
                del saved[key][length:]
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit_or_raise(self, X, y, sample_weight, incremental, classes, validation):
        hidden, activations, dropout = self._hyperparameters()
        solver = OPTIMIZERS[self.optimizer]
        self._refuse_unsupported(solver, dropout, incremental)
        first_call = not hasattr(self, "coefs_") or not (incremental or self.warm_start)
        disk = _data.memory_mapped(X, None if first_call else self.coefs_[0].dtype)
        X, y, Y, head_name, sw = self._training_data(
            X, y, sample_weight, first_call, incremental, classes
        )
        if first_call:
            self._random_seed = _seeding.new_seed(self.random_state)
        rng = _seeding.call_rng(self.random_state, self._random_seed, 0 if first_call else self.t_)
        sizes = [X.shape[1], *hidden, Y.shape[1]]
        net = self._network(sizes, activations, head_name, X.dtype, dropout, first_call, rng)
        given = validation is not None and any(v is not None for v in validation)
        if first_call:
            early_stopping = self.early_stopping and solver.incremental
            self._start(net, activations, early_stopping, scored=given or early_stopping)
        self.coefs_, self.intercepts_ = net.coefs, net.intercepts
        validate = _holdout.given(self, *validation, dtype=X.dtype) if given else None
        optimizer = self._optimizer(solver)
        events = self._fit_events(net, incremental, X, y, sample_weight)
        if not solver.incremental:
            _engine.LBFGSRun(self, net, optimizer, X, Y, sw, validate=validate, events=events).run()
            return self
        state = getattr(self, "_optimizer_state", None)
        if not incremental or state is None or state.get("name") != self.optimizer:
            state = {"name": self.optimizer, **optimizer.init_state(net.params)}
        self._optimizer_state = state
        rows = None
        if self.early_stopping and validate is None:
            rows, validate = _holdout.hold_out(self, X, y, Y, sw)
        loop = _engine.EpochLoop(
            self,
            net,
            optimizer,
            X,
            Y,
            sw,
            rows=rows,
            rng=rng,
            validate=validate,
            early_stopping=self.early_stopping,
            disk=disk,
            events=events,
            buffers=self._cache[2],
        )
        loop.run(1 if incremental else self.max_iter, incremental)
        return self

    def _hyperparameters(self):
        """``validate_hyperparameters(self)``, reused while no value has changed.

        A stream of ``partial_fit`` calls would validate the same values every
        call. Their ``repr`` tells whether any changed: it shows content, not
        identity, so a list changed in place is validated again too.
        """
        values = repr([getattr(self, name) for name in self.__dataclass_fields__])
        cache = self.__dict__.get("_cache")
        reuse = {} if cache is None else cache[2]
        if reuse.get("hyperparameters", (None,))[0] != values:
            reuse["hyperparameters"] = (values, validate_hyperparameters(self))
        return [list(value) for value in reuse["hyperparameters"][1]]

    def _refuse_unsupported(self, solver, dropout, incremental):
        if any(dropout) and not solver.incremental:
            raise ValueError(
                f"dropout needs a step optimizer; optimizer={self.optimizer!r} minimises one "
                "deterministic objective. Set dropout=0 or choose e.g. 'adam'."
            )
        if incremental:  # a partial_fit bound before set_params(optimizer="lbfgs")
            self._check_incremental()
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True (each call sees one "
                "chunk, with nothing held out); set early_stopping=False."
            )

    def _training_data(self, X, y, sample_weight, first_call, incremental, classes):
        """Validated ``X`` (row-major or CSR, the model's dtype), ``y``, encoded ``Y``,
        the head and the sample weights (times any class weights)."""
        with checking_input("X"):
            X, y = validate_data(
                self,
                X,
                y,
                reset=first_call,
                dtype=FLOATS,
                accept_sparse=("csr", "csc"),
                multi_output=True,
                y_numeric=not is_classifier(self),
            )
        if not first_call:
            X = _data.as_dtype(X, self.coefs_[0].dtype, training=True)
        # Batches are gathered row by row: from CSC or column-major X that is
        # ~10x slower than one row-major copy per fit.
        X = X.tocsr() if issparse(X) else np.ascontiguousarray(X)
        y, Y, head_name = self._targets(
            y, first_call=first_call, incremental=incremental, classes=classes
        )
        Y = np.ascontiguousarray(Y, dtype=X.dtype)
        sw = None
        if sample_weight is not None:
            with checking_input("sample_weight"):
                sw = check_sample_weight(sample_weight, X)
        sw = self._weigh_samples(y, sw, incremental, X.dtype)
        if sw is not None and not incremental:
            self._check_training_weights(y, sw, "sample_weight leaves")
        return X, y, Y, head_name, sw

    def _network(self, sizes, activations, head_name, dtype, dropout, first_call, rng):
        """The network to train: the previous call's when nothing it depends on changed.

        A stream of ``partial_fit`` calls keeps one :class:`~sknumpynet.nn.MLP`
        (its flat weights are ``coefs_`` and ``intercepts_``, its workspace the
        batch buffers); it is rebuilt for a fresh fit, after unpickling or a
        rolled-back call, and when the architecture, dtype or dropout changes.
        """
        key = (tuple(sizes), tuple(activations), head_name, np.dtype(dtype), tuple(dropout))
        cached = self.__dict__.get("_cache")
        if (
            not first_call
            and cached is not None
            and cached[0] == key
            and all(a.base is cached[1].params for a in (*self.coefs_, *self.intercepts_))
        ):
            return cached[1]
        net = MLP(sizes, activations, head_name, dtype=dtype, dropout=dropout)
        if first_call:
            net.initialize(self.init, rng)
        else:
            self._check_architecture(net, activations)
            net.set_params(self.coefs_, self.intercepts_)
        # The network, and a dict in which the trainer and the optimizer keep
        # their buffers for the next call.
        self._cache = (key, net, {})
        return net

    def _optimizer(self, solver):
        """The optimizer of this call: the previous call's (and its scratch
        buffer) when the same rule and hyperparameters are asked for again."""
        hyper = {name: getattr(self, name) for name in solver.hyperparameters}
        reuse = self._cache[2]
        key = (self.optimizer, self.learning_rate_init, tuple(hyper.items()))
        if reuse.get("optimizer_key") != key:
            reuse["optimizer_key"] = key
            reuse["optimizer"] = solver(self.learning_rate_init, **hyper)
        return reuse["optimizer"]

    def _weigh_samples(self, y, sw, incremental, dtype):
        """``sample_weight`` times any weights the estimator adds (class_weight)."""
        return sw

    def _fit_events(self, net, incremental, X, y, sample_weight):
        """The FitEvents that hook into this call's epochs (see :mod:`._engine`)."""
        events = []
        if OPTIMIZERS[self.optimizer].incremental:
            events.append(_events.LearningRateSchedule(SCHEDULES[self.learning_rate]))
        if self.verbose:
            events.append(_events.ProgressPrinter())
        events.extend(_callbacks.fit_events(self, incremental, X, y, sample_weight))
        return events

    def _start(self, net, activations, early_stopping, scored):
        """Fitted attributes of a network trained from scratch."""
        self.hidden_activations_ = activations
        self.out_activation_ = net.head_name
        self.n_layers_ = len(net.layer_sizes)
        self.n_outputs_ = net.layer_sizes[-1]
        self._optimizer_state = None
        _engine.reset_records(self, early_stopping, scored)

    def _check_architecture(self, net, activations):
        fitted = [self.coefs_[0].shape[0], *(b.shape[0] for b in self.intercepts_)]
        if (
            fitted != net.layer_sizes
            or net.head_name != self.out_activation_
            or activations != self.hidden_activations_
        ):
            raise ValueError(
                "warm_start/partial_fit needs the architecture of the previous fit "
                f"(layers {fitted}, activations {self.hidden_activations_}, output "
                f"{self.out_activation_!r}); got layers {net.layer_sizes}, activations "
                f"{activations}, output {net.head_name!r}. Set warm_start=False to start anew."
            )

    # ---- prediction ------------------------------------------------------

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Class labels from ``classes_`` (a 0/1 indicator matrix for
            multilabel targets), or predicted targets (one output as a 1-D
            array, as scikit-learn's MLPs do).
        """
        return self._predict_from_logits(self._logits(self._validated_X(X)))

    def _validated_X(self, X):
        """``X`` checked against the fit; cast to the model's dtype chunk by chunk later."""
        check_is_fitted(self)
        _data.memory_mapped(X)
        with checking_input("X"):
            return validate_data(self, X, reset=False, dtype=FLOATS, accept_sparse=("csr", "csc"))

    def _logits(self, X, net=None):
        """Logits of every row of ``X`` (in chunks), by the fitted or the given network."""
        coefs, intercepts = (
            (self.coefs_, self.intercepts_) if net is None else (net.coefs, net.intercepts)
        )
        return _data.logits(X, coefs, intercepts, self.hidden_activations_)

    # ---- persistence and tags ----------------------------------------------

    def __getstate__(self):
        # A copy: BaseEstimator may hand back the instance's own __dict__. The
        # network cache is rebuilt from coefs_ and intercepts_ after loading.
        state = dict(super().__getstate__(), _sknumpynet_version=__version__)
        state.pop("_cache", None)
        return state

    def __setstate__(self, state):
        state = dict(state)
        version = state.pop("_sknumpynet_version", "unknown")
        if version != __version__:
            warn_user(
                InconsistentVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=__version__,
                    original_version=version,
                ),
                InconsistentVersionWarning,
            )
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
