"""Conv2dFunction: 2-D convolution on kernn._C's kernels (direct on AVX-512 where it suits,
else im2col + GEMM; cpp/bindings/API.md says which shapes take which).

Forward is conv2d_forward (bias added by the kernel); backward is one conv2d_backward call that
computes only the gradients asked for (input, weight and bias; each sums in a fixed order).
"""

from __future__ import annotations

from .. import _C
from ..autograd import Function
from ..tensor import _new
from . import c_contiguous
from ._args import _check_float_tensor, _height_one, _pair, _records, _single


class Conv2dFunction(Function):
    """(x (N, C, H, W), weight (K, C/groups, kh, kw), bias (K,) or None, stride, padding,
    dilation, groups) -> (N, K, Ho, Wo); stride/padding/dilation are (h, w) pairs."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        xa = c_contiguous(x._data)
        wa = c_contiguous(weight._data)
        ba = None if bias is None else c_contiguous(bias._data)
        y = _C.conv2d_forward(xa, wa, ba, stride, padding, dilation, groups)
        if any(ctx.needs_input_grad[:3]):
            ctx.save_for_backward(xa, wa)
            ctx.geometry = (stride, padding, dilation, groups)
        return y

    @staticmethod
    def backward(ctx, dy):
        xa, wa = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx, dw, db = _C.conv2d_backward(xa, wa, c_contiguous(dy), *ctx.geometry,
                                        output_mask=[bool(need[0]), bool(need[1]), bool(need[2])])
        return dx, dw, db, None, None, None, None


# ---- the functional interface (exported by kernn.nn.functional) ------------------------------
def _same_padding(weight_shape, stride, dilation):
    if stride != (1, 1):
        raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions "
                         f"(stride {stride})")
    pads = []
    for k, d in zip(weight_shape[2:], dilation):
        total = d * (k - 1)
        if total % 2:
            raise ValueError(f"conv2d: padding='same' needs an odd dilated kernel in kernn "
                             f"(kernel {tuple(weight_shape[2:])}, dilation {dilation} gives total "
                             f"padding {total}, which torch splits unevenly)")
        pads.append(total // 2)
    return tuple(pads)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as torch.nn.functional.conv2d).

    Args:
        input (Tensor): (N, C, H, W) or unbatched (C, H, W).
        weight (Tensor): (K, C/groups, kh, kw).
        bias (Tensor, optional): (K,).
        stride, dilation (int or (int, int)): default 1.
        padding (int, (int, int), 'valid' or 'same'): zero padding on both sides (default 0).
            'same' needs stride 1 and an odd dilated kernel (symmetric padding).
        groups (int): input and output channels split into this many groups.

    Shape:
        output (N, K, Ho, Wo), Ho = (H + 2*padding - dilation*(kh-1) - 1) // stride + 1.

    Example::

        >>> x = kernn.randn(8, 3, 32, 32)
        >>> w = kernn.randn(16, 3, 3, 3)
        >>> kernn.nn.functional.conv2d(x, w, padding=1).shape
        kernn.Size([8, 16, 32, 32])
    """
    op = "conv2d"
    _check_float_tensor(input, op, "input")
    _check_float_tensor(weight, op, "weight")
    if bias is not None:
        _check_float_tensor(bias, op, "bias")
    if input._data.dtype == weight._data.dtype and bias is not None and bias._data.dtype != weight._data.dtype:
        # Named the input when only the bias differed.
        raise TypeError(f"conv2d: argument 'bias' has dtype kernn.{bias.dtype.name} but the input "
                        f"and the weight have dtype kernn.{weight.dtype.name}; convert the bias "
                        f"(bias.to(kernn.{weight.dtype.name}))")
    if input._data.dtype != weight._data.dtype or (
            bias is not None and bias._data.dtype != weight._data.dtype):
        raise TypeError(f"conv2d: argument 'input' has dtype kernn.{input.dtype.name} but the "
                        f"weight has dtype kernn.{weight.dtype.name}"
                        + ("" if bias is None else f" and the bias kernn.{bias.dtype.name}")
                        + "; convert the input or the model (model.double() / x.float())")
    stride = _pair(stride, op, "stride")
    dilation = _pair(dilation, op, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            padding = _same_padding(weight._data.shape, stride, dilation)
        else:
            raise ValueError(f"conv2d: argument 'padding' must be an int, a pair, 'valid' or "
                             f"'same', got {padding!r}")
    else:
        padding = _pair(padding, op, "padding")
    groups = int(groups)
    unbatched = input._data.ndim == 3
    if unbatched:
        input = input.reshape(1, *input._data.shape)
    if _records(input, weight, bias):
        y = Conv2dFunction.apply(input, weight, bias, stride, padding, dilation, groups)
    else:
        y = _new(_C.conv2d_forward(c_contiguous(input._data), c_contiguous(weight._data),
                                   None if bias is None else c_contiguous(bias._data), stride,
                                   padding, dilation, groups))
    return y.reshape(*y._data.shape[1:]) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation, as torch.nn.functional.conv1d), run as conv2d over a
    height of 1.

    Args:
        input (Tensor): (N, C, L) or unbatched (C, L).
        weight (Tensor): (K, C/groups, k).
        bias (Tensor, optional): (K,).
        stride, dilation (int or (int,)): default 1.
        padding (int, (int,), 'valid' or 'same'): zero padding on both sides (default 0);
            'same' needs stride 1 and an odd dilated kernel, as conv2d's.
        groups (int): input and output channels split into this many groups.

    Shape:
        output (N, K, Lo), Lo = (L + 2*padding - dilation*(k-1) - 1) // stride + 1.

    Example::

        >>> kernn.nn.functional.conv1d(kernn.randn(8, 3, 100), kernn.randn(16, 3, 5)).shape
        kernn.Size([8, 16, 96])
    """
    op = "conv1d"
    x = _height_one(input, op)
    _check_float_tensor(weight, op, "weight")
    if weight._data.ndim != 3:
        raise ValueError(f"{op}: argument 'weight' must be 3-D (out_channels, "
                         f"in_channels/groups, kernel_size), got shape {tuple(weight._data.shape)}")
    channels = input._data.shape[-2]
    if weight._data.shape[1] * int(groups) != channels:
        raise ValueError(f"{op}: input of shape {tuple(input._data.shape)} has {channels} "
                         f"channels; weight of shape {tuple(weight._data.shape)} with groups="
                         f"{groups} expects {weight._data.shape[1] * int(groups)}")
    if not isinstance(padding, str):
        padding = (0, _single(padding, op, "padding")[0])
    y = conv2d(x, weight.unsqueeze(-2), bias, (1, _single(stride, op, "stride")[0]), padding,
               (1, _single(dilation, op, "dilation")[0]), groups)
    return y.squeeze(-2)
