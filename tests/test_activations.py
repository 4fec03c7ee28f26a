"""Hidden activations: forward math, derivative from the output, in place, dtype.

Every test is parametrized over the keys of ``ACTIVATIONS``, so a new entry is
tested as soon as it is registered; ``REFERENCE`` must then get its formula too
(``test_every_activation_has_a_reference`` fails until it does).
"""

import warnings

import numpy as np
import pytest

from sknumpynet.nn import ACTIVATIONS
from sknumpynet.nn.activations import LEAKY_SLOPE, sigmoid

NAMES = sorted(ACTIVATIONS)

# Naive float64 formulas, written independently of the package.
REFERENCE = {
    "identity": lambda z: z,
    "relu": lambda z: np.where(z > 0, z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "tanh": lambda z: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
}


def _pre_activations(rng, shape=(7, 5), dtype=np.float64):
    """Moderate values kept at least 0.05 away from the kinks at 0."""
    Z = rng.uniform(0.05, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return Z.astype(dtype)


def test_every_activation_has_a_reference():
    assert set(REFERENCE) == set(ACTIVATIONS)


def test_logistic_is_scikit_learns_name_for_sigmoid():
    # The alias shares the class, so grids written for MLPClassifier carry over.
    assert ACTIVATIONS["logistic"] is ACTIVATIONS["sigmoid"]
    assert ACTIVATIONS["sigmoid"].logistic
    assert not any(getattr(ACTIVATIONS[name], "logistic", False) for name in ("relu", "tanh"))


def test_leaky_slope_is_one_hundredth():
    assert LEAKY_SLOPE == 0.01
    Z = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    np.testing.assert_allclose(
        ACTIVATIONS["leaky_relu"].forward(Z), [[-0.02, -0.005, 0.0, 0.5, 2.0]]
    )


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_formula(name, rng):
    Z = _pre_activations(rng)
    expected = REFERENCE[name](Z.copy())
    np.testing.assert_allclose(ACTIVATIONS[name].forward(Z.copy()), expected, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_is_in_place_and_keeps_dtype(name, dtype, rng):
    Z = _pre_activations(rng, dtype=dtype)
    original = Z.copy()
    A = ACTIVATIONS[name].forward(Z)
    assert A.dtype == dtype
    # The result lives in Z's memory (identity returns Z itself).
    assert np.shares_memory(A, Z)
    np.testing.assert_allclose(
        Z, REFERENCE[name](original.astype(np.float64)), rtol=1e-5 if dtype == np.float32 else 1e-12
    )


@pytest.mark.parametrize("name", NAMES)
def test_backprop_from_output_matches_finite_difference(name, rng):
    act = ACTIVATIONS[name]
    Z = _pre_activations(rng)
    h = 1e-6
    numeric = (act.forward(Z + h) - act.forward(Z - h)) / (2 * h)
    A = act.forward(Z.copy())
    upstream = rng.standard_normal(Z.shape)
    delta = upstream.copy()
    out = act.backprop(A, delta)
    np.testing.assert_allclose(out, upstream * numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backprop_is_in_place_and_keeps_dtype(name, dtype, rng):
    act = ACTIVATIONS[name]
    A = act.forward(_pre_activations(rng, dtype=dtype))
    A_before = A.copy()
    delta = rng.standard_normal(A.shape).astype(dtype)
    out = act.backprop(A, delta)
    assert out.dtype == dtype
    assert np.shares_memory(out, delta)
    # Backprop reads the output, it never changes it.
    np.testing.assert_array_equal(A, A_before)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_stay_finite_without_warnings(name, dtype):
    Z = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        A = ACTIVATIONS[name].forward(Z.copy())
        delta = ACTIVATIONS[name].backprop(A, np.ones_like(A))
    assert np.isfinite(A).all()
    assert np.isfinite(delta).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_sigmoid_saturates_cleanly(dtype):
    Z = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        P = sigmoid(Z)
    assert P.dtype == dtype
    assert P[0] == 0.0 and P[-1] == 1.0
    assert P[2] == 0.5
    np.testing.assert_allclose(P, 1 / (1 + np.exp(-Z.astype(np.float64).clip(-50, 50))), atol=1e-7)
    assert np.all(np.diff(P) >= 0)
