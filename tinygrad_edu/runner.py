"""`tinygrad-edu run script.py`: run an unmodified PyTorch script on tinygrad_edu.

The script's `import torch` (and `import torch.nn as nn`, `from torch.utils.data import
DataLoader`, ...) must find our modules instead of PyTorch's. Python asks each *finder* on
`sys.meta_path` in turn where a module lives; `TorchAliasFinder`, put first, answers for the names
in `TORCH_MODULES` with the tinygrad_edu module that plays that part, and refuses every other
`torch.*` name with an ImportError that says tinygrad_edu does not offer it — a script never
half-runs on the real PyTorch.

    tinygrad-edu run train.py --epochs 3        # sys.argv == ["train.py", "--epochs", "3"]
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
import traceback

# PyTorch's module name -> the tinygrad_edu module that stands in for it.
TORCH_MODULES = {
    "torch": "tinygrad_edu",
    "torch.nn": "tinygrad_edu.nn",
    "torch.nn.functional": "tinygrad_edu.nn.functional",
    "torch.nn.init": "tinygrad_edu.nn.init",
    "torch.nn.utils": "tinygrad_edu.nn.utils",
    "torch.nn.parameter": "tinygrad_edu.nn.parameter",
    "torch.nn.modules": "tinygrad_edu.nn",
    "torch.nn.modules.module": "tinygrad_edu.nn.module",
    "torch.nn.modules.container": "tinygrad_edu.nn.containers",
    "torch.nn.modules.linear": "tinygrad_edu.nn.layers",
    "torch.nn.modules.activation": "tinygrad_edu.nn.activations",
    "torch.nn.modules.loss": "tinygrad_edu.nn.loss",
    "torch.nn.modules.conv": "tinygrad_edu.nn.conv",
    "torch.nn.modules.pooling": "tinygrad_edu.nn.pooling",
    "torch.optim": "tinygrad_edu.optim",
    "torch.optim.optimizer": "tinygrad_edu.optim.optimizer",
    "torch.optim.lr_scheduler": "tinygrad_edu.optim.lr_scheduler",
    "torch.utils": "tinygrad_edu.utils",
    "torch.utils.data": "tinygrad_edu.utils.data",
    "torch.autograd": "tinygrad_edu.autograd",
    "torch.backends": "tinygrad_edu.backends",
    "torch.backends.cudnn": "tinygrad_edu.backends.cudnn",
    "torch.backends.mps": "tinygrad_edu.backends.mps",
}
# Mapped only once tinygrad_edu has them (they arrive with other work).
OPTIONAL_TORCH_MODULES = {
    "torch.cuda": "tinygrad_edu.cuda",
}


class _AliasLoader(importlib.abc.Loader):
    """Hands out an already importable tinygrad_edu module under a torch name (no copy)."""

    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        pass  # the module ran when tinygrad_edu imported it


class TorchAliasFinder(importlib.abc.MetaPathFinder):
    """Resolves `torch` and the submodules in TORCH_MODULES to tinygrad_edu; refuses the rest."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        target = TORCH_MODULES.get(fullname) or _optional(fullname)
        if target is None:
            offered = ", ".join(TORCH_MODULES)
            raise ModuleNotFoundError(f"No module named '{fullname}': tinygrad_edu does not offer "
                                      f"{fullname} (tinygrad-edu run provides {offered})",
                                      name=fullname)
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target))


def _optional(fullname: str) -> str | None:
    target = OPTIONAL_TORCH_MODULES.get(fullname)
    if target is None or importlib.util.find_spec(target) is None:
        return None
    return target


def install() -> dict:
    """Make `import torch...` resolve to tinygrad_edu; returns what `uninstall` needs to undo it."""
    saved = {name: mod for name, mod in sys.modules.items()
             if name == "torch" or name.startswith("torch.")}
    for name in saved:
        del sys.modules[name]
    finder = TorchAliasFinder()
    sys.meta_path.insert(0, finder)
    return {"finder": finder, "modules": saved}


def uninstall(token: dict) -> None:
    """Undo `install`: forget the aliases and put back any real torch modules that were loaded."""
    if token["finder"] in sys.meta_path:
        sys.meta_path.remove(token["finder"])
    for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
        del sys.modules[name]
    sys.modules.update(token["modules"])


def run_script(script: str, args: list[str] | None = None) -> int:
    """Run `script` as `__main__` with `import torch` meaning tinygrad_edu; return its exit code.

    A missing script is exit code 2 with a message; an uncaught exception prints its traceback and
    gives 1, as `python script.py` would; `sys.exit(n)` in the script gives n.
    """
    if not os.path.isfile(script):
        print(f"tinygrad-edu run: no such script: {script}", file=sys.stderr)
        return 2
    old_argv = sys.argv
    sys.argv = [script] + list(args or [])
    script_dir = os.path.dirname(os.path.abspath(script))
    sys.path.insert(0, script_dir)  # as `python script.py` does: the script's own modules import
    token = install()
    try:
        runpy.run_path(script, run_name="__main__")
        return 0
    except SystemExit as exc:
        return _exit_code(exc.code)
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # the script's own error: show it as Python would, then fail
        _print_script_traceback(exc, script)
        return 1
    finally:
        uninstall(token)
        sys.argv = old_argv
        if script_dir in sys.path:
            sys.path.remove(script_dir)  # the first occurrence: the one inserted above
        sys.stdout.flush()


def _print_script_traceback(exc: BaseException, script: str) -> None:
    """The traceback from the script's first frame on: runpy's and our frames are noise there."""
    tb = exc.__traceback__
    target = os.path.abspath(script)
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != target:
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb if tb is not None else exc.__traceback__)


def _exit_code(code) -> int:
    """What the process exit status of `sys.exit(code)` is: None → 0, an int as is, else 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints the message
    return 1
