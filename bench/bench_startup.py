"""Time to first result: `import tinygrad_edu` plus a first op, with an empty Numba cache
(cold: every kernel compiles) and with a warm one (kernels load from the cache).

Targets: < 15 s cold, < 1.5 s warm. Each measurement runs in a fresh Python process; the cold
run uses a temporary NUMBA_CACHE_DIR so that the project's own cache is left alone.

    python bench/bench_startup.py [--repeat 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

FIRST_STEPS = """
import tinygrad_edu as torch
x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
y = (x * 2 + 1).exp().sum()
y.backward()
print(float(y), x.grad.tolist())
"""


def run_once(cache_dir: str) -> float:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", FIRST_STEPS], env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def python_baseline() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(run_once(cache))     # empty cache: compiles
            warm.append(run_once(cache))     # same cache: loads
    torch_start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch; x = torch.ones(2, requires_grad=True);"
                    " (x * 2).sum().backward()"], check=True)
    torch_time = time.perf_counter() - torch_start
    print(f"bare python start: {python_baseline():.2f} s")
    print(f"import + first op, cold cache (median of {args.repeat}): {statistics.median(cold):.2f} s"
          f" (target < 15 s)")
    print(f"import + first op, warm cache (median of {args.repeat}): {statistics.median(warm):.2f} s"
          f" (target < 1.5 s)")
    print(f"torch import + first op (reference): {torch_time:.2f} s")


if __name__ == "__main__":
    main()
