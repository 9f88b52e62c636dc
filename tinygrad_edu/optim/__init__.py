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

import copy
import warnings
from collections import defaultdict
from typing import Any, Callable

import tinygrad_edu as _torch
from tinygrad_edu.ops import updates
from tinygrad_edu.vector import Tensor, _zero_grads, no_grad

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]


class _RequiredParameter:
    """The default of an option that every parameter group must set itself (e.g. a missing lr)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


# ---------------------------------------------------------------------------------------- helpers


def _fused_kernel(p: Tensor, rule: str, grad: Tensor, *state: Tensor | None) -> bool:
    """Whether `rule`'s update runs as the device's fused kernel on p (else the tensor-op
    reference rule runs): `ops.updates.can_fuse`, which also refuses state of the wrong shape.
    The tests patch this name (to `lambda *args: None`) to check the reference rules."""
    return updates.can_fuse(rule, p, grad, *state)


def _check_lr(lr) -> None:
    if lr is required:
        return  # each parameter group must then set its own lr
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")


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


# ---------------------------------------------------------------------------------------- Optimizer


class Optimizer:
    """Base class of all optimizers.

    `params` is an iterable of tensors, or of dicts (parameter groups) each holding "params" and
    any options that should differ from `defaults` for that group:

        SGD([{"params": model.base.parameters()},
             {"params": model.head.parameters(), "lr": 1e-3}], lr=1e-2, momentum=0.9)

    Subclasses implement `step`; `state[p]` holds the per-parameter memory of the update rule.
    """

    def __init__(self, params, defaults: dict[str, Any]):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._step_pre_hooks: dict[int, Callable] = {}
        self._step_post_hooks: dict[int, Callable] = {}
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # -- parameter groups --------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own options) to optimize from now on."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. Please "
                            "use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param "
                                 "names are missing")
            param_group["param_names"] = names
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{_typename(p)}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(params) != len({id(p) for p in params}):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set each `p.grad` to None (default) or fill it with zeros."""
        _zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    # -- stepping ----------------------------------------------------------------------------
    def step(self, closure: Callable | None = None):
        """Update every parameter that has a gradient; `closure` re-evaluates and returns the loss."""
        for hook in list(self._step_pre_hooks.values()):
            hook(self, (), {})
        loss = None
        if closure is not None:
            with _torch.enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, p.grad, group, self.state[p])
        for hook in list(self._step_post_hooks.values()):
            hook(self, (), {})
        return loss

    def _update(self, p: Tensor, grad: Tensor, group: dict, state: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update (or step)")

    def register_step_pre_hook(self, hook: Callable):
        """`hook(optimizer, args, kwargs)` runs before every step; returns a removable handle."""
        return _Handle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable):
        """`hook(optimizer, args, kwargs)` runs after every step; returns a removable handle."""
        return _Handle(self._step_post_hooks, hook)

    # -- checkpoints -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}.

        Parameters are numbered by their position across the groups, as PyTorch does, so the
        dict can be saved and loaded into an optimizer over a fresh copy of the same model.
        """
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index_of[id(p)]: s for p, s in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict` returned: options of each group and the per-parameter state."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict or \
                "state" not in state_dict:
            raise ValueError("expected an optimizer state_dict with 'state' and 'param_groups' "
                             f"keys, got {type(state_dict).__name__}")
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for group, saved in zip(self.param_groups, saved_groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        param_of = {}
        for group, saved in zip(self.param_groups, saved_groups):
            param_of.update(zip(saved["params"], group["params"]))
        self.state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            if index not in param_of:
                continue  # PyTorch ignores state of parameters it does not know, too
            p = param_of[index]
            self.state[p] = {k: _state_value_for(p, index, k, v) for k, v in values.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            group.clear()
            group.update(saved)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_step_pre_hooks", {})
        self.__dict__.setdefault("_step_post_hooks", {})

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines += ([""] if i else []) + [f"Parameter Group {i}"]  # groups apart, as PyTorch
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _state_value_for(p: Tensor, index, key: str, value):
    """A loaded state entry, copied onto p's device and (for floats other than 'step') p's dtype."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if key == "step":
        return value.detach().clone()
    if value.shape != p.shape:
        raise ValueError(f"loaded state dict: state[{index!r}][{key!r}] has shape "
                         f"{list(value.shape)} but its parameter has shape {list(p.shape)}")
    if value.is_floating_point():
        return value.detach().to(dtype=p.dtype, device=p.device).clone()
    return value.detach().to(device=p.device).clone()


def _typename(obj) -> str:
    """How PyTorch names a type in its messages: 'torch.FloatTensor', 'float', 'mymodule.Net'."""
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class _Handle:
    """A removable hook registration."""

    _next_id = 0

    def __init__(self, hooks: dict, hook: Callable):
        self.hooks, self.id = hooks, _Handle._next_id
        _Handle._next_id += 1
        hooks[self.id] = hook

    def remove(self) -> None:
        self.hooks.pop(self.id, None)


# ---------------------------------------------------------------------------------------- SGD


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
