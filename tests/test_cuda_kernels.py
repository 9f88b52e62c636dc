"""The CUDA primitives against the CPU primitives, on the same data and the same views.

Every primitive of docs/primitives.md runs on both devices over contiguous, strided, offset and
broadcast (stride-0) views made from one flat buffer, and the results must agree. Without a GPU
this runs in Numba's CUDA simulator (tests/conftest.py turns it on), so sizes stay small; with a
GPU the same tests run on it. Sizes are picked so that both the short and the block (shared-
memory tree) reductions, several matmul tiles and several nonzero chunks are exercised.
"""
import math
import warnings

import numpy as np
import pytest

from tinygrad_edu import kernels_cpu as C
from tinygrad_edu import kernels_cuda as K

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN/inf inputs on purpose

FLOATS = (np.float32, np.float64)
INTS = (np.int64, np.int32, np.uint8)
RTOL = {np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-12}


# ------------------------------------------------------------------------------------ helpers


def pair(buf: np.ndarray, offset: int, shape: tuple, strides: tuple):
    """The same view of `buf` on both devices: (numpy view, CudaArray view, device buffer)."""
    device_buf = K.from_numpy(buf)
    return (C.as_strided(buf.copy(), offset, shape, strides),
            K.as_strided(device_buf, offset, shape, strides))


def layouts(shape: tuple) -> dict:
    """(offset, strides, buffer size) of several views with `shape` (2-D)."""
    rows, cols = shape
    return {
        "contiguous": (0, (cols, 1), rows * cols),
        "transposed": (0, (1, rows), rows * cols),
        "stepped": (3, (2 * cols + 1, 2), 3 + (rows - 1) * (2 * cols + 1) + 2 * (cols - 1) + 1),
        "row_broadcast": (1, (0, 1), cols + 1),
        "col_broadcast": (0, (1, 0), rows),
    }


def values(dtype, n: int, rng, special: bool = True) -> np.ndarray:
    """n test values of dtype; for floats some are NaN, inf, zeros and halves (rounding ties)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(n) < 0.5
    if dtype.kind in "iu":
        lo = 0 if dtype.kind == "u" else -9
        return rng.integers(lo, 10, n).astype(dtype)
    v = rng.normal(0, 3, n)
    v[::5] = np.round(v[::5] * 2) / 2          # exact halves: round-half-even ties
    if special and n >= 12:
        v[[1, 4, 7, 10]] = [np.nan, np.inf, -np.inf, 0.0]
    return v.astype(dtype)


def views(shape, dtype, rng, kinds=None, special=True):
    """(name, cpu view, cuda view) for each layout of `shape`."""
    for name, (offset, strides, size) in layouts(shape).items():
        if kinds and name not in kinds:
            continue
        buf = values(dtype, size, rng, special)
        cpu, dev = pair(buf, offset, shape, strides)
        yield name, cpu, dev


def plan(dtypes):
    """(dtype, layouts, output layouts) per dtype: every layout and a strided output for the
    first dtype, a contiguous and a stepped view for the others (the simulator is slow)."""
    for i, dtype in enumerate(dtypes):
        if i == 0:
            yield dtype, None, (False, True)
        else:
            yield dtype, ("contiguous", "stepped"), (False,)


def out_pair(shape, dtype, strided: bool = False):
    """Fresh outputs on both devices, contiguous or with a transposed layout."""
    if not strided:
        return np.zeros(shape, dtype), K.empty(shape, dtype)
    rows, cols = shape
    buf = np.zeros(rows * cols, dtype)
    return C.as_strided(buf, 0, shape, (1, rows)), K.as_strided(K.from_numpy(buf), 0, shape,
                                                                (1, rows))


def check(cpu: np.ndarray, dev, what: str = "") -> None:
    got = K.to_numpy(dev)
    assert got.shape == cpu.shape, what
    assert got.dtype == cpu.dtype, what
    if cpu.dtype.kind == "f":
        np.testing.assert_allclose(got, cpu, rtol=RTOL[cpu.dtype], atol=RTOL[cpu.dtype],
                                   equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, cpu, err_msg=what)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------------------------------- memory


def test_round_trip_and_views(rng):
    a = rng.normal(size=(3, 4)).astype(np.float32)
    d = K.from_numpy(a)
    assert isinstance(d, K.CudaArray) and d.shape == (3, 4) and d.dtype == np.float32
    np.testing.assert_array_equal(K.to_numpy(d), a)
    flat = d.reshape(-1)
    t = K.as_strided(flat, 1, (2, 2), (4, 2))            # a non-contiguous window, offset 1
    np.testing.assert_array_equal(K.to_numpy(t), a.reshape(-1)[1:][:8].reshape(2, 4)[:, ::2])
    assert not t.is_c_contiguous() and not t.flags.c_contiguous
    nested = K.as_strided(t.reshape(-1) if t.is_c_contiguous() else flat, 2, (3,), (3,))
    np.testing.assert_array_equal(K.to_numpy(nested), a.reshape(-1)[2::3][:3])
    empty = K.empty((0, 5), np.int64)
    assert K.to_numpy(empty).shape == (0, 5)
    assert K.to_numpy(K.from_numpy(np.float64(2.5))).shape == ()


def test_views_share_memory():
    d = K.from_numpy(np.zeros(6, np.float32))
    K.fill(K.as_strided(d, 1, (2,), (3,)), 7)
    np.testing.assert_array_equal(K.to_numpy(d), [0, 7, 0, 0, 7, 0])
    v = K.as_strided(d, 0, (2, 3), (3, 1))
    v[...] = 2
    np.testing.assert_array_equal(K.to_numpy(d), [2] * 6)


def test_as_strided_out_of_bounds_raises():
    d = K.from_numpy(np.zeros(6, np.float32))
    with pytest.raises(ValueError, match="does not fit"):
        K.as_strided(d, 2, (2, 3), (3, 1))


def test_reshape_of_strided_view_raises():
    d = K.from_numpy(np.zeros(6, np.float32))
    with pytest.raises(ValueError, match="contiguous"):
        K.as_strided(d, 0, (3,), (2,)).reshape(3, 1)


def test_no_implicit_host_conversion():
    with pytest.raises(TypeError, match="to_numpy"):
        np.asarray(K.from_numpy(np.zeros(3)))


@pytest.mark.parametrize("src", FLOATS + INTS + (np.bool_,))
@pytest.mark.parametrize("dst", FLOATS + INTS + (np.bool_,))
def test_copy_casts_like_cpu(src, dst):
    rng = np.random.default_rng(1)
    buf = values(src, 30, rng)
    if np.dtype(src).kind == "f" and np.dtype(dst).kind in "iu":
        buf = np.where(np.isfinite(buf), buf, 1.5).astype(src)   # NaN -> int is undefined
    for offset, shape, strides in [(2, (3, 4), (1, 5))]:          # a strided view
        cpu, dev = pair(buf, offset, shape, strides)
        out_c, out_d = out_pair(shape, dst)
        check(C.copy(cpu, out_c), K.copy(dev, out_d), f"{src}->{dst} {strides}")


@pytest.mark.parametrize("dtype", FLOATS + INTS + (np.bool_,))
def test_fill_like_cpu(dtype):
    for value in (0, 1, -1.7, 2.5, True):
        if np.dtype(dtype).kind == "u" and value == -1.7:
            continue
        out_c, out_d = out_pair((3, 4), dtype, strided=True)
        check(C.fill(out_c, value), K.fill(out_d, value), f"{dtype} {value}")


def test_fill_float_to_uint8_wraps_like_cpu():
    out_c, out_d = out_pair((2, 2), np.uint8)
    check(C.fill(out_c, -1.0), K.fill(out_d, -1.0))
    assert K.to_numpy(out_d)[0, 0] == 255


# -------------------------------------------------------------------------------- elementwise

INT_UNARY = ("neg", "abs", "sign", "square", "floor", "ceil", "round", "trunc", "logical_not",
             "bitwise_not", "isnan", "isinf", "relu")
BOOL_OUT_UNARY = ("logical_not", "isnan", "isinf")


def test_same_op_names_as_cpu():
    assert K.UNARY_OPS == C.UNARY_OPS and K.BINARY_OPS == C.BINARY_OPS
    assert K.REDUCE_OPS == C.REDUCE_OPS and K.ARGREDUCE_OPS == C.ARGREDUCE_OPS


@pytest.mark.parametrize("op", [op for op in K.UNARY_OPS if op != "bitwise_not"])
def test_unary_float_like_cpu(op, rng):
    for dtype, kinds, outs in plan(FLOATS):
        out_dtype = np.bool_ if op in BOOL_OUT_UNARY else dtype
        for name, cpu, dev in views((3, 5), dtype, rng, kinds):
            for strided_out in outs:
                out_c, out_d = out_pair((3, 5), out_dtype, strided_out)
                check(C.unary(op, cpu, out_c), K.unary(op, dev, out_d),
                      f"{op} {np.dtype(dtype)} {name} strided_out={strided_out}")


@pytest.mark.parametrize("op", INT_UNARY)
def test_unary_int_like_cpu(op, rng):
    for dtype in (np.int64, np.uint8) + ((np.bool_,) if op in ("logical_not", "bitwise_not")
                                         else ()):
        if op == "neg" and np.dtype(dtype).kind == "u":
            continue
        out_dtype = np.bool_ if op in BOOL_OUT_UNARY else dtype
        if op in ("sign", "relu") and np.dtype(dtype).kind != "f":
            out_dtype = dtype
        for name, cpu, dev in views((3, 5), dtype, rng, kinds=("contiguous", "stepped")):
            out_c, out_d = out_pair((3, 5), out_dtype)
            check(C.unary(op, cpu, out_c), K.unary(op, dev, out_d), f"{op} {dtype} {name}")


def test_unary_large_integers_round_exactly():
    big = np.array([2 ** 62 + 1, -(2 ** 61) - 3], np.int64)
    for op in ("floor", "ceil", "round", "trunc", "abs", "neg"):
        out = K.unary(op, K.from_numpy(big), K.empty((2,), np.int64))
        np.testing.assert_array_equal(K.to_numpy(out), C.unary(op, big, np.empty(2, np.int64)))


def test_unknown_op_raises():
    with pytest.raises(ValueError, match="unknown unary op"):
        K.unary("nope", K.empty((2,), np.float32), K.empty((2,), np.float32))
    with pytest.raises(ValueError, match="unknown reduce op"):
        K.reduce("nope", K.empty((2,), np.float32), (0,), K.empty((1,), np.float32))


BOOL_OUT_BINARY = ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor")


@pytest.mark.parametrize("op", K.BINARY_OPS)
def test_binary_like_cpu(op, rng):
    if op.startswith("bitwise"):
        dtypes = (np.int64, np.uint8, np.bool_)
    elif op in ("div", "atan2") or op.endswith("backward"):
        dtypes = FLOATS
    elif op in BOOL_OUT_BINARY:
        dtypes = FLOATS + (np.int32, np.bool_)
    else:
        dtypes = FLOATS + (np.int64, np.uint8)
    for dtype, kinds, outs in plan(dtypes):
        out_dtype = np.bool_ if op in BOOL_OUT_BINARY else dtype
        pairs = list(views((3, 4), dtype, rng, kinds))
        if op == "pow" and np.dtype(dtype).kind in "iu":   # small exponents: no overflow
            b_buf = rng.integers(0, 4, 60).astype(dtype)
            pairs_b = [("small", *pair(b_buf, 0, (3, 4), (4, 1))),
                       ("broadcast", *pair(b_buf, 2, (3, 4), (0, 1)))]
        else:
            pairs_b = list(views((3, 4), dtype, rng, kinds))
        for (name_a, a_c, a_d), (name_b, b_c, b_d) in zip(pairs, pairs_b[::-1] * 3):
            for strided_out in outs:
                out_c, out_d = out_pair((3, 4), out_dtype, strided_out)
                check(C.binary(op, a_c, b_c, out_c), K.binary(op, a_d, b_d, out_d),
                      f"{op} {np.dtype(dtype)} {name_a} {name_b} {strided_out}")


def test_binary_in_place_and_scalar_operand(rng):
    a = values(np.float32, 12, rng, special=False)
    d = K.from_numpy(a)
    one = K.empty((1,), np.float32)
    K.fill(one, 2.5)
    scalar = K.as_strided(one, 0, (12,), (0,))     # how the tensor layer passes x * 2.5
    K.binary("mul", d, scalar, d)                   # out is a: in place
    np.testing.assert_allclose(K.to_numpy(d), a * np.float32(2.5), rtol=1e-6)


def test_division_by_zero_gives_ieee_values():
    a = K.from_numpy(np.array([1.0, -1.0, 0.0, 7.0], np.float32))
    b = K.from_numpy(np.array([0.0, 0.0, 0.0, 2.0], np.float32))
    got = K.to_numpy(K.binary("div", a, b, K.empty((4,), np.float32)))
    np.testing.assert_array_equal(got[[0, 1, 3]], [np.inf, -np.inf, 3.5])
    assert np.isnan(got[2])
    ints = K.from_numpy(np.array([7, -7], np.int64))
    zero = K.from_numpy(np.array([0, 0], np.int64))
    for op in ("floor_divide", "remainder"):
        np.testing.assert_array_equal(
            K.to_numpy(K.binary(op, ints, zero, K.empty((2,), np.int64))), [0, 0])


@pytest.mark.parametrize("dtype", FLOATS + (np.int32, np.bool_))
def test_where_like_cpu(dtype, rng):
    for (n1, c_c, c_d), (n2, a_c, a_d), (n3, b_c, b_d) in zip(
            views((3, 4), np.bool_, rng), views((3, 4), dtype, rng),
            list(views((3, 4), dtype, rng))[::-1]):
        for strided_out in (False, True):
            out_c, out_d = out_pair((3, 4), dtype, strided_out)
            check(C.where(c_c, a_c, b_c, out_c), K.where(c_d, a_d, b_d, out_d),
                  f"{dtype} {n1} {n2} {n3}")


# --------------------------------------------------------------------------------- reductions


def _acc(op, dtype):
    return C._accumulator_dtype(op, np.dtype(dtype)) if op in ("sum", "prod", "any", "all") \
        else np.dtype(dtype)


def _reduce_pair(op, cpu, dev, axes):
    out_shape = tuple(1 if d in axes else n for d, n in enumerate(cpu.shape))
    dtype = _acc(op, cpu.dtype)
    if op in ("sum", "prod") and cpu.dtype.kind == "f":
        dtype = cpu.dtype                          # float32 sums are stored back as float32
    out_c, out_d = np.zeros(out_shape, dtype), K.empty(out_shape, dtype)
    return C.reduce(op, cpu, axes, out_c), K.reduce(op, dev, axes, out_d)


@pytest.mark.parametrize("op", K.REDUCE_OPS)
def test_reduce_like_cpu(op, rng):
    dtypes = (np.float32, np.float64, np.int32, np.bool_)
    if op == "prod":
        dtypes = (np.float32, np.int64)
    for i, dtype in enumerate(dtypes):
        cases = [((3, 5), [(0,), (1,), (0, 1)]),      # short: a thread per output
                 ((2, 40), [(1,), (0, 1)]),           # block trees in shared memory
                 ((2, 3, 7), [(0, 2), (1,)])]
        if i:                                         # other dtypes: one of each kind
            cases = [((3, 5), [(0,)]), ((2, 40), [(1,)])]
        for shape, axes_list in cases:
            size = math.prod(shape)
            buf = values(dtype, 2 * size + 2, rng, special=(op in ("max", "min")))
            if op == "prod" and np.dtype(dtype).kind == "f":
                buf = (1 + 0.01 * np.nan_to_num(buf)).astype(dtype)
            if op == "prod" and np.dtype(dtype).kind != "f":
                buf = rng.integers(1, 3, buf.size).astype(dtype)
            # a contiguous view and an every-other-element view at an offset
            strides_c = K._contiguous_strides(shape)
            for offset, strides in [(1, tuple(2 * s for s in strides_c)), (0, strides_c)][
                    :2 if i == 0 else 1]:
                cpu, dev = pair(buf, offset, shape, strides)
                for axes in axes_list:
                    c, d = _reduce_pair(op, cpu, dev, axes)
                    check(c, d, f"{op} {np.dtype(dtype)} {shape} {axes} {strides}")


@pytest.mark.parametrize("op", ["sum", "max", "all"])
def test_reduce_split_over_blocks_like_cpu(op, rng):
    """Few outputs of many elements: partial results per block, then a second pass."""
    n = 2 * K.MAX_THREADS * K.ITEMS_PER_THREAD + 37
    dtype = np.bool_ if op == "all" else np.float32
    buf = values(dtype, n, rng, special=False)
    if op == "all":
        buf[:] = True
        buf[n - 5] = False
    cpu, dev = pair(buf, 0, (n,), (1,))
    c, d = _reduce_pair(op, cpu, dev, (0,))
    check(c, d, op)


def test_float32_sum_accumulates_in_float64():
    buf = np.array([1e8] + [1.0] * 99, np.float32)
    out = K.reduce("sum", K.from_numpy(buf), (0,), K.empty((1,), np.float64))
    assert K.to_numpy(out) == 1e8 + 99


def test_reduce_max_propagates_nan_and_empty_rules():
    buf = np.array([1.0, np.nan, 3.0] + [0.0] * 30, np.float32)
    assert np.isnan(K.to_numpy(K.reduce("max", K.from_numpy(buf), (0,), K.empty((1,), np.float32))))
    empty = K.empty((0, 3), np.float32)
    np.testing.assert_array_equal(
        K.to_numpy(K.reduce("sum", empty, (0,), K.empty((1, 3), np.float32))), [[0, 0, 0]])
    with pytest.raises(ValueError, match="no identity"):
        K.reduce("max", empty, (0,), K.empty((1, 3), np.float32))


@pytest.mark.parametrize("op", K.ARGREDUCE_OPS)
def test_argreduce_like_cpu(op, rng):
    for dtype in FLOATS + (np.int64, np.bool_):
        for shape in [(4, 6), (3, 45)]:                    # short rows, and block trees
            size = math.prod(shape)
            buf = values(dtype, size, rng)
            if np.dtype(dtype).kind == "f":
                buf = np.round(buf)                         # ties: the first must win
                buf[size // 2 + 3] = np.nan
            cpu, dev = pair(buf, 0, shape, K._contiguous_strides(shape))
            for axis in range(2):
                out_shape = tuple(1 if d == axis else n for d, n in enumerate(shape))
                out_c, out_d = np.zeros(out_shape, np.int64), K.empty(out_shape, np.int64)
                check(C.argreduce(op, cpu, axis, out_c), K.argreduce(op, dev, axis, out_d),
                      f"{op} {np.dtype(dtype)} {shape} {axis}")
    with pytest.raises(ValueError, match="unknown argreduce"):
        K.argreduce("argmid", dev, 0, out_d)


# ----------------------------------------------------------------------------- linear algebra


@pytest.mark.parametrize("kernel", ["matmul", "matmul_tiled"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_matmul_like_cpu(kernel, dtype, rng):
    cpu_fn, dev_fn = getattr(C, kernel), getattr(K, kernel)
    batch, m, k, n = 2, 5, 7, 3
    a_buf, b_buf = values(dtype, 200, rng, False), values(dtype, 200, rng, False)
    cases = {
        "contiguous": ((0, (m * k, k, 1)), (0, (k * n, n, 1))),
        "transposed": ((1, (m * k, 1, m)), (2, (k * n, 1, k))),          # a.mT and b.mT views
        "broadcast batch": ((0, (0, k, 1)), (3, (0, n, 1))),
    }
    for name, ((a_off, a_st), (b_off, b_st)) in cases.items():
        a_c, a_d = pair(a_buf, a_off, (batch, m, k), a_st)
        b_c, b_d = pair(b_buf, b_off, (batch, k, n), b_st)
        out_c, out_d = np.zeros((batch, m, n), dtype), K.empty((batch, m, n), dtype)
        if np.dtype(dtype).kind == "f":
            cpu_fn(a_c, b_c, out_c)
            np.testing.assert_allclose(K.to_numpy(dev_fn(a_d, b_d, out_d)), out_c,
                                       rtol=1e-5, atol=1e-5, err_msg=name)
        else:
            check(cpu_fn(a_c, b_c, out_c), dev_fn(a_d, b_d, out_d), name)


@pytest.mark.parametrize("kernel", ["matmul", "matmul_tiled"])
def test_matmul_several_tiles(kernel, rng):
    """Sizes that are not multiples of the tiles, several tiles each way, a strided out."""
    if kernel == "matmul":
        m, k, n = K.BLOCK_M + 6, K.BLOCK_K + 5, K.BLOCK_N + 2
    else:
        m, k, n = K.TILE + 3, K.TILE + 5, K.TILE + 1
    a = rng.normal(size=(1, m, k))
    b = rng.normal(size=(1, k, n))
    out_buf = K.from_numpy(np.zeros(m * n, np.float64))
    out = K.as_strided(out_buf, 0, (1, m, n), (0, 1, m))     # column-major out
    getattr(K, kernel)(K.from_numpy(a), K.from_numpy(b), out)
    np.testing.assert_allclose(K.to_numpy(out), a @ b, rtol=1e-12, atol=1e-12)


def test_matmul_empty_inner_dimension_is_zeros():
    out = K.matmul(K.empty((1, 2, 0), np.float32), K.empty((1, 0, 3), np.float32),
                   K.empty((1, 2, 3), np.float32))
    np.testing.assert_array_equal(K.to_numpy(out), np.zeros((1, 2, 3)))


# ----------------------------------------------------------------------------------- indexing


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.uint8])
def test_gather_and_index_select_like_cpu(dtype, rng):
    for name, x_c, x_d in views((4, 5), dtype, rng, kinds=("contiguous", "transposed",
                                                            "stepped")):
        for dim in (0, 1):
            idx = rng.integers(0, 4 if dim == 0 else 5, (4, 5)).astype(np.int64)
            out_c, out_d = np.zeros((4, 5), dtype), K.empty((4, 5), dtype)
            check(C.gather(x_c, dim, idx, out_c), K.gather(x_d, dim, K.from_numpy(idx), out_d),
                  f"gather {name} {dim}")
            index = rng.integers(0, x_c.shape[dim], 6).astype(np.int64)
            shape = (6, 5) if dim == 0 else (4, 6)
            out_c, out_d = np.zeros(shape, dtype), K.empty(shape, dtype)
            check(C.index_select(x_c, dim, index, out_c),
                  K.index_select(x_d, dim, K.from_numpy(index), out_d), f"select {name} {dim}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("reduce", [None, "add", "multiply"])
def test_scatter_like_cpu(dtype, reduce, rng):
    for dim in (0, 1):
        base = values(dtype, 20, rng, special=False).reshape(4, 5)
        src = values(dtype, 20, rng, special=False).reshape(4, 5)
        if reduce is None:    # distinct targets: with repeats which write wins is unspecified
            idx = np.stack([rng.permutation(4) for _ in range(5)], 1) if dim == 0 \
                else np.stack([rng.permutation(5) for _ in range(4)])
        else:                 # repeats: atomic adds, or the serial multiply
            idx = rng.integers(0, 4 if dim == 0 else 5, (4, 5))
        idx = idx.astype(np.int64)
        out_c = base.copy()
        out_d = K.from_numpy(base)
        check(C.scatter(out_c, dim, idx, src, reduce),
              K.scatter(out_d, dim, K.from_numpy(idx), K.from_numpy(src), reduce),
              f"{dtype} {reduce} {dim}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int16])
def test_index_add_accumulates_repeats_like_cpu(dtype, rng):
    base = values(dtype, 20, rng, special=False).reshape(4, 5)
    src = values(dtype, 12, rng, special=False).reshape(4, 3)
    index = np.array([4, 0, 4], np.int64)
    out_c, out_d = base.copy(), K.from_numpy(base)
    check(C.index_add(out_c, 1, index, src),
          K.index_add(out_d, 1, K.from_numpy(index), K.from_numpy(src)))


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.uint8])
def test_take_and_put_like_cpu(dtype, rng):
    buf = values(dtype, 30, rng, special=False)
    offsets = rng.integers(0, 30, 7).astype(np.int64)
    out_c, out_d = np.zeros(7, dtype), K.empty((7,), dtype)
    check(C.take(buf, offsets, out_c),
          K.take(K.from_numpy(buf), K.from_numpy(offsets), out_d))
    # take into a 2-D out from 1-D offsets, out of a strided storage view
    view_c = buf[1::2]
    view_d = K.as_strided(K.from_numpy(buf), 1, (15,), (2,))
    offs = rng.integers(0, 15, 6).astype(np.int64)
    out_c, out_d = np.zeros((2, 3), dtype), K.empty((2, 3), dtype)
    check(C.take(view_c, offs, out_c), K.take(view_d, K.from_numpy(offs), out_d))
    for accumulate in (False, True):
        offsets = rng.permutation(30)[:7] if not accumulate else rng.integers(0, 5, 9)
        offsets = offsets.astype(np.int64)
        src = values(dtype, offsets.size, rng, special=False)
        b_c, b_d = buf.copy(), K.from_numpy(buf)
        check(C.put(b_c, offsets, src, accumulate),
              K.put(b_d, K.from_numpy(offsets), K.from_numpy(src), accumulate), str(accumulate))


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_nonzero_like_cpu(dtype, rng):
    for shape in [(5,), (3, 4), (2, 3, 4), (7, 40)]:          # (7, 40): several chunks
        size = math.prod(shape)
        buf = values(dtype, size, rng)
        buf[rng.random(size) < 0.5] = 0
        cpu, dev = pair(buf, 0, shape, K._contiguous_strides(shape))
        check(C.nonzero(cpu), K.nonzero(dev), str(shape))
        if len(shape) == 2:                                   # a transposed view
            t_c, t_d = pair(buf, 0, shape[::-1], (1, shape[1]))
            check(C.nonzero(t_c), K.nonzero(t_d), f"{shape} transposed")
    for x in (np.zeros((2, 3), dtype), np.array(3, dtype), np.array(0, dtype),
              np.zeros((0, 2), dtype)):
        check(C.nonzero(x), K.nonzero(K.from_numpy(x)), str(x.shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_like_cpu(dtype, descending, rng):
    for shape, axis in [((3, 7), 1), ((3, 7), 0), ((2, 1), 1), ((1, 70), 1), ((16,), 0)]:
        size = math.prod(shape)
        buf = values(dtype, size, rng)
        if np.dtype(dtype).kind == "f":
            buf = np.round(buf / 2).astype(dtype)             # many ties: stability shows
        cpu, dev = pair(buf, 0, shape, K._contiguous_strides(shape))
        v_c, i_c = np.zeros(shape, dtype), np.zeros(shape, np.int64)
        v_d, i_d = K.empty(shape, dtype), K.empty(shape, np.int64)
        C.sort(cpu, axis, descending, v_c, i_c)
        K.sort(dev, axis, descending, v_d, i_d)
        check(v_c, v_d, f"values {shape} {axis}")
        check(i_c, i_d, f"indices {shape} {axis}")


def test_sort_into_strided_outputs():
    x = np.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]], np.float32)
    v_buf, i_buf = K.from_numpy(np.zeros(6, np.float32)), K.from_numpy(np.zeros(6, np.int64))
    v = K.as_strided(v_buf, 0, (2, 3), (1, 2))
    i = K.as_strided(i_buf, 0, (2, 3), (1, 2))
    K.sort(K.from_numpy(x), 1, False, v, i)
    np.testing.assert_array_equal(K.to_numpy(v), np.sort(x, 1))
    np.testing.assert_array_equal(K.to_numpy(i), np.argsort(x, 1, kind="stable"))


# -------------------------------------------------------------------------- launch geometry


def test_launch_configurations_come_from_the_shape():
    assert K._grid(1) == (1, K.WARP)
    assert K._grid(100) == (1, 128)
    blocks, threads = K._grid(10 ** 9)          # a huge array: capped grid, grid-stride loops
    assert threads == K.MAX_THREADS and blocks == K.MAX_BLOCKS
    assert K._block_for(5) == K.WARP and K._block_for(10 ** 6) == K.MAX_THREADS
    assert all(K._block_for(n) & (K._block_for(n) - 1) == 0 for n in (33, 100, 300))


def test_cpu_primitives_are_all_on_cuda():
    """Every primitive the CPU module offers (including ones added later: optimizer updates,
    convolution, pooling, softmax...) must exist on CUDA too."""
    missing = [name for name in C.__all__ if callable(getattr(C, name)) and not hasattr(K, name)]
    assert not missing, f"kernels_cuda lacks {missing}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extra = [name for name in dir(C) if name.endswith("_step") and callable(getattr(C, name))]
    assert all(hasattr(K, name) for name in extra), extra


# ----------------------------------------------------------------- convolution and pooling


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("geometry", [
    ((3, 3), (1, 1), (1, 1), (1, 1), None),       # "same"-style padding
    ((2, 3), (2, 1), (0, 2), (1, 2), None),       # strides, dilation, uneven padding
    ((3, 3), (1, 1), (1, 1), (1, 1), (6, 5)),     # out_size larger: extra bottom/right pad
])
def test_im2col_and_col2im_like_cpu(dtype, geometry, rng):
    kernel, stride, padding, dilation, out_size = geometry
    x = values(dtype, 2 * 2 * 5 * 4, rng, special=False).reshape(2, 2, 5, 4)
    kh, kw = kernel
    if out_size is None:
        out_size = ((5 + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1,
                    (4 + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1)
    shape = (2, 2 * kh * kw, out_size[0] * out_size[1])
    cols_c, cols_d = np.zeros(shape, dtype), K.empty(shape, dtype)
    x_t = x.transpose(0, 1, 3, 2).copy().transpose(0, 1, 3, 2)    # a non-contiguous input
    x_d = K.as_strided(K.from_numpy(x_t.transpose(0, 1, 3, 2).copy()).reshape(-1), 0,
                       x.shape, (40, 20, 1, 5))
    C.im2col(x, kernel, stride, padding, dilation, cols_c, out_size)
    K.im2col(x_d, kernel, stride, padding, dilation, cols_d, out_size)
    check(cols_c, cols_d, "im2col")
    grad = values(dtype, int(np.prod(shape)), rng, special=False).reshape(shape)
    out_c, out_d = np.zeros(x.shape, dtype), K.empty(x.shape, dtype)
    C.col2im(grad, kernel, stride, padding, dilation, out_c, out_size)
    K.col2im(K.from_numpy(grad), kernel, stride, padding, dilation, out_d, out_size)
    check(out_c, out_d, "col2im")


@pytest.mark.parametrize("dtype", FLOATS)
def test_pooling_like_cpu(dtype, rng):
    from tinygrad_edu.nn.pooling import adaptive_windows, avg_windows, max_windows
    x = np.round(values(dtype, 2 * 3 * 7 * 6, rng, special=False)).reshape(2, 3, 7, 6)
    x[0, 1, 2, 3] = np.nan                          # NaN wins its windows
    for rows, cols, dilation in [(max_windows(3, 7, 3, 2, 1, 1), max_windows(3, 6, 2, 2, 0, 1),
                                  (1, 1)),
                                 (max_windows(3, 7, 2, 2, 1, 2), max_windows(2, 6, 3, 2, 1, 2),
                                  (2, 2))]:       # overlapping windows, dilation
        shape = (2, 3, len(rows), len(cols))
        out_c, idx_c = np.zeros(shape, dtype), np.zeros(shape, np.int64)
        out_d, idx_d = K.empty(shape, dtype), K.empty(shape, np.int64)
        C.max_pool2d(x, rows, cols, dilation, out_c, idx_c)
        K.max_pool2d(K.from_numpy(x), rows, cols, dilation, out_d, idx_d)
        check(out_c, out_d, "max_pool2d")
        check(idx_c, idx_d, "max_pool2d indices")
        grad = values(dtype, int(np.prod(shape)), rng, special=False).reshape(shape)
        dx_c, dx_d = np.zeros(x.shape, dtype), K.empty(x.shape, dtype)
        C.max_pool2d_backward(grad, idx_c, rows, cols, dx_c)
        K.max_pool2d_backward(K.from_numpy(grad), idx_d, rows, cols, dx_d)
        check(dx_c, dx_d, "max_pool2d_backward")
    x[0, 1, 2, 3] = 1.5
    for rows, cols in [(avg_windows(4, 7, 3, 2, 1, True), avg_windows(3, 6, 2, 2, 0, False)),
                       (adaptive_windows(3, 7), adaptive_windows(4, 6))]:
        shape = (2, 3, len(rows), len(cols))
        out_c, out_d = np.zeros(shape, dtype), K.empty(shape, dtype)
        C.avg_pool2d(x, rows, cols, out_c)
        K.avg_pool2d(K.from_numpy(x), rows, cols, out_d)
        check(out_c, out_d, "avg_pool2d")
        grad = values(dtype, int(np.prod(shape)), rng, special=False).reshape(shape)
        dx_c, dx_d = np.zeros(x.shape, dtype), K.empty(x.shape, dtype)
        C.avg_pool2d_backward(grad, rows, cols, dx_c)
        K.avg_pool2d_backward(K.from_numpy(grad), rows, cols, dx_d)
        np.testing.assert_allclose(K.to_numpy(dx_d), dx_c, rtol=1e-5)   # atomic adds: any order


def test_pooling_checks_its_tables_like_cpu():
    bad = np.array([[0, 9]], np.int64)               # a window past the input
    with pytest.raises(ValueError, match="within"):
        K.max_pool2d(K.empty((1, 1, 4, 4), np.float32), bad, bad, (1, 1),
                     K.empty((1, 1, 1, 1), np.float32), K.empty((1, 1, 1, 1), np.int64))


# ------------------------------------------------------------------- ranges and running sums


@pytest.mark.parametrize("dtype", FLOATS + INTS + (np.bool_,))
def test_arange_like_cpu(dtype):
    for start, step in [(0, 1), (5, -3), (0.5, 0.25), (2, 0.1), (-1.5, 3)]:
        n = 11
        out_c = np.zeros(n, dtype)
        check(C.arange(out_c, start, step), K.arange(K.empty((n,), dtype), start, step),
              f"{np.dtype(dtype)} {start} {step}")
        # a strided out: every third element from 1
        buf = np.full(3 * n + 1, 7, dtype)
        view_c, view_d = pair(buf, 1, (n,), (3,))
        C.arange(view_c, start, step)
        K.arange(view_d, start, step)
        check(view_c, view_d, f"strided {np.dtype(dtype)} {start} {step}")
    K.arange(K.empty((0,), dtype), 0, 1)                       # empty: nothing to launch


def test_arange_strided_out_leaves_the_rest_alone():
    buf = K.from_numpy(np.full(10, -1, np.int64))
    K.arange(K.as_strided(buf, 1, (3,), (3,)), 4, 2)           # int64: no temporary
    K.arange(K.as_strided(buf, 2, (3,), (3,)), 0.5, 1.0)       # float values into int64
    np.testing.assert_array_equal(K.to_numpy(buf), [-1, 4, 0, -1, 6, 1, -1, 8, 2, -1])


CUMULATIVE_OUT = {np.dtype(np.float32): np.float32, np.dtype(np.float64): np.float64}


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8, np.bool_])
def test_cumsum_cumprod_like_cpu(op, dtype, rng):
    """Along each axis of contiguous, transposed, strided and broadcast views, into contiguous
    and transposed outs: floats keep their dtype, integers and bools give int64."""
    out_dtype = CUMULATIVE_OUT.get(np.dtype(dtype), np.int64)
    kinds = None if dtype in (np.float32, np.int32) else ("contiguous", "stepped")
    for name, cpu, dev in views((3, 5), dtype, rng, kinds, special=dtype == np.float64):
        for axis in (0, 1):                          # (|integers| < 10: products fit int64)
            for strided_out in (False, True):
                out_c, out_d = out_pair((3, 5), out_dtype, strided_out)
                check(getattr(C, op)(cpu, axis, out_c), getattr(K, op)(dev, axis, out_d),
                      f"{op} {np.dtype(dtype)} {name} axis={axis} strided_out={strided_out}")
    # three dimensions, a permuted view, the scanned axis in the middle
    buf = values(dtype, 2 * 3 * 4, rng, special=False)
    cpu, dev = pair(buf, 0, (4, 2, 3), (1, 12, 4))
    out_c, out_d = np.zeros((4, 2, 3), out_dtype), K.empty((4, 2, 3), out_dtype)
    check(getattr(C, op)(cpu, 1, out_c), getattr(K, op)(dev, 1, out_d), f"{op} 3-D")


def test_cumsum_values_and_empty():
    x = np.array([[1, 2, 3], [4, 5, 6]], np.int64)
    out = K.cumsum(K.from_numpy(x), 1, K.empty((2, 3), np.int64))
    np.testing.assert_array_equal(K.to_numpy(out), [[1, 3, 6], [4, 9, 15]])
    out = K.cumprod(K.from_numpy(x), 0, K.empty((2, 3), np.int64))
    np.testing.assert_array_equal(K.to_numpy(out), [[1, 2, 3], [4, 10, 18]])
    f32 = np.full(101, 0.1, np.float32)
    f32[0] = 1e8                                   # float32 running sums would stay at 1e8
    out = K.cumsum(K.from_numpy(f32), 0, K.empty((101,), np.float32))
    assert K.to_numpy(out)[-1] == np.float32(1e8 + 8)
    assert K.cumsum(K.empty((0, 3), np.float32), 0, K.empty((0, 3), np.float32)).shape == (0, 3)


# ---------------------------------------------------------------------------- random numbers
# CUDA's numbers come from a counter-based generator (SplitMix64) seeded by one draw from the
# host Generator: different numbers from the CPU's, the same distributions. The simulator runs
# a Python thread per element, so samples are a few thousand.

RANDOM_N = 2000


def mean_and_var_close(x, mean, var, sigmas=6.0, var_rtol=0.2):
    x = np.asarray(x, np.float64)
    assert abs(x.mean() - mean) < sigmas * math.sqrt(var / x.size), (x.mean(), mean)
    assert abs(x.var() - var) < var_rtol * var, (x.var(), var)


@pytest.mark.parametrize("dtype", FLOATS)
def test_random_uniform(dtype):
    out = K.random_uniform(K.empty((RANDOM_N,), dtype), np.random.default_rng(0), -2.0, 3.0)
    x = K.to_numpy(out)
    assert x.dtype == dtype and x.min() >= -2.0 and x.max() < 3.0
    mean_and_var_close(x, 0.5, 25 / 12)
    assert np.histogram(x, bins=5, range=(-2, 3))[0].min() > RANDOM_N / 5 * 0.8
    assert len(np.unique(x)) > RANDOM_N * 0.99     # no short cycles, no stuck bits


def test_random_uniform_rounding_never_reaches_high():
    """In float32, 1 + (2 - 1) * (1 - 2^-24) rounds to 2.0: the sampler returns low instead,
    so the interval stays [low, high). (Checked on the sampler's formula with a uniform stuck
    just below 1; a real draw does that once in 2^24.)"""
    just_below_one = {"float32": np.float32(1 - 2.0 ** -24), "float64": 1 - 2.0 ** -53}
    for precision, t in (("float32", np.float32), ("float64", np.float64)):
        samplers = K._samplers(lambda seed, i: t(just_below_one[precision]), t(1), t(2),
                               t(2 * math.pi))
        for low, high in ((1.0, 2.0), (0.0, 1.0), (-3.0, 0.5)):
            value = samplers["uniform"](np.uint64(1), np.uint64(0), t(low), t(high))
            assert t(low) <= value < t(high), (precision, low, high, value)


@pytest.mark.parametrize("dtype", FLOATS)
def test_random_normal_and_exponential(dtype):
    rng = np.random.default_rng(1)
    z = K.to_numpy(K.random_normal(K.empty((40, 50), dtype), rng, 1.5, 2.0))
    assert z.dtype == dtype and np.isfinite(z).all()
    mean_and_var_close(z, 1.5, 4.0)
    assert abs(np.mean(np.abs(z - 1.5) < 2.0) - 0.6827) < 0.05      # the bell's shape
    e = K.to_numpy(K.random_exponential(K.empty((RANDOM_N,), dtype), rng, 4.0))
    assert e.dtype == dtype and e.min() >= 0 and np.isfinite(e).all()
    mean_and_var_close(e, 0.25, 1 / 16, var_rtol=0.25)


def test_random_integers():
    rng = np.random.default_rng(2)
    x = K.to_numpy(K.random_integers(K.empty((RANDOM_N,), np.int64), rng, -3, 4))
    counts = np.bincount(x + 3, minlength=7)
    assert x.min() >= -3 and x.max() < 4 and len(counts) == 7
    assert counts.min() > RANDOM_N / 7 * 0.75
    small = K.to_numpy(K.random_integers(K.empty((300,), np.uint8), rng, 250, 256))
    assert small.dtype == np.uint8 and set(small.tolist()) == set(range(250, 256))
    as_float = K.to_numpy(K.random_integers(K.empty((300,), np.float32), rng, 0, 3))
    assert set(as_float.tolist()) == {0.0, 1.0, 2.0}
    huge = K.to_numpy(K.random_integers(K.empty((64,), np.int64), rng, 0, 2 ** 63))
    assert huge.min() >= 0 and huge.max() > 2 ** 60                  # the top bits are used
    with pytest.raises(ValueError, match="non-empty"):
        K.random_integers(K.empty((2,), np.int64), rng, 3, 3)
    with pytest.raises(ValueError, match="2\\^63"):
        K.random_integers(K.empty((2,), np.int64), rng, -2 ** 63, 2 ** 63 - 1)


@pytest.mark.parametrize("n", [1, 2, 20])
def test_random_permutation(n):
    rng = np.random.default_rng(n)
    perms = [K.to_numpy(K.random_permutation(K.empty((n,), dtype), rng))
             for dtype in (np.int64, np.int32)]
    for p, dtype in zip(perms, (np.int64, np.int32)):
        assert p.dtype == dtype and sorted(p.tolist()) == list(range(n))
    if n == 20:                      # two calls, two orders (equal by chance: 1 in 20!)
        assert not np.array_equal(*perms) and not np.array_equal(perms[0], np.arange(n))


def test_random_multinomial():
    probs = np.array([[0.0, 1.0, 2.0, 0.0, 3.0, 1.0],
                      [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                      [0.0, 0.0, 0.0, 0.0, 5.0, 0.0]])
    rng = np.random.default_rng(3)
    weights = K.from_numpy(probs)
    flat = weights.reshape(-1)
    for _ in range(5):                             # without replacement: never twice, never 0
        out = K.to_numpy(K.random_multinomial(K.empty((2, 4), np.int64), rng,
                                              K.as_strided(flat, 0, (2, 6), (6, 1)), False))
        for row, p in zip(out, probs):
            assert len(set(row.tolist())) == 4 and (p[row] > 0).all(), out
    np.testing.assert_array_equal(K.to_numpy(weights), probs)       # the caller's are intact
    # all of a row's nonzero categories, from a row of a strided (transposed) weights view
    columns = K.from_numpy(np.ascontiguousarray(probs.T)).reshape(-1)
    every = K.to_numpy(K.random_multinomial(K.empty((1, 4), np.int64), rng,
                                            K.as_strided(columns, 0, (1, 6), (1, 3)), False))
    assert sorted(every[0].tolist()) == [1, 2, 4, 5]
    n = 600                                        # a thread per row: draws run in series
    out = K.as_strided(K.from_numpy(np.full(3 * n, -1, np.int64)), 0, (3, n), (1, 3))
    draws = K.to_numpy(K.random_multinomial(out, rng, weights, True))   # a non-contiguous out
    for row, p in zip(draws, probs):
        counts = np.bincount(row, minlength=6)
        assert (counts[p == 0] == 0).all()
        expected = n * p / p.sum()
        assert (np.abs(counts - expected) <= 6 * np.sqrt(expected)).all(), (counts, expected)


def test_random_numbers_depend_on_the_seed_only():
    """A generator in the same state gives the same numbers; the next call, other numbers.
    Element i's number depends on (seed, i) alone: not on the grid nor on out's layout."""
    draws = {}
    for name, make in (("contiguous", lambda: K.empty((6, 5), np.float64)),
                       ("transposed", lambda: K.as_strided(K.empty((30,), np.float64), 0,
                                                           (6, 5), (1, 6)))):
        rng = np.random.default_rng(11)
        first = K.to_numpy(K.random_normal(make(), rng, 0.0, 1.0))
        second = K.to_numpy(K.random_normal(make(), rng, 0.0, 1.0))
        assert not np.array_equal(first, second)
        draws[name] = first, second
    np.testing.assert_array_equal(draws["contiguous"][0], draws["transposed"][0])
    np.testing.assert_array_equal(draws["contiguous"][1], draws["transposed"][1])
    a = K.to_numpy(K.random_uniform(K.empty((7,), np.float32), np.random.default_rng(5), 0, 1))
    b = K.to_numpy(K.random_uniform(K.empty((7,), np.float32), np.random.default_rng(5), 0, 1))
    np.testing.assert_array_equal(a, b)
    # the float32 and float64 streams come from the same bits: the top 24 of the 53
    c = K.to_numpy(K.random_uniform(K.empty((7,), np.float64), np.random.default_rng(5), 0, 1))
    np.testing.assert_array_equal(a, np.floor(c * 2 ** 24).astype(np.float32) / 2 ** 24)
    for fill, dtype in ((lambda out, rng: K.random_uniform(out, rng, 0.0, 1.0), np.float32),
                        (lambda out, rng: K.random_exponential(out, rng, 1.0), np.float64),
                        (lambda out, rng: K.random_integers(out, rng, 0, 10 ** 6), np.int64)):
        one = K.to_numpy(fill(K.empty((50,), dtype), np.random.default_rng(9)))
        two = K.to_numpy(fill(K.empty((50,), dtype), np.random.default_rng(9)))
        other = K.to_numpy(fill(K.empty((50,), dtype), np.random.default_rng(10)))
        np.testing.assert_array_equal(one, two)
        assert not np.array_equal(one, other)


def test_random_fills_only_out_and_empty_is_a_no_op():
    buf = K.from_numpy(np.full(12, -5.0, np.float32))
    K.random_uniform(K.as_strided(buf, 1, (2, 3), (6, 2)), np.random.default_rng(0), 0.0, 1.0)
    host = K.to_numpy(buf)
    written = np.zeros(12, bool)
    written[[1, 3, 5, 7, 9, 11]] = True
    assert (host[~written] == -5).all() and (host[written] >= 0).all()
    assert (host[written] < 1).all()
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    K.random_normal(K.empty((0, 4), np.float32), rng, 0.0, 1.0)
    assert rng.bit_generator.state == state                        # no seed drawn for nothing
