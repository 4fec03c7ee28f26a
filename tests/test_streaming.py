"""Streams of ``partial_fit`` calls: the network kept between calls.

A stream keeps one :class:`~sknumpynet.nn.MLP` in ``_stream`` (after a call,
``coefs_`` and ``intercepts_`` are views of its flat ``params``), so a call
does not rebuild the network or its buffers.  The stream is a workspace only:
a stream interrupted by a pickle round trip, a deep copy or a rolled-back call
continues bit for bit as if nothing had happened, whatever invalidates the
kept network (another architecture, another dropout) rebuilds it, weights
assigned by the user are trained on, and a ``fit`` keeps no workspace at all.
"""

import copy
import pickle

import numpy as np
import pytest
from _shared import assert_same_fitted_state
from sklearn.base import clone

import sknumpynet.nn.training
from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.nn.schedules import SCHEDULES

CLASSES = np.arange(3)


def _chunks(kind, k=4, rows=15, seed=0):
    """``k`` chunks of a stream: (X, y) pairs of ``rows`` rows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(k * rows, 5))
    y = X[:, 0] - 0.5 * X[:, 1] if kind == "regressor" else (X[:, :3].argmax(axis=1))
    if kind == "regressor":
        y = np.column_stack([y, X[:, 2]])
    return [(X[i : i + rows], y[i : i + rows]) for i in range(0, k * rows, rows)]


def _make(kind, **params):
    params = {"hidden_layer_sizes": (7, 4), "batch_size": 4, "random_state": 0, **params}
    cls = ScratchMLPRegressor if kind == "regressor" else ScratchMLPClassifier
    return cls(**params)


def _step(est, X, y):
    if isinstance(est, ScratchMLPClassifier):
        return est.partial_fit(X, y, classes=CLASSES)
    return est.partial_fit(X, y)


def _state(est):
    """What the estimator would persist: everything but the network cache."""
    state = est.__getstate__()
    assert "_stream" not in state
    return state


def assert_same_state(a, b):
    """Bit-for-bit equal fitted state (weights, optimizer moments, records)."""
    _state(a), _state(b)  # neither would persist its network cache
    assert_same_fitted_state(a, b)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        assert wa.dtype == wb.dtype
        assert wa.tobytes() == wb.tobytes()  # also tells 0.0 from -0.0


def _net(est):
    return est._stream.network


def _views_of_stream(est):
    params = _net(est).params
    return all(np.shares_memory(a, params) for a in est.coefs_ + est.intercepts_)


# ---- the cache lives across a stream -----------------------------------------


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_stream_keeps_one_network_whose_params_are_the_fitted_weights(kind):
    est = _make(kind)
    chunks = _chunks(kind)
    _step(est, *chunks[0])
    net = _net(est)
    assert _views_of_stream(est)
    for X, y in chunks[1:]:
        _step(est, X, y)
        assert _net(est) is net
        assert _views_of_stream(est)
    # A write into the flat vector is a write into coefs_ (and nothing is stale).
    net.params[0] += 1.0
    assert est.coefs_[0].flat[0] == net.params[0]


@pytest.mark.parametrize("warm_start", [False, True])
def test_a_fit_keeps_no_workspace_and_a_stream_keeps_one(warm_start):
    (X, y), *_ = _chunks("classifier", k=1, rows=40)
    est = _make("classifier", max_iter=2, warm_start=warm_start).fit(X, y)
    assert "_stream" not in est.__dict__
    _step(est, X, y)
    net = _net(est)
    _step(est, X, y)
    assert _net(est) is net
    est.fit(X, y)  # a fit in the middle of a stream ends it
    assert "_stream" not in est.__dict__


def test_the_weights_a_call_committed_are_never_written_again():
    # Each call trains a working copy: arrays the user holds from an earlier
    # call keep their values, and the next call's weights are new arrays.
    est = _make("classifier")
    chunks = _chunks("classifier")
    _step(est, *chunks[0])
    held = est.coefs_[0]
    snapshot = held.copy()
    for X, y in chunks[1:]:
        _step(est, X, y)
    np.testing.assert_array_equal(held, snapshot)
    assert not np.shares_memory(held, est.coefs_[0])
    assert not np.array_equal(held, est.coefs_[0])


def test_a_stream_after_an_lbfgs_fit_continues_from_its_weights():
    (X, y), *_ = _chunks("classifier", k=1, rows=40)
    est = _make("classifier", optimizer="lbfgs", max_iter=5).fit(X, y)
    est.set_params(optimizer="adam", warm_start=True, max_iter=2)
    reference = pickle.loads(pickle.dumps(est))
    for model in (est, reference):
        model.fit(X, y)
        _step(model, X, y)
    assert_same_state(est, reference)


def test_a_clone_has_no_workspace():
    est = _make("classifier")
    for X, y in _chunks("classifier", k=2):
        _step(est, X, y)
    assert "_stream" in est.__dict__
    assert "_stream" not in clone(est).__dict__


# ---- a stream continues bit for bit whatever happens between calls ---------------


STREAMS = [
    ("classifier", {"optimizer": "adam"}),
    ("classifier", {"optimizer": "sgd", "learning_rate": "invscaling", "power_t": 0.3}),
    ("classifier", {"optimizer": "rmsprop", "dropout": 0.25}),
    ("classifier", {"optimizer": "nesterov", "dropout": [0.3, 0.1], "learning_rate": "cosine"}),
    ("regressor", {"optimizer": "adam", "dropout": 0.2}),
    ("regressor", {"optimizer": "momentum", "learning_rate": "invscaling"}),
]


@pytest.mark.parametrize(("kind", "params"), STREAMS)
def test_pickle_round_trips_between_calls_continue_bit_for_bit(kind, params):
    plain, pickled = _make(kind, **params), _make(kind, **params)
    for X, y in _chunks(kind):
        _step(plain, X, y)
        pickled = pickle.loads(pickle.dumps(_step(pickled, X, y)))
        assert "_stream" not in pickled.__dict__
    assert_same_state(plain, pickled)
    # The unpickled estimator rebuilds its network and goes on alike.
    X, y = _chunks(kind, k=1, seed=1)[0]
    _step(plain, X, y)
    _step(pickled, X, y)
    assert_same_state(plain, pickled)
    assert _views_of_stream(pickled)


@pytest.mark.parametrize(("kind", "params"), STREAMS[2:4])
def test_a_deep_copy_continues_alike_and_independently(kind, params):
    est = _make(kind, **params)
    chunks = _chunks(kind)
    for X, y in chunks[:2]:
        _step(est, X, y)
    twin = copy.deepcopy(est)
    before = [c.copy() for c in est.coefs_]
    for X, y in chunks[2:]:
        _step(twin, X, y)
    # Training the copy left the original alone (no weights shared through the stream).
    for c, old in zip(est.coefs_, before, strict=True):
        np.testing.assert_array_equal(c, old)
    for X, y in chunks[2:]:
        _step(est, X, y)
    assert_same_state(est, twin)
    assert _net(twin) is not _net(est)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_predictions_after_a_stream_equal_those_of_the_unpickled_estimator(kind):
    est = _make(kind, dropout=0.1)
    for X, y in _chunks(kind):
        _step(est, X, y)
    loaded = pickle.loads(pickle.dumps(est))
    X_new = np.random.default_rng(5).normal(size=(30, 5))
    np.testing.assert_array_equal(loaded.predict(X_new), est.predict(X_new))
    if kind == "classifier":
        np.testing.assert_array_equal(loaded.predict_proba(X_new), est.predict_proba(X_new))


class _Injected(Exception):
    pass


@pytest.mark.parametrize(("kind", "params"), [STREAMS[0], STREAMS[3], STREAMS[4]])
def test_a_rolled_back_call_leaves_the_stream_as_if_it_never_happened(kind, params, monkeypatch):
    est, reference = _make(kind, **params), _make(kind, **params)
    chunks = _chunks(kind, k=5)
    for X, y in chunks[:2]:
        _step(est, X, y)
        _step(reference, X, y)
    net = _net(est)
    epoch = sknumpynet.nn.training.Trainer.epoch

    def epoch_then_fail(self, *args, **kwargs):
        epoch(self, *args, **kwargs)  # the kept network's weights do change...
        raise _Injected  # ...and then the call fails

    with monkeypatch.context() as patch:
        patch.setattr(sknumpynet.nn.training.Trainer, "epoch", epoch_then_fail)
        with pytest.raises(_Injected):
            _step(est, *chunks[2])
    assert_same_state(est, reference)
    for X, y in chunks[2:]:
        _step(est, X, y)
        _step(reference, X, y)
    assert_same_state(est, reference)
    assert _net(est) is net  # the workspace is kept; the weights come from coefs_
    assert _views_of_stream(est)


# ---- a stream validates its hyperparameters once, until one changes ---------------


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"alpha": -1.0}, "alpha"),
        # Equal to the valid 1 (True == 1): only the type tells it apart.
        ({"batch_size": True}, "batch_size"),
        ({"learning_rate_init": np.float32("nan")}, "learning_rate_init"),
        # Valid values the kept network cannot serve.
        ({"hidden_layer_sizes": (7, 5)}, "architecture of the previous fit"),
        ({"hidden_layer_sizes": (7,)}, "architecture of the previous fit"),
        ({"activation": "tanh"}, "architecture of the previous fit"),
    ],
)
def test_a_change_between_calls_is_checked_not_hidden_by_the_stream(change, match):
    """A stream validates its hyperparameters once, until one changes; the
    refused call leaves the stream as it was."""
    est = _make("classifier", batch_size=1)
    chunks = _chunks("classifier")
    for X, y in chunks[:2]:
        _step(est, X, y)
    before = _state(est)
    est.set_params(**change)
    with pytest.raises((TypeError, ValueError), match=match):
        _step(est, *chunks[2])
    np.testing.assert_equal(_state(est), {**before, **change})


@pytest.mark.parametrize(
    ("name", "valid", "invalid"),
    [("activation", ["relu", "tanh"], "bogus"), ("dropout", [0.0, 0.2], 1.5)],
)
def test_a_list_changed_in_place_between_calls_is_validated(name, valid, invalid):
    """The same list object, with new content, is checked again."""
    est = _make("classifier", **{name: list(valid)})
    chunks = _chunks("classifier")
    for X, y in chunks[:2]:
        _step(est, X, y)
    getattr(est, name)[1] = invalid
    with pytest.raises(ValueError, match=f"{name} must be"):
        _step(est, *chunks[2])


# ---- what invalidates the kept network -------------------------------------------


@pytest.mark.parametrize("dropout", [0.3, [0.0, 0.4]])
def test_changing_dropout_rebuilds_the_network_with_the_new_rates(dropout):
    est = _make("classifier", dropout=0.1)
    chunks = _chunks("classifier")
    for X, y in chunks[:2]:
        _step(est, X, y)
    net = _net(est)
    # The reference takes the other road to the same call: a network rebuilt
    # from the weights after unpickling.
    reference = pickle.loads(pickle.dumps(est)).set_params(dropout=dropout)
    est.set_params(dropout=dropout)
    for X, y in chunks[2:]:
        _step(est, X, y)
        _step(reference, X, y)
    rates = [dropout] * 2 if np.ndim(dropout) == 0 else dropout
    assert _net(est) is not net
    assert _net(est).dropout == rates
    assert_same_state(est, reference)
    # Back to the first rate: rebuilt again, not the stale network from before.
    est.set_params(dropout=0.1)
    _step(est, *chunks[0])
    assert _net(est).dropout == [0.1, 0.1]


@pytest.mark.parametrize(
    ("attribute", "layer"), [("coefs_", None), ("intercepts_", None), ("coefs_", 1)]
)
def test_weights_assigned_by_the_user_are_trained_on(attribute, layer):
    """A new list of arrays, or one layer's array replaced in the list (None: all)."""
    est = _make("classifier")
    chunks = _chunks("classifier")
    for X, y in chunks[:2]:
        _step(est, X, y)
    reference = pickle.loads(pickle.dumps(est))
    for model in (est, reference):
        arrays = getattr(model, attribute)
        if layer is None:
            setattr(model, attribute, [0.5 * a for a in arrays])
        else:
            arrays[layer] = 0.5 * arrays[layer]
    _step(est, *chunks[2])
    _step(reference, *chunks[2])
    assert_same_state(est, reference)
    assert _views_of_stream(est)


def _last_step(est, X, y):
    """Length of the step the next ``partial_fit`` of ``est`` (a copy) takes."""
    est = copy.deepcopy(est)
    before = np.concatenate([c.ravel() for c in est.coefs_])
    est.partial_fit(X, y)
    return np.linalg.norm(np.concatenate([c.ravel() for c in est.coefs_]) - before)


@pytest.mark.parametrize(
    ("optimizer", "momentum"), [("momentum", 0.5), ("momentum", 0.9999), ("nesterov", 0.5)]
)
def test_a_changed_momentum_carries_the_velocity_on(optimizer, momentum):
    # The state keeps sums V with v = (1 - b) V. Read at the new rate without
    # rescaling, a velocity averaged at b = 0.99 made the next step 26 times
    # (b = 0.5) or a hundredth (b = 0.9999) of the unchanged one; carried on as
    # an average it stays within a few times it (0.5 v + 0.5 g, say).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ [1.0, 2.0, 3.0]
    est = ScratchMLPRegressor(
        hidden_layer_sizes=(4,),
        optimizer=optimizer,
        momentum=0.99,
        learning_rate_init=1e-3,
        batch_size=64,
        shuffle=False,
        random_state=0,
    )
    for _ in range(30):
        est.partial_fit(X, y)
    unchanged = _last_step(est, X, y)
    changed = _last_step(est.set_params(momentum=momentum), X, y)
    assert 0.25 < changed / unchanged < 4


def test_a_changed_learning_rate_init_moves_every_schedule_alike():
    # After set_params(learning_rate_init=...), every schedule continues from
    # the new value; adaptive keeps its reductions (one here: 0.001 -> 0.0002,
    # so 0.1 -> 0.02), where it used to ignore the new value.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    rates = {}
    for schedule in ("constant", "adaptive"):
        est = ScratchMLPClassifier(
            learning_rate=schedule,
            learning_rate_init=0.001,
            tol=1e9,  # no epoch improves: adaptive divides once its patience is out
            n_iter_no_change=1,
            batch_size=40,
            random_state=0,
        )
        for _ in range(4):
            est.partial_fit(X, y, classes=[0, 1])
        est.set_params(learning_rate_init=0.1).partial_fit(X, y)
        rates[schedule] = est.learning_rates_
    np.testing.assert_allclose(rates["constant"], [0.001] * 4 + [0.1])
    np.testing.assert_allclose(rates["adaptive"], [0.001] * 3 + [0.0002, 0.02])


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_a_stream_after_an_lbfgs_fit_starts_the_schedule(schedule):
    # L-BFGS runs no schedule and leaves no rate: adaptive used to multiply the
    # missing rate (None) and fail; every schedule starts at learning_rate_init.
    X, y = _chunks("regressor", k=1, rows=40)[0]
    est = _make("regressor", optimizer="lbfgs", learning_rate=schedule, max_iter=5)
    est.fit(X, y)
    est.set_params(optimizer="sgd", learning_rate_init=0.01).partial_fit(X, y)
    assert est.learning_rates_ == [0.01]
