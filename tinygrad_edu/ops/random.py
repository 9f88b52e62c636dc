"""Random numbers written in place (uniform_, normal_, bernoulli_, exponential_, random_) and
drawn from distributions (bernoulli, multinomial), from the generator's stream.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from tinygrad_edu import vector as V
from tinygrad_edu.ops.elementwise import lt
from tinygrad_edu.ops.helpers import _cast, _k
from tinygrad_edu.ops.inplace import _check_inplace, _check_no_overlap
from tinygrad_edu.ops.selection import _read_scalars
from tinygrad_edu.vector import Tensor, bool_, int64


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Fill with uniform random numbers from [a, b) (in place)."""
    return _fill_random(self, lambda k, out: k.random_uniform(out, V._rng(generator), a, b))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with normal random numbers (in place)."""
    return _fill_random(self, lambda k, out: k.random_normal(out, V._rng(generator), mean, std))


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 where a uniform number u in [0, 1) is below p (probability p), else 0."""
    hits = lt(_uniform01(self._shape, self.device, generator), p)
    return _fill_random(self, lambda k, out: k.copy(hits._view(), out))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill with exponential random numbers of rate `lambd` (in place)."""
    return _fill_random(self, lambda k, out: k.random_exponential(out, V._rng(generator), lambd))


def random_(self: Tensor, low: int = 0, high: int | None = None, *, generator=None) -> Tensor:
    """Integers from [low, high); by default from 0 up to what the dtype holds exactly."""
    if high is None:
        low, high = 0, low if low else _random_upper_bound(self.dtype)
    return _fill_random(self, lambda k, out: k.random_integers(out, V._rng(generator), low, high))


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
    return V._random(shape, V.float64, dev, False,
                     lambda k, out: k.random_uniform(out, V._rng(generator), 0.0, 1.0))


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """1 with probability `input` (or `p`) elementwise, else 0: u < p for u uniform in [0, 1)."""
    with V.no_grad():
        hits = lt(_uniform01(input._shape, input.device, generator), input if p is None else p)
    return _cast(hits, input.dtype)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Draw category indices with probabilities proportional to the rows of `input`."""
    probs = _cast(input.reshape(1, -1) if input.dim() == 1 else input, V.float64)
    _check_distributions(probs, num_samples, replacement)
    out = V._new((probs._shape[0], num_samples), int64, input.device)
    _k(probs).random_multinomial(out._view(), V._rng(generator), probs._view(), replacement)
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
