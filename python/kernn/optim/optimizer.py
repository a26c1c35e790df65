"""The optimizer base class: parameter groups, per-parameter state and torch-layout state dicts.

Subclasses (SGD, Adam, AdamW, RMSprop, Adadelta, Adagrad) only say how a parameter group is
updated: they implement ``_update_group(group, params_with_grad)`` and make exactly one
``kernn._C`` kernel call per group and dtype, which updates all those parameters. All update
arithmetic happens in those C++ kernels; Python keeps the state arrays (numpy arrays wrapped in
kernn Tensors, updated in place by the kernels) and the step counts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, MutableMapping
from copy import deepcopy
from typing import Any, Callable

import numpy as np

from .. import _memory
from ..autograd import _reset_leaf_grad, enable_grad
from ..tensor import Tensor, from_numpy

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a default that every parameter group must set itself (torch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _array_of(tensor) -> np.ndarray:
    """The numpy array behind a kernn Tensor, shared: the array the step kernels update in place.
    (``numpy()`` refuses tensors that require grad, as torch's does; the optimizer reads the
    storage directly, as the ops do, instead of building a detached Tensor per access.)"""
    return tensor._data


def _as_array(value, what: str) -> np.ndarray:
    """The numpy array behind a kernn Tensor, a numpy array, or anything with ``__array__``
    (a CPU torch tensor, for instance)."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return _array_of(value)
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # torch.Tensor, without importing torch
        return value.detach().numpy()
    if hasattr(value, "__array__"):
        return np.asarray(value)
    raise TypeError(f"{what}: expected a Tensor or numpy array, got {type(value).__name__}")


class _StateByParameter(MutableMapping):
    """``optimizer.state``: parameter -> dict of that parameter's state, keyed by identity.

    Keyed by ``id(param)`` (holding the parameter alive): Tensor's ``__eq__`` is element-wise,
    so identity is spelled out rather than left to dict lookups. Reading a missing parameter
    returns a new empty dict and stores it, as torch's ``defaultdict(dict)`` does.
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Any, dict]] = {}

    def __getitem__(self, param) -> dict:
        entry = self._entries.get(id(param))
        if entry is None:
            entry = (param, {})
            self._entries[id(param)] = entry
        return entry[1]

    def __setitem__(self, param, value: dict) -> None:
        self._entries[id(param)] = (param, value)

    def __delitem__(self, param) -> None:
        del self._entries[id(param)]

    def __contains__(self, param) -> bool:
        return id(param) in self._entries

    def get(self, param, default=None):
        entry = self._entries.get(id(param))
        return default if entry is None else entry[1]

    def __iter__(self) -> Iterator:
        return (param for param, _ in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def items(self):
        return [(param, state) for param, state in self._entries.values()]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} parameters)"


class Optimizer:
    r"""Base class of all optimizers.

    Args:
        params (iterable): Tensors to optimize, ``(name, Tensor)`` pairs, or dicts defining
            parameter groups (each with a ``"params"`` entry and optional per-group options
            that override ``defaults``).
        defaults (dict): default values of the optimization options, used by every group that
            does not set them.

    Attributes:
        param_groups (list of dict): the groups, each with ``"params"`` (list of Tensors) and
            every option.
        state (mapping): parameter -> dict of that parameter's state (buffers as Tensors,
            ``"step"`` as an int). Only parameters that received a gradient have state.

    Example:
        >>> opt = kernn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()

    Implementation switches: the options ``foreach``, ``fused``, ``capturable`` and
    ``differentiable`` that torch's optimizers take choose among torch's implementations.
    kernn has one (a fused C++ kernel per group); ``foreach`` and ``fused`` are accepted and
    kept in the groups, as torch keeps them, and change nothing (torch's implementations give
    the same results). ``capturable=True`` (capturing the step in a CUDA graph; torch refuses it
    on CPU tensors too) and ``differentiable=True`` (autograd through the step, which kernn's
    kernels do not record) raise ValueError, at construction and at ``step()`` for a group
    that sets them later (or loads them from a state dict); ``fused=True`` with
    ``foreach=True`` raises RuntimeError, as in torch.

    Differences from torch: a parameter listed twice in a group raises ValueError (torch warns
    and updates it twice); ``"step"`` in the state is a Python int (torch: a 0-d float tensor;
    both load either).
    """

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: _StateByParameter = _StateByParameter()
        self.param_groups: list[dict[str, Any]] = []
        self._opt_called = False

        if isinstance(params, (Tensor, np.ndarray)):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                f"but got a single {type(params).__name__}"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{type(self).__name__}: optimizer parameters need to be organized in ordered collections, "
                "but the ordering of tensors in sets will change between runs. Please use a list instead."
            )
        if isinstance(params, dict):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                "got a dict (to pass one parameter group, wrap it in a list: [group])"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs) -> None:
        # Record that step() ran, for the schedulers' "scheduler.step() before optimizer.step()"
        # warning; wrapping here also covers user subclasses that override step().
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_records_call", False):

            @functools.wraps(step)
            def recorded_step(self, *args, **kwargs):
                self._opt_called = True
                return step(self, *args, **kwargs)

            recorded_step._records_call = True
            cls.step = recorded_step

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ------------------------------------------------------------------ groups

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (a dict with ``"params"`` and optional options).

        Useful when fine-tuning: layers unfrozen later join the optimizer with their own options.

        Args:
            param_group (dict): ``"params"`` (a Tensor, an iterable of Tensors or of
                ``(name, Tensor)`` pairs) and any options overriding ``defaults``.

        Raises:
            TypeError: not a dict, params in a set, or a parameter that is not a float32/float64
                Tensor.
            ValueError: a required option is missing, a parameter is listed twice, is already in
                another group, or groups mix named and unnamed parameters.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: param_group must be a dict, "
                            f"but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: param_group has no 'params' entry "
                             f"(keys: {sorted(param_group)})")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: optimizer parameters need to be organized in ordered collections, "
                "but the ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)

        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError(f"{name}: all optimizer params should be with/without names. "
                             f"Some param names are missing ({len(names)} names for {len(tensors)} params)")
        group["params"] = tensors
        if names:
            group["param_names"] = names

        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: optimizer can only optimize Tensors, "
                                f"but parameter {i} of the group is a {type(p).__name__}")
            dtype = _array_of(p).dtype
            if dtype not in _FLOAT_DTYPES:
                raise TypeError(f"{name}: parameter {i} of the group has dtype {dtype}; "
                                "kernn optimizers update float32 and float64 Tensors")
            if getattr(p, "is_leaf", True) is False:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (parameter {i} of the group)")

        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"{name}: parameter group didn't specify a value of "
                                 f"required optimization parameter {key}")
            group.setdefault(key, default)
        self._check_implementation_switches(group)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{name}: a parameter group lists the same parameter more than once")
        for other in self.param_groups:
            if ("param_names" in group) != ("param_names" in other):
                kind = "with names" if "param_names" in group else "without names"
                raise ValueError(f"{name}: all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        existing = {id(p) for other in self.param_groups for p in other["params"]}
        if existing.intersection(ids):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ------------------------------------------------------------------ gradients and steps

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized Tensors.

        Args:
            set_to_none (bool): set ``.grad`` to None (default) instead of filling it with zeros.
                A parameter whose grad is None is skipped by ``step()``, one whose grad is zero
                is not (weight decay and momentum still move it), as in torch.
        """
        for group in self.param_groups:
            for p in group["params"]:
                _reset_leaf_grad(p, set_to_none)

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step on every parameter that has a gradient.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss; it is
                called (with gradients enabled) before the update.

        Returns:
            The closure's loss, or None.
        """
        self._opt_called = True
        for group in self.param_groups:
            self._check_implementation_switches(group)
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for gi, group in enumerate(self.param_groups):
            # One kernel call per dtype: a group may mix float32 and float64 parameters.
            by_dtype: dict[np.dtype, list] = {}
            for pi, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                param_array = _array_of(p)
                by_dtype.setdefault(param_array.dtype, []).append(
                    (p, param_array, self._checked_grad(param_array, p.grad, gi, pi)))
            for params_with_grad in by_dtype.values():
                self._update_group(group, params_with_grad)
        return loss

    def _check_implementation_switches(self, group: dict[str, Any]) -> None:
        """Refuse the torch implementation switches kernn cannot honour (see the class doc).
        A group lacking a switch (a user subclass's, or one loaded from an older state dict)
        has nothing to refuse."""
        name = type(self).__name__
        if group.get("capturable"):
            raise ValueError(
                f"{name}: capturable=True is not supported: it makes the step capturable in a "
                "CUDA graph, and kernn runs on the CPU (torch refuses it for CPU tensors too); "
                "use capturable=False")
        if group.get("differentiable"):
            raise ValueError(
                f"{name}: differentiable=True is not supported: kernn's step runs in a C++ "
                "kernel that autograd does not record; use differentiable=False")
        if group.get("fused") and group.get("foreach"):  # torch's error, of torch's type
            raise RuntimeError(f"{name}: `fused` and `foreach` cannot be `True` together "
                               f"(got fused={group['fused']!r}, foreach={group['foreach']!r})")

    def _update_group(self, group: dict[str, Any], params_with_grad: list) -> None:
        """Update each ``(param, param_array, grad_array)`` of ``group`` (all of one dtype): one
        kernel call for all of them. Step counts and new SGD momentum buffers are committed only
        after the call succeeds, so a refused call leaves its parameters and their state as they
        were (Adam's, RMSprop's and Adadelta's zero buffers may already exist: their value at
        step 0). The groups, and a group's dtypes, are updated one after the other: as in torch,
        a step refused part-way keeps the updates made before."""
        raise NotImplementedError

    def _checked_grad(self, param: np.ndarray, grad, group_index: int, param_index: int) -> np.ndarray:
        """``grad`` as a C-contiguous array of the parameter's dtype and shape."""
        if isinstance(grad, Tensor):  # the usual case, without formatting the error's name
            grad = _array_of(grad)
        else:
            grad = _as_array(grad, f"{type(self).__name__}.step: grad of "
                                   f"param_groups[{group_index}]['params'][{param_index}]")
        if grad.shape != param.shape:
            raise ValueError(
                f"{type(self).__name__}.step: param_groups[{group_index}]['params'][{param_index}] "
                f"has shape {param.shape} but its grad has shape {grad.shape}")
        if grad.dtype != param.dtype:
            raise TypeError(
                f"{type(self).__name__}.step: param_groups[{group_index}]['params'][{param_index}] "
                f"has dtype {param.dtype} but its grad has dtype {grad.dtype}")
        return np.ascontiguousarray(grad)

    @staticmethod
    def _zeros_like(param_array: np.ndarray) -> Any:
        return from_numpy(_memory.zeros(param_array.shape, param_array.dtype))

    @staticmethod
    def _run_in_place(arrays: list, kernel: Callable[[list], None]) -> None:
        """Call ``kernel(param_arrays)``, which updates the arrays in place.

        The kernels need C-contiguous writeable arrays; a parameter viewing a strided array
        (a transposed one, say) is updated through a contiguous copy written back. The kernel
        refuses parameters that share memory (they are updated in parallel); a copy hides its
        original from that check, so it is made here.
        """
        work = []
        for array in arrays:
            if not array.flags.writeable:
                raise ValueError(f"optimizer step: parameter of shape {array.shape} is read-only")
            work.append(array if array.flags.c_contiguous else np.ascontiguousarray(array))
        for i, (array, updated) in enumerate(zip(arrays, work)):
            if updated is array:
                continue
            for j, other in enumerate(arrays):
                if j != i and np.may_share_memory(array, other) and np.shares_memory(array, other):
                    raise ValueError(
                        f"optimizer step: parameters {min(i, j)} and {max(i, j)} of a group "
                        f"(shapes {arrays[min(i, j)].shape} and {arrays[max(i, j)].shape}) share "
                        "memory; each parameter must have its own")
        kernel(work)
        for array, updated in zip(arrays, work):
            if updated is not array:
                array[...] = updated

    # ------------------------------------------------------------------ state dicts

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in torch's layout.

        ``{'state': {index: {name: Tensor or int}}, 'param_groups': [{option: value, ...,
        'params': [index, ...]}]}``, parameters numbered in group order from 0. The state
        Tensors are the live buffers (no copy, as torch); ``kernn.save`` writes them out.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index_of and s:
                state[index_of[id(p)]] = dict(s)
        state = dict(sorted(state.items()))
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict from :meth:`state_dict` (or ``kernn.load`` of a saved one).

        Also accepts torch's optimizer state dicts (tensors are converted to numpy arrays).
        Buffers are copied and cast to their parameter's dtype; ``"step"`` becomes an int.
        Every option of the saved groups replaces the current one (options the saved groups
        lack keep their defaults).

        Raises:
            ValueError: not a state dict, a different number of groups, a group of a
                different size, state for an unknown parameter index, or a buffer whose shape
                differs from its parameter's.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups' entries, got {got}")
        saved_groups = state_dict["param_groups"]
        saved_state = state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, dict):
            raise ValueError(f"{name}.load_state_dict: 'param_groups' must be a list and 'state' a dict, "
                             f"got {type(saved_groups).__name__} and {type(saved_state).__name__}")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has {len(saved_groups)} "
                             f"parameter groups, the optimizer has {len(self.param_groups)}")
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"{name}.load_state_dict: param_groups[{gi}] is not a dict with 'params'")
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: loaded parameter group {gi} has {len(saved['params'])} "
                    f"parameters, the optimizer's group has {len(group['params'])}")

        param_of = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for index, p in zip(saved["params"], group["params"]):
                param_of[int(index)] = p
        new_state = _StateByParameter()
        for key, values in saved_state.items():
            index = int(key)
            if index not in param_of:
                raise ValueError(f"{name}.load_state_dict: state has an entry for parameter {index}, "
                                 f"which no parameter group lists")
            if not isinstance(values, dict):
                raise ValueError(f"{name}.load_state_dict: state[{index}] must be a dict, "
                                 f"got {type(values).__name__}")
            param = param_of[index]
            new_state[param] = {k: self._loaded_state_value(param, index, k, v) for k, v in values.items()}

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = deepcopy({k: v for k, v in saved.items() if k != "params"})
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            for key, default in self.defaults.items():
                new_group.setdefault(key, default)
            new_groups.append(new_group)
        self.state = new_state
        self.param_groups = new_groups
        self._after_load()

    def _after_load(self) -> None:
        """Hook for subclasses to normalise loaded groups (AdamW forces decoupled decay)."""

    def _loaded_state_value(self, param, index: int, key: str, value):
        """A copy of one saved state entry, in the form ``step()`` uses."""
        name = type(self).__name__
        if key == "step":
            step = float(_as_array(value, f"{name}.load_state_dict: state[{index}]['step']")) \
                if not isinstance(value, (int, float)) else float(value)
            if step != int(step) or step < 0:
                raise ValueError(f"{name}.load_state_dict: state[{index}]['step'] = {step} "
                                 "is not a non-negative integer")
            return int(step)
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        array = _as_array(value, f"{name}.load_state_dict: state[{index}][{key!r}]")
        param_array = _array_of(param)
        if array.shape != param_array.shape:
            raise ValueError(f"{name}.load_state_dict: state[{index}][{key!r}] has shape {array.shape}, "
                             f"its parameter has shape {param_array.shape}")
        dtype = param_array.dtype if array.dtype.kind == "f" else array.dtype
        return from_numpy(_memory.copy(array, dtype))
