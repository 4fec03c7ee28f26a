"""
MNIST 3 vs 7: a sigmoid head, gradient descent against Adam
===========================================================

The classic first experiment of a from-scratch network course: tell the
handwritten 3s from the 7s with a 784-7-1 network (one hidden layer of seven
relu units, one sigmoid output unit trained with binary cross-entropy), once
with mini-batch gradient descent and once with Adam. Published versions of
this experiment report about 0.965 test accuracy for mini-batch gradient
descent after 17 epochs and about 0.970 for Adam after only 5.

Each network is trained one epoch at a time with ``partial_fit``, which keeps
the weights and the optimizer state between calls, so the test accuracy can
be recorded after every epoch.
"""

# %%
# The data
# --------
# :func:`~sknumpynet.datasets.load_mnist` reads the MNIST IDX files from the
# folder named by ``SKNUMPYNET_MNIST_DIR`` (or a ``data_dir`` argument). Without
# them it says so and returns scikit-learn's 8x8 digits, where the same
# experiment runs on 64 pixels and far fewer images. The 10,000-image MNIST
# test files are split 70/30 here into training and test images.
import numpy as np
from sklearn.model_selection import train_test_split

from sknumpynet.datasets import load_mnist

mnist = load_mnist()
keep = np.isin(mnist.target, [3, 7])
X, y = mnist.data[keep], mnist.target[keep]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
print(f"{mnist.source}: {X_train.shape[0]} training and {X_test.shape[0]} test images of 3 and 7")

# %%
# Train both networks epoch by epoch
# ----------------------------------
# Mini-batch gradient descent is ``optimizer="sgd"`` (``w -= lr g`` on each
# batch of 64 images) with a learning rate of 0.1; Adam uses its usual 0.001.
# ``head="sigmoid"`` is what ``"auto"`` picks for a binary target anyway; it is
# spelled out to show the 784-7-1 architecture in full.
from sknumpynet import ScratchMLPClassifier

EPOCHS = 17
settings = {"sgd": 0.1, "adam": 0.001}
models, accuracy = {}, {}
for optimizer, learning_rate in settings.items():
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(7,),
        activation="relu",
        head="sigmoid",
        optimizer=optimizer,
        learning_rate_init=learning_rate,
        batch_size=64,
        random_state=0,
    )
    accuracy[optimizer] = []
    for _ in range(EPOCHS):
        clf.partial_fit(X_train, y_train, classes=[3, 7])
        accuracy[optimizer].append(clf.score(X_test, y_test))
    models[optimizer] = clf

print(f"network layers: {[w.shape[0] for w in clf.coefs_] + [clf.n_outputs_]}")
published = mnist.source == "mnist"  # the published figures are MNIST's
sgd_note, adam_note = (" (published ~0.965)", " (published ~0.970)") if published else ("", "")
print(f"mini-batch GD after 17 epochs: test accuracy {accuracy['sgd'][16]:.3f}{sgd_note}")
print(f"Adam after 5 epochs:           test accuracy {accuracy['adam'][4]:.3f}{adam_note}")
print(f"Adam after 17 epochs:          test accuracy {accuracy['adam'][16]:.3f}")

# %%
# With one sigmoid unit, ``predict_proba`` still returns one column per class:
# ``P(3) = 1 - sigmoid(z)`` and ``P(7) = sigmoid(z)``.
print(models["adam"].classes_, models["adam"].predict_proba(X_test[:3]).round(3))

# %%
# Loss and accuracy curves
# ------------------------
# Plain gradient descent at a learning rate chosen for it (0.1) is ahead from
# the first epoch here. Adam at its default 0.001 catches up on MNIST within a
# few epochs, and both end near 0.98; on the 8x8 digits (the fallback: fewer
# images, so fewer steps per epoch) it is still behind after 17 epochs. What
# Adam offers is a default rate that works without tuning, not speed over a
# tuned one. The dots mark the epochs of the published (MNIST) figures.
import matplotlib.pyplot as plt

from sknumpynet import LossCurveDisplay

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
epochs = np.arange(1, EPOCHS + 1)
for optimizer, clf in models.items():
    display = LossCurveDisplay.from_estimator(clf, ax=ax_loss, name=optimizer)
    ax_acc.plot(epochs, accuracy[optimizer], color=display.line_.get_color(), label=optimizer)
ax_acc.plot([17, 5], [accuracy["sgd"][16], accuracy["adam"][4]], "ko", label="published epochs")
ax_loss.set_title("Training loss (binary cross-entropy)")
ax_acc.set(title="Test accuracy after each epoch", xlabel="epoch", ylabel="accuracy")
ax_acc.legend()
fig.tight_layout()
plt.show()
