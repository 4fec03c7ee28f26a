"""Out of the box as accurate as scikit-learn's MLPs (issue 17).

Both libraries at their default hyperparameters (only ``random_state`` set),
inside the pipelines of ``benchmarks/bench_defaults.py``, scores averaged over
``random_state`` 0, 1 and 2.  The tolerances were set from 8 blocks of 3 seeds
(0-2, 3-5, ..., 21-23), measured on this version and with the 0.2 default
(He weights before relu layers, LeCun scaling before the head, zero biases)
restored through the registry:

==========================  =========================  ============================
dataset (protocol)          0.3 default - sklearn      0.2 default - sklearn
==========================  =========================  ============================
iris (5-fold CV)            -0.009 to +0.007           -0.053 to -0.016
friedman1 (a 3:1 split)     -0.007 to +0.013           -0.050 to -0.030
==========================  =========================  ============================

so the tests hold for any seeds and fail for the old default.  The whole
benchmark (six named and fourteen other datasets) is
``python benchmarks/bench_defaults.py``.
"""

import numpy as np
import pytest
from _shared import TRAINING_WARNINGS
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_iris, make_friedman1
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor

pytestmark = TRAINING_WARNINGS

SEEDS = (0, 1, 2)


def _iris_accuracy(estimator):
    X, y = load_iris(return_X_y=True)
    return cross_val_score(make_pipeline(StandardScaler(), estimator), X, y).mean()


def _friedman1_r2(estimator, seed):
    X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=seed)
    model = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), estimator), transformer=StandardScaler()
    )
    return model.fit(X_train, y_train).score(X_test, y_test)


@pytest.fixture(scope="module")
def friedman1():
    """Mean held-out R² per contender over SEEDS."""
    contenders = {
        "ours": lambda seed: ScratchMLPRegressor(random_state=seed),
        "he": lambda seed: ScratchMLPRegressor(init="he", random_state=seed),
        "sklearn": lambda seed: MLPRegressor(random_state=seed),
    }
    return {
        name: np.mean([_friedman1_r2(make(seed), seed) for seed in SEEDS])
        for name, make in contenders.items()
    }


def test_default_classifier_is_as_accurate_as_mlp_classifier_on_iris():
    ours = np.mean([_iris_accuracy(ScratchMLPClassifier(random_state=s)) for s in SEEDS])
    theirs = np.mean([_iris_accuracy(MLPClassifier(random_state=s)) for s in SEEDS])
    print(f"iris 5-fold CV accuracy: ours {ours:.4f}, MLPClassifier {theirs:.4f}")
    assert ours >= theirs - 0.015


def test_default_regressor_is_as_accurate_as_mlp_regressor_on_friedman1(friedman1):
    print(f"friedman1 R2: {friedman1}")
    assert friedman1["ours"] >= friedman1["sklearn"] - 0.015


def test_he_init_stays_available_and_trains_less_in_the_default_epochs(friedman1):
    # Why the default is not He (docs/user_guide.rst, "Initialisation"): its
    # wider first layer moves by a smaller fraction under Adam's fixed-size
    # steps, so in 200 epochs it stays behind (by 0.040 to 0.066 in each of the
    # 8 blocks of three seeds measured).
    assert friedman1["he"] < friedman1["ours"] - 0.015
