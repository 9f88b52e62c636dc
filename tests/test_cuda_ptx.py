"""The CUDA kernels compile for a real GPU, checked without one.

Numba's simulator runs kernels as Python, so it never type-checks them the way numba compiles
them for a GPU: a kernel can pass every simulator test and still fail to compile on real
hardware. This test closes that gap where the CUDA toolkit's compilers are installed (libNVVM
and NVRTC; no GPU or driver needed): in a subprocess with the simulator off, it runs the
primitives over representative dtypes and layouts, but instead of launching each kernel it
compiles it to PTX for compute capability 7.5 with the exact argument types of that launch.
Memory "on the device" is host memory there: nothing runs, only the compiler is exercised.

Skipped when the compilers are missing, and on a machine with a GPU, where every other CUDA
test compiles its kernels for real.
"""
import os
import subprocess
import sys

import pytest

import tinygrad_edu as tg

SKIP_EXIT = 3          # the subprocess's way of saying "cannot check here"


def test_every_kernel_compiles_to_ptx_for_a_real_gpu():
    if tg.cuda.is_available() and not tg.cuda.is_simulator():
        pytest.skip("a real GPU is present: the other CUDA tests compile every kernel for it")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0", PYTHONPATH=root)
    result = subprocess.run([sys.executable, os.path.abspath(__file__)], env=env, cwd=root,
                            capture_output=True, text=True, timeout=1200)
    if result.returncode == SKIP_EXIT:
        pytest.skip(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "0 failed" in result.stdout


# ------------------------------------------------------------------ the subprocess's work


def _setup():
    """numba.cuda with the simulator off, made to compile instead of run; None if the CUDA
    compilers are not installed."""
    import numpy as np
    from numba import cuda
    from numba.cuda.typing.typeof import typeof

    def probe(x):
        x[0] = 1.0
    try:
        cuda.compile_ptx(probe, (typeof(np.zeros(1, np.float32)),), cc=(7, 5))
    except Exception as e:      # libNVVM or NVRTC not found, or too old
        print(f"the CUDA compilers (libNVVM, NVRTC) are not usable here: "
              f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        sys.exit(SKIP_EXIT)
    import numba.cuda.dispatcher as dispatcher

    class ComputeCapability75:
        compute_capability = (7, 5)
    # Device functions ask the current GPU which architecture to compile for: say sm_75.
    dispatcher.get_current_device = lambda: ComputeCapability75()

    class HostBuffer(np.ndarray):
        """Host memory standing in for device memory (nothing is launched)."""
        def copy_to_host(self):
            return np.array(self)
    cuda.is_available = lambda: True
    cuda.device_array = lambda n, dtype: np.zeros(n, dtype).view(HostBuffer)
    cuda.to_device = lambda a: np.array(a).view(HostBuffer)
    return cuda, typeof, HostBuffer


def _compile_everything() -> None:
    import numpy as np
    cuda, typeof, HostBuffer = _setup()
    from tinygrad_edu import kernels_cuda as K
    from tinygrad_edu.nn.pooling import avg_windows, max_windows

    compiled, failures = {}, []

    def compile_instead_of_launch(kernel, blocks, threads, *args):
        signature = tuple(typeof(np.asarray(a) if isinstance(a, HostBuffer) else a)
                          for a in args)
        key = (id(kernel), signature)
        if key in compiled:
            return
        try:
            cuda.compile_ptx(kernel.py_func, signature, cc=(7, 5))
            compiled[key] = True
        except Exception as e:
            compiled[key] = False
            failures.append(f"{kernel.py_func.__qualname__} {signature}:\n{e}")
    K._launch = compile_instead_of_launch

    def arr(shape, dtype, value=1):
        return K.from_numpy(np.full(shape, value, dtype))

    def strided(shape, dtype):
        base = arr((2 * int(np.prod(shape)) + 3,), dtype)
        return K.as_strided(base, 1, shape, tuple(2 * s for s in K._contiguous_strides(shape)))

    floats, ints = (np.float32, np.float64), (np.int64,)
    for op in K.UNARY_OPS:
        kinds = (ints + (np.bool_,)) if op == "bitwise_not" else floats + ints
        for dt in kinds:
            if op in ("exp", "log", "sin", "gelu", "erf", "sigmoid", "tanh") and dt in ints:
                continue
            out = np.bool_ if op in ("isnan", "isinf", "logical_not") else dt
            K.unary(op, arr((3, 4), dt), arr((3, 4), out))
            K.unary(op, strided((3, 4), dt), strided((3, 4), out))
    comparisons = ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
                   "logical_xor")
    for op in K.BINARY_OPS:
        if op.startswith("bitwise"):
            dtypes = (np.int64, np.bool_)
        elif op in ("div", "atan2") or op.endswith("backward"):
            dtypes = floats
        else:
            dtypes = floats + ints
        for dt in dtypes:
            out = np.bool_ if op in comparisons else dt
            K.binary(op, arr((3, 4), dt), arr((3, 4), dt), arr((3, 4), out))
            K.binary(op, strided((3, 4), dt), strided((3, 4), dt), strided((3, 4), out))
    for src in floats + ints + (np.bool_,):
        for dst in floats + ints + (np.bool_,):
            K.copy(strided((2, 3), src), strided((2, 3), dst))
        K.fill(arr((4,), src), 1)
        K.where(strided((2, 2), np.bool_), strided((2, 2), src), arr((2, 2), src),
                arr((2, 2), src))
    for op in K.REDUCE_OPS:
        for dt in (np.float32, np.int64, np.bool_):
            acc = K._accumulator_dtype(op, np.dtype(dt))
            out = np.dtype(dt) if acc.kind == "f" or op in ("max", "min") else acc
            for n in (5, 100, 5000):           # short, block tree, split into two passes
                K.reduce(op, arr((3, n), dt), (1,), arr((3, 1), out))
    for op in K.ARGREDUCE_OPS:
        for dt in (np.float32, np.int64):
            K.argreduce(op, arr((4, 5), dt), 1, arr((4, 1), np.int64))
            K.argreduce(op, arr((4, 50), dt), 1, arr((4, 1), np.int64))
    for dt in (np.float32, np.float64, np.int64, np.bool_):
        K.matmul(arr((2, 3, 4), dt), arr((2, 4, 5), dt), arr((2, 3, 5), dt))
        K.matmul_tiled(arr((2, 3, 4), dt), arr((2, 4, 5), dt), arr((2, 3, 5), dt))
    for dt in (np.float32, np.int64, np.uint8):
        idx, i1 = arr((3, 4), np.int64, 0), arr((2,), np.int64, 0)
        K.gather(arr((3, 4), dt), 0, idx, arr((3, 4), dt))
        for reduce in (None, "add", "multiply"):
            K.scatter(arr((3, 4), dt), 0, idx, arr((3, 4), dt), reduce)
        K.index_select(arr((3, 4), dt), 0, i1, arr((2, 4), dt))
        K.index_add(arr((3, 4), dt), 0, i1, arr((2, 4), dt))
        K.take(arr((12,), dt), arr((5,), np.int64, 0), arr((5,), dt))
        K.put(arr((12,), dt), arr((5,), np.int64, 0), arr((5,), dt), True)
        K.sort(arr((3, 5), dt), 1, False, arr((3, 5), dt), arr((3, 5), np.int64))
        x = arr((3, 5), dt)
        K.nonzero(x)
        # (the write pass of nonzero runs only for a nonzero count: compile it directly)
        compile_instead_of_launch(K._write_nonzero_kernel, 1, 32, *K._args(x), x.strides,
                                  x.shape, 15, 1, 15, arr((15,), np.int64).buffer,
                                  arr((30,), np.int64).buffer, 2)
    for dt in floats:
        p, g = arr((10,), dt), arr((10,), dt)
        K.sgd_step(p, g, arr((10,), dt), 0.1, 0.9, 0.0, 0.01, True, False, False)
        K.adam_step(p, g, arr((10,), dt), arr((10,), dt), arr((10,), dt), 1e-3, 0.9, 0.999,
                    1e-8, 0.01, 3.0, True, False, True)
        K.rmsprop_step(p, g, arr((10,), dt), arr((10,), dt), arr((10,), dt), 1e-2, 0.99, 1e-8,
                       0.0, 0.9, True, False)
        K.adagrad_step(p, g, arr((10,), dt), 1e-2, 0.0, 1e-10, 0.0, 2.0, False)
        x, cols = arr((2, 3, 6, 6), dt), arr((2, 27, 36), dt)
        K.im2col(x, (3, 3), (1, 1), (1, 1), (1, 1), cols, (6, 6))
        K.col2im(cols, (3, 3), (1, 1), (1, 1), (1, 1), x, (6, 6))
        rows = max_windows(3, 6, 2, 2, 0, 1)
        out, indices = arr((2, 3, 3, 3), dt), arr((2, 3, 3, 3), np.int64, 0)
        K.max_pool2d(x, rows, rows, (1, 1), out, indices)
        K.max_pool2d_backward(out, indices, rows, rows, x)
        rows = avg_windows(3, 6, 2, 2, 0, True)
        K.avg_pool2d(x, rows, rows, out)
        K.avg_pool2d_backward(out, rows, rows, x)

    print("\n\n".join(failures))
    print(f"compiled {sum(compiled.values())} kernel signatures to PTX, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    _compile_everything()
