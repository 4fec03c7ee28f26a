"""
Quickstart: digits in a scikit-learn pipeline
=============================================

:class:`~sknumpynet.ScratchMLPClassifier` is an ordinary scikit-learn
classifier: it goes into a :class:`~sklearn.pipeline.Pipeline`, is scored with
``score`` and inspected with the usual :mod:`sklearn.metrics` tools. This
example trains it on the handwritten digits shipped with scikit-learn (8x8
images, ten classes), prints a classification report and draws the confusion
matrix and the training loss per epoch.
"""

# %%
# Load the data and split it
# --------------------------
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
print(f"{X_train.shape[0]} training and {X_test.shape[0]} test images of {X.shape[1]} pixels")

# %%
# Fit a pipeline
# --------------
# Standardising the pixels first is what a gradient-trained network wants;
# the network itself has one hidden layer of 128 relu units and a softmax head
# (chosen by ``head="auto"`` for a ten-class target), trained with Adam.
# ``early_stopping=True`` holds out 10% of the training set, stops once its
# accuracy stops improving and keeps the weights of its best epoch.
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier

clf = make_pipeline(
    StandardScaler(),
    ScratchMLPClassifier(
        hidden_layer_sizes=(128,),
        optimizer="adam",
        early_stopping=True,
        max_iter=100,
        random_state=0,
    ),
)
clf.fit(X_train, y_train)
mlp = clf[-1]
print(f"{mlp.n_iter_} epochs, best validation accuracy {mlp.best_validation_score_:.3f}")
print(f"head: {mlp.out_activation_}, test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Probabilities and a classification report
# -----------------------------------------
# ``predict_proba`` gives one column per class in the order of ``classes_``;
# each row sums to one.
from sklearn.metrics import classification_report

proba = clf.predict_proba(X_test[:3])
print(proba.round(3))
print(classification_report(y_test, clf.predict(X_test), digits=3))

# %%
# Confusion matrix and loss curve
# -------------------------------
# :class:`~sknumpynet.LossCurveDisplay` follows scikit-learn's display
# conventions: ``from_estimator`` accepts the fitted pipeline and draws the
# ``loss_curve_`` of its last step, with the validation accuracy of each epoch
# on a second scale.
import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay

from sknumpynet import LossCurveDisplay

fig, (ax_cm, ax_loss) = plt.subplots(1, 2, figsize=(10, 4.2))
ConfusionMatrixDisplay.from_estimator(clf, X_test, y_test, ax=ax_cm, colorbar=False)
ax_cm.set_title("Confusion matrix (test set)")
LossCurveDisplay.from_estimator(clf, ax=ax_loss, log_scale=True)
ax_loss.set_title("Training loss per epoch")
fig.tight_layout()
plt.show()
