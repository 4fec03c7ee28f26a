"""Running sknumpynet on a Dask cluster (the optional ``dask`` extra).

Importing this module needs ``distributed`` (``pip install "sknumpynet[dask]"``);
``import sknumpynet`` never imports it.  See the "Scaling out" guide.
"""

import distributed
from threadpoolctl import threadpool_limits


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
        BLAS threads per worker process.

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> client = Client("tcp://scheduler:8786")  # doctest: +SKIP
    >>> client.register_plugin(BLASThreadLimit(threads=1))  # doctest: +SKIP
    """

    name = "sknumpynet-blas-threads"

    def __init__(self, threads=1):
        self.threads = threads

    def setup(self, worker):
        """Apply the limit in the worker process (called by distributed)."""
        self._limits = threadpool_limits(limits=self.threads, user_api="blas")

    def teardown(self, worker):
        """Restore the worker's original limits (called by distributed)."""
        self._limits.restore_original_limits()
