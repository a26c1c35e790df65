"""Pooling Functions on kernn._C's direct kernels: max (with indices), average, adaptive average.

Geometry arguments arrive as (h, w) pairs (nn.functional normalises them).
"""

from __future__ import annotations

from .. import _C
from ..autograd import Function
from ..tensor import _new
from . import c_contiguous
from ._args import _check_float_tensor, _height_one, _pair, _records, _single


class MaxPool2dFunction(Function):
    """x (N, C, H, W) or (C, H, W) -> (output, indices); indices (int64) never require grad."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode):
        y, indices = _C.max_pool2d_forward(c_contiguous(x._data), kernel_size, stride, padding,
                                           dilation, ceil_mode)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(indices)
            ctx.input_shape = x._data.shape
        return y, indices

    @staticmethod
    def backward(ctx, dy, dindices):
        (indices,) = ctx.saved_tensors
        dx = _C.max_pool2d_backward(c_contiguous(dy), indices, ctx.input_shape)
        return dx, None, None, None, None, None


class AvgPool2dFunction(Function):
    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
        args = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        y = _C.avg_pool2d_forward(c_contiguous(x._data), *args)
        ctx.args = args
        ctx.input_shape = x._data.shape
        return y

    @staticmethod
    def backward(ctx, dy):
        dx = _C.avg_pool2d_backward(c_contiguous(dy), ctx.input_shape, *ctx.args)
        return (dx,) + (None,) * 6


class AdaptiveAvgPool2dFunction(Function):
    @staticmethod
    def forward(ctx, x, output_size):
        ctx.input_shape = x._data.shape
        return _C.adaptive_avg_pool2d_forward(c_contiguous(x._data), output_size)

    @staticmethod
    def backward(ctx, dy):
        return _C.adaptive_avg_pool2d_backward(c_contiguous(dy), ctx.input_shape), None


# ---- the functional interface (exported by kernn.nn.functional) ------------------------------
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling, as torch.nn.functional.max_pool2d.

    Args:
        input (Tensor): (N, C, H, W) or (C, H, W).
        kernel_size, stride (default kernel_size), padding, dilation: int or (int, int);
            padding at most half the kernel (implicit -inf padding).
        ceil_mode (bool): ceil instead of floor in the output size (the last window must
            start inside the input or the left padding).
        return_indices (bool): also return the int64 indices h*W + w of each maximum.

    Shape:
        output (N, C, Ho, Wo), Ho = (H + 2*padding - dilation*(k-1) - 1) / stride + 1,
        rounded down (up with ceil_mode).

    Example::

        >>> kernn.nn.functional.max_pool2d(kernn.randn(1, 3, 8, 8), 2).shape
        kernn.Size([1, 3, 4, 4])
    """
    op = "max_pool2d"
    _check_float_tensor(input, op, "input")
    k = _pair(kernel_size, op, "kernel_size")
    s = k if stride is None or (hasattr(stride, "__len__") and len(stride) == 0) \
        else _pair(stride, op, "stride")
    args = (k, s, _pair(padding, op, "padding"), _pair(dilation, op, "dilation"), bool(ceil_mode))
    if _records(input):
        y, indices = MaxPool2dFunction.apply(input, *args)
    else:
        ya, ia = _C.max_pool2d_forward(c_contiguous(input._data), *args)
        y, indices = _new(ya), _new(ia)
    return (y, indices) if return_indices else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling, as torch.nn.functional.avg_pool2d.

    Args:
        input (Tensor): (N, C, H, W) or (C, H, W).
        kernel_size, stride (default kernel_size), padding: int or (int, int).
        ceil_mode (bool): ceil instead of floor in the output size.
        count_include_pad (bool): divide by the window size including zero padding.
        divisor_override (int, optional): divide by this instead.

    Shape:
        output (N, C, Ho, Wo), Ho = (H + 2*padding - k) / stride + 1 (floor, or ceil).

    Example::

        >>> kernn.nn.functional.avg_pool2d(kernn.ones(1, 1, 4, 4), 2)
        tensor([[[[1., 1.],
                  [1., 1.]]]])
    """
    op = "avg_pool2d"
    _check_float_tensor(input, op, "input")
    k = _pair(kernel_size, op, "kernel_size")
    s = k if stride is None or (hasattr(stride, "__len__") and len(stride) == 0) \
        else _pair(stride, op, "stride")
    args = (k, s, _pair(padding, op, "padding"), bool(ceil_mode), bool(count_include_pad),
            None if divisor_override is None else int(divisor_override))
    if _records(input):
        return AvgPool2dFunction.apply(input, *args)
    return _new(_C.avg_pool2d_forward(c_contiguous(input._data), *args))


def _height_one_window(op, kernel_size, stride, padding):
    """The 1-D pools' (k,), (s,), (p,) as the 2-D pools' (1, k), (1, s), (0, p)."""
    k = _single(kernel_size, op, "kernel_size")[0]
    s = k if stride is None or (hasattr(stride, "__len__") and len(stride) == 0) \
        else _single(stride, op, "stride")[0]
    return (1, k), (1, s), (0, _single(padding, op, "padding")[0])


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling, as torch.nn.functional.max_pool1d: max_pool2d over a height of 1.

    Args:
        input (Tensor): (N, C, L) or (C, L).
        kernel_size, stride (default kernel_size), padding, dilation: int or (int,); padding
            at most half the kernel (implicit -inf padding).
        ceil_mode (bool): ceil instead of floor in the output size.
        return_indices (bool): also return the int64 position along L of each maximum.

    Shape:
        output (N, C, Lo), Lo = (L + 2*padding - dilation*(k-1) - 1) / stride + 1, rounded
        down (up with ceil_mode).
    """
    op = "max_pool1d"
    x = _height_one(input, op)
    k, s, p = _height_one_window(op, kernel_size, stride, padding)
    out = max_pool2d(x, k, s, p, (1, _single(dilation, op, "dilation")[0]), ceil_mode,
                     return_indices)
    if return_indices:  # h * W + w with h = 0: the position along L, as torch's
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling, as torch.nn.functional.avg_pool1d: avg_pool2d over a height of 1.

    Args:
        input (Tensor): (N, C, L) or (C, L).
        kernel_size, stride (default kernel_size), padding: int or (int,).
        ceil_mode (bool): ceil instead of floor in the output size.
        count_include_pad (bool): divide by the window size including zero padding.

    Shape:
        output (N, C, Lo), Lo = (L + 2*padding - k) / stride + 1 (floor, or ceil).
    """
    op = "avg_pool1d"
    x = _height_one(input, op)
    k, s, p = _height_one_window(op, kernel_size, stride, padding)
    return avg_pool2d(x, k, s, p, ceil_mode, count_include_pad).squeeze(-2)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size, as torch.nn.functional.adaptive_avg_pool2d.

    Args:
        input (Tensor): (N, C, H, W) or (C, H, W).
        output_size (int or (int or None, int or None)): (Ho, Wo); None keeps that input size.

    Shape:
        output (N, C, Ho, Wo); cell o of an axis of length n averages
        [floor(o*n/Ho), ceil((o+1)*n/Ho)).

    Example::

        >>> kernn.nn.functional.adaptive_avg_pool2d(kernn.randn(2, 8, 7, 7), 1).shape
        kernn.Size([2, 8, 1, 1])
    """
    op = "adaptive_avg_pool2d"
    _check_float_tensor(input, op, "input")
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        shape = input._data.shape
        size = tuple(shape[-2 + i] if v is None else int(v) for i, v in enumerate(output_size))
    else:
        size = _pair(output_size, op, "output_size")
    if _records(input):
        return AdaptiveAvgPool2dFunction.apply(input, size)
    return _new(_C.adaptive_avg_pool2d_forward(c_contiguous(input._data), size))
