"""
Callbacks: progress bars and per-epoch scores
=============================================

scikit-learn 1.9 introduced a callback API, :mod:`sklearn.callback`, and both
estimators support it: ``set_callbacks`` registers callbacks, each ``fit`` is
one task with one subtask per epoch (per iteration for ``optimizer="lbfgs"``),
and callbacks set on a :class:`~sklearn.pipeline.Pipeline` or on
:class:`~sklearn.model_selection.GridSearchCV` reach the network's epochs too.
This example shows :class:`~sklearn.callback.ProgressBar` (which needs
`rich <https://github.com/Textualize/rich>`_: ``pip install
sknumpynet[callbacks]``) and :class:`~sklearn.callback.ScoringMonitor`
standalone, in a pipeline and from a grid search, and a callback of our own
that stops training early.

With an older scikit-learn everything else works as before, and
``set_callbacks`` raises an ImportError that names the version needed.
"""

# %%
# Data
# ----
# The handwritten digits shipped with scikit-learn, standardised.
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train_std, X_test_std = scaler.transform(X_train), scaler.transform(X_test)

# %%
# A progress bar and a score per epoch
# ------------------------------------
# ``ProgressBar`` draws one bar per fit, advanced at the end of every epoch;
# ``ScoringMonitor`` scores the network on the training data after every
# epoch (here the accuracy) and keeps the scores in its logs. The verbose
# output of ``verbose=1`` is unchanged and independent of them.
import warnings

from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.exceptions import ConvergenceWarning

from sknumpynet import ScratchMLPClassifier

# The fits below are short on purpose: those that reach max_iter warn, and
# only that exact warning is silenced, for the rest of this script.
warnings.filterwarnings("ignore", "Stochastic Optimizer: Maximum iterations", ConvergenceWarning)

monitor = ScoringMonitor(scoring="accuracy")
clf = ScratchMLPClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0)
clf.set_callbacks(ProgressBar(), monitor)
clf.fit(X_train_std, y_train)

log = monitor.get_logs()
for row in log.data[:3] + log.data[-2:]:
    print(f"{row['task_name']} {row['task_id']:2d}: training accuracy {row['accuracy']:.3f}")
print(f"test accuracy {clf.score(X_test_std, y_test):.3f}")

# %%
# The scores next to the training loss, epoch by epoch:
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(clf.loss_curve_, label="training loss")
ax.set_xlabel("epoch")
ax.set_ylabel("loss")
ax2 = ax.twinx()
ax2.plot([row["accuracy"] for row in log.data], color="C1", label="training accuracy")
ax2.set_ylabel("accuracy")
fig.legend(loc="center right")
fig.tight_layout()

# %%
# In a pipeline
# -------------
# A ``ProgressBar`` set on the pipeline is passed on to its steps: one bar for
# the pipeline, one for each step that supports callbacks. A ``ScoringMonitor``
# set on the network itself scores it on the data it is fitted on, i.e. after
# the scaler.
from sklearn.pipeline import make_pipeline

monitor = ScoringMonitor(scoring="accuracy")
pipe = make_pipeline(
    StandardScaler(),
    ScratchMLPClassifier(hidden_layer_sizes=(64,), max_iter=10, random_state=0).set_callbacks(
        monitor
    ),
)
pipe.set_callbacks(ProgressBar())
pipe.fit(X_train, y_train)
print(
    f"{len(monitor.get_logs().data)} epochs scored; test accuracy {pipe.score(X_test, y_test):.3f}"
)

# %%
# From a grid search
# ------------------
# ``GridSearchCV`` passes its ``ProgressBar`` on to every fit it makes: a bar
# per candidate and split, each advanced epoch by epoch, and one for the refit.
from sklearn.model_selection import GridSearchCV

search = GridSearchCV(
    ScratchMLPClassifier(hidden_layer_sizes=(32,), max_iter=20, random_state=0),
    {"alpha": [1e-4, 1e-1]},
    cv=2,
)
search.set_callbacks(ProgressBar())
search.fit(X_train_std, y_train)
print(f"best alpha {search.best_params_['alpha']}")
print(f"test accuracy {search.score(X_test_std, y_test):.3f}")

# %%
# A callback of our own
# ---------------------
# A callback is any object with the four hooks ``setup``, ``on_fit_task_begin``,
# ``on_fit_task_end`` and ``teardown``. The hooks declare the arguments they
# want: here ``on_fit_task_end`` asks for ``fitted_estimator`` (a copy of the
# network with that epoch's weights), ``X`` and ``y`` (the training data), and
# returns True, which ends training, once the training accuracy reaches 98%.


class StopAtAccuracy:
    def __init__(self, target):
        self.target = target

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, fitted_estimator=None):
        if fitted_estimator is None or context.task_name != "epoch":
            return False  # the end of the whole fit, not of an epoch
        return fitted_estimator.score(X, y) >= self.target

    def teardown(self, estimator, context):
        pass


clf = ScratchMLPClassifier(hidden_layer_sizes=(64,), max_iter=200, random_state=0)
clf.set_callbacks(StopAtAccuracy(0.98)).fit(X_train_std, y_train)
print(f"stopped after {clf.n_iter_} of up to {clf.max_iter} epochs")
print(f"training accuracy {clf.score(X_train_std, y_train):.3f}")
