"""Elementwise primitives against numpy and PyTorch (CPU), measured in the same run.

    python bench/bench_elementwise.py

Rows: add, mul and exp on 10^6 float32, by our default path (single-threaded below
kernels_cpu.PARALLEL_MIN = 2^20 elements) and by the multi-threaded loop forced on; then the
cost of one call on 11 floats, which is what a training loop over tiny tensors pays per op.
Columns: numpy (single-threaded), PyTorch on one thread and on all its threads.

Times are medians. Single-threaded contenders take turns in every round, so that a machine
whose load changes during the run slows them alike; multi-threaded ones are timed in rounds of
their own, after them (thread pools keep spinning for a while after their work, which would
slow whatever runs next). Ratio < 1 means ours is faster. On a machine whose cores other
processes keep busy, every multi-threaded number can be many times slower than on an idle one.
"""
from __future__ import annotations

import os
import sys

import numba
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tinygrad_edu import kernels_cpu as K  # noqa: E402
from _common import paired_medians  # noqa: E402

try:
    import torch
except ImportError:                          # torch is a test dependency only
    torch = None


def ours(op: str, x, y, out):
    if op == "exp":
        return lambda: K.unary("exp", x, out)
    return lambda: K.binary(op, x, y, out)


def numpy_call(op: str, x, y, out):
    if op == "exp":
        return lambda: np.exp(x, out=out)
    return lambda: getattr(np, {"add": "add", "mul": "multiply"}[op])(x, y, out=out)


def torch_call(op: str, x, y, out, threads: int | None = None):
    tx, ty, tout = (torch.from_numpy(a) for a in (x, y, out))
    run = (lambda: torch.exp(tx, out=tout)) if op == "exp" else \
        (lambda: getattr(torch, op)(tx, ty, out=tout))
    if threads is None:
        return run

    def on_threads():
        saved = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            run()
        finally:
            torch.set_num_threads(saved)
    return on_threads


def threaded(call):
    """Run `call` with the parallel threshold lowered, so the multi-threaded loop runs."""
    def run():
        saved, K.PARALLEL_MIN = K.PARALLEL_MIN, 1 << 12
        try:
            call()
        finally:
            K.PARALLEL_MIN = saved
    return run


def measure(op: str, arrays: list, number: int, with_threads: bool) -> dict:
    """Median seconds per call: single-threaded contenders first, then multi-threaded ones."""
    calls = {"ours": ours(op, *arrays), "numpy": numpy_call(op, *arrays)}
    if torch is not None:
        calls["torch 1 thread"] = torch_call(op, *arrays, threads=1)
    times = paired_medians(calls, number)
    threads = {"ours, threads": threaded(ours(op, *arrays))} if with_threads else {}
    if torch is not None:
        threads["torch"] = torch_call(op, *arrays)
    times.update(paired_medians(threads, number))
    return times


def report(label: str, times: dict, unit: str) -> None:
    scale = {"ms": 1e3, "us": 1e6}[unit]
    parts = [f"{label:<14}"]
    for name, t in times.items():
        ratio = "" if name == "ours" else f" ({times['ours'] / t:4.2f})"
        parts.append(f"{name} {t * scale:7.3f}{ratio}")
    print("  ".join(parts) + f"   [{unit}; (ours / that)]")


def main() -> None:
    rng = np.random.default_rng(0)
    n = 10**6
    big = [rng.standard_normal(n).astype(np.float32) for _ in range(3)]
    small = [rng.standard_normal(11).astype(np.float32) for _ in range(3)]
    threads = f", torch threads {torch.get_num_threads()}" if torch else ", no torch"
    print(f"elementwise float32, medians (numba threads {numba.get_num_threads()}{threads})")
    for op in ("add", "mul", "exp"):
        report(f"{op} 10^6", measure(op, big, 10, True), "ms")
    for op in ("add", "mul", "exp"):
        report(f"{op} 11 floats", measure(op, small, 2000, False), "us")


if __name__ == "__main__":
    main()
