"""`torch.optim.optimizer`: the Optimizer base class, which holds parameter groups and state.

An optimizer keeps its parameters in groups (each a dict with "params" and its options, such
as lr), its per-parameter state (momentum buffers, step counts) in `state`, and can save and
restore both (`state_dict`, `load_state_dict`). The update rules themselves are the
subclasses' `step` (optim/__init__.py), written with ops/updates.py.
"""
from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from typing import Any, Callable

from tinygrad_edu.autograd.engine import _zero_grads
from tinygrad_edu.autograd.grad_mode import no_grad
from tinygrad_edu.vector import Tensor
import tinygrad_edu as _torch


class _RequiredParameter:
    """The default of an option that every parameter group must set itself (e.g. a missing lr)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()



def _check_lr(lr) -> None:
    if lr is required:
        return  # each parameter group must then set its own lr
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if lr < 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")




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
