"""
Deploying without Python: ONNX export
=====================================

A fitted :class:`~sknumpynet.ScratchMLPClassifier` or
:class:`~sknumpynet.ScratchMLPRegressor`, alone or at the end of a pipeline,
exports to an `ONNX <https://onnx.ai>`_ graph that runtimes in other languages
(C, C++, C#, Java, JavaScript, on phones and in browsers) run without Python.
Importing :mod:`sknumpynet.onnx` registers both estimators with
`skl2onnx <https://onnx.ai/sklearn-onnx/>`_; here we export a pipeline, run it
with `onnxruntime <https://onnxruntime.ai>`_ and compare its outputs with the
estimator's. Needs the ``onnx`` extra: ``pip install "sknumpynet[onnx]"``.
See :doc:`/deployment` for what is exported and the options.
"""

# %%
# Fit a pipeline
# --------------
# float32 input trains a float32 model; the graph then computes in float32 too.
import collections
import os
import shutil
import tempfile

import numpy as np
import onnxruntime
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import ScratchMLPClassifier
from sknumpynet.onnx import to_onnx

X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
model = make_pipeline(
    StandardScaler(),
    ScratchMLPClassifier(hidden_layer_sizes=(64, 32), activation=["relu", "tanh"], random_state=0),
)
model.fit(X_train, y_train)
print(f"test accuracy {model.score(X_test, y_test):.3f}")

# %%
# Export
# ------
# :func:`sknumpynet.onnx.to_onnx` takes the fitted pipeline and a sample of
# its input (only the dtype and the number of columns count) and returns an
# ``onnx.ModelProto``. ``zipmap=False`` gives the probabilities as one
# ``(n_samples, n_classes)`` tensor rather than skl2onnx's default list of
# ``{label: probability}`` dicts.
onx = to_onnx(model, X_train[:1], options={ScratchMLPClassifier: {"zipmap": False}})
folder = tempfile.mkdtemp()
path = os.path.join(folder, "digits.onnx")
with open(path, "wb") as f:
    f.write(onx.SerializeToString())
print(f"{path}: {os.path.getsize(path)} bytes, opset {onx.opset_import[0].version}")
print("nodes:", dict(collections.Counter(node.op_type for node in onx.graph.node)))

# %%
# Run it with onnxruntime
# -----------------------
# The graph has one input, ``X`` of shape ``(None, 64)``, and the two outputs
# skl2onnx gives every classifier: the predicted labels and the probabilities.
session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
print([(i.name, i.type, i.shape) for i in session.get_inputs()])
print([(o.name, o.type, o.shape) for o in session.get_outputs()])
labels, proba = session.run(None, {"X": X_test})

# %%
# Compare with the estimator
# --------------------------
# The labels are identical and the probabilities agree to float32 rounding
# (the test suite holds every float32 model to 2e-5 and every float64 model to
# 1e-9).
expected = model.predict_proba(X_test)
print(f"labels identical: {np.array_equal(labels, model.predict(X_test))}")
print(f"largest probability difference: {np.abs(proba - expected).max():.1e}")

# %%
# A regressor with standardised targets
# -------------------------------------
# skl2onnx has no converter for
# :class:`~sklearn.compose.TransformedTargetRegressor`; ``to_onnx`` exports
# one whose transformer is a :class:`~sklearn.preprocessing.StandardScaler`
# by appending the inverse scaling to the regressor's graph.
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes

from sknumpynet import ScratchMLPRegressor

X, y = load_diabetes(return_X_y=True)
reg = TransformedTargetRegressor(
    make_pipeline(
        StandardScaler(), ScratchMLPRegressor(alpha=1.0, early_stopping=True, random_state=0)
    ),
    transformer=StandardScaler(),
).fit(X[:300], y[:300])
session = onnxruntime.InferenceSession(
    to_onnx(reg, X[:1]).SerializeToString(), providers=["CPUExecutionProvider"]
)
(predicted,) = session.run(None, {"X": X[300:]})
print(f"output shape {predicted.shape}, dtype {predicted.dtype}")
print(
    f"largest difference from predict: {np.abs(predicted[:, 0] - reg.predict(X[300:])).max():.1e}"
)

shutil.rmtree(folder)
