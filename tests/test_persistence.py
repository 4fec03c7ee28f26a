"""Saving and loading ScratchMLPClassifier and ScratchMLPRegressor.

* pickle and joblib round-trips predict bit-identically and resume training
  exactly where the original would;
* a model pickled by another sknumpynet version warns on loading
  (InconsistentVersionWarning), as scikit-learn does for its own estimators;
* the fitted state is plain arrays, lists, dicts and scalars, so skops.io
  (optional) loads it trusting no type other than the estimator itself.
"""

import copy
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from _shared import STEP_OPTIMIZERS, assert_identical, assert_same_model
from sklearn.base import clone
from sklearn.datasets import make_classification

import sknumpynet._base
from sknumpynet import ScratchMLPClassifier, ScratchMLPRegressor, __version__
from sknumpynet.exceptions import InconsistentVersionWarning
from sknumpynet.nn import OPTIMIZERS


def _type_name(estimator):
    """The name skops gives the type, e.g. sknumpynet.classifier.ScratchMLPClassifier."""
    cls = type(estimator)
    return f"{cls.__module__}.{cls.__qualname__}"


def _data(n_classes=3):
    X, y = make_classification(
        n_samples=90,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    return X, y


def _fitted(kind):
    """A fitted model and its training data, for each kind of fitted state."""
    X, y = _data()
    params = dict(hidden_layer_sizes=(6, 5), max_iter=4, random_state=0)
    if kind == "multiclass":
        return ScratchMLPClassifier(**params).fit(X, y), X, y
    if kind == "binary-sigmoid":
        y = y % 2
        return ScratchMLPClassifier(**params).fit(X, y), X, y
    if kind == "string-labels":
        y = np.array(["cat", "dog", "eel"])[y]
        return ScratchMLPClassifier(**params).fit(X, y), X, y
    if kind == "object-labels":
        y = np.array(["cat", "dog", "eel"], dtype=object)[y]
        return ScratchMLPClassifier(**params).fit(X, y), X, y
    if kind == "multilabel":
        Y = np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(int)
        return ScratchMLPClassifier(**params).fit(X, Y), X, Y
    if kind == "float32-rmsprop":
        X = X.astype(np.float32)
        return ScratchMLPClassifier(optimizer="rmsprop", **params).fit(X, y), X, y
    if kind == "early-stopping":
        return ScratchMLPClassifier(early_stopping=True, **params).fit(X, y), X, y
    if kind == "partial-fit-sgd":
        clf = ScratchMLPClassifier(optimizer="momentum", **params)
        return clf.partial_fit(X, y, classes=[0, 1, 2]), X, y
    if kind == "dataframe":
        pd = pytest.importorskip("pandas", reason="feature names need a pandas DataFrame")
        X = pd.DataFrame(X, columns=["a", "b", "c", "d"])
        return ScratchMLPClassifier(**params).fit(X, y), X, y
    if kind == "regressor":
        y = X[:, 0] - 2 * X[:, 1]
        return ScratchMLPRegressor(**params).fit(X, y), X, y
    if kind == "regressor-multioutput-float32":
        X, Y = X.astype(np.float32), np.column_stack([X[:, 0], X[:, 1] * X[:, 2]])
        return ScratchMLPRegressor(optimizer="nesterov", **params).fit(X, Y), X, Y
    if kind == "regressor-poisson-lbfgs":
        y = np.floor(np.exp(X[:, 0] / 2))
        return ScratchMLPRegressor(loss="poisson", optimizer="lbfgs", **params).fit(X, y), X, y
    raise ValueError(kind)


KINDS = [
    "multiclass",
    "binary-sigmoid",
    "string-labels",
    "object-labels",
    "multilabel",
    "float32-rmsprop",
    "early-stopping",
    "partial-fit-sgd",
    "dataframe",
    "regressor",
    "regressor-multioutput-float32",
    "regressor-poisson-lbfgs",
]


def _pickle_roundtrip(clf):
    return pickle.loads(pickle.dumps(clf))


def _joblib_roundtrip(clf):
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


def _assert_same_predictions(a, b, X):
    for method in ("predict", "predict_proba", "predict_log_proba"):
        if hasattr(a, method):
            expected, got = getattr(a, method)(X), getattr(b, method)(X)
            np.testing.assert_array_equal(got, expected)
            assert got.dtype == expected.dtype


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "roundtrip", [_pickle_roundtrip, _joblib_roundtrip], ids=["pickle", "joblib"]
)
def test_roundtrip_predicts_bit_identically(kind, roundtrip):
    clf, X, _ = _fitted(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no InconsistentVersionWarning
        loaded = roundtrip(clf)
    assert loaded is not clf
    _assert_same_predictions(clf, loaded, X)
    if hasattr(clf, "classes_"):
        np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    assert loaded.get_params() == clf.get_params()


@pytest.mark.parametrize(
    "kind", ["multiclass", "float32-rmsprop", "partial-fit-sgd", "regressor-multioutput-float32"]
)
def test_loaded_model_resumes_training_exactly_like_the_original(kind):
    # The optimizer state travels with the weights: one more partial_fit on
    # the original and on its copy gives the same bits.
    clf, X, y = _fitted(kind)
    loaded = _pickle_roundtrip(clf)
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert_same_model(loaded, clf)
    assert loaded.t_ == clf.t_ and loaded._optimizer_state["t"] == clf._optimizer_state["t"]


@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS)
def test_every_step_optimizer_resumes_exactly_after_loading(optimizer):
    # Each optimizer's own state (velocity, moments, step count) travels.
    X, y = _data()
    clf = ScratchMLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0)
    clf.set_params(optimizer=optimizer).fit(X, y)
    loaded = _pickle_roundtrip(clf)
    assert clf._optimizer_state.keys() == loaded._optimizer_state.keys()
    assert set(OPTIMIZERS[optimizer].state_names) <= clf._optimizer_state.keys()
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert_same_model(loaded, clf)
    assert_identical(loaded._optimizer_state, clf._optimizer_state, "_optimizer_state")


def test_pickle_records_the_sknumpynet_version_without_changing_the_estimator():
    clf, _, _ = _fitted("multiclass")
    state = clf.__getstate__()
    assert state["_sknumpynet_version"] == __version__
    assert "_sknumpynet_version" not in vars(clf)
    pickle.dumps(clf)
    assert "_sknumpynet_version" not in vars(clf)
    assert "_sknumpynet_version" not in vars(_pickle_roundtrip(clf))


# 0.2.0: the last version whose init="auto" drew He weights before relu layers
# (0.3.0 changed the default); its models must still load, with a warning.
@pytest.mark.parametrize("version", ["0.0.1", "0.2.0"])
@pytest.mark.parametrize("kind", ["multiclass", "regressor"])
def test_loading_a_pickle_from_another_version_warns(monkeypatch, kind, version):
    assert version != __version__
    clf, X, _ = _fitted(kind)
    monkeypatch.setattr(sknumpynet._base, "__version__", version)
    data = pickle.dumps(clf)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded = pickle.loads(data)
    warning = record[0].message
    assert warning.estimator_name == type(clf).__name__
    assert warning.original_version == version
    assert warning.current_version == __version__
    assert f"from sknumpynet version {version} when using version {__version__}" in str(warning)
    # It still loads: the warning only says the model may behave differently.
    _assert_same_predictions(clf, loaded, X)


# Optimizers whose state keeps sums with a decay rate.
DECAYING = [n for n, r in OPTIMIZERS.items() if getattr(r, "decays", None)]


def _decaying(optimizer, **params):
    """A small classifier whose decay rates all differ from their defaults."""
    return ScratchMLPClassifier(
        hidden_layer_sizes=(6,),
        optimizer=optimizer,
        momentum=0.5,
        rho=0.7,
        beta_1=0.6,
        beta_2=0.8,
        max_iter=3,
        random_state=0,
        **params,
    )


def _without_stream_origins(state):
    """``state`` as pickled before it kept its sums' decay rates and its schedule's start."""
    state["_optimizer_state"] = {k: v for k, v in state["_optimizer_state"].items() if k != "rates"}
    del state["_learning_rate_init"]


# Before 0.3.0 the optimizer state held the moving averages (1 - b) V of the
# sums V it holds now; a model pickled then resumes with the same steps.
@pytest.mark.parametrize("optimizer", DECAYING)
@pytest.mark.parametrize("version", ["0.2.0", "unknown"])
def test_optimizer_state_pickled_as_averages_resumes_the_same_steps(optimizer, version):
    X, y = _data()
    clf = _decaying(optimizer).fit(X, y)
    state = clf.__getstate__()
    old = state["_optimizer_state"] = dict(state["_optimizer_state"])
    for name, rate in OPTIMIZERS[optimizer].decays.items():
        old[name] = (1 - clf.get_params()[rate]) * old[name]  # a new array, as saved then
    if version == "unknown":
        del state["_sknumpynet_version"]
    else:
        state["_sknumpynet_version"] = version
    loaded = ScratchMLPClassifier.__new__(ScratchMLPClassifier)
    with pytest.warns(InconsistentVersionWarning):
        loaded.__setstate__(state)
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    for a, b in zip(clf.coefs_ + clf.intercepts_, loaded.coefs_ + loaded.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("optimizer", DECAYING)
def test_a_pickle_without_its_stream_origins_follows_changed_settings(optimizer):
    # Pickles from before the state kept its sums' decay rates and the
    # schedule's learning_rate_init: the loaded model took a changed rate for
    # the old one (misreading the sums) and ignored a changed adaptive start.
    X, y = _data()
    clf = _decaying(optimizer, learning_rate="adaptive").fit(X, y)
    state = clf.__getstate__()
    _without_stream_origins(state)
    state["_sknumpynet_version"] = "0.3.0.dev1"
    loaded = ScratchMLPClassifier.__new__(ScratchMLPClassifier)
    with pytest.warns(InconsistentVersionWarning):
        loaded.__setstate__(state)
    changes = dict(momentum=0.9, rho=0.9, beta_1=0.8, beta_2=0.9, learning_rate_init=0.05)
    for est in (clf, loaded):
        est.set_params(**changes).partial_fit(X, y)
    assert loaded.learning_rates_ == clf.learning_rates_
    for a, b in zip(clf.coefs_ + clf.intercepts_, loaded.coefs_ + loaded.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "change",
    [
        {"learning_rate_init": "bad"},
        {"learning_rate_init": None},
        {"beta_1": None},
        {"optimizer": ["adam"]},
    ],
    ids=repr,
)
def test_an_old_pickle_with_odd_hyperparameters_still_loads(change):
    # Filling in the decay rates and the schedule's start of an older pickle
    # converted its hyperparameters unguarded and failed on such values.
    X, y = _data()
    clf = ScratchMLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0).fit(X, y)
    state = clf.__getstate__()
    _without_stream_origins(state)
    state.update(change, _sknumpynet_version="0.3.0.dev1")
    loaded = ScratchMLPClassifier.__new__(ScratchMLPClassifier)
    with pytest.warns(InconsistentVersionWarning):
        loaded.__setstate__(state)
    _assert_same_predictions(clf, loaded, X)


@pytest.mark.parametrize("version", ["1.0rc1", "0.4a1", "0.3rc1", "1!0.4", "0.3.0.dev1"])
def test_a_pickle_from_a_later_pre_release_keeps_its_optimizer_state(version):
    # "1.0rc1" was read as "before 0.3", and the sums in its state were
    # converted as if they were averages (Adam's m times 10, s times 1000).
    X, y = _data()
    clf = ScratchMLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0).fit(X, y)
    state = dict(clf.__getstate__(), _sknumpynet_version=version)
    loaded = ScratchMLPClassifier.__new__(ScratchMLPClassifier)
    with pytest.warns(InconsistentVersionWarning):
        loaded.__setstate__(state)
    for name in ("m", "s"):
        np.testing.assert_array_equal(loaded._optimizer_state[name], clf._optimizer_state[name])


# What a 0.1.0 pickle lacks: the hyperparameters and fitted attributes 0.2 added.
ADDED_IN_0_2 = (
    "class_weight",
    "dropout",
    "learning_rate",
    "max_fun",
    "power_t",
    "learning_rates_",
    "validation_loss_curve_",
    "_learning_rate",
    "_learning_rate_init",
    "_random_seed",
    "_schedule_epoch",
)


@pytest.mark.parametrize("optimizer", STEP_OPTIMIZERS)
def test_a_0_1_pickle_resumes_training_as_a_constant_rate_model(optimizer):
    # It loaded and predicted, but partial_fit failed on _random_seed (and then
    # on the schedule's position): 0.1 had none of what 0.2 added.
    X, y = _data()
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(6,), optimizer=optimizer, max_iter=3, shuffle=False, random_state=0
    ).fit(X, y)
    state = clf.__getstate__()
    del state["_sknumpynet_version"]
    for name in ADDED_IN_0_2:
        del state[name]
    old = state["_optimizer_state"] = dict(state["_optimizer_state"])
    for name, rate in OPTIMIZERS[optimizer].decays.items():
        old[name] = (1 - clf.get_params()[rate]) * old[name]  # averages, as 0.1 kept them
    loaded = ScratchMLPClassifier.__new__(ScratchMLPClassifier)
    with pytest.warns(InconsistentVersionWarning, match="version unknown"):
        loaded.__setstate__(state)
    assert loaded.get_params() == clf.get_params()
    assert loaded.learning_rates_ == clf.learning_rates_
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    assert loaded.learning_rates_ == clf.learning_rates_
    for a, b in zip(clf.coefs_ + clf.intercepts_, loaded.coefs_ + loaded.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    _assert_same_predictions(clone(clf).fit(X, y), clone(loaded).fit(X, y), X)


def test_loading_a_state_without_a_version_warns():
    clf, _, _ = _fitted("multiclass")
    state = clf.__getstate__()
    del state["_sknumpynet_version"]
    blank = ScratchMLPClassifier.__new__(ScratchMLPClassifier)
    with pytest.warns(InconsistentVersionWarning, match="version unknown"):
        blank.__setstate__(state)
    np.testing.assert_array_equal(blank.coefs_[0], clf.coefs_[0])


def test_copy_and_clone_do_not_warn():
    clf, X, _ = _fitted("multiclass")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        copied = copy.deepcopy(clf)
        cloned = clone(clf)
    _assert_same_predictions(clf, copied, X)
    assert not hasattr(cloned, "coefs_")


_PLAIN_SCALARS = (bool, int, float, str, type(None))


def _assert_plain(value, where):
    """Fitted state is plain Python scalars, containers and numeric/str arrays."""
    if isinstance(value, np.ndarray):
        assert value.dtype.kind in "biufUO", where
        if value.dtype.kind == "O":
            for i, item in enumerate(value.ravel()):
                _assert_plain(item, f"{where}[{i}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _assert_plain(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), where
            _assert_plain(item, f"{where}[{key!r}]")
    else:
        assert type(value) in _PLAIN_SCALARS, f"{where} is a {type(value)}"


@pytest.mark.parametrize("kind", KINDS)
def test_fitted_state_is_plain_data(kind):
    # What is saved; the network cache of partial_fit streams is left out of it.
    clf, _, _ = _fitted(kind)
    state = clf.__getstate__()
    assert "_cache" not in state
    for name, value in state.items():
        _assert_plain(value, name)


def test_diverged_model_state_is_plain_and_pickles():
    from sknumpynet.exceptions import DivergenceWarning

    X, y = _data()
    with pytest.warns(DivergenceWarning):
        clf = ScratchMLPClassifier(optimizer="sgd", learning_rate_init=10.0, random_state=0)
        clf.fit(X, y)
    for name, value in clf.__getstate__().items():
        _assert_plain(value, name)
    _assert_same_predictions(clf, _pickle_roundtrip(clf), X)


# ---- skops ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sio():
    return pytest.importorskip("skops.io", reason="skops is an optional extra (pip install skops)")


@pytest.mark.parametrize("kind", KINDS)
def test_skops_needs_to_trust_only_the_estimator(sio, kind, tmp_path):
    clf, X, _ = _fitted(kind)
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    assert sio.get_untrusted_types(file=path) == [_type_name(clf)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no InconsistentVersionWarning
        loaded = sio.load(path, trusted=[_type_name(clf)])
    assert type(loaded) is type(clf)
    _assert_same_predictions(clf, loaded, X)
    loaded_state = vars(loaded)
    assert "_sknumpynet_version" not in loaded_state
    assert set(loaded_state) == set(clf.__getstate__()) - {"_sknumpynet_version"}


@pytest.mark.parametrize("kind", ["multiclass", "regressor"])
def test_skops_refuses_to_load_without_trusting_the_estimator(sio, kind):
    clf, _, _ = _fitted(kind)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match=type(clf).__name__):
        sio.loads(sio.dumps(clf))


@pytest.mark.parametrize("kind", ["float32-rmsprop", "regressor-multioutput-float32"])
def test_skops_loaded_model_resumes_training(sio, kind):
    clf, X, y = _fitted(kind)
    loaded = sio.loads(sio.dumps(clf), trusted=[_type_name(clf)])
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    for a, b in zip(clf.coefs_ + clf.intercepts_, loaded.coefs_ + loaded.intercepts_, strict=True):
        np.testing.assert_array_equal(b, a)
    assert loaded.coefs_[0].dtype == np.float32
