"""Seed 003 §8.9's complete example, on data we have.

The seed trains a one-hidden-layer classifier (hidden 32, ReLU, one logit, BCEWithLogitsLoss,
Adam lr 1e-3, batches of 64, shuffled, 10 epochs) on the UCI Adult census table, which is not
available offline. The same recipe runs here on the white-wine table (book ch. 3): predict a
"good" wine (quality >= 7, about one wine in five, much like Adult's >50K class) from the 11
standardized chemical measurements, 80/20 split, and print the same classification report.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(110)
folder = os.environ.get("TINYGRAD_EDU_DATA", "../shared/data")
table = np.loadtxt(os.path.join(folder, "winequality-white.csv"), delimiter=";", skiprows=1,
                   dtype=np.float32)
X, y = table[:, :-1], (table[:, -1] >= 7).astype(np.float32)

order = np.random.RandomState(42).permutation(len(X))
n_test = int(0.2 * len(X))
test_rows, train_rows = order[:n_test], order[n_test:]
mean, std = X[train_rows].mean(0), X[train_rows].std(0)   # fit the scaling on training data only
X_train = torch.tensor((X[train_rows] - mean) / std, dtype=torch.float32)
X_test = torch.tensor((X[test_rows] - mean) / std, dtype=torch.float32)
y_train = torch.tensor(y[train_rows], dtype=torch.float32)
y_test = torch.tensor(y[test_rows], dtype=torch.float32)

train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=64, shuffle=True)
test_loader = DataLoader(TensorDataset(X_test, y_test), batch_size=64)


class GoodWinePredictor(nn.Module):
    def __init__(self, input_dim, hidden_dim=32):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))   # a logit: the loss applies the sigmoid


model = GoodWinePredictor(X_train.shape[1], 32)
criterion = nn.BCEWithLogitsLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)
for epoch in range(10):
    model.train()
    total, count = 0.0, 0
    for batch_features, batch_labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(batch_features).squeeze(), batch_labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch_labels)
        count += len(batch_labels)
    print(f"epoch {epoch + 1}: mean training loss {total / count:.4f}")

model.eval()
predictions, truth = [], []
with torch.no_grad():
    for features, labels in test_loader:
        probabilities = torch.sigmoid(model(features).squeeze())
        predictions.extend((probabilities >= 0.5).float().tolist())
        truth.extend(labels.tolist())

predictions, truth = np.array(predictions), np.array(truth)
print("\nClassification Report:")
print(f"{'':>14}{'precision':>10}{'recall':>10}{'f1-score':>10}{'support':>10}")
rows = []
for cls, name in [(0.0, "ordinary"), (1.0, "good")]:
    tp = np.sum((predictions == cls) & (truth == cls))
    precision = tp / max(np.sum(predictions == cls), 1)
    recall = tp / max(np.sum(truth == cls), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    support = int(np.sum(truth == cls))
    rows.append((precision, recall, f1, support))
    print(f"{name:>14}{precision:10.4f}{recall:10.4f}{f1:10.4f}{support:10d}")
accuracy = float(np.mean(predictions == truth))
print(f"\n{'accuracy':>14}{'':>20}{accuracy:10.4f}{len(truth):10d}")
macro = np.mean([r[:3] for r in rows], axis=0)
weights = np.array([r[3] for r in rows]) / len(truth)
weighted = (np.array([r[:3] for r in rows]) * weights[:, None]).sum(0)
print(f"{'macro avg':>14}{macro[0]:10.4f}{macro[1]:10.4f}{macro[2]:10.4f}{len(truth):10d}")
print(f"{'weighted avg':>14}{weighted[0]:10.4f}{weighted[1]:10.4f}{weighted[2]:10.4f}"
      f"{len(truth):10d}")
sys.exit(0 if accuracy > 0.75 else 3)
