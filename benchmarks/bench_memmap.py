"""Training and predicting on a memory-mapped X larger than the memory it may use.

Run from the repository root::

    python benchmarks/bench_memmap.py                 # 2 GB of float32 rows
    python benchmarks/bench_memmap.py --size-gb 4     # any size
    python benchmarks/bench_memmap.py --quick         # 200 MB, for CI

A float32 ``.npy`` of MNIST-shaped rows (``_common.training_set``, generated
block by block so that generating it needs no memory of its size) is written
to a temporary directory, its pages are dropped from the page cache, and it is
opened with ``np.load(mmap_mode="r")``.  ScratchMLPClassifier (784-128-10,
ReLU, Adam, batch 128) is fitted on it and predicts ``predict_proba`` for
every row, while a thread samples the process's anonymous memory (RssAnon in
``/proc/self/status``) every 2 ms: the mapped file's pages are reclaimable
page cache and do not count, a copy of X would.  VmHWM (peak resident set,
file pages included; reset before each phase where the kernel allows) is
reported beside it.  Then the same rows are loaded into memory and fitted
with the same settings and seed, and both models are scored on 10,000
held-out rows.  The file is deleted at the end.

The bound is 300 MB per 2 GB of X (15%) on the peak RssAnon growth of each
phase, and 0.005 on the difference of held-out accuracy between the memmap and
the in-memory fit; the script exits with status 1 if either is exceeded.
Prediction uses scikit-learn's ``working_memory`` (1024 MiB by default) as
its budget per chunk of rows; at less than 2 GB (``--quick``) the script
scales that budget with the size of X (``--working-memory`` overrides), so
the bound stays proportional.

Results go to ``benchmarks/results/memmap[-quick].{json,md}``.
"""

import argparse
import math
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import sklearn
from _common import fit_quietly, machine, machine_line, save, scratch, table, training_set

MB, GB = 10**6, 10**9
ANON_BOUND = 0.15  # of the bytes of X: 300 MB for 2 GB
ACCURACY_BOUND = 0.005
FEATURES = 784
CHUNK_ROWS = 20_000  # rows generated at a time (63 MB)
SEED = 0


def status_kib(field):
    """A ``/proc/self/status`` field in bytes, or None where it is absent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where refused."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Peak:
    """Peak growth of RssAnon within the block, sampled by a thread.

    The kernel keeps no high-water mark of the anonymous memory alone.
    """

    def __init__(self, interval=0.002):
        self.interval = interval

    def __enter__(self):
        self.hwm_reset = reset_peak_rss()
        self.start = self.peak = status_kib("RssAnon")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        self.t0 = time.perf_counter()
        return self

    def _poll(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, status_kib("RssAnon"))

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, status_kib("RssAnon"))
        self.vm_hwm = status_kib("VmHWM")

    @property
    def growth(self):
        return self.peak - self.start


def write_memmap(path, n_rows):
    """``n_rows`` MNIST-shaped float32 rows written chunk by chunk; returns the labels."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, FEATURES))
    labels = np.empty(n_rows, dtype=np.int64)
    for i, start in enumerate(range(0, n_rows, CHUNK_ROWS)):
        stop = min(start + CHUNK_ROWS, n_rows)
        X, y, _ = training_set(stop - start, seed=1000 + i)
        out[start:stop] = X
        labels[start:stop] = y
        out.flush()  # write back as we go: the dirty pages never pile up
    del out
    # Start from disk, not from the page cache the writing filled.
    with open(path, "rb") as f:
        os.fsync(f.fileno())
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return labels


def accuracy(model, X, y):
    return float(np.mean(model.predict(X) == y))


def run(size_bytes, epochs, working_memory, directory=None):
    if status_kib("RssAnon") is None:
        raise SystemExit("RssAnon is not reported in /proc/self/status; this needs Linux.")
    n_rows = math.ceil(size_bytes / (FEATURES * 4))
    X_test, y_test, source = training_set(10_000, seed=999)
    out = {"rows": n_rows, "epochs": epochs, "source": source, "working_memory_mib": working_memory}
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "X.npy"
        start = time.perf_counter()
        y = write_memmap(path, n_rows)
        out["generate_s"] = time.perf_counter() - start
        X = np.load(path, mmap_mode="r")
        out["x_bytes"] = X.nbytes
        # Warm-up (imports; OpenBLAS's per-thread work buffers, which it sizes by
        # the first large product and keeps): not the phases' growth. A plain
        # product of one prediction chunk's shape (rows that fit working_memory
        # with their 784 + 128 + 10 values), on arrays freed right after.
        fit_quietly(scratch((128,), 128, 1, SEED), X[:4096], y[:4096]).predict_proba(X[:4096])
        chunk = min(n_rows, working_memory * 2**20 // ((784 + 128 + 10) * 4))
        np.ones((chunk, 784), np.float32) @ np.ones((784, 128), np.float32)
        model = scratch((128,), 128, epochs, SEED)
        with Peak() as fitting:
            fit_quietly(model, X, y)
        with sklearn.config_context(working_memory=working_memory), Peak() as predicting:
            proba = model.predict_proba(X)
        out["train_accuracy_memmap"] = float(np.mean(model.classes_[proba.argmax(axis=1)] == y))
        del proba
        out["test_accuracy_memmap"] = accuracy(model, X_test, y_test)
        phases = {"fit on memmap": fitting, "predict_proba on memmap": predicting}
        # The same rows in memory, the same settings and seed.
        X_mem = np.array(X)
        del X
        memory_model = scratch((128,), 128, epochs, SEED)
        with Peak() as in_memory:
            fit_quietly(memory_model, X_mem, y)
        phases["fit in memory (reference)"] = in_memory
        out["test_accuracy_memory"] = accuracy(memory_model, X_test, y_test)
        del X_mem
    out["file_deleted"] = not path.exists()
    out["phases"] = {
        name: {
            "seconds": p.seconds,
            "rss_anon_growth_bytes": p.growth,
            "vm_hwm_bytes": p.vm_hwm,
            "vm_hwm_reset": p.hwm_reset,
        }
        for name, p in phases.items()
    }
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-gb", type=float, default=2.0, help="size of X in GB (10^9 bytes)")
    parser.add_argument("--quick", action="store_true", help="200 MB, for CI")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--working-memory",
        type=int,
        help="scikit-learn working_memory (MiB) for predict_proba "
        "(default: 1024, scaled down with X below 2 GB)",
    )
    parser.add_argument("--dir", help="directory of the temporary file (default: system temp)")
    args = parser.parse_args(argv)
    size = 0.2 * GB if args.quick else args.size_gb * GB
    working_memory = args.working_memory or max(1, round(1024 * min(1.0, size / (2 * GB))))

    info = machine()
    out = run(size, args.epochs, working_memory, args.dir)
    bound = ANON_BOUND * out["x_bytes"]
    rows, failures = [], []
    for name, phase in out["phases"].items():
        growth = phase["rss_anon_growth_bytes"]
        checked = "memmap" in name
        if checked and growth > bound:
            failures.append(f"{name}: RssAnon grew {growth / MB:.1f} MB > {bound / MB:.1f} MB")
        rows.append(
            [
                name,
                f"{phase['seconds']:.1f}",
                f"{growth / MB:.1f}",
                f"{bound / MB:.1f}" if checked else "-",
                f"{phase['vm_hwm_bytes'] / MB:.0f}" + ("" if phase["vm_hwm_reset"] else "*"),
            ]
        )
    diff = out["test_accuracy_memmap"] - out["test_accuracy_memory"]
    out["test_accuracy_difference"] = diff
    if abs(diff) > ACCURACY_BOUND:
        failures.append(f"held-out accuracy differs by {diff:+.4f} (bound {ACCURACY_BOUND})")
    header = ["phase", "seconds", "RssAnon peak growth (MB)", "bound (MB)", "VmHWM (MB)"]
    report = [
        machine_line(info),
        f"X: {out['rows']:,} x {FEATURES} float32 = {out['x_bytes'] / GB:.2f} GB "
        f"({out['source']}), memory-mapped from a temporary .npy generated in "
        f"{out['generate_s']:.0f} s and deleted after"
        f" ({'deleted' if out['file_deleted'] else 'NOT deleted'}).",
        f"Model: 784-128-10, ReLU, Adam, batch 128, {out['epochs']} epoch(s), seed {SEED}; "
        f"predict_proba with working_memory={out['working_memory_mib']} MiB.",
        "",
        table(header, rows),
        "",
        "VmHWM counts the mapped file's pages too (* where it could not be reset).",
        "",
        table(
            ["fit on", "held-out accuracy (10,000 rows)"],
            [
                ["memmap (shuffled blocks)", f"{out['test_accuracy_memmap']:.4f}"],
                ["memory (full shuffle)", f"{out['test_accuracy_memory']:.4f}"],
                ["difference", f"{diff:+.4f} (bound {ACCURACY_BOUND})"],
            ],
        ),
        f"Training accuracy from predict_proba on the memmap: {out['train_accuracy_memmap']:.4f}",
        "",
        "PASS" if not failures else "FAIL: " + "; ".join(failures),
    ]
    print("\n".join(report))
    save("memmap" + ("-quick" if args.quick else ""), report, {"machine": info, **out})
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
