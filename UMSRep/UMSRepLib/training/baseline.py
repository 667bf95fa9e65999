"""Separate end-to-end models, one per task: the baseline UMS-Rep is compared against.

Each baseline has the same architecture as the shared encoder plus that task's head
but starts from random weights and is trained end to end on its task alone - the
traditional way of building one network per task. The paper's efficiency claims
(fewer parameters, less training time at equal or better accuracy) are measured against
the sum over these models.
"""

from __future__ import annotations

from pathlib import Path

import torch

from MultiTaskLib.config import TrainConfig
from MultiTaskLib.weighting import FixedWeighting

from ..data.augment import Augmentation
from ..data.slices import SliceSet
from ..networks import ArchitectureSpec, UMSRepModel, build_model
from ..noise import NoiseModel
from ..tasks import TaskSpec
from .runner import StageRecord, fit_timed, task_loaders
from .schedules import SingleTask


def train_separate(task: TaskSpec, train: SliceSet, val: SliceSet | None,
                   spec: ArchitectureSpec, noise: NoiseModel, config: TrainConfig,
                   out_dir: str | Path, augment: Augmentation | bool = False
                   ) -> tuple[UMSRepModel, StageRecord]:
    """A new encoder + head for ``task``, trained end to end on it."""
    torch.manual_seed(config.seed)
    model = build_model(spec, [task])
    loader = SingleTask(task.name, task_loaders(train, [task], noise, config, training=True,
                                                augment=augment)[task.name])
    val_loader = None
    if val is not None and len(val):
        loaders = task_loaders(val, [task], noise, config, training=False)
        if task.name in loaders:
            val_loader = SingleTask(task.name, loaders[task.name])
    record = fit_timed(model, {task.name: task}, loader, val_loader,
                       FixedWeighting({task.name: 1.0}), config, Path(out_dir),
                       name=f"separate {task.name}", kind="separate")
    return model, record
