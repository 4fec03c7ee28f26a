"""A call is a transaction: it commits everything or nothing, however many fail in a row.

Each call trains a working copy of the fitted state and commits it only when
it succeeds, so sequences of failing calls (refused labels, NaN chunks, an
exception or a Ctrl-C inside training) leave an estimator exactly where a twin
that saw only the good calls is.  After ``fit`` returns, the estimator holds
its weights, optimizer state and records, not the workspaces of training; the
divergence guard measures each call against its own start.
"""

import contextlib
import gc
import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
import sklearn
from _shared import assert_same_fitted_state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.neural_network import MLPRegressor

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor, _seeding
from sknumpynet.exceptions import DivergenceWarning
from sknumpynet.nn import OPTIMIZERS

CLASSES = np.arange(3)


def _chunk(i, rows=24, n_features=6):
    """The ``i``-th chunk of a classification stream (the same for every caller)."""
    rng = np.random.default_rng(i)
    X = rng.normal(size=(rows, n_features))
    return X, X[:, :3].argmax(axis=1)


def assert_same_model(a, b):
    """Equal bit for bit in every fitted attribute, the optimizer state and predictions."""
    assert_same_fitted_state(a, b)
    X, _ = _chunk(999)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


class _Injected(Exception):
    """An exception from inside training."""


@contextlib.contextmanager
def failing_step(after, exception=_Injected, optimizer="adam"):
    """Make the optimizer's step raise ``exception`` once ``after`` steps were taken."""
    cls = OPTIMIZERS[optimizer]
    real, calls = cls.step, [0]

    def step(self, w, g, state):
        calls[0] += 1
        if calls[0] > after:
            raise exception(f"injected in step {calls[0]}")
        return real(self, w, g, state)

    cls.step = step
    try:
        yield
    finally:
        cls.step = real


def _classifier(**params):
    return ScratchMLPClassifier(
        hidden_layer_sizes=(5,), batch_size=8, random_state=0, learning_rate_init=0.01, **params
    )


# ---- the sequence: two failures in a row --------------------------------------


def test_a_refused_call_then_a_call_that_diverges_are_both_undone():
    est, twin = _classifier(), _classifier()
    for model in (est, twin):
        model.partial_fit(*_chunk(0), classes=CLASSES)
    X, y = _chunk(1)
    with pytest.raises(ValueError, match="not in classes_"):
        est.partial_fit(X, np.where(y == 2, 7, y))  # an unknown label: refused up front
    est.set_params(learning_rate_init=1e6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        # raised from inside training
        with pytest.raises(DivergenceWarning, match="learning_rate_init=1000000.0 is too high"):
            est.partial_fit(X, y)
    est.set_params(learning_rate_init=0.01)
    for i in (1, 2):
        for model in (est, twin):
            model.partial_fit(*_chunk(i))
    assert_same_model(est, twin)


def test_an_exception_inside_training_after_a_refused_call_is_undone():
    est, twin = _classifier(), _classifier()
    for model in (est, twin):
        model.partial_fit(*_chunk(0), classes=CLASSES)
    X, y = _chunk(1)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.partial_fit(bad, y)
    with failing_step(after=2), pytest.raises(_Injected, match="injected in step"):
        est.partial_fit(X, y)  # two steps taken: moments and weights had changed
    for i in (1, 2):
        for model in (est, twin):
            model.partial_fit(*_chunk(i))
    assert_same_model(est, twin)


# ---- random sequences of good and failing calls -----------------------------------------

# What a failing call does: each raises before, or from inside, training.
FAULTS = ("unknown_label", "nan_chunk", "raise_in_partial_fit", "raise_in_fit", "ctrl_c")
GOOD = ("partial_fit", "warm_fit")


def _good(est, op, i):
    X, y = _chunk(i)
    if op == "partial_fit":
        est.partial_fit(X, y, classes=CLASSES)
    else:
        est.fit(X, y)  # warm_start: continues


def _fault(est, op, i):
    X, y = _chunk(i)
    if op == "unknown_label":
        with pytest.raises(ValueError, match=r"y contains labels not in classes_"):
            est.partial_fit(X, np.where(y == 0, -1, y), classes=CLASSES)
    elif op == "nan_chunk":
        X[0, 0] = np.nan
        with pytest.raises(ValueError, match="Input X contains NaN"):
            est.partial_fit(X, y, classes=CLASSES)
    elif op == "ctrl_c":  # partial_fit does not hold a Ctrl-C: it raises and undoes the call
        with (
            failing_step(after=1, exception=KeyboardInterrupt),
            pytest.raises(KeyboardInterrupt, match="injected in step"),
        ):
            est.partial_fit(X, y, classes=CLASSES)
    else:  # a chunk is 3 batches: the second step raises
        with failing_step(after=1), pytest.raises(_Injected, match="injected in step"):
            if op == "raise_in_fit":
                est.fit(X, y)
            else:
                est.partial_fit(X, y, classes=CLASSES)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # the same sequences on every run and machine
)
@given(st.lists(st.sampled_from(GOOD + FAULTS), min_size=1, max_size=8))
def test_any_sequence_of_failing_calls_leaves_the_estimator_like_its_twin(ops):
    est, twin = (_classifier(warm_start=True, max_iter=2) for _ in range(2))
    good = 0
    for op in ["partial_fit", *ops]:  # the first call fits, so later ones continue
        if op in GOOD:
            _good(est, op, good)
            _good(twin, op, good)
            good += 1
        else:
            _fault(est, op, good)
    assert_same_model(est, twin)


def test_a_failed_first_call_leaves_an_unfitted_estimator_whatever_came_before():
    est = _classifier()
    with failing_step(after=1), pytest.raises(_Injected, match="injected in step"):
        est.fit(*_chunk(0))
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(*_chunk(0))  # no classes on a first partial_fit
    assert not any(name.endswith("_") for name in vars(est))
    assert_same_model(
        est.partial_fit(*_chunk(0), classes=CLASSES),
        _classifier().partial_fit(*_chunk(0), classes=CLASSES),
    )


# ---- the divergence guard follows the call ---------------------------------------------


def _drifting_stream(n_chunks=30, rows=200, grow=100.0):
    """Regression chunks whose targets are ``grow`` times larger after the first."""
    rng = np.random.default_rng(0)
    coef = rng.normal(size=4)
    chunks = []
    for i in range(n_chunks):
        X = rng.normal(size=(rows, 4))
        y = np.sin(X @ coef) + 0.5 * X[:, 0]
        chunks.append((X, y * (1.0 if i == 0 else grow)))
    return chunks


@pytest.mark.parametrize("kind", ["RandomState", "Generator", "None"])
def test_a_failed_fresh_fit_leaves_the_callers_random_state_as_it_was(kind):
    # A fresh fit draws its seed from random_state before its data are found
    # wanting (too few rows to hold out a validation set): the draw is put back.
    def make():
        if kind == "None":
            np.random.seed(7)  # noqa: NPY002 - the legacy global seed is what is tested
            return None
        return getattr(np.random, "default_rng" if kind == "Generator" else kind)(7)

    X, y = _chunk(0)
    results = []
    for fail_first in (True, False):
        est = _classifier(max_iter=2).set_params(random_state=make())
        if fail_first:
            with pytest.raises(ValueError, match="cannot hold out"):
                est.set_params(early_stopping=True).fit(X[:4], y[:4])
            est.set_params(early_stopping=False)
        results.append(est.fit(X, y))
    a, b = results  # random_state objects compare by identity: compare what they made
    for name in ("coefs_", "intercepts_"):
        for left, right in zip(getattr(a, name), getattr(b, name), strict=True):
            np.testing.assert_array_equal(left, right)
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("moment", ["after", "before"])
@pytest.mark.parametrize("kind", ["RandomState", "None"])
def test_a_failed_fit_does_not_rewind_draws_others_made_meanwhile(kind, moment, monkeypatch):
    # A shared generator (NumPy's global one for None) that other code drew
    # from while the call ran (another thread's unseeded fit, say) was wound
    # back to the start of the call, so those draws came again: two unseeded
    # fits got one seed. The call's own draw is put back, from just before it,
    # only while it is the last; a draw made after it ("after") or before it,
    # while the call checked its data ("before"), is not handed out again.
    # (A Generator is the call's own throughout, and always put back.)
    generator = np.random.RandomState(7) if kind == "RandomState" else None
    if kind == "None":
        np.random.seed(7)  # noqa: NPY002 - the legacy global seed is what is tested
    X, y = _chunk(0)
    others = []
    est = _classifier(max_iter=2).set_params(random_state=generator)
    training_data = type(est)._training_data

    def another_user_draws(self, *args, **kwargs):
        others.append(_seeding.new_seed(generator))
        return training_data(self, *args, **kwargs)

    def draws_then_fails(*args, **kwargs):
        if moment == "after":
            others.append(_seeding.new_seed(generator))
        raise RuntimeError("training failed")

    if moment == "before":
        monkeypatch.setattr(type(est), "_training_data", another_user_draws)
    monkeypatch.setattr(type(est), "_train", draws_then_fails)
    with pytest.raises(RuntimeError, match="training failed"):
        est.fit(X, y)
    monkeypatch.undo()
    later = [_seeding.new_seed(generator) for _ in range(2)]
    assert others[0] not in later  # the other user's draw is not handed out again


def test_a_ctrl_c_while_a_call_commits_leaves_no_record_of_it(monkeypatch):
    # The commit extends loss_curve_ and learning_rates_ in place; a Ctrl-C
    # after that (here: when the counters are set) must not leave the undone
    # call's entries behind.
    est, twin = _classifier(), _classifier()
    for model in (est, twin):
        model.partial_fit(*_chunk(0), classes=CLASSES)

    class Interrupting(type(est)):
        def __setattr__(self, name, value):
            if name == "n_iter_":
                raise KeyboardInterrupt("injected while setting n_iter_")
            super().__setattr__(name, value)

    monkeypatch.setattr(est, "__class__", Interrupting)
    with pytest.raises(KeyboardInterrupt, match="injected while setting n_iter_"):
        est.partial_fit(*_chunk(1))
    monkeypatch.setattr(est, "__class__", type(twin))
    assert len(est.loss_curve_) == len(est.learning_rates_) == 1
    for i in (1, 2):
        for model in (est, twin):
            model.partial_fit(*_chunk(i))
    assert_same_model(est, twin)


def test_rare_large_targets_that_the_first_batch_misses_are_no_divergence():
    # A stream of mostly-zero targets: the model learns to predict about 0, so
    # a call's loss at its start is tiny. The guard took its zero-logit scale
    # on the first batch only (0 here, every target 0), and the ordinary second
    # batch, with one target of 40, was refused as 1000 times that start.
    rng = np.random.default_rng(0)
    est = ScratchMLPRegressor(
        hidden_layer_sizes=(16,), batch_size=50, shuffle=False, random_state=0
    )
    for _ in range(30):
        est.partial_fit(rng.normal(size=(100, 3)), np.zeros(100))
    X, y = rng.normal(size=(100, 3)), np.zeros(100)
    y[75] = 40.0
    start = est.loss_
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        est.partial_fit(X, y)
    assert est.loss_ > 500 * start  # the mean of a batch near 0 and one of 1600 times it
    assert est._optimizer_state["t"] == 31 * 2  # every step of every call kept


def test_a_stream_whose_targets_grow_trains_like_mlpregressor():
    # The stream: the guard used to freeze its reference at the first
    # chunk and refuse every later one as "diverged".
    chunks = _drifting_stream()
    settings = {"hidden_layer_sizes": (16,), "batch_size": 20, "learning_rate_init": 0.01}
    ours = ScratchMLPRegressor(random_state=0, **settings)
    theirs = MLPRegressor(random_state=0, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        for X, y in chunks:
            ours.partial_fit(X, y)
            theirs.partial_fit(X, y)
    assert ours.n_iter_ == 1 and len(ours.loss_curve_) == len(chunks)
    X_test, y_test = _drifting_stream(n_chunks=2, rows=500)[1]
    first = ours.loss_curve_[1]  # the first chunk of the new scale
    assert ours.loss_curve_[-1] < first / 10  # it kept learning
    assert ours.score(X_test, y_test) > theirs.score(X_test, y_test) - 0.1


def test_a_divergence_after_the_data_changed_scale_names_the_drift():
    chunks = _drifting_stream(n_chunks=3, grow=1e3)
    est = ScratchMLPRegressor(
        hidden_layer_sizes=(16,),
        optimizer="sgd",
        learning_rate_init=0.01,
        batch_size=10,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        est.partial_fit(*chunks[0])
    before = [w.copy() for w in est.coefs_]
    with pytest.warns(DivergenceWarning, match="another scale") as record:
        est.partial_fit(*chunks[1])
    assert "times the last epoch's" in str(record[0].message)
    for kept, old in zip(est.coefs_, before, strict=True):
        np.testing.assert_array_equal(kept, old)


def test_a_divergence_on_the_same_scale_still_blames_the_learning_rate():
    chunks = _drifting_stream(n_chunks=3, grow=1.0)
    est = ScratchMLPRegressor(
        hidden_layer_sizes=(16,), optimizer="sgd", batch_size=10, random_state=0
    )
    est.partial_fit(*chunks[0])
    est.set_params(learning_rate_init=50.0)
    with pytest.warns(DivergenceWarning, match="learning_rate_init=50.0 is too high"):
        est.partial_fit(*chunks[1])


# ---- what a fitted estimator keeps -------------------------------------------------------


def _retained_by_fit(est, X, y):
    """Bytes allocated during ``fit`` that are still alive after it returned."""
    gc.collect()
    tracemalloc.start()
    try:
        est.fit(X, y)
        gc.collect()
        return tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("optimizer", "params", "states"),
    [
        ("lbfgs", {}, 0),  # no optimizer state
        ("gd", {"early_stopping": True, "learning_rate_init": 0.1}, 0),
        ("adam", {"early_stopping": True}, 2),  # two moments
        ("sgd", {}, 0),
    ],
)
def test_a_fitted_estimator_keeps_its_weights_and_state_not_workspaces(optimizer, params, states):
    # 8 MiB of X; the workspaces of training (activations of whole batches,
    # gathered rows, gradients) are far larger than the weights.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4096, 256))
    y = (X[:, 0] > 0).astype(int)
    est = ScratchMLPClassifier(
        hidden_layer_sizes=(64,), optimizer=optimizer, max_iter=3, random_state=0, **params
    )
    retained = _retained_by_fit(est, X, y)
    weights = sum(a.nbytes for a in est.coefs_ + est.intercepts_)
    # Weights, one array per optimizer moment, records and small objects.
    assert retained < (1 + states) * weights + 64 * 1024, (retained, weights)
    # Persisted, the same holds (nothing large was hiding in the pickle).
    assert len(pickle.dumps(est)) < (1 + states) * weights + 64 * 1024


def test_full_batch_training_on_a_memmap_reads_it_chunk_by_chunk(tmp_path):
    # gd with early stopping used to gather every training row of the map into
    # one array; now a chunk of working_memory at a time.
    rng = np.random.default_rng(0)
    path = tmp_path / "X.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(8192, 128))
    X[:] = rng.normal(size=X.shape)
    X.flush()
    y = (np.asarray(X[:, 0]) > 0).astype(int)
    X = np.load(path, mmap_mode="r")
    est = ScratchMLPClassifier(
        hidden_layer_sizes=(8,),
        optimizer="gd",
        learning_rate_init=0.1,
        max_iter=2,
        early_stopping=True,
        random_state=0,
    )
    gc.collect()
    tracemalloc.start()
    try:
        with sklearn.config_context(working_memory=1):
            est.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The held-out tenth is copied (as documented); the training rows are not.
    assert peak < 0.35 * X.nbytes, (peak, X.nbytes)
