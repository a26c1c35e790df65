"""kernn._C.gemm against gemm_reference and numpy (float64), and its argument checks."""

import numpy as np
import pytest

import kernn
from kernn import _C


def operands(rng, m, n, k, trans_a, trans_b, dtype):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def numpy_gemm(a, b, trans_a, trans_b):
    a64 = a.astype(np.float64)
    b64 = b.astype(np.float64)
    return (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm_matches_numpy_and_reference(dtype, trans_a, trans_b):
    rng = np.random.default_rng(0)
    m, n, k = 37, 53, 29
    a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
    expected = numpy_gemm(a, b, trans_a, trans_b)
    got = _C.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
    ref = _C.gemm_reference(a, b, trans_a=trans_a, trans_b=trans_b)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    scale = np.abs(a).max() * np.abs(b).max() * k
    np.testing.assert_allclose(got, expected, rtol=0, atol=tol * scale)
    np.testing.assert_allclose(ref, expected, rtol=0, atol=tol * scale)


def test_gemm_rejects_bad_inputs():
    a = np.ones((3, 4), np.float32)
    with pytest.raises(TypeError, match="gemm: argument 'a'"):
        _C.gemm(a.astype(np.int32), a.T.copy())
    with pytest.raises(ValueError, match=r"inner dimensions.*\(3, 4\).*\(3, 4\)"):
        _C.gemm(a, a)
    with pytest.raises(ValueError, match="beta"):
        _C.gemm(a, a, trans_b=True, beta=1.0)
