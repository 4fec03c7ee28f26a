"""Reliability guarantees of ScratchMLPClassifier (docs/guarantees.rst).

* bad input: every invalid argument gets a ValueError/TypeError naming it and
  what is allowed, never a silent wrong answer;
* numerics: huge or extreme inputs and saturated units give finite
  probabilities whose rows sum to 1, with no RuntimeWarning (every test here
  turns RuntimeWarning into an error);
* divergence: an exploding learning rate stops training with a
  DivergenceWarning and keeps the best finite weights;
* interruption: Ctrl-C stops at a batch boundary and leaves a usable model;
* reproducibility and thread safety.
"""

import _thread
import copy
import re
import signal
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from _shared import STEP_OPTIMIZERS, assert_same_fitted_state, flat_weights, learning_settings
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet._plan import CallPlan
from sknumpynet._sklearn_compat import InvalidParameterError
from sknumpynet.exceptions import DivergenceWarning, TrainingInterruptedWarning
from sknumpynet.nn import HEADS, OPTIMIZERS, Trainer
from sknumpynet.nn.schedules import SCHEDULES


def _data(n=120, n_features=5, n_classes=3, seed=0):
    X, y = make_classification(
        n_samples=n,
        n_features=n_features,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return X, y


def _small(**params):
    return ScratchMLPClassifier(
        **{"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0, **params}
    )


def _mean_nll(clf, X, y):
    """Mean cross-entropy of the fitted model on ``(X, y)``, unclipped.

    sklearn's log_loss clips probabilities at eps, which caps it near 36 and
    cannot tell sound weights from exploded ones.
    """
    log_proba = clf.predict_log_proba(X)
    return -log_proba[np.arange(len(y)), np.searchsorted(clf.classes_, y)].mean()


# The divergence guard stops training once a loss reaches 1000 times the loss
# scale, which is at least log(3), the loss of uniform probabilities over three
# classes: kept weights must be below that bound, exploded ones are above it.
SOUND_LOSS = 1e3 * np.log(3)


def _assert_probabilities(P, n_rows, n_classes):
    assert P.shape == (n_rows, n_classes)
    assert np.all(np.isfinite(P))
    assert np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=0, atol=10 * np.finfo(P.dtype).eps)


# ---- bad input ---------------------------------------------------------------

X_OK, Y_OK = _data(n=20, n_features=3, n_classes=2)


def _with(X=None, y=None, where=(0, 0), value=np.nan):
    arr = np.array(X_OK if X is None else X, dtype=float, copy=True)
    arr[where] = value
    return arr


BAD_FIT_INPUTS = {
    "X NaN": (dict(X=_with()), r"Input X contains NaN"),
    "X +inf": (dict(X=_with(value=np.inf)), r"Input X contains infinity"),
    "X -inf": (dict(X=_with(value=-np.inf)), r"Input X contains infinity"),
    "X strings": (dict(X=np.full((20, 3), "a")), r"X must contain only numbers"),
    "X objects": (
        dict(X=np.array([[1.0, "b", None]] * 20, dtype=object)),
        r"X must contain only numbers",
    ),
    "X 1-D": (dict(X=X_OK[:, 0]), r"Expected 2D array, got 1D array"),
    "X 3-D": (dict(X=X_OK[:, :, None]), r"dim 3"),
    "X no samples": (dict(X=X_OK[:0], y=Y_OK[:0]), r"0 sample\(s\)"),
    "X no features": (dict(X=X_OK[:, :0]), r"0 feature\(s\)"),
    "y NaN": (dict(y=np.where(np.arange(20) == 0, np.nan, Y_OK)), r"Input y contains NaN"),
    "y inf": (dict(y=np.where(np.arange(20) == 0, np.inf, Y_OK)), r"Input y contains infinity"),
    "y too short": (dict(y=Y_OK[:-1]), r"X and y must have the same number of samples"),
    "y one class": (dict(y=np.zeros(20)), r"at least 2 classes"),
    "y continuous": (dict(y=np.linspace(0, 1, 20)), r"Unknown label type: continuous"),
    "sample_weight NaN": (
        dict(sample_weight=np.where(np.arange(20) == 0, np.nan, 1.0)),
        r"sample_weight contains NaN",
    ),
    "sample_weight inf": (
        dict(sample_weight=np.where(np.arange(20) == 0, np.inf, 1.0)),
        r"sample_weight contains infinity",
    ),
    "sample_weight negative": (
        dict(sample_weight=np.where(np.arange(20) == 0, -1.0, 1.0)),
        r"Negative values in data passed to `sample_weight`",
    ),
    "sample_weight all zero": (dict(sample_weight=np.zeros(20)), r"(?i)sample.weights?.*non-zero"),
    "sample_weight wrong length": (dict(sample_weight=np.ones(19)), r"sample_weight\.shape"),
    "sample_weight strings": (
        dict(sample_weight=["a"] * 20),
        r"sample_weight must contain only numbers",
    ),
    "sample_weight keeps one class": (
        dict(sample_weight=(Y_OK == 1).astype(float)),
        r"sample_weight leaves only one class",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FIT_INPUTS), ids=list(BAD_FIT_INPUTS))
def test_bad_fit_input_names_the_argument(case):
    kwargs, message = BAD_FIT_INPUTS[case]
    X = kwargs.pop("X", X_OK)
    y = kwargs.pop("y", Y_OK)
    with pytest.raises(ValueError, match=message):
        _small().fit(X, y, **kwargs)


@pytest.mark.parametrize(
    "X, message",
    [
        (_with(), r"Input X contains NaN"),
        (_with(value=np.inf), r"Input X contains infinity"),
        (np.full((4, 3), "x"), r"X must contain only numbers"),
        (X_OK[0], r"Expected 2D array"),
        (X_OK[:0], r"0 sample\(s\)"),
        (X_OK[:, :2], r"X has 2 features, but ScratchMLPClassifier is expecting 3"),
    ],
)
def test_bad_predict_input_names_the_argument(X, message):
    clf = _small().fit(X_OK, Y_OK)
    for method in (clf.predict, clf.predict_proba, clf.predict_log_proba):
        with pytest.raises(ValueError, match=message):
            method(X)


def test_predict_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        _small().predict_proba(X_OK)


def test_partial_fit_needs_classes_on_the_first_call():
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        _small().partial_fit(X_OK, Y_OK)


def test_first_partial_fit_rejects_labels_outside_classes():
    # Before the check, label 1 was encoded as an all-zero row and trained on silently.
    with pytest.raises(ValueError, match=re.escape("labels not in classes_ [0, 2]: [1]")):
        _small().partial_fit(X_OK, Y_OK, classes=[0, 2])


def test_partial_fit_rejects_unseen_labels_and_other_classes():
    clf = _small().partial_fit(X_OK, Y_OK, classes=[0, 1])
    before = flat_weights(clf)
    y_new = np.where(np.arange(20) == 3, 7, Y_OK)
    with pytest.raises(ValueError, match=re.escape("labels not in classes_ [0, 1]: [7]")):
        clf.partial_fit(X_OK, y_new)
    with pytest.raises(ValueError, match=r"classes \[0, 1, 2\] differ from classes_ \[0, 1\]"):
        clf.partial_fit(X_OK, Y_OK, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"X has 2 features"):
        clf.partial_fit(X_OK[:, :2], Y_OK)
    with pytest.raises(ValueError, match=r"y must be single-label"):
        clf.partial_fit(X_OK, np.column_stack([Y_OK, 1 - Y_OK]))
    # A label that does not even compare with the classes (a TypeError before).
    with pytest.raises(ValueError, match="Unknown label type"):
        clf.partial_fit(X_OK, np.where(np.arange(20) == 3, None, Y_OK).astype(object))
    np.testing.assert_array_equal(flat_weights(clf), before)


def test_partial_fit_rejects_another_number_of_label_columns():
    Y = np.column_stack([Y_OK, 1 - Y_OK, X_OK[:, 0] > 0]).astype(int)
    clf = _small().partial_fit(X_OK, Y)
    with pytest.raises(ValueError, match="y has 2 label columns; the model was fitted with 3"):
        clf.partial_fit(X_OK, Y[:, :2])
    with pytest.raises(ValueError, match="y must be multilabel"):
        clf.partial_fit(X_OK, Y_OK)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


def test_early_stopping_split_that_cannot_be_made_names_validation_fraction():
    X, y = _data(n=10, n_classes=3)
    with pytest.raises(ValueError, match=r"early_stopping=True.*validation_fraction=0.1"):
        _small(early_stopping=True).fit(X, y)  # one row to hold out


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_class_too_small_to_stratify_gets_a_plain_split(n_classes):
    # As MLPClassifier's multiclass split: a cross-validation fold with a class
    # of one row trains (it used to be refused for every single-label target).
    X, y = _data(n=60, n_classes=n_classes)
    y = y.copy()
    y[0] = 5
    clf = _small(early_stopping=True).fit(X, y)
    assert 5 in clf.classes_ and len(clf.validation_scores_) == clf.n_iter_


def test_the_early_stopping_split_is_stratified_where_it_can_be(monkeypatch):
    from sknumpynet import _holdout

    X, y = _data(n=200, n_classes=3)
    y = np.where(np.arange(200) < 20, 2, y % 2)  # 20 rows of class 2: 10%
    held = []
    real = _holdout.scorer
    monkeypatch.setattr(
        _holdout,
        "scorer",
        lambda est, X_val, y_val, *rest: held.append(y_val) or real(est, X_val, y_val, *rest),
    )
    for seed in range(5):  # a plain random split would stray from the class shares
        _small(early_stopping=True, validation_fraction=0.25, random_state=seed).fit(X, y)
        assert np.abs(np.bincount(held[-1]) - np.bincount(y) / 4).max() <= 1


# (name, invalid value, exception, text that says what is allowed)
BAD_HYPERPARAMETERS = [
    ("hidden_layer_sizes", 0, ValueError, "an int or a sequence of ints >= 1"),
    ("hidden_layer_sizes", (8, 0), ValueError, "an int or a sequence of ints >= 1"),
    ("hidden_layer_sizes", (8.5,), TypeError, "an int or a sequence of ints >= 1"),
    ("hidden_layer_sizes", "8", TypeError, "an int or a sequence of ints >= 1"),
    ("hidden_layer_sizes", (True,), TypeError, "an int or a sequence of ints >= 1"),
    ("hidden_layer_sizes", None, TypeError, "an int or a sequence of ints >= 1"),
    ("hidden_layer_sizes", {8, 4}, TypeError, "an int or a sequence of ints >= 1"),
    ("hidden_layer_sizes", {8: 1}, TypeError, "an int or a sequence of ints >= 1"),
    ("activation", "softmax", ValueError, "one of 'identity', 'relu'"),
    ("activation", ["relu", "tanh"], ValueError, "a list of 1 of them"),
    ("activation", None, ValueError, "one of 'identity'"),
    ("head", "tanh", ValueError, "one of 'auto', 'sigmoid', 'softmax'"),
    ("init", "zeros", ValueError, "one of 'auto', 'random', 'xavier', 'he'"),
    ("optimizer", "newton", ValueError, "one of 'gd', 'sgd', 'momentum'"),
    ("optimizer", None, ValueError, "one of 'gd', 'sgd'"),
    ("learning_rate_init", 0, ValueError, "must be > 0"),
    ("learning_rate_init", -1.0, ValueError, "must be > 0"),
    ("learning_rate_init", np.nan, ValueError, "finite number > 0"),
    ("learning_rate_init", np.inf, ValueError, "finite number > 0"),
    ("learning_rate_init", "0.1", ValueError, "must be 'auto' or a number > 0"),
    ("learning_rate_init", [0.1], TypeError, "must be 'auto' or a number > 0"),
    ("learning_rate", "optimal", ValueError, "'invscaling', 'adaptive', 'cosine'"),
    ("learning_rate", None, ValueError, "one of 'constant', 'invscaling'"),
    ("power_t", -0.5, ValueError, "must be >= 0"),
    ("power_t", np.inf, ValueError, "finite number >= 0"),
    ("power_t", "0.5", TypeError, "instance of float"),
    ("power_t", True, TypeError, "a number >= 0, not a bool"),
    ("dropout", 1.0, ValueError, "a float in [0, 1) or a list of 1 of them"),
    ("dropout", -0.1, ValueError, "a float in [0, 1)"),
    ("dropout", np.nan, ValueError, "a float in [0, 1)"),
    ("dropout", [0.1, 0.2], ValueError, "a list of 1 of them (one per hidden layer)"),
    ("dropout", True, ValueError, "a float in [0, 1)"),
    ("dropout", None, ValueError, "a float in [0, 1)"),
    ("class_weight", "balance", ValueError, "None, 'balanced' or a dict {label: weight}"),
    ("class_weight", [1.0, 2.0], ValueError, "None, 'balanced' or a dict {label: weight}"),
    ("class_weight", {5: 2.0}, ValueError, "not classes [0, 1]: [5]"),
    ("momentum", 1.5, ValueError, "must be <= 1"),
    ("momentum", -0.1, ValueError, "must be >= 0"),
    ("momentum", np.nan, ValueError, "finite number >= 0 and <= 1"),
    ("rho", 1.5, ValueError, "must be < 1"),
    ("beta_1", 1.0, ValueError, "must be < 1"),
    ("beta_2", np.nan, ValueError, "finite number >= 0 and < 1"),
    ("beta_2", -0.5, ValueError, "must be >= 0"),
    ("epsilon", 0, ValueError, "must be > 0"),
    ("epsilon", np.inf, ValueError, "finite number > 0"),
    ("alpha", -1e-4, ValueError, "must be >= 0"),
    ("alpha", np.inf, ValueError, "finite number >= 0"),
    ("alpha", np.nan, ValueError, "finite number >= 0"),
    ("batch_size", 0, ValueError, "must be >= 1"),
    ("batch_size", 2.0, TypeError, "instance of int"),
    ("batch_size", True, TypeError, "an int >= 1"),
    ("batch_size", "big", ValueError, "'auto' or an int >= 1"),
    ("max_iter", 0, ValueError, "must be >= 1"),
    ("max_iter", 1.5, TypeError, "instance of int"),
    ("max_iter", True, TypeError, "an int >= 1"),
    ("max_fun", 0, ValueError, "must be >= 1"),
    ("max_fun", 2.5, TypeError, "instance of int"),
    ("max_fun", False, TypeError, "an int >= 1"),
    ("tol", -1.0, ValueError, "must be >= 0"),
    ("tol", np.nan, ValueError, "finite number >= 0"),
    ("n_iter_no_change", 0, ValueError, "an int >= 1 or np.inf"),
    ("n_iter_no_change", 2.5, TypeError, "an int >= 1 or np.inf"),
    ("n_iter_no_change", -np.inf, TypeError, "an int >= 1 or np.inf"),
    ("n_iter_no_change", np.nan, TypeError, "an int >= 1 or np.inf"),
    ("n_iter_no_change", True, TypeError, "an int >= 1 or np.inf"),
    ("early_stopping", 1, TypeError, "True or False"),
    ("validation_fraction", -0.1, ValueError, "must be >= 0"),
    ("validation_fraction", 1.0, ValueError, "must be < 1"),
    ("validation_fraction", np.nan, ValueError, "finite number >= 0 and < 1"),
    ("shuffle", "yes", TypeError, "True or False"),
    ("random_state", "0", TypeError, "None, an int, a numpy RandomState or Generator"),
    ("random_state", 1.5, TypeError, "None, an int, a numpy RandomState or Generator"),
    ("random_state", -1, ValueError, r"an int in [0, 2**32 - 1]"),
    # Accepted as seed 1 (MLPClassifier takes it too), against the rule for ints.
    ("random_state", True, TypeError, "None, an int, a numpy RandomState or Generator"),
    ("warm_start", None, TypeError, "True or False"),
    ("verbose", -1, ValueError, "must be >= 0"),
    ("verbose", 0.5, TypeError, "instance of int"),
]


@pytest.mark.parametrize(
    "name, value, error, allowed",
    BAD_HYPERPARAMETERS,
    ids=[f"{name}={value!r}" for name, value, _, _ in BAD_HYPERPARAMETERS],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_hyperparameter_is_named_with_what_is_allowed(name, value, error, allowed, method):
    clf = ScratchMLPClassifier(max_iter=2).set_params(**{name: value})
    with pytest.raises(error) as info:
        if method == "fit":
            clf.fit(X_OK, Y_OK)
        else:
            clf.partial_fit(X_OK, Y_OK, classes=[0, 1])
    # scikit-learn's InvalidParameterError, a ValueError and a TypeError, so
    # that "except ValueError" catches a wrong type too (it caught only one).
    assert isinstance(info.value, InvalidParameterError)
    message = str(info.value)
    assert name in message
    assert allowed in message
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize(
    "params", [{"alpha": "0.1"}, {"max_iter": 10.0}, {"shuffle": 1}, {"alpha": -1.0}], ids=repr
)
def test_a_bad_hyperparameter_raises_what_mlpclassifier_raises(params):
    from sklearn.neural_network import MLPClassifier

    for est in (MLPClassifier(**params), ScratchMLPClassifier(**params)):
        with pytest.raises(ValueError) as info:
            est.fit(X_OK, Y_OK)
        assert isinstance(info.value, TypeError), type(est).__name__


def test_every_hyperparameter_has_an_invalid_value_case():
    covered = {name for name, *_ in BAD_HYPERPARAMETERS}
    assert covered == set(ScratchMLPClassifier().get_params())


# ---- numerics ----------------------------------------------------------------

MODELS = {
    "softmax-relu": dict(hidden_layer_sizes=(8,), activation="relu"),
    "sigmoid-ovr-tanh": dict(hidden_layer_sizes=(8,), activation="tanh", head="sigmoid"),
    "sigmoid-hidden": dict(hidden_layer_sizes=(8, 8), activation="sigmoid"),
    "leaky-deep": dict(hidden_layer_sizes=(16, 16, 16), activation="leaky_relu"),
    "linear": dict(hidden_layer_sizes=(), activation="identity"),
}


@pytest.fixture(scope="module", params=[2, 3], ids=["binary", "multiclass"])
def fitted_models(request):
    X, y = _data(n=150, n_classes=request.param)
    models = {}
    for name, params in MODELS.items():
        for dtype in (np.float64, np.float32):
            clf = _small(max_iter=20, **params).fit(X.astype(dtype), y)
            models[name, np.dtype(dtype).name] = clf
    return X, y, models


@pytest.mark.parametrize("scale", [1.0, 1e6, 1e30, 1e300])
def test_prediction_stays_finite_for_extreme_inputs(fitted_models, scale):
    X, _, models = fitted_models
    for clf in models.values():
        Xs = X[:40] * scale
        P = clf.predict_proba(Xs)
        _assert_probabilities(P, 40, len(clf.classes_))
        L = clf.predict_log_proba(Xs)
        assert np.all(np.isfinite(L)) and np.all(L <= 0)
        assert np.isin(clf.predict(Xs), clf.classes_).all()


def test_prediction_of_float32_model_for_float64_beyond_float32_range(fitted_models):
    X, _, models = fitted_models
    clf = models["leaky-deep", "float32"]
    X_huge = X[:10] * 1e300  # inf once cast to the model's float32
    P = clf.predict_proba(X_huge)
    assert P.dtype == np.float32
    _assert_probabilities(P, 10, len(clf.classes_))


@pytest.mark.parametrize(
    ("scale", "outcome"),
    [(1e30, "finite"), (1e38, "clipped"), (1e39, "refused"), (1e300, "refused")],
)
def test_a_float32_regressor_never_returns_nan_or_inf(scale, outcome):
    # Far outside the training range float32 arithmetic overflows: predictions
    # are clipped to the largest float32 where they overflow to inf, and a row
    # whose prediction is not a number is refused by name, never returned.
    # With this model: at 1e30 the predictions (about 4e30) are in range; at
    # 1e38 some overflow and are clipped; beyond float32's range (1e39, 1e300)
    # the input is clipped to +-3.4e38, the hidden sums meet inf - inf, and
    # rows become NaN.
    X, y = _data()
    target = X @ np.arange(1.0, X.shape[1] + 1)
    reg = ScratchMLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    reg.fit(X.astype(np.float32), target)
    if outcome == "refused":
        with pytest.raises(ValueError, match=r"rows of X .* are not a number.*Scale X"):
            reg.predict(X * scale)
        return
    pred = reg.predict(X * scale)
    assert pred.dtype == np.float32 and np.isfinite(pred).all()
    largest = np.finfo(np.float32).max
    if outcome == "clipped":
        assert np.abs(pred).max() == largest
    else:
        assert np.abs(pred).max() < largest / 1e6


def test_a_float32_regressor_clips_float64_input_to_its_range():
    # Beyond float32's range the input becomes the largest float32 of its
    # sign, not inf (whose inf - inf made every prediction NaN).
    X, _ = _data()
    reg = ScratchMLPRegressor(hidden_layer_sizes=(), max_iter=3, random_state=0)
    reg.fit(X.astype(np.float32), X[:, 0])
    big = np.finfo(np.float32).max
    X_huge = np.zeros((2, X.shape[1]))
    X_huge[:, 0] = [1e39, -1e300]
    expected = reg.predict(np.where(X_huge > 0, big, np.where(X_huge < 0, -big, 0.0)))
    np.testing.assert_array_equal(reg.predict(X_huge), expected)
    assert np.isfinite(expected).all()


def test_saturated_units_give_hard_but_valid_probabilities(fitted_models):
    X, y, models = fitted_models
    for clf in models.values():
        clf = clone(clf).fit(X.astype(clf.coefs_[0].dtype), y)
        for W in clf.coefs_:
            W *= 1e4  # every sigmoid/tanh unit and the head saturate
        P = clf.predict_proba(X)
        _assert_probabilities(P, len(X), len(clf.classes_))
        # Hard: every entry 0 or the row's top one.  Several one-vs-rest
        # sigmoid units saturated at 1 share the row equally (1/2, 1/2, 0).
        top = P.max(axis=1, keepdims=True)
        hard = np.all((P < 1e-6) | (P > top - 1e-6), axis=1)
        assert np.mean(hard) > 0.5


@pytest.mark.parametrize(
    "head, multilabel", [("softmax", False), ("sigmoid", False), ("sigmoid", True)]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_head_log_proba_is_finite_for_non_finite_logits(head, multilabel, dtype):
    big = np.finfo(dtype).max
    Z = np.array(
        [[np.inf, -np.inf, 0.0], [np.nan, 1.0, -1.0], [big, big, -big], [np.nan] * 3],
        dtype=dtype,
    )
    L = HEADS[head].log_proba(Z, multilabel)
    assert L.shape == Z.shape and L.dtype == dtype
    assert np.all(np.isfinite(L)) and np.all(L <= 0)
    P = np.exp(L)
    if not multilabel:
        _assert_probabilities(P, 4, 3)
        assert P[0, 0] == P[0].max() and P[0, 1] == 0
        assert P[3] == pytest.approx([1 / 3] * 3)
    else:
        assert P[0, 0] == 1 and P[0, 1] == 0 and P[3] == pytest.approx([0.5] * 3)


def test_head_log_proba_does_not_modify_the_logits():
    Z = np.array([[np.inf, np.nan, 1.0]])
    for head in HEADS.values():
        if head.classification:
            head.log_proba(Z, False)
    assert np.isposinf(Z[0, 0]) and np.isnan(Z[0, 1])


@pytest.mark.parametrize("scale", [1e6, 1e30])
@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS)  # those with a learning rate to blame
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_on_unscaled_data_trains_or_diverges_cleanly(scale, optimizer, dtype):
    X, y = _data()
    Xs = (X * scale).astype(dtype)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        clf = _small(optimizer=optimizer, max_iter=10).fit(Xs, y)
    diverged = [w for w in caught if issubclass(w.category, DivergenceWarning)]
    for w in diverged:
        assert "too high" in str(w.message)
    assert all(np.all(np.isfinite(c)) for c in clf.coefs_ + clf.intercepts_)
    _assert_probabilities(clf.predict_proba(Xs), len(X), 3)
    if optimizer == "adam":
        # Adam's step is bounded by the learning rate: it trains, whatever the scale.
        assert not diverged
        assert clf.n_iter_ == 10


def test_training_refuses_data_whose_loss_overflows_at_the_start():
    X, y = _data()
    X_huge = (X / np.abs(X).max() * 3e38).astype(np.float32)  # near float32's largest
    # 64 units: some unit's weighted sum surely passes 3.4e38 and overflows.
    with pytest.raises(ValueError, match=r"not finite.*Scale the features"):
        _small(hidden_layer_sizes=(64,)).fit(X_huge, y)


_START = "The loss at the starting weights is not finite: "
_RESCALE = " so that the weights of the rows average about 1."


@pytest.mark.parametrize("optimizer", ["adam", "gd", "lbfgs"])
def test_a_loss_not_finite_at_the_start_names_alpha(optimizer):
    # It used to blame X or y and say to scale the features (lbfgs did not
    # raise: it stopped at the starting weights, with a warning or without).
    X, y = load_iris(return_X_y=True)
    clf = _small(optimizer=optimizer, max_iter=1, alpha=1e308)
    message = "alpha=1e+308 makes the L2 penalty of the starting weights overflow. Lower alpha."
    with pytest.raises(ValueError, match=f"^{re.escape(_START + message)}$"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


_BELOW = "; each batch's loss is divided by its total weight. Rescale "


@pytest.mark.parametrize(
    "params, fit_params, dtype, message",
    [
        (
            {},
            {"sample_weight": np.full(150, 1e-320)},
            np.float64,
            "sample_weight: 150 positive weights are below the smallest normal float64 "
            f"number (2.23e-308){_BELOW}sample_weight{_RESCALE}",
        ),
        (
            {},
            {"sample_weight": np.r_[np.full(75, 1e-44), np.ones(75)]},
            np.float32,
            "sample_weight: 75 positive weights are below the smallest normal float32 "
            f"number (1.18e-38){_BELOW}sample_weight{_RESCALE}",
        ),
        (
            {},
            {"sample_weight": np.full(150, 1e307)},
            np.float64,
            "sample_weight: the weights sum to more than the largest float64 number"
            f"{_BELOW}sample_weight{_RESCALE}",
        ),
        (
            {"class_weight": dict.fromkeys(range(3), 1e307)},
            {},
            np.float64,
            "class_weight: the weights sum to more than the largest float64 number"
            f"{_BELOW}class_weight{_RESCALE}",
        ),
        (
            {"class_weight": "balanced"},
            {"sample_weight": np.full(150, 1e307)},
            np.float64,
            "sample_weight and class_weight: the weights sum to more than the largest "
            f"float64 number{_BELOW}sample_weight and class_weight{_RESCALE}",
        ),
    ],
    ids=["tiny", "tiny-float32-rows", "huge-sample_weight", "huge-class_weight", "both"],
)
@pytest.mark.parametrize("optimizer", ["adam", "gd", "lbfgs"])
def test_weights_a_batch_cannot_be_divided_by_are_named(
    params, fit_params, dtype, message, optimizer
):
    # Every batch's loss and gradient are divided by its total weight: a
    # subnormal total overflowed its reciprocal, and the error blamed X or y,
    # or alpha, or (float32, where a batch of the tiny rows has a subnormal
    # total though all rows together do not) learning_rate_init.
    X, y = load_iris(return_X_y=True)
    clf = _small(optimizer=optimizer, max_iter=1, **params)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        clf.fit(X.astype(dtype), y, **fit_params)
    assert not hasattr(clf, "coefs_")


def test_tiny_weights_of_the_training_split_alone_are_refused():
    # With early stopping the weights of the rows trained on may be tiny while
    # the held-out rows' are not: the bound is on each row, not on a total.
    X, y = load_iris(return_X_y=True)
    sw = np.full(150, 1e-320)
    sw[::10] = 1.0  # some rows of every class, whichever are held out
    with pytest.raises(ValueError, match=r"positive weights are below the smallest normal"):
        _small(early_stopping=True, max_iter=2).fit(X, y, sample_weight=sw)


def test_float32_weights_whose_total_passes_float32s_range_train():
    # Each batch is divided by its own total: all rows' total may pass the
    # largest float32 while every batch's stays below it.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    sw = np.full(1000, 1e36, dtype=np.float32)  # 1e39 in all, 2e38 a batch of 200
    clf = _small(optimizer="sgd", batch_size=200, max_iter=2).fit(X, y, sample_weight=sw)
    assert np.isfinite(clf.loss_)


def test_alpha_zero_is_never_blamed_for_the_penalty():
    # 0 * inf is NaN: huge weights (set by hand) made penalty(0) NaN, and the
    # error said alpha=0 made the penalty overflow.
    X, y = load_iris(return_X_y=True)
    clf = _small(alpha=0.0).fit(X, y)
    for W in clf.coefs_:
        W[...] = 1e300
    with pytest.raises(ValueError, match=r"X or y is too large") as info:
        clf.partial_fit(X, y)
    assert "alpha" not in str(info.value)


@pytest.mark.parametrize("optimizer", ["adam", "gd", "lbfgs"])
def test_a_loss_not_finite_at_the_start_from_huge_x_names_x(optimizer):
    X, y = load_iris(return_X_y=True)
    X_huge = X * 1e307  # finite; the first layer's sums overflow float64
    clf = _small(optimizer=optimizer, max_iter=1)
    scale = "Scale the features (and targets), e.g. with sklearn.preprocessing.StandardScaler."
    expected = f"{_START}X or y is too large for float64 arithmetic in this network. {scale}"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        clf.fit(X_huge, y)
    # Weights can make the data term overflow too: they are named beside X and y.
    expected = (
        f"{_START}X, y or sample_weight is too large for float64 arithmetic in this network. "
        f"{scale} Rescale sample_weight{_RESCALE}"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        clf.fit(X_huge, y, sample_weight=np.ones(len(y)))


def test_partial_fit_refuses_float64_beyond_the_float32_model_range():
    X, y = _data()
    clf = _small().fit(X.astype(np.float32), y)
    before = flat_weights(clf)
    with pytest.raises(ValueError, match=r"beyond the range of float32"):
        clf.partial_fit(X * 1e300, y)
    np.testing.assert_array_equal(flat_weights(clf), before)


def test_a_float32_model_refuses_targets_and_validation_data_beyond_its_range():
    # float32 X with float64 y is the usual way to train in float32. A target
    # beyond float32's range became inf in the cast: a RuntimeWarning, then a
    # "divergence" blamed on the learning rate and an untrained model (or, for
    # the validation set, inf and NaN validation losses).
    X, y = _data()
    X32 = X.astype(np.float32)
    target = X[:, 0].copy()
    target[5] = 1e39  # finite in float64
    with pytest.raises(ValueError, match=r"^y has values beyond the range of float32"):
        ScratchMLPRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(X32, target)
    with pytest.raises(ValueError, match=r"^y has values beyond the range of float32"):
        ScratchMLPRegressor(hidden_layer_sizes=(4,)).partial_fit(X32, target)
    X_val = X[:20].copy()
    X_val[0, 0] = 1e39
    with pytest.raises(ValueError, match=r"^X_val has values beyond the range of float32"):
        _small().fit(X32, y, X_val=X_val, y_val=y[:20])
    with pytest.raises(ValueError, match=r"^y_val has values beyond the range of float32"):
        ScratchMLPRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(
            X32, X[:, 0], X_val=X32[:20], y_val=target[:20]
        )


def test_big_endian_float32_input_trains_a_float32_model():
    # scikit-learn's validation took ">f4" for neither float32 nor float64 and
    # converted X to float64: a copy twice the size, and a float64 model.
    X, y = _data()
    big_endian = _small().fit(X.astype(">f4"), y)
    native = _small().fit(X.astype(np.float32), y)
    assert big_endian.coefs_[0].dtype == np.float32
    np.testing.assert_array_equal(big_endian.coefs_[0], native.coefs_[0])


@pytest.mark.parametrize("labels", [["a", 1], [1, "a"], [None, "a"], ["a", None]], ids=repr)
def test_labels_of_mixed_types_are_refused_naming_the_argument(labels):
    # With a number (or None) first, scikit-learn's type_of_target called the
    # labels "unknown" and the error blamed a continuous regression target.
    X, _ = _data(n=60)
    mixed = np.array(labels * 30, dtype=object)
    with pytest.raises(TypeError, match=r"^y must hold labels of one type"):
        _small().fit(X, mixed)
    with pytest.raises(TypeError, match=r"^classes must hold labels of one type"):
        _small().partial_fit(X, np.array(["a"] * 60, dtype=object), classes=mixed[:2])


@pytest.mark.parametrize("where", ["y", "classes"])
def test_labels_with_a_missing_date_are_refused(where):
    # NaT compares with nothing, so classes_ came out unsorted in any order and
    # the labels were encoded to the wrong units: a silently wrong model.
    X, _ = _data(n=60)
    y = np.array(["2020-01-01", "NaT", "2021-06-01"] * 20, dtype="datetime64[D]")
    with pytest.raises(ValueError, match=r"(y|classes) contains NaT \(a missing date or time\)"):
        if where == "y":
            _small().fit(X, y)
        else:
            _small().partial_fit(X[:20], y[y == y[0]], classes=np.unique(y))


def test_class_weight_dicts_for_labels_that_spell_numbers_or_dates():
    # scikit-learn's compute_class_weight reads each label with int() first:
    # the label '2' became 2 and missed its key, and dates failed in int().
    X, _ = _data(n=60)
    for y, key in (
        (np.array(["1", "2", "x"] * 20), "2"),
        (
            np.array(["2020-01-01", "2021-06-01", "2022-03-01"] * 20, dtype="datetime64[D]"),
            np.datetime64("2021-06-01"),
        ),
    ):
        weighted = _small(class_weight={key: 5.0}).fit(X, y)
        sw = np.where(y == key, 5.0, 1.0)
        same = _small().fit(X, y, sample_weight=sw)
        np.testing.assert_array_equal(weighted.coefs_[0], same.coefs_[0])


# ---- divergence --------------------------------------------------------------


# Learning rates a million times too high: each case diverges for certain. The
# batches an epoch say where the divergence is caught: from a batch loss inside
# the first epoch (two batches an epoch with batch_size="auto" over the 120
# rows, or three), or, full batch, from the loss after the epoch's only step.
DIVERGING = {
    "sgd-auto-batches": dict(optimizer="sgd", learning_rate_init=1e6),
    "sgd-3-batches": dict(optimizer="sgd", learning_rate_init=1e6, batch_size=40),
    "gd": dict(optimizer="gd", learning_rate_init=1e6),
}


def _fit_diverging(**params):
    X, y = _data()
    with pytest.warns(DivergenceWarning) as record:
        clf = _small(max_iter=50, **params).fit(X, y)
    return X, y, clf, [w for w in record if w.category is DivergenceWarning]


@pytest.mark.parametrize("case", list(DIVERGING))
@pytest.mark.parametrize("early_stopping", [False, True])
def test_exploding_learning_rate_stops_with_a_divergence_warning(case, early_stopping):
    params = DIVERGING[case]
    X, y, clf, diverged = _fit_diverging(early_stopping=early_stopping, **params)
    assert len(diverged) == 1
    message = str(diverged[0].message)
    lr, optimizer = params["learning_rate_init"], params["optimizer"]
    assert message.startswith("Training diverged in epoch 1 ")
    assert f"learning_rate_init={lr} is too high for optimizer={optimizer!r}" in message
    assert "best finite weights" in message
    assert clf.n_iter_ == 0
    assert all(np.all(np.isfinite(c)) for c in clf.coefs_ + clf.intercepts_)
    _assert_probabilities(clf.predict_proba(X), len(X), 3)
    assert np.all(np.isfinite(clf.predict_log_proba(X)))
    assert _mean_nll(clf, X, y) < SOUND_LOSS
    state = clf._optimizer_state
    assert state["t"] == 0  # restarted: the old moments held the exploded gradients
    assert all(np.all(np.isfinite(v)) for v in state.values() if isinstance(v, np.ndarray))


class _ExplodesInEpoch3(SCHEDULES["constant"]):
    """learning_rate_init for two epochs, then a million times it."""

    @staticmethod
    def rate(init, current, *, epoch, samples_seen, max_epochs, power_t):
        return init if epoch < 2 else 1e6 * init


@pytest.mark.parametrize("case", list(DIVERGING))
@pytest.mark.parametrize("early_stopping", [False, True])
def test_divergence_keeps_the_weights_of_the_best_epoch(case, early_stopping, monkeypatch):
    # Two sound epochs at a sane rate, then a rate that explodes in epoch 3 for
    # certain (a schedule registered for the test).
    monkeypatch.setitem(SCHEDULES, "explodes_in_epoch_3", _ExplodesInEpoch3)
    params = {**DIVERGING[case], "learning_rate_init": 0.1, "learning_rate": "explodes_in_epoch_3"}
    X, y, clf, diverged = _fit_diverging(early_stopping=early_stopping, **params)
    assert len(diverged) == 1
    assert str(diverged[0].message).startswith("Training diverged in epoch 3 ")
    assert clf.n_iter_ == 2
    if early_stopping:
        best_epoch = int(np.argmax(clf.validation_scores_)) + 1
    else:
        best_epoch = int(np.argmin(clf.loss_curve_)) + 1
    # The same seed replays the same epochs: stopping after the best one
    # must give exactly the weights that were kept.
    replay = _small(max_iter=best_epoch, early_stopping=early_stopping, **params).fit(X, y)
    np.testing.assert_array_equal(flat_weights(clf), flat_weights(replay))
    assert _mean_nll(clf, X, y) < SOUND_LOSS


class _SGDExplodingAtStep4(OPTIMIZERS["sgd"]):
    """sgd whose fourth step is a million times too long, the others sound."""

    def _update(self, w, g, state):
        if state["t"] == 4:
            g *= 1e6
        super()._update(w, g, state)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_weights_refused_at_the_first_batch_of_an_epoch_are_not_kept(early_stopping, monkeypatch):
    # The first batch of an epoch is scored with the weights the previous epoch
    # ended with.  When that batch's loss is over the limit and the previous
    # epoch was the best one, "the best epoch's weights" are the very weights
    # the guard just refused: they must not be what the model keeps.
    # Four batches an epoch (batch_size 30 of the 120 rows, or of the 108 left
    # by early stopping): the fourth step, the first epoch's last, explodes.
    # The end-of-epoch probe, which would catch it first, is switched off.
    monkeypatch.setitem(OPTIMIZERS, "sgd_exploding_at_step_4", _SGDExplodingAtStep4)
    monkeypatch.setattr(CallPlan, "probe", lambda self, n_train, rows, batch_rows: None)
    X, y = _data()
    params = dict(learning_rate_init=0.1, batch_size=30, early_stopping=early_stopping)
    with pytest.warns(DivergenceWarning, match=r"^Training diverged in epoch 2 .* at batch 0 "):
        clf = _small(optimizer="sgd_exploding_at_step_4", max_iter=50, **params).fit(X, y)
    assert clf.n_iter_ == 1
    assert _mean_nll(clf, X, y) < SOUND_LOSS
    # Neither the refused weights nor any later ones: the starting weights.
    start = _small(**{**params, "learning_rate_init": 1e-300, "max_iter": 1}).fit(X, y)
    np.testing.assert_array_equal(flat_weights(clf), flat_weights(start))


def test_a_first_step_that_explodes_keeps_the_starting_weights():
    # Full-batch gd: the loss of epoch 1 is measured before its only step, so
    # it looks fine; the weights after that step must not be kept as "best".
    X, y = _data()
    # 1000: explodes at the first step from the default (Glorot) and He weights alike.
    with pytest.warns(DivergenceWarning, match="after the last step"):
        clf = _small(optimizer="gd", learning_rate_init=1000.0).fit(X, y)
    assert clf.n_iter_ == 0 and clf.loss_curve_ == []
    # The same seed draws the same starting weights and biases, which a step of
    # 1e-300 leaves as they are.
    start = _small(optimizer="gd", learning_rate_init=1e-300, max_iter=1).fit(X, y)
    np.testing.assert_array_equal(flat_weights(clf), flat_weights(start))
    assert _mean_nll(clf, X, y) < SOUND_LOSS


@pytest.mark.parametrize("batch_size", [20, "auto"], ids=["6-batches", "one-batch"])
def test_divergence_in_partial_fit_keeps_the_previous_weights(batch_size):
    # With one batch a call, only the check after the call's last step can
    # see the explosion.
    X, y = _data()
    clf = _small(optimizer="sgd", learning_rate_init=0.01, batch_size=batch_size)
    clf.partial_fit(X, y, classes=[0, 1, 2])
    before = flat_weights(clf)
    clf.set_params(learning_rate_init=1e4)
    with pytest.warns(DivergenceWarning, match="learning_rate_init=10000.0 is too high"):
        clf.partial_fit(X, y)
    np.testing.assert_array_equal(flat_weights(clf), before)
    # Lowering the learning rate resumes from the kept weights.
    clf.set_params(learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        clf.partial_fit(X, y)
    assert not np.array_equal(flat_weights(clf), before)
    _assert_probabilities(clf.predict_proba(X), len(X), 3)


def test_divergence_caught_from_non_finite_weights_after_a_finite_loss(monkeypatch):
    # An overflow in the last step of an epoch leaves the loss finite but the
    # weights not: the estimator must notice and restore the best weights.
    X, y = _data()
    real_check = Trainer._check_last_step
    calls = []

    def overflow_in_third_epoch(self, *args, **kwargs):
        # Runs after the epoch's last step, before the epoch returns its loss.
        calls.append(self.network.params.copy())
        if len(calls) == 3:
            self.network.params[0] = np.inf
        return real_check(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "_check_last_step", overflow_in_third_epoch)
    with pytest.warns(DivergenceWarning, match="NaN or infinite"):
        clf = _small(max_iter=10, tol=0.0).fit(X, y)
    assert clf.n_iter_ == 2
    np.testing.assert_array_equal(flat_weights(clf), calls[1])


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_sane_learning_rates_do_not_trigger_divergence(optimizer):
    # The suite's learning settings: ten times each optimizer's default rate
    # (L-BFGS has none), 40 epochs.
    X, y = _data()
    settings = learning_settings(40, 40)[optimizer]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        clf = _small(optimizer=optimizer, **settings).fit(X, y)
    assert clf.n_iter_ > 10
    assert min(clf.loss_curve_) < clf.loss_curve_[0]


def _tiny_weights_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y, np.where(rng.random(400) < 0.2, 1.0, 1e-8)


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "gd"])
def test_batches_of_tiny_sample_weights_are_not_taken_for_divergence(optimizer):
    # The L2 term of a batch objective is divided by the batch's total weight:
    # a batch of rows weighing 1e-8 has one 1e8 times as large at the same
    # weights. The guard took that for an explosion and stopped in the first
    # epoch, blaming learning_rate_init (MLPClassifier trains on these data).
    X, y, sw = _tiny_weights_data()
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(16,), optimizer=optimizer, batch_size=8, max_iter=20, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        clf.fit(X, y, sample_weight=sw)
    assert clf.n_iter_ == len(clf.loss_curve_) == 20
    assert np.isfinite(clf.loss_curve_).all()
    # The guard still stops a real explosion of the same fit.
    exploding = clone(clf).set_params(learning_rate_init=1e4, momentum=0.0, rho=0.5)
    with pytest.warns(DivergenceWarning, match="Training diverged"):
        exploding.fit(X * 100, y, sample_weight=sw)
    assert exploding.n_iter_ < 20


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
def test_a_divergence_from_light_batches_names_the_weights_not_the_learning_rate(optimizer):
    # A plain gradient step on a batch of rows weighing 1e-8 multiplies the
    # weights by 1 - lr * alpha / 8e-8 (about -11 here): a real explosion, at
    # any learning rate, which the warning blamed on learning_rate_init alone.
    X, y, sw = _tiny_weights_data()
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(16,), optimizer=optimizer, batch_size=8, max_iter=20, random_state=0
    )
    with pytest.warns(DivergenceWarning) as record:
        clf.fit(X, y, sample_weight=sw)
    message = str(record[0].message)
    assert "the rows of smallest sample_weight (8e-08 in a batch of them" in message
    assert "Raise the smallest sample_weight, lower alpha=0.0001" in message
    assert "standardize X" not in message
    clf.set_params(alpha=0.0).fit(X, y, sample_weight=sw)  # no penalty, no blow-up
    assert clf.n_iter_ == 20


# ---- interruption ------------------------------------------------------------


class _StepRecorder:
    """Wraps an optimizer's step: keeps a copy of the weights after every
    step and runs ``on_step(n_steps)`` after each one."""

    def __init__(self, monkeypatch, name, on_step):
        cls = OPTIMIZERS[name]
        real_step = cls.step
        self.snapshots = []

        def step(opt, w, g, state):
            real_step(opt, w, g, state)
            self.snapshots.append(w.copy())
            on_step(len(self.snapshots))

        monkeypatch.setattr(cls, "step", step)


def _sigint_at(step_number):
    def on_step(n):
        if n == step_number:
            signal.raise_signal(signal.SIGINT)

    return on_step


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="SIGINT handlers exist only in the main thread",
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_ctrl_c_stops_at_a_batch_boundary_and_keeps_the_weights(monkeypatch, optimizer):
    X, y = _data(n=100)
    batches_per_epoch = 4  # batch_size 25
    interrupt_step = 2 * batches_per_epoch + 3  # the third batch of epoch 3
    recorder = _StepRecorder(monkeypatch, optimizer, _sigint_at(interrupt_step))
    handler_before = signal.getsignal(signal.SIGINT)
    clf = _small(optimizer=optimizer, batch_size=25, max_iter=20, tol=0.0)
    with pytest.warns(TrainingInterruptedWarning, match="interrupted in epoch 3") as record:
        clf.fit(X, y)
    messages = [str(w.message) for w in record if w.category is TrainingInterruptedWarning]
    assert len(messages) == 1 and "last completed mini-batch" in messages[0]
    assert signal.getsignal(signal.SIGINT) is handler_before
    # Stopped right after the step during which Ctrl-C arrived, not mid-step.
    assert len(recorder.snapshots) == interrupt_step
    np.testing.assert_array_equal(flat_weights(clf), recorder.snapshots[-1])
    assert np.all(np.isfinite(flat_weights(clf)))
    # Only whole epochs are counted.
    assert clf.n_iter_ == 2 and clf.t_ == 2 * len(X) and len(clf.loss_curve_) == 2
    assert clf._optimizer_state["t"] == interrupt_step
    _assert_probabilities(clf.predict_proba(X), len(X), 3)
    # It resumes: one more epoch from the kept weights and optimizer state.
    monkeypatch.undo()
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and clf.t_ == 3 * len(X) and len(clf.loss_curve_) == 3
    assert clf._optimizer_state["t"] == interrupt_step + batches_per_epoch
    assert not np.array_equal(flat_weights(clf), recorder.snapshots[-1])


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="SIGINT handlers exist only in the main thread",
)
def test_ctrl_c_from_another_thread_during_a_long_fit(monkeypatch):
    # A real asynchronous Ctrl-C: a timer thread calls interrupt_main while the
    # main thread trains; the timer starts inside the fit, so the signal cannot
    # arrive before the handler is installed or after the fit has returned.
    X, y = _data(n=200)
    timers = []

    def on_step(n):
        if n == 1:
            timers.append(threading.Timer(0.2, _thread.interrupt_main))
            timers[0].start()

    recorder = _StepRecorder(monkeypatch, "adam", on_step)
    clf = _small(batch_size=10, max_iter=100_000, tol=0.0, n_iter_no_change=100_000)
    with pytest.warns(TrainingInterruptedWarning, match="Training interrupted"):
        clf.fit(X, y)
    timers[0].join()
    assert clf.n_iter_ < 100_000
    np.testing.assert_array_equal(flat_weights(clf), recorder.snapshots[-1])
    assert clf.t_ == clf.n_iter_ * len(X)
    assert clf._optimizer_state["t"] == len(recorder.snapshots)
    _assert_probabilities(clf.predict_proba(X), len(X), 3)


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="SIGINT handlers exist only in the main thread",
)
def test_ctrl_c_with_early_stopping_keeps_the_best_validated_weights(monkeypatch):
    X, y = _data(n=100)
    _StepRecorder(monkeypatch, "adam", _sigint_at(12))  # 3 batches per epoch: epoch 4
    clf = _small(batch_size=30, early_stopping=True, max_iter=20, tol=0.0)
    with pytest.warns(TrainingInterruptedWarning, match="best validation epoch"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.validation_scores_) == 3
    monkeypatch.undo()
    best = int(np.argmax(clf.validation_scores_)) + 1
    replay = _small(batch_size=30, early_stopping=True, max_iter=best, tol=0.0).fit(X, y)
    np.testing.assert_array_equal(flat_weights(clf), flat_weights(replay))


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="SIGINT handlers exist only in the main thread",
)
def test_ctrl_c_between_epochs_is_not_lost(monkeypatch):
    # Ctrl-C while the validation score is computed, after the epoch's last
    # step: during a fit, the held-out rows are the only ones passed through
    # the network's forward pass (_logits).
    X, y = _data(n=100)
    real_logits = ScratchMLPClassifier._logits

    def logits_then_sigint(self, *args, **kwargs):
        Z = real_logits(self, *args, **kwargs)
        signal.raise_signal(signal.SIGINT)
        return Z

    monkeypatch.setattr(ScratchMLPClassifier, "_logits", logits_then_sigint)
    with pytest.warns(TrainingInterruptedWarning, match="interrupted after epoch 1"):
        clf = _small(early_stopping=True, max_iter=20).fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.validation_scores_) == 1


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="SIGINT handlers exist only in the main thread",
)
def test_ctrl_c_during_partial_fit_raises_and_undoes_the_call(monkeypatch):
    # A loop of partial_fit calls spends its time inside the calls: held as in
    # fit, Ctrl-C would end one call early and the loop would go on.
    # partial_fit leaves SIGINT to Python's own handler, which Python does not
    # install when it starts with SIGINT ignored (as a shell starts a
    # background job): install it for this test.
    outside = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _ctrl_c_during_partial_fit(monkeypatch)
    finally:
        signal.signal(signal.SIGINT, outside)


def _ctrl_c_during_partial_fit(monkeypatch):
    X, y = _data(n=100)
    clf = _small(batch_size=25).partial_fit(X, y, classes=np.unique(y))
    twin = copy.deepcopy(clf)
    handler_before = signal.getsignal(signal.SIGINT)
    during = []

    def on_step(n):
        during.append(signal.getsignal(signal.SIGINT))
        _sigint_at(2)(n)

    recorder = _StepRecorder(monkeypatch, "adam", on_step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no TrainingInterruptedWarning either
        with pytest.raises(KeyboardInterrupt):
            clf.partial_fit(X, y)
    # Python's own handling (no handler installed): raised in the second step.
    assert len(recorder.snapshots) == 2
    assert all(handler is handler_before for handler in during)
    assert signal.getsignal(signal.SIGINT) is handler_before
    # The call never happened: weights, optimizer state and records as before.
    assert_same_fitted_state(clf, twin)
    # And the stream goes on from there, bit for bit like the twin's.
    monkeypatch.undo()
    clf.partial_fit(X, y)
    twin.partial_fit(X, y)
    np.testing.assert_array_equal(flat_weights(clf), flat_weights(twin))
    assert clf.t_ == twin.t_ == 2 * len(X)


def test_fit_in_a_worker_thread_leaves_sigint_alone():
    X, y = _data()
    handler_before = signal.getsignal(signal.SIGINT)
    with ThreadPoolExecutor(1) as pool:
        clf = pool.submit(_small().fit, X, y).result()
    assert signal.getsignal(signal.SIGINT) is handler_before
    assert clf.n_iter_ == 5


# ---- reproducibility and thread safety --------------------------------------


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_random_state_gives_bit_identical_weights(optimizer, dtype):
    X, y = _data()
    X = X.astype(dtype)
    params = dict(optimizer=optimizer, batch_size=16, max_iter=3)
    a = _small(random_state=7, **params).fit(X, y)
    b = _small(random_state=7, **params).fit(X, y)
    c = _small(random_state=8, **params).fit(X, y)
    np.testing.assert_array_equal(flat_weights(a), flat_weights(b))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(flat_weights(a), flat_weights(c))
    assert flat_weights(a).dtype == dtype


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_random_state_none_follows_numpy_global_seed(method):
    # As check_random_state(None): the global RandomState decides, so
    # np.random.seed makes an unseeded estimator reproducible.
    X, y = _data()

    def train():
        est = _small(random_state=None, early_stopping=method == "fit")
        if method == "fit":
            return est.fit(X, y)
        return est.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y)

    np.random.seed(7)  # noqa: NPY002 - the legacy global seed is what is tested
    first = train()
    np.random.seed(7)  # noqa: NPY002 - the legacy global seed is what is tested
    second = train()
    third = train()  # the global stream moved on
    for a, b in zip(first.coefs_, second.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.coefs_[0], third.coefs_[0])


def test_reproducible_with_random_state_instances_early_stopping_and_partial_fit():
    X, y = _data()
    fits = []
    for _ in range(2):
        es = _small(random_state=np.random.RandomState(3), early_stopping=True).fit(X, y)
        pf = _small(random_state=11)
        for chunk in np.array_split(np.arange(len(X)), 3):
            pf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
        fits.append((flat_weights(es), flat_weights(pf)))
    np.testing.assert_array_equal(fits[0][0], fits[1][0])
    np.testing.assert_array_equal(fits[0][1], fits[1][1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_concurrent_predict_proba_equals_serial(dtype):
    X, y = _data(n=400)
    X = X.astype(dtype)
    clf = _small(hidden_layer_sizes=(32, 16)).fit(X, y)
    chunks = [X[i::7] for i in range(7)] + [X] * 5
    serial = [clf.predict_proba(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=6) as pool:
        concurrent = list(pool.map(clf.predict_proba, chunks * 4))
    for i, P in enumerate(concurrent):
        np.testing.assert_array_equal(P, serial[i % len(chunks)])


def test_concurrent_fits_of_clones_equal_serial_fits():
    X, y = _data()
    base = _small(max_iter=4)
    seeds = [0, 1, 2, 3]
    serial = [flat_weights(clone(base).set_params(random_state=s).fit(X, y)) for s in seeds]
    with ThreadPoolExecutor(max_workers=4) as pool:
        fitted = list(pool.map(lambda s: clone(base).set_params(random_state=s).fit(X, y), seeds))
    for clf, expected in zip(fitted, serial, strict=True):
        np.testing.assert_array_equal(flat_weights(clf), expected)


def test_convergence_warning_is_still_a_warning_not_an_error():
    # The module-wide filter ignores the max_iter ConvergenceWarning; make sure
    # a capped fit really emits one (so that filter is not hiding a change of
    # category or message).
    X, y = _data()
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        _small(max_iter=1).fit(X, y)


# ---- a call that raises changes nothing; edge cases found in review ---------


def test_failed_first_partial_fit_leaves_the_estimator_unfitted():
    X, y = _data()
    # One batch of all 120 rows, whose float32 loss overflows at the start.
    clf = _small(batch_size=120)
    with pytest.raises(ValueError, match="StandardScaler"):
        clf.partial_fit(X.astype(np.float32) * np.float32(1e37), y, classes=np.unique(y))
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "classes_")
    with pytest.raises(NotFittedError, match="ScratchMLPClassifier instance is not fitted yet"):
        clf.predict(X)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)


def test_failed_refit_keeps_the_previous_model():
    X, y = _data()
    clf = _small().fit(X, y)
    proba, n_iter = clf.predict_proba(X), clf.n_iter_
    clf.set_params(early_stopping=True, validation_fraction=0.005)  # 1 row: too few to score
    with pytest.raises(ValueError, match="validation_fraction"):
        clf.fit(X, y)
    assert clf.n_iter_ == n_iter
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_early_stopping_split_without_weighted_training_rows_is_refused():
    X, y = _data(n=60)
    sw = np.zeros(len(y))
    sw[:3] = 1.0
    outcomes = []
    for seed in range(5):
        clf = _small(early_stopping=True, validation_fraction=0.9, random_state=seed)
        try:
            clf.fit(X, y, sample_weight=sw)
            outcomes.append("fitted")
        except ValueError as exc:
            assert "weighted by sample_weight," in str(exc)  # not class_weight: none was set
            outcomes.append("refused")
    assert "refused" in outcomes


def test_column_major_input_trains_like_row_major_input():
    X, y = _data()
    a = _small().fit(np.ascontiguousarray(X), y)
    b = _small().fit(np.asfortranarray(X), y)
    np.testing.assert_array_equal(flat_weights(a), flat_weights(b))


def test_each_warm_fit_gets_its_full_patience():
    X, y = _data()
    clf = _small(max_iter=50, tol=10.0, n_iter_no_change=2, warm_start=True)
    clf.fit(X, y)
    first = clf.n_iter_
    # Epoch 1 sets best_loss_; no later epoch improves it by tol=10, so training
    # stops once n_iter_no_change=2 is exceeded, after epoch 4.
    assert first == 4
    clf.fit(X, y)
    # The warm fit starts from the kept best_loss_ with its count reset: 3 epochs
    # (it used to stop after 1, the count carried over from the previous fit).
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == first + 3


def test_multiclass_multioutput_targets_are_refused_by_name():
    X, y = _data()
    Y = np.column_stack([y, (y + 1) % 3])
    with pytest.raises(ValueError, match="multilabel indicator.*multiclass-multioutput"):
        _small().fit(X, Y)


@pytest.mark.parametrize(
    "params, fit_params, name",
    [
        ({"class_weight": {0: 1e300}}, {}, "class_weight"),
        ({"class_weight": {0: 1e30}}, {"sample_weight": np.full(150, 1e20)}, "sample_weight and"),
    ],
    ids=["class_weight", "product"],
)
def test_float32_weights_beyond_float32_are_named_without_a_warning(params, fit_params, name):
    # The cast (or product) to the model's float32 overflowed with numpy's
    # RuntimeWarning, and the error then said the weights summed beyond float64.
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=f"^{name}.*beyond the largest float32 number"):
        _small(**params).fit(X.astype(np.float32), y, **fit_params)


def test_float32_validation_weights_beyond_float32_are_named_without_a_warning():
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    with pytest.raises(ValueError, match="^sample_weight_val: "):
        _small().fit(X, y, X_val=X, y_val=y, sample_weight_val=np.full(150, 1e300))


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_alpha_beyond_a_float32_model_is_named(optimizer):
    # The penalty is a float64 number within range, its float32 gradient is
    # not: adam diverged blaming learning_rate_init, lbfgs blamed X or y.
    X, y = load_iris(return_X_y=True)
    message = "alpha=1e+300 makes the L2 penalty of the starting weights overflow"
    with pytest.raises(ValueError, match=re.escape(message)):
        _small(optimizer=optimizer, alpha=1e300).fit(X.astype(np.float32), y)


def test_probe_rows_that_all_weigh_zero_do_not_crash_the_end_of_an_epoch():
    # The end-of-epoch check divided the probe's penalty by the probe rows'
    # total weight: 0 when every probe row weighs 0 (here every other row).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(101, 4))
    y = (X[:, 0] > 0).astype(int)
    sw = (np.arange(101) % 2).astype(float)
    clf = ScratchMLPClassifier(max_iter=2, random_state=0).fit(X, y, sample_weight=sw)
    assert clf.n_iter_ == 2


def test_the_light_batch_cause_is_not_given_for_optimizers_that_normalise_steps():
    X, y, sw = _tiny_weights_data()
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(16,),
        learning_rate_init=50.0,
        batch_size=8,
        max_iter=20,
        random_state=0,
    )
    with pytest.warns(DivergenceWarning) as record:
        clf.fit(X * 1e3, y, sample_weight=sw)
    message = str(record[0].message)
    assert "learning_rate_init=50.0 is too high for optimizer='adam'" in message
    assert "smallest sample_weight" not in message


def test_an_internal_error_of_a_check_keeps_its_traceback(monkeypatch):
    # InvalidParameterError replaced any TypeError/ValueError "from None": a
    # bug inside a check read as a bad hyperparameter, its origin lost.
    import sknumpynet._validation as validation

    def broken(*args, **kwargs):
        raise ValueError("a bug in a check")

    monkeypatch.setattr(validation, "_dropout_rates", broken)
    with pytest.raises(InvalidParameterError) as info:
        _small().fit(*_data())
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize("name", ["alpha", "tol"])
def test_a_number_beyond_float_range_is_an_invalid_parameter(name):
    with pytest.raises(InvalidParameterError, match=name):
        _small().set_params(**{name: 10**400}).fit(*_data())
