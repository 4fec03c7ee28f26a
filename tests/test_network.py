"""The MLP: whole-network gradient check, layout, dtype, sparse input and the predict forward.

The gradient check runs for every activation x head pair of the registries
(classification and regression heads), with and without sample weights and an
L2 penalty, on two hidden layers, and once per head with a sparse CSR input.
Its finite differences are the test suite's own (``_shared.gradient_check``);
the package's checker, ``sknumpynet.nn.check_gradients``, is tested against
them and against a gradient that is wrong on purpose, and the gradient of a
network without hidden layers against its closed form.
"""

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from _shared import STEP_OPTIMIZERS, gradient_check

from sknumpynet.nn import (
    ACTIVATIONS,
    HEADS,
    MLP,
    OPTIMIZERS,
    check_gradients,
    forward_logits,
    numerical_gradient,
)

PAIRS = list(itertools.product(sorted(ACTIVATIONS), sorted(HEADS)))


def _problem(head, rng, n=9, n_features=4, n_columns=3, dtype=np.float64):
    X = rng.normal(size=(n, n_features)).astype(dtype)
    spec = HEADS[head]
    if not spec.classification:
        # Real targets; counts (with zeros) for a head that needs Y >= 0.
        if getattr(spec, "non_negative_targets", False):
            return X, rng.poisson(1.0, size=(n, n_columns)).astype(dtype)
        return X, rng.normal(size=(n, n_columns)).astype(dtype)
    if spec.supports_multilabel:
        Y = rng.integers(0, 2, size=(n, n_columns))
    else:
        Y = np.eye(n_columns)[rng.integers(0, n_columns, size=n)]
    return X, spec.encode(Y.astype(dtype))


def _sparse_problem(head, rng, n=9, n_features=4):
    """A problem whose X has about half its entries zero, as dense and as CSR."""
    X, Y = _problem(head, rng, n=n, n_features=n_features)
    X[rng.random(X.shape) < 0.5] = 0.0
    X[:, 1] = 0.0  # an all-zero column: no stored entry reaches its weights
    return X, sp.csr_matrix(X), Y


def _network(activations, head, rng, n_features=4, n_outputs=3, dtype=np.float64):
    hidden = [5, 4, 3][: len(activations)]
    net = MLP([n_features, *hidden, n_outputs], activations, head, dtype=dtype)
    net.initialize("auto", rng)
    # Non-zero biases so that their gradients are exercised too.
    net.params[net.n_weights :] = rng.normal(scale=0.1, size=net.params.size - net.n_weights)
    return net


def _naive_logits(X, net):
    A = X
    for layer, (W, b) in enumerate(zip(net.coefs, net.intercepts, strict=True)):
        Z = A @ W + b
        if layer < len(net.activation_names):
            Z = ACTIVATIONS[net.activation_names[layer]].forward(Z.copy())
        A = Z
    return A


@pytest.mark.parametrize(("activation", "head"), PAIRS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_gradient_matches_finite_differences(activation, head, weighted, alpha, rng):
    net = _network([activation, activation], head, rng)
    X, Y = _problem(head, rng)
    sw = rng.uniform(0.2, 3.0, size=X.shape[0]) if weighted else None
    if weighted:
        sw[0] = 0.0  # a zero weight must simply drop the sample
    params_before = net.params.copy()
    analytic, numeric, rel_error = gradient_check(net, X, Y, sw, alpha)
    assert rel_error < 1e-7, (rel_error, np.abs(analytic - numeric).max())
    np.testing.assert_array_equal(net.params, params_before)
    assert np.abs(analytic).max() > 1e-3  # the check compared something


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_linear_squared_error_gradient_has_its_closed_form(weighted, alpha, rng):
    # No hidden layer, identity output, half squared error: by the documented
    # objective J = (sum_i s_i ||x_i W + b - y_i||^2 / 2 + alpha / 2 ||W||^2) / S,
    # with R = X W + b - Y and S = sum_i s_i,
    #   dJ/dW = X^T diag(s) R / S + (alpha / S) W,   dJ/db = s^T R / S,
    # i.e. X^T (X W + b - Y) / n + (alpha / n) W for unit weights.
    n, n_features, n_outputs = 11, 4, 3
    net = _network([], "identity", rng, n_features=n_features, n_outputs=n_outputs)
    X, Y = rng.normal(size=(n, n_features)), rng.normal(size=(n, n_outputs))
    s = rng.uniform(0.2, 3.0, size=n) if weighted else np.ones(n)
    W, b = net.coefs[0].copy(), net.intercepts[0].copy()
    R = X @ W + b - Y
    S = s.sum()
    expected = np.concatenate([(X.T @ (s[:, None] * R) / S + alpha / S * W).ravel(), s @ R / S])
    grad = np.empty_like(net.params)
    J = net.loss_grad(X, Y, grad, s if weighted else None, alpha)
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-15)
    assert J == pytest.approx((s @ (R**2).sum(axis=1) / 2 + alpha / 2 * (W**2).sum()) / S)


def test_check_gradients_agrees_with_the_suites_finite_differences(rng):
    net = _network(["tanh", "relu"], "softmax", rng)
    X, Y = _problem("softmax", rng)
    sw = rng.uniform(0.2, 3.0, size=X.shape[0])
    ours, numeric, _ = gradient_check(net, X, Y, sw, 0.3)
    analytic, theirs, rel_error = check_gradients(net, X, Y, sw, 0.3)
    np.testing.assert_array_equal(analytic, ours)
    np.testing.assert_allclose(theirs, numeric, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(numerical_gradient(net, X, Y, sw, 0.3), numeric, atol=1e-10)
    assert rel_error < 1e-7


@pytest.mark.parametrize("rng_seed", [None, 3], ids=["no dropout", "dropout"])
def test_check_gradients_reports_a_wrong_gradient(rng_seed, rng, monkeypatch):
    net = MLP([4, 5, 4, 3], ["tanh", "relu"], "softmax", dropout=[0.3, 0.3])
    net.initialize("auto", rng)
    X, Y = _problem("softmax", rng)
    right, _, _ = gradient_check(net, X, Y, rng_seed=rng_seed)
    loss_grad = net.loss_grad

    def wrong_backward(X, Y, grad, *args, **kwargs):
        # The objective is unchanged; its gradient is off in one weight.
        J = loss_grad(X, Y, grad, *args, **kwargs)
        grad[0] += 0.5 * np.linalg.norm(right)
        return J

    monkeypatch.setattr(net, "loss_grad", wrong_backward)
    analytic, numeric, rel_error = check_gradients(net, X, Y, rng_seed=rng_seed)
    np.testing.assert_allclose(numeric, right, rtol=1e-6, atol=1e-9)
    assert analytic[0] != pytest.approx(numeric[0])
    assert rel_error > 0.1


@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array])
def test_sparse_input_gradient_matches_dense_and_finite_differences(head, container, rng):
    net = _network(["relu", "tanh"], head, rng)
    X, _, Y = _sparse_problem(head, rng)
    X_csr = container(X)
    sw = rng.uniform(0.2, 3.0, size=X.shape[0])
    g_dense = np.empty_like(net.params)
    J_dense = net.loss_grad(X, Y, g_dense, sw, 0.3)
    analytic, numeric, rel_error = gradient_check(net, X_csr, Y, sw, 0.3)
    assert rel_error < 1e-7, (rel_error, np.abs(analytic - numeric).max())
    assert np.abs(analytic).max() > 1e-3  # the check compared something
    # Sparse x dense products only reorder the sums of the dense ones.
    np.testing.assert_allclose(analytic, g_dense, rtol=1e-12, atol=1e-15)
    assert net.loss_grad(X_csr, Y, np.empty_like(net.params), sw, 0.3) == pytest.approx(
        J_dense, rel=1e-13
    )
    np.testing.assert_allclose(net.logits(X_csr), net.logits(X), rtol=1e-12, atol=1e-15)
    # The all-zero input column gets no weight gradient beyond the L2 term.
    first_layer_grad = net.unpack(analytic)[0][0]
    np.testing.assert_allclose(first_layer_grad[1], 0.3 / sw.sum() * net.coefs[0][1], rtol=1e-12)


def test_sparse_input_is_read_only(rng):
    X, X_csr, Y = _sparse_problem("softmax", rng)
    X_before = X_csr.copy()
    net = _network(["tanh"], "softmax", rng)
    net.loss_grad(X_csr, Y, np.empty_like(net.params))
    net.logits(X_csr)
    assert sp.issparse(X_csr) and X_csr.format == "csr"
    # The input is read only: same stored entries, same values.
    assert (X_csr != X_before).nnz == 0
    np.testing.assert_array_equal(X_csr.indptr, X_before.indptr)


@pytest.mark.parametrize("activations", [["relu", "tanh"], ["sigmoid", "leaky_relu", "identity"]])
def test_per_layer_activations(activations, rng):
    net = _network(activations, "softmax", rng)
    assert net.activation_names == activations
    assert net.activations == [ACTIVATIONS[a] for a in activations]
    X, Y = _problem("softmax", rng)
    _, _, rel_error = gradient_check(net, X, Y, alpha=0.1)
    assert rel_error < 1e-7
    np.testing.assert_allclose(net.logits(X), _naive_logits(X, net), rtol=1e-12)


def test_linear_network_without_hidden_layers(rng):
    net = _network([], "sigmoid", rng)
    assert net.n_layers == 1
    X, Y = _problem("sigmoid", rng)
    np.testing.assert_allclose(net.logits(X), X @ net.coefs[0] + net.intercepts[0])
    assert gradient_check(net, X, Y)[2] < 1e-7


def test_wrong_number_of_activations_raises():
    with pytest.raises(ValueError, match="one name per hidden layer"):
        MLP([4, 5, 3], ["relu", "relu"], "softmax")


def test_params_layout_weights_then_biases(rng):
    net = MLP([4, 5, 3, 2], ["relu", "tanh"], "softmax")
    shapes = [(4, 5), (5, 3), (3, 2)]
    assert [W.shape for W in net.coefs] == shapes
    assert [b.shape for b in net.intercepts] == [(5,), (3,), (2,)]
    assert net.n_weights == 20 + 15 + 6
    assert net.params.size == net.n_weights + 10
    net.params[:] = np.arange(net.params.size)
    # Views, not copies: writing params shows in every layer and vice versa.
    np.testing.assert_array_equal(net.coefs[1].ravel(), np.arange(20, 35))
    np.testing.assert_array_equal(net.intercepts[0], np.arange(41, 46))
    net.intercepts[2][:] = -1
    np.testing.assert_array_equal(net.params[-2:], -1)


@pytest.mark.parametrize(("activation", "head"), PAIRS)
def test_forward_logits_equals_training_forward(activation, head, rng):
    net = _network([activation, activation], head, rng)
    X, Y = _problem(head, rng)
    X_before, Y_before = X.copy(), Y.copy()
    grad = np.empty_like(net.params)
    J = net.loss_grad(X, Y, grad)
    Z = forward_logits(X, net.coefs, net.intercepts, net.activation_names)
    loss = HEADS[head].forward_loss(Z.copy(), Y, np.empty_like(Z))
    assert J == pytest.approx(loss.mean(), rel=1e-12)
    np.testing.assert_allclose(Z, _naive_logits(X, net), rtol=1e-12)
    # Neither pass writes to its inputs.
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)


def test_loss_grad_objective_with_weights_and_penalty(rng):
    net = _network(["tanh"], "softmax", rng)
    X, Y = _problem("softmax", rng)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    alpha = 0.7
    loss = HEADS["softmax"].forward_loss(net.logits(X), Y, np.empty_like(Y))
    W = net.params[: net.n_weights]
    expected = (sw @ loss) / sw.sum() + alpha / (2 * sw.sum()) * (W @ W)
    J = net.loss_grad(X, Y, np.empty_like(net.params), sw, alpha)
    assert J == pytest.approx(expected, rel=1e-12)


def test_integer_sample_weights_equal_repeated_rows(rng):
    net = _network(["relu"], "sigmoid", rng)
    X, Y = _problem("sigmoid", rng)
    sw = np.array([1, 2, 0, 1, 3, 1, 1, 2, 1], dtype=float)
    g_weighted, g_repeated = np.empty_like(net.params), np.empty_like(net.params)
    J_w = net.loss_grad(X, Y, g_weighted, sw, alpha=0.2)
    rows = np.repeat(np.arange(X.shape[0]), sw.astype(int))
    J_r = net.loss_grad(X[rows], Y[rows], g_repeated, alpha=0.2)
    assert J_w == pytest.approx(J_r, rel=1e-12)
    np.testing.assert_allclose(g_weighted, g_repeated, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("activation", "head"), PAIRS)
def test_float32_network_stays_float32(activation, head, rng):
    net64 = _network([activation, activation], head, rng)
    net32 = MLP(net64.layer_sizes, net64.activation_names, head, dtype=np.float32)
    net32.initialize("auto", rng)
    assert net32.params.dtype == np.float32  # drawn in float64, stored as float32
    net32.params[:] = net64.params
    X, Y = _problem(head, rng)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    sw = rng.uniform(0.5, 2.0, size=X.shape[0])
    assert net32.params.dtype == np.float32
    assert all(W.dtype == np.float32 for W in net32.coefs + net32.intercepts)
    g32, g64 = np.empty_like(net32.params), np.empty_like(net64.params)
    J32 = net32.loss_grad(X32, Y32, g32, sw.astype(np.float32), alpha=0.1)
    J64 = net64.loss_grad(X, Y, g64, sw, alpha=0.1)
    assert g32.dtype == np.float32
    assert J32 == pytest.approx(J64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)
    assert net32.logits(X32).dtype == np.float32
    for name in STEP_OPTIMIZERS:
        hyper = {"momentum": 0.9, "rho": 0.9, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
        cls = OPTIMIZERS[name]
        opt = cls(0.01, **{h: hyper[h] for h in cls.hyperparameters})
        state = opt.init_state(net32.params)
        opt.step(net32.params, g32.copy(), state)
        assert net32.params.dtype == np.float32, name


def test_loss_grad_reuses_buffers_for_smaller_batches(rng):
    net = _network(["relu"], "softmax", rng)
    X, Y = _problem("softmax", rng, n=12)
    g_full, g_part, g_fresh = (np.empty_like(net.params) for _ in range(3))
    net.loss_grad(X, Y, g_full)
    J_part = net.loss_grad(X[:5], Y[:5], g_part)
    fresh = MLP(net.layer_sizes, net.activation_names, net.head_name)
    fresh.params[:] = net.params
    J_fresh = fresh.loss_grad(X[:5], Y[:5], g_fresh)
    assert J_part == J_fresh
    np.testing.assert_array_equal(g_part, g_fresh)


class _CubicHead(HEADS["identity"]):
    """A head whose delta is not ``P - Y``: loss ``sum |z - y|**3 / 3``."""

    @staticmethod
    def forward_loss(Z, Y, P):
        P[...] = Z
        return (np.abs(Z - Y) ** 3 / 3).sum(axis=1)

    @staticmethod
    def output_delta(P, Y):
        R = P - Y
        P[...] = R * np.abs(R)
        return P


def test_a_head_with_its_own_output_delta_needs_no_change_to_the_network(monkeypatch, rng):
    # The network asks its head for dloss/dZ, so a new loss is one registry
    # entry: its gradient still passes the finite-difference check.
    monkeypatch.setitem(HEADS, "cubic", _CubicHead)
    net = MLP([3, 5, 2], ["tanh"], "cubic")
    net.initialize("auto", rng)
    X, Y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    analytic, numeric, error = gradient_check(net, X, Y, alpha=0.1)
    assert error < 1e-7
    plain = MLP([3, 5, 2], ["tanh"], "identity")
    plain.params[...] = net.params
    other = np.empty_like(plain.params)
    plain.loss_grad(X, Y, other, alpha=0.1)
    assert not np.allclose(analytic, other)  # the cubic delta was used, not P - Y


# ---- input checks --------------------------------------------------------


def _fitted(head="softmax", layer_sizes=(3, 4, 2)):
    net = MLP(list(layer_sizes), ["relu"] * (len(layer_sizes) - 2), head)
    net.initialize("auto", np.random.default_rng(0))
    return net


def _evaluate(net, entry, X, Y, sample_weight=None):
    """``objective`` or ``loss_grad`` of ``net`` on one batch."""
    if entry == "objective":
        return net.objective(X, Y, sample_weight)
    return net.loss_grad(X, Y, np.empty_like(net.params), sample_weight)


ENTRIES = ["objective", "loss_grad"]


@pytest.mark.parametrize("entry", ENTRIES)
def test_a_1d_y_is_refused_not_broadcast(entry):
    # (5,) against logits (5, 1) broadcast to (5, 5): a loss five times too large.
    net = _fitted("identity", (3, 4, 1))
    X, y = np.ones((5, 3)), np.arange(5.0)
    with pytest.raises(ValueError, match=r"Y must have shape \(n_samples, n_outputs\) = \(5, 1\)"):
        _evaluate(net, entry, X, y)
    assert np.isfinite(_evaluate(net, entry, X, y[:, None]))


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("shape", [(5, 1), (1, 2), (4, 2), (5, 3)])
def test_a_y_of_the_wrong_shape_is_refused(entry, shape):
    with pytest.raises(
        ValueError, match=r"Y must have shape .* = \(5, 2\).*got \(" + str(shape[0])
    ):
        _evaluate(_fitted(), entry, np.ones((5, 3)), np.ones(shape))


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("shape", [(5, 4), (5,), (5, 3, 1)])
def test_x_of_the_wrong_shape_is_refused(entry, shape):
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 3\)"):
        _evaluate(_fitted(), entry, np.ones(shape), np.ones((5, 2)))


@pytest.mark.parametrize("entry", ENTRIES)
def test_x_without_rows_is_refused(entry):
    with pytest.raises(ValueError, match="X has no rows"):
        _evaluate(_fitted(), entry, np.ones((0, 3)), np.ones((0, 2)))


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("shape", [(1,), (4,), (5, 1)])
def test_sample_weight_of_the_wrong_shape_is_refused(entry, shape):
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(n_samples,\) = \(5,\)"):
        _evaluate(_fitted(), entry, np.ones((5, 3)), np.ones((5, 2)), np.ones(shape))


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("weights", [[0.0] * 5, [1.0, -1.0, 0.0, 0.0, 0.0], [np.nan] * 5])
def test_weights_without_a_positive_sum_are_refused(entry, weights):
    with pytest.raises(ValueError, match="sample_weight must (have a positive sum|be non-neg)"):
        _evaluate(_fitted(), entry, np.ones((5, 3)), np.ones((5, 2)), np.array(weights))


def test_objective_refuses_a_negative_weight():
    # loss_grad leaves this O(m) check to its caller (Trainer.epoch, once per call).
    weights = np.array([1.0, 1.0, 1.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        _fitted().objective(np.ones((5, 3)), np.ones((5, 2)), weights)


def test_a_sparse_batch_is_checked_too():
    X = sp.csr_matrix(np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 3\)"):
        _fitted().objective(X, np.ones((5, 2)))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"activations": ["relux"]}, r"activations: unknown 'relux'; one of \['identity'"),
        ({"activations": [["relu"]]}, "activations: unknown"),
        ({"head": "softmaxx"}, r"head: unknown 'softmaxx'; one of \['exp'"),
    ],
)
def test_unknown_names_are_refused_with_the_allowed_keys(kwargs, match):
    args = {"layer_sizes": [3, 4, 2], "activations": ["relu"], "head": "softmax", **kwargs}
    with pytest.raises(ValueError, match=match):
        MLP(**args)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_registered_activation_is_accepted(name):
    assert MLP([3, 4, 2], [name], "softmax").activation_names == [name]


def test_unknown_init_is_refused_and_leaves_the_weights():
    net = _fitted()
    before = net.params.copy()
    with pytest.raises(ValueError, match=r"init: unknown 'glorot'; one of \['auto', "):
        net.initialize("glorot", np.random.default_rng(0))
    np.testing.assert_array_equal(net.params, before)


def test_forward_logits_refuses_unknown_or_missing_activations():
    net = _fitted()
    with pytest.raises(ValueError, match="activations: unknown 'relux'"):
        forward_logits(np.ones((2, 3)), net.coefs, net.intercepts, ["relux"])
    with pytest.raises(ValueError, match="one name per hidden layer"):
        forward_logits(np.ones((2, 3)), net.coefs, net.intercepts, [])


@pytest.mark.parametrize("dropout", [1.0, 1.5, -0.5, np.nan, "0.5", [0.2, 1.0]])
def test_dropout_outside_0_1_is_refused(dropout):
    layers = [3, 4, 4, 2]
    with pytest.raises(ValueError, match=r"dropout rates must be real numbers in \[0, 1\)"):
        MLP(layers, ["relu", "relu"], "softmax", dropout=dropout)


@pytest.mark.parametrize("dtype", [np.int32, np.float16, np.complex128, "not a dtype", bool])
def test_dtypes_but_float32_and_float64_are_refused(dtype):
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        MLP([3, 4, 2], ["relu"], "softmax", dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float32"])
def test_float32_and_float64_are_accepted(dtype):
    assert MLP([3, 4, 2], ["relu"], "softmax", dtype=dtype).params.dtype == np.dtype(dtype)


@pytest.mark.parametrize("layer_sizes", [[3, 0, 2], [3, -1, 2], [3], [], [3, 2.5, 2], [3, True], 5])
def test_bad_layer_sizes_are_refused(layer_sizes):
    with pytest.raises(ValueError, match="layer_sizes must be at least 2 ints >= 1"):
        MLP(layer_sizes, [], "softmax")


def test_whole_floats_and_0d_arrays_are_read_as_sizes_and_rates():
    # MLP([3.0, 4, 1]) and dropout=np.array(0.1) worked before the checks; they still do.
    net = MLP([3.0, np.int8(4), 2], ["relu"], "softmax", dropout=np.array(0.1))
    assert net.layer_sizes == [3, 4, 2] and net.dropout == [0.1]
    with pytest.raises(ValueError, match="layer_sizes must be at least 2 ints >= 1"):
        MLP([3.5, 4, 2], ["relu"], "softmax")


def test_objective_names_nan_weights_as_such(rng):
    # NaN weights were told to "give some row a positive weight".
    net = MLP([3, 4, 2], ["relu"], "softmax")
    net.initialize("auto", rng)
    Y = np.eye(2)[[0, 1, 0]]
    with pytest.raises(ValueError, match="sample_weight must be non-negative and not NaN"):
        net.objective(np.ones((3, 3)), Y, np.array([1.0, np.nan, 1.0]))
