"""The training engine shared by every estimator of the family.

One fit or ``partial_fit`` call runs here, whatever the estimator: the
estimators only prepare the network, the encoded targets and a validation
scorer.  :class:`EpochLoop` drives the step optimizers epoch by epoch;
:class:`LBFGSRun` drives L-BFGS iteration by iteration.  Both keep the same
records on the estimator (``n_iter_``, ``t_``, ``loss_``, ``loss_curve_``,
``learning_rates_``, ``best_loss_``, ``validation_scores_``,
``validation_loss_curve_``, ``best_validation_score_``) and tell the same
events to a list of :class:`~sknumpynet._events.FitEvents`, so features that
act once per epoch (progress lines, learning-rate schedules, callbacks) hook
in without touching the loops.

Patience
    An epoch "improves" when the training loss falls by more than ``tol``
    below the best so far, or, with validation, when the score rises by at
    least ``tol`` above the best.  Training stops after more than
    ``n_iter_no_change`` epochs without improvement.
Divergence guard
    A batch objective that is not finite, or not below 1000 times the
    *reference loss* (the larger of the objective at the first fit's starting
    weights and the loss of all-zero logits, both on up to 256 evenly spaced
    training rows), stops training before the step that would spread it into
    the weights.  The best weights are kept and the optimizer state is reset.
Best weights
    With validation, the weights of the best-scoring epoch are kept at the
    end; without, those of the lowest-loss epoch serve as the fallback after
    a divergence.
"""

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import _data
from .exceptions import DivergenceWarning, TrainingInterruptedWarning, warn_user
from .nn import Diverged, Trainer, deferred_interrupt, probe_objective

DIVERGENCE_FACTOR = 1e3
PROBE_ROWS = 256
PROBE_MIN_ROWS = 16


RECORDS = ("loss_curve_", "learning_rates_", "validation_scores_", "validation_loss_curve_")
"""The per-epoch records: lists that a call only appends to (or replaces)."""


def reset_records(est, early_stopping, scored):
    """Fresh training records on ``est`` (the first fit, or a fit that starts anew).

    ``scored``: a validation set is scored each epoch; ``early_stopping``: its
    score, not the training loss, decides when to stop.
    """
    est.n_iter_ = 0
    est.t_ = 0
    est.loss_curve_ = []
    est.learning_rates_ = []
    est._loss_reference = None
    est._no_improvement_count = 0
    est.best_loss_ = None if early_stopping else np.inf
    est.validation_scores_ = [] if scored else None
    est.validation_loss_curve_ = [] if scored else None
    est.best_validation_score_ = -np.inf if scored else None
    _restart_schedule(est)


def _restart_schedule(est):
    est._schedule_epoch = 0
    est._learning_rate = float(est.learning_rate_init)


def _start_call(est, early_stopping, scored, incremental):
    """Records at the start of a call: patience per fit, the criterion's own records."""
    est.n_iter_ = 0
    if not incremental:  # each fit gets its full patience and a fresh schedule
        est._no_improvement_count = 0
        _restart_schedule(est)
    # A call that records or stops on something the records were not set up
    # for (warm_start toggling early_stopping) starts those records afresh.
    if scored and est.validation_scores_ is None:
        est.validation_scores_, est.validation_loss_curve_ = [], []
        est.best_validation_score_ = -np.inf
        est._no_improvement_count = 0
    if not early_stopping and est.best_loss_ is None:
        est.best_loss_ = min(est.loss_curve_, default=np.inf)
        est._no_improvement_count = 0


def _record_epoch(est, loss, validation, n_rows, early_stopping):
    """Append one epoch to the records; return True if it is a new best.

    ``validation`` is ``(score, loss)`` on the validation set, or None.
    """
    est.n_iter_ += 1
    est.t_ += n_rows
    est.loss_ = loss
    est.loss_curve_.append(loss)
    if not early_stopping:
        stalled = loss > est.best_loss_ - est.tol
        improved = loss < est.best_loss_
        if improved:
            est.best_loss_ = loss
    if validation is not None:
        score, val_loss = validation
        est.validation_scores_.append(score)
        est.validation_loss_curve_.append(val_loss)
        if early_stopping:
            stalled = score < est.best_validation_score_ + est.tol
            improved = score > est.best_validation_score_
        est.best_validation_score_ = max(est.best_validation_score_, score)
    est._no_improvement_count = est._no_improvement_count + 1 if stalled else 0
    return improved


def reference_loss(est, net, X, Y, sw, probe):
    """The scale of a sound training loss, for the divergence limit.

    Measured once, at the first fit's starting weights; later partial_fit and
    warm-started calls reuse it, so weights that drift upwards never raise
    their own limit.
    """
    if est._loss_reference is None:
        start_loss = probe_objective(net, X, Y, sw, probe, est.alpha)
        if not np.isfinite(start_loss):
            raise ValueError(
                "The loss at the starting weights is not finite: X or y is too large for "
                f"{net.dtype} arithmetic in this network. Scale the features (and "
                "targets), e.g. with sklearn.preprocessing.StandardScaler."
            )
        zeros = np.zeros((len(probe), Y.shape[1]), dtype=net.dtype)
        flat = float(net.head.forward_loss(zeros, Y[probe], zeros.copy()).mean())
        est._loss_reference = max(start_loss, flat)
    return est._loss_reference


class EpochLoop:
    """The epochs of one ``fit`` or ``partial_fit`` call with a step optimizer.

    Parameters
    ----------
    estimator : estimator of the family
        Supplies the hyperparameters and receives the records.
    network : MLP
        Trained in place.
    optimizer : Optimizer
    X : ndarray or CSR matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets in the dtype of ``X``.
    sample_weight : ndarray of shape (n_samples,) or None
    rows : ndarray of int or None
        Training rows (None: all).
    rng : numpy.random.Generator
        The fit's one generator (epoch orders).
    validate : callable or None
        ``validate(network) -> (score, loss)`` on the validation set (score:
        higher is better).
    early_stopping : bool
        Stop on the validation score and keep the best-scoring weights
        (otherwise the validation set, if any, is only recorded).
    events : list of FitEvents
    disk : bool, default=False
        ``X`` is memory-mapped: visit it in shuffled blocks of rows (see
        :class:`~sknumpynet.nn.Trainer`'s ``block_rows``).
    buffers : dict, optional
        Kept by the estimator between calls: the trainer's buffers (see
        :class:`~sknumpynet.nn.Trainer`).
    """

    def __init__(
        self,
        estimator,
        network,
        optimizer,
        X,
        Y,
        sample_weight,
        *,
        rows,
        rng,
        validate,
        early_stopping,
        events,
        disk=False,
        buffers=None,
    ):
        self.estimator, self.network, self.optimizer = estimator, network, optimizer
        self.X, self.Y, self.sample_weight, self.rows = X, Y, sample_weight, rows
        self.rng, self.validate, self.events = rng, validate, list(events)
        self.early_stopping = early_stopping and validate is not None
        self.disk = disk
        self.buffers = buffers

    def _batch_size(self, n):
        est = self.estimator
        size = min(200, n) if est.batch_size == "auto" else est.batch_size
        if size > n and not self.optimizer.full_batch:
            warn_user(f"batch_size={size} is larger than the {n} samples; using {n}.", UserWarning)
        return min(size, n)

    def _probe(self, n_train, size):
        """``size`` evenly spaced training rows (at most all of them)."""
        spaced = np.linspace(0, n_train - 1, min(size, n_train)).astype(np.intp)
        return spaced if self.rows is None else self.rows[spaced]

    def run(self, epochs, incremental):
        """Train up to ``epochs`` epochs; warn as the way training ended calls for."""
        est, net = self.estimator, self.network
        n_train = self.X.shape[0] if self.rows is None else len(self.rows)
        batch_size = self._batch_size(n_train)
        batch_rows = n_train if self.optimizer.full_batch else batch_size
        # Whole weight vectors are scored on up to one batch of evenly spaced
        # rows: the starting weights of a fit, for the divergence limit, and
        # those after every epoch. An exploded step (a loss 1000 times that
        # limit's reference) shows on any dozen rows: after a partial_fit call
        # a 32nd of its chunk (at least 16 rows) is scored rather than a batch,
        # which for a 600-row chunk would be a fifth of the call's work.
        size = min(batch_rows, PROBE_ROWS)
        reference_rows = self._probe(n_train, size) if est._loss_reference is None else None
        if incremental:
            size = min(size, max(PROBE_MIN_ROWS, n_train // 32))
        probe = self._probe(n_train, size)
        _start_call(est, self.early_stopping, self.validate is not None, incremental)
        buffers = {} if self.buffers is None else self.buffers
        self.best_params = _data.copy_into(buffers, "best", net.params)
        # The start weights are needed apart from the best ones only once an
        # epoch has ended (a one-epoch partial_fit call never needs them).
        self.start_params = (
            self.best_params if epochs == 1 else _data.copy_into(buffers, "start", net.params)
        )
        ended = "max_iter"
        validated = False
        # Overflow and NaN are expected once a learning rate explodes; they are
        # caught from the loss and the weights instead of reported by numpy.
        # Ctrl-C is held to the end of a batch in a fit, which then returns what
        # it has trained; in a partial_fit call it raises at once and the call
        # is rolled back, so that a loop of calls stops where the user asked.
        with deferred_interrupt(not incremental) as interrupt, np.errstate(all="ignore"):
            limit = DIVERGENCE_FACTOR * reference_loss(
                est, net, self.X, self.Y, self.sample_weight, reference_rows
            )
            trainer = Trainer(
                net,
                self.optimizer,
                est._optimizer_state,
                batch_size=batch_size,
                alpha=est.alpha,
                shuffle=est.shuffle,
                rng=self.rng,
                interrupt=interrupt,
                max_loss=limit,
                probe=probe,
                block_rows=_data.block_rows(self.X, batch_size) if self.disk else None,
                buffers=self.buffers,
            )
            for event in self.events:
                event.on_fit_begin(self, epochs)
            for epoch in range(epochs):
                for event in self.events:
                    event.on_epoch_begin(self, epoch)
                try:
                    loss = trainer.epoch(self.X, self.Y, self.sample_weight, self.rows)
                except Diverged as exc:
                    self._diverged(exc)
                    ended = "diverged"
                    break
                except KeyboardInterrupt:
                    if incremental:  # not held: the call is rolled back
                        raise
                    ended = f"interrupted in epoch {est.n_iter_ + 1}"
                    break
                validation = None if self.validate is None else self.validate(net)
                validated = validated or validation is not None
                improved = _record_epoch(est, loss, validation, n_train, self.early_stopping)
                # After the last epoch the best weights matter only to early stopping.
                if improved and (epoch + 1 < epochs or self.early_stopping):
                    self.best_params[...] = net.params
                score = None if validation is None else validation[0]
                stop = [event.on_epoch_end(self, epoch, loss, score) for event in self.events]
                if interrupt.requested:  # Ctrl-C after the last step, e.g. while validating
                    ended = f"interrupted after epoch {est.n_iter_}"
                    break
                if any(stop):
                    ended = "callback"
                    break
                if est._no_improvement_count > est.n_iter_no_change:
                    if any([event.on_patience_exhausted(self) for event in self.events]):
                        est._no_improvement_count = 0
                        continue
                    ended = "patience"
                    self._say_patience_ran_out()
                    break
            validated = validated and self.early_stopping
            if validated:  # the events' end of the fit sees the weights it keeps
                net.params[...] = self.best_params
            for event in self.events:
                event.on_fit_end(self)
        self._warn_end(ended, validated, incremental)

    def _diverged(self, exc):
        est, net = self.estimator, self.network
        if np.array_equal(net.params, self.best_params):
            # The batch that diverged was the first after the best epoch, so it
            # was scored with the best epoch's weights: those are refused too.
            self.best_params[...] = self.start_params
        net.params[...] = self.best_params
        # The optimizer's moments hold the exploded gradients.
        est._optimizer_state.update(self.optimizer.init_state(net.params))
        warn_user(
            f"Training diverged in epoch {est.n_iter_ + 1} ({exc}): "
            f"learning_rate_init={est.learning_rate_init} is too high for "
            f"optimizer={est.optimizer!r} (or the features are on too large a "
            "scale); lower it or standardize X. The best finite weights seen "
            "so far are kept.",
            DivergenceWarning,
        )

    def _say_patience_ran_out(self):
        est = self.estimator
        if est.verbose:
            what = "Validation score" if self.early_stopping else "Training loss"
            print(
                f"{what} did not improve more than tol={est.tol} for "
                f"{est.n_iter_no_change} consecutive epochs. Stopping."
            )

    def _warn_end(self, ended, validated, incremental):
        if ended.startswith("interrupted"):
            kept = (
                "of the best validation epoch"
                if validated
                else "after the last completed mini-batch"
            )
            warn_user(f"Training {ended}; the weights {kept} are kept.", TrainingInterruptedWarning)
        elif ended == "max_iter" and not incremental:
            est = self.estimator
            warn_user(
                f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
            )


class LBFGSRun:
    """One ``fit`` with L-BFGS: the whole training set, one epoch per iteration.

    Parameters are those of :class:`EpochLoop` (no rows, generator or early
    stopping: L-BFGS trains on every row and has no randomness; a given
    validation set is scored after every iteration).
    """

    def __init__(self, estimator, network, optimizer, X, Y, sample_weight, *, validate, events):
        self.estimator, self.network, self.optimizer = estimator, network, optimizer
        self.X, self.Y, self.sample_weight, self.events = X, Y, sample_weight, list(events)
        self.validate = validate

    def run(self):
        """Minimise; keep the records of every iteration; warn if a cap was hit."""
        est, net, n = self.estimator, self.network, self.X.shape[0]
        _start_call(est, False, self.validate is not None, incremental=False)
        start = net.params.copy()

        def on_iteration(loss):
            epoch = est.n_iter_
            validation = None if self.validate is None else self.validate(net)
            _record_epoch(est, loss, validation, n, early_stopping=False)
            score = None if validation is None else validation[0]
            stop = any([event.on_epoch_end(self, epoch, loss, score) for event in self.events])
            if not interrupt.requested and not stop:
                for event in self.events:
                    event.on_epoch_begin(self, epoch + 1)
            return stop or interrupt.requested

        with deferred_interrupt() as interrupt, np.errstate(all="ignore"):
            for event in self.events:
                event.on_fit_begin(self, est.max_iter)
                event.on_epoch_begin(self, 0)
            result = self.optimizer.run(
                net,
                self.X,
                self.Y,
                self.sample_weight,
                est.alpha,
                max_iter=est.max_iter,
                max_fun=est.max_fun,
                tol=est.tol,
                on_iteration=on_iteration,
            )
            for event in self.events:
                event.on_fit_end(self)
        if est.n_iter_ == 0 and "fun" in result:  # converged at the starting weights
            est.loss_ = float(result.fun)
        if not np.isfinite(net.params).all():
            net.params[...] = start
            warn_user(
                "L-BFGS produced non-finite weights; the starting weights are kept. "
                "Scale the features (and targets), e.g. with StandardScaler.",
                DivergenceWarning,
            )
        elif interrupt.requested:
            warn_user(
                f"Training interrupted after iteration {est.n_iter_}; the weights of the "
                "last completed iteration are kept.",
                TrainingInterruptedWarning,
            )
        elif result.status != 0:
            warn_user(
                f"L-BFGS stopped after {est.n_iter_} iterations without converging "
                f"({result.message}); raise max_iter={est.max_iter} or "
                f"max_fun={est.max_fun}, or scale the data.",
                ConvergenceWarning,
            )
