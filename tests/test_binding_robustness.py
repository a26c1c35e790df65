"""Hostile inputs for every function of kernn._C.

The promise (cpp/bindings/API.md): nothing reachable from Python crashes the process or writes out
of bounds; a mistake raises TypeError / ValueError / IndexError naming the op and the argument.
Each function has a builder of a small valid call in VALID_CALLS; a function added to kernn._C
without one fails test_every_binding_has_a_builder. The generic tests substitute each array
argument of each call with a hostile value; the tables below pin the geometry, size, index,
aliasing and zero-size cases found by a faulthandler sweep (several of which returned garbage or
hung before the binding fixes).
"""

import re

import numpy as np
import pytest
import torch

import kernn
from kernn import _C


def _rand(*shape):
    return np.random.default_rng(0).standard_normal(shape)


def _probs(*shape):
    return np.random.default_rng(1).uniform(0.05, 0.95, shape)


_SGD = dict(lr=0.1, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0,
            maximize=False)
_ADAM = dict(lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False,
             decoupled_weight_decay=False, maximize=False)
_RMSPROP = dict(lr=0.1, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                maximize=False)
_ADADELTA = dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)
_ADAGRAD = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False)
_TARGET = np.array([0, 2, 1, 2])


def _pool_out():
    return _C.max_pool2d_forward(_rand(1, 2, 5, 5), 2)


# name -> () -> (args, kwargs) of a small valid float64 call. Fresh arrays on every call, since
# the optimizer steps write into theirs.
VALID_CALLS = {
    "get_num_threads": lambda: ((), {}),
    "set_num_threads": lambda: ((kernn.get_num_threads(),), {}),
    "openmp_enabled": lambda: ((), {}),
    "aligned_empty": lambda: ((np.dtype(np.float64), [2, 3]), {}),
    "backend_info": lambda: ((), {}),
    "_gemm_isa": lambda: ((), {}),
    "_set_gemm_isa": lambda: ((_C._gemm_isa(),), {}),
    "set_simd_loops": lambda: (("avx512",), {}),
    "gemm": lambda: ((_rand(2, 3), _rand(3, 4), np.zeros((2, 4))), dict(beta=1.0)),
    "gemm_reference": lambda: ((_rand(2, 3), _rand(3, 4), np.zeros((2, 4))), dict(beta=1.0)),
    "linear": lambda: ((_rand(2, 3), _rand(4, 3), _rand(4), True), {}),
    "linear_backward": lambda: ((_rand(4, 3), _rand(4, 5), _rand(3, 5), np.abs(_rand(4, 3)), True,
                                 True, True), {}),
    "relu_forward": lambda: ((_rand(3, 4),), {}),
    "relu_backward": lambda: ((_rand(3, 4), _rand(3, 4)), {}),
    "leaky_relu_forward": lambda: ((_rand(3, 4), 0.1), {}),
    "leaky_relu_backward": lambda: ((_rand(3, 4), _rand(3, 4), 0.1), {}),
    "sigmoid_forward": lambda: ((_rand(3, 4),), {}),
    "sigmoid_backward": lambda: ((_probs(3, 4), _rand(3, 4)), {}),
    "tanh_forward": lambda: ((_rand(3, 4),), {}),
    "tanh_backward": lambda: ((_probs(3, 4), _rand(3, 4)), {}),
    "softsign_forward": lambda: ((_rand(3, 4),), {}),
    "softsign_backward": lambda: ((_rand(3, 4), _rand(3, 4)), {}),
    "elu_forward": lambda: ((_rand(3, 4), 1.0), {}),
    "elu_backward": lambda: ((_rand(3, 4), _rand(3, 4), 1.0), {}),
    "gelu_forward": lambda: ((_rand(3, 4), "none"), {}),
    "gelu_backward": lambda: ((_rand(3, 4), _rand(3, 4), "tanh"), {}),
    "silu_forward": lambda: ((_rand(3, 4),), {}),
    "silu_backward": lambda: ((_rand(3, 4), _rand(3, 4)), {}),
    "softplus_forward": lambda: ((_rand(3, 4), 1.0, 20.0), {}),
    "softplus_backward": lambda: ((_rand(3, 4), _rand(3, 4), 1.0, 20.0), {}),
    "hardtanh_forward": lambda: ((_rand(3, 4), -1.0, 1.0), {}),
    "hardtanh_backward": lambda: ((_rand(3, 4), _rand(3, 4), -1.0, 1.0), {}),
    "log_sigmoid_forward": lambda: ((_rand(3, 4),), {}),
    "log_sigmoid_backward": lambda: ((_rand(3, 4), _rand(3, 4)), {}),
    "softmax_forward": lambda: ((_rand(3, 4),), {}),
    "softmax_backward": lambda: ((_probs(3, 4), _rand(3, 4)), {}),
    "log_softmax_forward": lambda: ((_rand(3, 4),), {}),
    "log_softmax_backward": lambda: ((-_probs(3, 4), _rand(3, 4)), {}),
    "bias_grad": lambda: ((_rand(3, 4),), {}),
    "cross_entropy_forward": lambda: ((_rand(4, 3), _TARGET.copy(), "mean", -100, _probs(3), 0.1),
                                      {}),
    "cross_entropy_backward": lambda: ((_rand(4, 3), _TARGET.copy(), np.array(1.0), "mean", -100,
                                        _probs(3), 0.1), {}),
    "cross_entropy_soft_forward": lambda: ((_rand(4, 3), _probs(4, 3), "mean", _probs(3), 0.1),
                                           {}),
    "cross_entropy_soft_backward": lambda: ((_rand(4, 3), _probs(4, 3), np.array(1.0), "mean",
                                             _probs(3), 0.1, True), {}),
    "nll_loss_forward": lambda: ((-_probs(4, 3), _TARGET.copy(), "mean", -100, _probs(3)), {}),
    "nll_loss_backward": lambda: ((-_probs(4, 3), _TARGET.copy(), np.array(1.0), "mean", -100,
                                   _probs(3)), {}),
    "bce_forward": lambda: ((_probs(4, 3), _probs(4, 3), "mean", _probs(4, 3)), {}),
    "bce_backward": lambda: ((_probs(4, 3), _probs(4, 3), np.array(1.0), "mean", _probs(4, 3)),
                             {}),
    "bce_with_logits_forward": lambda: ((_rand(4, 3), _probs(4, 3), "mean", _probs(4, 3),
                                         _probs(4, 3)), {}),
    "bce_with_logits_backward": lambda: ((_rand(4, 3), _probs(4, 3), np.array(1.0), "mean",
                                          _probs(4, 3), _probs(4, 3)), {}),
    "mse_forward": lambda: ((_rand(4, 3), _rand(4, 3), "mean"), {}),
    "mse_backward": lambda: ((_rand(4, 3), _rand(4, 3), np.array(1.0), "mean"), {}),
    "l1_forward": lambda: ((_rand(4, 3), _rand(4, 3), "mean"), {}),
    "l1_backward": lambda: ((_rand(4, 3), _rand(4, 3), np.array(1.0), "mean"), {}),
    "smooth_l1_forward": lambda: ((_rand(4, 3), _rand(4, 3), "mean", 1.0), {}),
    "smooth_l1_backward": lambda: ((_rand(4, 3), _rand(4, 3), np.array(1.0), "mean", 1.0), {}),
    "huber_forward": lambda: ((_rand(4, 3), _rand(4, 3), "mean", 1.0), {}),
    "huber_backward": lambda: ((_rand(4, 3), _rand(4, 3), np.array(1.0), "mean", 1.0), {}),
    # The optimizer steps take one list per array argument, one entry per parameter.
    "sgd_step": lambda: (([_rand(5)], [_rand(5)], [np.zeros(5)], [False]), _SGD),
    "adam_step": lambda: (([_rand(5)], [_rand(5)], [np.zeros(5)], [np.zeros(5)], None, [1]),
                          _ADAM),
    "rmsprop_step": lambda: (([_rand(5)], [_rand(5)], [np.zeros(5)], None, None), _RMSPROP),
    "adadelta_step": lambda: (([_rand(5)], [_rand(5)], [np.zeros(5)], [np.zeros(5)]), _ADADELTA),
    "adagrad_step": lambda: (([_rand(5)], [_rand(5)], [np.zeros(5)], [1]), _ADAGRAD),
    "conv2d_forward": lambda: ((_rand(1, 2, 5, 5), _rand(3, 2, 3, 3), _rand(3)), {}),
    "conv2d_forward_reference": lambda: ((_rand(1, 2, 5, 5), _rand(3, 2, 3, 3), _rand(3)), {}),
    "conv2d_backward": lambda: ((_rand(1, 2, 5, 5), _rand(3, 2, 3, 3), _rand(1, 3, 3, 3)), {}),
    "_conv2d_algorithms": lambda: ((_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)), {}),
    "_set_conv_direct": lambda: ((True,), {}),
    "max_pool2d_forward": lambda: ((_rand(1, 2, 5, 5), 2), {}),
    "max_pool2d_backward": lambda: ((_pool_out()[0], _pool_out()[1], [1, 2, 5, 5]), {}),
    "avg_pool2d_forward": lambda: ((_rand(1, 2, 5, 5), 2), {}),
    "avg_pool2d_backward": lambda: ((_rand(1, 2, 2, 2), [1, 2, 5, 5], 2), {}),
    "adaptive_avg_pool2d_forward": lambda: ((_rand(1, 2, 5, 5), 3), {}),
    "adaptive_avg_pool2d_backward": lambda: ((_rand(1, 2, 3, 3), [1, 2, 5, 5]), {}),
    "batch_norm_forward": lambda: ((_rand(4, 3, 2), _rand(3), _rand(3), np.zeros(3), np.ones(3),
                                    True, 0.1, 1e-5), {}),
    "batch_norm_backward": lambda: ((_rand(4, 3, 2), _rand(4, 3, 2), _rand(3), _rand(3),
                                     np.ones(3), True), {}),
    "layer_norm_forward": lambda: ((_rand(4, 3, 2), [3, 2], _rand(3, 2), _rand(3, 2), 1e-5), {}),
    "layer_norm_backward": lambda: ((_rand(4, 3, 2), _rand(4, 3, 2), [3, 2], _rand(3, 2),
                                     _rand(4), np.ones(4)), {}),
    "embedding_forward": lambda: ((_rand(5, 3), np.array([[0, 4], [4, 2]])), {}),
    "embedding_backward": lambda: ((_rand(2, 2, 3), np.array([[0, 4], [4, 2]]), 5, 0), {}),
}

# Positional arguments written in place (must be writeable, must not alias the inputs); for a
# list argument, its one entry.
IN_PLACE = {
    "gemm": [2], "gemm_reference": [2], "sgd_step": [0, 2], "adam_step": [0, 2, 3],
    "rmsprop_step": [0, 2], "adadelta_step": [0, 2, 3], "adagrad_step": [0, 2],
    "batch_norm_forward": [3, 4],
}


def _public_functions():
    return sorted(n for n in dir(_C) if not n.startswith("__") and callable(getattr(_C, n)))


def _arg_names(name):
    """Parameter names from pybind11's signature line, e.g. gemm(a: numpy.ndarray, ...)."""
    signature = getattr(_C, name).__doc__.splitlines()[0].split(" -> ")[0]
    return re.findall(r"(\w+): ", signature)


def _op_stem(name):
    """The op name messages use: conv2d_forward -> conv2d, relu_backward -> relu_backward is
    also accepted (some families name the direction, some do not)."""
    return name.replace("_forward", "").replace("_backward", "")


def _assert_names_op_and_arg(exc, name, *args):
    """The message names the op (as the binding does, or pybind11's signature does) and one of
    `args`."""
    message = str(exc)
    assert _op_stem(name) in message or name in message, f"{name}: no op name in: {message}"
    assert any(arg in message for arg in args), f"{name}: none of {args} in: {message}"


def test_every_binding_has_a_builder():
    assert set(_public_functions()) == set(VALID_CALLS)


@pytest.mark.parametrize("name", sorted(VALID_CALLS))
def test_valid_call_succeeds(name):
    args, kwargs = VALID_CALLS[name]()
    getattr(_C, name)(*args, **kwargs)


def _hostile_variants(array, optional=False):
    """(label, replacement, may_succeed): may_succeed marks what a valid call may contain (None
    for an optional argument; a shape change an element-wise op on one operand accepts)."""
    yield "int32", array.astype(np.int32), False
    yield "float16", array.astype(np.float16), False
    yield "complex128", array.astype(np.complex128), False
    yield "bool", array.astype(bool), False
    yield "object", array.astype(object), False
    yield "list", array.tolist(), False
    yield "None", None, optional
    if array.ndim >= 1 and array.shape[-1] > 1:
        yield "non_contiguous", np.repeat(array, 2, axis=-1)[..., ::2], False
        yield "negative_stride", array[..., ::-1], False
    yield "zero_d", np.array(1.0), True
    yield "extra_axis", array[None], True


_SHAPE_VARIANTS = ("zero_d", "extra_axis")


def _is_optional(name, index):
    signature = getattr(_C, name).__doc__.splitlines()[0]
    annotation = signature.split(f"{_arg_names(name)[index]}: ", 1)[1].split(",")[0]
    return "None" in annotation or annotation.startswith("object")


def _array_of(arg):
    """A float64 array argument, or the one entry of a list argument (an optimizer step's);
    None for any other argument."""
    if isinstance(arg, list) and len(arg) == 1:
        arg = arg[0]
    return arg if isinstance(arg, np.ndarray) and arg.dtype == np.float64 else None


def _with_array(args, index, value):
    """args with the array of argument `index` (see _array_of) replaced by value."""
    args = list(args)
    args[index] = [value] if isinstance(args[index], list) else value
    return args


def _float_array_args(name):
    args, _ = VALID_CALLS[name]()
    return [i for i, a in enumerate(args) if _array_of(a) is not None]


_SUBSTITUTIONS = [
    (name, index, label)
    for name in sorted(VALID_CALLS)
    for index in _float_array_args(name)
    for label, _, _ in _hostile_variants(_array_of(VALID_CALLS[name]()[0][index]))
]


@pytest.mark.parametrize("name,index,label", _SUBSTITUTIONS)
def test_hostile_array_argument(name, index, label):
    args, kwargs = VALID_CALLS[name]()
    arg = _arg_names(name)[index]
    # None may stand for an optional argument, never for an entry of a list argument.
    optional = _is_optional(name, index) and not isinstance(args[index], list)
    variants = {v[0]: v for v in _hostile_variants(_array_of(args[index]), optional)}
    _, replacement, may_succeed = variants[label]
    args = _with_array(args, index, replacement)
    try:
        getattr(_C, name)(*args, **kwargs)
    except (TypeError, ValueError, IndexError) as exc:
        # A changed shape may be reported against the operand it no longer matches.
        names = _arg_names(name) if label in _SHAPE_VARIANTS else [arg]
        _assert_names_op_and_arg(exc, name, *names)
    else:
        assert may_succeed, f"{name} accepted {label} for argument {arg!r}"


_IN_PLACE_CASES = [(name, index) for name, indices in IN_PLACE.items() for index in indices]


@pytest.mark.parametrize("name,index", _IN_PLACE_CASES)
def test_read_only_in_place_argument_is_refused(name, index):
    args, kwargs = VALID_CALLS[name]()
    read_only = _array_of(args[index]).copy()
    read_only.setflags(write=False)
    args = _with_array(args, index, read_only)
    with pytest.raises(ValueError, match="read-only") as info:
        getattr(_C, name)(*args, **kwargs)
    _assert_names_op_and_arg(info.value, name, _arg_names(name)[index])


@pytest.mark.parametrize("name,index", _IN_PLACE_CASES)
def test_in_place_argument_aliasing_an_input_is_refused(name, index):
    args, kwargs = VALID_CALLS[name]()
    # Put the in-place array and the first other float operand into one buffer.
    other = next(i for i in _float_array_args(name) if i != index)
    a_written, a_other = _array_of(args[index]), _array_of(args[other])
    buffer = np.zeros(max(a_written.size, a_other.size))
    written = buffer[: a_written.size].reshape(a_written.shape)
    read = buffer[: a_other.size].reshape(a_other.shape)
    read[...] = a_other
    args = _with_array(_with_array(args, index, written), other, read)
    arrays = [_array_of(a) for a in args if _array_of(a) is not None]
    before = [a.copy() for a in arrays]
    with pytest.raises(ValueError, match="share") as info:
        getattr(_C, name)(*args, **kwargs)
    _assert_names_op_and_arg(info.value, name, _arg_names(name)[index])
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)  # refused before anything was written


def _raises(exc_type, *fragments):
    return exc_type, fragments


_BIG = 2**62
# (id, function, args, kwargs, expected exception, fragments the message must contain)
_HOSTILE_CALLS = [
    # Geometry entries past 2**31 - 1 made H + 2p - d(k-1) - 1 overflow int64: conv with
    # padding 2**63 - 1 or dilation 2**63 - 1 returned a garbage (1, 1) or (7, 7) output.
    ("conv_padding_int64_max", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(padding=2**63 - 1), *_raises(ValueError, "conv2d", "'padding'")),
    ("conv_dilation_int64_max", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(dilation=2**63 - 1), *_raises(ValueError, "conv2d", "'dilation'")),
    ("conv_reference_dilation_huge", "conv2d_forward_reference",
     (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)), dict(dilation=_BIG),
     *_raises(ValueError, "conv2d_reference", "'dilation'")),
    ("conv_stride_huge", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(stride=_BIG), *_raises(ValueError, "conv2d", "'stride'")),
    ("conv_padding_beyond_int64", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(padding=10**30), *_raises(ValueError, "conv2d", "'padding'")),
    ("conv_stride_zero", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(stride=0), *_raises(ValueError, "conv2d", "'stride'")),
    ("conv_padding_negative", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(padding=-1), *_raises(ValueError, "conv2d", "'padding'")),
    ("conv_dilation_zero", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(dilation=0), *_raises(ValueError, "conv2d", "'dilation'")),
    ("conv_groups_zero", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(groups=0), *_raises(ValueError, "conv2d", "'groups'")),
    ("conv_groups_not_dividing", "conv2d_forward", (_rand(1, 4, 5, 5), _rand(3, 2, 3, 3)),
     dict(groups=2), *_raises(ValueError, "conv2d", "'groups'")),
    ("conv_stride_three_entries", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(stride=(1, 2, 3)), *_raises(ValueError, "conv2d", "'stride'")),
    ("conv_stride_string", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(stride="a"), *_raises(TypeError, "conv2d", "'stride'")),
    # An output too large to allocate: numpy's unnamed "array is too big" before.
    ("conv_output_too_large", "conv2d_forward", (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3)),
     dict(padding=2**30), *_raises(ValueError, "conv2d", "output", "(1, 3, 2147483651, 2147483651)")),
    ("conv_kernel_larger_than_input", "conv2d_forward", (_rand(1, 2, 2, 2), _rand(3, 2, 3, 3)),
     {}, *_raises(ValueError, "conv2d", "too small")),
    ("conv_backward_mask_length", "conv2d_backward",
     (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3), _rand(1, 3, 3, 3)), dict(output_mask=[True]),
     *_raises(ValueError, "conv2d_backward", "'output_mask'")),
    ("conv_backward_grad_output_shape", "conv2d_backward",
     (_rand(1, 2, 5, 5), _rand(3, 2, 3, 3), _rand(1, 3, 2, 3)), {},
     *_raises(ValueError, "conv2d_backward", "'grad_output'")),
    ("max_pool_kernel_larger_than_input", "max_pool2d_forward", (_rand(1, 2, 5, 5), 10), {},
     *_raises(ValueError, "max_pool2d", "too small")),
    # Dilation 2**63 - 1 gave a (3, 3) output from a 5x5 input.
    ("max_pool_dilation_int64_max", "max_pool2d_forward", (_rand(1, 2, 5, 5), 3),
     dict(dilation=2**63 - 1), *_raises(ValueError, "max_pool2d", "'dilation'")),
    ("max_pool_kernel_huge", "max_pool2d_forward", (_rand(1, 2, 5, 5), _BIG),
     dict(padding=2**61), *_raises(ValueError, "max_pool2d", "'kernel_size'")),
    ("max_pool_stride_zero", "max_pool2d_forward", (_rand(1, 2, 5, 5), 3), dict(stride=0),
     *_raises(ValueError, "max_pool2d", "'stride'")),
    ("max_pool_padding_over_half", "max_pool2d_forward", (_rand(1, 2, 5, 5), 3),
     dict(padding=2), *_raises(ValueError, "max_pool2d", "padding")),
    ("max_pool_kernel_none", "max_pool2d_forward", (_rand(1, 2, 5, 5), None), {},
     *_raises(TypeError, "max_pool2d", "'kernel_size'")),
    ("max_pool_2d_input", "max_pool2d_forward", (_rand(5, 5), 2), {},
     *_raises(ValueError, "max_pool2d", "'input'")),
    # A window area (2**40)**2 overflowed int64 in the count_include_pad divisor.
    ("avg_pool_kernel_area_overflow", "avg_pool2d_forward", (_rand(1, 2, 5, 5), 2**40),
     dict(padding=2**39), *_raises(ValueError, "avg_pool2d", "'kernel_size'")),
    # An int past int64 gave pybind11's RuntimeError "Unable to cast Python instance".
    ("avg_pool_divisor_beyond_int64", "avg_pool2d_forward", (_rand(1, 2, 5, 5), 2),
     dict(divisor_override=2**70), *_raises(TypeError, "avg_pool2d", "'divisor_override'")),
    ("avg_pool_divisor_zero", "avg_pool2d_forward", (_rand(1, 2, 5, 5), 2),
     dict(divisor_override=0), *_raises(ValueError, "avg_pool2d", "'divisor_override'")),
    ("avg_pool_backward_input_shape_huge", "avg_pool2d_backward",
     (_rand(1, 2, 2, 2), [1, 2, 2**40, 2**40], 2), {},
     *_raises(ValueError, "avg_pool2d_backward", "'input_shape'")),
    ("adaptive_output_size_huge", "adaptive_avg_pool2d_forward", (_rand(1, 2, 5, 5), 2**40), {},
     *_raises(ValueError, "adaptive_avg_pool2d", "'output_size'")),
    # Within the geometry bound but 2 * 2**31 * 2**31 doubles: larger than any memory.
    ("adaptive_output_larger_than_memory", "adaptive_avg_pool2d_forward",
     (_rand(1, 2, 5, 5), 2**31 - 1), {}, *_raises(ValueError, "adaptive_avg_pool2d", "output")),
    ("adaptive_output_size_zero", "adaptive_avg_pool2d_forward", (_rand(1, 2, 5, 5), 0), {},
     *_raises(ValueError, "adaptive_avg_pool2d", "'output_size'")),
    ("adaptive_backward_input_shape_negative", "adaptive_avg_pool2d_backward",
     (_rand(1, 2, 2, 2), [1, 2, -5, 5]), {},
     *_raises(ValueError, "adaptive_avg_pool2d_backward", "'input_shape'")),
    ("adaptive_backward_input_shape_huge", "adaptive_avg_pool2d_backward",
     (_rand(1, 2, 2, 2), [1, 2, 2**40, 2**40]), {},
     *_raises(ValueError, "adaptive_avg_pool2d_backward", "'input_shape'")),
    ("max_pool_backward_input_shape_huge", "max_pool2d_backward",
     (*_pool_out(), [1, 2, 2**62, 4]), {}, *_raises(ValueError, "max_pool2d_backward", "'input_shape'")),
    ("max_pool_backward_input_shape_rank", "max_pool2d_backward", (*_pool_out(), [2, 5, 5]), {},
     *_raises(ValueError, "max_pool2d_backward", "'input_shape'")),
    ("max_pool_backward_indices_int32", "max_pool2d_backward",
     (_pool_out()[0], _pool_out()[1].astype(np.int32), [1, 2, 5, 5]), {},
     *_raises(TypeError, "max_pool2d_backward", "'indices'")),
    ("losses_reduction_unknown", "mse_forward", (_rand(3), _rand(3), "bogus"), {},
     *_raises(ValueError, "mse", "'reduction'")),
    ("mse_shape_mismatch", "mse_forward", (_rand(4, 3), _rand(3, 3), "mean"), {},
     *_raises(ValueError, "mse", "'target'")),
    ("mse_backward_dloss_shape", "mse_backward", (_rand(4, 3), _rand(4, 3), np.ones(4), "none"),
     {}, *_raises(ValueError, "mse_backward", "'dloss'")),
    ("bce_probability_outside_unit_interval", "bce_forward",
     (np.array([0.5, 1.5]), np.array([0.0, 1.0]), "mean"), {}, *_raises(ValueError, "bce", "'p'")),
    ("bce_nan_probability", "bce_forward", (np.array([np.nan]), np.array([1.0]), "sum"), {},
     *_raises(ValueError, "bce", "'p'")),
    ("cross_entropy_target_float", "cross_entropy_forward",
     (_rand(4, 3), _TARGET.astype(float), "mean", -100), {},
     *_raises(TypeError, "cross_entropy", "'target'")),
    ("cross_entropy_target_shape", "cross_entropy_forward",
     (_rand(4, 3), _TARGET[:3].copy(), "mean", -100), {},
     *_raises(ValueError, "cross_entropy", "'target'")),
    ("cross_entropy_logits_3d", "cross_entropy_forward",
     (_rand(2, 3, 4), np.zeros((2, 4), np.int64), "mean", -100), {},
     *_raises(ValueError, "cross_entropy", "'logits'")),
    ("cross_entropy_ignore_index_beyond_int64", "cross_entropy_forward",
     (_rand(4, 3), _TARGET.copy(), "mean", 2**64), {},
     *_raises(TypeError, "cross_entropy_forward", "ignore_index")),
    ("nll_dloss_not_scalar", "nll_loss_backward",
     (_rand(4, 3), _TARGET.copy(), np.ones(1), "mean", -100), {},
     *_raises(ValueError, "nll_loss_backward", "'dloss'")),
    ("batch_norm_one_value_per_channel", "batch_norm_forward",
     (_rand(1, 3), None, None, None, None, True, 0.1, 1e-5), {},
     *_raises(ValueError, "batch_norm", "input")),
    ("batch_norm_eval_without_stats", "batch_norm_forward",
     (_rand(4, 3), None, None, None, None, False, 0.1, 1e-5), {},
     *_raises(ValueError, "batch_norm", "'running_mean'")),
    ("batch_norm_one_running_stat", "batch_norm_forward",
     (_rand(4, 3), None, None, np.zeros(3), None, True, 0.1, 1e-5), {},
     *_raises(ValueError, "batch_norm", "'running_var'")),
    ("batch_norm_running_stat_shape", "batch_norm_forward",
     (_rand(4, 3), None, None, np.zeros(4), np.ones(4), True, 0.1, 1e-5), {},
     *_raises(ValueError, "batch_norm", "'running_mean'")),
    ("batch_norm_backward_stat_shape", "batch_norm_backward",
     (_rand(4, 3), _rand(4, 3), None, np.zeros(2), np.ones(3), True), {},
     *_raises(ValueError, "batch_norm", "'save_mean'")),
    ("gemm_inner_mismatch", "gemm", (_rand(2, 3), _rand(4, 4)), {},
     *_raises(ValueError, "gemm", "(2, 3)", "(4, 4)")),
    ("gemm_beta_without_c", "gemm", (_rand(2, 3), _rand(3, 4)), dict(beta=1.0),
     *_raises(ValueError, "gemm", "beta")),
    ("gemm_bias_shape", "gemm", (_rand(2, 3), _rand(3, 4)), dict(bias=_rand(3)),
     *_raises(ValueError, "gemm", "'bias'")),
    ("gemm_row_bias_shape", "gemm", (_rand(2, 3), _rand(3, 4)), dict(row_bias=_rand(4)),
     *_raises(ValueError, "gemm", "'row_bias'")),
    ("gemm_huge_broadcast_view", "gemm",
     (np.lib.stride_tricks.as_strided(np.zeros(1), shape=(2**28, 2**28), strides=(0, 0)),
      _rand(3, 4)), {}, *_raises(ValueError, "gemm", "'a'")),
    ("sgd_buffer_shape", "sgd_step", ([_rand(3)], [_rand(3)], [np.zeros(4)], [False]), _SGD,
     *_raises(ValueError, "sgd_step", "'momentum_buffers[0]'")),
    ("sgd_buffer_missing", "sgd_step", ([_rand(3)], [_rand(3)], None, [False]), _SGD,
     *_raises(ValueError, "sgd_step", "'momentum_buffers'")),
    ("sgd_buffer_list", "sgd_step", ([_rand(3)], [_rand(3)], [[0.0, 0.0, 0.0]], [False]), _SGD,
     *_raises(TypeError, "sgd_step", "'momentum_buffers[0]'")),
    ("sgd_buffers_not_a_list", "sgd_step", ([_rand(3)], [_rand(3)], np.zeros(3), [False]), _SGD,
     *_raises(TypeError, "sgd_step", "'momentum_buffers'")),
    ("sgd_mixed_dtypes", "sgd_step",
     ([_rand(3).astype(np.float32)], [_rand(3)], [np.zeros(3, np.float32)], [False]),
     _SGD, *_raises(TypeError, "sgd_step", "'grads[0]'")),
    ("sgd_first_steps_length", "sgd_step", ([_rand(3)], [_rand(3)], [np.zeros(3)], []), _SGD,
     *_raises(ValueError, "sgd_step", "'first_steps'")),
    ("adam_step_zero", "adam_step", ([_rand(3)], [_rand(3)], [np.zeros(3)], [np.zeros(3)], None,
                                     [0]), _ADAM, *_raises(ValueError, "adam_step", "'steps[0]'")),
    ("adam_step_beyond_int64", "adam_step",
     ([_rand(3)], [_rand(3)], [np.zeros(3)], [np.zeros(3)], None, [2**70]), _ADAM,
     *_raises(TypeError, "adam_step", "'steps[0]'")),
    ("adam_amsgrad_state_missing", "adam_step",
     ([_rand(3)], [_rand(3)], [np.zeros(3)], [np.zeros(3)], None, [1]),
     {**_ADAM, "amsgrad": True}, *_raises(ValueError, "adam_step", "'max_exp_avg_sqs'")),
    ("adam_state_rank", "adam_step",
     ([_rand(3)], [_rand(3)], [np.zeros(3)], [np.zeros((3, 1))], None, [1]),
     _ADAM, *_raises(ValueError, "adam_step", "'exp_avg_sqs[0]'")),
    ("adam_params_not_a_list", "adam_step",
     (_rand(3), [_rand(3)], [np.zeros(3)], [np.zeros(3)], None, [1]),
     _ADAM, *_raises(TypeError, "adam_step", "'params'")),
    ("rmsprop_centered_state_missing", "rmsprop_step",
     ([_rand(3)], [_rand(3)], [np.zeros(3)], None, None),
     {**_RMSPROP, "centered": True}, *_raises(ValueError, "rmsprop_step", "'grad_avgs'")),
    ("rmsprop_momentum_state_missing", "rmsprop_step",
     ([_rand(3)], [_rand(3)], [np.zeros(3)], None, None),
     {**_RMSPROP, "momentum": 0.9}, *_raises(ValueError, "rmsprop_step", "'momentum_buffers'")),
    ("rmsprop_state_list_length", "rmsprop_step",
     ([_rand(3)], [_rand(3)], [np.zeros(3), np.zeros(3)], None, None),
     _RMSPROP, *_raises(ValueError, "rmsprop_step", "'square_avgs'")),
    ("adadelta_acc_deltas_missing", "adadelta_step",
     ([_rand(3)], [_rand(3)], [np.zeros(3)], None),
     _ADADELTA, *_raises(ValueError, "adadelta_step", "'acc_deltas'")),
    ("adadelta_state_rank", "adadelta_step",
     ([_rand(3)], [_rand(3)], [np.zeros((3, 1))], [np.zeros(3)]),
     _ADADELTA, *_raises(ValueError, "adadelta_step", "'square_avgs[0]'")),
    ("adagrad_state_sums_missing", "adagrad_step",
     ([_rand(3)], [_rand(3)], None, [1]),
     _ADAGRAD, *_raises(ValueError, "adagrad_step", "'state_sums'")),
    ("adagrad_step_zero", "adagrad_step",
     ([_rand(3)], [_rand(3)], [np.zeros(3)], [0]),
     _ADAGRAD, *_raises(ValueError, "adagrad_step", "'steps[0]'")),
    ("set_num_threads_zero", "set_num_threads", (0,), {},
     *_raises(ValueError, "set_num_threads", "'n'")),
    # 10**6 threads hung the next parallel region before the bound.
    ("set_num_threads_absurd", "set_num_threads", (10**6,), {},
     *_raises(ValueError, "set_num_threads", "'n'")),
    ("linear_backward_weight_columns", "linear_backward",
     (_rand(4, 3), _rand(4, 5), _rand(3, 6), None, True, True, True), {},
     *_raises(ValueError, "linear_backward", "'weight'", "(3, 6)")),
    ("linear_backward_dy_shape", "linear_backward",
     (_rand(4, 2), _rand(4, 5), _rand(3, 5), None, True, True, True), {},
     *_raises(ValueError, "linear_backward", "'dy'", "(4, 2)")),
    ("linear_backward_relu_output_shape", "linear_backward",
     (_rand(4, 3), _rand(4, 5), _rand(3, 5), _rand(3, 4), True, True, True), {},
     *_raises(ValueError, "linear_backward", "'relu_output'")),
    ("linear_backward_mixed_dtypes", "linear_backward",
     (_rand(4, 3), _rand(4, 5).astype(np.float32), _rand(3, 5), None, True, True, True), {},
     *_raises(TypeError, "linear_backward", "'x'")),
    ("set_simd_loops_unknown", "set_simd_loops", ("sse9",), {},
     *_raises(ValueError, "set_simd_loops", "'isa'")),
    ("set_simd_loops_bool", "set_simd_loops", (True,), {},
     *_raises(TypeError, "set_simd_loops", "isa")),
    ("set_gemm_isa_unknown", "_set_gemm_isa", ("bogus",), {},
     *_raises(ValueError, "_set_gemm_isa", "'name'")),
    # A NaN bound clamped one side only (x < NaN is false): hardtanh(x, nan, 1) returned
    # min(x, 1), hardtanh's backward passed dy below -1; torch gives NaN.
    ("hardtanh_min_val_nan", "hardtanh_forward", (_rand(5), np.nan, 1.0), {},
     *_raises(ValueError, "hardtanh_forward", "'min_val' is nan")),
    ("hardtanh_max_val_nan", "hardtanh_forward", (_rand(5), -1.0, np.nan), {},
     *_raises(ValueError, "hardtanh_forward", "'max_val' is nan")),
    ("hardtanh_backward_min_val_nan", "hardtanh_backward", (_rand(5), _rand(5), np.nan, 1.0), {},
     *_raises(ValueError, "hardtanh_backward", "'min_val' is nan")),
    ("hardtanh_out_nan_bound", "hardtanh_forward", (_rand(5), np.nan, 1.0),
     dict(out=np.zeros(5)), *_raises(ValueError, "hardtanh_forward", "'min_val'")),
]


@pytest.mark.parametrize("case", _HOSTILE_CALLS, ids=[c[0] for c in _HOSTILE_CALLS])
def test_hostile_call_raises_named_error(case):
    _, name, args, kwargs, exc_type, fragments = case
    with pytest.raises(exc_type) as info:
        getattr(_C, name)(*args, **kwargs)
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in: {info.value}"


@pytest.mark.parametrize("bad", [3, 7, -3, 2**62, -(2**63)])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_target_out_of_range(name, bad):
    target = _TARGET.copy()
    target[2] = bad
    forward, backward = getattr(_C, name + "_forward"), getattr(_C, name + "_backward")
    with pytest.raises(IndexError, match=rf"{name}_forward: argument 'target' holds {bad} at index 2"):
        forward(_rand(4, 3), target, "mean", -100)
    with pytest.raises(IndexError, match=rf"{name}_backward: argument 'target' holds {bad}"):
        backward(_rand(4, 3), target, np.array(1.0), "mean", -100)


@pytest.mark.parametrize("bad", [25, 10**12, -2, -(10**12), 2**63 - 1])
def test_max_pool_backward_index_out_of_range(bad):
    output, indices = _pool_out()
    indices[0, 1, 1, 0] = bad
    message = r"max_pool2d_backward: argument 'indices' holds 1 value\(s\) outside \[0, 25\)"
    with pytest.raises(IndexError, match=message):
        _C.max_pool2d_backward(output, indices, [1, 2, 5, 5])


@pytest.mark.parametrize("name,args", [
    ("embedding_forward", lambda bad: (_rand(5, 3), bad)),
    ("embedding_backward", lambda bad: (_rand(*bad.shape, 3), bad, 5, None))])
@pytest.mark.parametrize("bad", [np.array([0, 5]), np.array([[-1, 0]]), np.array([2**40]),
                                 np.array([7], np.int32), np.array([-2**31], np.int32)])
def test_embedding_index_out_of_range_is_refused(name, args, bad):
    with pytest.raises(IndexError, match=r"kernn\.embedding.*'indices' holds -?\d+ at flat "
                                         r"position \d.*num_embeddings = 5"):
        getattr(_C, name)(*args(bad))


@pytest.mark.parametrize("bad", [np.array([1.0]), np.array([1], np.uint8),
                                 np.array([1], np.int16)])
def test_embedding_indices_of_another_dtype_are_refused(bad):
    with pytest.raises(TypeError, match="embedding.*'indices'.*expected int64 or int32"):
        _C.embedding_forward(_rand(5, 3), bad)


def test_embedding_backward_bad_padding_idx_and_shape():
    with pytest.raises(ValueError, match="embedding_backward.*'padding_idx' is 5"):
        _C.embedding_backward(_rand(2, 3), np.array([0, 1]), 5, 5)
    with pytest.raises(ValueError, match=r"embedding_backward.*'grad_output' has shape \(3, 3\)"):
        _C.embedding_backward(_rand(3, 3), np.array([0, 1]), 5, None)
    with pytest.raises(ValueError, match="embedding_backward.*'indices'.*not C-contiguous"):
        _C.embedding_backward(_rand(2, 3), np.array([0, 9, 1])[::2], 5, None)


def test_embedding_backward_without_columns_allocates_nothing():
    # dim 0: the gradient has no element, but the kernel bucketed the indices over
    # num_embeddings + 1 int64s first: 8 TiB for 2**40 rows, a bare "std::bad_alloc" MemoryError
    # (or, for 2**31 rows, 16 GiB taken and zeroed).
    dweight = _C.embedding_backward(np.zeros((2, 0)), np.array([0, 2**40 - 1]), 2**40, None)
    assert dweight.shape == (2**40, 0)
    assert _C.embedding_backward(np.zeros((0, 3)), np.zeros(0, np.int64), 0, None).shape == (0, 3)


# The activations whose forward takes out= (x itself for the in-place F.relu_ and friends).
_OUT_CALLS = {
    "relu_forward": (), "leaky_relu_forward": (0.1,), "elu_forward": (1.0,), "silu_forward": (),
    "hardtanh_forward": (-1.0, 1.0),
}


def _shifted_alias():
    buffer = np.zeros(20)
    x = buffer[:12].reshape(3, 4)
    x[...] = _rand(3, 4)
    return x, buffer[4:16].reshape(3, 4)


def _read_only():
    out = np.zeros((3, 4))
    out.setflags(write=False)
    return out


_OUT_HOSTILE = {
    "read_only": (lambda: (_rand(3, 4), _read_only()), ValueError, "read-only"),
    "float32": (lambda: (_rand(3, 4), np.zeros((3, 4), np.float32)), TypeError, "float32"),
    "int64": (lambda: (_rand(3, 4), np.zeros((3, 4), np.int64)), TypeError, "int64"),
    "big_endian": (lambda: (_rand(3, 4), np.zeros((3, 4), ">f8")), TypeError, ">f8"),
    "transposed_shape": (lambda: (_rand(3, 4), np.zeros((4, 3))), ValueError, "(4, 3)"),
    "extra_axis": (lambda: (_rand(3, 4), np.zeros((1, 3, 4))), ValueError, "(1, 3, 4)"),
    "non_contiguous": (lambda: (_rand(3, 4), np.zeros((3, 8))[:, ::2]), ValueError,
                       "not C-contiguous"),
    "fortran_order": (lambda: (_rand(3, 4), np.zeros((4, 3)).T), ValueError, "not C-contiguous"),
    "broadcast_view": (lambda: (_rand(3, 4), np.broadcast_to(np.zeros(4), (3, 4))), ValueError,
                       "out"),
    "overlapping_x": (_shifted_alias, ValueError, "overlaps 'x'"),
}


@pytest.mark.parametrize("label", sorted(_OUT_HOSTILE))
@pytest.mark.parametrize("name", sorted(_OUT_CALLS))
def test_activation_out_argument_is_checked_before_writing(name, label):
    make, exc_type, fragment = _OUT_HOSTILE[label]
    x, out = make()
    x_before, out_before = x.copy(), np.array(out)
    with pytest.raises(exc_type, match=re.escape(fragment)) as info:
        getattr(_C, name)(x, *_OUT_CALLS[name], out=out)
    _assert_names_op_and_arg(info.value, name, "out")
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(out, out_before)


@pytest.mark.parametrize("name", sorted(_OUT_CALLS))
def test_activation_out_may_be_x_or_a_view_of_it(name):
    x = _rand(3, 4)
    expected = getattr(_C, name)(x, *_OUT_CALLS[name])
    y = getattr(_C, name)(x, *_OUT_CALLS[name], out=x.view())
    assert np.shares_memory(y, x)
    np.testing.assert_array_equal(x, expected)
    empty = np.zeros((0, 4))
    assert getattr(_C, name)(empty, *_OUT_CALLS[name], out=empty).shape == (0, 4)


def test_batch_norm_running_stats_sharing_memory_are_refused():
    # Both updated in place from one kernel: the same array for both gave garbage statistics.
    stats = np.ones(3)
    with pytest.raises(ValueError,
                       match=r"'running_mean' \(3,\) shares memory with argument 'running_var' \(3,\)"):
        _C.batch_norm_forward(_rand(4, 3, 2), None, None, stats, stats, True, 0.1, 1e-5)
    np.testing.assert_array_equal(stats, np.ones(3))
    x = _rand(4, 3)
    with pytest.raises(ValueError,
                       match=r"'running_var' \(3,\) shares memory with argument 'input' \(4, 3\)"):
        _C.batch_norm_forward(x, None, None, np.zeros(3), x[0], True, 0.1, 1e-5)


def test_batch_norm_eval_may_share_running_stats():
    # Not training, nothing is written: the same array for both statistics is only read.
    stats = np.ones(3)
    x = _rand(4, 3)
    out, _, _ = _C.batch_norm_forward(x, None, None, stats, stats, False, 0.1, 0.0)
    np.testing.assert_allclose(out, (x - 1.0) / 1.0)


# Zero-size inputs give torch's (empty) result.
def _torch_conv(x, w, **kw):
    return torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kw).numpy()


@pytest.mark.parametrize("name", ["conv2d_forward", "conv2d_forward_reference"])
def test_conv_zero_batch_matches_torch(name):
    x, w = _rand(0, 2, 5, 5), _rand(3, 2, 3, 3)
    np.testing.assert_array_equal(getattr(_C, name)(x, w), _torch_conv(x, w))


@pytest.mark.parametrize("name", ["conv2d_forward", "conv2d_forward_reference"])
def test_conv_zero_input_channels_gives_the_bias(name):
    # An empty sum over channels is 0, so the output is the bias. torch returns a (1, 0, 3, 3)
    # tensor here instead (its output channels collapse with the input's); kernn documents the
    # mathematically defined result.
    bias = _rand(3)
    out = getattr(_C, name)(_rand(1, 0, 5, 5), _rand(3, 0, 3, 3), bias)
    np.testing.assert_array_equal(out, np.broadcast_to(bias[None, :, None, None], (1, 3, 3, 3)))


def test_conv_backward_zero_batch_gives_zero_weight_gradient():
    grad_input, grad_weight, grad_bias = _C.conv2d_backward(
        _rand(0, 2, 5, 5), _rand(3, 2, 3, 3), _rand(0, 3, 3, 3))
    assert grad_input.shape == (0, 2, 5, 5)
    np.testing.assert_array_equal(grad_weight, np.zeros((3, 2, 3, 3)))
    np.testing.assert_array_equal(grad_bias, np.zeros(3))


def test_zero_size_raises_where_kernn_documents_it():
    # Empty output channels or an empty image: kernn refuses (torch returns an empty tensor or
    # raises depending on the op); the message says which extent is empty.
    with pytest.raises(ValueError, match="conv2d.*non-empty"):
        _C.conv2d_forward(_rand(1, 2, 5, 5), _rand(0, 2, 3, 3))
    with pytest.raises(ValueError, match="max_pool2d.*spatial size must be non-empty"):
        _C.max_pool2d_forward(_rand(1, 2, 0, 5), 2)
    with pytest.raises(ValueError, match="batch_norm.*more than 1 value per channel"):
        _C.batch_norm_forward(_rand(0, 3, 2), None, None, np.zeros(3), np.ones(3), True, 0.1, 1e-5)


def test_pooling_zero_batch_matches_torch():
    x = _rand(0, 2, 5, 5)
    t = torch.from_numpy(x)
    out, idx = _C.max_pool2d_forward(x, 2)
    assert out.shape == torch.nn.functional.max_pool2d(t, 2).shape == idx.shape
    assert _C.avg_pool2d_forward(x, 2).shape == torch.nn.functional.avg_pool2d(t, 2).shape
    assert (_C.adaptive_avg_pool2d_forward(x, 3).shape
            == torch.nn.functional.adaptive_avg_pool2d(t, 3).shape)


def test_pooling_zero_channels_gives_empty_output():
    # torch raises for C = 0 with N > 0; kernn returns the empty result.
    x = _rand(1, 0, 5, 5)
    out, idx = _C.max_pool2d_forward(x, 2)
    assert out.shape == idx.shape == (1, 0, 2, 2)
    assert _C.avg_pool2d_forward(x, 2).shape == (1, 0, 2, 2)
    assert _C.adaptive_avg_pool2d_forward(x, 3).shape == (1, 0, 3, 3)
    assert _C.max_pool2d_backward(out, idx, [1, 0, 5, 5]).shape == (1, 0, 5, 5)


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_gemm_zero_size_matches_numpy(shape):
    m, k = shape
    a, b = _rand(m, k), _rand(k, 4)
    for gemm in (_C.gemm, _C.gemm_reference):
        np.testing.assert_array_equal(gemm(a, b), np.zeros((m, 4)))
        c = np.ones((m, 4))
        gemm(a, b, c, beta=2.0)  # k = 0: only beta * c
        np.testing.assert_array_equal(c, np.full((m, 4), 2.0))


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_class_loss_empty_batch_matches_torch(name):
    logits, target = np.zeros((0, 3)), np.zeros(0, np.int64)
    torch_fn = getattr(torch.nn.functional, name)
    for reduction in ("mean", "sum", "none"):
        ours = getattr(_C, name + "_forward")(logits, target, reduction, -100)
        theirs = torch_fn(torch.from_numpy(logits), torch.from_numpy(target), reduction=reduction)
        np.testing.assert_array_equal(ours, theirs.numpy())  # NaN for "mean", as torch
    grad = getattr(_C, name + "_backward")(logits, target, np.array(1.0), "mean", -100)
    assert grad.shape == (0, 3)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softsign", "softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 3), ()])
def test_elementwise_zero_size_and_scalar(name, shape):
    x = _rand(*shape)
    if name in ("softmax", "log_softmax") and x.ndim == 0:
        with pytest.raises(ValueError, match=f"{name}_forward: argument 'x'"):
            getattr(_C, name + "_forward")(x)
        return
    expected = getattr(torch.nn.functional, name)
    t = torch.from_numpy(x)
    ref = expected(t, dim=-1) if name in ("softmax", "log_softmax") else expected(t)
    np.testing.assert_allclose(getattr(_C, name + "_forward")(x), ref.numpy(), rtol=1e-14)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softsign", "softmax", "log_softmax"])
def test_elementwise_nan_and_inf_match_torch(name):
    x = np.array([[np.nan, 1.0, -2.0], [np.inf, -np.inf, 0.5], [-np.inf, -np.inf, -np.inf]])
    expected = getattr(torch.nn.functional, name)
    t = torch.from_numpy(x)
    ref = expected(t, dim=-1) if name in ("softmax", "log_softmax") else expected(t)
    np.testing.assert_allclose(getattr(_C, name + "_forward")(x), ref.numpy(), rtol=1e-14)


@pytest.mark.parametrize("name", ["sgd_step", "adam_step", "rmsprop_step", "adadelta_step",
                                  "adagrad_step"])
def test_optimizer_step_on_empty_parameter(name):
    args, kwargs = VALID_CALLS[name]()
    for index in _float_array_args(name):
        args = _with_array(args, index, np.zeros((0, 2)))
    assert getattr(_C, name)(*args, **kwargs) is None


def test_bias_grad_zero_rows_sums_to_zero():
    np.testing.assert_array_equal(_C.bias_grad(np.zeros((0, 3))), np.zeros(3))
    assert _C.bias_grad(np.zeros((3, 0))).shape == (0,)
