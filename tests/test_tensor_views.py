"""Storage, offsets and strides (book ch. 2): views share storage, copies do not."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from oracle import assert_same, shapes, values

SETTINGS = settings(max_examples=40, deadline=None)


def points():
    return tg.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])


def test_storage_is_flat_and_shared_by_views():
    p = points()
    storage = p.storage()
    assert len(storage) == 6
    assert list(storage) == [4.0, 1.0, 5.0, 3.0, 2.0, 1.0]
    assert p.t().storage() is storage
    storage[0] = 2.0
    assert p[0, 0].item() == 2.0


def test_offsets_of_sub_tensors():
    p = points()
    second = p[1]
    assert second.storage_offset() == 2
    assert second.size() == tg.Size([2])
    assert second.stride() == (1,)
    assert p[1, 1].storage_offset() == 3
    assert p[:, 1].storage_offset() == 1 and p[:, 1].stride() == (2,)


def test_assignment_through_a_view_changes_the_original():
    p = points()
    p[1][0] = 10.0
    assert p.tolist() == [[4.0, 1.0], [10.0, 3.0], [2.0, 1.0]]
    second = p[1].clone()
    second[0] = -1.0
    assert p[1, 0].item() == 10.0


def test_strides_after_transpose():
    p = points()
    pt = p.t()
    assert p.stride() == (2, 1)
    assert pt.stride() == (1, 2)
    assert pt.shape == tg.Size([2, 3])
    assert not pt.is_contiguous() and p.is_contiguous()
    assert id(p.storage()) == id(pt.storage())
    some = tg.ones(3, 4, 5)
    transposed = some.transpose(0, 2)
    assert transposed.shape == (5, 4, 3)
    assert some.stride() == (20, 5, 1) and transposed.stride() == (1, 5, 20)


def test_contiguous_copies_only_when_needed():
    p = points()
    assert p.contiguous() is p
    pt = p.t()
    c = pt.contiguous()
    assert c.is_contiguous() and c.stride() == (3, 1)
    assert c.storage() is not p.storage()
    assert c.tolist() == pt.tolist()
    assert list(c.storage()) == [4.0, 5.0, 2.0, 1.0, 3.0, 1.0]


def test_view_errors_on_non_contiguous_and_reshape_copies():
    pt = points().t()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        pt.view(6)
    r = pt.reshape(6)
    assert r.tolist() == [4.0, 5.0, 2.0, 1.0, 3.0, 1.0]
    assert r.storage() is not pt.storage()
    v = points().view(2, 3)
    assert v.storage() is not None and v.stride() == (3, 1)
    with pytest.raises(RuntimeError, match=r"shape '\[4, -1\]' is invalid for input of size 6"):
        points().view(4, -1)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        points().view(-1, -1)


def test_numpy_shares_memory_both_ways():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = tg.from_numpy(a)
    a[0, 0] = 100.0
    assert t[0, 0].item() == 100.0
    t[1, 2] = -5.0
    assert a[1, 2] == -5.0
    back = t.numpy()
    back[0, 1] = 7.0
    assert t[0, 1].item() == 7.0 and a[0, 1] == 7.0
    strided = tg.from_numpy(a[:, ::2])
    assert strided.stride() == (3, 2) and strided.tolist() == a[:, ::2].tolist()
    with pytest.raises(ValueError, match="negative"):
        tg.from_numpy(a[:, ::-1])
    with pytest.raises(TypeError, match="uint16"):
        tg.from_numpy(np.zeros(3, dtype=np.uint16))


VIEW_OPS = {
    "transpose": lambda x: x.transpose(0, -1), "permute": lambda x: x.permute(*reversed(range(x.dim()))),
    "unsqueeze": lambda x: x.unsqueeze(1), "squeeze": lambda x: x.unsqueeze(0).squeeze(0),
    "narrow": lambda x: x.narrow(0, 1, 1), "select": lambda x: x.select(0, 1),
    "slice_step": lambda x: x[::2], "expand": lambda x: x.unsqueeze(0).expand(3, *x.shape),
    "view": lambda x: x.contiguous().view(-1), "flatten": lambda x: x.flatten(),
    "diagonal": lambda x: x.diagonal(0, 0, -1), "unbind": lambda x: x.unbind(-1)[0],
    "chunk": lambda x: x.chunk(2)[-1], "split": lambda x: x.split(1)[1],
    "as_strided": lambda x: x.contiguous().as_strided((1, 2), (1, 2), 1),
}


@pytest.mark.parametrize("name", sorted(VIEW_OPS))
@given(shape=shapes(2, 4, 2, 4), seed=st.integers(0, 1000))
@SETTINGS
def test_views_have_pytorchs_geometry_and_share_storage(name, shape, seed):
    x = values(shape, seed)
    ours, theirs = tg.tensor(x), torch.tensor(x)
    vo, vt = VIEW_OPS[name](ours), VIEW_OPS[name](theirs)
    assert tuple(vo.shape) == tuple(vt.shape)
    assert vo.stride() == vt.stride()
    assert vo.storage_offset() == vt.storage_offset()
    assert vo.is_contiguous() == vt.is_contiguous()
    assert_same(vo, vt)
    if name not in ("view", "flatten") or ours.is_contiguous():
        assert vo.storage() is ours.storage()  # a view, not a copy


def test_reshape_returns_a_view_when_possible():
    x = tg.arange(24).view(2, 3, 4)
    assert x.reshape(6, 4).storage() is x.storage()
    assert x.transpose(1, 2).reshape(2, 12).storage() is not x.storage()
    assert x[:, :, :2].reshape(2, 6).storage() is not x.storage()
    assert x.permute(1, 0, 2).reshape(3, 8).tolist() == \
        torch.arange(24).view(2, 3, 4).permute(1, 0, 2).reshape(3, 8).tolist()


def test_size_and_metadata():
    x = tg.zeros(2, 3, 4)
    assert isinstance(x.shape, tg.Size) and x.shape == (2, 3, 4)
    assert repr(x.shape) == "torch.Size([2, 3, 4])"
    assert x.size(-1) == 4 and x.dim() == x.ndim == 3 and x.numel() == 24
    assert x.shape[1:] == tg.Size([3, 4]) and isinstance(x.shape[1:], tg.Size)
    assert x.element_size() == 4 and x.double().element_size() == 8
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                                         r"\[-3, 2\], but got 3\)"):
        x.size(3)


def test_expand_is_stride_zero_and_clone_copies():
    v = tg.tensor([1.0, 2.0, 3.0])
    e = v.expand(4, 3)
    assert e.stride() == (0, 1) and e.storage() is v.storage()
    c = e.clone()
    assert c.stride() == (3, 1) and c.storage() is not v.storage()
    with pytest.raises(RuntimeError, match=r"The expanded size of the tensor \(4\) must match the "
                                           r"existing size \(3\) at non-singleton dimension 1"):
        v.expand(2, 4)


def test_data_ptr_and_views_move_with_offset():
    x = tg.arange(10, dtype=tg.float64)
    assert x[3:].data_ptr() - x.data_ptr() == 3 * 8
    assert x[3:].storage_offset() == 3


def _both(fn):
    """fn(L) in both frameworks, as numpy arrays with their shapes and dtypes' names."""
    import warnings
    out = []
    for L in (torch, tg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            r = fn(L)
        out.append((np.asarray(r.tolist()), tuple(r.shape), str(r.dtype)))
    (a, sa, da), (b, sb, db) = out
    assert sa == sb and da == db and np.array_equal(a, b), (out[0], out[1])


@pytest.mark.parametrize("case", [
    lambda L: (lambda d: d[d > 100])(L.ones(2, 2)),            # a mask that matches nothing
    lambda L: (lambda d: d.__setitem__(d > 100, 0) or d)(L.ones(2, 2)),
    lambda L: L.zeros(2, 2).nonzero(),
    lambda L: L.zeros(0, 3)[:, 1:].clone(),                   # an empty view past the end
    lambda L: L.arange(3)[[]],
    lambda L: L.arange(3)[True],                              # a bool adds a dimension
    lambda L: L.arange(3)[False],
    lambda L: L.arange(6).reshape(2, 3)[True, 0],
    lambda L: L.arange(6.).reshape(2, 3)[L.tensor([1, 0], dtype=L.uint8)],  # uint8: a mask
    lambda L: L.arange(6.).reshape(2, 3)[:, L.tensor([1, 0, 1], dtype=L.uint8)],
    lambda L: (lambda x: x.__setitem__(L.tensor([1, 0, 1], dtype=L.uint8), L.tensor([1.0, 2.0]))
               or x)(L.tensor([10.0, 20.0, 30.0])),
])
def test_indexing_corner_cases_match_pytorch(case):
    _both(case)


def test_a_zero_dim_integer_tensor_indexes_as_a_view():
    for L in (torch, tg):
        c = L.zeros(2, 2, dtype=L.long)
        row = c[L.tensor(1)]
        row[0] = 7
        assert c.tolist() == [[0, 0], [7, 0]] and row.storage_offset() == 2
        c[L.tensor(0)] = 3
        assert c.tolist() == [[3, 3], [7, 0]]


def test_an_out_of_range_int_index_names_its_position():
    x = tg.zeros(2, 3, 4)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        x[0, 3]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 2 with size 3"):
        x[None, 0, 3]


def test_a_read_only_numpy_array_is_shared_but_not_written():
    a = np.ones(3)
    a.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        t = tg.from_numpy(a)
    assert (t * 2).tolist() == [2.0, 2.0, 2.0]
    for write in (lambda: t.add_(1), lambda: t.__setitem__(0, 5.0), lambda: t.zero_(),
                  lambda: t.uniform_(), lambda: t.__setitem__(tg.tensor([0]), 5.0)):
        with pytest.raises(RuntimeError, match="read-only"):
            write()
    assert a.tolist() == [1.0, 1.0, 1.0]
