"""Adam (and, with decoupled weight decay, AdamW)."""

from __future__ import annotations

from .. import _C
from .optimizer import Optimizer, _array_of

__all__ = ["Adam"]


def _check_adam_options(lr, betas, eps, weight_decay) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: expected 2 values, got {len(betas)}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam``.

    At step t (counted from 1) with gradient g (negated when ``maximize``)::

        theta = theta * (1 - lr * weight_decay)   if decoupled_weight_decay (AdamW)
        g     = g + weight_decay * theta          otherwise, if weight_decay != 0
        m     = beta1 * m + (1 - beta1) * g
        v     = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)                     (amsgrad; v_max replaces v below)
        theta = theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The update is one ``kernn._C.adam_step`` call per parameter group.

    Args:
        params (iterable): Tensors or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-3).
        betas (tuple of 2 floats): decay rates of the running averages of the gradient and
            its square (default: (0.9, 0.999)).
        eps (float): term added to the denominator (default: 1e-8).
        weight_decay (float): weight decay (L2 penalty) (default: 0).
        amsgrad (bool): use the AMSGrad variant (default: False).
        maximize (bool): maximize the objective (default: False).
        decoupled_weight_decay (bool): decay the weights directly, as AdamW (default: False).
        foreach (bool, optional), fused (bool, optional): torch's implementation choices;
            kept in the groups, no effect (kernn has one implementation, see :class:`Optimizer`).
        capturable (bool), differentiable (bool): must be False (see :class:`Optimizer`).

    State per parameter: ``"step"`` (int), ``"exp_avg"``, ``"exp_avg_sq"`` and, with amsgrad,
    ``"max_exp_avg_sq"``.

    Example:
        >>> opt = kernn.optim.Adam(model.parameters(), lr=1e-3)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check_adam_options(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": (float(betas[0]), float(betas[1])), "eps": eps,
                    "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "differentiable": differentiable,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _update_group(self, group, params_with_grad) -> None:
        beta1, beta2 = group["betas"]
        amsgrad = bool(group["amsgrad"])
        options = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                       eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                       amsgrad=amsgrad, decoupled_weight_decay=bool(group["decoupled_weight_decay"]),
                       maximize=bool(group["maximize"]))
        params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = [], [], [], [], [], []
        states = []
        for p, param_array, grad in params_with_grad:
            state = self.state[p]
            states.append(state)
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"] = self._zeros_like(param_array)
                state["exp_avg_sq"] = self._zeros_like(param_array)
            if amsgrad and state.get("max_exp_avg_sq") is None:
                state["max_exp_avg_sq"] = self._zeros_like(param_array)
            params.append(param_array)
            grads.append(grad)
            exp_avgs.append(_array_of(state["exp_avg"]))
            exp_avg_sqs.append(_array_of(state["exp_avg_sq"]))
            if amsgrad:
                max_exp_avg_sqs.append(_array_of(state["max_exp_avg_sq"]))
            steps.append(state["step"] + 1)
        self._run_in_place(params, lambda work: _C.adam_step(
            work, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs if amsgrad else None, steps,
            **options))
        for state in states:
            state["step"] += 1
