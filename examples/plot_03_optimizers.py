"""
Ten digits with a softmax head: six optimizers compared
=======================================================

The same network (one hidden layer of 64 relu units and a softmax head with
categorical cross-entropy: 784-64-10 on MNIST), the same data and the same
initial weights, trained with each of the six step optimizers of
:mod:`sknumpynet.nn.optimizers` (the seventh, ``lbfgs``, is a quasi-Newton
method on the whole training set with no learning rate;
:ref:`sphx_glr_auto_examples_plot_09_regression.py` compares it with Adam):

* ``gd``: one full-batch gradient step per epoch;
* ``sgd``: a step on each mini-batch of 64 images;
* ``momentum`` and ``nesterov``: mini-batch steps along an exponential
  average of the gradients, ``v = b v + (1 - b) g``;
* ``rmsprop``: steps divided by a running root mean square of the gradient;
* ``adam``: bias-corrected averages of the gradient and of its square.

Each optimizer gets its customary learning rate. The update rules are written
out in the :ref:`user guide <optimizers>`.
"""

# %%
# Data
# ----
# MNIST's 10,000 test images when ``SKNUMPYNET_MNIST_DIR`` points to them
# (6,000 for training, the rest for testing), scikit-learn's digits split
# 80/20 otherwise.
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sknumpynet.datasets import load_mnist

mnist = load_mnist()
n_train = min(6000, int(0.8 * mnist.target.size))
X_train, X_test, y_train, y_test = train_test_split(
    mnist.data, mnist.target, train_size=n_train, stratify=mnist.target, random_state=0
)
print(f"{mnist.source}: {X_train.shape[0]} training and {X_test.shape[0]} test images")

# %%
# Train with every optimizer
# --------------------------
# ``random_state=0`` gives every run the same initial weights and the same
# batch order; ``n_iter_no_change=EPOCHS`` makes every run last exactly
# ``EPOCHS`` epochs, so the loss curves are comparable epoch for epoch (and
# the warning that training has not converged is expected and silenced).
# Because the momentum optimizers average the gradient rather than add it up,
# they take steps of the same size as ``sgd`` at the same learning rate: the
# comparison isolates what averaging does.
import time

from sknumpynet import ScratchMLPClassifier

EPOCHS = 15
learning_rates = {
    "gd": 0.5,
    "sgd": 0.1,
    "momentum": 0.1,
    "nesterov": 0.1,
    "rmsprop": 0.001,
    "adam": 0.001,
}
results = {}
for optimizer, learning_rate in learning_rates.items():
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(64,),
        optimizer=optimizer,
        learning_rate_init=learning_rate,
        batch_size="auto" if optimizer == "gd" else 64,  # gd takes every row at once
        max_iter=EPOCHS,
        n_iter_no_change=EPOCHS,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Stochastic Optimizer: Maximum iterations", ConvergenceWarning
        )
        clf.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    results[optimizer] = (clf, clf.score(X_test, y_test), seconds)

# %%
# Accuracy and fit time
# ---------------------
# Full-batch ``gd`` takes one step per epoch where the others take one per
# mini-batch, so after the same number of epochs it is far behind. Fit times
# include everything ``fit`` does and vary with the machine and its load.
print(f"{'optimizer':<10} {'lr':>7} {'final loss':>11} {'test accuracy':>14} {'fit seconds':>12}")
for optimizer, (clf, acc, seconds) in results.items():
    lr = clf.learning_rate_init
    print(f"{optimizer:<10} {lr:>7g} {clf.loss_:>11.4f} {acc:>14.3f} {seconds:>12.2f}")

# %%
# Loss curves
# -----------
import matplotlib.pyplot as plt

from sknumpynet import LossCurveDisplay

fig, ax = plt.subplots(figsize=(7, 4.5))
for optimizer, (clf, _, _) in results.items():
    LossCurveDisplay.from_estimator(clf, ax=ax, name=optimizer, log_scale=True)
ax.set_title(f"Training loss per epoch, {X_train.shape[1]}-64-10 on {mnist.source}")
plt.show()
