"""scikit-learn's callback API (``sklearn.callback``) on both estimators.

Every fit or partial_fit call is one task with one subtask per epoch (per
L-BFGS iteration); the hooks get the data the API defines; callbacks work
standalone, in a Pipeline and propagated from GridSearchCV; a failing
callback leaves the estimator as it was.  test_callbacks_missing.py runs
without ``sklearn.callback`` (scikit-learn < 1.9).
"""

import copy
import inspect
import pickle
import warnings

import numpy as np
import pytest
from _shared import assert_identical
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.nn import OPTIMIZERS

callback = pytest.importorskip(
    "sklearn.callback",
    reason="scikit-learn < 1.9 has no callback API (see test_callbacks_missing.py)",
)


ESTIMATORS = [ScratchMLPClassifier, ScratchMLPRegressor]
# Every registered optimizer: the stepwise ones run epochs, the others (lbfgs)
# iterations of their own loop.
OPTIMIZER_NAMES = sorted(OPTIMIZERS)


def _data(Estimator):
    if Estimator is ScratchMLPClassifier:
        return make_classification(n_samples=60, n_features=4, random_state=0)
    X, y = make_regression(n_samples=60, n_features=4, noise=1.0, random_state=0)
    return X, y / y.std()


def _small(Estimator, **params):
    return Estimator(hidden_layer_sizes=(5,), random_state=0, **{"max_iter": 4, **params})


class Recorder:
    """Records every hook as ``(hook, context, kwargs)``; ends no task early."""

    def __init__(self):
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context, {}))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context, {}))

    def on_fit_task_begin(
        self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None
    ):
        kwargs = dict(X=X, y=y, metadata=metadata, fitted_estimator=fitted_estimator)
        self.calls.append(("begin", context, kwargs))

    def on_fit_task_end(
        self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None
    ):
        kwargs = dict(X=X, y=y, metadata=metadata, fitted_estimator=fitted_estimator)
        self.calls.append(("end", context, kwargs))
        return False

    def hooks(self, hook, task_name=None):
        return [
            (ctx, kwargs)
            for name, ctx, kwargs in self.calls
            if name == hook and task_name in (None, ctx.task_name)
        ]


class PropagatedRecorder(Recorder):
    """A Recorder that a meta-estimator passes on to its sub-estimators."""

    max_propagation_depth = None


class StopAfter(Recorder):
    """Ends training after ``n`` epochs by returning True."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def on_fit_task_end(self, estimator, context, **kwargs):
        super().on_fit_task_end(estimator, context, **kwargs)
        return context.task_name in ("epoch", "iteration") and context.task_id + 1 >= self.n


class Failing(Recorder):
    """Raises in ``hook`` of the task named ``task_name`` with id ``task_id``."""

    def __init__(self, hook, task_name, task_id=0):
        super().__init__()
        self.hook, self.task_name, self.task_id = hook, task_name, task_id

    def _maybe_fail(self, hook, context):
        task = (context.task_name, context.task_id)
        if hook == self.hook and task == (self.task_name, self.task_id):
            raise RuntimeError(f"callback failed in {hook}")

    def setup(self, estimator, context):
        super().setup(estimator, context)
        self._maybe_fail("setup", context)

    def on_fit_task_begin(self, estimator, context, **kwargs):
        super().on_fit_task_begin(estimator, context, **kwargs)
        self._maybe_fail("begin", context)

    def on_fit_task_end(self, estimator, context, **kwargs):
        super().on_fit_task_end(estimator, context, **kwargs)
        self._maybe_fail("end", context)

    def teardown(self, estimator, context):
        super().teardown(estimator, context)
        self._maybe_fail("teardown", context)


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_one_task_per_epoch(Estimator, optimizer):
    X, y = _data(Estimator)
    rec = Recorder()
    est = _small(Estimator, optimizer=optimizer).set_callbacks(rec)
    est.fit(X, y)
    subtask = "epoch" if OPTIMIZERS[optimizer].stepwise else "iteration"

    assert est.n_iter_ == est.max_iter  # a cap, not convergence, ended this fit
    assert [name for name, _, _ in rec.calls if name in ("setup", "teardown")] == [
        "setup",
        "teardown",
    ]
    [(root, begin)] = rec.hooks("begin", "fit")
    [(root_end, end)] = rec.hooks("end", "fit")
    assert root_end is root and root.parent is None and root.max_subtasks == est.max_iter
    assert begin["X"] is end["X"] and np.array_equal(begin["X"], X)
    assert np.array_equal(end["y"], y) and end["metadata"] is None
    assert end["fitted_estimator"] is None  # the estimator itself is, once fit returns

    begun, ended = rec.hooks("begin", subtask), rec.hooks("end", subtask)
    assert len(begun) == len(ended) == est.n_iter_
    assert [ctx.task_id for ctx, _ in ended] == list(range(est.n_iter_))
    assert all(ctx.parent is root for ctx, _ in ended)
    for _, kwargs in ended:
        assert np.array_equal(kwargs["X"], X) and np.array_equal(kwargs["y"], y)
        assert kwargs["fitted_estimator"] is not est
    # The hooks come in order: root begins, each epoch begins and ends, root ends.
    order = [(name, ctx.task_name) for name, ctx, _ in rec.calls]
    assert order == [
        ("setup", "fit"),
        ("begin", "fit"),
        *[(hook, subtask) for _ in range(est.n_iter_) for hook in ("begin", "end")],
        ("end", "fit"),
        ("teardown", "fit"),
    ]


def test_lbfgs_iteration_it_did_not_run_ends_without_data():
    # L-BFGS may begin another iteration and then find it has converged: that
    # task ends with no data, as in scikit-learn's LogisticRegression.
    X, y = _data(ScratchMLPClassifier)
    rec = Recorder()
    est = _small(ScratchMLPClassifier, optimizer="lbfgs", max_iter=200, tol=1e-2)
    est.set_callbacks(rec).fit(X, y)
    assert 0 < est.n_iter_ < est.max_iter
    ended = rec.hooks("end", "iteration")
    assert len(rec.hooks("begin", "iteration")) == len(ended) == est.n_iter_ + 1
    assert all(kwargs["X"] is not None for _, kwargs in ended[:-1])
    assert all(value is None for value in ended[-1][1].values())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_partial_fit_is_one_task_of_one_epoch(Estimator):
    X, y = _data(Estimator)
    rec = Recorder()
    est = _small(Estimator).set_callbacks(rec)
    kwargs = {"classes": np.unique(y)} if Estimator is ScratchMLPClassifier else {}
    est.partial_fit(X, y, **kwargs)
    est.partial_fit(X, y)
    assert [ctx.max_subtasks for ctx, _ in rec.hooks("begin", "partial_fit")] == [1, 1]
    assert len(rec.hooks("end", "epoch")) == 2
    assert len(rec.hooks("teardown")) == 2


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_fitted_estimator_holds_a_copy_of_the_epochs_weights(Estimator):
    X, y = _data(Estimator)
    rec = Recorder()
    est = _small(Estimator).set_callbacks(rec).fit(X, y)
    snapshots = [kwargs["fitted_estimator"] for _, kwargs in rec.hooks("end", "epoch")]
    assert np.array_equal(snapshots[-1].predict(X), est.predict(X))
    # Copies, not views of the weights that went on training.
    assert not np.array_equal(snapshots[0].coefs_[0], est.coefs_[0])
    assert snapshots[0].coefs_[0] is not snapshots[1].coefs_[0]


def test_a_kept_snapshot_shares_nothing_the_estimator_changes():
    # The snapshot of an epoch (a copy.copy of the estimator) shared the record
    # lists that the commit extends in place: they grew with the estimator, and
    # training the snapshot grew the estimator's.
    X, y = _data(ScratchMLPClassifier)
    est = _small(ScratchMLPClassifier).partial_fit(X, y, classes=np.unique(y))
    rec = Recorder()
    est.set_callbacks(rec).partial_fit(X, y)
    [(_, kwargs)] = rec.hooks("end", "epoch")
    snap = kwargs["fitted_estimator"]
    assert snap.loss_curve_ == est.loss_curve_ and snap.loss_curve_ is not est.loss_curve_
    assert snap.t_ == est.t_ and snap.n_iter_ == 1
    before = {name: list(getattr(est, name)) for name in ("loss_curve_", "learning_rates_")}
    est.set_callbacks()
    snap.set_callbacks().partial_fit(X, y)  # the snapshot trains on as a model of its own
    assert len(snap.loss_curve_) == 3
    for name, values in before.items():
        assert getattr(est, name) == values
    est.partial_fit(X, y)
    np.testing.assert_array_equal(snap.coefs_[0], est.coefs_[0])  # the same third call


def test_a_fresh_fits_epoch_snapshot_is_a_whole_fitted_model():
    X, y = _data(ScratchMLPClassifier)
    rec = Recorder()
    est = _small(ScratchMLPClassifier).set_callbacks(rec).fit(X, y)
    snaps = [kwargs["fitted_estimator"] for _, kwargs in rec.hooks("end", "epoch")]
    assert [len(s.loss_curve_) for s in snaps] == list(range(1, len(snaps) + 1))
    assert snaps[-1].loss_curve_ == est.loss_curve_ and snaps[-1].t_ == est.t_
    snaps[0].set_callbacks().partial_fit(X, y)  # continues from epoch 1
    assert snaps[0].t_ == 2 * len(X)


def test_epochs_see_the_training_rows_and_weights():
    X, y = _data(ScratchMLPClassifier)
    sw = np.linspace(0.5, 2.0, len(y))
    rec = Recorder()
    est = _small(ScratchMLPClassifier, early_stopping=True, validation_fraction=0.2)
    est.set_callbacks(rec).fit(X, y, sample_weight=sw)
    [(_, root)] = rec.hooks("begin", "fit")
    assert len(root["X"]) == 60 and np.array_equal(root["metadata"]["sample_weight"], sw)
    epochs = rec.hooks("end", "epoch")
    assert len(epochs) == est.n_iter_ == est.max_iter
    for _, kwargs in epochs:
        assert len(kwargs["X"]) == len(kwargs["y"]) == 48  # without the held-out 20%
        rows = [np.flatnonzero((X == row).all(axis=1))[0] for row in kwargs["X"]]
        assert np.array_equal(kwargs["y"], y[rows])
        assert np.array_equal(kwargs["metadata"]["sample_weight"], sw[rows])


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
def test_returning_true_stops_training(optimizer):
    X, y = _data(ScratchMLPClassifier)
    est = _small(ScratchMLPClassifier, optimizer=optimizer, max_iter=50)
    # A stop asked for by a callback is no failure to converge: no warning at all
    # (a filter inside the test, which no mark on the module or the test overrides).
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.set_callbacks(StopAfter(2)).fit(X, y)
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_scoring_monitor_logs_one_score_per_epoch(Estimator):
    X, y = _data(Estimator)
    sw = np.linspace(0.5, 2.0, len(y))
    scoring = "accuracy" if Estimator is ScratchMLPClassifier else "r2"
    monitor = callback.ScoringMonitor(scoring=scoring)
    est = _small(Estimator).set_callbacks(monitor).fit(X, y, sample_weight=sw)
    rows = monitor.get_logs().data
    assert [row["task_id"] for row in rows] == list(range(est.n_iter_))
    assert {row["task_name"] for row in rows} == {"epoch"}
    # The last epoch's weights are the final ones; the score is weighted.
    assert rows[-1][scoring] == pytest.approx(est.score(X, y, sample_weight=sw))


def test_scoring_monitor_in_a_pipeline_scores_the_transformed_data():
    X, y = _data(ScratchMLPClassifier)
    monitor = callback.ScoringMonitor(scoring="accuracy")
    pipe = make_pipeline(StandardScaler(), _small(ScratchMLPClassifier).set_callbacks(monitor))
    pipe.fit(X * 100, y)
    rows = monitor.get_logs().data
    assert len(rows) == pipe[-1].n_iter_
    assert rows[-1]["accuracy"] == pytest.approx(accuracy_score(y, pipe.predict(X * 100)))


def _progress_bar():
    pytest.importorskip("rich", reason="ProgressBar needs rich (the callbacks extra)")
    return callback.ProgressBar()


@pytest.mark.parametrize("optimizer", OPTIMIZER_NAMES)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_progress_bar_standalone(Estimator, optimizer, capsys):
    X, y = _data(Estimator)
    _small(Estimator, optimizer=optimizer).set_callbacks(_progress_bar()).fit(X, y)
    out = capsys.readouterr().out
    assert f"{Estimator.__name__} - fit" in out and "100%" in out


def test_progress_bar_in_a_pipeline(capsys):
    X, y = _data(ScratchMLPClassifier)
    pipe = make_pipeline(StandardScaler(), _small(ScratchMLPClassifier))
    pipe.set_callbacks(_progress_bar()).fit(X, y)
    out = capsys.readouterr().out
    assert "Pipeline - fit" in out and "ScratchMLPClassifier - fit" in out


def test_progress_bar_from_grid_search(capsys):
    X, y = _data(ScratchMLPClassifier)
    search = GridSearchCV(_small(ScratchMLPClassifier), {"alpha": [1e-4, 1e-2]}, cv=2)
    search.set_callbacks(_progress_bar()).fit(X, y)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out and "ScratchMLPClassifier - fit" in out


def test_grid_search_propagates_into_the_epochs():
    X, y = _data(ScratchMLPClassifier)
    rec = PropagatedRecorder()
    search = GridSearchCV(_small(ScratchMLPClassifier), {"alpha": [1e-4, 1e-2]}, cv=2)
    search.set_callbacks(rec).fit(X, y)
    ended = rec.hooks("end", "epoch")
    assert len(ended) == (2 * 2 + 1) * 4  # 4 fits in the search, 1 refit, 4 epochs each
    for ctx, kwargs in ended:
        fit = ctx.parent  # each fit's task is merged into the search's task tree
        assert fit.estimator_name == "ScratchMLPClassifier"
        assert fit.source_estimator_name == "GridSearchCV"
        assert kwargs["fitted_estimator"] is not None
    assert len(rec.hooks("setup")) == len(rec.hooks("teardown")) == 1  # on the search only


def _state(est):
    # Callbacks are compared by identity; "_cache" is the base's workspace, no state.
    skip = ("_skl_callbacks", "_cache")
    return copy.deepcopy({k: v for k, v in est.__dict__.items() if k not in skip})


@pytest.mark.parametrize(
    "task, hook",
    [("root", "setup"), ("root", "begin"), ("epoch", "begin"), ("epoch", "end")]
    + [("root", "end"), ("root", "teardown")],
)
@pytest.mark.parametrize("call", ["fresh fit", "warm fit", "partial_fit"])
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_failing_callback_leaves_the_estimator_as_it_was(Estimator, call, task, hook):
    X, y = _data(Estimator)
    est = _small(Estimator, warm_start=call == "warm fit")
    if call != "fresh fit":
        est.fit(X, y)
    before = _state(est)
    method = est.partial_fit if call == "partial_fit" else est.fit
    root = method.__name__
    # The third epoch (partial_fit runs one only).
    epoch = 0 if root == "partial_fit" else 2
    failing = Failing(hook, root) if task == "root" else Failing(hook, "epoch", epoch)
    rec = Recorder()
    est.set_callbacks(rec, failing)
    with pytest.raises(RuntimeError, match=f"callback failed in {hook}"):
        method(X, y)
    assert_identical(_state(est), before)
    assert est._skl_callbacks[0] is rec and est._skl_callbacks[1] is failing
    # Both were torn down, the one that failed included.
    assert [name for name, _, _ in rec.calls][-1] == "teardown"
    assert [name for name, _, _ in failing.calls][-1] == "teardown"
    # And the estimator trains as before with them.
    est.set_callbacks(rec)
    method(X, y)
    assert rec.calls[-1][0] == "teardown"


class PropagatedFailing(Failing):
    max_propagation_depth = None


def test_failing_callback_from_a_pipeline_leaves_the_network_as_it_was():
    # The pipeline hands its context and callback to the network for the
    # call and takes them back after: that too must survive the rollback.
    X, y = _data(ScratchMLPClassifier)
    net = _small(ScratchMLPClassifier)
    pipe = make_pipeline(StandardScaler(), net)
    failing = PropagatedFailing("end", "epoch", 1)
    with pytest.raises(RuntimeError, match="callback failed in end"):
        pipe.set_callbacks(failing).fit(X, y)
    assert not hasattr(net, "coefs_")
    assert not hasattr(net, "_skl_callbacks") and not hasattr(net, "_parent_callback_ctx")
    assert [name for name, _, _ in failing.calls][-1] == "teardown"


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_clone_and_get_params_are_unaffected(Estimator):
    rec = Recorder()
    plain, est = Estimator(max_iter=3), Estimator(max_iter=3).set_callbacks(rec)
    assert est.get_params() == plain.get_params() and repr(est) == repr(plain)
    assert "callbacks" not in inspect.signature(Estimator).parameters
    cloned = clone(est)
    assert cloned.get_params() == plain.get_params()
    assert cloned._skl_callbacks == [rec]  # scikit-learn shares callbacks with clones
    est.set_callbacks()
    assert not hasattr(est, "_skl_callbacks")


def test_estimator_with_callbacks_pickles_after_fit():
    X, y = _data(ScratchMLPClassifier)
    monitor = callback.ScoringMonitor(scoring="accuracy")
    est = _small(ScratchMLPClassifier).set_callbacks(monitor).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    restored.fit(X, y)
    assert len(restored._skl_callbacks[0].get_logs().data) == restored.n_iter_


def test_verbose_still_prints_with_callbacks(capsys):
    X, y = _data(ScratchMLPClassifier)
    _small(ScratchMLPClassifier, verbose=1).set_callbacks(Recorder()).fit(X, y)
    assert capsys.readouterr().out.count("Iteration ") == 4
