"""ONNX export: prediction latency under onnxruntime, and parity with the estimators.

Run from the repository root (needs the onnx extra)::

    python benchmarks/bench_onnx.py            # about a minute on 2 cores
    python benchmarks/bench_onnx.py --quick    # smoke run, a few seconds

latency
    Three fitted models, each timed by its own ``predict_proba`` / ``predict``
    and by ``onnxruntime.InferenceSession.run`` on the graph
    ``sknumpynet.onnx.to_onnx`` exports (ZipMap off): one row (median of
    many calls) and 10,000 rows (median of several calls), float32 or float64
    rows as the model was fitted, the contenders alternating so that load from
    elsewhere hits them alike. onnxruntime runs with its default threads.
parity
    Small models (digits, 1,000 training rows) covering every activation,
    head, loss and dtype, exported and run on the 797 held-out rows in
    float32 and in float64 (a pipeline: in its own dtype only): the largest
    difference from ``predict_proba`` / ``predict`` over the input dtypes, and
    whether the labels are identical.

Results go to ``benchmarks/results/onnx[-quick].{json,md}``.
"""

import argparse
import time
import warnings

import numpy as np
import onnxruntime
from _common import machine, machine_line, median, rst_table, save, table, training_set
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.onnx import to_onnx

LATENCY_HEADER = [
    "model",
    "1 row: estimator (us)",
    "onnxruntime (us)",
    "10,000 rows: estimator (ms)",
    "onnxruntime (ms)",
]
PARITY_HEADER = ["model", "float32 model", "float64 model", "labels"]


def _fit(model, X, y):
    with warnings.catch_warnings():
        for message in ("Stochastic Optimizer: Maximum iterations", "lbfgs failed to converge"):
            warnings.filterwarnings("ignore", message, ConvergenceWarning)
        return model.fit(X, y)


def _session(model, X):
    onx = to_onnx(model, X[:1], options={ScratchMLPClassifier: {"zipmap": False}})
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    name = session.get_inputs()[0].name
    return lambda rows: session.run(None, {name: rows})


def _per_call(fn, calls):
    """Median seconds of one call over ``calls`` calls."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


# ---- latency ---------------------------------------------------------------


def latency(quick):
    X_train, y_train, source = training_set(3_000 if quick else 10_000, seed=1)
    X, _, _ = training_set(10_000, seed=2)
    hidden = {"hidden_layer_sizes": (128,), "max_iter": 2, "random_state": 0}
    models = {
        "classifier 784-128-10, float32": (ScratchMLPClassifier(**hidden), np.float32, y_train),
        "classifier 784-128-10, float64": (ScratchMLPClassifier(**hidden), np.float64, y_train),
        "StandardScaler + regressor 784-128-64-1, tanh, float32": (
            make_pipeline(
                StandardScaler(),
                ScratchMLPRegressor(
                    hidden_layer_sizes=(128, 64), activation="tanh", max_iter=2, random_state=0
                ),
            ),
            np.float32,
            y_train.astype(float),
        ),
    }
    contenders = {}
    for name, (model, dtype, y) in models.items():
        _fit(model, X_train.astype(dtype), y)
        predict = model.predict_proba if hasattr(model, "predict_proba") else model.predict
        contenders[name] = (predict, _session(model, X.astype(dtype)), X.astype(dtype))
    times = {name: {"est1": [], "ort1": [], "est_bulk": [], "ort_bulk": []} for name in models}
    calls = 50 if quick else 300
    for _ in range(2 if quick else 7):
        for name, (predict, run, Xd) in contenders.items():
            one = Xd[:1]
            times[name]["est1"].append(_per_call(lambda p=predict, r=one: p(r), calls))
            times[name]["ort1"].append(_per_call(lambda f=run, r=one: f(r), calls))
            times[name]["est_bulk"].append(_per_call(lambda p=predict, r=Xd: p(r), 1))
            times[name]["ort_bulk"].append(_per_call(lambda f=run, r=Xd: f(r), 1))
    result = {name: {k: median(v) for k, v in t.items()} for name, t in times.items()}
    rows = [
        [
            name,
            f"{1e6 * t['est1']:.0f}",
            f"{1e6 * t['ort1']:.0f}",
            f"{1e3 * t['est_bulk']:.1f}",
            f"{1e3 * t['ort_bulk']:.1f}",
        ]
        for name, t in result.items()
    ]
    return rows, result, source


# ---- parity ------------------------------------------------------------------


def _cases():
    """(name, make(dtype) -> unfitted model, target kind) of the parity table."""
    small = {"hidden_layer_sizes": (32, 16), "max_iter": 30, "random_state": 0}

    def clf(**params):
        return lambda: ScratchMLPClassifier(**{**small, **params})

    def reg(**params):
        return lambda: ScratchMLPRegressor(**{**small, **params})

    cases = [(f"classifier, {a}", clf(activation=a), "labels") for a in ("relu", "leaky_relu")]
    cases += [(f"classifier, {a}", clf(activation=a), "labels") for a in ("tanh", "sigmoid")]
    cases += [
        ("classifier, identity", clf(activation="identity"), "labels"),
        (
            "classifier, per layer [leaky_relu, tanh]",
            clf(activation=["leaky_relu", "tanh"]),
            "labels",
        ),
        ("classifier, binary sigmoid (one unit)", clf(), "binary"),
        ("classifier, one-vs-rest sigmoid", clf(head="sigmoid"), "labels"),
        ("classifier, multilabel", clf(), "multilabel"),
        ("classifier, string labels", clf(), "strings"),
        (
            "classifier, dropout 0.2 + class_weight",
            clf(dropout=0.2, class_weight="balanced"),
            "labels",
        ),
        ("classifier, lbfgs", clf(optimizer="lbfgs", max_iter=50), "labels"),
        ("classifier, inputs x 1e6", clf(), "extreme"),
        ("StandardScaler + classifier", lambda: make_pipeline(StandardScaler(), clf()()), "labels"),
        ("regressor, squared_error", reg(), "real"),
        ("regressor, squared_error, 3 outputs", reg(), "real3"),
        ("regressor, poisson", reg(loss="poisson"), "counts"),
        ("regressor, poisson, 3 outputs", reg(loss="poisson"), "counts3"),
        ("StandardScaler + regressor", lambda: make_pipeline(StandardScaler(), reg()()), "real"),
    ]
    return cases


def _targets(kind, X, y):
    return {
        "labels": y,
        "binary": y % 2,
        "multilabel": np.column_stack([y % 2, y > 4, y % 3 == 0]).astype(int),
        "strings": np.array([f"digit {k}" for k in range(10)])[y],
        "extreme": y,
        "real": X[:, 20] - X[:, 43],
        "real3": X[:, [20, 43, 27]],
        "counts": X[:, 20] * 3,
        "counts3": X[:, [20, 43, 27]] * 3,
    }[kind]


def parity(quick):
    X, y = load_digits(return_X_y=True)
    X = X / 16
    train, test = slice(0, 1000), slice(1000, None)
    rows, result = [], {}
    cases = _cases()[::4] if quick else _cases()
    for name, make, kind in cases:
        Y = _targets(kind, X, y)
        diffs, same = {}, True
        for dtype in (np.float32, np.float64):
            model = _fit(make(), X[train].astype(dtype), Y[train])
            worst = 0.0
            # A pipeline takes its own dtype: skl2onnx's float32 StandardScaler rounds
            # unlike scikit-learn's, by ~1e-7, which a float64 model would pass on.
            pipeline = name.startswith("StandardScaler")
            for input_dtype in (dtype,) if pipeline else (np.float32, np.float64):
                Xt = X[test].astype(input_dtype) * (1e6 if kind == "extreme" else 1)
                outputs = _session(model, Xt)(Xt)
                if hasattr(model, "predict_proba"):
                    labels, got = outputs
                    same &= bool(np.array_equal(labels, model.predict(Xt)))
                    expected = model.predict_proba(Xt)
                else:
                    (got,) = outputs
                    expected = model.predict(Xt).reshape(len(Xt), -1)
                worst = max(worst, float(np.abs(got - expected).max()))
            diffs[np.dtype(dtype).name] = worst
        result[name] = {**diffs, "labels_identical": same}
        labels = "-" if "regressor" in name else ("identical" if same else "DIFFER")
        rows.append([name, f"{diffs['float32']:.1e}", f"{diffs['float64']:.1e}", labels])
    return rows, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer rows and repeats")
    args = parser.parse_args(argv)
    info = machine()
    info["onnxruntime"] = onnxruntime.__version__
    latency_rows, latency_raw, source = latency(args.quick)
    parity_rows, parity_raw = parity(args.quick)
    report = [
        machine_line(info),
        f"Latency: models fitted 2 epochs on {source}; medians of "
        f"{2 if args.quick else 7} alternating rounds.",
        "",
        table(LATENCY_HEADER, latency_rows),
        "",
        "Parity: largest difference from predict_proba / predict on 797 held-out digits, "
        "float32 and float64 input (pipelines: their own dtype); tolerance 2e-5 for float32 "
        "models, 1e-9 for float64 ones.",
        "",
        table(PARITY_HEADER, parity_rows),
    ]
    print("\n".join(report))
    save(
        "onnx" + ("-quick" if args.quick else ""),
        [
            *report,
            "",
            rst_table(LATENCY_HEADER, latency_rows),
            "",
            rst_table(PARITY_HEADER, parity_rows),
        ],
        {"machine": info, "latency": latency_raw, "parity": parity_raw},
    )
    failed = [
        name
        for name, r in parity_raw.items()
        if r["float32"] > 2e-5 or r["float64"] > 1e-9 or not r["labels_identical"]
    ]
    if failed:
        raise SystemExit(f"Parity beyond tolerance: {failed}")


if __name__ == "__main__":
    main()
