"""repr(tensor) must read exactly like PyTorch's: every test compares with torch's own repr."""
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import printing
from tinygrad_edu import vector as V
from oracle import fake_cuda_kernels

DTYPES = ["float32", "float64", "int64", "int32", "int16", "uint8", "bool"]
FLOAT_KINDS = ["normal", "tiny", "huge", "mixed", "integers", "extreme", "zeros"]
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def default_options():
    """Every test starts, and leaves, both libraries with their default print options."""
    printing.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    yield
    printing.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    tg.set_default_dtype(tg.float32)
    torch.set_default_dtype(torch.float32)


def both(arr: np.ndarray, requires_grad: bool = False):
    """The same array as our tensor and as torch's."""
    ours = tg.tensor(arr, requires_grad=requires_grad)
    theirs = torch.tensor(arr, requires_grad=requires_grad)
    return ours, theirs


def assert_same_repr(ours, theirs) -> None:
    assert repr(ours) == repr(theirs)


def make_values(rng: np.random.Generator, dtype: str, kind: str, special: bool,
                n: int) -> np.ndarray:
    """`n` values of `dtype` in the range `kind` names, optionally with nan/inf/-0. sprinkled in."""
    if dtype == "bool":
        return rng.random(n) < 0.5
    if dtype not in ("float32", "float64"):
        info = np.iinfo(dtype)
        low, high = (info.min, info.max) if kind in ("huge", "extreme") else (max(info.min, -20),
                                                                              20)
        return rng.integers(low, high, n, endpoint=True).astype(dtype)
    sign = rng.choice([-1.0, 1.0], n)
    if kind == "normal":
        vals = rng.standard_normal(n) * 10.0 ** rng.integers(-2, 4)
    elif kind == "tiny":
        vals = rng.standard_normal(n) * 1e-6
    elif kind == "huge":
        vals = rng.standard_normal(n) * 1e12
    elif kind == "mixed":
        vals = sign * 10.0 ** rng.uniform(-8, 8, n)
    elif kind == "integers":
        vals = rng.integers(-1000, 1000, n).astype(np.float64) * rng.choice([1, 1e6])
    elif kind == "extreme":  # three-digit exponents in float64; overflow to inf in float32
        vals = sign * 10.0 ** rng.uniform(-320, 308, n)
    else:
        vals = np.zeros(n)
    if special:
        pick = rng.random(n) < 0.2
        vals[pick] = rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0], int(pick.sum()))
    with np.errstate(over="ignore"):
        return vals.astype(dtype)


@st.composite
def arrays(draw, max_dims: int = 4) -> np.ndarray:
    """Shapes 0-d to 4-d, sizes 0 to ~5000 (past the summarising threshold), any dtype and range."""
    dtype = draw(st.sampled_from(DTYPES))
    ndim = draw(st.integers(0, max_dims))
    if draw(st.integers(0, 3)) == 0:  # a big one: most of these are summarised
        biggest = {0: 2, 1: 5000, 2: 80, 3: 20, 4: 10}[ndim]
        shape = tuple(draw(st.lists(st.integers(2, biggest), min_size=ndim, max_size=ndim)))
    else:
        shape = tuple(draw(st.lists(st.integers(0, 6), min_size=ndim, max_size=ndim)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    vals = make_values(rng, dtype, draw(st.sampled_from(FLOAT_KINDS)), draw(st.booleans()),
                       math.prod(shape))
    return vals.reshape(shape)


# ---------------------------------------------------------------------------------------- values


@SETTINGS
@given(arrays())
def test_repr_matches_torch(arr):
    assert_same_repr(*both(arr))


@SETTINGS
@given(hnp.arrays(st.sampled_from([np.float32, np.float64]),
                  hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
                  elements={"allow_nan": True, "allow_infinity": True, "allow_subnormal": True}))
def test_repr_matches_torch_on_any_float(arr):
    """Hypothesis' float corner cases: subnormals, the largest floats, -0., nan, inf."""
    assert_same_repr(*both(arr))


@SETTINGS
@given(hnp.arrays(st.sampled_from([np.int64, np.int32, np.int16, np.uint8, np.bool_]),
                  hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6)))
def test_repr_matches_torch_on_any_int(arr):
    assert_same_repr(*both(arr))


@SETTINGS
@given(arrays(), st.sampled_from(["permute", "step", "expand"]))
def test_non_contiguous_views_print_their_elements(arr, how):
    ours, theirs = both(arr)
    if how == "permute":
        dims = tuple(range(arr.ndim - 1, -1, -1))
        ours, theirs = ours.permute(dims), theirs.permute(dims)
    elif how == "step" and arr.ndim:
        ours, theirs = ours[::2], theirs[::2]
    elif how == "expand":
        ours, theirs = ours.unsqueeze(0).expand(2, *arr.shape), \
            theirs.unsqueeze(0).expand(2, *arr.shape)
    assert_same_repr(ours, theirs)


@pytest.mark.parametrize("data, expected", [
    ([1.0, 4.0, 2.0], "tensor([1., 4., 2.])"),
    ([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]],
     "tensor([[4., 1.],\n        [5., 3.],\n        [2., 1.]])"),
    (3.5, "tensor(3.5000)"),
    ([], "tensor([])"),
    ([1, 2, 3], "tensor([1, 2, 3])"),
    ([True, False], "tensor([ True, False])"),
    ([1.0, 2.5, -3.25], "tensor([ 1.0000,  2.5000, -3.2500])"),
    ([1e-5, 1.0], "tensor([1.0000e-05, 1.0000e+00])"),
    ([1e9, 1.0], "tensor([1.0000e+09, 1.0000e+00])"),
    ([float("nan"), float("inf"), -0.0, 2.0], "tensor([nan, inf, -0., 2.])"),
])
def test_book_examples(data, expected):
    """The outputs the book shows (ch. 3), literally, and torch agrees."""
    assert repr(tg.tensor(data)) == expected == repr(torch.tensor(data))


def test_three_d_blocks_are_separated_by_blank_lines():
    arr = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    expected = ("tensor([[[ 0.,  1.,  2.],\n"
                "         [ 3.,  4.,  5.]],\n"
                "\n"
                "        [[ 6.,  7.,  8.],\n"
                "         [ 9., 10., 11.]]])")
    assert repr(tg.tensor(arr)) == expected == repr(torch.tensor(arr))


def test_long_rows_wrap_at_80_columns():
    arr = np.linspace(-1, 1, 30, dtype=np.float32)
    text = repr(tg.tensor(arr))
    assert text == repr(torch.tensor(arr))
    assert max(len(line) for line in text.splitlines()) <= 80 and text.count("\n") >= 2


def test_summarised_with_ellipsis_past_the_threshold():
    expected = "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    assert repr(tg.arange(2000)) == expected == repr(torch.arange(2000))
    arr = np.arange(1001 * 2, dtype=np.float64).reshape(1001, 2)
    text = repr(tg.tensor(arr))
    assert text == repr(torch.tensor(arr))
    assert "        ...,\n" in text


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 1), (3, 0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_tensors(shape, dtype):
    arr = np.zeros(shape, dtype=dtype)
    assert_same_repr(*both(arr))


def test_printing_reads_elements_not_autograd():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    version = x._version_number
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"  # x.numpy() would refuse
    assert x.grad_fn is None and x.grad is None and x._version_number == version
    with tg.no_grad():
        assert repr(x * 2) == "tensor([2., 4.])"  # no graph, so no grad_fn suffix


# -------------------------------------------------------------------------------------- suffixes


@SETTINGS
@given(arrays(), st.sampled_from(["leaf", "mul", "add"]))
def test_autograd_suffixes_match_torch(arr, op):
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64 if arr.dtype.itemsize > 4 else np.float32)
    ours, theirs = both(arr, requires_grad=True)
    if op == "mul":
        ours, theirs = ours * 1, theirs * 1
    elif op == "add":
        ours, theirs = ours + 0, theirs + 0
    assert_same_repr(ours, theirs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtype_suffix_only_for_non_default_dtypes(dtype):
    ours, theirs = both(np.array([1, 0, 1], dtype=dtype))
    assert repr(ours) == repr(theirs)
    assert ("dtype=" in repr(ours)) == (dtype not in ("float32", "int64", "bool"))


def test_suffix_wraps_to_a_new_line_like_torch():
    # The row ends near column 80: the dtype suffix no longer fits and moves to its own line.
    arr = np.arange(1, 7, dtype=np.float64) * 1000.5  # six 9-character elements: 74 columns
    for grad in (False, True):
        ours, theirs = both(arr, requires_grad=grad)
        assert repr(ours) == repr(theirs)
        assert repr(ours).splitlines()[-1].startswith("       dtype=")


def test_default_dtype_float64_shows_float32():
    tg.set_default_dtype(tg.float64)
    torch.set_default_dtype(torch.float64)
    for dtype in ("float32", "float64"):
        for arr in (np.array([1.5, 2.0], dtype=dtype), np.zeros((0,), dtype=dtype)):
            assert_same_repr(*both(arr))


def test_parameter_prefix():
    arr = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    ours = tg.tensor(arr, requires_grad=True)
    expected = repr(torch.nn.Parameter(torch.tensor(arr)))
    assert printing.tensor_repr(ours, prefix="Parameter containing:\n") == expected
    assert expected.startswith("Parameter containing:\ntensor([[1., 2.],\n        [3., 4.]]")


def test_subclasses_print_their_name():
    class Special(V.Tensor):
        pass

    t = Special._make(V.Storage(np.array([1.0, 2.0], np.float32), V.float32), 0, (2,), (1,))
    assert repr(t) == "Special([1., 2.])"


def test_cuda_tensors_show_their_device(monkeypatch):
    monkeypatch.setitem(V._kernels_cache, "cuda", fake_cuda_kernels())
    dev = V.device("cuda:0")
    t = V.Tensor._make(V.Storage(np.array([1.0, 2.0]), V.float64, dev), 0, (2,), (1,))
    assert repr(t) == "tensor([1., 2.], device='cuda:0', dtype=torch.float64)"
    t.requires_grad_(True)
    assert repr(t) == ("tensor([1., 2.], device='cuda:0', dtype=torch.float64, "
                       "requires_grad=True)")
    e = V.Tensor._make(V.Storage(np.zeros(0, np.int64), V.int64, dev), 0, (0, 2), (2, 1))
    assert repr(e) == "tensor([], device='cuda:0', size=(0, 2), dtype=torch.int64)"


# --------------------------------------------------------------------------------------- options


def set_both(**options) -> None:
    printing.set_printoptions(**options)
    torch.set_printoptions(**options)


@SETTINGS
@given(arrays(max_dims=3), st.integers(0, 8), st.integers(1, 5), st.integers(10, 160),
       st.sampled_from([0, 5, 50, 1000, math.inf]), st.sampled_from([None, True, False]))
def test_printoptions_match_torch(arr, precision, edgeitems, linewidth, threshold, sci_mode):
    set_both(precision=precision, edgeitems=edgeitems, linewidth=linewidth, threshold=threshold,
             sci_mode=sci_mode)
    try:
        assert_same_repr(*both(arr))
    finally:
        set_both(profile="default")


@pytest.mark.parametrize("profile", ["default", "short", "full"])
def test_profiles(profile):
    set_both(profile=profile)
    assert printing.get_printoptions() == torch._tensor_str.get_printoptions()
    for arr in (np.random.default_rng(0).standard_normal((40, 30)), np.arange(1500)):
        assert_same_repr(*both(arr))


def test_edgeitems_zero_matches_torch_quirks():
    set_both(edgeitems=0, threshold=5)
    for arr in (np.arange(10), np.arange(12.0).reshape(3, 4), np.array([1.5, 2.0])):
        assert_same_repr(*both(arr))


def test_sci_mode_is_reset_by_every_call_and_printoptions_restores():
    printing.set_printoptions(sci_mode=True)
    assert repr(tg.tensor([1.5])) == "tensor([1.5000e+00])"
    printing.set_printoptions(precision=2)  # like torch: not passing sci_mode means automatic
    assert repr(tg.tensor([1.5])) == "tensor([1.50])"
    with printing.printoptions(precision=1, sci_mode=True):
        assert repr(tg.tensor([1.5])) == "tensor([1.5e+00])"
    assert repr(tg.tensor([1.5])) == "tensor([1.50])"


def test_top_level_set_printoptions_forwards():
    tg.set_printoptions(precision=2)
    assert repr(tg.tensor([1.12345])) == "tensor([1.12])"


@pytest.mark.parametrize("options, error", [
    ({"profile": "loud"}, ValueError), ({"precision": 2.5}, TypeError),
    ({"edgeitems": -1}, ValueError), ({"linewidth": "80"}, TypeError),
    ({"threshold": True}, TypeError),
])
def test_bad_printoptions_raise(options, error):
    with pytest.raises(error, match=next(iter(options))):
        printing.set_printoptions(**options)


def test_no_numpy_warnings_while_formatting():
    arr = np.array([np.nan, np.inf, 1e-300, 1e300, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same_repr(*both(arr))


def test_format_of_a_zero_dim_tensor_is_its_numbers():
    for L in (torch, tg):
        assert f"{L.tensor(3.0)}" == "3.0" and "{}".format(L.tensor(3)) == "3"
        assert f"{L.tensor(0.123456, requires_grad=True):.3f}" == "0.123"
        assert f"{L.tensor([1.0, 2.0])}" == "tensor([1., 2.])"
        with pytest.raises(TypeError, match="unsupported format string"):
            f"{L.tensor([1.0, 2.0]):.2f}"


@pytest.mark.parametrize("op", [lambda x: x.max(1), lambda x: x.min(0), lambda x: x.sort(),
                                lambda x: x.topk(1), lambda x: x.kthvalue(1),
                                lambda x: x.median(1)])
def test_values_indices_results_print_as_pytorchs_return_types(op):
    data = [[1.0, 5.0], [3.0, 2.0]]
    assert repr(op(tg.tensor(data))) == repr(op(torch.tensor(data)))
