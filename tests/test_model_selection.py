"""The estimators inside scikit-learn's model-selection tools: pipelines, grid
search in parallel workers, clone, and joblib persistence."""

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.nn import OPTIMIZERS

ESTIMATORS = [ScratchMLPClassifier, ScratchMLPRegressor]


@pytest.fixture(scope="module")
def data():
    X, y = load_digits(return_X_y=True)
    return X[:240], y[:240]


def _target(estimator, y):
    """Digit labels for a classifier; the digit's value, standardised, for a regressor."""
    return y if is_classifier(estimator) else (y - 4.5) / 2.9


def _grid_search(estimator, grid, X, y, n_jobs):
    pipe = make_pipeline(StandardScaler(), estimator)
    name = type(estimator).__name__.lower()
    cv = StratifiedKFold(3) if is_classifier(estimator) else KFold(3)
    grid = {f"{name}__{param}": values for param, values in grid.items()}
    return GridSearchCV(pipe, grid, cv=cv, n_jobs=n_jobs).fit(X, _target(estimator, y))


SEARCHES = {
    "classifier": (
        ScratchMLPClassifier(max_iter=4, batch_size=32, random_state=0),
        {
            "optimizer": sorted(OPTIMIZERS),
            "hidden_layer_sizes": [(8,), (8, 8)],
            "learning_rate_init": [0.01, 0.1],
        },
        0.8,  # accuracy
    ),
    "regressor": (
        ScratchMLPRegressor(max_iter=10, batch_size=32, random_state=0),
        {"optimizer": ["adam", "lbfgs"], "hidden_layer_sizes": [(8,), (16,)]},
        0.5,  # R²
    ),
}


@pytest.mark.parametrize("kind", list(SEARCHES))
def test_grid_search_in_a_pipeline_with_two_workers(kind, data):
    X, y = data
    estimator, grid, good = SEARCHES[kind]
    search = _grid_search(estimator, grid, X, y, n_jobs=2)
    n_candidates = int(np.prod([len(values) for values in grid.values()]))
    assert len(search.cv_results_["params"]) == n_candidates
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all()
    assert search.best_score_ == scores.max()
    assert search.best_score_ > good
    # Different settings really train differently.
    assert len(np.unique(scores)) > n_candidates // 2
    best = search.best_estimator_
    assert best.score(X, _target(estimator, y)) > good
    if kind == "classifier":
        assert best.predict_proba(X).shape == (len(X), 10)
    # The workers' results are those of a sequential search: each fit is
    # seeded by random_state alone.
    sequential = _grid_search(estimator, grid, X, y, n_jobs=1)
    np.testing.assert_array_equal(sequential.cv_results_["mean_test_score"], scores)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_clone_copies_parameters_not_fitted_state(Estimator, data):
    X, y = data
    est = Estimator(
        (7, 5), activation=["tanh", "relu"], optimizer="nesterov", momentum=0.5, random_state=3
    )
    est.fit(X / 16, _target(est, y))
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "coefs_")
    # fit stores nothing back into the parameters: they stay as given.
    assert est.activation == ["tanh", "relu"] and isinstance(est.activation, list)
    assert est.hidden_layer_sizes == (7, 5)
    copy.set_params(optimizer="adam")
    assert est.optimizer == "nesterov"


def _fitted(Estimator, X, y, **params):
    est = Estimator((8,), max_iter=3, batch_size=32, random_state=0, **params)
    return est.fit(X, _target(est, y))


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["adam", "nesterov"])
def test_joblib_round_trip(Estimator, dtype, optimizer, data, tmp_path):
    X, y = data
    X = (X / 16).astype(dtype)
    est = _fitted(Estimator, X, y, optimizer=optimizer)
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    if is_classifier(est):
        np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
        assert loaded.predict_proba(X).dtype == dtype
    else:
        assert loaded.predict(X).dtype == dtype
    assert loaded.get_params() == est.get_params()
    # The optimizer state travels too: training on continues identically.
    est.partial_fit(X, _target(est, y))
    loaded.partial_fit(X, _target(est, y))
    original = est.coefs_ + est.intercepts_
    for a, b in zip(original, loaded.coefs_ + loaded.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_joblib_round_trip_multilabel(data, tmp_path):
    X, y = data
    Y = np.column_stack([y >= 5, y % 2 == 0]).astype(int)
    clf = _fitted(ScratchMLPClassifier, X / 16, Y)
    path = tmp_path / "multilabel.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X / 16), clf.predict_proba(X / 16))
    np.testing.assert_array_equal(loaded.predict(X / 16), clf.predict(X / 16))
