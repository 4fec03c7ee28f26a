"""Where the randomness of a fit comes from: ``random_state``, once per fit.

A fresh fit draws one int from ``random_state`` (:func:`new_seed`) and keeps it
as ``_random_seed``; the generator of every call (:func:`call_rng`) and the
early-stopping split derive from it, so a warm-started fit holds out the same
rows and an int ``random_state`` gives the same model every time. A
:class:`numpy.random.Generator` is used as it is (its stream continues from
fit to fit); ``None`` draws from numpy's global random state, as
:func:`sklearn.utils.check_random_state` does, so ``np.random.seed`` makes an
unseeded estimator reproducible (and each unseeded fit differs). A call that
raises puts back what it drew from any of them (:func:`snapshot`,
:func:`restore`), as if it had never been made.
"""

import numpy as np
from sklearn.utils import check_random_state


def new_seed(random_state):
    """An int drawn once per fresh fit from ``random_state``.

    Parameters
    ----------
    random_state : None, int, RandomState or Generator

    Returns
    -------
    int
    """
    high = np.iinfo(np.int32).max
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(high))
    return int(check_random_state(random_state).randint(high))


def call_rng(random_state, seed, samples_seen):
    """The one generator of a fit or partial_fit call.

    Parameters
    ----------
    random_state : None, int, RandomState or Generator
    seed : int
        The fit's :func:`new_seed`.
    samples_seen : int
        0 for a fresh fit, else ``t_``: each later call gets a stream of its own.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng([seed, samples_seen])


def snapshot(random_state):
    """The state of the generator behind ``random_state``, to :func:`restore` it.

    A call that fails must not have used up any of the caller's randomness:
    a :class:`~numpy.random.RandomState`, a :class:`~numpy.random.Generator`
    or, for None, NumPy's global random state.  An int owns no generator.

    Parameters
    ----------
    random_state : None, int, RandomState or Generator

    Returns
    -------
    object or None
    """
    if random_state is None:
        return np.random.get_state()  # noqa: NPY002 - the global state is None's
    if isinstance(random_state, np.random.RandomState):
        return random_state.get_state()
    if isinstance(random_state, np.random.Generator):
        return random_state.bit_generator.state
    return None


def restore(random_state, state, draw=None):
    """Put back what a failed call drew from ``random_state``'s generator.

    A ``Generator`` is the call's own generator throughout (:func:`call_rng`;
    NumPy's generators are not to be shared between threads): it is put back
    to ``state``, its state at the start of the call. NumPy's global state and
    a ``RandomState``, which the call draws one seed from (:func:`new_seed`)
    and which other code may share (another thread's unseeded fit, a
    callback), are put back to their state just before that draw, and only
    while the draw is still their last: one others drew from since is left
    where they left it, or their draws would come again.

    Parameters
    ----------
    random_state : None, int, RandomState or Generator
    state : object or None
        :func:`snapshot` of it at the start of the call.
    draw : tuple or None
        :func:`snapshot` of it just before and just after the call drew its
        seed; None when it drew none.
    """
    if state is None:
        return
    if not isinstance(random_state, np.random.Generator):
        if draw is None or not _same(snapshot(random_state), draw[1]):
            return
        state = draw[0]
    if random_state is None:
        np.random.set_state(state)  # noqa: NPY002 - the global state is None's
    elif isinstance(random_state, np.random.RandomState):
        random_state.set_state(state)
    else:
        random_state.bit_generator.state = state


def _same(a, b):
    """Whether two generator states (nested tuples, dicts and arrays) are equal."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return isinstance(b, tuple | list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a == b
