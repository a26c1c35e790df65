"""Fused optimizer kernels of kernn._C against torch.optim's single-tensor implementations,
over 20 steps with several hyper-parameter combinations."""

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
        _C.sgd_step(p, g, buf, first_step=k == 0, **o)
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
        _C.adam_step(p, g, m, v, vmax, step=k + 1, **o)
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
        _C.rmsprop_step(p, g, sq, buf, gavg, **o)
    return p, sq, buf, gavg


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
@pytest.mark.parametrize("shape", [(1,), (0,), (17, 1, 3)])
def test_odd_shapes_match_torch(dtype, shape):
    p0, grads = initial_param(dtype, shape), gradients(shape, dtype, 4)
    kwargs = dict(lr=1e-2, weight_decay=0.1, amsgrad=True)
    p, *_ = kernn_adam("AdamW", kwargs, p0, grads)
    assert_close(p, run_torch(torch.optim.AdamW, kwargs, p0, grads)[0], dtype)
    kwargs = dict(lr=0.05, momentum=0.9, nesterov=True)
    assert_close(kernn_sgd(kwargs, p0, grads)[0], run_torch(torch.optim.SGD, kwargs, p0, grads)[0],
                 dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_same_bits_with_1_and_2_threads(dtype):
    shape = (129, 67)  # above the parallel threshold
    p0, grads = initial_param(dtype, shape), gradients(shape, dtype, 5)

    def run():
        return (kernn_sgd(dict(lr=0.05, momentum=0.9, weight_decay=0.01), p0, grads)[0],
                kernn_adam("Adam", dict(lr=1e-2, amsgrad=True), p0, grads)[0],
                kernn_rmsprop(dict(lr=1e-2, centered=True, momentum=0.5), p0, grads)[0])

    same_under_1_and_2_threads(run)


@needs_simd_loops
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop"])
def test_simd_build_gives_the_portable_bits(dtype, optimizer):
    shape = (3, 67)  # 201 elements: whole vectors and a remainder in either build
    p0, grads = initial_param(dtype, shape), gradients(shape, dtype, 9)
    cases = {"SGD": [(kernn_sgd, (kwargs,)) for kwargs in SGD_CASES],
             "Adam": [(kernn_adam, case) for case in ADAM_CASES],
             "RMSprop": [(kernn_rmsprop, (kwargs,)) for kwargs in RMSPROP_CASES]}[optimizer]
    for run, args in cases:
        results = []
        for simd in (True, False):
            with simd_loops(simd):
                results.append(run(*args, p0, grads))
        for got, want in zip(*results):
            if want is not None:
                np.testing.assert_array_equal(got, want, err_msg=f"{optimizer} {args}")


# ---- bad inputs ---------------------------------------------------------------------------

SGD_KW = dict(lr=0.1, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0,
              maximize=False, first_step=False)
ADAM_KW = dict(step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
               amsgrad=False, decoupled_weight_decay=False, maximize=False)
RMSPROP_KW = dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                  centered=False, maximize=False)


def test_param_must_be_a_writeable_contiguous_array_of_a_float_dtype():
    g = np.zeros(4)
    ro = np.zeros(4)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"sgd_step.*'param'.*read-only"):
        _C.sgd_step(ro, g, None, **SGD_KW)
    with pytest.raises(ValueError, match=r"sgd_step.*'param'.*not C-contiguous"):
        _C.sgd_step(np.zeros(8)[::2], g, None, **SGD_KW)
    with pytest.raises(TypeError, match=r"sgd_step.*'param'.*int64"):
        _C.sgd_step(np.zeros(4, np.int64), g, None, **SGD_KW)
    with pytest.raises(TypeError):  # a list would be converted into a copy: refused
        _C.sgd_step([0.0, 0.0, 0.0, 0.0], g, None, **SGD_KW)


def test_state_must_match_the_param():
    p, g = np.zeros((2, 3)), np.zeros((2, 3))
    with pytest.raises(TypeError, match=r"adam_step.*'exp_avg_sq'.*float32.*float64"):
        _C.adam_step(p, g, np.zeros((2, 3)), np.zeros((2, 3), np.float32), None, **ADAM_KW)
    with pytest.raises(ValueError, match=r"adam_step.*'param' \(2, 3\).*'exp_avg' \(3, 2\)"):
        _C.adam_step(p, g, np.zeros((3, 2)), np.zeros((2, 3)), None, **ADAM_KW)
    with pytest.raises(ValueError, match=r"rmsprop_step.*'param' \(2, 3\).*'grad' \(6,\)"):
        _C.rmsprop_step(p, np.zeros(6), np.zeros((2, 3)), None, None, **RMSPROP_KW)
    ro = np.zeros((2, 3))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"rmsprop_step.*'square_avg'.*read-only"):
        _C.rmsprop_step(p, g, ro, None, None, **RMSPROP_KW)


def test_optional_state_is_none_exactly_when_torch_has_none():
    p, g = np.zeros(3), np.zeros(3)
    with pytest.raises(ValueError, match=r"sgd_step.*'momentum_buffer' is None.*momentum != 0"):
        _C.sgd_step(p, g, None, **{**SGD_KW, "momentum": 0.9})
    with pytest.raises(ValueError, match=r"sgd_step.*'momentum_buffer' must be None"):
        _C.sgd_step(p, g, np.zeros(3), **SGD_KW)
    with pytest.raises(ValueError, match=r"adam_step.*'max_exp_avg_sq' is None.*amsgrad"):
        _C.adam_step(p, g, np.zeros(3), np.zeros(3), None, **{**ADAM_KW, "amsgrad": True})
    with pytest.raises(ValueError, match=r"rmsprop_step.*'grad_avg' is None.*centered"):
        _C.rmsprop_step(p, g, np.zeros(3), None, None, **{**RMSPROP_KW, "centered": True})
    with pytest.raises(TypeError, match=r"rmsprop_step.*'momentum_buffer'.*numpy array"):
        _C.rmsprop_step(p, g, np.zeros(3), [0.0] * 3, None, **{**RMSPROP_KW, "momentum": 0.9})


def test_adam_step_counts_from_one_and_arrays_must_not_alias():
    p, g = np.zeros(3), np.zeros(3)
    with pytest.raises(ValueError, match=r"adam_step.*'step' is 0"):
        _C.adam_step(p, g, np.zeros(3), np.zeros(3), None, **{**ADAM_KW, "step": 0})
    m = np.zeros(3)
    with pytest.raises(
            ValueError,
            match=r"adam_step: argument 'exp_avg' \(3,\) shares memory with argument 'exp_avg_sq'"):
        _C.adam_step(p, g, m, m, None, **ADAM_KW)
    with pytest.raises(TypeError):  # hyper-parameters are keyword-only
        _C.sgd_step(p, g, None, 0.1, 0.0, 0.0, False, 0.0, False, False)
