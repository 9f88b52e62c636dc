"""Ready-made models for the lessons and `tinygrad-edu train`: small convolutional networks.

    SmallCNN   two conv blocks (conv 3x3 -> ReLU -> max-pool 2) and a two-layer classifier with
               dropout: the "CNN in one minute" of seed 002, for 32x32 colour images by
               default, or any square size and channel count (MNIST: in_channels=1,
               image_size=28).
    LeNet      LeCun's LeNet-5 layout for 28x28 digits (MNIST), with ReLU and max-pooling as
               usual today: conv 5x5 (6 maps, padded to keep 28x28) -> pool -> conv 5x5 (16
               maps, 10x10) -> pool -> 120 -> 84 -> 10.

Both are plain `nn.Module`s built from `nn.Sequential`, so `print(model)` shows every layer and
their state_dict keys are the same as those of the identical PyTorch model.
"""
from __future__ import annotations

from tinygrad_edu import nn
from tinygrad_edu.vector import Tensor

__all__ = ["SmallCNN", "LeNet"]


class SmallCNN(nn.Module):
    """conv(in, 32) -> pool -> conv(32, 64) -> pool -> Linear(64 * s/4 * s/4, 128) -> ReLU ->
    Dropout(0.3) -> Linear(128, n_classes), where s is the image size.

    Each 3x3 convolution is padded by 1, so it keeps the image size; each max-pool halves it:
    3x32x32 -> 32x32x32 -> 32x16x16 -> 64x16x16 -> 64x8x8 -> 4096 features -> 128 -> classes.
    The output is raw scores (logits), for nn.CrossEntropyLoss.
    """

    def __init__(self, n_classes: int = 10, in_channels: int = 3, image_size: int = 32,
                 dropout: float = 0.3):
        super().__init__()
        if image_size < 4 or image_size % 4:
            raise ValueError(f"SmallCNN: image_size must be a multiple of 4 (two 2x2 "
                             f"poolings), got {image_size}")
        side = image_size // 4
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * side * side, 128), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(128, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class LeNet(nn.Module):
    """LeNet-5 for (N, 1, 28, 28) digits; logits of shape (N, n_classes).

        features:   conv 1->6, 5x5, pad 2 (6x28x28) -> ReLU -> max-pool 2 (6x14x14)
                    conv 6->16, 5x5 (16x10x10)      -> ReLU -> max-pool 2 (16x5x5)
        classifier: 400 -> 120 -> ReLU -> 84 -> ReLU -> n_classes
    """

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, n_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
