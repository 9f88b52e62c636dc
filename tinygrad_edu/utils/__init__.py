"""`tinygrad_edu.utils`, PyTorch's `torch.utils`: so far its `data` package (see data.py)."""
from tinygrad_edu.utils import data  # noqa: F401

__all__ = ["data"]
