# %% [markdown]
# # Classification: handwritten digits
#
# Lessons 6 and 7 predicted one number. Here the model picks one of ten classes: which digit,
# 0 to 9, a 28 × 28 grey image shows. This is MNIST, the "hello world" of image
# classification, and it brings the pieces that every real training script has:
#
# - a `DataLoader` that serves shuffled mini-batches;
# - scores for each class (logits), turned into a loss by **cross-entropy**;
# - the AdamW optimizer, a learning-rate schedule, and dropout;
# - a validation pass after every epoch, and **early stopping** when it stops improving.
#
# The lesson ends with four classic mistakes, each one *made* and measured rather than
# just described. To stay quick it trains on 2000 images; `tinygrad-edu train mnist-mlp`
# uses all 8000.

# %%
import math

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import optim
from tinygrad_edu.data import DataLoader, TensorDataset
from tinygrad_edu.datasets import load_mnist
from tinygrad_edu.lessons import output_folder
from tinygrad_edu.plots import line_chart

# The stepper predefines OUT; run as a plain script or a notebook, the lesson picks the default.
OUT = globals().get("OUT") or output_folder(8)

# %% [markdown]
# ## 1. The data
#
# `load_mnist` reads the digits from MNIST's own file format. Only the 10 000-image test file
# of MNIST is in the course's data folder, so the project splits it once and for all: the
# first 8000 images train, the last 2000 validate. Pixels are scaled from 0–255 to [0, 1]
# and each image is flattened into 784 numbers, because the model below is a stack of
# linear layers that takes vectors. Labels are int64 class indices.

# %%
mnist = load_mnist(flatten=True)
N_TRAIN = 2000
train_x, train_y = mnist.train_images[:N_TRAIN], mnist.train_labels[:N_TRAIN]
val_x, val_y = mnist.val_images, mnist.val_labels
print("training:", tuple(train_x.shape), train_x.dtype, " validation:", tuple(val_x.shape))
print("pixel range", train_x.min().item(), "to", train_x.max().item())
print("images per digit in the training subset:", torch.bincount(train_y).tolist())


def show_digit(image):
    """A 28 × 28 image as text, two characters per pixel so it is not squashed."""
    shades = " .:-=+*#%@"
    rows = image.reshape(28, 28).tolist()
    return "\n".join("".join(shades[min(int(v * 10), 9)] * 2 for v in row[3:25])
                     for row in rows[3:25])


print(f"training image 0, labelled {train_y[0].item()}:")
print(show_digit(train_x[0]))

# %% [markdown]
# ## 2. Mini-batches with `DataLoader`
#
# Computing the gradient on all images for every step is slow, and not needed: the gradient
# on a random batch of 64 images points roughly the same way, at a thirtieth of the cost. A
# `TensorDataset` pairs images with labels (item i is `(train_x[i], train_y[i])`), and a
# `DataLoader` serves it in batches, in a new random order every epoch when
# `shuffle=True`. Batches are stacked along a new first dimension: 64 images of 784 pixels
# are a (64, 784) tensor. The last batch is whatever is left over.

# %%
torch.manual_seed(0)
train_set = TensorDataset(train_x, train_y)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
images, labels = next(iter(train_loader))
batch_sizes = [len(b) for b, _ in train_loader]
print(f"{len(train_set)} samples → {len(train_loader)} batches per epoch; first batch "
      f"{tuple(images.shape)} images and {tuple(labels.shape)} labels")
print("batch sizes:", batch_sizes[:3], "...", batch_sizes[-2:])
first_order = [labels.tolist()[:8]]
first_order.append(next(iter(train_loader))[1].tolist()[:8])
print("first labels of the first batch, in two epochs:", first_order)

# %% [markdown]
# ## 3. A classifier and its loss
#
# The model maps 784 pixels to 128 hidden ReLU units and those to **10 scores**, one per
# digit: the *logits*. The predicted class is the one with the highest score. To train, the
# scores must become a loss that is small when the right class scores high. **Softmax**
# turns scores into probabilities (exponentiate, divide by the sum), and **cross-entropy**
# is the negative log of the probability given to the right class: 0 for a certain and
# right answer, large for a confident wrong one, log 10 ≈ 2.30 for a uniform guess.
#
# `nn.CrossEntropyLoss` takes the raw logits and the class indices and does softmax and log
# together (`log_softmax`), which stays accurate where exponentiating first would overflow.
#
# Between the layers sits `nn.Dropout(0.2)`: during training it zeroes a random 20% of the
# hidden values (and scales the rest by 1/0.8 to keep their average), so the network cannot
# rely on any single unit. In evaluation mode it does nothing. Section 6 shows why the mode
# matters.

# %%
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
loss_fn = nn.CrossEntropyLoss()

logits = model(images)
untrained_loss = loss_fn(logits, labels).item()
by_hand = -F.log_softmax(logits, dim=1)[torch.arange(len(labels)), labels].mean().item()
print(model)
print(f"logits {tuple(logits.shape)}; untrained loss {untrained_loss:.4f} (by hand "
      f"{by_hand:.4f}; a uniform guess scores {math.log(10):.4f})")
probabilities = F.softmax(logits[:1], dim=1)
print("softmax of the first image's scores:", [round(p, 3) for p in probabilities[0].tolist()],
      " sum", round(probabilities.sum().item(), 6))

# %% [markdown]
# ## 4. Training with AdamW, a schedule and early stopping
#
# **AdamW** is Adam (lesson 6) with *decoupled weight decay*: every step also shrinks each
# weight by a small fraction, which keeps weights from growing without need, a mild
# protection against overfitting.
#
# A **learning-rate schedule** changes the rate during training. Big steps help early, when
# the model is far from good; smaller steps later let it settle. `StepLR(step_size=5,
# gamma=0.5)` halves the rate every five epochs; `scheduler.step()` is called once per epoch.
#
# **Early stopping**: after every epoch, measure the validation loss. Remember the best
# one and a copy of the weights that produced it; if it has not improved for `PATIENCE`
# epochs, stop and put the best weights back. Training longer would only fit the training
# images more closely at the expense of new ones.
#
# Note `model.train()` before each training epoch and `model.eval()` with `no_grad` for
# validation: the first switches dropout on, the second off.

# %%
def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        logits = model(x)
        return loss_fn(logits, y).item(), (logits.argmax(dim=1) == y).float().mean().item()


torch.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
optimizer = optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
MAX_EPOCHS, PATIENCE = 20, 3
history = {"train_loss": [], "val_loss": [], "val_accuracy": [], "lr": []}
best_loss, best_epoch, best_state = float("inf"), 0, None

for epoch in range(1, MAX_EPOCHS + 1):
    model.train()
    total = 0.0
    for images, labels in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
    history["lr"].append(optimizer.param_groups[0]["lr"])
    scheduler.step()
    val_loss, val_accuracy = evaluate(model, val_x, val_y)
    history["train_loss"].append(total / len(train_set))
    history["val_loss"].append(val_loss)
    history["val_accuracy"].append(val_accuracy)
    note = ""
    if val_loss < best_loss:
        best_loss, best_epoch = val_loss, epoch
        best_state = {k: v.clone() for k, v in model.state_dict().items()}
        note = "  ← best so far"
    print(f"epoch {epoch:2d}  lr {history['lr'][-1]:.5f}  train loss "
          f"{history['train_loss'][-1]:.4f}  val loss {val_loss:.4f}  val accuracy "
          f"{val_accuracy:.1%}{note}")
    if epoch - best_epoch >= PATIENCE:
        print(f"no improvement for {PATIENCE} epochs: stopping")
        break

model.load_state_dict(best_state)
final_loss, final_accuracy = evaluate(model, val_x, val_y)
print(f"restored epoch {best_epoch}: validation loss {final_loss:.4f}, "
      f"accuracy {final_accuracy:.1%}")

# %% [markdown]
# The curves, as a picture in the output folder:

# %%
epochs = range(1, len(history["train_loss"]) + 1)
print("wrote", line_chart(OUT / "mnist_curves.svg", [
    ("training loss", "#1f5fa8", epochs, history["train_loss"]),
    ("validation loss", "#d2691e", epochs, history["val_loss"]),
    ("validation accuracy", "#2e8b57", epochs, history["val_accuracy"])],
    x_label=f"epoch 1 to {len(epochs)}", legend="right"))

# %% [markdown]
# ## 5. Pitfall: forgetting `zero_grad()`
#
# `backward` adds into `.grad` (lesson 6). Drop `optimizer.zero_grad()` from the loop and
# every step's gradient is the *sum* of all gradients so far. Below, the same network is
# trained for one epoch with plain SGD, once correctly and once without zeroing, and we
# watch the size (norm) of the last layer's gradient and the batch loss.

# %%
def one_epoch(zero_each_step):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    sgd = optim.SGD(net.parameters(), lr=0.1)
    loader = DataLoader(train_set, batch_size=64, shuffle=True)
    losses, norms = [], []
    sgd.zero_grad()
    for images, labels in loader:
        if zero_each_step:
            sgd.zero_grad()
        loss = loss_fn(net(images), labels)
        loss.backward()
        sgd.step()
        losses.append(loss.item())
        norms.append(net[2].weight.grad.norm().item())
    return losses, norms


right_losses, right_norms = one_epoch(True)
piled_losses, piled_norms = one_epoch(False)
print("step          " + "".join(f"{i:7d}" for i in range(0, 32, 4)))
print("gradient norm, zeroed     " + "".join(f"{v:7.2f}" for v in right_norms[::4]))
print("gradient norm, forgotten  " + "".join(f"{v:7.2f}" for v in piled_norms[::4]))
print("batch loss, zeroed        " + "".join(f"{v:7.3f}" for v in right_losses[::4]))
print("batch loss, forgotten     " + "".join(f"{v:7.3f}" for v in piled_losses[::4]))

# %% [markdown]
# Without zeroing, the gradient grows step after step. At first that even looks good (the
# pile acts like a runaway momentum and the loss drops fast), then the steps get far too
# big and the loss jumps around instead of settling. No error is raised anywhere: the only
# symptom is a training run that behaves strangely.
#
# ## 6. Pitfall: forgetting `model.eval()`
#
# In training mode dropout zeroes random hidden units on every call, so the same image
# gets a different answer each time. That is what training needs and the opposite of what
# predictions need.

# %%
some = val_x[:500]
model.train()                                # forgot to switch back after training
with torch.no_grad():
    first_call, second_call = model(some).argmax(dim=1), model(some).argmax(dim=1)
    train_mode_accuracy = (model(val_x).argmax(dim=1) == val_y).float().mean().item()
model.eval()
with torch.no_grad():
    eval_first, eval_second = model(some).argmax(dim=1), model(some).argmax(dim=1)
changed = (first_call != second_call).sum().item()
print(f"training mode: {changed} of 500 predictions change between two identical calls; "
      f"validation accuracy {train_mode_accuracy:.1%}")
print(f"eval mode: {(eval_first != eval_second).sum().item()} change; validation accuracy "
      f"{final_accuracy:.1%}")

# %% [markdown]
# ## 7. Pitfall: sigmoid then BCE, instead of BCE with logits
#
# For two classes a model outputs one score x, the probability is sigmoid(x), and the
# binary cross-entropy (BCE) is −log p for positives and −log(1 − p) for negatives. Take a
# model that is *confidently wrong*: score 40 for a negative example. In float32,
# sigmoid(40) is exactly 1.0, so 1 − p is 0 and the log is −∞. `nn.BCELoss` clamps the log
# at −100 so the loss stays finite, but the damage is done: the gradient through the
# saturated sigmoid is 0, and the model gets no signal to correct its worst mistakes.
#
# `nn.BCEWithLogitsLoss` takes the score itself and computes the same loss by an algebraic
# rearrangement that never forms 1 − p: the loss is the exact 40 (−log(1 − sigmoid(x)) =
# x + log(1 + e^−x) ≈ x), and the gradient is sigmoid(x) − target = 1.

# %%
scores = torch.tensor([40.0, 20.0, 2.0], requires_grad=True)
targets = torch.zeros(3)
split_loss = nn.BCELoss(reduction="none")(torch.sigmoid(scores), targets)
split_loss.sum().backward()
split_grad = scores.grad.clone()
scores.grad = None
fused_loss = nn.BCEWithLogitsLoss(reduction="none")(scores, targets)
fused_loss.sum().backward()
fused_grad = scores.grad.clone()
for k, x in enumerate(scores.tolist()):
    print(f"score {x:4.0f}: BCE(sigmoid) loss {split_loss[k].item():9.4f} gradient "
          f"{split_grad[k].item():.4f} | BCEWithLogits loss {fused_loss[k].item():9.4f} "
          f"gradient {fused_grad[k].item():.4f}")

# %% [markdown]
# ## 8. Pitfall: validating on the training data
#
# A model is always better on the images it learned from. If the "validation" set is,
# by a slip in the split, the training set, or overlaps it, the reported numbers describe
# memory, not skill. A warning sign from the seeds' notes: validation accuracy *above*
# training accuracy. (One honest reason it can happen: the training accuracy of a
# running epoch is measured with dropout on and while the weights still change, the
# validation one after the epoch with dropout off. Compare like with like: both in eval
# mode, as here.)

# %%
train_loss_eval, train_accuracy_eval = evaluate(model, train_x, train_y)
print(f"evaluated on its own training images: loss {train_loss_eval:.4f}, accuracy "
      f"{train_accuracy_eval:.1%}")
print(f"evaluated on held-out images:         loss {final_loss:.4f}, accuracy "
      f"{final_accuracy:.1%}")

# %% [markdown]
# ## Checks
#
# These would fail if batching, cross-entropy, an optimizer, the schedule or early stopping
# misbehaved, or if dropout, BCE or evaluation did not do what the sections above show.

# %%
# data and batches
assert train_x.shape == (2000, 784) and val_x.shape == (2000, 784)
assert 0.0 <= train_x.min().item() and train_x.max().item() <= 1.0
assert len(train_loader) == math.ceil(2000 / 64) and batch_sizes[-1] == 2000 - 31 * 64
assert sum(batch_sizes) == 2000 and first_order[0] != first_order[1]      # reshuffled

# cross-entropy is -log softmax of the right class; softmax sums to 1
assert math.isclose(untrained_loss, by_hand, rel_tol=1e-5)
assert abs(untrained_loss - math.log(10)) < 0.3                # untrained: close to a guess
assert math.isclose(probabilities.sum().item(), 1.0, abs_tol=1e-6)

# training learned, the schedule halved the rate every 5 epochs, early stopping kept the best
assert history["train_loss"][-1] < history["train_loss"][0] / 3
assert max(history["val_accuracy"]) > 0.85                              # chance is 10%
assert history["lr"][:6] == [2e-3] * 5 + [1e-3]
assert best_loss == min(history["val_loss"])
assert best_epoch == 1 + history["val_loss"].index(best_loss)
assert math.isclose(final_loss, best_loss, rel_tol=1e-6)                # the best weights
epochs_run = len(history["val_loss"])
assert epochs_run == MAX_EPOCHS or epochs_run - best_epoch == PATIENCE

# pitfalls, as measured
assert piled_norms[-1] > 4 * right_norms[-1]
assert changed > 0 and torch.equal(eval_first, eval_second)
assert train_mode_accuracy < final_accuracy + 0.005
assert split_loss[0].item() == 100.0 and split_grad[0].item() == 0.0
assert math.isclose(fused_loss[0].item(), 40.0, rel_tol=1e-6)
assert math.isclose(fused_grad[0].item(), 1.0, rel_tol=1e-6)
assert math.isclose(split_loss[2].item(), fused_loss[2].item(), rel_tol=1e-4)   # same when safe
assert train_accuracy_eval > final_accuracy and train_loss_eval < final_loss
assert (OUT / "mnist_curves.svg").read_text().count("<polyline") == 3
print("All checks passed.")
