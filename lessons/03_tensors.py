# %% [markdown]
# # Tensors: storage, offsets and strides
#
# A `Value` holds one number, and a network of Values needs one Python object per number:
# fine for 337 parameters, hopeless for millions. Real frameworks store numbers in *tensors*:
# n-dimensional arrays whose elements sit side by side in one block of memory, so that a
# single operation (and a single compiled loop, lesson 4) handles all of them.
#
# This lesson looks inside a tensor. The key idea: a tensor is a *view* of a flat storage,
# described by an offset, a shape and strides. Indexing, transposing and broadcasting only
# change that description; no number is copied. We use tinygrad_edu under PyTorch's name, so
# everything here also runs on PyTorch itself.

# %%
import numpy as np

import tinygrad_edu as torch
from tinygrad_edu.lessons import output_folder

# The stepper predefines OUT; run as a plain script or a notebook, the lesson picks the default.
OUT = globals().get("OUT") or output_folder(3)

# %% [markdown]
# ## 1. Shape and dtype
#
# Three points of the plane, one per row, with their x and y coordinates in the columns. The
# *shape* says how many elements lie along each dimension, the *dtype* what kind of number each
# element is. Python floats become `float32` (4 bytes each, the default of deep learning),
# Python ints `int64`; ask for another dtype with `dtype=` or convert with `.double()`,
# `.long()`, `.to(...)`. Combining an integer tensor with a float one gives floats.

# %%
points = torch.tensor([[2.0, 7.0], [5.0, 3.0], [8.0, 6.0]])
print(points)
print("shape", points.shape, " dtype", points.dtype, " bytes per element", points.element_size())

counts = torch.tensor([3, 1, 4])
print("integers:", counts.dtype, "  as float64:", counts.double().dtype,
      "  int + float:", (counts + points[:, 0]).dtype)

# %% [markdown]
# ## 2. The storage: one flat row of numbers
#
# However many dimensions a tensor has, its elements live in a one-dimensional *storage*. For
# `points`, the six numbers are stored row after row. Three numbers say where element
# (i, j) is:
#
# - the *storage offset*: where the tensor's first element is;
# - the *strides*: how many storage places to skip to move by one along each dimension.
#
# So element (i, j) sits at `offset + i·stride[0] + j·stride[1]`. Moving down a row of
# `points` skips 2 places, moving along a row skips 1.

# %%
storage = points.storage()
print("storage:", storage.tolist())
print("offset", points.storage_offset(), " strides", points.stride())


def storage_index(t, index):
    """Where element `index` of tensor t lives in its storage."""
    return t.storage_offset() + sum(i * s for i, s in zip(index, t.stride()))


for i in range(3):
    print("    ".join(f"points[{i},{j}] = storage[{storage_index(points, (i, j))}] = "
                      f"{storage[storage_index(points, (i, j))]}" for j in range(2)))

# %% [markdown]
# ## 3. Views: the same storage, described differently
#
# Indexing a tensor does not copy anything. `points[1]`, the second point, is a new tensor with
# offset 2, shape [2] and stride 1 over the *same* storage. The y column `points[:, 1]` starts
# at offset 1 and skips 2 places per element. The helper below marks which storage places a
# view reads.

# %%
def show_view(name, t):
    picked = {storage_index(t, idx) for idx in np.ndindex(*t.shape)}
    marks = "".join(" ^^^ " if k in picked else "     " for k in range(len(storage)))
    print(f"{name:>13} {marks}  offset {t.storage_offset()}, shape {list(t.shape)}, "
          f"stride {t.stride()}")


print(f"{'storage':>13} " + "".join(f"{v:^5}" for v in storage.tolist()))
second = points[1]
ys = points[:, 1]
show_view("points[1]", second)
show_view("points[:, 1]", ys)
show_view("points[1:, 0]", points[1:, 0])

# %% [markdown]
# Because a view shares the storage, writing through it changes the original. When you need
# an independent copy, ask for one with `clone()`.

# %%
second[0] = 50.0
print("after second[0] = 50:")
print(points)
copy = points[1].clone()
copy[0] = -1.0
print("after writing to a clone, points[1] is still", points[1])
second[0] = 5.0          # put the original value back

# %% [markdown]
# ## 4. Transposing is free; `contiguous()` copies
#
# The transpose swaps the shape *and the strides*: `points.t()` has shape [2, 3] and strides
# (1, 2), over the same six numbers. It is no longer *contiguous*: walking it row by row jumps
# around the storage instead of reading it in order. Some operations need the plain layout:
# `view` refuses a layout it cannot describe, while `reshape` and `contiguous()` copy the
# elements into a fresh storage in row order. The same holds in any number of dimensions:
# `transpose(0, 2)` of a 2×3×4 tensor swaps the first and last strides.

# %%
points_t = points.t()
print(points_t)
print("strides", points_t.stride(), " contiguous?", points_t.is_contiguous(),
      " same storage?", points_t.storage().data_ptr() == points.storage().data_ptr())
try:
    points_t.view(6)
except RuntimeError as err:
    print("view(6) refuses:", str(err).split(" Use ")[0])
points_tc = points_t.contiguous()
print("contiguous copy: strides", points_tc.stride(), " storage", points_tc.storage().tolist())

block = torch.ones(2, 3, 4)
print("2×3×4 strides", block.stride(), "→ transpose(0, 2):", block.transpose(0, 2).shape,
      block.transpose(0, 2).stride())

# %% [markdown]
# ## 5. Stride 0: repeating without copying
#
# A stride may be 0: moving along that dimension stays on the same storage place. That is how
# `expand` (and broadcasting, which adds a row to every row of a matrix) repeats a row as many
# times as needed while storing it once.

# %%
row = torch.tensor([1.0, 2.0, 3.0])
grid = row.expand(4, 3)
print(grid)
print("strides", grid.stride(), " storage size", len(grid.storage()), "for", grid.numel(),
      "elements")

# %% [markdown]
# ## 6. NumPy shares memory
#
# `t.numpy()` and `torch.from_numpy(a)` wrap the same memory in the other library's type, so
# changes show on both sides and nothing is copied. `torch.tensor(a)` makes a copy instead.
# Note that NumPy's default float is float64, and `from_numpy` keeps it.

# %%
as_numpy = points.numpy()
as_numpy[0, 0] = -2.0
print("after as_numpy[0, 0] = -2:", points[0])

array = np.linspace(0.0, 1.0, 5)
shared = torch.from_numpy(array)
copied = torch.tensor(array)
array[-1] = 99.0
print("from_numpy:", shared, "\ncopy:      ", copied)
as_numpy[0, 0] = 2.0     # undo

# %% [markdown]
# ## 7. Saving and loading
#
# `torch.save` writes tensors (alone, or in dicts, lists and tuples) to a file and `torch.load`
# reads them back. tinygrad_edu's format (docs/file-format.md) is a JSON description plus the
# raw bytes of each storage: loading a file never runs code from it, unlike a pickle. Because
# storages are saved once, a view saved together with its base comes back as a view.

# %%
path = OUT / "points.t"
torch.save({"points": points, "second": points[1]}, path)
loaded = torch.load(path)
print(f"{path} holds {path.stat().st_size} bytes")
print(loaded["points"])
loaded["second"][1] = -3.0
print("writing to the loaded view changes the loaded points too:", loaded["points"][1])

# %% [markdown]
# ## Checks
#
# These would fail if offsets or strides were computed wrongly, if a view copied instead of
# sharing, or if NumPy conversion or saving lost the sharing.

# %%
# the storage formula finds every element
for i in range(points.shape[0]):
    for j in range(points.shape[1]):
        assert storage[storage_index(points, (i, j))] == points[i, j].item()
assert points.stride() == (2, 1) and points.storage_offset() == 0
assert second.storage_offset() == 2 and second.stride() == (1,)
assert ys.storage_offset() == 1 and ys.stride() == (2,) and not ys.is_contiguous()

# views share; clones do not
assert points[1].storage().data_ptr() == points.storage().data_ptr()
assert copy.storage().data_ptr() != points.storage().data_ptr()
assert points.tolist() == [[2.0, 7.0], [5.0, 3.0], [8.0, 6.0]]

# transpose and contiguous
assert points_t.stride() == (1, 2) and not points_t.is_contiguous()
assert points_tc.stride() == (3, 1) and points_tc.is_contiguous()
assert points_tc.storage().tolist() == [2.0, 5.0, 8.0, 7.0, 3.0, 6.0]
assert points_tc.storage().data_ptr() != points.storage().data_ptr()
assert points_t.tolist() == points_tc.tolist() == [[2.0, 5.0, 8.0], [7.0, 3.0, 6.0]]
assert block.stride() == (12, 4, 1) and block.transpose(0, 2).stride() == (1, 4, 12)

# stride 0 repeats without storing
assert grid.stride() == (0, 1) and len(grid.storage()) == 3 and grid.tolist()[3] == [1, 2, 3]

# NumPy sharing both ways, torch.tensor copying
assert np.shares_memory(points.numpy(), as_numpy)
assert shared[-1].item() == 99.0 and copied[-1].item() == 1.0
assert shared.dtype == torch.float64

# saving keeps values and sharing
assert path.exists()
assert loaded["points"][1].tolist() == [5.0, -3.0]
assert (loaded["second"].storage().data_ptr() == loaded["points"].storage().data_ptr())
assert loaded["second"].storage_offset() == 2
print("All checks passed.")
