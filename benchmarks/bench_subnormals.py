"""Subnormal floats: training with and without the flush, and what the flush costs.

Run from the repository root::

    python benchmarks/bench_subnormals.py            # about 4 minutes on 2 cores
    python benchmarks/bench_subnormals.py --quick    # smoke run: 2 optimizers, 10 short epochs

Training rows are the 8,000 training images of ``_common.held_out_split``
repeated to 60,000 rows (pixels unchanged, so MNIST's border pixels are zero in
every row); 784-128-10, batch 128, 10 epochs, float32, the benchmark settings
of ``_common.scratch`` with each optimizer's own defaults.  Each optimizer
trains twice, in alternation: as shipped, and with ``Optimizer.flush``
replaced by a no-op (training as it was before the flush existed).  The table
gives, for both, the seconds of epochs 2-4 and 8-10 (timed inside the fit), how
many entries of the weights and optimizer state end subnormal, the held-out
accuracy and whether the loss curves agree at the precision ``verbose``
prints (6 decimals).  A second table times one flush and one step of each
optimizer alone, on the 101,770 parameters of that network.

Results go to ``benchmarks/results/subnormals[-quick].{json,md}``.
"""

import argparse
import time

import numpy as np
from _common import (
    held_out_split,
    late_over_early,
    machine,
    machine_line,
    median,
    save,
    scratch,
    table,
    timed_epochs,
)

from sknumpynet.nn import OPTIMIZERS
from sknumpynet.nn.optimizers import FLUSH_EVERY, Optimizer

NAMES = ["adam", "rmsprop", "momentum", "nesterov", "sgd"]


def subnormal_count(x):
    return int(np.count_nonzero((x != 0) & (np.abs(x) < np.finfo(x.dtype).tiny)))


def _train(name, flush, X, y, epochs):
    real = Optimizer.flush
    if not flush:
        Optimizer.flush = lambda self, w, state: 0
    try:
        model = scratch((128,), 128, epochs, 0).set_params(optimizer=name)
        seconds, each = timed_epochs(model, X, y)
    finally:
        Optimizer.flush = real
    state = [v for v in model._optimizer_state.values() if isinstance(v, np.ndarray)]
    left = sum(subnormal_count(a) for a in (*model.coefs_, *model.intercepts_, *state))
    return model, each, left


def compare(names, X, y, X_test, y_test, epochs, repeats):
    rows, raw = [], {}
    for name in names:
        runs = {True: [], False: []}
        for rep in range(repeats):
            for flush in (True, False) if rep % 2 == 0 else (False, True):
                runs[flush].append(_train(name, flush, X, y, epochs))
        curves = {f: [f"{loss:.6f}" for loss in runs[f][0][0].loss_curve_] for f in runs}
        scores = {f: runs[f][0][0].score(X_test, y_test) for f in runs}
        raw[name] = {
            ("flush" if f else "no flush"): {
                "epoch_seconds": [r[1].tolist() for r in runs[f]],
                "subnormals_left": [r[2] for r in runs[f]],
                "loss_curve": curves[f],
                "test_accuracy": scores[f],
            }
            for f in runs
        }
        for flush in (False, True):
            each = np.median([r[1] for r in runs[flush]], axis=0)
            rows.append(
                [
                    name,
                    "flushed" if flush else "not flushed",
                    f"{each[1:4].mean():.3f}" if epochs >= 4 else "n/a",
                    f"{each[7:10].mean():.3f}" if epochs >= 10 else "n/a",
                    f"{median([late_over_early(r[1]) for r in runs[flush]]):.2f}",
                    f"{runs[flush][0][2]:,}",
                    f"{scores[flush]:.4f}",
                    "yes" if curves[True] == curves[False] else "NO",
                ]
            )
        print(table(HEADER, rows[-2:]), flush=True)
    return rows, raw


HEADER = [
    "optimizer",
    "run",
    "epochs 2-4 (s)",
    "epochs 8-10 (s)",
    "8-10 / 2-4",
    "subnormals left",
    "test accuracy",
    "same loss curve",
]


def flush_cost(names, n_params=101_770, repeats=300):
    """Microseconds of one step and one flush of each optimizer, alone (clean values)."""
    rng = np.random.default_rng(0)
    rows = []
    for name in names:
        cls = OPTIMIZERS[name]
        hyper = {"momentum": 0.9, "rho": 0.9, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}
        opt = cls(1e-3, **{h: hyper[h] for h in cls.hyperparameters})
        opt.flush_every = 10**9  # time the step alone
        w = rng.standard_normal(n_params).astype(np.float32)
        state = opt.init_state(w)
        g0 = rng.standard_normal(n_params).astype(np.float32)
        g = np.empty_like(g0)
        steps, flushes = [], []
        for _ in range(repeats):
            np.copyto(g, g0)
            start = time.perf_counter()
            opt.step(w, g, state)
            middle = time.perf_counter()
            opt.flush(w, state)
            flushes.append(time.perf_counter() - middle)
            steps.append(middle - start)
        step_us, flush_us = 1e6 * median(steps), 1e6 * median(flushes)
        rows.append(
            [
                name,
                1 + len(cls.state_names),
                f"{step_us:.0f}",
                f"{flush_us:.0f}",
                f"{flush_us / FLUSH_EVERY:.1f}",
                f"{100 * flush_us / FLUSH_EVERY / step_us:.1f}%",
            ]
        )
    return rows


COST_HEADER = [
    "optimizer",
    "arrays flushed",
    "step (us)",
    "flush (us)",
    f"flush / {FLUSH_EVERY} steps (us)",
    "of the step",
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--repeats", type=int, help="runs of each variant (default 1)")
    args = parser.parse_args(argv)
    n, epochs = (1_000, 10) if args.quick else (60_000, 10)  # 10: the late / early ratio
    repeats = args.repeats or 1
    names = NAMES[:2] if args.quick else NAMES
    X_train, X_test, y_train, y_test, source = held_out_split(seed=0)
    rows_of = np.arange(n) % len(X_train)
    X, y = np.ascontiguousarray(X_train[rows_of]), y_train[rows_of]
    info = machine()
    rows, raw = compare(names, X, y, X_test, y_test, epochs, repeats)
    cost_rows = flush_cost(names)
    report = [
        machine_line(info),
        f"Data: {n} rows cycling through the {len(X_train)} training images of {source}, "
        f"tested on the {len(X_test)} held out; 784-128-10, batch 128, {epochs} epochs, "
        f"float32; medians of {repeats} alternating runs.",
        "",
        table(HEADER, rows),
        "",
        f"One step and one flush alone, 101,770 float32 parameters (flush every {FLUSH_EVERY} "
        "steps):",
        "",
        table(COST_HEADER, cost_rows),
    ]
    print("\n".join(report))
    save(
        "subnormals" + ("-quick" if args.quick else ""),
        report,
        {"machine": info, "training": raw, "cost": cost_rows},
    )


if __name__ == "__main__":
    main()
