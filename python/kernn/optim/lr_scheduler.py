"""Learning-rate schedulers, as ``torch.optim.lr_scheduler``.

Each scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups when ``step()`` is
called (once per epoch, after ``optimizer.step()``). ``step()`` uses torch's recursive forms
(so that changes made to the lr from outside compose, as in torch); ``step(epoch)`` uses the
closed forms. The values agree with torch's bit for bit: the same float operations in the
same order.
"""

from __future__ import annotations

import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter
from contextlib import contextmanager
from typing import Any, Callable, Sequence

from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "SequentialLR", "ChainedScheduler",
           "ReduceLROnPlateau"]

_EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler."
)


class LRScheduler:
    r"""Base class of the learning-rate schedulers.

    Subclasses implement :meth:`get_lr` (the recursive form, from the current ``group["lr"]``)
    and optionally ``_get_closed_form_lr`` (from ``base_lrs`` and ``last_epoch``).

    Args:
        optimizer (Optimizer): the optimizer whose learning rates are scheduled.
        last_epoch (int): index of the last epoch; -1 (default) starts a new schedule and sets
            each group's ``"initial_lr"``; a value >= 0 resumes one and needs ``"initial_lr"``
            in every group (as left by a loaded optimizer state dict).

    Resuming from a checkpoint: construct the scheduler first, then load the optimizer's state
    dict (it restores the learning rates), then the scheduler's; constructing a scheduler
    rewrites ``group["lr"]``.

    Attributes:
        base_lrs (list of float): each group's ``"initial_lr"``.
        last_epoch (int): the epoch index of the current learning rates.

    Example:
        >>> sched = kernn.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
        >>> for epoch in range(100):
        ...     train_one_epoch(); sched.step()
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param 'initial_lr' is not specified in param_groups[{i}] "
                        f"when resuming a scheduler with last_epoch={last_epoch} (load the optimizer's "
                        "state dict first, or start with last_epoch=-1)")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._get_lr_called_within_step = False
        self._is_initial = False
        self._initial_step()

    def _initial_step(self) -> None:
        """Set the learning rates of epoch ``last_epoch + 1`` (epoch 0 for a new schedule)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state: every attribute except the optimizer (as torch)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict`."""
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last :meth:`step`, one per parameter group."""
        return list(self._last_lr)

    def get_lr(self) -> list[float]:
        """The learning rates of epoch ``last_epoch`` (called by :meth:`step`)."""
        raise NotImplementedError

    def _warn_if_get_lr_called_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, "
                          "please use `get_last_lr()`.", UserWarning, stacklevel=3)

    @contextmanager
    def _within_step(self):
        """get_lr() is called by step() here: no warning."""
        self._get_lr_called_within_step = True
        try:
            yield
        finally:
            self._get_lr_called_within_step = False

    def step(self, epoch: int | None = None) -> None:
        """Advance to the next epoch (or to ``epoch``, deprecated) and set the learning rates.

        Call it after ``optimizer.step()``.
        """
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", True):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. Call them in the "
                "opposite order: `optimizer.step()` before `lr_scheduler.step()`, or the first "
                "value of the learning rate schedule is skipped.", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        """Set the learning rates of the next epoch, or of ``epoch`` (closed form where there is
        one). SequentialLR calls it with 0 to restart a scheduler at its milestone."""
        with self._within_step():
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        self._set_lrs(values)

    def _set_lrs(self, values: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _current_lrs_times(self, factor: float) -> list[float]:
        """Each group's current lr times `factor` (the chainable form of most schedulers)."""
        return [group["lr"] * factor for group in self.optimizer.param_groups]


class _LambdaScheduler(LRScheduler):
    """The schedulers driven by per-group functions of the epoch (LambdaLR, MultiplicativeLR):
    one function for all groups or one per group; their state dicts keep the attributes of
    callable objects, not plain functions (as torch)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list,
                 last_epoch: int = -1) -> None:
        name = type(self).__name__
        self.optimizer = optimizer
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"{name}: expected {len(optimizer.param_groups)} lr_lambdas "
                                 f"(one per parameter group), but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"{name}: lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        """The state, without the lambdas; the attributes of callable objects are kept (as torch)."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        lr_lambdas = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lr_lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaScheduler):
    """Sets each group's learning rate to its initial lr times ``lr_lambda(epoch)``.

    Args:
        optimizer (Optimizer): the optimizer.
        lr_lambda (callable or list of callables): epoch -> factor, one for all groups or one
            per group.
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = LambdaLR(opt, lr_lambda=lambda epoch: 0.95 ** epoch)
    """

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """Multiplies each group's learning rate by ``lr_lambda(epoch)`` at every epoch after the
    first (recursive only: no closed form, as torch).

    Args:
        optimizer (Optimizer): the optimizer.
        lr_lambda (callable or list of callables): epoch -> factor, one for all groups or one
            per group.
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.95)
    """

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        if self._is_initial:
            return self._current_lrs()
        return [group["lr"] * fn(self.last_epoch)
                for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)]


class StepLR(LRScheduler):
    """Multiplies each group's learning rate by ``gamma`` every ``step_size`` epochs.

    Closed form: ``lr = initial_lr * gamma ** (epoch // step_size)``.

    Args:
        optimizer (Optimizer): the optimizer.
        step_size (int): period of the decay, in epochs.
        gamma (float): multiplicative factor (default: 0.1).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = StepLR(opt, step_size=30, gamma=0.1)  # 0.05 for epochs 0-29, 0.005 for 30-59...
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return self._current_lrs_times(self.gamma)

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


def _milestone_epoch(milestone) -> int:
    """A MultiStepLR milestone as an int epoch; ValueError for one that is not a whole number
    (int() turned 1.5 into 1, decaying an epoch early; torch never reaches it)."""
    if isinstance(milestone, bool) or not isinstance(milestone, numbers.Real) \
            or not math.isfinite(milestone) or int(milestone) != milestone:
        raise ValueError(f"MultiStepLR: milestones must be whole epoch numbers, got {milestone!r}")
    return int(milestone)


class MultiStepLR(LRScheduler):
    """Multiplies each group's learning rate by ``gamma`` at each milestone epoch.

    A milestone listed n times multiplies by ``gamma ** n``.

    Args:
        optimizer (Optimizer): the optimizer.
        milestones (iterable of int): epoch indices.
        gamma (float): multiplicative factor (default: 0.1).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)
    """

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.milestones = Counter(_milestone_epoch(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["milestones"] = dict(self.milestones)  # a plain dict: kernn.save stores it as such
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): int(v) for k, v in dict(self.milestones).items()})

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        if self.last_epoch not in self.milestones:
            return self._current_lrs()
        return self._current_lrs_times(self.gamma ** self.milestones[self.last_epoch])

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """Multiplies each group's learning rate by ``factor`` until epoch ``total_iters``, then
    restores it.

    Closed form: ``initial_lr * factor`` before ``total_iters``, ``initial_lr`` from it on.

    Args:
        optimizer (Optimizer): the optimizer.
        factor (float): the factor, in [0, 1] (default: 1/3).
        total_iters (int): the epoch at which the lr is restored (default: 5).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = ConstantLR(opt, factor=0.5, total_iters=4)  # 0.025 for epochs 0-3, then 0.05
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError(f"ConstantLR: factor must be between 0 and 1, got {factor}")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        if self.last_epoch == 0:
            return self._current_lrs_times(self.factor)
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return self._current_lrs_times(1.0 / self.factor)

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Moves each group's learning rate linearly from ``initial_lr * start_factor`` to
    ``initial_lr * end_factor`` over ``total_iters`` epochs, then keeps it (a warm-up, usually).

    Closed form: ``initial_lr * (start_factor + (end_factor - start_factor) *
    min(epoch, total_iters) / total_iters)``.

    Args:
        optimizer (Optimizer): the optimizer.
        start_factor (float): the factor of epoch 0, in (0, 1] (default: 1/3).
        end_factor (float): the factor from ``total_iters`` on, in [0, 1] (default: 1.0).
        total_iters (int): the number of epochs of the ramp (default: 5).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = LinearLR(opt, start_factor=0.1, total_iters=10)
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(f"LinearLR: start_factor must be greater than 0 and at most 1, "
                             f"got {start_factor}")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError(f"LinearLR: end_factor must be between 0 and 1, got {end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        if self.last_epoch == 0:
            return self._current_lrs_times(self.start_factor)
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        # The ratio of this epoch's factor to the previous one's.
        ratio = 1.0 + (self.end_factor - self.start_factor) / (
            self.total_iters * self.start_factor
            + (self.last_epoch - 1) * (self.end_factor - self.start_factor))
        return self._current_lrs_times(ratio)

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiplies each group's learning rate by ``gamma`` every epoch.

    Args:
        optimizer (Optimizer): the optimizer.
        gamma (float): multiplicative factor.
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = ExponentialLR(opt, gamma=0.9)
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        # Resuming from a checkpoint must not move the lr a step ahead of itself.
        if self._is_initial:
            return self._current_lrs()
        return self._current_lrs_times(self.gamma)

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decays each group's learning rate to 0 over ``total_iters`` epochs as a polynomial of
    degree ``power``, then keeps it at 0.

    Closed form: ``initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power``.

    Args:
        optimizer (Optimizer): the optimizer.
        total_iters (int): the number of epochs of the decay (default: 5).
        power (float): the degree of the polynomial (default: 1.0).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = PolynomialLR(opt, total_iters=100, power=2.0)
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        decay_factor = ((1.0 - self.last_epoch / self.total_iters)
                        / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return self._current_lrs_times(decay_factor)

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial lr down to ``eta_min`` over ``T_max`` epochs.

    Closed form: ``eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``;
    :meth:`step` uses torch's recursive form, which equals it when nothing else changes the lr
    and follows it past ``T_max`` (the lr rises again, period ``2 * T_max``).

    Args:
        optimizer (Optimizer): the optimizer.
        T_max (int): number of epochs of the half cosine.
        eta_min (float): minimum learning rate (default: 0).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = CosineAnnealingLR(opt, T_max=50, eta_min=1e-5)
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and self.last_epoch > 0:
            return [self.eta_min + (base_lr - self.eta_min)
                    * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                    for base_lr in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing from the initial lr down to ``eta_min`` in cycles, restarting at the
    initial lr after each: the first cycle lasts ``T_0`` epochs, each next one ``T_mult`` times
    longer (SGDR).

    Within a cycle of length ``T_i``, at ``T_cur`` epochs since the restart:
    ``lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``.
    ``step(epoch)`` takes fractional epochs (a step per batch: ``epoch + i / iters``), without
    the deprecation warning of the other schedulers, as torch.

    Args:
        optimizer (Optimizer): the optimizer.
        T_0 (int): the length of the first cycle, in epochs.
        T_mult (int): the growth factor of the cycle length (default: 1).
        eta_min (float): minimum learning rate (default: 0).
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> sched = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2)
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a positive integer T_0, got {T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, got {T_mult!r}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a float or int eta_min, got "
                             f"{eta_min!r} of type {type(eta_min).__name__}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        self._warn_if_get_lr_called_outside_step()
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance to the next epoch, or to ``epoch`` (may be fractional), and set the learning
        rates."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    # the cycle n that epoch falls in: T_0 * (T_mult^n - 1) / (T_mult - 1) <= epoch
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        with self._within_step():
            values = self.get_lr()
        self._set_lrs(values)


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    """``value`` for each parameter group: a list or tuple with one entry per group, or one
    value for all."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"OneCycleLR: {name} must have one value per parameter group: it has "
                             f"{len(value)}, the optimizer has {len(optimizer.param_groups)} groups")
        return list(value)
    return [value] * len(optimizer.param_groups)


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy: the learning rate rises from ``max_lr / div_factor`` to ``max_lr``
    over the first ``pct_start`` of ``total_steps`` steps, then anneals to
    ``max_lr / div_factor / final_div_factor``; the momentum (SGD's, RMSprop's ``momentum`` or
    Adam's beta1) moves the opposite way between ``max_momentum`` and ``base_momentum``. Stepped
    once per batch. With ``three_phase``, the lr comes back down to the initial lr symmetrically
    before the final anneal.

    The scheduler stores ``initial_lr``, ``max_lr``, ``min_lr`` (and ``max_momentum``,
    ``base_momentum`` with ``cycle_momentum``) in each parameter group, as torch.

    Args:
        optimizer (Optimizer): the optimizer.
        max_lr (float or list of float): the peak learning rate, one for all groups or one per
            group.
        total_steps (int, optional): the number of steps of the cycle; or give
            ``epochs`` and ``steps_per_epoch``.
        epochs (int, optional), steps_per_epoch (int, optional): total_steps = their product.
        pct_start (float): the fraction of the cycle spent raising the lr (default: 0.3).
        anneal_strategy (str): "cos" or "linear" (default: "cos").
        cycle_momentum (bool): cycle the momentum too; the optimizer must have a ``momentum`` or
            ``betas`` option (default: True).
        base_momentum (float or list of float): the momentum at the lr's peak (default: 0.85).
        max_momentum (float or list of float): the momentum at the lr's ends (default: 0.95).
        div_factor (float): initial_lr = max_lr / div_factor (default: 25).
        final_div_factor (float): min_lr = initial_lr / final_div_factor (default: 1e4).
        three_phase (bool): the three-phase schedule (default: False).
        last_epoch (int): index of the last step taken (default: -1).

    Example:
        >>> sched = OneCycleLR(opt, max_lr=0.1, epochs=10, steps_per_epoch=len(loader))
        >>> for epoch in range(10):
        ...     for x, y in loader:
        ...         train_batch(x, y); sched.step()
    """

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | list[float] = 0.85, max_momentum: float | list[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer total_steps, got {total_steps!r}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer epochs, got {epochs!r}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer steps_per_epoch, got "
                                 f"{steps_per_epoch!r}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: you must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:  # NaN fails too
            raise ValueError(f"OneCycleLR: expected a float between 0 and 1 pct_start, got {pct_start!r}")
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if not value > 0:  # 0 divided by zero below; NaN made every lr NaN
                raise ValueError(f"OneCycleLR: {name} must be positive, got {value!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        # Each phase anneals the group entries named start_* to those named end_*, until end_step.
        if three_phase:
            self._schedule_phases = [
                {"end_step": float(pct_start * self.total_steps) - 1, "start_lr": "initial_lr",
                 "end_lr": "max_lr", "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * self.total_steps) - 2, "start_lr": "max_lr",
                 "end_lr": "initial_lr", "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]
        else:
            self._schedule_phases = [
                {"end_step": float(pct_start * self.total_steps) - 1, "start_lr": "initial_lr",
                 "end_lr": "max_lr", "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": self.total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: cycle_momentum=True needs an optimizer with momentum "
                                 f"or betas; {type(optimizer).__name__} has neither")
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, group_max, group_base in zip(optimizer.param_groups, max_momentums,
                                                        base_momentums):
                    self._set_momentum(group, group_max)
                    group["max_momentum"] = group_max
                    group["base_momentum"] = group_base
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """The learning rates of step ``last_epoch``; sets the groups' momenta on the way."""
        self._warn_if_get_lr_called_outside_step()
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step_num} times; the specified number of "
                             f"total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    # A phase of no steps (pct_start * total_steps == 1, e.g. 0.1 of 10, ends the
                    # warm-up at step 0) is over at its end step: torch divides by zero there.
                    pct = ((step_num - start_step) / (end_step - start_step)
                           if end_step != start_step else 1.0)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[phase["start_momentum"]],
                                                               group[phase["end_momentum"]], pct))
                    break
                start_step = phase["end_step"]
        return lrs


class _SchedulerOfSchedulers(LRScheduler):
    """The schedulers that drive other schedulers of one optimizer (SequentialLR,
    ChainedScheduler); their state dicts hold those schedulers' state dicts, as torch."""

    def _check_schedulers(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler]) -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got none")
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name}: the scheduler at index {i} ({type(scheduler).__name__}) "
                                "has no `optimizer` attribute")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(f"{name} does not support ReduceLROnPlateau (its step() takes the "
                                 f"metric), but got one at index {i}")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, but "
                                 f"the {type(scheduler).__name__} at index {i} has another one")

    def state_dict(self) -> dict[str, Any]:
        """The state, with each driven scheduler's state dict in ``_schedulers``."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved_schedulers = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, saved in zip(self._schedulers, saved_schedulers):
            scheduler.load_state_dict(saved)


class SequentialLR(_SchedulerOfSchedulers):
    """Runs ``schedulers`` one after the other, switching to the next at each milestone epoch
    (where the next one starts from its epoch 0).

    Construct the schedulers on the optimizer first; SequentialLR rewinds them and restarts the
    first, as torch.

    Args:
        optimizer (Optimizer): the optimizer of all the schedulers.
        schedulers (list of LRScheduler): the schedulers, in order.
        milestones (list of int): the epochs at which the next scheduler takes over; one fewer
            than the schedulers.
        last_epoch (int): index of the last epoch (default: -1).

    Example:
        >>> warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
        >>> decay = ExponentialLR(opt, gamma=0.9)
        >>> sched = SequentialLR(opt, schedulers=[warmup, decay], milestones=[5])
    """

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1) -> None:
        self._check_schedulers(optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects one milestone fewer than schedulers, but got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Undo what the schedulers' constructors did: the lrs and one step of each.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._rewind(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _rewind(self, scheduler) -> None:
        """One epoch back for ``scheduler`` and, recursively, the schedulers it drives."""
        if hasattr(scheduler, "_schedulers"):
            for inner in scheduler._schedulers:
                self._rewind(inner)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self) -> None:
        """Advance to the next epoch: step the current scheduler, or start the next one at its
        milestone."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_SchedulerOfSchedulers):
    """Steps all ``schedulers`` at every step, one after the other: their recursive forms
    compose (a warm-up times a decay, say).

    Args:
        schedulers (sequence of LRScheduler): the schedulers, of one optimizer.
        optimizer (Optimizer, optional): that optimizer (default: the first scheduler's).

    Example:
        >>> sched = ChainedScheduler([ConstantLR(opt, factor=0.1, total_iters=2),
        ...                           ExponentialLR(opt, gamma=0.9)])
    """

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        if len(schedulers) >= 1 and optimizer is None:
            # _check_schedulers names a scheduler without one (this was an AttributeError)
            optimizer = getattr(schedulers[0], "optimizer", None)
        self._check_schedulers(optimizer, schedulers)
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self) -> None:
        """Step every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()


class ReduceLROnPlateau(LRScheduler):
    r"""Multiplies the learning rates by ``factor`` when a metric has stopped improving for more
    than ``patience`` epochs, as torch's (an LRScheduler as there, with its state_dict and
    get_last_lr, but stepped with the metric and without a schedule of its own: it does not
    run LRScheduler's constructor).

    A value improves on the best so far when it is below ``best * (1 - threshold)`` (mode "min",
    threshold_mode "rel"), below ``best - threshold`` ("min", "abs"), above
    ``best * (1 + threshold)`` ("max", "rel") or above ``best + threshold`` ("max", "abs").
    After a reduction, ``cooldown`` epochs pass before bad epochs are counted again. A group's
    lr never goes below its ``min_lr``, and a change smaller than ``eps`` is not made.

    Args:
        optimizer (Optimizer): the optimizer.
        mode (str): "min" (the metric should fall, e.g. a loss) or "max" (rise, an accuracy).
        factor (float): the multiplier, < 1 (default: 0.1).
        patience (int): bad epochs tolerated before a reduction (default: 10).
        threshold (float): the margin of an improvement (default: 1e-4).
        threshold_mode (str): "rel" or "abs" (default: "rel").
        cooldown (int): epochs without counting after a reduction (default: 0).
        min_lr (float or list of float): the lowest lr, one for all groups or one per group.
        eps (float): the smallest change made (default: 1e-8).

    Example:
        >>> sched = ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2)
        >>> for epoch in range(50):
        ...     sched.step(validation_loss(model))
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | list[float] = 0, eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: {type(optimizer).__name__} is not an Optimizer")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor}")
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"ReduceLROnPlateau: expected {groups} min_lrs (one per "
                                 f"parameter group), got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * groups
        self.optimizer = optimizer
        self.factor = factor
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._set_mode(mode, threshold, threshold_mode)
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _set_mode(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.mode_worse = math.inf if mode == "min" else -math.inf

    def _improves(self, value: float) -> bool:
        if self.mode == "min":
            bound = (self.best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                     else self.best - self.threshold)
            return value < bound
        bound = (self.best * (self.threshold + 1.0) if self.threshold_mode == "rel"
                 else self.best + self.threshold)
        return value > bound

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics: Any, epoch: int | None = None) -> None:
        """Record one epoch's metric (a number or a one-element tensor); reduce the learning
        rates if it has not improved for more than ``patience`` epochs."""
        value = float(metrics)
        if epoch is not None:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._improves(value):
            self.best = value
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lrs()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lrs(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):  # a group was added since construction
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but "
                    f"min_lr gave {len(self.min_lrs)}; set `min_lrs` to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict`."""
        super().load_state_dict(state_dict)
        self._set_mode(self.mode, self.threshold, self.threshold_mode)
