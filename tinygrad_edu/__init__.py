"""tinygrad_edu: an educational deep-learning framework you can read end to end.

`import tinygrad_edu as torch` gives the PyTorch names the book's code uses: tensors and dtypes,
creation functions, autograd switches, save/load, and the `nn`, `optim` and `utils.data`
packages. The scalar engine of lessons 1–2 is `tinygrad_edu.scalar` (imported separately).
"""
import builtins as _builtins

from tinygrad_edu import vector as _vector  # first: it loads functions.py at its end
from tinygrad_edu import functions as _functions
from tinygrad_edu.vector import (Generator, Size, Storage, Tensor, arange, as_tensor, device,
                                 dtype, empty, empty_like, enable_grad, eye, from_numpy, full,
                                 full_like, get_default_dtype, inference_mode, initial_seed,
                                 is_grad_enabled, linspace, logspace, manual_seed, no_grad, normal,
                                 ones, ones_like, promote_types, rand, rand_like, randint,
                                 randint_like, randn, randn_like, randperm, result_type, seed,
                                 set_default_dtype, set_grad_enabled, tensor, zeros, zeros_like)
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
__version__ = "0.1.0"

# Every differentiable op and its functional form (torch.exp, torch.cat, torch.where, ...).
for _name in _functions.FUNCTIONS:
    globals()[_name] = getattr(_functions, _name)
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


def __getattr__(name: str):
    # nn, optim, utils and cuda load on first use so that `import tinygrad_edu` stays light.
    import importlib
    if name in ("nn", "optim", "utils", "cuda", "backends"):
        return importlib.import_module(f"tinygrad_edu.{name}")
    raise AttributeError(f"module 'tinygrad_edu' has no attribute '{name}': tinygrad_edu does "
                         "not offer it")
