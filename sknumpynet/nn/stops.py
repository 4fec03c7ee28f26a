"""Safe stops of training: divergence and Ctrl-C, always between two steps.

Two events end an epoch of :class:`~sknumpynet.nn.training.Trainer` early,
always at a batch boundary so the weights are never half-updated:

* a batch objective that is not finite, or not below the limit of the call's
  :class:`DivergenceGuard`, raises :class:`Diverged` *before* the step that
  would spread it into the weights (:class:`NotFiniteAtStart` when already
  the call's first objective is not finite);
* a Ctrl-C (SIGINT) received inside :func:`deferred_interrupt` sets a flag that
  the epoch checks after each step; the epoch then raises
  :class:`KeyboardInterrupt` at once.
"""

import contextlib
import signal
import threading

import numpy as np


class Diverged(ArithmeticError):
    """The training objective became NaN, infinite or exploded."""


class NotFiniteAtStart(ArithmeticError):
    """The objective at the starting weights of a call is not finite."""


class _InterruptFlag:
    requested = False


@contextlib.contextmanager
def deferred_interrupt(defer=True):
    """Hold SIGINT until the current batch has finished.

    In the main thread, SIGINT inside the block only sets a flag (yielded) that
    :meth:`Trainer.epoch` polls between batches.  With ``defer=False``, or
    elsewhere (signal handlers can only be set from the main thread), the flag
    never fires and Python's own handling applies.

    Parameters
    ----------
    defer : bool, default=True
        False leaves SIGINT alone (no handler is installed).

    Yields
    ------
    flag : object
        Its ``requested`` attribute becomes True when SIGINT arrives.
    """
    flag = _InterruptFlag()
    if not defer or threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        flag.requested = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class DivergenceGuard:
    """The limit every batch objective of one call must stay below.

    The *reference* is the larger of the first objective the guard sees (the
    first batch's, at the call's starting weights) and the *zero-logit scale*:
    the largest loss of all-zero logits (what an untrained network scores) on
    any one row of positive weight among ``targets``, the call's training rows
    (the first batch's rows when ``targets`` is not given).  The limit is
    ``factor`` times the reference.  Measured per call, the reference follows
    data that drift in scale from one ``partial_fit`` call to the next, while
    a step that explodes within a call (a loss ``factor`` times its start)
    is still caught.  Taken over every row rather than the first batch, the
    scale bounds every batch's zero-logit loss (a mean of rows' losses), so
    rare large targets (zero-inflated counts, say) that the first batch happens
    to miss do not make an ordinary later batch look exploded.

    Parameters
    ----------
    head : head class
        The network's head (its ``forward_loss`` scores the zero logits).
    factor : float, default=1000
        The limit is ``factor`` times the reference.
    targets : ndarray of shape (n_samples, n_outputs), optional
        Encoded targets of the call's rows.
    sample_weight : ndarray of shape (n_samples,), optional
        Their weights; rows of weight 0 never reach a batch objective.
    rows : ndarray of int, optional
        The training rows among them (default: all).
    dtype : dtype, default=float64
        The network's: a first objective (a float64 number) beyond its largest
        number has overflowed the network's arithmetic, its gradient with it.

    Notes
    -----
    A batch objective ``J = (sum_i s_i loss_i + P) / S`` (see
    :meth:`MLP.loss_grad <sknumpynet.nn.network.MLP.loss_grad>`) divides the
    L2 term ``P`` by the batch's total weight ``S``, so a batch whose weights
    sum to little (rows of weight 1e-8) has a penalty term many times that of
    the others at the same weights: no explosion, only another divisor. Given
    ``P``, the guard reads every batch's objective with its penalty divided by
    the batch's rows times the call's mean weight per row instead
    (:meth:`normalised`), a divisor that changes with the batch's size only.
    """

    # Rows scored at a time for the scale: a workspace of this many rows, not
    # a copy of every target.
    CHUNK_ROWS = 4096

    def __init__(
        self, head, factor=1e3, targets=None, sample_weight=None, rows=None, dtype=np.float64
    ):
        self.head, self.factor = head, factor
        self.largest = float(np.finfo(dtype).max)
        self.start_loss = self.limit = None
        self.scale = self.row_weight = None
        if targets is not None:
            self.scale = self._zero_logit_scale(targets, sample_weight, rows)
            if sample_weight is not None:
                weights = sample_weight if rows is None else sample_weight[rows]
                self.row_weight = float(weights.mean(dtype=np.float64))  # float32 may overflow

    def _zero_logit_scale(self, Y, sample_weight, rows=None):
        """Largest loss of all-zero logits on one row of positive weight of ``Y[rows]``."""
        n = Y.shape[0] if rows is None else len(rows)
        scale = 0.0
        for start in range(0, n, self.CHUNK_ROWS):
            take = slice(start, start + self.CHUNK_ROWS)
            take = take if rows is None else rows[take]
            chunk = Y[take]
            zeros = np.zeros_like(chunk)
            losses = self.head.forward_loss(zeros, chunk, zeros)
            if sample_weight is not None:
                losses = losses[sample_weight[take] > 0]
            if losses.size:
                scale = max(scale, float(losses.max()))
        return scale

    def normalised(self, loss, sample_weight, penalty=0.0):
        """The objective ``loss`` of a batch as the guard reads it (see Notes).

        Parameters
        ----------
        loss : float
            The batch objective ``(sum_i s_i loss_i + penalty) / S``.
        sample_weight : ndarray of shape (m,) or None
            The batch's weights; None (every weight 1) leaves ``loss`` as it is.
        penalty : float, default=0.0
            The L2 term ``P = alpha / 2 * sum ||W||^2`` at the batch's weights;
            0 leaves ``loss`` as it is.

        Returns
        -------
        float
            ``loss - P / S + P / (m * w)``, ``w`` the call's mean weight per
            row (the first batch's when the guard was made without targets).
        """
        if not penalty or sample_weight is None:
            return loss
        if self.row_weight is None:
            self.row_weight = float(sample_weight.mean(dtype=np.float64))
        total = float(sample_weight.sum(dtype=np.float64))
        if not total > 0 or not self.row_weight > 0:  # an unweighted objective then
            return loss
        return loss + penalty * (1.0 / (len(sample_weight) * self.row_weight) - 1.0 / total)

    def admits(self, loss, Y, sample_weight, penalty=0.0):
        """Whether a batch objective is sound; the first one sets the limit.

        Parameters
        ----------
        loss : float
            The batch objective.
        Y : ndarray of shape (m, n_outputs)
            The batch's encoded targets (they set the zero-logit scale when
            the guard was made without ``targets``).
        sample_weight : ndarray of shape (m,) or None
            The batch's weights (rows of weight 0 do not set the scale); None
            without weights.
        penalty : float, default=0.0
            The batch's L2 term (see :meth:`normalised`); 0 reads ``loss`` as
            it is.

        Returns
        -------
        bool
            True when ``loss`` is below the limit (always for the first
            objective, which sets it); False when it is not, NaN included.

        Raises
        ------
        NotFiniteAtStart
            If the first objective of the call is not finite.
        """
        if self.limit is not None:
            return self.normalised(loss, sample_weight, penalty) < self.limit  # False for NaN too
        if not loss <= self.largest:  # NaN and inf too
            raise NotFiniteAtStart(f"objective {loss} at the starting weights")
        loss = self.normalised(loss, sample_weight, penalty)
        if self.scale is None:
            self.scale = self._zero_logit_scale(Y, sample_weight)
        self.start_loss = loss
        self.limit = self.factor * max(loss, self.scale)
        return True
