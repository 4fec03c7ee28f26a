"""The decisions of one ``fit`` or ``partial_fit`` call, each made once.

A call asks the same questions whatever the estimator: does it continue from
the fitted weights or start anew?  Does it step once per mini-batch or once
per epoch on every row?  Is there a validation set, and does it decide when to
stop?  How many rows does a batch, a probe, a chunk of a full batch hold?
:class:`CallPlan` answers each in one place at the start of the call, and the
engine, the trainer and the records follow its answers instead of asking
again.
"""

from dataclasses import dataclass

import numpy as np
from sklearn import get_config

from . import _data
from .exceptions import warn_user
from .nn import OPTIMIZERS

# Whole weight vectors (the end of each epoch) are scored on at most this many
# evenly spaced training rows: an exploded step shows on any dozen rows.
PROBE_ROWS = 256
# A partial_fit call scores a 32nd of its chunk, at least this many rows: a
# whole batch would be a fifth of the work of a small call.
PROBE_MIN_ROWS = 16
# batch_size="auto": the fewest nearly equal batches of at most AUTO_MAX_ROWS
# (scikit-learn's 200), but at least AUTO_BATCHES while each keeps
# AUTO_MIN_ROWS rows. scikit-learn's min(200, n) makes an epoch of fewer than
# 200 rows one full-batch step (200 Adam steps in the default 200 epochs, too
# few for iris) and can end an epoch on a batch of a few rows, whose step is
# noisy and whose L2 term is divided by its small weight (docs/user_guide.rst,
# "default-batch").
AUTO_BATCHES = 2
AUTO_MIN_ROWS = 32
AUTO_MAX_ROWS = 200


@dataclass(frozen=True)
class CallPlan:
    """What one call does.

    Attributes
    ----------
    partial : bool
        A ``partial_fit`` call: one epoch, and the estimator keeps its network
        and buffers for the next call.  Otherwise a ``fit``: up to
        ``max_iter`` epochs, and nothing but the fitted state is kept.
    fresh : bool
        Start from newly drawn weights and empty records (a first call, or a
        ``fit`` without ``warm_start``); otherwise continue the fitted ones.
    solver : type
        The optimizer's registry entry.
    epochs : int
        Most epochs (L-BFGS iterations) of the call.
    full_batch : bool
        One step per epoch on the gradient of every training row.
    shuffle : bool
        Mini-batches visit the rows in a new random order each epoch.
    early_stopping : bool
        The validation score decides when to stop and which weights are kept.
    validation : {"given", "held_out"} or None
        Where the validation set comes from: ``X_val``/``y_val``, a
        ``validation_fraction`` of the rows, or none.
    disk : bool
        ``X`` is a memory map, visited in blocks of consecutive rows.
    batch_size : int or "auto"
        The ``batch_size`` hyperparameter.
    learning_rate : float or None
        ``learning_rate_init``, with ``"auto"`` resolved to the optimizer's
        default (None for L-BFGS, which picks its own steps).
    """

    partial: bool
    fresh: bool
    solver: type
    epochs: int
    full_batch: bool
    shuffle: bool
    early_stopping: bool
    validation: str | None
    disk: bool
    batch_size: int | str
    learning_rate: float | None

    @classmethod
    def make(cls, est, *, partial, X, validation_given, dropout):
        """The plan of a call of ``est`` (hyperparameters validated) on ``X``.

        Raises
        ------
        ValueError
            For what the call cannot do: dropout with L-BFGS, early stopping
            in ``partial_fit`` or with nothing to hold out, a decay rate of 1
            for the optimizer that reads it (``momentum=1``), a memory map
            that would be copied whole.
        AttributeError
            For ``partial_fit`` with L-BFGS.
        """
        solver = OPTIMIZERS[est.optimizer]
        if any(dropout) and not solver.stepwise:
            raise ValueError(
                f"dropout needs a step optimizer; optimizer={est.optimizer!r} minimises one "
                "deterministic objective. Set dropout=0 or choose e.g. 'adam'."
            )
        if partial:
            est._can_partial_fit()  # a partial_fit bound before set_params(optimizer="lbfgs")
            if est.early_stopping:
                raise ValueError(
                    "partial_fit does not support early_stopping=True (each call sees one "
                    "chunk, with nothing held out); set early_stopping=False."
                )
        for rate in getattr(solver, "decays", {}).values():
            if getattr(est, rate) == 1:
                raise ValueError(
                    f"{rate}=1 cannot train with optimizer={est.optimizer!r}: it is the decay "
                    "b of a moving average a = b a + (1 - b) x, which at b = 1 never leaves "
                    f"zero, so the weights would never move. Set {rate} below 1."
                )
        fresh = not hasattr(est, "coefs_") or not (partial or est.warm_start)
        early_stopping = bool(est.early_stopping) and solver.stepwise
        if early_stopping and not validation_given and est.validation_fraction == 0:
            raise ValueError(
                "early_stopping=True holds out validation_fraction of the rows, which is 0: "
                "set validation_fraction in (0, 1), pass X_val and y_val, or set "
                "early_stopping=False."
            )
        return cls(
            partial=partial,
            fresh=fresh,
            solver=solver,
            # Python ints: arithmetic on a small numpy int (np.int8) would wrap.
            epochs=1 if partial else int(est.max_iter),
            full_batch=solver.full_batch,
            shuffle=bool(est.shuffle) and not solver.full_batch,
            early_stopping=early_stopping,
            validation="given" if validation_given else "held_out" if early_stopping else None,
            disk=_data.memory_mapped(X, None if fresh else est.coefs_[0].dtype),
            batch_size=est.batch_size if isinstance(est.batch_size, str) else int(est.batch_size),
            learning_rate=solver.learning_rate_for(est.learning_rate_init),
        )

    def batch_rows(self, n_train):
        """Rows per step: every training row for a full batch, else the batch size.

        ``"auto"``: ``k = max(ceil(n / 200), 2)`` batches (one below 64 rows) of
        ``ceil(n / k)`` rows, so the last batch is at most ``k - 1`` rows short (the
        trainer evens out a last batch of less than half as many rows: ``even_batches``).
        """
        if self.full_batch:
            return n_train
        size = auto_batch_rows(n_train) if self.batch_size == "auto" else self.batch_size
        if size > n_train:
            warn_user(
                f"batch_size={size} is larger than the {n_train} samples; using {n_train}.",
                UserWarning,
            )
        return min(size, n_train)

    def probe(self, n_train, rows, batch_rows):
        """Evenly spaced training rows on which the weights after an epoch are scored.

        Parameters
        ----------
        n_train : int
        rows : ndarray of int or None
            The training rows (None: all of ``X``).
        batch_rows : int
            The call's :meth:`batch_rows`: a probe is at most one batch.
        """
        size = min(batch_rows, PROBE_ROWS)
        if self.partial:
            size = min(size, max(PROBE_MIN_ROWS, n_train // 32))
        spaced = np.linspace(0, n_train - 1, min(size, n_train)).astype(np.intp)
        return spaced if rows is None else rows[spaced]

    def chunk_rows(self, X, layer_sizes):
        """Rows per forward/backward pass of a full-batch gradient.

        As many as fit scikit-learn's ``working_memory`` for one row's input,
        activations and deltas; for a memory map, also at most one block of
        consecutive rows, so the file is never gathered into memory whole.
        """
        itemsize = np.dtype(X.dtype).itemsize
        row_bytes = itemsize * (X.shape[1] + 2 * sum(layer_sizes[1:]))
        rows = max(1, int(get_config()["working_memory"] * 2**20 // row_bytes))
        if self.disk:
            rows = min(rows, _data.block_rows(X, 1))
        return rows

    def block_rows(self, X, batch_rows):
        """Rows per shuffled block of a memory-mapped ``X``; None in memory."""
        return _data.block_rows(X, batch_rows) if self.disk else None


def auto_batch_rows(n_train):
    """Rows per batch of ``batch_size="auto"`` on ``n_train`` training rows.

    ``k = max(ceil(n / 200), 2)`` batches (one below 64 rows) of ``ceil(n / k)``
    rows, so the last batch is at most ``k - 1`` rows short; where that is less
    than half a batch (from about 20,000 rows) the trainer makes the ``k`` batches
    equal to within one row (``Trainer(even_batches=True)``).

    Parameters
    ----------
    n_train : int

    Returns
    -------
    int
    """
    fewest = 1 if n_train < AUTO_BATCHES * AUTO_MIN_ROWS else AUTO_BATCHES
    batches = max(fewest, -(-n_train // AUTO_MAX_ROWS))
    return -(-n_train // batches)
