"""ONNX export of both estimators, alone or inside pipelines (the ``onnx`` extra).

Importing this module registers :class:`~sknumpynet.ScratchMLPClassifier` and
:class:`~sknumpynet.ScratchMLPRegressor` with skl2onnx (a shape calculator and
a converter of our own each, through ``skl2onnx.update_registered_converter``),
so ``skl2onnx.to_onnx`` converts them and any pipeline that contains them, with
skl2onnx's classifier options ``zipmap`` (True, False, ``"columns"``), ``nocl``
and ``output_class_labels``. ``import sknumpynet`` never imports it.

The graph computes what ``predict``, ``predict_proba`` and the regressor's
``predict`` compute:

* input in the model's dtype, cast as ``predict`` casts it (a float32 model
  takes float64 input clipped into float32's range, then in float32);
* every layer with its own activation, leaky_relu built from ``Mul`` and
  ``Max`` (onnxruntime has no float64 ``LeakyRelu``);
* logits clipped into the finite range as the heads clip them, then the head:
  softmax, sigmoid for one unit (two probability columns), one-vs-rest sigmoid
  units normalised in the log domain, independent sigmoid units for a
  multilabel model, identity, or ``exp`` clipped to the largest float;
* outputs as skl2onnx gives them: a classifier's ``label`` (the class of the
  largest probability; a 0/1 int64 matrix for a multilabel model) and
  ``probabilities`` with ZipMap off (``output_label`` and
  ``output_probability``, a list of ``{label: probability}`` dicts, with it
  on, skl2onnx's default for float32 single-label models), a regressor's ``variable`` of shape
  ``(n_samples, n_outputs)``; probabilities and predictions in the model's
  dtype, as ``predict_proba`` and ``predict`` return them.

The graph needs opset 13 or later.
"""

import numpy as np
from scipy.sparse import issparse
from sklearn.base import ClassifierMixin
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils.validation import check_is_fitted

from ._base import ScratchMLPBase
from ._validation import optional_dependency
from .classifier import ScratchMLPClassifier
from .nn.activations import LEAKY_SLOPE
from .regressor import ScratchMLPRegressor

with optional_dependency("onnx", "sknumpynet.onnx"):
    from onnx import TensorProto, helper, numpy_helper
    from skl2onnx import to_onnx as _skl2onnx_to_onnx
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        BooleanTensorType,
        DoubleTensorType,
        FloatTensorType,
        Int8TensorType,
        Int32TensorType,
        Int64TensorType,
        StringTensorType,
        UInt8TensorType,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )

__all__ = ["to_onnx"]

MIN_OPSET = 13
_TENSOR_TYPES = {np.dtype(np.float32): FloatTensorType, np.dtype(np.float64): DoubleTensorType}
# The other inputs predict takes (as float64) and skl2onnx can make a graph input
# of (it has no int16, uint16, uint32, uint64 or float16 inputs).
_AS_FLOAT64 = (BooleanTensorType, Int8TensorType, Int32TensorType, Int64TensorType, UInt8TensorType)
_INPUT_TYPES = [FloatTensorType, DoubleTensorType, *_AS_FLOAT64]
_SAMPLE_DTYPES = ("float32", "float64", "int64", "int32", "int8", "uint8", "bool")


def to_onnx(estimator, X_sample=None, **kwargs):
    """Export a fitted estimator or pipeline to an ONNX model.

    A convenience over ``skl2onnx.to_onnx`` that checks that the estimator is
    fitted, turns off ZipMap for the classifiers it cannot serve (float64
    models, whose probabilities ZipMap cannot take, and multilabel models,
    whose labels are not one class a row) unless ``options`` sets ``zipmap``
    for them, takes a sparse sample's first row densified (the graph takes
    dense rows) and exports a :class:`~sklearn.compose.TransformedTargetRegressor`
    whose transformer is a :class:`~sklearn.preprocessing.StandardScaler`.

    Parameters
    ----------
    estimator : estimator
        A fitted :class:`~sknumpynet.ScratchMLPClassifier`,
        :class:`~sknumpynet.ScratchMLPRegressor`, or a fitted pipeline (or
        other estimator skl2onnx converts) that contains them.
    X_sample : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
        Rows whose dtype and width set the graph's input
        ``X`` of shape ``(None, n_features)``: float32 or float64, or int64,
        int32, int8, uint8 or bool, which the graph takes as float64 as
        ``predict`` does. None needs ``initial_types`` in ``kwargs``.
    **kwargs
        Passed on to ``skl2onnx.to_onnx``: ``options``, ``target_opset``
        (13 or later), ``initial_types``, ``name``...

    Returns
    -------
    onnx.ModelProto
        Run it with ``onnxruntime.InferenceSession(model.SerializeToString())``.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.
    ValueError
        If neither ``X_sample`` nor ``initial_types`` is given, ``X_sample``
        has another dtype or is not 2-D, or integer labels do not fit in int64
        (see ``nocl``).
    """
    check_is_fitted(
        estimator, msg="This %(name)s instance is not fitted yet; call 'fit' before to_onnx."
    )
    if X_sample is None and kwargs.get("initial_types") is None:
        # skl2onnx would fail with "Initial types must be specified.", naming neither.
        n_features = getattr(estimator, "n_features_in_", "n_features")
        raise ValueError(
            "to_onnx needs the graph's input: pass X_sample (a few rows of X) or "
            f"initial_types, e.g. initial_types=[('X', FloatTensorType([None, {n_features}]))] "
            "with FloatTensorType from skl2onnx.common.data_types."
        )
    if issparse(X_sample):
        X_sample = X_sample[:1].toarray()
    elif isinstance(X_sample, list | tuple):  # rows as lists: skl2onnx takes arrays only
        X_sample = np.asarray(X_sample)
    dtype = getattr(X_sample, "dtype", None)
    if isinstance(dtype, np.dtype) and dtype.name not in _SAMPLE_DTYPES:
        # skl2onnx would fail with "data_type is not a tensor type", naming neither.
        raise ValueError(
            f"X_sample has dtype {dtype}, which skl2onnx cannot make a graph input of; "
            f"give it (and the rows the graph will run on) one of {', '.join(_SAMPLE_DTYPES)}."
        )
    elif isinstance(estimator, ScratchMLPBase) and hasattr(X_sample, "columns"):
        # A DataFrame sample would give the graph one input per column; our
        # estimators take one matrix (pipelines keep the columns for their steps).
        X_sample = np.asarray(X_sample)
    options = dict(kwargs.pop("options", None) or {})
    blocked = [clf for clf in _parts(estimator, ScratchMLPClassifier) if not _zipmap_works(clf)]
    # A classifier that wraps one of them (one-vs-rest, calibration, stacking...)
    # puts its own ZipMap on the same probabilities.
    wrappers = [c for c in _parts(estimator, ClassifierMixin) if _wraps(c, blocked)]
    for clf in blocked + wrappers:
        if not any("zipmap" in options.get(key, {}) for key in (id(clf), type(clf))):
            options[id(clf)] = {**options.get(id(clf), {}), "zipmap": False}
    if isinstance(estimator, TransformedTargetRegressor):
        inner = _skl2onnx_to_onnx(estimator.regressor_, X_sample, options=options, **kwargs)
        return _append_inverse_target(inner, estimator)
    return _skl2onnx_to_onnx(estimator, X_sample, options=options, **kwargs)


def _parts(estimator, cls, seen=None):
    """Every fitted instance of ``cls`` in ``estimator`` and its attributes.

    Unfitted ones (a search's or a wrapper's template ``estimator``) are never
    converted, so they are skipped.
    """
    seen = set() if seen is None else seen
    if id(estimator) in seen:
        return
    seen.add(id(estimator))
    if isinstance(estimator, cls) and _is_fitted(estimator):
        yield estimator
    values = estimator if isinstance(estimator, list | tuple) else vars(estimator).values()
    for value in values:
        if isinstance(value, list | tuple) or _is_sklearn_object(value):
            yield from _parts(value, cls, seen)


def _is_sklearn_object(value):
    """An estimator, or one of the helper objects that hold fitted estimators
    (e.g. the calibrated classifiers of a ``CalibratedClassifierCV``)."""
    module = type(value).__module__
    return hasattr(value, "__dict__") and module.split(".")[0] in ("sklearn", "sknumpynet")


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError):
        return False
    return True


def _wraps(estimator, inner):
    """Whether ``estimator``, a classifier but not ours nor a pipeline, holds one of ``inner``."""
    if isinstance(estimator, ScratchMLPBase | Pipeline) or not inner:
        return False
    held = {id(clf) for clf in _parts(estimator, ScratchMLPClassifier)}
    return any(id(clf) in held for clf in inner)


def _zipmap_works(clf):
    return clf.coefs_[0].dtype == np.float32 and not clf.multilabel_


def _append_inverse_target(model, ttr):
    """``model`` (of ``ttr.regressor_``) followed by ``ttr.transformer_``'s inverse."""
    transformer = ttr.transformer_
    if isinstance(transformer, StandardScaler):
        mean = transformer.mean_ if transformer.with_mean else None
        steps = [(op, v) for op, v in (("Mul", transformer.scale_), ("Add", mean)) if v is not None]
    elif isinstance(transformer, FunctionTransformer) and (
        transformer.func is None and transformer.inverse_func is None
    ):  # the identity, also what transformer=None and func=None give
        return model
    else:
        raise ValueError(
            "to_onnx exports a TransformedTargetRegressor whose transformer is a "
            f"StandardScaler (or none); got {transformer!r}."
        )
    graph = model.graph
    (output,) = graph.output
    dtype = helper.tensor_dtype_to_np_dtype(output.type.tensor_type.elem_type)
    prefix = f"{output.name}_inverse_StandardScaler"
    # The regressor's output becomes the input of y * scale_ + mean_.
    for node in graph.node:
        node.output[:] = [prefix if name == output.name else name for name in node.output]
    x = prefix
    for i, (op, values) in enumerate(steps):
        const = f"{prefix}_{op}"
        graph.initializer.append(numpy_helper.from_array(values.astype(dtype), const))
        out = output.name if i == len(steps) - 1 else f"{const}_out"
        graph.node.append(helper.make_node(op, [x, const], [out], name=f"{const}_node"))
        x = out
    if not steps:
        graph.node.append(helper.make_node("Identity", [x], [output.name]))
    return model


# ---- graph building --------------------------------------------------------


class _Graph:
    """Adds nodes and constants to skl2onnx's container under unique names."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container
        if container.target_opset < MIN_OPSET:
            raise ValueError(
                f"sknumpynet's ONNX export needs target_opset >= {MIN_OPSET}; "
                f"got {container.target_opset}."
            )

    def const(self, array, name="constant"):
        name = self.scope.get_unique_variable_name(name)
        array = np.asarray(array)
        if array.dtype.kind in "OUS":
            values = [str(v).encode("utf-8") for v in array.ravel()]
            self.container.add_initializer(name, TensorProto.STRING, list(array.shape), values)
        else:
            self.container.add_initializer(name, None, None, numpy_helper.from_array(array))
        return name

    def node(self, op_type, inputs, output=None, **attrs):
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type, inputs, [output], name=self.scope.get_unique_operator_name(op_type), **attrs
        )
        return output


def _cast_input(g, x, input_type, dtype):
    """The input in the model's dtype, cast as ``predict`` casts it."""
    if isinstance(input_type, _AS_FLOAT64):  # predict takes integers and bools as float64
        x = g.node("Cast", [x], to=TensorProto.DOUBLE)
        input_type = DoubleTensorType()
    if isinstance(input_type, _TENSOR_TYPES[dtype]):
        return x
    if dtype == np.float32:  # predict clips float64 X into float32's range: no inf
        big = np.finfo(np.float32).max
        x = g.node("Clip", [x, g.const(np.float64(-big)), g.const(np.float64(big))])
    return g.node("Cast", [x], to=helper.np_dtype_to_tensor_dtype(dtype))


def _activation(g, name, z, dtype):
    if name == "identity":
        return z
    if name == "relu":
        return g.node("Relu", [z])
    if name == "leaky_relu":
        return g.node("Max", [z, g.node("Mul", [z, g.const(dtype.type(LEAKY_SLOPE))])])
    if name == "tanh":
        return g.node("Tanh", [z])
    if name in ("sigmoid", "logistic"):
        return g.node("Sigmoid", [z])
    raise NotImplementedError(f"No ONNX conversion for the activation {name!r}.")


def _logits(g, operator, model):
    dtype = model.coefs_[0].dtype
    x = _cast_input(g, operator.inputs[0].full_name, operator.inputs[0].type, dtype)
    for layer, (W, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        x = g.node("Add", [g.node("MatMul", [x, g.const(W, "coefficient")]), g.const(b, "bias")])
        if layer < len(model.hidden_activations_):
            x = _activation(g, model.hidden_activations_[layer], x, dtype)
    return x, dtype


def _finite(g, z, dtype):
    """The heads' clipping: NaN as 0, the rest within a quarter of the dtype's range."""
    bound = np.finfo(dtype).max / 4
    clipped = g.node("Clip", [z, g.const(dtype.type(-bound)), g.const(dtype.type(bound))])
    return g.node("Where", [g.node("IsNaN", [z]), g.const(dtype.type(0)), clipped])


def _log_sigmoid(g, z, dtype):
    """``log sigmoid(z) = -softplus(-z) = -(relu(-z) + log(1 + exp(-|z|)))``."""
    minus_z = g.node("Neg", [z])
    small = g.node("Exp", [g.node("Neg", [g.node("Abs", [z])])])
    tail = g.node("Log", [g.node("Add", [g.const(dtype.type(1)), small])])
    return g.node("Neg", [g.node("Add", [g.node("Relu", [minus_z]), tail])])


def _convert_classifier(scope, operator, container):
    g, model = _Graph(scope, container), operator.raw_operator
    z, dtype = _logits(g, operator, model)
    z = _finite(g, z, dtype)
    if model.out_activation_ == "softmax":
        proba = g.node("Softmax", [z], axis=1)
    elif model.multilabel_:
        proba = g.node("Sigmoid", [z])
    elif model.n_outputs_ == 1:
        negative = g.node("Sigmoid", [g.node("Neg", [z])])
        proba = g.node("Concat", [negative, g.node("Sigmoid", [z])], axis=1)
    else:  # one-vs-rest units: normalised in the log domain, as the head does
        proba = g.node("Softmax", [_log_sigmoid(g, z, dtype)], axis=1)
    # predict_proba's floor: exp(log(tiny)) where the log probability is below it.
    label, proba_out = (out.full_name for out in operator.outputs)
    g.node("Max", [proba, g.const(dtype.type(np.finfo(dtype).tiny))], proba_out)
    # Labels from the logits, as predict takes them: rounded probabilities can tie.
    if model.multilabel_:
        above = g.node("Greater", [z, g.const(dtype.type(0))])
        g.node("Cast", [above], label, to=TensorProto.INT64)
        return
    if model.n_outputs_ == 1:  # one sigmoid unit: class 1 where z > 0
        index = g.node(
            "Cast", [g.node("Greater", [z, g.const(dtype.type(0))])], to=TensorProto.INT64
        )
        index = g.node("Squeeze", [index, g.const(np.array([1], dtype=np.int64))])
    else:
        index = g.node("ArgMax", [z], axis=1, keepdims=0)
    g.node("Gather", [g.const(_labels(operator, model), "classes"), index], label, axis=0)


def _convert_regressor(scope, operator, container):
    g, model = _Graph(scope, container), operator.raw_operator
    z, dtype = _logits(g, operator, model)
    out = operator.outputs[0].full_name
    # Clipped as predict clips: to the finite floats, and positive for exp.
    info = np.finfo(dtype)
    low = info.tiny if model.out_activation_ == "exp" else -info.max
    if model.out_activation_ == "exp":
        z = g.node("Exp", [z])
    g.node("Clip", [z, g.const(dtype.type(low)), g.const(dtype.type(info.max))], out)


# ---- shape calculators -------------------------------------------------------


def _labels(operator, model):
    """The class labels as the graph gives them: strings, or int64 (skl2onnx's rule)."""
    classes = model.classes_
    if operator.scope_inst.get_options(model, dict(nocl=False))["nocl"]:
        return np.arange(len(classes), dtype=np.int64)
    if all(isinstance(c, str) for c in classes):
        return classes.astype(str)
    labels = classes.astype(np.int64)  # float classes_ are integers: y is not continuous
    if not np.array_equal(labels, classes):  # e.g. uint64 from 2**63 on: astype wraps
        raise ValueError(
            f"classes_ {classes.tolist()} cannot all be int64 labels, the type skl2onnx gives "
            f"integer labels: pass options={{id(model): {{'nocl': True}}}} to output class "
            "indices (classes_[label] is then the class), or fit on labels int64 can hold."
        )
    return labels


def _check(operator, n_outputs):
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=n_outputs)
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    model = operator.raw_operator
    check_is_fitted(model)
    shape = operator.inputs[0].type.shape
    if len(shape) != 2:
        # A 1-D sample (X[0]) would give a graph onnxruntime cannot run.
        raise ValueError(
            f"The ONNX input must be 2-D (n_samples, n_features); got shape {shape}: "
            "give rows as the sample (X[:1], not X[0]), or initial_types of shape "
            f"[None, {model.n_features_in_}]."
        )
    n_features = operator.inputs[0].get_second_dimension()
    if n_features is not None and n_features != model.n_features_in_:
        raise ValueError(
            f"The ONNX input has {n_features} features; {type(model).__name__} was "
            f"fitted with {model.n_features_in_}."
        )
    return operator.inputs[0].get_first_dimension(), _TENSOR_TYPES[model.coefs_[0].dtype]


def _classifier_shapes(operator):
    n, proba_type = _check(operator, 2)
    model = operator.raw_operator
    zipmap = operator.scope_inst.get_options(model, dict(zipmap=True))["zipmap"]
    if zipmap is True and proba_type is DoubleTensorType:
        raise ValueError(
            "ZipMap takes float32 probabilities only and this model computes in float64: "
            "pass options={id(model): {'zipmap': False}} (or 'columns'), use "
            "sknumpynet.onnx.to_onnx, or fit the model on float32 X."
        )
    labels = _labels(operator, model)
    label_type = StringTensorType if labels.dtype.kind == "U" else Int64TensorType
    n_classes = len(model.classes_)
    operator.outputs[0].type = label_type([n, n_classes] if model.multilabel_ else [n])
    operator.outputs[1].type = proba_type([n, n_classes])


def _regressor_shapes(operator):
    n, out_type = _check(operator, 1)
    operator.outputs[0].type = out_type([n, operator.raw_operator.n_outputs_])


update_registered_converter(
    ScratchMLPClassifier,
    "SknumpynetScratchMLPClassifier",
    _classifier_shapes,
    _convert_classifier,
    options={
        "zipmap": [True, False, "columns"],
        "nocl": [True, False],
        "output_class_labels": [False, True],
    },
)
update_registered_converter(
    ScratchMLPRegressor, "SknumpynetScratchMLPRegressor", _regressor_shapes, _convert_regressor
)
