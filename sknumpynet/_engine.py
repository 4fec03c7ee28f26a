"""The training engine shared by every estimator of the family.

One ``fit`` or ``partial_fit`` call runs here, whatever the estimator: the
estimators only validate the data, encode the targets and make a validation
scorer.  A call trains a :class:`FitState`, a working copy of the fitted state
(weights, optimizer state, counters and this call's records), and the state is
committed to the estimator only when the call succeeds: a call that raises
leaves nothing behind.  :class:`EpochLoop` drives the step optimizers epoch by
epoch, :class:`LBFGSRun` drives L-BFGS iteration by iteration; both keep the
same records (``n_iter_``, ``t_``, ``loss_``, ``loss_curve_``,
``learning_rates_``, ``best_loss_``, ``validation_scores_``,
``validation_loss_curve_``, ``best_validation_score_``) and tell the same
events to a list of :class:`~sknumpynet._events.FitEvents`, so features that
act once per epoch (progress lines, learning-rate schedules, callbacks) hook
in without touching the loops.

Patience
    An epoch "improves" when the training loss falls by more than ``tol``
    below the best so far, or, with early stopping, when the validation score
    rises by at least ``tol`` above the best.  Training stops after more than
    ``n_iter_no_change`` epochs without improvement.
Divergence guard
    A batch objective that is not finite, or not below 1000 times the
    reference of the call (the larger of the first batch's objective at the
    call's starting weights and the largest loss of all-zero logits on one of
    the call's training rows; see :class:`~sknumpynet.nn.DivergenceGuard`),
    stops training before the step that would spread it into the weights.
    The best weights are kept and the optimizer state is reset.
Best weights
    With early stopping, the weights of the best-scoring epoch are kept at the
    end; without, those of the lowest-loss epoch serve as the fallback after a
    divergence.
"""

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .exceptions import DivergenceWarning, TrainingInterruptedWarning, warn_user
from .nn import (
    OPTIMIZERS,
    Diverged,
    DivergenceGuard,
    NotFiniteAtStart,
    Trainer,
    deferred_interrupt,
)
from .nn.memory import aligned_copy

DIVERGENCE_FACTOR = 1e3
# A call whose loss at its start is this many times the last epoch's trained
# on data of another scale: the divergence message says so.
DRIFT_FACTOR = 1e2

RECORDS = ("loss_curve_", "learning_rates_", "validation_scores_", "validation_loss_curve_")
"""The per-epoch records, lists over all the calls since the last fresh fit."""


class FitState:
    """What one call trains, and commits to the estimator if it succeeds.

    The weights are a working copy bound to the network (the fitted
    ``coefs_`` and ``intercepts_`` stay untouched until :meth:`commit`), the
    optimizer state a working copy too, and the records hold this call's
    epochs only.

    Parameters
    ----------
    est : estimator of the family
        Its fitted state is read, never written, until :meth:`commit`.
    plan : CallPlan
    network : MLP
        Bound to the working weights (new weights drawn for a fresh call).
    scored : bool
        A validation set is scored every epoch.
    """

    def __init__(self, est, plan, network, scored):
        self.plan, self.network = plan, network
        self.start = network.params.copy() if plan.fresh else (est.coefs_, est.intercepts_)
        self.best = self.optimizer_state = None
        self.n_iter = 0
        self.loss_curve, self.learning_rates = [], []
        self.validation_scores = [] if scored else None
        self.validation_loss_curve = [] if scored else None
        # Records that this call replaces rather than extends.
        self.restart = set(RECORDS) if plan.fresh else set()
        if plan.fresh:
            self.t, self.loss, self.previous_loss = 0, None, None
            self.best_loss = None if plan.early_stopping else np.inf
            self.best_validation_score = None
        else:
            self._continue(est)
        self._start_schedule(plan)
        # The validation records are those of the latest run of scored epochs:
        # a call without a validation set ends them, a scored call after such
        # a call (or a fresh one) starts them anew. Records or a criterion the
        # fitted state was not set up for (warm_start toggling early_stopping)
        # start afresh.
        validation = ("validation_scores_", "validation_loss_curve_")
        if not scored:
            self.restart.update(validation)
            self.best_validation_score = None
        elif plan.fresh or est.validation_scores_ is None:
            self.restart.update(validation)
            self.best_validation_score, self.no_improvement = -np.inf, 0
        elif self.best_validation_score is None or (
            plan.early_stopping and est.best_loss_ is not None
        ):
            # No epoch scored yet, or the previous call only recorded its scores
            # (early stopping off): its best is an epoch whose weights it did not
            # keep, so this call judges its own epochs. The records go on.
            self.best_validation_score, self.no_improvement = -np.inf, 0
        if plan.early_stopping:  # judged on the validation set: no training best
            self.best_loss = None
        elif self.best_loss is None:
            self.best_loss, self.no_improvement = min(est.loss_curve_, default=np.inf), 0

    def _start_schedule(self, plan):
        """The learning-rate schedule's position: anew for each fit, continued by
        ``partial_fit``."""
        if plan.fresh or not plan.partial or self.learning_rate is None:
            # Each fit, and a stream's first call after an L-BFGS fit (which
            # runs no schedule): full patience, the schedule anew.
            self.no_improvement, self.schedule_epoch = 0, 0
            self.learning_rate = plan.learning_rate
        elif self.learning_rate_init not in (None, plan.learning_rate):
            # partial_fit after set_params(learning_rate_init=...): the schedule
            # keeps its position (adaptive's reductions) from the new start.
            self.learning_rate *= plan.learning_rate / self.learning_rate_init
        self.learning_rate_init = plan.learning_rate

    def _continue(self, est):
        """Counters and bests from where the fitted state left off."""
        self.t, self.loss = est.t_, est.loss_
        self.previous_loss = est.loss_
        self.no_improvement = est._no_improvement_count
        self.schedule_epoch, self.learning_rate = est._schedule_epoch, est._learning_rate
        # The learning_rate_init the schedule ran from (absent from older pickles).
        self.learning_rate_init = getattr(est, "_learning_rate_init", None)
        self.best_loss, self.best_validation_score = est.best_loss_, est.best_validation_score_

    def continue_optimizer(self, est, optimizer):
        """The optimizer state to train: a copy of the fitted one where it continues."""
        fitted = getattr(est, "_optimizer_state", None)
        # The decay rates its sums are kept at go with the state: a partial_fit
        # after set_params(momentum=...) rescales them rather than misread them.
        rates = optimizer.decay_rates()
        if self.plan.partial and fitted is not None and fitted.get("name") == est.optimizer:
            state = _copy_state(fitted)
            optimizer.rescale_sums(state, state.get("rates", {}))
        else:  # fit starts every optimizer anew, warm start included
            state = {"name": est.optimizer, **optimizer.init_state(self.network.params)}
        self.optimizer_state = {**state, "rates": rates}

    def record_epoch(self, loss, validation, n_rows, tol):
        """Add one epoch to the records; return True if it is a new best.

        ``validation`` is ``(score, loss)`` on the validation set, or None.
        """
        self.n_iter += 1
        self.t += n_rows
        self.loss = loss
        self.loss_curve.append(loss)
        if not self.plan.early_stopping:
            stalled = loss > self.best_loss - tol
            improved = loss < self.best_loss
            self.best_loss = min(self.best_loss, loss)
        if validation is not None:
            score, val_loss = validation
            self.validation_scores.append(score)
            self.validation_loss_curve.append(val_loss)
            if self.plan.early_stopping:
                stalled = score < self.best_validation_score + tol
                improved = score > self.best_validation_score
            self.best_validation_score = max(self.best_validation_score, score)
        self.no_improvement = self.no_improvement + 1 if stalled else 0
        return improved

    def remember_best(self):
        if self.best is None:
            self.best = np.empty_like(self.network.params)
        self.best[...] = self.network.params

    def restore_start(self):
        """Put the call's starting weights back into the network."""
        if self.plan.fresh:
            self.network.params[...] = self.start
        else:
            self.network.set_params(*self.start)

    def restore_best(self):
        """The best epoch's weights (the start's if no epoch improved)."""
        if self.best is None:
            self.restore_start()
        else:
            self.network.params[...] = self.best

    def _records(self, est):
        """``{name: (kept, entries)}``: each record's list kept from before the call
        (None where the call restarts it) and this call's entries (None: none)."""
        new = {
            "loss_curve_": self.loss_curve,
            "learning_rates_": self.learning_rates,
            "validation_scores_": self.validation_scores,
            "validation_loss_curve_": self.validation_loss_curve,
        }
        return {
            name: (None if name in self.restart else getattr(est, name, None), entries)
            for name, entries in new.items()
        }

    def _counters(self):
        return {
            "n_iter_": self.n_iter,
            "t_": self.t,
            "loss_": self.loss,
            "best_loss_": self.best_loss,
            # -inf is the search's start: no epoch was scored.
            "best_validation_score_": (
                None if self.best_validation_score == -np.inf else self.best_validation_score
            ),
            "_no_improvement_count": self.no_improvement,
            "_schedule_epoch": self.schedule_epoch,
            "_learning_rate": self.learning_rate,
            "_learning_rate_init": self.learning_rate_init,
        }

    def commit(self, est):
        """Make this state the estimator's fitted state; nothing can fail here."""
        est.coefs_, est.intercepts_ = self.network.coefs, self.network.intercepts
        est._optimizer_state = self.optimizer_state
        for name, (kept, entries) in self._records(est).items():
            if entries is None or kept is None:
                setattr(est, name, kept if entries is None else entries)
            else:  # in place: a long stream of calls stays linear
                kept.extend(entries)
        for name, value in self._counters().items():
            setattr(est, name, value)

    def snapshot(self, est):
        """The fitted attributes a commit now would give, in new arrays and lists.

        What a callback's ``fitted_estimator`` of an epoch is made of: a model
        that predicts, and trains on, as if the call had ended there, sharing
        nothing that the estimator goes on to change.
        """
        state = self.optimizer_state
        attrs = {
            "coefs_": [W.copy() for W in self.network.coefs],
            "intercepts_": [b.copy() for b in self.network.intercepts],
            "_optimizer_state": None if state is None else _copy_state(state),
            "_stream": None,  # the network's workspace stays the estimator's
            **self._counters(),
        }
        for name, (kept, entries) in self._records(est).items():
            both = None if kept is None and entries is None else [*(kept or ()), *(entries or ())]
            attrs[name] = both
        return attrs


def _copy_state(state):
    """A copy of an optimizer state dict: its arrays copied (aligned), the rest kept."""
    return {k: aligned_copy(v) if isinstance(v, np.ndarray) else v for k, v in state.items()}


class _Run:
    """What the two loops share: their parameters, events and records."""

    def __init__(
        self,
        est,
        plan,
        state,
        optimizer,
        data,
        *,
        rng=None,
        validate=None,
        events=(),
        weights_named=None,
    ):
        self.estimator, self.plan, self.state, self.optimizer = est, plan, state, optimizer
        self.network = state.network
        self.X, self.Y, self.sample_weight, self.rows = data
        self.weights_named = weights_named
        self.rng, self.validate, self.events = rng, validate, list(events)
        self.n_train = self.X.shape[0] if self.rows is None else len(self.rows)

    def _tell(self, hook, *args):
        """Call ``hook`` of every event; return their answers."""
        return [getattr(event, hook)(self, *args) for event in self.events]

    def _not_finite_at_start(self):
        """The error for an objective that is not finite at the call's starting weights.

        The weights' total is a normal number (checked with the input), so
        either the penalty alone overflows (``alpha``) or the data term does;
        then the message names every argument that can make it.
        """
        alpha, named = self.estimator.alpha, self.weights_named
        # The penalty is a float64 scalar; the model's arithmetic is in its dtype.
        penalty, largest = self.network.penalty(alpha), np.finfo(self.network.dtype).max
        start = "The loss at the starting weights is not finite: "
        if not penalty <= largest:
            return ValueError(
                f"{start}alpha={alpha:.3g} makes the L2 penalty of the starting weights "
                "overflow. Lower alpha."
            )
        names = ["X", "y"]
        fixes = [
            "Scale the features (and targets), e.g. with sklearn.preprocessing.StandardScaler."
        ]
        if named is not None:
            names += named.split(" and ")
            fixes.append(f"Rescale {named} so that the weights of the rows average about 1.")
        # The penalty over the least total weight of a batch (one row's, or 1
        # unweighted) may fill the range too.
        weights = self.sample_weight
        least = 1.0 if weights is None else float(weights[weights > 0].min())
        if not 2 * penalty / least <= largest:
            names.append("alpha")
            fixes.append("Lower alpha.")
        return ValueError(
            f"{start}{', '.join(names[:-1])} or {names[-1]} is too large for "
            f"{self.network.dtype} arithmetic in this network. " + " ".join(fixes)
        )

    def _record(self, epoch, loss):
        """Score and record an epoch; return (improved, stop answers of the events)."""
        validation = None if self.validate is None else self.validate(self.network)
        improved = self.state.record_epoch(loss, validation, self.n_train, self.estimator.tol)
        score = None if validation is None else validation[0]
        return improved, self._tell("on_epoch_end", epoch, loss, score)


class EpochLoop(_Run):
    """The epochs of one call with a step optimizer.

    Parameters
    ----------
    est : estimator of the family
        Supplies the hyperparameters.
    plan : CallPlan
    state : FitState
        Trained in place (its network's weights, optimizer state, records).
    optimizer : Optimizer
    data : tuple
        ``(X, Y, sample_weight, rows)``: the validated ``X`` (ndarray or CSR),
        the encoded targets in its dtype, the weights or None, and the
        training rows (None: all).
    rng : numpy.random.Generator
        The call's one generator (epoch orders, dropout masks).
    validate : callable or None
        ``validate(network) -> (score, loss)`` on the validation set.
    events : list of FitEvents
    weights_named : str or None
        What the weights come from, for messages: ``"sample_weight"``,
        ``"class_weight"`` or both joined by "and" (None: no weights).
    buffers : Buffers, optional
        The trainer's arrays, kept by a stream of ``partial_fit`` calls.
    """

    def __init__(self, est, plan, state, optimizer, data, *, buffers=None, **kwargs):
        super().__init__(est, plan, state, optimizer, data, **kwargs)
        self.buffers = buffers
        self.guard = DivergenceGuard(
            self.network.head,
            DIVERGENCE_FACTOR,
            targets=self.Y,
            sample_weight=self.sample_weight,
            rows=self.rows,
            dtype=self.network.dtype,
        )

    def _trainer(self, interrupt):
        plan, X = self.plan, self.X
        batch_rows = plan.batch_rows(self.n_train)
        return Trainer(
            self.network,
            self.optimizer,
            self.state.optimizer_state,
            batch_rows=batch_rows,
            full_batch=plan.full_batch,
            alpha=self.estimator.alpha,
            shuffle=plan.shuffle,
            rng=self.rng,
            guard=self.guard,
            interrupt=interrupt,
            probe=plan.probe(self.n_train, self.rows, batch_rows),
            block_rows=plan.block_rows(X, batch_rows),
            chunk_rows=plan.chunk_rows(X, self.network.layer_sizes) if plan.full_batch else None,
            buffers=self.buffers,
            even_batches=plan.batch_size == "auto",
        )

    def run(self):
        """Train up to ``plan.epochs`` epochs; warn as the way training ended calls for."""
        # Overflow and NaN are expected once a learning rate explodes; they are
        # caught from the loss and the weights instead of reported by numpy.
        # Ctrl-C is held to the end of a batch in a fit, which then returns what
        # it has trained; in a partial_fit call it raises at once and the call
        # is rolled back, so that a loop of calls stops where the user asked.
        with deferred_interrupt(not self.plan.partial) as interrupt, np.errstate(all="ignore"):
            trainer = self._trainer(interrupt)
            self._tell("on_fit_begin", self.plan.epochs)
            ended = self._epochs(trainer, interrupt)
            kept_best = self.plan.early_stopping and bool(self.state.validation_scores)
            if kept_best:  # the events' end of the fit sees the weights it keeps
                self.state.restore_best()
            self._tell("on_fit_end")
        self._warn_end(ended, kept_best)

    def _epochs(self, trainer, interrupt):
        """Run the epochs; return how training ended."""
        state, last = self.state, self.plan.epochs - 1
        for epoch in range(self.plan.epochs):
            self._tell("on_epoch_begin", epoch)
            try:
                loss = trainer.epoch(self.X, self.Y, self.sample_weight, self.rows)
            except Diverged as exc:
                self._diverged(exc)
                return "diverged"
            except NotFiniteAtStart:
                raise self._not_finite_at_start() from None
            except KeyboardInterrupt:
                if self.plan.partial:  # not held: the call is rolled back
                    raise
                return f"interrupted in epoch {state.n_iter + 1}"
            improved, stop = self._record(epoch, loss)
            # After the last epoch the best weights matter only to early stopping.
            if improved and (epoch < last or self.plan.early_stopping):
                state.remember_best()
            ended = self._stop(interrupt, stop)
            if ended:
                return ended
        return "max_iter"

    def _stop(self, interrupt, answers):
        """How training ends after this epoch, or None to go on."""
        if interrupt.requested:  # Ctrl-C after the last step, e.g. while validating
            return f"interrupted after epoch {self.state.n_iter}"
        if any(answers):
            return "callback"
        if self.state.no_improvement > self.estimator.n_iter_no_change:
            if any(self._tell("on_patience_exhausted")):  # the schedule cut the rate
                self.state.no_improvement = 0
                self._say_patience_ran_out(f"Setting learning rate to {self.state.learning_rate:f}")
                return None
            floor = self.estimator.learning_rate == "adaptive"
            self._say_patience_ran_out(("Learning rate too small. " if floor else "") + "Stopping.")
            return "patience"
        return None

    def _diverged(self, exc):
        state, net = self.state, self.network
        if state.best is not None and np.array_equal(net.params, state.best):
            # The batch that diverged was the first after the best epoch, so it
            # was scored with the best epoch's weights: those are refused too.
            state.best = None
        state.restore_best()
        # The optimizer's moments hold the exploded gradients.
        state.optimizer_state.update(self.optimizer.init_state(net.params))
        warn_user(
            f"Training diverged in epoch {state.n_iter + 1} ({exc}): {self._cause()} "
            "The best finite weights seen so far are kept.",
            DivergenceWarning,
        )

    def _cause(self):
        """The likely cause of a divergence, in words."""
        est, start, before = self.estimator, self.guard.start_loss, self.state.previous_loss
        value = est.learning_rate_init
        value = f"'auto' ({self.plan.learning_rate})" if value == "auto" else value
        rate = f"learning_rate_init={value} is too high for optimizer={est.optimizer!r}"
        if before and start is not None and start > DRIFT_FACTOR * before:
            return (
                f"the loss at the start of this call ({start:.4g}) is {start / before:.3g} "
                f"times the last epoch's ({before:.4g}), so the data of this call are on "
                "another scale than the data trained on before (features or targets that "
                "drift). Scale them alike, e.g. with a scaler fitted on representative "
                f"data; on this scale {rate}."
            )
        light = self._light_batch()
        if light is not None:
            bounded = [n for n, o in OPTIMIZERS.items() if getattr(o, "normalised_steps", False)]
            return (
                f"{light}, and a batch's L2 step is alpha / (its total weight) times the "
                f"weights: at learning_rate_init={value} such a batch scales them by more "
                f"than 2. Raise the smallest {self.weights_named}, lower alpha={est.alpha:.3g} "
                "or learning_rate_init, or use an optimizer that normalises its steps "
                f"({', '.join(bounded)})."
            )
        return f"{rate} (or the features are on too large a scale); lower it or standardize X."

    def _light_batch(self):
        """Why a batch of light rows may blow up plain gradient steps, in words, or None.

        The penalty's gradient of a batch is ``alpha / S`` times the weights
        (``S`` its total weight), so a step ``lr alpha / S > 2`` overshoots and
        grows them: with rows of weight 1e-8 that happens at any learning rate.
        """
        weights, alpha = self.sample_weight, self.estimator.alpha
        if weights is None or not alpha or self.plan.full_batch:
            return None
        if getattr(self.plan.solver, "normalised_steps", False):  # steps of bounded size
            return None
        weights = weights if self.rows is None else weights[self.rows]
        lightest = float(weights[weights > 0].min()) * self.plan.batch_rows(len(weights))
        if self.plan.learning_rate * alpha / lightest <= 2:
            return None
        return (
            f"the rows of smallest {self.weights_named} ({lightest:.3g} in a batch of them, "
            f"against a mean of {weights.mean(dtype=np.float64):.3g} a row) make batches whose "
            "weights sum to little"
        )

    def _say_patience_ran_out(self, then):
        """With ``verbose``, scikit-learn's line for the patience running out, then ``then``."""
        est = self.estimator
        if est.verbose:
            what = "Validation score" if self.plan.early_stopping else "Training loss"
            print(
                f"{what} did not improve more than tol={est.tol:f} for "
                f"{est.n_iter_no_change} consecutive epochs. {then}"
            )

    def _warn_end(self, ended, kept_best):
        if ended.startswith("interrupted"):
            kept = (
                "of the best validation epoch"
                if kept_best
                else "after the last completed mini-batch"
            )
            warn_user(f"Training {ended}; the weights {kept} are kept.", TrainingInterruptedWarning)
        elif ended == "max_iter" and not self.plan.partial:
            warn_user(
                f"Stochastic Optimizer: Maximum iterations ({self.estimator.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
            )


class LBFGSRun(_Run):
    """One ``fit`` with L-BFGS: the whole training set, one epoch per iteration.

    Parameters are those of :class:`EpochLoop` (no generator or early
    stopping: L-BFGS trains on every row and has no randomness; a given
    validation set is scored after every iteration).
    """

    def run(self):
        """Minimise; keep the records of every iteration; warn if a cap was hit."""
        est, net, state = self.estimator, self.network, self.state

        def on_iteration(loss):
            epoch = state.n_iter
            _, answers = self._record(epoch, loss)
            stop = any(answers)
            if not interrupt.requested and not stop:
                self._tell("on_epoch_begin", epoch + 1)
            return stop or interrupt.requested

        with deferred_interrupt() as interrupt, np.errstate(all="ignore"):
            self._tell("on_fit_begin", self.plan.epochs)
            self._tell("on_epoch_begin", 0)
            try:
                result = self.optimizer.run(
                    net,
                    self.X,
                    self.Y,
                    self.sample_weight,
                    est.alpha,
                    max_iter=self.plan.epochs,
                    max_fun=est.max_fun,
                    tol=est.tol,
                    on_iteration=on_iteration,
                    chunk_rows=self.plan.chunk_rows(self.X, net.layer_sizes),
                )
            except NotFiniteAtStart:
                raise self._not_finite_at_start() from None
            self._tell("on_fit_end")
        if state.n_iter == 0 and "fun" in result:  # converged at the starting weights
            state.loss = float(result.fun)
        self._warn_end(result, interrupt)

    def _warn_end(self, result, interrupt):
        state = self.state
        if not np.isfinite(self.network.params).all():
            state.restore_start()
            warn_user(
                "L-BFGS produced non-finite weights; the starting weights are kept. "
                "Scale the features (and targets), e.g. with StandardScaler.",
                DivergenceWarning,
            )
        elif interrupt.requested:
            warn_user(
                f"Training interrupted after iteration {state.n_iter}; the weights of the "
                "last completed iteration are kept.",
                TrainingInterruptedWarning,
            )
        elif result.status != 0:
            # scikit-learn's words up to SciPy's message, so that a filter or a
            # pytest.warns written for MLPClassifier's lbfgs matches ours too.
            warn_user(
                f"lbfgs failed to converge after {state.n_iter} iteration(s) "
                f"(status={result.status}):\n{result.message}\nRaise "
                f"max_iter={self.estimator.max_iter} or max_fun={self.estimator.max_fun}, or "
                "scale the data.",
                ConvergenceWarning,
            )
