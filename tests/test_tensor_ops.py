"""Values and gradients of the tensor ops against PyTorch (float64), over generated shapes,
broadcasting and non-contiguous layouts."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_edu as tg
from oracle import (LAYOUTS, OUR_DTYPE, TORCH_DTYPE, assert_same, assert_same_grads,
                    broadcastable_shapes, make_layout, shapes, values)

SETTINGS = settings(max_examples=25, deadline=None)

# name -> (function taking the framework module and a tensor, lowest input value)
UNARY = {
    "neg": (lambda m, x: -x, -3), "abs": (lambda m, x: x.abs(), -3),
    "exp": (lambda m, x: x.exp(), -3), "log": (lambda m, x: x.log(), 0.1),
    "log2": (lambda m, x: x.log2(), 0.1), "log1p": (lambda m, x: x.log1p(), -0.5),
    "expm1": (lambda m, x: x.expm1(), -3), "sqrt": (lambda m, x: x.sqrt(), 0.1),
    "rsqrt": (lambda m, x: x.rsqrt(), 0.1), "reciprocal": (lambda m, x: x.reciprocal(), 0.5),
    "sin": (lambda m, x: x.sin(), -3), "cos": (lambda m, x: x.cos(), -3),
    "tan": (lambda m, x: x.tan(), -1), "tanh": (lambda m, x: x.tanh(), -3),
    "sigmoid": (lambda m, x: x.sigmoid(), -3), "relu": (lambda m, x: x.relu(), -3),
    "erf": (lambda m, x: x.erf(), -3), "square": (lambda m, x: x.square(), -3),
    "sign": (lambda m, x: x.sign(), -3), "floor": (lambda m, x: x.floor(), -3),
    "ceil": (lambda m, x: x.ceil(), -3), "round": (lambda m, x: x.round(), -3),
    "trunc": (lambda m, x: x.trunc(), -3), "pow_scalar": (lambda m, x: x ** 3, -3),
    "pow_half": (lambda m, x: x ** 0.5, 0.1), "rpow": (lambda m, x: 2.0 ** x, -3),
    "clamp": (lambda m, x: x.clamp(-1.0, 1.5), -3), "clamp_min": (lambda m, x: x.clamp(min=0.5), -3),
    "mul_scalar": (lambda m, x: x * 2.5, -3), "rsub_scalar": (lambda m, x: 1 - x, -3),
    "rdiv_scalar": (lambda m, x: 2 / x, 0.5), "silu": (lambda m, x: x.sigmoid() * x, -3),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes(0, 3), layout=st.sampled_from(LAYOUTS), seed=st.integers(0, 2 ** 16))
@SETTINGS
def test_unary_values_and_grads(name, shape, layout, seed):
    fn, low = UNARY[name]
    x = values(shape, seed, low, 3.0)
    ours, theirs, (leaf_o, leaf_t) = make_layout(x, layout, requires_grad=True)
    out_o, out_t = fn(tg, ours), fn(torch, theirs)
    assert_same(out_o, out_t)
    seed_grad = values(tuple(out_t.shape), seed + 1)
    out_o.backward(tg.tensor(seed_grad))
    out_t.backward(torch.tensor(seed_grad))
    assert_same_grads([leaf_o], [leaf_t])


BINARY = {
    "add": lambda m, a, b: a + b, "sub": lambda m, a, b: a - b, "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / b, "pow": lambda m, a, b: a ** b,
    "maximum": lambda m, a, b: m.maximum(a, b), "minimum": lambda m, a, b: m.minimum(a, b),
    "atan2": lambda m, a, b: m.atan2(a, b), "where": lambda m, a, b: m.where(a > b, a, b),
    "add_alpha": lambda m, a, b: m.add(a, b, alpha=2.5), "sub_alpha": lambda m, a, b: m.sub(a, b, alpha=0.5),
    "mixed": lambda m, a, b: (a * b + a / b - b).exp().sum(-1, keepdim=True) * a,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes_=broadcastable_shapes(), layouts=st.tuples(st.sampled_from(LAYOUTS),
                                                         st.sampled_from(LAYOUTS)),
       seed=st.integers(0, 2 ** 16))
@SETTINGS
def test_binary_values_and_grads_with_broadcasting(name, shapes_, layouts, seed):
    fn = BINARY[name]
    # positive operands keep pow and div in their domains
    a = values(shapes_[0], seed, 0.5, 2.0)
    b = values(shapes_[1], seed + 7, 0.5, 2.0)
    ao, at, (la_o, la_t) = make_layout(a, layouts[0], True)
    bo, bt, (lb_o, lb_t) = make_layout(b, layouts[1], True)
    out_o, out_t = fn(tg, ao, bo), fn(torch, at, bt)
    assert_same(out_o, out_t)
    g = values(tuple(out_t.shape), seed + 3)
    out_o.backward(tg.tensor(g))
    out_t.backward(torch.tensor(g))
    assert_same_grads([la_o, lb_o], [la_t, lb_t])


REDUCTIONS = {
    "sum": lambda m, x, d, k: x.sum(), "sum_dim": lambda m, x, d, k: x.sum(d, keepdim=k),
    "mean": lambda m, x, d, k: x.mean(), "mean_dim": lambda m, x, d, k: x.mean(d, keepdim=k),
    "var": lambda m, x, d, k: x.var(d, keepdim=k), "std": lambda m, x, d, k: x.std(d, keepdim=k),
    "var_biased": lambda m, x, d, k: x.var(d, unbiased=False, keepdim=k),
    "prod": lambda m, x, d, k: x.prod(d, keepdim=k), "prod_all": lambda m, x, d, k: x.prod(),
    "max": lambda m, x, d, k: x.max(), "min": lambda m, x, d, k: x.min(),
    "max_dim": lambda m, x, d, k: x.max(d, keepdim=k)[0],
    "min_dim": lambda m, x, d, k: x.min(d, keepdim=k).values,
    "amax": lambda m, x, d, k: x.amax(d, keepdim=k), "amin": lambda m, x, d, k: x.amin(d, keepdim=k),
    "logsumexp": lambda m, x, d, k: x.logsumexp(d, keepdim=k),
    "norm": lambda m, x, d, k: x.norm(), "cumsum": lambda m, x, d, k: x.cumsum(d),
    "cumprod": lambda m, x, d, k: x.cumprod(d),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(shape=shapes(1, 4, 2, 4), layout=st.sampled_from(("contiguous", "transposed", "strided")),
       seed=st.integers(0, 2 ** 16), data=st.data())
@SETTINGS
def test_reductions_values_and_grads(name, shape, layout, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    fn = REDUCTIONS[name]
    # distinct values, so that max/min have a unique winner and their gradients agree
    x = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) / 7.0 - 1.0
    ours, theirs, (lo, lt) = make_layout(x, layout, True)
    out_o, out_t = fn(tg, ours, dim, keepdim), fn(torch, theirs, dim, keepdim)
    assert_same(out_o, out_t)
    g = values(tuple(out_t.shape), seed + 1)
    out_o.backward(tg.tensor(g))
    out_t.backward(torch.tensor(g))
    assert_same_grads([lo], [lt])


def test_reductions_over_several_dims_and_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 3.0, 0.0]])
    for fn in (lambda t: t.sum((0, 1)), lambda t: t.mean((-1, 0), keepdim=True),
               lambda t: t.max(), lambda t: t.amax(1), lambda t: t.var((0, 1))):
        o, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fn(o).sum().backward()
        fn(t).sum().backward()
        assert_same(fn(o.detach()), fn(t.detach()))
        assert_same(o.grad, t.grad)


@given(shape=shapes(1, 3), seed=st.integers(0, 2 ** 16), dtype=st.sampled_from(
    [np.int64, np.int32, np.uint8, np.bool_]))
@SETTINGS
def test_integer_and_bool_reductions_keep_pytorch_dtypes(shape, seed, dtype):
    x = values(shape, seed, 0, 5, dtype)
    o, t = tg.tensor(x), torch.tensor(x)
    assert_same(o.sum(), t.sum())
    assert_same(o.sum(0), t.sum(0))
    assert_same(o.prod(0), t.prod(0))
    assert_same(o.max(), t.max())
    if dtype is not np.bool_:
        assert_same(o.argmax(), t.argmax())
        assert_same(o.argmin(0), t.argmin(0))
    assert_same(o.all(), t.all())
    assert_same(o.any(0), t.any(0))


@given(m=st.integers(1, 5), k=st.integers(1, 5), n=st.integers(1, 5),
       batch=st.sampled_from([(), (2,), (3, 1), (1, 2)]), seed=st.integers(0, 2 ** 16),
       transpose=st.booleans())
@SETTINGS
def test_matmul_with_batch_broadcasting(m, k, n, batch, seed, transpose):
    a = values(batch + (m, k), seed)
    b = values((k, n) if batch == (3, 1) else batch[::-1] + (k, n), seed + 1)
    ao, at, (lao, lat) = make_layout(a, "transposed" if transpose else "contiguous", True)
    bo, bt = tg.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    try:
        expected = at @ bt
    except RuntimeError:
        with pytest.raises(RuntimeError):
            ao @ bo
        return
    out = ao @ bo
    assert_same(out, expected)
    g = values(tuple(expected.shape), seed + 2)
    out.backward(tg.tensor(g))
    expected.backward(torch.tensor(g))
    assert_same_grads([lao, bo], [lat, bt])


@pytest.mark.parametrize("shapes_", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                     ((2, 2, 3), (3,)), ((4,), (2, 4, 3))])
def test_matmul_vector_cases(shapes_):
    a, b = values(shapes_[0], 1), values(shapes_[1], 2)
    ao, at = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    bo, bt = tg.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    out_o, out_t = tg.matmul(ao, bo), torch.matmul(at, bt)
    assert_same(out_o, out_t)
    out_o.sum().backward()
    out_t.sum().backward()
    assert_same_grads([ao, bo], [at, bt])


def test_mm_bmm_mv_dot_outer_addmm():
    rng = np.random.default_rng(0)
    A, B, C = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5)), rng.standard_normal(5)
    for fn in (lambda m, a, b, c: m.bmm(a, b), lambda m, a, b, c: m.mm(a[0], b[0]),
               lambda m, a, b, c: m.mv(b[1], c), lambda m, a, b, c: m.dot(c, c),
               lambda m, a, b, c: m.outer(c, a[0, 0]),
               lambda m, a, b, c: m.addmm(c, a[1], b[1], beta=0.5, alpha=2.0)):
        args_o = [tg.tensor(x, requires_grad=True) for x in (A, B, C)]
        args_t = [torch.tensor(x, requires_grad=True) for x in (A, B, C)]
        out_o, out_t = fn(tg, *args_o), fn(torch, *args_t)
        assert_same(out_o, out_t)
        out_o.sum().backward()
        out_t.sum().backward()
        assert_same_grads(args_o, args_t)


@given(shape=shapes(1, 3, 1, 4), n=st.integers(1, 3), seed=st.integers(0, 2 ** 16),
       data=st.data())
@SETTINGS
def test_cat_and_stack(shape, n, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    arrays = []
    for i in range(n):
        s = list(shape)
        s[dim] = data.draw(st.integers(0, 3))
        arrays.append(values(tuple(s), seed + i))
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_o, out_t = tg.cat(ours, dim), torch.cat(theirs, dim)
    assert_same(out_o, out_t)
    g = values(tuple(out_t.shape), seed)
    out_o.backward(tg.tensor(g))
    out_t.backward(torch.tensor(g))
    assert_same_grads(ours, theirs)
    same = [values(shape, seed + i) for i in range(n)]
    assert_same(tg.stack([tg.tensor(a) for a in same], dim),
                torch.stack([torch.tensor(a) for a in same], dim))


def test_gather_scatter_index_select_index_add():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4))
    idx = np.array([[0, 3, 3], [1, 1, 0], [2, 0, 1]])
    cases = [
        lambda m, t: t.gather(1, m.tensor(idx)),
        lambda m, t: t.gather(0, m.tensor(idx[:, :2] % 3)),
        lambda m, t: t.index_select(1, m.tensor([3, 0, 3])),
        lambda m, t: t.index_select(0, m.tensor([2, 2])),
        lambda m, t: m.zeros(3, 5, dtype=m.float64).scatter(1, m.tensor(idx), t[:, :3]),
        lambda m, t: t.scatter(1, m.tensor(idx), 7.0),
        lambda m, t: m.zeros(3, 4, dtype=m.float64).scatter_add(1, m.tensor(idx), t[:, :3]),
        lambda m, t: t.index_add(0, m.tensor([0, 0, 2]), t * 2),
        lambda m, t: t.masked_fill(t > 0, -1.0),
        lambda m, t: t[t > 0],
        lambda m, t: t.masked_select(t < 0.5),
    ]
    for fn in cases:
        o, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out_o, out_t = fn(tg, o), fn(torch, t)
        assert_same(out_o, out_t)
        g = rng.standard_normal(tuple(out_t.shape))
        out_o.backward(tg.tensor(g))
        out_t.backward(torch.tensor(g))
        assert_same(o.grad, t.grad)


def test_sort_topk_argsort_nonzero_unique():
    x = np.array([[3.0, 1.0, 2.0, 1.0], [0.5, -1.0, 4.0, 4.0]])
    o, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for d in (0, 1, -1):
        for desc in (False, True):
            so, st_ = o.sort(d, descending=desc, stable=True), t.sort(dim=d, descending=desc, stable=True)
            assert_same(so.values, st_.values)
            assert_same(so.indices, st_.indices)
    vo, io = o.topk(2, dim=1)
    vt, it = t.topk(2, dim=1)
    assert_same(vo, vt)
    vo.sum().backward()
    vt.sum().backward()
    assert_same(o.grad, t.grad)
    assert_same(tg.tensor(x).argsort(1), torch.tensor(x).argsort(dim=1, stable=True))
    assert_same(tg.tensor(x).nonzero(), torch.tensor(x).nonzero())
    assert_same(tg.tensor(x > 1).nonzero(), torch.tensor(x > 1).nonzero())
    assert_same(tg.tensor([3, 1, 3, 2]).unique(), torch.tensor([3, 1, 3, 2]).unique())


def test_comparisons_logic_and_bitwise_ops():
    a = np.array([[1, 2, 3], [4, 5, 6]])
    b = np.array([3, 2, 1])
    for fn in (lambda x, y: x < y, lambda x, y: x <= y, lambda x, y: x > y, lambda x, y: x >= y,
               lambda x, y: x == y, lambda x, y: x != y, lambda x, y: (x > 2) & (y > 1),
               lambda x, y: (x > 2) | (y > 1), lambda x, y: (x > 2) ^ (y > 1),
               lambda x, y: ~(x > 2), lambda x, y: x & y, lambda x, y: x | y,
               lambda x, y: x // y, lambda x, y: x % y, lambda x, y: -x % y,
               lambda x, y: x / y, lambda x, y: x ** 2, lambda x, y: x * 1.5):
        assert_same(fn(tg.tensor(a), tg.tensor(b)), fn(torch.tensor(a), torch.tensor(b)))


def test_allclose_isclose_equal():
    a = tg.tensor([1.0, 2.0, float("nan")])
    assert tg.allclose(a[:2], tg.tensor([1.0, 2.0 + 1e-9]))
    assert not tg.allclose(a[:2], tg.tensor([1.0, 2.1]))
    assert not tg.allclose(a, a)
    assert tg.allclose(a, a, equal_nan=True)
    assert tg.equal(a[:2], tg.tensor([1.0, 2.0]))
    assert not tg.equal(a[:2], tg.tensor([1.0]))


@pytest.mark.parametrize("fn", [
    lambda m, x: x.flip(0), lambda m, x: x.roll(1, 1), lambda m, x: x.repeat(2, 1),
    lambda m, x: x.tril(), lambda m, x: x.triu(1), lambda m, x: x.diagonal(),
    lambda m, x: m.where(x > 0, x, m.zeros_like(x)), lambda m, x: x.unbind(1)[1],
    lambda m, x: x.split([1, 3], 1)[1], lambda m, x: x.chunk(2, 1)[1],
    lambda m, x: x.narrow(1, 1, 2), lambda m, x: x.t().contiguous().view(-1),
    lambda m, x: x.reshape(4, 3), lambda m, x: x.t().reshape(-1), lambda m, x: x.flatten(),
    lambda m, x: x.unsqueeze(1).expand(3, 2, 4), lambda m, x: x[None, :, None].squeeze(),
    lambda m, x: x.permute(1, 0), lambda m, x: x.T, lambda m, x: x.movedim(0, 1),
    lambda m, x: x[1:, ::2], lambda m, x: x[[2, 0]][:, [1, 1, 3]], lambda m, x: x[..., -1],
    lambda m, x: x.clone(), lambda m, x: x.to(m.float32).double(),
])
def test_shape_ops_values_and_grads(fn):
    x = values((3, 4), 5)
    o, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_o, out_t = fn(tg, o), fn(torch, t)
    assert_same(out_o, out_t)
    g = values(tuple(out_t.shape), 6)
    out_o.backward(tg.tensor(g))
    out_t.backward(torch.tensor(g))
    assert_same(o.grad, t.grad)


def test_inplace_ops_match_pytorch():
    x = values((3, 4), 2)
    for fn in (lambda t: t.add_(1.5), lambda t: t.sub_(t * 0.5), lambda t: t.mul_(2),
               lambda t: t.div_(4), lambda t: t.clamp_(-0.5, 0.5), lambda t: t.zero_(),
               lambda t: t.fill_(3.0), lambda t: t.copy_(t.flip(0)), lambda t: t.exp_(),
               lambda t: t.relu_(), lambda t: t.pow_(2), lambda t: t.neg_(),
               lambda t: t.masked_fill_(t > 0, 0.0)):
        o, t = tg.tensor(x), torch.tensor(x)
        assert fn(o) is o
        fn(t)
        assert_same(o, t)


def test_inplace_on_nonleaf_records_history():
    x = values((3,), 3)
    other = values((3,), 4)
    for fn in (lambda t: t.mul_(t.new_tensor(other)), lambda t: t.add_(1).exp_(),
               lambda t: t.sigmoid_(), lambda t: t.clamp_(min=0.0), lambda t: t.div_(2)):
        o, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = o * 2, t * 2
        fn(yo)
        fn(yt)
        yo.sum().backward()
        yt.sum().backward()
        assert_same(o.grad, t.grad)


@pytest.mark.parametrize("equation,shapes_", [
    ("bij,jk->bik", ((2, 3, 4), (4, 5))), ("...chw,c->...hw", ((2, 3, 4, 5), (3,))),
    ("ii->i", ((3, 3),)), ("ii", ((3, 3),)), ("ij->ji", ((3, 2),)), ("i,i", ((4,), (4,))),
    ("bij->", ((2, 3, 4),)), ("i,j->ij", ((2,), (3,))),
])
def test_einsum(equation, shapes_):
    arrays = [values(s, i) for i, s in enumerate(shapes_)]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_o, out_t = tg.einsum(equation, *ours), torch.einsum(equation, *theirs)
    assert_same(out_o, out_t)
    out_o.sum().backward()
    out_t.sum().backward()
    assert_same_grads(ours, theirs)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.sinh(x), lambda m, x: m.cosh(x), lambda m, x: m.atan(x), lambda m, x: m.asin(x),
    lambda m, x: m.acos(x), lambda m, x: m.log10(x), lambda m, x: m.exp2(x), lambda m, x: m.frac(x),
    lambda m, x: m.diag(x), lambda m, x: m.diag(x[0], 1), lambda m, x: m.trace(x),
    lambda m, x: m.diff(x, dim=0), lambda m, x: m.take(x, m.tensor([[0, 8], [3, 3]])),
    lambda m, x: m.take_along_dim(x, m.tensor([[0], [2], [1]]), 1),
    lambda m, x: m.softmax(x, 1), lambda m, x: m.log_softmax(x, 0),
    lambda m, x: m.nansum(x), lambda m, x: m.meshgrid(x[0], x[1], indexing="xy")[0],
    lambda m, x: m.meshgrid(x[0], x[:2, 1], indexing="ij")[1],
])
def test_composite_functions(fn):
    x = values((3, 3), 9, 0.1, 0.9)
    o, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_o, out_t = fn(tg, o), fn(torch, t)
    assert_same(out_o, out_t)
    out_o.sum().backward()
    out_t.sum().backward()
    assert_same(o.grad, t.grad)


# ------------------------------------------------------------------ cumulative ops with zeros

CUMPROD_ROWS = {
    "no zero": [2.0, -0.5, 3.0, 1.5],
    "one zero": [2.0, 0.0, 3.0, 4.0],
    "zero first": [0.0, 2.0, 3.0, -1.0],
    "zero last": [2.0, 3.0, -1.0, 0.0],
    "two zeros": [1.5, 0.0, 2.0, 0.0, 3.0],
    "adjacent zeros": [2.0, 0.0, 0.0, 3.0],
    "all zeros": [0.0, 0.0, 0.0],
    "single zero": [0.0],
    "single": [-2.5],
}


@pytest.mark.parametrize("case", sorted(CUMPROD_ROWS))
def test_cumprod_values_and_grads_with_zeros(case):
    """A zero makes y_j / x_i useless: the gradient at the first zero is the product of the
    others, and 0 after it (PyTorch's values)."""
    x = np.array(CUMPROD_ROWS[case])
    o, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_o, out_t = o.cumprod(0), t.cumprod(0)
    assert_same(out_o, out_t)
    g = np.arange(1.0, x.size + 1) * np.array([1, -1] * x.size)[:x.size]
    out_o.backward(tg.tensor(g))
    out_t.backward(torch.tensor(g))
    assert_same(o.grad, t.grad)
    assert out_o.grad_fn.name() == "CumprodBackward0"


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
def test_cumprod_grads_multi_dim_with_zeros(dim):
    rng = np.random.default_rng(abs(dim) + 10 * (dim < 0))
    x = rng.uniform(-2, 2, (3, 4, 5)).round(1)
    x[rng.random(x.shape) < 0.2] = 0.0           # zeros everywhere: first, last, several
    x[0, 0, :] = 0.0
    x[1, :, 0] = 0.0
    x[2, -1, -1] = 0.0
    for layout in ("contiguous", "transposed", "strided"):
        ours, theirs, (lo, lt) = make_layout(x, layout, requires_grad=True)
        out_o, out_t = ours.cumprod(dim), theirs.cumprod(dim)
        assert_same(out_o, out_t)
        g = values(tuple(out_t.shape), 3)
        out_o.backward(tg.tensor(g))
        out_t.backward(torch.tensor(g))
        assert_same_grads([lo], [lt], rtol=1e-10, atol=1e-12)


@given(shape=shapes(1, 3, 1, 5), seed=st.integers(0, 2 ** 16), data=st.data())
@SETTINGS
def test_cumsum_cumprod_grads_match_pytorch(shape, seed, data):
    """Values drawn from a few small integers: zeros (often several in a row) and repeats."""
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).integers(-2, 3, shape).astype(np.float64)
    g = values(shape, seed + 1)
    for op in ("cumsum", "cumprod"):
        o, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out_o, out_t = getattr(o, op)(dim), getattr(t, op)(dim)
        assert_same(out_o, out_t)
        out_o.backward(tg.tensor(g))
        out_t.backward(torch.tensor(g))
        assert_same(o.grad, t.grad, rtol=1e-10, atol=1e-12)


def test_cumulative_dtypes_and_scalars():
    for data in ([1, 2, 3], [True, False, True], [[2, 0], [3, 4]]):
        o, t = tg.tensor(data), torch.tensor(data)
        for op in ("cumsum", "cumprod"):
            assert_same(getattr(o, op)(0), getattr(t, op)(0))          # int64 results
            assert_same(getattr(o, op)(-1, dtype=tg.float64),
                        getattr(t, op)(-1, dtype=torch.float64))
    o, t = tg.tensor(1.5, dtype=tg.float64), torch.tensor(1.5, dtype=torch.float64)
    for op in ("cumsum", "cumprod"):                  # a 0-d tensor: the running op of one
        a, b = o.clone().requires_grad_(), t.clone().requires_grad_()
        out_o, out_t = getattr(a, op)(0), getattr(b, op)(-1)
        assert_same(out_o, out_t)
        (out_o * 3).backward()
        (out_t * 3).backward()
        assert_same(a.grad, b.grad)
    f32 = np.full(101, 0.1, np.float32)
    f32[0] = 1e8                                      # accumulated in float64, as PyTorch
    assert_same(tg.tensor(f32).cumsum(0), torch.tensor(f32).cumsum(0), rtol=0, atol=0)


# ---------------------------------------------------------------- triangles and the identity


@pytest.mark.parametrize("diagonal", [-4, -2, -1, 0, 1, 3, 5])
def test_tril_triu_with_diagonals(diagonal):
    for shape in ((4, 5), (5, 3), (2, 3, 4)):
        x = values(shape, diagonal + 20)
        for op in ("tril", "triu"):
            o, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            out_o, out_t = getattr(o, op)(diagonal), getattr(t, op)(diagonal)
            assert_same(out_o, out_t)
            out_o.backward(tg.tensor(x * 2))
            out_t.backward(torch.tensor(x * 2))
            assert_same(o.grad, t.grad)
    ints = np.arange(12).reshape(3, 4)
    assert_same(tg.tensor(ints).tril(diagonal), torch.tensor(ints).tril(diagonal))
    assert_same(tg.tensor(ints > 4).triu(diagonal), torch.tensor(ints > 4).triu(diagonal))


@pytest.mark.parametrize("n,m", [(3, None), (2, 4), (4, 2), (1, 1), (0, None), (3, 0), (0, 2)])
def test_eye(n, m):
    for dtype in (None, tg.float64, tg.int64, tg.bool, tg.uint8):
        kw = {} if dtype is None else {"dtype": dtype}
        kw_t = {} if dtype is None else {"dtype": TORCH_DTYPE[dtype]}
        ours = tg.eye(n, **kw) if m is None else tg.eye(n, m, **kw)
        theirs = torch.eye(n, **kw_t) if m is None else torch.eye(n, m, **kw_t)
        assert_same(ours, theirs)
    assert tg.eye(2, requires_grad=True).requires_grad


# ---------------------------------------------------------------------------- ranges


@pytest.mark.parametrize("args", [(5,), (0,), (1, 4), (-3, 7, 2), (10, 0, -3), (7, 7),
                                  (0.5, 3), (0, 1, 0.1), (-1.0, 1.0, 0.25), (1, 2.5, 0.5),
                                  (0, 10 ** 5, 7)])
def test_arange_matches_pytorch(args):
    """Default dtypes (int64 for integers, float32 for floats), explicit ones, and values: a
    float32 may differ from PyTorch's by one rounding (it computes in another order)."""
    integral = all(isinstance(a, int) for a in args)
    assert_same(tg.arange(*args), torch.arange(*args), rtol=1.2e-7, atol=1e-7)
    dtypes = [tg.float64, tg.float32] + ([tg.int64, tg.int32] if integral else [])
    for dt in dtypes:
        ours, theirs = tg.arange(*args, dtype=dt), torch.arange(*args, dtype=TORCH_DTYPE[dt])
        tol = dict(rtol=1.2e-7, atol=1e-7) if dt is tg.float32 else dict(rtol=1e-15, atol=1e-15)
        assert_same(ours, theirs, **tol)


def test_arange_tensor_arguments_and_errors():
    assert_same(tg.arange(tg.tensor(4)), torch.arange(torch.tensor(4)))
    assert_same(tg.arange(tg.tensor(1.0), 3), torch.arange(torch.tensor(1.0), 3))
    for bad in ((0, 5, 0), (5, 0, 1), (0, 5, -1)):
        with pytest.raises(RuntimeError):
            torch.arange(*bad)
        with pytest.raises((RuntimeError, ValueError)):
            tg.arange(*bad)


@pytest.mark.parametrize("args", [(0, 1, 5), (0, 1, 11), (-3.3, 7.1, 50), (1, 1, 3),
                                  (2, -2, 7), (0, 1, 1), (0, 1, 0), (3, 4, 2), (-1, 1, 200)])
def test_linspace_matches_pytorch(args):
    """PyTorch's rule: the first half steps up from start, the second half down from end, in
    the dtype's own arithmetic. Both ends are exact; inside, PyTorch's vectorised loop may
    round a few numbers differently (it picks the half by chunks of a SIMD register)."""
    start, end, steps = args
    for dt in (None, tg.float64, tg.float32):
        kw = {} if dt is None else {"dtype": dt}
        ours = tg.linspace(*args, **kw)
        theirs = torch.linspace(*args, **({} if dt is None else {"dtype": TORCH_DTYPE[dt]}))
        np_dtype = (dt or tg.float32).np_dtype
        scale = np.spacing(np_dtype.type(max(abs(start), abs(end), 1)))
        assert_same(ours, theirs, rtol=0, atol=4 * scale)
        if steps >= 2:
            assert ours[0].item() == theirs[0].item() and ours[-1].item() == theirs[-1].item()
            number = np_dtype.type
            step = (number(end) - number(start)) / number(steps - 1)
            i = np.arange(steps)
            expected = np.where(i < steps // 2, number(start) + i.astype(np_dtype) * step,
                                number(end) - (steps - 1 - i).astype(np_dtype) * step)
            np.testing.assert_array_equal(ours.numpy(), expected.astype(np_dtype))
    for dt in (tg.int64, tg.int32):     # integer dtypes: the ends truncated first, then exact
        assert_same(tg.linspace(*args, dtype=dt), torch.linspace(*args, dtype=TORCH_DTYPE[dt]))
    with pytest.raises(RuntimeError, match="non-negative"):
        tg.linspace(0, 1, -1)


def test_arange_with_an_integer_dtype_truncates_its_arguments_first():
    for args in ((0.5, 5.5, 1.5), (-2.7, 3.2, 1.0), (0, 5, 1.9), (5, 0, -2), (0, 10, 3)):
        assert_same(tg.arange(*args, dtype=tg.int64), torch.arange(*args, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="step must be nonzero"):
        tg.arange(0, 1, 0.1, dtype=tg.int64)              # the step truncates to 0


def test_randint_like_one_and_two_bound_forms():
    t = tg.zeros(50, 4, dtype=tg.int32)
    r = tg.randint_like(t, 5)                        # randint_like(t, high): from [0, high)
    theirs = torch.randint_like(torch.zeros(50, 4, dtype=torch.int32), 5)
    assert r.dtype == tg.int32 == OUR_DTYPE[theirs.dtype] and r.shape == t.shape
    values_ = set(np.array(r.tolist()).reshape(-1).tolist())
    assert values_ == {0, 1, 2, 3, 4}
    r = tg.randint_like(t, 3, 6)
    assert set(np.array(r.tolist()).reshape(-1).tolist()) == {3, 4, 5}
    f = tg.randint_like(tg.zeros(200, dtype=tg.float64), 3)
    assert f.dtype == tg.float64 and set(f.tolist()) == {0.0, 1.0, 2.0}
    assert tg.randint_like(t, 4, dtype=tg.int64).dtype == tg.int64


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "matmul", "eq"])
@pytest.mark.parametrize("array", [np.ones(2), np.full(2, 2.0, dtype=np.float32),
                                   np.full((3, 2), 3, dtype=np.int32)])
def test_numpy_arrays_are_tensor_operands_as_in_pytorch(op, array):
    """(numpy computes arithmetic with an array, so numpy's promotion decides the dtype)"""
    import operator
    if op == "matmul" and array.ndim == 2:
        array = array.T
    for dt in ("float32", "int64"):
        theirs = getattr(operator, op)(torch.tensor([1, 2], dtype=getattr(torch, dt)), array)
        ours = getattr(operator, op)(tg.tensor([1, 2], dtype=getattr(tg, dt)), array)
        assert isinstance(ours, tg.Tensor)
        assert_same(ours, theirs)
    # (PyTorch's != with an array gives one bool; ours stays elementwise, the negation of ==)
    t = tg.tensor([1.0, 2.0])
    assert_same(t != np.array([1.0, 3.0]), torch.tensor([False, True]))


def test_numpy_functions_of_tensors_give_tensors_but_not_for_graph_tensors():
    assert_same(np.exp(tg.tensor([0.0, 1.0])), torch.exp(torch.tensor([0.0, 1.0])))
    for L in (torch, tg):
        with pytest.raises(RuntimeError, match="Can't call numpy.. on Tensor that requires"):
            L.ones(2, requires_grad=True) * np.ones(2)


@pytest.mark.parametrize("write", [
    lambda L, x: x.expand(2, 3).add_(1), lambda L, x: x.expand(2, 3).mul_(L.ones(2, 3)),
    lambda L, x: x.expand(2, 3).copy_(L.zeros(2, 3)), lambda L, x: x.expand(2, 3).clamp_(0, 1),
    lambda L, x: x.expand(2, 3).uniform_(),
    lambda L, x: x.view(-1)[1:].add_(x.view(-1)[:-1]),           # partial overlap
    lambda L, x: x.view(-1)[1:].copy_(x.view(-1)[:-1]),
    lambda L, x: x.view(-1).__setitem__(slice(1, None), x.view(-1)[:-1]),
    lambda L, x: x.reshape(3, 1).expand(3, 3).contiguous().copy_(
        x.reshape(3, 1).expand(3, 3).contiguous().t()),             # (separate storages: fine)
])
def test_writes_whose_result_depends_on_element_order_are_refused_as_in_pytorch(write):
    outcome = []
    for L in (torch, tg):
        x = L.arange(3.0).reshape(1, 3)
        try:
            write(L, x)
            outcome.append(x.tolist())
        except RuntimeError as e:
            outcome.append(str(e).split(".")[0])
    assert outcome[0] == outcome[1]


def test_full_overlap_and_disjoint_views_are_fine():
    for L in (torch, tg):
        x = L.arange(6.0)
        x.add_(x)
        x[::2].copy_(x[1::2])   # not a run of memory: allowed, and disjoint
        x[:2].copy_(x[3:5])
        y = L.arange(4.0).reshape(2, 2)
        with pytest.raises(RuntimeError, match="some elements of the input tensor"):
            y.copy_(y.t())      # the same memory in another order
        assert x.tolist() == [6.0, 10.0, 6.0, 6.0, 10.0, 10.0]
