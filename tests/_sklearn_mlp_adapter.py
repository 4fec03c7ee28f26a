"""``MLPClassifier`` and ``MLPRegressor`` that build our estimators from scikit-learn's names.

``tests/test_sklearn_test_mlp.py`` runs scikit-learn's own ``test_mlp.py`` with
these two in place of scikit-learn's classes. Each takes the arguments of
scikit-learn's class of that name and returns the ``ScratchMLPClassifier`` or
``ScratchMLPRegressor`` that trains by the same rule (the reverse of
:func:`sknumpynet._sklearn_mlp.sklearn_equivalent`):

* ``solver`` becomes ``optimizer``: ``"adam"`` and ``"lbfgs"`` keep their
  names; ``"sgd"`` is ``"sgd"`` with ``momentum=0``, else ``"nesterov"``
  (``nesterovs_momentum=True``, scikit-learn's default) or ``"momentum"``, with
  ``learning_rate_init`` divided by ``1 - momentum``: our velocity is the
  average ``v = b v + (1 - b) g``, scikit-learn's ``u = b u - lr g``, the same
  steps when our rate is ``lr / (1 - b)`` (docs/coming_from_sklearn.rst).
* ``learning_rate`` and ``power_t`` apply to ``solver="sgd"`` only in
  scikit-learn; ours apply them to every step optimizer, so any other solver
  gets ``learning_rate="constant"``.
* scikit-learn always draws Glorot-uniform weights and biases:
  ``init="glorot_uniform"``.

Every other argument has the same name and meaning in both libraries and is
passed on as it is, and so is scikit-learn's default of every argument not
given (our defaults may differ); an argument neither library knows raises
``TypeError``, as it would from scikit-learn's class.
"""

from sklearn import neural_network

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor


def our_params(name, **sklearn_params):
    """Our hyperparameters for ``sklearn.neural_network.<name>(**sklearn_params)``."""
    defaults = getattr(neural_network, name)().get_params()
    unknown = set(sklearn_params) - set(defaults)
    if unknown:
        raise TypeError(f"{name} has no parameters {sorted(unknown)}.")
    params = {**defaults, **sklearn_params}
    solver = params.pop("solver")
    momentum = params.pop("momentum")
    nesterov = params.pop("nesterovs_momentum")
    if solver == "sgd" and momentum != 0:
        if not 0 < momentum < 1:
            raise ValueError(f"momentum={momentum!r} has no averaged counterpart; use [0, 1).")
        params["optimizer"] = "nesterov" if nesterov else "momentum"
        params["momentum"] = momentum
        params["learning_rate_init"] = params["learning_rate_init"] / (1 - momentum)
    else:
        params["optimizer"] = solver
    if solver != "sgd":
        params["learning_rate"] = "constant"
    params["init"] = "glorot_uniform"
    return params


def MLPClassifier(**sklearn_params):
    """A ``ScratchMLPClassifier`` for ``sklearn.neural_network.MLPClassifier(...)``."""
    return ScratchMLPClassifier(**our_params("MLPClassifier", **sklearn_params))


def MLPRegressor(**sklearn_params):
    """A ``ScratchMLPRegressor`` for ``sklearn.neural_network.MLPRegressor(...)``."""
    return ScratchMLPRegressor(**our_params("MLPRegressor", **sklearn_params))
