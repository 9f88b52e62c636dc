"""Pooling layers: `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d`.

Each holds its options and calls `F.max_pool2d`, `F.avg_pool2d` or `F.adaptive_avg_pool2d`,
where the math is: the functions, their window tables and the Functions behind them live in
`tinygrad_edu.ops.conv` (the formulas are in its docstring).
"""
from __future__ import annotations

from tinygrad_edu.nn import functional as F
from tinygrad_edu.nn.module import Module
# (the functional forms and the window tables stay importable from here, where they were
# defined before ops.conv)
from tinygrad_edu.ops.conv import (adaptive_avg_pool2d, adaptive_windows,  # noqa: F401
                                   avg_pool2d, avg_windows, max_pool2d,
                                   max_pool2d_with_indices, max_windows, pool_output_size)
from tinygrad_edu.vector import Tensor

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d", "max_pool2d_with_indices"]


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
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
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
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
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
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
