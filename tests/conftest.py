"""Shared fixtures for the sknumpynet test suite.

``SCIPY_ARRAY_API`` must be set before scipy or scikit-learn is first imported,
otherwise scikit-learn's array-API estimator check skips instead of running.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from _shared import TRAINING_FILTERS  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def pytest_configure(config):
    """The training warnings' filters, for every test (see ``_shared.TRAINING_FILTERS``).

    Added here rather than in pyproject.toml: pytest imports a filter's class
    when it reads the configuration, before this module sets SCIPY_ARRAY_API.
    A mark on a module or a test takes precedence over these.
    """
    for line in TRAINING_FILTERS:
        config.addinivalue_line("filterwarnings", line)


def _standardised_split(X, y, seed):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="session")
def digits_split():
    """Standardised digits (a 900-row subset), split 3:1 into train and test."""
    X, y = load_digits(return_X_y=True)
    return _standardised_split(X[:900], y[:900], seed=0)


@pytest.fixture(scope="session")
def cancer_split():
    """Standardised breast_cancer, split 3:1 into train and test."""
    X, y = load_breast_cancer(return_X_y=True)
    return _standardised_split(X, y, seed=0)


@pytest.fixture
def rng():
    """A fresh seeded generator per test."""
    return np.random.default_rng(0)
