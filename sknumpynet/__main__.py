"""``python -m sknumpynet``: train, compare with scikit-learn, save and reload.

Classification (the default): trains ScratchMLPClassifier on a dataset shipped
with scikit-learn (digits by default) with per-epoch progress and prints its
held-out accuracy beside scikit-learn's MLPClassifier at the nearest settings.
Regression (``--task regression``): ScratchMLPRegressor beside MLPRegressor on
diabetes or friedman1, features and targets standardised, held-out R².
``--dataset mnist`` reads the 10,000-image MNIST test set (the t10k IDX files)
from ``--mnist-dir`` and splits it into train and test like the others.
Either way the fitted model is then saved with joblib, loaded back, and the
reloaded model must predict the same numbers; ``--export-onnx PATH`` also
writes it as an ONNX model (the ``onnx`` extra), whose predictions under
onnxruntime must match.
"""

import argparse
import math
import os
import tempfile
import time
import warnings

import joblib
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_friedman1,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import ScratchMLPClassifier, ScratchMLPRegressor
from ._sklearn_mlp import sklearn_equivalent
from .datasets import MNIST_DIR_ENV, load_mnist
from .nn import (
    ACTIVATIONS,
    CLASSIFICATION_HEADS,
    INIT_OPTIONS,
    OPTIMIZERS,
    REGRESSION_LOSSES,
)

DATASETS = {
    "digits": load_digits,
    "breast_cancer": load_breast_cancer,
    "wine": load_wine,
    "iris": load_iris,
}


def _friedman1(return_X_y=True):
    return make_friedman1(n_samples=1000, noise=1.0, random_state=0)


REGRESSION_DATASETS = {"diabetes": load_diabetes, "friedman1": _friedman1}
# What --dataset mnist reads: load_mnist's subset="test" (raw or gzip-compressed).
_MNIST_FILES = "t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]"

# The iteration cap of a short demo run is expected; any other warning (a
# DivergenceWarning above all) stays visible.
_EXPECTED = [
    "Stochastic Optimizer: Maximum iterations",  # both libraries, step optimizers
    "lbfgs failed to converge",  # both libraries, lbfgs
]


_HIDDEN_FORM = "--hidden takes positive ints separated by commas, e.g. 128,64"


def _hidden_sizes(text):
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"{_HIDDEN_FORM}; got {text!r}, with an empty item")
    try:
        sizes = tuple(int(item) for item in items)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_HIDDEN_FORM}; got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"{_HIDDEN_FORM}; got {text!r}, with a size below 1")
    return sizes


def _learning_rate(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"--lr must be a finite number > 0; got {text!r}")
    return value


def _int_option(option, low, high=None):
    """An argparse ``type=`` for ints in ``[low, high]``."""
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} must be an int {bounds}; got {text!r}"
            ) from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{option} must be {bounds}; got {text!r}")
        return value

    return parse


def _output_path(option):
    """An argparse ``type=`` for a file to write: checked before any work is done."""

    def parse(text):
        if not text:
            raise argparse.ArgumentTypeError(f"{option} needs a file path; got ''")
        if os.path.isdir(text):
            raise argparse.ArgumentTypeError(
                f"{option} {text} is a directory; give the path of a file to write"
            )
        parent = os.path.dirname(os.path.abspath(text))
        if not os.path.isdir(parent):
            raise argparse.ArgumentTypeError(f"{option} {text}: directory {parent} does not exist")
        # Opened, not checked with os.access, which says yes to root everywhere
        # and knows nothing of over-long names or read-only pseudo-filesystems
        # (/proc): the write would fail only after training. Appending leaves
        # an existing file's content as it is.
        # Through any symlink (a dangling one too): the file the write creates.
        target = os.path.realpath(text)
        existed = os.path.exists(target)
        if existed and not os.path.isfile(target):  # a FIFO would block the probe
            raise argparse.ArgumentTypeError(f"{option} {text} is not a regular file")
        try:
            with open(target, "a"):
                pass
        except OSError as exc:
            raise argparse.ArgumentTypeError(
                f"{option} {text}: cannot write there ({exc.strerror or exc})"
            ) from None
        if not existed:
            os.remove(target)
        return text

    return parse


def build_parser():
    """Command-line options of ``python -m sknumpynet``."""
    p = argparse.ArgumentParser(
        prog="python -m sknumpynet",
        description="Train ScratchMLPClassifier (or ScratchMLPRegressor) on a scikit-learn "
        "dataset, compare it with MLPClassifier (MLPRegressor) at the nearest settings, "
        "with a note for each setting it cannot match, and round-trip it through joblib.",
    )
    p.add_argument(
        "--task",
        choices=["classification", "regression"],
        default="classification",
        help="classification: ScratchMLPClassifier vs MLPClassifier, test accuracy; "
        "regression: ScratchMLPRegressor vs MLPRegressor on standardised X and y, "
        "test R2 (default: classification)",
    )
    p.add_argument(
        "--dataset",
        choices=[*sorted(DATASETS), "mnist", *sorted(REGRESSION_DATASETS)],
        default=None,
        help="classification: a dataset shipped with scikit-learn, or mnist: the "
        "10,000-image MNIST test set (t10k IDX files) in --mnist-dir or "
        f"${MNIST_DIR_ENV}, split into train/test like the others (default: digits); "
        "regression: diabetes or friedman1 (make_friedman1, 1000 samples, noise 1) "
        "(default: diabetes)",
    )
    p.add_argument(
        "--mnist-dir",
        default=None,
        metavar="DIR",
        help=f"folder with the MNIST test set IDX files, {_MNIST_FILES}, for --dataset mnist "
        f"only (default: ${MNIST_DIR_ENV})",
    )
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam")
    p.add_argument("--init", choices=list(INIT_OPTIONS), default="auto")
    p.add_argument(
        "--head",
        choices=["auto", *CLASSIFICATION_HEADS],
        default=None,
        help="classification output head (default: auto)",
    )
    p.add_argument(
        "--loss",
        choices=list(REGRESSION_LOSSES),
        default=None,
        help="regression loss (default: squared_error)",
    )
    p.add_argument("--activation", choices=list(ACTIVATIONS), default="relu")
    p.add_argument(
        "--hidden",
        type=_hidden_sizes,
        default=(128,),
        metavar="N[,N...]",
        help="hidden layer sizes, e.g. 128,64 (default: 128)",
    )
    p.add_argument(
        "--epochs",
        type=_int_option("--epochs", 1),
        default=30,
        help="max_iter: epochs, or iterations with lbfgs (default: 30)",
    )
    p.add_argument(
        "--lr",
        type=_learning_rate,
        default=None,
        help="learning_rate_init, unused by lbfgs (default: 'auto', the optimizer's own: "
        + ", ".join(
            f"{name} {cls.default_learning_rate}"
            for name, cls in OPTIMIZERS.items()
            if cls.default_learning_rate
        )
        + ")",
    )
    p.add_argument(
        "--batch-size",
        type=_int_option("--batch-size", 1),
        default=None,
        help="rows per mini-batch, unused by the full-batch gd and lbfgs (default: 'auto')",
    )
    p.add_argument(
        "--random-state",
        type=_int_option("--random-state", 0, 2**32 - 1),
        default=0,
        help="seed of the train/test split and of both models (default: 0)",
    )
    p.add_argument(
        "--save",
        type=_output_path("--save"),
        default=None,
        metavar="PATH",
        help="where to save the model (default: a temporary file, removed after)",
    )
    p.add_argument(
        "--export-onnx",
        type=_output_path("--export-onnx"),
        default=None,
        metavar="PATH",
        help="also export the fitted model (the whole pipeline) to ONNX at PATH and check "
        "onnxruntime's predictions against it; needs the onnx extra: "
        "pip install 'sknumpynet[onnx]'",
    )
    p.add_argument("--no-compare", action="store_true", help="skip scikit-learn's MLP")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    return p


def _fit_timed(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        for message in _EXPECTED:
            warnings.filterwarnings("ignore", message, ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start


def _check_args(parser, args):
    """Fill the task's defaults; refuse options of the other task or dataset."""
    regression = args.task == "regression"
    datasets = REGRESSION_DATASETS if regression else [*DATASETS, "mnist"]
    if args.dataset is None:
        args.dataset = "diabetes" if regression else "digits"
    elif args.dataset not in datasets:
        parser.error(
            f"--dataset {args.dataset} is not a {args.task} dataset; "
            f"choose from {', '.join(sorted(datasets))}"
        )
    if regression and args.head is not None:
        parser.error("--head is for --task classification; regression takes --loss")
    if not regression and args.loss is not None:
        parser.error("--loss is for --task regression; classification takes --head")
    if args.mnist_dir is not None and args.dataset != "mnist":
        parser.error(f"--mnist-dir is for --dataset mnist, not --dataset {args.dataset}")
    if args.save is not None and args.export_onnx is not None:
        # realpath: a symlink to the other file would overwrite the saved model.
        if os.path.realpath(args.save) == os.path.realpath(args.export_onnx):
            parser.error("--save and --export-onnx must be different files")
    args.head = args.head or "auto"
    args.loss = args.loss or "squared_error"
    if args.export_onnx is not None:
        try:  # before training, so a missing extra costs no wait
            import onnxruntime  # noqa: F401

            from . import onnx  # noqa: F401
        except ImportError as exc:
            parser.error(
                f"--export-onnx needs the onnx extra (pip install 'sknumpynet[onnx]'): {exc}"
            )


def _unused_options(args):
    """``note:`` lines for options the chosen optimizer ignores."""
    entry = OPTIMIZERS[args.optimizer]
    notes = []
    if args.batch_size is not None and entry.full_batch:
        notes.append(
            f"--batch-size {args.batch_size} is unused by --optimizer {args.optimizer}, "
            "which is full-batch (every step uses all the training rows)."
        )
    if args.lr is not None and entry.learning_rate_for(args.lr) is None:
        notes.append(
            f"--lr {args.lr:g} is unused by --optimizer {args.optimizer}, "
            "which picks its own step lengths."
        )
    return notes


def _load_mnist(parser, args):
    """The MNIST test set as a Bunch; a usage error when it cannot be read."""
    if args.mnist_dir is not None:
        where, directory = "--mnist-dir", args.mnist_dir
    else:
        where, directory = f"${MNIST_DIR_ENV}", os.environ.get(MNIST_DIR_ENV) or None
    if directory is None:
        parser.error(
            f"--dataset mnist reads the MNIST test set ({_MNIST_FILES}); pass --mnist-dir "
            f"DIR, the folder that holds them, or set {MNIST_DIR_ENV}"
        )
    if not os.path.isdir(directory):
        parser.error(f"--dataset mnist: {where} {directory} is not a directory")
    try:
        return load_mnist(directory, subset="test", fallback=None, verbose=False)
    except FileNotFoundError:
        parser.error(
            f"--dataset mnist reads the MNIST test set ({_MNIST_FILES}); they are not both "
            f"in {directory} ({where})"
        )
    except (OSError, ValueError) as exc:
        parser.error(f"--dataset mnist: cannot read the MNIST test set in {directory}: {exc}")


def _load(parser, args):
    """``(X, y)`` of the chosen dataset, X in float32."""
    if args.dataset == "mnist":
        mnist = _load_mnist(parser, args)
        X, y = mnist.data, mnist.target
        print(
            f"MNIST test set: {X.shape[0]} images from "
            f"{', '.join(os.path.basename(f) for f in mnist.files)} in "
            f"{os.path.dirname(mnist.files[0])}, split into train/test below."
        )
    else:
        loader = {**DATASETS, **REGRESSION_DATASETS}[args.dataset]
        X, y = loader(return_X_y=True)
    return X.astype(np.float32), y


def _wrap(estimator, regression, loss):
    """Standardise X and, for regression, y as well.

    The Poisson loss needs ``y >= 0``, so its targets are only divided by
    their standard deviation, not centred.
    """
    model = make_pipeline(StandardScaler(), estimator)
    if not regression:
        return model
    return TransformedTargetRegressor(
        regressor=model, transformer=StandardScaler(with_mean=loss != "poisson")
    )


def _fitted(model):
    """The fitted MLP inside a pipeline (cloned into ``regressor_`` for regression)."""
    return getattr(model, "regressor_", model)[-1]


def _export_onnx(model, X_test, path, regression):
    """Write ``model`` to ``path`` as ONNX; return whether onnxruntime agrees with it."""
    import onnxruntime

    from .onnx import to_onnx

    onx = to_onnx(model, X_test[:1], options={ScratchMLPClassifier: {"zipmap": False}})
    with open(path, "wb") as f:
        f.write(onx.SerializeToString())
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    outputs = session.run(None, {session.get_inputs()[0].name: X_test})
    if regression:  # float32 predictions of targets in the hundreds: relative differences
        expected = model.predict(X_test).reshape(len(X_test), -1)
        diff = np.abs(outputs[0] - expected) / np.maximum(np.abs(expected), 1e-30)
        what, same = "predict", bool(diff.max() <= 2e-5)
    else:
        expected = model.predict_proba(X_test)
        diff = np.abs(outputs[1] - expected)
        what = "labels and predict_proba"
        same = diff.max() <= 2e-5 and np.array_equal(outputs[0], model.predict(X_test))
    print(
        f"Exported to ONNX at {path} ({os.path.getsize(path)} bytes); onnxruntime {what} "
        f"{'match' if same else 'DIFFER'} (largest {'relative ' * regression}difference "
        f"{diff.max():.2g})."
    )
    return same


def main(argv=None):
    """Run the demo; return 0 on success (the reloaded model must agree)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_args(parser, args)
    regression = args.task == "regression"
    for note in _unused_options(args):
        print(f"note: {note}")
    X, y = _load(parser, args)
    if regression and args.loss == "poisson" and y.min() < 0:
        parser.error(f"--loss poisson needs targets >= 0; {args.dataset} has some below 0")
    try:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=None if regression else y, random_state=args.random_state
        )
    except ValueError as exc:  # e.g. an MNIST folder of a few images
        parser.error(f"--dataset {args.dataset}: cannot split it into train and test sets: {exc}")
    Estimator, own = (
        (ScratchMLPRegressor, {"loss": args.loss})
        if regression
        else (ScratchMLPClassifier, {"head": args.head})
    )
    ours = Estimator(
        hidden_layer_sizes=args.hidden,
        activation=args.activation,
        init=args.init,
        optimizer=args.optimizer,
        learning_rate_init=args.lr if args.lr is not None else "auto",
        batch_size=args.batch_size if args.batch_size is not None else "auto",
        max_iter=args.epochs,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
        **own,
    )
    what = "a real target" if regression else f"{len(np.unique(y))} classes"
    print(
        f"Dataset {args.dataset}: {X_train.shape[0]} train / {X_test.shape[0]} test samples, "
        f"{X.shape[1]} features, {what} (float32)"
    )
    print(f"Training {ours!r}")
    model = _wrap(ours, regression, args.loss)
    try:
        seconds = _fit_timed(model, X_train, y_train)
    except (MemoryError, ValueError) as exc:
        if isinstance(exc, ValueError) and not str(exc).startswith("hidden_layer_sizes"):
            raise
        # The network is what grows with the options: the data sets are small.
        parser.error(f"--hidden {','.join(map(str, args.hidden))}: {exc}")
    rows = [(Estimator.__name__, model.score(X_test, y_test), seconds, _fitted(model).n_iter_)]

    if not args.no_compare:
        mlp, notes = sklearn_equivalent(ours, n_samples=X_train.shape[0], y=y_train)
        reference = _wrap(mlp, regression, args.loss)
        try:
            seconds = _fit_timed(reference, X_train, y_train)
        except (ArithmeticError, ValueError) as exc:  # no divergence guard: it raises
            notes.append(
                f"{type(mlp).__name__} could not train at these settings: "
                f"{type(exc).__name__}: {exc}"
            )
        else:
            rows.append(
                (
                    f"sklearn {type(mlp).__name__}",
                    reference.score(X_test, y_test),
                    seconds,
                    _fitted(reference).n_iter_,
                )
            )
        for note in notes:
            print(f"note: {note}")

    metric = "test R2" if regression else "test accuracy"
    print(f"\n{'model':<24}{metric:>14}{'fit seconds':>13}{'epochs':>8}")
    for name, score, secs, epochs in rows:
        print(f"{name:<24}{score:>14.4f}{secs:>13.2f}{epochs:>8}")

    predict = "predict" if regression else "predict_proba"
    with tempfile.TemporaryDirectory() as tmp:
        path = args.save or os.path.join(tmp, "sknumpynet_model.joblib")
        joblib.dump(model, path)
        reloaded = joblib.load(path)
        same = np.array_equal(getattr(reloaded, predict)(X_test), getattr(model, predict)(X_test))
        where = path if args.save else "a temporary file"
        print(
            f"\nSaved with joblib to {where} ({os.path.getsize(path)} bytes) and reloaded: "
            f"{predict} {'identical' if same else 'DIFFERS'}."
        )
    if args.export_onnx is not None:
        same = _export_onnx(model, X_test, args.export_onnx, regression) and same
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
