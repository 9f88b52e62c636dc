"""Ops made of other ops (no primitive of their own): hyperbolic and inverse trigonometric
functions, softmax and log_softmax, repeat, flip, roll, tril/triu, diag, trace, diff, take,
meshgrid, einsum, ... Their gradients come from the ops they are made of.
"""
from __future__ import annotations

import builtins
import math
import warnings

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.ops.elementwise import atan2, logical_not, pow, where
from tinygrad_edu.ops.helpers import arange, broadcast_shapes, ones_like, zeros, zeros_like
from tinygrad_edu.ops.selection import IndexSelect, index_select
from tinygrad_edu.ops.views import _shape_args
from tinygrad_edu.vector import Tensor, _wrap_dim


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor `sizes[i]` times along each dimension (a copy)."""
    sizes = _shape_args(sizes)
    if len(sizes) < input.dim():
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    x = input.reshape((1,) * (len(sizes) - input.dim()) + input._shape)
    # insert a broadcast dim before each dim, expand it to the repeat count, then merge
    expanded = []
    for i, (r, n) in enumerate(zip(sizes, x._shape)):
        expanded += [r, n]
    y = x.reshape(tuple(v for n in x._shape for v in (1, n))).expand(tuple(expanded))
    out = y.reshape(tuple(r * n for r, n in zip(sizes, x._shape)))
    return out.clone() if out._storage is input._storage else out  # (repeat(1): still a copy)


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along `dims` (a copy)."""
    dims = (dims,) if isinstance(dims, builtins.int) else tuple(dims)
    if not dims:
        return input.clone()  # flip(()) flips nothing, but is still a copy
    out = input
    for d in dims:
        d = _wrap_dim(d, input.dim())
        idx = arange(input._shape[d] - 1, -1, -1, device=input.device)
        out = IndexSelect.apply(out, d, idx)  # in range by construction: no check to pay for
    return out


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    if dims is None:
        return roll(input.reshape(-1), shifts, 0).reshape(input._shape)
    shifts = (shifts,) if isinstance(shifts, builtins.int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, builtins.int) else tuple(dims)
    out = input
    for s, d in zip(shifts, dims):
        d = _wrap_dim(d, input.dim())
        n = input._shape[d]
        if n:
            idx = (arange(n, device=input.device) - s) % n
            out = index_select(out, d, idx)
    return out


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    rows, cols = input._shape[-2:]
    keep = _column_minus_row(rows, cols, input.device) <= diagonal
    return where(keep, input, zeros((), dtype=input.dtype, device=input.device))


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    rows, cols = input._shape[-2:]
    keep = _column_minus_row(rows, cols, input.device) >= diagonal
    return where(keep, input, zeros((), dtype=input.dtype, device=input.device))


def _column_minus_row(rows: int, cols: int, dev: V.device) -> Tensor:
    """The (rows, cols) table of j - i, made on `dev`: which diagonal each element is on."""
    return arange(cols, device=dev).unsqueeze(0) - arange(rows, device=dev).unsqueeze(1)


def sinh(input: Tensor) -> Tensor:
    """(e^x - e^-x) / 2"""
    return (input.exp() - (-input).exp()) * 0.5


def cosh(input: Tensor) -> Tensor:
    """(e^x + e^-x) / 2"""
    return (input.exp() + (-input).exp()) * 0.5


def atan(input: Tensor) -> Tensor:
    return atan2(input, ones_like(input))


def asin(input: Tensor) -> Tensor:
    return atan2(input, (1 - input * input).sqrt())


def acos(input: Tensor) -> Tensor:
    return atan2((1 - input * input).sqrt(), input)


def log10(input: Tensor) -> Tensor:
    return input.log() * (1 / math.log(10.0))


def exp2(input: Tensor) -> Tensor:
    return pow(2.0, input)


def frac(input: Tensor) -> Tensor:
    return input - input.trunc()


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's old rule for a softmax called without `dim` (with its deprecation warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Function):
    """y_i = e^(x_i - m) / sum_j e^(x_j - m) along dim (m = max x: the largest power is e^0, so
    nothing overflows);  dL/dx = y * (g - sum_j g_j y_j)"""
    backward_name = "SoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        e = (x - x.amax(dim, keepdim=True)).exp()
        y = e / e.sum(dim, keepdim=True)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    """y = x - m - log sum_j e^(x_j - m) along dim (m = max x, for stability);
    dL/dx = g - softmax(x) * sum_j g_j  (softmax(x) = e^y)"""
    backward_name = "LogSoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        shifted = x - x.amax(dim, keepdim=True)
        y = shifted - shifted.exp().sum(dim, keepdim=True).log()
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        y, = ctx.saved_tensors
        return grad - y.exp() * grad.sum(ctx.dim, keepdim=True), None


def _softmax_args(name: str, input: Tensor, dim, dtype, stacklevel: int):
    """The (cast) input and `dim` as a non-negative index, checked."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if dim is None:
        dim = _softmax_dim(name, input.dim(), stacklevel + 1)
    n = max(input.dim(), 1)  # a 0-d tensor accepts dim 0 and -1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    if dtype is not None:
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}(): expected a floating point input, got {input.dtype}")
    return input, dim % n


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """exp(x_i) / sum_j exp(x_j) along `dim`: non-negative, sums to 1 there."""
    return Softmax.apply(*_softmax_args("softmax", input, dim, dtype, 3))


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    """x_i - log sum_j exp(x_j) along `dim`, computed without ever forming softmax (stable)."""
    return LogSoftmax.apply(*_softmax_args("log_softmax", input, dim, dtype, 3))


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D tensor becomes a square matrix with it on the `diagonal`; a matrix gives its
    diagonal as a 1-D tensor."""
    if input.dim() == 2:
        return input.diagonal(diagonal).clone()
    if input.dim() != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")
    n = input._shape[0] + builtins.abs(diagonal)
    rows = arange(input._shape[0], device=input.device) + builtins.max(-diagonal, 0)
    cols = rows + diagonal
    flat = zeros(n * n, dtype=input.dtype, device=input.device)
    return flat.index_add(0, rows * n + cols, input).reshape(n, n)


def trace(input: Tensor) -> Tensor:
    if input.dim() != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return input.diagonal().sum()


def diff(input: Tensor, n: int = 1, dim: int = -1) -> Tensor:
    """Differences of neighbours along `dim`, taken `n` times."""
    d = _wrap_dim(dim, input.dim())
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    if n == 0:
        return input.clone()  # no differences taken, but a new tensor all the same
    out = input
    for _ in range(n):
        length = out._shape[d]
        out = out.narrow(d, 1, length - 1) - out.narrow(d, 0, length - 1)
    return out


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of the flattened input at `index` (any shape)."""
    return input.reshape(-1)[index]


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    d = _wrap_dim(dim, input.dim())
    shape = list(broadcast_shapes(input._shape, indices._shape))
    shape_in, shape_idx = list(shape), list(shape)
    shape_in[d], shape_idx[d] = input._shape[d], indices._shape[d]
    return input.expand(shape_in).gather(d, indices.expand(shape_idx))


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids: output k varies along dimension k (with indexing="ij")."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                         f"received: {indexing}")
    ts = list(tensors)
    if indexing == "xy" and len(ts) >= 2:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.numel() for t in ts)
    grids = []
    for k, t in enumerate(ts):
        view_shape = [1] * len(ts)
        view_shape[k] = -1
        grids.append(t.reshape(view_shape).expand(shape))
    if indexing == "xy" and len(grids) >= 2:  # "xy" is "ij" with the first two swapped
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def nansum(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return where(input.isnan(), zeros_like(input), input).sum(dim, keepdim)


def nanmean(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    keep = logical_not(input.isnan())
    return nansum(input, dim, keepdim) / keep.sum(dim, keepdim)


def einsum(equation: str, *operands) -> Tensor:
    """Sums of products over named indices, e.g. "ij,jk->ik" (matmul) or "...chw,c->...hw".

    Every operand is laid out over one shared list of index letters (permute + reshape adding
    size-1 dims), the operands are multiplied with broadcasting, and the letters missing from
    the output are summed away. Simple, differentiable, and fine for the small shapes of lessons
    (it materialises the full product).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    inputs, arrow, output = equation.replace(" ", "").partition("->")
    specs = inputs.split(",")
    if len(specs) != len(operands):
        raise RuntimeError(f"einsum(): {len(specs)} operand subscripts for {len(operands)} "
                           "operands")
    ell = builtins.max((t.dim() - len(sp.replace("...", "")) for sp, t in zip(specs, operands)
                        if "..." in sp), default=0)
    ell_letters = [chr(0x3B1 + i) for i in range(ell)]  # Greek letters stand for the "..." dims
    specs = [_expand_ellipsis_spec(sp, t, ell_letters) for sp, t in zip(specs, operands)]
    if not arrow:
        counts = {}
        for sp in specs:
            for c in sp:
                counts[c] = counts.get(c, 0) + 1
        output = "".join(ell_letters) + "".join(sorted(c for c, n in counts.items()
                                                       if n == 1 and c not in ell_letters))
    else:
        output = output.replace("...", "".join(ell_letters))
    letters = list(output) + sorted({c for sp in specs for c in sp} - set(output))
    product = None
    for sp, t in zip(specs, operands):
        if len(sp) != t.dim():
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(sp)}) "
                               f"does not match the number of dimensions ({t.dim()}) for "
                               "an operand")
        t = _diagonal_of_repeats(t, sp)
        sp = "".join(dict.fromkeys(sp))
        order = sorted(range(len(sp)), key=lambda i: letters.index(sp[i]))
        t = t.permute(order) if order != list(range(len(sp))) else t
        present = [sp[i] for i in order]
        shape = [t._shape[present.index(c)] if c in present else 1 for c in letters]
        t = t.reshape(shape)
        product = t if product is None else product * t
    summed = tuple(range(len(output), len(letters)))
    return product.sum(summed) if summed else product


def _expand_ellipsis_spec(spec: str, t: Tensor, ell_letters: list) -> str:
    if "..." not in spec:
        return spec
    n = t.dim() - len(spec.replace("...", ""))
    return spec.replace("...", "".join(ell_letters[len(ell_letters) - n:]))


def _diagonal_of_repeats(t: Tensor, spec: str) -> Tensor:
    """"ii->i" style repeated letters: take the diagonal over the repeated dims."""
    while len(set(spec)) != len(spec):
        for i, c in enumerate(spec):
            j = spec.find(c, i + 1)
            if j != -1:
                t = t.diagonal(0, i, j)
                spec = spec[:i] + spec[i + 1:j] + spec[j + 1:] + c
                break
    return t
