"""The book's thermometer fit (ch. 4): 5000 SGD steps on 11 points, ours vs PyTorch.

With 11 numbers per tensor the kernels do almost nothing: this measures the per-op overhead of
the framework (Python dispatch, graph recording, the backward engine). Target: <= 1.5x PyTorch.

    python bench/bench_thermometer.py [--steps 5000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import time

from tinygrad_edu.datasets import load_thermometer

T_C, T_U = (t.tolist() for t in load_thermometer())   # the book's 11 readings


def fit(lib, steps: int, lr: float = 1e-2):
    """The book's training loop with hand-written update, as written for PyTorch."""
    t_c = lib.tensor(T_C)
    t_un = lib.tensor(T_U) * 0.1
    params = lib.tensor([1.0, 0.0], requires_grad=True)
    for _ in range(steps):
        if params.grad is not None:
            params.grad.zero_()
        w, b = params
        t_p = w * t_un + b
        loss = ((t_p - t_c) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            params -= lr * params.grad
    return params.detach().tolist(), loss.item()


def timed(lib, steps: int, repeat: int) -> tuple[float, list]:
    fit(lib, 50)  # warm-up: kernels compiled or loaded from the cache
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fit(lib, steps)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import torch
    import tinygrad_edu

    torch.set_num_threads(1)  # 11-element tensors: threads only add overhead, for both of us
    ours, (p_ours, loss_ours) = timed(tinygrad_edu, args.steps, args.repeat)
    ref, (p_ref, loss_ref) = timed(torch, args.steps, args.repeat)
    print(f"params: tinygrad_edu {[round(v, 4) for v in p_ours]}  "
          f"torch {[round(v, 4) for v in p_ref]}  (book: [5.3671, -17.3012])")
    print(f"final loss: tinygrad_edu {loss_ours:.6f}  torch {loss_ref:.6f}")
    print(f"thermometer fit, {args.steps} steps (median of {args.repeat}): "
          f"tinygrad_edu {ours:.3f} s, torch {ref:.3f} s, ratio {ours / ref:.2f}x "
          f"(target <= 1.5x)")


if __name__ == "__main__":
    main()
