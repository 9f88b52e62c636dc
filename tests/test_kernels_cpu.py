"""The CPU primitives (tinygrad_edu/kernels_cpu.py) against numpy.

Compiling a kernel takes a few tenths of a second, so the tests are arranged to compile few:
every op's math is checked through the contiguous loop in the dtypes where it means something,
and the layout machinery (strided views, broadcasts, the scalar fast paths, in-place, the
parallel loops) is checked on a few representative ops, whose loops share all their code
with the others. References follow PyTorch's rules where numpy's differ (sign(nan) = 0,
remainder's zero sign, integer division by zero).
"""
import math
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
from llvmlite import binding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import tinygrad_edu.kernels_cpu as K

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FLOATS = (np.float32, np.float64)
INTS = (np.int64, np.int32, np.int16, np.uint8)


# ------------------------------------------------------------------------------------ helpers


def values(rng, shape, dtype, special=True, low=-4, high=4):
    """Random values of `dtype`; floats include NaN, +-inf, +-0 and exact halves."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        lo = max(low, np.iinfo(dtype).min)
        return rng.integers(lo, high + 1, size=shape).astype(dtype)
    x = rng.uniform(low, high, size=shape)
    if special and x.size:
        flat = x.reshape(-1)
        picks = rng.random(flat.size)
        flat[picks < 0.04] = np.nan
        flat[(picks >= 0.04) & (picks < 0.06)] = np.inf
        flat[(picks >= 0.06) & (picks < 0.08)] = -np.inf
        flat[(picks >= 0.08) & (picks < 0.11)] = 0.0
        flat[(picks >= 0.11) & (picks < 0.13)] = -0.0
        flat[(picks >= 0.13) & (picks < 0.18)] = np.round(flat[(picks >= 0.13) & (picks < 0.18)]) + 0.5
    return x.astype(dtype)


def broadcast(base, shape):
    """A writeable stride-0 view of `base` (size-1 dims) with `shape`, as the tensor layer
    makes them (np.broadcast_to would give a read-only view)."""
    strides = tuple(0 if n == 1 and m != 1 else s
                    for n, m, s in zip(base.shape, shape, base.strides))
    return np.lib.stride_tricks.as_strided(base, shape, strides)


LAYOUTS = ("contiguous", "permuted", "stepped", "broadcast", "scalar")


@st.composite
def views(draw, shape, dtype, layouts=LAYOUTS, special=True):
    """An array of `shape` in a drawn memory layout, filled with random values."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    layout = draw(st.sampled_from(layouts))
    ndim = len(shape)
    if layout == "permuted" and ndim >= 2:
        perm = draw(st.permutations(range(ndim)))
        base = values(rng, tuple(shape[p] for p in perm), dtype, special)
        return base.transpose(np.argsort(perm))
    if layout == "stepped" and ndim >= 1:
        steps = [draw(st.integers(1, 3)) for _ in shape]
        starts = [draw(st.integers(0, 2)) for _ in shape]
        base = values(rng, tuple(n * s + o + 1 for n, s, o in zip(shape, steps, starts)), dtype,
                      special)
        return base[tuple(slice(o, o + n * s, s) for n, s, o in zip(shape, steps, starts))]
    if layout == "broadcast" and ndim >= 1:
        keep = [draw(st.booleans()) for _ in shape]
        base = values(rng, tuple(n if k else 1 for n, k in zip(shape, keep)), dtype, special)
        return broadcast(base, shape)
    if layout == "scalar":
        return broadcast(values(rng, (1,) * ndim, dtype, special), shape)
    return values(rng, shape, dtype, special)


def shapes(min_dims=0, max_dims=4, min_side=0, max_side=5):
    return array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                        max_side=max_side)


def assert_same(actual, expected, rtol=0.0, atol=0.0):
    """Equal dtype-wise and value-wise (NaN matches NaN)."""
    assert actual.shape == expected.shape
    if rtol == 0 and atol == 0:
        np.testing.assert_array_equal(actual, expected)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def tolerance(dtype):
    return {np.dtype(np.float32): dict(rtol=3e-6, atol=1e-30),
            np.dtype(np.float64): dict(rtol=1e-13, atol=1e-300)}.get(np.dtype(dtype), {})


# ---------------------------------------------------------------------------------- op tables


def test_op_lists_are_those_of_the_interface():
    """The names docs/primitives.md promises, no more, no fewer."""
    assert K.UNARY_OPS == tuple("""neg abs sign exp log log2 log1p expm1 sqrt rsqrt square
        reciprocal sin cos tan tanh sigmoid relu gelu erf floor ceil round trunc logical_not
        bitwise_not isnan isinf""".split())
    assert K.BINARY_OPS == tuple("""add sub mul div floor_divide remainder pow maximum minimum
        eq ne lt le gt ge logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor
        atan2 relu_backward tanh_backward sigmoid_backward gelu_backward""".split())
    assert K.REDUCE_OPS == ("sum", "prod", "max", "min", "any", "all")
    assert K.ARGREDUCE_OPS == ("argmax", "argmin")


def test_the_math_tables_work_from_plain_python():
    assert K.unary_op(K.UNARY_OPS.index("relu"), -2.0) == 0
    assert K.binary_op(K.BINARY_OPS.index("remainder"), -7, 3) == 2
    assert K.binary_op(K.BINARY_OPS.index("floor_divide"), -7.0, 2.0) == -4.0


def test_unknown_op_names_are_rejected():
    x = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="unknown unary op 'expp'"):
        K.unary("expp", x, x)
    with pytest.raises(ValueError, match="unknown binary op"):
        K.binary("plus", x, x, x)
    with pytest.raises(ValueError, match="unknown reduce op"):
        K.reduce("mean", x, (0,), np.ones(1, np.float32))
    with pytest.raises(ValueError, match="unknown argreduce op"):
        K.argreduce("argsort", x, 0, np.ones(1, np.int64))


# -------------------------------------------------------------------------------- unary math

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _sign(x):
    return np.where(np.isnan(x), 0, np.sign(x)) if x.dtype.kind == "f" else np.sign(x)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


UNARY_REFERENCE = {
    "neg": np.negative, "abs": np.abs, "sign": _sign, "exp": np.exp, "log": np.log,
    "log2": np.log2, "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt,
    "rsqrt": lambda x: 1.0 / np.sqrt(x), "square": lambda x: x * x,
    "reciprocal": lambda x: 1.0 / x, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "tanh": np.tanh, "sigmoid": _sigmoid, "relu": lambda x: np.where(x < 0, 0, x).astype(x.dtype),
    "gelu": lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))), "erf": _erf,
    "floor": np.floor, "ceil": np.ceil, "round": np.rint, "trunc": np.trunc,
    "logical_not": np.logical_not, "bitwise_not": np.invert, "isnan": np.isnan,
    "isinf": np.isinf,
}
BOOL_RESULT = {"logical_not", "isnan", "isinf", "eq", "ne", "lt", "le", "gt", "ge",
               "logical_and", "logical_or", "logical_xor"}
FLOAT_ONLY_UNARY = {"exp", "log", "log2", "log1p", "expm1", "sqrt", "rsqrt", "reciprocal", "sin",
                    "cos", "tan", "tanh", "sigmoid", "gelu", "erf"}
# The dtypes each op is checked in (a few per op, not the cross product; see module docstring).
UNARY_DTYPES = {name: (np.float32, np.float64) for name in FLOAT_ONLY_UNARY}
UNARY_DTYPES.update({name: (np.float32, np.int64) for name in
                     ("neg", "abs", "sign", "square", "relu", "floor", "round")})
UNARY_DTYPES.update({"ceil": (np.float64, np.int32), "trunc": (np.float32, np.int16),
                     "logical_not": (np.float32, np.bool_), "isnan": (np.float64, np.int64),
                     "isinf": (np.float32, np.uint8), "bitwise_not": (np.int32, np.uint8, np.bool_),
                     "neg": (np.float32, np.int64, np.uint8)})
UNARY_CASES = [(op, dt) for op in K.UNARY_OPS for dt in UNARY_DTYPES[op]]


def unary_reference(op, x, out_dtype):
    with np.errstate(all="ignore"):
        wide = x.astype(np.float64) if x.dtype.kind == "f" and op in FLOAT_ONLY_UNARY else x
        return np.asarray(UNARY_REFERENCE[op](wide)).astype(out_dtype)


def unary_out_dtype(op, dtype):
    return np.bool_ if op in BOOL_RESULT else dtype


@pytest.mark.parametrize("op,dtype", UNARY_CASES)
def test_unary_math(op, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{op} {np.dtype(dtype).name}".encode()))
    x = values(rng, (7, 37), dtype, low=-4 if op != "neg" or dtype != np.uint8 else 0)
    out = np.empty(x.shape, unary_out_dtype(op, dtype))
    assert K.unary(op, x, out) is out
    expected = unary_reference(op, x, out.dtype)
    assert_same(out, expected, **tolerance(dtype))


def test_unary_special_values_follow_pytorch():
    x = np.array([np.nan, -0.0, 0.0, -2.5, 2.5, 0.5, 1.5, -np.inf, np.inf], np.float32)
    out = np.empty_like(x)
    K.unary("sign", x, out)
    assert_same(out, np.array([0, 0, 0, -1, 1, 1, 1, -1, 1], np.float32))
    K.unary("relu", x, out)
    assert np.isnan(out[0]) and out[1] == 0 and np.signbit(out[1]) and out[3] == 0
    K.unary("round", x, out)
    assert_same(out[3:7], np.array([-2, 2, 0, 2], np.float32))      # half to even
    big = np.array([-200.0, -100.0, 100.0, 200.0], np.float32)
    with np.errstate(all="raise"):                                     # no overflow warnings
        K.unary("sigmoid", big, out[:4])
    assert_same(out[:4], np.array([0, 3.7200760e-44, 1, 1], np.float32))
    ints = np.array([2**53 + 1, -(2**62) - 1], np.int64)
    rounded = np.empty_like(ints)
    for op in ("floor", "ceil", "round", "trunc"):                    # exact, not via float64
        K.unary(op, ints, rounded)
        assert_same(rounded, ints)


# ------------------------------------------- float32 exp by hand (speedups.exp_float32)


def ulp_error(actual32, exact64):
    """|actual - exact| in units of the float32 spacing at the correctly rounded result."""
    rounded = exact64.astype(np.float32)
    spacing = np.spacing(np.abs(rounded)).astype(np.float64)
    spacing[rounded == 0] = 2.0**-149
    with np.errstate(invalid="ignore"):
        return np.abs(actual32.astype(np.float64) - exact64) / spacing


def test_float32_exp_is_within_one_ulp_over_its_range():
    """2^20 evenly spread float32 inputs from -104 to 89 (normal, subnormal and overflowing
    results) plus every float32 near the overflow and underflow edges. (An exhaustive run over
    all 2^31 float32 in that range measured at most 1.01 ulp.)"""
    grid = np.linspace(-104.0, 89.0, 1 << 20).astype(np.float32)
    edges = [np.arange(a, b, dtype=np.int32).view(np.float32) for a, b in (
        (np.float32(88.0).view(np.int32), np.float32(89.0).view(np.int32)),
        (np.float32(-104.0).view(np.int32) - 65536, np.float32(-104.0).view(np.int32)),
        (np.float32(87.0).view(np.int32) | -2**31, np.float32(88.0).view(np.int32) | -2**31))]
    tiny = np.array([0.0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8], np.float32)
    x = np.concatenate([grid, tiny, *edges])
    out = np.empty_like(x)
    K.unary("exp", x, out)
    exact = np.exp(x.astype(np.float64))
    finite = exact < np.finfo(np.float32).max
    assert np.all(out[~finite] == np.inf)
    assert ulp_error(out[finite], exact[finite]).max() <= 1.05


def test_float32_tanh_is_within_the_c_librarys_bound():
    """Every 997th float32 in (-10, 10) (tanh is +-1 beyond; 2.2 million values, from 1e-45
    up) and every float32 around 0.625 (where the hand-written tanh that was removed switched
    formulas). float32 tanh is the C library's tanhf: glibc documents 2 ulp on x86-64, and
    2.03 ulp was measured here."""
    bits = np.float32([10.0, 0.625]).view(np.int32)
    positive = np.concatenate([np.arange(0, bits[0], 997, dtype=np.int32),
                               np.arange(bits[1] - 50000, bits[1] + 50000, dtype=np.int32)])
    positive = positive.view(np.float32)
    x = np.concatenate([positive, -positive])
    out = np.empty_like(x)
    K.unary("tanh", x, out)
    assert ulp_error(out, np.tanh(x.astype(np.float64))).max() <= 2.5
    specials = np.array([np.nan, np.inf, -np.inf, 50.0, -50.0, 1e-30], np.float32)
    K.unary("tanh", specials, out[:6])
    assert np.isnan(out[0])
    assert_same(out[1:6], np.array([1.0, -1.0, 1.0, -1.0, 1e-30], np.float32))


def test_float32_exp_specials():
    x = np.array([np.nan, np.inf, -np.inf, 88.72283, 88.7229, 89.0, 1000.0, -87.33655,
                  -103.97208, -103.98, -1000.0], np.float32)
    out = np.empty_like(x)
    K.unary("exp", x, out)
    with np.errstate(over="ignore"):
        expected = np.exp(x)
    assert np.isnan(out[0])
    assert_same(out[1:], expected[1:], rtol=2.5e-7)


# ------------------------------------------------------------------------------- binary math


def _floor_divide(a, b):
    with np.errstate(all="ignore"):
        if a.dtype.kind in "iub":
            return np.where(b == 0, 0, np.floor_divide(a, np.where(b == 0, 1, b))).astype(a.dtype)
        return np.floor_divide(a, b)


def _remainder(a, b):
    with np.errstate(all="ignore"):
        if a.dtype.kind in "iub":
            return np.where(b == 0, 0, np.remainder(a, np.where(b == 0, 1, b))).astype(a.dtype)
        mod = np.fmod(a, b)                     # PyTorch: fmod, then into the divisor's sign
        return np.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)


def _gelu_backward(g, x):
    cdf = 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))
    return g * (cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi))


BINARY_REFERENCE = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "floor_divide": _floor_divide, "remainder": _remainder, "pow": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "eq": np.equal, "ne": np.not_equal,
    "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or,
    "logical_xor": np.logical_xor, "bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor, "atan2": np.arctan2,
    "relu_backward": lambda g, x: np.where(x <= 0, 0, g),
    "tanh_backward": lambda g, y: g * (1 - y * y),
    "sigmoid_backward": lambda g, y: g * (1 - y) * y, "gelu_backward": _gelu_backward,
}
BINARY_DTYPES = {name: (np.float32, np.float64) for name in
                 ("atan2", "relu_backward", "tanh_backward", "sigmoid_backward",
                  "gelu_backward")}
BINARY_DTYPES.update({name: (np.float32, np.int64) for name in
                      ("add", "mul", "maximum", "minimum", "lt", "ge", "floor_divide",
                       "remainder")})
BINARY_DTYPES.update({
    "sub": (np.float64, np.int16), "div": (np.float32, np.int32), "pow": (np.float64, np.int64),
    "eq": (np.float32, np.bool_), "ne": (np.float64, np.uint8), "le": (np.int32,),
    "gt": (np.float64, np.int16), "logical_and": (np.float32, np.bool_),
    "logical_or": (np.int64, np.bool_), "logical_xor": (np.float64, np.bool_),
    "bitwise_and": (np.int64, np.bool_), "bitwise_or": (np.uint8, np.int32),
    "bitwise_xor": (np.int16, np.bool_)})
BINARY_DTYPES["add"] += (np.uint8, np.bool_)
BINARY_DTYPES["mul"] += (np.int32,)
BINARY_CASES = [(op, dt) for op in K.BINARY_OPS for dt in BINARY_DTYPES[op]]


def binary_out_dtype(op, dtype):
    if op in BOOL_RESULT:
        return np.bool_
    return np.float64 if op == "div" and np.dtype(dtype).kind in "iub" else dtype


# Computed in float64 for float32 data; the kernels may fuse a*b + c into one rounding (FMA),
# so where 1 - y*y cancels, results agree to a few float32 ulps of the *inputs* only.
WIDE_REFERENCE = {"atan2", "pow", "tanh_backward", "sigmoid_backward", "gelu_backward"}
CANCELLING = {"tanh_backward", "sigmoid_backward", "gelu_backward"}


def binary_reference(op, a, b, out_dtype):
    with np.errstate(all="ignore"):
        if a.dtype.kind == "f" and op in WIDE_REFERENCE:
            a, b = a.astype(np.float64), b.astype(np.float64)
        return np.asarray(BINARY_REFERENCE[op](a, b)).astype(out_dtype)


def binary_inputs(rng, op, dtype, shape):
    a = values(rng, shape, dtype)
    b = values(rng, shape, dtype)
    if op == "pow" and np.dtype(dtype).kind in "iu":
        b = rng.integers(0, 5, size=shape).astype(dtype)      # the tensor layer rejects b < 0
    if op in ("floor_divide", "remainder") and np.dtype(dtype).kind in "iu":
        b.reshape(-1)[::5] = 0                                  # division by zero: 0, no crash
    return a, b


@pytest.mark.parametrize("op,dtype", BINARY_CASES)
def test_binary_math(op, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{op} {np.dtype(dtype).name}".encode()))
    a, b = binary_inputs(rng, op, dtype, (5, 41))
    out = np.empty(a.shape, binary_out_dtype(op, dtype))
    assert K.binary(op, a, b, out) is out
    close = tolerance(out.dtype)
    if op in CANCELLING:
        close["atol"] = 64 * np.finfo(dtype).eps
    assert_same(out, binary_reference(op, a, b, out.dtype), **close)


def test_integer_division_edge_cases_do_not_crash():
    lo = np.iinfo(np.int64).min
    a = np.array([7, -7, 7, -7, lo, lo, 5, 0], np.int64)
    b = np.array([2, 2, -2, -2, -1, 1, 0, 0], np.int64)
    out = np.empty_like(a)
    K.binary("floor_divide", a, b, out)
    assert_same(out, np.array([3, -4, -4, 3, lo, lo, 0, 0], np.int64))
    K.binary("remainder", a, b, out)
    assert_same(out, np.array([1, 1, -1, -1, 0, 0, 0, 0], np.int64))


def test_float_remainder_and_floor_divide_follow_pytorch():
    a = np.array([-0.0, 0.0, 5.0, -5.0, 5.0, 1.0, -1.0, 0.0, -7.5], np.float32)
    b = np.array([1.0, -1.0, -3.0, 3.0, 0.0, 0.0, 0.0, 0.0, 2.0], np.float32)
    out = np.empty_like(a)
    K.binary("remainder", a, b, out)
    assert_same(out, np.array([-0.0, 0.0, -1.0, 1.0, np.nan, np.nan, np.nan, np.nan, 0.5],
                              np.float32))
    assert np.signbit(out[0]) and not np.signbit(out[1])
    K.binary("floor_divide", a, b, out)
    assert_same(out[2:], np.array([-2.0, -2.0, np.inf, np.inf, -np.inf, np.nan, -4.0],
                                  np.float32))


def test_maximum_minimum_propagate_nan_and_relu_backward_passes_nan():
    a = np.array([np.nan, 1.0, 2.0], np.float64)
    b = np.array([1.0, np.nan, 1.0], np.float64)
    out = np.empty(3)
    K.binary("maximum", a, b, out)
    assert_same(out, np.array([np.nan, np.nan, 2.0]))
    K.binary("minimum", a, b, out)
    assert_same(out, np.array([np.nan, np.nan, 1.0]))
    K.binary("relu_backward", np.ones(3), np.array([np.nan, 0.0, 2.0]), out)
    assert_same(out, np.array([1.0, 0.0, 1.0]))


# ---------------------------------------------------------------- layouts: strided, broadcast

LAYOUT_OPS = [("add", np.float32), ("sub", np.int64), ("maximum", np.float64)]


@pytest.mark.parametrize("op,dtype", LAYOUT_OPS)
@SETTINGS
@given(data=st.data(), shape=shapes())
def test_binary_any_layout(op, dtype, data, shape):
    a = data.draw(views(shape, dtype))
    b = data.draw(views(shape, dtype))
    out = data.draw(views(shape, dtype, layouts=("contiguous", "permuted", "stepped")))
    expected = binary_reference(op, a, b, out.dtype)
    assert K.binary(op, a, b, out) is out
    assert_same(out, expected)


@SETTINGS
@given(data=st.data(), shape=shapes())
def test_unary_any_layout(data, shape):
    x = data.draw(views(shape, np.float32))
    out = data.draw(views(shape, np.float32, layouts=("contiguous", "permuted", "stepped")))
    expected = unary_reference("exp", x, np.float32)
    K.unary("exp", x, out)
    assert_same(out, expected, rtol=2.5e-7)


@SETTINGS
@given(data=st.data(), shape=shapes(max_dims=3))
def test_in_place(data, shape):
    a = data.draw(views(shape, np.float64, layouts=("contiguous", "permuted", "stepped")))
    b = data.draw(views(shape, np.float64))
    expected = a * b
    K.binary("mul", a, b, a)                  # out is a
    assert_same(a, expected)
    expected = -a
    K.unary("neg", a, a)
    assert_same(a, expected)


def test_scalar_operand_fast_paths():
    x = np.arange(10, dtype=np.float32).reshape(2, 5)
    lr = broadcast(np.array([[0.5]], np.float32), (2, 5))
    out = np.empty_like(x)
    K.binary("sub", lr, x, out)                # scalar on the left
    assert_same(out, 0.5 - x)
    K.binary("pow", x, broadcast(np.array([[2.0]], np.float32), (2, 5)), out)   # on the right
    assert_same(out, x * x)
    K.unary("sqrt", broadcast(np.array([[4.0]], np.float32), (2, 5)), out)
    assert_same(out, np.full((2, 5), 2.0, np.float32))


def test_read_only_broadcast_views_work():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    b = np.broadcast_to(np.arange(4.0), (3, 4))          # read-only
    out = np.empty_like(a)
    K.binary("add", a, b, out)
    assert_same(out, a + np.arange(4.0))


def test_elementwise_shapes_must_agree():
    with pytest.raises(ValueError, match="equal shapes"):
        K.binary("add", np.ones((2, 3)), np.ones((3, 2)).T.T[:, :2], np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative strides"):
        x = np.ones((4, 3))
        K.binary("add", x[::-1], x, np.empty((4, 3)))


@SETTINGS
@given(data=st.data(), shape=shapes())
def test_where_any_layout(data, shape):
    cond = data.draw(views(shape, np.bool_))
    a = data.draw(views(shape, np.float32))
    b = data.draw(views(shape, np.float32))
    out = np.empty(shape, np.float32)
    K.where(cond, a, b, out)
    assert_same(out, np.where(cond, a, b))


# ------------------------------------------------------------------------------ parallel path


def test_parallel_path_on_big_arrays(monkeypatch):
    rng = np.random.default_rng(0)
    n = K.PARALLEL_MIN + 12345                 # above the real threshold
    x = values(rng, (n,), np.float32)
    y = values(rng, (n,), np.float32)
    out = np.empty(n, np.float32)
    K.binary("add", x, y, out)
    with np.errstate(invalid="ignore"):
        assert_same(out, x + y)
    K.unary("exp", x, out)
    assert_same(out, unary_reference("exp", x, np.float32), rtol=2.5e-7)
    assert K._binary_for("add").strided_parallel.signatures    # the threaded loops ran
    assert K._unary_for("exp").strided_parallel.signatures
    # a broadcast (column) operand and where, with the threshold lowered to keep them small
    monkeypatch.setattr(K, "PARALLEL_MIN", 1 << 12)
    m = values(rng, (400, 300), np.float32)
    col = broadcast(values(rng, (400, 1), np.float32), (400, 300))
    big = np.empty((400, 300), np.float32)
    K.binary("add", m, col, big)
    with np.errstate(invalid="ignore"):
        assert_same(big, m + col)
    K.where(m > 0, m, col.T.T, big)
    assert_same(big, np.where(m > 0, m, col))
    assert K._where_strided_parallel.signatures


# ----------------------------------------------------------------------------- copy and fill


@pytest.mark.parametrize("src,dst", [(np.float32, np.int64), (np.float64, np.uint8),
                                     (np.float32, np.bool_), (np.int64, np.float32),
                                     (np.int64, np.int16), (np.bool_, np.float64),
                                     (np.float64, np.float32)])
@settings(max_examples=10, deadline=None)
@given(data=st.data(), shape=shapes(max_dims=3))
def test_copy_converts_like_pytorch(src, dst, data, shape):
    x = data.draw(views(shape, src, special=False))
    if np.dtype(src).kind == "f":
        x = x * 100
    out = np.empty(shape, dst)
    K.copy(x, out)
    if np.dtype(src).kind == "f" and np.dtype(dst).kind in "iu":
        expected = np.trunc(x).astype(np.int64).astype(dst)      # truncate, then wrap
    else:
        expected = x.astype(dst)
    assert_same(out, expected)


def test_copy_specials():
    out = np.empty(4, np.uint8)
    K.copy(np.array([-1.0, -3.7, 255.9, 300.0], np.float32), out)
    assert_same(out, np.array([255, 253, 255, 44], np.uint8))
    flags = np.empty(4, np.bool_)
    K.copy(np.array([np.nan, 0.0, -0.0, 0.1]), flags)
    assert_same(flags, np.array([True, False, False, True]))


def test_fill():
    out = np.zeros((3, 4), np.int64)
    K.fill(out, 2.7)
    assert_same(out, np.full((3, 4), 2, np.int64))
    view = np.zeros((4, 6), np.float32)[::2, 1::2]
    K.fill(view, -1.5)
    assert_same(view, np.full((2, 3), -1.5, np.float32))
    flags = np.zeros(5, np.bool_)
    K.fill(flags, 3)
    assert flags.all()


# ---------------------------------------------------------------------------------- memory


def test_memory_primitives():
    buf = K.empty((12,), np.float32)
    assert buf.flags.c_contiguous and buf.dtype == np.float32
    buf[:] = np.arange(12)
    view = K.as_strided(buf, 1, (2, 3), (4, 1))
    assert_same(view, np.array([[1, 2, 3], [5, 6, 7]], np.float32))
    view[0, 0] = 100                           # a view: shares memory
    assert buf[1] == 100
    assert_same(K.as_strided(buf, 2, (), ()), np.array(buf[2]))
    assert_same(K.as_strided(buf, 0, (3, 2), (0, 1)), np.array([[0, 100]] * 3, np.float32))
    stepped = buf[::2]
    assert_same(K.as_strided(stepped, 1, (2,), (2,)), np.array([2, 6], np.float32))
    with pytest.raises(ValueError):
        K.as_strided(buf, 10, (2, 2), (2, 1))  # would run past the end
    a = np.ones(3)
    assert K.from_numpy(a) is a and K.to_numpy(a) is a


# ------------------------------------------------------------------------------ reductions


def reduce_reference(op, x, axes):
    if op in ("sum", "prod"):
        wide = x.astype(np.float64 if x.dtype.kind == "f" else np.int64)
        return getattr(np, op)(wide, axis=axes, keepdims=True)
    return getattr(np, {"max": "max", "min": "min", "any": "any", "all": "all"}[op])(
        x, axis=axes, keepdims=True)


def reduce_out_dtype(op, dtype):
    if op in ("any", "all"):
        return np.bool_
    if op in ("sum", "prod") and np.dtype(dtype).kind in "iub":
        return np.int64
    return dtype


REDUCE_CASES = [("sum", np.float32), ("sum", np.int32), ("sum", np.bool_), ("prod", np.float64),
                ("prod", np.int64), ("max", np.float32), ("min", np.uint8), ("any", np.float32),
                ("all", np.bool_)]


@pytest.mark.parametrize("op,dtype", REDUCE_CASES)
@settings(max_examples=20, deadline=None)
@given(data=st.data(), shape=shapes(min_side=1))
def test_reduce(op, dtype, data, shape):
    x = data.draw(views(shape, dtype, special=op not in ("sum", "prod")))
    if op == "prod" and x.dtype.kind == "f":
        x = np.clip(x, -2, 2)
    axes = tuple(sorted(set(data.draw(st.lists(st.integers(0, max(len(shape) - 1, 0)),
                                               min_size=1, max_size=3)))))
    if not shape:
        axes = ()
    out_shape = tuple(1 if d in axes else n for d, n in enumerate(shape))
    out = np.empty(out_shape, reduce_out_dtype(op, dtype))
    expected = reduce_reference(op, x, axes).astype(out.dtype)
    K.reduce(op, x, axes, out)
    assert_same(out, expected, **tolerance(out.dtype))


def test_reduce_fast_paths_and_nan():
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    out = np.empty((4, 1), np.float32)
    K.reduce("sum", x, (1,), out)              # rows
    assert_same(out, x.sum(axis=1, keepdims=True))
    out = np.empty((1, 6), np.float32)
    K.reduce("max", x, (0,), out)              # cols
    assert_same(out, x.max(axis=0, keepdims=True))
    x[2, 3] = np.nan
    K.reduce("min", x, (0,), out)
    assert np.isnan(out[0, 3]) and out[0, 0] == 0
    full = np.empty((1, 1), np.float32)
    K.reduce("sum", x, (0, 1), full)
    assert np.isnan(full[0, 0])


def test_float32_sum_accumulates_in_float64():
    x = np.full(10**6 + 1, 0.1, np.float32)
    x[0] = 1e8                                 # float32 accumulation would lose the 0.1s
    out = np.empty(1, np.float32)
    K.reduce("sum", x, (0,), out)
    assert out[0] == np.float32(np.float64(1e8) + 10**6 * np.float64(np.float32(0.1)))


def test_reduce_empty_and_parallel(monkeypatch):
    out = np.empty((1, 3), np.float64)
    K.reduce("sum", np.empty((0, 3)), (0,), out)
    assert_same(out, np.zeros((1, 3)))
    K.reduce("prod", np.empty((0, 3)), (0,), out)
    assert_same(out, np.ones((1, 3)))
    with pytest.raises(ValueError, match="empty"):
        K.reduce("max", np.empty((0, 3)), (0,), out)
    rng = np.random.default_rng(1)
    big = values(rng, (300, 400), np.float32, special=False)
    rows = np.empty((300, 1), np.float32)
    monkeypatch.setattr(K, "PARALLEL_MIN", 1 << 12)
    K.reduce("sum", big, (1,), rows)           # above PARALLEL_MIN: the parallel loop
    assert K._reduce_for("sum").strided_parallel.signatures
    assert_same(rows, big.astype(np.float64).sum(axis=1, keepdims=True).astype(np.float32),
                rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
@settings(max_examples=20, deadline=None)
@given(data=st.data(), shape=shapes(min_dims=1, min_side=1))
def test_argreduce(dtype, data, shape):
    x = data.draw(views(shape, dtype))
    axis = data.draw(st.integers(0, len(shape) - 1))
    out_shape = tuple(1 if d == axis else n for d, n in enumerate(shape))
    for op, ref in (("argmax", np.argmax), ("argmin", np.argmin)):
        out = np.empty(out_shape, np.int64)
        K.argreduce(op, x, axis, out)
        # numpy also returns the first occurrence and the first NaN
        assert_same(out, ref(x, axis=axis, keepdims=True))


def test_argreduce_nan_and_ties():
    x = np.array([[1.0, np.nan, 3.0, np.nan], [3.0, 1.0, 3.0, 0.0]], np.float32)
    out = np.empty((2, 1), np.int64)
    K.argreduce("argmax", x, 1, out)
    assert_same(out, np.array([[1], [0]]))
    K.argreduce("argmin", x, 1, out)
    assert_same(out, np.array([[1], [3]]))


# ------------------------------------------------------------------------------------ matmul


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
@settings(max_examples=10, deadline=None)
@given(data=st.data(), dims=st.tuples(st.integers(1, 3), st.integers(0, 70),
                                      st.integers(0, 70), st.integers(0, 70)))
def test_matmul(dtype, data, dims):
    bsz, m, k, n = dims
    a = data.draw(views((bsz, m, k), dtype, layouts=("contiguous", "permuted", "stepped",
                                                     "broadcast"), special=False))
    b = data.draw(views((bsz, k, n), dtype, layouts=("contiguous", "permuted", "stepped"),
                        special=False))
    expected = np.matmul(a, b)
    # sums of up to 70 products of numbers below 4: allow rounding relative to that scale
    close = {np.float32: dict(rtol=1e-5, atol=1e-4), np.float64: dict(rtol=1e-12, atol=1e-12)}
    out = np.empty((bsz, m, n), dtype)
    K.matmul(a, b, out)
    assert_same(out, expected, **close.get(dtype, {}))
    tiled = np.empty((bsz, m, n), dtype)
    K.matmul_tiled(a, b, tiled)
    assert_same(tiled, expected, **close.get(dtype, {}))


def test_matmul_tiled_crosses_tile_edges_on_threads():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 130, 200))     # 3.4 million multiply-adds: the threaded loop
    b = rng.standard_normal((2, 200, 65))
    out = np.empty((2, 130, 65))
    K.matmul_tiled(a, b, out)
    assert K._matmul_tiled_parallel.signatures
    assert_same(out, a @ b, rtol=1e-12, atol=1e-12)
    transposed_out = np.empty((2, 65, 130)).transpose(0, 2, 1)
    K.matmul_tiled(a, b, transposed_out)
    assert_same(transposed_out, a @ b, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------------- indexing


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@settings(max_examples=20, deadline=None)
@given(data=st.data(), shape=shapes(min_dims=1, min_side=1))
def test_gather_scatter(dtype, data, shape):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = data.draw(views(shape, dtype, layouts=("contiguous", "permuted", "stepped")))
    dim = data.draw(st.integers(0, len(shape) - 1))
    index_shape = tuple(data.draw(st.integers(0, n)) if d != dim else data.draw(st.integers(0, 4))
                        for d, n in enumerate(shape))
    index = rng.integers(0, shape[dim], size=index_shape).astype(np.int64)
    out = np.empty(index_shape, dtype)
    K.gather(x, dim, index, out)
    assert_same(out, np.take_along_axis(x[tuple(slice(0, n) if d != dim else slice(None)
                                                for d, n in enumerate(index_shape))],
                                        index, axis=dim))
    src = values(rng, index_shape, dtype)
    for reduce in (None, "add", "multiply"):
        target = x.copy()
        expected = x.copy()
        with np.errstate(invalid="ignore"):                  # inf * 0 in the reference
            scatter_reference(expected, dim, index, src, reduce)
        K.scatter(target, dim, index, src, reduce)
        assert_same(target, expected)


def scatter_reference(expected, dim, index, src, reduce):
    for pos in np.ndindex(*index.shape):
        at = pos[:dim] + (index[pos],) + pos[dim + 1:]
        if reduce is None:
            expected[at] = src[pos]
        elif reduce == "add":
            expected[at] += src[pos]
        else:
            expected[at] *= src[pos]


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
@settings(max_examples=20, deadline=None)
@given(data=st.data(), shape=shapes(min_dims=1, min_side=1))
def test_index_select_and_index_add(dtype, data, shape):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = data.draw(views(shape, dtype, layouts=("contiguous", "permuted", "stepped", "broadcast")))
    dim = data.draw(st.integers(0, len(shape) - 1))
    index = rng.integers(0, shape[dim], size=data.draw(st.integers(0, 6))).astype(np.int64)
    if data.draw(st.booleans()):
        index = np.repeat(index, 2)[::2]     # a strided index
    out_shape = shape[:dim] + (index.size,) + shape[dim + 1:]
    out = np.empty(out_shape, dtype)
    K.index_select(x, dim, index, out)
    assert_same(out, np.take(x, index, axis=dim))
    target = values(rng, shape, dtype)
    expected = target.copy()
    np.add.at(np.moveaxis(expected, dim, 0), index, np.moveaxis(out, dim, 0))
    K.index_add(target, dim, index, out)
    assert_same(target, expected, **tolerance(dtype))


def test_take_and_put():
    buf = np.arange(10, dtype=np.float32)
    offsets = np.array([[9, 0, 3], [3, 3, 1]], np.int64)
    out = np.empty((2, 3), np.float32)
    K.take(buf, offsets.reshape(-1), out)       # flat offsets for a 2-D out
    assert_same(out, buf[offsets])
    K.take(buf[::2], np.array([4, 0]), out[0, :2])
    assert_same(out[0, :2], np.array([8, 0], np.float32))
    acc = np.zeros(10, np.float32)
    K.put(acc, offsets.reshape(-1), np.ones(6, np.float32), True)
    assert_same(acc, np.bincount(offsets.reshape(-1), minlength=10).astype(np.float32))
    K.put(acc, np.array([0, 5]), np.array([-1.0, -2.0], np.float32), False)
    assert acc[0] == -1 and acc[5] == -2


@pytest.mark.parametrize("dtype", [np.float32, np.bool_])
@settings(max_examples=20, deadline=None)
@given(data=st.data(), shape=shapes())
def test_nonzero(dtype, data, shape):
    x = data.draw(views(shape, dtype))
    result = K.nonzero(x)
    assert result.dtype == np.int64
    assert_same(result, np.argwhere(x).astype(np.int64))


def sort_reference(x, axis, descending):
    def key(v):
        if isinstance(v, float) and math.isnan(v):
            return (0 if descending else 1, 0)
        return (1 if descending else 0, -v if descending else v)

    moved = np.moveaxis(x, axis, -1)
    order = np.empty(moved.shape, np.int64)
    for pos in np.ndindex(*moved.shape[:-1]):
        row = [v.item() for v in moved[pos]]
        order[pos] = sorted(range(len(row)), key=lambda i: (key(row[i]), i))
    order = np.moveaxis(order, -1, axis)
    return np.take_along_axis(x, order, axis=axis), order


@pytest.mark.parametrize("dtype", [np.float32, np.bool_])
@settings(max_examples=20, deadline=None)
@given(data=st.data(), shape=shapes(min_dims=1), descending=st.booleans())
def test_sort_is_stable_with_nan_last(dtype, data, shape, descending):
    x = data.draw(views(shape, dtype))
    if x.dtype.kind == "f":
        x = np.round(x)                      # plenty of ties
    axis = data.draw(st.integers(0, len(shape) - 1))
    values_out = np.empty(shape, dtype)
    indices_out = np.empty(shape, np.int64)
    K.sort(x, axis, descending, values_out, indices_out)
    expected_values, expected_order = sort_reference(x, axis, descending)
    assert_same(values_out, expected_values)
    assert_same(indices_out, expected_order)


# ----------------------------------------------------------------- ranges and running sums


def converted(x: np.ndarray, dtype) -> np.ndarray:
    """x (float64 or int64) in dtype as `copy` converts: floats truncate toward zero, then wrap."""
    dtype = np.dtype(dtype)
    if x.dtype.kind == "f" and dtype.kind in "iu":
        return np.trunc(x).astype(np.int64).astype(dtype)
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.float32, np.float64,
                                   np.bool_])
@pytest.mark.parametrize("start,step", [(0, 1), (3, -2), (7, 5), (0.5, 0.25), (2, 0.1),
                                        (-1.5, 3)])
def test_arange(dtype, start, step):
    """out[i] = start + i * step, in int64 for integer arguments and an integer out, else in
    float64 (numpy's `start + arange(n) * step`, two roundings), converted as copy converts."""
    n = 9
    exact = isinstance(start, int) and isinstance(step, int) and np.dtype(dtype).kind != "f"
    wide = start + np.arange(n, dtype=np.int64 if exact else np.float64) * step
    out = np.zeros(n, dtype)
    assert K.arange(out, start, step) is out
    assert_same(out, converted(wide, dtype))
    # a strided out: only its own elements are written
    buf = np.full(3 * n + 1, 99, dtype)
    K.arange(buf[1::3], start, step)
    assert_same(buf[1::3], converted(wide, dtype))
    assert (buf[0::3] == dtype(99)).all() and (buf[2::3] == dtype(99)).all()


def test_arange_float_steps_are_not_accumulated():
    """Element i is start + i * step, not a running sum, which drifts: 1000 additions of 0.1
    give 99.9999999999986, 1000 * 0.1 gives 100.0."""
    out = np.empty(1001)
    K.arange(out, 0.0, 0.1)
    assert_same(out, np.arange(1001) * 0.1)
    assert out[1000] == 100.0
    big = np.empty(3, np.int64)
    K.arange(big, 2 ** 62, 2 ** 60)                 # int64 arithmetic: no float rounding
    assert big.tolist() == [2 ** 62, 2 ** 62 + 2 ** 60, 2 ** 62 + 2 ** 61]
    K.arange(np.empty(0), 1.0, 1.0)                 # nothing to do


CUMULATIVE_DTYPES = [(np.float32, np.float32), (np.float64, np.float64), (np.int32, np.int64),
                     (np.uint8, np.int64), (np.bool_, np.int64), (np.int64, np.float64)]


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype,out_dtype", CUMULATIVE_DTYPES)
@SETTINGS
@given(data=st.data(), shape=shapes(min_dims=1, max_dims=3, max_side=5))
def test_cumsum_cumprod(op, dtype, out_dtype, data, shape):
    """Running sums (products) along each axis of any layout, into a contiguous or a transposed
    out: accumulated in float64 (floats) or int64 (integers, bools), each result converted to
    out's dtype, exactly as numpy's sequential cumsum/cumprod in that accumulator."""
    x = data.draw(views(shape, dtype, special=False))
    if op == "cumprod" and x.dtype.kind == "f":
        x = np.clip(x, -2, 2)
    axis = data.draw(st.integers(0, len(shape) - 1))
    acc = np.float64 if np.dtype(dtype).kind == "f" else np.int64
    expected = getattr(np, op)(x.astype(acc), axis=axis).astype(out_dtype)
    if data.draw(st.booleans()) and len(shape) >= 2:
        out = np.zeros(shape[::-1], out_dtype).T        # a non-contiguous out
    else:
        out = np.zeros(shape, out_dtype)
    assert getattr(K, op)(x, axis, out) is out
    assert_same(out, expected)


def test_cumsum_float32_accumulates_in_float64_and_rounds_each_output():
    x = np.full(101, 0.1, np.float32)
    x[0] = 1e8
    out = np.empty(101, np.float32)
    K.cumsum(x, 0, out)          # float32 running sums would stay at 1e8 (its ulp is 8)
    assert_same(out, np.cumsum(x.astype(np.float64)).astype(np.float32))
    assert out[-1] == np.float32(1e8 + 8)


def test_cumulative_special_values_and_empty():
    x = np.array([[1.0, np.inf, -np.inf, 2.0], [0.0, 3.0, np.nan, 1.0]])
    out = np.empty((2, 4))
    K.cumsum(x, 1, out)
    with np.errstate(invalid="ignore"):
        assert_same(out, np.cumsum(x, 1))          # inf - inf is NaN, and NaN stays
        K.cumprod(x, 1, out)
        assert_same(out, np.cumprod(x, 1))         # 0 * inf is NaN
    empty = np.empty((0, 3))
    assert K.cumsum(empty, 0, np.empty((0, 3))).shape == (0, 3)
    assert K.cumprod(np.empty((2, 0)), 1, np.empty((2, 0))).shape == (2, 0)


# --------------------------------------------------------------------------- random numbers
# The CPU's random numbers are numpy's draws from the Generator it is given, converted to out's
# dtype: the same seed gives the same numbers as numpy itself.

RANDOM_N = 4000


def mean_and_var_close(x, mean, var, sigmas=6.0):
    """The sample mean within `sigmas` standard errors of `mean`, the variance within 15%."""
    x = np.asarray(x, np.float64)
    assert abs(x.mean() - mean) < sigmas * math.sqrt(var / x.size), (x.mean(), mean)
    assert abs(x.var() - var) < 0.15 * var, (x.var(), var)


@pytest.mark.parametrize("dtype", FLOATS)
def test_random_uniform(dtype):
    out = np.empty(RANDOM_N, dtype)
    assert K.random_uniform(out, np.random.default_rng(7), -2.0, 3.0) is out
    assert_same(out, np.random.default_rng(7).uniform(-2.0, 3.0, RANDOM_N).astype(dtype))
    assert out.min() >= -2.0 and out.max() < 3.0
    mean_and_var_close(out, 0.5, 25 / 12)
    assert np.histogram(out, bins=5, range=(-2, 3))[0].min() > RANDOM_N / 5 * 0.85
    buf = np.full(2 * 6, -7.0, dtype)             # a strided out keeps its other elements
    K.random_uniform(buf[::2].reshape(2, 3), np.random.default_rng(1), 0.0, 1.0)
    assert (buf[1::2] == -7).all() and (buf[::2] >= 0).all() and (buf[::2] < 1).all()


def test_random_uniform_never_rounds_up_to_high():
    """numpy draws in float64; a draw within 2^-25 of 1 rounds to 1.0 in float32 (about 3 times
    in 10^8 draws). A generator that returns the largest float64 below `high` shows that such a
    number still lands inside [low, high) (it becomes low)."""
    class AlmostHigh:
        def uniform(self, low, high, shape):
            return np.full(shape, np.nextafter(high, low))

    for dtype, low, high in [(np.float32, 0.0, 1.0), (np.float32, 1.0, 2.0),
                             (np.float64, 0.0, 1.0), (np.float32, -1.0, 0.1)]:
        out = np.empty(3, dtype)
        K.random_uniform(out, AlmostHigh(), low, high)
        assert (out < dtype(high)).all() and (out >= dtype(low)).all(), (dtype, high, out)
        scalar = np.empty((), dtype)
        K.random_uniform(scalar, AlmostHigh(), low, high)
        assert scalar < dtype(high)


@pytest.mark.parametrize("dtype", FLOATS)
def test_random_normal_and_exponential(dtype):
    out = np.empty((40, 100), dtype)
    K.random_normal(out, np.random.default_rng(3), 1.5, 2.0)
    assert_same(out, np.random.default_rng(3).normal(1.5, 2.0, (40, 100)).astype(dtype))
    mean_and_var_close(out, 1.5, 4.0)
    K.random_exponential(out, np.random.default_rng(4), 4.0)
    assert_same(out, np.random.default_rng(4).exponential(0.25, (40, 100)).astype(dtype))
    assert out.min() >= 0
    mean_and_var_close(out, 0.25, 1 / 16)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.float32])
def test_random_integers(dtype):
    out = np.empty(RANDOM_N, dtype)
    K.random_integers(out, np.random.default_rng(5), 2, 9)
    assert_same(out, np.random.default_rng(5).integers(2, 9, RANDOM_N).astype(dtype))
    counts = np.bincount(out.astype(np.int64), minlength=9)
    assert counts[:2].sum() == 0 and counts[2:].min() > RANDOM_N / 7 * 0.8   # all of [2, 9)
    signed = np.empty(500, np.int64)
    K.random_integers(signed, np.random.default_rng(6), -3, 0)
    assert set(signed.tolist()) == {-3, -2, -1}


@pytest.mark.parametrize("n", [0, 1, 2, 57])
def test_random_permutation(n):
    for dtype in (np.int64, np.int32):
        out = np.empty(n, dtype)
        K.random_permutation(out, np.random.default_rng(n))
        assert sorted(out.tolist()) == list(range(n))
    if n == 57:
        again = np.empty(n, np.int64)
        K.random_permutation(again, np.random.default_rng(n))
        assert_same(again, np.random.default_rng(n).permutation(n))
        K.random_permutation(again, np.random.default_rng(n + 1))
        assert not np.array_equal(again, np.random.default_rng(n).permutation(n))


def test_random_multinomial():
    probs = np.array([[0.0, 1.0, 2.0, 0.0, 3.0, 1.0],
                      [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                      [0.0, 0.0, 0.0, 0.0, 5.0, 0.0]])
    rng = np.random.default_rng(8)
    for _ in range(20):                           # without replacement: never twice, never 0
        out = np.empty((2, 4), np.int64)
        K.random_multinomial(out, rng, probs[:2], False)
        for row, p in zip(out, probs):
            assert len(set(row.tolist())) == 4 and (p[row] > 0).all()
    out = np.empty((3, RANDOM_N), np.int64)
    K.random_multinomial(out, rng, probs, True)
    for row, p in zip(out, probs):
        counts = np.bincount(row, minlength=6)
        assert (counts[p == 0] == 0).all()
        expected = RANDOM_N * p / p.sum()
        assert (np.abs(counts - expected) < 6 * np.sqrt(expected) + 1e-9).all(), (counts, expected)


# ------------------------------------------- vector width on AVX-512 (opt-in, speedups.py)


def _run_fresh(code: str, env: dict | None = None) -> str:
    """What `code` prints in a new Python process whose environment has no Numba CPU settings
    and no TINYGRAD_EDU_512BIT, plus `env`."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("NUMBA_CPU_FEATURES", "NUMBA_CPU_NAME", "TINYGRAD_EDU_512BIT")}
    done = subprocess.run([sys.executable, "-c", code], env=clean | (env or {}),
                          capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.strip()


def _numba_cpu_features_after_import(env: dict) -> str:
    return _run_fresh("import os, tinygrad_edu.kernels_cpu; "
                      "print(os.environ.get('NUMBA_CPU_FEATURES', '<unset>'))", env)


def test_512_bit_vectors_only_when_asked_for_and_only_on_avx512_hosts():
    """Importing the kernels leaves Numba's CPU settings alone; TINYGRAD_EDU_512BIT=1 asks for
    512-bit vectors (speedups.py). Before, the import set them on every AVX-512 host."""
    host = binding.get_host_cpu_features()
    assert _numba_cpu_features_after_import({}) == "<unset>"
    seen = _numba_cpu_features_after_import({"TINYGRAD_EDU_512BIT": "1"})
    if host.get("avx512f"):
        assert seen == host.flatten() + ",-prefer-256-bit"
    else:
        assert seen == "<unset>"


def test_a_users_numba_cpu_features_are_kept():
    assert _numba_cpu_features_after_import({"NUMBA_CPU_FEATURES": "+sse2"}) == "+sse2"


def test_the_kernels_compiled_on_avx512_with_the_opt_in_use_zmm_registers():
    if not binding.get_host_cpu_features().get("avx512f"):
        pytest.skip("not an AVX-512 processor")
    code = ("import numpy as np, tinygrad_edu.kernels_cpu\n"
            "from numba import njit\n"
            "@njit(fastmath={'contract'})\n"
            "def scale(x, out):\n"
            "    for i in range(out.size):\n"
            "        out[i] = x[i] * np.float32(2.5)\n"
            "x = np.ones(64, np.float32)\n"
            "scale(x, np.empty_like(x))\n"
            "print('zmm' in scale.inspect_asm(scale.signatures[0]))\n")
    assert _run_fresh(code, {"TINYGRAD_EDU_512BIT": "1"}) == "True"


def test_numba_disable_jit_is_refused_with_a_clear_error():
    code = ("import tinygrad_edu as tg\n"
            "try:\n"
            "    tg.zeros(2)\n"
            "except ImportError as error:\n"
            "    print(error)\n")
    said = _run_fresh(code, {"NUMBA_DISABLE_JIT": "1"})
    assert "need Numba's compiler, but NUMBA_DISABLE_JIT=1 is set" in said
