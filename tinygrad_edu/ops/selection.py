"""Selecting elements by index or mask, and by order: gather/scatter, index_select/index_add,
masked_fill/masked_select, nonzero; sort, topk, kthvalue, median, unique, bincount.

Every index is range-checked here, in Python, before a compiled kernel sees it.
"""
from __future__ import annotations

import builtins

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.ops.elementwise import MaskedFill, where
from tinygrad_edu.ops.helpers import (_cast, _contiguous_copy, _k, _operand, _same_device,
                                      binary_forward, broadcast_shapes, full, reduce_forward,
                                      zeros, zeros_like)
from tinygrad_edu.ops.joining import stack
from tinygrad_edu.ops.reduce import _return_type, return_types_kthvalue, return_types_median
from tinygrad_edu.ops.views import Slice
from tinygrad_edu.vector import Tensor, _wrap_dim, bool_, int64


class Gather(Function):
    """y[i][j] = x[index[i][j]][j] (dim 0);  dL/dx = zeros with dL/dy added at the gathered
    positions (scatter_add)"""
    backward_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        out = V._new(index._shape, x.dtype, x.device)
        _k(x).gather(_narrow_to_index(x, dim, index)._view(), dim, index._view(), out._view())
        ctx.save_for_backward(index)
        ctx.dim, ctx.shape = dim, x._shape
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        g = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        # index was checked by gather: straight to the Function, no second check (on CUDA
        # each check is a transfer)
        return Scatter.apply(g, ctx.dim, index, grad, "add"), None, None


def _check_index_tensor(op: str, index: Tensor, x: Tensor, dim: int,
                        sizes_from: Tensor | None) -> Tensor:
    """Validate an index tensor for gather/scatter: int64 or int32 (returned as int64, what the
    kernels take), same rank, every value in range."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype is V.int32:
        index = index.to(int64)
    if index.dtype is not int64:
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype}")
    if index.dim() != x.dim() and not (index.dim() <= 1 and x.dim() <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as "
                           f"{'input' if op == 'gather' else 'self'} tensor ({index.dim()} vs "
                           f"{x.dim()})")
    for d in range(index.dim()):
        if d != dim and index._shape[d] > x._shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index._shape)} to be smaller than self "
                               f"{list(x._shape)} apart from dimension {dim}")
        if sizes_from is not None and index._shape[d] > sizes_from._shape[d]:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index._shape)} to be smaller than src "
                               f"{list(sizes_from._shape)}")
    # PyTorch reports gather's and scatter's bad indices as RuntimeError (index_select's as
    # IndexError), so that is what code written for it catches
    _check_range(op, index, dim, x._shape[dim] if x.dim() else 1, RuntimeError)
    return index


def _check_range(op: str, index: Tensor, dim: int, n: int, error: type = IndexError) -> None:
    """Every index in [0, n), checked before a kernel trusts them."""
    if index.numel():
        lo, hi = _min_max(index)
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise error(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {n}")


def _min_max(t: Tensor) -> tuple:
    """(min, max) of the non-empty tensor `t` as Python numbers, for checks that must read them
    (an index's range). The two are reduced on t's own device, so only two numbers travel, in
    one transfer: that is the `.item()` such a check cannot avoid. On the CPU numpy reads the
    values in place."""
    if t._storage.device.type == "cpu":
        host = t._view()
        return host.min().item(), host.max().item()
    dims = tuple(range(t.dim()))
    return tuple(_read_scalars(reduce_forward("min", t, dims, False, t.dtype),
                               reduce_forward("max", t, dims, False, t.dtype)))


def _read_scalars(*scalars: Tensor) -> list:
    """The values of a few 0-d tensors of one device and dtype as Python numbers, in a single
    transfer: they are stacked into one small array on the device, and that comes back."""
    return stack(scalars).tolist()


def _narrow_to_index(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """x restricted to index's extent in every dimension but `dim` (a view, no autograd): the
    kernels then see arrays whose shapes agree everywhere except along `dim`."""
    for d, n in enumerate(index._shape):
        if d != dim and n != x._shape[d]:
            x = x._as_view(*Slice.geometry(x, d, 0, n, 1))
    return x


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Pick, along `dim`, the elements named by `index`: out[i][j] = input[index[i][j]][j]."""
    d = _wrap_dim(dim, input.dim())
    index = _check_index_tensor("gather", index, input, d, None)
    _same_device(input, index)
    return Gather.apply(input, d, index)


class Scatter(Function):
    """y = x with y[index[i][j]][j] = src[i][j] (dim 0);  dL/dx = dL/dy with the overwritten
    positions zeroed, dL/dsrc = dL/dy gathered at index"""
    backward_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce):
        out = _contiguous_copy(x)
        if isinstance(src, Tensor):  # only src's first index-shaped block is used
            src_arr = _narrow_to_shape(src, index._shape)._view()
        else:
            src_arr = _operand(src, x.dtype, index._shape, x.device)
        target = _narrow_to_index(out, dim, index)
        _k(x).scatter(target._view(), dim, index._view(), src_arr, reduce)
        ctx.save_for_backward(index)
        ctx.dim, ctx.reduce = dim, reduce
        ctx.src_shape = src._shape if isinstance(src, Tensor) else None
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        need = ctx.needs_input_grad
        if ctx.reduce == "multiply":
            raise RuntimeError("scatter with reduce='multiply' is not differentiable in "
                               "tinygrad_edu")
        gx = gsrc = None
        if need[0]:
            gx = grad if ctx.reduce == "add" else Scatter.apply(grad, ctx.dim, index, 0.0, None)
        if need[3] and ctx.src_shape is not None:
            gsrc = Gather.apply(grad, ctx.dim, index)   # index checked by scatter already
            if gsrc._shape != ctx.src_shape:
                gsrc = _pad_to(gsrc, ctx.src_shape)
        return gx, None, None, gsrc, None


def _narrow_to_shape(t: Tensor, shape: tuple) -> Tensor:
    for d, n in enumerate(shape):
        if n != t._shape[d]:
            t = t._as_view(*Slice.geometry(t, d, 0, n, 1))
    return t


def _pad_to(g: Tensor, shape: tuple) -> Tensor:
    out = zeros(shape, dtype=g.dtype, device=g.device)
    region = out[tuple(slice(0, n) for n in g._shape)]
    _k(out).copy(g._view(), region._view())
    return out


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """A copy of input with values written at `index` along `dim`: out[index[i][j]][j] = src[i][j]
    (dim 0). `src` may be a tensor or a number (`value=`); `reduce` "add" or "multiply"."""
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter(): expected a src tensor or a value")
    d = _wrap_dim(dim, input.dim())
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce!r}")
    index = _check_index_tensor("scatter", index, input, d,
                                src if isinstance(src, Tensor) else None)
    if isinstance(src, Tensor):
        _same_device(input, index, src)
        if src.dtype is not input.dtype:
            raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype "
                               f"({input.dtype} vs {src.dtype})")
    return Scatter.apply(input, d, index, src, reduce)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of input with src added at `index` along `dim` (repeated indices accumulate)."""
    return scatter(input, dim, index, src, reduce="add")


class IndexSelect(Function):
    """y = the slices of x at `index` along `dim`;  dL/dx = zeros with dL/dy added back there"""
    backward_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        shape = x._shape[:dim] + (index.numel(),) + x._shape[dim + 1:]
        out = V._new(shape, x.dtype, x.device)
        _k(x).index_select(x._view(), dim, index.reshape(-1)._view(), out._view())
        ctx.save_for_backward(index)
        ctx.dim, ctx.shape = dim, x._shape
        return out if x.dim() else out.reshape(())

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        g = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        if not ctx.shape:
            return grad, None, None
        # index was checked by index_select: no second check
        return IndexAdd.apply(g, ctx.dim, index.reshape(-1), grad, 1), None, None


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of input at the positions in the 1-D integer tensor `index`, along `dim`."""
    d = _wrap_dim(dim, input.dim())
    if not isinstance(index, Tensor) or index.dtype not in (int64, V.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.dim() > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    _check_range("index_select", index, d, input._shape[d] if input.dim() else 1)
    _same_device(input, index)
    return IndexSelect.apply(input, d, index.to(int64))


class IndexAdd(Function):
    """y = x with src's slices added at `index` along `dim`;  dL/dx = dL/dy,
    dL/dsrc = dL/dy selected at index"""
    backward_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src, alpha):
        out = _contiguous_copy(x)
        s = src if alpha == 1 else binary_forward("mul", src, alpha)
        s = s if s.dtype is x.dtype else _cast(s, x.dtype)
        _k(x).index_add(out._view(), dim, index._view(), s._view())
        ctx.save_for_backward(index)
        ctx.dim, ctx.alpha = dim, alpha
        return out

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        gsrc = IndexSelect.apply(grad, ctx.dim, index) if ctx.needs_input_grad[3] else None
        if gsrc is not None and ctx.alpha != 1:
            gsrc = gsrc * ctx.alpha
        return grad, None, None, gsrc, None


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of input with source's slices added at the positions `index` along `dim`."""
    d = _wrap_dim(dim, input.dim())
    if index.dim() > 1 or index.dtype not in (int64, V.int32):
        raise RuntimeError("index_add_(): Index is supposed to be a vector of int64")
    expected = input._shape[:d] + (index.numel(),) + input._shape[d + 1:]
    if source._shape != expected and not (input.dim() == 0 and source.numel() == index.numel()):
        raise RuntimeError(f"index_add_(): source shape {list(source._shape)} does not match "
                           f"the expected {list(expected)}")
    _check_range("index_add", index, d, input._shape[d] if input.dim() else 1)
    return IndexAdd.apply(input, d, index.to(int64), source, alpha)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """A copy of input with `value` wherever the bool `mask` (broadcast) is True."""
    if mask.dtype is not bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype}")
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.dim()} dimension(s).")
        value = value.to(input.dtype)
    else:
        value = full((), value, dtype=input.dtype, device=input.device)
    broadcast_shapes(input._shape, mask._shape)
    _same_device(input, mask)
    out = MaskedFill.apply(mask, value, input)
    if out._shape != input._shape:
        raise RuntimeError(f"masked_fill: mask of shape {list(mask._shape)} cannot broadcast to "
                           f"the input's shape {list(input._shape)}")
    return out


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements where `mask` is True, as a 1-D tensor."""
    shape = broadcast_shapes(input._shape, mask._shape)
    return input.expand(shape)[mask.expand(shape)]


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """The indices of the nonzero elements: an (n, ndim) int64 tensor, or one tensor per dim."""
    idx = _k(input).nonzero(input._view())
    out = V._from_array(idx, int64, input.device)
    if as_tuple:
        if input.dim() == 0:
            return (zeros(builtins.int(builtins.bool(input.item())), dtype=int64),)
        return tuple(out[:, d] for d in range(input.dim()))
    return out


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


return_types_sort, return_types_topk = _return_type("sort"), _return_type("topk")


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """The elements sorted along `dim`, with the indices they came from (stable sort)."""
    if input.dim() == 0:
        return return_types_sort(input.clone(), zeros((), dtype=int64, device=input.device))
    d = _wrap_dim(dim, input.dim())
    idx = V._new(input._shape, int64, input.device)
    values = V._new(input._shape, input.dtype, input.device)
    _k(input).sort(input._view(), d, descending, values._view(), idx._view())
    if input.requires_grad and _grad_enabled[0]:
        values = gather(input, d, idx)
    return return_types_sort(values, idx)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) elements along `dim` and their indices."""
    d = _wrap_dim(dim, input.dim())
    n = input._shape[d] if input.dim() else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range: k={k} for a dimension of size {n}")
    _, idx = sort(input.detach(), d, descending=largest)
    idx = idx.narrow(d, 0, k) if input.dim() else idx
    return return_types_topk(gather(input, d, idx) if input.dim() else input.clone(), idx)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    d = _wrap_dim(dim, input.dim())
    _, idx = sort(input.detach(), d)
    i = idx.narrow(d, k - 1, 1)
    v = gather(input, d, i)
    return return_types_kthvalue(v if keepdim else v.squeeze(d), i if keepdim else i.squeeze(d))


def median(input: Tensor, dim=None, keepdim: bool = False):
    """The lower median (as PyTorch: the ((n-1)//2)-th smallest)."""
    if dim is None:
        return MedianAll.apply(input)
    n = input._shape[_wrap_dim(dim, input.dim())]
    return return_types_median(*kthvalue(input, (n - 1) // 2 + 1, dim, keepdim))


class MedianAll(Function):
    """m = the lower median of all the elements;  dm/dx: the gradient shared evenly by the
    elements equal to m (as PyTorch's, rather than all of it to one of them)"""
    backward_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x):
        flat = x.reshape(-1)
        m = kthvalue(flat, (flat.numel() - 1) // 2 + 1, 0).values
        ctx.save_for_backward(x, m)
        return m

    @staticmethod
    def backward(ctx, grad):
        x, m = ctx.saved_tensors
        ties = x == m
        return where(ties, grad / ties.sum(), zeros_like(x))


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim=None):
    """The distinct elements, in ascending order (numpy's unique on the host)."""
    if dim is not None:
        raise NotImplementedError("unique(dim=...) is not supported by tinygrad_edu")
    values, inverse, counts = np.unique(input._host(), return_inverse=True, return_counts=True)
    out = [V._from_array(V._to_device(values, input.device), input.dtype, input.device)]
    if return_inverse:
        out.append(V._from_array(V._to_device(inverse.reshape(input._shape).astype(np.int64),
                                              input.device), int64, input.device))
    if return_counts:
        out.append(V._from_array(V._to_device(counts.astype(np.int64), input.device), int64,
                                 input.device))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    if input.dim() != 1 or input.dtype.is_floating_point:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    host = input._host()
    if host.size and host.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else weights._host()
    counts = np.bincount(host, w, minlength)
    dt = int64 if weights is None else weights.dtype
    return V._from_array(V._to_device(counts.astype(dt.np_dtype), input.device), dt, input.device)
