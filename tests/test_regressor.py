"""ScratchMLPRegressor end to end: both losses, one and several outputs, every
activation, initialisation and optimizer, the objective against scikit-learn,
sample weights, early stopping on R², incremental fits, dtypes and the fitted
attributes."""

import re
import warnings

import numpy as np
import pytest
from _shared import assert_same_model, learning_settings
from scipy.sparse import csr_matrix
from scipy.special import xlogy
from sklearn.datasets import load_diabetes
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import mean_poisson_deviance, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from sknumpynet import ScratchMLPRegressor
from sknumpynet.nn import ACTIVATIONS, HEADS, INIT_OPTIONS, OPTIMIZERS, REGRESSION_LOSSES

# Each optimizer fits the data of `_data` to R² > 0.8 in a few milliseconds
# under these.
LEARNS = learning_settings(30, 200)

LOSSES = sorted(REGRESSION_LOSSES)
"""Every regression loss of the registry (the regressor's ``loss`` values)."""


def _non_negative(loss):
    """Whether the loss's head needs targets >= 0 (Poisson's)."""
    return getattr(HEADS[REGRESSION_LOSSES[loss]], "non_negative_targets", False)


def _sklearn_has(loss):
    """Whether scikit-learn's MLPRegressor takes ``loss`` too."""
    try:
        MLPRegressor(loss=loss)._validate_params()
    except ValueError:
        return False
    return True


# The losses scikit-learn's MLPRegressor also has, for comparisons with it.
SKLEARN_LOSSES = [loss for loss in LOSSES if _sklearn_has(loss)]


def _data(n=200, n_outputs=1, loss="squared_error", seed=0):
    """Standard-normal X (n, 4); y near-linear in X, standardised for squared
    error (any loss that takes real targets), Poisson counts with log-mean
    near-linear in X for poisson (any loss that needs targets >= 0)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    W = rng.standard_normal((4, n_outputs)) * [[1.0], [-1.0], [0.5], [0.0]]
    Z = X @ W + 0.5 * np.tanh(X[:, :1])
    if _non_negative(loss):
        Y = rng.poisson(np.exp(Z)).astype(float)
    else:
        Y = Z + 0.1 * rng.standard_normal(Z.shape)
        Y = (Y - Y.mean(axis=0)) / Y.std(axis=0)
    return X, (Y.ravel() if n_outputs == 1 else Y)


def _reg(**kwargs):
    params = {
        "hidden_layer_sizes": (8,),
        "batch_size": 20,
        "learning_rate_init": 0.01,
        "max_iter": 20,
        "random_state": 0,
    }
    return ScratchMLPRegressor(**{**params, **kwargs})


def _forward(X, coefs, intercepts, activation):
    """Logits computed here from the fitted arrays (tanh or relu hidden layers)."""
    f = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}[activation]
    A = X
    for layer, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        A = A @ W + b
        if layer < len(coefs) - 1:
            A = f(A)
    return A


def _penalty(coefs, alpha, n):
    return alpha / (2 * n) * sum(float((W**2).sum()) for W in coefs)


# ---- learning: every loss, activation, initialisation and optimizer -------


def test_every_optimizer_has_learning_settings():
    assert set(LEARNS) == set(OPTIMIZERS)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_every_optimizer_fits_squared_error(optimizer, n_outputs):
    X, y = _data(n_outputs=n_outputs)
    reg = _reg(optimizer=optimizer, **LEARNS[optimizer]).fit(X, y)
    assert reg.out_activation_ == "identity"
    assert reg.predict(X).shape == y.shape
    assert reg.score(X, y) > 0.8
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_fits_poisson(optimizer):
    X, y = _data(loss="poisson")
    reg = _reg(loss="poisson", optimizer=optimizer, **LEARNS[optimizer]).fit(X, y)
    pred = reg.predict(X)
    assert reg.out_activation_ == "exp"
    assert pred.shape == y.shape and (pred > 0).all()
    # Better than the best constant (the mean) in Poisson deviance.
    assert mean_poisson_deviance(y, pred) < 0.8 * mean_poisson_deviance(
        y, np.full_like(y, y.mean())
    )
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", LOSSES)
def test_every_activation_learns(activation, loss):
    X, y = _data(loss=loss)
    reg = _reg(activation=activation, loss=loss, optimizer="adam").fit(X, y)
    assert reg.hidden_activations_ == [activation]
    assert reg.loss_curve_[-1] < 0.8 * reg.loss_curve_[0]
    if loss == "squared_error":
        assert reg.score(X, y) > 0.8


@pytest.mark.parametrize("init", INIT_OPTIONS)
@pytest.mark.parametrize("loss", LOSSES)
def test_every_init_learns(init, loss):
    X, y = _data(loss=loss)
    reg = _reg(init=init, loss=loss).fit(X, y)
    assert reg.loss_curve_[-1] < 0.8 * reg.loss_curve_[0]
    if loss == "squared_error":
        assert reg.score(X, y) > 0.8


def test_logistic_and_sigmoid_regressors_are_identical():
    X, y = _data()
    a = _reg(activation="logistic").fit(X, y)
    b = _reg(activation="sigmoid").fit(X, y)
    assert_same_model(a, b, records=False)


# ---- the objective against outside references ----------------------------


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_lbfgs_squared_error_loss_is_the_objective_at_the_final_weights(n_outputs):
    X, y = _data(n_outputs=n_outputs)
    alpha = 0.1
    reg = _reg(optimizer="lbfgs", activation="tanh", alpha=alpha, max_iter=30).fit(X, y)
    pred = _forward(X, reg.coefs_, reg.intercepts_, "tanh")
    np.testing.assert_allclose(pred.reshape(y.shape), reg.predict(X), rtol=1e-12)
    # Half the squared error summed over the outputs, averaged over the rows.
    expected = 0.5 * mean_squared_error(y, pred.reshape(y.shape), multioutput="raw_values").sum()
    expected += _penalty(reg.coefs_, alpha, len(X))
    np.testing.assert_allclose(reg.loss_, expected, rtol=1e-10)
    assert reg.loss_curve_[-1] == reg.loss_


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_lbfgs_poisson_loss_is_the_half_deviance_at_the_final_weights(n_outputs):
    X, y = _data(n_outputs=n_outputs, loss="poisson")
    alpha = 0.1
    reg = _reg(loss="poisson", optimizer="lbfgs", activation="relu", alpha=alpha, max_iter=30)
    reg.fit(X, y)
    mean = np.exp(_forward(X, reg.coefs_, reg.intercepts_, "relu")).reshape(y.shape)
    np.testing.assert_allclose(mean, reg.predict(X), rtol=1e-12)
    Y, M = y.reshape(len(X), -1), mean.reshape(len(X), -1)
    expected = sum(mean_poisson_deviance(Y[:, k], M[:, k]) for k in range(n_outputs)) / 2
    expected += _penalty(reg.coefs_, alpha, len(X))
    np.testing.assert_allclose(reg.loss_, expected, rtol=1e-10)


@pytest.mark.parametrize(
    "loss, n_outputs", [("squared_error", 1), ("squared_error", 2), ("poisson", 2)]
)
def test_one_gd_step_matches_scikit_learn(loss, n_outputs):
    # A warm-started gd epoch on the whole set is one step from known weights:
    # the same step as scikit-learn's plain sgd with one batch of every row.
    X, y = _data(n=60, n_outputs=n_outputs, loss=loss)
    lr, alpha = 0.05, 0.3
    ours = _reg(
        loss=loss,
        optimizer="gd",
        activation="tanh",
        init="glorot_uniform",
        alpha=alpha,
        learning_rate_init=lr,
        max_iter=1,
        warm_start=True,
    ).fit(X, y)
    start = [w.copy() for w in ours.coefs_ + ours.intercepts_]
    ours.fit(X, y)
    sk = MLPRegressor(
        hidden_layer_sizes=(8,),
        loss=loss,
        activation="tanh",
        solver="sgd",
        learning_rate_init=lr,
        alpha=alpha,
        momentum=0.0,
        nesterovs_momentum=False,
        batch_size=len(X),
        shuffle=False,
        max_iter=1,
        warm_start=True,
        random_state=0,
    ).fit(X, y)
    n_layers = len(ours.coefs_)
    sk.coefs_ = [w.copy() for w in start[:n_layers]]
    sk.intercepts_ = [b.copy() for b in start[n_layers:]]
    sk.fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, sk.coefs_ + sk.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    # scikit-learn averages the squared error over the outputs too (the same
    # gradient up to that factor on the data term); the Poisson loss it sums.
    n = len(X)
    data_sk = sk.loss_ - _penalty(start[:n_layers], alpha, n)
    data_ours = ours.loss_curve_[1] - _penalty(start[:n_layers], alpha, n)
    factor = n_outputs if loss == "squared_error" else 1
    np.testing.assert_allclose(data_ours, factor * data_sk, rtol=1e-10)


def test_poisson_loss_includes_the_constant_of_the_deviance():
    # loss = sum exp(z) - y z + xlogy(y, y) - y: zero where the prediction is y.
    X, y = _data(loss="poisson")
    reg = _reg(loss="poisson", optimizer="lbfgs", max_iter=5).fit(X, y)
    M = reg.predict(X)
    expected = np.mean(M - y * np.log(M) + xlogy(y, y) - y)
    expected += _penalty(reg.coefs_, reg.alpha, len(X))
    np.testing.assert_allclose(reg.loss_, expected, rtol=1e-10)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_r2_close_to_scikit_learn_on_diabetes(optimizer):
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    mu, sd = y_train.mean(), y_train.std()
    y_train, y_test = (y_train - mu) / sd, (y_test - mu) / sd
    settings = {"alpha": 10.0, "batch_size": 32, "learning_rate_init": 0.01, "max_iter": 50}
    ours = ScratchMLPRegressor(
        (16,), optimizer=optimizer, init="glorot_uniform", random_state=0, **settings
    ).fit(X_train, y_train)
    sk = MLPRegressor(hidden_layer_sizes=(16,), solver=optimizer, random_state=0, **settings)
    sk.fit(X_train, y_train)
    ours_r2, sk_r2 = ours.score(X_test, y_test), sk.score(X_test, y_test)
    print(f"{optimizer}: test R2 sknumpynet {ours_r2:.4f}, scikit-learn {sk_r2:.4f}")
    assert sk_r2 > 0.3
    assert abs(ours_r2 - sk_r2) < 0.05


# ---- targets --------------------------------------------------------------


@pytest.mark.parametrize(
    "y, what",
    [
        (np.r_[-1.0, np.ones(59)], "minimum -1"),
        (np.zeros(60), "output sums"),
        (np.c_[np.ones(60), np.zeros(60)], "output sums"),
    ],
)
@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_poisson_rejects_negative_or_all_zero_targets(y, what, optimizer):
    X = np.random.default_rng(0).standard_normal((60, 3))
    reg = _reg(loss="poisson", optimizer=optimizer)
    with pytest.raises(ValueError, match=rf"loss='poisson' needs y >= 0.*{what}"):
        reg.fit(X, y)
    assert not hasattr(reg, "coefs_")


def test_poisson_partial_fit_accepts_an_all_zero_chunk_but_no_negative():
    X, y = _data(loss="poisson")
    reg = _reg(loss="poisson").partial_fit(X, y)
    reg.partial_fit(X[:20], np.zeros(20))
    assert len(reg.loss_curve_) == 2
    with pytest.raises(ValueError, match="loss='poisson' needs y >= 0"):
        reg.partial_fit(X[:20], -np.ones(20))
    assert len(reg.loss_curve_) == 2


def test_invalid_loss_is_named():
    X, y = _data()
    with pytest.raises(ValueError, match="loss must be one of 'squared_error', 'poisson'"):
        _reg(loss="absolute_error").fit(X, y)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_single_column_y_warns_and_is_one_output_predicted_in_1d(method):
    # As MLPRegressor: y of shape (n, 1) is one output, refit or streamed with
    # its DataConversionWarning on every call, and predict returns 1-D.
    X, y = _data()
    ours = _reg()
    theirs = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    messages = {}
    for name, est in {"ours": ours, "theirs": theirs}.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                getattr(est, method)(X, y.reshape(-1, 1))
        messages[name] = [str(w.message) for w in caught if w.category is DataConversionWarning]
    assert len(messages["theirs"]) == 2
    assert messages["ours"] == messages["theirs"]
    assert ours.n_outputs_ == theirs.n_outputs_ == 1
    assert ours.predict(X).shape == theirs.predict(X).shape == (len(X),)
    # The same model as on the 1-D y.
    flat = _reg()
    for _ in range(2):
        getattr(flat, method)(X, y)
    assert_same_model(ours, flat, records=False)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_another_loss_is_refused_saying_what_starts_anew(method):
    X, y = _data(loss="poisson")
    reg = _reg(loss="poisson", warm_start=True)
    getattr(reg, method)(X, y)
    reg.set_params(loss="squared_error")
    advice = {
        "fit": "Set warm_start=False to start anew.",
        "partial_fit": "Call fit with warm_start=False to start anew (or clone the estimator).",
    }
    with pytest.raises(ValueError, match=re.escape(advice[method])) as info:
        getattr(reg, method)(X, y)
    call = "partial_fit" if method == "partial_fit" else "fit with warm_start=True"
    assert str(info.value).startswith(f"{call} needs the architecture of the previous fit")


def test_warm_start_rejects_another_number_of_outputs():
    X, y = _data(n_outputs=2)
    reg = _reg(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="y has 3 outputs; the model was fitted with 2"):
        reg.fit(X, np.c_[y, y[:, 0]])


# ---- fitted attributes, score and dtypes ----------------------------------


@pytest.mark.parametrize("loss", SKLEARN_LOSSES)
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_fitted_attributes_as_mlp_regressor(loss, n_outputs):
    out = REGRESSION_LOSSES[loss]  # the head's name, scikit-learn's out_activation_
    X, y = _data(n_outputs=n_outputs, loss=loss)
    reg = _reg(hidden_layer_sizes=(7, 5), loss=loss, max_iter=6, tol=0.0).fit(X, y)
    sk = MLPRegressor(hidden_layer_sizes=(7, 5), loss=loss, max_iter=6, random_state=0).fit(X, y)
    for name in ("out_activation_", "n_outputs_", "n_layers_", "n_iter_", "t_"):
        assert getattr(reg, name) == getattr(sk, name), name
    assert reg.out_activation_ == out and reg.n_outputs_ == n_outputs
    assert [W.shape for W in reg.coefs_] == [W.shape for W in sk.coefs_]
    assert [b.shape for b in reg.intercepts_] == [b.shape for b in sk.intercepts_]
    assert [W.shape for W in reg.coefs_] == [(4, 7), (7, 5), (5, n_outputs)]
    assert len(reg.loss_curve_) == reg.n_iter_ == 6
    assert reg.loss_ == reg.loss_curve_[-1]
    assert reg.best_loss_ == min(reg.loss_curve_)
    assert reg.validation_scores_ is None and reg.best_validation_score_ is None
    assert reg.n_features_in_ == 4


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_score_is_r2(n_outputs):
    X, y = _data(n_outputs=n_outputs)
    reg = _reg(max_iter=5).fit(X, y)
    assert reg.score(X, y) == pytest.approx(r2_score(y, reg.predict(X)))
    sw = np.arange(len(X)) % 4
    assert reg.score(X, y, sample_weight=sw) == pytest.approx(
        r2_score(y, reg.predict(X), sample_weight=sw)
    )


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
@pytest.mark.parametrize("loss", LOSSES)
def test_float32_end_to_end(optimizer, loss):
    X, y = _data(loss=loss)
    reg = _reg(optimizer=optimizer, loss=loss, max_iter=5).fit(X.astype(np.float32), y)
    assert all(a.dtype == np.float32 for a in reg.coefs_ + reg.intercepts_)
    assert reg.predict(X.astype(np.float32)).dtype == np.float32
    # float64 input to a float32 model is predicted in float32 as well.
    assert reg.predict(X).dtype == np.float32
    reg64 = _reg(optimizer=optimizer, loss=loss, max_iter=5).fit(X, y)
    assert reg64.predict(X).dtype == np.float64
    np.testing.assert_allclose(reg.predict(X), reg64.predict(X), rtol=1e-3, atol=1e-3)


# ---- sample weights -------------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_integer_sample_weight_equals_repeating_rows(loss):
    # gd takes one full-batch step per epoch: the same objective either way.
    X, y = _data(n=90, n_outputs=2, loss=loss)
    counts = 1 + np.arange(len(X)) % 3
    params = {"optimizer": "gd", "learning_rate_init": 0.05, "max_iter": 10, "alpha": 0.01}
    weighted = _reg(loss=loss, **params).fit(X, y, sample_weight=counts)
    repeated = _reg(loss=loss, **params).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts, 0))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    assert_same_model(weighted, repeated, records=False, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["gd", "lbfgs"])
def test_zero_sample_weight_equals_dropping_rows(optimizer):
    X, y = _data(n=90)
    keep = np.arange(len(X)) % 3 != 0
    params = {"optimizer": optimizer, "learning_rate_init": 0.05, "max_iter": 10, "alpha": 0.01}
    weighted = _reg(**params).fit(X, y, sample_weight=keep.astype(float))
    dropped = _reg(**params).fit(X[keep], y[keep])
    np.testing.assert_allclose(weighted.loss_curve_, dropped.loss_curve_, rtol=1e-8)
    assert_same_model(weighted, dropped, records=False, rtol=1e-6, atol=1e-10)


def test_all_zero_sample_weight_is_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="sample_weight"):
        _reg().fit(X, y, sample_weight=np.zeros(len(X)))


# ---- early stopping ------------------------------------------------------


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_early_stopping_scores_r2_on_the_held_out_rows(n_outputs):
    X, y = _data(n_outputs=n_outputs)
    reg = _reg(early_stopping=True, validation_fraction=0.2, max_iter=30, n_iter_no_change=3)
    reg.fit(X, y)
    # The held-out rows, as the estimator draws them (not stratified).
    _, val = train_test_split(
        np.arange(len(X)), test_size=0.2, random_state=reg._random_seed, shuffle=True
    )
    kept_r2 = r2_score(y[val], reg.predict(X[val]))
    assert reg.best_validation_score_ == pytest.approx(kept_r2, rel=1e-12)
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    assert len(reg.validation_scores_) == reg.n_iter_ == len(reg.loss_curve_)
    assert reg.best_loss_ is None
    assert reg.validation_scores_[0] < reg.best_validation_score_ <= 1


def test_early_stopping_refuses_held_out_rows_that_all_weigh_zero():
    # The validation R² of rows that all weigh 0 is undefined: the error
    # should say it is early stopping's split, not fail inside r2_score.
    X, y = _data()
    seed = _reg(early_stopping=True, max_iter=1).fit(X, y)._random_seed
    _, val = train_test_split(np.arange(len(X)), test_size=0.1, random_state=seed)
    sw = np.ones(len(X))
    sw[val] = 0
    with pytest.raises(ValueError, match="early_stopping"):
        _reg(early_stopping=True).fit(X, y, sample_weight=sw)


def test_early_stopping_keeps_the_best_epoch_and_stops_on_patience():
    X, y = _data()
    reg = _reg(early_stopping=True, max_iter=200, n_iter_no_change=2, tol=1e-3).fit(X, y)
    assert reg.n_iter_ < 200
    scores = reg.validation_scores_
    # Patience: it stopped after n_iter_no_change + 1 epochs in a row, each
    # without a gain of tol over the best score before it.
    for epoch in range(len(scores) - 3, len(scores)):
        assert scores[epoch] < max(scores[:epoch]) + 1e-3


# ---- incremental fits ----------------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
def test_partial_fit_trains_one_epoch_per_call(loss):
    X, y = _data(loss=loss)
    reg = _reg(loss=loss, batch_size=50)
    for call in range(1, 4):
        reg.partial_fit(X, y)
        assert reg.n_iter_ == 1
        assert reg.t_ == call * len(X)
        assert len(reg.loss_curve_) == call
        assert reg._optimizer_state["t"] == call * 4
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_partial_fit_equals_fit_without_shuffling():
    X, y = _data(n_outputs=2)
    fitted = _reg(shuffle=False, max_iter=3, tol=0.0).fit(X, y)
    stepped = _reg(shuffle=False)
    for _ in range(3):
        stepped.partial_fit(X, y)
    assert stepped.loss_curve_ == fitted.loss_curve_
    assert_same_model(stepped, fitted, records=False)


def test_warm_start_continues_from_the_previous_weights():
    X, y = _data()
    reg = _reg(max_iter=4, tol=0.0, warm_start=True).fit(X, y)
    first = list(reg.loss_curve_)
    reg.fit(X, y)
    assert reg.n_iter_ == 4
    assert reg.t_ == 8 * len(X)
    assert reg.loss_curve_[:4] == first
    assert reg.loss_curve_[4] < first[0]
    fresh = _reg(max_iter=4, tol=0.0).fit(X, y)
    assert fresh.loss_curve_ == first


# ---- targets a scikit-learn user may pass ------------------------------------


def test_a_sparse_y_fits_like_its_dense_copy():
    X, Y = _data(n_outputs=2)
    dense = _reg(max_iter=3).fit(X, Y)
    sparse = _reg(max_iter=3).fit(X, csr_matrix(Y))
    assert_same_model(sparse, dense, records=False)
    val = _reg(max_iter=3).fit(X, Y, X_val=X[:20], y_val=csr_matrix(Y[:20]))
    assert len(val.validation_scores_) == val.n_iter_


def test_a_y_of_strings_is_refused_not_parsed():
    X, y = _data()
    for target in (y.astype(str), np.array(["1.5", "2"] * 100)):
        with pytest.raises(ValueError, match="y must hold numbers for a regressor"):
            _reg(max_iter=1).fit(X, target)


def test_the_poisson_loss_tags_its_targets_positive_only():
    assert get_tags(ScratchMLPRegressor(loss="poisson")).target_tags.positive_only
    assert not get_tags(ScratchMLPRegressor()).target_tags.positive_only
    assert not get_tags(ScratchMLPRegressor(loss="huber")).target_tags.positive_only  # invalid
    assert get_tags(ScratchMLPRegressor()).target_tags.multi_output


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson_predictions_stay_positive_far_outside_the_training_range(dtype):
    # exp of a very negative logit underflows to 0, which is no Poisson mean
    # (mean_poisson_deviance refuses it); predictions are clipped at tiny.
    X, y = _data(loss="poisson")
    reg = _reg(loss="poisson").fit(X.astype(dtype), y)
    far = np.vstack([X * 1e3, -X * 1e3]).astype(dtype)
    pred = reg.predict(far)
    assert (pred >= np.finfo(dtype).tiny).all() and np.isfinite(pred).all()
    assert (pred == np.finfo(dtype).tiny).any()  # some rows did underflow


@pytest.mark.parametrize("dtype", ["Float64", "Int64", "boolean"])
def test_a_missing_value_in_a_dataframe_y_is_a_nan_error_naming_y(dtype):
    # A frame of mixed column dtypes arrives as objects; pandas' NA failed
    # float() with a TypeError about NAType instead of MLPRegressor's error.
    pd = pytest.importorskip("pandas", reason="pandas frames are what is tested")
    X = np.random.default_rng(0).normal(size=(20, 2))
    values = [1] * 19 + [None] if dtype != "boolean" else [True] * 19 + [None]
    y = pd.DataFrame({"a": pd.array(values, dtype=dtype), "b": np.arange(20.0)})
    for name, fit in (
        ("y", lambda est: est.fit(X, y)),
        ("y_val", lambda est: est.fit(X, np.ones((20, 2)), X_val=X, y_val=y)),
    ):
        with pytest.raises(ValueError, match=f"Input {name} contains NaN"):
            fit(ScratchMLPRegressor(max_iter=2))


def test_a_number_beyond_float64_in_an_object_y_is_named():
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.array([10**400] + [1] * 19, dtype=object)  # OverflowError, naming nothing
    with pytest.raises(ValueError, match=r"^y holds a number beyond float64's range"):
        ScratchMLPRegressor(max_iter=2).fit(X, y)


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_poisson_counts_whose_sum_passes_the_integer_range_are_accepted(dtype):
    # The check summed the targets in their own dtype: 2**62 counts wrapped to
    # a sum of 0 and were refused ("output sums [0]").
    X = np.random.default_rng(0).normal(size=(8, 2))
    y = np.full(8, 2**62, dtype=dtype)
    reg = ScratchMLPRegressor(loss="poisson", max_iter=2).fit(X, y)
    assert reg.n_iter_ == 2
    assert (reg.predict(X) > 0).all()


def test_poisson_targets_whose_sum_overflows_raise_no_runtime_warning():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="loss at the starting weights is not finite"):
            ScratchMLPRegressor(loss="poisson", max_iter=2).fit(X, np.full(10, 1e308))
