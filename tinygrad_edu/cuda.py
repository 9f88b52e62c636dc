"""`tinygrad_edu.cuda`: is there a GPU, which one, and waiting for it (torch.cuda's basics).

Tensors go to the GPU with `t.to("cuda")`, `t.cuda()` or `device="cuda"` on creation; their
operations then run the kernels of `tinygrad_edu/kernels_cuda.py`. Without an NVIDIA GPU, Numba's
CUDA simulator runs those same kernels on the CPU (slowly) when the environment variable
`NUMBA_ENABLE_CUDASIM=1` is set before numba is first imported; `is_available()` is then True and
`get_device_name()` says "Numba CUDA simulator", so a program can tell which one it is using.

Importing this module never fails: without CUDA, `is_available()` is False and asking for a
"cuda" tensor raises an error that says how to turn the simulator on.
"""
from __future__ import annotations

import os

__all__ = ["is_available", "device_count", "current_device", "synchronize", "manual_seed",
           "manual_seed_all", "get_device_name", "is_simulator"]


def _numba_cuda():
    """numba.cuda, or None if it cannot even be imported (then there is no CUDA at all)."""
    try:
        from numba import cuda
    except Exception:      # numba-cuda missing, or its CUDA bindings missing
        return None
    return cuda


def is_simulator() -> bool:
    """True if CUDA kernels run in Numba's simulator instead of on a GPU."""
    cuda = _numba_cuda()
    return cuda is not None and cuda.jit.__module__.startswith("numba.cuda.simulator")


def is_available() -> bool:
    """True if tensors can be put on device "cuda": a GPU with its driver, or the simulator."""
    cuda = _numba_cuda()
    if cuda is None:
        return False
    try:
        return bool(cuda.is_available())
    except Exception:
        return False


def device_count() -> int:
    """How many CUDA devices there are (the simulator counts as one; 0 without CUDA)."""
    if not is_available():
        return 0
    return len(_numba_cuda().gpus)


def current_device() -> int:
    """The index of the device kernels run on (tinygrad_edu uses device 0)."""
    _require()
    return 0


def synchronize(device=None) -> None:
    """Wait until every kernel launched so far has finished (launches are asynchronous, so
    time a GPU computation only after this), then raise what a check left pending on the
    device found (a bad class target, say: kernels_cuda.check_later)."""
    _require()
    from tinygrad_edu import kernels_cuda
    kernels_cuda.synchronize()


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. "NVIDIA GeForce RTX 3060", or "Numba CUDA simulator"."""
    _require()
    if is_simulator():
        return "Numba CUDA simulator"
    name = _numba_cuda().get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed: int) -> None:
    """Seed the random numbers of CUDA tensors. They are drawn by the default generator (on the
    host) and then copied, so this seeds that generator, as `tinygrad_edu.manual_seed` does."""
    from tinygrad_edu.ops import random
    random.manual_seed(seed)


manual_seed_all = manual_seed


def _require() -> None:
    if not is_available():
        sim = os.environ.get("NUMBA_ENABLE_CUDASIM")
        hint = ("" if sim == "1" else " Set NUMBA_ENABLE_CUDASIM=1 before numba is imported to "
                "run the CUDA kernels in Numba's simulator.")
        raise RuntimeError("CUDA is not available: no NVIDIA GPU with a working driver was "
                           "found." + hint)
