"""The private scikit-learn helper behind ``check_sample_weight`` behaves as the
estimator relies on, with the installed (newest) scikit-learn; the class weights
of ``balanced_class_weight`` are scikit-learn's on every supported version."""

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from sknumpynet import _sklearn_compat
from sknumpynet._sklearn_compat import check_sample_weight


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def X(request):
    return np.zeros((5, 3), dtype=request.param)


@pytest.mark.parametrize(
    "sample_weight",
    [
        np.ones(4),
        np.ones(6),
        np.ones((5, 1)),
        np.ones((5, 2)),
        [1.0, 2.0, -0.5, 1.0, 1.0],
        -1.0,
        [1.0, np.nan, 1.0, 1.0, 1.0],
        [1.0, np.inf, 1.0, 1.0, 1.0],
        np.zeros(5),
        0.0,
        ["a", "b", "c", "d", "e"],
    ],
    ids=[
        "too-short",
        "too-long",
        "column",
        "2d",
        "negative",
        "negative-scalar",
        "nan",
        "inf",
        "all-zero",
        "zero-scalar",
        "strings",
    ],
)
def test_invalid_sample_weight_raises_naming_it(sample_weight, X):
    with pytest.raises(ValueError, match="sample_weight"):
        check_sample_weight(sample_weight, X)


def test_none_gives_ones_in_the_dtype_of_X(X):
    sw = check_sample_weight(None, X)
    assert sw.dtype == X.dtype
    np.testing.assert_array_equal(sw, np.ones(5))


@pytest.mark.parametrize(
    "sample_weight",
    [[1, 2, 0, 3, 1], np.array([0.5, 1.0, 0.0, 2.0, 1.0], dtype=np.float64), np.arange(5.0)],
)
def test_dtype_follows_X_and_values_are_kept(sample_weight, X):
    sw = check_sample_weight(sample_weight, X)
    assert sw.dtype == X.dtype
    assert sw.shape == (5,)
    np.testing.assert_array_equal(sw, np.asarray(sample_weight, dtype=X.dtype))


def test_scalar_is_broadcast(X):
    sw = check_sample_weight(2.5, X)
    assert sw.dtype == X.dtype
    np.testing.assert_array_equal(sw, np.full(5, 2.5))


def test_some_zero_weights_are_allowed(X):
    sw = check_sample_weight([0, 0, 0, 0, 1e-3], X)
    assert sw.dtype == X.dtype
    np.testing.assert_array_equal(sw, np.array([0, 0, 0, 0, 1e-3], dtype=X.dtype))


@pytest.mark.parametrize("weighted_counts", [True, False], ids=["sklearn>=1.7", "sklearn-1.6"])
def test_balanced_class_weight_counts_weighted_rows(weighted_counts, monkeypatch):
    # scikit-learn 1.6's compute_class_weight takes no sample_weight; the
    # shim's own formula must give what 1.7 and later compute.
    monkeypatch.setattr(_sklearn_compat, "_WEIGHTED_CLASS_COUNTS", weighted_counts)
    rng = np.random.default_rng(0)
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, size=40)]
    sample_weight = rng.uniform(0.1, 3.0, size=40)
    classes = np.unique(y)
    np.testing.assert_allclose(
        _sklearn_compat.balanced_class_weight(classes, y, sample_weight),
        compute_class_weight("balanced", classes=classes, y=y, sample_weight=sample_weight),
        rtol=1e-14,
    )
