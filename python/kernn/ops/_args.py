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
