"""PyTorch's view + in-place rule, the autograd half (ops/inplace.py has the ops' half).

A view shares its base's memory and version counter. When the base, or another view of it, is
changed in place, the view reads different numbers than its history says; its grad_fn is then
regenerated from the base's new history (AsStridedBackward0), the first time it is looked at.
An in-place op on a view records on the base that a region was overwritten (CopySlices).
"""
from __future__ import annotations

import math

from tinygrad_edu.autograd.function import Function, _apply_recording
from tinygrad_edu.vector import Tensor, arange, contiguous_strides, device, full, int64, ones, zeros


def _refresh_view(view: Tensor) -> None:
    """Give a view the history of its base as it is now (PyTorch's view + in-place rule).

    An in-place op on a base, or on any of its views, writes memory that every view of that
    base sees, and bumps their shared version counter. A view whose recorded history is older
    than the counter reads its values through the base now, so its history becomes "this
    region of the base": an AsStridedBackward0 node over the base's current history."""
    base = view._base
    view._view_version = view._version[0]
    if view._grad_fn is None and not base.requires_grad:
        return  # no history on either side: nothing to regenerate
    creator = view._multi_output_of
    if creator is not None:
        name, nr = creator
        raise RuntimeError(
            f"Output {nr} of {name} is a view and its base or another view of "
            "its base has been modified inplace. This view is the output of a function that "
            "returns multiple views. Such functions do not allow the output views to be "
            "modified inplace. You should replace the inplace operation by an out-of-place one.")
    fresh = _apply_recording(AsStrided, (base, view._shape, view._strides, view._offset))
    view._grad_fn, view._output_nr, view._requires_grad = fresh._grad_fn, 0, True


class AsStrided(Function):
    """y = x's memory seen with explicit geometry: y[i] = storage[offset + sum_d i_d * stride_d];
    dL/dx = at each of x's elements, the sum of dL/dy over the elements of y that are the same
    memory location (none, one, or several where y overlaps itself)"""
    backward_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        y = x._as_view(offset, size, stride)
        ctx.x, ctx.y = _Layout(x), _Layout(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return ctx.x.from_memory(ctx.y.to_memory(grad)), None, None, None


def _memory_offsets(offset: int, shape: tuple, strides: tuple, dev: device) -> Tensor:
    """The storage position of every element of a view: offset + sum_d i_d * strides[d], as a
    1-D int64 tensor in the view's row-major order."""
    positions = full((), offset, dtype=int64, device=dev)
    for d, (n, st) in enumerate(zip(shape, strides)):
        along = (arange(n, device=dev) * st).reshape((n,) + (1,) * (len(shape) - d - 1))
        positions = positions + along
    return positions.expand(shape).reshape(-1)


class _Layout:
    """Where a tensor's elements lie in its storage (offset, shape, strides), and the storage's
    size: what a gradient must know to be moved between two views of one memory."""

    def __init__(self, t: Tensor):
        self.offset, self.shape, self.strides = t._offset, t._shape, t._strides
        self.size, self.device = t._storage.size(), t._storage.device

    def is_whole_storage(self) -> bool:
        """Does the tensor cover its storage exactly, in row-major order from 0?"""
        return self.offset == 0 and self.size == math.prod(self.shape) and \
            self.strides == contiguous_strides(self.shape)

    def positions(self) -> Tensor:
        return _memory_offsets(self.offset, self.shape, self.strides, self.device)

    def to_memory(self, g: Tensor) -> Tensor:
        """g (shaped like the tensor) laid out as the storage: a 1-D tensor of `size` elements,
        each the sum of g over the tensor's elements at that memory position (0 elsewhere)."""
        if self.is_whole_storage():
            return g.reshape(-1)
        memory = zeros(self.size, dtype=g.dtype, device=g.device)
        return memory.index_add(0, self.positions(), g.reshape(-1))

    def from_memory(self, memory: Tensor) -> Tensor:
        """The tensor's elements read out of a storage-shaped 1-D tensor."""
        if self.is_whole_storage():
            return memory.reshape(self.shape)
        return memory.index_select(0, self.positions()).reshape(self.shape)


class CopySlices(Function):
    """base' = base with the region of one of its views replaced by `value` (an in-place op on
    a view writes its result there);
    dL/dbase = dL/dbase' with the region zeroed,  dL/dvalue = dL/dbase' read in the region"""
    backward_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, region):
        ctx.mark_dirty(base)
        view = base._as_view(region.offset, region.shape, region.strides)
        base._storage._kernels.copy(value._view(), view._view())
        ctx.base, ctx.region = _Layout(base), region
        return base

    @staticmethod
    def backward(ctx, grad):
        if any(st == 0 and n > 1 for n, st in zip(ctx.region.shape, ctx.region.strides)):
            # (an expanded view was filled: which of its repeated elements holds the value that
            # reached the base is undefined, so is its gradient; PyTorch refuses here too)
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
        memory = ctx.base.to_memory(grad)
        g_value = ctx.region.from_memory(memory) if ctx.needs_input_grad[1] else None
        covered = ctx.region.to_memory(ones(ctx.region.shape, dtype=grad.dtype,
                                            device=grad.device)) != 0
        g_base = grad.masked_fill(ctx.base.from_memory(covered), 0.0)
        return g_base, g_value, None
