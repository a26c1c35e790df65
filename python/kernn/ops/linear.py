"""Linear layers as single GEMM calls: y = x W^T + b, optionally fused with ReLU.

Forward is one kernn._C.linear (the GEMM with trans_b and the bias in its epilogue); backward is
dX = dY W, dW = dY^T X (gemm with trans_a) and db = column sums of dY (bias_grad). The fused
Linear+ReLU runs the ReLU in the GEMM epilogue and, in backward, masks dY by y > 0, which is
exactly the unfused pair's gradient because y > 0 exactly where x W^T + b > 0.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from .. import _C
from . import c_contiguous


class LinearFunction(Function):
    """(x (N, in), weight (out, in), bias (out,) or None, relu) -> (N, out): x W^T + b, with
    max(., 0) applied in the GEMM's epilogue when relu is True."""

    @staticmethod
    def forward(ctx, x, weight, bias, relu):
        xa = np.ascontiguousarray(x._data)
        wa = np.ascontiguousarray(weight._data)
        y = _C.linear(xa, wa, None if bias is None else c_contiguous(bias._data), relu)
        ctx.save_for_backward(xa, wa, y if relu else None)
        return y

    @staticmethod
    def backward(ctx, dy):
        xa, wa, relu_output = ctx.saved_tensors
        dz = np.ascontiguousarray(dy)
        if relu_output is not None:
            dz = _C.relu_backward(relu_output, dz)
        return (*_linear_grads(ctx.needs_input_grad, dz, xa, wa), None)


def _linear_grads(need, dy, xa, wa):
    dx = _C.gemm(dy, wa) if need[0] else None
    dw = _C.gemm(dy, xa, trans_a=True) if need[1] else None
    db = _C.bias_grad(dy) if need[2] else None
    return dx, dw, db
