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
``_targets(y, fresh, partial, classes)``
    Validate ``y`` (setting what a fresh call learns from it, e.g. ``classes_``)
    and encode it: returns ``(y, Y, head_name)``.
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

import re
from dataclasses import KW_ONLY, dataclass

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _callbacks, _data, _engine, _events, _holdout, _seeding
from ._plan import CallPlan
from ._sklearn_compat import check_sample_weight
from ._validation import (
    FLOATS,
    check_weight_range,
    checking_input,
    numeric_targets,
    validate_hyperparameters,
)
from ._version import __version__
from .exceptions import InconsistentVersionWarning, warn_user
from .nn import ACTIVATIONS, MLP, OPTIMIZERS, Buffers
from .nn.memory import aligned_empty, aligned_zeros
from .nn.schedules import SCHEDULES


class _Stream:
    """What a stream of ``partial_fit`` calls keeps from one call to the next.

    The network (with its workspace of batch activations), the trainer's
    buffers, the optimizer (with its scratch buffer) and the validated
    hyperparameters: none of it is fitted state. A ``fit`` drops it; it is not
    pickled and is rebuilt when the architecture, dtype or dropout changes.

    Parameters
    ----------
    key : tuple
        Layer sizes, activations, head, dtype and dropout of ``network``.
    network : MLP
    """

    def __init__(self, key, network):
        self.key, self.network = key, network
        self.buffers = Buffers()
        self.optimizer = self.optimizer_key = self.hyperparameters = None

    def optimizer_for(self, est, plan):
        """The optimizer of ``est``'s settings: the previous call's when they are the same."""
        hyper = {name: getattr(est, name) for name in plan.solver.hyperparameters}
        key = (est.optimizer, plan.learning_rate, tuple(hyper.items()))
        if self.optimizer_key != key:
            self.optimizer_key, self.optimizer = key, plan.solver(plan.learning_rate, **hyper)
        return self.optimizer


@dataclass(eq=False, repr=False)
class ScratchMLPBase(_callbacks.CallbackSupport, BaseEstimator):
    """Base class of ScratchMLPClassifier and ScratchMLPRegressor; not for direct use."""

    hidden_layer_sizes: int | tuple = (100,)
    activation: str | list = "relu"
    _: KW_ONLY
    init: str = "auto"
    optimizer: str = "adam"
    learning_rate_init: float | str = "auto"
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

    def _can_partial_fit(self):
        """``available_if`` test of ``partial_fit``, which lbfgs cannot do.

        As scikit-learn's MLPs hide ``partial_fit`` for ``solver="lbfgs"``. An
        invalid optimizer keeps it, so calling it raises the usual ValueError.
        """
        solver = OPTIMIZERS.get(self.optimizer) if isinstance(self.optimizer, str) else None
        if solver is not None and not solver.stepwise:
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
        return self._fit(X, y, sample_weight, partial=False, validation=validation)

    @available_if(_can_partial_fit)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on ``(X, y)``, keeping weights and optimizer state.

        A call that raises, Ctrl-C (``KeyboardInterrupt``) included, is undone:
        weights, optimizer state and records stay those of the last completed call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data of this call; CSR or CSC matrices are never
            densified. Its columns must be those of the first call.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Real targets, one column per output (as many as in the first call).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; each sample's loss is weighted by it.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._fit(X, y, sample_weight, partial=True)

    @_callbacks.managed
    def _fit(self, X, y, sample_weight, *, partial, classes=None, validation=None):
        # A call is a transaction. Training works on a FitState, a copy of the
        # fitted state that is committed only at the end; everything else a
        # call sets (n_features_in_, classes_, the seed, the stream's workspace)
        # replaces an attribute, never changes one in place. So the references
        # of the attributes before the call are nearly all a failed call must
        # restore, however many calls failed before it.
        # Two things are changed in place, and put back here: the records, which
        # the commit extends (a long stream of calls stays linear), in case the
        # call fails inside the commit (a Ctrl-C); and the state of the
        # caller's random_state (a RandomState, a Generator, or NumPy's global
        # one for None), from which the call draws (where others drew since,
        # not: _seeding.restore).
        before = dict(self.__dict__)
        lengths = {n: len(v) for n in _engine.RECORDS if isinstance(v := before.get(n), list)}
        randomness, drawn = _seeding.snapshot(self.random_state), {}
        try:
            self._run(X, y, sample_weight, partial, classes, validation, drawn)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            for name, length in lengths.items():
                del before[name][length:]
            _seeding.restore(self.random_state, randomness, drawn.get("seed"))
            raise
        return self

    def _run(self, X, y, sample_weight, partial, classes, validation, drawn):
        """Plan, train and commit one call; ``drawn["seed"]``: ``random_state``'s
        states just before and after a fresh call drew its seed (see
        :func:`_seeding.restore`)."""
        stream = self.__dict__.get("_stream") if partial else None
        hidden, activations, dropout = self._hyperparameters(stream)
        given = validation is not None and any(v is not None for v in validation)
        plan = CallPlan.make(self, partial=partial, X=X, validation_given=given, dropout=dropout)
        X, y, Y, head_name, sw, named = self._training_data(X, y, sample_weight, plan, classes)
        if plan.fresh:
            before = _seeding.snapshot(self.random_state)
            self._random_seed = _seeding.new_seed(self.random_state)
            drawn["seed"] = (before, _seeding.snapshot(self.random_state))
        rng = _seeding.call_rng(self.random_state, self._random_seed, 0 if plan.fresh else self.t_)
        key = ((X.shape[1], *hidden, Y.shape[1]), tuple(activations), head_name, X.dtype, dropout)
        if stream is None or stream.key != key:
            try:
                network = MLP(*key[:3], dtype=X.dtype, dropout=dropout)
            except ValueError as exc:  # too many parameters for one array
                raise ValueError(f"hidden_layer_sizes={self.hidden_layer_sizes!r}: {exc}") from None
            stream = _Stream(key, network)
        self._bind_weights(plan, stream.network, activations, rng)
        validate, rows = self._validation(plan, validation, X, y, Y, sw, named)
        state = _engine.FitState(self, plan, stream.network, scored=validate is not None)
        events = self._fit_events(plan, X, y, sample_weight)
        self._train(plan, stream, state, (X, Y, sw, rows), rng, validate, events, named)
        state.commit(self)
        # A stream keeps its network and buffers for the next call; a fit keeps
        # nothing but the fitted state.
        if plan.partial:
            self._stream = stream
        else:
            self.__dict__.pop("_stream", None)

    def _bind_weights(self, plan, net, activations, rng):
        """Give ``net`` the weights the call trains: new ones drawn for a fresh call,
        else a copy of the fitted ones (which stay untouched until the commit)."""
        if plan.fresh:
            net.use_params(aligned_zeros(net.params.shape, net.dtype))
            net.initialize(self.init, rng)
            self._describe(net, activations)
        else:
            self._check_architecture(net, activations, plan.partial)
            net.use_params(aligned_empty(net.params.shape, net.dtype))
            net.set_params(self.coefs_, self.intercepts_)

    def _train(self, plan, stream, state, data, rng, validate, events, named):
        """Run the plan's training loop on ``state``; ``named``: what the weights come from."""
        if not plan.solver.stepwise:
            run = _engine.LBFGSRun(
                self,
                plan,
                state,
                plan.solver(),
                data,
                validate=validate,
                events=events,
                weights_named=named,
            )
            return run.run()
        optimizer = stream.optimizer_for(self, plan)
        state.continue_optimizer(self, optimizer)
        run = _engine.EpochLoop(
            self,
            plan,
            state,
            optimizer,
            data,
            rng=rng,
            validate=validate,
            events=events,
            weights_named=named,
            buffers=stream.buffers,
        )
        return run.run()

    def _hyperparameters(self, stream):
        """``validate_hyperparameters(self)``, reused within a stream while no value changed.

        A stream of ``partial_fit`` calls would validate the same values every
        call. Their ``repr`` tells whether any changed: it shows content, not
        identity, so a list changed in place is validated again too.
        """
        if stream is None:
            return validate_hyperparameters(self)
        values = repr([getattr(self, name) for name in self.__dataclass_fields__])
        if stream.hyperparameters is None or stream.hyperparameters[0] != values:
            stream.hyperparameters = (values, validate_hyperparameters(self))
        return [list(value) for value in stream.hyperparameters[1]]

    def _training_data(self, X, y, sample_weight, plan, classes):
        """Validated ``X`` (row-major or CSR, the model's dtype), ``y``, encoded ``Y``,
        the head, the sample weights (times any class weights) and what they come
        from (see :meth:`_weights_named`)."""
        if not is_classifier(self):
            y = numeric_targets(y, "y")
        with checking_input("X"):
            X, y = validate_data(
                self,
                _data.native(X),
                y,
                reset=plan.fresh,
                dtype=FLOATS,
                accept_sparse=("csr", "csc"),
                multi_output=True,
                y_numeric=not is_classifier(self),
            )
        if not plan.fresh:
            X = _data.as_dtype(X, self.coefs_[0].dtype, training=True)
        # Batches are gathered row by row: from CSC or column-major X that is
        # much slower than one row-major copy per fit.
        X = X.tocsr() if issparse(X) else np.ascontiguousarray(X)
        y, Y, head_name = self._targets(y, fresh=plan.fresh, partial=plan.partial, classes=classes)
        Y = np.ascontiguousarray(_data.as_dtype(np.asarray(Y), X.dtype, training=True, name="y"))
        sw = None
        if sample_weight is not None:
            with checking_input("sample_weight"):
                sw = check_sample_weight(sample_weight, X)
        sw = self._weigh_samples(y, sw, plan.partial, X.dtype)
        named = self._weights_named(sample_weight is not None)
        if sw is not None:
            self._check_weights_leave_work(y, sw, plan.partial, named)
        return X, y, Y, head_name, sw, named

    def _weights_named(self, sample_weight_given):
        """What the sample weights of a call come from, in words: ``"sample_weight"``,
        ``"class_weight"``, both joined by "and", or None."""
        names = [
            name
            for name, used in (
                ("sample_weight", sample_weight_given),
                ("class_weight", getattr(self, "class_weight", None) is not None),
            )
            if used
        ]
        return " and ".join(names) or None

    def _check_weights_leave_work(self, y, sw, partial, named):
        """Raise, naming where the weights come from (``named``), where they leave
        nothing to learn (no row of a ``partial_fit`` chunk, too few classes) or
        cannot be computed with (see :func:`._validation.check_weight_range`)."""
        what = named + (" leave" if " and " in named else " leaves")
        if not partial:
            self._check_training_weights(y, sw, what)
        elif not sw.any():
            raise ValueError(f"{what} every row of this chunk with weight 0.")
        check_weight_range(sw, named)

    def _validation(self, plan, validation, X, y, Y, sw, named):
        """``(validate, rows)``: the scorer of the plan's validation set (or None) and
        the training rows (None: all)."""
        if plan.validation == "given":
            return _holdout.given(self, *validation, dtype=X.dtype), None
        if plan.validation == "held_out":
            rows, validate = _holdout.hold_out(self, X, y, Y, sw, named)
            return validate, rows
        return None, None

    def _weigh_samples(self, y, sw, partial, dtype):
        """``sample_weight`` times any weights the estimator adds (class_weight)."""
        return sw

    def _fit_events(self, plan, X, y, sample_weight):
        """The FitEvents that hook into this call's epochs (see :mod:`._engine`)."""
        events = []
        if plan.solver.stepwise:
            events.append(_events.LearningRateSchedule(SCHEDULES[self.learning_rate]))
        if self.verbose:
            events.append(_events.ProgressPrinter())
        events.extend(_callbacks.fit_events(self, plan.partial, X, y, sample_weight))
        return events

    def _describe(self, net, activations):
        """Fitted attributes that describe a network trained from scratch."""
        self.hidden_activations_ = activations
        self.out_activation_ = net.head_name
        self.n_layers_ = len(net.layer_sizes)
        self.n_outputs_ = net.layer_sizes[-1]
        self._optimizer_state = None

    def _check_architecture(self, net, activations, partial):
        """Raise unless ``net`` (with hidden ``activations``) has the fitted network's
        architecture, saying what starts anew after ``partial_fit`` (``partial``) or
        after a warm-started ``fit``."""
        fitted = [self.coefs_[0].shape[0], *(b.shape[0] for b in self.intercepts_)]
        if (
            fitted != net.layer_sizes
            or net.head_name != self.out_activation_
            # By function, not name: "logistic" is "sigmoid".
            or [ACTIVATIONS[a] for a in activations]
            != [ACTIVATIONS[a] for a in self.hidden_activations_]
        ):
            if not partial:
                call, advice = "fit with warm_start=True", "Set warm_start=False to start anew."
            else:  # partial_fit always continues; fit starts anew unless warm_start
                anew = "fit with warm_start=False" if self.warm_start else "fit"
                call, advice = "partial_fit", f"Call {anew} to start anew (or clone the estimator)."
            raise ValueError(
                f"{call} needs the architecture of the previous fit "
                f"(layers {fitted}, activations {self.hidden_activations_}, output "
                f"{self.out_activation_!r}); got layers {net.layer_sizes}, activations "
                f"{activations}, output {net.head_name!r}. {advice}"
            )

    # ---- prediction ------------------------------------------------------

    def predict(self, X):
        """Predict with the fitted network.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The rows to predict.

        Returns
        -------
        ndarray or CSR matrix of shape (n_samples,) or (n_samples, n_outputs)
            Class labels from ``classes_`` (a 0/1 indicator matrix for
            multilabel targets, a CSR matrix of shape (n_samples, n_labels)
            when the classifier was fitted on a sparse multilabel ``y``), or
            predicted targets (one output as a 1-D array, as scikit-learn's
            MLPs do); otherwise an ndarray.
        """
        return self._predict_from_logits(self._logits(self._validated_X(X)))

    def _validated_X(self, X):
        """``X`` checked against the fit; cast to the model's dtype chunk by chunk later."""
        check_is_fitted(self)
        # A memory map of any numeric dtype or layout is cast to the model's
        # dtype a chunk of rows at a time (_data.logits), never whole.
        mapped = isinstance(X, np.memmap) and X.dtype.kind in "biuf"
        with checking_input("X"):
            return validate_data(
                self,
                X,
                reset=False,
                dtype=None if mapped else FLOATS,
                accept_sparse=("csr", "csc"),
            )

    def _logits(self, X, net=None):
        """Logits of every row of ``X`` (in chunks), by the fitted or the given network."""
        coefs, intercepts = (
            (self.coefs_, self.intercepts_) if net is None else (net.coefs, net.intercepts)
        )
        return _data.logits(X, coefs, intercepts, self.hidden_activations_)

    # ---- persistence and tags ----------------------------------------------

    def __getstate__(self):
        # A copy: BaseEstimator may hand back the instance's own __dict__. A
        # stream's workspace is rebuilt from coefs_ and intercepts_ after loading.
        state = dict(super().__getstate__(), _sknumpynet_version=__version__)
        state.pop("_stream", None)
        return state

    def __setstate__(self, state):
        state = dict(state)
        version = state.pop("_sknumpynet_version", "unknown")
        state.pop("_loss_reference", None)  # before 0.3 the divergence limit was kept
        if _release(version) < (0, 2):
            _fill_before_0_2(state)
        if _release(version) < (0, 3):
            _averages_to_sums(state)
        _with_stream_origins(state)
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


def _release(version):
    """``(major, minor)`` of a version string, pre-releases included ("1.0rc1" is
    (1, 0)); ``(0, 0)`` for "unknown" (before 0.2) or anything unparseable."""
    found = re.match(r"(?:\d+!)?(\d+)\.(\d+)", str(version))  # PEP 440, epoch and all
    return (int(found[1]), int(found[2])) if found else (0, 0)


def _fill_before_0_2(state):
    """Fill in what 0.2 added, for a fitted model pickled before it to train on.

    0.1 had no class weights, dropout, schedules or L-BFGS: the hyperparameters
    added since read as their defaults (the dataclass's class attributes),
    which reproduce 0.1's training, and the model gets the records and counters
    of a constant learning rate. Its ``_random_seed`` (from which
    ``partial_fit`` derives its shuffles) is the one a fresh fit with an int
    ``random_state`` draws, else 0: 0.1 kept none.
    """
    if "coefs_" not in state:
        return
    random_state = state.get("random_state")
    seed = (
        _seeding.new_seed(random_state)
        if isinstance(random_state, int | np.integer) and not isinstance(random_state, bool)
        else 0
    )
    state.setdefault("_random_seed", seed)
    solver = _registered(state.get("optimizer"))
    try:
        rate = None if solver is None else solver.learning_rate_for(state["learning_rate_init"])
    except (KeyError, TypeError, ValueError):
        rate = None
    state.setdefault("_learning_rate", rate)
    state.setdefault("_schedule_epoch", state.get("n_iter_", 0))
    curve = state.get("loss_curve_") or []
    state.setdefault("learning_rates_", [] if rate is None else [rate] * len(curve))
    state.setdefault("validation_loss_curve_", None)


def _with_stream_origins(state):
    """Fill in what a pickle from before they were kept lacks for ``partial_fit``
    to follow changed settings: the decay rates of the optimizer state's sums and
    the ``learning_rate_init`` the schedule ran from, both taken from the pickled
    hyperparameters (those of the last call, unless ``set_params`` followed it)."""
    # Never a reason not to load: values that do not convert stay unknown (no
    # rescaling, as before they were kept).
    optimizer_state = state.get("_optimizer_state")
    if isinstance(optimizer_state, dict) and "rates" not in optimizer_state:
        rule = _registered(optimizer_state.get("name"))
        try:
            rates = {rate: float(state[rate]) for rate in getattr(rule, "decays", {}).values()}
        except (KeyError, TypeError, ValueError):
            rates = {}
        state["_optimizer_state"] = {**optimizer_state, "rates": rates}  # the caller's dict kept
    if "_learning_rate" in state and "_learning_rate_init" not in state:
        solver = _registered(state.get("optimizer"))
        try:
            start = (
                None if solver is None else solver.learning_rate_for(state["learning_rate_init"])
            )
        except (KeyError, TypeError, ValueError):
            start = None
        state["_learning_rate_init"] = start


def _registered(name):
    """The optimizer registered as ``name``, or None (also for a name of another type)."""
    return OPTIMIZERS.get(name) if isinstance(name, str) else None


def _averages_to_sums(state):
    """Optimizer state pickled before 0.3.0 held moving averages; 0.3.0 keeps sums.

    Converted with the decay rates the pickled estimator was fitted with, so
    that ``partial_fit`` continues the same steps (see
    :meth:`sknumpynet.nn.Optimizer.state_from_averages`).
    """
    optimizer_state = state.get("_optimizer_state")
    rule = _registered((optimizer_state or {}).get("name"))
    if getattr(rule, "decays", None):  # L-BFGS keeps no averages
        # A copy: the caller's dict (e.g. one given to __setstate__) stays as it was.
        state["_optimizer_state"] = optimizer_state = dict(optimizer_state)
        rule.state_from_averages(optimizer_state, state)
