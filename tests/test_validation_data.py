"""A validation set passed to fit (X_val, y_val, sample_weight_val;
sknumpynet._holdout), issue 9.

The recorded scores and losses are checked against scikit-learn's metrics of
the fitted model on the validation rows (``accuracy_score``, ``log_loss``,
``r2_score``, ``mean_squared_error``, ``mean_poisson_deviance``).
"""

import copy
import pickle
import re

import numpy as np
import pytest
import sklearn
from _shared import assert_same_model, weights
from scipy import sparse
from sklearn.datasets import make_classification
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    mean_poisson_deviance,
    mean_squared_error,
    r2_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor

X_ALL, Y_ALL = make_classification(
    n_samples=160, n_features=5, n_informative=3, n_redundant=0, n_classes=3,
    n_clusters_per_class=1, random_state=0,
)  # fmt: skip
X, Y, X_VAL, Y_VAL = X_ALL[:120], Y_ALL[:120], X_ALL[120:], Y_ALL[120:]
# Two real-valued outputs, and a count-like positive one for the Poisson loss.
R_ALL = np.c_[X_ALL[:, 0] - 0.5 * X_ALL[:, 1] ** 2, np.sin(X_ALL[:, 2])]
P_ALL = np.exp(0.3 * X_ALL[:, 0])
R, R_VAL = R_ALL[:120], R_ALL[120:]
W_VAL = 1.0 + np.arange(len(Y_VAL)) % 3


SMALL = {
    "hidden_layer_sizes": (8,),
    "learning_rate_init": 0.01,
    "batch_size": 32,
    "max_iter": 6,
    "random_state": 0,
}


def _clf(**params):
    return ScratchMLPClassifier(**{**SMALL, **params})


def _reg(**params):
    return ScratchMLPRegressor(**{**SMALL, **params})


# ---- scored every epoch ------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("weighted", [False, True])
def test_classifier_records_match_scikit_learns_metrics(optimizer, weighted):
    # Without early stopping the last epoch's weights are kept, so its
    # records are the metrics of the fitted model on the validation rows.
    sw = W_VAL if weighted else None
    clf = _clf(optimizer=optimizer).fit(X, Y, X_val=X_VAL, y_val=Y_VAL, sample_weight_val=sw)
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert len(clf.loss_curve_) == clf.n_iter_ > 1
    accuracy = accuracy_score(Y_VAL, clf.predict(X_VAL), sample_weight=sw)
    loss = log_loss(Y_VAL, clf.predict_proba(X_VAL), sample_weight=sw)
    assert clf.validation_scores_[-1] == pytest.approx(accuracy, rel=1e-12)
    assert clf.validation_loss_curve_[-1] == pytest.approx(loss, rel=1e-9)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # Training used every row of X (no split without early stopping).
    assert clf.t_ == clf.n_iter_ * len(X)


def test_sample_weight_val_changes_the_records():
    plain = _clf().fit(X, Y, X_val=X_VAL, y_val=Y_VAL)
    weighted = _clf().fit(X, Y, X_val=X_VAL, y_val=Y_VAL, sample_weight_val=W_VAL)
    assert weighted.validation_loss_curve_ != plain.validation_loss_curve_
    # ...and nothing else: training is the same.
    assert_same_model(weighted, plain)


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
@pytest.mark.parametrize("weighted", [False, True])
def test_regressor_records_match_scikit_learns_metrics(optimizer, weighted):
    # The loss is half the squared error summed over the outputs.
    sw = W_VAL if weighted else None
    reg = _reg(optimizer=optimizer).fit(X, R, X_val=X_VAL, y_val=R_VAL, sample_weight_val=sw)
    assert len(reg.validation_scores_) == len(reg.validation_loss_curve_) == reg.n_iter_
    pred = reg.predict(X_VAL)
    per_output = mean_squared_error(R_VAL, pred, sample_weight=sw, multioutput="raw_values")
    assert reg.validation_scores_[-1] == pytest.approx(
        r2_score(R_VAL, pred, sample_weight=sw), rel=1e-10
    )
    assert reg.validation_loss_curve_[-1] == pytest.approx(0.5 * per_output.sum(), rel=1e-10)


def test_poisson_validation_loss_is_half_the_deviance():
    reg = _reg(loss="poisson").fit(X, P_ALL[:120], X_val=X_VAL, y_val=P_ALL[120:])
    deviance = mean_poisson_deviance(P_ALL[120:], reg.predict(X_VAL))
    assert reg.validation_loss_curve_[-1] == pytest.approx(deviance / 2, rel=1e-10)


def test_validation_does_not_change_training():
    with_val = _clf().fit(X, Y, X_val=X_VAL, y_val=Y_VAL)
    without = _clf().fit(X, Y)
    assert_same_model(with_val, without)
    assert without.validation_scores_ is None
    assert without.validation_loss_curve_ is None


def test_patience_uses_the_training_loss_without_early_stopping():
    # Validation labels the model gets wrong (shifted by one): the validation
    # score falls from the first epoch on, which would end an early-stopping
    # fit with patience 1 at epoch 3; here only the training loss counts, and
    # it falls every epoch.
    clf = _clf(optimizer="gd", learning_rate_init=0.5, max_iter=8, n_iter_no_change=1, tol=0.0)
    clf.fit(X, Y, X_val=X_VAL, y_val=(Y_VAL + 1) % 3)
    assert clf.n_iter_ == 8
    assert max(clf.validation_scores_[1:3]) < clf.validation_scores_[0]
    assert all(np.diff(clf.loss_curve_) < 0)
    assert clf.best_validation_score_ == clf.validation_scores_[0]


# ---- early stopping on the given set ---------------------------------------------------


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_early_stopping_uses_the_given_set_and_every_training_row(kind):
    make, y, y_val, score = {
        "classifier": (_clf, Y, Y_VAL, accuracy_score),
        "regressor": (_reg, R, R_VAL, r2_score),
    }[kind]
    est = make(early_stopping=True, max_iter=60, n_iter_no_change=3)
    est.fit(X, y, X_val=X_VAL, y_val=y_val)
    # No internal split: t_ counts every row of X in every epoch.
    assert est.t_ == est.n_iter_ * len(X)
    assert len(est.validation_scores_) == len(est.validation_loss_curve_) == est.n_iter_
    # Training went past its best epoch on X_val, whose weights are kept.
    best = int(np.argmax(est.validation_scores_))
    assert best < est.n_iter_ - 1
    assert est.best_validation_score_ == est.validation_scores_[best]
    assert score(y_val, est.predict(X_VAL)) == pytest.approx(est.best_validation_score_, rel=1e-12)
    # The internal split trains on 90% of the rows.
    internal = make(early_stopping=True, max_iter=60, n_iter_no_change=3).fit(X, y)
    assert internal.t_ == internal.n_iter_ * round(0.9 * len(X))


def test_given_set_needs_no_validation_fraction_of_the_training_rows():
    # The internal split cannot hold out a single row worth scoring; a given
    # validation set makes no split.
    tiny = {"early_stopping": True, "validation_fraction": 1 / len(X)}
    with pytest.raises(ValueError, match="validation_fraction"):
        _clf(**tiny).fit(X, Y)
    clf = _clf(**tiny).fit(X, Y, X_val=X_VAL, y_val=Y_VAL)
    assert clf.t_ == clf.n_iter_ * len(X)


def test_lbfgs_scores_every_iteration_and_ignores_early_stopping():
    clf = _clf(optimizer="lbfgs", early_stopping=True, max_iter=15)
    clf.fit(X, Y, X_val=X_VAL, y_val=Y_VAL)
    assert len(clf.validation_scores_) == len(clf.loss_curve_) == clf.n_iter_ == 15
    assert clf.validation_scores_[-1] == accuracy_score(Y_VAL, clf.predict(X_VAL))


# ---- inputs -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.float64, np.float32)])
def test_the_model_keeps_the_dtype_of_X(dtypes):
    train, val = dtypes
    clf = _clf().fit(X.astype(train), Y, X_val=X_VAL.astype(val), y_val=Y_VAL)
    assert all(w.dtype == train for w in weights(clf))
    tol = 1e-5 if train == np.float32 else 1e-10
    # X_val is read in its own dtype, then cast to the model's.
    loss = log_loss(Y_VAL, clf.predict_proba(X_VAL.astype(val)))
    assert clf.validation_loss_curve_[-1] == pytest.approx(loss, rel=tol)
    # Training in float32 is unchanged by the validation set's dtype.
    assert_same_model(clf, _clf().fit(X.astype(train), Y))


def test_sparse_validation_set_equals_dense():
    dense = _clf().fit(X, Y, X_val=X_VAL, y_val=Y_VAL)
    sparse_val = _clf().fit(X, Y, X_val=sparse.csr_matrix(X_VAL), y_val=Y_VAL)
    np.testing.assert_allclose(
        sparse_val.validation_loss_curve_, dense.validation_loss_curve_, rtol=1e-12
    )
    assert sparse_val.validation_scores_ == dense.validation_scores_


def test_string_labels_and_a_subset_of_the_classes():
    names = np.array(["ant", "bee", "cat"])
    clf = _clf().fit(X, names[Y], X_val=X_VAL[Y_VAL < 2], y_val=names[Y_VAL[Y_VAL < 2]])
    accuracy = accuracy_score(names[Y_VAL[Y_VAL < 2]], clf.predict(X_VAL[Y_VAL < 2]))
    assert clf.validation_scores_[-1] == accuracy


# ---- in a Pipeline ------------------------------------------------------------------------


def _routed(transform_input, **fit_params):
    with sklearn.config_context(enable_metadata_routing=True):
        mlp = _clf().set_fit_request(X_val=True, y_val=True, sample_weight_val=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("mlp", mlp)], transform_input=transform_input
        )
        return pipe.fit(10 * X + 3, Y, **fit_params)


def test_pipeline_routes_and_transforms_the_validation_set():
    # X_val goes through the fitted scaler, exactly as X does: the same model
    # and records as fitting the MLP on pre-scaled data.
    fit_params = {"X_val": 10 * X_VAL + 3, "y_val": Y_VAL, "sample_weight_val": W_VAL}
    piped = _routed(["X_val"], **fit_params)[-1]
    scaler = StandardScaler().fit(10 * X + 3)
    direct = _clf().fit(
        scaler.transform(10 * X + 3),
        Y,
        X_val=scaler.transform(10 * X_VAL + 3),
        y_val=Y_VAL,
        sample_weight_val=W_VAL,
    )
    assert_same_model(piped, direct)
    assert piped.validation_scores_ == direct.validation_scores_
    assert piped.validation_loss_curve_ == direct.validation_loss_curve_
    # Without transform_input the raw rows reach the MLP: other records.
    raw = _routed(None, **fit_params)[-1]
    assert raw.validation_loss_curve_ != direct.validation_loss_curve_


# ---- errors ---------------------------------------------------------------------------------

BAD_VALIDATION = {
    "X_val alone": ({"X_val": X_VAL}, "X_val was passed without y_val"),
    "y_val alone": ({"y_val": Y_VAL}, "y_val was passed without X_val"),
    "sample_weight_val alone": ({"sample_weight_val": W_VAL}, "sample_weight_val"),
    "lengths": ({"X_val": X_VAL, "y_val": Y_VAL[:-1]}, "X_val, y_val"),
    # scikit-learn's messages, about X_val and y_val where they said X and y.
    "features": (
        {"X_val": X_VAL[:, :4], "y_val": Y_VAL},
        f"X_val has 4 features, but ScratchMLPClassifier is expecting {X.shape[1]} features",
    ),
    "NaN in X_val": (
        {"X_val": np.where(X_VAL > 1, np.nan, X_VAL), "y_val": Y_VAL},
        "Input X_val contains NaN",
    ),
    "no rows": ({"X_val": X_VAL[:0], "y_val": Y_VAL[:0]}, "X_val, y_val"),
    "unknown label": ({"X_val": X_VAL, "y_val": np.r_[Y_VAL[:-1], 7]}, "y_val"),
    "continuous labels": ({"X_val": X_VAL, "y_val": Y_VAL + 0.5}, "y_val"),
    "multilabel y_val": ({"X_val": X_VAL, "y_val": np.eye(3, dtype=int)[Y_VAL]}, "y_val"),
    "weight length": (
        {"X_val": X_VAL, "y_val": Y_VAL, "sample_weight_val": W_VAL[:-1]},
        "sample_weight_val",
    ),
    "negative weight": (
        {"X_val": X_VAL, "y_val": Y_VAL, "sample_weight_val": -W_VAL},
        "sample_weight_val",
    ),
}


@pytest.mark.parametrize("case", list(BAD_VALIDATION))
@pytest.mark.parametrize("early_stopping", [False, True])
def test_bad_validation_set_is_named(case, early_stopping):
    kwargs, message = BAD_VALIDATION[case]
    clf = _clf(early_stopping=early_stopping)
    with pytest.raises(ValueError, match=re.escape(message)):
        clf.fit(X, Y, **kwargs)
    assert not hasattr(clf, "coefs_")


@pytest.mark.parametrize(
    "y_val",
    [np.c_[R_VAL, R_VAL[:, :1]], np.full(R_VAL.shape, "a")],
    ids=["other outputs", "strings"],
)
def test_bad_regression_targets_are_named(y_val):
    with pytest.raises(ValueError, match="y_val"):
        _reg().fit(X, R, X_val=X_VAL, y_val=y_val)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_one_row_validation_set_is_refused(early_stopping):
    # R² of one row is NaN: no epoch would ever score best, so early stopping
    # used to hand back the untrained starting weights without a word.
    with pytest.raises(ValueError, match=r"X_val, y_val: 1 row, fewer than the 2"):
        _reg(early_stopping=early_stopping).fit(X, R, X_val=X_VAL[:1], y_val=R_VAL[:1])
    with pytest.raises(ValueError, match=r"X_val, y_val: 1 row, fewer than the 2"):
        _clf(early_stopping=early_stopping).fit(X, Y, X_val=X_VAL[:1], y_val=Y_VAL[:1])


def test_nan_in_regression_targets_is_named():
    y_val = np.where(R_VAL > 1, np.nan, R_VAL)
    with pytest.raises(ValueError, match="^Input y_val contains NaN"):
        _reg().fit(X, R, X_val=X_VAL, y_val=y_val)


def test_negative_poisson_targets_are_named():
    with pytest.raises(ValueError, match="y_val"):
        _reg(loss="poisson").fit(X, P_ALL[:120], X_val=X_VAL, y_val=-P_ALL[120:])


@pytest.mark.parametrize("warm_start", [False, True])
def test_a_refused_validation_set_leaves_the_fitted_model_unchanged(warm_start):
    clf = _clf(warm_start=warm_start).fit(X, Y, X_val=X_VAL, y_val=Y_VAL)
    before = pickle.dumps(clf)
    state = copy.deepcopy(clf.__dict__)
    with pytest.raises(ValueError, match=re.escape("[7]")):
        clf.fit(X, Y, X_val=X_VAL, y_val=np.r_[Y_VAL[:-1], 7])
    assert pickle.dumps(clf) == before
    assert clf.validation_scores_ == state["validation_scores_"]
    assert clf.t_ == state["t_"]
    np.testing.assert_array_equal(clf.coefs_[0], state["coefs_"][0])


def test_a_warm_fit_that_turns_early_stopping_on_judges_its_own_epochs():
    # The previous fit only recorded its validation scores: its best belongs to
    # an epoch whose weights it did not keep. Judged against it, no epoch of
    # the early-stopping fit counted as better and all its training was thrown
    # away, while best_validation_score_ named weights the model did not have.
    from sklearn.datasets import make_classification
    from sklearn.metrics import accuracy_score

    X, y = make_classification(300, 20, n_informative=3, flip_y=0.3, random_state=0)
    Xt, yt, Xv, yv = X[:150], y[:150], X[150:], y[150:]
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(200,),
        learning_rate_init=0.01,
        max_iter=150,
        n_iter_no_change=np.inf,
        random_state=0,
    ).fit(Xt, yt, X_val=Xv, y_val=yv)
    assert clf.validation_scores_[-1] < clf.best_validation_score_  # it overfitted
    clf.set_params(warm_start=True, early_stopping=True, max_iter=50, n_iter_no_change=5)
    clf.fit(Xt, yt, X_val=Xv, y_val=yv)
    this_call = clf.validation_scores_[-clf.n_iter_ :]
    assert clf.best_validation_score_ == max(this_call)
    assert accuracy_score(yv, clf.predict(Xv)) == pytest.approx(max(this_call))


def test_an_early_stopping_fit_that_diverges_at_once_has_no_best_score():
    # It was -inf, the search's starting value, where the attribute is the best
    # of validation_scores_ (here empty) or None.
    from sknumpynet.exceptions import DivergenceWarning

    clf = ScratchMLPClassifier(
        optimizer="sgd", learning_rate_init=1e6, early_stopping=True, random_state=0
    )
    with pytest.warns(DivergenceWarning):
        clf.fit(X * 1e3, Y)
    assert clf.validation_scores_ == []
    assert clf.best_validation_score_ is None
    # A warm fit goes on from there.
    clf.set_params(warm_start=True, learning_rate_init=0.01).fit(X, Y)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
