"""scikit-learn's callback API (:mod:`sklearn.callback`, scikit-learn >= 1.9).

With it, ``est.set_callbacks(ProgressBar(), ScoringMonitor(scoring="accuracy"))``
registers callbacks, and callbacks set on a :class:`~sklearn.pipeline.Pipeline`
or a search such as :class:`~sklearn.model_selection.GridSearchCV` reach the
estimator as they reach scikit-learn's own.  On an older scikit-learn,
``set_callbacks`` raises ImportError and nothing else changes.

Task tree of one ``fit`` or ``partial_fit`` call
    The call is one task (``"fit"`` or ``"partial_fit"``; inside a
    meta-estimator it is merged with the meta-estimator's task for it) with one
    subtask per epoch (``"epoch"``), or per iteration for L-BFGS
    (``"iteration"``); ``max_subtasks`` is the number of epochs the call may
    run.
Hook arguments
    ``X``, ``y`` and ``metadata`` (``{"sample_weight": ...}`` when weights were
    passed; ``class_weight`` is not in them) are the call's validated data;
    an epoch's are its training rows (without the rows held out by
    ``early_stopping``).  ``fitted_estimator`` of an epoch is a copy of the
    estimator holding copies of the weights at that moment, so a callback may
    keep it.  The whole call's end hands over no ``fitted_estimator`` (the
    estimator, once ``fit`` returns, is the fitted one).  A subtask that
    began but did not complete (the iteration L-BFGS was about to start when
    it converged, an epoch cut short by divergence or Ctrl-C) ends with no
    data, as in scikit-learn's ``LogisticRegression``.
Stopping
    An ``on_fit_task_end`` that returns True after an epoch stops training
    there, without a ConvergenceWarning.
Failure
    A call that raises, in a hook (``teardown`` included) or anywhere else,
    leaves the estimator as it was (the base class rolls it back); the
    callbacks are torn down all the same.
"""

import functools

from ._engine import LBFGSRun
from ._events import FitEvents
from ._sklearn_compat import CALLBACK_ATTRIBUTES, check_sample_weight

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9
    CallbackSupportMixin = with_callbacks = None

MIN_SKLEARN = "1.9"

# scikit-learn's names for what a meta-estimator (or set_callbacks) puts on an
# estimator before fit: objects shared with the caller, to be kept by reference.
_SHARED = CALLBACK_ATTRIBUTES
# Where the state of the running call waits for the FitEvents (see _Call).
_CALL = "_callback_call"


if CallbackSupportMixin is None:

    class CallbackSupport:
        """Stands in for :class:`sklearn.callback.CallbackSupportMixin`."""

        def set_callbacks(self, *callbacks):
            """Needs :mod:`sklearn.callback`, which scikit-learn >= 1.9 ships."""
            import sklearn

            raise ImportError(
                f"set_callbacks needs scikit-learn >= {MIN_SKLEARN} (sklearn.callback); "
                f"scikit-learn {sklearn.__version__} is installed."
            )

else:
    CallbackSupport = CallbackSupportMixin


class _Call:
    """The callback state of one call, handed from :func:`managed` to its FitEvents.

    Callbacks and contexts are shared with the caller (a copy of a
    ScoringMonitor would log nowhere; a copy of a search's context copies its
    whole task tree), so :func:`managed` takes them out of ``__dict__`` for the
    call and puts them in this holder, which a deep copy of the estimator
    keeps by reference.
    """

    def __init__(self, shared):
        self.shared = shared
        self.live = {}  # what _init_callback_context added: the teardown needs it

    def __deepcopy__(self, memo):
        return self

    def teardown(self, est):
        """Tear down the callbacks this call set up, once."""
        live, self.live = self.live, {}
        if live:
            est.__dict__.update(live)
            # scikit-learn's public way to tear down: it deletes `live` again.
            with_callbacks(_nothing)(est)


def _nothing(est):
    pass


def managed(method):
    """Decorate ``_fit``: run it within scikit-learn's callback management.

    What the callback API keeps on the estimator passes the rollback of a
    failed call untouched, and the callbacks are torn down however the call
    ends: at the end of training, within the call (so a teardown that raises
    rolls the call back too), or after the rollback of a call that failed
    earlier.  Without :mod:`sklearn.callback`, ``method`` is returned as is.
    """
    if with_callbacks is None:
        return method

    @functools.wraps(method)
    def call(est, *args, **kwargs):
        shared = {k: est.__dict__.pop(k) for k in _SHARED if k in est.__dict__}
        if not shared:  # no callbacks, no meta-estimator: nothing to do
            return method(est, *args, **kwargs)
        state = est.__dict__[_CALL] = _Call(shared)
        try:
            return method(est, *args, **kwargs)
        finally:
            est.__dict__.pop(_CALL, None)
            est.__dict__.update(shared)
            state.teardown(est)  # a call that failed before the end of training

    return call


def fit_events(est, partial, X, y, sample_weight):
    """The FitEvents that run ``est``'s callbacks in this call (none without any).

    Parameters
    ----------
    est : estimator of the family
    partial : bool
        True for ``partial_fit``.
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        The call's validated training data.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Its validated targets (labels for the classifier).
    sample_weight : array-like of shape (n_samples,), scalar or None
        The weights passed to the call (validated already), without the
        ``class_weight`` the estimator may multiply in.

    Returns
    -------
    list of FitEvents
    """
    call = est.__dict__.get(_CALL)
    if call is None:
        return []
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, X)
    return [CallbackTasks(call, "partial_fit" if partial else "fit", X, y, sample_weight)]


class CallbackTasks(FitEvents):
    """One task for the call and one subtask per epoch, told to the callbacks.

    Parameters
    ----------
    call : _Call
    task_name : str
        Name of the call's task.
    X, y, sample_weight
        The call's data (see :func:`fit_events`).
    """

    def __init__(self, call, task_name, X, y, sample_weight):
        self.call, self.task_name = call, task_name
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.context = self.subtask = self._train = None

    def _metadata(self, sample_weight):
        return None if sample_weight is None else {"sample_weight": sample_weight}

    def _training_data(self, loop):
        """``(X, y, metadata)`` of the rows the epochs train on, gathered once."""
        if self._train is None:
            rows = getattr(loop, "rows", None)
            X, y, sw = self.X, self.y, self.sample_weight
            if rows is not None:
                X, y, sw = X[rows], y[rows], None if sw is None else sw[rows]
            self._train = X, y, self._metadata(sw)
        return self._train

    def _epoch_kwargs(self, loop):
        # Callables are evaluated by the context only for hooks that ask for them.
        return {
            "estimator": loop.estimator,
            "X": lambda: self._training_data(loop)[0],
            "y": lambda: self._training_data(loop)[1],
            "metadata": lambda: self._training_data(loop)[2],
            "reconstruction_attributes": lambda: loop.state.snapshot(loop.estimator),
        }

    def on_fit_begin(self, loop, epochs):
        est = loop.estimator
        est.__dict__.update(self.call.shared)  # where _init_callback_context reads them
        before = set(est.__dict__)
        try:
            self.context = est._init_callback_context(task_name=self.task_name, max_subtasks=epochs)
        finally:  # a setup that raised still needs the teardown of those before it
            self.call.live = {k: v for k, v in est.__dict__.items() if k not in before}
        self.epochs = epochs
        self.subtask_name = "iteration" if isinstance(loop, LBFGSRun) else "epoch"
        self.context.call_on_fit_task_begin(
            estimator=est, X=self.X, y=self.y, metadata=self._metadata(self.sample_weight)
        )

    def on_epoch_begin(self, loop, epoch):
        if epoch >= self.epochs:  # L-BFGS asks after its last allowed iteration
            return
        self.subtask = self.context.subcontext(task_name=self.subtask_name)
        self.subtask.call_on_fit_task_begin(**self._epoch_kwargs(loop))

    def on_epoch_end(self, loop, epoch, loss, score):
        subtask, self.subtask = self.subtask, None
        return subtask.call_on_fit_task_end(**self._epoch_kwargs(loop))

    def on_fit_end(self, loop):
        est = loop.estimator
        if self.subtask is not None:  # began, never completed
            self.subtask.call_on_fit_task_end(estimator=est)
            self.subtask = None
        self.context.call_on_fit_task_end(
            estimator=est, X=self.X, y=self.y, metadata=self._metadata(self.sample_weight)
        )
        self.call.teardown(est)
