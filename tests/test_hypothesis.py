"""Property-based tests: any valid dataset fits and predicts sanely.

Random shapes, dtypes, value scales, label types, sample weights and
hyperparameters must never crash ``fit``/``partial_fit``/``predict``;
``predict`` returns members of ``classes_``, and ``predict_proba`` rows are
finite probabilities summing to 1, with no RuntimeWarning.
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("hypothesis", reason="hypothesis (a test extra) drives these property tests")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sknumpynet import ScratchMLPClassifier  # noqa: E402
from sknumpynet.exceptions import DivergenceWarning  # noqa: E402
from sknumpynet.nn import ACTIVATIONS, CLASSIFICATION_HEADS, OPTIMIZERS  # noqa: E402

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LABEL_SETS = {
    "int": [3, -1, 7, 0],
    "str": ["cat", "dog", "eel", "fox"],
    "float": [0.0, 1.0, -2.0, 10.0],  # integral floats: sklearn calls 0.5 continuous
    "bool": [False, True],
}


@st.composite
def datasets(draw, multilabel=False):
    """``(X, y, sample_weight)`` valid for fit: finite, >= 2 classes present."""
    n_samples = draw(st.integers(4, 40))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float64, np.float32, np.int64, np.bool_]))
    if dtype is np.bool_:
        elements = st.booleans()
    elif dtype is np.int64:
        elements = st.integers(-1000, 1000)
    else:
        # Powers of 2 are exact float32 bounds; 2**100 is about 1.3e30.
        scale = draw(st.sampled_from([1.0, 2.0**10, 2.0**20, 2.0**100]))
        elements = st.floats(-scale, scale, allow_nan=False, width=32)
    X = draw(hnp.arrays(dtype, (n_samples, n_features), elements=elements))
    if multilabel:
        n_labels = draw(st.integers(2, 4))
        y = draw(hnp.arrays(np.int64, (n_samples, n_labels), elements=st.integers(0, 1)))
    else:
        kind = draw(st.sampled_from(sorted(LABEL_SETS)))
        labels = LABEL_SETS[kind][: draw(st.integers(2, len(LABEL_SETS[kind])))]
        codes = draw(hnp.arrays(np.int64, n_samples, elements=st.integers(0, len(labels) - 1)))
        codes[: len(labels)] = np.arange(len(labels))  # every class present
        y = np.array(labels)[codes]
    sample_weight = None
    if draw(st.booleans()):
        sample_weight = draw(hnp.arrays(np.float64, n_samples, elements=st.floats(0.1, 10.0)))
    return X, y, sample_weight


@st.composite
def estimators(draw, partial=False):
    """Any valid classifier; ``partial``: one whose optimizer can partial_fit."""
    optimizers = sorted(name for name, opt in OPTIMIZERS.items() if opt.stepwise or not partial)
    n_hidden = draw(st.integers(0, 2))
    hidden = tuple(draw(st.lists(st.integers(1, 8), min_size=n_hidden, max_size=n_hidden)))
    return ScratchMLPClassifier(
        hidden_layer_sizes=hidden,
        activation=draw(st.sampled_from(sorted(ACTIVATIONS))),
        head=draw(st.sampled_from(["auto", *sorted(CLASSIFICATION_HEADS)])),
        optimizer=draw(st.sampled_from(optimizers)),
        learning_rate_init=draw(st.sampled_from([1e-3, 1e-2, 0.1])),
        alpha=draw(st.sampled_from([0.0, 1e-4, 1.0])),
        batch_size=draw(st.sampled_from(["auto", 1, 3, 16])),
        shuffle=draw(st.booleans()),
        max_iter=draw(st.integers(1, 4)),
        random_state=draw(st.integers(0, 2**32 - 1)),
    )


def _check_predictions(clf, X, n_classes):
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), n_classes)
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=0, atol=1e-5)
    log_proba = clf.predict_log_proba(X)
    assert np.all(np.isfinite(log_proba))
    pred = clf.predict(X)
    assert pred.shape == (len(X),)
    assert np.isin(pred, clf.classes_).all()
    # The predicted class is a most probable one.
    picked = proba[np.arange(len(X)), np.searchsorted(clf.classes_, pred)]
    np.testing.assert_array_equal(picked, proba.max(axis=1))


# The warnings these fits give by design (found by running them): max_iter is 1
# to 4, and the datasets are tiny.
EXPECTED_WARNINGS = [
    (ConvergenceWarning, "Stochastic Optimizer: Maximum iterations"),
    (ConvergenceWarning, "lbfgs failed to converge"),
    (UserWarning, r"batch_size=\d+ is larger than the \d+ samples"),
]


def _quietly(fit, X):
    """Run ``fit``, ignoring only the expected warnings; any other one fails the test.

    A DivergenceWarning is expected only for unscaled ``X`` (``|X| > 1``, e.g.
    integers up to 1000 or floats up to 2**100); on ``X`` within [-1, 1] it
    fails the test, as does any RuntimeWarning.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for category, message in EXPECTED_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)
        if np.abs(X).max() > 1:
            warnings.filterwarnings(
                "ignore", message="Training diverged in epoch", category=DivergenceWarning
            )
        return fit()


@SETTINGS
@given(data=datasets(), clf=estimators())
def test_fit_predict_on_any_valid_dataset(data, clf):
    X, y, sample_weight = data
    clf = _quietly(lambda: clf.fit(X, y, sample_weight=sample_weight), X)
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    for W in clf.coefs_ + clf.intercepts_:
        assert np.all(np.isfinite(W))
    _check_predictions(clf, X, len(clf.classes_))


@SETTINGS
@given(data=datasets(), clf=estimators(partial=True), n_chunks=st.integers(1, 3))
def test_partial_fit_in_chunks_on_any_valid_dataset(data, clf, n_chunks):
    X, y, sample_weight = data
    classes = np.unique(y)
    for rows in np.array_split(np.arange(len(X)), n_chunks):
        if rows.size == 0:
            continue
        weights = None if sample_weight is None else sample_weight[rows]

        def step(r=rows, w=weights):
            return clf.partial_fit(X[r], y[r], sample_weight=w, classes=classes)

        _quietly(step, X[rows])
    np.testing.assert_array_equal(clf.classes_, classes)
    _check_predictions(clf, X, len(classes))


@SETTINGS
@given(data=datasets(multilabel=True), clf=estimators())
def test_multilabel_fit_predict_on_any_valid_dataset(data, clf):
    X, Y, sample_weight = data
    clf.set_params(head="sigmoid")
    clf = _quietly(lambda: clf.fit(X, Y, sample_weight=sample_weight), X)
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
    pred = clf.predict(X)
    assert pred.shape == Y.shape and np.isin(pred, [0, 1]).all()
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
