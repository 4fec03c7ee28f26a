"""Before and after in one process: an older version's fit speed and stream ratio against ours.

Run from the repository root::

    mkdir -p /tmp/old && git archive 3385054 sknumpynet | tar -x -C /tmp/old
    python benchmarks/bench_before_after.py /tmp/old     # about 10 minutes on 2 cores
    python benchmarks/bench_before_after.py --quick      # smoke run: this version against itself

The older package (the ``sknumpynet`` folder inside the given directory) is
copied into a temporary directory as ``sknumpynet_before`` and imported beside
the current one; the package imports itself relatively only, so the copy runs
its own code.  Both versions then train the same data in alternation,
``--repeats`` times, and medians are compared: a busy host slows both alike,
and each after / before ratio is taken within one run (whereas ``bench_fit.py``
and ``bench_stream.py`` run with ``PYTHONPATH`` pointed at old code compare
across runs).

Rows: seconds per epoch of 10-epoch fits in each configuration of
``bench_fit.py``, with each version's steady-state ratio (epochs 8-10 over
epochs 2-4, timed inside the fit), the same for each step optimizer of
``bench_fit.py`` at its first configuration, and the stream ratio of
``bench_stream.py`` (100 ``partial_fit`` calls of 600 rows against one epoch
of ``fit``).  Results go to ``benchmarks/results/before_after[-quick].{json,md}``.
"""

import argparse
import importlib
import shutil
import sys
import tempfile
from pathlib import Path

from _common import (
    late_over_early,
    machine,
    machine_line,
    median,
    save,
    scratch,
    table,
    timed_epochs,
    training_set,
)
from bench_fit import CONFIGS, OPTIMIZERS
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


def epoch_seconds(cls, X, y, hidden, batch_size, epochs, optimizer="adam"):
    """Seconds per epoch of a fit of ``epochs`` epochs, and its late / early ratio."""
    model = scratch(hidden, batch_size, epochs, 0, cls).set_params(optimizer=optimizer)
    seconds, each = timed_epochs(model, X, y)
    return seconds / epochs, late_over_early(each)


def _compare(versions, X, y, cases, repeats, epochs):
    """Rows per case ``(name, hidden, batch_size, optimizer)``: medians of s/epoch
    and of the late / early ratio, before and after, alternating the versions."""
    rows = []
    for name, hidden, batch_size, optimizer in cases:
        runs = {label: [] for label in versions}
        for cls in versions.values():  # warm-up, not timed
            epoch_seconds(cls, X[:2048], y[:2048], hidden, batch_size, 1, optimizer)
        for rep in range(repeats):
            labels = list(versions) if rep % 2 == 0 else list(versions)[::-1]
            for label in labels:
                args = (X, y, hidden, batch_size, epochs, optimizer)
                runs[label].append(epoch_seconds(versions[label], *args))
        before, after = (median([r[0] for r in runs[k]]) for k in ("before", "after"))
        late = {k: median([r[1] for r in runs[k]]) for k in runs}
        rows.append(
            [
                name,
                f"{before:.3f}",
                f"{after:.3f}",
                f"{after / before:.3f}",
                f"{late['before']:.2f}",
                f"{late['after']:.2f}",
            ]
        )
        print(f"{name}: before {before:.3f} s/epoch, after {after:.3f}", flush=True)
    return rows


def compare_fit(versions, X, y, repeats, epochs):
    """Rows for every configuration of bench_fit.py (Adam)."""
    cases = [(name, hidden, batch, "adam") for name, hidden, batch in CONFIGS]
    return _compare(versions, X, y, cases, repeats, epochs)


def compare_optimizers(versions, X, y, repeats, epochs):
    """Rows for every step optimizer of bench_fit.py at its first configuration."""
    _, hidden, batch = CONFIGS[0]
    cases = [(optimizer, hidden, batch, optimizer) for optimizer in OPTIMIZERS]
    return _compare(versions, X, y, cases, repeats, epochs)


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


FIT_COLUMNS = [
    "before (s/epoch)",
    "after (s/epoch)",
    "after / before",
    "8-10 / 2-4 before",
    "8-10 / 2-4 after",
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", nargs="?", help="directory holding the older sknumpynet")
    parser.add_argument("--quick", action="store_true", help="smoke run on small data")
    parser.add_argument("--repeats", type=int, help="alternating repeats (default 5; quick 1)")
    args = parser.parse_args(argv)
    n, calls, epochs = (6_000, 10, 3) if args.quick else (60_000, 100, 10)
    repeats = args.repeats or (1 if args.quick else 3)
    X, y, source = training_set(n)
    info = machine()
    with tempfile.TemporaryDirectory() as into:
        versions = {"before": load_before(args.before, into), "after": ScratchMLPClassifier}
        fit_rows = compare_fit(versions, X, y, repeats, epochs)
        optimizer_rows = compare_optimizers(versions, X, y, repeats, epochs)
        stream_rows = compare_stream(versions, X, y, calls, max(repeats, 3))
    report = [
        machine_line(info),
        f"Before: {args.before or 'this version (smoke run)'}; after: this version.",
        f"Data: {n} x 784 float32 ({source}); ReLU; {epochs}-epoch fits; "
        f"medians of {repeats} alternating runs.",
        "",
        table(["fit (Adam)", *FIT_COLUMNS], fit_rows),
        "",
        table([f"{CONFIGS[0][0]}", *FIT_COLUMNS], optimizer_rows),
        "",
        f"Stream: {calls} x partial_fit({n // calls} rows) against one epoch of fit, "
        "784-128-10, batch 128.",
        "",
        table(["code", "fit (s)", "stream (s)", "ratio", "overhead / call (ms)"], stream_rows),
    ]
    print("\n".join(report))
    save(
        "before_after" + ("-quick" if args.quick else ""),
        report,
        {"machine": info, "fit": fit_rows, "optimizers": optimizer_rows, "stream": stream_rows},
    )


if __name__ == "__main__":
    main()
