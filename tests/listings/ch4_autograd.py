"""Book ch. 4.2: the same linear fit, with autograd computing the gradient of the loss."""
import torch

celsius = torch.tensor([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])
unknown = torch.tensor([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])


def line(x, w, b):
    return w * x + b


def squared_error(pred, target):
    return ((pred - target) ** 2).mean()


params = torch.tensor([1.0, 0.0], requires_grad=True)
print("grad before backward is None:", params.grad is None)
squared_error(line(unknown, *params), celsius).backward()
print("grad at w=1, b=0:", params.grad)


def descend(epochs, lr, params, x, target):
    for epoch in range(1, epochs + 1):
        if params.grad is not None:
            params.grad.zero_()          # gradients accumulate: clear last epoch's
        loss = squared_error(line(x, *params), target)
        loss.backward()
        with torch.no_grad():
            params -= lr * params.grad   # an in-place update outside the graph
        if epoch % 500 == 0:
            print("Epoch %d, Loss %f" % (epoch, loss.item()))
    return params


print(descend(5000, 1e-2, torch.tensor([1.0, 0.0], requires_grad=True), 0.1 * unknown, celsius))
