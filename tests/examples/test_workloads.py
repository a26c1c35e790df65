"""Every workload end to end through the command line, in short runs, checking the metrics it
writes; the qualitative outcomes of W5 and the accuracies of W7; and the real W2 run on MNIST."""

import importlib.util
import json
import math
import os
import sys

import numpy as np
import pytest

from kernn import cli
from kernn.data import write_idx
from kernn.datasets import MNIST, DatasetNotFoundError

try:
    import matplotlib  # noqa: F401

    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False


def run_workload(name, out, *options):
    status = cli.main(["run", name, "--out", str(out), *options])
    assert status == 0
    with open(os.path.join(out, "metrics.json")) as f:
        record = json.load(f)
    assert record["workload"] == name
    return record["metrics"]


def assert_files(out, metrics, weights=True, pictures=()):
    expected = (["weights.kernn"] if weights else []) + (list(pictures) if HAVE_MATPLOTLIB else [])
    for name in expected:
        assert os.path.join(str(out), name) in metrics["files"]
        assert os.path.getsize(os.path.join(out, name)) > 0
    for name in pictures if HAVE_MATPLOTLIB else ():
        with open(os.path.join(out, name), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n", name


def assert_epoch_curves(metrics, epochs):
    """The per-epoch training loss and test accuracy of a mini-batch classifier run."""
    losses, accuracies = metrics["epoch_losses"], metrics["epoch_test_accuracy"]
    assert len(losses) == epochs and len(accuracies) == epochs
    assert all(math.isfinite(loss) and loss > 0 for loss in losses)
    assert all(0 <= accuracy <= 1 for accuracy in accuracies)
    assert accuracies[-1] == metrics["test_accuracy"]  # the final accuracy is the last epoch's


@pytest.fixture
def fake_mnist(tmp_path):
    """A small MNIST-shaped data set whose class shows in the image (a bright row per label),
    so a short run can learn it: exercises the whole MNIST path without the real files."""
    rng = np.random.default_rng(0)
    directory = tmp_path / "data" / "mnist"
    os.makedirs(directory)
    for split, n in (("train", 600), ("t10k", 200)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        images[np.arange(n), 2 * labels + 4, :] = 255
        write_idx(directory / f"{split}-images-idx3-ubyte", images)  # uncompressed: quicker
        write_idx(directory / f"{split}-labels-idx1-ubyte", labels)
    return tmp_path / "data"


def test_w1_mnist_mlp_short(tmp_path, fake_mnist, capsys):
    out = tmp_path / "w1"
    metrics = run_workload("mnist-mlp", out, "--data-dir", str(fake_mnist), "--epochs", "2",
                           "--limit", "500", "--batch-size", "4")
    printed = capsys.readouterr().out
    assert "[1,   100] loss: " in printed and "[2,   100] loss: " in printed
    assert len(metrics["running_losses"]) == 2
    assert metrics["train_samples"] == 500 and metrics["test_samples"] == 200
    assert metrics["iterations"] == 2 * 125
    assert metrics["test_accuracy"] > 0.5  # the label is written in the image: learnable
    assert_epoch_curves(metrics, 2)
    assert metrics["epoch_losses"][1] < metrics["epoch_losses"][0]
    assert_files(out, metrics, pictures=["training.png"])


def test_w2_mnist_mlp_500_short(tmp_path, fake_mnist, capsys):
    out = tmp_path / "w2"
    metrics = run_workload("mnist-mlp-500", out, "--data-dir", str(fake_mnist), "--epochs", "2")
    printed = capsys.readouterr().out
    assert "Epoch [1/2], Step [6/6]" not in printed  # printed every 100 steps only
    assert "Accuracy of the network on the 200 test images" in printed
    assert "Epoch [1/2] mean loss " in printed and ", test accuracy " in printed
    assert metrics["steps"] == 12
    assert metrics["test_accuracy"] > 0.5
    assert_epoch_curves(metrics, 2)
    assert_files(out, metrics, pictures=["training.png"])


def test_w2_without_matplotlib_writes_no_picture(tmp_path, fake_mnist, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    out = tmp_path / "w2"
    metrics = run_workload("mnist-mlp-500", out, "--data-dir", str(fake_mnist), "--epochs", "1",
                           "--limit", "100")
    assert not os.path.exists(out / "training.png")
    assert [os.path.basename(f) for f in metrics["files"]] == ["weights.kernn"]
    assert_epoch_curves(metrics, 1)


def test_w2_logs_every_100_steps(tmp_path, fake_mnist, capsys):
    run_workload("mnist-mlp-500", tmp_path / "w2", "--data-dir", str(fake_mnist), "--epochs", "1",
                 "--batch-size", "3")
    printed = capsys.readouterr().out
    assert "Epoch [1/1], Step [100/200], Loss: " in printed
    assert "Epoch [1/1], Step [200/200], Loss: " in printed


def test_w3_points(tmp_path, capsys):
    out = tmp_path / "w3"
    metrics = run_workload("points", out, "--epochs", "300")
    printed = capsys.readouterr().out
    assert "epoch 100/300, loss" in printed and "epoch 300/300, loss" in printed
    assert len(metrics["losses_every_100"]) == 3
    assert metrics["final_loss"] < 0.5 * metrics["initial_loss"]
    assert metrics["accuracy"] > 0.9
    assert_files(out, metrics, pictures=["loss.png", "predictions.png"])


def test_w5_init_study_outcomes(tmp_path):
    out = tmp_path / "w5"
    metrics = run_workload("init-study", out, "--batch", "16", "--trials", "1", "--schemes",
                           "normal", "scaled", "tanh-scaled", "xavier-tanh", "xavier-relu")
    schemes = metrics["schemes"]
    normal = schemes["normal"]
    assert normal["overflow_layer"] is not None and normal["overflow_layer"] <= 40
    assert not math.isfinite(normal["final_std"])
    assert all(0.8 < s < 1.25 for s in schemes["scaled"]["std"])
    assert schemes["scaled"]["overflow_layer"] is None and schemes["scaled"]["vanish_layer"] is None
    assert 0.04 < schemes["tanh-scaled"]["final_std"] < 0.09
    assert 0.04 < schemes["xavier-tanh"]["final_std"] < 0.12
    assert schemes["xavier-relu"]["vanish_layer"] is not None
    assert schemes["xavier-relu"]["final_std"] < 1e-10
    assert len(schemes["scaled"]["mean"]) == 100
    assert_files(out, metrics, weights=False, pictures=["std_per_layer.png"])


def test_w5_kaiming_relu_keeps_the_std(tmp_path):
    metrics = run_workload("init-study", tmp_path / "w5k", "--batch", "16", "--trials", "4",
                           "--schemes", "kaiming-relu")
    stds = metrics["schemes"]["kaiming-relu"]["std"]
    assert all(0.5 < s < 2 for s in stds)


def test_w6_regression_sequence(tmp_path):
    out = tmp_path / "w6"
    metrics = run_workload("regression-1d", out, "--epochs", "30", "--models", "linear", "linear-5",
                           "relu-10", "tanh-10")
    models = metrics["models"]
    assert set(models) == {"linear", "linear-5", "relu-10", "tanh-10"}
    # linear models can only fit a line: sin on [-3, 3] leaves MSE well above the non-linear fits
    assert models["linear"]["mse_inside"] > 0.1 and models["linear-5"]["mse_inside"] > 0.1
    assert models["relu-10"]["mse_inside"] < 0.5 * models["linear"]["mse_inside"]
    assert models["tanh-10"]["mse_inside"] < 0.5 * models["linear"]["mse_inside"]
    for result in models.values():
        assert result["mse_outside"] > result["mse_inside"]
    assert_files(out, metrics, weights=False, pictures=["fits.png"])


def test_w7_original_recipe_reaches_the_reported_accuracy(tmp_path, capsys):
    out = tmp_path / "w7"
    metrics = run_workload("digits-from-scratch", out)
    assert len(metrics["costs"]) == 3000
    assert metrics["costs"][-1] < metrics["costs"][0]
    assert metrics["test_accuracy"] >= 0.86
    assert metrics["forward_max_difference"] < 1e-5  # loops and vectorised agree
    assert "forward pass over 719 samples: loops" in capsys.readouterr().out
    assert_files(out, metrics, pictures=["cost.png"])


def test_demo_is_the_better_recipe_and_runs_with_no_arguments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main([]) == 0
    with open(tmp_path / "runs" / "demo" / "metrics.json") as f:
        record = json.load(f)
    assert record["options"]["recipe"] == "better"
    assert record["metrics"]["test_accuracy"] >= 0.95


@pytest.mark.parametrize("name, module, options", [
    ("cnn-batchnorm", "cnn_batchnorm", ["--dataset", "mnist"]),
    ("lenet", "lenet", []),
])
def test_cnn_workloads_short(tmp_path, fake_mnist, name, module, options):
    assert cli.WORKLOADS[name][0] == module
    if importlib.util.find_spec(f"kernn.examples.{module}") is None:
        pytest.skip(f"kernn.examples.{module} is not in this tree yet")
    out = tmp_path / name
    metrics = run_workload(name, out, "--data-dir", str(fake_mnist), "--epochs", "1",
                           "--limit", "48", "--batch-size", "16", *options)
    assert metrics["steps"] == 3 and metrics["train_samples"] == 48
    assert metrics["test_samples"] == 48 and 0 <= metrics["test_accuracy"] <= 1
    assert math.isfinite(metrics["final_loss"])
    assert_epoch_curves(metrics, 1)
    assert_files(out, metrics, pictures=["training.png"])


def test_w2_one_epoch_on_real_mnist(tmp_path):
    """The CI end-to-end run: W2 for one epoch on the full data set."""
    try:
        MNIST(train=False)
    except DatasetNotFoundError:
        pytest.skip("MNIST not found under KERNN_DATA or ~/.cache/kernn")
    metrics = run_workload("mnist-mlp-500", tmp_path / "w2-real", "--epochs", "1")
    assert metrics["steps"] == 600 and metrics["test_samples"] == 10000
    assert metrics["test_accuracy"] >= 0.95
