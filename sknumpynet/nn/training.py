"""Epochs of mini-batch training, with safe stops.

:class:`Trainer` owns everything that lives for a whole fit and is reused by
every batch: the gradient vector, the gathered batch buffers and the
optimizer state.  One epoch visits the rows named by ``indices`` in an order
drawn from the fit's single :class:`numpy.random.Generator`; the data itself
is never shuffled or copied, only gathered batch by batch into one buffer.

Two events end an epoch early, always at a batch boundary so the weights are
never half-updated:

* a batch objective that is not finite, or not below ``max_loss``, raises
  :class:`Diverged` *before* the step that would spread it into the weights;
* a Ctrl-C (SIGINT) received inside :func:`deferred_interrupt` sets a flag that
  the epoch checks after each step; the epoch then raises
  :class:`KeyboardInterrupt` at once.
"""

import contextlib
import math
import signal
import threading

import numpy as np
from scipy.sparse import issparse


class Diverged(ArithmeticError):
    """The training objective became NaN or infinite."""


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


def probe_objective(network, X, Y, sample_weight, rows, alpha):
    """Objective of the network's current weights on the rows ``rows``.

    Unweighted when no row of ``rows`` has a positive weight.

    Parameters
    ----------
    network : MLP
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    rows : ndarray of int
    alpha : float

    Returns
    -------
    float
    """
    weights = None if sample_weight is None else sample_weight[rows]
    if weights is not None and not weights.any():
        weights = None
    return network.objective(X[rows], Y[rows], weights, alpha)


class Trainer:
    """Run epochs of an :class:`~sknumpynet.nn.network.MLP` with an optimizer.

    Parameters
    ----------
    network : MLP
        Updated in place.
    optimizer : Optimizer
    state : dict
        The optimizer state (see ``Optimizer.init_state``); updated in place.
    batch_size : int
        Rows per step; ignored for full-batch optimizers.
    alpha : float
        L2 penalty.
    shuffle : bool
        Visit rows in a new random order each epoch.
    rng : numpy.random.Generator
        Source of the epoch orders and, when the network has a positive
        dropout rate, of its dropout masks (drawn batch by batch, after the
        epoch's order), so one seed gives one model.  The end-of-epoch probe
        never drops units; dropout is a matter of the step optimizers only.
    interrupt : object, optional
        Flag object from :func:`deferred_interrupt`.
    max_loss : float, default=inf
        A batch objective that is not below this counts as divergence.
    probe : ndarray of int, optional
        Rows on which the weights after an epoch's last step are scored against
        ``max_loss`` (no batch of the epoch sees that step); None skips this.
    block_rows : int, optional
        With ``shuffle``, visit the rows as shuffled blocks of this many
        consecutive rows, each block's rows shuffled within it, instead of one
        permutation of all rows: the reads of an epoch then stay within one
        block at a time, which keeps a memory-mapped ``X`` on disk
        disk-friendly (page-cache sized reads rather than random rows across
        the whole file), at the price of batches drawn from one block rather
        than from the whole data.  None (in-memory data) shuffles fully.
    buffers : dict, optional
        Where the trainer keeps its gradient vector and gathered-batch buffers.
        Pass the same dict to the next Trainer of the same network (a stream
        of ``partial_fit`` calls) and it reuses them instead of allocating
        fresh memory every call.
    """

    def __init__(
        self,
        network,
        optimizer,
        state,
        *,
        batch_size,
        alpha,
        shuffle,
        rng,
        interrupt=None,
        max_loss=math.inf,
        probe=None,
        block_rows=None,
        buffers=None,
    ):
        self.network = network
        self.optimizer = optimizer
        self.state = state
        self.batch_size = batch_size
        self.alpha = alpha
        self.shuffle = shuffle and not optimizer.full_batch
        self.rng = rng
        self.interrupt = interrupt or _InterruptFlag()
        self.max_loss = max_loss
        self.probe = probe
        self.block_rows = block_rows
        self._buffers = {} if buffers is None else buffers
        if self._buffers.get("grad") is None or self._buffers["grad"].shape != network.params.shape:
            self._buffers["grad"] = np.empty_like(network.params)
        self.grad = self._buffers["grad"]

    def _order(self, n, indices):
        """This epoch's order of the rows ``indices`` (all ``n`` rows if None)."""
        block = self.block_rows
        if block is None or (n if indices is None else len(indices)) <= block:
            return self.rng.permutation(n if indices is None else indices)
        rows = np.arange(n) if indices is None else np.asarray(indices)
        starts = self.rng.permutation(np.arange(0, len(rows), block))
        return np.concatenate([self.rng.permutation(rows[i : i + block]) for i in starts])

    def _gather_buffers(self, rows, X, Y, sample_weight):
        buf = self._buffers.get("gathered")
        if (
            buf is None
            or buf[1].shape[0] < rows
            or (buf[0] is None) != issparse(X)
            or (buf[0] is not None and buf[0].shape[1] != X.shape[1])
            or (buf[2] is None) != (sample_weight is None)
            or buf[1].shape[1] != Y.shape[1]
            or buf[1].dtype != Y.dtype
        ):
            buf = self._buffers["gathered"] = (
                None if issparse(X) else np.empty((rows, X.shape[1]), dtype=X.dtype),
                np.empty((rows, Y.shape[1]), dtype=Y.dtype),
                None if sample_weight is None else np.empty(rows, dtype=X.dtype),
            )
        return buf

    def epoch(self, X, Y, sample_weight=None, indices=None):
        """Train one pass over the rows ``indices`` of ``X``.

        Parameters
        ----------
        X : ndarray or CSR matrix of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_outputs)
            Encoded targets, same dtype as ``X``.
        sample_weight : ndarray of shape (n_samples,), optional
        indices : ndarray of int, optional
            Rows to train on (default: all).

        Returns
        -------
        float
            Mean of the batch objectives, each weighted by its batch's total
            sample weight (its row count without weights); with dropout, those
            of the thinned networks the steps were taken on.

        Raises
        ------
        Diverged
            If a batch objective is not finite or reaches ``max_loss``; the
            weights are those before it.
        KeyboardInterrupt
            If the interrupt flag was raised; the weights are those after the
            last completed step.
        """
        n = X.shape[0] if indices is None else len(indices)
        size = n if self.optimizer.full_batch else min(self.batch_size, n)
        order = indices
        if self.shuffle:
            order = self._order(X.shape[0], indices)
        if order is not None:
            xb, yb, wb = self._gather_buffers(size, X, Y, sample_weight)
        total_loss, total_weight = 0.0, 0.0
        net, opt, state, grad = self.network, self.optimizer, self.state, self.grad
        # Masks come from the fit's generator; without dropout the call is
        # unchanged (a network need not even accept ``rng`` then).
        drop_rng = self.rng if any(getattr(net, "dropout", ())) else None
        for start in range(0, n, size):
            stop = min(start + size, n)
            if order is None:  # rows in place: slices are views, nothing copied
                Xb, Yb = X[start:stop], Y[start:stop]
                wb_ = None if sample_weight is None else sample_weight[start:stop]
            else:
                rows, m = order[start:stop], stop - start
                # mode="clip": with out=, the default "raise" gathers into a hidden
                # buffer first (~25% slower); rows from a permutation are in range.
                # A sparse X (CSR) gives its rows as a small CSR matrix instead.
                Xb = X[rows] if xb is None else np.take(X, rows, axis=0, out=xb[:m], mode="clip")
                Yb = np.take(Y, rows, axis=0, out=yb[:m], mode="clip")
                wb_ = None
                if sample_weight is not None:
                    wb_ = np.take(sample_weight, rows, out=wb[:m], mode="clip")
            weight = float(stop - start) if wb_ is None else float(wb_.sum())
            if weight == 0:
                continue
            if drop_rng is None:
                loss = net.loss_grad(Xb, Yb, grad, wb_, self.alpha)
            else:
                loss = net.loss_grad(Xb, Yb, grad, wb_, self.alpha, rng=drop_rng)
            # One comparison catches NaN, inf and an exploded but finite loss.
            if not loss < self.max_loss:
                raise Diverged(
                    f"training loss {loss:.4g} at batch {start // size} is not below "
                    f"{self.max_loss:.4g}"
                )
            opt.step(net.params, grad, state)
            total_loss += loss * weight
            total_weight += weight
            if self.interrupt.requested:
                opt.flush(net.params, state)  # issue 14: no subnormal outlives a call
                raise KeyboardInterrupt
        if total_weight == 0:
            raise ValueError("sample_weight: every training row has weight 0.")
        opt.flush(net.params, state)  # issue 14: no subnormal outlives an epoch
        self._check_last_step(X, Y, sample_weight)
        return total_loss / total_weight

    def _check_last_step(self, X, Y, sample_weight):
        """Raise :class:`Diverged` if the weights after the last step exploded."""
        net = self.network
        if not np.isfinite(net.params).all():
            raise Diverged("the last step made a weight NaN or infinite")
        if self.probe is None or math.isinf(self.max_loss):
            return
        loss = probe_objective(net, X, Y, sample_weight, self.probe, self.alpha)
        if not loss < self.max_loss:
            raise Diverged(
                f"training loss {loss:.4g} after the last step is not below {self.max_loss:.4g}"
            )
