"""The backward graph's vertices. Every recorded op leaves a node (the result's `grad_fn`)
whose `next_functions` lead to the nodes of its inputs; a leaf's gradient ends in its
`AccumulateGrad`, which adds it into `.grad`. Hooks on nodes and tensors run here too.
"""
from __future__ import annotations

import itertools
import sys
import weakref
from typing import Callable

from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.vector import Tensor, contiguous_format, zeros


_sequence = itertools.count()


class RemovableHandle:
    """What `register_hook` returns: `handle.remove()` takes the hook out again."""

    _ids = itertools.count()

    def __init__(self, hooks: dict):
        self._hooks_ref = weakref.ref(hooks) if _weakrefable(hooks) else (lambda: hooks)
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        hooks = self._hooks_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class _HookDict(dict):
    """A dict that a weak reference can point at (plain dicts cannot)."""


def add_hook(owner, attr: str, fn: Callable) -> RemovableHandle:
    """Put `fn` in the hook table `owner.<attr>` (made on first use: most tensors and nodes
    have none) and return the handle that removes it."""
    hooks = getattr(owner, attr)
    if hooks is None:
        hooks = _HookDict()
        setattr(owner, attr, hooks)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


def _weakrefable(obj) -> bool:
    try:
        weakref.ref(obj)
        return True
    except TypeError:
        return False


class Node:
    """A vertex of the backward graph: one op's derivative, reached through a tensor's `grad_fn`.

    `next_functions` holds one `(node, output_nr)` pair per differentiable input: the node that
    produced that input (or its `AccumulateGrad` if it is a leaf), or `(None, 0)` when the input
    needs no gradient.
    """

    __slots__ = ("next_functions", "_seq", "__dict__", "__weakref__")
    # Rarely set, so class-level defaults: a node pays for hooks only when it has some.
    _pre_hooks = _post_hooks = _tensor_hooks = _retain = _metadata = None

    def __init__(self):
        self.next_functions: tuple = ()
        self._seq = next(_sequence)  # later nodes run first, as in PyTorch's engine

    @property
    def metadata(self) -> dict:
        """A dict for users' own notes about this node."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # -- hooks -------------------------------------------------------------------------------
    def register_hook(self, fn: Callable) -> RemovableHandle:
        """`fn(grad_inputs, grad_outputs)` runs after this node computed its input gradients."""
        return add_hook(self, "_post_hooks", fn)

    def register_prehook(self, fn: Callable) -> RemovableHandle:
        """`fn(grad_outputs)` runs before this node; it may return replacement gradients."""
        return add_hook(self, "_pre_hooks", fn)

    def _add_tensor_hook(self, output_nr: int, fn: Callable) -> RemovableHandle:
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        hooks = self._tensor_hooks.setdefault(output_nr, _HookDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    # -- running -----------------------------------------------------------------------------
    def _run(self, grads: list) -> tuple:
        """Hooks around `apply`: tensor hooks and pre-hooks may replace incoming gradients."""
        if self._tensor_hooks:
            for nr, hooks in self._tensor_hooks.items():
                if grads[nr] is not None:
                    grads[nr] = _run_tensor_hooks(hooks, grads[nr])
        if self._retain:
            for nr, ref in self._retain.items():
                t = ref()
                if t is not None and grads[nr] is not None:
                    g = grads[nr].detach()
                    t._grad = g.clone() if t._grad is None else t._grad + g
        if self._pre_hooks:
            for fn in list(self._pre_hooks.values()):
                new = fn(tuple(grads))
                if new is not None:
                    grads = list(new)
        grad_inputs = self.apply(*grads)
        if self._post_hooks:
            for fn in list(self._post_hooks.values()):
                new = fn(grad_inputs, tuple(grads))
                if new is not None:
                    grad_inputs = tuple(new)
        return grad_inputs

    def __call__(self, *grads):
        return self.apply(*grads)

    def apply(self, *grads) -> tuple:
        raise NotImplementedError

    def _release(self) -> None:
        """Free what this node saved for backward (called after backward without retain_graph)."""

    @property
    def _n_outputs(self) -> int:
        return 1


def _run_tensor_hooks(hooks: dict, grad: "Tensor") -> "Tensor":
    """Run a tensor's hooks in order; each may return a replacement gradient, which must keep
    the gradient's shape (it is the gradient of that tensor)."""
    for fn in list(hooks.values()):
        new = fn(grad)
        if new is not None:
            if not isinstance(new, Tensor) or new._shape != grad._shape:
                raise RuntimeError(f"hook '{getattr(fn, '__name__', fn)}' has changed the size "
                                   "of value")
            grad = new
    return grad


class AccumulateGrad(Node):
    """The node at a leaf: adds the incoming gradient into `variable.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable: "Tensor"):
        super().__init__()
        self.variable = variable
        self._seq = -1  # leaves run after everything that feeds them

    def apply(self, grad):
        var = self.variable
        if var._hooks:
            grad = _run_tensor_hooks(var._hooks, grad)
        if _grad_enabled[0]:  # create_graph: the gradient itself stays differentiable
            var._grad = grad if var._grad is None else var._grad + grad
        elif var._grad is None:
            var._grad = grad if _can_steal(grad, var) else \
                grad.detach().clone(memory_format=contiguous_format)
        else:
            var._grad.add_(grad)
        if var._post_accumulate_hooks:
            for fn in list(var._post_accumulate_hooks.values()):
                fn(var)
        return ()


# References to an incoming gradient that exist anyway while AccumulateGrad looks at it: the
# engine's input buffer list, the argument tuple of apply, apply's and _can_steal's parameters,
# and getrefcount's own argument.
_ENGINE_REFS = 5


def _can_steal(grad: "Tensor", var: "Tensor") -> bool:
    """May `grad` become `var.grad` as it is, without a copy? Only if nothing else can see it
    (as PyTorch's AccumulateGrad keeps a gradient whose use count is 1): a contiguous tensor
    covering its whole storage, whose object, storage and view base nobody else references."""
    if not (type(grad) is Tensor and grad.grad_fn is None and grad._shape == var._shape
            and grad._storage.dtype is var._storage.dtype and grad._offset == 0
            and grad.is_contiguous() and grad._storage.size() == grad.numel()
            and sys.getrefcount(grad) <= _ENGINE_REFS):
        return False
    holders = 2  # grad's own slot, and getrefcount's argument
    if grad._base is not None:  # e.g. the transpose of a fresh matmul result
        if sys.getrefcount(grad._base) > 2:
            return False
        holders += 1
    if sys.getrefcount(grad._storage) > holders:
        return False
    grad._base = grad._view_version = None  # its base was reachable only through it
    return True


def _edge(t: "Tensor") -> tuple:
    """The `(node, output_nr)` pair through which gradient reaches tensor `t`."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    acc = t._grad_acc
    if acc is None:
        acc = t._grad_acc = AccumulateGrad(t)
    return (acc, 0)


class BackwardNode(Node):
    """The node a `Function` records; it is also the `ctx` that forward and backward share."""

    __slots__ = ("_saved", "_saved_versions", "needs_input_grad", "_input_slots",
                 "_inputs_meta", "_outputs_meta", "_n_args", "_tracking")
    _forward_cls: type = None  # the Function subclass whose backward this node runs
    # Defaults that only some Functions change (mark_dirty, set_materialize_grads, ...).
    _freed = False
    _non_differentiable = _dirty = ()
    materialize_grads = True
    # {position in _saved: output number} for saved tensors that are this node's own outputs
    # (see _unlink_saved_outputs); None when it saved none
    _saved_output_nrs = None

    def __init__(self):
        self.next_functions = ()
        self._seq = next(_sequence)
        self._saved = self._saved_versions = ()
        self._input_slots = self._inputs_meta = self._outputs_meta = ()
        self._n_args = 0
        self._tracking = False

    # -- the ctx API -------------------------------------------------------------------------
    def save_for_backward(self, *tensors: "Tensor | None") -> None:
        """Keep `tensors` for backward; an in-place change to one of them later is an error."""
        if self._tracking:
            self._saved = tensors
            self._saved_versions = tuple([t._version[0] if t is not None else 0 for t in tensors])

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward.")
        for i, (t, version) in enumerate(zip(self._saved, self._saved_versions)):
            if t is not None and t._version[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{t.type()} {list(t._shape)}], which is "
                    f"{self._producer_of_saved(i, t)}, is at version {t._version[0]}; expected "
                    f"version {version} instead. Hint: the tensor was changed in place after "
                    "this op saved it; use an out-of-place op (x = x + 1 rather than x += 1) or "
                    ".clone() it first.")
        if self._saved_output_nrs is not None and _grad_enabled[0]:
            return self._relinked_saved()
        return self._saved

    def _producer_of_saved(self, i: int, t: "Tensor") -> str:
        if self._saved_output_nrs is not None and i in self._saved_output_nrs:
            return f"output {self._saved_output_nrs[i]} of {self.name()}"
        return f"output {t._output_nr} of {t.grad_fn.name() if t.grad_fn else 'a leaf'}"

    def _relinked_saved(self) -> tuple:
        """The saved tensors with this node's own outputs as graph tensors again (grad_fn =
        this node), for a backward that builds a graph (create_graph): the second derivative
        flows through them. Made afresh for each read, so no cycle outlives the backward."""
        saved = list(self._saved)
        for i, nr in self._saved_output_nrs.items():
            out = saved[i]._alias()
            _link_output(self, out, nr)
            saved[i] = out
        return tuple(saved)

    def mark_dirty(self, *tensors: "Tensor") -> None:
        """Declare that forward changed these inputs in place."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: "Tensor") -> None:
        """Declare outputs that have no gradient (indices, masks)."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """If False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = value

    # -- running -----------------------------------------------------------------------------
    @property
    def _n_outputs(self) -> int:
        return len(self._outputs_meta)

    def apply(self, *grads):
        if self.materialize_grads and _has_none(grads):
            grads = tuple(g if g is not None else _zeros_like_meta(meta)
                          for g, meta in zip(grads, self._outputs_meta))
        result = self._forward_cls.backward(self, *grads)
        if type(result) is not tuple:
            result = (result,)
        if len(result) != self._n_args:
            if len(result) < self._n_args or any(g is not None for g in result[self._n_args:]):
                raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                                   f"gradients (expected {self._n_args}, got {len(result)})")
        # Keep the gradients of the tensor inputs, in next_functions order.
        out = []
        for slot, meta in zip(self._input_slots, self._inputs_meta):
            g = result[slot]
            if g is not None and meta is not None and (
                    type(g) is not Tensor or g._shape != meta[0] or g._storage.dtype is not meta[1]):
                g = _check_grad(self, slot, g, meta)
            out.append(g)
        return out

    def _release(self) -> None:
        # Like PyTorch, only nodes that saved tensors refuse a second backward.
        if self._saved:
            self._saved = ()
            self._freed = True


def _has_none(grads) -> bool:
    """Whether some gradient is missing. (Not `None in grads`: that compares each tensor with
    None through Tensor.__eq__.)"""
    for g in grads:
        if g is None:
            return True
    return False


def _all_none(grads) -> bool:
    """Whether no gradient arrived at all."""
    for g in grads:
        if g is not None:
            return False
    return True


def _zeros_like_meta(meta):
    shape, dt, dev = meta
    return zeros(shape, dtype=dt, device=dev)


def _check_grad(node: BackwardNode, slot: int, g, meta):
    """A backward must return gradients shaped like its inputs (broadcasting is its business)."""
    shape, dt, dev = meta
    if not isinstance(g, Tensor):
        raise TypeError(f"function {node.name()} returned a gradient of type {type(g).__name__} "
                        f"for input {slot}; expected a Tensor or None")
    if g._shape != shape:
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {slot} "
                           f"- got {list(g._shape)} but expected shape compatible with "
                           f"{list(shape)}")
    if g.dtype is not dt:
        g = g.to(dt)
    return g


def _link_output(node: BackwardNode, out: "Tensor", nr: int) -> None:
    out._requires_grad = True
    out._grad_fn = node
    out._output_nr = nr
