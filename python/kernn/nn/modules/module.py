"""Module: the base class of layers and models, as torch.nn.Module.

Parameters, buffers and submodules assigned as attributes are registered in ordered dicts
(``_parameters``, ``_buffers``, ``_modules``) and also stored as plain instance attributes, so
reading ``self.weight`` in forward is an ordinary attribute lookup (no __getattr__ detour on the
hot path). ``__call__`` is just ``forward``: kernn has no hooks.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from ... import _memory
from ...autograd import _reset_leaf_grad
from ...tensor import Tensor, _new, _np_dtype, _to_dtype
from ..parameter import Parameter

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign Parameters, buffers
    (``register_buffer``) and submodules as attributes, and define ``forward``.

    Example::

        class Net(kernn.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = kernn.nn.Linear(784, 128)
                self.fc2 = kernn.nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(kernn.nn.functional.relu(self.fc1(x)))
    """

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers"] = set()
        d["_modules"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  "\"forward\" function")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def __init_subclass__(cls, **kwargs):
        # Calling a module is calling its forward (kernn has no hooks): a subclass that defines
        # forward gets it as __call__ itself, which saves a Python frame and the *args/**kwargs
        # packing on every layer call. (So a forward assigned on an instance later is only seen
        # through module.forward(...), not module(...).)
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__ and "__call__" not in cls.__dict__:
            cls.__call__ = cls.__dict__["forward"]

    # ---- registration --------------------------------------------------------------------
    def _check_init(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign to a {type(self).__name__} before "
                                 "Module.__init__() call")

    def __setattr__(self, name, value):
        d = self.__dict__
        if isinstance(value, Parameter):
            self._check_init()
            self._discard(name, keep="_parameters")
            d["_parameters"][name] = value
        elif isinstance(value, Module):
            self._check_init()
            self._discard(name, keep="_modules")
            d["_modules"][name] = value
            self._children_changed()
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(kernn.nn.Parameter or None expected)")
            d["_parameters"][name] = None
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (kernn.nn.Module or None expected)")
            d["_modules"][name] = None
            self._children_changed()
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(kernn.Tensor or None expected)")
            d["_buffers"][name] = value
        object.__setattr__(self, name, value)

    def _discard(self, name, keep=None):
        # `keep` is the dict about to receive `name`: leaving the old entry there makes the
        # assignment replace it in place, so a replaced child keeps its position (as torch).
        d = self.__dict__
        for key in ("_parameters", "_modules", "_buffers"):
            if key != keep:
                d[key].pop(name, None)
        d["_non_persistent_buffers"].discard(name)

    def __delattr__(self, name):
        if "_parameters" in self.__dict__:
            changed = name in self._modules
            self._discard(name)
            if changed:
                self._children_changed()
        object.__delattr__(self, name)

    def _check_free(self, name, registry):
        """KeyError, as torch, unless ``name`` is new or already an entry of ``registry``:
        add_module('training', m) set the training flag to m, add_module('forward', m)
        shadowed forward, add_module('_modules', m) replaced the children's dict."""
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def _children_changed(self):
        """Called when a child module is added, replaced or removed (Sequential re-plans)."""

    def register_parameter(self, name, param):
        """Adds a parameter (or None) under ``name``."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_parameter: invalid parameter name {name!r}")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: cannot assign '{type(param).__name__}' as "
                            f"parameter '{name}' (kernn.nn.Parameter or None expected)")
        self._check_init()
        self._check_free(name, "_parameters")
        self._discard(name, keep="_parameters")  # a replaced parameter keeps its position
        self.__dict__["_parameters"][name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Adds a tensor that is state but not a parameter (e.g. running_mean).

        Args:
            name (str): the attribute name.
            tensor (Tensor or None): the buffer.
            persistent (bool): whether it appears in state_dict().
        """
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: invalid buffer name {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: cannot assign '{type(tensor).__name__}' as "
                            f"buffer '{name}' (kernn.Tensor or None expected)")
        self._check_init()
        self._check_free(name, "_buffers")
        self._discard(name)
        self.__dict__["_buffers"][name] = tensor
        if not persistent:
            self.__dict__["_non_persistent_buffers"].add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        """Adds a child module under ``name``."""
        if not isinstance(name, str) or "." in name or not name:
            raise KeyError(f"add_module: invalid module name {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        self._check_init()
        self._check_free(name, "_modules")
        self._discard(name, keep="_modules")  # a replaced child keeps its position
        self.__dict__["_modules"][name] = module
        object.__setattr__(self, name, module)
        self._children_changed()

    register_module = add_module

    def get_submodule(self, target):
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    # ---- iteration -----------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yields (name, module) for self and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from m.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, get, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, v in get(m).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mprefix + ("." if mprefix else "") + name, v

    def _module_list(self):
        """self and its descendants in named_modules (depth-first) order, each once, without
        names: the fast path of parameters() and zero_grad(), which run every training step."""
        out = []
        seen = set()
        stack = [self]
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append(m)
            children = m._modules
            if children:
                stack.extend([c for c in reversed(children.values()) if c is not None])
        return out

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yields (dotted name, Parameter), each shared parameter once."""
        return self._named_members(lambda m: m._parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yields every Parameter of self and its descendants (shared ones once)."""
        if not recurse:
            return iter([p for p in self._parameters.values() if p is not None])
        params, seen = [], set()
        for m in self._module_list():
            for p in m._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        return iter(params)

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._buffers, prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and gradients -------------------------------------------------------------
    def train(self, mode=True):
        """Sets training mode (dropout active, batch norm uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("train: training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Sets evaluation mode; same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Resets the gradients of all parameters (to None, or to zeros)."""
        for m in self._module_list():
            for p in m._parameters.values():
                if p is not None:
                    _reset_leaf_grad(p, set_to_none)

    def apply(self, fn):
        """Calls fn(module) on every descendant and then on self (as torch); returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- dtype / device ------------------------------------------------------------------
    def _cast_floats(self, nd):
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None and p._data.dtype.kind == "f" and p._data.dtype != nd:
                    p._data = _memory.copy(p._data, nd)
                    if p.grad is not None:
                        p.grad = _new(_memory.copy(p.grad._data, nd))
            for name, b in m._buffers.items():
                if b is not None and b._data.dtype.kind == "f" and b._data.dtype != nd:
                    b._data = _memory.copy(b._data, nd)
        return self

    def to(self, *args, dtype=None, device=None):
        """Converts floating parameters and buffers in place: ``to(kernn.float64)``,
        ``to("cpu")``. Parameters keep their identity, so an optimizer built before still
        holds them."""
        dtype = _to_dtype(args, dtype, device)
        if dtype is None:
            return self
        nd = _np_dtype(dtype)
        if nd.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, but got {dtype!r}")
        return self._cast_floats(nd)

    def float(self):
        return self._cast_floats(np.dtype(np.float32))

    def double(self):
        return self._cast_floats(np.dtype(np.float64))

    def cpu(self):
        return self

    # ---- state dict ----------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict name -> Tensor of every parameter and persistent buffer.

        The tensors share memory with the module (detached unless keep_vars). Names follow
        torch's (``0.weight``, ``fc1.bias``, ``bn.running_mean``), so state dicts interchange
        with torch models of the same architecture.
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copies values from ``state_dict`` into this module's parameters and buffers.

        Values may be kernn Tensors, numpy arrays or torch tensors. Copies are in place, so
        parameters keep their identity (an optimizer still holds them).

        Args:
            state_dict (dict): name -> tensor, as returned by state_dict().
            strict (bool): require exactly the module's keys.

        Returns:
            NamedTuple (missing_keys, unexpected_keys).

        Raises:
            RuntimeError: listing missing and unexpected keys (strict) and every shape mismatch.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a mapping, got "
                            f"{type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        to_copy = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if arr.shape != target._data.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{tuple(arr.shape)} from checkpoint, the shape in current model "
                              f"is {tuple(target._data.shape)}.")
                continue
            to_copy.append((target, arr))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for target, arr in to_copy:
            target._data[...] = arr
        return _IncompatibleKeys(missing, unexpected)

    # ---- representation ------------------------------------------------------------------
    def extra_repr(self):
        """The text inside this module's parentheses in repr (e.g. sizes); override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            mod = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {mod}")
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        return sorted(set(super().__dir__()))
