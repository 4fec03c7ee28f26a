"""ONNX export (``sknumpynet.onnx``): the graph run by onnxruntime against the estimators.

Parity: labels identical and probabilities / predictions within 1e-9 (float64
models) or 2e-5 (float32 models) of ``predict`` and ``predict_proba`` on rows
the models were not fitted on, for every activation, head, label type, loss,
dtype, training option and a pipeline of each estimator.
"""

import importlib
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.nn import ACTIVATIONS


def _extra(name):
    """The module, or a skip where the onnx extra is missing (never in CI: it installs it)."""
    if os.environ.get("CI"):
        return importlib.import_module(name)
    return pytest.importorskip(
        name, reason="the onnx extra (pip install 'sknumpynet[onnx]') is not installed"
    )


onnx = _extra("onnx")
ort = _extra("onnxruntime")
skl2onnx = _extra("skl2onnx")
from skl2onnx.common.data_types import FloatTensorType  # noqa: E402

import sknumpynet.onnx as sknumpynet_onnx  # noqa: E402

DTYPES = [np.float32, np.float64]
TOLERANCE = {np.dtype(np.float32): 2e-5, np.dtype(np.float64): 1e-9}
SMALL = {"hidden_layer_sizes": (7, 5), "max_iter": 8, "random_state": 0}


def _data(n_classes=3, n=160):
    X, y = make_classification(
        n, 6, n_informative=4, n_redundant=0, n_classes=n_classes, random_state=0
    )
    return X[:120], y[:120], X[120:]  # the graph is checked on the 40 rows after the fit's


def _run(model, X):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def _mlp(estimator):
    if isinstance(estimator, TransformedTargetRegressor):
        estimator = estimator.regressor_
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def check_parity(estimator, X, input_dtypes=DTYPES, **options):
    """The exported graph against the estimator, for input in each of ``input_dtypes``."""
    tol = TOLERANCE[_mlp(estimator).coefs_[0].dtype]
    for dtype in input_dtypes:
        Xd = X.astype(dtype)
        onx = sknumpynet_onnx.to_onnx(estimator, Xd[:1], options={ScratchMLPClassifier: options})
        onnx.checker.check_model(onx, full_check=True)
        outputs = _run(onx, Xd)
        if is_classifier(estimator):
            labels, proba = outputs
            if isinstance(proba, list):  # ZipMap: one {label: probability} dict a row
                proba = np.array([[row[k] for k in sorted(row)] for row in proba], np.float32)
            expected = estimator.predict_proba(Xd)
            assert proba.dtype == expected.dtype
            assert_array_equal(labels, estimator.predict(Xd))
            assert_allclose(proba, expected, rtol=0, atol=tol)
            outputs = [labels, proba]
        else:
            (predicted,) = outputs
            expected = estimator.predict(Xd)
            assert predicted.dtype == expected.dtype
            assert_allclose(predicted, expected.reshape(len(X), -1), rtol=tol, atol=tol)
    return outputs


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation(activation, dtype):
    X, y, X_new = _data()
    clf = ScratchMLPClassifier(activation=activation, **SMALL).fit(X.astype(dtype), y)
    check_parity(clf, X_new)


@pytest.mark.parametrize("dtype", DTYPES)
def test_per_layer_activations(dtype):
    X, y, X_new = _data()
    layers = {"hidden_layer_sizes": (6, 5, 4), "activation": ["leaky_relu", "tanh", "sigmoid"]}
    clf = ScratchMLPClassifier(**{**SMALL, **layers}).fit(X.astype(dtype), y)
    reg = ScratchMLPRegressor(**{**SMALL, **layers}).fit(X.astype(dtype), X[:, :2] @ [1.0, -2.0])
    check_parity(clf, X_new)
    check_parity(reg, X_new)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "n_classes, head, n_units",
    [
        (2, "sigmoid", 1),  # binary: one unit, two probability columns
        (2, "softmax", 2),
        (4, "softmax", 4),
        (4, "sigmoid", 4),  # one-vs-rest units, rows normalised
    ],
)
def test_every_head(n_classes, head, n_units, dtype):
    X, y, X_new = _data(n_classes)
    clf = ScratchMLPClassifier(head=head, **SMALL).fit(X.astype(dtype), y)
    assert (clf.out_activation_, clf.n_outputs_, clf.multilabel_) == (head, n_units, False)
    check_parity(clf, X_new)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multilabel(dtype):
    X, Y = make_multilabel_classification(160, 6, n_classes=4, random_state=0)
    clf = ScratchMLPClassifier(**SMALL).fit(X[:120].astype(dtype), Y[:120])
    assert clf.multilabel_ and clf.n_outputs_ == 4
    labels, _ = check_parity(clf, X[120:])
    assert labels.shape == (40, 4) and labels.dtype == np.int64


@pytest.mark.parametrize(
    "labels", [np.array([-3, 7, 11]), np.array([False, True]), np.array(["cat", "dog", "émeu"])]
)
def test_int_bool_and_string_labels(labels):
    X, y, X_new = _data(len(labels))
    clf = ScratchMLPClassifier(**SMALL).fit(X, labels[y])
    check_parity(clf, X_new)
    clf.fit(X.astype(np.float32), labels[y])  # ZipMap takes float32 probabilities
    check_parity(clf, X_new, zipmap=True)


def test_float_labels_are_int64_as_skl2onnx_gives_them():
    X, y, X_new = _data()
    clf = ScratchMLPClassifier(**SMALL).fit(X, y * 2.0)  # classes_ 0.0, 2.0, 4.0
    labels, _ = check_parity(clf, X_new)
    assert labels.dtype == np.int64


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_regressor_losses_and_outputs(loss, n_outputs, dtype):
    X, _, X_new = _data()
    Y = np.abs(X[:, :n_outputs] + 0.5 * X[:, 1:2])
    reg = ScratchMLPRegressor(loss=loss, **SMALL).fit(X.astype(dtype), Y.squeeze())
    (predicted,) = check_parity(reg, X_new)
    assert predicted.shape == (40, n_outputs)


def test_integer_input_is_taken_as_float64():
    X, y, X_new = _data()
    for dtype in DTYPES:
        clf = ScratchMLPClassifier(**SMALL).fit(X.astype(dtype), y)
        check_parity(clf, np.round(X_new * 3), input_dtypes=[np.int64])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.bool_])
def test_the_integer_inputs_skl2onnx_takes_are_taken_as_float64(dtype):
    # predict takes these as float64; the export refused them (uint8 images among them).
    X, y, X_new = _data()
    clf = ScratchMLPClassifier(**SMALL).fit(X.astype(np.float32), y)
    X_in = np.abs(np.round(X_new * 3)).astype(dtype)
    onx = sknumpynet_onnx.to_onnx(clf, X_in[:1], options={id(clf): {"zipmap": False}})
    labels, proba = _run(onx, X_in)
    assert_array_equal(labels, clf.predict(X_in))
    assert_allclose(proba, clf.predict_proba(X_in), rtol=0, atol=2e-5)
    reg = ScratchMLPRegressor(**SMALL).fit(X, X[:, 0])
    (predicted,) = _run(sknumpynet_onnx.to_onnx(reg, X_in[:1]), X_in)
    assert_allclose(predicted.ravel(), reg.predict(X_in), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint32, np.uint64, np.float16])
def test_a_sample_dtype_skl2onnx_cannot_take_is_refused_naming_the_ones_it_can(dtype):
    X, y, X_new = _data()
    clf = ScratchMLPClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match=f"X_sample has dtype {np.dtype(dtype)}.*float32, float64"):
        sknumpynet_onnx.to_onnx(clf, X_new[:1].astype(dtype))


def test_a_sample_given_as_a_list_of_rows():
    X, y, X_new = _data()
    clf = ScratchMLPClassifier(**SMALL).fit(X, y)
    onx = sknumpynet_onnx.to_onnx(clf, X_new[:2].tolist())
    assert_array_equal(_run(onx, X_new)[0], clf.predict(X_new))


@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_a_one_dimensional_input_is_refused_not_exported_broken(Estimator):
    # X[0] as the sample gave a graph of 1-D input that onnxruntime could not run.
    X, y, X_new = _data()
    est = Estimator(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match=r"input must be 2-D .*got shape \[None\].*X\[:1\]"):
        sknumpynet_onnx.to_onnx(est, X_new[0])
    with pytest.raises(ValueError, match=r"input must be 2-D"):
        skl2onnx.to_onnx(est, initial_types=[("X", FloatTensorType([None]))])


def test_skl2onnx_refuses_an_unfitted_regressor_naming_it():
    # It failed on n_features_in_; an unfitted classifier fails earlier, in
    # skl2onnx's own parser ("No known ways to retrieve the number of classes").
    X, _, _ = _data()
    with pytest.raises(NotFittedError, match="This ScratchMLPRegressor instance is not fitted"):
        skl2onnx.to_onnx(ScratchMLPRegressor(), X[:1])


def test_labels_that_int64_cannot_hold_are_refused_not_wrapped():
    # uint64 labels from 2**63 on came out of astype(int64) negative, silently.
    X, y, X_new = _data()
    labels = np.array([1, 2, 2**63 + 5], dtype=np.uint64)
    clf = ScratchMLPClassifier(**SMALL).fit(X, labels[y])
    with pytest.raises(ValueError, match=r"classes_ .* int64 .*'nocl': True"):
        sknumpynet_onnx.to_onnx(clf, X_new[:1])
    onx = sknumpynet_onnx.to_onnx(clf, X_new[:1], options={id(clf): {"nocl": True}})
    indices, _ = _run(onx, X_new)
    assert_array_equal(clf.classes_[indices], clf.predict(X_new))


@pytest.mark.parametrize(
    "params",
    [
        {"dropout": 0.3},
        {"optimizer": "lbfgs", "max_iter": 20},
        {"class_weight": "balanced"},
        {"class_weight": {0: 5.0, 2: 0.5}},
    ],
    ids=["dropout", "lbfgs", "balanced", "class_weight_dict"],
)
def test_training_options(params):
    X, y, X_new = _data()
    clf = ScratchMLPClassifier(**{**SMALL, **params}).fit(X, y)
    check_parity(clf, X_new)
    if "class_weight" not in params:
        reg = ScratchMLPRegressor(**{**SMALL, **params}).fit(X, X[:, 0] - X[:, 1])
        check_parity(reg, X_new)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sparse_training_data_exported_with_a_dense_sample(dtype):
    X, y, X_new = _data()
    X_sparse = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0).astype(dtype))
    clf = ScratchMLPClassifier(**SMALL).fit(X_sparse, y)
    check_parity(clf, X_new)
    # A sparse sample is taken densified: the graph takes dense rows.
    onx = sknumpynet_onnx.to_onnx(clf, X_sparse, options={id(clf): {"zipmap": False}})
    _, proba = _run(onx, X_new.astype(dtype))
    assert_allclose(
        proba, clf.predict_proba(sp.csr_matrix(X_new)), atol=TOLERANCE[clf.coefs_[0].dtype]
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_pipelines_of_both_estimators(dtype):
    X, y, X_new = _data()
    X = X * [1, 10, 100, 1, 1, 1000] + 5
    X_new = X_new * [1, 10, 100, 1, 1, 1000] + 5
    clf = make_pipeline(StandardScaler(), ScratchMLPClassifier(**SMALL)).fit(X.astype(dtype), y)
    reg = make_pipeline(StandardScaler(), ScratchMLPRegressor(**SMALL))
    reg.fit(X.astype(dtype), X[:, 0] - X[:, 1] / 10)
    # skl2onnx's own StandardScaler: not bit-identical to scikit-learn's in float32.
    check_parity(clf, X_new, input_dtypes=[dtype])
    check_parity(reg, X_new, input_dtypes=[dtype])


def test_transformed_target_regressor():
    X, _, X_new = _data()
    transformers = [StandardScaler(), StandardScaler(with_mean=False), FunctionTransformer(), None]
    for transformer in transformers:
        ttr = TransformedTargetRegressor(
            regressor=make_pipeline(StandardScaler(), ScratchMLPRegressor(**SMALL)),
            transformer=transformer,
        ).fit(X, 100 + 30 * X[:, 0])
        check_parity(ttr, X_new, input_dtypes=[np.float64])
    ttr.set_params(transformer=None, func=np.log1p, inverse_func=np.expm1).fit(X, np.abs(X[:, 0]))
    with pytest.raises(ValueError, match="StandardScaler"):
        sknumpynet_onnx.to_onnx(ttr, X_new)


@pytest.mark.parametrize("n_classes, head", [(3, "softmax"), (3, "sigmoid"), (2, "sigmoid")])
def test_extreme_inputs_give_finite_probabilities_as_predict_proba(n_classes, head):
    X, y, X_new = _data(n_classes)
    clf = ScratchMLPClassifier(head=head, **SMALL).fit(X.astype(np.float32), y)
    _, proba = check_parity(clf, X_new * 1e6)
    # Saturated: most rows put all of their probability on one class.
    assert np.isfinite(proba).all() and (proba.max(axis=1) == 1).mean() > 0.5
    # Every unit far below zero: sigmoids underflow to 0, so the one-vs-rest
    # normalisation needs the log domain (as predict_proba) to avoid 0 / 0.
    clf.intercepts_[-1] -= 1000
    _, proba = check_parity(clf, X_new)
    assert np.isfinite(proba).all()


@pytest.mark.parametrize("head", ["softmax", "sigmoid"])
def test_nan_logits_count_as_zero_as_the_heads_do(head):
    # Two hidden units at +inf and -inf feed every output unit: inf - inf = NaN.
    X = np.linspace(-1, 1, 60)[:, None]
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(2,), activation="identity", head=head, max_iter=2, random_state=0
    ).fit(X, np.digitize(X[:, 0], [-0.3, 0.3]))
    clf.coefs_[0][...] = [[1e200, -1e200]]
    clf.coefs_[1][...] = 1.0
    X_far = np.array([[-1e200], [1e200], [0.5]])
    _, proba = check_parity(clf, X_far, input_dtypes=[np.float64])
    assert_allclose(proba[:2], 1 / 3)


@pytest.mark.parametrize("activation", ["relu", "tanh", "identity"])
def test_float64_input_beyond_float32_range_into_a_float32_model(activation):
    # predict clips float64 X into float32's range before the cast (no inf), and
    # so does the graph. One feature and one hidden unit: every dot product is a
    # single term, so overflow and saturation come out the same in NumPy and
    # onnxruntime.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 1)).astype(np.float32)
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    params = {**SMALL, "hidden_layer_sizes": (1,), "activation": activation}
    clf = ScratchMLPClassifier(**params).fit(X, y)
    reg = ScratchMLPRegressor(**params).fit(X, X[:, 0])
    poisson = ScratchMLPRegressor(**params, loss="poisson").fit(X, np.exp(X[:, 0]))
    X_far = np.array([[-1e300], [-3e38], [-1e30], [0.0], [1e30], [3e38], [1e39], [1e300]])
    for model in (clf, reg, poisson):
        outputs = check_parity(model, X_far, input_dtypes=[np.float64])
        assert not np.isnan(outputs[-1]).any()


# ---- skl2onnx's options and errors ---------------------------------------------


def test_skl2onnx_to_onnx_converts_pipelines_with_classifier_options():
    X, y, X_new = _data()
    clf = ScratchMLPClassifier(**SMALL).fit(X.astype(np.float32), y)
    pipe = make_pipeline(StandardScaler(), clf).fit(X.astype(np.float32), y)
    X32 = X_new.astype(np.float32)

    onx = skl2onnx.to_onnx(pipe, X32[:1], options={id(clf): {"zipmap": False}})
    labels, proba = _run(onx, X32)
    assert_array_equal(labels, pipe.predict(X32))
    assert proba.shape == (40, 3)

    labels, rows = _run(skl2onnx.to_onnx(pipe, X32[:1]), X32)  # zipmap=True by default
    assert sorted(rows[0]) == [0, 1, 2]
    assert_allclose([row[1] for row in rows], proba[:, 1], atol=1e-7)

    outputs = _run(skl2onnx.to_onnx(pipe, X32[:1], options={id(clf): {"zipmap": "columns"}}), X32)
    assert_allclose(np.column_stack(outputs[1:]), proba, atol=1e-7)

    options = {id(clf): {"zipmap": False, "output_class_labels": True}}
    labels, _, classes = _run(skl2onnx.to_onnx(pipe, X32[:1], options=options), X32)
    assert_array_equal(classes, [0, 1, 2])

    clf_str = ScratchMLPClassifier(**SMALL).fit(X, np.array(["a", "b", "c"])[y])
    options = {id(clf_str): {"zipmap": False, "nocl": True}}
    labels, _ = _run(skl2onnx.to_onnx(clf_str, X_new[:1], options=options), X_new)
    assert labels.dtype == np.int64
    assert_array_equal(clf_str.classes_[labels], clf_str.predict(X_new))


def test_defaults_of_to_onnx():
    X, y, X_new = _data()
    clf32 = ScratchMLPClassifier(**SMALL).fit(X.astype(np.float32), y)
    clf64 = ScratchMLPClassifier(**SMALL).fit(X, y)
    _, rows = _run(sknumpynet_onnx.to_onnx(clf32, X_new[:1]), X_new)
    assert isinstance(rows, list)  # ZipMap, skl2onnx's default, where it works
    _, proba = _run(sknumpynet_onnx.to_onnx(clf64, X_new[:1]), X_new)
    assert proba.dtype == np.float64  # no ZipMap for float64 probabilities
    with pytest.raises(ValueError, match="ZipMap takes float32 probabilities only"):
        skl2onnx.to_onnx(clf64, X_new[:1])
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    multilabel = ScratchMLPClassifier(**SMALL).fit(X.astype(np.float32), Y)
    _, proba = _run(sknumpynet_onnx.to_onnx(multilabel, X_new[:1]), X_new)
    assert isinstance(proba, np.ndarray)  # no ZipMap for a multilabel model either
    # zipmap="columns" slices the tensor: float64 works, as the options say
    onx = sknumpynet_onnx.to_onnx(clf64, X_new[:1], options={id(clf64): {"zipmap": "columns"}})
    labels, *columns = _run(onx, X_new)
    assert_array_equal(labels, clf64.predict(X_new))
    assert_allclose(np.column_stack(columns), clf64.predict_proba(X_new), rtol=0, atol=1e-9)


def test_errors():
    X, y, X_new = _data()
    with pytest.raises(NotFittedError, match="not fitted yet; call 'fit' before to_onnx"):
        sknumpynet_onnx.to_onnx(ScratchMLPClassifier(), X_new)
    clf = ScratchMLPClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="The ONNX input has 4 features; .* fitted with 6"):
        sknumpynet_onnx.to_onnx(clf, initial_types=[("X", FloatTensorType([None, 4]))])
    with pytest.raises(ValueError, match="needs target_opset >= 13; got 12"):
        sknumpynet_onnx.to_onnx(clf, X_new, target_opset=12)
    clf.hidden_activations_ = ["relu", "swish"]
    with pytest.raises(NotImplementedError, match="activation 'swish'"):
        sknumpynet_onnx.to_onnx(clf, X_new)


def test_no_sample_and_no_initial_types_is_refused_naming_both():
    # skl2onnx said only "Initial types must be specified." (a NotImplementedError).
    X, y, _ = _data()
    clf = ScratchMLPClassifier(**SMALL).fit(X, y)
    for model in (clf, make_pipeline(StandardScaler(), clf)):
        with pytest.raises(ValueError, match=r"pass X_sample \(a few rows of X\) or initial_types"):
            sknumpynet_onnx.to_onnx(model)
    with pytest.raises(ValueError, match=re.escape("FloatTensorType([None, 6])")):
        sknumpynet_onnx.to_onnx(clf, initial_types=None)


@pytest.mark.parametrize("missing", ["onnx", "skl2onnx"])
def test_importing_without_the_extra_names_it(missing, monkeypatch):
    # Python's own error named the module only.
    monkeypatch.setitem(sys.modules, missing, None)  # what an absent package gives
    monkeypatch.delitem(sys.modules, "sknumpynet.onnx")
    expected = (
        f"sknumpynet.onnx needs {missing}, which is not installed; install the onnx extra: "
        'pip install "sknumpynet[onnx]"'
    )
    with pytest.raises(ModuleNotFoundError, match=f"^{re.escape(expected)}$") as excinfo:
        importlib.import_module("sknumpynet.onnx")
    assert isinstance(excinfo.value.__cause__, ModuleNotFoundError)
    assert excinfo.value.__cause__.name == missing


# A fresh interpreter: sknumpynet alone imports none of the extra; skl2onnx knows
# the estimators only once sknumpynet.onnx is imported.
REGISTRATION = """
import sys
import numpy as np
import sknumpynet
from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
X = np.random.default_rng(0).normal(size=(30, 3))
clf = ScratchMLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, X[:, 0] > 0)
reg = ScratchMLPRegressor(hidden_layer_sizes=(4,), max_iter=2).fit(X, X[:, 0])
clf.predict_proba(X), reg.predict(X)
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"onnx", "skl2onnx", "onnxruntime"})
assert not loaded and "sknumpynet.onnx" not in sys.modules, loaded
import skl2onnx
for model in (clf, reg):
    try:
        skl2onnx.to_onnx(model, X[:1])
    except RuntimeError as exc:  # skl2onnx's MissingShapeCalculator
        assert "Unable to find a shape calculator" in str(exc), exc
    else:
        raise AssertionError("converted before registration")
import sknumpynet.onnx
for model in (clf, reg):
    skl2onnx.to_onnx(model, X[:1], options={id(clf): {"zipmap": False}})
print("ok")
"""


def test_importing_sknumpynet_onnx_registers_and_import_sknumpynet_does_not():
    proc = subprocess.run(
        [sys.executable, "-c", REGISTRATION], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


# ---- cases an audit found outside the above --------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "wrap",
    [
        lambda clf: GridSearchCV(clf, {"alpha": [1e-4, 1e-3]}, cv=2),
        lambda clf: CalibratedClassifierCV(clf, cv=2),
        lambda clf: OneVsRestClassifier(clf),
        lambda clf: StackingClassifier([("a", clf), ("b", clone(clf))], cv=2),
        lambda clf: VotingClassifier(  # skl2onnx converts no flattened transform
            [("a", clf), ("b", clone(clf))], voting="soft", flatten_transform=False
        ),
    ],
    ids=["grid", "calibrated", "ovr", "stacking", "voting"],
)
def test_meta_estimators_that_wrap_a_classifier_export(wrap, dtype):
    # to_onnx walked into the unfitted template (a search's `estimator`) and
    # read its coefs_; and a float64 model's wrapper put its own ZipMap on
    # probabilities ZipMap cannot take.
    X, y, X_new = _data()
    meta = wrap(ScratchMLPClassifier(**SMALL)).fit(X.astype(dtype), y)
    labels, proba = _run(
        sknumpynet_onnx.to_onnx(meta, X_new[:1].astype(dtype)), X_new.astype(dtype)
    )
    if isinstance(proba, list):
        proba = np.array([[row[k] for k in sorted(row)] for row in proba])
    assert_array_equal(labels, meta.predict(X_new.astype(dtype)))
    assert_allclose(proba, meta.predict_proba(X_new.astype(dtype)), atol=TOLERANCE[np.dtype(dtype)])


def test_a_dataframe_sample_exports_a_model_fitted_on_a_dataframe():
    pd = pytest.importorskip("pandas", reason="pandas (a test extra) makes the DataFrame")
    X, y, X_new = _data()
    columns = [f"f{i}" for i in range(X.shape[1])]
    clf = ScratchMLPClassifier(**SMALL).fit(pd.DataFrame(X, columns=columns), y)
    onx = sknumpynet_onnx.to_onnx(clf, pd.DataFrame(X_new[:1], columns=columns))
    labels, proba = _run(onx, X_new)
    frame = pd.DataFrame(X_new, columns=columns)
    assert_array_equal(labels, clf.predict(frame))
    assert_allclose(proba, clf.predict_proba(frame), atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_regressor_outputs_are_clipped_as_predict_clips_them(dtype):
    # Identity outputs beyond the largest float are the largest float (not inf),
    # and exp outputs that underflow are the smallest normal float (not 0).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 1))
    linear = {"hidden_layer_sizes": (), "optimizer": "lbfgs", "max_iter": 50, "random_state": 0}
    reg = ScratchMLPRegressor(**linear).fit(X.astype(dtype), 3 * X[:, 0])
    poisson = ScratchMLPRegressor(loss="poisson", **linear).fit(X.astype(dtype), np.exp(X[:, 0]))
    big = np.finfo(dtype).max
    for model in (reg, poisson):
        X_far = np.array([[big], [-big], [1e3], [-1e3]], dtype=dtype)
        (predicted,) = _run(sknumpynet_onnx.to_onnx(model, X_far[:1]), X_far)
        assert_array_equal(predicted.ravel(), model.predict(X_far))
        assert np.isfinite(predicted).all()
    assert (poisson.predict(X_far) > 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("head", ["ovr", "multilabel", "binary"])
def test_labels_come_from_the_logits_where_probabilities_round_alike(head, dtype):
    # No hidden layer and identity weights: the logits are the inputs. Two
    # one-vs-rest units far above 0 round to the same probability (the graph's
    # argmax picked the first); a logit just above 0 is a probability that
    # rounds to 1/2 (the graph's "> 0.5" said no).
    n_units = 1 if head == "binary" else 3
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, n_units)).astype(dtype)
    y = (
        (X > 0).astype(int)
        if head == "multilabel"
        else X.argmax(axis=1)
        if n_units > 1
        else X[:, 0] > 0
    )
    clf = ScratchMLPClassifier(hidden_layer_sizes=(), head="sigmoid", max_iter=2, random_state=0)
    clf.fit(X, y)
    clf.coefs_[0][...] = np.eye(n_units, dtype=dtype)
    clf.intercepts_[0][...] = 0
    if head == "ovr":
        X_edge = np.array([[17.2, 37.3, -5.0], [36.9, 80.0, -5.0]], dtype=dtype)
    else:
        X_edge = np.array([[1e-9] * n_units, [-1e-9] * n_units, [1e-7] * n_units], dtype=dtype)
    labels, _ = _run(sknumpynet_onnx.to_onnx(clf, X_edge[:1]), X_edge)
    expected = X_edge.argmax(axis=1) if head == "ovr" else (X_edge > 0).astype(int)
    if head == "binary":
        expected = expected[:, 0]
    assert_array_equal(clf.predict(X_edge), expected)
    assert_array_equal(labels, expected)
