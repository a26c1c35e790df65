"""Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_.

Both change each ``p.grad`` in place, in its own array: an optimizer that holds the gradient
arrays sees the clipped values. The arithmetic follows torch's step by step in each gradient's
dtype (a float32 gradient's norm is accumulated in float32, as torch accumulates it, so it
overflows to inf where torch's does), and the clip coefficient is rounded as torch rounds it,
so float32 gradients are scaled by the same factor, bit for bit.
"""

from __future__ import annotations

import math
import types
import warnings

import numpy as np

from ... import _memory
from ...ops.tensor_ops import vector_norm
from ...tensor import Tensor, _new, get_default_dtype

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scales the gradients of ``parameters`` in place so that their total norm is at most
    ``max_norm``.

    The total norm is the ``norm_type`` norm of the vector of the gradients' norms (the norm of
    all gradients concatenated). Each gradient is multiplied by
    ``min(max_norm / (total_norm + 1e-6), 1)``; gradients that are None are skipped.

    Args:
        parameters (Tensor or iterable of Tensors): the tensors whose ``.grad`` is clipped.
        max_norm (float): the largest total norm left after clipping.
        norm_type (float): p of the p-norm; ``float('inf')`` (or ``'inf'``) for the largest
            absolute value. Default: 2.0.
        error_if_nonfinite (bool): raise RuntimeError, leaving the gradients unchanged, when
            the total norm is nan or +-inf. Default: False (the gradients are scaled by the
            non-finite coefficient, as torch does).
        foreach (bool, optional): accepted for torch compatibility; kernn has one
            implementation, vectorised over each gradient.

    Returns:
        Tensor: the total norm of the gradients before clipping, 0-d, of the gradients' dtype
        (float64 when the dtypes are mixed; the default dtype when there are no gradients).

    Example::

        >>> loss.backward()
        >>> kernn.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> optimizer.step()
    """
    if isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)
        if not parameters:
            warnings.warn("clip_grad_norm_: `parameters` is an empty generator, no gradient "
                          "clipping will occur.", UserWarning, stacklevel=2)
    max_norm, norm_type = float(max_norm), float(norm_type)
    grads = _grad_arrays("clip_grad_norm_", parameters)
    if not grads:
        return _new(_memory.zeros((), get_default_dtype().numpy))
    # torch computes inf and nan norms (and scales by them) silently; error_if_nonfinite is how
    # one asks about them, so numpy's overflow and invalid-value warnings are noise here.
    with np.errstate(all="ignore"):
        norms = [_vector_norm(g, norm_type) for g in grads]
        total_norm = _vector_norm(np.array(norms, dtype=np.result_type(*norms)), norm_type)
        if error_if_nonfinite and not np.isfinite(total_norm):
            raise RuntimeError(
                f"clip_grad_norm_: the total norm of order {norm_type} of the gradients from "
                f"`parameters` is {total_norm}, non-finite, so it cannot be clipped. To scale "
                f"the gradients by the non-finite norm anyway, set error_if_nonfinite=False")
        scalar = total_norm.dtype.type
        one = scalar(1)
        # torch's max_norm / (total_norm + 1e-6) is reciprocal(total_norm + 1e-6) * max_norm
        # (Tensor.__rtruediv__), two roundings where one division would differ by an ulp.
        coefficient = np.minimum(one / (total_norm + scalar(1e-6)) * scalar(max_norm), one)
        # A factor of exactly 1 leaves every value as it is: skip the pass over the gradients.
        if coefficient != 1:
            for g in grads:
                np.multiply(g, g.dtype.type(coefficient), out=g)
    return _new(_memory.full((), total_norm, total_norm.dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps the gradients of ``parameters`` in place to [-clip_value, clip_value].

    Gradients that are None are skipped; nan stays nan. A negative ``clip_value`` sets every
    gradient value to ``clip_value``, as torch's clamp does when min > max.

    Args:
        parameters (Tensor or iterable of Tensors): the tensors whose ``.grad`` is clipped.
        clip_value (float): the largest absolute gradient value left.
        foreach (bool, optional): accepted for torch compatibility; kernn has one
            implementation, vectorised over each gradient.

    Example::

        >>> loss.backward()
        >>> kernn.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    clip_value = float(clip_value)
    for g in _grad_arrays("clip_grad_value_", parameters):
        bound = g.dtype.type(clip_value)
        np.clip(g, -bound, bound, out=g)


def _grad_arrays(op, parameters):
    """The arrays of the gradients of ``parameters`` (a Tensor or an iterable of Tensors) that
    are not None."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    arrays = []
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: argument 'parameters' must be a Tensor or an iterable of "
                            f"Tensors, got an element of type {type(p).__name__}")
        if p.grad is not None:
            arrays.append(p.grad._data)
    return arrays


def _vector_norm(array, norm_type):
    """vector_norm of a whole gradient, refusing the norms an empty one has no value for."""
    if array.size == 0 and (norm_type < 0 or norm_type == math.inf):
        raise RuntimeError(f"clip_grad_norm_: cannot take the {norm_type} norm of a gradient "
                           f"with no elements (shape {tuple(array.shape)}): that norm has no "
                           f"value for an empty vector")
    return vector_norm(array, norm_type)
