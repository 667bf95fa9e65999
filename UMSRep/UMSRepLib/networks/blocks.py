"""Building blocks: 3x3 convolution + batch norm + ReLU, strided down and transposed up.

The paper's autoencoder replaces pooling by strided convolutions and follows every
convolution with batch normalisation and ReLU; these blocks are that unit.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def channels_last(x: Tensor) -> Tensor:
    """``x`` in channels-last layout: oneDNN's convolutions run 1.4-1.9x faster so on a
    CPU (measured on these networks), and the layout is fine on CUDA."""
    return x.contiguous(memory_format=torch.channels_last)


class ConvBNReLU(nn.Sequential):
    """3x3 convolution (stride 1 or 2, 'same' padding) -> BatchNorm -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True))


class UpBNReLU(nn.Sequential):
    """3x3 transposed convolution doubling height and width -> BatchNorm -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2, padding=1,
                               output_padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True))


class EncoderLevel(nn.Module):
    """One encoder level: a (strided) ConvBNReLU that sets the resolution, then one more."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.enter = ConvBNReLU(in_channels, out_channels, stride)
        self.refine = ConvBNReLU(out_channels, out_channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.refine(self.enter(x))
