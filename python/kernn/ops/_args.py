"""Argument checks and helpers shared by the op families (conv, pool, norm, functional)."""

from __future__ import annotations

from ..autograd import _mode
from ..tensor import Tensor


def _pair(value, op, arg):
    """(h, w) from an int or a sequence of one or two ints."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: argument '{arg}' must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int) or hasattr(value, "__index__"):
        v = int(value)
        return (v, v)
    try:
        items = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: argument '{arg}' must be an int or a pair of ints, "
                        f"got {value!r}") from None
    if len(items) == 1:
        return items * 2
    if len(items) != 2:
        raise ValueError(f"{op}: argument '{arg}' must be an int or a pair of ints, got {value!r}")
    return items


def _single(value, op, arg):
    """(v,) from an int or a sequence of one int: the 1-D ops' sizes."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: argument '{arg}' must be an int or a 1-tuple, got {value!r}")
    if isinstance(value, int) or hasattr(value, "__index__"):
        return (int(value),)
    try:
        items = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: argument '{arg}' must be an int or a 1-tuple, got "
                        f"{value!r}") from None
    if len(items) != 1:
        raise ValueError(f"{op}: argument '{arg}' must be an int or a 1-tuple, got {value!r}")
    return items


def _height_one(input, op):
    """A (N, C, L) or (C, L) input as (N, C, 1, L) or (C, 1, L): the 1-D convolution and
    pooling run the 2-D kernels over a height of 1 (a view; gradients flow through it)."""
    _check_float_tensor(input, op, "input")
    if input._data.ndim not in (2, 3):
        raise ValueError(f"{op}: expected 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{tuple(input._data.shape)}")
    return input.unsqueeze(-2)


def _check_tensor(t, op, arg):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: argument '{arg}' must be a kernn.Tensor, got {type(t).__name__}")


def _check_float_tensor(t, op, arg):
    _check_tensor(t, op, arg)
    if t._data.dtype.kind != "f":
        raise TypeError(f"{op}: argument '{arg}' must be a float32 or float64 tensor, got "
                        f"kernn.{t.dtype.name}")


def _records(*tensors):
    """Whether an op on ``tensors`` (None allowed) goes on the autograd graph."""
    if not _mode.enabled:
        return False
    for t in tensors:
        if t is not None and t._rg:
            return True
    return False
