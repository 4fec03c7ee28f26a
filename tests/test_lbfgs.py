"""L-BFGS: objective decrease, convergence, the two caps, the iteration callback,
sparse input and dtype.

``LBFGS.run`` drives SciPy's L-BFGS-B over a whole (small) training set; each
test is a few dozen rows so the suite stays fast.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from sknumpynet.nn import LBFGS, MLP, OPTIMIZERS

ALPHA = 1e-4


class CountingMLP(MLP):
    """An MLP that counts its objective-and-gradient evaluations."""

    n_evaluations = 0

    def loss_grad(self, *args, **kwargs):
        self.n_evaluations += 1
        return super().loss_grad(*args, **kwargs)


def _xor_problem(n=40, seed=0):
    """A small non-linear two-class problem (sign of x0 * x1), one-hot targets."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X, np.eye(2)[y]


def _network(dtype=np.float64, seed=1):
    net = CountingMLP([4, 8, 2], ["tanh"], "softmax", dtype=dtype)
    net.initialize("auto", np.random.default_rng(seed))
    return net


def _run(net, X, Y, sample_weight=None, *, max_iter=200, max_fun=15000, tol=1e-4, stop_at=None):
    """Run L-BFGS, recording every loss passed to on_iteration."""
    losses = []

    def on_iteration(loss):
        losses.append(loss)
        return stop_at is not None and len(losses) >= stop_at

    result = LBFGS().run(
        net,
        X,
        Y,
        sample_weight,
        ALPHA,
        max_iter=max_iter,
        max_fun=max_fun,
        tol=tol,
        on_iteration=on_iteration,
    )
    return result, losses


def test_registry_entry_is_lbfgs():
    assert OPTIMIZERS["lbfgs"] is LBFGS


def test_run_reduces_the_objective():
    X, Y = _xor_problem()
    net = _network()
    before = net.objective(X, Y, alpha=ALPHA)
    result, losses = _run(net, X, Y, max_iter=15)
    after = net.objective(X, Y, alpha=ALPHA)
    assert after < 0.7 * before
    assert losses[0] < before
    # Every accepted step lowers the objective (the line search's sufficient decrease).
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert result.nit == len(losses)


def test_converges_to_the_ridge_solution():
    # No hidden layer and the identity head: J is (half) ridge regression's
    # objective over n, so the minimiser is scikit-learn's Ridge with the same alpha.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3))
    Y = X @ rng.normal(size=(3, 2)) + [0.5, -1.0] + rng.normal(scale=0.1, size=(30, 2))
    net = MLP([3, 2], [], "identity")
    alpha = 0.5
    result = LBFGS().run(
        net, X, Y, None, alpha, max_iter=500, max_fun=15000, tol=1e-10, on_iteration=lambda j: None
    )
    assert result.status == 0, result.message
    ridge = Ridge(alpha=alpha).fit(X, Y)
    np.testing.assert_allclose(net.coefs[0], ridge.coef_.T, atol=1e-6)
    np.testing.assert_allclose(net.intercepts[0], ridge.intercept_, atol=1e-6)


def test_converges_on_a_small_network():
    X, Y = _xor_problem()
    net = _network()
    result, losses = _run(net, X, Y, tol=1e-4)
    assert result.status == 0, result.message
    assert not result.stopped
    assert result.nit == len(losses) < 200
    # Converged by tol, SciPy's gtol: the largest entry of the gradient at the
    # weights it ends on is at most tol (not SciPy's relative-decrease stop).
    assert "PROJECTED GRADIENT <= PGTOL" in str(result.message)
    grad = np.empty_like(net.params)
    net.loss_grad(X, Y, grad, alpha=ALPHA)
    assert np.abs(grad).max() <= 1e-4


def test_max_iter_caps_the_iterations():
    X, Y = _xor_problem()
    net = _network()
    result, losses = _run(net, X, Y, max_iter=3)
    assert result.status == 1
    assert result.nit == 3 and len(losses) == 3


def test_max_fun_caps_the_evaluations():
    X, Y = _xor_problem()
    net = _network()
    result, losses = _run(net, X, Y, max_fun=5)
    assert result.status == 1
    # SciPy checks the cap between iterations, so the last line search may pass
    # it by a few evaluations (never by a whole search of 20).
    assert result.nfev == net.n_evaluations
    assert 5 <= net.n_evaluations < 5 + 20
    assert result.nit == len(losses) < 10


def test_on_iteration_reports_the_objective_of_the_accepted_point():
    X, Y = _xor_problem()
    net = _network()
    sw = np.random.default_rng(3).uniform(0.5, 2.0, size=X.shape[0])
    result, losses = _run(net, X, Y, sw, max_iter=12)
    assert len(losses) == result.nit == 12
    assert all(isinstance(loss, float) for loss in losses)
    # The network ends at the last accepted iterate, whose objective was reported.
    assert losses[-1] == pytest.approx(net.objective(X, Y, sw, ALPHA), rel=1e-12)
    assert losses[-1] == pytest.approx(result.fun, rel=1e-12)


def test_on_iteration_returning_true_stops_the_run():
    X, Y = _xor_problem()
    net = _network()
    result, losses = _run(net, X, Y, stop_at=4)
    assert result.stopped
    assert len(losses) == 4
    # The weights are those of the iterate that was reported last.
    assert losses[-1] == pytest.approx(net.objective(X, Y, alpha=ALPHA), rel=1e-12)
    unstopped = _network()
    full, _ = _run(unstopped, X, Y, max_iter=4)
    np.testing.assert_allclose(net.params, unstopped.params, rtol=1e-12)
    # A stopped run reports its counts as a finished one does.
    assert (result.nit, result.nfev) == (full.nit, full.nfev) == (4, full.nfev)


def test_sparse_input_gives_the_dense_result():
    X, Y = _xor_problem()
    X[np.random.default_rng(4).random(X.shape) < 0.4] = 0.0
    dense, sparse = _network(), _network()
    result_d, losses_d = _run(dense, X, Y, max_iter=15)
    result_s, losses_s = _run(sparse, sp.csr_matrix(X), Y, max_iter=15)
    assert result_s.nit == result_d.nit
    # Sparse products only reorder sums; the rounding differences stay tiny.
    np.testing.assert_allclose(losses_s, losses_d, rtol=1e-8)
    np.testing.assert_allclose(sparse.params, dense.params, rtol=1e-6, atol=1e-8)


def test_integer_sample_weights_equal_repeated_rows():
    X, Y = _xor_problem(n=20)
    sw = np.random.default_rng(5).integers(0, 4, size=20).astype(float)
    rows = np.repeat(np.arange(20), sw.astype(int))
    weighted, repeated = _network(), _network()
    _, losses_w = _run(weighted, X, Y, sw, max_iter=10)
    _, losses_r = _run(repeated, X[rows], Y[rows], max_iter=10)
    np.testing.assert_allclose(losses_w, losses_r, rtol=1e-8)
    np.testing.assert_allclose(weighted.params, repeated.params, rtol=1e-6, atol=1e-8)


def test_float32_network_stays_float32():
    X, Y = _xor_problem()
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    net = _network(np.float32)
    params = net.params
    before = net.objective(X32, Y32, alpha=ALPHA)
    result, losses = _run(net, X32, Y32, max_iter=15)
    assert net.params is params and net.params.dtype == np.float32
    assert all(W.dtype == np.float32 for W in net.coefs + net.intercepts)
    assert net.objective(X32, Y32, alpha=ALPHA) < 0.7 * before
    assert len(losses) == result.nit > 0
    # The float32 run reaches about where the float64 one does in as many iterations.
    net64 = _network()
    _run(net64, X, Y, max_iter=15)
    assert net.objective(X32, Y32, alpha=ALPHA) == pytest.approx(
        net64.objective(X, Y, alpha=ALPHA), rel=1e-2
    )


def test_lbfgs_refuses_hyperparameters_it_does_not_read():
    # L-BFGS reads none: a value given for one would be ignored without a word.
    with pytest.raises(
        TypeError, match=r"LBFGS takes no hyperparameters; got unknown \['momentum'\]"
    ):
        LBFGS(0.1, momentum=0.9)
