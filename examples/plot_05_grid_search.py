"""
Grid search over optimizer, hidden sizes and learning rate
==========================================================

Every hyperparameter of :class:`~sknumpynet.ScratchMLPClassifier`, the
optimizer included, is an ordinary scikit-learn parameter, so a
:class:`~sklearn.model_selection.GridSearchCV` over a
:class:`~sklearn.pipeline.Pipeline` explores them like any other. The
results appear as a table and as one heat map per hidden-layer size.
"""

# %%
# Data
# ----
# At most 1,000 training images keep the 54 cross-validation fits quick.
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sknumpynet.datasets import load_mnist

mnist = load_mnist()
n_train = min(1000, int(0.75 * mnist.target.size))
X_train, X_test, y_train, y_test = train_test_split(
    mnist.data, mnist.target, train_size=n_train, stratify=mnist.target, random_state=0
)
print(f"{mnist.source}: {X_train.shape[0]} training and {X_test.shape[0]} test images")

# %%
# The search
# ----------
# Parameters of a pipeline step are addressed as ``<step>__<parameter>``.
# Learning rates that suit Adam are too small for plain gradient descent, and
# those that suit plain gradient descent are larger than Adam needs; the grid
# spans both. A learning rate too small leaves a network far behind after 15
# epochs (well under half of the best score); one too large shows up as a
# lower score (or a ``DivergenceWarning``, silenced here by its message with
# the iteration-cap warning of these short runs), by a little for Adam, whose
# steps the learning rate bounds.
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier
from sknumpynet.exceptions import DivergenceWarning

pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("mlp", ScratchMLPClassifier(max_iter=15, batch_size=64, random_state=0)),
    ]
)
param_grid = {
    "mlp__optimizer": ["sgd", "momentum", "adam"],
    "mlp__hidden_layer_sizes": [(32,), (128,)],
    "mlp__learning_rate_init": [0.001, 0.01, 0.1],
}
search = GridSearchCV(pipe, param_grid, cv=3)
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", "Stochastic Optimizer: Maximum iterations", ConvergenceWarning
    )
    warnings.filterwarnings("ignore", "Training diverged", DivergenceWarning)
    search.fit(X_train, y_train)
print(f"best parameters: {search.best_params_}")
print(
    f"best cross-validation accuracy {search.best_score_:.3f}, "
    f"test accuracy {search.score(X_test, y_test):.3f}"
)

# %%
# Results table
# -------------
# ``cv_results_`` holds one entry per combination; sorted by rank:
import numpy as np

results = search.cv_results_
print(f"{'rank':>4}  {'optimizer':<9} {'hidden':<7} {'lr':>6}  {'accuracy':>15}  {'fit s':>6}")
for i in np.argsort(results["rank_test_score"]):
    print(
        f"{results['rank_test_score'][i]:>4}  {results['param_mlp__optimizer'][i]:<9} "
        f"{str(results['param_mlp__hidden_layer_sizes'][i]):<7} "
        f"{results['param_mlp__learning_rate_init'][i]:>6g}  "
        f"{results['mean_test_score'][i]:>8.3f} ± {results['std_test_score'][i]:.3f}  "
        f"{results['mean_fit_time'][i]:>6.2f}"
    )

# %%
# Heat maps
# ---------
# One panel per hidden-layer size: optimizers down, learning rates across.
import matplotlib.pyplot as plt

optimizers = param_grid["mlp__optimizer"]
rates = param_grid["mlp__learning_rate_init"]
sizes = param_grid["mlp__hidden_layer_sizes"]
fig, axes = plt.subplots(1, len(sizes), figsize=(10, 3.8), sharey=True, layout="constrained")
for ax, size in zip(axes, sizes, strict=True):
    scores = np.empty((len(optimizers), len(rates)))
    for i, score in enumerate(results["mean_test_score"]):
        params = results["params"][i]
        if params["mlp__hidden_layer_sizes"] == size:
            row = optimizers.index(params["mlp__optimizer"])
            col = rates.index(params["mlp__learning_rate_init"])
            scores[row, col] = score
    image = ax.imshow(scores, vmin=0, vmax=1, cmap="viridis")
    for (row, col), score in np.ndenumerate(scores):
        ax.text(
            col,
            row,
            f"{score:.3f}",
            ha="center",
            va="center",
            color="white" if score < 0.6 else "black",
        )
    ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
    ax.set_yticks(range(len(optimizers)), optimizers)
    ax.set(xlabel="learning_rate_init", title=f"hidden_layer_sizes={size}")
fig.colorbar(image, ax=axes, label="mean CV accuracy")
plt.show()
