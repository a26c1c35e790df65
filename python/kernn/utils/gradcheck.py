"""gradcheck: compare autograd's gradients with central finite differences (float64).

As torch.autograd.gradcheck: builds the full Jacobian of every floating output with respect to
every input that requires grad, numerically ((f(x + eps) - f(x - eps)) / 2 eps per element) and
analytically (one backward per output element), and checks
|analytical - numerical| <= atol + rtol * |numerical| element-wise.
"""

from __future__ import annotations

import numpy as np

from ..autograd import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical Jacobians differ."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind == "f"]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Checks the gradients of ``fn`` at ``inputs`` against finite differences.

    Args:
        fn (callable): takes the inputs, returns a Tensor or a tuple of Tensors.
        inputs (Tensor or tuple): arguments of fn; those with requires_grad=True are checked
            and must be float64 (finite differences in float32 are too coarse).
        eps (float): finite-difference step.
        atol, rtol (float): tolerances of the element-wise comparison.
        raise_exception (bool): raise GradcheckError on a mismatch (else return False).

    Returns:
        True when every Jacobian entry agrees.

    Example::

        >>> x = kernn.randn(3, 4, dtype=kernn.float64, requires_grad=True)
        >>> kernn.utils.gradcheck(lambda t: (t.tanh() * t).sum(1), (x,))
        True
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; set requires_grad=True on the "
                         "inputs to check")
    for i in checked:
        if inputs[i]._data.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype kernn.{inputs[i].dtype.name}; "
                             "gradcheck needs float64 inputs")
        if not inputs[i]._data.flags.c_contiguous or not inputs[i]._data.flags.writeable:
            raise ValueError(f"gradcheck: input {i} must be a contiguous, writeable tensor")
    saved_grads = [inputs[i].grad for i in checked]

    with no_grad():
        ref = _outputs(fn, inputs)
    sizes = [o._data.size for o in ref]
    numerical = {(i, k): np.zeros((sizes[k], inputs[i]._data.size)) for i in checked
                 for k in range(len(ref))}
    analytical = {key: np.zeros_like(v) for key, v in numerical.items()}

    # Numerical Jacobian: perturb one input element at a time, in place.
    with no_grad():
        for i in checked:
            flat = inputs[i]._data.reshape(-1)
            for e in range(flat.size):
                orig = flat[e]
                flat[e] = orig + eps
                plus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
                flat[e] = orig - eps
                minus = [o._data.astype(np.float64).ravel() for o in _outputs(fn, inputs)]
                flat[e] = orig
                for k in range(len(ref)):
                    numerical[(i, k)][:, e] = (plus[k] - minus[k]) / (2 * eps)

    # Analytical Jacobian: one backward per output element, on a fresh graph each time.
    try:
        for k, size in enumerate(sizes):
            for j in range(size):
                for i in checked:
                    inputs[i].grad = None
                with enable_grad():
                    outs = _outputs(fn, inputs)
                out = outs[k]
                if not out.requires_grad:
                    continue
                g = np.zeros(out._data.shape, dtype=out._data.dtype)
                g.reshape(-1)[j] = 1
                out.backward(g)
                for i in checked:
                    if inputs[i].grad is not None:
                        analytical[(i, k)][j, :] = inputs[i].grad._data.ravel()
    finally:
        for i, g in zip(checked, saved_grads):
            inputs[i].grad = g

    for (i, k), num in numerical.items():
        ana = analytical[(i, k)]
        bad = np.abs(ana - num) > atol + rtol * np.abs(num)
        if bad.any():
            j, e = np.argwhere(bad)[0]
            msg = (f"gradcheck: Jacobian mismatch for output {k} with respect to input {i}: "
                   f"{int(bad.sum())} of {bad.size} entries differ; first at "
                   f"(output element {j}, input element {e}): numerical {num[j, e]:.8g}, "
                   f"analytical {ana[j, e]:.8g}; max abs difference "
                   f"{np.max(np.abs(ana - num)):.3g}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
