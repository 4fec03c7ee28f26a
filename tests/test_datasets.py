"""IDX reading and the MNIST loader, on small IDX files written by the tests."""

import gzip
import os
import struct

import numpy as np
import pytest

from sknumpynet.datasets import MNIST_DIR_ENV, load_idx, load_mnist

# IDX type byte of each dtype, as in the format's specification.
TYPE_CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}


def idx_bytes(array, type_code=None):
    """Encode ``array`` as IDX: magic, big-endian uint32 dims, big-endian values."""
    array = np.asarray(array)
    code = TYPE_CODES[array.dtype.str[1:]] if type_code is None else type_code
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path, payload, compress=False):
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(payload)
    return path


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_load_idx_round_trips_every_type(tmp_path, rng, dtype, compress):
    if dtype.startswith("f"):
        array = rng.standard_normal((3, 4, 5)).astype(dtype)
    else:
        info = np.iinfo(dtype)
        array = rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True).astype(dtype)
    path = write(tmp_path / "data-idx3", idx_bytes(array), compress)
    loaded = load_idx(path)
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)
    loaded[0, 0, 0] = 0  # an owned, writable array


def test_load_idx_detects_gzip_by_content_not_name(tmp_path):
    labels = np.array([7, 3, 7, 0], dtype=np.uint8)
    path = write(tmp_path / "labels-idx1-ubyte", idx_bytes(labels), compress=True)
    np.testing.assert_array_equal(load_idx(path), labels)
    np.testing.assert_array_equal(load_idx(str(path)), labels)


def test_load_idx_one_dimension_keeps_its_shape(tmp_path):
    path = write(tmp_path / "l", idx_bytes(np.arange(6, dtype=np.uint8)))
    assert load_idx(path).shape == (6,)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "two zero bytes"),
        (b"\x00\x00\x0a\x01" + struct.pack(">I", 1) + b"\x00", "unknown IDX type byte 0x0A"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "before the 16-byte header"),
        (
            b"\x00\x00\x08\x01" + struct.pack(">I", 5) + b"\x00" * 3,
            "need 5 bytes of data, the file has 3",
        ),
        (
            b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"\x00" * 3,
            "need 2 bytes of data, the file has 3",
        ),
        (b"\x00\x00\x0b\x01" + struct.pack(">I", 2) + b"\x00" * 3, "2-byte values need 4 bytes"),
        (  # 2**31 cubed: a size that wraps to 0 in int64 arithmetic
            b"\x00\x00\x08\x03" + struct.pack(">III", 2**31, 2**31, 2**31),
            "need 9903520314283042199192993792 bytes of data, the file has 0",
        ),
    ],
    ids=["short", "magic", "type", "ndim0", "header", "truncated", "trailing", "itemsize", "huge"],
)
def test_load_idx_rejects_malformed_files_naming_the_problem(tmp_path, payload, message):
    path = write(tmp_path / "bad", payload)
    with pytest.raises(ValueError, match=message) as info:
        load_idx(path)
    assert str(path) in str(info.value)


def test_load_idx_rejects_truncated_gzip(tmp_path):
    compressed = gzip.compress(idx_bytes(np.zeros((10, 10), dtype=np.uint8)))
    path = write(tmp_path / "cut.gz", compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match="gzip"):
        load_idx(path)


def write_mnist(directory, n=12, compress=True, seed=0, prefix="t10k"):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    write(directory / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images), compress)
    write(directory / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels), compress)
    return images, labels


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_load_mnist_reads_the_idx_pair(tmp_path, capsys, compress):
    images, labels = write_mnist(tmp_path, compress=compress)
    mnist = load_mnist(tmp_path)
    assert mnist.source == "mnist"
    assert mnist.image_shape == (28, 28)
    assert mnist.data.shape == (12, 784) and mnist.data.dtype == np.float32
    np.testing.assert_allclose(mnist.data, images.reshape(12, -1) / 255, rtol=1e-6)
    np.testing.assert_array_equal(mnist.target, labels)
    assert len(mnist.files) == 2
    assert "Loaded MNIST test: 12 images" in capsys.readouterr().out


def test_load_mnist_train_subset_uses_train_files(tmp_path):
    write_mnist(tmp_path, n=5, prefix="t10k")
    _, labels = write_mnist(tmp_path, n=7, seed=1, prefix="train")
    mnist = load_mnist(tmp_path, subset="train", verbose=False)
    np.testing.assert_array_equal(mnist.target, labels)
    with pytest.raises(ValueError, match="subset must be one of"):
        load_mnist(tmp_path, subset="validation")


@pytest.mark.parametrize("subset", ["foo", "TEST", ["test"], None])
@pytest.mark.parametrize("fallback", ["digits", None])
def test_load_mnist_checks_subset_before_looking_for_files(subset, fallback, monkeypatch, capsys):
    # Without a folder, a bad subset used to pass as "MNIST foo files not
    # found" and return digits (or raise FileNotFoundError).
    monkeypatch.delenv(MNIST_DIR_ENV, raising=False)
    with pytest.raises(ValueError, match=r"subset must be one of \['test', 'train'\]; got"):
        load_mnist(subset=subset, fallback=fallback)
    assert capsys.readouterr().out == ""


def test_load_mnist_reads_the_environment_variable(tmp_path, monkeypatch):
    _, labels = write_mnist(tmp_path, n=4)
    monkeypatch.setenv(MNIST_DIR_ENV, str(tmp_path))
    mnist = load_mnist(verbose=False)
    assert mnist.source == "mnist"
    np.testing.assert_array_equal(mnist.target, labels)


def test_load_mnist_falls_back_to_digits_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(MNIST_DIR_ENV, raising=False)
    digits = load_mnist()
    out = capsys.readouterr().out
    assert "using scikit-learn's digits" in out and MNIST_DIR_ENV in out
    assert digits.source == "digits" and digits.image_shape == (8, 8)
    assert digits.data.shape == (1797, 64) and digits.data.dtype == np.float32
    assert digits.data.min() == 0 and digits.data.max() == 1
    assert set(np.unique(digits.target)) == set(range(10))
    # An empty folder falls back too, naming the folder.
    load_mnist(tmp_path)
    assert str(tmp_path) in capsys.readouterr().out


def test_load_mnist_without_fallback_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match="IDX files not found"):
        load_mnist(tmp_path, fallback=None)
    with pytest.raises(ValueError, match="fallback must be"):
        load_mnist(tmp_path, fallback="iris")


def test_load_mnist_rejects_images_and_labels_that_disagree(tmp_path):
    write_mnist(tmp_path, n=6)
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(5, np.uint8)), True)
    with pytest.raises(ValueError, match="disagree"):
        load_mnist(tmp_path, verbose=False)


def _why_real_mnist_is_missing():
    """None if ``SKNUMPYNET_MNIST_DIR`` holds the MNIST test set's two IDX files
    (under any name ``load_mnist`` reads), else why the test cannot run."""
    folder = os.environ.get(MNIST_DIR_ENV)
    if not folder:
        return f"{MNIST_DIR_ENV} not set: real MNIST files absent"
    names = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        dotted = stem.replace("-idx", ".idx")
        if not names & {stem, f"{stem}.gz", dotted, f"{dotted}.gz"}:
            return f"{MNIST_DIR_ENV}={folder} holds no {stem}(.gz): real MNIST files absent"
    return None


MNIST_MISSING = _why_real_mnist_is_missing()


@pytest.mark.skipif(MNIST_MISSING is not None, reason=str(MNIST_MISSING))
def test_real_mnist_test_set():
    mnist = load_mnist(fallback=None, verbose=False)
    assert mnist.data.shape == (10000, 784)
    counts = np.bincount(mnist.target, minlength=10)
    assert counts.size == 10 and (counts > 800).all()
    assert mnist.data.min() == 0 and mnist.data.max() == 1
    # The well-known first labels of the MNIST test set.
    np.testing.assert_array_equal(mnist.target[:5], [7, 2, 1, 0, 4])


def test_load_idx_names_a_corrupt_gzip_file(tmp_path):
    # A flipped byte inside the deflate stream raised zlib.error, which the
    # main job showed as a traceback.
    compressed = bytearray(gzip.compress(idx_bytes(np.arange(4000, dtype=np.uint8) % 7)))
    compressed[12] ^= 0xFF
    path = write(tmp_path / "bad.gz", bytes(compressed))
    with pytest.raises(ValueError, match="corrupt or truncated gzip") as info:
        load_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("images", "labels", "message"),
    [
        (np.zeros((3, 28, 28), np.float32), np.zeros(3, np.uint8), r"images are uint8.*float32"),
        (np.zeros((3, 784), np.uint8), np.zeros(3, np.uint8), r"images are uint8.*\(3, 784\)"),
        (np.zeros((3, 28, 28), np.uint8), np.zeros(3, np.float32), r"labels are uint8.*float32"),
        (np.zeros((3, 28, 28), np.uint8), np.array([1, 99, 2], np.uint8), r"digits 0-9; got 99"),
        # numpy's "cannot reshape array of size 0 into shape (0,newaxis)" before
        (np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), r"holds no images"),
    ],
    ids=["float images", "2-D images", "float labels", "label 99", "no images"],
)
def test_load_mnist_refuses_files_that_are_not_mnists(tmp_path, images, labels, message):
    # Any IDX type was read: float pixels divided by 255 left [0, 1], float
    # labels were truncated, and 2-D images were blamed on the labels.
    write(tmp_path / "t10k-images-idx3-ubyte", idx_bytes(images))
    write(tmp_path / "t10k-labels-idx1-ubyte", idx_bytes(labels))
    with pytest.raises(ValueError, match=message):
        load_mnist(tmp_path, verbose=False)
