"""Output heads: loss from logits, stability, output delta, log-probabilities, predict.

Parametrized over the keys of ``HEADS``; a new head also needs a naive loss in
``NAIVE_LOSS`` (and, for a classification head, its saturated loss in
``SATURATED_LOSS``).
"""

import warnings

import numpy as np
import pytest
from sklearn.metrics import mean_poisson_deviance, mean_squared_error

from sknumpynet.nn import CLASSIFICATION_HEADS, HEADS, REGRESSION_LOSSES

NAMES = sorted(HEADS)
CLASSIFIERS = [name for name in NAMES if HEADS[name].classification]
REGRESSORS = [name for name in NAMES if not HEADS[name].classification]


def _naive_sigmoid_loss(Z, Y):
    P = 1 / (1 + np.exp(-Z))
    return -(Y * np.log(P) + (1 - Y) * np.log(1 - P)).sum(axis=1)


def _naive_softmax_loss(Z, Y):
    E = np.exp(Z)
    P = E / E.sum(axis=1, keepdims=True)
    return -(Y * np.log(P)).sum(axis=1)


def _naive_squared_error(Z, Y):
    return 0.5 * ((Y - Z) ** 2).sum(axis=1)


def _naive_half_poisson_deviance(Z, Y):
    # y log(y / mu) - y + mu with mu = exp(z) and 0 log 0 = 0 (log(1) where y = 0
    # keeps log(0) from being evaluated at all).
    mu = np.exp(Z)
    y_log_y_over_mu = Y * np.log(np.where(Y > 0, Y, 1.0) / mu)
    return (y_log_y_over_mu - Y + mu).sum(axis=1)


# Inverse links of the regression losses: the mean a logit predicts.
MEAN = {"squared_error": lambda Z: Z, "poisson": np.exp}

NAIVE_LOSS = {
    "sigmoid": _naive_sigmoid_loss,
    "softmax": _naive_softmax_loss,
    "identity": _naive_squared_error,
    "exp": _naive_half_poisson_deviance,
}


def _saturated_logsumexp(Z):
    # Only the tied maxima contribute once every other exp underflows.
    top = Z.max(axis=1)
    return top + np.log((Z == top[:, None]).sum(axis=1))


# For |z| so large that every exp saturates: softplus(z) = max(z, 0).
SATURATED_LOSS = {
    "sigmoid": lambda Z, Y: (np.maximum(Z, 0) - Y * Z).sum(axis=1),
    "softmax": lambda Z, Y: _saturated_logsumexp(Z) - (Y * Z).sum(axis=1),
}


def _targets(name, rng, n=6, k=4):
    """Targets the head accepts: 0/1 labels, one-hot rows or real values."""
    head = HEADS[name]
    if not head.classification:
        if getattr(head, "non_negative_targets", False):
            # Counts with zeros (the 0 log 0 term) and a few fractional values.
            Y = rng.poisson(1.5, size=(n, k)).astype(float)
            Y[0] = [0.0, 0.5, 2.25, 7.0][:k]
            return Y
        return rng.normal(scale=2.0, size=(n, k))
    if head.supports_multilabel:
        return rng.integers(0, 2, size=(n, k)).astype(float)
    return np.eye(k)[rng.integers(0, k, size=n)]


def _outputs(name, Z):
    """What ``forward_loss`` must write into ``P``: probabilities or predictions."""
    head = HEADS[name]
    if head.classification:
        return np.exp(head.log_proba(Z.copy(), head.supports_multilabel))
    return head.predict(Z.copy())


def test_every_head_has_a_naive_loss():
    assert set(NAIVE_LOSS) == set(HEADS)
    assert set(SATURATED_LOSS) == set(CLASSIFIERS)
    assert set(MEAN) == set(REGRESSION_LOSSES)


@pytest.mark.parametrize("name", NAMES)
def test_head_interface_matches_its_kind(name):
    head = HEADS[name]
    if head.classification:
        for attribute in ("encode", "n_outputs", "log_proba"):
            assert callable(getattr(head, attribute)), attribute
    else:
        # Regression heads score real targets: nothing to encode, no probabilities.
        assert callable(head.predict)
        assert not hasattr(head, "encode") and not hasattr(head, "log_proba")
        assert REGRESSION_LOSSES[head.loss] == name


def test_regression_losses_cover_the_regression_heads():
    assert sorted(REGRESSION_LOSSES.values()) == REGRESSORS
    assert HEADS[REGRESSION_LOSSES["squared_error"]].loss == "squared_error"
    assert HEADS[REGRESSION_LOSSES["poisson"]].non_negative_targets


@pytest.mark.parametrize("name", NAMES)
def test_loss_matches_naive_formula(name, rng):
    Y = _targets(name, rng)
    Z = rng.normal(scale=3.0, size=Y.shape)
    P = np.empty_like(Z)
    loss = HEADS[name].forward_loss(Z.copy(), Y, P)
    assert loss.shape == (Y.shape[0],)
    np.testing.assert_allclose(loss, NAIVE_LOSS[name](Z, Y), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_loss_with_probability_rows_and_wide_margins(dtype, rng):
    # Rows of class probabilities (not one-hot), and logits where a wrong
    # class beats the target by more than exp can take (the rows' maxima then
    # shift them): the loss is still the naive formula's.
    Y = rng.dirichlet(np.ones(4), size=6)
    Z = rng.normal(scale=3.0, size=Y.shape)
    Z[0] = [0.0, 200.0, -5.0, 1.0]
    Y[0] = [1.0, 0.0, 0.0, 0.0]
    P = np.empty_like(Z, dtype=dtype)
    loss = HEADS["softmax"].forward_loss(Z.astype(dtype), Y.astype(dtype), P)
    assert loss.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss, NAIVE_LOSS["softmax"](Z, Y), rtol=rtol)
    np.testing.assert_allclose(P, np.exp(HEADS["softmax"].log_proba(Z)), rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=rtol)


def test_squared_error_matches_scikit_learn(rng):
    Y = _targets("identity", rng)
    Z = rng.normal(scale=3.0, size=Y.shape)
    loss = HEADS["identity"].forward_loss(Z.copy(), Y, np.empty_like(Z))
    # mean_squared_error averages over samples and outputs; ours is half the sum
    # over outputs per sample.
    expected = mean_squared_error(Y, Z) * Y.shape[1] / 2
    assert loss.mean() == pytest.approx(expected, rel=1e-12)


def test_poisson_loss_is_half_scikit_learns_deviance(rng):
    Y = _targets("exp", rng, n=20)
    assert (Y == 0).any()  # 0 log 0 is exercised
    Z = rng.normal(size=Y.shape)
    loss = HEADS["exp"].forward_loss(Z.copy(), Y, np.empty_like(Z))
    # mean_poisson_deviance is 2 (y log(y/mu) - y + mu) averaged over all entries.
    expected = mean_poisson_deviance(Y.ravel(), np.exp(Z).ravel()) / 2 * Y.shape[1]
    assert loss.mean() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", REGRESSORS)
def test_regression_loss_is_zero_at_a_perfect_fit(name, rng):
    head = HEADS[name]
    Y = _targets(name, rng)
    Y[Y == 0] = 0.5  # log(0) is no logit: keep the exp head's targets positive
    Z = np.log(Y) if head.loss == "poisson" else Y.copy()
    np.testing.assert_allclose(head.predict(Z), Y, rtol=1e-14)
    np.testing.assert_array_equal(head.predict(Z), MEAN[head.loss](Z))
    loss = head.forward_loss(Z.copy(), Y, np.empty_like(Z))
    np.testing.assert_allclose(loss, 0.0, atol=1e-12)
    # Any other logits score worse.
    worse = head.forward_loss(Z + 0.1, Y, np.empty_like(Z))
    assert (worse > 1e-4).all()


@pytest.mark.parametrize("name", NAMES)
def test_outputs_in_place_over_logits(name, rng):
    Y = _targets(name, rng)
    Z = rng.normal(size=Y.shape)
    P_separate = np.empty_like(Z)
    loss_separate = HEADS[name].forward_loss(Z.copy(), Y, P_separate)
    Z_in_place = Z.copy()
    loss_in_place = HEADS[name].forward_loss(Z_in_place, Y, Z_in_place)
    np.testing.assert_allclose(loss_in_place, loss_separate, rtol=1e-12)
    np.testing.assert_allclose(Z_in_place, P_separate, rtol=1e-12)
    # P is what the head reports for these logits: probabilities or predictions.
    np.testing.assert_allclose(P_separate, _outputs(name, Z), rtol=1e-12)
    if HEADS[name].classification:
        assert ((P_separate >= 0) & (P_separate <= 1)).all()


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("scale", [1e4, 1e30])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_are_finite_without_warnings(name, scale, dtype, rng):
    Y = _targets(name, rng).astype(dtype)
    Z = (scale * rng.choice([-1.0, 1.0], size=Y.shape)).astype(dtype)
    P = np.empty_like(Z)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        loss = HEADS[name].forward_loss(Z.copy(), Y, P)
        log_p = HEADS[name].log_proba(Z.copy(), HEADS[name].supports_multilabel)
    assert np.isfinite(loss).all() and np.isfinite(P).all() and np.isfinite(log_p).all()
    assert (log_p <= 0).all()
    expected = SATURATED_LOSS[name](Z.astype(np.float64), Y.astype(np.float64))
    # Differences of logits this large are only resolved to a few ulps of them.
    np.testing.assert_allclose(loss, expected, rtol=1e-6, atol=8 * np.finfo(dtype).eps * scale)
    assert loss.dtype == dtype and P.dtype == dtype


@pytest.mark.parametrize("name", REGRESSORS)
@pytest.mark.parametrize("scale", [1e4, 1e30])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_logits_predict_finite_values_without_warnings(name, scale, dtype, rng):
    # The exp head's loss may overflow (the engine treats that as divergence), but
    # its predictions are clipped to the positive normal floats and never warn.
    Z = (scale * rng.choice([-1.0, 1.0], size=(6, 4))).astype(dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        pred = HEADS[name].predict(Z.copy())
    assert pred.dtype == dtype and np.isfinite(pred).all()
    if HEADS[name].loss == "poisson":
        assert (pred > 0).all()  # a Poisson mean: exp underflows to 0 no more
        # exp(log(max)) rounds to within a few ulps below the largest float.
        np.testing.assert_allclose(pred[Z > 0], np.finfo(dtype).max, rtol=1e-5)
        np.testing.assert_array_equal(pred[Z < 0], np.finfo(dtype).tiny)
    else:
        np.testing.assert_array_equal(pred, Z)


@pytest.mark.parametrize("name", NAMES)
def test_output_delta_is_p_minus_y_and_the_loss_gradient(name, rng):
    head = HEADS[name]
    Y = _targets(name, rng)
    Z = rng.normal(size=Y.shape)
    P = np.empty_like(Z)
    head.forward_loss(Z.copy(), Y, P)
    expected = P - Y
    delta = HEADS[name].output_delta(P, Y)
    assert delta is P
    np.testing.assert_allclose(delta, expected)
    # dloss/dZ by central differences on the summed loss.
    h = 1e-6
    numeric = np.empty_like(Z)
    scratch = np.empty_like(Z)
    for idx in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[idx] += h
        Zm[idx] -= h
        plus = head.forward_loss(Zp, Y, scratch).sum()
        minus = head.forward_loss(Zm, Y, scratch).sum()
        numeric[idx] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("n_classes", [2, 5])
def test_single_label_log_proba_rows_normalised(name, n_classes, rng):
    head = HEADS[name]
    # A binary target is one indicator column, a multiclass one a column per class.
    n_units = head.n_outputs(1 if n_classes == 2 else n_classes)
    Z = rng.normal(scale=4.0, size=(8, n_units))
    log_p = head.log_proba(Z, False)
    assert log_p.shape == (8, n_classes)
    np.testing.assert_allclose(np.exp(log_p).sum(axis=1), 1.0, rtol=1e-12)


def test_softmax_log_proba_is_log_softmax(rng):
    Z = rng.normal(size=(5, 3))
    E = np.exp(Z)
    np.testing.assert_allclose(
        HEADS["softmax"].log_proba(Z), np.log(E / E.sum(axis=1, keepdims=True)), rtol=1e-12
    )


def test_sigmoid_log_proba_binary_and_multilabel(rng):
    Z = rng.normal(size=(5, 1))
    p = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(
        HEADS["sigmoid"].log_proba(Z, False), np.log(np.hstack([1 - p, p])), rtol=1e-12
    )
    Z3 = rng.normal(size=(5, 3))
    np.testing.assert_allclose(
        HEADS["sigmoid"].log_proba(Z3, True), np.log(1 / (1 + np.exp(-Z3))), rtol=1e-12
    )
    # One-vs-rest scores are normalised, keeping the order of the units.
    ovr = np.exp(HEADS["sigmoid"].log_proba(Z3, False))
    sig = 1 / (1 + np.exp(-Z3))
    np.testing.assert_allclose(ovr, sig / sig.sum(axis=1, keepdims=True), rtol=1e-12)


def _exact_log_proba(z, link):
    """Log class probabilities of one row of logits, to 50 digits (decimal).

    ``link`` "softmax": ``exp(z_k) / sum exp``; "ovr": ``s_k / sum s`` with
    ``s = sigmoid(z)``, the one-vs-rest normalisation.
    """
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 50
        d = [Decimal(float(v)) for v in z]
        if link == "softmax":
            scores = [x.exp() for x in d]
        else:
            scores = [1 / (1 + (-x).exp()) for x in d]
        total = sum(scores)
        return np.array([float((s / total).ln()) for s in scores])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("link", ["softmax", "ovr"])
def test_log_proba_is_precise_where_a_probability_is_close_to_1(link, dtype):
    # log(p) of a p rounded to 1 loses the small log: the log of a row sum
    # close to 1 lost it the same way (relative error 5e-2 in float32, 8e-4
    # in float64) where the docs promise precision.
    gaps = [8.0, 12.0, 14.0] if dtype == np.float32 else [20.0, 30.0, 34.0]
    Z = np.array([[0.0, -g, -g - 1.0] for g in gaps], dtype=dtype)
    head = HEADS["softmax" if link == "softmax" else "sigmoid"]
    log_p = head.log_proba(Z.copy(), False)
    for row, got in zip(Z, log_p, strict=True):
        exact = _exact_log_proba(row, link)
        # A few rounding errors of the logits' size (z eps) at most; the log of
        # the sum missed by 1e-3 and more.
        np.testing.assert_allclose(got, exact, rtol=64 * np.finfo(dtype).eps)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_encode_and_n_outputs_agree(name):
    head = HEADS[name]
    for n_columns in (1, 3):
        Y = np.eye(max(n_columns, 2))[:, :n_columns][[0, 1, 1, 0]]
        if n_columns == 1:
            Y = np.array([[0.0], [1.0], [1.0], [0.0]])
        encoded = head.encode(Y)
        assert encoded.shape[1] == head.n_outputs(n_columns)
    assert HEADS["softmax"].n_outputs(1) == 2
    np.testing.assert_array_equal(
        HEADS["softmax"].encode(np.array([[0.0], [1.0]])), [[1.0, 0.0], [0.0, 1.0]]
    )


def test_heads_registered_later_are_accepted_by_name(monkeypatch):
    # The classifier's head options and the regressor's losses were built once
    # at import: a head registered afterwards was refused.
    from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor

    class Softmax2(HEADS["softmax"]):
        pass

    class SquaredError2(HEADS["identity"]):
        loss = "squared_error2"

    monkeypatch.setitem(HEADS, "softmax2", Softmax2)
    monkeypatch.setitem(HEADS, "identity2", SquaredError2)
    assert "softmax2" in CLASSIFICATION_HEADS
    assert REGRESSION_LOSSES["squared_error2"] == "identity2"
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    clf = ScratchMLPClassifier(hidden_layer_sizes=(4,), head="softmax2", max_iter=2).fit(X, y)
    assert clf.out_activation_ == "softmax2" and clf.predict_proba(X).shape == (60, 3)
    reg = ScratchMLPRegressor(hidden_layer_sizes=(4,), loss="squared_error2", max_iter=2)
    assert reg.fit(X, X[:, 0]).out_activation_ == "identity2"
