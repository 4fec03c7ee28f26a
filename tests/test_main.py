"""The main job, ``python -m sknumpynet``."""

import subprocess
import sys

import pytest

from sknumpynet.__main__ import build_parser, main


def test_main_job_trains_compares_and_round_trips(capsys, tmp_path):
    path = tmp_path / "model.joblib"
    assert main(["--dataset", "iris", "--epochs", "3", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("Iteration ") == 3  # progress: one line per epoch
    assert "ETA" in out
    assert "ScratchMLPClassifier" in out and "sklearn MLPClassifier" in out
    # At the defaults (init="auto" included, since 0.3.0) scikit-learn's MLP is
    # built at exactly our settings: nothing to note.
    assert "note:" not in out
    assert "predict_proba identical" in out
    assert path.stat().st_size > 0


@pytest.mark.parametrize("optimizer", ["gd", "nesterov", "rmsprop"])
def test_main_job_options(capsys, optimizer):
    argv = ["--dataset", "wine", "--epochs", "2", "--quiet", "--optimizer", optimizer]
    assert main([*argv, "--head", "sigmoid", "--hidden", "8,4", "--no-compare"]) == 0
    out = capsys.readouterr().out
    assert "Iteration" not in out
    assert "sklearn MLPClassifier" not in out
    assert "optimizer='" + optimizer + "'" in out


@pytest.mark.parametrize("dataset", ["diabetes", "friedman1"])
def test_regression_task_compares_with_mlpregressor_and_round_trips(capsys, dataset):
    argv = ["--task", "regression", "--dataset", dataset, "--epochs", "3", "--hidden", "16"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.count("Iteration ") == 3
    assert "ScratchMLPRegressor" in out and "sklearn MLPRegressor" in out
    assert "test R2" in out
    assert "predict identical" in out


def test_regression_defaults_to_diabetes(capsys):
    assert main(["--task", "regression", "--epochs", "1", "--quiet", "--no-compare"]) == 0
    assert "Dataset diabetes: 331 train / 111 test samples, 10 features" in capsys.readouterr().out


def test_regression_poisson_loss_and_glorot_init(capsys):
    argv = ["--task", "regression", "--loss", "poisson", "--init", "glorot_uniform"]
    assert main([*argv, "--epochs", "2", "--quiet", "--hidden", "8"]) == 0
    out = capsys.readouterr().out
    assert "loss='poisson'" in out and "init='glorot_uniform'" in out
    assert "note:" not in out  # MLPRegressor has the same loss and initialisation
    assert "predict identical" in out


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_lbfgs_runs_for_both_tasks(capsys, task):
    argv = ["--task", task, "--optimizer", "lbfgs", "--epochs", "3", "--hidden", "8"]
    dataset = "iris" if task == "classification" else "diabetes"
    assert main([*argv, "--dataset", dataset]) == 0
    out = capsys.readouterr().out
    assert out.count("Iteration ") == 3  # one progress line per L-BFGS iteration
    assert "optimizer='lbfgs'" in out
    assert "identical" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--task", "regression", "--dataset", "iris"], "not a regression dataset"),
        (["--dataset", "diabetes"], "not a classification dataset"),
        (["--task", "regression", "--head", "softmax"], "--head is for"),
        (["--loss", "poisson"], "--loss is for"),
        (["--epochs", "0"], "--epochs must be >= 1"),
    ],
)
def test_options_of_the_other_task_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    assert message in capsys.readouterr().err


def test_mnist_without_files_says_where_to_point(monkeypatch, tmp_path):
    monkeypatch.delenv("SKNUMPYNET_MNIST_DIR", raising=False)
    with pytest.raises(SystemExit, match="--mnist-dir"):
        main(["--dataset", "mnist", "--mnist-dir", str(tmp_path)])


@pytest.mark.parametrize("bad", ["0", "8,x", "-3"])
def test_bad_hidden_sizes_are_refused(bad, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--hidden", bad])
    assert "--hidden" in capsys.readouterr().err


def test_module_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "sknumpynet", "--help"], capture_output=True, text=True, check=True
    )
    for option in ["--optimizer", "--head", "--task", "--loss", "--init"]:
        assert option in result.stdout
    assert "lbfgs" in result.stdout and "glorot_uniform" in result.stdout


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_export_onnx_writes_the_main_jobs_model(capsys, tmp_path, task):
    ort = pytest.importorskip(
        "onnxruntime", reason="the onnx extra (pip install 'sknumpynet[onnx]') is not installed"
    )
    path = tmp_path / "model.onnx"
    argv = ["--task", task, "--epochs", "2", "--quiet", "--no-compare", "--hidden", "16"]
    assert main([*argv, "--export-onnx", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"Exported to ONNX at {path}" in out and "onnxruntime" in out and " match " in out
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    assert names == (["variable"] if task == "regression" else ["label", "probabilities"])


def test_export_onnx_without_the_extra_is_refused_before_training(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(SystemExit):
        main(["--epochs", "1", "--export-onnx", str(tmp_path / "model.onnx")])
    err = capsys.readouterr()
    assert "--export-onnx needs the onnx extra (pip install 'sknumpynet[onnx]')" in err.err
    assert "Training" not in err.out
