"""Full-batch training with L-BFGS (``optimizer="lbfgs"``).

L-BFGS (limited-memory BFGS) builds a quasi-Newton step from the last few
gradients and picks its length by a line search, so it needs the objective
``J(w)`` and its gradient on the *whole* training set at every trial point
``w``.  SciPy's ``L-BFGS-B`` does the optimisation over the flat parameter
vector; :meth:`MLP.loss_grad` evaluates ``J`` and ``dJ/dw`` for it.

An *iteration* is one accepted step (several function evaluations may be
needed to find it).  The run stops when the largest gradient entry falls
below ``tol``, after ``max_iter`` iterations, or after ``max_fun``
evaluations; ``max_iter`` and ``max_fun`` are the two caps of
:class:`LBFGS.run`.
"""

import numpy as np
import scipy.optimize

from .stops import NotFiniteAtStart
from .subnormals import flush_subnormals
from .training import full_batch_loss_grad


class _Stop(Exception):
    """Raised from the iteration callback to end the run early."""


class LBFGS:
    """L-BFGS over a network's flat parameters (no mini-batches, no step method).

    The registry entry of ``optimizer="lbfgs"``: unlike the step optimizers it
    drives the whole fit itself, so it has no state between calls and cannot
    train incrementally.

    Parameters
    ----------
    learning_rate : float, default=None
        Unused (the line search picks every step length); accepted so every
        registry entry is built alike.
    **hyperparameters
        None: L-BFGS reads no hyperparameter (``hyperparameters`` is empty).
        Accepted as a keyword catch-all only so that every registry entry is
        built alike, ``cls(learning_rate, **{h: ... for h in cls.hyperparameters})``.

    Raises
    ------
    TypeError
        If a hyperparameter is given: as for the step optimizers, a name the
        rule does not read is refused rather than ignored.
    """

    hyperparameters = ()
    full_batch = True
    stepwise = False
    default_learning_rate = None  # the line search picks every step
    sklearn_solver = "lbfgs"

    @classmethod
    def learning_rate_for(cls, value):
        """None: the line search picks every step, whatever ``learning_rate_init`` says.

        Parameters
        ----------
        value : float or "auto"
            The estimator's ``learning_rate_init``; ignored.

        Returns
        -------
        None
            L-BFGS has no step size to set.
        """
        return None

    @classmethod
    def sklearn_settings(cls, hyperparameters):
        """scikit-learn's ``solver="lbfgs"`` needs no further settings.

        Parameters
        ----------
        hyperparameters : dict
            The estimator's ``get_params()``; ignored.

        Returns
        -------
        settings : dict
            Empty: no parameters of ``MLPClassifier`` / ``MLPRegressor``
            beyond the shared ones.
        note : None
            scikit-learn's L-BFGS matches this one, so there is nothing to note.
        """
        return {}, None

    def __init__(self, learning_rate=None, **hyperparameters):
        if hyperparameters:
            raise TypeError(
                f"LBFGS takes no hyperparameters; got unknown {sorted(hyperparameters)}."
            )
        self.learning_rate = learning_rate

    def run(
        self,
        network,
        X,
        Y,
        sample_weight,
        alpha,
        *,
        max_iter,
        max_fun,
        tol,
        on_iteration,
        chunk_rows=None,
    ):
        """Minimise the objective from the network's current weights.

        Parameters
        ----------
        network : MLP
            Its ``params`` end as the last accepted iterate, with any subnormal
            weight set to zero.
        X : ndarray or CSR matrix of shape (n_samples, n_features)
            The training rows, all of them in every evaluation.
        Y : ndarray of shape (n_samples, n_outputs)
            Encoded targets.
        sample_weight : ndarray of shape (n_samples,) or None
            Weights of the rows in the objective; None weighs every row 1.
        alpha : float
            L2 penalty.
        max_iter, max_fun : int
            Caps on iterations and on objective evaluations.
        tol : float
            Stop when ``max |dJ/dw| <= tol`` (SciPy's ``gtol``).
        on_iteration : callable
            ``on_iteration(loss)`` after every accepted step, with ``J`` there
            and the network's weights set to that point; returning True stops
            the run.
        chunk_rows : int, optional
            Rows per forward/backward pass of each evaluation (default: all at
            once); see :func:`~sknumpynet.nn.training.full_batch_loss_grad`.

        Returns
        -------
        scipy.optimize.OptimizeResult
            With ``nit``, ``nfev``, ``status`` (0 converged, 1 a cap was hit)
            and ``message``; ``stopped`` is True when ``on_iteration`` ended it.

        Raises
        ------
        NotFiniteAtStart
            If the objective or its gradient at the starting weights is not finite.
        """
        grad, scratch = np.empty_like(network.params), np.empty_like(network.params)
        chunk_rows = chunk_rows or X.shape[0]
        last, counts = {}, {"nit": 0, "nfev": 0}

        def objective(w):
            counts["nfev"] += 1
            network.params[...] = w
            loss = full_batch_loss_grad(
                network, X, Y, grad, sample_weight, alpha, chunk_rows=chunk_rows, scratch=scratch
            )
            if counts["nfev"] == 1 and not (np.isfinite(loss) and np.isfinite(grad).all()):
                # SciPy would stop "ABNORMAL" with the starting weights, or take
                # them as converged: no step can start from a non-finite objective
                # (or gradient: a float32 one may overflow where J, a float, does not).
                raise NotFiniteAtStart(f"objective {loss} at the starting weights")
            last["loss"] = loss
            # L-BFGS-B works in float64 whatever the network's dtype.
            return loss, grad.astype(np.float64)

        def callback(intermediate_result):
            # SciPy >= 1.11 passes the result so far; older versions pass x
            # alone, after evaluating the objective there last.
            loss = getattr(intermediate_result, "fun", None)
            x = getattr(intermediate_result, "x", intermediate_result)
            accepted["x"] = np.array(x, copy=True)
            counts["nit"] += 1
            network.params[...] = x  # the accepted point, for on_iteration to inspect
            if on_iteration(float(last["loss"] if loss is None else loss)):
                raise _Stop

        accepted = {"x": network.params.astype(np.float64)}
        try:
            result = scipy.optimize.minimize(
                objective,
                accepted["x"],
                method="L-BFGS-B",
                jac=True,
                callback=callback,
                options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
            )
            result.stopped = False
        except _Stop:
            result = scipy.optimize.OptimizeResult(
                x=accepted["x"],
                status=0,
                message="stopped by on_iteration",
                stopped=True,
                **counts,
            )
        network.params[...] = result.x
        # Weights that L2 drove towards zero can end subnormal (in float64, or
        # in the cast to float32), which would slow every later prediction.
        flush_subnormals(network.params)
        return result
