"""Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ...tensor import Tensor
from ..parameter import Parameter
from .module import Module


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: length, iteration, appending, item assignment and
    deletion, and renaming the children 0..n-1 after an insertion or a deletion, as torch does.
    Each subclass's ``_key(idx)`` names the child at an index (IndexError when out of range)."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Adds ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __setitem__(self, idx, module):
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx):
        """Removes the child at ``idx`` (an int or a slice); the rest are renamed 0..n-1."""
        if not isinstance(idx, slice):
            self._key(idx)  # the range check and its message
        modules = list(self._modules.values())
        del modules[idx]
        self._renumber(modules)

    def _renumber(self, modules):
        """Makes ``modules`` the children, named 0..n-1."""
        for key in list(self._modules.keys()):
            delattr(self, key)
        for i, m in enumerate(modules):
            self.add_module(str(i), m)


class Sequential(_ModuleSequence):
    """Runs modules one after another: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    A Linear directly followed by a ReLU (exactly those classes) runs as one fused GEMM with
    the ReLU in its epilogue, a BatchNorm1d/BatchNorm2d directly followed by a ReLU as one
    batch-norm pass with the ReLU fused in (forward and backward), and a ReLU directly followed
    by a MaxPool2d as the pooling first, the ReLU after, on the pooled (smaller) tensor; outputs
    and gradients are those of the pair, bit for bit (but for the sign of a zero output after
    the reordered pooling). The plan is rebuilt whenever a child is added, replaced or
    removed.

    Args:
        *modules: the modules in order, or a single OrderedDict name -> module.

    Example::

        >>> model = kernn.nn.Sequential(kernn.nn.Linear(784, 500), kernn.nn.ReLU(),
        ...                             kernn.nn.Linear(500, 10))
        >>> model[0], len(model)
    """

    def __init__(self, *modules):
        super().__init__()
        self.__dict__["_plan"] = None
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def _children_changed(self):
        self.__dict__["_plan"] = None

    def _build_plan(self):
        from .activation import ReLU
        from .batchnorm import BatchNorm1d, BatchNorm2d
        from .linear import Linear
        from .pooling import MaxPool2d

        fusable = (Linear, BatchNorm1d, BatchNorm2d)
        mods = [m for m in self._modules.values() if m is not None]
        plan = []
        i = 0
        while i < len(mods):
            m = mods[i]
            following = type(mods[i + 1]) if i + 1 < len(mods) else None
            if type(m) in fusable and following is ReLU:
                plan.append(m._forward_relu)
                i += 2
            elif type(m) is ReLU and following is MaxPool2d:
                plan.append(_pool_then_relu(mods[i + 1]))
                i += 2
            else:
                plan.append(m)
                i += 1
        self.__dict__["_plan"] = plan
        return plan

    def forward(self, input):
        plan = self._plan
        if plan is None:
            plan = self._build_plan()
        for step in plan:
            input = step(input)
        return input

    def _key(self, idx):
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a Sequential of length {n}")
        return list(self._modules.keys())[idx % n]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._key(idx)]

    def insert(self, index, module):
        items = list(self._modules.values())
        n = len(items)
        if not -n <= index <= n:
            raise IndexError(f"insert: index {index} out of range for length {n}")
        items.insert(index % (n + 1) if index < 0 else index, module)
        self._renumber(items)
        return self


def _pool_then_relu(pool):
    """ReLU -> MaxPool2d computed as MaxPool2d -> ReLU, the ReLU then running on a tensor a
    quarter the size (2x2 pooling). Max commutes with the non-decreasing ReLU, NaN included, so
    the values are equal; only a zero may come out with the other sign (window [-1, -0.0]: the
    given order keeps the first tied zero, +0.0; pooling first gives relu(-0.0) = -0.0). Where
    a window's maximum is positive both orders pick the same element, and where it is not both
    give it a zero gradient, so the gradients are bit for bit equal. Indices would differ
    (all-negative windows), so a pool that returns them keeps the given order."""
    from .. import functional as F

    def step(input):
        if pool.return_indices:
            return pool(F.relu(input))
        return F.relu(pool(input))

    return step


class ModuleList(_ModuleSequence):
    """A list of modules, registered so their parameters are found (no forward).

    Args:
        modules (iterable, optional): initial modules.

    Example::

        >>> self.layers = kernn.nn.ModuleList([kernn.nn.Linear(512, 512) for _ in range(4)])
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _key(self, idx):
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a ModuleList of length {n}")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __iadd__(self, modules):
        return self.extend(modules)

    def insert(self, index, module):
        items = list(self._modules.values())
        items.insert(index, module)
        self._renumber(items)


def _key_value_pairs(container, items):
    """The (key, value) pairs of a ModuleDict/ParameterDict update: torch's checks and messages
    for an iterable of pairs."""
    for j, item in enumerate(items):
        if not isinstance(item, Iterable):
            raise TypeError(f"{container} update sequence element #{j} should be Iterable; is"
                            f"{type(item).__name__}")
        if len(item) != 2:
            raise ValueError(f"{container} update sequence element #{j} has length "
                             f"{len(item)}; 2 is required")
        yield item[0], item[1]


class ModuleDict(Module):
    """An ordered dict of modules, registered so their parameters are found (no forward).

    Keys are the children's names (``state_dict`` names ``<key>.weight``); the order is the
    insertion order. update() keeps the order of an OrderedDict, a ModuleDict, a plain dict or
    an iterable of (key, module) pairs, as torch.

    Args:
        modules (mapping or iterable of pairs, optional): initial (key, module) entries.

    Example::

        >>> heads = kernn.nn.ModuleDict({"cls": kernn.nn.Linear(64, 10),
        ...                              "box": kernn.nn.Linear(64, 4)})
        >>> heads["box"](kernn.randn(2, 64)).shape
        kernn.Size([2, 4])
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Removes every entry."""
        for key in list(self._modules):
            delattr(self, key)

    def pop(self, key):
        """Removes ``key`` and returns its module."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        """Adds (or replaces) the entries of a mapping or of an iterable of (key, module)
        pairs, in their order."""
        if not isinstance(modules, Iterable):
            raise TypeError("ModuleDict.update should be called with an iterable of key/value "
                            f"pairs, but got {type(modules).__name__}")
        pairs = (modules.items() if isinstance(modules, (Mapping, ModuleDict))
                 else _key_value_pairs("ModuleDict", modules))
        for key, module in pairs:
            self[key] = module


# torch.typename's names of the legacy tensor types, by dtype name (ParameterDict's repr).
_TENSOR_TYPE_NAMES = {
    "float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor",
    "int8": "CharTensor", "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor",
    "uint8": "ByteTensor", "bool": "BoolTensor",
}


def _entry_repr(key, value, dtype_text):
    """One line of ParameterList's / ParameterDict's repr, as torch's."""
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        size = "x".join(str(d) for d in value.shape)
        return f"  ({key}): {kind} containing: [{dtype_text(value)} of size {size}]"
    return f"  ({key}): Object of type: {type(value).__name__}"


def _as_parameter(value):
    """A Tensor that is not a Parameter becomes one (sharing its data), as torch's containers
    do; anything else is kept as it is."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterList(Module):
    """A list of parameters, registered under the names "0", "1", ... (``state_dict`` names
    ``<list>.0``), as torch's.

    Tensors added by the constructor, append, extend or item assignment become Parameters
    (sharing their data); other objects are kept as they are (and not registered).

    Args:
        values (iterable, optional): initial entries.

    Example::

        >>> scales = kernn.nn.ParameterList([kernn.nn.Parameter(kernn.ones(4)) for _ in range(3)])
        >>> len(scales), scales[-1].shape
        (3, kernn.Size([4]))
    """

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _name(self, idx):
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range for a ParameterList of length "
                             f"{len(self)}")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(self[i] for i in range(*idx.indices(len(self))))
        return getattr(self, self._name(idx))

    def __setitem__(self, idx, value):
        setattr(self, self._name(idx), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")

    def append(self, value):
        """Adds ``value`` at the end."""
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values):
        """Appends every entry of an iterable (a Tensor is refused, not unpacked)."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError("ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(_entry_repr(i, p, lambda t: repr(t.dtype)) for i, p in enumerate(self))


class ParameterDict(Module):
    """An ordered dict of parameters, registered under their keys (``state_dict`` names
    ``<dict>.<key>``), as torch's.

    Tensors added by the constructor, update or item assignment become Parameters (sharing
    their data); other objects are kept as they are. update() keeps the order of an
    OrderedDict, a ParameterDict or an iterable of pairs, and sorts a plain dict's keys, as torch.

    Args:
        parameters (mapping or iterable of pairs, optional): initial (key, value) entries.

    Example::

        >>> p = kernn.nn.ParameterDict({"scale": kernn.ones(3), "shift": kernn.zeros(3)})
        >>> [name for name, _ in p.named_parameters()]
        ['scale', 'shift']
    """

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _attribute(key):
        if not isinstance(key, str):
            raise TypeError("Index given to ParameterDict cannot be used as a key as it is not "
                            f"a string (type is '{type(key).__name__}')")
        return key

    def __getitem__(self, key):
        if self._attribute(key) not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(self._attribute(key), value)
        else:
            setattr(self, self._attribute(key), value)
        self._keys[key] = None

    def __delitem__(self, key):
        if self._attribute(key) not in self._keys:
            raise KeyError(key)
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")

    def copy(self):
        """A new ParameterDict holding the same values in the same order."""
        return ParameterDict(OrderedDict(self.items()))

    def setdefault(self, key, default=None):
        """The value of ``key``, first set to ``default`` when ``key`` is absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        """Removes every entry."""
        for key in list(self._keys):
            del self[key]

    def pop(self, key):
        """Removes ``key`` and returns its value."""
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Removes and returns the last inserted (key, value) pair."""
        if not self._keys:
            raise KeyError("popitem(): ParameterDict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None):
        """A new ParameterDict with ``keys``, each set to ``default``."""
        return ParameterDict((key, default) for key in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((key, self[key]) for key in self._keys)

    def values(self):
        return (self[key] for key in self._keys)

    def update(self, parameters):
        """Adds (or replaces) the entries of a mapping or of an iterable of (key, value)
        pairs: an OrderedDict's, a ParameterDict's or the pairs' order, a plain dict's keys
        sorted (as torch)."""
        if not isinstance(parameters, Iterable):
            raise TypeError("ParametersDict.update should be called with an iterable of "
                            f"key/value pairs, but got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = _key_value_pairs("ParameterDict", parameters)
        for key, value in pairs:
            self[key] = value

    def __or__(self, other):
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other):
        merged = other.copy()
        merged.update(self)
        return merged

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        return "\n".join(
            _entry_repr(key, value, lambda t: f"kernn.{_TENSOR_TYPE_NAMES[t.dtype.name]}")
            for key, value in self.items())
