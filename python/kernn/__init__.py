"""kernn: a CPU deep-learning library with C++17/OpenMP kernels and a PyTorch-style API.

    import kernn
    import kernn.nn as nn

    model = nn.Sequential(nn.Linear(784, 500), nn.ReLU(), nn.Linear(500, 10))
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
"""

import warnings as _warnings

import numpy as _np

from . import _C
from ._C import backend_info, get_num_threads, set_num_threads
from . import random
from .random import Generator, manual_seed, seed, get_rng_state, set_rng_state
from .autograd import (
    Function, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)
from .tensor import (  # noqa: A004 - torch's names
    DoubleTensor, FloatTensor, LongTensor, Size, Tensor, arange, as_tensor, bool, double, dtype,
    empty, empty_like, float, float16, float32, float64, from_numpy, full, full_like,
    get_default_dtype, half, int, int8, int16, int32, int64, is_tensor, linspace, long, matmul,
    maximum, minimum, ones, ones_like, rand, rand_like, randint, randn, randn_like, randperm,
    set_default_dtype, tensor, uint8, zeros, zeros_like,
)
from ._device import device
from . import cuda
from .tensor import Tensor as _Tensor
from .ops import tensor_ops as _tensor_ops
from . import nn
from . import utils
from . import optim
from .serialization import load, save
from . import data, datasets
from .nn.functional import relu, sigmoid, softmax, log_softmax, tanh

__version__ = "0.1.0"


def exp(input):
    return input.exp()


def log(input):
    return input.log()


def sqrt(input):
    return input.sqrt()


def sin(input):
    return input.sin()


def cos(input):
    return input.cos()


def round(input, decimals=0):  # noqa: A001
    return input.round(decimals)


def isnan(input):
    return input.isnan()


def abs(input):  # noqa: A001
    return input.abs()


def neg(input):
    return -input


def pow(input, exponent):  # noqa: A001
    return input ** exponent


def clamp(input, min=None, max=None):  # noqa: A002
    return input.clamp(min, max)


def clamp_min(input, min):  # noqa: A002
    return input.clamp(min=min)


def clamp_max(input, max):  # noqa: A002
    return input.clamp(max=max)


clip = clamp


def sum(input, dim=None, keepdim=False, dtype=None):  # noqa: A001
    return input.sum(dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, dtype=None):
    return input.mean(dim, keepdim, dtype=dtype)


def max(input, dim=None, keepdim=False):  # noqa: A001
    """max(t) -> the largest element; max(t, dim) -> (values, indices); max(t, other_tensor)
    -> maximum(t, other_tensor), as torch.max."""
    return input.max(dim, keepdim)


def min(input, dim=None, keepdim=False):  # noqa: A001
    """min(t) -> the smallest element; min(t, dim) -> (values, indices); min(t, other_tensor)
    -> minimum(t, other_tensor), as torch.min."""
    return input.min(dim, keepdim)


def norm(input, p=2, dim=None, keepdim=False):
    return input.norm(p, dim, keepdim)


def argmax(input, dim=None, keepdim=False):
    return input.argmax(dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return input.argmin(dim, keepdim)


def bincount(input, weights=None, minlength=0):
    return input.bincount(weights, minlength)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    return input.unique(sorted, return_inverse, return_counts, dim)


def reshape(input, shape):
    return input.reshape(shape)


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


def transpose(input, dim0, dim1):
    return input.transpose(dim0, dim1)


def permute(input, dims):
    return input.permute(dims)


def unsqueeze(input, dim):
    return input.unsqueeze(dim)


def squeeze(input, dim=None):
    return input.squeeze(dim)


def numel(input):
    return input.numel()


def mm(input, mat2):
    return matmul(input, mat2)


def _norm_cat_dim(tensors, dim, ndim, fname):
    """dim in [0, ndim) from dim in [-ndim, ndim); IndexError otherwise (torch's)."""
    if not tensors:
        raise ValueError(f"{fname}: expected a non-empty list of tensors")
    for t in tensors:
        if not isinstance(t, _Tensor):
            raise TypeError(f"{fname}: expected a sequence of Tensors, got {type(t).__name__}")
    if not -ndim <= dim < ndim:
        raise IndexError(f"{fname}: dimension {dim} out of range (expected to be in range of "
                         f"[{-ndim}, {ndim - 1}]) for tensors of shapes "
                         f"{[tuple(t.shape) for t in tensors]}")
    return dim % ndim


def cat(tensors, dim=0):
    """Concatenates tensors along an existing dimension (differentiable)."""
    tensors = tuple(tensors)
    nd = tensors[0].ndim if tensors and isinstance(tensors[0], _Tensor) else 1
    if nd == 0:
        raise ValueError("cat: zero-dimensional tensor (of shape ()) cannot be concatenated")
    d = _norm_cat_dim(tensors, dim, nd, "cat")
    try:
        return _tensor_ops.Cat.apply(d, *tensors)
    except ValueError as exc:
        raise ValueError(f"cat: sizes of tensors must match except in dimension {dim}; got "
                         f"shapes {[tuple(t.shape) for t in tensors]}") from exc


def stack(tensors, dim=0):
    """Stacks same-shape tensors along a new dimension (differentiable)."""
    tensors = tuple(tensors)
    nd = tensors[0].ndim + 1 if tensors and isinstance(tensors[0], _Tensor) else 1
    d = _norm_cat_dim(tensors, dim, nd, "stack")
    try:
        return _tensor_ops.Stack.apply(d, *tensors)
    except ValueError as exc:
        raise ValueError(f"stack: expects each tensor to be equal size, got shapes "
                         f"{[tuple(t.shape) for t in tensors]}") from exc


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors, as torch.meshgrid (differentiable).

    With n tensors of sizes s_1 .. s_n, every output has shape (s_1, ..., s_n) for
    indexing="ij", or (s_2, s_1, s_3, ..., s_n) for indexing="xy" (numpy's and matplotlib's
    Cartesian order); output i holds tensors[i] along its own dimension. torch warns when
    indexing is not given and uses "ij"; so does kernn, without the warning.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: argument 'indexing' must be 'ij' or 'xy', got {indexing!r}")
    if not tensors:
        raise ValueError("meshgrid: expected at least one tensor")
    for i, t in enumerate(tensors):
        if not isinstance(t, _Tensor) or t.ndim > 1:
            raise ValueError(f"meshgrid: expected 0-D or 1-D tensors, got "
                             f"{type(t).__name__ if not isinstance(t, _Tensor) else tuple(t.shape)}"
                             f" for tensor {i}")
    dims = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        dims[0], dims[1] = 1, 0
    shape = [0] * len(tensors)
    for t, d in zip(tensors, dims):
        shape[d] = t.numel()
    grids = []
    for t, d in zip(tensors, dims):
        along = [1] * len(tensors)
        along[d] = -1
        grids.append(t.reshape(along).expand(shape))
    return tuple(grids)


def where(condition, input, other):
    """Elements of input where the bool ``condition`` holds, else of other (differentiable in
    both). A uint8 condition is taken as bool with torch's deprecation warning."""
    c = _np.asarray(_tensor_ops._arr(condition))
    if c.dtype != _np.bool_:
        if c.dtype != _np.uint8:
            raise RuntimeError(f"where: expected condition to be a bool tensor, got {c.dtype} of "
                               f"shape {c.shape}")
        _warnings.warn("where received a uint8 condition tensor (deprecated, as in torch); use a "
                       "bool condition", UserWarning, stacklevel=2)
        condition = c.astype(_np.bool_)
    return _tensor_ops.Where.apply(condition, input, other)


def allclose(input, other, rtol=1e-5, atol=1e-8):
    return input.allclose(other, rtol, atol)


def equal(input, other):
    return input.equal(other)
