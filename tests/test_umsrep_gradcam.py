"""Grad-CAM points at what the classifier looks at: a bright square on a noisy background."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from UMSRepLib.gradcam import grad_cam
from UMSRepLib.networks import build_model
from UMSRepLib.tasks import TaskSpec

from .umsrep_fixtures import LIVER, tiny_spec

SQUARE = TaskSpec("square", "classification", ("absent", "present"))
SIZE, SIDE = 32, 6


def square_images(count: int, rng: np.random.Generator):
    images = rng.normal(0.2, 0.05, (count, 1, SIZE, SIZE)).astype(np.float32)
    labels = np.arange(count) % 2
    corners = rng.integers(2, SIZE - SIDE - 2, (count, 2))
    for image, label, (r, c) in zip(images, labels, corners, strict=True):
        if label:
            image[0, r:r + SIDE, c:c + SIDE] += 1.0
    return torch.from_numpy(images), torch.from_numpy(labels), corners


@pytest.fixture(scope="module")
def square_classifier():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = build_model(tiny_spec(classifier_levels="last"), [SQUARE])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(80):
        images, labels, _ = square_images(16, rng)
        loss = torch.nn.functional.cross_entropy(model(images, task="square"), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def test_grad_cam_localises_the_bright_square(square_classifier):
    images, labels, corners = square_images(40, np.random.default_rng(1))
    present = labels == 1
    cams, chosen = grad_cam(square_classifier, images[present], "square", class_index=1)
    assert cams.shape == (int(present.sum()), SIZE, SIZE)
    assert float(cams.min()) >= 0.0 and float(cams.max()) <= 1.0 + 1e-6
    yy, xx = np.mgrid[:SIZE, :SIZE]
    hits, contrast = 0, []
    for cam, (r, c) in zip(cams.numpy(), corners[present.numpy()], strict=True):
        hot = cam * (cam >= 0.5)  # centroid of the hot region (the map is coarse: 8 x 8)
        centre = ((hot * yy).sum() / hot.sum(), (hot * xx).sum() / hot.sum())
        hits += np.hypot(centre[0] - (r + SIDE / 2 - 0.5), centre[1] - (c + SIDE / 2 - 0.5)) < 5
        inside = np.zeros_like(cam, bool)
        inside[r:r + SIDE, c:c + SIDE] = True
        contrast.append(cam[inside].mean() - cam[~inside].mean())
    assert hits >= 0.9 * len(cams), f"heat centred on the square in {hits}/{len(cams)} images"
    assert np.mean(contrast) > 0.3
    assert torch.all(chosen == 1)


def test_grad_cam_of_the_predicted_class_and_restores_training_mode(square_classifier):
    images, _, _ = square_images(6, np.random.default_rng(2))
    square_classifier.train()
    cams, chosen = grad_cam(square_classifier, images, "square")
    assert square_classifier.training
    logits = square_classifier.eval()(images, task="square")
    assert torch.equal(chosen, logits.argmax(1))
    assert cams.shape == (6, SIZE, SIZE)


def test_grad_cam_needs_a_classification_head():
    model = build_model(tiny_spec(), [LIVER])
    with pytest.raises(ValueError, match="classification head"):
        grad_cam(model, torch.zeros(1, 1, SIZE, SIZE), "liver")
