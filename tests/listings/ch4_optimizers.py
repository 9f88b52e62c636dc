"""Book ch. 4.2.1: the linear fit driven by torch.optim (SGD, then Adam on the raw readings)."""
import torch
import torch.optim as optim

celsius = torch.tensor([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])
unknown = torch.tensor([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])
scaled = 0.1 * unknown


def line(x, w, b):
    return w * x + b


def squared_error(pred, target):
    return ((pred - target) ** 2).mean()


print("optimizers offered include:", [n for n in ("SGD", "Adam", "RMSprop", "Adagrad")
                                      if hasattr(optim, n)])

# One step by hand-held optimizer: lr 1e-5 on the raw readings.
params = torch.tensor([1.0, 0.0], requires_grad=True)
sgd = optim.SGD([params], lr=1e-5)
squared_error(line(unknown, *params), celsius).backward()
sgd.step()
print("after one SGD step:", params)

# One proper step (zero_grad first) with lr 1e-2 on the scaled readings.
params = torch.tensor([1.0, 0.0], requires_grad=True)
sgd = optim.SGD([params], lr=1e-2)
loss = squared_error(line(scaled, *params), celsius)
sgd.zero_grad()
loss.backward()
sgd.step()
print("after one scaled step:", params)


def train(epochs, optimizer, params, x, target):
    for epoch in range(1, epochs + 1):
        loss = squared_error(line(x, *params), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 500 == 0:
            print("Epoch %d, Loss %f" % (epoch, loss.item()))
    return params


params = torch.tensor([1.0, 0.0], requires_grad=True)
print(train(5000, optim.SGD([params], lr=1e-2), params, scaled, celsius))
params = torch.tensor([1.0, 0.0], requires_grad=True)
print(train(2000, optim.Adam([params], lr=1e-1), params, unknown, celsius))
