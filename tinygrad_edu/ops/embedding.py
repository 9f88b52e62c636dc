"""Row lookups by integer index: `embedding` (the `Embedding` Function behind `nn.Embedding`
and `nn.functional.embedding`) and `one_hot`.

    embedding:  y[..., :] = W[idx[...], :]
                dL/dW[r] = sum of dL/dy[...] over the positions with idx[...] = r (none for the
                           padding row)
    one_hot:    out[..., c] = 1 where idx[...] == c, else 0

The indices are range-checked once, here, with their min and max reduced on their own device
(one transfer of two numbers); the lookup (IndexSelect), its backward (IndexAdd) and one_hot's
Scatter are then applied directly, so that nothing checks them a second time.
"""
from __future__ import annotations

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.ops.helpers import _same_device
from tinygrad_edu.ops.selection import IndexAdd, IndexSelect, Scatter, _min_max
from tinygrad_edu.vector import Tensor, zeros

__all__ = ["Embedding", "embedding", "one_hot"]


class Embedding(Function):
    """y[..., :] = W[idx[...], :] (a row lookup);  dL/dW[r] = sum of the gradients of every
    position that looked up row r (index_add), except the padding row, which gets none"""
    backward_name = "EmbeddingBackward0"

    # The indices were range-checked by `embedding` (one transfer on CUDA): the Functions are
    # applied directly, so that neither the lookup nor its backward checks them again.
    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        flat = indices.reshape(-1)
        rows = IndexSelect.apply(weight, 0, flat)
        ctx.save_for_backward(flat)
        ctx.weight_shape, ctx.padding_idx = tuple(weight.shape), padding_idx
        return rows.reshape(tuple(indices.shape) + (weight.shape[1],))

    @staticmethod
    def backward(ctx, grad):
        flat, = ctx.saved_tensors
        g = grad.reshape(-1, ctx.weight_shape[1])
        if ctx.padding_idx is not None:
            g = g * (flat != ctx.padding_idx).to(g.dtype).unsqueeze(1)
        gw = zeros(ctx.weight_shape, dtype=grad.dtype, device=grad.device)
        return IndexAdd.apply(gw, 0, flat, g, 1), None, None


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of `weight` at the integer indices `input`: shape input.shape + (embedding_dim,)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"embedding(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype not in (V.int64, V.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following "
                           f"scalar types: Long, Int; but got {input.type()} instead (while "
                           "checking arguments for embedding)")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not "
                                  "supported by tinygrad_edu")
    n = weight.shape[0]
    _same_device(weight, input)
    if input.numel():
        lo, hi = _min_max(input)          # reduced on input's device: one transfer of two numbers
        if lo < 0 or hi >= n:
            raise IndexError("index out of range in self")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    return Embedding.apply(weight, input.long(), padding_idx)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """out[..., c] = 1 where tensor[...] == c, else 0: int64 of shape tensor.shape + (C,)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'tensor' must be Tensor, not "
                        f"{type(tensor).__name__}")
    if tensor.dtype is not V.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return zeros(tuple(tensor.shape) + (num_classes,), dtype=V.int64, device=tensor.device)
    lo, hi = _min_max(tensor)             # reduced on tensor's device: one transfer of two numbers
    if lo < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = hi + 1
    elif hi >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = zeros(tuple(tensor.shape) + (num_classes,), dtype=V.int64, device=tensor.device)
    # in range, as just checked: Scatter directly, not scatter(), which would check again
    return Scatter.apply(out, out.dim() - 1, tensor.unsqueeze(-1), 1, None)
