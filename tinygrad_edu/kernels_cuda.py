"""The CUDA primitives: numba.cuda kernels behind every tensor operation on device "cuda".

This module implements the same primitives as `kernels_cpu.py` (the interface: primitives.py,
docs/primitives.md) for an NVIDIA GPU, and compiles the same scalar math (elementwise_math.py)
as device functions. The tensor layer checks shapes, dtypes and index ranges, then calls these functions with
arrays of this device; every kernel is written for a real GPU:

    elementwise   grid-stride loops: each thread handles elements i, i + gridsize, ...; a plain
                  loop when every array is contiguous, index arithmetic over (shape, strides)
                  for strided and broadcast (stride 0) views;
    reductions    one block per output: each thread folds a strided slice of the elements,
                  then the block combines its threads' results by a tree in shared memory;
                  long reductions of few outputs are split over several blocks (two passes);
    matmul        a tiled GEMM: blocks stage tiles of a and b in shared memory and each thread
                  keeps a 4 x 4 block of the output in registers; `matmul_tiled` is the
                  textbook one-output-per-thread version;
    indexing      gather/scatter by index arithmetic; accumulation through atomic adds;
    sort          one block per row: a bitonic sorting network on (value, index) keys, which
                  makes it stable;
    nonzero       count per chunk, prefix sum, write: output sizes known before writing;
    conv, pool    im2col/col2im and the pooling windows: a thread per output element;
    optimizers    one fused pass per parameter (sgd_step, adam_step, ...).

Launch configurations come from the shapes (a warp for tiny arrays, up to 256 threads per block,
as many blocks as the work needs up to a cap beyond which the grid-stride loops take over), so no
size is hard-coded that a large input could break.

The arrays. A tensor on the GPU is a view `(storage, offset, shape, strides)` of a flat buffer,
and so is the array type here: `CudaArray` holds a flat numba device array (the storage) plus an
element offset, a shape and element strides, exactly the `as_strided` of docs/primitives.md.
Kernels receive the flat buffer, the offset and the strides (small tuples, passed with the launch
as kernel parameters: no extra copy to the device), and compute each element's position
themselves: one compiled kernel per op and dtype serves every layout. (numba's own
`DeviceNDArray` cannot show an arbitrary strided window with stride-0 dimensions of a buffer
through its public API, and the simulator's arrays are built differently from the GPU's: a view
type of our own works identically in both.)

No GPU? Numba's CUDA simulator runs these very kernels in Python threads — set
`NUMBA_ENABLE_CUDASIM=1` before numba is imported. It is slow (a thread per CUDA thread), but a
learner can step through a kernel with a debugger. (Python's `math` is not IEEE math, so there
the kernels' scalar functions are NumPy's; see "the math of every op" below.)

Transfers between host and device happen only in `from_numpy`/`to_numpy` (the tensor layer calls
them for `.to()`, `.numpy()`, `.item()` and printing), in `nonzero`, which reads back one
number, the count of nonzero elements, because it sizes the output (PyTorch does the same), and
for the pooling layers' small window tables, copied once per window geometry.

Compiling. Kernels are built per op on first use and compiled for the GPU per dtype on first
call (a fraction of a second each); nothing compiles at import. They are not cached on disk:
most are made by small factories per op, which numba-cuda's cache does not cover.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from numba import cuda

from tinygrad_edu import elementwise_math
from tinygrad_edu.elementwise_math import ByKind
from tinygrad_edu.kernels_cpu import _collapse as _collapse_lists
# the interface this module implements: the op names, and the argument checks that need no device
from tinygrad_edu.primitives import (ARGREDUCE_OPS, BINARY_OPS, REDUCE_OPS, UNARY_OPS,
                                     check_same_shape as _check_same_shape, unknown_op)
from tinygrad_edu.primitives import accumulator_dtype as _accumulator_dtype
from tinygrad_edu.primitives import arange_dtype as _arange_dtype
from tinygrad_edu.primitives import check_floats as _check_floats
from tinygrad_edu.primitives import check_windows as _check_windows
from tinygrad_edu.primitives import im2col_geometry as _im2col_shape

if not cuda.is_available():
    raise RuntimeError(
        "CUDA is not available: no NVIDIA GPU with a working driver was found, and Numba's CUDA "
        "simulator is off. To run the CUDA kernels without a GPU, set the environment variable "
        "NUMBA_ENABLE_CUDASIM=1 before numba is imported (e.g. `NUMBA_ENABLE_CUDASIM=1 python "
        "script.py`, or os.environ['NUMBA_ENABLE_CUDASIM'] = '1' at the very top of the script).")

__all__ = [
    "UNARY_OPS", "BINARY_OPS", "REDUCE_OPS", "ARGREDUCE_OPS", "CudaArray",
    "empty", "from_numpy", "to_numpy", "as_strided", "fill", "copy",
    "unary", "binary", "where", "reduce", "argreduce", "matmul", "matmul_tiled",
    "gather", "scatter", "index_select", "index_add", "take", "put", "nonzero", "sort",
    "sgd_step", "adam_step", "rmsprop_step", "adagrad_step", "synchronize",
]

# ------------------------------------------------------------------------ launch configuration

WARP = 32            # threads that execute together; block sizes are multiples of it
MAX_THREADS = 256    # threads per block: enough to hide memory latency, small enough to share
MAX_BLOCKS = 8192    # beyond this many blocks the grid-stride loops give each thread more work


def _grid(n: int, max_threads: int = MAX_THREADS) -> tuple[int, int]:
    """(blocks, threads per block) for n independent work items in a grid-stride loop."""
    n = max(n, 1)
    threads = min(max_threads, WARP * -(-n // WARP))
    return min(-(-n // threads), MAX_BLOCKS), threads


def _block_for(n: int) -> int:
    """Threads per block for a block that cooperates on n items: a power of two (the shared-
    memory trees halve it), at least a warp, at most MAX_THREADS."""
    threads = WARP
    while threads < n and threads < MAX_THREADS:
        threads *= 2
    return threads


def _launch(kernel, blocks, threads, *args) -> None:
    """Run `kernel` on a grid of `blocks` blocks of `threads` threads (both ints or tuples)."""
    kernel[blocks, threads](*args)


# ---------------------------------------------------------------------------- the array type


class _Flags:
    __slots__ = ("c_contiguous",)

    def __init__(self, c_contiguous: bool):
        self.c_contiguous = c_contiguous


def _contiguous_strides(shape: tuple) -> tuple:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


class CudaArray:
    """A strided view of a flat device buffer: element idx is
    `buffer[offset + sum(idx[d] * strides[d])]`, with offset and strides in elements (as
    `Tensor.storage_offset()` and `Tensor.stride()`, not numpy's bytes).

    `buffer` is a 1-D numba device array. Views share their buffer: writing through one shows in
    all. There is deliberately no `__array__`: turning device memory into a numpy array is a
    transfer, spelled `to_numpy(x)` (or `x.copy_to_host()`), never an accident.
    """

    __slots__ = ("buffer", "offset", "shape", "strides", "dtype")

    def __init__(self, buffer, offset: int, shape: tuple, strides: tuple):
        self.buffer = buffer
        self.offset = int(offset)
        self.shape = tuple(int(n) for n in shape)
        self.strides = tuple(int(s) for s in strides)
        self.dtype = np.dtype(buffer.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    def is_c_contiguous(self) -> bool:
        """Row-major strides (size-1 dimensions may have any stride, as in Tensor)."""
        if self.size == 0:
            return True
        expected = 1
        for n, s in zip(reversed(self.shape), reversed(self.strides)):
            if n != 1:
                if s != expected:
                    return False
                expected *= n
        return True

    @property
    def flags(self) -> _Flags:
        return _Flags(self.is_c_contiguous())

    def reshape(self, *shape) -> "CudaArray":
        """The same elements with another shape (a view: only for contiguous arrays)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if -1 in shape:
            known = math.prod(n for n in shape if n != -1)
            shape = tuple(self.size // known if n == -1 else n for n in shape)
        if math.prod(shape) != self.size:
            raise ValueError(f"cannot reshape array of size {self.size} into shape {shape}")
        if not self.is_c_contiguous():
            raise ValueError("only a contiguous CudaArray can be reshaped without a copy")
        return CudaArray(self.buffer, self.offset, shape, _contiguous_strides(shape))

    def ravel(self) -> "CudaArray":
        return self.reshape(-1)

    def copy_to_host(self) -> np.ndarray:
        return to_numpy(self)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __setitem__(self, key, value) -> None:
        """`x[...] = value`: fill with a number, or copy another array of the same shape."""
        if key is not Ellipsis and key != ():
            raise NotImplementedError("a CudaArray supports only x[...] = value; index through "
                                      "the tensor layer")
        if isinstance(value, CudaArray):
            copy(value, self)
        else:
            fill(self, value)

    def __array__(self, *args, **kwargs):
        raise TypeError("a CudaArray lives in GPU memory; copy it to the host explicitly with "
                        "kernels_cuda.to_numpy(x)")

    def __repr__(self) -> str:
        return (f"CudaArray(shape={self.shape}, strides={self.strides}, offset={self.offset}, "
                f"dtype={self.dtype})")


def _args(a: CudaArray) -> tuple:
    """What a kernel receives for an array: its flat buffer and the offset of its first element."""
    return a.buffer, a.offset


# ------------------------------------------------------------------------------------- memory


def empty(shape, dtype) -> CudaArray:
    """A new C-contiguous array (uninitialised)."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    n = math.prod(shape)
    buffer = cuda.device_array(max(n, 1), np.dtype(dtype))  # never 0 bytes: one spare element
    return CudaArray(buffer, 0, shape, _contiguous_strides(shape))


def from_numpy(a: np.ndarray) -> CudaArray:
    """A copy of the numpy array `a` in GPU memory (host -> device transfer)."""
    a = np.asarray(a)
    if a.size == 0:
        return empty(a.shape, a.dtype)
    flat = np.ascontiguousarray(a).reshape(-1)        # (ascontiguousarray makes 0-d 1-d)
    return CudaArray(cuda.to_device(flat), 0, a.shape, _contiguous_strides(a.shape))


def to_numpy(x: CudaArray) -> np.ndarray:
    """A numpy array with x's values (device -> host transfer). A non-contiguous view is first
    packed on the device, so that only its own elements cross the bus. The host waits for the
    device here, so the checks left pending on the device are settled first (check_later)."""
    if _pending_reports:
        raise_pending()
    if x.size == 0:
        return np.empty(x.shape, x.dtype)
    if not x.is_c_contiguous():
        packed = empty(x.shape, x.dtype)
        copy(x, packed)
        x = packed
    return x.buffer[x.offset:x.offset + x.size].copy_to_host().reshape(x.shape)


def as_strided(buf: CudaArray, offset: int, shape, strides) -> CudaArray:
    """The view of 1-D `buf` whose element idx is buf[offset + sum(idx[d] * strides[d])]
    (no copy); ValueError if it would reach outside `buf`."""
    shape, strides = tuple(shape), tuple(strides)
    if math.prod(shape) and (offset < 0 or any(s < 0 for s in strides) or
                             offset + sum((n - 1) * s for n, s in zip(shape, strides))
                             >= buf.shape[0]):
        raise ValueError(f"as_strided: a view of shape {shape}, strides {strides} at offset "
                         f"{offset} does not fit in a buffer of {buf.shape[0]} elements")
    step = buf.strides[0] if buf.strides else 1    # `buf` may itself be a strided 1-D view
    return CudaArray(buf.buffer, buf.offset + offset * step, shape,
                     tuple(s * step for s in strides))


def synchronize() -> None:
    """Wait until every kernel launched so far has finished (launches are asynchronous), and
    raise what a pending check found (check_later)."""
    cuda.synchronize()
    raise_pending()


# ------------------------------------------------------------------ errors found on the device
# Kernels run asynchronously: the host learns what the device computed only when it next waits
# for it — at a transfer to the host (.item(), .numpy(), printing) or synchronize(). A check
# that must look at every element of a device tensor (are all class targets in range?) is
# therefore computed on the device, as a bool, and read at that next wait: the pending checks
# are and-ed into one flag on the device, so settling any number of them reads one byte. This
# is how PyTorch reports a bad index on a GPU too (a "device-side assert", raised by a later
# call). Meanwhile the tensor layer hands the kernels only indices made safe, so no kernel
# touches memory outside an array whatever the check finds.

_pending_reports: list = []   # callables that raise the error of a failed check, oldest first
_all_passed: list = []        # [] or [a 0-d bool CudaArray]: every pending check passed
MAX_PENDING = 256             # more pending checks than this are settled at once (bounded memory)


def check_later(passed: CudaArray, report) -> None:
    """Remember the 0-d bool `passed`, computed on the device; at the next wait for the
    device, if it (or any other pending check) is False, `report()` is called to raise the
    error (each report looks at its own data again and raises if that is what failed)."""
    if _all_passed:
        binary("logical_and", _all_passed[0], passed, _all_passed[0])
    else:
        flag = empty((), np.bool_)
        copy(passed, flag)
        _all_passed.append(flag)
    _pending_reports.append(report)
    if len(_pending_reports) >= MAX_PENDING:
        raise_pending()


def raise_pending() -> None:
    """Settle the pending checks: read their joint flag (one byte); if one failed, let the
    reports find and raise it."""
    if not _pending_reports:
        return
    reports, flag = list(_pending_reports), _all_passed[0]
    _pending_reports.clear()
    _all_passed.clear()
    if bool(to_numpy(flag)):
        return
    for report in reports:
        report()
    raise RuntimeError("a check made on the device failed, but the data it checked has "
                       "changed since, so the culprit cannot be named")


# ------------------------------------------------------------------------ the math of every op
# Scalar math, by the names the kernels call. On a GPU these are Python's `math` functions,
# which numba compiles to CUDA's own (math.exp of a float32 is expf, computed in float32). The
# simulator runs kernels as plain Python, where `math` is not the GPU's math: it raises where IEEE
# gives inf or NaN (math.log(0) is a ValueError, not -inf), and it returns Python floats, which
# NumPy 2 rounds to float32 next to a float32 number (a float64 kernel would lose precision).
# There NumPy's scalar functions stand in: the GPU's IEEE answers, in the input's own precision.
SIMULATOR = cuda.jit.__module__.startswith("numba.cuda.simulator")

if SIMULATOR:
    _exp, _expm1, _log, _log2, _log1p = np.exp, np.expm1, np.log, np.log2, np.log1p
    _sqrt, _sin, _cos, _tan, _tanh, _atan2 = np.sqrt, np.sin, np.cos, np.tan, np.tanh, np.arctan2
    _floor, _ceil, _trunc, _fmod, _copysign = np.floor, np.ceil, np.trunc, np.fmod, np.copysign

    def _erf(x):
        """NumPy has no erf: Python's, rounded back to x's own type."""
        return x.dtype.type(math.erf(x)) if isinstance(x, np.generic) else math.erf(x)
else:
    _exp, _expm1, _log, _log2, _log1p = math.exp, math.expm1, math.log, math.log2, math.log1p
    _sqrt, _sin, _cos, _tan, _tanh, _atan2 = (math.sqrt, math.sin, math.cos, math.tan,
                                              math.tanh, math.atan2)
    _floor, _ceil, _trunc, _fmod, _copysign = (math.floor, math.ceil, math.trunc, math.fmod,
                                               math.copysign)
    _erf = math.erf

# Constants are numpy scalars, typed. float32 ones keep float32 data in float32 — the GPU's fast
# lane, float64 runs at 1/2 to 1/64 of the speed — and widen exactly next to float64 data. The
# Gaussian constants are float64, as on the CPU: gelu of float32 is computed in float64, rounded
# once. (A bare Python float would be float64 on the GPU but "weak" in the simulator's NumPy.)
_ZERO, _HALF, _ONE, _TWO = np.float32(0.0), np.float32(0.5), np.float32(1.0), np.float32(2.0)
_INF, _NAN = np.float32(np.inf), np.float32(np.nan)
_ZERO64 = np.float64(0.0)
_SQRT1_2 = np.float64(0.7071067811865476)         # 1/sqrt(2)
_INV_SQRT_2PI = np.float64(0.3989422804014327)    # 1/sqrt(2*pi)


def _identity(x):
    return x


# What one output element is: elementwise_math.py, the same functions as on the CPU, compiled
# here as device functions with the GPU's library (above). Two names are bound differently
# from the CPU: `zero_like` is the float32 0 (which the store converts; there is no typed zero
# of the input's own type on the GPU here), and the Gaussian exponent factor MINUS_HALF is
# float32, so that gelu_backward of float32 data computes e^(-x^2/2) in float32 (the CPU: in
# float64, as gelu's erf on both devices).


@cuda.jit(device=True)
def _float32_zero(x):
    """0 as a float32 (the store converts it to the output's dtype)."""
    return _ZERO


_LIBRARY = dict(exp=_exp, expm1=_expm1, log=_log, log2=_log2, log1p=_log1p, sqrt=_sqrt, sin=_sin,
                cos=_cos, tan=_tan, tanh=_tanh, atan2=_atan2, erf=_erf, floor=_floor, ceil=_ceil,
                trunc=_trunc, fmod=_fmod, copysign=_copysign)
_MATH = elementwise_math.compiled_for(dict(_LIBRARY, zero_like=_float32_zero, MINUS_HALF=-_HALF),
                                      compile=cuda.jit(device=True))
UNARY_MATH = _MATH.UNARY_MATH
BINARY_MATH = _MATH.BINARY_MATH


def _kind(dtype: np.dtype) -> str:
    return {"f": "f", "b": "b"}.get(np.dtype(dtype).kind, "i")


def _math_of(table: dict, op: str, kind: str, what: str):
    """The device function computing `op` for data of `kind` ("f", "i" or "b")."""
    entry = table.get(op) if isinstance(op, str) else None    # (also the private "_to_int")
    if entry is None:
        raise unknown_op(what, op, tuple(name for name in table if not name.startswith("_")))
    fn = entry.for_kind(kind) if isinstance(entry, ByKind) else entry
    if fn is None:
        raise TypeError(f"{what} op {op!r} is not defined for {kind!r} data")
    return _device_function(fn)


@functools.cache
def _device_function(fn):
    return cuda.jit(device=True)(fn)


# ------------------------------------------------------------------------ positions of elements


@cuda.jit(device=True)
def _position(i, shape, strides, start):
    """Where element number i (counting in C order over `shape`) of an array with `strides`
    sits in its buffer: start + sum(coordinate[d] * strides[d])."""
    p = start
    for d in range(len(shape) - 1, -1, -1):
        p += (i % shape[d]) * strides[d]
        i //= shape[d]
    return p


@functools.lru_cache(maxsize=4096)
def _collapse(shape: tuple, *strides: tuple) -> tuple:
    """kernels_cpu's simplification of the loop over `shape` (size-1 dimensions dropped,
    dimensions merged where every array steps through them as one), as tuples: cached, since
    launches with the same geometry repeat every training step."""
    new_shape, new_strides = _collapse_lists(shape, list(strides))
    return tuple(new_shape), tuple(tuple(ns) for ns in new_strides)



def _is_flat(strides: tuple) -> bool:
    """After _collapse: every array walks its memory with step 1 (the contiguous case)."""
    return all(s == (1,) for s in strides)


# ------------------------------------------------------------------------- elementwise kernels
# Each op gets two kernels, built on first use and compiled per dtype on first call: a plain
# grid-stride loop when every array is contiguous, and one that finds each element's position
# from (shape, strides). Thread k of the grid handles elements k, k + gridsize, k + 2*gridsize...
# so any number of elements works with any grid, and neighbouring threads touch neighbouring
# elements (coalesced memory access).


@functools.cache
def _unary_kernels(op: str, kind: str):
    f = _math_of(UNARY_MATH, op, kind, "unary")

    @cuda.jit
    def contiguous(x, x_off, out, out_off, n):
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            out[out_off + i] = f(x[x_off + i])

    @cuda.jit
    def strided(x, x_off, x_st, out, out_off, out_st, shape, n):
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            out[_position(i, shape, out_st, out_off)] = f(x[_position(i, shape, x_st, x_off)])

    return contiguous, strided


@functools.cache
def _binary_kernels(op: str, kind: str):
    f = _math_of(BINARY_MATH, op, kind, "binary")

    @cuda.jit
    def contiguous(a, a_off, b, b_off, out, out_off, n):
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            out[out_off + i] = f(a[a_off + i], b[b_off + i])

    @cuda.jit
    def strided(a, a_off, a_st, b, b_off, b_st, out, out_off, out_st, shape, n):
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            out[_position(i, shape, out_st, out_off)] = f(a[_position(i, shape, a_st, a_off)],
                                                          b[_position(i, shape, b_st, b_off)])

    return contiguous, strided


@cuda.jit
def _where_contiguous(cond, c_off, a, a_off, b, b_off, out, out_off, n):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[out_off + i] = a[a_off + i] if cond[c_off + i] else b[b_off + i]


@cuda.jit
def _where_strided(cond, c_off, c_st, a, a_off, a_st, b, b_off, b_st, out, out_off, out_st,
                   shape, n):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        if cond[_position(i, shape, c_st, c_off)]:
            out[_position(i, shape, out_st, out_off)] = a[_position(i, shape, a_st, a_off)]
        else:
            out[_position(i, shape, out_st, out_off)] = b[_position(i, shape, b_st, b_off)]


@cuda.jit
def _fill_contiguous(out, out_off, n, value):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[out_off + i] = value


@cuda.jit
def _fill_strided(out, out_off, out_st, shape, n, value):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[_position(i, shape, out_st, out_off)] = value


def _run_elementwise(kernels, out: CudaArray, *inputs: CudaArray) -> CudaArray:
    """Launch the contiguous or the strided kernel of `kernels` over out's elements."""
    _check_same_shape(out, *inputs)
    n = out.size
    if n == 0:
        return out
    arrays = (*inputs, out)
    shape, strides = _collapse(out.shape, *(a.strides for a in arrays))
    blocks, threads = _grid(n)
    contiguous, strided = kernels
    if _is_flat(strides):
        args = [arg for a in arrays for arg in _args(a)]
        _launch(contiguous, blocks, threads, *args, n)
    else:
        args = [arg for a, st in zip(arrays, strides) for arg in (*_args(a), st)]
        _launch(strided, blocks, threads, *args, shape, n)
    return out


def _host_value(value, dtype: np.dtype):
    """A Python number converted to `dtype` as `copy` converts (float -> int truncates toward
    zero, then wraps; anything -> bool is != 0), as a numpy scalar the kernel is typed by."""
    dtype = np.dtype(dtype)
    v = np.asarray(value)
    if dtype.kind == "b":
        return np.bool_(v != 0)
    with np.errstate(invalid="ignore", over="ignore"):
        if dtype.kind in "iu" and v.dtype.kind == "f":
            v = np.trunc(v).astype(np.int64)
        return v.astype(dtype)[()]


def fill(out: CudaArray, value) -> CudaArray:
    """Every element of `out` becomes `value`, converted as `copy` converts."""
    n = out.size
    if n == 0:
        return out
    v = _host_value(value, out.dtype)
    shape, (strides,) = _collapse(out.shape, out.strides)
    blocks, threads = _grid(n)
    if _is_flat((strides,)):
        _launch(_fill_contiguous, blocks, threads, *_args(out), n, v)
    else:
        _launch(_fill_strided, blocks, threads, *_args(out), strides, shape, n, v)
    return out


def _copy_op(src: np.dtype, dst: np.dtype) -> str:
    if dst.kind == "b" and src.kind != "b":
        return "_to_bool"
    return "_to_int" if src.kind == "f" and dst.kind in "iu" else "_identity"


def copy(src: CudaArray, out: CudaArray) -> CudaArray:
    """out[...] = src converted to out's dtype (float to int truncates toward zero and wraps,
    anything to bool is != 0)."""
    return unary(_copy_op(src.dtype, out.dtype), src, out)


def unary(op: str, x: CudaArray, out: CudaArray) -> CudaArray:
    """out = op(x) elementwise; op is one of UNARY_OPS."""
    return _run_elementwise(_unary_kernels(op, _kind(x.dtype)), out, x)


def binary(op: str, a: CudaArray, b: CudaArray, out: CudaArray) -> CudaArray:
    """out = op(a, b) elementwise; op is one of BINARY_OPS; a and b have one dtype."""
    return _run_elementwise(_binary_kernels(op, _kind(a.dtype)), out, a, b)


def where(cond: CudaArray, a: CudaArray, b: CudaArray, out: CudaArray) -> CudaArray:
    """out = a where cond else b, elementwise."""
    return _run_elementwise((_where_contiguous, _where_strided), out, cond, a, b)


# --------------------------------------------------------------------------------- reductions
# For each reduction: its identity (None for max and min, which have none: a thread starts from
# the output's first element instead — counting an element twice does not change a max), and
# how the accumulator takes one more value. The same `combine` merges two threads' accumulators.

REDUCE_MATH = _MATH.REDUCE_MATH       # elementwise_math.REDUCE_MATH, for this device

# Reductions of at most this many elements per output run one thread per output (a block per
# output would leave most of its threads idle); longer ones use a block and a shared-memory tree.
SHORT_REDUCTION = 16
# Each thread of a split reduction folds at least this many elements before the blocks' partial
# results are combined by a second pass.
ITEMS_PER_THREAD = 8
# A reduction with fewer outputs than this is split over several blocks per output.
TARGET_BLOCKS = 1024


def _reduce_math(op: str, acc_dtype: np.dtype):
    """(init, combine) device functions: init(first element) is the starting accumulator."""
    identity, combine = REDUCE_MATH[op]
    if identity is None:
        return _device_function(_identity), _device_function(combine)
    start = np.dtype(acc_dtype).type(identity)
    return cuda.jit(device=True)(lambda first: start), _device_function(combine)


@functools.cache
def _reduce_short_kernel(op: str, acc: str):
    """One thread per output, folding its (few) elements in order."""
    init, combine = _reduce_math(op, np.dtype(acc))

    @cuda.jit
    def kernel(x, x_off, kept_shape, x_kept, red_shape, x_red, count, outputs,
               out, out_off, out_kept):
        for o in range(cuda.grid(1), outputs, cuda.gridsize(1)):
            px = _position(o, kept_shape, x_kept, x_off)
            acc = init(x[px])
            for r in range(count):
                acc = combine(acc, x[_position(r, red_shape, x_red, px)])
            out[_position(o, kept_shape, out_kept, out_off)] = acc

    return kernel


@functools.cache
def _reduce_block_kernel(op: str, acc: str, threads: int):
    """One block per (output, part): each thread folds every `threads`-th element of the part,
    then the block halves its partial results in shared memory until one remains:

        step s = threads/2, threads/4, ..., 1:   partial[t] = combine(partial[t], partial[t + s])
                                                 for every thread t < s
    """
    init, combine = _reduce_math(op, np.dtype(acc))
    acc_dtype = np.dtype(acc)

    @cuda.jit
    def kernel(x, x_off, kept_shape, x_kept, red_shape, x_red, count, outputs, parts, chunk,
               dst, dst_off, dst_kept, dst_part):
        partial = cuda.shared.array(threads, acc_dtype)
        t = cuda.threadIdx.x
        for work in range(cuda.blockIdx.x, outputs * parts, cuda.gridDim.x):
            o = work // parts
            part = work % parts
            px = _position(o, kept_shape, x_kept, x_off)
            acc = init(x[px])
            for r in range(part * chunk + t, min((part + 1) * chunk, count), threads):
                acc = combine(acc, x[_position(r, red_shape, x_red, px)])
            partial[t] = acc
            cuda.syncthreads()
            s = threads // 2
            while s > 0:
                if t < s:
                    partial[t] = combine(partial[t], partial[t + s])
                cuda.syncthreads()
                s //= 2
            if t == 0:
                dst[_position(o, kept_shape, dst_kept, dst_off) + part * dst_part] = partial[0]
            cuda.syncthreads()      # partial[0] is read before the next output overwrites it

    return kernel


def _reduce_layout(x: CudaArray, out: CudaArray, axes: tuple) -> tuple:
    """(kept shape, x's kept strides, out's kept strides, reduced shape, x's reduced strides):
    the collapsed loop nest, outputs first, with at least one dimension in each part."""
    out_strides = tuple(0 if d in axes else s for d, s in enumerate(out.strides))
    shape, (xs, os) = _collapse(x.shape, x.strides, out_strides)   # reduced dims sort last
    nkept = sum(1 for s in os if s != 0)
    kept, red = shape[:nkept] or (1,), shape[nkept:] or (1,)
    x_kept, x_red = xs[:nkept] or (0,), xs[nkept:] or (0,)
    return kept, x_kept, os[:nkept] or (0,), red, x_red


def reduce(op: str, x: CudaArray, axes, out: CudaArray) -> CudaArray:
    """out = op over `axes` of x (keepdims shape); op is one of REDUCE_OPS.

    Few outputs with many elements each (a full sum) are split: `parts` blocks per output write
    partial results, which a second launch of the same kernel combines.
    """
    if op not in REDUCE_OPS:
        raise unknown_op("reduce", op, REDUCE_OPS)
    axes = tuple(axes)
    acc = _accumulator_dtype(op, x.dtype)
    if out.size == 0:
        return out
    if x.size == 0:
        return _reduce_empty(op, out)
    kept, x_kept, out_kept, red, x_red = _reduce_layout(x, out, axes)
    outputs, count = out.size, x.size // out.size
    if count <= SHORT_REDUCTION:
        blocks, threads = _grid(outputs)
        _launch(_reduce_short_kernel(op, acc.str), blocks, threads, *_args(x), kept, x_kept, red,
                x_red, count, outputs, *_args(out), out_kept)
        return out
    threads = _block_for(count)
    parts = 1
    if outputs < TARGET_BLOCKS:
        parts = max(1, min(-(-count // (threads * ITEMS_PER_THREAD)), TARGET_BLOCKS // outputs))
    kernel = _reduce_block_kernel(op, acc.str, threads)
    if parts == 1:
        _launch(kernel, min(outputs, MAX_BLOCKS), threads, *_args(x), kept, x_kept, red, x_red,
                count, outputs, 1, count, *_args(out), out_kept, 0)
        return out
    # pass 1: partials[o, part] (contiguous, in the accumulator's dtype)
    chunk = -(-count // parts)
    partials = empty((outputs, parts), acc)
    part_kept = tuple(s * parts for s in _contiguous_strides(kept))
    _launch(kernel, min(outputs * parts, MAX_BLOCKS), threads, *_args(x), kept, x_kept, red,
            x_red, count, outputs, parts, chunk, *_args(partials), part_kept, 1)
    # pass 2: reduce each output's `parts` partial results into out
    return _reduce_rows(op, partials, kept, part_kept, out, out_kept)


def _reduce_rows(op, partials: CudaArray, kept, part_kept, out, out_kept) -> CudaArray:
    outputs, parts = partials.shape
    acc = partials.dtype
    threads = _block_for(parts)
    _launch(_reduce_block_kernel(op, acc.str, threads), min(outputs, MAX_BLOCKS), threads,
            *_args(partials), kept, part_kept, (parts,), (1,), parts, outputs, 1, parts,
            *_args(out), out_kept, 0)
    return out


def _reduce_empty(op: str, out: CudaArray) -> CudaArray:
    """Reducing zero elements gives the op's identity; max and min have none."""
    identity = REDUCE_MATH[op][0]
    if identity is None:
        raise ValueError(f"{op}() of an empty dimension has no identity")
    return fill(out, identity)


@cuda.jit(device=True)
def _beats(v, i, best_v, best_i, want_max):
    """Does candidate (value v at index i) replace the best so far? NaN beats every number
    (PyTorch's rule), then the larger (smaller) value, and among equals the lower index: the
    first occurrence wins. Index -1 means "nothing yet"."""
    if i < 0:
        return False
    if best_i < 0:
        return True
    v_nan = v != v
    best_nan = best_v != best_v
    if v_nan or best_nan:
        return v_nan and (not best_nan or i < best_i)
    if v == best_v:
        return i < best_i
    return v > best_v if want_max else v < best_v


@cuda.jit
def _argreduce_short(x, x_off, kept_shape, x_kept, n, x_step, outputs, out, out_off, out_kept,
                     want_max):
    for o in range(cuda.grid(1), outputs, cuda.gridsize(1)):
        px = _position(o, kept_shape, x_kept, x_off)
        best_v, best_i = x[px], 0
        for j in range(1, n):
            v = x[px + j * x_step]
            if _beats(v, j, best_v, best_i, want_max):
                best_v, best_i = v, j
        out[_position(o, kept_shape, out_kept, out_off)] = best_i


@functools.cache
def _argreduce_block_kernel(dtype: str, threads: int):
    """A block per output: each thread finds the best of every `threads`-th element, then a
    shared-memory tree of (value, index) pairs keeps the better of each two."""
    value_dtype = np.dtype(dtype)

    @cuda.jit
    def kernel(x, x_off, kept_shape, x_kept, n, x_step, outputs, out, out_off, out_kept,
               want_max):
        values = cuda.shared.array(threads, value_dtype)
        indices = cuda.shared.array(threads, np.int64)
        t = cuda.threadIdx.x
        for o in range(cuda.blockIdx.x, outputs, cuda.gridDim.x):
            px = _position(o, kept_shape, x_kept, x_off)
            best_v, best_i = x[px], -1
            for j in range(t, n, threads):
                v = x[px + j * x_step]
                if _beats(v, j, best_v, best_i, want_max):
                    best_v, best_i = v, j
            values[t], indices[t] = best_v, best_i
            cuda.syncthreads()
            s = threads // 2
            while s > 0:
                if t < s and _beats(values[t + s], indices[t + s], values[t], indices[t],
                                    want_max):
                    values[t], indices[t] = values[t + s], indices[t + s]
                cuda.syncthreads()
                s //= 2
            if t == 0:
                out[_position(o, kept_shape, out_kept, out_off)] = indices[0]
            cuda.syncthreads()

    return kernel


def argreduce(op: str, x: CudaArray, axis: int, out: CudaArray) -> CudaArray:
    """out (int64, `axis` of size 1) = argmax or argmin of x along `axis`."""
    if op not in ARGREDUCE_OPS:
        raise unknown_op("argreduce", op, ARGREDUCE_OPS)
    if out.size == 0:
        return out
    n = x.shape[axis]
    if n == 0:
        raise ValueError(f"{op}() of an empty dimension has no answer")
    if n == 1:
        return fill(out, 0)
    # walk the other dimensions as "outputs"; the reduced axis is read with its own stride
    others = tuple(d for d in range(x.ndim) if d != axis)
    kept, (x_kept, out_kept) = _collapse(tuple(x.shape[d] for d in others),
                                         tuple(x.strides[d] for d in others),
                                         tuple(out.strides[d] for d in others))
    outputs = out.size
    want_max = op == "argmax"
    if n <= SHORT_REDUCTION:
        blocks, threads = _grid(outputs)
        _launch(_argreduce_short, blocks, threads, *_args(x), kept, x_kept, n, x.strides[axis],
                outputs, *_args(out), out_kept, want_max)
        return out
    threads = _block_for(n)
    _launch(_argreduce_block_kernel(x.dtype.str, threads), min(outputs, MAX_BLOCKS), threads,
            *_args(x), kept, x_kept, n, x.strides[axis], outputs, *_args(out), out_kept, want_max)
    return out


# ----------------------------------------------------------------------------- linear algebra
# out[p] = a[p] @ b[p] for a (B, M, K), b (B, K, N), any strides. Both kernels cut out into
# tiles, one block per tile (a grid-stride loop over tiles, so any size works), and march along
# K one slab at a time: the block copies a slab of a and of b into shared memory, synchronises,
# and then every thread reads them from there many times — each element of a and b is fetched
# from global memory once per tile instead of once per output element.

TILE = 16                 # matmul_tiled: 16 x 16 outputs per block, one per thread
BLOCK_M = BLOCK_N = 64    # matmul: 64 x 64 outputs per block ...
BLOCK_K = 16              # ... a slab of 16 along K at a time ...
THREAD_M = THREAD_N = 4   # ... and 4 x 4 outputs per thread, in registers
SIDE = BLOCK_M // THREAD_M  # 16 x 16 = 256 threads per block
# a_slab gets one spare column: threads writing down a column then hit different memory banks
A_SLAB_COLUMNS = BLOCK_M + 1


def _accumulator(dtype: np.dtype) -> np.dtype:
    """Matmul accumulates floats in their own type (as BLAS does), integers and bools in int64."""
    return np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(np.int64)


@functools.cache
def _matmul_tiled_kernel(acc: str):
    """The textbook shared-memory matmul: thread (ty, tx) computes out[row, col] with
    row = tile_row + ty, col = tile_col + tx, as the sum over slabs of TILE values of k of
    a_tile[ty, kk] * b_tile[kk, tx]."""
    acc_dtype = np.dtype(acc)
    zero = acc_dtype.type(0)

    @cuda.jit
    def kernel(a, a_off, a_st, b, b_off, b_st, out, out_off, out_st, batch, m, n, k):
        a_tile = cuda.shared.array((TILE, TILE), acc_dtype)
        b_tile = cuda.shared.array((TILE, TILE), acc_dtype)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        tiles_m, tiles_n = (m + TILE - 1) // TILE, (n + TILE - 1) // TILE
        for tile in range(cuda.blockIdx.x, batch * tiles_m * tiles_n, cuda.gridDim.x):
            p = tile // (tiles_m * tiles_n)
            row = (tile // tiles_n) % tiles_m * TILE + ty
            col = tile % tiles_n * TILE + tx
            pa, pb = a_off + p * a_st[0], b_off + p * b_st[0]
            total = zero
            for k0 in range(0, k, TILE):
                # each thread copies one element of each tile (zero outside the matrices)
                kk = k0 + tx
                a_tile[ty, tx] = a[pa + row * a_st[1] + kk * a_st[2]] if row < m and kk < k \
                    else zero
                kk = k0 + ty
                b_tile[ty, tx] = b[pb + kk * b_st[1] + col * b_st[2]] if kk < k and col < n \
                    else zero
                cuda.syncthreads()
                for j in range(TILE):
                    total += a_tile[ty, j] * b_tile[j, tx]
                cuda.syncthreads()      # everyone is done with the tiles before they change
            if row < m and col < n:
                out[out_off + p * out_st[0] + row * out_st[1] + col * out_st[2]] = total

    return kernel


@functools.cache
def _matmul_kernel(acc: str):
    """The register-blocked matmul. A block owns a BLOCK_M x BLOCK_N tile of out; thread
    (ty, tx) owns the 4 x 4 outputs at rows ty + 16 i and columns tx + 16 j of the tile (i, j
    in 0..3), so that neighbouring threads write neighbouring columns. For each slab of
    BLOCK_K values of k, the 256 threads copy a's BLOCK_M x BLOCK_K slab (stored transposed,
    a_slab[k][m]) and b's BLOCK_K x BLOCK_N slab into shared memory; then, for each k, a thread
    reads 4 values of a and 4 of b and does 16 multiply-adds: 8 reads for 16 products, where
    matmul_tiled needs 2 reads for each one."""
    acc_dtype = np.dtype(acc)
    zero = acc_dtype.type(0)

    @cuda.jit
    def kernel(a, a_off, a_st, b, b_off, b_st, out, out_off, out_st, batch, m, n, k):
        a_slab = cuda.shared.array((BLOCK_K, A_SLAB_COLUMNS), acc_dtype)
        b_slab = cuda.shared.array((BLOCK_K, BLOCK_N), acc_dtype)
        total = cuda.local.array((THREAD_M, THREAD_N), acc_dtype)
        a_frag = cuda.local.array(THREAD_M, acc_dtype)
        b_frag = cuda.local.array(THREAD_N, acc_dtype)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        tid = ty * SIDE + tx
        # copy order: consecutive threads read consecutive addresses whichever way a and b are
        # laid out (a row-major a walks along k, a transposed one along m)
        a_along_k, b_along_n = a_st[2] == 1, b_st[2] == 1 or b_st[1] != 1
        tiles_m, tiles_n = (m + BLOCK_M - 1) // BLOCK_M, (n + BLOCK_N - 1) // BLOCK_N
        for tile in range(cuda.blockIdx.x, batch * tiles_m * tiles_n, cuda.gridDim.x):
            p = tile // (tiles_m * tiles_n)
            row0 = (tile // tiles_n) % tiles_m * BLOCK_M
            col0 = tile % tiles_n * BLOCK_N
            pa, pb = a_off + p * a_st[0], b_off + p * b_st[0]
            for i in range(THREAD_M):
                for j in range(THREAD_N):
                    total[i, j] = zero
            for k0 in range(0, k, BLOCK_K):
                for e in range(tid, BLOCK_M * BLOCK_K, SIDE * SIDE):
                    if a_along_k:
                        mm, kk = e // BLOCK_K, e % BLOCK_K
                    else:
                        kk, mm = e // BLOCK_M, e % BLOCK_M
                    r, c = row0 + mm, k0 + kk
                    a_slab[kk, mm] = a[pa + r * a_st[1] + c * a_st[2]] if r < m and c < k \
                        else zero
                for e in range(tid, BLOCK_K * BLOCK_N, SIDE * SIDE):
                    if b_along_n:
                        kk, nn = e // BLOCK_N, e % BLOCK_N
                    else:
                        nn, kk = e // BLOCK_K, e % BLOCK_K
                    r, c = k0 + kk, col0 + nn
                    b_slab[kk, nn] = b[pb + r * b_st[1] + c * b_st[2]] if r < k and c < n \
                        else zero
                cuda.syncthreads()
                for kk in range(BLOCK_K):
                    for i in range(THREAD_M):
                        a_frag[i] = a_slab[kk, ty + SIDE * i]
                    for j in range(THREAD_N):
                        b_frag[j] = b_slab[kk, tx + SIDE * j]
                    for i in range(THREAD_M):
                        for j in range(THREAD_N):
                            total[i, j] += a_frag[i] * b_frag[j]
                cuda.syncthreads()
            for i in range(THREAD_M):
                r = row0 + ty + SIDE * i
                for j in range(THREAD_N):
                    c = col0 + tx + SIDE * j
                    if r < m and c < n:
                        out[out_off + p * out_st[0] + r * out_st[1] + c * out_st[2]] = total[i, j]

    return kernel


def _matmul_launch(kernel, tile_m: int, tile_n: int, threads: tuple, a, b, out) -> CudaArray:
    batch, m, k = a.shape
    n = b.shape[2]
    if out.size == 0:
        return out
    tiles = batch * -(-m // tile_m) * -(-n // tile_n)
    _launch(kernel, min(tiles, MAX_BLOCKS), threads, *_args(a), a.strides, *_args(b), b.strides,
            *_args(out), out.strides, batch, m, n, k)
    return out


def matmul(a: CudaArray, b: CudaArray, out: CudaArray) -> CudaArray:
    """out (B, M, N) = a (B, M, K) @ b (B, K, N) by the register-blocked kernel (any strides;
    integers wrap around, bools give logical or-of-ands)."""
    return _matmul_launch(_matmul_kernel(_accumulator(out.dtype).str), BLOCK_M, BLOCK_N,
                          (SIDE, SIDE), a, b, out)


def matmul_tiled(a: CudaArray, b: CudaArray, out: CudaArray) -> CudaArray:
    """The same, by the textbook shared-memory tiled kernel (teaching kernel, benchmark row)."""
    return _matmul_launch(_matmul_tiled_kernel(_accumulator(out.dtype).str), TILE, TILE,
                          (TILE, TILE), a, b, out)


# ----------------------------------------------------------------------------------- indexing
# gather-like kernels read x at "the output position with one coordinate replaced by an index";
# scatter-like kernels write out the same way. The replaced coordinate has stride 0 in the
# strides passed, and its real stride (`dim_stride`) multiplies the index instead.

# Atomic adds exist for these element types only; other types accumulate in one thread.
_ATOMIC_ADD_DTYPES = {np.dtype(t) for t in (np.float32, np.float64, np.int32, np.int64)}


@cuda.jit
def _gather_kernel(x, x_off, x_st, index, i_off, i_st, out, out_off, out_st, shape, n,
                   dim_stride):
    """out[i] = x[i with coordinate dim := index[i]]."""
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        px = _position(e, shape, x_st, x_off) + index[_position(e, shape, i_st, i_off)] * dim_stride
        out[_position(e, shape, out_st, out_off)] = x[px]


@cuda.jit
def _scatter_kernel(out, out_off, out_st, index, i_off, i_st, src, s_off, s_st, shape, n,
                    dim_stride):
    """out[i with coordinate dim := index[i]] = src[i]. With repeated indices one of the
    writes wins, as in PyTorch on a GPU."""
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        p = _position(e, shape, out_st, out_off) + index[_position(e, shape, i_st, i_off)] \
            * dim_stride
        out[p] = src[_position(e, shape, s_st, s_off)]


@cuda.jit
def _scatter_add_kernel(out, out_off, out_st, index, i_off, i_st, src, s_off, s_st, shape, n,
                        dim_stride):
    """out[i with coordinate dim := index[i]] += src[i] by atomic adds: several threads may add
    into one element at the same time, and an atomic add cannot lose any of them."""
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        p = _position(e, shape, out_st, out_off) + index[_position(e, shape, i_st, i_off)] \
            * dim_stride
        cuda.atomic.add(out, p, src[_position(e, shape, s_st, s_off)])


@cuda.jit
def _scatter_serial_kernel(out, out_off, out_st, index, i_off, i_st, src, s_off, s_st, shape, n,
                           dim_stride, mode):
    """The scatter for what has no atomic: "multiply" (mode 2), and "add" (mode 1) on uint8,
    int16 and bool. One thread walks the elements in C order, as the CPU kernel does: slow but
    exact, and these are rare."""
    if cuda.grid(1) == 0:
        for e in range(n):
            p = _position(e, shape, out_st, out_off) + index[_position(e, shape, i_st, i_off)] \
                * dim_stride
            value = src[_position(e, shape, s_st, s_off)]
            if mode == 0:
                out[p] = value
            elif mode == 1:
                out[p] += value
            else:
                out[p] *= value


def _without(strides: tuple, dim: int) -> tuple:
    """(strides with strides[dim] set to 0, strides[dim])."""
    if not strides:
        return (0,), 0
    return strides[:dim] + (0,) + strides[dim + 1:], strides[dim]


def _along(index: CudaArray, ndim: int, dim: int) -> tuple:
    """Strides that show the 1-D `index` as an ndim array varying only along `dim`."""
    strides = [0] * max(ndim, 1)
    strides[dim] = index.strides[0] if index.strides else 0
    return tuple(strides)


def _walk(shape: tuple, *strides: tuple) -> tuple:
    """shape and strides for an index walk: 0-d becomes one element (coordinates matter here,
    so nothing is collapsed)."""
    if not shape:
        return (1,), tuple(tuple(s) or (0,) for s in strides)
    return tuple(shape), tuple(tuple(s) for s in strides)


def _gather(x: CudaArray, x_st, index: CudaArray, i_st, out: CudaArray, shape, dim_stride):
    n = math.prod(shape)
    if n == 0:
        return out
    walk, (x_st, i_st, o_st) = _walk(shape, x_st, i_st, out.strides)
    blocks, threads = _grid(n)
    _launch(_gather_kernel, blocks, threads, *_args(x), x_st, *_args(index), i_st, *_args(out),
            o_st, walk, n, dim_stride)
    return out


def _scatter(out: CudaArray, o_st, index: CudaArray, i_st, src: CudaArray, s_st, shape,
             dim_stride, mode: int) -> CudaArray:
    n = math.prod(shape)
    if n == 0:
        return out
    walk, (o_st, i_st, s_st) = _walk(shape, o_st, i_st, s_st)
    args = (*_args(out), o_st, *_args(index), i_st, *_args(src), s_st, walk, n, dim_stride)
    if mode == 2 or (mode == 1 and out.dtype not in _ATOMIC_ADD_DTYPES):
        _launch(_scatter_serial_kernel, 1, 1, *args, mode)
    else:
        blocks, threads = _grid(n)
        _launch(_scatter_add_kernel if mode == 1 else _scatter_kernel, blocks, threads, *args)
    return out


def gather(x: CudaArray, dim: int, index: CudaArray, out: CudaArray) -> CudaArray:
    """out[i][j][k] = x[index[i][j][k]][j][k] (dim 0; likewise for other dims)."""
    xs, dim_stride = _without(x.strides, dim)
    return _gather(x, xs, index, index.strides, out, out.shape, dim_stride)


_SCATTER_MODES = {None: 0, "add": 1, "multiply": 2}


def scatter(out: CudaArray, dim: int, index: CudaArray, src: CudaArray, reduce=None):
    """out[index[i][j][k]][j][k] = src[i][j][k] (dim 0), or += / *= for reduce "add" /
    "multiply". Reads and writes out."""
    if reduce not in _SCATTER_MODES:
        raise ValueError(f"scatter reduce must be None, 'add' or 'multiply', got {reduce!r}")
    os, dim_stride = _without(out.strides, dim)
    return _scatter(out, os, index, index.strides, src, src.strides, index.shape, dim_stride,
                    _SCATTER_MODES[reduce])


def index_select(x: CudaArray, dim: int, index: CudaArray, out: CudaArray) -> CudaArray:
    """out = the slices of x at the 1-D `index` along `dim`."""
    xs, dim_stride = _without(x.strides, dim)
    return _gather(x, xs, index, _along(index, out.ndim, dim), out, out.shape, dim_stride)


def index_add(out: CudaArray, dim: int, index: CudaArray, src: CudaArray) -> CudaArray:
    """out.index_select(dim, index) += src, repeated indices summing (atomic adds)."""
    os, dim_stride = _without(out.strides, dim)
    return _scatter(out, os, index, _along(index, src.ndim, dim), src, src.strides, src.shape,
                    dim_stride, 1)


def _shaped_like(a: CudaArray, shape: tuple) -> CudaArray:
    return a if a.shape == shape else a.reshape(shape)


def take(buf: CudaArray, offsets: CudaArray, out: CudaArray) -> CudaArray:
    """out[i] = buf[offsets[i]] on a flat buffer (offsets in elements, out's size)."""
    offsets = _shaped_like(offsets, out.shape)
    zeros = (0,) * out.ndim
    return _gather(buf, zeros, offsets, offsets.strides, out, out.shape, buf.strides[0])


def put(buf: CudaArray, offsets: CudaArray, src: CudaArray, accumulate: bool) -> CudaArray:
    """buf[offsets[i]] = src[i], or += (repeats summing) when `accumulate`."""
    src = _shaped_like(src, offsets.shape)
    zeros = (0,) * offsets.ndim
    return _scatter(buf, zeros, offsets, offsets.strides, src, src.strides, offsets.shape,
                    buf.strides[0], 1 if accumulate else 0)


# ------------------------------------------------------------------------------------ nonzero
# The output's size depends on the data, so nonzero works in three steps: each thread counts
# the nonzero elements of its chunk (consecutive elements, in C order); a prefix sum of the
# counts tells each chunk where its rows start and how many rows there are in all (the one
# number read back to the host, to allocate the result); each thread then writes its chunk's
# coordinates from its start row on. Chunks in order, and order within each chunk: C order.

MAX_CHUNKS = 4096


@cuda.jit
def _count_nonzero_kernel(x, x_off, x_st, shape, n, chunk, chunks, counts):
    for c in range(cuda.grid(1), chunks, cuda.gridsize(1)):
        count = 0
        for e in range(c * chunk, min((c + 1) * chunk, n)):
            if x[_position(e, shape, x_st, x_off)] != 0:
                count += 1
        counts[c] = count


@cuda.jit
def _exclusive_scan_kernel(counts, starts, chunks, total):
    """starts[c] = counts[0] + ... + counts[c-1], by one thread (at most MAX_CHUNKS numbers)."""
    if cuda.grid(1) == 0:
        running = 0
        for c in range(chunks):
            starts[c] = running
            running += counts[c]
        total[0] = running


@cuda.jit
def _write_nonzero_kernel(x, x_off, x_st, shape, n, chunk, chunks, starts, result, ndim):
    for c in range(cuda.grid(1), chunks, cuda.gridsize(1)):
        row = starts[c]
        for e in range(c * chunk, min((c + 1) * chunk, n)):
            if x[_position(e, shape, x_st, x_off)] != 0:
                rest = e
                for d in range(ndim - 1, -1, -1):
                    result[row * ndim + d] = rest % shape[d]
                    rest //= shape[d]
                row += 1


def nonzero(x: CudaArray) -> CudaArray:
    """int64 array (n, x.ndim) of the indices of x's nonzero elements (NaN counts), C order."""
    n = x.size
    if n == 0:
        return empty((0, x.ndim), np.int64)
    shape, (x_st,) = _walk(x.shape, x.strides)
    chunks = min(MAX_CHUNKS, -(-n // WARP))
    chunk = -(-n // chunks)
    counts, starts, total = empty((chunks,), np.int64), empty((chunks,), np.int64), \
        empty((1,), np.int64)
    blocks, threads = _grid(chunks)
    _launch(_count_nonzero_kernel, blocks, threads, *_args(x), x_st, shape, n, chunk, chunks,
            counts.buffer)
    _launch(_exclusive_scan_kernel, 1, 1, counts.buffer, starts.buffer, chunks, total.buffer)
    rows = int(to_numpy(total)[0])             # the one transfer: the size of the result
    result = empty((rows, x.ndim), np.int64)
    if rows and x.ndim:
        _launch(_write_nonzero_kernel, blocks, threads, *_args(x), x_st, shape, n, chunk, chunks,
                starts.buffer, result.buffer, x.ndim)
    return result


# --------------------------------------------------------------------------------------- sort
# One block sorts one row, in place in the outputs: values_out and indices_out start as a copy
# of the row and 0..n-1, then a bitonic sorting network runs over the pairs (value, index).
# Comparing the index when values are equal makes the order total, so the result is the stable
# order whatever path the network takes. The network is the variant where every comparator
# puts the smaller key first; a row of n is sorted as if padded to a power of two P with
# +infinite keys, which such comparators never move, so comparisons with a position >= n are
# simply skipped. Each of its log2(P) * (log2(P) + 1) / 2 steps is one pass of the block's
# threads over the P/2 pairs, with a barrier between steps.


@cuda.jit(device=True)
def _before(va, ia, vb, ib, descending):
    """Does key (va, ia) sort before (vb, ib)? NaN is the largest value (last ascending, first
    descending, as in PyTorch); equal values keep their original order."""
    a_nan, b_nan = va != va, vb != vb
    if a_nan or b_nan:
        if a_nan and b_nan:
            return ia < ib
        return b_nan != descending
    if va == vb:
        return ia < ib
    return (va < vb) != descending


@cuda.jit(device=True)
def _compare_swap(values, pv, sv, indices, pi, si, i, j, descending):
    """Put the key that sorts first at position i (i < j) of the row."""
    vi, vj = values[pv + i * sv], values[pv + j * sv]
    ii, ij = indices[pi + i * si], indices[pi + j * si]
    if _before(vj, ij, vi, ii, descending):
        values[pv + i * sv], values[pv + j * sv] = vj, vi
        indices[pi + i * si], indices[pi + j * si] = ij, ii


@cuda.jit
def _sort_kernel(x, x_off, x_kept, values, v_off, v_kept, indices, i_off, i_kept, kept_shape,
                 rows, n, sx, sv, si, padded, descending):
    t, threads = cuda.threadIdx.x, cuda.blockDim.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        px = _position(r, kept_shape, x_kept, x_off)
        pv = _position(r, kept_shape, v_kept, v_off)
        pi = _position(r, kept_shape, i_kept, i_off)
        for j in range(t, n, threads):
            values[pv + j * sv] = x[px + j * sx]
            indices[pi + j * si] = j
        cuda.syncthreads()
        size = 2
        while size <= padded:           # merge sorted runs of size/2 into runs of `size`
            half = size // 2
            for q in range(t, padded // 2, threads):
                # first step: compare position i of a run's first half with its mirror image
                i = q // half * size + q % half
                j = i // size * size + size - 1 - i % size
                if j < n:
                    _compare_swap(values, pv, sv, indices, pi, si, i, j, descending)
            cuda.syncthreads()
            gap = half // 2
            while gap > 0:              # then halve the gap: i against i + gap
                for q in range(t, padded // 2, threads):
                    i = q // gap * 2 * gap + q % gap
                    j = i + gap
                    if j < n:
                        _compare_swap(values, pv, sv, indices, pi, si, i, j, descending)
                cuda.syncthreads()
                gap //= 2
            size *= 2


def sort(x: CudaArray, axis: int, descending: bool, values_out: CudaArray,
         indices_out: CudaArray) -> None:
    """Stable sort of x along `axis` into values_out and indices_out (int64); NaN is the
    largest value (last ascending, first descending), as in PyTorch."""
    if x.size == 0:
        return
    if x.ndim == 0:
        copy(x, values_out)
        fill(indices_out, 0)
        return
    n = x.shape[axis]
    others = tuple(d for d in range(x.ndim) if d != axis)
    kept, (x_kept, v_kept, i_kept) = _walk(tuple(x.shape[d] for d in others),
                                           *(tuple(a.strides[d] for d in others)
                                             for a in (x, values_out, indices_out)))
    rows = x.size // n
    padded = 1
    while padded < n:
        padded *= 2
    threads = _block_for(padded // 2)
    _launch(_sort_kernel, min(rows, MAX_BLOCKS), threads, *_args(x), x_kept, *_args(values_out),
            v_kept, *_args(indices_out), i_kept, kept, rows, n, x.strides[axis],
            values_out.strides[axis], indices_out.strides[axis], padded, bool(descending))


# ------------------------------------------------------------------- ranges and running sums
# arange: a thread per element computes start + i * step (linspace and eye are built from it and
# from fill by the tensor layer). cumsum/cumprod: one thread per row walks its row in order,
# keeping the running value in a register: simple and exact in the CPU's order, and fast when
# there are many rows; a single very long row runs on one thread (a block-wide parallel scan
# would be the next step if that case mattered).

__all__ += ["arange", "cumsum", "cumprod"]


@cuda.jit
def _arange_kernel(out, out_off, out_st, n, start, step):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        out[out_off + i * out_st] = start + i * step


def arange(out: CudaArray, start, step) -> CudaArray:
    """out[i] = start + i * step for the 1-D `out`, computed in float64 (int64 when start, step
    and out are integers) and converted to out's dtype as `copy` converts."""
    dt = _arange_dtype(out, start, step)
    n = out.size
    if n == 0:
        return out
    target = out if out.dtype == dt else empty(out.shape, dt)
    blocks, threads = _grid(n)
    _launch(_arange_kernel, blocks, threads, *_args(target), target.strides[0], n,
            dt.type(start), dt.type(step))
    if target is not out:
        copy(target, out)
    return out


@functools.cache
def _cumulative_kernel(op: str, acc: str):
    """out[..., j] = x[..., 0] (op) ... (op) x[..., j] along the scanned axis, one thread per
    row; the running value is of the accumulator's dtype (float64 for floats, int64 else)."""
    combine = _device_function(REDUCE_MATH[op][1])
    start = np.dtype(acc).type(REDUCE_MATH[op][0])

    @cuda.jit
    def kernel(x, x_off, x_kept, out, o_off, o_kept, kept_shape, rows, n, sx, so):
        for r in range(cuda.grid(1), rows, cuda.gridsize(1)):
            px = _position(r, kept_shape, x_kept, x_off)
            po = _position(r, kept_shape, o_kept, o_off)
            running = start
            for j in range(n):
                running = combine(running, x[px + j * sx])
                out[po + j * so] = running

    return kernel


def _cumulative(op: str, x: CudaArray, axis: int, out: CudaArray) -> CudaArray:
    if x.size == 0:
        return out
    others = tuple(d for d in range(x.ndim) if d != axis)
    kept, (x_kept, o_kept) = _walk(tuple(x.shape[d] for d in others),
                                   *(tuple(a.strides[d] for d in others) for a in (x, out)))
    n = x.shape[axis]
    rows = x.size // n
    blocks, threads = _grid(rows)
    _launch(_cumulative_kernel(op, _accumulator_dtype(op, x.dtype).str), blocks, threads,
            *_args(x), x_kept, *_args(out), o_kept, kept, rows, n, x.strides[axis],
            out.strides[axis])
    return out


def cumsum(x: CudaArray, axis: int, out: CudaArray) -> CudaArray:
    """out = the running sums of x along `axis` (x.ndim >= 1; out has x's shape): floats sum in
    float64, integers and bools in int64, each result converted to out's dtype."""
    return _cumulative("sum", x, axis, out)


def cumprod(x: CudaArray, axis: int, out: CudaArray) -> CudaArray:
    """out = the running products of x along `axis`, accumulated as cumsum's sums are."""
    return _cumulative("prod", x, axis, out)


# ----------------------------------------------------------------------------- random numbers
# The random state stays on the host, in the tensor layer's Generator (a numpy Generator, `rng`
# below, that manual_seed resets). A call takes one 64-bit seed from it — so a seed makes CUDA
# runs repeatable too — and from then on every thread computes its elements' numbers from
# (seed, element number) alone: a counter-based generator. Threads share no state and need no
# set-up, element i gets the same number whatever the grid, and nothing crosses the bus but the
# seed, which travels with the launch as a kernel argument.
#
# The hash is SplitMix64 (Steele, Lea and Flood, 2014; Java's SplittableRandom): the k-th
# output for a seed is mix(seed + (k + 1) * 0x9E3779B97F4A7C15), where mix is two rounds of
# xor-shift and multiply by odd constants, after which every input bit affects every output bit
# ("avalanche"). It passes the BigCrush statistical tests. From its 64 random bits:
#
#     uniform      the top 53 bits as k / 2^53 in [0, 1) (float64), or the top 24 as k / 2^24
#                  (float32): every value exact, never 1; then low + (high - low) * u
#     normal       Box-Muller from two uniforms (counters 2i and 2i+1):
#                  sqrt(-2 log(1 - u1)) * cos(2 pi u2), then mean + std * that
#     exponential  the inverse of the CDF: -log(1 - u) / lambd
#     integers     low + bits % (high - low): the bias of the remainder is at most
#                  (high - low) / 2^64, far below anything a test could see
#     permutation  random keys, sorted: the order of the sort is the permutation
#     multinomial  one thread per row walks the row's running sum of weights until it passes
#                  u times the total (the inverse of the CDF), zeroing a drawn weight when
#                  drawing without replacement
#
# The numbers differ from the CPU's (numpy's generator cannot run on a GPU), but have the same
# distributions. Floats are computed in float32 for float32 arrays (the GPU's fast lane), else in
# float64; arrays of other dtypes get float64 (int64) numbers converted as `copy` converts.

__all__ += ["random_uniform", "random_normal", "random_exponential", "random_integers",
            "random_permutation", "random_multinomial"]

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)    # 2^64 / golden ratio, odd
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_U1, _U11, _U27, _U30, _U31, _U40 = (np.uint64(s) for s in (1, 11, 27, 30, 31, 40))
_2POW_M53, _2POW_M24 = np.float64(2.0 ** -53), np.float32(2.0 ** -24)

if SIMULATOR:
    # In the simulator these are NumPy uint64 scalars, whose overflow NumPy reports with a
    # warning: do the same modulo-2^64 arithmetic with Python's unbounded integers instead.
    _MASK64 = (1 << 64) - 1

    def _wrapping_add(a, b):
        return np.uint64((int(a) + int(b)) & _MASK64)

    def _wrapping_mul(a, b):
        return np.uint64((int(a) * int(b)) & _MASK64)
else:
    @cuda.jit(device=True)
    def _wrapping_add(a, b):
        """a + b modulo 2^64: what uint64 addition does on the GPU."""
        return a + b

    @cuda.jit(device=True)
    def _wrapping_mul(a, b):
        """a * b modulo 2^64: what uint64 multiplication does on the GPU."""
        return a * b


@cuda.jit(device=True)
def _splitmix64(seed, counter):
    """64 random bits (uint64) for element `counter` (uint64) of the stream `seed`."""
    z = _wrapping_add(seed, _wrapping_mul(counter + _U1, _GOLDEN_GAMMA))
    z = _wrapping_mul(z ^ (z >> _U30), _MIX1)
    z = _wrapping_mul(z ^ (z >> _U27), _MIX2)
    return z ^ (z >> _U31)


@cuda.jit(device=True)
def _uniform_float64(seed, counter):
    """A float64 in [0, 1): the top 53 random bits k as k / 2^53."""
    return np.float64(_splitmix64(seed, counter) >> _U11) * _2POW_M53


@cuda.jit(device=True)
def _uniform_float32(seed, counter):
    """A float32 in [0, 1): the top 24 random bits k as k / 2^24."""
    return np.float32(_splitmix64(seed, counter) >> _U40) * _2POW_M24


def _samplers(uniform, one, two, two_pi) -> dict:
    """Each distribution as f(seed, i, a, b) -> the number of element i (a uint64), written
    with the uniform generator and the constants of one precision."""

    def uniform_between(seed, i, low, high):
        """low + (high - low) * u. Rounding can carry that to `high` itself when u is just below
        1 (float32 uniform_(1, 2) with u = 1 - 2^-24 gives 2.0): then it is `low` instead (as
        PyTorch's CUDA kernel turns u = 1 into 0), so that the interval stays half-open."""
        value = low + (high - low) * uniform(seed, i)
        return value if value < high else low

    def normal(seed, i, mean, std):
        """Box-Muller: two uniforms, from counters 2i and 2i + 1, give one standard normal."""
        radius = _sqrt(-two * _log(one - uniform(seed, i + i)))    # 1 - u is in (0, 1]
        angle = two_pi * uniform(seed, i + i + _U1)
        return mean + std * radius * _cos(angle)

    def exponential(seed, i, lambd, unused):
        return -_log(one - uniform(seed, i)) / lambd

    return {"uniform": uniform_between, "normal": normal, "exponential": exponential}


def _integers(seed, i, low, span):
    """low + (64 random bits) mod span, as an int64 (span <= 2^63, so the remainder fits)."""
    return low + np.int64(_splitmix64(seed, i) % span)


SAMPLERS = {
    "float64": _samplers(_uniform_float64, np.float64(1.0), np.float64(2.0),
                         np.float64(2.0 * math.pi)),
    "float32": _samplers(_uniform_float32, _ONE, _TWO, np.float32(2.0 * math.pi)),
    "int64": {"integers": _integers},
}


@functools.cache
def _random_kernel(distribution: str, precision: str):
    """out[element i] = the distribution's number for (seed, i), i counting in C order."""
    sample = _device_function(SAMPLERS[precision][distribution])

    @cuda.jit
    def kernel(out, out_off, out_st, shape, n, seed, a, b):
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            out[_position(i, shape, out_st, out_off)] = sample(seed, np.uint64(i), a, b)

    return kernel


def _seed(rng: np.random.Generator) -> np.uint64:
    """A fresh 64-bit seed from the host generator: the one draw a CUDA random call makes."""
    return np.uint64(rng.integers(0, 2 ** 64, dtype=np.uint64))


def _random(distribution: str, precision: np.dtype, out: CudaArray, rng, a, b) -> CudaArray:
    """Fill out with `distribution`'s numbers computed in `precision`; an out of another dtype
    gets them through a temporary, converted as `copy` converts."""
    n = out.size
    if n == 0:
        return out
    target = out if out.dtype == precision else empty(out.shape, precision)
    shape, (strides,) = _walk(target.shape, target.strides)
    blocks, threads = _grid(n)
    _launch(_random_kernel(distribution, precision.name), blocks, threads, *_args(target),
            strides, shape, n, _seed(rng), a, b)
    if target is not out:
        copy(target, out)
    return out


def _float_precision(out: CudaArray) -> np.dtype:
    return np.dtype(np.float32 if out.dtype == np.float32 else np.float64)


def random_uniform(out: CudaArray, rng: np.random.Generator, low, high) -> CudaArray:
    """out = numbers uniform in [low, high)."""
    t = _float_precision(out).type
    return _random("uniform", _float_precision(out), out, rng, t(low), t(high))


def random_normal(out: CudaArray, rng: np.random.Generator, mean, std) -> CudaArray:
    """out = normal numbers with mean `mean` and standard deviation `std`."""
    t = _float_precision(out).type
    return _random("normal", _float_precision(out), out, rng, t(mean), t(std))


def random_exponential(out: CudaArray, rng: np.random.Generator, lambd) -> CudaArray:
    """out = exponential numbers with rate `lambd` (mean 1 / lambd)."""
    t = _float_precision(out).type
    return _random("exponential", _float_precision(out), out, rng, t(lambd), t(0))


def random_integers(out: CudaArray, rng: np.random.Generator, low, high) -> CudaArray:
    """out = integers uniform in [low, high) (low < high <= 2^63, high - low <= 2^63)."""
    low, high = int(low), int(high)
    if not (low < high <= 2 ** 63 and high - low <= 2 ** 63):
        raise ValueError(f"random_integers: the range [{low}, {high}) must be non-empty, end at "
                         f"most at 2^63 and span at most 2^63 on CUDA")
    return _random("integers", np.dtype(np.int64), out, rng, np.int64(low),
                   np.uint64(high - low))


def random_permutation(out: CudaArray, rng: np.random.Generator) -> CudaArray:
    """The 1-D `out` = a random permutation of 0 .. len(out) - 1: random keys in [0, 2^62),
    sorted; their order is the permutation (ties, at odds of about n^2 / 2^63, keep index
    order: still a permutation)."""
    n = out.shape[0]
    keys = random_integers(empty((n,), np.int64), rng, 0, 2 ** 62)
    order = out if out.dtype == np.int64 else empty((n,), np.int64)
    sort(keys, 0, False, empty((n,), np.int64), order)
    if order is not out:
        copy(order, out)
    return out


@cuda.jit
def _multinomial_kernel(weights, rows, n, out, out_off, k, seed, replacement):
    """Row r of out gets k categories of row r of weights (rows x n, float64, contiguous): for
    each draw, u uniform in [0, total weight), then the first category whose running sum of
    weights exceeds u. Rounding can leave u at or past the last running sum: then the last
    category with weight is taken. Without replacement a drawn category's weight becomes -1
    (drawn); once no weight is left, u picks uniformly among the zero-weight categories not
    drawn yet (PyTorch draws those last, in random order too)."""
    for r in range(cuda.grid(1), rows, cuda.gridsize(1)):
        row = r * n
        for s in range(k):
            total = _ZERO64
            zeros_left = 0
            for j in range(n):
                w = weights[row + j]
                if w > 0:
                    total += w
                elif w == 0:
                    zeros_left += 1
            u = _uniform_float64(seed, np.uint64(r * k + s))
            chosen = -1
            if total > 0:
                running = _ZERO64
                for j in range(n):
                    w = weights[row + j]
                    if w > 0:
                        chosen = j
                        running += w
                        if u * total < running:
                            break
            else:                                  # only zero weights left (no replacement)
                m = min(int(u * zeros_left), zeros_left - 1)
                for j in range(n):
                    if weights[row + j] == 0:
                        chosen = j
                        if m == 0:
                            break
                        m -= 1
            out[out_off + r * k + s] = chosen
            if not replacement:
                weights[row + chosen] = -1.0


def random_multinomial(out: CudaArray, rng: np.random.Generator, probs: CudaArray,
                       replacement: bool) -> CudaArray:
    """out (R, k) int64: row r holds k categories drawn with probabilities proportional to the
    weights probs[r] (R, n) float64, which the caller checked (finite, non-negative, a positive
    sum; without replacement k <= n). Without replacement no category is drawn twice, and
    zero-weight categories are drawn, in random order, only once all others have been."""
    rows, n = probs.shape
    k = out.shape[1]
    if rows == 0 or k == 0:
        return out
    weights = empty((rows, n), np.float64)       # a private copy: drawing marks weights
    copy(probs, weights)
    target = out if out.is_c_contiguous() else empty(out.shape, np.int64)
    blocks, threads = _grid(rows)
    _launch(_multinomial_kernel, blocks, threads, weights.buffer, rows, n, *_args(target), k,
            _seed(rng), bool(replacement))
    if target is not out:
        copy(target, out)
    return out


# ------------------------------------------------------------------- fused optimizer updates
# One pass over a parameter, its gradient and its state per step (optim/__init__.py calls these
# with contiguous 1-D arrays; the rules are in the optimizers' docstrings). Hyperparameters are
# converted to the parameter's dtype first, so float32 parameters are updated in float32.


def _flat_args(*arrays: CudaArray) -> list:
    return [arg for a in arrays for arg in _args(a)]


@cuda.jit
def _sgd_kernel(p, p_off, g, g_off, buf, b_off, n, lr, momentum, dampening, weight_decay,
                nesterov, maximize, first):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = -g[g_off + i] if maximize else g[g_off + i]
        if weight_decay != 0:
            d += weight_decay * p[p_off + i]
        if momentum != 0:
            b = d if first else momentum * buf[b_off + i] + (_ONE - dampening) * d
            buf[b_off + i] = b
            d = d + momentum * b if nesterov else b
        p[p_off + i] -= lr * d


def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
             maximize, first_step) -> None:
    """SGD with momentum: b = momentum b + (1 - dampening) g (b = g on the first step);
    p -= lr (g + momentum b if nesterov else b)."""
    t = param.dtype.type
    blocks, threads = _grid(param.size)
    _launch(_sgd_kernel, blocks, threads, *_flat_args(param, grad, momentum_buffer), param.size,
            t(lr), t(momentum), t(dampening), t(weight_decay), bool(nesterov), bool(maximize),
            bool(first_step))


@cuda.jit
def _adam_kernel(p, p_off, g, g_off, m, m_off, v, v_off, vmax, x_off, n, lr, beta1, beta2, eps,
                 weight_decay, step_size, bias_correction2_sqrt, amsgrad, maximize, decoupled):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = -g[g_off + i] if maximize else g[g_off + i]
        w = p[p_off + i]
        if weight_decay != 0:
            if decoupled:
                w *= _ONE - lr * weight_decay
            else:
                d += weight_decay * w
        mi = m[m_off + i] + (_ONE - beta1) * (d - m[m_off + i])     # lerp toward d
        vi = beta2 * v[v_off + i] + (_ONE - beta2) * d * d
        m[m_off + i], v[v_off + i] = mi, vi
        if amsgrad:
            vi = max(vi, vmax[x_off + i])
            vmax[x_off + i] = vi
        p[p_off + i] = w - step_size * mi / (_sqrt(vi) / bias_correction2_sqrt + eps)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, amsgrad, maximize, decoupled_weight_decay) -> None:
    """Adam / AdamW: m = lerp(m, g, 1 - b1), v = b2 v + (1 - b2) g^2,
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)."""
    t = param.dtype.type
    step_size = lr / (1 - beta1 ** step)
    bc2_sqrt = math.sqrt(1 - beta2 ** step)
    blocks, threads = _grid(param.size)
    _launch(_adam_kernel, blocks, threads,
            *_flat_args(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq), param.size, t(lr),
            t(beta1),
            t(beta2), t(eps), t(weight_decay), t(step_size), t(bc2_sqrt), bool(amsgrad),
            bool(maximize), bool(decoupled_weight_decay))


@cuda.jit
def _rmsprop_kernel(p, p_off, g, g_off, sq, sq_off, ga, ga_off, buf, b_off, n, lr, alpha, eps,
                    weight_decay, momentum, centered, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = -g[g_off + i] if maximize else g[g_off + i]
        if weight_decay != 0:
            d += weight_decay * p[p_off + i]
        s = alpha * sq[sq_off + i] + (_ONE - alpha) * d * d
        sq[sq_off + i] = s
        if centered:
            mean = ga[ga_off + i] + (_ONE - alpha) * (d - ga[ga_off + i])
            ga[ga_off + i] = mean
            avg = _sqrt(s - mean * mean) + eps
        else:
            avg = _sqrt(s) + eps
        if momentum > 0:
            b = momentum * buf[b_off + i] + d / avg
            buf[b_off + i] = b
            p[p_off + i] -= lr * b
        else:
            p[p_off + i] -= lr * d / avg


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, centered, maximize) -> None:
    """RMSprop: s = a s + (1 - a) g^2; p -= lr g / (sqrt(s [- mean(g)^2]) + eps), with momentum
    optionally."""
    t = param.dtype.type
    blocks, threads = _grid(param.size)
    _launch(_rmsprop_kernel, blocks, threads,
            *_flat_args(param, grad, square_avg, grad_avg, momentum_buffer),
            param.size, t(lr), t(alpha), t(eps), t(weight_decay), t(momentum), bool(centered),
            bool(maximize))


@cuda.jit
def _adagrad_kernel(p, p_off, g, g_off, s, s_off, n, clr, eps, weight_decay, maximize):
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        d = -g[g_off + i] if maximize else g[g_off + i]
        if weight_decay != 0:
            d += weight_decay * p[p_off + i]
        total = s[s_off + i] + d * d
        s[s_off + i] = total
        p[p_off + i] -= clr * d / (_sqrt(total) + eps)


def adagrad_step(param, grad, state_sum, lr, lr_decay, eps, weight_decay, step, maximize) -> None:
    """Adagrad: S += g^2; p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(S) + eps)."""
    t = param.dtype.type
    clr = lr / (1 + (step - 1) * lr_decay)
    blocks, threads = _grid(param.size)
    _launch(_adagrad_kernel, blocks, threads, *_flat_args(param, grad, state_sum), param.size,
            t(clr),
            t(eps), t(weight_decay), bool(maximize))


# ----------------------------------------------------------------- convolution and pooling
# For nn.Conv1d/Conv2d and the pooling layers (docs/primitives.md, "Convolution and pooling").
# The arguments are checked as on the CPU (the same checks: they read only shapes, dtypes and
# the window tables). Every kernel gives one output element to each thread:
#
#     im2col     a thread per entry of cols: the input value its receptive field sees, or 0;
#     col2im     a thread per input element, summing the cols entries that im2col copied from
#                it (a gather: no two threads write one element, so no atomics and the sums
#                come out in a fixed order, the CPU's);
#     pooling    a thread per output element, looping over its window; the backward passes
#                scatter into the input with atomic adds, as windows may overlap.
#
# The pooling windows arrive as small int64 tables computed on the host for each geometry;
# they are copied to the device once per distinct table and kept (a training loop reuses its
# few geometries), not copied again at every call.

__all__ += ["im2col", "col2im", "max_pool2d", "max_pool2d_backward", "avg_pool2d",
            "avg_pool2d_backward"]


@cuda.jit
def _im2col_kernel(x, x_off, x_st, cols, c_off, c_st, channels, height, width, kh, kw, out_h,
                   out_w, sh, sw, pt, pl, dh, dw, n):
    """cols[img, (c*kh + i)*kw + j, oh*OW + ow] = x[img, c, oh*sh - pt + i*dh, ow*sw - pl + j*dw]
    (0 in the padding), one thread per entry; neighbouring threads take neighbouring ow."""
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        ow = e % out_w
        rest = e // out_w
        oh = rest % out_h
        rest //= out_h
        j = rest % kw
        rest //= kw
        i = rest % kh
        rest //= kh
        c = rest % channels
        img = rest // channels
        h = oh * sh - pt + i * dh
        w = ow * sw - pl + j * dw
        value = _ZERO
        if 0 <= h < height and 0 <= w < width:
            value = x[x_off + img * x_st[0] + c * x_st[1] + h * x_st[2] + w * x_st[3]]
        row = (c * kh + i) * kw + j
        cols[c_off + img * c_st[0] + row * c_st[1] + (oh * out_w + ow) * c_st[2]] = value


@cuda.jit
def _col2im_kernel(cols, c_off, c_st, out, o_off, o_st, channels, height, width, kh, kw, out_h,
                   out_w, sh, sw, pt, pl, dh, dw, n):
    """out[img, c, h, w] = the sum of the cols entries im2col copied from (h, w): for each
    kernel tap (i, j), the output pixel whose window put that tap on (h, w), if there is one:
    oh = (h + pt - i*dh) / sh when that divides exactly and lands in [0, OH)."""
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        w = e % width
        rest = e // width
        h = rest % height
        rest //= height
        c = rest % channels
        img = rest // channels
        total = _ZERO
        for i in range(kh):
            top = h + pt - i * dh
            if top < 0 or top % sh != 0 or top // sh >= out_h:
                continue
            oh = top // sh
            for j in range(kw):
                left = w + pl - j * dw
                if left < 0 or left % sw != 0 or left // sw >= out_w:
                    continue
                ow = left // sw
                row = (c * kh + i) * kw + j
                total += cols[c_off + img * c_st[0] + row * c_st[1] + (oh * out_w + ow) * c_st[2]]
        out[o_off + img * o_st[0] + c * o_st[1] + h * o_st[2] + w * o_st[3]] = total


def im2col(x: CudaArray, kernel_size, stride, padding, dilation, cols: CudaArray,
           out_size=None) -> CudaArray:
    """cols (N, C*kh*kw, OH*OW) = the receptive fields of x (N, C, H, W) as columns, 0 where a
    field reaches into the padding; `padding` is (top, left), `out_size` (OH, OW)."""
    (n_img, channels, kh, kw, out_h, out_w), (sh, sw, pt, pl, dh, dw) = _im2col_shape(
        x.shape, cols.shape, kernel_size, stride, padding, dilation, out_size)
    _check_floats("im2col", x, cols)
    n = cols.size
    if n:
        blocks, threads = _grid(n)
        _launch(_im2col_kernel, blocks, threads, *_args(x), x.strides, *_args(cols), cols.strides,
                channels, x.shape[2], x.shape[3], kh, kw, out_h, out_w, sh, sw, pt, pl, dh, dw, n)
    return cols


def col2im(cols: CudaArray, kernel_size, stride, padding, dilation, out: CudaArray,
           out_size=None) -> CudaArray:
    """out (N, C, H, W) = the adjoint of im2col: every entry of cols added back onto the input
    position im2col copied it from (the input gradient of a convolution)."""
    (n_img, channels, kh, kw, out_h, out_w), (sh, sw, pt, pl, dh, dw) = _im2col_shape(
        out.shape, cols.shape, kernel_size, stride, padding, dilation, out_size)
    _check_floats("col2im", cols, out)
    n = out.size
    if n and cols.size == 0:
        return fill(out, 0)
    if n:
        blocks, threads = _grid(n)
        _launch(_col2im_kernel, blocks, threads, *_args(cols), cols.strides, *_args(out),
                out.strides, channels, out.shape[2], out.shape[3], kh, kw, out_h, out_w, sh, sw,
                pt, pl, dh, dw, n)
    return out


_TABLES: dict = {}


def _device_table(table: np.ndarray):
    """The device copy of a small host table (pooling windows), made once per content."""
    key = (table.shape, table.tobytes())
    device = _TABLES.get(key)
    if device is None:
        if len(_TABLES) > 256:            # bound the memory a long-running program can use
            _TABLES.clear()
        device = _TABLES[key] = cuda.to_device(np.ascontiguousarray(table).reshape(-1))
    return device


@cuda.jit
def _max_pool_kernel(x, x_off, x_st, rows, cols, row_entries, dh, dw, out, o_off, o_st,
                     indices, i_off, i_st, channels, out_h, out_w, width, n):
    """out = the largest x over window (oh, ow) — rows range(rows[oh, 0], rows[oh, 1], dh),
    columns range(cols[ow, 0], cols[ow, 1], dw) — and indices = h*W + w of it. The first
    maximum wins a tie, a NaN beats every number (the last NaN wins), as PyTorch."""
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        ow = e % out_w
        rest = e // out_w
        oh = rest % out_h
        rest //= out_h
        c = rest % channels
        img = rest // channels
        h0, h1 = rows[oh * row_entries], rows[oh * row_entries + 1]
        w0, w1 = cols[ow * row_entries], cols[ow * row_entries + 1]
        base = x_off + img * x_st[0] + c * x_st[1]
        best = -_INF
        best_index = h0 * width + w0
        for h in range(h0, h1, dh):
            for w in range(w0, w1, dw):
                v = x[base + h * x_st[2] + w * x_st[3]]
                if v > best or v != v:
                    best, best_index = v, h * width + w
        out[o_off + img * o_st[0] + c * o_st[1] + oh * o_st[2] + ow * o_st[3]] = best
        indices[i_off + img * i_st[0] + c * i_st[1] + oh * i_st[2] + ow * i_st[3]] = best_index


@cuda.jit
def _max_pool_backward_kernel(grad, g_off, g_st, indices, i_off, i_st, rows, cols, out, o_off,
                              o_st, channels, out_h, out_w, height, width, n):
    """out[img, c, idx // W, idx % W] += grad[img, c, oh, ow], idx = indices[img, c, oh, ow]:
    by atomic adds, since overlapping windows can share their maximum. A window with no
    position inside x (first >= stop) passes nothing, nor does an index outside the plane."""
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        ow = e % out_w
        rest = e // out_w
        oh = rest % out_h
        rest //= out_h
        c = rest % channels
        img = rest // channels
        if rows[2 * oh] >= rows[2 * oh + 1] or cols[2 * ow] >= cols[2 * ow + 1]:
            continue
        index = indices[i_off + img * i_st[0] + c * i_st[1] + oh * i_st[2] + ow * i_st[3]]
        if 0 <= index < height * width:
            cuda.atomic.add(out, o_off + img * o_st[0] + c * o_st[1] + index // width * o_st[2]
                            + index % width * o_st[3],
                            grad[g_off + img * g_st[0] + c * g_st[1] + oh * g_st[2]
                                 + ow * g_st[3]])


@cuda.jit
def _avg_pool_kernel(x, x_off, x_st, rows, cols, out, o_off, o_st, channels, out_h, out_w, n):
    """out = (sum of x over rows [rows[oh, 0], rows[oh, 1]) x columns [cols[ow, 0],
    cols[ow, 1])) / (rows[oh, 2] * cols[ow, 2]), the sum in float64."""
    for e in range(cuda.grid(1), n, cuda.gridsize(1)):
        ow = e % out_w
        rest = e // out_w
        oh = rest % out_h
        rest //= out_h
        c = rest % channels
        img = rest // channels
        base = x_off + img * x_st[0] + c * x_st[1]
        total = _ZERO64
        for h in range(rows[3 * oh], rows[3 * oh + 1]):
            for w in range(cols[3 * ow], cols[3 * ow + 1]):
                total += x[base + h * x_st[2] + w * x_st[3]]
        out[o_off + img * o_st[0] + c * o_st[1] + oh * o_st[2] + ow * o_st[3]] = \
            total / (rows[3 * oh + 2] * cols[3 * ow + 2])


@functools.cache
def _avg_pool_backward_kernel(dtype: str):
    """Each output's gradient / its divisor, added (atomically: windows may overlap) to every
    position of its window. Built per dtype: the share is converted to out's type, the one
    type an atomic add accepts."""
    to_out_type = np.dtype(dtype).type

    @cuda.jit
    def kernel(grad, g_off, g_st, rows, cols, out, o_off, o_st, channels, out_h, out_w, n):
        for e in range(cuda.grid(1), n, cuda.gridsize(1)):
            ow = e % out_w
            rest = e // out_w
            oh = rest % out_h
            rest //= out_h
            c = rest % channels
            img = rest // channels
            share = to_out_type(grad[g_off + img * g_st[0] + c * g_st[1] + oh * g_st[2]
                                     + ow * g_st[3]] / (rows[3 * oh + 2] * cols[3 * ow + 2]))
            base = o_off + img * o_st[0] + c * o_st[1]
            for h in range(rows[3 * oh], rows[3 * oh + 1]):
                for w in range(cols[3 * ow], cols[3 * ow + 1]):
                    cuda.atomic.add(out, base + h * o_st[2] + w * o_st[3], share)

    return kernel


def _pool_launch(kernel, n: int, *args) -> None:
    if n:
        blocks, threads = _grid(n)
        _launch(kernel, blocks, threads, *args, n)


def max_pool2d(x: CudaArray, rows: np.ndarray, cols: np.ndarray, dilation, out: CudaArray,
               indices: CudaArray) -> CudaArray:
    """out (N, C, OH, OW) = the maximum of x (N, C, H, W) over each window; indices (int64) =
    its position h*W + w. Windows are int64 host tables rows (OH, 2) and cols (OW, 2): window
    (oh, ow) reads rows range(rows[oh, 0], rows[oh, 1], dh), columns likewise with dw."""
    _check_windows("max_pool2d", x.shape, out.shape, rows, cols, 2)
    _check_floats("max_pool2d", x, out)
    dh, dw = (int(d) for d in dilation)
    if min(dh, dw) < 1 or indices.shape != out.shape or indices.dtype != np.int64:
        raise ValueError("max_pool2d: dilation must be positive and indices int64 shaped like "
                         "out")
    n_img, channels, out_h, out_w = out.shape
    _pool_launch(_max_pool_kernel, out.size, *_args(x), x.strides, _device_table(rows),
                 _device_table(cols), 2, dh, dw, *_args(out), out.strides, *_args(indices),
                 indices.strides, channels, out_h, out_w, x.shape[3])
    return out


def max_pool2d_backward(grad: CudaArray, indices: CudaArray, rows: np.ndarray, cols: np.ndarray,
                        out: CudaArray) -> CudaArray:
    """out (N, C, H, W) = 0, then grad (N, C, OH, OW) added at the positions `indices` point
    at (the input gradient of max_pool2d with the same tables)."""
    _check_windows("max_pool2d_backward", out.shape, grad.shape, rows, cols, 2)
    _check_floats("max_pool2d_backward", grad, out)
    if indices.shape != grad.shape or indices.dtype != np.int64:
        raise ValueError(f"max_pool2d_backward: indices must be int64 of grad's shape "
                         f"{grad.shape}, got {indices.dtype} {indices.shape}")
    fill(out, 0)
    n_img, channels, out_h, out_w = grad.shape
    _pool_launch(_max_pool_backward_kernel, grad.size, *_args(grad), grad.strides,
                 *_args(indices), indices.strides, _device_table(rows), _device_table(cols),
                 *_args(out), out.strides, channels, out_h, out_w, out.shape[2], out.shape[3])
    return out


def avg_pool2d(x: CudaArray, rows: np.ndarray, cols: np.ndarray, out: CudaArray) -> CudaArray:
    """out (N, C, OH, OW) = the mean of x over each window: the sum over rows [rows[oh, 0],
    rows[oh, 1]) and columns [cols[ow, 0], cols[ow, 1]) divided by rows[oh, 2] * cols[ow, 2]
    (int64 host tables (OH, 3) and (OW, 3))."""
    _check_windows("avg_pool2d", x.shape, out.shape, rows, cols, 3)
    _check_floats("avg_pool2d", x, out)
    n_img, channels, out_h, out_w = out.shape
    _pool_launch(_avg_pool_kernel, out.size, *_args(x), x.strides, _device_table(rows),
                 _device_table(cols), *_args(out), out.strides, channels, out_h, out_w)
    return out


def avg_pool2d_backward(grad: CudaArray, rows: np.ndarray, cols: np.ndarray,
                        out: CudaArray) -> CudaArray:
    """out (N, C, H, W) = the input gradient of avg_pool2d with the same tables: each output's
    gradient / its divisor, added to every position of its window."""
    _check_windows("avg_pool2d_backward", out.shape, grad.shape, rows, cols, 3)
    _check_floats("avg_pool2d_backward", grad, out)
    fill(out, 0)
    n_img, channels, out_h, out_w = grad.shape
    _pool_launch(_avg_pool_backward_kernel(out.dtype.str), grad.size, *_args(grad), grad.strides,
                 _device_table(rows), _device_table(cols), *_args(out), out.strides, channels,
                 out_h, out_w)
    return out
