"""The CPU primitives: Numba kernels behind every tensor operation (docs/primitives.md).

The tensor layer checks shapes, dtypes and index ranges, then calls these functions with numpy
arrays: `out` is written, the inputs are read, and every array may be a strided view. Each
primitive picks the cheapest loop that fits the arrays' layout:

    contiguous   every array C-contiguous: one flat loop `for i in range(n)`;
    scalar       one input is a single value broadcast everywhere (`lr * grad`);
    strided      anything else: 1-D views of each array's memory plus one int64 table `meta`
                 (the shape, then each array's strides in elements); the loop walks rows and
                 the innermost dimension is specialised for the usual stride patterns;
    parallel     the strided loop with `prange`, for arrays of PARALLEL_MIN (2^20) elements up.

The interface these functions implement, with each one's contract, is primitives.py (the op
names UNARY_OPS, ... live there, once).

How an op gets its kernels. The math of every op is written once, one line each, in the
tables of elementwise_math.py (what one output element is), shared with the CUDA kernels and
compiled here with the CPU's library (speedups.exp for float32 exp, numpy's floor, ...). A factory (`_unary_kernels(op)`,
...) writes the loops with the op's integer code captured from its closure; Numba treats that
integer as a compile-time constant and inlines that op's line into the loop, so the loop it
compiles is the one you would write by hand for that op (it vectorizes to SIMD as well as
`np.add`). Kernels are built per op name on first use and compiled per dtype on first call;
they are cached on disk (`cache=True`), so nothing compiles at import and a second run starts
fast. Only plain integers go into the closures: the on-disk cache keys on their pickled value,
which is the same in every process.

Number semantics follow PyTorch: `remainder` and `floor_divide` round toward -inf (Python's
rule), `round` is half-to-even, `maximum`/`minimum`/`max`/`min` propagate NaN, `sign(nan)` is 0,
`relu(nan)` is NaN, float-to-int copies truncate toward zero, float32 sums accumulate in float64.
Integer division by zero (which PyTorch refuses, and the tensor layer checks first) gives 0
here instead of crashing: all elementwise kernels use Numba's `error_model="numpy"`.

The code here is the plain path. The speed tricks that measurably pay are in speedups.py, each
with its benchmark figures, and are used only through it: the float32 exp (`speedups.exp`),
one BLAS thread for small matmuls (`speedups.blas_threads`), and 512-bit vectors on AVX-512
processors when TINYGRAD_EDU_512BIT=1 is set.
"""
from __future__ import annotations

import functools
import math

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import overload
from numba.np.numpy_support import as_dtype

from tinygrad_edu import elementwise_math, speedups
from tinygrad_edu.elementwise_math import ByKind
# the interface this module implements: the op names, and the argument checks that need no device
from tinygrad_edu.primitives import (ARGREDUCE_OPS, BINARY_OPS, REDUCE_OPS, UNARY_OPS,
                                     check_same_shape as _check_same_shape, unknown_op)
from tinygrad_edu.primitives import accumulator_dtype as _accumulator_dtype
from tinygrad_edu.primitives import arange_dtype as _arange_dtype
from tinygrad_edu.primitives import check_floats as _check_floats
from tinygrad_edu.primitives import check_windows as _check_windows
from tinygrad_edu.primitives import im2col_geometry as _im2col_shape


if numba.config.DISABLE_JIT:
    # Run as plain Python the kernels would not keep their semantics (math.log(-1.0) raises
    # where the compiled loop gives nan; numpy scalars overflow differently), so say so now
    # rather than fail or differ later, op by op.
    raise ImportError("tinygrad_edu's CPU kernels need Numba's compiler, but NUMBA_DISABLE_JIT=1 "
                      "is set; unset it (to read a kernel's loop as Python, use its .py_func)")


# The one trick that must come before Numba compiles anything: 512-bit vectors, if the user
# asked for them with TINYGRAD_EDU_512BIT=1 (speedups.py; nothing changes otherwise).
speedups.use_512_bit_vectors_if_asked()

__all__ = [
    "UNARY_OPS", "BINARY_OPS", "REDUCE_OPS", "ARGREDUCE_OPS",
    "empty", "from_numpy", "to_numpy", "as_strided", "fill", "copy",
    "unary", "binary", "where", "reduce", "argreduce", "matmul", "matmul_tiled",
    "gather", "scatter", "index_select", "index_add", "take", "put", "nonzero", "sort",
]

# Arrays with at least this many elements use the multi-threaded kernels. Starting threads costs
# a few microseconds, and elementwise loops are memory-bound: on an idle 2-core machine two
# threads make a 10^6-float add 1.9x faster (0.43 -> 0.23 ms), but when other processes keep
# the cores busy the threads wait for each other and the same add took 15 ms instead of 0.5.
# So threads are kept for arrays big enough (4 MiB of float32) that the gain is worth that risk;
# lower this on a machine of your own.
PARALLEL_MIN = 1 << 20
# A strided kernel splits each row into chunks of at most this many elements: the unit of work
# a thread takes, so that even a single long row (a 1-D array) is shared between threads.
CHUNK = 8192

# Compiler settings shared by the kernels.
#   error_model="numpy": division by zero gives inf/nan (and 0 for integers) instead of raising,
#     which also lets integer and float division loops vectorize.
#   fastmath "contract": a*b + c may become one fused multiply-add (one rounding instead of two:
#     faster and never less accurate). No other fast-math liberty: NaN and inf stay IEEE.
#   fastmath "reassoc" (reductions only): the sum may be reordered into several SIMD partial
#     sums; float32 data is summed in float64, so the order does not show in the result.
_ELEMENTWISE = dict(cache=True, error_model="numpy", fastmath={"contract"})
_REDUCTION = dict(cache=True, error_model="numpy", fastmath={"reassoc"})
_PLAIN = dict(cache=True, error_model="numpy")


# ------------------------------------------------------------------------ the math of every op
# What one element of the output is lives in elementwise_math.py, written once for both
# devices. Compiled here with the CPU's own library: the float32 exp of speedups.py; numpy's
# floor, ceil, trunc, fmod, copysign and rint (round half to even in one instruction, where
# the GPU computes it by hand); Python's math for the rest, which Numba compiles to the C
# library's IEEE functions. Ops whose math differs for floats and integers (ByKind) become a
# `_by_type` function, whose body Numba chooses from the argument types while it compiles.


def _zero_like(x):
    """0 of x's own type (a bare `0` would turn float32 code into float64 code)."""
    return type(x)(0)


@overload(_zero_like, inline="always")
def _zero_like_typed(x):
    zero = as_dtype(x).type(0)
    return lambda x: zero


def _pick(t, entry: ByKind):
    if isinstance(t, types.Float):
        return entry.for_kind("f")
    return entry.for_kind("b" if isinstance(t, types.Boolean) else "i")


def _python_kind(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "b"
    return "f" if isinstance(x, (float, np.floating)) else "i"


def _by_type(entry: ByKind):
    """f(x) that runs entry.float on floats, entry.int on integers, entry.bool on bools."""
    def dispatch(x):
        return entry.for_kind(_python_kind(x))(x)

    @overload(dispatch, inline="always")
    def _select(x):
        return _pick(x, entry)
    dispatch.by_type = True
    return dispatch


def _by_type2(entry: ByKind):
    """f(a, b) that runs entry.float, entry.int or entry.bool by the type of a."""
    def dispatch(a, b):
        return entry.for_kind(_python_kind(a))(a, b)

    @overload(dispatch, inline="always")
    def _select(a, b):
        return _pick(a, entry)
    dispatch.by_type = True
    return dispatch


_MATH = elementwise_math.compiled_for(
    dict(exp=speedups.exp, expm1=math.expm1, log=math.log, log2=math.log2, log1p=math.log1p,
         sqrt=math.sqrt, sin=math.sin, cos=math.cos, tan=math.tan, tanh=math.tanh,
         atan2=math.atan2, erf=math.erf, floor=np.floor, ceil=np.ceil, trunc=np.trunc,
         fmod=np.fmod, copysign=np.copysign, round_half_even=np.rint, zero_like=_zero_like),
    compile=njit(inline="always"))


def _for_cpu(entry, by_type):
    return by_type(entry) if isinstance(entry, ByKind) else entry


UNARY_MATH = {op: _for_cpu(fn, _by_type) for op, fn in _MATH.UNARY_MATH.items()}
BINARY_MATH = {op: _for_cpu(fn, _by_type2) for op, fn in _MATH.BINARY_MATH.items()}
_UNARY_CODES = {name: code for code, name in enumerate(UNARY_MATH)}
_BINARY_CODES = {name: code for code, name in enumerate(BINARY_MATH)}
_UNARY_FUNCTIONS = tuple(UNARY_MATH.values())
_BINARY_FUNCTIONS = tuple(BINARY_MATH.values())


def _reduce_init(identity):
    """The starting accumulator, given the first element: the identity, or that element.
    Sum and prod start from an int, which Numba widens to int64 for integer and bool data
    and to float64 for float data: float32 sums accumulate in float64."""
    if identity is None:
        return lambda first: first
    return lambda first: identity


# For each reduction: the accumulator before any element (given the first one), and the
# accumulator after one more element x (elementwise_math.REDUCE_MATH).
REDUCE_MATH = {op: (_reduce_init(identity), combine)
               for op, (identity, combine) in _MATH.REDUCE_MATH.items()}
_REDUCE_CODES = {name: code for code, name in enumerate(REDUCE_MATH)}
_REDUCE_INITS = tuple(init for init, _ in REDUCE_MATH.values())
_REDUCE_COMBINES = tuple(combine for _, combine in REDUCE_MATH.values())


# How a kernel reaches the math of its op. The kernel factories capture the op's code, a plain
# int (it keys Numba's on-disk cache, and an int pickles the same in every process). Numba sees
# that closure int as a constant, so `unary_op(op, x)` below resolves, while the kernel is being
# compiled, to the table entry of that one op, inlined into the loop: the loop compiles to what
# you would write by hand for that op. (An if/elif chain over all ops, pruned to one branch,
# gives the same code but takes Numba twice as long to compile for each op and dtype.)


def unary_op(op: int, x):
    """UNARY_MATH entry number `op` applied to x (also callable from plain Python)."""
    return _UNARY_FUNCTIONS[op](x)


def binary_op(op: int, a, b):
    """BINARY_MATH entry number `op` applied to a and b."""
    return _BINARY_FUNCTIONS[op](a, b)


def reduce_init(op: int, first):
    """The starting accumulator of REDUCE_MATH entry number `op`."""
    return _REDUCE_INITS[op](first)


def reduce_combine(op: int, acc, x):
    """The accumulator of REDUCE_MATH entry number `op` after one more element."""
    return _REDUCE_COMBINES[op](acc, x)


_INLINED: dict = {}


def _inlined(function):
    """`function` compiled for inlining into kernels (made once, on first use); a `_by_type`
    function is called as it is (its overload is inlined)."""
    if getattr(function, "by_type", False):
        return function
    jitted = _INLINED.get(function)
    if jitted is None:
        jitted = _INLINED[function] = njit(inline="always")(function)
    return jitted


@overload(unary_op, prefer_literal=True)
def _unary_op_typed(op, x):
    if isinstance(op, types.IntegerLiteral):
        math_of_op = _inlined(_UNARY_FUNCTIONS[op.literal_value])
        return lambda op, x: math_of_op(x)


@overload(binary_op, prefer_literal=True)
def _binary_op_typed(op, a, b):
    if isinstance(op, types.IntegerLiteral):
        math_of_op = _inlined(_BINARY_FUNCTIONS[op.literal_value])
        return lambda op, a, b: math_of_op(a, b)


@overload(reduce_init, prefer_literal=True)
def _reduce_init_typed(op, first):
    if isinstance(op, types.IntegerLiteral):
        math_of_op = _inlined(_REDUCE_INITS[op.literal_value])
        return lambda op, first: math_of_op(first)


@overload(reduce_combine, prefer_literal=True)
def _reduce_combine_typed(op, acc, x):
    if isinstance(op, types.IntegerLiteral):
        math_of_op = _inlined(_REDUCE_COMBINES[op.literal_value])
        return lambda op, acc, x: math_of_op(acc, x)


# ------------------------------------------------------------------ strided loops (meta table)
# A strided kernel receives, for each array, a 1-D view of its memory that starts at its first
# element, and `meta`, an int64 table: meta[0] is the shape, meta[k] the strides (in elements)
# of the k-th array. Element idx of array k is buffer_k[sum(idx[d] * meta[k, d])]. The loops
# treat the last dimension as "the row" and number the rows over all the other dimensions.


@njit(cache=True)
def _offset(meta, k, index, first, last):
    """Offset in array k's buffer of the element whose C-order linear index over dimensions
    first..last-1 is `index` (its other coordinates are 0)."""
    index = np.int64(index)   # a prange index may arrive unsigned; keep the arithmetic signed
    offset = 0
    for d in range(last - 1, first - 1, -1):
        n = meta[0, d]
        offset += (index % n) * meta[k, d]
        index //= n
    return offset


@njit(cache=True)
def _product(meta, first, last):
    """Number of elements spanned by dimensions first..last-1 of the shape."""
    size = 1
    for d in range(first, last):
        size *= meta[0, d]
    return size


@njit(cache=True)
def _chunks(meta):
    """Pieces of at most CHUNK elements that each row is cut into for the parallel loops."""
    return (meta[0, meta.shape[1] - 1] + CHUNK - 1) // CHUNK


# The run loops index views that start at the run's first element with j * stride, j >= 0:
# Numba can then see that no index is negative and skips its wraparound check, which would
# otherwise keep LLVM from vectorizing. They are called with literal strides for the common
# patterns, so each call becomes a loop specialised (and vectorized) for that pattern.


@njit(inline="always")
def _unary_run(op, x, sx, out, so, n):
    for j in range(n):
        out[j * so] = unary_op(op, x[j * sx])


@njit(inline="always")
def _unary_row(op, x, out, meta, row, lo, hi):
    """Elements lo..hi-1 of row `row` of a strided unary loop; innermost strides (x, out)
    specialised for (1, 1) and (0, 1) (one value broadcast along the row)."""
    last = meta.shape[1] - 1
    sx, so = meta[1, last], meta[2, last]
    x = x[_offset(meta, 1, row, 0, last) + lo * sx:]
    out = out[_offset(meta, 2, row, 0, last) + lo * so:]
    if sx == 1 and so == 1:
        _unary_run(op, x, 1, out, 1, hi - lo)
    elif sx == 0 and so == 1:
        _unary_run(op, x, 0, out, 1, hi - lo)
    else:
        _unary_run(op, x, sx, out, so, hi - lo)


@njit(inline="always")
def _binary_run(op, a, sa, b, sb, out, so, n):
    for j in range(n):
        out[j * so] = binary_op(op, a[j * sa], b[j * sb])


@njit(inline="always")
def _binary_row(op, a, b, out, meta, row, lo, hi):
    """Elements lo..hi-1 of row `row` of a strided binary loop; innermost strides (a, b, out)
    specialised for (1, 1, 1) and for a broadcast along the row, (1, 0, 1) and (0, 1, 1)."""
    last = meta.shape[1] - 1
    sa, sb, so = meta[1, last], meta[2, last], meta[3, last]
    a = a[_offset(meta, 1, row, 0, last) + lo * sa:]
    b = b[_offset(meta, 2, row, 0, last) + lo * sb:]
    out = out[_offset(meta, 3, row, 0, last) + lo * so:]
    if sa == 1 and sb == 1 and so == 1:
        _binary_run(op, a, 1, b, 1, out, 1, hi - lo)
    elif sa == 1 and sb == 0 and so == 1:
        _binary_run(op, a, 1, b, 0, out, 1, hi - lo)
    elif sa == 0 and sb == 1 and so == 1:
        _binary_run(op, a, 0, b, 1, out, 1, hi - lo)
    else:
        _binary_run(op, a, sa, b, sb, out, so, hi - lo)


@njit(inline="always")
def _where_run(cond, sc, a, sa, b, sb, out, so, n):
    for j in range(n):
        out[j * so] = a[j * sa] if cond[j * sc] else b[j * sb]


@njit(inline="always")
def _where_row(cond, a, b, out, meta, row, lo, hi):
    last = meta.shape[1] - 1
    sc, sa, sb, so = meta[1, last], meta[2, last], meta[3, last], meta[4, last]
    cond = cond[_offset(meta, 1, row, 0, last) + lo * sc:]
    a = a[_offset(meta, 2, row, 0, last) + lo * sa:]
    b = b[_offset(meta, 3, row, 0, last) + lo * sb:]
    out = out[_offset(meta, 4, row, 0, last) + lo * so:]
    if sc == 1 and sa == 1 and sb == 1 and so == 1:
        _where_run(cond, 1, a, 1, b, 1, out, 1, hi - lo)
    else:
        _where_run(cond, sc, a, sa, b, sb, out, so, hi - lo)


# --------------------------------------------------------------------------- kernel factories
# Serial strided loops walk the rows in order. Parallel ones cut every row into chunks and let
# `prange` share the (row, chunk) pieces among threads: even one long row (a 1-D array) splits.


class _Kernels:
    """The loops of one op, by layout. Each is compiled on its first call."""

    def __init__(self, **loops):
        self.__dict__.update(loops)


def _unary_kernels(op: int) -> _Kernels:
    """The loops of unary op number `op`: out = op(x) elementwise."""
    @njit(**_ELEMENTWISE)
    def contiguous(x, out):
        for i in range(out.size):
            out[i] = unary_op(op, x[i])

    @njit(**_ELEMENTWISE)
    def scalar(value, out):          # x is one value (e.g. fill)
        y = unary_op(op, value)
        for i in range(out.size):
            out[i] = y

    @njit(**_ELEMENTWISE)
    def strided(x, out, meta):
        inner = meta[0, meta.shape[1] - 1]
        for row in range(_product(meta, 0, meta.shape[1] - 1)):
            _unary_row(op, x, out, meta, row, 0, inner)

    @njit(parallel=True, **_ELEMENTWISE)
    def strided_parallel(x, out, meta):
        inner, chunks = meta[0, meta.shape[1] - 1], _chunks(meta)
        for task in prange(_product(meta, 0, meta.shape[1] - 1) * chunks):
            lo = (task % chunks) * CHUNK
            _unary_row(op, x, out, meta, task // chunks, lo, min(lo + CHUNK, inner))

    return _Kernels(contiguous=contiguous, scalar=scalar, strided=strided,
                    strided_parallel=strided_parallel)


def _binary_kernels(op: int) -> _Kernels:
    """The loops of binary op number `op`: out = op(a, b) elementwise."""
    @njit(**_ELEMENTWISE)
    def contiguous(a, b, out):
        for i in range(out.size):
            out[i] = binary_op(op, a[i], b[i])

    @njit(**_ELEMENTWISE)
    def scalar_right(a, b, out):     # b is one value
        for i in range(out.size):
            out[i] = binary_op(op, a[i], b)

    @njit(**_ELEMENTWISE)
    def scalar_left(a, b, out):      # a is one value
        for i in range(out.size):
            out[i] = binary_op(op, a, b[i])

    @njit(**_ELEMENTWISE)
    def strided(a, b, out, meta):
        inner = meta[0, meta.shape[1] - 1]
        for row in range(_product(meta, 0, meta.shape[1] - 1)):
            _binary_row(op, a, b, out, meta, row, 0, inner)

    @njit(parallel=True, **_ELEMENTWISE)
    def strided_parallel(a, b, out, meta):
        inner, chunks = meta[0, meta.shape[1] - 1], _chunks(meta)
        for task in prange(_product(meta, 0, meta.shape[1] - 1) * chunks):
            lo = (task % chunks) * CHUNK
            _binary_row(op, a, b, out, meta, task // chunks, lo, min(lo + CHUNK, inner))

    return _Kernels(contiguous=contiguous, scalar_right=scalar_right, scalar_left=scalar_left,
                    strided=strided, strided_parallel=strided_parallel)


@njit(**_ELEMENTWISE)
def _where_contiguous(cond, a, b, out):
    """out = a where cond else b, elementwise (one kernel for every dtype: no op to choose)."""
    for i in range(out.size):
        out[i] = a[i] if cond[i] else b[i]


@njit(**_ELEMENTWISE)
def _where_strided(cond, a, b, out, meta):
    inner = meta[0, meta.shape[1] - 1]
    for row in range(_product(meta, 0, meta.shape[1] - 1)):
        _where_row(cond, a, b, out, meta, row, 0, inner)


@njit(parallel=True, **_ELEMENTWISE)
def _where_strided_parallel(cond, a, b, out, meta):
    inner, chunks = meta[0, meta.shape[1] - 1], _chunks(meta)
    for task in prange(_product(meta, 0, meta.shape[1] - 1) * chunks):
        lo = (task % chunks) * CHUNK
        _where_row(cond, a, b, out, meta, task // chunks, lo, min(lo + CHUNK, inner))


@njit(inline="always")
def _reduce_run(op, acc, x, sx, n):
    for j in range(n):
        acc = reduce_combine(op, acc, x[j * sx])
    return acc


@njit(inline="always")
def _reduce_output(op, x, out, meta, nkept, o):
    """Reduce the elements of x that produce output o. Dimensions 0..nkept-1 of meta are kept
    (they number the outputs), the others are reduced; the last is walked as runs."""
    last = meta.shape[1] - 1
    px = _offset(meta, 1, o, 0, nkept)
    sx, n = meta[1, last], meta[0, last]
    acc = reduce_init(op, x[px])
    for r in range(_product(meta, nkept, last)):
        run = x[px + _offset(meta, 1, r, nkept, last):]
        if sx == 1:
            acc = _reduce_run(op, acc, run, 1, n)
        else:
            acc = _reduce_run(op, acc, run, sx, n)
    out[_offset(meta, 2, o, 0, nkept)] = acc


def _reduce_kernels(op: int) -> _Kernels:
    """The loops of reduction number `op`: out = op over the reduced axes of x."""
    @njit(**_REDUCTION)
    def rows(x, k, out):
        """out[i] = reduce(x[i*k : (i+1)*k]): trailing axes of a contiguous array."""
        for i in range(out.size):
            row = x[i * k:(i + 1) * k]
            acc = reduce_init(op, row[0])
            for j in range(k):
                acc = reduce_combine(op, acc, row[j])
            out[i] = acc

    @njit(**_REDUCTION)
    def cols(x, acc, out):
        """out[j] = reduce over i of x[i*k + j] (k = out.size): leading axes of a contiguous
        array. Whole rows are combined into the accumulator row, so the loop reads memory in
        order and vectorizes across j."""
        k = out.size
        for j in range(k):
            acc[j] = reduce_init(op, x[j])
        for i in range(x.size // k):
            row = x[i * k:(i + 1) * k]
            for j in range(k):
                acc[j] = reduce_combine(op, acc[j], row[j])
        for j in range(k):
            out[j] = acc[j]

    @njit(**_REDUCTION)
    def strided(x, out, meta, nkept):
        for o in range(_product(meta, 0, nkept)):
            _reduce_output(op, x, out, meta, nkept, o)

    @njit(parallel=True, **_REDUCTION)
    def strided_parallel(x, out, meta, nkept):
        for o in prange(_product(meta, 0, nkept)):
            _reduce_output(op, x, out, meta, nkept, o)

    return _Kernels(rows=rows, cols=cols, strided=strided, strided_parallel=strided_parallel)


def _code(op: str, codes: dict, kind: str, names: tuple) -> int:
    """The integer code of op (its position in the math table; the private copy ops such as
    "_to_int" have one too), or the interface's error for an unknown name."""
    code = codes.get(op) if isinstance(op, str) else None
    if code is None:
        raise unknown_op(kind, op, names)
    return code


_UNARY_KERNELS: dict = {}
_BINARY_KERNELS: dict = {}
_REDUCE_KERNELS: dict = {}


def _unary_for(op: str) -> _Kernels:
    kernels = _UNARY_KERNELS.get(op)
    if kernels is None:
        kernels = _UNARY_KERNELS[op] = _unary_kernels(_code(op, _UNARY_CODES, "unary", UNARY_OPS))
    return kernels


def _binary_for(op: str) -> _Kernels:
    kernels = _BINARY_KERNELS.get(op)
    if kernels is None:
        kernels = _BINARY_KERNELS[op] = _binary_kernels(_code(op, _BINARY_CODES, "binary",
                                                              BINARY_OPS))
    return kernels


def _reduce_for(op: str) -> _Kernels:
    kernels = _REDUCE_KERNELS.get(op)
    if kernels is None:
        kernels = _REDUCE_KERNELS[op] = _reduce_kernels(_code(op, _REDUCE_CODES, "reduce",
                                                              REDUCE_OPS))
    return kernels


# ------------------------------------------------------------- layouts: views to (buffer, meta)
# The Python half of a strided call: turn numpy views into 1-D buffers and a meta table. The
# table and the recipe for each buffer depend only on shapes, strides and item sizes, so they
# are computed once per layout and looked up afterwards (a training loop repeats its layouts).

_RAVEL = "ravel"      # a C-contiguous array: its ravel() is a view
_SPAN = "span"        # anything else: a view over the bytes from its first to its last element


def _buffer_recipe(shape: tuple, strides: list, itemsize: int, c_contiguous: bool):
    """How to get a 1-D buffer that starts at the array's first element: _RAVEL, an index that
    drops its broadcast (stride 0) dimensions and leaves a C-contiguous array to ravel, or
    (_SPAN, length)."""
    if c_contiguous:
        return _RAVEL
    kept = [(n, s) for n, s in zip(shape, strides) if s != 0 and n != 1]
    expected = 1
    for n, s in reversed(kept):           # C-contiguous once the broadcast dims are gone?
        if s != expected:
            break
        expected *= n
    else:
        return tuple(0 if s == 0 else slice(None) for s in strides)
    return _SPAN, 1 + sum((n - 1) * s for n, s in zip(shape, strides))


def _buffer(a: np.ndarray, recipe) -> np.ndarray:
    if recipe is _RAVEL:
        return a.ravel()
    if recipe[0] is _SPAN:
        return np.lib.stride_tricks.as_strided(a, (recipe[1],), (a.itemsize,))
    return a[recipe].ravel()


def _flat(a: np.ndarray) -> np.ndarray:
    """A 1-D view of the memory `a` spans, starting at its first element."""
    if a.flags.c_contiguous:
        return a.ravel()
    strides = _element_strides(a.strides, a.itemsize)
    return _buffer(a, _buffer_recipe(a.shape, strides, a.itemsize, False))


def _element_strides(byte_strides: tuple, itemsize: int) -> list:
    strides = [s // itemsize for s in byte_strides]
    if any(s < 0 or s * itemsize != b for s, b in zip(strides, byte_strides)):
        raise ValueError(f"kernels need non-negative strides that are whole elements, got byte "
                         f"strides {byte_strides} for itemsize {itemsize}")
    return strides


def _collapse(shape: tuple, strides: list) -> tuple:
    """Simplify a loop nest over `shape` without changing which elements meet.

    Size-1 dimensions are dropped; dimensions are ordered by the output's strides (the last
    array), largest first, so the innermost loop walks the output in memory order; and a
    dimension merges into the one outside it when every array steps through both as one
    (outer stride == inner stride * inner size). A C-contiguous (5, 4, 3) becomes (60,);
    a (1000, 1000) + (1000, 1) broadcast stays 2-D with strides (1000, 1) and (1, 0).
    """
    dims = sorted((d for d, n in enumerate(shape) if n != 1), key=lambda d: -strides[-1][d])
    new_shape: list = []
    new_strides: list = [[] for _ in strides]
    for d in dims:
        if new_shape and all(ns[-1] == s[d] * shape[d] for ns, s in zip(new_strides, strides)):
            new_shape[-1] *= shape[d]
            for ns, s in zip(new_strides, strides):
                ns[-1] = s[d]
        else:
            new_shape.append(shape[d])
            for ns, s in zip(new_strides, strides):
                ns.append(s[d])
    if not new_shape:                     # a single element
        return [1], [[0] for _ in strides]
    return new_shape, new_strides


_LAYOUTS: dict = {}


def _layout(arrays: tuple, key: tuple) -> tuple:
    """(meta, buffer recipes) for a strided loop over `arrays` (inputs..., out); `key` holds
    their shapes, strides and item sizes."""
    layout = _LAYOUTS.get(key)
    if layout is None:
        shape = arrays[-1].shape
        for a in arrays[:-1]:
            if a.shape != shape:
                raise ValueError(f"elementwise primitives need equal shapes (broadcast with "
                                 f"stride-0 views first), got {a.shape} and out {shape}")
        strides = [_element_strides(a.strides, a.itemsize) for a in arrays]
        recipes = tuple(_buffer_recipe(a.shape, st, a.itemsize, a.flags.c_contiguous)
                        for a, st in zip(arrays, strides))
        new_shape, new_strides = _collapse(shape, strides)
        layout = np.array([new_shape] + new_strides, dtype=np.int64), recipes
        if len(_LAYOUTS) > 4096:          # bound the memory a long-running program can use
            _LAYOUTS.clear()
        _LAYOUTS[key] = layout
    return layout


def _run_strided(kernels: _Kernels, out: np.ndarray, *inputs: np.ndarray) -> np.ndarray:
    """Run `kernels.strided` (or its parallel twin, for big arrays) over any layout."""
    if out.size:
        arrays = (*inputs, out)
        key = tuple([(a.shape, a.strides, a.itemsize) for a in arrays])
        meta, recipes = _layout(arrays, key)
        buffers = [_buffer(a, r) for a, r in zip(arrays, recipes)]
        (kernels.strided if out.size < PARALLEL_MIN else kernels.strided_parallel)(*buffers, meta)
    return out


def _run_strided_binary(kernels: _Kernels, a: np.ndarray, b: np.ndarray,
                        out: np.ndarray) -> np.ndarray:
    """_run_strided for two inputs, spelled out: this is the path of every broadcast binary
    op (a bias add), where each microsecond of Python shows up in a training loop."""
    if out.size:
        key = (a.shape, b.shape, out.shape, a.strides, b.strides, out.strides,
               a.itemsize, b.itemsize, out.itemsize)
        meta, (recipe_a, recipe_b, recipe_out) = _LAYOUTS.get(key) or _layout((a, b, out), key)
        kernel = kernels.strided if out.size < PARALLEL_MIN else kernels.strided_parallel
        kernel(_buffer(a, recipe_a), _buffer(b, recipe_b), _buffer(out, recipe_out), meta)
    return out


# ------------------------------------------------------------------------------------- memory


# empty(shape, dtype): a new C-contiguous array, uninitialised. numpy's own function, not a
# wrapper: every op allocates its result through it.
empty = np.empty


def check_later(passed: np.ndarray, report) -> None:
    """If the 0-d bool `passed` is False, call report() (which raises). The CPU reads it at once:
    there is no device to wait for (kernels_cuda's reads it at the next synchronisation)."""
    if not passed[()]:
        report()


def from_numpy(a: np.ndarray) -> np.ndarray:
    """The array on this device: on the CPU, `a` itself."""
    return a


def to_numpy(x: np.ndarray) -> np.ndarray:
    """A numpy array with x's values: on the CPU, `x` itself (no copy)."""
    return x


def as_strided(buf: np.ndarray, offset: int, shape, strides) -> np.ndarray:
    """The view of 1-D `buf` whose element idx is buf[offset + sum(idx[d] * strides[d])].

    Raises ValueError if the view would reach outside `buf`.
    """
    size = buf.itemsize
    if len(shape) <= 1 and buf.strides[0] == size and (not shape or strides[0] == 1):
        # a 0-d or unit-stride 1-D run of a contiguous buffer: a slice is the cheapest view
        n = shape[0] if shape else 1
        run = buf[offset:offset + n] if offset >= 0 else buf[:0]
        if run.shape[0] == n:
            return run if shape else run.reshape(())
    if 0 in shape:  # no elements: nothing to reach (its offset may lie past the buffer's end)
        return buf[:0].reshape(shape)
    byte_strides = tuple([s * size for s in strides])
    if buf.strides[0] == size:  # a contiguous 1-D buffer: numpy checks the view's bounds
        return np.ndarray(shape, buf.dtype, buffer=buf, offset=offset * size,
                          strides=byte_strides)
    # a strided 1-D buffer: check the bounds ourselves (as_strided does not), then view it
    reach = [(n - 1) * s for n, s in zip(shape, strides)]
    lowest = offset + sum(r for r in reach if r < 0)
    highest = offset + sum(r for r in reach if r > 0)
    if not 0 <= lowest <= highest < buf.shape[0]:
        raise ValueError(f"as_strided: offset {offset}, shape {tuple(shape)} and strides "
                         f"{tuple(strides)} reach outside a buffer of {buf.shape[0]} elements")
    step = buf.strides[0] // size
    return np.lib.stride_tricks.as_strided(buf[offset:], shape,
                                           tuple(s * step for s in byte_strides))


def fill(out: np.ndarray, value) -> np.ndarray:
    """Every element of `out` becomes `value`, converted as `copy` converts."""
    source = np.asarray(value)
    kernels = _unary_for(_copy_op(source.dtype, out.dtype))
    if out.flags.c_contiguous:
        kernels.scalar(source[()], out.ravel())
        return out
    broadcast = np.lib.stride_tricks.as_strided(source.reshape(1), out.shape, (0,) * out.ndim)
    return _run_strided(kernels, out, broadcast)


def _copy_op(src: np.dtype, dst: np.dtype) -> str:
    return "_to_int" if src.kind == "f" and dst.kind in "iu" else "_identity"


def copy(src: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out[...] = src converted to out's dtype: float to int truncates toward zero (then wraps
    into the integer's range, as PyTorch), anything to bool is `!= 0` (NaN is True)."""
    return unary(_copy_op(src.dtype, out.dtype), src, out)


# -------------------------------------------------------------------------------- elementwise


def _line(x: np.ndarray) -> np.ndarray:
    """The C-contiguous x as 1-D (x itself when it is 1-D already: no new array object)."""
    return x if x.ndim == 1 else x.ravel()


def unary(op: str, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = op(x) elementwise; op is one of UNARY_OPS."""
    kernels = _UNARY_KERNELS.get(op) or _unary_for(op)
    if out.size < PARALLEL_MIN and x.shape == out.shape and out.flags.c_contiguous:
        if x.flags.c_contiguous:
            if out.ndim == 1:  # already lines (checked first: it saves the calls to _line)
                kernels.contiguous(x, out)
            else:
                kernels.contiguous(x.ravel(), out.ravel())
            return out
        if not any(x.strides):                                         # one value everywhere
            kernels.scalar(x[(0,) * x.ndim], _line(out))
            return out
    return _run_strided(kernels, out, x)


def binary(op: str, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = op(a, b) elementwise; op is one of BINARY_OPS; a and b have one dtype."""
    kernels = _BINARY_KERNELS.get(op) or _binary_for(op)
    if out.size < PARALLEL_MIN and a.shape == b.shape == out.shape and out.flags.c_contiguous:
        a_dense, b_dense = a.flags.c_contiguous, b.flags.c_contiguous
        if a_dense and b_dense:
            if out.ndim == 1:  # already lines (checked first: it saves the calls to _line)
                kernels.contiguous(a, b, out)
            else:
                kernels.contiguous(a.ravel(), b.ravel(), out.ravel())
            return out
        if a_dense and not any(b.strides):                             # e.g. x * 2
            kernels.scalar_right(_line(a), b[(0,) * b.ndim], _line(out))
            return out
        if b_dense and not any(a.strides):                             # e.g. lr * grad
            kernels.scalar_left(a[(0,) * a.ndim], _line(b), _line(out))
            return out
    return _run_strided_binary(kernels, a, b, out)


class _Where:
    contiguous = _where_contiguous
    strided = _where_strided
    strided_parallel = _where_strided_parallel


def where(cond: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = a where cond else b, elementwise."""
    if out.flags.c_contiguous and out.size < PARALLEL_MIN and cond.flags.c_contiguous \
            and a.flags.c_contiguous and b.flags.c_contiguous:
        _check_same_shape(out, cond, a, b)
        _where_contiguous(cond.ravel(), a.ravel(), b.ravel(), out.ravel())
        return out
    return _run_strided(_Where, out, cond, a, b)


# --------------------------------------------------------------------------------- reductions


@functools.lru_cache(maxsize=1024)
def _reduce_meta(shape: tuple, x_strides: tuple, x_itemsize: int, out_strides: tuple,
                 out_itemsize: int) -> tuple:
    """(meta, nkept) for reducing x into out. `out_strides` are 0 along the reduced axes, so
    `_collapse` (ordering by out's strides) puts the kept dimensions first, the reduced last."""
    strides = [_element_strides(x_strides, x_itemsize), _element_strides(out_strides, out_itemsize)]
    new_shape, new_strides = _collapse(shape, strides)
    nkept = sum(1 for s in new_strides[1] if s != 0)
    if nkept == len(new_shape):           # every reduced axis had size 1: reduce 1 element
        new_shape.append(1)
        new_strides[0].append(0)
        new_strides[1].append(0)
    return np.array([new_shape] + new_strides, dtype=np.int64), nkept


def _reduced_strides(out: np.ndarray, axes: tuple) -> tuple:
    return tuple(0 if d in axes else s for d, s in enumerate(out.strides))


def reduce(op: str, x: np.ndarray, axes, out: np.ndarray) -> np.ndarray:
    """out = op over `axes` (sorted, distinct) of x (keepdims shape); op is one of REDUCE_OPS.

    Fast paths for a C-contiguous x: trailing axes (`rows`: each output is one contiguous run,
    e.g. a mean over features or a full reduction) and leading axes (`cols`: e.g. a sum over
    the batch, which stays serial: it reads memory in order, threads would not); any other
    layout or axes take the strided loop, in parallel over the outputs for big arrays.
    """
    kernels = _REDUCE_KERNELS.get(op) or _reduce_for(op)
    axes = tuple(axes)
    if out.size == 0:
        return out
    if x.size == 0:
        return _reduce_empty(op, out)
    big = x.size >= PARALLEL_MIN and out.size > 1
    if x.flags.c_contiguous and out.flags.c_contiguous:
        # axes are sorted and distinct: they are the trailing ones if the first is ndim - len
        # (a 0-d x has none: its one element is a row)
        if (not axes or axes[0] == x.ndim - len(axes)) and not big:
            kernels.rows(_line(x), x.size // out.size, _line(out))
            return out
        if axes[-1] == len(axes) - 1:
            acc = np.empty(out.size, _accumulator_dtype(op, x.dtype))
            kernels.cols(_line(x), acc, _line(out))
            return out
    meta, nkept = _reduce_meta(x.shape, x.strides, x.itemsize, _reduced_strides(out, axes),
                               out.itemsize)
    (kernels.strided_parallel if big else kernels.strided)(_flat(x), _flat(out), meta, nkept)
    return out


def _reduce_empty(op: str, out: np.ndarray) -> np.ndarray:
    """Reducing zero elements gives the op's identity; max and min have none."""
    identity = {"sum": 0, "prod": 1, "any": False, "all": True}.get(op)
    if identity is None:
        raise ValueError(f"{op}() of an empty dimension has no identity")
    return fill(out, identity)


@njit(**_PLAIN)
def _argreduce_kernel(x, out, meta, want_max):
    """For each output, the position of the first largest (smallest) element along the last
    dimension of meta; a NaN counts as larger and smaller than everything, so the first NaN
    wins (PyTorch's rule)."""
    last = meta.shape[1] - 1
    n, sx = meta[0, last], meta[1, last]
    for o in range(_product(meta, 0, last)):
        px = _offset(meta, 1, o, 0, last)
        best, best_j = x[px], 0
        for j in range(1, n):
            if best != best:
                break
            v = x[px + j * sx]
            if (v > best if want_max else v < best) or v != v:
                best, best_j = v, j
        out[_offset(meta, 2, o, 0, last)] = best_j


def argreduce(op: str, x: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    """out (int64, `axis` of size 1) = argmax or argmin of x along `axis`."""
    if op not in ARGREDUCE_OPS:
        raise unknown_op("argreduce", op, ARGREDUCE_OPS)
    if out.size == 0:
        return out
    if x.shape[axis] == 0:
        raise ValueError(f"{op}() of an empty dimension has no answer")
    if x.shape[axis] == 1:
        return fill(out, 0)
    meta, _ = _reduce_meta(x.shape, x.strides, x.itemsize, _reduced_strides(out, (axis,)),
                           out.itemsize)
    _argreduce_kernel(_flat(x), _flat(out), meta, op == "argmax")
    return out


# ----------------------------------------------------------------------------- linear algebra

TILE = 64   # 64 x 64 float32 tiles: three of them (a, b, out) fit in a 48 KiB L1 cache
# Below this many multiply-adds a matmul runs on one thread (starting threads would cost more).
TILED_PARALLEL_MIN = 1 << 21


@njit(inline="always")
def _matmul_row_tile(a, b, out, task):
    """Task number `task` of out[p] = a[p] @ b[p]: one tile of TILE rows of one matrix.

    The textbook triple loop `out[i, j] += a[i, k] * b[k, j]`, reordered and blocked:
    - loop order i, k, j: the innermost loop runs along a row of b and a row of out, both
      contiguous, so it vectorizes (a[i, k] is one number for the whole loop);
    - blocking: work on TILE x TILE tiles so that the tile of b in use stays in the cache while
      it is reused for every row of the tile of a;
    - each task owns its rows of out, so tasks can run on different threads.
    """
    m, k, n = a.shape[1], a.shape[2], b.shape[2]
    row_tiles = (m + TILE - 1) // TILE
    p = task // row_tiles
    i0 = (task % row_tiles) * TILE
    i1 = min(i0 + TILE, m)
    out[p, i0:i1, :] = 0
    for k0 in range(0, k, TILE):
        k1 = min(k0 + TILE, k)
        for j0 in range(0, n, TILE):
            j1 = min(j0 + TILE, n)
            for i in range(i0, i1):
                for kk in range(k0, k1):
                    aik = a[p, i, kk]
                    for j in range(j0, j1):
                        out[p, i, j] += aik * b[p, kk, j]


# "contract" in _ELEMENTWISE: each += a * b becomes one fused multiply-add.
@njit(**_ELEMENTWISE)
def _matmul_tiled_serial(a, b, out, tasks):
    for task in range(tasks):
        _matmul_row_tile(a, b, out, task)


@njit(parallel=True, **_ELEMENTWISE)
def _matmul_tiled_parallel(a, b, out, tasks):
    for task in prange(tasks):
        _matmul_row_tile(a, b, out, task)


def matmul_tiled(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out (B, M, N) = a (B, M, K) @ b (B, K, N) by the hand-written tiled kernel (any dtype;
    integers wrap around, bools give logical or-of-ands)."""
    batch, m, k = a.shape
    target = out if out.flags.c_contiguous else np.empty(out.shape, out.dtype)
    if target.size:
        tasks = batch * ((m + TILE - 1) // TILE)
        big = batch * m * k * out.shape[2] >= TILED_PARALLEL_MIN and tasks > 1
        kernel = _matmul_tiled_parallel if big else _matmul_tiled_serial
        kernel(np.ascontiguousarray(a), np.ascontiguousarray(b), target, tasks)
    if target is not out:
        copy(target, out)
    return out


def _blas_ready(m: np.ndarray) -> np.ndarray:
    """BLAS reads matrices whose rows or columns are contiguous (a transposed view is fine);
    numpy would fall back to a slow loop for anything else, so copy those."""
    if m.strides[-1] == m.itemsize or m.strides[-2] == m.itemsize:
        return m
    return np.ascontiguousarray(m)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out (B, M, N) = a (B, M, K) @ b (B, K, N): BLAS (through numpy) for float32/float64,
    the tiled kernel for integers and bools (BLAS has no integer GEMM)."""
    dtype = out.dtype
    if dtype.kind == "f" and a.dtype == dtype and b.dtype == dtype:
        # small products on one BLAS thread, for this call only (speedups.blas_threads)
        with speedups.blas_threads(out.shape[0] * out.shape[1] * out.shape[2] * a.shape[2]):
            if out.shape[0] == 1:  # one matrix: numpy's 2-D call is the direct one into BLAS
                np.matmul(_blas_ready(a[0]), _blas_ready(b[0]), out=out[0])
            else:
                np.matmul(_blas_ready(a), _blas_ready(b), out=out)
        return out
    return matmul_tiled(a, b, out)


# ----------------------------------------------------------------------------------- indexing
# gather-like kernels read x at "the output position with one coordinate replaced by an index";
# scatter-like kernels write out the same way. meta rows hold the shape being walked and the
# strides of each array; the replaced coordinate has stride 0 there, and its real stride
# (`dim_stride`) multiplies the index instead.


@njit(**_PLAIN)
def _gather_kernel(x, index, out, meta, dim_stride):
    """out[i] = x[i with coordinate dim := index[i]]. meta: shape, out, index, x strides."""
    last = meta.shape[1] - 1
    so, si, sx = meta[1, last], meta[2, last], meta[3, last]
    for row in range(_product(meta, 0, last)):
        po, pi = _offset(meta, 1, row, 0, last), _offset(meta, 2, row, 0, last)
        px = _offset(meta, 3, row, 0, last)
        for j in range(meta[0, last]):
            out[po + j * so] = x[px + j * sx + index[pi + j * si] * dim_stride]


@njit(**_PLAIN)
def _scatter_kernel(out, index, src, meta, dim_stride, mode):
    """out[i with coordinate dim := index[i]] (=, +=, *= for mode 0, 1, 2) src[i], in C order
    (so with repeated indices and mode 0 the last write wins). meta: shape, index, src, out."""
    last = meta.shape[1] - 1
    si, ss, so = meta[1, last], meta[2, last], meta[3, last]
    for row in range(_product(meta, 0, last)):
        pi, ps = _offset(meta, 1, row, 0, last), _offset(meta, 2, row, 0, last)
        po = _offset(meta, 3, row, 0, last)
        for j in range(meta[0, last]):
            p = po + j * so + index[pi + j * si] * dim_stride
            if mode == 0:
                out[p] = src[ps + j * ss]
            elif mode == 1:
                out[p] += src[ps + j * ss]
            else:
                out[p] *= src[ps + j * ss]


def _table(shape: tuple, *strides) -> np.ndarray:
    """A meta table without collapsing (the coordinates matter); 0-d becomes one element."""
    if not shape:
        return np.array([[1]] + [[0]] * len(strides), np.int64)
    return np.array([shape, *strides], np.int64)


def _strides_of(a: np.ndarray) -> list:
    return _element_strides(a.strides, a.itemsize)


def _without(strides: list, dim: int) -> tuple:
    """(strides with strides[dim] set to 0, strides[dim])."""
    if not strides:
        return [], 0
    return strides[:dim] + [0] + strides[dim + 1:], strides[dim]


def _along(index: np.ndarray, ndim: int, dim: int) -> list:
    """Strides that show the 1-D `index` as an ndim array varying only along `dim`."""
    strides = [0] * ndim
    strides[dim] = _strides_of(index)[0]
    return strides


def gather(x: np.ndarray, dim: int, index: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out[i][j][k] = x[index[i][j][k]][j][k] (dim 0; likewise for other dims)."""
    if out.size:
        xs, dim_stride = _without(_strides_of(x), dim)
        meta = _table(out.shape, _strides_of(out), _strides_of(index), xs)
        _gather_kernel(_flat(x), _flat(index), _flat(out), meta, dim_stride)
    return out


_SCATTER_MODES = {None: 0, "add": 1, "multiply": 2}


def scatter(out: np.ndarray, dim: int, index: np.ndarray, src: np.ndarray,
            reduce=None) -> np.ndarray:
    """out[index[i][j][k]][j][k] = src[i][j][k] (dim 0), or += / *= for reduce "add" /
    "multiply". Reads and writes out."""
    if reduce not in _SCATTER_MODES:
        raise ValueError(f"scatter reduce must be None, 'add' or 'multiply', got {reduce!r}")
    if index.size:
        os, dim_stride = _without(_strides_of(out), dim)
        meta = _table(index.shape, _strides_of(index), _strides_of(src), os)
        _scatter_kernel(_flat(out), _flat(index), _flat(src), meta, dim_stride,
                        _SCATTER_MODES[reduce])
    return out


@njit(**_PLAIN)
def _select_rows(x, index, out):
    """out[i, :] = x[index[i], :] for C-contiguous 2-D x and out: whole rows, copied in order."""
    for i in range(index.size):
        out[i, :] = x[index[i], :]


def index_select(x: np.ndarray, dim: int, index: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = the slices of x at the 1-D `index` along `dim` (a gather whose index varies only
    along dim)."""
    if out.size and dim == 0 and x.flags.c_contiguous and out.flags.c_contiguous and x.ndim:
        # the common case (a batch of samples): copy whole rows instead of element by element
        rows = x.shape[0]
        _select_rows(x.reshape(rows, -1), index, out.reshape(index.size, -1))
        return out
    if out.size:
        xs, dim_stride = _without(_strides_of(x), dim)
        meta = _table(out.shape, _strides_of(out), _along(index, out.ndim, dim), xs)
        _gather_kernel(_flat(x), _flat(index), _flat(out), meta, dim_stride)
    return out


def index_add(out: np.ndarray, dim: int, index: np.ndarray, src: np.ndarray) -> np.ndarray:
    """out.index_select(dim, index) += src, repeated indices summing (the backward of
    index_select and embedding). Reads and writes out."""
    if src.size:
        os, dim_stride = _without(_strides_of(out), dim)
        meta = _table(src.shape, _along(index, src.ndim, dim), _strides_of(src), os)
        _scatter_kernel(_flat(out), _flat(index), _flat(src), meta, dim_stride, 1)
    return out


def _shaped_like(a: np.ndarray, shape: tuple) -> np.ndarray:
    """`a` seen with `shape` (same number of elements): flat offsets may come as 1-D."""
    return a if a.shape == shape else a.reshape(shape)


def take(buf: np.ndarray, offsets: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out[i] = buf[offsets[i]] on a flat buffer (offsets in elements, out's size)."""
    if out.size:
        offsets = _shaped_like(offsets, out.shape)
        meta = _table(out.shape, _strides_of(out), _strides_of(offsets), [0] * out.ndim)
        _gather_kernel(_flat(buf), _flat(offsets), _flat(out), meta, _strides_of(buf)[0])
    return out


def put(buf: np.ndarray, offsets: np.ndarray, src: np.ndarray, accumulate: bool) -> np.ndarray:
    """buf[offsets[i]] = src[i], or += (repeats summing) when `accumulate`."""
    if offsets.size:
        src = _shaped_like(src, offsets.shape)
        meta = _table(offsets.shape, _strides_of(offsets), _strides_of(src), [0] * offsets.ndim)
        _scatter_kernel(_flat(buf), _flat(offsets), _flat(src), meta, _strides_of(buf)[0],
                        1 if accumulate else 0)
    return buf


@njit(**_PLAIN)
def _nonzero_kernel(x, meta):
    """Coordinates of the nonzero elements, in C order: count them, then write them."""
    ndim = meta.shape[1]
    total = _product(meta, 0, ndim)
    count = 0
    for i in range(total):
        if x[_offset(meta, 1, i, 0, ndim)] != 0:
            count += 1
    result = np.empty((count, ndim), np.int64)
    row = 0
    for i in range(total):
        if x[_offset(meta, 1, i, 0, ndim)] != 0:
            rest = i
            for d in range(ndim - 1, -1, -1):
                result[row, d] = rest % meta[0, d]
                rest //= meta[0, d]
            row += 1
    return result


def nonzero(x: np.ndarray) -> np.ndarray:
    """int64 array (n, x.ndim) of the indices of x's nonzero elements (NaN counts), C order."""
    if x.ndim == 0:
        return np.zeros((1 if x[()] != 0 else 0, 0), np.int64)
    if x.size == 0:
        return np.zeros((0, x.ndim), np.int64)
    return _nonzero_kernel(_flat(x), _table(x.shape, _strides_of(x)))


@njit(inline="always")
def _stable_order(row, descending):
    """Positions that sort `row` stably; NaN sorts as the largest value.
    Descending but still stable: sort the reversed row ascending and read that backwards
    (equal values, reversed twice, keep their original order)."""
    if not descending:
        return np.argsort(row, kind="mergesort")
    n = row.size
    ascending = np.argsort(row[::-1].copy(), kind="mergesort")
    return (n - 1 - ascending)[::-1]


@njit(**_PLAIN)
def _sort_kernel(x, values, indices, meta, descending):
    """Sort every row of meta's last dimension. meta: shape, x, values, indices strides."""
    last = meta.shape[1] - 1
    n, sx, sv, si = meta[0, last], meta[1, last], meta[2, last], meta[3, last]
    row = np.empty(n, x.dtype)
    for r in range(_product(meta, 0, last)):
        px, pv = _offset(meta, 1, r, 0, last), _offset(meta, 2, r, 0, last)
        pi = _offset(meta, 3, r, 0, last)
        for j in range(n):
            row[j] = x[px + j * sx]
        order = _stable_order(row, descending)
        for j in range(n):
            values[pv + j * sv] = row[order[j]]
            indices[pi + j * si] = order[j]


def _axis_last(strides: list, axis: int) -> list:
    return strides[:axis] + strides[axis + 1:] + strides[axis:axis + 1]


def sort(x: np.ndarray, axis: int, descending: bool, values_out: np.ndarray,
         indices_out: np.ndarray) -> None:
    """Stable sort of x along `axis` into values_out and indices_out (int64); NaN is the
    largest value (last ascending, first descending), as in PyTorch."""
    if x.size == 0:
        return
    if x.ndim == 0:
        copy(x, values_out)
        fill(indices_out, 0)
        return
    if x.dtype == np.bool_:               # sort bools as the bytes 0 and 1
        x, values_out = x.view(np.uint8), values_out.view(np.uint8)
    shape = tuple(_axis_last(list(x.shape), axis))
    meta = _table(shape, *(_axis_last(_strides_of(a), axis) for a in (x, values_out, indices_out)))
    _sort_kernel(_flat(x), _flat(values_out), _flat(indices_out), meta, bool(descending))


# ------------------------------------------------------------------- ranges and running sums
# arange fills a 1-D array with start, start + step, ... on the device itself (linspace is an
# arange whose last element is then set to `end`; eye is a fill and a diagonal write, done by
# the tensor layer with `fill` on a strided view). cumsum and cumprod run along one axis.

__all__ += ["arange", "cumsum", "cumprod"]


@njit(**_PLAIN)
def _arange_kernel(out, start, step):
    """out[i] = start + i * step. _PLAIN, not _ELEMENTWISE: no fused multiply-add, so the
    numbers are numpy's (start + arange(n) * step, two roundings)."""
    for i in range(out.size):
        out[i] = start + i * step


def arange(out: np.ndarray, start, step) -> np.ndarray:
    """out[i] = start + i * step for the 1-D `out`, computed in float64 (int64 when start, step
    and out are integers) and converted to out's dtype as `copy` converts."""
    dt = _arange_dtype(out, start, step)
    target = out if out.dtype == dt and out.flags.c_contiguous else np.empty(out.shape, dt)
    _arange_kernel(target, dt.type(start), dt.type(step))
    return _copy_back(target, out)


@njit(**_PLAIN)
def _cumulative_kernel(x, out, meta, start, product):
    """The running sum (product) along meta's last dimension, for every row of the others:
    out[..., j] = x[..., 0] + ... + x[..., j]. The running value has the type of `start`
    (float64 or int64): float32 data is summed in float64 and rounded once per output, as
    PyTorch does. meta: the shape (scanned axis last), x's strides, out's strides."""
    last = meta.shape[1] - 1
    n, sx, so = meta[0, last], meta[1, last], meta[2, last]
    for r in range(_product(meta, 0, last)):
        px, po = _offset(meta, 1, r, 0, last), _offset(meta, 2, r, 0, last)
        running = start
        for j in range(n):
            if product:
                running = running * x[px + j * sx]
            else:
                running = running + x[px + j * sx]
            out[po + j * so] = running


def _cumulative(op: str, x: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    if x.size == 0:
        return out
    if x.dtype == np.bool_:               # add bools as the bytes 0 and 1
        x = x.view(np.uint8)
    start = _accumulator_dtype(op, x.dtype).type(1 if op == "prod" else 0)
    shape = tuple(_axis_last(list(x.shape), axis))
    meta = _table(shape, *(_axis_last(_strides_of(a), axis) for a in (x, out)))
    _cumulative_kernel(_flat(x), _flat(out), meta, start, op == "prod")
    return out


def cumsum(x: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    """out = the running sums of x along `axis` (x.ndim >= 1; out has x's shape): floats sum in
    float64, integers and bools in int64, each result converted to out's dtype."""
    return _cumulative("sum", x, axis, out)


def cumprod(x: np.ndarray, axis: int, out: np.ndarray) -> np.ndarray:
    """out = the running products of x along `axis`, accumulated as cumsum's sums are."""
    return _cumulative("prod", x, axis, out)


# ----------------------------------------------------------------------------- random numbers
# The random state is the tensor layer's Generator: a numpy Generator (`rng` below) that
# `manual_seed` resets. Each primitive fills `out` (any layout, elements in C order) with
# numbers drawn from it. On the CPU they are numpy's draws — its PCG64 stream and its samplers
# (ziggurat normals and exponentials, unbiased integers) — converted to out's dtype as `copy`
# converts; so a seed gives the same numbers as it always did. A GPU cannot draw from `rng`:
# kernels_cuda takes one 64-bit seed from it per call and computes the numbers on the device.

__all__ += ["random_uniform", "random_normal", "random_exponential", "random_integers",
            "random_permutation", "random_multinomial"]


def _store(values, out: np.ndarray) -> np.ndarray:
    """Write numpy's draws (an array of out's shape, or a number for a 0-d out) into out."""
    return copy(np.asarray(values), out)


def random_uniform(out: np.ndarray, rng: np.random.Generator, low, high) -> np.ndarray:
    """out = numbers uniform in [low, high). numpy draws them in float64, and rounding a draw
    just below `high` to out's dtype can give `high` itself (float32 rand: a draw above
    1 - 2^-25 becomes 1.0, a few times in 10^8): such a number becomes `low` instead, as on
    CUDA, so that the interval stays half-open."""
    _store(rng.uniform(low, high, out.shape), out)
    if out.dtype.kind == "f" and low < high:
        out[out >= high] = low
    return out


def random_normal(out: np.ndarray, rng: np.random.Generator, mean, std) -> np.ndarray:
    """out = normal numbers with mean `mean` and standard deviation `std`."""
    return _store(rng.normal(mean, std, out.shape), out)


def random_exponential(out: np.ndarray, rng: np.random.Generator, lambd) -> np.ndarray:
    """out = exponential numbers with rate `lambd` (mean 1 / lambd)."""
    return _store(rng.exponential(1.0 / lambd, out.shape), out)


def random_integers(out: np.ndarray, rng: np.random.Generator, low, high) -> np.ndarray:
    """out = integers uniform in [low, high) (low < high)."""
    return _store(rng.integers(low, high, out.shape), out)


def random_permutation(out: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The 1-D `out` = a random permutation of 0 .. len(out) - 1."""
    return _store(rng.permutation(out.shape[0]), out)


def random_multinomial(out: np.ndarray, rng: np.random.Generator, probs: np.ndarray,
                       replacement: bool) -> np.ndarray:
    """out (R, k) int64: row r holds k categories drawn with probabilities proportional to the
    weights probs[r] (R, n) float64, which the caller checked (finite, non-negative, a positive
    sum; without replacement k <= n). Without replacement no category is drawn twice, and
    zero-weight categories are drawn, in random order, only once all others have been."""
    k = out.shape[1]
    for r in range(probs.shape[0]):
        row = probs[r]
        if replacement:
            out[r] = rng.choice(row.size, k, replace=True, p=row / row.sum())
            continue
        # without replacement: the categories with weight first, then (as PyTorch does once
        # those run out) the zero-weight ones, in random order
        drawn = rng.choice(row.size, min(k, np.count_nonzero(row)), replace=False,
                           p=row / row.sum())
        out[r] = np.concatenate([drawn, rng.permutation(np.flatnonzero(row == 0))])[:k]
    return out


# ------------------------------------------------------------------------- optimizer updates
# One fused pass over a parameter per optimizer step (tinygrad_edu.optim calls these): read the
# parameter, its gradient and the optimizer's state once, write the new parameter and state once.
# The same update written with tensor ops takes 5 to 10 passes over memory and as many
# temporary arrays.
#
# Every array is a flat, contiguous 1-D array of the parameter's float dtype, all of one length
# (the optimizer checks this first). A state array the options leave unused (SGD's momentum
# buffer without momentum, max_exp_avg_sq without amsgrad) may be any array of that dtype: the
# kernel never touches it. The Python wrapper turns the hyper-parameters into coefficients of the
# parameter's dtype, so a float32 parameter is updated in float32 arithmetic, one rounding per
# operation as PyTorch's own sequence of float32 ops does (and SIMD-friendly).
#
# Each rule is a function of one element (`_sgd_element`: the math of `sgd_step`'s docstring)
# and a loop over the elements that reads them, calls it and writes the results back. The loop
# is written once (`_sgd_kernel`) and compiled twice: with `range` on one thread, and with
# `prange` on all of them for parameters of _UPDATE_PARALLEL_MIN elements up. Numba's disk cache
# keys a kernel on the values in its closure, so `loop` there keeps the two compiled kernels
# apart. The reads and writes stay in the loop itself: moved into a helper for element i, they
# keep LLVM from vectorizing the loop (RMSprop's update ran 30 times slower).

__all__ += ["sgd_step", "adam_step", "rmsprop_step", "adagrad_step"]

# The updates are memory-bound: one core streams a million float32s in about a millisecond, so
# threads only pay off for larger parameters.
_UPDATE_PARALLEL_MIN = 1 << 20
_UPDATE = dict(cache=True, error_model="numpy")


@njit(**_UPDATE)
def _sgd_element(p, g, buf, lr, momentum, one_minus_dampening, weight_decay, nesterov, maximize,
                 first_step, use_momentum):
    if maximize:
        g = -g
    if weight_decay != 0:  # (also keeps an inf parameter from turning g into NaN via 0 · inf)
        g = g + weight_decay * p
    if use_momentum:
        buf = g if first_step else momentum * buf + one_minus_dampening * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g, buf


def _sgd_kernel(loop):
    """SGD's update over every element: `loop` is range (one thread) or prange."""
    @njit(parallel=loop is prange, **_UPDATE)
    def sgd_kernel(param, grad, buf, lr, momentum, one_minus_dampening, weight_decay, nesterov,
                   maximize, first_step, use_momentum):
        for i in loop(param.shape[0]):
            b = buf[i] if use_momentum else grad[i]
            param[i], b = _sgd_element(param[i], grad[i], b, lr, momentum,
                                       one_minus_dampening, weight_decay, nesterov, maximize,
                                       first_step, use_momentum)
            if use_momentum:
                buf[i] = b
    return sgd_kernel


_sgd_serial, _sgd_parallel = _sgd_kernel(range), _sgd_kernel(prange)


def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
             maximize, first_step):
    """One step of SGD, in place:

        g = −grad if maximize else grad
        g = g + weight_decay · param
        if momentum ≠ 0:
            buf = g                                         on the first step
            buf = momentum · buf + (1 − dampening) · g      afterwards
            g = g + momentum · buf  (Nesterov)   or   g = buf
        param = param − lr · g

    `momentum_buffer` is written only when momentum ≠ 0, and read only after the first step.
    """
    kernel = _sgd_parallel if param.shape[0] >= _UPDATE_PARALLEL_MIN else _sgd_serial
    c = param.dtype.type
    kernel(param, grad, momentum_buffer, c(lr), c(momentum), c(1 - dampening), c(weight_decay),
           bool(nesterov), bool(maximize), bool(first_step), momentum != 0)


@njit(**_UPDATE)
def _adam_element(p, g, m, v, v_max, one_minus_beta1, beta2, one_minus_beta2, eps,
                  weight_decay, decay, step_size, bias_correction2_sqrt, amsgrad, maximize,
                  decoupled):
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled:
            p = p * decay                      # AdamW: shrink the weight itself
        else:
            g = g + weight_decay * p           # Adam: weight decay as part of the gradient
    m = m + one_minus_beta1 * (g - m)          # = β₁ m + (1 − β₁) g
    v = beta2 * v + one_minus_beta2 * g * g
    if amsgrad:
        v_max = max(v_max, v)
        denom = math.sqrt(v_max) / bias_correction2_sqrt + eps
    else:
        denom = math.sqrt(v) / bias_correction2_sqrt + eps
    return p - step_size * m / denom, m, v, v_max


def _adam_kernel(loop):
    """Adam's update over every element: `loop` is range (one thread) or prange."""
    @njit(parallel=loop is prange, **_UPDATE)
    def adam_kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, one_minus_beta1, beta2,
                    one_minus_beta2, eps, weight_decay, decay, step_size, bias_correction2_sqrt,
                    amsgrad, maximize, decoupled):
        for i in loop(param.shape[0]):
            v_max = max_exp_avg_sq[i] if amsgrad else exp_avg_sq[i]
            param[i], exp_avg[i], exp_avg_sq[i], v_max = _adam_element(
                param[i], grad[i], exp_avg[i], exp_avg_sq[i], v_max, one_minus_beta1, beta2,
                one_minus_beta2, eps, weight_decay, decay, step_size, bias_correction2_sqrt,
                amsgrad, maximize, decoupled)
            if amsgrad:
                max_exp_avg_sq[i] = v_max
    return adam_kernel


_adam_serial, _adam_parallel = _adam_kernel(range), _adam_kernel(prange)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, amsgrad, maximize, decoupled_weight_decay):
    """One step of Adam (AdamW with `decoupled_weight_decay`), in place; `step` counts from 1:

        g = −grad if maximize else grad
        param = param · (1 − lr · weight_decay)               AdamW
        g = g + weight_decay · param                           Adam
        exp_avg    = β₁ · exp_avg    + (1 − β₁) · g
        exp_avg_sq = β₂ · exp_avg_sq + (1 − β₂) · g²
        max_exp_avg_sq = max(max_exp_avg_sq, exp_avg_sq)      amsgrad: used in place of exp_avg_sq
        param = param − lr / (1 − β₁^step) · exp_avg / (√exp_avg_sq / √(1 − β₂^step) + eps)
    """
    kernel = _adam_parallel if param.shape[0] >= _UPDATE_PARALLEL_MIN else _adam_serial
    c = param.dtype.type
    kernel(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, c(1 - beta1), c(beta2),
           c(1 - beta2), c(eps), c(weight_decay), c(1 - lr * weight_decay),
           c(lr / (1 - beta1 ** step)), c(math.sqrt(1 - beta2 ** step)), bool(amsgrad),
           bool(maximize), bool(decoupled_weight_decay))


@njit(**_UPDATE)
def _rmsprop_element(p, g, square_avg, grad_avg, buf, lr, alpha, one_minus_alpha, eps,
                     weight_decay, momentum, centered, maximize, use_momentum):
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    square_avg = alpha * square_avg + one_minus_alpha * g * g
    if centered:
        grad_avg = grad_avg + one_minus_alpha * (g - grad_avg)
        avg = math.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = math.sqrt(square_avg) + eps
    if use_momentum:
        buf = momentum * buf + g / avg
        return p - lr * buf, square_avg, grad_avg, buf
    return p - lr * g / avg, square_avg, grad_avg, buf


def _rmsprop_kernel(loop):
    """RMSprop's update over every element: `loop` is range (one thread) or prange."""
    @njit(parallel=loop is prange, **_UPDATE)
    def rmsprop_kernel(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha,
                       one_minus_alpha, eps, weight_decay, momentum, centered, maximize,
                       use_momentum):
        for i in loop(param.shape[0]):
            g_avg = grad_avg[i] if centered else grad[i]
            buf = momentum_buffer[i] if use_momentum else grad[i]
            param[i], square_avg[i], g_avg, buf = _rmsprop_element(
                param[i], grad[i], square_avg[i], g_avg, buf, lr, alpha, one_minus_alpha, eps,
                weight_decay, momentum, centered, maximize, use_momentum)
            if centered:
                grad_avg[i] = g_avg
            if use_momentum:
                momentum_buffer[i] = buf
    return rmsprop_kernel


_rmsprop_serial, _rmsprop_parallel = _rmsprop_kernel(range), _rmsprop_kernel(prange)


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, centered, maximize):
    """One step of RMSprop, in place:

        g = −grad if maximize else grad
        g = g + weight_decay · param
        square_avg = α · square_avg + (1 − α) · g²
        grad_avg   = α · grad_avg   + (1 − α) · g                        centered only
        avg = √(square_avg − grad_avg²) + eps  if centered,  else  √square_avg + eps
        buf = momentum · buf + g / avg;  param = param − lr · buf        if momentum > 0
        param = param − lr · g / avg                                     otherwise

    `grad_avg` is used only when centered, `momentum_buffer` only when momentum > 0.
    """
    kernel = _rmsprop_parallel if param.shape[0] >= _UPDATE_PARALLEL_MIN else _rmsprop_serial
    c = param.dtype.type
    kernel(param, grad, square_avg, grad_avg, momentum_buffer, c(lr), c(alpha), c(1 - alpha),
           c(eps), c(weight_decay), c(momentum), bool(centered), bool(maximize), momentum > 0)


@njit(**_UPDATE)
def _adagrad_element(p, g, state_sum, clr, eps, weight_decay, maximize):
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    state_sum = state_sum + g * g
    return p - clr * g / (math.sqrt(state_sum) + eps), state_sum


def _adagrad_kernel(loop):
    """Adagrad's update over every element: `loop` is range (one thread) or prange."""
    @njit(parallel=loop is prange, **_UPDATE)
    def adagrad_kernel(param, grad, state_sum, clr, eps, weight_decay, maximize):
        for i in loop(param.shape[0]):
            param[i], state_sum[i] = _adagrad_element(param[i], grad[i], state_sum[i], clr, eps,
                                                      weight_decay, maximize)
    return adagrad_kernel


_adagrad_serial, _adagrad_parallel = _adagrad_kernel(range), _adagrad_kernel(prange)


def adagrad_step(param, grad, state_sum, lr, lr_decay, eps, weight_decay, step, maximize):
    """One step of Adagrad, in place; `step` counts from 1:

        g = −grad if maximize else grad
        g = g + weight_decay · param
        state_sum = state_sum + g²
        param = param − lr / (1 + (step − 1) · lr_decay) · g / (√state_sum + eps)
    """
    kernel = _adagrad_parallel if param.shape[0] >= _UPDATE_PARALLEL_MIN else _adagrad_serial
    c = param.dtype.type
    kernel(param, grad, state_sum, c(lr / (1 + (step - 1) * lr_decay)), c(eps), c(weight_decay),
           bool(maximize))


# ================================================================== convolution and pooling
# The kernels behind nn.Conv1d/Conv2d and the pooling layers (issue 5).
#
# A convolution is lowered to a matrix product, as in most frameworks' CPU paths:
#
#     im2col   copy every receptive field of the input into a column:
#              cols[n, (c, i, j), (oh, ow)] = x[n, c, oh*sh - pt + i*dh, ow*sw - pl + j*dw]
#     matmul   out[n] = weight (O, C*kh*kw) @ cols[n] (C*kh*kw, OH*OW): BLAS does the work
#     col2im   the adjoint of im2col, for the input's gradient: every column entry is added
#              back onto the input position it was copied from
#
# Pooling needs no GEMM and is a direct loop over windows. Its windows come as small tables
# computed in Python (nn/pooling.py): rows[oh] = (first, stop) input rows of output row oh,
# already clipped to the input, likewise cols[ow] for the columns; the average pools add a
# third entry, the row's (column's) share of the divisor. One table format serves max_pool2d
# (with dilation as the step), avg_pool2d (padding, ceil_mode, count_include_pad and
# divisor_override only change the tables) and adaptive_avg_pool2d (windows of varying size).
#
# Bounds: the wrappers check shapes and tables before any kernel runs (`_check_windows`), and
# the conv loops only touch x where `_valid_range` proved the position lies inside it.
# Layout: every kernel takes C-contiguous arrays (the wrappers copy anything else), so each is
# compiled for float32 and float64 only. The loops are serial: the flops are in the GEMM (BLAS
# threads on its own), and on the 2-core machine this was measured on, starting threads for
# these memory-bound loops cost more than they saved.

__all__ += ["im2col", "col2im", "max_pool2d", "max_pool2d_backward", "avg_pool2d",
            "avg_pool2d_backward"]


@njit(inline="always")
def _index(i):
    """i as an unsigned integer, for the innermost index of a loop. Numba counts a negative
    index from the end, and the check for one keeps a loop from vectorizing (2-3x slower here);
    the indices these kernels use are never negative (the ranges are worked out first, by
    `_valid_range` or from checked tables), so they say so."""
    return np.uint64(i)


@njit(inline="always")
def _valid_range(n_out, stride, offset, size):
    """The outputs o in [lo, hi) whose input position o*stride + offset lies in [0, size).

    lo = ceil(-offset / stride) and hi = floor((size - 1 - offset) / stride) + 1, clipped to
    [0, n_out]; integer // rounds toward -inf, as the formulas need.
    """
    lo = max(0, (stride - 1 - offset) // stride)
    hi = min(n_out, (size - 1 - offset) // stride + 1)
    return lo, max(lo, hi)


@njit(**_PLAIN)
def _im2col_kernel(x, cols, sh, sw, pt, pl, dh, dw):
    """cols (viewed as (N, C, kh, kw, OH, OW)) from x (N, C, H, W):

        cols[n, c, i, j, oh, ow] = x[n, c, oh*sh - pt + i*dh, ow*sw - pl + j*dw]

    and 0 where that position falls in the padding. For each kernel offset (i, j), the output
    rows oh_lo..oh_hi-1 and columns ow_lo..ow_hi-1 are those that land inside x; the loops
    read x only there."""
    n_img, channels, height, width = x.shape
    kh, kw, out_h, out_w = cols.shape[2], cols.shape[3], cols.shape[4], cols.shape[5]
    for n in range(n_img):
        for c in range(channels):
            for i in range(kh):
                oh_lo, oh_hi = _valid_range(out_h, sh, i * dh - pt, height)
                for j in range(kw):
                    ow_lo, ow_hi = _valid_range(out_w, sw, j * dw - pl, width)
                    for oh in range(out_h):
                        if oh < oh_lo or oh >= oh_hi:      # the whole row is padding
                            for ow in range(out_w):
                                cols[n, c, i, j, oh, _index(ow)] = 0
                            continue
                        h = oh * sh - pt + i * dh
                        for ow in range(ow_lo):
                            cols[n, c, i, j, oh, _index(ow)] = 0
                        for ow in range(ow_lo, ow_hi):
                            cols[n, c, i, j, oh, _index(ow)] = x[n, c, h,
                                                                 _index(ow * sw - pl + j * dw)]
                        for ow in range(ow_hi, out_w):
                            cols[n, c, i, j, oh, _index(ow)] = 0


@njit(**_PLAIN)
def _col2im_kernel(cols, out, sh, sw, pt, pl, dh, dw):
    """The adjoint of _im2col_kernel: out = 0, then for every (n, c, i, j, oh, ow)

        out[n, c, oh*sh - pt + i*dh, ow*sw - pl + j*dw] += cols[n, c, i, j, oh, ow]

    (entries that came from the padding have nowhere to go and are dropped)."""
    n_img, channels, height, width = out.shape
    kh, kw, out_h, out_w = cols.shape[2], cols.shape[3], cols.shape[4], cols.shape[5]
    out[...] = 0
    for n in range(n_img):
        for c in range(channels):
            for i in range(kh):
                oh_lo, oh_hi = _valid_range(out_h, sh, i * dh - pt, height)
                for j in range(kw):
                    ow_lo, ow_hi = _valid_range(out_w, sw, j * dw - pl, width)
                    for oh in range(oh_lo, oh_hi):
                        h = oh * sh - pt + i * dh
                        for ow in range(ow_lo, ow_hi):
                            out[n, c, h, _index(ow * sw - pl + j * dw)] += \
                                cols[n, c, i, j, oh, _index(ow)]


def _c_array(a: np.ndarray) -> np.ndarray:
    """`a` as a C-contiguous, writeable array (a copy only if it is not one already), so that
    each kernel is compiled for one layout."""
    if a.flags.c_contiguous and a.flags.writeable:
        return a
    return np.array(a, order="C")


def _into(out: np.ndarray) -> np.ndarray:
    """Where a kernel can write `out`: out itself if it is C-contiguous, else a temporary that
    `_copy_back` copies back."""
    return out if out.flags.c_contiguous else np.empty(out.shape, out.dtype)


def _copy_back(target: np.ndarray, out: np.ndarray) -> np.ndarray:
    if target is not out:
        copy(target, out)
    return out


def im2col(x: np.ndarray, kernel_size, stride, padding, dilation, cols: np.ndarray,
           out_size=None) -> np.ndarray:
    """cols (N, C*kh*kw, OH*OW) = the receptive fields of x (N, C, H, W) as columns:

        cols[n, c*kh*kw + i*kw + j, oh*OW + ow] = x[n, c, oh*sh - pt + i*dh, ow*sw - pl + j*dw]

    0 where the position is outside x (zero padding). `padding` is (top, left); the bottom and
    right padding are whatever `out_size` = (OH, OW) needs (more than top/left for "same").
    """
    shape6, params = _im2col_shape(x.shape, cols.shape, kernel_size, stride, padding, dilation,
                                   out_size)
    _check_floats("im2col", x, cols)
    x = _c_array(x)
    target = _into(cols)
    _im2col_kernel(x, target.reshape(shape6), *params)
    return _copy_back(target, cols)


def col2im(cols: np.ndarray, kernel_size, stride, padding, dilation, out: np.ndarray,
           out_size=None) -> np.ndarray:
    """out (N, C, H, W) = the adjoint of im2col: every entry of cols (N, C*kh*kw, OH*OW) added
    onto the input position im2col copied it from (the input gradient of a convolution)."""
    shape6, params = _im2col_shape(out.shape, cols.shape, kernel_size, stride, padding,
                                   dilation, out_size)
    _check_floats("col2im", cols, out)
    cols = _c_array(cols)
    target = _into(out)
    _col2im_kernel(cols.reshape(shape6), target, *params)
    return _copy_back(target, out)


# --------------------------------------------------------------------------------- pooling


@njit(**_PLAIN)
def _max_pool_kernel(x, rows, cols, dh, dw, out, indices):
    """out[n, c, oh, ow] = the largest x[n, c, h, w] with h in range(rows[oh, 0], rows[oh, 1],
    dh) and w in range(cols[ow, 0], cols[ow, 1], dw); indices[n, c, oh, ow] = h*W + w of it.

    As PyTorch: the first maximum wins a tie, a NaN beats every number (the last NaN wins), and
    a window of -inf only still points at its first element."""
    n_img, channels, width = x.shape[0], x.shape[1], x.shape[3]
    for n in range(n_img):
        for c in range(channels):
            for oh in range(out.shape[2]):
                h0, h1 = rows[oh, 0], rows[oh, 1]
                for ow in range(out.shape[3]):
                    w0, w1 = cols[ow, 0], cols[ow, 1]
                    best = -np.inf
                    best_index = h0 * width + w0
                    for h in range(h0, h1, dh):
                        for w in range(w0, w1, dw):
                            v = x[n, c, h, _index(w)]
                            if v > best or v != v:
                                best, best_index = v, h * width + w
                    out[n, c, oh, _index(ow)] = best
                    indices[n, c, oh, _index(ow)] = best_index


@njit(**_PLAIN)
def _max_pool_backward_kernel(grad, indices, rows, cols, out):
    """out = 0, then out[n, c, idx // W, idx % W] += grad[n, c, oh, ow] for every output
    position, idx = indices[n, c, oh, ow]: each window's gradient goes to its maximum.

    A window that lies wholly in the padding (possible with dilation) has no maximum: its
    output is a constant -inf and passes no gradient. Its index, as PyTorch's, may point
    anywhere; so may an index a user changed: only indices inside the plane are followed."""
    height, width = out.shape[2], out.shape[3]
    out[...] = 0
    for n in range(grad.shape[0]):
        for c in range(grad.shape[1]):
            for oh in range(grad.shape[2]):
                if rows[oh, 0] >= rows[oh, 1]:
                    continue
                for ow in range(grad.shape[3]):
                    index = indices[n, c, oh, ow]
                    if cols[ow, 0] < cols[ow, 1] and 0 <= index < height * width:
                        out[n, c, index // width, index % width] += grad[n, c, oh, ow]


@njit(**_PLAIN)
def _avg_pool_kernel(x, rows, cols, out):
    """out[n, c, oh, ow] = (sum of x[n, c, h, w] over h in [rows[oh, 0], rows[oh, 1]) and w in
    [cols[ow, 0], cols[ow, 1])) / (rows[oh, 2] * cols[ow, 2]); an empty window gives 0.
    Sums accumulate in float64."""
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for oh in range(out.shape[2]):
                h0, h1 = rows[oh, 0], rows[oh, 1]
                for ow in range(out.shape[3]):
                    w0, w1 = cols[ow, 0], cols[ow, 1]
                    total = 0.0
                    for h in range(h0, h1):
                        for w in range(w0, w1):
                            total += x[n, c, h, _index(w)]
                    out[n, c, oh, _index(ow)] = total / (rows[oh, 2] * cols[ow, 2])


@njit(**_PLAIN)
def _avg_pool_backward_kernel(grad, rows, cols, out):
    """out = 0, then each output's gradient divided by its divisor is added to every position
    of its window: d out[oh, ow] / d x[h, w] = 1 / divisor inside the window, 0 outside."""
    out[...] = 0
    for n in range(grad.shape[0]):
        for c in range(grad.shape[1]):
            for oh in range(grad.shape[2]):
                for ow in range(grad.shape[3]):
                    share = grad[n, c, oh, ow] / (rows[oh, 2] * cols[ow, 2])
                    for h in range(rows[oh, 0], rows[oh, 1]):
                        for w in range(cols[ow, 0], cols[ow, 1]):
                            out[n, c, h, _index(w)] += share


def max_pool2d(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, dilation, out: np.ndarray,
               indices: np.ndarray) -> np.ndarray:
    """out (N, C, OH, OW) = the maximum of x (N, C, H, W) over each window, indices (int64) =
    its position h*W + w in the plane. Window (oh, ow) covers rows range(rows[oh, 0],
    rows[oh, 1], dh) and columns range(cols[ow, 0], cols[ow, 1], dw): int64 tables (OH, 2) and
    (OW, 2), clipped to the input (the padding never wins: it is -inf). A window with no
    position inside the input gives -inf and index rows[oh, 0]*W + cols[ow, 0], as PyTorch."""
    _check_windows("max_pool2d", x.shape, out.shape, rows, cols, 2)
    _check_floats("max_pool2d", x, out)
    dh, dw = (int(d) for d in dilation)
    if min(dh, dw) < 1 or indices.shape != out.shape or indices.dtype != np.int64:
        raise ValueError("max_pool2d: dilation must be positive and indices int64 shaped like "
                         "out")
    target, target_indices = _into(out), _into(indices)
    if out.size:
        _max_pool_kernel(_c_array(x), rows, cols, dh, dw, target, target_indices)
    _copy_back(target_indices, indices)
    return _copy_back(target, out)


def max_pool2d_backward(grad: np.ndarray, indices: np.ndarray, rows: np.ndarray,
                        cols: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out (N, C, H, W) = the input gradient of max_pool2d: grad (N, C, OH, OW) summed into the
    positions `indices` (from max_pool2d with the same tables) point at; zero elsewhere.
    Windows with no position inside the input pass no gradient."""
    _check_windows("max_pool2d_backward", out.shape, grad.shape, rows, cols, 2)
    _check_floats("max_pool2d_backward", grad, out)
    if indices.shape != grad.shape or indices.dtype != np.int64:
        raise ValueError(f"max_pool2d_backward: indices must be int64 of grad's shape "
                         f"{grad.shape}, got {indices.dtype} {indices.shape}")
    target = _into(out)
    _max_pool_backward_kernel(_c_array(grad), _c_array(indices), rows, cols, target)
    return _copy_back(target, out)


def avg_pool2d(x: np.ndarray, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out (N, C, OH, OW) = the mean of x (N, C, H, W) over each window: the sum over rows
    [rows[oh, 0], rows[oh, 1]) and columns [cols[ow, 0], cols[ow, 1]) divided by
    rows[oh, 2] * cols[ow, 2] (int64 tables (OH, 3) and (OW, 3); windows clipped to the input,
    the divisor counting what the options say: padding or not, or an override)."""
    _check_windows("avg_pool2d", x.shape, out.shape, rows, cols, 3)
    _check_floats("avg_pool2d", x, out)
    target = _into(out)
    if out.size:
        _avg_pool_kernel(_c_array(x), rows, cols, target)
    return _copy_back(target, out)


def avg_pool2d_backward(grad: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                        out: np.ndarray) -> np.ndarray:
    """out (N, C, H, W) = the input gradient of avg_pool2d with the same tables: each output's
    gradient / its divisor, added to every position of its window."""
    _check_windows("avg_pool2d_backward", out.shape, grad.shape, rows, cols, 3)
    _check_floats("avg_pool2d_backward", grad, out)
    target = _into(out)
    _avg_pool_backward_kernel(_c_array(grad), rows, cols, target)
    return _copy_back(target, out)
