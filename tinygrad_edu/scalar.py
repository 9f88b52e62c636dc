"""A scalar autograd engine: one number per node, as in micrograd.

Every arithmetic operation on a `Value` builds a new `Value` that remembers

* ``parents``     – the Values it was computed from (in operand order),
* ``local_grads`` – the partial derivative of the result with respect to each parent,
                    computed right away in the forward pass (plain floats),
* ``op``          – a short name for the operation ("+", "*", "tanh", ...).

`Value.backward()` then applies the chain rule once per node, from the output back to the
inputs::

    parent.grad += local_grad * node.grad        # dL/dparent = dnode/dparent * dL/dnode

Storing the local derivatives as numbers (instead of a closure per node, as micrograd does)
keeps each op's forward and derivative side by side *and* makes backward a tight loop.

On top of the engine sit `grad_check` (compare backward with finite differences) and a
micrograd-style network: `Neuron`, `Layer`, `MLP`.
"""
from __future__ import annotations

import math
import random
from numbers import Real
from operator import mul
from types import ModuleType
from typing import Callable, Iterable, NamedTuple, Sequence, Union

__all__ = [
    "Value", "topological_order", "zero_grad", "dot",
    "grad_check", "GradCheckResult",
    "Module", "Neuron", "Layer", "MLP",
]

Operand = Union["Value", int, float]


class Value:
    """A scalar that remembers how it was computed, so it can compute gradients.

    ``Value(data, label="")`` makes a leaf (an input or a parameter). Values compare by
    identity (there is no ``__eq__``), which lets them live in sets and dicts.
    """

    # __slots__: no per-object __dict__, so nodes are small and attribute access is fast.
    __slots__ = ("data", "grad", "label", "op", "parents", "local_grads")

    def __init__(self, data: float, label: str = "") -> None:
        if not isinstance(data, Real):
            raise TypeError(f"Value: data must be a real number, got {type(data).__name__}")
        self.data: float = float(data)
        self.grad: float = 0.0
        self.label: str = label
        self.op: str = ""                      # "" marks a leaf
        self.parents: tuple[Value, ...] = ()
        self.local_grads: tuple[float, ...] = ()

    @property
    def _prev(self) -> tuple[Value, ...]:
        """micrograd's name for `parents`."""
        return self.parents

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data}, grad={self.grad}{label})"

    # ---- binary ops:  a (op) b  ------------------------------------------------------------
    # Each returns _node(forward value, op name, parents, local derivatives w.r.t. each parent).

    def __add__(self, other: Operand) -> Value:
        """a + b.      ∂/∂a = 1,  ∂/∂b = 1."""
        other = other if type(other) is Value else _lift(other, "+")
        return _node(self.data + other.data, "+", (self, other), (1.0, 1.0))

    def __radd__(self, other: Operand) -> Value:
        """other + self, where other is a plain number (also makes sum([...]) work)."""
        return _lift(other, "+") + self

    def __sub__(self, other: Operand) -> Value:
        """a - b.      ∂/∂a = 1,  ∂/∂b = -1."""
        other = other if type(other) is Value else _lift(other, "-")
        return _node(self.data - other.data, "-", (self, other), (1.0, -1.0))

    def __rsub__(self, other: Operand) -> Value:
        """other - self."""
        return _lift(other, "-") - self

    def __mul__(self, other: Operand) -> Value:
        """a * b.      ∂/∂a = b,  ∂/∂b = a."""
        other = other if type(other) is Value else _lift(other, "*")
        return _node(self.data * other.data, "*", (self, other), (other.data, self.data))

    def __rmul__(self, other: Operand) -> Value:
        """other * self."""
        return _lift(other, "*") * self

    def __truediv__(self, other: Operand) -> Value:
        """a / b.      ∂/∂a = 1/b,  ∂/∂b = -a/b²."""
        other = other if type(other) is Value else _lift(other, "/")
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"/: division by zero, got denominator {_show(other)}")
        return _node(a / b, "/", (self, other), (1.0 / b, -a / (b * b)))

    def __rtruediv__(self, other: Operand) -> Value:
        """other / self."""
        return _lift(other, "/") / self

    def __pow__(self, exponent: Operand) -> Value:
        """a ** n (n a number) or a ** b (b a Value).

        ∂/∂a = n·a^(n-1);   for a Value exponent also  ∂/∂b = a^b · ln a.
        """
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        if not isinstance(exponent, Real):
            raise TypeError(f"**: unsupported exponent type {type(exponent).__name__} "
                            "(expected a Value or a real number)")
        out, slope = _power(self, float(exponent), repr(float(exponent)))
        return _node(out, "**", (self,), (slope,))

    def _pow_value(self, exponent: Value) -> Value:
        """a ** b with both Values: the exponent gets a gradient too."""
        a = self.data
        out, slope = _power(self, exponent.data, _show(exponent))
        if a > 0.0:
            d_exponent = out * math.log(a)
        elif a == 0.0:
            d_exponent = 0.0        # ln 0 is -inf, but 0^b stays 0 for b > 0: PyTorch also uses 0
        else:
            d_exponent = math.nan   # (-2)^b is real only at integer b: no slope in b (PyTorch: nan)
        return _node(out, "**", (self, exponent), (slope, d_exponent))

    def __rpow__(self, base: Operand) -> Value:
        """base ** self, where base is a plain number."""
        return _lift(base, "**")._pow_value(self)

    # ---- unary ops:  f(x)  -------------------------------------------------------------------

    def __neg__(self) -> Value:
        """-x.         d/dx = -1."""
        return _node(-self.data, "neg", (self,), (-1.0,))

    def exp(self) -> Value:
        """e^x.        d/dx = e^x."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp: result is too large for a float, got {_show(self)}") from None
        return _node(out, "exp", (self,), (out,))

    def log(self) -> Value:
        """ln x.       d/dx = 1/x.       Needs x > 0."""
        x = self.data
        if x <= 0.0:
            raise ValueError(f"log: input must be > 0, got {_show(self)}")
        return _node(math.log(x), "log", (self,), (1.0 / x,))

    def tanh(self) -> Value:
        """tanh x.     d/dx = 1 - tanh²x."""
        t = math.tanh(self.data)
        return _node(t, "tanh", (self,), (1.0 - t * t,))

    def sigmoid(self) -> Value:
        """σ(x) = 1 / (1 + e^-x).      d/dx = σ(x)·(1 - σ(x))."""
        x = self.data
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:                       # same value, but e^-x would overflow for very negative x
            e = math.exp(x)
            s = e / (1.0 + e)
        return _node(s, "sigmoid", (self,), (s * (1.0 - s),))

    def relu(self) -> Value:
        """max(0, x).  d/dx = 1 if x > 0 else 0  (0 at x = 0, as PyTorch)."""
        x = self.data
        if x > 0.0:
            return _node(x, "relu", (self,), (1.0,))
        return _node(0.0, "relu", (self,), (0.0,))

    def sqrt(self) -> Value:
        """√x.         d/dx = 1 / (2√x).   Needs x >= 0; the slope at 0 is +inf (as PyTorch)."""
        x = self.data
        if x < 0.0:
            raise ValueError(f"sqrt: input must be >= 0, got {_show(self)}")
        r = math.sqrt(x)
        return _node(r, "sqrt", (self,), (0.5 / r if r > 0.0 else math.inf,))

    def abs(self) -> Value:
        """|x|.        d/dx = sign(x)  (0 at x = 0, as PyTorch)."""
        x = self.data
        sign = 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0
        return _node(abs(x), "abs", (self,), (sign,))

    __abs__ = abs

    # ---- gradients ---------------------------------------------------------------------------

    def backward(self) -> None:
        """Add d(self)/d(node) into ``node.grad`` for every node of this graph.

        The seed d(self)/d(self) = 1 goes into ``self.grad``; then each node, visited after
        every node that uses it (reverse topological order), passes its gradient to its
        parents by the chain rule. A node used twice receives two contributions, which add up.

        Like PyTorch, gradients accumulate: calling backward twice doubles them. Call
        `zero_grad()` in between to start from zero.
        """
        order = topological_order(self)
        # This pass must start from zero so the chain rule sees only this pass's gradients;
        # what earlier passes left behind is added back at the end.
        earlier = [node.grad for node in order]
        accumulate = any(earlier)
        if accumulate:
            for node in order:
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            grad = node.grad
            for parent, local_grad in zip(node.parents, node.local_grads):
                parent.grad += local_grad * grad
        if accumulate:
            for node, old in zip(order, earlier):
                node.grad += old

    def zero_grad(self) -> None:
        """Set ``grad = 0`` on every node of the graph that ends at this Value."""
        for node in topological_order(self):
            node.grad = 0.0


# ---- helpers used by the ops ------------------------------------------------------------------

_new_value = object.__new__


def _node(data: float, op: str, parents: tuple[Value, ...], local_grads: tuple[float, ...]) -> Value:
    """Build an op's result. Skips `Value.__init__`'s checks: ops already produce floats."""
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.op = op
    out.parents = parents
    out.local_grads = local_grads
    return out


def _lift(x: object, op: str) -> Value:
    """Return x as a Value: a plain number becomes a leaf (micrograd does the same)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, Real):
        return Value(x)
    raise TypeError(f"{op}: unsupported operand type {type(x).__name__} "
                    "(expected a Value or a real number)")


def _as_values(x: Value | Iterable[Operand], op: str) -> list[Value]:
    """A list of Values from Values and plain numbers (each number becomes a leaf)."""
    if isinstance(x, Value):        # e.g. the single output of a 1-neuron layer
        return [x]
    return [xi if isinstance(xi, Value) else _lift(xi, op) for xi in x]


def _show(v: Value) -> str:
    """How error messages name an input: Value(data=-2.0), plus its label if it has one."""
    label = f", label={v.label!r}" if v.label else ""
    return f"Value(data={v.data}{label})"


def _power(base: Value, n: float, exponent_text: str) -> tuple[float, float]:
    """a ** n and its slope n·a^(n-1), for a = base.data, after checking that a^n is real.

    No 0 ** negative, no negative ** non-integer. At a = 0 the slope formula breaks down;
    we use PyTorch's values there: 0 for n = 0 (a^0 = 1 is flat), +inf for 0 < n < 1.
    """
    a = base.data
    if a == 0.0 and n < 0.0:
        raise ZeroDivisionError(f"**: 0 cannot be raised to a negative power, "
                                f"got {_show(base)} ** {exponent_text}")
    if a < 0.0 and not n.is_integer():
        raise ValueError(f"**: a negative base needs an integer exponent, "
                         f"got {_show(base)} ** {exponent_text}")
    try:
        out = a ** n
        if n == 0.0:
            slope = 0.0
        elif a == 0.0 and n < 1.0:
            slope = math.inf
        else:
            slope = n * a ** (n - 1.0)
    except OverflowError:
        raise OverflowError(f"**: result is too large for a float, "
                            f"got {_show(base)} ** {exponent_text}") from None
    return out, slope


# ---- graph utilities ----------------------------------------------------------------------------

def topological_order(root: Value) -> list[Value]:
    """All nodes of root's graph, each one after its parents: leaves first, root last.

    An iterative depth-first search (an explicit stack instead of recursion), so a chain of
    100 000 ops works; a recursive version hits Python's recursion limit near 1000.
    """
    order: list[Value] = []
    visited = {root}
    # Each stack entry: a node and an iterator over the parents not yet looked at.
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                stack.append((parent, iter(parent.parents)))
                break               # go deeper first; node's other parents wait on the stack
        else:                       # every parent is placed, so node can follow them
            stack.pop()
            order.append(node)
    return order


def zero_grad(values: Iterable[Value]) -> None:
    """Set ``grad = 0`` on each of the given Values (e.g. a model's parameters)."""
    for v in values:
        v.grad = 0.0


def dot(weights: Sequence[Operand], inputs: Sequence[Operand]) -> Value:
    """w·x = Σᵢ wᵢxᵢ as ONE node.      ∂/∂wᵢ = xᵢ,   ∂/∂xᵢ = wᵢ.

    Same value and gradients as ``sum(w * x for w, x in zip(weights, inputs))``, but one node
    instead of 2n, which makes a `Neuron` several times faster to build and to backpropagate.
    Plain numbers among the arguments become leaf Values.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"dot: lengths differ, got {len(weights)} weights and {len(inputs)} inputs")
    try:
        w = [wi.data for wi in weights]
        x = [xi.data for xi in inputs]
        total = sum(map(mul, w, x), 0.0)
    except (AttributeError, TypeError):     # not all Values: lift the numbers, then retry
        return dot(_as_values(weights, "dot"), _as_values(inputs, "dot"))
    return _node(total, "dot", (*weights, *inputs), (*x, *w))


# ---- gradient check -----------------------------------------------------------------------------

class GradCheckResult(NamedTuple):
    """What `grad_check` found, one entry per input in ``analytic`` and ``numeric``."""

    max_rel_error: float            # worst |analytic - numeric| / max(1, |analytic|, |numeric|)
    analytic: tuple[float, ...]     # df/dxᵢ from backward()
    numeric: tuple[float, ...]      # df/dxᵢ from central differences


def grad_check(f: Callable[..., Value], *values: Value, eps: float = 1e-6) -> GradCheckResult:
    """Compare backward's gradients of ``f(*values)`` with central differences.

    numeric df/dxᵢ = (f(..., xᵢ + eps, ...) - f(..., xᵢ - eps, ...)) / (2·eps)

    The error of each input is |analytic - numeric| / max(1, |analytic|, |numeric|): relative
    for large gradients, absolute for small ones (where a relative error of a finite
    difference means little). With eps = 1e-6 a correct derivative gives about 1e-8 or less.

    Gradients and data of every Value involved are restored afterwards.
    """
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"grad_check: inputs must be Values, got {type(v).__name__}")
    out = _call(f, values)

    # Analytic: one backward pass from zero, then put every touched gradient back.
    graph = topological_order(out)
    saved = [node.grad for node in graph]
    saved_inputs = [v.grad for v in values]   # an input that f ignores is not in the graph
    zero_grad(graph)
    zero_grad(values)
    out.backward()
    analytic = tuple(v.grad for v in values)
    for node, g in zip(graph, saved):
        node.grad = g
    for v, g in zip(values, saved_inputs):
        v.grad = g

    # Numeric: nudge one input at a time.
    numeric = []
    for v in values:
        original = v.data
        v.data = original + eps
        plus = _call(f, values).data
        v.data = original - eps
        minus = _call(f, values).data
        v.data = original
        numeric.append((plus - minus) / (2.0 * eps))

    errors = [abs(a - n) / max(1.0, abs(a), abs(n)) for a, n in zip(analytic, numeric)]
    return GradCheckResult(max(errors, default=0.0), analytic, tuple(numeric))


def _call(f: Callable[..., Value], values: tuple[Value, ...]) -> Value:
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(f"grad_check: f must return a Value, got {type(out).__name__}")
    return out


# ---- a scalar neural network (micrograd's nn.py) ------------------------------------------------

_ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid,
}


def _rng(seed: int | random.Random | ModuleType | None) -> random.Random | ModuleType:
    """Something with ``.uniform``: a random.Random for ``seed``, or for None the `random`
    module itself, so that ``random.seed(1337)`` fixes the weights as in micrograd."""
    if seed is None or seed is random:  # a Layer passes the module on to its Neurons
        return random
    if isinstance(seed, random.Random):
        return seed
    return random.Random(seed)


class Module:
    """Something with parameters: gives `zero_grad()` to every model."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        zero_grad(self.parameters())


class Neuron(Module):
    """act(w·x + b), with wᵢ ~ U(-1, 1) and b = 0 at the start (micrograd's init).

    ``nonlin=False`` makes it linear; otherwise ``activation`` is "relu", "tanh" or "sigmoid".
    ``seed`` is an int, a random.Random to draw from, or None for Python's global generator.
    """

    def __init__(self, nin: int, nonlin: bool = True, activation: str = "relu",
                 seed: int | random.Random | None = None) -> None:
        if activation not in _ACTIVATIONS:
            raise ValueError(f"Neuron: activation must be one of {sorted(_ACTIVATIONS)}, "
                             f"got {activation!r}")
        rng = _rng(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin
        self.activation = activation

    def __call__(self, x: Sequence[Operand]) -> Value:
        act = dot(self.w, x) + self.b
        return _ACTIVATIONS[self.activation](act) if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        kind = self.activation.capitalize() if self.nonlin else "Linear"
        return f"{kind}Neuron({len(self.w)})"


class Layer(Module):
    """nout neurons that all read the same nin inputs."""

    def __init__(self, nin: int, nout: int, nonlin: bool = True, activation: str = "relu",
                 seed: int | random.Random | None = None) -> None:
        rng = _rng(seed)            # one generator for all neurons, so the seed fixes the layer
        self.neurons = [Neuron(nin, nonlin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Operand]) -> Value | list[Value]:
        x = _as_values(x, "Layer")  # plain numbers become Values once, not once per neuron
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: nin → nouts[0] → … → nouts[-1].

    Hidden layers use ``activation``; the last layer is linear (as in micrograd).
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 seed: int | random.Random | None = None) -> None:
        rng = _rng(seed)
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last, activation=activation,
                             seed=rng)
                       for i in range(len(nouts))]

    def __call__(self, x: Sequence[Operand]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
