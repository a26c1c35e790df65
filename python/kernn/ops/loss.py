"""Loss Functions on kernn._C's fused loss kernels (forward and backward in one pass each).

The kernels take (N, C) scores and (N,) int64 class targets; torch's (N, C, d1, ...) layout is
reshaped to (N * d1 * ..., C) with the class axis moved last.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from . import c_contiguous
from .. import _C


def _dloss(dloss, dtype):
    d = np.asarray(dloss)
    if d.dtype != dtype:
        d = d.astype(dtype)
    return c_contiguous(d)


class CrossEntropyFunction(Function):
    """(logits (N, C), target int64 (N,)) -> loss (0-d, or (N,) for reduction='none')."""

    @staticmethod
    def forward(ctx, logits, target, reduction, ignore_index):
        la = c_contiguous(logits._data)
        ta = c_contiguous(target)
        ctx.save_for_backward(la, ta)
        ctx.opts = (reduction, ignore_index)
        return _C.cross_entropy_forward(la, ta, reduction, ignore_index)

    @staticmethod
    def backward(ctx, dloss):
        la, ta = ctx.saved_tensors
        reduction, ignore_index = ctx.opts
        d = _C.cross_entropy_backward(la, ta, _dloss(dloss, la.dtype), reduction, ignore_index)
        return d, None, None, None


class NLLLossFunction(Function):
    """(log-probabilities (N, C), target int64 (N,)) -> loss."""

    @staticmethod
    def forward(ctx, logp, target, reduction, ignore_index):
        la = c_contiguous(logp._data)
        ta = c_contiguous(target)
        ctx.save_for_backward(la, ta)
        ctx.opts = (reduction, ignore_index)
        return _C.nll_loss_forward(la, ta, reduction, ignore_index)

    @staticmethod
    def backward(ctx, dloss):
        la, ta = ctx.saved_tensors
        reduction, ignore_index = ctx.opts
        d = _C.nll_loss_backward(la, ta, _dloss(dloss, la.dtype), reduction, ignore_index)
        return d, None, None, None


class BCEFunction(Function):
    """(probabilities p, target of p's shape) -> loss; log clamped at -100 as torch."""

    @staticmethod
    def forward(ctx, p, target, reduction):
        pa = c_contiguous(p._data)
        ta = c_contiguous(target)
        ctx.save_for_backward(pa, ta)
        ctx.reduction = reduction
        return _C.bce_forward(pa, ta, reduction)

    @staticmethod
    def backward(ctx, dloss):
        pa, ta = ctx.saved_tensors
        return _C.bce_backward(pa, ta, _dloss(dloss, pa.dtype), ctx.reduction), None, None


class BCEWithLogitsFunction(Function):
    """(logits x, target of x's shape) -> loss of sigmoid(x), computed stably."""

    @staticmethod
    def forward(ctx, x, target, reduction):
        xa = c_contiguous(x._data)
        ta = c_contiguous(target)
        ctx.save_for_backward(xa, ta)
        ctx.reduction = reduction
        return _C.bce_with_logits_forward(xa, ta, reduction)

    @staticmethod
    def backward(ctx, dloss):
        xa, ta = ctx.saved_tensors
        d = _C.bce_with_logits_backward(xa, ta, _dloss(dloss, xa.dtype), ctx.reduction)
        return d, None, None


class MSEFunction(Function):
    """(x, target of x's shape) -> mean/sum/none of (x - target)^2; target may require grad."""

    @staticmethod
    def forward(ctx, x, target, reduction):
        xa = c_contiguous(x._data)
        ta = c_contiguous(target._data)
        ctx.save_for_backward(xa, ta)
        ctx.reduction = reduction
        return _C.mse_forward(xa, ta, reduction)

    @staticmethod
    def backward(ctx, dloss):
        xa, ta = ctx.saved_tensors
        dx = _C.mse_backward(xa, ta, _dloss(dloss, xa.dtype), ctx.reduction)
        need = ctx.needs_input_grad
        return (dx if need[0] else None), (-dx if need[1] else None), None
