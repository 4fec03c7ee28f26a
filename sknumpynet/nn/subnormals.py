"""Subnormal floats: why training flushes them to zero, and how.

A float below the smallest *normal* number (``np.finfo(dtype).tiny``, about
``1.2e-38`` in float32 and ``2.2e-308`` in float64) but above zero is
*subnormal*: it has fewer significant bits, and on many CPUs (Intel cores in
particular) every arithmetic operation that reads or produces one takes a slow
microcode path, tens of times slower than the same operation on normal floats.

Training makes them.  A weight that no data gradient reaches (one fed by an
input that is zero in every row, such as the border pixels of MNIST) is only
pulled towards zero by the L2 penalty, so it and the optimizer state next to it
(Adam's ``m`` and ``s``, RMSProp's running square, the momentum velocity)
shrink geometrically, step after step, until they are subnormal, and then they
*stay* there: ``0.9 * 1.4e-45`` rounds back to ``1.4e-45`` in float32.  From
then on every optimizer step, and every product that reads those weights, runs
slowly, and an epoch can take half as long again as the first ones.

The fix needs neither compiled code nor the CPU's flush-to-zero flags (which
are process-wide and would change the user's own arithmetic):
:func:`flush_subnormals` sets the subnormal entries of an array to zero, in
place, and leaves every other value, zeros and signs included, as it was.  The
optimizers call it on the weights and their state arrays every
``FLUSH_EVERY`` steps and at the end of every epoch (see
:mod:`sknumpynet.nn.optimizers`).  Each flushed value moves by less than
``tiny``, far below the rounding error of any step, so training follows the
same course; a weight at zero with a zero gradient then stays exactly zero, and
produces no subnormals again.
"""

import numpy as np


def flush_work(n, dtype):
    """Scratch arrays for :func:`flush_subnormals` on arrays of ``n`` ``dtype`` floats.

    Parameters
    ----------
    n : int
    dtype : dtype
        float32 or float64.

    Returns
    -------
    tuple of ndarray
        An unsigned integer array of the float's width and a bool array, both
        of shape (n,).
    """
    dtype = np.dtype(dtype)
    return np.empty(n, dtype=f"u{dtype.itemsize}"), np.empty(n, dtype=bool)


def flush_subnormals(x, work=None):
    """Set every subnormal entry of ``x`` to zero, in place.

    Only entries with ``0 < |x| < np.finfo(x.dtype).tiny`` change (to ``+0``);
    zeros, normal numbers, infinities and NaN keep their exact bits.

    Parameters
    ----------
    x : ndarray
        C-contiguous float32 or float64 array, of any shape.
    work : tuple of ndarray, optional
        From :func:`flush_work` for ``x.size`` and ``x.dtype``, reused
        between calls (None allocates them).

    Returns
    -------
    int
        How many entries were flushed.
    """
    if not x.flags.c_contiguous:
        raise ValueError("flush_subnormals needs a C-contiguous array (it works in place).")
    bits, mask = flush_work(x.size, x.dtype) if work is None else work
    sign_off, limit = _BIT_MASKS[x.dtype.itemsize]
    # The test runs on the bit patterns, so no floating-point operation ever
    # reads a subnormal here. Without the sign bit, a subnormal is 1 to
    # 2**nmant - 1 (exponent field 0, mantissa not 0); minus 1 in unsigned
    # arithmetic, zero wraps round to the largest integer and drops out of the
    # same comparison.
    np.bitwise_and(x.reshape(-1).view(bits.dtype), sign_off, out=bits)
    np.subtract(bits, 1, out=bits)
    np.less(bits, limit, out=mask)
    count = np.count_nonzero(mask)
    if count:
        # Indices rather than the mask: a boolean assignment scans every entry.
        x.reshape(-1)[np.flatnonzero(mask)] = 0
    return count


# Per float width: the bits without the sign, and 2**nmant - 1.
_BIT_MASKS = {
    dtype.itemsize: (
        np.iinfo(f"u{dtype.itemsize}").max >> 1,
        (1 << np.finfo(dtype).nmant) - 1,
    )
    for dtype in map(np.dtype, (np.float32, np.float64))
}
