"""
Scaling out with Dask
=====================

The estimators are plain scikit-learn estimators that pickle, so Dask runs
them on a cluster without any code of their own:

* a :class:`~sklearn.model_selection.GridSearchCV` sends its fits to the
  cluster's workers under ``joblib.parallel_config(backend="dask")``, and
  returns the same ``cv_results_`` as on one core;
* :class:`dask_ml.wrappers.Incremental` trains one network over a dask array
  too large for one machine, one block at a time through ``partial_fit``;
* :class:`dask_ml.wrappers.ParallelPostFit` predicts a dask array block by
  block on the workers.

Here the cluster is a :class:`distributed.LocalCluster` of two worker
processes on this machine; pointing the same code at a real cluster changes
one line (see :doc:`/scaling`). Everything needs the ``dask`` extra
(``pip install "sknumpynet[dask]"``).

.. note::

   Dask starts its worker processes with multiprocessing's *spawn* method,
   which runs the main script again in each of them, under the name
   ``"__mp_main__"``. Every cell that does work therefore sits under
   ``if __name__ == "__main__":``: the workers only define the imports and
   functions, and the page runs as it is as a script
   (``python plot_14_scaling_out.py``), in Jupyter and in the documentation
   build (which executes it as ``"__main__"``).
"""

# %%
# A local cluster, one BLAS thread per worker
# -------------------------------------------
# Two worker processes with one task thread each. NumPy's BLAS would start
# one thread per core *in each worker*: two workers x two BLAS threads on two
# cores spin against each other. Dask's nanny sets ``OMP_NUM_THREADS=1`` and
# its kin before a worker starts, but only where the environment does not set
# them already; a worker plugin makes the limit explicit with threadpoolctl
# (workers x BLAS threads = cores).
import os
import time
import warnings

from distributed import Client, LocalCluster
from threadpoolctl import threadpool_info

from sknumpynet.parallel import BLASThreadLimit


def blas_threads():
    return max(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


n_workers = 2
if __name__ == "__main__":
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = Client(cluster)  # on a real cluster: Client("tcp://scheduler:8786")
    client.register_plugin(BLASThreadLimit(max(1, os.cpu_count() // n_workers)))
    print(f"{os.cpu_count()} cores; BLAS threads per worker: {client.run(blas_threads)}")

# %%
# The data
# --------
# scikit-learn's 1,797 handwritten digits, 8x8 pixels scaled to [0, 1].
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

if __name__ == "__main__":
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    # 21 blocks of 64 rows for training (below), the other 453 digits for testing.
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=21 * 64, stratify=y, random_state=0
    )

# %%
# A grid search on the cluster
# ----------------------------
# The search is ordinary scikit-learn code; ``parallel_config`` hands its
# fits to the workers. With the same ``random_state`` each candidate trains
# the same network wherever it runs, so the scores are identical to those of
# the search in this process. The fits hit ``max_iter`` on purpose (a fixed
# amount of work); the warning that says so, in this process and in each
# worker, is silenced by its message.
from joblib import parallel_config
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sknumpynet import ScratchMLPClassifier

CAP = "Stochastic Optimizer: Maximum iterations"


def quiet():
    warnings.filterwarnings("ignore", CAP, ConvergenceWarning)


grid = {
    "hidden_layer_sizes": [(128,), (256,)],
    "alpha": [1e-4, 1e-2],
    "learning_rate_init": [1e-3, 3e-3],
}
if __name__ == "__main__":
    client.run(quiet)  # in each worker process
    search = GridSearchCV(
        ScratchMLPClassifier(max_iter=30, batch_size=64, random_state=0), grid, cv=3
    )

    with warnings.catch_warnings():
        quiet()
        start = time.perf_counter()
        local = search.fit(X_train, y_train).cv_results_
        local_seconds = time.perf_counter() - start

        start = time.perf_counter()
        with parallel_config(backend="dask", n_jobs=-1):
            remote = search.fit(X_train, y_train).cv_results_
        remote_seconds = time.perf_counter() - start

    same = np.array_equal(local["mean_test_score"], remote["mean_test_score"])
    print(f"{len(local['params'])} candidates x 3 folds")
    print(f"in this process (n_jobs=1): {local_seconds:5.1f} s")
    print(f"on {n_workers} dask workers:     {remote_seconds:5.1f} s")
    print(f"same scores: {same}; best {search.best_params_}, CV accuracy {search.best_score_:.3f}")

# %%
# Two workers make the search at most twice as fast; the measured figures of
# :doc:`/scaling` include what unlimited BLAS threads per worker cost.

# %%
# Training on a dask array, block by block
# ----------------------------------------
# :class:`~dask_ml.wrappers.Incremental` passes the blocks of a dask array to
# ``partial_fit`` one after the other, each call a task on a worker, to which
# the model travels. One ``partial_fit`` call trains one epoch over the block it
# is given, so one pass over the blocks is one epoch over the data; a new
# block order every pass (``shuffle_blocks`` with a ``RandomState``) plays the
# part of the shuffling between epochs. ``classes`` goes with every call: the
# first block need not hold every digit.
#
# Blocks of 64 rows hold two whole batches of 32. (Blocks that are no multiple
# of ``batch_size`` end in a smaller batch each: noisier steps; a block smaller
# than ``batch_size`` trains as one batch, with a warning.)
import dask.array as da
from dask_ml.wrappers import Incremental

params = dict(hidden_layer_sizes=(64,), batch_size=32, learning_rate_init=3e-3, random_state=0)
epochs = 20

if __name__ == "__main__":
    X_blocks = da.from_array(X_train, chunks=(64, -1))
    y_blocks = da.from_array(y_train, chunks=(64,))
    X_blocks, y_blocks = client.persist([X_blocks, y_blocks])  # the blocks live on the workers
    print(f"{X_blocks.numblocks[0]} blocks of {X_blocks.chunks[0][0]} rows")

    incremental = Incremental(
        ScratchMLPClassifier(**params), shuffle_blocks=True, random_state=np.random.RandomState(0)
    )
    incremental_accuracy = []
    start = time.perf_counter()
    for _ in range(epochs):
        incremental.partial_fit(X_blocks, y_blocks, classes=np.arange(10))
        incremental_accuracy.append(incremental.score(X_test, y_test))
    incremental_seconds = time.perf_counter() - start

# %%
# The same network trained in memory
# ----------------------------------
# The reference: ``fit`` on the same rows, the same number of epochs, batch
# size and seed. ``X_val``/``y_val`` score the test rows after every epoch
# (``validation_scores_``) without stopping early.
if __name__ == "__main__":
    in_core = ScratchMLPClassifier(max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        quiet()
        in_core.fit(X_train, y_train, X_val=X_test, y_val=y_test)
    in_core_seconds = time.perf_counter() - start

    print(f"test accuracy after {epochs} epochs:")
    print(
        f"  in memory (fit):          {in_core.score(X_test, y_test):.4f}  "
        f"({in_core_seconds:.1f} s)"
    )
    print(
        f"  dask array (Incremental): {incremental.score(X_test, y_test):.4f}  "
        f"({incremental_seconds:.1f} s)"
    )

# %%
# Both reach the same accuracy to within a test image or two (they see the
# rows in another order). The incremental run is slower here: each of
# its ``partial_fit`` calls is a Dask task (a few milliseconds of scheduling
# and of moving the model), against a fraction of a millisecond of arithmetic
# on 64 rows. With blocks of real size the arithmetic dominates.
import matplotlib.pyplot as plt

if __name__ == "__main__":
    fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    ax.plot(range(1, epochs + 1), in_core.validation_scores_, marker="o", label="fit, in memory")
    ax.plot(range(1, epochs + 1), incremental_accuracy, marker="s", label="Incremental, dask array")
    ax.set(xlabel="epoch (pass over the data)", ylabel="test accuracy", ylim=(0.8, 1.0))
    ax.legend()
    plt.show()

# %%
# Predicting block by block
# -------------------------
# :class:`~dask_ml.wrappers.ParallelPostFit` wraps a fitted model; ``predict``
# on a dask array returns a lazy dask array with one task per block, which
# the workers compute where the blocks are.
from dask_ml.wrappers import ParallelPostFit

if __name__ == "__main__":
    X_big = da.from_array(X_test, chunks=(100, -1))
    labels = ParallelPostFit(in_core).predict(X_big)
    print(labels)
    print(f"same labels as in memory: {np.array_equal(labels.compute(), in_core.predict(X_test))}")

# %%
# Closing the cluster stops its processes.
if __name__ == "__main__":
    client.close()
    cluster.close()
