"""EmbeddingFunction on kernn._C's gather / scatter-add kernels, and F.embedding."""

from __future__ import annotations

import numpy as np

from .. import _C
from ..autograd import Function
from ..tensor import _new
from . import c_contiguous
from ._args import _check_float_tensor, _check_tensor, _records


class EmbeddingFunction(Function):
    """(weight (num_embeddings, dim), indices array (*), padding_idx or None) -> (*, dim).

    The gradient of weight is the scatter-add of the output gradient's rows into the rows the
    indices name, row padding_idx left 0; indices are not differentiated."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        wa = c_contiguous(weight._data)
        ctx.save_for_backward(indices)
        ctx.info = (wa.shape[0], padding_idx)
        return _C.embedding_forward(wa, indices)

    @staticmethod
    def backward(ctx, dy):
        (indices,) = ctx.saved_tensors
        num_embeddings, padding_idx = ctx.info
        return (_C.embedding_backward(c_contiguous(dy), indices, num_embeddings, padding_idx),
                None, None)


def _padding_index(padding_idx, num_embeddings, op):
    """padding_idx in [0, num_embeddings) (a negative one counts from the end, as torch), or
    None."""
    if padding_idx is None:
        return None
    if not hasattr(padding_idx, "__index__") or isinstance(padding_idx, bool):
        raise TypeError(f"{op}: argument 'padding_idx' must be an int or None, got "
                        f"{padding_idx!r}")
    index = int(padding_idx)
    if not -num_embeddings <= index < num_embeddings:
        raise ValueError(f"{op}: argument 'padding_idx' is {index}; it must be within "
                         f"num_embeddings = {num_embeddings} (in [{-num_embeddings}, "
                         f"{num_embeddings}))")
    return index % num_embeddings


def _refuse_unsupported(op, max_norm, scale_grad_by_freq, sparse):
    """NotImplementedError naming the first of torch's options kernn does not implement."""
    for name, value, default in (("max_norm", max_norm, None),
                                 ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value != default:
            raise NotImplementedError(f"{op}: argument '{name}'={value!r} is not supported by "
                                      f"kernn (only {name}={default!r})")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Looks up rows of ``weight`` at the integer indices ``input``, as
    torch.nn.functional.embedding.

    The gradient of weight sums the output gradient's rows into the rows looked up (repeated
    indices add up, in index order, so the bits do not depend on the thread count); row
    padding_idx gets no gradient.

    Args:
        input (Tensor): indices of any shape, int64 or int32, each in [0, num_embeddings).
        weight (Tensor): (num_embeddings, embedding_dim), float32 or float64.
        padding_idx (int, optional): a row whose gradient stays 0 (negative: from the end).
        max_norm, scale_grad_by_freq, sparse: torch's options; anything but the defaults
            (None, False, False) raises NotImplementedError. norm_type is unused without
            max_norm.

    Shape:
        output: (*input.shape, embedding_dim).

    Raises:
        IndexError: an index outside [0, num_embeddings), naming it and num_embeddings.

    Example::

        >>> weight = kernn.randn(10, 3)
        >>> kernn.nn.functional.embedding(kernn.tensor([[1, 2], [4, 9]]), weight).shape
        kernn.Size([2, 2, 3])
    """
    op = "embedding"
    _refuse_unsupported(op, max_norm, scale_grad_by_freq, sparse)
    _check_tensor(input, op, "input")
    _check_float_tensor(weight, op, "weight")
    if input._data.dtype not in (np.int64, np.int32):
        raise TypeError(f"{op}: argument 'input' (the indices) must be an int64 or int32 "
                        f"tensor, got kernn.{input.dtype.name}")
    if weight._data.ndim != 2:
        raise ValueError(f"{op}: argument 'weight' has shape {tuple(weight.shape)}; it must be "
                         "2-D (num_embeddings, embedding_dim)")
    padding = _padding_index(padding_idx, weight._data.shape[0], op)
    indices = c_contiguous(input._data)
    if _records(weight):
        return EmbeddingFunction.apply(weight, indices, padding)
    return _new(_C.embedding_forward(c_contiguous(weight._data), indices))
