"""Streaming: 100 ``partial_fit`` calls of 600 rows against one epoch of ``fit`` on the 60,000.

Run from the repository root::

    python benchmarks/bench_stream.py            # the issue's measurement
    python benchmarks/bench_stream.py --quick    # smoke run, a few seconds

Both sides train ScratchMLPClassifier at the benchmark settings (784-128-10,
ReLU, Adam, batch 128, float32 MNIST-shaped rows from ``_common.training_set``)
over the same rows: ``fit`` for one epoch, or a fresh estimator fed the rows
in consecutive chunks by ``partial_fit``.  Each side starts from an unfitted
estimator (its first call initialises the network); the two alternate,
``--repeats`` times, and the medians are compared.  The target is a ratio
(stream / fit) of at most 1.25.

The script runs against whatever ``sknumpynet`` is importable, so an older
checkout measures "before"::

    PYTHONPATH=/path/to/old/checkout python benchmarks/bench_stream.py --label before

Results go to ``benchmarks/results/stream[-quick][-LABEL].{json,md}``.
"""

import argparse
import time

import numpy as np
from _common import fit_quietly, machine, machine_line, median, save, scratch, table, training_set

import sknumpynet
from sknumpynet import ScratchMLPClassifier

TARGET = 1.25
HEADER = ["run", "seconds (median)", "all repeats (s)", "per call (ms)"]


def one_epoch_fit(X, y, seed=0, cls=ScratchMLPClassifier):
    """Seconds for one epoch of ``fit`` from an unfitted ``cls``."""
    model = scratch((128,), 128, 1, seed, cls)
    start = time.perf_counter()
    fit_quietly(model, X, y)
    return time.perf_counter() - start


def stream(X, y, calls, seed=0, cls=ScratchMLPClassifier):
    """Seconds for ``calls`` partial_fit calls of an unfitted ``cls`` over consecutive
    chunks of ``X``."""
    model = scratch((128,), 128, 1, seed, cls)
    classes = np.unique(y)
    bounds = np.linspace(0, len(X), calls + 1).astype(int)
    start = time.perf_counter()
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        model.partial_fit(X[lo:hi], y[lo:hi], classes=classes)
    return time.perf_counter() - start


def run(n, calls, repeats):
    """Median seconds of one epoch of ``fit`` and of the stream, and their ratio."""
    X, y, source = training_set(n)
    # Warm-up (imports, BLAS buffers, first-touch of X): not timed.
    one_epoch_fit(X[: 10 * 128], y[: 10 * 128])
    stream(X[: 10 * 128], y[: 10 * 128], 2)
    fits, streams = [], []
    for _ in range(repeats):  # alternate, so that load from elsewhere hits both alike
        fits.append(one_epoch_fit(X, y))
        streams.append(stream(X, y, calls))
    fit_s, stream_s = median(fits), median(streams)
    return {
        "samples": n,
        "calls": calls,
        "rows_per_call": n // calls,
        "repeats": repeats,
        "source": source,
        "fit_s": fits,
        "stream_s": streams,
        "fit_median_s": fit_s,
        "stream_median_s": stream_s,
        "ratio": stream_s / fit_s,
        # What a call costs beyond the training its rows would get inside fit.
        "overhead_per_call_ms": 1e3 * (stream_s - fit_s) / calls,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 12,000 rows, 20 calls")
    parser.add_argument("--repeats", type=int, help="alternating repeats (default 7; quick 2)")
    parser.add_argument("--label", default="", help="suffix of the results files, e.g. before")
    args = parser.parse_args(argv)
    n, calls = (12_000, 20) if args.quick else (60_000, 100)
    repeats = args.repeats or (2 if args.quick else 7)

    info = machine()
    info["sknumpynet"] = f"{getattr(sknumpynet, '__version__', '?')} ({sknumpynet.__file__})"
    result = run(n, calls, repeats)
    rows = [
        [
            "fit, 1 epoch",
            f"{result['fit_median_s']:.3f}",
            " ".join(f"{s:.3f}" for s in result["fit_s"]),
            "",
        ],
        [
            f"{calls} x partial_fit({n // calls} rows)",
            f"{result['stream_median_s']:.3f}",
            " ".join(f"{s:.3f}" for s in result["stream_s"]),
            f"{1e3 * result['stream_median_s'] / calls:.2f}",
        ],
    ]
    verdict = "meets" if result["ratio"] <= TARGET else "misses"
    report = [
        machine_line(info),
        f"Data: {n} x 784 float32 ({result['source']}); 784-128-10, ReLU, Adam, batch 128.",
        "",
        table(HEADER, rows),
        "",
        f"Ratio stream / fit: {result['ratio']:.2f} ({verdict} the target <= {TARGET}); "
        f"overhead {result['overhead_per_call_ms']:.2f} ms per call.",
    ]
    print("\n".join(report))
    suffix = ("-quick" if args.quick else "") + (f"-{args.label}" if args.label else "")
    save(f"stream{suffix}", report, {"machine": info, **result})
    return result


if __name__ == "__main__":
    main()
