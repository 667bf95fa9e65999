"""A dataset loaded into memory as model-sized 2-D slices with every task's targets.

Images are small (``S x S``, a few hundred to a few thousand slices), so the whole
dataset is read once, prepared exactly as inference prepares a volume
(:func:`.volume.prepare_volume`) and kept as arrays; the torch datasets of
:mod:`.datasets` index into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from ..errors import DatasetError
from ..tasks import TaskSpec
from .layout import SPLITS, DatasetIndex
from .readers import read_image
from .volume import prepare_volume


@dataclass
class SliceSet:
    """Slices ``images (N, S, S)`` float32 with per-slice split, case and slice index;
    ``masks[task]`` uint8 ``(N, S, S)``; ``labels[task]`` int64 ``(N,)`` (-1: none)."""

    images: np.ndarray
    split: np.ndarray
    case: np.ndarray
    slice_index: np.ndarray
    tasks: list[TaskSpec]
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    labels: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def select(self, split: str) -> SliceSet:
        """The slices of one split."""
        keep = self.split == split
        return SliceSet(images=self.images[keep], split=self.split[keep], case=self.case[keep],
                        slice_index=self.slice_index[keep], tasks=self.tasks,
                        masks={t: m[keep] for t, m in self.masks.items()},
                        labels={t: v[keep] for t, v in self.labels.items()})

    def task(self, name: str) -> TaskSpec:
        for task in self.tasks:
            if task.name == name:
                return task
        raise DatasetError(f"the dataset has no task {name!r}; it has "
                           f"{', '.join(t.name for t in self.tasks)}")


def load_slices(index: DatasetIndex, image_size: int, field_of_view_mm: float | None,
                splits: tuple[str, ...] = SPLITS, progress: bool = False) -> SliceSet:
    """Read and prepare every case of ``splits``."""
    cases = [case for case in index.cases if case.split in splits]
    if not cases:
        raise DatasetError(f"dataset {index.root} has no case in split(s) {', '.join(splits)}")
    images, split, names, slice_index = [], [], [], []
    seg = [t for t in index.tasks if t.kind == "segmentation"]
    cls = [t for t in index.tasks if t.kind == "classification"]
    masks: dict[str, list[np.ndarray]] = {t.name: [] for t in seg}
    labels: dict[str, list[int]] = {t.name: [] for t in cls}
    for case in tqdm(cases, desc="reading dataset", disable=not progress, leave=False):
        loaded = read_image(case.image)
        direction = loaded.direction if loaded.has_geometry else None
        spacing = loaded.spacing if loaded.has_geometry else None
        prepared = prepare_volume(loaded.array, spacing, direction, image_size,
                                  field_of_view_mm)
        count = prepared.slices.shape[0]
        images.append(prepared.slices)
        split += [case.split] * count
        names += [case.name] * count
        slice_index += list(range(count))
        for task in seg:
            mask = read_image(case.masks[task.name])
            if mask.array.shape != loaded.array.shape:
                raise DatasetError(f"mask {case.masks[task.name]} has shape "
                                   f"{mask.array.shape[::-1]} but its image has "
                                   f"{loaded.array.shape[::-1]}")
            canonical = prepared.canonical(mask.array > 0)
            masks[task.name].append(np.stack([prepared.transform.mask_to_model(m)
                                              for m in canonical]))
        for task in cls:
            labels[task.name] += [case.labels.get(task.name, -1)] * count
    return SliceSet(images=np.concatenate(images), split=np.array(split),
                    case=np.array(names), slice_index=np.array(slice_index),
                    tasks=list(index.tasks),
                    masks={t: np.concatenate(v) for t, v in masks.items()},
                    labels={t: np.array(v, dtype=np.int64) for t, v in labels.items()})
