"""Grad mode: whether ops record the graph. `no_grad()` (evaluation, optimizer updates) turns it
off, `enable_grad()` back on; both work as context managers and as decorators.
"""
from __future__ import annotations

import builtins
from typing import Callable


_grad_enabled = [True]  # a list so that the hot path reads it without a `global` statement


def is_grad_enabled() -> bool:
    return _grad_enabled[0]


class _GradMode:
    """Base of the grad-mode switches: a context manager and a function decorator."""

    mode = True

    def __enter__(self):
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = self.mode

    def __exit__(self, *exc) -> None:
        _grad_enabled[0] = self._prev

    def __call__(self, fn: Callable) -> Callable:
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Inside `with no_grad():` ops record no graph (for updates and evaluation)."""

    mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a `no_grad` region."""

    mode = True


class inference_mode(no_grad):
    """Like `no_grad` (tinygrad_edu has no separate inference tensors)."""

    def __init__(self, mode: bool = True):
        self.mode = not mode


class set_grad_enabled(_GradMode):
    """`set_grad_enabled(False)` switches recording off: as a call, or for a `with` block."""

    def __init__(self, mode: bool):
        self.mode = builtins.bool(mode)
        self._prev = _grad_enabled[0]
        _grad_enabled[0] = self.mode

    def __enter__(self):
        pass  # already switched by __init__, as torch does

    def __call__(self, fn: Callable) -> Callable:
        _grad_enabled[0] = self._prev
        mode = self.mode

        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper
