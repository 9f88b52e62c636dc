"""Data sets for the lessons.

So far: `make_moons`, the two-moons toy problem that micrograd's demo trains on. It is
generated in code, so it needs no file.
"""
from __future__ import annotations

import numpy as np

__all__ = ["make_moons"]


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles in the plane, a classic non-linearly-separable problem.

    Class 0 lies on the upper half of the unit circle, class 1 on a lower half circle shifted
    right by 1 and up by 0.5, so the two moons hook into each other::

        class 0:  (cos t,     sin t)           t in [0, π]
        class 1:  (1 - cos t, 0.5 - sin t)     t in [0, π]

    Class 0 gets ``n_samples // 2`` evenly spaced points and class 1 the rest. Gaussian noise
    with standard deviation ``noise`` is added to every coordinate, then the points are
    shuffled. The same ``seed`` always gives the same data.

    Returns ``X`` (float64, shape (n_samples, 2)) and ``y`` (int64, shape (n_samples,),
    labels 0 and 1).
    """
    if n_samples < 2:
        raise ValueError(f"make_moons: n_samples must be >= 2, got {n_samples}")
    if noise < 0:
        raise ValueError(f"make_moons: noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    X = np.concatenate([upper, lower]) + rng.normal(0.0, noise, size=(n_samples, 2))
    y = np.concatenate([np.zeros(n_upper, dtype=np.int64), np.ones(n_lower, dtype=np.int64)])
    order = rng.permutation(n_samples)   # shuffled, so the first k points hold both classes
    return X[order].astype(np.float64), y[order]
