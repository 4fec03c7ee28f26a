"""Validation of hyperparameters and inputs for the estimator.

The string options are checked against the registries of :mod:`sknumpynet.nn`,
so a new activation, head, initializer or optimizer is accepted (and named in
the error messages) as soon as it is registered. The modules that need an
optional extra import it through :func:`optional_dependency`, whose error names
the extra.
"""

import contextlib
import functools
import math
import sys
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
from scipy.sparse import issparse
from sklearn.utils import check_scalar

from ._sklearn_compat import InvalidParameterError
from .nn import ACTIVATIONS, INIT_OPTIONS, OPTIMIZERS
from .nn.checks import dropout_rates
from .nn.schedules import SCHEDULES

FLOATS = (np.float64, np.float32)

# Numeric hyperparameters: (type, lower, upper, closed sides) for check_scalar.
_SCALARS = {
    "learning_rate_init": (Real, 0, None, "neither"),
    "power_t": (Real, 0, None, "left"),
    # momentum and validation_fraction take scikit-learn's ranges; a value that
    # cannot work where it is used (momentum 1 for optimizer="momentum", a
    # validation_fraction of 0 to hold out) is refused by the call (CallPlan.make).
    "momentum": (Real, 0, 1, "both"),
    "rho": (Real, 0, 1, "left"),
    "beta_1": (Real, 0, 1, "left"),
    "beta_2": (Real, 0, 1, "left"),
    "epsilon": (Real, 0, None, "neither"),
    "alpha": (Real, 0, None, "left"),
    "max_iter": (Integral, 1, None, "left"),
    "max_fun": (Integral, 1, None, "left"),
    "tol": (Real, 0, None, "left"),
    "validation_fraction": (Real, 0, 1, "left"),
    "verbose": (Integral, 0, None, "left"),
}
# Numeric hyperparameters that also take "auto" (resolved by the optimizer).
_AUTO = {"learning_rate_init"}
# String hyperparameters, each resolved through its registry (an estimator
# adds its own, e.g. the classifier's head, in `_string_options`).
_OPTIONS = {
    # The registries themselves, so an entry registered later is accepted too.
    "learning_rate": SCHEDULES,
    "init": INIT_OPTIONS,
    "optimizer": OPTIMIZERS,
}
_FLAGS = ("early_stopping", "shuffle", "warm_start")


def _allowed(options):
    return ", ".join(repr(o) for o in options)


def _bounds(low, high, closed):
    """Describe a check_scalar interval, e.g. ``">= 0 and < 1"``."""
    parts = []
    if low is not None:
        parts.append((">= " if closed in ("left", "both") else "> ") + str(low))
    if high is not None:
        parts.append(("<= " if closed in ("right", "both") else "< ") + str(high))
    return " and ".join(parts)


def _check_int(value, name, min_val):
    """check_scalar for an int, rejecting bools (``True`` is an Integral)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int >= {min_val}, not a bool; got {value!r}.")
    return check_scalar(value, name, Integral, min_val=min_val)


@contextlib.contextmanager
def checking_input(name):
    """Context for validating ``name``: clear errors and no stray warnings.

    numpy's conversion errors name no argument; they are re-raised naming
    ``name``.  scikit-learn's fast finiteness check sums the array, which can
    overflow (inf - inf) for finite values near the dtype's limit; its exact
    check that follows decides, so numpy's warning about the sum is silenced.
    """
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            yield
    except OverflowError as exc:  # a Python int of an object array, e.g. 10**400
        raise ValueError(f"{name} holds a number beyond float64's range; {exc}") from exc
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if "could not convert" in message or message.startswith("float() argument"):
            # Keep the type: scikit-learn's check_dtype_object expects the
            # TypeError of float() on an object such as a dict.
            raise type(exc)(
                f"{name} must contain only numbers (int, float or bool); {message}"
            ) from exc
        if "inconsistent numbers of samples" in message:
            raise ValueError(f"X and y must have the same number of samples; {message}") from exc
        raise


def numeric_targets(y, name):
    """A regressor's targets given as objects (``None``, strings...), as floats.

    scikit-learn converts an object ``y`` to floats after checking it, so a
    ``None`` became a NaN that no check saw, and a string failed with a message
    blaming ``X``; here both are refused naming ``name``.

    Parameters
    ----------
    y : array-like or sparse matrix
    name : str
        ``"y"`` or ``"y_val"``, for the messages.

    Returns
    -------
    array-like
        ``y`` itself unless it has object dtype; then a float64 ndarray.

    Raises
    ------
    ValueError or TypeError
        Naming ``name``, for an entry that is not a number, or a missing one.
    """
    if y is None or issparse(y) or getattr(getattr(y, "dtype", None), "kind", "O") != "O":
        return y  # no conversion (a lazy array, e.g. dask's, is not computed here)
    values = np.asarray(y)
    if values.dtype.kind != "O":
        return y
    # A frame of mixed column dtypes arrives as objects, its missing values as
    # None or pandas' NA, which float() refuses: NaN, refused below as such.
    pandas = sys.modules.get("pandas")  # NA exists only where pandas is imported
    missing = np.equal(values, None) if pandas is None else pandas.isna(values)
    with checking_input(name):
        values = np.where(missing, np.nan, values).astype(np.float64)
    if np.isnan(values).any():
        raise ValueError(f"Input {name} contains NaN (None or a missing value).")
    return values


@contextlib.contextmanager
def optional_dependency(extra, user):
    """Context for importing what the optional ``extra`` installs.

    Python's own error names only the module; a missing one is re-raised
    naming the extra that installs it, for ``user`` (what needs it).

    Parameters
    ----------
    extra : str
        The extra of ``pyproject.toml`` that installs the imported packages.
    user : str
        The module or class that needs them, for the message.

    Raises
    ------
    ModuleNotFoundError
        If an import in the block fails for a missing module.
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        # The failed import may be a submodule ("matplotlib.pyplot"); the
        # package is what gets installed.
        package = (exc.name or "").partition(".")[0] or str(exc)
        # ModuleNotFoundError, not a plain ImportError: callers (and
        # pytest.importorskip) that expect a missing module still catch it.
        raise ModuleNotFoundError(
            f"{user} needs {package}, which is not installed; install the {extra} extra: "
            f'pip install "sknumpynet[{extra}]"',
            name=exc.name,
        ) from exc


def _invalid_parameter(check):
    """Make ``check``'s TypeError or ValueError scikit-learn's ``InvalidParameterError``.

    As scikit-learn's estimators raise for a bad hyperparameter: both a
    ``ValueError`` and a ``TypeError``, so that ``except ValueError`` catches
    a value of the wrong type too.
    """

    @functools.wraps(check)
    def checked(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except (TypeError, ValueError, OverflowError) as exc:
            # Chained, so that a fault of the check itself keeps its traceback.
            raise InvalidParameterError(str(exc)) from exc

    return checked


@_invalid_parameter
def validate_hyperparameters(estimator):
    """Check every hyperparameter of ``estimator``.

    Parameters
    ----------
    estimator : ScratchMLPClassifier or ScratchMLPRegressor

    Returns
    -------
    sizes : list of int
        Hidden layer sizes.
    activations : list of str
        One activation name per hidden layer.
    dropout : list of float
        One dropout rate per hidden layer.

    Raises
    ------
    InvalidParameterError
        Naming the first invalid hyperparameter and what it allows (a
        ``ValueError`` and a ``TypeError``).
    """
    for name, (kind, low, high, closed) in _SCALARS.items():
        value = getattr(estimator, name)
        if name in _AUTO and not isinstance(value, Real):
            if isinstance(value, str) and value == "auto":
                continue
            raise (ValueError if isinstance(value, str) else TypeError)(
                f"{name} must be 'auto' or a number {_bounds(low, high, closed)}; got {value!r}."
            )
        if name == "verbose" and isinstance(value, np.bool_):
            value = bool(value)  # verbose=True is a level, as in scikit-learn
        # check_scalar lets bools pass as ints and NaN/inf pass any bound.
        if isinstance(value, (bool, np.bool_)) and name != "verbose":
            raise TypeError(
                f"{name} must be {'an int' if kind is Integral else 'a number'} "
                f"{_bounds(low, high, closed)}, not a bool; "
                f"got {value!r}."
            )
        check_scalar(value, name, kind, min_val=low, max_val=high, include_boundaries=closed)
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an int beyond the floats, e.g. 10**400
            finite = False
        if not finite:
            shown = repr(value) if len(repr(value)) < 40 else f"{repr(value)[:20]}..."
            raise ValueError(
                f"{name} must be a finite number {_bounds(low, high, closed)}; got {shown}."
            )
    patience = estimator.n_iter_no_change
    if not (isinstance(patience, Real) and patience == math.inf):
        try:
            _check_int(patience, "n_iter_no_change", min_val=1)
        except (TypeError, ValueError) as exc:
            raise type(exc)(
                f"n_iter_no_change must be an int >= 1 or np.inf (never stop on "
                f"patience); got {patience!r}."
            ) from None
    for name, options in {**_OPTIONS, **estimator._string_options}.items():
        value = getattr(estimator, name)
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"{name} must be one of {_allowed(options)}; got {value!r}.")
    for name in _FLAGS:
        if not isinstance(getattr(estimator, name), (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False; got {getattr(estimator, name)!r}.")
    if isinstance(estimator.batch_size, str):
        if estimator.batch_size != "auto":
            raise ValueError(
                f"batch_size must be 'auto' or an int >= 1; got {estimator.batch_size!r}."
            )
    else:
        _check_int(estimator.batch_size, "batch_size", min_val=1)
    sizes = estimator.hidden_layer_sizes
    sizes = [sizes] if isinstance(sizes, Integral) else sizes
    try:
        if not isinstance(sizes, (Sequence, np.ndarray)) or isinstance(sizes, str):
            # A set or a dict has no order of layers to follow.
            raise TypeError
        sizes = [int(_check_int(s, "hidden_layer_sizes[i]", min_val=1)) for s in sizes]
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            f"hidden_layer_sizes must be an int or a sequence of ints >= 1; "
            f"got {estimator.hidden_layer_sizes!r}."
        ) from None
    names = estimator.activation
    names = [names] * len(sizes) if isinstance(names, str) else names
    if (
        not isinstance(names, (list, tuple))
        or len(names) != len(sizes)
        or not all(isinstance(n, str) and n in ACTIVATIONS for n in names)
    ):
        raise ValueError(
            f"activation must be one of {_allowed(ACTIVATIONS)}, or a list of "
            f"{len(sizes)} of them (one per hidden layer); got {estimator.activation!r}."
        )
    if (
        estimator.random_state is not None
        and not isinstance(
            estimator.random_state, (Integral, np.random.RandomState, np.random.Generator)
        )
        or isinstance(estimator.random_state, (bool, np.bool_))
    ):
        raise TypeError(
            "random_state must be None, an int, a numpy RandomState or Generator; "
            f"got {estimator.random_state!r}."
        )
    if isinstance(estimator.random_state, Integral) and not 0 <= estimator.random_state < 2**32:
        raise ValueError(
            f"random_state must be an int in [0, 2**32 - 1]; got {estimator.random_state!r}."
        )
    return sizes, list(names), _dropout_rates(estimator.dropout, len(sizes))


def _dropout_rates(dropout, n_hidden):
    """One dropout rate per hidden layer from a float or a list, each in [0, 1).

    The NumPy core's rule (:func:`~sknumpynet.nn.checks.dropout_rates`), with
    the message in the estimator's terms.
    """
    if dropout is not None:  # the core's "no dropout"; the estimator's is 0.0
        try:
            return dropout_rates(dropout, n_hidden)
        except ValueError:
            pass
    raise ValueError(
        "dropout must be a float in [0, 1) or a list of "
        f"{n_hidden} of them (one per hidden layer); got {dropout!r}."
    )


@_invalid_parameter
def check_class_weight(class_weight, classes, partial):
    """Raise unless ``class_weight`` is "balanced" (not in partial_fit) or a dict
    of finite weights >= 0 for labels among ``classes``.

    Parameters
    ----------
    class_weight : object
        The classifier's ``class_weight``, not None.
    classes : ndarray of shape (n_classes,)
    partial : bool
        Whether the call is a ``partial_fit``.

    Raises
    ------
    InvalidParameterError
        What ``class_weight`` allows (a ``ValueError`` and a ``TypeError``).
    """
    allowed = "class_weight must be None, 'balanced' or a dict {label: weight}"
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"{allowed}; got {class_weight!r}.")
        if partial:
            # As SGDClassifier: one chunk's class counts are not the data's.
            raise ValueError(
                "class_weight 'balanced' is not supported for partial_fit: the class "
                "frequencies of the whole data are unknown there. Compute them with "
                "sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y) on a large enough sample of y and pass the "
                "result as a dict."
            )
        return
    if not isinstance(class_weight, dict):
        raise ValueError(f"{allowed}; got {class_weight!r}.")
    unknown = [label for label in class_weight if label not in set(classes)]
    if unknown:
        raise ValueError(
            f"class_weight names labels that are not classes {classes.tolist()}: {unknown}."
        )
    bad = {
        label: w
        for label, w in class_weight.items()
        if isinstance(w, (bool, np.bool_))
        or not isinstance(w, Real)
        or not (math.isfinite(w) and w >= 0)
    }
    if bad:
        raise ValueError(f"class_weight values must be finite numbers >= 0; got {bad}.")


def check_weight_range(sw, named):
    """Refuse weights a batch could not be divided by.

    Each batch's (or chunk's) loss and gradient are divided by its total
    weight: a positive weight below the smallest normal number of the model's
    dtype can make that total subnormal, and its reciprocal overflow (in
    float32 the error then blamed the learning rate); a float64 total beyond
    the largest float makes every objective NaN.  A row-wise bound holds
    whatever the batches, chunks or held-out rows are.

    Parameters
    ----------
    sw : ndarray of shape (n_samples,)
        Validated weights (finite as given, >= 0), in the model's dtype.
    named : str
        What they come from (``"sample_weight"``, ``"sample_weight_val"``...).

    Raises
    ------
    ValueError
        Naming ``named``, if a weight or the total is out of range.
    """
    info = np.finfo(sw.dtype)
    small = int(np.count_nonzero((sw > 0) & (sw < info.tiny)))
    with np.errstate(over="ignore"):  # a sum beyond the range is what is refused
        total = float(sw.sum(dtype=np.float64))
    if not np.isfinite(sw).all():  # class weights times sample weights, say
        problem = f"some weights are beyond the largest {sw.dtype} number ({info.max:.3g})"
    elif small:
        problem = (
            f"{small} positive weights are below the smallest normal {sw.dtype} number "
            f"({info.tiny:.3g})"
        )
    elif not np.isfinite(total):
        problem = "the weights sum to more than the largest float64 number"
    else:
        return
    raise ValueError(
        f"{named}: {problem}; each batch's loss is divided by its total weight. "
        f"Rescale {named} so that the weights of the rows average about 1."
    )
