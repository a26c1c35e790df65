"""Autograd Functions of the Tensor's own operations: arithmetic, reductions, shape, indexing.

These are plain numpy on the array inside the Tensor (numpy's element-wise loops and reductions
are C already); matmul goes through kernn._C.gemm for 2-D operands.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _C
from ..autograd import Function


def _arr(x):
    """The numpy array of a Tensor, or x itself (a Python number or an array)."""
    return getattr(x, "_data", x)


def unbroadcast(g, shape, dtype):
    """Sums a broadcast gradient ``g`` back to an operand of ``shape`` and casts to ``dtype``."""
    if g.shape != shape:
        lead = g.ndim - len(shape)
        if lead:
            g = g.sum(axis=tuple(range(lead)))
        axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
        g = np.asarray(g)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _meta(x):
    a = _arr(x)
    return np.shape(a), getattr(a, "dtype", None)


def broadcasts(*shapes) -> bool:
    """Whether the shapes broadcast together (numpy's and torch's rule)."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _dtype_of(x):
    """The dtype of a Tensor's array (its gradient's dtype); None for a number."""
    return getattr(_arr(x), "dtype", None)


# ---- type promotion of binary ops -----------------------------------------------------------
# torch's rules, where numpy's differ: a number (Python's or a numpy scalar) does not widen a
# tensor's dtype (float32 * np.float64(2) is float32), an integer tensor with a float number or
# float tensor gives the float dtype (int64 + float32 is float32, int64 * 0.5 is the default
# float), a 0-d tensor does not widen a tensor with dimensions of its own category (float32 +
# a 0-d float64 is float32), and true division of integers gives the default float.
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _promote_types(d1, d2):
    c1, c2 = _CATEGORY[d1.kind], _CATEGORY[d2.kind]
    if c1 != c2:
        return d1 if c1 > c2 else d2
    return np.promote_types(d1, d2)


def _common_dtype(dtypes):
    """torch's dtype for cat and stack: float32 with int64 is float32 (numpy made float64),
    float16 with int64 float16."""
    common = dtypes[0]
    for d in dtypes[1:]:
        common = _promote_types(common, d)
    return common


def _combine_categories(higher, lower):
    """The result of operands of a higher priority class (dtype `higher`) with those of a lower
    one (`lower`); either None when the class is empty (torch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None or higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return _promote_types(higher, lower)
    return higher


def result_dtype(x, y, true_divide=False):
    """torch's result dtype of a binary op on x and y (numpy arrays or Python numbers); for
    true division, integers and bools give the default float."""
    from ..tensor import get_default_dtype

    by_class = [None, None, None]  # numbers, 0-d arrays, arrays with dimensions
    for v in (x, y):
        if isinstance(v, np.ndarray):
            priority, d = (2 if v.ndim else 1), v.dtype
        elif isinstance(v, bool):
            priority, d = 0, np.dtype(np.bool_)
        elif isinstance(v, int):
            priority, d = 0, np.dtype(np.int64)
        else:
            priority, d = 0, get_default_dtype().numpy
        held = by_class[priority]
        by_class[priority] = d if held is None else _promote_types(held, d)
    dt = _combine_categories(by_class[2], _combine_categories(by_class[1], by_class[0]))
    return dt if dt.kind == "f" or not true_divide else get_default_dtype().numpy


def promoted(a, b, true_divide=False, bool_ok=True):
    """The operands of a binary op on a and b (Tensors, arrays or numbers) for numpy: arrays
    cast to torch's result dtype (the default float for true division of integers), numpy
    scalars as Python numbers, which numpy then takes in the arrays' dtype. With bool_ok
    False a bool operand raises RuntimeError, as torch's subtraction does."""
    x, y = _arr(a), _arr(b)
    # The common cases first: two tensors of one floating dtype, a floating tensor and a
    # Python number.
    if type(x) is np.ndarray:
        if x.dtype.kind == "f" and (type(y) in (float, int) or (
                type(y) is np.ndarray and y.dtype == x.dtype)):
            return x, y
    elif type(y) is np.ndarray and y.dtype.kind == "f" and type(x) in (float, int):
        return x, y
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(y, np.generic):
        y = y.item()
    dx, dy = getattr(x, "dtype", None), getattr(y, "dtype", None)
    if not bool_ok and (isinstance(x, bool) or isinstance(y, bool) or np.bool_ in (dx, dy)):
        raise RuntimeError("sub: subtraction, the `-` operator, with a bool tensor is not "
                           "supported (as in torch); to invert a mask use the `~` operator or "
                           "logical_not()")
    if dx is not None and dx == dy and (dx.kind == "f" or not true_divide):
        return x, y
    dt = result_dtype(x, y, true_divide)
    if dx is not None and dx != dt:
        x = x.astype(dt)
    if dy is not None and dy != dt:
        y = y.astype(dt)
    return x, y


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.metas = (_meta(a), _meta(b))
        x, y = promoted(a, b)
        return x + y

    @staticmethod
    def backward(ctx, g):
        (sa, da), (sb, db) = ctx.metas
        need = ctx.needs_input_grad
        return (unbroadcast(g, sa, da) if need[0] else None,
                unbroadcast(g, sb, db) if need[1] else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.metas = (_meta(a), _meta(b))
        x, y = promoted(a, b, bool_ok=False)
        return x - y

    @staticmethod
    def backward(ctx, g):
        (sa, da), (sb, db) = ctx.metas
        need = ctx.needs_input_grad
        return (unbroadcast(g, sa, da) if need[0] else None,
                unbroadcast(-g, sb, db) if need[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = promoted(a, b)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.dtypes = (_dtype_of(a), _dtype_of(b))
            ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        da, db = ctx.dtypes
        need = ctx.needs_input_grad
        return (unbroadcast(g * y, np.shape(x), da) if need[0] else None,
                unbroadcast(g * x, np.shape(y), db) if need[1] else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        x, y = promoted(a, b, true_divide=True)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.dtypes = (_dtype_of(a), _dtype_of(b))
            ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        da, db = ctx.dtypes
        need = ctx.needs_input_grad
        ga = unbroadcast(g / y, np.shape(x), da) if need[0] else None
        gb = unbroadcast(-g * x / (y * y), np.shape(y), db) if need[1] else None
        return ga, gb


def check_integer_divisor(dividend, divisor, op):
    """torch raises for an integer division by zero; numpy returned 0 (with a warning)."""
    kinds = np.asarray(dividend).dtype.kind + np.asarray(divisor).dtype.kind
    if "f" not in kinds and "c" not in kinds and np.any(np.asarray(divisor) == 0):
        raise RuntimeError(f"{op}: ZeroDivisionError: integer division by zero (divisor of shape "
                           f"{np.shape(divisor)})")


class FloorDivide(Function):
    """a // b, rounding toward minus infinity; as in torch, it has no derivative."""

    @staticmethod
    def forward(ctx, a, b):
        x, y = promoted(a, b)
        check_integer_divisor(x, y, "floor_divide")
        return np.floor_divide(x, y)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("floor_divide: the derivative is not implemented (as in torch); "
                           "detach() the operands if the result is meant to be constant")


class Remainder(Function):
    """a % b with the sign of the divisor (Python's and torch's remainder); the gradient is
    g for a and -g * floor(a / b) for b, as torch's."""

    @staticmethod
    def forward(ctx, a, b):
        x, y = promoted(a, b)
        check_integer_divisor(x, y, "remainder")
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.dtypes = (_dtype_of(a), _dtype_of(b))
            ctx.save_for_backward(x, y)
        return np.remainder(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        da, db = ctx.dtypes
        need = ctx.needs_input_grad
        return (unbroadcast(g, np.shape(x), da) if need[0] else None,
                unbroadcast(-g * np.floor_divide(x, y), np.shape(y), db) if need[1] else None)


class _Extremum(Function):
    """maximum / minimum of two tensors (broadcast); where they are equal each gets half the
    gradient, and where either is NaN both get all of it, as torch. Subclasses set `pick`
    (np.maximum or np.minimum)."""

    pick = None

    @classmethod
    def forward(cls, ctx, a, b):
        x, y = promoted(a, b)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.dtypes = (_dtype_of(a), _dtype_of(b))
            ctx.save_for_backward(x, y)
        return cls.pick(x, y)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        (sa, sb), (da, db) = (np.shape(x), np.shape(y)), ctx.dtypes
        need = ctx.needs_input_grad
        x_loses, y_loses = (x < y, x > y) if cls.pick is np.maximum else (x > y, x < y)
        share = np.where(x == y, g / 2, g)
        return (unbroadcast(np.where(x_loses, 0, share), sa, da) if need[0] else None,
                unbroadcast(np.where(y_loses, 0, share), sb, db) if need[1] else None)


class Maximum(_Extremum):
    pick = np.maximum


class Minimum(_Extremum):
    pick = np.minimum


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a._data

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    """a ** b with a and/or b Tensors (the other a number)."""

    @staticmethod
    def forward(ctx, a, b):
        x, e = promoted(a, b)
        if _is_integer(x, e) and np.any(np.less(e, 0)):
            y = _integer_power(x, e, exponent_is_number=not hasattr(b, "_data"))
        else:
            y = np.power(x, e)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.dtypes = (_dtype_of(a), _dtype_of(b))
            ctx.save_for_backward(x, e, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, e, y = ctx.saved_tensors
        (sa, sb), (da, db) = (np.shape(x), np.shape(e)), ctx.dtypes
        need = ctx.needs_input_grad
        ga = gb = None
        if need[0]:
            # d(x^e)/dx = e * x^(e-1), written without dividing by x so x = 0 works; 0 where
            # e = 0, as torch (x^-1 is infinite at x = 0).
            with np.errstate(divide="ignore", invalid="ignore"):
                d = e * np.power(x, e - 1)
            ga = unbroadcast(g * np.where(np.equal(e, 0), 0, d), sa, da)
        if need[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                logx = np.where(x > 0, np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0, np.nan))
            gb = unbroadcast(g * y * logx, sb, db)
        return ga, gb


def _is_integer(x, e):
    """Whether a binary op's promoted operands (arrays or Python numbers) hold integers."""
    dt = getattr(x, "dtype", None)
    if dt is None:
        dt = getattr(e, "dtype", None)
    return dt is not None and dt.kind in "iu"


def _integer_power(x, e, exponent_is_number):
    """x ** e for integers where some e < 0, as torch: a number exponent raises (as numpy),
    a tensor exponent gives 1 for x = 1, +-1 for x = -1 and 0 otherwise (1 / x truncated)."""
    if exponent_is_number:
        raise RuntimeError(f"pow: integers to negative integer powers are not allowed (exponent "
                           f"{e}); use a floating base")
    x, e = np.broadcast_arrays(x, e)
    out = np.power(x, np.maximum(e, 0))
    negative = e < 0
    out[negative] = np.where(x == 1, 1, np.where(x == -1, 1 - 2 * (e & 1), 0))[negative]
    return out


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.exp(a._data)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        x = a._data
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        y = np.sqrt(a._data)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g / (2 * y)


class _OfInput(Function):
    """y = f(x) element-wise, dy/dx = derivative(x): the gradient needs only the input.
    Subclasses set `f` and `derivative` (numpy functions)."""

    f = derivative = None

    @classmethod
    def forward(cls, ctx, a):
        x = a._data
        ctx.save_for_backward(x)
        return cls.f(x)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        return g * cls.derivative(x)


class Sin(_OfInput):
    f, derivative = np.sin, np.cos


class Cos(_OfInput):
    f = np.cos

    @staticmethod
    def derivative(x):
        return -np.sin(x)


class Abs(_OfInput):
    f, derivative = np.abs, np.sign


class Clamp(Function):
    @staticmethod
    def forward(ctx, a, lo, hi):
        x = a._data
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        # As torch: the gradient passes where lo <= x <= hi (bounds included).
        mask = np.ones(x.shape, dtype=bool)
        if lo is not None:
            mask &= x >= lo
        if hi is not None:
            mask &= x <= hi
        return g * mask, None, None


def _norm_dim(dim, ndim, op="dim"):
    """One dimension in [0, ndim) from one in [-ndim, ndim); a 0-d tensor takes -1 and 0, as
    in torch. IndexError otherwise; TypeError, naming ``op``, for a tuple."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: argument 'dim' must be one dimension (an int), got {dim!r}")
    d = int(dim)
    bound = max(ndim, 1)
    if not -bound <= d < bound:
        raise IndexError(f"dimension out of range (expected to be in range of [{-bound}, "
                         f"{bound - 1}], but got {d})")
    return d % bound if ndim else 0


def _norm_dims(dim, ndim):
    """The sorted axes that reduction dims name: None or () for all of them (torch reduces
    over every dimension for an empty tuple too), an int, or a tuple or list of distinct ints.
    A 0-d tensor has no axes (dim -1 and 0 name it)."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(range(ndim))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    out = [_norm_dim(d, ndim) for d in dims]
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {max(set(out), key=out.count)} appears multiple times in the "
                           f"list of dims {tuple(dims)}")
    return tuple(sorted(out)) if ndim else ()


def _expand_to(g, axes, keepdim, shape, dtype):
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    g = np.broadcast_to(g, shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


class Sum(Function):
    @staticmethod
    def forward(ctx, a, dim, keepdim):
        x = a._data
        axes = _norm_dims(dim, x.ndim)
        ctx.info = (axes, keepdim, x.shape, x.dtype)
        return np.asarray(x.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        axes, keepdim, shape, dtype = ctx.info
        return _expand_to(g, axes, keepdim, shape, dtype), None, None


def vector_norm(x, p, axes=None, keepdims=False):
    """torch.linalg.vector_norm of array x over ``axes`` (all by default), in x's dtype: the sum
    of |x|^p runs in that dtype, as torch's does (so a float32 norm overflows where torch's
    does), and p and 1/p are rounded to it. p = 0 counts the non-zeros, +-inf takes the largest
    (smallest) magnitude."""
    if p == 2:
        return np.sqrt(np.sum(np.square(x), axis=axes, keepdims=keepdims))
    if p == 0:
        return np.asarray(np.count_nonzero(x, axis=axes, keepdims=keepdims)).astype(x.dtype)
    magnitudes = np.abs(x)
    if p == np.inf:
        return magnitudes.max(axis=axes, keepdims=keepdims, initial=0)
    if p == -np.inf:
        return magnitudes.min(axis=axes, keepdims=keepdims)
    if p == 1:
        return magnitudes.sum(axis=axes, keepdims=keepdims)
    p = x.dtype.type(p)
    return np.sum(magnitudes ** p, axis=axes, keepdims=keepdims) ** (x.dtype.type(1) / p)


class Norm(Function):
    """The p-norm over ``dim``: (sum |x|^p)^(1/p), max |x| for p = inf. Its gradient is torch's:
    x |x|^(p-2) / norm^(p-1) (sign(x) for p = 1), zero where the norm is zero, and for p = inf
    shared evenly by the elements that reach the maximum."""

    @staticmethod
    def forward(ctx, a, p, dim, keepdim):
        x = a._data
        axes = _norm_dims(dim, x.ndim)
        n = vector_norm(x, p, axes, keepdims=True)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, n)
            ctx.info = (p, axes, keepdim)
        return n if keepdim else np.squeeze(n, axis=axes)

    @staticmethod
    def backward(ctx, g):
        x, n = ctx.saved_tensors
        p, axes, keepdim = ctx.info
        g = np.asarray(g)
        if not keepdim:
            g = np.expand_dims(g, axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            if p == np.inf:
                hit = np.abs(x) == n
                grad = np.sign(x) * hit / hit.sum(axis=axes, keepdims=True) * g
            elif p == 1:
                grad = np.sign(x) * g
            elif p == 2:
                grad = x / n * g
            else:
                grad = x * np.abs(x) ** (p - 2) / n ** (p - 1) * g
        return np.where(n == 0, 0, grad).astype(x.dtype, copy=False), None, None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, a, dim, keepdim):
        x = a._data
        axes = _norm_dims(dim, x.ndim)
        count = 1
        for ax in axes:
            count *= x.shape[ax]
        ctx.info = (axes, keepdim, x.shape, x.dtype, count)
        return np.asarray(x.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, g):
        axes, keepdim, shape, dtype, count = ctx.info
        return _expand_to(g / count, axes, keepdim, shape, dtype), None, None


class Var(Function):
    """var (or std, with take_sqrt) over ``dim``: the sum of squared deviations from the mean
    over max(n - correction, 0), as torch: NaN for no elements or n = correction. std's
    gradient is zero where std is (the square root's derivative is infinite there), as
    torch's."""

    @staticmethod
    def forward(ctx, a, dim, correction, keepdim, take_sqrt):
        x = a._data
        axes = _norm_dims(dim, x.ndim)
        n = 1
        for ax in axes:
            n *= x.shape[ax]
        if n <= correction:
            warnings.warn(f"{'std' if take_sqrt else 'var'}(): degrees of freedom is <= 0 "
                          f"({n} elements, correction {correction}): the result is inf or nan",
                          UserWarning, stacklevel=4)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = x - x.sum(axis=axes, keepdims=True) / n
            denom = x.dtype.type(max(n - correction, 0))  # a zero divides to inf / nan
            y = np.square(dev).sum(axis=axes, keepdims=True) / denom
            if take_sqrt:
                y = np.sqrt(y)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(dev, y)
            ctx.info = (axes, keepdim, denom, take_sqrt)
        return y if keepdim else y.reshape([s for i, s in enumerate(y.shape) if i not in axes])

    @staticmethod
    def backward(ctx, g):
        dev, y = ctx.saved_tensors
        axes, keepdim, denom, take_sqrt = ctx.info
        if not keepdim:
            g = np.expand_dims(g, axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            if take_sqrt:
                grad = np.where(y == 0, 0, g / (denom * y)) * dev
            else:
                grad = (2 / denom) * g * dev
        return grad.astype(dev.dtype, copy=False), None, None, None, None


class ExtremumAll(Function):
    """max() / min() over all elements; the gradient is split evenly among ties, and among the
    NaNs when the result is NaN (as torch)."""

    @staticmethod
    def forward(ctx, a, is_max):
        x = a._data
        if x.size == 0:
            raise RuntimeError(
                f"{'max' if is_max else 'min'}(): expected a non-empty tensor, got shape "
                f"{tuple(x.shape)}"
            )
        y = np.asarray(x.max() if is_max else x.min())
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        mask = np.isnan(x) if np.isnan(y) else x == y
        return g * mask / mask.sum(), None


class ExtremumDim(Function):
    """max(dim) / min(dim): (values, indices); the gradient goes to the chosen index."""

    @staticmethod
    def forward(ctx, a, dim, keepdim, is_max):
        x = a._data
        axis = _norm_dim(dim, x.ndim, "max" if is_max else "min")
        if x.ndim == 0:
            return x.copy(), np.zeros((), dtype=np.int64)
        if x.shape[axis] == 0:
            raise IndexError(
                f"{'max' if is_max else 'min'}(): cannot reduce over a zero-size dimension "
                f"{axis} of shape {tuple(x.shape)}"
            )
        idx = (np.argmax if is_max else np.argmin)(x, axis=axis)
        idx_k = np.expand_dims(idx, axis)
        vals = np.take_along_axis(x, idx_k, axis)
        if not keepdim:
            vals = vals.squeeze(axis)
            out_idx = idx
        else:
            out_idx = idx_k
        if ctx.needs_input_grad[0]:
            ctx.info = (idx_k, axis, keepdim, x.shape, x.dtype)
        return vals, out_idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, g, _g_idx):
        idx_k, axis, keepdim, shape, dtype = ctx.info
        if not keepdim:
            g = np.expand_dims(g, axis)
        dx = np.zeros(shape, dtype=dtype)
        np.put_along_axis(dx, idx_k, g, axis)
        return dx, None, None, None


def _gemm2d(a, b, trans_a=False, trans_b=False):
    return _C.gemm(np.ascontiguousarray(a), np.ascontiguousarray(b), trans_a=trans_a, trans_b=trans_b)


class MatMul(Function):
    """torch.matmul semantics: 1-D operands are promoted and the added dimension removed;
    2-D x 2-D runs kernn's GEMM, batched (>2-D) products broadcast through numpy."""

    @staticmethod
    def forward(ctx, a, b):
        x, y = a._data, b._data
        if x.ndim == 0 or y.ndim == 0:
            raise RuntimeError(
                f"matmul: both arguments need at least 1 dimension, got shapes {tuple(x.shape)} "
                f"and {tuple(y.shape)}"
            )
        if x.dtype != y.dtype:
            raise TypeError(f"matmul: expected both operands to have the same dtype, got "
                            f"{x.dtype} and {y.dtype}")
        xs = x.shape[-1]
        ys = y.shape[-2] if y.ndim > 1 else y.shape[0]
        if xs != ys:
            raise ValueError(
                f"matmul: shapes {tuple(x.shape)} and {tuple(y.shape)} cannot be multiplied "
                f"({xs} != {ys})"
            )
        batch_x, batch_y = x.shape[:-2], y.shape[:-2]
        if not broadcasts(batch_x, batch_y):
            raise ValueError(f"matmul: the batch dimensions {tuple(batch_x)} of {tuple(x.shape)} "
                             f"and {tuple(batch_y)} of {tuple(y.shape)} do not broadcast")
        ctx.save_for_backward(x, y)
        if x.ndim == 2 and y.ndim == 2 and x.dtype.kind == "f":
            return _gemm2d(x, y)
        if x.ndim == 1 and y.ndim == 2 and x.dtype.kind == "f":
            return _gemm2d(x[None, :], y)[0]
        if x.ndim == 2 and y.ndim == 1 and x.dtype.kind == "f":
            return _gemm2d(x, y[None, :], trans_b=True)[:, 0]
        return np.asarray(np.matmul(x, y))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        g2 = np.asarray(g)
        if y.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        if x.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        gx = gy = None
        if x2.ndim == 2 and y2.ndim == 2:
            if need[0]:
                gx = _gemm2d(g2, y2, trans_b=True)
            if need[1]:
                gy = _gemm2d(x2, g2, trans_a=True)
        else:
            if need[0]:
                gx = unbroadcast(np.matmul(g2, np.swapaxes(y2, -1, -2)), x2.shape, x.dtype)
            if need[1]:
                gy = unbroadcast(np.matmul(np.swapaxes(x2, -1, -2), g2), y2.shape, y.dtype)
        if gx is not None and x.ndim == 1:
            gx = gx.reshape(x.shape)
        if gy is not None and y.ndim == 1:
            gy = gy.reshape(y.shape)
        return gx, gy


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        x = a._data
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {x.size} "
                f"(shape {tuple(x.shape)})"
            ) from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


class Expand(Function):
    """A read-only broadcast view of the input; the gradient sums over the repeated elements."""

    @staticmethod
    def forward(ctx, a, shape):
        x = a._data
        ctx.meta = (x.shape, x.dtype)
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        shape, dtype = ctx.meta
        return unbroadcast(g, shape, dtype), None


class Permute(Function):
    @staticmethod
    def forward(ctx, a, perm):
        ctx.perm = perm
        return np.transpose(a._data, perm)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, np.argsort(ctx.perm)), None


class Contiguous(Function):
    @staticmethod
    def forward(ctx, a):
        return np.ascontiguousarray(a._data)

    @staticmethod
    def backward(ctx, g):
        return g


def _is_basic_index(idx):
    if isinstance(idx, tuple):
        return all(_is_basic_index(i) for i in idx)
    return idx is None or idx is Ellipsis or isinstance(idx, (int, slice, np.integer))


class Index(Function):
    """x[idx] for basic (ints, slices, None, ...) and advanced (integer / bool array) indices."""

    @staticmethod
    def forward(ctx, a, idx):
        x = a._data
        ctx.info = (idx, x.shape, x.dtype)
        out = x[idx]
        return np.asarray(out)

    @staticmethod
    def backward(ctx, g):
        idx, shape, dtype = ctx.info
        dx = np.zeros(shape, dtype=dtype)
        if _is_basic_index(idx):
            dx[idx] = g
        else:
            # add.at sums repeated indices (x[[0, 0]] sends two gradients to row 0).
            np.add.at(dx, idx, g)
        return dx, None


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        x = a._data
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.dtype), None


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        arrays = [t._data for t in tensors]
        ctx.split = (dim, np.cumsum([a.shape[dim] for a in arrays])[:-1])
        ctx.dtypes = [a.dtype for a in arrays]
        return np.concatenate(arrays, axis=dim, dtype=_common_dtype(ctx.dtypes))

    @staticmethod
    def backward(ctx, g):
        dim, points = ctx.split
        parts = np.split(g, points, axis=dim)
        return (None, *[p.astype(d, copy=False) if n else None
                        for p, d, n in zip(parts, ctx.dtypes, ctx.needs_input_grad[1:])])


class Stack(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        ctx.dim = dim
        ctx.dtypes = [t._data.dtype for t in tensors]
        return np.stack([t._data for t in tensors], axis=dim, dtype=_common_dtype(ctx.dtypes))

    @staticmethod
    def backward(ctx, g):
        n = g.shape[ctx.dim]
        parts = [np.take(g, i, axis=ctx.dim) for i in range(n)]
        return (None, *[p.astype(d, copy=False) if need else None
                        for p, d, need in zip(parts, ctx.dtypes, ctx.needs_input_grad[1:])])


class Where(Function):
    @staticmethod
    def forward(ctx, cond, a, b):
        c, x, y = _arr(cond), _arr(a), _arr(b)
        ctx.save_for_backward(c)
        ctx.metas = (_meta(a), _meta(b))
        return np.asarray(np.where(c, x, y)).astype(result_dtype(x, y), copy=False)

    @staticmethod
    def backward(ctx, g):
        (c,) = ctx.saved_tensors
        (sa, da), (sb, db) = ctx.metas
        need = ctx.needs_input_grad
        ga = unbroadcast(np.where(c, g, 0).astype(g.dtype), sa, da) if need[1] else None
        gb = unbroadcast(np.where(c, 0, g).astype(g.dtype), sb, db) if need[2] else None
        return None, ga, gb
