"""
Side by side with scikit-learn's MLPClassifier
==============================================

:class:`~sknumpynet.ScratchMLPClassifier` names its parameters after
:class:`~sklearn.neural_network.MLPClassifier` wherever the concept is the
same, so the same settings can be given to both. This example trains both
with Adam and with plain mini-batch SGD on the same data and compares test
accuracy, fit time and the loss curves. What cannot be matched exactly (the
random draws of the initialisation, for one) is listed in
:doc:`/coming_from_sklearn`.
"""

# %%
# Data
# ----
# float32 for both: each estimator then trains in float32 throughout. At most
# 5,000 training images keep the four fits quick.
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sknumpynet.datasets import load_mnist

mnist = load_mnist()
n_train = min(5000, int(0.8 * mnist.target.size))
X_train, X_test, y_train, y_test = train_test_split(
    mnist.data, mnist.target, train_size=n_train, stratify=mnist.target, random_state=0
)
print(f"{mnist.source}: {X_train.shape[0]} training and {X_test.shape[0]} test images")

# %%
# The same settings for both
# --------------------------
# One hidden layer of 100 relu units, L2 penalty 1e-4, batches of 200 and a
# constant learning rate; ``n_iter_no_change=EPOCHS`` lets every run last
# exactly ``EPOCHS`` epochs. scikit-learn's ``solver="sgd"`` with
# ``momentum=0`` is our ``optimizer="sgd"``, and its initialisation is our
# ``init="glorot_uniform"``.
import time

from sklearn.neural_network import MLPClassifier

from sknumpynet import ScratchMLPClassifier

EPOCHS = 20
shared = dict(
    hidden_layer_sizes=(100,),
    activation="relu",
    alpha=1e-4,
    batch_size=200,
    max_iter=EPOCHS,
    n_iter_no_change=EPOCHS,
    random_state=0,
)
runs = {
    ("adam", "sknumpynet"): ScratchMLPClassifier(
        optimizer="adam", learning_rate_init=0.001, init="glorot_uniform", **shared
    ),
    ("adam", "scikit-learn"): MLPClassifier(solver="adam", learning_rate_init=0.001, **shared),
    ("sgd", "sknumpynet"): ScratchMLPClassifier(
        optimizer="sgd", learning_rate_init=0.1, init="glorot_uniform", **shared
    ),
    ("sgd", "scikit-learn"): MLPClassifier(
        solver="sgd", momentum=0.0, learning_rate="constant", learning_rate_init=0.1, **shared
    ),
}
rows = []
for (optimizer, library), clf in runs.items():
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Stochastic Optimizer: Maximum iterations", ConvergenceWarning
        )
        clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    rows.append((optimizer, library, clf.score(X_test, y_test), seconds, clf.n_iter_))

# %%
# Accuracy and fit time
# ---------------------
# Both reach about the same accuracy at the same settings; the differences
# come from the different random draws of the initial weights and batch
# orders. Fit times depend on the machine and its load: the benchmark page
# measures them carefully.
print(f"{'optimizer':<10} {'library':<13} {'test accuracy':>14} {'fit seconds':>12} {'epochs':>7}")
for optimizer, library, acc, seconds, epochs in rows:
    print(f"{optimizer:<10} {library:<13} {acc:>14.3f} {seconds:>12.2f} {epochs:>7}")

# %%
# Loss curves
# -----------
# :class:`~sknumpynet.LossCurveDisplay` reads ``loss_curve_``, which
# ``MLPClassifier`` records too, so it draws both. The two libraries report
# the same objective: the mean cross-entropy of a batch plus
# ``alpha / (2 S) ||W||^2``, ``S`` the batch's size (its total sample weight),
# averaged over the epoch's batches.
import matplotlib.pyplot as plt

from sknumpynet import LossCurveDisplay

fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, optimizer in zip(axes, ["adam", "sgd"], strict=True):
    for library in ["sknumpynet", "scikit-learn"]:
        LossCurveDisplay.from_estimator(
            runs[optimizer, library], ax=ax, name=library, log_scale=True
        )
    ax.set_title(f"{optimizer}")
fig.tight_layout()
plt.show()
