"""Activation Functions (ReLU ... LogSoftmax, ELU ... LogSigmoid) and dropout, on kernn._C's
element-wise kernels.

softmax / log_softmax kernels work over the last dimension; another ``dim`` is moved last,
made contiguous, and moved back.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from . import c_contiguous
from .. import _C


def _elementwise_function(name, forward_kernel, backward_kernel, *, derivative_from_output):
    """An autograd Function for y = f(x, *options) computed by one element-wise kernel.

    ``forward_kernel(x, *options)`` computes y; the backward kernel takes
    ``(saved, dy, *options)`` where saved is the output y when the derivative is cheapest from
    it (sigmoid: y (1 - y); tanh: 1 - y^2) and the input x otherwise. The options (ELU's alpha,
    Hardtanh's bounds, ...) get no gradient. The kernels stay reachable as attributes, for the
    paths that run without recording (nn.functional's inference and in-place paths).
    """

    def forward(ctx, x, *options):
        xa = c_contiguous(x._data)
        y = forward_kernel(xa, *options)
        ctx.save_for_backward(y if derivative_from_output else xa)
        ctx.options = options
        return y

    def backward(ctx, dy):
        (saved,) = ctx.saved_tensors
        # np.asarray: the gradient of a 0-d output can come as a numpy scalar (numpy's
        # arithmetic on 0-d arrays returns scalars), which the kernels do not take.
        return (backward_kernel(saved, c_contiguous(np.asarray(dy)), *ctx.options),) + (
            None,) * len(ctx.options)

    return type(name, (Function,), {"forward": staticmethod(forward),
                                    "backward": staticmethod(backward),
                                    "forward_kernel": staticmethod(forward_kernel),
                                    "__doc__": f"{name[:-len('Function')]} on kernn._C kernels."})


ReLUFunction = _elementwise_function("ReLUFunction", _C.relu_forward, _C.relu_backward,
                                     derivative_from_output=False)
LeakyReLUFunction = _elementwise_function("LeakyReLUFunction", _C.leaky_relu_forward,
                                          _C.leaky_relu_backward, derivative_from_output=False)
SigmoidFunction = _elementwise_function("SigmoidFunction", _C.sigmoid_forward,
                                        _C.sigmoid_backward, derivative_from_output=True)
TanhFunction = _elementwise_function("TanhFunction", _C.tanh_forward, _C.tanh_backward,
                                     derivative_from_output=True)
SoftsignFunction = _elementwise_function("SoftsignFunction", _C.softsign_forward,
                                         _C.softsign_backward, derivative_from_output=False)
# The derivatives below are taken from the input x, as torch's (ELU's from x, not from its
# output: torch uses the output only for the in-place elu_, which kernn does not record).
ELUFunction = _elementwise_function("ELUFunction", _C.elu_forward, _C.elu_backward,
                                    derivative_from_output=False)
GELUFunction = _elementwise_function("GELUFunction", _C.gelu_forward, _C.gelu_backward,
                                     derivative_from_output=False)
SiLUFunction = _elementwise_function("SiLUFunction", _C.silu_forward, _C.silu_backward,
                                     derivative_from_output=False)
SoftplusFunction = _elementwise_function("SoftplusFunction", _C.softplus_forward,
                                         _C.softplus_backward, derivative_from_output=False)
HardtanhFunction = _elementwise_function("HardtanhFunction", _C.hardtanh_forward,
                                         _C.hardtanh_backward, derivative_from_output=False)
LogSigmoidFunction = _elementwise_function("LogSigmoidFunction", _C.log_sigmoid_forward,
                                           _C.log_sigmoid_backward, derivative_from_output=False)


def _to_last(op, a, dim):
    """(a with `dim` moved last and made contiguous, whether it moved, the axis it names: dim
    resolved, None being the last). A 0-d tensor takes dim -1 or 0, as torch."""
    nd = a.ndim
    if dim is None:
        dim = -1
    if not -max(nd, 1) <= dim < max(nd, 1):
        raise IndexError(f"{op}: dimension {dim} out of range for a tensor of shape "
                         f"{tuple(a.shape)}")
    if nd == 0:
        return a.reshape(1), False, 0
    d = dim % nd
    if d == nd - 1:
        return c_contiguous(a), False, d
    return np.ascontiguousarray(np.moveaxis(a, d, -1)), True, d


class _LastDimFunction(Function):
    """y = f(x) over dimension ``dim`` by a kernel pair that works over the last dimension:
    ``dim`` is moved last (and made contiguous) for the kernels and moved back after.
    Subclasses name the op (for errors) and the kernels; backward takes the saved output y."""

    op = None
    forward_kernel = None
    backward_kernel = None

    @classmethod
    def forward(cls, ctx, x, dim):
        a = x._data
        al, moved, d = _to_last(cls.op, a, dim)
        y = cls.forward_kernel(al)
        ctx.save_for_backward(y)
        ctx.info = (d, moved, a.shape)
        if a.ndim == 0:
            return y.reshape(())
        return np.moveaxis(y, -1, d) if moved else y

    @classmethod
    def backward(cls, ctx, dy):
        (y,) = ctx.saved_tensors
        d, moved, shape = ctx.info
        if len(shape) == 0:
            return cls.backward_kernel(y, dy.reshape(1)).reshape(()), None
        dyl = np.ascontiguousarray(np.moveaxis(dy, d, -1)) if moved else c_contiguous(dy)
        dx = cls.backward_kernel(y, dyl)
        return (np.moveaxis(dx, -1, d) if moved else dx), None


class SoftmaxFunction(_LastDimFunction):
    op = "softmax"
    forward_kernel = _C.softmax_forward
    backward_kernel = _C.softmax_backward


class LogSoftmaxFunction(_LastDimFunction):
    op = "log_softmax"
    forward_kernel = _C.log_softmax_forward
    backward_kernel = _C.log_softmax_backward


class DropoutFunction(Function):
    """y = x * mask / (1 - p), mask ~ Bernoulli(1 - p) of shape mask_shape from kernn's
    generator: x's shape for element-wise dropout, (N, C, 1, ...) for channel-wise dropout
    (dropout1d/dropout2d), where each draw keeps or zeroes a whole channel."""

    @staticmethod
    def forward(ctx, x, p, generator, mask_shape):
        a = x._data
        keep = generator.random(mask_shape, dtype=a.dtype) >= p
        scale = a.dtype.type(1.0 / (1.0 - p))
        mask = keep * scale  # float mask: one multiply in forward and in backward
        ctx.save_for_backward(mask)
        return a * mask

    @staticmethod
    def backward(ctx, dy):
        (mask,) = ctx.saved_tensors
        return dy * mask, None, None, None
