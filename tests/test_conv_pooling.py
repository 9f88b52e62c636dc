"""Pooling, BatchNorm2d and Dropout2d against PyTorch in float64: max_pool2d (values, indices,
gradients, ties and NaN), avg_pool2d (padding, ceil_mode, count_include_pad, divisor_override),
adaptive_avg_pool2d, the modules, PyTorch's messages for bad input, gradcheck; BatchNorm2d's
running statistics over several steps and in eval mode; Dropout2d's whole-channel masks."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.nn.pooling import max_windows, pool_output_size
from oracle import twin

SETTINGS = settings(deadline=None, max_examples=40,
                    suppress_health_check=[HealthCheck.too_slow])


def outcome(fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 (PyTorch's error is the expectation)
        return e


def check_pool(fn_ours, fn_theirs, x, rtol=1e-12, atol=1e-12):
    """Same output (and indices), node name and input gradient as PyTorch, or the same error.
    Returns whether values were compared."""
    expected = outcome(lambda: fn_theirs(torch.tensor(x)))
    if isinstance(expected, Exception):
        with pytest.raises(type(expected)) as info:
            fn_ours(tg.tensor(x))
        assert str(info.value) == str(expected)
        return False
    xt, xo = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    yt, yo = fn_theirs(xt), fn_ours(xo)
    if isinstance(yt, tuple):
        assert yo[1].dtype is tg.int64
        np.testing.assert_array_equal(yo[1].numpy(), yt[1].numpy())
        (yt, _), (yo, _) = yt, yo
    assert tuple(yo.shape) == tuple(yt.shape)
    assert type(yo.grad_fn).__name__ == type(yt.grad_fn).__name__
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    upstream = np.random.default_rng(0).standard_normal(tuple(yt.shape))
    yo.backward(tg.tensor(upstream))
    if yt.numel() == 0:    # PyTorch's adaptive pool refuses to backward an empty output
        assert not xo.grad.numpy().any()
        return True
    yt.backward(torch.tensor(upstream))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    return True


def image(shape, seed, ties=False, nans=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if ties:
        x = np.round(x)                         # many equal values: the first maximum wins
    if nans:
        x[rng.random(shape) < 0.1] = np.nan
    return x


def window_outside_input(size, kernel, stride, padding, dilation, ceil_mode):
    """Does some max-pool window lie wholly in the padding? (PyTorch then sends its -inf
    output's gradient into the neighbouring channel, or past the tensor; see below.)"""
    n = pool_output_size(size, kernel, stride, padding, dilation, ceil_mode)
    if n < 1:
        return False
    table = max_windows(n, size, kernel, stride, padding, dilation)
    return bool((table[:, 0] >= table[:, 1]).any())


shape4 = st.tuples(st.integers(0, 2), st.integers(1, 3), st.integers(1, 8), st.integers(1, 8))
pair = st.tuples(st.integers(1, 3), st.integers(1, 3))


@SETTINGS
@given(shape=shape4, unbatched=st.booleans(), kernel=pair,
       stride=st.one_of(st.none(), pair), padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
       dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)), ceil_mode=st.booleans(),
       values=st.sampled_from(["plain", "ties", "nans"]), seed=st.integers(0, 2**16))
def test_max_pool2d_matches_torch(shape, unbatched, kernel, stride, padding, dilation, ceil_mode,
                                  values, seed):
    if unbatched:
        shape = shape[1:]
    s = stride or kernel
    if any(window_outside_input(n, k, st_, p, d, ceil_mode)
           for n, k, st_, p, d in zip(shape[-2:], kernel, s, padding, dilation)):
        return   # see test_max_pool2d_window_wholly_in_the_padding
    x = image(shape, seed, ties=values == "ties", nans=values == "nans")
    check_pool(lambda t: F.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode, True),
               lambda t: TF.max_pool2d(t, kernel, stride, padding, dilation, ceil_mode, True), x)


def test_max_pool2d_nan_and_infinity_follow_pytorch():
    nan, inf = float("nan"), float("inf")
    x = np.array([[[[nan, 1.0, -inf, -inf], [nan, 2.0, -inf, -inf]]]])
    assert check_pool(lambda t: F.max_pool2d(t, 2, return_indices=True),
                      lambda t: TF.max_pool2d(t, 2, return_indices=True), x)
    out, idx = F.max_pool2d(tg.tensor(x), 2, return_indices=True)
    assert np.isnan(out[0, 0, 0, 0].item()) and idx[0, 0, 0, 0].item() == 4   # the last NaN
    assert out[0, 0, 0, 1].item() == -inf and idx[0, 0, 0, 1].item() == 2     # first element


def test_max_pool2d_window_wholly_in_the_padding():
    """With dilation 2 and padding 1, a window of a 1-row input reads rows -1 and 1: none is in
    the input. Its output is -inf, its index PyTorch's (outside the plane), and it passes no
    gradient. (PyTorch's own backward adds that gradient at the flat position index within
    (C*H*W) from the channel's start, i.e. into the next channel, or past the end of the
    tensor for the last one, so the gradients are not compared with it here.)"""
    x = np.random.default_rng(1).standard_normal((1, 3, 1, 3))
    xo = tg.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(xo, 2, None, 1, 2, False, True)
    theirs, their_idx = TF.max_pool2d(torch.tensor(x), 2, None, 1, 2, False, True)
    np.testing.assert_array_equal(out.detach().numpy(), theirs.numpy())
    np.testing.assert_array_equal(idx.numpy(), their_idx.numpy())
    assert np.isneginf(out.detach().numpy()).all()
    out.sum().backward()
    assert not xo.grad.numpy().any()


@SETTINGS
@given(shape=shape4, unbatched=st.booleans(), kernel=pair,
       stride=st.one_of(st.none(), pair), padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
       ceil_mode=st.booleans(), count_include_pad=st.booleans(),
       divisor_override=st.one_of(st.none(), st.integers(-3, 5)), seed=st.integers(0, 2**16))
def test_avg_pool2d_matches_torch(shape, unbatched, kernel, stride, padding, ceil_mode,
                                  count_include_pad, divisor_override, seed):
    if unbatched:
        shape = shape[1:]
    x = image(shape, seed)
    check_pool(lambda t: F.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad,
                                      divisor_override),
               lambda t: TF.avg_pool2d(t, kernel, stride, padding, ceil_mode, count_include_pad,
                                       divisor_override), x)


def test_avg_pool2d_counts_padding_as_asked():
    x = np.ones((1, 1, 5, 5))
    for include in (True, False):
        assert check_pool(lambda t: F.avg_pool2d(t, 3, 2, 1, True, include),
                          lambda t: TF.avg_pool2d(t, 3, 2, 1, True, include), x)
    corner = F.avg_pool2d(tg.tensor(x), 3, 2, 1, ceil_mode=True, count_include_pad=True)
    assert corner[0, 0, 0, 0].item() == pytest.approx(4 / 9)


@SETTINGS
@given(shape=st.tuples(st.integers(0, 2), st.integers(1, 3), st.integers(1, 9),
                       st.integers(1, 9)),
       unbatched=st.booleans(),
       size=st.one_of(st.integers(1, 5), st.tuples(st.one_of(st.none(), st.integers(0, 5)),
                                                   st.integers(1, 5))),
       seed=st.integers(0, 2**16))
def test_adaptive_avg_pool2d_matches_torch(shape, unbatched, size, seed):
    if unbatched:
        shape = shape[1:]
    check_pool(lambda t: F.adaptive_avg_pool2d(t, size),
               lambda t: TF.adaptive_avg_pool2d(t, size), image(shape, seed))


def test_pool_cases_mostly_compute_and_name_their_nodes():
    x = image((2, 3, 7, 6), 3)
    assert check_pool(lambda t: F.max_pool2d(t, (3, 2), (2, 1), 1, ceil_mode=True),
                      lambda t: TF.max_pool2d(t, (3, 2), (2, 1), 1, ceil_mode=True), x)
    assert check_pool(lambda t: F.avg_pool2d(t, 2), lambda t: TF.avg_pool2d(t, 2), x)
    assert check_pool(lambda t: F.adaptive_avg_pool2d(t, (3, 4)),
                      lambda t: TF.adaptive_avg_pool2d(t, (3, 4)), x)
    assert check_pool(lambda t: F.adaptive_avg_pool2d(t, 1),      # a plain mean in PyTorch
                      lambda t: TF.adaptive_avg_pool2d(t, 1), x)
    names = {type(f(tg.tensor(x, requires_grad=True)).grad_fn).__name__ for f in (
        lambda t: F.max_pool2d(t, 2), lambda t: F.avg_pool2d(t, 2),
        lambda t: F.adaptive_avg_pool2d(t, 2))}
    assert names == {"MaxPool2DWithIndicesBackward0", "AvgPool2DBackward0",
                     "AdaptiveAvgPool2DBackward0"}


def test_float32_pooling():
    x = image((2, 3, 8, 8), 4).astype(np.float32)
    out = F.max_pool2d(tg.tensor(x), 2)
    assert out.dtype is tg.float32
    np.testing.assert_array_equal(out.numpy(), TF.max_pool2d(torch.tensor(x), 2).numpy())
    np.testing.assert_allclose(F.avg_pool2d(tg.tensor(x), 3, 1, 1).numpy(),   # (ours sums in
                               TF.avg_pool2d(torch.tensor(x), 3, 1, 1).numpy(),  # float64)
                               rtol=1e-6, atol=1e-6)


def test_non_contiguous_input():
    x = image((2, 3, 6, 7), 5)
    xo = tg.tensor(np.ascontiguousarray(np.swapaxes(x, 2, 3))).transpose(2, 3)
    assert not xo.is_contiguous()
    np.testing.assert_array_equal(F.max_pool2d(xo, 2).numpy(),
                                  TF.max_pool2d(torch.tensor(x), 2).numpy())


def test_gradcheck_pooling():
    tg.manual_seed(0)
    x = tg.randn(1, 2, 5, 6, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: F.max_pool2d(t, 2, 1, 1, 2, ceil_mode=True), (x,))
    assert tg.autograd.gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, True, False), (x,))
    assert tg.autograd.gradcheck(lambda t: F.avg_pool2d(t, 2, divisor_override=3), (x,))
    assert tg.autograd.gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), (x,))


def test_pool_modules_and_reprs():
    for ours, theirs in [(nn.MaxPool2d(2), tnn.MaxPool2d(2)),
                         (nn.MaxPool2d((2, 3), 1, 1, 2, True, True),
                          tnn.MaxPool2d((2, 3), 1, 1, 2, True, True)),
                         (nn.AvgPool2d(2), tnn.AvgPool2d(2)),
                         (nn.AvgPool2d(3, 2, 1, True, False, 2), tnn.AvgPool2d(3, 2, 1, True,
                                                                               False, 2)),
                         (nn.AdaptiveAvgPool2d((1, 1)), tnn.AdaptiveAvgPool2d((1, 1))),
                         (nn.AdaptiveAvgPool2d(5), tnn.AdaptiveAvgPool2d(5))]:
        assert repr(ours) == repr(theirs)
        x = image((2, 2, 9, 8), 6)
        o, t = ours(tg.tensor(x)), theirs(torch.tensor(x))
        if isinstance(t, tuple):
            np.testing.assert_array_equal(o[1].numpy(), t[1].numpy())
            o, t = o[0], t[0]
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12)


BAD_POOLS = [
    ("max", (5, 5), (2,), {}), ("max", (2, 2, 3, 5, 5), (2,), {}),
    ("max", (2, 3, 0, 5), (2,), {}), ("max", (2, 3, 5, 5), (2,), dict(padding=2)),
    ("max", (2, 3, 1, 1), (2,), {}), ("max", (2, 3, 5, 5), (0,), dict(stride=1)),
    ("max", (2, 3, 5, 5), (2,), dict(stride=0)), ("max", (2, 3, 5, 5), (2,), dict(stride=-1)),
    ("max", (2, 3, 5, 5), (2,), dict(dilation=0)), ("max", (2, 3, 5, 5), ((2, 2, 2),), {}),
    ("max", (2, 3, 5, 5), (2,), dict(stride=(1, 1, 1))),
    ("max", (2, 3, 5, 5), (2,), dict(padding=(1, 1, 1))),
    ("max", (2, 3, 5, 5), (2,), dict(padding=-1)),
    ("max", (2, 3, 5, 5), (2,), dict(dilation=(1, 1, 1))),
    ("avg", (2, 3, 5, 5), (2,), dict(padding=2)), ("avg", (2, 3, 1, 1), (2,), {}),
    ("avg", (2, 3, 5, 5), (2,), dict(divisor_override=0)), ("avg", (2, 3, 0, 4), (2,), {}),
    ("avg", (2, 2, 3, 5, 5), (2,), {}), ("avg", (2, 3, 5, 5), (0,), {}),
    ("avg", (2, 3, 5, 5), ((2, 2, 2),), {}),
    ("adaptive", (5, 5), (2,), {}), ("adaptive", (2, 3, 0, 5), (2,), {}),
    ("adaptive", (2, 3, 5, 5), ((2, 3, 4),), {}), ("adaptive", (2, 3, 5, 5), (-1,), {}),
]


@pytest.mark.parametrize("kind,shape,args,kwargs", BAD_POOLS)
def test_bad_input_gives_pytorchs_message(kind, shape, args, kwargs):
    ours = {"max": F.max_pool2d, "avg": F.avg_pool2d, "adaptive": F.adaptive_avg_pool2d}[kind]
    theirs = {"max": TF.max_pool2d, "avg": TF.avg_pool2d,
              "adaptive": TF.adaptive_avg_pool2d}[kind]
    expected = outcome(lambda: theirs(torch.zeros(shape), *args, **kwargs))
    assert isinstance(expected, Exception)
    with pytest.raises(RuntimeError) as info:
        ours(tg.zeros(shape), *args, **kwargs)
    if kind == "avg" and len(shape) == 2:
        return  # PyTorch raises an IndexError from deep inside; ours says what is wrong
    assert str(info.value) == str(expected)


def test_avg_pool2d_of_a_matrix_and_integer_inputs_are_clear_errors():
    with pytest.raises(RuntimeError, match=r"Expected 3D or 4D \(batch mode\) tensor"):
        F.avg_pool2d(tg.zeros(5, 5), 2)
    for fn in (F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d):
        with pytest.raises(RuntimeError, match="float32 and float64 tensors only"):
            fn(tg.zeros(1, 2, 4, 4, dtype=tg.int64), 2)


# ---------------------------------------------------------------------------- BatchNorm2d


@pytest.mark.parametrize("kwargs", [{}, dict(momentum=None), dict(affine=False),
                                    dict(momentum=0.3, eps=1e-3),
                                    dict(track_running_stats=False)])
def test_batchnorm2d_running_stats_over_steps_and_eval(kwargs):
    ours, theirs = twin(nn.BatchNorm2d(3, **kwargs), tnn.BatchNorm2d(3, **kwargs))
    rng = np.random.default_rng(7)
    for step in range(4):
        train = step < 3
        ours.train(train)
        theirs.train(train)
        x = rng.standard_normal((4, 3, 5, 6)) * (step + 1) + step
        xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-9,
                                   atol=1e-11)
        upstream = rng.standard_normal(x.shape)
        yo.backward(tg.tensor(upstream))
        yt.backward(torch.tensor(upstream))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-11)
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(dict(ours.named_parameters())[name].grad.numpy(),
                                       p.grad.numpy(), rtol=1e-9, atol=1e-11)
        for name, b in theirs.named_buffers():
            np.testing.assert_allclose(dict(ours.named_buffers())[name].numpy(), b.numpy(),
                                       rtol=1e-12, err_msg=name)
    assert repr(ours) == repr(theirs)


def test_batchnorm2d_wants_4d_input():
    with pytest.raises(ValueError, match=r"^expected 4D input \(got 3D input\)$"):
        nn.BatchNorm2d(3)(tg.zeros(3, 5, 5))


# ------------------------------------------------------------------------------- Dropout2d


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    tg.manual_seed(0)
    drop = nn.Dropout2d(0.25)
    x = tg.rand(64, 16, 3, 4) + 1.0                 # no zeros of its own
    x.requires_grad_(True)
    y = drop(x)
    ratio = (y / x).detach().numpy().reshape(64, 16, 12)
    per_channel = ratio[:, :, :1]
    assert np.allclose(ratio, per_channel)         # one factor per (sample, channel)
    kept = per_channel != 0
    np.testing.assert_allclose(per_channel[kept], 1 / 0.75, rtol=1e-6)
    assert 0.18 < (~kept).mean() < 0.32            # about p of the 1024 channels
    y.sum().backward()                              # the gradient is the mask
    np.testing.assert_allclose(x.grad.numpy(), ratio.reshape(x.shape), rtol=1e-6)
    assert type(y.grad_fn).__name__ == "MulBackward0"
    drop.eval()
    assert drop(x) is x
    assert repr(drop) == repr(tnn.Dropout2d(0.25))


def test_dropout2d_edge_cases():
    x = tg.ones(2, 3, 4, 4)
    assert (F.dropout2d(x, 1.0) == 0).all().item()
    assert F.dropout2d(x, 0.0) is x
    assert F.dropout2d(x, 0.5, training=False) is x
    y = x.clone()
    assert F.dropout2d(y, 0.5, inplace=True) is y
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout2d(x, -0.1)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        z = F.dropout2d(tg.ones(4, 50, 6), 0.5)     # taken as (N, C, L), as PyTorch
    assert np.allclose(z.numpy(), z.numpy()[:, :, :1])
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            F.dropout2d(tg.ones(3), 0.5)
