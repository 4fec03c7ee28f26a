"""Out of the box as accurate as scikit-learn's MLPs (issue 17).

Both libraries at their default hyperparameters (only ``random_state`` set),
inside the pipelines of ``benchmarks/bench_defaults.py``, scores averaged over
``random_state`` 0, 1 and 2.  The tolerances were set from 8 blocks of 3 seeds
(0-2, 3-5, ..., 21-23): the 0.3 defaults (Glorot init, ``batch_size="auto"``
giving at least two batches per epoch), Glorot init with scikit-learn's batch rule
``min(200, n)`` restored, and the 0.2 default (He weights before relu layers,
LeCun scaling before the head, zero biases):

==================================  ================  ==================  ================
dataset (protocol), ours - sklearn  0.3 defaults      Glorot, min(200,n)  0.2 default
==================================  ================  ==================  ================
iris (5-fold CV, 120 rows to fit)   +0.009 to +0.018  -0.009 to +0.007    -0.053 to -0.016
friedman1 (3:1 split, 750 rows)     -0.007 to +0.013  -0.007 to +0.013    -0.050 to -0.030
==================================  ================  ==================  ================

so the tests hold for any block of seeds, and the iris test fails for both
earlier defaults.  The whole benchmark (six named and fourteen other datasets) is
``python benchmarks/bench_defaults.py``.
"""

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_iris, make_friedman1
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.nn import MLP

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


def test_default_classifier_beats_mlp_classifier_on_iris():
    # 120 training rows: two batches per epoch where scikit-learn takes one
    # full-batch step, so 400 Adam steps in the 200 default epochs instead of 200.
    ours = np.mean([_iris_accuracy(ScratchMLPClassifier(random_state=s)) for s in SEEDS])
    theirs = np.mean([_iris_accuracy(MLPClassifier(random_state=s)) for s in SEEDS])
    print(f"iris 5-fold CV accuracy: ours {ours:.4f}, MLPClassifier {theirs:.4f}")
    assert ours >= theirs + 0.005


def test_default_regressor_is_as_accurate_as_mlp_regressor_on_friedman1(friedman1):
    print(f"friedman1 R2: {friedman1}")
    assert friedman1["ours"] >= friedman1["sklearn"] - 0.015


def test_he_init_stays_available_and_trains_less_in_the_default_epochs(friedman1):
    # Why the default is not He (docs/user_guide.rst, "Initialisation"): its
    # wider first layer moves by a smaller fraction under Adam's fixed-size
    # steps, so in 200 epochs it stays behind (by 0.040 to 0.066 in each of the
    # 8 blocks of three seeds measured).
    assert friedman1["he"] < friedman1["ours"] - 0.015


# batch_size="auto": k = max(2, ceil(n / 200)) nearly equal batches of
# ceil(n / k) rows, one batch below 64 rows. The explicit batch size each row
# count should get, worked out by hand.
AUTO_BATCH = [(20, 20), (63, 63), (64, 32), (120, 60), (401, 134), (750, 188), (1000, 200)]


@pytest.mark.parametrize(("n_rows", "batch_rows"), AUTO_BATCH)
def test_auto_batch_size_trains_as_the_rule_says(n_rows, batch_rows):
    rng = np.random.default_rng(n_rows)
    X = rng.normal(size=(n_rows, 4))
    y = X @ rng.normal(size=4)
    fitted = [
        ScratchMLPRegressor(hidden_layer_sizes=(8,), max_iter=3, batch_size=size, random_state=0)
        .fit(X, y)
        .predict(X)
        for size in ("auto", batch_rows)
    ]
    np.testing.assert_array_equal(fitted[0], fitted[1])
    # The neighbouring sizes train differently, so the equality above is
    # evidence of the size and not of an insensitive fit.
    other = ScratchMLPRegressor(
        hidden_layer_sizes=(8,), max_iter=3, batch_size=batch_rows - 1, random_state=0
    ).fit(X, y)
    assert not np.array_equal(other.predict(X), fitted[0])


def _batch_sizes(monkeypatch, est, X, y):
    """The row counts of the batches of ``est``'s one-epoch fit."""
    sizes = []
    loss_grad = MLP.loss_grad

    def recording(self, Xb, *args, **kwargs):
        sizes.append(Xb.shape[0])
        return loss_grad(self, Xb, *args, **kwargs)

    monkeypatch.setattr(MLP, "loss_grad", recording)
    est.set_params(max_iter=1).fit(X, y)
    monkeypatch.undo()
    return sizes


@pytest.mark.parametrize("n_rows", [20499, 40001])
def test_auto_batches_stay_nearly_equal_on_large_data(n_rows, monkeypatch):
    # k = ceil(n / 200) batches of ceil(n / k) rows ended 40,001 rows on a
    # batch of 1 row (200 x 200 + 1), whose L2 term is divided by 1: from
    # about 20,000 rows such a cut now gives k batches equal to within one row.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_rows, 2))
    y = X[:, 0]
    reg = ScratchMLPRegressor(hidden_layer_sizes=(2,), random_state=0)
    sizes = _batch_sizes(monkeypatch, reg, X, y)
    k = -(-n_rows // 200)
    assert len(sizes) == k and sum(sizes) == n_rows
    assert max(sizes) - min(sizes) <= 1
    # An explicit batch_size cuts as scikit-learn does: a short last batch.
    plain = _batch_sizes(monkeypatch, reg.set_params(batch_size=200), X, y)
    assert plain[:-1] == [200] * (len(plain) - 1) and plain[-1] == n_rows % 200


def test_auto_batch_size_follows_partial_fit_chunks():
    # The rule applies to each call's rows: a 120-row chunk trains in two
    # batches of 60 rows.
    X, y = load_iris(return_X_y=True)
    X, y = X[:120], y[:120]
    streamed = ScratchMLPClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    fitted = ScratchMLPClassifier(batch_size=60, random_state=0).partial_fit(
        X, y, classes=[0, 1, 2]
    )
    np.testing.assert_array_equal(streamed.predict_proba(X), fitted.predict_proba(X))
