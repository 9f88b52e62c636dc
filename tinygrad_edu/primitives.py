"""The primitive interface: what every device implements, in one place (docs/primitives.md).

Every operation on a tensor ends in a few calls of *primitives*: `binary("add", a, b, out)`,
`reduce("sum", x, axes, out)`, ... Each device implements all of them in a kernels module:
`kernels_cpu.py` (Numba loops) and `kernels_cuda.py` (numba.cuda kernels); `vector.kernels(dev)`
returns the module of a device, and a new device is a new kernels module.

This module is the specification. It names each primitive, with

    the signature      the exact parameters both kernels modules use (tests/test_primitives.py
                       compares them with inspect.signature, and this module's list with the
                       tables of docs/primitives.md);
    the contract       its docstring: what the primitive computes, what the caller guarantees;
    the checks         its body: the argument checks that need no device (op names known,
                       shapes agreeing, axes sorted and unique, ...), raising ValueError with a
                       message that names the primitive and the problem.

Calling `primitives.binary(op, a, b, out)` runs those checks and computes nothing. The kernels
do not call them on every call: a training step makes thousands of tiny calls, and the tensor
layer has checked everything before it calls a primitive (compiled code does not check bounds,
so a primitive may assume its preconditions hold). A kernel checks only where a check costs
nothing on the fast path (an unknown op name is found when its kernels are first looked up).
The checks run where they are wanted: `checked(kernels)` is the kernels module with every
primitive checking its arguments first, for tests and for debugging a new device or a new op.

So to read `binary(op, a, b, out)`: its contract is `primitives.binary`; the CPU's loop is
`kernels_cpu.binary` -> `_binary_kernels(op)`, the GPU's `kernels_cuda.binary` ->
`_binary_kernels(op, kind)`; what one element is, `elementwise_math.BINARY_MATH[op]`.

An *array* is the device's array type: a numpy.ndarray on the CPU, a kernels_cuda.CudaArray on
CUDA. The checks use only what both have: `shape`, `ndim`, `size`, `dtype`.
"""
from __future__ import annotations

import types as _pytypes

import numpy as np

# ---------------------------------------------------------------------------- the op names
# The names `unary`, `binary`, `reduce` and `argreduce` accept (docs/primitives.md). The math of
# each is elementwise_math.py; tests/test_primitives.py checks that the tables there and these
# lists name the same ops.

UNARY_OPS = (
    "neg", "abs", "sign", "exp", "log", "log2", "log1p", "expm1", "sqrt", "rsqrt", "square",
    "reciprocal", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "gelu", "erf", "floor", "ceil",
    "round", "trunc", "logical_not", "bitwise_not", "isnan", "isinf",
)
BINARY_OPS = (
    "add", "sub", "mul", "div", "floor_divide", "remainder", "pow", "maximum", "minimum",
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
    "bitwise_and", "bitwise_or", "bitwise_xor", "atan2",
    "relu_backward", "tanh_backward", "sigmoid_backward", "gelu_backward",
)
REDUCE_OPS = ("sum", "prod", "max", "min", "any", "all")
ARGREDUCE_OPS = ("argmax", "argmin")
SCATTER_REDUCTIONS = (None, "add", "multiply")

# Primitives a device may leave out (none at present; docs/primitives.md would say why).
OPTIONAL = ()


# ------------------------------------------------------------------------------- the checks


def unknown_op(kind: str, op, names) -> ValueError:
    """The error for an op name that is not one of `names` (kind: "unary", "binary", ...)."""
    return ValueError(f"unknown {kind} op {op!r}; expected one of: {', '.join(names)}")


def check_op(kind: str, op, names) -> None:
    if op not in names:
        raise unknown_op(kind, op, names)


def check_same_shape(out, *inputs) -> None:
    """Elementwise primitives take arrays of one shape (the caller broadcasts)."""
    for a in inputs:
        if tuple(a.shape) != tuple(out.shape):
            raise ValueError(f"elementwise primitives need equal shapes (broadcast with stride-0 "
                             f"views first), got {tuple(a.shape)} and out {tuple(out.shape)}")


def _check_axis(name: str, axis, ndim: int) -> None:
    if not isinstance(axis, (int, np.integer)) or not 0 <= axis < ndim:
        raise ValueError(f"{name}: axis {axis!r} is not one of 0 .. {ndim - 1} "
                         f"(the caller normalises negative axes)")


def _check_shape(name: str, what: str, shape, expected) -> None:
    if tuple(shape) != tuple(expected):
        raise ValueError(f"{name}: {what} has shape {tuple(shape)}, expected {tuple(expected)}")


def _check_dtype(name: str, what: str, a, dtype) -> None:
    if np.dtype(a.dtype) != np.dtype(dtype):
        raise ValueError(f"{name}: {what} must be {np.dtype(dtype)}, got {a.dtype}")


def _with(shape, dim: int, n: int) -> tuple:
    return tuple(n if d == dim else s for d, s in enumerate(shape))


def accumulator_dtype(op: str, dtype: np.dtype) -> np.dtype:
    """The dtype `reduce` accumulates in: sums and products of floats run in float64, of
    integers and bools in int64; max and min in the data's dtype; any and all in bool."""
    if op in ("sum", "prod"):
        return np.dtype(np.float64 if dtype.kind == "f" else np.int64)
    return np.dtype(np.bool_) if op in ("any", "all") else dtype


def arange_dtype(out, start, step) -> np.dtype:
    """arange computes in float64 for a float array or a float start or step, else in int64
    (as `start + numpy.arange(n) * step` does for those types)."""
    exact = isinstance(start, (int, np.integer)) and isinstance(step, (int, np.integer))
    return np.dtype(np.int64 if exact and out.dtype.kind != "f" else np.float64)


def check_floats(name: str, *arrays) -> None:
    """One float dtype for all (float32 or float64): the conv and pool kernels are compiled
    for no other."""
    dtypes = {np.dtype(a.dtype) for a in arrays}
    if len(dtypes) != 1 or dtypes.pop() not in (np.float32, np.float64):
        raise ValueError(f"{name}: expected float32 or float64 arrays of one dtype, got "
                         f"{', '.join(str(a.dtype) for a in arrays)}")


def im2col_geometry(x_shape, cols_shape, kernel_size, stride, padding, dilation, out_size):
    """The 6-D view (N, C, kh, kw, OH, OW) of cols and the kernels' integer parameters
    (sh, sw, pt, pl, dh, dw), after checking that they agree with x's shape."""
    if len(x_shape) != 4:
        raise ValueError(f"im2col/col2im: expected a 4-D (N, C, H, W) array, got shape "
                         f"{tuple(x_shape)}")
    n, c, height, width = x_shape
    kh, kw = (int(k) for k in kernel_size)
    sh, sw = (int(s) for s in stride)
    pt, pl = (int(p) for p in padding)
    dh, dw = (int(d) for d in dilation)
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(pt, pl) < 0:
        raise ValueError(f"im2col/col2im: invalid kernel_size={tuple(kernel_size)}, "
                         f"stride={tuple(stride)}, padding={tuple(padding)} or "
                         f"dilation={tuple(dilation)}")
    if out_size is None:  # symmetric padding
        out_size = ((height + 2 * pt - dh * (kh - 1) - 1) // sh + 1,
                    (width + 2 * pl - dw * (kw - 1) - 1) // sw + 1)
    out_h, out_w = (int(o) for o in out_size)
    if tuple(cols_shape) != (n, c * kh * kw, out_h * out_w) or min(out_h, out_w) < 0:
        raise ValueError(f"im2col/col2im: cols of shape {tuple(cols_shape)} does not fit an "
                         f"input of shape {tuple(x_shape)}, a {kh}x{kw} kernel and an "
                         f"output of {out_h}x{out_w}")
    return (n, c, kh, kw, out_h, out_w), (sh, sw, pt, pl, dh, dw)


def check_windows(name: str, x_shape, out_shape, rows: np.ndarray, cols: np.ndarray,
                  entries: int) -> None:
    """The pooling kernels trust their tables: check them. rows must be int64 (OH, entries)
    with 0 <= first and stop <= H, so that range(first, stop, step) stays inside the input
    (it is empty when first >= stop); likewise cols for W; a divisor entry must not be 0. x
    and out must be (N, C, H, W) and (N, C, OH, OW)."""
    if len(x_shape) != 4 or len(out_shape) != 4 or tuple(x_shape[:2]) != tuple(out_shape[:2]):
        raise ValueError(f"{name}: expected (N, C, H, W) input and (N, C, OH, OW) output, got "
                         f"{tuple(x_shape)} and {tuple(out_shape)}")
    for table, n_out, size, what in ((rows, out_shape[2], x_shape[2], "rows"),
                                     (cols, out_shape[3], x_shape[3], "cols")):
        if not isinstance(table, np.ndarray) or table.dtype != np.int64 \
                or table.shape != (n_out, entries) or not table.flags.c_contiguous:
            raise ValueError(f"{name}: {what} must be a C-contiguous int64 array of shape "
                             f"({n_out}, {entries})")
        if n_out and (table[:, 0].min() < 0 or table[:, 1].max() > size):
            raise ValueError(f"{name}: the {what} windows must lie within [0, {size})")
        if n_out and entries == 3 and (table[:, 2] == 0).any():
            raise ValueError(f"{name}: a divisor of 0 in {what}")


# ------------------------------------------------------------------------------------ memory


def empty(shape, dtype):
    """A new C-contiguous array of `shape` (a tuple of ints) and `dtype` (a numpy dtype),
    uninitialised."""


def from_numpy(a):
    """The numpy array `a` as an array of this device (CPU: `a` itself; CUDA: a copy)."""


def to_numpy(x):
    """A numpy array with x's values (CPU: `x` itself, no copy; CUDA: a copy, after the
    device's pending checks are settled, see check_later)."""


def as_strided(buf, offset, shape, strides):
    """The view of the flat 1-D buffer `buf` whose element idx is
    `buf[offset + sum(idx[d] * strides[d])]` (strides in elements, not bytes); no copy.
    Raises ValueError if the view would reach outside `buf`."""
    if len(shape) != len(strides):
        raise ValueError(f"as_strided: shape {tuple(shape)} and strides {tuple(strides)} "
                         f"differ in length")


def fill(out, value):
    """Every element of `out` becomes the Python number `value`, converted as `copy` converts."""


def copy(src, out):
    """`out[...] = src` with a cast to out's dtype: float to int truncates toward zero, then
    wraps into the integer's range as PyTorch does (-1.0 to uint8 is 255); anything to bool is
    `!= 0`, so NaN is True."""
    check_same_shape(out, src)


# ------------------------------------------------------------------------------- elementwise


def unary(op, x, out):
    """`out = op(x)` elementwise, op one of UNARY_OPS; x has out's shape (any strides).
    sign(NaN) is 0, relu(NaN) is NaN, round is half to even, gelu is the erf form."""
    check_op("unary", op, UNARY_OPS)
    check_same_shape(out, x)


def binary(op, a, b, out):
    """`out = op(a, b)` elementwise, op one of BINARY_OPS; a, b and out have one shape (the
    caller broadcasts with stride-0 views) and a, b one dtype (the caller casts); comparisons
    and logical ops write bool.

    div is true division; floor_divide and remainder round toward -inf (remainder has the
    divisor's sign, as Python and PyTorch); an integer division by zero, which the tensor layer
    rejects first, gives 0 and never crashes. Integer pow with a negative (tensor) exponent
    gives the truncated exact power: 1 for base 1, +-1 for base -1, 0 otherwise. maximum and
    minimum propagate NaN. relu_backward(grad, x) = 0 if x <= 0 else grad (a NaN x passes the
    gradient); tanh_backward(grad, y) = grad (1 - y^2); sigmoid_backward(grad, y) =
    grad y (1 - y); gelu_backward(grad, x) = grad (Phi(x) + x phi(x))."""
    check_op("binary", op, BINARY_OPS)
    check_same_shape(out, a, b)
    if np.dtype(a.dtype) != np.dtype(b.dtype):
        raise ValueError(f"binary: a and b must have one dtype (the caller casts), got "
                         f"{a.dtype} and {b.dtype}")


def where(cond, a, b, out):
    """`out = a if cond else b` elementwise; all four have one shape."""
    check_same_shape(out, cond, a, b)


# -------------------------------------------------------------------------------- reductions


def reduce(op, x, axes, out):
    """Reduce x over the tuple `axes` (sorted, unique; empty only for a 0-d x) into out, which
    has x's shape with those axes set to 1; op one of REDUCE_OPS. Float sums and products
    accumulate in float64, integer and bool ones in int64 (accumulator_dtype); max and min
    propagate NaN; over an empty axis sum, prod, any and all give their identity and max and
    min raise ValueError."""
    check_op("reduce", op, REDUCE_OPS)
    axes = tuple(axes)
    if list(axes) != sorted(set(axes)) or any(not 0 <= d < x.ndim for d in axes):
        raise ValueError(f"reduce: axes must be sorted, unique and within 0 .. {x.ndim - 1}, "
                         f"got {axes}")
    if not axes and x.ndim:
        raise ValueError("reduce: no axes to reduce (an empty tuple is only for a 0-d array)")
    _check_shape("reduce", "out", out.shape,
                 [1 if d in axes else n for d, n in enumerate(x.shape)])


def argreduce(op, x, axis, out):
    """argmax or argmin of x along one axis into the int64 out (x's shape, that axis set to 1);
    the first occurrence wins; NaN counts as the maximum (and the minimum), as in PyTorch; an
    empty axis raises ValueError."""
    check_op("argreduce", op, ARGREDUCE_OPS)
    _check_axis("argreduce", axis, x.ndim)
    _check_shape("argreduce", "out", out.shape, _with(x.shape, axis, 1))
    _check_dtype("argreduce", "out", out, np.int64)


# ---------------------------------------------------------------------------- linear algebra


def _check_matmul(name: str, a, b, out) -> None:
    if a.ndim != 3 or b.ndim != 3 or out.ndim != 3:
        raise ValueError(f"{name}: a, b and out must be 3-D (batch, rows, columns), got shapes "
                         f"{tuple(a.shape)}, {tuple(b.shape)} and {tuple(out.shape)}")
    (batch, m, k), (batch_b, k_b, n) = a.shape, b.shape
    if batch_b != batch or k_b != k or tuple(out.shape) != (batch, m, n):
        raise ValueError(f"{name}: shapes {tuple(a.shape)} @ {tuple(b.shape)} -> "
                         f"{tuple(out.shape)} do not fit (B, M, K) @ (B, K, N) -> (B, M, N)")


def matmul(a, b, out):
    """Batched matrix product: a (B, M, K), b (B, K, N), out (B, M, N); BLAS (cuBLAS-like
    tiled kernels on CUDA) where the dtype allows."""
    _check_matmul("matmul", a, b, out)


def matmul_tiled(a, b, out):
    """The same product by the hand-written tiled kernel (the teaching kernel, a benchmark
    row)."""
    _check_matmul("matmul_tiled", a, b, out)


# ---------------------------------------------------------------------------------- indexing


def gather(x, dim, index, out):
    """`out[i][j][k] = x[index[i][j][k]][j][k]` for dim 0, and so on; index int64 with out's
    shape, which equals x's shape in every dimension but `dim` (the tensor layer narrows x);
    the tensor layer has checked the index values."""
    _check_axis("gather", dim, x.ndim)
    _check_shape("gather", "index", index.shape, out.shape)
    _check_shape("gather", "out", out.shape, _with(x.shape, dim, out.shape[dim]))


def scatter(out, dim, index, src, reduce=None):
    """`out[index[i][j][k]][j][k] = src[i][j][k]` (dim 0); `reduce` None, "add" or "multiply";
    src has index's shape (a scalar source arrives as a stride-0 view), out has it too in every
    dimension but `dim`; reads and writes out."""
    if reduce not in SCATTER_REDUCTIONS:
        raise ValueError(f"scatter: reduce must be None, 'add' or 'multiply', got {reduce!r}")
    _check_axis("scatter", dim, out.ndim)
    _check_shape("scatter", "src", src.shape, index.shape)
    _check_shape("scatter", "index", index.shape, _with(out.shape, dim, index.shape[dim]))


def index_select(x, dim, index, out):
    """out = the slices of x at the 1-D int64 `index` along `dim`."""
    _check_axis("index_select", dim, x.ndim)
    if index.ndim != 1:
        raise ValueError(f"index_select: index must be 1-D, got shape {tuple(index.shape)}")
    _check_shape("index_select", "out", out.shape, _with(x.shape, dim, index.shape[0]))


def index_add(out, dim, index, src):
    """`out.index_select(dim, index) += src`, summing repeated indices (the backward of
    index_select and embedding); reads and writes out."""
    _check_axis("index_add", dim, out.ndim)
    if index.ndim != 1:
        raise ValueError(f"index_add: index must be 1-D, got shape {tuple(index.shape)}")
    _check_shape("index_add", "src", src.shape, _with(out.shape, dim, index.shape[0]))


def take(buf, offsets, out):
    """`out[i] = buf[offsets[i]]` on a flat buffer (advanced indexing lowered to element
    offsets); offsets has out's shape or is its flat (C-order) version."""
    if tuple(offsets.shape) not in (tuple(out.shape), (out.size,)):
        raise ValueError(f"take: offsets of shape {tuple(offsets.shape)} for out of shape "
                         f"{tuple(out.shape)}")


def put(buf, offsets, src, accumulate):
    """`buf[offsets[i]] = src[i]`, or `+=` when accumulate (summing repeats)."""
    if offsets.size != src.size:
        raise ValueError(f"put: {offsets.size} offsets for {src.size} values")


def nonzero(x):
    """The int64 array (n, x.ndim) of the indices of x's nonzero elements, in row-major order
    (CUDA reads back one number, the count, to size it)."""


def sort(x, axis, descending, values_out, indices_out):
    """Stable sort of x along `axis` into values_out and the int64 indices_out (both x's
    shape); NaN sorts as the largest value (last ascending, first descending), as PyTorch."""
    _check_axis("sort", axis, x.ndim)
    _check_shape("sort", "values_out", values_out.shape, x.shape)
    _check_shape("sort", "indices_out", indices_out.shape, x.shape)


# ---------------------------------------------------------------------- ranges, running sums


def arange(out, start, step):
    """The 1-D `out[i] = start + i * step`, computed in float64 (int64 when start, step and out
    are integers: arange_dtype), converted as `copy` converts."""
    if out.ndim != 1:
        raise ValueError(f"arange: out must be 1-D, got shape {tuple(out.shape)}")


def _check_cumulative(name: str, x, axis, out) -> None:
    _check_axis(name, axis, x.ndim)
    _check_shape(name, "out", out.shape, x.shape)


def cumsum(x, axis, out):
    """`out[..., j, ...] = x[..., 0, ...] + ... + x[..., j, ...]` along axis (x.ndim >= 1, out
    has x's shape); floats accumulate in float64, integers and bools in int64."""
    _check_cumulative("cumsum", x, axis, out)


def cumprod(x, axis, out):
    """The running products along axis, accumulated as cumsum's sums."""
    _check_cumulative("cumprod", x, axis, out)


# ---------------------------------------------------------------------------- random numbers
# `rng` is the tensor layer's numpy.random.Generator. The CPU draws from it; CUDA takes one
# 64-bit seed from it per call and computes every element from (seed, element number).


def random_uniform(out, rng, low, high):
    """Fill out with numbers uniform in [low, high)."""


def random_normal(out, rng, mean, std):
    """Fill out with normal numbers of that mean and standard deviation."""


def random_exponential(out, rng, lambd):
    """Fill out with exponential numbers of rate lambd."""


def random_integers(out, rng, low, high):
    """Fill out with integers uniform in [low, high), low < high."""
    if not low < high:
        raise ValueError(f"random_integers: need low < high, got {low} and {high}")


def random_permutation(out, rng):
    """The 1-D out = a random permutation of 0 .. len(out) - 1."""
    if out.ndim != 1:
        raise ValueError(f"random_permutation: out must be 1-D, got shape {tuple(out.shape)}")


def random_multinomial(out, rng, probs, replacement):
    """out (R, k) int64: row r holds k categories drawn with probabilities proportional to the
    float64 weights probs[r] (R, n), which the caller checked; without replacement no category
    repeats (k <= n) and zero-weight categories come, in random order, after all others."""
    if out.ndim != 2 or probs.ndim != 2 or out.shape[0] != probs.shape[0]:
        raise ValueError(f"random_multinomial: out (R, k) and probs (R, n) expected, got "
                         f"{tuple(out.shape)} and {tuple(probs.shape)}")
    if not replacement and out.shape[1] > probs.shape[1]:
        raise ValueError(f"random_multinomial: {out.shape[1]} draws without replacement from "
                         f"{probs.shape[1]} categories")


# ------------------------------------------------------------------ asynchronous checks (CUDA)


def check_later(passed, report):
    """A check computed on the device as the 0-d bool `passed`: if it is False, `report()`
    raises the error, when the device reads the answer (CUDA at the next wait for the device;
    the CPU, with nothing to wait for, at once)."""
    if tuple(passed.shape) != ():
        raise ValueError(f"check_later: passed must be 0-d, got shape {tuple(passed.shape)}")


# ------------------------------------------------------------------------ optimizer updates
# One fused pass per parameter and step; every array flat, 1-D, of the parameter's float dtype
# and length; a state array the options leave unused is not touched.


def _check_update(name: str, param, *arrays) -> None:
    for a in (param, *arrays):
        if a.ndim != 1:
            raise ValueError(f"{name}: arrays must be 1-D, got shape {tuple(a.shape)}")


def sgd_step(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay, nesterov,
             maximize, first_step):
    """g = +-grad + wd p; with momentum: buf = g (first step) or momentum buf +
    (1 - dampening) g, then g = g + momentum buf (Nesterov) or buf; p -= lr g."""
    _check_update("sgd_step", param, grad, momentum_buffer)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
              weight_decay, step, amsgrad, maximize, decoupled_weight_decay):
    """m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2 (v the running max with amsgrad);
    p -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps); weight decay added to g (Adam)
    or p *= 1 - lr wd first (AdamW); `step` t counts from 1."""
    _check_update("adam_step", param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq)


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, centered, maximize):
    """s = alpha s + (1 - alpha) g^2; a = sqrt(s - gbar^2) + eps (centered) or sqrt(s) + eps;
    p -= lr g / a, or with momentum buf = momentum buf + g / a, p -= lr buf."""
    _check_update("rmsprop_step", param, grad, square_avg, grad_avg, momentum_buffer)


def adagrad_step(param, grad, state_sum, lr, lr_decay, eps, weight_decay, step, maximize):
    """S += g^2; p -= lr / (1 + (t - 1) lr_decay) g / (sqrt(S) + eps)."""
    _check_update("adagrad_step", param, grad, state_sum)


# ---------------------------------------------------------------- convolution and pooling


def im2col(x, kernel_size, stride, padding, dilation, cols, out_size=None):
    """cols (N, C kh kw, OH OW)[n, (c kh + i) kw + j, oh OW + ow] =
    x[n, c, oh sh - pt + i dh, ow sw - pl + j dw], 0 outside x; padding is (top, left);
    out_size (OH, OW) defaults to the symmetric-padding size."""
    im2col_geometry(x.shape, cols.shape, kernel_size, stride, padding, dilation, out_size)
    check_floats("im2col", x, cols)


def col2im(cols, kernel_size, stride, padding, dilation, out, out_size=None):
    """The adjoint of im2col: out (N, C, H, W) = 0, then every entry of cols added onto the
    position im2col read it from (entries from the padding are dropped)."""
    im2col_geometry(out.shape, cols.shape, kernel_size, stride, padding, dilation, out_size)
    check_floats("col2im", cols, out)


def max_pool2d(x, rows, cols, dilation, out, indices):
    """out[n, c, oh, ow] = max of x over the window rows[oh] x cols[ow] (with dilation);
    indices (int64) = h W + w of that maximum; first maximum wins ties, NaN wins."""
    check_windows("max_pool2d", x.shape, out.shape, rows, cols, 2)
    check_floats("max_pool2d", x, out)


def max_pool2d_backward(grad, indices, rows, cols, out):
    """out (N, C, H, W) = 0, then grad[n, c, oh, ow] added at indices[n, c, oh, ow]."""
    check_windows("max_pool2d_backward", out.shape, grad.shape, rows, cols, 2)
    check_floats("max_pool2d_backward", grad, out)


def avg_pool2d(x, rows, cols, out):
    """out[n, c, oh, ow] = sum of x over the window / (rows[oh, 2] cols[ow, 2]), summed in
    float64."""
    check_windows("avg_pool2d", x.shape, out.shape, rows, cols, 3)
    check_floats("avg_pool2d", x, out)


def avg_pool2d_backward(grad, rows, cols, out):
    """out = 0, then each grad[n, c, oh, ow] / (rows[oh, 2] cols[ow, 2]) added to every
    position of its window."""
    check_windows("avg_pool2d_backward", out.shape, grad.shape, rows, cols, 3)
    check_floats("avg_pool2d_backward", grad, out)


# ------------------------------------------------------------------------- the whole interface

PRIMITIVES = (
    "empty", "from_numpy", "to_numpy", "as_strided", "fill", "copy",
    "unary", "binary", "where", "reduce", "argreduce", "matmul", "matmul_tiled",
    "gather", "scatter", "index_select", "index_add", "take", "put", "nonzero", "sort",
    "arange", "cumsum", "cumprod",
    "random_uniform", "random_normal", "random_exponential", "random_integers",
    "random_permutation", "random_multinomial", "check_later",
    "sgd_step", "adam_step", "rmsprop_step", "adagrad_step",
    "im2col", "col2im", "max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
)


def checked(kernels) -> _pytypes.SimpleNamespace:
    """The kernels module `kernels` with every primitive checking its arguments first (the
    specification's checks above), then running the device's implementation. Everything else
    (op lists, CudaArray, synchronize, ...) is the module's own. For tests and debugging: the
    tensor layer calls the kernels directly."""
    def with_checks(name):
        spec, implementation = globals()[name], getattr(kernels, name)

        def primitive(*args, **kwargs):
            spec(*args, **kwargs)
            return implementation(*args, **kwargs)
        primitive.__name__ = primitive.__qualname__ = name
        primitive.__doc__ = spec.__doc__
        primitive.__wrapped__ = implementation
        return primitive

    namespace = {name: value for name, value in vars(kernels).items() if not name.startswith("__")}
    namespace.update({name: with_checks(name) for name in PRIMITIVES if hasattr(kernels, name)})
    return _pytypes.SimpleNamespace(**namespace)
