"""Convolutions against PyTorch in float64: F.conv2d / F.conv1d values and the gradients of
input, weight and bias over generated shapes, strides, paddings (numbers, "same", "valid"),
dilations and groups; the Conv1d/Conv2d modules (init, repr, padding modes); PyTorch's messages
for bad input; gradcheck; and the im2col/col2im primitives themselves."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.kernels_cpu as K
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from oracle import twin

SETTINGS = settings(deadline=None, max_examples=40,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def torch_or_error(fn):
    """fn() with PyTorch's 'same' padding warning silenced; an exception is returned."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 (any error PyTorch raises is the expectation)
            return e


def check_conv(fn_ours, fn_theirs, x, w, b, kwargs, layout="contiguous", rtol=1e-10,
               atol=1e-12):
    """Same output and same input/weight/bias gradients as PyTorch, or the same error."""
    expected = torch_or_error(lambda: fn_theirs(torch.tensor(x), torch.tensor(w),
                                                None if b is None else torch.tensor(b), **kwargs))
    if isinstance(expected, Exception):
        with pytest.raises(type(expected)) as info:
            fn_ours(tg.tensor(x), tg.tensor(w), None if b is None else tg.tensor(b), **kwargs)
        assert str(info.value) == str(expected)
        return False
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = None if b is None else torch.tensor(b, requires_grad=True)
    if layout == "transposed":   # a non-contiguous input with the same values
        xo_leaf = tg.tensor(np.ascontiguousarray(np.swapaxes(x, -1, -2)), requires_grad=True)
        xo = xo_leaf.transpose(-1, -2)
    else:
        xo_leaf = xo = tg.tensor(x, requires_grad=True)
    wo = tg.tensor(w, requires_grad=True)
    bo = None if b is None else tg.tensor(b, requires_grad=True)
    yt = torch_or_error(lambda: fn_theirs(xt, wt, bt, **kwargs))
    yo = fn_ours(xo, wo, bo, **kwargs)
    assert tuple(yo.shape) == tuple(yt.shape)
    assert type(yo.grad_fn).__name__ == type(yt.grad_fn).__name__
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    upstream = np.random.default_rng(3).standard_normal(tuple(yt.shape))
    yt.backward(torch.tensor(upstream))
    yo.backward(tg.tensor(upstream))
    grad_x = xo_leaf.grad.numpy()
    if layout == "transposed":
        grad_x = np.swapaxes(grad_x, -1, -2)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=rtol, atol=atol)
    np.testing.assert_allclose(wo.grad.numpy(), wt.grad.numpy(), rtol=rtol, atol=atol)
    if b is not None:
        np.testing.assert_allclose(bo.grad.numpy(), bt.grad.numpy(), rtol=rtol, atol=atol)
    return True


pair = st.tuples(st.integers(1, 3), st.integers(1, 3))


@SETTINGS
@given(n=st.integers(0, 3), groups=st.integers(1, 3), cg=st.integers(1, 3),
       og=st.integers(1, 3), hw=st.tuples(st.integers(1, 9), st.integers(1, 9)),
       kernel=pair, stride=pair, dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       padding=st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.integers(0, 2),
                         st.sampled_from(["same", "valid"])),
       bias=st.booleans(), layout=st.sampled_from(["contiguous", "transposed"]),
       seed=st.integers(0, 2**16))
def test_conv2d_matches_torch(n, groups, cg, og, hw, kernel, stride, dilation, padding, bias,
                              layout, seed):
    if padding == "same":
        stride = (1, 1) if seed % 4 else stride   # mostly legal; sometimes PyTorch's error
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, groups * cg) + hw)
    w = rng.standard_normal((groups * og, cg) + kernel)
    b = rng.standard_normal(groups * og) if bias else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    check_conv(F.conv2d, TF.conv2d, x, w, b, kwargs, layout if n else "contiguous")


@SETTINGS
@given(n=st.integers(1, 3), groups=st.integers(1, 2), cg=st.integers(1, 3),
       og=st.integers(1, 3), length=st.integers(1, 12), kernel=st.integers(1, 4),
       stride=st.integers(1, 3), dilation=st.integers(1, 3),
       padding=st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"])),
       bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv1d_matches_torch(n, groups, cg, og, length, kernel, stride, dilation, padding, bias,
                              seed):
    if padding == "same":
        stride = 1
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, groups * cg, length))
    w = rng.standard_normal((groups * og, cg, kernel))
    b = rng.standard_normal(groups * og) if bias else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    check_conv(F.conv1d, TF.conv1d, x, w, b, kwargs)


def test_conv_generated_cases_mostly_compute():
    """The hypothesis tests above must mostly compare values, not only errors."""
    rng = np.random.default_rng(0)
    computed = 0
    for _ in range(20):
        x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
        computed += check_conv(F.conv2d, TF.conv2d, x, w, rng.standard_normal(6),
                               dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2))
    assert computed == 20


def test_unbatched_inputs_and_node_names():
    rng = np.random.default_rng(1)
    check_conv(F.conv2d, TF.conv2d, rng.standard_normal((3, 6, 5)),
               rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4), dict(padding=1))
    check_conv(F.conv1d, TF.conv1d, rng.standard_normal((3, 6)),
               rng.standard_normal((4, 3, 2)), None, dict(stride=2))
    y = F.conv2d(tg.randn(3, 6, 5, requires_grad=True), tg.randn(4, 3, 3, 3))
    assert type(y.grad_fn).__name__ == "SqueezeBackward1"      # as PyTorch
    assert type(y.grad_fn.next_functions[0][0]).__name__ == "ConvolutionBackward0"
    y = F.conv1d(tg.randn(2, 3, 6, requires_grad=True), tg.randn(4, 3, 2))
    assert type(y.grad_fn).__name__ == "ConvolutionBackward0" and y.shape == (2, 4, 5)


def test_float32_matches_torch_and_keeps_dtype():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 10, 9)).astype(np.float32)
    w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    check_conv(F.conv2d, TF.conv2d, x, w, b, dict(padding=1, stride=2), rtol=1e-5, atol=1e-5)
    assert F.conv2d(tg.tensor(x), tg.tensor(w)).dtype is tg.float32


def test_non_contiguous_weight_and_bias():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 6, 6))
    w = rng.standard_normal((5, 3, 3, 3))
    b = rng.standard_normal(10)
    wo = tg.tensor(np.ascontiguousarray(np.swapaxes(w, 2, 3))).transpose(2, 3)
    bo = tg.tensor(b)[::2]
    assert not wo.is_contiguous() and not bo.is_contiguous()
    ours = F.conv2d(tg.tensor(x), wo, bo, padding=1)
    theirs = TF.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b[::2].copy()), padding=1)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_gradcheck_small_convolutions():
    tg.manual_seed(0)
    cases = [dict(stride=1, padding=1), dict(stride=2, padding=(0, 1), dilation=(2, 1)),
             dict(padding="same", dilation=2), dict(groups=2, stride=(1, 2))]
    for kwargs in cases:
        x = tg.randn(2, 2, 5, 4, dtype=tg.float64, requires_grad=True)
        w = tg.randn(2, 2 // kwargs.get("groups", 1), 2, 3, dtype=tg.float64, requires_grad=True)
        b = tg.randn(2, dtype=tg.float64, requires_grad=True)
        assert tg.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), (x, w, b))
    x = tg.randn(1, 2, 7, dtype=tg.float64, requires_grad=True)
    w = tg.randn(3, 2, 3, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=2), (x, w))


def test_only_the_needed_gradients_are_computed_and_graphs_are_freed():
    x = tg.randn(2, 3, 5, 5)                         # a first layer: no gradient for x
    w = tg.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w)
    y.sum().backward()
    assert x.grad is None and w.grad.shape == (4, 3, 3, 3)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_changing_the_weight_in_place_before_backward_is_an_error():
    x = tg.randn(2, 3, 5, 5, requires_grad=True)
    w = tg.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w)
    with tg.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_double_backward_says_it_is_not_supported():
    x = tg.randn(1, 1, 4, 4, requires_grad=True)
    w = tg.randn(1, 1, 2, 2, requires_grad=True)
    y = F.conv2d(x, w).sum()
    with pytest.raises(NotImplementedError, match="create_graph=True"):
        tg.autograd.grad(y, x, create_graph=True)


# ------------------------------------------------------------------------------ bad input


def _ours_and_theirs(args, kwargs):
    conv = {4: (F.conv2d, TF.conv2d), 3: (F.conv1d, TF.conv1d)}
    fn_ours, fn_theirs = conv[len(args[1])]
    o = [tg.zeros(s, dtype=tg.float64 if d == "d" else tg.float32) if s is not None else None
         for s, d in zip(args, ("f", "f", "f"))]
    t = [torch.zeros(s) if s is not None else None for s in args]
    return (lambda: fn_ours(*o, **kwargs)), (lambda: fn_theirs(*t, **kwargs))


BAD_CONVS = [
    (((2, 3), (8, 3, 3, 3), None), {}),                       # rank
    (((2, 3, 5, 5, 2), (8, 3, 3, 3), None), {}),
    (((2, 1, 28, 28), (8, 3, 3, 3), None), {}),               # channels
    (((2, 3, 2, 2), (8, 3, 3, 3), None), {}),                 # kernel bigger than the input
    (((3, 2, 2), (8, 3, 3, 3), None), {}),
    (((2, 3, 5, 5), (8, 3, 3, 3), None), dict(dilation=3)),
    (((2, 3, 5, 5), (8, 3, 3, 3), None), dict(groups=2)),     # groups
    (((2, 4, 5, 5), (8, 2, 3, 3), None), dict(groups=3)),
    (((2, 3, 5, 5), (8, 3, 3, 3), None), dict(groups=0)),
    (((2, 3, 5, 5), (0, 3, 3, 3), None), {}),
    (((2, 3, 5, 5), (8, 3, 3, 3), None), dict(stride=2, padding="same")),
    (((2, 3, 5, 5), (8, 3, 3, 3), None), dict(padding="foo")),
    (((2, 3, 5, 5), (8, 3, 3, 3), None), dict(stride=0)),
    (((2, 3, 5, 5), (8, 3, 3, 3), None), dict(padding=-1)),
    (((2, 3, 5, 5), (8, 3, 3, 3), None), dict(dilation=0)),
    (((2, 3, 5, 5), (8, 3, 3, 3), None), dict(stride=(1, 1, 1))),
    (((2, 3, 5, 5), (8, 3, 3, 3), (7,)), {}),                 # bias
    (((2, 3, 5, 5), (8, 3, 3, 3), (8, 1)), {}),
    (((1, 3, 5, 5), (8, 3, 0, 0), None), {}),                 # empty kernel
    (((1, 3, 1, 1), (8, 3, 0, 3), None), {}),
    (((1, 3, 5), (8, 3, 0), None), {}),
    (((2, 3), (4, 3, 2), None), {}),                          # conv1d
    (((2, 3, 1), (4, 3, 2), None), {}),
    (((2, 2, 5), (4, 3, 2), None), {}),
    (((2, 3, 5, 5), (4, 3, 2), None), {}),
]


@pytest.mark.parametrize("args,kwargs", BAD_CONVS)
def test_bad_input_gives_pytorchs_message(args, kwargs):
    ours, theirs = _ours_and_theirs(args, kwargs)
    expected = torch_or_error(theirs)
    assert isinstance(expected, RuntimeError)
    with pytest.raises(RuntimeError) as info:
        ours()
    assert str(info.value) == str(expected)


def test_the_messages_the_issue_quotes():
    with pytest.raises(RuntimeError, match=r"^Expected 3D \(unbatched\) or 4D \(batched\) input "
                       r"to conv2d, but got input of size: \[2, 3\]$"):
        F.conv2d(tg.zeros(2, 3), tg.zeros(8, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"^Given groups=1, weight of size \[8, 3, 3, 3\], "
                       r"expected input\[2, 1, 28, 28\] to have 3 channels, but got 1 channels "
                       r"instead$"):
        F.conv2d(tg.zeros(2, 1, 28, 28), tg.zeros(8, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"^Calculated padded input size per channel: "
                       r"\(2 x 2\)\. Kernel size: \(3 x 3\)\. Kernel size can't be greater than "
                       r"actual input size$"):
        F.conv2d(tg.zeros(2, 3, 2, 2), tg.zeros(8, 3, 3, 3))
    with pytest.raises(ValueError, match="^in_channels must be divisible by groups$"):
        nn.Conv2d(3, 8, 3, groups=2)
    with pytest.raises(ValueError, match="^out_channels must be divisible by groups$"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="not supported for strided convolutions"):
        nn.Conv2d(3, 8, 3, stride=2, padding="same")


def test_dtype_and_device_mismatches_and_integer_inputs():
    x, w = tg.zeros(2, 3, 5, 5), tg.zeros(8, 3, 3, 3)
    with pytest.raises(RuntimeError, match=r"^Input type \(torch.FloatTensor\) and weight type "
                       r"\(torch.DoubleTensor\) should be the same"):
        F.conv2d(x, w.double())
    with pytest.raises(RuntimeError, match=r"^Input type \(double\) and bias type \(float\) "
                       "should be the same$"):
        F.conv2d(x.double(), w.double(), tg.zeros(8))
    with pytest.raises(RuntimeError, match="float32 and float64 tensors only"):
        F.conv2d(x.long(), w.long())
    with pytest.raises(TypeError, match="argument 'weight' must be Tensor"):
        F.conv2d(x, np.zeros((8, 3, 3, 3)))


def test_module_argument_errors():
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(3, 8, 3, groups=0)
    with pytest.raises(ValueError, match=r"Invalid padding string 'foo'"):
        nn.Conv2d(3, 8, 3, padding="foo")
    with pytest.raises(ValueError, match=r"padding_mode must be one of .* but got "
                       r"padding_mode='foo'"):
        nn.Conv2d(3, 8, 3, padding_mode="foo")
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a tuple of 2 ints"):
        nn.Conv2d(3, 8, (3, 3, 3))


# ------------------------------------------------------------------------------- modules


def test_module_reprs_are_pytorchs():
    for args, kwargs in [((1, 8, 3), dict(padding=1)),
                         ((1, 8, (3, 5)), dict(stride=2, dilation=2, bias=False,
                                               padding_mode="reflect")),
                         ((4, 8, 3), dict(padding="same", groups=2)),
                         ((4, 8, 3), dict(padding="valid")), ((2, 3, 1), {})]:
        assert repr(nn.Conv2d(*args, **kwargs)) == repr(tnn.Conv2d(*args, **kwargs))
    assert repr(nn.Conv1d(4, 8, 3, padding=1)) == repr(tnn.Conv1d(4, 8, 3, padding=1))
    assert repr(nn.Conv2d(1, 8, 3, padding=1)) == \
        "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"


def test_default_init_is_pytorchs():
    tg.manual_seed(0)
    conv = nn.Conv2d(16, 32, 3)                # fan_in = 16 * 9 = 144: bound 1/12
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert isinstance(conv.weight, nn.Parameter) and conv.weight.shape == (32, 16, 3, 3)
    assert np.abs(w).max() <= 1 / 12 and np.abs(b).max() <= 1 / 12
    # uniform on [-1/12, 1/12]: standard deviation (1/12) / sqrt(3)
    assert abs(w.std() - 1 / 12 / np.sqrt(3)) < 0.1 * (1 / 12 / np.sqrt(3))
    assert abs(w.mean()) < 0.01 and np.abs(w).max() > 0.95 / 12
    grouped = nn.Conv1d(4, 6, 5, groups=2, bias=False, dtype=tg.float64)
    assert grouped.weight.shape == (6, 2, 5) and grouped.bias is None
    assert grouped.weight.dtype is tg.float64
    assert np.abs(grouped.weight.detach().numpy()).max() <= 1 / np.sqrt(10)
    assert [name for name, _ in conv.named_parameters()] == ["weight", "bias"]


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_module_padding_modes_match_torch(mode, padding):
    kernel = 4 if padding == "same" else 3      # an even kernel: asymmetric "same" padding
    ours, theirs = twin(nn.Conv2d(2, 3, kernel, padding=padding, padding_mode=mode),
                        tnn.Conv2d(2, 3, kernel, padding=padding, padding_mode=mode))
    x = np.random.default_rng(5).standard_normal((2, 2, 6, 5))
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = theirs(xt)
    yo = ours(xo)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)


def test_conv1d_module_matches_torch():
    ours, theirs = twin(nn.Conv1d(3, 4, 3, stride=2, padding=1, padding_mode="reflect"),
                        tnn.Conv1d(3, 4, 3, stride=2, padding=1, padding_mode="reflect"))
    x = np.random.default_rng(6).standard_normal((2, 3, 9))
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)


# ----------------------------------------------------------------- the primitives themselves


@settings(deadline=None, max_examples=30)
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 7),
                       st.integers(1, 7)),
       kernel=pair, stride=pair, padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)), seed=st.integers(0, 2**16))
def test_im2col_and_col2im_are_torchs_unfold_and_fold(shape, kernel, stride, padding, dilation,
                                                      seed):
    n, c, h, w = shape
    out = [(size + 2 * p - d * (k - 1) - 1) // s + 1
           for size, k, s, p, d in zip((h, w), kernel, stride, padding, dilation)]
    assume(min(out) > 0)
    x = np.random.default_rng(seed).standard_normal(shape)
    cols = np.empty((n, c * kernel[0] * kernel[1], out[0] * out[1]))
    K.im2col(x, kernel, stride, padding, dilation, cols)
    unfold = TF.unfold(torch.tensor(x), kernel, dilation, padding, stride).numpy()
    np.testing.assert_array_equal(cols, unfold)
    back = np.empty_like(x)
    K.col2im(cols, kernel, stride, padding, dilation, back)
    fold = TF.fold(torch.tensor(cols), (h, w), kernel, dilation, padding, stride).numpy()
    np.testing.assert_allclose(back, fold, rtol=1e-12, atol=1e-12)


def test_im2col_with_asymmetric_padding_and_strided_views():
    """'same' padding for an even kernel pads one more row/column after than before; im2col
    gets it as (top, left) padding and the output size. Non-contiguous arrays work too."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 5, 6)).astype(np.float32)
    cols = np.empty((2, 2 * 4 * 4, 5 * 6), np.float32)
    K.im2col(x, (4, 4), (1, 1), (1, 1), (1, 1), cols, (5, 6))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2)))
    expected = TF.unfold(torch.tensor(padded), 4).numpy()
    np.testing.assert_array_equal(cols, expected)
    big = np.zeros((2, 2 * 16, 60), np.float32)
    view = big[:, :, ::2]                       # a non-contiguous output
    K.im2col(np.swapaxes(np.ascontiguousarray(np.swapaxes(x, 2, 3)), 2, 3), (4, 4), (1, 1),
             (1, 1), (1, 1), view, (5, 6))
    np.testing.assert_array_equal(view, expected)


def test_primitives_reject_inconsistent_geometry_before_running():
    x = np.zeros((1, 2, 5, 5))
    with pytest.raises(ValueError, match="does not fit"):
        K.im2col(x, (3, 3), (1, 1), (0, 0), (1, 1), np.empty((1, 18, 16)))
    with pytest.raises(ValueError, match="expected a 4-D"):
        K.col2im(np.empty((1, 18, 9)), (3, 3), (1, 1), (0, 0), (1, 1), np.empty((1, 2, 5)))
    with pytest.raises(ValueError, match="invalid kernel_size"):
        K.im2col(x, (3, 3), (0, 1), (0, 0), (1, 1), np.empty((1, 18, 9)))
    bad_rows = np.array([[0, 6]], np.int64)                # reaches past the 5 rows
    cols = np.array([[0, 2]], np.int64)
    with pytest.raises(ValueError, match="must lie within"):
        K.max_pool2d(x, bad_rows, cols, (1, 1), np.empty((1, 2, 1, 1)),
                     np.empty((1, 2, 1, 1), np.int64))
    with pytest.raises(ValueError, match="must be a C-contiguous int64 array"):
        K.avg_pool2d(x, np.array([[0, 2, 2]], np.int32), np.array([[0, 2, 2]], np.int64),
                     np.empty((1, 2, 1, 1)))
    with pytest.raises(ValueError, match="divisor of 0"):
        K.avg_pool2d(x, np.array([[0, 2, 0]]), np.array([[0, 2, 2]]), np.empty((1, 2, 1, 1)))


def test_other_devices_match_the_cpu_or_say_they_cannot(monkeypatch):
    """CUDA (the simulator without a GPU) runs the same Functions on its own primitives; a
    device whose kernels module lacks them gets a clear error, not a crash."""
    pytest.importorskip("tinygrad_edu.cuda")
    if not tg.cuda.is_available():
        pytest.skip("no CUDA device or simulator")
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((3, 2, 2, 2))
    xc, wc = tg.tensor(x).to("cuda"), tg.tensor(w).to("cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        F.conv2d(xc, tg.tensor(w))
    cuda_kernels = xc._storage._kernels
    for fn in (lambda a, b: F.conv2d(a, b, padding=1), lambda a, b: F.max_pool2d(a, 2),
               lambda a, b: F.avg_pool2d(a, 2, 1, 1)):
        np.testing.assert_allclose(fn(xc, wc).cpu().numpy(),
                                   fn(tg.tensor(x), tg.tensor(w)).numpy(), rtol=1e-12,
                                   atol=1e-12)
    monkeypatch.delattr(cuda_kernels, "im2col")   # a device without the conv primitives
    with pytest.raises(NotImplementedError, match="not implemented for device 'cuda:0'"):
        F.conv2d(xc, wc)
