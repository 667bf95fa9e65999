"""Classification head: global pooling -> batch norm -> FC -> ReLU -> dropout -> FC (logits).

The paper's classification head pools the shared representation globally, passes it
through a fully connected layer with dropout and ends in a softmax over the classes,
trained with categorical cross-entropy. The softmax is left to the loss
(``cross_entropy`` takes logits) and to prediction (:func:`probabilities`).

``levels`` chooses which encoder levels are pooled: the bottleneck only (the paper's
head) or every level, concatenated. A denoising encoder is trained to *suppress* noise,
so its bottleneck says little about how noisy the input was; the first levels still
do, and pooling them lets a head on the frozen encoder judge image quality (a choice
made for this extension, ``ArchitectureSpec.classifier_levels``).

Two further choices of this extension, both measured on the bundled liver-MR family
with the encoder frozen (docs/umsrep_results.md):

* the pooled vector is batch-normalised before the FC layer. The levels' ReLU features
  differ in scale by orders of magnitude, and without the normalisation a head on a
  frozen encoder trains badly (quality accuracy 0.72 vs 0.97 in a probe with the same
  features and steps);
* ``pooling="mean_std"`` pools each channel's standard deviation next to its mean.
  Noise and motion ghosts change how a feature varies over the image more than its
  average, which is what the quality task needs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ClassificationHead(nn.Module):
    """Logits of ``num_classes`` classes from the encoder's bottleneck features."""

    def __init__(self, level_channels: tuple[int, ...], hidden: int, num_classes: int,
                 dropout: float = 0.3, levels: tuple[int, ...] = (-1,),
                 pooling: str = "mean") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.levels = tuple(int(level) for level in levels)
        self.pooling = pooling
        in_channels = sum(level_channels[level] for level in self.levels)
        in_channels *= 2 if pooling == "mean_std" else 1
        self.norm = nn.BatchNorm1d(in_channels)
        self.hidden = nn.Linear(in_channels, hidden)
        self.dropout = nn.Dropout(dropout)
        self.logits = nn.Linear(hidden, num_classes)

    def forward(self, features: list[Tensor]) -> Tensor:
        return self.classify(self.pool(features))

    def pool(self, features: list[Tensor]) -> Tensor:
        """The pooled vector (N, D); parameter-free, so it can be computed once and stored."""
        return torch.cat([_pool(features[level], self.pooling) for level in self.levels],
                         dim=1)

    def classify(self, pooled: Tensor) -> Tensor:
        """Logits from a pooled vector."""
        return self.logits(self.dropout(torch.relu(self.hidden(self._normalise(pooled)))))

    def _normalise(self, pooled: Tensor) -> Tensor:
        """Batch norm; a lone training sample (last batch of an epoch) uses running stats."""
        if self.training and pooled.shape[0] == 1:
            norm = self.norm
            return nn.functional.batch_norm(pooled, norm.running_mean, norm.running_var,
                                            norm.weight, norm.bias, False, 0.0, norm.eps)
        return self.norm(pooled)


POOLINGS = ("mean", "mean_std")


def _pool(features: Tensor, pooling: str) -> Tensor:
    """Per-channel mean (and standard deviation) over the image: (N, C[*2])."""
    flat = features.flatten(2)
    if pooling == "mean":
        return flat.mean(2)
    return torch.cat([flat.mean(2), flat.std(2)], dim=1)


def probabilities(logits: Tensor) -> Tensor:
    """Softmax over the class axis."""
    return torch.softmax(logits, dim=1)
