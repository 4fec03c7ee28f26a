"""The nearest scikit-learn ``MLPClassifier`` / ``MLPRegressor`` to our estimators.

Used by ``python -m sknumpynet``, the examples and the benchmarks to compare
the two libraries at the nearest settings.  Where scikit-learn has no exact
counterpart the difference is returned as a note rather than hidden.
"""

import copy

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.multiclass import type_of_target

from ._plan import auto_batch_rows
from .nn import ACTIVATIONS, HEADS, OPTIMIZERS, REGRESSION_LOSSES
from .nn.initializers import resolve_init
from .nn.training import batch_bounds

# scikit-learn's activation names for ours; leaky_relu has no counterpart.
_ACTIVATIONS = {
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "logistic",
    "logistic": "logistic",
    "identity": "identity",
}


def _activation(activation, notes, name):
    if not isinstance(activation, str):
        names = list(activation)
        if len(set(names)) > 1:
            notes.append(f"{name} has one activation for all layers; using the first.")
        activation = names[0] if names else "relu"
    if activation not in _ACTIVATIONS:
        notes.append(f"{name} has no {activation!r}; using 'relu'.")
    return _ACTIVATIONS.get(activation, "relu")


def _initializers(params, classifier):
    """The initializers the estimator's layers use (``init="auto"``: each layer's own)."""
    activation = params["activation"]
    names = [activation] if isinstance(activation, str) else list(activation)
    followers = [ACTIVATIONS[a] for a in names if a in ACTIVATIONS]
    if not classifier:
        followers.append(HEADS[REGRESSION_LOSSES.get(params["loss"], "identity")])
    elif params["head"] in HEADS:
        followers.append(HEADS[params["head"]])
    else:  # "auto": the head follows the target, so any classification head
        followers += [head for head in HEADS.values() if head.classification]
    return {resolve_init(params["init"], follower) for follower in followers}


def _random_state(random_state, notes, name):
    if not isinstance(random_state, np.random.Generator):
        return random_state
    # A copy: reading a seed must not advance the caller's generator.
    notes.append(f"{name} takes no numpy Generator as random_state; using an int drawn from it.")
    return int(copy.deepcopy(random_state).integers(np.iinfo(np.int32).max))


def _training_rows(params, entry, n_samples):
    """Rows a ``fit`` on ``n_samples`` rows trains on: fewer where ``early_stopping``
    holds out ``validation_fraction``, by the same ``train_test_split`` in both
    libraries (so the same count)."""
    if not (params["early_stopping"] and entry.stepwise):
        return n_samples
    try:
        train, _ = train_test_split(
            np.arange(n_samples), test_size=params["validation_fraction"], shuffle=False
        )
    except ValueError:  # too few rows to hold any out: both fits raise
        return n_samples
    return len(train)


def _batch_size(params, entry, n_samples, notes, name):
    """scikit-learn's ``batch_size`` for ours.

    Both libraries cut each epoch's order into consecutive runs of
    ``batch_size`` rows (the last one may be shorter), so an int makes the same
    batches in both.  Our ``"auto"`` (:func:`~sknumpynet._plan.auto_batch_rows`) differs from
    scikit-learn's ``min(200, n)``: it becomes the int it resolves to on the
    training rows, which needs ``n_samples``.
    """
    batch_size = params["batch_size"]
    if not entry.stepwise:  # lbfgs: no mini-batches
        return batch_size
    if entry.full_batch:  # gd: sgd with one batch of every training row
        if n_samples is None:
            notes.append("gd is full-batch; pass n_samples to give sgd one batch per epoch.")
            return batch_size
        return _training_rows(params, entry, n_samples)
    if batch_size != "auto":
        return batch_size
    if n_samples is None:
        notes.append(
            f"{name}'s batch_size='auto' is min(200, n) rows; ours splits the n training "
            "rows into max(ceil(n / 200), 2) nearly equal batches (one below 64 rows). "
            "Pass n_samples to give it the same batch size."
        )
        return batch_size
    n = _training_rows(params, entry, n_samples)
    rows = auto_batch_rows(n)
    ours = batch_bounds(n, rows, even=True)
    if ours != batch_bounds(n, rows):
        notes.append(
            f"{name} cuts {n} rows into batches of {rows} and a last one of "
            f"{n - (len(ours) - 1) * rows}; ours makes the {len(ours)} batches equal to "
            "within one row."
        )
    return rows


def _sklearn_head(y):
    """The head of ``MLPClassifier``'s output for targets ``y`` (None: unknown)."""
    if y is None:
        return None
    return "softmax" if type_of_target(y) == "multiclass" else "sigmoid"


def sklearn_equivalent(estimator, n_samples=None, y=None):
    """Build the closest scikit-learn MLP to ``estimator``.

    The update rules map exactly where scikit-learn has the same one: ``sgd``
    and ``gd`` (``solver="sgd"``, ``momentum=0``; ``gd`` with one batch of
    ``n_samples`` rows), ``adam``, ``lbfgs`` (with ``max_fun``; for one
    output only: with several, scikit-learn's lbfgs pairs the loss averaged
    over the outputs with the gradient of their sum, noted when ``y`` shows
    several outputs), and
    ``momentum`` / ``nesterov``, whose averaged velocity
    ``v = b v + (1 - b) g`` with learning rate ``lr`` takes exactly the steps
    of scikit-learn's ``v = b v - lr' g`` with ``lr' = lr (1 - b)``, so
    ``learning_rate_init * (1 - momentum)`` is passed on (exactly at a constant
    learning rate; under a schedule the steps part, with a note).
    ``init="glorot_uniform"``, and the default ``init="auto"``, which resolves
    to it for every layer, draw from the same distribution as scikit-learn
    (from another random stream, so not the same numbers).

    ``batch_size="auto"`` is passed on as the int it resolves to for a ``fit``
    on ``n_samples`` rows (ours splits them into nearly equal batches where
    scikit-learn's ``"auto"`` is ``min(200, n)`` rows), which makes the same
    batches in both; without ``n_samples`` it stays ``"auto"``, with a note.

    Parameters
    ----------
    estimator : ScratchMLPClassifier or ScratchMLPRegressor
        Its hyperparameters are read, it is not fitted or changed.
    n_samples : int, optional
        Rows of ``X`` passed to ``fit`` (before any ``early_stopping`` hold-out),
        used to make ``optimizer="gd"`` full-batch and to resolve
        ``batch_size="auto"``.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), optional
        The targets: a classifier's tell whether a ``head`` other than
        ``"auto"`` is the output scikit-learn picks for them (else noted), a
        regressor's whether ``lbfgs`` has several outputs (noted).

    Returns
    -------
    mlp : sklearn.neural_network.MLPClassifier or MLPRegressor
        Unfitted; an ``MLPRegressor`` for a regressor.
    notes : list of str
        Every setting that could not be matched exactly.
    """
    params = estimator.get_params()
    classifier = is_classifier(estimator)
    name = "MLPClassifier" if classifier else "MLPRegressor"
    notes = []
    optimizer = params["optimizer"]
    entry = OPTIMIZERS[optimizer]
    # scikit-learn needs a number: "auto" resolved by the optimizer (lbfgs, which
    # ignores it, passes a number on and scikit-learn's default for "auto").
    value = params["learning_rate_init"]
    resolved = entry.learning_rate_for(value)
    if resolved is None:
        resolved = 0.001 if value == "auto" else value
    params["learning_rate_init"] = resolved
    solver = entry.sklearn_solver
    extra, note = entry.sklearn_settings(params)
    learning_rate = extra.pop("learning_rate_init", params["learning_rate_init"])
    if note:
        notes.append(f"{name} {note}.")
    schedule = {}
    if solver == "sgd" and params["learning_rate"] != "cosine":
        schedule = {"learning_rate": params["learning_rate"], "power_t": params["power_t"]}
    elif params["learning_rate"] != "constant" and entry.stepwise:  # lbfgs ignores it
        notes.append(
            f"{name} has no learning_rate={params['learning_rate']!r} for solver={solver!r} "
            "(its schedules are constant, invscaling and adaptive, for sgd only); it keeps "
            "the rate constant."
        )
    dropout = params["dropout"]
    if any(rate > 0 for rate in (dropout if isinstance(dropout, (list, tuple)) else [dropout])):
        notes.append(f"{name} has no dropout; dropout={params['dropout']!r} is not matched.")
    if params.get("class_weight") is not None:
        notes.append("MLPClassifier has no class_weight; pass the weights as sample_weight.")
    batch_size = _batch_size(params, entry, n_samples, notes, name)
    if _initializers(params, classifier) != {"glorot_uniform"}:
        notes.append(
            f"{name} always initialises with Glorot uniform weights and biases "
            f"(init='glorot_uniform' here, what init='auto' draws), not "
            f"init={params['init']!r}."
        )
    if classifier:
        if params["head"] not in ("auto", _sklearn_head(y)):
            notes.append(
                "MLPClassifier always uses a logistic output for binary/multilabel and "
                f"softmax for multiclass targets; head={params['head']!r} is not matched"
                + (" (pass y to check it against the targets)." if y is None else ".")
            )
        cls, own = MLPClassifier, {}
    else:
        cls, own = MLPRegressor, {"loss": params["loss"]}
        if solver == "lbfgs" and y is not None and np.ndim(y) == 2 and np.shape(y)[1] > 1:
            notes.append(
                "MLPRegressor's lbfgs minimises the squared error averaged over the outputs "
                "with the gradient of their sum, so with several outputs its steps differ "
                "where its line search backtracks."
            )
        if "loss" not in MLPRegressor().get_params():  # scikit-learn < 1.7
            own = {}
            if params["loss"] != "squared_error":
                notes.append(
                    f"This scikit-learn's MLPRegressor has no loss={params['loss']!r}; "
                    "it uses the squared error."
                )
    mlp = cls(
        hidden_layer_sizes=params["hidden_layer_sizes"],
        activation=_activation(params["activation"], notes, name),
        solver=solver,
        alpha=params["alpha"],
        batch_size=batch_size,
        learning_rate_init=learning_rate,
        max_iter=params["max_iter"],
        max_fun=params["max_fun"],
        shuffle=params["shuffle"],
        random_state=_random_state(params["random_state"], notes, name),
        tol=params["tol"],
        warm_start=params["warm_start"],
        early_stopping=params["early_stopping"],
        validation_fraction=params["validation_fraction"],
        beta_1=params["beta_1"],
        beta_2=params["beta_2"],
        epsilon=params["epsilon"],
        n_iter_no_change=params["n_iter_no_change"],
        **own,
        **extra,
        **schedule,
    )
    return mlp, notes
