"""Memory-mapped X (sknumpynet/_data.py): trained and predicted in place, never copied whole.

* ``fit``, ``partial_fit``, ``predict`` and ``predict_proba`` take an
  ``np.load(..., mmap_mode="r")`` array of float32/float64 rows in C order;
  the process's anonymous memory (RssAnon) grows by a small fraction of X, and
  no allocation of X's size is ever made (tracemalloc);
* an epoch over a memory map visits shuffled blocks of consecutive rows, each
  block's rows shuffled within it; an in-memory X is shuffled as a whole;
  both visit every row once per epoch;
* a memory map that training would have to copy whole (Fortran order, an
  integer dtype, float64 rows for a float32 model) is refused with what to do;
* prediction runs in chunks of rows sized from scikit-learn's
  ``working_memory``, with the results of one whole pass.
"""

import re
import threading
import tracemalloc

import numpy as np
import pytest
import sklearn
from _shared import traced_peak
from sklearn.datasets import make_classification

import sknumpynet._data
from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.nn import MLP

MiB = 2**20


def _save(path, X, fortran_order=False):
    """``X`` written to an .npy file, reopened read-only as a memory map."""
    out = np.lib.format.open_memmap(
        path, mode="w+", dtype=X.dtype, shape=X.shape, fortran_order=fortran_order
    )
    out[...] = X
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


def _classification(n=600, d=8, seed=0):
    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=5, n_classes=3, random_state=seed
    )
    return X.astype(np.float32), y


# ---- memory: RssAnon and tracemalloc on a ~200 MB memory map ---------------------

BIG_ROWS, BIG_FEATURES = 64_000, 784  # 200.7 MB of float32
BOUND = 30 * MiB  # 15% of X: a proportional share of the 300 MB bound for 2 GB


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A ~200 MB float32 .npy memory map (written block by block) and its labels."""
    path = tmp_path_factory.mktemp("memmap") / "X.npy"
    out = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(BIG_ROWS, BIG_FEATURES)
    )
    rng = np.random.default_rng(0)
    for start in range(0, BIG_ROWS, 8_000):
        out[start : start + 8_000] = rng.standard_normal((8_000, BIG_FEATURES), dtype=np.float32)
    y = (out[:, 0] > 0).astype(int) + (out[:, 1] > 0)
    out.flush()
    del out
    yield np.load(path, mmap_mode="r"), y
    path.unlink()


def _anon_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return None


class AnonPeak:
    """Peak growth of RssAnon inside the block, sampled every millisecond.

    The kernel reports no peak of the anonymous memory alone (VmHWM counts the
    mapped file pages too), so a thread polls it.
    """

    def __enter__(self):
        self._stop = threading.Event()
        self.start = self.peak = _anon_bytes()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self):
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _anon_bytes())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _anon_bytes())

    @property
    def growth(self):
        return self.peak - self.start


def _big_model():
    return ScratchMLPClassifier(
        hidden_layer_sizes=(16,),
        max_iter=1,
        batch_size=256,
        learning_rate_init=0.01,
        random_state=0,
    )


def test_fit_and_predict_proba_on_a_memmap_keep_anonymous_memory_small(big):
    if _anon_bytes() is None:
        pytest.skip("RssAnon is not reported in /proc/self/status on this platform")
    X, y = big
    # Warm up on a slice: BLAS buffers, imports and caches are not the fit's growth.
    # OpenBLAS keeps per-thread work buffers sized by the first large product, so
    # the warm-up predicts in chunks of the measured size (working_memory=64 MiB:
    # ~20,000 rows a chunk, a tenth of X).
    with sklearn.config_context(working_memory=64):
        _big_model().fit(X[:4096], y[:4096]).predict_proba(X[:45000])
    with AnonPeak() as fitting:
        clf = _big_model().fit(X, y)
    with AnonPeak() as predicting, sklearn.config_context(working_memory=64):
        proba = clf.predict_proba(X)
    assert proba.shape == (BIG_ROWS, 3)
    assert fitting.growth <= BOUND, f"fit grew RssAnon by {fitting.growth / MiB:.1f} MiB"
    assert predicting.growth <= BOUND, f"predict grew RssAnon by {predicting.growth / MiB:.1f} MiB"
    assert clf.score(X[:5000], y[:5000]) > 0.65  # it learned from the mapped rows (1/2 by chance)


def test_no_allocation_of_the_size_of_X(big):
    X, y = big
    tracemalloc.start()
    try:
        clf = _big_model().fit(X, y)
        fit_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        clf.predict_proba(X)
        clf.predict(X)
        predict_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fit_peak < X.nbytes / 10
    assert predict_peak < X.nbytes / 10


def test_predict_on_a_float64_memmap_for_a_float32_model_casts_chunk_by_chunk(tmp_path):
    X, y = _classification(n=20_000, d=100)
    clf = ScratchMLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0).fit(X, y)
    X64 = _save(tmp_path / "X64.npy", X.astype(np.float64))
    with sklearn.config_context(working_memory=1):
        expected = clf.predict_proba(X)
        proba, peak = traced_peak(lambda: clf.predict_proba(X64))
    assert proba.dtype == np.float32
    np.testing.assert_array_equal(proba, expected)  # the float32 values of X, cast alike
    assert peak < X64.nbytes / 8  # a whole float32 copy would be X64.nbytes / 2


# ---- the order of an epoch ----------------------------------------------------


def _ids(n, d=8, seed=0):
    """Float32 rows whose first feature encodes the row number exactly (i / 1024)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[:, 0] = np.arange(n) / 1024
    return X, (X[:, 1:4].argmax(axis=1))


@pytest.fixture
def batches(monkeypatch):
    """The row numbers of every training batch, in order."""
    seen = []
    loss_grad = MLP.loss_grad

    def recording(self, X, *args, **kwargs):
        seen.append(np.rint(np.asarray(X[:, 0]) * 1024).astype(int))
        return loss_grad(self, X, *args, **kwargs)

    monkeypatch.setattr(MLP, "loss_grad", recording)
    return seen


def _epochs(seen, n, batch):
    per_epoch = -(-n // batch)
    assert len(seen) % per_epoch == 0
    return [seen[i : i + per_epoch] for i in range(0, len(seen), per_epoch)]


BLOCK, BATCH = 100, 20


@pytest.mark.parametrize("n", [1000, 1010])
def test_a_memmap_epoch_visits_shuffled_blocks_of_consecutive_rows(
    tmp_path, batches, monkeypatch, n
):
    X, y = _ids(n)
    monkeypatch.setattr(sknumpynet._data, "DISK_BLOCK_BYTES", X.shape[1] * X.itemsize * BLOCK)
    assert sknumpynet._data.block_rows(X, BATCH) == BLOCK
    ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=3, batch_size=BATCH, random_state=0).fit(
        _save(tmp_path / "X.npy", X), y
    )
    block_orders = []
    for epoch in _epochs(batches, n, BATCH):
        order = np.concatenate(epoch)
        np.testing.assert_array_equal(np.sort(order), np.arange(n))  # every row once
        # Each block's rows come one after the other, in an order of their own.
        runs = np.split(order, np.flatnonzero(np.diff(order // BLOCK)) + 1)
        assert len(runs) == -(-n // BLOCK)
        for run in runs:
            first = run[0] // BLOCK * BLOCK
            np.testing.assert_array_equal(np.sort(run), np.arange(first, min(n, first + BLOCK)))
            assert not np.array_equal(run, np.sort(run))
        # A batch reads from one block; at most two where a short block visited
        # before the last one shifted the seams off the batch boundaries.
        spans = [len(np.unique(rows // BLOCK)) for rows in epoch]
        shifted = n % BLOCK != 0 and runs[-1][0] // BLOCK != n // BLOCK
        assert max(spans) == (2 if shifted else 1)
        block_orders.append([run[0] // BLOCK for run in runs])
    assert any(order != sorted(order) for order in block_orders)  # blocks are shuffled
    assert block_orders[0] != block_orders[1]  # anew each epoch


def test_an_in_memory_epoch_is_one_shuffle_of_all_rows(batches, monkeypatch):
    n = 1000
    X, y = _ids(n)
    monkeypatch.setattr(sknumpynet._data, "DISK_BLOCK_BYTES", X.shape[1] * X.itemsize * BLOCK)
    ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=2, batch_size=BATCH, random_state=0).fit(
        X, y
    )
    for epoch in _epochs(batches, n, BATCH):
        np.testing.assert_array_equal(np.sort(np.concatenate(epoch)), np.arange(n))
        # Nearly every batch mixes rows from all over X.
        mixed = sum(len(np.unique(rows // BLOCK)) > 1 for rows in epoch)
        assert mixed >= 0.9 * len(epoch)


def test_early_stopping_on_a_memmap_trains_on_the_training_rows_only(
    tmp_path, batches, monkeypatch
):
    n = 1000
    X, y = _ids(n)
    monkeypatch.setattr(sknumpynet._data, "DISK_BLOCK_BYTES", X.shape[1] * X.itemsize * BLOCK)
    ScratchMLPClassifier(
        hidden_layer_sizes=(4,),
        max_iter=2,
        batch_size=BATCH,
        early_stopping=True,
        n_iter_no_change=5,
        random_state=0,
    ).fit(_save(tmp_path / "X.npy", X), y)
    n_train = n - 100  # validation_fraction=0.1
    epochs = _epochs(batches, n_train, BATCH)
    assert len(epochs) == 2
    first, second = (np.concatenate(e) for e in epochs)
    assert len(np.unique(first)) == n_train
    np.testing.assert_array_equal(np.sort(first), np.sort(second))


# ---- results: the same model as from memory ------------------------------------


@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_a_memmap_smaller_than_one_block_trains_exactly_like_memory(tmp_path, Estimator):
    X, y = _classification(n=300)
    y = y if Estimator is ScratchMLPClassifier else y.astype(float)
    params = dict(hidden_layer_sizes=(6,), max_iter=3, batch_size=32, random_state=0)
    mapped = Estimator(**params).fit(_save(tmp_path / "X.npy", X), y)
    memory = Estimator(**params).fit(X, y)
    for a, b in zip(
        mapped.coefs_ + mapped.intercepts_, memory.coefs_ + memory.intercepts_, strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert mapped.coefs_[0].dtype == np.float32


def test_block_shuffled_accuracy_is_within_half_a_point_of_the_in_memory_fit(tmp_path, monkeypatch):
    X, y = make_classification(
        n_samples=6000, n_features=20, n_informative=10, n_classes=3, class_sep=1.5, random_state=0
    )
    X = X.astype(np.float32)
    X_train, y_train, X_test, y_test = X[:4000], y[:4000], X[4000:], y[4000:]
    monkeypatch.setattr(sknumpynet._data, "DISK_BLOCK_BYTES", X.shape[1] * X.itemsize * 500)
    # Averaged over three seeds: one seed's difference spreads by about 0.003
    # either way (a 2,000-row test set), so a single one can pass 0.005 by chance.
    path = _save(tmp_path / "X.npy", X_train)
    gaps = []
    for seed in range(3):
        params = dict(hidden_layer_sizes=(32,), max_iter=40, batch_size=50, random_state=seed)
        mapped = ScratchMLPClassifier(**params).fit(path, y_train)
        memory = ScratchMLPClassifier(**params).fit(X_train, y_train)
        assert not np.array_equal(mapped.coefs_[0], memory.coefs_[0])  # other orders were taken
        gaps.append(mapped.score(X_test, y_test) - memory.score(X_test, y_test))
    assert abs(np.mean(gaps)) <= 0.005


def test_partial_fit_streams_a_memmap(tmp_path):
    X, y = _classification(n=400)
    mapped = _save(tmp_path / "X.npy", X)
    streamed, memory = (
        ScratchMLPClassifier(hidden_layer_sizes=(5,), batch_size=16, random_state=0)
        for _ in range(2)
    )
    for start in range(0, 400, 100):
        rows = slice(start, start + 100)
        streamed.partial_fit(mapped[rows], y[rows], classes=[0, 1, 2])
        memory.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
    np.testing.assert_array_equal(streamed.predict_proba(mapped), memory.predict_proba(X))


# ---- memory maps that would be copied whole are refused -------------------------

WHAT_TO_DO = re.compile(r"open_memmap")


def _refused(excinfo, *words):
    message = str(excinfo.value)
    assert WHAT_TO_DO.search(message), message
    for word in words:
        assert word in message, message


def test_a_fortran_ordered_memmap_is_refused_by_fit(tmp_path):
    X, y = _classification()
    mapped = _save(tmp_path / "X.npy", X, fortran_order=True)
    assert mapped.flags.f_contiguous and not mapped.flags.c_contiguous
    clf = ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="memory-mapped") as excinfo:
        clf.fit(mapped, y)
    _refused(excinfo, "Fortran", "C-ordered")


def test_an_integer_memmap_is_refused_by_fit(tmp_path):
    X, y = _classification()
    mapped = _save(tmp_path / "X.npy", np.rint(X * 10).astype(np.int8))
    clf = ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="memory-mapped") as excinfo:
        clf.fit(mapped, y)
    _refused(excinfo, "int8", "float32")


@pytest.mark.parametrize("layout", ["int8", "fortran", "columns"])
def test_predict_reads_any_numeric_memmap_chunk_by_chunk(tmp_path, layout, monkeypatch):
    # Training refuses the maps it would have to convert whole; prediction
    # converts them a chunk of rows at a time, as it does float64 maps for a
    # float32 model, and predicts what the same values in memory give.
    X, y = _classification()
    if layout == "int8":
        values = np.rint(X * 10).astype(np.int8)
        mapped = _save(tmp_path / "X.npy", values)
    elif layout == "fortran":
        values = X
        mapped = _save(tmp_path / "X.npy", X, fortran_order=True)
    else:  # a view of some columns: every row strided
        values = X[:, :4]
        mapped = _save(tmp_path / "X.npy", X)[:, :4]
    clf = ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    clf.fit(np.ascontiguousarray(values, dtype=np.float32), y)
    monkeypatch.setattr(sknumpynet._data, "chunk_rows", lambda coefs, n_features: 7)
    np.testing.assert_array_equal(clf.predict_proba(mapped), clf.predict_proba(values))
    np.testing.assert_array_equal(clf.predict(mapped), clf.predict(values))


def test_a_strided_memmap_is_refused_without_calling_it_fortran_ordered(tmp_path):
    X, y = _classification()
    columns = _save(tmp_path / "X.npy", X)[:, :4]  # every row strided: neither C nor F order
    with pytest.raises(ValueError, match="memory-mapped") as excinfo:
        ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(columns, y)
    _refused(excinfo, "C-ordered")
    assert "Fortran" not in str(excinfo.value)


@pytest.mark.parametrize("call", ["partial_fit", "warm_start"])
def test_a_float64_memmap_is_refused_by_a_float32_model_that_continues(tmp_path, call):
    X, y = _classification()
    mapped = _save(tmp_path / "X64.npy", X.astype(np.float64))
    clf = ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    if call == "partial_fit":
        clf.partial_fit(X, y, classes=[0, 1, 2])
        before = [c.copy() for c in clf.coefs_]
        with pytest.raises(ValueError, match="memory-mapped") as excinfo:
            clf.partial_fit(mapped, y)
    else:
        clf.set_params(warm_start=True).fit(X, y)
        before = [c.copy() for c in clf.coefs_]
        with pytest.raises(ValueError, match="memory-mapped") as excinfo:
            clf.fit(mapped, y)
    _refused(excinfo, "float64", "float32")
    for c, old in zip(clf.coefs_, before, strict=True):
        np.testing.assert_array_equal(c, old)
    # A fresh fit may start a float64 model on it.
    assert clf.set_params(warm_start=False).fit(mapped, y).coefs_[0].dtype == np.float64


# ---- chunked prediction -------------------------------------------------------


def test_chunked_predict_proba_equals_one_pass_and_stays_small(rng):
    n, d, hidden = 20_000, 20, 256
    X = rng.normal(size=(n, d)).astype(np.float32)
    y = X[:, :3].argmax(axis=1)
    clf = ScratchMLPClassifier(hidden_layer_sizes=(hidden,), max_iter=1, random_state=0)
    clf.fit(X[:2000], y[:2000])
    whole = clf.predict_proba(X)  # the default working_memory holds all rows at once
    assert sknumpynet._data.chunk_rows(clf.coefs_, d) >= n
    with sklearn.config_context(working_memory=1):
        rows = sknumpynet._data.chunk_rows(clf.coefs_, d)
        assert rows < n / 10  # more than ten chunks
        chunked, peak = traced_peak(lambda: clf.predict_proba(X))
        labels = clf.predict(X)
    # Other row counts may take other BLAS kernels: equal to rounding.
    np.testing.assert_allclose(chunked, whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(labels, clf.classes_[whole.argmax(axis=1)])
    activations = n * hidden * X.itemsize  # one layer's activations for every row
    assert peak < activations / 8


def test_the_chunk_size_follows_working_memory(rng):
    X = rng.normal(size=(50, 30))
    clf = ScratchMLPRegressor(hidden_layer_sizes=(40, 20), max_iter=1, random_state=0)
    clf.fit(X, X[:, 0])
    row_bytes = 8 * (30 + 40 + 20 + 1)  # input and every layer's output, float64
    for mib in (1, 4):
        with sklearn.config_context(working_memory=mib):
            assert sknumpynet._data.chunk_rows(clf.coefs_, 30) == mib * MiB // row_bytes


def test_a_memmap_is_predicted_from_the_file(tmp_path):
    X, y = _classification()
    clf = ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    mapped = _save(tmp_path / "X.npy", X)
    np.testing.assert_array_equal(clf.predict(mapped), clf.predict(X))
    np.testing.assert_array_equal(clf.predict_proba(mapped), clf.predict_proba(X))


def test_a_one_dimensional_memmap_gets_the_usual_2d_message(tmp_path):
    X, y = _classification()
    flat = _save(tmp_path / "x.npy", X[:, 0].copy())
    with pytest.raises(ValueError, match="Expected 2D array"):
        ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(flat, y)


def test_a_big_endian_memmap_is_refused_naming_its_byte_order(tmp_path):
    # "dtype float32 ... convert it to a float32 array" contradicted itself.
    X, y = _classification()
    mapped = _save(tmp_path / "X.npy", X.astype(">f4"))
    with pytest.raises(ValueError, match=r"float32 \(byte order '>f4', not the machine's\)"):
        ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=1).fit(mapped, y)


# ---- joblib's own memory maps ------------------------------------------------------


def _fit_in_a_joblib_worker(est, X, y, block_bytes=None):
    """``est`` fitted in a loky worker, X handed over as joblib's memory map
    (with the worker's block size set to ``block_bytes`` for the fit)."""
    from joblib import Parallel, delayed

    def fit(est, X, y):
        import sknumpynet._data

        assert isinstance(X, np.memmap)  # joblib's automatic memory map of X
        default = sknumpynet._data.DISK_BLOCK_BYTES
        sknumpynet._data.DISK_BLOCK_BYTES = block_bytes or default
        try:
            return est.fit(X, y)
        finally:  # the worker serves later tests
            sknumpynet._data.DISK_BLOCK_BYTES = default

    return Parallel(n_jobs=2, max_nbytes="1K")(delayed(fit)(est, X, y) for _ in range(1))[0]


@pytest.mark.parametrize("layout", ["fortran", "int"])
def test_an_array_joblib_maps_for_its_workers_is_taken_as_the_array_it_was(layout):
    # Meta-estimators with n_jobs=2 (Voting, Stacking, Bagging, one-vs-rest,
    # MultiOutputRegressor) hand X to loky workers, and joblib memory-maps any
    # array over 1 MB: a Fortran-ordered X (DataFrame.to_numpy()) or an int X
    # was refused there as a map training would copy whole, though n_jobs=1
    # trained on it.
    X, y = make_classification(300, 8, random_state=0)
    X = np.asfortranarray(X) if layout == "fortran" else np.round(X * 10).astype(np.int64)
    est = ScratchMLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    in_memory = sklearn.clone(est).fit(X, y)
    in_worker = _fit_in_a_joblib_worker(sklearn.clone(est), X, y)
    for a, b in zip(in_memory.coefs_, in_worker.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_array_joblib_maps_for_its_workers_is_shuffled_as_in_memory():
    # Above one block, a C-ordered joblib map was trained in shuffled blocks
    # like a file of the user's: another model than n_jobs=1 gave.
    X, y = make_classification(300, 8, random_state=0)
    est = ScratchMLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    in_memory = sklearn.clone(est).fit(X, y)
    in_worker = _fit_in_a_joblib_worker(sklearn.clone(est), X, y, block_bytes=X[:50].nbytes)
    for a, b in zip(in_memory.coefs_, in_worker.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
