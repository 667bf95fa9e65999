"""Grad-CAM heat maps from a classification head (Selvaraju et al., ICCV 2017).

Which part of the image made the head choose a class? Grad-CAM weights each channel of
the encoder's last feature map A (the shared representation's bottleneck) by the
spatial mean of d(score_c)/dA and keeps the positive part of the weighted sum:

    L_c = ReLU( Σ_k α_k^c A^k ),   α_k^c = mean_ij ∂y_c / ∂A^k_ij

The map is up-sampled (bilinear) to the input size and scaled to [0, 1] per image. The
paper uses such maps to show that its classifiers look at the relevant anatomy; here
the heat map is also shown over the image in Slicer.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional

from .networks import UMSRepModel
from .networks.classifier import ClassificationHead


def grad_cam(model: UMSRepModel, images: Tensor, task: str,
             class_index: int | Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Heat maps ``(N, H, W)`` in [0, 1] and the class explained for each image.

    ``class_index``: one class for all images, one per image, or None for each image's
    predicted class. Runs the model in eval mode (dropout off, batch-norm statistics
    fixed) and restores the previous mode.
    """
    head = model.heads[task] if task in model.heads else None
    if not isinstance(head, ClassificationHead):
        raise ValueError(f"Grad-CAM needs a classification head; task {task!r} is "
                         f"{model.tasks[task].kind if task in model.tasks else 'unknown'}")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            features = model.encoder(images)
        feature_map = features[-1].detach().requires_grad_(True)
        with torch.enable_grad():
            logits = head([*features[:-1], feature_map])
            if class_index is None:
                chosen = logits.argmax(1)
            elif isinstance(class_index, Tensor):
                chosen = class_index.to(logits.device).long().reshape(-1).expand(len(logits))
            else:
                chosen = torch.full((len(logits),), int(class_index), dtype=torch.long,
                                    device=logits.device)
            score = logits.gather(1, chosen[:, None]).sum()
            gradients = torch.autograd.grad(score, feature_map)[0]
        weights = gradients.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * feature_map.detach()).sum(dim=1, keepdim=True))
        cam = functional.interpolate(cam, size=images.shape[-2:], mode="bilinear",
                                     align_corners=False)
        cam = cam[:, 0]
        peak = cam.flatten(1).amax(1).clamp(min=1e-12)[:, None, None]
        return (cam / peak).detach(), chosen.detach()
    finally:
        model.train(was_training)
