"""The estimator inside scikit-learn's model-selection tools: pipelines, grid
search in parallel workers, clone, and joblib persistence."""

import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier
from sknumpynet.nn import OPTIMIZERS


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:240], y[:240]


def _grid_search(X, y, n_jobs):
    pipe = make_pipeline(
        StandardScaler(), ScratchMLPClassifier(max_iter=4, batch_size=32, random_state=0)
    )
    grid = {
        "scratchmlpclassifier__optimizer": sorted(OPTIMIZERS),
        "scratchmlpclassifier__hidden_layer_sizes": [(8,), (8, 8)],
        "scratchmlpclassifier__learning_rate_init": [0.01, 0.1],
    }
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3), n_jobs=n_jobs)
    with warnings.catch_warnings():
        # max_iter is small on purpose; each fit warns that it did not converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_in_a_pipeline_with_two_workers(data):
    X, y = data
    search = _grid_search(X, y, n_jobs=2)
    n_candidates = len(OPTIMIZERS) * 2 * 2
    assert len(search.cv_results_["params"]) == n_candidates
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    assert search.best_score_ == scores.max()
    assert search.best_score_ > 0.8
    # Different settings really train differently.
    assert len(np.unique(scores)) > n_candidates // 2
    best = search.best_estimator_
    assert best.score(X, y) > 0.8
    assert best.predict_proba(X).shape == (len(X), 10)
    # The workers' results are those of a sequential search: each fit is
    # seeded by random_state alone.
    sequential = _grid_search(X, y, n_jobs=1)
    np.testing.assert_array_equal(sequential.cv_results_["mean_test_score"], scores)


def test_clone_copies_parameters_not_fitted_state(data):
    X, y = data
    clf = ScratchMLPClassifier(
        (7, 5), activation=["tanh", "relu"], optimizer="nesterov", momentum=0.5, random_state=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X / 16, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "coefs_")
    # fit stores nothing back into the parameters: they stay as given.
    assert clf.activation == ["tanh", "relu"] and isinstance(clf.activation, list)
    assert clf.hidden_layer_sizes == (7, 5)
    copy.set_params(optimizer="adam")
    assert clf.optimizer == "nesterov"


def _fitted(X, y, **params):
    clf = ScratchMLPClassifier((8,), max_iter=3, batch_size=32, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["adam", "nesterov"])
def test_joblib_round_trip(dtype, optimizer, data, tmp_path):
    X, y = data
    X = (X / 16).astype(dtype)
    clf = _fitted(X, y, optimizer=optimizer)
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.predict_proba(X).dtype == dtype
    assert loaded.get_params() == clf.get_params()
    # The optimizer state travels too: training on continues identically.
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    original = clf.coefs_ + clf.intercepts_
    for a, b in zip(original, loaded.coefs_ + loaded.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_joblib_round_trip_multilabel(data, tmp_path):
    X, y = data
    Y = np.column_stack([y >= 5, y % 2 == 0]).astype(int)
    clf = _fitted(X / 16, Y)
    path = tmp_path / "multilabel.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X / 16), clf.predict_proba(X / 16))
    np.testing.assert_array_equal(loaded.predict(X / 16), clf.predict(X / 16))
