"""Datasets and the DataLoader (seed 003 §8.8): feeding a training loop one batch at a time.

A `Dataset` maps an index to one sample (`__getitem__`) and knows how many it has (`__len__`).
A `DataLoader` draws indices from a *sampler* (in order, or shuffled anew every epoch), groups
them into batches of `batch_size`, fetches the samples and *collates* them into batch tensors:

    loader = DataLoader(TensorDataset(features, labels), batch_size=64, shuffle=True)
    for x, y in loader:            # x: (64, n_features), y: (64,)   (the last batch may be smaller)
        ...

The same names are importable as `tinygrad_edu.utils.data` (PyTorch's `torch.utils.data`).
Shuffling draws from `tinygrad_edu.manual_seed`'s generator (or the `generator` given), so a
seeded run shuffles the same way every time.
"""
from __future__ import annotations

import bisect
import itertools
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Callable, Iterable, Iterator

import numpy as np

from tinygrad_edu.ops.random import Generator
from tinygrad_edu.vector import Tensor
import tinygrad_edu as _torch

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "DataLoader", "default_collate",
           "get_worker_info"]


# ---------------------------------------------------------------------------------------- datasets


class Dataset:
    """A map from indices 0 .. len-1 to samples: subclasses define `__getitem__` and `__len__`."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index)")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define `__iter__` (no indexing, no shuffling)."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__()")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead "
                        "of indexing it")


class TensorDataset(Dataset):
    """Samples are rows: item i is `(t[i] for t in tensors)`, so all must share their first size."""

    def __init__(self, *tensors: Tensor):
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset takes tensors, got {type(t).__name__}")
        if any(t.size(0) != tensors[0].size(0) for t in tensors):
            sizes = ", ".join(str(t.size(0)) for t in tensors)
            raise ValueError(f"Size mismatch between tensors (first dimensions: {sizes})")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0) if self.tensors else 0


class Subset(Dataset):
    """The samples of `dataset` at the given `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        # Pass a whole batch of indices on, so a dataset that fetches batches at once still can.
        inner = [self.indices[i] for i in indices]
        fetch = getattr(self.dataset, "__getitems__", None)
        return fetch(inner) if fetch is not None else [self.dataset[i] for i in inner]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other: index i falls in the first one that reaches it."""

    def __init__(self, datasets: Iterable[Dataset]):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][idx - start]


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: Generator | None = None) -> list[Subset]:
    """Split `dataset` into non-overlapping random subsets of the given lengths.

    `lengths` are sizes that add up to len(dataset), or fractions that add up to 1: each fraction
    f gets ⌊f · len⌋ samples and the left-over samples go one each to the splits in turn, from the
    first (PyTorch's rule; 10 samples split [0.5, 0.3, 0.2] → [5, 3, 2], 11 → [6, 3, 2]).
    """
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1 (got {frac})")
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              "dataset.")
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths does not equal the length of the input dataset! "
                         f"(lengths {lengths} add up to {sum(lengths)}, the dataset has {n})")
    order = _torch.randperm(n, generator=generator).tolist()
    subsets, start = [], 0
    for size in lengths:
        subsets.append(Subset(dataset, order[start:start + size]))
        start += size
    return subsets


# ---------------------------------------------------------------------------------------- samplers


class Sampler:
    """Yields dataset indices (or, for a batch sampler, lists of them)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, 2, ... len-1: the dataset in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random permutation of the indices every epoch (or `num_samples` draws with
    replacement when `replacement=True`).

    Without a `generator`, each epoch seeds a private generator with a number drawn from the
    default one, as PyTorch does: `manual_seed(s)` then fixes every epoch's order.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement="
                            f"{replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            seed = int(_torch.randint(0, 2 ** 62, ()).item())
            generator = Generator().manual_seed(seed)
        if self.replacement:
            yield from _torch.randint(0, n, (self.num_samples,), generator=generator).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from _torch.randperm(n, generator=generator).tolist()
        yield from _torch.randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, new every epoch."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None):
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in _torch.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size` (the last one shorter unless
    `drop_last`)."""

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


# ---------------------------------------------------------------------------------------- collate


def default_collate(batch: list):
    """Turn a list of samples into one batch, keeping the samples' structure.

        tensors            → stacked along a new first dimension
        numpy arrays       → tensors, stacked
        Python floats      → a float64 tensor;  ints (and bools) → an int64 (bool) tensor
        numpy scalars      → a tensor of their dtype
        strings            → left as a list
        dicts              → a dict of the collated values of each key
        tuples/lists       → transposed: one collated batch per position (a tuple becomes a list)

    Samples that cannot be combined (tensors of different shapes, tuples of different lengths)
    raise a RuntimeError that says which.
    """
    if not isinstance(batch, (list, tuple)):
        raise TypeError(f"default_collate expects a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("default_collate got an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        _check_same_shapes(batch)
        return _torch.stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                            f"dicts or lists; found numpy array of dtype {elem.dtype}")
        return default_collate([_torch.as_tensor(np.ascontiguousarray(b)) for b in batch])
    if isinstance(elem, (np.number, np.bool_)):
        return _torch.as_tensor(np.array(batch))
    if isinstance(elem, float):
        return _torch.tensor(batch, dtype=_torch.float64)
    if isinstance(elem, (bool, int)):
        return _torch.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple keeps its type
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size (got "
                               f"lengths {sorted({len(s) for s in batch})})")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    if isinstance(elem, numbers.Number):
        return _torch.tensor(batch)
    raise TypeError("default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                    f"or lists; found {type(elem)}")


def _check_same_shapes(batch: list) -> None:
    shape = batch[0].shape
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor):
            raise TypeError(f"default_collate: sample 0 is a Tensor but sample {i} is a "
                            f"{type(t).__name__}")
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t.shape)} at entry {i}")


# ---------------------------------------------------------------------------------------- DataLoader


def get_worker_info():
    """Always None: tinygrad_edu loads data in the main process (there are no worker processes)."""
    return None


class DataLoader:
    """Iterate over `dataset` in batches.

    - `batch_size` samples per batch (None: no batching, one sample at a time, uncollated);
      `drop_last` drops a last, incomplete batch.
    - `shuffle=True` visits the samples in a new random order each epoch (a `RandomSampler`
      using `generator`); `sampler` picks the order yourself; `batch_sampler` the whole batches.
    - `collate_fn` combines a list of samples into a batch (default: `default_collate`).
    - `num_workers > 0` is accepted but the loading still runs in this process (with a warning).

    For a `TensorDataset` with the default collate function, a batch is fetched with one
    `index_select` per tensor instead of one `__getitem__` per sample and a `stack`: the same
    values, without a Python loop over the samples.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 multiprocessing_context=None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             f"disable multiprocessing (got {num_workers!r})")
        if num_workers > 0:
            warnings.warn(f"DataLoader(num_workers={num_workers}): tinygrad_edu has no worker "
                          "processes; the data is loaded in the main process.", UserWarning,
                          stacklevel=2)
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            if self._iterable:
                BatchSampler([], batch_size, drop_last)  # validates batch_size the same way
            else:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_size is not None or batch_sampler is not None
            else _no_collate)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # a TypeError here, as in PyTorch, if the stream has no length
            if self.batch_size is None:
                return n
            return len(BatchSampler(range(n), self.batch_size, self.drop_last))
        return len(self.batch_sampler if self._auto_collation else self.sampler)

    def __iter__(self) -> Iterator:
        if self._iterable:
            return self._iterate_stream()
        if self._auto_collation:
            return (self._fetch_batch(indices) for indices in self.batch_sampler)
        return (self.collate_fn(self.dataset[i]) for i in self.sampler)

    def _fetch_batch(self, indices: list[int]):
        if self.collate_fn is default_collate:
            rows = _tensor_rows(self.dataset, indices)
            if rows is not None:
                return rows
        fetch = getattr(self.dataset, "__getitems__", None)
        samples = fetch(indices) if fetch is not None else [self.dataset[i] for i in indices]
        return self.collate_fn(samples)

    def _iterate_stream(self) -> Iterator:
        stream = iter(self.dataset)
        if self.batch_size is None:
            for sample in stream:
                yield self.collate_fn(sample)
            return
        # BatchSampler groups whatever it iterates over: here the samples themselves
        for batch in BatchSampler(stream, self.batch_size, self.drop_last):
            yield self.collate_fn(batch)


def _tensor_rows(dataset, indices: list[int]):
    """The collated batch of a TensorDataset (possibly inside Subsets) by one index_select per
    tensor: equal to stacking the samples one by one. None for any other kind of dataset."""
    while type(dataset) is Subset:
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset or any(t.dim() == 0 for t in dataset.tensors):
        return None
    n = len(dataset)
    index = np.asarray(indices, dtype=np.int64)
    if index.size and (index.min() < -n or index.max() >= n):
        bad = index[(index < -n) | (index >= n)][0]
        raise IndexError(f"index {bad} is out of bounds for a dataset of size {n}")
    index = _torch.from_numpy(index % n if index.size and index.min() < 0 else index)
    return [t.index_select(0, index) for t in dataset.tensors]


def _no_collate(sample):
    """Without batching, samples pass through as they are, except that numpy arrays and numpy
    scalars (also inside dicts, tuples and lists) become tensors (PyTorch's default_convert)."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind not in "OUSV":
        return _torch.as_tensor(sample)
    if isinstance(sample, (np.number, np.bool_)):
        return _torch.as_tensor(np.array(sample))
    if isinstance(sample, Mapping):
        return {k: _no_collate(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(_no_collate(v) for v in sample))
    if isinstance(sample, (tuple, list)):
        return [_no_collate(v) for v in sample]
    return sample
