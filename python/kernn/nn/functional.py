"""kernn.nn.functional: the differentiable ops users call, as torch.nn.functional.

Each function takes Tensors, checks what the kernels cannot explain well (shapes named by the
op's own arguments), and either records an autograd Function or, when nothing needs a gradient
(no_grad, or no input requires grad), calls the kernel directly: that is the inference path.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd import _mode
from ..ops import c_contiguous
from ..ops import activation as _act
from ..ops import linear as _lin
from ..ops import loss as _loss
from .. import _C, _memory
from ..ops._args import _check_float_tensor as _check_float, _check_tensor, _records
from ..ops.conv import conv1d, conv2d
from ..ops.embedding import embedding
from ..ops.norm import batch_norm, batch_norm_relu, layer_norm
from ..ops.pool import adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from ..random import default_generator
from ..tensor import Tensor, _new, get_default_dtype

__all__ = [
    "linear", "relu", "leaky_relu", "sigmoid", "tanh", "softsign", "elu", "gelu", "silu",
    "softplus", "hardtanh", "relu6", "logsigmoid", "softmax", "log_softmax",
    "relu_", "leaky_relu_", "elu_", "hardtanh_",
    "dropout", "dropout1d", "dropout2d", "cross_entropy", "nll_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "one_hot",
    "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool2d", "batch_norm", "batch_norm_relu",
    "layer_norm", "embedding",
]

_REDUCTIONS = ("mean", "sum", "none")


# ---- linear ---------------------------------------------------------------------------------
def _linear_error(op, x, w, b):
    arguments = {"input": x, "weight": w} if b is None else {"input": x, "weight": w, "bias": b}
    for arg, value in arguments.items():
        if not isinstance(value, Tensor):
            return TypeError(f"{op}: argument '{arg}' must be a kernn.Tensor, got "
                             f"{type(value).__name__}")
    xa, wa = x._data, w._data
    if xa.dtype.kind != "f":
        return TypeError(f"{op}: argument 'input' must be a floating tensor, got "
                         f"kernn.{x.dtype.name} (convert with .float())")
    if xa.dtype != wa.dtype:
        return TypeError(f"{op}: argument 'input' has dtype kernn.{x.dtype.name} but the weight "
                         f"has dtype kernn.{w.dtype.name}; convert the input or the model "
                         f"(model.double() / x.float())")
    if b is not None and b._data.dtype != wa.dtype:
        return TypeError(f"{op}: argument 'bias' has dtype kernn.{b.dtype.name} but the input "
                         f"and the weight have dtype kernn.{w.dtype.name}; convert the bias "
                         f"(bias.to(kernn.{w.dtype.name}))")
    if wa.ndim != 2:
        return ValueError(f"{op}: argument 'weight' has shape {tuple(wa.shape)}; it must be "
                          f"2-D (out_features, in_features)")
    if xa.ndim == 0 or xa.shape[-1] != wa.shape[1]:
        return ValueError(
            f"{op}: input of shape {tuple(xa.shape)} does not match in_features={wa.shape[1]} "
            f"(weight of shape {tuple(wa.shape)}): the input's last dimension must be "
            f"{wa.shape[1]}"
        )
    if b is not None and b._data.shape != (wa.shape[0],):
        return ValueError(f"{op}: bias of shape {tuple(b._data.shape)} does not match "
                          f"out_features={wa.shape[0]}")
    return None


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias, as one GEMM.

    Args:
        input (Tensor): (*, in_features).
        weight (Tensor): (out_features, in_features).
        bias (Tensor, optional): (out_features,).

    Shape:
        output (*, out_features).
    """
    return _linear(input, weight, bias, False)


def linear_relu(input, weight, bias=None):
    """relu(linear(input, weight, bias)) with the ReLU fused into the GEMM's epilogue; its
    gradients equal those of the unfused pair."""
    return _linear(input, weight, bias, True)


def _linear(input, weight, bias, relu):
    try:
        xa = input._data
        if xa.ndim != 2:
            return _linear_nd(input, weight, bias, relu)
        # _records(input, weight, bias) written out: this is the batch-1 inference path, where
        # a call with *args costs as much as the rest of the Python. A shape mismatch is raised
        # by _C.linear and reported below.
        if _mode.enabled and (input._rg or weight._rg or (bias is not None and bias._rg)):
            return _lin.LinearFunction.apply(input, weight, bias, relu)
        return _new(_C.linear(np.ascontiguousarray(xa), np.ascontiguousarray(weight._data),
                              None if bias is None else bias._data, relu))
    except (TypeError, ValueError, AttributeError) as exc:
        err = _linear_error("linear", input, weight, bias)
        if err is None:
            raise
        raise err from exc


def _linear_nd(input, weight, bias, relu):
    xa = input._data
    err = _linear_error("linear", input, weight, bias)
    if err is not None:
        raise err
    lead = xa.shape[:-1]
    y = _linear(input.reshape(-1, xa.shape[-1]), weight, bias, relu)
    return y.reshape(*lead, weight._data.shape[0])


# ---- activations ----------------------------------------------------------------------------
def _activation(fn, op, input, *options, inplace=False):
    """``fn`` (an element-wise Function of ops.activation) applied to ``input`` with its
    options. Recorded when autograd records for ``input``; otherwise the kernel runs directly,
    and with ``inplace`` it writes into ``input``'s memory and returns ``input``, as torch.
    A recorded op is computed out of place even with ``inplace``: kernn keeps no version
    counters, so it never overwrites a tensor backward may need (torch would change it, or
    refuse a leaf that requires grad)."""
    _check_float(input, op, "input")
    if _records(input):
        return fn.apply(input, *options)
    if not inplace:
        return _new(fn.forward_kernel(c_contiguous(input._data), *options))
    a = input._data
    if a.flags.c_contiguous:
        fn.forward_kernel(a, *options, out=a)
    else:  # a strided view: computed on a contiguous copy, written back through the view
        a[...] = fn.forward_kernel(c_contiguous(a), *options)
    return input


_INPLACE_DOC = """``inplace=True`` overwrites ``input`` and returns it when autograd does not record
    the op (grad mode off, or ``input`` does not require grad); when it does, the result is a
    new tensor (the same values) and ``input`` is left unchanged."""


def relu(input, inplace=False):
    """max(x, 0) element-wise.

    Args:
        input (Tensor): float32 or float64, any shape.
        inplace (bool): write the result into ``input`` (see below).

    {inplace}
    An integer tensor is clamped in its own dtype, as torch does.
    """
    if _is_integer_tensor(input):
        return _integer_clamp(input, 0, None, inplace)
    return _activation(_act.ReLUFunction, "relu", input, inplace=inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x.

    {inplace}
    """
    return _activation(_act.LeakyReLUFunction, "leaky_relu", input, float(negative_slope),
                       inplace=inplace)


def sigmoid(input):
    """1 / (1 + exp(-x)) element-wise; an integer or bool tensor gives the default float dtype,
    as in torch."""
    return _activation(_act.SigmoidFunction, "sigmoid", _floating(input))


def tanh(input):
    """tanh(x) element-wise; an integer or bool tensor gives the default float dtype, as in
    torch."""
    return _activation(_act.TanhFunction, "tanh", _floating(input))


def softsign(input):
    """x / (1 + |x|) element-wise; an integer tensor gives the default float dtype, as in
    torch (which refuses bool)."""
    return _activation(_act.SoftsignFunction, "softsign", _floating(input, "iu"))


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x) - 1). The gradient at 0 is alpha, as torch's.

    {inplace}
    """
    return _activation(_act.ELUFunction, "elu", input, float(alpha), inplace=inplace)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF: from erf (``approximate='none'``) or from
    torch's tanh approximation (``approximate='tanh'``)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: argument 'approximate' must be 'none' or 'tanh', got "
                         f"{approximate!r}")
    return _activation(_act.GELUFunction, "gelu", input, approximate)


def silu(input, inplace=False):
    """x * sigmoid(x) element-wise (also called swish).

    {inplace}
    """
    return _activation(_act.SiLUFunction, "silu", input, inplace=inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold (for stability,
    as torch)."""
    return _activation(_act.SoftplusFunction, "softplus", input, float(beta), float(threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]. The gradient is 0 at both bounds, as torch's.

    {inplace}
    """
    return _hardtanh("hardtanh", input, min_val, max_val, inplace)


def relu6(input, inplace=False):
    """min(max(x, 0), 6) element-wise: hardtanh(x, 0, 6), gradient 0 at 0 and at 6 as torch's.

    {inplace}
    """
    return _hardtanh("relu6", input, 0.0, 6.0, inplace)


def _hardtanh(op, input, min_val, max_val, inplace):
    if min_val > max_val:
        raise ValueError(f"{op}: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    for arg, value in (("min_val", min_val), ("max_val", max_val)):
        if value != value:  # torch gives NaN everywhere; a NaN bound is taken as a mistake
            raise ValueError(f"{op}: argument '{arg}' is nan; expected a number")
    if _is_integer_tensor(input):  # torch truncates the bounds towards zero for integers
        if input._data.dtype.kind == "u" and int(min_val) < 0:
            raise RuntimeError(f"{op}: cannot do hardtanh on an unsigned type with negative "
                               f"limits (min_val={min_val}), as torch")
        return _integer_clamp(input, int(min_val), int(max_val), inplace)
    return _activation(_act.HardtanhFunction, op, input, float(min_val), float(max_val),
                       inplace=inplace)


def _is_integer_tensor(input):
    return isinstance(input, Tensor) and input._data.dtype.kind in "iu"


def _integer_clamp(input, low, high, inplace):
    """relu / hardtanh / relu6 of an integer tensor (never differentiable): clipped to [low,
    high] (None: unbounded) in its own dtype, into ``input`` with ``inplace``."""
    a = input._data
    info = np.iinfo(a.dtype)  # a bound beyond the dtype's range does not clip
    low = None if low is None else min(max(low, info.min), info.max)
    high = None if high is None else min(max(high, info.min), info.max)
    if inplace:
        np.clip(a, low, high, out=a)
        return input
    return _new(np.clip(a, low, high))


def _floating(input, kinds="iub"):
    """A tensor of the numpy dtype ``kinds`` (integer or bool) converted to the default float
    dtype (torch's rule for sigmoid and tanh, and without bool for softsign); any other input
    unchanged, for _activation to check."""
    if isinstance(input, Tensor) and input._data.dtype.kind in kinds:
        return input.to(get_default_dtype())
    return input


def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for every finite x
    (logsigmoid(-1e4) = -1e4)."""
    return _activation(_act.LogSigmoidFunction, "logsigmoid", input)


for _fn in (relu, leaky_relu, elu, silu, hardtanh, relu6):
    if _fn.__doc__:  # None under python -OO
        _fn.__doc__ = _fn.__doc__.replace("{inplace}", _INPLACE_DOC)
del _fn


def _in_place(fn, name):
    """``fn`` with ``inplace=True`` under torch's in-place name (``F.relu_``, ...): ``input``
    overwritten and returned. Refused on a tensor that requires grad outside no_grad, as
    Tensor's in-place methods are (kernn keeps no version counters)."""

    def in_place(input, *args, **kwargs):
        _check_tensor(input, name, "input")
        input._check_inplace(name)
        return fn(input, *args, inplace=True, **kwargs)

    in_place.__name__ = in_place.__qualname__ = name
    in_place.__doc__ = f"{fn.__name__} written into ``input``, which is returned."
    return in_place


relu_ = _in_place(relu, "relu_")
leaky_relu_ = _in_place(leaky_relu, "leaky_relu_")
elu_ = _in_place(elu, "elu_")
hardtanh_ = _in_place(hardtanh, "hardtanh_")


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (default: the last); with ``dtype`` the input is
    converted to it first."""
    return _over_dim(_act.SoftmaxFunction, "softmax", input, dim, dtype)


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) along ``dim`` (default: the last), computed stably; with ``dtype`` the
    input is converted to it first."""
    return _over_dim(_act.LogSoftmaxFunction, "log_softmax", input, dim, dtype)


def _over_dim(fn, op, input, dim, dtype):
    """softmax or log_softmax (``fn``) of ``input`` along ``dim``."""
    if dtype is not None:  # before the check: torch takes an integer input with a float dtype
        _check_tensor(input, op, "input")
        input = input.to(dtype)
    _check_float(input, op, "input")
    if _records(input):
        return fn.apply(input, dim)
    return _new(fn.forward(_act_ctx(), input, dim))


class _act_ctx:
    """Throw-away ctx for running a Function's forward without recording."""

    needs_input_grad = (False, False, False, False)

    def save_for_backward(self, *arrays):
        pass


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes elements with probability p and scales the rest by 1/(1-p) while training.

    Draws from kernn's global generator (kernn.manual_seed).
    """
    return _dropout("dropout", input, p, training, lambda shape: shape)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout of (N, C, L) or unbatched (C, L) input: each channel input[n, c]
    is zeroed as a whole with probability p while training, the others scaled by 1/(1-p).

    Draws from kernn's global generator (kernn.manual_seed), one draw per channel.

    Args:
        input (Tensor): (N, C, L) or (C, L), floating.
        p (float): probability of a channel being zeroed (default 0.5).
        training (bool): apply dropout; False returns the input (default True).
        inplace (bool): accepted for torch's signature; the result is a new tensor, as
            kernn's dropout.

    Shape:
        output: the input's shape.

    Example::

        >>> y = kernn.nn.functional.dropout1d(kernn.ones(8, 16, 100), 0.25)
    """
    _check_probability("dropout1d", p)
    _check_tensor(input, "dropout1d", "input")
    ndim = input._data.ndim
    if ndim not in (2, 3):
        raise ValueError(f"dropout1d: expected 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{tuple(input.shape)}; dropout1d is channel-wise dropout over 1 "
                         "spatial dimension")
    if ndim == 2:  # unbatched: one draw per channel (dimension 0)
        return _dropout("dropout1d", input, p, training, lambda shape: (shape[0], 1))
    return _dropout("dropout1d", input, p, training, _channel_mask_shape)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel-wise dropout of (N, C, H, W) input: each channel input[n, c] is zeroed as a
    whole with probability p while training, the others scaled by 1/(1-p).

    As torch: a 3-D input is taken as (N, C, L) (one draw per input[n, c]) with a warning,
    another rank other than 4 warns too (a 2-D input gets element-wise dropout), and an input
    with fewer than 2 dimensions raises ValueError when training.

    Args:
        input (Tensor): (N, C, H, W), floating.
        p (float): probability of a channel being zeroed (default 0.5).
        training (bool): apply dropout; False returns the input (default True).
        inplace (bool): accepted for torch's signature; the result is a new tensor, as
            kernn's dropout.

    Shape:
        output: the input's shape.

    Example::

        >>> y = kernn.nn.functional.dropout2d(kernn.ones(8, 16, 5, 5), 0.25)
    """
    _check_probability("dropout2d", p)
    _check_tensor(input, "dropout2d", "input")
    ndim = input._data.ndim
    if ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated "
                      "and will result in an error in a future release. To retain the behavior "
                      "and silence this warning, please use dropout instead. Note that dropout2d "
                      "exists to provide channel-wise dropout on inputs with 2 spatial "
                      "dimensions, a channel dimension, and an optional batch dimension (i.e. 3D "
                      "or 4D inputs).", stacklevel=2)
    if ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change in "
                      "a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", stacklevel=2)
    return _dropout("dropout2d", input, p, training, _channel_mask_shape)


def _channel_mask_shape(shape):
    """(N, C, 1, ...): one keep-or-zero draw per channel of an (N, C, *) input."""
    if len(shape) < 2:
        raise ValueError(f"channel-wise dropout needs an (N, C, *) input of at least 2 "
                         f"dimensions, got shape {tuple(shape)}")
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def _check_probability(op, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability has to be between 0 and 1, but got {p}")


def _dropout(op, input, p, training, mask_shape):
    """Dropout with one Bernoulli draw per entry of mask_shape(input.shape), broadcast over
    the input: the input itself when not training or p = 0, input * 0 for p = 1."""
    _check_probability(op, p)
    if not training or p == 0.0:
        return input
    _check_float(input, op, "input")
    try:
        shape = mask_shape(input._data.shape)
    except ValueError as exc:
        raise ValueError(f"{op}: {exc}") from None
    if p == 1.0:
        return input * 0.0
    if _records(input):
        return _act.DropoutFunction.apply(input, p, default_generator(), shape)
    return _new(_act.DropoutFunction.forward(_act_ctx(), input, p, default_generator(), shape))


# ---- losses ---------------------------------------------------------------------------------
def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: argument 'reduction' must be 'mean', 'sum' or 'none', got "
                         f"{reduction!r}")


def _class_target(op, input, target):
    _check_float(input, op, "input")
    ta = target._data if isinstance(target, Tensor) else np.asarray(target)
    if ta.dtype == np.uint8:  # torch takes Long or Byte class indices
        ta = ta.astype(np.int64)
    x = input._data
    # cross_entropy also takes class probabilities (see _is_probability_target): say so
    probabilities = (f"; or class probabilities: a float tensor of the input's shape "
                     f"{tuple(x.shape)}" if op == "cross_entropy" else "")
    if ta.dtype != np.int64:
        raise TypeError(f"{op}: argument 'target' must hold int64 (or uint8) class indices "
                        f"(kernn.int64), got dtype {ta.dtype} of shape {tuple(ta.shape)}"
                        f"{probabilities}")
    if x.ndim == 1:
        expected = ()
    else:
        expected = x.shape[:1] + x.shape[2:]
    if x.ndim == 0 or ta.shape != expected:
        raise ValueError(f"{op}: input of shape {tuple(x.shape)} expects a target of class "
                         f"indices of shape {expected}, got {tuple(ta.shape)}{probabilities}")
    return ta


def _class_weight(op, input, weight):
    """The per-class weight as the kernels take it: None, or a (C,) array of the input's
    dtype. Not differentiable, as torch's."""
    if weight is None:
        return None
    _check_tensor(weight, op, "weight")
    x, w = input._data, weight._data
    if weight._rg:
        raise ValueError(f"{op}: argument 'weight' requires grad; the loss is not "
                         f"differentiable with respect to it (as torch), pass weight.detach()")
    if w.dtype != x.dtype:
        raise TypeError(f"{op}: argument 'weight' has dtype kernn.{weight.dtype.name} but the "
                        f"input has dtype kernn.{input.dtype.name}; convert the weight "
                        f"(weight.to(kernn.{input.dtype.name}))")
    if x.ndim == 0:
        raise ValueError(f"{op}: input of shape () has no class dimension")
    classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    if w.shape != (classes,):
        raise ValueError(f"{op}: argument 'weight' has shape {tuple(w.shape)}; expected one "
                         f"weight per class, ({classes},) for an input of shape {tuple(x.shape)}")
    return c_contiguous(w)


def _class_loss(fn, op, input, target, reduction, ignore_index, *options):
    _check_reduction(op, reduction)
    ta = _class_target(op, input, target)
    x = input._data
    if x.ndim == 2:
        if _records(input):
            return fn.apply(input, ta, reduction, ignore_index, *options)
        return _new(fn.forward(_act_ctx(), input, ta, reduction, ignore_index, *options))
    # (C,) -> (1, C); (N, C, d1, ...) -> (N * d1 * ..., C)
    if x.ndim == 1:
        x2 = input.reshape(1, -1)
    else:
        x2 = input.permute(0, *range(2, x.ndim), 1).reshape(_class_rows(x.shape), x.shape[1])
    out = _class_loss(fn, op, x2, ta.reshape(-1), reduction, ignore_index, *options)
    if reduction == "none":
        out = out.reshape(ta.shape)
    return out


def _class_rows(shape):
    """N * d1 * ..., the rows of an (N, C, d1, ...) input with its classes moved last: spelled
    out, as reshape cannot infer it (-1) when C is 0."""
    return shape[0] * int(np.prod(shape[2:]))


def _is_probability_target(input, target):
    # torch's rule: a target of the input's own shape holds class probabilities.
    ta = target._data if isinstance(target, Tensor) else np.asarray(target)
    return isinstance(input, Tensor) and ta.dtype.kind == "f" and ta.shape == input._data.shape


def _probability_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    op = "cross_entropy"
    if ignore_index >= 0:
        raise ValueError(f"{op}: ignore_index={ignore_index} is not supported for "
                         f"class-probability targets (as torch); leave it at -100")
    _check_reduction(op, reduction)
    _check_float(input, op, "input")
    if not isinstance(target, Tensor):
        target = _new(np.asarray(target))
    if target._data.dtype != input._data.dtype:
        if target._rg:
            raise TypeError(f"{op}: target dtype kernn.{target.dtype.name} differs from input "
                            f"dtype kernn.{input.dtype.name}")
        target = _new(target._data.astype(input._data.dtype))
    w = _class_weight(op, input, weight)
    x = input._data
    # (C,) -> (1, C); (N, C, d1, ...) -> (N * d1 * ..., C), the target alike.
    if x.ndim == 1:
        x2, t2 = input.reshape(1, -1), target.reshape(1, -1)
    elif x.ndim == 2:
        x2, t2 = input, target
    else:
        order = (0, *range(2, x.ndim), 1)
        x2 = input.permute(*order).reshape(_class_rows(x.shape), x.shape[1])
        t2 = target.permute(*order).reshape(_class_rows(x.shape), x.shape[1])
    fn = _loss.CrossEntropySoftFunction
    if _records(x2, t2):
        out = fn.apply(x2, t2, reduction, w, float(label_smoothing))
    else:
        out = _new(fn.forward(_act_ctx(), x2, t2, reduction, w, float(label_smoothing)))
    if reduction == "none" and x.ndim != 2:
        out = out.reshape(x.shape[:1] + x.shape[2:] if x.ndim > 1 else ())
    return out


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy of logits against class indices or class probabilities (log-softmax and
    the weighted sum in one kernel), as torch.nn.functional.cross_entropy.

    Args:
        input (Tensor): logits (N, C), (C,) or (N, C, d1, ...).
        target (Tensor): int64 class indices (N,), () or (N, d1, ...); or class probabilities
            of the input's shape (and dtype).
        weight (Tensor, optional): a weight per class, (C,) of the input's dtype.
        ignore_index (int): class-index targets equal to it contribute nothing (and are not
            counted by 'mean'); must stay negative for class probabilities.
        reduction (str): 'mean' | 'sum' | 'none'. With class indices 'mean' divides by the
            summed weight of the targets not ignored (their number without ``weight``); with
            class probabilities by the number of samples.
        label_smoothing (float): in [0, 1]; the target becomes (1 - e) * target + e / C. With
            class indices and ``weight`` the smoothing term weights each class by its own
            weight, as torch.
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: argument 'label_smoothing' must be in [0, 1], got "
                         f"{label_smoothing}")
    if _is_probability_target(input, target):
        return _probability_cross_entropy(input, target, weight, ignore_index, reduction,
                                          label_smoothing)
    _check_float(input, "cross_entropy", "input")
    w = _class_weight("cross_entropy", input, weight)
    return _class_loss(_loss.CrossEntropyFunction, "cross_entropy", input, target, reduction,
                       ignore_index, w, float(label_smoothing))


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities (e.g. log_softmax output) at the targets.

    Args as cross_entropy (class indices only): loss_i = -weight[t_i] * input[i, t_i], and
    'mean' divides by the summed weight of the targets not ignored.
    """
    _check_float(input, "nll_loss", "input")
    w = _class_weight("nll_loss", input, weight)
    return _class_loss(_loss.NLLLossFunction, "nll_loss", input, target, reduction, ignore_index,
                       w)


def _same_shape_target(op, input, target):
    """The target of a binary cross-entropy as a Tensor of the input's dtype (cast unless it
    requires grad), which may require grad as torch's."""
    _check_float(input, op, "input")
    if not isinstance(target, Tensor):
        target = _new(np.asarray(target))
    ta, x = target._data, input._data
    if ta.shape != x.shape:
        raise ValueError(f"{op}: target of shape {tuple(ta.shape)} must have the input's shape "
                         f"{tuple(x.shape)}")
    if ta.dtype != x.dtype:
        if ta.dtype.kind not in "fbiu":
            raise TypeError(f"{op}: argument 'target' has unsupported dtype {ta.dtype}")
        if target._rg:
            raise TypeError(f"{op}: target dtype kernn.{target.dtype.name} differs from input "
                            f"dtype kernn.{input.dtype.name}")
        target = _new(ta.astype(x.dtype))
    return target


def _element_weight(op, arg, input, weight):
    """A weight of the binary cross-entropies as the kernels take it: None, or an array of the
    input's shape and dtype (broadcast as torch, which also takes any real dtype). Not
    differentiable, as torch's."""
    if weight is None:
        return None
    _check_tensor(weight, op, arg)
    x, w = input._data, weight._data
    if weight._rg:
        raise ValueError(f"{op}: argument '{arg}' requires grad; the loss is not "
                         f"differentiable with respect to it (as torch), pass {arg}.detach()")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{op}: argument '{arg}' must hold real numbers, got dtype {w.dtype}")
    try:
        w = np.broadcast_to(w, x.shape)
    except ValueError:
        raise ValueError(f"{op}: argument '{arg}' of shape {tuple(w.shape)} does not broadcast "
                         f"to the input's shape {tuple(x.shape)}") from None
    return np.ascontiguousarray(w, dtype=x.dtype)


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-weight * (t log p + (1 - t) log(1 - p)) with the logs clamped at -100 (as torch).

    Args:
        input (Tensor): probabilities in [0, 1], any shape.
        target (Tensor): same shape, values in [0, 1].
        weight (Tensor, optional): broadcast to the input's shape; scales each element's loss.
        reduction (str): 'mean' | 'sum' | 'none'.
    """
    _check_reduction("binary_cross_entropy", reduction)
    target = _same_shape_target("binary_cross_entropy", input, target)
    w = _element_weight("binary_cross_entropy", "weight", input, weight)
    if _records(input, target):
        return _loss.BCEFunction.apply(input, target, reduction, w)
    return _new(_loss.BCEFunction.forward(_act_ctx(), input, target, reduction, w))


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits:
    weight * ((1 - t) * x - (1 + (pos_weight - 1) * t) * log_sigmoid(x)), as torch.

    Args:
        input (Tensor): logits, any shape.
        target (Tensor): same shape, values in [0, 1].
        weight (Tensor, optional): broadcast to the input's shape; scales each element's loss.
        reduction (str): 'mean' | 'sum' | 'none'.
        pos_weight (Tensor, optional): the weight of the positive term, broadcast to the
            input's shape: (C,) weights each class of the last dimension.
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    target = _same_shape_target(op, input, target)
    w = _element_weight(op, "weight", input, weight)
    pw = _element_weight(op, "pos_weight", input, pos_weight)
    if _records(input, target):
        return _loss.BCEWithLogitsFunction.apply(input, target, reduction, w, pw)
    return _new(_loss.BCEWithLogitsFunction.forward(_act_ctx(), input, target, reduction, w, pw))


def _difference_loss_operands(op, input, target, promote):
    """(input, target) for a loss of input - target (MSE, L1, smooth L1, Huber), as torch
    takes them: a target of another shape that broadcasts with the input's warns (as torch)
    and both are expanded to the broadcast shape; one that does not is a ValueError. With
    ``promote`` both go to the wider float dtype (torch's mse/l1/smooth_l1); without it
    (torch's huber_loss) the target is cast to the input's dtype, and a target that requires
    grad in another dtype is a TypeError (torch fails in backward there)."""
    _check_float(input, op, "input")
    if not isinstance(target, Tensor):
        target = _new(np.asarray(target))
    x, t = input._data, target._data
    if t.dtype.kind not in "fiu":
        raise TypeError(f"{op}: argument 'target' must be a float or integer tensor, got "
                        f"dtype {t.dtype}")
    if t.dtype != x.dtype:
        if promote and t.dtype.kind == "f":
            common = np.promote_types(x.dtype, t.dtype)
            input, target = input.to(common), target.to(common)
        elif target._rg:
            raise TypeError(f"{op}: target dtype kernn.{target.dtype.name} differs from input "
                            f"dtype kernn.{input.dtype.name}")
        else:
            target = _new(t.astype(x.dtype))
    if t.shape != x.shape:
        try:
            shape = np.broadcast_shapes(x.shape, t.shape)
        except ValueError:
            raise ValueError(f"{op}: target of shape {tuple(t.shape)} must have the input's "
                             f"shape {tuple(x.shape)} (or broadcast with it)") from None
        warnings.warn(f"{op}: using a target size ({tuple(t.shape)}) that is different to the "
                      f"input size ({tuple(x.shape)}). This will likely lead to incorrect "
                      "results due to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=4)
        input, target = input.expand(shape), target.expand(shape)
    return input, target


def _difference_loss(fn, op, input, target, reduction, weight, *options, promote=True):
    if weight is not None:
        raise NotImplementedError(f"{op}: 'weight' is not supported by kernn")
    _check_reduction(op, reduction)
    input, target = _difference_loss_operands(op, input, target, promote)
    if _records(input, target):
        return fn.apply(input, target, reduction, *options)
    return _new(fn.forward(_act_ctx(), input, target, reduction, *options))


def mse_loss(input, target, reduction="mean", weight=None):
    """Mean (or sum, or element-wise) squared error (x - target)^2; the target may require
    grad too. Shapes and dtypes as l1_loss; ``weight`` is not supported."""
    return _difference_loss(_loss.MSEFunction, "mse_loss", input, target, reduction, weight)


def l1_loss(input, target, reduction="mean", weight=None):
    """Mean (or sum, or element-wise) absolute error |x - target|.

    Args:
        input (Tensor): float32 or float64, any shape.
        target (Tensor): the input's shape (another shape that broadcasts with it warns, as
            torch, and is broadcast); a float target of the other float dtype promotes both
            to float64. May require grad.
        reduction (str): 'mean' | 'sum' | 'none'.
        weight: not supported (NotImplementedError unless None).

    The gradient at x == target is 0 (torch's sign(0)).
    """
    return _difference_loss(_loss.L1Function, "l1_loss", input, target, reduction, weight)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, d = x - target.

    Args as l1_loss, and:
        beta (float): where the quadratic part ends, >= 0; 0 gives l1_loss.
    """
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss: argument 'beta' must be >= 0, got {beta}")
    return _difference_loss(_loss.SmoothL1Function, "smooth_l1_loss", input, target, reduction,
                            None, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta * (|d| - 0.5 delta), d = x - target
    (smooth_l1_loss with beta = delta, times delta).

    Args as l1_loss, but a target of another dtype is cast to the input's (as torch's
    huber_loss), and:
        delta (float): where the quadratic part ends, > 0.
    """
    if not delta > 0:
        raise ValueError(f"huber_loss: argument 'delta' must be > 0, got {delta}")
    return _difference_loss(_loss.HuberFunction, "huber_loss", input, target, reduction,
                            weight, float(delta), promote=False)


# ---- encodings ------------------------------------------------------------------------------
def one_hot(tensor, num_classes=-1):
    """One-hot encoding of class indices, as torch.nn.functional.one_hot.

    Args:
        tensor (Tensor): int64 class indices, each in [0, num_classes).
        num_classes (int): the length of each encoding; -1 (the default) takes the largest
            index in ``tensor`` plus one.

    Shape:
        tensor (*), output (*, num_classes), int64: 1 at each index's class, 0 elsewhere.

    Example::

        >>> F.one_hot(kernn.tensor([0, 2, 1]))
        tensor([[1, 0, 0],
                [0, 0, 1],
                [0, 1, 0]])
    """
    if not isinstance(tensor, Tensor) or tensor._data.dtype != np.int64:
        got = f"kernn.{tensor.dtype.name}" if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot: argument 'tensor' must hold int64 class indices "
                        f"(kernn.int64), got {got}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: argument 'num_classes' must be an int, got "
                        f"{type(num_classes).__name__}")
    num_classes = int(num_classes)
    if num_classes == 0 or num_classes < -1:
        raise RuntimeError(f"one_hot: argument 'num_classes' must be -1 (the largest index "
                           f"plus one) or positive, got {num_classes}")
    indices = tensor._data
    if indices.size == 0:
        if num_classes == -1:
            raise RuntimeError(f"one_hot: cannot infer num_classes from a tensor with no "
                               f"elements (shape {tuple(indices.shape)}); pass num_classes")
    else:
        # RuntimeError for out-of-range values, as torch: ported code may catch that.
        if indices.min() < 0:
            raise RuntimeError(_one_hot_value_error(indices, indices < 0, "must be non-negative"))
        largest = int(indices.max())
        if num_classes == -1:
            num_classes = largest + 1
        elif largest >= num_classes:
            raise RuntimeError(_one_hot_value_error(
                indices, indices >= num_classes, f"must be smaller than num_classes={num_classes}"))
    out = _memory.zeros(indices.shape + (num_classes,), np.int64)
    np.put_along_axis(out, indices[..., None], 1, axis=-1)
    return _new(out)


def _one_hot_value_error(indices, bad, rule):
    """The message for the first index in ``indices`` where ``bad`` holds."""
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), indices.shape))
    return (f"one_hot: argument 'tensor' holds {int(indices[where])} at index {where}; class "
            f"values {rule}")
