"""nn.functional against PyTorch in float64: values and gradients (with a random upstream
gradient, so every element of the Jacobian-vector product is checked), over generated shapes."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F

SETTINGS = settings(deadline=None, max_examples=15,
                    suppress_health_check=[HealthCheck.too_slow])


def compare(ours_fn, torch_fn, *arrays, grads=None, rtol=1e-7, atol=1e-9, int_arrays=()):
    """Run both on the same float64 arrays; compare the outputs, then the gradients of every
    float input under the same random upstream gradient. Returns (our output, torch output)."""
    grads = [True] * len(arrays) if grads is None else grads
    ours = [tg.tensor(a, dtype=tg.float64, requires_grad=g) for a, g in zip(arrays, grads)]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=g) for a, g in zip(arrays, grads)]
    ours += [tg.tensor(a) for a in int_arrays]
    theirs += [torch.tensor(a) for a in int_arrays]
    out_o, out_t = ours_fn(*ours), torch_fn(*theirs)
    assert tuple(out_o.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy(), rtol=rtol,
                               atol=atol)
    if out_t.requires_grad:
        upstream = np.random.default_rng(1).standard_normal(tuple(out_t.shape))
        out_o.backward(tg.tensor(upstream))
        out_t.backward(torch.tensor(upstream))
        for o, t, g in zip(ours, theirs, grads):
            if g:
                assert o.grad is not None
                np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)
    return out_o, out_t


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


def arrays(shape, seed, scale=2.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# ------------------------------------------------------------------------------ activations

ACTIVATIONS = [
    ("relu", lambda x: F.relu(x), lambda x: TF.relu(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    ("leaky_relu_default", lambda x: F.leaky_relu(x), lambda x: TF.leaky_relu(x)),
    ("gelu", lambda x: F.gelu(x), lambda x: TF.gelu(x)),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: TF.gelu(x, approximate="tanh")),
    ("elu", lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    ("silu", F.silu, TF.silu),
    ("mish", F.mish, TF.mish),
    ("softplus", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
     lambda x: TF.softplus(x, beta=2.0, threshold=3.0)),
    ("sigmoid", F.sigmoid, torch.sigmoid),
    ("tanh", F.tanh, torch.tanh),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.5), lambda x: TF.hardtanh(x, -0.5, 1.5)),
    ("relu6", lambda x: F.relu6(x * 4), lambda x: TF.relu6(x * 4)),
]


@pytest.mark.parametrize("name,ours,theirs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_activations_match_torch(name, ours, theirs, shape, seed):
    compare(ours, theirs, arrays(shape, seed))


@pytest.mark.parametrize("name,ours,theirs", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_at_kinks_and_extremes(name, ours, theirs):
    """0 and the hardtanh bounds are where one-sided derivatives differ; +-50 is where naive
    softplus/mish overflow."""
    compare(ours, theirs, np.array([-50.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 6.0, 50.0]))


def test_activation_node_names_follow_pytorch():
    x = tg.randn(3, requires_grad=True)
    assert F.leaky_relu(x).grad_fn.name() == "LeakyReluBackward0"
    assert F.gelu(x).grad_fn.name() == "GeluBackward0"
    assert F.hardtanh(x).grad_fn.name() == "HardtanhBackward0"
    assert F.elu(x).grad_fn.name() == "EluBackward0"
    assert F.silu(x).grad_fn.name() == "SiluBackward0"
    assert F.softplus(x).grad_fn.name() == "SoftplusBackward0"
    assert F.mish(x).grad_fn.name() == "MishBackward0"
    assert F.relu(x).grad_fn.name() == "ReluBackward0"


def test_inplace_activations_write_into_input():
    base = np.array([-2.0, -0.5, 0.5, 3.0])
    for ours, theirs in [(lambda x: F.leaky_relu(x, 0.1, inplace=True),
                          lambda x: TF.leaky_relu(x, 0.1, inplace=True)),
                         (lambda x: F.relu(x, inplace=True), lambda x: TF.relu(x, inplace=True)),
                         (lambda x: F.elu(x, inplace=True), lambda x: TF.elu(x, inplace=True)),
                         (lambda x: F.hardtanh(x, inplace=True),
                          lambda x: TF.hardtanh(x, inplace=True))]:
        # through a non-leaf, so the in-place op is allowed and gradients flow to the leaf
        a = tg.tensor(base, requires_grad=True)
        b = torch.tensor(base, requires_grad=True)
        ya, yb = a * 1.0, b * 1.0
        ra, rb = ours(ya), theirs(yb)
        assert ra is ya
        np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy())
        (ra * tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64)).sum().backward()
        (rb * torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(tg.randn(3), approximate="erf")


# ------------------------------------------------------------------------------ softmax


@SETTINGS
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple),
       seed=st.integers(0, 2**16), data=st.data())
def test_softmax_and_log_softmax_match_torch(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = arrays(shape, seed, scale=5.0)
    compare(lambda t: F.softmax(t, dim), lambda t: TF.softmax(t, dim), x)
    compare(lambda t: F.log_softmax(t, dim), lambda t: TF.log_softmax(t, dim), x)
    compare(lambda t: F.softmin(t, dim), lambda t: TF.softmin(t, dim), x)


def test_log_softmax_is_stable_for_huge_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0]])
    out, _ = compare(lambda t: F.log_softmax(t, 1), lambda t: TF.log_softmax(t, 1), x)
    assert np.isfinite(out.detach().numpy()).all()
    assert out.grad_fn.name() == "LogSoftmaxBackward0"


@pytest.mark.parametrize("ndim,expected_dim", [(1, 0), (2, 1), (3, 0), (4, 1)])
def test_softmax_implicit_dim_warns_and_follows_pytorch_rule(ndim, expected_dim):
    x = arrays((2,) * ndim, 0)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ours = F.softmax(tg.tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = TF.softmax(torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.numpy().sum(expected_dim), 1.0)


def test_softmax_dim_out_of_range():
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.softmax(tg.randn(2, 3), dim=2)


# ------------------------------------------------------------------------------ linear


@SETTINGS
@given(batch=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
       n_in=st.integers(1, 6), n_out=st.integers(1, 6), bias=st.booleans(),
       seed=st.integers(0, 2**16))
def test_linear_matches_torch(batch, n_in, n_out, bias, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(batch + (n_in,)), rng.standard_normal((n_out, n_in)), \
        rng.standard_normal(n_out)
    if bias:
        compare(F.linear, TF.linear, x, w, b)
    else:
        compare(F.linear, TF.linear, x, w)


def test_linear_records_addmm_like_pytorch():
    x, w, b = (tg.randn(4, 3, requires_grad=True), tg.randn(2, 3, requires_grad=True),
               tg.randn(2, requires_grad=True))
    assert F.linear(x, w, b).grad_fn.name() == "AddmmBackward0"


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError,
                       match=r"mat1 and mat2 shapes cannot be multiplied \(64x784 and 100x10\)"):
        F.linear(tg.randn(64, 784), tg.randn(10, 100), tg.randn(10))


# ------------------------------------------------------------------------------ dropout


def test_dropout_scales_kept_elements_and_zeroes_the_rest():
    tg.manual_seed(0)
    x = tg.ones(200, 100, requires_grad=True)
    y = F.dropout(x, p=0.3)
    values = y.detach().numpy()
    kept = values != 0
    np.testing.assert_allclose(values[kept], 1 / 0.7)
    assert abs(kept.mean() - 0.7) < 0.02  # 20 000 Bernoulli draws
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.7, 0.0))


def test_dropout_identity_when_not_training_and_edge_probabilities():
    x = tg.randn(5, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but "
                                         "got 1.5"):
        F.dropout(x, 1.5)


# ------------------------------------------------------------------------------ embedding


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
def test_embedding_matches_torch(padding_idx):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 3))
    idx = np.array([[0, 3, 5], [3, 3, 1]])
    out, _ = compare(lambda w_, i: F.embedding(i, w_, padding_idx),
                     lambda w_, i: TF.embedding(i, w_, padding_idx), w, int_arrays=(idx,))
    assert out.grad_fn.name() == "EmbeddingBackward0"


def test_embedding_errors():
    w = tg.randn(4, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(tg.tensor([4]), w)
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types: "
                                           "Long, Int; but got torch.FloatTensor"):
        F.embedding(tg.tensor([1.0]), w)


def test_one_hot_matches_torch():
    t = np.array([[0, 2], [1, 4]])
    np.testing.assert_array_equal(F.one_hot(tg.tensor(t)).numpy(),
                                  TF.one_hot(torch.tensor(t)).numpy())
    out = F.one_hot(tg.tensor(t), 6)
    assert out.dtype is tg.int64 and tuple(out.shape) == (2, 2, 6)
    np.testing.assert_array_equal(out.numpy(), TF.one_hot(torch.tensor(t), 6).numpy())


@pytest.mark.parametrize("tensor,n,message", [
    (np.array([0.0, 1.0]), -1, "one_hot is only applicable to index tensor of type LongTensor."),
    (np.array([0, -1]), -1, "Class values must be non-negative."),
    (np.array([0, 3]), 2, "Class values must be smaller than num_classes."),
])
def test_one_hot_errors(tensor, n, message):
    with pytest.raises(RuntimeError, match=message):
        F.one_hot(tg.tensor(tensor), n)


# ------------------------------------------------------------------------------ normalisation


@SETTINGS
@given(batch=st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple),
       norm=st.lists(st.integers(2, 5), min_size=1, max_size=2).map(tuple),
       affine=st.booleans(), seed=st.integers(0, 2**16))
def test_layer_norm_matches_torch(batch, norm, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(batch + norm) * 3 + 1
    if affine:
        w, b = rng.standard_normal(norm), rng.standard_normal(norm)
        out, _ = compare(lambda x_, w_, b_: F.layer_norm(x_, norm, w_, b_),
                         lambda x_, w_, b_: TF.layer_norm(x_, norm, w_, b_), x, w, b)
        assert out.grad_fn.name() == "NativeLayerNormBackward0"
    else:
        compare(lambda x_: F.layer_norm(x_, norm), lambda x_: TF.layer_norm(x_, norm), x)


def test_layer_norm_shape_error():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with "
                                           r"shape \[\*, 4\], but got input of size\[4, 3\]"):
        F.layer_norm(tg.randn(4, 3), (4,))


@SETTINGS
@given(n=st.integers(2, 5), c=st.integers(1, 4), length=st.sampled_from([None, 1, 3]),
       training=st.booleans(), affine=st.booleans(), seed=st.integers(0, 2**16))
def test_batch_norm_matches_torch(n, c, length, training, affine, seed):
    rng = np.random.default_rng(seed)
    shape = (n, c) if length is None else (n, c, length)
    x = rng.standard_normal(shape) * 2 + 0.5
    rm, rv = rng.standard_normal(c), rng.random(c) + 0.5
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    stats_o = [tg.tensor(rm), tg.tensor(rv)]
    stats_t = [torch.tensor(rm), torch.tensor(rv)]
    if affine:
        compare(lambda x_, w_, b_: F.batch_norm(x_, *stats_o, w_, b_, training, 0.3, 1e-4),
                lambda x_, w_, b_: TF.batch_norm(x_, *stats_t, w_, b_, training, 0.3, 1e-4),
                x, w, b)
    else:
        compare(lambda x_: F.batch_norm(x_, *stats_o, training=training),
                lambda x_: TF.batch_norm(x_, *stats_t, training=training), x)
    for o, t in zip(stats_o, stats_t):  # the running statistics were updated alike
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12)


def test_batch_norm_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when "
                                         r"training, got input size torch.Size\(\[1, 3\]\)"):
        F.batch_norm(tg.randn(1, 3), None, None, training=True)


@SETTINGS
@given(p=st.sampled_from([1.0, 2.0, 3.0]), seed=st.integers(0, 2**16))
def test_normalize_and_cosine_similarity_match_torch(p, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    compare(lambda x: F.normalize(x, p=p, dim=1), lambda x: TF.normalize(x, p=p, dim=1), a)
    compare(lambda x, y: F.cosine_similarity(x, y), lambda x, y: TF.cosine_similarity(x, y),
            a, b)


# ------------------------------------------------------------------------------ padding


@pytest.mark.parametrize("pad", [(1, 2), (0, 0, 2, 1), (-1, 2), (1, 1, -1, 0), (2, 0, 1, 1, 1, 0)])
def test_constant_pad_matches_torch(pad):
    x = arrays((2, 3, 4), 0)
    out, _ = compare(lambda t: F.pad(t, pad, value=0.5),
                     lambda t: TF.pad(t, pad, value=0.5), x)
    assert out.grad_fn.name() == "ConstantPadNdBackward0"


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", [((2, 3, 4), (1, 2)), ((1, 2, 3, 4), (2, 1, 1, 0))])
def test_other_pad_modes_match_torch(mode, shape, pad):
    x = arrays(shape, 1)
    compare(lambda t: F.pad(t, pad, mode=mode), lambda t: TF.pad(t, pad, mode=mode), x)


def test_pad_errors():
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(tg.randn(2, 3), (1,))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two "
                                           "times the input dimension"):
        F.pad(tg.randn(2, 3), (1, 1, 1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(tg.randn(1, 2, 3), (3, 3), mode="reflect")
