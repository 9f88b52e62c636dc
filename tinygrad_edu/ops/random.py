"""Random numbers: the generator (a seeded numpy stream), new random tensors (rand, randn,
randint, randperm, normal), random numbers written in place (uniform_, normal_, bernoulli_,
exponential_, random_) and draws from distributions (bernoulli, multinomial).
"""
from __future__ import annotations

import builtins
import math
from typing import Callable

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.grad_mode import no_grad
from tinygrad_edu.ops.elementwise import lt
from tinygrad_edu.ops.helpers import _cast, _k
from tinygrad_edu.ops.inplace import _check_inplace, _check_no_overlap
from tinygrad_edu.ops.selection import _read_scalars
from tinygrad_edu.vector import (Tensor, _default_dtype, _finish, _new, _size_args, as_device,
                                 as_dtype, bool_, device, dtype, float64, int64, kernels, tensor)


class Generator:
    """A source of random numbers with its own state (`manual_seed` makes it repeatable)."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self._seed = 67280421310721
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = builtins.int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        return self.manual_seed(np.random.SeedSequence().entropy % (2 ** 63)).initial_seed()

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        state = repr(self._rng.bit_generator.state).encode()
        return tensor(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, state: Tensor) -> None:
        import ast
        self._rng.bit_generator.state = ast.literal_eval(bytes(state.tolist()).decode())


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator so random tensors are the same on every run."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def _rng(generator: Generator | None) -> np.random.Generator:
    """The numpy Generator holding the random state: the device's random primitives draw from
    it (the CPU's numbers come from it directly; CUDA takes one 64-bit seed from it per call)."""
    return (generator or default_generator)._rng


def _random(shape: tuple, dt: dtype, dev: device, requires_grad: bool, draw: Callable) -> Tensor:
    """A new tensor of random numbers: `draw(kernels, out)` calls one of the device's random
    primitives (docs/primitives.md) on the new tensor's array, so the numbers are made where
    the tensor lives."""
    t = _new(shape, dt, dev)
    draw(kernels(dev), t._view())
    return _finish(t, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    return _random(_size_args(size), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_uniform(out, _rng(generator), 0.0, 1.0))


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal random numbers (mean 0, variance 1)."""
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    return _random(_size_args(size), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_normal(out, _rng(generator), 0.0, 1.0))


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Random integers from `low` (default 0) up to, not including, `high`."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dt = int64 if dtype is None else as_dtype(dtype)
    return _random(_size_args(tuple(size)), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_integers(out, _rng(generator), low, high))


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0 .. n-1."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    dt = int64 if dtype is None else as_dtype(dtype)
    return _random((n,), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_permutation(out, _rng(generator)))


def rand_like(t: Tensor, **kw) -> Tensor:
    return rand(t._shape, dtype=kw.get("dtype") or t.dtype, device=kw.get("device") or t.device,
                requires_grad=kw.get("requires_grad", False))


def randn_like(t: Tensor, **kw) -> Tensor:
    return randn(t._shape, dtype=kw.get("dtype") or t.dtype, device=kw.get("device") or t.device,
                 requires_grad=kw.get("requires_grad", False))


def randint_like(t: Tensor, low, high=None, **kw) -> Tensor:
    if high is None:  # randint_like(t, high)
        low, high = 0, low
    return randint(low, high, t._shape, dtype=kw.get("dtype") or t.dtype,
                   device=kw.get("device") or t.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Normal random numbers; `mean` and `std` may be tensors (elementwise) or numbers."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean if isinstance(mean, Tensor) else None
        s = std if isinstance(std, Tensor) else None
        ref = m if m is not None else s
        shape = np.broadcast_shapes(*(x._shape for x in (m, s) if x is not None))
        # mean + std * z for standard normal z, in float64 on the tensors' device (numpy's
        # normal(mean, std) computes the same, so the CPU's numbers are what they always were)
        z = _random(tuple(shape), float64, ref.device, False,
                    lambda k, out: k.random_normal(out, _rng(generator), 0.0, 1.0))
        with no_grad():
            values = z * std + mean
        return _finish(values.to(ref.dtype), requires_grad)
    if size is None:
        raise TypeError("normal() with number mean and std needs a size")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    return _random(_size_args(tuple(size)), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_normal(out, _rng(generator), mean, std))


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Fill with uniform random numbers from [a, b) (in place)."""
    return _fill_random(self, lambda k, out: k.random_uniform(out, _rng(generator), a, b))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with normal random numbers (in place)."""
    return _fill_random(self, lambda k, out: k.random_normal(out, _rng(generator), mean, std))


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 where a uniform number u in [0, 1) is below p (probability p), else 0."""
    hits = lt(_uniform01(self._shape, self.device, generator), p)
    return _fill_random(self, lambda k, out: k.copy(hits._view(), out))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill with exponential random numbers of rate `lambd` (in place)."""
    return _fill_random(self, lambda k, out: k.random_exponential(out, _rng(generator), lambd))


def random_(self: Tensor, low: int = 0, high: int | None = None, *, generator=None) -> Tensor:
    """Integers from [low, high); by default from 0 up to what the dtype holds exactly."""
    if high is None:
        low, high = 0, low if low else _random_upper_bound(self.dtype)
    return _fill_random(self, lambda k, out: k.random_integers(out, _rng(generator), low, high))


def _random_upper_bound(dt: V.dtype) -> int:
    """PyTorch's default range for random_(): every integer the dtype represents exactly."""
    if dt is bool_:
        return 2
    if dt.is_floating_point:
        return 2 ** (24 if dt is V.float32 else 53) + 1
    return builtins.int(np.iinfo(dt.np_dtype).max) + 1


def _fill_random(self: Tensor, draw) -> Tensor:
    """Write random numbers into self's elements: `draw(kernels, out)` runs a random primitive
    of self's device on them (or copies ones already made there)."""
    _check_inplace(self)
    _check_no_overlap(self)
    draw(_k(self), self._view())
    self._version[0] += 1
    return self


def _uniform01(shape: tuple, dev: V.device, generator) -> Tensor:
    """float64 numbers uniform in [0, 1), made on `dev` (the u of bernoulli's u < p)."""
    return _random(shape, V.float64, dev, False,
                     lambda k, out: k.random_uniform(out, _rng(generator), 0.0, 1.0))


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability `input` (or `p`) elementwise, else 0: u < p for u uniform in [0, 1)."""
    with no_grad():
        hits = lt(_uniform01(input._shape, input.device, generator), input if p is None else p)
    return _cast(hits, input.dtype)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Draw category indices with probabilities proportional to the rows of `input`."""
    probs = _cast(input.reshape(1, -1) if input.dim() == 1 else input, V.float64)
    _check_distributions(probs, num_samples, replacement)
    out = V._new((probs._shape[0], num_samples), int64, input.device)
    _k(probs).random_multinomial(out._view(), _rng(generator), probs._view(), replacement)
    return out.reshape(num_samples) if input.dim() == 1 else out


def _check_distributions(probs: Tensor, num_samples: int, replacement: bool) -> None:
    """Each row of the float64 (rows, n) `probs` must be weights to draw from: finite, none
    negative, a positive sum; without replacement at most n samples. Reduced on probs's
    device; the three numbers the checks need come back in one transfer."""
    rows, n = probs._shape
    if not isinstance(num_samples, builtins.int) or num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if rows == 0:
        return
    if n == 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    lo, hi, least_sum = _read_scalars(probs.min(), probs.max(), probs.sum(1).min())
    if not (lo >= 0 and hi < math.inf):       # NaN fails both tests
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if least_sum <= 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
