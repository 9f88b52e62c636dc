# %% [markdown]
# # GPUs: devices and CUDA kernels
#
# A CPU has a handful of fast, clever cores. A GPU has thousands of simple ones that all run
# the same instructions on different data, which is exactly the shape of the kernels of
# lesson 4: an elementwise op is one tiny computation repeated for every element, and a
# matrix product is many independent dot products. A GPU also has its own memory, so data
# has to be copied there before the cores can use it, and copied back to be printed or saved.
#
# This lesson covers both sides: how tensors and models are placed on a *device* in
# tinygrad_edu (the same API as PyTorch), and how a GPU kernel is written in Python with
# `numba.cuda`, read line by line, launched, and checked.
#
# **No NVIDIA GPU?** Numba ships a *CUDA simulator* that runs the same kernels on the CPU,
# one Python thread per GPU thread: slow, but it executes the very same code, so everything
# here works and gives the same answers. Numba decides between the real GPU and the
# simulator when `numba.cuda` is first imported, from the environment variable
# `NUMBA_ENABLE_CUDASIM`. The first cell therefore sets `NUMBA_ENABLE_CUDASIM=1` when no GPU
# driver is found, *before* anything imports `numba.cuda`. (Outside this lesson, set it in
# the shell: `NUMBA_ENABLE_CUDASIM=1 python script.py`.) Sizes stay small so the simulator
# keeps up.

# %%
import os
import shutil
import sys

if shutil.which("nvidia-smi") is None and "NUMBA_ENABLE_CUDASIM" not in os.environ:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    if "numba" in sys.modules and "numba.cuda" not in sys.modules:
        # numba itself was imported already (tinygrad_edu's CPU kernels use it) and read its
        # settings then; have it read them again so that numba.cuda sees the variable.
        from numba.core import config
        config.reload_config()

import math
import time

import numpy as np
from numba import cuda

import tinygrad_edu as torch
import tinygrad_edu.nn as nn
from tinygrad_edu.datasets import load_thermometer

if not torch.cuda.is_available():
    raise RuntimeError("this lesson needs CUDA: an NVIDIA GPU with its driver, or Numba's "
                       "simulator (NUMBA_ENABLE_CUDASIM=1 set before numba.cuda is imported; "
                       "restart Python with it set)")
print("CUDA device:", torch.cuda.get_device_name(),
      "(kernels run on the CPU, thread by thread)" if torch.cuda.is_simulator() else "")

# %% [markdown]
# ## 1. Tensors live on a device
#
# Every tensor has a `device`: `cpu` by default. `t.to("cuda")` (or `t.cuda()`) returns a
# copy whose storage is in GPU memory; `device="cuda"` creates a tensor there directly.
# Operations on GPU tensors run GPU kernels (tinygrad_edu's are in `kernels_cuda.py`) and
# their results stay on the GPU. Getting numbers back to Python (`.item()`, `.tolist()`,
# printing, `.cpu()`, `.numpy()`) copies them to the host.

# %%
points = torch.tensor([[4.0, 1.0], [5.0, 3.0], [2.0, 1.0]])
on_gpu = points.to("cuda")
print("points:", points.device, "  on_gpu:", on_gpu.device, on_gpu.is_cuda)
doubled = on_gpu * 2 + 1
print("computed on", doubled.device)
print(doubled)
print("back on the host:", doubled.cpu().device, doubled.sum().item())
direct = torch.ones(2, 2, device="cuda")
print("created on the device:", direct.device)

# %% [markdown]
# `.to` makes a copy, so the CPU tensor and the GPU tensor are independent from then on
# (unlike lesson 3's views, they cannot share memory: they are in different memories).

# %%
on_gpu[0, 0] = 100.0
print("after writing to the GPU copy, points[0, 0] is still", points[0, 0].item())

# %% [markdown]
# An operation needs all its operands on the same device: the kernel of one device cannot
# read the other's memory. Rather than copying behind your back (and hiding a slow transfer
# in every step), mixing devices is an error, with the same message as in PyTorch. The usual
# cause is a model moved to the GPU and a batch that was not, or the other way round.

# %%
try:
    points + on_gpu
except RuntimeError as err:
    mixed_error = str(err)
    print("RuntimeError:", mixed_error)

# %% [markdown]
# Models move the same way: `model.to("cuda")` moves every parameter and buffer. The forward
# pass, the backward pass and the optimizer step then all run on the device, and the
# gradients land there too.

# %%
torch.manual_seed(0)
layer = nn.Linear(2, 1).to("cuda")
out = layer(on_gpu)
out.sum().backward()
print("weight on", layer.weight.device, " output on", out.device, " gradient on",
      layer.weight.grad.device)

# %% [markdown]
# The device works *asynchronously*: a kernel launch returns at once, and the host goes on
# while the GPU computes. The host waits for the device, and learns what happened there, only
# when it needs a result: `.item()`, `.cpu()`, printing, `torch.cuda.synchronize()`. So a
# mistake found on the device, such as a class target that is not one of a loss's classes,
# is reported at the next such wait, not at the line that made it. PyTorch behaves the same
# (its message there is "device-side assert triggered"): that is the price of never stopping
# the GPU to ask.

# %%
scores = torch.zeros(3, 4, device="cuda")
late_loss = nn.functional.cross_entropy(scores, torch.tensor([0, 9, 1], device="cuda"))
print("the loss with target 9 (of 4 classes) was launched: no error yet")
try:
    late_loss.item()
except (IndexError, RuntimeError) as err:
    late_error = str(err)
    print("reported at .item():", late_error)

# %% [markdown]
# ## 2. A CUDA kernel, line by line
#
# Here is a complete kernel: `out = a · x + y` for vectors (the classic "saxpy").

# %%
@cuda.jit
def scaled_add(a, x, y, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = a * x[i] + y[i]


# %% [markdown]
# Line by line:
#
# - `@cuda.jit` compiles the function for the GPU (or hands it to the simulator). It becomes
#   a *kernel*: it returns nothing, and writes its results into an output array.
# - The body is what **one thread** does. A launch starts a *grid* of threads, grouped in
#   *blocks*; all run this same code at the same time.
# - `cuda.grid(1)` is the thread's position in the whole grid:
#   `blockIdx.x · blockDim.x + threadIdx.x` (which block, times threads per block, plus the
#   thread's place in its block). Thread i handles element i. That is the Python loop of
#   lesson 4 with the `for` removed: the loop's iterations became threads.
# - `if i < out.shape[0]`: the grid is a whole number of blocks, so it usually has a few
#   more threads than elements. The spare threads must not write past the end, and compiled
#   GPU code does not check bounds for us.
# - `out[i] = a * x[i] + y[i]`: the work itself, one element per thread.
#
# Launching: `kernel[blocks, threads_per_block](arguments)`. Threads per block is best a
# multiple of 32 (the *warp*, the group of threads that execute in lockstep); blocks are
# chosen so that blocks × threads covers all n elements. The arrays must be in GPU memory:
# `cuda.to_device` copies a NumPy array there, `cuda.device_array` allocates without
# copying, and `copy_to_host()` brings a result back.

# %%
n = 1000
rng = np.random.default_rng(0)
x_host = rng.standard_normal(n).astype(np.float32)
y_host = rng.standard_normal(n).astype(np.float32)

threads_per_block = 128
blocks = math.ceil(n / threads_per_block)
x_dev, y_dev = cuda.to_device(x_host), cuda.to_device(y_host)
out_dev = cuda.device_array(n, dtype=np.float32)
start = time.perf_counter()
scaled_add[blocks, threads_per_block](np.float32(2.0), x_dev, y_dev, out_dev)
cuda.synchronize()              # launches return at once; wait for the kernel to finish
seconds = time.perf_counter() - start
result = out_dev.copy_to_host()
print(f"{blocks} blocks × {threads_per_block} threads = {blocks * threads_per_block} threads "
      f"for {n} elements; took {seconds * 1e3:.1f} ms")
print("matches NumPy:", np.allclose(result, 2.0 * x_host + y_host))

# %% [markdown]
# ## 3. Who did what
#
# To see the grid, let each thread write down its block and its thread number at the element
# it handles. Ten elements, blocks of four threads: three blocks, and the last block's
# final two threads find nothing to do.

# %%
@cuda.jit
def who_am_i(block_of, thread_of):
    i = cuda.grid(1)
    if i < block_of.shape[0]:
        block_of[i] = cuda.blockIdx.x
        thread_of[i] = cuda.threadIdx.x


block_of = cuda.device_array(10, dtype=np.int32)
thread_of = cuda.device_array(10, dtype=np.int32)
who_am_i[3, 4](block_of, thread_of)
block_ids, thread_ids = block_of.copy_to_host(), thread_of.copy_to_host()
print("element:", list(range(10)))
print("block:  ", block_ids.tolist())
print("thread: ", thread_ids.tolist())

# %% [markdown]
# ## 4. Grid-stride loops: any size, a fixed grid
#
# One thread per element ties the launch to the data size. tinygrad_edu's kernels (open
# `tinygrad_edu/kernels_cuda.py` and look at the elementwise kernels) use a *grid-stride
# loop* instead: thread k handles elements k, k + G, k + 2G, ... where G =
# `cuda.gridsize(1)` is the number of threads in the grid. Any grid then covers any number
# of elements, and at every step neighbouring threads touch neighbouring elements, the
# memory access pattern GPUs read fastest. Twenty elements, a grid of 2 blocks × 4 threads:

# %%
@cuda.jit
def which_thread(handled_by):
    start = cuda.grid(1)
    for i in range(start, handled_by.shape[0], cuda.gridsize(1)):
        handled_by[i] = start


handled_by = cuda.device_array(20, dtype=np.int32)
which_thread[2, 4](handled_by)
handled = handled_by.copy_to_host()
print("element:    ", list(range(20)))
print("handled by: ", handled.tolist())

# %% [markdown]
# ## 5. Threads that cooperate: a block sum in shared memory
#
# Elementwise work needs no cooperation; a sum does. Threads of one block share a small,
# fast *shared memory* and can wait for each other with `cuda.syncthreads()`. The classic
# block reduction: each of 32 threads loads one element into shared memory, then in each
# round the first half of the active threads adds the second half's values to its own,
# halving the count: 32 → 16 → 8 → 4 → 2 → 1, five rounds instead of 31 additions in a row.
# Every thread must pass `syncthreads()` before anyone reads what the others wrote. Each
# block leaves one partial sum; adding the few partials is a small job for the host (or a
# second launch).

# %%
BLOCK = 32


@cuda.jit
def block_sum(x, partial):
    cache = cuda.shared.array(BLOCK, dtype=np.float32)   # one per block, shared by its threads
    t = cuda.threadIdx.x
    i = cuda.grid(1)
    cache[t] = x[i] if i < x.shape[0] else 0.0           # spare threads contribute zeros
    cuda.syncthreads()
    step = BLOCK // 2
    while step > 0:
        if t < step:
            cache[t] += cache[t + step]
        cuda.syncthreads()
        step //= 2
    if t == 0:
        partial[cuda.blockIdx.x] = cache[0]


values = np.arange(100, dtype=np.float32)
n_blocks = math.ceil(len(values) / BLOCK)
partial_dev = cuda.device_array(n_blocks, dtype=np.float32)
block_sum[n_blocks, BLOCK](cuda.to_device(values), partial_dev)
partials = partial_dev.copy_to_host()
print("partial sums per block:", partials.tolist(), " total", partials.sum(),
      " NumPy:", values.sum())

# %% [markdown]
# `kernels_cuda.py` builds its reductions the same way (with more threads per block and a
# second pass when one block's partials are not enough), and its matrix product loads tiles
# of both matrices into shared memory so that each number is read from the slow main memory
# once per tile instead of once per multiplication.
#
# ## 6. Training on the device
#
# Nothing in a training loop needs to change except where the model and the data live. The
# thermometer fit of lesson 6 (`nn.Linear` from w = 1, b = 0, SGD at lr 1e-2 on the scaled
# readings), three epochs on the CPU and three on the GPU: the GPU kernels must reproduce the
# CPU's numbers (up to rounding, which may differ in the last bits).

# %%
def fit(device, epochs=3):
    t_c, t_u = load_thermometer()
    x, y = (0.1 * t_u).unsqueeze(1).to(device), t_c.unsqueeze(1).to(device)
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(1.0)
        model.bias.zero_()
    model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(epochs):
        loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model.weight.item(), model.bias.item(), losses, model.weight.device


cpu_w, cpu_b, cpu_losses, cpu_device = fit("cpu")
gpu_w, gpu_b, gpu_losses, gpu_device = fit("cuda")
print(f"cpu:  w {cpu_w:.6f}  b {cpu_b:.6f}  losses {[round(v, 4) for v in cpu_losses]}")
print(f"cuda: w {gpu_w:.6f}  b {gpu_b:.6f}  losses {[round(v, 4) for v in gpu_losses]}"
      f"  (parameters on {gpu_device})")

# %% [markdown]
# On a real GPU a step this small is not faster than on the CPU: every kernel launch costs a
# few microseconds, and eleven numbers are nowhere near enough work to hide that. GPUs win
# on large tensors (big matrix products, big batches of images), where thousands of threads
# have work. In the simulator, everything is slower than on the CPU: it is there to run and
# read kernels, not to time them.
#
# ## Checks
#
# These would fail if devices were mixed up, if `.to` shared memory across devices, if a
# kernel computed or indexed wrongly, or if the GPU path of training gave different numbers.

# %%
assert on_gpu.device.type == "cuda" and points.device.type == "cpu"
assert doubled.device.type == "cuda"
assert doubled.cpu().tolist() == [[9.0, 3.0], [11.0, 7.0], [5.0, 3.0]]
assert points[0, 0].item() == 4.0 and on_gpu[0, 0].item() == 100.0      # two memories
assert "same device" in mixed_error and "cpu" in mixed_error and "cuda" in mixed_error
assert layer.weight.grad.device.type == "cuda"
assert "9" in late_error                                  # found on the device, told later

# the kernels
assert np.allclose(result, 2.0 * x_host + y_host, atol=1e-6)
assert block_ids.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
assert thread_ids.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
assert handled.tolist() == [i % 8 for i in range(20)]
assert partials.tolist() == [496.0, 1520.0, 2544.0, 390.0] and partials.sum() == 4950.0

# training on the device reproduces the CPU
assert gpu_device.type == "cuda" and cpu_device.type == "cpu"
assert math.isclose(gpu_w, cpu_w, rel_tol=1e-5) and math.isclose(gpu_b, cpu_b, abs_tol=1e-5)
assert np.allclose(gpu_losses, cpu_losses, rtol=1e-5)
assert math.isclose(cpu_losses[0], 80.3643, abs_tol=1e-3)            # lesson 6's first epoch
print("All checks passed.")
