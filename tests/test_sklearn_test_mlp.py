"""scikit-learn's own ``test_mlp.py``, run against our estimators.

The installed scikit-learn ships its tests; a copy of
``sklearn/neural_network/tests/test_mlp.py`` in ``tmp_path`` imports
``MLPClassifier`` and ``MLPRegressor`` from ``_sklearn_mlp_adapter`` instead
of scikit-learn, which build our estimators from scikit-learn's parameter
names. pytest runs the copy in a subprocess (a clean interpreter: our
``conftest.py`` and settings do not apply, except that a RuntimeWarning is an
error there too) and writes a JUnit report, from which the set of failing
tests is read.

That set must equal :data:`EXPECTED_FAILURES`, each test failing with its
expected message: a test that newly fails, newly passes or fails for another
reason fails here, so the table (and docs/coming_from_sklearn.rst, which
explains every behaviour difference in it) stays true. Every expected failure
is either

* a **documented decision**: our estimators behave differently on purpose,
  explained in the section of docs/coming_from_sklearn.rst whose label is
  given (the label is checked to exist), or
* **private internals**: the test reads or writes scikit-learn's private
  attributes or methods (``_optimizer``, ``_loss_grad_lbfgs``,
  ``_coef_grads``, ...), which our estimators do not have.

The table was made against scikit-learn 1.9's ``test_mlp.py``.
"""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import _sklearn_mlp_adapter as adapter
import numpy as np
import pytest
import sklearn
from numpy.testing import assert_almost_equal
from sklearn import neural_network

from sknumpynet._sklearn_mlp import sklearn_equivalent

TESTS = Path(__file__).parent
DOCS = TESTS.parent / "docs" / "coming_from_sklearn.rst"
SKLEARN_TEST_MLP = Path(sklearn.__file__).parent / "neural_network" / "tests" / "test_mlp.py"
IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor"

PRIVATE = "private internals"


@dataclass(frozen=True)
class Expected:
    """Why a test of scikit-learn's fails against ours, and the failure's message."""

    category: str  # PRIVATE, or the docs label of the documented decision
    why: str
    message: str  # a regular expression searched in the failure's message


def _decision(label, why, message):
    return Expected(label, why, message)


EXPECTED_FAILURES = {
    "test_fit": Expected(
        PRIVATE,
        "builds a fitted model by hand (coefs_, n_layers_, t_, ... and the private "
        "_coef_grads, _intercept_velocity, _no_improvement_count) and continues it "
        "with partial_fit (its worked example: test_sklearn_worked_example_of_test_fit)",
        r"AttributeError: 'ScratchMLPClassifier' object has no attribute",
    ),
    "test_gradient": Expected(
        PRIVATE,
        "calls the private _loss_grad_lbfgs (our gradients are checked against "
        "finite differences in test_network.py and test_dropout.py)",
        r"has no attribute '_loss_grad_lbfgs'",
    ),
    "test_learning_rate_warmstart": Expected(
        PRIVATE,
        "reads the private _optimizer.learning_rate (ours: the public learning_rates_, "
        "compared with scikit-learn's warm-started schedules in test_schedules.py)",
        r"has no attribute '_optimizer'",
    ),
    "test_adaptive_learning_rate": Expected(
        PRIVATE,
        "reads the private _optimizer.learning_rate (ours: the public learning_rates_)",
        r"has no attribute '_optimizer'",
    ),
    "test_nonfinite_params": _decision(
        "sklearn-error-messages",
        "data too large to train on raises ValueError, before training and in our words",
        r"Regex pattern did not match",
    ),
    "test_warm_start": _decision(
        "sklearn-error-messages",
        "a warm fit on other classes raises ValueError in our words",
        r"Regex pattern did not match",
    ),
    "test_early_stopping_stratified": _decision(
        "sklearn-error-messages",
        "four rows with a class of one: too few to hold out a validation set (a class "
        "too small to stratify falls back to a plain split), ValueError in our words",
        r"Regex pattern did not match",
    ),
    "test_minimum_input_sample_size": _decision(
        "sklearn-error-messages",
        "too few rows to hold out a validation set raises ValueError in our words",
        r"Regex pattern did not match",
    ),
    "test_preserve_feature_names[MLPClassifier]": _decision(
        "sklearn-one-class",
        "fits a classifier on a y of one class, which we refuse",
        r"ValueError: ScratchMLPClassifier needs samples of at least 2 classes",
    ),
    "test_mlp_diverging_loss": _decision(
        "sklearn-divergence",
        "expects a NaN validation score from a diverging fit; the divergence guard "
        "stops the fit in its first epoch and keeps the last finite weights",
        r"IndexError: list index out of range",
    ),
    "test_predict_proba_multilabel": _decision(
        "sklearn-probabilities",
        "expects predict_log_proba to be log(predict_proba) to 1e-7 relative; ours is "
        "computed from the logits and differs from the log of a probability rounded "
        "near 1 by that rounding (1e-16 absolute)",
        r"Not equal to tolerance rtol=1e-07, atol=0",
    ),
}


@pytest.fixture(scope="module")
def sklearn_test_mlp_results(tmp_path_factory):
    """``{test name: (outcome, message)}`` of scikit-learn's test_mlp.py run against ours."""
    if tuple(int(part) for part in sklearn.__version__.split(".")[:2]) < (1, 9):
        pytest.skip(
            f"scikit-learn {sklearn.__version__}'s test_mlp.py holds other tests than the "
            "1.9 one that EXPECTED_FAILURES describes"
        )
    if not SKLEARN_TEST_MLP.is_file():
        pytest.skip(f"this scikit-learn was installed without its tests ({SKLEARN_TEST_MLP})")
    source = SKLEARN_TEST_MLP.read_text()
    assert source.count(IMPORT) == 1, f"{SKLEARN_TEST_MLP} no longer has the line {IMPORT!r}"
    folder = tmp_path_factory.mktemp("sklearn_test_mlp")
    (folder / "test_mlp_ours.py").write_text(
        source.replace(IMPORT, "from _sklearn_mlp_adapter import MLPClassifier, MLPRegressor")
    )
    # scikit-learn's conftest gives global_random_seed its default, 42.
    (folder / "conftest.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef global_random_seed():\n    return 42\n"
    )
    (folder / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error::RuntimeWarning\n")
    report = folder / "report.xml"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
        # The networks are tiny: more BLAS threads than one only spin, which on
        # a busy 2-core machine made the run 5 to 20 times slower.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", report],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1: some tests failed
    results = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        outcome, message = "passed", ""
        for kind in ("failure", "error", "skipped"):
            element = case.find(kind)
            if element is not None:
                outcome = "skipped" if kind == "skipped" else "failed"
                message = f"{element.get('message', '')}\n{element.text or ''}"
        results[case.get("name")] = (outcome, message)
    return results


def test_every_test_ran(sklearn_test_mlp_results):
    skipped = {name: m for name, (o, m) in sklearn_test_mlp_results.items() if o == "skipped"}
    assert not skipped
    assert len(sklearn_test_mlp_results) > 50


def test_failing_tests_are_exactly_the_expected_ones(sklearn_test_mlp_results):
    failing = {name for name, (o, _) in sklearn_test_mlp_results.items() if o == "failed"}
    expected = set(EXPECTED_FAILURES) & set(sklearn_test_mlp_results)
    assert failing - expected == set(), "new failures: explain them in EXPECTED_FAILURES"
    assert expected - failing == set(), "these pass now: take them out of EXPECTED_FAILURES"
    assert set(EXPECTED_FAILURES) <= set(sklearn_test_mlp_results)


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_each_failure_has_its_expected_cause(name, sklearn_test_mlp_results):
    outcome, message = sklearn_test_mlp_results.get(name, ("not run", ""))
    assert outcome == "failed"
    assert re.search(EXPECTED_FAILURES[name].message, message), message


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_each_failure_is_in_the_docs_table(name):
    assert f"``{name}``" in DOCS.read_text()


@pytest.mark.parametrize(
    "name", sorted(name for name, e in EXPECTED_FAILURES.items() if e.category != PRIVATE)
)
def test_each_decision_is_documented(name):
    category = EXPECTED_FAILURES[name].category
    docs = DOCS.read_text()
    assert f".. _{category}:" in docs  # the section exists
    assert f":ref:`{category}`" in docs  # and the table points to it


# ---- the adapter ---------------------------------------------------------------

SOLVER_SETTINGS = [
    {"solver": "adam"},
    {"solver": "adam", "learning_rate": "adaptive"},  # which scikit-learn's adam ignores
    {"solver": "lbfgs"},
    {"solver": "sgd", "momentum": 0.0},
    {"solver": "sgd"},  # Nesterov's momentum of 0.9
    {"solver": "sgd", "momentum": 0.5, "nesterovs_momentum": False},
    {"solver": "sgd", "learning_rate": "invscaling", "power_t": 0.25},
]


@pytest.mark.parametrize("settings", SOLVER_SETTINGS, ids=repr)
@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_adapter_inverts_sklearn_equivalent(name, settings):
    # sklearn_equivalent (tested against scikit-learn's own optimizer in
    # test_sklearn_mlp.py) maps ours back: every setting scikit-learn uses for
    # this solver must come back unchanged, with nothing left unmatched but
    # momentum under a schedule (the one rule whose steps then part).
    common = dict(hidden_layer_sizes=(7, 5), activation="logistic", alpha=0.3, batch_size=16)
    common.update(learning_rate_init=0.02, max_iter=11, tol=1e-3, random_state=3)
    theirs = getattr(neural_network, name)(**common, **settings)
    back, notes = sklearn_equivalent(getattr(adapter, name)(**common, **settings))
    scheduled_momentum = (
        settings["solver"] == "sgd" and theirs.momentum > 0 and theirs.learning_rate != "constant"
    )
    assert [note for note in notes if "at a constant learning rate only" not in note] == []
    assert len(notes) == scheduled_momentum
    assert type(back) is type(theirs)
    ignored = {"learning_rate_init"}
    if settings["solver"] != "sgd":
        ignored |= {"momentum", "nesterovs_momentum", "learning_rate", "power_t"}
    elif settings.get("momentum") == 0:
        ignored |= {"nesterovs_momentum"}
    want, got = theirs.get_params(), back.get_params()
    assert {k: got[k] for k in want if k not in ignored} == {
        k: v for k, v in want.items() if k not in ignored
    }
    assert got["learning_rate_init"] == pytest.approx(want["learning_rate_init"], rel=1e-12)


# ---- what the private-internals tests check, through the public API ------------


def test_sklearn_worked_example_of_test_fit():
    # scikit-learn's test_fit works one SGD step of a 3-2-1 logistic network by
    # hand; it sets the weights through private attributes. Here the weights of
    # a model fitted once are overwritten in place (coefs_ and intercepts_ are
    # the network's own arrays), and the next step must give its numbers.
    X, y = np.array([[0.6, 0.8, 0.7]]), np.array([0])
    clf = adapter.MLPClassifier(
        hidden_layer_sizes=2,
        activation="logistic",
        solver="sgd",
        momentum=0,
        learning_rate_init=0.1,
        alpha=0.1,
        random_state=1,
    )
    clf.partial_fit(X, y, classes=[0, 1])
    clf.coefs_[0][...] = [[0.1, 0.2], [0.3, 0.1], [0.5, 0.0]]
    clf.coefs_[1][...] = [[0.1], [0.2]]
    clf.intercepts_[0][...] = [0.1, 0.1]
    clf.intercepts_[1][...] = [1.0]
    clf.partial_fit(X, y)
    # scikit-learn's hand-worked values, to its 3 decimals.
    W1 = [[0.098, 0.195756], [0.2956664, 0.096008], [0.4939998, -0.002244]]
    assert_almost_equal(clf.coefs_[0], W1, decimal=3)
    assert_almost_equal(clf.coefs_[1], [[0.04706], [0.154089]], decimal=3)
    assert_almost_equal(clf.intercepts_[0], [0.098333, 0.09626], decimal=3)
    assert_almost_equal(clf.intercepts_[1], [0.9235], decimal=3)
    assert_almost_equal(clf.predict_proba(X)[0, 1], 0.739, decimal=3)
