"""Book ch. 4.1: fit t_c ≈ w·t_u + b to the thermometer readings with gradients worked out by hand.

Four runs, as in the chapter: lr 1e-2 on the raw readings (diverges), lr 1e-4 (stable but slow),
lr 1e-2 on readings scaled by 0.1, and the same for 5000 epochs (converges to w≈5.37, b≈-17.30).
"""
import torch

celsius = torch.tensor([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])
unknown = torch.tensor([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])


def predict(x, w, b):
    return w * x + b


def mse(pred, target):
    return ((pred - target) ** 2).mean()


def gradient(x, target, pred):
    """d mse / d (w, b): the chain rule through pred = w*x + b, averaged over the samples."""
    dloss_dpred = 2 * (pred - target)
    return torch.stack([(dloss_dpred * x).mean(), dloss_dpred.mean()])


def fit(epochs, lr, params, x, target, report=(), show_params=True):
    for epoch in range(1, epochs + 1):
        w, b = params
        pred = predict(x, w, b)
        loss = mse(pred, target)
        grad = gradient(x, target, pred)
        params = params - lr * grad
        if epoch in report:
            print("Epoch %d, Loss %f" % (epoch, loss.item()))
            if show_params:
                print("    Params:", params)
                print("    Grad:  ", grad)
    return params


print("loss at w=1, b=0:", mse(predict(unknown, torch.ones(1), torch.zeros(1)), celsius))
print(fit(11, 1e-2, torch.tensor([1.0, 0.0]), unknown, celsius, report=(1, 2, 3, 10, 11)))
print(fit(100, 1e-4, torch.tensor([1.0, 0.0]), unknown, celsius,
          report=(1, 2, 3, 10, 11, 99, 100)))
scaled = 0.1 * unknown
print(fit(100, 1e-2, torch.tensor([1.0, 0.0]), scaled, celsius,
          report=(1, 2, 3, 10, 11, 99, 100)))
print(fit(5000, 1e-2, torch.tensor([1.0, 0.0]), scaled, celsius,
          report=(1, 2, 3, 10, 11, 99, 100, 4000, 5000), show_params=False))
