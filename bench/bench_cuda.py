"""Benchmark: tinygrad_edu's CUDA kernels against PyTorch on the same GPU, in one run.

Usage::

    python bench/bench_cuda.py [--epochs 3] [--size 4096] [--seed 0]

Three rows, each timed for both frameworks in the same process, alternating, with the GPU
synchronised before every clock reading (kernel launches return before the kernel is done):

* matmul: (size x size) @ (size x size) float32, `torch.matmul` against our `matmul` (register-
  blocked tiles) and `matmul_tiled` (the textbook kernel); throughput in TFLOP/s and our share
  of PyTorch's (target: matmul >= 30 %);
* MLP epoch: MNIST (the t10k file: 8000 training images), Linear(784, 128) -> ReLU ->
  Linear(128, 10), CrossEntropyLoss, SGD(lr=0.1, momentum=0.9), batches of 64;
* CNN epoch: the same data as (1, 28, 28) images, Conv2d(1, 8, 3, padding=1) -> ReLU ->
  MaxPool2d(2) -> Conv2d(8, 16, 3, padding=1) -> ReLU -> MaxPool2d(2) -> Flatten ->
  Linear(784, 64) -> ReLU -> Linear(64, 10), Adam(lr=1e-3), batches of 64 (bench_cnn.py's
  model, on the GPU).

The data sit on the GPU before the clock starts; each epoch shuffles them there (one
`index_select` by a permutation) and takes batches as slices. Both models start from the same
weights. Printed: median times, ratios ours / PyTorch's (target for the epochs: <= 3x).

Without a GPU this benchmark cannot run: it says so and exits with status 0. (Numba's CUDA
simulator runs the kernels correctly but thousands of times slower than a GPU; timing it would
mean nothing, so it is refused too.)
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tinygrad_edu as tg  # noqa: E402
from _common import copy_weights, mnist_cnn  # noqa: E402


def gpu_or_exit() -> None:
    """Exit 0 with an explanation unless a real GPU runs our kernels."""
    if not tg.cuda.is_available():
        print("bench_cuda: no CUDA GPU is available here (numba finds no NVIDIA GPU and "
              "driver), so this benchmark cannot run on this machine.")
        sys.exit(0)
    if tg.cuda.is_simulator():
        print("bench_cuda: CUDA here is Numba's simulator (NUMBA_ENABLE_CUDASIM=1), not a GPU; "
              "its timings would mean nothing, so this benchmark does not run. Unset "
              "NUMBA_ENABLE_CUDASIM on a machine with an NVIDIA GPU.")
        sys.exit(0)


def torch_cuda():
    """PyTorch, if it was built with CUDA and sees the GPU; else None (only ours is timed)."""
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def timed(fn, sync, repeats: int) -> float:
    """Median wall time of fn() over `repeats` runs, the GPU synchronised around each."""
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --------------------------------------------------------------------------------- matmul


def bench_matmul(torch, size: int) -> None:
    from tinygrad_edu import kernels_cuda as K
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1, size, size), dtype=np.float32)
    b = rng.standard_normal((1, size, size), dtype=np.float32)
    a_d, b_d, out_d = K.from_numpy(a), K.from_numpy(b), K.empty((1, size, size), np.float32)
    flops = 2 * size ** 3
    print(f"\nmatmul {size}x{size} float32 (medians)")
    rows = []
    for label, primitive, repeats in (("ours: matmul", K.matmul, 5),
                                      ("ours: matmul_tiled", K.matmul_tiled, 3)):
        primitive(a_d, b_d, out_d)                      # compile and warm up
        seconds = timed(lambda: primitive(a_d, b_d, out_d), K.synchronize, repeats)
        rows.append((label, seconds))
    check = K.to_numpy(out_d)[0, :64, :64]
    error = np.abs(check - a[0, :64] @ b[0, :, :64]).max()
    reference = None
    if torch is not None:
        ta, tb = torch.from_numpy(a[0]).cuda(), torch.from_numpy(b[0]).cuda()
        torch.matmul(ta, tb)
        reference = timed(lambda: torch.matmul(ta, tb), torch.cuda.synchronize, 10)
        rows.append(("PyTorch (cuBLAS)", reference))
    for label, seconds in rows:
        share = f"  {100 * reference / seconds:5.1f} % of PyTorch's throughput" \
            if reference else ""
        print(f"  {label:<20} {seconds * 1e3:9.2f} ms  {flops / seconds / 1e12:6.2f} TFLOP/s"
              f"{share}")
    print(f"  (max |error| of ours on a 64x64 corner: {error:.1e}; target: matmul >= 30 %)")


# ----------------------------------------------------------------------------- training


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


class Run:
    """One framework's model, optimizer and on-GPU data, trained an epoch at a time."""

    def __init__(self, lib, model, optimizer, images, labels, seed: int, sync):
        self.lib, self.model, self.sync = lib, model, sync
        self.optimizer = optimizer(model.parameters())
        self.loss_fn = lib.nn.CrossEntropyLoss()
        self.images, self.labels = images, labels
        self.order = np.random.default_rng(seed)
        self.times: list[float] = []

    def epoch(self, batch: int = 64) -> float:
        n = self.images.shape[0]
        perm = self.lib.tensor(self.order.permutation(n), device=self.images.device)
        self.sync()
        start = time.perf_counter()
        x_all, y_all = self.images.index_select(0, perm), self.labels.index_select(0, perm)
        for i in range(0, n, batch):
            loss = self.loss_fn(self.model(x_all[i:i + batch]), y_all[i:i + batch])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self.sync()
        self.times.append(time.perf_counter() - start)
        self.last_loss = loss.item()
        return self.times[-1]


def bench_training(torch, name: str, make_model, optimizer_of, epochs: int, seed: int,
                   images: np.ndarray, labels: np.ndarray) -> None:
    print(f"\n{name} epoch: {len(images)} MNIST images, batches of 64 (medians of {epochs})")
    ours_model = make_model(tg).to("cuda")
    data = (tg.tensor(images, device="cuda"), tg.tensor(labels, device="cuda"))
    runs = []
    if torch is not None:
        torch.manual_seed(seed)
        theirs_model = make_model(torch).cuda()
        copy_weights(theirs_model, ours_model)
        runs.append(("PyTorch", Run(torch, theirs_model, optimizer_of(torch), torch.from_numpy(
            images).cuda(), torch.from_numpy(labels).cuda(), seed, torch.cuda.synchronize)))
    ours = Run(tg, ours_model, optimizer_of(tg), *data, seed, tg.cuda.synchronize)
    runs.insert(0, ("ours", ours))
    # warm-up: one epoch on a slice compiles every kernel the epoch needs
    warm = Run(tg, make_model(tg).to("cuda"), optimizer_of(tg), data[0][:256], data[1][:256],
               seed, tg.cuda.synchronize)
    warm.epoch()
    for epoch in range(epochs):
        for label, run in runs:
            seconds = run.epoch()
            print(f"  {label:8} epoch {epoch + 1}: {seconds * 1e3:9.1f} ms   last loss "
                  f"{run.last_loss:.4f}")
    ours_median = statistics.median(ours.times)
    line = f"  ours {ours_median * 1e3:.1f} ms"
    if torch is not None:
        theirs_median = statistics.median(runs[1][1].times)
        line += (f", PyTorch {theirs_median * 1e3:.1f} ms: ours / PyTorch = "
                 f"{ours_median / theirs_median:.2f}x (target <= 3x)")
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    gpu_or_exit()
    torch = torch_cuda()
    print(f"GPU: {tg.cuda.get_device_name()}")
    if torch is None:
        print("PyTorch with CUDA is not available: only tinygrad_edu's times are printed.")
    else:
        print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name()}")

    bench_matmul(torch, args.size)

    from tinygrad_edu.datasets import load_mnist
    mnist = load_mnist(split="t10k")
    images = mnist.train_images.numpy().astype(np.float32)
    labels = mnist.train_labels.numpy().astype(np.int64)
    bench_training(torch, "MLP", mlp,
                   lambda lib: (lambda p: lib.optim.SGD(p, lr=0.1, momentum=0.9)),
                   args.epochs, args.seed, images.reshape(len(images), 784), labels)
    bench_training(torch, "CNN", mnist_cnn, lambda lib: (lambda p: lib.optim.Adam(p, lr=1e-3)),
                   args.epochs, args.seed, images.reshape(len(images), 1, 28, 28), labels)


if __name__ == "__main__":
    main()
