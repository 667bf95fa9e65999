"""Training losses of the three task kinds.

* denoising: mean squared error between the reconstruction and the clean image (the
  denoising autoencoder's objective);
* segmentation: binary cross-entropy + soft Dice loss (1 - Dice), equally weighted;
  BCE gives well-behaved per-pixel gradients, Dice counters the imbalance between a
  liver of a few hundred pixels and a background of thousands;
* classification: categorical cross-entropy of the softmax (logits in).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional

from .tasks import TaskSpec

DICE_SMOOTH = 1.0


def denoise_loss(output: Tensor, clean: Tensor) -> Tensor:
    """Mean squared error."""
    return functional.mse_loss(output, clean)


def soft_dice_loss(logits: Tensor, target: Tensor, smooth: float = DICE_SMOOTH) -> Tensor:
    """1 - soft Dice of sigmoid(logits) against a {0, 1} target, per image then averaged.

    ``smooth`` keeps images without foreground from dominating (an empty prediction on
    an empty target scores Dice 1).
    """
    probs = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1).to(probs.dtype)
    overlap = (probs * target).sum(1)
    dice = (2.0 * overlap + smooth) / (probs.sum(1) + target.sum(1) + smooth)
    return 1.0 - dice.mean()


def segmentation_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Binary cross-entropy (with logits) + soft Dice loss."""
    target = target.to(logits.dtype)
    bce = functional.binary_cross_entropy_with_logits(logits, target)
    return bce + soft_dice_loss(logits, target)


def classification_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Categorical cross-entropy."""
    return functional.cross_entropy(logits, labels.long())


def task_loss(task: TaskSpec, output: Tensor, target: Tensor) -> Tensor:
    """The loss of ``task``'s kind."""
    if task.kind == "denoise":
        return denoise_loss(output, target)
    if task.kind == "segmentation":
        return segmentation_loss(output, target)
    return classification_loss(output, target)
