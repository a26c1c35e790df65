"""kernn._C.gemm: against exact integer products, numpy in float64 and gemm_reference, on
every micro-kernel ISA this CPU runs, at 1 and 2 threads; and its argument checks.

The small-shape sweep uses small integers, whose products and sums (|sum| <= 70 * 16) are
exact in float32 and float64 whatever the summation order: any wrong, missing or duplicated
element of an edge tile shows up as an exact mismatch. Random-normal shapes check rounding
against the bound |error| <= gamma * (|alpha| |op(A)| |op(B)| + |beta| |C| + |bias|) with
gamma = 2 (k + 3) eps, twice the classical k-term bound (plus the alpha/beta/bias terms).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import kernn
from kernn import _C
from kernel_check import same_under_1_and_2_threads

ISAS = _C.backend_info()["isas_supported"]
DTYPES = [np.float32, np.float64]
SIZES = range(1, 71)
# Depths around the kernels' unrolling and the panel sizes (MR <= 12, NR <= 64; m up to 70
# reaches both the avx512 12-row tile and its 6-row short tile).
DEPTHS = [1, 2, 7, 16, 17, 33, 70]


@pytest.fixture(params=ISAS)
def isa(request):
    before = _C._gemm_isa()
    _C._set_gemm_isa(request.param)
    yield request.param
    _C._set_gemm_isa(before)


@pytest.fixture(params=[1, 2])
def threads(request):
    before = kernn.get_num_threads()
    kernn.set_num_threads(request.param)
    yield request.param
    kernn.set_num_threads(before)


def small_ints(rng, shape, dtype):
    """Entries in {-4..4} \\ {0} (5 stands in for 0 so that every term counts)."""
    x = rng.integers(-4, 5, size=shape)
    x[x == 0] = 5
    return x.astype(dtype)


def op(x, trans):
    return x.T if trans else x


def stored(x, trans):
    """The contiguous array to pass for op(stored) == x."""
    return np.ascontiguousarray(x.T if trans else x)


def error_bound(dtype, k, alpha, a, b, beta=0.0, c=None, bias=0.0):
    eps = np.finfo(dtype).eps
    mag = abs(alpha) * (np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)))
    if c is not None:
        mag = mag + abs(beta) * np.abs(c.astype(np.float64))
    mag = mag + np.abs(bias)
    return 2.0 * (k + 3) * eps * mag + np.finfo(dtype).tiny


# ---- exhaustive small shapes ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_shapes_exact(isa, dtype):
    """Every m, n in 1..70 for the depths in DEPTHS (trans_b, the Linear layout), and every m, n
    for two depths in the other transpose cases; exact against the float64 product."""
    rng = np.random.default_rng(1)
    a_full = small_ints(rng, (70, 70), dtype)
    b_full = small_ints(rng, (70, 70), dtype)
    mismatches = []

    def check(m, n, k, trans_a, trans_b, a_op, b_op, expected):
        got = _C.gemm(stored(a_op, trans_a) if trans_a else a_op,
                      b_op if not trans_b else stored(b_op, True),
                      trans_a=trans_a, trans_b=trans_b)
        if not np.array_equal(got, expected):
            mismatches.append((m, n, k, trans_a, trans_b))

    for k in DEPTHS:
        a_k = np.ascontiguousarray(a_full[:, :k])          # (70, k): row slices stay contiguous
        bt_k = np.ascontiguousarray(b_full[:k, :].T)       # (70, k) = op(B)^T
        product = a_k.astype(np.float64) @ bt_k.T.astype(np.float64)
        for m in SIZES:
            for n in SIZES:
                got = _C.gemm(a_k[:m], bt_k[:n], trans_b=True)
                if not np.array_equal(got, product[:m, :n]):
                    mismatches.append((m, n, k, False, True))
    for k in (3, 33):
        a_k = a_full[:, :k]
        b_k = b_full[:k, :]
        product = a_k.astype(np.float64) @ b_k.astype(np.float64)
        for trans_a, trans_b in [(False, False), (True, False), (True, True)]:
            for m in SIZES:
                for n in SIZES:
                    a_arg = stored(a_k[:m], trans_a)
                    b_arg = stored(b_k[:, :n], trans_b)
                    got = _C.gemm(a_arg, b_arg, trans_a=trans_a, trans_b=trans_b)
                    if not np.array_equal(got, product[:m, :n]):
                        mismatches.append((m, n, k, trans_a, trans_b))
    assert not mismatches, f"{len(mismatches)} shapes differ, e.g. (m, n, k, ta, tb) = {mismatches[:5]}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_depth_exact(isa, dtype):
    """Every k in 1..70 (and across a depth-block boundary) for a few edge-prone (m, n)."""
    rng = np.random.default_rng(2)
    mismatches = []
    for m, n in [(1, 1), (13, 33), (12, 32), (25, 65), (70, 70), (5, 70)]:
        for k in list(range(1, 71)) + [255, 256, 257, 513]:
            a = small_ints(rng, (m, k), dtype)
            b = small_ints(rng, (k, n), dtype)
            expected = a.astype(np.float64) @ b.astype(np.float64)
            for trans_a in (False, True):
                for trans_b in (False, True):
                    got = _C.gemm(stored(a, trans_a), stored(b, trans_b), trans_a=trans_a,
                                  trans_b=trans_b)
                    if not np.array_equal(got, expected):
                        mismatches.append((m, n, k, trans_a, trans_b))
    assert not mismatches, f"{len(mismatches)} shapes differ, e.g. {mismatches[:5]}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m, n, k", [(3100, 70, 300), (100, 1100, 300), (61, 1100, 513),
                                     (49, 33, 257)])
def test_blocks_with_b_packed_by_the_first_tiles_exact(isa, dtype, m, n, k, threads):
    """B not transposed and at most 32 A panels per row block: the tiles of each block's first
    A panel pack B as they go. Across several row blocks (m = 3100: 256 panels, then 3, the
    second packed in the tiles), column blocks (n = 1100) and depth blocks (k > 256), with a
    last partial B panel: exact against the float64 product, with bias and ReLU."""
    rng = np.random.default_rng(m + n + k)
    a = small_ints(rng, (m, k), dtype)
    b = small_ints(rng, (k, n), dtype)
    bias = small_ints(rng, (n,), dtype)
    expected = np.maximum(a.astype(np.float64) @ b.astype(np.float64) + bias, 0.0)
    assert np.array_equal(_C.gemm(a, b, bias=bias, relu=True), expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_shapes_epilogue_exact(isa, dtype):
    """alpha, beta, bias, row_bias and relu on every m, n in 1..70 (exact: halves and ints),
    with C read through the edge tiles."""
    rng = np.random.default_rng(3)
    k = 5
    a_full = small_ints(rng, (70, k), dtype)
    bt_full = small_ints(rng, (70, k), dtype)
    c_full = small_ints(rng, (70, 70), dtype)
    bias_full = small_ints(rng, (70,), dtype)
    row_bias_full = small_ints(rng, (70,), dtype)
    product = a_full.astype(np.float64) @ bt_full.T.astype(np.float64)
    mismatches = []
    for m in SIZES:
        for n in SIZES:
            c = c_full[:m, :n].copy()
            bias = bias_full[:n]
            row_bias = row_bias_full[:m]
            expected = np.maximum(-1.5 * product[:m, :n] + 0.5 * c + bias + row_bias[:, None], 0)
            got = _C.gemm(a_full[:m], bt_full[:n], c, trans_b=True, alpha=-1.5, beta=0.5,
                          bias=bias, row_bias=row_bias, relu=True)
            if got is not c or not np.array_equal(c, expected):
                mismatches.append((m, n))
    assert not mismatches, f"{len(mismatches)} shapes differ, e.g. (m, n) = {mismatches[:5]}"


# ---- rounding, large shapes, threads ------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_random_shapes_within_rounding_bound(isa, dtype, trans_a, trans_b):
    rng = np.random.default_rng(4)
    for m, n, k in [(257, 513, 129), (100, 10, 500), (31, 300, 600), (3, 1, 1000)]:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        c = rng.standard_normal((m, n)).astype(dtype)
        bias = rng.standard_normal(n).astype(dtype)
        expected = 0.75 * (a.astype(np.float64) @ b.astype(np.float64)) - 2.0 * c + bias
        got = _C.gemm(stored(a, trans_a), stored(b, trans_b), c.copy(), trans_a=trans_a,
                      trans_b=trans_b, alpha=0.75, beta=-2.0, bias=bias)
        bound = error_bound(dtype, k, 0.75, a, b, -2.0, c, bias)
        assert np.all(np.abs(got - expected) <= bound), (m, n, k)


def test_large_square_float32():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((1000, 1000)).astype(np.float32)
    b = rng.standard_normal((1000, 1000)).astype(np.float32)
    got = _C.gemm(a, b)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert np.all(np.abs(got - expected) <= error_bound(np.float32, 1000, 1.0, a, b))


@pytest.mark.parametrize("dtype", DTYPES)
def test_matches_reference(dtype):
    rng = np.random.default_rng(6)
    a = rng.standard_normal((45, 67)).astype(dtype)
    b = rng.standard_normal((38, 67)).astype(dtype)
    row_bias = rng.standard_normal(45).astype(dtype)
    got = _C.gemm(a, b, trans_b=True, row_bias=row_bias, relu=True)
    ref = _C.gemm_reference(a, b, trans_b=True, row_bias=row_bias, relu=True)
    assert np.all(np.abs(got - ref) <= 2 * error_bound(dtype, 67, 1.0, a, b.T, bias=row_bias[:, None]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_and_two_threads_agree_bitwise(isa, dtype):
    rng = np.random.default_rng(7)
    # The packed path, the short tile, the 1-4 row kernels, and the dot products split over
    # blocks of columns (batch 1) and of rows (a narrow C).
    for m, n, k, trans_b in [(100, 500, 784, True), (784, 500, 100, False),
                             (257, 513, 129, False), (100, 10, 500, True), (40, 700, 300, False),
                             (6, 9000, 25, False), (16, 4096, 150, False), (1, 3000, 400, True),
                             (3, 2000, 200, False), (1500, 10, 100, True), (20, 300, 200, True)]:
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
        bias = rng.standard_normal(n).astype(dtype)
        same_under_1_and_2_threads(
            lambda: _C.gemm(a, b, trans_b=trans_b, bias=bias, relu=True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("trans_a", [False, True])
def test_few_rows_last_columns_as_in_a_full_tile(isa, dtype, m, trans_a):
    # C with at most 4 rows and B not transposed (read in place): n = 781 leaves 13 columns
    # (5 for 8-column tiles) past the last wide tile, which go through the narrow tile. Each
    # element must come out bit for bit as in a product whose 64 columns (a multiple of
    # every wide tile) all fill wide tiles, and within the rounding bound of float64.
    rng = np.random.default_rng(11)
    n, k = 781, 900
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    got = _C.gemm(stored(a, trans_a), b, trans_a=trans_a, bias=bias, relu=True)
    tail = _C.gemm(stored(a, trans_a), np.ascontiguousarray(b[:, n - 64:]), trans_a=trans_a,
                   bias=bias[n - 64:], relu=True)
    assert np.array_equal(got[:, n - 64:], tail)
    want = np.maximum(a.astype(np.float64) @ b.astype(np.float64) + bias, 0.0)
    assert np.all(np.abs(got - want) <= error_bound(dtype, k, 1.0, a, b, bias=bias))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [7, 100, 105])
@pytest.mark.parametrize("n, trans_b", [(20, False), (37, False), (37, True), (784, False),
                                        (784, True)])
def test_last_columns_as_in_a_full_tile(isa, dtype, m, n, trans_b):
    # The packed path: the columns past the last full tile (4, 5 or 16 for 16- and 32-column
    # tiles, 4 or 5 for 8-column ones) run as narrow tiles, with full and edge rows (m = 100:
    # 8 x 12 + 4; 105: 8 x 12 + 9, padded; 7: one padded tile of 12 or the short tile). Each
    # element must come out bit for bit as in the same product with B widened to a multiple of
    # 64 columns (of every tile's width), where those columns fill whole tiles, and within the
    # rounding bound of float64. (x W^T with n = 20 would be dot products, not tiles.)
    rng = np.random.default_rng(12)
    k = 300
    a = rng.standard_normal((m, k)).astype(dtype)
    wide = rng.standard_normal((k, -(-n // 64) * 64)).astype(dtype)
    b = np.ascontiguousarray(wide[:, :n])
    bias = rng.standard_normal(wide.shape[1]).astype(dtype)
    got = _C.gemm(a, stored(b, trans_b), trans_b=trans_b, bias=bias[:n], relu=True)
    in_full_tiles = _C.gemm(a, stored(wide, trans_b), trans_b=trans_b, bias=bias, relu=True)
    assert np.array_equal(got, in_full_tiles[:, :n])
    bias = bias[:n]
    want = np.maximum(a.astype(np.float64) @ b.astype(np.float64) + bias, 0.0)
    assert np.all(np.abs(got - want) <= error_bound(dtype, k, 1.0, a, b, bias=bias))


@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_against_numpy(threads, dtype):
    rng = np.random.default_rng(8)
    a = rng.standard_normal((300, 200)).astype(dtype)
    b = rng.standard_normal((200, 250)).astype(dtype)
    got = _C.gemm(a, b)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert np.all(np.abs(got - expected) <= error_bound(dtype, 200, 1.0, a, b))


# ---- BLAS conventions and special values -------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_beta_zero_does_not_read_c(isa, dtype):
    rng = np.random.default_rng(9)
    for m, n, k in [(37, 45, 20), (12, 32, 8), (100, 10, 50)]:
        a = small_ints(rng, (m, k), dtype)
        b = small_ints(rng, (k, n), dtype)
        c = np.full((m, n), np.nan, dtype)
        _C.gemm(a, b, c, beta=0.0)
        assert np.array_equal(c, a.astype(np.float64) @ b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_alpha_zero_and_k_zero_leave_beta_c_plus_bias(dtype):
    rng = np.random.default_rng(10)
    c = small_ints(rng, (6, 5), dtype)
    bias = small_ints(rng, (5,), dtype)
    a = np.full((6, 3), np.nan, dtype)
    b = np.full((3, 5), np.nan, dtype)
    got = _C.gemm(a, b, c.copy(), alpha=0.0, beta=2.0, bias=bias)
    assert np.array_equal(got, 2.0 * c + bias)
    got = _C.gemm(np.empty((6, 0), dtype), np.empty((0, 5), dtype), c.copy(), beta=-1.0,
                  bias=bias, relu=True)
    assert np.array_equal(got, np.maximum(-c + bias, 0))
    row_bias = small_ints(rng, (6,), dtype)
    got = _C.gemm(a, b, c.copy(), alpha=0.0, beta=2.0, bias=bias, row_bias=row_bias)
    assert np.array_equal(got, 2.0 * c + bias + row_bias[:, None])
    # beta == 0: c is not read (NaN does not propagate), and 0 + biases keeps their signs
    got = _C.gemm(a, b, np.full_like(c, np.nan), alpha=0.0, row_bias=-row_bias, relu=False)
    assert np.array_equal(got, np.broadcast_to(0 - row_bias[:, None], c.shape))


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_outputs(dtype):
    assert _C.gemm(np.ones((0, 4), dtype), np.ones((4, 3), dtype)).shape == (0, 3)
    assert _C.gemm(np.ones((2, 4), dtype), np.ones((4, 0), dtype)).shape == (2, 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_propagates_through_relu(isa, dtype):
    a = np.ones((20, 9), dtype)
    a[3, 4] = np.nan
    b = -np.ones((9, 40), dtype)
    got = _C.gemm(a, b, relu=True)
    assert np.all(np.isnan(got[3]))
    assert np.array_equal(np.delete(got, 3, axis=0), np.zeros((19, 40), dtype))


def test_large_values_round_like_the_reference():
    a = np.full((3, 4), 1e30, np.float32)
    b = np.full((4, 2), 1e10, np.float32)
    got = _C.gemm(a, b)
    assert np.all(np.isinf(got)) and np.array_equal(got, _C.gemm_reference(a, b))


# ---- ISA selection and backend info ------------------------------------------------------------


def test_backend_info():
    info = kernn.backend_info()
    assert info["isa"] in info["isas_supported"]
    assert info["isas_supported"][-1] == "generic"
    assert info["openmp"] == _C.openmp_enabled()
    assert info["num_threads"] == kernn.get_num_threads()


def test_set_gemm_isa_rejects_unknown_name():
    with pytest.raises(ValueError, match="_set_gemm_isa: argument 'name'"):
        _C._set_gemm_isa("sse9")


def test_kernn_isa_environment_variable():
    def isa_with(value):
        env = dict(os.environ, KERNN_ISA=value)
        out = subprocess.run([sys.executable, "-c",
                              "import kernn; print(kernn.backend_info()['isa'])"],
                             env=env, capture_output=True, text=True, check=True)
        return out.stdout.strip(), out.stderr

    isa, _ = isa_with("generic")
    assert isa == "generic"
    isa, stderr = isa_with("neon")
    assert isa == ISAS[0] and "KERNN_ISA=neon" in stderr


# ---- argument checks --------------------------------------------------------------------------


def test_bad_dtypes_raise_type_error():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 2), np.float32)
    with pytest.raises(TypeError, match="kernn.gemm: argument 'a' has dtype int32"):
        _C.gemm(a.astype(np.int32), b)
    with pytest.raises(TypeError, match="argument 'b' has dtype float64"):
        _C.gemm(a, b.astype(np.float64))
    with pytest.raises(TypeError, match="argument 'c' has dtype float64"):
        _C.gemm(a, b, np.zeros((3, 2)))
    with pytest.raises(TypeError, match="argument 'bias'"):
        _C.gemm(a, b, bias=np.zeros(2))
    with pytest.raises(TypeError, match="gemm_reference: argument 'a'"):
        _C.gemm_reference(a.astype(np.float16), b)


def test_bad_shapes_raise_value_error():
    a = np.ones((3, 4), np.float32)
    b = np.ones((5, 2), np.float32)
    with pytest.raises(ValueError, match=r"inner dimensions differ: op\(a\) is \(3, 4\).*op\(b\) is \(5, 2\)"):
        _C.gemm(a, b)
    with pytest.raises(ValueError, match=r"op\(a\) is \(4, 3\) from a \(3, 4\) transposed"):
        _C.gemm(a, b, trans_a=True)
    with pytest.raises(ValueError, match="argument 'a' has shape \\(12,\\); expected 2"):
        _C.gemm(np.ones(12, np.float32), b)
    good_b = np.ones((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"argument 'c' has shape \(2, 3\); expected \(3, 2\)"):
        _C.gemm(a, good_b, np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"argument 'bias' has shape \(3,\); expected \(2,\)"):
        _C.gemm(a, good_b, bias=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"argument 'row_bias' has shape \(2,\); expected \(3,\)"):
        _C.gemm(a, good_b, row_bias=np.zeros(2, np.float32))


def test_bad_layouts_raise_value_error():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 2), np.float32)
    with pytest.raises(ValueError, match="argument 'a' .* not C-contiguous"):
        _C.gemm(np.ones((4, 3), np.float32).T, b)
    c = np.zeros((3, 2), np.float32)
    c.flags.writeable = False
    with pytest.raises(ValueError, match="argument 'c' .* read-only"):
        _C.gemm(a, b, c)
    with pytest.raises(ValueError, match="argument 'c' .* not C-contiguous"):
        _C.gemm(a, b, np.zeros((2, 3), np.float32).T)
    with pytest.raises(ValueError, match="argument 'beta' is 1.0+ but 'c' is None"):
        _C.gemm(a, b, beta=1.0)
    square = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="argument 'c' \\(4, 4\\) shares memory with argument 'a'"):
        _C.gemm(square, np.ones((4, 4), np.float32), square)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,n,k", [(1, 500, 784), (3, 1, 5), (100, 10, 500), (7, 33, 1)])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("with_bias", [False, True])
def test_linear_is_gemm_with_trans_b(dtype, m, n, k, relu, with_bias):
    rng = np.random.default_rng(m * n + k)
    x = rng.standard_normal((m, k)).astype(dtype)
    weight = rng.standard_normal((n, k)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype) if with_bias else None
    got = _C.linear(x, weight, bias, relu)
    assert got.dtype == dtype and got.shape == (m, n)
    assert np.array_equal(got, _C.gemm(x, weight, trans_b=True, bias=bias, relu=relu))


def test_linear_errors_name_linear_and_its_arguments():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"kernn.linear: .*op\(x\) is \(2, 3\).*op\(weight\) is "
                                         r"\(4, 5\) from weight \(5, 4\) transposed"):
        _C.linear(x, np.ones((5, 4), np.float32), None, False)
    with pytest.raises(TypeError, match="kernn.linear: argument 'weight' has dtype float64"):
        _C.linear(x, np.ones((4, 3)), None, False)
    with pytest.raises(ValueError, match=r"kernn.linear: argument 'bias' has shape \(3,\); "
                                         r"expected \(4,\)"):
        _C.linear(x, np.ones((4, 3), np.float32), np.zeros(3, np.float32), False)
