"""tinygrad_edu: an educational deep-learning framework you can read end to end.

`import tinygrad_edu as torch` gives the PyTorch names the book's code uses: tensors and dtypes,
creation functions, autograd switches, save/load, and the `nn`, `optim` and `utils.data`
packages. The scalar engine of lessons 1–2 is `tinygrad_edu.scalar` (imported separately).

The package root is lazy, so that `import tinygrad_edu.scalar` stays pure standard library (no
numpy, no numba). Two kinds of name are resolved on first use by the module `__getattr__` below
(PEP 562):

* the torch-style namespace — `torch.tensor`, `torch.Tensor`, `torch.float32`, `torch.no_grad`,
  `torch.exp`, ... — is defined in one place, `tinygrad_edu/_namespace.py` (its `__all__`). The
  first access of any of its names imports that module (and with it the tensor library) and
  copies all of `__all__` into this module's globals, so every later lookup is a plain global;
* submodules — `torch.nn`, `torch.optim`, `torch.utils`, `torch.cuda`, `torch.backends`,
  `torch.autograd`, and any other module of the package — are imported on first access; the
  import system then binds them here as attributes.

`dir(torch)` and `from tinygrad_edu import *` see the whole namespace (they load it).
"""
import importlib as _importlib
import importlib.util as _importlib_util

__version__ = "0.1.0"

# The torch subpackages a script reaches as attributes (`torch.nn.Linear`); listed by `dir`.
_SUBPACKAGES = ("nn", "optim", "utils", "cuda", "backends", "autograd")


_loaded_names = None  # the namespace's names, once they were copied into globals()


def _namespace_names() -> frozenset:
    """The torch-style namespace's names; the first call copies them into this module's globals.

    (Once copied, `float`, `int`, `bool`, `sum`, `max`, ... here are torch's, not the builtins:
    the code of this module uses none of them.)"""
    global _loaded_names
    if _loaded_names is None:
        namespace = _importlib.import_module("tinygrad_edu._namespace")
        globals().update({name: getattr(namespace, name) for name in namespace.__all__})
        _loaded_names = frozenset(namespace.__all__)
    return _loaded_names


def _is_submodule(name: str):
    if not name.isidentifier():
        return False
    return _importlib_util.find_spec(f"{__name__}.{name}") is not None


def __getattr__(name: str):
    # Called only for names not (yet) in this module's globals.
    if name == "__all__":  # `from tinygrad_edu import *`
        return sorted(_namespace_names())
    if name.startswith("__") and name.endswith("__"):
        # Probes such as __wrapped__ or __path__ lookups by tools: not ours, and not worth
        # loading the tensor library for.
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}", name=name)
    if _is_submodule(name):  # torch.nn, torch.optim, ... (`from tinygrad_edu import viz` too)
        return _importlib.import_module(f"{__name__}.{name}")
    if name in _namespace_names():
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}: tinygrad_edu does "
                         "not offer it", name=name)


def __dir__() -> list:
    return sorted({*globals(), *_namespace_names(), *_SUBPACKAGES})
