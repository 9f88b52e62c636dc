"""The training examples of the book and the seeds, runnable by `tinygrad-edu train NAME`.

Each example is a function that trains a model, prints per-epoch metrics, and returns a dict of
final metrics so tests can check that learning happened.
"""
from __future__ import annotations

import sys
from typing import TextIO


def train_moons(steps: int = 100, seed: int = 0, n_samples: int = 100,
                out: TextIO = sys.stdout) -> dict:
    """Two moons with the scalar engine: a 2-16-16-1 ReLU MLP of `Value`s.

    Loss: the hinge loss max(0, 1 - y*score) averaged over the points (labels y = ±1), plus an
    L2 penalty 1e-4 * sum(p^2) on the parameters. Plain SGD with a learning rate that decays
    linearly from 1.0 to 0.1 over the run.
    """
    from tinygrad_edu.datasets import make_moons
    from tinygrad_edu.scalar import MLP, Value

    X, y = make_moons(n_samples, noise=0.1, seed=seed)
    inputs = [[Value(a), Value(b)] for a, b in X.tolist()]
    labels = (2 * y - 1).tolist()
    model = MLP(2, [16, 16, 1], seed=seed)
    print(f"moons: {n_samples} points, model {model!r}, {len(model.parameters())} parameters",
          file=out)
    loss = accuracy = None
    for step in range(steps):
        scores = [model(x) for x in inputs]
        data_loss = sum((1 - yi * s).relu() for yi, s in zip(labels, scores)) / len(labels)
        loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * step / steps
        for p in model.parameters():
            p.data -= lr * p.grad
        accuracy = sum((s.data > 0) == (yi > 0) for s, yi in zip(scores, labels)) / len(labels)
        if step % 10 == 0 or step == steps - 1:
            print(f"step {step:3d}  loss {loss.data:.4f}  accuracy {accuracy:.1%}", file=out)
    return {"loss": loss.data, "accuracy": accuracy}
