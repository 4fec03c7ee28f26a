"""LossCurveDisplay: what it draws, for our estimator, pipelines and MLPClassifier."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknumpynet import LossCurveDisplay, ScratchMLPClassifier, ScratchMLPRegressor

matplotlib = pytest.importorskip(
    "matplotlib", reason="matplotlib (the plot extra) is not installed"
)
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# A DivergenceWarning (a ConvergenceWarning subclass) fails any test here.
pytestmark = pytest.mark.filterwarnings("error::sknumpynet.exceptions.DivergenceWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def fitted(estimator, X, y):
    """fit, ignoring only the warning that max_iter ended training (ours and sklearn's)."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="Stochastic Optimizer: Maximum iterations",
            category=ConvergenceWarning,
        )
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


@pytest.mark.parametrize("Estimator", [ScratchMLPClassifier, ScratchMLPRegressor])
def test_from_estimator_draws_the_loss_curve(Estimator, data):
    clf = fitted(Estimator(hidden_layer_sizes=(8,), max_iter=7, random_state=0), *data)
    display = LossCurveDisplay.from_estimator(clf)
    assert isinstance(display, LossCurveDisplay)
    np.testing.assert_array_equal(display.line_.get_xdata(), np.arange(1, clf.n_iter_ + 1))
    np.testing.assert_allclose(display.line_.get_ydata(), clf.loss_curve_)
    assert display.ax_.figure is display.figure_
    assert display.line_ in display.ax_.get_lines()
    assert display.ax_.get_xlabel() == "epoch"
    assert display.line_.get_label() == Estimator.__name__
    assert display.validation_ax_ is None and display.validation_line_ is None


def test_from_estimator_draws_validation_scores_on_a_twin_axis(data):
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(8,), max_iter=6, early_stopping=True, random_state=0
    )
    clf = fitted(clf, *data)
    display = LossCurveDisplay.from_estimator(clf, name="scratch")
    assert display.validation_ax_ is not None and display.validation_ax_ is not display.ax_
    np.testing.assert_allclose(display.validation_line_.get_ydata(), clf.validation_scores_)
    assert display.validation_line_.get_color() == display.line_.get_color()
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == ["scratch", "scratch (validation)"]
    hidden = LossCurveDisplay.from_estimator(clf, show_validation=False)
    assert hidden.validation_line_ is None


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
            LossCurveDisplay.from_estimator(fitted(clf, *data), ax=ax, name=optimizer, lw=3)
        )
    assert all(d.ax_ is ax and d.figure_ is fig for d in displays)
    assert [line.get_label() for line in ax.get_lines()] == ["sgd", "adam"]
    assert displays[0].line_.get_linewidth() == 3
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
    display.plot(name="renamed")
    assert display.line_.get_label() == "renamed"


def test_pipeline_and_mlpclassifier_are_accepted(data):
    pipe = fitted(
        make_pipeline(StandardScaler(), ScratchMLPClassifier(max_iter=4, random_state=0)), *data
    )
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_allclose(display.line_.get_ydata(), pipe[-1].loss_curve_)
    mlp = fitted(MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0), *data)
    display = LossCurveDisplay.from_estimator(mlp)
    assert display.line_.get_label() == "MLPClassifier"
    np.testing.assert_allclose(display.line_.get_ydata(), mlp.loss_curve_)


def test_unfitted_or_curveless_estimators_are_refused(data):
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(ScratchMLPClassifier())
    with pytest.raises(TypeError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(LogisticRegression().fit(*data))


def test_matplotlib_is_imported_only_when_plotting():
    code = (
        "import sys, sknumpynet, sknumpynet.plotting, sknumpynet.datasets; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
