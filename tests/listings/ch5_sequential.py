"""Book ch. 5.2-5.3: a 1-13-1 network with a tanh hidden layer, built three ways.

The hidden layer's start values are set from a fixed formula (not random) so that this script
prints the same numbers on PyTorch and on tinygrad_edu.
"""
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.optim as optim

celsius = torch.tensor([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]).unsqueeze(1)
unknown = torch.tensor([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4,
                        68.4]).unsqueeze(1)
train_idx, val_idx = torch.tensor([8, 0, 3, 6, 4, 1, 2, 5, 10]), torch.tensor([9, 7])
x_train, y_train = 0.1 * unknown[train_idx], celsius[train_idx]
x_val, y_val = 0.1 * unknown[val_idx], celsius[val_idx]

seq_model = nn.Sequential(nn.Linear(1, 13), nn.Tanh(), nn.Linear(13, 1))
print(seq_model)
print([p.shape for p in seq_model.parameters()])
for name, p in seq_model.named_parameters():
    print(name, p.shape)

named = nn.Sequential(OrderedDict([
    ("hidden_linear", nn.Linear(1, 8)),
    ("hidden_activation", nn.Tanh()),
    ("output_linear", nn.Linear(8, 1)),
]))
print(named)
for name, p in named.named_parameters():
    print(name, p.shape)
print("output bias shape:", named.output_linear.bias.shape)


def deterministic_start(model):
    """Start values from a sine: varied, repeatable, the same on every framework."""
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            n = p.numel()
            p.copy_(torch.sin(torch.arange(n) * 2.3 + k).reshape(p.shape) * (0.9 - 0.2 * k))


def train(epochs, optimizer, model, loss_fn):
    for epoch in range(1, epochs + 1):
        loss_train = loss_fn(model(x_train), y_train)
        with torch.no_grad():
            loss_val = loss_fn(model(x_val), y_val)
        optimizer.zero_grad()
        loss_train.backward()
        optimizer.step()
        if epoch == 1 or epoch % 1000 == 0:
            print(f"Epoch {epoch}, Training loss {loss_train.item():.6f}, "
                  f"Validation loss {loss_val.item():.6f}")


deterministic_start(named)
train(5000, optim.SGD(named.parameters(), lr=1e-3), named, nn.MSELoss())
with torch.no_grad():
    print("output", named(x_val))
print("answer", y_val)
print("hidden", named.hidden_linear.weight.grad)


class SubclassModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden_linear = nn.Linear(1, 13)
        self.hidden_activation = nn.Tanh()
        self.output_linear = nn.Linear(13, 1)

    def forward(self, x):
        return self.output_linear(self.hidden_activation(self.hidden_linear(x)))


class FunctionalModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden_linear = nn.Linear(1, 14)
        self.output_linear = nn.Linear(14, 1)

    def forward(self, x):
        return self.output_linear(torch.tanh(self.hidden_linear(x)))


seq11 = nn.Sequential(nn.Linear(1, 11), nn.Tanh(), nn.Linear(11, 1))
named12 = nn.Sequential(OrderedDict([("hidden_linear", nn.Linear(1, 12)),
                                     ("hidden_activation", nn.Tanh()),
                                     ("output_linear", nn.Linear(12, 1))]))
subclass = SubclassModel()
functional = FunctionalModel()
print(subclass)
print(functional)
for kind, model in [("seq", seq11), ("namedseq", named12), ("subclass", subclass)]:
    print(kind)
    for name, p in model.named_parameters():
        print("{:21} {:19} {}".format(name, str(p.shape), p.numel()))
    print()

deterministic_start(functional)
train(2000, optim.Adam(functional.parameters(), lr=1e-2), functional, nn.MSELoss())
with torch.no_grad():
    t_range = torch.arange(20.0, 90.0, 10.0).unsqueeze(1)
    print("curve", functional(0.1 * t_range).squeeze(1))
