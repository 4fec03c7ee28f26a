"""Before and after in one process: an older version's fit speed and stream ratio against ours.

Run from the repository root::

    mkdir -p /tmp/old && git archive 3385054 sknumpynet | tar -x -C /tmp/old
    python benchmarks/bench_before_after.py /tmp/old     # about 3 minutes on 2 cores
    python benchmarks/bench_before_after.py --quick      # smoke run: this version against itself

The older package (the ``sknumpynet`` folder inside the given directory) is
copied into a temporary directory as ``sknumpynet_before`` and imported beside
the current one; the package imports itself relatively only, so the copy runs
its own code.  Both versions then train the same data in alternation,
``--repeats`` times, and medians are compared: a busy host slows both alike,
and each after / before ratio is taken within one run (whereas ``bench_fit.py``
and ``bench_stream.py`` run with ``PYTHONPATH`` pointed at old code compare
across runs).

Rows: seconds per epoch of ``fit`` in each configuration of ``bench_fit.py``,
and the stream ratio of ``bench_stream.py`` (100 ``partial_fit`` calls of 600
rows against one epoch of ``fit``).  Results go to
``benchmarks/results/before_after[-quick].{json,md}``.
"""

import argparse
import importlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import RESULTS, fit_quietly, machine, median, scratch, table, training_set
from bench_fit import CONFIGS
from bench_stream import one_epoch_fit, stream

from sknumpynet import ScratchMLPClassifier


def load_before(path, into):
    """The ScratchMLPClassifier of the package in ``path`` (None: this version's),
    imported as ``sknumpynet_before`` from a copy in the directory ``into``."""
    if path is None:
        return ScratchMLPClassifier
    source = Path(path) / "sknumpynet"
    if not (source / "__init__.py").is_file():
        raise SystemExit(f"{source} is not a package; export one with git archive (see above).")
    shutil.copytree(source, Path(into) / "sknumpynet_before")
    sys.path.insert(0, str(into))
    return importlib.import_module("sknumpynet_before").ScratchMLPClassifier


def epoch_seconds(cls, X, y, hidden, batch_size, epochs):
    model = scratch(hidden, batch_size, epochs, 0, cls)
    start = time.perf_counter()
    fit_quietly(model, X, y)
    return (time.perf_counter() - start) / epochs


def compare_fit(versions, X, y, repeats, epochs):
    """Rows of median seconds per epoch, per configuration: before, after, ratio."""
    rows = []
    for name, hidden, batch_size in CONFIGS:
        times = {label: [] for label in versions}
        for cls in versions.values():  # warm-up, not timed
            epoch_seconds(cls, X[:2048], y[:2048], hidden, batch_size, 1)
        for _ in range(repeats):
            for label, cls in versions.items():
                times[label].append(epoch_seconds(cls, X, y, hidden, batch_size, epochs))
        before, after = median(times["before"]), median(times["after"])
        rows.append([name, f"{before:.3f}", f"{after:.3f}", f"{after / before:.3f}"])
        print(f"{name}: before {before:.3f} s/epoch, after {after:.3f}", flush=True)
    return rows


def compare_stream(versions, X, y, calls, repeats):
    """Rows of the stream ratio (partial_fit stream / one epoch of fit), per version."""
    fits = {label: [] for label in versions}
    streams = {label: [] for label in versions}
    for cls in versions.values():  # warm-up, not timed
        one_epoch_fit(X[:1280], y[:1280], cls=cls)
        stream(X[:1280], y[:1280], 2, cls=cls)
    for _ in range(repeats):
        for label, cls in versions.items():
            fits[label].append(one_epoch_fit(X, y, cls=cls))
            streams[label].append(stream(X, y, calls, cls=cls))
    rows = []
    for label in versions:
        fit_s, stream_s = median(fits[label]), median(streams[label])
        overhead = 1e3 * (stream_s - fit_s) / calls
        rows.append(
            [label, f"{fit_s:.3f}", f"{stream_s:.3f}", f"{stream_s / fit_s:.2f}", f"{overhead:.2f}"]
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", nargs="?", help="directory holding the older sknumpynet")
    parser.add_argument("--quick", action="store_true", help="smoke run on small data")
    parser.add_argument("--repeats", type=int, help="alternating repeats (default 5; quick 1)")
    args = parser.parse_args(argv)
    n, calls, epochs = (6_000, 10, 1) if args.quick else (60_000, 100, 2)
    repeats = args.repeats or (1 if args.quick else 5)
    X, y, source = training_set(n)
    info = machine()
    with tempfile.TemporaryDirectory() as into:
        versions = {"before": load_before(args.before, into), "after": ScratchMLPClassifier}
        fit_rows = compare_fit(versions, X, y, repeats, epochs)
        stream_rows = compare_stream(versions, X, y, calls, max(repeats, 3))
    report = [
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        f"Before: {args.before or 'this version (smoke run)'}; after: this version.",
        f"Data: {n} x 784 float32 ({source}); Adam, ReLU; medians of {repeats} alternating runs.",
        "",
        table(["fit", "before (s/epoch)", "after (s/epoch)", "after / before"], fit_rows),
        "",
        f"Stream: {calls} x partial_fit({n // calls} rows) against one epoch of fit, "
        "784-128-10, batch 128.",
        "",
        table(["code", "fit (s)", "stream (s)", "ratio", "overhead / call (ms)"], stream_rows),
    ]
    print("\n".join(report))
    suffix = "-quick" if args.quick else ""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"before_after{suffix}.md").write_text("\n".join(report) + "\n")
    (RESULTS / f"before_after{suffix}.json").write_text(
        json.dumps({"machine": info, "fit": fit_rows, "stream": stream_rows}, indent=1)
    )
    print(f"Saved {RESULTS / f'before_after{suffix}.md'} (and .json).")


if __name__ == "__main__":
    main()
