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
    assert "--optimizer" in result.stdout and "--head" in result.stdout
