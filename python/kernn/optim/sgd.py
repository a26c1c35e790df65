"""Stochastic gradient descent, optionally with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from .. import _C
from .optimizer import Optimizer, _array_of

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    With gradient :math:`g_t` (negated when ``maximize``), weight decay :math:`\lambda`,
    momentum :math:`\mu`, dampening :math:`\tau` and learning rate :math:`\gamma`::

        g  = g_t + lambda * theta                      (if weight_decay != 0)
        b  = g on the first step, else mu * b + (1 - tau) * g      (if momentum != 0)
        g  = g + mu * b if nesterov else b             (if momentum != 0)
        theta = theta - gamma * g

    The update is one ``kernn._C.sgd_step`` call per parameter group.

    Args:
        params (iterable): Tensors or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-3).
        momentum (float): momentum factor (default: 0).
        dampening (float): dampening for momentum (default: 0).
        weight_decay (float): L2 penalty (default: 0).
        nesterov (bool): Nesterov momentum; needs momentum > 0 and dampening 0 (default: False).
        maximize (bool): maximize the objective instead of minimizing (default: False).
        foreach (bool, optional), fused (bool, optional): torch's implementation choices;
            kept in the groups, no effect (kernn has one implementation, see :class:`Optimizer`).
        differentiable (bool): must be False (see :class:`Optimizer`).

    State per parameter: ``"momentum_buffer"`` (when momentum != 0).

    Example:
        >>> opt = kernn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={momentum}, dampening={dampening})")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _update_group(self, group, params_with_grad) -> None:
        momentum = float(group["momentum"])
        options = dict(lr=float(group["lr"]), momentum=momentum, dampening=float(group["dampening"]),
                       nesterov=bool(group["nesterov"]), weight_decay=float(group["weight_decay"]),
                       maximize=bool(group["maximize"]))
        params, grads, buffers, first_steps = [], [], [], []
        new_buffers = []  # (param, buffer): kept in the state once the update succeeds
        for p, param_array, grad in params_with_grad:
            first_step = False
            if momentum != 0:
                buffer = self.state[p].get("momentum_buffer")
                if buffer is None:
                    # The kernel fills a fresh buffer with the (decayed) gradient on first_step.
                    buffer = self._zeros_like(param_array)
                    new_buffers.append((p, buffer))
                    first_step = True
                buffers.append(_array_of(buffer))
            params.append(param_array)
            grads.append(grad)
            first_steps.append(first_step)
        self._run_in_place(params, lambda work: _C.sgd_step(
            work, grads, buffers if momentum != 0 else None, first_steps, **options))
        for p, buffer in new_buffers:
            self.state[p]["momentum_buffer"] = buffer
