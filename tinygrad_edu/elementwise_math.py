"""The scalar math of every elementwise op and reduction, written once for every device.

What one output element of `unary(op, x, out)`, `binary(op, a, b, out)` or `reduce(op, ...)` is,
as plain Python functions of numbers. The kernels are loops around these: kernels_cpu.py compiles
them with `numba.njit(inline="always")` and inlines them into its loops, kernels_cuda.py compiles
them with `numba.cuda.jit(device=True)` and calls them from its kernels. So `sigmoid` below is the
sigmoid of both devices, and a change here changes both.

The device's own math library. The functions call a few basic functions by name: `exp`, `log`,
`floor`, `fmod`, `erf`, ... (the section "the math library" below). Their definitions here are
NumPy's scalar functions (IEEE answers in the input's own precision), which is what the CUDA
simulator runs and what makes this module usable from plain Python:

    from tinygrad_edu import elementwise_math as m
    m.sigmoid(np.float32(0.0))               # 0.5, a float32
    m.floor_divide_float(7.0, -2.0)          # -4.0

A device swaps in its own: `compiled_for(overrides, compile)` copies every function of this
module with those names bound to the device's versions (a new globals dict: the functions'
code is not touched), compiles each with `compile`, and returns the op tables of the copies.
The CPU binds `exp` to `speedups.exp` (the hand-written float32 exp), `floor` to `np.floor`, ...;
a real GPU binds them to Python's `math` functions, which numba.cuda compiles to CUDA's libdevice.

Types. Constants are float32 numpy scalars: combined with float32 data they keep the math in
float32 (the fast SIMD lane, the GPU's fast lane); combined with float64 they widen exactly. The
Gaussian constants are float64: gelu of float32 is computed in float64, rounded once. A few ops
differ for floats and integers (`floor` of an integer is the integer itself, and must not go
through float64, which loses digits): their table entry is `ByKind(float=..., int=..., bool=...)`
and each device picks the entry for the dtype it compiles for (the CPU while Numba types the
kernel, CUDA in Python before it compiles one).

Editing this file: Numba's on-disk cache of the CPU kernels checks only kernels_cpu.py's own
time stamp, not this file's. After changing the math here, touch kernels_cpu.py (or delete its
`__pycache__/*.nbi` files) so that the kernels are compiled again.
"""
from __future__ import annotations

import math
import types as _pytypes
from typing import Callable, NamedTuple

import numpy as np

# ----------------------------------------------------------------------------- the constants

ZERO, HALF, ONE, TWO = np.float32(0.0), np.float32(0.5), np.float32(1.0), np.float32(2.0)
INF = np.float32(np.inf)
SQRT1_2 = np.float64(0.7071067811865476)         # 1/sqrt(2)
INV_SQRT_2PI = np.float64(0.3989422804014327)    # 1/sqrt(2*pi)
MINUS_HALF = np.float64(-0.5)                    # the Gaussian's exponent factor, -x*x/2


# ---------------------------------------------------------------------------- the math library
# The basic functions every device supplies its own of (compiled_for's `overrides`). Here:
# NumPy's, the IEEE answers in the input's own precision (Python's `math` raises where IEEE
# gives inf or NaN, math.log(0.0), and returns Python floats).

exp, expm1, log, log2, log1p = np.exp, np.expm1, np.log, np.log2, np.log1p
sqrt, sin, cos, tan, tanh, atan2 = np.sqrt, np.sin, np.cos, np.tan, np.tanh, np.arctan2
floor, ceil, trunc, fmod, copysign = np.floor, np.ceil, np.trunc, np.fmod, np.copysign

LIBRARY = ("exp", "expm1", "log", "log2", "log1p", "sqrt", "sin", "cos", "tan", "tanh", "atan2",
           "floor", "ceil", "trunc", "fmod", "copysign", "erf", "zero_like", "round_half_even")


def erf(x):
    """The error function. NumPy has none: Python's, rounded back to x's own type."""
    return x.dtype.type(math.erf(x)) if isinstance(x, np.generic) else math.erf(x)


def zero_like(x):
    """0 of x's own type (a bare `0` next to float32 data would make the math float64)."""
    return type(x)(0)


def round_half_even(x):
    """x rounded to the nearest integer, ties to the even one (torch.round, numpy's rint).
    inf and NaN come through unchanged: their frac is NaN, which fails both tests. (The CPU
    binds this name to np.rint, one instruction computing the same.)"""
    r = floor(x)
    frac = x - r
    if frac > HALF or (frac == HALF and fmod(r, TWO) != 0):
        r += ONE
    return copysign(r, x)      # -0.4 rounds to -0.0, as rint does


# ----------------------------------------------------------------- the math of the harder ops


def identity(x):
    """x itself."""
    return x


def sigmoid(x):
    """1 / (1 + e^-x) without overflow: with z = e^-|x| <= 1, sigmoid is 1/(1+z) for x >= 0
    and z/(1+z) for x < 0."""
    z = exp(-abs(x))
    s = ONE / (ONE + z)
    return s if x >= 0 else z * s


def gelu(x):
    """x * Phi(x) with Phi the standard normal CDF: 0.5 x (1 + erf(x / sqrt 2))."""
    return HALF * x * (ONE + erf(x * SQRT1_2))


def gelu_backward(grad, x):
    """grad * dgelu/dx = grad * (Phi(x) + x phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi)."""
    cdf = HALF * (ONE + erf(x * SQRT1_2))
    pdf = INV_SQRT_2PI * exp(MINUS_HALF * x * x)
    return grad * (cdf + x * pdf)


def floor_divide_float(a, b):
    """floor(a / b) as PyTorch computes it (via fmod, exact even when a / b rounds)."""
    if b == 0:
        return a / b                      # inf, -inf or nan, as IEEE division
    mod = fmod(a, b)
    div = (a - mod) / b
    if mod != 0 and (b < 0) != (mod < 0):
        div -= ONE
    if div == 0:
        return copysign(ZERO, a / b)      # keep the sign of the zero
    floordiv = floor(div)
    if div - floordiv > HALF:
        floordiv += ONE
    return floordiv


def floor_divide_int(a, b):
    """a // b rounded toward -inf. b == 0 gives 0 (PyTorch raises; the tensor layer checks);
    b == -1 is negation, so the most negative integer wraps instead of trapping the CPU."""
    if b == 0:
        return 0
    if b == -1:
        return -a
    return a // b


def remainder_float(a, b):
    """a - b * floor(a / b), computed as PyTorch does: fmod, then move into b's sign."""
    mod = fmod(a, b)
    if mod != 0 and (b < 0) != (mod < 0):
        mod += b
    return mod


def remainder_int(a, b):
    """a mod b with the sign of b (Python's %); 0 for b == 0 and b == -1 (see floor_divide)."""
    if b == 0 or b == -1:
        return 0
    return a % b


def pow_int(a, b):
    """a ** b by repeated squaring; wraps around like PyTorch. A negative b (a tensor exponent:
    the tensor layer refuses a negative number) gives what the exact power truncates to, as
    PyTorch's integer pow: 1 ** b = 1, (-1) ** b = +-1, anything else 0."""
    if b < 0:
        if a == 1:
            return 1
        if a == -1:
            return -1 if b & 1 else 1
        return 0
    result = 1
    base = a
    while b > 0:
        if b & 1:
            result *= base
        base *= base
        b >>= 1
    return result


# -------------------------------------------------------------------- the math of every op
# What one element of the output is, one line per op. Every kernel is a loop around one of these.
# `a` and `b` have one dtype (the caller casts them); the output's store converts the value.


class ByKind(NamedTuple):
    """An op whose math differs by the kind of its dtype; None: not defined for that kind
    (bools use `int` when `bool` is None)."""
    float: Callable | None
    int: Callable | None
    bool: Callable | None = None

    def for_kind(self, kind: str):
        """The function for dtype kind "f", "i" (also "u") or "b"."""
        if kind == "f":
            return self.float
        if kind == "b" and self.bool is not None:
            return self.bool
        return self.int


UNARY_MATH = {
    "neg": lambda x: -x,
    "abs": lambda x: abs(x),
    "sign": lambda x: ONE if x > 0 else (-ONE if x < 0 else ZERO),   # sign(nan) = 0
    "exp": lambda x: exp(x),
    "log": lambda x: log(x),
    "log2": lambda x: log2(x),
    "log1p": lambda x: log1p(x),
    "expm1": lambda x: expm1(x),
    "sqrt": lambda x: sqrt(x),
    "rsqrt": lambda x: ONE / sqrt(x),
    "square": lambda x: x * x,
    "reciprocal": lambda x: ONE / x,
    "sin": lambda x: sin(x),
    "cos": lambda x: cos(x),
    "tan": lambda x: tan(x),
    "tanh": lambda x: tanh(x),
    "sigmoid": lambda x: sigmoid(x),
    "relu": lambda x: zero_like(x) if x < 0 else x,    # NaN is not < 0: relu(nan) = nan
    "gelu": lambda x: gelu(x),
    "erf": lambda x: erf(x),
    "floor": ByKind(float=lambda x: floor(x), int=identity),
    "ceil": ByKind(float=lambda x: ceil(x), int=identity),
    "round": ByKind(float=lambda x: round_half_even(x), int=identity),
    "trunc": ByKind(float=lambda x: trunc(x), int=identity),
    "logical_not": lambda x: x == 0,
    "bitwise_not": ByKind(float=None, int=lambda x: ~x, bool=lambda x: x == 0),  # bools: not
    "isnan": lambda x: x != x,
    "isinf": lambda x: (x == INF) | (x == -INF),
    # the conversions behind copy(): the value itself (the store converts it); float -> int64
    # first, so that a float stored into uint8 or int8 truncates and then wraps (PyTorch:
    # -1.0 -> 255) instead of meeting an undefined float-to-unsigned conversion; anything ->
    # bool is != 0, NaN is True (the CPU's store does that itself and needs no _to_bool)
    "_identity": identity,
    "_to_int": lambda x: np.int64(x),
    "_to_bool": lambda x: x != 0,
}

BINARY_MATH = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "floor_divide": ByKind(float=floor_divide_float, int=floor_divide_int),
    "remainder": ByKind(float=remainder_float, int=remainder_int),
    "pow": ByKind(float=lambda a, b: a ** b, int=pow_int),
    "maximum": lambda a, b: a if (a > b) | (a != a) else b,     # a NaN on either side wins
    "minimum": lambda a, b: a if (a < b) | (a != a) else b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "logical_and": lambda a, b: (a != 0) & (b != 0),
    "logical_or": lambda a, b: (a != 0) | (b != 0),
    "logical_xor": lambda a, b: (a != 0) != (b != 0),
    "bitwise_and": lambda a, b: a & b,
    "bitwise_or": lambda a, b: a | b,
    "bitwise_xor": lambda a, b: a ^ b,
    "atan2": lambda a, b: atan2(a, b),
    # derivatives for backward passes; the first argument is the incoming gradient.
    # relu_backward(grad, x) is PyTorch's threshold_backward: 0 where x <= 0, so a NaN input
    # passes the gradient on
    "relu_backward": lambda grad, x: zero_like(grad) if x <= 0 else grad,
    "tanh_backward": lambda grad, y: grad * (ONE - y * y),        # y = tanh(x)
    "sigmoid_backward": lambda grad, y: grad * (ONE - y) * y,     # y = sigmoid(x)
    "gelu_backward": lambda grad, x: gelu_backward(grad, x),
}

# For each reduction: its identity, the value of a reduction over no element (None for max
# and min, which have none: the accumulator starts from the first element instead), and the
# accumulator after one more element x. cumsum and cumprod use the combines of sum and prod.
REDUCE_MATH = {
    "sum": (0, lambda acc, x: acc + x),
    "prod": (1, lambda acc, x: acc * x),
    "max": (None, lambda acc, x: x if (x > acc) | (x != x) else acc),   # NaN wins
    "min": (None, lambda acc, x: x if (x < acc) | (x != x) else acc),
    "any": (False, lambda acc, x: acc | (x != 0)),
    "all": (True, lambda acc, x: acc & (x != 0)),
}


# ------------------------------------------------------------------- compiling for a device


def _is_math(name: str, value) -> bool:
    """Is this global a math function written in this module?"""
    return isinstance(value, _pytypes.FunctionType) and value.__module__ == __name__ \
        and not name.startswith("_") and name != "compiled_for"


def _rebind(fn, namespace: dict):
    """A copy of `fn` that looks its global names up in `namespace`."""
    copy = _pytypes.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__,
                                 fn.__closure__)
    copy.__doc__, copy.__qualname__ = fn.__doc__, fn.__qualname__
    return copy


def compiled_for(overrides: dict, compile) -> _pytypes.SimpleNamespace:
    """This module's math for one device.

    `overrides` maps names of this module (the library's functions, a constant) to the
    device's own; every other function here is copied with its global names looked up in the
    device's namespace and compiled by `compile` (numba.njit(inline="always") for the CPU,
    numba.cuda.jit(device=True) for CUDA), so the functions call each other's compiled
    versions. Returns UNARY_MATH, BINARY_MATH and REDUCE_MATH (same keys, same entry shapes)
    holding the *uncompiled* copies (each device compiles its table entries as its kernels
    need them), and the namespace's compiled functions by name.
    """
    unknown = set(overrides) - set(globals())
    if unknown:
        raise ValueError(f"compiled_for: no such names in elementwise_math: {sorted(unknown)}")
    namespace = dict(globals())
    namespace.update(overrides)
    copies = {}
    for name, value in globals().items():
        if name not in overrides and _is_math(name, value):
            copies[name] = _rebind(value, namespace)
            namespace[name] = compile(copies[name])

    def port(entry):
        if entry is None:
            return None
        if isinstance(entry, ByKind):
            return ByKind(*(port(fn) for fn in entry))
        name = entry.__name__                     # a function of its own, e.g. pow_int
        if name in copies and globals().get(name) is entry:
            return copies[name]
        return _rebind(entry, namespace)          # a table's lambda

    return _pytypes.SimpleNamespace(
        UNARY_MATH={op: port(fn) for op, fn in UNARY_MATH.items()},
        BINARY_MATH={op: port(fn) for op, fn in BINARY_MATH.items()},
        REDUCE_MATH={op: (identity_, port(combine))
                     for op, (identity_, combine) in REDUCE_MATH.items()},
        compiled={name: namespace[name] for name in copies},
    )
