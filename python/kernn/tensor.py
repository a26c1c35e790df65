"""Tensor: a numpy array plus what autograd needs (requires_grad, grad, grad_fn).

The array lives in ``Tensor._data`` (C code and Functions read it there); ``Tensor.numpy()``
returns it without a copy and ``kernn.from_numpy`` wraps an array without a copy, so kernn,
numpy and ``torch.from_numpy`` can share memory.
"""

from __future__ import annotations

import builtins
import numbers
import operator
import warnings

import numpy as np

from . import _memory
from . import autograd as _autograd
from ._device import CPU as _CPU, device as _device, is_cpu as _is_cpu
from .autograd import _mode
from .random import default_generator as _default_generator

__all__ = [
    "Tensor", "dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
    "uint8", "bool", "tensor", "from_numpy", "as_tensor", "zeros", "ones", "zeros_like",
    "ones_like", "full", "full_like", "empty", "empty_like", "randn", "rand", "randint",
    "randn_like", "rand_like", "randperm", "arange", "linspace", "is_tensor",
    "get_default_dtype", "set_default_dtype", "maximum", "minimum", "FloatTensor",
    "DoubleTensor", "LongTensor",
]


class dtype:
    """A kernn dtype (kernn.float32, kernn.float64, kernn.int64, kernn.bool, ...)."""

    __slots__ = ("name", "numpy", "is_floating_point", "itemsize")

    def __init__(self, name, np_dtype):
        self.name = name
        self.numpy = np.dtype(np_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        self.itemsize = self.numpy.itemsize

    def __repr__(self):
        return f"kernn.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
uint8 = dtype("uint8", np.uint8)
bool = dtype("bool", np.bool_)  # noqa: A001 - torch's name
half, float, double, long, int = float16, float32, float64, int64, int32  # noqa: A001

_ALL_DTYPES = (float16, float32, float64, int8, int16, int32, int64, uint8, bool)
_BY_NUMPY = {d.numpy: d for d in _ALL_DTYPES}
_BY_NAME = {d.name: d for d in _ALL_DTYPES}
_BY_NAME.update(half=float16, float=float32, double=float64, long=int64, int=int32)


_DTYPE_NAMES = _BY_NAME


def _dtype_by_name(name):
    return _BY_NAME[name]


_default_float = np.dtype(np.float32)


def get_default_dtype():
    """The dtype of floating tensors created from Python numbers (kernn.float32 at start)."""
    return _BY_NUMPY[_default_float]


def set_default_dtype(d):
    """Sets the default floating dtype (kernn.float32 or kernn.float64)."""
    global _default_float
    nd = _np_dtype(d)
    if nd.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are supported, got {d!r}")
    if nd.itemsize < 4:
        # float16 was accepted, then kernn.randn failed in numpy and every layer's constructor
        # with it: kernn's kernels compute in float32 or float64.
        raise TypeError(f"set_default_dtype: the default float must be kernn.float32 or "
                        f"kernn.float64, got {d!r}")
    _default_float = nd


def _np_dtype(d):
    """numpy dtype of a kernn dtype, numpy dtype, Python type, name or torch dtype."""
    if d.__class__ is dtype:
        return d.numpy
    if d is builtins.float:
        return np.dtype(np.float64)  # as torch: Python's float is double, not the default
    if d is builtins.int:
        return np.dtype(np.int64)
    if d is builtins.bool:
        return np.dtype(np.bool_)
    if isinstance(d, str):
        name = d[6:] if d.startswith("kernn.") else d
        if name in _BY_NAME:
            return _BY_NAME[name].numpy
    s = str(d)
    if s.startswith("torch."):
        name = s[6:]
        if name in _BY_NAME:
            return _BY_NAME[name].numpy
    try:
        nd = np.dtype(d)
    except TypeError:
        nd = None
    if nd is None or nd not in _BY_NUMPY:
        raise TypeError(f"unsupported dtype {d!r}; kernn supports "
                        f"{', '.join(repr(x) for x in _ALL_DTYPES)}")
    return nd


def _as_array(data, dt=None):
    """A new numpy array from data (torch's inference: floats -> default float, ints -> int64)."""
    if isinstance(data, Tensor):
        arr = data._data
        return np.array(arr, dtype=dt if dt is not None else arr.dtype)
    if dt is not None:
        return np.array(data, dtype=dt)
    arr = np.array(data)
    # Python numbers and (nested) lists follow torch's inference; arrays (numpy, torch via
    # __array__, numpy scalars) keep their dtype.
    from_python = (isinstance(data, (list, tuple, builtins.float, builtins.int))
                   and not isinstance(data, np.generic))
    if arr.dtype.kind == "f":
        if from_python and arr.dtype != _default_float:
            arr = arr.astype(_default_float)
    elif arr.dtype.kind in "iu":
        if from_python:
            if arr.dtype == np.uint64:  # numpy's type for ints in [2^63, 2^64)
                raise OverflowError(f"tensor: a Python int does not fit in int64 (max "
                                    f"{np.iinfo(np.int64).max}), got {arr.max()}")
            arr = arr.astype(np.int64)
    elif arr.dtype.kind == "b":
        pass
    elif arr.dtype.kind == "O" or arr.dtype.kind in "USV":
        raise TypeError(f"tensor: could not convert {type(data).__name__} data to a tensor "
                        f"(numpy made dtype {arr.dtype})")
    if arr.dtype not in _BY_NUMPY:
        raise TypeError(f"tensor: unsupported dtype {arr.dtype}")
    return arr


_object_new = object.__new__


def _new(arr):
    """Wraps a numpy array in a Tensor without copying (internal fast path)."""
    t = _object_new(Tensor)
    t._data = arr
    t._rg = False
    t.grad = None
    t.grad_fn = None
    return t


def _new_checked(arr):
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)
    return _new(arr)


class Tensor:
    """A multi-dimensional array with automatic differentiation, like torch.Tensor.

    Create tensors with ``kernn.tensor(data)``, ``kernn.from_numpy(array)`` or the factory
    functions (``zeros``, ``randn``, ...). Floating tensors are float32 by default; float64,
    int64 (class labels) and bool (masks) are supported throughout.

    Args:
        data: array-like; a numpy array is wrapped without a copy. Or, as torch.Tensor, sizes:
            ``Tensor(3, 4)`` is an uninitialised 3 x 4 float tensor (``Tensor()`` an empty
            one).
        requires_grad (bool, keyword only): record operations for backward (floating tensors
            only).

    Example::

        >>> x = kernn.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([[2., 4.],
                [6., 8.]])
    """

    __slots__ = ("_data", "_rg", "grad", "grad_fn", "_output_nr", "__weakref__")

    # Let `ndarray + Tensor` defer to Tensor.__radd__ instead of numpy iterating the Tensor.
    __array_priority__ = 1000

    def __init__(self, *data, requires_grad=False):
        sizes = _sizes_of(data)
        if sizes is not None:
            data = _memory.empty(_size_arg(sizes, "Tensor"), _default_float)
        elif len(data) == 1:
            (data,) = data
        else:
            raise TypeError(f"Tensor: expected data (one argument) or sizes (ints), got "
                            f"{', '.join(type(d).__name__ for d in data)}")
        if isinstance(data, np.ndarray):
            arr = data
            if arr.dtype not in _BY_NUMPY:
                raise TypeError(f"Tensor: unsupported dtype {arr.dtype}")
        else:
            arr = _as_array(data)
            if arr.dtype.kind in "iu" and isinstance(data, (list, tuple, numbers.Number)):
                # torch.Tensor(list) makes floats (torch.tensor infers); keep that distinction.
                arr = arr.astype(_default_float)
        self._data = arr
        self._rg = False
        self.grad = None
        self.grad_fn = None
        if requires_grad:
            self.requires_grad = True

    # ---- autograd attributes -------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        value = builtins.bool(value)
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got "
                f"{self.dtype!r} (labels and masks are int64 / bool tensors)"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; use detach() to get "
                "a tensor that does not require grad"
            )
        self._rg = value

    def requires_grad_(self, requires_grad=True):
        """Sets requires_grad in place and returns self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        """A tensor sharing this one's memory, detached from the graph (as torch's .data)."""
        return _new(self._data)

    @data.setter
    def data(self, value):
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._data = arr

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulates d(self)/d(leaf) into every leaf's ``.grad``.

        Args:
            gradient (Tensor, optional): the gradient with respect to self; required unless
                self has one element.
            retain_graph (bool, optional): keep the graph so backward can run through it again.
            create_graph (bool): not supported (kernn has no higher-order gradients).
        """
        if create_graph:
            raise NotImplementedError("backward: create_graph=True (higher-order gradients) is "
                                      "not supported by kernn")
        _autograd.backward(self, gradient, builtins.bool(retain_graph))

    def detach(self):
        """A tensor sharing memory with self but outside the graph."""
        return _new(self._data)

    def detach_(self):
        if self.grad_fn is not None:
            self.grad_fn = None
        self._rg = False
        return self

    def retain_grad(self):
        raise NotImplementedError("retain_grad is not supported by kernn: only leaves get .grad")

    # ---- metadata ------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape (a tuple), or the extent of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim]

    def dim(self):
        return self._data.ndim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def nelement(self):
        return self._data.size

    @property
    def dtype(self):
        return _BY_NUMPY[self._data.dtype]

    @property
    def device(self):
        return _CPU

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    def element_size(self):
        return self._data.itemsize

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[dim]

    # ---- conversion ----------------------------------------------------------------------
    def numpy(self):
        """The underlying numpy array (no copy). Refuses tensors that require grad, as torch."""
        if self._rg:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = self._data
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        if copy:
            return arr.copy()
        return arr

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"item: a Tensor with {self._data.size} elements (shape "
                f"{tuple(self._data.shape)}) cannot be converted to a Python scalar"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return builtins.float(self.item())

    def __int__(self):
        return builtins.int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self._data.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous"
            )
        return builtins.bool(self._data.item())

    def to(self, *args, dtype=None, device=None, copy=False):
        """Returns a tensor of another dtype (``to(kernn.float64)``); devices other than "cpu"
        raise. Without a change it returns self (unless copy=True)."""
        dtype = _to_dtype(args, dtype, device)
        if dtype is None:
            return self.clone() if copy else self
        nd = _np_dtype(dtype)
        if nd == self._data.dtype:
            return self.clone() if copy else self
        if self._rg and nd.kind == "f":
            return _ops.Cast.apply(self, nd)
        return _new(self._data.astype(nd))

    def cpu(self):
        return self

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def half(self):
        return self.to(float16)

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to(int32)

    def bool(self):
        return self.to(bool)

    def type(self, dtype=None):
        if dtype is None:
            return f"kernn.{self.dtype.name}"
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def clone(self):
        if self._rg and _mode.enabled:
            return _ops.Mul.apply(self, 1)
        return _new(self._data.copy())

    def contiguous(self):
        if self._data.flags.c_contiguous:
            return self
        return _ops.Contiguous.apply(self)

    # ---- representation ------------------------------------------------------------------
    def __repr__(self):
        arr = self._data
        if arr.dtype.kind == "f":
            if arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
                # torch prints integral floats as "1." and others with 4 decimals, all alike.
                body = np.array2string(arr, separator=", ", prefix="tensor(",
                                       formatter={"float_kind": lambda v: f"{v:.0f}."})
            else:
                body = np.array2string(arr, separator=", ", prefix="tensor(", precision=4,
                                       floatmode="fixed", suppress_small=False)
        else:
            body = np.array2string(arr, separator=", ", prefix="tensor(")
        extras = []
        if arr.dtype not in (_default_float, np.dtype(np.int64), np.dtype(np.bool_)):
            extras.append(f"dtype=kernn.{self.dtype.name}")
        if arr.size == 0:
            extras.append(f"size={tuple(arr.shape)}")
        if self.grad_fn is not None:
            name = type(self.grad_fn).__name__
            if name.endswith("Function"):
                name = name[:-len("Function")]
            extras.append(f"grad_fn=<{name}Backward>")
        elif self._rg:
            extras.append("requires_grad=True")
        if extras:
            return f"tensor({body}, {', '.join(extras)})"
        return f"tensor({body})"

    __str__ = __repr__

    def __format__(self, spec):
        # As torch: a one-element 0-d tensor formats as its number (f"{loss:.4f}"); with no
        # spec, any tensor as its repr.
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} for a tensor of shape "
                            f"{tuple(self._data.shape)} (only 0-d tensors take a format spec)")
        return repr(self)

    # ---- sequence protocol ---------------------------------------------------------------
    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __hash__(self):
        return id(self)

    def __contains__(self, value):
        return builtins.bool((self._data == _arr(value)).any())

    def __getitem__(self, idx):
        idx = _index_arg(idx)
        if self._rg and _mode.enabled:
            return _ops.Index.apply(self, idx)
        element = self._data[idx]
        if type(element) is not np.ndarray:
            # Every index an integer: numpy gives a scalar (a copy), torch a 0-d view; with
            # an Ellipsis after them numpy gives the 0-d view too.
            element = self._data[(idx if isinstance(idx, tuple) else (idx,)) + (Ellipsis,)]
        return _new(element)

    def __setitem__(self, idx, value):
        self._check_inplace("__setitem__")
        self._data[_index_arg(idx)] = _arr(value)

    # ---- arithmetic ----------------------------------------------------------------------
    def __add__(self, other):
        return _binary(_ops.Add, self, other)

    def __radd__(self, other):
        return _binary(_ops.Add, other, self)

    def __sub__(self, other):
        return _binary(_ops.Sub, self, other)

    def __rsub__(self, other):
        return _binary(_ops.Sub, other, self)

    def __mul__(self, other):
        return _binary(_ops.Mul, self, other)

    def __rmul__(self, other):
        return _binary(_ops.Mul, other, self)

    def __truediv__(self, other):
        return _binary(_ops.Div, self, other)

    def __rtruediv__(self, other):
        return _binary(_ops.Div, other, self)

    def __pow__(self, other):
        return _binary(_ops.Pow, self, other)

    def __rpow__(self, other):
        return _binary(_ops.Pow, other, self)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        if self._rg and _mode.enabled:
            return _ops.Neg.apply(self)
        return _new_checked(-self._data)

    def __pos__(self):
        return self

    def __floordiv__(self, other):
        return _binary(_ops.FloorDivide, self, other)

    def __rfloordiv__(self, other):
        return _binary(_ops.FloorDivide, other, self)

    def __mod__(self, other):
        return _binary(_ops.Remainder, self, other)

    def __rmod__(self, other):
        return _binary(_ops.Remainder, other, self)

    # In-place arithmetic: allowed on tensors outside the graph (and under no_grad on
    # parameters: `with kernn.no_grad(): w -= lr * w.grad`).
    def _check_inplace(self, op):
        if _mode.enabled and (self._rg or self.grad_fn is not None):
            what = "a leaf tensor that requires grad" if self.grad_fn is None else (
                "a tensor computed by the graph (non-leaf)")
            raise RuntimeError(
                f"{op}: in-place operation on {what}: kernn keeps no version counters, so it "
                "refuses in-place changes to tensors backward may need; compute a new tensor "
                "(y = y + 1), or wrap the change in kernn.no_grad() (a leaf's update)"
            )

    def __iadd__(self, other):
        self._check_inplace("add_")
        self._data += _arr(other)
        return self

    def __isub__(self, other):
        self._check_inplace("sub_")
        self._data -= _arr(other)
        return self

    def __imul__(self, other):
        self._check_inplace("mul_")
        self._data *= _arr(other)
        return self

    def __itruediv__(self, other):
        self._check_inplace("div_")
        self._data /= _arr(other)
        return self

    def add_(self, other, alpha=1):
        self._check_inplace("add_")
        o = _arr(other)
        self._data += o if alpha == 1 else alpha * o
        return self

    def sub_(self, other, alpha=1):
        self._check_inplace("sub_")
        o = _arr(other)
        self._data -= o if alpha == 1 else alpha * o
        return self

    def mul_(self, other):
        self._check_inplace("mul_")
        self._data *= _arr(other)
        return self

    def div_(self, other):
        self._check_inplace("div_")
        self._data /= _arr(other)
        return self

    def zero_(self):
        self._check_inplace("zero_")
        self._data[...] = 0
        return self

    def scatter_(self, dim, index, src=None, *, value=None):
        """self[..., index[i, j, ...], ...] = src[i, j, ...] along ``dim`` (or = value), in
        place, as torch: ``zeros(n, 10).scatter_(1, labels.unsqueeze(1), 1.0)`` one-hot
        encodes. index (int64) has self's number of dimensions and, off ``dim``, sizes at most
        self's (src's); not differentiable."""
        self._check_inplace("scatter_")
        if src is None:
            src = value
        a = self._data
        axis = _ops._norm_dim(dim, a.ndim, "scatter_")
        idx = _arr(index)
        if not isinstance(idx, np.ndarray) or idx.dtype != np.int64 or idx.ndim != a.ndim:
            raise ValueError(f"scatter_: argument 'index' must be an int64 tensor with "
                             f"{a.ndim} dimensions (as self, of shape {tuple(a.shape)}), got "
                             + (f"{idx.dtype} of shape {tuple(idx.shape)}"
                                if isinstance(idx, np.ndarray) else type(index).__name__))
        region = tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(idx.shape))
        values = _arr(src)
        if isinstance(values, np.ndarray):  # src[i, j] goes where index[i, j] says
            values = values[tuple(slice(0, n) for n in idx.shape)]
        if any(n > a.shape[d] for d, n in enumerate(idx.shape) if d != axis) or (
                idx.size and (idx.min() < 0 or idx.max() >= a.shape[axis])):
            raise IndexError(f"scatter_: index of shape {tuple(idx.shape)} (values "
                             f"{idx.min() if idx.size else '-'}..{idx.max() if idx.size else '-'}"
                             f") does not fit self of shape {tuple(a.shape)} along dim {dim}")
        np.put_along_axis(a[region], idx, values, axis)
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self._data[...] = _arr(value)
        return self

    def copy_(self, src):
        self._check_inplace("copy_")
        src = _arr(src)
        if np.shape(src) != self._data.shape and np.size(src) != 1:
            try:
                np.broadcast_to(src, self._data.shape)
            except ValueError:
                raise RuntimeError(
                    f"copy_: the source of shape {tuple(np.shape(src))} cannot be broadcast to "
                    f"{tuple(self._data.shape)}"
                ) from None
        self._data[...] = src
        return self

    def clamp_(self, min=None, max=None):
        self._check_inplace("clamp_")
        np.clip(self._data, min, max, out=self._data)
        return self

    def uniform_(self, a=0.0, b=1.0):
        self._check_inplace("uniform_")
        self._data[...] = _default_generator().uniform(a, b, self._data.shape)
        return self

    def normal_(self, mean=0.0, std=1.0):
        self._check_inplace("normal_")
        self._data[...] = _default_generator().normal(mean, std, self._data.shape)
        return self

    # ---- comparisons (bool tensors, no gradient) -----------------------------------------
    # The operands are promoted as in arithmetic: float32 against a 0-d float64 tensor compares
    # in float32, as torch.
    def __eq__(self, other):
        if other is None:
            return False  # as torch: `if p.grad == None` is a plain test
        return _elementwise("eq", np.equal, self, other)

    def __ne__(self, other):
        if other is None:
            return True
        return _elementwise("ne", np.not_equal, self, other)

    def __lt__(self, other):
        return _elementwise("lt", np.less, self, other)

    def __le__(self, other):
        return _elementwise("le", np.less_equal, self, other)

    def __gt__(self, other):
        return _elementwise("gt", np.greater, self, other)

    def __ge__(self, other):
        return _elementwise("ge", np.greater_equal, self, other)

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def __and__(self, other):
        return _elementwise("bitwise_and", np.bitwise_and, self, other)

    def __rand__(self, other):
        return _elementwise("bitwise_and", np.bitwise_and, other, self)

    def __or__(self, other):
        return _elementwise("bitwise_or", np.bitwise_or, self, other)

    def __ror__(self, other):
        return _elementwise("bitwise_or", np.bitwise_or, other, self)

    def __xor__(self, other):
        return _elementwise("bitwise_xor", np.bitwise_xor, self, other)

    def __rxor__(self, other):
        return _elementwise("bitwise_xor", np.bitwise_xor, other, self)

    def __invert__(self):
        return _new_checked(~self._data)

    def logical_not(self):
        return _new_checked(np.logical_not(self._data))

    def equal(self, other):
        return builtins.bool(np.array_equal(self._data, _arr(other)))

    def allclose(self, other, rtol=1e-5, atol=1e-8):
        return builtins.bool(np.allclose(self._data, _arr(other), rtol=rtol, atol=atol))

    def any(self, dim=None, keepdim=False):
        """Whether any element (along ``dim``: an int, a tuple, or None for all) is nonzero."""
        a = self._data
        return _new(np.asarray(np.any(a, axis=_ops._norm_dims(dim, a.ndim), keepdims=keepdim)))

    def all(self, dim=None, keepdim=False):
        """Whether every element (along ``dim``: an int, a tuple, or None for all) is nonzero."""
        a = self._data
        return _new(np.asarray(np.all(a, axis=_ops._norm_dims(dim, a.ndim), keepdims=keepdim)))

    # ---- math ----------------------------------------------------------------------------
    def neg(self):
        return -self

    def add(self, other, alpha=1):
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self ** exponent

    def matmul(self, other):
        return matmul(self, other)

    def mm(self, other):
        return matmul(self, other)

    def exp(self):
        return _unary(_ops.Exp, _as_float(self), np.exp)

    def log(self):
        return _unary(_ops.Log, _as_float(self), np.log)

    def sqrt(self):
        return _unary(_ops.Sqrt, _as_float(self), np.sqrt)

    def sin(self):
        return _unary(_ops.Sin, _as_float(self), np.sin)

    def cos(self):
        return _unary(_ops.Cos, _as_float(self), np.cos)

    def round(self, decimals=0):
        """Rounds half to even, as torch; the result is not differentiable (torch's gradient
        of it is zero everywhere)."""
        return _new_checked(np.round(self._data, decimals))

    def isnan(self):
        return _new_checked(np.isnan(self._data))

    def abs(self):
        return _unary(_ops.Abs, self, np.abs)

    def sign(self):
        """-1, 0 or 1; as torch, 0 for NaN and a bool tensor's own values."""
        a = self._data
        if a.dtype.kind == "b":
            return _new(a.copy())
        r = _new_checked(np.sign(a))
        if a.dtype.kind == "f":
            np.copyto(r._data, 0, where=np.isnan(a))
        return r

    def clamp(self, min=None, max=None):
        """Limits values to [min, max]; the gradient passes where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of 'min' and 'max' must be given")
        # numpy scalars as Python numbers, which do not widen the tensor's dtype (torch's rule)
        if isinstance(min, np.generic):
            min = min.item()
        if isinstance(max, np.generic):
            max = max.item()
        if self._data.dtype.kind != "f":
            # torch's promotion: an integer tensor clamped to a float bound gives the default
            # float, not numpy's float64.
            for bound in (min, max):
                if bound is not None:
                    x, _ = _ops.promoted(self, bound)
                    if x.dtype.kind == "f":
                        return _new(x).clamp(min, max)
        if self._rg and _mode.enabled:
            return _ops.Clamp.apply(self, min, max)
        return _new_checked(np.clip(self._data, min, max))

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def relu(self):
        from .nn import functional as F

        return F.relu(self)

    def relu_(self):
        """max(x, 0) in place (refused on a tensor that requires grad, outside no_grad)."""
        self._check_inplace("relu_")
        np.maximum(self._data, 0, out=self._data)
        return self

    def masked_fill(self, mask, value):
        """A copy with ``value`` (a number, taken in self's dtype, or a 0-d tensor) where the
        bool ``mask`` is True, self and mask broadcast together as in torch; differentiable in
        self and a tensor value."""
        self._check_mask("masked_fill", mask, inplace=False)
        if not isinstance(value, Tensor):
            value = np.asarray(value, self._data.dtype)
        elif value._data.ndim:
            raise ValueError(f"masked_fill: a tensor 'value' must be 0-d (as in torch), got "
                             f"shape {tuple(value._data.shape)}")
        return _ops.Where.apply(mask, value, self)

    def masked_fill_(self, mask, value):
        self._check_inplace("masked_fill_")
        self._check_mask("masked_fill_", mask)
        self._data[np.broadcast_to(_arr(mask), self._data.shape)] = _arr(value)
        return self

    def _check_mask(self, op, mask, inplace=True):
        """ValueError unless ``mask`` is a bool tensor that broadcasts with self's shape (to it,
        for an in-place op)."""
        m = _arr(mask)
        shape = self._data.shape
        if (not isinstance(m, np.ndarray) or m.dtype != np.bool_ or not _ops.broadcasts(
                m.shape, shape) or (inplace and np.broadcast_shapes(m.shape, shape) != shape)):
            got = (f"{m.dtype} of shape {tuple(m.shape)}" if isinstance(m, np.ndarray)
                   else type(mask).__name__)
            raise ValueError(f"{op}: argument 'mask' must be a bool tensor that broadcasts "
                             f"{'to' if inplace else 'with'} self's shape {tuple(shape)}, got "
                             f"{got}")

    def repeat(self, *sizes):
        """Tiles the tensor ``sizes[i]`` times along dimension i (as torch.Tensor.repeat;
        extra leading sizes add dimensions); differentiable."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        nd = self._data.ndim
        if len(sizes) < nd:
            raise RuntimeError(f"repeat: the number of repeats ({len(sizes)}) can not be "
                               f"smaller than the number of dimensions of the tensor ({nd})")
        x = self.reshape((1,) * (len(sizes) - nd) + self._data.shape)
        index = np.ix_(*[np.arange(n * r) % n if n else np.arange(0)
                         for n, r in zip(x._data.shape, _size_arg(sizes, "repeat"))])
        return x[index]

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """(values, indices) of the k largest (or smallest) elements along ``dim``, largest
        first (smallest first); values are differentiable. Ties keep the lower index first."""
        a = self._data
        axis = _ops._norm_dim(dim, a.ndim, "topk")
        size = a.shape[axis] if a.ndim else 1
        if not 0 <= k <= size:
            raise RuntimeError(f"topk: k={k} is out of range for dimension {dim} of size "
                               f"{size} (shape {tuple(a.shape)})")
        if a.ndim == 0:
            return MaxResult(self if k else self.reshape(0), _new(np.zeros((), np.int64)))
        if largest and a.dtype.kind == "f":
            # NaN is the largest value, as in torch (argsort puts it last); lexsort is stable
            order = np.lexsort((-a, ~np.isnan(a)), axis=axis)
        else:
            order = np.argsort(-a if largest else a, axis=axis, kind="stable")
        indices = np.take(order, np.arange(k), axis=axis).astype(np.int64)
        grids = list(np.ogrid[tuple(slice(0, n) for n in indices.shape)])
        grids[axis] = indices
        return MaxResult(self[tuple(grids)], _new(indices))

    def bincount(self, weights=None, minlength=0):
        """How often each value 0 .. max occurs in this 1-D tensor of non-negative integers
        (at least ``minlength`` counts), as torch.bincount: int64 counts, or with ``weights``
        (a 1-D tensor of this length) their sums, in the weights' dtype."""
        a = self._data
        if a.ndim != 1 or a.dtype.kind not in "iu" or (a.size and a.min() < 0):
            raise RuntimeError(f"bincount: only 1-d non-negative integral inputs are supported, "
                               f"got kernn.{self.dtype.name} of shape {tuple(a.shape)}")
        if isinstance(minlength, builtins.bool) or not isinstance(minlength, numbers.Integral) \
                or minlength < 0:
            raise RuntimeError(f"bincount: minlength should be a non-negative int, got "
                               f"{minlength!r}")
        if weights is None:
            return _new(np.bincount(a, minlength=minlength).astype(np.int64))
        w = _arr(weights)
        if np.shape(w) != a.shape:
            raise RuntimeError(f"bincount: weights of shape {tuple(np.shape(w))} must have the "
                               f"input's shape {tuple(a.shape)}")
        w = np.asarray(w)
        return _new(np.bincount(a, weights=w, minlength=minlength).astype(
            w.dtype if w.dtype.kind == "f" else np.float64))

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct values (sorted, each NaN on its own, last), as torch.unique; with ``dim`` the distinct
        slices along it. With ``return_inverse`` also each element's (slice's) index into
        them, in the input's shape (along ``dim``); with ``return_counts`` how often each
        occurs. ``sorted=False`` is accepted and sorts anyway (torch's CPU result is sorted
        too). Not differentiable."""
        a = self._data
        axis = None if dim is None else _ops._norm_dim(dim, a.ndim, "unique")
        # equal_nan=False: every NaN is a value of its own, as in torch (NaN != NaN)
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True,
                                            axis=axis, equal_nan=False)
        out = [_new(values)]
        if return_inverse:
            out.append(_new(inverse.reshape(a.shape if axis is None else -1).astype(np.int64)))
        if return_counts:
            out.append(_new(counts.astype(np.int64)))
        return out[0] if len(out) == 1 else tuple(out)

    def sigmoid(self):
        from .nn import functional as F

        return F.sigmoid(self)

    def tanh(self):
        from .nn import functional as F

        return F.tanh(self)

    def softmax(self, dim):
        from .nn import functional as F

        return F.softmax(self, dim)

    def log_softmax(self, dim):
        from .nn import functional as F

        return F.log_softmax(self, dim)

    # ---- reductions ----------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        """Sum over ``dim`` (an int, a tuple, or None for all elements)."""
        x = self
        if dtype is not None:
            x = x.to(dtype)
        elif x._data.dtype.kind in "bui":
            x = x.to(int64)
        if x._rg and _mode.enabled:
            return _ops.Sum.apply(x, dim, keepdim)
        a = x._data
        return _new(np.asarray(a.sum(axis=_ops._norm_dims(dim, a.ndim),
                                     keepdims=keepdim)))

    def mean(self, dim=None, keepdim=False, dtype=None):
        """Mean over ``dim`` (an int, a tuple, or None for all elements); floating tensors."""
        x = self if dtype is None else self.to(dtype)
        if x._data.dtype.kind != "f":
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {x.dtype.name}"
            )
        if x._rg and _mode.enabled:
            return _ops.Mean.apply(x, dim, keepdim)
        a = x._data
        return _new(np.asarray(a.mean(axis=_ops._norm_dims(dim, a.ndim),
                                      keepdims=keepdim)))

    def max(self, dim=None, keepdim=False):
        """max() -> the largest element; max(dim) -> (values, indices); max(other_tensor) ->
        maximum(self, other), as torch."""
        if isinstance(dim, Tensor):
            return maximum(self, dim)
        return _extremum(self, dim, keepdim, True)

    def min(self, dim=None, keepdim=False):
        """min() -> the smallest element; min(dim) -> (values, indices); min(other_tensor) ->
        minimum(self, other), as torch."""
        if isinstance(dim, Tensor):
            return minimum(self, dim)
        return _extremum(self, dim, keepdim, False)

    def maximum(self, other):
        return maximum(self, other)

    def minimum(self, other):
        return minimum(self, other)

    def argmax(self, dim=None, keepdim=False):
        return _arg_extremum(self, dim, keepdim, np.argmax)

    def argmin(self, dim=None, keepdim=False):
        return _arg_extremum(self, dim, keepdim, np.argmin)

    def norm(self, p=2, dim=None, keepdim=False):
        """The p-norm (p: a positive number, inf, or "fro" = 2) over ``dim`` (all elements by
        default) of a floating tensor, as torch.norm; its gradient at a zero norm is zero."""
        if p == "fro":
            p = 2
        if isinstance(p, builtins.bool) or not isinstance(p, numbers.Real) or not p > 0:
            raise ValueError(f"norm: argument 'p' must be a positive number, inf or 'fro', "
                             f"got {p!r}")
        if self._data.dtype.kind != "f":
            raise TypeError(f"norm: expected a floating tensor, got kernn.{self.dtype.name}")
        if self._rg and _mode.enabled:
            return _ops.Norm.apply(self, builtins.float(p), dim, keepdim)
        return _new_checked(_ops.Norm.forward(_NoGradCtx, self, builtins.float(p), dim,
                                              keepdim))

    def var(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        """Variance over ``dim``: the sum of squared deviations over n - correction, where
        correction defaults to 1 (unbiased=True) or 0 (unbiased=False), as torch."""
        return _variance(self, "var", dim, unbiased, keepdim, correction)

    def std(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        """Standard deviation over ``dim``: the square root of var's result."""
        return _variance(self, "std", dim, unbiased, keepdim, correction)

    # ---- shape ---------------------------------------------------------------------------
    def reshape(self, *shape):
        """A tensor with the same data and a new shape (one entry may be -1)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if min(shape, default=0) < -1:  # numpy takes any negative size as -1
            raise RuntimeError(f"reshape: invalid shape dimension {min(shape)} in shape "
                               f"{list(shape)} (sizes are non-negative, or -1 for one inferred)")
        if self._rg and _mode.enabled:
            return _ops.Reshape.apply(self, shape)
        try:
            return _new(self._data.reshape(shape))
        except ValueError:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {self._data.size} "
                f"(shape {tuple(self._data.shape)})"
            ) from None

    def view(self, *shape):
        """reshape that never copies: a shape that self's strides cannot give raises, as
        torch's view (reshape copies then)."""
        out = self.reshape(*shape)
        if out._data.size and not np.may_share_memory(out._data, self._data):
            raise RuntimeError(f"view: a tensor of shape {tuple(self._data.shape)} and strides "
                               f"{self.stride()} cannot be viewed as {tuple(out._data.shape)} "
                               "without a copy (its size and stride are not compatible); use "
                               ".reshape(...) instead")
        return out

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        shape = self._data.shape
        nd = len(shape)
        bound = max(nd, 1)  # a 0-d tensor takes dims -1 and 0, as in torch
        for d in (start_dim, end_dim):
            if not -bound <= d < bound:
                raise IndexError(f"flatten: dimension {d} out of range for a tensor of shape "
                                 f"{tuple(shape)} (expected to be in range of [{-bound}, "
                                 f"{bound - 1}])")
        if nd == 0:
            return self.reshape(1)
        s = start_dim % nd
        e = end_dim % nd
        if s > e:
            raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        new = shape[:s] + (-1 if 0 not in shape[s:e + 1] else 0,) + shape[e + 1:]
        return self.reshape(new)

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        nd = self._data.ndim
        if len(dims) != nd or sorted(d % nd for d in dims) != list(range(nd)):
            raise RuntimeError(f"permute: dims {tuple(dims)} are not a permutation of the "
                               f"{nd} dimensions of a tensor of shape {tuple(self._data.shape)}")
        perm = tuple(d % nd for d in dims)
        if self._rg and _mode.enabled:
            return _ops.Permute.apply(self, perm)
        return _new(np.transpose(self._data, perm))

    def transpose(self, dim0, dim1):
        nd = self._data.ndim
        d0, d1 = _ops._norm_dim(dim0, nd), _ops._norm_dim(dim1, nd)
        if nd == 0:
            return self
        perm = list(range(nd))
        perm[d0], perm[d1] = perm[d1], perm[d0]
        return self.permute(perm)

    def t(self):
        if self._data.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._data.ndim}D")
        return self.transpose(0, 1) if self._data.ndim == 2 else self

    @property
    def T(self):
        return self.permute(tuple(range(self._data.ndim))[::-1])

    def unsqueeze(self, dim):
        nd = self._data.ndim
        if not -nd - 1 <= dim <= nd:
            raise IndexError(f"unsqueeze: dimension {dim} out of range for a tensor with {nd} "
                             "dimensions")
        d = dim % (nd + 1)
        shape = self._data.shape
        return self.reshape(shape[:d] + (1,) + shape[d:])

    def squeeze(self, dim=None):
        shape = self._data.shape
        if dim is None:
            new = tuple(s for s in shape if s != 1)
        else:
            dims = _ops._norm_dims(dim, len(shape))
            new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
        if new == shape:
            return self
        return self.reshape(new)

    def expand(self, *sizes):
        """A view of self with its size-1 dimensions repeated to ``sizes`` (-1 keeps a size; new
        dimensions go in front), sharing self's memory as torch's. The view is read-only:
        writing into it raises, where torch writes through to the shared elements."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        target = _expanded_shape(self._data.shape, sizes)
        if self._rg and _mode.enabled:
            return _ops.Expand.apply(self, target)
        return _new(np.broadcast_to(self._data, target))

    def expand_as(self, other):
        return self.expand(other.shape)


def _expanded_shape(shape, sizes):
    """The shape that expand(*sizes) gives a tensor of ``shape``; RuntimeError naming both
    where torch refuses them."""
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                           f"or equal to the number of dimensions of the tensor of shape "
                           f"{tuple(shape)}")
    target = []
    for i, size in enumerate(sizes):
        size = operator.index(size)
        old = shape[i - lead] if i >= lead else None
        if size == -1 and old is not None:
            size = old
        elif size < 0 or (old is not None and old != 1 and size != old):
            raise RuntimeError(f"expand: cannot expand a tensor of shape {tuple(shape)} to the "
                               f"sizes {tuple(sizes)}: dimension {i} of size "
                               f"{'(new)' if old is None else old} cannot become {size} (only "
                               f"size-1 dimensions expand; -1 keeps an existing size)")
        target.append(size)
    return tuple(target)


class Size(tuple):
    """A tensor's shape: a tuple (printed as kernn.Size([...]) like torch.Size)."""

    __slots__ = ()

    def __repr__(self):
        return f"kernn.Size({list(self)})"

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


def _arr(x):
    if isinstance(x, Tensor):
        return x._data
    return x


def _index_arg(idx):
    """The numpy index for a tensor index, with torch's rules where numpy's differ."""
    if isinstance(idx, Tensor):
        return _index_array(idx._data)
    if isinstance(idx, tuple):
        return tuple(_index_array(i._data) if isinstance(i, Tensor) else i for i in idx)
    if isinstance(idx, list):
        # torch (as numpy before 1.23) takes a short list holding sequences, tensors, slices,
        # None or Ellipsis as a tuple: x[[[0, 1], [1, 0]]] is x[[0, 1], [1, 0]]; torch warns
        # that it will stop doing so.
        if len(idx) < 32 and any(isinstance(i, (list, tuple, Tensor, np.ndarray, slice))
                                 or i is None or i is Ellipsis for i in idx):
            warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated "
                          "(as in torch); use x[tuple(seq)] instead of x[seq]", UserWarning,
                          stacklevel=3)
            return _index_arg(tuple(idx))
        return np.asarray(idx) if idx else np.zeros(0, np.int64)  # [] selects nothing, as torch
    return idx


def _index_array(a):
    """A tensor's array as an index: uint8 is a mask in torch (deprecated there, with this
    warning), not integers."""
    if a.dtype == np.uint8:
        warnings.warn("indexing with dtype kernn.uint8 is deprecated (as in torch), please use "
                      "a dtype kernn.bool instead", UserWarning, stacklevel=3)
        return a.astype(np.bool_)
    return a


def _binary(fn, a, b):
    try:
        if _mode.enabled and (getattr(a, "_rg", False) or getattr(b, "_rg", False)):
            return fn.apply(a, b)
        r = fn.forward(_NoGradCtx, a, b)
    except ValueError as exc:
        _raise_if_not_broadcast(fn.__name__.lower(), a, b, exc)
    if type(r) is not np.ndarray:
        r = np.asarray(r)
    return _new(r)


def _elementwise(op, npfn, a, b):
    """npfn(a, b) on torch's promoted operands, for the ops without a gradient (comparisons,
    bitwise)."""
    x, y = _ops.promoted(a, b)
    try:
        return _new_checked(npfn(x, y))
    except ValueError as exc:
        _raise_if_not_broadcast(op, a, b, exc)


def _raise_if_not_broadcast(op, a, b, exc):
    """Re-raises ``exc`` of ``op`` on a and b, as a ValueError naming their shapes when they do
    not broadcast."""
    shapes = [np.shape(_arr(v)) for v in (a, b)]
    if _ops.broadcasts(*shapes):
        raise exc  # not about the shapes
    raise ValueError(f"{op}: the shapes {shapes[0]} and {shapes[1]} do not broadcast (sizes must "
                     "match or be 1, aligned from the last dimension)") from exc


def _to_dtype(args, dtype, device):
    """The dtype that Tensor.to / Module.to's arguments ask for (None: unchanged): positional
    ones are a dtype, a device (kernn.device or its name) or a tensor (its dtype).
    RuntimeError for any device but the CPU."""
    for a in args:
        if isinstance(a, _device) or (isinstance(a, str) and not a.startswith("kernn.")
                                      and a not in _DTYPE_NAMES):
            device = a
        elif isinstance(a, Tensor):
            dtype = a.dtype
        else:
            dtype = a
    if device is not None and not _is_cpu(device):
        raise RuntimeError(f"to: kernn runs on the CPU only, got device {device!r}")
    return dtype


def _as_float(t):
    """t, or t converted to the default float dtype when it holds integers or bools (as torch
    computes exp, log, sqrt, sin and cos of them)."""
    if t._data.dtype.kind == "f":
        return t
    return _new(t._data.astype(_default_float))


def maximum(input, other):
    """Element-wise maximum of two tensors (broadcast; NaN propagates). Where they are equal
    the gradient is split evenly between them, as torch."""
    return _binary(_ops.Maximum, input, other)


def minimum(input, other):
    """Element-wise minimum of two tensors (broadcast; NaN propagates). Where they are equal
    the gradient is split evenly between them, as torch."""
    return _binary(_ops.Minimum, input, other)


def _unary(fn, a, npfn):
    if a._rg and _mode.enabled:
        return fn.apply(a)
    return _new_checked(npfn(a._data))


class _NoGradCtx:
    """The ctx handed to forward when nothing is recorded (binary ops' fast path)."""

    needs_input_grad = (False, False, False, False)


def _extremum(t, dim, keepdim, is_max):
    if dim is None:
        if t._rg and _mode.enabled:
            return _ops.ExtremumAll.apply(t, is_max)
        return _new_checked(_ops.ExtremumAll.forward(_NoGradCtx, t, is_max))
    if t._rg and _mode.enabled:
        vals, idx = _ops.ExtremumDim.apply(t, dim, keepdim, is_max)
    else:
        v, i = _ops.ExtremumDim.forward(_NoGradCtx, t, dim, keepdim, is_max)
        vals, idx = _new_checked(v), _new_checked(i)
    return MaxResult(vals, idx)


def _variance(t, op, dim, unbiased, keepdim, correction):
    if t._data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating tensor, got kernn.{t.dtype.name} (std and "
                        "var only support floating point dtypes)")
    if correction is None:
        correction = 1 if unbiased else 0
    args = (dim, correction, keepdim, op == "std")
    if t._rg and _mode.enabled:
        return _ops.Var.apply(t, *args)
    return _new_checked(_ops.Var.forward(_NoGradCtx, t, *args))


class MaxResult(tuple):
    """(values, indices) of max/min along a dimension, also as .values / .indices."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _arg_extremum(t, dim, keepdim, npfn):
    a = t._data
    op = npfn.__name__
    if dim is None:
        if a.size == 0:  # numpy's "attempt to get argmax of an empty sequence" named no shape
            raise RuntimeError(f"{op}(): expected reduction dim to be specified for a tensor with "
                               f"no elements (shape {a.shape})")
        r = np.asarray(npfn(a.reshape(-1)), dtype=np.int64)
        if keepdim:
            r = r.reshape((1,) * a.ndim)
        return _new(r)
    axis = _ops._norm_dim(dim, a.ndim, op)
    if a.ndim == 0:
        return _new(np.zeros((), dtype=np.int64))
    if a.shape[axis] == 0 and a.size == 0:
        raise IndexError(f"{op}(): expected reduction dim {axis} to have non-zero size, got shape "
                         f"{a.shape}")
    return _new(np.asarray(npfn(a, axis=axis, keepdims=keepdim), dtype=np.int64))


# ---- functions on tensors ------------------------------------------------------------------
def matmul(a, b):
    """Matrix product with torch.matmul's rules (2-D operands run kernn's GEMM)."""
    if not isinstance(a, Tensor):
        a = _new(np.asarray(a))
    if not isinstance(b, Tensor):
        b = _new(np.asarray(b))
    if _mode.enabled and (a._rg or b._rg):
        return _ops.MatMul.apply(a, b)
    return _new_checked(_ops.MatMul.forward(_MatMulCtx(), a, b))


class _MatMulCtx:
    needs_input_grad = (False, False)

    def save_for_backward(self, *arrays):
        pass


def is_tensor(obj):
    """True when obj is a kernn Tensor."""
    return isinstance(obj, Tensor)


# ---- factory functions ---------------------------------------------------------------------
def _size_arg(size, fname):
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    try:
        size = tuple(operator.index(s) for s in size)  # a float raises, as in torch
    except TypeError:
        raise TypeError(f"{fname}: size must be ints or a tuple of ints, got {size!r}") from None
    if any(s < 0 for s in size):
        raise ValueError(f"{fname}: negative dimension in size {size}")
    return size


def _float_dtype(d):
    return _default_float if d is None else _np_dtype(d)


def _finish(arr, requires_grad):
    t = _new(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor copying ``data`` (nested lists, numbers, numpy arrays, tensors).

    Args:
        data: array-like. Python floats give the default dtype (float32), ints give int64,
            bools give bool; numpy arrays keep their dtype.
        dtype (kernn.dtype, optional): the dtype to convert to.
        requires_grad (bool): whether to record operations for backward.

    Example::

        >>> kernn.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    """
    arr = _as_array(data, None if dtype is None else _np_dtype(dtype))
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None):
    """Like tensor(), but shares memory with a numpy array or Tensor when it can."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _np_dtype(dtype) == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype)


def from_numpy(array):
    """Wraps a numpy array in a Tensor without copying: writes to either are seen by both."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in _BY_NUMPY:
        raise TypeError(
            f"from_numpy: can't convert np.ndarray of type {array.dtype}. The only supported "
            f"types are: {', '.join(d.name for d in _ALL_DTYPES)}."
        )
    return _new(array)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of zeros of the given size (float32 unless dtype says otherwise)."""
    return _finish(_memory.zeros(_size_arg(size, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None):
    """A tensor of ones of the given size (float32 unless dtype says otherwise)."""
    return _finish(_memory.full(_size_arg(size, "ones"), 1, _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None):
    """An uninitialised tensor of the given size."""
    return _finish(_memory.empty(_size_arg(size, "empty"), _float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it as torch)."""
    if dtype is None:
        if isinstance(fill_value, builtins.bool):
            nd = np.dtype(np.bool_)
        elif isinstance(fill_value, numbers.Integral):
            nd = np.dtype(np.int64)
        else:
            nd = _default_float
    else:
        nd = _np_dtype(dtype)
    size = _size_arg((size,) if not isinstance(size, (tuple, list, Size)) else (size,), "full")
    return _finish(np.full(size, fill_value, dtype=nd), requires_grad)


def _like_dtype(t, dtype):
    return _np_dtype(dtype) if dtype is not None else t._data.dtype


def zeros_like(t, dtype=None, requires_grad=False):
    return _finish(_memory.zeros(t._data.shape, _like_dtype(t, dtype)), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _finish(_memory.full(t._data.shape, 1, _like_dtype(t, dtype)), requires_grad)


def empty_like(t, dtype=None, requires_grad=False):
    return _finish(_memory.empty(t._data.shape, _like_dtype(t, dtype)), requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return _finish(np.full(t._data.shape, fill_value, dtype=_like_dtype(t, dtype)),
                   requires_grad)


def _gen(generator):
    return generator if generator is not None else _default_generator()


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard-normal samples from kernn's global generator (see kernn.manual_seed)."""
    nd = _float_dtype(dtype)
    if nd.kind != "f":
        raise TypeError(f"randn: dtype must be floating, got {dtype!r}")
    arr = _gen(generator).standard_normal(_size_arg(size, "randn"), dtype=nd)
    return _finish(arr, requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform samples in [0, 1) from kernn's global generator."""
    nd = _float_dtype(dtype)
    if nd.kind != "f":
        raise TypeError(f"rand: dtype must be floating, got {dtype!r}")
    arr = _gen(generator).random(_size_arg(size, "rand"), dtype=nd)
    return _finish(arr, requires_grad)


def _sizes_of(args):
    """The sizes when the arguments of Tensor(...) are sizes (ints, a Size, or none: empty),
    else None (they are data)."""
    if len(args) == 1 and isinstance(args[0], Size):
        return tuple(args[0])
    if not args:
        return (0,)
    if all(isinstance(a, (builtins.int, np.integer)) and not isinstance(a, (builtins.bool,
                                                                            np.bool_))
           for a in args):
        return args
    return None


def _legacy_constructor(name, np_dtype):
    """torch's legacy typed constructors: ``name(data)`` or ``name(*sizes)``."""

    def make(*data):
        sizes = _sizes_of(data)
        if sizes is not None:
            return _new(_memory.empty(_size_arg(sizes, name), np_dtype))
        t = Tensor(*data)
        return t if t._data.dtype == np_dtype else _new(t._data.astype(np_dtype))

    make.__name__ = make.__qualname__ = name
    make.__doc__ = f"As torch.{name}: a {np.dtype(np_dtype).name} tensor from data or sizes."
    return make


FloatTensor = _legacy_constructor("FloatTensor", np.float32)
DoubleTensor = _legacy_constructor("DoubleTensor", np.float64)
LongTensor = _legacy_constructor("LongTensor", np.int64)


def randperm(n, generator=None, dtype=None, requires_grad=False, device=None):
    """A random permutation of 0 .. n - 1 (int64 unless dtype says otherwise), from kernn's
    global generator or ``generator``."""
    if not isinstance(n, (builtins.int, np.integer)) or isinstance(n, builtins.bool) or n < 0:
        raise ValueError(f"randperm: argument 'n' must be a non-negative int, got {n!r}")
    arr = _gen(generator).permutation(builtins.int(n))
    return _finish(arr.astype(_np_dtype(dtype) if dtype is not None else np.int64),
                   requires_grad)


def randn_like(t, dtype=None, requires_grad=False):
    return randn(t._data.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    return rand(t._data.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randint(*args, size=None, dtype=None, generator=None, device=None):
    """Random integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if len(args) < 2:
            raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
        *bounds, size = args
    else:
        bounds = list(args)
    if len(bounds) == 1:
        low, high = 0, bounds[0]
    elif len(bounds) == 2:
        low, high = bounds
    else:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    if high <= low:
        raise ValueError(f"randint: expected low < high, got low={low}, high={high}")
    nd = np.dtype(np.int64) if dtype is None else _np_dtype(dtype)
    arr = _gen(generator).integers(low, high, _size_arg((size,), "randint"))
    return _new(arr.astype(nd, copy=False))


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Values from start to end (exclusive) by step; int64 when all arguments are ints."""
    if end is None:
        start, end = 0, start
    # 0-d tensors as their numbers, so that integer ones give int64 as in torch
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and lower bound inconsistent with step sign "
                         f"(start {start}, end {end}, step {step})")
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        nd = np.dtype(np.int64) if ints else _default_float
    else:
        nd = _np_dtype(dtype)
    return _finish(np.arange(start, end, step, dtype=nd), requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from start to end inclusive."""
    return _finish(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


_autograd._Tensor = Tensor
_autograd._new_tensor = _new
from .ops import tensor_ops as _ops  # noqa: E402  (the ops need Tensor defined first)
