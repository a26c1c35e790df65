"""The kernn command line: listing, dispatch, errors and exit statuses."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from kernn import cli


def test_list_names_every_workload(capsys):
    assert cli.main(["list"]) == 0
    printed = capsys.readouterr().out
    for name in ("demo", "mnist-mlp", "mnist-mlp-500", "points", "cnn-batchnorm", "lenet",
                 "init-study", "regression-1d", "digits-from-scratch"):
        assert name in printed


def test_unknown_workload_suggests_a_name(capsys):
    assert cli.main(["run", "mnist-mpl"]) == 2
    err = capsys.readouterr().err
    assert "unknown workload 'mnist-mpl'" in err and "did you mean mnist-mlp?" in err


def test_run_without_a_name(capsys):
    assert cli.main(["run"]) == 2
    assert "usage: kernn run NAME" in capsys.readouterr().err
    assert cli.main(["run", "--help"]) == 0
    assert "digits-from-scratch" in capsys.readouterr().out


def test_unknown_command_and_version(capsys):
    assert cli.main(["train"]) == 2
    assert "invalid choice: 'train'" in capsys.readouterr().err
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("kernn ")


@pytest.mark.parametrize("options, message", [
    (["--epochs", "0"], "argument --epochs: must be a positive integer, got 0"),
    (["--lr", "-1"], "argument --lr: must be a positive number, got -1"),
    (["--epochs", "many"], "argument --epochs: invalid _positive_int value: 'many'"),
    (["--batch-size", "8"], "unrecognized arguments: --batch-size 8"),  # points is full-batch
    (["--samples", "1"], "--samples must be at least 2, got 1"),
])
def test_bad_options_exit_2_with_the_reason(tmp_path, capsys, options, message):
    assert cli.main(["run", "points", "--out", str(tmp_path), *options]) == 2
    err = capsys.readouterr().err
    assert message in err and "usage: kernn run points" in err


def test_workload_help_exits_0(capsys):
    assert cli.main(["run", "mnist-mlp-500", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--data-dir" in out and "--download" in out and "--limit" in out


def test_missing_mnist_says_where_to_put_it_and_exits_1(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERNN_DATA", str(tmp_path / "nothing-here"))
    assert cli.main(["run", "mnist-mlp", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte" in err
    assert os.path.join(str(tmp_path / "nothing-here"), "mnist") in err
    assert "KERNN_DATA" in err and "--download" in err
    assert not os.path.exists(tmp_path / "out" / "metrics.json")


def test_missing_module_is_reported_not_raised(capsys, monkeypatch):
    monkeypatch.setitem(cli.WORKLOADS, "ghost", ("no_such_example", [], "not installed"))
    assert cli.main(["run", "ghost"]) == 1
    assert "no module kernn.examples.no_such_example" in capsys.readouterr().err


def test_python_dash_m_entry_points(tmp_path):
    """`python -m kernn` and `python -m kernn.examples.NAME` run the same code as the CLI."""
    listed = subprocess.run([sys.executable, "-m", "kernn", "list"], capture_output=True, text=True)
    assert listed.returncode == 0 and "init-study" in listed.stdout
    out = tmp_path / "points"
    ran = subprocess.run([sys.executable, "-m", "kernn.examples.points", "--epochs", "100",
                          "--out", str(out)], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert "epoch 100/100, loss" in ran.stdout
    assert "\r" not in ran.stdout  # no progress bar when stdout is not a terminal
    with open(out / "metrics.json") as f:
        assert json.load(f)["metrics"]["final_loss"] > 0
    missing = subprocess.run([sys.executable, "-m", "kernn.examples.mnist_mlp_500", "--data-dir",
                              str(tmp_path / "empty"), "--out", str(tmp_path / "x")],
                             capture_output=True, text=True)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "t10k-images-idx3-ubyte.gz" in missing.stderr


def test_console_script_when_installed():
    script = shutil.which("kernn")
    if script is None:
        pytest.skip("the kernn console script is not installed (pip install . provides it)")
    listed = subprocess.run([script, "list"], capture_output=True, text=True)
    assert listed.returncode == 0 and "digits-from-scratch" in listed.stdout
