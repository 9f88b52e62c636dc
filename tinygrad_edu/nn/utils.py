"""`nn.utils`: gradient clipping, and parameters as one flat vector."""
from __future__ import annotations

import math
from typing import Iterable

import tinygrad_edu as tg
from tinygrad_edu.vector import Tensor


def _as_list(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so that their combined norm is at most `max_norm`.

    total = || (||g_1||, ||g_2||, ...) ||  (the norm of all gradients as one vector);
    every g_i is multiplied by min(1, max_norm / (total + 1e-6)). Returns total.
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not grads:
        return tg.tensor(0.0)
    with tg.no_grad():
        if norm_type == math.inf:
            norms = [g.abs().max() for g in grads]
            total = norms[0] if len(norms) == 1 else tg.stack(norms).max()
        else:
            norms = tg.stack([g.norm(norm_type) for g in grads])
            total = norms.norm(norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                               "`parameters` is non-finite, so it cannot be clipped. To disable "
                               "this error and scale the gradients by the non-finite norm "
                               "anyway, set `error_if_nonfinite=False`")
        # min(1, max_norm / total) computed on the gradients' device: no transfer per step
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    with tg.no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor."""
    return tg.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of `vec` into the parameters (the inverse of the above)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    offset = 0
    with tg.no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(p.shape))
            offset += n
