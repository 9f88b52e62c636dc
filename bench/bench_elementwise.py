"""Elementwise primitives against numpy and PyTorch (CPU), measured in the same run.

    python bench/bench_elementwise.py

Rows: add, mul and exp on 10^6 float32, by our default path (single-threaded below
kernels_cpu.PARALLEL_MIN = 2^20 elements) and by the multi-threaded loop forced on, then the cost
of one call on 11 floats, which is what a training loop over tiny tensors pays per op. Times are
medians of repeated runs; ratio < 1 means ours is faster. On a machine whose cores other
processes keep busy, every multi-threaded row (ours and PyTorch's) can be many times slower.
"""
from __future__ import annotations

import os
import statistics
import sys
import timeit

import numba
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tinygrad_edu import kernels_cpu as K  # noqa: E402

try:
    import torch
except ImportError:                          # torch is a test dependency only
    torch = None


def median_seconds(call, number: int, repeat: int = 15) -> float:
    """Median time of one call, from `repeat` batches of `number` calls (after a warm-up)."""
    call()
    return statistics.median(timeit.repeat(call, number=number, repeat=repeat)) / number


def ours(op: str, x, y, out):
    if op == "exp":
        return lambda: K.unary("exp", x, out)
    return lambda: K.binary(op, x, y, out)


def numpy_call(op: str, x, y, out):
    if op == "exp":
        return lambda: np.exp(x, out=out)
    return lambda: getattr(np, {"add": "add", "mul": "multiply"}[op])(x, y, out=out)


def torch_call(op: str, x, y, out):
    tx, ty, tout = (torch.from_numpy(a) for a in (x, y, out))
    if op == "exp":
        return lambda: torch.exp(tx, out=tout)
    return lambda: getattr(torch, op)(tx, ty, out=tout)


def threaded(call):
    """Run `call` with the parallel threshold lowered, so the multi-threaded loop runs."""
    def run():
        saved, K.PARALLEL_MIN = K.PARALLEL_MIN, 1 << 12
        try:
            call()
        finally:
            K.PARALLEL_MIN = saved
    return run


def row(label: str, t_ours: float, t_numpy: float, t_torch: float | None, unit: str) -> None:
    scale = {"ms": 1e3, "us": 1e6}[unit]
    torch_part = (f"  torch {t_torch * scale:8.3f} {unit}  ours/torch {t_ours / t_torch:5.2f}"
                  if t_torch else "")
    print(f"{label:<28} ours {t_ours * scale:8.3f} {unit}  numpy {t_numpy * scale:8.3f} {unit}"
          f"  ours/numpy {t_ours / t_numpy:5.2f}{torch_part}")


def main() -> None:
    rng = np.random.default_rng(0)
    n = 10**6
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    out = np.empty(n, np.float32)
    threads = f", torch threads {torch.get_num_threads()}" if torch else ", torch not installed"
    print(f"elementwise float32, medians (numba threads {numba.get_num_threads()}{threads})")
    for op in ("add", "mul", "exp"):
        t_numpy = median_seconds(numpy_call(op, x, y, out), 20)
        t_torch = median_seconds(torch_call(op, x, y, out), 20) if torch else None
        row(f"{op} 10^6", median_seconds(ours(op, x, y, out), 20), t_numpy, t_torch, "ms")
        row(f"{op} 10^6, threads forced", median_seconds(threaded(ours(op, x, y, out)), 20),
            t_numpy, t_torch, "ms")
    small = [rng.standard_normal(11).astype(np.float32) for _ in range(3)]
    for op in ("add", "mul", "exp"):
        t_torch = median_seconds(torch_call(op, *small), 2000) if torch else None
        row(f"{op} 11 floats (per call)", median_seconds(ours(op, *small), 2000),
            median_seconds(numpy_call(op, *small), 2000), t_torch, "us")


if __name__ == "__main__":
    main()
