"""User mistakes at the Python API level raise an exception naming the op, the argument and the
shapes (a sample over functional ops, modules, losses, state dicts, checkpoints, data loading);
zero-size inputs give torch's result. The binding-level sweep is test_binding_robustness.py."""

import os

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn
import kernn.nn.functional as F
from kernn.data import DataLoader, TensorDataset


def test_linear_wrong_in_features_names_shapes():
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5\) does not match in_features=3"):
        nn.Linear(3, 4)(kernn.randn(2, 5))


def test_linear_empty_batch_gives_empty_output():
    assert nn.Linear(3, 4)(kernn.randn(0, 3)).shape == (0, 4)


def test_conv2d_rejects_a_2d_input_and_wrong_channels():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"conv2d: argument 'input' has shape \(8, 8\)"):
        conv(kernn.randn(8, 8))
    with pytest.raises(ValueError, match=r"conv2d: argument 'input' \(1, 2, 8, 8\) has 2 channels"):
        conv(kernn.randn(1, 2, 8, 8))


def test_conv2d_unbatched_3d_input_matches_torch():
    # (C, H, W) is an unbatched image, as in torch.
    conv = nn.Conv2d(3, 4, 3).double()
    x = np.random.default_rng(0).standard_normal((3, 6, 6))
    ref = torch.nn.functional.conv2d(torch.from_numpy(x)[None], torch.from_numpy(conv.weight.detach().numpy()),
                                     torch.from_numpy(conv.bias.detach().numpy()))[0]
    np.testing.assert_allclose(conv(kernn.tensor(x)).detach().numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs,arg", [(dict(stride=0), "stride"), (dict(padding=-1), "padding"),
                                        (dict(groups=2), "groups")])
def test_conv2d_constructor_rejects_bad_geometry(kwargs, arg):
    with pytest.raises(ValueError, match=rf"Conv2d: .*{arg}"):
        nn.Conv2d(3, 4, 3, **kwargs)


def test_max_pool_kernel_larger_than_input():
    with pytest.raises(ValueError, match=r"max_pool2d: computed output size \(0, 0\) is too small for input size \(5, 5\)"):
        nn.MaxPool2d(10)(kernn.randn(1, 1, 5, 5))


def test_batch_norm_wrong_channels_and_single_value():
    with pytest.raises(ValueError, match=r"BatchNorm2d: input of shape \(2, 4, 5, 5\) has 4 channels; expected num_features=3"):
        nn.BatchNorm2d(3)(kernn.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel .*\(1, 3\)"):
        nn.BatchNorm1d(3)(kernn.randn(1, 3))


def test_cross_entropy_float_target_and_out_of_range_class():
    loss = nn.CrossEntropyLoss()
    with pytest.raises(TypeError, match=r"cross_entropy: argument 'target' must hold int64"):
        loss(kernn.randn(4, 3), kernn.randn(4))
    with pytest.raises(IndexError, match=r"'target' holds 5 at index 2, outside \[0, C\) for C = 3"):
        loss(kernn.randn(4, 3), kernn.tensor([0, 1, 5, 1]))
    with pytest.raises(IndexError, match=r"'target' holds -3 at index 2"):
        loss(kernn.randn(4, 3), kernn.tensor([0, 1, -3, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: input of shape \(4, 3\) expects a target "
                       r"of class indices of shape \(4,\), got \(3,\)"):
        loss(kernn.randn(4, 3), kernn.tensor([0, 1, 1]))
    # the two target kinds: each message names both
    with pytest.raises(TypeError, match=r"got dtype float32 of shape \(4, 2\); or class "
                       r"probabilities: a float tensor of the input's shape \(4, 3\)"):
        loss(kernn.randn(4, 3), kernn.ones(4, 2) / 2)
    with pytest.raises(ValueError, match=r"got \(4, 3\); or class probabilities: a float tensor"):
        loss(kernn.randn(4, 3), kernn.ones(4, 3, dtype=kernn.int64))


def test_cross_entropy_empty_batch_is_nan_like_torch():
    ours = nn.CrossEntropyLoss()(kernn.randn(0, 3), kernn.tensor(np.zeros(0, np.int64)))
    theirs = torch.nn.CrossEntropyLoss()(torch.randn(0, 3), torch.zeros(0, dtype=torch.int64))
    assert np.isnan(ours.item()) and torch.isnan(theirs)


def test_mse_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"mse_loss: target of shape \(4, 2\) must have the input's shape \(4, 3\)"):
        nn.MSELoss()(kernn.randn(4, 3), kernn.randn(4, 2))


def test_activation_of_a_list_is_a_type_error():
    # Was AttributeError: 'list' object has no attribute '_rg'.
    for fn in (F.relu, F.sigmoid, F.tanh, F.softsign, F.leaky_relu):
        with pytest.raises(TypeError, match=r"argument 'input' must be a kernn.Tensor, got list"):
            fn([1.0, 2.0])
    with pytest.raises(TypeError, match=r"softmax: argument 'input' must be a kernn.Tensor, got NoneType"):
        F.softmax(None, dim=0)


def test_load_state_dict_wrong_shape_missing_and_unexpected_keys():
    model = nn.Linear(3, 4)
    before = model.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: .*\(4, 5\).*\(4, 3\)"):
        model.load_state_dict({"weight": kernn.randn(4, 5), "bias": kernn.randn(4)})
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"'):
        model.load_state_dict({"weight": kernn.randn(4, 3)})
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        model.load_state_dict({"weight": kernn.randn(4, 3), "bias": kernn.randn(4), "extra": kernn.randn(1)})
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)


def test_load_rejects_directory_empty_torch_and_truncated_files(tmp_path):
    with pytest.raises(IsADirectoryError, match="kernn.load: is a directory"):
        kernn.load(tmp_path)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="kernn.load: .* is not a kernn checkpoint"):
        kernn.load(empty)
    torch_file = tmp_path / "t.pt"
    torch.save({"a": torch.zeros(3)}, torch_file)
    with pytest.raises(ValueError, match="looks like a torch.save file"):
        kernn.load(torch_file)
    good = tmp_path / "good"
    kernn.save({"w": kernn.randn(3)}, good)
    raw = good.read_bytes()
    truncated = tmp_path / "truncated"
    for cut in (1, len(raw) // 2, len(raw) - 1):
        truncated.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match="kernn.load: .* is not a kernn checkpoint"):
            kernn.load(truncated)


def test_failed_save_keeps_the_existing_file(tmp_path):
    path = tmp_path / "ckpt"
    kernn.save({"w": kernn.ones(3)}, path)
    with pytest.raises(TypeError, match=r"kernn.save: cannot save obj\['w'\] of type object"):
        kernn.save({"w": object()}, path)
    np.testing.assert_array_equal(kernn.load(path)["w"].numpy(), np.ones(3))
    assert os.listdir(tmp_path) == ["ckpt"]  # no temporary file left behind


def test_save_onto_a_directory_names_the_op(tmp_path):
    # Was the bare rename error, naming only the temporary file.
    with pytest.raises(IsADirectoryError, match="kernn.save: is a directory"):
        kernn.save({"w": kernn.ones(3)}, tmp_path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_dataloader_rejects_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=rf"DataLoader: batch_size must be a positive int, got {batch_size}"):
        DataLoader(TensorDataset(kernn.randn(5, 2)), batch_size=batch_size)


def test_dataloader_over_an_empty_dataset_yields_nothing():
    assert list(DataLoader(TensorDataset(kernn.randn(0, 2)), batch_size=2)) == []


def test_set_num_threads_rejects_absurd_counts():
    with pytest.raises(ValueError, match=r"set_num_threads: argument 'n' is 1000000"):
        kernn.set_num_threads(10**6)
    with pytest.raises(ValueError, match=r"set_num_threads: argument 'n' must be >= 1, got 0"):
        kernn.set_num_threads(0)


def test_set_default_dtype_refuses_float16():
    # Was accepted; kernn.randn and every layer constructor then failed inside numpy.
    with pytest.raises(TypeError, match="set_default_dtype: the default float must be kernn.float32 or kernn.float64"):
        kernn.set_default_dtype(kernn.float16)
    assert kernn.get_default_dtype() == kernn.float32


def test_conv2d_bias_of_another_dtype_names_the_bias():
    # Named the input ("argument 'input' has dtype kernn.float32 but the weight has dtype
    # kernn.float32 and the bias kernn.float64").
    with pytest.raises(TypeError, match=r"conv2d: argument 'bias' has dtype kernn.float64 but the input and the weight have dtype kernn.float32"):
        F.conv2d(kernn.randn(1, 3, 5, 5), kernn.randn(4, 3, 3, 3), kernn.randn(4).double())


def test_argmax_of_an_empty_tensor_names_the_op_and_shape_as_torch():
    # Was numpy's "attempt to get argmax of an empty sequence".
    with pytest.raises(RuntimeError, match=r"argmax\(\): expected reduction dim to be specified .*\(0, 3\)"):
        kernn.argmax(kernn.zeros(0, 3))
    with pytest.raises(IndexError, match=r"argmin\(\): expected reduction dim 1 to have non-zero size, got shape \(3, 0\)"):
        kernn.argmin(kernn.zeros(3, 0), dim=1)
    with pytest.raises(IndexError):
        torch.argmin(torch.zeros(3, 0), dim=1)
    # Reducing over a non-empty dimension of an empty tensor is empty, as torch.
    assert kernn.argmax(kernn.zeros(0, 3), dim=1).shape == torch.argmax(torch.zeros(0, 3), dim=1).shape
