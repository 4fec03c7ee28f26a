"""Sparse X in both estimators: CSR and CSC (matrices and arrays) in fit,
partial_fit and every predict method; the same model as from the dense array;
float32; sample weights; and X is never densified."""

import numpy as np
import pytest
import scipy.sparse as sp
from _shared import STEP_OPTIMIZERS, assert_same_model, traced_peak, weights
from scipy.sparse._base import _spbase

from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor
from sknumpynet.nn import OPTIMIZERS

FORMATS = {
    "csr_matrix": sp.csr_matrix,
    "csc_matrix": sp.csc_matrix,
    "csr_array": sp.csr_array,
    "csc_array": sp.csc_array,
}
ESTIMATORS = [ScratchMLPClassifier, ScratchMLPRegressor]
N_FEATURES = 40


def _data(cls, n=150, n_features=N_FEATURES, density=0.15, seed=0):
    """A sparse (CSR) X with a target that depends on its nonzeros."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, n_features, density=density, format="csr", random_state=rng)
    X.data = rng.standard_normal(X.nnz)
    signal = X @ rng.standard_normal(n_features)
    if cls is ScratchMLPClassifier:
        return X, np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3]))
    return X, np.c_[signal, np.abs(signal)]


def _est(cls, **kwargs):
    params = {
        "hidden_layer_sizes": (8,),
        "batch_size": 32,
        "learning_rate_init": 0.05,
        "max_iter": 8,
        "random_state": 0,
    }
    return cls(**{**params, **kwargs})


def _outputs(est, X):
    """Every prediction method's result."""
    if isinstance(est, ScratchMLPClassifier):
        return [est.predict(X), est.predict_proba(X), est.predict_log_proba(X)]
    return [est.predict(X)]


@pytest.fixture
def no_densify(monkeypatch):
    """Make SciPy's sparse-to-dense conversions raise for any matrix as wide as
    the data's X (N_FEATURES columns); narrow ones, such as scikit-learn's
    sparse label indicator, may still be converted."""

    def guard(original):
        def refuse(self, *args, **kwargs):
            if self.shape[-1] == N_FEATURES:
                raise AssertionError(f"a sparse X of shape {self.shape} was densified")
            return original(self, *args, **kwargs)

        return refuse

    classes = [_spbase]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        for name in ("toarray", "todense"):
            if name in vars(cls):
                monkeypatch.setattr(cls, name, guard(vars(cls)[name]))


def test_the_densify_guard_catches_a_wide_matrix(no_densify):
    X, _ = _data(ScratchMLPClassifier)
    for convert in (X.toarray, X.todense, X.tocsc().toarray, sp.csr_array(X).toarray):
        with pytest.raises(AssertionError, match="was densified"):
            convert()
    assert X[:, :3].toarray().shape == (150, 3)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("early_stopping", [False, True])
def test_sparse_fit_gives_the_dense_model(cls, optimizer, early_stopping):
    X, y = _data(cls)
    dense = _est(cls, optimizer=optimizer, early_stopping=early_stopping).fit(X.toarray(), y)
    sparse = _est(cls, optimizer=optimizer, early_stopping=early_stopping).fit(X, y)
    # Only the order of the first layer's sums differs; L-BFGS's line searches
    # (a solver that is not stepwise) carry such rounding further than a few
    # epochs of steps do.
    rtol = 1e-9 if OPTIMIZERS[optimizer].stepwise else 1e-6
    assert_same_model(sparse, dense, rtol=rtol, atol=rtol * 1e-2)
    if early_stopping and OPTIMIZERS[optimizer].stepwise:
        np.testing.assert_allclose(sparse.validation_scores_, dense.validation_scores_)
    for a, b in zip(_outputs(sparse, X), _outputs(dense, X.toarray()), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_sparse_format_in_every_method(cls, fmt, no_densify):
    X, y = _data(cls)
    Xs = FORMATS[fmt](X)
    reference = _est(cls).fit(X, y)
    est = _est(cls).fit(Xs, y)
    for a, b in zip(weights(est), weights(reference), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(_outputs(est, Xs), _outputs(reference, X), strict=True):
        np.testing.assert_array_equal(a, b)
    est.score(Xs, y)
    kwargs = {"classes": np.unique(y)} if cls is ScratchMLPClassifier else {}
    stepped = _est(cls).partial_fit(Xs, y, **kwargs).partial_fit(Xs[:50], y[:50])
    assert len(stepped.loss_curve_) == 2


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS)
def test_sparse_partial_fit_gives_the_dense_model(cls, optimizer):
    X, y = _data(cls)
    kwargs = {"classes": np.unique(y)} if cls is ScratchMLPClassifier else {}
    sparse, dense = _est(cls, optimizer=optimizer), _est(cls, optimizer=optimizer)
    for chunk in (slice(0, 60), slice(60, 150), slice(0, 150)):
        sparse.partial_fit(X[chunk], y[chunk], **kwargs)
        dense.partial_fit(X[chunk].toarray(), y[chunk], **kwargs)
    assert_same_model(sparse, dense, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_sparse_with_sample_weight_gives_the_dense_model(cls, optimizer):
    X, y = _data(cls)
    sw = np.random.default_rng(1).integers(0, 4, X.shape[0]).astype(float)
    dense = _est(cls, optimizer=optimizer).fit(X.toarray(), y, sample_weight=sw)
    sparse = _est(cls, optimizer=optimizer).fit(X, y, sample_weight=sw)
    rtol = 1e-9 if OPTIMIZERS[optimizer].stepwise else 1e-6
    assert_same_model(sparse, dense, rtol=rtol, atol=rtol * 1e-2)
    unweighted = _est(cls, optimizer=optimizer).fit(X, y)
    assert not np.allclose(unweighted.coefs_[0], sparse.coefs_[0])


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_float32_sparse_stays_float32(cls, optimizer):
    X, y = _data(cls)
    X32 = X.astype(np.float32)
    est = _est(cls, optimizer=optimizer).fit(X32, y)
    assert all(w.dtype == np.float32 for w in est.coefs_ + est.intercepts_)
    outputs = _outputs(est, X32)
    assert all(out.dtype == np.float32 for out in outputs[1 if len(outputs) > 1 else 0 :])
    dense = _est(cls, optimizer=optimizer).fit(X32.toarray(), y)
    for a, b in zip(est.coefs_, dense.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_fit_and_predict_never_densify(cls, optimizer, no_densify):
    X, y = _data(cls)
    est = _est(cls, optimizer=optimizer, early_stopping=OPTIMIZERS[optimizer].stepwise)
    est.fit(X.tocsc(), y, sample_weight=np.ones(X.shape[0]))
    _outputs(est, X.tocsc())
    est.score(X, y)


def test_wide_sparse_x_takes_a_fraction_of_its_dense_size():
    # 2000 x 50000 at density 0.001: 100k nonzeros (~1.2 MB as CSR), 800 MB dense.
    rng = np.random.default_rng(0)
    X = sp.random(2000, 50_000, density=0.001, format="csr", random_state=rng)
    y = rng.integers(0, 2, X.shape[0])
    dense_bytes = X.shape[0] * X.shape[1] * 8
    clf = ScratchMLPClassifier((4,), max_iter=2, batch_size=200, random_state=0)
    _, peak = traced_peak(lambda: clf.fit(X, y).predict_proba(X))
    assert peak < dense_bytes / 20
    assert clf.coefs_[0].shape == (50_000, 4)


def test_sparse_input_refuses_a_dense_only_dtype():
    # Complex sparse data is refused like complex dense data, by scikit-learn's
    # check_array, whose message names no argument but shows X: a complex CSR
    # matrix of X's shape (y is a dense vector).
    X, y = _data(ScratchMLPClassifier)
    shown_x = r"(?s)Complex data not supported\n<Compressed Sparse Row .*'complex128'.*\(150, 40\)"
    with pytest.raises(ValueError, match=shown_x):
        _est(ScratchMLPClassifier).fit(X.astype(np.complex128), y)


# ---- sparse targets ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_a_sparse_multilabel_y_fits_like_its_dense_copy(fmt):
    # As MLPClassifier: a sparse indicator matrix is a multilabel target, and
    # predictions come back in its format.
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=80, n_classes=4, random_state=0)
    params = {"hidden_layer_sizes": (6,), "max_iter": 5, "random_state": 0}
    dense = ScratchMLPClassifier(**params).fit(X, Y)
    sparse = ScratchMLPClassifier(**params).fit(X, sp.csr_matrix(Y).asformat(fmt))
    for a, b in zip(weights(dense), weights(sparse), strict=True):
        np.testing.assert_array_equal(a, b)
    assert sparse.multilabel_
    predicted = sparse.predict(X)
    assert sp.issparse(predicted) and predicted.format == "csr"
    np.testing.assert_array_equal(predicted.toarray(), dense.predict(X))
    np.testing.assert_array_equal(sparse.predict_proba(X), dense.predict_proba(X))
    assert sparse.score(X, sp.csr_matrix(Y)) == dense.score(X, Y)
    sparse.partial_fit(X, sp.csr_matrix(Y))
    dense.partial_fit(X, Y)
    np.testing.assert_array_equal(weights(sparse)[0], weights(dense)[0])


def test_a_sparse_y_of_labels_is_refused_by_name():
    X = np.random.default_rng(0).normal(size=(6, 3))
    y = sp.csr_matrix(np.array([[0], [1], [2], [0], [1], [2]]))
    with pytest.raises(ValueError, match="sparse y must be a multilabel indicator"):
        ScratchMLPClassifier(max_iter=2).fit(X, y)
