"""RMSprop."""

from __future__ import annotations

from .. import _C
from .optimizer import Optimizer, _array_of

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    With gradient g (negated when ``maximize``)::

        g   = g + weight_decay * theta                 (if weight_decay != 0)
        v   = alpha * v + (1 - alpha) * g^2
        a   = alpha * a + (1 - alpha) * g               (centered)
        den = sqrt(v - a^2) + eps if centered else sqrt(v) + eps
        b   = momentum * b + g / den;  theta -= lr * b  (momentum > 0)
        theta -= lr * g / den                           (otherwise)

    The update is one ``kernn._C.rmsprop_step`` call per parameter group.

    Args:
        params (iterable): Tensors or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-2).
        alpha (float): smoothing constant (default: 0.99).
        eps (float): term added to the denominator (default: 1e-8).
        weight_decay (float): L2 penalty (default: 0).
        momentum (float): momentum factor (default: 0).
        centered (bool): normalise by an estimate of the gradient's variance (default: False).
        capturable (bool): must be False (see :class:`Optimizer`).
        foreach (bool, optional): torch's implementation choice; kept in the groups, no effect
            (kernn has one implementation, see :class:`Optimizer`).
        maximize (bool): maximize the objective (default: False).
        differentiable (bool): must be False (see :class:`Optimizer`).

    State per parameter: ``"step"`` (int), ``"square_avg"``, ``"momentum_buffer"`` (momentum > 0),
    ``"grad_avg"`` (centered).

    Example:
        >>> opt = kernn.optim.RMSprop(model.parameters(), lr=1e-2, momentum=0.9)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update_group(self, group, params_with_grad) -> None:
        momentum = float(group["momentum"])
        centered = bool(group["centered"])
        options = dict(lr=float(group["lr"]), alpha=float(group["alpha"]), eps=float(group["eps"]),
                       weight_decay=float(group["weight_decay"]), momentum=momentum,
                       centered=centered, maximize=bool(group["maximize"]))
        params, grads, square_avgs, momentum_buffers, grad_avgs = [], [], [], [], []
        states = []
        for p, param_array, grad in params_with_grad:
            state = self.state[p]
            states.append(state)
            if len(state) == 0:
                state["step"] = 0
                state["square_avg"] = self._zeros_like(param_array)
            if momentum > 0 and state.get("momentum_buffer") is None:
                state["momentum_buffer"] = self._zeros_like(param_array)
            if centered and state.get("grad_avg") is None:
                state["grad_avg"] = self._zeros_like(param_array)
            params.append(param_array)
            grads.append(grad)
            square_avgs.append(_array_of(state["square_avg"]))
            if momentum > 0:
                momentum_buffers.append(_array_of(state["momentum_buffer"]))
            if centered:
                grad_avgs.append(_array_of(state["grad_avg"]))
        self._run_in_place(params, lambda work: _C.rmsprop_step(
            work, grads, square_avgs, momentum_buffers if momentum > 0 else None,
            grad_avgs if centered else None, **options))
        for state in states:
            state["step"] += 1
