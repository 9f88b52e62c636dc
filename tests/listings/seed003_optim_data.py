"""Seed 003 §8.7-8.8: optimizers, a learning-rate schedule, Dataset, DataLoader, TensorDataset
and random_split."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split

xs = torch.linspace(-1.0, 1.0, 40).unsqueeze(1)
ys = 3.0 * xs ** 2 - xs + 0.5


def fixed_model():
    model = nn.Sequential(nn.Linear(1, 6), nn.Tanh(), nn.Linear(6, 1))
    with torch.no_grad():
        for k, p in enumerate(model.parameters()):
            p.copy_(torch.cos(torch.arange(p.numel()) * 1.3 + k).reshape(p.shape) * 0.7)
    return model


for label, make in [
    ("SGD", lambda ps: torch.optim.SGD(ps, lr=0.01)),
    ("SGD+momentum", lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9)),
    ("Adam", lambda ps: torch.optim.Adam(ps, lr=0.001, betas=(0.9, 0.999))),
    ("RMSprop", lambda ps: torch.optim.RMSprop(ps, lr=0.001)),
]:
    model = fixed_model()
    optimizer = make(model.parameters())
    loss_fn = nn.MSELoss()
    for step in range(200):
        predictions = model(xs)
        loss = loss_fn(predictions, ys)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"{label}: loss after 200 steps {loss.item():.6f}")

model = fixed_model()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
rates = []
for epoch in range(100):
    optimizer.step()
    scheduler.step()
    rates.append(scheduler.get_last_lr()[0])
print("lr at epochs 0, 29, 30, 59, 60, 99:", [round(rates[i], 8) for i in (0, 29, 30, 59, 60, 99)])


class PairDataset(Dataset):
    def __init__(self, features, labels):
        self.features = features
        self.labels = labels

    def __len__(self):
        return len(self.features)

    def __getitem__(self, idx):
        return self.features[idx], self.labels[idx]


features = torch.arange(100 * 10, dtype=torch.float32).reshape(100, 10)
labels = torch.arange(100) % 2
dataset = PairDataset(features, labels)
loader = DataLoader(dataset, batch_size=32, shuffle=True)
shapes = [(tuple(f.shape), tuple(l.shape)) for f, l in loader]
print("batches per epoch:", len(loader), "shapes:", shapes)
seen = sorted(int(f[0]) // 10 for fb, _ in loader for f in fb)
print("every sample once:", seen == list(range(100)))
for batch_idx, (batch_features, batch_labels) in enumerate(DataLoader(dataset, batch_size=32)):
    print(batch_idx, batch_features[0, :3], batch_labels[:4])

tensors = TensorDataset(features, labels)
train_size = int(0.8 * len(tensors))
train_dataset, val_dataset = random_split(tensors, [train_size, len(tensors) - train_size])
print("split sizes:", len(train_dataset), len(val_dataset))
overlap = set(train_dataset.indices) & set(val_dataset.indices)
print("disjoint:", not overlap, "covering:", len(set(train_dataset.indices) | set(val_dataset.indices)))
print("first training item is a row of the data:",
      bool((train_dataset[0][0] == features[train_dataset.indices[0]]).all()))
