"""Dropout in the NumPy core: masks, inverted scaling, the fixed-mask gradient check, dtypes,
buffers, and that prediction and rate 0 are untouched.

A network's masks are read from its workspace (``_workspace["M"]``, one per hidden layer)
after :meth:`MLP.loss_grad`; the thinned forward pass is recomputed here by hand from them.
"""

import itertools
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from _shared import gradient_check

from sknumpynet.nn import ACTIVATIONS, HEADS, MLP, OPTIMIZERS, Trainer

PAIRS = list(itertools.product(sorted(ACTIVATIONS), sorted(HEADS)))


def _problem(head, rng, n=9, n_features=4, n_outputs=3, dtype=np.float64):
    X = rng.normal(size=(n, n_features))
    spec = HEADS[head]
    if spec.classification:
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, size=n)]
        if spec.supports_multilabel:
            Y = rng.integers(0, 2, size=(n, n_outputs)).astype(float)
        Y = spec.encode(Y)
    elif getattr(spec, "non_negative_targets", False):
        Y = rng.poisson(1.0, size=(n, n_outputs)).astype(float)
    else:
        Y = rng.normal(size=(n, n_outputs))
    return X.astype(dtype), Y.astype(dtype)


def _network(activations, head, rng, dropout=None, sizes=(4, 5, 4, 3), dtype=np.float64):
    net = MLP(sizes, activations, head, dtype=dtype, dropout=dropout)
    net.initialize("auto", rng)
    net.params[net.n_weights :] = rng.normal(scale=0.1, size=net.params.size - net.n_weights)
    return net


def _masks(net, m):
    return [None if M is None else M[:m].copy() for M in net._workspace["M"]]


def _thinned_logits(net, X, masks):
    """The forward pass by hand: each hidden output times its mask."""
    A = X
    for layer, (W, b) in enumerate(zip(net.coefs, net.intercepts, strict=True)):
        Z = A @ W + b
        if layer < len(net.activations):
            Z = ACTIVATIONS[net.activation_names[layer]].forward(Z.copy())
            if masks[layer] is not None:
                Z = Z * masks[layer]
        A = Z
    return A


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mask_keeps_one_minus_p_and_scales_kept_units(p, dtype, rng):
    net = _network(["relu"], "softmax", rng, dropout=[p], sizes=(4, 200, 3), dtype=dtype)
    X, Y = _problem("softmax", rng, n=500, dtype=dtype)
    net.loss_grad(X, Y, np.empty_like(net.params), rng=np.random.default_rng(1))
    (M,) = _masks(net, 500)
    assert M.dtype == dtype
    # Two values only: 0 (dropped) and 1 / (1 - p) (kept, rescaled).
    np.testing.assert_array_equal(np.unique(M), np.array([0.0, 1.0 / (1.0 - p)], dtype=dtype))
    kept = np.count_nonzero(M) / M.size
    # 100_000 Bernoulli(1 - p) draws: the standard error is below 0.0016.
    assert kept == pytest.approx(1.0 - p, abs=0.01)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_dropped_output_is_unbiased(activation, rng):
    # One input row repeated: every row has the same undropped hidden output A,
    # so the mean over rows of the thinned output estimates E[A * M] = A.
    p = 0.5
    net = _network([activation], "identity", rng, dropout=[p], sizes=(4, 6, 2))
    n = 20_000
    X = np.repeat(rng.normal(size=(1, 4)), n, axis=0)
    Y = np.zeros((n, 2))
    net.loss_grad(X, Y, np.empty_like(net.params), rng=np.random.default_rng(2))
    A = ACTIVATIONS[activation].forward(X[:1] @ net.coefs[0] + net.intercepts[0])
    H = net._workspace["H"][0]
    # Per unit the thinned output is A or 0 (times 2): its mean has a relative
    # standard error of 1 / sqrt(n) = 0.007.
    np.testing.assert_allclose(H.mean(axis=0), A[0], rtol=0.05, atol=1e-12)
    assert not np.allclose(H, A)  # units were dropped


@pytest.mark.parametrize(("activation", "head"), PAIRS)
def test_gradient_with_fixed_masks_matches_finite_differences(activation, head, rng):
    net = _network([activation, activation], head, rng, dropout=[0.5, 0.2])
    X, Y = _problem(head, rng)
    sw = rng.uniform(0.2, 3.0, size=X.shape[0])
    params = net.params.copy()
    analytic, numeric, rel_error = gradient_check(net, X, Y, sw, 0.3, rng_seed=7)
    assert rel_error < 1e-7, (rel_error, np.abs(analytic - numeric).max())
    np.testing.assert_array_equal(net.params, params)
    assert np.abs(analytic).max() > 1e-3  # the check compared something
    masks = _masks(net, X.shape[0])
    assert all((M == 0).any() for M in masks)  # with units actually dropped
    # The objective is that of the thinned network, computed by hand.
    J = net.loss_grad(X, Y, np.empty_like(params), sw, 0.3, rng=np.random.default_rng(7))
    Z = _thinned_logits(net, X, masks)
    W = params[: net.n_weights]
    expected = (sw @ HEADS[head].forward_loss(Z, Y, Z.copy()) + 0.15 * W @ W) / sw.sum()
    assert J == pytest.approx(expected, rel=1e-12)
    # And dropout changed it: the undropped gradient is another vector.
    plain = np.empty_like(params)
    net.loss_grad(X, Y, plain, sw, 0.3)
    assert not np.allclose(plain, analytic)


def test_gradient_with_fixed_masks_and_sparse_input(rng):
    net = _network(["relu", "tanh"], "softmax", rng, dropout=[0.3, 0.5])
    X, Y = _problem("softmax", rng)
    X[rng.random(X.shape) < 0.5] = 0.0
    dense, _, _ = gradient_check(net, X, Y, rng_seed=3)
    analytic, _, rel_error = gradient_check(net, sp.csr_matrix(X), Y, rng_seed=3)
    assert rel_error < 1e-7
    np.testing.assert_allclose(analytic, dense, rtol=1e-12, atol=1e-15)


def test_same_seed_same_masks_other_seed_other_masks(rng):
    net = _network(["tanh", "relu"], "softmax", rng, dropout=[0.4, 0.4])
    X, Y = _problem("softmax", rng, n=30)
    runs = []
    for seed in (5, 5, 6):
        grad = np.empty_like(net.params)
        J = net.loss_grad(X, Y, grad, rng=np.random.default_rng(seed))
        runs.append((J, grad, _masks(net, 30)))
    (J0, g0, m0), (J1, g1, m1), (J2, g2, m2) = runs
    assert J0 == J1
    np.testing.assert_array_equal(g0, g1)
    for a, b, c in zip(m0, m1, m2, strict=True):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    assert J2 != J0 and not np.array_equal(g2, g0)


def test_consecutive_batches_draw_new_masks(rng):
    net = _network(["relu", "relu"], "softmax", rng, dropout=[0.5, 0.5])
    X, Y = _problem("softmax", rng, n=30)
    draws = np.random.default_rng(0)
    net.loss_grad(X, Y, np.empty_like(net.params), rng=draws)
    first = _masks(net, 30)
    net.loss_grad(X, Y, np.empty_like(net.params), rng=draws)
    assert not any(np.array_equal(a, b) for a, b in zip(first, _masks(net, 30), strict=True))


@pytest.mark.parametrize("head", sorted(HEADS))
def test_float32_stays_float32(head, rng):
    net = _network(["tanh", "relu"], head, rng, dropout=[0.5, 0.2], dtype=np.float32)
    X, Y = _problem(head, rng, dtype=np.float32)
    grad = np.empty_like(net.params)
    J = net.loss_grad(X, Y, grad, X[:, 0] ** 2 + 0.5, 0.1, rng=np.random.default_rng(0))
    assert np.isfinite(J)
    assert net.params.dtype == grad.dtype == np.float32
    ws = net._workspace
    assert all(a.dtype == np.float32 for a in [*ws["A"], *ws["D"], *ws["M"], *ws["H"]])
    for name in ("sgd", "adam"):
        cls = OPTIMIZERS[name]
        hyper = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
        opt = cls(0.01, **{h: hyper[h] for h in cls.hyperparameters})
        opt.step(net.params, grad, opt.init_state(net.params))
        assert net.params.dtype == np.float32


@pytest.mark.parametrize("activation", ["identity", "relu", "tanh"])
def test_masks_are_drawn_into_reused_buffers(activation, rng):
    # 256 x 512 float32 hidden outputs: 512 KiB per buffer.  After the first
    # call, dropout adds no allocation per batch beyond the undropped pass.
    sizes, n = (20, 512, 256, 2), 256
    X, Y = _problem("identity", rng, n=n, n_features=20, n_outputs=2, dtype=np.float32)
    peaks = {}
    for dropout in (None, [0.5, 0.3]):
        net = _network([activation] * 2, "identity", rng, dropout, sizes, dtype=np.float32)
        grad = np.empty_like(net.params)
        draws = None if dropout is None else np.random.default_rng(1)
        net.loss_grad(X, Y, grad, rng=draws)  # builds the workspace
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            for _ in range(5):
                net.loss_grad(X, Y, grad, rng=draws)
                net.loss_grad(X[:100], Y[:100], grad, rng=draws)  # a smaller last batch
            current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert current - start < 4096  # nothing kept
        peaks[dropout is None] = peak - start
    buffer_bytes = n * 512 * 4
    assert peaks[False] - peaks[True] < buffer_bytes / 64, peaks


def test_rate_zero_is_no_dropout_bit_for_bit(rng):
    plain = _network(["tanh", "relu"], "softmax", rng)
    zero = MLP(plain.layer_sizes, plain.activation_names, "softmax", dropout=[0.0, 0.0])
    zero.params[:] = plain.params
    X, Y = _problem("softmax", rng, n=12)
    g_plain, g_zero = np.empty_like(plain.params), np.empty_like(plain.params)
    draws = np.random.default_rng(0)
    state = draws.bit_generator.state
    J_plain = plain.loss_grad(X, Y, g_plain, alpha=0.1)
    J_zero = zero.loss_grad(X, Y, g_zero, alpha=0.1, rng=draws)
    assert J_plain == J_zero
    np.testing.assert_array_equal(g_plain, g_zero)
    assert draws.bit_generator.state == state  # no draw at all


def test_zero_rate_layer_is_left_alone(rng):
    net = _network(["tanh", "tanh"], "softmax", rng, dropout=[0.0, 0.5])
    X, Y = _problem("softmax", rng, n=12)
    net.loss_grad(X, Y, np.empty_like(net.params), rng=np.random.default_rng(0))
    first, second = _masks(net, 12)
    assert first is None and (second == 0).any()
    assert gradient_check(net, X, Y, rng_seed=0)[2] < 1e-7


@pytest.mark.parametrize("head", sorted(HEADS))
def test_prediction_never_drops(head, rng):
    net = _network(["relu", "sigmoid"], head, rng, dropout=[0.5, 0.5])
    plain = MLP(net.layer_sizes, net.activation_names, head)
    plain.params[:] = net.params
    X, Y = _problem(head, rng, n=12)
    # Training with dropout in between must not leak into prediction.
    net.loss_grad(X, Y, np.empty_like(net.params), rng=np.random.default_rng(0))
    np.testing.assert_array_equal(net.logits(X), plain.logits(X))
    assert net.objective(X, Y, alpha=0.1) == plain.objective(X, Y, alpha=0.1)
    # Without a generator loss_grad does not drop either.
    g, g_plain = np.empty_like(net.params), np.empty_like(net.params)
    assert net.loss_grad(X, Y, g) == plain.loss_grad(X, Y, g_plain)
    np.testing.assert_array_equal(g, g_plain)


def test_dropout_rates_per_layer_and_broadcast():
    assert MLP([3, 4, 5, 2], ["relu", "relu"], "softmax").dropout == [0.0, 0.0]
    assert MLP([3, 4, 5, 2], ["relu", "relu"], "softmax", dropout=0.25).dropout == [0.25, 0.25]
    net = MLP([3, 4, 5, 2], ["relu", "relu"], "softmax", dropout=(0.5, np.float32(0.25)))
    assert net.dropout == [0.5, 0.25] and all(type(p) is float for p in net.dropout)
    with pytest.raises(ValueError, match=r"one rate per hidden layer \(2\), got 1"):
        MLP([3, 4, 5, 2], ["relu", "relu"], "softmax", dropout=[0.5])


def _trained(dropout, seed, rows=40):
    rng = np.random.default_rng(0)
    net = _network(["relu", "tanh"], "softmax", rng, dropout=dropout)
    X, Y = _problem("softmax", rng, n=rows)
    opt = OPTIMIZERS["adam"](0.05, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    trainer = Trainer(
        net,
        opt,
        opt.init_state(net.params),
        batch_rows=8,
        alpha=1e-3,
        shuffle=True,
        rng=np.random.default_rng(seed),
    )
    losses = [trainer.epoch(X, Y) for _ in range(3)]
    return net.params.copy(), losses


def test_trainer_with_dropout_is_reproducible():
    params, losses = _trained([0.5, 0.2], seed=0)
    again, losses_again = _trained([0.5, 0.2], seed=0)
    np.testing.assert_array_equal(params, again)
    assert losses == losses_again
    assert not np.array_equal(params, _trained([0.5, 0.2], seed=1)[0])
    assert not np.array_equal(params, _trained(None, seed=0)[0])
    # Rate 0 trains exactly as no dropout.
    np.testing.assert_array_equal(_trained([0.0, 0.0], 0)[0], _trained(None, 0)[0])
