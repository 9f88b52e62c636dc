"""Seed 003 §8.4-8.6: modules, parameters and buffers, initialisation, containers,
activations and loss functions."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init


class TwoLayerNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.layer1 = nn.Linear(n_in, n_hidden)
        self.layer2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.layer2(torch.relu(self.layer1(x)))


net = TwoLayerNet(10, 20, 1)
for name, param in net.named_parameters():
    print(f"{name}: {param.shape}")


class Normalizer(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(size))
        self.register_buffer("running_mean", torch.zeros(size))

    def forward(self, x):
        return (x - self.running_mean) * self.scale


norm = Normalizer(4)
print("parameters:", [n for n, _ in norm.named_parameters()])
print("buffers:", [n for n, _ in norm.named_buffers()])
print("state_dict keys:", list(norm.state_dict().keys()))

linear = nn.Linear(in_features=10, out_features=5)
print(f"Weight shape: {linear.weight.shape}")
print(f"Bias shape: {linear.bias.shape}")
print("output shape:", linear(torch.randn(32, 10)).shape)
bound = 1 / 10 ** 0.5   # PyTorch's default init keeps weights within 1/sqrt(fan_in)
print("default init within bounds:", bool(linear.weight.abs().max() <= bound))
init.xavier_uniform_(linear.weight)
init.zeros_(linear.bias)
xavier_bound = (6 / (10 + 5)) ** 0.5
print("xavier within bounds:", bool(linear.weight.abs().max() <= xavier_bound),
      "bias all zero:", bool((linear.bias == 0).all()))

stack = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 15), nn.ReLU(),
                      nn.Linear(15, 1))
print(stack)
print("parameter count:", sum(p.numel() for p in stack.parameters()))


class LayerList(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


deep = LayerList([4, 8, 8, 2])
print("layers registered:", len(list(deep.parameters())), "tensors")
print("output shape:", deep(torch.ones(3, 4)).shape)
deep.eval()
print("training flags after eval():", [m.training for m in deep.modules()])

x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
print("relu", F.relu(x), nn.ReLU()(x))
print("leaky", F.leaky_relu(x, negative_slope=0.01), nn.LeakyReLU(negative_slope=0.01)(x))
print("sigmoid", torch.sigmoid(x), nn.Sigmoid()(x))
print("tanh", torch.tanh(x), nn.Tanh()(x))

print("MSE", nn.MSELoss()(torch.tensor([0.5, 1.8, 2.5]), torch.tensor([1.0, 2.0, 2.0])))
print("BCE", nn.BCELoss()(torch.tensor([0.2, 0.7, 0.9]), torch.tensor([0.0, 1.0, 1.0])))
print("BCE with logits", nn.BCEWithLogitsLoss()(torch.tensor([1.5, 0.3, -0.5]),
                                                torch.tensor([1.0, 0.0, 0.0])))
print("cross entropy", nn.CrossEntropyLoss()(torch.tensor([[1.5, 0.3, -0.5], [0.2, 2.3, 0.5]]),
                                             torch.tensor([0, 1])))
print("BCE with logits at +-1000:", nn.BCEWithLogitsLoss()(torch.tensor([1000.0, -1000.0]),
                                                           torch.tensor([0.0, 1.0])))
