"""Views of the registries that stay current.

The estimators validate their string hyperparameters against sets of names
derived from the registries (``"auto"`` plus every initializer, the heads of
one task, the regression heads by loss).  Built once at import, such a set
would miss an entry registered later from the user's own code; these views
compute it from the registry on every use.
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
