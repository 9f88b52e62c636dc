"""Convolution and pooling: the Functions `Convolution`, `MaxPool2DWithIndices`, `AvgPool2D`,
`AdaptiveAvgPool2D` and their functional forms `conv1d`, `conv2d`, `max_pool2d`,
`max_pool2d_with_indices`, `avg_pool2d`, `adaptive_avg_pool2d` (which `nn.functional` exports;
the layers `nn.Conv2d`, `nn.MaxPool2d`, ... call them).

Convolution
-----------
A 2-D convolution slides O small filters over the image. Filter o has shape (C/groups, kh, kw);
with stride (sh, sw), padding (pt, pl) (top, left) and dilation (dh, dw), output pixel (oh, ow)
of image n is

    y[n, o, oh, ow] = b[o] + sum over c, i, j of
                      w[o, c, i, j] * x[n, g*Cg + c, oh*sh - pt + i*dh, ow*sw - pl + j*dw]

where g = o // (O/groups) is o's group, Cg = C/groups its channels, and x is 0 outside the image
(zero padding). Each output is a dot product of a filter with one patch of the input, so the
whole layer is one matrix product once every patch is laid out as a column (`im2col`):

    cols[n] = the patches of image n         (C*kh*kw, OH*OW)
    y[n]    = W @ cols[n] + b                W reshaped to (O, C*kh*kw)

and the derivatives are matrix products too, g = dL/dy reshaped to (N, O, OH*OW):

    dL/dW = sum over n of g[n] @ cols[n]^T   dL/db = sum of g over n and the pixels
    dL/dx = col2im(W^T @ g[n])               col2im adds each patch entry back where im2col
                                             copied it from (the adjoint of im2col)

With groups > 1 the same happens per group, on its slice of channels and filters. conv1d is the
same computation on images of height 1.

Pooling
-------
A pooling layer summarises each window of every channel by one number: its maximum or its
mean. Window (oh, ow) of a k x k pool with stride s, padding p and dilation d covers the input
rows oh*s - p + i*d, i = 0..k-1 (likewise the columns); padded positions never win a max and,
for the mean, count in the divisor only if count_include_pad. The derivatives:

    max:  dL/dx[h, w] = sum of dL/dy[oh, ow] over the windows whose maximum is x[h, w]
    mean: dL/dx[h, w] = sum of dL/dy[oh, ow] / divisor[oh, ow] over the windows holding (h, w)

so the max pool remembers where each maximum was (its `indices`, h*W + w in the plane, which
`return_indices=True` hands out as PyTorch does).

Here every window is worked out once in Python, as a small table per axis: rows[oh] = (first
row, stop) clipped to the input (for the mean, with the row's factor of the divisor), and
likewise cols[ow]. The device kernels then just loop over the tables, so ceil_mode, padding,
count_include_pad, divisor_override and the adaptive pool's uneven windows are all only
different tables.

The kernels (im2col, col2im, max_pool2d, avg_pool2d and their backwards; the GEMM is `matmul`)
are primitives of the device (docs/primitives.md); every argument is checked here first, with
PyTorch's messages.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.autograd.grad_mode import is_grad_enabled
from tinygrad_edu.vector import Tensor

__all__ = ["conv1d", "conv2d", "max_pool2d", "max_pool2d_with_indices", "avg_pool2d",
           "adaptive_avg_pool2d", "same_padding", "pool_output_size", "max_windows",
           "avg_windows", "adaptive_windows", "Convolution", "MaxPool2DWithIndices", "AvgPool2D",
           "AdaptiveAvgPool2D"]


# --------------------------------------------------------------------- convolution: arguments


def _tuple(value, n: int, what: str, fn: str) -> tuple:
    """An int, or a sequence of n ints, as an n-tuple (PyTorch's message otherwise)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, (tuple, list)) and all(isinstance(v, int) and not isinstance(v, bool)
                                                for v in value):
        if len(value) == 1:
            return tuple(value) * n
        if len(value) == n:
            return tuple(value)
        raise RuntimeError(f"expected {what} to be a single integer value or a list of {n} "
                           f"values to match the convolution dimensions, but got "
                           f"{what}={list(value)}")
    raise TypeError(f"{fn}(): argument '{what}' must be an int or a tuple of {n} ints, not "
                    f"{value!r}")


_C_TYPE = {"float32": "float", "float64": "double"}  # the C names PyTorch's messages use


def _sizes(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _by(values) -> str:
    """(2 x 2) as PyTorch prints per-channel sizes; a 1-D size prints as (2)."""
    return "(" + " x ".join(str(v) for v in values) + ")"


class ConvGeometry(NamedTuple):
    """Everything but the tensors, for two spatial dims (conv1d uses height 1): padding is
    (top, left); the bottom and right padding follow from out_size ("same" pads one more
    there when the kernel's extent is even)."""
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int
    out_size: tuple


def same_padding(kernel: tuple, dilation: tuple) -> tuple:
    """(before, after) padding per dim that keeps the size at stride 1: the kernel's extent
    d*(k-1) is split as evenly as possible, the extra one going after (as PyTorch)."""
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                 for k, d in zip(kernel, dilation))


def _conv_geometry(fn: str, dims: int, input: Tensor, weight: Tensor, bias, stride, padding,
                   dilation, groups) -> ConvGeometry:
    """Check the arguments of conv1d (dims=1) / conv2d (dims=2), with PyTorch's messages, and
    work out the output size. `input` is already batched."""
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if weight.dim() != dims + 2:
        raise RuntimeError(f"Expected {dims + 2}-dimensional weight for {dims + 2}-dimensional "
                           f"input {_sizes(input.shape)}, but got {weight.dim()}-dimensional "
                           f"weight of size {_sizes(weight.shape)} instead")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{fn}(): tinygrad_edu convolves float32 and float64 tensors only, "
                           f"got input of dtype {input.dtype}")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({input.type()}) and weight type ({weight.type()}) "
                           "should be the same")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({_C_TYPE[input.dtype.name]}) and bias type "
                           f"({_C_TYPE.get(bias.dtype.name, bias.dtype.name)}) should be the same")
    _same_device_or_raise(input, weight, bias)
    stride = _tuple(stride, dims, "stride", fn)
    dilation = _tuple(dilation, dims, "dilation", fn)
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if padding == "same" and any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
    else:
        padding = _tuple(padding, dims, "padding", fn)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if not isinstance(padding, str) and any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    out_channels = weight.shape[0]
    if out_channels == 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {_sizes(weight.shape)} instead")
    if out_channels % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{_sizes(weight.shape)}] "
                           "instead")
    if input.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_sizes(weight.shape)}, "
                           f"expected input{_sizes(input.shape)} to have "
                           f"{weight.shape[1] * groups} channels, but got {input.shape[1]} "
                           "channels instead")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {_sizes(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_channels} elements, but got bias of size "
                           f"{_sizes(bias.shape)} instead")
    spatial, kernel = tuple(input.shape[2:]), tuple(weight.shape[2:])
    if padding == "valid":
        padding = (0,) * dims
    if padding == "same":
        pads = same_padding(kernel, dilation)
    else:
        pads = tuple((p, p) for p in padding)
    padded = tuple(n + before + after for n, (before, after) in zip(spatial, pads))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < e for p, e in zip(padded, extent)):
        raise RuntimeError(f"Calculated padded input size per channel: {_by(padded)}. Kernel "
                           f"size: {_by(extent)}. Kernel size can't be greater than actual "
                           "input size")
    if min(kernel) <= 0:
        height, width = ((1,) + kernel)[-2:]
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{height} kernel_width: {width}")
    out_size = tuple((p - e) // s + 1 for p, e, s in zip(padded, extent, stride))
    if dims == 1:  # a row of height 1: nothing above or below it
        return ConvGeometry((1,) + stride, (0, pads[0][0]), (1,) + dilation, groups,
                            (1,) + out_size)
    return ConvGeometry(stride, (pads[0][0], pads[1][0]), dilation, groups, out_size)


def _same_device_or_raise(*tensors) -> None:
    devices = {t.device for t in tensors if t is not None}
    if len(devices) > 1:
        a, b = sorted(str(d) for d in devices)[:2]
        raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                           f"two devices, {a} and {b}!")


def _conv_primitives(t: Tensor):
    """The device's kernels module, if it has the convolution primitives."""
    k = t._storage._kernels
    if not hasattr(k, "im2col"):
        raise NotImplementedError(f"convolution and pooling are not implemented for device "
                                  f"'{t.device}' by tinygrad_edu yet; move the tensors to the "
                                  "CPU first")
    return k


# ------------------------------------------------------------------ convolution: the Function


def _array(t: Tensor, shape: tuple, offset: int = 0, strides: tuple | None = None):
    """The device array of elements of contiguous tensor `t` seen with `shape` (a view)."""
    strides = V.contiguous_strides(shape) if strides is None else strides
    return t._storage._kernels.as_strided(t._storage._data, t._offset + offset, shape, strides)


def _as_4d(t: Tensor) -> Tensor:
    """An (N, C, L) tensor (conv1d) seen as (N, C, 1, L); 4-D tensors unchanged. No copy."""
    if t.dim() == 4:
        return t
    n, c, length = t._shape
    sn, sc, sl = t._strides
    return t._as_view(t._offset, (n, c, 1, length), (sn, sc, length * sl, sl))


def _no_double_backward(fn: str) -> None:
    if is_grad_enabled():
        raise NotImplementedError(f"{fn}: differentiating the gradient again (create_graph=True) "
                                  "is not supported by tinygrad_edu's convolution and pooling")


class Convolution(Function):
    """y = conv(x, W) + b, computed as im2col + GEMM; see the module docstring for the math.

        forward    cols[n] = im2col(x[n])           y[n, group] = W[group] @ cols[n, group] + b
        backward   dW[group] = sum_n g[n, group] @ cols[n, group]^T     db = sum_{n, pixels} g
                   dcols[n, group] = W[group]^T @ g[n, group]           dx = col2im(dcols)

    Inputs are (N, C, H, W) with (O, C/groups, kh, kw) weights, or (N, C, L) with (O, C/groups,
    k) weights for conv1d (seen as height 1). `geo` is a checked ConvGeometry.
    """
    backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, geo):
        k = _conv_primitives(x)
        x4, w4 = _as_4d(x), _as_4d(weight.contiguous())
        n, c, _, _ = x4._shape
        o, cg, kh, kw = w4._shape
        oh, ow = geo.out_size
        groups, pixels, patch = geo.groups, oh * ow, cg * kh * kw
        og = o // groups
        cols = V._new((n, c * kh * kw, pixels), x.dtype, x.device)
        k.im2col(x4._view(), (kh, kw), geo.stride, geo.padding, geo.dilation, cols._view(),
                 (oh, ow))
        out_shape = (n, o, oh, ow) if x.dim() == 4 else (n, o, ow)
        out = V._new(out_shape, x.dtype, x.device)
        for g in range(groups if n else 0):  # (an empty batch has nothing to compute)
            w_g = _array(w4, (n, og, patch), g * og * patch, (0, patch, 1))  # same W for all n
            cols_g = _array(cols, (n, patch, pixels), g * patch * pixels,
                            (c * kh * kw * pixels, pixels, 1))
            out_g = _array(out, (n, og, pixels), g * og * pixels, (o * pixels, pixels, 1))
            k.matmul(w_g, cols_g, out_g)
        if bias is not None and n:
            y = _array(out, (n, o, pixels))
            b = _array(bias.contiguous(), (n, o, pixels), 0, (0, 1, 0))
            k.binary("add", y, b, y)
        need = ctx.needs_input_grad
        ctx.save_for_backward(weight if need[0] else None, cols if need[1] else None)
        ctx.geo, ctx.shapes = geo, (x._shape, weight._shape, x4._shape, w4._shape)
        return out

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("conv")
        weight, cols = ctx.saved_tensors
        need = ctx.needs_input_grad
        k = _conv_primitives(grad)
        geo = ctx.geo
        x_shape, w_shape, (n, c, height, width), (o, cg, kh, kw) = ctx.shapes
        oh, ow = geo.out_size
        groups, pixels, patch = geo.groups, oh * ow, cg * kh * kw
        og = o // groups
        grad = grad.contiguous()
        dx = dw = db = None
        if n == 0:  # an empty batch: every gradient is zero
            return (V.zeros(x_shape, dtype=grad.dtype, device=grad.device) if need[0] else None,
                    V.zeros(w_shape, dtype=grad.dtype, device=grad.device) if need[1] else None,
                    V.zeros((o,), dtype=grad.dtype, device=grad.device) if need[2] else None, None)
        if need[0]:
            w = _as_4d(weight.contiguous())
            dcols = V._new((n, c * kh * kw, pixels), grad.dtype, grad.device)
            for g in range(groups):
                w_t = _array(w, (n, patch, og), g * og * patch, (0, 1, patch))  # W[group]^T
                g_g = _array(grad, (n, og, pixels), g * og * pixels, (o * pixels, pixels, 1))
                dcols_g = _array(dcols, (n, patch, pixels), g * patch * pixels,
                                 (c * kh * kw * pixels, pixels, 1))
                k.matmul(w_t, g_g, dcols_g)
            dx = V._new(x_shape, grad.dtype, grad.device)
            k.col2im(dcols._view(), (kh, kw), geo.stride, geo.padding, geo.dilation,
                     _array(dx, (n, c, height, width)), (oh, ow))
        if need[1]:
            dw = V._new(w_shape, grad.dtype, grad.device)
            per_image = V._new((n, og, patch), grad.dtype, grad.device)
            for g in range(groups):
                g_g = _array(grad, (n, og, pixels), g * og * pixels, (o * pixels, pixels, 1))
                cols_t = _array(cols, (n, pixels, patch), g * patch * pixels,
                                (c * kh * kw * pixels, 1, pixels))             # cols^T
                k.matmul(g_g, cols_t, per_image._view())
                k.reduce("sum", per_image._view(), (0,),
                         _array(dw, (1, og, patch), g * og * patch))
        if need[2]:
            db = V._new((o,), grad.dtype, grad.device)
            k.reduce("sum", _array(grad, (n, o, pixels)), (0, 2), _array(db, (1, o, 1)))
        return dx, dw, db, None


# -------------------------------------------------------------- convolution: functional forms


def _conv(fn: str, dims: int, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    """conv1d/conv2d: batch an unbatched input, check everything, apply Convolution."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dim() not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                           f"{fn}, but got input of size: {_sizes(input.shape)}")
    batched = input.dim() == dims + 2
    x = input if batched else input.unsqueeze(0)
    geo = _conv_geometry(fn, dims, x, weight, bias, stride, padding, dilation, groups)
    out = Convolution.apply(x, weight, bias, geo)
    return out if batched else out.squeeze(0)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution of an (N, C, H, W) or unbatched (C, H, W) input with weight
    (O, C/groups, kh, kw) and optional bias (O,): the formula in the module docstring.

    stride, padding, dilation: an int or a pair (height, width); padding may also be "valid"
    (no padding) or "same" (output as big as the input; stride 1 only). Zero padding; see
    Conv2d for the other padding modes. Output (N, O, OH, OW) with
    OH = (H + 2*padding - dilation*(kh - 1) - 1) // stride + 1, likewise OW.
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution of an (N, C, L) or unbatched (C, L) input with weight (O, C/groups, k):
    conv2d on images of height 1. Output (N, O, (L + 2*padding - dilation*(k-1) - 1) // stride
    + 1); padding may be "valid" or "same" as for conv2d."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


# --------------------------------------------------------------------- pooling: window tables


def pool_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int,
                     ceil_mode: bool) -> int:
    """How many windows fit: floor (or ceil) of (size + 2 pad - extent) / stride, plus 1, where
    extent = dilation*(kernel-1) + 1. With ceil_mode a last, partial window is added, unless it
    would start in the right padding (PyTorch's rule)."""
    extent = dilation * (kernel - 1) + 1
    out = (size + 2 * pad - extent + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def max_windows(n_out: int, size: int, kernel: int, stride: int, pad: int,
                dilation: int) -> np.ndarray:
    """(n_out, 2) int64: window o reads positions range(first, stop, dilation) of the input,
    the taps start + i*dilation (start = o*stride - pad) that land inside [0, size). (With
    dilation a window can miss the input entirely: then first >= stop.)"""
    table = np.empty((n_out, 2), np.int64)
    for o in range(n_out):
        start = o * stride - pad
        first = start if start >= 0 else start + (-start + dilation - 1) // dilation * dilation
        table[o] = first, min(start + dilation * (kernel - 1) + 1, size)
    return table


def avg_windows(n_out: int, size: int, kernel: int, stride: int, pad: int,
                count_include_pad: bool) -> np.ndarray:
    """(n_out, 3) int64: window o sums positions [first, stop) and contributes `count` to the
    divisor (the divisor of window (oh, ow) is rows[oh, 2] * cols[ow, 2]). The window is
    [start, start + kernel) with start = o*stride - pad, cut at the end of the padded input;
    count is its length, padding included or not."""
    table = np.empty((n_out, 3), np.int64)
    for o in range(n_out):
        start = o * stride - pad
        end = min(start + kernel, size + pad)
        first, stop = max(start, 0), min(end, size)
        table[o] = first, stop, (end - start) if count_include_pad else (stop - first)
    return table


def adaptive_windows(n_out: int, size: int) -> np.ndarray:
    """(n_out, 3) int64: window o of an adaptive pool is [floor(o*size/n_out),
    ceil((o+1)*size/n_out)), so n_out windows cover the input however the sizes divide."""
    table = np.empty((n_out, 3), np.int64)
    for o in range(n_out):
        first, stop = (o * size) // n_out, -(-((o + 1) * size) // n_out)
        table[o] = first, stop, stop - first
    return table


# --------------------------------------------------------------------- pooling: the Functions


def _planes(t: Tensor) -> Tensor:
    """A (C, H, W) tensor seen as (1, C, H, W); (N, C, H, W) unchanged. No copy."""
    if t.dim() == 4:
        return t
    return t._as_view(t._offset, (1,) + t._shape, (0,) + t._strides)


class MaxPool2DWithIndices(Function):
    """y[oh, ow] = max of x over window (oh, ow), idx[oh, ow] = where (h*W + w);
    dL/dx[h, w] = sum of dL/dy over the windows whose maximum sits at (h, w)."""
    backward_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, rows, cols, dilation):
        k = _conv_primitives(x)
        x4 = _planes(x)
        shape = x._shape[:-2] + (len(rows), len(cols))
        out = V._new(shape, x.dtype, x.device)
        indices = V._new(shape, V.int64, x.device)
        out4, idx4 = _planes(out), _planes(indices)
        k.max_pool2d(x4._view(), rows, cols, dilation, out4._view(), idx4._view())
        ctx.mark_non_differentiable(indices)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(indices)
        ctx.tables, ctx.x_shape = (rows, cols), x._shape
        return out, indices

    @staticmethod
    def backward(ctx, grad, grad_indices):
        _no_double_backward("max_pool2d")
        indices, = ctx.saved_tensors
        rows, cols = ctx.tables
        dx = V._new(ctx.x_shape, grad.dtype, grad.device)
        _conv_primitives(grad).max_pool2d_backward(_planes(grad)._view(),
                                                   _planes(indices)._view(), rows, cols,
                                                   _planes(dx)._view())
        return dx, None, None, None


class AvgPool2D(Function):
    """y[oh, ow] = sum of x over window (oh, ow) / divisor[oh, ow];
    dL/dx[h, w] = sum of dL/dy[oh, ow] / divisor[oh, ow] over the windows holding (h, w)."""
    backward_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, rows, cols):
        k = _conv_primitives(x)
        out = V._new(x._shape[:-2] + (len(rows), len(cols)), x.dtype, x.device)
        k.avg_pool2d(_planes(x)._view(), rows, cols, _planes(out)._view())
        ctx.tables, ctx.x_shape = (rows, cols), x._shape
        return out

    @staticmethod
    def backward(ctx, grad):
        _no_double_backward("avg_pool2d")
        rows, cols = ctx.tables
        dx = V._new(ctx.x_shape, grad.dtype, grad.device)
        _conv_primitives(grad).avg_pool2d_backward(_planes(grad)._view(), rows, cols,
                                                   _planes(dx)._view())
        return dx, None, None


class AdaptiveAvgPool2D(AvgPool2D):
    """The same computation with the adaptive pool's windows (PyTorch's node name)."""
    backward_name = "AdaptiveAvgPool2DBackward0"


# ------------------------------------------------------------------------- pooling: arguments


def _pool_pair(value, fn: str, what: str, allow_none: bool = False) -> tuple:
    """An int or a tuple of 1 or 2 ints as a pair, with PyTorch's message otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and \
            all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return (value[0], value[-1])
    if what == "kernel_size" or what == "padding":
        rule = "must either be a single int, or a tuple of two ints"
    elif what == "stride":
        rule = "must either be omitted, a single int, or a tuple of two ints"
    else:
        rule = "must be either a single int, or a tuple of two ints"
    raise RuntimeError(f"{fn}: {what} {rule}")


def _check_pool_input(fn: str, input: Tensor) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dim() not in (3, 4):
        if fn == "max_pool2d":
            raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{_sizes(input.shape)}")


def _pool_geometry(fn: str, input: Tensor, kernel_size, stride, padding, dilation,
                   ceil_mode: bool) -> tuple:
    """Check a max/avg pool's arguments (PyTorch's messages); the output size (OH, OW) and
    the pairs kernel, stride, padding, dilation."""
    _check_pool_input(fn, input)
    kernel = _pool_pair(kernel_size, fn, "kernel_size")
    stride = kernel if stride is None or stride == () or stride == [] else \
        _pool_pair(stride, fn, "stride")
    padding = _pool_pair(padding, fn, "padding")
    dilation = _pool_pair(dilation, fn, "dilation")
    # The checks in PyTorch's order (its messages depend on which comes first).
    if 0 in stride:
        raise RuntimeError("stride should not be zero")
    if min(padding) < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(padding)}")
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} "
                           f"kW: {kernel[1]}")
    if min(stride) < 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {stride[0]} dW: "
                           f"{stride[1]}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: "
                           f"{dilation[0]} dilationW: {dilation[1]}")
    if 0 in tuple(input.shape[-3:]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{_sizes(input.shape)}")
    channels, height, width = input.shape[-3:]
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip((height, width), kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(f"Given input size: ({channels}x{height}x{width}). Calculated output "
                           f"size: ({channels}x{out[0]}x{out[1]}). Output size is too small")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{fn}(): tinygrad_edu pools float32 and float64 tensors only, got "
                           f"input of dtype {input.dtype}")
    return out, kernel, stride, padding, dilation


# ------------------------------------------------------------------ pooling: functional forms


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = True):
    """(max_pool2d(...), indices): indices[n, c, oh, ow] = h*W + w of each window's maximum."""
    (oh, ow), kernel, stride, padding, dilation = _pool_geometry(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    height, width = input.shape[-2:]
    rows = max_windows(oh, height, kernel[0], stride[0], padding[0], dilation[0])
    cols = max_windows(ow, width, kernel[1], stride[1], padding[1], dilation[1])
    return MaxPool2DWithIndices.apply(input, rows, cols, dilation)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """The maximum of each kernel_size window of an (N, C, H, W) or (C, H, W) input.

    stride defaults to kernel_size; padding (at most half the window) is never the maximum;
    dilation spaces the window's taps; ceil_mode adds a last, partial window where the input
    does not divide evenly. Output (N, C, OH, OW) with OH = floor((H + 2*padding -
    dilation*(kh-1) - 1) / stride) + 1 (ceil with ceil_mode). return_indices=True also returns
    where each maximum was (h*W + w in its plane)."""
    out, indices = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation,
                                           ceil_mode)
    return (out, indices) if return_indices else out


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each kernel_size window of an (N, C, H, W) or (C, H, W) input.

    Arguments as max_pool2d (no dilation). The divisor is the window's size counting the zero
    padding (count_include_pad=True, default) or only the input positions it covers, or
    divisor_override if given."""
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    (oh, ow), kernel, stride, padding, _ = _pool_geometry(
        "avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    height, width = input.shape[-2:]
    rows = avg_windows(oh, height, kernel[0], stride[0], padding[0], count_include_pad)
    cols = avg_windows(ow, width, kernel[1], stride[1], padding[1], count_include_pad)
    if divisor_override is not None:  # the whole divisor in the rows' factor
        rows[:, 2], cols[:, 2] = int(divisor_override), 1
    return AvgPool2D.apply(input, rows, cols)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """The mean over output_size = (OH, OW) windows that tile the input as evenly as possible
    (window o of an axis of size n: [floor(o*n/OH), ceil((o+1)*n/OH))). An int means (n, n);
    None keeps that axis's size. (1, 1) is a plain mean over H and W, as in PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"adaptive_avg_pool2d(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{_sizes(input.shape)}")
    for d in range(input.dim() - 3, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"adaptive_avg_pool2d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {_sizes(input.shape)} "
                               f"with dimension {d} being empty")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"adaptive_avg_pool2d(): tinygrad_edu pools float32 and float64 "
                           f"tensors only, got input of dtype {input.dtype}")
    height, width = input.shape[-2:]
    size = _adaptive_size(output_size, (height, width))
    if size == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    rows, cols = adaptive_windows(size[0], height), adaptive_windows(size[1], width)
    return AdaptiveAvgPool2D.apply(input, rows, cols)


def _adaptive_size(output_size, input_size: tuple) -> tuple:
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size, output_size)
    output_size = tuple(output_size)
    if len(output_size) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    size = tuple(n if o is None else o for o, n in zip(output_size, input_size))
    if not all(isinstance(o, int) and not isinstance(o, bool) for o in size):
        raise TypeError(f"adaptive_avg_pool2d: output_size must be ints (or None), got "
                        f"{output_size!r}")
    if min(size) < 0:
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than "
                           f"or equal to 0 but received {{{size[0]}, {size[1]}}}")
    return size
