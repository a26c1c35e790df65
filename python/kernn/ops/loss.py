"""Loss Functions on kernn._C's fused loss kernels (forward and backward in one pass each).

The kernels take (N, C) scores and (N,) int64 class targets (or (N, C) class probabilities);
torch's (N, C, d1, ...) layout is reshaped to (N * d1 * ..., C) with the class axis moved last.
Weights are numpy arrays the kernels read as they are: (C,) per class, or broadcast to the
input's shape by the caller for the binary cross-entropies.
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


def _loss_function(name, doc, forward_kernel, backward_kernel):
    """An autograd Function for loss = kernel(scores, target, *options) where only the scores
    get a gradient: forward_kernel(scores, target, *options) and
    backward_kernel(scores, target, dloss, *options), options being the reduction and then
    the loss's own (ignore_index, weight, label_smoothing; weight; weight, pos_weight)."""

    def forward(ctx, scores, target, *options):
        sa = c_contiguous(scores._data)
        ta = c_contiguous(target)
        ctx.save_for_backward(sa, ta)
        ctx.options = options
        return forward_kernel(sa, ta, *options)

    def backward(ctx, dloss):
        sa, ta = ctx.saved_tensors
        d = backward_kernel(sa, ta, _dloss(dloss, sa.dtype), *ctx.options)
        return (d, None) + (None,) * len(ctx.options)

    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward), "__doc__": doc})


CrossEntropyFunction = _loss_function(
    "CrossEntropyFunction",
    "(logits (N, C), target int64 (N,), reduction, ignore_index, weight (C,) or None, "
    "label_smoothing) -> loss (0-d, or (N,) for reduction='none'), through log-sum-exp.",
    _C.cross_entropy_forward, _C.cross_entropy_backward)
NLLLossFunction = _loss_function(
    "NLLLossFunction",
    "(log-probabilities (N, C), target int64 (N,), reduction, ignore_index, weight (C,) or "
    "None) -> loss.",
    _C.nll_loss_forward, _C.nll_loss_backward)
BCEFunction = _loss_function(
    "BCEFunction",
    "(probabilities p, target of p's shape, reduction, weight of p's shape or None) -> loss; "
    "log clamped at -100 as torch.",
    _C.bce_forward, _C.bce_backward)
BCEWithLogitsFunction = _loss_function(
    "BCEWithLogitsFunction",
    "(logits x, target of x's shape, reduction, weight and pos_weight of x's shape or None) -> "
    "loss of sigmoid(x), computed stably.",
    _C.bce_with_logits_forward, _C.bce_with_logits_backward)


class CrossEntropySoftFunction(Function):
    """(logits (N, C), class probabilities (N, C), reduction, weight (C,) or None,
    label_smoothing) -> loss; the target gets a gradient too when it requires one, as torch's."""

    @staticmethod
    def forward(ctx, logits, target, reduction, weight, label_smoothing):
        xa = c_contiguous(logits._data)
        ta = c_contiguous(target._data)
        ctx.save_for_backward(xa, ta)
        ctx.options = (reduction, weight, label_smoothing)
        return _C.cross_entropy_soft_forward(xa, ta, *ctx.options)

    @staticmethod
    def backward(ctx, dloss):
        xa, ta = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx, dt = _C.cross_entropy_soft_backward(xa, ta, _dloss(dloss, xa.dtype), *ctx.options,
                                                target_grad=need[1])
        return (dx if need[0] else None), dt, None, None, None


def _difference_loss_function(name, doc, forward_kernel, backward_kernel):
    """An autograd Function for loss = kernel(x, target, reduction, *options) of d = x - target
    (MSE, L1, smooth L1, Huber), where both x and target may require grad: the backward kernel
    gives dx, and the target's gradient is -dx. The options (beta, delta) get none."""

    def forward(ctx, x, target, reduction, *options):
        xa = c_contiguous(x._data)
        ta = c_contiguous(target._data)
        ctx.save_for_backward(xa, ta)
        ctx.reduction = reduction
        ctx.options = options
        return forward_kernel(xa, ta, reduction, *options)

    def backward(ctx, dloss):
        xa, ta = ctx.saved_tensors
        dx = backward_kernel(xa, ta, _dloss(dloss, xa.dtype), ctx.reduction, *ctx.options)
        need = ctx.needs_input_grad
        return ((dx if need[0] else None), (-dx if need[1] else None), None) + (None,) * len(
            ctx.options)

    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward), "__doc__": doc})


MSEFunction = _difference_loss_function(
    "MSEFunction", "(x, target of x's shape, reduction) -> mean/sum/none of (x - target)^2.",
    _C.mse_forward, _C.mse_backward)
L1Function = _difference_loss_function(
    "L1Function", "(x, target of x's shape, reduction) -> mean/sum/none of |x - target|.",
    _C.l1_forward, _C.l1_backward)
SmoothL1Function = _difference_loss_function(
    "SmoothL1Function", "(x, target, reduction, beta) -> smooth L1 of x - target.",
    _C.smooth_l1_forward, _C.smooth_l1_backward)
HuberFunction = _difference_loss_function(
    "HuberFunction", "(x, target, reduction, delta) -> Huber loss of x - target.",
    _C.huber_forward, _C.huber_backward)
