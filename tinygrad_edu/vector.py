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
import math
import warnings
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















# ---------------------------------------------------------------------------------------- graph nodes






















































# ---------------------------------------------------------------------------------------- the engine




















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
    # ("Unbind", i) on the outputs of ops that return several views (and on views of them):
    # they may not be written in place while gradients are recorded (ops/inplace.py)
    _multi_output_of = None
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
        if self._multi_output_of is not None:  # a view of unbind's output is one too
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




# What an in-place op on a view needs (ops/inplace.py): nodes that move a gradient between two
# views of one memory. They compute with tensor methods only, so they are differentiable again.









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
































# ---------------------------------------------------------------------------------------- wiring
