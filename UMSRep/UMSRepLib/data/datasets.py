"""Torch datasets of one task each, over a :class:`~.slices.SliceSet`.

Items are ``(input, target)`` with input ``(1, S, S)`` float32:

* denoise: target = the clean slice, input = a corrupted copy (:class:`NoiseModel`);
  random corruption while training, a fixed one per slice (seeded by its index) for
  validation and test, so PSNR/SSIM compare like with like;
* segmentation: target = the mask ``(1, S, S)`` float32;
* classification: target = the class index (only labelled slices are included).

``augment`` (an :class:`.augment.Augmentation`, or a bool for intensity only) applies
the training augmentations to the input - and, for denoising, to the target as well, so
the pair stays consistent. Contrast randomisation is applied to the denoising and
segmentation tasks only (see :mod:`.augment`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ..noise import NoiseModel
from ..tasks import TaskSpec
from .augment import Augmentation, augment_image
from .slices import SliceSet


def _random_generator() -> np.random.Generator:
    """A NumPy generator drawn from torch's global RNG (seeded and saved by the Trainer)."""
    return np.random.default_rng(int(torch.randint(0, 2**31 - 1, ()).item()))


class DenoiseDataset(Dataset):
    """(noisy slice, clean slice)."""

    def __init__(self, slices: SliceSet, noise: NoiseModel, fixed_seed: int | None = None,
                 augment: Augmentation | bool = False, evaluation: bool = False) -> None:
        self.images = slices.images
        self.noise = noise
        self.fixed_seed = fixed_seed
        self.augment = Augmentation.of(augment)
        self.evaluation = evaluation

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = (np.random.default_rng([self.fixed_seed, index]) if self.fixed_seed is not None
               else _random_generator())
        clean = augment_image(self.images[index], rng, self.augment, contrast_allowed=True)
        if self.evaluation:
            noisy = (clean + rng.normal(0.0, self.noise.evaluation_sigma, clean.shape))
        else:
            noisy = self.noise.corrupt(clean, rng)
        return (torch.from_numpy(np.asarray(noisy, np.float32)[None]),
                torch.from_numpy(np.asarray(clean, np.float32)[None]))


class SegmentationDataset(Dataset):
    """(slice, mask) for one segmentation task."""

    def __init__(self, slices: SliceSet, task: TaskSpec,
                 augment: Augmentation | bool = False) -> None:
        self.images = slices.images
        self.masks = slices.masks[task.name]
        self.augment = Augmentation.of(augment)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = augment_image(self.images[index], _random_generator(), self.augment,
                              contrast_allowed=True)
        return (torch.from_numpy(np.asarray(image, np.float32)[None]),
                torch.from_numpy(self.masks[index].astype(np.float32)[None]))


class ClassificationDataset(Dataset):
    """(slice, class index) for the labelled slices of one classification task."""

    def __init__(self, slices: SliceSet, task: TaskSpec,
                 augment: Augmentation | bool = False) -> None:
        labels = slices.labels[task.name]
        self.indices = np.nonzero(labels >= 0)[0]
        self.images = slices.images
        self.labels = labels
        self.augment = Augmentation.of(augment)

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        row = int(self.indices[index])
        image = augment_image(self.images[row], _random_generator(), self.augment,
                              contrast_allowed=False)
        return (torch.from_numpy(np.asarray(image, np.float32)[None]),
                torch.tensor(int(self.labels[row]), dtype=torch.long))


def task_dataset(slices: SliceSet, task: TaskSpec, noise: NoiseModel, *, training: bool,
                 augment: Augmentation | bool = False, seed: int = 0) -> Dataset:
    """The dataset of ``task``: random corruption/augmentation when ``training``."""
    augment = Augmentation.of(augment) if training else Augmentation()
    if task.kind == "denoise":
        return DenoiseDataset(slices, noise, fixed_seed=None if training else seed,
                              augment=augment)
    if task.kind == "segmentation":
        return SegmentationDataset(slices, task, augment=augment)
    return ClassificationDataset(slices, task, augment=augment)
