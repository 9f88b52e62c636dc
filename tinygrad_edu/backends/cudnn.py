"""`torch.backends.cudnn`: flags scripts set for reproducibility; tinygrad_edu has no cuDNN,
so they are plain attributes that change nothing."""
enabled = False
deterministic = False
benchmark = False


def is_available() -> bool:
    return False
