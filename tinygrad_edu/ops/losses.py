"""Losses over class indices: the `NllLoss` Function (behind `nn.functional.nll_loss` and
`cross_entropy`) and the checks of its targets, which run on the data's own device.

For row i of the (rows, C) scores x with target class t_i and class weight w_i = weight[t_i]
(1 without weights; 0 if t_i is ignored), the negative log-likelihood is

    l_i = -w_i x[i, t_i]            'mean' divides the sum by sum_i w_i,
    dL/dx[i, c] = -w_i g_i where c = t_i, else 0

NllLoss picks x[i, t_i] with Gather, the weights with IndexSelect and scatters the gradient
back with Scatter, applied directly: the targets were checked once by `check_class_targets`
(on the CPU at once; on CUDA on the device, read at the next wait for it, see
`check_on_its_device`), so those Functions must not check them again.
"""
from __future__ import annotations

from tinygrad_edu import vector as V
from tinygrad_edu.autograd.function import Function
from tinygrad_edu.ops.elementwise import where
from tinygrad_edu.ops.helpers import _same_device
from tinygrad_edu.ops.selection import Gather, IndexSelect, Scatter, _min_max
from tinygrad_edu.vector import Tensor, zeros

__all__ = ["NllLoss", "check_class_targets", "check_on_its_device", "class_weight_total",
           "flatten_classes", "scalar_name", "usable_targets"]

# The short type names PyTorch's messages use ("expected ... Long but found Float").
_SCALAR_NAME = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int",
                "int16": "Short", "uint8": "Byte", "bool": "Bool"}


def scalar_name(t: Tensor) -> str:
    return _SCALAR_NAME[t.dtype.name]


# ------------------------------------------------------------------------ device-side checks


def check_on_its_device(passed: Tensor, report) -> None:
    """A check computed where the data lives, as the 0-d bool `passed`; if it is False,
    report() raises the error: when the device's primitive `check_later` reads the answer (the
    CPU at once; CUDA at the next wait for the device, so the check costs no transfer)."""
    passed._storage._kernels.check_later(passed._view(), report)


# ------------------------------------------------------------------------ class-index targets


def _bad_targets(t: Tensor, c: int, ignore_index: int) -> Tensor:
    """True where target t is outside [0, c) and is not ignore_index: an error."""
    return ((t < 0) | (t >= c)) & (t != ignore_index)


def usable_targets(t: Tensor, c: int, ignore_index: int) -> Tensor:
    """True where target t is a class in [0, c) other than ignore_index."""
    return (t != ignore_index) & (t >= 0) & (t < c)


def check_class_targets(fn: str, input: Tensor, target: Tensor, weight: Tensor | None,
                        ignore_index: int) -> tuple[int, bool]:
    """Validate class-index targets for nll_loss/cross_entropy. Returns the number of classes,
    and whether some target may equal ignore_index (if not, nothing needs masking)."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if target.dtype not in (V.int64, V.uint8):
        name = scalar_name(target)
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {name} (expected "
                           f"scalar type Long but found {name}: class-index targets must be "
                           "integers)")
    if input.dim() == 1:
        if target.dim() != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    else:
        if target.dim() == 0 or target.shape[0] != input.shape[0]:
            got = target.shape[0] if target.dim() else 0
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                             f"batch_size ({got}).")
        expected = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(target.shape) != expected:
            raise RuntimeError(f"Expected target size {list(expected)}, got "
                               f"{list(target.shape)}")
    c = input.shape[1] if input.dim() >= 2 else input.shape[0]
    _same_device(input, target, weight)
    if weight is not None:
        if weight.dim() != 1 or weight.numel() != c:
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or "
                               f"no classes but got weight tensor of shape: "
                               f"{list(weight.shape)}")
        if weight.dtype is not input.dtype:
            raise RuntimeError(f"expected scalar type {scalar_name(input)} but found "
                               f"{scalar_name(weight)}")
    if target.numel() == 0:
        return c, False
    if target.device.type != "cpu":
        # On a GPU the check runs on the device and is read at the next wait for it, as
        # PyTorch does: no transfer per loss. The loss then masks every target it may not use
        # (ignored or, until the check is settled, out of range), so it says "maybe ignored".
        t = target.long()
        check_on_its_device(_bad_targets(t, c, ignore_index).any().logical_not(),
                             lambda: _raise_bad_target(t, c, ignore_index))
        return c, True
    # On the CPU the min and max, read in place, are all a valid batch needs. Only when they
    # leave [0, c) must the ignored targets be told apart from wrong ones.
    lo, hi = _min_max(target)
    if lo < 0 or hi >= c:
        _raise_bad_target(target.long(), c, ignore_index)
    return c, lo <= ignore_index <= hi


def _raise_bad_target(t: Tensor, c: int, ignore_index: int) -> None:
    """IndexError naming the first target outside [0, c) that is not ignore_index, if any."""
    bad = _bad_targets(t, c, ignore_index)
    if bad.any().item():
        raise IndexError(f"Target {t[bad].reshape(-1)[0].item()} is out of bounds.")


def class_weight_total(weight: Tensor, target: Tensor, keep: Tensor) -> Tensor:
    """sum of weight[t] over the targets t that count (`keep`, from usable_targets): the divisor
    of a class-weighted 'mean'. The others look up class 0 and are multiplied by 0, so the
    lookup (IndexSelect, applied directly: no second check) stays inside weight."""
    return IndexSelect.apply(weight, 0, where(keep, target, 0).reshape(-1)).mul(
        keep.reshape(-1).to(weight.dtype)).sum()


# -------------------------------------------------------------------------------- NllLoss


def flatten_classes(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C), (N, C) unchanged, (C,) -> (1, C): one row per
    prediction, classes along the columns."""
    if x.dim() == 1:
        return x.reshape(1, -1)
    if x.dim() == 2:
        return x
    return x.movedim(1, -1).reshape(-1, x.shape[1])


class NllLoss(Function):
    """For row i with target class t_i and class weight w_i = weight[t_i] (1 without weights;
    0 if t_i is ignored):  l_i = -w_i x[i, t_i];  'mean' divides the sum by sum_i w_i (which is
    the count of non-ignored rows without weights).
    dL/dx[i, c] = -w_i g_i where c = t_i, else 0 (g_i: the gradient reaching l_i)"""
    backward_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index, maybe_ignored):
        rows = flatten_classes(x)
        t = target.reshape(-1)
        if maybe_ignored:  # ignored rows look at class 0 with weight 0
            # (so do out-of-range ones, which a pending CUDA check will report: no kernel may
            # read outside the rows)
            keep = usable_targets(t, rows.shape[1], ignore_index)
            t = where(keep, t, 0)
            w = keep.to(x.dtype) if weight is None else IndexSelect.apply(weight, 0, t) * keep
        else:  # the common case: every row counts (fewer ops on the hot path)
            w = None if weight is None else IndexSelect.apply(weight, 0, t)
        # t is in [0, C): checked by check_class_targets on the CPU, masked above while a CUDA
        # check is pending; so the Functions are applied directly (gather() would check again)
        picked = Gather.apply(rows, 1, t.unsqueeze(1)).reshape(-1)
        losses = picked if w is None else picked * w  # the loss is -losses
        total = t.shape[0] if w is None else w.sum()
        # (the minus goes on the elements before the sum, as in PyTorch: a sum of -0.0 losses
        # is 0.0, where minus a sum of 0.0 would print as -0.)
        if reduction == "none":
            out = (-losses).reshape(tuple(target.shape))
        elif reduction == "sum":
            out = (-losses).sum()
        else:
            out = (-losses).sum() / total
        ctx.save_for_backward(t, w, total if w is not None else None)
        ctx.total, ctx.x_shape, ctx.reduction = total, tuple(x.shape), reduction
        return out

    @staticmethod
    def backward(ctx, grad):
        t, w, total = ctx.saved_tensors
        if total is None:
            total = ctx.total
        g = grad.reshape(-1) if ctx.reduction == "none" else grad
        if ctx.reduction == "mean":
            g = g / total
        # (rows,) or a scalar for all rows; 0 - (g w) keeps an ignored row's 0 a 0, not -0.
        coef = -g if w is None else 0 - g * w
        rows = t.shape[0]
        n_classes = ctx.x_shape[1] if len(ctx.x_shape) >= 2 else ctx.x_shape[0]
        gx = zeros((rows, n_classes), dtype=grad.dtype, device=grad.device)
        gx = Scatter.apply(gx, 1, t.unsqueeze(1), coef.reshape(-1, 1).expand(rows, 1), None)
        if len(ctx.x_shape) > 2:  # undo flatten_classes: (N*d1*..., C) -> (N, C, d1, ...)
            n, c, rest = ctx.x_shape[0], ctx.x_shape[1], ctx.x_shape[2:]
            gx = gx.reshape((n,) + rest + (c,)).movedim(-1, 1)
        else:
            gx = gx.reshape(ctx.x_shape)
        return gx, None, None, None, None, None
