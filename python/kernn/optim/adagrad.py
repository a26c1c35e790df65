"""Adagrad."""

from __future__ import annotations

from .. import _C, _memory
from ..tensor import from_numpy
from .optimizer import Optimizer, _array_of

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad`` (dense gradients).

    At step t (counted from 1) with gradient g (negated when ``maximize``)::

        g     = g + weight_decay * theta                  (if weight_decay != 0)
        clr   = lr / (1 + (t - 1) * lr_decay)
        s     = s + g^2
        theta = theta - clr * g / (sqrt(s) + eps)

    The update is one ``kernn._C.adagrad_step`` call per parameter group.

    Args:
        params (iterable): Tensors or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-2).
        lr_decay (float): learning rate decay (default: 0).
        weight_decay (float): weight decay (L2 penalty) (default: 0).
        initial_accumulator_value (float): initial value of the sum of squared gradients s
            (default: 0).
        eps (float): term added to the denominator (default: 1e-10).
        foreach (bool, optional), fused (bool, optional): torch's implementation choices;
            kept in the groups, no effect (kernn has one implementation, see :class:`Optimizer`).
        maximize (bool): maximize the objective (default: False).
        differentiable (bool): must be False (see :class:`Optimizer`).

    State per parameter: ``"step"`` (int) and ``"sum"`` (s). As in torch, the state of every
    parameter given to the constructor exists from the start (step 0, s filled with
    ``initial_accumulator_value``); a parameter added later with :meth:`add_param_group` gets
    its state at its first step, filled with the constructor's ``initial_accumulator_value``
    (a group's own value is not used, as in torch).

    Example:
        >>> opt = kernn.optim.Adagrad(model.parameters(), lr=1e-2, lr_decay=1e-4)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], _array_of(p))

    def _init_state(self, state: dict, param_array) -> None:
        state["step"] = 0
        state["sum"] = from_numpy(_memory.full(
            param_array.shape, self.defaults["initial_accumulator_value"], param_array.dtype))

    def _update_group(self, group, params_with_grad) -> None:
        options = dict(lr=float(group["lr"]), lr_decay=float(group["lr_decay"]),
                       weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                       maximize=bool(group["maximize"]))
        params, grads, sums, steps = [], [], [], []
        states = []
        for p, param_array, grad in params_with_grad:
            state = self.state[p]
            states.append(state)
            if len(state) == 0:
                self._init_state(state, param_array)
            params.append(param_array)
            grads.append(grad)
            sums.append(_array_of(state["sum"]))
            steps.append(state["step"] + 1)
        self._run_in_place(params, lambda work: _C.adagrad_step(
            work, grads, sums, steps, **options))
        for state in states:
            state["step"] += 1
