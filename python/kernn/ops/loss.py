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
    """An autograd Function for loss = kernel(scores, target, *options) of class-index
    targets, where only the scores get a gradient: forward_kernel(scores, target, *options) and
    backward_kernel(scores, target, dloss, *options), options being the reduction and then
    the loss's own (ignore_index, weight, label_smoothing; ignore_index, weight)."""

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


def _element_loss_function(name, doc, forward_kernel, backward_kernel, target_grad):
    """An autograd Function for loss = kernel(x, target, reduction, *options) of x and a target
    of its shape (MSE, L1, smooth L1, Huber, the binary cross-entropies), where both may
    require grad: the backward kernel gives dx, and
    target_grad(dx, x, target, dloss, reduction, *options) the target's. The options (beta,
    delta; weight, pos_weight) get none."""

    def forward(ctx, x, target, reduction, *options):
        xa = c_contiguous(x._data)
        ta = c_contiguous(target._data)
        ctx.save_for_backward(xa, ta)
        ctx.reduction = reduction
        ctx.options = options
        return forward_kernel(xa, ta, reduction, *options)

    def backward(ctx, dloss):
        xa, ta = ctx.saved_tensors
        d = _dloss(dloss, xa.dtype)
        dx = backward_kernel(xa, ta, d, ctx.reduction, *ctx.options)
        need = ctx.needs_input_grad
        dt = target_grad(dx, xa, ta, d, ctx.reduction, *ctx.options) if need[1] else None
        return ((dx if need[0] else None), dt, None) + (None,) * len(ctx.options)

    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward), "__doc__": doc})


def _difference_target_grad(dx, *_):
    """The target's gradient of a loss of x - target: -dx."""
    return -dx


def _bce_target_grad(dp, p, t, dloss, reduction, weight):
    """torch's binary_cross_entropy_target_backward: -logit(p) * dloss * weight, / numel for
    'mean'. Unlike the loss the logit is not clamped: +-inf at p = 0 and 1, as torch's."""
    with np.errstate(divide="ignore"):
        return _scaled_target_grad(-np.log(p / (1 - p)), dloss, reduction, weight)


def _bce_with_logits_target_grad(dx, x, t, dloss, reduction, weight, pos_weight):
    """torch's binary_cross_entropy_with_logits_target_backward: (log_sigmoid(-x) -
    pos_weight * log_sigmoid(x)) * dloss, or -x * dloss without pos_weight; times weight, /
    numel for 'mean'."""
    if pos_weight is None:
        g = -x
    else:
        g = _C.log_sigmoid_forward(-x) - _C.log_sigmoid_forward(x) * pos_weight
    return _scaled_target_grad(g, dloss, reduction, weight)


def _scaled_target_grad(g, dloss, reduction, weight):
    """g * dloss * weight (weight None: 1), / g.size for 'mean', in torch's order. inf * 0 is
    NaN, as in torch, without numpy's warning."""
    with np.errstate(invalid="ignore"):
        g = g * dloss
        if weight is not None:
            g *= weight
    if reduction == "mean":
        g /= g.size
    return g


MSEFunction = _element_loss_function(
    "MSEFunction", "(x, target of x's shape, reduction) -> mean/sum/none of (x - target)^2.",
    _C.mse_forward, _C.mse_backward, _difference_target_grad)
L1Function = _element_loss_function(
    "L1Function", "(x, target of x's shape, reduction) -> mean/sum/none of |x - target|.",
    _C.l1_forward, _C.l1_backward, _difference_target_grad)
SmoothL1Function = _element_loss_function(
    "SmoothL1Function", "(x, target, reduction, beta) -> smooth L1 of x - target.",
    _C.smooth_l1_forward, _C.smooth_l1_backward, _difference_target_grad)
HuberFunction = _element_loss_function(
    "HuberFunction", "(x, target, reduction, delta) -> Huber loss of x - target.",
    _C.huber_forward, _C.huber_backward, _difference_target_grad)
BCEFunction = _element_loss_function(
    "BCEFunction",
    "(probabilities p, target of p's shape, reduction, weight of p's shape or None) -> loss; "
    "log clamped at -100 as torch.",
    _C.bce_forward, _C.bce_backward, _bce_target_grad)
BCEWithLogitsFunction = _element_loss_function(
    "BCEWithLogitsFunction",
    "(logits x, target of x's shape, reduction, weight and pos_weight of x's shape or None) -> "
    "loss of sigmoid(x), computed stably.",
    _C.bce_with_logits_forward, _C.bce_with_logits_backward, _bce_with_logits_target_grad)
