"""Decoder heads: the denoising autoencoder's decoder and the segmentation decoder.

:class:`ReconstructionDecoder` is the symmetric decoder of the paper's denoising
autoencoder: it mirrors the encoder level by level (a stride-2 transposed 3x3
convolution, then a 3x3 convolution, each with batch norm and ReLU) and reads only the
bottleneck, so the encoder has to carry the whole image through it - that is what makes
the bottleneck a useful shared representation. It is also the *denoising head*.

:class:`SegmentationDecoder` is the segmentation head: the same up-sampling pattern with
its own (smaller) widths ending in one logit per pixel. With ``skips`` it concatenates
the encoder's feature map of each level before that level's convolution (U-Net style);
the encoder itself is unchanged, so this remains a head on the shared representation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .blocks import ConvBNReLU, UpBNReLU, channels_last


class ReconstructionDecoder(nn.Module):
    """Mirror of the encoder from the bottleneck back to ``out_channels`` at full size."""

    def __init__(self, widths: tuple[int, ...], out_channels: int = 1) -> None:
        super().__init__()
        reverse = list(widths)[::-1]
        self.stages = nn.ModuleList(
            nn.Sequential(UpBNReLU(reverse[i], reverse[i + 1]),
                          ConvBNReLU(reverse[i + 1], reverse[i + 1]))
            for i in range(len(reverse) - 1))
        self.out = nn.Conv2d(reverse[-1], out_channels, 3, padding=1)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = channels_last(features[-1])
        for stage in self.stages:
            x = stage(x)
        return self.out(x)


class SegmentationDecoder(nn.Module):
    """Up-sampling decoder to one logit per pixel (binary segmentation)."""

    def __init__(self, encoder_widths: tuple[int, ...], widths: tuple[int, ...],
                 skips: bool = True) -> None:
        super().__init__()
        if len(widths) != len(encoder_widths) - 1:
            raise ValueError("one segmentation width per encoder level below the top")
        self.skips = bool(skips)
        skip_channels = list(encoder_widths)[::-1][1:]  # levels L-2 .. 0
        self.ups = nn.ModuleList()
        self.convs = nn.ModuleList()
        previous = encoder_widths[-1]
        for width, skip in zip(widths, skip_channels, strict=True):
            self.ups.append(UpBNReLU(previous, width))
            self.convs.append(ConvBNReLU(width + (skip if self.skips else 0), width))
            previous = width
        self.out = nn.Conv2d(previous, 1, 1)

    def forward(self, features: list[Tensor]) -> Tensor:
        features = [channels_last(level) for level in features]  # stored features arrive NCHW
        x = features[-1]
        for index, (up, conv) in enumerate(zip(self.ups, self.convs, strict=True)):
            x = up(x)
            if self.skips:
                x = torch.cat([x, features[-2 - index]], dim=1)
            x = conv(x)
        return self.out(x)
