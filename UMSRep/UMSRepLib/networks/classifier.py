"""Classification head: global average pooling -> FC -> ReLU -> dropout -> FC (logits).

The paper's classification head pools the shared representation globally, passes it
through a fully connected layer with dropout and ends in a softmax over the classes,
trained with categorical cross-entropy. The softmax is left to the loss
(``cross_entropy`` takes logits) and to prediction (:func:`probabilities`).

``levels`` chooses which encoder levels are pooled: the bottleneck only (the paper's
head) or every level, concatenated. A denoising encoder is trained to *suppress* noise,
so its bottleneck says little about how noisy the input was; the first levels still
do, and pooling them lets a head on the frozen encoder judge image quality (a choice
made for this extension, ``ArchitectureSpec.classifier_levels``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ClassificationHead(nn.Module):
    """Logits of ``num_classes`` classes from the encoder's bottleneck features."""

    def __init__(self, level_channels: tuple[int, ...], hidden: int, num_classes: int,
                 dropout: float = 0.3, levels: tuple[int, ...] = (-1,)) -> None:
        super().__init__()
        self.levels = tuple(int(level) for level in levels)
        self.pool = nn.AdaptiveAvgPool2d(1)
        in_channels = sum(level_channels[level] for level in self.levels)
        self.hidden = nn.Linear(in_channels, hidden)
        self.dropout = nn.Dropout(dropout)
        self.logits = nn.Linear(hidden, num_classes)

    def forward(self, features: list[Tensor]) -> Tensor:
        pooled = torch.cat([self.pool(features[level]).flatten(1) for level in self.levels],
                           dim=1)
        return self.logits(self.dropout(torch.relu(self.hidden(pooled))))


def probabilities(logits: Tensor) -> Tensor:
    """Softmax over the class axis."""
    return torch.softmax(logits, dim=1)
