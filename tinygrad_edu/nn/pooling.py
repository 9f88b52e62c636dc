"""Pooling: `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d` and `F.max_pool2d`, `F.avg_pool2d`,
`F.adaptive_avg_pool2d`.

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
likewise cols[ow]. The device kernels (docs/primitives.md) then just loop over the tables, so
ceil_mode, padding, count_include_pad, divisor_override and the adaptive pool's uneven windows
are all only different tables.
"""
from __future__ import annotations


import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.nn.conv import _conv_primitives, _no_double_backward, _sizes
from tinygrad_edu.nn.module import Module
from tinygrad_edu.vector import Function, Tensor

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d", "max_pool2d_with_indices"]


# ---------------------------------------------------------------------------- window tables


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


# --------------------------------------------------------------------------------- Functions


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


# ---------------------------------------------------------------------------------- arguments


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


# ---------------------------------------------------------------------------- functional forms


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


# ------------------------------------------------------------------------------------ modules


class MaxPool2d(Module):
    """Max pooling over 2-D windows: see `F.max_pool2d`. With return_indices=True the layer
    returns (output, indices)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """Average pooling over 2-D windows: see `F.avg_pool2d`."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's: see
    `F.adaptive_avg_pool2d`. AdaptiveAvgPool2d(1) is global average pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
