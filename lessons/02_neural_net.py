# %% [markdown]
# # A neural net of Values
#
# Lesson 1 built one neuron out of `Value`s and got its gradients by backpropagation. Here you
# stack neurons into layers, layers into a multi-layer perceptron (MLP), and train it to tell
# apart two interleaved half circles, the "two moons". Nothing new is needed from the engine:
# a network is just a larger expression graph, and training is a loop of five steps around
# `backward()`.

# %%
from tinygrad_edu.datasets import make_moons
from tinygrad_edu.lessons import output_folder
from tinygrad_edu.scalar import MLP, Layer, Neuron, Value, grad_check
from tinygrad_edu.viz import draw_graph, render

# The stepper predefines OUT; run as a plain script or a notebook, the lesson picks the default.
OUT = globals().get("OUT") or output_folder(2)

# %% [markdown]
# ## 1. A neuron
#
# A neuron takes a list of inputs, multiplies each by its own weight, adds them up together
# with a bias, and passes the sum through a *nonlinearity* such as tanh or ReLU
# (relu(z) = max(0, z)). The weights start random, the bias at zero; training adjusts them.
#
# Why the nonlinearity? Without it, a layer is a linear map, and a stack of linear maps is
# again one linear map: depth would buy nothing. With it, stacked layers can bend the decision
# boundary into any shape the data needs.

# %%
neuron = Neuron(3, activation="tanh", seed=7)
x = [0.5, -1.0, 2.0]
out = neuron(x)

# The same number, computed by hand from the neuron's parameters:
z = sum(w.data * xi for w, xi in zip(neuron.w, x)) + neuron.b.data
print("weights:", [round(w.data, 4) for w in neuron.w], " bias:", neuron.b.data)
print(f"neuron(x) = {out.data:.6f}   tanh(w·x + b) by hand = {Value(z).tanh().data:.6f}")
print("parameters:", len(neuron.parameters()), "(one weight per input, plus the bias)")

# %% [markdown]
# ## 2. Layers and a multi-layer perceptron
#
# A *layer* is several neurons reading the same inputs; each produces one output, so a layer
# of 16 neurons turns any input list into 16 numbers. An *MLP* chains layers: the outputs of
# one are the inputs of the next. Ours maps a point (x, y) of the plane to one score:
#
#     2 inputs → 16 ReLU neurons → 16 ReLU neurons → 1 linear neuron (the score)
#
# The last layer has no nonlinearity, so the score can be any real number: positive means
# "upper moon", negative "lower moon". A layer from n inputs to m neurons has (n+1)·m
# parameters: n weights and a bias for each neuron.

# %%
model = MLP(2, [16, 16, 1], seed=1)
for k, layer in enumerate(model.layers, start=1):
    print(f"layer {k}: {len(layer.neurons)} × {layer.neurons[0]}")
sizes = [2, 16, 16, 1]
per_layer = [(n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:])]
print("parameters per layer:", per_layer, " total:", sum(per_layer))
print("the model has", len(model.parameters()), "parameters")

# %% [markdown]
# ## 3. The data: two moons
#
# `make_moons` draws points on two half circles that hook into each other, with a little
# noise. No straight line separates them, which is exactly why the network needs its hidden
# nonlinear layers. Labels come as 0 and 1; the loss below wants −1 and +1.
#
# We keep 60 points for training and draw 200 fresh ones for testing: a model that only
# memorised its training points would do badly on those.

# %%
X, y = make_moons(60, noise=0.1, seed=1)
X_test, y_test = make_moons(200, noise=0.1, seed=101)
labels = [1 if c == 0 else -1 for c in y.tolist()]          # upper moon +1, lower moon −1
labels_test = [1 if c == 0 else -1 for c in y_test.tolist()]
points = [[Value(a), Value(b)] for a, b in X.tolist()]
print(f"{len(points)} training points, {labels.count(1)} in the upper moon; "
      f"{len(labels_test)} test points")

X_RANGE, Y_RANGE = (-1.5, 2.5), (-1.0, 1.5)                  # the part of the plane we look at
COLS, ROWS = 60, 19                                         # terminal characters are tall


def cell_of(a, b):
    col = int((a - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0]) * COLS)
    row = int((Y_RANGE[1] - b) / (Y_RANGE[1] - Y_RANGE[0]) * ROWS)
    return min(max(row, 0), ROWS - 1), min(max(col, 0), COLS - 1)


def ascii_plot(background=None):
    """The training points as o (upper) and x (lower), over an optional background grid."""
    grid = [[" " if background is None else background[r][c] for c in range(COLS)]
            for r in range(ROWS)]
    for (a, b), label in zip(X.tolist(), labels):
        r, c = cell_of(a, b)
        grid[r][c] = "o" if label > 0 else "x"
    return "\n".join("|" + "".join(row) + "|" for row in grid)


print(ascii_plot())

# %% [markdown]
# ## 4. A loss: one number that says how wrong the model is
#
# For a point with label y (±1) and score s, the product y·s is positive when the model is
# right and large when it is confidently right. The *hinge loss* max(0, 1 − y·s) is zero once
# a point is on the correct side with a margin of at least 1, and grows linearly the further
# it is on the wrong side. We average it over the points and add a small penalty
# α·Σ p² on all parameters, which keeps the weights from growing without need (it is what
# optimizers call weight decay).

# %%
ALPHA = 1e-4


def loss_and_accuracy(model, points, labels):
    scores = [model(p) for p in points]
    data_loss = sum((1 - y * s).relu() for y, s in zip(labels, scores)) / len(labels)
    penalty = ALPHA * sum(p * p for p in model.parameters())
    accuracy = sum((s.data > 0) == (y > 0) for y, s in zip(labels, scores)) / len(labels)
    return data_loss + penalty, accuracy


loss, accuracy = loss_and_accuracy(model, points, labels)
print(f"untrained: loss {loss.data:.4f}, accuracy {accuracy:.0%} (random weights: any "
      "accuracy here is luck)")

# %% [markdown]
# Before training on it, check that backward gets this loss's gradients right: `grad_check`
# nudges a few parameters up and down and compares the change of the loss with `p.grad`.

# %%
few = model.parameters()[:4] + model.parameters()[-4:]
check = grad_check(lambda *ps: loss_and_accuracy(model, points[:10], labels[:10])[0], *few)
print(f"worst relative error between backward and central differences: "
      f"{check.max_rel_error:.1e}")

# %% [markdown]
# ## 5. Training: the same five steps, again and again
#
# Every training loop in this course, and in PyTorch, repeats these five steps:
#
# 1. **Zero the gradients.** Backward *adds* into `.grad` (lesson 1), so last step's gradients
#    must be cleared first, or the steps would mix.
# 2. **Forward pass.** Run the model on the data to get the scores.
# 3. **Loss.** Reduce the scores and labels to one number.
# 4. **Backward pass.** `loss.backward()` fills `p.grad` = ∂loss/∂p for every parameter p.
# 5. **Update.** Move each parameter a small step against its gradient, the direction in
#    which the loss falls fastest: p ← p − lr·∂loss/∂p. This is gradient descent; with a
#    random batch of the data per step instead of all of it, it is *stochastic* gradient
#    descent (SGD).
#
# The learning rate `lr` starts at 1 and shrinks over the run: big steps early to get near a
# good solution quickly, small steps late to settle into it. 25 steps are enough here.

# %%
STEPS = 25
history = []
for step in range(STEPS):
    model.zero_grad()                                            # 1. zero the gradients
    loss, accuracy = loss_and_accuracy(model, points, labels)    # 2. forward + 3. loss
    loss.backward()                                              # 4. backward
    lr = 1.0 - 0.9 * step / STEPS
    for p in model.parameters():                                 # 5. update
        p.data -= lr * p.grad
    history.append(loss.data)
    if step % 5 == 0 or step == STEPS - 1:
        print(f"step {step:2d}   loss {loss.data:.4f}   accuracy {accuracy:.0%}")

# %% [markdown]
# ## 6. What the network learned
#
# Training accuracy says how well the model fits the points it was trained on. The test points
# say whether it learned the *shape* of the moons. Below, every position of the plane is
# coloured by the model's decision: `.` where it says "upper moon", blank where it says
# "lower moon"; the training points are drawn on top.

# %%
_, train_accuracy = loss_and_accuracy(model, points, labels)
test_scores = [model(p).data for p in X_test.tolist()]
test_accuracy = sum((s > 0) == (y > 0) for s, y in zip(test_scores, labels_test)) / len(labels_test)
print(f"training accuracy {train_accuracy:.0%}, test accuracy {test_accuracy:.1%}")


def centre(r, c):      # the point of the plane at the middle of grid cell (r, c)
    a = X_RANGE[0] + (c + 0.5) * (X_RANGE[1] - X_RANGE[0]) / COLS
    b = Y_RANGE[1] - (r + 0.5) * (Y_RANGE[1] - Y_RANGE[0]) / ROWS
    return a, b


decision = [[model(list(centre(r, c))).data > 0 for c in range(COLS)] for r in range(ROWS)]
print(ascii_plot([["." if up else " " for up in row] for row in decision]))

# %% [markdown]
# The same picture as an SVG file (open it in a browser), and the expression graph of the model
# for one input point. That graph has hundreds of nodes, so `collapse=True` merges the nodes
# that play the same role, e.g. the 16 neurons of a layer, into one box.

# %%
def decision_svg(path, scale=12):
    """Blue: the model says "upper moon"; orange: "lower moon"; dots are training points."""
    w, h = COLS * scale, ROWS * scale * 2        # a grid cell is twice as tall as wide
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">']
    for r, row in enumerate(decision):
        for c, up in enumerate(row):
            colour = "#cfe0f5" if up else "#fbe0c8"
            parts.append(f'<rect x="{c * scale}" y="{r * 2 * scale}" width="{scale}" '
                         f'height="{2 * scale}" fill="{colour}"/>')
    for (a, b), label in zip(X.tolist(), labels):
        px = (a - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0]) * w
        py = (Y_RANGE[1] - b) / (Y_RANGE[1] - Y_RANGE[0]) * h
        colour = "#1f5fa8" if label > 0 else "#d2691e"
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="5" fill="{colour}" '
                     'stroke="black"/>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    return path


print("wrote", decision_svg(OUT / "moons_decision.svg"))
one_point = model([Value(0.5, "x"), Value(0.25, "y")])
one_point.label = "score"
try:
    print("wrote", render(draw_graph(one_point, collapse=True), OUT / "mlp_graph.svg"))
except RuntimeError as err:          # Graphviz's `dot` is missing: the .dot source was kept
    print(err)

# %% [markdown]
# ## Checks
#
# These would fail if a neuron computed the wrong sum, if a layer had the wrong number of
# parameters, if backward gave wrong gradients, or if the training steps did not lower the
# loss.

# %%
import math
import shutil

assert math.isclose(out.data, math.tanh(z), rel_tol=1e-12)
assert len(neuron.parameters()) == 3 + 1
assert len(Layer(5, 3, seed=0).parameters()) == (5 + 1) * 3
assert len(model.parameters()) == sum(per_layer) == 337
assert check.max_rel_error < 1e-6, check

# training lowered the loss a lot and the network separates the moons, also on unseen points
assert history[-1] < history[0] / 4, (history[0], history[-1])
assert train_accuracy >= 0.9, train_accuracy
assert test_accuracy >= 0.9, test_accuracy

# step 1 matters: without zero_grad, a second backward doubles every gradient
model.zero_grad()
loss, _ = loss_and_accuracy(model, points[:5], labels[:5])
loss.backward()
first = [p.grad for p in model.parameters()]
loss.backward()
assert all(math.isclose(p.grad, 2 * g, abs_tol=1e-12) for p, g in zip(model.parameters(), first))
model.zero_grad()
assert all(p.grad == 0.0 for p in model.parameters())

assert (OUT / "moons_decision.svg").read_text().count("<circle") == len(points)
if shutil.which("dot"):
    assert "<svg" in (OUT / "mlp_graph.svg").read_text()
print("All checks passed.")
