"""Run a benchmark with one of tinygrad_edu.speedups' tricks turned off (the plain path), to
time the trick: alternate runs of `python bench/bench_X.py` and of this.

    python bench/speedups_off.py exp bench/bench_elementwise.py
    python bench/speedups_off.py blas_threads bench/bench_mnist_mlp.py --epochs 3

    exp            the kernels call math.exp for float32 too, instead of speedups.exp_float32
    blas_threads   matmuls run BLAS on the process's thread count, however small they are

(512-bit vectors are opt-in, so the plain run is `bench_X.py` itself and the trick's run
`TINYGRAD_EDU_512BIT=1 python bench/bench_X.py`.) The trick is swapped out just after
tinygrad_edu.speedups is imported, so that a benchmark that sets thread counts before numpy
loads (bench_cnn.py) still does. Kernels compiled without the fast exp differ from the normal
ones under the same on-disk cache key, so each `exp` run uses a new, empty cache folder.
No file name starting with bench_: `tinygrad-edu bench` does not list this.
"""
from __future__ import annotations

import atexit
import importlib.abc
import importlib.util
import os
import runpy
import shutil
import sys
import tempfile


def _plain_exp(speedups) -> None:
    import math

    from numba import njit
    speedups.exp = njit(inline="always")(lambda x: math.exp(x))


def _plain_blas_threads(speedups) -> None:
    speedups.BLAS_SINGLE_THREAD_BELOW = 0


TRICKS = {"exp": _plain_exp, "blas_threads": _plain_blas_threads}


class _AfterImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Calls `patch(module)` once tinygrad_edu.speedups has been imported."""

    NAME = "tinygrad_edu.speedups"

    def __init__(self, patch):
        self.patch, self.loader, self.busy = patch, None, False

    def find_spec(self, name, path=None, target=None):
        # (tinygrad_edu's __getattr__ looks specs up without importing: this may run twice)
        if name != self.NAME or self.busy:
            return None
        self.busy = True
        try:
            spec = importlib.util.find_spec(name)          # the usual spec, found without us
        finally:
            self.busy = False
        self.loader = spec.loader
        return importlib.util.spec_from_file_location(name, spec.origin, loader=self)

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        sys.meta_path.remove(self)
        self.loader.exec_module(module)
        self.patch(module)


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in TRICKS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TRICKS)}}} bench/bench_X.py [its options]")
    trick, script = sys.argv[1], sys.argv[2]
    if trick == "exp":      # a fresh cache: the benchmarks compile in their warm-up anyway
        os.environ["NUMBA_CACHE_DIR"] = cache = tempfile.mkdtemp(prefix="tinygrad_edu_plain_exp_")
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
    sys.meta_path.insert(0, _AfterImport(TRICKS[trick]))
    sys.argv = [script, *sys.argv[3:]]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))   # for `import _common`
    print(f"[speedups_off: {trick} off]")
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
