"""Benchmark: one training step of micrograd's moons MLP, tinygrad_edu.scalar vs micrograd.

Usage::

    python bench/bench_scalar.py [--repeats 20]

The step is micrograd's demo: an MLP 2 → 16 → 16 → 1 (ReLU hidden layers, linear output) on
100 moons points with labels ±1, loss = mean hinge loss ``(1 - y·score).relu()`` plus
``1e-4 · Σ p²`` over all parameters, then ``zero_grad()`` and ``backward()``.

Both engines run the *same* loss code (`moons_step` below) in the same process, with
micrograd's model given a copy of our weights; the script asserts that losses and all
gradients agree to 1e-9 before timing anything.

Three rows are timed, each the median over ``--repeats`` runs:

* micrograd (the PyPI package ``micrograd``),
* tinygrad_edu with its `MLP` (a neuron is one ``dot`` node + bias + activation),
* tinygrad_edu building micrograd's graph shape (one node per ``*`` and ``+``), which
  measures the engine alone.

Each is timed with Python's garbage collector on (the default: micrograd's per-node closures
form reference cycles that the collector must scan) and off (pure compute). The final line
reports the default, GC-on numbers.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from typing import Callable

from micrograd.engine import Value as MGValue
from micrograd.nn import MLP as MGMLP

from tinygrad_edu.datasets import make_moons
from tinygrad_edu.scalar import MLP, Value

# micrograd's backward builds its topological order recursively; its graphs here are a few
# hundred nodes deep.
sys.setrecursionlimit(100_000)


def moons_step(model: Callable, value_type: type, X: list[list[float]], y: list[float]):
    """micrograd's demo loss, forward and backward. Works with either engine."""
    inputs = [list(map(value_type, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    loss = data_loss + reg_loss
    model.zero_grad()
    loss.backward()
    return loss


class PerOpMLP:
    """Our MLP's weights, evaluated the way micrograd's Neuron does: b + Σ wᵢ·xᵢ node by node."""

    def __init__(self, mlp: MLP) -> None:
        self.mlp = mlp

    def __call__(self, x: list[Value]) -> Value:
        last = len(self.mlp.layers) - 1
        for i, layer in enumerate(self.mlp.layers):
            outs = []
            for n in layer.neurons:
                act = sum((wi * xi for wi, xi in zip(n.w, x)), n.b)
                outs.append(act.relu() if i != last else act)
            x = outs
        return x[0]

    def parameters(self) -> list[Value]:
        return self.mlp.parameters()

    def zero_grad(self) -> None:
        self.mlp.zero_grad()


def check_same(ours, theirs, our_params, their_params, name: str) -> None:
    """Assert equal losses and gradients to 1e-9 (relative for large numbers)."""
    def close(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))

    # Explicit raises rather than assert, so the check also runs under python -O.
    if not close(ours.data, theirs.data):
        raise AssertionError(f"{name}: loss {ours.data} != micrograd's {theirs.data}")
    if len(our_params) != len(their_params):
        raise AssertionError(f"{name}: {len(our_params)} parameters, micrograd {len(their_params)}")
    for k, (p, q) in enumerate(zip(our_params, their_params)):
        if not close(p.grad, q.grad):
            raise AssertionError(f"{name}: grad of parameter {k}: {p.grad} != micrograd's {q.grad}")


def time_once(step: Callable[[], object], gc_on: bool) -> float:
    gc.collect()                    # start every run from the same, clean heap
    if not gc_on:
        gc.disable()
    try:
        start = time.perf_counter()
        loss = step()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    # Freeing the graph is left out of the timing: micrograd's graphs are reference cycles
    # that only the next gc.collect() frees, while ours are freed the moment loss goes.
    del loss
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    X_np, y_np = make_moons(100, noise=0.1, seed=0)
    X = X_np.tolist()
    y = (2.0 * y_np - 1.0).tolist()         # labels 0/1 → -1/+1

    ours = MLP(2, [16, 16, 1], seed=1337)
    per_op = PerOpMLP(ours)
    theirs = MGMLP(2, [16, 16, 1])
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        q.data = p.data             # identical weights

    steps = {
        "micrograd": lambda: moons_step(theirs, MGValue, X, y),
        "tinygrad_edu MLP": lambda: moons_step(ours, Value, X, y),
        "tinygrad_edu, micrograd's graph": lambda: moons_step(per_op, Value, X, y),
    }

    reference = steps["micrograd"]()
    check_same(steps["tinygrad_edu MLP"](), reference, ours.parameters(), theirs.parameters(),
               "tinygrad_edu MLP")
    check_same(steps["tinygrad_edu, micrograd's graph"](), reference, ours.parameters(),
               theirs.parameters(), "tinygrad_edu, micrograd's graph")
    del reference                   # a live graph would slow every later garbage collection
    n_ours = len(ours.parameters())
    print(f"losses and all {n_ours} parameter gradients agree with micrograd to 1e-9")

    times: dict[tuple[str, bool], list[float]] = {(n, g): [] for n in steps for g in (True, False)}
    for _ in range(args.repeats):   # interleaved, so slow moments of the machine hit every row
        for name, step in steps.items():
            for gc_on in (True, False):
                times[name, gc_on].append(time_once(step, gc_on))
    median_ms = {key: 1e3 * statistics.median(ts) for key, ts in times.items()}

    print(f"\nmoons MLP step (2→16→16→1, 100 points, forward + backward), "
          f"median of {args.repeats}, ms:")
    print(f"{'':34s}{'GC on':>10s}{'ratio':>8s}{'GC off':>10s}{'ratio':>8s}")
    for name in steps:
        row = f"{name:34s}"
        for gc_on in (True, False):
            ms = median_ms[name, gc_on]
            row += f"{ms:10.1f}{median_ms['micrograd', gc_on] / ms:7.1f}x"
        print(row)

    mine, mg = median_ms["tinygrad_edu MLP", True], median_ms["micrograd", True]
    print(f"\nmoons MLP step: tinygrad_edu {mine:.1f} ms, micrograd {mg:.1f} ms, ratio {mg / mine:.1f}x")


if __name__ == "__main__":
    main()
