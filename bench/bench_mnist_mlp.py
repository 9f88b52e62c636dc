"""Benchmark: an MNIST MLP trained with Adam, tinygrad_edu vs PyTorch (CPU) in the same run.

Usage::

    python bench/bench_mnist_mlp.py [--epochs 5] [--seed 0] [--profile]

The recipe, identical for both frameworks (one function, `train`, given either module):

* data: MNIST's t10k file split as everywhere in this project — the first 8000 images train,
  the last 2000 validate (the 60000-image training file is not in ../shared/data); pixels
  scaled to [0, 1], images flattened to 784 numbers;
* model: Linear(784, 128) → ReLU → Linear(128, 64) → ReLU → Linear(64, 10);
* CrossEntropyLoss, Adam(lr=1e-3), batches of 64 shuffled by a DataLoader seeded with --seed;
* both models start from the same weights (PyTorch's default init under manual_seed(seed),
  copied into ours).

Threads: each framework uses its defaults (PyTorch its intra-op pool, ours Numba's threads for
big kernels and numpy's BLAS threads for matmul). On a shared, oversubscribed machine multi-
threaded timings of both collapse unpredictably; compare single-threaded there:
`OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python ...`.

Printed: the epoch time of each (median over the epochs, after a warm-up that compiles our
kernels), the ratio ours / PyTorch's (target ≤ 1.5×), and the validation accuracy of each after
--epochs epochs (target: within 1 point). The shuffling orders differ (the frameworks have
different random generators), so the accuracies agree statistically, not bit for bit.

`--profile` also times one epoch of ours with a stopwatch around every primitive of the kernels
module and prints where the time goes: the compiled kernels (Numba) and BLAS matmuls versus the
Python of the framework around them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

import tinygrad_edu as tg
from _common import Run, mnist_for_both, same_start, warm_up


def make_model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def train(lib, model, data, epochs: int, seed: int, label: str):
    """The recipe above; returns the per-epoch times and the final validation accuracy."""
    run = Run(lib, model, data, seed, label)
    for epoch in range(epochs):
        seconds = run.epoch()
        acc = run.accuracy()
        print(f"  {label:13} epoch {epoch + 1}: {seconds * 1000:7.1f} ms, "
              f"validation accuracy {acc * 100:.2f}%")
    return run.times, acc


def phases(lib, data, seed: int) -> dict[str, float]:
    """One epoch (after one to warm up) split into its phases, in ms: loading batches, forward
    (model and loss), zero_grad, backward, optimizer step."""
    run = Run(lib, make_model(lib), data, seed, "phases")
    for epoch in range(2):
        spent = dict(load=0.0, forward=0.0, zero_grad=0.0, backward=0.0, step=0.0)
        batches = iter(run.loader)
        while True:
            t0 = time.perf_counter()
            batch = next(batches, None)
            if batch is None:
                break
            t1 = time.perf_counter()
            loss = run.loss_fn(run.model(batch[0]), batch[1])
            t2 = time.perf_counter()
            run.optimizer.zero_grad()
            t3 = time.perf_counter()
            loss.backward()
            t4 = time.perf_counter()
            run.optimizer.step()
            t5 = time.perf_counter()
            for key, dt in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                spent[key] += dt * 1000
    return spent


def profile_one_epoch(data, seed: int) -> None:
    """Time one epoch of ours with every kernel-module primitive wrapped in a stopwatch.

    The primitives' own time (Numba kernels, BLAS, plus their thin Python wrappers) against the
    epoch's wall time gives the time spent in the Python of the framework itself (autograd graph,
    Tensor objects, shape checks, the optimizer and data-loader loops): the per-op overhead.
    """
    from tinygrad_edu.vector import CPU, kernels
    module = kernels(CPU)
    spent: dict[str, list] = {}
    originals = {}
    for name in [n for n in dir(module) if not n.startswith("_")]:
        fn = getattr(module, name)
        if callable(fn) and getattr(fn, "__module__", None) == module.__name__:
            originals[name] = fn
            setattr(module, name, _stopwatch(fn, spent.setdefault(name, [0, 0.0])))
    run = Run(tg, make_model(tg), data, seed, "profile")
    try:
        wall = run.epoch()
    finally:
        for name, fn in originals.items():
            setattr(module, name, fn)
    calls = sum(c for c, _ in spent.values())
    kernel_time = sum(t for _, t in spent.values())
    steps = len(run.loader)
    print(f"\nWhere one epoch of tinygrad_edu goes ({steps} steps, {wall * 1000:.0f} ms wall):")
    print(f"  primitives (Numba kernels, BLAS, their wrappers): {kernel_time * 1000:7.1f} ms "
          f"({100 * kernel_time / wall:4.1f}%), {calls} calls, {calls / steps:.0f} per step")
    python = wall - kernel_time
    print(f"  Python around them (autograd, Tensors, checks):   {python * 1000:7.1f} ms "
          f"({100 * python / wall:4.1f}%), {python / calls * 1e6:.1f} us per primitive call")
    print("  by primitive:")
    for name, (n, t) in sorted(spent.items(), key=lambda kv: -kv[1][1]):
        if n:
            print(f"    {name:14} {n:6d} calls {t * 1000:8.1f} ms {t / n * 1e6:8.1f} us/call")


_depth = [0]  # primitives call each other (copy → unary): only the outermost call is timed


def _stopwatch(fn, tally: list):
    def timed(*args, **kwargs):
        if _depth[0]:
            return fn(*args, **kwargs)
        _depth[0] += 1
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            tally[0] += 1
            tally[1] += time.perf_counter() - start
            _depth[0] -= 1
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    ours_data, torch_data, split = mnist_for_both(flatten=True)
    print(f"MNIST ({split} split): {len(ours_data[0])} training images, "
          f"{len(ours_data[2])} validation images; batch 64, Adam lr 1e-3, {args.epochs} epochs")
    import numba
    print(f"PyTorch {torch.__version__} using {torch.get_num_threads()} threads; tinygrad_edu's "
          f"Numba kernels {numba.get_num_threads()} threads, BLAS threads per "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")

    our_model, torch_model = same_start(make_model, args.seed)
    warm_up(make_model, ours_data)
    our_times, our_acc = train(tg, our_model, ours_data, args.epochs, args.seed, "tinygrad_edu")
    torch_times, torch_acc = train(torch, torch_model, torch_data, args.epochs, args.seed,
                                   "PyTorch")

    ours, theirs = statistics.median(our_times), statistics.median(torch_times)
    print(f"\nepoch time (median of {args.epochs}): tinygrad_edu {ours * 1000:.1f} ms, "
          f"PyTorch {theirs * 1000:.1f} ms, ratio {ours / theirs:.2f}x (target <= 1.5x)")
    print(f"validation accuracy after {args.epochs} epochs: tinygrad_edu {our_acc * 100:.2f}%, "
          f"PyTorch {torch_acc * 100:.2f}%, difference {abs(our_acc - torch_acc) * 100:.2f} "
          "points (target <= 1)")
    if args.profile:
        ours_phases, torch_phases = phases(tg, ours_data, args.seed), phases(torch, torch_data,
                                                                          args.seed)
        print("\nOne epoch by phase (ms):       " + "".join(f"{k:>11}" for k in ours_phases))
        for label, spent in (("tinygrad_edu", ours_phases), ("PyTorch", torch_phases)):
            print(f"  {label:28}" + "".join(f"{v:11.1f}" for v in spent.values()))
        profile_one_epoch(ours_data, args.seed)


if __name__ == "__main__":
    main()
