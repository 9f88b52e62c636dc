# %% [markdown]
# # Values and expression graphs
#
# Training a network comes down to one question, asked millions of times: *if I nudge this
# number a little, how much does the loss move, and in which direction?* The answer is a
# derivative. In this lesson you compute derivatives three ways and check that they agree:
#
# 1. **by hand**, with the rules of calculus;
# 2. **numerically**, by nudging an input and measuring the change of the output;
# 3. **by backpropagation**: record the computation as a graph of `Value` objects, then walk
#    the graph from the output back to the inputs, applying the chain rule at every node.
#
# The third way is what every deep-learning framework does. You will also draw the graph and
# watch backpropagation fill in the gradients one node at a time. Pictures go to the folder
# `OUT`.

# %%
import math

from tinygrad_edu.lessons import output_folder
from tinygrad_edu.scalar import Value, grad_check, topological_order
from tinygrad_edu.viz import backward_steps, draw_graph, render, save_steps

# The stepper predefines OUT; run as a plain script or a notebook, the lesson picks the default.
OUT = globals().get("OUT") or output_folder(1)
print("pictures go to", OUT)

# %% [markdown]
# ## 1. A derivative by hand
#
# Take f(x) = x³ − 4x. The power rule gives its derivative, the slope of f at each x:
# f'(x) = 3x² − 4. Is f rising or falling at x = 1.5? Compute f and f' there.

# %%
def f(x):
    return x**3 - 4 * x


def f_prime(x):          # by hand: d/dx x³ = 3x², d/dx 4x = 4
    return 3 * x**2 - 4


x0 = 1.5
print(f"f({x0}) = {f(x0)}")
print(f"f'({x0}) = {f_prime(x0)}   (positive: f rises as x grows)")

# %% [markdown]
# ## 2. The same derivative, numerically
#
# A derivative is the limit of a slope between two nearby points. Two ways to pick the points:
#
# - the *forward difference* (f(x+h) − f(x)) / h is off by roughly h·f''(x)/2, so its error
#   shrinks in proportion to h;
# - the *central difference* (f(x+h) − f(x−h)) / 2h is symmetric around x: the h terms cancel
#   and the error shrinks like h², much faster.
#
# Shrinking h does not help for ever. Computers keep about 16 significant digits of a float;
# when h is tiny, f(x+h) and f(x) agree in almost all of them and their difference is mostly
# rounding noise (lesson 4 explains why). Watch the error fall, then rise again:

# %%
def forward_difference(f, x, h):
    return (f(x + h) - f(x)) / h


def central_difference(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


exact = f_prime(x0)
print(f"{'h':>8}  {'forward error':>14}  {'central error':>14}")
errors = {}
for k in range(1, 13):
    h = 10.0**-k
    fwd = abs(forward_difference(f, x0, h) - exact)
    cen = abs(central_difference(f, x0, h) - exact)
    errors[k] = (fwd, cen)
    print(f"{h:8.0e}  {fwd:14.3e}  {cen:14.3e}")

# %% [markdown]
# The central difference at h around 1e-5 is good to about ten digits, which makes it a fine
# *checker* for other ways of computing gradients. It is a poor way to *train*, though: it
# needs two evaluations of the whole function per input, and a network has millions of inputs
# (its weights). Backpropagation gets all the gradients for the price of about one more pass.
#
# ## 3. An expression graph
#
# A `Value` holds one number and remembers how it was made: the operation (`op`), the Values it
# was made from (`parents`) and, already computed during the forward pass, the derivative of
# the result with respect to each parent (`local_grads`). Chaining operations builds a graph.
#
# Here is one artificial neuron with two inputs: n = x1·w1 + x2·w2 + b, then o = tanh(n).

# %%
x1, x2 = Value(2.0, "x1"), Value(-1.0, "x2")          # inputs
w1, w2 = Value(-0.5, "w1"), Value(1.5, "w2")          # weights
b = Value(0.8, "b")                                   # bias


def neuron(x1, x2, w1, w2, b):
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


o = neuron(x1, x2, w1, w2, b)
print(o)
print("made by", repr(o.op), "from", [p.label for p in o.parents],
      "with local derivative", o.local_grads)

# %% [markdown]
# `topological_order` lists the graph so that every node comes after the nodes it was computed
# from. Backpropagation walks this list *in reverse*: by the time it reaches a node, every use
# of that node has already sent its gradient back, so the node's gradient is complete.

# %%
order = topological_order(o)
print(f"{'node':>8}  {'op':>6}  {'data':>8}  local derivatives")
for v in order:
    name = v.label or "(sum)"
    local = tuple(round(g, 4) for g in v.local_grads)
    print(f"{name:>8}  {v.op or 'leaf':>6}  {v.data:8.4f}  {local}")

# %% [markdown]
# ## 4. Backpropagation versus the chain rule by hand
#
# By hand: with o = tanh(n), do/dn = 1 − o². Each weight enters n multiplied by its input, so
# do/dw1 = (1 − o²)·x1, and symmetrically do/dx1 = (1 − o²)·w1. The bias enters n directly:
# do/db = 1 − o².
#
# `o.backward()` gets the same numbers mechanically: it sets o.grad = 1, then for each node
# (in reverse topological order) adds `local derivative × node.grad` into each parent's grad.

# %%
o.backward()
dn = 1 - o.data**2
by_hand = {"x1": dn * w1.data, "x2": dn * w2.data, "w1": dn * x1.data, "w2": dn * x2.data,
           "b": dn}
print(f"{'input':>6}  {'backward':>10}  {'by hand':>10}")
for v in (x1, x2, w1, w2, b):
    print(f"{v.label:>6}  {v.grad:10.6f}  {by_hand[v.label]:10.6f}")

# %% [markdown]
# And the numerical check: `grad_check` recomputes the neuron with each input nudged up and down
# (central differences) and reports the worst relative disagreement with backward.

# %%
check = grad_check(neuron, x1, x2, w1, w2, b)
print("numeric: ", [round(g, 6) for g in check.numeric])
print("backward:", [round(g, 6) for g in check.analytic])
print(f"worst relative error: {check.max_rel_error:.1e}")

# %% [markdown]
# ## 5. Pictures: forward and backward
#
# The forward picture shows data flowing from the inputs to `o`: each record shows
# `label | data | grad`. The backward picture is the same graph reversed, each edge labelled
# with the local derivative that the chain rule multiplies by. The step-by-step page (open it
# in a browser, use the ← → keys) shows backpropagation visiting one node at a time.
#
# Drawing needs Graphviz's `dot` program; without it, the DOT text of each picture is written
# instead and the message says how to install Graphviz.

# %%
def draw(make_picture, path):
    try:
        print("wrote", make_picture(path))
    except RuntimeError as err:      # Graphviz's `dot` is missing: the .dot source was kept
        print(err)


draw(lambda p: render(draw_graph(o), p), OUT / "neuron_forward.svg")
draw(lambda p: render(draw_graph(o, kind="backward"), p), OUT / "neuron_backward.svg")
steps = list(backward_steps(o))
draw(lambda p: save_steps(steps, p), OUT / "neuron_backward_steps.html")
print(len(steps), "backward steps; the first says:", steps[0].caption)

# %% [markdown]
# ## 6. A value used twice: gradients add up
#
# If a value feeds two operations, a nudge to it moves the output along *both* paths, so its
# gradient is the sum of the two contributions. That is why backward *adds* into `.grad`
# (`+=`) instead of overwriting it. Example: t = a·c + a, so dt/da = c + 1.
#
# The same `+=` means that a second call to backward adds a second copy of every gradient.
# A training loop must therefore reset gradients to zero before each backward pass (lesson 2).

# %%
a, c = Value(3.0, "a"), Value(-4.0, "c")
t = a * c + a
t.backward()
print(f"dt/da = {a.grad}   (c + 1 = {c.data + 1})")
t.backward()
print(f"after a second backward: dt/da = {a.grad}  (doubled)")
t.zero_grad()
print(f"after zero_grad: dt/da = {a.grad}")

# %% [markdown]
# ## Checks
#
# Each line below would fail if the engine computed a wrong value, a wrong gradient, or walked
# the graph in a wrong order.

# %%
import shutil

# numerical derivatives: central differences are far more accurate than forward ones
assert errors[5][1] < 1e-8, errors[5]
assert errors[3][1] < errors[3][0] / 100, errors[3]

# the forward pass
assert math.isclose(o.data, math.tanh(2.0 * -0.5 + -1.0 * 1.5 + 0.8), rel_tol=1e-12)

# backward agrees with the chain rule by hand, and with central differences
for v in (x1, x2, w1, w2, b):
    assert math.isclose(v.grad, by_hand[v.label], rel_tol=1e-12, abs_tol=1e-15), v
assert check.max_rel_error < 1e-7, check

# every node comes after its parents in the topological order
position = {id(v): i for i, v in enumerate(order)}
assert all(position[id(p)] < position[id(v)] for v in order for p in v.parents)
assert order[-1] is o

# gradients of a value used twice add up; a second backward accumulates; zero_grad clears
a.zero_grad()
t.backward()
assert a.grad == c.data + 1 and c.grad == a.data
t.backward()
assert a.grad == 2 * (c.data + 1)
t.zero_grad()
assert a.grad == 0.0 and c.grad == 0.0

# the pictures exist (as SVG/HTML with Graphviz, as DOT text without it)
if shutil.which("dot"):
    assert "<svg" in (OUT / "neuron_forward.svg").read_text()
    assert "<svg" in (OUT / "neuron_backward.svg").read_text()
    assert (OUT / "neuron_backward_steps.html").read_text().count("<svg") == len(steps)
else:
    assert (OUT / "neuron_forward.dot").exists()
assert len(steps) == len(order)            # backward visits every node once, leaves too

print("All checks passed.")
