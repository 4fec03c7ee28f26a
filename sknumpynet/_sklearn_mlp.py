"""The nearest scikit-learn ``MLPClassifier`` to a ScratchMLPClassifier.

Used by ``python -m sknumpynet``, the examples and the benchmarks to compare
the two estimators "at the same settings".  Where scikit-learn has no exact
counterpart the difference is returned as a note rather than hidden.
"""

from sklearn.neural_network import MLPClassifier

# scikit-learn's activation names for ours; leaky_relu has no counterpart.
_ACTIVATIONS = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic", "identity": "identity"}

# solver and extra settings for each of our optimizers.
_SOLVERS = {
    "adam": ("adam", {}),
    "sgd": ("sgd", {"momentum": 0.0}),
    "gd": ("sgd", {"momentum": 0.0}),
    "momentum": ("sgd", {"nesterovs_momentum": False}),
    "nesterov": ("sgd", {"nesterovs_momentum": True}),
    "rmsprop": ("adam", {}),
}


def sklearn_equivalent(estimator, n_samples=None):
    """Build the closest ``MLPClassifier`` to ``estimator``.

    Parameters
    ----------
    estimator : ScratchMLPClassifier
        Its hyperparameters are read, it is not fitted or changed.
    n_samples : int, optional
        Training-set size, used to make ``optimizer="gd"`` full-batch.

    Returns
    -------
    mlp : sklearn.neural_network.MLPClassifier
        Unfitted.
    notes : list of str
        Every setting that could not be matched exactly.
    """
    params = estimator.get_params()
    notes = []
    solver, extra = _SOLVERS[params["optimizer"]]
    if params["optimizer"] == "rmsprop":
        notes.append("MLPClassifier has no rmsprop; it uses adam.")
    if params["optimizer"] in ("momentum", "nesterov"):
        extra = {**extra, "momentum": params["momentum"]}
        notes.append(
            "MLPClassifier's momentum is v = b v - lr g (no (1 - b) factor), so its steps "
            "are about 1 / (1 - b) times larger at the same learning rate."
        )
    batch_size = params["batch_size"]
    if params["optimizer"] == "gd":
        batch_size = n_samples if n_samples is not None else batch_size
    activation = params["activation"]
    if not isinstance(activation, str):
        notes.append("MLPClassifier has one activation for all layers; using the first.")
        activation = activation[0] if len(activation) else "relu"
    if activation not in _ACTIVATIONS:
        notes.append(f"MLPClassifier has no {activation!r}; using 'relu'.")
    if params["head"] not in ("auto",):
        notes.append(
            "MLPClassifier always uses a logistic output for binary/multilabel and softmax "
            f"for multiclass targets; head={params['head']!r} is not matched."
        )
    notes.append(
        "MLPClassifier has its own initialisation (Glorot uniform weights and biases), "
        f"not init={params['init']!r}."
    )
    mlp = MLPClassifier(
        hidden_layer_sizes=params["hidden_layer_sizes"],
        activation=_ACTIVATIONS.get(activation, "relu"),
        solver=solver,
        alpha=params["alpha"],
        batch_size=batch_size,
        learning_rate_init=params["learning_rate_init"],
        max_iter=params["max_iter"],
        shuffle=params["shuffle"],
        random_state=params["random_state"],
        tol=params["tol"],
        early_stopping=params["early_stopping"],
        validation_fraction=params["validation_fraction"],
        beta_1=params["beta_1"],
        beta_2=params["beta_2"],
        epsilon=params["epsilon"],
        n_iter_no_change=params["n_iter_no_change"],
        **extra,
    )
    return mlp, notes
