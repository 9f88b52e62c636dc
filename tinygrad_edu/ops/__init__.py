"""`tinygrad_edu.ops`: the differentiable ops, the layer between the tensor and its device.

Every `Function` that calls a device primitive (a kernel of kernels_cpu / kernels_cuda, see
docs/primitives.md) or reaches into a tensor's storage, offset and strides lives here, beside the
functional form that checks its arguments (with PyTorch's messages) and applies it. The layers
above use only what these modules export and the public tensor API: `nn` (modules, losses,
`nn.functional`) and `optim` never touch kernels or tensor internals themselves.

The import arrows point down only:

    nn/, optim/  ->  ops/  ->  vector (Tensor, Function), the kernels (through
                               vector.kernels(device))

so nothing in ops/ imports nn or optim, not even inside a function; and inside ops/ each
module imports only those listed before it here (tests/test_layers.py checks both):

    helpers.py      device and broadcasting checks; the forward steps that run one primitive
    elementwise.py  unary and binary ops with broadcasting, comparisons, where, clamp
    views.py        views (view, permute, expand, select, slice, ...) and copies (clone, to)
    joining.py      cat, stack, unbind
    reduce.py       sum, mean, max, var, norm, ... and the scans cumsum, cumprod
    linalg.py       matmul, mm, bmm, mv, dot, outer, addmm
    selection.py    gather/scatter, index_select/index_add, masked ops, sort, topk, median
    composites.py   ops made of other ops: softmax, repeat, flip, roll, einsum, ...
    inplace.py      in-place ops and PyTorch's view + in-place autograd (CopySlices)
    indexing.py     x[...] and x[...] = v
    random.py       random fills in place, bernoulli, multinomial
    methods.py      the Tensor methods and operators: each is the ops function of its name
    conv.py         convolution (im2col + GEMM) and pooling: conv1d, conv2d, max_pool2d,
                    avg_pool2d, adaptive_avg_pool2d and their window tables
    losses.py       the class-index loss (NllLoss) and the target checks that run on the
                    data's device
    embedding.py    row lookups by integer index: embedding, one_hot
    updates.py      the optimizers' update rules: one fused kernel per parameter and step, and
                    the same rules written with tensor ops
"""
from tinygrad_edu.ops import methods as _methods
from tinygrad_edu.vector import Tensor as _Tensor

_methods.attach_methods(_Tensor)
