"""Reductions along dimensions: sum, mean, prod, max/min (with indices), var/std, norm,
logsumexp, argmax/argmin, all/any; and the scans cumsum and cumprod.

A reduction's backward spreads the gradient back over the reduced dimensions (expand), scaled
by each element's share: 1 for sum, 1/n for mean, the product of the others for prod.
"""
from __future__ import annotations

import builtins
import math
from collections import namedtuple

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.autograd.grad_mode import _grad_enabled
from tinygrad_edu.ops.elementwise import isinf, maximum, minimum, where
from tinygrad_edu.ops.helpers import (_contiguous_copy, _in_place_by_number, _k, _kept_shape,
                                      _reduce_dims, _require_float, ones, reduce_forward, zeros,
                                      zeros_like)
from tinygrad_edu.ops.joining import cat
from tinygrad_edu.vector import Tensor, _wrap_dim, bool_, int64


def _expand_grad(grad: Tensor, shape: tuple, dims: tuple, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back over the reduced dims (a stride-0 view, no copy)."""
    kept = _kept_shape(shape, dims)
    if _grad_enabled[0]:  # differentiating the backward pass itself: record the ops
        return grad.reshape(kept).expand(shape)
    if not grad.is_contiguous():
        grad = _contiguous_copy(grad)
    # grad seen with the kept shape, then stretched over the reduced dims by strides 0
    strides = V.contiguous_strides(kept)
    return grad._as_view(grad._offset, shape,
                         tuple([0 if d in dims else st for d, st in enumerate(strides)]))


class Sum(Function):
    """y = sum_i x_i over `dims`;  dy/dx_i = 1, so the gradient is broadcast back"""
    backward_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dt):
        ctx.shape, ctx.dims, ctx.keepdim = x._shape, dims, keepdim
        return reduce_forward("sum", x, dims, keepdim, dt)

    @staticmethod
    def backward(ctx, grad):
        return _expand_grad(grad, ctx.shape, ctx.dims, ctx.keepdim), None, None, None


class SumAll(Sum):
    """y = the sum of all elements (PyTorch names this node SumBackward0)"""
    backward_name = "SumBackward0"


def _sum_dtype(t: Tensor, dtype) -> V.dtype:
    if dtype is not None:
        return V.as_dtype(dtype)
    return t.dtype if t.dtype.is_floating_point else int64


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The sum of the elements (over `dim` if given). Integers and bools sum to int64."""
    if not isinstance(input, Tensor):
        return builtins.sum(input)
    cls = SumAll if dim is None else Sum
    return cls.apply(input, _reduce_dims(input, dim), keepdim, _sum_dtype(input, dtype))


class Mean(Function):
    """y = (1/n) sum_i x_i;  dy/dx_i = 1/n"""
    backward_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x._shape, dims, keepdim
        n = math.prod([x._shape[d] for d in dims])
        ctx.n = n
        return _in_place_by_number("div", reduce_forward("sum", x, dims, keepdim, x.dtype), n)

    @staticmethod
    def backward(ctx, grad):
        return _expand_grad(grad / ctx.n, ctx.shape, ctx.dims, ctx.keepdim), None, None


class MeanAll(Mean):
    """y = the mean of all elements (PyTorch names this node MeanBackward0)"""
    backward_name = "MeanBackward0"


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The average of the elements (over `dim` if given); floating-point tensors only."""
    if dtype is not None:
        input = input.to(V.as_dtype(dtype))
    if not input.dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {input.dtype}")
    cls = MeanAll if dim is None else Mean
    return cls.apply(input, _reduce_dims(input, dim), keepdim)


class Prod(Function):
    """y = prod_i x_i;  dy/dx_i = prod_{j != i} x_j (computed without dividing, so zeros work)"""
    backward_name = "ProdBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, dt):
        ctx.dims, ctx.keepdim = dims, keepdim
        y = reduce_forward("prod", x, dims, keepdim, dt)
        ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        g = _expand_grad(grad, x._shape, ctx.dims, ctx.keepdim)
        return g * _prod_others(x, ctx.dims), None, None, None


def _prod_others(x: Tensor, dims: tuple) -> Tensor:
    """For each element, the product of all the *other* elements along `dims`."""
    flat = x.movedim(dims, tuple(range(len(x._shape) - len(dims), len(x._shape))))
    rest = flat._shape[:len(flat._shape) - len(dims)]
    flat = flat.reshape(rest + (-1,))
    n = flat._shape[-1]
    ones_col = ones(rest + (1,), dtype=x.dtype, device=x.device)
    # exclusive prefix and suffix products: others_i = (x_0 ... x_{i-1}) (x_{i+1} ... x_{n-1})
    prefix = cat([ones_col, flat[..., :n - 1]], -1).cumprod(-1)
    suffix = cat([flat[..., 1:], ones_col], -1).flip(-1).cumprod(-1).flip(-1)
    others = (prefix * suffix).reshape(tuple(x.movedim(dims, tuple(
        range(len(x._shape) - len(dims), len(x._shape))))._shape))
    return others.movedim(tuple(range(len(x._shape) - len(dims), len(x._shape))), dims)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The product of the elements (over one `dim` if given). Integers multiply to int64."""
    if dim is not None and not isinstance(dim, (builtins.int, np.integer)):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    return Prod.apply(input, _reduce_dims(input, dim), keepdim, _sum_dtype(input, dtype))


class MaxMin(Function):
    """y = max (or min) over `dims`;  the gradient goes to the element(s) that won, split evenly
    among ties (as PyTorch's full reduction does)"""
    backward_name = "MaxBackward1"

    @staticmethod
    def forward(ctx, x, dims, keepdim, op):
        y = reduce_forward(op, x, dims, keepdim, x.dtype)
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        winners = (x == _expand_grad(y, x._shape, ctx.dims, ctx.keepdim)).to(grad.dtype)
        count = winners.sum(ctx.dims, keepdim=True)
        g = _expand_grad(grad, x._shape, ctx.dims, ctx.keepdim)
        return g * winners / count, None, None, None


class MinBackward(MaxMin):
    backward_name = "MinBackward1"


class MaxMinDim(Function):
    """(values, indices) = max (or min) along one dim;  the gradient goes to the index chosen"""
    backward_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, x, dim, keepdim, op):
        kept = _kept_shape(x._shape, (dim,))
        idx = V._new(kept, int64, x.device)
        _k(x).argreduce("arg" + op, x._view(), dim, idx._view())
        values = x.gather(dim, idx)
        if not keepdim:
            values, idx = values.squeeze(dim), idx.squeeze(dim)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        ctx.dim, ctx.keepdim, ctx.shape = dim, keepdim, x._shape
        return values, idx

    @staticmethod
    def backward(ctx, grad, _grad_idx):
        idx, = ctx.saved_tensors
        if not ctx.keepdim:
            grad, idx = grad.unsqueeze(ctx.dim), idx.unsqueeze(ctx.dim)
        g = zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        return g.scatter(ctx.dim, idx, grad), None, None, None


class MinDim(MaxMinDim):
    backward_name = "MinBackward0"


def _return_type(name: str) -> type:
    """The (values, indices) named tuple that op `name` returns, printed as PyTorch prints its
    torch.return_types.<name>: one field per line."""
    def __repr__(self) -> str:
        return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"
    cls = namedtuple(name, ["values", "indices"])
    cls.__repr__ = __repr__
    return cls


return_types_max, return_types_min = _return_type("max"), _return_type("min")


return_types_kthvalue, return_types_median = _return_type("kthvalue"), _return_type("median")


def _max_min(op: str, input: Tensor, dim, keepdim: bool, other):
    if isinstance(dim, Tensor) and other is None:  # max(a, b) is maximum(a, b)
        return (maximum if op == "max" else minimum)(input, dim)
    if other is not None:
        return (maximum if op == "max" else minimum)(input, other)
    if input.numel() == 0 and (dim is None or input._shape[_wrap_dim(dim, input.dim())] == 0):
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == "
                           "0. Specify the reduction dim with the 'dim' argument.")
    if dim is None:
        cls = MaxMin if op == "max" else MinBackward
        return cls.apply(input, _reduce_dims(input, None), False, op)
    cls = MaxMinDim if op == "max" else MinDim
    values, indices = cls.apply(input, _wrap_dim(dim, input.dim()), keepdim, op)
    return (return_types_max if op == "max" else return_types_min)(values, indices)


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """The largest element; with `dim`, (values, indices) along it; with a tensor, `maximum`."""
    return _max_min("max", input, dim, keepdim, other)


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None):
    """The smallest element; with `dim`, (values, indices) along it; with a tensor, `minimum`."""
    return _max_min("min", input, dim, keepdim, other)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    cls = MaxMin
    return cls.apply(input, _reduce_dims(input, dim), keepdim, "max")


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    return MinBackward.apply(input, _reduce_dims(input, dim), keepdim, "min")


def _arg_reduce(op: str, input: Tensor, dim, keepdim: bool) -> Tensor:
    if input.dtype is bool_:
        raise RuntimeError(f"{op}(): does not support bool input; convert it with .long()")
    if input.numel() == 0:
        raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == "
                           "0.")
    if dim is None:
        flat = input.reshape(-1)
        out = V._new((1,), int64, input.device)
        _k(input).argreduce(op, flat._view(), 0, out._view())
        return out.reshape(()) if not keepdim else out.reshape((1,) * input.dim())
    d = _wrap_dim(dim, input.dim())
    if input.dim() == 0:
        return zeros((), dtype=int64, device=input.device)
    out = V._new(_kept_shape(input._shape, (d,)), int64, input.device)
    _k(input).argreduce(op, input._view(), d, out._view())
    return out if keepdim else out.squeeze(d)


def argmax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the largest element (over the flattened tensor if `dim` is None)."""
    return _arg_reduce("argmax", input, dim, keepdim)


def argmin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The index of the smallest element (over the flattened tensor if `dim` is None)."""
    return _arg_reduce("argmin", input, dim, keepdim)


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element (along `dim`) is nonzero."""
    if not isinstance(input, Tensor):
        return builtins.all(input)
    return _logical_reduce("all", input, dim, keepdim)


def _logical_reduce(op: str, input: Tensor, dim, keepdim: bool) -> Tensor:
    x = input if input.dtype is bool_ else input != 0
    out = reduce_forward(op, x, _reduce_dims(x, dim), keepdim, bool_)
    # PyTorch keeps uint8 for uint8 inputs (a legacy of masks being bytes)
    return out.to(V.uint8) if input.dtype is V.uint8 else out


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element (along `dim`) is nonzero."""
    if not isinstance(input, Tensor):
        return builtins.any(input)
    return _logical_reduce("any", input, dim, keepdim)


def var(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """The variance: sum (x - mean)^2 / (n - correction); correction 1 (unbiased) by default."""
    return Var.apply(input, *_var_args("var", input, dim, unbiased, correction), keepdim)


def std(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *,
        correction=None) -> Tensor:
    """The standard deviation: the square root of `var`."""
    return Std.apply(input, *_var_args("std", input, dim, unbiased, correction), keepdim)


def _var_args(op: str, x: Tensor, dim, unbiased, correction) -> tuple:
    """(dims, divisor n - correction) of var/std; correction 1 (unbiased) by default."""
    if isinstance(dim, builtins.bool):  # var(x, False): the old `unbiased` positional form
        unbiased, dim = dim, None
    _require_float(x, op)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = _reduce_dims(x, dim)
    return dims, builtins.max(math.prod(x._shape[d] for d in dims) - correction, 0)


class Var(Function):
    """v = sum (x - mean)^2 / (n - correction) over dims;
    dv/dx = 2 (x - mean) / (n - correction)  (the mean's own derivative drops out: the centered
    values sum to 0)"""
    backward_name = "VarBackward0"

    @staticmethod
    def forward(ctx, x, dims, divisor, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.divisor, ctx.keepdim = dims, divisor, keepdim
        centered = x - x.mean(dims, keepdim=True)
        return (centered * centered).sum(dims, keepdim=keepdim) / divisor

    @staticmethod
    def backward(ctx, grad):
        return Var.grad_x(ctx, grad, ctx.saved_tensors[0])

    @staticmethod
    def grad_x(ctx, g, x) -> tuple:
        """The gradients of forward's arguments, given dL/dv = g. (The mean is recomputed from
        x so that a second derivative sees it.)"""
        if not ctx.keepdim and ctx.dims:
            g = g.reshape(_kept_shape(x._shape, ctx.dims))
        scale = 2.0 / ctx.divisor if ctx.divisor else math.inf  # 0 * inf: NaN, as the variance
        return g * scale * (x - x.mean(ctx.dims, keepdim=True)), None, None, None


class Std(Var):
    """s = sqrt(var);  ds/dx = dvar/dx / (2 s), taken as 0 where s = 0 (a constant input), as
    PyTorch does (the plain chain rule would give 0/0)"""
    backward_name = "StdBackward0"

    @staticmethod
    def forward(ctx, x, dims, divisor, keepdim):
        s = Var.forward(ctx, x, dims, divisor, keepdim).sqrt()
        ctx.save_for_backward(x, s)
        return s

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved_tensors
        return Var.grad_x(ctx, where(s == 0, zeros_like(grad), grad / (2 * s)), x)


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) computed stably by factoring out the maximum."""
    dims = _reduce_dims(input, dim)
    m = amax(input, dims, keepdim=True).detach()
    m = where(isinf(m), zeros_like(m), m)
    out = (input - m).exp().sum(dims, keepdim=True).log() + m
    return out if keepdim else out.squeeze(dims) if dims else out


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm (default 2, "fro") of the elements, over `dim` if given."""
    if p in (float("inf"), "inf"):
        return input.abs().amax(dim if dim is not None else (), keepdim=keepdim)
    if p == 1:
        return input.abs().sum(dim, keepdim=keepdim)
    p = 2 if p == "fro" else p
    if not isinstance(p, (builtins.int, builtins.float)) or p <= 0:
        raise ValueError(f"norm: p must be a positive number, 'fro' or inf, got {p!r}")
    _require_float(input, "norm")
    return VectorNorm.apply(input, p, _reduce_dims(input, dim), keepdim)


class VectorNorm(Function):
    """n = (sum |x|^p)^(1/p) over dims (p > 0 finite);
    dn/dx = sgn(x) |x|^(p-1) / n^(p-1)  (x / n for p = 2), taken as 0 where n = 0, as in
    PyTorch (the chain rule through the root would give 0/0 at a zero vector)"""
    backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        n = (x * x).sum(dims, keepdim=keepdim).sqrt() if p == 2 else \
            (x.abs() ** p).sum(dims, keepdim=keepdim) ** (1.0 / p)
        ctx.save_for_backward(x, n)
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        return n

    @staticmethod
    def backward(ctx, grad):
        x, n = ctx.saved_tensors
        p = ctx.p
        if not ctx.keepdim and ctx.dims:
            kept = _kept_shape(x._shape, ctx.dims)
            grad, n = grad.reshape(kept), n.reshape(kept)
        scale = where(n == 0, zeros_like(n), grad / (n if p == 2 else n ** (p - 1)))
        if p == 2:
            return x * scale, None, None, None
        powered = x.abs() ** (p - 1)
        if p < 1:  # |x|^(p-1) is infinite at 0, where the gradient is 0
            powered = where(x == 0, zeros_like(powered), powered)
        return x.sign() * powered * scale, None, None, None


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    return (input != 0).sum(dim)


def _cumulative_forward(op: str, x: Tensor, dim: int) -> Tensor:
    """The running sums (op "cumsum") or products ("cumprod") of x along dim, by the device's
    primitive: floats keep their dtype (accumulated in float64), integers and bools give int64."""
    out = V._new(x._shape, _sum_dtype(x, None), x.device)
    if x.dim() == 0:                      # one element: scan it as a 1-D tensor of one
        x, view = x.reshape(1), out._as_view(0, (1,), (1,))
    else:
        view = out
    getattr(_k(x), op)(x._view(), dim, view._view())
    return out


def _reverse_cumsum(t: Tensor, dim: int) -> Tensor:
    """s_i = t_i + t_i+1 + ... + t_n-1 along dim."""
    return t.flip(dim).cumsum(dim).flip(dim)


class CumSum(Function):
    """y_i = x_0 + ... + x_i along `dim`;  dL/dx_i = dL/dy_i + ... + dL/dy_n-1 (a reversed cumsum)"""
    backward_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return _cumulative_forward("cumsum", x, dim)

    @staticmethod
    def backward(ctx, grad):
        return (_reverse_cumsum(grad, ctx.dim) if grad.dim() else grad), None


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running sums along `dim`."""
    x = input if dtype is None else input.to(V.as_dtype(dtype))
    return CumSum.apply(x, _wrap_dim(dim, x.dim()))


class CumProd(Function):
    """y_i = x_0 * ... * x_i along `dim`;  dL/dx_i = sum over j >= i of dL/dy_j * y_j / x_i,
    which is (reversed cumsum of dL/dy * y) / x_i where no zero comes at or before i.
    A zero breaks that division, so, with z the position of the first zero of a row:
        i < z:  the formula above (x_i is not 0);
        i > z:  0 (every product y_j, j >= i, contains the factor x_z = 0);
        i = z:  (x_0 * ... * x_z-1) * sum over j >= z of dL/dy_j * (x_z+1 * ... * x_j),
                a running product that skips x_z (and everything before it)."""
    backward_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        y = _cumulative_forward("cumprod", x, dim)
        ctx.save_for_backward(x, y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        if x.dim() == 0:                                      # y = x
            return grad, None
        d = ctx.dim
        zeros_so_far = (x == 0).cumsum(d)
        before = zeros_so_far == 0                            # i < z
        at_first_zero = (x == 0) & (zeros_so_far == 1)        # i = z
        one = ones((), dtype=x.dtype, device=x.device)
        x_before = where(before, x, one)
        no_zero_yet = _reverse_cumsum(grad * y, d) / x_before
        prefix = x_before.cumprod(d)                          # x_0 * ... * x_z-1 at z
        suffix = where(before | at_first_zero, one, x).cumprod(d)  # x_z+1 * ... * x_j at j
        at_zero = prefix * _reverse_cumsum(grad * suffix, d)
        g = where(before, no_zero_yet, where(at_first_zero, at_zero, zeros_like(x)))
        return g, None


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along `dim`."""
    x = input if dtype is None else input.to(V.as_dtype(dtype))
    return CumProd.apply(x, _wrap_dim(dim, x.dim()))
