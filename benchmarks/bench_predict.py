"""Prediction speed: ``predict_proba`` throughput on 10,000 rows and single-row latency.

Run alone with ``python benchmarks/bench_predict.py [--quick]``; ``bench_fit.py``
runs it as its ``predict`` section.  Every contender is fitted for two epochs
on MNIST-shaped data (784-128-10, ReLU, Adam) and then predicts float32 rows.
"""

import argparse
import time

from _common import CONTENDERS, LABELS, fit_quietly, median, table, training_set

HEADER = ["model", "10,000 rows (ms)", "rows / s", "1 row (us)"]


def _time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def run(quick=False):
    X_train, y_train, _ = training_set(5_000 if quick else 20_000, seed=1)
    X, _, _ = training_set(10_000, seed=2)
    one = X[:1]
    models = {
        key: fit_quietly(make((128,), 128, 2, seed=0), X_train, y_train)
        for key, make in CONTENDERS.items()
    }
    bulk = {key: [] for key in models}
    single = {key: [] for key in models}
    # Alternate the contenders so that load from elsewhere hits them alike.
    for _ in range(3 if quick else 7):
        for key, model in models.items():
            bulk[key].append(_time(lambda m=model: m.predict_proba(X), 1))
            single[key].append(_time(lambda m=model: m.predict_proba(one), 50 if quick else 200))
    rows, raw = [], {}
    for key in models:
        seconds, latency = median(bulk[key]), median(single[key])
        raw[key] = {"bulk_s": seconds, "single_s": latency}
        rows.append(
            [
                LABELS[key],
                f"{1e3 * seconds:.1f}",
                f"{len(X) / seconds:,.0f}",
                f"{1e6 * latency:.0f}",
            ]
        )
    return rows, raw


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    print(table(HEADER, run(parser.parse_args().quick)[0]))
