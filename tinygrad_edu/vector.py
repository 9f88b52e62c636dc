"""Tensors: dtypes, devices, storage and views, and the autograd engine.

A `Tensor` is a *view* of a `Storage`, the flat one-dimensional buffer that really holds the
numbers (book ch. 2.7). Four things locate a tensor's elements in its storage:

    storage, offset, shape, strides      element [i, j] lives at storage[offset + i*strides[0] + j*strides[1]]

so transposing, slicing, unsqueezing or expanding only computes a new (offset, shape, strides)
triple over the same storage: nothing is copied. `contiguous()` copies when the strides are not
the row-major ones.

Autograd (book ch. 5, seed 003 §8.3): every differentiable op is a `Function` with a `forward`
and a `backward`. Applying one to tensors that require gradients records a node (the result's
`grad_fn`) whose `next_functions` point at the nodes of the inputs; leaves end in
`AccumulateGrad`. `backward()` walks this graph from the output, leaves first last, calling each
node's backward once all of its consumers have contributed: nodes are numbered as they are made,
and running them from the newest down is a topological order (found without recursion, so a
100 000-op chain works).

This module knows devices only through the primitive interface (docs/primitives.md): it asks the
kernels module of a tensor's device for arrays, copies and fills, never for anything else.
"""
from __future__ import annotations

import builtins
import importlib
import itertools
import math
import operator
import sys
import warnings
import weakref
from typing import Any, Callable, Sequence

import numpy as np

# ---------------------------------------------------------------------------------------- dtypes


class dtype:
    """A tensor element type: float32, float64, int64, int32, int16, uint8 or bool.

    `category` orders the kinds for type promotion (bool < integer < floating point); `rank` orders
    the types within a kind.
    """

    __slots__ = ("name", "np_dtype", "category", "rank", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name: str, np_dtype: type, category: int, rank: int):
        self.name = name
        self.np_dtype = np.dtype(np_dtype)
        self.category = category
        self.rank = rank
        self.is_floating_point = category == FLOATING
        self.is_signed = name not in ("bool", "uint8")
        self.itemsize = self.np_dtype.itemsize

    @property
    def is_complex(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "torch." + self.name

    def __reduce__(self):  # dtypes are singletons, also through copy/deepcopy
        return self.name


BOOL, INTEGER, FLOATING = 0, 1, 2
bool_ = dtype("bool", np.bool_, BOOL, 0)
uint8 = dtype("uint8", np.uint8, INTEGER, 1)
int16 = dtype("int16", np.int16, INTEGER, 2)
int32 = dtype("int32", np.int32, INTEGER, 3)
int64 = dtype("int64", np.int64, INTEGER, 4)
float32 = dtype("float32", np.float32, FLOATING, 5)
float64 = dtype("float64", np.float64, FLOATING, 6)
ALL_DTYPES = (float32, float64, int64, int32, int16, uint8, bool_)
_DTYPE_OF_NUMPY = {d.np_dtype: d for d in ALL_DTYPES}
_DTYPE_OF_NAME = {d.name: d for d in ALL_DTYPES}
_DTYPE_OF_NAME.update(float=float32, double=float64, long=int64, int=int32, short=int16,
                      byte=uint8)
# The legacy type names that `Tensor.type()` prints, as PyTorch does.
_LEGACY_NAME = {float32: "FloatTensor", float64: "DoubleTensor", int64: "LongTensor",
                int32: "IntTensor", int16: "ShortTensor", uint8: "ByteTensor", bool_: "BoolTensor"}
_DTYPE_OF_LEGACY = {v: k for k, v in _LEGACY_NAME.items()}

_default_dtype = [float32]


def get_default_dtype() -> dtype:
    """The dtype of floating-point tensors made from Python floats (float32 unless changed)."""
    return _default_dtype[0]


def set_default_dtype(d: dtype) -> None:
    """Make `d` (float32 or float64) the type of new floating-point tensors."""
    if d not in (float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype[0] = d


def as_dtype(d: Any) -> dtype:
    """`d` as one of our dtypes: a dtype, a numpy dtype or type, or a name such as "float32"."""
    if isinstance(d, dtype):
        return d
    if d is builtins.float:
        return float64  # as torch: dtype=float means double
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool_
    if isinstance(d, str):
        name = d.removeprefix("torch.")
        if name in _DTYPE_OF_NAME:
            return _DTYPE_OF_NAME[name]
    else:
        try:
            npd = np.dtype(d)
        except TypeError:
            npd = None
        if npd in _DTYPE_OF_NUMPY:
            return _DTYPE_OF_NUMPY[npd]
    supported = ", ".join(x.name for x in ALL_DTYPES)
    raise TypeError(f"unsupported dtype {d!r}: tinygrad_edu supports {supported}")


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both `a` and `b` convert to without losing their kind: bool < int < float."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    return a if a.rank >= b.rank else b


def _scalar_dtype(x: Any) -> dtype:
    """The dtype a Python number gets when it meets a tensor (a "wrapped number")."""
    if isinstance(x, (builtins.bool, np.bool_)):
        return bool_
    if isinstance(x, (builtins.int, np.integer)):
        return int64
    if isinstance(x, (builtins.float, np.floating)):
        return _default_dtype[0]
    raise TypeError(f"expected a Tensor or a Python number, got {type(x).__name__}")


def result_type(*operands: Any) -> dtype:
    """The dtype of an op's result, by PyTorch's three-tier promotion.

    Tensors with dimensions decide first; zero-dimensional tensors and then Python numbers only
    matter when they are of a higher *kind* (bool < int < float): `int_tensor * 2.5` is float32,
    but `float32_tensor * float64_scalar_tensor` stays float32.
    """
    if len(operands) == 2:  # fast paths for the common binary cases
        a, b = operands
        if isinstance(a, Tensor):
            da = a._storage.dtype
            if isinstance(b, Tensor):
                if b._storage.dtype is da:
                    return da
            elif da.category == FLOATING and isinstance(b, (builtins.float, builtins.int)) \
                    and not isinstance(b, builtins.bool):
                return da
    dims = zero = wrapped = None
    for x in operands:
        if isinstance(x, Tensor):
            if x._shape:
                dims = x.dtype if dims is None else promote_types(dims, x.dtype)
            else:
                zero = x.dtype if zero is None else promote_types(zero, x.dtype)
        else:
            d = _scalar_dtype(x)
            wrapped = d if wrapped is None else promote_types(wrapped, d)
    return _combine_categories(dims, _combine_categories(zero, wrapped))


def _combine_categories(higher: dtype | None, lower: dtype | None) -> dtype | None:
    if higher is None:
        return lower
    if lower is None or higher.category == FLOATING:
        return higher
    if higher.category == BOOL or lower.category > higher.category:
        return promote_types(higher, lower)
    return higher


# ---------------------------------------------------------------------------------------- Size


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as `torch.Size([2, 3])`."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if isinstance(key, slice) else item

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))


# ---------------------------------------------------------------------------------------- devices


class device:
    """Where a tensor's storage lives: `device("cpu")`, `device("cuda")`, `device("cuda:0")`."""

    __slots__ = ("type", "index")
    TYPES = ("cpu", "cuda")

    def __init__(self, type: "str | device", index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, str) and ":" in type:
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in self.TYPES:
            raise RuntimeError("Expected one of cpu, cuda device type at start of device string: "
                               f"{type}")
        if type == "cpu":
            index = None
        elif index is None:
            index = 0
        self.type, self.index = type, index

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")
_KERNEL_MODULES = {"cpu": "tinygrad_edu.kernels_cpu", "cuda": "tinygrad_edu.kernels_cuda"}
_kernels_cache: dict[str, Any] = {}


def as_device(d: Any) -> device:
    if d is None:
        return CPU
    if isinstance(d, device):
        return d
    if isinstance(d, builtins.int):
        return device("cuda", d)
    return device(d)


def kernels(dev: device):
    """The kernels module implementing the primitives for `dev` (imported on first use)."""
    mod = _kernels_cache.get(dev.type)  # dev.type, not dev: all CUDA devices share the code
    if mod is None or dev.index:         # dev.index: a CUDA device other than 0
        mod = _load_kernels(dev)
    return mod


def _load_kernels(dev: device):
    """Import the kernels of `dev`'s type; a CUDA device must exist and be device 0, where the
    CUDA kernels run (several GPUs at once are beyond this framework)."""
    mod = _kernels_cache.get(dev.type) or importlib.import_module(_KERNEL_MODULES[dev.type])
    _kernels_cache[dev.type] = mod
    if dev.index:
        count = len(importlib.import_module("numba.cuda").gpus)  # (loading CUDA kernels worked)
        if dev.index >= count:
            raise RuntimeError(f"CUDA error: invalid device ordinal: {dev} was asked for, but "
                               f"there {'is' if count == 1 else 'are'} {count} CUDA "
                               f"device{'' if count == 1 else 's'}")
        raise NotImplementedError(f"tinygrad_edu runs CUDA kernels on device cuda:0 only; "
                                  f"got {dev}")
    return mod


# ---------------------------------------------------------------------------------------- storage


class Storage:
    """The flat one-dimensional buffer of numbers that tensors view.

    Several tensors can share one storage (a tensor and its transpose, a slice, `from_numpy`'s
    array): changing an element through one changes it for all.
    """

    __slots__ = ("_data", "dtype", "device", "_kernels")

    def __init__(self, data, dtype: dtype, dev: device = CPU, kernels_module=None):
        self._data = data  # a 1-D array of the device: numpy on the CPU
        self.dtype = dtype
        self.device = dev
        # the primitives that work on this storage
        self._kernels = kernels_module or kernels(dev)

    def size(self) -> int:
        return self._data.shape[0]

    __len__ = size

    def nbytes(self) -> int:
        return self.size() * self.dtype.itemsize

    def element_size(self) -> int:
        return self.dtype.itemsize

    def data_ptr(self) -> int:
        host = kernels(self.device).to_numpy(self._data) if self.device.type == "cpu" else None
        return host.ctypes.data if host is not None else id(self._data)

    def _host(self) -> np.ndarray:
        return kernels(self.device).to_numpy(self._data)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._host()[i].tolist()
        n = self.size()
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for storage of size {n}")
        return self._host()[i].item()

    def __setitem__(self, i, value) -> None:
        n = self.size()
        if isinstance(i, builtins.int) and not -n <= i < n:
            raise IndexError(f"index {i} out of range for storage of size {n}")
        if self.device.type == "cpu":
            self._data[i] = value
        else:
            host = self._host()
            host[i] = value
            kernels(self.device).copy(kernels(self.device).from_numpy(host), self._data)

    def __iter__(self):
        return iter(self.tolist())

    def tolist(self) -> list:
        return self._host().tolist()

    def __repr__(self) -> str:
        body = "\n".join(f" {v}" for v in self.tolist())
        footer = (f"[torch.storage.TypedStorage(dtype={self.dtype}, device={self.device}) "
                  f"of size {self.size()}]")
        return f"{body}\n{footer}" if body else footer


def contiguous_strides(shape: Sequence[int]) -> tuple[int, ...]:
    """Row-major strides: the last dimension moves by 1, each earlier one by the product after it."""
    strides = _strides_seen.get(shape)
    if strides is None:
        acc, out = 1, []
        for n in reversed(shape):
            out.append(acc)
            acc *= builtins.max(n, 1)
        strides = tuple(reversed(out))
        if len(_strides_seen) < 4096:  # shapes repeat every training step: remember them
            _strides_seen[tuple(shape)] = strides
    return strides


_strides_seen: dict = {}


# ---------------------------------------------------------------------------------------- grad mode

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


# ---------------------------------------------------------------------------------------- graph nodes

_sequence = itertools.count()


class RemovableHandle:
    """What `register_hook` returns: `handle.remove()` takes the hook out again."""

    _ids = itertools.count()

    def __init__(self, hooks: dict):
        self._hooks_ref = weakref.ref(hooks) if _weakrefable(hooks) else (lambda: hooks)
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        hooks = self._hooks_ref()
        if hooks is not None:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class _HookDict(dict):
    """A dict that a weak reference can point at (plain dicts cannot)."""


def _weakrefable(obj) -> bool:
    try:
        weakref.ref(obj)
        return True
    except TypeError:
        return False


class Node:
    """A vertex of the backward graph: one op's derivative, reached through a tensor's `grad_fn`.

    `next_functions` holds one `(node, output_nr)` pair per differentiable input: the node that
    produced that input (or its `AccumulateGrad` if it is a leaf), or `(None, 0)` when the input
    needs no gradient.
    """

    __slots__ = ("next_functions", "_seq", "__dict__", "__weakref__")
    # Rarely set, so class-level defaults: a node pays for hooks only when it has some.
    _pre_hooks = _post_hooks = _tensor_hooks = _retain = _metadata = None

    def __init__(self):
        self.next_functions: tuple = ()
        self._seq = next(_sequence)  # later nodes run first, as in PyTorch's engine

    @property
    def metadata(self) -> dict:
        """A dict for users' own notes about this node."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    # -- hooks -------------------------------------------------------------------------------
    def register_hook(self, fn: Callable) -> RemovableHandle:
        """`fn(grad_inputs, grad_outputs)` runs after this node computed its input gradients."""
        if self._post_hooks is None:
            self._post_hooks = _HookDict()
        handle = RemovableHandle(self._post_hooks)
        self._post_hooks[handle.id] = fn
        return handle

    def register_prehook(self, fn: Callable) -> RemovableHandle:
        """`fn(grad_outputs)` runs before this node; it may return replacement gradients."""
        if self._pre_hooks is None:
            self._pre_hooks = _HookDict()
        handle = RemovableHandle(self._pre_hooks)
        self._pre_hooks[handle.id] = fn
        return handle

    def _add_tensor_hook(self, output_nr: int, fn: Callable) -> RemovableHandle:
        if self._tensor_hooks is None:
            self._tensor_hooks = {}
        hooks = self._tensor_hooks.setdefault(output_nr, _HookDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    # -- running -----------------------------------------------------------------------------
    def _run(self, grads: list) -> tuple:
        """Hooks around `apply`: tensor hooks and pre-hooks may replace incoming gradients."""
        if self._tensor_hooks:
            for nr, hooks in self._tensor_hooks.items():
                if grads[nr] is not None:
                    grads[nr] = _run_tensor_hooks(hooks, grads[nr])
        if self._retain:
            for nr, ref in self._retain.items():
                t = ref()
                if t is not None and grads[nr] is not None:
                    g = grads[nr].detach()
                    t._grad = g.clone() if t._grad is None else t._grad + g
        if self._pre_hooks:
            for fn in list(self._pre_hooks.values()):
                new = fn(tuple(grads))
                if new is not None:
                    grads = list(new)
        grad_inputs = self.apply(*grads)
        if self._post_hooks:
            for fn in list(self._post_hooks.values()):
                new = fn(grad_inputs, tuple(grads))
                if new is not None:
                    grad_inputs = tuple(new)
        return grad_inputs

    def __call__(self, *grads):
        return self.apply(*grads)

    def apply(self, *grads) -> tuple:
        raise NotImplementedError

    def _release(self) -> None:
        """Free what this node saved for backward (called after backward without retain_graph)."""

    @property
    def _n_outputs(self) -> int:
        return 1


def _run_tensor_hooks(hooks: dict, grad: "Tensor") -> "Tensor":
    """Run a tensor's hooks in order; each may return a replacement gradient, which must keep
    the gradient's shape (it is the gradient of that tensor)."""
    for fn in list(hooks.values()):
        new = fn(grad)
        if new is not None:
            if not isinstance(new, Tensor) or new._shape != grad._shape:
                raise RuntimeError(f"hook '{getattr(fn, '__name__', fn)}' has changed the size "
                                   "of value")
            grad = new
    return grad


class AccumulateGrad(Node):
    """The node at a leaf: adds the incoming gradient into `variable.grad`."""

    __slots__ = ("variable",)

    def __init__(self, variable: "Tensor"):
        super().__init__()
        self.variable = variable
        self._seq = -1  # leaves run after everything that feeds them

    def apply(self, grad):
        var = self.variable
        if var._hooks:
            grad = _run_tensor_hooks(var._hooks, grad)
        if _grad_enabled[0]:  # create_graph: the gradient itself stays differentiable
            var._grad = grad if var._grad is None else var._grad + grad
        elif var._grad is None:
            var._grad = grad if _can_steal(grad, var) else \
                grad.detach().clone(memory_format=contiguous_format)
        else:
            var._grad.add_(grad)
        if var._post_accumulate_hooks:
            for fn in list(var._post_accumulate_hooks.values()):
                fn(var)
        return ()


# References to an incoming gradient that exist anyway while AccumulateGrad looks at it: the
# engine's input buffer list, the argument tuple of apply, apply's and _can_steal's parameters,
# and getrefcount's own argument.
_ENGINE_REFS = 5


def _can_steal(grad: "Tensor", var: "Tensor") -> bool:
    """May `grad` become `var.grad` as it is, without a copy? Only if nothing else can see it
    (as PyTorch's AccumulateGrad keeps a gradient whose use count is 1): a contiguous tensor
    covering its whole storage, whose object, storage and view base nobody else references."""
    if not (type(grad) is Tensor and grad.grad_fn is None and grad._shape == var._shape
            and grad._storage.dtype is var._storage.dtype and grad._offset == 0
            and grad.is_contiguous() and grad._storage.size() == grad.numel()
            and sys.getrefcount(grad) <= _ENGINE_REFS):
        return False
    holders = 2  # grad's own slot, and getrefcount's argument
    if grad._base is not None:  # e.g. the transpose of a fresh matmul result
        if sys.getrefcount(grad._base) > 2:
            return False
        holders += 1
    if sys.getrefcount(grad._storage) > holders:
        return False
    grad._base = grad._view_version = None  # its base was reachable only through it
    return True


def _edge(t: "Tensor") -> tuple:
    """The `(node, output_nr)` pair through which gradient reaches tensor `t`."""
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    acc = t._grad_acc
    if acc is None:
        acc = t._grad_acc = AccumulateGrad(t)
    return (acc, 0)


class BackwardNode(Node):
    """The node a `Function` records; it is also the `ctx` that forward and backward share."""

    __slots__ = ("_saved", "_saved_versions", "needs_input_grad", "_input_slots",
                 "_inputs_meta", "_outputs_meta", "_n_args", "_tracking")
    _forward_cls: type = None  # the Function subclass whose backward this node runs
    # Defaults that only some Functions change (mark_dirty, set_materialize_grads, ...).
    _freed = False
    _non_differentiable = _dirty = ()
    materialize_grads = True
    # {position in _saved: output number} for saved tensors that are this node's own outputs
    # (see _unlink_saved_outputs); None when it saved none
    _saved_output_nrs = None

    def __init__(self):
        self.next_functions = ()
        self._seq = next(_sequence)
        self._saved = self._saved_versions = ()
        self._input_slots = self._inputs_meta = self._outputs_meta = ()
        self._n_args = 0
        self._tracking = False

    # -- the ctx API -------------------------------------------------------------------------
    def save_for_backward(self, *tensors: "Tensor | None") -> None:
        """Keep `tensors` for backward; an in-place change to one of them later is an error."""
        if self._tracking:
            self._saved = tensors
            self._saved_versions = tuple([t._version[0] if t is not None else 0 for t in tensors])

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify "
                "retain_graph=True if you need to backward through the graph a second time or if "
                "you need to access saved tensors after calling backward.")
        for i, (t, version) in enumerate(zip(self._saved, self._saved_versions)):
            if t is not None and t._version[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{t.type()} {list(t._shape)}], which is "
                    f"{self._producer_of_saved(i, t)}, is at version {t._version[0]}; expected "
                    f"version {version} instead. Hint: the tensor was changed in place after "
                    "this op saved it; use an out-of-place op (x = x + 1 rather than x += 1) or "
                    ".clone() it first.")
        if self._saved_output_nrs is not None and _grad_enabled[0]:
            return self._relinked_saved()
        return self._saved

    def _producer_of_saved(self, i: int, t: "Tensor") -> str:
        if self._saved_output_nrs is not None and i in self._saved_output_nrs:
            return f"output {self._saved_output_nrs[i]} of {self.name()}"
        return f"output {t._output_nr} of {t.grad_fn.name() if t.grad_fn else 'a leaf'}"

    def _relinked_saved(self) -> tuple:
        """The saved tensors with this node's own outputs as graph tensors again (grad_fn =
        this node), for a backward that builds a graph (create_graph): the second derivative
        flows through them. Made afresh for each read, so no cycle outlives the backward."""
        saved = list(self._saved)
        for i, nr in self._saved_output_nrs.items():
            out = saved[i]._alias()
            _link_output(self, out, nr)
            saved[i] = out
        return tuple(saved)

    def mark_dirty(self, *tensors: "Tensor") -> None:
        """Declare that forward changed these inputs in place."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors: "Tensor") -> None:
        """Declare outputs that have no gradient (indices, masks)."""
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """If False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = value

    # -- running -----------------------------------------------------------------------------
    @property
    def _n_outputs(self) -> int:
        return len(self._outputs_meta)

    def apply(self, *grads):
        if self.materialize_grads and _has_none(grads):
            grads = tuple(g if g is not None else _zeros_like_meta(meta)
                          for g, meta in zip(grads, self._outputs_meta))
        result = self._forward_cls.backward(self, *grads)
        if type(result) is not tuple:
            result = (result,)
        if len(result) != self._n_args:
            if len(result) < self._n_args or any(g is not None for g in result[self._n_args:]):
                raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                                   f"gradients (expected {self._n_args}, got {len(result)})")
        # Keep the gradients of the tensor inputs, in next_functions order.
        out = []
        for slot, meta in zip(self._input_slots, self._inputs_meta):
            g = result[slot]
            if g is not None and meta is not None and (
                    type(g) is not Tensor or g._shape != meta[0] or g._storage.dtype is not meta[1]):
                g = _check_grad(self, slot, g, meta)
            out.append(g)
        return out

    def _release(self) -> None:
        # Like PyTorch, only nodes that saved tensors refuse a second backward.
        if self._saved:
            self._saved = ()
            self._freed = True


def _has_none(grads) -> bool:
    """Whether some gradient is missing. (Not `None in grads`: that compares each tensor with
    None through Tensor.__eq__.)"""
    for g in grads:
        if g is None:
            return True
    return False


def _all_none(grads) -> bool:
    """Whether no gradient arrived at all."""
    for g in grads:
        if g is not None:
            return False
    return True


def _zeros_like_meta(meta):
    shape, dt, dev = meta
    return zeros(shape, dtype=dt, device=dev)


def _check_grad(node: BackwardNode, slot: int, g, meta):
    """A backward must return gradients shaped like its inputs (broadcasting is its business)."""
    shape, dt, dev = meta
    if not isinstance(g, Tensor):
        raise TypeError(f"function {node.name()} returned a gradient of type {type(g).__name__} "
                        f"for input {slot}; expected a Tensor or None")
    if g._shape != shape:
        raise RuntimeError(f"Function {node.name()} returned an invalid gradient at index {slot} "
                           f"- got {list(g._shape)} but expected shape compatible with "
                           f"{list(shape)}")
    if g.dtype is not dt:
        g = g.to(dt)
    return g


class Function:
    """Base class of differentiable operations; subclass it to make your own.

        class Exp(Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad):          # d exp(x)/dx = exp(x)
                y, = ctx.saved_tensors
                return grad * y

        y = Exp.apply(x)

    `forward` runs with gradient recording off and returns a tensor or a tuple of tensors;
    `backward` receives one gradient per output and returns one per forward argument (None for
    arguments that are not differentiable tensors).
    """

    backward_name: str | None = None  # the node's class name; default "<Name>Backward"
    _backward_cls: type = BackwardNode

    _idle_ctx = None
    _uses_setup_context = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("backward_name") or cls.__name__ + "Backward"
        cls._backward_cls = type(name, (BackwardNode,), {"_forward_cls": cls, "__slots__": ()})
        cls._uses_setup_context = cls.setup_context is not Function.setup_context
        builtin = cls.__module__.startswith("tinygrad_edu.")
        cls._idle_ctx = cls._backward_cls() if builtin else None

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("this Function has no backward: it is not differentiable")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: save for backward here instead of in forward(ctx, ...)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        """Run forward and, if any input requires grad, record a node for backward."""
        if _grad_enabled[0]:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    return _apply_recording(cls, args)
        # Nothing to record: our own ops reuse one idle ctx per class (its attributes are never
        # read again); a user's Function gets a fresh one, as its forward may expect.
        ctx = cls._idle_ctx if cls._idle_ctx is not None else cls._backward_cls()
        ctx.needs_input_grad = _NO_GRADS
        return _run_forward(cls, ctx, args)


_NO_GRADS = (False,) * 64

def _apply_recording(cls, args: tuple):
    """Function.apply when some input requires grad: link the node to the inputs' nodes, run
    forward, then make the node the outputs' grad_fn."""
    needs, slots, metas, edges = [], [], [], []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            slots.append(i)
            if a.requires_grad:
                needs.append(True)
                edges.append(_edge(a))
                metas.append((a._shape, a._storage.dtype, a._storage.device))
                continue
            edges.append((None, 0))
            metas.append(None)
        needs.append(False)
    # Every field set here, once (BackwardNode.__init__ would set most of them twice).
    node = object.__new__(cls._backward_cls)
    node._seq = next(_sequence)
    node._tracking = True
    node._saved = node._saved_versions = node._outputs_meta = ()
    node.needs_input_grad = tuple(needs)
    node._n_args = len(args)
    node._input_slots = tuple(slots)
    node._inputs_meta = tuple(metas)
    node.next_functions = tuple(edges)
    return _record(node, args, _run_forward(cls, node, args))


def _apply_recording_binary(cls, a, b, a_needs: bool, b_needs: bool):
    """_apply_recording for a two-operand op whose forward only runs kernels (BinaryFunction),
    spelled out without loops over the arguments: it is the recorded op of every training step.
    `a_needs`/`b_needs`: whether that operand is a tensor that requires grad."""
    node = object.__new__(cls._backward_cls)
    node._seq = next(_sequence)
    node._tracking = True
    node._n_args = 2
    node.needs_input_grad = (a_needs, b_needs)
    edge_a = _edge(a) if a_needs else (None, 0)
    edge_b = _edge(b) if b_needs else (None, 0)
    meta_a = (a._shape, a._storage.dtype, a._storage.device) if a_needs else None
    meta_b = (b._shape, b._storage.dtype, b._storage.device) if b_needs else None
    if not isinstance(b, Tensor):      # x * 2: only a is an input tensor
        node._input_slots, node._inputs_meta, node.next_functions = (0,), (meta_a,), (edge_a,)
    elif not isinstance(a, Tensor):    # 1 - x
        node._input_slots, node._inputs_meta, node.next_functions = (1,), (meta_b,), (edge_b,)
    else:
        node._input_slots, node._inputs_meta = (0, 1), (meta_a, meta_b)
        node.next_functions = (edge_a, edge_b)
    return _record_fresh_output(node, cls.forward(node, a, b))  # never one of a, b


def _run_forward(cls, ctx, args: tuple):
    """cls.forward with recording switched off (a forward is one op, not a graph of ops)."""
    prev = _grad_enabled[0]
    _grad_enabled[0] = False
    try:
        if cls._uses_setup_context:
            output = cls.forward(*args)
            cls.setup_context(ctx, args, output)
        else:
            output = cls.forward(ctx, *args)
    finally:
        _grad_enabled[0] = prev
    return output


def _record(node: BackwardNode, args: tuple, output):
    """Make `node` the grad_fn of the Function's outputs."""
    if isinstance(output, Tensor) and not node._dirty and not node._non_differentiable \
            and not _is_one_of(output, args):
        return _record_fresh_output(node, output)  # the common case
    outputs = output if isinstance(output, tuple) else (output,)
    new_outputs, meta = [], []
    for nr, out in enumerate(outputs):
        if isinstance(out, Tensor):
            out = _output_of(node, args, out, nr)
            meta.append((out._shape, out._storage.dtype, out._storage.device))
        else:
            meta.append(None)
        new_outputs.append(out)
    node._outputs_meta = tuple(meta)
    if node._saved:
        _unlink_saved_outputs(node, new_outputs)
    return tuple(new_outputs) if isinstance(output, tuple) else new_outputs[0]


def _record_fresh_output(node: BackwardNode, output: "Tensor") -> "Tensor":
    """_record for one new output tensor (not an input, not in-place): link it to the node."""
    _link_output(node, output, 0)
    node._outputs_meta = ((output._shape, output._storage.dtype, output._storage.device),)
    if _is_one_of(output, node._saved):   # y = exp(x) saves y
        _unlink_saved_outputs(node, (output,))
    return output


def _unlink_saved_outputs(node: BackwardNode, outputs) -> None:
    """Keep no reference cycle between a node and the outputs it saved (y = exp(x) saves y).

    The output's grad_fn is the node; if the node also held the output, the two would keep each
    other alive after the user dropped the output, until Python's cycle collector ran: a forward
    pass without backward (an evaluation outside no_grad) would pile up its activations. So the
    node keeps an alias of such an output instead: the same storage and version counter (so an
    in-place change is still caught) but no grad_fn. PyTorch saves outputs without the link too.
    """
    saved = list(node._saved)
    nrs = {}
    for i, t in enumerate(saved):
        for nr, out in enumerate(outputs):
            if t is not None and t is out and out.grad_fn is node:
                saved[i] = out._alias()
                nrs[i] = nr
    if nrs:
        node._saved = tuple(saved)
        node._saved_output_nrs = nrs


def _saved_output_moved(node: "Node | None", target: "Tensor") -> None:
    """An in-place op computed its result out of place and wrote it into `target`: if the
    result's node saved that result (y = exp(x) saves y), what it saved is now `target` at its
    new version, so a later in-place change of `target` is caught as PyTorch catches it."""
    nrs = getattr(node, "_saved_output_nrs", None)
    if not nrs:
        return
    saved, versions = list(node._saved), list(node._saved_versions)
    for i in nrs:
        saved[i] = target._alias()
        versions[i] = target._version[0]
    node._saved, node._saved_versions = tuple(saved), tuple(versions)


def _is_one_of(t: "Tensor", tensors) -> bool:
    for x in tensors:
        if x is t:
            return True
    return False


def _output_of(node: BackwardNode, args: tuple, out: "Tensor", nr: int) -> "Tensor":
    """Make `out` output number `nr` of `node`, handling in-place (dirty) and pass-through
    outputs and outputs declared non-differentiable."""
    dirty = _is_one_of(out, node._dirty)
    if dirty:
        if out.grad_fn is None and out._requires_grad and out._base is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        out._version[0] += 1
    elif _is_one_of(out, args):
        out = out._alias()  # an input returned unchanged becomes a new tensor of the graph
    if out._storage.dtype.is_floating_point and not _is_one_of(out, node._non_differentiable):
        _link_output(node, out, nr)
    return out


def _link_output(node: BackwardNode, out: "Tensor", nr: int) -> None:
    out._requires_grad = True
    out._grad_fn = node
    out._output_nr = nr


# ---------------------------------------------------------------------------------------- the engine


def _run_backward(roots: Sequence[tuple], grads: Sequence["Tensor"], retain_graph: bool,
                  create_graph: bool, capture: dict | None = None,
                  accumulate_into: set | None = None) -> dict:
    """Propagate `grads` from the root edges to the leaves.

    Each node gets a sequence number when it is created, and an op's inputs always exist
    before the op, so every edge leads from a higher number to a lower one. Running the nodes
    reachable from the roots from the highest number down therefore runs each node after all
    of its consumers have added their contribution to its input buffer (so a reused tensor gets
    the *sum* of its gradients): a topological order for free. (PyTorch's engine, which runs
    nodes on several threads, counts each node's pending consumers instead; among the nodes
    that are ready it too runs the newest first, so the order is the same.)

    `capture` maps edges (node, output_nr) to a key: the gradient arriving there is returned
    instead of accumulated (autograd.grad). `accumulate_into`, if given, limits which leaves'
    AccumulateGrad nodes run (backward(inputs=...)).
    """
    buffers: dict[Node, list] = {}
    for (node, nr), g in zip(roots, grads):
        _accumulate(buffers, node, nr, g)
    captured: dict = {}
    skip_leaves = capture is not None or accumulate_into is not None
    prev = _grad_enabled[0]
    _grad_enabled[0] = create_graph
    try:
        for node in _reachable_newest_first(buffers):
            incoming = buffers.pop(node, None)
            if incoming is None:  # no consumer passed a gradient this way
                if not retain_graph:
                    node._release()
                continue
            if capture:
                _capture(capture, captured, node, incoming)
            if skip_leaves and type(node) is AccumulateGrad and (
                    capture is not None or node.variable not in accumulate_into):
                grad_inputs = ()
            elif _all_none(incoming):
                grad_inputs = ()
            else:
                grad_inputs = node._run(incoming)
            for (nxt, nr), g in zip(node.next_functions, grad_inputs):
                if g is None or nxt is None:
                    continue
                buf = buffers.get(nxt)
                if buf is None:
                    buf = buffers[nxt] = [None] * nxt._n_outputs
                buf[nr] = g if buf[nr] is None else buf[nr] + g
            # Drop our references to the gradients we passed on, so that AccumulateGrad can see
            # when it is the only holder of one and keep it without a copy (_can_steal).
            grad_inputs = g = incoming = None
            if not retain_graph:
                node._release()
    finally:
        _grad_enabled[0] = prev
    return captured


def _reachable_newest_first(roots) -> list:
    """Every node reachable from `roots` through next_functions, by decreasing sequence number
    (leaves' AccumulateGrad nodes, numbered -1, come last)."""
    seen = set(roots)
    stack = list(seen)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return sorted(seen, key=_sequence_number, reverse=True)


_sequence_number = operator.attrgetter("_seq")


def _capture(capture: dict, captured: dict, node: Node, incoming: list) -> None:
    """Keep the gradients arriving at the edges autograd.grad asked for."""
    for nr, g in enumerate(incoming):
        key = capture.get((node, nr))
        if key is not None:
            captured[key] = g if key not in captured or g is None else captured[key] + g


def _accumulate(buffers: dict, node: Node, nr: int, g) -> None:
    buf = buffers.get(node)
    if buf is None:
        buf = buffers[node] = [None] * node._n_outputs
    if g is None:
        return
    buf[nr] = g if buf[nr] is None else buf[nr] + g


def _zero_grads(params, set_to_none: bool) -> None:
    """Forget the gradients of `params` (what Module.zero_grad and Optimizer.zero_grad do):
    `p.grad = None`, or, with set_to_none=False, fill the gradient with zeros, first cutting it
    from any graph that made it (create_graph) so the zeros are a plain tensor."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
            continue
        if p.grad.grad_fn is not None:
            p.grad.detach_()
        else:
            p.grad.requires_grad_(False)
        p.grad.zero_()


def _make_grads(outputs: Sequence["Tensor"], grad_outputs: Sequence) -> list:
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a "
                               "grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = _new(out._shape, out._storage.dtype, out._storage.device)
            g._storage._kernels.fill(g._arr, 1)
        elif not isinstance(g, Tensor):
            g = tensor(g, dtype=out.dtype, device=out.device)
        elif g._shape != out._shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                               f"output[{i}] has a shape of {out.shape}.")
        grads.append(g)
    return grads


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad` (torch.autograd.backward)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    grads = _make_grads(tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    only = None
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        only = set(inputs)
    roots = [_edge(t) for t in tensors]
    _run_backward(roots, grads, retain_graph, create_graph, accumulate_into=only)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple:
    """d(outputs)/d(inputs), returned rather than accumulated into `.grad` (torch.autograd.grad)."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require "
                               "grad")
    grads = _make_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    capture = {_edge(x): i for i, x in enumerate(inputs)}
    captured = _run_backward([_edge(t) for t in outputs], grads, retain_graph, create_graph,
                             capture=capture)
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(i)
        if g is None:
            if materialize_grads:
                g = zeros_like(x)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
        result.append(g)
    return tuple(result)


# ---------------------------------------------------------------------------------------- Tensor

contiguous_format = "contiguous_format"
preserve_format = "preserve_format"


class Tensor:
    """An n-dimensional array of one dtype on one device, with autograd.

    A view `(storage, offset, shape, strides)` over a `Storage` (see the module docstring); plus
    `requires_grad`, `grad`, `grad_fn` for autograd and a version counter, shared with views,
    that in-place ops bump so that backward can notice a saved tensor was changed.
    """

    __slots__ = ("_storage", "_offset", "_shape", "_strides", "_arr", "_requires_grad", "_grad",
                 "_grad_fn", "_output_nr", "_version", "_base", "_view_version", "__dict__",
                 "__weakref__")
    # Set on few tensors (leaves with hooks, retained grads), so class-level defaults: every new
    # tensor would otherwise pay for them.
    _grad_acc = _hooks = _post_accumulate_hooks = None
    _retains_grad = False
    __array_priority__ = 1000  # numpy defers to our operators: ndarray * Tensor -> Tensor

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, dtype=None, device=None):
        """The legacy constructor: `Tensor([1, 2])` copies data as float32, `Tensor(2, 3)` is
        an uninitialised 2x3 float32 tensor (prefer `tensor(...)` and `empty(...)`)."""
        src = _legacy_new(dtype or _default_dtype[0], args, device)
        _init_from(self, src._storage, src._offset, src._shape, src._strides)
        self._version = src._version

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def _make(cls, storage: Storage, offset: int, shape: tuple, strides: tuple,
              arr=None) -> "Tensor":
        t = object.__new__(cls)
        _init_from(t, storage, offset, shape, strides, arr)
        return t

    def _alias(self) -> "Tensor":
        """A new tensor over the same elements, with no autograd history."""
        t = Tensor._make(self._storage, self._offset, self._shape, self._strides, self._arr)
        t._version = self._version
        return t

    def _as_view(self, offset: int, shape: tuple, strides: tuple) -> "Tensor":
        """A view of this tensor's storage with new geometry (no autograd: see functions.py).

        It remembers its base (the tensor that owns the memory, never itself a view) and shares
        its version counter; `_view_version` is the version its history was made at."""
        t = Tensor._make(self._storage, offset, shape, strides)
        t._version = self._version
        t._base = self if self._base is None else self._base
        t._view_version = self._version[0]
        if "_multi_output_of" in self.__dict__:  # a view of unbind's output is one too
            t._multi_output_of = self._multi_output_of
        return t

    # -- the array this tensor looks at --------------------------------------------------------
    def _view(self):
        """The device array (numpy on the CPU) of exactly this tensor's elements, sharing storage."""
        arr = self._arr
        if arr is None:
            storage = self._storage
            arr = self._arr = storage._kernels.as_strided(storage._data, self._offset,
                                                          self._shape, self._strides)
        return arr

    # -- metadata ----------------------------------------------------------------------------
    @property
    def dtype(self) -> dtype:
        return self._storage.dtype

    @property
    def device(self) -> device:
        return self._storage.device

    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._shape)
        return self._shape[_wrap_dim(dim, len(self._shape))]

    def stride(self, dim: int | None = None):
        if dim is None:
            return self._strides
        return self._strides[_wrap_dim(dim, len(self._shape))]

    def storage_offset(self) -> int:
        return self._offset

    def storage(self) -> Storage:
        return self._storage

    def untyped_storage(self) -> Storage:
        return self._storage

    def dim(self) -> int:
        return len(self._shape)

    ndim = property(dim)

    def numel(self) -> int:
        return math.prod(self._shape)

    nelement = numel

    def element_size(self) -> int:
        return self._storage.dtype.itemsize

    itemsize = property(element_size)

    @property
    def nbytes(self) -> int:
        return self.numel() * self.element_size()

    def is_contiguous(self, memory_format=contiguous_format) -> bool:
        """True if the strides are row-major (size-1 dimensions may have any stride)."""
        expected = 1
        for size, stride in zip(reversed(self._shape), reversed(self._strides)):
            if size != 1:
                if stride != expected:
                    return size == 0 or 0 in self._shape
                expected *= size
        return True

    def is_floating_point(self) -> bool:
        return self._storage.dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    @property
    def is_cuda(self) -> bool:
        return self._storage.device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def data_ptr(self) -> int:
        return self._storage.data_ptr() + self._offset * self.element_size()

    def get_device(self) -> int:
        return -1 if self._storage.device.type == "cpu" else self._storage.device.index

    @property
    def _version_number(self) -> int:
        return self._version[0]

    # -- autograd attributes -----------------------------------------------------------------
    @property
    def grad_fn(self) -> "Node | None":
        """The node that made this tensor (None for a leaf). A view whose base (or another view
        of it) was changed in place since its history was recorded gets a fresh history
        first: PyTorch's rule, see _refresh_view."""
        if self._view_version is not None and self._view_version != self._version[0]:
            _refresh_view(self)
        return self._grad_fn

    @property
    def requires_grad(self) -> bool:
        if self._view_version is not None and self._view_version != self._version[0]:
            # a view whose base changed since: it needs a gradient if the base does (PyTorch's
            # rule; its fresh history is made when it is used, see grad_fn)
            return self._requires_grad or self._base.requires_grad
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Make this leaf record operations on it (or stop recording)."""
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you "
                               "want to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients, got "
                               f"a tensor of dtype {self.dtype}")
        self._requires_grad = builtins.bool(requires_grad)
        return self

    @property
    def grad(self) -> "Tensor | None":
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being "
                          "accessed. Its .grad attribute won't be populated during "
                          "autograd.backward(). If you indeed want the .grad field to be populated "
                          "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                          UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._shape != self._shape:
                raise RuntimeError(f"assigned grad has data of a different size: got "
                                   f"{list(value._shape)}, expected {list(self._shape)}")
            if value.dtype is not self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: got "
                                   f"{value.dtype}, expected {self.dtype}")
            if value.device != self.device:
                raise RuntimeError(f"assigned grad has data located on a different device: got "
                                   f"{value.device}, expected {self.device}")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in `.grad` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        node = self.grad_fn
        if node._retain is None:
            node._retain = {}
        node._retain[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook: Callable) -> RemovableHandle:
        """`hook(grad)` runs when this tensor's gradient is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_tensor_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = _HookDict()
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = hook
        return handle

    def register_post_accumulate_grad_hook(self, hook: Callable) -> RemovableHandle:
        """`hook(tensor)` runs after a leaf's `.grad` has been accumulated."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = _HookDict()
        handle = RemovableHandle(self._post_accumulate_hooks)
        self._post_accumulate_hooks[handle.id] = hook
        return handle

    def backward(self, gradient=None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Compute d(self)/d(leaf) for every leaf of the graph and add it into `leaf.grad`."""
        backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        """The same elements (shared storage and version), cut off from the graph."""
        return self._alias()

    def detach_(self) -> "Tensor":
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = self._view_version = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        """The elements without autograd, with their own version counter (changes go unseen)."""
        t = Tensor._make(self._storage, self._offset, self._shape, self._strides, self._arr)
        return t

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._storage, self._offset = value._storage, value._offset
        self._shape, self._strides, self._arr = value._shape, value._strides, value._arr

    # -- conversions ---------------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The elements as a numpy array that shares memory with this tensor (CPU only)."""
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if self._storage.device.type != "cpu":
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
            return self.cpu()._view()
        return self._view()

    def __array__(self, dtype=None, copy=None):
        """numpy's view of this tensor (np.asarray(t), and numpy functions given a tensor)."""
        if self.requires_grad:  # numpy would compute outside the graph: the gradient is lost
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        arr = self.cpu()._view()
        return arr if dtype is None else arr.astype(dtype)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """What numpy computed from tensors comes back as a tensor, as in PyTorch: np.sin(t),
        and t + ndarray (which numpy computes, with numpy's promotion: int64 + float32 arrays
        give float64)."""
        array = np.asarray(array)
        return from_numpy(array) if array.dtype in _DTYPE_OF_NUMPY else array

    def tolist(self):
        """The elements as (nested) Python lists of Python numbers."""
        return self._host().tolist()

    def _host(self) -> np.ndarray:
        """This tensor's elements as a numpy array on the host (a copy only for CUDA tensors)."""
        arr = self._view()
        if self._storage.device.type != "cpu":
            arr = kernels(self._storage.device).to_numpy(arr)
        return arr

    def item(self):
        """The value of a one-element tensor as a Python number."""
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return self._host().reshape(-1)[0].item()

    def __float__(self) -> float:
        return builtins.float(self._scalar_value("float"))

    def __int__(self) -> int:
        return builtins.int(self._scalar_value("int"))

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.dtype is bool_:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return builtins.int(self._scalar_value("int"))

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(this one has {self.numel()} values); use .any() or .all()")
        return builtins.bool(self.item())

    def _scalar_value(self, what: str):
        if self.numel() != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                             f"(this one has shape {list(self._shape)})")
        return self.item()

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    # __repr__ (PyTorch's print format) is attached by ops/methods.py from printing.py.

    def __format__(self, spec: str) -> str:
        """As PyTorch: a 0-d tensor formats as its number (f"{loss:.4f}", and f"{loss}" gives
        '0.25', not 'tensor(0.2500)'); others (and subclasses: a Parameter) only without a
        spec, as their repr."""
        if self.dim() == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)

    def __reduce_ex__(self, protocol):
        # copy.deepcopy and pickling within one process (multiprocessing) rebuild from an array.
        return (_rebuild, (self.detach().cpu()._view().copy(), str(self.device),
                           self._requires_grad))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment.")
        new = self.clone().detach()
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = self._grad.clone()
        if type(self) is not Tensor:  # Parameter and other subclasses keep their class
            new = type(self)._from_tensor(new, self)
        memo[id(self)] = new
        return new

    def type(self, dtype=None, non_blocking: bool = False):
        """Without an argument the legacy type name ('torch.FloatTensor'); with one, a cast."""
        if dtype is None:
            prefix = "torch.cuda." if self.is_cuda else "torch."
            return prefix + _LEGACY_NAME[self.dtype]
        if isinstance(dtype, _LegacyTensorType):  # t.type(torch.DoubleTensor)
            dtype = dtype.dtype
        elif isinstance(dtype, str) and dtype.removeprefix("torch.").removeprefix("cuda.") in \
                _DTYPE_OF_LEGACY:
            dtype = _DTYPE_OF_LEGACY[dtype.removeprefix("torch.").removeprefix("cuda.")]
        return self.to(as_dtype(dtype))

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    # to(), like the math methods (exp, sum, ...), is attached by ops/methods.py: it is the op
    # ToCopy (ops/views.py). The casts below call it.

    def float(self): return self.to(float32)  # noqa: E704 (a table of one-line casts)
    def double(self): return self.to(float64)  # noqa: E704
    def long(self): return self.to(int64)  # noqa: E704
    def int(self): return self.to(int32)  # noqa: E704
    def short(self): return self.to(int16)  # noqa: E704
    def byte(self): return self.to(uint8)  # noqa: E704
    def bool(self): return self.to(bool_)  # noqa: E704

    def half(self):
        raise TypeError("float16 is not supported by tinygrad_edu; use float() or double()")

    bfloat16 = half

    def cpu(self) -> "Tensor":
        return self.to(CPU)

    def cuda(self, device=None, non_blocking: bool = False) -> "Tensor":
        return self.to(as_device(device if device is not None else "cuda"))


def _init_from(t: Tensor, storage: Storage, offset: int, shape: tuple, strides: tuple,
               arr=None) -> None:
    t._storage, t._offset, t._shape, t._strides, t._arr = storage, offset, shape, strides, arr
    t._requires_grad = False
    t._grad = t._grad_fn = t._base = t._view_version = None
    t._output_nr = 0
    t._version = [0]


def _refresh_view(view: Tensor) -> None:
    """Give a view the history of its base as it is now (PyTorch's view + in-place rule).

    An in-place op on a base, or on any of its views, writes memory that every view of that
    base sees, and bumps their shared version counter. A view whose recorded history is older
    than the counter reads its values through the base now, so its history becomes "this
    region of the base": an AsStridedBackward0 node over the base's current history."""
    base = view._base
    view._view_version = view._version[0]
    if view._grad_fn is None and not base.requires_grad:
        return  # no history on either side: nothing to regenerate
    creator = view.__dict__.get("_multi_output_of")
    if creator is not None:
        name, nr = creator
        raise RuntimeError(
            f"Output {nr} of {name} is a view and its base or another view of "
            "its base has been modified inplace. This view is the output of a function that "
            "returns multiple views. Such functions do not allow the output views to be "
            "modified inplace. You should replace the inplace operation by an out-of-place one.")
    fresh = _apply_recording(AsStrided, (base, view._shape, view._strides, view._offset))
    view._grad_fn, view._output_nr, view._requires_grad = fresh._grad_fn, 0, True


# What an in-place op on a view needs (ops/inplace.py): nodes that move a gradient between two
# views of one memory. They compute with tensor methods only, so they are differentiable again.

class AsStrided(Function):
    """y = x's memory seen with explicit geometry: y[i] = storage[offset + sum_d i_d * stride_d];
    dL/dx = at each of x's elements, the sum of dL/dy over the elements of y that are the same
    memory location (none, one, or several where y overlaps itself)"""
    backward_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        y = x._as_view(offset, size, stride)
        ctx.x, ctx.y = _Layout(x), _Layout(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        return ctx.x.from_memory(ctx.y.to_memory(grad)), None, None, None


def _memory_offsets(offset: int, shape: tuple, strides: tuple, dev: device) -> Tensor:
    """The storage position of every element of a view: offset + sum_d i_d * strides[d], as a
    1-D int64 tensor in the view's row-major order."""
    positions = full((), offset, dtype=int64, device=dev)
    for d, (n, st) in enumerate(zip(shape, strides)):
        along = (arange(n, device=dev) * st).reshape((n,) + (1,) * (len(shape) - d - 1))
        positions = positions + along
    return positions.expand(shape).reshape(-1)


class _Layout:
    """Where a tensor's elements lie in its storage (offset, shape, strides), and the storage's
    size: what a gradient must know to be moved between two views of one memory."""

    def __init__(self, t: Tensor):
        self.offset, self.shape, self.strides = t._offset, t._shape, t._strides
        self.size, self.device = t._storage.size(), t._storage.device

    def is_whole_storage(self) -> bool:
        """Does the tensor cover its storage exactly, in row-major order from 0?"""
        return self.offset == 0 and self.size == math.prod(self.shape) and \
            self.strides == contiguous_strides(self.shape)

    def positions(self) -> Tensor:
        return _memory_offsets(self.offset, self.shape, self.strides, self.device)

    def to_memory(self, g: Tensor) -> Tensor:
        """g (shaped like the tensor) laid out as the storage: a 1-D tensor of `size` elements,
        each the sum of g over the tensor's elements at that memory position (0 elsewhere)."""
        if self.is_whole_storage():
            return g.reshape(-1)
        memory = zeros(self.size, dtype=g.dtype, device=g.device)
        return memory.index_add(0, self.positions(), g.reshape(-1))

    def from_memory(self, memory: Tensor) -> Tensor:
        """The tensor's elements read out of a storage-shaped 1-D tensor."""
        if self.is_whole_storage():
            return memory.reshape(self.shape)
        return memory.index_select(0, self.positions()).reshape(self.shape)


class CopySlices(Function):
    """base' = base with the region of one of its views replaced by `value` (an in-place op on
    a view writes its result there);
    dL/dbase = dL/dbase' with the region zeroed,  dL/dvalue = dL/dbase' read in the region"""
    backward_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, region):
        ctx.mark_dirty(base)
        view = base._as_view(region.offset, region.shape, region.strides)
        base._storage._kernels.copy(value._view(), view._view())
        ctx.base, ctx.region = _Layout(base), region
        return base

    @staticmethod
    def backward(ctx, grad):
        memory = ctx.base.to_memory(grad)
        g_value = ctx.region.from_memory(memory) if ctx.needs_input_grad[1] else None
        covered = ctx.region.to_memory(ones(ctx.region.shape, dtype=grad.dtype,
                                            device=grad.device)) != 0
        g_base = grad.masked_fill(ctx.base.from_memory(covered), 0.0)
        return g_base, g_value, None


def _legacy_new(dt: dtype, args: tuple, dev) -> Tensor:
    """What the legacy constructors (`Tensor(...)`, `FloatTensor(...)`) make of their arguments:
    nothing gives an empty tensor, sizes an uninitialised one, a tensor of the same dtype a
    tensor sharing its memory, anything else (lists, numpy arrays) a copy of the data."""
    if not args:
        return empty(0, dtype=dt, device=dev)
    if len(args) == 1 and isinstance(args[0], Tensor):
        other = args[0]
        if other.dtype is not dt or (dev is not None and as_device(dev) != other.device):
            raise TypeError(f"expected a tensor of dtype {dt} on "
                            f"{as_device(dev) if dev is not None else other.device}, got one of "
                            f"dtype {other.dtype} on {other.device}; convert it with .to() first")
        return other.detach()
    if len(args) == 1 and not isinstance(args[0], (builtins.int, Size)):
        return tensor(args[0], dtype=dt, device=dev)
    return empty(*args, dtype=dt, device=dev)


class _LegacyTensorType(type):
    """The type of `FloatTensor`, `LongTensor`, ...: PyTorch's names from before dtypes, one
    per dtype (of CPU tensors). Calling one builds a tensor of its dtype, as the legacy
    constructor does; `isinstance(t, FloatTensor)` asks whether t is a float32 CPU tensor."""

    def __call__(cls, *args, device=None):
        return _legacy_new(cls.dtype, args, device)

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


LEGACY_TENSOR_TYPES = {name: _LegacyTensorType(name, (), {"dtype": dt, "is_cuda": False})
                       for dt, name in _LEGACY_NAME.items()}


def _rebuild(arr: np.ndarray, dev: str, requires_grad: bool) -> Tensor:
    t = tensor(arr, device=dev)
    t._requires_grad = requires_grad
    return t


def _parse_to(t: Tensor, args: tuple, kwargs: dict):
    """Sort the arguments of `Tensor.to` into (dtype, device, copy)."""
    dt, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            dt, dev = a.dtype, a.device
        elif isinstance(a, (device, str)) and not (isinstance(a, str) and
                                                   a.removeprefix("torch.") in _DTYPE_OF_NAME):
            dev = a
        elif isinstance(a, builtins.bool):
            copy = a  # to(dtype, non_blocking, copy) positional form is rare: treat bools as copy
        elif isinstance(a, builtins.int):
            dev = a
        else:
            dt = a
    dt = t.dtype if dt is None else as_dtype(dt)
    dev = t.device if dev is None else as_device(dev)
    return dt, dev, copy


def _wrap_dim(dim: int, ndim: int) -> int:
    """`dim` as a non-negative index into `ndim` dimensions (a 0-d tensor accepts 0 and -1)."""
    n = builtins.max(ndim, 1)
    if not isinstance(dim, (builtins.int, np.integer)) or isinstance(dim, builtins.bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


# ---------------------------------------------------------------------------------------- creation


def _new(shape: tuple, dt: dtype, dev: device) -> Tensor:
    """A new, uninitialised, contiguous tensor. (Every op's result comes from here, so the
    fields are set inline rather than through _make.)"""
    k = _kernels_cache.get(dev.type) if not dev.index else None
    if k is None:
        k = kernels(dev)
    arr = k.empty(shape, dt.np_dtype)
    storage = object.__new__(Storage)
    storage._data = arr if len(shape) == 1 else arr.reshape(-1)
    storage.dtype, storage.device, storage._kernels = dt, dev, k
    t = object.__new__(Tensor)
    t._storage = storage
    t._offset, t._shape, t._arr = 0, shape, arr
    strides = _strides_seen.get(shape)  # (not `or`: a 0-d tensor's strides () are falsy)
    t._strides = strides if strides is not None else contiguous_strides(shape)
    t._requires_grad = False
    t._grad = t._grad_fn = t._base = t._view_version = None
    t._output_nr = 0
    t._version = [0]
    return t


def _from_array(arr, dt: dtype | None = None, dev: device = CPU) -> Tensor:
    """Wrap a device array in a tensor, copying only if it is not contiguous or needs a cast."""
    dt = _DTYPE_OF_NUMPY[arr.dtype] if dt is None else dt
    if arr.dtype != dt.np_dtype or not arr.flags.c_contiguous:
        host = np.ascontiguousarray(arr, dtype=dt.np_dtype)
        arr = host if dev.type == "cpu" else kernels(dev).from_numpy(host)
    shape = tuple(arr.shape)
    return Tensor._make(Storage(arr.reshape(-1), dt, dev), 0, shape, contiguous_strides(shape),
                        arr)


def _size_args(size: tuple) -> tuple[int, ...]:
    """Accept `f(2, 3)`, `f((2, 3))`, `f([2, 3])` and `f(torch.Size([2, 3]))`."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (builtins.int, np.integer)) or isinstance(s, builtins.bool):
            raise TypeError(f"size must be a sequence of ints, but got an element of type "
                            f"{type(s).__name__}: {s!r}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        out.append(builtins.int(s))
    return tuple(out)


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


def empty(*size, dtype=None, device=None, requires_grad: bool = False, **_) -> Tensor:
    """An uninitialised tensor of the given size (its values are whatever memory held)."""
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    return _finish(_new(_size_args(size), dt, as_device(device)), requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given size filled with `fill_value` (dtype inferred from it)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = _scalar_dtype(fill_value) if dtype is None else as_dtype(dtype)
    check_fits(fill_value, dt)
    t = _new(_size_args((size,) if isinstance(size, builtins.int) else tuple(size)), dt,
             as_device(device))
    kernels(t.device).fill(t._view(), fill_value)
    return _finish(t, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False, **_) -> Tensor:
    """A tensor of zeros."""
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    return full(_size_args(size), 0, dtype=dt, device=device, requires_grad=requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False, **_) -> Tensor:
    """A tensor of ones."""
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    return full(_size_args(size), 1, dtype=dt, device=device, requires_grad=requires_grad)


def _like(fn: Callable, t: Tensor, *args, dtype=None, device=None, requires_grad=False, **_):
    return fn(t._shape, *args, dtype=dtype or t.dtype, device=device or t.device,
              requires_grad=requires_grad)


def empty_like(t: Tensor, **kw) -> Tensor:
    return _like(empty, t, **kw)


def zeros_like(t: Tensor, **kw) -> Tensor:
    return _like(zeros, t, **kw)


def ones_like(t: Tensor, **kw) -> Tensor:
    return _like(ones, t, **kw)


def full_like(t: Tensor, fill_value, **kw) -> Tensor:
    kw.setdefault("dtype", t.dtype)
    return _like(full, t, fill_value, **kw)


def eye(n: int, m: int | None = None, *, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    """The identity matrix: ones on the diagonal, n rows and m (default n) columns. Built on its
    device: zeros, then ones written through a view of the diagonal (stride m + 1)."""
    m = n if m is None else m
    _size_args((n, m))
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    dev = as_device(device)
    t = full((n, m), 0, dtype=dt, device=dev)
    k = kernels(dev)
    k.fill(k.as_strided(t._storage._data, 0, (builtins.min(n, m),), (m + 1,)), 1)
    return _finish(t, requires_grad)


def _to_device(host: np.ndarray, dev: device):
    return host if dev.type == "cpu" else kernels(dev).from_numpy(np.ascontiguousarray(host))


def arange(start, end=None, step=1, *, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Numbers from `start` up to (not including) `end` in steps of `step`, computed on the
    device: element i is start + i * step. For an integer dtype, start, end and step are
    first truncated to integers, as PyTorch does (so a step of 0.5 is an error there)."""
    if end is None:
        start, end = 0, start
    start, end, step = (x.item() if isinstance(x, Tensor) else x for x in (start, end, step))
    if dtype is None:
        exact = all(isinstance(x, (builtins.int, np.integer)) for x in (start, end, step))
        dt = int64 if exact else _default_dtype[0]
    else:
        dt = as_dtype(dtype)
    if not dt.is_floating_point:
        start, end, step = builtins.int(start), builtins.int(end), builtins.int(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError(f"upper bound and larger bound inconsistent with step sign: start="
                           f"{start}, end={end}, step={step}")
    n = builtins.max(0, math.ceil((end - start) / step) if dt.is_floating_point
                     else -((start - end) // step))
    dev = as_device(device)
    t = _new((n,), dt, dev)
    kernels(dev).arange(t._view(), start, step)
    return _finish(t, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced numbers from `start` to `end`, both included, by PyTorch's rule:
    with step = (end - start) / (steps - 1), the first half counts up from start
    (start + i * step) and the second half down from end (end - (steps - 1 - i) * step), so
    both ends are exact and rounding errors stay small in the middle. Computed on the device
    in the dtype (float64 for integer dtypes, whose ends are truncated to integers first)."""
    if not isinstance(steps, builtins.int) or steps < 0:
        raise RuntimeError(f"number of steps must be non-negative, got {steps!r}")
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    dev = as_device(device)
    if steps <= 1:
        return full((steps,), start, dtype=dt, device=dev, requires_grad=requires_grad)
    if dt.is_floating_point:
        work = dt                                     # the arithmetic of the dtype itself
    else:
        work = float64
        start, end = builtins.int(start), builtins.int(end)
    number = work.np_dtype.type
    start, end = number(start), number(end)
    step = (end - start) / number(steps - 1)
    i = arange(steps, device=dev)
    with no_grad():
        up = i.to(work) * builtins.float(step) + builtins.float(start)
        down = (steps - 1 - i).to(work) * -builtins.float(step) + builtins.float(end)
        values = up.where(i < steps // 2, down)
    return _finish(values if values.dtype is dt else values.to(dt), requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, **kw) -> Tensor:
    return linspace(start, end, steps, dtype=float64, device=kw.get("device")).mul(
        math.log(base)).exp().to(kw.get("dtype") or _default_dtype[0])


def _python_dtype(arr: np.ndarray) -> dtype:
    """The dtype `tensor(data)` gets from Python numbers: bool, int64, or the default float."""
    if arr.dtype.kind == "b":
        return bool_
    if arr.dtype.kind in "iu":
        return int64
    if arr.dtype.kind == "f":
        return _default_dtype[0]
    raise TypeError(f"can't convert data of numpy type {arr.dtype} to a tensor")


def _check_nested(data, depth: int = 0) -> tuple:
    """The shape of nested lists, with a clear error if they are ragged or hold non-numbers."""
    if isinstance(data, Tensor):
        return tuple(data._shape)
    if isinstance(data, np.ndarray):
        return data.shape
    if isinstance(data, (list, tuple, range)):
        shapes = [_check_nested(x, depth + 1) for x in data]
        for s in shapes[1:]:
            if s != shapes[0]:
                raise ValueError(f"expected sequence of length {shapes[0][0] if shapes[0] else 0} "
                                 f"at dim {depth + 1} (got {s[0] if s else 0})")
        return (len(data),) + (shapes[0] if shapes else ())
    if isinstance(data, builtins.int) and not -2 ** 63 <= data < 2 ** 63:
        raise ValueError(f"Overflow when unpacking long long: {data} is outside int64's range "
                         "[-2**63, 2**63 - 1]")
    if isinstance(data, (builtins.bool, builtins.int, builtins.float, np.number, np.bool_)):
        return ()
    raise TypeError(f"new(): invalid data type '{type(data).__name__}'")


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, a number, a numpy array, a tensor)."""
    dev = as_device(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.clone().detach() or sourceTensor.clone().detach()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        host = data.detach().cpu()._view()
    elif isinstance(data, (np.ndarray, np.generic)):  # a numpy scalar keeps its dtype too
        data = np.asarray(data)
        if data.dtype not in _DTYPE_OF_NUMPY:
            as_dtype(data.dtype)  # raises a clear TypeError
        host = data
    else:
        _check_nested(data)
        host = np.asarray(data)
    if isinstance(data, (np.ndarray, Tensor)):
        dt = _DTYPE_OF_NUMPY[host.dtype] if dtype is None else as_dtype(dtype)
    else:
        dt = _python_dtype(host) if dtype is None else as_dtype(dtype)
        _check_python_data_fits(host, dt)
    host = _cast_host(host, dt)
    return _finish(_from_array(_to_device(host, dev), dt, dev), requires_grad)


def check_fits(value, dt: dtype) -> None:
    """PyTorch's rule for a Python number put into an integer tensor (by tensor, full, fill_,
    an assignment, clamp): it must fit the type, except that a negative integer may wrap into
    an unsigned one as in two's complement (-1 is 255 in uint8, as a - b computes it). Floats
    and bools take any number."""
    if dt.category != INTEGER or isinstance(value, (builtins.bool, np.bool_)):
        return
    info = np.iinfo(dt.np_dtype)
    if isinstance(value, (builtins.int, np.integer)):
        v = builtins.int(value)
        fits = v <= info.max and (v >= info.min if info.min < 0 else -v <= info.max)
    else:
        fits = info.min <= builtins.float(value) <= info.max  # False for NaN
    if not fits:
        number = value.item() if isinstance(value, np.generic) else value
        raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow: "
                           f"{number!r} is outside [{info.min}, {info.max}]")


def _check_python_data_fits(host: np.ndarray, dt: dtype) -> None:
    """check_fits for every number of a (converted) nested list."""
    if dt.category == INTEGER and host.size and host.dtype != np.bool_:
        check_fits(host.min(), dt)   # (a NaN is the min: numpy's min propagates it)
        check_fits(host.max(), dt)


def _cast_host(host: np.ndarray, dt: dtype) -> np.ndarray:
    """A contiguous copy of `host` in dtype `dt`; float to int truncates toward zero."""
    if dt is bool_ and host.dtype != np.bool_:
        return np.ascontiguousarray(host != 0)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.array(host, dtype=dt.np_dtype, order="C", copy=True)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like `tensor`, but shares memory with a tensor or numpy array when it can."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype or data.dtype, device=device or data.device)
    if isinstance(data, np.ndarray) and (device is None or as_device(device).type == "cpu"):
        t = from_numpy(data)
        return t if dtype is None else t.to(as_dtype(dtype))
    return tensor(data, dtype=dtype, device=device)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor that shares memory with the numpy array `arr`: writes through one show in both."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    if arr.dtype not in _DTYPE_OF_NUMPY:
        raise TypeError(f"can't convert np.ndarray of type {arr.dtype}. The only supported types "
                        "are: float64, float32, int64, int32, int16, uint8, and bool.")
    if not arr.flags.writeable:  # shared all the same, as PyTorch does; writes will be refused
        warnings.warn("The given NumPy array is not writable: the tensor shares its memory, so "
                      "in-place operations on it will fail. Copy the array (or make it "
                      "writable) first if you need to change the tensor.", UserWarning,
                      stacklevel=2)
    itemsize = arr.itemsize
    if any(s < 0 for s in arr.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors "
                         "with negative strides are not currently supported. (You can probably "
                         "work around this by making a copy of your array with array.copy().)")
    if any(s % itemsize for s in arr.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. "
                         "Copy the numpy array to reallocate the memory.")
    strides = tuple(s // itemsize for s in arr.strides)
    span = 1 + builtins.sum((n - 1) * s for n, s in zip(arr.shape, strides)) if arr.size else 0
    # A flat 1-D view of the memory the array spans: the tensor's storage.
    flat = np.lib.stride_tricks.as_strided(arr, shape=(span,), strides=(itemsize,))
    return Tensor._make(Storage(flat, _DTYPE_OF_NUMPY[arr.dtype]), 0, tuple(arr.shape), strides,
                        arr)


# ---------------------------------------------------------------------------------------- random


class Generator:
    """A source of random numbers with its own state (`manual_seed` makes it repeatable)."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self._seed = 67280421310721
        self._rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = builtins.int(seed)
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        return self.manual_seed(np.random.SeedSequence().entropy % (2 ** 63)).initial_seed()

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        state = repr(self._rng.bit_generator.state).encode()
        return tensor(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, state: Tensor) -> None:
        import ast
        self._rng.bit_generator.state = ast.literal_eval(bytes(state.tolist()).decode())


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator so random tensors are the same on every run."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def _rng(generator: Generator | None) -> np.random.Generator:
    """The numpy Generator holding the random state: the device's random primitives draw from
    it (the CPU's numbers come from it directly; CUDA takes one 64-bit seed from it per call)."""
    return (generator or default_generator)._rng


def _random(shape: tuple, dt: dtype, dev: device, requires_grad: bool, draw: Callable) -> Tensor:
    """A new tensor of random numbers: `draw(kernels, out)` calls one of the device's random
    primitives (docs/primitives.md) on the new tensor's array, so the numbers are made where
    the tensor lives."""
    t = _new(shape, dt, dev)
    draw(kernels(dev), t._view())
    return _finish(t, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    return _random(_size_args(size), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_uniform(out, _rng(generator), 0.0, 1.0))


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal random numbers (mean 0, variance 1)."""
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    return _random(_size_args(size), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_normal(out, _rng(generator), 0.0, 1.0))


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Random integers from `low` (default 0) up to, not including, `high`."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        raise TypeError("randint() missing required argument 'size'")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dt = int64 if dtype is None else as_dtype(dtype)
    return _random(_size_args(tuple(size)), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_integers(out, _rng(generator), low, high))


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0 .. n-1."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    dt = int64 if dtype is None else as_dtype(dtype)
    return _random((n,), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_permutation(out, _rng(generator)))


def rand_like(t: Tensor, **kw) -> Tensor:
    return rand(t._shape, dtype=kw.get("dtype") or t.dtype, device=kw.get("device") or t.device,
                requires_grad=kw.get("requires_grad", False))


def randn_like(t: Tensor, **kw) -> Tensor:
    return randn(t._shape, dtype=kw.get("dtype") or t.dtype, device=kw.get("device") or t.device,
                 requires_grad=kw.get("requires_grad", False))


def randint_like(t: Tensor, low, high=None, **kw) -> Tensor:
    if high is None:  # randint_like(t, high)
        low, high = 0, low
    return randint(low, high, t._shape, dtype=kw.get("dtype") or t.dtype,
                   device=kw.get("device") or t.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Normal random numbers; `mean` and `std` may be tensors (elementwise) or numbers."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean if isinstance(mean, Tensor) else None
        s = std if isinstance(std, Tensor) else None
        ref = m if m is not None else s
        shape = np.broadcast_shapes(*(x._shape for x in (m, s) if x is not None))
        # mean + std * z for standard normal z, in float64 on the tensors' device (numpy's
        # normal(mean, std) computes the same, so the CPU's numbers are what they always were)
        z = _random(tuple(shape), float64, ref.device, False,
                    lambda k, out: k.random_normal(out, _rng(generator), 0.0, 1.0))
        with no_grad():
            values = z * std + mean
        return _finish(values.to(ref.dtype), requires_grad)
    if size is None:
        raise TypeError("normal() with number mean and std needs a size")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dt = _default_dtype[0] if dtype is None else as_dtype(dtype)
    return _random(_size_args(tuple(size)), dt, as_device(device), requires_grad,
                   lambda k, out: k.random_normal(out, _rng(generator), mean, std))


# ---------------------------------------------------------------------------------------- wiring
