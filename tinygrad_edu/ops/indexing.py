"""Indexing: `x[...]` and `x[...] = value`, with NumPy's (and PyTorch's) rules.

*Basic* indices — ints, slices (with steps), None and Ellipsis — only compute a new view
(offset, shape, strides): `points[1]` shares storage with `points`, so `points[1][0] = 10` changes
`points`. *Advanced* indices — integer tensors or lists, and boolean masks — pick arbitrary
elements, so the result is a copy: we compute the storage offset of every element picked and
gather them (`take`); assignment scatters into those offsets (`put`). The common `x[idx]` with
one 1-D integer index is an `index_select` instead, with no offsets at all.

Where the work happens. Everything above runs on the indexed tensor's device: the offsets are
built there with tensor ops (arange, multiply, add), from the index tensors and the strides.
What still crosses between host and device for a CUDA tensor, and why:
  - the range check of each integer index tensor reads its min and max (two numbers, one
    transfer; `_checked_index`): no kernel may see an index out of range, and the answer
    decides whether to raise;
  - a boolean mask becomes integer indices through `nonzero`, which reads back one number, the
    count of True elements, because it sizes the result (PyTorch does the same);
  - an index given on the host — a Python list, a numpy array, a CPU tensor — is copied to the
    device once per indexing, because that is where it lives (PyTorch copies it too); keep a
    reused index on the device to avoid that.
"""
from __future__ import annotations

import builtins
import warnings

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.ops.elementwise import where
from tinygrad_edu.ops.helpers import (_check_number, _contiguous_copy, _k, broadcast_shapes,
                                      sum_to_shape)
from tinygrad_edu.ops.inplace import (_check_inplace, _check_no_overlap, _inplace, _needs_graph,
                                      _share_memory, _type_name, copy_, fill_)
from tinygrad_edu.ops.selection import IndexSelect, _min_max, nonzero
from tinygrad_edu.ops.views import View, _slice, select, unsqueeze
from tinygrad_edu.vector import Tensor, int64

_BASIC = (builtins.int, np.integer, slice, type(None), type(Ellipsis))


def _normalize(index) -> list:
    """The index as a list of single-dimension indices, lists turned into tensors."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, list) and not item:  # x[[]]: no positions, an empty result
            item = V.zeros(0, dtype=int64)
        elif isinstance(item, (list, np.ndarray)) or (isinstance(item, Tensor)):
            item = item if isinstance(item, Tensor) else V.tensor(np.asarray(item))
            if item.dtype.is_floating_point:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if item.dtype is V.uint8:  # the mask type of old PyTorch versions, still a mask
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a "
                              "dtype torch.bool instead.", UserWarning, stacklevel=4)
                item = item != 0
            elif item.dim() == 0 and item.dtype is not V.bool_:
                item = builtins.int(item.item())  # x[torch.tensor(1)] is x[1]: a view
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
    as (dimension of the view, index tensor) pairs: int64 tensors on x's device, in range."""
    out, dim, advanced = x, 0, []
    for position, item in enumerate(items):
        if item is None:
            out = unsqueeze(out, dim)
            dim += 1
        elif isinstance(item, slice):
            out = _slice(out, dim, item.start, item.stop, item.step)
            dim += 1
        elif isinstance(item, (builtins.int, np.integer)):
            n = out._shape[dim]
            if not -n <= item < n:  # PyTorch names the index's position as its dimension
                raise IndexError(f"index {item} is out of bounds for dimension {position} with "
                                 f"size {n}")
            out = select(out, dim, builtins.int(item))
        elif item.dtype is V.bool_:
            k = item.dim()
            if k == 0:  # x[True] adds a dim of size 1, x[False] one of size 0
                out = unsqueeze(out, dim)
                advanced.append((dim, V.zeros(1 if item.item() else 0, dtype=int64,
                                              device=x.device)))
                dim += 1
                continue
            if out._shape[dim:dim + k] != item._shape:
                for j, (a, b) in enumerate(zip(item._shape, out._shape[dim:dim + k])):
                    if a != b:
                        raise IndexError(f"The shape of the mask {list(item._shape)} at index {j} "
                                         f"does not match the shape of the indexed tensor "
                                         f"{list(out._shape)} at index {dim + j}")
            for j, idx in enumerate(nonzero(item, as_tuple=True)):
                # coordinates of True elements: in range by construction, no check needed
                advanced.append((dim + j, _on_device(idx, x.device)))
            dim += k
        else:
            advanced.append((dim, _checked_index(item, out._shape[dim], dim, x.device)))
            dim += 1
    return out, advanced


def _on_device(idx: Tensor, dev: V.device) -> Tensor:
    """The index on the indexed tensor's device. One given on the host (a list, a CPU tensor)
    is copied there: that copy is how a host index reaches the device, as in PyTorch."""
    if idx.device == dev:
        return idx
    if idx.device.type != "cpu":
        raise RuntimeError(f"indices should be either on cpu or on the same device as the "
                           f"indexed tensor ({dev})")
    return idx.to(dev)


def _checked_index(idx: Tensor, n: int, dim: int, dev: V.device) -> Tensor:
    """An integer index into a dimension of size n, ready for the kernels: int64, on `dev`,
    negative values counted from the end. Anything outside [-n, n) is an IndexError: the check
    reduces the index to its min and max on its device, and those two numbers are the one
    transfer it makes (a check must read its answer)."""
    idx = _on_device(idx, dev).to(int64)
    if idx.numel():
        lo, hi = _min_max(idx)
        if lo < -n or hi >= n:
            bad = lo if lo < -n else hi
            raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {n}")
        if lo < 0:
            idx = where(idx < 0, idx + n, idx)
    return idx


def _offsets(shape: tuple, strides: tuple, offset: int, advanced: list) -> Tensor:
    """The storage offset of every element the advanced indices pick, in the result's layout:
    an int64 tensor computed on the indices' device.

    Advanced index tensors broadcast together to a shape B. The result keeps the other dims in
    order; B stands where the advanced dims were if they are adjacent, else at the front. An
    element's offset is `offset + sum of index * stride` over the advanced dims, plus
    `i * stride` for each other dim at coordinate i: a sum of tensors, each shaped to vary
    along its own dims of the result only, which broadcasting adds into the full table.
    """
    adv_dims = [d for d, _ in advanced]
    b_shape = broadcast_shapes(*(idx._shape for _, idx in advanced))
    adjacent = adv_dims == list(range(adv_dims[0], adv_dims[0] + len(adv_dims)))
    rest = [d for d in range(len(shape)) if d not in adv_dims]
    front = [d for d in rest if d < adv_dims[0]] if adjacent else []
    back = [d for d in rest if d not in front]
    nb = len(b_shape)
    out_nd = len(front) + nb + len(back)
    dev = advanced[0][1].device
    adv_part = builtins.sum(idx * strides[d] for d, idx in advanced)
    total = adv_part.reshape((1,) * len(front) + tuple(b_shape) + (1,) * len(back)) + offset
    for pos, d in enumerate(front):
        total = total + _axis_offsets(shape[d], strides[d], pos, out_nd, dev)
    for pos, d in enumerate(back, len(front) + nb):
        total = total + _axis_offsets(shape[d], strides[d], pos, out_nd, dev)
    return total


def _axis_offsets(n: int, stride: int, pos: int, ndim: int, dev: V.device) -> Tensor:
    """0, stride, 2 * stride, ... along dimension `pos` of an ndim tensor (size 1 elsewhere)."""
    shape = [1] * ndim
    shape[pos] = n
    return (V.arange(n, device=dev) * stride).reshape(shape)


def _flat(t: Tensor):
    """The device array of the contiguous tensor t as 1-D (what take and put index)."""
    return t._view().reshape(-1)


class IndexAdvanced(Function):
    """y = the elements of x at arbitrary positions (a copy);
    dL/dx = zeros with dL/dy added at those positions (repeats accumulate)"""
    backward_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, advanced):
        offsets = _offsets(x._shape, x._strides, x._offset, advanced)
        out = V._new(offsets._shape, x.dtype, x.device)
        _k(x).take(x._storage._data, _flat(offsets), _flat(out))
        ctx.advanced, ctx.shape = advanced, x._shape
        return out

    @staticmethod
    def backward(ctx, grad):
        g = V.zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        offsets = _offsets(ctx.shape, V.contiguous_strides(ctx.shape), 0, ctx.advanced)
        return _put_flat(g, offsets, grad, accumulate=True), None


def _put_flat(g: Tensor, offsets: Tensor, values: Tensor, accumulate: bool) -> Tensor:
    """Write (or add) `values` into contiguous tensor g at flat `offsets`; returns g."""
    vals = _contiguous_copy(values.expand(offsets._shape).to(g.dtype))
    _k(g).put(g._storage._data, _flat(offsets), _flat(vals), accumulate)
    return g


def getitem(x: Tensor, index) -> Tensor:
    """x[index]: views for basic indices, a gathered copy once advanced indices appear."""
    if isinstance(index, (builtins.int, np.integer)) and not isinstance(index, builtins.bool) \
            and x.dim():
        n = x._shape[0]
        if not -n <= index < n:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {n}")
        return select(x, 0, builtins.int(index))
    if x.dim() == 0 and not isinstance(index, (tuple, type(None), type(Ellipsis))):
        if not (isinstance(index, Tensor) and index.dtype is V.bool_):
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    items = _expand_ellipsis(_normalize(index), x.dim())
    view, advanced = _apply_basic(x, items)
    if not advanced:
        return view if view is not x else View.apply(x, x._shape) if x.requires_grad \
            else x._as_view(x._offset, x._shape, x._strides)
    if len(advanced) == 1 and advanced[0][1].dim() == 1:
        d, idx = advanced[0]  # the common x[idx] case: index_select, no offsets array
        return IndexSelect.apply(view, d, idx)
    return IndexAdvanced.apply(view, advanced)


class IndexPut(Function):
    """y = x with `values` written (or added, if accumulate) at arbitrary positions;
    dL/dx = dL/dy, zeroed there unless accumulating;  dL/dvalues = dL/dy gathered there"""
    backward_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, values, items, accumulate):
        out = _contiguous_copy(x)
        view, advanced = _apply_basic(out, items)   # positions in out's (contiguous) layout
        offsets = _offsets(view._shape, view._strides, view._offset, advanced)
        _put_flat(out, offsets, values, accumulate)
        ctx.offsets, ctx.values_shape, ctx.accumulate = offsets, values._shape, accumulate
        return out

    @staticmethod
    def backward(ctx, grad):
        g = grad.contiguous()
        flat = V.Tensor._make(g._storage, g._offset, (g.numel(),), (1,))
        picked = IndexAdvanced.apply(flat, [(0, ctx.offsets)])   # offsets in range: no check
        g_values = sum_to_shape(picked, ctx.values_shape) if ctx.needs_input_grad[1] else None
        g_x = g if ctx.accumulate else _put_flat(g.clone(), ctx.offsets,
                                                 V.zeros((), dtype=g.dtype, device=g.device),
                                                 False)
        return g_x, g_values, None, None


def _only_full_slices(items: list, shape: tuple) -> bool:
    """Is the index `:` (or `...`, `0:`, `:n`) in every dimension? Then it names the tensor
    itself, not a view of it, and the write is recorded on the tensor, not as a CopySlices.
    PyTorch's test, literally: a start of 0 or none, a stop of at least the size (or none), a
    step of 1 or none (so x[-n:] is a view all the same)."""
    return len(items) == len(shape) and all(
        isinstance(item, slice) and item.start in (None, 0) and item.step in (None, 1)
        and (item.stop is None or item.stop >= n) for item, n in zip(items, shape))


def _copy_to(target: Tensor, value: Tensor) -> None:
    """The write of x[basic index] = value, as PyTorch's setitem makes it: a copy_ of value,
    a fill_ for a 0-d value, else a copy_ of value (leading 1-dims dropped) expanded to the
    target's shape (that expand's strides decide what counts as overlapping memory)."""
    if value._shape == target._shape:
        copy_(target, value)
    elif not value._shape:
        fill_(target, value)
    else:
        shape = value._shape
        while shape and shape[0] == 1:
            shape = shape[1:]
        copy_(target, value.view(shape).expand(target._shape))


def _check_index_put_value(x: Tensor, value: Tensor) -> None:
    """Advanced assignment takes a value of x's dtype that shares no memory with x (even
    x[idx] = x is refused: the writes could overwrite what is still to be read)."""
    if _share_memory(x, value):
        raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                           "written-to tensor refer to a single memory location. Please clone() "
                           "the tensor before performing the operation.")
    if value.dtype is not x.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_type_name(x.dtype)} for the destination and "
                           f"{_type_name(value.dtype)} for the source.")


def setitem(x: Tensor, index, value) -> None:
    """x[index] = value, an in-place op as in PyTorch: basic indices write through the view
    x[index] (so x's history records a CopySlices when gradients are recorded), advanced ones
    scatter to the picked positions (IndexPutBackward0)."""
    if not isinstance(value, Tensor):
        _check_number(value, "index assignment")
    items = _expand_ellipsis(_normalize(index), x.dim())
    view, advanced = _apply_basic(x, items)
    if not advanced:
        target = x if _only_full_slices(items, x._shape) else view  # x[:] = v writes x itself
        if isinstance(value, Tensor):
            _copy_to(target, value)
        else:
            fill_(target, value)
        return
    # x[mask] = one value is a masked fill in PyTorch: no overlap or dtype check applies
    mask = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    one_value_by_mask = isinstance(mask, Tensor) and mask.dtype in (V.bool_, V.uint8) and \
        isinstance(value, Tensor) and value.numel() == 1
    if isinstance(value, Tensor) and not one_value_by_mask:
        _check_index_put_value(x, value)
    values = value if isinstance(value, Tensor) else V.full((), value, dtype=x.dtype,
                                                            device=x.device)
    offsets = _offsets(view._shape, view._strides, view._offset, advanced)
    offsets_shape = offsets._shape
    if broadcast_shapes(offsets_shape, values._shape) != offsets_shape:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values._shape)} cannot "
                           f"be broadcast to indexing result of shape {list(offsets_shape)}")
    _check_inplace(x)
    if not _needs_graph(x, (values,)):
        _check_no_overlap(x)   # (the value's overlap with x was checked above)
        vals = _contiguous_copy(values.expand(offsets_shape).to(x.dtype))
        _k(x).put(x._storage._data, _flat(offsets), _flat(vals), False)
        x._version[0] += 1
        return
    _inplace(x, lambda s, v: IndexPut.apply(s, v, items, False), values, reads_self=False,
             one_value=one_value_by_mask)


def index_put(x: Tensor, indices: tuple, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of x with values written (or added, if accumulate) at the tensor `indices`."""
    if accumulate:
        items = _expand_ellipsis(_normalize(tuple(indices)), x.dim())
        return IndexPut.apply(x, values, items, True)
    out = x.clone()
    setitem(out, tuple(indices), values)
    return out
