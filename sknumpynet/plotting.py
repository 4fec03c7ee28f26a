"""Plots of training progress, following scikit-learn's Display conventions.

matplotlib is an optional dependency (``pip install sknumpynet[plot]``): it
is imported only when something is drawn, so importing this module never
needs it.
"""

import weakref

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._validation import optional_dependency

# Validation twin axes of each loss axes, so curves overlaid on one axes share
# one right-hand scale; weak keys let closed figures be collected.
_VALIDATION_AXES = weakref.WeakKeyDictionary()


def _final_estimator(estimator):
    """The model that trained: the last step of a Pipeline, the fitted
    ``regressor_`` of a TransformedTargetRegressor (the main job's regression
    model), unwrapped as often as they nest; else the estimator itself."""
    while True:
        steps = getattr(estimator, "steps", None)
        if steps:
            estimator = steps[-1][1]
        elif hasattr(estimator, "regressor_"):
            estimator = estimator.regressor_
        else:
            return estimator


class LossCurveDisplay:
    """Training and validation loss per epoch, with the validation score.

    Works for any estimator with a ``loss_curve_`` attribute (and optionally
    ``validation_loss_curve_`` and ``validation_scores_``):
    :class:`~sknumpynet.ScratchMLPClassifier`, scikit-learn's
    ``MLPClassifier``, or a ``Pipeline`` ending in either. The training loss
    is a solid line; the validation loss, when recorded, a dotted line of the
    same colour on the same scale; the validation score a dashed line on a
    second, right-hand scale. Create it with :meth:`from_estimator`, or with
    the constructor from saved curves and then call :meth:`plot`. Calling
    :meth:`plot` again with the same ``ax`` overlays several curves, e.g. one
    per optimizer.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training loss of each epoch (with the penalty term).
    validation_scores : array-like of shape (n_scored,), default=None
        Validation score of each of the last ``n_scored <= n_epochs`` epochs
        (``early_stopping=True``, or a validation set passed to ``fit``);
        drawn at those epochs.
    estimator_name : str, default=None
        Name for the legend.
    validation_loss_curve : array-like of shape (n_scored,), default=None
        Loss on the validation set (no penalty term) of the same epochs.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the loss curves.
    figure_ : matplotlib Figure
        Figure holding ``ax_``.
    line_ : matplotlib Line2D
        The training loss curve.
    validation_loss_line_ : matplotlib Line2D or None
        The validation loss curve (on ``ax_``), or None.
    validation_ax_ : matplotlib Axes or None
        Twin axes (right-hand scale) with the validation scores, or None.
    validation_line_ : matplotlib Line2D or None
        The validation score curve, or None.

    See Also
    --------
    LossCurveDisplay.from_estimator : Plot the curves of a fitted estimator.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sknumpynet import ScratchMLPClassifier
    >>> from sknumpynet.plotting import LossCurveDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ScratchMLPClassifier(max_iter=5, random_state=0)
    >>> clf = clf.fit(X[:1500] / 16, y[:1500], X_val=X[1500:] / 16, y_val=y[1500:])
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> len(display.line_.get_ydata()) == len(display.validation_loss_line_.get_ydata())
    True
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_scores=None,
        estimator_name=None,
        validation_loss_curve=None,
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.validation_loss_curve = validation_loss_curve

    def plot(self, ax=None, *, name=None, show_validation=True, log_scale=False, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        name : str, default=None
            Legend label; defaults to ``estimator_name``.
        show_validation : bool, default=True
            Also draw ``validation_loss_curve`` (if any) beside the training
            loss and ``validation_scores`` (if any) on a twin axis.
        log_scale : bool, default=False
            Logarithmic loss axis.
        **kwargs : dict
            Passed to ``ax.plot`` for the training loss curve; the validation
            curves take its colour and line width.

        Returns
        -------
        display : LossCurveDisplay
            ``self``, with ``ax_``, ``figure_``, ``line_``,
            ``validation_loss_line_``, ``validation_ax_`` and
            ``validation_line_`` set.

        Raises
        ------
        ModuleNotFoundError
            If matplotlib (the ``plot`` extra) is not installed.
        TypeError
            If ``ax`` is not a matplotlib Axes.
        ValueError
            If ``loss_curve`` is not a non-empty 1-D sequence, or a validation
            curve to draw is not a 1-D sequence of at most one entry per epoch.
        """
        with optional_dependency("plot", "LossCurveDisplay"):
            import matplotlib.pyplot as plt

        from matplotlib.axes import Axes

        # Checked before a figure is made, so a refused call leaves none open.
        loss = np.asarray(self.loss_curve, dtype=float)
        if loss.ndim != 1 or loss.size == 0:
            raise ValueError(
                "loss_curve must be a non-empty 1-D sequence of losses, one per epoch; got "
                f"{self.loss_curve!r}."
            )
        val_loss, scores = (
            (
                _per_epoch(self.validation_loss_curve, "validation_loss_curve", loss.size),
                _per_epoch(self.validation_scores, "validation_scores", loss.size),
            )
            if show_validation
            else (None, None)
        )
        if ax is None:
            _, ax = plt.subplots()
        elif not isinstance(ax, Axes):  # e.g. a Figure or an array of Axes
            raise TypeError(f"ax must be a matplotlib Axes or None; got {type(ax).__name__}.")
        # A label given for the training curve names the model's other curves too.
        name = kwargs.get("label", self.estimator_name) if name is None else name
        kwargs.setdefault("label", name if name is not None else "training loss")
        (self.line_,) = ax.plot(np.arange(1, loss.size + 1), loss, **kwargs)
        # The validation curves match the training curve's colour and width,
        # so each model of an overlay reads as one colour.
        style = {"color": self.line_.get_color(), "linewidth": self.line_.get_linewidth()}
        self.validation_loss_line_ = self.validation_ax_ = self.validation_line_ = None
        if val_loss is not None:
            (self.validation_loss_line_,) = ax.plot(
                _last_epochs(loss.size, val_loss.size),
                val_loss,
                linestyle=":",
                label=_label(name, "validation loss"),
                **style,
            )
        ax.set_xlabel("epoch")
        if self.validation_loss_line_ is None and ax.get_ylabel() != "loss":
            ax.set_ylabel("training loss")
        else:  # an axes that holds a validation loss, now or from an earlier overlay
            ax.set_ylabel("loss")
        if log_scale:
            ax.set_yscale("log")
        if scores is not None:
            twin = _VALIDATION_AXES.get(ax)
            if twin is None:
                twin = _VALIDATION_AXES[ax] = ax.twinx()
                twin.set_ylabel("validation score")
            (self.validation_line_,) = twin.plot(
                _last_epochs(loss.size, scores.size),
                scores,
                linestyle="--",
                label=_label(name, "validation score"),
                **style,
            )
            self.validation_ax_ = twin
        handles, labels = ax.get_legend_handles_labels()
        twin = _VALIDATION_AXES.get(ax)
        if twin is not None:
            more_handles, more_labels = twin.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
        # Losses fall and validation scores rise: the right-hand middle is
        # usually clear of both.
        ax.legend(handles, labels, loc="center right" if twin is not None else "best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(
        cls, estimator, *, ax=None, name=None, show_validation=True, log_scale=False, **kwargs
    ):
        """Plot the loss curves of a fitted estimator.

        Parameters
        ----------
        estimator : estimator or Pipeline
            Fitted, with a ``loss_curve_`` attribute (the last step of a
            Pipeline is used, and the fitted ``regressor_`` of a
            :class:`~sklearn.compose.TransformedTargetRegressor`, whose losses
            are on the transformed targets' scale).
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        name : str, default=None
            Legend label; defaults to the estimator's class name.
        show_validation : bool, default=True
            Also draw ``validation_loss_curve_`` and ``validation_scores_``
            when the estimator has them.
        log_scale : bool, default=False
            Logarithmic loss axis.
        **kwargs : dict
            Passed to ``ax.plot`` for the training loss curve.

        Returns
        -------
        display : LossCurveDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator is not fitted.
        TypeError
            If the estimator records no loss curve.
        ValueError
            If the estimator recorded no epoch (its training stopped in the
            first one).
        ModuleNotFoundError
            If matplotlib (the ``plot`` extra) is not installed.
        """
        model = _final_estimator(estimator)
        check_is_fitted(model)
        if not hasattr(model, "loss_curve_"):
            raise TypeError(
                f"{type(model).__name__} has no loss_curve_ attribute; LossCurveDisplay needs "
                "an estimator trained by gradient steps, such as ScratchMLPClassifier."
            )
        if not len(model.loss_curve_):
            raise ValueError(
                f"{type(model).__name__} recorded no epoch (n_iter_={model.n_iter_}): its "
                "training stopped within the first (a divergence at its first batches, or "
                "L-BFGS converged at its starting weights), so there is no loss curve to plot."
            )
        display = cls(
            loss_curve=list(model.loss_curve_),
            validation_scores=getattr(model, "validation_scores_", None),
            estimator_name=type(model).__name__ if name is None else name,
            validation_loss_curve=getattr(model, "validation_loss_curve_", None),
        )
        return display.plot(ax=ax, show_validation=show_validation, log_scale=log_scale, **kwargs)


def _per_epoch(curve, name, n_epochs):
    """``curve`` as a float array of at most ``n_epochs`` entries, or None; else a ValueError."""
    if curve is None:
        return None
    values = np.asarray(curve, dtype=float)
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence, one entry per validated epoch; got {curve!r}."
        )
    if values.size > n_epochs:
        raise ValueError(
            f"{name} has {values.size} entries, more than the {n_epochs} epochs of "
            "loss_curve: each belongs to one of its epochs (the last ones)."
        )
    return values


def _last_epochs(n_epochs, n_scored):
    """Epoch numbers of the validation records: the last ``n_scored`` of ``n_epochs``
    (a model validated only in its later calls, e.g. a warm fit given ``X_val``)."""
    return np.arange(max(n_epochs - n_scored, 0) + 1, max(n_epochs, n_scored) + 1)


def _label(name, what):
    """Legend label of a validation curve: ``what``, or ``"name (what)"``."""
    return what if name is None else f"{name} ({what})"
