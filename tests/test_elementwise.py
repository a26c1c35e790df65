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
# output y). The kernel is _C.<name>_forward / _backward unless KERNEL names another.
ACTIVATIONS = {
    "relu": (torch.relu, (), "x"),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.07), (0.07,), "x"),
    "sigmoid": (torch.sigmoid, (), "y"),
    "tanh": (torch.tanh, (), "y"),
    "softsign": (F.softsign, (), "x"),
    "elu": (F.elu, (1.0,), "x"),
    "elu_alpha": (lambda t: F.elu(t, 0.3), (0.3,), "x"),
    "gelu": (F.gelu, ("none",), "x"),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), ("tanh",), "x"),
    "silu": (F.silu, (), "x"),
    "softplus": (F.softplus, (1.0, 20.0), "x"),
    "softplus_beta": (lambda t: F.softplus(t, 2.5, 7.0), (2.5, 7.0), "x"),
    "hardtanh": (F.hardtanh, (-1.0, 1.0), "x"),
    "hardtanh_bounds": (lambda t: F.hardtanh(t, -0.5, 2.0), (-0.5, 2.0), "x"),
    "relu6": (F.relu6, (0.0, 6.0), "x"),
    "log_sigmoid": (F.logsigmoid, (), "x"),
}
KERNEL = {"elu_alpha": "elu", "gelu_tanh": "gelu", "softplus_beta": "softplus",
          "hardtanh_bounds": "hardtanh", "relu6": "hardtanh"}

# Float32 tolerances wider than kernel_check's default, with the reason. Elsewhere float32 is
# within a few ulp (rtol 2e-6) of torch and float64 within 1e-12.
FLOAT32_TOLERANCES = {
    # 1 + erf(x / sqrt 2) cancels for x < -2: glibc's erff and torch's vectorised erf differ in
    # the last bits of erf, i.e. in absolute terms of order 1e-7 of a tiny result.
    "gelu": dict(atol=2e-6),
    # 1 - tanh^2 cancels for |x| in 3..9 and is then multiplied by up to ~15: a 1-ulp
    # difference between vmath's tanh and torch's becomes ~2e-6 absolute in the gradient.
    "gelu_tanh": dict(atol=5e-6),
}

SHAPES = [(1,), (7,), (3, 17), (2, 3, 5), (0, 4), (131, 263)]

# Values where the activations are delicate: signed zeros, the kinks (relu, elu, hardtanh's
# +-1, relu6's 6, softplus's threshold 20), the regions where a naive sigmoid overflows, and
# the saturated tails.
EXTREMES = np.array([-1e4, -1e3, -104.0, -89.0, -20.0, -6.0, -1.0, -1e-8, -0.0, 0.0, 1e-8, 1.0,
                     6.0, 20.0, 89.0, 104.0, 1e3, 1e4])


def tolerance(name, dtype):
    return FLOAT32_TOLERANCES.get(name, {}) if dtype == np.float32 else {}


def forward(name, x):
    _, extra, _ = ACTIVATIONS[name]
    return getattr(_C, f"{KERNEL.get(name, name)}_forward")(x, *extra)


def backward(name, x, y, dy):
    _, extra, saved = ACTIVATIONS[name]
    return getattr(_C, f"{KERNEL.get(name, name)}_backward")(x if saved == "x" else y, dy, *extra)


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
    assert_close_to_torch(y, yt, **tolerance(name, dtype))
    assert_close_to_torch(dx, dxt, **tolerance(name, dtype))


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
    assert_close_to_torch(y, yt, **tolerance(name, dtype))
    assert_close_to_torch(dx, dxt, **tolerance(name, dtype))


# Inputs exactly at each kink, with torch's gradient there (taken from torch in the test, the
# values in comments are what torch 2.x gives): the side each kernel takes must be torch's.
KINKS = {
    "elu": [0.0, -0.0],            # alpha * exp(0) = 1: the x <= 0 side
    "elu_alpha": [0.0, -0.0],      # 0.3, not 1
    "hardtanh": [-1.0, 1.0],       # 0 at both bounds
    "hardtanh_bounds": [-0.5, 2.0],
    "relu6": [0.0, -0.0, 6.0],     # 0 at 0 and at 6
    "softplus": [20.0],            # beta * x == threshold: the log1p side
    "softplus_beta": [2.8],        # 2.5 * 2.8 == 7 (in float64; near it in float32)
    "log_sigmoid": [0.0, -0.0],    # 0.5 from both sides
    "silu": [0.0, -0.0],
    "gelu": [0.0],
    "gelu_tanh": [0.0],
}


@pytest.mark.parametrize("name", sorted(KINKS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_at_the_kinks_is_torchs(name, dtype):
    x = np.array(KINKS[name], dtype=dtype)
    dy = np.full(x.shape, 1.5, dtype=dtype)
    y = forward(name, x)
    dx = backward(name, x, y, dy)
    yt, dxt = torch_forward_backward(name, x, dy)
    # The sides differ by far more than the tolerances (softplus at the threshold: x against
    # log1p(exp(beta x)) / beta, 1e-4 apart; its gradient dy against 0.999 dy).
    assert_close_to_torch(y, yt)
    assert_close_to_torch(dx, dxt)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_nan_propagates_as_in_torch(name):
    x = np.array([np.nan, -1.0, 2.0])
    dy = np.ones(3)
    y = forward(name, x)
    yt, dxt = torch_forward_backward(name, x, dy)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(yt.detach().numpy()))
    np.testing.assert_array_equal(np.isnan(backward(name, x, y, dy)), np.isnan(dxt.numpy()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_sigmoid_is_exact_far_out(dtype):
    # The naive log(sigmoid(x)) is log(0) = -inf at -1e4 (and sigmoid(x) rounds to 0 from
    # x < -104 in float32).
    x = np.array([-1e4, -200.0, 1e4], dtype=dtype)
    y = _C.log_sigmoid_forward(x)
    assert y[0] == -1e4 and y[1] == -200.0 and y[2] == 0.0
    assert _C.log_sigmoid_backward(x, np.ones(3, dtype)).tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "silu", "hardtanh"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_into_out_gives_the_same_values(name, dtype):
    x = np.random.default_rng(3).standard_normal((37, 41)).astype(dtype)
    expected = forward(name, x)
    _, extra, _ = ACTIVATIONS[name]
    kernel = getattr(_C, f"{name}_forward")
    out = np.empty_like(x)
    assert kernel(x, *extra, out=out) is out
    np.testing.assert_array_equal(out, expected)
    inplace = x.copy()
    kernel(inplace, *extra, out=inplace)  # x itself: the in-place activations
    np.testing.assert_array_equal(inplace, expected)


def test_forward_out_argument_errors():
    x = np.zeros((4, 6))
    with pytest.raises(TypeError, match=r"relu_forward.*'out'.*float32"):
        _C.relu_forward(x, out=np.zeros((4, 6), np.float32))
    with pytest.raises(ValueError, match=r"elu_forward.*'x' \(4, 6\).*'out' \(6, 4\)"):
        _C.elu_forward(x, 1.0, out=np.zeros((6, 4)))
    with pytest.raises(ValueError, match=r"silu_forward.*'out'.*not C-contiguous"):
        _C.silu_forward(np.zeros((4, 3)), out=np.zeros((4, 6))[:, ::2])
    read_only = np.zeros((4, 6))
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match=r"hardtanh_forward.*'out'"):
        _C.hardtanh_forward(x, -1.0, 1.0, out=read_only)
    flat = np.zeros(30)
    with pytest.raises(ValueError, match=r"leaky_relu_forward.*'out' overlaps 'x'"):
        _C.leaky_relu_forward(flat[:24], 0.1, out=flat[6:])


def test_new_activation_argument_errors():
    with pytest.raises(ValueError, match=r"gelu_forward.*'approximate'.*'tanhh'"):
        _C.gelu_forward(np.zeros(3), "tanhh")
    with pytest.raises(ValueError, match=r"gelu_backward.*'approximate'.*'erf'"):
        _C.gelu_backward(np.zeros(3), np.zeros(3), "erf")
    with pytest.raises(TypeError, match=r"softplus_forward.*'x'.*int64"):
        _C.softplus_forward(np.arange(3), 1.0, 20.0)
    with pytest.raises(ValueError, match=r"hardtanh_backward.*'x' \(3,\).*'dy' \(4,\)"):
        _C.hardtanh_backward(np.zeros(3), np.zeros(4), -1.0, 1.0)


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


def assert_signed_values_match(actual, expected, dtype):
    """actual == expected within the dtype's tolerances, NaN where expected is NaN, and every
    other element with expected's sign bit (so that a zero is torch's +0 or -0)."""
    expected = expected.detach().numpy()
    assert_close_to_torch(actual, expected, dtype)
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(np.signbit(actual[numbers]), np.signbit(expected[numbers]))


# Signed zeros and values whose result underflows to zero, as a vector long enough for the SIMD
# body and a remainder in every build.
SIGNED_ZEROS = np.tile([-0.0, 0.0, -1e-30, 1e-30, -1e4, 1e4, -np.inf, np.inf], 5)


@pytest.mark.parametrize("simd", SIMD_LEVELS)
@pytest.mark.parametrize("alpha", [np.inf, -np.inf, np.nan, -1.5, 0.0, 1.0])
@pytest.mark.parametrize("dtype", DTYPES)
def test_elu_at_zero_is_torchs_for_any_alpha(alpha, dtype, simd):
    # torch's ELU forward takes x itself at +-0, where alpha * expm1(0) is NaN for an infinite
    # or NaN alpha and a zero of the other sign for alpha < 0; its backward takes the x <= 0
    # side there (dy * alpha * exp(0), +-inf for an infinite alpha).
    x = SIGNED_ZEROS.astype(dtype)
    dy = np.linspace(-2.0, 3.0, x.size).astype(dtype)
    with simd_loops(simd):
        y, dx = _C.elu_forward(x, alpha), _C.elu_backward(x, dy, alpha)
    xt = to_torch(x, requires_grad=True)
    yt = F.elu(xt, alpha)
    yt.backward(to_torch(dy))
    assert_signed_values_match(y, yt, dtype)
    assert_signed_values_match(dx, xt.grad, dtype)


@pytest.mark.parametrize("simd", SIMD_LEVELS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_keeps_the_sign_of_zero_as_torch(dtype, simd):
    x = SIGNED_ZEROS.astype(dtype)
    with simd_loops(simd):
        y = _C.tanh_forward(x)
    assert_signed_values_match(y, torch.tanh(to_torch(x)), dtype)


@pytest.mark.parametrize("simd", SIMD_LEVELS)
@pytest.mark.parametrize("beta,threshold", [(1.0, 20.0), (2.5, 7.0), (-1.0, 20.0), (-2.0, 5.0),
                                            (0.5, -1.0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_underflow_gives_torchs_zero(beta, threshold, dtype, simd):
    # Where log1p(exp(beta x)) underflows, torch's y is +0 / beta: +0, or -0 for beta < 0.
    x = SIGNED_ZEROS.astype(dtype)
    with simd_loops(simd):
        y = _C.softplus_forward(x, beta, threshold)
    assert_signed_values_match(y, F.softplus(to_torch(x), beta, threshold), dtype)


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


# The activations whose float loops are built per SIMD level on vmath's functions (sigmoid and
# tanh are checked against torch's float64 in test_float32_activation_is_within_a_few_ulp_...).
VMATH_LOOPS = ["silu", "gelu", "gelu_tanh", "elu", "elu_alpha", "softplus", "softplus_beta",
               "log_sigmoid"]


def activation_sweep(lo, hi):
    return np.concatenate([np.linspace(lo, hi, 200_001), np.geomspace(1e-30, 1.0, 2001),
                           -np.geomspace(1e-30, 1.0, 2001)]).astype(np.float32)


@needs_avx512_loops
@pytest.mark.parametrize("name,lo,hi", [("sigmoid", -110.0, 110.0), ("tanh", -12.0, 12.0),
                                        *[(name, -110.0, 110.0) for name in VMATH_LOOPS]])
def test_float32_avx512_build_gives_the_avx2_bits(name, lo, hi):
    x = np.concatenate([activation_sweep(lo, hi), [np.nan, np.inf, -np.inf]]).astype(np.float32)
    dy = np.linspace(-2.0, 2.0, x.size, dtype=np.float32)
    same_under_avx512_and_avx2(lambda: (forward(name, x), forward(name, x[:37]),
                                        backward(name, x, forward(name, x), dy)))


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


# SiLU, GELU, ELU, softplus and log-sigmoid run vmath's float exp / sigmoid / erf / tanh /
# log1p / expm1 in the SIMD build in use; their float64 kernels are the same formulas on libm
# (std::erf, std::expm1, std::log1p, ...), the reference here. Forward: within 5 ulp where the
# result does not cancel much (x >= -1, where GELU's 1 + erf(x / sqrt 2) = 0.32 already doubles
# erf's error; further left it cancels, in torch too), and within 8 ulp of max(1, |y|)
# everywhere. Backward: the derivative passes through 0
# (GELU's at x ~ -0.75) and subtracts terms of size ~1, so within 8 ulp of max(1, |dx|)
# absolute. Measured worst: forward 4.0 ulp (gelu at x = -1, portable build), backward 4.7
# ulp of max(1, |dx|) (gelu_tanh).
@pytest.mark.parametrize("simd", SIMD_LEVELS)
@pytest.mark.parametrize("name", VMATH_LOOPS)
def test_float32_simd_builds_match_the_float64_reference(name, simd):
    x = activation_sweep(-110.0, 110.0)
    dy = np.ones_like(x)
    with simd_loops(simd):
        y = forward(name, x).astype(np.float64)
        dx = backward(name, x, None, dy).astype(np.float64)
    y_ref = forward(name, x.astype(np.float64))
    dx_ref = backward(name, x.astype(np.float64), None, dy.astype(np.float64))
    ulp = np.spacing(np.abs(y_ref).astype(np.float32)).astype(np.float64)
    err_ulp = np.where(x >= -1, np.abs(y - y_ref) / ulp, 0.0)
    assert err_ulp.max() <= 5, (x[err_ulp.argmax()], err_ulp.max())
    for got, ref in ((y, y_ref), (dx, dx_ref)):
        bound = 8 * np.spacing(np.maximum(1.0, np.abs(ref)).astype(np.float32))
        assert np.all(np.abs(got - ref) <= bound), x[np.argmax(np.abs(got - ref) - bound)]
