"""`tinygrad_edu.utils.data`, PyTorch's `torch.utils.data`: the names of tinygrad_edu/data.py.

`from tinygrad_edu.utils.data import DataLoader, TensorDataset` works as the PyTorch import does;
the code lives in tinygrad_edu/data.py.
"""
from tinygrad_edu.data import (BatchSampler, ConcatDataset, DataLoader, Dataset,
                               IterableDataset, RandomSampler, Sampler, SequentialSampler, Subset,
                               SubsetRandomSampler, TensorDataset, default_collate,
                               get_worker_info, random_split)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "random_split", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "BatchSampler", "DataLoader", "default_collate",
           "get_worker_info"]
