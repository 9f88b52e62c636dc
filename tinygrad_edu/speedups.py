"""The speed tricks of the CPU kernels, all in one place (kernels_cpu.py keeps the plain path).

Each trick below says what it does, why it is faster, which benchmark shows it and by how
much; a trick stays only if it gains at least 5 % on a benchmark workload (bench/). Each has a
test that it agrees with the plain path (tests/test_speedups.py).

    exp             float32 e**x as plain arithmetic, which LLVM vectorizes (Numba's math.exp
                    calls the C library once per element).                 KEPT, always on.
                    bench_elementwise "exp 10^6": 0.288 ms with it, 3.55 ms without (numpy
                    0.582 / 0.502 ms, PyTorch on 1 thread 1.20 / 1.64 ms in the same runs).
                    "exp 11 floats": 0.554 vs 0.575 us (per-call overhead; noise level).
    blas_threads    one BLAS thread for small matmuls, for the call only (threadpoolctl's
                    context manager).                                      KEPT, always on.
                    bench_mnist_mlp epoch, with one other busy process on the 2 cores:
                    214 ms with it, 830 ms without (PyTorch 1646 / 1266 ms). On the quiet
                    machine no difference: 242 vs 240 ms (PyTorch 210 / 3235 ms: other
                    people's jobs came and went), but without it single epochs collapsed to
                    1.5-3.7 s when the load rose; with it the slowest median was 327 ms.
    512-bit vectors LLVM's AVX-512 code 16 float32 wide instead of 8, through
                    NUMBA_CPU_FEATURES.                        OPT-IN: TINYGRAD_EDU_512BIT=1.
                    Not measurable here: on this AMD Zen 4 LLVM emits 512-bit code without
                    being asked (the exp kernel's machine code is identical either way;
                    "exp 10^6" 0.273 vs 0.271 ms). Its gain is on Intel AVX-512 chips.

Removed: the hand-written float32 tanh (Cephes' tanhf on top of the exp below; the old comment
said ~50x faster than the C library's on 10^6 floats). No benchmark workload calls tanh, so
no benchmark showed a gain; kernels_cpu uses math.tanh (the C library's tanhf, <= 2.03 ulp).

Figures: medians of alternated runs with the trick on and off (3 pairs for exp and 512-bit;
5 pairs quiet and 3 pairs loaded for blas_threads, whose loaded runs trained 3 epochs), on a
shared 2-core AMD EPYC (Zen 4, AVX-512), numba 0.68, OpenBLAS 0.3.31 on 2 threads, PyTorch
2.13 on 2 threads. bench_cnn (everything on one thread: blas_threads has nothing to limit;
exp only in log_softmax over 64 x 10 logits) and bench_thermometer (no matmul, no exp) do not
exercise these tricks. To time a trick off, run a benchmark through bench/speedups_off.py:
`python bench/speedups_off.py exp bench/bench_elementwise.py` (it swaps in the plain path
before any kernel compiles).

Numba's on-disk cache keys a kernel on its own file (kernels_cpu.py), not on the files of the
functions it inlines: after editing the exp below, touch kernels_cpu.py (or delete its
__pycache__) so that the kernels are compiled again.
"""
from __future__ import annotations

import contextlib
import math
import os
import warnings

import numba
import numpy as np
from llvmlite import binding as llvm_binding
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic, overload

__all__ = ["exp", "exp_float32", "blas_threads", "BLAS_SINGLE_THREAD_BELOW",
           "use_512_bit_vectors_if_asked", "ENV_512_BIT"]


# ====================================================================== 1. float32 exp by hand
# What: e**x for float32 computed with float32 multiplies and adds and two bit casts, instead
#   of a call to the C library's expf.
# Why faster: Numba compiles math.exp(float32) to one call of the C library per element, which
#   LLVM cannot vectorize; numpy's exp is SIMD and ~7x faster. Plain arithmetic, without
#   branches, lets LLVM vectorize the kernel's loop (8 or 16 lanes).
# Benchmark: bench_elementwise, row "exp 10^6" (10^6 float32): 0.288 ms with it, 3.55 ms with
#   math.exp (12x); numpy 0.58 / 0.50 ms in the same runs. Row "exp 11 floats": 0.554 vs
#   0.575 us (the per-call overhead dominates). The training benchmarks call exp only in
#   log_softmax over 64 x 10 logits, where it does not show.
# Accuracy: at most 1.01 ulp from the correctly rounded result (measured over all 2^31 float32
#   in [-104, 89]); 0, +-inf, NaN, overflow to inf and underflow through subnormals to 0 as
#   IEEE. float64 (and integer) inputs use math.exp.


@intrinsic
def float32_from_bits(typingctx, bits):
    """The float32 whose 32 bits are those of the int32 `bits` (C: a union; no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.FloatType())
    return types.float32(types.int32), codegen


_ONE = np.float32(1.0)
_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)        # ln 2 = _LN2_HI + _LN2_LO; _LN2_HI has 9 bits, so
_LN2_LO = np.float32(-2.12194440e-4)     # k * _LN2_HI is exact for every k used below
_EXP_P = tuple(np.float32(c) for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                       4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
_EXP_MIN, _EXP_MAX = np.float32(-104.0), np.float32(89.0)  # beyond these: 0 and inf
_EXP_BIAS, _MANTISSA_BITS, _I32_ONE = np.int32(127), np.int32(23), np.int32(1)


def exp_float32(x):
    """e**x for float32 x without a library call; compiled into the kernels through `exp`.
    (Not an @njit function of its own: making a Numba dispatcher at import would fix Numba's
    CPU target before the 512-bit vectors below could be asked for.)

    Range reduction (Cody–Waite): x = k ln2 + r with k = rint(x / ln2), so |r| <= ln2 / 2 and
    e**x = 2**k e**r. r is computed in two steps (k ln2_hi is exact) to keep its low bits.
    e**r = 1 + r + r^2 p(r) with p the degree-5 minimax polynomial of Cephes' expf.
    2**k is built from bits: a float32 with exponent field k + 127 and zero mantissa. k reaches
    -150 for the subnormal results, below the smallest exponent (-126), so it is applied in
    two halves. x is clamped first so that k stays in range; large x then overflows to inf and
    very negative x underflows to 0 through the arithmetic itself. NaN is passed through.
    """
    p0, p1, p2, p3, p4, p5 = _EXP_P
    xc = min(max(x, _EXP_MIN), _EXP_MAX)
    k = np.rint(xc * _LOG2E)
    r = (xc - k * _LN2_HI) - k * _LN2_LO
    p = ((((p0 * r + p1) * r + p2) * r + p3) * r + p4) * r + p5
    er = (p * (r * r) + r) + _ONE
    k1 = np.int32(k) >> _I32_ONE
    k2 = np.int32(k) - k1
    y = er * float32_from_bits((k1 + _EXP_BIAS) << _MANTISSA_BITS) \
        * float32_from_bits((k2 + _EXP_BIAS) << _MANTISSA_BITS)
    return y if x == x else x


def exp(x):
    """e**x as the kernels compute it: exp_float32 for a float32, math.exp for anything else
    (Numba picks the body from x's type when it compiles a kernel)."""
    return math.exp(x)


@overload(exp, inline="always")
def _exp_typed(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return exp_float32
    return lambda x: math.exp(x)


# ================================================================ 2. BLAS threads per matmul
# What: a matmul of fewer than BLAS_SINGLE_THREAD_BELOW multiply-adds runs with numpy's BLAS
#   limited to one thread, inside a `with` block around that one call (threadpoolctl's
#   context manager); the count the process had is back as soon as the call returns. Bigger
#   matmuls run with whatever the process has.
# Why faster: a batch-64 MLP layer's product (64 x 784 x 128) is too small to share: a
#   second thread has to be woken for it, and on a busy machine OpenBLAS's threads spin
#   waiting for a descheduled sibling: 0.32 ms on one thread, 0.65 ms on two, measured on the
#   2-core machine below while it was busy.
# Benchmark: bench_mnist_mlp, epoch time (batches of 64). With one other busy process on the
#   two cores: 214 ms with it, 830 ms with BLAS on its default two threads (PyTorch 1646 /
#   1266 ms in the same runs). On the quiet machine it neither gains nor loses: 242 vs 240 ms;
#   but there too single runs without it collapsed to 1.5-3.7 s per epoch whenever other jobs
#   started, and with it no run's median passed 327 ms. bench_cnn runs everything on one
#   thread (its --threads 1), and bench_thermometer and bench_elementwise have no matmul.
# Cost: ~2 us per matmul (threadpoolctl's `threadpool_limits(...)` would scan every loaded
#   library on each call, ~0.9 ms, more than the matmul; its `controller.limit()` on a kept
#   controller ~7 us: _OneThread sets and restores the threads of the kept controllers only).

# Below this many multiply-adds a matmul runs on one BLAS thread.
BLAS_SINGLE_THREAD_BELOW = 1 << 24
_numpy_blas: list = []   # [the ThreadpoolController of numpy's BLAS, or None], found on first use


def _find_numpy_blas():
    """A ThreadpoolController of numpy's BLAS only (None if threadpoolctl is missing or
    cannot drive it). Other libraries (PyTorch, say) may bring a BLAS of their own."""
    try:
        from threadpoolctl import ThreadpoolController
        blas = ThreadpoolController().select(user_api="blas")
        ours = [lib.filepath for lib in blas.lib_controllers if "numpy" in lib.filepath]
        controller = blas.select(filepath=ours) if ours else blas
    except Exception:        # threadpoolctl missing, or a BLAS it cannot drive: leave BLAS alone
        return None
    return controller if controller.lib_controllers else None


def blas_threads(work: int):
    """A context manager for one matmul of `work` multiply-adds: numpy's BLAS limited to one
    thread inside it if work < BLAS_SINGLE_THREAD_BELOW, else (or without threadpoolctl)
    nothing changed."""
    if work >= BLAS_SINGLE_THREAD_BELOW:
        return contextlib.nullcontext()
    if not _numpy_blas:
        _numpy_blas.append(_find_numpy_blas())
    controller = _numpy_blas[0]
    if controller is None:
        return contextlib.nullcontext()
    return _OneThread(controller.lib_controllers)


class _OneThread:
    """Inside `with`: each of numpy's BLAS libraries (threadpoolctl's controllers of them) on
    one thread; on exit, error or not, each back on what it had. (threadpoolctl's own
    `controller.limit()` does the same but reads every library's whole state on entry: 7.4 us
    against 1.8 here, per matmul.)"""

    __slots__ = ("libs", "before")

    def __init__(self, libs):
        self.libs = libs

    def __enter__(self):
        self.before = [lib.get_num_threads() for lib in self.libs]
        for lib, n in zip(self.libs, self.before):
            if n != 1:
                lib.set_num_threads(1)
        return self

    def __exit__(self, *exc) -> None:
        for lib, n in zip(self.libs, self.before):
            if n != 1:
                lib.set_num_threads(n)


# ==================================================================== 3. 512-bit vectors, opt-in
# What: on an AVX-512 processor, tell LLVM to vectorize loops 16 float32 wide (zmm registers)
#   rather than 8, through Numba's documented setting NUMBA_CPU_FEATURES (the host's features
#   minus LLVM's "prefer-256-bit" tuning of many Intel AVX-512 chips, whose clock slowed under
#   512-bit code).
# Why faster: compute-bound loops such as the float32 exp above do twice the work per
#   instruction. The old comment's figure, from an Intel AVX-512 machine: 10^6 float32 exps
#   took 1.05x numpy's time with 256-bit vectors and 0.70x with 512 (not re-measured here).
# Benchmark: none here. On the AMD Zen 4 of the figures above the exp kernel compiles to the
#   same machine code with and without it; bench_elementwise "exp 10^6" 0.273 vs 0.271 ms.
# Why opt-in: it changes how Numba compiles every function of the process (the user's own
#   too), it must be decided before Numba compiles its first CPU function, and it is part of
#   Numba's on-disk cache key; an import should not do that behind the user's back. Its gain
#   could not be measured here, so it stays opt-in.
# How: TINYGRAD_EDU_512BIT=1 in the environment; read when kernels_cpu is imported, which
#   tinygrad_edu does at the first CPU kernel it runs. A NUMBA_CPU_FEATURES or NUMBA_CPU_NAME
#   the user set is always kept, and nothing happens on a processor without AVX-512.

ENV_512_BIT = "TINYGRAD_EDU_512BIT"


def _numba_cpu_target_started() -> bool:
    """Whether Numba has set up its CPU target (it does before compiling its first function);
    after that a change of NUMBA_CPU_FEATURES would not apply, yet would enter cache keys."""
    target = getattr(numba.core.registry, "cpu_target", None)
    return target is not None and "_toplevel_target_context" in vars(target)


def use_512_bit_vectors_if_asked() -> bool:
    """Let LLVM use 512-bit vectors if the user set TINYGRAD_EDU_512BIT=1 (see above). Returns
    whether it changed Numba's CPU features."""
    if os.environ.get(ENV_512_BIT, "").strip().lower() not in ("1", "true", "yes", "on"):
        return False
    if "NUMBA_CPU_FEATURES" in os.environ or "NUMBA_CPU_NAME" in os.environ:
        return False                     # the user's own setting wins
    features = llvm_binding.get_host_cpu_features()
    if not features.get("avx512f"):
        return False
    if _numba_cpu_target_started():
        warnings.warn(f"{ENV_512_BIT}=1 is ignored: Numba compiled a function before "
                      "tinygrad_edu's first kernel, and its CPU target is fixed by then; "
                      "import tinygrad_edu.kernels_cpu first", RuntimeWarning, stacklevel=2)
        return False
    os.environ["NUMBA_CPU_FEATURES"] = features.flatten() + ",-prefer-256-bit"
    numba.core.config.reload_config()    # Numba read its settings when it was imported
    return True
