"""The shared encoder: the unified modality-specific representation of UMS-Rep.

It is the encoder half of the convolutional denoising autoencoder, trained once per
modality without labels and then shared by every task head. Down-sampling is done by
stride-2 3x3 convolutions, never by pooling layers, as in the paper's autoencoder.

Freezing (:meth:`SharedEncoder.freeze`) is what the *independent* fine-tuning strategy
relies on: the parameters stop requiring gradients, the module stays in eval mode even
when a training loop calls ``model.train()`` (so batch-norm running statistics cannot
drift either) and its forward pass runs without building a graph, which is where most
of the training-time saving of the heads comes from.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .blocks import EncoderLevel, channels_last


class SharedEncoder(nn.Module):
    """Strided-convolution encoder returning the features of every level.

    ``forward(x)`` with ``x`` of shape (N, C, H, W) returns a list of tensors, level 0 at
    H x W with ``widths[0]`` channels down to the bottleneck at H/2^(L-1) with
    ``widths[-1]`` channels. Heads use the bottleneck and, for segmentation, the others.
    """

    def __init__(self, in_channels: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.in_channels = int(in_channels)
        self.widths = tuple(int(w) for w in widths)
        channels = [self.in_channels, *self.widths]
        self.levels = nn.ModuleList(
            EncoderLevel(channels[i], channels[i + 1], stride=1 if i == 0 else 2)
            for i in range(len(self.widths)))
        self.frozen = False

    def forward(self, x: Tensor) -> list[Tensor]:
        if self.frozen:
            with torch.no_grad():
                return self._features(x)
        return self._features(x)

    def _features(self, x: Tensor) -> list[Tensor]:
        features = []
        x = channels_last(x)
        for level in self.levels:
            x = level(x)
            features.append(x)
        return features

    def freeze(self) -> SharedEncoder:
        """Stop all updates: no gradients, eval-mode batch norm, no autograd graph."""
        self.frozen = True
        for parameter in self.parameters():
            parameter.requires_grad_(False)
        super().train(False)
        return self

    def unfreeze(self) -> SharedEncoder:
        """Make the encoder trainable again (alternating and joint fine-tuning)."""
        self.frozen = False
        for parameter in self.parameters():
            parameter.requires_grad_(True)
        return self

    def train(self, mode: bool = True) -> SharedEncoder:
        return super().train(mode and not self.frozen)
