"""Benchmark: a small MNIST CNN trained with Adam, tinygrad_edu vs PyTorch (CPU) in one run.

Usage::

    python bench/bench_cnn.py [--epochs 5] [--seed 0] [--threads 1] [--profile]

The recipe, identical for both frameworks (the same functions, given either module):

* data: MNIST's t10k file split as everywhere in this project — the first 8000 images train,
  the last 2000 validate; pixels scaled to [0, 1], images shaped (1, 28, 28);
* model: Conv2d(1, 8, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d(8, 16, 3, padding=1) →
  ReLU → MaxPool2d(2) → Flatten → Linear(784, 64) → ReLU → Linear(64, 10);
* CrossEntropyLoss, Adam(lr=1e-3), batches of 64 shuffled by a DataLoader seeded with --seed;
* both models start from the same weights (PyTorch's default init under manual_seed(seed),
  copied into ours).

The epochs of the two frameworks alternate (ours, PyTorch's, ours, ...), so that a change in
the machine's load hits both alike. Printed: every epoch's time, the median epoch time of each
and the ratio ours / PyTorch's (target ≤ 2×), and the validation accuracy of each after
--epochs epochs (target: within 1 point). The shuffling orders differ (different random
generators), so the accuracies agree statistically, not bit for bit.

Threads (--threads, default 1): BLAS, OpenMP, PyTorch and Numba are all limited to this many
threads, set before they load. On a shared machine whose cores are busy with other work, more
threads than free cores make every framework slower, PyTorch most of all (its OpenMP threads
wait for each other at every op); --threads 0 keeps each library's own default.

`--profile` also runs one epoch of ours under cProfile and prints where the time goes.
"""
from __future__ import annotations

import os
import sys


def _threads_from_argv(default: int = 1) -> int:
    """--threads, read before numpy/torch/numba load (they fix their thread pools then)."""
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            return int(sys.argv[i + 1])
        if arg.startswith("--threads="):
            return int(arg.split("=", 1)[1])
    return default


THREADS = _threads_from_argv()
if THREADS > 0:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = str(THREADS)

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402

import torch  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from _common import Run, mnist_cnn, mnist_for_both, same_start, warm_up  # noqa: E402

if THREADS > 0:
    torch.set_num_threads(THREADS)


def profile_one_epoch(data, seed: int) -> None:
    run = Run(tg, mnist_cnn(tg), data, seed, "profile")
    profiler = cProfile.Profile()
    profiler.enable()
    wall = run.epoch()
    profiler.disable()
    stats = pstats.Stats(profiler)
    groups: dict[str, float] = {}
    for (file, _, name), (_, _, tottime, _, _) in stats.stats.items():
        if "kernels_cpu" in file and name.startswith("_") and name.endswith("_kernel"):
            key = f"conv/pool kernel {name}"
        elif "kernels_cpu" in file and name == "matmul":
            key = "matmul (BLAS through numpy)"
        elif "kernels_cpu" in file and name in ("strided", "strided_parallel", "contiguous",
                                                "scalar", "rows", "cols"):
            key = "elementwise/reduce kernels (Numba)"
        elif "kernels_cpu" in file and name in ("sgd_kernel", "adam_kernel", "rmsprop_kernel",
                                                "adagrad_kernel"):
            key = "optimizer kernels (Numba)"
        elif "kernels_cpu" in file:
            key = "kernels_cpu.py Python wrappers"
        elif file == "~":
            key = "built-ins (numpy allocation, dict/list ops, ...)"
        elif "tinygrad_edu" in file:
            key = "tinygrad_edu Python: " + file.split("tinygrad_edu/")[-1]
        else:
            key = "other Python"
        groups[key] = groups.get(key, 0.0) + tottime
    total = sum(groups.values())
    print(f"\nProfile of one epoch of tinygrad_edu ({wall * 1000:.0f} ms wall, "
          f"{total * 1000:.0f} ms profiled, profiler overhead included):")
    for key, t in sorted(groups.items(), key=lambda kv: -kv[1])[:16]:
        print(f"  {t * 1000:8.1f} ms  {100 * t / total:5.1f}%  {key}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print("\nTop functions by own time:")
    print("\n".join(out.getvalue().splitlines()[6:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for BLAS/OpenMP/PyTorch/Numba (0: their defaults)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    ours_data, torch_data, split = mnist_for_both()
    print(f"MNIST ({split} split): {len(ours_data[0])} training images, "
          f"{len(ours_data[2])} validation images; batch 64, Adam lr 1e-3, {args.epochs} epochs")
    print(f"threads: {args.threads or 'library defaults'} (PyTorch {torch.__version__} uses "
          f"{torch.get_num_threads()}); load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")

    our_model, torch_model = same_start(mnist_cnn, args.seed)
    warm_up(mnist_cnn, ours_data)
    ours = Run(tg, our_model, ours_data, args.seed, "tinygrad_edu")
    theirs = Run(torch, torch_model, torch_data, args.seed, "PyTorch")
    for epoch in range(args.epochs):
        for run in (ours, theirs):
            seconds = run.epoch()
            print(f"  {run.label:13} epoch {epoch + 1}: {seconds * 1000:7.1f} ms, "
                  f"validation accuracy {run.accuracy() * 100:.2f}%")

    our_median, their_median = statistics.median(ours.times), statistics.median(theirs.times)
    ratios = [a / b for a, b in zip(ours.times, theirs.times)]
    our_acc, their_acc = ours.accuracy(), theirs.accuracy()
    print(f"\nepoch time (median of {args.epochs}): tinygrad_edu {our_median * 1000:.1f} ms, "
          f"PyTorch {their_median * 1000:.1f} ms, ratio {our_median / their_median:.2f}x "
          f"(per-epoch ratios {min(ratios):.2f}x to {max(ratios):.2f}x; target <= 2x)")
    print(f"validation accuracy after {args.epochs} epochs: tinygrad_edu {our_acc * 100:.2f}%, "
          f"PyTorch {their_acc * 100:.2f}%, difference {abs(our_acc - their_acc) * 100:.2f} "
          "points (target <= 1)")
    if args.profile:
        profile_one_epoch(ours_data, args.seed)


if __name__ == "__main__":
    main()
