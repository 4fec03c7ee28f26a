"""Per-epoch events of a fit: the hooks the training engine calls.

:class:`FitEvents` is the interface; the engine (:mod:`sknumpynet._engine`)
calls every hook of every event object of a call in order, so a feature that
acts once per epoch is one small class here, never a change to the loop:
:class:`ProgressPrinter` (``verbose``), :class:`LearningRateSchedule`
(``learning_rate``) and the scikit-learn callback bridge
(:mod:`sknumpynet._callbacks`).
"""

import time


class FitEvents:
    """Hooks into a training run; every method does nothing by default.

    ``loop`` is the running :class:`~sknumpynet._engine.EpochLoop` (or
    :class:`~sknumpynet._engine.LBFGSRun`): ``loop.estimator`` gives the
    hyperparameters, ``loop.network`` the weights being trained and
    ``loop.state`` the call's working :class:`~sknumpynet._engine.FitState`
    (counters and records, committed to the estimator when the call
    succeeds).  An epoch of L-BFGS is one of its iterations.
    """

    def on_fit_begin(self, loop, epochs):
        """Before the first epoch of a call that may run ``epochs`` epochs."""

    def on_epoch_begin(self, loop, epoch):
        """Before epoch ``epoch`` (0-based within the call)."""

    def on_epoch_end(self, loop, epoch, loss, score):
        """After an epoch with its training ``loss`` and validation ``score``
        (None without validation); return True to stop training."""
        return False

    def on_patience_exhausted(self, loop):
        """The patience ran out; return True to train on (the count restarts)."""
        return False

    def on_fit_end(self, loop):
        """After the last epoch of the call, however training ended."""


class ProgressPrinter(FitEvents):
    """``verbose >= 1``: one line per epoch with loss, validation score, elapsed time and ETA."""

    def on_fit_begin(self, loop, epochs):
        self.start, self.epochs = time.perf_counter(), epochs

    def on_epoch_end(self, loop, epoch, loss, score):
        elapsed = time.perf_counter() - self.start
        eta = elapsed / (epoch + 1) * (self.epochs - epoch - 1)
        val = "" if score is None else f", validation score = {score:.4f}"
        print(
            f"Iteration {loop.state.n_iter}, loss = {loss:.6f}{val}, "
            f"elapsed {elapsed:.1f}s, ETA {eta:.1f}s",
            flush=True,
        )
        return False


class LearningRateSchedule(FitEvents):
    """Sets the optimizer's rate before each epoch from a schedule of
    :mod:`sknumpynet.nn.schedules`; records it in ``learning_rates_``.

    The schedule's epoch count and current rate are part of the fitted state,
    so ``partial_fit`` continues the schedule and a ``fit`` restarts it.
    """

    def __init__(self, schedule):
        self.schedule = schedule

    def on_epoch_begin(self, loop, epoch):
        est, state = loop.estimator, loop.state
        state.learning_rate = self.schedule.rate(
            loop.plan.learning_rate,
            state.learning_rate,
            epoch=state.schedule_epoch,
            samples_seen=state.t,
            max_epochs=est.max_iter,
            power_t=float(est.power_t),
        )
        loop.optimizer.learning_rate = state.learning_rate

    def on_epoch_end(self, loop, epoch, loss, score):
        state = loop.state
        state.learning_rates.append(state.learning_rate)
        state.schedule_epoch += 1
        return False

    def on_patience_exhausted(self, loop):
        state = loop.state
        state.learning_rate, keep_training = self.schedule.on_patience_exhausted(
            state.learning_rate
        )
        return keep_training
