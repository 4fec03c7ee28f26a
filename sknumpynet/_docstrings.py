"""The parts of the estimators' docstrings that they share, written once.

Each estimator's class docstring is :func:`compose`\\ d from its own summary,
its own parameters and attributes, and the shared blocks below, so the two
never drift apart.
"""

import textwrap

from .nn import ACTIVATIONS, INIT_OPTIONS, OPTIMIZERS
from .nn.schedules import SCHEDULES

SHARED_PARAMETERS = """\
hidden_layer_sizes : int or sequence of int, default=(100,)
    Units of each hidden layer; ``()`` gives a linear model.
activation : ACTIVATION_NAMES or list of them, default="relu"
    Hidden activation (:data:`sknumpynet.nn.ACTIVATIONS`) of every hidden
    layer, or a list with one name per hidden layer: ``"leaky_relu"`` has
    slope 0.01, ``"logistic"`` is scikit-learn's name for ``"sigmoid"``.
init : INIT_NAMES, default="auto"
    Weight initialisation: ``N(0, 1)`` times 0.01, ``sqrt(1/fan_in)``
    (``xavier`` as from-scratch texts name it; LeCun scaling) or
    ``sqrt(2/fan_in)`` with zero biases; ``"glorot_uniform"`` is
    scikit-learn's scheme (weights *and* biases uniform in
    ``+-sqrt(6 / (fan_in + fan_out))``, 2 instead of 6 next to a logistic
    activation). ``"auto"`` lets the activation (or head) after each layer
    choose: ``"glorot_uniform"`` for all of them, scikit-learn's draws (until
    0.3 it was he before relu-family activations and xavier otherwise; see
    the user guide for why it changed). Draws are made in float64, so float32
    and float64 inputs start from the same network.
optimizer : OPTIMIZER_NAMES, default="adam"
    Update rule (:data:`sknumpynet.nn.OPTIMIZERS`). ``"gd"`` takes one
    full-batch step per epoch; sgd, momentum, nesterov, rmsprop and adam step
    once per mini-batch; ``"lbfgs"`` runs SciPy's L-BFGS-B on the whole
    training set (``batch_size``, ``shuffle``, ``early_stopping`` and
    ``partial_fit`` do not apply; ``max_iter`` counts its iterations).
learning_rate_init : float or "auto", default="auto"
    Step size, > 0 (unused by lbfgs). ``"auto"`` is the optimizer's own
    default (its registry entry's ``default_learning_rate``): 0.001 for adam
    (scikit-learn's) and rmsprop, 0.01 for gd, sgd, momentum and nesterov
    (with the averaged velocity, nesterov's steps at 0.01 are those of
    scikit-learn's ``solver="sgd"`` at its defaults).
learning_rate : SCHEDULE_NAMES, default="constant"
    How the step size changes from epoch to epoch
    (:mod:`sknumpynet.nn.schedules`; every optimizer but lbfgs), set before
    each epoch: ``"constant"`` keeps ``learning_rate_init``; ``"invscaling"``
    uses ``learning_rate_init / (t_ + 1) ** power_t`` after the first epoch
    (``t_``: training rows seen so far); ``"adaptive"`` divides the rate by 5
    where the patience runs out (more than ``n_iter_no_change`` epochs without
    improvement) instead of stopping, and stops once it is at most 1e-6;
    ``"cosine"`` anneals it from ``learning_rate_init`` towards 0 along half a
    cosine over ``max_iter`` epochs. ``fit`` starts the schedule anew,
    ``partial_fit`` continues it.
power_t : float, default=0.5
    Exponent of ``"invscaling"``, >= 0; unused by the other schedules.
momentum : float, default=0.9
    ``b`` of momentum and nesterov (``v = b v + (1 - b) g``), in [0, 1]; they
    refuse 1 (``v`` would stay zero), which the other optimizers ignore.
rho : float, default=0.9
    Decay of rmsprop's squared-gradient average, in [0, 1).
beta_1, beta_2 : float, default=0.9, 0.999
    Adam's moment decays, in [0, 1).
epsilon : float, default=1e-8
    Added to the denominator of rmsprop and adam, > 0.
alpha : float, default=1e-4
    L2 penalty on the weights, >= 0; divided by each batch's total sample
    weight (its row count without weights), as in scikit-learn.
dropout : float or list of float, default=0.0
    Inverted dropout of hidden units, in training only: a rate ``p`` in
    [0, 1) for every hidden layer, or a list with one rate per hidden layer.
    In every training batch each unit of a hidden layer is zeroed for each
    sample with probability ``p`` and the kept ones are scaled by
    ``1 / (1 - p)``; inputs and outputs are never dropped, and prediction and
    the validation score use the whole network unscaled. 0 draws nothing; a
    positive rate needs a step optimizer (lbfgs raises a ``ValueError``).
batch_size : int or "auto", default="auto"
    Rows per mini-batch. ``"auto"`` splits the ``n`` training rows of the
    call into ``k = max(ceil(n / 200), 2)`` nearly equal batches of
    ``ceil(n / k)`` rows (equal to within one row where the last would be
    less than half a batch, from about 20,000 rows; one batch when
    ``n < 64``): at most scikit-learn's
    200 rows, but at least two batches per epoch where scikit-learn's
    ``min(200, n)`` trains a data set under 200 rows in one step per epoch.
max_iter : int, default=200
    Maximum epochs per ``fit`` (L-BFGS iterations with lbfgs).
max_fun : int, default=15000
    Maximum objective evaluations of lbfgs; unused otherwise.
tol : float, default=1e-4
    Improvement of the loss (or validation score) below which an epoch
    counts as no improvement; lbfgs stops when no gradient entry exceeds it.
n_iter_no_change : int or np.inf, default=10
    Training stops after more than this many epochs without improvement;
    ``np.inf`` never stops on it.
early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the data, stop on its score, and keep
    the weights of the best validation epoch. The held-out rows depend on
    ``random_state`` alone: every warm-started fit holds out the same rows.
validation_fraction : float, default=0.1
    Share of the data held out when ``early_stopping``, in [0, 1); 0 holds out
    nothing, so early stopping then needs ``X_val`` and ``y_val``.
shuffle : bool, default=True
    Visit the samples in a new order each epoch (mini-batch optimizers).
random_state : int, RandomState, Generator or None, default=None
    Seeds the generator of each fit (initialisation, epoch orders, dropout
    masks) and, once per model, the early-stopping split.
warm_start : bool, default=False
    ``fit`` continues from the previous fit's weights (with a fresh optimizer
    state).
verbose : int, default=0
    ``>= 1`` prints one line per epoch: loss, validation score, elapsed
    time and an estimate of the time left.
"""

SHARED_ATTRIBUTES = """\
n_features_in_ : int
    Number of features seen in ``fit``.
feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Only when ``X`` had string column names.
coefs_ : list of ndarray
    ``coefs_[i]`` of shape ``(n_units_i, n_units_{i+1})``.
intercepts_ : list of ndarray
    ``intercepts_[i]`` of shape ``(n_units_{i+1},)``.
hidden_activations_ : list of str
    The activation of each hidden layer.
n_iter_ : int
    Epochs (L-BFGS iterations) run by the latest call: ``fit`` counts its
    own, ``partial_fit`` 1.
t_ : int
    Training samples seen over every call (rows times epochs).
loss_ : float or None
    Loss of the last epoch; None when training stopped within its first
    epoch (a divergence there keeps the starting weights and records none).
best_loss_ : float or None
    Lowest epoch loss (None when early stopping is used; ``lbfgs`` ignores
    ``early_stopping``).
loss_curve_ : list of float
    Loss of each epoch, over every call since the model was started.
learning_rates_ : list of float
    Learning rate of each epoch, beside ``loss_curve_`` and over the same
    calls; ``[]`` with lbfgs, whose iterations record none (so in a model
    that mixed lbfgs fits with step optimizers the two lists no longer pair
    up).
validation_scores_ : list of float or None
    Validation score (accuracy for a classifier, R² for a regressor) on the
    rows held out by ``early_stopping``, or on ``X_val``, ``y_val`` passed to
    ``fit`` (scored also without ``early_stopping``), of each of the latest
    run of validated epochs: the last ``len(validation_scores_)`` entries of
    ``loss_curve_``. A call with a validation set extends it (or starts it,
    after a call without one); a call without one, ``partial_fit`` included,
    ends it: None.
validation_loss_curve_ : list of float or None
    Loss on the validation set (without the penalty term) beside each entry
    of ``validation_scores_``; None like it.
best_validation_score_ : float or None
    Best of ``validation_scores_`` (None without a validation set, or when
    no epoch was scored).
n_layers_ : int
    Layers including input and output.
n_outputs_ : int
    Output units.
"""


def compose(summary, *, parameters="", attributes="", examples=""):
    """A numpydoc class docstring from an estimator's own parts and the shared ones.

    Parameters
    ----------
    summary : str
        Summary line and extended description.
    parameters : str
        The estimator's own parameters, placed after the shared ones, as in
        the signature (its own fields follow the base's).
    attributes : str
        The estimator's own attributes, placed before the shared ones.
    examples : str
        Body of the Examples section.

    Returns
    -------
    str
    """

    def section(title, body):
        body = textwrap.dedent(body).strip("\n")
        return f"\n\n{title}\n{'-' * len(title)}\n{body}"

    shared = SHARED_PARAMETERS
    for placeholder, registry in (
        ("OPTIMIZER_NAMES", OPTIMIZERS),
        ("SCHEDULE_NAMES", SCHEDULES),
        ("ACTIVATION_NAMES", ACTIVATIONS),
        ("INIT_NAMES", INIT_OPTIONS),
    ):
        shared = shared.replace(placeholder, "{" + ", ".join(f'"{n}"' for n in registry) + "}")
    params = shared + textwrap.dedent(parameters).strip("\n")
    attrs = textwrap.dedent(attributes).strip("\n") + "\n" + SHARED_ATTRIBUTES
    return (
        textwrap.dedent(summary).strip("\n")
        + section("Parameters", params)
        + section("Attributes", attrs)
        + section("Examples", examples)
        + "\n"
    )
