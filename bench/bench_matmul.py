"""Matrix multiplication: the `matmul` primitive (BLAS through numpy) and the hand-written tiled
teaching kernel against numpy and PyTorch (CPU), measured in the same run.

    python bench/bench_matmul.py

512 x 512 float32 times 512 x 512 float32. Medians (see bench_elementwise.py); ratio < 1 means
ours is faster. BLAS, PyTorch and the tiled kernel all use every core, so on a machine that
other processes keep busy they can be many times slower than on an idle one.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tinygrad_edu import kernels_cpu as K  # noqa: E402
from _common import paired_medians  # noqa: E402

try:
    import torch
except ImportError:                          # torch is a test dependency only
    torch = None


def main() -> None:
    n = 512
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1, n, n)).astype(np.float32)
    b = rng.standard_normal((1, n, n)).astype(np.float32)
    out = np.empty((1, n, n), np.float32)
    reference = np.matmul(a, b)
    for primitive in (K.matmul, K.matmul_tiled):
        primitive(a, b, out)
        print(f"{primitive.__name__}: max |error| vs numpy {np.abs(out - reference).max():.1e}")

    # ours and numpy call the same BLAS and take turns; PyTorch (its own thread pool) and the
    # tiled kernel are timed in rounds of their own, so no pool's spinning slows another
    times = paired_medians({"matmul (BLAS)": lambda: K.matmul(a, b, out),
                            "numpy": lambda: np.matmul(a[0], b[0], out=out[0])}, 10)
    if torch is not None:
        ta, tb, tout = (torch.from_numpy(m[0]) for m in (a, b, out))
        times.update(paired_medians({"torch": lambda: torch.matmul(ta, tb, out=tout)}, 10))
    times["matmul_tiled (numba)"] = paired_medians(
        {"tiled": lambda: K.matmul_tiled(a, b, out)}, 1, 7)["tiled"]

    print(f"matmul {n}x{n} float32, medians")
    for label in ("matmul (BLAS)", "matmul_tiled (numba)"):
        t = times[label]
        torch_part = f"  ours/torch {t / times['torch']:6.2f}" if torch is not None else ""
        print(f"{label:<22} {t * 1e3:8.2f} ms  ours/numpy {t / times['numpy']:6.2f}{torch_part}")
    for label in ("numpy", "torch"):
        if label in times:
            print(f"{label:<22} {times[label] * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
