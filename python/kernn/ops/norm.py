"""BatchNormFunction and LayerNormFunction on kernn._C's normalisation kernels.

Batch norm's running statistics are numpy arrays updated in place by the forward kernel
(training) or read by it (evaluation); they are not differentiated.
"""

from __future__ import annotations

from .. import _C
from ..autograd import Function
from ..tensor import Tensor, _new
from . import c_contiguous
from ._args import _check_float_tensor, _records


class BatchNormFunction(Function):
    """(x (N, C, *), weight (C,) or None, bias (C,) or None, running_mean array or None,
    running_var array or None, training, momentum, eps, relu) -> y of x's shape.

    relu=True is batch norm followed by ReLU in one pass each way; the backward masks the
    gradient by the saved output (> 0 exactly where the ReLU's input is), so outputs and
    gradients equal those of the unfused pair."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps, relu):
        xa = c_contiguous(x._data)
        wa = None if weight is None else c_contiguous(weight._data)
        ba = None if bias is None else c_contiguous(bias._data)
        y, save_mean, save_invstd = _C.batch_norm_forward(xa, wa, ba, running_mean, running_var,
                                                          training, momentum, eps, relu)
        if any(ctx.needs_input_grad[:3]):
            ctx.save_for_backward(xa, wa, save_mean, save_invstd, y if relu else None)
            ctx.training = training
        return y

    @staticmethod
    def backward(ctx, dy):
        xa, wa, save_mean, save_invstd, relu_out = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx, dw, db = _C.batch_norm_backward(xa, c_contiguous(dy), wa, save_mean, save_invstd,
                                            ctx.training, relu_out)
        return (dx if need[0] else None, dw if need[1] else None, db if need[2] else None,
                None, None, None, None, None, None)


# ---- the functional interface (exported by kernn.nn.functional) ------------------------------
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation, as torch.nn.functional.batch_norm.

    Training normalises each channel with the batch mean and the biased batch variance and, when
    running_mean/running_var are given, updates them in place:
    running = (1 - momentum) * running + momentum * batch statistic, with the UNBIASED variance
    for running_var. Not training normalises with the running statistics.

    Args:
        input (Tensor): (N, C) or (N, C, *).
        running_mean, running_var (Tensor or None): (C,), of the input's dtype.
        weight, bias (Tensor, optional): (C,) scale and shift.
        training (bool): use (and update) batch statistics.
        momentum (float): weight of the new batch statistic in the running average.
        eps (float): added to the variance.

    Shape:
        output: the input's shape.

    Example::

        >>> x = kernn.randn(16, 4, 8, 8)
        >>> y = kernn.nn.functional.batch_norm(x, None, None, training=True)
        >>> float(y.mean()) < 1e-5
        True
    """
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps,
                       False)


def batch_norm_relu(input, running_mean, running_var, weight=None, bias=None, training=False,
                    momentum=0.1, eps=1e-5):
    """relu(batch_norm(...)) in one pass forward and one backward; same arguments as
    batch_norm, and outputs and gradients equal to those of the unfused pair."""
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps,
                       True)


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps, relu):
    op = "batch_norm"
    _check_float_tensor(input, op, "input")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            _check_float_tensor(t, op, name)
    stats = []
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: argument '{name}' must be a kernn.Tensor or None, got "
                            f"{type(t).__name__}")
        stats.append(None if t is None else t._data)
    if momentum is None:
        raise ValueError(f"{op}: argument 'momentum' must be a float (nn.BatchNorm handles "
                         "momentum=None as a cumulative average)")
    args = (stats[0], stats[1], bool(training), float(momentum), float(eps), relu)
    if _records(input, weight, bias):
        return BatchNormFunction.apply(input, weight, bias, *args)
    return _new(_C.batch_norm_forward(
        c_contiguous(input._data), None if weight is None else c_contiguous(weight._data),
        None if bias is None else c_contiguous(bias._data), *args)[0])


class LayerNormFunction(Function):
    """(x (*, normalized_shape), weight or None, bias or None, normalized_shape, eps) -> y of
    x's shape. The forward saves each row's mean and 1/std in float64 for the backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, normalized_shape, eps):
        xa = c_contiguous(x._data)
        wa = None if weight is None else c_contiguous(weight._data)
        ba = None if bias is None else c_contiguous(bias._data)
        y, save_mean, save_rstd = _C.layer_norm_forward(xa, normalized_shape, wa, ba, eps)
        if any(ctx.needs_input_grad[:3]):
            ctx.save_for_backward(xa, wa, save_mean, save_rstd)
            ctx.normalized_shape = normalized_shape
        return y

    @staticmethod
    def backward(ctx, dy):
        xa, wa, save_mean, save_rstd = ctx.saved_tensors
        dx, dw, db = _C.layer_norm_backward(xa, c_contiguous(dy), ctx.normalized_shape, wa,
                                            save_mean, save_rstd, list(ctx.needs_input_grad[:3]))
        return dx, dw, db, None, None


def _normalized_shape(value, op):
    """normalized_shape as a tuple of ints, from an int or a sequence of ints (as torch)."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: argument 'normalized_shape' must be an int or a sequence of "
                        f"ints, got {value!r}")
    if hasattr(value, "__index__"):
        return _sizes_in_range((int(value),), value, op)
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{op}: argument 'normalized_shape' must be an int or a sequence of "
                        f"ints, got {value!r}") from None
    if not all(hasattr(v, "__index__") and not isinstance(v, bool) for v in items):
        raise TypeError(f"{op}: argument 'normalized_shape' must be an int or a sequence of "
                        f"ints, got {value!r}")
    return _sizes_in_range(tuple(int(v) for v in items), value, op)


def _sizes_in_range(shape, value, op):
    # a size past int64 reached the binding as pybind11's "incompatible function arguments"
    if any(not -2**63 <= d < 2**63 for d in shape):
        raise ValueError(f"{op}: argument 'normalized_shape' holds a size beyond int64, got "
                         f"{value!r}")
    return shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing ``normalized_shape`` dimensions, as
    torch.nn.functional.layer_norm.

    Each sample's last len(normalized_shape) dimensions are normalised by their own mean and
    biased variance (accumulated in double): y = (x - mean) / sqrt(var + eps) * weight + bias.

    Args:
        input (Tensor): (*, *normalized_shape), float32 or float64.
        normalized_shape (int or sequence of ints): the trailing dimensions to normalise over.
        weight, bias (Tensor, optional): of shape normalized_shape, the input's dtype.
        eps (float): added to the variance (default 1e-5).

    Shape:
        output: the input's shape.

    Example::

        >>> x = kernn.randn(4, 10, 32)
        >>> y = kernn.nn.functional.layer_norm(x, (32,))
        >>> float(y.mean(-1).abs().max()) < 1e-5
        True
    """
    op = "layer_norm"
    _check_float_tensor(input, op, "input")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None:
            _check_float_tensor(t, op, name)
    shape = _normalized_shape(normalized_shape, op)
    if _records(input, weight, bias):
        return LayerNormFunction.apply(input, weight, bias, shape, float(eps))
    return _new(_C.layer_norm_forward(
        c_contiguous(input._data), shape, None if weight is None else c_contiguous(weight._data),
        None if bias is None else c_contiguous(bias._data), float(eps))[0])
