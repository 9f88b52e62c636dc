# %% [markdown]
# # Kernels: loops, Numba and BLAS
#
# Every tensor operation is, underneath, a loop over numbers. Such a loop is called a
# *kernel*, and nearly all of deep learning is built from three shapes of it:
#
# - **elementwise**: out[i] = a[i] + b[i] (also exp, relu, ...), one result per element;
# - **reduction**: total = x[0] + x[1] + ... (also max, mean), many elements into one;
# - **matrix multiplication**: C[i, j] = Σₚ A[i, p]·B[p, j], the workhorse of every layer.
#
# This lesson writes the three as plain Python loops, then runs the very same loops compiled
# by Numba, then compares them with tinygrad_edu's own kernels and with BLAS, the tuned matrix
# library behind NumPy. It ends with a question every numeric kernel has to live with: why
# 0.1 + 0.2 is not 0.3.

# %%
import csv
import time
from decimal import Decimal
from fractions import Fraction

import numpy as np
from numba import njit

import tinygrad_edu as torch
from tinygrad_edu import kernels_cpu
from tinygrad_edu.lessons import output_folder

# The stepper predefines OUT; run as a plain script or a notebook, the lesson picks the default.
OUT = globals().get("OUT") or output_folder(4)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Three kernels as Python loops
#
# Written for NumPy arrays, index by index, the way a compiled kernel sees memory. Each is
# checked against NumPy on small inputs first: a fast kernel that computes the wrong thing is
# worth nothing.

# %%
def add_loop(a, b, out):
    for i in range(a.shape[0]):
        out[i] = a[i] + b[i]


def sum_loop(x):
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
    return total


def matmul_loop(A, B, C):
    n, k = A.shape
    m = B.shape[1]
    for i in range(n):
        for j in range(m):
            acc = 0.0
            for p in range(k):
                acc += A[i, p] * B[p, j]
            C[i, j] = acc


a, b = rng.standard_normal(7), rng.standard_normal(7)
out = np.empty(7)
add_loop(a, b, out)
A, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
C = np.empty((3, 5))
matmul_loop(A, B, C)
print("add matches NumPy:   ", np.allclose(out, a + b))
print("sum matches NumPy:   ", np.isclose(sum_loop(a), a.sum()))
print("matmul matches NumPy:", np.allclose(C, A @ B))

# %% [markdown]
# ## 2. Timing
#
# `best_time` runs a function a few times and keeps the fastest run: the slower runs measure
# whatever else the computer was doing. Elementwise ops and sums get 100 000 numbers; the
# Python matrix product gets 48×48 matrices (48³ ≈ 110 000 multiply-adds), since it is slow.
# To compare different sizes, the table shows a *rate*: millions of elements per second, or
# billions of floating-point operations per second (a matmul of n×n matrices does 2n³).
#
# These are measurements of one run on one machine: the numbers vary, the orders of magnitude
# do not. If the computer is busy with other work, the rows that use several threads (the
# primitives on large arrays, BLAS) suffer most, since their threads wait for free cores.

# %%
def best_time(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


N = 100_000
SMALL, LARGE = 48, 256
x, y, z = rng.standard_normal(N), rng.standard_normal(N), np.empty(N)
As, Bs, Cs = (rng.standard_normal((SMALL, SMALL)), rng.standard_normal((SMALL, SMALL)),
              np.empty((SMALL, SMALL)))
Al, Bl, Cl = (rng.standard_normal((LARGE, LARGE)), rng.standard_normal((LARGE, LARGE)),
              np.empty((LARGE, LARGE)))

rows = []   # (kernel, implementation, size, seconds)


def measure(kernel, implementation, size, fn, repeat=7):
    rows.append((kernel, implementation, size, best_time(fn, repeat)))


measure("add", "Python loop", N, lambda: add_loop(x, y, z), repeat=1)
measure("sum", "Python loop", N, lambda: sum_loop(x), repeat=1)
measure("matmul", "Python loop", SMALL, lambda: matmul_loop(As, Bs, Cs), repeat=1)
for kernel, implementation, size, seconds in rows:
    print(f"{kernel:>6}  {implementation:<12} size {size:>6}: {seconds * 1e3:8.1f} ms")

# %% [markdown]
# ## 3. The same loops, compiled by Numba
#
# Python is slow here because every `a[i] + b[i]` is a dozen interpreter steps: look up the
# objects, check their types, box the result in a new float object. Numba's `njit` reads the
# function's Python code and compiles it to machine code for the argument types of the first
# call (float64 arrays here); after that the loop runs as fast as C.
#
# Note that we compile *the same functions* as above, unchanged. Compilation happens at the
# first call, so we time that call separately.

# %%
add_jit, sum_jit, matmul_jit = njit(add_loop), njit(sum_loop), njit(matmul_loop)

start = time.perf_counter()
add_jit(x, y, z)
sum_jit(x)
matmul_jit(As, Bs, Cs)
compile_seconds = time.perf_counter() - start
print(f"first calls (compiling the three kernels): {compile_seconds:.2f} s")

measure("add", "Numba loop", N, lambda: add_jit(x, y, z))
measure("sum", "Numba loop", N, lambda: sum_jit(x))
measure("matmul", "Numba loop", SMALL, lambda: matmul_jit(As, Bs, Cs))
measure("matmul", "Numba loop", LARGE, lambda: matmul_jit(Al, Bl, Cl))

# %% [markdown]
# ## 4. tinygrad_edu's kernels and BLAS
#
# tinygrad_edu's tensors call a small set of *primitives* (docs/primitives.md), written once
# per device. `tinygrad_edu.kernels_cpu` holds the CPU ones, Numba kernels like yours with
# more care: they accept any strides (so views need no copy), use several threads for large
# arrays, and are cached on disk so that they compile once per machine, not once per run.
#
# For matmul there are two. `matmul_tiled` is a hand-written kernel that reorders the loops
# (our `matmul_loop` reads B down a column, jumping a whole row of memory at every step; the
# tiled kernel's inner loop runs along rows) and works on small square tiles so that the
# numbers in use stay in the CPU's cache. `matmul` hands the product to BLAS.
# BLAS libraries (OpenBLAS, MKL, Accelerate) are tuned per processor: cache blocking, vector
# instructions that do 4–16 multiply-adds at once, and all cores. The matmul primitives work
# on batches, shape (batch, rows, columns), hence the `[None]`.

# %%
total = np.empty(1)
measure("add", "primitive", N, lambda: kernels_cpu.binary("add", x, y, z))
measure("sum", "primitive", N, lambda: kernels_cpu.reduce("sum", x, (0,), total))
measure("matmul", "tiled", LARGE, lambda: kernels_cpu.matmul_tiled(Al[None], Bl[None], Cl[None]))
measure("matmul", "BLAS", LARGE, lambda: kernels_cpu.matmul(Al[None], Bl[None], Cl[None]))
At, Bt = torch.from_numpy(Al), torch.from_numpy(Bl)
measure("matmul", "tensor @", LARGE, lambda: At @ Bt)
measure("add", "NumPy", N, lambda: np.add(x, y, out=z))
measure("sum", "NumPy", N, lambda: x.sum())

# %% [markdown]
# ## 5. The table
#
# The last column compares each row's rate with the Python loop of the same kernel.

# %%
def rate(kernel, size, seconds):
    """Elements per second for add and sum; floating-point operations per second for matmul."""
    work = 2 * size**3 if kernel == "matmul" else size
    return work / seconds


def readable(number):
    return f"{number:.3g}" if number < 1000 else f"{number:,.0f}"


python_rate = {k: rate(k, s, t) for k, impl, s, t in rows if impl == "Python loop"}
print(f"{'kernel':<7} {'implementation':<14} {'size':>7} {'time':>10} {'rate':>16} "
      f"{'× Python':>9}")
for kernel, implementation, size, seconds in rows:
    r = rate(kernel, size, seconds)
    if kernel == "matmul":
        unit = f"{readable(r / 1e9)} GFLOP/s"
    else:
        unit = f"{readable(r / 1e6)} Melem/s"
    shown_size = f"{size}²" if kernel == "matmul" else f"{size}"
    print(f"{kernel:<7} {implementation:<14} {shown_size:>7} {seconds * 1e3:8.3f} ms "
          f"{unit:>16} {readable(r / python_rate[kernel]):>9}")

with open(OUT / "timings.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["kernel", "implementation", "size", "seconds"])
    writer.writerows(rows)

# %% [markdown]
# Compiling buys two to three orders of magnitude over the Python loop. For matmul, BLAS is
# another one or two ahead of our simple loops: the arithmetic is the same, what differs is
# how the data moves through the caches and how many multiply-adds run at once. That is why
# tinygrad_edu sends matrix products to BLAS and keeps `matmul_tiled` as a kernel to read.
#
# ## 6. Why 0.1 is not exact
#
# A float stores a number as m·2ᵉ: an integer m (24 significant bits in float32, 53 in
# float64) times a power of two. A fraction has an exact binary form only if its denominator
# is a power of two; 1/10 = 1/(2·5) is not, so its binary digits 0.000110011001100... repeat
# for ever and are cut off after 53 bits. What `0.1` stores is the nearest such fraction,
# slightly more than 0.1. `Fraction` and `Decimal` show the stored value exactly.

# %%
print("0.1 + 0.2 == 0.3 ?", 0.1 + 0.2 == 0.3, "  0.1 + 0.2 =", repr(0.1 + 0.2))
print("0.1 is stored as the fraction", Fraction(0.1))
print("               = the decimal ", Decimal(0.1))
print("in float32 it is           ", Decimal(float(np.float32(0.1))))
print("smallest step after 1.0:  float32", np.finfo(np.float32).eps,
      "  float64", np.finfo(np.float64).eps)
print("adding in another order:", repr((0.1 + 0.2) + 0.3), "vs", repr(0.1 + (0.2 + 0.3)))

# %% [markdown]
# Each addition rounds its result to the nearest representable number. One rounding is
# harmless; a million of them in a row add up, all the more in float32, whose numbers near
# 100 000 are 1/128 apart. Summing a million float32 copies of 0.1 shows it: a loop with a
# float32 running total drifts by almost 1 %, the same loop with a float64 total is right to
# the last digit float32 can show. tinygrad_edu's `reduce` primitive accumulates float32 sums
# in float64 for this reason. The habit to take away: compare floats with a tolerance
# (`math.isclose`, `np.allclose`), never with `==`.

# %%
@njit
def sum_float32(values):
    total = np.float32(0.0)          # the running total is a float32, like the data
    for i in range(values.shape[0]):
        total += values[i]
    return total


tenths = np.full(1_000_000, 0.1, dtype=np.float32)
exact = Fraction(float(np.float32(0.1))) * len(tenths)     # the true sum of the stored values
reduced = np.empty(1, dtype=np.float32)
kernels_cpu.reduce("sum", tenths, (0,), reduced)
sums = {"float32 total": float(sum_float32(tenths)),
        "float64 total": float(sum_jit(tenths)),           # sum_loop's total starts as a float64
        "reduce primitive": float(reduced[0]),
        "tensor .sum()": torch.from_numpy(tenths).sum().item()}
print(f"exact sum of the stored values: {float(exact):.6f}")
for name, value in sums.items():
    print(f"{name:>17}: {value:14.6f}   error {abs(value - float(exact)):.6f}")

# %% [markdown]
# ## Checks
#
# The kernels must agree with NumPy (within rounding: the orders of the additions differ), and
# the float facts above must hold. Timings are printed, never asserted: they depend on the
# machine (tinygrad_edu's benchmarks live in `bench/`).

# %%
import math

fresh_x, fresh_y = rng.standard_normal(1000), rng.standard_normal(1000)
got = np.empty(1000)
add_jit(fresh_x, fresh_y, got)
assert np.array_equal(got, fresh_x + fresh_y)
kernels_cpu.binary("add", fresh_x, fresh_y, got)
assert np.array_equal(got, fresh_x + fresh_y)
assert math.isclose(sum_jit(fresh_x), fresh_x.sum(), rel_tol=1e-12, abs_tol=1e-12)
kernels_cpu.reduce("sum", fresh_x, (0,), total)
assert math.isclose(total[0], fresh_x.sum(), rel_tol=1e-12, abs_tol=1e-12)

expected = Al @ Bl
for kernel in (matmul_jit, lambda A, B, C: kernels_cpu.matmul_tiled(A[None], B[None], C[None]),
               lambda A, B, C: kernels_cpu.matmul(A[None], B[None], C[None])):
    Cl[...] = np.nan
    kernel(Al, Bl, Cl)
    assert np.allclose(Cl, expected, rtol=1e-10, atol=1e-10)
assert np.allclose((At @ Bt).numpy(), expected, rtol=1e-10, atol=1e-10)
strided = Al[::2, ::3]              # a non-contiguous view: the primitive follows its strides
half = np.empty((1, strided.shape[0], strided.shape[0]))
kernels_cpu.matmul_tiled(strided[None], strided.T[None], half)
assert np.allclose(half[0], strided @ strided.T)

# floating point
assert 0.1 + 0.2 != 0.3 and math.isclose(0.1 + 0.2, 0.3)
assert Fraction(0.1) == Fraction(3602879701896397, 2**55) and Fraction(0.1) > Fraction(1, 10)
assert float(np.float32(0.1)) != 0.1
assert abs(sums["float32 total"] - float(exact)) > 100          # the drift is real
assert abs(sums["reduce primitive"] - float(exact)) < 0.01      # float64 accumulation
assert abs(sums["tensor .sum()"] - float(exact)) < 0.01

assert len(rows) == 14 and all(seconds > 0 for *_, seconds in rows)
assert (OUT / "timings.csv").read_text().count("\n") == len(rows) + 1
print("All checks passed.")
