"""A small convolutional classifier: chapter 0's per-domain difficulty baseline.

Not from any of the five papers; it only measures how hard each embedded domain is for a model
trained briefly from scratch (issue: "a small CNN trained briefly per domain should not score the
same everywhere").
"""

from __future__ import annotations

import torch
from torch import nn


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class SmallCNN(nn.Module):
    """Three conv blocks (widths ``w, 2w, 4w``) with 2×2 pooling, global average pooling, a linear head."""

    def __init__(self, n_classes: int, width: int = 32, in_channels: int = 3):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"n_classes must be at least 2, got {n_classes}")
        if width < 1:
            raise ValueError(f"width must be positive, got {width}")
        self.features = nn.Sequential(
            _block(in_channels, width), nn.MaxPool2d(2),
            _block(width, 2 * width), nn.MaxPool2d(2),
            _block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.head = nn.Linear(4 * width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
