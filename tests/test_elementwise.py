"""Element-wise activation kernels and bias_grad of kernn._C against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernn import _C
from kernel_check import (DTYPES, SIMD_LEVELS, assert_close_to_torch, needs_avx512_loops,
                          same_under_1_and_2_threads, same_under_avx512_and_avx2, simd_loops,
                          to_torch)

# name -> (torch forward, extra args of the kernel, whether backward takes the input x or the
# output y)
ACTIVATIONS = {
    "relu": (torch.relu, (), "x"),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.07), (0.07,), "x"),
    "sigmoid": (torch.sigmoid, (), "y"),
    "tanh": (torch.tanh, (), "y"),
    "softsign": (F.softsign, (), "x"),
}

SHAPES = [(1,), (7,), (3, 17), (2, 3, 5), (0, 4), (131, 263)]

# Values where the activations are delicate: signed zeros, the kink of relu, the regions where a
# naive sigmoid overflows, and the saturated tails.
EXTREMES = np.array([-1e4, -1e3, -104.0, -89.0, -20.0, -1.0, -1e-8, -0.0, 0.0, 1e-8, 1.0, 20.0,
                     89.0, 104.0, 1e3, 1e4])


def forward(name, x):
    _, extra, _ = ACTIVATIONS[name]
    return getattr(_C, f"{name}_forward")(x, *extra)


def backward(name, x, y, dy):
    _, extra, saved = ACTIVATIONS[name]
    return getattr(_C, f"{name}_backward")(x if saved == "x" else y, dy, *extra)


def torch_forward_backward(name, x, dy):
    torch_fn = ACTIVATIONS[name][0]
    xt = to_torch(x, requires_grad=True)
    yt = torch_fn(xt)
    yt.backward(to_torch(dy))
    return yt, xt.grad


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_matches_torch(name, dtype, shape):
    rng = np.random.default_rng([len(name), *shape])
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    y = forward(name, x)
    dx = backward(name, x, y, dy)
    yt, dxt = torch_forward_backward(name, x, dy)
    assert_close_to_torch(y, yt)
    assert_close_to_torch(dx, dxt)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_extreme_inputs_match_torch(name, dtype):
    x = EXTREMES.astype(dtype)
    dy = np.linspace(-2, 3, x.size).astype(dtype)
    with np.errstate(all="raise"):
        y = forward(name, x)
        dx = backward(name, x, y, dy)
    yt, dxt = torch_forward_backward(name, x, dy)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    assert_close_to_torch(y, yt)
    assert_close_to_torch(dx, dxt)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_limits_are_exact(dtype):
    y = _C.sigmoid_forward(np.array([-1e4, -800.0, 0.0, 800.0, 1e4], dtype=dtype))
    assert y.tolist() == [0.0, 0.0, 0.5, 1.0, 1.0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_and_leaky_relu_gradient_at_zero_is_torchs(dtype):
    # torch's threshold_backward / leaky_relu_backward use x > 0, so the kink takes the left side.
    x = np.array([-0.0, 0.0], dtype=dtype)
    dy = np.ones(2, dtype=dtype)
    assert _C.relu_backward(x, dy).tolist() == [0.0, 0.0]
    assert _C.leaky_relu_backward(x, dy, 0.25).tolist() == [0.25, 0.25]


def test_relu_propagates_nan_as_torch():
    x = np.array([np.nan, -1.0, 2.0])
    np.testing.assert_array_equal(_C.relu_forward(x), torch.relu(torch.from_numpy(x)).numpy())


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_same_bits_with_1_and_2_threads(name, dtype):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((257, 301)).astype(dtype)  # above kParallelGrain
    dy = rng.standard_normal(x.shape).astype(dtype)

    def run():
        y = forward(name, x)
        return y, backward(name, x, y, dy)

    same_under_1_and_2_threads(run)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (64, 10), (1, 500), (600, 13), (1031, 67), (0, 5), (5, 0)])
def test_bias_grad_is_the_column_sum(dtype, shape):
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    dy = rng.standard_normal(shape).astype(dtype)
    db = _C.bias_grad(dy)
    # Against the float64 sum: bias_grad accumulates in double, so even in float32 it is within
    # one rounding of the exact column sum.
    exact = torch.from_numpy(dy.astype(np.float64)).sum(0).to(torch.from_numpy(dy).dtype)
    assert_close_to_torch(db, exact, rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2000, 37), (20011, 3)])  # 256-row blocks; larger blocks
def test_bias_grad_same_bits_with_1_and_2_threads(dtype, shape):
    dy = np.random.default_rng(9).standard_normal(shape).astype(dtype)
    db = same_under_1_and_2_threads(lambda: _C.bias_grad(dy))
    np.testing.assert_allclose(db, dy.astype(np.float64).sum(0),
                               rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_wrong_dtype_raises_type_error_naming_op_and_argument():
    with pytest.raises(TypeError, match=r"relu_forward.*'x'.*int64"):
        _C.relu_forward(np.arange(4))
    with pytest.raises(TypeError, match=r"sigmoid_backward.*'dy'.*float32"):
        _C.sigmoid_backward(np.zeros(3), np.zeros(3, dtype=np.float32))


def test_shape_mismatch_raises_value_error_with_both_shapes():
    with pytest.raises(ValueError, match=r"tanh_backward.*'y' \(2, 3\).*'dy' \(3, 2\)"):
        _C.tanh_backward(np.zeros((2, 3)), np.zeros((3, 2)))


def test_non_contiguous_input_raises_value_error():
    x = np.zeros((4, 6))[:, ::2]
    with pytest.raises(ValueError, match=r"softsign_forward.*'x'.*not C-contiguous"):
        _C.softsign_forward(x)
    with pytest.raises(ValueError, match=r"leaky_relu_backward.*'dy'.*not C-contiguous"):
        _C.leaky_relu_backward(np.zeros((4, 3)), x, 0.1)


def test_bias_grad_requires_two_dimensions():
    with pytest.raises(ValueError, match=r"bias_grad.*'dy'.*\(5,\).*2 dimensions"):
        _C.bias_grad(np.zeros(5))


def activation_sweep(lo, hi):
    return np.concatenate([np.linspace(lo, hi, 200_001), np.geomspace(1e-30, 1.0, 2001),
                           -np.geomspace(1e-30, 1.0, 2001)]).astype(np.float32)


@needs_avx512_loops
@pytest.mark.parametrize("name,lo,hi", [("sigmoid", -110.0, 110.0), ("tanh", -12.0, 12.0)])
def test_float32_avx512_build_gives_the_avx2_bits(name, lo, hi):
    x = np.concatenate([activation_sweep(lo, hi), [np.nan, np.inf, -np.inf]]).astype(np.float32)
    same_under_avx512_and_avx2(lambda: (forward(name, x), forward(name, x[:37])))


@pytest.mark.parametrize("simd", SIMD_LEVELS)
@pytest.mark.parametrize("name,lo,hi", [("sigmoid", -110.0, 110.0), ("tanh", -12.0, 12.0)])
def test_float32_activation_is_within_a_few_ulp_everywhere(name, lo, hi, simd):
    # The float32 kernels use their own vectorised exp (AVX-512 and AVX2 builds where the CPU
    # has them, and the portable one); sweep the whole interesting range, including where
    # sigmoid's result is subnormal (x < -87) and tanh's small-|x| branch. Measured worst:
    # 2.0 ulp.
    x = activation_sweep(lo, hi)
    with simd_loops(simd):
        y = forward(name, x)
    exact = ACTIVATIONS[name][0](torch.from_numpy(x.astype(np.float64))).numpy()
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    err_ulp = np.abs(y.astype(np.float64) - exact) / ulp
    assert err_ulp.max() <= 4, (x[err_ulp.argmax()], err_ulp.max())
