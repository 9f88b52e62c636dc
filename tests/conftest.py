"""Test-suite set-up: where the book's data lives, and CUDA through Numba's simulator."""
import os
import shutil
from pathlib import Path

# The book's data sets sit beside the checkout (../shared/data) unless the caller says otherwise.
_shared = Path(__file__).resolve().parents[2] / "shared" / "data"
if "TINYGRAD_EDU_DATA" not in os.environ and _shared.is_dir():
    os.environ["TINYGRAD_EDU_DATA"] = str(_shared)

# Without an NVIDIA GPU, CUDA kernels run in Numba's simulator; this must be decided before
# numba.cuda is first imported. On a machine with a GPU the real device is used.
if "NUMBA_ENABLE_CUDASIM" not in os.environ and shutil.which("nvidia-smi") is None:
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
