"""
Learning-rate schedules and dropout
===================================

Two ways to shape training beyond the optimizer itself:

* ``learning_rate`` changes the step size from epoch to epoch. Four schedules
  (``constant``, ``invscaling``, ``adaptive`` and ``cosine``) work with every
  step optimizer; here they train the same network with plain ``sgd``, and
  ``learning_rates_`` records the rate each epoch used.
* ``dropout`` switches off a random share of the hidden units in every
  training batch. On a wide network that overfits noisy labels, it narrows the
  gap between the training and the validation loss.

Both fits pass a validation set to ``fit`` (``X_val``, ``y_val``), so every
epoch records ``validation_loss_curve_`` beside ``loss_curve_``. The formulas
are in the user guide: :ref:`schedules` and :ref:`dropout`.
"""

# %%
# Data
# ----
# scikit-learn's 8x8 digits, pixels scaled to [0, 1], with 30 % of the rows
# kept apart for validation.
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
print(f"{len(X_train)} training rows, {len(X_val)} validation rows")

# %%
# Four schedules
# --------------
# The same network, data, seed and ``learning_rate_init=0.5``; only the
# schedule changes. ``invscaling`` divides the rate by ``(t + 1) ** power_t``
# with ``t`` the training rows seen so far, so after one epoch on ~1250 rows the
# default ``power_t=0.5`` would already divide it by 35: ``power_t=0.25`` decays
# more gently. ``adaptive`` keeps the rate until the training loss stops
# improving by ``tol`` for ``n_iter_no_change`` epochs, then divides it by 5
# where the others would stop. ``cosine`` anneals the rate towards 0 over
# ``max_iter`` epochs; it is meant to run its course, so its patience is off.
import warnings

from sklearn.exceptions import ConvergenceWarning

from sknumpynet import ScratchMLPClassifier

MAX_ITER_REACHED = "Stochastic Optimizer: Maximum iterations"


def fit_quietly(model, *args, **kwargs):
    """fit, silencing only the warning that max_iter ended training."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", MAX_ITER_REACHED, ConvergenceWarning)
        return model.fit(*args, **kwargs)


shared = dict(
    hidden_layer_sizes=(64,),
    optimizer="sgd",
    learning_rate_init=0.5,
    batch_size=32,
    max_iter=60,
    tol=1e-3,
    n_iter_no_change=5,
    random_state=0,
)
settings = {
    "constant": {},
    "invscaling": {"power_t": 0.25},
    "adaptive": {},
    "cosine": {"n_iter_no_change": np.inf},
}
schedules = {}
print(f"{'schedule':<11} {'epochs':>6} {'last rate':>10} {'val loss':>9} {'val accuracy':>13}")
for name, extra in settings.items():
    clf = ScratchMLPClassifier(learning_rate=name, **{**shared, **extra})
    schedules[name] = fit_quietly(clf, X_train, y_train, X_val=X_val, y_val=y_val)
    print(
        f"{name:<11} {clf.n_iter_:>6} {clf.learning_rates_[-1]:>10.4f} "
        f"{clf.validation_loss_curve_[-1]:>9.4f} {clf.validation_scores_[-1]:>13.3f}"
    )

# %%
# ``learning_rates_`` has one entry per epoch, beside ``loss_curve_``. The
# constant rate stops first: its loss soon improves by less than ``tol``.
# ``adaptive`` takes the same steps until then and goes on in steps of a fifth,
# ``cosine`` keeps making progress as its rate falls, and ``invscaling`` takes
# small steps from the second epoch on. Training losses include the L2 penalty;
# validation losses do not.
import matplotlib.pyplot as plt

# constant and adaptive take the same steps until the first stall: the constant
# rate is drawn wide and pale so that both stay visible.
styles = {"constant": dict(linewidth=4, alpha=0.45)}
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for name, clf in schedules.items():
    epochs = np.arange(1, clf.n_iter_ + 1)
    style = styles.get(name, {})
    (line,) = axes[0].plot(epochs, clf.learning_rates_, label=name, **style)
    style["color"] = line.get_color()
    axes[1].plot(epochs, clf.loss_curve_, label=name, **style)
    axes[2].plot(epochs, clf.validation_loss_curve_, label=name, **style)
axes[0].set(title="learning_rates_", yscale="log", ylabel="learning rate")
axes[1].set(title="loss_curve_ (training)", yscale="log", ylabel="loss")
axes[2].set(title="validation_loss_curve_", yscale="log", ylabel="loss")
for ax in axes:
    ax.set_xlabel("epoch")
axes[0].legend()
fig.tight_layout()
plt.show()

# %%
# Dropout on a wide network
# -------------------------
# A setup made to overfit: two hidden layers of 256 units, 500 training rows,
# no L2 penalty, and one training label in five replaced by a random digit
# (sometimes the right one; the validation labels stay clean). Such a network
# can memorise the wrong labels as well as the right ones, and without dropout
# it does: the training loss falls towards 0 while the validation loss, after an
# early minimum, rises again. With ``dropout=0.5`` every batch trains another
# random half of the units, so no unit can rely on particular others being
# there to memorise one row. ``n_iter_no_change=np.inf`` trains all 100
# epochs, and float32 data gives a float32 network, which is faster.
rng = np.random.default_rng(0)
X_small, _, y_small, _ = train_test_split(
    X_train, y_train, train_size=500, stratify=y_train, random_state=0
)
noisy = rng.random(len(y_small)) < 0.2
y_noisy = np.where(noisy, rng.integers(0, 10, len(y_small)), y_small)
print(f"{np.mean(y_noisy != y_small):.0%} of the 500 training labels are wrong")
X32, X_val32 = X_small.astype(np.float32), X_val.astype(np.float32)
wide = dict(
    hidden_layer_sizes=(256, 256),
    alpha=0.0,
    batch_size=32,
    max_iter=100,
    n_iter_no_change=np.inf,
    random_state=0,
)
dropouts = {}
for rate in (0.0, 0.5):
    clf = ScratchMLPClassifier(dropout=rate, **wide)
    dropouts[rate] = fit_quietly(clf, X32, y_noisy, X_val=X_val32, y_val=y_val)

# %%
# ``loss_curve_`` of a dropout fit is the loss of the thinned networks the steps
# were taken on, higher and noisier than that of the whole network, which
# predicts. For the gap, the training loss of the whole network after the last
# epoch is computed here with :func:`~sklearn.metrics.log_loss`; it is the same
# quantity as the validation loss (the mean cross-entropy, no penalty).
from sklearn.metrics import log_loss

print(
    f"{'dropout':>7} {'train loss':>11} {'val loss':>9} {'gap':>7} "
    f"{'best val loss (epoch)':>22} {'val accuracy':>13}"
)
for rate, clf in dropouts.items():
    train_loss = log_loss(y_noisy, clf.predict_proba(X32))
    val_loss = clf.validation_loss_curve_[-1]
    best = int(np.argmin(clf.validation_loss_curve_))
    best_text = f"{clf.validation_loss_curve_[best]:.4f} ({best + 1})"
    print(
        f"{rate:>7} {train_loss:>11.4f} {val_loss:>9.4f} {val_loss - train_loss:>7.4f} "
        f"{best_text:>22} {clf.validation_scores_[-1]:>13.3f}"
    )

# %%
# :class:`~sknumpynet.LossCurveDisplay` draws the training loss (solid), the
# validation loss (dotted) and the validation accuracy (dashed, right-hand
# scale) of each fit.
from sknumpynet import LossCurveDisplay

fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
for ax, (rate, clf) in zip(axes, dropouts.items(), strict=True):
    display = LossCurveDisplay.from_estimator(clf, ax=ax, name=f"dropout={rate}", log_scale=True)
    display.validation_ax_.set_ylim(0.5, 1.0)  # the same accuracy scale on both
    ax.set_title(f"(256, 256) units, noisy labels, dropout={rate}")
fig.tight_layout()
plt.show()

# %%
# Without dropout the solid and dotted curves part early and for good: the
# network fits the wrong labels, and the validation accuracy drops from its
# early peak. With dropout the training loss stays well above 0 (the thinned
# networks cannot memorise every row), the validation loss keeps falling for
# most of the run, and the gap between the two is several times smaller.
# Dropout is no substitute for clean labels or more data, and its rate is a
# hyperparameter to tune like ``alpha``; a wide network on clean data gains
# less from it.
