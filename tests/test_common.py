"""scikit-learn's own estimator checks, with no expected failures.

Every check of ``parametrize_with_checks`` must pass; the only skip allowed is
scikit-learn's own "does not have a decision_function method".  The array-API
check runs because ``conftest.py`` sets ``SCIPY_ARRAY_API=1`` before scipy is
imported, and the pandas checks run because pandas is a test extra.
"""

import os

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor

pytest.importorskip("pandas", reason="pandas (a test extra) runs the DataFrame checks")


def test_array_api_checks_enabled():
    assert os.environ.get("SCIPY_ARRAY_API") == "1"


# max_iter is small on purpose (speed); the checks only need a fitted model.
# Only the warnings that a cap ended training are ignored (a filter string
# splits at ":", so "." stands for the colon); a DivergenceWarning fails.
@pytest.mark.filterwarnings(
    "error::sknumpynet.exceptions.DivergenceWarning",
    "ignore:Stochastic Optimizer. Maximum iterations:sklearn.exceptions.ConvergenceWarning",
    "ignore:L-BFGS stopped after:sklearn.exceptions.ConvergenceWarning",
)
@parametrize_with_checks(
    [
        ScratchMLPClassifier(max_iter=100),
        ScratchMLPRegressor(max_iter=100),
        ScratchMLPClassifier(optimizer="lbfgs", max_iter=100),
        ScratchMLPRegressor(optimizer="lbfgs", max_iter=100),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
