"""Views and copies. A view shares its input's storage with a new (offset, shape, strides):
view/reshape, permute/transpose, unsqueeze/squeeze, expand, select/slice/narrow, diagonal,
as_strided, split/chunk. clone, contiguous and to() make copies.

Each view's backward maps the gradient back to the input's shape: a reshape back, a
permutation undone, an expand summed, a region written into zeros.
"""
from __future__ import annotations

import builtins
import math
from typing import Sequence

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.autograd.views import AsStrided
from tinygrad_edu.ops.elementwise import where
from tinygrad_edu.ops.helpers import (_broadcast_strides, _contiguous_copy, _k, arange,
                                      broadcast_shapes, sum_to_shape, zeros)
from tinygrad_edu.vector import Tensor, _wrap_dim, bool_, kernels


def _view_strides(t: Tensor, shape: tuple) -> tuple | None:
    """Strides that show `t`'s elements with a new `shape` without copying, or None if impossible.

    Dimensions of `t` that are laid out one after another in memory ("chunks") can be split or
    merged freely; a new dimension may not straddle two chunks (PyTorch's computeStride).
    """
    old_shape, old_strides = t._shape, t._strides
    if math.prod(old_shape) == 0 or not old_shape:
        return V.contiguous_strides(shape)
    new_strides = [0] * len(shape)
    view_d = len(shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        # a chunk ends where the next (outer) dim does not continue this one in memory
        if tensor_d == 0 or (old_shape[tensor_d - 1] != 1 and
                             old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def _infer_shape(shape: Sequence[int], numel: int) -> tuple:
    """Replace a single -1 in `shape` by what makes the element count `numel`."""
    shape = tuple(builtins.int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    if builtins.any(s < 0 for s in shape):
        raise RuntimeError(f"invalid shape dimension {builtins.min(shape)}")
    return shape


class ViewFunction(Function):
    """A view: the output shares the input's storage with new (offset, shape, strides).

    `geometry(x, *args)` computes the new (offset, shape, strides); `backward` maps the gradient
    back to the input's shape.
    """

    @staticmethod
    def forward(ctx, x, *args):
        cls = type(ctx)._forward_cls
        offset, shape, strides = cls.geometry(x, *args)
        ctx.in_shape = x._shape
        ctx.args = args
        return x._as_view(offset, shape, strides)


class View(ViewFunction):
    """y = x seen with another shape;  dL/dx = dL/dy reshaped back"""
    backward_name = "ViewBackward0"

    @staticmethod
    def geometry(x, shape):
        strides = _view_strides(x, shape)
        if strides is None:
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.")
        return x._offset, shape, strides

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


def _shape_args(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def view(input: Tensor, *shape) -> Tensor:
    """The same elements seen with a new shape, never copying (may contain one -1)."""
    if len(shape) == 1 and (isinstance(shape[0], V.dtype) or isinstance(shape[0], str)):
        raise NotImplementedError("view(dtype) reinterpretation is not supported by "
                                  "tinygrad_edu; use .to(dtype) to convert")
    return View.apply(input, _infer_shape(_shape_args(shape), input.numel()))


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other._shape)


class Reshape(Function):
    """y = x with a new shape, copied only when a view is impossible;  dL/dx = dL/dy reshaped"""
    backward_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._shape
        out = _contiguous_copy(x)   # a new tensor of its own (not a view of the copy)
        return Tensor._make(out._storage, 0, shape, V.contiguous_strides(shape))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


def reshape(input: Tensor, *shape) -> Tensor:
    """The elements in a new shape: a view when the strides allow it, otherwise a copy."""
    shape = _infer_shape(_shape_args(shape), input.numel())
    if shape == input._shape:
        return View.apply(input, shape) if input.requires_grad and _grad_enabled[0] else \
            input._as_view(input._offset, shape, input._strides)
    if _view_strides(input, shape) is not None:
        return View.apply(input, shape)
    return Reshape.apply(input, shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    nd = input.dim()
    if nd == 0:
        return reshape(input, (1,))
    s, e = _wrap_dim(start_dim, nd), _wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input._shape[:s] + (math.prod(input._shape[s:e + 1]),) + input._shape[e + 1:]
    return reshape(input, shape)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    d = _wrap_dim(dim, input.dim())
    sizes = _infer_shape(sizes, input._shape[d])
    return reshape(input, input._shape[:d] + tuple(sizes) + input._shape[d + 1:])


def ravel(input: Tensor) -> Tensor:
    return reshape(input, (-1,))


class Permute(ViewFunction):
    """y = x with its dimensions reordered;  dL/dx = dL/dy with the inverse order"""
    backward_name = "PermuteBackward0"

    @staticmethod
    def geometry(x, dims):
        return (x._offset, tuple(x._shape[d] for d in dims), tuple(x._strides[d] for d in dims))

    @staticmethod
    def backward(ctx, grad):
        dims, = ctx.args
        inverse = [0] * len(dims)
        for i, d in enumerate(dims):
            inverse[d] = i
        return grad.permute(inverse), None


class Transpose(Permute):
    backward_name = "TransposeBackward0"


def permute(input: Tensor, *dims) -> Tensor:
    """Reorder the dimensions: output dim i is input dim dims[i] (a view)."""
    dims = _shape_args(dims) if dims else ()
    nd = input.dim()
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(dims)}")
    wrapped = tuple(_wrap_dim(d, nd) for d in dims)
    if len(set(wrapped)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, wrapped)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view: the strides swap, the storage stays)."""
    nd = input.dim()
    d0, d1 = _wrap_dim(dim0, nd), _wrap_dim(dim1, nd)
    if nd == 0:
        return input
    dims = list(range(nd))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Transpose.apply(input, tuple(dims))


swapaxes = swapdims = transpose


class T(Permute):
    backward_name = "TBackward0"


def t(input: Tensor) -> Tensor:
    """Transpose a matrix (0-D and 1-D tensors come back unchanged, as a new view)."""
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.dim()}D")
    return T.apply(input, (1, 0) if input.dim() == 2 else tuple(range(input.dim())))


def movedim(input: Tensor, source, destination) -> Tensor:
    nd = input.dim()
    src = (source,) if isinstance(source, builtins.int) else tuple(source)
    dst = (destination,) if isinstance(destination, builtins.int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    src = [_wrap_dim(d, nd) for d in src]
    dst = [_wrap_dim(d, nd) for d in dst]
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    order = [next(rest) if o is None else o for o in order]
    return permute(input, order) if order != list(range(nd)) else input


moveaxis = movedim


class Unsqueeze(ViewFunction):
    """y = x with a new dimension of size 1 at `dim`;  dL/dx = dL/dy with it squeezed out"""
    backward_name = "UnsqueezeBackward0"

    @staticmethod
    def geometry(x, dim):
        stride = x._strides[dim] * x._shape[dim] if dim < len(x._shape) else 1
        return (x._offset, x._shape[:dim] + (1,) + x._shape[dim:],
                x._strides[:dim] + (stride,) + x._strides[dim:])

    @staticmethod
    def backward(ctx, grad):
        return grad.squeeze(ctx.args[0]), None


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at `dim` (a view)."""
    return Unsqueeze.apply(input, _wrap_dim(dim, input.dim() + 1))


class Squeeze(ViewFunction):
    """y = x without the size-1 dimensions `dims`;  dL/dx = dL/dy reshaped back"""
    backward_name = "SqueezeBackward0"

    @staticmethod
    def geometry(x, dims):
        keep = [i for i in range(len(x._shape)) if i not in dims]
        return (x._offset, tuple(x._shape[i] for i in keep), tuple(x._strides[i] for i in keep))

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class SqueezeDim(Squeeze):
    backward_name = "SqueezeBackward1"


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (only those in `dim`, if given)."""
    nd = input.dim()
    if dim is None:
        return Squeeze.apply(input, tuple(i for i, n in enumerate(input._shape) if n == 1))
    dims = (dim,) if isinstance(dim, (builtins.int, np.integer)) else tuple(dim)
    wrapped = tuple(_wrap_dim(d, nd) for d in dims)
    return SqueezeDim.apply(input, tuple(d for d in wrapped if nd and input._shape[d] == 1))


class Expand(ViewFunction):
    """y = x broadcast to a larger shape (stride 0 on the stretched dims, no copy);
    dL/dx = dL/dy summed over the stretched dims"""
    backward_name = "ExpandBackward0"

    @staticmethod
    def geometry(x, shape):
        """PyTorch's strides: 0 on a stretched dimension; a new leading dimension of size 1
        gets the stride a row-major layout would give it (x.expand(1, 3).stride() is (3, 1))."""
        strides, pad = [0] * len(shape), len(shape) - len(x._shape)
        for i in range(len(shape) - 1, -1, -1):
            if i >= pad:
                size, stride = x._shape[i - pad], x._strides[i - pad]
            else:
                size, stride = 1, shape[i + 1] * strides[i + 1] if i + 1 < len(shape) else 1
            strides[i] = stride if size == shape[i] else 0
        return x._offset, shape, tuple(strides)

    @staticmethod
    def backward(ctx, grad):
        return sum_to_shape(grad, ctx.in_shape), None


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to `sizes` without copying (-1 keeps a size); only size-1 dims can grow."""
    sizes = _shape_args(sizes)
    nd = input.dim()
    if len(sizes) < nd:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(input._shape)}}}, size={list(sizes)}"
                           f"): the number of sizes provided ({len(sizes)}) must be greater or "
                           f"equal to the number of dimensions in the tensor ({nd})")
    pad = len(sizes) - nd
    shape = []
    for i, s in enumerate(sizes):
        old = input._shape[i - pad] if i >= pad else None
        if s == -1:
            if old is None:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            s = old
        if old is not None and old != 1 and old != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing "
                               f"size ({old}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(input._shape)}")
        shape.append(builtins.int(s))
    return Expand.apply(input, tuple(shape))  # (a new view even when nothing grows)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    shape = broadcast_shapes(*(t._shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


class Region(ViewFunction):
    """y = a sub-block of x (select, slice, narrow, diagonal, as_strided);
    dL/dx = zeros with dL/dy written into the same sub-block"""
    backward_name = "SliceBackward0"

    @staticmethod
    def backward(ctx, grad):
        cls = type(ctx)._forward_cls
        base = zeros(ctx.in_shape, dtype=grad.dtype, device=grad.device)
        if _grad_enabled[0]:  # differentiable scatter of grad into the block
            return _region_scatter(base, grad, cls, ctx.args), *([None] * len(ctx.args))
        offset, shape, strides = cls.geometry(base, *ctx.args)
        _k(base).copy(grad._view(), base._as_view(offset, shape, strides)._view())
        return (base,) + (None,) * len(ctx.args)


def _region_scatter(base: Tensor, grad: Tensor, cls, args) -> Tensor:
    """base with grad written into cls's region, built from differentiable ops (double backward)."""
    mask = zeros(base._shape, dtype=bool_, device=base.device)
    offset, shape, strides = cls.geometry(mask, *args)
    mask._as_view(offset, shape, strides)._view()[...] = True
    spread = zeros(base._shape, dtype=grad.dtype, device=grad.device)
    index = arange(base.numel(), device=base.device).reshape(base._shape)
    picked = index._as_view(offset, shape, strides).reshape(-1)
    flat = spread.reshape(-1).index_add(0, picked, grad.reshape(-1))
    return where(mask, flat.reshape(base._shape), base)


class Select(Region):
    """y = x[..., index, ...] along `dim` (one fewer dimension)"""
    backward_name = "SelectBackward0"

    @staticmethod
    def geometry(x, dim, index):
        return (x._offset + index * x._strides[dim], x._shape[:dim] + x._shape[dim + 1:],
                x._strides[:dim] + x._strides[dim + 1:])


class Slice(Region):
    """y = x[start:stop:step] along `dim`"""
    backward_name = "SliceBackward0"

    @staticmethod
    def geometry(x, dim, start, stop, step):
        n = builtins.max(0, (stop - start + step - 1) // step)
        return (x._offset + start * x._strides[dim] if n else x._offset,
                x._shape[:dim] + (n,) + x._shape[dim + 1:],
                x._strides[:dim] + (x._strides[dim] * step,) + x._strides[dim + 1:])


class Diagonal(Region):
    """y = the diagonal of x over dims (dim1, dim2), shifted by `offset`"""
    backward_name = "DiagonalBackward0"

    @staticmethod
    def geometry(x, offset, d1, d2):
        n1, n2 = x._shape[d1], x._shape[d2]
        length = builtins.max(0, builtins.min(n1, n2 - offset) if offset >= 0 else
                              builtins.min(n1 + offset, n2))
        start = x._offset
        if length:
            start += offset * x._strides[d2] if offset >= 0 else -offset * x._strides[d1]
        keep = [i for i in range(len(x._shape)) if i not in (d1, d2)]
        return (start, tuple(x._shape[i] for i in keep) + (length,),
                tuple(x._strides[i] for i in keep) + (x._strides[d1] + x._strides[d2],))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at `index` along `dim`, which disappears (a view): x.select(0, 1) is x[1]."""
    nd = input.dim()
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, nd)
    n = input._shape[d]
    index = builtins.int(index)
    if not -n <= index < n:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {n}")
    return Select.apply(input, d, index % n)


def _slice(input: Tensor, dim: int, start, stop, step: int) -> Tensor:
    """input[start:stop:step] along dim, with Python's clamping of out-of-range bounds."""
    if step == 0:
        raise ValueError("slice step cannot be zero")   # PyTorch's words, as Python's
    if step is not None and step < 0:
        raise ValueError("step must be greater than zero")
    n = input._shape[dim]
    start, stop, step = slice(start, stop, step).indices(n)
    stop = builtins.max(stop, start)
    return Slice.apply(input, dim, start, stop, step)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """`length` elements along `dim` from `start` (a view)."""
    d = _wrap_dim(dim, input.dim())
    n = input._shape[d]
    if isinstance(start, Tensor):
        start = start.item()
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return Slice.apply(input, d, start, start + length, 1)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    nd = input.dim()
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset, d1, d2)


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    """A view with explicit geometry; every element it reaches must lie inside the storage."""
    size, stride = tuple(size), tuple(stride)
    offset = input._offset if storage_offset is None else storage_offset
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} and "
                           f"{len(stride)}")
    if builtins.any(s < 0 for s in stride) or builtins.any(s < 0 for s in size):
        raise RuntimeError("as_strided: negative sizes and strides are not supported")
    last = offset + builtins.sum((n - 1) * s for n, s in zip(size, stride)) if 0 not in size \
        else offset
    if offset < 0 or last >= input._storage.size() and math.prod(size):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset} require elements up to {last}, but the storage has "
                           f"only {input._storage.size()}")
    return AsStrided.apply(input, size, stride, offset)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces along `dim`: of size `split_size` each (the last may be smaller), or of the sizes
    listed (which must add up to the dimension's size). Views."""
    d = _wrap_dim(dim, tensor.dim())
    n = tensor._shape[d]
    if isinstance(split_size_or_sections, (builtins.int, np.integer)):
        size = builtins.int(split_size_or_sections)
        if size <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [builtins.int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    pieces, start = [], 0
    for i, s in enumerate(sizes):
        piece = narrow(tensor, d, start, s)
        piece._multi_output_of = ("Split", i)  # as PyTorch's split: see _check_multi_output_view
        pieces.append(piece)
        start += s
    return tuple(pieces)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """`chunks` pieces along `dim` of equal size ceil(n/chunks) (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input._shape[_wrap_dim(dim, input.dim())]
    return split(input, builtins.max(1, -(-n // chunks)), dim)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    d = _wrap_dim(dim, input.dim())
    n = input._shape[d]
    if isinstance(indices_or_sections, builtins.int):
        k = indices_or_sections
        bounds = [i * (n // k) + builtins.min(i, n % k) for i in range(k + 1)]
    else:
        bounds = [0] + [builtins.min(builtins.max(i, 0), n) for i in indices_or_sections] + [n]
    return tuple(narrow(input, d, a, builtins.max(b - a, 0)) for a, b in zip(bounds, bounds[1:]))


class Clone(Function):
    """y = a copy of x in new storage;  dL/dx = dL/dy"""
    backward_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return _contiguous_copy(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy of the elements in new, contiguous storage (differentiable)."""
    return Clone.apply(input)


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    """The tensor itself if its strides are row-major, else a contiguous copy."""
    return input if input.is_contiguous() else Clone.apply(input)


class ToCopy(Function):
    """y = x converted to another dtype and/or device;  dL/dx = dL/dy converted back"""
    backward_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dt, dev):
        ctx.dtype, ctx.device = x.dtype, x.device
        if dev == x.device:
            out = V._new(x._shape, dt, dev)
            _k(x).copy(x._view(), out._view())
            return out
        host = np.ascontiguousarray(x._host())
        if dt is not x.dtype:
            host = V._cast_host(host, dt)
        return V._from_array(V._to_device(np.array(host, copy=True), dev), dt, dev)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.dtype.is_floating_point:
            return None, None, None
        return grad.to(ctx.dtype, ctx.device), None, None


def to(self: Tensor, *args, **kwargs) -> Tensor:
    """`to(dtype)`, `to(device)`, `to(device, dtype)` or `to(other)`: self if nothing changes."""
    dt, dev, copy = V._parse_to(self, args, kwargs)
    if dt is self.dtype and dev == self.device and not copy:
        return self
    return to_copy(self, dt, dev)


def to_copy(x: Tensor, dt: V.dtype, dev: V.device) -> Tensor:
    kernels(dev)  # (raises a clear error when the device is unavailable)
    return ToCopy.apply(x, dt, dev)
