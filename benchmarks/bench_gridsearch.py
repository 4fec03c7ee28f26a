"""Small data: a 24-candidate GridSearchCV on digits, ScratchMLPClassifier vs MLPClassifier.

Run alone with ``python benchmarks/bench_gridsearch.py [--quick]``; ``bench_fit.py``
runs it as its ``gridsearch`` section.  Both estimators search the same grid
with the same settings, a fixed number of epochs per fit (no early stop, so both
do the same work), 3-fold CV and ``n_jobs=1``, on digits scaled to [0, 1] in
float32.
"""

import argparse
import time
import warnings

import numpy as np
from _common import CONTENDERS, LABELS, median, table
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

GRID = {
    "hidden_layer_sizes": [(32,), (64,), (128,)],
    "alpha": [1e-4, 1e-3],
    "learning_rate_init": [1e-3, 3e-3],
    "batch_size": [32, 64],
}
HEADER = ["model", "candidates x folds", "seconds", "speed-up vs sklearn", "best CV accuracy"]


def run(quick=False):
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    epochs = 5 if quick else 40
    repeats = 1 if quick else 2
    times = {key: [] for key in ("scratch", "sklearn")}
    best = {}
    for _ in range(repeats):
        for key in times:
            search = GridSearchCV(CONTENDERS[key]((64,), 64, epochs, seed=0), GRID, cv=3, n_jobs=1)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", "Stochastic Optimizer: Maximum iterations", ConvergenceWarning
                )
                search.fit(X, y)
            times[key].append(time.perf_counter() - start)
            best[key] = search.best_score_
    n_candidates = int(np.prod([len(v) for v in GRID.values()]))
    rows, raw = [], {}
    for key, values in times.items():
        raw[key] = {"seconds": values, "best_score": best[key]}
        rows.append(
            [
                LABELS[key],
                f"{n_candidates} x 3",
                f"{median(values):.1f}",
                f"{median(times['sklearn']) / median(values):.2f}x",
                f"{best[key]:.4f}",
            ]
        )
    return rows, raw, f"{n_candidates} candidates, {epochs} epochs per fit"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    print(table(HEADER, run(parser.parse_args().quick)[0]))
