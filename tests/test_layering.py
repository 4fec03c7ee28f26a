"""Layering: the NumPy core ``sknumpynet.nn`` never imports scikit-learn.

Checked at run time (a fresh interpreter in which scikit-learn cannot be
imported trains a network) and statically (no module under ``sknumpynet/nn``
names scikit-learn, or a part of sknumpynet outside the core, in an import).
"""

import ast
import json
import os
import pathlib
import subprocess
import sys

import sknumpynet

NN_DIR = pathlib.Path(sknumpynet.__file__).parent / "nn"
REPO_ROOT = NN_DIR.parent.parent

# Run in a fresh interpreter: sys.modules["sklearn"] = None makes every import of
# sklearn (or of a submodule) raise ImportError before anything else is imported.
SCRIPT = """
import json, sys
sys.modules["sklearn"] = None
try:
    import sklearn  # noqa: F401
except ImportError:
    blocked = True
else:
    blocked = False

import numpy as np
import scipy.sparse as sp
import sknumpynet.nn as nn

rng = np.random.default_rng(0)
X = rng.normal(size=(12, 4))
Y = np.eye(3)[rng.integers(0, 3, size=12)]
net = nn.MLP([4, 5, 3], ["relu"], "softmax")
net.initialize("glorot_uniform", rng)
grad = np.empty_like(net.params)
J = net.loss_grad(X, Y, grad, alpha=0.1)
opt = nn.OPTIMIZERS["adam"](0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
trainer = nn.Trainer(
    net, opt, opt.init_state(net.params), batch_rows=4, alpha=0.1, shuffle=True, rng=rng
)
epoch_loss = trainer.epoch(sp.csr_matrix(X), Y)
result = nn.LBFGS().run(
    net, X, Y, None, 0.1, max_iter=3, max_fun=100, tol=1e-6, on_iteration=lambda j: False
)
loaded = sorted(
    name for name, module in sys.modules.items()
    if name.split(".")[0].startswith("sklearn") and module is not None
)
print(json.dumps({
    "blocked": blocked,
    "J": J,
    "grad_norm": float(np.linalg.norm(grad)),
    "epoch_loss": epoch_loss,
    "nit": int(result.nit),
    "sklearn_modules": loaded,
}))
"""


def test_core_runs_without_scikit_learn():
    # The checkout first, so the child imports the sknumpynet under test.
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["blocked"]  # the guard really made scikit-learn unimportable
    assert report["sklearn_modules"] == []
    assert report["J"] > 0 and report["grad_norm"] > 0
    assert report["epoch_loss"] > 0 and report["nit"] == 3


def _imported_modules(path):
    """Absolute names of the modules a source file imports, relative ones resolved."""
    package = ["sknumpynet", "nn"]  # every core file's relative imports start here
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # Level 1 is sknumpynet.nn itself, each further level one package up.
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.append(module)
            # `from . import x` may import the submodule x.
            names.extend(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(str(node.args[0].value))
    return names


def test_no_core_module_imports_scikit_learn():
    files = sorted(NN_DIR.glob("*.py"))
    assert len(files) >= 8  # every core module was found
    offenders = {}
    for path in files:
        bad = [
            name
            for name in _imported_modules(path)
            # scikit-learn itself, or a sknumpynet module outside the core that
            # might import it in turn.
            if name.split(".")[0] == "sklearn"
            or (name.startswith("sknumpynet") and not name.startswith("sknumpynet.nn"))
        ]
        if bad:
            offenders[path.name] = bad
    assert offenders == {}


def test_static_check_catches_an_offending_import(tmp_path):
    # The checker itself must see each way of writing the import.
    source = (
        "import sklearn.base\n"
        "from sklearn.utils import check_array\n"
        "from .. import _base\n"
        "import importlib\n"
        "importlib.import_module('sklearn.metrics')\n"
    )
    path = tmp_path / "bad.py"
    path.write_text(source)
    names = _imported_modules(path)
    assert "sklearn.base" in names
    assert "sklearn.utils" in names
    assert "sknumpynet._base" in names
    assert "sklearn.metrics" in names
