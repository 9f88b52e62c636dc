"""Joining and unjoining: cat and stack make one tensor of several, unbind makes several views
of one. Each one's backward is the other.
"""
from __future__ import annotations

import builtins
from typing import Sequence

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.ops.helpers import _k, _same_device, zeros
from tinygrad_edu.ops.views import Select, Slice, Unsqueeze, split
from tinygrad_edu.vector import Tensor, _wrap_dim


class Unbind(Function):
    """(y_0, ..., y_n-1) = the slices of x along `dim`;  dL/dx = stack of the dL/dy_i"""
    backward_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim, ctx.shape = dim, x._shape
        shape = x._shape[:dim] + x._shape[dim + 1:]
        strides = x._strides[:dim] + x._strides[dim + 1:]
        step = x._strides[dim]  # slice i starts i steps along dim (Select.geometry, for all i)
        views = tuple([x._as_view(x._offset + i * step, shape, strides)
                       for i in range(x._shape[dim])])
        for i, v in enumerate(views):
            v._multi_output_of = ("Unbind", i)  # see _check_multi_output_view
        return views

    @staticmethod
    def backward(ctx, *grads):
        if _grad_enabled[0]:              # differentiating backward itself: record the stack
            return stack(grads, ctx.dim), None
        # plain backward: each slice's gradient copied straight into its place (an array view
        # of the slice is enough: no tensor object for it)
        g = V._new(ctx.shape, grads[0]._storage.dtype, grads[0]._storage.device)
        k, buffer = _k(g), g._storage._data
        for i, gi in enumerate(grads):
            k.copy(gi._view(), k.as_strided(buffer, *Select.geometry(g, ctx.dim, i)))
        return g, None


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """All slices along `dim`, each without that dimension (views)."""
    ndim = len(input._shape)
    if ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, _wrap_dim(dim, ndim))


class Cat(Function):
    """y = x_0, x_1, ... joined along `dim`;  dL/dx_i = the slice of dL/dy that came from x_i"""
    backward_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, dt, *tensors):
        parts = [t for t in tensors if not _skipped_in_cat(t, tensors)]
        shape = list(parts[0]._shape)
        shape[dim] = builtins.sum(t._shape[dim] for t in parts)
        out = V._new(tuple(shape), dt, tensors[0].device)
        k, start = _k(out), 0
        for t in parts:
            n = t._shape[dim]
            region = out._as_view(*Slice.geometry(out, dim, start, start + n, 1))
            k.copy(t._view(), region._view())
            start += n
        ctx.dim, ctx.sizes = dim, [t._shape[dim] for t in parts]
        ctx.inputs = [(t._shape, t.dtype, _skipped_in_cat(t, tensors)) for t in tensors]
        return out

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(split(grad, ctx.sizes, ctx.dim))
        grads = []
        for shape, dt, skipped in ctx.inputs:
            p = zeros(shape, dtype=grad.dtype, device=grad.device) if skipped else next(pieces)
            grads.append(p.to(dt) if dt is not p.dtype else p)
        return (None, None) + tuple(grads)


def _skipped_in_cat(t: Tensor, tensors) -> bool:
    """PyTorch's legacy rule: 1-D empty tensors are skipped when the others are not 1-D."""
    return t.dim() == 1 and t._shape[0] == 0 and builtins.any(x.dim() != 1 for x in tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; all other sizes must agree."""
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    _same_device(*tensors)
    parts = [x for x in tensors if not _skipped_in_cat(x, tensors)]
    ref = parts[0]
    if ref.dim() == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, ref.dim())
    for i, x in enumerate(parts):
        if x.dim() != ref.dim():
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.dim()} "
                               f"and {x.dim()}")
        for j in range(ref.dim()):
            if j != d and x._shape[j] != ref._shape[j]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref._shape[j]} but got size {x._shape[j]} "
                                   f"for tensor number {i} in the list.")
    dt = parts[0].dtype
    for x in parts[1:]:
        dt = V.promote_types(dt, x.dtype)
    return Cat.apply(d, dt, *tensors)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equal-shaped tensors along a new dimension `dim`."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, x in enumerate(tensors[1:], 1):
        if x._shape != tensors[0]._shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(tensors[0]._shape)} at entry 0 and {list(x._shape)} at "
                               f"entry {i}")
    d = _wrap_dim(dim, tensors[0].dim() + 1)
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(x).__name__}")
    _same_device(*tensors)
    dt = tensors[0].dtype
    for x in tensors[1:]:
        dt = V.promote_types(dt, x.dtype)
    return Stack.apply(d, dt, *tensors)


class Stack(Function):
    """y = x_0, x_1, ... stacked along a new dim;  dL/dx_i = the i-th slice of dL/dy"""
    backward_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim, dt, *tensors):
        ctx.dim, ctx.dtypes = dim, [t.dtype for t in tensors]
        views = [t._as_view(*Unsqueeze.geometry(t, dim)) for t in tensors]
        return Cat.forward(Cat._idle_ctx, dim, dt, *views)

    @staticmethod
    def backward(ctx, grad):
        pieces = unbind(grad, ctx.dim)
        return (None, None) + tuple(p.to(d) if d is not p.dtype else p
                                    for p, d in zip(pieces, ctx.dtypes))


def hstack(tensors) -> Tensor:
    tensors = [x if x.dim() else x.reshape(1) for x in tensors]
    return cat(tensors, 0 if tensors[0].dim() == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([x.reshape(1, -1) if x.dim() < 2 else x for x in tensors], 0)
