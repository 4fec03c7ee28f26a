"""ScratchMLPClassifier end to end: learning, labels, dtypes, incremental fits,
fitted attributes, warnings, progress output and hyperparameter validation."""

import inspect
import re
import warnings

import numpy as np
import pytest
from _shared import CLASSIFIER_LEARNS
from scipy.sparse import csr_matrix
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.utils import get_tags

from sknumpynet import ScratchMLPClassifier
from sknumpynet.nn import ACTIVATIONS, HEADS, INIT_OPTIONS, OPTIMIZERS
from sknumpynet.nn.schedules import SCHEDULES

# The heads a classifier can use (the registry also holds the regressor's).
CLASSIFIER_HEADS = sorted(name for name, head in HEADS.items() if head.classification)


@pytest.fixture(scope="module")
def small_digits():
    """300 digits scaled to [0, 1]: enough to train a few epochs quickly."""
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16.0, y[:300]


def _small(**kwargs):
    params = {
        "hidden_layer_sizes": (8,),
        "max_iter": 5,
        "learning_rate_init": 0.01,
        "batch_size": 32,
        "random_state": 0,
    }
    params.update(kwargs)
    return ScratchMLPClassifier(**params)


# ---- learning -------------------------------------------------------------


def test_every_optimizer_has_learning_settings():
    assert set(CLASSIFIER_LEARNS) == set(OPTIMIZERS)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("head", CLASSIFIER_HEADS)
@pytest.mark.parametrize("dataset", ["digits_split", "cancer_split"])
def test_learns_real_dataset(optimizer, head, dataset, request):
    X_train, X_test, y_train, y_test = request.getfixturevalue(dataset)
    clf = ScratchMLPClassifier(
        (16,),
        optimizer=optimizer,
        head=head,
        batch_size=32,
        random_state=0,
        **CLASSIFIER_LEARNS[optimizer],
    )
    clf.fit(X_train, y_train)
    assert clf.out_activation_ == head
    assert clf.score(X_test, y_test) > 0.9
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_same_random_state_gives_identical_fits(optimizer, small_digits):
    X, y = small_digits
    fits = [_small(optimizer=optimizer, random_state=seed).fit(X, y) for seed in (3, 3, 4)]
    first, second = fits[0], fits[1]
    for a, b in zip(
        first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    assert not np.array_equal(fits[0].coefs_[0], fits[2].coefs_[0])


def test_random_state_generator_and_randomstate_are_accepted(small_digits):
    X, y = small_digits
    for state in (np.random.default_rng(0), np.random.RandomState(0)):
        clf = _small(random_state=state, max_iter=15).fit(X, y)
        assert clf.score(X, y) > 0.5


# ---- labels and outputs ---------------------------------------------------


def test_string_and_int_labels_give_the_same_model(small_digits):
    X, y = small_digits
    names = np.array([f"digit_{d}" for d in range(10)])
    by_int = _small().fit(X, y)
    by_str = _small().fit(X, names[y])
    np.testing.assert_array_equal(by_str.classes_, names)
    np.testing.assert_array_equal(by_int.classes_, np.arange(10))
    np.testing.assert_array_equal(by_int.coefs_[0], by_str.coefs_[0])
    np.testing.assert_array_equal(by_str.predict(X), names[by_int.predict(X)])
    assert by_str.predict(X).dtype == names.dtype


def test_binary_string_labels(cancer_split):
    X, _, y, _ = cancer_split
    labels = np.array(["benign", "malignant"])[y]
    clf = _small().fit(X, labels)
    assert set(clf.predict(X)) <= {"benign", "malignant"}
    assert clf.score(X, labels) > 0.9


def _multilabel_targets(y):
    return np.column_stack([y >= 5, y % 2 == 1, y % 3 == 0]).astype(int)


def test_multilabel_indicator_targets(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    Y_train, Y_test = _multilabel_targets(y_train), _multilabel_targets(y_test)
    clf = _small(hidden_layer_sizes=(32,), max_iter=40, learning_rate_init=0.01).fit(
        X_train, Y_train
    )
    assert clf.out_activation_ == "sigmoid"
    np.testing.assert_array_equal(clf.classes_, np.arange(3))
    assert clf.n_outputs_ == 3
    pred = clf.predict(X_test)
    assert pred.shape == Y_test.shape
    assert set(np.unique(pred)) <= {0, 1}
    proba = clf.predict_proba(X_test)
    assert proba.shape == Y_test.shape
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    assert (pred == Y_test).mean(axis=0).min() > 0.85
    # log(proba) itself loses digits where proba is within 1e-7 of 1.
    np.testing.assert_allclose(clf.predict_log_proba(X_test), np.log(proba), rtol=1e-10, atol=1e-12)


def test_softmax_head_rejects_multilabel(small_digits):
    X, y = small_digits
    with pytest.raises(ValueError, match="multilabel"):
        _small(head="softmax").fit(X, _multilabel_targets(y))


@pytest.mark.parametrize("head", ["auto", *CLASSIFIER_HEADS])
def test_binary_predict_proba_has_two_columns(head, cancer_split):
    X, _, y, _ = cancer_split
    clf = _small(head=head).fit(X, y)
    assert clf.n_outputs_ == (2 if clf.out_activation_ == "softmax" else 1)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


@pytest.mark.parametrize("head", CLASSIFIER_HEADS)
@pytest.mark.parametrize("dataset", ["digits_split", "cancer_split"])
def test_predict_log_proba_is_log_of_predict_proba(head, dataset, request):
    X, X_test, y, _ = request.getfixturevalue(dataset)
    clf = _small(head=head).fit(X, y)
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    log_proba = clf.predict_log_proba(X_test)
    assert np.isfinite(log_proba).all()
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("multilabel", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_saturated_probabilities_stay_strictly_inside_0_and_1(multilabel, dtype, digits_split):
    # Weights scaled up 1000-fold saturate the head: exp of a log-probability
    # rounds to exactly 0 or 1, as scikit-learn's MLPClassifier's probabilities
    # do (its lbfgs fit at defaults fails scikit-learn's own check
    # check_classifiers_multilabel_output_format_predict_proba, which asks
    # for 0 < p < 1).
    X, _, y, _ = digits_split
    X, Y = X.astype(dtype), (_multilabel_targets(y) if multilabel else y)
    clf = _small().fit(X, Y)
    for W in clf.coefs_:
        W *= 1e3
    proba, log_proba = clf.predict_proba(X), clf.predict_log_proba(X)
    one_below, tiny = np.nextafter(dtype(1), dtype(0)), np.finfo(dtype).tiny
    assert proba.dtype == log_proba.dtype == dtype
    # exp(log(tiny)) is within rounding of tiny, a subnormal just below it in float32.
    assert proba.max() == one_below and proba.min() == pytest.approx(tiny, rel=1e-5)
    assert ((proba > 0) & (proba < 1)).all()
    np.testing.assert_array_equal(np.exp(log_proba), proba)
    # Labels and probabilities agree, saturated rows included.
    if multilabel:
        np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    else:
        np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=0, atol=2 * np.finfo(dtype).eps)


def test_no_hidden_layers_is_a_linear_model(cancer_split):
    X, X_test, y, y_test = cancer_split
    clf = _small(hidden_layer_sizes=(), max_iter=20).fit(X, y)
    assert clf.n_layers_ == 2
    assert [W.shape for W in clf.coefs_] == [(X.shape[1], 1)]
    assert clf.hidden_activations_ == []
    assert clf.score(X_test, y_test) > 0.9


def test_auto_head_is_softmax_for_multiclass_and_sigmoid_for_binary(small_digits):
    X, y = small_digits
    assert _small().fit(X, y).out_activation_ == "softmax"
    assert _small().fit(X, y % 2).out_activation_ == "sigmoid"


# ---- dtypes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cast", "expected"),
    [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.int64, np.float64),
        (np.int32, np.float64),
    ],
)
def test_dtype_of_weights_and_probabilities(cast, expected):
    X, y = load_digits(return_X_y=True)
    X, y = X[:200].astype(cast), y[:200]
    clf = _small().fit(X, y)
    assert all(a.dtype == expected for a in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X).dtype == expected
    assert clf.predict_log_proba(X).dtype == expected


def test_float32_model_predicts_float64_input_in_float32(small_digits):
    X, y = small_digits
    clf = _small().fit(X.astype(np.float32), y)
    assert clf.predict_proba(X).dtype == np.float32
    np.testing.assert_allclose(
        clf.predict_proba(X), clf.predict_proba(X.astype(np.float32)), rtol=1e-6
    )


# ---- incremental training -------------------------------------------------


def test_partial_fit_requires_classes_first(small_digits):
    X, y = small_digits
    with pytest.raises(ValueError, match="classes"):
        _small().partial_fit(X, y)


def test_partial_fit_trains_one_epoch_per_call_and_keeps_state(small_digits):
    X, y = small_digits
    clf = _small(batch_size=50)
    batches_per_epoch = int(np.ceil(len(X) / 50))
    losses = []
    for call in range(1, 4):
        clf.partial_fit(X, y, classes=np.arange(10))
        # As MLPClassifier: n_iter_ counts the epochs of the latest call; t_
        # and loss_curve_ accumulate over calls.
        assert clf.n_iter_ == 1
        assert clf.t_ == call * len(X)
        assert len(clf.loss_curve_) == call
        # The optimizer state (its step count t) carries over between calls.
        assert clf._optimizer_state["t"] == call * batches_per_epoch
        losses.append(clf.loss_)
    assert losses[-1] < losses[0]
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y + 20)


def test_partial_fit_continues_like_adam_with_state(small_digits):
    # Two partial_fit calls continue one run: the second starts where the
    # first left the weights, so its loss is below the first call's.
    X, y = small_digits
    clf = _small(optimizer="adam", learning_rate_init=0.01)
    clf.partial_fit(X, y, classes=np.unique(y))
    coefs_after_one = clf.coefs_[0].copy()
    m_after_one = clf._optimizer_state["m"].copy()
    clf.partial_fit(X, y)
    assert clf.loss_curve_[1] < clf.loss_curve_[0]
    assert not np.array_equal(clf.coefs_[0], coefs_after_one)
    assert not np.array_equal(clf._optimizer_state["m"], m_after_one)
    assert np.any(m_after_one)


def test_partial_fit_multilabel_needs_no_classes(small_digits):
    X, y = small_digits
    clf = _small().partial_fit(X, _multilabel_targets(y))
    assert clf.predict(X).shape == (len(X), 3)


def test_warm_start_continues_training(small_digits):
    X, y = small_digits
    clf = _small(max_iter=4, tol=0.0).fit(X, y)
    first_curve = list(clf.loss_curve_)
    clf.set_params(warm_start=True)
    clf.fit(X, y)
    assert clf.n_iter_ == 4  # epochs of this call
    assert clf.t_ == 8 * len(X)
    assert len(clf.loss_curve_) == 8
    assert clf.loss_curve_[:4] == first_curve
    assert clf.loss_curve_[4] < first_curve[0]
    clf.set_params(warm_start=False)
    clf.fit(X, y)
    assert clf.n_iter_ == 4
    assert clf.loss_curve_ == first_curve


def test_partial_fit_after_early_stopping_fit(small_digits):
    # Regression: best_loss_ is None after an early-stopping fit, and the
    # loss-based stopping of partial_fit compared against it.
    X, y = small_digits
    clf = _small(early_stopping=True, max_iter=3).fit(X, y)
    clf.set_params(early_stopping=False)
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 4
    assert clf.best_loss_ == min(clf.loss_curve_)
    # The validation records are those of the latest scored epochs: a call
    # without a validation set ends them (they would no longer line up with
    # the last epochs of loss_curve_).
    assert clf.validation_scores_ is None and clf.validation_loss_curve_ is None
    assert clf.best_validation_score_ is None


def test_partial_fit_refuses_early_stopping(small_digits):
    # As MLPClassifier: each call sees one chunk, so nothing can be held out.
    X, y = small_digits
    clf = _small(early_stopping=True)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        clf.partial_fit(X, y, classes=np.arange(10))
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize("first, second", [(False, True), (True, False)])
def test_warm_start_may_toggle_early_stopping(first, second, small_digits):
    X, y = small_digits
    clf = _small(early_stopping=first, max_iter=3, tol=0.0).fit(X, y)
    clf.set_params(warm_start=True, early_stopping=second)
    clf.fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 6
    if second:
        assert len(clf.validation_scores_) == 3
        assert clf.best_validation_score_ == max(clf.validation_scores_)
        # As a fresh early-stopping fit leaves it (and scikit-learn documents):
        # the previous fit's training best stayed, and a later call without
        # early stopping measured its improvement against that stale value.
        assert clf.best_loss_ is None
        clf.set_params(early_stopping=False).partial_fit(X, y)
        assert clf.best_loss_ == min(clf.loss_curve_)
    else:
        assert clf.best_loss_ == min(clf.loss_curve_)


def test_warm_fit_needs_every_class_of_the_previous_fit(small_digits):
    # As MLPClassifier: a warm fit must see every class (partial_fit need not).
    X, y = small_digits
    clf = _small(warm_start=True).fit(X, y)
    before = clf.coefs_[0].copy()
    keep = y != 9
    with pytest.raises(ValueError, match="same classes as the previous fit"):
        clf.fit(X[keep], y[keep])
    np.testing.assert_array_equal(clf.coefs_[0], before)
    clf.partial_fit(X[keep], y[keep])
    assert not np.array_equal(clf.coefs_[0], before)


def test_warm_start_rejects_a_new_architecture(small_digits):
    X, y = small_digits
    clf = _small(warm_start=True).fit(X, y)
    clf.set_params(hidden_layer_sizes=(9,))
    with pytest.raises(ValueError, match=r"^fit with warm_start=True needs the architecture"):
        clf.fit(X, y)


@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("change", [{"hidden_layer_sizes": (9,)}, {"head": "sigmoid"}])
def test_partial_fit_rejects_a_new_architecture_saying_what_starts_anew(
    change, warm_start, small_digits
):
    # partial_fit always continues, so "set warm_start=False" would not help.
    X, y = small_digits
    clf = _small(warm_start=warm_start).partial_fit(X, y, classes=np.arange(10))
    clf.set_params(**change)
    with pytest.raises(ValueError, match=r"^partial_fit needs the architecture") as info:
        clf.partial_fit(X, y)
    anew = "fit with warm_start=False" if warm_start else "fit"
    assert str(info.value).endswith(f"Call {anew} to start anew (or clone the estimator).")
    # What the message advises starts anew.
    clone(clf).partial_fit(X, y, classes=np.arange(10))
    if warm_start:
        clf.set_params(warm_start=False)
    clf.fit(X, y).partial_fit(X, y)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_logistic_and_sigmoid_continue_each_other(method, small_digits):
    # Two names of one activation: switching continues the same network.
    X, y = small_digits
    kwargs = {"classes": np.arange(10)} if method == "partial_fit" else {}

    def train(est, **kwargs):
        return est.fit(X, y) if method == "fit" else est.partial_fit(X, y, **kwargs)

    switched = train(_small(activation="logistic", warm_start=True), **kwargs)
    kept = train(_small(activation="logistic", warm_start=True), **kwargs)
    train(switched.set_params(activation="sigmoid"))
    train(kept)
    for a, b in zip(switched.coefs_, kept.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


# ---- fitted attributes ----------------------------------------------------


def test_fitted_attributes_are_consistent(small_digits):
    X, y = small_digits
    clf = _small(hidden_layer_sizes=(8, 6), activation=["relu", "tanh"], max_iter=6).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    assert clf.n_features_in_ == 64
    assert not hasattr(clf, "feature_names_in_")
    assert [W.shape for W in clf.coefs_] == [(64, 8), (8, 6), (6, 10)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (6,), (10,)]
    assert clf.n_layers_ == 4
    assert clf.n_outputs_ == 10
    assert clf.out_activation_ == "softmax"
    assert clf.hidden_activations_ == ["relu", "tanh"]
    assert clf.n_iter_ == 6 == len(clf.loss_curve_)
    assert clf.t_ == 6 * len(X)
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None
    assert clf.best_validation_score_ is None


def test_feature_names_from_a_dataframe(small_digits):
    pd = pytest.importorskip("pandas", reason="feature names need a DataFrame")
    X, y = small_digits
    columns = [f"pixel_{i}" for i in range(X.shape[1])]
    clf = _small().fit(pd.DataFrame(X, columns=columns), y)
    np.testing.assert_array_equal(clf.feature_names_in_, columns)
    by_frame = clf.predict(pd.DataFrame(X, columns=columns))
    with pytest.warns(UserWarning, match="feature names"):
        by_array = clf.predict(X)
    np.testing.assert_array_equal(by_frame, by_array)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(pd.DataFrame(X, columns=columns[::-1]))


def test_convergence_warning_when_max_iter_ends_training(small_digits):
    X, y = small_digits
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        _small(max_iter=2).fit(X, y)


def test_no_convergence_warning_when_loss_stops_improving(small_digits):
    X, y = small_digits
    clf = _small(max_iter=100, tol=10.0, n_iter_no_change=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    # The first epoch is an improvement over inf; then 3 epochs without one.
    assert clf.n_iter_ == 4


def test_infinite_patience_trains_until_max_iter(small_digits):
    # The fit of the test above, with n_iter_no_change=np.inf: never stops early.
    X, y = small_digits
    clf = _small(max_iter=6, tol=10.0, n_iter_no_change=np.inf)
    with pytest.warns(ConvergenceWarning, match="Stochastic Optimizer: Maximum iterations"):
        clf.fit(X, y)
    assert clf.n_iter_ == 6


def test_early_stopping_fills_validation_scores(small_digits):
    X, y = small_digits
    clf = _small(
        early_stopping=True, validation_fraction=0.2, max_iter=12, learning_rate_init=0.01
    ).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.loss_curve_)
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_validation_score_ > 0.5
    assert clf.best_loss_ is None
    assert clf.t_ == clf.n_iter_ * (len(X) - 60)


# ---- progress output ------------------------------------------------------


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_prints_one_line_per_epoch(early_stopping, small_digits, capsys):
    X, y = small_digits
    _small(max_iter=3, verbose=1, early_stopping=early_stopping).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    # max_iter ends this fit, so there is no closing "Stopping" line either.
    assert len(lines) == 3
    for n, line in enumerate(lines, start=1):
        assert re.search(rf"Iteration {n}\b", line)
        assert re.search(r"loss = \d+\.\d+", line)
        assert re.search(r"elapsed \d+\.\ds", line)
        assert re.search(r"ETA \d+\.\ds", line)
        assert ("validation score = " in line) == early_stopping


def test_verbose_says_why_training_stopped(small_digits, capsys):
    X, y = small_digits
    _small(max_iter=50, tol=10.0, n_iter_no_change=1, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 + 1
    # scikit-learn's words and number format, to the character.
    assert lines[-1] == (
        "Training loss did not improve more than tol=10.000000 for 1 consecutive epochs. Stopping."
    )


def test_verbose_announces_adaptive_rate_cuts_as_mlpclassifier_does(small_digits, capsys):
    # Each cut went unannounced, and the final stop (the rate at its floor)
    # was reported as a plain "Stopping.".
    from sklearn.neural_network import MLPClassifier

    X, y = small_digits
    settings = dict(
        learning_rate="adaptive",
        learning_rate_init=1e-4,
        tol=10.0,
        n_iter_no_change=1,
        max_iter=200,
        verbose=1,
        random_state=0,
    )
    _small(optimizer="sgd", **settings).fit(X, y)
    ours = [line for line in capsys.readouterr().out.splitlines() if "did not improve" in line]
    MLPClassifier(hidden_layer_sizes=(8,), solver="sgd", **settings).fit(X, y)
    theirs = [line for line in capsys.readouterr().out.splitlines() if "did not improve" in line]
    assert ours == theirs
    assert ours[0].endswith("Setting learning rate to 0.000020")
    assert ours[-1].endswith("Learning rate too small. Stopping.")


def test_silent_by_default(small_digits, capsys):
    X, y = small_digits
    _small(max_iter=2).fit(X, y)
    assert capsys.readouterr().out == ""


# ---- hyperparameter validation ----------------------------------------------

# One or more bad values for every hyperparameter.
BAD_NUMBERS = {
    "hidden_layer_sizes": [0, (8, 0), (8, -2), "8", (2.5,)],
    "learning_rate_init": [0, -0.1, "0.1"],
    "power_t": [-0.5, np.nan, "0.5", True],
    "dropout": [1.0, -0.1, [0.1], np.nan, True],
    "class_weight": ["balance", [1.0, 2.0], {99: 2.0}, 3],
    "momentum": [1.5, -0.1],
    "rho": [1.0, -0.5],
    "beta_1": [1.0, -0.1],
    "beta_2": [1.0, 2.0],
    "epsilon": [0.0, -1e-8],
    "alpha": [-1.0, "big"],
    "batch_size": [0, -5, 2.5, "large"],
    "max_iter": [0, 1.5],
    "max_fun": [0, 1.5, True],
    "tol": [-1e-3],
    "n_iter_no_change": [0, 2.0, -np.inf, np.nan],
    "validation_fraction": [1.0, -0.1],
    "verbose": [-1, 0.5],
    "early_stopping": ["yes", None],
    "shuffle": ["no"],
    "warm_start": ["true"],
    "random_state": ["seed", 1.5],
    "activation": [["relu"], ["relu", "relu", "relu"]],
}
# String options: a bad value must be answered with the allowed values, which
# come from the registries.
STRING_OPTIONS = {
    "activation": sorted(ACTIVATIONS),
    "head": ["auto", *CLASSIFIER_HEADS],
    "init": list(INIT_OPTIONS),
    "learning_rate": sorted(SCHEDULES),
    "optimizer": sorted(OPTIMIZERS),
}


def test_every_hyperparameter_has_bad_values():
    assert set(BAD_NUMBERS) | set(STRING_OPTIONS) == set(ScratchMLPClassifier().get_params())


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name, values in BAD_NUMBERS.items() for value in values],
    ids=lambda v: repr(v),
)
def test_invalid_hyperparameter_is_named(name, value, small_digits):
    X, y = small_digits
    # Two hidden layers, so that a list of one or three activations is wrong.
    clf = _small(**{"hidden_layer_sizes": (8, 8), name: value})
    with pytest.raises((ValueError, TypeError), match=re.escape(name)):
        clf.fit(X, y)


@pytest.mark.parametrize(("name", "value"), [("momentum", 1.0), ("validation_fraction", 0.0)])
def test_scikit_learns_bounds_are_accepted_where_unused(name, value, small_digits):
    # MLPClassifier takes momentum in [0, 1] and validation_fraction in [0, 1).
    X, y = small_digits
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, **{name: value})._validate_params()
    # (conftest.py ignores exactly the warning that max_iter ended the fit.)
    _small(**{name: value}).fit(X, y)  # adam, no early stopping: unused
    _small(**{name: value}).partial_fit(X, y, classes=np.arange(10))


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov"])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_momentum_of_one_is_refused_where_it_would_never_move_the_weights(
    optimizer, method, small_digits
):
    X, y = small_digits
    clf = _small(optimizer=optimizer, momentum=1.0)
    kwargs = {"classes": np.arange(10)} if method == "partial_fit" else {}
    with pytest.raises(
        ValueError, match=rf"^momentum=1 cannot train with optimizer='{optimizer}'.*below 1"
    ):
        getattr(clf, method)(X, y, **kwargs)
    assert not hasattr(clf, "coefs_")


def test_validation_fraction_of_zero_needs_a_validation_set_to_stop_early(small_digits):
    X, y = small_digits
    clf = _small(early_stopping=True, validation_fraction=0.0)
    with pytest.raises(
        ValueError, match=r"^early_stopping=True holds out validation_fraction.*which is 0"
    ):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")
    clf.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])  # nothing held out
    assert len(clf.validation_scores_) == clf.n_iter_


@pytest.mark.parametrize("name", sorted(STRING_OPTIONS))
@pytest.mark.parametrize("value", ["not_a_name", 3, None])
def test_invalid_string_option_lists_allowed_values(name, value, small_digits):
    X, y = small_digits
    clf = _small(**{name: value})
    with pytest.raises((ValueError, TypeError)) as info:
        clf.fit(X, y)
    message = str(info.value)
    assert name in message
    for option in STRING_OPTIONS[name]:
        assert repr(option) in message or f'"{option}"' in message, (option, message)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_predict_before_fit_raises(method, small_digits):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="ScratchMLPClassifier instance is not fitted yet"):
        getattr(_small(), method)(small_digits[0])


# ---- sample weights -------------------------------------------------------


def test_zero_sample_weight_equals_dropping_the_rows(small_digits):
    # gd visits all rows in order in one step, so the two fits see the same
    # objective: zero-weight rows add nothing to the loss, gradient or penalty.
    X, y = small_digits
    keep = np.arange(len(X)) % 3 != 0
    params = {"optimizer": "gd", "learning_rate_init": 0.5, "max_iter": 10, "alpha": 0.01}
    weighted = _small(**params).fit(X, y, sample_weight=keep.astype(float))
    dropped = _small(**params).fit(X[keep], y[keep])
    np.testing.assert_allclose(weighted.loss_curve_, dropped.loss_curve_, rtol=1e-10)
    for a, b in zip(weighted.coefs_, dropped.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)


def test_integer_sample_weight_equals_repeating_rows(small_digits):
    X, y = small_digits
    counts = 1 + np.arange(len(X)) % 3
    params = {"optimizer": "gd", "learning_rate_init": 0.5, "max_iter": 10}
    weighted = _small(**params).fit(X, y, sample_weight=counts)
    repeated = _small(**params).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(weighted.coefs_[0], repeated.coefs_[0], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(
    "sample_weight", [np.ones(3), -np.ones(300), np.zeros(300), np.full(300, np.nan)]
)
def test_invalid_sample_weight_is_named(sample_weight, small_digits):
    X, y = small_digits
    with pytest.raises(ValueError, match="sample_weight"):
        _small().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "labels",
    [[3, 7], [0, 1, 2], ["cat", "dog"], ["b", "a", "c", "d"], [1.0, 2.0, 5.0]],
    ids=["binary-int", "multiclass-int", "binary-str", "multiclass-str", "float-labels"],
)
def test_target_encoding_equals_label_binarize(labels, rng):
    # The encoding the heads train on is scikit-learn's label_binarize, whatever the labels.
    from sklearn.preprocessing import label_binarize

    y = np.asarray(labels)[rng.integers(0, len(labels), 50)]
    y[: len(labels)] = labels  # every class present
    clf = ScratchMLPClassifier(head="sigmoid")
    clf.classes_, clf.multilabel_ = np.unique(labels), False
    expected = label_binarize(y, classes=clf.classes_)
    np.testing.assert_array_equal(clf._encode(y, False, "sigmoid"), expected)


def test_multilabel_flag_is_public_and_tells_multilabel_from_one_vs_rest(small_digits):
    X, y = small_digits
    one_vs_rest = _small(head="sigmoid").fit(X, y)
    multilabel = _small().fit(X, _multilabel_targets(y))
    # Both have one sigmoid unit per column; only the flag tells them apart.
    assert one_vs_rest.out_activation_ == multilabel.out_activation_ == "sigmoid"
    assert one_vs_rest.n_outputs_ == len(one_vs_rest.classes_)
    assert one_vs_rest.multilabel_ is False
    assert multilabel.multilabel_ is True


def test_model_pickled_with_the_private_multilabel_flag_still_predicts(small_digits):
    X, y = small_digits
    clf = _small().fit(X, y)
    state = clf.__getstate__()
    state["_multilabel"] = state.pop("multilabel_")  # the layout of version 0.2
    old = ScratchMLPClassifier.__new__(ScratchMLPClassifier)
    old.__setstate__(state)
    np.testing.assert_array_equal(old.predict(X), clf.predict(X))


# ---- targets a scikit-learn user may pass ------------------------------------


@pytest.mark.parametrize("values", [(-1, 1), (1, 2), (0, 5)])
@pytest.mark.parametrize("sparse", [False, True])
def test_a_2d_y_of_two_values_other_than_0_and_1_is_refused(values, sparse, small_digits):
    # type_of_target calls any 2-D matrix of two integer values a multilabel
    # indicator; its values were trained on as sigmoid targets (a negative loss).
    X, y = small_digits
    Y = np.where(_multilabel_targets(y) == 1, values[1], values[0])
    Y = csr_matrix(Y) if sparse else Y
    with pytest.raises(ValueError, match="0s and 1s"):
        _small().fit(X, Y)


def test_multilabel_classes_must_be_the_column_indices(small_digits):
    X, y = small_digits
    Y = _multilabel_targets(y)
    with pytest.raises(ValueError, match=r"classes must be None or the column indices \[0, 1, 2\]"):
        _small().partial_fit(X, Y, classes=[0, 1, 2, 3])
    clf = _small().partial_fit(X, Y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="column indices"):
        clf.partial_fit(X, Y, classes=["a", "b", "c"])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


def test_tags_claim_multilabel_not_multiclass_multioutput(small_digits):
    # scikit-learn's multi_output tag means multiclass-multioutput targets for a
    # classifier, which it refuses (as MLPClassifier, whose tag is False).
    tags = get_tags(ScratchMLPClassifier())
    assert tags.classifier_tags.multi_label and not tags.target_tags.multi_output
    X, y = small_digits
    with pytest.raises(ValueError, match="multiclass-multioutput"):
        _small().fit(X, np.column_stack([y, y % 3]))


def test_fit_methods_take_their_arguments_in_mlpclassifiers_order(small_digits):
    # partial_fit(X, y, classes, sample_weight) (SGDClassifier's order) took the
    # weights of MLPClassifier's partial_fit(X, y, sample_weight, classes) as
    # classes: with weights 0, 1, 2 and those labels, silently unweighted.
    for method in ("fit", "partial_fit"):
        ours = list(inspect.signature(getattr(ScratchMLPClassifier, method)).parameters)
        theirs = list(inspect.signature(getattr(MLPClassifier, method)).parameters)
        assert ours[: len(theirs)] == theirs
    X, y = small_digits
    w = np.arange(len(y)) % 3
    by_position = _small().partial_fit(X, y, w, np.unique(y))
    by_name = _small().partial_fit(X, y, sample_weight=w, classes=np.unique(y))
    np.testing.assert_array_equal(by_position.coefs_[0], by_name.coefs_[0])


def test_the_first_partial_fit_without_classes_says_to_pass_them_by_keyword(small_digits):
    # The classes passed by position in the order before 0.3.0 land in sample_weight.
    X, y = small_digits
    with pytest.raises(ValueError, match=r"by keyword \(classes=\.\.\.\).*sample_weight, classes"):
        _small().partial_fit(X, y, np.unique(y))


def test_gd_with_dropout_on_two_layers_does_not_depend_on_working_memory():
    # The full-batch gradient is summed in chunks sized from working_memory;
    # with two dropped layers the chunks consumed one generator in another
    # order, so one random_state gave two models.
    import sklearn
    from sklearn.datasets import make_classification

    X, y = make_classification(400, 8, random_state=0)
    est = ScratchMLPClassifier(
        hidden_layer_sizes=(16, 16),
        optimizer="gd",
        dropout=[0.3, 0.3],
        max_iter=5,
        random_state=0,
    )
    whole = sklearn.clone(est).fit(X, y)
    with sklearn.config_context(working_memory=0.01):  # chunks of a few dozen rows
        chunked = sklearn.clone(est).fit(X, y)
    for a, b in zip(whole.coefs_, chunked.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
