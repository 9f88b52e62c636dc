"""dtypes and promotion, creation functions, conversions and random numbers."""
import itertools

import numpy as np
import pytest
import torch

import tinygrad_edu as tg
from oracle import TORCH_DTYPE, assert_same

DTYPES = list(TORCH_DTYPE)


def sample(dt, dim):
    data = [1, 0, 1] if dim else 1
    return tg.tensor(data, dtype=dt), torch.tensor(data, dtype=TORCH_DTYPE[dt])


@pytest.mark.parametrize("a,b", list(itertools.product(DTYPES, DTYPES)))
def test_promotion_matches_pytorch_for_tensors_and_zero_dim(a, b):
    for dim_a, dim_b in ((1, 1), (1, 0), (0, 1), (0, 0)):
        (oa, ta), (ob, tb) = sample(a, dim_a), sample(b, dim_b)
        assert TORCH_DTYPE[tg.result_type(oa, ob)] == torch.result_type(ta, tb)
    assert TORCH_DTYPE[tg.promote_types(a, b)] == torch.promote_types(TORCH_DTYPE[a],
                                                                      TORCH_DTYPE[b])


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("scalar", [True, 2, 2.5])
def test_promotion_with_python_numbers(dt, scalar):
    o, t = sample(dt, 1)
    assert TORCH_DTYPE[tg.result_type(o, scalar)] == torch.result_type(t, scalar)


def test_arithmetic_result_dtypes():
    i = tg.tensor([1, 2, 3])
    assert (i + 1).dtype == tg.int64 and (i * 2.5).dtype == tg.float32
    assert (i / 2).dtype == tg.float32 and (i // 2).dtype == tg.int64
    assert (i.float() + i.double()).dtype == tg.float64
    assert (tg.ones(2) * tg.tensor(2.0, dtype=tg.float64)).dtype == tg.float32
    assert (tg.tensor([True]) + tg.tensor([True])).dtype == tg.bool
    assert i.exp().dtype == tg.float32 and i.sum().dtype == tg.int64
    assert tg.tensor([True, False]).sum().dtype == tg.int64


def test_tensor_infers_dtypes_like_pytorch():
    assert tg.tensor([1, 2]).dtype == tg.int64
    assert tg.tensor([1.0, 2]).dtype == tg.float32
    assert tg.tensor([True, False]).dtype == tg.bool
    assert tg.tensor(np.zeros(3)).dtype == tg.float64
    assert tg.tensor(np.zeros(3, dtype=np.int32)).dtype == tg.int32
    assert tg.tensor(3.5).shape == () and tg.tensor(3.5).item() == 3.5
    assert tg.tensor([[1, 2], [3, 4]], dtype=tg.float64).dtype == tg.float64
    tg.set_default_dtype(tg.float64)
    try:
        assert tg.tensor([1.5]).dtype == tg.float64 and tg.zeros(1).dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)


def test_casts_and_type_names():
    x = tg.tensor([1.7, -1.7, 0.0])
    assert x.long().tolist() == [1, -1, 0]  # truncation toward zero
    assert x.bool().tolist() == [True, True, False]
    assert x.int().dtype == tg.int32 and x.short().dtype == tg.int16
    assert x.double().dtype == tg.float64 and x.byte().dtype == tg.uint8
    assert x.type() == "torch.FloatTensor" and x.long().type() == "torch.LongTensor"
    assert x.type(tg.float64).dtype == tg.float64
    assert x.type("torch.DoubleTensor").dtype == tg.float64
    assert x.to(tg.int64).dtype == tg.int64 and x.to(x) is x
    assert x.to("cpu") is x and x.cpu() is x
    assert repr(tg.float32) == "torch.float32"
    with pytest.raises(TypeError, match="float16 is not supported"):
        x.half()


def test_creation_functions():
    assert tg.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert tg.ones((2,)).tolist() == [1.0, 1.0]
    assert tg.full((2,), 7).dtype == tg.int64 and tg.full((2,), 7.0).dtype == tg.float32
    assert tg.full((2,), True).dtype == tg.bool
    assert tg.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert_same(tg.arange(5), torch.arange(5))
    assert_same(tg.arange(1, 2.5, 0.5), torch.arange(1, 2.5, 0.5))
    assert_same(tg.arange(10, 0, -3), torch.arange(10, 0, -3))
    assert_same(tg.linspace(0, 1, 5), torch.linspace(0, 1, 5))
    x = tg.ones(2, 3, dtype=tg.float64)
    for fn in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
        y = getattr(tg, fn)(x)
        assert y.shape == x.shape and y.dtype == tg.float64
    assert tg.full_like(x, 2).tolist() == [[2.0] * 3] * 2
    assert x.new_zeros(4).dtype == tg.float64 and x.new_tensor([1, 2]).dtype == tg.float64
    assert tg.empty(0, 3).shape == (0, 3) and tg.empty(0, 3).numel() == 0
    assert tg.Tensor([1, 2]).dtype == tg.float32 and tg.Tensor(2, 3).shape == (2, 3)


def test_creation_errors():
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        tg.zeros(2, -1)
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        tg.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        tg.arange(0, 5, -1)
    with pytest.raises(ValueError, match="expected sequence of length 2 at dim 1 \\(got 3\\)"):
        tg.tensor([[1, 2], [3, 4, 5]])
    with pytest.raises(TypeError, match="invalid data type 'str'"):
        tg.tensor(["a"])
    with pytest.raises(TypeError, match="size must be a sequence of ints"):
        tg.zeros(2.5)


def test_conversions_item_tolist_float():
    x = tg.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]]
    assert float(x[0, 0]) == 1.5 and int(tg.tensor(3)) == 3
    assert x[0, 1].item() == 2.0 and isinstance(tg.tensor(3).item(), int)
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        x.item()
    with pytest.raises(ValueError, match="only one element tensors can be converted"):
        float(x)
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is "
                                           "ambiguous"):
        bool(x)
    with pytest.raises(RuntimeError, match="Use tensor.detach\\(\\).numpy\\(\\)"):
        tg.ones(1, requires_grad=True).numpy()
    assert [float(v) for v in tg.tensor([1.0, 2.0])] == [1.0, 2.0]
    assert len(tg.zeros(4, 2)) == 4
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(tg.tensor(1.0))
    assert np.asarray(tg.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]


def test_random_numbers_are_reproducible_and_well_distributed():
    tg.manual_seed(42)
    a = tg.rand(1000)
    tg.manual_seed(42)
    b = tg.rand(1000)
    assert tg.equal(a, b)
    assert 0 <= a.min().item() and a.max().item() < 1 and abs(a.mean().item() - 0.5) < 0.05
    n = tg.randn(20000)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    r = tg.randint(3, 7, (1000,))
    assert r.dtype == tg.int64 and r.min().item() >= 3 and r.max().item() <= 6
    p = tg.randperm(10)
    assert sorted(p.tolist()) == list(range(10))
    g = tg.Generator().manual_seed(7)
    assert tg.equal(tg.rand(5, generator=g), tg.rand(5, generator=tg.Generator().manual_seed(7)))
    u = tg.empty(5000).uniform_(-2, 2)
    assert -2 <= u.min().item() and u.max().item() < 2
    m = tg.empty(5000).normal_(3.0, 0.5)
    assert abs(m.mean().item() - 3.0) < 0.05
    assert set(tg.empty(100).bernoulli_(0.5).tolist()) <= {0.0, 1.0}
    probs = tg.tensor([0.0, 1.0, 0.0])
    assert tg.multinomial(probs, 3, replacement=True).tolist() == [1, 1, 1]


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor",
                                  "ShortTensor", "ByteTensor", "BoolTensor"])
def test_legacy_tensor_types_build_cast_and_check_as_in_pytorch(name):
    ours, theirs = getattr(tg, name), getattr(torch, name)
    assert repr(ours) == repr(theirs) and TORCH_DTYPE[ours.dtype] == theirs.dtype
    assert_same(ours([[1, 0], [2, 1]]), theirs([[1, 0], [2, 1]]))
    assert_same(ours(np.array([3, 1])), theirs(np.array([3, 1])))
    assert ours(2, 3).shape == theirs(2, 3).shape and ours(tg.Size([4])).shape == (4,)
    assert_same(ours(), theirs())
    assert isinstance(tg.ones(2).type(ours), ours)
    for dt in TORCH_DTYPE:
        assert isinstance(tg.ones(2, dtype=dt), ours) == (dt is ours.dtype)
    assert not isinstance(3, ours)


def test_legacy_constructor_shares_a_tensor_of_its_dtype_and_refuses_others():
    a = tg.ones(2)
    b = tg.FloatTensor(a)
    b[0] = 5.0
    assert a.tolist() == [5.0, 1.0]
    with pytest.raises(TypeError, match="float32.*float64"):
        tg.FloatTensor(tg.ones(2, dtype=tg.float64))
    assert_same(tg.Tensor(), torch.Tensor())
    assert_same(tg.Tensor([]), torch.Tensor([]))


@pytest.mark.parametrize("case", [
    lambda L: L.tensor([2 ** 63]), lambda L: L.tensor([1, -2 ** 63 - 1]),
    lambda L: L.tensor([300], dtype=L.uint8), lambda L: L.tensor([2 ** 40], dtype=L.int32),
    lambda L: L.tensor(40000, dtype=L.int16), lambda L: L.tensor([300.5], dtype=L.uint8),
    lambda L: L.tensor([1e30], dtype=L.int64), lambda L: L.tensor([float("nan")], dtype=L.long),
    lambda L: L.full((2,), 300, dtype=L.uint8), lambda L: L.full((1,), 2 ** 40, dtype=L.int32),
    lambda L: L.ones(1, dtype=L.uint8).fill_(300),
    lambda L: L.ones(1, dtype=L.uint8).__setitem__(0, 300),
    lambda L: L.ones(1, dtype=L.uint8).clamp(0, 300),
    lambda L: L.ones(1, dtype=L.uint8).masked_fill(L.tensor([True]), 256),
])
def test_numbers_that_do_not_fit_an_integer_dtype_are_refused_as_in_pytorch(case):
    with pytest.raises((ValueError, RuntimeError)) as theirs:
        case(torch)
    with pytest.raises(theirs.type, match="overflow|Overflow"):
        case(tg)


def test_numbers_that_fit_or_wrap_as_in_pytorch():
    for case in (lambda L: L.tensor([-1, 255, -255], dtype=L.uint8),
                 lambda L: L.ones(1, dtype=L.uint8) + 300,            # arithmetic wraps
                 lambda L: L.tensor(np.array([300]), dtype=L.uint8),  # numpy data wraps
                 lambda L: L.tensor([1e40]), lambda L: L.tensor(range(3)),
                 lambda L: L.tensor([True, 5], dtype=L.bool)):
        assert_same(case(tg), case(torch))
