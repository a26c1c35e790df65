"""Arrays whose data starts on a 64-byte boundary, for the arrays kernn keeps and its kernels
stream: parameters and buffers, optimizer state, and the tensors of kernn.zeros / ones / empty
(and their _like forms), as torch's allocator aligns its tensors.

numpy's allocator aligns to 16 bytes, so a float32 array usually starts in the middle of a
cache line and every 64-byte (AVX-512) load of it straddles two lines: the batch-1 784 x 500
layer, which reads its weights from L2, took 1.12-1.18x as long at 2 threads. Every array a
kernel returns is aligned already (``kernn._C.aligned_empty``, which these wrap). The arrays
are ordinary C-contiguous numpy arrays; only their ``base`` is the capsule that owns the memory.
"""

from __future__ import annotations

import operator

import numpy as np

from . import _C


def _shape(shape):
    # operator.index, as numpy takes extents: a float extent is a TypeError, not truncated
    if isinstance(shape, (int, np.integer)):
        return [operator.index(shape)]
    return [operator.index(s) for s in shape]


def empty(shape, dtype):
    """An uninitialised aligned array (like ``np.empty``)."""
    return _C.aligned_empty(np.dtype(dtype), _shape(shape))


def full(shape, fill_value, dtype):
    """An aligned array filled with ``fill_value`` (like ``np.full``)."""
    out = empty(shape, dtype)
    out.fill(fill_value)
    return out


def zeros(shape, dtype):
    """An aligned array of zeros (like ``np.zeros``)."""
    return full(shape, 0, dtype)


def aligned(array):
    """``array`` itself when it is C-contiguous and aligned, else an aligned copy of it."""
    if array.flags.c_contiguous and array.ctypes.data % 64 == 0:
        return array
    return copy(array)


def copy(array, dtype=None):
    """An aligned C-contiguous copy of ``array``, cast to ``dtype`` when given (like
    ``np.array(array, dtype, order="C", copy=True)``)."""
    array = np.asarray(array)
    out = empty(array.shape, array.dtype if dtype is None else dtype)
    np.copyto(out, array, casting="unsafe")
    return out
