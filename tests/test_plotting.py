"""LossCurveDisplay: what it draws (training and validation loss, validation score), for our
estimators, pipelines and MLPClassifier."""

import re
import subprocess
import sys

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import LossCurveDisplay, ScratchMLPClassifier, ScratchMLPRegressor

matplotlib = pytest.importorskip(
    "matplotlib", reason="matplotlib (the plot extra) is not installed"
)
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_from_estimator_draws_the_loss_curve(Estimator, data):
    clf = Estimator(hidden_layer_sizes=(8,), max_iter=7, random_state=0).fit(*data)
    display = LossCurveDisplay.from_estimator(clf)
    assert isinstance(display, LossCurveDisplay)
    np.testing.assert_array_equal(display.line_.get_xdata(), np.arange(1, clf.n_iter_ + 1))
    np.testing.assert_allclose(display.line_.get_ydata(), clf.loss_curve_)
    assert display.ax_.figure is display.figure_
    assert display.line_ in display.ax_.get_lines()
    assert display.ax_.get_xlabel() == "epoch"
    assert display.line_.get_label() == Estimator.__name__
    assert display.validation_ax_ is None and display.validation_line_ is None
    assert display.validation_loss_line_ is None and clf.validation_loss_curve_ is None
    assert display.ax_.get_ylabel() == "training loss"


def test_from_estimator_draws_validation_scores_on_a_twin_axis(data):
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(8,), max_iter=6, early_stopping=True, random_state=0
    )
    clf = clf.fit(*data)
    display = LossCurveDisplay.from_estimator(clf, name="scratch")
    assert display.validation_ax_ is not None and display.validation_ax_ is not display.ax_
    np.testing.assert_allclose(display.validation_line_.get_ydata(), clf.validation_scores_)
    assert display.validation_line_.get_color() == display.line_.get_color()
    # The held-out split's loss shares the training loss's axes.
    assert display.validation_loss_line_ in display.ax_.get_lines()
    np.testing.assert_allclose(
        display.validation_loss_line_.get_ydata(), clf.validation_loss_curve_
    )
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == ["scratch", "scratch (validation loss)", "scratch (validation score)"]
    hidden = LossCurveDisplay.from_estimator(clf, show_validation=False)
    assert hidden.validation_line_ is None and hidden.validation_loss_line_ is None
    assert hidden.ax_.get_ylabel() == "training loss"


@pytest.mark.parametrize("early_stopping", [False, True])
def test_given_validation_set_draws_both_losses(early_stopping, data):
    X, y = data
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(8,), max_iter=6, early_stopping=early_stopping, random_state=0
    )
    clf = clf.fit(X[:90], y[:90], X_val=X[90:], y_val=y[90:])
    display = LossCurveDisplay.from_estimator(clf)
    epochs = np.arange(1, clf.n_iter_ + 1)
    np.testing.assert_allclose(display.line_.get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(display.validation_loss_line_.get_xdata(), epochs)
    np.testing.assert_allclose(
        display.validation_loss_line_.get_ydata(), clf.validation_loss_curve_
    )
    np.testing.assert_allclose(display.validation_line_.get_ydata(), clf.validation_scores_)
    assert display.validation_loss_line_.get_linestyle() == ":"
    assert display.validation_loss_line_.get_color() == display.line_.get_color()
    assert display.ax_.get_ylabel() == "loss"
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == [
        "ScratchMLPClassifier",
        *(f"ScratchMLPClassifier (validation {w})" for w in ("loss", "score")),
    ]


def test_plot_on_given_axes_overlays_curves(data):
    fig, ax = plt.subplots()
    displays = []
    for optimizer in ("sgd", "adam"):
        clf = ScratchMLPClassifier(
            hidden_layer_sizes=(8,),
            optimizer=optimizer,
            learning_rate_init=0.01,
            max_iter=5,
            early_stopping=True,
            random_state=0,
        )
        displays.append(
            LossCurveDisplay.from_estimator(clf.fit(*data), ax=ax, name=optimizer, lw=3)
        )
    assert all(d.ax_ is ax and d.figure_ is fig for d in displays)
    assert [line.get_label() for line in ax.get_lines()] == [
        "sgd",
        "sgd (validation loss)",
        "adam",
        "adam (validation loss)",
    ]
    assert displays[0].line_.get_linewidth() == 3
    assert displays[0].validation_loss_line_.get_linewidth() == 3
    assert displays[0].line_.get_color() != displays[1].line_.get_color()
    # One shared right-hand axis for both validation curves.
    assert displays[0].validation_ax_ is displays[1].validation_ax_
    assert len(displays[1].validation_ax_.get_lines()) == 2
    assert len(fig.axes) == 2


def test_constructor_and_plot_from_saved_curves():
    display = LossCurveDisplay(loss_curve=[1.0, 0.5, 0.25], estimator_name="saved")
    assert not hasattr(display, "ax_")
    display.plot(log_scale=True)
    assert display.ax_.get_yscale() == "log"
    np.testing.assert_allclose(display.line_.get_ydata(), [1.0, 0.5, 0.25])
    assert display.validation_loss_line_ is None and display.validation_line_ is None
    display.plot(name="renamed")
    assert display.line_.get_label() == "renamed"
    unnamed = LossCurveDisplay(
        loss_curve=[1.0, 0.5], validation_loss_curve=[1.2, 0.9], validation_scores=[0.6, 0.7]
    ).plot()
    np.testing.assert_allclose(unnamed.validation_loss_line_.get_ydata(), [1.2, 0.9])
    np.testing.assert_allclose(unnamed.validation_line_.get_ydata(), [0.6, 0.7])
    labels = [t.get_text() for t in unnamed.ax_.get_legend().get_texts()]
    assert labels == ["training loss", "validation loss", "validation score"]


def test_pipeline_and_mlpclassifier_are_accepted(data):
    pipe = make_pipeline(StandardScaler(), ScratchMLPClassifier(max_iter=4, random_state=0)).fit(
        *data
    )
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_allclose(display.line_.get_ydata(), pipe[-1].loss_curve_)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(*data)
    display = LossCurveDisplay.from_estimator(mlp)
    assert display.line_.get_label() == "MLPClassifier"
    np.testing.assert_allclose(display.line_.get_ydata(), mlp.loss_curve_)
    # MLPClassifier records validation scores but no validation loss.
    mlp = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=5, early_stopping=True, random_state=0
    ).fit(*data)
    display = LossCurveDisplay.from_estimator(mlp)
    assert display.validation_loss_line_ is None
    np.testing.assert_allclose(display.validation_line_.get_ydata(), mlp.validation_scores_)
    assert display.ax_.get_ylabel() == "training loss"


def test_pipeline_with_routed_validation_set_draws_both_losses(data):
    X, y = data
    mlp = ScratchMLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [("scale", StandardScaler()), ("mlp", mlp.set_fit_request(X_val=True, y_val=True))],
            transform_input=["X_val"],
        )
        pipe = pipe.fit(X[:90], y[:90], X_val=X[90:], y_val=y[90:])
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_allclose(display.line_.get_ydata(), pipe[-1].loss_curve_)
    np.testing.assert_allclose(
        display.validation_loss_line_.get_ydata(), pipe[-1].validation_loss_curve_
    )


def test_unfitted_or_curveless_estimators_are_refused(data):
    with pytest.raises(NotFittedError, match="ScratchMLPClassifier instance is not fitted yet"):
        LossCurveDisplay.from_estimator(ScratchMLPClassifier())
    with pytest.raises(TypeError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(LogisticRegression().fit(*data))


def test_plotting_without_matplotlib_names_the_plot_extra(data, monkeypatch):
    # Python's own error named matplotlib.pyplot only.
    clf = ScratchMLPClassifier(max_iter=2, random_state=0).fit(*data)
    for name in ("matplotlib", "matplotlib.pyplot"):  # what an absent package gives
        monkeypatch.setitem(sys.modules, name, None)
    expected = (
        "LossCurveDisplay needs matplotlib, which is not installed; install the plot extra: "
        'pip install "sknumpynet[plot]"'
    )
    for draw in (
        lambda: LossCurveDisplay.from_estimator(clf),
        lambda: LossCurveDisplay(loss_curve=[1.0, 0.5]).plot(),
    ):
        with pytest.raises(ModuleNotFoundError, match=f"^{re.escape(expected)}$") as excinfo:
            draw()
        assert isinstance(excinfo.value.__cause__, ModuleNotFoundError)


def test_matplotlib_is_imported_only_when_plotting():
    code = (
        "import sys, sknumpynet, sknumpynet.plotting, sknumpynet.datasets; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_validation_curves_are_drawn_at_the_epochs_that_were_validated(data):
    # A warm fit given X_val after 3 unvalidated epochs validates epochs 4-6:
    # the curves were drawn at epochs 1-3.
    X, y = data
    clf = ScratchMLPClassifier(max_iter=3, warm_start=True, random_state=0).fit(X, y)
    clf.fit(X[:80], y[:80], X_val=X[80:], y_val=y[80:])
    assert len(clf.loss_curve_) == 6 and len(clf.validation_scores_) == 3
    display = LossCurveDisplay.from_estimator(clf)
    for line in (display.validation_line_, display.validation_loss_line_):
        np.testing.assert_array_equal(line.get_xdata(), [4, 5, 6])
    # A call without a validation set ends the records: nothing is left to misplace.
    clf.partial_fit(X, y)
    assert clf.validation_scores_ is None
    assert LossCurveDisplay.from_estimator(clf).validation_line_ is None


def test_a_transformed_target_regressor_is_unwrapped(data):
    # The main job's regression model: it "had no loss_curve_".
    from sklearn.compose import TransformedTargetRegressor

    X, _ = data
    model = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), ScratchMLPRegressor(max_iter=4, random_state=0)),
        transformer=StandardScaler(),
    ).fit(X, X @ [1.0, 2.0, 0.0, -1.0])
    display = LossCurveDisplay.from_estimator(model)
    np.testing.assert_allclose(display.line_.get_ydata(), model.regressor_[-1].loss_curve_)


@pytest.mark.parametrize("ax", ["left", "figure", "array of axes"], ids=["str", "figure", "array"])
def test_ax_that_is_not_an_axes_is_refused(ax):
    fig, axes = plt.subplots(1, 2)
    ax = {"left": "left", "figure": fig, "array of axes": axes}[ax]
    with pytest.raises(TypeError, match=r"^ax must be a matplotlib Axes or None"):
        LossCurveDisplay(loss_curve=[1.0, 0.5]).plot(ax=ax)


@pytest.mark.parametrize("curve", [None, [], [[1.0, 0.5]]], ids=["None", "empty", "2-D"])
def test_a_loss_curve_that_is_not_one_loss_per_epoch_is_refused(curve):
    # None was drawn as one NaN point.
    with pytest.raises(ValueError, match=r"^loss_curve must be a non-empty 1-D sequence"):
        LossCurveDisplay(loss_curve=curve).plot()
    assert not plt.get_fignums()  # refused before a figure was made


def test_a_model_that_recorded_no_epoch_is_refused_saying_so(data):
    # A divergence at the first batch keeps the starting weights and records
    # no epoch: the message named the constructor's loss_curve argument.
    X, y = data
    clf = ScratchMLPClassifier(optimizer="rmsprop", learning_rate_init=1e6, random_state=0)
    with pytest.warns(Warning):
        clf.fit(X * 1e3, y)
    assert clf.loss_curve_ == []
    n_figures = len(plt.get_fignums())
    with pytest.raises(ValueError, match=r"ScratchMLPClassifier recorded no epoch \(n_iter_=0\)"):
        LossCurveDisplay.from_estimator(clf)
    assert len(plt.get_fignums()) == n_figures


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("validation_scores", [0.5, 0.6, 0.7], "validation_scores has 3 entries"),
        ("validation_loss_curve", [[0.5, 0.6]], "validation_loss_curve must be a 1-D"),
    ],
)
def test_validation_curves_that_do_not_fit_the_epochs_are_refused(field, value, message):
    # They were drawn at epochs beyond the training curve, or failed in
    # matplotlib leaving an empty figure open.
    display = LossCurveDisplay(loss_curve=[1.0, 0.8], **{field: value})
    n_figures = len(plt.get_fignums())
    with pytest.raises(ValueError, match=re.escape(message)):
        display.plot()
    assert len(plt.get_fignums()) == n_figures


def test_a_label_names_the_validation_curves_too(data):
    X, y = data
    clf = ScratchMLPClassifier(max_iter=3, early_stopping=True, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(clf, label="adam")
    assert display.line_.get_label() == "adam"
    assert display.validation_line_.get_label() == "adam (validation score)"
