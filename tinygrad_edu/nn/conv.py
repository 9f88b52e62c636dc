"""Convolution layers: `Conv1d`, `Conv2d`.

Each holds its options and its parameters and calls `F.conv1d` / `F.conv2d`, where the math
is: the functions and the `Convolution` Function behind them live in `tinygrad_edu.ops.conv`
(im2col + GEMM; the formulas are in its docstring).
"""
from __future__ import annotations

from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn import init
from tinygrad_edu.nn.module import Module
# (conv1d and conv2d stay importable from here, where they were defined before ops.conv)
from tinygrad_edu.ops.conv import conv1d, conv2d, same_padding  # noqa: F401
from tinygrad_edu.vector import Tensor

__all__ = ["Conv1d", "Conv2d", "conv1d", "conv2d"]


# ------------------------------------------------------------------------------------ modules

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, parameters, PyTorch's initialisation, repr.

    weight (out_channels, in_channels/groups, *kernel_size) and bias (out_channels,) start
    uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)], fan_in = in_channels/groups * prod(kernel)
    (kaiming_uniform_ with a = sqrt(5) works out to that bound, as for Linear).
    """

    _dims = 2
    _fn = staticmethod(F.conv2d)

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
            pads = same_padding(self.kernel_size, self.dilation)
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
    _fn = staticmethod(F.conv2d)


class Conv1d(_ConvNd):
    """1-D convolution layer over (N, C, L) or (C, L) inputs: see `conv1d`."""

    _dims = 1
    _fn = staticmethod(F.conv1d)
