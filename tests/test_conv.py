"""conv2d kernels of kernn._C against torch (float32 and float64) and the worked example W4."""

import contextlib
import itertools
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kernel_check import same_under_1_and_2_threads
from kernn import _C

DTYPES = [np.float32, np.float64]


@contextlib.contextmanager
def _conv_direct(enabled):
    # Turns the direct kernels on or off for the block, then restores the previous setting.
    previous = _C._set_conv_direct(enabled)
    try:
        yield
    finally:
        _C._set_conv_direct(previous)


def _tol(dtype, reduction_length):
    # Float32: GEMM sums in another order than torch (blocked, FMA): error grows like
    # sqrt(length) ulps of the magnitudes; float64 is tight.
    if dtype == np.float32:
        return dict(rtol=1e-4, atol=2e-6 * max(1.0, reduction_length) ** 0.5)
    return dict(rtol=1e-10, atol=1e-11)


def _grid_cases(seed, count):
    axes = dict(
        k=[(1, 1), (2, 3), (3, 3), (5, 4), (7, 7)], s=[(1, 1), (2, 2), (3, 1)],
        p=[(0, 0), (1, 1), (2, 0), (3, 3)], d=[(1, 1), (2, 2), (1, 2)],
        groups=["1", "2", "depthwise"], hw=[(9, 9), (13, 7), (6, 11)], n=[1, 3],
    )
    points = list(itertools.product(*axes.values()))
    random.Random(seed).shuffle(points)
    cases = []
    for point in points:
        c = dict(zip(axes.keys(), point))
        (kh, kw), (dh, dw), (ph, pw), (H, W) = c["k"], c["d"], c["p"], c["hw"]
        if H + 2 * ph < dh * (kh - 1) + 1 or W + 2 * pw < dw * (kw - 1) + 1:
            continue
        cases.append(c)
        if len(cases) == count:
            break
    # Always cover the 1x1 fast path (stride 1, no padding) with groups.
    cases.append(dict(k=(1, 1), s=(1, 1), p=(0, 0), d=(1, 1), groups="2", hw=(5, 7), n=2))
    cases.append(dict(k=(1, 1), s=(1, 1), p=(0, 0), d=(1, 1), groups="1", hw=(1, 1), n=1))
    return cases


CASES = _grid_cases(0, 40)


def _case_id(c):
    return "k{}x{}-s{}x{}-p{}x{}-d{}x{}-g{}-hw{}x{}-n{}".format(
        *c["k"], *c["s"], *c["p"], *c["d"], c["groups"], *c["hw"], c["n"])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_conv2d_forward_backward_match_torch(case, dtype):
    rng = np.random.default_rng(abs(hash(_case_id(case))) % 2**32)
    C_per_group, K_per_group = 3, 2
    groups = {"1": 1, "2": 2, "depthwise": 4}[case["groups"]]
    if case["groups"] == "depthwise":
        C_per_group, K_per_group = 1, 2
    C, K = C_per_group * groups, K_per_group * groups
    kh, kw = case["k"]
    x = rng.standard_normal((case["n"], C, *case["hw"])).astype(dtype)
    w = rng.standard_normal((K, C_per_group, kh, kw)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    args = dict(stride=case["s"], padding=case["p"], dilation=case["d"], groups=groups)

    y = _C.conv2d_forward(x, w, b, **args)
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_()
    ty = F.conv2d(tx, tw, tb, **args)
    np.testing.assert_allclose(y, ty.detach().numpy(), **_tol(dtype, C_per_group * kh * kw))
    np.testing.assert_allclose(_C.conv2d_forward_reference(x, w, b, **args), ty.detach().numpy(),
                               **_tol(dtype, C_per_group * kh * kw))

    dy = rng.standard_normal(y.shape).astype(dtype)
    ty.backward(torch.from_numpy(dy))
    dx, dw, db = _C.conv2d_backward(x, w, dy, **args)
    P = y.shape[2] * y.shape[3]
    np.testing.assert_allclose(dx, tx.grad.numpy(), **_tol(dtype, K_per_group * kh * kw))
    np.testing.assert_allclose(dw, tw.grad.numpy(), **_tol(dtype, case["n"] * P))
    np.testing.assert_allclose(db, tb.grad.numpy(), **_tol(dtype, case["n"] * P))


# The worked example of workloads.md W4, computed by hand:
# y[i, j] = sum of the four corners and the centre of the 3x3 patch at (i*stride, j*stride).
W4_IMAGE = [[1, 2, 1, 0, 0], [0, 1, 0, 2, 1], [1, 0, 2, 1, 0], [0, 1, 0, 1, 0], [1, 2, 1, 0, 0]]
W4_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
# e.g. (0, 1): corners 2 + 0 + 0 + 1 and centre 0 = 3; (1, 1): 1 + 2 + 1 + 1 and centre 2 = 7.
W4_STRIDE1 = [[6, 3, 5], [0, 7, 2], [6, 3, 4]]
W4_STRIDE2 = [[6, 5], [6, 4]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_worked_example_w4(dtype):
    x = np.array(W4_IMAGE, dtype).reshape(1, 1, 5, 5)
    w = np.array(W4_KERNEL, dtype).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(_C.conv2d_forward(x, w)[0, 0], np.array(W4_STRIDE1, dtype))
    np.testing.assert_array_equal(_C.conv2d_forward(x, w, stride=2)[0, 0],
                                  np.array(W4_STRIDE2, dtype))


def test_conv2d_bias_none_and_backward_mask():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 6, 5))
    w = rng.standard_normal((3, 4, 3, 3))
    y = _C.conv2d_forward(x, w, None, padding=1)
    np.testing.assert_allclose(y, F.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy(),
                               rtol=1e-10, atol=1e-11)
    dx, dw, db = _C.conv2d_backward(x, w, y, padding=1, output_mask=[False, True, False])
    assert dx is None and db is None and dw.shape == w.shape


@pytest.mark.parametrize("direct", [True, False])
def test_conv2d_large_image_is_processed_in_bands(direct):
    # One image's column matrix (27 x 400*400 floats = 17 MB) exceeds the 8 MB buffer cap, so the
    # im2col kernels run several bands of output rows; results must not change. (With the direct
    # kernel on, only the weight gradient goes through im2col.)
    with _conv_direct(direct):
        _check_large_image()


def _check_large_image():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 3, 400, 400)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    ty = F.conv2d(tx, tw, torch.from_numpy(b), padding=1)
    np.testing.assert_allclose(_C.conv2d_forward(x, w, b, padding=1), ty.detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    dy = np.ones(ty.shape, np.float32)
    ty.backward(torch.from_numpy(dy))
    dx, dw, _ = _C.conv2d_backward(x, w, dy, padding=1)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-4, atol=1e-1)


@pytest.mark.parametrize("direct", [True, False])
def test_conv2d_one_and_two_threads_agree(direct):
    # With direct=False every shape takes im2col + GEMM (the path of CPUs without AVX-512).
    with _conv_direct(direct):
        _check_one_and_two_threads()


def _check_one_and_two_threads():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 8, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    dy = rng.standard_normal((6, 16, 12, 12)).astype(np.float32)
    w1 = rng.standard_normal((16, 8, 1, 1)).astype(np.float32)
    # im2col batches 16x16 images four to a GEMM: four units, run in parallel at 2 threads.
    x4 = rng.standard_normal((16, 8, 16, 16)).astype(np.float32)
    dy4 = rng.standard_normal((16, 16, 16, 16)).astype(np.float32)
    same_under_1_and_2_threads(lambda: (_C.conv2d_forward(x, w, b, padding=1),
                                        *_C.conv2d_backward(x, w, dy, padding=1),
                                        _C.conv2d_forward(x, w1, b),
                                        *_C.conv2d_backward(x, w1, dy),
                                        _C.conv2d_forward(x4, w, b, padding=1),
                                        *_C.conv2d_backward(x4, w, dy4, padding=1)))


# The direct kernel (AVX-512 CPUs): unit width stride, not 1x1, output rows (and, for the
# input gradient, input rows) filling at least 5/8 of their vectors. Channel counts cover
# every register tile (4, 6, 8, 12 rows) with a partial last block; widths cover one and
# several vectors with a masked tail; heights strides 1..3; paddings up to larger than the
# kernel (the input gradient then crops the output gradient); dilation, groups, depthwise,
# batch 1. (N, C, K, H, W, kernel, stride, padding, dilation, groups)
DIRECT_CASES = [
    (1, 1, 1, 11, 11, (2, 2), (1, 1), (0, 0), (1, 1), 1),
    (2, 3, 5, 11, 21, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (3, 2, 7, 8, 33, (1, 5), (1, 1), (0, 2), (1, 1), 1),
    (1, 4, 13, 13, 20, (5, 1), (2, 1), (2, 0), (1, 1), 1),
    (2, 3, 16, 10, 24, (7, 7), (3, 1), (3, 3), (1, 1), 1),
    (1, 2, 24, 9, 16, (3, 2), (1, 1), (4, 3), (1, 1), 1),
    (2, 6, 12, 12, 40, (3, 3), (1, 1), (2, 2), (2, 3), 2),
    (1, 4, 8, 7, 11, (3, 3), (2, 1), (1, 1), (1, 1), 4),
    (2, 1, 6, 28, 28, (5, 5), (1, 1), (2, 2), (1, 1), 1),
    (1, 5, 9, 6, 20, (4, 6), (1, 1), (2, 1), (1, 2), 1),
]


def _direct_id(case):
    N, C, K, H, W, k, s, p, d, g = case
    return f"n{N}-c{C}-k{K}-{H}x{W}-w{k[0]}x{k[1]}-s{s[0]}x{s[1]}-p{p[0]}x{p[1]}-d{d[0]}x{d[1]}-g{g}"


def _direct_problem(case, dtype, seed):
    N, C, K, H, W, k, s, p, d, g = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((K, C // g, *k)).astype(dtype)
    b = rng.standard_normal(K).astype(dtype)
    args = dict(stride=s, padding=p, dilation=d, groups=g)
    Ho = (H + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    Wo = (W + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    dy = rng.standard_normal((N, K, Ho, Wo)).astype(dtype)
    return x, w, b, dy, args


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", DIRECT_CASES, ids=_direct_id)
def test_conv2d_direct_matches_reference_and_im2col(case, dtype):
    x, w, b, dy, args = _direct_problem(case, dtype, 4)
    avx512 = "avx512" in _C.backend_info()["isas_supported"]
    algorithms = _C._conv2d_algorithms(x, w, **args)
    if avx512:  # these shapes are chosen to take the direct path wherever it exists
        assert algorithms["forward"] == "direct"
        assert algorithms["backward_input"] == ("direct" if args["stride"] == (1, 1) else "im2col")
        # The weight gradient is vectorised over output channels: direct when at least 3/8
        # of each vector of a group's channels is in use and output rows are >= 10 long.
        lanes = 64 // np.dtype(dtype).itemsize
        k_group = w.shape[0] // args["groups"]
        k_padded = -(-k_group // lanes) * lanes
        direct_weight = 8 * k_group >= 3 * k_padded and dy.shape[3] >= 10
        assert algorithms["backward_weight"] == ("direct" if direct_weight else "im2col")
    y = _C.conv2d_forward(x, w, b, **args)
    dx, dw, db = _C.conv2d_backward(x, w, dy, **args)
    with _conv_direct(False):
        assert _C._conv2d_algorithms(x, w, **args)["forward"] == "im2col"
        y_im2col = _C.conv2d_forward(x, w, b, **args)
        dx_im2col, dw_im2col, db_im2col = _C.conv2d_backward(x, w, dy, **args)
    taps = w.shape[1] * w.shape[2] * w.shape[3]
    np.testing.assert_allclose(y, _C.conv2d_forward_reference(x, w, b, **args), **_tol(dtype, taps))
    np.testing.assert_allclose(y, y_im2col, **_tol(dtype, taps))
    tx = torch.from_numpy(x).requires_grad_()
    ty = F.conv2d(tx, torch.from_numpy(w), torch.from_numpy(b), **args)
    ty.backward(torch.from_numpy(dy))
    dx_taps = (w.shape[0] // args["groups"]) * w.shape[2] * w.shape[3]
    np.testing.assert_allclose(dx, tx.grad.numpy(), **_tol(dtype, dx_taps))
    np.testing.assert_allclose(dx, dx_im2col, **_tol(dtype, dx_taps))
    dw_length = x.shape[0] * dy.shape[2] * dy.shape[3]
    tw = torch.from_numpy(w).requires_grad_()
    F.conv2d(torch.from_numpy(x), tw, None, **args).backward(torch.from_numpy(dy))
    np.testing.assert_allclose(dw, tw.grad.numpy(), **_tol(dtype, dw_length))
    np.testing.assert_allclose(dw, dw_im2col, **_tol(dtype, dw_length))
    np.testing.assert_array_equal(db, db_im2col)


@pytest.mark.parametrize("case", [DIRECT_CASES[1], DIRECT_CASES[6]], ids=_direct_id)
def test_conv2d_direct_one_and_two_threads_agree(case):
    # Batch 1 splits one image's tiles between the threads; a batch of 8 splits the images.
    for x, w, b, dy, args in (_direct_problem((N, *case[1:]), np.float32, 5) for N in (1, 8)):
        same_under_1_and_2_threads(lambda: (_C.conv2d_forward(x, w, b, **args),
                                            *_C.conv2d_backward(x, w, dy, **args)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_direct_weight_gradient_over_several_image_chunks(dtype):
    # The direct weight gradient cuts the batch into 8 slots and each slot into chunks of
    # images whose padded input and transposed output gradient fit 512 KiB. One image here
    # needs more (8 x 66 x 66 padded values + 4096 positions x 16 channels: 401 KB in float),
    # so every chunk is one image and each slot's later images add to the sums its first one
    # stored (17 images: slots of 2 and 3). Small integers make every sum exact in float32
    # too (|sum| <= 4 * 17 * 64 * 64 < 2**24), so the result must equal float64 torch's.
    rng = np.random.default_rng(6)
    x = rng.integers(-2, 3, (17, 8, 64, 64)).astype(dtype)
    w = rng.integers(-2, 3, (16, 8, 3, 3)).astype(dtype)
    dy = rng.integers(-2, 3, (17, 16, 64, 64)).astype(dtype)
    args = dict(stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1)
    if "avx512" in _C.backend_info()["isas_supported"]:
        assert _C._conv2d_algorithms(x, w, **args)["backward_weight"] == "direct"
    dw = _C.conv2d_backward(x, w, dy, **args, output_mask=(False, True, False))[1]
    tw = torch.from_numpy(w.astype(np.float64)).requires_grad_()
    F.conv2d(torch.from_numpy(x.astype(np.float64)), tw, None, **args).backward(
        torch.from_numpy(dy.astype(np.float64)))
    np.testing.assert_array_equal(dw, tw.grad.numpy().astype(dtype))
    np.testing.assert_array_equal(same_under_1_and_2_threads(
        lambda: _C.conv2d_backward(x, w, dy, **args, output_mask=(False, True, False))[1]), dw)


def test_conv2d_errors_name_op_argument_and_sizes():
    x = np.zeros((1, 4, 5, 5), np.float32)
    w = np.zeros((6, 4, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"conv2d: computed output size \(0, 0\) is too small"):
        _C.conv2d_forward(x, np.zeros((6, 4, 7, 7), np.float32))
    with pytest.raises(ValueError, match=r"has 4 channels .* in_channels \* groups = 2 \* 1 = 2"):
        _C.conv2d_forward(x, np.zeros((6, 2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="conv2d: argument 'stride' is \\(0, 0\\)"):
        _C.conv2d_forward(x, w, stride=0)
    with pytest.raises(ValueError, match="conv2d: argument 'padding'"):
        _C.conv2d_forward(x, w, padding=-1)
    with pytest.raises(ValueError, match=r"conv2d: argument 'input' has shape \(4, 5, 5\); expected 4"):
        _C.conv2d_forward(x[0], w)
    with pytest.raises(ValueError, match="'groups' = 3 must divide"):
        _C.conv2d_forward(x, w, groups=3)
    with pytest.raises(ValueError, match="'groups' must be >= 1"):
        _C.conv2d_forward(x, w, groups=0)
    with pytest.raises(ValueError, match=r"conv2d: argument 'bias' has shape \(5,\); expected \(6,\)"):
        _C.conv2d_forward(x, w, np.zeros(5, np.float32))
    with pytest.raises(TypeError, match="conv2d: argument 'weight' has dtype float64"):
        _C.conv2d_forward(x, w.astype(np.float64))
    with pytest.raises(ValueError, match=r"conv2d_backward: argument 'grad_output' has shape \(1, 6, 5, 5\); expected \(1, 6, 3, 3\)"):
        _C.conv2d_backward(x, w, np.zeros((1, 6, 5, 5), np.float32))
    with pytest.raises(ValueError, match="not C-contiguous"):
        _C.conv2d_forward(np.zeros((1, 4, 5, 10), np.float32)[..., ::2], w)
