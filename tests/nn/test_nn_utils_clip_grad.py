"""kernn.nn.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils: the total norm,
the clipped gradients (changed in place, in the arrays an optimizer holds), None gradients,
non-finite norms and the forms ``parameters`` comes in."""

import math

import numpy as np
import pytest
import torch

import kernn
from torch_compare import assert_close

# The gradients' norms are sums, which kernn (numpy) and torch add up in different orders: the
# total norm and the clip coefficient derived from it may differ in the last bit (at most one
# ulp in these tests on an AVX-512 machine; torch's lanes are narrower elsewhere).
MAX_ULP = 2

# Gradient shapes of a small model; None is a parameter whose .grad is None.
SHAPES = [(4, 3), (5,), None, (2, 3, 2), ()]


def _gradients(rng, dtype, shapes=SHAPES):
    return [None if s is None else rng.standard_normal(s).astype(dtype) for s in shapes]


def _parameters(lib, grads):
    """One parameter of ``lib`` per gradient array in ``grads``, its .grad a copy of the array
    (None stays None: a parameter without a gradient, float32)."""
    params = []
    for g in grads:
        if g is None:
            params.append(lib.nn.Parameter(lib.zeros(3)))
            continue
        p = lib.nn.Parameter(lib.from_numpy(np.zeros_like(g)))
        p.grad = lib.from_numpy(g.copy())
        params.append(p)
    return params


def _assert_within_ulp(actual, expected, what, precision=None):
    """Same dtype and shape, nan at the same places, the rest within MAX_ULP units in the last
    place of ``precision`` (default: the values' own dtype)."""
    a, e = actual.numpy(), expected.numpy()
    assert a.dtype == e.dtype, f"{what}: kernn dtype {a.dtype} != torch dtype {e.dtype}"
    assert a.shape == e.shape, f"{what}: kernn shape {a.shape} != torch shape {e.shape}"
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e), err_msg=f"{what}: nan positions")
    precision = a.dtype if precision is None else precision
    finite = ~np.isnan(a)
    try:
        np.testing.assert_array_max_ulp(a[finite].astype(precision),
                                        e[finite].astype(precision), maxulp=MAX_ULP)
    except AssertionError as exc:
        raise AssertionError(f"{what}: {exc}") from None


def _clip_norm_both(grads, max_norm, norm_type=2.0, precision=None, **kwargs):
    """clip_grad_norm_ on kernn and torch parameters with the same gradients; asserts the total
    norms and the clipped gradients agree (to MAX_ULP of ``precision``) and that kernn changed
    each gradient's array in place. Returns kernn's total norm."""
    kparams, tparams = _parameters(kernn, grads), _parameters(torch, grads)
    arrays = [None if p.grad is None else p.grad._data for p in kparams]
    k_total = kernn.nn.utils.clip_grad_norm_(kparams, max_norm, norm_type, **kwargs)
    t_total = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type, **kwargs)
    assert isinstance(k_total, kernn.Tensor) and k_total.shape == ()
    _assert_within_ulp(k_total, t_total, "total norm", precision)
    for i, (kp, tp, array) in enumerate(zip(kparams, tparams, arrays)):
        if array is None:
            assert kp.grad is None and tp.grad is None
            continue
        assert kp.grad._data is array, f"grad {i} was replaced, not changed in place"
        _assert_within_ulp(kp.grad, tp.grad, f"grad {i}", precision)
    return k_total


@pytest.mark.parametrize("norm_type", [1, 2, 3.5, math.inf, 0, -math.inf, "inf"])
@pytest.mark.parametrize("max_norm_per_norm", [0.5, 2.0], ids=["clips", "leaves"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm_per_norm, float_dtype, rng):
    grads = _gradients(rng, float_dtype)
    norm = torch.nn.utils.get_total_norm([torch.from_numpy(g) for g in grads if g is not None],
                                         norm_type)
    total = _clip_norm_both(grads, max_norm_per_norm * float(norm), norm_type)
    assert total.dtype.numpy == float_dtype


def test_clip_coefficient_is_torchs_bit_for_bit(float_dtype, rng):
    # Norms without rounding (3-4-5, 5-12-13: total 13 * sqrt(2) rounded once), so the only
    # rounding left to differ in is the coefficient's: torch takes reciprocal(norm + 1e-6) *
    # max_norm, and a plain division is an ulp off for some max_norms.
    grads = [np.array([3.0, 4.0], float_dtype), np.array([[5.0], [12.0]], float_dtype)]
    for max_norm in np.exp(rng.uniform(-3.0, 2.5, 50)):
        kparams, tparams = _parameters(kernn, grads), _parameters(torch, grads)
        kernn.nn.utils.clip_grad_norm_(kparams, max_norm)
        torch.nn.utils.clip_grad_norm_(tparams, max_norm)
        for kp, tp in zip(kparams, tparams):
            assert_close(kp.grad, tp.grad, float_dtype, rtol=0, atol=0,
                         what=f"grad clipped to {max_norm}")


@pytest.mark.parametrize("foreach", [None, False, True])
def test_foreach_is_accepted_and_changes_nothing(foreach, rng):
    grads = _gradients(rng, np.float32)
    _clip_norm_both(grads, 0.5, foreach=foreach)
    kparams, tparams = _parameters(kernn, grads), _parameters(torch, grads)
    kernn.nn.utils.clip_grad_value_(kparams, 0.5, foreach=foreach)
    torch.nn.utils.clip_grad_value_(tparams, 0.5, foreach=foreach)
    for kp, tp in zip(kparams, tparams):
        if tp.grad is not None:
            assert_close(kp.grad, tp.grad, np.float32, rtol=0, atol=0)


def test_clip_grad_norm_of_many_larger_gradients_matches_torch(float_dtype, rng):
    # Longer sums than the small model's (torch sums in vector lanes, numpy pairwise) and more
    # norms than one vector register holds in the total.
    grads = _gradients(rng, float_dtype, [(64, 37)] * 3 + [(129,)] * 20)
    _clip_norm_both(grads, 1.0)


def test_clip_grad_norm_of_mixed_dtypes_matches_torch(rng):
    grads = _gradients(rng, np.float32) + _gradients(rng, np.float64)
    # torch too takes the float32 gradients' norms in float32: the float64 total inherits
    # their last-bit differences.
    total = _clip_norm_both(grads, 0.5, precision=np.float32)
    assert total.dtype == kernn.float64


def test_clip_grad_norm_of_zero_gradients_matches_torch(float_dtype):
    total = _clip_norm_both([np.zeros((3, 2), float_dtype), np.zeros(4, float_dtype)], 1.0)
    assert float(total) == 0.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("norm_type", [2, math.inf])
def test_clip_grad_norm_of_non_finite_gradients_scales_as_torch(bad, norm_type, float_dtype,
                                                                rng):
    grads = _gradients(rng, float_dtype)
    grads[0][1, 2] = bad
    total = _clip_norm_both(grads, 1.0, norm_type)
    assert not np.isfinite(float(total))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_clip_grad_norm_error_if_nonfinite_raises_and_leaves_the_gradients(bad, float_dtype,
                                                                           rng):
    grads = _gradients(rng, float_dtype)
    grads[1][3] = bad
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(_parameters(torch, grads), 1.0, error_if_nonfinite=True)
    params = _parameters(kernn, grads)
    expected = f"total norm of order 2.0 of the gradients .* is {bad}, non-finite"
    with pytest.raises(RuntimeError, match=f"clip_grad_norm_: the {expected}"):
        kernn.nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    for p, g in zip(params, grads):
        if g is not None:
            np.testing.assert_array_equal(p.grad.numpy(), g)


def test_float32_norm_overflows_as_torch_does():
    # The squares of 1e20 exceed float32's range: torch accumulates float32 norms in float32,
    # so the norm is inf (a float64 accumulation would give a finite 1e20).
    grads = [np.array([1e20, 1.0], np.float32)]
    assert float(_clip_norm_both(grads, 1.0)) == math.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        kernn.nn.utils.clip_grad_norm_(_parameters(kernn, grads), 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("norm_type", [math.inf, -1.0])
def test_clip_grad_norm_of_an_empty_gradient_raises_where_torch_does(norm_type):
    grads = [np.zeros(0, np.float32), np.ones(3, np.float32)]
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(_parameters(torch, grads), 1.0, norm_type)
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: cannot take the .* norm of a "
                                           r"gradient with no elements \(shape \(0,\)\)"):
        kernn.nn.utils.clip_grad_norm_(_parameters(kernn, grads), 1.0, norm_type)
    _clip_norm_both(grads, 1.0, 2.0)


def test_clip_grad_norm_takes_a_single_tensor_and_a_generator(float_dtype, rng):
    grad = rng.standard_normal((6, 2)).astype(float_dtype)
    (kp,), (tp,) = _parameters(kernn, [grad]), _parameters(torch, [grad])
    _assert_within_ulp(kernn.nn.utils.clip_grad_norm_(kp, 0.5),
                       torch.nn.utils.clip_grad_norm_(tp, 0.5), "total norm")
    _assert_within_ulp(kp.grad, tp.grad, "grad")

    grads = _gradients(rng, float_dtype)
    kparams, tparams = _parameters(kernn, grads), _parameters(torch, grads)
    _assert_within_ulp(kernn.nn.utils.clip_grad_norm_((p for p in kparams), 0.5),
                       torch.nn.utils.clip_grad_norm_((p for p in tparams), 0.5), "total norm")
    for kp, tp in zip(kparams, tparams):
        if tp.grad is not None:
            _assert_within_ulp(kp.grad, tp.grad, "grad")


def test_clip_grad_norm_of_a_module_scales_what_the_optimizer_steps_with(rng):
    model = kernn.nn.Linear(4, 3)
    optimizer = kernn.optim.SGD(model.parameters(), lr=1.0)
    x = kernn.from_numpy(rng.standard_normal((8, 4)).astype(np.float32))
    (model(x) ** 2).sum().backward()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    total = kernn.nn.utils.clip_grad_norm_(model.parameters(), 1e-3)
    clipped = [p.grad.numpy().copy() for p in model.parameters()]
    assert float(total) > 1e-3
    np.testing.assert_allclose(math.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in clipped)),
                               1e-3, rtol=1e-5)
    optimizer.step()
    for p, b, g in zip(model.parameters(), before, clipped):
        np.testing.assert_allclose(p.detach().numpy(), b - g, rtol=1e-6, atol=1e-9)


def test_clip_grad_norm_without_gradients_returns_zero_as_torch():
    k_total = kernn.nn.utils.clip_grad_norm_(_parameters(kernn, [None, None]), 1.0)
    t_total = torch.nn.utils.clip_grad_norm_(_parameters(torch, [None, None]), 1.0)
    assert k_total.dtype == kernn.get_default_dtype()
    assert_close(k_total, t_total, np.float32, rtol=0, atol=0)


def test_clip_grad_norm_warns_about_an_empty_generator():
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        total = kernn.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    assert float(total) == 0.0


@pytest.mark.parametrize("clip", [kernn.nn.utils.clip_grad_norm_,
                                  kernn.nn.utils.clip_grad_value_])
def test_clipping_names_an_element_that_is_not_a_tensor(clip):
    with pytest.raises(TypeError, match=f"{clip.__name__}: argument 'parameters' must be a "
                                        "Tensor or an iterable of Tensors, got an element of "
                                        "type ndarray"):
        clip([kernn.nn.Parameter(kernn.zeros(2)), np.zeros(2)], 1.0)


@pytest.mark.parametrize("clip_value", [0.5, 2.0, -0.25])
def test_clip_grad_value_matches_torch(clip_value, float_dtype, rng):
    grads = _gradients(rng, float_dtype)
    grads[0][0, 1] = math.nan
    grads[3][1, 2, 0] = -math.inf
    kparams, tparams = _parameters(kernn, grads), _parameters(torch, grads)
    arrays = [None if p.grad is None else p.grad._data for p in kparams]
    assert kernn.nn.utils.clip_grad_value_(kparams, clip_value) is None
    torch.nn.utils.clip_grad_value_(tparams, clip_value)
    for i, (kp, tp, array) in enumerate(zip(kparams, tparams, arrays)):
        if array is None:
            assert kp.grad is None
            continue
        assert kp.grad._data is array, f"grad {i} was replaced, not changed in place"
        assert_close(kp.grad, tp.grad, float_dtype, rtol=0, atol=0, what=f"grad {i}")


def test_clip_grad_value_takes_a_single_tensor_and_a_generator(rng):
    grads = _gradients(rng, np.float32)
    kparams, tparams = _parameters(kernn, grads), _parameters(torch, grads)
    kernn.nn.utils.clip_grad_value_(kparams[0], 0.5)
    torch.nn.utils.clip_grad_value_(tparams[0], 0.5)
    kernn.nn.utils.clip_grad_value_((p for p in kparams[1:]), 0.1)
    torch.nn.utils.clip_grad_value_((p for p in tparams[1:]), 0.1)
    for kp, tp in zip(kparams, tparams):
        if tp.grad is not None:
            assert_close(kp.grad, tp.grad, np.float32, rtol=0, atol=0)
