"""Views of the registries that stay current.

The estimators validate their string hyperparameters against sets of names
derived from the registries (``"auto"`` plus every initializer, the heads of
one task, the regression heads by loss).  Built once at import, such a set
would miss an entry registered later from the user's own code; these views
compute it from the registry on every use.  :func:`lookup` resolves a name
given by the user, naming the argument and the allowed keys when it is none.
"""

from collections.abc import Mapping, Sequence


class Names(Sequence):
    """The names ``names()`` returns, read anew on each use.

    Parameters
    ----------
    names : callable
        Returns an iterable of str.
    """

    def __init__(self, names):
        self._names = names

    def _current(self):
        return tuple(self._names())

    def __getitem__(self, index):
        return self._current()[index]

    def __len__(self):
        return len(self._current())

    def __iter__(self):
        return iter(self._current())

    def __contains__(self, value):
        return value in self._current()

    def __eq__(self, other):
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self._current() == tuple(other)
        return NotImplemented

    __hash__ = None  # equal to a changing tuple: not hashable

    def __repr__(self):
        return repr(self._current())


class Table(Mapping):
    """The dict ``table()`` returns, read anew on each use.

    Parameters
    ----------
    table : callable
        Returns a dict.
    """

    def __init__(self, table):
        self._table = table

    def __getitem__(self, key):
        return self._table()[key]

    def __iter__(self):
        return iter(self._table())

    def __len__(self):
        return len(self._table())

    def __repr__(self):
        return repr(self._table())


def lookup(registry, name, argument):
    """The entry ``registry[name]``, or a ValueError naming ``argument`` and the keys.

    The registries stay plain dicts (``in`` and ``.get`` behave as ever); only
    the places that resolve a user's name go through here, so a typo is named
    with the allowed values instead of surfacing as a bare ``KeyError``.

    Parameters
    ----------
    registry : Mapping
        E.g. :data:`~sknumpynet.nn.activations.ACTIVATIONS`.
    name : str
        The key to resolve.
    argument : str
        What the name was given as, for the message.

    Returns
    -------
    object
        The registered entry.

    Raises
    ------
    ValueError
        If ``name`` is not a key of ``registry`` (or not hashable).
    """
    try:
        return registry[name]
    except (KeyError, TypeError):
        # TypeError: an unhashable name (a list) can be no key either.
        raise ValueError(f"{argument}: unknown {name!r}; one of {sorted(registry)}.") from None
