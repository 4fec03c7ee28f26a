"""The mapping to scikit-learn's MLPClassifier / MLPRegressor (sknumpynet._sklearn_mlp)."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet._sklearn_mlp import sklearn_equivalent
from sknumpynet.nn import (
    ACTIVATIONS,
    CLASSIFICATION_HEADS,
    HEADS,
    INITIALIZERS,
    OPTIMIZERS,
    REGRESSION_LOSSES,
)

SOLVERS = {
    "gd": "sgd",
    "sgd": "sgd",
    "momentum": "sgd",
    "nesterov": "sgd",
    "rmsprop": "adam",
    "adam": "adam",
    "lbfgs": "lbfgs",
}


def test_every_optimizer_has_a_solver():
    assert set(SOLVERS) == set(OPTIMIZERS)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_settings_carry_over(Estimator, optimizer):
    ours = Estimator(
        hidden_layer_sizes=(7, 5),
        optimizer=optimizer,
        learning_rate_init=0.02,
        momentum=0.8,
        alpha=0.3,
        batch_size=16,
        max_iter=11,
        max_fun=123,
        tol=1e-3,
        n_iter_no_change=np.inf,
        early_stopping=True,
        validation_fraction=0.2,
        beta_1=0.8,
        beta_2=0.99,
        epsilon=1e-7,
        shuffle=False,
        warm_start=True,
        random_state=3,
    )
    mlp, _ = sklearn_equivalent(ours, n_samples=50)
    assert type(mlp) is (MLPClassifier if Estimator is ScratchMLPClassifier else MLPRegressor)
    mlp._validate_params()  # scikit-learn accepts every value
    got = mlp.get_params()
    assert got["solver"] == SOLVERS[optimizer]
    assert got["hidden_layer_sizes"] == (7, 5)
    assert got["learning_rate"] == "constant"
    for name in [
        "alpha",
        "max_iter",
        "max_fun",
        "tol",
        "n_iter_no_change",
        "early_stopping",
        "validation_fraction",
        "beta_1",
        "beta_2",
        "epsilon",
        "shuffle",
        "warm_start",
        "random_state",
    ]:
        assert got[name] == ours.get_params()[name], name
    # gd: one batch of the 40 rows left by early stopping's hold-out of 0.2 of 50
    assert got["batch_size"] == (40 if optimizer == "gd" else 16)
    if optimizer in ("sgd", "gd"):
        assert got["momentum"] == 0.0
    if optimizer in ("momentum", "nesterov"):
        assert got["momentum"] == 0.8
        assert got["nesterovs_momentum"] == (optimizer == "nesterov")
        assert got["learning_rate_init"] == pytest.approx(0.02 * (1 - 0.8))
    else:
        assert got["learning_rate_init"] == 0.02


@pytest.mark.parametrize("loss", list(REGRESSION_LOSSES))
def test_regressor_loss_is_mapped(loss):
    mlp, notes = sklearn_equivalent(
        ScratchMLPRegressor(loss=loss, init="glorot_uniform"), n_samples=100
    )
    assert isinstance(mlp, MLPRegressor)
    assert mlp.get_params()["loss"] == loss
    assert notes == []


def test_lbfgs_passes_max_fun():
    mlp, notes = sklearn_equivalent(
        ScratchMLPRegressor(optimizer="lbfgs", max_iter=40, max_fun=500, init="glorot_uniform")
    )
    assert (mlp.solver, mlp.max_iter, mlp.max_fun) == ("lbfgs", 40, 500)
    assert notes == []


@pytest.mark.parametrize("name", ["sigmoid", "logistic"])
def test_logistic_under_either_name(name):
    mlp, notes = sklearn_equivalent(
        ScratchMLPClassifier(activation=name, init="glorot_uniform"), n_samples=100
    )
    assert mlp.activation == "logistic"
    assert notes == []


def test_one_activation_per_layer_list():
    same, notes = sklearn_equivalent(
        ScratchMLPClassifier(
            hidden_layer_sizes=(4, 4), activation=["tanh", "tanh"], init="glorot_uniform"
        ),
        n_samples=100,
    )
    assert same.activation == "tanh" and notes == []
    mixed, notes = sklearn_equivalent(
        ScratchMLPClassifier(hidden_layer_sizes=(4, 4), activation=["tanh", "relu"])
    )
    assert mixed.activation == "tanh"
    assert any("one activation for all layers" in note for note in notes)


def test_leaky_relu_is_noted():
    mlp, notes = sklearn_equivalent(ScratchMLPClassifier(activation="leaky_relu"))
    assert mlp.activation == "relu"
    assert any("'leaky_relu'" in note for note in notes)


def test_glorot_momentum_maps_without_notes():
    ours = ScratchMLPClassifier(
        optimizer="momentum", init="glorot_uniform", learning_rate_init=0.5, momentum=0.9
    )
    mlp, notes = sklearn_equivalent(ours, n_samples=100)
    assert notes == []
    assert (mlp.solver, mlp.nesterovs_momentum, mlp.momentum) == ("sgd", False, 0.9)
    assert mlp.learning_rate_init == pytest.approx(0.05)


# Every registered initializer but scikit-learn's own draws (glorot_uniform).
@pytest.mark.parametrize("init", sorted(set(INITIALIZERS) - {"glorot_uniform"}))
def test_other_inits_are_noted(init):
    _, notes = sklearn_equivalent(ScratchMLPClassifier(init=init))
    assert any(f"init={init!r}" in note for note in notes)


@pytest.mark.parametrize(
    "estimator",
    [
        ScratchMLPClassifier(),
        ScratchMLPClassifier(activation="logistic", head="softmax"),
        ScratchMLPRegressor(activation="tanh", loss="poisson"),
    ],
    ids=repr,
)
def test_the_default_init_is_scikit_learns_and_needs_no_note(estimator):
    # Since 0.3.0 init="auto" resolves to glorot_uniform before every
    # activation and head: the draws of MLPClassifier / MLPRegressor.
    assert estimator.init == "auto"
    _, notes = sklearn_equivalent(estimator)
    assert not any("init=" in note for note in notes), notes


@pytest.mark.parametrize("head", ["sigmoid", "softmax"])
def test_named_head_is_noted(head):
    _, notes = sklearn_equivalent(ScratchMLPClassifier(head=head, init="glorot_uniform"))
    assert any(f"head={head!r}" in note for note in notes)


def test_rmsprop_falls_back_to_adam_with_a_note():
    mlp, notes = sklearn_equivalent(ScratchMLPClassifier(optimizer="rmsprop"))
    assert mlp.solver == "adam"
    assert any("rmsprop" in note for note in notes)


def test_gd_without_n_samples_is_noted():
    mlp, notes = sklearn_equivalent(ScratchMLPClassifier(optimizer="gd", batch_size=32))
    assert mlp.batch_size == 32
    assert any("n_samples" in note for note in notes)


def test_generator_random_state_becomes_an_int_and_is_not_advanced():
    gen = np.random.default_rng(5)
    mlp, notes = sklearn_equivalent(ScratchMLPClassifier(random_state=gen))
    assert isinstance(mlp.random_state, int)
    assert gen.integers(1000) == np.random.default_rng(5).integers(1000)
    assert any("Generator" in note for note in notes)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
def test_schedules_of_sgd_solvers_are_passed_on(schedule, optimizer):
    est = ScratchMLPClassifier(optimizer=optimizer, learning_rate=schedule, power_t=0.3)
    mlp, notes = sklearn_equivalent(est)
    assert (mlp.learning_rate, mlp.power_t) == (schedule, 0.3)
    noted = [note for note in notes if f"learning_rate={schedule!r}" in note]
    # Momentum's steps match scikit-learn's at a constant rate only (its
    # velocity keeps each past step's rate, ours takes the current one).
    assert bool(noted) == (optimizer != "sgd" and schedule != "constant"), notes


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov"])
def test_momentum_under_a_schedule_parts_from_sklearns_steps(optimizer, rng):
    # Why the note above: with the rate falling between two steps, the mapped
    # scikit-learn velocity weights the first gradient by the old rate.
    step = OPTIMIZERS[optimizer](0.1, momentum=0.9)
    mlp, _ = sklearn_equivalent(
        ScratchMLPClassifier(optimizer=optimizer, learning_rate_init=0.1, momentum=0.9)
    )
    w = rng.standard_normal(6)
    state, theirs = step.init_state(w), [w.copy()]
    reference = SGDOptimizer(
        theirs,
        learning_rate_init=mlp.learning_rate_init,
        momentum=mlp.momentum,
        nesterov=mlp.nesterovs_momentum,
    )
    for rate in (1.0, 0.5):
        g = rng.standard_normal(6)
        step.learning_rate = 0.1 * rate
        reference.learning_rate = mlp.learning_rate_init * rate
        reference.update_params(theirs, [g.copy()])
        step.step(w, g.copy(), state)
    assert not np.allclose(w, theirs[0], rtol=1e-6)


def test_lbfgs_needs_no_schedule_note():
    # Both libraries' L-BFGS ignore learning_rate: nothing to match.
    _, notes = sklearn_equivalent(ScratchMLPClassifier(optimizer="lbfgs", learning_rate="cosine"))
    assert not [note for note in notes if "learning_rate" in note], notes


@pytest.mark.parametrize(
    ("optimizer", "schedule"), [("sgd", "cosine"), ("adam", "invscaling"), ("rmsprop", "adaptive")]
)
def test_schedules_scikit_learn_lacks_are_noted(optimizer, schedule):
    mlp, notes = sklearn_equivalent(
        ScratchMLPRegressor(optimizer=optimizer, learning_rate=schedule)
    )
    assert mlp.learning_rate == "constant"
    assert [note for note in notes if f"learning_rate={schedule!r}" in note]


def test_dropout_and_class_weight_are_noted():
    est = ScratchMLPClassifier(dropout=0.5, class_weight="balanced", init="glorot_uniform")
    _, notes = sklearn_equivalent(est)
    assert any("dropout" in note for note in notes)
    assert any("class_weight" in note for note in notes)


def test_auto_is_noted_where_a_layer_resolves_to_another_init(monkeypatch):
    # The note follows the registry, not the name "auto": an activation whose
    # default_init were he would make init="auto" differ from scikit-learn.
    monkeypatch.setattr(ACTIVATIONS["relu"], "default_init", "he")
    _, notes = sklearn_equivalent(ScratchMLPClassifier())
    assert any("init='auto'" in note for note in notes)


@pytest.mark.parametrize("dropout", [0.0, [0.0], (0.0, 0.0), [0, 0.0]], ids=repr)
def test_zero_dropout_needs_no_note(dropout):
    # A list of zero rates is no dropout, as the float 0 is (issue: a non-empty
    # list was truthy and noted as "dropout=[0.0] is not matched").
    layers = (4,) * (len(dropout) if isinstance(dropout, (list, tuple)) else 1)
    est = ScratchMLPClassifier(hidden_layer_sizes=layers, dropout=dropout)
    _, notes = sklearn_equivalent(est, n_samples=100)
    assert not [note for note in notes if "dropout" in note], notes


@pytest.mark.parametrize("dropout", [0.2, [0.0, 0.3]], ids=repr)
def test_positive_dropout_is_noted(dropout):
    est = ScratchMLPClassifier(hidden_layer_sizes=(4, 4), dropout=dropout)
    _, notes = sklearn_equivalent(est, n_samples=100)
    assert [note for note in notes if f"dropout={dropout!r}" in note], notes


# n_samples -> our batch_size="auto" rows on it: one batch below 64 rows, else
# k = max(ceil(n / 200), 2) batches of ceil(n / k) rows (scikit-learn: min(200, n)).
AUTO_BATCH_ROWS = {30: 30, 63: 63, 64: 32, 150: 75, 199: 100, 401: 134, 1347: 193}


@pytest.mark.parametrize(("n_samples", "rows"), AUTO_BATCH_ROWS.items())
@pytest.mark.parametrize("optimizer", ["adam", "nesterov"])
def test_auto_batch_size_becomes_our_batch_rows(optimizer, n_samples, rows):
    est = ScratchMLPRegressor(optimizer=optimizer)
    mlp, notes = sklearn_equivalent(est, n_samples=n_samples)
    assert mlp.batch_size == rows
    assert not [note for note in notes if "batch_size" in note], notes


def test_auto_batch_size_counts_the_rows_left_by_early_stopping():
    # 230 rows less a validation_fraction of 0.2 (46 rows) leave 184: 2 batches of 92.
    est = ScratchMLPClassifier(early_stopping=True, validation_fraction=0.2)
    mlp, _ = sklearn_equivalent(est, n_samples=230)
    assert mlp.batch_size == 92


def test_auto_batch_size_without_n_samples_is_noted():
    mlp, notes = sklearn_equivalent(ScratchMLPClassifier())
    assert mlp.batch_size == "auto"
    assert [note for note in notes if "batch_size='auto'" in note and "n_samples" in note]
    # lbfgs takes no mini-batches: nothing to note
    _, notes = sklearn_equivalent(ScratchMLPClassifier(optimizer="lbfgs", init="glorot_uniform"))
    assert notes == []


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("n_samples", [60, 150, 230, 401])
def test_both_take_the_same_steps_per_epoch(n_samples, early_stopping, rng):
    # One epoch of each library takes as many steps, of batches of the same rows
    # count: both cut the epoch's order into runs of batch_size rows.
    X = rng.standard_normal((n_samples, 3))
    y = X @ [1.0, -2.0, 0.5]
    ours = ScratchMLPRegressor(
        hidden_layer_sizes=(3,), max_iter=1, early_stopping=early_stopping, random_state=0
    )
    mlp, notes = sklearn_equivalent(ours, n_samples=n_samples)
    assert not [note for note in notes if "batch_size" in note], notes
    ours.fit(X, y)
    mlp.fit(X, y)
    assert ours._optimizer_state["t"] == mlp._optimizer.t


@pytest.mark.parametrize(
    ("head", "target"),
    [
        (head, target)
        for head in CLASSIFICATION_HEADS
        for target in ["binary", "multiclass", "multilabel"]
        if target != "multilabel" or HEADS[head].supports_multilabel
    ],
)
def test_a_head_is_noted_only_where_mlpclassifier_picks_another(head, target, rng):
    # The main job noted "head='softmax' is not matched" on iris, where
    # MLPClassifier's output is softmax too. The reference is the output
    # scikit-learn fits for the same targets.
    X = rng.standard_normal((30, 3))
    y = {
        "binary": np.arange(30) % 2,
        "multiclass": np.arange(30) % 3,
        "multilabel": np.stack([np.arange(30) % 2, np.arange(30) // 15], axis=1),
    }[target]
    theirs = MLPClassifier(max_iter=1, random_state=0).fit(X, y).out_activation_
    same = {"sigmoid": "logistic", "softmax": "softmax"}[head] == theirs
    _, notes = sklearn_equivalent(ScratchMLPClassifier(head=head), y=y)
    assert any(f"head={head!r}" in note for note in notes) is not same
    _, unknown = sklearn_equivalent(ScratchMLPClassifier(head=head))
    assert any("pass y to check it" in note for note in unknown)


def test_auto_batches_evened_on_large_data_are_noted():
    # From about 20,000 rows our "auto" evens out a cut that would end on a
    # sliver; scikit-learn at the same batch_size cuts plainly.
    mlp, notes = sklearn_equivalent(ScratchMLPClassifier(), n_samples=40001)
    assert mlp.batch_size == 200
    assert any("cuts 40001 rows into batches of 200 and a last one of 1" in n for n in notes)
    _, notes = sklearn_equivalent(ScratchMLPClassifier(), n_samples=1000)
    assert not any("cuts" in n for n in notes)
