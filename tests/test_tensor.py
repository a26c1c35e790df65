"""Tensor: creation, dtypes, metadata, conversion, and every op against torch."""

import operator
import re

import numpy as np
import pytest
import torch

import kernn
from torch_compare import assert_close, compare


# ---- creation and dtypes --------------------------------------------------------------------
def test_tensor_infers_dtypes_like_torch():
    assert kernn.tensor([1.0, 2.0]).dtype is kernn.float32
    assert kernn.tensor([1, 2]).dtype is kernn.int64
    assert kernn.tensor([True, False]).dtype is kernn.bool
    assert kernn.tensor(np.zeros(3)).dtype is kernn.float64
    assert kernn.tensor([1, 2], dtype=kernn.float64).dtype is kernn.float64
    assert kernn.zeros(2, 3).dtype is kernn.float32


def test_from_numpy_and_numpy_share_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = kernn.from_numpy(a)
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    assert t.numpy() is a
    assert torch.from_numpy(t.numpy()).data_ptr() == a.ctypes.data


def test_tensor_copies_its_data():
    a = np.ones(3, dtype=np.float32)
    t = kernn.tensor(a)
    a[0] = 5
    assert t[0].item() == 1


def test_from_numpy_rejects_unsupported_dtype():
    with pytest.raises(TypeError, match="from_numpy"):
        kernn.from_numpy(np.zeros(3, dtype=np.complex64))


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        kernn.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        kernn.zeros(3, dtype=kernn.bool).requires_grad_()


def test_metadata():
    t = kernn.zeros(2, 3, 5)
    assert t.shape == (2, 3, 5) and t.size() == (2, 3, 5) and t.size(1) == 3
    assert t.dim() == 3 and t.ndim == 3 and t.numel() == 30 and len(t) == 2
    assert repr(t.shape) == "kernn.Size([2, 3, 5])"
    assert repr(kernn.float64) == "kernn.float64"
    with pytest.raises(TypeError, match="0-d"):
        len(kernn.tensor(1.0))


def test_repr_matches_torch_style():
    x = kernn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert repr(x) == "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)"
    assert repr(kernn.tensor(3.5)) == "tensor(3.5000)"
    assert repr(kernn.tensor(36.0)) == "tensor(36.)"
    assert repr(kernn.tensor([1.0, 0.75, 0.5])) == "tensor([1.0000, 0.7500, 0.5000])"
    assert repr(kernn.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=kernn.float64" in repr(kernn.zeros(2, dtype=kernn.float64))
    assert "grad_fn=<MulBackward>" in repr(x * 2)


def test_factories():
    assert kernn.ones(2, 2).numpy().sum() == 4
    assert kernn.full((2, 3), 7).dtype is kernn.int64
    assert kernn.full((2, 3), 0.5).numpy().mean() == 0.5
    assert kernn.arange(5).dtype is kernn.int64 and kernn.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert kernn.arange(0, 1, 0.25).dtype is kernn.float32
    np.testing.assert_allclose(kernn.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert kernn.empty(3, 4).shape == (3, 4)
    assert kernn.zeros_like(kernn.ones(2, dtype=kernn.float64)).dtype is kernn.float64
    assert kernn.ones_like(kernn.zeros(3)).numpy().tolist() == [1, 1, 1]
    r = kernn.randint(0, 10, (1000,))
    assert r.dtype is kernn.int64 and r.min().item() >= 0 and r.max().item() <= 9
    assert kernn.randint(3, (4,)).shape == (4,)
    u = kernn.rand(1000)
    assert 0 <= u.min().item() and u.max().item() < 1
    n = kernn.randn(10000, dtype=kernn.float64)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05


def test_manual_seed_reproduces_random_streams():
    kernn.manual_seed(7)
    a = kernn.randn(5)
    kernn.manual_seed(7)
    b = kernn.randn(5)
    assert np.array_equal(a.numpy(), b.numpy())
    assert kernn.random.default_generator() is kernn.random.default_generator()


def test_item_and_conversions():
    assert kernn.tensor([2.5]).item() == 2.5
    with pytest.raises(ValueError, match="item"):
        kernn.ones(2).item()
    t = kernn.tensor([1.7, -2.2])
    assert t.long().dtype is kernn.int64 and t.long().tolist() == [1, -2]
    assert t.double().dtype is kernn.float64 and t.double().float().dtype is kernn.float32
    assert t.to(kernn.float64).dtype is kernn.float64
    assert t.to("cpu") is t
    with pytest.raises(RuntimeError, match="CPU"):
        t.to("cuda")


def test_numpy_refuses_tensor_requiring_grad():
    with pytest.raises(RuntimeError, match="detach"):
        kernn.ones(2, requires_grad=True).numpy()


def test_comparisons_give_bool_tensors():
    t = kernn.tensor([1.0, 2.0, 3.0])
    assert (t > 1.5).dtype is kernn.bool
    assert (t > 1.5).tolist() == [False, True, True]
    assert (t == kernn.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (t <= 2).tolist() == [True, True, False]


def test_iteration_and_len():
    t = kernn.arange(6).reshape(3, 2)
    rows = list(t)
    assert len(rows) == 3 and rows[1].tolist() == [2, 3]


def test_inplace_on_leaf_requiring_grad_needs_no_grad():
    w = kernn.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation on a leaf tensor that requires"):
        w -= 1
    with kernn.no_grad():
        w -= 1
    assert w.tolist() == [0, 0, 0] and w.requires_grad


def test_inplace_on_graph_tensor_is_refused_naming_it():
    y = kernn.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="in-place operation on a tensor computed by the graph"):
        y += 1
    with pytest.raises(RuntimeError, match="__setitem__: in-place operation on a tensor comput"):
        y[0] = 0
    assert y.tolist() == [2, 2, 2]


def test_setitem_with_mask():
    t = kernn.tensor([1.0, -2.0, 3.0])
    t[t < 0] = 0
    assert t.tolist() == [1, 0, 3]


# ---- ops against torch ----------------------------------------------------------------------
SHAPES = [((3, 4), (3, 4)), ((5, 1), (1, 7)), ((2, 3, 4), (4,)), ((1,), (6, 1)), ((), (3,))]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
@pytest.mark.parametrize("shapes", SHAPES)
def test_broadcasting_arithmetic(op, shapes, float_dtype, rng):
    a = rng.standard_normal(shapes[0])
    b = rng.standard_normal(shapes[1]) + (3.0 if op == "div" else 0.0)
    fns = {"add": lambda l, x, y: x + y, "sub": lambda l, x, y: x - y,
           "mul": lambda l, x, y: x * y, "div": lambda l, x, y: x / y}
    compare(fns[op], [a, b], dtype=float_dtype)


def test_scalar_arithmetic_both_sides(float_dtype, rng):
    a = rng.standard_normal((4, 3)) + 3
    compare(lambda l, x: 2 * x - x / 3 + 1 - 2 / x + (5 - x) * -x, [a], dtype=float_dtype)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "abs", "neg", "tanh",
                                  "sigmoid", "relu"])
def test_unary(name, float_dtype, rng):
    a = rng.uniform(0.2, 2.0, (5, 7)) if name in ("log", "sqrt") else rng.standard_normal((5, 7))
    compare(lambda l, x: getattr(x, name)(), [a], dtype=float_dtype)


def test_pow_scalar_and_tensor_exponents(float_dtype, rng):
    a = rng.uniform(0.5, 2.0, (3, 4))
    e = rng.uniform(-1, 2, (3, 4))
    compare(lambda l, x: x ** 3 + x ** 0.5 + 2 ** x, [a], dtype=float_dtype)
    compare(lambda l, x, y: x ** y, [a, e], dtype=float_dtype)


def test_clamp(float_dtype, rng):
    a = rng.standard_normal((6, 5))
    compare(lambda l, x: x.clamp(-0.5, 0.7), [a], dtype=float_dtype)
    compare(lambda l, x: l.clamp(x, min=0.1), [a], dtype=float_dtype)
    compare(lambda l, x: x.clamp(max=0.1), [a], dtype=float_dtype)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                          ((0, 2), False), ((0, 2), True)])
def test_sum_mean(dim, keepdim, float_dtype, rng):
    a = rng.standard_normal((3, 4, 5))
    if dim is None:
        compare(lambda l, x: x.sum() + x.mean(), [a], dtype=float_dtype)
    else:
        compare(lambda l, x: x.sum(dim, keepdim=keepdim) + x.mean(dim, keepdim=keepdim), [a],
                dtype=float_dtype)


@pytest.mark.parametrize("fname", ["max", "min"])
def test_max_min(fname, float_dtype, rng):
    a = rng.standard_normal((4, 6))
    compare(lambda l, x: getattr(l, fname)(x), [a], dtype=float_dtype)
    compare(lambda l, x: tuple(getattr(l, fname)(x, 1)), [a], dtype=float_dtype)
    compare(lambda l, x: tuple(getattr(x, fname)(0, keepdim=True)), [a], dtype=float_dtype)
    values, indices = kernn.max(kernn.tensor(a), 1)
    assert indices.dtype is kernn.int64
    r = kernn.max(kernn.tensor(a), 1)
    assert r.values is r[0] and r.indices is r[1]


def test_max_of_ties_splits_gradient_as_torch():
    compare(lambda l, x: x.max(), [np.array([1.0, 3.0, 3.0, 2.0])])


def test_argmax_argmin(rng):
    a = rng.standard_normal((5, 7))
    for dim in (None, 0, 1):
        k, t = kernn.tensor(a), torch.tensor(a)
        assert np.array_equal(k.argmax(dim).numpy(), t.argmax(dim).numpy())
        assert np.array_equal(kernn.argmin(k, dim).numpy(), torch.argmin(t, dim).numpy())
    assert kernn.tensor(a).argmax(1, keepdim=True).shape == (5, 1)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((1, 7), (7, 1)), ((4,), (4, 3)),
                                   ((3, 4), (4,)), ((5,), (5,)), ((2, 3, 4), (4, 5)),
                                   ((2, 3, 4), (2, 4, 6)), ((17, 31), (31, 13))])
def test_matmul(sa, sb, float_dtype, rng, num_threads):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    compare(lambda l, x, y: x @ y, [a, b], dtype=float_dtype)


def test_matmul_shape_error_names_sizes():
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        kernn.ones(3, 4) @ kernn.ones(5, 2)
    with pytest.raises(ValueError, match=r"matmul: the batch dimensions \(2,\) of \(2, 3, 4\) "
                                         r"and \(3,\) of \(3, 4, 2\) do not broadcast"):
        kernn.ones(2, 3, 4) @ kernn.ones(3, 4, 2)


def test_matmul_dtype_error():
    with pytest.raises(TypeError, match="matmul"):
        kernn.ones(3, 4) @ kernn.ones(4, 2, dtype=kernn.float64)


def test_shape_ops(float_dtype, rng):
    a = rng.standard_normal((2, 3, 4))
    compare(lambda l, x: x.reshape(6, 4) * 2, [a], dtype=float_dtype)
    compare(lambda l, x: x.view(-1, 2).sum(1), [a], dtype=float_dtype)
    compare(lambda l, x: x.flatten(1), [a], dtype=float_dtype)
    compare(lambda l, x: x.flatten() * 1, [a], dtype=float_dtype)
    compare(lambda l, x: x.transpose(0, 2) * 3, [a], dtype=float_dtype)
    compare(lambda l, x: x.permute(1, 2, 0).contiguous() * 3, [a], dtype=float_dtype)
    compare(lambda l, x: x.unsqueeze(1).squeeze(1) * 2 + x.unsqueeze(-1).squeeze(), [a],
            dtype=float_dtype)
    compare(lambda l, x: x[0].t() * 2 + x[1].T, [a], dtype=float_dtype)


def test_reshape_error_names_shape():
    with pytest.raises(RuntimeError, match="invalid for input of size 6"):
        kernn.ones(2, 3).reshape(4, 2)


@pytest.mark.parametrize("index", [
    (1,), (slice(None), 2), (slice(0, 3, 2), slice(1, None)), (Ellipsis, 1),
    (None, 0), ([0, 2, 2, 1],), (np.array([[0, 1], [1, 0]]),),
])
def test_getitem_with_gradient(index, float_dtype, rng):
    a = rng.standard_normal((4, 5))
    idx = index if len(index) > 1 else index[0]
    compare(lambda l, x: x[_convert_index(l, idx)], [a], dtype=float_dtype)


@pytest.mark.parametrize("lib", [kernn, torch])
@pytest.mark.parametrize("index", [(0, 1), 2, (1, Ellipsis), (-1, -2)])
def test_basic_index_of_one_element_is_a_view_as_torch(lib, index):
    t = lib.zeros(3, 4)
    element = t[index]
    assert element.shape == t[index].shape == lib.zeros(3, 4)[index].shape
    t.fill_(5.0)  # the parent's change shows in the element ...
    assert element.tolist() == lib.full(element.shape, 5.0).tolist()
    element.fill_(7.0)  # ... and the element's in the parent
    assert t[index].tolist() == element.tolist()
    assert t.sum().item() == 5.0 * 12 + 2.0 * element.numel()


def test_element_of_a_0d_and_a_1d_tensor_is_a_0d_view():
    t = kernn.arange(3.0)
    first, whole = t[0], t.sum()
    assert first.shape == () and whole[()].shape == ()
    t[0] = 9.0
    assert first.item() == 9.0


def _convert_index(lib, idx):
    if isinstance(idx, (list, np.ndarray)):
        return lib.tensor(np.asarray(idx))
    return idx


def test_getitem_bool_mask(float_dtype, rng):
    a = rng.standard_normal((4, 5))
    mask = a > 0
    compare(lambda l, x: x[l.tensor(mask)] * 2, [a], dtype=float_dtype)


def test_cat_stack_where(float_dtype, rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((4, 3))
    compare(lambda l, x, y: l.cat([x, y * 2], 0), [a, b], dtype=float_dtype)
    c = rng.standard_normal((2, 3))
    compare(lambda l, x, y: l.stack([x, y], 1), [a, c], dtype=float_dtype)
    cond = a > 0
    compare(lambda l, x, y: l.where(l.tensor(cond), x, y), [a, c], dtype=float_dtype)


def test_cast_is_differentiable(rng):
    a = rng.standard_normal((3,)).astype(np.float32)
    compare(lambda l, x: x.double() * 2, [a], dtype=np.float32)


def test_float32_plus_float64_promotes_like_torch():
    a = kernn.ones(2) + kernn.ones(2, dtype=kernn.float64)
    assert a.dtype is kernn.float64
    assert_close(a, torch.ones(2) + torch.ones(2, dtype=torch.float64), np.float64)


def test_noncontiguous_input_to_kernel_ops(float_dtype, rng):
    a = rng.standard_normal((6, 5))
    compare(lambda l, x, w: x.t() @ w, [a, rng.standard_normal((6, 3))], dtype=float_dtype)
    compare(lambda l, x: l.relu(x.t()), [a], dtype=float_dtype)


# torch's Tensor.__array__ lacks numpy 2's copy keyword; numpy warns about torch, not kernn.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_tensor_keeps_the_dtype_of_arrays_and_numpy_scalars():
    assert kernn.tensor(torch.ones(2, dtype=torch.float64)).dtype is kernn.float64
    assert kernn.tensor(np.float64(2.0)).dtype is kernn.float64
    assert kernn.tensor(np.int32(3)).dtype is kernn.int32
    assert kernn.tensor(2.0).dtype is kernn.float32 and kernn.tensor(2).dtype is kernn.int64


# ---- type promotion: torch's rules, not numpy's ---------------------------------------------
PROMOTION_DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def _operand(lib, kind, dtype):
    """A dimensioned tensor, a 0-d tensor or a number of `dtype` holding small positive
    values (exact in every dtype)."""
    if kind == "number":
        return {"bool": True, "int64": 3, "float32": 2.5, "float64": np.float64(2.5),
                "int32": np.int32(3)}[dtype]
    values = [True, True, False, True] if dtype == "bool" else [1, 2, 3, 4]
    return lib.tensor(values if kind == "tensor" else values[1], dtype=getattr(lib, dtype))


# Division by a False operand gives inf and nan, as in torch (numpy also warns).
@pytest.mark.filterwarnings("ignore:divide by zero encountered")
@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("op,other,a_dtype,b_dtype", [
    (op, other, a, b)
    for op in ("add", "mul", "div", "maximum")
    for other in ("tensor", "0-d", "number")
    for a in PROMOTION_DTYPES for b in PROMOTION_DTYPES
    # Numbers of the kinds Python and numpy scripts write; torch.maximum takes no number.
    if not (other == "number" and (b == "uint8" or op == "maximum"))
])
def test_binary_op_result_dtype_and_values_match_torch(op, other, a_dtype, b_dtype):
    results = []
    for lib in (kernn, torch):
        a, b = _operand(lib, "tensor", a_dtype), _operand(lib, other, b_dtype)
        if op == "maximum":
            results.append(lib.maximum(a, b))
        else:
            results.append(getattr(a, {"add": "__add__", "mul": "__mul__",
                                       "div": "__truediv__"}[op])(b))
    k, t = results
    assert k.dtype.name == str(t.dtype).split(".")[1], (k.dtype, t.dtype)
    np.testing.assert_allclose(k.numpy().astype(np.float64), t.numpy().astype(np.float64),
                               rtol=1e-6, equal_nan=True)


_MORE_BINARY_OPS = {
    "floordiv": operator.floordiv, "mod": operator.mod, "and": operator.and_,
    "rfloordiv": lambda a, b: b // a, "rmod": lambda a, b: b % a, "ror": lambda a, b: b | a,
    "eq": operator.eq, "lt": operator.lt, "ge": operator.ge,
}


# A float division by a False operand gives inf and nan, as in torch (numpy also warns).
@pytest.mark.filterwarnings("ignore:divide by zero encountered")
@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("op,other,a_dtype,b_dtype", [
    (op, other, a, b)
    for op in _MORE_BINARY_OPS
    for other in ("tensor", "0-d", "number")
    for a in PROMOTION_DTYPES for b in PROMOTION_DTYPES
    # torch has no floor division or remainder of two bools (kernn gives int8); numpy refuses
    # the bitwise ops of floats as torch does (tested below)
    if not (op[-3:] in ("div", "mod") and a == b == "bool")
    and not (op[-3:] in ("and", "ror") and "float" in a + b)
    and not (other == "number" and b == "uint8")
])
def test_floor_division_remainder_bitwise_and_comparisons_promote_as_torch(op, other, a_dtype,
                                                                          b_dtype):
    results = []
    for lib in (kernn, torch):
        a, b = _operand(lib, "tensor", a_dtype), _operand(lib, other, b_dtype)
        try:
            results.append(_MORE_BINARY_OPS[op](a, b))
        except RuntimeError as exc:  # an integer division by zero (a bool False divisor)
            results.append(exc)
    k, t = results
    if isinstance(t, Exception):
        assert isinstance(k, RuntimeError) and "ZeroDivisionError" in str(k)
        return
    assert k.dtype.name == str(t.dtype).split(".")[1], (k.dtype, t.dtype)
    np.testing.assert_array_equal(k.numpy(), t.numpy())


def test_comparisons_take_a_0d_tensor_in_the_tensors_dtype_as_torch():
    # 0.1 in float32 and in float64 differ: numpy compared in float64
    for lib in (kernn, torch):
        assert (lib.tensor([0.1]) == lib.tensor(0.1, dtype=lib.float64)).all()
        assert not (lib.tensor([0.1]) < lib.tensor(0.1, dtype=lib.float64)).any()


def test_comparison_and_bitwise_broadcast_errors_name_the_op():
    with pytest.raises(ValueError, match=r"eq: the shapes \(2, 3\) and \(4,\) do not broadcast"):
        kernn.ones(2, 3) == kernn.ones(4)  # noqa: B015 - the comparison raises
    with pytest.raises(ValueError, match=r"bitwise_and: the shapes \(2,\) and \(3,\)"):
        kernn.ones(2, dtype=kernn.bool) & kernn.ones(3, dtype=kernn.bool)


@pytest.mark.parametrize("fn", [lambda a, b: a - b, lambda a, b: b - a, lambda a, b: a - True,
                                lambda a, b: 1.5 - a],
                         ids=["bool-int", "int-bool", "bool-True", "number-bool"])
def test_subtraction_with_a_bool_raises_as_torch(fn):
    with pytest.raises(RuntimeError):
        fn(torch.tensor([True, False]), torch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="sub: .*bool.*`~`"):
        fn(kernn.tensor([True, False]), kernn.tensor([1, 2]))


@pytest.mark.parametrize("fn", [lambda l, x, y: x % y, lambda l, x, y: x % 1.5,
                                lambda l, x, y: (x * 3) % y.abs()])
def test_remainder_gradient_as_torch(fn, float_dtype):
    a = np.array([[-7.5, 7.5, -2.0], [3.25, -0.5, 9.0]])
    b = np.array([2.0, -3.0, -1.5])
    (out,), _, _, _ = compare(fn, [a, b], dtype=float_dtype)
    assert out.requires_grad  # compare checks gradients only of outputs that require grad


def test_floor_division_has_no_derivative_as_torch():
    for lib in (kernn, torch):
        x = lib.tensor([5.0, 7.0], requires_grad=True)
        y = (x // 2 + 7.0 // x).sum()
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="floor_divide|not implemented"):
            y.backward()


def test_integer_power_with_negative_exponents_as_torch():
    base = [0, 1, -1, 2, -1, 3, -3]
    exponent = [-1, -1, -2, -1, -3, 2, 3]
    for b, e in ((base, exponent), (base, exponent[:1]), (base[3], exponent)):
        ours = kernn.tensor(b) ** kernn.tensor(e)
        theirs = torch.tensor(b) ** torch.tensor(e)
        assert ours.dtype is kernn.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for lib in (torch, kernn):
        with pytest.raises(RuntimeError, match="(?i)integers to negative integer powers"):
            lib.tensor([2, 3]) ** -1


def test_pow_gradient_with_a_zero_exponent_is_zero_as_torch():
    # x^0 is constant, its derivative 0 even at x = 0 (0 * 0^-1 was nan)
    compare(lambda l, x: x ** 0 + x ** 0.0, [np.array([0.0, 1.5, -2.0])])
    compare(lambda l, x, e: x ** e, [np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.0])])


@pytest.mark.parametrize("fname", ["maximum", "minimum"])
def test_maximum_minimum_give_both_operands_the_gradient_at_nan_as_torch(fname):
    a = np.array([1.0, 2.0, np.nan, np.nan, 0.5])
    b = np.array([1.0, 1.0, 1.0, np.nan, np.nan])
    compare(lambda l, x, y: getattr(l, fname)(x, y), [a, b])


def test_clamp_promotes_as_torch():
    for make in (lambda l: l.tensor([1, 5, 9]).clamp(2.5, 7.5),
                 lambda l: l.tensor([1, 5, 9]).clamp(max=l.tensor(6.5)),
                 lambda l: l.tensor([1, 5, 9]).clamp(np.int64(2), np.float64(7.5)),
                 lambda l: l.tensor([1.0, 5.0]).clamp(np.float64(2.0))):
        ours, theirs = make(kernn), make(torch)
        assert ours.dtype.name == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = kernn.tensor([1.0, 5.0], requires_grad=True)
    assert x.clamp(np.float64(2.0)).dtype is kernn.float32


def test_sign_of_nan_is_zero_and_of_bools_the_bools_as_torch():
    for values in ([np.nan, -2.0, 0.0, 3.0, -np.inf], [True, False], [-3, 0, 2]):
        ours, theirs = kernn.tensor(values).sign(), torch.tensor(values).sign()
        assert ours.dtype.name == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_numpy_scalars_do_not_widen_a_tensor():
    w = kernn.randn(64, 30) * np.sqrt(1 / 64)  # W7's initialisation, from a blog post
    assert w.dtype is kernn.float32
    assert (kernn.randn(5, 64) @ w).dtype is kernn.float32


def test_mixed_dtype_gradients_keep_each_operands_dtype(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    s = np.float64(1.5)
    grads = []
    for lib in (kernn, torch):
        x = lib.tensor(a, requires_grad=True)
        c = lib.tensor(s, dtype=lib.float64, requires_grad=True)
        y = (x * c + x / c - lib.maximum(x, c)).sum()
        assert y.dtype is lib.float32
        y.backward()
        grads.append((x.grad, c.grad))
    (kx, kc), (tx, tc) = grads
    assert kx.dtype is kernn.float32 and kc.dtype is kernn.float64
    assert_close(kx, tx, np.float32)
    assert_close(kc, tc, np.float32)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos"])
def test_float_functions_of_integers_give_the_default_float(name):
    k = getattr(kernn.arange(1, 5), name)()
    t = getattr(torch.arange(1, 5), name)()
    assert k.dtype is kernn.float32
    assert_close(k, t, np.float32)


# ---- maximum / minimum, and max / min with a tensor -----------------------------------------
@pytest.mark.parametrize("fname", ["maximum", "minimum"])
def test_maximum_minimum_broadcast_and_split_ties_as_torch(fname, float_dtype):
    a = np.array([[1.0, 3.0, -2.0, 0.5], [2.0, 2.0, 7.0, -1.0]])
    b = np.array([2.0, 3.0, -5.0, 0.5])
    compare(lambda l, x, y: getattr(l, fname)(x, y) * l.arange(1, 5), [a, b],
            dtype=float_dtype)


def test_maximum_propagates_nan_as_torch():
    a, b = np.array([np.nan, 1.0, 2.0]), np.array([0.0, np.nan, 1.0])
    assert_close(kernn.maximum(kernn.tensor(a), kernn.tensor(b)),
                 torch.maximum(torch.tensor(a), torch.tensor(b)), np.float64)


@pytest.mark.parametrize("fname", ["max", "min"])
def test_max_min_with_a_tensor_is_element_wise(fname, float_dtype, rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    compare(lambda l, x, y: getattr(l, fname)(x, y), [a, b], dtype=float_dtype)
    compare(lambda l, x, y: getattr(x, fname)(y), [a, b], dtype=float_dtype)
    # max(x, tensor(0.)) is not a reduction over dim 0 (it used to be).
    compare(lambda l, x: getattr(l, fname)(x, l.tensor(0.0, dtype=x.dtype)), [a],
            dtype=float_dtype)


# ---- round, isnan, randperm -----------------------------------------------------------------
def test_round_halves_to_even_and_isnan_as_torch():
    a = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.2345, np.nan], dtype=np.float32)
    for k, t in ((kernn.round(kernn.tensor(a)), torch.round(torch.tensor(a))),
                 (kernn.tensor(a).round(decimals=2), torch.tensor(a).round(decimals=2)),
                 (kernn.isnan(kernn.tensor(a)), torch.isnan(torch.tensor(a)))):
        assert k.dtype.name == str(t.dtype).split(".")[1]
        assert_close(k, t, np.float32)


def test_randperm_is_a_seeded_permutation():
    kernn.manual_seed(3)
    p = kernn.randperm(50)
    assert p.dtype is kernn.int64 and sorted(p.tolist()) == list(range(50))
    kernn.manual_seed(3)
    assert kernn.randperm(50).tolist() == p.tolist()
    assert kernn.randperm(0).shape == (0,)
    with pytest.raises(ValueError, match="randperm: argument 'n'"):
        kernn.randperm(-1)


# ---- kernn.Tensor(sizes), format, dimension checks ------------------------------------------
def test_tensor_constructor_takes_sizes_as_torch():
    for args in [(3, 4), (5,), (np.int64(2), 3), (kernn.Size([2, 3]),)]:
        k = kernn.Tensor(*args)
        t = torch.Tensor(*[torch.Size(a) if isinstance(a, kernn.Size) else a for a in args])
        assert k.shape == tuple(t.shape) and k.dtype is kernn.float32 and not k.requires_grad
    assert kernn.Tensor().shape == (0,)
    assert kernn.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert kernn.Tensor(3, 4, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="Tensor: expected data"):
        kernn.Tensor([1.0], True)
    with pytest.raises(ValueError, match="negative dimension"):
        kernn.Tensor(2, -1)


def test_format_of_a_tensor_matches_torch():
    for value in (2.5, 0.1, -3.0):
        k, t = kernn.tensor(value), torch.tensor(value)
        assert f"{k:.4f}" == f"{t:.4f}" and f"{k}" == f"{t}" and f"{k:>8.2e}" == f"{t:>8.2e}"
    assert f"{kernn.tensor(7)}" == "7"
    k = kernn.tensor([1.0, 2.0])
    assert f"{k}" == repr(k)
    with pytest.raises(TypeError, match="format"):
        f"{k:.2f}"


@pytest.mark.parametrize("call", [
    lambda l: l.cat([l.ones(2, 2), l.ones(2, 2)], dim=2),
    lambda l: l.cat([l.ones(2, 2), l.ones(2, 2)], dim=-3),
    lambda l: l.stack([l.ones(2), l.ones(2)], dim=2),
    lambda l: l.stack([l.ones(2), l.ones(2)], dim=-3),
    lambda l: l.ones(2, 3).transpose(0, 2),
    lambda l: l.ones(2, 3).transpose(-3, 1),
])
def test_dimension_out_of_range_raises_index_error_as_torch(call):
    with pytest.raises(IndexError):
        call(torch)
    with pytest.raises(IndexError, match="out of range"):
        call(kernn)


def test_negative_dimensions_in_range_work_as_torch(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    compare(lambda l, x, y: l.cat([x, y], dim=-1), [a, b])
    compare(lambda l, x, y: l.stack([x, y], dim=-1), [a, b])
    compare(lambda l, x: x.transpose(-1, -2), [a])


def test_broadcast_error_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: the shapes \(2, 3\) and \(4,\) do not broadcast"):
        kernn.ones(2, 3) + kernn.ones(4)
    with pytest.raises(ValueError, match=r"mul: the shapes \(2, 3\) and \(2,\)"):
        kernn.ones(2, 3, requires_grad=True) * kernn.ones(2)


def test_size_slices_and_none_comparisons_as_torch():
    shape = kernn.ones(2, 3, 4).shape
    assert isinstance(shape[1:], kernn.Size) and shape[1:] == (3, 4) and shape[-1] == 4
    t = kernn.ones(3)
    assert (t == None) is False and (t != None) is True  # noqa: E711 - what scripts write


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_std_with_correction(correction, float_dtype, rng):
    a = rng.standard_normal((4, 5))
    compare(lambda l, x: x.var(1, correction=correction) + x.std(correction=correction), [a],
            dtype=float_dtype)


def test_clamp_min_max(float_dtype, rng):
    a = rng.standard_normal((4, 5))
    compare(lambda l, x: l.clamp_min(x, 0.1) + x.clamp_max(-0.2), [a], dtype=float_dtype)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(3,), (3, 4), (2, 3, 5)])
def test_meshgrid(indexing, sizes, float_dtype, rng):
    arrays = [rng.standard_normal(n) for n in sizes]
    compare(lambda l, *xs: l.meshgrid(*xs, indexing=indexing), arrays, dtype=float_dtype)
    compare(lambda l, *xs: l.meshgrid(list(xs), indexing=indexing), arrays, dtype=float_dtype)
    with pytest.raises(ValueError, match="meshgrid: expected 0-D or 1-D"):
        kernn.meshgrid(kernn.ones(2, 2))


def test_scatter_one_hot_and_with_a_source_as_torch(rng):
    labels = np.array([3, 0, 9, 3])
    k = kernn.zeros(4, 10).scatter_(1, kernn.tensor(labels).unsqueeze(1), 1.0)
    t = torch.zeros(4, 10).scatter_(1, torch.tensor(labels).unsqueeze(1), 1.0)
    assert_close(k, t, np.float32)
    # A smaller index than self (torch fills only that region), along dim 0, with a source.
    index = np.array([[1, 0, 2], [0, 2, 1]])
    src = rng.standard_normal((3, 4))
    k = kernn.zeros(3, 4, dtype=kernn.float64).scatter_(0, kernn.tensor(index), kernn.tensor(src))
    t = torch.zeros(3, 4, dtype=torch.float64).scatter_(0, torch.tensor(index), torch.tensor(src))
    assert_close(k, t, np.float64)
    k = kernn.zeros(3, 4).scatter_(1, kernn.tensor(index), value=2.0)
    t = torch.zeros(3, 4).scatter_(1, torch.tensor(index), value=2.0)
    assert_close(k, t, np.float32)


@pytest.mark.parametrize("index,error", [
    (np.array([[0, 4]]), IndexError), (np.array([[-1, 0]]), IndexError),
    (np.array([0, 1]), ValueError), (np.array([[0.0, 1.0]]), ValueError),
    (np.zeros((3, 1), dtype=np.int64), IndexError),
])
def test_scatter_bad_index_raises_naming_it(index, error):
    with pytest.raises(error, match="scatter_"):
        kernn.zeros(2, 4).scatter_(1, kernn.tensor(index), 1.0)


@pytest.mark.parametrize("p,dim,keepdim", [
    (p, dim, keepdim)
    for p in (2, 1, 3.5, float("inf"), "fro")
    for dim, keepdim in ((None, False), (1, False), ((0, 1), True), (-1, True))
    if not (p == "fro" and isinstance(dim, int))  # torch's "fro" takes no single dim
])
def test_norm(p, dim, keepdim, float_dtype, rng):
    a = rng.standard_normal((3, 4))
    compare(lambda l, x: x.norm(p, dim, keepdim), [a], dtype=float_dtype)
    compare(lambda l, x: l.norm(x * 2, p=p, dim=dim, keepdim=keepdim), [a], dtype=float_dtype)


def test_norm_gradient_at_zero_and_at_ties_as_torch():
    compare(lambda l, x: x.norm() + x.norm(1) + x.norm(3.0), [np.zeros((2, 3))])
    ties = np.array([[1.0, -3.0, 3.0], [2.0, 0.5, -1.0]])
    compare(lambda l, x: x.norm(float("inf"), dim=1), [ties])
    with pytest.raises(ValueError, match="norm: argument 'p'"):
        kernn.ones(3).norm(0)
    with pytest.raises(TypeError, match="norm: expected a floating tensor"):
        kernn.arange(3).norm()


@pytest.mark.parametrize("k,dim,largest", [(2, -1, True), (1, 0, False), (3, 1, False),
                                           (0, 1, True), (4, 0, True)])
def test_topk_values_indices_and_gradient(k, dim, largest, float_dtype, rng):
    a = rng.standard_normal((4, 5))  # no ties: the order of tied indices is torch's own
    compare(lambda l, x: tuple(x.topk(k, dim, largest=largest)), [a], dtype=float_dtype)
    with pytest.raises(RuntimeError, match="topk: k=6 is out of range"):
        kernn.tensor(a).topk(6)


@pytest.mark.parametrize("sizes", [(2, 1), (1, 3), (2, 2, 1), (3, 1, 2)])
def test_repeat(sizes, float_dtype, rng):
    a = rng.standard_normal((2, 3))
    compare(lambda l, x: x.repeat(*sizes), [a], dtype=float_dtype)
    with pytest.raises(RuntimeError, match="repeat: the number of repeats"):
        kernn.tensor(a).repeat(2)


def test_masked_fill_and_relu_(float_dtype, rng):
    a = rng.standard_normal((3, 4))
    mask = a > 0.3
    compare(lambda l, x: x.masked_fill(l.tensor(mask), -1.0) * 2, [a], dtype=float_dtype)
    compare(lambda l, x: x.masked_fill(l.tensor(mask[0]), 0.5), [a], dtype=float_dtype)
    k, t = kernn.tensor(a), torch.tensor(a)
    k.masked_fill_(kernn.tensor(mask), 9.0).relu_()
    t.masked_fill_(torch.tensor(mask), 9.0).relu_()
    assert_close(k, t, np.float64)
    with pytest.raises(RuntimeError, match="relu_: in-place operation"):
        kernn.ones(2, requires_grad=True).relu_()
    for bad in (kernn.tensor([True, False]), kernn.ones(3, 4)):
        with pytest.raises(ValueError, match="masked_fill: argument 'mask' must be a bool tensor"):
            kernn.ones(3, 4).masked_fill(bad, 0.0)
        with pytest.raises(ValueError, match="masked_fill_: argument 'mask'"):
            kernn.ones(3, 4).masked_fill_(bad, 0.0)
    # a larger mask broadcasts self out of place (tested against torch below), not in place
    with pytest.raises(ValueError, match="masked_fill_: argument 'mask'"):
        kernn.ones(3, 4).masked_fill_(kernn.ones(1, 3, 4, dtype=kernn.bool), 0.0)


def test_legacy_typed_constructors_as_torch():
    for name in ("FloatTensor", "DoubleTensor", "LongTensor"):
        k, t = getattr(kernn, name)([1, 2]), getattr(torch, name)([1, 2])
        assert k.dtype.name == str(t.dtype).split(".")[1] and k.tolist() == t.tolist()
        k, t = getattr(kernn, name)(2, 3), getattr(torch, name)(2, 3)
        assert k.dtype.name == str(t.dtype).split(".")[1] and k.shape == tuple(t.shape)


# ---- dtype promotion and integer division, as torch (safety sweep) --------------------------


@pytest.mark.parametrize("fn", ["cat", "stack", "where"])
@pytest.mark.parametrize("make_a,make_b", [
    (lambda m: m.ones(2), lambda m: m.tensor([1, 2])),              # numpy made float64
    (lambda m: m.ones(2).half(), lambda m: m.tensor([1, 2])),       # numpy made float64
    (lambda m: m.ones(2), lambda m: m.tensor([True, False])),
    (lambda m: m.tensor([1, 2]), lambda m: m.tensor([True, False])),
])
def test_cat_stack_where_promote_as_torch(fn, make_a, make_b):
    def call(m):
        a, b = make_a(m), make_b(m)
        if fn == "where":
            return m.where(m.tensor([True, False]), a, b)
        return getattr(m, fn)([a, b])

    assert repr(call(kernn).dtype) == str(call(torch).dtype).replace("torch.", "kernn.")


def test_cat_gradient_keeps_each_input_dtype():
    a = kernn.ones(2, requires_grad=True)
    b = kernn.ones(3, dtype=kernn.float64, requires_grad=True)
    kernn.cat([a, b]).sum().backward()
    assert a.grad.dtype == kernn.float32 and b.grad.dtype == kernn.float64


@pytest.mark.parametrize("op", ["//", "%"])
def test_integer_division_by_zero_raises_as_torch(op):
    # numpy gave 0 with a warning.
    divide = {"//": operator.floordiv, "%": operator.mod}[op]
    x = kernn.tensor([2, 3])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        divide(x, 0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        divide(x, kernn.tensor([1, 0]))
    np.testing.assert_array_equal(divide(x, 2).numpy(), divide(np.array([2, 3]), 2))
    with np.errstate(divide="ignore"):
        assert np.isinf((kernn.tensor([2.0]) // 0).numpy()).all()  # floats follow IEEE, as torch


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.bincount(x), lambda lib, x: x.bincount(minlength=9),
    lambda lib, x: lib.bincount(x, weights=lib.linspace(0, 1, len(x))),
    lambda lib, x: lib.bincount(x, lib.linspace(0, 1, len(x), dtype=lib.float64)),
    lambda lib, x: lib.bincount(x[:0]),
], ids=["counts", "minlength", "float32-weights", "float64-weights", "empty"])
def test_bincount_as_torch(call):
    values = [1, 3, 3, 0, 7, 3, 1]
    ours, theirs = call(kernn, kernn.tensor(values)), call(torch, torch.tensor(values))
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("bad", [[-1, 2], [[1]], [1.0]])
def test_bincount_refuses_what_torch_refuses(bad):
    with pytest.raises(RuntimeError, match="bincount: only 1-d non-negative integral inputs"):
        kernn.bincount(kernn.tensor(bad))


@pytest.mark.parametrize("options", [
    {}, dict(return_inverse=True), dict(return_counts=True),
    dict(return_inverse=True, return_counts=True), dict(dim=0, return_counts=True),
    dict(dim=1, return_inverse=True), dict(sorted=False),
])
@pytest.mark.parametrize("values", [[[3, 1, 3], [1, 2, 3], [3, 1, 3]],
                                    [[2.5, -0.5, 1.0], [2.5, 0.0, 1.0], [2.5, 0.0, 1.0]]],
                         ids=["int64", "float32"])
def test_unique_as_torch(values, options):
    _assert_unique_as_torch(values, options)


@pytest.mark.parametrize("options", [{}, dict(return_inverse=True, return_counts=True)])
def test_unique_puts_nan_last_as_torch(options):
    # (slices holding NaN, with dim, torch orders otherwise than by value: left unspecified)
    _assert_unique_as_torch([[2.5, float("nan"), 1.0], [2.5, 0.0, float("nan")]], options)


def _assert_unique_as_torch(values, options):
    ours = kernn.unique(kernn.tensor(values), **options)
    theirs = torch.unique(torch.tensor(values), **options)
    ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---- reductions on edge cases, against torch ------------------------------------------------
_NAN = float("nan")


@pytest.mark.parametrize("fn,data", [
    (lambda l, x: x.var(), np.zeros(0)),                              # no elements: nan
    (lambda l, x: x.std(0), np.zeros((0, 3))),
    (lambda l, x: x.var(0) + x.std(-1), np.array(2.0)),               # a 0-d tensor's dims
    (lambda l, x: x.std(1), np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])),  # grad 0 at std 0
    (lambda l, x: x.std((0, 1), keepdim=True), np.array([[2.0, 2.0]])),
    (lambda l, x: x.var(unbiased=False), np.array([[1.0, 2.0], [4.0, 8.0]])),
], ids=["var-empty", "std-empty-dim", "0d-dims", "std-constant-row", "std-constant-all",
        "biased"])
@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")
def test_var_std_edge_cases_as_torch(fn, data):
    compare(fn, [data])


@pytest.mark.parametrize("lib", [torch, kernn])
def test_var_with_no_degrees_of_freedom_warns_as_torch(lib):
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        lib.ones(2, 3).var(0, correction=2)


@pytest.mark.parametrize("fn", [
    lambda l, x: x.sum(()),                       # torch: an empty tuple reduces over all dims
    lambda l, x: x.mean(()),
    lambda l, x: x.sum([0, -1], keepdim=True),
    lambda l, x: l.tensor(3.0).sum(-1),
])
def test_reduction_dims_as_torch(fn):
    compare(fn, [np.arange(6.0).reshape(2, 3)])


@pytest.mark.parametrize("fn,error", [
    (lambda l: l.ones(2, 3).sum((0, 0)), RuntimeError),
    (lambda l: l.ones(2, 3).mean((1, -1)), RuntimeError),
    (lambda l: l.tensor(3.0).sum(1), IndexError),
    (lambda l: l.tensor(3.0).mean(-2), IndexError),
])
def test_reduction_refuses_bad_dims_as_torch(fn, error):
    with pytest.raises(error):
        fn(torch)
    with pytest.raises(error, match="dim"):
        fn(kernn)


@pytest.mark.parametrize("fname", ["all", "any"])
@pytest.mark.parametrize("args", [(), (1,), (-1, True), ((0, 1),), (0,)])
@pytest.mark.parametrize("values", [[[1.0, 0.0, _NAN], [2.0, 3.0, 4.0]], [[True, False, True],
                                                                         [True, True, True]],
                                    np.zeros((0, 3), dtype=np.int64)],
                         ids=["float-nan", "bool", "empty-int"])
def test_all_any_along_dims_as_torch(fname, args, values):
    ours = getattr(kernn.tensor(values), fname)(*args)
    theirs = getattr(torch.tensor(values), fname)(*args)
    assert ours.dtype is kernn.bool
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("fname", ["max", "min"])
def test_max_of_all_elements_sends_the_gradient_to_the_nans_as_torch(fname):
    compare(lambda l, x: getattr(x, fname)(), [np.array([1.0, _NAN, 3.0, _NAN])])


@pytest.mark.parametrize("call", [lambda t: t.max((0, 1)), lambda t: t.argmin((0, 1)),
                                  lambda t: t.topk(1, (0, 1))])
def test_ops_along_one_dim_refuse_a_tuple_naming_the_op(call):
    with pytest.raises(TypeError):
        call(torch.ones(2, 3))
    with pytest.raises(TypeError, match=r"(max|argmin|topk).*'dim'.*\(0, 1\)"):
        call(kernn.ones(2, 3))


@pytest.mark.parametrize("shape", [(), (3,)])
def test_transpose_of_a_0d_and_1d_tensor_as_torch(shape):
    compare(lambda l, x: x.transpose(0, -1), [np.arange(np.prod(shape), dtype=float).reshape(
        shape)])


# ---- indexing with torch's rules ------------------------------------------------------------
@pytest.mark.parametrize("index", [
    lambda l: [],                                   # selects nothing (numpy: a float index)
    lambda l: [[0, 1], [1, 2]],                     # a short list of lists is a tuple
    lambda l: [l.tensor(1), l.tensor(2)],           # so is a list of tensors
    lambda l: [[1, 0], slice(None), 3],
    lambda l: [0, None],
    lambda l: [[0, 1, 1]],
    lambda l: [1, 0, 1],                            # a plain list stays an integer index
], ids=["empty", "lists", "tensors", "list-slice-int", "int-none", "one-list", "ints"])
@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence for multidimensional indexing")
def test_list_indices_as_torch(index):
    x = np.arange(24.0).reshape(2, 3, 4)
    compare(lambda l, t: t[index(l)] * 2, [x])


@pytest.mark.parametrize("lib", [torch, kernn])
def test_a_list_taken_as_a_tuple_index_warns_as_torch(lib):
    with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional indexing"):
        lib.ones(2, 3)[[[0, 1], [1, 2]]]


@pytest.mark.filterwarnings("ignore:indexing with dtype torch.uint8 is now deprecated")
def test_a_uint8_index_is_a_mask_as_torch():
    x = np.arange(12.0).reshape(3, 4)
    mask = [1, 0, 1]
    with pytest.warns(UserWarning, match="uint8 is deprecated"):
        ours = kernn.tensor(x)[kernn.tensor(mask, dtype=kernn.uint8)]
    theirs = torch.tensor(x)[torch.tensor(mask, dtype=torch.uint8)]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ---- views and shape errors as torch --------------------------------------------------------
@pytest.mark.parametrize("sizes", [(-1, 4), (2, 3, 4), (2, -1, -1), (3, 0)],
                         ids=["keep", "new-dim", "new-dim-keep", "zero"])
def test_expand_as_torch(sizes):
    compare(lambda l, x: x.expand(*sizes), [np.array([[1.0], [2.0], [3.0]])])


def test_expand_is_a_view_sharing_memory_as_torch():
    for lib in (kernn, torch):
        x = lib.zeros(3, 1)
        view = x.expand(2, 3, 4)
        x[0, 0] = 7
        assert view.stride() == (0, 1, 0)
        np.testing.assert_array_equal(view[1, 0].numpy(), [7, 7, 7, 7])


@pytest.mark.parametrize("shape,sizes", [((3, 2), (3, 4)), ((3, 2), (2,)), ((3, 1), (-1, 3, 4)),
                                         ((3, 1), (3, -2))],
                         ids=["non-singleton", "fewer", "new-dim--1", "negative"])
def test_expand_refuses_what_torch_refuses_naming_the_shapes(shape, sizes):
    with pytest.raises(RuntimeError):
        torch.zeros(shape).expand(*sizes)
    with pytest.raises(RuntimeError, match=r"expand: .*" + re.escape(str(shape))):
        kernn.zeros(shape).expand(*sizes)


def test_view_of_a_non_contiguous_tensor_raises_as_torch():
    for lib in (torch, kernn):
        t = lib.arange(24.0).reshape(2, 3, 4).transpose(0, 1)
        with pytest.raises(RuntimeError, match="view"):
            t.view(-1)
        assert t.reshape(-1).shape == (24,)
        assert t.view(3, 2, 2, 2).shape == (3, 2, 2, 2)  # the strides can give this one


def test_view_shares_memory_as_torch():
    x = kernn.zeros(2, 3)
    x.view(6)[4] = 1
    x.view(3, 2).t().view(2, 3)  # a transposed view of a view is still a view of x
    assert x[1, 1].item() == 1


@pytest.mark.parametrize("call", [lambda t: t.reshape(-2, 12), lambda t: t.view(2, -3, 4),
                                  lambda t: t.reshape(-1, -1)])
def test_reshape_refuses_negative_sizes_as_torch(call):
    with pytest.raises(RuntimeError):
        call(torch.zeros(2, 3, 4))
    with pytest.raises(RuntimeError, match=r"(reshape|view|shape).*-"):
        call(kernn.zeros(2, 3, 4))


@pytest.mark.parametrize("call", [lambda t: t.flatten(0, 1), lambda t: t.flatten(-2),
                                  lambda t: t.squeeze(1), lambda t: t.squeeze(-2)])
def test_dims_of_a_0d_tensor_out_of_range_raise_as_torch(call):
    with pytest.raises(IndexError):
        call(torch.tensor(3.0))
    with pytest.raises(IndexError, match="out of range"):
        call(kernn.tensor(3.0))


# ---- creation as torch ----------------------------------------------------------------------
@pytest.mark.parametrize("call", [lambda l: l.zeros(2.5), lambda l: l.ones((2, 3.0)),
                                  lambda l: l.randn(2, 1.5), lambda l: l.full((2.0,), 1)])
def test_float_sizes_raise_as_torch(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError, match="size must be ints"):
        call(kernn)


def test_integer_sizes_of_any_integer_type_as_torch():
    for lib in (kernn, torch):
        assert lib.zeros(np.int64(2), lib.tensor(3)).shape == (2, 3)


@pytest.mark.parametrize("args", [(0, 5, -1), (5, 0, 1), (1.0, 0.0, 0.5)])
def test_arange_with_a_step_away_from_the_end_raises_as_torch(args):
    with pytest.raises(RuntimeError):
        torch.arange(*args)
    with pytest.raises(ValueError, match="arange: .*step sign"):
        kernn.arange(*args)


@pytest.mark.parametrize("args", [(5, 0, -1), (1, 0, -0.3), (0, 1, 0.1), (3, 3),
                                  ("t5",), ("t1", 2.5, "t0.5")])
def test_arange_as_torch(args):
    def run(lib):
        return lib.arange(*(lib.tensor(float(a[1:]) if "." in a else int(a[1:]))
                            if isinstance(a, str) else a for a in args))
    ours, theirs = run(kernn), run(torch)
    assert ours.dtype.name == str(theirs.dtype).split(".")[1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_python_float_as_a_dtype_is_float64_as_torch():
    for lib in (kernn, torch):
        assert lib.ones(2, dtype=float).dtype is lib.float64
        assert lib.tensor([1, 2]).to(float).dtype is lib.float64
        assert lib.zeros(2, dtype=int).dtype is lib.int64


@pytest.mark.parametrize("data", [2 ** 63, [2 ** 63], [[2 ** 64 - 1]]])
def test_a_python_int_beyond_int64_raises_as_torch(data):
    # (numpy wrapped it around to a negative int64)
    with pytest.raises(ValueError, match="Overflow"):
        torch.tensor(data)
    with pytest.raises(OverflowError, match="tensor: .*int64"):
        kernn.tensor(data)


# ---- masks, where and topk as torch ---------------------------------------------------------
def test_masked_fill_broadcasts_self_with_a_larger_mask_as_torch():
    compare(lambda l, x: x.masked_fill(l.tensor([[True, False, True], [False] * 3]), -1.0),
            [np.array([1.0, 2.0, 3.0])])


def test_masked_fill_refuses_a_value_with_dimensions_as_torch():
    for lib in (torch, kernn):
        with pytest.raises((RuntimeError, ValueError), match="0-d|0-dimensional"):
            lib.ones(3).masked_fill(lib.tensor([True, False, True]), lib.tensor([9.0]))


def test_where_refuses_a_condition_that_is_not_bool_as_torch():
    for lib in (torch, kernn):
        with pytest.raises(RuntimeError, match="where.*condition"):
            lib.where(lib.tensor([1.0, 0.0]), lib.ones(2), lib.zeros(2))


@pytest.mark.filterwarnings("ignore:where received a uint8 condition tensor")
def test_where_takes_a_uint8_condition_as_bool_warning_as_torch():
    for lib in (torch, kernn):
        with pytest.warns(UserWarning, match="uint8 condition"):
            out = lib.where(lib.tensor([1, 0], dtype=lib.uint8), lib.ones(2), lib.zeros(2))
        np.testing.assert_array_equal(out.numpy(), [1.0, 0.0])


@pytest.mark.parametrize("largest", [True, False])
def test_topk_counts_nan_as_the_largest_value_as_torch(largest):
    # (no ties among the numbers: torch orders tied values either way)
    a = np.array([[1.0, np.nan, 3.0, np.inf, 2.0], [np.nan, -1.0, 5.0, 0.0, 2.0]])
    compare(lambda l, x: tuple(x.topk(4, largest=largest)), [a])
