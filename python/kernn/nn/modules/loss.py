"""Loss modules: CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, MSELoss, L1Loss,
SmoothL1Loss, HuberLoss."""

from __future__ import annotations

from .. import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: argument 'reduction' must be 'mean', "
                             f"'sum' or 'none', got {reduction!r}")
        self.reduction = reduction


class CrossEntropyLoss(_Loss):
    """Cross-entropy between logits and int64 class indices or class probabilities
    (log-softmax and the weighted sum fused), as torch.nn.CrossEntropyLoss.

    Args:
        weight (Tensor, optional): a weight per class, (C,); a buffer, as torch's.
        ignore_index (int): class-index target value that is ignored (default -100).
        reduction (str): 'mean' (over the summed weight of the non-ignored targets; over N for
            class probabilities) | 'sum' | 'none'.
        label_smoothing (float): in [0, 1] (default 0.0): the target becomes
            (1 - label_smoothing) * target + label_smoothing / C.

    Shape:
        - Input: (N, C), (C,) or (N, C, d1, ...) logits.
        - Target: (N,), () or (N, d1, ...) int64 in [0, C); or class probabilities of the
          input's shape.
        - Output: scalar, or (N,), () or (N, d1, ...) for 'none'.

    Example::

        >>> loss = kernn.nn.CrossEntropyLoss(label_smoothing=0.1)(model(x), y); loss.backward()
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities (e.g. LogSoftmax output).

    Args:
        weight (Tensor, optional): a weight per class, (C,); a buffer, as torch's.
        ignore_index (int): target value that is ignored (default -100).
        reduction (str): 'mean' (over the summed weight of the non-ignored targets) | 'sum' |
            'none'.

    Shape:
        - Input: (N, C) log-probabilities; Target: (N,) int64; Output: scalar or (N,).
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities; the logs are clamped at -100 as in torch.

    Args:
        weight (Tensor, optional): broadcast to the input's shape, scales each element's loss;
            a buffer, as torch's.
        reduction (str): 'mean' | 'sum' | 'none'.

    Shape:
        - Input: any, values in [0, 1]; Target: same shape; Output: scalar or input's shape.

    Example::

        >>> kernn.nn.BCELoss()(kernn.nn.Sigmoid()(logits), labels)
    """

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one numerically stable step.

    Args:
        weight (Tensor, optional): broadcast to the input's shape, scales each element's loss.
        reduction (str): 'mean' | 'sum' | 'none'.
        pos_weight (Tensor, optional): the weight of the positive term, broadcast to the
            input's shape; (C,) weights each class of the last dimension. Both weights are
            buffers, as torch's.

    Shape:
        - Input: any (logits); Target: same shape; Output: scalar or input's shape.

    Example::

        >>> kernn.nn.BCEWithLogitsLoss(pos_weight=kernn.full((5,), 3.0))(logits, labels)
    """

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class MSELoss(_Loss):
    """Mean squared error (x - target)^2, averaged, summed or element-wise.

    Args:
        reduction (str): 'mean' | 'sum' | 'none'.

    Shape:
        - Input: any; Target: same shape; Output: scalar or input's shape.

    Example::

        >>> kernn.nn.MSELoss()(model(x), y)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |x - target|, averaged, summed or element-wise.

    Args:
        reduction (str): 'mean' | 'sum' | 'none'.

    Shape:
        - Input: any; Target: same shape (a broadcastable one warns, as torch); Output: scalar,
          or the input's shape for 'none'.

    Example::

        >>> kernn.nn.L1Loss()(model(x), y)
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, d = x - target.

    Args:
        reduction (str): 'mean' | 'sum' | 'none'.
        beta (float): where the quadratic part ends (default 1.0), >= 0; 0 is L1Loss.

    Shape:
        - As L1Loss.

    Example::

        >>> kernn.nn.SmoothL1Loss(beta=0.5)(model(x), y)
    """

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        if not beta >= 0:
            raise ValueError(f"SmoothL1Loss: argument 'beta' must be >= 0, got {beta}")
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| < delta, else delta * (|d| - 0.5 delta), d = x - target.

    Args:
        reduction (str): 'mean' | 'sum' | 'none'.
        delta (float): where the quadratic part ends (default 1.0), > 0.

    Shape:
        - As L1Loss (a target of another dtype is cast to the input's, as torch).

    Example::

        >>> kernn.nn.HuberLoss(delta=2.0)(model(x), y)
    """

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: argument 'delta' must be > 0, got {delta}")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)
