# %% [markdown]
# # Convolutions: networks that know what an image is
#
# Lesson 8's network flattened each digit into 784 numbers. To its first layer, pixel
# (3, 4) and pixel (20, 17) are just two of 784 inputs with no relation to each other, and
# a digit moved two pixels to the right is an entirely different input that it must learn
# again. Yet we know things about images before seeing any: nearby pixels belong together,
# and a stroke is a stroke wherever it appears.
#
# A **convolutional** network builds that knowledge into its layers through three ideas:
#
# 1. **local connectivity**: each output looks at a small neighbourhood of the input;
# 2. **weight sharing**: the same small filter is applied at every position;
# 3. **pooling**: neighbouring outputs are summarised, shrinking the image step by step.
#
# Each is demonstrated below on small tensors, with autograd as the measuring instrument.
# Then a LeNet-5 learns digits, and batch normalisation shows its two modes.

# %%
import tinygrad_edu as torch
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu import optim
from tinygrad_edu.data import DataLoader, TensorDataset
from tinygrad_edu.datasets import load_mnist
from tinygrad_edu.lessons import output_folder
from tinygrad_edu.models import LeNet, SmallCNN

# The stepper predefines OUT; run as a plain script or a notebook, the lesson picks the default.
OUT = globals().get("OUT") or output_folder(9)

# %% [markdown]
# ## 1. A convolution by hand
#
# A 2-D convolution slides a small grid of weights, the *filter* or *kernel*, over the
# image. At each position it multiplies the filter with the patch of pixels under it,
# element by element, and sums: one output value per position. (Strictly, that is a
# cross-correlation: a mathematician's convolution flips the filter first. For filters that
# are learned the flip changes nothing, so deep learning skips it.)
#
# The picture is 0 on the left and 1 on the right. The filter below subtracts what is left of
# a pixel from what is right of it, so it responds where brightness changes from left to
# right: a vertical-edge detector. Without padding, a 3 × 3 filter fits 6 × 6 times on an
# 8 × 8 image.

# %%
image = torch.zeros(8, 8)
image[:, 4:] = 1.0
edge_filter = torch.tensor([[-1.0, 0.0, 1.0],
                            [-1.0, 0.0, 1.0],
                            [-1.0, 0.0, 1.0]])


def convolve(image, kernel):
    """Slide `kernel` over `image` (no padding, stride 1), with plain Python loops."""
    kh, kw = kernel.shape
    oh, ow = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = torch.zeros(oh, ow)
    for i in range(oh):
        for j in range(ow):
            out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum()
    return out


by_loops = convolve(image, edge_filter)
print(by_loops)

# %% [markdown]
# `F.conv2d` does the same for whole batches and many filters at once. Its shapes:
#
# - input (N, C_in, H, W): N images, each with C_in channels (1 for grey, 3 for colour);
# - weight (C_out, C_in, kH, kW): C_out filters, each spanning all input channels;
# - output (N, C_out, H − kH + 1, W − kW + 1), or (N, C_out, H, W) with `padding=1`, which
#   surrounds the image with a border of zeros so that a 3 × 3 filter fits everywhere.
#
# Our image becomes a batch of one image of one channel with two `unsqueeze`s or, as here,
# indexing with `None`.

# %%
by_conv2d = F.conv2d(image[None, None], edge_filter[None, None])
print("F.conv2d:", tuple(by_conv2d.shape), " same as the loops:",
      torch.equal(by_conv2d[0, 0], by_loops))
padded = F.conv2d(image[None, None], edge_filter[None, None], padding=1)
print("with padding=1:", tuple(padded.shape))

# %% [markdown]
# ## 2. Local connectivity
#
# Which inputs does one output depend on? Autograd can tell: make the input require
# gradients, run backward from a single output value, and see which input pixels received a
# nonzero gradient. For a convolution, exactly the 3 × 3 patch under the filter. For a
# linear layer on the flattened image, every pixel.

# %%
torch.manual_seed(0)
x = torch.rand(1, 1, 8, 8, requires_grad=True)
conv = nn.Conv2d(1, 1, kernel_size=3)
conv(x)[0, 0, 2, 3].backward()
conv_reach = (x.grad[0, 0] != 0)
print("inputs that output (2, 3) of the convolution depends on:")
print("\n".join(" ".join("#" if v else "." for v in row) for row in conv_reach.tolist()))

x.grad = None
dense = nn.Linear(64, 36)
dense(x.reshape(1, 64))[0, 2 * 6 + 3].backward()
dense_reach = (x.grad[0, 0] != 0)
print(f"the linear layer's output depends on {dense_reach.sum().item()} of 64 inputs, "
      f"the convolution's on {conv_reach.sum().item()}")

# %% [markdown]
# ## 3. Weight sharing
#
# A convolution uses the same filter at every position, so its number of parameters does not
# depend on the image size: 16 filters of 3 × 3 on a grey image are 16 · 9 weights plus 16
# biases, whether the image is 28 × 28 or 1000 × 1000. A linear layer producing the same
# 16 × 26 × 26 outputs from a 28 × 28 image needs a weight for every input-output pair.

# %%
conv16 = nn.Conv2d(1, 16, kernel_size=3)
conv_params = sum(p.numel() for p in conv16.parameters())
dense_params = 28 * 28 * (16 * 26 * 26) + 16 * 26 * 26     # weights + biases, not built
print(f"Conv2d(1, 16, 3): {conv_params} parameters; an equivalent Linear: {dense_params:,}")

# %% [markdown]
# Sharing has a second consequence: moving the input moves the output by the same amount
# (the layer is *equivariant* to translation). A stroke detector that fires at one place
# fires wherever the stroke goes. Take a real digit, shift it three pixels to the right, and
# compare the feature maps. MNIST digits have an empty border, so `torch.roll` (which wraps
# around) shifts without losing ink.
#
# To a flattened-input network the shifted digit is a different vector: the cosine
# similarity (1 for the same direction, 0 for nothing in common) of the two pixel vectors
# tells how much.

# %%
mnist = load_mnist()
digit = mnist.train_images[0][None, None]                  # (1, 1, 28, 28), a 7
shifted = torch.roll(digit, shifts=3, dims=3)
maps = conv16(digit)
maps_of_shifted = conv16(shifted)
same_after_shift = torch.allclose(maps_of_shifted[..., 3:], maps[..., :-3], atol=1e-6)
similarity = F.cosine_similarity(digit.reshape(1, -1), shifted.reshape(1, -1)).item()
print("feature maps of the shifted digit = shifted feature maps:", same_after_shift)
print(f"cosine similarity of the two pixel vectors: {similarity:.2f}")

# %% [markdown]
# ## 4. Pooling
#
# `nn.MaxPool2d(2)` keeps the largest value of every 2 × 2 block: the image shrinks to half
# its height and width, and a feature that moves by a pixel inside a block leaves the result
# unchanged. Below, one bright pixel moves by one step inside its 2 × 2 block, then by one
# step into the next block.

# %%
pool = nn.MaxPool2d(2)


def dot_at(row, col):
    picture = torch.zeros(1, 1, 6, 6)
    picture[0, 0, row, col] = 1.0
    return picture


pooled = [pool(dot_at(2, c))[0, 0] for c in (2, 3, 4)]
print("pixel at column 2 →\n", pooled[0])
print("column 3, same block: same output?", torch.equal(pooled[0], pooled[1]))
print("column 4, next block: same output?", torch.equal(pooled[0], pooled[2]))

# %% [markdown]
# Pooling also widens what each unit sees. A 3 × 3 convolution sees 3 × 3 pixels; after a
# 2 × 2 pooling, the next 3 × 3 convolution covers 3 pooled cells, each 2 pixels wide: its
# *receptive field* is 8 × 8 pixels. Stacking conv and pool layers lets the last layers see
# the whole digit while every layer stays small. Autograd confirms it:

# %%
torch.manual_seed(0)
stack = nn.Sequential(nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3))
x = torch.rand(1, 1, 16, 16, requires_grad=True)
stack(x)[0, 0, 1, 1].backward()
rows, cols = (x.grad[0, 0] != 0).nonzero().t().tolist()
field = (max(rows) - min(rows) + 1, max(cols) - min(cols) + 1)
print("receptive field of one output of conv → pool → conv:", field)

# %% [markdown]
# ## 5. LeNet-5 and SmallCNN
#
# `tinygrad_edu.models` has two ready-made convolutional networks. `LeNet` follows Yann
# LeCun's 1998 design for digits (with ReLU and max-pooling, as is usual today): two
# convolution + pooling blocks, then three linear layers. `SmallCNN` is the seeds' "CNN in
# one minute" with 32 and 64 filters. Forward hooks (lesson 7) print the shape after each
# layer as one digit passes through LeNet.

# %%
torch.manual_seed(0)
lenet = LeNet()
print(lenet)
shapes = []
handles = [layer.register_forward_hook(
    lambda module, inputs, output: shapes.append((type(module).__name__, tuple(output.shape))))
    for layer in list(lenet.features) + list(lenet.classifier)]
lenet(digit)
for handle in handles:
    handle.remove()
for name, shape in shapes:
    print(f"  {name:10s} → {shape}")
lenet_params = sum(p.numel() for p in lenet.parameters())
small_params = sum(p.numel() for p in SmallCNN(in_channels=1, image_size=28).parameters())
mlp_params = 784 * 128 + 128 + 128 * 10 + 10                 # lesson 8's network
print(f"parameters: LeNet {lenet_params:,}, SmallCNN {small_params:,}, "
      f"lesson 8's MLP {mlp_params:,}")

# %% [markdown]
# LeNet has fewer parameters than lesson 8's MLP and spends most of them in its first
# linear layer, not in the convolutions. Two epochs on 1500 digits with Adam:

# %%
train_x, train_y = mnist.train_images[:1500].unsqueeze(1), mnist.train_labels[:1500]
val_x, val_y = mnist.val_images[:1000].unsqueeze(1), mnist.val_labels[:1000]
loader = DataLoader(TensorDataset(train_x, train_y), batch_size=32, shuffle=True)
optimizer = optim.Adam(lenet.parameters(), lr=2e-3)
loss_fn = nn.CrossEntropyLoss()
accuracies = []
for epoch in range(1, 3):
    lenet.train()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(lenet(images), labels)
        loss.backward()
        optimizer.step()
    lenet.eval()
    with torch.no_grad():
        accuracies.append((lenet(val_x).argmax(dim=1) == val_y).float().mean().item())
    print(f"epoch {epoch}: last batch loss {loss.item():.4f}, validation accuracy "
          f"{accuracies[-1]:.1%}")

# %% [markdown]
# What did the first layer learn? Its six feature maps for our digit, drawn in grey levels
# next to the digit itself (a picture in the output folder; dark is a strong response). Each
# map is the digit seen through one learned 5 × 5 filter after the ReLU; look for maps that
# pick out edges on one side of the strokes, or strokes of one direction.

# %%
with torch.no_grad():
    first_maps = lenet.features[1](lenet.features[0](digit))[0]     # conv → ReLU: (6, 28, 28)


def maps_svg(path, pictures, cell=3, gap=12):
    """Grey-level pictures (2-D tensors) side by side, each scaled to its own maximum."""
    size = pictures[0].shape[0] * cell
    width = len(pictures) * (size + gap) + gap
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{size + 2 * gap}">']
    for k, picture in enumerate(pictures):
        top = max(picture.max().item(), 1e-12)
        x0 = gap + k * (size + gap)
        for i, row in enumerate(picture.tolist()):
            for j, v in enumerate(row):
                level = 255 - int(255 * max(v, 0.0) / top)          # dark = strong
                parts.append(f'<rect x="{x0 + j * cell}" y="{gap + i * cell}" width="{cell}" '
                             f'height="{cell}" fill="rgb({level},{level},{level})"/>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")
    return path


print("wrote", maps_svg(OUT / "feature_maps.svg", [digit[0, 0]] + list(first_maps)))

# %% [markdown]
# ## 6. Batch normalisation: two modes
#
# `nn.BatchNorm2d(C)` normalises each channel: it subtracts the channel's mean and divides
# by its standard deviation, both taken over the batch and all pixels, then applies a
# learned scale and shift (starting at 1 and 0). Keeping every layer's inputs on a similar
# scale makes deep stacks train faster and with larger learning rates.
#
# In **training** mode the statistics come from the current batch, and the layer updates
# running averages of them (`running_mean ← 0.9 · running_mean + 0.1 · batch mean`). In
# **eval** mode it uses those running averages instead. That is why `model.eval()` matters
# for prediction: in training mode, an image's output depends on which other images share
# its batch.

# %%
torch.manual_seed(0)
bn = nn.BatchNorm2d(3)
batch = torch.randn(8, 3, 5, 5) * torch.tensor([1.0, 5.0, 0.2]).reshape(1, 3, 1, 1) + 4.0
out = bn(batch)
channel_mean = out.mean(dim=(0, 2, 3))
channel_std = out.std(dim=(0, 2, 3), unbiased=False)
batch_mean = batch.mean(dim=(0, 2, 3))
print("input channel means", [round(v, 3) for v in batch_mean.tolist()])
print("output channel means", [round(v, 4) + 0.0 for v in channel_mean.tolist()],
      " standard deviations", [round(v, 4) for v in channel_std.tolist()])
running_after_one = bn.running_mean.clone()       # every training-mode call updates it
print("running_mean after one batch:", [round(v, 4) for v in running_after_one.tolist()])

with torch.no_grad():
    alone_train = bn(batch[:1])
    in_batch_train = bn(batch)[:1]
bn.eval()
with torch.no_grad():
    alone_eval = bn(batch[:1])
    in_batch_eval = bn(batch)[:1]
print("training mode: image 0 alone = image 0 in its batch?", torch.allclose(alone_train,
                                                                           in_batch_train))
print("eval mode:     image 0 alone = image 0 in its batch?", torch.allclose(alone_eval,
                                                                           in_batch_eval))

# %% [markdown]
# `nn.Dropout2d` is dropout for feature maps: it zeroes whole channels at random (neighbouring
# pixels of one map are so alike that dropping single pixels would hide little), again only
# in training mode.

# %%
torch.manual_seed(0)
drop = nn.Dropout2d(0.5)
dropped = drop(torch.ones(4, 10, 3, 3))
per_channel = dropped.sum(dim=(2, 3))                 # 0 where a channel was dropped, else 18
print("channel sums (0 = dropped, 9 × 2 = kept and rescaled):")
print(per_channel)

# %% [markdown]
# ## Checks
#
# These would fail if the convolution, pooling or batch-norm arithmetic were wrong, if a
# layer looked at the wrong pixels, or if a model's shapes or parameter counts were off.

# %%
# the convolution is the loop, and finds the edge (columns 2 and 3 of the 6 × 6 output)
assert torch.equal(by_conv2d[0, 0], by_loops)
assert by_loops[:, 2:4].eq(3.0).all() and by_loops[:, [0, 1, 4, 5]].eq(0.0).all()
assert padded.shape == (1, 1, 8, 8)

# local connectivity: a 3 × 3 patch, at the right place; a linear layer sees everything
assert conv_reach.sum().item() == 9 and conv_reach[2:5, 3:6].all()
assert dense_reach.sum().item() == 64

# weight sharing: few parameters, and shifting the input shifts the maps
assert conv_params == 160 and dense_params == 8_490_560
assert same_after_shift and similarity < 0.5

# pooling: shift inside a block is invisible, across blocks it is not; receptive field 8 × 8
assert pooled[0].shape == (3, 3) and torch.equal(pooled[0], pooled[1])
assert not torch.equal(pooled[0], pooled[2])
assert field == (8, 8)

# LeNet: its documented shapes and 61 706 parameters, and it learned
assert [s for _, s in shapes] == [(1, 6, 28, 28), (1, 6, 28, 28), (1, 6, 14, 14),
                                  (1, 16, 10, 10), (1, 16, 10, 10), (1, 16, 5, 5), (1, 400),
                                  (1, 120), (1, 120), (1, 84), (1, 84), (1, 10)]
assert lenet_params == 61_706 and lenet_params < mlp_params
assert accuracies[-1] > 0.7                                   # chance is 10%
assert first_maps.shape == (6, 28, 28) and first_maps.min().item() >= 0.0   # after ReLU

# batch norm: per-channel mean 0, std 1 in training; running mean moved 10% of the way
assert channel_mean.abs().max().item() < 1e-4
assert torch.allclose(channel_std, torch.ones(3), atol=1e-3)
assert torch.allclose(running_after_one, 0.1 * batch_mean, atol=1e-5)
assert not torch.allclose(alone_train, in_batch_train) and torch.allclose(alone_eval,
                                                                          in_batch_eval)

# Dropout2d drops whole channels: every channel sum is 0 or 18
assert set(per_channel.flatten().tolist()) <= {0.0, 18.0} and 0 < per_channel.eq(0).sum() < 40
assert (OUT / "feature_maps.svg").read_text().count("<rect") == 7 * 28 * 28
print("All checks passed.")
