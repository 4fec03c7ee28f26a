"""Optimizers: the only code that changes the weights.

Every optimizer works on one flat parameter vector ``w`` and its gradient
``g`` (both of shape ``(n_params,)``), and keeps its state as plain arrays of
the same shape in a ``dict``, so the state can be saved, restored and
inspected like the weights.  ``step(w, g, state)`` updates ``w`` in place:

=========  =================================================================
name       update (``lr`` is the learning rate)
=========  =================================================================
gd         ``w -= lr g`` over the whole training set each step
sgd        ``w -= lr g`` over each mini-batch
momentum   ``v = b v + (1 - b) g``;  ``w -= lr v``
nesterov   ``v = b v + (1 - b) g``;  ``w -= lr (b v + (1 - b) g)``
rmsprop    ``s = rho s + (1 - rho) g**2``;  ``w -= lr g / (sqrt(s) + eps)``
adam       ``t += 1``; ``m = b1 m + (1 - b1) g``; ``s = b2 s + (1 - b2) g**2``;
           ``w -= lr_t m / (sqrt(s) + eps)`` with
           ``lr_t = lr sqrt(1 - b2**t) / (1 - b1**t)``
=========  =================================================================

Nesterov's look-ahead (the gradient taken at ``w - lr b v``) is written in the
usual re-parametrised form (Bengio et al., 2013), where the stored parameters
are the look-ahead point: the step is the new velocity looked one step further.
Adam is written as in section 2 of Kingma & Ba (2015), the bias corrections
folded into the step size, as scikit-learn's MLPs (and Keras) write it; their
algorithm 1 (PyTorch's form) adds ``eps`` to ``sqrt(s_hat)`` instead, which
differs in the first steps where ``eps`` is not small beside the gradients.

The state stores each moving average ``v = b v + (1 - b) x`` as the
exponentially weighted *sum* ``V = b V + x`` (so ``v = (1 - b) V``), and the
update folds ``1 - b`` into its scalar factors: updating a sum takes two passes
over the vector where the average takes three (``x`` must be scaled first), and
a step is a handful of passes over arrays too large for the fastest caches.
:attr:`Optimizer.decays` names those arrays and their rates.

Every ``FLUSH_EVERY`` steps, and whenever the trainer calls
:meth:`Optimizer.flush` (at the end of every epoch), the subnormal entries of
``w`` and of the state arrays are set to zero: weights that only the L2
penalty reaches, and their state, would otherwise decay into the subnormal
range and stay there, slowing every step (see :mod:`sknumpynet.nn.subnormals`).

``lbfgs`` (:class:`~sknumpynet.nn.lbfgs.LBFGS`) is registered here too but
takes no steps of its own: it runs SciPy's L-BFGS-B over the whole training
set (``stepwise = False``).

To add an optimizer, subclass :class:`Optimizer`, write its update in
``_update(w, g, state)`` (``step`` counts the step and flushes around it; the
update may use ``g`` as scratch space), list the hyperparameters it reads in
``hyperparameters`` (those that must be > 0 also in ``positive``; the
decay rates of ``decays`` must be in ``[0, 1)``) and its state arrays in
``state_names`` (those that keep a moving average as a sum also in
``decays``), say how
scikit-learn's MLPs come closest to it (``sklearn_solver``,
:meth:`Optimizer.sklearn_settings`) and add one entry to :data:`OPTIMIZERS`:
the estimators' validation, the mapping to scikit-learn and the tests are
built from the registry, and so are the estimators' docstrings when the entry
is registered before :mod:`sknumpynet` imports them.
"""

import math

import numpy as np

from .checks import real_number
from .lbfgs import LBFGS
from .memory import aligned_empty, aligned_zeros
from .subnormals import flush_subnormals, flush_work

# A flush reads each array three times, a fraction of one step's passes: spread
# over 32 steps it is lost in the noise, and a value that has just become
# subnormal slows at most 32 steps before it is zeroed.  On MNIST, flushing
# every 8 to 128 steps trained equally fast, while flushing only at the ends of
# epochs left the epoch in which most zero-fed weights turned subnormal slower.
FLUSH_EVERY = 32
"""Steps between two flushes of subnormal weights and state (see :meth:`Optimizer.flush`)."""


class Optimizer:
    """Base class: plain gradient descent on whatever batches it is given.

    Parameters
    ----------
    learning_rate : float
        Step size ``lr``, a finite number > 0.
    **hyperparameters
        A value for each name in the class attribute ``hyperparameters`` and
        for no other: the decay rates (named in ``decays``) in ``[0, 1)``, those
        in ``positive`` > 0, every one a finite real number.

    Raises
    ------
    TypeError
        If a hyperparameter of the class is missing or an unknown one is given.
    ValueError
        If ``learning_rate`` or a hyperparameter is out of its range.
    """

    hyperparameters = ()
    # Hyperparameters that must be > 0 (epsilon: at 0 a gradient entry that is
    # exactly 0, from a dead unit or an always-zero feature, divides 0 by 0).
    positive = ()
    full_batch = False
    # One step per batch (so a chunk at a time, partial_fit); False for a
    # solver that drives the whole minimisation itself (L-BFGS).
    stepwise = True
    state_names = ()
    # State arrays holding an exponentially weighted sum, with the name of the
    # hyperparameter that is its decay rate (see state_from_averages).
    decays = {}
    flush_every = FLUSH_EVERY
    # Steps divided by a running root mean square of the gradients (rmsprop,
    # adam): a gradient many times the usual makes a step of about the usual
    # size, not one many times larger.
    normalised_steps = False
    # The step size of learning_rate_init="auto": the customary 0.01 of plain
    # and momentum SGD (with momentum's averaged velocity, exactly the steps of
    # scikit-learn's solver="sgd" at its defaults, 0.001 and momentum 0.9).
    default_learning_rate = 0.01
    # scikit-learn's solver that takes the same steps (see sklearn_settings).
    sklearn_solver = "sgd"

    def __init__(self, learning_rate, **hyperparameters):
        self.learning_rate = real_number(learning_rate, "learning_rate", " > 0", lambda v: v > 0)
        rule = type(self).__name__
        missing = [name for name in self.hyperparameters if name not in hyperparameters]
        if missing:
            raise TypeError(
                f"{rule} needs the hyperparameters {list(self.hyperparameters)}; missing {missing}."
            )
        # A misspelt or foreign name (amsgrad=True) would otherwise be ignored
        # without a word; the estimators pass exactly the names listed.
        unknown = sorted(set(hyperparameters) - set(self.hyperparameters))
        if unknown:
            raise TypeError(
                f"{rule} takes the hyperparameters {list(self.hyperparameters)} only; "
                f"got unknown {unknown}."
            )
        rates = set(self.decays.values())
        for name in self.hyperparameters:
            value = hyperparameters[name]
            if name in rates:
                # At 1 the sums never decay: Adam's and RMSProp's corrections
                # divide by 1 - b**t = 0, momentum's velocity stays at 0.
                number = real_number(value, name, " >= 0 and < 1", lambda v: 0 <= v < 1)
            elif name in self.positive:
                number = real_number(value, name, " > 0", lambda v: v > 0)
            else:
                number = real_number(value, name)
            setattr(self, name, number)

    @classmethod
    def learning_rate_for(cls, value):
        """The step size a ``learning_rate_init`` of ``value`` means for this rule.

        Parameters
        ----------
        value : float or "auto"
            ``"auto"`` is :attr:`default_learning_rate`.

        Returns
        -------
        float or None
            None for a rule that picks its own steps (L-BFGS).
        """
        if value == "auto":
            return cls.default_learning_rate
        return float(value)

    @classmethod
    def sklearn_settings(cls, hyperparameters):
        """Settings of scikit-learn's MLP (``solver=cls.sklearn_solver``) for the
        same update rule, and a note where there is none.

        Parameters
        ----------
        hyperparameters : dict
            The estimator's ``get_params()``, ``learning_rate_init`` resolved
            (:meth:`learning_rate_for`).

        Returns
        -------
        settings : dict
            Parameters of ``MLPClassifier`` / ``MLPRegressor`` beyond the shared ones.
        note : str or None
            What scikit-learn cannot match.
        """
        return {"momentum": 0.0}, None

    @classmethod
    def state_from_averages(cls, state, hyperparameters):
        """Turn state arrays that hold moving averages into the sums this module keeps.

        For state saved in the other convention (``v = (1 - b) V``, see the
        module docstring): each array named in :attr:`decays` is replaced by
        itself divided by ``1 - b`` (a new array: the saved one may be
        read-only, e.g. memory-mapped by ``joblib.load``).

        Parameters
        ----------
        state : dict
            As returned by :meth:`init_state`, holding averages; updated.
        hyperparameters : dict
            Values of the decay rates named in :attr:`decays`.
        """
        for name, rate in cls.decays.items():
            state[name] = state[name] / (1.0 - float(hyperparameters[rate]))

    def rescale_sums(self, state, rates):
        """Continue sums kept at other decay rates at this optimizer's, in place.

        A sum ``V`` kept at rate ``b`` holds the average ``v = (1 - b) V``; read
        at a changed rate ``b'`` it would be the average ``(1 - b') V``, a step
        ``(1 - b') / (1 - b)`` times too large or too small (a hundredfold when
        ``momentum`` goes from 0.99 to 0.9999).  Scaled by
        ``(1 - b) / (1 - b')``, each average carries on unchanged at the new
        rate, as an averaged optimizer whose rate changed would continue.

        Parameters
        ----------
        state : dict
            As returned by :meth:`init_state`; the arrays named in
            :attr:`decays` are rescaled in place.
        rates : dict
            The decay hyperparameters (names as in :attr:`decays`) the sums
            were kept at; a missing name is taken to be unchanged.
        """
        current = self.decay_rates()
        for name, rate in self.decays.items():
            old, new = float(rates.get(rate, current[rate])), current[rate]
            if old != new:
                state[name] *= (1.0 - old) / (1.0 - new)

    def decay_rates(self):
        """``{hyperparameter: value}`` of the decay rates named in :attr:`decays`."""
        return {rate: getattr(self, rate) for rate in self.decays.values()}

    def init_state(self, w):
        """Zeroed state for parameters ``w``: a dict of arrays shaped like ``w``.

        Parameters
        ----------
        w : ndarray of shape (n_params,)
            The flat parameters the state will follow; only their shape and
            dtype are read.

        Returns
        -------
        dict
            One zeroed array of ``w``'s shape and dtype for each name in
            :attr:`state_names`, and the step count ``"t"``, 0.
        """
        state = {name: aligned_zeros(w.shape, w.dtype) for name in self.state_names}
        state["t"] = 0
        return state

    def step(self, w, g, state):
        """Update ``w`` in place from gradient ``g``; advance ``state``.

        Every ``flush_every`` steps the step ends with :meth:`flush`.

        Parameters
        ----------
        w : ndarray of shape (n_params,)
            Parameters, updated in place.
        g : ndarray of shape (n_params,)
            Gradient of the loss at ``w``; overwritten (the update uses it as
            its scratch space).
        state : dict
            The state returned by :meth:`init_state`, updated in place.

        Raises
        ------
        ValueError
            If ``g`` has not the shape of ``w`` (NumPy would broadcast it).
        """
        if g.shape != w.shape:
            raise ValueError(f"g must have the shape of w, {w.shape}; got {g.shape}.")
        state["t"] += 1
        self._update(w, g, state)
        if state["t"] % self.flush_every == 0:
            self.flush(w, state)

    def _update(self, w, g, state):
        g *= self.learning_rate
        w -= g

    def flush(self, w, state):
        """Set the subnormal entries of ``w`` and of the state arrays to zero.

        Called every ``flush_every`` steps by :meth:`step` and, by the trainer,
        at the end of every epoch, so no subnormal survives a call.  Flushing
        moves a value by less than the smallest normal float and is exact
        otherwise (see :mod:`sknumpynet.nn.subnormals`).

        Parameters
        ----------
        w : ndarray of shape (n_params,)
            Parameters, flushed in place.
        state : dict
            As returned by :meth:`init_state`; its arrays are flushed in place.

        Returns
        -------
        int
            How many entries were flushed.
        """
        work = getattr(self, "_flush_work", None)
        if work is None or work[0].shape != w.shape or work[0].itemsize != w.itemsize:
            self._flush_work = work = flush_work(w.size, w.dtype)
        return sum(
            flush_subnormals(x, work) for x in (w, *(state[name] for name in self.state_names))
        )


class GD(Optimizer):
    """Full-batch gradient descent: one step per epoch on every sample."""

    full_batch = True


class SGD(Optimizer):
    """Mini-batch stochastic gradient descent."""


class Momentum(Optimizer):
    """Gradient descent with an exponentially averaged velocity.

    The state's ``velocity`` is the sum ``V = b V + g``; the averaged velocity
    of the module docstring is ``v = (1 - b) V``.
    """

    hyperparameters = ("momentum",)
    state_names = ("velocity",)
    decays = {"velocity": "momentum"}
    nesterov = False

    @classmethod
    def sklearn_settings(cls, hyperparameters):
        # scikit-learn's v = b v - lr' g takes the steps of v = b v + (1 - b) g
        # with lr = lr' / (1 - b): its rate is ours times (1 - b).
        # Under a schedule the rules part: its velocity keeps each past step's
        # rate, ours is scaled by the current rate as a whole.
        b = hyperparameters["momentum"]
        schedule = hyperparameters.get("learning_rate", "constant")
        note = None
        if schedule != "constant":
            note = (
                f"takes the steps of {cls.__name__.lower()} at a constant learning rate only; "
                f"under learning_rate={schedule!r} its velocity keeps each past step's rate"
            )
        return {
            "momentum": b,
            "nesterovs_momentum": cls.nesterov,
            "learning_rate_init": hyperparameters["learning_rate_init"] * (1 - b),
        }, note

    def _update_velocity(self, g, state):
        V = state["velocity"]
        V *= self.momentum
        V += g
        return V

    def _update(self, w, g, state):
        V = self._update_velocity(g, state)
        np.multiply(V, self.learning_rate * (1 - self.momentum), out=g)
        w -= g


class Nesterov(Momentum):
    """Momentum with Nesterov's look-ahead (re-parametrised form)."""

    nesterov = True

    def _update(self, w, g, state):
        # w -= lr (b v + (1 - b) g) with v = (1 - b) V, taken as two
        # subtractions so that g is the only scratch space.
        V = self._update_velocity(g, state)
        rate = self.learning_rate * (1 - self.momentum)
        g *= rate
        w -= g
        np.multiply(V, rate * self.momentum, out=g)
        w -= g


class RMSProp(Optimizer):
    """Gradient scaled by a running root mean square of past gradients.

    The state's ``square_avg`` is the sum ``S = rho S + g**2``; the running
    mean of the module docstring is ``s = (1 - rho) S``.
    """

    hyperparameters = ("rho", "epsilon")
    positive = ("epsilon",)
    normalised_steps = True
    state_names = ("square_avg",)
    decays = {"square_avg": "rho"}
    default_learning_rate = 0.001
    sklearn_solver = "adam"

    @classmethod
    def sklearn_settings(cls, hyperparameters):
        return {}, "has no rmsprop; it uses adam"

    def _buffer(self, w):
        # One scratch buffer reused by every step, so a step allocates nothing.
        scratch = getattr(self, "_scratch", None)
        if scratch is None or scratch.shape != w.shape or scratch.dtype != w.dtype:
            self._scratch = scratch = aligned_empty(w.shape, w.dtype)
        return scratch

    def _update(self, w, g, state):
        # g / (sqrt(s) + eps) == g / (sqrt(S) + eps / q) / q with q = sqrt(1 - rho).
        tmp = self._buffer(w)
        S = state["square_avg"]
        S *= self.rho
        np.multiply(g, g, out=tmp)
        S += tmp
        q = math.sqrt(1 - self.rho)
        np.sqrt(S, out=tmp)
        tmp += self.epsilon / q
        g /= tmp
        g *= self.learning_rate / q
        w -= g


class Adam(Optimizer):
    """Adaptive moments with bias correction (Kingma & Ba, 2015).

    The state's ``m`` and ``s`` are the sums ``M = b1 M + g`` and
    ``S = b2 S + g**2``; the moments of the module docstring are
    ``m = (1 - b1) M`` and ``s = (1 - b2) S``.
    """

    hyperparameters = ("beta_1", "beta_2", "epsilon")
    positive = ("epsilon",)
    normalised_steps = True
    state_names = ("m", "s")
    decays = {"m": "beta_1", "s": "beta_2"}
    default_learning_rate = 0.001  # scikit-learn's and Kingma & Ba's
    sklearn_solver = "adam"

    @classmethod
    def sklearn_settings(cls, hyperparameters):
        return {}, None

    def _update(self, w, g, state):
        t = state["t"]
        M, S = state["m"], state["s"]
        b1, b2 = self.beta_1, self.beta_2
        # g is the only scratch space, so four arrays (w, g, M, S) share the
        # cache where a fifth would push them out of it.
        M *= b1
        M += g
        np.multiply(g, g, out=g)
        S *= b2
        S += g
        # With m = (1 - b1) M and s = q**2 S, where q = sqrt(1 - b2):
        # lr_t m / (sqrt(s) + eps) == (lr_t (1 - b1) / q) * M / (sqrt(S) + eps / q),
        # the same update with scalar factors instead of array-wide divisions.
        # Python floats keep float32 arithmetic in float32 (NumPy scalars would
        # promote every ufunc to float64).
        q = math.sqrt(1 - b2)
        step_size = self.learning_rate * math.sqrt(1 - b2**t) / (1 - b1**t) * (1 - b1) / q
        np.sqrt(S, out=g)
        g += self.epsilon / q
        np.divide(M, g, out=g)
        g *= step_size
        w -= g


OPTIMIZERS = {
    "gd": GD,
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "rmsprop": RMSProp,
    "adam": Adam,
    "lbfgs": LBFGS,
}
"""Registry of optimizers by name."""
