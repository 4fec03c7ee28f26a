"""scikit-learn's own estimator checks, for every optimizer at its default settings.

Every check of ``parametrize_with_checks`` must pass for both estimators with
each optimizer of the registry and every other hyperparameter at its default;
the only skip is scikit-learn's own "does not have a decision_function
method". The regressor with ``loss="poisson"`` passes every check but
``check_regressor_multioutput``, whose targets ignore the ``positive_only``
tag. The array-API check runs because ``conftest.py`` sets
``SCIPY_ARRAY_API=1`` before scipy is imported, and the pandas checks run
because pandas is a test extra.
"""

import os
import warnings

import pytest
from sklearn.base import is_regressor
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.exceptions import DivergenceWarning
from sknumpynet.nn import OPTIMIZERS

pytest.importorskip("pandas", reason="pandas (a test extra) runs the DataFrame checks")

# Three checks fit on X = rng.normal(loc=100, size=(n, 2)), unscaled on purpose,
# and check_regressor_multioutput on make_regression's unscaled targets (in the
# hundreds). A regressor's squared-error gradient grows with the residual, and
# optimizers whose step is the learning rate times the (averaged) gradient
# take steps there that exceed the stable size at their default learning rate:
# the divergence guard stops the fit with a DivergenceWarning and keeps the best
# weights, which still pass the checks (fitted, idempotent, n_features_in_,
# output shape). adam and rmsprop divide the step by the gradient's size and
# lbfgs searches its steps, so they must not diverge there.
UNSCALED_CHECKS = {
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_regressor_multioutput",
}
GRADIENT_SIZED_STEPS = {"gd", "sgd", "momentum", "nesterov"}
DIVERGED = "Training diverged in epoch "


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """The checks' data sets have at most a few hundred rows: a second BLAS thread
    only synchronises, and where the cores are busy it spins (the module took
    160 s instead of 68 s on a loaded 2-core machine)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_gradient_sized_steps_are_optimizers():
    assert GRADIENT_SIZED_STEPS < set(OPTIMIZERS)


def test_array_api_checks_enabled():
    assert os.environ.get("SCIPY_ARRAY_API") == "1"
    # scipy reads the variable once, when first imported: a warning filter naming
    # a class in pyproject.toml imports scipy before conftest.py sets it.
    from scipy._lib import _array_api

    assert _array_api.SCIPY_ARRAY_API == "1"


# Defaults throughout, so a check may hit max_iter: conftest.py ignores only the
# warnings that a cap ended training; a DivergenceWarning fails, except where
# allowed above.
@parametrize_with_checks(
    [
        Estimator(optimizer=optimizer)
        for optimizer in OPTIMIZERS
        for Estimator in (ScratchMLPClassifier, ScratchMLPRegressor)
    ]
    # The Poisson loss refuses negative targets and says so in its tags
    # (positive_only), which every check but one honours.
    + [ScratchMLPRegressor(loss="poisson")],
    expected_failed_checks=lambda est: (
        {
            "check_regressor_multioutput": "scikit-learn's check trains on make_regression's "
            "negative multi-output targets whatever the positive_only tag says"
        }
        if getattr(est, "loss", None) == "poisson"
        else {}
    ),
)
def test_sklearn_compatible_estimator(estimator, check):
    name = getattr(check, "func", check).__name__
    with warnings.catch_warnings():
        if (
            is_regressor(estimator)
            and estimator.optimizer in GRADIENT_SIZED_STEPS
            and name in UNSCALED_CHECKS
        ):
            warnings.filterwarnings("ignore", DIVERGED, DivergenceWarning)
        check(estimator)
