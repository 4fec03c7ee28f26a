"""sknumpynet.nn.memory: cache-line aligned arrays, and the fit's arrays use them."""

import numpy as np
import pytest

from sknumpynet import ScratchMLPClassifier
from sknumpynet.nn.memory import CACHE_LINE, aligned_copy, aligned_empty, aligned_zeros


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize("shape", [1, 7, (3, 5), (128, 784)])
def test_aligned_arrays_start_on_a_cache_line(shape, dtype):
    for make in (aligned_empty, aligned_zeros):
        a = make(shape, dtype)
        assert a.ctypes.data % CACHE_LINE == 0
        assert a.shape == ((shape,) if np.ndim(shape) == 0 else shape)
        assert a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
    assert not aligned_zeros(shape, dtype).any()


def test_aligned_copy_is_an_equal_independent_array():
    src = np.arange(24, dtype=np.float32).reshape(4, 6)[:, ::2]  # not contiguous
    out = aligned_copy(src)
    np.testing.assert_array_equal(out, src)
    assert out.ctypes.data % CACHE_LINE == 0 and out.flags.c_contiguous
    out[0, 0] = -1
    assert src[0, 0] == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_fit_trains_on_aligned_weights_and_state(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 13)).astype(dtype)
    y = rng.integers(0, 3, size=90)
    clf = ScratchMLPClassifier(hidden_layer_sizes=(7,), max_iter=2, random_state=0)
    for fit in (clf.fit, clf.partial_fit):  # fresh weights, then a copy of them
        fit(X, y)
        # coefs_[0] starts the flat weight vector; m and s are Adam's moments.
        assert clf.coefs_[0].ctypes.data % CACHE_LINE == 0
        for name in ("m", "s"):
            assert clf._optimizer_state[name].ctypes.data % CACHE_LINE == 0
