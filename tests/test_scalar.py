"""Tests for tinygrad_edu.scalar (and datasets.make_moons), with PyTorch as the oracle."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinygrad_edu import scalar
from tinygrad_edu.datasets import make_moons
from tinygrad_edu.scalar import (
    MLP, Layer, Neuron, Value, dot, grad_check, topological_order, zero_grad,
)


def close(a: float, b: float, rtol: float = 1e-12, atol: float = 1e-12) -> bool:
    """Same float, allowing for rounding; inf matches inf and nan matches nan."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def leaf(x: float) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def torch_grad(t: torch.Tensor) -> float:
    return 0.0 if t.grad is None else t.grad.item()


# ---- each op against PyTorch ---------------------------------------------------------------------

# name → (the op, written once for both engines; a strategy for its inputs)
finite = dict(allow_nan=False, allow_infinity=False)
UNARY = {
    "neg": (lambda a: -a, st.floats(-10, 10, **finite)),
    "exp": (lambda a: a.exp(), st.floats(-20, 20, **finite)),
    "log": (lambda a: a.log(), st.floats(1e-3, 1e3, **finite)),
    "tanh": (lambda a: a.tanh(), st.floats(-10, 10, **finite)),
    "sigmoid": (lambda a: a.sigmoid(), st.floats(-40, 40, **finite)),
    "relu": (lambda a: a.relu(), st.floats(-10, 10, **finite)),
    "sqrt": (lambda a: a.sqrt(), st.floats(1e-3, 1e3, **finite)),
    "abs": (lambda a: a.abs(), st.floats(-10, 10, **finite)),
    "builtin abs": (lambda a: abs(a), st.floats(-10, 10, **finite)),
    "pow 3": (lambda a: a ** 3, st.floats(-10, 10, **finite)),
    "pow -2": (lambda a: a ** -2, st.floats(0.1, 10, **finite)),
    "pow 0.5": (lambda a: a ** 0.5, st.floats(1e-3, 100, **finite)),
    "pow 0": (lambda a: a ** 0, st.floats(-10, 10, **finite)),
    "radd": (lambda a: 2.5 + a, st.floats(-10, 10, **finite)),
    "rsub": (lambda a: 2.5 - a, st.floats(-10, 10, **finite)),
    "rmul": (lambda a: 2.5 * a, st.floats(-10, 10, **finite)),
    "rtruediv": (lambda a: 2.5 / a, st.floats(0.1, 10, **finite)),
    "rpow": (lambda a: 2.5 ** a, st.floats(-10, 10, **finite)),
}
nonzero = st.floats(-10, 10, **finite).filter(lambda x: abs(x) > 0.1)
BINARY = {
    "+": (lambda a, b: a + b, st.floats(-10, 10, **finite), st.floats(-10, 10, **finite)),
    "-": (lambda a, b: a - b, st.floats(-10, 10, **finite), st.floats(-10, 10, **finite)),
    "*": (lambda a, b: a * b, st.floats(-10, 10, **finite), st.floats(-10, 10, **finite)),
    "/": (lambda a, b: a / b, st.floats(-10, 10, **finite), nonzero),
    "** Value": (lambda a, b: a ** b, st.floats(0.01, 10, **finite), st.floats(-3, 3, **finite)),
}


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_unary_op_matches_torch(name, data):
    op, values = UNARY[name]
    x = data.draw(values)
    a, t = Value(x), leaf(x)
    out, t_out = op(a), op(t)
    out.backward()
    t_out.backward()
    assert close(out.data, t_out.item()), (out.data, t_out.item())
    assert close(a.grad, torch_grad(t), rtol=1e-10), (a.grad, torch_grad(t))


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_binary_op_matches_torch(name, data):
    op, xs, ys = BINARY[name]
    x, y = data.draw(xs), data.draw(ys)
    a, b, ta, tb = Value(x), Value(y), leaf(x), leaf(y)
    out, t_out = op(a, b), op(ta, tb)
    out.backward()
    t_out.backward()
    assert close(out.data, t_out.item()), (out.data, t_out.item())
    assert close(a.grad, torch_grad(ta), rtol=1e-10)
    assert close(b.grad, torch_grad(tb), rtol=1e-10)


@pytest.mark.parametrize("make, x", [
    (lambda a: a.sqrt(), 0.0),          # slope +inf
    (lambda a: a ** 0.5, 0.0),          # slope +inf
    (lambda a: a ** 0, 0.0),            # flat
    (lambda a: a ** 1, 0.0),
    (lambda a: a ** 2, 0.0),
    (lambda a: a.relu(), 0.0),          # 0 at the kink
    (lambda a: a.abs(), 0.0),           # 0 at the kink
    (lambda a: a ** 2, -3.0),           # negative base, integer exponent
    (lambda a: a ** -1, -4.0),
    (lambda a: a.sigmoid(), -800.0),    # no overflow in e^-x
    (lambda a: a.sigmoid(), 800.0),
    (lambda a: a.tanh(), 30.0),
])
def test_edge_points_match_torch(make, x):
    a, t = Value(x), leaf(x)
    out, t_out = make(a), make(t)
    out.backward()
    t_out.backward()
    assert close(out.data, t_out.item()) and close(a.grad, torch_grad(t)), (out, t_out, t.grad)


@pytest.mark.parametrize("x, y", [(0.0, 2.0), (0.0, 0.0), (-2.0, 2.0), (-2.0, 3.0), (2.0, 0.0)])
def test_value_exponent_edge_points_match_torch(x, y):
    """0 ** b and (negative) ** integer b: the exponent's gradient follows PyTorch (0 or nan)."""
    a, b, ta, tb = Value(x), Value(y), leaf(x), leaf(y)
    out, t_out = a ** b, ta ** tb
    out.backward()
    t_out.backward()
    assert close(out.data, t_out.item())
    assert close(a.grad, torch_grad(ta))
    assert close(b.grad, torch_grad(tb)), (b.grad, torch_grad(tb))


# ---- random expressions over every op against PyTorch -------------------------------------------

N_INPUTS = 3      # few inputs, so expressions reuse them
UNARY_NODES = ["neg", "exp", "log", "tanh", "sigmoid", "relu", "sqrt", "abs",
               "pow2", "pow3", "pow-1", "pow0.5", "pow1.5", "rpow", "rsub", "rtruediv", "radd", "rmul"]
BINARY_NODES = ["+", "-", "*", "/", "**"]

leaves = st.one_of(
    st.tuples(st.just("x"), st.integers(0, N_INPUTS - 1)),
    st.tuples(st.just("const"), st.floats(-3, 3, **finite)),
)
expressions = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.tuples(st.sampled_from(UNARY_NODES), children),
        st.tuples(st.sampled_from(BINARY_NODES), children, children),
    ),
    max_leaves=12,
)


def positive(a):
    """a² + 0.25 > 0: keeps log, sqrt and non-integer powers inside their domain."""
    return a * a + 0.25


def evaluate(tree, xs):
    """Build the expression from Values or from torch tensors: the code is the same."""
    kind = tree[0]
    if kind == "x":
        return xs[tree[1]]
    if kind == "const":
        return xs[0] * 0.0 + tree[1]    # a constant, in the engine's own type
    if kind in BINARY_NODES:
        a, b = evaluate(tree[1], xs), evaluate(tree[2], xs)
        if kind == "+":
            return a + b
        if kind == "-":
            return a - b
        if kind == "*":
            return a * b
        if kind == "/":
            return a / b
        return positive(a) ** b.tanh()   # Value exponent, kept small so it cannot overflow
    a = evaluate(tree[1], xs)
    unary = {
        "neg": lambda: -a, "exp": lambda: a.tanh().exp(), "log": lambda: positive(a).log(),
        "tanh": lambda: a.tanh(), "sigmoid": lambda: a.sigmoid(), "relu": lambda: a.relu(),
        "sqrt": lambda: positive(a).sqrt(), "abs": lambda: a.abs(),
        "pow2": lambda: a ** 2, "pow3": lambda: a ** 3, "pow-1": lambda: positive(a) ** -1,
        "pow0.5": lambda: positive(a) ** 0.5, "pow1.5": lambda: positive(a) ** 1.5,
        "rpow": lambda: 1.5 ** a.tanh(), "rsub": lambda: 1.5 - a, "rtruediv": lambda: 1.5 / positive(a),
        "radd": lambda: 1.5 + a, "rmul": lambda: 1.5 * a,
    }
    return unary[kind]()


# Inputs are 0 or at least 1e-3 in size: x / x at x = 1e-136 has gradient 1/x - x/x² = 0, and
# two correct engines can round that cancellation of 1e136-sized terms to wildly different values.
inputs_ = st.one_of(st.just(0.0), st.floats(1e-3, 2), st.floats(-2, -1e-3))


@settings(max_examples=400, deadline=None)
@given(tree=expressions, inputs=st.lists(inputs_, min_size=N_INPUTS, max_size=N_INPUTS))
def test_random_expressions_match_torch(tree, inputs):
    xs = [Value(x) for x in inputs]
    ts = [leaf(x) for x in inputs]
    try:
        out = evaluate(tree, xs)
    except (ZeroDivisionError, OverflowError):
        assume(False)                   # division by an exact 0, or a float overflow
    t_out = evaluate(tree, ts)
    assume(math.isfinite(out.data) and abs(out.data) < 1e8)
    out.backward()
    t_out.backward()
    grads = [x.grad for x in xs]
    assume(all(math.isfinite(g) and abs(g) < 1e8 for g in grads))
    assert close(out.data, t_out.item(), rtol=1e-9, atol=1e-9), (out.data, t_out.item())
    for g, t in zip(grads, ts):
        assert close(g, torch_grad(t), rtol=1e-7, atol=1e-8), (g, torch_grad(t))


# ---- graph structure, node reuse, long chains ----------------------------------------------------

def test_reused_node_gradients_add_up():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b).backward()
    assert b.grad == 6.0


def test_diamond_graph_matches_torch():
    def f(a):
        b = a * 3.0
        c = a.exp()
        return b * c + b / c        # a reaches the output along four paths
    a, t = Value(0.7), leaf(0.7)
    out, t_out = f(a), f(t)
    out.backward()
    t_out.backward()
    assert close(out.data, t_out.item()) and close(a.grad, torch_grad(t))


def test_parents_op_and_label_are_kept_in_order():
    a, b = Value(2.0, label="a"), Value(5.0, label="b")
    c = a - b
    assert c.op == "-" and c.parents == (a, b) and c._prev == (a, b)
    d = 10 - a                          # the constant becomes a leaf, in operand order
    assert d.parents[1] is a and d.parents[0].data == 10.0 and d.parents[0].op == ""
    assert a.tanh().op == "tanh" and (a ** 2).op == "**" and a.label == "a"


def test_topological_order_puts_every_node_after_its_parents():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert order[-1] is e and len(order) == len(set(order)) == 5
    position = {node: i for i, node in enumerate(order)}
    assert all(position[p] < position[node] for node in order for p in node.parents)


def test_chain_of_100_000_ops_without_recursion():
    n = 100_000
    x = Value(0.5)
    y = x
    for _ in range(n):
        y = y + x                       # y = (n + 1)·x, and x is reused n + 1 times
    y.backward()
    assert y.data == (n + 1) * 0.5
    assert x.grad == n + 1

    x = Value(0.5)
    y = x
    for _ in range(n):
        y = (y + x) * 0.5               # y stays x; dy/dx = 0.5ⁿ + Σₖ 0.5ᵏ = 1
    y.backward()
    assert y.data == 0.5
    assert abs(x.grad - 1.0) < 1e-12


def test_second_backward_accumulates_like_torch():
    x, y = Value(2.0), Value(-3.0)
    tx, ty = leaf(2.0), leaf(-3.0)
    z, tz = x * y + x.tanh(), tx * ty + tx.tanh()
    z.backward()
    z.backward()
    tz.backward(retain_graph=True)
    tz.backward()
    assert close(x.grad, tx.grad.item()) and close(y.grad, ty.grad.item())
    assert z.grad == 2.0
    assert close(x.grad, 2 * (y.data + 1 - math.tanh(2.0) ** 2))


def test_zero_grad():
    x, y = Value(2.0), Value(3.0)
    mid = x * y
    z = mid + x
    z.backward()
    assert x.grad != 0 and mid.grad != 0
    z.zero_grad()                       # the whole graph
    assert all(node.grad == 0.0 for node in topological_order(z))
    z.backward()
    z.backward()
    zero_grad([x, y])                   # just these
    assert x.grad == 0.0 and y.grad == 0.0 and mid.grad == 2.0
    z.zero_grad()
    z.backward()
    assert x.grad == y.data + 1


def test_repr():
    assert repr(Value(2)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(2, label="w")) == "Value(data=2.0, grad=0.0, label='w')"
    v = Value(1.5)
    (v * 2).backward()
    assert repr(v) == "Value(data=1.5, grad=2.0)"
    assert type(Value(3).data) is float and type((Value(3) * 2).data) is float


# ---- errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, match", [
    (lambda: Value(-2.0).log(), ValueError, r"log: input must be > 0, got Value\(data=-2\.0\)"),
    (lambda: Value(0.0).log(), ValueError, r"log: .*Value\(data=0\.0\)"),
    (lambda: Value(-1.0, label="x").sqrt(), ValueError, r"sqrt: input must be >= 0, got Value\(data=-1\.0, label='x'\)"),
    (lambda: Value(1.0) / Value(0.0), ZeroDivisionError, r"/: division by zero.*Value\(data=0\.0\)"),
    (lambda: Value(1.0) / 0, ZeroDivisionError, r"/: division by zero"),
    (lambda: 1 / Value(0.0), ZeroDivisionError, r"/: division by zero"),
    (lambda: Value(0.0) ** -1, ZeroDivisionError, r"\*\*: 0 cannot be raised to a negative power, got Value\(data=0\.0\) \*\* -1\.0"),
    (lambda: Value(0.0) ** Value(-2.0), ZeroDivisionError, r"\*\*: 0 cannot .*Value\(data=-2\.0\)"),
    (lambda: Value(-8.0) ** (1 / 3), ValueError, r"\*\*: a negative base needs an integer exponent, got Value\(data=-8\.0\)"),
    (lambda: Value(-2.0) ** Value(0.5), ValueError, r"\*\*: a negative base .*Value\(data=-2\.0\) \*\* Value\(data=0\.5\)"),
    (lambda: (-2.0) ** Value(0.5), ValueError, r"\*\*: a negative base"),
    (lambda: Value(1000.0).exp(), OverflowError, r"exp: .*Value\(data=1000\.0\)"),
    (lambda: Value(10.0) ** 400, OverflowError, r"\*\*: .*too large"),
])
def test_domain_errors_name_the_op_and_input(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: Value(1.0) + "a", r"\+: unsupported operand type str"),
    (lambda: "a" * Value(1.0), r"\*: unsupported operand type str"),
    (lambda: Value(1.0) - [1], r"-: unsupported operand type list"),
    (lambda: Value(1.0) / None, r"/: unsupported operand type NoneType"),
    (lambda: Value(1.0) ** "2", r"\*\*: unsupported exponent type str"),
    (lambda: Value("3"), r"Value: data must be a real number, got str"),
    (lambda: Value(1 + 2j), r"got complex"),
    (lambda: dot([Value(1.0)], ["2"]), r"dot: unsupported operand type str"),
    (lambda: MLP(2, [3, 1], seed=0)([1.0, None]), r"Layer: unsupported operand type NoneType"),
])
def test_type_errors_name_the_type(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_dot_length_mismatch():
    with pytest.raises(ValueError, match=r"dot: lengths differ, got 2 weights and 1 inputs"):
        dot([Value(1.0), Value(2.0)], [Value(1.0)])


def test_dot_matches_sum_of_products():
    w = [Value(0.5), Value(-1.5), Value(2.0)]
    x = [Value(3.0), Value(0.25), Value(-1.0)]
    out = dot(w, x)
    out.backward()
    assert out.data == 0.5 * 3.0 - 1.5 * 0.25 - 2.0
    assert [wi.grad for wi in w] == [xi.data for xi in x]
    assert [xi.grad for xi in x] == [wi.data for wi in w]
    assert out.op == "dot" and out.parents == (*w, *x)
    mixed = dot(w, [3.0, np.float64(0.25), -1])     # plain numbers become leaves
    assert mixed.data == out.data and mixed.parents[:3] == tuple(w)
    assert all(type(p) is Value and p.op == "" for p in mixed.parents[3:])


# ---- grad_check ----------------------------------------------------------------------------------

@pytest.mark.parametrize("f, inputs", [
    (lambda x, y: x * y + x.tanh() / y.exp(), (0.3, -1.2)),
    (lambda x: (x ** 2 + 1).log().sqrt() * x.sigmoid(), (1.7,)),
    (lambda x, y: x ** y + (2 - x) / (y.abs() + 1), (1.3, 0.8)),
    (lambda x, y, z: (x * y - z).relu() + (x + z) ** 3, (1.0, 2.0, -0.5)),
])
def test_grad_check_agrees_with_finite_differences(f, inputs):
    values = [Value(v) for v in inputs]
    result = grad_check(f, *values)
    assert result.max_rel_error < 1e-7
    assert len(result.analytic) == len(result.numeric) == len(values)
    assert all(close(a, n, rtol=1e-6, atol=1e-7) for a, n in zip(result.analytic, result.numeric))


def test_grad_check_catches_a_wrong_derivative(monkeypatch):
    def tanh_with_wrong_derivative(self):
        t = math.tanh(self.data)
        return scalar._node(t, "tanh", (self,), (1.0 - t,))     # should be 1 - t²
    f = lambda x: x.tanh() * 2
    assert grad_check(f, Value(0.5)).max_rel_error < 1e-7
    monkeypatch.setattr(Value, "tanh", tanh_with_wrong_derivative)
    assert grad_check(f, Value(0.5)).max_rel_error > 0.1


def test_grad_check_leaves_gradients_and_data_unchanged():
    w = Value(0.8)                      # used by f, but not an input of grad_check
    x, y = Value(1.5), Value(-0.5)
    x.grad, y.grad, w.grad = 7.0, -3.0, 11.0
    result = grad_check(lambda x, y: w * x * y + x, x, y)
    assert (x.grad, y.grad, w.grad) == (7.0, -3.0, 11.0)
    assert (x.data, y.data, w.data) == (1.5, -0.5, 0.8)
    assert close(result.analytic[0], w.data * y.data + 1)


def test_grad_check_rejects_non_values():
    with pytest.raises(TypeError, match="grad_check: inputs must be Values, got float"):
        grad_check(lambda x: x, 1.0)
    with pytest.raises(TypeError, match="grad_check: f must return a Value, got float"):
        grad_check(lambda x: 1.0, Value(1.0))


# ---- the network ---------------------------------------------------------------------------------

def test_mlp_architecture_and_parameters():
    model = MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    assert [layer.neurons[0].nonlin for layer in model.layers] == [True, True, False]
    assert str(model.layers[0].neurons[0]) == "ReluNeuron(2)" and "LinearNeuron(16)" in str(model)
    assert isinstance(model([1.0, -2.0]), Value)
    assert len(Layer(3, 4, seed=0)([1.0, 2.0, 3.0])) == 4
    assert all(-1 <= p.data <= 1 for p in model.parameters())


def test_mlp_seed_is_reproducible():
    same = [p.data for p in MLP(2, [4, 1], seed=5).parameters()]
    assert same == [p.data for p in MLP(2, [4, 1], seed=5).parameters()]
    assert same != [p.data for p in MLP(2, [4, 1], seed=6).parameters()]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_matches_torch(activation):
    """Our MLP and the same weights in torch give the same outputs and gradients."""
    model = MLP(3, [5, 4, 2], activation=activation, seed=1)
    x = [0.3, -1.2, 0.8]
    outs = model(x)
    (outs[0] * outs[1]).backward()

    t_params = []
    h = torch.tensor(x, dtype=torch.float64)
    for i, layer in enumerate(model.layers):
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True)
        t_params += [(layer, W, b)]
        h = W @ h + b
        if i < len(model.layers) - 1:
            h = getattr(torch, activation)(h)
    (h[0] * h[1]).backward()
    assert close(outs[0].data, h[0].item(), rtol=1e-12) and close(outs[1].data, h[1].item(), rtol=1e-12)
    for layer, W, b in t_params:
        for j, n in enumerate(layer.neurons):
            assert all(close(w.grad, g, rtol=1e-10) for w, g in zip(n.w, W.grad[j].tolist()))
            assert close(n.b.grad, b.grad[j].item(), rtol=1e-10)


def test_neuron_rejects_unknown_activation():
    with pytest.raises(ValueError, match=r"activation must be one of .*got 'gelu'"):
        Neuron(2, activation="gelu")


def test_mlp_learns_moons():
    """micrograd's demo: hinge loss + L2, SGD with a decaying learning rate, 100 steps."""
    X, y = make_moons(100, noise=0.1, seed=0)
    X, y = X.tolist(), (2 * y - 1).tolist()      # labels ±1
    model = MLP(2, [16, 16, 1], seed=1337)
    inputs = [[Value(a), Value(b)] for a, b in X]
    steps = 100
    for k in range(steps):
        scores = [model(x) for x in inputs]
        data_loss = sum((1 - yi * s).relu() for yi, s in zip(y, scores)) / len(y)
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        loss = data_loss + reg_loss
        model.zero_grad()
        loss.backward()
        learning_rate = 1.0 - 0.9 * k / steps
        for p in model.parameters():
            p.data -= learning_rate * p.grad
    accuracy = sum((s.data > 0) == (yi > 0) for s, yi in zip(map(model, inputs), y)) / len(y)
    assert accuracy >= 0.95, accuracy
    assert loss.data < 0.1


# ---- make_moons ----------------------------------------------------------------------------------

def test_make_moons_shapes_labels_and_determinism():
    X, y = make_moons(101, noise=0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(y.tolist()) == {0, 1} and (y == 0).sum() == 50 and (y == 1).sum() == 51
    X2, y2 = make_moons(101, noise=0.1, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make_moons(101, noise=0.1, seed=4)
    assert not np.array_equal(X, X3)
    assert len(set(y[:10].tolist())) == 2          # shuffled: classes are mixed


def test_make_moons_without_noise_lies_on_the_two_half_circles():
    X, y = make_moons(60, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0) and (upper[:, 1] >= -1e-12).all()
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (lower[:, 1] <= 0.5 + 1e-12).all()


def test_make_moons_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_samples must be >= 2, got 1"):
        make_moons(1)
    with pytest.raises(ValueError, match="noise must be >= 0, got -0.1"):
        make_moons(10, noise=-0.1)


def test_layers_and_mlp_without_a_seed_use_global_randomness():
    import random
    random.seed(5)
    a = MLP(2, [3, 1])
    random.seed(5)
    b = MLP(2, [3, 1])
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert len(Layer(5, 3).parameters()) == 18
