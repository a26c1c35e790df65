"""Fused optimizer kernels of kernn._C against torch.optim's single-tensor implementations,
over 20 steps with several hyper-parameter combinations; a call updating several parameters
against one call per parameter; bad arguments."""

import numpy as np
import pytest
import torch

from kernn import _C
from kernel_check import DTYPES, needs_simd_loops, same_under_1_and_2_threads, simd_loops

STEPS = 20

# The kernels follow torch's formulas op by op; they differ only where torch's vectorised add /
# lerp kernels fuse a multiply-add (one rounding instead of two): ~1 ulp per op per step, so
# about half the elements are not bitwise equal. float64: measured worst 1e-12 relative on an
# element that cancelled to near 0 (SGD with weight decay), <1e-14 elsewhere. float32: the same
# ulp differences, 2**29 times larger, accumulated over 20 steps and amplified by Adam's
# 1/(sqrt(v)+eps) where v is tiny: measured worst 2.3e-5 relative, on elements near 0 (atol),
# <1e-5 on the rest.
TOL = {np.float64: dict(rtol=1e-12, atol=1e-14), np.float32: dict(rtol=1e-5, atol=1e-6)}

SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
    dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05),
    dict(lr=0.02, momentum=0.5, maximize=True),
    dict(lr=0.1, weight_decay=0.1, maximize=True),
]
ADAM_CASES = [
    ("Adam", dict(lr=1e-3)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1)),
    ("Adam", dict(lr=1e-2, amsgrad=True)),
    ("Adam", dict(lr=1e-2, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.05, amsgrad=True,
                  maximize=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=3e-3, betas=(0.8, 0.99), maximize=True)),
]
RMSPROP_CASES = [
    dict(lr=1e-2),
    dict(lr=1e-2, centered=True),
    dict(lr=1e-2, momentum=0.9),
    dict(lr=5e-3, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5, centered=True),
    dict(lr=1e-2, alpha=0.95, maximize=True, weight_decay=0.01),
]
ADADELTA_CASES = [
    dict(),  # torch's defaults: lr=1.0, rho=0.9, eps=1e-6
    dict(lr=0.5, rho=0.8),
    dict(lr=1.0, eps=1e-4, weight_decay=0.1),
    dict(lr=0.3, rho=0.95, eps=1e-8, weight_decay=0.05, maximize=True),
    dict(lr=2.0, rho=0.0),  # no memory: every step uses only the current gradient
    dict(lr=1.0, rho=1.0, maximize=True),  # the averages never move from 0
]
ADAGRAD_CASES = [
    dict(),  # torch's defaults: lr=1e-2, eps=1e-10
    dict(lr=0.1, lr_decay=0.05),
    dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5),
    dict(lr=0.05, lr_decay=0.01, eps=1e-6, weight_decay=0.05, maximize=True),
]


def gradients(shape, dtype, seed):
    """A fixed sequence of gradients, with exact zeros (where Adam's denominator is eps)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(STEPS):
        g = rng.standard_normal(shape) * rng.uniform(0.1, 3.0)
        g[rng.uniform(size=shape) < 0.1] = 0.0
        out.append(g.astype(dtype))
    return out


def run_torch(optimizer_cls, kwargs, p0, grads):
    p = torch.from_numpy(p0.copy()).requires_grad_(True)
    opt = optimizer_cls([p], foreach=False, **kwargs)
    for g in grads:
        p.grad = torch.from_numpy(g.copy())
        opt.step()
    return p.detach().numpy(), opt.state[p]


def assert_close(actual, expected, dtype):
    np.testing.assert_allclose(actual, np.asarray(expected), **TOL[np.dtype(dtype).type])


def kernn_sgd(kwargs, p0, grads):
    o = dict(lr=kwargs["lr"], momentum=kwargs.get("momentum", 0.0),
             dampening=kwargs.get("dampening", 0.0), nesterov=kwargs.get("nesterov", False),
             weight_decay=kwargs.get("weight_decay", 0.0), maximize=kwargs.get("maximize", False))
    p = p0.copy()
    buf = np.zeros_like(p) if o["momentum"] != 0 else None
    for k, g in enumerate(grads):
        _C.sgd_step([p], [g], None if buf is None else [buf], [k == 0], **o)
    return p, buf


def kernn_adam(name, kwargs, p0, grads):
    beta1, beta2 = kwargs.get("betas", (0.9, 0.999))
    amsgrad = kwargs.get("amsgrad", False)
    default_wd = 1e-2 if name == "AdamW" else 0.0
    o = dict(lr=kwargs["lr"], beta1=beta1, beta2=beta2, eps=kwargs.get("eps", 1e-8),
             weight_decay=kwargs.get("weight_decay", default_wd), amsgrad=amsgrad,
             decoupled_weight_decay=name == "AdamW", maximize=kwargs.get("maximize", False))
    p = p0.copy()
    m, v = np.zeros_like(p), np.zeros_like(p)
    vmax = np.zeros_like(p) if amsgrad else None
    for k, g in enumerate(grads):
        _C.adam_step([p], [g], [m], [v], None if vmax is None else [vmax], [k + 1], **o)
    return p, m, v, vmax


def kernn_rmsprop(kwargs, p0, grads):
    o = dict(lr=kwargs["lr"], alpha=kwargs.get("alpha", 0.99), eps=kwargs.get("eps", 1e-8),
             weight_decay=kwargs.get("weight_decay", 0.0), momentum=kwargs.get("momentum", 0.0),
             centered=kwargs.get("centered", False), maximize=kwargs.get("maximize", False))
    p = p0.copy()
    sq = np.zeros_like(p)
    buf = np.zeros_like(p) if o["momentum"] > 0 else None
    gavg = np.zeros_like(p) if o["centered"] else None
    for g in grads:
        _C.rmsprop_step([p], [g], [sq], None if buf is None else [buf],
                        None if gavg is None else [gavg], **o)
    return p, sq, buf, gavg


def kernn_adadelta(kwargs, p0, grads):
    o = dict(lr=kwargs.get("lr", 1.0), rho=kwargs.get("rho", 0.9), eps=kwargs.get("eps", 1e-6),
             weight_decay=kwargs.get("weight_decay", 0.0), maximize=kwargs.get("maximize", False))
    p = p0.copy()
    sq, acc = np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        _C.adadelta_step([p], [g], [sq], [acc], **o)
    return p, sq, acc


def kernn_adagrad(kwargs, p0, grads):
    o = dict(lr=kwargs.get("lr", 1e-2), lr_decay=kwargs.get("lr_decay", 0.0),
             weight_decay=kwargs.get("weight_decay", 0.0), eps=kwargs.get("eps", 1e-10),
             maximize=kwargs.get("maximize", False))
    p = p0.copy()
    state_sum = np.full_like(p, kwargs.get("initial_accumulator_value", 0.0))
    for k, g in enumerate(grads):
        _C.adagrad_step([p], [g], [state_sum], [k + 1], **o)
    return p, state_sum


SHAPE = (37, 13)


def initial_param(dtype, shape=SHAPE):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_matches_torch(dtype, kwargs):
    p0, grads = initial_param(dtype), gradients(SHAPE, dtype, 1)
    p, buf = kernn_sgd(kwargs, p0, grads)
    pt, state = run_torch(torch.optim.SGD, kwargs, p0, grads)
    assert_close(p, pt, dtype)
    if buf is not None:
        assert_close(buf, state["momentum_buffer"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,kwargs", ADAM_CASES, ids=str)
def test_adam_and_adamw_match_torch(dtype, name, kwargs):
    p0, grads = initial_param(dtype), gradients(SHAPE, dtype, 2)
    p, m, v, vmax = kernn_adam(name, kwargs, p0, grads)
    pt, state = run_torch(getattr(torch.optim, name), kwargs, p0, grads)
    assert_close(p, pt, dtype)
    assert_close(m, state["exp_avg"], dtype)
    assert_close(v, state["exp_avg_sq"], dtype)
    if vmax is not None:
        assert_close(vmax, state["max_exp_avg_sq"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", RMSPROP_CASES, ids=str)
def test_rmsprop_matches_torch(dtype, kwargs):
    p0, grads = initial_param(dtype), gradients(SHAPE, dtype, 3)
    p, sq, buf, gavg = kernn_rmsprop(kwargs, p0, grads)
    pt, state = run_torch(torch.optim.RMSprop, kwargs, p0, grads)
    assert_close(p, pt, dtype)
    assert_close(sq, state["square_avg"], dtype)
    if buf is not None:
        assert_close(buf, state["momentum_buffer"], dtype)
    if gavg is not None:
        assert_close(gavg, state["grad_avg"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", ADADELTA_CASES, ids=str)
def test_adadelta_matches_torch(dtype, kwargs):
    p0, grads = initial_param(dtype), gradients(SHAPE, dtype, 6)
    p, sq, acc = kernn_adadelta(kwargs, p0, grads)
    pt, state = run_torch(torch.optim.Adadelta, kwargs, p0, grads)
    assert_close(p, pt, dtype)
    assert_close(sq, state["square_avg"], dtype)
    assert_close(acc, state["acc_delta"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", ADAGRAD_CASES, ids=str)
def test_adagrad_matches_torch(dtype, kwargs):
    p0, grads = initial_param(dtype), gradients(SHAPE, dtype, 8)
    p, state_sum = kernn_adagrad(kwargs, p0, grads)
    pt, state = run_torch(torch.optim.Adagrad, kwargs, p0, grads)
    assert_close(p, pt, dtype)
    assert_close(state_sum, state["sum"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adadelta_foreach_default_takes_the_single_tensor_path_on_cpu(dtype):
    # torch.optim.Adadelta(foreach=None) picks the for-loop implementation for CPU tensors, the
    # one the kernels follow: the same trajectory as foreach=False, bit for bit.
    p0, grads = initial_param(dtype, (1000,)), gradients((1000,), dtype, 7)
    kwargs = dict(lr=0.5, weight_decay=0.1)
    p = torch.from_numpy(p0.copy()).requires_grad_(True)
    opt = torch.optim.Adadelta([p], **kwargs)  # foreach=None
    for g in grads:
        p.grad = torch.from_numpy(g.copy())
        opt.step()
    np.testing.assert_array_equal(p.detach().numpy(),
                                  run_torch(torch.optim.Adadelta, kwargs, p0, grads)[0])
    assert_close(kernn_adadelta(kwargs, p0, grads)[0], p.detach().numpy(), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (0,), (17, 1, 3)])
def test_odd_shapes_match_torch(dtype, shape):
    p0, grads = initial_param(dtype, shape), gradients(shape, dtype, 4)
    kwargs = dict(lr=1e-2, weight_decay=0.1, amsgrad=True)
    p, *_ = kernn_adam("AdamW", kwargs, p0, grads)
    assert_close(p, run_torch(torch.optim.AdamW, kwargs, p0, grads)[0], dtype)
    kwargs = dict(lr=0.05, momentum=0.9, nesterov=True)
    assert_close(kernn_sgd(kwargs, p0, grads)[0], run_torch(torch.optim.SGD, kwargs, p0, grads)[0],
                 dtype)
    kwargs = dict(lr=0.5, rho=0.8, weight_decay=0.1)
    assert_close(kernn_adadelta(kwargs, p0, grads)[0],
                 run_torch(torch.optim.Adadelta, kwargs, p0, grads)[0], dtype)
    kwargs = dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)
    assert_close(kernn_adagrad(kwargs, p0, grads)[0],
                 run_torch(torch.optim.Adagrad, kwargs, p0, grads)[0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_with_1_and_2_threads(dtype):
    shape = (129, 67)  # above the parallel threshold
    p0, grads = initial_param(dtype, shape), gradients(shape, dtype, 5)

    def run():
        return (kernn_sgd(dict(lr=0.05, momentum=0.9, weight_decay=0.01), p0, grads)[0],
                kernn_adam("Adam", dict(lr=1e-2, amsgrad=True), p0, grads)[0],
                kernn_rmsprop(dict(lr=1e-2, centered=True, momentum=0.5), p0, grads)[0],
                kernn_adadelta(dict(lr=0.5, weight_decay=0.01), p0, grads)[0],
                kernn_adagrad(dict(lr=0.1, lr_decay=0.01, weight_decay=0.01), p0, grads)[0])

    same_under_1_and_2_threads(run)


OPTIMIZERS = ["SGD", "Adam", "RMSprop", "Adadelta", "Adagrad"]


@needs_simd_loops
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_simd_build_gives_the_portable_bits(dtype, optimizer):
    shape = (3, 67)  # 201 elements: whole vectors and a remainder in either build
    p0, grads = initial_param(dtype, shape), gradients(shape, dtype, 9)
    cases = {"SGD": [(kernn_sgd, (kwargs,)) for kwargs in SGD_CASES],
             "Adam": [(kernn_adam, case) for case in ADAM_CASES],
             "RMSprop": [(kernn_rmsprop, (kwargs,)) for kwargs in RMSPROP_CASES],
             "Adadelta": [(kernn_adadelta, (kwargs,)) for kwargs in ADADELTA_CASES],
             "Adagrad": [(kernn_adagrad, (kwargs,)) for kwargs in ADAGRAD_CASES]}[optimizer]
    for run, args in cases:
        results = []
        for simd in ("avx2", "portable"):
            with simd_loops(simd):
                results.append(run(*args, p0, grads))
        for got, want in zip(*results):
            if want is not None:
                np.testing.assert_array_equal(got, want, err_msg=f"{optimizer} {args}")


# ---- several parameters in one call -----------------------------------------------------

# Sizes around the 4096-element chunks that threads share, an empty parameter and one big
# enough to take the call over the parallel threshold.
GROUP_SHAPES = [(5,), (0,), (4095,), (4097,), (129, 67), (1,), (8192,)]


def group_arrays(dtype, seed):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(shape).astype(dtype) for shape in GROUP_SHAPES]
    grads = [rng.standard_normal(shape).astype(dtype) for shape in GROUP_SHAPES]
    states = [[rng.uniform(0.1, 1.0, shape).astype(dtype) for shape in GROUP_SHAPES]
              for _ in range(3)]
    return params, grads, states


def copies(arrays):
    return [a.copy() for a in arrays]


ADAM_GROUP_KW = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, amsgrad=True,
                     decoupled_weight_decay=False, maximize=False)
SGD_GROUP_KW = dict(lr=0.05, momentum=0.9, dampening=0.1, nesterov=False, weight_decay=0.01,
                    maximize=False)
RMSPROP_GROUP_KW = dict(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.5,
                        centered=True, maximize=False)
ADADELTA_GROUP_KW = dict(lr=0.5, rho=0.9, eps=1e-6, weight_decay=0.1, maximize=False)
ADAGRAD_GROUP_KW = dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, eps=1e-10, maximize=False)


def group_and_single_updates(optimizer, dtype):
    """The arrays after one call over all GROUP_SHAPES, and after one call per parameter (each
    parameter with its own Adam or Adagrad step count or SGD first step)."""
    params, grads, states = group_arrays(dtype, 11)
    steps = [1 + i * 3 for i in range(len(params))]
    first = [i % 2 == 0 for i in range(len(params))]

    def update(ps, gs, ss, idx):
        if optimizer == "Adam":
            _C.adam_step(ps, gs, ss[0], ss[1], ss[2], [steps[i] for i in idx], **ADAM_GROUP_KW)
        elif optimizer == "SGD":
            _C.sgd_step(ps, gs, ss[0], [first[i] for i in idx], **SGD_GROUP_KW)
        elif optimizer == "RMSprop":
            _C.rmsprop_step(ps, gs, ss[0], ss[1], ss[2], **RMSPROP_GROUP_KW)
        elif optimizer == "Adadelta":
            _C.adadelta_step(ps, gs, ss[0], ss[1], **ADADELTA_GROUP_KW)
        else:
            _C.adagrad_step(ps, gs, ss[0], [steps[i] for i in idx], **ADAGRAD_GROUP_KW)

    group = (copies(params), [copies(s) for s in states])
    update(group[0], grads, group[1], range(len(params)))
    single = (copies(params), [copies(s) for s in states])
    for i in range(len(params)):
        update([single[0][i]], [grads[i]], [[s[i]] for s in single[1]], [i])
    return group, single


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_one_call_for_a_group_gives_the_bits_of_one_call_per_parameter(dtype, optimizer):
    (group_params, group_states), (single_params, single_states) = \
        group_and_single_updates(optimizer, dtype)
    used_states = {"SGD": 1, "Adam": 3, "RMSprop": 3, "Adadelta": 2, "Adagrad": 1}[optimizer]
    for got, want in zip(group_params + sum(group_states[:used_states], []),
                         single_params + sum(single_states[:used_states], [])):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_group_update_has_the_same_bits_with_1_and_2_threads(dtype, optimizer):
    def group_update():
        params, states = group_and_single_updates(optimizer, dtype)[0]
        return tuple(params + sum(states, []))

    same_under_1_and_2_threads(group_update)


def test_empty_group_is_a_no_op():
    _C.adam_step([], [], [], [], None, [], **ADAM_KW)
    _C.sgd_step([], [], None, [], **SGD_KW)
    _C.rmsprop_step((), (), (), None, None, **RMSPROP_KW)
    _C.adadelta_step([], [], [], [], **ADADELTA_KW)
    _C.adagrad_step([], [], [], [], **ADAGRAD_KW)


# ---- bad inputs ---------------------------------------------------------------------------

SGD_KW = dict(lr=0.1, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0,
              maximize=False)
ADAM_KW = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
               amsgrad=False, decoupled_weight_decay=False, maximize=False)
RMSPROP_KW = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                  centered=False, maximize=False)
ADADELTA_KW = dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False)
ADAGRAD_KW = dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, eps=1e-10, maximize=False)


def test_param_must_be_a_writeable_contiguous_array_of_a_float_dtype():
    g = np.zeros(4)
    ro = np.zeros(4)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"sgd_step.*'params\[0\]'.*read-only"):
        _C.sgd_step([ro], [g], None, [False], **SGD_KW)
    with pytest.raises(ValueError, match=r"sgd_step.*'params\[1\]'.*not C-contiguous"):
        _C.sgd_step([np.zeros(4), np.zeros(8)[::2]], [g, g], None, [False] * 2, **SGD_KW)
    with pytest.raises(TypeError, match=r"sgd_step.*'params\[0\]'.*int64"):
        _C.sgd_step([np.zeros(4, np.int64)], [g], None, [False], **SGD_KW)
    # A list would be converted into a copy, which would swallow the update: refused.
    with pytest.raises(TypeError, match=r"sgd_step.*'params\[0\]' must be a numpy array"):
        _C.sgd_step([[0.0, 0.0, 0.0, 0.0]], [g], None, [False], **SGD_KW)
    with pytest.raises(TypeError, match=r"sgd_step.*'params\[1\]'.*float32.*float64"):
        _C.sgd_step([np.zeros(4), np.zeros(4, np.float32)], [g, g], None, [False] * 2, **SGD_KW)


def test_list_arguments_have_one_entry_per_parameter():
    p, g = np.zeros(3), np.zeros(3)
    with pytest.raises(TypeError, match=r"adam_step.*'params' must be a list.*ndarray"):
        _C.adam_step(p, [g], [np.zeros(3)], [np.zeros(3)], None, [1], **ADAM_KW)
    with pytest.raises(ValueError, match=r"adam_step.*'exp_avg_sqs' has 2 entries; expected 1"):
        _C.adam_step([p], [g], [np.zeros(3)], [np.zeros(3)] * 2, None, [1], **ADAM_KW)
    with pytest.raises(ValueError, match=r"adam_step.*'steps' has 0 entries; expected 1"):
        _C.adam_step([p], [g], [np.zeros(3)], [np.zeros(3)], None, [], **ADAM_KW)
    with pytest.raises(TypeError, match=r"adam_step.*'steps\[0\]' must be an int.*'1'"):
        _C.adam_step([p], [g], [np.zeros(3)], [np.zeros(3)], None, ["1"], **ADAM_KW)
    with pytest.raises(ValueError, match=r"sgd_step.*'grads' has 1 entries; expected 2"):
        _C.sgd_step([p, np.zeros(3)], [g], None, [False] * 2, **SGD_KW)


def test_state_must_match_the_param():
    p, g = np.zeros((2, 3)), np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"adam_step.*'exp_avg_sqs\[0\]'.*float32.*float64"):
        _C.adam_step([p], [g], [np.zeros((2, 3))], [np.zeros((2, 3), np.float32)], None, [1],
                     **ADAM_KW)
    with pytest.raises(ValueError,
                       match=r"adam_step.*'params\[0\]' \(2, 3\).*'exp_avgs\[0\]' \(3, 2\)"):
        _C.adam_step([p], [g], [np.zeros((3, 2))], [np.zeros((2, 3))], None, [1], **ADAM_KW)
    with pytest.raises(ValueError,
                       match=r"rmsprop_step.*'params\[0\]' \(2, 3\).*'grads\[0\]' \(6,\)"):
        _C.rmsprop_step([p], [np.zeros(6)], [np.zeros((2, 3))], None, None, **RMSPROP_KW)
    ro = np.zeros((2, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"rmsprop_step.*'square_avgs\[0\]'.*read-only"):
        _C.rmsprop_step([p], [g], [ro], None, None, **RMSPROP_KW)


def test_optional_state_is_none_exactly_when_torch_has_none():
    p, g = np.zeros(3), np.zeros(3)
    with pytest.raises(ValueError, match=r"sgd_step.*'momentum_buffers' is None.*momentum != 0"):
        _C.sgd_step([p], [g], None, [False], **{**SGD_KW, "momentum": 0.9})
    with pytest.raises(ValueError, match=r"sgd_step.*'momentum_buffers' must be None"):
        _C.sgd_step([p], [g], [np.zeros(3)], [False], **SGD_KW)
    with pytest.raises(ValueError, match=r"adam_step.*'max_exp_avg_sqs' is None.*amsgrad"):
        _C.adam_step([p], [g], [np.zeros(3)], [np.zeros(3)], None, [1],
                     **{**ADAM_KW, "amsgrad": True})
    with pytest.raises(ValueError, match=r"adam_step.*'exp_avgs' is None; it is required"):
        _C.adam_step([p], [g], None, [np.zeros(3)], None, [1], **ADAM_KW)
    with pytest.raises(ValueError, match=r"rmsprop_step.*'grad_avgs' is None.*centered"):
        _C.rmsprop_step([p], [g], [np.zeros(3)], None, None, **{**RMSPROP_KW, "centered": True})
    with pytest.raises(TypeError,
                       match=r"rmsprop_step.*'momentum_buffers\[0\]'.*numpy array"):
        _C.rmsprop_step([p], [g], [np.zeros(3)], [[0.0] * 3], None,
                        **{**RMSPROP_KW, "momentum": 0.9})


def test_adadelta_bad_arguments_are_named():
    p, g = np.zeros((2, 3)), np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"adadelta_step.*'square_avgs' is None; it is required"):
        _C.adadelta_step([p], [g], None, [np.zeros((2, 3))], **ADADELTA_KW)
    with pytest.raises(ValueError, match=r"adadelta_step.*'acc_deltas' is None; it is required"):
        _C.adadelta_step([p], [g], [np.zeros((2, 3))], None, **ADADELTA_KW)
    with pytest.raises(ValueError, match=r"adadelta_step.*'acc_deltas' has 2 entries; expected 1"):
        _C.adadelta_step([p], [g], [np.zeros((2, 3))], [np.zeros((2, 3))] * 2, **ADADELTA_KW)
    with pytest.raises(TypeError, match=r"adadelta_step.*'square_avgs' must be a list.*ndarray"):
        _C.adadelta_step([p], [g], np.zeros((2, 3)), [np.zeros((2, 3))], **ADADELTA_KW)
    with pytest.raises(TypeError, match=r"adadelta_step.*'acc_deltas\[0\]'.*float32.*float64"):
        _C.adadelta_step([p], [g], [np.zeros((2, 3))], [np.zeros((2, 3), np.float32)],
                         **ADADELTA_KW)
    with pytest.raises(TypeError, match=r"adadelta_step.*'acc_deltas\[0\]' must be a numpy array"):
        _C.adadelta_step([p], [g], [np.zeros((2, 3))], [[0.0] * 6], **ADADELTA_KW)
    with pytest.raises(ValueError,
                       match=r"adadelta_step.*'params\[0\]' \(2, 3\).*'square_avgs\[0\]' \(3, 2\)"):
        _C.adadelta_step([p], [g], [np.zeros((3, 2))], [np.zeros((2, 3))], **ADADELTA_KW)
    with pytest.raises(ValueError,
                       match=r"adadelta_step.*'params\[0\]' \(2, 3\).*'grads\[0\]' \(6,\)"):
        _C.adadelta_step([p], [np.zeros(6)], [np.zeros((2, 3))], [np.zeros((2, 3))],
                         **ADADELTA_KW)
    ro = np.zeros((2, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"adadelta_step.*'acc_deltas\[0\]'.*read-only"):
        _C.adadelta_step([p], [g], [np.zeros((2, 3))], [ro], **ADADELTA_KW)
    with pytest.raises(ValueError, match=r"adadelta_step.*'params\[0\]'.*read-only"):
        _C.adadelta_step([ro], [g], [np.zeros((2, 3))], [np.zeros((2, 3))], **ADADELTA_KW)
    with pytest.raises(TypeError, match=r"adadelta_step.*'params\[0\]'.*int64"):
        _C.adadelta_step([np.zeros((2, 3), np.int64)], [g], [np.zeros((2, 3))],
                         [np.zeros((2, 3))], **ADADELTA_KW)
    sq = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"adadelta_step: argument 'square_avgs\[0\]' \(2, 3\) "
                                         r"shares memory with argument 'acc_deltas\[0\]'"):
        _C.adadelta_step([p], [g], [sq], [sq], **ADADELTA_KW)
    with pytest.raises(TypeError):  # hyper-parameters are keyword-only
        _C.adadelta_step([p], [g], [np.zeros((2, 3))], [np.zeros((2, 3))], 1.0, 0.9, 1e-6, 0.0,
                         False)
    # Nothing was written by the refused calls.
    assert not p.any() and not sq.any()


def test_adagrad_bad_arguments_are_named():
    p, g = np.zeros((2, 3)), np.ones((2, 3))
    with pytest.raises(ValueError, match=r"adagrad_step.*'state_sums' is None; it is required"):
        _C.adagrad_step([p], [g], None, [1], **ADAGRAD_KW)
    with pytest.raises(ValueError, match=r"adagrad_step.*'steps\[0\]' is 0; it counts from 1"):
        _C.adagrad_step([p], [g], [np.zeros((2, 3))], [0], **ADAGRAD_KW)
    with pytest.raises(ValueError, match=r"adagrad_step.*'steps' has 2 entries; expected 1"):
        _C.adagrad_step([p], [g], [np.zeros((2, 3))], [1, 2], **ADAGRAD_KW)
    with pytest.raises(TypeError, match=r"adagrad_step.*'state_sums\[0\]'.*float32.*float64"):
        _C.adagrad_step([p], [g], [np.zeros((2, 3), np.float32)], [1], **ADAGRAD_KW)
    with pytest.raises(ValueError, match=r"adagrad_step: argument 'params\[0\]' \(2, 3\) "
                                         r"shares memory with argument 'state_sums\[0\]'"):
        _C.adagrad_step([p], [g], [p], [1], **ADAGRAD_KW)
    assert not p.any()  # nothing was written by the refused calls


def test_adam_step_counts_from_one_and_arrays_must_not_alias():
    p, g = np.zeros(3), np.zeros(3)
    with pytest.raises(ValueError, match=r"adam_step.*'steps\[1\]' is 0"):
        _C.adam_step([p, np.zeros(3)], [g, g], [np.zeros(3), np.zeros(3)],
                     [np.zeros(3), np.zeros(3)], None, [1, 0], **ADAM_KW)
    m = np.zeros(3)
    with pytest.raises(
            ValueError,
            match=r"adam_step: argument 'exp_avgs\[0\]' \(3,\) shares memory with argument "
                  r"'exp_avg_sqs\[0\]'"):
        _C.adam_step([p], [g], [m], [m], None, [1], **ADAM_KW)
    # Across parameters, which are updated in parallel: two views of one buffer.
    buffer = np.zeros(10)
    with pytest.raises(ValueError,
                       match=r"sgd_step: argument 'params\[0\]' \(6,\) shares memory with "
                             r"argument 'params\[1\]' \(6,\)"):
        _C.sgd_step([buffer[:6], buffer[4:]], [np.zeros(6), np.zeros(6)], None, [False] * 2,
                    **SGD_KW)
    with pytest.raises(ValueError, match=r"'exp_avgs\[1\]' \(3,\) shares memory with "
                                         r"argument 'grads\[0\]'"):
        _C.adam_step([p, np.zeros(3)], [g, np.zeros(3)], [np.zeros(3), g],
                     [np.zeros(3), np.zeros(3)], None, [1, 1], **ADAM_KW)
    # Gradients are only read: two parameters may share one.
    _C.adam_step([p, np.zeros(3)], [g, g], [np.zeros(3), np.zeros(3)],
                 [np.zeros(3), np.zeros(3)], None, [1, 1], **ADAM_KW)
    with pytest.raises(TypeError):  # hyper-parameters are keyword-only
        _C.sgd_step([p], [g], None, [False], 0.1, 0.0, 0.0, False, 0.0, False)


# ---- Subnormal state: Adam's settled lanes --------------------------------------------------
# A zero gradient leaves exp_avg decaying into a few units of the smallest subnormal, where it
# stays; adam_loop then computes with a zero of m's sign instead (no subnormal reaches an
# instruction) and keeps m. numpy keeps subnormals, so the same formulas in numpy, operation
# by operation, are the IEEE reference: every build must give its bits on state full of
# subnormals, signed zeros, inf and NaN.

def numpy_adam_step(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, amsgrad,
                    decoupled, maximize):
    """One step of kernn's Adam loop (torch's _single_tensor_adam) in numpy, in the arrays'
    dtype, operation by operation; returns (p, m, v, vmax)."""
    with np.errstate(all="ignore"):  # inf and NaN are part of the state
        return _numpy_adam_step(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay,
                                amsgrad, decoupled, maximize)


def _numpy_adam_step(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, amsgrad,
                     decoupled, maximize):
    T = p.dtype.type
    step_size = lr / (1.0 - beta1 ** step)
    bc2_sqrt = (1.0 - beta2 ** step) ** 0.5
    w = T(1.0 - beta1)
    if maximize:
        g = -g
    if weight_decay != 0 and decoupled:
        p = p * T(1.0 - lr * weight_decay)
    elif weight_decay != 0:
        g = g + T(weight_decay) * p
    m = numpy_lerp(m, g, w)
    v = v * T(beta2)
    v = v + T(1.0 - beta2) * g * g
    used = v
    if amsgrad:
        vmax = np.maximum(vmax, v)  # NaN-propagating, as torch.maximum
        used = vmax
    denom = np.sqrt(used) / T(bc2_sqrt) + T(eps)
    return p + T(-step_size) * m / denom, m, v, vmax


def numpy_lerp(start, end, w):
    """torch's lerp as optim_loops.h's lerp computes it, for a weight w of the arrays' dtype."""
    if abs(w) < 0.5:
        return start + w * (end - start)
    return end - (end - start) * (type(w)(1) - w)


def subnormal_heavy_state(dtype, n, seed):
    """p, g, m, v, vmax with many exact zeros in g and, in m, subnormals of 1-9 units of the
    smallest (settled or still decaying), besides normal values, signed zeros, inf and NaN."""
    rng = np.random.default_rng(seed)
    tiny = np.finfo(dtype).smallest_subnormal

    def mixed(normal_scale, extras):
        x = (rng.standard_normal(n) * normal_scale).astype(dtype)
        pick = rng.integers(0, len(extras) + 3, n)
        for j, value in enumerate(extras):
            x[pick == j] = value
        return x

    units = [k * tiny for k in range(1, 10)]
    p = mixed(0.1, [0.0, -0.0, np.inf, np.nan, 3 * tiny, -tiny])
    g = mixed(1e-3, [0.0] * 6 + [-0.0, 1e-30, -tiny])
    m = mixed(1e-4, units + [-u for u in units[:4]] + [0.0, -0.0, np.nan, 1e-38])
    v = np.abs(mixed(1e-6, [0.0, 2 * tiny, 1e-40, np.nan, np.inf]))
    vmax = np.maximum(v, np.abs(mixed(1e-6, [0.0, np.nan])))
    return p, g, m, v, vmax


def assert_same_bits(actual, expected, what):
    """Bitwise equal where not NaN, NaN at the same places (a NaN's payload depends on the
    order of the operands of a commutative operation)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    nan = np.isnan(expected)
    np.testing.assert_array_equal(np.isnan(actual), nan, err_msg=f"{what}: NaN positions")
    uint = np.uint32 if actual.dtype == np.float32 else np.uint64
    np.testing.assert_array_equal(actual[~nan].view(uint), expected[~nan].view(uint),
                                  err_msg=f"{what}: bits")


SUBNORMAL_ADAM_CASES = [
    dict(lr=1e-3),
    dict(lr=0.3),  # |step size| * 2 > 1/2: only one unit of m settles
    dict(lr=1e-2, amsgrad=True, maximize=True),
    dict(lr=1e-2, weight_decay=0.1),
    dict(lr=1e-2, weight_decay=0.1, decoupled=True),
    dict(lr=1e-2, betas=(0.3, 0.9)),  # the large-weight lerp: no lane settles
    dict(lr=1e-3, betas=(0.99, 0.999), eps=0.0),
]


@pytest.mark.parametrize("simd", ["avx512", "avx2", "portable"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SUBNORMAL_ADAM_CASES, ids=str)
def test_adam_on_subnormal_state_gives_the_ieee_bits(simd, dtype, case):
    beta1, beta2 = case.get("betas", (0.9, 0.999))
    options = dict(lr=case["lr"], beta1=beta1, beta2=beta2, eps=case.get("eps", 1e-8),
                   weight_decay=case.get("weight_decay", 0.0), amsgrad=case.get("amsgrad", False),
                   decoupled=case.get("decoupled", False), maximize=case.get("maximize", False))
    p, g, m, v, vmax = subnormal_heavy_state(np.dtype(dtype), 1001, seed=7)
    want = [x.copy() for x in (p, m, v, vmax)]
    got = [x.copy() for x in (p, m, v, vmax)]
    with simd_loops(simd):
        for step in range(1, 13):
            want = list(numpy_adam_step(want[0], g, want[1], want[2], want[3], step, **options))
            _C.adam_step([got[0]], [g], [got[1]], [got[2]],
                         [got[3]] if options["amsgrad"] else None, [step],
                         lr=options["lr"], beta1=beta1, beta2=beta2, eps=options["eps"],
                         weight_decay=options["weight_decay"], amsgrad=options["amsgrad"],
                         decoupled_weight_decay=options["decoupled"],
                         maximize=options["maximize"])
            for name, a, b in zip(("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), got, want):
                if name != "max_exp_avg_sq" or options["amsgrad"]:
                    assert_same_bits(a, b, f"step {step} {name}")


def numpy_sgd_step(p, g, buf, first_step, lr, momentum, dampening, nesterov, weight_decay,
                   maximize):
    """One step of kernn's SGD loop (torch's _single_tensor_sgd) in numpy, in the arrays'
    dtype, operation by operation; returns (p, buf)."""
    T = p.dtype.type
    with np.errstate(all="ignore"):
        if maximize:
            g = -g
        if weight_decay != 0:
            g = g + T(weight_decay) * p
        if momentum != 0:
            buf = g if first_step else buf * T(momentum) + T(1.0 - dampening) * g
            g = g + T(momentum) * buf if nesterov else buf
        return p + T(-lr) * g, buf


SUBNORMAL_SGD_CASES = [
    dict(lr=1e-2, momentum=0.9),
    dict(lr=0.3, momentum=0.9),  # lr * 2 > 1/2: only one unit of buf settles
    dict(lr=1e-2, momentum=0.9, nesterov=True, maximize=True),
    dict(lr=1e-2, momentum=0.9, dampening=0.1, weight_decay=0.01),
    dict(lr=1e-2, momentum=0.5),  # 0.5 * k rounds back to k for no k: nothing settles
    dict(lr=1e-2, momentum=0.99, nesterov=True),
]


@pytest.mark.parametrize("simd", ["avx512", "avx2", "portable"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SUBNORMAL_SGD_CASES, ids=str)
def test_sgd_on_subnormal_state_gives_the_ieee_bits(simd, dtype, case):
    options = dict(lr=case["lr"], momentum=case["momentum"],
                   dampening=case.get("dampening", 0.0), nesterov=case.get("nesterov", False),
                   weight_decay=case.get("weight_decay", 0.0), maximize=case.get("maximize", False))
    p, g, buf, _, _ = subnormal_heavy_state(np.dtype(dtype), 1001, seed=8)
    want = [p.copy(), buf.copy()]
    got = [p.copy(), buf.copy()]
    with simd_loops(simd):
        for step in range(12):
            want = list(numpy_sgd_step(want[0], g, want[1], False, **options))
            _C.sgd_step([got[0]], [g], [got[1]], [False], **options)
            for name, a, b in zip(("param", "momentum_buffer"), got, want):
                assert_same_bits(a, b, f"step {step} {name}")


# ---- Subnormal state: RMSprop's and Adadelta's settled lanes -----------------------------
# As Adam's: where the gradient is 0, square_avg, grad_avg, RMSprop's momentum buffer and
# acc_delta decay into subnormals and settle; the loops compute those lanes with zeros instead.
# Each build against numpy step by step, from subnormal_heavy_state's mixed values and along
# trajectories that decay through the subnormals and stay there.

def numpy_grad_and_square_avg(p, g, sq, decay, weight_decay, maximize):
    """The first operations of RMSprop's and Adadelta's steps, in the arrays' dtype: the
    gradient (negated for maximize, plus weight decay) and square_avg * decay + (1 - decay) g^2;
    returns (g, sq)."""
    T = p.dtype.type
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + T(weight_decay) * p
    sq = sq * T(decay)
    return g, sq + T(1.0 - decay) * g * g


def numpy_rmsprop_step(p, g, sq, buf, ga, lr, alpha, eps, weight_decay, momentum, centered,
                       maximize):
    """One step of kernn's RMSprop loop (torch's _single_tensor_rmsprop) in numpy, in the
    arrays' dtype, operation by operation; returns (p, sq, buf, ga)."""
    T = p.dtype.type
    with np.errstate(all="ignore"):
        g, sq = numpy_grad_and_square_avg(p, g, sq, alpha, weight_decay, maximize)
        if centered:
            ga = numpy_lerp(ga, g, T(1.0 - alpha))
            avg = np.sqrt(sq + T(-1) * ga * ga)
        else:
            avg = np.sqrt(sq)
        avg = avg + T(eps)
        if momentum > 0:
            buf = buf * T(momentum) + g / avg
            return p + T(-lr) * buf, sq, buf, ga
        return p + T(-lr) * g / avg, sq, buf, ga


def numpy_adadelta_step(p, g, sq, acc, lr, rho, eps, weight_decay, maximize):
    """One step of kernn's Adadelta loop (torch's _single_tensor_adadelta) in numpy, in the
    arrays' dtype, operation by operation; returns (p, sq, acc)."""
    T = p.dtype.type
    with np.errstate(all="ignore"):
        g, sq = numpy_grad_and_square_avg(p, g, sq, rho, weight_decay, maximize)
        std = np.sqrt(sq + T(eps))
        delta = np.sqrt(acc + T(eps)) / std * g
        acc = acc * T(rho)
        acc = acc + T(1.0 - rho) * delta * delta
        return p + T(-lr) * delta, sq, acc


def mixed_start(dtype, n, seed):
    """12 steps from subnormal_heavy_state's values (its g at every step): p, the gradients, and
    three states of its exp_avg kind (signed subnormals of 1-9 units, zeros, NaN, normals).
    The third also holds values whose square is a subnormal of a few units (a centered
    grad_avg next to a subnormal square_avg: the variance is then not square_avg)."""
    p, g, state, _, _ = subnormal_heavy_state(dtype, n, seed)
    states = [state] + [subnormal_heavy_state(dtype, n, seed + i)[2] for i in (1, 2)]
    square_subnormal = np.array([2.0 ** -74, -(2.0 ** -74), 3 * 2.0 ** -75, 2.0 ** -73], dtype)
    states[2][::7] = np.resize(square_subnormal, states[2][::7].shape)
    return p, [g] * 12, states


def decaying_start(dtype, n, seed, steps=300):
    """`steps` steps in which 3/4 of the lanes get a gradient of exactly 0 (p = +-0 on a third of
    them, so that weight decay keeps it 0), now and then a tiny one instead (g * g a subnormal of
    100 to 10^4 units: the state leaves the settled range and decays back), and the rest normal
    gradients: p, the gradients, and four states that start
    between 1 and 2^40 units of the dtype's smallest subnormal (two positive, two signed), so
    that the zero-gradient lanes' states decay through the subnormals and settle there."""
    rng = np.random.default_rng(seed)
    dead = rng.uniform(size=n) < 0.75
    p = rng.standard_normal(n).astype(dtype)
    zero_p = dead & (rng.uniform(size=n) < 1 / 3)
    p[zero_p] = np.where(rng.uniform(size=n) < 0.5, 0.0, -0.0)[zero_p]
    smallest = np.finfo(dtype).smallest_subnormal
    grads = []
    for _ in range(steps):
        g = (rng.standard_normal(n) * 1e-3).astype(dtype)
        # g * g of 100 to 10^4 units
        tiny = (np.sqrt(smallest * 10.0 ** rng.uniform(2, 4, n)) * rng.choice([-1, 1], n))
        g[dead] = np.where(rng.uniform(size=n) < 0.002, tiny.astype(dtype), 0.0)[dead]
        grads.append(g)

    def state(signed):
        x = (smallest * 2.0 ** rng.uniform(0, 40, n)).astype(dtype)
        return x * rng.choice([-1, 1], n).astype(dtype) if signed else x

    return p, grads, [state(False), state(False), state(True), state(True)]


STARTS = {"mixed": mixed_start, "decaying": decaying_start}
# The optimizer loops' two builds ("avx512" selects the AVX2 one for them, kernel_check.py).
OPTIM_BUILDS = ["avx2", "portable"]


def check_trajectory(simd, start, kernn_step, numpy_step, arrays, names):
    """Runs kernn_step and numpy_step on copies of `arrays` (p first, then the states) for each
    of start's gradients under `simd`, comparing every array's bits after every step; returns
    the last gradient and the reference's arrays."""
    _, grads, _ = start
    want = [a.copy() for a in arrays]
    got = [a.copy() for a in arrays]
    with simd_loops(simd):
        for step, g in enumerate(grads):
            want = list(numpy_step(g, *want))
            kernn_step(g, *got)
            for name, a, b in zip(names, got, want):
                assert_same_bits(a, b, f"step {step} {name}")
    return grads[-1], want


def assert_some_settled_subnormals(state, g, what):
    """The run reached what it is about: zero-gradient lanes whose state is stuck in the
    subnormals (the decaying start; the mixed one starts there)."""
    subnormal = (state != 0) & (np.abs(state) < np.finfo(state.dtype).tiny)
    assert np.count_nonzero(subnormal & (g == 0)) >= 50, what


# (alpha <= 0.5, the large-weight lerp, keeps no subnormal at all.) With weight decay and
# momentum the buffer moves p off 0 and g = weight_decay * p with it: no lane stays at g = 0.
SUBNORMAL_RMSPROP_CASES = [
    dict(lr=1e-2),
    dict(lr=1e-2, momentum=0.9),
    dict(lr=1e-2, centered=True),
    dict(lr=5e-3, alpha=0.9, momentum=0.9, centered=True),
    dict(lr=5e-3, alpha=0.95, centered=True, weight_decay=0.1),
    dict(lr=0.3, momentum=0.9, maximize=True),  # lr * 2 > 1/2: one unit of buf settles
    dict(lr=1e-2, eps=0.0, momentum=0.9),  # eps 0: square_avg's zero would give avg = 0
]


@pytest.mark.parametrize("simd", OPTIM_BUILDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("case", SUBNORMAL_RMSPROP_CASES, ids=str)
def test_rmsprop_on_subnormal_state_gives_the_ieee_bits(simd, dtype, start, case):
    options = dict(lr=case["lr"], alpha=case.get("alpha", 0.99), eps=case.get("eps", 1e-8),
                   weight_decay=case.get("weight_decay", 0.0),
                   momentum=case.get("momentum", 0.0), centered=case.get("centered", False),
                   maximize=case.get("maximize", False))
    begin = STARTS[start](np.dtype(dtype), 1001, seed=9)
    p, _, states = begin
    # square_avg positive on the decaying start, signed on the mixed one
    sq, buf, ga = (states[0], states[2], states[3]) if start == "decaying" else states

    def kernn_step(g, p, sq, buf, ga):
        _C.rmsprop_step([p], [g], [sq], [buf] if options["momentum"] > 0 else None,
                        [ga] if options["centered"] else None, **options)

    def numpy_step(g, p, sq, buf, ga):
        return numpy_rmsprop_step(p, g, sq, buf, ga, **options)

    g, (_, sq, buf, ga) = check_trajectory(simd, begin, kernn_step, numpy_step,
                                           [p, sq, buf, ga],
                                           ("param", "square_avg", "momentum_buffer",
                                            "grad_avg"))
    assert_some_settled_subnormals(sq, g, "square_avg")
    if options["momentum"] > 0:
        assert_some_settled_subnormals(buf, g, "momentum_buffer")
    if options["centered"]:
        assert_some_settled_subnormals(ga, g, "grad_avg")


SUBNORMAL_ADADELTA_CASES = [
    dict(),  # lr 1, rho 0.9, eps 1e-6: both states settle at 4 units
    dict(lr=0.5, rho=0.99, eps=1e-8, weight_decay=0.1, maximize=True),
    dict(rho=0.99, eps=1e-36),  # float32: eps absorbs 31 units, rho keeps 50
    dict(eps=0.0),  # s + 0 is s: nothing settles
    dict(eps=1e-40),  # a float32 subnormal eps absorbs no unit
]


@pytest.mark.parametrize("simd", OPTIM_BUILDS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("case", SUBNORMAL_ADADELTA_CASES, ids=str)
def test_adadelta_on_subnormal_state_gives_the_ieee_bits(simd, dtype, start, case):
    options = dict(lr=case.get("lr", 1.0), rho=case.get("rho", 0.9), eps=case.get("eps", 1e-6),
                   weight_decay=case.get("weight_decay", 0.0),
                   maximize=case.get("maximize", False))
    begin = STARTS[start](np.dtype(dtype), 1001, seed=10)
    p, _, states = begin

    def kernn_step(g, p, sq, acc):
        _C.adadelta_step([p], [g], [sq], [acc], **options)

    def numpy_step(g, p, sq, acc):
        return numpy_adadelta_step(p, g, sq, acc, **options)

    g, (_, sq, acc) = check_trajectory(simd, begin, kernn_step, numpy_step,
                                       [p, states[0], states[1]],
                                       ("param", "square_avg", "acc_delta"))
    assert_some_settled_subnormals(sq, g, "square_avg")
    assert_some_settled_subnormals(acc, g, "acc_delta")
