"""Optimizers: the rules that turn gradients into parameter updates (book ch. 4.2.1, seed 003 §8.7).

Every optimizer holds the parameters it updates in *parameter groups* (a list of dicts: the
tensors under "params" plus that group's options, e.g. its own "lr"), and a per-parameter `state`
dict for what the rule remembers between steps (Adam's moving averages, SGD's momentum buffer).
`zero_grad()` clears the gradients, `step()` applies one update:

    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

The optimizers keep the groups, the options and the state; the update rules themselves are the
op functions of `tinygrad_edu.ops.updates` (`sgd_`, `adam_`, `rmsprop_`, `adagrad_`), each one
fused kernel per parameter and step where the device has it (a single pass over the parameter,
its gradient and its state), and the same rule written with tensor ops where it has not or a
tensor is not contiguous; the tests check both against PyTorch.
"""
from __future__ import annotations

import tinygrad_edu as _torch
from tinygrad_edu.ops import updates
from tinygrad_edu.optim.optimizer import Optimizer, _check_lr, required  # noqa: F401 (public)
from tinygrad_edu.vector import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]


# ---------------------------------------------------------------------------------------- helpers


def _fused_kernel(p: Tensor, rule: str, grad: Tensor, *state: Tensor | None) -> bool:
    """Whether `rule`'s update runs as the device's fused kernel on p (else the tensor-op
    reference rule runs): `ops.updates.can_fuse`, which also refuses state of the wrong shape.
    The tests patch this name (to `lambda *args: None`) to check the reference rules."""
    return updates.can_fuse(rule, p, grad, *state)



def _unsupported(name: str, value, default) -> None:
    if value != default:
        raise NotImplementedError(f"tinygrad_edu optimizers do not offer {name}={value!r}")


def _zero_step() -> Tensor:
    """A fresh step counter: a 0-d float32 tensor, as PyTorch keeps state['step']."""
    return _torch.tensor(0.0, dtype=_torch.float32)


def _advance(step: Tensor) -> float:
    """Add one to a step counter and return its new value as a Python float."""
    step.add_(1)
    return step.item()


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (book ch. 4.2.1, seed 003 §8.7.2).

        g = ∇loss (+ weight_decay · p)
        b = g                      on the first step,   b = momentum · b + (1 − dampening) · g  after
        p = p − lr · (g + momentum · b)   with Nesterov,   p = p − lr · b   otherwise
        (without momentum: p = p − lr · g)
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None):
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _unsupported("differentiable", differentiable, False)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        momentum = group["momentum"]
        buf = state.get("momentum_buffer")
        first = buf is None
        if momentum != 0 and first:
            buf = state["momentum_buffer"] = _torch.zeros_like(p)
        updates.sgd_(p, grad, buf, lr=group["lr"], momentum=momentum,
                     dampening=group["dampening"], weight_decay=group["weight_decay"],
                     nesterov=group["nesterov"], maximize=group["maximize"], first_step=first,
                     fused=bool(_fused_kernel(p, "sgd", grad, buf)))


# ---------------------------------------------------------------------------------------- Adam


class Adam(Optimizer):
    """Adam: momentum on the gradient and a per-element step size from its running variance.

        g = ∇loss (+ weight_decay · p)            (AdamW instead decays p: p = p · (1 − lr · wd))
        m = β₁ m + (1 − β₁) g                     first moment (the momentum)
        v = β₂ v + (1 − β₂) g²                    second moment (the scale of g)
        p = p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    The factors 1/(1 − βᵗ) undo the bias towards 0 of moving averages that start at 0; with
    `amsgrad` the largest v seen so far replaces v in the last line.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _unsupported("capturable", capturable, False)
        _unsupported("differentiable", differentiable, False)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = _zero_step()
            state["exp_avg"] = _torch.zeros_like(p)
            state["exp_avg_sq"] = _torch.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _torch.zeros_like(p)
        step = _advance(state["step"])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        max_sq = state.get("max_exp_avg_sq") if group["amsgrad"] else None
        updates.adam_(p, grad, exp_avg, exp_avg_sq, max_sq, step=step, lr=group["lr"],
                      betas=group["betas"], eps=group["eps"], weight_decay=group["weight_decay"],
                      amsgrad=group["amsgrad"], maximize=group["maximize"],
                      decoupled_weight_decay=group["decoupled_weight_decay"],
                      fused=bool(_fused_kernel(p, "adam", grad, exp_avg, exp_avg_sq, max_sq)))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p = p · (1 − lr · weight_decay)
    before the Adam step, instead of adding weight_decay · p to the gradient."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)


# ---------------------------------------------------------------------------------------- RMSprop


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

        g = ∇loss (+ weight_decay · p)
        s = α s + (1 − α) g²
        a = √(s − ḡ²) + eps  with centered (ḡ = α ḡ + (1 − α) g),   a = √s + eps  otherwise
        p = p − lr · g / a     (with momentum: b = momentum · b + g / a;  p = p − lr · b)
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _unsupported("capturable", capturable, False)
        _unsupported("differentiable", differentiable, False)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, p, grad, group, state):
        if not state:
            state["step"] = _zero_step()
            state["square_avg"] = _torch.zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = _torch.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = _torch.zeros_like(p)
        _advance(state["step"])
        square_avg = state["square_avg"]
        grad_avg = state.get("grad_avg") if group["centered"] else None
        buf = state.get("momentum_buffer") if group["momentum"] > 0 else None
        updates.rmsprop_(p, grad, square_avg, grad_avg, buf, lr=group["lr"],
                         alpha=group["alpha"], eps=group["eps"],
                         weight_decay=group["weight_decay"], momentum=group["momentum"],
                         centered=group["centered"], maximize=group["maximize"],
                         fused=bool(_fused_kernel(p, "rmsprop", grad, square_avg, grad_avg,
                                                  buf)))


# ---------------------------------------------------------------------------------------- Adagrad


class Adagrad(Optimizer):
    """Adagrad: each element's step shrinks with the sum of its squared gradients so far.

        g = ∇loss (+ weight_decay · p)
        S = S + g²                          (S starts at initial_accumulator_value)
        p = p − lr / (1 + (t − 1) · lr_decay) · g / (√S + eps)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _unsupported("differentiable", differentiable, False)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        # Adagrad's state exists from the start, as in PyTorch: the accumulator has a start value.
        for p in param_group["params"]:
            self._init_state(p, param_group)

    def _init_state(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = _zero_step()
            state["sum"] = _torch.full_like(p, group["initial_accumulator_value"])

    def _update(self, p, grad, group, state):
        self._init_state(p, group)
        step = _advance(state["step"])
        state_sum = state["sum"]
        updates.adagrad_(p, grad, state_sum, step=step, lr=group["lr"],
                         lr_decay=group["lr_decay"], eps=group["eps"],
                         weight_decay=group["weight_decay"], maximize=group["maximize"],
                         fused=bool(_fused_kernel(p, "adagrad", grad, state_sum)))


from tinygrad_edu.optim import lr_scheduler  # noqa: E402  (needs Optimizer above)
