"""Arrays that start on a cache line.

NumPy aligns a new array to 16 bytes.  The training loop's long vectors (the
flat parameters, their gradient, the optimizer state) and its batch buffers
are streamed by element-wise ufuncs whose vector loads are as wide as a cache
line on AVX-512 cores (64 bytes): from an address 16 or 48 bytes past a line,
every load straddles two lines.  Measured on the Intel Xeon of
``docs/benchmarks.rst`` (float32, 101,770 parameters), one Adam update took 10
to 15% longer from such an address than from a line boundary.  The arrays
below start on a 64-byte boundary; nothing else about them differs from
:func:`numpy.empty` / :func:`numpy.zeros`.
"""

import numpy as np

CACHE_LINE = 64


def aligned_empty(shape, dtype):
    """Uninitialised C-contiguous array whose data starts on a cache line.

    Parameters
    ----------
    shape : int or tuple of int
    dtype : data-type

    Returns
    -------
    ndarray of shape ``shape``
        A view into a slightly larger byte buffer (its ``base``).
    """
    dtype = np.dtype(dtype)
    shape = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + CACHE_LINE, dtype=np.uint8)
    start = -raw.ctypes.data % CACHE_LINE
    return raw[start : start + nbytes].view(dtype).reshape(shape)


def aligned_zeros(shape, dtype):
    """:func:`aligned_empty`, filled with zeros (the same parameters and result)."""
    out = aligned_empty(shape, dtype)
    out[...] = 0
    return out


def aligned_copy(a):
    """A C-contiguous, cache-line aligned copy of ``a``.

    Parameters
    ----------
    a : ndarray of any shape
        Copied, not changed; any layout.

    Returns
    -------
    ndarray of the same shape and dtype as ``a``
        A new array, a view into a slightly larger byte buffer (its ``base``),
        as :func:`aligned_empty`.
    """
    out = aligned_empty(a.shape, a.dtype)
    out[...] = a
    return out
