"""Weight initializers: scale of the draws, "auto" resolution, biases, seeding, dtype.

Parametrized over the keys of ``INITIALIZERS`` and ``ACTIVATIONS``; a new
initializer also needs its expected scale in ``EXPECTED_STD`` (and its bound in
``UNIFORM_BOUND`` if it draws uniformly, biases included).
"""

import math

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sknumpynet.nn import ACTIVATIONS, HEADS, INIT_OPTIONS, INITIALIZERS, MLP
from sknumpynet.nn.initializers import resolve_init


def _glorot_bound(fan_in, fan_out, logistic):
    # Glorot & Bengio (2010): sqrt(6 / (fan_in + fan_out)); scikit-learn uses 2
    # instead of 6 for logistic networks.
    return math.sqrt((2.0 if logistic else 6.0) / (fan_in + fan_out))


# Expected std of the weight draws, from (fan_in, fan_out, next to a logistic unit).
EXPECTED_STD = {
    "random": lambda fan_in, fan_out, logistic: 0.01,
    "xavier": lambda fan_in, fan_out, logistic: math.sqrt(1.0 / fan_in),
    "he": lambda fan_in, fan_out, logistic: math.sqrt(2.0 / fan_in),
    # U(-r, r) has std r / sqrt(3).
    "glorot_uniform": lambda fan_in, fan_out, logistic: (
        _glorot_bound(fan_in, fan_out, logistic) / math.sqrt(3)
    ),
}
# Initializers that draw weights and biases uniformly within a bound.
UNIFORM_BOUND = {"glorot_uniform": _glorot_bound}
# What "auto" resolves to before each activation and head: glorot_uniform, the
# draws of scikit-learn's MLPs, for all (until 0.3.0 it was he before the relu
# family and xavier elsewhere; benchmarks/bench_defaults.py measures why).
AUTO = "glorot_uniform"
# The hidden activations glorot_uniform narrows its bound for (scikit-learn's
# "logistic" and our name for it).
LOGISTIC = {"sigmoid", "logistic"}


def test_every_initializer_has_an_expected_scale():
    assert set(EXPECTED_STD) == set(INITIALIZERS)
    assert set(UNIFORM_BOUND) <= set(INITIALIZERS)


def test_init_options_are_auto_plus_registry():
    assert tuple(INIT_OPTIONS) == ("auto", *INITIALIZERS)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("fan_in", [50, 400])
@pytest.mark.parametrize("logistic", [False, True], ids=["plain", "logistic"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_draws_have_expected_std(name, fan_in, logistic, dtype):
    fan_out = 80_000 // fan_in
    W = np.full((fan_in, fan_out), np.nan, dtype=dtype)
    b = np.full(fan_out, np.nan, dtype=dtype)
    out = INITIALIZERS[name](W, b, np.random.default_rng(1), logistic)
    assert out is W  # filled in place
    assert W.dtype == dtype and b.dtype == dtype
    assert np.isfinite(W).all()
    expected = EXPECTED_STD[name](fan_in, fan_out, logistic)
    # 80,000 draws: the sample std is within ~0.5% of the true one.
    assert W.std() == pytest.approx(expected, rel=0.02)
    assert abs(W.mean()) < 4 * expected / np.sqrt(W.size)
    if name in UNIFORM_BOUND:
        bound = UNIFORM_BOUND[name](fan_in, fan_out, logistic)
        # Within the bound, and 80,000 uniform draws come within 0.1% of it.
        assert np.abs(W).max() <= dtype(bound)
        assert np.abs(W).max() > 0.999 * bound
        assert np.isfinite(b).all() and np.abs(b).max() <= dtype(bound)
        assert np.abs(b).max() > 0.9 * bound and len(np.unique(b)) == fan_out
    else:
        assert np.isnan(b).all()  # biases are left alone


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_same_seed_gives_identical_draws(name):
    (W1, b1), (W2, b2), (W3, b3), (W4, b4) = ((np.empty((30, 20)), np.zeros(20)) for _ in range(4))
    INITIALIZERS[name](W1, b1, np.random.default_rng(7))
    INITIALIZERS[name](W2, b2, np.random.default_rng(7))
    INITIALIZERS[name](W3, b3, np.random.default_rng(8))
    INITIALIZERS[name](W4, b4, np.random.default_rng(7), logistic=True)
    np.testing.assert_array_equal(W1, W2)
    np.testing.assert_array_equal(b1, b2)
    assert not np.array_equal(W1, W3)
    if name in UNIFORM_BOUND:
        # The same uniform stream scaled to the narrower bound.
        np.testing.assert_allclose(W4, W1 / math.sqrt(3), rtol=1e-12)
        np.testing.assert_allclose(b4, b1 / math.sqrt(3), rtol=1e-12)
    else:
        np.testing.assert_array_equal(W4, W1)  # the flag only concerns uniform bounds


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_auto_resolves_by_activation(activation):
    assert ACTIVATIONS[activation].default_init in INITIALIZERS
    assert resolve_init("auto", ACTIVATIONS[activation]) == AUTO


@pytest.mark.parametrize("head", sorted(HEADS))
def test_auto_before_a_head_is_glorot_uniform(head):
    assert HEADS[head].default_init in INITIALIZERS
    assert resolve_init("auto", HEADS[head]) == AUTO


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_explicit_init_is_kept(name, activation):
    assert resolve_init(name, ACTIVATIONS[activation]) == name


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("init", INIT_OPTIONS)
def test_mlp_initialize_scales_each_layer(activation, head, init):
    # Second hidden layer fixed to tanh: the "auto" and logistic rules are per layer.
    sizes = [300, 400, 200, 200]
    names = [activation, "tanh"]
    net = MLP(sizes, names, head)
    net.params[:] = np.nan
    net.initialize(init, np.random.default_rng(3))
    followers = [*names, None]
    for layer, (W, b) in enumerate(zip(net.coefs, net.intercepts, strict=True)):
        follower = followers[layer]
        chosen = AUTO if init == "auto" else init
        # The layer's input comes out of hidden layer l-1, its output goes into
        # hidden layer l: either being logistic narrows a glorot bound.
        logistic = (layer > 0 and names[layer - 1] in LOGISTIC) or follower in LOGISTIC
        fan_in, fan_out = W.shape
        expected = EXPECTED_STD[chosen](fan_in, fan_out, logistic)
        assert W.std() == pytest.approx(expected, rel=0.03)
        if chosen in UNIFORM_BOUND:
            bound = UNIFORM_BOUND[chosen](fan_in, fan_out, logistic)
            assert np.abs(W).max() <= bound and np.abs(W).max() > 0.99 * bound
            assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
        else:
            np.testing.assert_array_equal(b, 0.0)


def _sklearn_initial_network(activation, sizes, rng, seed):
    """scikit-learn's initial coefs_ and intercepts_ for these layer sizes.

    ``MLPClassifier._init_coef`` draws each layer's W, then b, as uniform(-r, r)
    from its RandomState with ``r = sqrt(factor / (fan_in + fan_out))``, factor 2
    for activation="logistic" and 6 otherwise.  One epoch with a step of 1e-300
    leaves those draws unchanged, so the public attributes after it hold them.
    """
    n_classes = sizes[-1] if sizes[-1] > 1 else 2
    X = rng.normal(size=(30, sizes[0]))
    y = np.arange(30) % n_classes
    clf = MLPClassifier(
        hidden_layer_sizes=sizes[1:-1],
        activation=activation,
        solver="sgd",
        learning_rate_init=1e-300,
        momentum=0.0,
        max_iter=1,
        shuffle=False,
        random_state=seed,
    )
    with pytest.warns(ConvergenceWarning, match="Stochastic Optimizer: Maximum iterations"):
        clf.fit(X, y)
    assert [W.shape[1] for W in clf.coefs_] == sizes[1:]
    return clf.coefs_, clf.intercepts_


@pytest.mark.parametrize("init", ["auto", "glorot_uniform"])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_glorot_uniform_draws_scikit_learns_initial_network(activation, init, rng):
    # A RandomState has Generator's uniform(low, high, size): handed the same
    # legacy stream, our initializer must reproduce scikit-learn's draws exactly;
    # so must the default, "auto", which is the same scheme.
    sizes = [5, 7, 6, 1]
    coefs, intercepts = _sklearn_initial_network(activation, sizes, rng, seed=42)
    net = MLP(sizes, [activation, activation], "sigmoid")
    net.initialize(init, np.random.RandomState(42))
    for ours, theirs in zip(net.coefs + net.intercepts, coefs + intercepts, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0)


@pytest.mark.parametrize("activation", ["logistic", "relu"])
def test_glorot_uniform_range_follows_scikit_learn_with_a_generator(activation, rng):
    # With our own Generator the draws differ, but each layer's range and spread
    # must match those of scikit-learn's draws for the same layer sizes.
    sizes = [400, 300, 200, 10]
    coefs, intercepts = _sklearn_initial_network(activation, sizes, rng, seed=0)
    net = MLP(sizes, [activation, activation], "softmax")
    net.initialize("glorot_uniform", np.random.default_rng(0))
    for W, b, W_ref, b_ref in zip(net.coefs, net.intercepts, coefs, intercepts, strict=True):
        # Thousands of uniform draws reach within ~0.1% of the bound.
        assert np.abs(W).max() == pytest.approx(np.abs(W_ref).max(), rel=5e-3)
        assert W.std() == pytest.approx(W_ref.std(), rel=0.05)
        assert np.abs(b).max() <= np.abs(W_ref).max() * (1 + 5e-3)
        assert np.abs(b_ref).max() <= np.abs(W).max() * (1 + 5e-3)


@pytest.mark.parametrize("init", INIT_OPTIONS)
def test_float32_network_is_the_float64_draws_cast(init):
    nets = {
        dtype: MLP([6, 5, 4, 3], ["relu", "logistic"], "softmax", dtype=dtype)
        for dtype in (np.float32, np.float64)
    }
    for net in nets.values():
        net.initialize(init, np.random.default_rng(11))
    assert nets[np.float32].params.dtype == np.float32
    np.testing.assert_array_equal(
        nets[np.float32].params, nets[np.float64].params.astype(np.float32)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_initialize_is_reproducible_and_keeps_dtype(dtype):
    nets = [MLP([6, 5, 4, 3], ["relu", "sigmoid"], "softmax", dtype=dtype) for _ in range(3)]
    for net, seed in zip(nets, [0, 0, 1], strict=True):
        net.initialize("auto", np.random.default_rng(seed))
    assert nets[0].params.dtype == dtype
    np.testing.assert_array_equal(nets[0].params, nets[1].params)
    assert not np.array_equal(nets[0].params, nets[2].params)
    # "auto" is glorot_uniform, which draws the biases too (distinct, within the bound).
    biases = nets[0].intercepts
    assert all(len(np.unique(b)) == b.size for b in biases)
    for W, b in zip(nets[0].coefs, biases, strict=True):
        assert np.abs(b).max() <= np.sqrt(6.0 / sum(W.shape))


def test_an_initializer_registered_later_is_accepted_by_name(monkeypatch):
    # INIT_OPTIONS was a tuple built at import: the estimators refused an
    # initializer registered afterwards from the user's own code.
    from sknumpynet import ScratchMLPClassifier

    def lecun_uniform(W, b, rng, logistic):
        bound = np.sqrt(3.0 / W.shape[0])
        W[...] = rng.uniform(-bound, bound, W.shape)
        return W

    monkeypatch.setitem(INITIALIZERS, "lecun_uniform", lecun_uniform)
    assert "lecun_uniform" in INIT_OPTIONS and list(INIT_OPTIONS)[-1] == "lecun_uniform"
    X = np.random.default_rng(0).normal(size=(40, 3))
    clf = ScratchMLPClassifier(hidden_layer_sizes=(4,), init="lecun_uniform", max_iter=2)
    clf.fit(X, X[:, 0] > 0)
    assert np.abs(clf.coefs_[0]).max() > 0
    with pytest.raises(ValueError, match="'lecun_uniform'"):
        ScratchMLPClassifier(init="nope").fit(X, X[:, 0] > 0)
