"""What several benchmarks share: the book's data, the MNIST models and training recipe, and the
timing helpers. The scripts import it by name: Python puts a script's own folder on sys.path,
so this works from any working directory, in a checkout (bench/) or installed
(tinygrad_edu/_bench). `tinygrad-edu bench` lists only bench_*.py, so this file is no benchmark.

Import it after anything that must happen before numpy, torch or numba load (bench_cnn.py sets
its thread counts first): importing it loads tinygrad_edu.
"""
from __future__ import annotations

import os
import statistics
import time
import timeit

import tinygrad_edu as tg

# The book's data: $TINYGRAD_EDU_DATA if set, else ../shared/data beside the checkout.
_SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
if "TINYGRAD_EDU_DATA" not in os.environ and os.path.isdir(_SHARED):
    os.environ["TINYGRAD_EDU_DATA"] = os.path.normpath(_SHARED)


# ---------------------------------------------------------------------------- models and data


def mnist_cnn(lib):
    """The benchmarks' MNIST CNN, built with `lib` (tinygrad_edu or torch)."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))


def copy_weights(src, dst) -> None:
    """Give `dst` (ours) the parameter values of `src` (PyTorch's), on dst's device."""
    with tg.no_grad():
        for p_src, p_dst in zip(src.parameters(), dst.parameters()):
            p_dst.copy_(tg.tensor(p_src.detach().cpu().numpy(), device=p_dst.device))


def same_start(make_model, seed: int):
    """(ours, PyTorch's) models with the same weights: PyTorch's default init under
    manual_seed(seed), copied into ours."""
    import torch
    torch.manual_seed(seed)
    theirs = make_model(torch)
    ours = make_model(tg)
    copy_weights(theirs, ours)
    return ours, theirs


def mnist_for_both(flatten: bool = False):
    """MNIST's t10k split (8000 training, 2000 validation images) as (ours, PyTorch's) tuples of
    (train images, train labels, validation images, validation labels), and the split's name.
    Images are flattened to 784 numbers, or shaped (1, 28, 28) for a conv net."""
    import torch
    from tinygrad_edu.datasets import load_mnist
    mnist = load_mnist(split="t10k", flatten=flatten)
    train_images, val_images = mnist.train_images, mnist.val_images
    if not flatten:                             # (N, 1, 28, 28): one channel
        train_images, val_images = train_images.unsqueeze(1), val_images.unsqueeze(1)
    ours = (train_images, mnist.train_labels, val_images, mnist.val_labels)
    theirs = tuple(torch.from_numpy(t.numpy().copy()) for t in ours)
    return ours, theirs, mnist.split


# ---------------------------------------------------------------------------- training


class Run:
    """One framework's model, Adam(lr=1e-3), CrossEntropyLoss and batches of 64 shuffled by a
    DataLoader seeded with `seed`, trained one epoch at a time."""

    def __init__(self, lib, model, data, seed: int, label: str):
        self.lib, self.model, self.label = lib, model, label
        x_train, y_train, self.x_val, self.y_val = data
        data_api = lib.utils.data
        self.loader = data_api.DataLoader(data_api.TensorDataset(x_train, y_train),
                                          batch_size=64, shuffle=True,
                                          generator=lib.Generator().manual_seed(seed))
        self.optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
        self.loss_fn = lib.nn.CrossEntropyLoss()
        self.times: list[float] = []

    def epoch(self) -> float:
        """Train one epoch; return (and remember) its wall time in seconds."""
        self.model.train()
        start = time.perf_counter()
        for x, y in self.loader:
            loss = self.loss_fn(self.model(x), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        self.times.append(time.perf_counter() - start)
        return self.times[-1]

    def accuracy(self) -> float:
        """The share of validation images classified right."""
        self.model.eval()
        with self.lib.no_grad():
            return (self.model(self.x_val).argmax(1) == self.y_val).float().mean().item()


def warm_up(make_model, data) -> None:
    """A few steps on a throwaway model so Numba compiles (or loads from cache) our kernels."""
    run = Run(tg, make_model(tg), (data[0][:256], data[1][:256], data[2][:64], data[3][:64]), 0,
              "warm-up")
    run.epoch()
    run.accuracy()


# ---------------------------------------------------------------------------- timing


def paired_medians(calls: dict, number: int, rounds: int = 15) -> dict:
    """Median seconds per call of each entry of `calls` (after a warm-up call of each); in
    every round each entry runs `number` times, one after the other."""
    for call in calls.values():
        call()
    times: dict = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            times[name].append(timeit.timeit(call, number=number) / number)
    return {name: statistics.median(t) for name, t in times.items()}
