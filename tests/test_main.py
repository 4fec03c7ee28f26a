"""The main job, ``python -m sknumpynet``."""

import os
import subprocess
import sys

import numpy as np
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


def _usage_error(argv, capsys):
    """``main(argv)``'s usage error: exit status 2, stderr; nothing trained."""
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    captured = capsys.readouterr()
    assert excinfo.value.code == 2
    assert "usage: python -m sknumpynet" in captured.err
    assert "Training" not in captured.out
    return " ".join(captured.err.split())


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--lr", "0", "--lr must be a finite number > 0"),
        ("--lr", "-1", "--lr must be a finite number > 0"),
        ("--lr", "nan", "--lr must be a finite number > 0"),
        ("--lr", "inf", "--lr must be a finite number > 0"),
        ("--batch-size", "0", "--batch-size must be >= 1"),
        ("--batch-size", "-5", "--batch-size must be >= 1"),
        ("--random-state", "-1", "--random-state must be in [0, 4294967295]"),
        ("--random-state", "4294967296", "--random-state must be in [0, 4294967295]"),
    ],
)
def test_bad_numbers_are_usage_errors(option, value, message, capsys):
    argv = ["--dataset", "iris", "--epochs", "1", "--quiet", "--no-compare"]
    assert message in _usage_error([*argv, option, value], capsys)


@pytest.mark.parametrize("option", ["--save", "--export-onnx"])
def test_unwritable_output_paths_are_refused_before_training(option, capsys, tmp_path):
    argv = ["--dataset", "iris", "--epochs", "1", "--quiet", "--no-compare", option]
    missing = tmp_path / "missing" / "model.out"
    assert "does not exist" in _usage_error([*argv, str(missing)], capsys)
    assert "is a directory" in _usage_error([*argv, str(tmp_path)], capsys)


@pytest.mark.parametrize("option", ["--save", "--export-onnx"])
def test_output_paths_the_os_refuses_are_usage_errors_before_training(option, capsys, tmp_path):
    # os.access let an over-long name (and, for root, anything) through: the
    # write failed after training.
    argv = ["--dataset", "iris", "--epochs", "1", "--quiet", "--no-compare", option]
    too_long = str(tmp_path / ("a" * 300 + ".out"))
    err = _usage_error([*argv, too_long], capsys)
    assert f"{option} {too_long}: cannot write there (" in err
    if sys.platform != "win32":
        assert "(File name too long)" in err
    if sys.platform.startswith("linux"):  # /proc takes no new files, even from root
        err = _usage_error([*argv, "/proc/sknumpynet-model.out"], capsys)
        assert f"{option} /proc/sknumpynet-model.out: cannot write there (" in err


def test_output_path_check_creates_nothing_and_keeps_an_existing_file(tmp_path):
    new, old = tmp_path / "new.joblib", tmp_path / "old.joblib"
    old.write_bytes(b"kept")
    args = build_parser().parse_args(["--save", str(new), "--export-onnx", str(old)])
    assert (args.save, args.export_onnx) == (str(new), str(old))
    assert not new.exists()
    assert old.read_bytes() == b"kept"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="symlinks and FIFOs of POSIX systems")
def test_output_path_check_through_a_symlink_and_on_a_fifo(capsys, tmp_path):
    # A dangling symlink: the probe created its target and never removed it.
    link, target = tmp_path / "link.joblib", tmp_path / "target.joblib"
    link.symlink_to(target)
    assert build_parser().parse_args(["--save", str(link)]).save == str(link)
    assert not target.exists()
    # A FIFO: opening it to probe blocked until a reader came.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    err = _usage_error(["--dataset", "iris", "--epochs", "1", "--save", str(fifo)], capsys)
    assert "is not a regular file" in err


def test_save_and_export_onnx_to_one_file_are_refused(capsys, tmp_path):
    path = str(tmp_path / "model")
    err = _usage_error(["--epochs", "1", "--save", path, "--export-onnx", path], capsys)
    assert "--save and --export-onnx must be different files" in err


def _write_idx(path, array):
    """``array`` (uint8) as an IDX file, the format :func:`load_idx` reads."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    path.write_bytes(header + array.astype("u1").tobytes())


def test_mnist_without_a_folder_is_a_usage_error_naming_the_files(monkeypatch, capsys):
    monkeypatch.delenv("SKNUMPYNET_MNIST_DIR", raising=False)
    err = _usage_error(["--dataset", "mnist"], capsys)
    assert "t10k-images-idx3-ubyte" in err and "t10k-labels-idx1-ubyte" in err
    assert "pass --mnist-dir DIR" in err and "SKNUMPYNET_MNIST_DIR" in err


def test_mnist_folder_without_the_files_says_where_it_looked(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("SKNUMPYNET_MNIST_DIR", raising=False)
    err = _usage_error(["--dataset", "mnist", "--mnist-dir", str(tmp_path)], capsys)
    assert f"not both in {tmp_path} (--mnist-dir)" in err
    assert "t10k-images-idx3-ubyte" in err and "Pass --mnist-dir" not in err
    err = _usage_error(["--dataset", "mnist", "--mnist-dir", str(tmp_path / "no")], capsys)
    assert f"--mnist-dir {tmp_path / 'no'} is not a directory" in err
    monkeypatch.setenv("SKNUMPYNET_MNIST_DIR", str(tmp_path))
    err = _usage_error(["--dataset", "mnist"], capsys)
    assert f"not both in {tmp_path} ($SKNUMPYNET_MNIST_DIR)" in err


def test_corrupt_mnist_file_is_a_usage_error_with_the_loaders_message(capsys, tmp_path):
    images = np.zeros((4, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(4))
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])  # truncated
    err = _usage_error(["--dataset", "mnist", "--mnist-dir", str(tmp_path)], capsys)
    assert "cannot read the MNIST test set" in err
    assert "bytes of data, the file has" in err  # load_idx's own message


def test_mnist_reads_the_test_set_files_and_splits_them(capsys, tmp_path):
    rng = np.random.default_rng(0)
    labels = np.tile(np.arange(4), 10)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (40, 28, 28)))
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels)
    argv = ["--dataset", "mnist", "--mnist-dir", str(tmp_path), "--epochs", "1", "--quiet"]
    assert main([*argv, "--no-compare", "--hidden", "4"]) == 0
    out = capsys.readouterr().out
    assert "MNIST test set: 40 images from t10k-images-idx3-ubyte" in out
    assert "Dataset mnist: 30 train / 10 test samples, 784 features, 4 classes" in out


def test_mnist_dir_without_mnist_is_refused(capsys, tmp_path):
    err = _usage_error(["--dataset", "iris", "--mnist-dir", str(tmp_path)], capsys)
    assert "--mnist-dir is for --dataset mnist" in err


@pytest.mark.parametrize(
    "optimizer, extra, notes",
    [
        ("lbfgs", ["--batch-size", "7", "--lr", "0.1"], ["--batch-size 7", "--lr 0.1"]),
        ("gd", ["--batch-size", "7"], ["--batch-size 7"]),
        ("adam", ["--batch-size", "7", "--lr", "0.01"], []),
    ],
)
def test_options_the_optimizer_ignores_get_a_note(optimizer, extra, notes, capsys):
    argv = ["--dataset", "iris", "--epochs", "1", "--quiet", "--no-compare", "--hidden", "4"]
    assert main([*argv, "--optimizer", optimizer, *extra]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(lines) == len(notes)
    for line, option in zip(lines, notes, strict=True):
        assert f"note: {option} is unused by --optimizer {optimizer}" in line


@pytest.mark.parametrize("bad", ["0", "8,x", "-3", "128,,64", "", ",,", " ", "64,"])
def test_bad_hidden_sizes_are_refused(bad, capsys):
    with pytest.raises(SystemExit) as excinfo:
        build_parser().parse_args(["--hidden", bad])
    assert excinfo.value.code == 2
    assert "--hidden takes positive ints separated by commas, e.g. 128,64" in (
        capsys.readouterr().err
    )


def test_hidden_sizes_allow_spaces_around_items():
    assert build_parser().parse_args(["--hidden", " 32, 16 "]).hidden == (32, 16)


def test_module_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "sknumpynet", "--help"], capture_output=True, text=True, check=True
    )
    for option in ["--optimizer", "--head", "--task", "--loss", "--init"]:
        assert option in result.stdout
    assert "lbfgs" in result.stdout and "glorot_uniform" in result.stdout
    text = " ".join(result.stdout.split())
    assert "10,000-image MNIST test set (t10k IDX files)" in text
    assert "split into train/test" in text


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


def test_save_and_export_onnx_through_a_symlink_to_one_file_are_refused(tmp_path, capsys):
    # abspath saw two names, and the ONNX bytes overwrote the saved model.
    link = tmp_path / "link.onnx"
    link.symlink_to(tmp_path / "model.joblib")
    argv = ["--save", str(tmp_path / "model.joblib"), "--export-onnx", str(link)]
    assert "--save and --export-onnx must be different files" in _usage_error(argv, capsys)


def test_a_network_too_large_to_build_is_a_usage_error_naming_hidden(capsys):
    # numpy's OverflowError was a traceback; the fit starts, then refuses.
    with pytest.raises(SystemExit) as info:
        main(["--hidden", str(2**63), "--epochs", "1", "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error: --hidden 9223372036854775808: hidden_layer_sizes=" in err


def test_an_mnist_folder_too_small_to_split_is_a_usage_error(capsys, tmp_path):
    # One image per class: train_test_split's stratify error was a traceback.
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((10, 28, 28)))
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(10))
    err = _usage_error(["--dataset", "mnist", "--mnist-dir", str(tmp_path)], capsys)
    assert "--dataset mnist: cannot split it into train and test sets" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--task", "regression", "--lr", "1", "--optimizer", "sgd"],
        ["--dataset", "iris", "--lr", "1e300", "--optimizer", "sgd"],
    ],
    ids=["regression", "classification"],
)
def test_a_reference_model_that_cannot_train_is_reported_not_a_traceback(argv, capsys):
    # MLPRegressor / MLPClassifier raise "Solver produced non-finite parameter
    # weights" where ours stops on its divergence guard: the job crashed there.
    with pytest.warns(Warning):  # our model's DivergenceWarning
        assert main([*argv, "--epochs", "5", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "could not train at these settings: ValueError: Solver produced non-finite" in out
    assert "Saved with joblib" in out
