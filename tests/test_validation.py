"""Input and hyperparameter checks (``sknumpynet/_validation.py``, ``_holdout.py``):
values a user may pass that once crashed deep inside training, trained on a
silently wrong state, or got an error naming the wrong argument."""

import copy
import warnings
from numbers import Integral

import numpy as np
import pytest
from _shared import assert_same_fitted_state
from sklearn.neural_network import MLPClassifier

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet._validation import _SCALARS


def _data(n=40, seed=0):
    X = np.random.RandomState(seed).randn(n, 3)
    return X, X @ [1.0, -2.0, 0.5], np.arange(n) % 3


def _regressor(**params):
    return ScratchMLPRegressor(
        **{"hidden_layer_sizes": (4,), "random_state": 0, "max_iter": 3, **params}
    )


# ---- the validation set -------------------------------------------------------


@pytest.mark.parametrize(
    ("scale_X", "scale_y", "score"),
    [(1.0, 1e200, "nan"), (1e300, 1.0, "-inf")],
    ids=["y_val overflows", "predictions overflow"],
)
@pytest.mark.parametrize("early_stopping", [True, False])
def test_a_validation_score_that_is_not_finite_is_refused(scale_X, scale_y, score, early_stopping):
    # Early stopping judged every epoch against NaN (or -inf): none improved,
    # and the fit silently returned its starting weights.
    X, y, _ = _data()
    est = _regressor(early_stopping=early_stopping, n_iter_no_change=2).fit(X, y)
    before = copy.deepcopy(est)
    with pytest.raises(ValueError, match=rf"^X_val, y_val: the validation score is {score}"):
        est.fit(X, y, X_val=X[:10] * scale_X, y_val=y[:10] * scale_y)
    assert_same_fitted_state(est, before)


def test_validation_weights_beyond_the_float_range_are_refused():
    X, y, _ = _data()
    with pytest.raises(ValueError, match=r"^sample_weight_val: the weights sum to more than"):
        _regressor(early_stopping=True).fit(
            X, y, X_val=X[:10], y_val=y[:10], sample_weight_val=np.full(10, 1e308)
        )


def test_validation_weight_messages_name_the_argument_once():
    X, y, _ = _data()
    with pytest.raises(ValueError, match=r"^sample_weight_val: Sample weights must contain"):
        _regressor().fit(X, y, X_val=X[:10], y_val=y[:10], sample_weight_val=np.zeros(10))


# ---- numpy scalars as hyperparameters ---------------------------------------------

# The int hyperparameters (verbose only prints), each at a value that trains.
INT_HYPERPARAMETERS = {
    "batch_size": 100,
    "n_iter_no_change": 2,
    **{name: 3 for name, (kind, *_) in _SCALARS.items() if kind is Integral and name != "verbose"},
}


@pytest.mark.parametrize("numpy_type", [np.int8, np.uint8, np.int16, np.int64])
@pytest.mark.parametrize("name", sorted(INT_HYPERPARAMETERS))
def test_small_numpy_ints_train_as_python_ints(name, numpy_type):
    # batch_size=np.int8(100) wrapped around in `start + size` and crashed.
    X, y, _ = _data(n=400)
    value = INT_HYPERPARAMETERS[name]
    params = dict(shuffle=False, batch_size=100, max_iter=3)
    python = _regressor(**{**params, name: value}).fit(X, y)
    numpy_ = _regressor(**{**params, name: numpy_type(value)}).fit(X, y)
    np.testing.assert_array_equal(numpy_.coefs_[0], python.coefs_[0])
    assert numpy_.n_iter_ == python.n_iter_


def test_validation_fraction_may_be_a_numpy_float32():
    X, y, _ = _data(n=80)
    as_float = _regressor(early_stopping=True, validation_fraction=0.25).fit(X, y)
    as_float32 = _regressor(early_stopping=True, validation_fraction=np.float32(0.25)).fit(X, y)
    np.testing.assert_array_equal(as_float32.coefs_[0], as_float.coefs_[0])


def test_verbose_accepts_a_numpy_bool_like_a_bool(capsys):
    X, y, _ = _data()
    _regressor(verbose=np.True_, max_iter=2).fit(X, y)
    assert capsys.readouterr().out.count("Iteration") == 2


def test_a_network_too_large_for_an_array_names_hidden_layer_sizes():
    X, y, _ = _data()
    with pytest.raises(ValueError, match=r"^hidden_layer_sizes=.*more than one array can hold"):
        _regressor(hidden_layer_sizes=(2**63,)).fit(X, y)


# ---- a regressor's targets ---------------------------------------------------------


@pytest.mark.parametrize("where", ["y", "y_val"])
def test_a_regressor_names_y_for_targets_that_are_not_numbers(where):
    X, y, _ = _data()
    strings = np.array([1.0, "a"] * 20, dtype=object)
    missing = np.array([1.0, None] * 20, dtype=object)
    for bad, message in [(strings, "must contain only numbers"), (missing, "contains NaN")]:
        args = (X, bad) if where == "y" else (X, y)
        kwargs = {} if where == "y" else dict(X_val=X[:10], y_val=bad[:10])
        with pytest.raises(ValueError, match=rf"^(Input )?{where} {message}"):
            _regressor().fit(*args, **kwargs)


def test_a_regressor_still_reads_an_object_array_of_numbers():
    X, y, _ = _data()
    as_objects = _regressor().fit(X, y.astype(object))
    np.testing.assert_array_equal(as_objects.coefs_[0], _regressor().fit(X, y).coefs_[0])


# ---- a classifier's classes -------------------------------------------------------


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        ([], r"classes holds no class"),
        ([0], r"classes holds only one class"),
        ([0, 1, np.nan], r"^classes must be an array-like of labels.*NaN"),
        (3, r"^classes must be an array-like of labels"),
        ({0, 1, 2}, r"^classes must be an array-like of labels"),
    ],
    ids=["empty", "one", "nan", "scalar", "set"],
)
def test_bad_classes_are_named(classes, message):
    X, _, labels = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no stray numpy warning either
        with pytest.raises(ValueError, match=message):
            ScratchMLPClassifier().partial_fit(X, labels, classes=classes)
    fitted = ScratchMLPClassifier(random_state=0).partial_fit(X, labels, classes=[0, 1, 2])
    if np.ndim(classes) == 1 and len(classes) == 3:
        with pytest.raises(ValueError, match=message):
            fitted.partial_fit(X, labels, classes=classes)


def test_classes_that_differ_from_a_fit_say_so():
    X, _, labels = _data()
    fitted = ScratchMLPClassifier(max_iter=2, random_state=0).fit(X, labels)
    with pytest.raises(ValueError, match=r"differ from classes_ \[0, 1, 2\] of the fitted model"):
        fitted.partial_fit(X, labels, classes=[0, 1, 2, 3])


def test_bytes_labels_get_scikit_learns_message():
    X, _, labels = _data()
    y = np.array([b"x", b"y", b"z"])[labels]
    with pytest.raises(TypeError) as reference:
        MLPClassifier(max_iter=2).fit(X, y)
    with pytest.raises(TypeError) as ours:
        ScratchMLPClassifier(max_iter=2).fit(X, y)
    assert str(ours.value) == str(reference.value)


class _LazyTargets:
    """Targets that count how often they are turned into an array (as dask's compute)."""

    dtype = np.dtype(np.float64)

    def __init__(self, values):
        self.values, self.computed = values, 0
        self.shape, self.ndim = values.shape, values.ndim

    def __len__(self):
        return len(self.values)

    def __array__(self, dtype=None, copy=None):
        self.computed += 1
        return self.values if dtype is None else self.values.astype(dtype)


def test_numeric_targets_are_not_computed_an_extra_time():
    # The check of an object y read any y as an array first: a lazy one twice.
    X, y, _ = _data()
    lazy = _LazyTargets(y)
    _regressor().fit(X, lazy)
    assert lazy.computed == 1  # by scikit-learn's validate_data alone
