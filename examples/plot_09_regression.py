"""
Regression: ScratchMLPRegressor beside MLPRegressor
===================================================

:class:`~sknumpynet.ScratchMLPRegressor` is the regression twin of
:class:`~sknumpynet.ScratchMLPClassifier`: the same network, optimizers and
initialisations, with an identity output and half the squared error
(``loss="squared_error"``) or an exponential output and half the Poisson
deviance (``loss="poisson"``). This example

* trains it beside scikit-learn's :class:`~sklearn.neural_network.MLPRegressor`
  at the same settings on two datasets and compares R² and fit time,
* plots predicted against true targets and the loss curves,
* fits counts with the Poisson loss,
* compares full-batch L-BFGS with Adam,
* and trains on a sparse CSR matrix.

The math of both losses is in the :doc:`user guide </user_guide>`.
"""

# %%
# Data
# ----
# Diabetes (442 patients, 10 features) ships with scikit-learn;
# Friedman #1 is synthetic, ``y = 10 sin(pi x0 x1) + 20 (x2 - 1/2)^2 + 10 x3
# + 5 x4 + noise`` with five more features that do not matter. A quarter of
# each is held out.
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.model_selection import train_test_split

datasets = {
    "diabetes": load_diabetes(return_X_y=True),
    "friedman1": make_friedman1(n_samples=1000, noise=1.0, random_state=0),
}
splits = {
    name: train_test_split(X, y, test_size=0.25, random_state=0)
    for name, (X, y) in datasets.items()
}
for name, (X_train, X_test, _, _) in splits.items():
    print(f"{name}: {X_train.shape[0]} training and {X_test.shape[0]} test rows")

# %%
# The same settings for both libraries
# ------------------------------------
# Networks learn best when the features *and* the targets are on a unit
# scale: a :class:`~sklearn.preprocessing.StandardScaler` standardises the
# features inside the pipeline, and
# :class:`~sklearn.compose.TransformedTargetRegressor` standardises ``y`` for
# training and maps the predictions back. ``init="glorot_uniform"`` is
# scikit-learn's initialisation, so only the random draws differ. Diabetes is
# small and noisy: a strong L2 penalty (``alpha=1``) keeps 64 units from
# memorising it. Training stops once the loss has improved by less than
# ``tol`` for ten epochs; a run that reaches ``max_iter`` first warns, and
# only that exact warning is silenced.
import time
import warnings

from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPRegressor

CAP_REACHED = [
    "Stochastic Optimizer: Maximum iterations",  # both libraries, adam and sgd
    "lbfgs failed to converge",  # both libraries, lbfgs
]


def fit_timed(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        for message in CAP_REACHED:
            warnings.filterwarnings("ignore", message, ConvergenceWarning)
        model.fit(X, y)
    return time.perf_counter() - start


def standardised(regressor):
    return TransformedTargetRegressor(
        make_pipeline(StandardScaler(), regressor), transformer=StandardScaler()
    )


alphas = {"diabetes": 1.0, "friedman1": 1e-3}
fitted, rows = {}, []
for name, (X_train, X_test, y_train, y_test) in splits.items():
    shared = dict(
        hidden_layer_sizes=(64,),
        activation="relu",
        alpha=alphas[name],
        batch_size=32,
        learning_rate_init=0.001,
        max_iter=300,
        random_state=0,
    )
    for library, regressor in [
        ("sknumpynet", ScratchMLPRegressor(init="glorot_uniform", **shared)),
        ("scikit-learn", MLPRegressor(**shared)),
    ]:
        model = standardised(regressor)
        seconds = fit_timed(model, X_train, y_train)
        fitted[name, library] = model
        epochs = model.regressor_[-1].n_iter_
        rows.append((name, library, model.score(X_test, y_test), seconds, epochs))

print(f"{'dataset':<10} {'library':<13} {'test R2':>8} {'fit seconds':>12} {'epochs':>7}")
for name, library, r2, seconds, epochs in rows:
    print(f"{name:<10} {library:<13} {r2:>8.3f} {seconds:>12.2f} {epochs:>7}")

# %%
# Both reach about the same R²: the update rules are the same, the starting
# weights differ. Fit times vary with the machine and its load.
#
# Predicted against true, and the loss curves
# -------------------------------------------
# Points on the diagonal are perfect predictions.
# :class:`~sknumpynet.LossCurveDisplay` reads ``loss_curve_`` from any
# estimator that records it, ``MLPRegressor`` included; the curves are in
# standardised units (the fitted pipeline is ``model.regressor_``). Both
# libraries record half the mean squared error plus the penalty.
import matplotlib.pyplot as plt

from sknumpynet import LossCurveDisplay

fig, axes = plt.subplots(2, 2, figsize=(10, 8))
for column, (name, (_, X_test, _, y_test)) in enumerate(splits.items()):
    ax = axes[0, column]
    for library, marker in [("sknumpynet", "o"), ("scikit-learn", "x")]:
        y_pred = fitted[name, library].predict(X_test)
        ax.scatter(y_test, y_pred, s=12, marker=marker, alpha=0.6, label=library)
    low, high = y_test.min(), y_test.max()
    ax.plot([low, high], [low, high], color="grey", lw=0.8, ls=":")
    ax.set(title=name, xlabel="true target", ylabel="predicted")
    ax.legend()
    for library in ["sknumpynet", "scikit-learn"]:
        LossCurveDisplay.from_estimator(
            fitted[name, library].regressor_, ax=axes[1, column], name=library, log_scale=True
        )
    axes[1, column].set_title(f"{name}: training loss (standardised y)")
fig.tight_layout()
plt.show()

# %%
# Counts with the Poisson loss
# ----------------------------
# Counts (visits, claims, clicks) are non-negative and their spread grows with
# their mean. ``loss="poisson"`` fits the log of the expected count:
# the network's output ``z`` predicts ``exp(z)``, always positive, and is
# trained on half the Poisson deviance. The counts here are drawn from a
# known rate, ``y ~ Poisson(exp(f(X)))``, so the deviance of the true rate
# is the floor any model can reach on the test set; predicting the mean
# count everywhere is the ceiling. The targets stay counts (no scaling).
import numpy as np
from sklearn.metrics import mean_poisson_deviance

rng = np.random.default_rng(0)
X_counts = rng.standard_normal((2000, 4))
rate = np.exp(0.5 + 0.8 * np.sin(2 * X_counts[:, 0]) + 0.5 * X_counts[:, 1] - 0.3 * X_counts[:, 2])
y_counts = rng.poisson(rate)
Xc_train, Xc_test, yc_train, yc_test, _, rate_test = train_test_split(
    X_counts, y_counts, rate, test_size=0.25, random_state=0
)
poisson = dict(hidden_layer_sizes=(32,), loss="poisson", learning_rate_init=0.003, random_state=0)
counts = {
    "ScratchMLPRegressor": ScratchMLPRegressor(init="glorot_uniform", **poisson),
    "MLPRegressor": MLPRegressor(**poisson),
}
print(f"counts from 0 to {y_counts.max()}, mean {y_counts.mean():.2f}")
print(f"{'model':<22} {'test Poisson deviance':>22}")
print(f"{'true rate':<22} {mean_poisson_deviance(yc_test, rate_test):>22.3f}")
constant = np.full(len(yc_test), yc_train.mean())
print(f"{'mean count':<22} {mean_poisson_deviance(yc_test, constant):>22.3f}")
for label, regressor in counts.items():
    fit_timed(regressor, Xc_train, yc_train)
    y_pred = regressor.predict(Xc_test)
    print(f"{label:<22} {mean_poisson_deviance(yc_test, y_pred):>22.3f}")
print(f"out_activation_: {counts['ScratchMLPRegressor'].out_activation_!r}")

# %%
# L-BFGS against Adam
# -------------------
# ``optimizer="lbfgs"`` hands the whole training set to SciPy's L-BFGS-B: each
# iteration is one quasi-Newton step whose length a line search picks, so
# there is no learning rate, no batch and no shuffling. ``max_iter`` caps the
# iterations, ``max_fun`` the evaluations of the loss, and ``loss_curve_``
# gets one entry per iteration. Each iteration costs at least one pass over
# all the data, where an Adam epoch makes one pass and many steps, so on a
# small data set like this one L-BFGS gets there in less time, and on a large
# one mini-batch optimizers win. Both stop at ``max_iter=150`` here (the
# warning is silenced). L-BFGS drives the training loss far lower and fits the
# noise: its test R² trails Adam's, and more iterations lower it further
# (0.87 at 500, 0.83 at 2,000 in a run of this script); a larger ``alpha`` is
# its remedy.
X_train, X_test, y_train, y_test = splits["friedman1"]
runs = {
    "adam": ScratchMLPRegressor(hidden_layer_sizes=(64,), alpha=1e-3, batch_size=32),
    "lbfgs": ScratchMLPRegressor(hidden_layer_sizes=(64,), alpha=1e-3, optimizer="lbfgs"),
}
print(f"{'optimizer':<10} {'test R2':>8} {'fit seconds':>12} {'n_iter_':>8}")
for optimizer, regressor in runs.items():
    regressor.set_params(max_iter=150, random_state=0)
    model = standardised(regressor)
    seconds = fit_timed(model, X_train, y_train)
    runs[optimizer] = model
    n_iter = model.regressor_[-1].n_iter_
    print(f"{optimizer:<10} {model.score(X_test, y_test):>8.3f} {seconds:>12.2f} {n_iter:>8}")

fig, ax = plt.subplots(figsize=(6, 4))
for optimizer, model in runs.items():
    LossCurveDisplay.from_estimator(model.regressor_, ax=ax, name=optimizer, log_scale=True)
ax.set(xlabel="epoch (adam) / iteration (lbfgs)", title="friedman1, standardised targets")
plt.show()

# %%
# Sparse input
# ------------
# A CSR (or CSC) matrix is trained on as it is: the first layer multiplies the
# sparse batch by the dense weights, and nothing is densified. One-hot bins of
# the Friedman features make such a matrix (10 bins per feature, so one entry
# in ten is non-zero). Fitted on it and on the same numbers as a dense array,
# with the same ``random_state``, the two models are the same up to rounding.
from sklearn.preprocessing import KBinsDiscretizer

bins = KBinsDiscretizer(n_bins=10, encode="onehot", strategy="uniform")
S_train = bins.fit_transform(X_train)
S_test = bins.transform(X_test)
print(f"{type(S_train).__name__}: shape {S_train.shape}, {S_train.nnz} non-zeros")

sparse_fit, dense_fit = (
    ScratchMLPRegressor(hidden_layer_sizes=(32,), max_iter=40, random_state=0) for _ in range(2)
)
y_scaled = StandardScaler().fit_transform(y_train[:, None]).ravel()
fit_timed(sparse_fit, S_train, y_scaled)
fit_timed(dense_fit, S_train.toarray(), y_scaled)
weight_gap = max(
    np.abs(a - b).max() for a, b in zip(sparse_fit.coefs_, dense_fit.coefs_, strict=True)
)
prediction_gap = np.abs(sparse_fit.predict(S_test) - dense_fit.predict(S_test.toarray())).max()
print(f"largest weight difference {weight_gap:.1e}, prediction difference {prediction_gap:.1e}")
