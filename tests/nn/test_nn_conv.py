"""kernn.nn convolution, pooling and batch-norm layers: gradcheck, modules vs torch, state dicts."""

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn
import kernn.nn.functional as F
from kernn.utils import gradcheck


def _t(a, requires_grad=False):
    return kernn.tensor(a, requires_grad=requires_grad) if requires_grad else kernn.from_numpy(a)


def _rand(rng, *shape):
    return rng.standard_normal(shape)


# ---- gradcheck in float64 --------------------------------------------------------------------
@pytest.mark.parametrize("kw", [dict(stride=1, padding=1), dict(stride=2, padding=0, dilation=2),
                                dict(stride=(2, 1), padding=(1, 0), groups=2)])
def test_conv2d_gradcheck(kw):
    rng = np.random.default_rng(0)
    x = kernn.tensor(_rand(rng, 2, 4, 6, 5), requires_grad=True)
    w = kernn.tensor(_rand(rng, 2, 4 // kw.get("groups", 1), 3, 2), requires_grad=True)
    b = kernn.tensor(_rand(rng, 2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))


def test_pooling_gradcheck():
    rng = np.random.default_rng(1)
    # Distinct values far apart: finite differences never cross a max-pool tie.
    x = rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) * 0.1
    xt = kernn.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1, ceil_mode=True), (xt,))
    assert gradcheck(lambda t: F.max_pool2d(t, 2, dilation=2), (xt,))
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False), (xt,))
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), (xt,))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
def test_batch_norm_gradcheck(shape):
    rng = np.random.default_rng(2)
    x = kernn.tensor(_rand(rng, *shape), requires_grad=True)
    w = kernn.tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True)
    b = kernn.tensor(_rand(rng, 3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    rm, rv = kernn.tensor(_rand(rng, 3)), kernn.tensor(rng.uniform(0.5, 2, 3))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


@pytest.mark.parametrize("kw", [dict(stride=1, padding=1), dict(stride=2, padding=0, dilation=2),
                                dict(stride=(2,), padding=(1,), groups=2), dict(padding="same")])
def test_conv1d_gradcheck(kw):
    rng = np.random.default_rng(3)
    x = kernn.tensor(_rand(rng, 2, 4, 11), requires_grad=True)
    w = kernn.tensor(_rand(rng, 2, 4 // kw.get("groups", 1), 3), requires_grad=True)
    b = kernn.tensor(_rand(rng, 2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv1d(x, w, b, **kw), (x, w, b))


def test_pooling_1d_gradcheck():
    x = np.random.default_rng(4).permutation(2 * 3 * 13).reshape(2, 3, 13) * 0.1
    xt = kernn.tensor(x, requires_grad=True)
    assert gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True), (xt,))
    assert gradcheck(lambda t: F.max_pool1d(t, 2, dilation=2), (xt,))
    assert gradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, count_include_pad=False), (xt,))


# ---- modules vs torch --------------------------------------------------------------------------
def test_conv2d_module_defaults_repr_and_init():
    conv = nn.Conv2d(6, 8, (3, 5), stride=2, padding=1, groups=2)
    assert conv.weight.shape == (8, 3, 3, 5) and conv.bias.shape == (8,)
    bound = 1 / np.sqrt(3 * 3 * 5)
    assert np.abs(conv.weight.detach().numpy()).max() <= bound and np.abs(conv.bias.detach().numpy()).max() <= bound
    assert np.abs(conv.weight.detach().numpy()).max() > 0.8 * bound  # uniform over the whole range
    assert repr(conv) == repr(torch.nn.Conv2d(6, 8, (3, 5), stride=2, padding=1, groups=2))
    assert repr(nn.Conv2d(1, 2, 1, bias=False)) == repr(torch.nn.Conv2d(1, 2, 1, bias=False))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_cnn_matches_torch_forward_backward(dtype):
    kernn_model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 4, 3, stride=2, padding="valid" if dtype == np.float32 else 1),
        nn.AvgPool2d(2, ceil_mode=True), nn.AdaptiveAvgPool2d((2, 1)), nn.Flatten(),
        nn.Linear(8, 3))
    padding = "valid" if dtype == np.float32 else 1
    torch_model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 4, 3, stride=2, padding=padding),
        torch.nn.AvgPool2d(2, ceil_mode=True), torch.nn.AdaptiveAvgPool2d((2, 1)),
        torch.nn.Flatten(), torch.nn.Linear(8, 3))
    if dtype == np.float64:
        kernn_model.double()
        torch_model.double()
    kernn_model.load_state_dict(torch_model.state_dict())
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 3, 15, 13)).astype(dtype)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    for step in range(2):
        y = kernn_model(kernn.from_numpy(x))
        ty = torch_model(torch.from_numpy(x))
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
        y.sum().backward()
        ty.sum().backward()
        for (name, p), tp in zip(kernn_model.named_parameters(), torch_model.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=name, **tol)
        x = x * 2 + 1
    ours = kernn_model.state_dict()
    for key, value in torch_model.state_dict().items():
        np.testing.assert_allclose(ours[key].numpy(), value.numpy(), err_msg=key, **tol)
    kernn_model.eval()
    torch_model.eval()
    np.testing.assert_allclose(kernn_model(kernn.from_numpy(x)).detach().numpy(),
                               torch_model(torch.from_numpy(x)).detach().numpy(), **tol)


@pytest.mark.parametrize("momentum", [0.3, None])
def test_batchnorm1d_running_stats_and_state_dict_round_trip(momentum):
    bn = nn.BatchNorm1d(4, momentum=momentum, dtype=kernn.float64)
    tbn = torch.nn.BatchNorm1d(4, momentum=momentum).double()
    rng = np.random.default_rng(4)
    for step in range(4):
        x = rng.standard_normal((6, 4, 3)) * (step + 1)
        np.testing.assert_allclose(bn(kernn.from_numpy(x)).detach().numpy(),
                                   tbn(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    state = bn.state_dict()
    assert list(state) == list(tbn.state_dict())
    for key, value in tbn.state_dict().items():
        np.testing.assert_allclose(state[key].numpy(), value.numpy(), rtol=1e-12, err_msg=key)
    # and back: a torch module loads kernn's state dict
    fresh = torch.nn.BatchNorm1d(4, momentum=momentum).double()
    fresh.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in state.items()})
    assert int(fresh.num_batches_tracked) == 4
    bn.eval()
    fresh.eval()
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(bn(kernn.from_numpy(x)).detach().numpy(),
                               fresh(torch.from_numpy(x)).detach().numpy(), rtol=1e-10)


def test_batchnorm_without_running_stats_and_non_affine():
    bn = nn.BatchNorm2d(3, affine=False, track_running_stats=False)
    assert bn.weight is None and bn.running_mean is None
    assert list(bn.state_dict()) == []
    x = np.random.default_rng(5).standard_normal((4, 3, 5, 5)).astype(np.float32)
    bn.eval()  # no running statistics: batch statistics even in eval mode, as torch
    expected = torch.nn.BatchNorm2d(3, affine=False, track_running_stats=False).eval()(torch.from_numpy(x))
    np.testing.assert_allclose(bn(kernn.from_numpy(x)).detach().numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [{}, dict(bias=False), dict(affine=False),
                                dict(affine=False, bias=False)])
def test_batchnorm_bias_option_as_torch(kw):
    bn = nn.BatchNorm2d(3, dtype=kernn.float64, **kw)
    tbn = torch.nn.BatchNorm2d(3, **kw).double()
    assert repr(bn) == repr(tbn)
    assert list(bn.state_dict()) == list(tbn.state_dict())
    assert [n for n, _ in bn.named_parameters()] == [n for n, _ in tbn.named_parameters()]
    rng = np.random.default_rng(6)
    if bn.weight is not None:  # a scale other than 1, so that its gradient shows in dx
        w = rng.uniform(0.5, 1.5, 3)
        bn.weight.data.copy_(kernn.from_numpy(w))
        tbn.weight.data.copy_(torch.from_numpy(w))
    x = rng.standard_normal((4, 3, 2, 5))
    dy = rng.standard_normal(x.shape)
    kx = kernn.tensor(x, requires_grad=True)
    tx = torch.from_numpy(x).requires_grad_()
    y, ty = bn(kx), tbn(tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    y.backward(kernn.from_numpy(dy))
    ty.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(kx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), (_, tp) in zip(bn.named_parameters(), tbn.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


# (kernn/torch module factory, input shape): 1-D layers over odd lengths, batch 1, unbatched
ONE_D = [
    (lambda lib: lib.nn.Conv1d(3, 5, 3), (2, 3, 17)),
    (lambda lib: lib.nn.Conv1d(4, 6, 4, stride=3, padding=2, dilation=2, groups=2), (1, 4, 23)),
    (lambda lib: lib.nn.Conv1d(3, 2, 5, padding="same", bias=False), (3, 31)),
    (lambda lib: lib.nn.MaxPool1d(3, 2, 1, ceil_mode=True), (2, 3, 16)),
    (lambda lib: lib.nn.MaxPool1d(2, dilation=2), (3, 11)),
    (lambda lib: lib.nn.AvgPool1d(4, 3, 2, count_include_pad=False), (2, 3, 19)),
    (lambda lib: lib.nn.AvgPool1d(2), (1, 1, 7)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", range(len(ONE_D)))
def test_one_d_layers_match_torch(index, dtype):
    make, shape = ONE_D[index]
    ours, theirs = make(kernn).to(dtype), make(torch).to(torch.float32 if dtype == np.float32
                                                           else torch.float64)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(index)
    # a strided input: every other column of a wider array
    x = rng.standard_normal((*shape[:-1], 2 * shape[-1])).astype(dtype)[..., ::2]
    kx, tx = kernn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ky, ty = ours(kx), theirs(tx)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ky.detach().numpy(), ty.detach().numpy(), **tol)
    dy = rng.standard_normal(ty.shape).astype(dtype)
    ky.backward(kernn.tensor(dy))
    ty.backward(torch.tensor(dy))
    np.testing.assert_allclose(kx.grad.numpy(), tx.grad.numpy(), **tol)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), err_msg=name, **tol)


def test_max_pool1d_indices_are_positions_along_the_length_as_torch():
    x = np.random.default_rng(5).standard_normal((2, 3, 15))
    _, ours = F.max_pool1d(kernn.tensor(x), 3, 2, 1, return_indices=True)
    _, theirs = torch.nn.functional.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_d_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"conv1d: expected 2-D \(C, L\) or 3-D \(N, C, L\) "
                                         r"input, got shape \(2, 3, 4, 5\)"):
        nn.Conv1d(3, 2, 3)(kernn.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"conv1d: input of shape \(2, 4, 9\) has 4 channels; "
                                         r"weight of shape \(2, 3, 3\) with groups=1 expects 3"):
        nn.Conv1d(3, 2, 3)(kernn.randn(2, 4, 9))
    with pytest.raises(ValueError, match=r"conv1d: argument 'weight' must be 3-D"):
        F.conv1d(kernn.randn(2, 3, 9), kernn.randn(2, 3, 3, 3))
    with pytest.raises(ValueError, match=r"Conv1d: argument 'kernel_size' must be an int or a "
                                         r"1-tuple"):
        nn.Conv1d(3, 2, (3, 3))
    with pytest.raises(ValueError, match=r"max_pool1d: expected 2-D"):
        F.max_pool1d(kernn.randn(5), 2)
    with pytest.raises(TypeError, match=r"avg_pool1d: argument 'input' must be a float32"):
        F.avg_pool1d(kernn.tensor([[1, 2, 3]]), 2)


def test_module_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4-D .* got shape \(4, 3\)"):
        nn.BatchNorm2d(3)(kernn.randn(4, 3))
    with pytest.raises(ValueError, match="has 5 channels; expected num_features=3"):
        nn.BatchNorm1d(3)(kernn.randn(4, 5))
    with pytest.raises(ValueError, match="conv2d: .* has 4 channels"):
        nn.Conv2d(3, 2, 3)(kernn.randn(1, 4, 8, 8))
    with pytest.raises(TypeError, match="conv2d: argument 'input' has dtype kernn.float64"):
        nn.Conv2d(3, 2, 3)(kernn.randn(1, 3, 8, 8, dtype=kernn.float64))


def test_functional_unbatched_and_indices():
    x = kernn.randn(3, 8, 8)
    w = kernn.randn(5, 3, 3, 3)
    assert F.conv2d(x, w, padding="same").shape == (5, 8, 8)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert y.shape == idx.shape == (3, 4, 4) and idx.dtype == kernn.int64
    assert F.adaptive_avg_pool2d(x, (None, 2)).shape == (3, 8, 2)
