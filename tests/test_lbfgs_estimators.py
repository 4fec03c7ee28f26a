"""optimizer="lbfgs" in both estimators: the iteration and evaluation caps,
the warning when one is hit, what lbfgs ignores (partial_fit, batch_size,
shuffle, early_stopping), the objective it minimises, and the model against
scikit-learn's solver="lbfgs" from the same and from independent starts."""

import warnings

import numpy as np
import pytest
from _shared import assert_identical, weights
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet._sklearn_mlp import sklearn_equivalent
from sknumpynet.nn.network import MLP

# The start of the warning of a run that hits its cap: scikit-learn's words,
# in both libraries (the suite's filters ignore it, as for the reference).
CAP = "lbfgs failed to converge after"


@pytest.fixture(scope="module")
def digits():
    """All of digits, standardised on the training part, split 3:1."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _classification(n=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int) + (X[:, 2] > 0.5)
    return X, y


def _regression(n=150, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.1 * rng.standard_normal(n)


DATA = {ScratchMLPClassifier: _classification, ScratchMLPRegressor: _regression}
ESTIMATORS = [ScratchMLPClassifier, ScratchMLPRegressor]


def _lbfgs(cls, **kwargs):
    params = {"hidden_layer_sizes": (8,), "optimizer": "lbfgs", "random_state": 0}
    return cls(**{**params, **kwargs})


def _count_evaluations(monkeypatch):
    """Count MLP.loss_grad calls (one per objective evaluation of L-BFGS)."""
    calls = []
    original = MLP.loss_grad

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MLP, "loss_grad", counted)
    return calls


# ---- caps and the warning ------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_max_iter_counts_iterations_and_warns(cls):
    X, y = DATA[cls]()
    est = _lbfgs(cls, max_iter=4, tol=0.0)
    with pytest.warns(ConvergenceWarning, match=rf"^{CAP} 4 iteration\(s\) \(status=1\)"):
        est.fit(X, y)
    assert est.n_iter_ == 4
    assert len(est.loss_curve_) == est.n_iter_
    assert est.t_ == 4 * len(X)
    assert est.loss_ == est.loss_curve_[-1]


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("max_iter", [1, 5, 30])
def test_n_iter_never_exceeds_max_iter(cls, max_iter):
    X, y = DATA[cls]()
    est = _lbfgs(cls, max_iter=max_iter).fit(X, y)
    assert 1 <= est.n_iter_ <= max_iter
    assert len(est.loss_curve_) == est.n_iter_


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_max_fun_caps_evaluations(cls, monkeypatch):
    X, y = DATA[cls]()
    calls = _count_evaluations(monkeypatch)
    est = _lbfgs(cls, max_fun=6, max_iter=500, tol=0.0)
    with pytest.warns(ConvergenceWarning, match=CAP):
        est.fit(X, y)
    # SciPy ends the run after the iteration during which the count passed
    # max_fun: at most one line search (maxls=20 evaluations) beyond it.
    assert 6 < len(calls) <= 6 + 20
    assert est.n_iter_ < 500
    assert len(est.loss_curve_) == est.n_iter_


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_converged_run_does_not_warn(cls):
    X, y = DATA[cls]()
    est = _lbfgs(cls, max_iter=500, tol=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ < 500


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_n_iter_at_the_cap_as_scikit_learn(cls):
    X, y = DATA[cls]()
    ours = _lbfgs(cls, max_iter=3).fit(X, y)
    sk_cls = MLPClassifier if cls is ScratchMLPClassifier else MLPRegressor
    sk = sk_cls(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    assert ours.n_iter_ == sk.n_iter_ == 3


# ---- what lbfgs ignores or refuses ------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_partial_fit_is_refused(cls):
    # As scikit-learn's MLPs: partial_fit is not even an attribute with lbfgs,
    # and the reason is the cause of the AttributeError.
    X, y = DATA[cls]()
    kwargs = {"classes": np.unique(y)} if cls is ScratchMLPClassifier else {}
    est = _lbfgs(cls)
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        est.partial_fit(X, y, **kwargs)
    assert "partial_fit is not available with optimizer='lbfgs'" in str(info.value.__cause__)
    assert not hasattr(est, "coefs_")
    est.fit(X, y)
    before, curve = weights(est), list(est.loss_curve_)
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        est.partial_fit(X, y)
    assert "partial_fit is not available with optimizer='lbfgs'" in str(info.value.__cause__)
    assert_identical(weights(est), before)
    assert est.loss_curve_ == curve
    assert hasattr(est.set_params(optimizer="adam"), "partial_fit")


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    "ignored",
    [
        {"batch_size": 7},
        {"batch_size": 10_000},
        {"shuffle": False},
        {"early_stopping": True},
        {"learning_rate_init": 0.5},
        {"n_iter_no_change": 1},
    ],
    ids=lambda d: "-".join(f"{k}={v}" for k, v in d.items()),
)
def test_step_settings_do_not_change_the_model(cls, ignored):
    X, y = DATA[cls]()
    reference = _lbfgs(cls, max_iter=20).fit(X, y)
    with warnings.catch_warnings():
        # No "batch_size is larger than the samples" UserWarning either.
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", CAP, ConvergenceWarning)
        est = _lbfgs(cls, max_iter=20, **ignored).fit(X, y)
    assert_identical(weights(est), weights(reference))
    assert est.loss_curve_ == reference.loss_curve_
    assert est.n_iter_ == reference.n_iter_
    # Nothing was held out: no validation records.
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    assert est.best_loss_ == min(est.loss_curve_)


# ---- the objective ------------------------------------------------------


def test_classifier_loss_is_the_penalised_log_loss_at_the_final_weights():
    X, y = _classification()
    alpha = 0.05
    clf = _lbfgs(ScratchMLPClassifier, alpha=alpha, max_iter=25).fit(X, y)
    penalty = alpha / (2 * len(X)) * sum(float((W**2).sum()) for W in clf.coefs_)
    expected = log_loss(y, clf.predict_proba(X)) + penalty
    np.testing.assert_allclose(clf.loss_, expected, rtol=1e-9)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_loss_curve_never_rises(cls):
    # Every accepted step passed the line search's sufficient-decrease test.
    X, y = DATA[cls]()
    est = _lbfgs(cls, max_iter=40, tol=0.0).fit(X, y)
    assert np.all(np.diff(est.loss_curve_) <= 0)
    assert est.loss_curve_[-1] < est.loss_curve_[0]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_integer_sample_weight_equals_repeating_rows(cls):
    X, y = DATA[cls](n=60)
    counts = 1 + np.arange(len(X)) % 3
    weighted = _lbfgs(cls, max_iter=10, alpha=0.01).fit(X, y, sample_weight=counts)
    repeated = _lbfgs(cls, max_iter=10, alpha=0.01).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-7)
    for a, b in zip(weights(weighted), weights(repeated), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_float32_stays_float32(cls):
    X, y = DATA[cls]()
    est = _lbfgs(cls, max_iter=10).fit(X.astype(np.float32), y)
    assert all(w.dtype == np.float32 for w in weights(est))
    assert np.isfinite(est.loss_)
    out = est.predict_proba(X) if cls is ScratchMLPClassifier else est.predict(X)
    assert out.dtype == np.float32


# ---- incremental use --------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_warm_start_continues_from_the_previous_weights(cls):
    X, y = DATA[cls]()
    est = _lbfgs(cls, max_iter=5, tol=0.0, warm_start=True).fit(X, y)
    first = list(est.loss_curve_)
    est.fit(X, y)
    assert est.n_iter_ == 5
    assert est.t_ == 10 * len(X)
    assert est.loss_curve_[:5] == first
    assert len(est.loss_curve_) == 10
    # The second run starts at the first one's end, so it only goes lower.
    assert est.loss_curve_[5] <= first[-1]


def test_verbose_prints_one_line_per_iteration(capsys):
    X, y = _classification()
    clf = _lbfgs(ScratchMLPClassifier, max_iter=6, tol=0.0, verbose=1).fit(X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Iteration")]
    assert len(lines) == clf.n_iter_ == 6
    assert lines[-1].startswith(f"Iteration 6, loss = {clf.loss_:.6f}")


# ---- against scikit-learn -------------------------------------------------


def _from_the_same_start(ours, sk, X, y, max_iter):
    """Run ours and scikit-learn's L-BFGS from the same weights.

    One warm-started iteration of ours draws the weights; scikit-learn is
    initialised by a one-iteration fit, given those weights and warm-started.
    """
    ours.set_params(max_iter=1, warm_start=True).fit(X, y)
    n_layers = len(ours.coefs_)
    start = weights(ours)
    sk.set_params(max_iter=1, warm_start=True).fit(X, y)
    sk.coefs_, sk.intercepts_ = start[:n_layers], start[n_layers:]
    ours.set_params(max_iter=max_iter).fit(X, y)
    sk.set_params(max_iter=max_iter).fit(X, y)


@pytest.mark.parametrize(
    "make, loss",
    [
        ("cancer", None),
        ("classification", None),
        ("regression", "squared_error"),
        ("regression", "poisson"),
    ],
)
def test_same_start_gives_scikit_learns_model(make, loss):
    # The same objective and gradient drive the same L-BFGS-B: the same iterates.
    if make == "cancer":
        X, y = load_breast_cancer(return_X_y=True)
        X = StandardScaler().fit_transform(X)
    elif make == "classification":
        X, y = _classification()
    else:
        X, y = _regression()
        y = np.exp(y) if loss == "poisson" else y
    settings = {"hidden_layer_sizes": (6,), "activation": "tanh", "alpha": 0.01}
    if loss is None:
        ours = ScratchMLPClassifier(optimizer="lbfgs", random_state=0, **settings)
        sk = MLPClassifier(solver="lbfgs", random_state=0, **settings)
    else:
        ours = ScratchMLPRegressor(loss=loss, optimizer="lbfgs", random_state=0, **settings)
        sk = MLPRegressor(loss=loss, solver="lbfgs", random_state=0, **settings)
    _from_the_same_start(ours, sk, X, y, max_iter=15)
    assert ours.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(ours.loss_, sk.loss_, rtol=1e-8)
    for a, b in zip(weights(ours), sk.coefs_ + sk.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_several_outputs_part_from_scikit_learns_lbfgs():
    # The documented difference (coming_from_sklearn.rst, "Regression losses"):
    # scikit-learn's lbfgs pairs the squared error averaged over the outputs
    # with the gradient of their sum, so from the start that gives equal
    # iterates with one output (above), two outputs part where the line search
    # judges a step by the loss (not on every problem: a unit step that both
    # accept keeps them together; these data take the search back).
    X = np.random.default_rng(3).normal(size=(60, 3))
    Y = np.c_[X[:, 0], X[:, 1] - X[:, 2]]
    parted = []
    for targets in (Y[:, 0], Y):
        ours = ScratchMLPRegressor(optimizer="lbfgs", hidden_layer_sizes=(4,), random_state=0)
        sk = MLPRegressor(solver="lbfgs", hidden_layer_sizes=(4,), random_state=0)
        _from_the_same_start(ours, sk, X, targets, max_iter=10)
        theirs = sk.coefs_ + sk.intercepts_
        parted.append(max(np.abs(a - b).max() for a, b in zip(weights(ours), theirs, strict=True)))
    assert parted[0] < 1e-9 and parted[1] > 1e-3
    _, notes = sklearn_equivalent(ours, y=Y)
    assert any("with several outputs its steps differ" in note for note in notes)
    _, notes = sklearn_equivalent(ours, y=Y[:, 0])
    assert not any("several outputs" in note for note in notes)


def test_digits_accuracy_as_mlp_classifier(digits):
    X_train, X_test, y_train, y_test = digits
    settings = {"hidden_layer_sizes": (50,), "random_state": 0}
    # Independent draws (our generator is not scikit-learn's): each finds its
    # own minimum, so the accuracies differ by a few test digits.
    ours = ScratchMLPClassifier(optimizer="lbfgs", init="glorot_uniform", max_iter=100, **settings)
    sk = MLPClassifier(solver="lbfgs", max_iter=100, **settings)
    ours_acc = ours.fit(X_train, y_train).score(X_test, y_test)
    sk_acc = sk.fit(X_train, y_train).score(X_test, y_test)
    print(f"digits, random_state=0: sknumpynet {ours_acc:.4f}, MLPClassifier {sk_acc:.4f}")
    assert sk_acc > 0.95
    assert abs(ours_acc - sk_acc) < 0.02
    # From the same starting weights the two solvers agree.
    ours = ScratchMLPClassifier(optimizer="lbfgs", init="glorot_uniform", **settings)
    sk = MLPClassifier(solver="lbfgs", **settings)
    _from_the_same_start(ours, sk, X_train, y_train, max_iter=100)
    ours_acc, sk_acc = ours.score(X_test, y_test), sk.score(X_test, y_test)
    print(f"digits, same start: sknumpynet {ours_acc:.4f}, MLPClassifier {sk_acc:.4f}")
    assert abs(ours_acc - sk_acc) <= 0.01
    np.testing.assert_allclose(ours.coefs_[0], sk.coefs_[0], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_dropout_is_refused_with_lbfgs(cls):
    # L-BFGS minimises one deterministic objective: random masks would break its line search.
    X, y = DATA[cls]()
    est = _lbfgs(cls).set_params(dropout=0.5)
    with pytest.raises(ValueError, match="dropout needs a step optimizer"):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")
    est.set_params(dropout=0.0).fit(X, y)
    assert est.n_iter_ >= 1


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_the_cap_warning_starts_as_scikit_learns(cls):
    # A filter or pytest.warns written for MLPClassifier's lbfgs must match
    # ours: the same words up to SciPy's reason (ours said "L-BFGS stopped after").
    X, y = DATA[cls]()
    reference = MLPClassifier if cls is ScratchMLPClassifier else MLPRegressor
    messages = []
    for est in (
        _lbfgs(cls, max_iter=3, tol=0.0),
        reference(solver="lbfgs", hidden_layer_sizes=(8,), max_iter=3, random_state=0),
    ):
        with pytest.warns(ConvergenceWarning) as record:
            est.fit(X, y)
        messages.append(str(record[0].message).splitlines()[:2])
    assert messages[0] == messages[1]
