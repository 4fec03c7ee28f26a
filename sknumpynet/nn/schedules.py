"""Learning-rate schedules: the step size of each epoch.

A schedule gives the learning rate ``lr_e`` of epoch ``e`` (counted from the
start of the schedule: the fit, or the first of a run of ``partial_fit``
calls) from ``lr_0 = learning_rate_init``:

==========  ====================================================================
name        ``lr_e``
==========  ====================================================================
constant    ``lr_0``
invscaling  ``lr_0`` for ``e = 0``, then ``lr_0 / (t + 1) ** power_t`` with ``t``
            the training samples seen before the epoch (scikit-learn's rule)
adaptive    ``lr_0``, divided by 5 each time the patience runs out (more than
            ``n_iter_no_change`` epochs without improvement); training stops
            once the rate is at most 1e-6 (scikit-learn's rule)
cosine      ``lr_0 (1 + cos(pi e / E)) / 2`` with ``E = max_iter``: annealing
            towards 0 over the fit (epochs past ``E`` keep the last rate)
==========  ====================================================================

The optimizer multiplies its step by ``lr_e``; every optimizer takes a schedule
(L-BFGS picks its own step lengths and takes none).  To add a schedule, write a
class with ``rate`` (and ``on_patience_exhausted`` if it reacts to stalls) and
add one entry to :data:`SCHEDULES`.
"""

import math

# The rate below which "adaptive" stops training instead of dividing again.
ADAPTIVE_FLOOR = 1e-6


class Constant:
    """The same rate every epoch."""

    @staticmethod
    def rate(init, current, *, epoch, samples_seen, max_epochs, power_t):
        """Learning rate of epoch ``epoch`` (0-based from the schedule's start).

        Parameters
        ----------
        init : float
            ``learning_rate_init``.
        current : float
            The rate of the previous epoch (``init`` at the start).
        epoch : int
            Epochs since the schedule started.
        samples_seen : int
            Training samples seen before this epoch (the estimator's ``t_``).
        max_epochs : int
            ``max_iter``.
        power_t : float
            Exponent of ``invscaling``.

        Returns
        -------
        float
        """
        return init

    @staticmethod
    def on_patience_exhausted(current):
        """``(new_rate, keep_training)`` when the patience runs out: stop here."""
        return current, False


class InvScaling(Constant):
    """``lr_0 / (t + 1) ** power_t`` after the first epoch."""

    @staticmethod
    def rate(init, current, *, epoch, samples_seen, max_epochs, power_t):
        if epoch == 0:
            return init
        try:
            return init / (samples_seen + 1) ** power_t
        except OverflowError:  # (t + 1) ** power_t beyond the floats: 0 to float precision
            return 0.0


class Adaptive(Constant):
    """Divide by 5 whenever the patience runs out; stop at 1e-6."""

    @staticmethod
    def rate(init, current, *, epoch, samples_seen, max_epochs, power_t):
        return current

    @staticmethod
    def on_patience_exhausted(current):
        if current <= ADAPTIVE_FLOOR:
            return current, False
        return current / 5.0, True


class Cosine(Constant):
    """Cosine annealing from ``lr_0`` towards 0 over ``max_iter`` epochs."""

    @staticmethod
    def rate(init, current, *, epoch, samples_seen, max_epochs, power_t):
        # A schedule is never constructed (its methods are static), so the
        # epoch count is checked where it divides.
        if not max_epochs >= 1:
            raise ValueError(
                f"max_epochs must be >= 1 for the cosine schedule (it anneals over "
                f"max_epochs epochs); got {max_epochs!r}."
            )
        e = min(epoch, max_epochs - 1)
        return init * 0.5 * (1.0 + math.cos(math.pi * e / max_epochs))


SCHEDULES = {"constant": Constant, "invscaling": InvScaling, "adaptive": Adaptive, "cosine": Cosine}
"""Registry of learning-rate schedules by name."""
