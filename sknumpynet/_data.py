"""Input arrays as the estimators use them: dtype, memory maps and chunks.

Nothing here copies a whole ``X`` that the user did not ask to be copied:

* a float32 model predicts float64 input chunk by chunk in float32;
* a memory-mapped ``X`` (``np.memmap``, ``np.load(..., mmap_mode="r")``) in
  C order and a float dtype is read batch by batch in training; one that
  training would have to convert whole (another dtype, Fortran order) is
  refused with what to do instead; prediction reads any numeric map chunk by
  chunk, converting each chunk; the maps joblib makes of the arrays it hands
  its worker processes are taken as the in-memory arrays they were;
* prediction runs through the network in chunks of rows sized from
  scikit-learn's ``working_memory`` setting, so only one chunk's activations
  exist at a time.
"""

import os

import numpy as np
from scipy.sparse import issparse
from sklearn import get_config
from sklearn.utils import gen_batches

from .nn import forward_logits

# Rows of a memory-mapped X are visited in shuffled blocks of about this size.
DISK_BLOCK_BYTES = 64 * 2**20


def values(X):
    """The stored numbers of a dense or sparse ``X``."""
    return X.data if issparse(X) else X


def memory_mapped(X, model_dtype=None):
    """Whether ``X`` is a memory map that can be used in place; raise if not.

    Parameters
    ----------
    X : object
        The ``X`` argument as the user passed it.
    model_dtype : dtype, optional
        The dtype training must use (a fitted model's); None accepts float32
        and float64.

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        For a memory map that training would have to copy whole.
    """
    if not isinstance(X, np.memmap) or X.ndim != 2 or _joblib_copy(X):
        return False  # other shapes get validate_data's own message
    floats = (np.float32, np.float64) if model_dtype is None else (model_dtype,)
    if X.dtype in floats and X.flags.c_contiguous:
        return True
    wanted = " or ".join(np.dtype(f).name for f in floats)
    flags = X.flags
    layout = (
        "C order"
        if flags.c_contiguous
        else "Fortran order"
        if flags.f_contiguous
        else "a strided layout"
    )
    order = "" if X.dtype.isnative else f" (byte order {X.dtype.str!r}, not the machine's)"
    raise ValueError(
        f"X is a memory-mapped array of dtype {X.dtype.name}{order} in {layout}; using it would "
        f"copy it whole into memory. Convert it on disk, chunk by chunk, to a C-ordered {wanted} "
        "array (e.g. np.lib.format.open_memmap(path, mode='w+', dtype=..., shape=X.shape) "
        "filled a block of rows at a time) and pass that."
    )


def _joblib_copy(X):
    """Whether ``X`` is joblib's memory map of an array it handed a worker process.

    joblib maps every large array it sends to a process-based worker (a
    meta-estimator with ``n_jobs=2``, say) into a file of its own temporary
    folder: an array the user held in memory, trained as one (the same model
    as with ``n_jobs=1``), not a file of the user's to be read in blocks.
    """
    folder = os.path.basename(os.path.dirname(str(getattr(X, "filename", None) or "")))
    return folder.startswith("joblib_memmapping_folder_")


def block_rows(X, batch_size):
    """Rows per shuffled block for a memory-mapped ``X`` (a multiple of the batch)."""
    row_bytes = X.shape[1] * X.dtype.itemsize
    return max(1, DISK_BLOCK_BYTES // row_bytes // batch_size) * batch_size


def native(X):
    """``X`` with its values in the machine's byte order, copied only where they
    are not, so that a big-endian float32 ``X`` trains a float32 model (scikit-learn's
    validation would take its dtype for another and convert it to float64)."""
    dtype = getattr(X, "dtype", None)  # arrays and sparse matrices; not DataFrames
    if not isinstance(dtype, np.dtype) or dtype.isnative:
        return X
    return X.astype(dtype.newbyteorder("="))


def as_dtype(X, dtype, training=False, name="X"):
    """``X`` in the model's ``dtype`` (a float32 model stays float32).

    float64 values beyond float32's range would become inf in the cast:
    training refuses them (naming the argument, ``name``); prediction clips
    them to the largest float32 of their sign, so a huge input gives what the
    model computes for the largest input it can represent (and never NaN from
    ``inf - inf``).
    """
    if X.dtype == dtype:
        return X
    with np.errstate(over="ignore"):
        cast = X.astype(dtype)
    if np.isfinite(values(cast)).all():
        return cast
    if training:
        raise ValueError(
            f"{name} has values beyond the range of {dtype}, the dtype of this model; "
            "scale them (features with sklearn.preprocessing.StandardScaler, regression "
            "targets with sklearn.compose.TransformedTargetRegressor), or fit on float64."
        )
    big = np.finfo(dtype).max
    np.clip(values(X), -big, big, out=values(cast), casting="unsafe")
    return cast


def chunk_rows(coefs, n_features):
    """Rows per prediction chunk: one chunk's input and activations fit
    scikit-learn's ``working_memory`` (MiB)."""
    dtype = coefs[0].dtype
    row_bytes = dtype.itemsize * (n_features + sum(W.shape[1] for W in coefs))
    return max(1, int(get_config()["working_memory"] * 2**20 // row_bytes))


def logits(X, coefs, intercepts, activations):
    """Output logits of every row, computed a chunk of rows at a time.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Any numeric dtype (a memory map may be int or bool); each chunk is
        cast to the weights' dtype.
    coefs, intercepts : list of ndarray
    activations : list of str

    Returns
    -------
    ndarray of shape (n_samples, n_outputs), in the weights' dtype
    """
    dtype, n = coefs[0].dtype, X.shape[0]
    step = chunk_rows(coefs, X.shape[1])
    # Inputs far outside the training range can overflow to inf/NaN here; the
    # heads map such logits back into the finite range.
    with np.errstate(all="ignore"):
        if n <= step:
            return forward_logits(as_dtype(X, dtype), coefs, intercepts, activations)
        out = np.empty((n, intercepts[-1].shape[0]), dtype=dtype)
        for rows in gen_batches(n, step):
            out[rows] = forward_logits(as_dtype(X[rows], dtype), coefs, intercepts, activations)
    return out
