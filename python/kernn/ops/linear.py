"""Linear layers as single kernel calls: y = x W^T + b, optionally fused with ReLU.

Forward is one kernn._C.linear (the GEMM with trans_b and the bias in its epilogue); backward is
one kernn._C.linear_backward: dX = dY W, dW = dY^T X and db = column sums of dY. The fused
Linear+ReLU runs the ReLU in the GEMM epilogue and, in backward, masks dY by y > 0 in the same
pass as the column sums, which is exactly the unfused pair's gradient because y > 0 exactly
where x W^T + b > 0.
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
        need = ctx.needs_input_grad
        dx, dw, db = _C.linear_backward(np.ascontiguousarray(dy), xa, wa, relu_output,
                                        need[0], need[1], need[2])
        return dx, dw, db, None
