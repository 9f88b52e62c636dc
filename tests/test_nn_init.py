"""nn.init: the statistics of every initialiser on large tensors, fan computations and gains
against PyTorch's, in-place semantics; and nn.utils (gradient clipping) against PyTorch."""
import math

import numpy as np
import pytest
import torch
import torch.nn as tnn

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
from tinygrad_edu.nn import init


@pytest.mark.parametrize("shape", [(3, 5), (7, 2, 3), (4, 3, 2, 5), (6, 1)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(tg.empty(shape)) == \
        tnn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor "
                                         "with fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(tg.empty(5))


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_gains_match_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        tnn.init.calculate_gain(nonlinearity, param), rel=1e-15)


def test_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def stats(t):
    a = t.detach().numpy()
    return a.mean(), a.std(), a.min(), a.max()


SHAPE = (500, 400)  # 200 000 samples: the sample std is within ~0.3% of the true one


def test_uniform_normal_constant():
    tg.manual_seed(0)
    t = tg.empty(SHAPE)
    assert init.uniform_(t, -2.0, 3.0) is t
    mean, std, lo, hi = stats(t)
    assert lo >= -2.0 and hi < 3.0
    assert mean == pytest.approx(0.5, abs=0.02) and std == pytest.approx(5 / math.sqrt(12),
                                                                         rel=0.01)
    mean, std, _, _ = stats(init.normal_(t, 1.0, 0.5))
    assert mean == pytest.approx(1.0, abs=0.01) and std == pytest.approx(0.5, rel=0.01)
    assert (init.constant_(t, 0.25).numpy() == 0.25).all()
    assert (init.ones_(t).numpy() == 1).all() and (init.zeros_(t).numpy() == 0).all()
    np.testing.assert_array_equal(init.eye_(tg.empty(3, 4)).numpy(), np.eye(3, 4))


@pytest.mark.parametrize("fn,expected_std", [
    (lambda t: init.xavier_uniform_(t), math.sqrt(2 / (400 + 500))),
    (lambda t: init.xavier_normal_(t, gain=2.0), 2 * math.sqrt(2 / (400 + 500))),
    (lambda t: init.kaiming_uniform_(t), math.sqrt(2 / 1.0001) / math.sqrt(400)),
    (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(3) / math.sqrt(400)),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     math.sqrt(2) / math.sqrt(500)),
    (lambda t: init.trunc_normal_(t), 0.8796),  # N(0, 1) cut at +-2: std 0.8796
    (lambda t: init.trunc_normal_(t, std=0.02), 0.02),  # a, b are absolute: no cut here
])
def test_scaled_initialisers_have_the_right_spread(fn, expected_std):
    tg.manual_seed(1)
    t = tg.empty(SHAPE)
    assert fn(t) is t
    mean, std, _, _ = stats(t)
    assert abs(mean) < 0.01 * expected_std * 10
    assert std == pytest.approx(expected_std, rel=0.015)


def test_uniform_bounds_are_exact():
    tg.manual_seed(2)
    t = init.xavier_uniform_(tg.empty(SHAPE))
    a = math.sqrt(6 / (400 + 500))
    _, _, lo, hi = stats(t)
    assert -a <= lo < -0.99 * a and 0.99 * a < hi <= a
    t = init.trunc_normal_(tg.empty(SHAPE), mean=1.0, std=1.0, a=0.5, b=1.5)
    _, _, lo, hi = stats(t)
    assert lo >= 0.5 and hi <= 1.5


def test_orthogonal_and_dirac():
    tg.manual_seed(3)
    q = init.orthogonal_(tg.empty(4, 6), gain=2.0).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(4), atol=1e-5)
    q = init.orthogonal_(tg.empty(6, 3)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-5)
    w = init.dirac_(tg.empty(3, 3, 3, 3)).numpy()
    np.testing.assert_array_equal(w, tnn.init.dirac_(torch.empty(3, 3, 3, 3)).numpy())


def test_init_works_on_parameters_that_require_grad():
    w = nn.Parameter(tg.empty(20, 10))
    init.kaiming_normal_(w)
    assert w.requires_grad and w.grad_fn is None and w.is_leaf


def test_mode_error_and_empty_tensor_warning():
    with pytest.raises(ValueError, match="Mode fan_avg not supported, please use one of"):
        init.kaiming_uniform_(tg.empty(3, 3), mode="fan_avg")
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(tg.empty(0, 3))


# ------------------------------------------------------------------------------ nn.utils


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours = [nn.Parameter(tg.zeros(g.shape, dtype=tg.float64)) for g in grads]
    theirs = [tnn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, q, g in zip(ours, theirs, grads):
        p.grad, q.grad = tg.tensor(g), torch.tensor(g)
    total_o = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_t = tnn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total_o.item() == pytest.approx(total_t.item(), rel=1e-12)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_vector_round_trip():
    p = nn.Parameter(tg.zeros(4))
    p.grad = tg.tensor([-3.0, -0.5, 0.5, 3.0])
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [-1.0, -0.5, 0.5, 1.0]
    model = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert tuple(vec.shape) == (8,)
    nn.utils.vector_to_parameters(vec * 0 + 1, model.parameters())
    assert (model.weight.detach().numpy() == 1).all() and (model.bias.detach().numpy() == 1).all()
