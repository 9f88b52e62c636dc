"""`torch.backends`: the switches scripts commonly touch, so that they run unchanged.

tinygrad_edu has no cuDNN or Apple MPS backend: `mps.is_available()` is False, and the cuDNN
flags are plain attributes that scripts may set and read (they change nothing here).
"""


class _Flags:
    """A namespace whose attributes scripts set (e.g. cudnn.deterministic = True)."""

    def __init__(self, **flags):
        self.__dict__.update(flags)

    def is_available(self) -> bool:
        return False


mps = _Flags()
cudnn = _Flags(enabled=False, deterministic=False, benchmark=False)
