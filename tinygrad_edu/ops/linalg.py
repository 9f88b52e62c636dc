"""Matrix products: matmul (with its broadcasting batch rules), mm, bmm, mv, dot, outer, addmm.

    C = A @ B;   dL/dA = dL/dC @ B^T,   dL/dB = A^T @ dL/dC
"""
from __future__ import annotations

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.ops.helpers import (_k, _operand, _same_device, binary_forward, broadcast_shapes,
                                      sum_to_shape)
from tinygrad_edu.vector import Tensor


def _check_matmul_dtypes(a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype} != "
                           f"{b.dtype}")


def _matmul_kernel(a3: Tensor, b3: Tensor) -> Tensor:
    """out[b] = a3[b] @ b3[b] for 3-D tensors of equal batch size."""
    bsz, m, _ = a3._shape
    n = b3._shape[2]
    out = V._new((bsz, m, n), a3.dtype, a3.device)
    _k(a3).matmul(a3._view(), b3._view(), out._view())
    return out


def _mm(a: Tensor, b: Tensor) -> Tensor:
    """a @ b for two matrices, by the 3-D matmul primitive on batch-of-one views (no autograd,
    no intermediate tensors: this is every Linear layer's forward and backward)."""
    out = V._new((a._shape[0], b._shape[1]), a._storage.dtype, a._storage.device)
    _k(a).matmul(_batch_of_one(a), _batch_of_one(b), _batch_of_one(out))
    return out


def _batch_of_one(t: Tensor):
    """t's array seen as a batch of one matrix: shape (1, rows, cols)."""
    return _k(t).as_strided(t._storage._data, t._offset, (1,) + t._shape, (0,) + t._strides)


class MatMul(Function):
    """C = A B (batched, broadcasting the batch dims);  dL/dA = dL/dC B^T,  dL/dB = A^T dL/dC"""
    backward_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if len(a._shape) == 2 and len(b._shape) == 2:
            return _mm(a, b)
        batch = broadcast_shapes(a._shape[:-2], b._shape[:-2])
        m, k, n = a._shape[-2], a._shape[-1], b._shape[-1]
        a3 = a.expand(batch + (m, k)).reshape((-1, m, k))
        b3 = b.expand(batch + (k, n)).reshape((-1, k, n))
        return _matmul_kernel(a3, b3).reshape(batch + (m, n))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = sum_to_shape(_matmul_grad(grad, b.mT, a), a._shape) if ctx.needs_input_grad[0] \
            else None
        gb = sum_to_shape(_matmul_grad(a.mT, grad, b), b._shape) if ctx.needs_input_grad[1] \
            else None
        return ga, gb


def _matmul_grad(x: Tensor, y: Tensor, like: Tensor) -> Tensor:
    """x @ y, laid out like `like`: for a transposed input (as Linear's weight.t()), compute
    (y^T x^T)^T so the gradient comes out transposed too and needs no copy (as PyTorch does)."""
    if like.dim() >= 2 and _is_transposed(like):
        return (y.mT @ x.mT).mT
    return x @ y


def _is_transposed(t: Tensor) -> bool:
    """Column-major in its last two dims: a .t() / .mT of a contiguous matrix."""
    rows, cols = t._shape[-2:]
    return t._strides[-2] == 1 and t._strides[-1] == rows and rows > 1 and cols > 1


class BatchMatMul(MatMul):
    backward_name = "BmmBackward0"


class UnsafeMatMul(MatMul):
    backward_name = "UnsafeViewBackward0"


def _matmul_shape_error(a: Tensor, b: Tensor):
    ash = "x".join(map(str, a._shape if a.dim() != 1 else (1,) + a._shape))
    bsh = "x".join(map(str, b._shape if b.dim() != 1 else b._shape + (1,)))
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({ash} and {bsh})")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """The matrix product with numpy's rules: 1-D operands are vectors, leading dims broadcast."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"matmul(): argument '{name}' must be Tensor, not {type(t).__name__}")
        if t.dim() == 0:
            raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                               f"{input.dim()}D and {other.dim()}D")
    _same_device(input, other)
    _check_matmul_dtypes(input, other)
    a = input.unsqueeze(0) if input.dim() == 1 else input
    b = other.unsqueeze(-1) if other.dim() == 1 else other
    if a._shape[-1] != b._shape[-2]:
        raise _matmul_shape_error(input, other)
    cls = MatMul if a.dim() == 2 and b.dim() == 2 else UnsafeMatMul
    out = cls.apply(a, b)
    if input.dim() == 1:
        out = out.squeeze(-2)
    if other.dim() == 1:
        out = out.squeeze(-1)
    return out


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (2-D only)."""
    if input.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {input.dim()}D and {mat2.dim()}D")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    if input.dim() != 3 or mat2.dim() != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor, batch2 must be a 3D tensor; got "
                           f"{input.dim()}D and {mat2.dim()}D")
    if input._shape[0] != mat2._shape[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input._shape[0]}, {input._shape[2]}] but got: "
                           f"[{mat2._shape[0]}, {mat2._shape[1]}].")
    if input._shape[2] != mat2._shape[1]:
        raise _matmul_shape_error(input, mat2)
    _check_matmul_dtypes(input, mat2)
    return BatchMatMul.apply(input, mat2)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input.dim() != 2 or vec.dim() != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}D and "
                           f"{vec.dim()}D")
    return matmul(input, vec)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input.dim() != 1 or other.dim() != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.dim()}D and {other.dim()}D "
                           "tensors")
    if input._shape != other._shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._shape[0]}] and "
                           f"src [{other._shape[0]}] to have the same number of elements, but got "
                           f"{input._shape[0]} and {other._shape[0]} elements respectively")
    return matmul(input, other)


inner = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    return input.reshape((-1, 1)) * vec2.reshape((1, -1))


ger = outer


class Addmm(Function):
    """out = beta * bias + alpha * (A B);  the Linear layer's op (AddmmBackward0)"""
    backward_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, bias, a, b, beta, alpha):
        ctx.save_for_backward(a, b)
        ctx.bias_shape, ctx.beta, ctx.alpha = bias._shape, beta, alpha
        out = _mm(a, b)
        k, arr = _k(out), out._arr
        if alpha != 1:
            k.binary("mul", arr, _operand(alpha, out.dtype, out._shape, out.device), arr)
        scaled = bias if beta == 1 else binary_forward("mul", bias, beta)
        # the bias is added into the product in place: it is new, nobody else sees it yet
        k.binary("add", arr, _operand(scaled, out.dtype, out._shape, out.device), arr)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        need = ctx.needs_input_grad
        g_bias = sum_to_shape(grad * ctx.beta if ctx.beta != 1 else grad, ctx.bias_shape) \
            if need[0] else None
        g = grad * ctx.alpha if ctx.alpha != 1 else grad
        return (g_bias, _matmul_grad(g, b.t(), a) if need[1] else None,
                _matmul_grad(a.t(), g, b) if need[2] else None, None, None)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape."""
    if mat1.dim() != 2 or mat2.dim() != 2:
        raise RuntimeError(f"addmm: expected 2D matrices, got {mat1.dim()}D and {mat2.dim()}D")
    if mat1._shape[1] != mat2._shape[0]:
        raise _matmul_shape_error(mat1, mat2)
    _check_matmul_dtypes(mat1, mat2)
    _same_device(input, mat1, mat2)
    broadcast_shapes(input._shape, (mat1._shape[0], mat2._shape[1]))
    return Addmm.apply(input, mat1, mat2, beta, alpha)
