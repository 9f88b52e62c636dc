"""`nn.functional`: the stateless side of `nn` — activations, linear, normalisation, dropout,
embedding, padding, convolution, pooling and the losses, as functions (`import
tinygrad_edu.nn.functional as F`).

Most are a few tensor ops. The ones on every training step's hot path, or that must be
numerically careful, are fused `Function`s with their derivative written out beside the forward
(log_softmax, nll_loss, the binary cross-entropies, layer_norm, batch_norm, embedding, ...): one
backward node instead of a dozen, and a gradient that is exact where the naive chain of ops would
overflow. Their backward nodes carry PyTorch's names (LogSoftmaxBackward0, NllLossBackward0, ...)
so the graphs `viz` draws look like PyTorch's.

This module uses only the public tensor API. What needs more — device kernels, a tensor's
arrays, index Functions applied to indices checked once — lives in `tinygrad_edu.ops` and is
exported from here under the same names: conv1d, conv2d and the pools (ops/conv.py), embedding
and one_hot (ops/embedding.py), and NllLoss with the checks of class-index targets
(ops/losses.py).
"""
from __future__ import annotations

import math
import warnings

import tinygrad_edu as tg
from tinygrad_edu.autograd import Function
# from ops/, exported from here under the same names (see the docstring)
from tinygrad_edu.ops.conv import (adaptive_avg_pool2d, avg_pool2d, conv1d,  # noqa: F401
                                   conv2d, max_pool2d, max_pool2d_with_indices)
from tinygrad_edu.ops.composites import LogSoftmax, Softmax, _softmax_args  # noqa: F401
from tinygrad_edu.ops.embedding import Embedding, embedding, one_hot  # noqa: F401
from tinygrad_edu.ops.losses import (NllLoss, check_class_targets, check_on_its_device,
                                     class_weight_total, scalar_name, usable_targets)
from tinygrad_edu.vector import Tensor


def _check_tensor(x, fn: str, arg: str = "input") -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


# ==================================================================================== activations


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) elementwise (ReluBackward0: the gradient passes where x > 0)."""
    _check_tensor(input, "relu")
    return input.relu_() if inplace else input.relu()


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + e^-x)."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


class _Pointwise(Function):
    """An elementwise activation y = f(x; params) whose derivative is written out by hand.

    Subclasses define `f(x, *params)` and `df(x, y, *params)` = dy/dx; backward multiplies the
    incoming gradient by it (the chain rule, one element at a time).
    """

    @staticmethod
    def f(x: Tensor, *params) -> Tensor:
        raise NotImplementedError

    @staticmethod
    def df(x: Tensor, y: Tensor, *params) -> Tensor:
        raise NotImplementedError

    @staticmethod
    def forward(ctx, x, *params):
        cls = type(ctx)._forward_cls
        y = cls.f(x, *params)
        ctx.save_for_backward(x, y)
        ctx.params = params
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        cls = type(ctx)._forward_cls
        return (grad * cls.df(x, y, *ctx.params),) + (None,) * len(ctx.params)


def _pointwise(fn_cls, input: Tensor, params: tuple, inplace: bool, name: str) -> Tensor:
    """Apply an activation; `inplace=True` also writes the result into `input` (and returns it).

    The in-place form computes from a clone, so the tensor saved for backward is not the one
    being overwritten (PyTorch saves the result instead; the values and gradients agree).
    """
    _check_tensor(input, name)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}(): expected a floating point input, got {input.dtype}")
    if not inplace:
        return fn_cls.apply(input, *params)
    return input.copy_(fn_cls.apply(input.clone(), *params))


class LeakyRelu(_Pointwise):
    """y = x if x > 0 else a x;  dy/dx = 1 if x > 0 else a"""
    backward_name = "LeakyReluBackward0"

    @staticmethod
    def f(x, a):
        return tg.where(x > 0, x, x * a)

    @staticmethod
    def df(x, y, a):
        return tg.where(x > 0, tg.ones_like(x), tg.full_like(x, a))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _pointwise(LeakyRelu, input, (negative_slope,), inplace, "leaky_relu")


class Hardtanh(_Pointwise):
    """y = clamp(x, lo, hi);  dy/dx = 1 strictly inside (lo, hi), else 0"""
    backward_name = "HardtanhBackward0"

    @staticmethod
    def f(x, lo, hi):
        return x.clamp(lo, hi)

    @staticmethod
    def df(x, y, lo, hi):
        return ((x > lo) & (x < hi)).to(x.dtype)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    return _pointwise(Hardtanh, input, (min_val, max_val), inplace, "hardtanh")


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): hardtanh between 0 and 6."""
    return hardtanh(input, 0.0, 6.0, inplace)


class Elu(_Pointwise):
    """y = x if x > 0 else a (e^x - 1);  dy/dx = 1 if x > 0 else a e^x"""
    backward_name = "EluBackward0"

    @staticmethod
    def f(x, a):
        return tg.where(x > 0, x, (x.clamp(max=0).exp() - 1) * a)  # clamp: no e^x overflow

    @staticmethod
    def df(x, y, a):
        return tg.where(x > 0, tg.ones_like(x), x.clamp(max=0).exp() * a)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _pointwise(Elu, input, (alpha,), inplace, "elu")


class Silu(_Pointwise):
    """y = x sigmoid(x) (swish);  dy/dx = s (1 + x (1 - s)) with s = sigmoid(x)"""
    backward_name = "SiluBackward0"

    @staticmethod
    def f(x):
        return x * x.sigmoid()

    @staticmethod
    def df(x, y):
        s = x.sigmoid()
        return s * (1 + x * (1 - s))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _pointwise(Silu, input, (), inplace, "silu")


def _softplus(z: Tensor) -> Tensor:
    """log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|)."""
    return z.clamp(min=0) + (-z.abs()).exp().log1p()


class Softplus(_Pointwise):
    """y = log(1 + e^(b x)) / b, and y = x where b x > threshold (there they agree to float
    precision);  dy/dx = sigmoid(b x), or 1 above the threshold"""
    backward_name = "SoftplusBackward0"

    @staticmethod
    def f(x, beta, threshold):
        bx = x * beta
        return tg.where(bx > threshold, x, _softplus(bx) / beta)

    @staticmethod
    def df(x, y, beta, threshold):
        bx = x * beta
        return tg.where(bx > threshold, tg.ones_like(x), bx.sigmoid())


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return _pointwise(Softplus, input, (beta, threshold), False, "softplus")


class Mish(_Pointwise):
    """y = x tanh(softplus(x));  dy/dx = t + x sigmoid(x) (1 - t^2) with t = tanh(softplus(x))"""
    backward_name = "MishBackward0"

    @staticmethod
    def f(x):
        return x * _softplus(x).tanh()

    @staticmethod
    def df(x, y):
        t = _softplus(x).tanh()
        return t + x * x.sigmoid() * (1 - t * t)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return _pointwise(Mish, input, (), inplace, "mish")


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class Gelu(_Pointwise):
    """approximate='none':  y = x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2 the normal CDF;
        dy/dx = Phi(x) + x phi(x),  phi(x) = e^(-x^2/2) / sqrt(2 pi) the normal density
    approximate='tanh':  y = x (1 + tanh u) / 2,  u = sqrt(2/pi) (x + 0.044715 x^3);
        dy/dx = (1 + tanh u) / 2 + x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2"""
    backward_name = "GeluBackward0"

    @staticmethod
    def f(x, approximate):
        if approximate == "tanh":
            u = (x + 0.044715 * x * x * x) * _SQRT_2_OVER_PI
            return 0.5 * x * (1 + u.tanh())
        return 0.5 * x * (1 + (x * (1 / math.sqrt(2))).erf())

    @staticmethod
    def df(x, y, approximate):
        if approximate == "tanh":
            t = ((x + 0.044715 * x * x * x) * _SQRT_2_OVER_PI).tanh()
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du
        cdf = 0.5 * (1 + (x * (1 / math.sqrt(2))).erf())
        pdf = (-0.5 * x * x).exp() * (1 / math.sqrt(2 * math.pi))
        return cdf + x * pdf


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
    return _pointwise(Gelu, input, (approximate,), False, "gelu")


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """The softmax along `dim`: non-negative, sums to 1 there."""
    return Softmax.apply(*_softmax_args("softmax", input, dim, dtype, _stacklevel))


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x)."""
    x, d = _softmax_args("softmin", input, dim, dtype, _stacklevel)
    return Softmax.apply(-x, d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """log(softmax(x)) along `dim`, computed without ever forming softmax (stable)."""
    return LogSoftmax.apply(*_softmax_args("log_softmax", input, dim, dtype, _stacklevel))


# ========================================================================================= linear


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b, for x of shape (*, in_features) and W of shape (out_features, in_features).

    A 2-D input with a bias is one `addmm` (AddmmBackward0, as in PyTorch); other shapes are folded
    to 2-D first, so the whole batch is still one matrix product.
    """
    _check_tensor(input, "linear")
    _check_tensor(weight, "linear", "weight")
    if input.dim() == 2:
        return tg.addmm(bias, input, weight.t()) if bias is not None else input.matmul(weight.t())
    if input.dim() == 0:
        raise RuntimeError("linear(): the input must have at least 1 dimension, got a 0-d tensor")
    rows = input.reshape(-1, input.shape[-1])
    out = tg.addmm(bias, rows, weight.t()) if bias is not None else rows.matmul(weight.t())
    return out.reshape(tuple(input.shape[:-1]) + (weight.shape[0],))


# ======================================================================================== dropout


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: in training, zero each element with probability p and scale the others
    by 1/(1-p), so the expected value is unchanged and evaluation needs no rescaling."""
    _check_tensor(input, "dropout")
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        mask = tg.zeros_like(input)
    else:
        mask = tg.empty(input.shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
        mask.div_(1 - p)
    return input.mul_(mask) if inplace else input * mask


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Channel dropout: in training, zero each whole channel (dim 1) of every sample with
    probability p and scale the others by 1/(1-p); mask of shape (N, C, 1, 1) broadcast over
    the pixels. As PyTorch (with its warnings), a 3-D input is taken as (N, C, L)."""
    _check_tensor(input, "dropout2d")
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.dim() not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. Note "
                      "that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.dim() == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape (C, H, "
                      "W). To maintain the 1D channel-wise dropout behavior, please switch to "
                      "using dropout1d instead.", UserWarning, stacklevel=2)
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if not training or p == 0.0:
        return input
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
    if p == 1.0:
        mask = tg.zeros(mask_shape, dtype=input.dtype, device=input.device)
    else:
        mask = tg.empty(mask_shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
        mask.div_(1 - p)
    return input.mul_(mask) if inplace else input * mask


# ====================================================================================== embedding
# embedding and one_hot (and the Embedding Function): in ops/embedding.py, imported above.


# ================================================================================== normalisation


class NativeLayerNorm(Function):
    """Over the last k dims (n elements):  mu = mean x,  var = mean (x - mu)^2 (biased),
    xhat = (x - mu) / sqrt(var + eps),  y = xhat * w + b.
    Backward, with gx = g * w and means over the same n elements:
        dL/dx = (gx - mean(gx) - xhat * mean(gx * xhat)) / sqrt(var + eps)
        dL/dw = sum over the other dims of g * xhat,  dL/db = sum over them of g"""
    backward_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        dims = tuple(range(x.dim() - k, x.dim()))
        mu = x.mean(dims, keepdim=True)
        centered = x - mu
        rstd = ((centered * centered).mean(dims, keepdim=True) + eps).rsqrt()
        xhat = centered * rstd
        y = xhat if weight is None else xhat * weight
        y = y if bias is None else y + bias
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.dims, ctx.batch_dims = dims, tuple(range(x.dim() - k))
        return y

    @staticmethod
    def backward(ctx, grad):
        xhat, rstd, weight = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = grad if weight is None else grad * weight
        dx = dw = db = None
        if need[0]:
            dx = (gx - gx.mean(ctx.dims, keepdim=True)
                  - xhat * (gx * xhat).mean(ctx.dims, keepdim=True)) * rstd
        if need[1]:
            dw = (grad * xhat).sum(ctx.batch_dims) if ctx.batch_dims else grad * xhat
        if need[2]:
            db = grad.sum(ctx.batch_dims) if ctx.batch_dims else grad
        return dx, dw, db, None, None


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing `normalized_shape` dims to mean 0, variance 1, then scale by
    `weight` and shift by `bias` (elementwise, of shape normalized_shape)."""
    _check_tensor(input, "layer_norm")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(input.shape[input.dim() - k:]) != shape or input.dim() < k:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(shape)}")
    return NativeLayerNorm.apply(input, weight, bias, k, eps)


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    """A (C,) tensor shaped (1, C, 1, ...) to broadcast against an (N, C, ...) input."""
    return t.reshape((1, -1) + (1,) * (ndim - 2))


class NativeBatchNorm(Function):
    """Per channel c, over the batch and any spatial dims (n elements each):
    training:  mu = mean x,  var = mean (x - mu)^2 (biased: the batch is all there is), and the
               running stats move towards the batch's: r <- (1 - m) r + m * stat, with the
               *unbiased* variance var * n / (n - 1) for running_var;
    eval:      mu, var = running_mean, running_var (constants).
    xhat = (x - mu) / sqrt(var + eps),  y = xhat * w + b.
    Backward, with gx = g * w:
    training:  dL/dx = (gx - mean(gx) - xhat * mean(gx * xhat)) / sqrt(var + eps)
    eval:      dL/dx = gx / sqrt(var + eps)
    dL/dw = sum g * xhat,  dL/db = sum g  (over everything but the channel dim)"""
    backward_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, running, training, momentum, eps):
        running_mean, running_var = running
        dims = (0,) + tuple(range(2, x.dim()))
        nd = x.dim()
        if training:
            mu = x.mean(dims, keepdim=True)
            centered = x - mu
            var = (centered * centered).mean(dims, keepdim=True)
            if running_mean is not None:
                n = x.numel() // x.shape[1]
                running_mean.mul_(1 - momentum).add_(mu.reshape(-1) * momentum)
                running_var.mul_(1 - momentum).add_(var.reshape(-1) * (momentum * n / (n - 1)))
        else:
            centered = x - _per_channel(running_mean, nd)
            var = _per_channel(running_var, nd)
        rstd = (var + eps).rsqrt()
        xhat = centered * rstd
        y = xhat if weight is None else xhat * _per_channel(weight, nd)
        y = y if bias is None else y + _per_channel(bias, nd)
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.dims, ctx.training = dims, training
        return y

    @staticmethod
    def backward(ctx, grad):
        xhat, rstd, weight = ctx.saved_tensors
        need, dims = ctx.needs_input_grad, ctx.dims
        gx = grad if weight is None else grad * _per_channel(weight, grad.dim())
        dx = dw = db = None
        if need[0]:
            if ctx.training:
                dx = (gx - gx.mean(dims, keepdim=True)
                      - xhat * (gx * xhat).mean(dims, keepdim=True)) * rstd
            else:
                dx = gx * rstd
        if need[1]:
            dw = (grad * xhat).sum(dims)
        if need[2]:
            db = grad.sum(dims)
        return dx, dw, db, None, None, None, None


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) of an (N, C, ...) input; see NativeBatchNorm for the math.

    In training the batch's statistics are used and `running_mean`/`running_var` (if given) are
    updated in place; otherwise the running statistics are used.
    """
    _check_tensor(input, "batch_norm")
    if input.dim() < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, ...), got "
                         f"{list(input.shape)}")
    c = input.shape[1]
    if training:
        per_channel = input.numel() // c if c else 0
        if per_channel == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {input.size()}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be given when not "
                           "training")
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if (running_mean is None) != (running_var is None):
        raise RuntimeError("batch_norm: give both running_mean and running_var, or neither")
    # The running stats travel in a tuple: they are state to update, not inputs to differentiate.
    return NativeBatchNorm.apply(input, weight, bias, (running_mean, running_var), training,
                                 momentum, eps)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """x / max(||x||_p, eps) along `dim`: unit-length vectors (eps avoids dividing by zero)."""
    if out is not None:
        raise NotImplementedError("normalize(out=...) is not supported by tinygrad_edu")
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps)
    return input / denom.expand_as(input)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 * x2) / (max(||x1||, eps) max(||x2||, eps)) along `dim` (after broadcasting)."""
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dim."""
    return (x1 - x2 + eps).norm(p, -1, keepdim=keepdim)


# ======================================================================================== padding


class ConstantPadNd(Function):
    """y = x surrounded by `value` (a negative pad crops instead);  dL/dx = the part of g that
    lies over x (zero where x was cropped away)"""
    backward_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pad, value):
        new_shape, src, dst = _pad_regions(tuple(x.shape), pad)
        out = tg.full(new_shape, value, dtype=x.dtype, device=x.device)
        out[dst] = x[src]
        ctx.shape, ctx.src, ctx.dst = tuple(x.shape), src, dst
        return out

    @staticmethod
    def backward(ctx, grad):
        g = tg.zeros(ctx.shape, dtype=grad.dtype, device=grad.device)
        g[ctx.src] = grad[ctx.dst]
        return g, None, None


def _pad_regions(shape: tuple, pad: tuple):
    """For constant padding: the new shape, and the slices of input (src) and output (dst)
    that hold the same elements. pad = (left of last dim, right of last dim, left of the one
    before, ...)."""
    new_shape, src, dst = list(shape), [slice(None)] * len(shape), [slice(None)] * len(shape)
    for i in range(len(pad) // 2):
        d = len(shape) - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        size = shape[d] + left + right
        if size < 0:
            raise RuntimeError(f"The input size {shape[d]}, plus negative padding {left} and "
                               f"{right} resulted in a negative output size, which is invalid. "
                               f"Check dimension {d} of your input.")
        new_shape[d] = size
        lo, hi = max(-left, 0), shape[d] - max(-right, 0)  # what of x survives a negative pad
        n = max(hi - lo, 0)
        src[d] = slice(lo, lo + n)
        dst[d] = slice(max(left, 0), max(left, 0) + n)
    return tuple(new_shape), tuple(src), tuple(dst)


def _pad_index(n: int, left: int, right: int, mode: str) -> list:
    """For position j in [-left, n + right): the input position a non-constant pad copies."""
    out = []
    for j in range(-left, n + right):
        if mode == "reflect":  # mirror without repeating the edge: [2 1 | 0 1 2 | 1 0]
            i = -j if j < 0 else j
            out.append(2 * (n - 1) - i if i >= n else i)
        elif mode == "replicate":  # repeat the edge: [0 0 | 0 1 2 | 2 2]
            out.append(min(max(j, 0), n - 1))
        else:  # circular: wrap around: [1 2 | 0 1 2 | 0 1]
            out.append(j % n)
    return out


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 dims: pad = (left, right) for the last dim, then (top, bottom)
    for the one before, and so on. mode "constant" (with `value`, default 0), "reflect",
    "replicate" or "circular"."""
    _check_tensor(input, "pad")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.dim()}")
    if mode == "constant":
        return ConstantPadNd.apply(input, pad, 0.0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    out = input
    for i in range(len(pad) // 2):
        d = input.dim() - 1 - i
        left, right = pad[2 * i], pad[2 * i + 1]
        n = input.shape[d]
        limit = n - 1 if mode == "reflect" else n
        if max(left, right) > limit or min(left, right) < 0 or n == 0:
            relation = "less than" if mode == "reflect" else "less than or equal to"
            raise RuntimeError(f"Padding size should be {relation} the corresponding input "
                               f"dimension, but got: padding ({left}, {right}) at dimension {d} "
                               f"of input {list(input.shape)}")
        index = tg.tensor(_pad_index(n, left, right, mode), dtype=tg.int64, device=input.device)
        out = out.index_select(d, index)
    return out


# ========================================================================================= losses

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(reduction: str, size_average=None, reduce=None) -> str:
    """Validate `reduction` (and turn the deprecated size_average/reduce pair into one)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _grad_scale(grad: Tensor, reduction: str, n: int) -> Tensor:
    """How the gradient of the reduced loss reaches each element: 'none' keeps grad's own
    element, 'sum' broadcasts the scalar, 'mean' broadcasts it divided by n."""
    if reduction == "mean":
        return grad / n
    return grad


def _check_same_size_warning(input: Tensor, target: Tensor, stacklevel: int = 3) -> None:
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size "
                      f"({input.size()}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=stacklevel)


def _broadcast_pair(input: Tensor, target: Tensor):
    shape = tg.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    return (input if tuple(input.shape) == shape else input.expand(shape),
            target if tuple(target.shape) == shape else target.expand(shape))


class MseLoss(Function):
    """l = (x - y)^2, reduced;  dl/dx = 2 (x - y),  dl/dy = -2 (x - y)"""
    backward_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx, x, y, reduction):
        diff = x - y
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, grad):
        diff, = ctx.saved_tensors
        g = 2 * diff * _grad_scale(grad, ctx.reduction, diff.numel())
        # (0 - g, not -g: the target's gradient is 0, not -0, where x = y, as in PyTorch)
        return g if ctx.needs_input_grad[0] else None, 0 - g if ctx.needs_input_grad[1] else None, \
            None


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean") -> Tensor:
    """The mean (or sum, or each) of the squared differences (x - y)^2."""
    _check_tensor(input, "mse_loss")
    _check_tensor(target, "mse_loss", "target")
    reduction = _reduction(reduction, size_average, reduce)
    _check_same_size_warning(input, target)
    return MseLoss.apply(*_broadcast_pair(input, target), reduction)


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean") -> Tensor:
    """The mean (or sum, or each) of |x - y| (its gradient is sign(x - y), 0 at a tie)."""
    _check_tensor(input, "l1_loss")
    _check_tensor(target, "l1_loss", "target")
    reduction = _reduction(reduction, size_average, reduce)
    _check_same_size_warning(input, target)
    return _reduce((input - target).abs(), reduction)


class SmoothL1Loss(Function):
    """l = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta  (d = x - y: quadratic near 0,
    linear far away);  dl/dx = d / beta if |d| < beta else sign(d),  dl/dy = -dl/dx"""
    backward_name = "SmoothL1LossBackward0"

    @staticmethod
    def forward(ctx, x, y, reduction, beta):
        d = x - y
        small = d.abs() < beta
        loss = tg.where(small, 0.5 * d * d / beta, d.abs() - 0.5 * beta)
        ctx.save_for_backward(d, small)
        ctx.reduction, ctx.beta = reduction, beta
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        d, small = ctx.saved_tensors
        g = tg.where(small, d / ctx.beta, d.sign()) * _grad_scale(grad, ctx.reduction, d.numel())
        # (0 - g, not -g: the target's gradient is 0, not -0, where x = y, as in PyTorch)
        return g if ctx.needs_input_grad[0] else None, 0 - g if ctx.needs_input_grad[1] else None, \
            None, None


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Huber-like loss: squared error below `beta`, absolute error above (beta=0 is l1_loss)."""
    _check_tensor(input, "smooth_l1_loss")
    _check_tensor(target, "smooth_l1_loss", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_same_size_warning(input, target)
    if beta == 0.0:
        return _reduce((input - target).abs(), reduction)
    return SmoothL1Loss.apply(*_broadcast_pair(input, target), reduction, beta)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """delta * smooth_l1_loss(beta=delta): 0.5 d^2 below delta, delta (|d| - 0.5 delta) above."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return smooth_l1_loss(input, target, reduction=reduction, beta=delta) * delta


_LOG_FLOOR = -100.0  # PyTorch clamps log(p) at -100 so that p = 0 gives a finite loss


class BinaryCrossEntropy(Function):
    """l = -w [y log x + (1 - y) log(1 - x)]  (each log clamped to >= -100);
    dl/dx = w (x - y) / max(x (1 - x), 1e-12),  dl/dy = w [log(1 - x) - log x] (clamped logs)"""
    backward_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        log_x, log_1mx = x.log().clamp(min=_LOG_FLOOR), (1 - x).log().clamp(min=_LOG_FLOOR)
        loss = (y - 1) * log_1mx - y * log_x  # (ordered as PyTorch's: 0, not -0, at x = y = 0)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight)
        ctx.reduction = reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight = ctx.saved_tensors
        g = _grad_scale(grad, ctx.reduction, x.numel())
        if weight is not None:
            g = g * weight
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - y) / (x * (1 - x)).clamp(min=1e-12)
        if ctx.needs_input_grad[1]:
            gy = g * ((1 - x).log().clamp(min=_LOG_FLOOR) - x.log().clamp(min=_LOG_FLOOR))
        return gx, gy, None, None


def _class_weight_not_differentiable(fn: str, **tensors) -> None:
    for name, t in tensors.items():
        if t is not None and t.requires_grad and tg.is_grad_enabled():
            raise RuntimeError(f"{fn}: the derivative for '{name}' is not implemented.")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """-[y log x + (1 - y) log(1 - x)] for probabilities x in [0, 1] and targets y."""
    _check_tensor(input, "binary_cross_entropy")
    _check_tensor(target, "binary_cross_entropy", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input "
                         f"size ({input.size()}) is deprecated. Please ensure they have the same "
                         "size.")
    if not input.dtype.is_floating_point or target.dtype is not input.dtype:
        raise RuntimeError(f"binary_cross_entropy: the input ({input.dtype}) and the target "
                           f"({target.dtype}) must have one floating-point dtype; convert the "
                           "target with .to(input.dtype) (class indices need cross_entropy)")
    if input.numel():
        check_on_its_device(((input >= 0) & (input <= 1)).all(), _raise_not_probabilities)
        check_on_its_device(((target >= 0) & (target <= 1)).all(),
                            _raise_target_not_probabilities)
    _class_weight_not_differentiable("binary_cross_entropy", weight=weight)
    if weight is not None:
        weight = weight.expand(tg.broadcast_shapes(tuple(weight.shape), tuple(input.shape)))
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


class BinaryCrossEntropyWithLogits(Function):
    """BCE on logits x (p = sigmoid x), with pos_weight p_w (1 if not given) weighting the
    positive term:  l = w [(1 - y) x + lw * softplus(-x)],  lw = 1 + (p_w - 1) y,
    where softplus(-x) = log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|) never overflows
    (x = +-1000 is fine);
    dl/dx = w [(1 - y) - lw sigmoid(-x)],  dl/dy = w [-x + (p_w - 1) softplus(-x)]"""
    backward_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight, reduction):
        sp = _softplus(-x)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        loss = (1 - y) * x + lw * sp
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y, weight, pos_weight)
        ctx.reduction = reduction
        return _reduce(loss, reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, pos_weight = ctx.saved_tensors
        g = _grad_scale(grad, ctx.reduction, x.numel())
        if weight is not None:
            g = g * weight
        gx = gy = None
        if ctx.needs_input_grad[0]:
            lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
            gx = g * ((1 - y) - lw * (-x).sigmoid())
        if ctx.needs_input_grad[1]:
            d = -x if pos_weight is None else -x + (pos_weight - 1) * _softplus(-x)
            gy = g * d
        return gx, gy, None, None, None


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(x), y) computed from the logits x, stably."""
    _check_tensor(input, "binary_cross_entropy_with_logits")
    _check_tensor(target, "binary_cross_entropy_with_logits", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.size()}) must be the same as input size "
                         f"({input.size()})")
    _class_weight_not_differentiable("binary_cross_entropy_with_logits", weight=weight,
                                     pos_weight=pos_weight)
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"binary_cross_entropy_with_logits: the target must be a float tensor "
                           f"of 0/1 labels or probabilities, got {target.dtype}; convert it with "
                           ".float()")
    shape = tuple(input.shape)
    if weight is not None:
        weight = weight.expand(tg.broadcast_shapes(tuple(weight.shape), shape))
    if pos_weight is not None:
        pos_weight = pos_weight.expand(tg.broadcast_shapes(tuple(pos_weight.shape), shape))
    # the loss comes out in the target's dtype, as in PyTorch (the cast passes the gradient on)
    return BinaryCrossEntropyWithLogits.apply(input.to(target.dtype), target, weight, pos_weight,
                                              reduction)


# The class-index loss NllLoss, its target checks and the check that runs on the data's
# device (check_on_its_device): in ops/losses.py, imported above.


def _raise_not_probabilities() -> None:
    raise RuntimeError("all elements of input should be between 0 and 1")


def _raise_target_not_probabilities() -> None:
    raise RuntimeError("all elements of target should be between 0 and 1")


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of the target classes, given log-probabilities `input` of
    shape (N, C), (C,) or (N, C, d1, ...) and class indices `target` of shape (N,), () or
    (N, d1, ...)."""
    _check_tensor(input, "nll_loss")
    _check_tensor(target, "nll_loss", "target")
    reduction = _reduction(reduction, size_average, reduce)
    _, maybe_ignored = check_class_targets("nll_loss", input, target, weight, ignore_index)
    _class_weight_not_differentiable("nll_loss", weight=weight)
    return NllLoss.apply(input, target.long(), weight, reduction, ignore_index, maybe_ignored)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """nll_loss(log_softmax(input, class dim), target) — for raw scores (logits).

    `target` holds class indices (shape of input without the class dim), or class
    probabilities (same shape as input, floating point). With label_smoothing e, the target
    becomes (1 - e) * target + e / C (a little probability on every class).
    """
    _check_tensor(input, "cross_entropy")
    _check_tensor(target, "cross_entropy", "target")
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    class_dim = 0 if input.dim() == 1 else 1
    if target.shape == input.shape:
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction,
                                    label_smoothing, class_dim)
    if target.dtype.is_floating_point and target.dim() == input.dim():
        index_shape = list(input.shape[:class_dim]) + list(input.shape[class_dim + 1:])
        raise RuntimeError(f"cross_entropy: class-probability targets must have the input's "
                           f"shape {list(input.shape)}, got {list(target.shape)} (class-index "
                           f"targets are integers of shape {index_shape})")
    c, maybe_ignored = check_class_targets("cross_entropy", input, target, weight,
                                           ignore_index)
    _class_weight_not_differentiable("cross_entropy", weight=weight)
    logp = log_softmax(input, class_dim)
    target = target.long()
    nll = NllLoss.apply(logp, target, weight, reduction, ignore_index, maybe_ignored)
    if label_smoothing == 0.0:
        return nll
    # The smoothing term: the loss against the uniform distribution, -sum_c w_c logp_c / C.
    if weight is not None:
        smooth = -(logp * _per_channel(weight, logp.dim()) if logp.dim() >= 2
                   else logp * weight).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    keep = usable_targets(target, c, ignore_index)
    smooth = smooth * keep.to(smooth.dtype)
    if reduction == "mean":
        if weight is not None:
            denom = class_weight_total(weight, target, keep)
        else:
            denom = keep.sum()
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / c)


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing,
                         class_dim):
    """Cross-entropy against class probabilities: l = -sum_c w_c y_c log softmax(x)_c; 'mean'
    divides by the number of predictions (not by the weights)."""
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {scalar_name(target)}")
    if ignore_index != -100:
        raise RuntimeError("ignore_index is not supported for floating point target")
    c = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != c):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / c
    terms = logp * target
    if weight is not None:
        terms = terms * (_per_channel(weight, logp.dim()) if logp.dim() >= 2 else weight)
    loss = -terms.sum(class_dim)
    if reduction == "mean":
        return loss.sum() / (input.numel() // c) if input.numel() else loss.sum() / 0.0
    return loss.sum() if reduction == "sum" else loss


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """sum y (log y - x) for log-probabilities x and probabilities y (or log y if log_target);
    'batchmean' divides the sum by the batch size (the mathematically right mean)."""
    if reduction == "batchmean":
        loss = _kl_terms(input, target, log_target)
        return loss.sum() / (input.shape[0] if input.dim() else 1)
    reduction = _reduction(reduction, size_average, reduce)
    return _reduce(_kl_terms(input, target, log_target), reduction)


def _kl_terms(input: Tensor, target: Tensor, log_target: bool) -> Tensor:
    if log_target:
        return target.exp() * (target - input)
    # y log y is 0 at y = 0 (the limit), not 0 * -inf = nan
    ylogy = tg.where(target > 0, target * tg.where(target > 0, target, 1.0).log(), 0.0)
    return ylogy - target * input
