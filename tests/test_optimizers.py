"""Optimizers: each update against its formula worked by hand and against
scikit-learn's optimizers, state and dtype.

Parametrized over the keys of ``OPTIMIZERS`` that take steps; a new step
optimizer also needs a reference update in ``REFERENCE``
(``test_every_optimizer_has_a_reference``).  Entries without ``step`` (L-BFGS)
drive a whole fit themselves and are tested in ``test_lbfgs.py``.
"""

import math
from decimal import Decimal

import numpy as np
import pytest
from _shared import STEP_OPTIMIZERS
from sklearn.exceptions import ConvergenceWarning

# Private scikit-learn module, imported here only, as an outside reference for
# the momentum, Nesterov and Adam updates (the public MLP estimators do not
# expose single steps).
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer, SGDOptimizer

from sknumpynet.nn import OPTIMIZERS, Optimizer

NAMES = STEP_OPTIMIZERS
WHOLE_FIT = sorted(set(OPTIMIZERS) - set(STEP_OPTIMIZERS))
LR = 0.1
# Large decays and epsilon so that a misplaced factor changes the result.
HYPER = {"momentum": 0.8, "rho": 0.7, "beta_1": 0.6, "beta_2": 0.75, "epsilon": 0.05}


def _plain(w, g, s, t):
    return w - LR * g


def _momentum(w, g, s, t):
    b = HYPER["momentum"]
    s["v"] = b * s.get("v", 0.0) + (1 - b) * g
    return w - LR * s["v"]


def _nesterov(w, g, s, t):
    b = HYPER["momentum"]
    s["v"] = b * s.get("v", 0.0) + (1 - b) * g
    return w - LR * (b * s["v"] + (1 - b) * g)


def _rmsprop(w, g, s, t):
    rho, eps = HYPER["rho"], HYPER["epsilon"]
    s["sq"] = rho * s.get("sq", 0.0) + (1 - rho) * g**2
    return w - LR * g / (np.sqrt(s["sq"]) + eps)


def _adam(w, g, s, t):
    # Kingma & Ba's section 2 form (scikit-learn's): eps added to sqrt(s), the
    # bias corrections folded into the step size.
    b1, b2, eps = HYPER["beta_1"], HYPER["beta_2"], HYPER["epsilon"]
    s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
    s["s"] = b2 * s.get("s", 0.0) + (1 - b2) * g**2
    lr_t = LR * np.sqrt(1 - b2**t) / (1 - b1**t)
    return w - lr_t * s["m"] / (np.sqrt(s["s"]) + eps)


REFERENCE = {
    "gd": _plain,
    "sgd": _plain,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "rmsprop": _rmsprop,
    "adam": _adam,
}

W0 = np.array([0.5, -1.0, 2.0])
GRADS = [np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -1.5]), np.array([-0.7, 0.0, 0.2])]


def _make(name):
    cls = OPTIMIZERS[name]
    return cls(LR, **{h: HYPER[h] for h in cls.hyperparameters})


def test_every_optimizer_has_a_reference():
    assert set(REFERENCE) == set(NAMES)
    assert set(NAMES) | set(WHOLE_FIT) == set(OPTIMIZERS)


@pytest.mark.parametrize("name", WHOLE_FIT)
def test_whole_fit_optimizers_are_full_batch_and_not_stepwise(name):
    cls = OPTIMIZERS[name]
    # Built like every other entry, but run over the whole training set at once.
    opt = cls(LR, **{h: HYPER[h] for h in cls.hyperparameters})
    assert callable(opt.run)
    assert cls.full_batch and not cls.stepwise


@pytest.mark.parametrize("name", NAMES)
def test_stepwise_optimizers_take_steps(name):
    assert callable(getattr(OPTIMIZERS[name], "step", None))


@pytest.mark.parametrize("name", WHOLE_FIT)
def test_whole_fit_optimizers_take_no_steps(name):
    assert not hasattr(OPTIMIZERS[name], "step")


def _random_gradients(rng, n_steps=6, size=(4, 3)):
    return [rng.normal(scale=2.0, size=size) for _ in range(n_steps)]


@pytest.mark.parametrize(("name", "nesterov"), [("momentum", False), ("nesterov", True)])
@pytest.mark.parametrize("momentum", [0.5, 0.9])
def test_momentum_matches_scikit_learn(name, nesterov, momentum, rng):
    # (The rate lr' = lr (1 - mu) is the one sklearn_equivalent maps to, checked
    # in test_sklearn_mlp.py's test_settings_carry_over.)
    # scikit-learn keeps u = mu u - lr' g (velocity in step units); with
    # lr' = lr (1 - mu) that is u = -lr v for our averaged velocity v, and
    # u = -lr' V for the sum V = mu V + g that our state stores.
    lr = 0.3
    w0 = rng.normal(size=(4, 3))
    opt = OPTIMIZERS[name](lr, momentum=momentum)
    w = w0.ravel().copy()
    state = opt.init_state(w)
    ref_params = [w0.copy()]
    ref = SGDOptimizer(
        ref_params,
        learning_rate_init=lr * (1 - momentum),
        lr_schedule="constant",
        momentum=momentum,
        nesterov=nesterov,
    )
    for g in _random_gradients(rng):
        opt.step(w, g.ravel().copy(), state)
        ref.update_params(ref_params, [g])
        np.testing.assert_allclose(w.reshape(w0.shape), ref_params[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(
            -lr * (1 - momentum) * state["velocity"].reshape(w0.shape),
            ref.velocities[0],
            rtol=1e-12,
        )
    assert not np.allclose(w, w0.ravel())


@pytest.mark.parametrize("epsilon", [1e-12, 1e-8, 0.05])
def test_adam_matches_scikit_learn(epsilon, rng):
    # Both add epsilon to sqrt(v) before the bias correction of the step size
    # (the "epsilon hat" form of Kingma & Ba, section 2): the same steps for any
    # epsilon, large ones included.
    lr, b1, b2 = 0.01, 0.8, 0.95
    w0 = rng.normal(size=(4, 3))
    opt = OPTIMIZERS["adam"](lr, beta_1=b1, beta_2=b2, epsilon=epsilon)
    w = w0.ravel().copy()
    state = opt.init_state(w)
    ref_params = [w0.copy()]
    ref = AdamOptimizer(ref_params, learning_rate_init=lr, beta_1=b1, beta_2=b2, epsilon=epsilon)
    for g in _random_gradients(rng):
        opt.step(w, g.ravel().copy(), state)
        ref.update_params(ref_params, [g])
        np.testing.assert_allclose(w.reshape(w0.shape), ref_params[0], rtol=1e-12, atol=1e-14)
        # Our state holds the sums M, S of which scikit-learn's moments are the
        # averages (1 - b1) M and (1 - b2) S.
        m, s = ((1 - b) * state[k].reshape(w0.shape) for k, b in (("m", b1), ("s", b2)))
        np.testing.assert_allclose(m, ref.ms[0], rtol=1e-12)
        np.testing.assert_allclose(s, ref.vs[0], rtol=1e-12)


def test_adam_first_step_by_hand():
    # t=1: m = (1 - b1) g, s = (1 - b2) g**2 and the step size is
    # lr sqrt(1 - b2) / (1 - b1), so the step is lr g / (|g| + eps / sqrt(1 - b2)).
    opt = _make("adam")
    w = W0.copy()
    opt.step(w, GRADS[0].copy(), opt.init_state(w))
    eps_hat = HYPER["epsilon"] / math.sqrt(1 - HYPER["beta_2"])
    np.testing.assert_allclose(w, W0 - LR * GRADS[0] / (np.abs(GRADS[0]) + eps_hat), rtol=1e-12)


def test_momentum_two_steps_by_hand():
    # v1 = 0.2 g1, v2 = 0.8 v1 + 0.2 g2 with lr = 0.1.
    opt = _make("momentum")
    w = W0.copy()
    state = opt.init_state(w)
    opt.step(w, GRADS[0].copy(), state)
    opt.step(w, GRADS[1].copy(), state)
    v1 = 0.2 * GRADS[0]
    v2 = 0.8 * v1 + 0.2 * GRADS[1]
    np.testing.assert_allclose(w, W0 - 0.1 * v1 - 0.1 * v2, rtol=1e-12)
    # The state keeps the weighted sum V = 0.8 g1 + g2, of which v2 is 0.2 V.
    np.testing.assert_allclose(state["velocity"], 0.8 * GRADS[0] + GRADS[1], rtol=1e-12)
    np.testing.assert_allclose(0.2 * state["velocity"], v2, rtol=1e-12)


def test_rmsprop_two_steps_by_hand():
    # PyTorch's documented RMSprop (torch.optim.RMSprop, alpha = rho, no momentum,
    # not centered), the form of Tieleman & Hinton's lecture 6e with eps added
    # outside the root: v_0 = 0, v_t = rho v_{t-1} + (1 - rho) g_t**2,
    # w_t = w_{t-1} - lr g_t / (sqrt(v_t) + eps), no bias correction. With
    # rho = 0.7, eps = 0.05, lr = 0.1, worked by hand:
    #   v1 = 0.3 g1**2 = [0.3, 1.2, 0.075]
    #   w1 = [0.5 - 0.1/(0.547723 + 0.05), -1 + 0.2/(1.095445 + 0.05),
    #         2 - 0.05/(0.273861 + 0.05)] = [0.332698, -0.825395, 1.845613]
    #   v2 = 0.7 v1 + 0.3 g2**2 = [0.237, 0.843, 0.7275]
    #   w2 = w1 - 0.1 g2 / (sqrt(v2) + 0.05)
    #      = [0.332698 - 0.03/0.536826, -0.825395 - 0.01/0.968150,
    #         1.845613 + 0.15/0.902936] = [0.276814, -0.835724, 2.011738]
    assert (HYPER["rho"], HYPER["epsilon"], LR) == (0.7, 0.05, 0.1)
    opt = _make("rmsprop")
    w = W0.copy()
    state = opt.init_state(w)
    opt.step(w, GRADS[0].copy(), state)
    np.testing.assert_allclose(w, [0.332698, -0.825395, 1.845613], atol=2e-6)
    opt.step(w, GRADS[1].copy(), state)
    np.testing.assert_allclose(w, [0.276814, -0.835724, 2.011738], atol=2e-6)
    # The state keeps the sum S = 0.7 g1**2 + g2**2, of which v2 is 0.3 S.
    np.testing.assert_allclose(0.3 * state["square_avg"], [0.237, 0.843, 0.7275], rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_three_steps_match_the_formula(name):
    opt = _make(name)
    w = W0.copy()
    state = opt.init_state(w)
    expected, ref_state = W0.copy(), {}
    for t, g in enumerate(GRADS, start=1):
        expected = REFERENCE[name](expected, g, ref_state, t)
        opt.step(w, g.copy(), state)
        assert state["t"] == t
        np.testing.assert_allclose(w, expected, rtol=1e-12, atol=1e-15)


DECAYING = [name for name in NAMES if OPTIMIZERS[name].decays]


@pytest.mark.parametrize("name", NAMES)
def test_decays_name_state_arrays_and_hyperparameters(name):
    cls = OPTIMIZERS[name]
    assert set(cls.decays) <= set(cls.state_names)
    assert set(cls.decays.values()) <= set(cls.hyperparameters)


# The power of the gradient that each decaying state array sums, by its name.
SUMMED_POWER = {"velocity": 1, "m": 1, "square_avg": 2, "s": 2}


@pytest.mark.parametrize("name", DECAYING)
def test_decaying_state_holds_weighted_sums(name):
    # After g1, g2, g3 each such array is b**2 x1 + b x2 + x3, by hand, with x
    # the gradient or its square.
    opt = _make(name)
    w = W0.copy()
    state = opt.init_state(w)
    for g in GRADS:
        opt.step(w, g.copy(), state)
    for array, rate in type(opt).decays.items():
        b = HYPER[rate]
        x1, x2, x3 = (g ** SUMMED_POWER[array] for g in GRADS)
        np.testing.assert_allclose(state[array], b * b * x1 + b * x2 + x3, rtol=1e-12)


@pytest.mark.parametrize("name", DECAYING)
def test_state_from_averages_continues_the_reference(name):
    # State saved as averages (the reference's own, as scikit-learn and
    # sknumpynet before 0.3.0 keep it) continues exactly after conversion.
    cls = OPTIMIZERS[name]
    expected, ref_state = W0.copy(), {}
    for t, g in enumerate(GRADS[:2], start=1):
        expected = REFERENCE[name](expected, g, ref_state, t)
    names = {"v": "velocity", "sq": "square_avg", "m": "m", "s": "s"}  # the reference's
    state = {"t": 2, **{names[k]: np.array(v) for k, v in ref_state.items()}}
    cls.state_from_averages(state, HYPER)
    w = expected.copy()
    _make(name).step(w, GRADS[2].copy(), state)
    np.testing.assert_allclose(w, REFERENCE[name](expected, GRADS[2], ref_state, 3), rtol=1e-12)


@pytest.mark.parametrize("name", DECAYING)
def test_rescaled_sums_continue_the_averages_at_new_rates(name, monkeypatch):
    # Two steps at the old rates, then the rates change (a partial_fit after
    # set_params): the reference's averages simply carry on at the new rates.
    expected, ref_state = W0.copy(), {}
    for t, g in enumerate(GRADS[:2], start=1):
        expected = REFERENCE[name](expected, g, ref_state, t)
    opt, w = _make(name), W0.copy()
    state = opt.init_state(w)
    for g in GRADS[:2]:
        opt.step(w, g.copy(), state)
    old = {rate: HYPER[rate] for rate in type(opt).decays.values()}
    for rate in old:
        monkeypatch.setitem(HYPER, rate, 1 - (1 - HYPER[rate]) / 3)  # closer to 1
    changed = _make(name)
    changed.rescale_sums(state, old)
    changed.step(w, GRADS[2].copy(), state)
    np.testing.assert_allclose(w, REFERENCE[name](expected, GRADS[2], ref_state, 3), rtol=1e-12)


def test_rescale_sums_leaves_unchanged_rates_alone():
    opt, w = _make("adam"), W0.copy()
    state = opt.init_state(w)
    opt.step(w, GRADS[0].copy(), state)
    before = {k: v.copy() for k, v in state.items() if k != "t"}
    opt.rescale_sums(state, {"beta_1": HYPER["beta_1"]})  # beta_2 missing: unchanged
    for k, v in before.items():
        np.testing.assert_array_equal(state[k], v)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_arrays_are_aligned_with_params(name, dtype):
    opt = _make(name)
    w = W0.astype(dtype)
    state = opt.init_state(w)
    assert state["t"] == 0
    arrays = {k: v for k, v in state.items() if k != "t"}
    assert set(arrays) == set(type(opt).state_names)
    for value in arrays.values():
        assert value.shape == w.shape and value.dtype == dtype
        assert not np.shares_memory(value, w)
        np.testing.assert_array_equal(value, 0)
    opt.step(w, GRADS[0].astype(dtype), state)
    assert w.dtype == dtype
    for value in arrays.values():
        assert value.dtype == dtype


@pytest.mark.parametrize("name", NAMES)
def test_float32_steps_agree_with_float64(name):
    opt32, opt64 = _make(name), _make(name)
    w32, w64 = W0.astype(np.float32), W0.copy()
    s32, s64 = opt32.init_state(w32), opt64.init_state(w64)
    for g in GRADS:
        opt32.step(w32, g.astype(np.float32), s32)
        opt64.step(w64, g.copy(), s64)
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, w64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_only_step_changes_the_weights(name):
    opt = _make(name)
    w = W0.copy()
    state = opt.init_state(w)
    np.testing.assert_array_equal(w, W0)
    opt.step(w, np.zeros_like(w), state)
    # A zero gradient moves nothing: no optimizer has a drift of its own.
    np.testing.assert_array_equal(w, W0)
    opt.step(w, GRADS[0].copy(), state)
    assert not np.array_equal(w, W0)


@pytest.mark.parametrize("name", NAMES)
def test_registry_entries_are_optimizers(name):
    cls = OPTIMIZERS[name]
    assert issubclass(cls, Optimizer)
    assert cls.full_batch == (name == "gd")
    opt = _make(name)
    assert opt.learning_rate == LR
    for h in cls.hyperparameters:
        assert getattr(opt, h) == HYPER[h]


class _SignSGD(OPTIMIZERS["sgd"]):
    """A new rule for the registry test: ``w -= lr sign(g)``."""

    default_learning_rate = 0.01

    def step(self, w, g, state):
        state["t"] += 1
        w -= self.learning_rate * np.sign(g)

    @classmethod
    def sklearn_settings(cls, hyperparameters):
        return {"momentum": 0.0}, "has no sign-SGD; it uses plain sgd"


def test_a_registered_optimizer_needs_nothing_but_its_entry(monkeypatch):
    # Validation, fit, partial_fit and the mapping to scikit-learn all read the
    # registry: one entry is the whole of a new optimizer.
    from sklearn.datasets import load_iris

    from sknumpynet import ScratchMLPClassifier
    from sknumpynet._sklearn_mlp import sklearn_equivalent

    monkeypatch.setitem(OPTIMIZERS, "signsgd", _SignSGD)
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    est = ScratchMLPClassifier(
        optimizer="signsgd", learning_rate_init=0.01, batch_size=16, max_iter=30, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        est.fit(X, y)
    assert est.score(X, y) > 0.8
    est.partial_fit(X, y)
    mlp, notes = sklearn_equivalent(est)
    assert mlp.solver == "sgd" and mlp.momentum == 0.0
    assert any("sign-SGD" in note for note in notes)
    with pytest.raises(ValueError, match="'signsgd'"):  # named among the allowed values
        ScratchMLPClassifier(optimizer="bogus").fit(X, y)


@pytest.mark.parametrize("name", NAMES)
def test_learning_rate_auto_is_each_optimizers_default(name):
    from sklearn.datasets import load_iris

    from sknumpynet import ScratchMLPClassifier

    X, y = load_iris(return_X_y=True)
    est = ScratchMLPClassifier(optimizer=name, max_iter=2, hidden_layer_sizes=(4,))
    assert est.learning_rate_init == "auto"
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        est.fit(X, y)
    assert est.learning_rates_ == [OPTIMIZERS[name].default_learning_rate] * 2
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        est.set_params(learning_rate_init=0.25).fit(X, y)
    assert est.learning_rates_ == [0.25, 0.25]


def test_the_default_momentum_steps_are_scikit_learns_default_sgd():
    # scikit-learn's solver="sgd" defaults (learning_rate_init 0.001, momentum
    # 0.9, Nesterov) are exactly our nesterov at learning_rate_init="auto".
    from sklearn.neural_network import MLPClassifier

    from sknumpynet import ScratchMLPClassifier
    from sknumpynet._sklearn_mlp import sklearn_equivalent

    theirs = MLPClassifier(solver="sgd")
    mlp, _ = sklearn_equivalent(ScratchMLPClassifier(optimizer="nesterov"))
    for name in ("solver", "learning_rate_init", "momentum", "nesterovs_momentum"):
        assert mlp.get_params()[name] == pytest.approx(theirs.get_params()[name]), name


# ---- construction and step checks -------------------------------------------

WITH_HYPERPARAMETERS = [name for name in NAMES if OPTIMIZERS[name].hyperparameters]
DECAY_RATES = sorted((name, rate) for name in NAMES for rate in OPTIMIZERS[name].decays.values())


@pytest.mark.parametrize("name", WITH_HYPERPARAMETERS)
def test_a_missing_hyperparameter_is_named(name):
    cls = OPTIMIZERS[name]
    with pytest.raises(TypeError, match=rf"{cls.__name__} needs the hyperparameters .*missing"):
        cls(LR)


@pytest.mark.parametrize("name", NAMES)
def test_an_unknown_hyperparameter_is_refused(name):
    cls = OPTIMIZERS[name]
    hyper = {h: HYPER[h] for h in cls.hyperparameters}
    with pytest.raises(TypeError, match=r"only; got unknown \['amsgrad'\]"):
        cls(LR, amsgrad=True, **hyper)


@pytest.mark.parametrize(("name", "rate"), DECAY_RATES)
@pytest.mark.parametrize("value", [1, 1.5, -0.1, np.nan, np.inf])
def test_decay_rates_outside_0_1_are_refused(name, rate, value):
    # At 1 Adam's and RMSProp's first step divided by 1 - b = 0
    # (ZeroDivisionError); momentum's velocity never left 0.
    cls = OPTIMIZERS[name]
    hyper = {**{h: HYPER[h] for h in cls.hyperparameters}, rate: value}
    with pytest.raises(ValueError, match=rf"{rate} must be a finite real number >= 0 and < 1"):
        cls(LR, **hyper)


@pytest.mark.parametrize("name", [n for n in NAMES if "epsilon" in OPTIMIZERS[n].hyperparameters])
@pytest.mark.parametrize("value", [0.0, -1e-8, np.nan, np.inf])
def test_epsilon_must_be_a_finite_positive_number(name, value):
    # At 0 a gradient entry of exactly 0 (a dead unit, an always-zero feature)
    # made its weight NaN at the first step: 0 / (sqrt(0) + 0).
    cls = OPTIMIZERS[name]
    hyper = {**{h: HYPER[h] for h in cls.hyperparameters}, "epsilon": value}
    with pytest.raises(ValueError, match="epsilon must be a finite real number > 0"):
        cls(LR, **hyper)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "make", [np.float32, np.array, Decimal], ids=["numpy scalar", "0-d array", "Decimal"]
)
def test_any_real_scalar_is_read_as_its_float(name, make):
    # A 0-d array or a Decimal was refused as "not a finite number > 0".
    cls = OPTIMIZERS[name]
    hyper = {
        h: make(str(HYPER[h])) if make is Decimal else make(HYPER[h]) for h in cls.hyperparameters
    }
    lr = make("0.5") if make is Decimal else make(0.5)
    opt = cls(lr, **hyper)
    assert opt.learning_rate == 0.5
    for h in cls.hyperparameters:
        assert getattr(opt, h) == pytest.approx(HYPER[h], rel=1e-7)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("value", ["nan", np.nan, np.inf, 0.0, -0.1, True, None])
def test_learning_rate_must_be_a_finite_positive_number(name, value):
    cls = OPTIMIZERS[name]
    with pytest.raises(ValueError, match="learning_rate must be a finite real number > 0"):
        cls(value, **{h: HYPER[h] for h in cls.hyperparameters})


@pytest.mark.parametrize("name", NAMES)
def test_a_gradient_of_another_shape_is_refused_not_broadcast(name):
    opt = _make(name)
    w = W0.copy()
    state = opt.init_state(w)
    with pytest.raises(ValueError, match=r"g must have the shape of w, \(3,\); got \(1,\)"):
        opt.step(w, np.ones(1), state)
    np.testing.assert_array_equal(w, W0)
    assert state["t"] == 0
