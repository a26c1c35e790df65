"""The W4 (cnn_batchnorm) and LeNet-5 examples: short runs, the W4 size error, torch interchange."""

import json

import numpy as np
import pytest
import torch

import kernn
from kernn.datasets import MNIST, DatasetNotFoundError
from kernn.examples import cnn_batchnorm, lenet


def _synthetic_npz(path, n_train=64, n_test=32):
    """Two classes a CNN separates at once: bright top half (class 0) or bright bottom half (1)."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        y = rng.integers(0, 2, n)
        x = rng.uniform(0, 0.2, (n, 3, 32, 32)).astype(np.float32)
        for i, label in enumerate(y):
            x[i, :, 16 * label:16 * label + 16] += 0.8
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
    np.savez(path, **arrays)
    return path


def test_cnn_batchnorm_trains_on_user_arrays_and_state_dict_loads_into_torch(tmp_path):
    data = _synthetic_npz(tmp_path / "data.npz")
    out = tmp_path / "run"
    metrics = cnn_batchnorm.main(["--data", str(data), "--epochs", "2", "--batch-size", "16",
                                  "--out", str(out), "--seed", "1"])
    assert metrics["steps"] == 2 * 4 and metrics["train_samples"] == 64
    assert metrics["test_accuracy"] >= 0.9  # the classes differ by a bright half: easy
    assert len(metrics["epoch_losses"]) == 2
    assert metrics["epoch_test_accuracy"][-1] == metrics["test_accuracy"]
    with open(out / "metrics.json") as f:
        assert json.load(f)["workload"] == "cnn-batchnorm"
    # The saved weights (with batch-norm running statistics) drive torch's copy of the model.
    state = kernn.load(str(out / "weights.kernn"))
    torch_model = cnn_batchnorm.build_model(torch.nn)
    torch_model.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in state.items()})
    model = cnn_batchnorm.build_model()
    model.load_state_dict(state)
    model.eval()
    torch_model.eval()
    x = np.load(data)["x_test"][:8]
    np.testing.assert_allclose(model(kernn.from_numpy(x)).detach().numpy(),
                               torch_model(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-4)


def test_cnn_batchnorm_original_first_linear_size_fails_with_the_computed_sizes(tmp_path):
    data = _synthetic_npz(tmp_path / "data.npz", 8, 8)
    with pytest.raises(ValueError, match=r"takes 32768 features.* 128 x 8 x 8 = 8192"):
        cnn_batchnorm.main(["--data", str(data), "--flat-features", str(128 * 16 * 16),
                            "--out", str(tmp_path / "run")])
    # The model itself, used directly, fails in the Linear with both sizes as well.
    model = cnn_batchnorm.build_model(flat_features=128 * 16 * 16)
    with pytest.raises(ValueError, match=r"\(2, 8192\) does not match in_features=32768"):
        model(kernn.zeros(2, 3, 32, 32))


def test_cnn_batchnorm_pads_and_replicates_grey_images():
    images = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28)
    x = cnn_batchnorm.to_three_channels_32(images)
    assert x.shape == (2, 3, 32, 32)
    np.testing.assert_array_equal(x[:, 1, 2:30, 2:30], images)
    assert x[:, :, :2].sum() == 0 and x[:, :, :, 30:].sum() == 0
    np.testing.assert_array_equal(x[:, 0], x[:, 2])


def test_lenet_matches_torch_architecture_and_trains_on_mnist(tmp_path):
    model, torch_model = lenet.build_model(), lenet.build_model(torch.nn)
    model.load_state_dict(torch_model.state_dict())
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    np.testing.assert_allclose(model(kernn.from_numpy(x)).detach().numpy(),
                               torch_model(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    try:
        MNIST(train=False)
    except DatasetNotFoundError:
        pytest.skip("MNIST not found (set KERNN_DATA to a directory with mnist/)")
    metrics = lenet.main(["--limit", "1000", "--epochs", "1", "--out", str(tmp_path)])
    assert metrics["steps"] == 16
    assert metrics["test_accuracy"] > 0.3  # 16 Adam steps from scratch (chance is 0.1)
