"""Training speed, memory and accuracy of ScratchMLPClassifier against its floor and rivals.

Run from the repository root::

    python benchmarks/bench_fit.py            # everything, ~10 minutes on 2 cores
    python benchmarks/bench_fit.py --quick    # smoke test: 10-epoch fits of 2,000 rows

Sections (``--sections`` picks some):

fit
    Whole training runs of ``--epochs`` epochs (default 10): seconds per epoch
    of ScratchMLPClassifier (also with ``dropout=0.5``), MLPClassifier and
    (when importable) PyTorch on CPU, beside the *GEMM floor*: the forward and
    backward matrix products of the same architecture and batches, on
    preallocated float32 arrays, and nothing else.  Each epoch is timed inside
    the fit (see ``_common.timed_epochs``), so the table also gives the
    steady-state ratio: the time of epochs 8-10 over that of epochs 2-4, which
    is 1 when nothing slows training down as it goes (subnormal weights did).
    Same float32 MNIST-shaped data and settings for all; contenders run in
    alternation, ``--repeats`` times, and medians are reported.
optimizers
    The same ratio and seconds per epoch for each step optimizer at the first
    configuration (784-128-10, batch 128).
memory
    Peak memory added by ``fit`` (tracemalloc, which sees NumPy's buffers but
    not PyTorch's) against the bytes of ``X``.
accuracy
    Test accuracy on a held-out split of real images at the same architecture,
    optimizer and epochs, mean and standard deviation over seeds.
predict, gridsearch
    See ``bench_predict.py`` and ``bench_gridsearch.py``.

Tables are printed and saved, with the machine's description, to
``benchmarks/results/latest[-quick].{json,md,rst}`` (git-ignored; ``--quick``
runs go to ``latest-quick`` and leave a full run's files alone).
"""

import argparse
import gc
import time
import tracemalloc

import numpy as np
from _common import (
    CONTENDERS,
    LABELS,
    fit_quietly,
    gemm_floor_epoch,
    held_out_split,
    late_over_early,
    machine,
    machine_line,
    median,
    rst_table,
    save,
    scratch,
    table,
    timed_epochs,
    torch,
    training_set,
)

# (name, hidden layers, batch size); the first one is the target configuration.
CONFIGS = [
    ("784-128-10, batch 128", (128,), 128),
    ("784-128-10, batch 32", (128,), 32),
    ("784-128-10, batch 512", (128,), 512),
    ("784-512-256-10, batch 128", (512, 256), 128),
]
OPTIMIZERS = ["adam", "rmsprop", "momentum", "nesterov", "sgd"]
FLOOR_EPOCHS = 3  # per repetition; the floor's own epochs do not drift


def _runners(X, y, hidden, batch_size, epochs):
    """Callables that each train one contender for ``epochs`` epochs (or time the
    floor) and return ``(seconds, seconds of each epoch)``."""
    sizes = [X.shape[1], *hidden, int(y.max()) + 1]

    def floor():
        times = [gemm_floor_epoch(sizes, batch_size, len(X)) for _ in range(FLOOR_EPOCHS)]
        return sum(times) * epochs / FLOOR_EPOCHS, np.array(times)

    runners = {"floor": floor}
    for key, make in CONTENDERS.items():
        runners[key] = lambda make=make: timed_epochs(make(hidden, batch_size, epochs, 0), X, y)
        # Warm-up: BLAS threads, first-call imports, torch's thread pool.
        fit_quietly(make(hidden, batch_size, 1, 0), X[: 4 * batch_size], y[: 4 * batch_size])
    # The cost of dropout (issue 9's target: <= 15% over the same fit without it).
    runners["dropout"] = lambda: timed_epochs(
        CONTENDERS["scratch"](hidden, batch_size, epochs, 0).set_params(dropout=0.5), X, y
    )
    return runners


LABELS = {**LABELS, "dropout": "Scratch, dropout=0.5"}


def _alternate(runners, repeats):
    """Every runner's results over ``repeats`` rounds, the order rotating each round
    so that no contender always runs right after another."""
    results = {key: [] for key in runners}
    order = list(runners)
    for rep in range(repeats):
        for key in order[rep % len(order) :] + order[: rep % len(order)]:
            gc.collect()
            results[key].append(runners[key]())
    return results


def _raw(runs):
    return {"fit_seconds": [r[0] for r in runs], "epoch_seconds": [r[1].tolist() for r in runs]}


def _ratio_cell(ratios):
    value = median(ratios)
    return "n/a" if np.isnan(value) else f"{value:.2f}"


def bench_fit(X, y, configs, repeats, epochs):
    """Median seconds per epoch of the floor and every contender, per configuration,
    with the speed-up over MLPClassifier and the late / early epoch ratio."""
    rows, raw = [], {}
    for name, hidden, batch_size in configs:
        results = _alternate(_runners(X, y, hidden, batch_size, epochs), repeats)
        fit_s = {key: median([r[0] for r in runs]) for key, runs in results.items()}
        ratios = {key: [late_over_early(r[1]) for r in runs] for key, runs in results.items()}
        raw[name] = {key: _raw(runs) for key, runs in results.items()}
        floor = fit_s["floor"]
        for key, seconds in fit_s.items():
            rows.append(
                [
                    name,
                    LABELS[key],
                    f"{seconds / epochs:.3f}",
                    f"{seconds / floor:.2f}x",
                    "" if key == "floor" else f"{fit_s['sklearn'] / seconds:.2f}x",
                    "" if key == "floor" else _ratio_cell(ratios[key]),
                ]
            )
        print(table(FIT_HEADER, rows[-len(fit_s) :]), flush=True)
    return rows, raw


FIT_HEADER = [
    "configuration",
    "model",
    "s/epoch",
    "vs floor",
    "speed-up vs sklearn",
    "epochs 8-10 / 2-4",
]


def bench_optimizers(X, y, hidden, batch_size, repeats, epochs):
    """Seconds per epoch and the late / early ratio of every step optimizer."""
    runners = {
        opt: lambda opt=opt: timed_epochs(
            scratch(hidden, batch_size, epochs, 0).set_params(optimizer=opt), X, y
        )
        for opt in OPTIMIZERS
    }
    results = _alternate(runners, repeats)
    rows, raw = [], {}
    for opt, runs in results.items():
        epochs_s = np.median([r[1] for r in runs], axis=0)
        raw[opt] = _raw(runs)
        rows.append(
            [
                opt,
                f"{median([r[0] for r in runs]) / epochs:.3f}",
                f"{epochs_s[1:4].mean():.3f}" if len(epochs_s) >= 4 else "n/a",
                f"{epochs_s[7:10].mean():.3f}" if len(epochs_s) >= 10 else "n/a",
                _ratio_cell([late_over_early(r[1]) for r in runs]),
            ]
        )
    return rows, raw


OPTIMIZER_HEADER = ["optimizer", "s/epoch", "epochs 2-4 (s)", "epochs 8-10 (s)", "8-10 / 2-4"]


def _peak_of_fit(model, X, y):
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    fit_quietly(model, X, y)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return peak


def bench_memory(X, y, hidden, batch_size):
    """Peak bytes allocated during one epoch of ``fit``, for the NumPy-based contenders.

    The model's own buffers (weights, gradient, optimizer state, batch
    buffers) do not grow with the data, so a fit on two batches measures them;
    the rest of the peak is what the data costs beyond ``X`` itself.
    """
    rows, raw = [], {}
    for key in ("scratch", "sklearn"):
        make = CONTENDERS[key]
        peak = _peak_of_fit(make(hidden, batch_size, 1, seed=0), X, y)
        own = _peak_of_fit(
            make(hidden, batch_size, 1, seed=0), X[: 2 * batch_size], y[: 2 * batch_size]
        )
        raw[key] = {"peak_bytes": peak, "own_buffers_bytes": own, "X_bytes": X.nbytes}
        rows.append(
            [
                LABELS[key],
                f"{X.nbytes / 1e6:.1f}",
                f"{peak / 1e6:.1f}",
                f"{own / 1e6:.1f}",
                f"{100 * (peak - own) / X.nbytes:.1f}%",
            ]
        )
    return rows, raw


MEMORY_HEADER = [
    "model",
    "X (MB)",
    "peak added by fit (MB)",
    "own buffers (MB)",
    "(peak - own) / X",
]


def bench_accuracy(hidden, batch_size, epochs, seeds):
    """Held-out accuracy of every contender, mean and std over ``seeds``."""
    X_train, X_test, y_train, y_test, source = held_out_split(seed=0)
    rows, raw = [], {}
    for key, make in CONTENDERS.items():
        scores = [
            fit_quietly(make(hidden, batch_size, epochs, seed), X_train, y_train).score(
                X_test, y_test
            )
            for seed in range(seeds)
        ]
        raw[key] = scores
        rows.append([LABELS[key], f"{np.mean(scores):.4f}", f"{np.std(scores):.4f}", seeds])
    return rows, raw, f"{source}: {len(X_train)} train / {len(X_test)} test, {epochs} epochs"


ACCURACY_HEADER = ["model", "test accuracy", "std", "seeds"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--sections", default="fit,optimizers,memory,accuracy,predict,gridsearch")
    parser.add_argument("--samples", type=int, help="training rows (default 60000, quick 2000)")
    parser.add_argument("--repeats", type=int, help="timed runs per contender (default 3, quick 1)")
    parser.add_argument(
        "--epochs",
        type=int,
        help="epochs per timed fit (default 10, the least the ratio needs; quick too)",
    )
    parser.add_argument(
        "--threads", type=int, help="BLAS and torch threads (default: the libraries' own)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(args.threads)  # noqa: F841 - held for the whole run
        if torch is not None:
            torch.set_num_threads(args.threads)
    quick = args.quick
    n = args.samples or (2_000 if quick else 60_000)
    repeats = args.repeats or (1 if quick else 3)
    epochs = args.epochs or 10  # the steady-state ratio needs 10, quick runs too
    sections = args.sections.split(",")

    info = machine()
    out = {"machine": info, "settings": {"samples": n, "repeats": repeats, "epochs": epochs}}
    report = [machine_line(info)]
    rst = []
    print(report[0], flush=True)
    start = time.perf_counter()
    name, hidden, batch_size = CONFIGS[0]
    X = y = None
    if {"fit", "optimizers", "memory"} & set(sections):
        X, y, source = training_set(n)
        report.append(
            f"Data: {n} x {X.shape[1]} float32 ({source}); Adam, alpha 1e-4, ReLU; "
            f"{epochs} epochs per fit."
        )
        print(report[-1], flush=True)

    def add(title, header, rows):
        report.extend(["", f"## {title}", "", table(header, rows)])
        rst.extend(["", title, "-" * len(title), "", rst_table(header, rows)])
        print("\n".join(report[-4:]), flush=True)

    if "fit" in sections:
        rows, out["fit"] = bench_fit(X, y, CONFIGS, repeats, epochs)
        add(
            f"Seconds per epoch of {epochs}-epoch fits ({n} samples, median of {repeats})",
            FIT_HEADER,
            rows,
        )
    if "optimizers" in sections:
        rows, out["optimizers"] = bench_optimizers(X, y, hidden, batch_size, repeats, epochs)
        add(f"Steady state per optimizer, {name}", OPTIMIZER_HEADER, rows)
    if "memory" in sections:
        rows, out["memory"] = bench_memory(X, y, hidden, batch_size)
        add(f"Memory, one epoch at {name}", MEMORY_HEADER, rows)
    del X, y
    if "accuracy" in sections:
        rows, out["accuracy"], what = bench_accuracy(
            hidden, batch_size, epochs=3 if quick else 20, seeds=1 if quick else 3
        )
        add(f"Held-out accuracy, {name} ({what})", ACCURACY_HEADER, rows)
    if "predict" in sections:
        import bench_predict

        rows, out["predict"] = bench_predict.run(quick)
        add("Prediction (predict_proba)", bench_predict.HEADER, rows)
    if "gridsearch" in sections:
        import bench_gridsearch

        rows, out["gridsearch"], what = bench_gridsearch.run(quick)
        add(f"GridSearchCV on digits ({what})", bench_gridsearch.HEADER, rows)
    report.append(f"\nTotal benchmark time: {time.perf_counter() - start:.0f} s")
    print(report[-1])
    save("latest" + ("-quick" if quick else ""), report, out, rst=[report[0], *rst])


if __name__ == "__main__":
    main()
