"""Epochs of training.

:class:`Trainer` runs epochs of an :class:`~sknumpynet.nn.network.MLP` with a
step optimizer.  An epoch is either

* mini-batches: the rows named by ``indices`` in an order drawn from the
  fit's single :class:`numpy.random.Generator`, gathered batch by batch into
  one reused buffer (the data itself is never shuffled or copied), one step
  per batch; or
* one full batch (``gd``): one step on the gradient of every training row,
  summed over chunks of rows by :func:`full_batch_loss_grad`, so that neither
  the rows nor the activations of the whole set are ever held at once.

Two events end an epoch early, always at a batch boundary so the weights are
never half-updated: a diverged batch objective and a Ctrl-C (see
:mod:`sknumpynet.nn.stops`).
"""

import numpy as np
from scipy.sparse import issparse

from .checks import check_rows
from .memory import aligned_empty
from .stops import Diverged, DivergenceGuard, _InterruptFlag


def probe_objective(network, X, Y, sample_weight, rows, alpha):
    """Objective of the network's current weights on the rows ``rows``.

    Unweighted when no row of ``rows`` has a positive weight.

    Parameters
    ----------
    network : MLP
        The network at the weights to score; unchanged.
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Every row of the call; only ``X[rows]`` is read.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets of the rows of ``X``.
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the rows of ``X``; None weighs every row 1.
    rows : ndarray of int of shape (n_rows,)
        The rows to score.
    alpha : float
        L2 penalty on the weights.

    Returns
    -------
    float
        ``J`` on ``rows`` (NaN or inf if the weights are); see
        :meth:`MLP.objective`.
    """
    return network.objective(X[rows], Y[rows], _probe_weights(sample_weight, rows), alpha)


def _probe_weights(sample_weight, rows):
    """The weights of ``rows`` as :func:`probe_objective` scores them: None
    (unweighted) without weights or where none of them is positive."""
    weights = None if sample_weight is None else sample_weight[rows]
    return None if weights is None or not weights.any() else weights


def full_batch_loss_grad(
    network,
    X,
    Y,
    grad,
    sample_weight=None,
    alpha=0.0,
    *,
    rows=None,
    chunk_rows,
    scratch=None,
    rng=None,
):
    """Objective and gradient of every row (or of ``rows``), a chunk of rows at a time.

    Equal to ``network.loss_grad`` on all the rows at once (up to rounding):
    each chunk's data gradient is weighted by the chunk's total sample weight,
    their sum divided by the total, and the L2 term added once.  Only one
    chunk's rows and activations exist at a time.

    Parameters
    ----------
    network : MLP
        The network at the weights to evaluate; its ``params`` are unchanged.
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Input rows.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets of the rows of ``X``.
    grad : ndarray of shape (n_params,)
        Overwritten with ``dJ/dparams``.
    sample_weight : ndarray of shape (n_samples,), optional
        Weights of the rows of ``X``; None weighs every row 1.
    alpha : float, default=0.0
        L2 penalty on the weights (not the biases), added once.
    rows : ndarray of int, optional
        The rows to use (default: all), visited in the given order.
    chunk_rows : int
        Rows per forward/backward pass.
    scratch : ndarray of shape (n_params,), optional
        Room for one chunk's gradient (allocated when needed and not given).
    rng : numpy.random.Generator, optional
        Source of the dropout masks (see :meth:`MLP.loss_grad`): one generator
        per hidden layer is seeded from it, each read in row order, so chunks
        of any size draw the masks of one pass over every row.

    Returns
    -------
    float
        ``J``.

    Raises
    ------
    ValueError
        If every row has weight 0, a weight is negative or NaN, ``Y`` or
        ``sample_weight`` has not one row per row of ``X``, or ``rows`` is
        empty or not 1-D.
    IndexError
        If ``rows`` holds anything but integer row numbers of ``X``.
    """
    rows = check_rows(X, Y, sample_weight, rows, "rows")
    n = X.shape[0] if rows is None else len(rows)
    if sample_weight is not None and not sample_weight[slice(None) if rows is None else rows].any():
        raise ValueError("sample_weight: every training row has weight 0.")
    if rng is not None and any(network.dropout):  # Generator.spawn needs NumPy 1.25
        rng = [
            np.random.default_rng(seed) for seed in rng.integers(2**63, size=len(network.dropout))
        ]
    if rows is None and n <= chunk_rows:
        return network.loss_grad(X, Y, grad, sample_weight, alpha, rng=rng)
    part = np.empty_like(grad) if scratch is None else scratch
    grad[...] = 0
    data_loss = total = 0.0
    for start in range(0, n, chunk_rows):
        take = slice(start, min(start + chunk_rows, n))
        take = take if rows is None else rows[take]
        weights = None if sample_weight is None else sample_weight[take]
        weight = float(len(Y[take]) if weights is None else weights.sum())
        if weight == 0:
            continue
        chunk_loss = network.loss_grad(X[take], Y[take], part, weights, 0.0, rng=rng)
        part *= weight
        grad += part
        data_loss += chunk_loss * weight
        total += weight
    grad *= 1.0 / total
    return network.add_penalty(grad, data_loss, total, alpha)


def batch_bounds(n, size, even=False):
    """``(start, stop)`` of each batch of ``size`` rows (at most) in ``n`` rows.

    Parameters
    ----------
    n : int
        Rows of the epoch.
    size : int
        Rows per batch.
    even : bool, default=False
        Where the last of ``k = ceil(n / size)`` batches of ``size`` rows would
        hold less than half as many, make the ``k`` batches equal to within
        one row instead (see :class:`Trainer`'s ``even_batches``).

    Returns
    -------
    list of tuple of int
    """
    k = -(-n // size)
    last = n - (k - 1) * size  # the last batch of a plain cut
    if even and 2 * last < size:
        bounds = [i * n // k for i in range(k + 1)]
    else:
        bounds = [min(i * size, n) for i in range(k + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


class Buffers:
    """Arrays a :class:`Trainer` reuses from batch to batch (and, given to the
    next trainer of the same network, from call to call).

    Attributes
    ----------
    grad : ndarray of shape (n_params,) or None
        The gradient of the current batch.
    part : ndarray of shape (n_params,) or None
        One chunk's gradient of a full batch.
    rows : tuple or None
        ``(X, Y, sample_weight)`` buffers of gathered batch rows (``X`` None
        for sparse input, ``sample_weight`` None without weights).
    """

    def __init__(self):
        self.grad = self.part = self.rows = None

    def gradient(self, params):
        """The buffer for a batch gradient, made anew if ``params`` changed shape or dtype.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The network's flat parameters.

        Returns
        -------
        ndarray of shape (n_params,)
            :attr:`grad`, of ``params``' dtype; its values are left over.
        """
        return self._like("grad", params)

    def chunk_gradient(self, params):
        """The buffer for one chunk's gradient, made anew if ``params`` changed shape or dtype.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The network's flat parameters.

        Returns
        -------
        ndarray of shape (n_params,)
            :attr:`part`, of ``params``' dtype; its values are left over.
        """
        return self._like("part", params)

    def _like(self, name, params):
        """The buffer ``name``, made anew unless it has ``params``' shape and dtype."""
        buf = getattr(self, name)
        if buf is None or buf.shape != params.shape or buf.dtype != params.dtype:
            buf = aligned_empty(params.shape, params.dtype)
            setattr(self, name, buf)
        return buf

    def gathered(self, m, X, Y, sample_weight):
        """Buffers for batches of up to ``m`` rows of ``X``, ``Y`` and the weights.

        The buffers in :attr:`rows` are returned when they still fit (at least
        ``m`` rows, the same kind of ``X``, the same columns and dtypes), so
        they may hold ``n_buffered > m`` rows; otherwise new ones of ``m`` rows
        replace them.  Their values are left over from the last batch.

        Parameters
        ----------
        m : int
            The most rows a batch gathers.
        X : ndarray or CSR matrix of shape (n_samples, n_features)
            The training rows; a sparse ``X`` gets no buffer (a batch of its
            rows is a small CSR matrix of its own).
        Y : ndarray of shape (n_samples, n_outputs)
            Encoded targets of the rows of ``X``.
        sample_weight : ndarray of shape (n_samples,) or None
            Weights of the rows of ``X``; None gets no buffer.

        Returns
        -------
        X_rows : ndarray of shape (n_buffered, n_features) or None
            Of ``X``'s dtype; None for a sparse ``X``.
        Y_rows : ndarray of shape (n_buffered, n_outputs)
            Of ``Y``'s dtype.
        weight_rows : ndarray of shape (n_buffered,) or None
            Of ``X``'s dtype; None without ``sample_weight``.
        """
        buf = self.rows
        if (
            buf is None
            or buf[1].shape[0] < m
            or (buf[0] is None) != issparse(X)
            or (buf[0] is not None and buf[0].shape[1] != X.shape[1])
            or (buf[2] is None) != (sample_weight is None)
            or buf[1].shape[1:] != Y.shape[1:]
            or buf[1].dtype != Y.dtype
        ):
            buf = self.rows = (
                None if issparse(X) else aligned_empty((m, X.shape[1]), X.dtype),
                aligned_empty((m, Y.shape[1]), Y.dtype),
                None if sample_weight is None else aligned_empty(m, X.dtype),
            )
        return buf


class Trainer:
    """Run epochs of an :class:`~sknumpynet.nn.network.MLP` with a step optimizer.

    Parameters
    ----------
    network : MLP
        Updated in place.
    optimizer : Optimizer
        A step optimizer (``stepwise``), e.g. an entry of
        :data:`~sknumpynet.nn.OPTIMIZERS` built with its learning rate.
    state : dict
        The optimizer state (see ``Optimizer.init_state``); updated in place.
    batch_rows : int
        Rows per step of a mini-batch epoch.
    alpha : float
        L2 penalty.
    shuffle : bool
        Visit rows in a new random order each epoch.
    rng : numpy.random.Generator
        Source of the epoch orders and, when the network has a positive
        dropout rate, of its dropout masks (drawn batch by batch, after the
        epoch's order), so one seed gives one model.  The end-of-epoch probe
        never drops units; dropout is a matter of the step optimizers only.
    full_batch : bool, default=False
        One step per epoch on every training row instead (``batch_rows`` and
        ``shuffle`` are then unused).
    guard : DivergenceGuard, optional
        Refuses exploded objectives; the first batch it sees sets its limit
        (default: a new guard with the default factor).
    interrupt : object, optional
        Flag object from :func:`deferred_interrupt`.
    probe : ndarray of int, optional
        Rows on which the weights after an epoch's last step are scored against
        the guard's limit (no batch of the epoch sees that step); None skips this.
    block_rows : int, optional
        With ``shuffle``, visit the rows as shuffled blocks of this many
        consecutive rows, each block's rows shuffled within it, instead of one
        permutation of all rows: the reads of an epoch then stay within one
        block at a time, which keeps a memory-mapped ``X`` disk-friendly
        (page-cache sized reads rather than random rows across the whole
        file), at the price of batches drawn from one block rather than from
        the whole data.  None (in-memory data) shuffles fully.
    chunk_rows : int, optional
        Rows per pass of a full-batch gradient (default: all at once).
    buffers : Buffers, optional
        Where the trainer keeps its reused arrays; pass the same object to the
        next Trainer of the same network to reuse them.
    even_batches : bool, default=False
        Keep the batches of an epoch's ``n`` rows nearly equal: where cutting
        ``k = ceil(n / batch_rows)`` batches of ``batch_rows`` would leave a
        last batch of less than half as many rows, make the ``k`` batches equal
        to within one row instead (``batch_size="auto"``, whose ``batch_rows``
        is ``ceil(n / k)``: from about 20,000 rows the plain cut can end on a
        batch of one row, whose L2 term weighs as much as a whole batch's).
        False: batches of ``batch_rows`` and a shorter last one, as
        scikit-learn cuts them.
    """

    def __init__(
        self,
        network,
        optimizer,
        state,
        *,
        batch_rows,
        alpha,
        shuffle,
        rng,
        full_batch=False,
        guard=None,
        interrupt=None,
        probe=None,
        block_rows=None,
        chunk_rows=None,
        buffers=None,
        even_batches=False,
    ):
        self.network, self.optimizer, self.state = network, optimizer, state
        self.batch_rows, self.full_batch = batch_rows, full_batch
        self.alpha, self.shuffle, self.rng = alpha, shuffle, rng
        if guard is None:
            guard = DivergenceGuard(network.head, dtype=network.dtype)
        self.guard = guard
        self.interrupt = interrupt or _InterruptFlag()
        self.probe, self.block_rows, self.chunk_rows = probe, block_rows, chunk_rows
        self.buffers = Buffers() if buffers is None else buffers
        self.grad = self.buffers.gradient(network.params)
        self.even_batches = even_batches

    def _order(self, n, indices):
        """This epoch's order of the rows ``indices`` (all ``n`` rows if None)."""
        block = self.block_rows
        if block is None or (n if indices is None else len(indices)) <= block:
            return self.rng.permutation(n if indices is None else indices)
        rows = np.arange(n) if indices is None else np.asarray(indices)
        starts = self.rng.permutation(np.arange(0, len(rows), block))
        return np.concatenate([self.rng.permutation(rows[i : i + block]) for i in starts])

    def _drop_rng(self):
        # Masks come from the fit's generator; without dropout the call is
        # unchanged (a network need not even accept ``rng`` then).
        return self.rng if any(getattr(self.network, "dropout", ())) else None

    def epoch(self, X, Y, sample_weight=None, indices=None):
        """Train one pass over the rows ``indices`` of ``X``.

        Parameters
        ----------
        X : ndarray or CSR matrix of shape (n_samples, n_features)
            The rows of the call, the training rows among them; read, never
            copied whole.
        Y : ndarray of shape (n_samples, n_outputs)
            Encoded targets, same dtype as ``X``.
        sample_weight : ndarray of shape (n_samples,), optional
            Weights of the rows of ``X``; None weighs every row 1.
        indices : ndarray of int, optional
            Rows to train on (default: all), each in ``[0, n_samples)``.

        Returns
        -------
        float
            Mean of the batch objectives, each weighted by its batch's total
            sample weight (its row count without weights); with dropout, those
            of the thinned networks the steps were taken on.

        Raises
        ------
        ValueError
            If ``Y`` or ``sample_weight`` has not one row per row of ``X``, a
            weight is negative or NaN, every training row has weight 0, or
            ``indices`` is empty or not 1-D (checked before any step).
        IndexError
            If ``indices`` holds anything but integer row numbers of ``X``
            (a boolean mask included).
        Diverged
            If a batch objective is not finite or reaches the guard's limit;
            the weights are those before it.
        NotFiniteAtStart
            If the call's first objective is not finite.
        KeyboardInterrupt
            If the interrupt flag was raised; the weights are those after the
            last completed step.
        """
        # Once per call, not per batch: the batches then only compare shapes.
        indices = check_rows(X, Y, sample_weight, indices, "indices")
        if self.full_batch:
            loss = self._full_batch(X, Y, sample_weight, indices)
        else:
            loss = self._mini_batches(X, Y, sample_weight, indices)
        self.optimizer.flush(self.network.params, self.state)  # issue 14: none outlives an epoch
        self._check_last_step(X, Y, sample_weight)
        return loss

    def _penalty(self, weights):
        """The L2 term of the objective just computed, for the guard to read a
        weighted batch's objective by (see :class:`DivergenceGuard`); 0 without
        weights, where no batch needs it."""
        return 0.0 if weights is None else self.network.last_penalty

    def _step(self, loss, Y, weights, batch, penalty=0.0):
        """Take the optimizer step for a batch whose objective was ``loss``."""
        # One comparison catches NaN, inf and an exploded but finite loss.
        if not self.guard.admits(loss, Y, weights, penalty):
            judged = self.guard.normalised(loss, weights, penalty)  # what was compared
            raise Diverged(
                f"training loss {judged:.4g} at batch {batch} is not below {self.guard.limit:.4g}"
            )
        self.optimizer.step(self.network.params, self.grad, self.state)
        if self.interrupt.requested:
            self.optimizer.flush(self.network.params, self.state)  # issue 14: none outlives a call
            raise KeyboardInterrupt

    def _full_batch(self, X, Y, sample_weight, indices):
        scratch = self.buffers.chunk_gradient(self.network.params)
        loss = full_batch_loss_grad(
            self.network,
            X,
            Y,
            self.grad,
            sample_weight,
            self.alpha,
            rows=indices,
            chunk_rows=self.chunk_rows or X.shape[0],
            scratch=scratch,
            rng=self._drop_rng(),
        )
        if self.guard.scale is None:  # a guard without the call's targets: the probe rows'
            rows = slice(None) if self.probe is None else self.probe
            weights = None if sample_weight is None else sample_weight[rows]
            self._step(loss, Y[rows], weights, 0)
        else:
            self._step(loss, None, None, 0)
        return loss

    def _mini_batches(self, X, Y, sample_weight, indices):
        n = X.shape[0] if indices is None else len(indices)
        size = min(self.batch_rows, n)
        order = self._order(X.shape[0], indices) if self.shuffle else indices
        if order is not None:
            xb, yb, wb = self.buffers.gathered(size, X, Y, sample_weight)
        total_loss = total_weight = 0.0
        drop_rng = self._drop_rng()
        for batch, (start, stop) in enumerate(batch_bounds(n, size, self.even_batches)):
            if order is None:  # rows in place: slices are views, nothing copied
                Xb, Yb = X[start:stop], Y[start:stop]
                wb_ = None if sample_weight is None else sample_weight[start:stop]
            else:
                rows, m = order[start:stop], stop - start
                # mode="clip": with out=, the default "raise" gathers into a hidden
                # buffer first; epoch() has checked that every row is in range. A
                # sparse X (CSR) gives its rows as a small CSR matrix instead.
                Xb = X[rows] if xb is None else np.take(X, rows, axis=0, out=xb[:m], mode="clip")
                Yb = np.take(Y, rows, axis=0, out=yb[:m], mode="clip")
                wb_ = None
                if sample_weight is not None:
                    wb_ = np.take(sample_weight, rows, out=wb[:m], mode="clip")
            weight = float(stop - start) if wb_ is None else float(wb_.sum())
            if weight == 0:
                continue
            if drop_rng is None:
                loss = self.network.loss_grad(Xb, Yb, self.grad, wb_, self.alpha)
            else:
                loss = self.network.loss_grad(Xb, Yb, self.grad, wb_, self.alpha, rng=drop_rng)
            self._step(loss, Yb, wb_, batch, self._penalty(wb_))
            total_loss += loss * weight
            total_weight += weight
        if total_weight == 0:
            raise ValueError("sample_weight: every training row has weight 0.")
        return total_loss / total_weight

    def _check_last_step(self, X, Y, sample_weight):
        """Raise :class:`Diverged` if the weights after the last step exploded."""
        net = self.network
        if not np.isfinite(net.params).all():
            raise Diverged("the last step made a weight NaN or infinite")
        if self.probe is None or self.guard.limit is None:
            return
        loss = probe_objective(net, X, Y, sample_weight, self.probe, self.alpha)
        weights = _probe_weights(sample_weight, self.probe)
        loss = self.guard.normalised(loss, weights, self._penalty(weights))
        if not loss < self.guard.limit:
            raise Diverged(
                f"training loss {loss:.4g} after the last step is not below {self.guard.limit:.4g}"
            )
