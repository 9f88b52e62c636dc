"""Each speed trick of tinygrad_edu.speedups agrees with the plain path it replaces."""
from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from llvmlite import binding
from numba import njit

from tinygrad_edu import kernels_cpu as K
from tinygrad_edu import speedups

# ------------------------------------------------------------------------ float32 exp by hand

EXP_ULP_BOUND = 1.05    # an exhaustive run over every float32 in [-104, 89] measured 1.01 ulp


@njit
def _fast_exp_loop(x, out):
    for i in range(x.size):
        out[i] = speedups.exp(x[i])


@njit
def _plain_exp_loop(x, out):        # the plain path: the C library's exp, per element
    for i in range(x.size):
        out[i] = math.exp(x[i])


def _ulp_error(actual32, exact64):
    """|actual - exact| in units of the float32 spacing at the correctly rounded result."""
    rounded = exact64.astype(np.float32)
    spacing = np.spacing(np.abs(rounded)).astype(np.float64)
    spacing[rounded == 0] = 2.0**-149
    return np.abs(actual32.astype(np.float64) - exact64) / spacing


def _both_exps(x):
    fast, plain = np.empty_like(x), np.empty_like(x)
    _fast_exp_loop(x, fast)
    _plain_exp_loop(x, plain)
    return fast, plain


def test_fast_exp_agrees_with_the_plain_exp_within_the_ulp_bound():
    """2^16 float32 spread over the whole range, every float32 just below the overflow edge
    and just above the underflow-to-0 edge, and subnormal and tiny inputs."""
    tiny = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-38, -1e-38, 1e-30, -1e-30, 1e-8, -1e-8],
                    np.float32)
    top = np.float32(88.72).view(np.int32)
    bottom = np.float32(-103.9).view(np.int32)
    x = np.concatenate([np.linspace(-104.0, 89.0, 1 << 16).astype(np.float32), tiny,
                        np.arange(top, top + 2000, dtype=np.int32).view(np.float32),
                        np.arange(bottom, bottom + 2000, dtype=np.int32).view(np.float32)])
    fast, plain = _both_exps(x)
    exact = np.exp(x.astype(np.float64))
    finite = exact < np.finfo(np.float32).max
    assert np.all(fast[~finite] == np.inf) and np.all(plain[~finite] == np.inf)
    assert _ulp_error(fast[finite], exact[finite]).max() <= EXP_ULP_BOUND
    assert _ulp_error(plain[finite], exact[finite]).max() <= EXP_ULP_BOUND   # the reference
    assert np.all(fast[x == 0] == 1.0)


def test_fast_exp_special_values_are_those_of_the_plain_exp():
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 89.0, 1000.0, 3.4e38, -104.0, -1000.0,
                  -3.4e38, 88.72283, -87.33655, -103.97208], np.float32)
    fast, plain = _both_exps(x)
    assert np.isnan(fast[:2]).all() and np.isnan(plain[:2]).all()
    np.testing.assert_array_equal(fast[2:10], plain[2:10])         # inf, 0: exactly
    np.testing.assert_array_equal(fast[2:10], [np.inf, 0, np.inf, np.inf, np.inf, 0, 0, 0])
    assert _ulp_error(fast[10:], np.exp(x[10:].astype(np.float64))).max() <= EXP_ULP_BOUND


def test_float64_exp_is_the_plain_exp():
    x = np.array([0.0, -1.5, 1e-310, 700.0, 710.0, -745.0, np.inf, -np.inf], np.float64)
    fast, plain = _both_exps(x)
    np.testing.assert_array_equal(fast, plain)
    np.testing.assert_array_equal(fast, [math.exp(v) if v < 710 else np.inf for v in x])


def test_the_kernels_exp_and_sigmoid_are_the_fast_exp():
    x = np.linspace(-30, 30, 1001).astype(np.float32)
    fast, out = np.empty_like(x), np.empty_like(x)
    _fast_exp_loop(x, fast)
    K.unary("exp", x, out)              # the kernels may fuse multiply-adds (FMA): 1 ulp apart
    assert _ulp_error(out, fast.astype(np.float64)).max() <= 1.0
    assert _ulp_error(out, np.exp(x.astype(np.float64))).max() <= EXP_ULP_BOUND
    K.unary("sigmoid", x, out)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-x.astype(np.float64))), rtol=3e-7)


def test_tanh_is_the_plain_tanh():
    """The hand-written float32 tanh was removed (no benchmark showed its gain)."""
    x = np.array([0.0, -0.0, 1e-40, 0.3, -0.625, 2.0, -9.0, 50.0, np.inf, -np.inf, np.nan],
                 np.float32)
    out = np.empty_like(x)
    K.unary("tanh", x, out)
    np.testing.assert_allclose(out, np.tanh(x), rtol=2.5e-7, equal_nan=True)
    assert np.signbit(out[1]) and not hasattr(speedups, "tanh_float32")


# ------------------------------------------------------------------ BLAS threads, per call


@pytest.fixture
def numpy_blas():
    """numpy's BLAS through threadpoolctl, on two threads for the test (then as it was)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    controller = speedups._find_numpy_blas()
    if controller is None:
        pytest.skip("numpy's BLAS is not visible to threadpoolctl")
    with threadpoolctl.ThreadpoolController().select(
            filepath=[lib.filepath for lib in controller.lib_controllers]).limit(limits=2):
        yield controller.lib_controllers[0]


def test_small_matmuls_get_one_blas_thread_for_the_call_only(numpy_blas):
    before = numpy_blas.get_num_threads()
    with speedups.blas_threads(64 * 784 * 128):
        assert numpy_blas.get_num_threads() == 1
    assert numpy_blas.get_num_threads() == before
    with speedups.blas_threads(speedups.BLAS_SINGLE_THREAD_BELOW):
        assert numpy_blas.get_num_threads() == before          # big ones: left alone


def test_matmul_restores_the_blas_threads_and_agrees_with_numpy(numpy_blas):
    before = numpy_blas.get_num_threads()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 16, 24)).astype(np.float32)
    b = rng.standard_normal((2, 24, 8)).astype(np.float32)
    out = np.empty((2, 16, 8), np.float32)
    K.matmul(a, b, out)
    assert numpy_blas.get_num_threads() == before
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError):            # restored on the way out of an error as well
        with speedups.blas_threads(1):
            raise ValueError
    assert numpy_blas.get_num_threads() == before


# --------------------------------------------------------------------- 512-bit vectors, opt-in


def _run_fresh(code: str, env: dict | None = None) -> str:
    """What `code` prints in a new Python process with no Numba CPU settings and no
    TINYGRAD_EDU_512BIT in its environment, plus `env`."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("NUMBA_CPU_FEATURES", "NUMBA_CPU_NAME", speedups.ENV_512_BIT)}
    done = subprocess.run([sys.executable, "-W", "always", "-c", code], env=clean | (env or {}),
                          capture_output=True, text=True, timeout=120, check=True)
    return (done.stdout.strip() + "\n" + done.stderr.strip()).strip()


FEATURES_AFTER_AN_OP = ("import os, tinygrad_edu as tg\n"
                        "(tg.ones(3) * 2).exp()\n"
                        "print(os.environ.get('NUMBA_CPU_FEATURES', '<unset>'))")


def test_without_the_opt_in_nothing_touches_numba_cpu_features():
    assert _run_fresh(FEATURES_AFTER_AN_OP) == "<unset>"
    assert _run_fresh(FEATURES_AFTER_AN_OP, {speedups.ENV_512_BIT: "0"}) == "<unset>"


def test_the_opt_in_sets_512_bit_vectors_on_avx512_hosts_only():
    host = binding.get_host_cpu_features()
    seen = _run_fresh("import os, tinygrad_edu.kernels_cpu\n"
                      "print(os.environ.get('NUMBA_CPU_FEATURES', '<unset>'))",
                      {speedups.ENV_512_BIT: "1"})
    assert seen == (host.flatten() + ",-prefer-256-bit" if host.get("avx512f") else "<unset>")


def test_a_users_numba_cpu_features_are_kept_even_with_the_opt_in():
    seen = _run_fresh("import os, tinygrad_edu.kernels_cpu\n"
                      "print(os.environ['NUMBA_CPU_FEATURES'])",
                      {"NUMBA_CPU_FEATURES": "+sse2", speedups.ENV_512_BIT: "1"})
    assert seen == "+sse2"


def test_the_opt_in_after_numba_compiled_something_warns_and_changes_nothing():
    if not binding.get_host_cpu_features().get("avx512f"):
        pytest.skip("not an AVX-512 processor")
    said = _run_fresh("import os\n"
                      "from numba import njit\n"
                      "njit(lambda: 1)()\n"
                      "import tinygrad_edu.kernels_cpu\n"
                      "print(os.environ.get('NUMBA_CPU_FEATURES', '<unset>'))",
                      {speedups.ENV_512_BIT: "1"})
    assert said.startswith("<unset>") and "TINYGRAD_EDU_512BIT=1 is ignored" in said


def test_results_with_512_bit_vectors_agree_with_the_plain_ones():
    if not binding.get_host_cpu_features().get("avx512f"):
        pytest.skip("not an AVX-512 processor")
    x = np.linspace(-20, 20, 100).astype(np.float32)
    code = ("import numpy as np, tinygrad_edu.kernels_cpu as K\n"
            "x = np.linspace(-20, 20, 100).astype(np.float32)\n"
            "out = np.empty_like(x)\n"
            "K.unary('exp', x, out)\n"
            "print(out.tobytes().hex())")
    wide = np.frombuffer(bytes.fromhex(_run_fresh(code, {speedups.ENV_512_BIT: "1"})),
                         np.float32)
    plain = np.empty_like(x)
    K.unary("exp", x, plain)
    assert _ulp_error(wide, plain.astype(np.float64)).max() <= 1.0
