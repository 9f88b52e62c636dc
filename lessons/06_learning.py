# %% [markdown]
# # Learning: a thermometer from scratch
#
# Somebody hands you a thermometer without units on its scale. You write down what it shows
# at eleven moments, and what a proper thermometer shows in degrees Celsius at the same
# moments. Can you work out how to convert its readings to Celsius?
#
# That is learning in miniature: a model with a few adjustable numbers (parameters), data,
# a loss that says how wrong the model is, and a procedure that changes the parameters to
# lower the loss. This lesson builds every part by hand first: the gradient derived on paper,
# the update loop written out. Then autograd computes the gradient for us, and then an
# optimizer does the updating. Each step replaces code we wrote with code the framework
# offers, and each time we check that the numbers do not change.

# %%
import math

import tinygrad_edu as torch
from tinygrad_edu import optim
from tinygrad_edu.datasets import load_thermometer
from tinygrad_edu.lessons import output_folder
from tinygrad_edu.plots import line_chart

# The stepper predefines OUT; run as a plain script or a notebook, the lesson picks the default.
OUT = globals().get("OUT") or output_folder(6)

# %% [markdown]
# ## 1. Data, a model and a loss
#
# `t_c` holds the Celsius temperatures, `t_u` the unknown thermometer's readings. Guessing
# that the two are related by a straight line, the model is
#
#     t_p = w · t_u + b
#
# with a weight `w` and a bias `b` to be found. (The subscript p is for *predicted*.) How
# wrong is a guess? Take each prediction's difference from the true Celsius value, square it
# so that errors in either direction count and big errors count more, and average: the
# **mean squared error**. It is zero only if every prediction is exact.

# %%
t_c, t_u = load_thermometer()
print("t_c", t_c)
print("t_u", t_u)


def model(t_u, w, b):
    return w * t_u + b


def loss_fn(t_p, t_c):
    return ((t_p - t_c) ** 2).mean()


w, b = torch.ones(()), torch.zeros(())
t_p = model(t_u, w, b)
print("with w = 1, b = 0 the predictions are the readings themselves:")
print(t_p)
print("loss:", loss_fn(t_p, t_c))

# %% [markdown]
# ## 2. Which way should w and b move?
#
# Picture two knobs labelled w and b and a screen that shows the loss. One way to learn
# which way to turn a knob: turn it a little each way and watch the screen. The change of the
# loss divided by the change of the knob estimates the loss's *rate of change* with respect
# to that parameter.
#
# For this model we can also get the rates exactly with the chain rule. Writing
# d = t_p − t_c for each of the n readings:
#
#     L = (1/n) Σ d²          dL/dt_p = 2d/n for each reading
#     t_p = w·t_u + b         dt_p/dw = t_u,   dt_p/db = 1
#     so  dL/dw = Σ (2d/n)·t_u   and   dL/db = Σ 2d/n
#
# The two should agree.

# %%
def nudged(loss_at, h=0.1):
    """Rate of change of loss_at(x) at x = 0, from one step h either side (central difference)."""
    return (loss_at(h) - loss_at(-h)) / (2 * h)


rate_w = nudged(lambda dw: loss_fn(model(t_u, w + dw, b), t_c))
rate_b = nudged(lambda db: loss_fn(model(t_u, w, b + db), t_c))


def gradient(t_u, t_c, t_p):
    """[dL/dw, dL/db] of the mean squared error, by the chain rule above."""
    per_reading = 2 * (t_p - t_c) / t_p.numel()      # dL/dt_p, one number per reading
    return torch.stack([(per_reading * t_u).sum(), per_reading.sum()])


by_hand = gradient(t_u, t_c, t_p)
print(f"by nudging:      dL/dw ≈ {rate_w.item():.4f}   dL/db ≈ {rate_b.item():.4f}")
print(f"by the calculus: dL/dw = {by_hand[0].item():.4f}   dL/db = {by_hand[1].item():.4f}")

# %% [markdown]
# Both rates are positive: increasing w or b would *raise* the loss, so both should go down.
# Gradient descent takes a step against the gradient, scaled by a small *learning rate*:
#
#     w ← w − lr · dL/dw        b ← b − lr · dL/db
#
# and repeats. One pass over the data is an *epoch*; with eleven readings, every epoch is a
# single step here.
#
# ## 3. The training loop, by hand
#
# Everything is written out: forward pass (the model), loss, gradient (our formulas),
# update. The loop keeps the parameters in one tensor, `params = [w, b]`, and remembers the
# loss of every epoch.

# %%
def numbers(values):
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"


def fit_by_hand(n_epochs, learning_rate, params, t_u, t_c, show=()):
    losses = []
    for epoch in range(1, n_epochs + 1):
        w, b = params
        t_p = model(t_u, w, b)                       # forward pass
        loss = loss_fn(t_p, t_c)
        grad = gradient(t_u, t_c, t_p)               # "backward pass", by hand
        params = params - learning_rate * grad       # the update
        losses.append(loss.item())
        if epoch in show:
            print(f"epoch {epoch:4d}  loss {loss.item():<12.6g} params "
                  f"{numbers(params.tolist()):28s} grad {numbers(grad.tolist())}")
    return params, losses


diverged, diverged_losses = fit_by_hand(12, 1e-2, torch.tensor([1.0, 0.0]), t_u, t_c,
                                        show=(1, 2, 3, 10, 11, 12))

# %% [markdown]
# That went badly: the loss grows by orders of magnitude each epoch until it is `inf` (too
# big for a float32). Each step *overshoots* the minimum, lands further away on the other
# side, where the gradient is even larger, and so on. Look at the first gradient: the one
# for w is about 55 times the one for b, because w is multiplied by readings of 20 to 80.
# A learning rate small enough for w is tiny for b. Try a hundred times smaller:

# %%
slow, slow_losses = fit_by_hand(100, 1e-4, torch.tensor([1.0, 0.0]), t_u, t_c,
                                show=(1, 2, 3, 50, 100))

# %% [markdown]
# Stable now, but stuck: the loss stops falling near 29, and b has hardly moved, because its
# gradient is small and so is the learning rate. Adjusting one learning rate per parameter
# would work but does not scale to millions of parameters. The better fix is to change the
# *inputs*: if the readings were of order 1 instead of order 50, the two gradients would be
# of similar size. Multiplying by 0.1 is good enough (lesson 5 standardised the wine
# columns for the same reason).

# %%
t_un = 0.1 * t_u
scaled, scaled_losses = fit_by_hand(100, 1e-2, torch.tensor([1.0, 0.0]), t_un, t_c,
                                    show=(1, 2, 3, 50, 100))

# %% [markdown]
# The same learning rate that blew up before now lowers the loss steadily, with gradients
# of similar size for both parameters. It is still falling at epoch 100, so let it run for
# 5000 epochs.

# %%
fitted, fit_losses = fit_by_hand(5000, 1e-2, torch.tensor([1.0, 0.0]), t_un, t_c,
                                 show=(1, 1000, 2000, 3000, 4000, 5000))
w_fit, b_fit = fitted.tolist()
print(f"t_c ≈ {w_fit:.4f} · (0.1 · t_u) {b_fit:+.4f}, that is t_c ≈ {w_fit * 0.1:.4f} · t_u "
      f"{b_fit:+.4f}")
print("Fahrenheit to Celsius is t_c = 0.5556 · t_u - 17.7778: the thermometer reads °F")

# %% [markdown]
# The loss settles near 2.93, not 0: eleven real readings do not lie exactly on a line.
# The fitted line is close to the exact Fahrenheit conversion. A picture shows both (it is
# written to the lesson's output folder; open it in a browser).

# %%
ends = [15.0, 90.0]                        # a straight line is drawn between its two ends
print("wrote", line_chart(OUT / "thermometer_fit.svg", [
    (f"fitted: {0.1 * w_fit:.4f}·t_u {b_fit:+.2f}", "#1f5fa8", ends,
     [0.1 * w_fit * u + b_fit for u in ends]),
    ("Fahrenheit: 0.5556·t_u − 17.78", "#d2691e", ends, [5 / 9 * u - 160 / 9 for u in ends])],
    dots=list(zip(t_u.tolist(), t_c.tolist())), x_range=ends, y_range=(-10.0, 35.0),
    x_label="reading t_u", y_label="°C", height=360))

# %% [markdown]
# ## 4. Autograd computes the gradient
#
# Deriving `gradient` was easy for a line; for a network with millions of parameters nobody
# does it by hand. A tensor created with `requires_grad=True` makes every operation on it
# record how it was computed, and `loss.backward()` walks that record backwards with the
# chain rule, the same procedure as lesson 1 for scalar `Value`s. The result lands in
# `params.grad`.

# %%
params = torch.tensor([1.0, 0.0], requires_grad=True)
loss = loss_fn(model(t_un, *params), t_c)
loss.backward()
print("autograd:", params.grad)
print("by hand: ", gradient(t_un, t_c, model(t_un, 1.0, 0.0)))

# %% [markdown]
# One thing to keep in mind: `backward` *adds* to `.grad`, it does not overwrite it. (That is
# what makes a parameter used in several places get the sum of its contributions.) So a
# training loop must reset the gradient every step, or the gradients of all past steps pile
# up:

# %%
loss = loss_fn(model(t_un, *params), t_c)
loss.backward()
print("after a second backward without zeroing:", params.grad)
params.grad.zero_()
print("zeroed:", params.grad)

# %% [markdown]
# The loop with autograd: the update must not itself be recorded as part of the next
# epoch's computation, so it runs under `torch.no_grad()` and changes `params` in place
# (a new tensor would not be the leaf that collects gradients). Run for 500 epochs, it must
# follow exactly the same path as the hand-written loop.

# %%
def fit_autograd(n_epochs, learning_rate, params, t_u, t_c):
    for epoch in range(1, n_epochs + 1):
        if params.grad is not None:
            params.grad.zero_()
        loss = loss_fn(model(t_u, *params), t_c)
        loss.backward()
        with torch.no_grad():
            params -= learning_rate * params.grad
    return params


auto_500 = fit_autograd(500, 1e-2, torch.tensor([1.0, 0.0], requires_grad=True), t_un, t_c)
hand_500, _ = fit_by_hand(500, 1e-2, torch.tensor([1.0, 0.0]), t_un, t_c)
print("autograd after 500 epochs:", auto_500.detach().tolist())
print("by hand after 500 epochs: ", hand_500.tolist())

# %% [markdown]
# ## 5. Optimizers do the updating
#
# The update rule is the last hand-written piece. `torch.optim` holds the common rules; an
# optimizer is given the parameters once, and then `zero_grad()` clears their gradients and
# `step()` applies its update. Plain gradient descent is `optim.SGD` (stochastic gradient
# descent: "stochastic" once we feed it random batches, which lesson 8 does). Same 500
# epochs, same path again:

# %%
def fit_optimizer(n_epochs, optimizer, params, t_u, t_c):
    for epoch in range(1, n_epochs + 1):
        loss = loss_fn(model(t_u, *params), t_c)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return params, loss.item()


params = torch.tensor([1.0, 0.0], requires_grad=True)
sgd_500, _ = fit_optimizer(500, optim.SGD([params], lr=1e-2), params, t_un, t_c)
print("optim.SGD after 500 epochs:", sgd_500.detach().tolist())

# %% [markdown]
# Swapping the rule is now a one-line change. **Adam** keeps, for every parameter, running
# averages of its gradient and of the gradient's square, and divides one by the square root
# of the other: each parameter's step is scaled by the typical size of its own gradient.
# That is exactly the per-parameter learning rate the raw readings needed, so Adam fits the
# *unscaled* `t_u`, even with a learning rate of 0.1.

# %%
params = torch.tensor([1.0, 0.0], requires_grad=True)
adam_params, adam_loss = fit_optimizer(2000, optim.Adam([params], lr=1e-1), params, t_u, t_c)
print(f"Adam on raw readings: w = {adam_params[0].item():.4f}, b = {adam_params[1].item():.4f}"
      f", loss {adam_loss:.4f}")

# %% [markdown]
# Same line (w is ten times smaller because the readings are ten times larger), same loss.
#
# ## 6. Training loss versus validation loss
#
# A low loss on the readings we trained on says little about new readings: a flexible enough
# model could pass through every training point and be wild in between. The standard check
# is to hold some data back. A random permutation of the indices (`torch.randperm`) splits
# the eleven readings into nine for training and two for validation. The model learns only
# from the nine; the two tell us how it does on readings it never saw.
#
# Two rules for the validation pass: it must never call `backward` (its gradient would be
# added to the training gradient and the held-out data would leak into learning), and since
# it never will, it can run under `torch.no_grad()`, which records no graph at all and so
# saves the memory and time of building one.

# %%
torch.manual_seed(6)
shuffled = torch.randperm(t_u.shape[0])
train_idx, val_idx = shuffled[:-2], shuffled[-2:]
print("training readings:", train_idx.tolist(), " validation readings:", val_idx.tolist())
train_t_un, val_t_un = t_un[train_idx], t_un[val_idx]
train_t_c, val_t_c = t_c[train_idx], t_c[val_idx]

params = torch.tensor([1.0, 0.0], requires_grad=True)
optimizer = optim.SGD([params], lr=1e-2)
train_losses, val_losses = [], []
for epoch in range(1, 3001):
    train_loss = loss_fn(model(train_t_un, *params), train_t_c)
    with torch.no_grad():
        val_loss = loss_fn(model(val_t_un, *params), val_t_c)
    optimizer.zero_grad()
    train_loss.backward()
    optimizer.step()
    train_losses.append(train_loss.item())
    val_losses.append(val_loss.item())
    if epoch in (1, 2, 3) or epoch % 500 == 0:
        print(f"epoch {epoch:4d}  training loss {train_loss.item():8.4f}  "
              f"validation loss {val_loss.item():8.4f}")
best_epoch = min(range(len(val_losses)), key=val_losses.__getitem__) + 1
print(f"lowest validation loss {min(val_losses):.4f} at epoch {best_epoch}")
print("params:", [round(v, 4) for v in params.tolist()],
      " val_loss.requires_grad:", val_loss.requires_grad, " val_loss.grad_fn:", val_loss.grad_fn)

# %% [markdown]
# Both losses fall at first. Then, around epoch 1100, the validation loss turns and climbs
# again while the training loss keeps creeping down: from there on, the line fits the nine
# training readings, their noise included, better than it fits the two it has not seen.
# That is *overfitting*, here in its mildest form (with two parameters, and only two
# validation readings, which ones are held out matters a lot: other seeds show a validation
# loss that just levels off). Lesson 7 fits a network with forty parameters, and lesson 8
# stops training when the validation loss stops improving. The two curves, on a log scale:

# %%
epochs = range(1, len(train_losses) + 1)
print("wrote", line_chart(OUT / "train_val_loss.svg", [
    ("training loss", "#1f5fa8", epochs, train_losses),
    ("validation loss", "#d2691e", epochs, val_losses)],
    x_label=f"epoch (1 to {len(epochs)})", log_y=True, legend="right"))

# %% [markdown]
# What `no_grad` buys, concretely: the validation loss has no `grad_fn`, so nothing was
# recorded, and asking it for a backward pass is an error rather than a silent leak.

# %%
try:
    val_loss.backward()
except RuntimeError as err:
    backward_error = str(err)
    print("val_loss.backward() refused:", backward_error)

# %% [markdown]
# ## Checks
#
# These would fail if a tensor op computed a wrong value, if autograd's gradients differed
# from the calculus, if an optimizer's update differed from the rule it names, or if
# `no_grad` still recorded a graph. The target numbers are the book's.

# %%
assert math.isclose(loss_fn(model(t_u, 1.0, 0.0), t_c).item(), 1763.8846, abs_tol=1e-3)

# the derivative by hand agrees with nudging (exactly, for a quadratic) and with autograd
assert math.isclose(rate_w.item(), by_hand[0].item(), rel_tol=1e-3)
assert math.isclose(rate_b.item(), by_hand[1].item(), rel_tol=1e-3)
assert math.isclose(by_hand[0].item(), 4517.2964, rel_tol=1e-5)
assert math.isclose(by_hand[1].item(), 82.6, rel_tol=1e-5)

# lr 1e-2 on raw readings diverges; 1e-4 is stable but stalls; scaling the inputs fixes it
assert not math.isfinite(diverged_losses[-1]) or diverged_losses[-1] > 1e30
assert diverged_losses[1] > 1000 * diverged_losses[0]
assert slow_losses[-1] < slow_losses[0] and 29.0 < slow_losses[-1] < 29.1
assert math.isclose(scaled_losses[0], 80.3643, abs_tol=1e-3)
assert math.isclose(scaled_losses[-1], 22.1487, abs_tol=1e-2)

# the full fit lands on the book's parameters
assert math.isclose(w_fit, 5.3671, abs_tol=1e-3) and math.isclose(b_fit, -17.3012, abs_tol=1e-3)
assert math.isclose(fit_losses[-1], 2.9276, abs_tol=1e-3)

# autograd, the autograd loop and optim.SGD all follow the hand-written path
assert torch.allclose(auto_500.detach(), hand_500, rtol=1e-5, atol=1e-5)
assert torch.allclose(sgd_500.detach(), hand_500, rtol=1e-5, atol=1e-5)

# Adam on the unscaled readings finds the same line
assert math.isclose(adam_params[0].item(), 0.5367, abs_tol=1e-3)
assert math.isclose(adam_params[1].item(), -17.30, abs_tol=0.02)
assert math.isclose(adam_loss, 2.9276, abs_tol=1e-2)

# validation: held-out readings, no graph, training still learned
assert set(train_idx.tolist()).isdisjoint(val_idx.tolist()) and len(train_idx) == 9
assert val_loss.requires_grad is False and val_loss.grad_fn is None
assert "does not require grad" in backward_error
assert train_losses[-1] < train_losses[0] / 10
assert 500 < best_epoch < 2500 and val_losses[-1] > 2 * min(val_losses)    # the turn
assert (OUT / "thermometer_fit.svg").read_text().count("<circle") == 11
assert (OUT / "train_val_loss.svg").read_text().count("<polyline") == 2
print("All checks passed.")
