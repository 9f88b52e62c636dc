"""The optimizers' update rules, applied in place to one parameter and its state: `sgd_`,
`adam_`, `rmsprop_`, `adagrad_` (`tinygrad_edu.optim`'s SGD, Adam, AdamW, RMSprop and Adagrad
call them once per parameter and step; book ch. 4.2.1, seed 003 §8.7).

Each rule runs as one fused kernel of the device (`sgd_step`, `adam_step`, `rmsprop_step`,
`adagrad_step` of its kernels module, see docs/primitives.md): a single pass over the
parameter, its gradient and its state. The same rule is also written with tensor ops (the
`*_reference_` functions); that readable version runs when the device has no such kernel or a
tensor is not contiguous, and the tests check both against PyTorch.

Every function takes `fused`: None (the default) runs the kernel where `can_fuse` allows, and
the reference rule otherwise; False always runs the reference rule; True runs the kernel (for a
caller that asked `can_fuse` already). The updates happen under the caller's no_grad, as
parameters are leaves that require grad.

In the formulas, g is the gradient (negated with maximize), p the parameter and lr the learning
rate; every operation is elementwise.
"""
from __future__ import annotations

import math

from tinygrad_edu.ops.elementwise import maximum
from tinygrad_edu.vector import Tensor
from tinygrad_edu.vector import kernels as _device_kernels

__all__ = ["can_fuse", "sgd_", "adam_", "rmsprop_", "adagrad_", "sgd_reference_",
           "adam_reference_", "rmsprop_reference_", "adagrad_reference_"]


# ---------------------------------------------------------------------------------------- helpers


def _flat(t: Tensor):
    """The device array of a contiguous tensor's elements as one flat 1-D array (shared memory)."""
    return t._view().reshape(t.numel())


def _kernel(p: Tensor, rule: str):
    """The device's fused kernel for `rule` ("sgd" -> sgd_step), or None if it has none."""
    return getattr(_device_kernels(p.device), rule + "_step", None)


def can_fuse(rule: str, p: Tensor, grad: Tensor, *state: Tensor | None) -> bool:
    """Whether `rule` ("sgd", "adam", "rmsprop", "adagrad") can run as the device's fused kernel
    on p: the device has one and p and its state (None entries are skipped) are contiguous. A
    non-contiguous grad is fine: it is only read, and copied first.

    The kernel walks all the arrays with one index, unchecked: a state tensor of another shape
    (a state_dict from a different model, a hand-edited state) is refused here with a
    RuntimeError, before it could make the kernel read or write past an array's end.
    """
    for t in (grad,) + state:
        if t is not None and (t._shape != p._shape or t.dtype != p.dtype):
            raise RuntimeError(f"{type(t).__name__} of shape {list(t._shape)} and dtype "
                               f"{t.dtype} in the optimizer's state or gradient does not match "
                               f"its parameter of shape {list(p._shape)} and dtype {p.dtype}")
    if _kernel(p, rule) is None:
        return False
    for t in (p,) + state:
        if t is not None and not t.is_contiguous():
            return False
    return True


def _run_fused(rule: str, fused: bool | None, p: Tensor, grad: Tensor, *state) -> bool:
    """Whether to run the kernel: `fused`, or can_fuse's answer where it is None."""
    return can_fuse(rule, p, grad, *state) if fused is None else fused


def _changed_in_place(p: Tensor) -> None:
    # A kernel wrote into p's memory: bump its version as an in-place op would, so a backward
    # that saved p before this step notices the change.
    p._version[0] += 1


# ---------------------------------------------------------------------------------------- SGD


def sgd_(p: Tensor, grad: Tensor, momentum_buffer: Tensor | None, *, lr: float, momentum: float,
         dampening: float, weight_decay: float, nesterov: bool, maximize: bool, first_step: bool,
         fused: bool | None = None) -> None:
    """One step of stochastic gradient descent, optionally with momentum, in place:

        g = ∇loss (+ weight_decay · p)
        b = g  on the first step,   b = momentum · b + (1 − dampening) · g  after
        p = p − lr · (g + momentum · b)  with Nesterov,   p = p − lr · b  otherwise
        (without momentum: p = p − lr · g)

    `momentum_buffer` is b (updated in place; None without momentum); `first_step` says whether
    b has just been created.
    """
    if not _run_fused("sgd", fused, p, grad, momentum_buffer):
        sgd_reference_(p, grad, momentum_buffer, lr=lr, momentum=momentum, dampening=dampening,
                       weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                       first_step=first_step)
        return
    grad = grad.contiguous()
    buf = momentum_buffer
    _kernel(p, "sgd")(_flat(p), _flat(grad), _flat(buf if buf is not None else grad), lr,
                      momentum, dampening, weight_decay, nesterov, maximize, first_step)
    _changed_in_place(p)


def sgd_reference_(p, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov,
                   maximize, first_step) -> None:
    """SGD's update with tensor ops (the rule in sgd_'s docstring, one op per line)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * p
    buf = momentum_buffer
    if momentum != 0:
        if first_step:
            buf.copy_(g)
        else:
            buf.mul_(momentum).add_(g, alpha=1 - dampening)
        g = g + momentum * buf if nesterov else buf
    p.add_(g, alpha=-lr)


# ---------------------------------------------------------------------------------------- Adam


def adam_(p: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor,
          max_exp_avg_sq: Tensor | None, *, step: float, lr: float, betas: tuple[float, float],
          eps: float, weight_decay: float, amsgrad: bool, maximize: bool,
          decoupled_weight_decay: bool, fused: bool | None = None) -> None:
    """One Adam (or, with decoupled_weight_decay, AdamW) step in place; `step` is t, counted
    from 1:

        g = ∇loss (+ weight_decay · p)            (AdamW instead decays p: p = p · (1 − lr · wd))
        m = β₁ m + (1 − β₁) g                     first moment (the momentum): exp_avg
        v = β₂ v + (1 − β₂) g²                    second moment (the scale of g): exp_avg_sq
        p = p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    The factors 1/(1 − βᵗ) undo the bias towards 0 of moving averages that start at 0; with
    amsgrad the largest v seen so far (max_exp_avg_sq, updated in place) replaces v in the last
    line.
    """
    if not _run_fused("adam", fused, p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq):
        adam_reference_(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr,
                        betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        return
    beta1, beta2 = betas
    grad = grad.contiguous()
    max_sq = max_exp_avg_sq
    _kernel(p, "adam")(_flat(p), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq),
                       _flat(max_sq if max_sq is not None else exp_avg_sq), lr, beta1, beta2,
                       eps, weight_decay, step, amsgrad, maximize, decoupled_weight_decay)
    _changed_in_place(p)


def adam_reference_(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, betas, eps,
                    weight_decay, maximize, decoupled_weight_decay) -> None:
    """Adam's update with tensor ops (the rule in adam_'s docstring; amsgrad where
    max_exp_avg_sq is given)."""
    (beta1, beta2), wd = betas, weight_decay
    g = -grad if maximize else grad
    if wd != 0:
        if decoupled_weight_decay:
            p.mul_(1 - lr * wd)
        else:
            g = g + wd * p
    exp_avg.lerp_(g, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    max_sq = max_exp_avg_sq
    if max_sq is not None:
        max_sq.copy_(maximum(max_sq, exp_avg_sq))
        second = max_sq
    else:
        second = exp_avg_sq
    denom = second.sqrt() / math.sqrt(1 - beta2 ** step) + eps
    p.addcdiv_(exp_avg, denom, value=-lr / (1 - beta1 ** step))


# ---------------------------------------------------------------------------------------- RMSprop


def rmsprop_(p: Tensor, grad: Tensor, square_avg: Tensor, grad_avg: Tensor | None,
             momentum_buffer: Tensor | None, *, lr: float, alpha: float, eps: float,
             weight_decay: float, momentum: float, centered: bool, maximize: bool,
             fused: bool | None = None) -> None:
    """One RMSprop step in place: divide the gradient by a running root-mean-square of recent
    gradients.

        g = ∇loss (+ weight_decay · p)
        s = α s + (1 − α) g²                                          s: square_avg
        a = √(s − ḡ²) + eps  with centered (ḡ = α ḡ + (1 − α) g),   a = √s + eps  otherwise
        p = p − lr · g / a     (with momentum: b = momentum · b + g / a;  p = p − lr · b)

    grad_avg (ḡ) is given when centered, momentum_buffer (b) when momentum > 0; None otherwise.
    """
    buf = momentum_buffer
    if not _run_fused("rmsprop", fused, p, grad, square_avg, grad_avg, buf):
        rmsprop_reference_(p, grad, square_avg, grad_avg, buf, lr=lr, alpha=alpha, eps=eps,
                           weight_decay=weight_decay, momentum=momentum, maximize=maximize)
        return
    grad = grad.contiguous()
    unused = _flat(square_avg)  # any array of the dtype: the kernel does not touch it
    _kernel(p, "rmsprop")(_flat(p), _flat(grad), _flat(square_avg),
                          _flat(grad_avg) if grad_avg is not None else unused,
                          _flat(buf) if buf is not None else unused, lr, alpha, eps,
                          weight_decay, momentum, centered, maximize)
    _changed_in_place(p)


def rmsprop_reference_(p, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps,
                       weight_decay, momentum, maximize) -> None:
    """RMSprop's update with tensor ops (the rule in rmsprop_'s docstring; centered where
    grad_avg is given, with momentum where momentum_buffer is)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * p
    square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
    if grad_avg is not None:
        grad_avg.lerp_(g, 1 - alpha)
        avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt() + eps
    else:
        avg = square_avg.sqrt() + eps
    buf = momentum_buffer
    if buf is not None:
        buf.mul_(momentum).addcdiv_(g, avg)
        p.add_(buf, alpha=-lr)
    else:
        p.addcdiv_(g, avg, value=-lr)


# ---------------------------------------------------------------------------------------- Adagrad


def adagrad_(p: Tensor, grad: Tensor, state_sum: Tensor, *, step: float, lr: float,
             lr_decay: float, eps: float, weight_decay: float, maximize: bool,
             fused: bool | None = None) -> None:
    """One Adagrad step in place: each element's step shrinks with the sum of its squared
    gradients so far; `step` is t, counted from 1.

        g = ∇loss (+ weight_decay · p)
        S = S + g²                          (S: state_sum, starts at initial_accumulator_value)
        p = p − lr / (1 + (t − 1) · lr_decay) · g / (√S + eps)
    """
    if not _run_fused("adagrad", fused, p, grad, state_sum):
        adagrad_reference_(p, grad, state_sum, step=step, lr=lr, lr_decay=lr_decay, eps=eps,
                           weight_decay=weight_decay, maximize=maximize)
        return
    grad = grad.contiguous()
    _kernel(p, "adagrad")(_flat(p), _flat(grad), _flat(state_sum), lr, lr_decay, eps,
                          weight_decay, step, maximize)
    _changed_in_place(p)


def adagrad_reference_(p, grad, state_sum, *, step, lr, lr_decay, eps, weight_decay,
                       maximize) -> None:
    """Adagrad's update with tensor ops (the rule in adagrad_'s docstring)."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * p
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum.addcmul_(g, g, value=1)
    p.addcdiv_(g, state_sum.sqrt() + eps, value=-clr)
