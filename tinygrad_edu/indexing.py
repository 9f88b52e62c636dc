"""Indexing: `x[...]` and `x[...] = value`, with NumPy's (and PyTorch's) rules.

*Basic* indices — ints, slices (with steps), None and Ellipsis — only compute a new view
(offset, shape, strides): `points[1]` shares storage with `points`, so `points[1][0] = 10` changes
`points`. *Advanced* indices — integer tensors or lists, and boolean masks — pick arbitrary
elements, so the result is a copy: we compute the storage offset of every element picked and
gather them (`take`); assignment scatters into those offsets (`put`).
"""
from __future__ import annotations

import builtins

import numpy as np

from tinygrad_edu import functions as F
from tinygrad_edu import vector as V
from tinygrad_edu.vector import Function, Tensor, int64

_BASIC = (builtins.int, np.integer, slice, type(None), type(Ellipsis))


def _normalize(index) -> list:
    """The index as a list of single-dimension indices, lists turned into tensors."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, (list, np.ndarray)) or (isinstance(item, Tensor)):
            item = item if isinstance(item, Tensor) else V.tensor(np.asarray(item))
            if item.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(item, builtins.bool):
            item = V.tensor(item)
        elif not isinstance(item, _BASIC):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             f"byte Variables are valid indices (got {type(item).__name__})")
        out.append(item)
    return out


def _consumed(item) -> int:
    """How many dimensions of the tensor an index item uses up."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, Tensor) and item.dtype is V.bool_:
        return builtins.max(item.dim(), 1) if item.dim() else 0
    return 1


def _expand_ellipsis(items: list, ndim: int) -> list:
    n_ellipsis = sum(1 for i in items if i is Ellipsis)
    if n_ellipsis > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_consumed(i) for i in items)
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    if n_ellipsis:
        at = items.index(Ellipsis)
        items = items[:at] + [slice(None)] * (ndim - used) + items[at + 1:]
    return items + [slice(None)] * (ndim - used if not n_ellipsis else 0)


def _apply_basic(x: Tensor, items: list):
    """Apply ints, slices and None as views; return the view and the advanced indices left,
    as (dimension of the view, index tensor) pairs."""
    out, dim, advanced = x, 0, []
    for item in items:
        if item is None:
            out = F.unsqueeze(out, dim)
            dim += 1
        elif isinstance(item, slice):
            out = F._slice(out, dim, item.start, item.stop, item.step)
            dim += 1
        elif isinstance(item, (builtins.int, np.integer)):
            n = out._shape[dim]
            if not -n <= item < n:
                raise IndexError(f"index {item} is out of bounds for dimension {dim} with size "
                                 f"{n}")
            out = F.select(out, dim, builtins.int(item))
        elif item.dtype is V.bool_:
            k = item.dim()
            if k == 0:  # x[True] adds a dim of size 1, x[False] one of size 0
                out = F.unsqueeze(out, dim)
                advanced.append((dim, V.zeros(builtins.int(item.item()) and 1, dtype=int64)
                                 if not item.item() else V.zeros(1, dtype=int64)))
                dim += 1
                continue
            if out._shape[dim:dim + k] != item._shape:
                for j, (a, b) in enumerate(zip(item._shape, out._shape[dim:dim + k])):
                    if a != b:
                        raise IndexError(f"The shape of the mask {list(item._shape)} at index {j} "
                                         f"does not match the shape of the indexed tensor "
                                         f"{list(out._shape)} at index {dim + j}")
            for j, idx in enumerate(F.nonzero(item, as_tuple=True)):
                advanced.append((dim + j, idx))
            dim += k
        else:
            advanced.append((dim, item.to(int64)))
            dim += 1
    return out, advanced


def _check_bounds(view: Tensor, advanced: list) -> list:
    """Negative indices count from the end; anything outside [-n, n) is an IndexError."""
    fixed = []
    for d, idx in advanced:
        n = view._shape[d]
        host = idx._host()
        if host.size:
            lo, hi = host.min(), host.max()
            if lo < -n or hi >= n:
                bad = lo if lo < -n else hi
                raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {n}")
        fixed.append((d, np.where(host < 0, host + n, host) if host.size and host.min() < 0
                      else host))
    return fixed


def _offsets(shape: tuple, strides: tuple, offset: int, advanced: list) -> np.ndarray:
    """The storage offset of every element the advanced indices pick, in the result's layout.

    Advanced index arrays broadcast together to a shape B. The result keeps the other dims in
    order; B stands where the advanced dims were if they are adjacent, else at the front.
    """
    adv_dims = [d for d, _ in advanced]
    arrays = np.broadcast_arrays(*(a for _, a in advanced))
    b_shape = arrays[0].shape if arrays else ()
    adjacent = adv_dims == list(range(adv_dims[0], adv_dims[0] + len(adv_dims)))
    rest = [d for d in range(len(shape)) if d not in adv_dims]
    front = [d for d in rest if d < adv_dims[0]] if adjacent else []
    back = [d for d in rest if d not in front]
    nb = len(b_shape)
    out_nd = len(front) + nb + len(back)
    total = np.full((1,) * out_nd, offset, dtype=np.int64)
    adv_part = builtins.sum(a.astype(np.int64) * strides[d] for d, a in zip(adv_dims, arrays))
    total = total + np.asarray(adv_part).reshape((1,) * len(front) + b_shape + (1,) * len(back))
    for pos, d in enumerate(front):
        total = total + _axis_offsets(shape[d], strides[d], pos, out_nd)
    for pos, d in enumerate(back, len(front) + nb):
        total = total + _axis_offsets(shape[d], strides[d], pos, out_nd)
    return total


def _axis_offsets(n: int, stride: int, pos: int, ndim: int) -> np.ndarray:
    shape = [1] * ndim
    shape[pos] = n
    return (np.arange(n, dtype=np.int64) * stride).reshape(shape)


class IndexAdvanced(Function):
    """y = the elements of x at arbitrary positions (a copy);
    dL/dx = zeros with dL/dy added at those positions (repeats accumulate)"""
    backward_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, advanced):
        offsets = _offsets(x._shape, x._strides, x._offset, advanced)
        out = V._new(offsets.shape, x.dtype, x.device)
        k = F._k(x)
        k.take(x._storage._data, _device_offsets(offsets, x.device), out._view().reshape(-1)
               if out.is_contiguous() else out._view())
        ctx.advanced, ctx.shape = advanced, x._shape
        return out

    @staticmethod
    def backward(ctx, grad):
        g = V.zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        offsets = _offsets(ctx.shape, V.contiguous_strides(ctx.shape), 0, ctx.advanced)
        return _put_flat(g, offsets, grad, accumulate=True), None


def _device_offsets(offsets: np.ndarray, dev: V.device):
    flat = np.ascontiguousarray(offsets.reshape(-1), dtype=np.int64)
    return flat if dev.type == "cpu" else V.kernels(dev).from_numpy(flat)


def _put_flat(g: Tensor, offsets: np.ndarray, values: Tensor, accumulate: bool) -> Tensor:
    """Write (or add) `values` into contiguous tensor g at flat `offsets`; returns g."""
    vals = F._contiguous_copy(values.expand(offsets.shape).to(g.dtype))
    F._k(g).put(g._storage._data, _device_offsets(offsets, g.device),
                vals._view().reshape(-1), accumulate)
    return g


def getitem(x: Tensor, index) -> Tensor:
    """x[index]: views for basic indices, a gathered copy once advanced indices appear."""
    if isinstance(index, (builtins.int, np.integer)) and x.dim():
        n = x._shape[0]
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {n}")
        return F.select(x, 0, builtins.int(index))
    if x.dim() == 0 and not isinstance(index, (tuple, type(None), type(Ellipsis))):
        if not (isinstance(index, Tensor) and index.dtype is V.bool_):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    items = _expand_ellipsis(_normalize(index), x.dim())
    view, advanced = _apply_basic(x, items)
    if not advanced:
        return view if view is not x else F.View.apply(x, x._shape) if x._requires_grad \
            else x._as_view(x._offset, x._shape, x._strides)
    _same_device_index(x, advanced)
    advanced = _check_bounds(view, advanced)
    if len(advanced) == 1 and advanced[0][1].ndim == 1 and x.device.type == "cpu":
        d, idx = advanced[0]  # the common x[idx] case: index_select, no offsets array
        return F.IndexSelect.apply(view, d, V.tensor(idx, dtype=int64))
    return IndexAdvanced.apply(view, advanced)


def _same_device_index(x: Tensor, advanced: list) -> None:
    for _, idx in advanced:
        if isinstance(idx, Tensor) and idx.device != x.device and idx.device.type != "cpu":
            raise RuntimeError(f"indices should be either on cpu or on the same device as the "
                               f"indexed tensor ({x.device})")


class IndexPut(Function):
    """y = x with `values` written at arbitrary positions;  dL/dx = dL/dy zeroed there,
    dL/dvalues = dL/dy gathered there"""
    backward_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, values, advanced_view, accumulate):
        view_geometry, advanced = advanced_view
        out = F._contiguous_copy(x)
        offset, shape, strides = view_geometry
        rel = offset - x._offset if x.is_contiguous() else offset
        offsets = _offsets(shape, strides, rel if x.is_contiguous() else 0, advanced)
        _put_flat(out, offsets, values, accumulate)
        ctx.offsets, ctx.values_shape, ctx.accumulate = offsets, values._shape, accumulate
        return out

    @staticmethod
    def backward(ctx, grad):
        g = grad.contiguous()
        picked = V.Tensor._make(g._storage, 0, (g.numel(),), (1,))[V.tensor(ctx.offsets)]
        g_values = F.sum_to_shape(picked, ctx.values_shape) if ctx.needs_input_grad[1] else None
        g_x = g if ctx.accumulate else _put_flat(g.clone(), ctx.offsets,
                                                 V.zeros((), dtype=g.dtype), False)
        return g_x, g_values, None, None


def setitem(x: Tensor, index, value) -> None:
    """x[index] = value: write through a view, or scatter to the picked positions."""
    if not isinstance(value, Tensor):
        F._check_number(value, "index assignment")
    items = _expand_ellipsis(_normalize(index), x.dim())
    with V.no_grad():
        view, advanced = _apply_basic(x, items)
    if not advanced:
        target = x._as_view(view._offset, view._shape, view._strides)
        target._base = x if x._base is None else x._base
        if isinstance(value, Tensor):
            if target is x or view._shape == x._shape and view._offset == x._offset \
                    and view._strides == x._strides:
                F.copy_(x, value)
            else:
                F.copy_(target, value)
        else:
            F.fill_(target if (view._offset, view._shape, view._strides) !=
                    (x._offset, x._shape, x._strides) else x, value)
        return
    advanced = _check_bounds(view, advanced)
    values = value if isinstance(value, Tensor) else V.full((), value, dtype=x.dtype,
                                                            device=x.device)
    offsets_shape = _offsets(view._shape, view._strides, 0, advanced).shape
    F.broadcast_shapes(offsets_shape, values._shape)
    if F.broadcast_shapes(offsets_shape, values._shape) != offsets_shape:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values._shape)} cannot "
                           f"be broadcast to indexing result of shape {list(offsets_shape)}")
    geometry = (view._offset, view._shape, view._strides)
    if not F._needs_graph(x, (values,)):
        F._check_inplace(x)
        offsets = _offsets(view._shape, view._strides, view._offset, advanced)
        vals = F._contiguous_copy(values.expand(offsets.shape).to(x.dtype))
        F._k(x).put(x._storage._data, _device_offsets(offsets, x.device),
                    vals._view().reshape(-1), False)
        x._version[0] += 1
        return
    if not x.is_contiguous():
        raise RuntimeError("advanced index assignment with autograd needs a contiguous tensor; "
                           "use .contiguous() first")
    F._inplace(x, lambda s, v: IndexPut.apply(s, v, (geometry, advanced), False), values)


def index_put(x: Tensor, indices: tuple, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of x with values written (or added, if accumulate) at the tensor `indices`."""
    out = x.clone()
    if accumulate:
        items = _expand_ellipsis(_normalize(tuple(indices)), x.dim())
        view, advanced = _apply_basic(out, items)
        advanced = _check_bounds(view, advanced)
        return IndexPut.apply(x, values, ((x._offset, x._shape, x._strides), advanced), True) \
            if x.is_contiguous() else x.contiguous().index_put(indices, values, True)
    setitem(out, tuple(indices), values)
    return out
