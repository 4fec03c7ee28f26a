"""Where a training step's time goes: gather, loss and gradient, optimizer step.

Run from the repository root::

    python benchmarks/bench_batch.py                # this version, about 2 minutes
    python benchmarks/bench_batch.py /tmp/old       # and an older one, alternating
    python benchmarks/bench_batch.py --quick        # smoke run

The loop of ``sknumpynet.nn.Trainer.epoch`` written out with a clock around
each part: gathering the batch rows (``np.take`` into reused buffers),
``MLP.loss_grad`` (forward, loss, backward, L2 penalty) and
``Optimizer.step`` (with its periodic flush; the end-of-epoch flush counts
towards the step), over 10 epochs of the float32 benchmark data at
784-128-10 (Adam, alpha 1e-4), at batch 128 and 512.  Beside them, the GEMM
floor of one batch (``_common.gemm_floor_epoch`` divided by the batches).
With an older package (a folder holding ``sknumpynet``, see
``bench_before_after.py``) both run in alternation, medians of ``--repeats``.
Results go to ``benchmarks/results/batch[-quick].md``.
"""

import argparse
import importlib
import tempfile
import time

import numpy as np
from _common import gemm_floor_epoch, machine, machine_line, median, save, table, training_set
from bench_before_after import load_before

import sknumpynet.nn

HYPER = {"momentum": 0.9, "rho": 0.9, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}


def split(nn, X, Y, batch_size, epochs, optimizer="adam", seed=0):
    """Microseconds per batch of each part, medians over the epochs."""
    net = nn.MLP([X.shape[1], 128, Y.shape[1]], ["relu"], "softmax", dtype=X.dtype)
    rng = np.random.default_rng(seed)
    net.initialize("auto", rng)
    cls = nn.OPTIMIZERS[optimizer]
    opt = cls(1e-3, **{h: HYPER[h] for h in cls.hyperparameters})
    state = opt.init_state(net.params)
    grad = np.empty_like(net.params)
    xb = np.empty((batch_size, X.shape[1]), dtype=X.dtype)
    yb = np.empty((batch_size, Y.shape[1]), dtype=Y.dtype)
    n, clock = len(X), time.perf_counter
    parts = {"gather": [], "loss_grad": [], "step": [], "total": []}
    for _ in range(epochs):
        order = rng.permutation(n)
        spent = dict.fromkeys(parts, 0.0)
        began = clock()
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            m = len(rows)
            t0 = clock()
            Xb = np.take(X, rows, axis=0, out=xb[:m], mode="clip")
            Yb = np.take(Y, rows, axis=0, out=yb[:m], mode="clip")
            t1 = clock()
            net.loss_grad(Xb, Yb, grad, None, 1e-4)
            t2 = clock()
            opt.step(net.params, grad, state)
            t3 = clock()
            spent["gather"] += t1 - t0
            spent["loss_grad"] += t2 - t1
            spent["step"] += t3 - t2
        t4 = clock()
        getattr(opt, "flush", lambda w, s: 0)(net.params, state)
        spent["step"] += clock() - t4
        spent["total"] = clock() - began
        batches = -(-n // batch_size)
        for key, seconds in spent.items():
            parts[key].append(1e6 * seconds / batches)
    return {key: median(values) for key, values in parts.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", nargs="?", help="directory holding an older sknumpynet")
    parser.add_argument("--quick", action="store_true", help="smoke run on small data")
    parser.add_argument("--repeats", type=int, help="alternating repeats (default 3; quick 1)")
    args = parser.parse_args(argv)
    n, epochs = (6_000, 2) if args.quick else (60_000, 10)
    repeats = args.repeats or (1 if args.quick else 3)
    X, y, source = training_set(n)
    Y = np.eye(int(y.max()) + 1, dtype=X.dtype)[y]
    rows = []
    with tempfile.TemporaryDirectory() as into:
        versions = {"after": sknumpynet.nn}
        if args.before:
            load_before(args.before, into)
            versions = {"before": importlib.import_module("sknumpynet_before.nn"), **versions}
        for batch_size in (128, 512):
            floor = 1e6 * gemm_floor_epoch([784, 128, 10], batch_size, n) / -(-n // batch_size)
            results = {label: [] for label in versions}
            for rep in range(repeats):
                for label in list(versions)[:: 1 if rep % 2 == 0 else -1]:
                    results[label].append(split(versions[label], X, Y, batch_size, epochs))
            for label, runs in results.items():
                parts = {key: median([r[key] for r in runs]) for key in runs[0]}
                rows.append(
                    [
                        f"batch {batch_size}",
                        label,
                        f"{floor:.0f}",
                        *(f"{parts[k]:.0f}" for k in ("gather", "loss_grad", "step", "total")),
                        f"{parts['total'] / floor:.2f}x",
                    ]
                )
            print(table(HEADER, rows[-len(versions) :]), flush=True)
    info = machine()
    report = [
        machine_line(info),
        f"Data: {n} x 784 float32 ({source}); 784-128-10, Adam, alpha 1e-4; us per batch, "
        f"medians over {epochs} epochs and {repeats} runs.",
        "",
        table(HEADER, rows),
    ]
    print("\n".join(report))
    save("batch" + ("-quick" if args.quick else ""), report)


HEADER = [
    "batch",
    "code",
    "GEMM floor",
    "gather",
    "loss_grad",
    "step",
    "total",
    "total / floor",
]


if __name__ == "__main__":
    main()
