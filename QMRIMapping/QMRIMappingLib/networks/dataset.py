"""PyTorch dataset of slice samples, with the network's input pair chosen per sample.

Each item is one slice with one input pair (TSL, TP): the network sees the shared image,
the T1rho-weighted image at TSL and the T2-weighted image at TP, while the loss uses all
4 images of each series. In training the pair is drawn at random from ``pairs`` for
every item and the slice gets a random rigid augmentation (``augment.py``); in
evaluation every (slice, pair) combination is one item, in a fixed order, unaugmented.

An item (and, collated, a batch with a leading batch axis) is a dict::

    inputs       (3, H, W)  shared, T1rho-w at TSL, T2-w at TP (normalised)
    input_times  (2,)       (TSL, TP) in ms
    series       {task: (4, H, W)}  all 4 images of each series (normalised)
    times        {task: (4,)}       their times in ms (0 first)
    mask         (1, H, W)  1 where the loss counts (body mask / signal mask)
    roi          (1, H, W)  1 in the liver ROI (phantom; 0 for user data)
    gt, mle      {task: (1, H, W)}  labels in ms, NaN where unknown
    noise_sigma  ()         noise sd in normalised units (NaN when unknown)
    subject_id, slice_index

The cohort builders live in ``cohort.py`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import UserInputError
from .augment import AugmentOptions, random_affine, warp, warp_labels
from .cohort import Cohort, build_cohort, held_out_cohort, load_folder_cohort
from .config import TASKS
from .samples import SliceSample

__all__ = ["Cohort", "MappingSliceDataset", "build_cohort", "held_out_cohort",
           "load_folder_cohort", "sample_pairs"]

#: The default augmentation: up to ±5° rotation and ±5 % shift of the field of view.
DEFAULT_AUGMENT = AugmentOptions()
#: Times closer than this (ms) are the same time.
TIME_TOLERANCE_MS = 1e-3


def sample_pairs(sample: SliceSample) -> list[tuple[float, float]]:
    """The protocol's own pairs: the k-th prepared T1rho time with the k-th T2 time."""
    return list(zip(sample.prepared_times["T1rho"], sample.prepared_times["T2"], strict=True))


class MappingSliceDataset(Dataset):
    """Slices of a cohort as network items (see the module docstring for the format).

    ``pairs`` lists the (TSL, TP) input pairs in ms (default: each sample's own k-th/k-th
    pairs, which for the phantom are Huang et al.'s (10, 18.2), (30, 34.6), (50, 51)).
    ``train`` draws a random pair and augmentation per item. With ``seed=None`` (the
    default) the draws come from NumPy's global generator, which MultiTaskLib's Trainer
    seeds (and its loader workers re-seed), so every epoch differs and a run is
    reproducible; with an integer ``seed`` they come from a generator seeded by (seed,
    epoch, index), independent of any global state: call :meth:`set_epoch` for new
    draws. ``augment=None`` switches augmentation off.

    Training only: ``crop`` (pixels) cuts a random ``crop`` x ``crop`` window, centred
    on a random body-mask pixel, resampling only that window (the U-Nets are fully
    convolutional, so a model trained on crops runs on whole slices; crops make a
    CPU step ~4x cheaper at 128 of 256); ``repeats`` makes one epoch visit every slice
    that many times (with fresh draws), so short cohorts give epochs long enough to be
    worth a validation pass.
    """

    def __init__(self, samples: Sequence[SliceSample], *, train: bool = True,
                 pairs: Sequence[Sequence[float]] | None = None,
                 augment: AugmentOptions | None = DEFAULT_AUGMENT,
                 seed: int | None = None, crop: int | None = None,
                 repeats: int = 1) -> None:
        if not samples:
            raise UserInputError("the dataset has no slices; build a cohort first")
        if crop is not None and (isinstance(crop, bool) or not isinstance(crop, int)
                                 or crop < 16):
            raise UserInputError(f"crop must be an integer of at least 16 pixels or null "
                                 f"(got {crop!r})")
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise UserInputError(f"repeats must be a positive integer (got {repeats!r})")
        self.crop = crop if train else None
        self.repeats = repeats if train else 1
        self.samples = list(samples)
        self.train = train
        self.augment = augment if train else None
        self.seed = seed
        self.epoch = 0
        self.pairs = None if pairs is None else [(float(a), float(b)) for a, b in pairs]
        self._choices = [self._resolve_pairs(sample, self.pairs) for sample in self.samples]

    def set_epoch(self, epoch: int) -> None:
        """Change the random draws (pairs, augmentation) of the training items."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        if self.train:
            return len(self.samples) * self.repeats
        return sum(len(choices) for choices in self._choices)

    def __getitem__(self, index: int) -> dict:
        if not self.train:
            return self._item(*self._evaluation_item(index), None)
        if not 0 <= index < len(self):
            raise IndexError(index)
        index_in_epoch, index = index, index % len(self.samples)
        sample = self.samples[index]
        if self.seed is None:
            rng = np.random.default_rng(np.random.randint(0, 2**31 - 1, size=2))
        else:
            rng = np.random.default_rng([self.seed, self.epoch, index_in_epoch])
        choices = self._choices[index]
        return self._item(sample, choices[int(rng.integers(len(choices)))], rng)

    def _evaluation_item(self, index: int) -> tuple[SliceSample, tuple[int, int]]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        for sample, choices in zip(self.samples, self._choices, strict=True):
            if index < len(choices):
                return sample, choices[index]
            index -= len(choices)
        raise IndexError(index)

    @staticmethod
    def _resolve_pairs(sample: SliceSample, pairs) -> list[tuple[int, int]]:
        """Indices (into the prepared T1rho, T2 times) of every wanted pair."""
        wanted = sample_pairs(sample) if pairs is None else pairs
        resolved = []
        for tsl, tp in wanted:
            indices = []
            for task, value in (("T1rho", tsl), ("T2", tp)):
                times = np.asarray(sample.prepared_times[task])
                hits = np.flatnonzero(np.abs(times - float(value)) <= TIME_TOLERANCE_MS)
                if hits.size == 0:
                    raise UserInputError(
                        f"{sample.subject_id} slice {sample.slice_index}: no {task} image at "
                        f"{float(value):g} ms (available: "
                        f"{', '.join(f'{t:g}' for t in times)} ms)")
                indices.append(int(hits[0]))
            resolved.append((indices[0], indices[1]))
        return resolved

    def _item(self, sample: SliceSample, chosen: tuple[int, int],
              rng: np.random.Generator | None) -> dict:
        images = torch.from_numpy(sample.images)
        masks = torch.from_numpy(np.stack([sample.mask, sample.roi]).astype(np.float32))
        labels = torch.from_numpy(np.stack([sample.gt[t] for t in TASKS]
                                           + [sample.mle[t] for t in TASKS]))
        window = None
        if self.crop is not None and rng is not None:
            window = _crop_window(rng, self.crop, masks[0])
        if self.augment is not None and self.augment.enabled and rng is not None:
            theta = random_affine(rng, self.augment, *images.shape[-2:])
            images = warp(images, theta, "bilinear", window)
            masks = warp(masks, theta, "nearest", window)
            labels = warp_labels(labels, theta, window)
        elif window is not None:
            top, left, height, width = window
            images, masks, labels = (a[..., top:top + height, left:left + width]
                                     for a in (images, masks, labels))
        t1rho_index, t2_index = chosen
        series = {"T1rho": images[[0, 1, 2, 3]], "T2": images[[0, 4, 5, 6]]}
        times = {task: torch.from_numpy(sample.series_times(task)) for task in TASKS}
        return {
            "inputs": torch.stack([images[0], series["T1rho"][1 + t1rho_index],
                                   series["T2"][1 + t2_index]]),
            "input_times": torch.stack([times["T1rho"][1 + t1rho_index],
                                        times["T2"][1 + t2_index]]),
            "series": series,
            "times": times,
            "mask": masks[0:1],
            "roi": masks[1:2],
            "gt": {task: labels[k:k + 1] for k, task in enumerate(TASKS)},
            "mle": {task: labels[2 + k:3 + k] for k, task in enumerate(TASKS)},
            "noise_sigma": torch.tensor(sample.noise_sigma, dtype=torch.float32),
            "subject_id": sample.subject_id,
            "slice_index": sample.slice_index,
        }


def _crop_window(rng: np.random.Generator, size: int, body: torch.Tensor
                 ) -> tuple[int, int, int, int] | None:
    """(top, left, height, width) of a ``size`` x ``size`` window centred on a random
    pixel of the (H, W) body mask where there is one; None when the slice is smaller.

    The window is chosen before the small augmentation moves the content, so its
    centre lands on the body give or take the few-pixel augmentation shift.
    """
    height, width = body.shape[-2:]
    if height <= size and width <= size:
        return None
    inside = torch.nonzero(body > 0.5)
    if inside.shape[0]:
        row, col = (int(v) for v in inside[int(rng.integers(inside.shape[0]))])
    else:
        row, col = int(rng.integers(height)), int(rng.integers(width))
    top = min(max(row - size // 2, 0), max(height - size, 0))
    left = min(max(col - size // 2, 0), max(width - size, 0))
    return top, left, min(size, height), min(size, width)
