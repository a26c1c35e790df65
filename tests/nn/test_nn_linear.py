"""Linear, the fused Linear+ReLU inside Sequential, and their errors, against torch."""

import math
import re

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn
import kernn.nn.functional as F
from torch_compare import assert_close, compare, compare_modules


@pytest.mark.parametrize("n,fin,fout", [(1, 1, 1), (7, 13, 5), (64, 784, 128), (3, 17, 31)])
def test_linear_module_matches_torch(n, fin, fout, float_dtype, num_threads, rng):
    compare_modules(nn.Linear(fin, fout), torch.nn.Linear(fin, fout),
                    [rng.standard_normal((n, fin))], dtype=float_dtype)


def test_linear_without_bias(float_dtype, rng):
    compare_modules(nn.Linear(6, 4, bias=False), torch.nn.Linear(6, 4, bias=False),
                    [rng.standard_normal((5, 6))], dtype=float_dtype)


def test_linear_on_1d_and_3d_inputs(float_dtype, rng):
    w, b = rng.standard_normal((4, 6)), rng.standard_normal(4)
    compare(lambda l, x, w, b: l.nn.functional.linear(x, w, b),
            [rng.standard_normal(6), w, b], dtype=float_dtype)
    compare(lambda l, x, w, b: l.nn.functional.linear(x, w, b),
            [rng.standard_normal((2, 3, 6)), w, b], dtype=float_dtype)


MLP_SIZES = [(784, 500, 10), (784, 128, 64, 10), (5, 3, 1)]


def _mlp(lib, sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(lib.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(lib.nn.ReLU())
    return lib.nn.Sequential(*layers)


@pytest.mark.parametrize("sizes", MLP_SIZES)
def test_sequential_mlp_with_fused_linear_relu_matches_torch(sizes, float_dtype, num_threads,
                                                             rng):
    kmod, tmod = _mlp(kernn, sizes), _mlp(torch, sizes)
    x = rng.standard_normal((9, sizes[0]))
    # float32: sums of up to 784 products reordered by the blocked GEMM.
    tol = {"rtol": 2e-4, "atol": 2e-5} if float_dtype == np.float32 else {}
    compare_modules(kmod, tmod, [x], dtype=float_dtype, **tol)
    assert any(getattr(step, "__name__", "") == "_forward_relu" for step in kmod._plan)


def test_fused_and_unfused_gradients_are_identical(float_dtype, rng):
    x = rng.standard_normal((16, 20)).astype(float_dtype)
    lin = nn.Linear(20, 8).to(float_dtype)
    grads = []
    for fused in (True, False):
        lin.zero_grad()
        xt = kernn.tensor(x, requires_grad=True)
        y = F.linear_relu(xt, lin.weight, lin.bias) if fused else F.relu(lin(xt))
        (y * kernn.tensor(np.arange(8, dtype=float_dtype))).sum().backward()
        grads.append((y.detach().numpy().copy(), xt.grad.numpy(), lin.weight.grad.numpy(),
                      lin.bias.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_sequential_replans_after_a_child_changes(rng):
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    x = kernn.tensor(rng.standard_normal((2, 4)).astype(np.float32))
    assert (model(x).detach().numpy() >= 0).all()
    model[1] = nn.Identity()
    expected = x.numpy() @ model[0].weight.detach().numpy().T + model[0].bias.detach().numpy()
    np.testing.assert_allclose(model(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_inference_path_under_no_grad_matches_training_path(rng):
    model = _mlp(kernn, (30, 20, 10))
    x = kernn.tensor(rng.standard_normal((5, 30)).astype(np.float32))
    with kernn.no_grad():
        y0 = model(x)
    y1 = model(x)
    assert not y0.requires_grad and y1.requires_grad
    np.testing.assert_array_equal(y0.numpy(), y1.detach().numpy())


def test_linear_shape_error_names_in_features_and_input_shape():
    lin = nn.Linear(784, 10)
    with pytest.raises(ValueError, match=r"\(64, 785\).*in_features=784"):
        lin(kernn.zeros(64, 785))
    with kernn.no_grad(), pytest.raises(ValueError, match="in_features=784"):
        nn.Sequential(nn.Linear(784, 10), nn.ReLU())(kernn.zeros(2, 3))


def test_linear_dtype_errors():
    lin = nn.Linear(3, 2)
    with pytest.raises(TypeError, match="float64.*float32"):
        lin(kernn.zeros(2, 3, dtype=kernn.float64))
    with pytest.raises(TypeError, match="floating"):
        lin(kernn.zeros(2, 3, dtype=kernn.int64))
    with pytest.raises(TypeError, match="kernn.Tensor"):
        lin(np.zeros((2, 3), dtype=np.float32))


@pytest.mark.parametrize("requires_grad", [False, True])
def test_linear_weight_and_bias_must_be_tensors(requires_grad):
    x = kernn.zeros(2, 3, requires_grad=requires_grad)
    with pytest.raises(TypeError, match="linear: argument 'weight' must be a kernn.Tensor, got "
                                        "ndarray"):
        F.linear(x, np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="linear: argument 'bias' must be a kernn.Tensor, got "
                                        "ndarray"):
        F.linear(x, kernn.zeros(4, 3), np.zeros(4, dtype=np.float32))


@pytest.mark.parametrize("input_shape", [(2, 3), (3,), (2, 2, 3)])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_linear_bias_dtype_error_names_the_bias(input_shape, requires_grad):
    x = kernn.zeros(*input_shape, dtype=kernn.float64)
    w = kernn.zeros(4, 3, dtype=kernn.float64, requires_grad=requires_grad)
    with pytest.raises(TypeError, match=r"linear: argument 'bias' has dtype kernn\.float32 but "
                                        r"the input and the weight have dtype kernn\.float64"):
        F.linear(x, w, kernn.zeros(4))


@pytest.mark.parametrize("weight_shape", [(3,), (1, 4, 3)])
@pytest.mark.parametrize("input_shape", [(2, 3), (3,), (2, 2, 3)])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_linear_weight_must_be_2d(weight_shape, input_shape, requires_grad):
    w = kernn.zeros(*weight_shape, requires_grad=requires_grad)
    expected = re.escape(f"linear: argument 'weight' has shape {weight_shape}; it must be 2-D "
                         "(out_features, in_features)")
    with pytest.raises(ValueError, match=expected):
        F.linear(kernn.zeros(*input_shape), w)


def test_default_init_follows_torch_bounds():
    kernn.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-bound, bound) has std bound / sqrt(3).
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert w.dtype == np.float32 and lin.weight.requires_grad


def test_reset_parameters_redraws():
    lin = nn.Linear(5, 5)
    before = lin.weight.detach().numpy().copy()
    lin.reset_parameters()
    assert not np.array_equal(before, lin.weight.detach().numpy())


def test_extra_repr():
    assert repr(nn.Linear(3, 4, bias=False)) == "Linear(in_features=3, out_features=4, bias=False)"


def test_batch_1_inference_matches_torch(rng):
    kmod, tmod = _mlp(kernn, (784, 500, 10)), _mlp(torch, (784, 500, 10))
    kmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    x = rng.standard_normal((1, 784)).astype(np.float32)
    with kernn.no_grad(), torch.no_grad():
        assert_close(kmod(kernn.from_numpy(x)), tmod(torch.from_numpy(x)), np.float32,
                     rtol=2e-4, atol=2e-5)
