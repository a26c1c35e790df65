"""The shared helper for testing kernn against PyTorch.

    compare(lambda lib, x, w: lib.nn.functional.linear(x, w), [x_np, w_np], dtype=np.float32)

runs the same function with ``lib = kernn`` and with ``lib = torch`` on the same inputs, asserts
that the outputs agree, backpropagates the same random upstream gradient through both and asserts
that the gradients of every floating input agree. ``compare_modules`` does the same for a kernn
module and a torch module (parameters copied from torch's), including parameter gradients.

Tolerances per dtype (TOLERANCES): float64 is tight (kernn is a float64 reference); float32
allows for summation-order differences, since kernn's GEMM and reductions block sums
differently from torch's (an error of order sqrt(k) * 2^-24 * |a| |b| for a length-k dot product).
Pass rtol/atol to widen them for a specific op, with a comment saying why.
"""

from __future__ import annotations

import numpy as np
import torch

import kernn

TOLERANCES = {
    np.dtype(np.float32): {"rtol": 1e-4, "atol": 1e-5},
    np.dtype(np.float64): {"rtol": 1e-9, "atol": 1e-11},
}

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def to_numpy(x):
    """A numpy array from a kernn or torch tensor (detached) or anything array-like."""
    if isinstance(x, kernn.Tensor):
        return x.detach().numpy()
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def tolerances(dtype, rtol=None, atol=None):
    tol = dict(TOLERANCES[np.dtype(dtype)])
    if rtol is not None:
        tol["rtol"] = rtol
    if atol is not None:
        tol["atol"] = atol
    return tol


def assert_close(actual, expected, dtype, rtol=None, atol=None, what="output"):
    """Element-wise |actual - expected| <= atol + rtol * |expected|, with a useful message."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"{what}: kernn shape {a.shape} != torch shape {e.shape}"
    if a.dtype.kind in "biu" or e.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
        return
    tol = tolerances(dtype, rtol, atol)
    np.testing.assert_allclose(a, e.astype(a.dtype), err_msg=what, equal_nan=True, **tol)


def _prepare(inputs, dtype, requires_grad):
    k_in, t_in = [], []
    for i, a in enumerate(inputs):
        if isinstance(a, (int, float, bool, str, type(None), tuple)):
            k_in.append(a)
            t_in.append(a)
            continue
        arr = np.asarray(a)
        if arr.dtype.kind == "f":
            arr = arr.astype(dtype)
            rg = requires_grad if isinstance(requires_grad, bool) else requires_grad[i]
        else:
            rg = False
        k_in.append(kernn.tensor(arr.copy(), requires_grad=rg))
        t_in.append(torch.tensor(arr.copy(), requires_grad=rg))
    return k_in, t_in


def _as_list(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare(fn, inputs, dtype=np.float64, rtol=None, atol=None, grad_rtol=None,
            grad_atol=None, requires_grad=True, backward=True, seed=0):
    """Runs ``fn(lib, *inputs)`` with kernn and torch and asserts outputs and input grads agree.

    Args:
        fn: ``fn(lib, *tensors)`` using only names kernn and torch share.
        inputs: numpy arrays (floating ones are cast to ``dtype`` and require grad) or plain
            Python values passed through unchanged.
        dtype: np.float32 or np.float64.
        rtol, atol: output tolerances (default: TOLERANCES[dtype]).
        grad_rtol, grad_atol: gradient tolerances (default: the output ones).
        requires_grad: bool, or one bool per input.
        backward: also compare gradients.

    Returns:
        (kernn outputs, torch outputs, kernn inputs, torch inputs).
    """
    k_in, t_in = _prepare(inputs, dtype, requires_grad)
    k_out, t_out = _as_list(fn(kernn, *k_in)), _as_list(fn(torch, *t_in))
    assert len(k_out) == len(t_out), f"kernn returned {len(k_out)} outputs, torch {len(t_out)}"
    for i, (ko, to) in enumerate(zip(k_out, t_out)):
        assert_close(ko, to, dtype, rtol, atol, what=f"output {i}")
    if backward:
        rng = np.random.default_rng(seed)
        k_roots, t_roots = [], []
        for i, (ko, to) in enumerate(zip(k_out, t_out)):
            k_grad = isinstance(ko, kernn.Tensor) and ko.requires_grad
            t_grad = isinstance(to, torch.Tensor) and to.requires_grad
            # Both ways: an output torch differentiates and kernn does not would otherwise
            # leave both libraries' inputs without gradients, and the check below would pass.
            assert k_grad == t_grad, (
                f"output {i}: kernn requires_grad={k_grad}, torch requires_grad={t_grad}")
            if k_grad:
                g = rng.standard_normal(to.shape).astype(to_numpy(to).dtype)
                k_roots.append((ko, kernn.tensor(g)))
                t_roots.append((to, torch.tensor(g)))
        if k_roots:
            # One backward through the sum of <output, g> over outputs (shared graph parts once).
            k_total = sum((o * g).sum() for o, g in k_roots)
            t_total = sum((o * g).sum() for o, g in t_roots)
            k_total.backward()
            t_total.backward()
        grtol = grad_rtol if grad_rtol is not None else rtol
        gatol = grad_atol if grad_atol is not None else atol
        for i, (ki, ti) in enumerate(zip(k_in, t_in)):
            if isinstance(ti, torch.Tensor) and ti.requires_grad:
                if ti.grad is None:
                    assert ki.grad is None or not np.any(to_numpy(ki.grad)), \
                        f"input {i}: torch has no gradient, kernn has a nonzero one"
                    continue
                assert ki.grad is not None, f"input {i}: kernn produced no gradient"
                assert_close(ki.grad, ti.grad, dtype, grtol, gatol, what=f"grad of input {i}")
    return k_out, t_out, k_in, t_in


def copy_torch_params(kmod, tmod):
    """Loads torch module tmod's state dict into kernn module kmod (names must match)."""
    kmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})


def compare_modules(kmod, tmod, inputs, dtype=np.float64, rtol=None, atol=None, targets=(),
                    seed=0):
    """Runs kernn module kmod and torch module tmod (weights copied from tmod) on the same
    inputs; compares outputs, input gradients and parameter gradients.

    ``targets`` are extra non-differentiable arguments (e.g. class labels) appended to inputs.
    """
    if dtype == np.float64:
        kmod.double()
        tmod.double()
    else:
        kmod.float()
        tmod.float()
    copy_torch_params(kmod, tmod)
    compare(lambda lib, *xs: (kmod if lib is kernn else tmod)(*xs),
            [*inputs, *targets], dtype=dtype, rtol=rtol, atol=atol, seed=seed)
    tparams = dict(tmod.named_parameters())
    kparams = dict(kmod.named_parameters())
    assert set(kparams) == set(tparams), f"parameter names differ: {set(kparams) ^ set(tparams)}"
    for name, tp in tparams.items():
        kp = kparams[name]
        if tp.grad is None:
            assert kp.grad is None, f"{name}: torch has no gradient, kernn has one"
            continue
        assert kp.grad is not None, f"{name}: kernn produced no gradient"
        assert_close(kp.grad, tp.grad, dtype, rtol, atol, what=f"grad of parameter {name}")
