"""Datasets, samplers, collate and DataLoader, with PyTorch's torch.utils.data as the oracle."""
import collections
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import tinygrad_edu as tg
from tinygrad_edu import data
from tinygrad_edu.utils.data import DataLoader, TensorDataset, default_collate, random_split


def features_and_labels(lib, n=10):
    x = lib.arange(n * 3, dtype=lib.float32).reshape(n, 3)
    y = lib.arange(n) % 3
    return x, y


def as_lists(batches):
    """Nested structures of tensors -> the same structure of Python lists (for comparing)."""
    def convert(obj):
        if isinstance(obj, (tg.Tensor, torch.Tensor)):
            return (str(obj.dtype).removeprefix("torch."), list(obj.shape), obj.tolist())
        if isinstance(obj, dict):
            return {k: convert(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj).__name__, [convert(v) for v in obj]
        return obj
    return [convert(b) for b in batches]


def test_utils_data_is_the_same_module_as_data():
    assert tg.utils.data.DataLoader is data.DataLoader
    import tinygrad_edu.utils.data as ud
    assert ud.random_split is data.random_split


# ---------------------------------------------------------------------------------------- datasets


def test_tensor_dataset_items_and_length():
    x, y = features_and_labels(tg)
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[4]
    assert xi.tolist() == [12.0, 13.0, 14.0] and yi.item() == 1
    assert ds[-1][1].item() == 0


def test_tensor_dataset_size_mismatch():
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(tg.zeros(5, 2), tg.zeros(4))
    with pytest.raises(TypeError, match="takes tensors"):
        TensorDataset(tg.zeros(5), [1, 2, 3, 4, 5])


def test_subset_and_concat():
    x, y = features_and_labels(tg)
    ds = TensorDataset(x, y)
    sub = data.Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[1][0].tolist() == [6.0, 7.0, 8.0]
    both = ds + sub
    assert isinstance(both, data.ConcatDataset) and len(both) == 13
    assert both[11][0].tolist() == [6.0, 7.0, 8.0] and both[-1][0].tolist() == [15.0, 16.0, 17.0]
    assert both.cumulative_sizes == [10, 13]


@pytest.mark.parametrize("n,fractions,expected", [
    (10, [0.5, 0.3, 0.2], [5, 3, 2]),
    (11, [0.5, 0.3, 0.2], [6, 3, 2]),
    (7, [1 / 3, 1 / 3, 1 / 3], [3, 2, 2]),
    (11, [0.8, 0.2], [9, 2]),
])
def test_random_split_fractions_follow_pytorchs_rounding(n, fractions, expected):
    ds = list(range(n))
    ours = [len(s) for s in random_split(ds, fractions)]
    theirs = [len(s) for s in tdata.random_split(ds, fractions)]
    assert ours == theirs == expected


def test_random_split_is_a_partition_and_reproducible():
    ds = list(range(50))
    parts = random_split(ds, [20, 25, 5], generator=tg.Generator().manual_seed(3))
    indices = [i for p in parts for i in p.indices]
    assert sorted(indices) == ds and indices != ds          # every sample once, shuffled
    again = random_split(ds, [20, 25, 5], generator=tg.Generator().manual_seed(3))
    assert [p.indices for p in again] == [p.indices for p in parts]
    tg.manual_seed(7)
    first = random_split(ds, [0.5, 0.5])[0].indices
    tg.manual_seed(7)
    assert random_split(ds, [0.5, 0.5])[0].indices == first


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        random_split(list(range(10)), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(list(range(10)), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 2 is 0"):
        assert [len(s) for s in random_split(list(range(3)), [0.5, 0.5, 0.0])] == [2, 1, 0]


# ---------------------------------------------------------------------------------------- DataLoader


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (4, False),
                                                  (10, False), (64, False), (64, True)])
def test_sequential_batches_match_pytorch(batch_size, drop_last):
    ours = DataLoader(TensorDataset(*features_and_labels(tg)), batch_size=batch_size,
                      drop_last=drop_last)
    theirs = tdata.DataLoader(tdata.TensorDataset(*features_and_labels(torch)),
                              batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert as_lists(ours) == as_lists(theirs)


def test_fast_tensor_dataset_path_equals_the_generic_path():
    x, y = features_and_labels(tg, 23)
    fast = list(DataLoader(TensorDataset(x, y), batch_size=5, shuffle=False))
    generic = list(DataLoader(TensorDataset(x, y), batch_size=5,
                              collate_fn=lambda b: default_collate(b)))
    assert as_lists(fast) == as_lists(generic)
    sub = data.Subset(TensorDataset(x, y), [3, 1, 4, 1, 5, 9, 2, 6])
    assert as_lists(DataLoader(sub, batch_size=3)) == \
        as_lists(DataLoader(sub, batch_size=3, collate_fn=default_collate.__call__))


def test_shuffle_covers_every_sample_once_per_epoch_in_a_new_order():
    ds = TensorDataset(tg.arange(100))
    loader = DataLoader(ds, batch_size=16, shuffle=True)
    epochs = [[v for (b,) in loader for v in b.tolist()] for _ in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(100))
    assert epochs[0] != epochs[1] != epochs[2] and epochs[0] != list(range(100))
    assert [len(b) for (b,) in loader] == [16] * 6 + [4]


def test_manual_seed_makes_shuffling_reproducible():
    ds = TensorDataset(tg.arange(30))

    def order(**kw):
        return [v for (b,) in DataLoader(ds, batch_size=7, shuffle=True, **kw) for v in b.tolist()]
    tg.manual_seed(123)
    first = order()
    tg.manual_seed(123)
    assert order() == first
    g1, g2 = tg.Generator().manual_seed(5), tg.Generator().manual_seed(5)
    assert order(generator=g1) == order(generator=g2)


def test_batch_size_none_gives_single_samples_uncollated():
    x, y = features_and_labels(tg, 4)
    items = list(DataLoader(TensorDataset(x, y), batch_size=None))
    assert len(items) == 4 and items[2][0].tolist() == [6.0, 7.0, 8.0]
    arrays = list(DataLoader([np.array([1, 2]), np.array([3, 4])], batch_size=None))
    assert isinstance(arrays[0], tg.Tensor) and arrays[1].tolist() == [3, 4]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match=f"batch_size should be a positive integer value, but got "
                                         f"batch_size={bad}"):
        DataLoader(list(range(5)), batch_size=bad)


def test_conflicting_options():
    ds = list(range(5))
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=data.SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)


def test_num_workers_runs_in_process_and_says_so():
    with pytest.warns(UserWarning, match="no worker processes; the data is loaded in the main "
                                         "process"):
        loader = DataLoader(list(range(6)), batch_size=4, num_workers=4)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5]]
    assert data.get_worker_info() is None


def test_custom_sampler_batch_sampler_and_collate_fn():
    ds = [10, 11, 12, 13, 14]
    loader = DataLoader(ds, batch_size=2, sampler=[4, 0, 2])
    assert [b.tolist() for b in loader] == [[14, 10], [12]]
    loader = DataLoader(ds, batch_sampler=[[1, 2], [0]])
    assert [b.tolist() for b in loader] == [[11, 12], [10]] and len(loader) == 2
    loader = DataLoader(ds, batch_size=3, collate_fn=lambda batch: sum(batch))
    assert list(loader) == [33, 27]


def test_samplers_match_pytorch_where_deterministic():
    ds = list(range(7))
    assert list(data.SequentialSampler(ds)) == list(tdata.SequentialSampler(ds))
    for drop_last in (False, True):
        ours = data.BatchSampler(data.SequentialSampler(ds), 3, drop_last)
        theirs = tdata.BatchSampler(tdata.SequentialSampler(ds), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    rs = data.RandomSampler(ds, replacement=True, num_samples=20)
    draws = list(rs)
    assert len(draws) == len(rs) == 20 and set(draws) <= set(ds)
    longer = list(data.RandomSampler(ds, num_samples=10))
    assert len(longer) == 10 and sorted(longer[:7]) == ds
    sub = list(data.SubsetRandomSampler([2, 4, 6]))
    assert sorted(sub) == [2, 4, 6]


class Squares(data.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": float(i), "x2": np.array([i, i * i]), "name": f"item{i}"}


def test_dict_samples_collate_per_key_like_pytorch():
    class TorchSquares(tdata.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return Squares(5)[i]
    ours = as_lists(DataLoader(Squares(5), batch_size=2))
    theirs = as_lists(tdata.DataLoader(TorchSquares(), batch_size=2))
    assert ours == theirs
    assert ours[0]["name"] == ("list", ["item0", "item1"])


@pytest.mark.parametrize("batch", [
    [(1, 2.5, True), (3, 4.5, False)],
    [[np.float32(1.5), np.int32(2)], [np.float32(3.5), np.int32(4)]],
    [collections.namedtuple("P", "a b")(1, 2.0), collections.namedtuple("P", "a b")(3, 4.0)],
    [{"a": [1, 2], "b": {"c": 3.0}}, {"a": [3, 4], "b": {"c": 5.0}}],
])
def test_default_collate_matches_pytorch(batch):
    ours = as_lists([default_collate(batch)])
    theirs = as_lists([tdata.default_collate(batch)])
    assert ours == theirs


def test_default_collate_stacks_tensors():
    batch = [tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])]
    out = default_collate(batch)
    assert out.shape == (2, 2) and out.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_items_that_do_not_collate_say_why():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                                           r"\[2\] at entry 0 and \[3\] at entry 1"):
        default_collate([tg.zeros(2), tg.zeros(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal "
                                           "size"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match="batch must contain tensors, numpy arrays, numbers, dicts "
                                        "or lists; found <class 'object'>"):
        default_collate([object(), object()])
    ragged = [tg.zeros(2), tg.zeros(2), tg.zeros(5)]
    with pytest.raises(RuntimeError, match="entry 2"):
        list(DataLoader(ragged, batch_size=3))


class Countdown(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n, 0, -1))

    def __len__(self):
        return self.n


def test_iterable_dataset_batches_in_stream_order():
    loader = DataLoader(Countdown(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[7, 6, 5], [4, 3, 2], [1]] and len(loader) == 3
    loader = DataLoader(Countdown(7), batch_size=3, drop_last=True)
    assert [b.tolist() for b in loader] == [[7, 6, 5], [4, 3, 2]] and len(loader) == 2
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Countdown(3), shuffle=True)
    with pytest.raises(TypeError, match="IterableDataset"):
        Countdown(3)[0]


def test_seed_003_workflow():
    """Seed 003 §8.8: TensorDataset, random_split 80/20, shuffled training batches of 32."""
    tg.manual_seed(0)
    features, labels = tg.randn(100, 10), tg.randint(0, 2, (100,))
    dataset = TensorDataset(features, labels)
    train_size = int(0.8 * len(dataset))
    train, val = random_split(dataset, [train_size, len(dataset) - train_size])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loader = DataLoader(train, batch_size=32, shuffle=True, num_workers=4)
    seen = []
    for batch_features, batch_labels in loader:
        assert batch_features.shape[1:] == (10,) and batch_labels.dtype == tg.int64
        for row, label in zip(batch_features, batch_labels):
            seen.append(row.tolist())
            k = next(i for i in range(100) if features[i].tolist() == row.tolist())
            assert labels[k].item() == label.item()           # rows keep their labels
    assert len(seen) == 80 and len(loader) == 3
    val_rows = {tuple(val[i][0].tolist()) for i in range(len(val))}
    assert not val_rows & {tuple(r) for r in seen}             # no validation row in training
