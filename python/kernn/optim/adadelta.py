"""Adadelta."""

from __future__ import annotations

from .. import _C
from .optimizer import Optimizer, _array_of

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta, as ``torch.optim.Adadelta``.

    With gradient g (negated when ``maximize``)::

        g     = g + weight_decay * theta                  (if weight_decay != 0)
        v     = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u     = rho * u + (1 - rho) * delta^2
        theta = theta - lr * delta

    The update is one ``kernn._C.adadelta_step`` call per parameter group.

    Args:
        params (iterable): Tensors or dicts defining parameter groups.
        lr (float): coefficient that scales delta before it is applied to the parameters
            (default: 1.0).
        rho (float): coefficient of the running averages of the squared gradients and of the
            squared updates (default: 0.9).
        eps (float): term added inside both square roots (default: 1e-6).
        weight_decay (float): weight decay (L2 penalty) (default: 0).
        foreach (bool, optional): torch's implementation choice; kept in the groups, no effect
            (kernn has one implementation, see :class:`Optimizer`).
        maximize (bool): maximize the objective (default: False).
        capturable (bool), differentiable (bool): must be False (see :class:`Optimizer`).

    State per parameter: ``"step"`` (int), ``"square_avg"`` (v) and ``"acc_delta"`` (u).

    Example:
        >>> opt = kernn.optim.Adadelta(model.parameters(), lr=1.0)
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update_group(self, group, params_with_grad) -> None:
        options = dict(lr=float(group["lr"]), rho=float(group["rho"]), eps=float(group["eps"]),
                       weight_decay=float(group["weight_decay"]),
                       maximize=bool(group["maximize"]))
        params, grads, square_avgs, acc_deltas = [], [], [], []
        states = []
        for p, param_array, grad in params_with_grad:
            state = self.state[p]
            states.append(state)
            if len(state) == 0:
                state["step"] = 0
                state["square_avg"] = self._zeros_like(param_array)
                state["acc_delta"] = self._zeros_like(param_array)
            params.append(param_array)
            grads.append(grad)
            square_avgs.append(_array_of(state["square_avg"]))
            acc_deltas.append(_array_of(state["acc_delta"]))
        self._run_in_place(params, lambda work: _C.adadelta_step(
            work, grads, square_avgs, acc_deltas, **options))
        for state in states:
            state["step"] += 1
