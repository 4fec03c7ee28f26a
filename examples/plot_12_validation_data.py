"""
A validation set of your own, in a Pipeline
===========================================

``early_stopping=True`` normally holds out a random ``validation_fraction`` of
the training rows. ``fit`` also takes a validation set of your own,
``X_val`` and ``y_val``: then every training row is trained on, and training
stops when the score on *your* set stops improving. Without early stopping the
set is still scored after every epoch, in ``validation_scores_`` and
``validation_loss_curve_``.

Inside a :class:`~sklearn.pipeline.Pipeline`, the validation rows must be
preprocessed like the training rows. This example

* routes ``X_val`` and ``y_val`` through a pipeline with scikit-learn's
  metadata routing, with ``transform_input=["X_val"]`` so that the scaler
  fitted on ``X`` transforms ``X_val`` too (scikit-learn >= 1.6),
* plots the training and validation loss with
  :class:`~sknumpynet.LossCurveDisplay`,
* and shows what goes wrong when ``X_val`` skips the scaler.

The details are in the :ref:`user guide <validation-data>`.
"""

# %%
# Three sets
# ----------
# The breast cancer data (569 tumours, 30 features on very different scales)
# ships with scikit-learn. A quarter is kept for the final test; a quarter of
# the rest is the validation set that decides when to stop. The test set is not
# the validation set: the validation set chooses the weights, so a score on it
# would be optimistic.
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

X, y = load_breast_cancer(return_X_y=True)
X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(
    X_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=0
)
print(f"{len(X_train)} training, {len(X_val)} validation and {len(X_test)} test rows")
largest = X_train.max(axis=0)
print(f"largest value of each feature: from {largest.min():.3g} to {largest.max():.3g}")

# %%
# Routing X_val and y_val through the pipeline
# --------------------------------------------
# Three pieces make it work:
#
# * metadata routing, switched on here for the block only with
#   :func:`sklearn.config_context` (or for the session with
#   ``sklearn.set_config(enable_metadata_routing=True)``);
# * ``set_fit_request(X_val=True, y_val=True)``: the network asks for the two
#   arguments;
# * ``transform_input=["X_val"]``: the pipeline sends ``X_val`` through the
#   steps before the network, fitted on ``X``, as it does ``X`` itself.
#
# With ``early_stopping=True`` the given set replaces the internal split, so
# the network trains on all the training rows.
import sklearn
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier


def make_model(**pipeline_params):
    mlp = ScratchMLPClassifier(
        hidden_layer_sizes=(32,),
        learning_rate_init=0.003,
        early_stopping=True,
        max_iter=300,
        random_state=0,
    )
    steps = [("scale", StandardScaler()), ("mlp", mlp.set_fit_request(X_val=True, y_val=True))]
    return Pipeline(steps, **pipeline_params)


with sklearn.config_context(enable_metadata_routing=True):
    model = make_model(transform_input=["X_val"])
    model.fit(X_train, y_train, X_val=X_val, y_val=y_val)

mlp = model[-1]
print(
    f"stopped after {mlp.n_iter_} epochs; best validation accuracy {mlp.best_validation_score_:.3f}"
)
print(f"test accuracy {model.score(X_test, y_test):.3f}")

# %%
# The loss curves
# ---------------
# :class:`~sknumpynet.LossCurveDisplay` reads the last step of the pipeline: the
# training loss (solid), the loss on the given validation set (dotted, the
# same cross-entropy without the L2 penalty) and the validation accuracy
# (dashed, right-hand scale). Training stopped once the accuracy had not
# improved for ``n_iter_no_change`` epochs, and the weights of its best epoch
# were kept.
import matplotlib.pyplot as plt

from sknumpynet import LossCurveDisplay

display = LossCurveDisplay.from_estimator(model, name="routed X_val")
display.ax_.set_title("breast cancer: StandardScaler + ScratchMLPClassifier")
plt.show()

# %%
# Without transform_input
# -----------------------
# Routing alone hands ``X_val`` to the network as it was given: raw features,
# on scales the network never saw in training. Its predictions on them are
# meaningless: the network puts every raw row in one class, so the validation
# accuracy stays at that class's share (here the minority's, 0.374) and never
# improves, and early stopping gives up after ``n_iter_no_change`` epochs
# and keeps the weights of the first epoch. The test score shows the damage.
# No error is raised (the shapes are right), which is why
# ``transform_input=["X_val"]`` matters.
with sklearn.config_context(enable_metadata_routing=True):
    unscaled = make_model().fit(X_train, y_train, X_val=X_val, y_val=y_val)

print(f"{'X_val':<10} {'epochs':>6} {'first validation scores':>26} {'test accuracy':>14}")
for label, fitted in [("scaled", model), ("raw", unscaled)]:
    first = " ".join(f"{s:.2f}" for s in fitted[-1].validation_scores_[:4])
    print(f"{label:<10} {fitted[-1].n_iter_:>6} {first:>26} {fitted.score(X_test, y_test):>14.3f}")

fig, ax = plt.subplots()
for label, fitted in [("scaled X_val", model), ("raw X_val", unscaled)]:
    LossCurveDisplay.from_estimator(fitted, ax=ax, name=label, log_scale=True)
ax.set_title("validation on scaled and on raw features")
plt.show()
