"""Without ``sklearn.callback`` (scikit-learn < 1.9) everything but callbacks works.

Its own module: test_callbacks.py skips as a whole where ``sklearn.callback``
is missing, and this test must run on every scikit-learn.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
from sklearn.datasets import make_classification

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor

# Fits without sklearn.callback; the test repeats them with it and compares.
SCRIPT = textwrap.dedent(
    """
    import json
    import sys
    import warnings

    import sklearn.model_selection, sklearn.pipeline  # noqa: F401
    sys.modules["sklearn.callback"] = None
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning

    from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
    from sknumpynet.exceptions import DivergenceWarning

    # The test suite's filters: only the warnings that a cap ended a fit are
    # ignored, by their exact class and the start of their message.
    warnings.simplefilter("error", RuntimeWarning)
    warnings.simplefilter("error", DivergenceWarning)
    for message in ("Stochastic Optimizer: Maximum iterations", "lbfgs failed to converge"):
        warnings.filterwarnings("ignore", message, ConvergenceWarning)
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    clf = ScratchMLPClassifier((5,), max_iter=3, verbose=1, random_state=0).fit(X, y)
    clf.partial_fit(X, y)
    reg = ScratchMLPRegressor((5,), optimizer="lbfgs", max_iter=3, random_state=0)
    reg.fit(X, y.astype(float))
    print(json.dumps({
        "n_iter": clf.n_iter_,
        "proba": clf.predict_proba(X).tolist(),
        "reg": reg.predict(X).tolist(),
    }))
    try:
        clf.set_callbacks()
    except ImportError as exc:
        print("ImportError:", exc)
    """
)


def test_without_sklearn_callback_everything_else_works():
    # scikit-learn < 1.9 simulated: sklearn.callback cannot be imported by the
    # time sknumpynet is (scikit-learn's own modules that need it come first).
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Iteration 3, loss" in done.stdout
    assert "ImportError: set_callbacks needs scikit-learn >= 1.9" in done.stdout
    [line] = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result = json.loads(line)

    # The same fits here train to the same models (JSON keeps floats exactly).
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    clf = ScratchMLPClassifier((5,), max_iter=3, random_state=0).fit(X, y)
    clf.partial_fit(X, y)
    reg = ScratchMLPRegressor((5,), optimizer="lbfgs", max_iter=3, random_state=0)
    reg.fit(X, y.astype(float))
    assert result["n_iter"] == clf.n_iter_
    np.testing.assert_array_equal(result["proba"], clf.predict_proba(X))
    np.testing.assert_array_equal(result["reg"], reg.predict(X))
