"""Every layer module against PyTorch's in float64: the torch module is built, its parameters
and buffers are copied into ours through load_state_dict (from numpy arrays), and then the
outputs, the input gradients and the parameter gradients must agree."""
import numpy as np
import pytest
import torch
import torch.nn as tnn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from oracle import twin

SETTINGS = settings(deadline=None, max_examples=10,
                    suppress_health_check=[HealthCheck.too_slow])


def check_layer(ours, theirs, x, *, int_input=False, rtol=1e-7, atol=1e-9, steps=1):
    """Forward and backward `steps` times through both (fresh inputs each step); compare the
    outputs, the input gradients, the parameter gradients and the buffers."""
    ours, theirs = twin(ours, theirs)
    rng = np.random.default_rng(11)
    for step in range(steps):
        xs = x if step == 0 else (x + rng.standard_normal(x.shape) if not int_input else x)
        if int_input:
            xo, xt = tg.tensor(xs), torch.tensor(xs)
        else:
            xo = tg.tensor(xs, dtype=tg.float64, requires_grad=True)
            xt = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        assert tuple(yo.shape) == tuple(yt.shape)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=rtol,
                                   atol=atol)
        if yt.requires_grad:
            upstream = rng.standard_normal(tuple(yt.shape))
            yo.backward(tg.tensor(upstream))
            yt.backward(torch.tensor(upstream))
            if not int_input:
                np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=rtol,
                                           atol=atol)
            ours_params = dict(ours.named_parameters())
            for name, p in theirs.named_parameters():
                if p.grad is None:
                    assert ours_params[name].grad is None
                else:
                    np.testing.assert_allclose(ours_params[name].grad.numpy(), p.grad.numpy(),
                                               rtol=rtol, atol=atol, err_msg=name)
        ours_buffers = dict(ours.named_buffers())
        for name, b in theirs.named_buffers():
            np.testing.assert_allclose(ours_buffers[name].numpy(), b.numpy(), rtol=1e-10,
                                       err_msg=name)
    return ours, theirs


@SETTINGS
@given(batch=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       n_in=st.integers(1, 6), n_out=st.integers(1, 6), bias=st.booleans(),
       seed=st.integers(0, 2**16))
def test_linear(batch, n_in, n_out, bias, seed):
    x = np.random.default_rng(seed).standard_normal(batch + (n_in,))
    check_layer(nn.Linear(n_in, n_out, bias=bias), tnn.Linear(n_in, n_out, bias=bias), x)


def test_linear_default_init_bounds_and_arguments():
    tg.manual_seed(0)
    lin = nn.Linear(400, 300, dtype=tg.float64)
    bound = 1 / np.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert lin.weight.dtype is tg.float64 and isinstance(lin.weight, nn.Parameter)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-a, a) has standard deviation a / sqrt(3)
    assert abs(w.std() - bound / np.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_wrong_in_features():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(64x784 and 100x10\)"):
        nn.Linear(100, 10)(tg.randn(64, 784))


def test_book_mlp_trains_like_torch():
    """Three SGD steps by hand on the thermometer model give the same weights in both."""
    theirs = tnn.Sequential(tnn.Linear(1, 13), tnn.Tanh(), tnn.Linear(13, 1))
    ours, theirs = twin(nn.Sequential(nn.Linear(1, 13), nn.Tanh(), nn.Linear(13, 1)), theirs)
    x = np.linspace(-1, 1, 11)[:, None]
    y = 3 * x + 0.5
    for _ in range(3):
        for model, lib, F in ((ours, tg, nn.functional), (theirs, torch, tnn.functional)):
            loss = F.mse_loss(model(lib.tensor(x)), lib.tensor(y))
            model.zero_grad()
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10,
                                   err_msg=name)


@pytest.mark.parametrize("make", [
    lambda lib: lib.ReLU(), lambda lib: lib.LeakyReLU(0.3), lambda lib: lib.GELU(),
    lambda lib: lib.GELU(approximate="tanh"), lambda lib: lib.Tanh(), lambda lib: lib.Sigmoid(),
    lambda lib: lib.Hardtanh(-0.5, 0.8), lambda lib: lib.ReLU6(), lambda lib: lib.ELU(0.5),
    lambda lib: lib.SiLU(), lambda lib: lib.Mish(), lambda lib: lib.Softplus(beta=0.5),
    lambda lib: lib.Softmax(dim=1), lambda lib: lib.LogSoftmax(dim=-1),
    lambda lib: lib.Softmin(dim=0), lambda lib: lib.Identity(7, key="ignored"),
    lambda lib: lib.Flatten(), lambda lib: lib.Flatten(0, 1), lambda lib: lib.Unflatten(1, (2, 3)),
])
def test_parameterless_layers(make):
    x = np.random.default_rng(0).standard_normal((4, 6)) * 3
    check_layer(make(nn), make(tnn), x)


def test_flatten_of_images():
    x = np.random.default_rng(0).standard_normal((2, 1, 3, 3))
    check_layer(nn.Flatten(), tnn.Flatten(), x)


# ------------------------------------------------------------------------------ Dropout


def test_dropout_module_training_and_eval():
    tg.manual_seed(1)
    drop = nn.Dropout(p=0.25)
    x = tg.ones(100, 100)
    y = drop(x).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02
    assert abs(y.mean() - 1.0) < 0.03  # inverted dropout keeps the expected value
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got -0.1"):
        nn.Dropout(-0.1)


def test_dropout_draws_differ_between_calls_and_follow_the_seed():
    drop = nn.Dropout()
    tg.manual_seed(3)
    a, b = drop(tg.ones(50)).numpy(), drop(tg.ones(50)).numpy()
    tg.manual_seed(3)
    assert (drop(tg.ones(50)).numpy() == a).all()
    assert not (a == b).all()


# ------------------------------------------------------------------------------ Embedding


@pytest.mark.parametrize("padding_idx", [None, 0, 2, -1])
def test_embedding(padding_idx):
    idx = np.array([[0, 2, 4], [2, 2, 1]])
    ours, _ = check_layer(nn.Embedding(5, 3, padding_idx=padding_idx),
                          tnn.Embedding(5, 3, padding_idx=padding_idx), idx, int_input=True)
    if padding_idx is not None:
        assert (ours.weight.grad.numpy()[padding_idx] == 0).all()


def test_embedding_init_and_padding_row():
    tg.manual_seed(0)
    emb = nn.Embedding(2000, 50, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert (w[3] == 0).all()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1.0) < 0.01
    assert nn.Embedding(10, 3, padding_idx=-1).padding_idx == 9
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(10, 3, padding_idx=10)
    pre = nn.Embedding.from_pretrained(tg.eye(3))
    assert not pre.weight.requires_grad and pre(tg.tensor([1])).tolist() == [[0.0, 1.0, 0.0]]


# ------------------------------------------------------------------------------ LayerNorm


@pytest.mark.parametrize("shape,normalized,affine", [
    ((4, 5), 5, True), ((2, 3, 4), (3, 4), True), ((3, 6), [6], False), ((2, 2, 3), 3, True)])
def test_layer_norm(shape, normalized, affine):
    x = np.random.default_rng(0).standard_normal(shape) * 2 + 1
    theirs = tnn.LayerNorm(normalized, elementwise_affine=affine)
    if affine:  # not the trivial 1 and 0, so the parameter gradients matter
        with torch.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
    check_layer(nn.LayerNorm(normalized, elementwise_affine=affine), theirs, x)


# ------------------------------------------------------------------------------ BatchNorm1d


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_running_stats_over_several_steps(shape, momentum, affine):
    x = np.random.default_rng(2).standard_normal(shape) * 3 + 2
    theirs = tnn.BatchNorm1d(3, momentum=momentum, affine=affine)
    if affine:
        with torch.no_grad():
            theirs.weight.normal_()
            theirs.bias.normal_()
    ours, theirs = check_layer(nn.BatchNorm1d(3, momentum=momentum, affine=affine), theirs, x,
                               steps=4)
    assert ours.num_batches_tracked.item() == 4
    ours.eval()
    theirs.eval()
    check_layer(ours, theirs, x + 1)  # eval mode: the running statistics normalise


def test_batch_norm_without_running_stats_uses_batch_stats_in_eval():
    x = np.random.default_rng(0).standard_normal((6, 4))
    ours, theirs = nn.BatchNorm1d(4, track_running_stats=False), \
        tnn.BatchNorm1d(4, track_running_stats=False)
    ours.eval()
    theirs.eval()
    check_layer(ours, theirs, x)
    assert list(ours.state_dict()) == ["weight", "bias"]


def test_batch_norm_input_checks():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        bn(tg.randn(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="running_mean should contain 4 elements not 3"):
        bn(tg.randn(2, 4))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(tg.randn(1, 3))
    bn.eval()
    assert tuple(bn(tg.randn(1, 3)).shape) == (1, 3)  # fine in eval mode


def test_model_state_dict_loads_into_torch():
    """Our state_dict, through numpy, loads into the same torch architecture (strict)."""
    ours = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2))
    ours(tg.randn(5, 4))  # move the running statistics away from their initial values
    theirs = tnn.Sequential(tnn.Linear(4, 6), tnn.BatchNorm1d(6), tnn.ReLU(), tnn.Linear(6, 2))
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
