"""Shared pieces of the benchmarks: data, contenders, timing, tables.

Every contender trains the same float32 data with the same settings: ReLU
hidden layers, a softmax output, Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8),
an L2 penalty ``alpha = 1e-4`` on the weights, shuffled mini-batches and a
fixed number of epochs (no early stop).

Epoch times are taken inside the fit, from the line each contender prints at
the end of every epoch with ``verbose`` on (``Iteration N, loss = ...``, the
format of scikit-learn's MLPs, which ScratchMLPClassifier and ``TorchMLP``
share): :func:`timed_epochs` reads them off a stand-in for ``sys.stdout``.
"""

import contextlib
import io
import json
import os
import platform
import time
import warnings
from itertools import pairwise
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sknumpynet import ScratchMLPClassifier
from sknumpynet._sklearn_mlp import sklearn_equivalent
from sknumpynet.datasets import MNIST_DIR_ENV, load_mnist

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
# During development the MNIST IDX files sit beside the checkout.
DEFAULT_MNIST_DIR = ROOT.parent / "shared" / "data"

ALPHA, LR = 1e-4, 1e-3

# PyTorch's OpenMP threads otherwise spin after each parallel region and starve
# NumPy's BLAS threads that run next in this process (seen: 50x slower GEMMs).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
try:  # PyTorch is optional: its column is left out when it is absent.
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None


# ---- data ------------------------------------------------------------------


def real_images():
    """Real digit images as float32 ``(n, 784)`` in [0, 1], labels and a source name.

    The 10,000 MNIST test images when their IDX files are found (in
    ``$SKNUMPYNET_MNIST_DIR``, else ``../shared/data``); otherwise
    scikit-learn's 1,797 8x8 digits, upscaled 3x and padded to 28x28.
    """
    data_dir = os.environ.get(MNIST_DIR_ENV) or DEFAULT_MNIST_DIR
    bunch = load_mnist(data_dir, verbose=False)
    if bunch.source == "mnist":
        return bunch.data, bunch.target, "MNIST t10k"
    small = bunch.data.reshape(-1, 8, 8)
    big = np.pad(small.repeat(3, axis=1).repeat(3, axis=2), ((0, 0), (2, 2), (2, 2)))
    return np.ascontiguousarray(big.reshape(len(big), -1)), bunch.target, "digits 28x28"


def training_set(n_samples, seed=0):
    """``n_samples`` MNIST-shaped rows: the real images repeated, pixels unchanged.

    The images are tiled (row ``i`` is image ``i % n_images``), so the data
    keeps what real MNIST has and a benchmark must see: border pixels that are
    zero in every image, whose first-layer weights receive no data gradient
    and decay towards zero under L2 until they would be subnormal (see
    ``sknumpynet/nn/subnormals.py``).  ``seed`` picks where the tiling starts.

    Returns float32 C-contiguous ``X`` of shape (n_samples, 784), int labels
    and a description of the source.
    """
    images, labels, source = real_images()
    start = int(np.random.default_rng(seed).integers(len(images)))
    picks = (start + np.arange(n_samples)) % len(images)
    return np.ascontiguousarray(images[picks]), labels[picks], f"{source}, tiled"


def held_out_split(seed=0):
    """A stratified 80/20 split of the real images (never repeated copies)."""
    images, labels, source = real_images()
    return (
        *train_test_split(images, labels, test_size=0.2, stratify=labels, random_state=seed),
        source,
    )


# ---- contenders ------------------------------------------------------------


def scratch(hidden, batch_size, epochs, seed, cls=ScratchMLPClassifier):
    """ScratchMLPClassifier (or ``cls``, e.g. an older version's) at the benchmark
    settings, training exactly ``epochs``."""
    return cls(
        hidden_layer_sizes=hidden,
        activation="relu",
        optimizer="adam",
        learning_rate_init=LR,
        alpha=ALPHA,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        shuffle=True,
        random_state=seed,
    )


def sklearn_mlp(hidden, batch_size, epochs, seed):
    """scikit-learn's MLPClassifier at the same settings."""
    mlp, _ = sklearn_equivalent(scratch(hidden, batch_size, epochs, seed))
    return mlp


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Stochastic Optimizer: Maximum iterations", ConvergenceWarning
        )
        return model.fit(X, y)


class TorchMLP:
    """A PyTorch CPU equivalent with ``fit``/``predict_proba``: same layers, loss and Adam.

    scikit-learn adds ``alpha / batch_rows * W`` to each batch gradient;
    ``weight_decay = alpha / batch_size`` is the same for full batches (torch
    also decays the biases, a negligible difference at this alpha).
    """

    def __init__(self, hidden, batch_size, epochs, seed, verbose=False):
        self.hidden, self.batch_size, self.epochs, self.seed = hidden, batch_size, epochs, seed
        self.verbose = verbose

    def set_params(self, verbose):
        self.verbose = verbose
        return self

    def fit(self, X, y):
        torch.manual_seed(self.seed)
        sizes = [X.shape[1], *self.hidden, int(y.max()) + 1]
        layers = []
        for n_in, n_out in pairwise(sizes):
            layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1])
        opt = torch.optim.Adam(
            self.model.parameters(),
            lr=LR,
            betas=(0.9, 0.999),
            eps=1e-8,
            weight_decay=ALPHA / self.batch_size,
        )
        Xt, yt = torch.from_numpy(X), torch.from_numpy(np.asarray(y, dtype=np.int64))
        loss_fn = torch.nn.CrossEntropyLoss()
        for epoch in range(self.epochs):
            order = torch.randperm(len(Xt))
            for start in range(0, len(Xt), self.batch_size):
                rows = order[start : start + self.batch_size]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(self.model(Xt[rows]), yt[rows])
                loss.backward()
                opt.step()
            if self.verbose:
                print(f"Iteration {epoch + 1}, loss = {float(loss):.8f}")
        return self

    def predict_proba(self, X):
        with torch.no_grad():
            return torch.softmax(self.model(torch.from_numpy(X)), dim=1).numpy()

    def score(self, X, y):
        return float(np.mean(self.predict_proba(X).argmax(axis=1) == y))


CONTENDERS = {"scratch": scratch, "sklearn": sklearn_mlp}
if torch is not None:
    CONTENDERS["torch"] = TorchMLP
LABELS = {
    "floor": "GEMM floor",
    "scratch": "ScratchMLPClassifier",
    "sklearn": "MLPClassifier",
    "torch": "PyTorch CPU",
}


# ---- timing ----------------------------------------------------------------


def gemm_floor_epoch(sizes, batch_size, n_samples, seed=0):
    """Seconds for exactly the matrix products of one epoch, nothing else.

    Per batch of ``m`` rows: the forward ``A_{l-1} @ W_l`` of every layer, the
    weight gradient ``A_{l-1}^T @ D_l`` of every layer and the backpropagated
    ``D_l @ W_l^T`` of every layer but the first; float32, preallocated.
    """
    rng = np.random.default_rng(seed)
    W = [rng.standard_normal(shape, dtype=np.float32) for shape in pairwise(sizes)]
    A = [rng.random((batch_size, n), dtype=np.float32) for n in sizes]
    D = [rng.standard_normal((batch_size, n), dtype=np.float32) for n in sizes]
    G = [np.empty_like(w) for w in W]
    batches = [batch_size] * (n_samples // batch_size)
    batches += [n_samples % batch_size] if n_samples % batch_size else []
    start = time.perf_counter()
    for m in batches:
        for layer, w in enumerate(W):
            np.matmul(A[layer][:m], w, out=A[layer + 1][:m])
        for layer in range(len(W) - 1, -1, -1):
            np.matmul(A[layer][:m].T, D[layer + 1][:m], out=G[layer])
            if layer:
                np.matmul(D[layer + 1][:m], W[layer].T, out=D[layer][:m])
    return time.perf_counter() - start


def timed_fit(model, X, y):
    start = time.perf_counter()
    fit_quietly(model, X, y)
    return time.perf_counter() - start


class _EpochClock(io.TextIOBase):
    """Stands in for ``sys.stdout``: notes the time of every ``Iteration N`` line."""

    def __init__(self):
        self.stamps = []

    def write(self, text):
        if text.startswith("Iteration"):
            self.stamps.append(time.perf_counter())
        return len(text)


def timed_epochs(model, X, y):
    """Fit ``model`` with ``verbose`` on; return the fit's seconds and each epoch's.

    Epoch ``k``'s time runs from the end-of-epoch line of epoch ``k - 1`` (the
    start of ``fit`` for the first, so it includes the input validation and
    the initialisation) to its own.  The lines themselves are discarded.
    """
    clock = _EpochClock()
    model.set_params(verbose=True)
    start = time.perf_counter()
    with contextlib.redirect_stdout(clock):
        fit_quietly(model, X, y)
    seconds = time.perf_counter() - start
    return seconds, np.diff([start, *clock.stamps])


LATE, EARLY = slice(7, 10), slice(1, 4)
"""Epochs 8-10 and 2-4 (0-based slices): the steady-state ratio compares them."""


def late_over_early(epoch_seconds):
    """Time of epochs 8-10 over that of epochs 2-4 (NaN for shorter runs)."""
    epoch_seconds = np.asarray(epoch_seconds)
    if len(epoch_seconds) < LATE.stop:
        return float("nan")
    return float(epoch_seconds[LATE].sum() / epoch_seconds[EARLY].sum())


# ---- machine and tables ----------------------------------------------------


def machine():
    """Core count, CPU model, BLAS and library versions, as a dict of strings."""
    import sklearn
    from threadpoolctl import threadpool_info

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    blas = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    info = {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "blas": "; ".join(blas) or "unknown",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }
    if torch is not None:
        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    return info


def machine_line(info):
    """The first line of every report: the :func:`machine` description."""
    return "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items())


def save(name, report, data=None, rst=None):
    """Write ``report`` (lines) to ``RESULTS/name.md``, ``data`` to ``.json`` and
    ``rst`` (lines) to ``.rst``, and say where."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    md = RESULTS / f"{name}.md"
    md.write_text("\n".join(report) + "\n")
    also = []
    if data is not None:
        (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1, default=str))
        also.append(".json")
    if rst is not None:
        (RESULTS / f"{name}.rst").write_text("\n".join(rst) + "\n")
        also.append(".rst")
    print(f"Saved {md}" + (f" (and {', '.join(also)})." if also else "."))


def table(header, rows):
    """A Markdown-style table with padded columns (also valid RST grid-free text)."""
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    fmt = "| " + " | ".join(f"{{:{w}}}" for w in widths) + " |"
    lines = [fmt.format(*header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(lines + [fmt.format(*row) for row in cells[1:]])


def rst_table(header, rows):
    """The same table as a reStructuredText simple table."""
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    fmt = "  ".join(f"{{:{w}}}" for w in widths)
    body = [fmt.format(*row).rstrip() for row in cells[1:]]
    return "\n".join([rule, fmt.format(*header).rstrip(), rule, *body, rule])


def median(values):
    return float(np.median(values)) if len(values) else float("nan")
