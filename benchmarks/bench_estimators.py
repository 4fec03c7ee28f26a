"""The regressor, L-BFGS and sparse input against scikit-learn's MLPs, on small data.

Run from the repository root::

    python benchmarks/bench_estimators.py            # every section, a few minutes on 2 cores
    python benchmarks/bench_estimators.py --quick    # smoke test

Sections (``--sections`` picks some):

regression
    ScratchMLPRegressor against MLPRegressor on ``load_diabetes`` and
    ``make_friedman1`` (1,000 rows, noise 1): X and y standardised on the
    training rows, a 3:1 split per seed, the same settings for both (100 ReLU
    units, Adam, lr 1e-3, alpha 1e-4, batch 200, ``max_iter`` 200, tol 1e-4,
    patience 10, Glorot-uniform initialisation for both, our default
    ``init="auto"`` since 0.3.0; ours also with ``init="he"``, close to the
    0.2 default).  Held-out R² (mean and std over seeds) and fit
    seconds (median).
lbfgs
    ``optimizer="lbfgs"`` against ``solver="lbfgs"`` on standardised digits
    (classification, accuracy) and diabetes (regression, R²), 100 units,
    ``max_iter`` 200, same seeds and splits.
sparse
    ScratchMLPClassifier on a sparse CSR matrix (TF-IDF-like: 20,000 rows,
    20,000 columns, 0.25% non-zero, float32) against the same rows as a dense
    array (first 5,000 rows only: the dense copy of all rows would be 1.6 GB)
    and against MLPClassifier on the CSR matrix; fit seconds for 3 epochs, the
    largest difference between the sparse and dense models' probabilities,
    and the peak memory the sparse fit adds (tracemalloc) beside the size of
    the dense array it never builds.

Results go to ``benchmarks/results/estimators[-quick].{md,rst}``.
"""

import argparse
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
from _common import machine, machine_line, median, rst_table, save, table
from sklearn.datasets import load_diabetes, load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor

SETTINGS = dict(hidden_layer_sizes=(100,), alpha=1e-4, max_iter=200, tol=1e-4)
CAPS = ("Stochastic Optimizer: Maximum iterations", "lbfgs failed to converge")


def _quiet_fit(model, X, y):
    with warnings.catch_warnings():
        for message in CAPS:
            warnings.filterwarnings("ignore", message, ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
    return time.perf_counter() - start


def _split(X, y, seed, regression):
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=None if regression else y
    )
    scale = StandardScaler().fit(X_tr)
    X_tr, X_te = scale.transform(X_tr), scale.transform(X_te)
    if regression:
        mean, std = y_tr.mean(), y_tr.std()
        y_tr, y_te = (y_tr - mean) / std, (y_te - mean) / std
    return X_tr, X_te, y_tr, y_te


def _compare(datasets, contenders, seeds, regression):
    """Rows of (dataset, model, score mean, std, seconds) over seeds."""
    rows = []
    for data_name, (X, y) in datasets.items():
        scores = {name: [] for name in contenders}
        seconds = {name: [] for name in contenders}
        for seed in seeds:
            X_tr, X_te, y_tr, y_te = _split(X, y, seed, regression)
            for name, make in contenders.items():
                model = make(seed)
                seconds[name].append(_quiet_fit(model, X_tr, y_tr))
                scores[name].append(model.score(X_te, y_te))
        for name in contenders:
            rows.append(
                [
                    data_name,
                    name,
                    f"{np.mean(scores[name]):.4f}",
                    f"{np.std(scores[name]):.4f}",
                    f"{median(seconds[name]):.3f}",
                ]
            )
    return rows


def regression(quick):
    datasets = {
        "diabetes": load_diabetes(return_X_y=True),
        "friedman1": make_friedman1(n_samples=1000, noise=1.0, random_state=0),
    }
    contenders = {
        "ScratchMLPRegressor (auto init)": lambda s: ScratchMLPRegressor(
            random_state=s, **SETTINGS
        ),
        "ScratchMLPRegressor (he init)": lambda s: ScratchMLPRegressor(
            init="he", random_state=s, **SETTINGS
        ),
        "MLPRegressor": lambda s: MLPRegressor(random_state=s, **SETTINGS),
    }
    seeds = range(2 if quick else 5)
    return ["data", "model", "test R2", "std", "fit s"], _compare(
        datasets, contenders, seeds, regression=True
    )


def lbfgs(quick):
    seeds = range(1 if quick else 5)
    rows = _compare(
        {"digits": load_digits(return_X_y=True)},
        {
            "ScratchMLPClassifier lbfgs": lambda s: ScratchMLPClassifier(
                optimizer="lbfgs", init="glorot_uniform", random_state=s, **SETTINGS
            ),
            "MLPClassifier lbfgs": lambda s: MLPClassifier(
                solver="lbfgs", random_state=s, **SETTINGS
            ),
        },
        seeds,
        regression=False,
    )
    rows += _compare(
        {"diabetes": load_diabetes(return_X_y=True)},
        {
            "ScratchMLPRegressor lbfgs": lambda s: ScratchMLPRegressor(
                optimizer="lbfgs", init="glorot_uniform", random_state=s, **SETTINGS
            ),
            "MLPRegressor lbfgs": lambda s: MLPRegressor(
                solver="lbfgs", random_state=s, **SETTINGS
            ),
        },
        seeds,
        regression=True,
    )
    return ["data", "model", "test score", "std", "fit s"], rows


def _sparse_data(n, d, density, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", dtype=np.float32, random_state=seed)
    X.data = np.log1p(rng.exponential(size=X.nnz)).astype(np.float32)  # tf-idf-like weights
    w = rng.standard_normal((d, 4)).astype(np.float32)
    y = np.asarray((X @ w).argmax(axis=1)).ravel()
    return X, y


def sparse(quick):
    n, d = (4000, 5000) if quick else (20000, 20000)
    X, y = _sparse_data(n, d, 0.0025)
    n_dense = min(n, 5000)
    params = dict(hidden_layer_sizes=(64,), max_iter=3, random_state=0, batch_size=128)
    rows = []
    sparse_model = ScratchMLPClassifier(**params)
    secs = _quiet_fit(sparse_model, X, y)
    tracemalloc.start()
    _quiet_fit(ScratchMLPClassifier(**params), X, y)
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    rows.append(
        [
            f"{n} x {d} CSR",
            "ScratchMLPClassifier",
            f"{secs:.2f}",
            f"{peak:.1f}",
            f"{n * d * 4 / 1e6:.0f}",
            "",
        ]
    )
    rows.append(
        [
            f"{n} x {d} CSR",
            "MLPClassifier",
            f"{_quiet_fit(MLPClassifier(**params), X, y):.2f}",
            "",
            "",
            "",
        ]
    )
    Xs, ys = X[:n_dense], y[:n_dense]
    on_sparse, on_dense = ScratchMLPClassifier(**params), ScratchMLPClassifier(**params)
    secs_sparse = _quiet_fit(on_sparse, Xs, ys)
    dense = Xs.toarray()
    secs_dense = _quiet_fit(on_dense, dense, ys)
    diff = np.abs(on_sparse.predict_proba(Xs) - on_dense.predict_proba(dense)).max()
    rows.append(
        [
            f"{n_dense} x {d} CSR",
            "ScratchMLPClassifier",
            f"{secs_sparse:.2f}",
            "",
            "",
            f"{diff:.1e}",
        ]
    )
    rows.append(
        [
            f"{n_dense} x {d} dense",
            "ScratchMLPClassifier",
            f"{secs_dense:.2f}",
            "",
            f"{dense.nbytes / 1e6:.0f}",
            "(reference)",
        ]
    )
    header = [
        "data",
        "model",
        "fit s (3 epochs)",
        "peak added (MB)",
        "dense X (MB)",
        "max |P_sparse - P_dense|",
    ]
    return header, rows


SECTIONS = {"regression": regression, "lbfgs": lbfgs, "sparse": sparse}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--sections", default=",".join(SECTIONS))
    args = parser.parse_args(argv)
    info = machine()
    report, rst = [machine_line(info)], []
    print(report[0], flush=True)
    for name in args.sections.split(","):
        header, rows = SECTIONS[name](args.quick)
        report += ["", f"## {name}", "", table(header, rows)]
        rst += ["", name, "-" * len(name), "", rst_table(header, rows)]
        print("\n".join(report[-4:]), flush=True)
    save("estimators" + ("-quick" if args.quick else ""), report, rst=[report[0], *rst])


if __name__ == "__main__":
    main()
