"""Trainer epochs: every row once, shuffled indices, sparse X, dropout, divergence, interrupts."""

import numpy as np
import pytest
import scipy.sparse as sp
from _shared import STEP_OPTIMIZERS

from sknumpynet.nn import (
    MLP,
    OPTIMIZERS,
    Diverged,
    NotFiniteAtStart,
    Trainer,
    full_batch_loss_grad,
)


class RecordingMLP(MLP):
    """An MLP that remembers the rows of every batch it is asked about."""

    def __init__(self, *args, on_batch=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.batches = []
        self.formats = []
        self.on_batch = on_batch

    def loss_grad(self, X, Y, grad, sample_weight=None, alpha=0.0, rng=None):
        # Column 0 of X holds the row id; Y and the weights are keyed by it too.
        ids = X[:, [0]].toarray()[:, 0] if sp.issparse(X) else X[:, 0]
        self.formats.append(X.format if sp.issparse(X) else "dense")
        self.batches.append(
            (
                ids.astype(int),
                Y[:, 0].copy(),
                None if sample_weight is None else sample_weight.copy(),
            )
        )
        if self.on_batch is not None:
            self.on_batch(len(self.batches))
        return super().loss_grad(X, Y, grad, sample_weight, alpha, rng=rng)


def _data(n=23, rng=None):
    rng = rng or np.random.default_rng(0)
    X = np.column_stack([np.arange(n), rng.normal(size=(n, 2))])
    Y = np.column_stack([np.arange(n) % 2, np.arange(n) / n])
    sw = 1.0 + np.arange(n) / 10
    return X, Y, sw


def _trainer(
    optimizer="sgd", batch_size=5, shuffle=True, lr=0.01, seed=0, interrupt=None, **kwargs
):
    net = RecordingMLP([3, 4, 2], ["tanh"], "sigmoid", **kwargs)
    net.initialize("auto", np.random.default_rng(1))
    cls = OPTIMIZERS[optimizer]
    hyper = {"momentum": 0.9, "rho": 0.9, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
    opt = cls(lr, **{h: hyper[h] for h in cls.hyperparameters})
    trainer = Trainer(
        net,
        opt,
        opt.init_state(net.params),
        batch_rows=batch_size,
        full_batch=opt.full_batch,
        alpha=0.0,
        shuffle=shuffle,
        rng=np.random.default_rng(seed),
        interrupt=interrupt,
    )
    return net, trainer


@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS)
@pytest.mark.parametrize("shuffle", [True, False])
def test_epoch_uses_every_row_once(optimizer, shuffle):
    X, Y, sw = _data()
    X_before = X.copy()
    net, trainer = _trainer(optimizer, shuffle=shuffle)
    trainer.epoch(X, Y, sw)
    rows = np.concatenate([b[0] for b in net.batches])
    np.testing.assert_array_equal(np.sort(rows), np.arange(len(X)))
    # Targets and weights travel with their rows.
    for ids, y0, w in net.batches:
        np.testing.assert_array_equal(y0, ids % 2)
        np.testing.assert_array_equal(w, sw[ids])
    full_batch = OPTIMIZERS[optimizer].full_batch
    sizes = [len(b[0]) for b in net.batches]
    assert sizes == ([23] if full_batch else [5, 5, 5, 5, 3])
    assert trainer.state["t"] == len(sizes)
    if shuffle and not full_batch:
        assert not np.array_equal(rows, np.arange(len(X)))
    else:
        np.testing.assert_array_equal(rows, np.arange(len(X)))
    # The data is read, never reordered or written.
    np.testing.assert_array_equal(X, X_before)


def test_each_epoch_draws_a_new_order_from_the_rng():
    X, Y, _ = _data()
    orders = []
    for seed in (0, 0, 1):
        net, trainer = _trainer(seed=seed)
        trainer.epoch(X, Y)
        trainer.epoch(X, Y)
        first = np.concatenate([b[0] for b in net.batches[:5]])
        second = np.concatenate([b[0] for b in net.batches[5:]])
        assert not np.array_equal(first, second)
        orders.append(first)
    np.testing.assert_array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], orders[2])


@pytest.mark.parametrize("shuffle", [True, False])
def test_epoch_visits_only_given_indices(shuffle):
    X, Y, sw = _data()
    indices = np.array([0, 3, 4, 9, 10, 11, 15, 22])
    net, trainer = _trainer(batch_size=3, shuffle=shuffle)
    trainer.epoch(X, Y, sw, indices)
    rows = np.concatenate([b[0] for b in net.batches])
    np.testing.assert_array_equal(np.sort(rows), indices)
    assert [len(b[0]) for b in net.batches] == [3, 3, 2]


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "gd"])
@pytest.mark.parametrize("use_indices", [False, True], ids=["all_rows", "indices"])
def test_sparse_epoch_equals_dense_epoch(optimizer, use_indices):
    X, Y, sw = _data(n=23)
    X[:, 1:][np.random.default_rng(5).random((23, 2)) < 0.5] = 0.0  # about half zero
    X_csr = sp.csr_matrix(X)
    indices = np.array([0, 2, 3, 5, 8, 9, 13, 14, 17, 20, 22]) if use_indices else None
    results = {}
    for name, data in (("dense", X), ("csr", X_csr)):
        net, trainer = _trainer(optimizer, batch_size=4, lr=0.5, seed=3)
        losses = [trainer.epoch(data, Y, sw, indices) for _ in range(2)]
        results[name] = net, losses
    (dense, dense_losses), (csr, csr_losses) = results["dense"], results["csr"]
    # Same rows in the same order: the order comes from the rng, not the data.
    assert len(csr.batches) == len(dense.batches)
    for (ids_d, y_d, w_d), (ids_s, y_s, w_s) in zip(dense.batches, csr.batches, strict=True):
        np.testing.assert_array_equal(ids_s, ids_d)
        np.testing.assert_array_equal(y_s, y_d)
        np.testing.assert_array_equal(w_s, w_d)
    # Batches of a CSR X stay CSR; sparse products only reorder sums.
    assert set(csr.formats) == {"csr"} and set(dense.formats) == {"dense"}
    np.testing.assert_allclose(csr_losses, dense_losses, rtol=1e-12)
    np.testing.assert_allclose(csr.params, dense.params, rtol=1e-10, atol=1e-13)
    assert not np.allclose(dense.params, _trainer(optimizer)[0].params)  # it trained
    np.testing.assert_array_equal(X_csr.toarray(), X)  # the input is left alone


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "gd"])
def test_dropout_masks_come_from_the_trainer_rng(optimizer):
    # Replaying the epoch by hand from the same seed (the order first, then
    # each batch's masks from the same generator) gives the same weights; the
    # end-of-epoch probe draws nothing.
    X, Y, sw = _data()
    net, trainer = _trainer(optimizer, batch_size=5, lr=0.1, seed=4, dropout=[0.5])
    trainer.probe = np.arange(len(X))
    ref = MLP([3, 4, 2], ["tanh"], "sigmoid", dropout=[0.5])
    ref.params[:] = net.params
    opt = trainer.optimizer
    ref_state = opt.init_state(ref.params)
    loss = trainer.epoch(X, Y, sw)
    draws = np.random.default_rng(4)
    order = np.arange(len(X)) if opt.full_batch else draws.permutation(len(X))
    size = len(X) if opt.full_batch else 5
    grad, total = np.empty_like(ref.params), 0.0
    # A full batch draws each hidden layer's masks from a generator of its own,
    # seeded from the trainer's (so that its chunks draw what one pass would).
    masks = [np.random.default_rng(draws.integers(2**63, size=1)[0])] if opt.full_batch else draws
    for start in range(0, len(X), size):
        rows = order[start : start + size]
        total += sw[rows].sum() * ref.loss_grad(X[rows], Y[rows], grad, sw[rows], rng=masks)
        opt.step(ref.params, grad, ref_state)
    np.testing.assert_array_equal(net.params, ref.params)
    assert loss == pytest.approx(total / sw.sum(), rel=1e-12)
    assert trainer.rng.bit_generator.state == draws.bit_generator.state
    # Dropout changed the training: masks were applied.
    plain, plain_trainer = _trainer(optimizer, batch_size=5, lr=0.1, seed=4)
    plain_trainer.epoch(X, Y, sw)
    assert not np.allclose(plain.params, net.params)


def test_epoch_loss_is_the_weighted_mean_of_batches():
    # With a zero learning rate the weights stay put, so the mean of the batch
    # objectives (weighted by each batch's total weight) is the full objective.
    X, Y, sw = _data()
    net, trainer = _trainer(batch_size=4)
    # Set, not built: the constructor takes only a positive rate (a schedule may reach 0).
    trainer.optimizer.learning_rate = 0.0
    params = net.params.copy()
    loss = trainer.epoch(X, Y, sw)
    np.testing.assert_array_equal(net.params, params)
    full = net.loss_grad(X, Y, np.empty_like(net.params), sw)
    assert loss == pytest.approx(full, rel=1e-12)


def test_zero_weight_batch_is_skipped():
    X, Y, sw = _data(n=10)
    sw[:5] = 0.0
    net, trainer = _trainer(batch_size=5, shuffle=False)
    trainer.epoch(X, Y, sw)
    assert len(net.batches) == 1 and trainer.state["t"] == 1
    np.testing.assert_array_equal(net.batches[0][0], np.arange(5, 10))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_diverged_is_raised_before_the_bad_step(optimizer):
    X, Y, _ = _data(n=10)
    X[7, 1] = np.nan  # second batch has a non-finite objective
    net, trainer = _trainer(optimizer, batch_size=5, shuffle=False)
    ref_net, ref_trainer = _trainer(optimizer, batch_size=5, shuffle=False)
    ref_trainer.epoch(X[:5], Y[:5])
    with np.errstate(all="ignore"), pytest.raises(Diverged, match="batch 1"):
        trainer.epoch(X, Y)
    assert len(net.batches) == 2
    assert trainer.state["t"] == 1
    np.testing.assert_array_equal(net.params, ref_net.params)
    assert np.isfinite(net.params).all()


def test_non_finite_start_leaves_weights_untouched():
    # The first objective of a trainer is its guard's reference: not finite,
    # there is no scale to train on.
    X, Y, _ = _data(n=10)
    X[0, 2] = np.nan
    net, trainer = _trainer("momentum", batch_size=10)
    params = net.params.copy()
    with (
        np.errstate(all="ignore"),
        pytest.raises(NotFiniteAtStart, match="objective nan at the starting weights"),
    ):
        trainer.epoch(X, Y)
    np.testing.assert_array_equal(net.params, params)
    assert trainer.state["t"] == 0
    np.testing.assert_array_equal(trainer.state["velocity"], 0)


def test_interrupt_flag_stops_at_a_batch_boundary():
    X, Y, _ = _data()
    flag = type("Flag", (), {"requested": False})()

    def raise_flag(n_batches):
        if n_batches == 2:
            flag.requested = True  # arrives in the middle of batch 2

    net, trainer = _trainer(batch_size=5, shuffle=False, interrupt=flag, on_batch=raise_flag)
    ref_net, ref_trainer = _trainer(batch_size=5, shuffle=False)
    ref_trainer.epoch(X[:10], Y[:10])
    with pytest.raises(KeyboardInterrupt):
        trainer.epoch(X, Y)
    # Batch 2 was completed, batch 3 never started.
    assert len(net.batches) == 2 and trainer.state["t"] == 2
    np.testing.assert_array_equal(net.params, ref_net.params)


# ---- full batches in chunks ------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("use_rows", [False, True], ids=["all_rows", "rows"])
@pytest.mark.parametrize("sparse", [False, True])
def test_full_batch_in_chunks_equals_one_pass_over_the_rows(weighted, use_rows, sparse):
    # loss_grad over every row at once is the reference (itself checked against
    # finite differences in test_network.py); chunks of 4 rows must sum to it.
    X, Y, sw = _data(n=23)
    sw = sw if weighted else None
    rows = np.array([0, 2, 3, 5, 8, 9, 13, 14, 17, 20, 22]) if use_rows else None
    net = MLP([3, 4, 2], ["tanh"], "sigmoid")
    net.initialize("auto", np.random.default_rng(1))
    pick = slice(None) if rows is None else rows
    expected_grad = np.empty_like(net.params)
    expected = net.loss_grad(X[pick], Y[pick], expected_grad, None if sw is None else sw[pick], 0.3)
    grad = np.empty_like(net.params)
    data = sp.csr_matrix(X) if sparse else X
    loss = full_batch_loss_grad(net, data, Y, grad, sw, 0.3, rows=rows, chunk_rows=4)
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_full_batch_dropout_masks_do_not_depend_on_the_chunks(dtype):
    # Masks were drawn chunk by chunk, layer after layer, from one generator:
    # with two dropped layers the chunk size (scikit-learn's working_memory)
    # changed which mask a row got, so one random_state gave two models.
    X, Y, _ = _data(n=23)
    X, Y = X.astype(dtype), Y.astype(dtype)
    net = MLP([3, 5, 4, 2], ["relu", "tanh"], "sigmoid", dtype=dtype, dropout=[0.3, 0.4])
    net.initialize("auto", np.random.default_rng(1))
    results = []
    for chunk_rows in (23, 4, 7):
        grad = np.empty_like(net.params)
        loss = full_batch_loss_grad(
            net, X, Y, grad, None, 0.1, chunk_rows=chunk_rows, rng=np.random.default_rng(5)
        )
        results.append((loss, grad))
    for loss, grad in results[1:]:
        assert loss == pytest.approx(results[0][0], rel=1e-5 if dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(grad, results[0][1], rtol=1e-4, atol=1e-6)


def test_full_batch_refuses_rows_that_all_weigh_zero():
    X, Y, sw = _data(n=10)
    sw[[1, 4]] = 0.0
    net = MLP([3, 4, 2], ["tanh"], "sigmoid")
    with pytest.raises(ValueError, match="every training row has weight 0"):
        full_batch_loss_grad(
            net, X, Y, np.empty_like(net.params), sw, rows=np.array([1, 4]), chunk_rows=1
        )


# ---- input checks, once per epoch call -------------------------------------

BAD_INDICES = {
    "negative": (np.array([-1, 2, 3]), IndexError, r"indices must be row numbers in \[0, 23\)"),
    "past_the_end": (np.array([2, 3, 23]), IndexError, r"indices must be row numbers in \[0, 23\)"),
    "boolean_mask": (np.arange(23) % 2 == 0, IndexError, "indices must hold integer.*flatnonzero"),
    "floats": (np.array([0.0, 1.0, 2.0]), IndexError, "indices must hold integer row numbers"),
    "2d": (np.array([[0, 1], [2, 3]]), ValueError, "indices must be a 1-D array"),
    "empty": (np.array([], dtype=int), ValueError, "indices is empty"),
}


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "gd"])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("case", sorted(BAD_INDICES))
def test_bad_indices_are_refused_before_any_step(optimizer, shuffle, case):
    # Batches gather with np.take(mode="clip"), which would read row 0 for -1,
    # the last row for 23 and rows 0/1 for a mask, and train on them.
    indices, error, match = BAD_INDICES[case]
    X, Y, sw = _data()
    net, trainer = _trainer(optimizer, shuffle=shuffle)
    before = net.params.copy()
    with pytest.raises(error, match=match):
        trainer.epoch(X, Y, sw, indices)
    assert net.batches == [] and trainer.state["t"] == 0
    np.testing.assert_array_equal(net.params, before)


@pytest.mark.parametrize("optimizer", ["sgd", "gd"])
@pytest.mark.parametrize("use_indices", [False, True], ids=["all_rows", "indices"])
def test_y_and_weights_need_one_row_per_row_of_x(optimizer, use_indices):
    X, Y, sw = _data()
    indices = np.arange(0, 23, 2) if use_indices else None
    net, trainer = _trainer(optimizer)
    with pytest.raises(ValueError, match=r"Y must have shape \(n_samples, n_outputs\), one row"):
        trainer.epoch(X, Y[:10], sw, indices)
    with pytest.raises(ValueError, match=r"Y must have shape"):
        trainer.epoch(X, Y[:, 0], sw, indices)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(n_samples,\) = \(23,\)"):
        trainer.epoch(X, Y, sw[:10], indices)
    assert net.batches == [] and trainer.state["t"] == 0


@pytest.mark.parametrize("optimizer", ["sgd", "gd"])
@pytest.mark.parametrize("bad", [-1.0, np.nan])
def test_negative_or_nan_weights_are_refused_once_per_epoch(optimizer, bad):
    # loss_grad checks only the batch's sum (O(1)); the epoch checks every weight.
    X, Y, sw = _data()
    sw[7] = bad
    net, trainer = _trainer(optimizer)
    with pytest.raises(ValueError, match="sample_weight must be non-negative and not NaN"):
        trainer.epoch(X, Y, sw)
    assert net.batches == [] and trainer.state["t"] == 0


@pytest.mark.parametrize("case", sorted(BAD_INDICES))
def test_full_batch_refuses_bad_rows(case):
    indices, error, match = BAD_INDICES[case]
    X, Y, sw = _data()
    net = MLP([3, 4, 2], ["tanh"], "sigmoid")
    with pytest.raises(error, match=match.replace("indices", "rows")):
        full_batch_loss_grad(net, X, Y, np.empty_like(net.params), sw, rows=indices, chunk_rows=4)


def test_full_batch_refuses_a_short_y():
    X, Y, _ = _data()
    net = MLP([3, 4, 2], ["tanh"], "sigmoid")
    with pytest.raises(ValueError, match="Y must have shape"):
        full_batch_loss_grad(net, X, Y[:10], np.empty_like(net.params), chunk_rows=4)


def test_a_divergence_message_reports_the_objective_the_guard_compared():
    # With weights the guard compares the batch objective read at the call's
    # mean weight per row; the message printed the raw one, which could be
    # below the limit it claimed it was not below.
    from sknumpynet.nn import HEADS, Diverged, DivergenceGuard

    net, trainer = _trainer("sgd", batch_size=4, lr=0.1, seed=0)
    trainer.guard = guard = DivergenceGuard(HEADS["softmax"], factor=10)
    Y = np.eye(2)[[0, 1, 0, 1]]
    assert guard.admits(1.0, Y, np.ones(4), 0.4)  # the limit: 10
    heavy = np.full(4, 10.0)
    raw = 9.95 + 0.4 / heavy.sum()
    judged = guard.normalised(raw, heavy, 0.4)
    assert raw < guard.limit <= judged
    with pytest.raises(Diverged, match=f"training loss {judged:.4g} at batch 3 is not below 10"):
        trainer._step(raw, Y, heavy, 3, 0.4)
