"""The torch-style namespace: every name `import tinygrad_edu as torch` offers at the top level.

This module is the one place that says what `torch.<name>` means: tensors and dtypes, creation
functions, the autograd switches, every differentiable op in its functional form (torch.exp,
torch.cat, torch.where, ...), the legacy tensor types, save/load and a few helpers. Its public
names are listed in `__all__`.

It imports the tensor library (numpy, numba), so the package root does not import it eagerly:
`tinygrad_edu/__init__.py` loads it on the first access of one of its names (PEP 562 module
`__getattr__`) and then copies all of `__all__` into the package's globals, where later lookups
find them directly. `import tinygrad_edu.scalar` (lessons 1–2) therefore never loads it.

Nothing here is meant to be imported under this module's own name: use `tinygrad_edu.<name>`.
"""
import builtins as _builtins

from tinygrad_edu import vector as _vector
from tinygrad_edu.ops import methods as _methods  # (importing ops gives Tensor its methods)
from tinygrad_edu.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                             set_grad_enabled)
from tinygrad_edu.ops.random import (Generator, initial_seed, manual_seed, normal, rand, rand_like,
                                     randint, randint_like, randn, randn_like, randperm, seed)
from tinygrad_edu.vector import (Size, Storage, Tensor, arange, as_tensor, device, dtype, empty,
                                 empty_like, eye, from_numpy, full, full_like, get_default_dtype,
                                 linspace, logspace, ones, ones_like, promote_types, result_type,
                                 set_default_dtype, tensor, zeros, zeros_like)
from tinygrad_edu.vector import bool_ as bool  # noqa: A001 (torch.bool is a dtype)
from tinygrad_edu.vector import (float32, float64, int16, int32, int64, uint8)

float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
short = int16
globals().update(_vector.LEGACY_TENSOR_TYPES)  # FloatTensor, LongTensor, ... (legacy names)
contiguous_format = _vector.contiguous_format
preserve_format = _vector.preserve_format

# Every differentiable op and its functional form (torch.exp, torch.cat, torch.where, ...).
for _name in _methods.FUNCTIONS:
    globals()[_name] = _methods.op(_name)
del _name

from tinygrad_edu import autograd  # noqa: E402


def save(obj, f) -> None:
    """Write tensors (or dicts/lists/tuples of them) to a path or binary file, atomically."""
    from tinygrad_edu import serialization
    serialization.save(obj, f)


def load(f, map_location=None, weights_only: _builtins.bool = True):
    """Read what `save` wrote; never executes code from the file."""
    from tinygrad_edu import serialization
    return serialization.load(f, map_location=map_location)


def is_tensor(obj) -> _builtins.bool:
    return isinstance(obj, Tensor)


def numel(t: Tensor) -> _builtins.int:
    return t.numel()


def is_floating_point(t: Tensor) -> _builtins.bool:
    return t.is_floating_point()


def set_printoptions(**kwargs) -> None:
    from tinygrad_edu import printing
    printing.set_printoptions(**kwargs)


# Everything above without a leading underscore (`autograd` included: the package's attribute).
__all__ = [_n for _n in globals() if not _n.startswith("_")]
