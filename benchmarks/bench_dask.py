"""A GridSearchCV on a Dask cluster: BLAS threads per worker, limited or not.

Run from the repository root (needs the ``dask`` extra)::

    python benchmarks/bench_dask.py            # 2-5 minutes on 2 cores, mostly oversubscribed
    python benchmarks/bench_dask.py --quick    # smoke test

The same 16-candidate, 3-fold GridSearchCV of ScratchMLPClassifier on digits
(scaled to [0, 1], float32; a fixed number of epochs per fit, no early stop)
runs four ways:

default, n_jobs=1
    scikit-learn's default: every fit in this process, one after the other,
    NumPy's BLAS with its own thread count (one per core).
loky, n_jobs=W
    joblib's local worker processes; loky itself caps each worker's BLAS at
    ``cores // W`` threads.
dask, BLAS limited
    ``parallel_config(backend="dask")`` on a LocalCluster of W single-threaded
    worker processes whose BLAS a worker plugin (threadpoolctl) caps at
    ``cores // W`` threads, so that workers x BLAS threads = cores.
dask, BLAS unlimited
    The same cluster with every worker's BLAS raised to ``cores`` threads:
    W x cores threads compete for the cores (oversubscribed). This is what a
    cluster gives when workers start without the nanny's default
    ``OMP_NUM_THREADS=1`` (``dask worker --no-nanny``, or the variable set
    higher in the environment) and nothing limits BLAS.

The configurations run in alternation (the order rotates each repetition);
after one untimed warm-up
run each, the median of ``--repeats`` runs is reported, and whether each reproduces the
``n_jobs=1`` search's test scores exactly. Cluster start-up is timed apart.
The table is printed and saved to ``benchmarks/results/dask[-quick].md`` (and .rst).
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from _common import machine, machine_line, median, rst_table, save, table
from joblib import parallel_config
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sknumpynet import ScratchMLPClassifier

try:
    import cloudpickle
    import distributed

    from sknumpynet.parallel import BLASThreadLimit
except ImportError:  # pragma: no cover - depends on the environment
    sys.exit("bench_dask.py needs the dask extra: pip install 'sknumpynet[dask]'")

GRID = {
    "hidden_layer_sizes": [(128,), (256,)],
    "alpha": [1e-4, 1e-3],
    "learning_rate_init": [1e-3, 3e-3],
    "batch_size": [64, 128],
}
HEADER = ["configuration", "processes x BLAS threads", "seconds", "runs", "speed-up", "same scores"]
CAP = "Stochastic Optimizer: Maximum iterations"


def _quiet():
    warnings.filterwarnings("ignore", CAP, ConvergenceWarning)


def _worker_blas_threads():
    from threadpoolctl import threadpool_info

    return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


def _search(X, y, epochs, n_jobs):
    estimator = ScratchMLPClassifier(
        max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1, random_state=0
    )
    search = GridSearchCV(estimator, GRID, cv=3, n_jobs=n_jobs)
    start = time.perf_counter()
    with warnings.catch_warnings():
        _quiet()
        search.fit(X, y)
    return time.perf_counter() - start, search


def _scores(search):
    return np.array([search.cv_results_[f"split{k}_test_score"] for k in range(3)])


def run(quick=False, repeats=3, workers=2):
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    epochs = 3 if quick else 20
    repeats = 1 if quick else repeats
    cores = os.cpu_count()
    limited = max(1, cores // workers)

    # Workers unpickle the plugin without importing this script's module.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    environ = dict(os.environ)
    start = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    client.wait_for_workers(workers)
    startup = time.perf_counter() - start
    # The nanny leaves OMP_NUM_THREADS=1 etc. in this process's environment,
    # which loky's workers would inherit; undo it.
    for key in set(os.environ) - set(environ):
        del os.environ[key]
    os.environ.update(environ)
    client.run(_quiet)

    def dask_search(blas, epochs):
        client.register_plugin(BLASThreadLimit(blas))  # replaces the previous one
        assert set(client.run(_worker_blas_threads).values()) == {blas}
        with parallel_config(backend="dask", n_jobs=-1):
            return _search(X, y, epochs, None)

    configs = {
        "default, n_jobs=1": (f"1 x {cores}", lambda e: _search(X, y, e, 1)),
        f"loky, n_jobs={workers}": (f"{workers} x {limited}", lambda e: _search(X, y, e, workers)),
        "dask, BLAS limited": (f"{workers} x {limited}", lambda e: dask_search(limited, e)),
        "dask, BLAS unlimited": (f"{workers} x {cores}", lambda e: dask_search(cores, e)),
    }
    times = {name: [] for name in configs}
    scores = {}
    try:
        # Untimed warm-up: loky's processes start, workers import sknumpynet.
        for _, config in configs.values():
            config(1)
        for rep in range(repeats):
            names = list(configs)
            names = names[rep % len(names) :] + names[: rep % len(names)]
            for name in names:
                seconds, search = configs[name][1](epochs)
                times[name].append(seconds)
                scores[name] = _scores(search)
    finally:
        client.close()
        cluster.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])

    base = median(times["default, n_jobs=1"])
    reference = scores["default, n_jobs=1"]
    rows, raw = [], {"cluster_startup_s": startup}
    for name, (layout, _) in configs.items():
        same = "yes" if np.array_equal(scores[name], reference) else "no"
        seconds = median(times[name])
        runs = " / ".join(f"{t:.1f}" for t in times[name])
        rows.append([name, layout, f"{seconds:.1f}", runs, f"{base / seconds:.2f}x", same])
        raw[name] = {"seconds": times[name], "same_scores": same}
    n_candidates = int(np.prod([len(v) for v in GRID.values()]))
    note = (
        f"{n_candidates} candidates x 3 folds on digits, {epochs} epochs per fit, "
        f"median of {repeats}; LocalCluster of {workers} workers started in {startup:.1f} s"
    )
    return rows, raw, note


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    rows, raw, note = run(args.quick, args.repeats, args.workers)
    info = machine()
    head = (
        machine_line(info)
        + f", dask {distributed.__version__}; load average {load:.1f} at the start, "
        + f"{os.getloadavg()[0]:.1f} at the end"
    )
    report = [head, "", f"## dask grid search ({note})", "", table(HEADER, rows)]
    print("\n".join(report))
    save(
        "dask" + ("-quick" if args.quick else ""),
        report,
        rst=[head, "", f"dask grid search ({note})", "", rst_table(HEADER, rows)],
    )
