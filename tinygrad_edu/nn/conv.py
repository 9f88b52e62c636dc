"""Convolutions: `Conv1d`, `Conv2d` and their functional forms `F.conv1d`, `F.conv2d`.

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

With groups > 1 the same happens per group, on its slice of channels and filters. Conv1d is the
same computation on images of height 1. The kernels (im2col, col2im; the GEMM is `matmul`) are
primitives of the device (docs/primitives.md); everything is checked here first.
"""
from __future__ import annotations

from typing import NamedTuple

from tinygrad_edu import vector as V
from tinygrad_edu.nn import init
from tinygrad_edu.nn.module import Module
from tinygrad_edu.vector import Function, Tensor

__all__ = ["Conv1d", "Conv2d", "conv1d", "conv2d"]


# ---------------------------------------------------------------------------------- arguments


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


def _same_padding(kernel: tuple, dilation: tuple) -> tuple:
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
        pads = _same_padding(kernel, dilation)
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


# ------------------------------------------------------------------------------ the Function


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
    if V.is_grad_enabled():
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


# ---------------------------------------------------------------------------- functional forms


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


# ------------------------------------------------------------------------------------ modules

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, parameters, PyTorch's initialisation, repr.

    weight (out_channels, in_channels/groups, *kernel_size) and bias (out_channels,) start
    uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)], fan_in = in_channels/groups * prod(kernel)
    (kaiming_uniform_ with a = sqrt(5) works out to that bound, as for Linear).
    """

    _dims = 2
    _fn = staticmethod(conv2d)

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None):
        super().__init__()
        dims, name = self._dims, type(self).__name__
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 "{'valid', 'same'}")
            if padding == "same" and any(s != 1 for s in _module_tuple(stride, dims, "stride",
                                                                       name)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError("padding_mode must be one of {'zeros', 'reflect', 'replicate', "
                             f"'circular'}}, but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _module_tuple(kernel_size, dims, "kernel_size", name)
        self.stride = _module_tuple(stride, dims, "stride", name)
        self.padding = padding if isinstance(padding, str) else \
            _module_tuple(padding, dims, "padding", name)
        self.dilation = _module_tuple(dilation, dims, "dilation", name)
        self.groups = groups
        self.padding_mode = padding_mode
        # The padding F.pad applies for the non-zero modes, in its order: last dim first.
        if padding == "same":
            pads = _same_padding(self.kernel_size, self.dilation)
        elif padding == "valid":
            pads = ((0, 0),) * dims
        else:
            pads = tuple((p, p) for p in self.padding)
        self._reversed_padding_repeated_twice = [p for pair in reversed(pads) for p in pair]
        init._add_layer_parameters(self, (out_channels, in_channels // groups) + self.kernel_size,
                                   bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode != "zeros":
            from tinygrad_edu.nn import functional as F
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return self._fn(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                            self.groups)
        return self._fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        dims = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * dims:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


def _module_tuple(value, n: int, what: str, name: str) -> tuple:
    """A layer's int-or-tuple argument as an n-tuple of ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, (tuple, list)) and len(value) == n and \
            all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise ValueError(f"{name}: {what} must be an int or a tuple of {n} ints, got {value!r}")


class Conv2d(_ConvNd):
    """2-D convolution layer over (N, C, H, W) or (C, H, W) inputs: see `conv2d` for the math
    and the arguments. padding_mode "zeros" (default), "reflect", "replicate" or "circular"
    (the last three pad with F.pad first)."""

    _dims = 2
    _fn = staticmethod(conv2d)


class Conv1d(_ConvNd):
    """1-D convolution layer over (N, C, L) or (C, L) inputs: see `conv1d`."""

    _dims = 1
    _fn = staticmethod(conv1d)
