"""AdamW: Adam with decoupled weight decay."""

from __future__ import annotations

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""AdamW, as ``torch.optim.AdamW``: Adam whose weight decay shrinks the weights directly
    (``theta *= 1 - lr * weight_decay``) instead of entering the running averages.

    Args:
        params (iterable): Tensors or dicts defining parameter groups.
        lr (float): learning rate (default: 1e-3).
        betas (tuple of 2 floats): running-average decay rates (default: (0.9, 0.999)).
        eps (float): term added to the denominator (default: 1e-8).
        weight_decay (float): decoupled weight decay coefficient (default: 1e-2).
        amsgrad (bool): use the AMSGrad variant (default: False).
        maximize (bool): maximize the objective (default: False).
        foreach (bool, optional), fused (bool, optional): torch's implementation choices;
            kept in the groups, no effect (kernn has one implementation, see :class:`Optimizer`).
        capturable (bool), differentiable (bool): must be False (see :class:`Optimizer`).

    State per parameter: as :class:`Adam`.

    Example:
        >>> opt = kernn.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def _after_load(self) -> None:
        # As torch: a state dict saved by Adam loads into AdamW as AdamW.
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
