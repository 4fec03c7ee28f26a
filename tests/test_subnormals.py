"""Subnormal floats (issue 14): none survives in the weights or the optimizer state.

Weights fed by an input that is zero in every row get no data gradient; the L2
penalty alone pulls them, and the optimizer state next to them, towards zero
until they are subnormal, where they stick and slow every operation down
(see :mod:`sknumpynet.nn.subnormals`).  The data here has such columns, and
each optimizer gets hyperparameters under which those weights reach the
subnormal range within a few thousand steps in float32 *and* float64:
:func:`test_the_data_makes_subnormals_without_the_flush` proves it by
switching the flush off, the other tests show that with it nothing subnormal
is left, and that the trained model is the same.
"""

import functools

import numpy as np
import pytest

from sknumpynet import ScratchMLPClassifier
from sknumpynet.nn import MLP, OPTIMIZERS, Trainer, lbfgs
from sknumpynet.nn.optimizers import FLUSH_EVERY, Optimizer
from sknumpynet.nn.subnormals import flush_subnormals, flush_work

DTYPES = [np.float32, np.float64]
N_ROWS = 32
# Strong L2 and short memories: with one row per batch the penalty's share
# of each step is large, and the zero-fed weights shrink by a constant factor
# between 0.5 and 1 per step: a factor above 1/2 is what makes the smallest
# subnormal round back to itself and stick.
DECAYS = {
    "gd": ({"learning_rate_init": 0.1, "alpha": 4.5 * N_ROWS}, 1500),
    "sgd": ({"learning_rate_init": 0.1, "alpha": 4.0}, 1700),
    "momentum": ({"learning_rate_init": 0.1, "alpha": 4.0, "momentum": 0.5}, 3000),
    "nesterov": ({"learning_rate_init": 0.1, "alpha": 4.0, "momentum": 0.5}, 2000),
    "rmsprop": ({"learning_rate_init": 0.01, "alpha": 0.03, "rho": 0.5, "epsilon": 1e-3}, 3000),
    "adam": (
        {"learning_rate_init": 0.01, "alpha": 0.03, "beta_1": 0.5, "beta_2": 0.5, "epsilon": 1e-3},
        3000,
    ),
}
"""Per step optimizer: hyperparameters, and steps after which float64 weights
(the slower to get there) are subnormal without the flush."""
STEP_NAMES = sorted(name for name, cls in OPTIMIZERS.items() if cls.stepwise)


def subnormal_count(x):
    """Entries with ``0 < |x| < tiny``: the definition, not the flush's bit test."""
    x = np.asarray(x)
    return int(np.count_nonzero((x != 0) & (np.abs(x) < np.finfo(x.dtype).tiny)))


def optimizer_state_arrays(est):
    """The fitted optimizer state's arrays, by name (the one place that knows
    where the estimator keeps it)."""
    state = getattr(est, "_optimizer_state", None) or {}
    return {k: v for k, v in state.items() if isinstance(v, np.ndarray)}


def subnormals_left(est):
    """Subnormal entries per fitted array: coefs_, intercepts_, optimizer state."""
    arrays = {f"coefs_[{i}]": W for i, W in enumerate(est.coefs_)}
    arrays |= {f"intercepts_[{i}]": b for i, b in enumerate(est.intercepts_)}
    arrays |= {f"state[{k!r}]": v for k, v in optimizer_state_arrays(est).items()}
    return {name: subnormal_count(a) for name, a in arrays.items()}


def _zero_column_data(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, 6)).astype(dtype)
    X[:, 3:] = 0  # like MNIST's border pixels: zero in every row
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


@functools.cache
def _train(name, dtype, mode, flush=True):
    """An estimator trained on the zero-column data, cached: tests only read it.

    ``flush=False`` trains as before the flush existed (subnormals left alone).
    """
    X, y = _zero_column_data(dtype)
    params, steps = DECAYS[name]
    if dtype == np.float32:  # float32 reaches its subnormals within a fifth of them
        steps //= 5
    epochs = steps if OPTIMIZERS[name].full_batch else -(-steps // N_ROWS)
    est = ScratchMLPClassifier(
        hidden_layer_sizes=(4,),
        optimizer=name,
        batch_size=1,
        tol=0.0,
        n_iter_no_change=10**6,
        random_state=0,
        **params,
    )
    real_flush = Optimizer.flush
    if not flush:
        Optimizer.flush = lambda self, w, state: 0
    try:
        if mode == "fit":
            return est.set_params(max_iter=epochs).fit(X, y)
        for _ in range(epochs):
            est.partial_fit(X, y, classes=np.unique(y))
        return est
    finally:
        Optimizer.flush = real_flush


def test_every_step_optimizer_has_decay_settings():
    assert set(DECAYS) == set(STEP_NAMES)


# ---- flush_subnormals itself -------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_flush_zeroes_exactly_the_subnormals(dtype):
    info = np.finfo(dtype)
    smallest = np.nextafter(dtype(0), dtype(1))
    largest_subnormal = np.nextafter(info.tiny, dtype(0))
    x = np.array(
        [
            0.0,
            -0.0,
            smallest,
            -smallest,
            largest_subnormal,
            -largest_subnormal,
            info.tiny,
            -info.tiny,
            1.5,
            -info.max,
            np.inf,
            -np.inf,
            np.nan,
        ],
        dtype=dtype,
    )
    assert subnormal_count(x) == 4
    before = x.copy()
    assert flush_subnormals(x) == 4
    assert subnormal_count(x) == 0
    flushed = np.zeros(len(x), dtype=bool)
    flushed[2:6] = True
    np.testing.assert_array_equal(x[flushed], 0)
    assert not np.signbit(x[flushed]).any()
    # Everything else keeps its bits: the sign of -0.0, NaN included.
    assert before[~flushed].tobytes() == x[~flushed].tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_flush_reuses_its_work_arrays_and_finds_every_subnormal(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1000).astype(dtype)
    where = rng.choice(1000, 137, replace=False)
    x[where] *= np.finfo(dtype).tiny * 0.5  # all below tiny, some round to 0
    x[:50] = 0
    expected = subnormal_count(x)
    assert expected > 100
    keep = x.copy()
    assert flush_subnormals(x, flush_work(x.size, x.dtype)) == expected
    assert subnormal_count(x) == 0
    changed = x != keep
    assert np.count_nonzero(changed) == expected
    assert np.all(np.abs(keep[changed]) < np.finfo(dtype).tiny)


def test_flush_refuses_a_strided_view():
    x = np.full((4, 4), 1e-40, dtype=np.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        flush_subnormals(x[:, ::2])
    assert flush_subnormals(x) == 16  # a 2-D contiguous array is fine


@pytest.mark.parametrize("name", STEP_NAMES)
def test_step_flushes_every_flush_every_steps(name):
    opt = OPTIMIZERS[name](0.1, **{h: 0.5 for h in OPTIMIZERS[name].hyperparameters})
    opt.learning_rate = 0.0  # set, not built: the constructor takes only a positive rate
    w = np.full(4, 1e-40, dtype=np.float32)  # subnormal; lr 0 leaves w alone
    state = opt.init_state(w)
    for _ in range(FLUSH_EVERY - 1):
        opt.step(w, np.zeros_like(w), state)
    assert subnormal_count(w) == 4
    opt.step(w, np.zeros_like(w), state)
    assert subnormal_count(w) == 0


STATEFUL = [name for name in STEP_NAMES if OPTIMIZERS[name].state_names]


@pytest.mark.parametrize("name", STATEFUL)
def test_the_flush_zeroes_the_optimizer_states_subnormals(name):
    # Only the weights were checked: a flush of w alone passed every test.
    # Decay rates of 0.9 make a subnormal state entry stick (0.9 times the
    # smallest subnormal rounds back to it) until the flush zeroes it.
    cls = OPTIMIZERS[name]
    opt = cls(0.1, **{h: 0.9 for h in cls.hyperparameters})
    opt.learning_rate = 0.0
    w = np.ones(4, dtype=np.float32)
    state = opt.init_state(w)
    for key in cls.state_names:
        state[key][...] = 1e-40
    for _ in range(FLUSH_EVERY - 1):
        opt.step(w, np.zeros_like(w), state)
    assert [subnormal_count(state[k]) for k in cls.state_names] == [4] * len(cls.state_names)
    opt.step(w, np.zeros_like(w), state)
    assert [subnormal_count(state[k]) for k in cls.state_names] == [0] * len(cls.state_names)


def test_adam_at_ordinary_settings_leaves_no_subnormal_moment():
    # Default betas, alpha=1e-4, batches of 32: the first moments of the
    # zero-fed weights pass through the subnormal range (158 of them were left
    # there when only the weights were flushed).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 20)).astype(np.float32)
    X[:, 10:] = 0
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    est = ScratchMLPClassifier(
        hidden_layer_sizes=(16,),
        batch_size=32,
        tol=0.0,
        n_iter_no_change=10**6,
        max_iter=700,
        random_state=0,
    ).fit(X, y)
    assert sum(subnormals_left(est).values()) == 0, subnormals_left(est)
    assert np.count_nonzero(est._optimizer_state["m"] == 0) > 0


# ---- training ---------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", STEP_NAMES)
def test_the_data_makes_subnormals_without_the_flush(name, dtype):
    # The zero-fed weights follow the same course in fit and partial_fit (their
    # gradient is the penalty alone), so fit shows it for both.
    left = subnormals_left(_train(name, dtype, "fit", flush=False))
    assert sum(left.values()) > 0, left


@pytest.mark.parametrize("mode", ["fit", "partial_fit"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", STEP_NAMES)
def test_no_subnormal_is_left_after_training(name, dtype, mode):
    est = _train(name, dtype, mode)
    assert est.coefs_[0].dtype == dtype
    left = subnormals_left(est)
    assert sum(left.values()) == 0, left
    # The zero-fed weights ended at zero, not merely above the subnormals.
    assert np.count_nonzero(est.coefs_[0][3:] == 0) > 0


@pytest.mark.parametrize("mode", ["fit", "partial_fit"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", STEP_NAMES)
def test_flushing_does_not_change_the_model(name, dtype, mode):
    X, y = _zero_column_data(dtype)
    flushed, kept = _train(name, dtype, mode), _train(name, dtype, mode, flush=False)
    assert sum(subnormals_left(kept).values()) > 0  # there was something to flush
    # The loss curve as verbose prints it, and the predictions.
    assert [f"{loss:.6f}" for loss in flushed.loss_curve_] == [
        f"{loss:.6f}" for loss in kept.loss_curve_
    ]
    np.testing.assert_array_equal(flushed.predict_proba(X), kept.predict_proba(X))
    assert flushed.score(X, y) == kept.score(X, y)
    for a, b in zip(flushed.coefs_, kept.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=np.finfo(dtype).tiny)


@pytest.mark.parametrize("mode", ["fit", "partial_fit"])
def test_the_end_of_an_epoch_flushes_what_the_steps_left(mode, monkeypatch):
    # With no flush between steps, only the trainer's end-of-epoch flush runs.
    monkeypatch.setattr(Optimizer, "flush_every", 10**9)
    _train.cache_clear()
    try:
        est = _train("adam", np.float32, mode)
        assert sum(subnormals_left(est).values()) == 0
        assert np.count_nonzero(est.coefs_[0][3:] == 0) > 0
    finally:
        _train.cache_clear()


class _InterruptAfterFirstStep:
    requested = True  # polled after each step: the epoch stops after its first


@pytest.mark.parametrize("name", STEP_NAMES)
def test_an_interrupted_epoch_leaves_no_subnormal(name, monkeypatch):
    monkeypatch.setattr(Optimizer, "flush_every", 10**9)
    X, y = _zero_column_data(np.float32)
    Y = np.eye(3, dtype=np.float32)[y]
    net = MLP([6, 4, 3], ["relu"], "softmax", dtype=np.float32)
    net.initialize("auto", np.random.default_rng(0))
    net.coefs[0][3:] = 1e-40  # zero-fed, subnormal already; lr 0 keeps them
    opt = OPTIMIZERS[name](0.1, **{h: 0.5 for h in OPTIMIZERS[name].hyperparameters})
    opt.learning_rate = 0.0  # set, not built: the constructor takes only a positive rate
    state = opt.init_state(net.params)
    trainer = Trainer(
        net,
        opt,
        state,
        batch_rows=4,
        alpha=0.0,
        shuffle=False,
        rng=np.random.default_rng(0),
        interrupt=_InterruptAfterFirstStep(),
    )
    with pytest.raises(KeyboardInterrupt):
        trainer.epoch(X, Y)
    assert state["t"] == 1
    assert subnormal_count(net.params) == 0
    np.testing.assert_array_equal(net.coefs[0][3:], 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lbfgs_leaves_no_subnormal_weight(dtype, monkeypatch):
    X, y = _zero_column_data(dtype)
    real_minimize = lbfgs.scipy.optimize.minimize

    def minimize_ending_subnormal(*args, **kwargs):
        # Whatever L-BFGS-B returns: here, weights of the zero-fed inputs that
        # it drove into the subnormal range.
        result = real_minimize(*args, **kwargs)
        result.x[:12] = np.finfo(dtype).tiny / 4
        return result

    monkeypatch.setattr(lbfgs.scipy.optimize, "minimize", minimize_ending_subnormal)
    est = ScratchMLPClassifier(
        hidden_layer_sizes=(4,), optimizer="lbfgs", alpha=1.0, max_iter=30, random_state=0
    ).fit(X, y)
    assert est.coefs_[0].dtype == dtype
    assert sum(subnormals_left(est).values()) == 0
    np.testing.assert_array_equal(est.coefs_[0][:2], 0)
