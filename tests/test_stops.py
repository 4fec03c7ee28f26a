"""Safe stops: the divergence guard's limit and Ctrl-C held until a batch boundary.

How the trainer acts on them (no step after a diverged batch, an interrupt at a
batch boundary) is tested in ``test_training.py``.
"""

import signal
import threading

import numpy as np
import pytest

from sknumpynet.nn import HEADS, DivergenceGuard, NotFiniteAtStart, deferred_interrupt


def test_deferred_interrupt_turns_sigint_into_a_flag():
    before = signal.getsignal(signal.SIGINT)
    with deferred_interrupt() as flag:
        assert not flag.requested
        signal.raise_signal(signal.SIGINT)
        assert flag.requested
    assert signal.getsignal(signal.SIGINT) is before


def test_deferred_interrupt_outside_main_thread_is_inert():
    seen = {}

    def work():
        with deferred_interrupt() as flag:
            seen["requested"] = flag.requested
            seen["handler"] = signal.getsignal(signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == {"requested": False, "handler": before}


def test_the_guard_limit_is_relative_to_the_first_objective_it_sees():
    # Half the squared error of all-zero predictions of targets 100 is 5000 per
    # sample: the first objective (4000 here) is below it, so the zero-logit
    # loss sets the reference, and 1000 times it is the limit.
    guard = DivergenceGuard(HEADS["identity"], factor=1000)
    Y = np.full((4, 1), 100.0)
    assert guard.admits(4000.0, Y, None)
    assert guard.limit == pytest.approx(5e6)
    assert guard.admits(4.99e6, Y, None)
    assert not guard.admits(5e6, Y, None)
    assert not guard.admits(float("nan"), Y, None)
    # A first objective above the zero-logit loss is the reference itself.
    guard = DivergenceGuard(HEADS["softmax"], factor=10)
    Y = np.eye(3)[[0, 1, 2, 0]]
    assert guard.admits(2.0, Y, None)
    assert guard.limit == pytest.approx(20.0)  # 2.0 > log(3), the zero-logit loss
    assert guard.start_loss == 2.0


def test_the_guard_scale_is_the_worst_row_of_the_call_not_the_first_batch():
    # Half the squared error of zero predictions: 0 on the first batch's rows,
    # 800 on the call's worst row of positive weight (target 40); the row of
    # target 100 weighs 0 and never reaches a batch objective.
    Y = np.zeros((8, 1))
    Y[5], Y[6] = 40.0, 100.0
    sw = np.ones(8)
    sw[6] = 0.0
    guard = DivergenceGuard(HEADS["identity"], factor=1000, targets=Y, sample_weight=sw)
    assert guard.admits(0.01, Y[:4], sw[:4])
    assert guard.limit == pytest.approx(1000 * 800.0)
    # Without the call's targets, the first batch's rows set the scale.
    guard = DivergenceGuard(HEADS["identity"], factor=1000)
    assert guard.admits(0.01, Y[:4], sw[:4])
    assert guard.limit == pytest.approx(10.0)


def test_the_guard_scale_is_taken_chunk_by_chunk_over_the_training_rows(monkeypatch, rng):
    # A workspace of a few rows, not a copy of every target; rows outside the
    # training rows (held out) and of weight 0 do not count.
    Y = rng.normal(size=(50, 2))
    Y[7] = 30.0  # held out below
    Y[11] = 20.0  # weight 0 below
    sw = np.ones(50)
    sw[11] = 0.0
    rows = np.setdiff1d(np.arange(50), [7])
    monkeypatch.setattr(DivergenceGuard, "CHUNK_ROWS", 8)
    guard = DivergenceGuard(HEADS["identity"], targets=Y, sample_weight=sw, rows=rows)
    kept = np.setdiff1d(rows, [11])
    assert guard.scale == pytest.approx((0.5 * Y[kept] ** 2).sum(axis=1).max())


def test_the_guard_refuses_a_start_that_is_not_finite():
    guard = DivergenceGuard(HEADS["sigmoid"])
    with pytest.raises(NotFiniteAtStart, match="objective inf at the starting weights"):
        guard.admits(float("inf"), np.ones((2, 1)), None)
    assert guard.limit is None


def test_the_guard_reads_the_penalty_at_the_calls_weight_per_row_not_the_batchs():
    # J = data + penalty / S: a batch whose weights sum to little (S = 8e-8)
    # has a penalty term 1e7 times the first batch's at the same weights; that
    # is no explosion. The guard reads the penalty divided by the batch's rows
    # times the call's mean weight (0.5 here) instead.
    Y = np.eye(2)[[0, 1] * 8]
    sw = np.r_[np.ones(8), np.full(8, 1e-8)]
    guard = DivergenceGuard(HEADS["softmax"], factor=1000, targets=Y, sample_weight=sw)
    penalty = 2.0  # alpha / 2 * ||W||^2, unchanged between the two batches
    data = 0.6
    assert guard.admits(data + penalty / 8.0, Y[:8], sw[:8], penalty)
    assert guard.limit == pytest.approx(1000 * (data + penalty / 4.0))
    tiny = sw[8:]
    assert guard.admits(data + penalty / tiny.sum(), Y[8:], tiny, penalty)
    assert guard.normalised(data + penalty / tiny.sum(), tiny, penalty) == pytest.approx(
        data + penalty / 4.0
    )
    # An exploded data term is still refused, whatever the weights.
    assert not guard.admits(1e6 + penalty / tiny.sum(), Y[8:], tiny, penalty)
    # Without the penalty (or without weights) the objective is read as it is.
    assert not guard.admits(data + penalty / tiny.sum(), Y[8:], tiny)
    assert guard.normalised(5.0, None, penalty) == 5.0
