"""Behaviour that follows scikit-learn's MLPs (issue 8, §5): the early-stopping
split of warm-started fits, n_iter_ per call, what partial_fit and warm_start
refuse, float32/float64 networks, unlimited patience, the "logistic" name,
glorot_uniform initialisation, exact rollback of a failed call, warnings that
point at the caller, and partial_fit as fit one epoch at a time."""

import copy
import math
import warnings

import numpy as np
import pytest
from _shared import STEP_OPTIMIZERS, assert_identical, weights
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.exceptions import DivergenceWarning, TrainingInterruptedWarning
from sknumpynet.nn import INIT_OPTIONS, OPTIMIZERS
from sknumpynet.nn.network import MLP


@pytest.fixture(scope="module")
def digits():
    """300 digits scaled to [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


SMALL = {
    "hidden_layer_sizes": (8,),
    "max_iter": 5,
    "learning_rate_init": 0.01,
    "batch_size": 50,
    "random_state": 0,
}


def _est(cls, **kwargs):
    return cls(**{**SMALL, **kwargs})


def _clf(**kwargs):
    return _est(ScratchMLPClassifier, **kwargs)


def _regression(digits):
    """A real-valued target on the digits features."""
    X, y = digits
    return X, (y - y.mean()) / y.std() + np.sin(X[:, 20])


def _state(est):
    """Everything an estimator keeps but a stream's workspace (``_stream``: the
    network and buffers a run of partial_fit calls reuses, no fitted state)."""
    return {k: v for k, v in est.__dict__.items() if k != "_stream"}


def _fail_on_call(monkeypatch, k, exc=RuntimeError):
    """Make the k-th MLP.loss_grad call (one batch, or one L-BFGS evaluation) raise."""
    calls = []
    original = MLP.loss_grad

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == k:
            raise exc("injected failure")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MLP, "loss_grad", failing)
    return calls


# ---- warm_start + early_stopping: the same held-out rows -------------------


def _with_scorer(kind, digits):
    """Estimator, validation score function and stratification labels."""
    X, y = digits
    if kind == "classifier":
        return X, y, _clf(), accuracy_score, y
    return X, _regression(digits)[1], _est(ScratchMLPRegressor), r2_score, None


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_warm_fits_of_a_frozen_model_score_the_same_rows(kind, digits):
    # gd with a learning rate of 1e-12 leaves the drawn weights as they are,
    # so every warm fit scores the same model: on the same held-out rows, to
    # the same validation score.
    X, y, est, score, stratify = _with_scorer(kind, digits)
    est.set_params(
        optimizer="gd",
        learning_rate_init=1e-12,
        max_iter=1,
        early_stopping=True,
        validation_fraction=0.3,
        warm_start=True,
    )
    for _ in range(5):
        est.fit(X, y)
    assert len(est.validation_scores_) == 5
    # (The steps of 1e-12 move an R² in its tenth digit or so.)
    assert np.ptp(est.validation_scores_) < 1e-8
    # Other held-out rows would have given other scores.
    others = [
        score(y[val], est.predict(X[val]))
        for val in (
            train_test_split(np.arange(len(X)), test_size=0.3, stratify=stratify, random_state=s)[1]
            for s in range(5)
        )
    ]
    assert np.ptp(others) > 1e-3


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_warm_fits_hold_out_the_rows_drawn_from_the_seed(kind, digits):
    X, y, est, score, stratify = _with_scorer(kind, digits)
    est.set_params(early_stopping=True, validation_fraction=0.3, warm_start=True, max_iter=2)
    est.fit(X, y)
    seed = est._random_seed
    _, val = train_test_split(
        np.arange(len(X)), test_size=0.3, stratify=stratify, random_state=seed
    )
    for _ in range(4):
        est.fit(X, y)
        assert est._random_seed == seed
        # The kept weights are the best-scoring ones so far (this fit's epochs
        # or the weights it started from); scored on the same rows, their
        # score is the best validation score.
        assert est.best_validation_score_ == pytest.approx(
            score(y[val], est.predict(X[val])), rel=1e-12
        )
    assert len(est.validation_scores_) == 10


def test_random_seed_is_the_same_for_fresh_fits_with_an_int_random_state(digits):
    X, y = digits
    a = _clf(random_state=7, early_stopping=True).fit(X, y)
    b = _clf(random_state=7, early_stopping=True).fit(X, y)
    assert a._random_seed == b._random_seed
    assert a.validation_scores_ == b.validation_scores_
    # A fresh fit of the same estimator draws the same seed again.
    seed = a._random_seed
    a.fit(X, y)
    assert a._random_seed == seed
    assert _clf(random_state=8).fit(X, y)._random_seed != seed


# ---- n_iter_ per call, as MLPClassifier -----------------------------------


def test_n_iter_counts_the_epochs_of_the_latest_warm_fit(digits):
    X, y = digits
    ours = _clf(max_iter=3, tol=0.0, warm_start=True)
    sk = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=3, tol=0.0, warm_start=True, random_state=0
    )
    for call in (1, 2):
        ours.fit(X, y)
        sk.fit(X, y)
        assert ours.n_iter_ == sk.n_iter_ == 3
        assert len(ours.loss_curve_) == len(sk.loss_curve_) == 3 * call
        assert ours.t_ == sk.t_ == 3 * call * len(X)


def test_partial_fit_n_iter_is_one_and_loss_curve_grows_by_one(digits):
    X, y = digits
    ours = _clf()
    sk = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    for call in (1, 2, 3):
        ours.partial_fit(X, y, classes=np.unique(y))
        sk.partial_fit(X, y, classes=np.unique(y))
        assert ours.n_iter_ == sk.n_iter_ == 1
        assert len(ours.loss_curve_) == len(sk.loss_curve_) == call
        assert ours.t_ == sk.t_ == call * len(X)


# ---- what partial_fit and warm_start refuse --------------------------------


@pytest.mark.parametrize("fitted", [False, True])
def test_partial_fit_refuses_early_stopping(fitted, digits):
    X, y = digits
    classes = np.unique(y)
    sk = MLPClassifier(early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping"):
        sk.partial_fit(X, y, classes=classes)
    ours = _clf()
    if fitted:
        ours.partial_fit(X, y, classes=classes)
    before = copy.deepcopy(_state(ours))
    ours.set_params(early_stopping=True)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        ours.partial_fit(X, y, classes=classes)
    assert_identical(
        {k: v for k, v in _state(ours).items() if k != "early_stopping"},
        {k: v for k, v in before.items() if k != "early_stopping"},
    )


def test_warm_fit_without_some_classes_is_refused(digits):
    X, y = digits
    some = y < 8
    sk = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start"):
        sk.fit(X[some], y[some])
    ours = _clf(warm_start=True).fit(X, y)
    before = weights(ours)
    with pytest.raises(ValueError, match="warm_start can only be used where y has the same"):
        ours.fit(X[some], y[some])
    assert_identical(weights(ours), before)
    np.testing.assert_array_equal(ours.classes_, np.arange(10))


# ---- float32 and float64 from the same random_state ----------------------


@pytest.mark.parametrize("init", sorted(INIT_OPTIONS))
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_float32_and_float64_fits_are_the_same_network(init, optimizer, digits):
    X, y = digits
    est32 = _clf(init=init, optimizer=optimizer, max_iter=2).fit(X.astype(np.float32), y)
    est64 = _clf(init=init, optimizer=optimizer, max_iter=2).fit(X, y)
    assert est32.coefs_[0].dtype == np.float32 and est64.coefs_[0].dtype == np.float64
    for a, b in zip(weights(est32), weights(est64), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(est32.predict_proba(X), est64.predict_proba(X), atol=1e-4)
    assert (est32.predict(X) == est64.predict(X)).mean() > 0.99


# ---- unlimited patience ---------------------------------------------------


@pytest.mark.parametrize("early_stopping", [False, True])
def test_infinite_n_iter_no_change_never_stops_on_patience(early_stopping, digits):
    X, y = digits
    # With a huge tol no epoch counts as an improvement.
    settings = {"tol": 1e9, "max_iter": 15, "early_stopping": early_stopping}
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(15\\) reached"):
        patient = _clf(n_iter_no_change=np.inf, **settings).fit(X, y)
    assert patient.n_iter_ == 15
    # The first epoch improves on nothing (inf); the next three stall.
    assert _clf(n_iter_no_change=2, **settings).fit(X, y).n_iter_ == 4


# ---- activation="logistic" and init="glorot_uniform" -------------------------


@pytest.mark.parametrize("cls", [ScratchMLPClassifier, ScratchMLPRegressor])
@pytest.mark.parametrize("init", ["auto", "glorot_uniform"])
def test_logistic_is_sigmoid_bit_for_bit(cls, init, digits):
    X, y = digits if cls is ScratchMLPClassifier else _regression(digits)
    params = {"init": init, "hidden_layer_sizes": (8, 6)}
    logistic = _est(cls, activation="logistic", **params).fit(X, y)
    sigmoid = _est(cls, activation="sigmoid", **params).fit(X, y)
    assert_identical(weights(logistic), weights(sigmoid))
    assert logistic.loss_curve_ == sigmoid.loss_curve_
    assert_identical(logistic.predict(X), sigmoid.predict(X))


@pytest.mark.parametrize("activation, k", [("relu", 6.0), ("tanh", 6.0), ("logistic", 2.0)])
def test_glorot_uniform_draws_within_scikit_learns_bounds(activation, k, digits):
    # One gd step of 1e-12 leaves the drawn weights as they were (to 1e-12).
    X, y = digits
    clf = _clf(
        hidden_layer_sizes=(30, 20),
        activation=activation,
        init="glorot_uniform",
        optimizer="gd",
        learning_rate_init=1e-12,
        max_iter=1,
    ).fit(X, y)
    for W, b in zip(clf.coefs_, clf.intercepts_, strict=True):
        bound = math.sqrt(k / sum(W.shape))
        for values in (W, b):
            assert np.abs(values).max() <= bound + 1e-9
        # Uniform over the whole interval, not a narrower one.
        assert np.abs(W).max() > 0.95 * bound
        assert abs(W.mean()) < 0.1 * bound


def test_glorot_uniform_iris_cv_accuracy_close_to_mlp_classifier():
    X, y = load_iris(return_X_y=True)
    ours = cross_val_score(ScratchMLPClassifier(init="glorot_uniform", random_state=0), X, y)
    sk = cross_val_score(MLPClassifier(random_state=0), X, y)
    print(f"iris 5-fold CV accuracy: sknumpynet {ours.mean():.4f}, MLPClassifier {sk.mean():.4f}")
    assert abs(ours.mean() - sk.mean()) <= 0.03


# ---- exact rollback of a failed call ----------------------------------------


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("cls", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_failed_warm_fit_leaves_everything_as_it_was(optimizer, cls, digits, monkeypatch):
    X, y = digits if cls is ScratchMLPClassifier else _regression(digits)
    est = _est(cls, optimizer=optimizer, warm_start=True)
    est.fit(X, y)
    before = copy.deepcopy(_state(est))
    # 6 batches an epoch: call 9 is mid-way through the second epoch; a
    # full-batch optimizer evaluates once an epoch (gd) or at least once an
    # iteration (lbfgs): call 3.
    k = 3 if OPTIMIZERS[optimizer].full_batch else 9
    calls = _fail_on_call(monkeypatch, k)
    with pytest.raises(RuntimeError, match="injected failure"):
        est.fit(X, y)
    assert len(calls) == k
    for name in ("coefs_", "intercepts_", "loss_curve_", "n_iter_", "t_", "_optimizer_state"):
        assert_identical(getattr(est, name, None), before.get(name), name)
    assert_identical(_state(est), before)


@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS)
@pytest.mark.parametrize("cls", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_failed_partial_fit_leaves_everything_as_it_was(optimizer, cls, digits, monkeypatch):
    X, y = digits if cls is ScratchMLPClassifier else _regression(digits)
    est = _est(cls, optimizer=optimizer)
    kwargs = {"classes": np.unique(y)} if cls is ScratchMLPClassifier else {}
    est.partial_fit(X, y, **kwargs).partial_fit(X, y)
    before = copy.deepcopy(_state(est))
    # 6 batches a call (one for a full-batch optimizer, gd): fail in the third call.
    steps_per_call = 1 if OPTIMIZERS[optimizer].full_batch else 6
    _fail_on_call(monkeypatch, 1 if steps_per_call == 1 else 4)
    with pytest.raises(RuntimeError, match="injected failure"):
        est.partial_fit(X, y)
    for name in ("coefs_", "intercepts_", "loss_curve_", "n_iter_", "t_", "_optimizer_state"):
        assert_identical(getattr(est, name, None), before.get(name), name)
    assert est._optimizer_state["t"] == 2 * steps_per_call
    assert_identical(_state(est), before)


def test_failed_fit_keeps_the_very_hyperparameter_objects(digits, monkeypatch):
    # The rollback copies the fitted state, not the hyperparameters: a
    # Generator passed as random_state stays the caller's object.
    X, y = digits
    gen, sizes = np.random.default_rng(0), [8]
    est = _clf(random_state=gen, hidden_layer_sizes=sizes, warm_start=True).fit(X, y)
    _fail_on_call(monkeypatch, 2)
    with pytest.raises(RuntimeError, match="injected failure"):
        est.fit(X, y)
    assert est.random_state is gen
    assert est.hidden_layer_sizes is sizes


# ---- warnings point at the caller ----------------------------------------


def _warning_sites(category, fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    found = [w for w in caught if issubclass(w.category, category)]
    assert found, f"no {category.__name__} was raised"
    return {w.filename for w in found}


def _interrupt_on_third_batch(monkeypatch):
    _fail_on_call(monkeypatch, 3, exc=KeyboardInterrupt)


WARNING_CASES = {
    "convergence": (ConvergenceWarning, {"max_iter": 2}, None),
    "lbfgs-cap": (ConvergenceWarning, {"optimizer": "lbfgs", "max_iter": 2}, None),
    "divergence": (DivergenceWarning, {"optimizer": "sgd", "learning_rate_init": 1e3}, None),
    "batch-size": (UserWarning, {"batch_size": 1000}, None),
    "interrupted": (TrainingInterruptedWarning, {}, _interrupt_on_third_batch),
}


@pytest.mark.parametrize("case", sorted(WARNING_CASES))
@pytest.mark.parametrize("in_pipeline", [False, True])
@pytest.mark.parametrize("cls", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_warnings_point_at_the_callers_line(case, in_pipeline, cls, digits, monkeypatch):
    X, y = digits if cls is ScratchMLPClassifier else _regression(digits)
    X = X * 16.0  # unscaled (0..16), so a learning rate of 1e3 explodes
    category, params, setup = WARNING_CASES[case]
    if setup is not None:
        setup(monkeypatch)
    est = _est(cls, **params)
    model = make_pipeline(StandardScaler(with_mean=False, with_std=False), est)
    target = model if in_pipeline else est
    assert _warning_sites(category, lambda: target.fit(X, y)) == {__file__}


# ---- partial_fit is fit one epoch at a time --------------------------------


@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS)
@pytest.mark.parametrize("cls", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_k_partial_fits_equal_fit_with_max_iter_k(optimizer, cls, digits):
    X, y = digits if cls is ScratchMLPClassifier else _regression(digits)
    params = {"optimizer": optimizer, "shuffle": False, "tol": 0.0}
    fitted = _est(cls, max_iter=4, **params).fit(X, y)
    stepped = _est(cls, **params)
    kwargs = {"classes": np.unique(y)} if cls is ScratchMLPClassifier else {}
    for _ in range(4):
        stepped.partial_fit(X, y, **kwargs)
    assert_identical(weights(stepped), weights(fitted))
    assert stepped.loss_curve_ == fitted.loss_curve_
    assert stepped.t_ == fitted.t_
