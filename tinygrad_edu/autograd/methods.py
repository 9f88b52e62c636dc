"""The Tensor methods that read or extend a tensor's autograd history: grad_fn, backward,
register_hook, retain_grad. vector.py defines the fields they use (`_grad_fn`, `_requires_grad`,
`_version`, `_base`); these functions are attached to Tensor when autograd is imported.
"""
from __future__ import annotations

import weakref
from typing import Callable

from tinygrad_edu.autograd.engine import backward as _backward
from tinygrad_edu.autograd.graph import Node, RemovableHandle, add_hook
from tinygrad_edu.autograd.views import _refresh_view


def grad_fn(self) -> "Node | None":
    """The node that made this tensor (None for a leaf). A view whose base (or another view
    of it) was changed in place since its history was recorded gets a fresh history
    first: PyTorch's rule, see _refresh_view."""
    if self._view_version is not None and self._view_version != self._version[0]:
        _refresh_view(self)
    return self._grad_fn


def retain_grad(self) -> None:
    """Keep this non-leaf tensor's gradient in `.grad` after backward."""
    if not self.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None or self._retains_grad:
        return
    node = self.grad_fn
    if node._retain is None:
        node._retain = {}
    node._retain[self._output_nr] = weakref.ref(self)
    self._retains_grad = True


def register_hook(self, hook: Callable) -> RemovableHandle:
    """`hook(grad)` runs when this tensor's gradient is computed; it may return a new one."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        return self.grad_fn._add_tensor_hook(self._output_nr, hook)
    return add_hook(self, "_hooks", hook)


def register_post_accumulate_grad_hook(self, hook: Callable) -> RemovableHandle:
    """`hook(tensor)` runs after a leaf's `.grad` has been accumulated."""
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                           "tensors")
    return add_hook(self, "_post_accumulate_hooks", hook)


def backward(self, gradient=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Compute d(self)/d(leaf) for every leaf of the graph and add it into `leaf.grad`."""
    _backward(self, gradient, retain_graph, create_graph, inputs)


def attach_methods(cls: type) -> None:
    """Give Tensor these methods (called once, by autograd/__init__.py)."""
    cls.grad_fn = property(grad_fn)
    for fn in (retain_grad, register_hook, register_post_accumulate_grad_hook, backward):
        setattr(cls, fn.__name__, fn)
