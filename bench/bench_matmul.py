"""Matrix multiplication: the `matmul` primitive (BLAS through numpy) and the hand-written tiled
teaching kernel against numpy and PyTorch (CPU), measured in the same run.

    python bench/bench_matmul.py

512 x 512 float32 times 512 x 512 float32; medians; ratio < 1 means faster.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_elementwise import K, median_seconds, torch  # noqa: E402


def main() -> None:
    n = 512
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1, n, n)).astype(np.float32)
    b = rng.standard_normal((1, n, n)).astype(np.float32)
    out = np.empty((1, n, n), np.float32)

    t_numpy = median_seconds(lambda: np.matmul(a[0], b[0], out=out[0]), 10)
    if torch is not None:
        ta, tb, tout = (torch.from_numpy(m[0]) for m in (a, b, out))
        t_torch = median_seconds(lambda: torch.matmul(ta, tb, out=tout), 10)
    reference = np.matmul(a, b)
    print(f"matmul {n}x{n} float32, medians")
    for label, primitive, number in (("matmul (BLAS)", K.matmul, 10),
                                     ("matmul_tiled (numba)", K.matmul_tiled, 3)):
        t = median_seconds(lambda: primitive(a, b, out), number, 7)
        error = np.abs(out - reference).max()
        torch_part = f"  ours/torch {t / t_torch:6.2f}" if torch is not None else ""
        print(f"{label:<22} {t * 1e3:8.2f} ms  ours/numpy {t / t_numpy:6.2f}{torch_part}"
              f"  (max |error| {error:.1e})")
    print(f"{'numpy':<22} {t_numpy * 1e3:8.2f} ms")
    if torch is not None:
        print(f"{'torch':<22} {t_torch * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
