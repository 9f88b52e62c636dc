"""`torch.backends`: the switches scripts commonly touch, so that they run unchanged.

tinygrad_edu has no cuDNN or Apple MPS backend: `mps.is_available()` is False, and the cuDNN
flags are plain module attributes that scripts may set and read (they change nothing here).
"""
from tinygrad_edu.backends import cudnn, mps  # noqa: F401
