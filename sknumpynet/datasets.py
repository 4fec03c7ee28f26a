"""Reading MNIST-style IDX files, and the data loader of the examples.

An IDX file (the format of the MNIST distribution) is a 4-byte magic number,
one big-endian ``uint32`` per dimension, then the values in C order:

* bytes 0-1: zero;
* byte 2: the value type, ``0x08`` unsigned byte, ``0x09`` signed byte,
  ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64 (all
  multi-byte types big-endian);
* byte 3: the number of dimensions.

:func:`load_idx` reads such a file, gzip-compressed or raw, and
:func:`load_mnist` reads the MNIST images and labels from a folder, falling
back to scikit-learn's digits when no folder is given or the files are absent,
so that code written for MNIST runs offline anywhere.
"""

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch

MNIST_DIR_ENV = "SKNUMPYNET_MNIST_DIR"
"""Environment variable naming the folder that holds the MNIST IDX files."""

# IDX type byte -> big-endian NumPy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

# Stems of the MNIST files for each subset (images, labels).
_MNIST_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_bytes(path):
    """Whole file contents, decompressed when the file is gzip (by its magic)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{path}: corrupt or truncated gzip file ({exc}).") from exc
    return raw


def load_idx(path):
    """Read an IDX file, gzip-compressed or raw.

    Compression is detected from the file's first bytes, not its name.

    Parameters
    ----------
    path : str or path-like
        The file, e.g. ``"t10k-images-idx3-ubyte.gz"``.

    Returns
    -------
    ndarray of shape (d_1, ..., d_k)
        The values with the file's dimensions, in the native byte order of
        the file's type: uint8, int8, int16, int32, float32 or float64.  MNIST
        images give shape ``(n_images, 28, 28)`` and dtype uint8, labels shape
        ``(n_images,)``.

    Raises
    ------
    ValueError
        If the magic number is not that of an IDX file, its type byte is
        unknown, or the data is shorter or longer than the dimensions say.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sknumpynet.datasets import load_idx
    >>> header = bytes([0, 0, 0x08, 1]) + (3).to_bytes(4, "big")
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(header + bytes([7, 3, 7]))
    >>> load_idx(path)
    array([7, 3, 7], dtype=uint8)
    """
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: {len(raw)} bytes is too short for an IDX header (4 bytes).")
    zero0, zero1, type_code, ndim = raw[:4]
    if zero0 or zero1:
        raise ValueError(
            f"{path}: not an IDX file; its magic number {raw[:4].hex()} must start with "
            "two zero bytes."
        )
    if type_code not in _IDX_DTYPES:
        known = ", ".join(f"0x{code:02X}" for code in _IDX_DTYPES)
        raise ValueError(
            f"{path}: unknown IDX type byte 0x{type_code:02X}; expected one of {known}."
        )
    if ndim == 0:
        raise ValueError(f"{path}: IDX header declares 0 dimensions.")
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise ValueError(
            f"{path}: header declares {ndim} dimensions but the file ends after "
            f"{len(raw)} bytes, before the {header_end}-byte header does."
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize  # Python ints: a huge header cannot wrap
    got = len(raw) - header_end
    if got != expected:
        raise ValueError(
            f"{path}: dimensions {shape} of {dtype.itemsize}-byte values need {expected} "
            f"bytes of data, the file has {got}."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(shape)
    # Native byte order and an owned, writable array.
    return data.astype(dtype.newbyteorder("="))


def _find(directory, stem):
    for name in (
        f"{stem}.gz",
        stem,
        stem.replace("-idx", ".idx"),
        f"{stem.replace('-idx', '.idx')}.gz",
    ):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _mnist_files(data_dir, subset):
    directory = Path(data_dir)
    found = [_find(directory, stem) for stem in _MNIST_STEMS[subset]]
    return None if None in found else found


def _check_mnist(images, labels, files):
    """Raise unless the IDX contents are MNIST's: uint8 images of shape (n, rows,
    columns) and as many uint8 labels 0-9 (the promised pixel and label ranges
    hold only for these)."""
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{files[0]}: MNIST images are uint8 of shape (n_images, rows, columns); got "
            f"{images.dtype} of shape {images.shape}."
        )
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise ValueError(
            f"{files[1]}: MNIST labels are uint8 of shape (n_images,); got {labels.dtype} "
            f"of shape {labels.shape}."
        )
    if not images.shape[0]:
        raise ValueError(f"{files[0]}: holds no images (its header declares 0).")
    if labels.shape[0] != images.shape[0]:
        raise ValueError(
            f"MNIST files disagree: {images.shape[0]} images ({files[0]}) but "
            f"{labels.shape[0]} labels ({files[1]})."
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{files[1]}: MNIST labels are digits 0-9; got {int(labels.max())}.")


def load_mnist(data_dir=None, *, subset="test", fallback="digits", verbose=True):
    """MNIST images and labels from IDX files, or scikit-learn's digits instead.

    Looks in ``data_dir``, else in the folder named by the environment variable
    ``SKNUMPYNET_MNIST_DIR``, for ``t10k-images-idx3-ubyte(.gz)`` and
    ``t10k-labels-idx1-ubyte(.gz)`` (``train-...`` for ``subset="train"``).
    Without them, returns :func:`sklearn.datasets.load_digits` (8x8 images
    shipped with scikit-learn, 1,797 samples), saying so when ``verbose``, so
    code written for MNIST runs offline.

    Parameters
    ----------
    data_dir : str or path-like, default=None
        Folder with the IDX files.  None reads ``SKNUMPYNET_MNIST_DIR``.
    subset : {"test", "train"}, default="test"
        The 10,000-image test files or the 60,000-image training files.
    fallback : {"digits"} or None, default="digits"
        What to return when the files are not found; None raises instead.
    verbose : bool, default=True
        Print which data was loaded (and why, on fallback).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data``: ndarray of shape (n_samples, n_pixels), float32 in [0, 1]
        (784 pixels for MNIST, 64 for digits); ``target``: ndarray of shape
        (n_samples,), int64 digits 0-9; ``image_shape``: ``(28, 28)`` or
        ``(8, 8)``; ``source``: ``"mnist"`` or ``"digits"``; ``files``: the
        two paths read (empty on fallback).

    Raises
    ------
    FileNotFoundError
        If the files are not found and ``fallback`` is None.
    ValueError
        If the files are malformed, or images and labels disagree.

    Examples
    --------
    >>> from sknumpynet.datasets import load_mnist
    >>> mnist = load_mnist(data_dir="/nonexistent", verbose=False)
    >>> mnist.source, mnist.data.shape
    ('digits', (1797, 64))
    """
    # Before looking for files: a bad subset must not pass as "files not found".
    if not isinstance(subset, str) or subset not in _MNIST_STEMS:
        raise ValueError(f"subset must be one of {sorted(_MNIST_STEMS)}; got {subset!r}.")
    if fallback not in ("digits", None):
        raise ValueError(f"fallback must be 'digits' or None; got {fallback!r}.")
    if data_dir is None:
        data_dir = os.environ.get(MNIST_DIR_ENV) or None
    files = _mnist_files(data_dir, subset) if data_dir is not None else None
    if files is None:
        where = (
            f"in {data_dir}"
            if data_dir is not None
            else f"(no data_dir given and {MNIST_DIR_ENV} is not set)"
        )
        if fallback is None:
            raise FileNotFoundError(f"MNIST {subset} IDX files not found {where}.")
        digits = load_digits()
        if verbose:
            print(
                f"MNIST {subset} files not found {where}; using scikit-learn's digits "
                f"instead ({digits.data.shape[0]} 8x8 images). Set {MNIST_DIR_ENV} to a "
                "folder with the MNIST IDX files to run on MNIST."
            )
        return Bunch(
            data=(digits.data / 16.0).astype(np.float32),
            target=digits.target.astype(np.int64),
            image_shape=(8, 8),
            source="digits",
            files=[],
        )
    images, labels = (load_idx(f) for f in files)
    _check_mnist(images, labels, files)
    if verbose:
        print(f"Loaded MNIST {subset}: {images.shape[0]} images from {Path(files[0]).parent}.")
    return Bunch(
        data=(images.reshape(images.shape[0], -1) / np.float32(255)).astype(np.float32),
        target=labels.astype(np.int64),
        image_shape=images.shape[1:],
        source="mnist",
        files=[str(f) for f in files],
    )
