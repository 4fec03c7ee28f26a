"""The estimators' numpydoc sections match their signatures and fitted state.

The shared Parameters and Attributes sections are written once in
``sknumpynet/_docstrings.py``; these tests keep them complete: every parameter
of the signature documented in signature order with its real default, and
every public fitted attribute documented.
"""

import ast
import inspect

import pytest
from sklearn.datasets import make_classification, make_regression

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor

docscrape = pytest.importorskip(
    "numpydoc.docscrape",
    reason="numpydoc (in the test and docs extras) parses the docstrings; it is not installed",
)

ESTIMATORS = [ScratchMLPClassifier, ScratchMLPRegressor]


def _section(Estimator, title):
    """``[(name, type), ...]`` of one section, an entry ``a, b : ...`` split in two."""
    entries = docscrape.ClassDoc(Estimator)[title]
    return [(name.strip(), entry.type) for entry in entries for name in entry.name.split(",")]


def _documented_defaults(Estimator):
    """``{name: default}`` as written after ``default=`` in the Parameters section."""
    defaults = {}
    for entry in docscrape.ClassDoc(Estimator)["Parameters"]:
        names = [name.strip() for name in entry.name.split(",")]
        text = entry.type.partition("default=")[2]
        value = ast.literal_eval(text)
        values = value if len(names) > 1 else (value,)
        assert len(values) == len(names), entry.name
        defaults.update(zip(names, values, strict=True))
    return defaults


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_parameters_section_follows_the_signature(Estimator):
    documented = [name for name, _ in _section(Estimator, "Parameters")]
    assert documented == list(inspect.signature(Estimator).parameters)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_documented_defaults_are_the_real_ones(Estimator):
    real = {name: p.default for name, p in inspect.signature(Estimator).parameters.items()}
    assert _documented_defaults(Estimator) == real


def _fitted_variants(Estimator):
    """Small fits covering early stopping, a given validation set and lbfgs."""
    if Estimator is ScratchMLPClassifier:
        X, y = make_classification(
            n_samples=80, n_features=5, n_classes=3, n_informative=3, random_state=0
        )
    else:
        X, y = make_regression(n_samples=80, n_features=5, random_state=0)
    small = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    validation = dict(X_val=X[60:], y_val=y[60:])
    return [
        Estimator(**small).fit(X, y),
        Estimator(**small, early_stopping=True).fit(X, y),
        Estimator(**small).fit(X[:60], y[:60], **validation),
        Estimator(**small, early_stopping=True).fit(X[:60], y[:60], **validation),
        Estimator(**small, optimizer="lbfgs").fit(X[:60], y[:60], **validation),
    ]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_every_fitted_attribute_is_documented(Estimator):
    documented = {name for name, _ in _section(Estimator, "Attributes")}
    for est in _fitted_variants(Estimator):
        fitted = {name for name in vars(est) if name.endswith("_") and not name.startswith("_")}
        assert fitted - documented == set(), est


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_validation_records_without_early_stopping(Estimator):
    # The documented behaviour: X_val, y_val are scored every epoch even with
    # early_stopping=False; without any validation set the records are None.
    plain, held_out, given, *_ = _fitted_variants(Estimator)
    assert plain.validation_scores_ is None and plain.best_validation_score_ is None
    assert plain.validation_loss_curve_ is None
    for est in (held_out, given):
        assert len(est.validation_scores_) == len(est.validation_loss_curve_) == est.n_iter_
        assert est.best_validation_score_ == max(est.validation_scores_)
    assert given.early_stopping is False
    assert len(given.learning_rates_) == len(given.loss_curve_)
