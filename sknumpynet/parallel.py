"""Running sknumpynet on a Dask cluster (the optional ``dask`` extra).

Importing this module needs ``distributed`` (``pip install "sknumpynet[dask]"``);
``import sknumpynet`` never imports it.  See the "Scaling out" guide.
"""

import threading
from numbers import Integral

from threadpoolctl import threadpool_limits

from ._validation import optional_dependency

with optional_dependency("dask", "sknumpynet.parallel"):
    import distributed

# Workers of an in-process cluster (processes=False) share one process and its
# BLAS pool: the first setup sets the limit, the last teardown restores what
# the process had before.
_LOCK = threading.Lock()
_ACTIVE = {"count": 0, "limits": None}


class BLASThreadLimit(distributed.WorkerPlugin):
    """Limit the BLAS thread pool of every Dask worker process to ``threads``.

    Each worker runs its fits one at a time with NumPy's BLAS; with ``w``
    workers on ``c`` cores, ``threads = c // w`` keeps workers x BLAS threads
    at the core count instead of oversubscribing it (which made a grid search
    many times slower in ``benchmarks/bench_dask.py``). Registering another
    instance replaces this one (the plugin name is fixed).

    Parameters
    ----------
    threads : int, default=1
        BLAS threads per worker process, at least 1.

    Raises
    ------
    TypeError or ValueError
        If ``threads`` is not an int >= 1 (checked here, not in each worker,
        whose error would surface only when the plugin is registered).

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> client = Client("tcp://scheduler:8786")  # doctest: +SKIP
    >>> client.register_plugin(BLASThreadLimit(threads=1))  # doctest: +SKIP
    """

    name = "sknumpynet-blas-threads"

    def __init__(self, threads=1):
        # Not an estimator: checked when made. threadpoolctl would read 0, -1
        # or None as "no limit" and refuse "two" only inside each worker.
        if isinstance(threads, bool) or not isinstance(threads, Integral):
            raise TypeError(f"threads must be an int >= 1; got {threads!r}.")
        if threads < 1:
            raise ValueError(f"threads must be an int >= 1; got {threads!r}.")
        self.threads = int(threads)

    def setup(self, worker):
        """Apply the limit in the worker process (called by distributed).

        The limit holds for the whole process: several workers of one process
        (threads of a ``LocalCluster(processes=False)``) share it.

        Parameters
        ----------
        worker : distributed.Worker
            The worker being set up; unused (the limit is the process's).
        """
        with _LOCK:
            if _ACTIVE["count"] == 0:
                _ACTIVE["limits"] = threadpool_limits(limits=self.threads, user_api="blas")
            else:  # another worker of this process holds the original limits
                threadpool_limits(limits=self.threads, user_api="blas")
            _ACTIVE["count"] += 1
            self._set_up = True

    def teardown(self, worker):
        """Restore the process's original limits once its last worker is done
        (called by distributed).

        Parameters
        ----------
        worker : distributed.Worker
            The worker being closed; unused (the count of set-up workers
            decides when to restore).
        """
        with _LOCK:
            if not getattr(self, "_set_up", False):
                return
            self._set_up = False
            _ACTIVE["count"] -= 1
            if _ACTIVE["count"] == 0:
                _ACTIVE["limits"].restore_original_limits()
                _ACTIVE["limits"] = None
