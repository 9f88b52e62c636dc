"""`tinygrad_edu.utils.data`, PyTorch's `torch.utils.data`: the names of tinygrad_edu/data.py.

`from tinygrad_edu.utils.data import DataLoader, TensorDataset` works as the PyTorch import does;
the code lives in tinygrad_edu/data.py.
"""
from tinygrad_edu.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,  # noqa: F401
                               IterableDataset, RandomSampler, Sampler, SequentialSampler, Subset,
                               SubsetRandomSampler, TensorDataset, default_collate,
                               get_worker_info, random_split)
from tinygrad_edu.data import __all__  # noqa: F401
