"""In-place ops (add_, mul_, fill_, copy_, x.exp_() ...) and PyTorch's view + in-place autograd.

An in-place op is its out-of-place twin plus a write into self's memory. When gradients are
recorded, self takes over the twin's history; a view's base records the write as CopySlices,
and every view of that base then reads its history through the base (see vector.py:
_refresh_view). Writes that would give order-dependent results (into an expanded tensor, from
a partly overlapping input) are refused, as in PyTorch.
"""
from __future__ import annotations

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function, _saved_output_moved
from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.autograd.views import CopySlices, _Layout
from tinygrad_edu.ops.elementwise import add, clamp, div, mul, pow, sub
from tinygrad_edu.ops.helpers import (Number, _contiguous_copy, _k, _operand, _same_device,
                                      broadcast_shapes, sum_to_shape, zeros_like)
from tinygrad_edu.vector import Tensor, result_type


def _can_cast(src: V.dtype, dst: V.dtype) -> bool:
    """Whether an in-place op may store a result of dtype `src` into a tensor of dtype `dst`."""
    return src.category <= dst.category


def _check_inplace(self: Tensor) -> None:
    """Refuse what no in-place op may do (PyTorch's check_inplace): overwrite a leaf that
    requires grad, or a view of one, while gradients are recorded (its .grad would belong to
    values that no longer exist), or write read-only memory."""
    if _grad_enabled[0]:
        base = self._base
        if base is None:
            if self._requires_grad and self._grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
        elif base._requires_grad and base._grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
    data = self._storage._data
    if type(data) is np.ndarray and not data.flags.writeable:  # (CUDA memory is never read-only)
        raise RuntimeError("this tensor's memory is read-only: it shares a non-writable numpy "
                           "array (from_numpy); copy the array, or make it writable, first")


def _check_no_overlap(out: Tensor, *inputs) -> None:
    """Refuse, as PyTorch does, a write whose result would depend on the order in which the
    elements are written: into a tensor some of whose elements share memory (an expand's
    stride 0), or from an input that partly overlaps the output (b[1:] = b[:-1] would smear
    b[0] along). A full overlap (x += x: each element reads itself) is fine."""
    for n, st in zip(out._shape, out._strides):
        if st == 0 and n > 1:
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
    for x in inputs:
        if isinstance(x, Tensor) and x._storage is out._storage and _partly_overlap(out, x):
            raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                               "written-to tensor refer to a single memory location. Please "
                               "clone() the tensor before performing the operation.")


def _partly_overlap(a: Tensor, b: Tensor) -> bool:
    """Do two views of one storage share some elements without being the same elements in the
    same order? Decided, as in PyTorch, only for views that each fill a run of memory with no
    gaps (anything else — every other element, say — is given the benefit of the doubt)."""
    if a is b or not _share_memory(a, b):
        return False
    if (a._offset, a.numel()) == (b._offset, b.numel()):
        return a._strides != b._strides   # the same run, in another order (x and x.t())
    return True


def _share_memory(a: Tensor, b: Tensor) -> bool:
    """Do two views of one storage, each filling a run of memory, share some element?"""
    if a._storage is not b._storage or not (a.numel() and b.numel() and _dense(a) and _dense(b)):
        return False
    return a._offset < b._offset + b.numel() and b._offset < a._offset + a.numel()


def _dense(t: Tensor) -> bool:
    """Does t cover a run of memory exactly, in some order of its dimensions (a permutation of
    a contiguous tensor)?"""
    dims = sorted((st, n) for n, st in zip(t._shape, t._strides) if n != 1)
    expected = 1
    for st, n in dims:
        if st != expected:
            return False
        expected *= n
    return True


def _needs_graph(self: Tensor, args) -> bool:
    if not _grad_enabled[0]:
        return False
    if self.requires_grad:
        return True
    for a in args:  # a loop, not any(generator): this runs in every optimizer step
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return False


def _inplace(self: Tensor, compute, *args, reads_self: bool = True,
             one_value: bool = False) -> Tensor:
    """Write `compute(self, *args)` into self's elements, keeping autograd history right.

    Without a graph to record, the result is computed and copied in. With one, an in-place op
    is its out-of-place twin plus a write (PyTorch's model):
      - the twin runs on a snapshot of self's values when its derivative reads them
        (`reads_self`: x.mul_(y) needs the old x; x.add_(y) does not), since the write
        overwrites them;
      - self takes over the result's history; for a view, its base records the write instead
        (CopySlices: base' = base with the view's region replaced), and every view of that
        base, this one included, then reads its history through the base (Tensor.grad_fn).
    `one_value`: every element gets the same value (a fill), so self may repeat elements.
    """
    _check_inplace(self)
    if not one_value:  # (every element gets the same value: a fill may write an expand)
        _check_no_overlap(self, *args)
    if not _needs_graph(self, args):
        prev = _grad_enabled[0]
        _grad_enabled[0] = False
        try:
            result = compute(self, *args)
        finally:
            _grad_enabled[0] = prev
        _store(self, result)
        self._version[0] += 1
        return self
    if self._base is not None:
        _check_multi_output_view(self)
    result = compute(_snapshot(self) if reads_self else self, *args)
    _check_storable(self, result)
    if result.dtype is not self.dtype:
        result = result.to(self.dtype)
    if self._base is not None:
        return _inplace_on_view(self, result)
    _store(self, result)
    self._version[0] += 1
    self._requires_grad = result._requires_grad   # (False after a non-differentiable op)
    self._grad_fn, self._output_nr = result._grad_fn, result._output_nr
    _saved_output_moved(result._grad_fn, self)
    return self


def _snapshot(t: Tensor) -> Tensor:
    """A copy of t's values that carries t's history (its grad_fn, no new node): the "original
    self" an in-place op's derivative reads after the op has overwritten t (PyTorch saves the
    same)."""
    copy = _contiguous_copy(t)
    copy._requires_grad, copy._grad_fn, copy._output_nr = t.requires_grad, t.grad_fn, t._output_nr
    return copy


def _check_multi_output_view(view: Tensor) -> None:
    """Views made by one op that returns several (unbind, split, chunk) may not be written in
    place while gradients are recorded: one node makes them all, so the history of one cannot
    be rewritten alone (PyTorch refuses it too)."""
    creator = view._multi_output_of
    if creator is not None:
        name, nr = creator
        raise RuntimeError(f"Output {nr} of {name} is a view and is being modified inplace. This "
                           "view is the output of a function that returns multiple views. Such "
                           "functions do not allow the output views to be modified inplace. You "
                           "should replace the inplace operation by an out-of-place one.")


def _check_storable(self: Tensor, result: Tensor) -> None:
    """An in-place op keeps self's shape and dtype: its result must fit both."""
    if result._shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast "
                           f"shape {list(result._shape)}")
    if not _can_cast(result.dtype, self.dtype):
        raise RuntimeError(f"result type {_type_name(result.dtype)} can't be cast to the desired "
                           f"output type {_type_name(self.dtype)}")


def _store(self: Tensor, result: Tensor) -> None:
    _check_storable(self, result)
    _same_device(self, result)
    _k(self).copy(result._view(), self._view())


def _type_name(dt: V.dtype) -> str:
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
            "int16": "Short", "uint8": "Byte", "bool": "Bool"}[dt.name]


def _inplace_on_view(view_: Tensor, result: Tensor) -> Tensor:
    """Write result into view_ by rewriting its base's history (CopySlices); view_ (like every
    other view of the base) then gets its history through the base."""
    base = view_._base
    CopySlices.apply(base, result, _Layout(view_))
    view_._view_version = -1  # out of date: the next look at view_.grad_fn regenerates it
    _saved_output_moved(result._grad_fn, view_)
    return view_


def _fast_binary_inplace(self: Tensor, op: str, other) -> bool:
    """`self op= other` straight into self's memory when no graph is needed and dtypes agree."""
    if _needs_graph(self, (other,)):
        return False
    dt = result_type(self, other)
    if dt is not self.dtype:
        return False
    if isinstance(other, Tensor):
        if other._storage.device is not self._storage.device:
            _same_device(self, other)
        if other._shape != self._shape and broadcast_shapes(self._shape, other._shape) != \
                self._shape:
            raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the "
                               f"broadcast shape "
                               f"{list(broadcast_shapes(self._shape, other._shape))}")
    elif not isinstance(other, Number):
        return False
    _check_no_overlap(self, other)
    arr = self._view()
    _k(self).binary(op, arr, _operand(other, dt, self._shape, self._storage.device), arr)
    self._version[0] += 1
    return True


def add_(self: Tensor, other, *, alpha=1) -> Tensor:
    _check_inplace(self)
    if alpha == 1 and _fast_binary_inplace(self, "add", other):
        return self
    return _inplace(self, lambda s, o: add(s, o, alpha=alpha), other, reads_self=False)


def sub_(self: Tensor, other, *, alpha=1) -> Tensor:
    _check_inplace(self)
    if alpha == 1 and _fast_binary_inplace(self, "sub", other):
        return self
    return _inplace(self, lambda s, o: sub(s, o, alpha=alpha), other, reads_self=False)


def mul_(self: Tensor, other) -> Tensor:
    _check_inplace(self)
    if _fast_binary_inplace(self, "mul", other):
        return self
    return _inplace(self, mul, other)


def div_(self: Tensor, other, *, rounding_mode=None) -> Tensor:
    _check_inplace(self)
    if rounding_mode is None and self.dtype.is_floating_point and \
            _fast_binary_inplace(self, "div", other):
        return self
    return _inplace(self, lambda s, o: div(s, o, rounding_mode=rounding_mode), other)


def pow_(self: Tensor, exponent) -> Tensor:
    return _inplace(self, pow, exponent)


def clamp_(self: Tensor, min=None, max=None) -> Tensor:
    return _inplace(self, lambda s: clamp(s, min, max))


class Fill(Function):
    """y = value in every element (x only gives the shape and dtype);
    dL/dx = 0,  dL/dvalue = the sum of dL/dy (when value is a 0-d tensor)"""
    backward_name = "FillBackward2"

    @staticmethod
    def forward(ctx, x, value):
        out = V._new(x._shape, x.dtype, x.device)
        _k(x).fill(out._view(), value.item() if isinstance(value, Tensor) else value)
        return out

    @staticmethod
    def backward(ctx, grad):
        g_value = grad.sum() if ctx.needs_input_grad[1] else None
        return zeros_like(grad), g_value


class FillWithTensor(Fill):
    backward_name = "FillBackward3"


class Zero(Fill):
    backward_name = "ZeroBackward0"


def zero_(self: Tensor) -> Tensor:
    """Set every element to 0 (in place)."""
    return _fill(self, 0, Zero)


def fill_(self: Tensor, value) -> Tensor:
    """Set every element to `value` (in place)."""
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value.dim()} dimensions.")
        return _fill(self, value, FillWithTensor)
    return _fill(self, value, Fill)


def _fill(self: Tensor, value, fn_cls) -> Tensor:
    _check_inplace(self)
    if not _needs_graph(self, (value,)):
        value = value.item() if isinstance(value, Tensor) else value
        V.check_fits(value, self.dtype)
        _k(self).fill(self._view(), value)
        self._version[0] += 1
        return self
    if not isinstance(value, Tensor):
        V.check_fits(value, self.dtype)
    return _inplace(self, fn_cls.apply, value, reads_self=False, one_value=True)


class Copy(Function):
    """y = src broadcast to x's shape, in x's dtype and on x's device (x.copy_(src));
    dL/dx = 0,  dL/dsrc = dL/dy summed back to src's shape, in src's dtype and device"""
    backward_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_meta = (src._shape, src.dtype, src.device)
        out = V._new(x._shape, x.dtype, x.device)
        src = src if src.device == x.device else src.to(x.device)
        _k(x).copy(_operand(src, src.dtype, x._shape, x.device), out._view())
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, dt, dev = ctx.src_meta
        g_src = sum_to_shape(grad, shape).to(dt, dev) if ctx.needs_input_grad[1] else None
        return zeros_like(grad), g_src


def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    """Copy src's elements (broadcast to self's shape, cast to self's dtype) into self."""
    _check_inplace(self)
    if not isinstance(src, Tensor):
        src = V.tensor(src)
    shape = broadcast_shapes(self._shape, src._shape)
    if shape != self._shape:
        raise RuntimeError(f"output with shape {list(self._shape)} doesn't match the broadcast "
                           f"shape {list(shape)}")
    if _needs_graph(self, (src,)):
        return _inplace(self, Copy.apply, src, reads_self=False)
    if src.device != self.device:
        src = src.to(self.device)
    _check_no_overlap(self, src)
    _k(self).copy(_operand(src, src.dtype, shape, self.device), self._view())
    self._version[0] += 1
    return self


def _inplace_method(fn, reads_self: bool = True):
    def method(self, *args, **kwargs):
        return _inplace(self, lambda s, *a: fn(s, *a, **kwargs), *args, reads_self=reads_self)
    method.__name__ = fn.__name__ + "_"
    method.__doc__ = f"In-place {fn.__name__}: the result is written into self."
    return method
