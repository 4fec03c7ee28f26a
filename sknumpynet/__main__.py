"""``python -m sknumpynet``: train, compare with MLPClassifier, save and reload.

Trains ScratchMLPClassifier on a dataset shipped with scikit-learn (digits by
default) with per-epoch progress, prints its held-out accuracy beside
scikit-learn's MLPClassifier at the nearest settings, then saves the fitted
model with joblib, loads it back and checks the reloaded model predicts the
same probabilities.
"""

import argparse
import os
import tempfile
import time
import warnings

import joblib
import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import ScratchMLPClassifier
from ._sklearn_mlp import sklearn_equivalent
from .datasets import MNIST_DIR_ENV, load_mnist
from .nn import ACTIVATIONS, HEADS, OPTIMIZERS

DATASETS = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "iris": load_iris,
}


def _hidden_sizes(text):
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden takes comma-separated positive ints such as 128,64; got {text!r}"
        ) from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be >= 1; got {text!r}")
    return sizes


def build_parser():
    """Command-line options of ``python -m sknumpynet``."""
    p = argparse.ArgumentParser(
        prog="python -m sknumpynet",
        description="Train ScratchMLPClassifier on a scikit-learn dataset, compare it with "
        "MLPClassifier at the same settings, and round-trip it through joblib.",
    )
    p.add_argument(
        "--dataset",
        choices=[*sorted(DATASETS), "mnist"],
        default="digits",
        help="a dataset shipped with scikit-learn, or mnist: the IDX files in "
        f"--mnist-dir or ${MNIST_DIR_ENV} (default: digits)",
    )
    p.add_argument(
        "--mnist-dir",
        default=None,
        metavar="DIR",
        help="folder with the MNIST IDX files, for --dataset mnist",
    )
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam")
    p.add_argument("--head", choices=["auto", *HEADS], default="auto")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default="relu")
    p.add_argument(
        "--hidden",
        type=_hidden_sizes,
        default=(128,),
        metavar="N[,N...]",
        help="hidden layer sizes, e.g. 128,64 (default: 128)",
    )
    p.add_argument("--epochs", type=int, default=30, help="max_iter (default: 30)")
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning_rate_init (default: 0.001 for adam/rmsprop, 0.5 for gd, 0.05 otherwise)",
    )
    p.add_argument("--batch-size", type=int, default=None, help="default: 'auto'")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument(
        "--save",
        default=None,
        metavar="PATH",
        help="where to save the model (default: a temporary file, removed after)",
    )
    p.add_argument("--no-compare", action="store_true", help="skip MLPClassifier")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    return p


def _default_lr(optimizer):
    return {"adam": 0.001, "rmsprop": 0.001, "gd": 0.5}.get(optimizer, 0.05)


def _fit_timed(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Stochastic Optimizer: Maximum iterations", ConvergenceWarning
        )
        model.fit(X, y)
    return time.perf_counter() - start


def main(argv=None):
    """Run the demo; return 0 on success (the reloaded model must agree)."""
    args = build_parser().parse_args(argv)
    if args.epochs < 1:
        raise SystemExit("--epochs must be >= 1")
    if args.dataset == "mnist":
        try:
            mnist = load_mnist(args.mnist_dir, fallback=None, verbose=False)
        except FileNotFoundError as exc:
            raise SystemExit(f"--dataset mnist: {exc} Pass --mnist-dir DIR.") from None
        X, y = mnist.data, mnist.target
    else:
        X, y = DATASETS[args.dataset](return_X_y=True)
    X = X.astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.random_state
    )
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=args.hidden,
        activation=args.activation,
        head=args.head,
        optimizer=args.optimizer,
        learning_rate_init=args.lr if args.lr is not None else _default_lr(args.optimizer),
        batch_size=args.batch_size if args.batch_size is not None else "auto",
        max_iter=args.epochs,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    print(
        f"Dataset {args.dataset}: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
        f"{X.shape[1]} features, {len(np.unique(y))} classes (float32)"
    )
    print(f"Training {clf!r}")
    model = make_pipeline(StandardScaler(), clf)
    seconds = _fit_timed(model, X_train, y_train)
    rows = [("ScratchMLPClassifier", model.score(X_test, y_test), seconds, clf.n_iter_)]

    if not args.no_compare:
        mlp, notes = sklearn_equivalent(clf, n_samples=X_train.shape[0])
        reference = make_pipeline(StandardScaler(), mlp)
        seconds = _fit_timed(reference, X_train, y_train)
        rows.append(
            ("sklearn MLPClassifier", reference.score(X_test, y_test), seconds, mlp.n_iter_)
        )
        for note in notes:
            print(f"note: {note}")

    print(f"\n{'model':<24}{'test accuracy':>14}{'fit seconds':>13}{'epochs':>8}")
    for name, acc, secs, epochs in rows:
        print(f"{name:<24}{acc:>14.4f}{secs:>13.2f}{epochs:>8}")

    with tempfile.TemporaryDirectory() as tmp:
        path = args.save or os.path.join(tmp, "sknumpynet_model.joblib")
        joblib.dump(model, path)
        reloaded = joblib.load(path)
        same = np.array_equal(reloaded.predict_proba(X_test), model.predict_proba(X_test))
        where = path if args.save else "a temporary file"
        print(
            f"\nSaved with joblib to {where} ({os.path.getsize(path)} bytes) and reloaded: "
            f"predict_proba {'identical' if same else 'DIFFERS'}."
        )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
