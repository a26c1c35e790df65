"""Reverse-mode automatic differentiation: Function, the backward engine and grad modes.

The Function protocol (for everyone who writes an op)
-----------------------------------------------------
A differentiable op is a subclass of :class:`Function` with two static methods, as in PyTorch,
except that kernn Functions compute on numpy arrays (the arrays inside Tensors), not on Tensors::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x, scale):
            # Arguments arrive exactly as given to apply(): Tensors stay Tensors (read their array
            # as x._data), anything else (ints, floats, tuples, numpy arrays) passes through.
            y = np.exp(x._data) * scale
            if ctx.needs_input_grad[0]:        # save only what backward will need
                ctx.save_for_backward(y)
            ctx.scale = scale                  # plain attributes work too
            return y                           # a numpy array, or a tuple of arrays

        @staticmethod
        def backward(ctx, dy):
            # One numpy array per float output of forward (zeros for one that got no
            # gradient); None for an integer or bool output.
            (y,) = ctx.saved_tensors
            # One entry per argument of forward: an array of that argument's shape, or None
            # (for non-Tensor arguments and for inputs with needs_input_grad False).
            return dy * y, None

    y = Exp.apply(x, 2.0)                      # a Tensor; y.grad_fn is the ctx when x requires grad

Rules:
- forward returns numpy arrays; apply wraps each in a Tensor. An output of integer or bool dtype
  never requires grad (argmax indices, masks).
- ctx.needs_input_grad is a tuple of bools, one per argument of forward: True where that argument
  is a Tensor that requires grad and grad mode is on. Under no_grad it is all False and no graph
  is recorded, so forward should skip saving anything then.
- Save numpy arrays (ctx.save_for_backward(*arrays) or attributes), never the output Tensor
  itself: that would make a reference cycle through grad_fn.
- backward must return gradients with exactly the shape of each input: a Function that
  broadcasts sums the gradient back (see kernn.ops.tensor_ops.unbroadcast). The arrays returned
  may be views or the incoming dy itself; the engine never writes into them in place.
- Arrays passed to kernn._C must be C-contiguous: wrap anything that may be a view (inputs,
  and dy in backward) in kernn.ops.c_contiguous, which returns the array itself when it already
  is contiguous (np.ascontiguousarray would also do, but turns 0-d arrays into 1-d ones).
- Integer / bool arguments (labels, masks) reach forward as Tensors or arrays like any other;
  return None as their gradient.

The engine walks the graph from the root in reverse topological order with an explicit stack
(no recursion: a chain of any depth works), counting each node's consumers first so a node
shared by several paths (reuse, diamonds) runs once, after all its gradients are summed. After
backward the graph's saved state is freed unless retain_graph=True; a second backward through
a freed graph raises RuntimeError.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "Function",
    "no_grad",
    "enable_grad",
    "inference_mode",
    "set_grad_enabled",
    "is_grad_enabled",
    "backward",
]


class _GradMode:
    """Global grad-mode flag; read on every op, so it is a plain class attribute."""

    enabled = True


_mode = _GradMode


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward (not inside no_grad)."""
    return _mode.enabled


class _GradModeContext:
    """Base of no_grad / enable_grad: a context manager that is also a decorator."""

    _target = True

    def __new__(cls, func=None):
        # `@no_grad` (without parentheses) hands the function straight to the constructor.
        if func is not None and callable(func):
            return cls()(func)
        return super().__new__(cls)

    __slots__ = ("_prev",)

    def __init__(self, func=None):
        self._prev = True

    def __enter__(self):
        self._prev = _mode.enabled
        _mode.enabled = self._target
        return self

    def __exit__(self, *exc):
        _mode.enabled = self._prev
        return False

    def __call__(self, func):
        target = self._target

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _mode.enabled
            _mode.enabled = target
            try:
                return func(*args, **kwargs)
            finally:
                _mode.enabled = prev

        return wrapper


class no_grad(_GradModeContext):
    """Context manager and decorator that disables graph recording.

    Inside it, results of operations have requires_grad=False and nothing is saved for
    backward, which makes inference faster and lighter.

    Example::

        with kernn.no_grad():
            logits = model(x)

        @kernn.no_grad()
        def evaluate(model, x): ...
    """

    _target = False


class enable_grad(_GradModeContext):
    """Context manager and decorator that re-enables graph recording inside no_grad."""

    _target = True


class inference_mode(_GradModeContext):
    """As torch.inference_mode: a context manager and decorator that, with mode True (the
    default), disables graph recording; kernn has no lighter mode than no_grad, so it is
    no_grad. inference_mode(False) records as usual.

    Args:
        mode (bool): whether to disable recording.
    """

    __slots__ = ("_target",)

    def __new__(cls, mode=True):
        # `@inference_mode` (without parentheses) hands the function straight to the constructor.
        if callable(mode):
            return cls()(mode)
        self = object.__new__(cls)
        self._target = not mode
        return self


class set_grad_enabled:
    """Sets grad mode on or off; usable as a function call or as a context manager.

    Args:
        mode (bool): True to record graphs, False to disable recording.
    """

    def __init__(self, mode: bool):
        self._prev = _mode.enabled
        _mode.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _mode.enabled = self._prev
        return False


# The Tensor class is injected by kernn.tensor at import time (tensor.py imports this module).
_Tensor = None
_new_tensor = None


class Function:
    """Base class of differentiable operations; instances are the graph's nodes (``ctx``).

    Subclasses define static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    and are called through :meth:`apply`. See the module docstring for the protocol.
    """

    # Set per instance by apply(); declared here for readers and linters.
    needs_input_grad: tuple = ()
    _edges = None
    _n_outputs = 1
    _out_meta = None
    _saved = ()
    _freed = False

    @staticmethod
    def forward(ctx, *args):  # pragma: no cover - always overridden
        raise NotImplementedError("Function subclasses must implement a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):  # pragma: no cover - always overridden
        raise NotImplementedError(
            "Function subclasses must implement a static backward(ctx, *grad_outputs)"
        )

    def save_for_backward(self, *arrays):
        """Keep arrays (or other objects) for backward; read them back as ctx.saved_tensors."""
        self._saved = arrays

    @property
    def saved_tensors(self):
        if self._freed:
            raise RuntimeError(
                f"{type(self).__name__}: trying to backward through the graph a second time "
                "(or to read saved tensors after they were freed); pass retain_graph=True to "
                "the first backward() if you need to backward twice"
            )
        return self._saved

    @classmethod
    def apply(cls, *args):
        """Runs forward on ``args`` and, in grad mode, records the node for backward.

        Returns a Tensor, or a tuple of Tensors when forward returns a tuple of arrays.
        """
        ctx = _object_new(cls)
        record = False
        if _mode.enabled:
            # isinstance, not getattr(a, "_rg", False): a failed getattr on the str / int
            # arguments costs an exception each.
            T = _Tensor
            needs = tuple([isinstance(a, T) and a._rg for a in args])
            record = True in needs
        if record:
            ctx.needs_input_grad = needs
        else:
            ctx.needs_input_grad = _NO_GRADS[len(args)] if len(args) < 8 else (False,) * len(args)
        out = cls.forward(ctx, *args)
        new = _new_tensor
        if type(out) is not tuple:
            if type(out) is not np.ndarray:
                out = np.asarray(out)  # numpy returns scalars for 0-d results
            t = new(out)
            if record and out.dtype.kind == "f":
                t._rg = True
                t.grad_fn = ctx
                t._output_nr = 0
                ctx._edges = _edges_of(args, needs)
            return t
        out = tuple([np.asarray(o) for o in out])
        outs = tuple([new(o) for o in out])
        if record:
            ctx._edges = _edges_of(args, needs)
            ctx._n_outputs = len(outs)
            ctx._out_meta = [(o.shape, o.dtype) for o in out]
            for i, t in enumerate(outs):
                if t._data.dtype.kind == "f":
                    t._rg = True
                    t.grad_fn = ctx
                    t._output_nr = i
        return outs

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__}>"


def _edges_of(args, needs):
    # An edge is (node, output_nr) for a non-leaf input, (None, tensor) for a leaf, or None
    # where no gradient is needed. Leaves are kept themselves; interior tensors are not, so
    # their arrays can be freed as soon as nothing else holds them.
    return tuple([
        None if not n else (None, a) if a.grad_fn is None else (a.grad_fn, a._output_nr)
        for a, n in zip(args, needs)
    ])


_object_new = object.__new__
_NO_GRADS = [(False,) * n for n in range(8)]


def _memory_owner(a):
    """The object that owns ``a``'s memory (numpy points every view's ``base`` at it)."""
    return a if a.base is None else a.base


def _take(taken, g):
    """Records g in ``taken`` (backward's record of the arrays already given away), keyed by
    the object that owns its memory."""
    owner = _memory_owner(g)
    taken.setdefault(id(owner), (owner, []))[1].append(g)


def _is_taken(taken, g):
    """Whether g's memory overlaps an array in ``taken``: views of one array that do not
    overlap (cat's backward splits its gradient among the inputs) are each their own."""
    entry = taken.get(id(_memory_owner(g)))
    return entry is not None and any(np.may_share_memory(g, a) for a in entry[1])


def _accumulate_leaf(leaf, g, taken):
    """Adds g to leaf.grad. ``taken`` (see _take) holds the memory that must not become a
    leaf's gradient as it is: the caller's ``gradient=`` array and every array already given
    to a leaf in this backward. A pass-through backward (add, a view) hands one array to
    several consumers; without the copy, two leaves' .grad would be one array and an in-place
    change to one (zero_grad(set_to_none=False), ``grad.zero_()``) would change the other, or
    the caller's gradient. Arrays a kernel has just made are taken as they are."""
    data = leaf._data
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    if g.shape != data.shape:
        if g.size == data.size:
            g = g.reshape(data.shape)
        else:
            raise RuntimeError(
                f"backward: gradient of shape {tuple(g.shape)} for a leaf of shape "
                f"{tuple(data.shape)}"
            )
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    if leaf.grad is None:
        # Optimizer kernels need a C-contiguous, writeable gradient of the leaf's own.
        if not g.flags.c_contiguous or not g.flags.writeable or _is_taken(taken, g):
            g = np.array(g, order="C")
        _take(taken, g)
        leaf.grad = _new_tensor(g)
    else:
        # Out of place (torch adds in place; the values are the same).
        leaf.grad._data = leaf.grad._data + g


def _reset_leaf_grad(leaf, set_to_none):
    """zero_grad for one leaf (Module's and Optimizer's): .grad set to None, or filled with
    zeros in place as in torch (a reference the caller holds reads zeros too). Backward gives
    every leaf a gradient array of its own (_accumulate_leaf), so no other tensor changes with
    it; a read-only gradient (assigned by hand) is replaced by zeros instead."""
    if leaf.grad is None:
        return
    if set_to_none:
        leaf.grad = None
        return
    g = leaf.grad._data
    if g.flags.writeable:
        g.fill(0)
    else:
        leaf.grad._data = np.zeros_like(g)


def backward(tensor, gradient=None, retain_graph=False):
    """Computes the gradient of ``tensor`` with respect to the graph's leaves.

    Args:
        tensor (Tensor): the root; a scalar unless ``gradient`` is given.
        gradient (Tensor or array, optional): d(something)/d(tensor), of tensor's shape.
        retain_graph (bool): keep the graph's saved arrays so backward can run again.
    """
    if not tensor._rg:
        raise RuntimeError(
            "backward: element 0 of tensors does not require grad and does not have a grad_fn"
        )
    data = tensor._data
    # The caller's gradient array stays theirs: a leaf reached through pass-through ops copies
    # it (a converted copy is already backward's own).
    taken = {}
    if gradient is None:
        if data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs; the tensor "
                f"has shape {tuple(data.shape)}, pass gradient="
            )
        g = np.ones(data.shape, dtype=data.dtype)
    else:
        g = np.asarray(gradient._data if isinstance(gradient, _Tensor) else gradient)
        if g.shape != data.shape:
            raise RuntimeError(
                f"backward: gradient has shape {tuple(g.shape)} but the tensor has shape "
                f"{tuple(data.shape)}"
            )
        if g.dtype != data.dtype:
            g = g.astype(data.dtype)
        else:
            _take(taken, g)
    root = tensor.grad_fn
    if root is None:
        _accumulate_leaf(tensor, g, taken)
        return
    prev = _mode.enabled
    _mode.enabled = False
    try:
        _run_backward(root, tensor._output_nr, g, retain_graph, taken)
    finally:
        _mode.enabled = prev


def _run_backward(root, root_output_nr, g, retain_graph, taken):
    # 1. Count, for every node reachable from the root, how many edges point at it.
    deps = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        edges = node._edges
        if edges is None or node._freed:
            raise RuntimeError(
                f"{type(node).__name__}: trying to backward through the graph a second time; "
                "its saved arrays were freed by the first backward(). Pass retain_graph=True "
                "to the first call if you need to backward twice"
            )
        for e in edges:
            if e is not None:
                n = e[0]
                if n is not None:
                    if n in deps:
                        deps[n] += 1
                    else:
                        deps[n] = 1
                        stack.append(n)
    # 2. Run nodes once all their consumers have contributed (reverse topological order).
    # pending holds a node's summed output gradient: the array itself for single-output nodes
    # (nearly all), a list with one slot per output otherwise.
    if root._n_outputs == 1:
        pending = {root: g}
    else:
        slots = [None] * root._n_outputs
        slots[root_output_nr] = g
        pending = {root: slots}
    ready = [root]
    while ready:
        node = ready.pop()
        grads = pending.pop(node, None)
        edges = node._edges
        if grads is not None:
            if node._n_outputs == 1:
                gin = node.backward(node, grads)
            else:
                for i, gi in enumerate(grads):
                    # An unused float output gets zeros, as in torch; an integer output (the
                    # indices of max / max_pool2d) never carries a gradient and gets None, which
                    # saves zero-filling a large index array on every backward.
                    if gi is None:
                        shape, dtype = node._out_meta[i]
                        if dtype.kind == "f":
                            grads[i] = np.zeros(shape, dtype=dtype)
                gin = node.backward(node, *grads)
            if type(gin) is not tuple:
                gin = (gin,)
            if len(gin) < len(edges):
                raise RuntimeError(
                    f"{type(node).__name__}.backward returned {len(gin)} gradients; its forward "
                    f"took {len(edges)} arguments"
                )
        else:
            gin = (None,) * len(edges)
        if not retain_graph:
            node._freed = True
            node._saved = ()
            node._edges = None
        for e, gi in zip(edges, gin):
            if e is None:
                continue
            n, x = e
            if n is None:
                if gi is not None:
                    _accumulate_leaf(x, gi, taken)
                continue
            if gi is not None:
                if n._n_outputs == 1:
                    prev = pending.get(n)
                    pending[n] = gi if prev is None else prev + gi
                else:
                    slot = pending.get(n)
                    if slot is None:
                        slot = pending[n] = [None] * n._n_outputs
                    prev = slot[x]
                    slot[x] = gi if prev is None else prev + gi
            left = deps[n] - 1
            deps[n] = left
            if left == 0:
                ready.append(n)
