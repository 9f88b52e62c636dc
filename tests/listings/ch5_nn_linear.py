"""Book ch. 5.2: the thermometer fit with nn.Linear(1, 1), optim.SGD and nn.MSELoss.

Samples become rows (an input of shape (11, 1)); the split is the book's printed one and the
layer starts at weight 1, bias 0, so the run repeats the ch. 4 numbers with nn building blocks.
"""
import torch
import torch.nn as nn
import torch.optim as optim

celsius = torch.tensor([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]).unsqueeze(1)
unknown = torch.tensor([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4,
                        68.4]).unsqueeze(1)
print("input shape:", unknown.shape)
train_idx, val_idx = torch.tensor([8, 0, 3, 6, 4, 1, 2, 5, 10]), torch.tensor([9, 7])
x_train, y_train = 0.1 * unknown[train_idx], celsius[train_idx]
x_val, y_val = 0.1 * unknown[val_idx], celsius[val_idx]

layer = nn.Linear(1, 1)
print(layer)
print("weight shape:", layer.weight.shape, "bias shape:", layer.bias.shape)
with torch.no_grad():
    layer.weight.fill_(1.0)
    layer.bias.zero_()
print("one input row ->", layer(torch.ones(1)).detach())
print("a batch of ten ->", layer(torch.ones(10, 1)).detach().shape)
print("parameters:", [tuple(p.shape) for p in layer.parameters()])


def train(epochs, optimizer, model, loss_fn, x_train, x_val, y_train, y_val):
    for epoch in range(1, epochs + 1):
        loss_train = loss_fn(model(x_train), y_train)
        with torch.no_grad():
            loss_val = loss_fn(model(x_val), y_val)
        optimizer.zero_grad()
        loss_train.backward()
        optimizer.step()
        if epoch == 1 or epoch % 1000 == 0:
            print(f"Epoch {epoch}, Training loss {loss_train.item()}, "
                  f"Validation loss {loss_val.item()}")


train(3000, optim.SGD(layer.parameters(), lr=1e-2), layer, nn.MSELoss(), x_train, x_val,
      y_train, y_val)
print()
print(layer.weight)
print(layer.bias)

# The default initialisation is random; the fit still lands near the same line.
torch.manual_seed(0)
fresh = nn.Linear(1, 1)
optimizer = optim.SGD(fresh.parameters(), lr=1e-2)
for _ in range(3000):
    loss = nn.functional.mse_loss(fresh(x_train), y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("from a random start, final training loss below 3:", loss.item() < 3.0)
