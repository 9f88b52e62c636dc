"""What every op module shares: device and broadcasting checks, and the forward helpers that
run one primitive of the input's device (unary_forward, binary_forward, reduce_forward).

Nothing here records autograd: these are the steps a Function's forward is made of.
"""
from __future__ import annotations

import builtins
import math
from typing import Sequence

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.vector import Tensor, _wrap_dim, kernels, result_type



Number = (builtins.int, builtins.float, builtins.bool, np.number, np.bool_)


def _k(t: Tensor):
    """The primitives (kernels module) of t's device."""
    return t._storage._kernels


def _same_device(*tensors) -> V.device:
    """The one device all tensor arguments live on (mixing devices is an error, as in PyTorch)."""
    dev = None
    for t in tensors:
        if isinstance(t, Tensor):
            if dev is None:
                dev = t._storage.device
            elif t._storage.device != dev:
                raise RuntimeError("Expected all tensors to be on the same device, but found at "
                                   f"least two devices, {dev} and {t._storage.device}!")
    return dev or V.CPU


def broadcast_shapes(*shapes: Sequence[int]) -> tuple[int, ...]:
    """The shape that `shapes` broadcast to: align them at the right; sizes must agree or be 1."""
    ndim = builtins.max(len(s) for s in shapes)
    out = [1] * ndim
    for s in shapes:
        for i, n in enumerate(s, ndim - len(s)):
            if n != 1:
                if out[i] != 1 and out[i] != n:
                    raise RuntimeError(f"The size of tensor a ({out[i]}) must match the size of "
                                       f"tensor b ({n}) at non-singleton dimension {i}")
                out[i] = n
    return tuple(out)


def _broadcast_strides(t: Tensor, shape: tuple) -> tuple:
    """Strides that show `t` with `shape`: new leading and size-1 dims get stride 0."""
    pad = len(shape) - len(t._shape)
    return (0,) * pad + tuple(st if sz == n else 0
                              for sz, st, n in zip(t._shape, t._strides, shape[pad:]))


def _operand(x, dt: V.dtype, shape: tuple, dev: V.device):
    """`x` (a tensor or a number) as a device array of dtype `dt` broadcast to `shape`."""
    k = kernels(dev)
    if isinstance(x, Tensor):
        if x._storage.dtype is not dt:
            x = _cast(x, dt)
        if x._shape == shape:
            return x._view()
        return k.as_strided(x._storage._data, x._offset, shape, _broadcast_strides(x, shape))
    return _scalar_operand(k, x, dt, shape)


_scalar_operands: dict = {}


def _scalar_operand(k, x, dt: V.dtype, shape: tuple):
    """A number as a stride-0 array of `shape`. Kernels never write their inputs, so the arrays
    are kept and reused: `lr * grad` in every training step costs no new allocation."""
    key = (k, dt, shape, x.hex() if isinstance(x, builtins.float) else x, type(x))
    arr = _scalar_operands.get(key)
    if arr is None:
        one = k.empty((1,), dt.np_dtype)
        k.fill(one, x)
        arr = k.as_strided(one, 0, shape, (0,) * len(shape))
        if len(_scalar_operands) > 1024:
            _scalar_operands.clear()
        _scalar_operands[key] = arr
    return arr


def _cast(t: Tensor, dt: V.dtype) -> Tensor:
    """A contiguous copy of `t` converted to dtype `dt` (no autograd)."""
    out = V._new(t._shape, dt, t._storage.device)
    _k(t).copy(t._view(), out._view())
    return out


def _check_number(x, what: str) -> None:
    if not isinstance(x, Number):
        raise TypeError(f"{what}: expected a Tensor or a number, got {type(x).__name__}")


def unary_forward(op: str, x: Tensor, dt: V.dtype | None = None,
                  out_dtype: V.dtype | None = None) -> Tensor:
    """out = op(x) elementwise by the device's kernel, computed in dtype `dt` (default: x's),
    written in `out_dtype` (default: dt; bool for tests like isnan)."""
    dt = dt or x._storage.dtype
    out = V._new(x._shape, out_dtype or dt, x._storage.device)
    src = x._view() if x._storage.dtype is dt else _cast(x, dt)._view()
    _k(x).unary(op, src, out._arr)
    return out


def binary_forward(op: str, a, b, out_dtype: V.dtype | None = None,
                   compute_dtype: V.dtype | None = None) -> Tensor:
    """out = op(a, b) elementwise with broadcasting; a and b are tensors or numbers."""
    dt = compute_dtype or result_type(a, b)
    a_is_tensor, b_is_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if a_is_tensor and b_is_tensor:
        if a._storage.dtype is dt and b._storage.dtype is dt and \
                a._storage.device is b._storage.device:
            if a._shape == b._shape:  # the common case (same shape, dtype and device)
                out = V._new(a._shape, out_dtype or dt, a._storage.device)
                a._storage._kernels.binary(op, a._view(), b._view(), out._arr)
                return out
            out = _one_element_broadcast(op, a, b, out_dtype or dt)
            if out is not None:
                return out
    elif a_is_tensor or b_is_tensor:
        # tensor (op) number or number (op) tensor, the other common case: `x ** 2`, `lr * grad`
        t = a if a_is_tensor else b
        if t._storage.dtype is dt:
            k = t._storage._kernels
            out = V._new(t._shape, out_dtype or dt, t._storage.device)
            number = _scalar_operand(k, b if a_is_tensor else a, dt, t._shape)
            k.binary(op, t._view() if a_is_tensor else number,
                     number if a_is_tensor else t._view(), out._arr)
            return out
    dev = _same_device(a, b)
    shape = broadcast_shapes(a._shape if isinstance(a, Tensor) else (),
                             b._shape if isinstance(b, Tensor) else ())
    out = V._new(shape, out_dtype or dt, dev)
    kernels(dev).binary(op, _operand(a, dt, shape, dev), _operand(b, dt, shape, dev), out._arr)
    return out


def _one_element_broadcast(op: str, a: Tensor, b: Tensor, out_dt: V.dtype) -> Tensor | None:
    """op(a, b) when one operand has a single element and no more dims than the other (`w * x`
    with a 0-d weight): that element, seen through strides 0, meets the other operand's
    elements. None for any other pair of shapes."""
    big, one = (b, a) if math.prod(a._shape) == 1 else (a, b)
    if len(one._shape) > len(big._shape) or math.prod(one._shape) != 1:
        return None
    shape = big._shape
    k = big._storage._kernels
    out = V._new(shape, out_dt, big._storage.device)
    spread = k.as_strided(one._storage._data, one._offset, shape, (0,) * len(shape))
    k.binary(op, a._view() if big is a else spread, spread if big is a else b._view(), out._arr)
    return out


def sum_to_shape(g: Tensor, shape: tuple) -> Tensor:
    """Undo broadcasting: sum `g` over the dimensions that broadcasting added or stretched."""
    if g._shape == shape:
        return g
    lead = len(g._shape) - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape)
                                      if n == 1 and g._shape[i + lead] != 1)
    if not _grad_enabled[0] and dims:  # plain backward: one reduction kernel, nothing else
        return reduce_forward("sum", g, dims, True, g._storage.dtype, shape)
    s = g.sum(dims, keepdim=True) if dims else g
    return s.reshape(shape) if s._shape != shape else s


def _float_dtype(x) -> V.dtype:
    """The dtype of a float-valued op: integers and bools are promoted to the default float."""
    dt = x.dtype if isinstance(x, Tensor) else V._scalar_dtype(x)
    return dt if dt.is_floating_point else V.get_default_dtype()


def _require_float(t: Tensor, op: str) -> None:
    if not t.dtype.is_floating_point:
        raise RuntimeError(f"{op}(): input dtype must be a floating point dtype, got {t.dtype}; "
                           "convert it first, e.g. x.float()")


def _reduce_dims(t: Tensor, dim) -> tuple[int, ...]:
    """`dim` (None, an int, or a sequence) as a sorted tuple of non-negative dimensions."""
    nd = len(t._shape)
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(nd))
    dims = (dim,) if isinstance(dim, (builtins.int, np.integer)) else tuple(dim)
    out = tuple(sorted({_wrap_dim(d, nd) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"dim {list(dims)} appears multiple times in the list of dims")
    return out if nd else ()


def _kept_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple([1 if i in dims else n for i, n in enumerate(shape)])


def _drop_dims(shape: tuple, dims: tuple) -> tuple:
    return tuple([n for i, n in enumerate(shape) if i not in dims])


def reduce_forward(op: str, x: Tensor, dims: tuple, keepdim: bool, dt: V.dtype,
                   shape: tuple | None = None) -> Tensor:
    """Reduce `x` over `dims` with the kernel `op` into a new tensor of dtype `dt`, shaped as
    keepdim says, or as `shape` (any shape of as many elements) if given."""
    kept = _kept_shape(x._shape, dims)
    if shape is None:
        shape = kept if keepdim else _drop_dims(x._shape, dims)
    out = V._new(shape, dt, x._storage.device)
    if not dims:  # reducing over nothing (a 0-d tensor): the value itself
        x._storage._kernels.copy(x._view(), out._arr)
    else:
        src = x if x._storage.dtype is dt else _cast(x, dt)
        # the kernel writes the kept-dims shape; without keepdim that is a reshape of `out`
        x._storage._kernels.reduce(op, src._view(), dims,
                                   out._arr if shape == kept else out._arr.reshape(kept))
    return out


def _in_place_by_number(op: str, fresh: Tensor, number) -> Tensor:
    """fresh = fresh (op) number, by the kernel alone, for a result the caller has just made
    and nobody else sees: no second tensor, and no graph or version counter to update."""
    k = fresh._storage._kernels
    k.binary(op, fresh._arr, _scalar_operand(k, number, fresh._storage.dtype, fresh._shape),
             fresh._arr)
    return fresh


def _contiguous_copy(x: Tensor) -> Tensor:
    out = V._new(x._shape, x._storage.dtype, x._storage.device)
    _k(x).copy(x._view(), out._view())
    return out


# creation helpers used above (defined in vector.py)
zeros, ones, full, empty, zeros_like, ones_like, full_like, arange = (
    V.zeros, V.ones, V.full, V.empty, V.zeros_like, V.ones_like, V.full_like, V.arange)
