"""Book ch. 4.2.2-4.2.3: hold out 2 of the 11 readings to watch for overfitting.

The split is the one the book printed (validation = readings 9 and 7), fixed here so the run is
repeatable and comparable with the book's numbers.
"""
import torch
import torch.optim as optim

celsius = torch.tensor([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])
unknown = torch.tensor([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])
train_idx = torch.tensor([8, 0, 3, 6, 4, 1, 2, 5, 10])
val_idx = torch.tensor([9, 7])
print("shuffled indices look like:", sorted(torch.randperm(11).tolist()) == list(range(11)))

x_train, y_train = 0.1 * unknown[train_idx], celsius[train_idx]
x_val, y_val = 0.1 * unknown[val_idx], celsius[val_idx]


def line(x, w, b):
    return w * x + b


def squared_error(pred, target):
    return ((pred - target) ** 2).mean()


def evaluate(x, target, params, train):
    with torch.set_grad_enabled(train):
        return squared_error(line(x, *params), target)


params = torch.tensor([1.0, 0.0], requires_grad=True)
optimizer = optim.SGD([params], lr=1e-2)
for epoch in range(1, 3001):
    train_loss = evaluate(x_train, y_train, params, True)
    with torch.no_grad():
        val_loss = squared_error(line(x_val, *params), y_val)
    assert not val_loss.requires_grad
    optimizer.zero_grad()
    train_loss.backward()
    optimizer.step()
    if epoch <= 3 or epoch % 500 == 0:
        print(f"Epoch {epoch}, Training loss {train_loss.item()}, "
              f"Validation loss {val_loss.item()}")
print(params)
print("validation loss with grad off:", evaluate(x_val, y_val, params, False).requires_grad)
