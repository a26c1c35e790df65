"""Activation and dropout modules against torch."""

import re

import numpy as np
import pytest
import torch

import kernn
import kernn.nn as nn
from torch_compare import compare, compare_modules

SHAPES = [(1,), (7, 13), (2, 3, 5), (4, 1, 17)]

MODULES = {
    "ReLU": lambda lib: lib.nn.ReLU(),
    "LeakyReLU": lambda lib: lib.nn.LeakyReLU(0.2),
    "Sigmoid": lambda lib: lib.nn.Sigmoid(),
    "Tanh": lambda lib: lib.nn.Tanh(),
    "Softsign": lambda lib: lib.nn.Softsign(),
    "ELU": lambda lib: lib.nn.ELU(),
    "ELU0.4": lambda lib: lib.nn.ELU(alpha=0.4),
    "GELU": lambda lib: lib.nn.GELU(),
    "GELUtanh": lambda lib: lib.nn.GELU(approximate="tanh"),
    "SiLU": lambda lib: lib.nn.SiLU(),
    "Softplus": lambda lib: lib.nn.Softplus(),
    "Softplus2": lambda lib: lib.nn.Softplus(beta=2.0, threshold=5.0),
    "Hardtanh": lambda lib: lib.nn.Hardtanh(),
    "Hardtanh-2,3": lambda lib: lib.nn.Hardtanh(-2.0, 3.0),
    "ReLU6": lambda lib: lib.nn.ReLU6(),
    "LogSigmoid": lambda lib: lib.nn.LogSigmoid(),
    "Softmax": lambda lib: lib.nn.Softmax(dim=-1),
    "Softmax0": lambda lib: lib.nn.Softmax(dim=0),
    "LogSoftmax": lambda lib: lib.nn.LogSoftmax(dim=1),
    "Flatten": lambda lib: lib.nn.Flatten(),
    "Identity": lambda lib: lib.nn.Identity(),
}


@pytest.mark.parametrize("name", sorted(MODULES))
@pytest.mark.parametrize("shape", SHAPES)
def test_module_matches_torch(name, shape, float_dtype, rng):
    if name in ("LogSoftmax", "Flatten") and len(shape) < 2:
        shape = (3, 4)
    x = rng.standard_normal(shape) * 3
    compare_modules(MODULES[name](kernn), MODULES[name](torch), [x], dtype=float_dtype)


def test_extreme_values(float_dtype):
    x = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]])
    for name in ("Sigmoid", "Tanh", "Softsign", "Softmax", "LogSoftmax", "ELU", "GELU",
                 "GELUtanh", "SiLU", "Softplus", "Softplus2", "LogSigmoid"):
        compare_modules(MODULES[name](kernn), MODULES[name](torch), [x], dtype=float_dtype)


# Inputs exactly at the kinks (the gradient there must be torch's), signed zeros and large
# values, for the piecewise activations.
KINK_INPUTS = {
    "ELU": [-1e4, -1.0, -0.0, 0.0, 1e4],
    "ELU0.4": [-0.0, 0.0],
    "Hardtanh": [-1e4, -1.0, -0.0, 0.0, 1.0, 1e4],
    "Hardtanh-2,3": [-2.0, 3.0],
    "ReLU6": [-1.0, -0.0, 0.0, 6.0, 1e4],
    "Softplus": [20.0, -1e4, 1e4],
    "Softplus2": [2.5, -1e4],
    "LogSigmoid": [-1e4, -0.0, 0.0, 1e4],
}


@pytest.mark.parametrize("name", sorted(KINK_INPUTS))
def test_kinks_and_extremes_match_torch(name, float_dtype):
    x = np.array([KINK_INPUTS[name]])
    compare_modules(MODULES[name](kernn), MODULES[name](torch), [x], dtype=float_dtype)


@pytest.mark.parametrize("name", ["ReLU", "ELU", "GELU", "SiLU", "Softplus", "Hardtanh",
                                  "ReLU6", "LogSigmoid"])
def test_non_contiguous_input_matches_torch(name, float_dtype, rng):
    x = rng.standard_normal((6, 11)) * 3
    compare(lambda l, t: MODULES[name](l)(t.t()[1:, ::2]), [x], dtype=float_dtype)


def test_log_sigmoid_of_minus_1e4_is_minus_1e4():
    for dtype in (kernn.float32, kernn.float64):
        assert nn.LogSigmoid()(kernn.tensor([-1e4], dtype=dtype)).item() == -1e4


def test_functional_forms(float_dtype, rng):
    x = rng.standard_normal((4, 6))
    compare(lambda l, t: l.nn.functional.leaky_relu(t, 0.3) + l.relu(t) + l.sigmoid(t)
            + l.tanh(t) + l.nn.functional.softsign(t) + l.softmax(t, 1) + t.log_softmax(0),
            [x], dtype=float_dtype)
    # Positional and keyword options as torch's signatures.
    compare(lambda l, t: l.nn.functional.elu(t, 0.5) + l.nn.functional.gelu(t, approximate="tanh")
            + l.nn.functional.silu(t) + l.nn.functional.softplus(t, 3.0, 2.0)
            + l.nn.functional.hardtanh(t, -0.5, max_val=0.7) + l.nn.functional.relu6(t * 4)
            + l.nn.functional.logsigmoid(t), [x], dtype=float_dtype)


def test_repr():
    # Each against torch's repr of the same module.
    for make in (lambda lib: lib.nn.ReLU(), lambda lib: lib.nn.ReLU(inplace=True),
                 lambda lib: lib.nn.LeakyReLU(0.2), lambda lib: lib.nn.LeakyReLU(0.2, True),
                 lambda lib: lib.nn.Softmax(dim=1), lambda lib: lib.nn.Dropout(0.3),
                 lambda lib: lib.nn.ELU(), lambda lib: lib.nn.ELU(0.5, inplace=True),
                 lambda lib: lib.nn.GELU(), lambda lib: lib.nn.GELU("tanh"),
                 lambda lib: lib.nn.SiLU(), lambda lib: lib.nn.SiLU(inplace=True),
                 lambda lib: lib.nn.Softplus(), lambda lib: lib.nn.Softplus(2, 10),
                 lambda lib: lib.nn.Hardtanh(), lambda lib: lib.nn.Hardtanh(-2.0, 3, True),
                 lambda lib: lib.nn.ReLU6(), lambda lib: lib.nn.ReLU6(inplace=True),
                 lambda lib: lib.nn.LogSigmoid()):
        assert repr(make(kernn)) == repr(make(torch))
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(nn.ELU(0.5, inplace=True)) == "ELU(alpha=0.5, inplace=True)"


def test_bad_activation_arguments():
    with pytest.raises(ValueError,
                       match=r"gelu: argument 'approximate' must be 'none' or 'tanh', got 'erf'"):
        nn.functional.gelu(kernn.ones(2), approximate="erf")
    with pytest.raises(ValueError, match=r"GELU: argument 'approximate'"):
        nn.GELU("sigmoid")
    with pytest.raises(ValueError,
                       match=r"hardtanh: min_val \(2.0\) cannot be greater than max_val \(1.0\)"):
        nn.functional.hardtanh(kernn.ones(2), 2.0, 1.0)
    for bounds in ((1.0, -1.0), (1.0, 1.0)):  # torch's module also refuses equal bounds
        with pytest.raises(ValueError, match=rf"Hardtanh: max_val \({bounds[1]}\) must be "
                                             rf"greater than min_val \({bounds[0]}\)"):
            nn.Hardtanh(*bounds)
        with pytest.raises(AssertionError):
            torch.nn.Hardtanh(*bounds)
    assert nn.functional.hardtanh(kernn.ones(2), 1.0, 1.0).tolist() == [1.0, 1.0]
    for bounds, arg in (((float("nan"), 1.0), "min_val"), ((-1.0, float("nan")), "max_val")):
        with pytest.raises(ValueError, match=rf"hardtanh: argument '{arg}' is nan"):
            nn.functional.hardtanh(kernn.ones(2), *bounds)
    for fn in (nn.functional.elu, nn.functional.gelu, nn.functional.silu,
               nn.functional.softplus, nn.functional.hardtanh, nn.functional.relu6,
               nn.functional.logsigmoid):
        name = fn.__name__
        if fn not in (nn.functional.hardtanh, nn.functional.relu6):  # these clamp integers
            with pytest.raises(TypeError, match=rf"{name}: argument 'input' must be a float32 "
                                                r"or float64 tensor, got kernn.int64"):
                fn(kernn.tensor([1, 2]))
        with pytest.raises(TypeError,
                           match=rf"{name}: argument 'input' must be a kernn.Tensor, got list"):
            fn([1.0, 2.0])


# ---- inplace ------------------------------------------------------------------------------

# F name -> options after the input, for the activations that take ``inplace``.
INPLACE = {"relu": (), "leaky_relu": (0.2,), "elu": (0.7,), "silu": (), "hardtanh": (-0.5, 0.8),
           "relu6": ()}


def _inplace_inputs(rng, float_dtype):
    x = rng.standard_normal((5, 7)) * 4
    x[0, :4] = [0.0, -0.5, 0.8, 6.0]  # kinks of relu, hardtanh(-0.5, 0.8) and relu6
    return x.astype(float_dtype)


@pytest.mark.parametrize("name", sorted(INPLACE))
@pytest.mark.parametrize("view", ["contiguous", "transposed"])
def test_inplace_without_autograd_overwrites_the_input_as_torch(name, view, float_dtype, rng):
    x = _inplace_inputs(rng, float_dtype)
    results = {}
    for lib in (kernn, torch):
        base = lib.tensor(x.copy())
        t = base if view == "contiguous" else base.t()[1:]  # a strided view into base
        out = getattr(lib.nn.functional, name)(t, *INPLACE[name], inplace=True)
        assert out is t, f"{lib.__name__}: inplace=True must return its input"
        results[lib] = base.numpy().copy()
    np.testing.assert_allclose(results[kernn], results[torch], rtol=1e-6, atol=1e-7)
    assert not np.array_equal(results[kernn], x), "the input was not changed"


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_under_no_grad_overwrites_a_tensor_that_requires_grad(name, float_dtype, rng):
    x = _inplace_inputs(rng, float_dtype)
    results = {}
    for lib in (kernn, torch):
        t = lib.tensor(x.copy(), requires_grad=True)
        with lib.no_grad():
            out = getattr(lib.nn.functional, name)(t, *INPLACE[name], inplace=True)
        assert out is t
        results[lib] = t.detach().numpy().copy()
    np.testing.assert_allclose(results[kernn], results[torch], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_while_recording_computes_out_of_place(name, float_dtype, rng):
    # torch writes into the (non-leaf) input; kernn returns a new tensor with the same values
    # and the same gradients, and leaves the input as it was.
    x = _inplace_inputs(rng, float_dtype)
    g = rng.standard_normal(x.shape).astype(float_dtype)
    k_leaf = kernn.tensor(x.copy(), requires_grad=True)
    k_in = k_leaf * 1.0
    k_out = getattr(kernn.nn.functional, name)(k_in, *INPLACE[name], inplace=True)
    assert k_out is not k_in
    np.testing.assert_array_equal(k_in.detach().numpy(), x)
    t_leaf = torch.tensor(x.copy(), requires_grad=True)
    t_out = getattr(torch.nn.functional, name)(t_leaf * 1.0, *INPLACE[name], inplace=True)
    np.testing.assert_allclose(k_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6,
                               atol=1e-7)
    (k_out * kernn.tensor(g)).sum().backward()
    (t_out * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(k_leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("module", ["ReLU", "LeakyReLU", "ELU", "SiLU", "Hardtanh", "ReLU6"])
def test_inplace_modules(module):
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 7.0]])
    kmod, tmod = getattr(kernn.nn, module)(inplace=True), getattr(torch.nn, module)(inplace=True)
    k, t = kernn.tensor(x.copy()), torch.tensor(x.copy())
    assert kmod(k) is k and tmod(t) is t
    np.testing.assert_allclose(k.numpy(), t.numpy(), rtol=1e-12)
    # Recording: a leaf that requires grad is left alone (torch raises for a leaf).
    leaf = kernn.tensor(x.copy(), requires_grad=True)
    y = kmod(leaf)
    assert y is not leaf
    np.testing.assert_array_equal(leaf.detach().numpy(), x)
    np.testing.assert_allclose(y.detach().numpy(), t.numpy(), rtol=1e-12)
    # Without inplace nothing is overwritten.
    plain = kernn.tensor(x.copy())
    assert getattr(kernn.nn, module)()(plain) is not plain
    np.testing.assert_array_equal(plain.numpy(), x)


@pytest.mark.parametrize("name", ["relu_", "leaky_relu_", "elu_", "hardtanh_"])
def test_in_place_functions_as_torch(name, float_dtype, rng):
    x = _inplace_inputs(rng, float_dtype)
    options = INPLACE[name[:-1]]
    results = {}
    for lib in (kernn, torch):
        t = lib.tensor(x.copy())
        assert getattr(lib.nn.functional, name)(t, *options) is t
        results[lib] = t.numpy()
        with pytest.raises(RuntimeError):  # a leaf that requires grad, in both
            getattr(lib.nn.functional, name)(lib.tensor(x.copy(), requires_grad=True), *options)
    np.testing.assert_allclose(results[kernn], results[torch], rtol=1e-6, atol=1e-7)


# (call, whether its lower bound is negative after truncation: refused for unsigned, as torch)
INTEGER_CLAMPS = {
    "relu": (lambda lib, t: lib.nn.functional.relu(t), False),
    "ReLU": (lambda lib, t: lib.nn.ReLU()(t), False),
    "relu6": (lambda lib, t: lib.nn.functional.relu6(t), False),
    "hardtanh": (lambda lib, t: lib.nn.functional.hardtanh(t), True),
    "hardtanh-1.5,2.5": (lambda lib, t: lib.nn.functional.hardtanh(t, -1.5, 2.5), True),
    "relu-inplace": (lambda lib, t: lib.nn.functional.relu(t, inplace=True), False),
    "Hardtanh-0.5,7.9-inplace": (lambda lib, t: lib.nn.Hardtanh(-0.5, 7.9, inplace=True)(t),
                                 False),  # -0.5 truncates to 0
    "kernn.relu": (lambda lib, t: lib.relu(t), False),
    "Tensor.relu": (lambda lib, t: t.relu(), False),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("name", sorted(INTEGER_CLAMPS))
def test_clamping_activations_of_integer_tensors_as_torch(name, dtype):
    call, negative_lower_bound = INTEGER_CLAMPS[name]
    x = np.array([-300, -3, -1, 0, 1, 2, 3, 6, 9, 300]).astype(dtype)  # uint8 wraps, as torch's
    results = {}
    for lib in (kernn, torch):
        t = lib.from_numpy(x.copy())
        if dtype == "uint8" and negative_lower_bound:
            with pytest.raises(RuntimeError, match="unsigned type with negative limits"):
                call(lib, t)
            continue
        out = call(lib, t)
        assert out.dtype == t.dtype
        results[lib] = (out.numpy().copy(), t.numpy().copy())
    if results:
        np.testing.assert_array_equal(results[kernn][0], results[torch][0])
        np.testing.assert_array_equal(results[kernn][1], results[torch][1])  # in place or not


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
@pytest.mark.parametrize("values", [[-3, 0, 2], [True, False]], ids=["int64", "bool"])
def test_sigmoid_and_tanh_of_integers_give_the_default_float(name, values):
    ours = getattr(kernn, name)(kernn.tensor(values))
    theirs = getattr(torch, name)(torch.tensor(values))
    assert ours.dtype == kernn.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_softsign_of_integers_gives_the_default_float_and_refuses_bool():
    ours = kernn.nn.functional.softsign(kernn.tensor([-3, 0, 2]))
    theirs = torch.nn.functional.softsign(torch.tensor([-3, 0, 2]))
    assert ours.dtype == kernn.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="softsign: argument 'input' must be a float32 or float64"):
        kernn.nn.functional.softsign(kernn.tensor([True, False]))
    with pytest.raises(RuntimeError):
        torch.nn.functional.softsign(torch.tensor([True, False]))


# The modules that take a 0-d input (LogSoftmax's dim=1 does not exist there).
ZERO_DIMENSIONAL = sorted(set(MODULES) - {"LogSoftmax", "Flatten", "Identity"})


@pytest.mark.parametrize("name", ZERO_DIMENSIONAL)
def test_zero_dimensional_input_in_a_product_matches_torch(name, float_dtype):
    # The gradient reaching the 0-d output comes from the product's backward, as a numpy scalar.
    compare(lambda l, x, w: MODULES[name](l)(x) * w, [np.array(-0.7), np.array(1.3)],
            dtype=float_dtype)


def test_dropout_train_and_eval():
    kernn.manual_seed(0)
    d = nn.Dropout(0.25)
    x = kernn.ones(200, 100, requires_grad=True)
    y = d(x)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)
    d.eval()
    assert d(x) is x


def test_dropout_in_training_needs_a_float_tensor():
    x = kernn.ones(4, dtype=kernn.int32)
    with pytest.raises(TypeError, match="dropout: argument 'input' must be a float32 or float64"):
        nn.functional.dropout(x, 0.5)
    assert nn.functional.dropout(x, 0.5, training=False) is x


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.functional.dropout(kernn.ones(2), -0.1)


def test_flatten_dim_out_of_range():
    with pytest.raises(IndexError, match="flatten"):
        nn.Flatten()(kernn.ones(3))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((2, 3), 2), ((2, 3), -3), ((), 1), ((), -2)])
def test_softmax_dim_out_of_range(name, shape, dim):
    # A 0-d tensor takes dim 0 or -1 only, as torch.
    with pytest.raises(IndexError, match=rf"^{name}: dimension {dim} out of range .*"
                                         rf"{re.escape(str(shape))}"):
        getattr(kernn.nn.functional, name)(kernn.ones(shape), dim)
    with pytest.raises(IndexError):
        getattr(torch.nn.functional, name)(torch.ones(shape), dim)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_of_a_zero_dimensional_tensor_as_torch(name, dim, float_dtype):
    compare(lambda l, x: getattr(l.nn.functional, name)(x, dim), [np.array(2.5)],
            dtype=float_dtype)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_of_integers_with_a_float_dtype_as_torch(name):
    # torch converts to dtype before it computes, so an integer input with a float dtype works.
    compare(lambda l, x: getattr(l.nn.functional, name)(x, 0, dtype=l.float64),
            [np.array([1, 2, 3])])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_softmax_without_dim_runs_over_the_last_dimension(name, requires_grad):
    # dim=None is the last dimension (kernn's documented default; torch picks by ndim and warns).
    x = np.random.default_rng(3).standard_normal((2, 3, 5))
    kx = kernn.tensor(x, requires_grad=requires_grad)
    got = getattr(kernn.nn.functional, name)(kx)
    want = getattr(torch.nn.functional, name)(torch.from_numpy(x), dim=-1)
    np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    module = {"softmax": kernn.nn.Softmax, "log_softmax": kernn.nn.LogSoftmax}[name]()
    np.testing.assert_array_equal(module(kx).detach().numpy(), got.detach().numpy())
    if requires_grad:
        (got * kernn.tensor(x)).sum().backward()
        tx = torch.from_numpy(x).requires_grad_()
        (getattr(torch.nn.functional, name)(tx, dim=-1) * torch.from_numpy(x)).sum().backward()
        np.testing.assert_allclose(kx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
