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
from tinygrad_edu.datasets import load_mnist

# The book's data sits beside the checkout (../shared/data) unless TINYGRAD_EDU_DATA says otherwise.
_SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
if "TINYGRAD_EDU_DATA" not in os.environ and os.path.isdir(_SHARED):
    os.environ["TINYGRAD_EDU_DATA"] = os.path.normpath(_SHARED)


def make_model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def copy_weights(src, dst) -> None:
    """Give `dst` (ours) the parameter values of `src` (PyTorch's)."""
    with tg.no_grad():
        for p_src, p_dst in zip(src.parameters(), dst.parameters()):
            p_dst.copy_(tg.from_numpy(p_src.detach().numpy().copy()))


def train_epoch(lib, model, loader, optimizer, loss_fn) -> float:
    model.train()
    start = time.perf_counter()
    for x, y in loader:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def accuracy(lib, model, x, y) -> float:
    model.eval()
    with lib.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def train(lib, model, data, epochs: int, seed: int, label: str):
    """The recipe above; returns the per-epoch times and the final validation accuracy."""
    x_train, y_train, x_val, y_val = data
    DataLoader, TensorDataset = lib.utils.data.DataLoader, lib.utils.data.TensorDataset
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True,
                        generator=lib.Generator().manual_seed(seed))
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()
    times = []
    for epoch in range(epochs):
        times.append(train_epoch(lib, model, loader, optimizer, loss_fn))
        acc = accuracy(lib, model, x_val, y_val)
        print(f"  {label:13} epoch {epoch + 1}: {times[-1] * 1000:7.1f} ms, "
              f"validation accuracy {acc * 100:.2f}%")
    return times, acc


def warm_up(data) -> None:
    """A few steps on a throwaway model so Numba compiles (or loads from cache) our kernels."""
    x, y = data[0][:256], data[1][:256]
    model = make_model(tg)
    optimizer = tg.optim.Adam(model.parameters(), lr=1e-3)
    loader = tg.utils.data.DataLoader(tg.utils.data.TensorDataset(x, y), batch_size=64)
    train_epoch(tg, model, loader, optimizer, tg.nn.CrossEntropyLoss())
    accuracy(tg, model, data[2][:64], data[3][:64])


def phases(lib, data, seed: int) -> dict[str, float]:
    """One epoch (after one to warm up) split into its phases, in ms: loading batches, forward
    (model and loss), zero_grad, backward, optimizer step."""
    model = make_model(lib)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()
    loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(data[0], data[1]),
                                       batch_size=64, shuffle=True,
                                       generator=lib.Generator().manual_seed(seed))
    for epoch in range(2):
        spent = dict(load=0.0, forward=0.0, zero_grad=0.0, backward=0.0, step=0.0)
        batches = iter(loader)
        while True:
            t0 = time.perf_counter()
            batch = next(batches, None)
            if batch is None:
                break
            t1 = time.perf_counter()
            loss = loss_fn(model(batch[0]), batch[1])
            t2 = time.perf_counter()
            optimizer.zero_grad()
            t3 = time.perf_counter()
            loss.backward()
            t4 = time.perf_counter()
            optimizer.step()
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
    model = make_model(tg)
    loader = tg.utils.data.DataLoader(tg.utils.data.TensorDataset(data[0], data[1]),
                                      batch_size=64, shuffle=True,
                                      generator=tg.Generator().manual_seed(seed))
    optimizer = tg.optim.Adam(model.parameters(), lr=1e-3)
    try:
        wall = train_epoch(tg, model, loader, optimizer, tg.nn.CrossEntropyLoss())
    finally:
        for name, fn in originals.items():
            setattr(module, name, fn)
    calls = sum(c for c, _ in spent.values())
    kernel_time = sum(t for _, t in spent.values())
    steps = len(loader)
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

    mnist = load_mnist(split="t10k", flatten=True)
    ours_data = (mnist.train_images, mnist.train_labels, mnist.val_images, mnist.val_labels)
    torch_data = tuple(torch.from_numpy(t.numpy().copy()) for t in ours_data)
    print(f"MNIST ({mnist.split} split): {len(ours_data[0])} training images, "
          f"{len(ours_data[2])} validation images; batch 64, Adam lr 1e-3, {args.epochs} epochs")
    import numba
    print(f"PyTorch {torch.__version__} using {torch.get_num_threads()} threads; tinygrad_edu's "
          f"Numba kernels {numba.get_num_threads()} threads, BLAS threads per "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")

    torch.manual_seed(args.seed)
    torch_model = make_model(torch)
    our_model = make_model(tg)
    copy_weights(torch_model, our_model)

    warm_up(ours_data)
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
