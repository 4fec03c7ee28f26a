"""Weight initializers: scale of the draws, "auto" resolution, zero biases, seeding.

Parametrized over the keys of ``INITIALIZERS`` and ``ACTIVATIONS``; a new
initializer also needs its expected scale in ``EXPECTED_STD``.
"""

import numpy as np
import pytest

from sknumpynet.nn import ACTIVATIONS, HEADS, INIT_OPTIONS, INITIALIZERS, MLP
from sknumpynet.nn.initializers import resolve_init

EXPECTED_STD = {
    "random": lambda fan_in: 0.01,
    "xavier": lambda fan_in: np.sqrt(1.0 / fan_in),
    "he": lambda fan_in: np.sqrt(2.0 / fan_in),
}
# Activations of the relu family get he under "auto"; every other one xavier.
AUTO = {"relu": "he", "leaky_relu": "he"}


def test_every_initializer_has_an_expected_scale():
    assert set(EXPECTED_STD) == set(INITIALIZERS)


def test_init_options_are_auto_plus_registry():
    assert INIT_OPTIONS == ("auto", *INITIALIZERS)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("fan_in", [50, 400])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_draws_have_expected_std(name, fan_in, dtype):
    W = np.full((fan_in, 80_000 // fan_in), np.nan, dtype=dtype)
    out = INITIALIZERS[name](W, np.random.default_rng(1))
    assert out is W  # filled in place
    assert W.dtype == dtype
    assert np.isfinite(W).all()
    expected = EXPECTED_STD[name](fan_in)
    # 80,000 draws: the sample std is within ~0.5% of the true one.
    assert W.std() == pytest.approx(expected, rel=0.02)
    assert abs(W.mean()) < 4 * expected / np.sqrt(W.size)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_same_seed_gives_identical_draws(name):
    W1, W2, W3 = (np.empty((30, 20)) for _ in range(3))
    INITIALIZERS[name](W1, np.random.default_rng(7))
    INITIALIZERS[name](W2, np.random.default_rng(7))
    INITIALIZERS[name](W3, np.random.default_rng(8))
    np.testing.assert_array_equal(W1, W2)
    assert not np.array_equal(W1, W3)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_auto_resolves_by_activation(activation):
    expected = AUTO.get(activation, "xavier")
    assert resolve_init("auto", ACTIVATIONS[activation]) == expected


@pytest.mark.parametrize("head", sorted(HEADS))
def test_auto_before_a_head_is_xavier(head):
    assert resolve_init("auto", HEADS[head]) == "xavier"


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_explicit_init_is_kept(name, activation):
    assert resolve_init(name, ACTIVATIONS[activation]) == name


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("init", INIT_OPTIONS)
def test_mlp_initialize_scales_each_layer(activation, head, init):
    # Second hidden layer fixed to tanh: the "auto" rule is applied per layer.
    sizes = [300, 400, 200, 200]
    net = MLP(sizes, [activation, "tanh"], head)
    net.params[:] = np.nan
    net.initialize(init, np.random.default_rng(3))
    followers = [activation, "tanh", None]
    for W, b, follower in zip(net.coefs, net.intercepts, followers, strict=True):
        if init != "auto":
            chosen = init
        elif follower is None:
            chosen = "xavier"
        else:
            chosen = AUTO.get(follower, "xavier")
        assert W.std() == pytest.approx(EXPECTED_STD[chosen](W.shape[0]), rel=0.03)
        np.testing.assert_array_equal(b, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_initialize_is_reproducible_and_keeps_dtype(dtype):
    nets = [MLP([6, 5, 4, 3], ["relu", "sigmoid"], "softmax", dtype=dtype) for _ in range(3)]
    for net, seed in zip(nets, [0, 0, 1], strict=True):
        net.initialize("auto", np.random.default_rng(seed))
    assert nets[0].params.dtype == dtype
    np.testing.assert_array_equal(nets[0].params, nets[1].params)
    assert not np.array_equal(nets[0].params, nets[2].params)
    np.testing.assert_array_equal(nets[0].params[nets[0].n_weights :], 0.0)
