"""Learning-rate schedules (sknumpynet.nn.schedules, the engine's
LearningRateSchedule event and ``learning_rates_``), issue 9.

The reference for "constant", "invscaling" and "adaptive" is scikit-learn's
MLP with ``solver="sgd", momentum=0``: :class:`_Recording` reads its
optimizer's rate after every epoch through two private names,
``_update_no_improvement_count`` and ``_optimizer.learning_rate``.  Private
scikit-learn API is used in this module only, and only as that reference.
"""

import math
import pickle
import warnings

import numpy as np
import pytest
from _shared import STEP_OPTIMIZERS, assert_same_model
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.exceptions import DivergenceWarning
from sknumpynet.nn.schedules import ADAPTIVE_FLOOR, SCHEDULES

SCHEDULE_NAMES = sorted(SCHEDULES)
LR0 = 0.01
# Every epoch after the first counts as "no improvement", so patience 1 runs
# out after epochs 3, 5, 7, ... (when the count reaches 2): "adaptive" divides
# the rate there.
STALLING = {"tol": 1e9, "n_iter_no_change": 1}

X, Y = make_classification(
    n_samples=90, n_features=5, n_informative=3, n_redundant=0, n_classes=3,
    n_clusters_per_class=1, random_state=0,
)  # fmt: skip
Y_REG = X[:, 0] - 0.5 * X[:, 1] ** 2
N = len(Y)
CLASSES = [0, 1, 2]


def _ours(cls=ScratchMLPClassifier, **params):
    settings = {
        "hidden_layer_sizes": (8,),
        "optimizer": "sgd",
        "learning_rate_init": LR0,
        "batch_size": 32,
        "max_iter": 4,
        "n_iter_no_change": np.inf,
        "random_state": 0,
    }
    return cls(**{**settings, **params})


def _recording(base):
    class _Recording(base):
        """scikit-learn's MLP, recording the rate each epoch trained with.

        ``_update_no_improvement_count`` runs after every epoch and before
        ``iteration_ends`` / ``trigger_stopping`` change the rate.
        """

        def _update_no_improvement_count(self, *args, **kwargs):
            self.rates_ = [*getattr(self, "rates_", []), self._optimizer.learning_rate]
            return super()._update_no_improvement_count(*args, **kwargs)

    return _Recording


def _sklearn(cls, schedule, **params):
    base = MLPClassifier if cls is ScratchMLPClassifier else MLPRegressor
    settings = {
        "hidden_layer_sizes": (8,),
        "solver": "sgd",
        "momentum": 0.0,
        "learning_rate": schedule,
        "learning_rate_init": LR0,
        "batch_size": 32,
        "max_iter": 4,
        "n_iter_no_change": 1000,
        "random_state": 0,
    }
    return _recording(base)(**{**settings, **params})


def _target(cls):
    return Y if cls is ScratchMLPClassifier else Y_REG


# ---- the same rates as scikit-learn -------------------------------------------


@pytest.mark.parametrize("cls", [ScratchMLPClassifier, ScratchMLPRegressor])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("schedule", ["constant", "invscaling"])
def test_fit_rates_equal_scikit_learns(cls, early_stopping, schedule):
    # invscaling: lr0 in the first epoch, then lr0 / (t_ + 1) ** power_t with
    # t_ the training rows seen (the held-out rows do not count).
    params = {"power_t": 0.3, "max_iter": 5, "early_stopping": early_stopping}
    theirs = _sklearn(cls, schedule, **params).fit(X, _target(cls))
    ours = _ours(cls, learning_rate=schedule, **params).fit(X, _target(cls))
    assert len(theirs.rates_) == 5
    assert ours.learning_rates_ == theirs.rates_
    assert ours.t_ == theirs.t_


@pytest.mark.parametrize("early_stopping", [False, True])
def test_adaptive_divides_by_five_and_stops_like_scikit_learn(early_stopping):
    # Patience runs out every second epoch after the first: the rate is
    # divided by 5 until it is at most 1e-6, when training stops (before
    # max_iter, without a ConvergenceWarning).
    params = {"max_iter": 60, "early_stopping": early_stopping, **STALLING}
    theirs = _sklearn(ScratchMLPClassifier, "adaptive", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # no "Maximum iterations"
        theirs.fit(X, Y)
        ours = _ours(learning_rate="adaptive", **params).fit(X, Y)
    assert ours.learning_rates_ == theirs.rates_
    assert ours.n_iter_ == theirs.n_iter_ < 60
    rates = ours.learning_rates_
    assert rates[:5] == [LR0, LR0, LR0, LR0 / 5, LR0 / 5]
    assert rates[-1] <= ADAPTIVE_FLOOR < rates[-3]


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_warm_fit_restarts_the_schedule_like_scikit_learn(schedule):
    # A warm fit starts again at lr0.  invscaling: t_ keeps counting, so later
    # epochs continue the decay from the rows seen in every call.  adaptive:
    # the patience count restarts, the best loss is kept.
    params = {"power_t": 0.3, "max_iter": 5, "warm_start": True}
    params.update(STALLING if schedule == "adaptive" else {})
    theirs = _sklearn(ScratchMLPClassifier, schedule, **params)
    ours = _ours(learning_rate=schedule, **params)
    for _ in range(2):
        theirs.fit(X, Y)
        ours.fit(X, Y)
    assert ours.learning_rates_ == theirs.rates_
    assert ours.learning_rates_[5] == LR0 > ours.learning_rates_[4]


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_partial_fit_rates_equal_scikit_learns(schedule):
    params = {"power_t": 0.3, **(STALLING if schedule == "adaptive" else {})}
    theirs = _sklearn(ScratchMLPClassifier, schedule, **params)
    ours = _ours(learning_rate=schedule, **params)
    for _ in range(6):
        theirs.partial_fit(X, Y, classes=CLASSES)
        ours.partial_fit(X, Y, classes=CLASSES)
    assert ours.learning_rates_ == theirs.rates_
    assert len(set(ours.learning_rates_)) > 1


# ---- cosine and power_t -----------------------------------------------------------


def test_cosine_anneals_over_max_iter():
    max_iter = 6
    ours = _ours(learning_rate="cosine", max_iter=max_iter).fit(X, Y)
    expected = [LR0 * (1 + math.cos(math.pi * e / max_iter)) / 2 for e in range(max_iter)]
    np.testing.assert_allclose(ours.learning_rates_, expected, rtol=1e-15)
    assert ours.learning_rates_[0] == LR0
    assert ours.learning_rates_[3] == pytest.approx(LR0 / 2, rel=1e-15)


def test_cosine_keeps_the_last_rate_past_max_iter():
    ours = _ours(learning_rate="cosine", max_iter=3)
    for _ in range(5):
        ours.partial_fit(X, Y, classes=CLASSES)
    last = LR0 * (1 + math.cos(math.pi * 2 / 3)) / 2
    np.testing.assert_allclose(ours.learning_rates_[2:], [last] * 3, rtol=1e-15)
    assert ours.learning_rates_[2] > 0


@pytest.mark.parametrize("max_epochs", [0, -1])
def test_cosine_refuses_fewer_than_one_epoch(max_epochs):
    # The rate divides by max_epochs: 0 gave a bare ZeroDivisionError.
    with pytest.raises(ValueError, match="max_epochs must be >= 1 for the cosine schedule"):
        SCHEDULES["cosine"].rate(
            LR0, LR0, epoch=0, samples_seen=0, max_epochs=max_epochs, power_t=0.5
        )


def test_invscaling_without_power_is_constant():
    constant = _ours().fit(X, Y)
    flat = _ours(learning_rate="invscaling", power_t=0.0).fit(X, Y)
    assert flat.learning_rates_ == [LR0] * 4
    assert_same_model(flat, constant, records=False)


# ---- the rate is the step size ----------------------------------------------------


@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS)
@pytest.mark.parametrize("schedule", ["invscaling", "adaptive", "cosine"])
def test_each_epoch_steps_with_the_scheduled_rate(optimizer, schedule):
    # Epoch by epoch, the scheduled fit takes the steps of a constant-rate fit
    # whose learning_rate_init is set to the scheduled rate of that epoch.
    params = {"optimizer": optimizer, "max_iter": 4, **STALLING}
    scheduled = _ours(learning_rate=schedule, **params)
    stepped = _ours(**params)
    for epoch in range(4):
        scheduled.partial_fit(X, Y, classes=CLASSES)
        stepped.set_params(learning_rate_init=scheduled.learning_rates_[epoch])
        stepped.partial_fit(X, Y, classes=CLASSES)
    assert_same_model(scheduled, stepped, records=False)
    # ...and the schedule changed the rate, and so the model.
    assert scheduled.learning_rates_[-1] < LR0
    constant = _ours(**params)
    for _ in range(4):
        constant.partial_fit(X, Y, classes=CLASSES)
    assert not np.array_equal(scheduled.coefs_[0], constant.coefs_[0])


@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS)
@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_every_optimizer_takes_every_schedule(optimizer, schedule):
    ours = _ours(optimizer=optimizer, learning_rate=schedule, max_iter=3).fit(X, Y)
    rates = ours.learning_rates_
    assert len(rates) == len(ours.loss_curve_) == ours.n_iter_ == 3
    assert rates[0] == LR0
    assert rates[-1] > 0 and all(np.diff(rates) <= 0)
    assert np.isfinite(ours.loss_)


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_lbfgs_has_no_rates(schedule):
    ours = _ours(optimizer="lbfgs", learning_rate=schedule, max_iter=5).fit(X, Y)
    assert ours.learning_rates_ == []
    assert len(ours.loss_curve_) == ours.n_iter_ > 0


# ---- fit restarts, partial_fit continues --------------------------------------------


@pytest.mark.parametrize("schedule", ["invscaling", "cosine"])
def test_partial_fit_calls_follow_fit(schedule):
    fitted = _ours(learning_rate=schedule, max_iter=4).fit(X, Y)
    chunked = _ours(learning_rate=schedule, max_iter=4)
    for _ in range(4):
        chunked.partial_fit(X, Y, classes=CLASSES)
    assert chunked.learning_rates_ == fitted.learning_rates_
    assert len(set(fitted.learning_rates_)) == 4


def test_warm_fit_restarts_cosine():
    cosine = _ours(learning_rate="cosine", max_iter=4, warm_start=True).fit(X, Y)
    first = list(cosine.learning_rates_)
    cosine.fit(X, Y)
    assert cosine.learning_rates_ == first + first


def test_fit_after_partial_fit_restarts_the_schedule():
    ours = _ours(learning_rate="cosine", max_iter=3, warm_start=True)
    for _ in range(2):
        ours.partial_fit(X, Y, classes=CLASSES)
    ours.fit(X, Y)
    reference = _ours(learning_rate="cosine", max_iter=3).fit(X, Y)
    assert ours.learning_rates_[2:] == reference.learning_rates_
    # Without warm_start the fit starts anew, records included.
    ours.set_params(warm_start=False).fit(X, Y)
    assert ours.learning_rates_ == reference.learning_rates_


@pytest.mark.parametrize("schedule", SCHEDULE_NAMES)
def test_pickle_between_partial_fit_calls_continues_the_schedule(schedule):
    ours = _ours(learning_rate=schedule, optimizer="adam", max_iter=6, **STALLING)
    for _ in range(3):
        ours.partial_fit(X, Y, classes=CLASSES)
    restored = pickle.loads(pickle.dumps(ours))
    for est in (ours, restored):
        for _ in range(3):
            est.partial_fit(X, Y, classes=CLASSES)
    assert restored.learning_rates_ == ours.learning_rates_
    assert_same_model(restored, ours, records=False)
    if schedule != "constant":
        assert ours.learning_rates_[-1] < ours.learning_rates_[2]


# ---- records ---------------------------------------------------------------------------


def test_rates_and_losses_stay_aligned_after_a_divergence():
    # The epoch that diverges is recorded in neither list.
    ours = _ours(optimizer="gd", learning_rate="cosine", learning_rate_init=1e4, max_iter=20)
    with pytest.warns(DivergenceWarning):
        ours.fit(X * 100, Y)
    assert len(ours.learning_rates_) == len(ours.loss_curve_) == ours.n_iter_ < 20


def test_rates_and_losses_stay_aligned_with_early_stopping():
    ours = _ours(learning_rate="invscaling", early_stopping=True, max_iter=50, n_iter_no_change=2)
    ours.fit(X, Y)
    assert len(ours.learning_rates_) == len(ours.loss_curve_) == ours.n_iter_ < 50


@pytest.mark.parametrize("power_t", [50.0, 400.0])
def test_invscaling_with_a_huge_power_falls_to_zero_without_overflow(power_t):
    # (t + 1) ** power_t beyond the largest float raised OverflowError, naming
    # no argument; lr_0 / (t + 1) ** power_t is 0 to float precision there.
    rate = SCHEDULES["invscaling"].rate(
        LR0, LR0, epoch=1, samples_seen=10**7, max_epochs=5, power_t=power_t
    )
    assert rate == 0.0
    est = _ours(learning_rate="invscaling", power_t=power_t, max_iter=2)
    est.fit(X, Y)
    assert est.learning_rates_[0] == LR0
    expected = LR0 * math.exp(-power_t * math.log(N + 1))  # underflows to 0, no error
    assert est.learning_rates_[1] == pytest.approx(expected, rel=1e-9, abs=1e-300)
