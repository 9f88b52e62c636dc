# %% [markdown]
# # nn: layers, containers and modules
#
# In lesson 6 the model was a Python function and its parameters a loose tensor that we
# passed around. That does not scale to networks with dozens of layers. `torch.nn` packages
# each piece as a **module**: an object that owns its parameters and knows how to compute
# its output from its input. Modules nest (a network is a module made of modules), they list
# all their parameters for the optimizer, and they can be saved and loaded by name.
#
# This lesson rebuilds the thermometer fit with `nn.Linear`, replaces the straight line by a
# small neural network, and then looks at the three ways of writing models (containers,
# subclasses, functions) and at hooks, which let you watch a model from the outside.

# %%
import math
from collections import OrderedDict

import numpy as np

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import optim
from tinygrad_edu.datasets import load_thermometer
from tinygrad_edu.lessons import output_folder
from tinygrad_edu.plots import line_chart

# The stepper predefines OUT; run as a plain script or a notebook, the lesson picks the default.
OUT = globals().get("OUT") or output_folder(7)

# %% [markdown]
# ## 1. `nn.Linear`: the line as a module
#
# `nn.Linear(in_features, out_features)` computes `y = x Wᵀ + b`, with a weight matrix W of
# shape (out, in) and a bias b of shape (out,). With one input and one output it is exactly
# lesson 6's `w · t_u + b`. Its weight and bias are `nn.Parameter`s: tensors that require
# gradients and that the module registers, so `parameters()` finds them. They start random
# (uniform in ±1/√in_features), not at 1 and 0.

# %%
torch.manual_seed(0)
line_model = nn.Linear(1, 1)
print(line_model)
print("weight", line_model.weight)
print("bias", line_model.bias)
print("parameters():", [tuple(p.shape) for p in line_model.parameters()])

# %% [markdown]
# Modules work on **batches**. The first dimension of the input indexes the samples and the
# last holds each sample's features, so a layer computes all samples in one matrix product.
# Our eleven readings are eleven samples of one feature each: shape (11, 1), not (11,).
# `unsqueeze(1)` adds that feature dimension without copying. A (11,) tensor would be read
# as *one* sample with eleven features, which this layer cannot take:

# %%
t_c, t_u = load_thermometer()
x = (0.1 * t_u).unsqueeze(1)       # the scaled readings of lesson 6, as a batch: (11, 1)
y = t_c.unsqueeze(1)
print("x", x.shape, " y", y.shape)
print("the layer's output for the first three readings:",
      [round(v, 4) for v in line_model(x)[:3].flatten().tolist()])
by_formula = x @ line_model.weight.t() + line_model.bias
print("x @ W.T + b gives the same:", torch.allclose(line_model(x), by_formula))
try:
    line_model(0.1 * t_u)
except RuntimeError as err:
    shape_error = str(err)
    print("a (11,) input is refused:", shape_error)

# %% [markdown]
# ## 2. Losses are modules too, and the loop gets shorter
#
# `nn.MSELoss()` is lesson 6's `loss_fn` (mean of squared differences). We split the readings
# as lesson 6 did (the same seed gives the same nine training and two validation readings)
# and write the loop once, for any model, optimizer and loss.

# %%
loss_fn = nn.MSELoss()
print("nn.MSELoss:", loss_fn(by_formula, y).item(), "  by hand:",
      ((by_formula - y) ** 2).mean().item())

torch.manual_seed(6)
shuffled = torch.randperm(11)
train_idx, val_idx = shuffled[:-2], shuffled[-2:]
x_train, y_train, x_val, y_val = x[train_idx], y[train_idx], x[val_idx], y[val_idx]


def train_full_batch(n_epochs, optimizer, model, loss_fn, x_train, y_train, x_val, y_val,
                  report_every=0):
    """Full-batch training; returns the final training and validation losses."""
    for epoch in range(1, n_epochs + 1):
        train_loss = loss_fn(model(x_train), y_train)
        optimizer.zero_grad()
        train_loss.backward()
        optimizer.step()
        if report_every and (epoch == 1 or epoch % report_every == 0):
            with torch.no_grad():
                val_loss = loss_fn(model(x_val), y_val)
            print(f"epoch {epoch:4d}  training loss {train_loss.item():8.4f}  "
                  f"validation loss {val_loss.item():8.4f}")
    with torch.no_grad():
        return loss_fn(model(x_train), y_train).item(), loss_fn(model(x_val), y_val).item()


# %% [markdown]
# For a straight line and a squared error, the best parameters can also be computed directly
# (least squares: NumPy's `polyfit`). Gradient descent must arrive at the same numbers. Plain
# SGD at lr 1e-2 needs thousands of epochs (lesson 6); with *momentum*, each step also keeps
# 90% of the previous step, so the updates build up speed along the long, shallow valley of
# this loss and 1000 epochs are plenty.

# %%
optimizer = optim.SGD(line_model.parameters(), lr=1e-2, momentum=0.9)
line_train_loss, line_val_loss = train_full_batch(1000, optimizer, line_model, loss_fn,
                                               x_train, y_train, x_val, y_val,
                                               report_every=250)
w_ls, b_ls = np.polyfit(x_train.flatten().numpy().astype(np.float64),
                        y_train.flatten().numpy().astype(np.float64), 1)
print(f"nn.Linear:     w = {line_model.weight.item():.4f}, b = {line_model.bias.item():.4f}")
print(f"least squares: w = {w_ls:.4f}, b = {b_ls:.4f}")

# %% [markdown]
# ## 3. A neural network with `nn.Sequential`
#
# Now replace the line by a network: a linear layer from 1 input to 13 hidden units, a tanh
# on each of them, and a linear layer from 13 back to 1 output. `nn.Sequential` chains
# modules, feeding each one's output to the next. The output is a weighted sum of thirteen
# tanh curves, each shifted and stretched by its own weight and bias, so it can bend where a
# line cannot. (Thirteen is arbitrary; the two 13s must match.)
#
# `named_parameters()` gives each parameter with its name: the child's position in the
# Sequential, then the parameter's name in the child. The tanh has none.

# %%
torch.manual_seed(0)
plain_net = nn.Sequential(nn.Linear(1, 13), nn.Tanh(), nn.Linear(13, 1))
print(plain_net)
for name, param in plain_net.named_parameters():
    print(f"{name:10s} {tuple(param.shape)}")
n_params = sum(p.numel() for p in plain_net.parameters())
print("parameters in total:", n_params)

# %% [markdown]
# Positions are not very telling. Given an `OrderedDict` instead, Sequential uses its keys as
# the children's names, which then appear in `named_parameters()`, in saved checkpoints, and
# as attributes.

# %%
named_net = nn.Sequential(OrderedDict([
    ("hidden", nn.Linear(1, 13)),
    ("squash", nn.Tanh()),
    ("readout", nn.Linear(13, 1)),
]))
print(named_net)
print([name for name, _ in named_net.named_parameters()])
print("named_net.readout.bias =", named_net.readout.bias)

# %% [markdown]
# Training it is the same loop with another model. Adam (lesson 6) at lr 1e-2 gets there in
# 1000 epochs.

# %%
optimizer = optim.Adam(named_net.parameters(), lr=1e-2)
net_train_loss, net_val_loss = train_full_batch(1000, optimizer, named_net, loss_fn,
                                             x_train, y_train, x_val, y_val, report_every=200)
print(f"line:    training loss {line_train_loss:.4f}, validation loss {line_val_loss:.4f}")
print(f"network: training loss {net_train_loss:.4f}, validation loss {net_val_loss:.4f}")
with torch.no_grad():
    print("on the validation readings: predicted",
          [round(v, 2) for v in named_net(x_val).flatten().tolist()],
          " true", y_val.flatten().tolist())

# %% [markdown]
# The network fits its nine training readings much better than the line does, and the two
# readings it did not see much worse: with forty parameters it can follow the noise of the
# nine points, which is lesson 6's overfitting in full. Nothing told it that the true relation
# is a line; with so few points, a simpler model is the better one. The picture shows both
# models over the whole range.

# %%
readings_grid = torch.linspace(20.0, 90.0, 141).unsqueeze(1)      # every half unit
with torch.no_grad():
    line_curve = line_model(0.1 * readings_grid).flatten().tolist()
    net_curve = named_net(0.1 * readings_grid).flatten().tolist()
held_out = set(val_idx.tolist())
print("wrote", line_chart(OUT / "thermometer_models.svg", [
    ("line", "#1f5fa8", readings_grid.flatten().tolist(), line_curve),
    ("1-13-1 tanh network", "#d2691e", readings_grid.flatten().tolist(), net_curve)],
    dots=[(u, c, "white" if i in held_out else "black")
          for i, (u, c) in enumerate(zip(t_u.tolist(), t_c.tolist()))],
    y_range=(-10.0, 35.0), x_label="reading t_u (hollow dots: validation)", height=360))

# %% [markdown]
# ## 4. Subclassing `nn.Module`
#
# Sequential can only pass data straight through. To decide yourself what happens to the
# input, subclass `nn.Module`: create the layers in `__init__` (assigning a module to an
# attribute registers it as a child, with the attribute's name) and write `forward`. Call the
# model, not `forward`: `model(x)` runs the hooks of section 6 around `forward`.
#
# Give the children the names used in the OrderedDict above and the two models have the same
# parameter names, so one's `state_dict()` loads into the other, and they then compute
# exactly the same function.

# %%
class ThermoNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(1, 13)
        self.squash = nn.Tanh()
        self.readout = nn.Linear(13, 1)

    def forward(self, x):
        h = self.squash(self.hidden(x))
        return self.readout(h)


thermo_net = ThermoNet()
thermo_net.load_state_dict(named_net.state_dict())
print(thermo_net)
print("same outputs as the trained Sequential:", torch.equal(thermo_net(x), named_net(x)))

# %% [markdown]
# Registration happens on attribute assignment, which has a trap: layers kept in a plain
# Python list are invisible to the module, so `parameters()` misses them, the optimizer never
# updates them, and `state_dict()` does not save them. `nn.ModuleList` is a list that
# registers its items.

# %%
class Hidden(nn.Module):
    def __init__(self, sizes, container):
        super().__init__()
        self.layers = container(nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.tanh(layer(x))
        return self.layers[-1](x)


in_a_list = Hidden([1, 13, 13, 1], list)
in_a_module_list = Hidden([1, 13, 13, 1], nn.ModuleList)
print("plain list:     ", len(list(in_a_list.parameters())), "parameters registered")
print("nn.ModuleList:  ", len(list(in_a_module_list.parameters())), "parameters registered:",
      [name for name, _ in in_a_module_list.named_parameters()][:4], "...")

# %% [markdown]
# ## 5. Functional forms
#
# Every layer has a function behind it in `torch.nn.functional` (usually imported as `F`):
# `F.linear(x, weight, bias)` is what `nn.Linear` computes with its own weight and bias,
# `F.mse_loss` is `nn.MSELoss`, and a tanh is just `torch.tanh`. Modules exist to hold state:
# parameters, buffers such as batch norm's running averages, and a training/evaluation mode.
# A tanh has none of that, so inside `forward` the function reads just as well as a module.

# %%
layer = named_net.hidden
print("F.linear equals the layer:",
      torch.equal(F.linear(x, layer.weight, layer.bias), layer(x)))
print("F.mse_loss equals nn.MSELoss:", F.mse_loss(named_net(x), y).item() ==
      loss_fn(named_net(x), y).item())


class FunctionalModel(nn.Module):
    """The same network with the stateless tanh as a function call."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(1, 13)
        self.readout = nn.Linear(13, 1)

    def forward(self, x):
        return self.readout(torch.tanh(self.hidden(x)))


functional_model = FunctionalModel()
functional_model.load_state_dict(named_net.state_dict())    # no tanh entry: none to load
print("same outputs:", torch.allclose(functional_model(x), named_net(x)))

# %% [markdown]
# ## 6. Hooks: watching a model from outside
#
# A *forward hook* is a function that a module calls right after its `forward`, with the
# module, its inputs and its output. It lets you record or change what flows through a model
# without editing the model's code: collect activations for a picture, check for NaNs, count
# saturated units. `register_forward_hook` returns a handle; `handle.remove()` detaches it.
#
# Here a hook on the tanh records the hidden activations for the eleven readings. A tanh unit
# near ±1 is *saturated*: its slope is almost 0, so almost no gradient flows through it.

# %%
recorded = []


def record_activations(module, inputs, output):
    recorded.append(output.detach().clone())


handle = named_net.squash.register_forward_hook(record_activations)
with torch.no_grad():
    prediction = named_net(x)
activations = recorded[-1]
saturated = (activations.abs() > 0.99).float().mean().item()
print("recorded", len(recorded), "activation tensor of shape", tuple(activations.shape),
      f"; {saturated:.0%} of the values are saturated (|a| > 0.99)")
handle.remove()
with torch.no_grad():
    named_net(x)
print("after handle.remove(), calls recorded:", len(recorded))

# %% [markdown]
# A hook that *returns* a tensor replaces the module's output. That makes quick experiments
# easy, for example switching off one hidden unit to see how much the fit depends on it.

# %%
def switch_off_unit(k):
    def hook(module, inputs, output):
        output = output.clone()
        output[:, k] = 0.0
        return output
    return hook


with torch.no_grad():
    base_loss = loss_fn(named_net(x_train), y_train).item()
    effects = []
    for k in range(13):
        h = named_net.squash.register_forward_hook(switch_off_unit(k))
        effects.append(loss_fn(named_net(x_train), y_train).item() - base_loss)
        h.remove()
    restored = named_net(x)
most = max(range(13), key=effects.__getitem__)
print(f"training loss {base_loss:.4f}; switching off unit {most} raises it most, by "
      f"{effects[most]:.2f}; the least important unit changes it by "
      f"{min(effects, key=abs):+.4f}")

# %% [markdown]
# ## Checks
#
# These would fail if a layer computed something other than its formula, if gradient descent
# on modules missed the least-squares answer, if registration or `state_dict` lost or
# misnamed a parameter, or if hooks ran when they should not (or not when they should).

# %%
assert line_model.weight.shape == (1, 1) and line_model.bias.shape == (1,)
assert isinstance(line_model.weight, nn.Parameter) and line_model.weight.requires_grad
assert "cannot be multiplied" in shape_error
assert torch.allclose(nn.MSELoss()(by_formula, y), ((by_formula - y) ** 2).mean())

# gradient descent with momentum reaches the least-squares line of the training readings
assert math.isclose(line_model.weight.item(), w_ls, abs_tol=1e-3)
assert math.isclose(line_model.bias.item(), b_ls, abs_tol=1e-2)

# the network: 13 + 13 + 13 + 1 parameters, named by position or by key
assert n_params == 40
assert [n for n, _ in plain_net.named_parameters()] == ["0.weight", "0.bias", "2.weight",
                                                         "2.bias"]
assert [n for n, _ in named_net.named_parameters()] == [
    "hidden.weight", "hidden.bias", "readout.weight", "readout.bias"]
# ...which fits the training readings better than the line and the held-out ones worse
assert net_train_loss < 0.75 * line_train_loss
assert net_val_loss > line_val_loss

# the subclass and the functional model compute the Sequential's function from its state
assert torch.equal(thermo_net(x), named_net(x))
assert torch.allclose(functional_model(x), named_net(x))
assert len(list(in_a_list.parameters())) == 0
assert len(list(in_a_module_list.parameters())) == 6
assert torch.equal(F.linear(x, layer.weight, layer.bias), layer(x))

# hooks: recorded the tanh outputs, stopped after remove(), and changed outputs only while on
assert len(recorded) == 1 and activations.shape == (11, 13)
assert torch.allclose(activations, torch.tanh(named_net.hidden(x)).detach())
assert activations.abs().max().item() <= 1.0
assert torch.equal(restored, prediction)
assert max(effects) > 0.1 and all(math.isfinite(e) for e in effects)
assert (OUT / "thermometer_models.svg").read_text().count("<circle") == 11
print("All checks passed.")
