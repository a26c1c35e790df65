"""Sequential and ModuleList."""

from __future__ import annotations

from collections import OrderedDict

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
