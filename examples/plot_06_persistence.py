"""
Saving and loading a model: joblib and skops
============================================

A fitted :class:`~sknumpynet.ScratchMLPClassifier` (or a pipeline holding
one) is saved like any scikit-learn estimator. Its weights are plain NumPy
arrays, so the files are small and the reloaded model predicts exactly the
same probabilities. The pickle records the sknumpynet version; loading it
with another version warns with
:class:`~sknumpynet.exceptions.InconsistentVersionWarning`.
"""

# %%
# Fit a model
# -----------
import os
import tempfile

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
model = make_pipeline(
    StandardScaler(),
    ScratchMLPClassifier(hidden_layer_sizes=(64,), early_stopping=True, random_state=0),
)
model.fit(X_train, y_train)
expected = model.predict_proba(X_test)
print(f"test accuracy {model.score(X_test, y_test):.3f}")

folder = tempfile.mkdtemp()

# %%
# joblib
# ------
# ``joblib.dump`` pickles the estimator; ``joblib.load`` gives it back. As
# with any pickle, only load files from a source you trust: unpickling can run
# arbitrary code.
import joblib

path = os.path.join(folder, "model.joblib")
joblib.dump(model, path)
reloaded = joblib.load(path)
print(f"joblib file: {os.path.getsize(path)} bytes")
same = np.array_equal(reloaded.predict_proba(X_test), expected)
print(f"identical probabilities after reload: {same}")

# %%
# skops
# -----
# `skops <https://skops.readthedocs.io>`_ stores estimators in a format that
# is loaded without executing code: types that skops does not know are listed
# by ``get_untrusted_types`` and must be trusted explicitly. skops is an
# optional extra (``pip install sknumpynet[skops]``); this part is skipped
# when it is missing.
try:
    import skops.io as sio
except ImportError:
    sio = None
    print("skops is not installed; skipping the skops format.")

if sio is not None:
    path = os.path.join(folder, "model.skops")
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    print(f"types to review before trusting: {untrusted}")
    reloaded = sio.load(path, trusted=untrusted)
    print(f"skops file: {os.path.getsize(path)} bytes")
    same = np.array_equal(reloaded.predict_proba(X_test), expected)
    print(f"identical probabilities after reload: {same}")

# %%
# The fitted attributes survive too: weights, loss curve, classes.
print([w.shape for w in reloaded[-1].coefs_], reloaded[-1].n_iter_, reloaded.classes_)

import shutil

shutil.rmtree(folder)
