"""`tinygrad_edu.ops`: the differentiable ops, the layer between the tensor and its device.

Every `Function` that calls a device primitive (a kernel of kernels_cpu / kernels_cuda, see
docs/primitives.md) or reaches into a tensor's storage, offset and strides lives here, beside the
functional form that checks its arguments (with PyTorch's messages) and applies it. The layers
above use only what these modules export and the public tensor API: `nn` (modules, losses,
`nn.functional`) and `optim` never touch kernels or tensor internals themselves.

The import arrows point down only:

    nn/, optim/      ->  ops/      ->  vector (Tensor, Function), functions, the kernels
                                       (through vector.kernels(device))

so nothing in ops/ imports nn or optim, not even inside a function.

One file per kind of op:
    conv.py         convolution (im2col + GEMM) and pooling: conv1d, conv2d, max_pool2d,
                    avg_pool2d, adaptive_avg_pool2d and their window tables
    losses.py       the class-index loss (NllLoss) and the target checks that run on the
                    data's device
    embedding.py    row lookups by integer index: embedding, one_hot
    updates.py      the optimizers' update rules: one fused kernel per parameter and step, and
                    the same rules written with tensor ops

This package grows as functions.py is split into it (elementwise, reduce, movement/views,
indexing, linalg, random, in-place ops, one file each).
"""
